"""Every metric a task allows maps to a TFMA metric TFMA can build, with the thresholds attached,
and TFMA writes it under the name the table of metric names says."""

from __future__ import annotations

from pathlib import Path

import pytest

from components import metric_names
from pipelines.config import TASK_METRICS, load_config

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # imports TFMA (about 10 s)

LABELS = {
    "binary": ["label.task=binary"],
    "multiclass": ["label.task=multiclass", "label.classes=[a, b, c]"],
    "regression": ["label.task=regression"],
}


@pytest.mark.parametrize("task", list(TASK_METRICS))
def test_every_allowed_metric_builds_in_tfma(task: str, tmp_path: Path) -> None:
    import tensorflow_model_analysis as tfma
    from tensorflow_model_analysis.metrics import metric_specs

    from pipelines.build import eval_config

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.csv").write_text((REPO / "tests" / "unit" / "ad_click_header.csv").read_text())
    metrics = sorted(TASK_METRICS[task][1])
    cfg = load_config(
        REPO / "configs" / "ad_click.yaml",
        [
            f"data.source={tmp_path / 'd'}",
            "schema.path=null",
            *LABELS[task],
            f"evaluation.metrics=[{', '.join(metrics)}]",
            "evaluation.thresholds={}",
            "evaluation.slices=[]",
        ],
    )
    ec = eval_config(cfg)
    names = {metric_specs.metric_instance(mc).name for spec in ec.metrics_specs for mc in spec.metrics}
    assert len(names) >= len(metrics)
    assert metric_specs.to_computations(ec.metrics_specs, ec)  # what the Evaluator builds; raises on a bad spec
    defaults = load_config(
        REPO / "configs" / "ad_click.yaml",
        [
            f"data.source={tmp_path / 'd'}",
            "schema.path=null",
            *LABELS[task],
            "evaluation.metrics=[]",
            "evaluation.thresholds=null",
            "evaluation.slices=[]",
        ],
    )
    default_ec = eval_config(defaults)
    thresholds = metric_specs.metric_thresholds_from_metrics_specs(default_ec.metrics_specs, default_ec)
    assert thresholds, "the task's default blessing bars reach TFMA"
    assert isinstance(ec, tfma.EvalConfig)


PAIRS = [(task, m.key) for m in metric_names.TABLE for task in m.tasks]


@pytest.mark.parametrize(("task", "key"), PAIRS, ids=[f"{t}-{k}" for t, k in PAIRS])
def test_every_table_pair_builds_a_tfma_metric_under_its_output_name(task: str, key: str) -> None:
    import tensorflow_model_analysis as tfma
    from tensorflow_model_analysis.metrics import metric_specs

    class_name, module = metric_names.tfma_class(task, key)
    metric = metric_specs.metric_instance(tfma.MetricConfig(class_name=class_name, module=module))
    assert metric.name == metric_names.output_name(task, key)
    assert metric_names.output_name_of_class(class_name) == metric.name


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("float_domain { min: 0 max: 20 }", (0.0, 20.0)),
        ("int_domain { min: -5 max: 5 }", (-5.0, 5.0)),
        ("float_domain { min: 0 }", None),  # no upper end: no range, no plot
        (None, None),  # no curated schema
    ],
)
def test_regression_plot_spans_the_label_range_of_the_schema(
    tmp_path: Path, domain: str | None, expected: tuple[float, float] | None
) -> None:
    """Issue 20, point 6: regression gets TFMA's CalibrationPlot over the label's range (predicted against actual)."""
    import json

    from tensorflow_model_analysis.metrics import metric_specs

    from pipelines.build import eval_config
    from pipelines.build.evaluation import REGRESSION_PLOT_BUCKETS, label_range

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.csv").write_text((REPO / "tests" / "unit" / "ad_click_header.csv").read_text())
    schema = "null"
    if domain is not None:
        text = (REPO / "schemas" / "ad_click" / "schema.pbtxt").read_text()
        label = 'name: "clicked_on_ad"\n  type: INT\n  int_domain { min: 0 max: 1 is_categorical: true }'
        assert label in text
        kind = "FLOAT" if domain.startswith("float") else "INT"
        changed = text.replace(label, f'name: "clicked_on_ad"\n  type: {kind}\n  {domain}')
        (tmp_path / "schema.pbtxt").write_text(changed)
        schema = str(tmp_path / "schema.pbtxt")
    cfg = load_config(
        REPO / "configs" / "ad_click.yaml",
        [
            f"data.source={tmp_path / 'd'}",
            f"schema.path={schema}",
            *LABELS["regression"],
            "evaluation.metrics=[]",
            "evaluation.thresholds=null",
            "evaluation.slices=[]",
        ],
    )
    assert label_range(cfg) == expected
    ec = eval_config(cfg)
    plots = [mc for spec in ec.metrics_specs for mc in spec.metrics if mc.class_name == "CalibrationPlot"]
    if expected is None:
        assert plots == []
        return
    (plot,) = plots
    left, right = expected
    assert json.loads(plot.config) == {"left": left, "right": right, "num_buckets": REGRESSION_PLOT_BUCKETS}
    assert metric_specs.to_computations(ec.metrics_specs, ec)


def test_tfma_loads_the_models_without_keras(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 17: TFMA called ``tf.keras.models.load_model`` on each model only to learn its type, then
    loaded it again as a Keras model; the Evaluator uses the signatures, a plain SavedModel load."""
    import tensorflow as tf
    from tensorflow_model_analysis import constants
    from tensorflow_model_analysis.utils import model_util

    from pipelines.build import eval_config

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.csv").write_text((REPO / "tests" / "unit" / "ad_click_header.csv").read_text())
    cfg = load_config(REPO / "configs" / "ad_click.yaml", [f"data.source={tmp_path / 'd'}"])
    loads: list[str] = []
    monkeypatch.setattr(tf.keras.models, "load_model", lambda path, *a, **k: loads.append(path))
    (spec,) = eval_config(cfg).model_specs
    assert model_util.get_model_type(spec, model_path=str(tmp_path / "model")) == constants.TF_GENERIC
    assert loads == []
