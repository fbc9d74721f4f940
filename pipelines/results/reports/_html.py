"""Shared pieces of the offline HTML reports: escaping, tables, inline SVG charts, atomic writes.

Every report is one self-contained file: inline CSS, inline SVG, no script, no
``src``/``href`` to anything but an in-page ``#fragment``, and a Content-Security-Policy
that forbids the browser from fetching anything even if something slipped through.

Text is escaped by default. Markup built here is wrapped in :class:`Html`, which
:func:`esc` passes through unchanged, so a cell is either trusted markup from this
module or user data that gets escaped; there is no third kind.
"""

from __future__ import annotations

import html
import math
import os
import re
import tempfile
from typing import Any, Iterable, Sequence


class Html(str):
    """Markup produced by this module; :func:`esc` leaves it as is."""

    __slots__ = ()


def esc(value: Any) -> Html:
    """``value`` as HTML text (quotes escaped too, so safe in attributes); :class:`Html` as is."""
    if isinstance(value, Html):
        return value
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return Html(html.escape("" if value is None else str(value), quote=True))


def join(parts: Iterable[Any], sep: str = "") -> Html:
    return Html(sep.join(esc(p) for p in parts))


def tag(name: str, content: Any = "", **attrs: Any) -> Html:
    """``<name attrs>content</name>``; attribute values escaped, ``class_`` -> ``class``, None dropped."""
    rendered = "".join(f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"' for k, v in attrs.items() if v is not None)
    return Html(f"<{name}{rendered}>{esc(content)}</{name}>")


def dom_id(*parts: Any) -> str:
    """A safe element id from arbitrary parts (feature names are user data)."""
    return "-".join(re.sub(r"[^A-Za-z0-9_]+", "_", str(p)) or "_" for p in parts)


# --- numbers -----------------------------------------------------------------------------------

DASH = "\u2014"


def _finite(x: Any) -> float | None:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def fmt_num(x: Any, digits: int = 6) -> str:
    """Integers with thousands separators, other numbers to ``digits`` significant digits."""
    if x is None:
        return DASH
    try:
        value = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "\u221e" if value > 0 else "-\u221e"
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.{digits}g}"


def fmt_metric(x: Any) -> str:
    value = _finite(x)
    if value is None:
        return fmt_num(x)
    return fmt_num(x) if value.is_integer() and abs(value) >= 1 else f"{value:.4f}"


def fmt_diff(x: Any) -> str:
    value = _finite(x)
    if value is None:
        return fmt_num(x)
    return f"{int(value):+,}" if value.is_integer() else f"{value:+.4f}"


def fmt_pct(part: Any, whole: Any) -> str:
    p, w = _finite(part), _finite(whole)
    if p is None or not w:
        return DASH
    return f"{100.0 * p / w:.1f}%"


# --- building blocks ---------------------------------------------------------------------------

def badge(text: str, kind: str) -> Html:
    """A coloured label; ``kind`` is one of ok, bad, warn, info."""
    return tag("span", text, class_=f"badge {kind}")


def table(headers: Sequence[Any], rows: Sequence[Sequence[Any]], *, table_id: str | None = None,
          empty: str = "nothing to show", row_classes: Sequence[str | None] | None = None,
          row_ids: Sequence[str | None] | None = None, numeric: Iterable[int] = (),
          col_classes: Sequence[str | None] = (), caption: str | None = None) -> Html:
    """A ``<table>``; cells are escaped unless :class:`Html`. No rows -> one explicit ``empty`` row.

    ``numeric`` columns are right-aligned; ``col_classes[i]`` is added to column i's cells.
    """
    numeric = set(numeric)

    def cell(name: str, i: int, content: Any) -> str:
        classes = " ".join(c for c in ("num" if i in numeric else None,
                                       col_classes[i] if i < len(col_classes) else None) if c)
        cls = f' class="{esc(classes)}"' if classes else ""
        return f"<{name}{cls}>{esc(content)}</{name}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    body = []
    for r, row in enumerate(rows):
        cells = "".join(cell("td", i, c) for i, c in enumerate(row))
        attrs = ""
        if row_ids and row_ids[r]:
            attrs += f' id="{esc(row_ids[r])}"'
        if row_classes and row_classes[r]:
            attrs += f' class="{esc(row_classes[r])}"'
        body.append(f"<tr{attrs}>{cells}</tr>")
    if not rows:
        body.append(f'<tr class="empty"><td colspan="{len(headers)}">{esc(empty)}</td></tr>')
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    tid = f' id="{esc(table_id)}"' if table_id else ""
    return Html(f'<table{tid}>{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>')


def key_values(items: dict[str, Any] | None, *, table_id: str = "run-info") -> Html:
    """``run_info`` as a two-column table; empty string when there is nothing."""
    if not items:
        return Html("")
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in items.items())
    return Html(f'<table id="{esc(table_id)}" class="kv"><tbody>{rows}</tbody></table>')


def section(title: str, body: Any, *, section_id: str, note: Any = None) -> Html:
    note_html = tag("p", note, class_="note") if note else ""
    return Html(f'<section id="{esc(section_id)}-section"><h2>{esc(title)}</h2>{note_html}{esc(body)}</section>')


# --- SVG charts ---------------------------------------------------------------------------------

def _svg(width: int, height: int, content: str, label: str, cls: str) -> Html:
    # No xmlns: inline SVG in HTML does not need it, and it would be the only URL in the file.
    return Html(f'<svg class="{cls}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
                f'role="img" aria-label="{esc(label)}"><title>{esc(label)}</title>{content}</svg>')


def _r(x: float) -> str:
    return f"{x:.1f}"


def svg_histogram(current: Sequence[tuple[float, float, float]],
                  previous: Sequence[tuple[float, float, float]] | None = None, *,
                  width: int = 240, height: int = 72, label: str = "histogram") -> Html:
    """Bars for ``current`` (low, high, count) buckets, ``previous`` as an outline on the same axis.

    Heights are densities (share of the span's count per unit of x), so spans of
    different sizes and bucket boundaries compare honestly.
    """
    def clean(buckets: Sequence[tuple[float, float, float]] | None) -> list[tuple[float, float, float]]:
        out = []
        for low, high, count in buckets or ():
            lo, hi, c = _finite(low), _finite(high), _finite(count)
            if lo is not None and hi is not None and c is not None and hi >= lo:
                out.append((lo, hi, c))
        return out

    cur, prev = clean(current), clean(previous)
    if not cur:
        return Html(f'<span class="muted">{DASH}</span>')
    lows = [b[0] for b in cur + prev]
    highs = [b[1] for b in cur + prev]
    x0, x1 = min(lows), max(highs)
    span = (x1 - x0) or 1.0
    pad_b, top = 14, 2
    plot_h = height - pad_b - top

    def dens(buckets: list[tuple[float, float, float]]) -> list[float]:
        total = sum(b[2] for b in buckets) or 1.0
        # A zero-width bucket (constant feature) gets 1/len of the range so it stays visible.
        return [b[2] / total / max(b[1] - b[0], span / max(len(buckets), 1) / 10) for b in buckets]

    d_cur, d_prev = dens(cur), dens(prev) if prev else []
    y_max = max(d_cur + d_prev) or 1.0

    def px(x: float) -> float:
        return (x - x0) / span * width

    parts = []
    total_cur = sum(b[2] for b in cur) or 1.0
    for (lo, hi, c), d in zip(cur, d_cur):
        x, w = px(lo), max(px(hi) - px(lo), 1.0)
        h = d / y_max * plot_h
        parts.append(f'<rect class="cur" x="{_r(x)}" y="{_r(top + plot_h - h)}" width="{_r(w)}" height="{_r(h)}">'
                     f'<title>{esc(fmt_num(lo))} to {esc(fmt_num(hi))}: {esc(fmt_num(round(c, 1)))} '
                     f'({esc(fmt_pct(c, total_cur))})</title></rect>')
    if prev:
        pts = []
        for (lo, hi, _), d in zip(prev, d_prev):
            y = top + plot_h - d / y_max * plot_h
            pts.append(f"{_r(px(lo))},{_r(y)} {_r(px(hi))},{_r(y)}")
        base = top + plot_h
        parts.append(f'<polyline class="prev" points="{_r(px(prev[0][0]))},{_r(base)} {" ".join(pts)} '
                     f'{_r(px(prev[-1][1]))},{_r(base)}"><title>previous span</title></polyline>')
    parts.append(f'<line class="axis" x1="0" y1="{_r(top + plot_h)}" x2="{width}" y2="{_r(top + plot_h)}"/>')
    parts.append(f'<text class="tick" x="0" y="{height - 2}">{esc(fmt_num(x0, 4))}</text>')
    parts.append(f'<text class="tick" x="{width}" y="{height - 2}" text-anchor="end">{esc(fmt_num(x1, 4))}</text>')
    return _svg(width, height, "".join(parts), label, "chart hist")


def svg_bars(items: Sequence[tuple[str, float, float | None]], *, width: int = 320, bar_h: int = 14,
             label: str = "top values") -> Html:
    """Horizontal bars: (value label, count, previous span's count scaled to this span or None)."""
    if not items:
        return Html(f'<span class="muted">{DASH}</span>')
    label_w, count_w, gap = int(width * 0.42), 52, 3
    bar_w = width - label_w - count_w
    top = max([c for _, c, _ in items] + [p for _, _, p in items if p is not None]) or 1.0
    parts = []
    for i, (name, count, prev) in enumerate(items):
        y = i * (bar_h + gap)
        shown = name if len(name) <= 24 else name[:23] + "\u2026"
        w = max(count / top * bar_w, 1.0)
        parts.append(f'<g><title>{esc(name)}: {esc(fmt_num(count))}'
                     f'{"" if prev is None else f" (previous span, scaled: {esc(fmt_num(round(prev, 1)))})"}</title>'
                     f'<text class="lbl" x="{label_w - 4}" y="{y + bar_h - 3}" text-anchor="end">{esc(shown)}</text>'
                     f'<rect class="cur" x="{label_w}" y="{y}" width="{_r(w)}" height="{bar_h}"/>')
        if prev is not None:
            px = label_w + prev / top * bar_w
            parts.append(f'<line class="prev" x1="{_r(px)}" y1="{y - 1}" x2="{_r(px)}" y2="{y + bar_h + 1}"/>')
        parts.append(f'<text class="cnt" x="{label_w + bar_w + 4}" y="{y + bar_h - 3}">{esc(fmt_num(count))}</text></g>')
    height = len(items) * (bar_h + gap)
    return _svg(width, height, "".join(parts), label, "chart bars")


def svg_xy(series: Sequence[tuple[str, Sequence[tuple[float, float]], str]], *, x_label: str, y_label: str,
           title: str, diagonal: bool = True, size: int = 260, points: bool = False) -> Html:
    """A unit-square line chart (ROC, calibration): ``series`` of (name, [(x, y)], css class)."""
    pad_l, pad_b, pad_t, pad_r = 34, 30, 8, 8
    w = h = size
    pw, ph = w - pad_l - pad_r, h - pad_b - pad_t

    def px(x: float) -> float:
        return pad_l + min(max(x, 0.0), 1.0) * pw

    def py(y: float) -> float:
        return pad_t + ph - min(max(y, 0.0), 1.0) * ph

    parts = [f'<rect class="frame" x="{pad_l}" y="{pad_t}" width="{pw}" height="{ph}"/>']
    for t in (0.0, 0.5, 1.0):
        parts.append(f'<text class="tick" x="{_r(px(t))}" y="{h - pad_b + 12}" text-anchor="middle">{t:g}</text>')
        parts.append(f'<text class="tick" x="{pad_l - 4}" y="{_r(py(t) + 3)}" text-anchor="end">{t:g}</text>')
    if diagonal:
        parts.append(f'<line class="diag" x1="{_r(px(0))}" y1="{_r(py(0))}" x2="{_r(px(1))}" y2="{_r(py(1))}"/>')
    for name, pts, cls in series:
        clean = [(float(x), float(y)) for x, y in pts if _finite(x) is not None and _finite(y) is not None]
        if not clean:
            continue
        coords = " ".join(f"{_r(px(x))},{_r(py(y))}" for x, y in clean)
        parts.append(f'<polyline class="line {esc(cls)}" points="{coords}"><title>{esc(name)}</title></polyline>')
        if points:
            parts.extend(f'<circle class="pt {esc(cls)}" cx="{_r(px(x))}" cy="{_r(py(y))}" r="2.5">'
                         f'<title>{esc(name)}: ({x:.3f}, {y:.3f})</title></circle>' for x, y in clean)
    parts.append(f'<text class="axlbl" x="{_r(pad_l + pw / 2)}" y="{h - 4}" text-anchor="middle">{esc(x_label)}</text>')
    parts.append(f'<text class="axlbl" transform="translate(10 {_r(pad_t + ph / 2)}) rotate(-90)" '
                 f'text-anchor="middle">{esc(y_label)}</text>')
    return _svg(w, h, "".join(parts), title, "chart xy")


# --- the page -----------------------------------------------------------------------------------

# No network: nothing may be fetched (fonts, images, scripts, frames), only inline styles apply.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

_CSS = """
:root { --ok:#1a7f37; --bad:#cf222e; --warn:#9a6700; --info:#0969da; --muted:#6e7781; --line:#d0d7de;
        --bg:#ffffff; --alt:#f6f8fa; --cur:#4c78a8; --prev:#f58518; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto,
       "Liberation Sans", "DejaVu Sans", Arial, sans-serif; color: #1f2328; background: var(--bg); }
header { border-bottom: 1px solid var(--line); padding-bottom: 12px; margin-bottom: 16px; }
h1 { font-size: 22px; margin: 0 0 8px; overflow-wrap: anywhere; }
h2 { font-size: 17px; margin: 28px 0 8px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.status { font-size: 15px; margin: 6px 0; }
.badge { display: inline-block; padding: 2px 9px; border-radius: 10px; font-size: 12px; font-weight: 600;
         color: #fff; vertical-align: middle; }
.badge.ok { background: var(--ok); } .badge.bad { background: var(--bad); }
.badge.warn { background: var(--warn); } .badge.info { background: var(--info); }
table { border-collapse: collapse; margin: 6px 0 12px; max-width: 100%; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
thead th { background: var(--alt); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fbfcfd; }
tr.empty td { color: var(--muted); font-style: italic; }
tr.bad td:first-child, tr.has-anomaly td:first-child { box-shadow: inset 3px 0 0 var(--bad); }
tr.warn td:first-child { box-shadow: inset 3px 0 0 var(--warn); }
tr.bad { background: #fff5f5 !important; }
table.kv th { background: var(--alt); font-weight: 600; }
table.kv { font-size: 13px; }
td.text { min-width: 220px; max-width: 480px; }
td.kind code { display: block; white-space: nowrap; margin: 1px 0; }
.note, .muted { color: var(--muted); }
.legend { font-size: 12px; color: var(--muted); }
.sw { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; vertical-align: baseline; }
.sw.cur { background: var(--cur); } .sw.prev { border: 2px solid var(--prev); } .sw.base { background: #9a9a9a; }
code { font-size: 12px; background: var(--alt); padding: 1px 4px; border-radius: 4px; }
svg.chart { display: block; overflow: visible; }
svg text { font-size: 10px; fill: #57606a; }
svg .cur { fill: var(--cur); }
svg polyline.prev { fill: none; stroke: var(--prev); stroke-width: 1.5; }
svg line.prev { stroke: var(--prev); stroke-width: 2; }
svg .axis, svg .frame { stroke: #8c959f; fill: none; stroke-width: 1; }
svg .diag { stroke: #afb8c1; stroke-dasharray: 4 3; }
svg .line { fill: none; stroke-width: 2; }
svg .line.candidate { stroke: var(--cur); } svg .pt.candidate { fill: var(--cur); }
svg .line.baseline { stroke: #9a9a9a; } svg .pt.baseline { fill: #9a9a9a; }
svg .axlbl { font-size: 11px; fill: #1f2328; }
.plots { display: flex; flex-wrap: wrap; gap: 18px; }
.plots figure { margin: 0; }
.plots figcaption { font-size: 12px; color: var(--muted); text-align: center; }
details > summary { cursor: pointer; margin: 8px 0; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print { body { padding: 0; } details { display: block; } }
"""


def page(title: str, body: Any, *, kind: str) -> str:
    """A complete, self-contained HTML document."""
    return ("<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="generator" content="declarative-tfx {esc(kind)}">'
            f"<title>{esc(title)}</title><style>{_CSS}</style></head>"
            f'<body class="{esc(kind)}">{esc(body)}'
            "<footer>Self-contained report: no scripts, no external resources.</footer></body></html>\n")


def write_atomic(path: str | os.PathLike[str], text: str) -> str:
    """Write ``text`` to ``path`` via a temporary file in the same directory and ``os.replace``.

    A reader (or a browser refreshing) sees the old report or the new one, never half of one.
    Returns the absolute path.
    """
    path = os.path.abspath(os.fspath(path))
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path
