"""StatisticsGen's executor that profiles only the spans ExampleGen encoded in this run.

With the span store (``components.span_store``) an Examples artifact holds every span of the
rolling window, but only the new ones were ingested by this run; the rest were already
profiled and validated when they were new. This executor hands TFX's StatisticsGen executor a
copy of the Examples artifact whose ``custom_split_pattern`` (TFX's own way to point readers
at part of a split) names the encoded shards only, so the statistics, ExampleValidator's
anomalies and the data gate cover the new data, and drift is measured between the new span and
the previous run's statistics. Without the store's property it is TFX's executor unchanged.

Used as ``statistics_gen.executor_spec = BeamExecutorSpec(Executor)``.
"""

from __future__ import annotations

import json
from typing import Any

from tfx.components.statistics_gen import executor as statistics_executor
from tfx.components.util import examples_utils
from tfx.types import artifact_utils, standard_component_specs

from components.local_beam import LocalBeamExecutor
from components.span_store import encoded_split_patterns

__all__ = ["Executor", "new_data_view"]


def new_data_view(examples: Any) -> Any:
    """``examples`` itself, or an in-memory copy reading only the shards encoded by its run."""
    from ml_metadata.proto import metadata_store_pb2

    patterns = encoded_split_patterns(examples)
    if not patterns:
        return examples
    proto = metadata_store_pb2.Artifact()
    proto.CopyFrom(examples.mlmd_artifact)
    view = type(examples)()
    view.set_mlmd_artifact(proto)
    view.set_string_custom_property(examples_utils.CUSTOM_SPLIT_PATTERN_PROPERTY_NAME, json.dumps(patterns))
    return view


class Executor(LocalBeamExecutor, statistics_executor.Executor):
    """TFX's StatisticsGen executor over the newly encoded spans (all shards without the store); no
    ``tfx_ephemeral`` sdist on the DirectRunner (``components.local_beam``)."""

    def Do(self, input_dict: dict[str, Any], output_dict: dict[str, Any], exec_properties: dict[str, Any]) -> None:
        examples = artifact_utils.get_single_instance(input_dict[standard_component_specs.EXAMPLES_KEY])
        inputs = {**input_dict, standard_component_specs.EXAMPLES_KEY: [new_data_view(examples)]}
        super().Do(inputs, output_dict, exec_properties)
