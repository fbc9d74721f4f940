"""The Vertex AI engine: compiles with TFX's ``KubeflowV2DagRunner``, submits or schedules the job.

    python -m pipelines.run --config C --runner vertex --compile-only job.json
        check_vertex: gs:// pipeline root, a ``vertex:`` section, a V2 pipeline name (exit 2)
        -> build_pipeline(config, engine="vertex"): stock resolvers only (pipelines/build/baseline.py)
        -> KubeflowV2DagRunner -> job.json: a PipelineJob; no credentials needed or written
    python -m pipelines.run --config C --runner vertex [--schedule "CRON"]
        the same, then google.cloud.aiplatform.PipelineJob(...).submit(), or .create_schedule(cron)

Functions are referenced by module path (``components.transform.preprocessing_fn``...), so
the compiler builds no module wheel into ``pipeline_root/_wheels`` and compiling writes
nothing to the bucket. Every step runs in ``vertex.image`` (``configs/image/Dockerfile``).
Credentials come only from the environment (Application Default Credentials).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

from components import filesystem as fs
from pipelines.config import PipelineConfig
from pipelines.errors import ConfigError, PipelineError
from pipelines.runners.base import Progress, Runner, RunOutcome

__all__ = ["INSTALL", "VertexRunner", "check_vertex", "compile_job", "job_name", "main", "schedule_body", "submit_job"]

INSTALL = ".venv/bin/python -m pip install google-cloud-aiplatform kfp-pipeline-spec==0.2.2"
# Kubeflow V2 schema titles of this framework's artifact types ("namespace.Name", compiler_utils.py).
V2_TYPE_TITLES = {"ValidationVerdict": "declarative_tfx.ValidationVerdict"}
_CREDENTIALS_HINT = (
    "gcloud auth application-default login, or GOOGLE_APPLICATION_CREDENTIALS=/path/to/key.json; "
    "--compile-only needs none"
)


def job_name(config: PipelineConfig) -> str:
    """The Vertex pipeline name: ``pipeline.name`` lower-cased with ``_`` as ``-`` (``[a-z0-9][a-z0-9-]*``).

    Example:
        >>> job_name(config)  # pipeline.name: ad_click
        'ad-click'
    """
    return config.pipeline.name.lower().replace("_", "-")


def check_vertex(config: PipelineConfig) -> None:
    """ConfigError naming the key when ``config`` cannot run on Vertex AI; reads nothing, imports nothing heavy."""
    at = config.origin.locate
    problems = []
    if not config.pipeline.root.startswith("gs://"):
        problems.append(f"{at('pipeline.root')}{config.pipeline.root!r} is local; Vertex AI steps write to gs://")
    if not config.data.source.startswith("gs://"):
        problems.append(f"{at('data.source')}{config.data.source!r} is local; Vertex AI steps read gs:// only")
    if not config.push.serving_dir.startswith("gs://"):
        problems.append(f"{at('push.serving_dir')}{config.push.serving_dir!r} is local; use a gs:// folder")
    if config.vertex is None:
        problems.append(f"{at('vertex')}missing; add vertex: {{region: europe-west1, image: REGISTRY/NAME:TAG}}")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,127}", job_name(config)):
        problems.append(f"{at('pipeline.name')}{config.pipeline.name!r} cannot name a Vertex pipeline")
    if problems:
        raise ConfigError(problems, hint="see README, Operations > Google Cloud")


@contextlib.contextmanager
def _v2_type_titles() -> Iterator[None]:
    """Namespaced ``TYPE_NAME``s while compiling: V2 takes a custom type's name as its schema title."""
    from components.validation_gate import ValidationVerdict

    types = {ValidationVerdict.TYPE_NAME: ValidationVerdict}
    try:
        for old, cls in types.items():
            cls.TYPE_NAME = V2_TYPE_TITLES[old]
        yield
    finally:
        for old, cls in types.items():
            cls.TYPE_NAME = old


def compile_job(config: PipelineConfig, out: str) -> dict[str, Any]:
    """Compile ``config``'s pipeline for Vertex AI into the PipelineJob JSON file ``out``; the job as a dict.

    Raises:
        ConfigError: ``check_vertex`` failed, or kfp-pipeline-spec is not installed.
    """
    check_vertex(config)
    try:
        from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner as v2
    except ImportError as exc:
        raise ConfigError(f"cannot compile for Vertex AI: {exc}", hint=f"install it: {INSTALL}") from exc
    from pipelines.build.pipeline import build_pipeline

    pipeline = build_pipeline(config, engine="vertex")
    pipeline.pipeline_info.pipeline_name = job_name(config)
    runner = v2.KubeflowV2DagRunner(v2.KubeflowV2DagRunnerConfig(default_image=config.vertex.image))
    with _v2_type_titles():
        job = runner.run(pipeline, write_out=False)
    fs.write_text(out, json.dumps(job, indent=2, sort_keys=True) + "\n")
    return job


def schedule_body(config: PipelineConfig, job: dict[str, Any], cron: str) -> dict[str, Any]:
    """The Vertex AI ``Schedule`` (aiplatform v1, JSON) that starts ``job`` on ``cron``; what ``--schedule`` creates.

    Raises:
        ConfigError: no ``gcp.project`` (a schedule lives in a project).
    """
    if not config.gcp.project:
        raise ConfigError(f"{config.origin.locate('gcp.project')}missing; a Vertex AI schedule lives in a project")
    pipeline_job = {k: job[k] for k in ("displayName", "labels", "pipelineSpec", "runtimeConfig") if k in job}
    if config.vertex.service_account:
        pipeline_job["serviceAccount"] = config.vertex.service_account
    return {
        "displayName": f"{job_name(config)}-schedule",
        "cron": cron,
        "maxConcurrentRunCount": "1",
        "createPipelineJobRequest": {
            "parent": f"projects/{config.gcp.project}/locations/{config.vertex.region}",
            "pipelineJob": pipeline_job,
        },
    }


def _credentials() -> Any:
    """Application Default Credentials from the environment, or a PipelineError saying how to get them."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    except DefaultCredentialsError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PipelineError(
            f"no Google Cloud credentials in the environment ({first})", hint=_CREDENTIALS_HINT
        ) from exc
    return credentials


def submit_job(config: PipelineConfig, job_path: str, cron: str | None = None) -> str:
    """Submit the compiled ``job_path`` as a PipelineJob, or a schedule of it with ``cron``; its resource name.

    Raises:
        ConfigError: google-cloud-aiplatform is missing, or no ``gcp.project``.
        PipelineError: no credentials in the environment.
    """
    check_vertex(config)
    if not config.gcp.project:
        raise ConfigError("gcp.project: missing; Vertex AI needs the project to submit to")
    credentials = _credentials()
    try:
        from google.cloud import aiplatform
    except ImportError as exc:
        raise ConfigError("google-cloud-aiplatform is not installed", hint=f"install it: {INSTALL}") from exc

    aiplatform.init(project=config.gcp.project, location=config.vertex.region, credentials=credentials)
    job = aiplatform.PipelineJob(
        display_name=job_name(config),
        template_path=job_path,
        pipeline_root=config.pipeline.root,
        enable_caching=config.pipeline.enable_cache,
    )
    if cron:
        schedule = job.create_schedule(
            cron=cron, display_name=f"{job_name(config)}-schedule", service_account=config.vertex.service_account
        )
        return schedule.resource_name
    job.submit(service_account=config.vertex.service_account)
    return job.resource_name


class VertexRunner(Runner):
    """Vertex AI runs the pipeline remotely; ``pipelines.run --runner vertex`` compiles and submits it."""

    name = "vertex"

    def run(self, pipeline: Any, progress: Progress | None = None) -> RunOutcome:
        raise ConfigError(
            "runner vertex does not run here",
            hint="python -m pipelines.run --config C --runner vertex [--compile-only OUT.json]",
        )

    def check(self) -> None:
        self.run(None)


def main(config: PipelineConfig, runner: str | None, compile_only: str | None, cron: str | None) -> int:
    """``pipelines.run --runner vertex``: compile to ``compile_only``, or compile and submit (or schedule)."""
    if runner != "vertex":
        raise ConfigError("--compile-only and --schedule go with --runner vertex")
    check_vertex(config)
    cron = cron or (config.schedule.cron if config.schedule else None)
    if cron:
        from pipelines.config.schedule import check_cron

        try:
            cron = check_cron(cron)
        except ValueError as exc:
            raise ConfigError(f"--schedule: {exc}") from exc
        if cron.startswith("@"):
            raise ConfigError(f"--schedule {cron!r}: Vertex AI schedules take five cron fields, e.g. '0 3 1 * *'")
        if not config.gcp.project:
            raise ConfigError(f"{config.origin.locate('gcp.project')}missing; a Vertex AI schedule lives in a project")
    if compile_only:
        job = compile_job(config, compile_only)
        print(f"compiled {job_name(config)} for Vertex AI: {compile_only}", flush=True)
        if cron:
            path = _schedule_path(compile_only)
            fs.write_text(path, json.dumps(schedule_body(config, job, cron), indent=2, sort_keys=True) + "\n")
            print(f"schedule {cron!r}: {path}", flush=True)
        return 0
    if not config.gcp.project:
        raise ConfigError("gcp.project: missing; Vertex AI needs the project to submit to")
    _credentials()  # before compiling: no credentials, no half-done submission
    from pipelines.build.pipeline import stage_schema

    stage_schema(config)  # ImportSchemaGen reads the staged copy under the gs:// root
    out = fs.join(config.pipeline.root, "vertex", f"{job_name(config)}.json")
    compile_job(config, out)
    name = submit_job(config, out, cron)
    print(f"{'scheduled' if cron else 'submitted'} {job_name(config)} on Vertex AI: {name}", flush=True)
    return 0


def _schedule_path(job_path: str) -> str:
    """``job.json`` -> ``job.schedule.json``: the schedule written next to the job it starts."""
    stem = job_path[: -len(".json")] if job_path.endswith(".json") else job_path
    return stem + ".schedule.json"
