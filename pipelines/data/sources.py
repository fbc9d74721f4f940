"""Which files a run reads: ``data.source`` + ``data.pattern``, with TFX's span placeholders.

Mirrors what CsvExampleGen's driver does with ``{SPAN}`` (digits) and ``{YYYY}``,
``{MM}``, ``{DD}`` (a date, as one span per day): the latest span, or the latest N
with ``data.rolling_spans``. Pure Python, so the CLI can check the files before
TFX is imported. Paths go through ``components.filesystem`` (local or ``gs://``).
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass

from components import filesystem as fs

__all__ = ["InputFiles", "resolve", "span_regex"]

_PLACEHOLDERS = {
    "{SPAN}": r"(?P<span>\d+)",
    "{YYYY}": r"(?P<year>\d{4})",
    "{MM}": r"(?P<month>\d{2})",
    "{DD}": r"(?P<day>\d{2})",
}


@dataclass(frozen=True)
class InputFiles:
    files: list[str]
    spans: list[int]  # the spans read (empty without placeholders)


def span_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    for piece in re.split(r"(\{SPAN\}|\{YYYY\}|\{MM\}|\{DD\})", pattern):
        if piece in _PLACEHOLDERS:
            out += _PLACEHOLDERS[piece]
        else:
            out += re.escape(piece).replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
    return re.compile(out + r"\Z")


def _span_of(match: re.Match[str]) -> int:
    groups = match.groupdict()
    if groups.get("span") is not None:
        return int(groups["span"])
    date = datetime.date(int(groups["year"]), int(groups["month"]), int(groups["day"]))
    return (date - datetime.date(1970, 1, 1)).days


def _relative(path: str, source: str) -> str:
    prefix = source.rstrip("/") + "/"
    return path[len(prefix) :] if path.startswith(prefix) else os.path.relpath(path, source)


def resolve(source: str, pattern: str, rolling_spans: int | None = None) -> InputFiles:
    """The files of the latest span (or the latest ``rolling_spans`` spans), sorted."""
    if not any(p in pattern for p in _PLACEHOLDERS):
        return InputFiles([f for f in fs.glob(fs.join(source, pattern)) if fs.isfile(f)], [])
    wildcard = pattern
    for p in _PLACEHOLDERS:
        wildcard = wildcard.replace(p, "*")
    regex = span_regex(pattern)
    by_span: dict[int, list[str]] = {}
    for path in fs.glob(fs.join(source, wildcard)):
        match = regex.match(_relative(path, source))
        if match and fs.isfile(path):
            by_span.setdefault(_span_of(match), []).append(path)
    if not by_span:
        return InputFiles([], [])
    spans = sorted(by_span)[-(rolling_spans or 1) :]
    return InputFiles(sorted(f for s in spans for f in by_span[s]), spans)
