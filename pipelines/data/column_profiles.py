"""Infer a pipeline from a CSV sample: each column's type and transform, the label's task.

Pure Python (no TensorFlow): ``pipelines.data.scaffold`` calls it and writes the
config and schema; the unit tests call it on tricky columns. Types follow ExampleGen's rule
(``components.csv_cells.cell_kind``), so the schema matches what ExampleGen writes.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from components.csv_cells import cell_kind, is_missing, merge_kinds
from pipelines.errors import ScaffoldError

__all__ = ["Choice", "ColumnProfile", "LabelChoice", "choose_label", "choose_transform", "profile"]

MAX_TRACKED = 10_000  # distinct values tracked per column; more counts as "many"
LOW_CARDINALITY_INT = 20  # an integer column with at most this many values is categorical
VOCABULARY_MAX = 1_000  # a string column with more distinct values is hashed
MULTICLASS_MAX = 50  # more label values than this is not a classification label
HEAVY_TAIL_SKEW = 2.0  # skewness above which a non-negative numeric column is log-transformed
# Free text: a string column whose values are mostly distinct and several words long is read word by word.
TEXT_DISTINCT_RATIO = 0.5  # at least this share of its present values are distinct
TEXT_MEDIAN_WORDS = 3  # and its median value has at least this many words
TEXT_TOP_K_MAX = 10_000  # the text transform's vocabulary: at most this many words
_WORD = re.compile(r"[^\W_]+")  # letters and digits, as the text transform splits them
ID_UNIQUE_RATIO = 0.95
_ID_NAME = re.compile(r"(^|[_\-\s])(id|uuid|guid|key|index)$|^(id|uuid|guid|rownum|row_?id)$", re.IGNORECASE)
_ID_NAME_CAMEL = re.compile(r"[a-z](Id|ID|Uuid|UUID)$")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?.*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_POSITIVE_WORDS = (
    "yes",
    "y",
    "true",
    "t",
    "1",
    "positive",
    "pos",
    "churn",
    "churned",
    "fraud",
    "click",
    "clicked",
    "spam",
    "default",
    "defaulted",
    "bad",
    "success",
    "won",
    "win",
    "converted",
    "purchased",
)


@dataclass
class ColumnProfile:
    """What the sample says about one column."""

    name: str
    rows: int = 0
    missing: int = 0
    kind: str = "missing"  # missing | int | float | string (ExampleGen's type)
    counts: Counter[str] = field(default_factory=Counter)  # up to MAX_TRACKED distinct values
    overflow: bool = False  # more distinct values than tracked
    numbers: list[float] = field(default_factory=list)
    datetimes: int = 0
    dates: int = 0
    leading_zero: bool = False
    word_counts: list[int] = field(default_factory=list)  # words per present string value
    words: set[str] = field(default_factory=set)  # distinct lower-case words, up to MAX_TRACKED

    def add(self, cell: str) -> None:
        self.rows += 1
        if is_missing(cell):
            self.missing += 1
            return
        cell = cell.strip()
        kind = cell_kind(cell)
        self.kind = merge_kinds(self.kind, kind)
        if cell in self.counts or len(self.counts) < MAX_TRACKED:
            self.counts[cell] += 1
        else:
            self.overflow = True
        if kind in ("int", "float"):
            self.numbers.append(float(cell))
            if kind == "int" and len(cell) > 1 and cell.lstrip("+-").startswith("0"):
                self.leading_zero = True
        elif _DATETIME.fullmatch(cell):
            self.datetimes += 1
        elif _DATE.fullmatch(cell):
            self.dates += 1
        else:
            words = _WORD.findall(cell.lower())
            self.word_counts.append(len(words))
            if len(self.words) < MAX_TRACKED:
                self.words.update(words)

    @property
    def present(self) -> int:
        return self.rows - self.missing

    @property
    def distinct(self) -> int:
        return len(self.counts) + (1 if self.overflow else 0)

    @property
    def schema_type(self) -> str:
        return {"int": "INT", "float": "FLOAT"}.get(self.kind, "BYTES")


@dataclass
class Choice:
    """The transform picked for a column (``None`` entries are omitted) and why."""

    transform: dict[str, Any]
    why: str


@dataclass
class LabelChoice:
    task: str
    positive: Any = None
    classes: list[Any] | None = None
    why: str = ""
    plot_range: tuple[float, float] | None = None  # regression: the sample's label range, widened by 10%


def profile(header: Sequence[str], rows: Iterable[Sequence[str]], limit: int) -> tuple[dict[str, ColumnProfile], int]:
    """Profiles of every column over the first ``limit`` data rows; (profiles, rows read)."""
    profiles = {name: ColumnProfile(name) for name in header}
    columns = list(profiles.values())
    n = 0
    for row in rows:
        if n >= limit:
            break
        if len(row) != len(columns):
            continue  # the preflight check names such rows; the sample skips them
        for col, cell in zip(columns, row, strict=True):
            col.add(cell)
        n += 1
    return profiles, n


def _skewness(values: list[float]) -> float:
    n = len(values)
    if n < 3:
        return 0.0
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / n
    if var <= 0:
        return 0.0
    return sum((v - mean) ** 3 for v in values) / n / var**1.5


def _missing_note(p: ColumnProfile, numeric: bool = False) -> str:
    if not p.missing:
        return ""
    share = f"; {p.missing / p.rows:.0%} missing: "
    return share + ("imputed with the mean plus an is-missing indicator" if numeric else "its own category")


def _is_identifier(p: ColumnProfile) -> bool:
    unique = p.present > 0 and (p.distinct / p.present) >= ID_UNIQUE_RATIO
    named = bool(_ID_NAME.search(p.name) or _ID_NAME_CAMEL.search(p.name))
    if p.kind == "string":
        return unique and p.present >= 20 and not (p.datetimes or p.dates)
    return named and unique


def choose_transform(p: ColumnProfile) -> Choice:
    """The transform for one feature column (the rules are listed in ``pipelines.init``'s docstring)."""
    if p.present == 0:
        return Choice({"transform": "drop"}, "always empty in the sample")
    if p.distinct == 1:
        only = next(iter(p.counts))
        return Choice({"transform": "drop"}, f"constant: every value is {only!r}")
    text = _free_text(p)
    if text is not None:
        return text
    if _is_identifier(p):
        return Choice({"transform": "drop"}, f"an identifier: {p.distinct / p.present:.0%} of its values are distinct")
    if p.kind == "string" and (p.datetimes or p.dates) >= 0.95 * p.present:
        if p.datetimes >= p.dates:
            return Choice(
                {"transform": "timestamp", "parts": ["hour", "day_of_week", "month"]},
                "date-times: hour, day of week and month" + _missing_note(p),
            )
        return Choice(
            {"transform": "timestamp", "parts": ["day_of_week", "month"]},
            "dates: day of week and month" + _missing_note(p),
        )
    if p.kind == "int" and p.leading_zero:
        return _categorical(p, "integer codes with leading zeros (e.g. postal codes): categories")
    if p.kind == "int" and p.distinct <= LOW_CARDINALITY_INT:
        return Choice({"transform": "vocabulary"}, f"integer with {p.distinct} values: categories" + _missing_note(p))
    if p.kind in ("int", "float"):
        skew = _skewness(p.numbers)
        lo, hi = min(p.numbers), max(p.numbers)
        rng = f"range {_num(lo)}..{_num(hi)}"
        if lo >= 0 and skew > HEAVY_TAIL_SKEW:
            return Choice(
                {"transform": "log"},
                f"{p.kind}, {rng}, heavy right tail (skew {skew:.1f}): log, then "
                f"z-score" + _missing_note(p, numeric=True),
            )
        return Choice({"transform": "zscore"}, f"{p.kind}, {rng}, skew {skew:.1f}: z-score" + _missing_note(p, True))
    looks_numeric = sum(1 for v in p.counts if re.fullmatch(r"[-+$€£]?[\d,.]+%?", v)) >= 0.9 * len(p.counts)
    note = (
        " (looks numeric but has separators or symbols, e.g. '1,234'; clean it upstream to use it as a number)"
        if looks_numeric
        else ""
    )
    return _categorical(p, "text" + note)


def _free_text(p: ColumnProfile) -> Choice | None:
    """``text`` for a string column of mostly distinct values with several words each, else None.

    Checked before the identifier rule: an identifier is distinct too, but one word.
    """
    if p.kind != "string" or not p.word_counts or len(p.word_counts) < 0.95 * p.present:
        return None
    ratio = p.distinct / p.present
    median = sorted(p.word_counts)[len(p.word_counts) // 2]
    if ratio < TEXT_DISTINCT_RATIO or median < TEXT_MEDIAN_WORDS:
        return None
    longest = sorted(p.word_counts)[int(0.95 * (len(p.word_counts) - 1))]
    max_tokens = max(8, min(64, longest))
    top_k = min(TEXT_TOP_K_MAX, len(p.words))
    many = "over " if len(p.words) >= MAX_TRACKED else ""
    return Choice(
        {"transform": "text", "top_k": top_k, "max_tokens": max_tokens},
        f"free text: {ratio:.0%} distinct values, median {median} words ({many}{len(p.words)} distinct words): "
        f"text, each word embedded and averaged, the first {max_tokens} words read"
        + (f"; {p.missing / p.rows:.0%} missing: read as an empty text" if p.missing else ""),
    )


def _categorical(p: ColumnProfile, what: str) -> Choice:
    if p.distinct <= VOCABULARY_MAX and not p.overflow:
        return Choice(
            {"transform": "vocabulary"}, f"{what}, {p.distinct} distinct values: vocabulary" + _missing_note(p)
        )
    buckets = min(4096, 1 << max(6, math.ceil(math.log2(max(p.distinct, 2)))))
    many = f"over {MAX_TRACKED}" if p.overflow else str(p.distinct)
    return Choice(
        {"transform": "hash", "hash_buckets": buckets},
        f"{what}, {many} distinct values: hashed into {buckets} buckets" + _missing_note(p),
    )


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:.4g}"


def _typed(value: str, kind: str) -> Any:
    return int(value) if kind == "int" else value


def choose_label(p: ColumnProfile, task: str | None = None) -> LabelChoice:
    """The task from the label's values: two values -> binary; a few -> multiclass; numbers -> regression."""
    if p.present == 0:
        raise ScaffoldError(f"label column {p.name!r} is empty in the sample; pick the column that holds the target")
    values = sorted(p.counts, key=lambda v: (float(v) if p.kind in ("int", "float") else 0, v))
    n = p.distinct
    if task is None:
        if n == 2 and not p.overflow:
            task = "binary"
        elif p.kind == "float":
            task = "regression"
        elif p.kind == "int":
            task = "multiclass" if n <= LOW_CARDINALITY_INT else "regression"
        elif n <= MULTICLASS_MAX:
            task = "multiclass"
        else:
            raise ScaffoldError(
                f"label column {p.name!r} holds {n if not p.overflow else f'over {MAX_TRACKED}'} "
                f"different strings: too many classes for multiclass (at most {MULTICLASS_MAX}); "
                f"pick another label column or group its values upstream"
            )
    if task == "regression":
        if p.kind not in ("int", "float"):
            raise ScaffoldError(
                f"label column {p.name!r} holds text, e.g. {values[0]!r}; regression needs numbers "
                f"(pass --task binary or --task multiclass)"
            )
        lo, hi = min(p.numbers), max(p.numbers)
        margin = (hi - lo) * 0.1 or 1.0
        return LabelChoice(
            "regression",
            why=f"{p.kind} values {_num(lo)}..{_num(hi)}: regression",
            plot_range=(lo - margin, hi + margin),
        )
    if p.overflow or n > MULTICLASS_MAX:
        raise ScaffoldError(f"label column {p.name!r} has {n} values; too many for {task} (at most {MULTICLASS_MAX})")
    if p.kind == "float":
        raise ScaffoldError(
            f"label column {p.name!r} holds fractional numbers; {task} needs class labels (pass --task regression)"
        )
    if task == "binary":
        if n != 2:
            raise ScaffoldError(
                f"label column {p.name!r} has {n} values {values[:5]}; binary needs exactly two "
                f"(pass --task multiclass)"
            )
        if p.kind == "int" and set(values) == {"0", "1"}:
            return LabelChoice("binary", why="two values, 0 and 1: binary")
        lowered = {v.lower(): v for v in values}
        word = next((lowered[w] for w in _POSITIVE_WORDS if w in lowered), None)
        if word is not None:
            why = f"two values {values}: binary, positive class {word!r} (by its name)"
            positive = word
        else:
            positive = min(values, key=lambda v: (p.counts[v], v))
            why = (
                f"two values {values}: binary, positive class {positive!r} (the rarer one, "
                f"{p.counts[positive] / p.present:.0%})"
            )
        return LabelChoice("binary", positive=_typed(positive, p.kind), why=why)
    if n < 2:
        raise ScaffoldError(f"label column {p.name!r} has a single value {values[0]!r}; nothing to learn")
    return LabelChoice("multiclass", classes=[_typed(v, p.kind) for v in values], why=f"{n} values: multiclass")
