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
    chart_kind: str = "bars"  # or "line": a trend over the rows in order (weeks)

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
        if self.chart_kind == "line":
            return self._line_svg()
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

    def _line_svg(self) -> str:
        """A trend line over the rows in order (e.g. week by week): axes with the first,
        middle and last labels and the scale's top, a dot per row carrying its value as a
        tooltip; an image with a text alternative that names the first and last values,
        the figures themselves in the table beside it."""
        assert self.chart_column is not None
        column = self.chart_column
        values = self.chart_values or [float(r[column] or 0) for r in self.rows]
        top = max(values) or 1.0
        width, height, left, right, top_pad, bottom = 560, 240, 56, 16, 16, 40
        plot_w, plot_h = width - left - right, height - top_pad - bottom
        step = plot_w / max(len(values) - 1, 1)

        def xy(i: int, v: float) -> tuple[float, float]:
            return left + i * step, top_pad + plot_h * (1 - v / top)

        points = [xy(i, v) for i, v in enumerate(values)]
        name = escape(self.headers[column])
        first, last = self.rows[0], self.rows[-1]
        summary = (
            f"{name} from {escape(str(first[0]))} ({escape(fmt(first[column]))}) to "
            f"{escape(str(last[0]))} ({escape(fmt(last[column]))})"
        )
        parts = [
            f'<svg class="flexpool-chart flexpool-chart--line" role="img" '
            f'aria-labelledby="chart-{self.slug}-title chart-{self.slug}-desc" '
            f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet">',
            f'<title id="chart-{self.slug}-title">Chart: {escape(self.caption)}, {name}</title>',
            f'<desc id="chart-{self.slug}-desc">{summary}. The same figures are in the table.'
            "</desc>",
            f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" '
            f'y2="{top_pad + plot_h}" stroke="#505a5f"></line>',
            f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" '
            'stroke="#505a5f"></line>',
            f'<text x="{left - 6}" y="{top_pad + 5}" font-size="13" text-anchor="end" '
            f'fill="#0b0c0c">{escape(fmt(top if top % 1 else int(top)))}</text>',
            f'<text x="{left - 6}" y="{top_pad + plot_h}" font-size="13" text-anchor="end" '
            'fill="#0b0c0c">0</text>',
            '<polyline fill="none" stroke="#1d70b8" stroke-width="3" points="'
            + " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            + '"></polyline>',
        ]
        for i, ((x, y), row) in enumerate(zip(points, self.rows, strict=True)):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#1d70b8"><title>'
                f"{escape(str(row[0]))}: {escape(fmt(row[column]))}</title></circle>"
            )
            if i in {0, len(points) // 2, len(points) - 1}:
                anchor = "start" if i == 0 else "end" if i == len(points) - 1 else "middle"
                parts.append(
                    f'<text x="{x:.1f}" y="{height - 14}" font-size="13" text-anchor="{anchor}" '
                    f'fill="#0b0c0c">{escape(str(row[0]))}</text>'
                )
        parts.append("</svg>")
        return "".join(parts)


def fmt(value: Cell) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)
