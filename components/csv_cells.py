"""The one CSV reader: a cell, a missing value, a column type and a row, as every reader sees them.

Used by ExampleGen (``components.csv_example_gen``), the preflight check
(``pipelines.data.preflight``), the scaffold (``pipelines.init``) and the schema tools
(``pipelines.schema``, through ExampleGen's own conversion), so they agree on what a file holds:

- a leading UTF-8 byte order mark is dropped and the header's names are stripped;
- quoted fields may hold commas, quotes and newlines;
- blank lines are skipped (no row, no error), as tfx_bsl's reader does;
- missing-value tokens (``NA``, ``N/A``, ``null``, ... see ``NA_TOKENS``) are missing cells.

ExampleGen's fast path (``components.arrow_csv``) reads files with pyarrow by these same rules
(``tests/unit/test_csv_examples.py`` checks it byte for byte) and falls back to this reader for a
file pyarrow would read differently.

``cell_kind`` is tfx_bsl's type rule (Python ``int()``, then ``float()``), so a scaffolded
schema matches the types ExampleGen writes. Pure Python: no TensorFlow, no Beam; files are
opened through ``components.filesystem`` (local or ``gs://``).

Example:
    >>> with open_csv("data/churn.csv") as fh:
    ...     header = next(read_rows(fh))
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO

from components import filesystem as fs

__all__ = [
    "KIND_ORDER",
    "NA_TOKENS",
    "cell_kind",
    "is_missing",
    "merge_kinds",
    "numbered_rows",
    "open_csv",
    "read_header",
    "read_rows",
]

# Cells that mean "no value" (pandas' defaults, minus ones that are real words in data such as 'None').
NA_TOKENS = frozenset(
    {
        "",
        "NA",
        "N/A",
        "n/a",
        "na",
        "NaN",
        "nan",
        "-NaN",
        "-nan",
        "NULL",
        "null",
        "Null",
        "#N/A",
        "#NA",
        "<NA>",
        "#VALUE!",
        "?",
    }
)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def is_missing(cell: str) -> bool:
    return cell.strip() in NA_TOKENS


def cell_kind(cell: str) -> str:
    """'missing', 'int', 'float' or 'string', by tfx_bsl's rule (Python ``int()`` then ``float()``)."""
    if is_missing(cell):
        return "missing"
    try:
        return "int" if INT64_MIN <= int(cell) <= INT64_MAX else "string"
    except ValueError:
        pass
    try:
        float(cell)
        return "float"
    except ValueError:
        return "string"


KIND_ORDER = {"missing": 0, "int": 1, "float": 2, "string": 3}


def merge_kinds(a: str, b: str) -> str:
    """The column kind that holds both: missing < int < float < string."""
    return a if KIND_ORDER[a] >= KIND_ORDER[b] else b


@contextmanager
def open_csv(path: str) -> Iterator[IO[str]]:
    """Open a CSV file for :func:`read_rows` (UTF-8, ``newline=''`` so quoted newlines survive)."""
    with fs.open_file(path, "r", encoding="utf-8", newline="") as fh:
        yield fh


def numbered_rows(fh: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """``(line, row)`` for every row of an open text file, header first; ``line`` is the line the
    row ends on (1-based). A leading BOM is removed, header names are stripped, blank lines skipped.

    Raises:
        UnicodeDecodeError: the file is not UTF-8.
        csv.Error: the file is not valid CSV (e.g. a NUL byte).
    """
    reader = csv.reader(fh)
    header = True
    for row in reader:
        if not row:
            continue  # a blank line: tfx_bsl skips it, so does everyone
        if header:
            if row[0].startswith("\ufeff"):
                row[0] = row[0][1:]
            row = [c.strip() for c in row]
            header = False
        yield reader.line_num, row


def read_rows(fh: Iterable[str]) -> Iterator[list[str]]:
    """Rows of an open text file (``newline=''``), header first; see :func:`numbered_rows`."""
    for _, row in numbered_rows(fh):
        yield row


def read_header(path: str) -> list[str]:
    """The column names of a CSV file (BOM removed, names stripped); ``[]`` for an empty file."""
    with open_csv(path) as fh:
        return next(read_rows(fh), [])
