"""Geometry of the inline SVG charts: numbers and tooltip text, drawn by ``templates/_charts.svg.j2``.

Each function returns a plain dict (coordinates already rounded to strings, tooltips as
text) or None when there is nothing to draw; the template writes the markup, so every
label and tooltip goes through Jinja's autoescaping like the rest of the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipelines.results.reports._format import finite, fmt_num, fmt_pct

Bucket = tuple[float, float, float]


def _r(x: float) -> str:
    return f"{x:.1f}"


def _clean(buckets: Sequence[Bucket] | None) -> list[Bucket]:
    out = []
    for low, high, count in buckets or ():
        lo, hi, c = finite(low), finite(high), finite(count)
        if lo is not None and hi is not None and c is not None and hi >= lo:
            out.append((lo, hi, c))
    return out


def histogram(
    current: Sequence[Bucket],
    previous: Sequence[Bucket] | None = None,
    *,
    width: int = 240,
    height: int = 72,
    label: str = "histogram",
) -> dict[str, Any] | None:
    """Bars for ``current`` (low, high, count) buckets, ``previous`` as an outline on the same axis.

    Heights are densities (share of the span's count per unit of x), so spans of
    different sizes and bucket boundaries compare honestly.
    """
    cur, prev = _clean(current), _clean(previous)
    if not cur:
        return None
    x0, x1 = min(b[0] for b in cur + prev), max(b[1] for b in cur + prev)
    span = (x1 - x0) or 1.0
    pad_b, top = 14, 2
    plot_h = height - pad_b - top
    base = top + plot_h

    def dens(buckets: list[Bucket]) -> list[float]:
        total = sum(b[2] for b in buckets) or 1.0
        # A zero-width bucket (constant feature) gets 1/len of the range so it stays visible.
        return [b[2] / total / max(b[1] - b[0], span / max(len(buckets), 1) / 10) for b in buckets]

    d_cur, d_prev = dens(cur), dens(prev) if prev else []
    y_max = max(d_cur + d_prev) or 1.0

    def px(x: float) -> float:
        return (x - x0) / span * width

    total_cur = sum(b[2] for b in cur) or 1.0
    bars = []
    for (lo, hi, c), d in zip(cur, d_cur, strict=True):
        h = d / y_max * plot_h
        bars.append(
            {
                "x": _r(px(lo)),
                "y": _r(base - h),
                "w": _r(max(px(hi) - px(lo), 1.0)),
                "h": _r(h),
                "title": f"{fmt_num(lo)} to {fmt_num(hi)}: {fmt_num(round(c, 1))} ({fmt_pct(c, total_cur)})",
            }
        )
    outline = None
    if prev:
        steps = [
            f"{_r(px(lo))},{_r(base - d / y_max * plot_h)} {_r(px(hi))},{_r(base - d / y_max * plot_h)}"
            for (lo, hi, _), d in zip(prev, d_prev, strict=True)
        ]
        outline = f"{_r(px(prev[0][0]))},{_r(base)} {' '.join(steps)} {_r(px(prev[-1][1]))},{_r(base)}"
    return {
        "width": width,
        "height": height,
        "label": label,
        "bars": bars,
        "outline": outline,
        "axis_y": _r(base),
        "tick_y": height - 2,
        "low": fmt_num(x0, 4),
        "high": fmt_num(x1, 4),
    }


def bars(
    items: Sequence[tuple[str, float, float | None]], *, width: int = 320, bar_h: int = 14, label: str = "top values"
) -> dict[str, Any] | None:
    """Horizontal bars: (value label, count, previous span's count scaled to this span or None)."""
    if not items:
        return None
    label_w, count_w, gap = int(width * 0.42), 52, 3
    bar_w = width - label_w - count_w
    top = max([c for _, c, _ in items] + [p for _, _, p in items if p is not None]) or 1.0
    rows = []
    for i, (name, count, prev) in enumerate(items):
        y = i * (bar_h + gap)
        title = f"{name}: {fmt_num(count)}"
        if prev is not None:
            title += f" (previous span, scaled: {fmt_num(round(prev, 1))})"
        rows.append(
            {
                "title": title,
                "shown": name if len(name) <= 24 else name[:23] + "\u2026",
                "y": y,
                "text_y": y + bar_h - 3,
                "w": _r(max(count / top * bar_w, 1.0)),
                "count": fmt_num(count),
                "prev_x": None if prev is None else _r(label_w + prev / top * bar_w),
                "prev_y1": y - 1,
                "prev_y2": y + bar_h + 1,
            }
        )
    return {
        "width": width,
        "height": len(items) * (bar_h + gap),
        "label": label,
        "rows": rows,
        "label_x": label_w - 4,
        "bar_x": label_w,
        "bar_h": bar_h,
        "count_x": label_w + bar_w + 4,
    }


def xy(
    series: Sequence[tuple[str, Sequence[tuple[float, float]], str]],
    *,
    x_label: str,
    y_label: str,
    title: str,
    diagonal: bool = True,
    size: int = 260,
    points: bool = False,
    x_range: tuple[float, float] = (0.0, 1.0),
    y_range: tuple[float, float] = (0.0, 1.0),
    zero_line: bool = False,
    notes: Sequence[Sequence[str]] | None = None,
) -> dict[str, Any]:
    """A square line chart: ``series`` of (name, [(x, y)], css class) over ``x_range`` x ``y_range``
    (the unit square for ROC and calibration). ``diagonal`` draws y = x, ``zero_line`` y = 0;
    ``notes`` (one list per series, one text per point) extend the points' tooltips."""
    pad_l, pad_b, pad_t, pad_r = 40, 30, 8, 8
    pw, ph = size - pad_l - pad_r, size - pad_b - pad_t
    (x0, x1), (y0, y1) = x_range, y_range
    xs, ys = (x1 - x0) or 1.0, (y1 - y0) or 1.0

    def px(x: float) -> float:
        return pad_l + min(max((x - x0) / xs, 0.0), 1.0) * pw

    def py(y: float) -> float:
        return pad_t + ph - min(max((y - y0) / ys, 0.0), 1.0) * ph

    def tick(t: float) -> str:
        return f"{t:.3g}"

    marks = (0.0, 0.5, 1.0)
    lines = []
    for i, (name, pts, cls) in enumerate(series):
        extra = list(notes[i]) if notes is not None and i < len(notes) else []
        clean = [
            (float(x), float(y), extra[j] if j < len(extra) else "")
            for j, (x, y) in enumerate(pts)
            if finite(x) is not None and finite(y) is not None
        ]
        if clean:
            lines.append(
                {
                    "name": name,
                    "cls": cls,
                    "points": " ".join(f"{_r(px(x))},{_r(py(y))}" for x, y, _ in clean),
                    "dots": [
                        {"cx": _r(px(x)), "cy": _r(py(y)), "title": f"{name}: ({x:.4g}, {y:.4g}){note}"}
                        for x, y, note in clean
                    ]
                    if points
                    else [],
                }
            )
    lo, hi = max(x0, y0), min(x1, y1)  # y = x inside the frame
    return {
        "width": size,
        "height": size,
        "label": title,
        "frame": {"x": pad_l, "y": pad_t, "w": pw, "h": ph},
        "x_ticks": [{"text": tick(x0 + m * xs), "x": _r(px(x0 + m * xs))} for m in marks],
        "y_ticks": [{"text": tick(y0 + m * ys), "y": _r(py(y0 + m * ys) + 3)} for m in marks],
        "tick_x_y": size - pad_b + 12,
        "tick_y_x": pad_l - 4,
        "diagonal": {"x1": _r(px(lo)), "y1": _r(py(lo)), "x2": _r(px(hi)), "y2": _r(py(hi))}
        if diagonal and hi > lo
        else None,
        "zero": {"x1": _r(px(x0)), "x2": _r(px(x1)), "y": _r(py(0.0))} if zero_line and y0 <= 0.0 <= y1 else None,
        "lines": lines,
        "x_label": x_label,
        "x_label_x": _r(pad_l + pw / 2),
        "x_label_y": size - 4,
        "y_label": y_label,
        "y_label_y": _r(pad_t + ph / 2),
    }
