"""The TFX component around ``components.gate``: thin, the decision lives in ``gate.evaluate``."""


import json

from tfx import types
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts

from components import gate


class ValidationVerdict(types.Artifact):
    """The gate's verdict: ``verdict.json`` plus ``passed`` and ``statistics_id`` properties."""

    TYPE_NAME = "ValidationVerdict"


@component
def ValidationGate(  # noqa: N802 - TFX component names are classes
    anomalies: InputArtifact[standard_artifacts.ExampleAnomalies],
    verdict: OutputArtifact[ValidationVerdict],
    policy: Parameter[str],
    statistics: InputArtifact[standard_artifacts.ExampleStatistics] = None,
    schema: InputArtifact[standard_artifacts.Schema] = None,
    baseline_statistics: InputArtifact[standard_artifacts.ExampleStatistics] = None,
) -> None:
    """Stops the pipeline (raises ``DataBlocked``) when the anomalies or drift block the data."""
    rules = json.loads(policy)
    result = gate.evaluate(
        anomalies.uri, rules,
        statistics_uri=statistics.uri if statistics else None,
        schema_uri=schema.uri if schema else None,
        baseline_statistics_uri=baseline_statistics.uri if baseline_statistics else None,
    )
    gate.write_verdict(verdict.uri, result)
    verdict.set_int_custom_property("passed", int(result["passed"]))
    if statistics is not None:
        verdict.set_int_custom_property("statistics_id", statistics.id)
    if not result["passed"]:
        raise gate.DataBlocked(result)
