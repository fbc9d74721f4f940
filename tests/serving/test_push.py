"""The serving Pusher (TFX executor and its core), infra validation and warm-up requests, on real models."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from components import serving_layout as sl
from components.infra_check import Verdict, check_model
from tests.serving.toy_model import COLUMNS, ROW, example_features, expected_probability

pytestmark = pytest.mark.slow

ROWS = [ROW, {**ROW, "age": 52, "male": 1, "city": "Lake Annashire"}, {**ROW, "daily_time_spent_on_site": 41.0}]


# --------------------------------------------------------------------------- infra check


def test_infra_check_rejects_broken_model_dirs(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "saved_model.pb").write_bytes(b"this is not a SavedModel")
    verdict = check_model(garbage, ROWS, timeout_s=120)
    assert not verdict.ok and f"the SavedModel at {garbage} does not load" in verdict.reason

    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_model(empty, ROWS) == Verdict(
        False, f"{empty} holds no saved_model.pb; the Trainer's run_fn must save the model to fn_args.serving_model_dir"
    )
    assert check_model(tmp_path / "missing", ROWS).reason.endswith(
        "does not exist; the Trainer wrote no SavedModel there"
    )


# --------------------------------------------------------------------------- warm-up requests


def test_a_prewarmed_checker_answers_once_and_an_unused_one_is_stopped(toy_models: dict[float, str]) -> None:
    from components import infra_check

    infra_check.prewarm()
    warm = infra_check._warm
    assert warm is not None
    verdict = check_model(toy_models[1.0], ROWS, timeout_s=120)
    assert verdict.ok, verdict.reason
    assert warm.proc.returncode == 0 and infra_check._warm is None  # used once, then gone: one model per process
    infra_check.prewarm()
    unused = infra_check._warm
    infra_check.discard_warm()
    assert unused is not None and unused.proc.returncode is not None and infra_check._warm is None


def test_warmup_requests_are_prediction_logs_the_model_answers(tmp_path: Path, toy_models: dict[float, str]) -> None:
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    path = tmp_path / sl.WARMUP_FILE
    assert sl.write_warmup_requests(path, "ad_click", ROWS, dtypes=COLUMNS) == 1
    logs = [prediction_log_pb2.PredictionLog.FromString(r.numpy()) for r in tf.data.TFRecordDataset(str(path))]
    assert len(logs) == 1 and logs[0].WhichOneof("log_type") == "predict_log"
    request = logs[0].predict_log.request
    assert (request.model_spec.name, request.model_spec.signature_name) == ("ad_click", "serving_default")
    assert sorted(request.inputs) == sorted(COLUMNS)
    assert {k: tf.dtypes.as_dtype(v.dtype).name for k, v in request.inputs.items()} == COLUMNS
    inputs = {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}
    assert inputs["age"].shape == [3] and inputs["city"].numpy()[1] == b"Lake Annashire"
    answers = tf.saved_model.load(toy_models[1.0]).signatures["serving_default"](**inputs)["probabilities"].numpy()
    assert answers.tolist() == pytest.approx([expected_probability(r, 1.0) for r in ROWS], abs=1e-6)

    assert sl.write_warmup_requests(path, "ad_click", ROWS, dtypes=COLUMNS, batch_size=1) == 3
    assert sl.read_warmup_requests(path, limit=10) == [
        prediction_log_pb2.PredictionLog.FromString(r.numpy()) for r in tf.data.TFRecordDataset(str(path))
    ]
    assert len(sl.read_warmup_requests(path, limit=2)) == 2
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(sl.LayoutError, match=r"truncated TFRecord of \d+ bytes"):
        sl.read_warmup_requests(path, limit=10)


# --------------------------------------------------------------------------- the component


def artifacts(tmp_path: Path, model_dir: str, blessed: int) -> dict[str, Any]:
    import tensorflow as tf
    from tfx.types import artifact_utils, standard_artifacts

    model = standard_artifacts.Model()
    model.uri = str(tmp_path / "model")
    shutil.copytree(model_dir, os.path.join(model.uri, "Format-Serving"))
    blessing = standard_artifacts.ModelBlessing()
    blessing.uri = str(tmp_path / "blessing")
    blessing.set_int_custom_property("blessed", blessed)
    examples = standard_artifacts.Examples()
    examples.uri = str(tmp_path / "examples")
    examples.split_names = artifact_utils.encode_split_names(["train", "eval"])
    os.makedirs(os.path.join(examples.uri, "Split-eval"))

    with tf.io.TFRecordWriter(
        os.path.join(examples.uri, "Split-eval", "data_tfrecord-00000-of-00001.gz"), options="GZIP"
    ) as writer:
        incomplete = example_features({k: v for k, v in ROW.items() if k != "age"})  # skipped: no age
        writer.write(tf.train.Example(features=tf.train.Features(feature=incomplete)).SerializeToString())
        for row in ROWS:
            features = example_features(row)
            features["clicked_on_ad"] = tf.train.Feature(int64_list=tf.train.Int64List(value=[1]))
            writer.write(tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString())
    pushed = standard_artifacts.PushedModel()
    pushed.uri = str(tmp_path / "pushed")
    return {"model": [model], "model_blessing": [blessing], "examples": [examples], "pushed_model": [pushed]}


def run_executor(arts: dict[str, Any], **params: Any) -> Any:
    from components.pusher import ServingPusher

    inputs = {k: arts[k] for k in ("model", "model_blessing", "examples")}
    outputs = {"pushed_model": arts["pushed_model"]}
    ServingPusher.EXECUTOR_SPEC.executor_class().Do(inputs, outputs, params)
    return outputs["pushed_model"][0]


def test_the_component_pushes_a_blessed_model_and_pins_it(tmp_path: Path, toy_models: dict[float, str]) -> None:
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    serving = tmp_path / "serving"
    pushed = run_executor(
        artifacts(tmp_path / "run1", toy_models[1.0], blessed=1),
        serving_dir=str(serving),
        model_name="ad_click",
        warmup_requests=2,
    )
    assert pushed.get_int_custom_property("pushed") == 1
    assert pushed.get_int_custom_property("infra_ok") == 1
    assert pushed.get_string_custom_property("push_reason") == ""
    version = int(pushed.get_string_custom_property("pushed_version"))
    destination = pushed.get_string_custom_property("pushed_destination")
    assert destination == str(serving / "ad_click" / str(version)) and (Path(destination) / "saved_model.pb").is_file()

    warmup = Path(destination) / "assets.extra" / sl.WARMUP_FILE
    logs = [prediction_log_pb2.PredictionLog.FromString(r.numpy()) for r in tf.data.TFRecordDataset(str(warmup))]
    assert len(logs) == 2  # one request per eval row; the incomplete row is skipped
    assert sorted(logs[0].predict_log.request.inputs) == sorted(COLUMNS)  # the label is not a serving input

    config = model_server_config_pb2.ModelServerConfig()
    text_format.Parse((serving / "models.config").read_text(), config)
    (entry,) = config.model_config_list.config
    assert list(entry.model_version_policy.specific.versions) == [version]
    assert dict(entry.version_labels) == {"stable": version}

    not_blessed = run_executor(
        artifacts(tmp_path / "run2", toy_models[2.0], blessed=0), serving_dir=str(serving), model_name="ad_click"
    )
    assert not_blessed.get_int_custom_property("pushed") == 0
    assert not_blessed.get_int_custom_property("infra_ok") == -1
    assert "did not bless" in not_blessed.get_string_custom_property("push_reason")
    assert list(sl.version_dirs(serving, "ad_click")) == [version]


def test_push_model_refuses_what_fails_infra_validation_and_prunes(
    tmp_path: Path, toy_models: dict[float, str]
) -> None:
    from components.pusher import push_model

    serving = str(tmp_path / "serving")
    result = push_model(str(tmp_path), blessed=True, rows=ROWS, serving_dir=serving, model_name="m")
    assert (result.pushed, result.infra_ok) == (False, 0)
    assert result.reason.startswith("infra validation failed: ") and "push.infra_validation: false" in result.reason

    versions = []
    for _ in range(3):
        result = push_model(
            toy_models[1.0],
            blessed=True,
            rows=ROWS,
            serving_dir=serving,
            model_name="m",
            keep_versions=2,
            infra_validation=False,
            warmup_requests=0,
            metrics={"auc": 0.9},
        )
        assert result.pushed and result.infra_ok == -1
        versions.append(result.version)
    assert list(sl.version_dirs(serving, "m")) == versions[-2:]
    info = sl.list_versions(serving, "m")
    assert [(v.version, v.served, v.metrics) for v in info] == [
        (versions[1], False, {"auc": 0.9}),
        (versions[2], True, {"auc": 0.9}),
    ]
    assert json.loads((Path(info[1].path) / "assets.extra" / "eval_metrics.json").read_text()) == {
        "metrics": {"auc": 0.9}
    }


def test_a_push_keeps_the_canary_and_never_prunes_it(tmp_path: Path, toy_models: dict[float, str]) -> None:
    from components import serving_config, serving_versions
    from components.pusher import push_model

    serving = str(tmp_path / "serving")

    def push(weight: float, keep: int) -> int:
        result = push_model(
            toy_models[weight],
            blessed=True,
            rows=ROWS,
            serving_dir=serving,
            model_name="m",
            keep_versions=keep,
            infra_validation=False,
            warmup_requests=0,
        )
        assert result.pushed
        return result.version

    a, b = push(1.0, 2), push(2.0, 2)
    assert serving_versions.set_canary(serving, "m", 0.1, version=a) == (a, b)
    c = push(1.0, 1)  # keep one: b goes, the canary a stays
    assert list(sl.version_dirs(serving, "m")) == [a, c]
    config = model_server_config_pb2.ModelServerConfig()
    text_format.Parse((Path(serving) / "models.config").read_text(), config)
    (entry,) = config.model_config_list.config
    assert list(entry.model_version_policy.specific.versions) == [a, c]
    assert dict(entry.version_labels) == {"stable": c, "canary": a}
    assert serving_config.read_routing(serving) == {"m": {"canary": 0.1}}
