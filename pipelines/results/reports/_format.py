"""Numbers as the reports show them: plain strings, escaped later by the templates."""

from __future__ import annotations

import math
from typing import Any

DASH = "\u2014"


def finite(x: Any) -> float | None:
    """``x`` as a float, or None when it is not a finite number."""
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
    """A metric value: counts as integers, everything else to four decimals."""
    value = finite(x)
    if value is None:
        return fmt_num(x)
    return fmt_num(x) if value.is_integer() and abs(value) >= 1 else f"{value:.4f}"


def fmt_diff(x: Any) -> str:
    """A signed difference: ``+12``, ``-0.0100``."""
    value = finite(x)
    if value is None:
        return fmt_num(x)
    return f"{int(value):+,}" if value.is_integer() else f"{value:+.4f}"


def fmt_pct(part: Any, whole: Any) -> str:
    """``part`` as a percentage of ``whole`` to one decimal; a dash when ``whole`` is 0 or unknown."""
    p, w = finite(part), finite(whole)
    if p is None or not w:
        return DASH
    return f"{100.0 * p / w:.1f}%"


def image_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per image column: rows, missing, unreadable, decodable share, decoded sizes."""

    def size(lo: Any, hi: Any) -> str:
        return "-" if lo is None else (f"{lo}" if lo == hi else f"{lo} to {hi}")

    return [
        {
            "feature": column,
            "bad": bool(s["bad"]),
            "cells": [
                f"{s['rows']:,}",
                f"{s['missing']:,}",
                f"{s['undecodable']:,}",
                f"{s.get('decodable_fraction', 0.0):.2%}",
                size(s["min_width"], s["max_width"]),
                size(s["min_height"], s["max_height"]),
            ],
        }
        for column, s in sorted(report.items())
    ]
