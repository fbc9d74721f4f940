"""``pipelines.predict``'s parsing of rows and its edges (exit 2 / 1, one line); the Beam job is in tests/e2e."""

from __future__ import annotations

from pathlib import Path

import pytest

from components import serving_layout as sl
from pipelines.cli import main_guard
from pipelines.config import load_config
from pipelines.errors import ServingError
from pipelines.monitoring.batch import csv_files, parse_row
from pipelines.predict import main, resolve_version
from tests.unit.test_push_cli import write_project
from tests.unit.test_serving_layout import fake_model

DTYPES = {"age": "int64", "income": "float32", "city": "string"}
HEADER = ["age", "income", "city", "id"]


def test_parse_row_types_and_missing_numbers() -> None:
    row = parse_row(HEADER, ["31", "", "Paris", "x1"], DTYPES)
    assert row["age"] == 31 and row["city"] == "Paris" and row["income"] != row["income"]  # NaN: missing


@pytest.mark.parametrize(
    ("cells", "match"),
    [
        (["31", "1.5", "Paris"], "3 cells, the header has 4"),
        (["thirty", "1.5", "Paris", "x"], "age: 'thirty' is not an integer"),
        (["31", "lots", "Paris", "x"], "income: 'lots' is not a number"),
        (["", "1.5", "Paris", "x"], "age: '' is not an integer"),
    ],
)
def test_bad_rows_say_why(cells: list[str], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_row(HEADER, cells, DTYPES)


def test_csv_files(tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_text("x\n")
    (tmp_path / "a.csv").write_text("x\n")
    (tmp_path / "notes.txt").write_text("x\n")
    assert [Path(p).name for p in csv_files(str(tmp_path))] == ["a.csv", "b.csv"]
    assert csv_files(str(tmp_path / "a.csv")) == [str(tmp_path / "a.csv")]
    assert csv_files(str(tmp_path / "none")) == []


def test_version_by_label_or_number(tmp_path: Path) -> None:
    config = load_config(str(write_project(tmp_path)))
    serving = tmp_path / "serving"
    for v in (5, 6):
        sl.publish_version(fake_model(tmp_path / f"m{v}"), serving, "ad_click", version=v)
    sl.write_models_config(serving, pins={"ad_click": 5})
    assert resolve_version(config, None, None)[0] == 5
    assert resolve_version(config, 6, None) == (6, str(serving / "ad_click" / "6"))
    with pytest.raises(ServingError, match="no version labelled 'canary'"):
        resolve_version(config, None, "canary")
    with pytest.raises(ServingError, match="version 9 of model 'ad_click' does not exist"):
        resolve_version(config, 9, None)


def test_no_csv_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_project(tmp_path)
    argv = ["--config", str(config), "--data", str(tmp_path / "nothing"), "--out", str(tmp_path / "out")]
    assert main_guard(lambda: main(argv)) == 2
    assert "no CSV file there" in capsys.readouterr().err
