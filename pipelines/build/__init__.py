"""Typed config -> TFX components -> ``tfx.dsl.Pipeline``: the same pipeline for every runner.

Pure: builds, never runs. TFX is imported only inside the functions that build.
"""

from pipelines.build.evaluation import eval_config
from pipelines.build.pipeline import (
    GENERIC_PREPROCESSING_FN,
    GENERIC_RUN_FN,
    STOP_SUFFIX,
    build_components,
    build_pipeline,
    component_names,
    component_nodes,
    gate_parameters,
    stage_schema,
    staged_schema_path,
    stop_nodes,
)

__all__ = [
    "GENERIC_PREPROCESSING_FN",
    "GENERIC_RUN_FN",
    "STOP_SUFFIX",
    "build_components",
    "build_pipeline",
    "component_names",
    "component_nodes",
    "eval_config",
    "gate_parameters",
    "stage_schema",
    "staged_schema_path",
    "stop_nodes",
]
