"""The week-by-week chart is a trend line: an accessible SVG (role img, title and a
description naming the first and last weeks) with one point per week, beside its table."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from flexpool.tables import Table

SVG = "{http://www.w3.org/2000/svg}"


def _weeks() -> Table:
    table = Table("weekly", "Week by week", ["Week beginning", "Hours filled"], chart_column=1,
                  chart_kind="line")  # fmt: skip
    for i, hours in enumerate([10, 40, 25, 60]):
        table.rows.append([f"0{i + 1} Jun 2026", hours])
    return table


def test_the_weekly_chart_is_a_line_with_a_point_per_week_and_a_text_alternative():
    svg = _weeks().chart_svg()
    root = ET.fromstring(svg.replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and "Hours filled" in (title.text or "")
    assert desc is not None and "01 Jun 2026 (10)" in (desc.text or "")
    assert "04 Jun 2026 (60)" in (desc.text or "")
    polyline = root.find(f"{SVG}polyline")
    assert polyline is not None and len((polyline.get("points") or "").split()) == 4
    circles = root.findall(f"{SVG}circle")
    assert [c.find(f"{SVG}title").text for c in circles][-1] == "04 Jun 2026: 60"
    # The highest week touches the top of the plot, the lowest sits lowest.
    ys = [float(c.get("cy")) for c in circles]
    assert ys.index(min(ys)) == 3 and ys.index(max(ys)) == 0


def test_bars_stay_the_default_for_other_tables():
    table = _weeks()
    table.chart_kind = "bars"
    assert "<rect" in table.chart_svg() and "<polyline" not in table.chart_svg()


def test_the_dashboards_weekly_table_asks_for_a_line():
    import inspect

    from reports import tables

    assert 'chart_kind="line"' in inspect.getsource(tables.weekly_table)
