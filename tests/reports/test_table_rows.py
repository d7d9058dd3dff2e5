"""The report tables' rows are written in Python (``{% table_rows %}``) for speed: they
must read exactly as the template loop they replaced wrote them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.template import Context, Template

from flexpool.tables import Table
from reports.templatetags.report_tables import table_rows

# The template loop the tag replaced, cell for cell.
BEFORE = Template(
    '{% for row in table.rows %}<tr class="govuk-table__row">{% for cell in row %}'
    '{% if forloop.first %}<th scope="row" class="govuk-table__header">{{ cell }}</th>'
    '{% else %}<td class="govuk-table__cell{% if forloop.counter0 not in table.text_columns %}'
    ' govuk-table__cell--numeric{% endif %}">{% if cell is None %}–{% else %}{{ cell }}'
    "{% endif %}</td>{% endif %}{% endfor %}</tr>"
    '{% empty %}<tr class="govuk-table__row"><td class="govuk-table__cell" '
    'colspan="{{ table.headers|length }}">{{ empty_text|default:"No shifts in this range." }}'
    "</td></tr>{% endfor %}"
)


def test_the_rows_read_as_the_template_wrote_them_escaped_localised_and_dashed():
    table = Table("t", "T", ["Name", "Words", "Count", "Money", "Rate", "Day", "None"])
    table.text_columns = (1,)
    table.rows = [
        [
            "<Care & Co>",
            "a \"quoted\" 'word'",
            1234567,
            Decimal("1234.50"),
            0.125,
            date(2026, 3, 1),
            None,
        ],
        ["Plain", "", 0, Decimal("-0.01"), 3.0, date(2025, 12, 31), None],
        [Decimal("1E+3"), None, -5, Decimal("0"), 1e-7, "2026-01-01", 7],
    ]
    assert table_rows(table) == BEFORE.render(Context({"table": table}))


def test_an_empty_table_says_so_across_every_column():
    table = Table("t", "T", ["A", "B", "C"])
    assert table_rows(table) == BEFORE.render(Context({"table": table}))
    assert table_rows(table, "Nothing here.") == BEFORE.render(
        Context({"table": table, "empty_text": "Nothing here."})
    )
