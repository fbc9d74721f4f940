"""The Dataflow profile: merging, config errors (exit 2 naming the key), and each Beam step's real job.

The job check builds a Dataflow template (``--template_location``) for every Beam-using step
with the flags the compiled Vertex job gives it: Beam stages the worker wheel into the GCS
emulator and writes the v1b3 job, project, region and worker settings included. Offline:
no credential exists, the Dataflow service is never called.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipelines.config import load_config
from pipelines.errors import ConfigError
from pipelines.run import parse_args
from tests.cloud.conftest import ROOT

DATAFLOW_ARGS = [
    "--runner=DataflowRunner",
    "--project=ad-click-prod",
    "--region=europe-west1",
    "--temp_location=gs://ad-click-logs/dataflow/tmp",
    "--staging_location=gs://ad-click-logs/dataflow/tmp/staging",
    "--machine_type=n1-standard-4",
    "--max_num_workers=10",
    "--experiments=use_runner_v2",
    "--extra_package=dist/declarative_tfx-0.1.0-py3-none-any.whl",
]


def _config(*argv: str) -> Any:
    args = parse_args(["--config", "configs/ad_click.yaml", *argv])
    return load_config(args.config, args.overrides)


def test_profile_merges_over_the_pipeline_config() -> None:
    assert _config().beam.args()[0] == "--runner=DirectRunner"
    assert _config("--profile", "dataflow").beam.args() == DATAFLOW_ARGS


def test_set_wins_over_a_profile_whatever_the_order() -> None:
    for argv in (
        ["--set", "beam.dataflow.region=us-central1", "--profile", "dataflow"],
        ["--profile", "dataflow", "--set", "beam.dataflow.region=us-central1"],
    ):
        assert "--region=us-central1" in _config(*argv).beam.args()


def test_unknown_profile_names_the_ones_there_are() -> None:
    with pytest.raises(ConfigError, match=r"--profile nope: no profile file configs/profiles/nope.yaml(.|\n)*dataflow"):
        _config("--profile", "nope")


def _profile(tmp_path: Path, dataflow: dict[str, Any]) -> str:
    path = tmp_path / "df.yaml"
    path.write_text(json.dumps({"beam": {"runner": "DataflowRunner", "dataflow": dataflow}}))
    return str(path)


FULL = {
    "project": "ad-click-prod",
    "region": "europe-west1",
    "temp_location": "gs://df-bucket/tmp",
    "extra_package": "dist/x.whl",
}


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        ({"project": None}, "beam.dataflow.project", "required|missing"),
        ({"region": None}, "beam.dataflow.region", "required|missing"),
        ({"temp_location": None}, "beam.dataflow.temp_location", "required|missing"),
        ({"temp_location": "/tmp/dataflow"}, "beam.dataflow.temp_location", "gs://bucket/prefix"),
        ({"staging_location": "runs/staging"}, "beam.dataflow.staging_location", "gs://bucket/prefix"),
        ({"extra_package": None}, "beam.dataflow", "exactly one of extra_package"),
        ({"sdk_container_image": "gcr.io/p/worker:1"}, "beam.dataflow", "exactly one of extra_package"),
    ],
)
def test_dataflow_config_errors_exit_2_naming_the_key(tmp_path: Path, change: dict, key: str, message: str) -> None:
    section = {k: v for k, v in {**FULL, **change}.items() if v is not None}
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.run", "--config", "configs/ad_click.yaml", "--profile",
         _profile(tmp_path, section)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert key in proc.stderr and "Traceback" not in proc.stderr
    assert re.search(message, proc.stderr), proc.stderr


def test_dataflow_runner_without_its_section_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"beam(.|\n)*needs a beam.dataflow section"):
        _config("--set", "beam.runner=DataflowRunner")


# The steps whose executors run Beam pipelines (BeamExecutorSpec); V2 passes the flags to every step.
BEAM_STEPS = ("CsvExampleGen", "StatisticsGen", "Transform", "Evaluator")


def _beam_steps(compiled: dict[str, Any]) -> dict[str, list[str]]:
    """Each step whose container gets Beam flags -> those flags (what TFX gives its Beam pipeline)."""
    executors = json.loads(compiled["text"])["pipelineSpec"]["deploymentSpec"]["executors"]
    steps = {}
    for label, executor in executors.items():
        args = executor.get("container", {}).get("args", [])
        if "--runner=DataflowRunner" in args:
            steps[label.removesuffix("_executor")] = args[args.index("--runner=DataflowRunner") :]
    return steps


@pytest.mark.slow
def test_each_beam_step_builds_a_dataflow_job_with_the_staged_wheel(
    compiled: dict[str, Any], emulator: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import apache_beam as beam
    from apache_beam.internal.gcp import auth
    from apache_beam.options.pipeline_options import PipelineOptions
    from google.api_core.exceptions import Conflict
    from google.cloud import storage

    with contextlib.suppress(Conflict):
        storage.Client(project="test").create_bucket("ad-click-logs")
    # No credentials exist here: skip Beam's 30 s of retried lookups and go anonymous at once,
    # which is where those lookups end (the emulator takes anonymous requests).
    monkeypatch.setattr(auth._Credentials, "_credentials_init", True)
    monkeypatch.setattr(auth._Credentials, "_credentials", None)
    steps = _beam_steps(compiled)
    assert set(BEAM_STEPS) <= set(steps), sorted(steps)
    wheel = Path(compiled["wheel"]).name
    for step in BEAM_STEPS:
        args = steps[step]
        job_name = step.lower().replace("_", "-")
        template = tmp_path / f"{job_name}.json"
        options = PipelineOptions([*args, "--no_auth", f"--job_name={job_name}", f"--template_location={template}"])
        # The flags TFX checks before building a tfx_ephemeral sdist (tfx/utils/dependency_utils.py): one is set.
        assert options.get_all_options()["extra_packages"] == [compiled["wheel"]]
        with beam.Pipeline(options=options) as pipeline:
            _ = pipeline | beam.Create(["gs://b/m/7"]) | beam.Map(str.upper)
        job = json.loads(template.read_text())
        env = job["environment"]
        display = {d["key"]: d["value"] for d in env["sdkPipelineOptions"]["display_data"]}
        assert display["project"] == "ad-click-prod" and display["region"] == "europe-west1", step
        assert display["machine_type"] == "n1-standard-4" and display["max_num_workers"] == 10, step
        assert "use_runner_v2" in env["experiments"], step
        pool = env["workerPools"][0]
        staged = [p["name"] for p in pool.get("packages", [])]
        assert wheel in staged, (step, staged)
        blobs = [b.name for b in storage.Client(project="test").list_blobs("ad-click-logs", prefix="dataflow/")]
        assert any(name.endswith(f"{job_name}/{wheel}") or wheel in name for name in blobs), blobs
    assert not os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
