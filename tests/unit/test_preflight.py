"""Reading the input before TFX starts: span resolution and the preflight checks of each CSV file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from components.csv_cells import read_header
from pipelines.config import load_config
from pipelines.data.preflight import check_file, expected_columns, first_bad_byte, preflight
from pipelines.data.sources import resolve, tfx_pattern
from pipelines.errors import ConfigError, PreflightError

COLS = ["a", "b", "y"]


def test_spans_latest_and_rolling(tmp_path: Path) -> None:
    for span in (1, 2, 10):
        (tmp_path / f"span-{span}").mkdir()
        (tmp_path / f"span-{span}" / "part.csv").write_text("a\n1\n")
    (tmp_path / "span-x").mkdir()
    (tmp_path / "span-x" / "part.csv").write_text("a\n1\n")
    latest = resolve(str(tmp_path), "span-{SPAN}/*.csv")
    assert latest.spans == [10] and latest.files == [str(tmp_path / "span-10" / "part.csv")]
    assert resolve(str(tmp_path), "span-{SPAN}/*.csv", rolling_spans=2).spans == [2, 10]
    assert resolve(str(tmp_path), "*.csv").files == []


def test_rolling_spans_are_named_for_tfx_which_reads_one_span(tmp_path: Path) -> None:
    """TFX's ExampleGen refuses RollingRange over 2+ spans: the newest N are handed over by name."""
    for span in ("007", "008", "009"):
        (tmp_path / f"span-{span}").mkdir()
        (tmp_path / f"span-{span}" / "part.csv").write_text("a\n1\n")
    assert tfx_pattern(str(tmp_path), "span-{SPAN}/*.csv") == "span-{SPAN}/*.csv"  # TFX picks the newest
    two = tfx_pattern(str(tmp_path), "span-{SPAN}/*.csv", 2)
    assert two == "span-00[89]/*.csv"
    assert sorted(p.parent.name for p in tmp_path.glob(two)) == ["span-008", "span-009"]
    for day in ("2026-01-31", "2026-02-01"):
        (tmp_path / f"{day}.csv").write_text("a\n1\n")
    assert tfx_pattern(str(tmp_path), "{YYYY}-{MM}-{DD}.csv", 2) == "2026-0[12]-[03]1.csv"
    widths = tmp_path / "widths"  # span-9 and span-10: no glob of one width names both
    for span in (8, 9, 10):
        (widths / f"span-{span}").mkdir(parents=True)
        (widths / f"span-{span}" / "part.csv").write_text("a\n1\n")
    with pytest.raises(ValueError, match=r"reads exactly the spans span-9, span-10 of"):
        tfx_pattern(str(widths), "span-{SPAN}/*.csv", 2)


def test_date_spans(tmp_path: Path) -> None:
    for day in ("2026-01-31", "2026-02-01"):
        (tmp_path / f"{day}.csv").write_text("a\n1\n")
    found = resolve(str(tmp_path), "{YYYY}-{MM}-{DD}.csv")
    assert found.files == [str(tmp_path / "2026-02-01.csv")]


def write(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    ("data", "kinds", "needle"),
    [
        (b"a,b,y\n1,2,0\n", [], ""),
        (b"\xef\xbb\xbfa,b,y\n1,2,0\n", [], ""),  # a UTF-8 BOM is fine
        (b'a,b,y\n1,"x, with comma\nand newline",0\n', [], ""),  # quoted comma and newline
        (b"", ["EMPTY_FILE"], "is empty"),
        (b"a,b,y\n", ["NO_DATA_ROWS"], "no data rows"),
        (b"a,y\n1,0\n", ["SCHEMA_MISSING_COLUMN"], "header lacks column 'b'"),
        (b"a,b,y,z\n1,2,0,9\n", ["SCHEMA_NEW_COLUMN"], "column 'z' is not in"),
        (b"a,b,y\n1,2,0\n1,2\n1,2,0,4\n", ["WRONG_FIELD_COUNT"], "line 3 has 2 fields, the header has 3; line 4 has 4"),
        (b"a,b,y\n1,2,0\n1,Z\xfcrich,0\n", ["INVALID_UTF8"], "byte 0xfc on line 3"),
    ],
)
def test_check_file(tmp_path: Path, data: bytes, kinds: list[str], needle: str) -> None:
    problems = check_file(write(tmp_path, data), COLS, "the schema")
    assert [p.kind for p in problems] == kinds
    assert needle in " ".join(p.description for p in problems)
    assert all(p.fix for p in problems)


def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,b,y\n1,2,0\n")
    os.chmod(path, 0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as a user who can read any file (root)")
        assert [p.kind for p in check_file(path, COLS, "x")] == ["UNREADABLE"]
    finally:
        os.chmod(path, 0o644)


def test_first_bad_byte_across_chunk_boundary(tmp_path: Path) -> None:
    good = ("é" * 700_000).encode()  # 1.4 MB of two-byte characters: a boundary cuts one
    path = write(tmp_path, b"a\n" + good + b"\n\xff\n")
    assert first_bad_byte(path) == (3, 0xFF)


@pytest.mark.parametrize(
    ("data", "kinds", "needle"),
    [
        (b"a,b,y\n1,2,0\n\n3,4,1\n\r\n", [], ""),  # blank lines are skipped, as ExampleGen skips them
        (b"\n\na,b,y\n1,2,0\n", [], ""),  # blank lines before the header too
        (b"a,b,y\n\n\n", ["NO_DATA_ROWS"], "no data rows"),  # blank lines are no data
        (b"a,b,y\n\n1,2\n", ["WRONG_FIELD_COUNT"], "line 3 has 2 fields, the header has 3"),  # numbering kept
    ],
)
def test_blank_lines_are_skipped(tmp_path: Path, data: bytes, kinds: list[str], needle: str) -> None:
    problems = check_file(write(tmp_path, data), COLS, "the schema")
    assert [p.kind for p in problems] == kinds
    assert needle in " ".join(p.description for p in problems)


def test_preflight_and_scaffold_read_the_same_rows(tmp_path: Path) -> None:
    """One reader: a BOM, a quoted newline, NA tokens and blank lines read the same everywhere."""
    from pipelines.data.scaffold import read_sample

    path = write(tmp_path, b'\xef\xbb\xbfa,b,y\r\n1,"x,\r\ny",0\r\n\r\nNA,z,1\r\n\r\n')
    assert check_file(path, COLS, "the schema") == []
    assert read_header(path) == COLS
    header, profiles, rows = read_sample([path], 100)
    assert header == COLS and rows == 2
    assert profiles["a"].missing == 1 and profiles["a"].kind == "int"
    assert set(profiles["b"].counts) == {"x,\r\ny", "z"}


def _config(tmp_path: Path, schema: str | None) -> object:
    repo = Path(__file__).resolve().parents[2]
    overrides = [f"data.source={tmp_path / 'data'}"]
    if schema is not None:
        (tmp_path / "schema.pbtxt").write_text(schema)
        overrides.append(f"schema.path={tmp_path / 'schema.pbtxt'}")
    return load_config(repo / "configs" / "ad_click.yaml", overrides)


def test_expected_columns_come_from_the_schema_proto(tmp_path: Path) -> None:
    """A valid schema whose features do not start with `name:` (a regex read it wrong)."""
    schema = '# comment\nfeature {\n  type: INT\n  name: "age"\n}\nfeature { type: BYTES name: "clicked_on_ad" }\n'
    columns, origin = expected_columns(_config(tmp_path, schema))
    assert columns == ["age", "clicked_on_ad"] and origin.startswith("schema ")


def test_expected_columns_name_a_broken_schema(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"schema\.path: .*schema\.pbtxt is not a TFDV schema"):
        expected_columns(_config(tmp_path, "feature { nme: 'x' }\n"))


def test_preflight_returns_the_files_or_names_every_problem(tmp_path: Path) -> None:
    config = _config(tmp_path, 'feature { name: "a" type: INT }\nfeature { name: "y" type: INT }\n')
    (tmp_path / "data").mkdir()
    with pytest.raises(PreflightError, match=r"no files match data\.pattern") as missing:
        preflight(config)
    assert [p.kind for p in missing.value.problems] == ["NO_INPUT_FILES"]
    (tmp_path / "data" / "1.csv").write_text("a,y\n1,0\n\n2,1\n")
    assert preflight(config) == [str(tmp_path / "data" / "1.csv")]
    (tmp_path / "data" / "2.csv").write_text("a\n1\n")
    with pytest.raises(PreflightError, match=r"2\.csv: header lacks column 'y'") as bad:
        preflight(config)
    assert [(Path(p.file).name, p.kind) for p in bad.value.problems] == [("2.csv", "SCHEMA_MISSING_COLUMN")]
