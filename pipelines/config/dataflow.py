"""``beam.dataflow``: where the data components run on Google Cloud Dataflow.

    beam:
      runner: DataflowRunner            # from configs/profiles/dataflow.yaml (--profile dataflow)
      dataflow:
        project: ad-click-prod
        region: europe-west1
        temp_location: gs://ad-click-logs/dataflow/tmp
        extra_package: dist/declarative_tfx-0.1.0-py3-none-any.whl   # `make wheel`; or sdk_container_image

Workers must import this framework's code (``components.*``): a wheel staged with
``--extra_package`` or a worker image (``--sdk_container_image``). Naming one also stops TFX
from building a ``tfx_ephemeral`` sdist of itself for every executor
(``tfx/utils/dependency_utils.py``). Light: pydantic only. No credentials: Dataflow's client
finds them in the environment.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from pipelines.config.base import Strict
from pipelines.config.gcp import check_project, check_region

__all__ = ["DataflowSection", "require_dataflow"]


def _gcs(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"gs://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](/.*)?", value):
        raise ValueError(f"{value!r} must be a gs://bucket/prefix path: Dataflow workers cannot reach a local one")
    return value


class DataflowSection(Strict):
    project: str = Field(description="Google Cloud project the Dataflow jobs run in.")
    region: str = Field(description="Dataflow region, e.g. europe-west1.")
    temp_location: str = Field(description="gs:// folder for Dataflow's temporary files.")
    staging_location: str | None = Field(None, description="gs:// folder for staged packages; default temp_location.")
    machine_type: str = Field("n1-standard-4", description="Worker machine type.")
    max_num_workers: int = Field(10, ge=1, le=1000, description="Autoscaling bound on Dataflow workers.")
    extra_package: str | None = Field(
        None, description="Wheel of this package staged on the workers (`make wheel` writes dist/*.whl)."
    )
    sdk_container_image: str | None = Field(
        None, description="Worker container image with this package installed (instead of extra_package)."
    )

    _gcs_only = field_validator("temp_location", "staging_location")(_gcs)

    _project_ok = field_validator("project")(check_project)
    _region_ok = field_validator("region")(check_region)

    @model_validator(mode="after")
    def _worker_code(self) -> DataflowSection:
        if bool(self.extra_package) == bool(self.sdk_container_image):
            raise ValueError(
                "set exactly one of extra_package (a wheel: `make wheel`) or sdk_container_image, so Dataflow "
                "workers can import components.*"
            )
        return self

    def args(self) -> list[str]:
        """Beam pipeline options for DataflowRunner (Runner v2), without ``--runner``.

        Example:
            >>> section.args()[:2]
            ['--project=ad-click-prod', '--region=europe-west1']
        """
        code = (
            [f"--extra_package={self.extra_package}"]
            if self.extra_package
            else [f"--sdk_container_image={self.sdk_container_image}", "--sdk_location=container"]
        )
        return [
            f"--project={self.project}",
            f"--region={self.region}",
            f"--temp_location={self.temp_location}",
            f"--staging_location={self.staging_location or self.temp_location.rstrip('/') + '/staging'}",
            f"--machine_type={self.machine_type}",
            f"--max_num_workers={self.max_num_workers}",
            "--experiments=use_runner_v2",
            *code,
        ]


def require_dataflow(runner: str, dataflow: DataflowSection | None) -> None:
    """ValueError when ``beam.runner`` and ``beam.dataflow`` disagree."""
    if runner == "DataflowRunner" and dataflow is None:
        raise ValueError(
            "beam.runner DataflowRunner needs a beam.dataflow section (project, region, temp_location): "
            "add --profile dataflow or write one"
        )
    if runner != "DataflowRunner" and dataflow is not None:
        raise ValueError(f"beam.dataflow is set but beam.runner is {runner}: set beam.runner: DataflowRunner")
