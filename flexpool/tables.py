"""A table shown on a page, drawn as bars where it has a chart column and downloadable as
CSV: the one shape every report and list with an export uses (pools' compliance list, the
dashboards in reports)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import HttpResponse
from django.utils.html import escape

Cell = str | int | Decimal | float | None


@dataclass
class Table:
    slug: str
    caption: str
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    chart_column: int | None = None  # draw this column as bars
    chart_values: list[float] | None = None  # the bars' lengths when the cells are text
    text_columns: tuple[int, ...] = ()  # columns of words, aligned left

    def csv_response(self, filename_stem: str) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename_stem}-{self.slug}.csv"'
        writer = csv.writer(response)
        writer.writerow(self.headers)
        for row in self.rows:
            writer.writerow(["" if c is None else c for c in row])
        return response

    def chart_svg(self) -> str:
        """Horizontal bars for ``chart_column``, labelled by the first column: an image
        with a text alternative; the table beside it carries the same figures."""
        if self.chart_column is None or not self.rows:
            return ""
        values = self.chart_values or [float(r[self.chart_column] or 0) for r in self.rows]
        top = max(values) or 1.0
        bar_h, gap, label_w, width = 20, 6, 170, 460
        height = len(values) * (bar_h + gap) + gap
        parts = [
            f'<svg class="flexpool-chart" role="img" aria-labelledby="chart-{self.slug}-title" '
            f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet">',
            f'<title id="chart-{self.slug}-title">Chart: {escape(self.caption)}, '
            f"{escape(self.headers[self.chart_column])}. The same figures are in the table.</title>",
        ]
        for i, (row, value) in enumerate(zip(self.rows, values, strict=True)):
            y = gap + i * (bar_h + gap)
            w = (width - label_w - 60) * value / top
            parts.append(
                f'<text x="0" y="{y + 15}" font-size="15" fill="#0b0c0c">{escape(str(row[0]))}</text>'
                f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="#1d70b8"></rect>'
                f'<text x="{label_w + w + 4:.1f}" y="{y + 15}" font-size="15" fill="#0b0c0c">'
                f"{escape(fmt(row[self.chart_column]))}</text>"
            )
        parts.append("</svg>")
        return "".join(parts)


def fmt(value: Cell) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)
