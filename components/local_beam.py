"""TFX's Beam executors without the ``tfx_ephemeral`` sdist on Beam's DirectRunner.

Given any Beam pipeline args, TFX's ``BaseBeamExecutor`` copies its own install tree and runs
``setup.py sdist`` in a subprocess (``tfx.utils.dependency_utils.build_ephemeral_package``) so
that remote workers can import TFX, unless a flag such as ``--extra_package`` already ships the
code. It does so for every Beam executor of every run: CsvExampleGen, StatisticsGen, Transform
and Evaluator, 1.8 to 4.3 s each at load 2.5-3 (``benchmarks/results/small_runs.md``). The DirectRunner never
stages anything (its workers are this process or local subprocesses of the same interpreter), so
there the package is built for nothing and left behind in a temporary folder.

:class:`LocalBeamExecutor` goes in front of a TFX Beam executor in the class bases and skips that
step when the args name the DirectRunner; the executor then runs with exactly the args it was
given. Any other runner (Dataflow, whose profile names the project's wheel) keeps TFX's behaviour.

It also makes Beam's pickler cheaper to call (:func:`quiet_dill_trace`, on every runner): Beam calls
``dill.dill._trace(False)`` after each of the thousands of pickles and unpickles a component makes,
which calls ``Logger.setLevel``, which clears the cache of every logger in the process (about 370
once TFX, TFDV, TFT and TFMA are imported) even when the level does not change.

Example:
    >>> class Executor(LocalBeamExecutor, tfx_evaluator.Executor): ...
"""

from __future__ import annotations

import copy
import logging
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["DIRECT_RUNNERS", "LocalBeamExecutor", "quiet_dill_trace", "runs_locally"]

# Beam's names for its local runners (``--runner``, case-insensitive); no runner means the DirectRunner.
DIRECT_RUNNERS = frozenset({"direct", "directrunner", "switchingdirectrunner", "bundlebaseddirectrunner"})


def runs_locally(beam_pipeline_args: Sequence[Any]) -> bool:
    """Whether these Beam pipeline args run on the DirectRunner (Beam's default runner).

    Example:
        >>> runs_locally(["--runner=DirectRunner", "--direct_num_workers=2"]), runs_locally(["--runner=DataflowRunner"])
        (True, False)
    """
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    runner = PipelineOptions(flags=[str(a) for a in beam_pipeline_args]).view_as(StandardOptions).runner
    return runner is None or str(runner).lower() in DIRECT_RUNNERS


def _set_dill_trace(boolean: bool) -> None:
    """dill's ``_trace``: the ``dill`` logger at INFO (tracing) or WARN, set only when it changes."""
    level = logging.INFO if boolean else logging.WARN
    log = logging.getLogger("dill")
    if log.level != level:
        log.setLevel(level)


def quiet_dill_trace() -> None:
    """Replace ``dill.dill._trace`` (which Beam's pickler calls around every pickle) with
    :func:`_set_dill_trace`: the same levels, without clearing every logger's cache on each call."""
    from dill import _dill  # Beam's pickler names this module dill.dill

    _dill._trace = _set_dill_trace


class LocalBeamExecutor:
    """A mixin for a TFX ``BaseBeamExecutor`` subclass: no ``tfx_ephemeral`` sdist on the DirectRunner.

    The base constructor gets the context without Beam args (so it builds no package), then the
    executor keeps the args unchanged and parses them as absl flags, as the base class does.
    """

    _beam_pipeline_args: list[Any]

    def __init__(self, context: Any = None) -> None:
        quiet_dill_trace()
        args = list(getattr(context, "beam_pipeline_args", None) or [])
        if not args or not runs_locally(args):
            super().__init__(context)  # type: ignore[call-arg]
            return
        local = copy.copy(context)
        local.beam_pipeline_args = []
        super().__init__(local)  # type: ignore[call-arg]
        self._beam_pipeline_args = args
        from absl import flags

        flags.FLAGS(sys.argv + [str(a) for a in args], known_only=True)  # as BaseBeamExecutor does
