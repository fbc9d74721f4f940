"""CSV files as chunks of typed columns for batch inference: pyarrow per chunk, Python per row only when needed.

    file ──lines──> chunk (records, their line numbers) ──pyarrow.csv, vectorised casts──> Chunk
                                                   └─ a cell pyarrow cannot take ──> row by row: bad rows named

A chunk is parsed as a whole by pyarrow (every column read as text, then cast to the signature's
dtypes); any chunk it cannot parse cleanly (a wrong cell count, a cell that is not its type, an
empty integer, a record over several lines) is parsed again row by row with :func:`parse_row`,
which says why each bad row is bad. Both paths give the same values: numbers as Python's
``float``/``int`` read them (an empty number is NaN, the model's "missing"), strings stripped.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from components import filesystem as fs

__all__ = ["Chunk", "parse_chunk", "parse_row", "read_chunks"]

NUMERIC = {"float32": "f4", "float64": "f8", "int64": "i8", "int32": "i4"}
INT32 = (-(2**31), 2**31 - 1)


@dataclass
class Chunk:
    """Rows of one file ready for the signature: ``inputs`` (numpy arrays by input name; strings as
    UTF-8 bytes), the
    ``keys`` columns kept beside the predictions (raw text), each row's ``line`` and raw ``text``."""

    file: str
    lines: list[int]
    text: list[str]
    keys: dict[str, list[str]]
    inputs: dict[str, Any]

    def __len__(self) -> int:
        return len(self.lines)


def _ends_in_quotes(line: str, inside: bool) -> bool:
    """Whether a quoted cell is still open at the end of ``line`` (``inside``: open at its start).

    As Python's ``csv`` reads: a quote opens a cell only at the cell's start; inside, ``""`` is a quote."""
    at_start, i, n = not inside, 0, len(line)
    while i < n:
        c = line[i]
        if inside:
            if c == '"':
                if i + 1 < n and line[i + 1] == '"':
                    i += 1
                else:
                    inside = False
        elif c == '"' and at_start:
            inside = True
        at_start = not inside and c == ","
        i += 1
    return inside


def read_chunks(file: str, size: int) -> Iterator[tuple[list[str], str, list[int], list[str]]]:
    """(header, file, line numbers, records) of up to ``size`` records at a time; streamed.

    A record is one line, or several when a quoted cell holds a line break (its number: its last line)."""
    with fs.open_file(file) as handle:
        header = next(csv.reader([handle.readline()]), [])
        numbers: list[int] = []
        records: list[str] = []
        number, pending = 1, None
        for line in handle:
            number += 1
            line = line.rstrip("\r\n")
            text = line if pending is None else f"{pending}\n{line}"
            # An even count of quotes on a line of its own closes what it opens (the common case,
            # at C speed); otherwise the quotes are read as csv reads them.
            if (pending is not None or line.count('"') % 2) and _ends_in_quotes(line, pending is not None):
                pending = text  # inside a quoted cell: the record goes on
                continue
            pending = None
            numbers.append(number)
            records.append(text)
            if len(records) >= size:
                yield header, file, numbers, records
                numbers, records = [], []
        if pending is not None:
            numbers.append(number)
            records.append(pending)
        if records:
            yield header, file, numbers, records


def parse_row(header: Sequence[str], cells: Sequence[str], dtypes: dict[str, str]) -> dict[str, Any]:
    """One CSV line as the signature's typed values.

    Raises:
        ValueError: wrong number of cells, or a cell that is not its column's type (the message names it).
    """
    if len(cells) != len(header):
        raise ValueError(f"{len(cells)} cells, the header has {len(header)}")
    row = dict(zip(header, cells, strict=True))
    out: dict[str, Any] = {}
    for name, dtype in dtypes.items():
        if name not in row:
            raise ValueError(f"no column {name!r}")
        cell = row[name].strip()
        if dtype == "string":
            out[name] = cell
        elif dtype.startswith("float"):
            try:
                out[name] = float(cell) if cell else float("nan")  # NaN: the model's "missing"
            except ValueError as exc:
                raise ValueError(f"{name}: {cell!r} is not a number") from exc
        else:
            try:
                out[name] = int(cell)
            except ValueError as exc:
                raise ValueError(f"{name}: {cell!r} is not an integer") from exc
            if dtype == "int32" and not INT32[0] <= out[name] <= INT32[1]:
                raise ValueError(f"{name}: {cell!r} is outside int32")
    return out


def bad_row(file: str, line: int, reason: str, text: str) -> dict[str, Any]:
    return {"file": file, "line": line, "reason": reason, "row": text}


def _columnar(header: list[str], records: list[str], dtypes: dict[str, str], keys: list[str]) -> Any:
    """(inputs, keys) of the whole chunk by pyarrow, or None when any record needs the row-by-row path."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    if any(name not in header for name in dtypes):
        return None
    try:
        # The streaming reader: read_csv's interrupt handler scans the whole heap (gc.get_referrers)
        # on Python 3.10, ~0.2 s a call once TensorFlow is loaded.
        table = pacsv.open_csv(
            pa.BufferReader("\n".join(records).encode()),
            read_options=pacsv.ReadOptions(column_names=header, use_threads=False, block_size=1 << 22),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        ).read_all()
        if table.num_rows != len(records):
            return None
        inputs: dict[str, Any] = {}
        for name, dtype in dtypes.items():
            cells = pc.utf8_trim_whitespace(table[name])
            if dtype == "string":  # UTF-8 bytes: TensorFlow takes them 5x faster than str
                inputs[name] = pc.cast(cells, pa.binary()).to_numpy()
            elif dtype.startswith("float"):  # empty: NaN, as float("nan") in parse_row
                blank = pc.equal(cells, "")
                number = pc.cast(pc.if_else(blank, pa.scalar(None, pa.string()), cells), pa.float64())
                inputs[name] = pc.fill_null(number, np.nan).to_numpy().astype(NUMERIC.get(dtype, dtype))
            else:  # only plain decimal digits (pyarrow also takes hex); int32 only within its range
                if not pc.all(pc.match_substring_regex(cells, r"^[+-]?[0-9]+$")).as_py():
                    return None
                ints = pc.cast(cells, pa.int64()).to_numpy()
                if dtype == "int32" and len(ints) and not (INT32[0] <= ints.min() and ints.max() <= INT32[1]):
                    return None
                inputs[name] = ints.astype(NUMERIC.get(dtype, dtype))
    except (pa.ArrowInvalid, ValueError):
        return None
    missing = [""] * len(records)
    return inputs, {k: table[k].to_pylist() if k in header else missing for k in keys}


def parse_chunk(
    element: tuple[list[str], str, list[int], list[str]], dtypes: dict[str, str], keys: list[str]
) -> tuple[Chunk | None, list[dict[str, Any]]]:
    """A chunk of records as a :class:`Chunk` of its good rows, and its bad rows with their reasons."""
    import numpy as np

    header, file, numbers, records = element
    done = _columnar(header, records, dtypes, keys)
    if done is not None:
        inputs, key_columns = done
        return Chunk(file, numbers, records, key_columns, inputs), []
    where = [header.index(k) if k in header else None for k in keys]
    good: list[tuple[int, str, dict[str, Any], list[str]]] = []
    bad = []
    for number, text in zip(numbers, records, strict=True):
        try:
            cells = next(csv.reader([text]), [])
        except csv.Error as exc:  # e.g. a line break outside a quoted cell
            bad.append(bad_row(file, number, f"not one CSV row: {exc}", text))
            continue
        try:
            good.append((number, text, parse_row(header, cells, dtypes), cells))
        except ValueError as exc:
            bad.append(bad_row(file, number, str(exc), ",".join(cells)))
    if not good:
        return None, bad
    inputs = {
        name: np.array([g[2][name].encode() for g in good], dtype=object)
        if dtype == "string"
        else np.array([g[2][name] for g in good], dtype=NUMERIC.get(dtype, dtype))
        for name, dtype in dtypes.items()
    }
    key_columns = {k: [g[3][w] if w is not None else "" for g in good] for k, w in zip(keys, where, strict=True)}
    chunk = Chunk(file, [g[0] for g in good], [",".join(g[3]) for g in good], key_columns, inputs)
    return chunk, bad
