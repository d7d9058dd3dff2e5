"""``{% table_rows table %}``: a report table's body rows, written in Python.

The provider breakdown shows 500 providers × 14 columns in several tables; the template
engine spent about half a second on those cells alone. Each cell is shown exactly as
``{{ cell }}`` would show it (localised, then escaped), and missing values as a dash."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.conf import settings
from django.utils.formats import get_format, localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]

from flexpool.tables import Table

register = template.Library()


def _plain_numbers() -> bool:
    """Whether ``{{ number }}`` shows a number as Python writes it (no grouping, a point)."""
    return not settings.USE_THOUSAND_SEPARATOR and get_format("DECIMAL_SEPARATOR") == "."


def _cell(value: Any, plain_numbers: bool) -> str:
    if isinstance(value, str):
        return str(conditional_escape(value))
    if plain_numbers and type(value) is int:
        return str(value)
    if plain_numbers and isinstance(value, Decimal) and value.is_finite():
        return f"{value:f}"
    return str(conditional_escape(localize(template_localtime(value))))


@register.simple_tag
def table_rows(table: Table, empty_text: str = "") -> SafeString:
    if not table.rows:
        text = conditional_escape(empty_text or "No shifts in this range.")
        return mark_safe(  # noqa: S308 - every value is escaped above
            f'<tr class="govuk-table__row"><td class="govuk-table__cell" '
            f'colspan="{len(table.headers)}">{text}</td></tr>'
        )
    text_columns = set(table.text_columns)
    plain = _plain_numbers()
    numeric = '<td class="govuk-table__cell govuk-table__cell--numeric">'
    words = '<td class="govuk-table__cell">'
    out: list[str] = []
    for row in table.rows:
        out.append('<tr class="govuk-table__row">')
        for i, cell in enumerate(row):
            if i == 0:
                out.append(f'<th scope="row" class="govuk-table__header">{_cell(cell, plain)}</th>')
            else:
                shown = "–" if cell is None else _cell(cell, plain)
                out.append(f"{words if i in text_columns else numeric}{shown}</td>")
        out.append("</tr>")
    return mark_safe("".join(out))  # noqa: S308 - every value is escaped above
