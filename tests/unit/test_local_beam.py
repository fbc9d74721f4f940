"""Beam executors build no tfx_ephemeral sdist on the DirectRunner (issue 17; components/local_beam.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("tfx")

REPO = Path(__file__).resolve().parents[2]
LOCAL_ARGS = ["--runner=DirectRunner", "--direct_running_mode=in_memory", "--direct_num_workers=1"]


@pytest.mark.parametrize(
    ("args", "local"),
    [
        (LOCAL_ARGS, True),
        (["--direct_num_workers=2"], True),  # no runner: Beam's default, the DirectRunner
        (["--runner=direct"], True),
        (["--runner=SwitchingDirectRunner"], True),
        (["--runner=DataflowRunner", "--project=p"], False),
        (["--runner", "PortableRunner"], False),
    ],
)
def test_runs_locally_names_the_direct_runner_only(args: list[str], local: bool) -> None:
    from components.local_beam import runs_locally

    assert runs_locally(args) is local


def _beam_executors(tmp_path: Path) -> dict[str, type]:
    """The executor class of every Beam component the ad_click pipeline builds, by node id."""
    from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor

    from pipelines.build import build_components
    from pipelines.config import load_config

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.csv").write_text((REPO / "tests" / "unit" / "ad_click_header.csv").read_text())
    cfg = load_config(
        REPO / "configs" / "ad_click.yaml", [f"data.source={tmp_path / 'd'}", f"pipeline.root={tmp_path / 'r'}"]
    )
    found = {}
    for node in build_components(cfg):
        executor = getattr(node.executor_spec, "executor_class", None)
        if isinstance(executor, type) and issubclass(executor, BaseBeamExecutor):
            found[node.id] = executor
    return found


def test_every_beam_executor_keeps_its_args_on_the_direct_runner(tmp_path: Path) -> None:
    """TFX's own executors append ``--extra_package=<tmp>/tfx_ephemeral-*.tar.gz`` after building it."""
    from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor

    executors = _beam_executors(tmp_path)
    assert set(executors) == {"CsvExampleGen", "StatisticsGen", "Transform", "Evaluator"}
    for node, executor in executors.items():
        context = BaseBeamExecutor.Context(beam_pipeline_args=list(LOCAL_ARGS), tmp_dir=str(tmp_path), unique_id="7")
        built = executor(context)
        assert built._beam_pipeline_args == LOCAL_ARGS, node  # the args the Beam pipeline gets
        assert built._get_tmp_dir() == context.get_tmp_path(), node  # the rest of the context kept


def test_another_runner_keeps_tfx_dependency_handling(tmp_path: Path) -> None:
    """Dataflow: TFX's code path (the profile names the wheel, so TFX builds no sdist there either)."""
    from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor

    from components.local_executors import TransformExecutor

    args = ["--runner=DataflowRunner", "--project=p", "--extra_package=dist/x.whl"]
    built = TransformExecutor(BaseBeamExecutor.Context(beam_pipeline_args=list(args), tmp_dir=str(tmp_path)))
    assert built._beam_pipeline_args[: len(args)] == args
    assert any(a.startswith("--labels") for a in built._beam_pipeline_args)  # TFX's telemetry labels


def test_dill_trace_sets_the_same_levels_without_clearing_every_logger_cache() -> None:
    """Beam's pickler calls ``dill.dill._trace(False)`` after every pickle; a level that does not change
    must not clear the cache of every logger in the process (``Logger.setLevel`` does)."""
    import logging

    from dill import _dill

    from components.local_beam import quiet_dill_trace

    quiet_dill_trace()
    dill_log, other = logging.getLogger("dill"), logging.getLogger("tests.local_beam")
    _dill._trace(True)
    assert dill_log.level == logging.INFO
    _dill._trace(False)
    assert dill_log.level == logging.WARN
    other.isEnabledFor(logging.DEBUG)  # fills the logger's level cache
    _dill._trace(False)
    assert other._cache, "an unchanged dill level cleared the other loggers' caches"
