"""One definition of a CSV cell, a missing value and a column type, shared by
ExampleGen (``components.csv_example_gen``), the preflight check and the scaffold
(``pipelines.init``). Pure Python: no TensorFlow, no Beam.

``cell_kind`` is tfx_bsl's type rule (Python ``int()``, then ``float()``), so a
scaffolded schema matches the types ExampleGen writes.
"""

from __future__ import annotations

import csv
import io
from typing import Iterator

# Cells that mean "no value" (pandas' defaults, minus ones that are real words in data such as 'None').
NA_TOKENS = frozenset({"", "NA", "N/A", "n/a", "na", "NaN", "nan", "-NaN", "-nan", "NULL", "null", "Null",
                       "#N/A", "#NA", "<NA>", "#VALUE!", "?"})

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


def read_rows(fh: io.TextIOBase) -> Iterator[list[str]]:
    """Rows of an open text file (``newline=''``), header included; a leading BOM is removed."""
    first = True
    for row in csv.reader(fh):
        if first:
            if row and row[0].startswith("\ufeff"):
                row[0] = row[0][1:]
            row = [c.strip() for c in row]
            first = False
        yield row
