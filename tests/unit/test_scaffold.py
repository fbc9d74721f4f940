"""Type, transform and task inference (pipelines.data.column_profiles), the files it writes
(pipelines.data.scaffold) and the init CLI, on tricky columns."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from components.csv_cells import cell_kind, is_missing, read_rows
from components.schema_file import find_feature, read_schema
from pipelines.config import load_config
from pipelines.data.column_profiles import ColumnProfile, choose_label, choose_transform
from pipelines.data.environment import check_environment
from pipelines.errors import ConfigError, ScaffoldError

REPO = Path(__file__).resolve().parents[2]


def col(name: str, cells: list[str]) -> ColumnProfile:
    p = ColumnProfile(name)
    for c in cells:
        p.add(c)
    return p


def transform_of(name: str, cells: list[str]) -> tuple[str, str]:
    choice = choose_transform(col(name, cells))
    return choice.transform["transform"], choice.why


@pytest.mark.parametrize(
    "cell, kind",
    [
        ("12", "int"),
        ("-3", "int"),
        ("007", "int"),
        ("1.5", "float"),
        ("1e3", "float"),
        ("NA", "missing"),
        ("", "missing"),
        (" null ", "missing"),
        ("N/A", "missing"),
        ("1,234", "string"),
        ("$12", "string"),
        ("99999999999999999999", "string"),  # beyond int64: tfx_bsl makes it a string too
    ],
)
def test_cell_kind_follows_examplegen(cell: str, kind: str) -> None:
    assert cell_kind(cell) == kind


def test_read_rows_drops_the_bom_and_keeps_quoted_newlines() -> None:
    text = '\ufeffa,b\n1,"x, ""y""\nz"\n'
    rows = list(read_rows(io.StringIO(text, newline="")))
    assert rows == [["a", "b"], ["1", 'x, "y"\nz']]
    assert is_missing("NA") and not is_missing("None")


def test_read_rows_skips_blank_lines() -> None:
    text = '\n\ufeffa,b\r\n\r\n1,2\n\n3,"\n"\n'
    assert list(read_rows(io.StringIO(text, newline=""))) == [["a", "b"], ["1", "2"], ["3", "\n"]]


def test_scaffold_error_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="too many classes") as caught:
        choose_label(col("y", [f"v{i}" for i in range(200)]))
    assert isinstance(caught.value, ScaffoldError) and caught.value.exit_code == 2


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
    cells = [str(round(1.1**i, 2)) for i in range(100)]  # 1 .. 12,527: a long right tail
    assert transform_of("spend", cells)[0] == "log"
    assert transform_of("temp", [str(v) for v in range(-20, 40)])[0] == "zscore"


def test_cardinality_picks_vocabulary_or_hashing() -> None:
    assert transform_of("rooms", [str(i % 6) for i in range(100)])[0] == "vocabulary"  # low-cardinality int
    assert transform_of("zip", ["01234", "02345", "12345"] * 10)[0] == "vocabulary"  # codes with leading zeros
    kind, why = transform_of("city", [f"city {i % 5000}" for i in range(20000)])
    assert kind == "hash" and "5000 distinct" in why
    assert choose_transform(col("city", [f"city {i % 5000}" for i in range(20000)])).transform["hash_buckets"] == 4096


def test_free_text_is_read_word_by_word_and_says_so() -> None:
    import numpy as np

    from pipelines.data.generators.tabular import tickets

    header, rows, _ = tickets(np.random.default_rng(0), 400)
    choice = choose_transform(col("description", [r[header.index("description")] for r in rows]))
    assert choice.transform["transform"] == "text"
    assert 8 <= choice.transform["max_tokens"] <= 64 and 10 <= choice.transform["top_k"] <= 10_000
    assert re.search(r"free text: \d+% distinct values, median \d words .*: text, each word embedded", choice.why)


@pytest.mark.parametrize(
    "cells",
    [
        [f"T{i:05d}" for i in range(100)],  # distinct but one word: an identifier
        [f"city {i}" for i in range(100)],  # distinct, two words
        ["called about billing, twice", "said too expensive", "happy"] * 30,  # several words, few values
    ],
)
def test_not_free_text(cells: list[str]) -> None:
    assert transform_of("c", cells)[0] != "text"


@pytest.mark.parametrize(
    "cells, task, positive, classes",
    [
        (["Yes", "No", "No"] * 10, "binary", "Yes", None),
        (["0", "1", "1"] * 10, "binary", None, None),
        (["true", "false"] * 10, "binary", "true", None),
        (["late", "ontime", "ontime"] * 10, "binary", "late", None),  # no known word: the rarer value
        (["cat", "dog", "bird"] * 10, "multiclass", None, ["bird", "cat", "dog"]),
        (["3", "1", "2", "10"] * 10, "multiclass", None, [1, 2, 3, 10]),
        ([str(v / 3) for v in range(30)], "regression", None, None),
        ([str(v * 1000) for v in range(40)], "regression", None, None),  # many integers
    ],
)
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
    return subprocess.run(
        [sys.executable, "-m", "pipelines.init", *args],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )


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
    parsed = read_schema(str(tmp_path / "schemas" / "birds" / "schema.pbtxt"))  # schema_pb2, not strings
    label = find_feature(parsed, "species")
    assert list(label.string_domain.value) == ["heron", "ibis", "stork"]
    assert list(label.not_in_environment) == ["SERVING"]
    assert list(parsed.default_environment) == ["TRAINING", "SERVING"]
    wing = find_feature(parsed, "wing_cm")  # 4% missing: may be missing, at most one value
    assert wing.presence.min_count == 1 and not wing.presence.HasField("min_fraction") and wing.value_count.max == 1
    beak = find_feature(parsed, "beak_mm")  # never missing: required, one value
    assert beak.presence.min_fraction == 1.0 and [d.size for d in beak.shape.dim] == [1]
    # Text format holds no inline comments: each feature's reason is in the comment block on top.
    comments = [line for line in schema.splitlines() if line.startswith("#")]
    for name in ("ring_id", "wing_cm", "beak_mm", "weight_g", "habitat", "observer", "seen_at", "species"):
        assert any(line.startswith(f"#   {name}: ") for line in comments), name
    assert any(
        "ring_id: BYTES (text), never missing: required; transform drop (an identifier" in line for line in comments
    )
    assert any(re.search(r"wing_cm: FLOAT \(numbers\), \d+% missing: may be missing", line) for line in comments)
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

    monkeypatch.chdir(tmp_path)
    write("churn", str(tmp_path / "data"), 200, seed=1)
    assert _init(tmp_path, "--data", "data", "--label", "churned", "--name", "churn").returncode == 0
    config = tmp_path / "configs" / "churn.yaml"
    config.write_text(config.read_text().replace('  positive: "Yes"\n', ""))
    positive = r"label\.positive: .*set label\.positive to the positive class, one of \['No', 'Yes'\]"
    with pytest.raises(ConfigError, match=positive):
        check_environment(load_config(config, []))
    with pytest.raises(ConfigError, match=r"label\.task: regression needs a numeric label"):
        # The task's default AUC threshold fails loading first; without it the environment check runs.
        check_environment(load_config(config, ["label.task=regression", "evaluation.thresholds={}"]))


def test_scaffold_errors_keep_their_cause(tmp_path: Path) -> None:
    from pipelines.data.scaffold import read_sample

    path = tmp_path / "t.csv"
    path.write_bytes("a,b\n1,Zürich\n".encode("latin-1"))
    with pytest.raises(ScaffoldError, match=r"t\.csv: not UTF-8 .*re-export it as UTF-8") as caught:
        read_sample([str(path)], 10)
    assert isinstance(caught.value.__cause__, UnicodeDecodeError)


def test_init_exit_code_for_bad_input(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("a,b\n\n\n")  # a header, then only blank lines
    proc = _init(tmp_path, "--data", "t.csv", "--label", "b", "--name", "t")
    assert proc.returncode == 2 and "t.csv: a header but no data rows" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "configs").exists() and not (tmp_path / "schemas").exists()


def test_init_chooses_text_for_the_tickets_description(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.data.generators.tabular import write

    monkeypatch.chdir(tmp_path)
    write("tickets", str(tmp_path / "data"), 300, seed=1)
    proc = _init(tmp_path, "--data", "data", "--label", "escalated", "--name", "tickets")
    assert proc.returncode == 0, proc.stderr
    config = tmp_path / "configs" / "tickets.yaml"
    line = next(x for x in config.read_text().splitlines() if x.strip().startswith("description:"))
    assert "{transform: text, top_k:" in line and "# free text:" in line
    features = load_config(str(config)).features
    assert features["description"].transform == "text" and features["opened_at"].transform == "timestamp"


def test_regression_label_gets_a_plot_range_written_into_the_config(tmp_path) -> None:
    """Issue 20, point 6: init gives a regression pipeline the span of its predicted-vs-actual plots."""
    choice = choose_label(col("price", ["100", "250.5", "300", "", "200"]))
    assert choice.task == "regression" and choice.plot_range == (80.0, 320.0)  # 100..300 widened by 10% of 200
    assert choose_label(col("y", ["yes", "no", "no"])).plot_range is None

    data = tmp_path / "d.csv"
    data.write_text("x,price\n" + "".join(f"{i},{i * 10.5}\n" for i in range(60)))
    from pipelines.data.scaffold import ScaffoldRequest, scaffold

    done = scaffold(
        ScaffoldRequest(
            data=str(data),
            label="price",
            name="p",
            config_path=str(tmp_path / "p.yaml"),
            schema_path=str(tmp_path / "p.pbtxt"),
        )
    )
    lo, hi = load_config(done.config_path).evaluation.plot_range
    assert lo <= 0 - 0.1 * 619.5 + 0.01 and hi >= 619.5 + 0.1 * 619.5 - 0.1  # 0..619.5 widened by 10%, 4 digits


def test_plot_range_of_a_narrow_label_stays_ordered(tmp_path) -> None:
    """Values close together far from zero (1,000,000..1,000,010) still give low < high in the YAML."""
    data = tmp_path / "d.csv"
    data.write_text("x,price\n" + "".join(f"{i},{1_000_000 + i % 11}.5\n" for i in range(60)))
    from pipelines.data.scaffold import ScaffoldRequest, scaffold

    done = scaffold(
        ScaffoldRequest(
            data=str(data),
            label="price",
            name="p",
            config_path=str(tmp_path / "p.yaml"),
            schema_path=str(tmp_path / "p.pbtxt"),
        )
    )
    lo, hi = load_config(done.config_path).evaluation.plot_range
    assert lo <= 1_000_000.5 - 1 and hi >= 1_000_010.5 + 1
