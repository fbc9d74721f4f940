"""The Arrow ExampleGen path (components.arrow_csv) against TFX's Python path, byte for byte.

The reference is the ExampleGen as it was: every row read by ``components.csv_cells``, the columns typed
by tfx_bsl's ``ColumnTypeInferrer`` over all rows of all files, rows turned into ``tf.Example`` by TFX's
``_ParsedCsvToTfExample``. Its examples are compared serialized with ``deterministic=True`` (features
sorted by name; protobuf's plain serialization writes the map in hash order), which is also the form
ExampleGen hashes to choose the split, and the form the new path emits.
"""

from __future__ import annotations

import csv

import pytest

pytest.importorskip("tfx")

from components import arrow_csv
from components import csv_example_gen as gen

BASIC = (
    "\ufeffid, age ,score,name,note,empty_col,plus,Größe,big\r\n"
    "1,34,0.5,Ann,plain,,+5,1.5,1\n"
    "\n"
    '2,NA,1e3,"Smith, J","she said ""hi""",NA,7,-0.5,12\n'
    '3, null ,-0.5,Zoë,"two\nlines",,1_000,.5,-9223372036854775808\n'
    "\r\n"
    "4,,5.,N/A,,null, 8 ,1E+03,9223372036854775807\n"
    "5,-12,-.5,?,\x1cNA,,-3,inf,0\n"
    '6,0,0,"",#N/A,  ,  ,\u00a0NA\u00a0,007\n'
    "7,12345678901234567,3.4028235e38,東京,x,,0,1e-50,5\n"
    "8,1,1e40,b,n,,1,-1e40,2\n"
)


def reference(files: list[str]) -> list[bytes]:
    """The examples the ExampleGen before the Arrow path wrote (deterministic serialization)."""
    from tfx.components.example_gen.csv_example_gen.executor import _ParsedCsvToTfExample
    from tfx_bsl.coders import csv_decoder

    columns = gen.split_columns(files)
    inferrer = csv_decoder.ColumnTypeInferrer([c.encode("utf-8") for c in columns], skip_blank_lines=True)
    acc = inferrer.create_accumulator()
    cells = [row for path in files for row in gen.file_cells(path)]
    for row in cells:
        acc = inferrer.add_input(acc, row)
    infos = inferrer.extract_output(acc)
    dofn = _ParsedCsvToTfExample()
    return [ex.SerializeToString(deterministic=True) for row in cells for ex in dofn.process(row, infos)]


def arrow_path(files: list[str]) -> list[bytes]:
    columns = gen.split_columns(files)
    assert all(arrow_csv.scan_file(path, len(columns))[2] for path in files), "the corpus must take the Arrow path"
    return convert(files)


def convert(files: list[str]) -> list[bytes]:
    """What ``CsvToExamples`` does, without Beam: header check, scan, global types, encoding."""
    columns = gen.split_columns(files)
    scans = [gen.scan(path, columns) for path in files]
    merge = gen._MergeKinds(columns)
    kinds = merge.extract_output(merge.merge_accumulators([s[1] for s in scans]))
    return [ex for s in scans for ex in gen.file_examples(s, columns, kinds)]


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return str(path)


def test_corpus_is_byte_for_byte_the_python_path(tmp_path):
    files = [write(tmp_path, "basic.csv", BASIC)]
    expected = reference(files)
    assert len(expected) == 8
    assert arrow_path(files) == expected


def test_types_are_decided_over_all_files(tmp_path):
    header = "a,b,c,d\n"
    files = [
        write(tmp_path, "1.csv", header + "1,2,x,NA\n3,,4,\n"),
        write(tmp_path, "2.csv", header + "1.5,7,5,NA\n12345678901234567890123,8,6,\n"),
    ]
    assert arrow_csv.scan_file(files[0], 4)[1] == [arrow_csv.INT, arrow_csv.INT, arrow_csv.STRING, arrow_csv.UNKNOWN]
    assert arrow_path(files) == reference(files)


def test_many_rows_cross_batches(tmp_path, monkeypatch):
    import random

    rng = random.Random(3)
    rows = ["x,y,z"]
    for i in range(3000):
        y = rng.choice(
            [f"{rng.uniform(-1e6, 1e6):.{rng.randint(0, 17)}g}", "NA", "", str(rng.randint(-(10**12), 10**12))]
        )
        z = rng.choice(["a", "b,c", "d\ne", "é"])
        rows.append(f'{i},{y},"{z}"')
    monkeypatch.setattr(arrow_csv, "BLOCK_SIZE", 4096)  # several record batches per file
    files = [write(tmp_path, "many.csv", "\n".join(rows) + "\n")]
    assert arrow_path(files) == reference(files)


@pytest.mark.parametrize(
    "text",
    [
        '\ufeff"a",b\n1,2\n',  # a quoted header after a BOM: Python keeps the quotes
        "a,b\n1,\x002\n",  # a NUL byte: Python's csv module refuses the file
        "a,a\n1,2\n",  # a repeated column name
    ],
)
def test_files_arrow_reads_differently_take_the_python_path(tmp_path, text):
    path = write(tmp_path, "odd.csv", text)
    assert arrow_csv.scan_file(path, 2)[2] is False
    if "\x00" not in text:  # the NUL file fails in both paths (next test)
        assert convert([path]) == reference([path])


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("a,b\n1,2\n3\n", ValueError, r"odd.csv: a row has 1 fields, the header has 2: \['3'\]"),
        ("a,b\n1,\x002\n", csv.Error, "NUL"),
        (b"a,b\n1,\xff\n", UnicodeDecodeError, "utf-8"),
    ],
)
def test_bad_files_fail_with_the_python_paths_error(tmp_path, text, error, match):
    path = tmp_path / "odd.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    with pytest.raises(error, match=match):
        convert([str(path)])


def test_python_whitespace_is_the_set_str_strip_removes():
    assert set(arrow_csv.PY_WHITESPACE) == {chr(i) for i in range(0x110000) if chr(i).isspace()}


def test_beam_transform_writes_the_same_examples(tmp_path):
    import apache_beam as beam
    from apache_beam.testing.util import assert_that, equal_to

    header = "a,b,c\n"
    files = [write(tmp_path, "1.csv", header + "1,x,NA\n2,y,3\n"), write(tmp_path, "2.csv", header + "3,z,4.5\n")]
    with beam.Pipeline() as p:
        assert_that(p | gen.CsvToExamples(files), equal_to(reference(files)))
