"""`pipelines.run --runner vertex --compile-only`: the ad-click job, strictly parsed and cross-checked.

The job is compiled once per session through the real CLI with fake secrets in the
environment (``conftest.compiled``). Refresh the golden file with ``UPDATE_GOLDEN=1 pytest tests/cloud``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.cloud.conftest import CRON, ROOT, SECRET

GOLDEN = Path(__file__).parent / "golden" / "ad_click_vertex.json"
# Every reported component, plus the two halves V2 makes of the stock model resolver.
TASKS = {
    "CsvExampleGen", "ImportSchemaGen", "StatisticsGen", "ExampleValidator", "DataGate", "DataGate_stop",
    "Transform", "TransformGate", "TransformGate_stop", "Trainer", "Evaluator", "Pusher",
    "drift_baseline_resolver", "baseline_resolver-model-blessing-resolver", "baseline_resolver-model-resolver",
}  # fmt: skip
IMAGE = "europe-west1-docker.pkg.dev/ad-click-prod/pipelines/declarative-tfx:0.1.0"

pytestmark = pytest.mark.slow  # the session fixture imports TFX and compiles


def test_job_parses_strictly_as_pipeline_job_and_pipeline_spec(compiled: dict[str, Any]) -> None:
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2 as pb

    job = json_format.Parse(compiled["text"], pb.PipelineJob(), ignore_unknown_fields=False)
    spec = json_format.ParseDict(
        json_format.MessageToDict(job.pipeline_spec), pb.PipelineSpec(), ignore_unknown_fields=False
    )
    assert job.display_name == spec.pipeline_info.name == "ad-click"
    assert job.runtime_config.gcs_output_directory == "gs://ad-click-logs/pipelines/ad_click"
    assert spec.schema_version == "2.0.0" and spec.sdk_version == "tfx-1.16.0"


def _spec(compiled: dict[str, Any]) -> dict[str, Any]:
    return json.loads(compiled["text"])["pipelineSpec"]


def test_every_component_has_image_command_args_and_cross_referenced_executors(compiled: dict[str, Any]) -> None:
    spec = _spec(compiled)
    tasks = spec["root"]["dag"]["tasks"]
    assert set(tasks) == TASKS
    executors = spec["deploymentSpec"]["executors"]
    for name, task in tasks.items():
        component = spec["components"][task["componentRef"]["name"]]
        executor = executors[component["executorLabel"]]
        for dep in task.get("dependentTasks", []):
            assert dep in tasks, f"{name} depends on a task that does not exist: {dep}"
        for key, arg in task.get("inputs", {}).get("artifacts", {}).items():
            producer = arg.get("taskOutputArtifact", {}).get("producerTask")
            if producer:
                assert producer in tasks, (name, key, producer)
                # TFX lists producers as dependencies except between its two model-resolver halves.
                assert producer in task.get("dependentTasks", []) or "resolver" in name, (name, key, producer)
        if "resolver" in name:
            assert set(executor) == {"resolver"}, name
            continue
        container = executor["container"]
        assert container["image"] == IMAGE, name
        assert container["command"] == [
            "python", "-m", "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"
        ], name  # fmt: skip
        args = container["args"]
        assert "--json_serialized_invocation_args" in args, name
        assert "--executor_class_path" in args or "--component_class_path" in args, name
    assert set(executors) == {spec["components"][t["componentRef"]["name"]]["executorLabel"] for t in tasks.values()}


def test_baselines_use_stock_strategies_and_the_guarded_evaluator(compiled: dict[str, Any]) -> None:
    spec = _spec(compiled)
    tasks, executors = spec["root"]["dag"]["tasks"], spec["deploymentSpec"]["executors"]
    assert "baseline_resolver-model-resolver" in tasks["Evaluator"]["dependentTasks"]
    assert "drift_baseline_resolver" in tasks["StatisticsGen"]["dependentTasks"]  # resolved before new statistics
    blessing = executors["baseline_resolver-model-blessing-resolver_executor"]["resolver"]
    assert "metadata.blessed.number_value=1" in json.dumps(blessing)
    args = executors["Evaluator_executor"]["container"]["args"]
    assert args[args.index("--executor_class_path") + 1] == "components.evaluator.Executor"
    # Functions by module path: the compiler built and uploaded no module wheel.
    assert "_wheels" not in compiled["text"] and "module_file" not in compiled["text"].replace('"module_file": ""', "")
    assert "components.transform.preprocessing_fn" in compiled["text"]


def test_no_credential_token_or_key_in_the_job(compiled: dict[str, Any]) -> None:
    for text in (compiled["text"], compiled["schedule_text"], compiled["stdout"]):
        assert SECRET not in text
        assert "PRIVATE KEY" not in text and "MIIfakekey" not in text
        assert compiled["key_path"] not in text
        assert not re.search(r"ya29\.|AKIA[0-9A-Z]{16}|\"private_key\"|access_token", text)


def test_schedule_is_a_strict_vertex_schedule_of_the_same_job(compiled: dict[str, Any]) -> None:
    from google.cloud.aiplatform_v1.types import Schedule

    schedule = Schedule.from_json(compiled["schedule_text"], ignore_unknown_fields=False)
    assert schedule.cron == CRON and schedule.max_concurrent_run_count == 1
    request = schedule.create_pipeline_job_request
    assert request.parent == "projects/ad-click-prod/locations/europe-west1"
    assert request.pipeline_job.runtime_config.gcs_output_directory == "gs://ad-click-logs/pipelines/ad_click"
    assert json.loads(compiled["schedule_text"])["createPipelineJobRequest"]["pipelineJob"]["pipelineSpec"] == _spec(
        compiled
    )


def normalized(text: str, wheel: str) -> str:
    """The job without what changes with unrelated edits or another checkout: digests and paths."""
    text = text.replace(wheel, "<wheel>").replace(str(ROOT), "<project>")
    return re.sub(r"\b[0-9a-f]{16}\b", "<digest>", text)


def test_job_matches_the_golden_file(compiled: dict[str, Any]) -> None:
    got = normalized(compiled["text"], compiled["wheel"])
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(got)
    assert GOLDEN.exists(), "no golden file yet: UPDATE_GOLDEN=1 pytest tests/cloud"
    assert got == GOLDEN.read_text(), "the compiled job changed; review it, then UPDATE_GOLDEN=1 pytest tests/cloud"
