"""Which files a run reads: ``data.source`` + ``data.pattern``, with TFX's span placeholders.

Mirrors what CsvExampleGen's driver does with ``{SPAN}`` (digits) and ``{YYYY}``,
``{MM}``, ``{DD}`` (a date, as one span per day): the latest span, or the latest N
with ``data.rolling_spans``. Pure Python, so the CLI can check the files before
TFX is imported. Paths go through ``components.filesystem`` (local or ``gs://``).

Monthly drops (``{YYYY}-{MM}/*.csv``, no ``{DD}``): TFX's driver accepts date placeholders
only as a full date, so a monthly pattern is resolved here, one span per month, and
ExampleGen is handed the chosen month folders by name (:func:`tfx_pattern`):
``2026-10/*.csv`` for the newest month, character classes (``2026-[01][09]/*.csv``) for the
newest N, checked to match those months' files and nothing else. TFX's ExampleGen reads one
span per run, so the newest N of ``{SPAN}`` or daily spans are named the same way.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass

from components import filesystem as fs

__all__ = ["InputFiles", "empty_newest_folder", "is_monthly", "resolve", "span_regex", "tfx_pattern"]

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


def is_monthly(pattern: str) -> bool:
    """``{YYYY}`` and ``{MM}`` without ``{DD}`` or ``{SPAN}``: one span per month."""
    return "{YYYY}" in pattern and "{MM}" in pattern and "{DD}" not in pattern and "{SPAN}" not in pattern


def _span_of(match: re.Match[str]) -> int:
    groups = match.groupdict()
    if groups.get("span") is not None:
        return int(groups["span"])
    if groups.get("day") is None:  # a monthly pattern: months since 1970-01
        return (int(groups["year"]) - 1970) * 12 + int(groups["month"]) - 1
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


def _wildcard(pattern: str) -> str:
    for p in _PLACEHOLDERS:
        pattern = pattern.replace(p, "*")
    return pattern


def empty_newest_folder(source: str, pattern: str) -> str | None:
    """The newest span folder when it holds no file matching ``pattern`` (a drop that is not
    there yet, or failed to upload), else None. Only for patterns whose placeholders are all in
    the folder part (``{YYYY}-{MM}/*.csv``, ``span-{SPAN}/*.csv``)."""
    folder_pattern, _, _ = pattern.rpartition("/")
    if not folder_pattern or not any(p in folder_pattern for p in _PLACEHOLDERS):
        return None
    regex = span_regex(folder_pattern)
    folders: dict[int, str] = {}
    for path in fs.glob(fs.join(source, _wildcard(folder_pattern))):
        match = regex.match(_relative(path, source).rstrip("/"))
        if match and fs.isdir(path):
            folders[_span_of(match)] = path
    if not folders:
        return None
    newest = max(folders)
    found = resolve(source, pattern)
    return folders[newest] if not found.spans or max(found.spans) < newest else None


_GROUPS = {"{SPAN}": "span", "{YYYY}": "year", "{MM}": "month", "{DD}": "day"}


def _named(pattern: str, match: re.Match[str]) -> str:
    """``pattern`` with one span's placeholders as its files spell them: ``{YYYY}-{MM}/*.csv`` ->
    ``2026-10/*.csv``, ``span-{SPAN}/*.csv`` -> ``span-007/*.csv``."""
    for placeholder, group in _GROUPS.items():
        if placeholder in pattern:  # the match has a group only for the placeholders the pattern holds
            pattern = pattern.replace(placeholder, match.group(group))
    return pattern


def tfx_pattern(source: str, pattern: str, rolling_spans: int | None = None) -> str:
    """The split pattern CsvExampleGen is given: ``pattern`` itself (TFX's driver picks the newest
    span), except where TFX cannot: a monthly pattern (its driver needs ``{DD}`` with a date) and
    ``rolling_spans`` of 2 or more (its ExampleGen reads one span): there, the newest span (or
    newest ``rolling_spans`` spans) by name. Unresolvable (no files): ``pattern`` unchanged, for
    the environment check to report.

    Raises:
        ValueError: no glob names exactly the newest N spans' files (then a flat character
            class would pull in an older span too); the message says what to do.
    """
    if not is_monthly(pattern) and (rolling_spans or 1) < 2:
        return pattern
    found = resolve(source, pattern, rolling_spans)
    if not found.spans:
        return pattern
    regex, by_span = span_regex(pattern), {}
    for path in found.files:
        match = regex.match(_relative(path, source))
        if match:
            by_span.setdefault(_span_of(match), _named(pattern, match))
    names = [by_span[span] for span in found.spans]
    if len(names) == 1:
        return names[0]
    merged = ""
    if len({len(n) for n in names}) == 1:  # spans of different widths (span-9, span-10) have no common glob
        merged = "".join(
            chars[0] if len(set(chars)) == 1 else "[" + "".join(sorted(set(chars))) + "]"
            for chars in zip(*names, strict=True)
        )
    matched = sorted(f for f in fs.glob(fs.join(source, merged)) if fs.isfile(f)) if merged else []
    if matched != found.files:
        raise ValueError(
            f"data.rolling_spans {rolling_spans}: no single file pattern reads exactly the spans "
            f"{', '.join(n.split('/')[0] for n in names)} of {source} (it would take another span too); "
            f"use a smaller rolling_spans or move older spans out of {source}"
        )
    return merged
