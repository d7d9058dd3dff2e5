"""The committee report laid out as tables (each shown beside its chart and downloadable as
CSV), from the plain data of reports.workforce.workforce_report — computed for a draft,
stored for a published report, so both look the same."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flexpool.tables import Table
from reports.workforce import ACTIVITY, ACTIVITY_NAMES, HEADLINE

UNITS = {
    "vacancy_rate": "ratio",
    "leaver_rate": "ratio",
    "starters": "count",
    "agency_hours": "hours",
    "agency_spend": "pounds",
    "agency_reliance": "ratio",
    "zero_hours_share": "ratio",
    "zero_hours_by_choice_share": "ratio",
    "qualification_share": "ratio",
    "living_wage_share": "ratio",
    "return_rate": "ratio",
    "shifts_requested": "count",
    "shifts_filled": "count",
    "fill_rate": "ratio",
    "median_time_to_fill_minutes": "minutes",
    "agency_hours_avoided": "hours",
    "agency_spend_avoided": "pounds",
    "pool_cost": "pounds",
    "net_saving": "pounds",
}
BREAKDOWN = ["vacancy_rate", "leaver_rate", "starters", "agency_reliance", "zero_hours_share",
             "zero_hours_by_choice_share", "qualification_share", "living_wage_share",
             "return_rate"]  # fmt: skip


def show(value: Any, unit: str) -> str | None:
    """A stored figure as people read it: 12.9%, 1,234, £1,234.56."""
    if value is None:
        return None
    number = Decimal(str(value))
    if unit == "ratio":
        return f"{number * 100:.1f}%"
    if unit == "pounds":
        return f"£{number:,.2f}"
    if unit == "minutes":
        return f"{number:,.0f}"
    if unit == "hours":
        return f"{number:,.1f}"
    return f"{number:,.0f}"


def _name(report: dict[str, Any], key: str) -> str:
    for d in report["definitions"]:
        if d["key"] == key:
            return str(d["name"])
    return ACTIVITY_NAMES.get(key, key)


def _trend_row(report: dict[str, Any], quarter: str) -> dict[str, Any] | None:
    for row in report["trend"]:
        if row["group"] == quarter:
            return dict(row)
    return None


def headline_table(report: dict[str, Any]) -> Table:
    trend = report["trend"]
    previous = trend[-2] if len(trend) > 1 else {}
    year_ago = trend[-5] if len(trend) > 4 else {}
    table = Table(
        "headline",
        f"Headline figures, {report['label']}",
        ["Figure", "This quarter", f"Previous quarter ({previous.get('group', '–')})",
         f"A year before ({year_ago.get('group', '–')})", "Region", "England", "Benchmark source"],
        text_columns=(6,),
    )  # fmt: skip
    for key in HEADLINE:
        unit = UNITS[key]
        marks = report["benchmarks"].get(key, {})
        sources = "; ".join(sorted({m["source"] for m in marks.values()}))
        table.rows.append(
            [
                _name(report, key),
                show(report["headline"].get(key), unit),
                show(previous.get(key), unit),
                show(year_ago.get(key), unit),
                show(marks.get("region", {}).get("value"), unit),
                show(marks.get("england", {}).get("value"), unit),
                sources or None,
            ]
        )
    return table


def trend_table(report: dict[str, Any], key: str = "vacancy_rate") -> Table:
    columns = ["vacancy_rate", "leaver_rate", "starters", "agency_hours", "agency_reliance",
               "zero_hours_share", "qualification_share", "return_rate"]  # fmt: skip
    table = Table(
        "trend",
        "Quarter by quarter",
        ["Quarter", *(_name(report, k) for k in columns)],
        chart_column=1 + columns.index(key),
    )
    values = []
    for row in report["trend"]:
        table.rows.append([row["group"], *(show(row.get(k), UNITS[k]) for k in columns)])
        values.append(float(Decimal(str(row.get(key) or 0)) * 100))
    table.chart_values = values
    return table


def breakdown_table(
    report: dict[str, Any], part: str, slug: str, caption: str, label: str
) -> Table:
    table = Table(slug, caption, [label, *(_name(report, k) for k in BREAKDOWN)])
    for row in report[part]:
        table.rows.append([row["group"], *(show(row.get(k), UNITS[k]) for k in BREAKDOWN)])
    return table


def flex_table(report: dict[str, Any]) -> Table:
    table = Table(
        "flex-impact",
        "Providers that used the pool and those that did not (descriptive, not causal)",
        ["Providers", "Returns", *(_name(report, k) for k in BREAKDOWN)],
    )
    for row in report["flex"]:
        table.rows.append(
            [row["group"], row.get("providers"), *(show(row.get(k), UNITS[k]) for k in BREAKDOWN)]
        )
    return table


def activity_table(report: dict[str, Any]) -> Table:
    table = Table("activity", f"The pool's own activity, {report['label']}", ["Measure", "Value"])
    for key in ACTIVITY:
        table.rows.append([ACTIVITY_NAMES[key], show(report["activity"].get(key), UNITS[key])])
    return table


def returns_table(report: dict[str, Any]) -> Table:
    r = report["returns"]
    table = Table("returns", "Who returned", ["Providers", "Number"])
    table.rows += [
        ["Asked for a return", r["expected"]],
        ["Returned", r["returned"]],
        ["Of those, after the due date", r["returned_late"]],
        ["Not returned", r["missing"]],
        ["Return rate", show(report["headline"].get("return_rate"), "ratio")],
    ]
    return table


def definitions_table(report: dict[str, Any]) -> Table:
    table = Table(
        "definitions",
        f"Appendix: definitions (version {report['definitions_version']})",
        ["Figure", "Definition"],
        text_columns=(1,),
    )
    for d in report["definitions"]:
        table.rows.append([d["name"], d["meaning"]])
    return table


def report_tables(report: dict[str, Any]) -> list[Table]:
    return [
        headline_table(report),
        trend_table(report),
        breakdown_table(report, "by_type", "by-type", "By type of provider", "Type"),
        breakdown_table(report, "by_size", "by-size", "By size of provider (staff)", "Size"),
        breakdown_table(report, "by_role", "by-role", "By role", "Role"),
        flex_table(report),
        activity_table(report),
        returns_table(report),
        definitions_table(report),
    ]
