"""CSV chunks for batch inference: pyarrow's columns equal the row-by-row parse; bad rows still say why."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from pipelines.monitoring import chunks
from pipelines.monitoring.chunks import parse_chunk, parse_row, read_chunks

HEADER = ["id", "age", "income", "city", "when"]
DTYPES = {"age": "int64", "income": "float32", "city": "string", "when": "string"}
GOOD = [
    "a1,31,1200.5,Paris,2016-01-01 00:00:00",
    'a2, 40 ,,"Saint-Denis, Réunion",2016-01-02 10:00:00',
    "a3,-7,1e3,  Lyon ,",
    "a4,0,-0.25,,x",
]


def _by_rows(records: list[str]) -> dict[str, list]:
    import csv

    rows = [parse_row(HEADER, cells, DTYPES) for cells in csv.reader(records)]
    return {name: [r[name] for r in rows] for name in DTYPES}


def _same(inputs: dict, expected: dict) -> None:
    for name, values in expected.items():
        got = inputs[name].tolist()
        if DTYPES[name] == "float32":
            np.testing.assert_array_equal(inputs[name], np.array(values, dtype="f4"))
        elif DTYPES[name] == "string":
            assert got == [v.encode() for v in values], name
        else:
            assert got == values, name


def test_a_clean_chunk_is_parsed_by_pyarrow_as_parse_row_would(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _by_rows(GOOD)
    monkeypatch.setattr(chunks, "parse_row", lambda *a: pytest.fail("a clean chunk went row by row"))
    chunk, bad = parse_chunk((HEADER, "f.csv", [2, 3, 4, 5], GOOD), DTYPES, ["id", "missing"])
    assert not bad and chunk is not None
    _same(chunk.inputs, expected)
    assert math.isnan(chunk.inputs["income"][1])  # an empty number is NaN, the model's "missing"
    assert chunk.inputs["city"].tolist() == [b"Paris", "Saint-Denis, Réunion".encode(), b"Lyon", b""]  # stripped
    assert chunk.keys == {"id": ["a1", "a2", "a3", "a4"], "missing": ["", "", "", ""]}
    assert chunk.lines == [2, 3, 4, 5] and chunk.inputs["age"].dtype == np.int64


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ("b1,12,3.5,Paris", "4 cells, the header has 5"),
        ("b1,,3.5,Paris,x", "age: '' is not an integer"),
        ("b1,1.5,3.5,Paris,x", "age: '1.5' is not an integer"),
        ("b1,3,lots,Paris,x", "income: 'lots' is not a number"),
        ("", "0 cells, the header has 5"),
    ],
)
def test_a_chunk_with_a_bad_row_keeps_its_good_rows_and_names_the_bad_one(record: str, reason: str) -> None:
    records = [*GOOD[:2], record, *GOOD[2:]]
    chunk, bad = parse_chunk((HEADER, "f.csv", [2, 3, 4, 5, 6], records), DTYPES, ["id"])
    assert bad == [{"file": "f.csv", "line": 4, "reason": reason, "row": record}]
    assert chunk is not None and chunk.lines == [2, 3, 5, 6] and chunk.keys["id"] == ["a1", "a2", "a3", "a4"]
    _same(chunk.inputs, _by_rows(GOOD))


def test_read_chunks_streams_records_with_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    lines = [",".join(HEADER), *GOOD, 'a5,5,1.0,"two\nlines",x', "a6,6,2.0,Nice,y"]
    path.write_text("\n".join(lines) + "\n")
    got = list(read_chunks(str(path), 3))
    assert [c[2] for c in got] == [[2, 3, 4], [5, 7, 8]]  # the two-line record: its last line, as csv's line_num
    assert all(c[0] == HEADER and c[1] == str(path) for c in got)
    chunk, bad = parse_chunk(got[1], DTYPES, ["id"])
    assert not bad and chunk is not None and chunk.inputs["city"].tolist() == [b"", b"two\nlines", b"Nice"]


def test_a_quote_inside_an_unquoted_cell_is_a_plain_character(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    lines = [",".join(HEADER), 'a1,31,1.0,12" screen,x', "a2,32,2.0,cable,y", 'a3,33,3.0,"quoted, ""text""",z']
    path.write_text("\n".join(lines) + "\n")
    [(header, file, numbers, records)] = list(read_chunks(str(path), 10))
    assert numbers == [2, 3, 4] and records == lines[1:]  # one record per line, as csv reads them
    chunk, bad = parse_chunk((header, file, numbers, records), DTYPES, ["id"])
    assert not bad and chunk is not None
    assert chunk.inputs["city"].tolist() == [b'12" screen', b"cable", b'quoted, "text"']


def test_a_record_csv_cannot_read_is_a_bad_row_not_a_crash() -> None:
    records = ["a1,31,1.0,Paris,x", 'a2,32,2.0,x"y\nz,w']  # a line break outside a quoted cell
    chunk, bad = parse_chunk((HEADER, "f.csv", [2, 4], records), DTYPES, ["id"])
    assert chunk is not None and chunk.keys["id"] == ["a1"]
    assert [(b["line"], b["reason"].split(":")[0]) for b in bad] == [(4, "not one CSV row")]


@pytest.mark.parametrize(
    ("cell", "dtype", "value"), [("0x10", "int64", None), ("1_000", "int64", 1000), ("3000000000", "int32", None)]
)
def test_integers_get_the_row_by_row_verdict(cell: str, dtype: str, value: int | None) -> None:
    records = [f"a1,{cell},1.0,Paris,x", "a2,5,2.0,Lyon,y"]
    chunk, bad = parse_chunk((HEADER, "f.csv", [2, 3], records), {**DTYPES, "age": dtype}, ["id"])
    assert chunk is not None
    if value is None:  # Python's int() or int32 rejects it: a bad row with the reason, as row by row
        assert [b["line"] for b in bad] == [2] and chunk.keys["id"] == ["a2"]
    else:
        assert not bad and chunk.inputs["age"].tolist() == [value, 5]
