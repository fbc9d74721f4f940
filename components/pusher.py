"""The serving Pusher: push a blessed model that passes infra validation, atomically, for TF Serving.

``ServingPusher`` replaces ``tfx.components.Pusher``. It pushes only when the model is
blessed (``ModelBlessing.blessed == 1``) and, with ``infra_validation``, when a separate
process loaded it and both signatures answered eval rows (:mod:`components.infra_check`).
A push writes warm-up requests from eval rows and the overall eval metrics into
``<version>/assets.extra/``, publishes the version atomically, pins it in ``models.config``
and prunes old versions (:mod:`components.serving_layout`).

The output ``PushedModel`` carries TFX Pusher's custom properties (``pushed`` 0/1,
``pushed_version``, ``pushed_destination``) plus ``infra_ok`` (1 passed, 0 failed, -1 not
checked) and ``push_reason`` (why nothing was pushed; empty when pushed).

The component is a thin shell around :func:`push_model`, which takes plain values, no artifacts.

Note: no ``from __future__ import annotations`` here; TFX reads the component's type hints.
"""

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import Examples, Model, ModelBlessing, ModelEvaluation, PushedModel

from components import filesystem as fs
from components import serving_layout
from components.infra_check import check_model

__all__ = [
    "INFRA_ROWS",
    "PushResult",
    "ServingPusher",
    "infra_rows",
    "push_model",
    "read_eval_rows",
    "serving_model_dir",
    "signature_inputs",
]

INFRA_ROWS = 8
SCAN_RECORDS = 1000  # eval records read for infra-check and warm-up rows at most (more for a limit over 20)
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushResult:
    pushed: bool
    version: int | None
    destination: str | None
    infra_ok: int  # 1 passed, 0 failed, -1 not checked
    reason: str  # why nothing was pushed; "" when pushed


def signature_inputs(model_dir: str, signature: str = "serving_default") -> dict[str, str]:
    """``{input name: TF dtype name}`` of a signature, read from saved_model.pb without loading the model."""
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString(fs.read_bytes(fs.join(model_dir, "saved_model.pb")))
    for meta_graph in proto.meta_graphs:
        if signature in meta_graph.signature_def:
            inputs = meta_graph.signature_def[signature].inputs
            return {name: tf.dtypes.as_dtype(info.dtype).name for name, info in inputs.items()}
    return {}


def read_eval_rows(split_dir: str, columns: Sequence[str], limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` rows of ``columns`` from ExampleGen's gzipped tf.Example TFRecords in
    ``split_dir``, skipping rows where a column is missing or has several values. The records
    scanned do not depend on ``limit`` up to ``SCAN_RECORDS // 50``, so a smaller limit gives a
    prefix of a larger one's rows (the Evaluator's early infra check and the Pusher's agree)."""
    import tensorflow as tf

    files = fs.glob(fs.join(split_dir, "*"))
    if not files or limit <= 0:
        return []
    rows: list[dict[str, Any]] = []
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP").take(max(SCAN_RECORDS, 50 * limit)):
        example = tf.train.Example.FromString(record.numpy())
        row: dict[str, Any] = {}
        for name in columns:
            feature = example.features.feature.get(name)
            kind = feature.WhichOneof("kind") if feature is not None else None
            values = list(getattr(feature, kind).value) if kind else []
            if len(values) != 1:
                break
            value = values[0]
            row[name] = _text_or_bytes(value) if isinstance(value, bytes) else value
        else:
            rows.append(row)
            if len(rows) >= limit:
                break
    return rows


def _text_or_bytes(value: bytes) -> str | bytes:
    """A bytes feature value as text, or as bytes when it is binary (an image: ``components.image_example_gen``)."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value


def push_model(
    model_dir: str,
    *,
    blessed: bool,
    rows: Sequence[Mapping[str, Any]],
    serving_dir: str,
    model_name: str,
    keep_versions: int = 5,
    infra_validation: bool = True,
    warmup_requests: int = 10,
    metrics: Mapping[str, float] | None = None,
    infra_timeout_s: float = 300.0,
) -> PushResult:
    """Push ``model_dir`` to ``<serving_dir>/<model_name>/<version>/`` if blessed and infra-valid.

    Args:
        model_dir: the SavedModel (a Trainer model's ``<uri>/Format-Serving``).
        blessed: the Evaluator's verdict.
        rows: raw eval rows (the ``serving_default`` columns) for the infra check and warm-up.
        metrics: overall eval metrics, stored as ``assets.extra/eval_metrics.json``.
    """
    if not blessed:
        return PushResult(
            False,
            None,
            None,
            -1,
            "the Evaluator did not bless the model; see the failed "
            "thresholds in the run summary (evaluation.thresholds)",
        )
    infra_ok = -1
    if infra_validation:
        verdict = check_model(model_dir, rows[:INFRA_ROWS], timeout_s=infra_timeout_s)
        if not verdict.ok:
            return PushResult(
                False,
                None,
                None,
                0,
                f"infra validation failed: {verdict.reason} (push.infra_validation: false skips this check)",
            )
        infra_ok = 1
    extra: dict[str, serving_layout.ExtraFile] = {}
    if warmup_requests > 0 and rows:
        extra[serving_layout.WARMUP_FILE], _ = serving_layout.warmup_records(
            model_name, rows[:warmup_requests], dtypes=signature_inputs(model_dir), batch_size=1
        )
    if metrics:
        extra[serving_layout.EVAL_METRICS_FILE] = json.dumps({"metrics": dict(metrics)}, indent=2, sort_keys=True)
    version, path = serving_layout.publish_version(model_dir, serving_dir, model_name, extra_files=extra)
    serving_layout.write_models_config(serving_dir, pins={model_name: version})
    removed = serving_layout.prune(serving_dir, model_name, keep_versions)  # never the version just pinned
    if removed:
        _log.info("pruned versions %s of %s", removed, model_name)
    return PushResult(True, version, path, infra_ok, "")


def serving_model_dir(model: Any) -> str:
    """The SavedModel folder of a Trainer ``Model`` artifact (``<uri>/Format-Serving``, else ``<uri>``)."""
    path = fs.join(model.uri, "Format-Serving")
    return path if fs.isdir(path) else model.uri


def infra_rows(model_dir: str, examples: Sequence[Any], limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` eval rows of the model's ``serving_default`` columns, the newest span first
    (ExampleGen ``Examples`` artifacts); a smaller ``limit`` gives a prefix of the same rows."""
    from tfx.types import artifact_utils

    columns = sorted(signature_inputs(model_dir))
    rows: list[dict[str, Any]] = []
    for artifact in reversed(examples):  # the newest span first, when ExampleGen reads several
        split_dir = artifact_utils.get_split_uri([artifact], "eval")
        rows += read_eval_rows(split_dir, columns, limit - len(rows))
    return rows


@component
def ServingPusher(  # noqa: N802 - TFX names the component class after the function
    model: InputArtifact[Model],
    model_blessing: InputArtifact[ModelBlessing],
    examples: InputArtifact[list[Examples]],
    pushed_model: OutputArtifact[PushedModel],
    serving_dir: Parameter[str],
    model_name: Parameter[str],
    model_evaluation: InputArtifact[ModelEvaluation] = None,
    keep_versions: Parameter[int] = 5,
    infra_validation: Parameter[bool] = True,
    warmup_requests: Parameter[int] = 10,
    infra_timeout_seconds: Parameter[int] = 300,
) -> None:
    """Push a blessed, infra-validated model to ``<serving_dir>/<model_name>/<version>/``."""
    model_dir = serving_model_dir(model)
    blessed = model_blessing.get_int_custom_property("blessed") == 1
    rows: list[dict[str, Any]] = []
    if blessed and fs.isfile(fs.join(model_dir, "saved_model.pb")):
        rows = infra_rows(model_dir, examples, max(warmup_requests, INFRA_ROWS))
    metrics = None
    if blessed and model_evaluation is not None:
        try:
            from components.evaluation_results import overall_metrics

            metrics = overall_metrics(model_evaluation.uri)
        except Exception as exc:  # noqa: BLE001 - metrics are informative; never block a push on them
            _log.warning("could not read eval metrics from %s: %s", model_evaluation.uri, exc)
    result = push_model(
        model_dir,
        blessed=blessed,
        rows=rows,
        serving_dir=serving_dir,
        model_name=model_name,
        keep_versions=keep_versions,
        infra_validation=infra_validation,
        warmup_requests=warmup_requests,
        metrics=metrics,
        infra_timeout_s=float(infra_timeout_seconds),
    )
    pushed_model.set_int_custom_property("pushed", int(result.pushed))
    pushed_model.set_int_custom_property("infra_ok", result.infra_ok)
    pushed_model.set_string_custom_property("push_reason", result.reason)
    if result.pushed:
        pushed_model.set_string_custom_property("pushed_version", str(result.version))
        pushed_model.set_string_custom_property("pushed_destination", result.destination)
    else:
        _log.warning("model not pushed: %s", result.reason)
