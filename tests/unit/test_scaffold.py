"""Type, transform and task inference (pipelines.data.scaffold) and the init CLI, on tricky columns."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from components.csv_cells import cell_kind, is_missing, read_rows
from pipelines.config import load_config
from pipelines.data.scaffold import ColumnProfile, ScaffoldError, choose_label, choose_transform

REPO = Path(__file__).resolve().parents[2]


def col(name: str, cells: list[str]) -> ColumnProfile:
    p = ColumnProfile(name)
    for c in cells:
        p.add(c)
    return p


def transform_of(name: str, cells: list[str]) -> tuple[str, str]:
    choice = choose_transform(col(name, cells))
    return choice.transform["transform"], choice.why


@pytest.mark.parametrize("cell, kind", [
    ("12", "int"), ("-3", "int"), ("007", "int"), ("1.5", "float"), ("1e3", "float"), ("NA", "missing"),
    ("", "missing"), (" null ", "missing"), ("N/A", "missing"), ("1,234", "string"), ("$12", "string"),
    ("99999999999999999999", "string"),  # beyond int64: tfx_bsl makes it a string too
])
def test_cell_kind_follows_examplegen(cell: str, kind: str) -> None:
    assert cell_kind(cell) == kind


def test_read_rows_drops_the_bom_and_keeps_quoted_newlines() -> None:
    text = '\ufeffa,b\n1,"x, ""y""\nz"\n'
    rows = list(read_rows(io.StringIO(text, newline="")))
    assert rows == [["a", "b"], ["1", 'x, "y"\nz']]
    assert is_missing("NA") and not is_missing("None")


def test_ints_with_na_stay_numeric_with_an_indicator() -> None:
    kind, why = transform_of("tenure", [str(i) for i in range(1, 60)] + ["NA", "", "N/A"])
    assert kind == "zscore" and "int" in why and "is-missing indicator" in why


def test_numeric_strings_with_separators_are_categorical_and_say_so() -> None:
    kind, why = transform_of("amount", ["1,234", "2,500", "3,999", "12"] * 5)
    assert kind == "vocabulary" and "looks numeric" in why


def test_identifiers_are_dropped() -> None:
    assert transform_of("customer", [f"C{i:05d}" for i in range(100)])[0] == "drop"  # unique strings
    assert transform_of("user_id", [str(i) for i in range(100)])[0] == "drop"  # unique ints named like an id
    assert transform_of("userId", [str(i) for i in range(100)])[0] == "drop"
    assert transform_of("income", [str(1000 + 7 * i) for i in range(100)])[0] == "zscore"  # unique, not an id


def test_constant_and_empty_columns_are_dropped_with_the_reason() -> None:
    kind, why = transform_of("country", ["US"] * 50)
    assert kind == "drop" and "constant" in why and "'US'" in why
    kind, why = transform_of("unused", ["", "NA"] * 10)
    assert kind == "drop" and "empty" in why


def test_timestamps_and_dates() -> None:
    choice = choose_transform(col("t", [f"2023-0{m}-1{d} 1{d}:30:00" for m in range(1, 10) for d in range(10)]))
    assert choice.transform == {"transform": "timestamp", "parts": ["hour", "day_of_week", "month"]}
    choice = choose_transform(col("d", [f"2023-0{m}-1{d}" for m in range(1, 10) for d in range(10)]))
    assert choice.transform == {"transform": "timestamp", "parts": ["day_of_week", "month"]}


def test_heavy_right_tail_is_logged() -> None:
    cells = [str(round(1.1 ** i, 2)) for i in range(100)]  # 1 .. 12,527: a long right tail
    assert transform_of("spend", cells)[0] == "log"
    assert transform_of("temp", [str(v) for v in range(-20, 40)])[0] == "zscore"


def test_cardinality_picks_vocabulary_or_hashing() -> None:
    assert transform_of("rooms", [str(i % 6) for i in range(100)])[0] == "vocabulary"  # low-cardinality int
    assert transform_of("zip", ["01234", "02345", "12345"] * 10)[0] == "vocabulary"  # codes with leading zeros
    kind, why = transform_of("city", [f"city {i % 5000}" for i in range(20000)])
    assert kind == "hash" and "5000 distinct" in why
    assert choose_transform(col("city", [f"city {i % 5000}" for i in range(20000)])).transform["hash_buckets"] == 4096


@pytest.mark.parametrize("cells, task, positive, classes", [
    (["Yes", "No", "No"] * 10, "binary", "Yes", None),
    (["0", "1", "1"] * 10, "binary", None, None),
    (["true", "false"] * 10, "binary", "true", None),
    (["late", "ontime", "ontime"] * 10, "binary", "late", None),  # no known word: the rarer value
    (["cat", "dog", "bird"] * 10, "multiclass", None, ["bird", "cat", "dog"]),
    (["3", "1", "2", "10"] * 10, "multiclass", None, [1, 2, 3, 10]),
    ([str(v / 3) for v in range(30)], "regression", None, None),
    ([str(v * 1000) for v in range(40)], "regression", None, None),  # many integers
])
def test_label_task_inference(cells: list[str], task: str, positive: object, classes: object) -> None:
    choice = choose_label(col("y", cells))
    assert (choice.task, choice.positive, choice.classes) == (task, positive, classes)
    assert choice.why


def test_label_errors_say_what_to_do() -> None:
    with pytest.raises(ScaffoldError, match="too many classes"):
        choose_label(col("y", [f"v{i}" for i in range(200)]))
    with pytest.raises(ScaffoldError, match="regression needs numbers"):
        choose_label(col("y", ["a", "b", "c"]), "regression")
    with pytest.raises(ScaffoldError, match="pass --task multiclass"):
        choose_label(col("y", ["a", "b", "c"]), "binary")
    with pytest.raises(ScaffoldError, match="empty"):
        choose_label(col("y", ["", "NA"]))


def _init(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipelines.init", *args], cwd=tmp, capture_output=True, text=True,
                          timeout=60, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})


def test_init_writes_a_config_that_validates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.data.generators.tabular import write

    monkeypatch.chdir(tmp_path)  # the config's relative paths resolve against the working directory
    write("species", str(tmp_path / "data"), 300, seed=1)
    proc = _init(tmp_path, "--data", "data", "--label", "species", "--name", "birds")
    assert proc.returncode == 0, proc.stderr
    cfg = load_config(tmp_path / "configs" / "birds.yaml", [])
    assert cfg.label.task == "multiclass" and cfg.label.classes == ["heron", "ibis", "stork"]
    assert cfg.features["ring_id"].transform == "drop"
    assert cfg.evaluation.thresholds["accuracy"].lower_bound == pytest.approx(1 / 3 + 0.05, abs=1e-3)
    schema = (tmp_path / "schemas" / "birds" / "schema.pbtxt").read_text()
    assert 'not_in_environment: "SERVING"' in schema and 'value: "ibis"' in schema
    again = _init(tmp_path, "--data", "data", "--label", "species", "--name", "birds")
    assert again.returncode == 2 and "exists; pass --force" in again.stderr and "Traceback" not in again.stderr


def test_init_names_a_missing_label_column(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("a,b\n1,2\n3,4\n")
    proc = _init(tmp_path, "--data", "t.csv", "--label", "target", "--name", "t")
    assert proc.returncode == 2 and "--label 'target' is not a column" in proc.stderr and "a, b" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_config_check_catches_string_labels_without_positive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A binary config over Yes/No labels without label.positive fails at load, naming the key and the values."""
    from pipelines.data.generators.tabular import write
    from pipelines.errors import ConfigError

    monkeypatch.chdir(tmp_path)
    write("churn", str(tmp_path / "data"), 200, seed=1)
    assert _init(tmp_path, "--data", "data", "--label", "churned", "--name", "churn").returncode == 0
    config = tmp_path / "configs" / "churn.yaml"
    config.write_text(config.read_text().replace('  positive: "Yes"\n', ""))
    with pytest.raises(ConfigError, match=r"label\.positive: .*set label\.positive to the positive class, one of \['No', 'Yes'\]"):
        load_config(config, [])
    with pytest.raises(ConfigError, match=r"label\.task: regression needs a numeric label"):
        load_config(config, ["label.task=regression"])
