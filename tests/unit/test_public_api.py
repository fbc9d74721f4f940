"""Each package's public names are pinned: a change to ``__all__`` is a deliberate edit here too.

Every package ``__init__.py`` is a docstring, explicit imports and ``__all__`` (STYLE.md). The lists
below are written out in ``sorted()`` order; the modules themselves keep ruff's ``__all__`` order.
"""

from __future__ import annotations

import importlib

import pytest

PUBLIC_API: dict[str, list[str]] = {
    "pipelines": [
        "ConfigError",
        "DataBlockedError",
        "DataValidationError",
        "PipelineConfig",
        "PipelineError",
        "PipelineRunError",
        "PreflightError",
        "ScaffoldError",
        "ServingError",
        "build_pipeline",
        "load_config",
        "run_pipeline",
    ],
    "pipelines.config": [
        "ANOMALY_ALIASES",
        "ConfigSource",
        "METRICS",
        "PipelineConfig",
        "TASKS",
        "TASK_METRICS",
        "TRANSFORMS",
        "default_thresholds",
        "load_config",
        "parse_override",
    ],
    "pipelines.build": [
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
    ],
    "pipelines.runners": [
        "ENGINES",
        "LocalRunner",
        "Progress",
        "RunOutcome",
        "Runner",
        "runner_class",
    ],
    "pipelines.results": [
        "RunSummary",
        "cached_summary",
        "collect",
        "format_table",
        "read_run",
        "read_verdict",
        "record_success",
        "run_artifacts",
    ],
    "pipelines.history": [
        "Comparison",
        "RunDetails",
        "RunView",
        "compare_runs",
        "comparison_json",
        "details_json",
        "format_comparison",
        "format_details",
        "format_runs",
        "list_runs",
        "load_run",
        "read_record",
        "record_run",
        "run_statistics",
        "show_run",
        "write_index",
    ],
    "pipelines.results.reports": [
        "anomalies_from_proto",
        "drift_from_anomalies",
        "load_anomalies",
        "load_evaluation",
        "load_statistics",
        "render_evaluation_report",
        "render_validation_report",
    ],
    "pipelines.serving": [
        "ApiError",
        "LoadedVersion",
        "ModelRegistry",
        "RestServer",
        "handle",
        "make_server",
    ],
    "pipelines.data": [
        "InputFiles",
        "Problem",
        "ScaffoldRequest",
        "Scaffolded",
        "SchemaDiff",
        "check_environment",
        "csv_statistics",
        "diff_schema",
        "infer_schema",
        "preflight",
        "resolve",
        "scaffold",
    ],
    "pipelines.data.generators": [
        "COLUMNS",
        "DATASETS",
        "Generated",
        "LABEL",
        "TABLES",
        "generate",
        "generate_ad_click",
        "oracle_auc",
        "read_csv_columns",
        "roc_auc",
        "write_ad_click",
    ],
    "components": [],
}


def test_expected_lists_are_sorted_and_unique() -> None:
    for package, names in PUBLIC_API.items():
        assert names == sorted(set(names)), f"{package}: write the expected names sorted, once each"


@pytest.mark.parametrize("package", sorted(PUBLIC_API))
def test_all_is_pinned(package: str) -> None:
    module = importlib.import_module(package)
    declared = getattr(module, "__all__", None)
    assert declared is not None, f"{package.replace('.', '/')}/__init__.py declares no __all__"
    assert len(declared) == len(set(declared)), f"{package}.__all__ names something twice: {declared}"
    assert sorted(declared) == PUBLIC_API[package], (
        f"{package}.__all__ changed; if on purpose, update PUBLIC_API[{package!r}] in {__file__}"
    )


@pytest.mark.parametrize("package", sorted(PUBLIC_API))
def test_every_public_name_exists(package: str) -> None:
    module = importlib.import_module(package)
    missing = [name for name in getattr(module, "__all__", []) if not hasattr(module, name)]
    assert missing == [], f"{package}.__all__ names what the package does not define: {missing}"
