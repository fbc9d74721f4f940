"""Config loading and validation through the public loader: every error class, and overrides."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from pipelines.config import PipelineConfig, load_config, parse_override
from pipelines.config.evaluation import ChangeThreshold, Threshold
from pipelines.errors import ConfigError
from tests.unit.config_project import edit, make_project

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A config pointing at a data dir with one CSV (header + a row) and the curated schema."""
    return make_project(tmp_path)


def write(project: Path, text: str) -> Path:
    path = project / "c.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_example_config_loads(project: Path) -> None:
    cfg = load_config(project / "c.yaml")
    assert isinstance(cfg, PipelineConfig)
    assert cfg.pipeline.name == "ad_click"
    assert cfg.model_name == "ad_click"
    assert cfg.trainer.train_steps == 1500
    assert cfg.features["age"].transform == "zscore"  # shorthand `age: zscore`
    assert os.path.isabs(cfg.pipeline.root) and os.path.isabs(cfg.data.source)
    assert cfg.metadata_path == os.path.join(cfg.pipeline.root, "metadata.sqlite")


def test_config_is_frozen(project: Path) -> None:
    cfg = load_config(project / "c.yaml")
    with pytest.raises(ValidationError, match=r"train_steps\n  Instance is frozen"):
        cfg.trainer.train_steps = 3  # type: ignore[misc]
    with pytest.raises(ValidationError, match=r"evaluation\n  Instance is frozen"):
        cfg.evaluation = cfg.evaluation  # type: ignore[misc]


def test_model_name_defaults_to_pipeline_name(project: Path) -> None:
    path = edit(project, lambda c: c["push"].pop("model_name"))
    assert load_config(path, ["pipeline.name=churn"]).model_name == "churn"


@pytest.mark.parametrize(
    ("change", "match"),
    [
        # unknown keys, with a suggestion and the allowed keys
        (
            lambda c: c["trainer"].update(train_step=5),
            r"c\.yaml:\d+: trainer\.train_step: unknown key 'train_step'; did you mean 'train_steps'\?",
        ),
        (lambda c: c.update(trainr={}), r"trainr: unknown key 'trainr'; did you mean 'trainer'\?"),
        (
            lambda c: c["features"].update(age={"transform": "zscore", "buckets": 3}),
            r"features\.age\.buckets: unknown key 'buckets' \(allowed here: transform\)",
        ),
        (
            lambda c: c["evaluation"]["thresholds"]["auc"].update(lower=0.5),
            r"evaluation\.thresholds\.auc\.lower: unknown key 'lower'; did you mean 'lower_bound'\?",
        ),
        # wrong types
        (
            lambda c: c["trainer"].update(train_steps="many"),
            r"trainer\.train_steps: Input should be a valid integer.*'many'",
        ),
        (
            lambda c: c["trainer"].update(train_steps=0),
            r"trainer\.train_steps: Input should be greater than or equal to 1",
        ),
        (lambda c: c["model"].update(hidden_units="64"), r"model\.hidden_units: Input should be a valid list"),
        (lambda c: c["model"].update(type="cnn"), r"model\.type: Input should be 'dnn' or 'wide_and_deep'"),
        (lambda c: c.update(trainer=5), r"trainer: must be a mapping \(section\)"),
        # missing sections and keys
        (lambda c: c.pop("push"), r"c\.yaml: push: required key is missing"),
        (lambda c: c["pipeline"].pop("root"), r"pipeline\.root: required key is missing"),
        (lambda c: c.pop("trainer"), r"trainer: required key is missing"),
        # features
        (
            lambda c: c["features"].update(age="sqrt"),
            r"features\.age\.transform: unknown transform 'sqrt'; allowed: zscore, minmax",
        ),
        (lambda c: c["features"].update(age={"top_k": 3}), r"features\.age: needs a 'transform' key"),
        (
            lambda c: c["validation"].update(allow={"city": ["new_value"]}),
            r"validation\.allow: city: unknown anomaly kind 'new_value'; did you mean 'new_values'\?",
        ),
        (lambda c: c["data"].update(rolling_spans=2), r"data: rolling_spans needs a \{SPAN\}"),
        (
            lambda c: c["features"].update(country={"transform": "hash"}),
            r"features\.country\.hash_buckets: required key is missing",
        ),
        # evaluation field rules
        (
            lambda c: c["evaluation"]["thresholds"].update(auc={}),
            r"evaluation\.thresholds\.auc: set lower_bound, upper_bound or change",
        ),
        (lambda c: c["evaluation"].update(metrics=["auc", "f1"]), r"evaluation\.metrics\[1\]: Input should be 'auc'"),
        # names and module paths
        (lambda c: c["pipeline"].update(name="1bad name"), r"pipeline\.name: must start with a letter"),
        (lambda c: c["trainer"].update(run_fn="not a path"), r"trainer\.run_fn: must be a dotted path"),
        (
            lambda c: c["beam"].update(extra_args=["runner=X"]),
            r"beam\.extra_args: each entry must look like '--option=value'",
        ),
    ],
)
def test_config_errors_name_the_key(project: Path, change, match: str) -> None:
    path = edit(project, change)
    with pytest.raises(ConfigError, match=match):
        load_config(path)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            lambda c: c["features"].update(clicked_on_ad="zscore"),
            r"c\.yaml:\d+: features\.clicked_on_ad: 'clicked_on_ad' is the label",
        ),
        (
            lambda c: c["features"].update(dict.fromkeys(c["features"], "drop")),
            r"features: every feature is `drop`; the model needs at least one input",
        ),
        (
            lambda c: c["validation"].update(allow={"town": ["new_values"]}),
            r"validation\.allow\.town: 'town' is not in features",
        ),
        (
            lambda c: c["validation"]["drift"].update(features={"town": 0.1}),
            r"validation\.drift\.features\.town: 'town' is not in features",
        ),
        (
            lambda c: c["evaluation"].update(metrics=["accuracy"]),
            r"evaluation\.thresholds\.auc: threshold on 'auc', which is not in evaluation\.metrics",
        ),
        (
            lambda c: c["evaluation"].update(slices=["gender"]),
            r"evaluation\.slices\[0\]: slice feature 'gender' is not in features",
        ),
        (
            lambda c: c["evaluation"].update(metrics=["auc", "mae"]),
            r"evaluation\.metrics\[1\]: 'mae' is not a binary metric; choose from .*auc",
        ),
    ],
)
def test_cross_field_checks_name_both_keys(project: Path, change, match: str) -> None:
    """Each config here passes type validation, so the failure comes from the cross-field check itself."""
    path = edit(project, change)
    with pytest.raises(ConfigError, match=match) as info:
        load_config(path)
    assert not isinstance(info.value.__cause__, ValidationError), "types failed first: the check never ran"
    assert len(info.value.problems) == 1


def test_loading_reads_no_data_schema_or_module(project: Path) -> None:
    """A serving host has the config but not the training data: loading must not look for it."""
    path = edit(
        project,
        lambda c: (
            c["data"].update(source="/nonexistent/ads"),
            c["schema"].update(path="/nonexistent/schema.pbtxt"),
            c["trainer"].update(run_fn="nowhere.mod.run_fn"),
            c["validation"].update(skew={"serving_data": "/nonexistent/logs"}),
        ),
    )
    cfg = load_config(path)
    assert cfg.data.source == "/nonexistent/ads"
    assert cfg.schema_.path == "/nonexistent/schema.pbtxt"


def test_config_remembers_where_keys_were_written(project: Path) -> None:
    path = project / "c.yaml"
    cfg = load_config(path, ["trainer.train_steps=7"])
    source_line = next(
        i for i, line in enumerate(path.read_text().splitlines(), 1) if line.strip().startswith("source:")
    )
    assert cfg.origin.file == str(path)
    assert cfg.origin.locate("data.source") == f"{path}:{source_line}: data.source: "
    assert cfg.origin.locate("trainer.train_steps") == "--set trainer.train_steps=7: trainer.train_steps: "
    assert cfg.origin.locate("features.nope") == f"{path}:{cfg.origin.lines[('features',)]}: features.nope: "


@pytest.mark.parametrize(
    ("overrides", "metrics", "thresholds"),
    [
        (
            ["evaluation.metrics=[]", "evaluation.thresholds=null"],
            ["auc", "accuracy", "precision", "recall", "calibration", "example_count"],
            {"auc": Threshold(lower_bound=0.6, change=ChangeThreshold(absolute=-0.01))},
        ),
        (["evaluation.metrics=[accuracy]", "evaluation.thresholds=null"], ["accuracy"], {}),
        (
            ["evaluation.metrics=[]", "evaluation.thresholds={}"],
            ["auc", "accuracy", "precision", "recall", "calibration", "example_count"],
            {},
        ),
        (
            [
                "label.task=multiclass",
                "label.classes=[a, b, c, d]",
                "evaluation.metrics=[]",
                "evaluation.thresholds=null",
            ],
            ["accuracy", "precision", "recall", "log_loss", "example_count"],
            {"accuracy": Threshold(lower_bound=0.3, change=ChangeThreshold(absolute=-0.01))},
        ),
        (
            ["label.task=regression", "evaluation.metrics=[]", "evaluation.thresholds=null"],
            ["mae", "rmse", "r2", "example_count"],
            {
                "r2": Threshold(lower_bound=0.0),
                "mae": Threshold(change=ChangeThreshold(direction="lower_is_better", relative=0.02)),
            },
        ),
    ],
)
def test_evaluation_defaults_by_task(project: Path, overrides: list[str], metrics: list[str], thresholds) -> None:
    cfg = load_config(project / "c.yaml", overrides)
    assert cfg.evaluation.metrics == metrics
    assert cfg.evaluation.thresholds == thresholds


def test_defaults_do_not_touch_the_input(project: Path) -> None:
    data = yaml.safe_load((project / "c.yaml").read_text())
    data["evaluation"] = {"slices": []}
    before = copy.deepcopy(data)
    cfg = PipelineConfig.model_validate(data)
    assert data == before
    assert cfg.evaluation.metrics and cfg.evaluation.thresholds
    assert cfg.origin.locate("data.source") == "data.source: "  # built without the loader: keys only


def test_all_problems_reported_at_once(project: Path) -> None:
    path = edit(project, lambda c: (c["trainer"].update(train_steps="x"), c["model"].update(type="cnn")))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert len(info.value.problems) == 2
    assert "2 problems" in str(info.value)


def test_error_carries_the_line_number(project: Path) -> None:
    path = write(
        project,
        """\
        pipeline: {name: x, root: /tmp/r}
        trainer:
          train_steps: 10
          bogus: 1
        """,
    )
    with pytest.raises(ConfigError, match=r"c\.yaml:4: trainer\.bogus: unknown key"):
        load_config(path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "trainer:\n  train_steps: 1\n  train_steps: 2\n",
            r"c\.yaml:3: duplicate key 'train_steps' \(first at line 2\)",
        ),
        ("trainer: [1, 2\n", r"c\.yaml: not valid YAML \(line \d+"),
        ("- a\n- b\n", r"the top level must be a mapping"),
    ],
)
def test_yaml_errors(project: Path, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(write(project, text))


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: config file not found"):
        load_config(tmp_path / "nope.yaml")


# --------------------------------------------------------------------------- overrides


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("trainer.train_steps=200", ["trainer", "train_steps"], 200),
        ("model.hidden_units=[16, 8]", ["model", "hidden_units"], [16, 8]),
        ("pipeline.enable_cache=false", ["pipeline", "enable_cache"], False),
        ("push.model_name=ads-v2", ["push", "model_name"], "ads-v2"),
        ("trainer.learning_rate=1e-3", ["trainer", "learning_rate"], 0.001),
        ("features.city=drop", ["features", "city"], "drop"),
        ("pipeline.root=", ["pipeline", "root"], ""),
    ],
)
def test_parse_override(text: str, key: list[str], value) -> None:
    assert parse_override(text) == (key, value)


def test_overrides_apply_and_validate(project: Path) -> None:
    cfg = load_config(
        project / "c.yaml",
        ["trainer.train_steps=7", "model.hidden_units=[4]", "features.city=drop", "beam.direct_num_workers=2"],
    )
    assert cfg.trainer.train_steps == 7
    assert cfg.model.hidden_units == [4]
    assert cfg.features["city"].transform == "drop"
    assert "--direct_num_workers=2" in cfg.beam.args()


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ("trainer.train_steps", r"--set 'trainer\.train_steps': expected dotted\.key=value"),
        ("=5", r"expected dotted\.key=value"),
        ("trainer..steps=5", r"is not a dotted key"),
        ("model.hidden_units=[1, 2", r"value is not valid YAML"),
        ("trainer.train_steps.x=5", r"trainer\.train_steps is a value, not a section"),
        (
            "trainer.train_stepz=5",
            r"--set trainer\.train_stepz=5: trainer\.train_stepz: unknown key 'train_stepz'; "
            r"did you mean 'train_steps'\?",
        ),
        (
            "trainer.train_steps=abc",
            r"--set trainer\.train_steps=abc: trainer\.train_steps: Input should be a valid integer",
        ),
    ],
)
def test_malformed_overrides(project: Path, override: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(project / "c.yaml", [override])


# --------------------------------------------------------------------------- the CLI edge


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--set", "trainer.train_steps=abc"], "trainer.train_steps: Input should be a valid integer"),
        (["--set", "oops"], "expected dotted.key=value"),
    ],
)
def test_cli_rejects_bad_config_with_exit_2_and_no_traceback(project: Path, args: list[str], needle: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.run", "--config", str(project / "c.yaml"), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.startswith("error: ")


def test_validation_imports_nothing_heavy(project: Path) -> None:
    """A bad config is rejected before TensorFlow, TFX or Beam are imported (that is what keeps it fast)."""
    code = (
        "import sys\n"
        "import pipelines.run\n"
        "from pipelines.config import load_config\n"
        "from pipelines.errors import ConfigError\n"
        "try:\n"
        f"    load_config({str(project / 'c.yaml')!r}, ['trainer.train_steps=x'])\n"
        "except ConfigError:\n"
        "    pass\n"
        "heavy = [m for m in ('tensorflow', 'tfx', 'apache_beam', 'tensorflow_transform') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


REGRESSION = ["label.task=regression", "evaluation.metrics=[]", "evaluation.thresholds=null"]


def test_plot_range_sets_the_regression_plots_span(project: Path) -> None:
    """Issue 20, point 6: `evaluation.plot_range` gives the predicted-against-actual plots their span,
    ahead of the schema's label domain (which `pipelines.init` does not write)."""
    from pipelines.build.evaluation import label_range

    cfg = load_config(project / "c.yaml", [*REGRESSION, "evaluation.plot_range=[1, 9]"])
    assert label_range(cfg) == (1.0, 9.0)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (["evaluation.plot_range=[9, 1]"], r"evaluation\.plot_range: must be \[low, high\] with low < high"),
        (["evaluation.plot_range=[0, 1]"], r"evaluation\.plot_range: is for label\.task regression, not binary"),
    ],
)
def test_plot_range_rules(project: Path, overrides: list[str], match: str) -> None:
    extra = REGRESSION if "9, 1" in overrides[0] else []
    with pytest.raises(ConfigError, match=match):
        load_config(project / "c.yaml", [*extra, *overrides])
