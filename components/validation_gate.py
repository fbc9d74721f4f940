"""The TFX components around ``components.gate``: thin, the decision lives in ``gate.evaluate``.

A gate is two nodes. ``ValidationGate`` decides and always succeeds, so its verdict is
published in ML Metadata whatever it says (TFX publishes no outputs of a failed execution and
deletes their folders). ``StopIfBlocked`` reads that verdict and fails when it did not pass,
which stops every engine's run before anything downstream starts. The next component waits for
``StopIfBlocked`` by an ordering edge only, so a rerun gate does not change its cache key.

    anomalies, statistics, schema, baseline, [examples] ──> ValidationGate ──verdict──> StopIfBlocked ··> Transform

The parameters are typed values (TFX stores the dict and list ones as JSON with their type):
see :func:`components.gate.policy_from_parameters` for what each one means. ``examples`` (with
``image_features``) is ExampleGen's output, for its image report (``components.image_checks``).
"""

from tfx import types
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts

from components import gate as gate_lib


class ValidationVerdict(types.Artifact):
    """The gate's verdict: ``verdict.json`` plus ``passed``, ``gate`` and ``statistics_id`` properties."""

    TYPE_NAME = "ValidationVerdict"


@component
def ValidationGate(  # noqa: N802 - TFX component names are classes
    anomalies: InputArtifact[standard_artifacts.ExampleAnomalies],
    verdict: OutputArtifact[ValidationVerdict],
    gate: Parameter[str],
    block_on: Parameter[str],
    allow: Parameter[dict[str, list[str]]],
    label: Parameter[str],
    task: Parameter[str],
    classes: Parameter[list[str]] = None,
    positive: Parameter[str] = None,
    schema_path: Parameter[str] = None,
    drift_categorical_threshold: Parameter[float] = None,
    drift_numeric_threshold: Parameter[float] = None,
    drift_features: Parameter[dict[str, float]] = None,
    skew_threshold: Parameter[float] = None,
    skew_data: Parameter[str] = None,
    image_features: Parameter[dict[str, float]] = None,
    statistics: InputArtifact[standard_artifacts.ExampleStatistics] = None,
    schema: InputArtifact[standard_artifacts.Schema] = None,
    baseline_statistics: InputArtifact[standard_artifacts.ExampleStatistics] = None,
    examples: InputArtifact[standard_artifacts.Examples] = None,
) -> None:
    """Decide whether the data may pass and record the verdict; never stops the run itself."""
    policy = gate_lib.policy_from_parameters(
        gate=gate,
        block_on=block_on,
        allow=allow,
        label=label,
        task=task,
        classes=classes,
        positive=positive,
        schema_path=schema_path,
        drift_categorical_threshold=drift_categorical_threshold,
        drift_numeric_threshold=drift_numeric_threshold,
        drift_features=drift_features,
        skew_threshold=skew_threshold,
        skew_data=skew_data,
        image_features=image_features,
    )
    result = gate_lib.evaluate(
        anomalies.uri,
        policy,
        statistics_uri=statistics.uri if statistics else None,
        schema_uri=schema.uri if schema else None,
        baseline_statistics_uri=baseline_statistics.uri if baseline_statistics else None,
        examples_uri=examples.uri if examples else None,
    )
    gate_lib.write_verdict(verdict.uri, result)
    verdict.set_int_custom_property("passed", int(result["passed"]))
    verdict.set_string_custom_property("gate", gate)
    if statistics is not None:
        verdict.set_int_custom_property("statistics_id", statistics.id)


@component
def StopIfBlocked(verdict: InputArtifact[ValidationVerdict]) -> None:  # noqa: N802
    """Stop the run (raise ``DataBlocked``) when the gate's recorded verdict did not pass."""
    if verdict.get_int_custom_property("passed") != 1:
        raise gate_lib.DataBlocked(gate_lib.read_verdict(verdict.uri))
