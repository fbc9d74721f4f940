"""What every runner is: it runs a built pipeline and says how the run went, nothing more.

    orchestration (pipelines.execute)                      runner (one module per engine)
    build_pipeline(config) ── pipeline ──> Runner.run(pipeline, progress) ──> engine runs it
                                                  │           (node started / finished / failed
                                                  │            -> Progress: console lines only)
    collect(config, outcome) <── RunOutcome ──────┘
        reads ML Metadata: the run's executions and artifacts

A runner runs, compiles or schedules; it never decides what a run produced. That is read
back from ML Metadata under ``RunOutcome.run_id`` (``pipelines.results.summary.collect``),
so summaries are the same for every engine. ``run`` never raises for a failing component:
the failure is in ML Metadata and the engine's message in ``RunOutcome.error``.
"""

from __future__ import annotations

import abc
import sys
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

__all__ = ["Progress", "RunOutcome", "Runner", "step"]


@dataclass(frozen=True)
class RunOutcome:
    """How a run went, as the engine saw it; what it produced is in ML Metadata under ``run_id``.

    Attributes:
        run_id: the ``pipeline_run`` context of this run in ML Metadata (set before the run starts).
        engine: the runner's name (``local``, ``airflow``).
        seconds: wall-clock time of the run.
        log_path: the engine's full log, when it keeps one on this machine.
        error: the engine's short message when the run stopped on an error; None when it ran through.
    """

    run_id: str
    engine: str
    seconds: float
    log_path: str | None = None
    error: str | None = None


class Runner(abc.ABC):
    """An engine that runs a built ``tfx.dsl.Pipeline``; settings go to the constructor.

    Example:
        >>> outcome = LocalRunner(log_dir="runs/x/logs").run(build_pipeline(config))
        >>> outcome.run_id
        '2026-01-31T10:00:00.123456'
    """

    name: str = "runner"

    def check(self) -> None:  # noqa: B027 - a hook: most engines run here and need no check
        """Raise ``ConfigError`` when this engine cannot run a pipeline from here (before anything starts)."""

    @abc.abstractmethod
    def run(self, pipeline: Any, progress: Progress | None = None) -> RunOutcome:
        """Run ``pipeline`` to its end or its first failure; report node events to ``progress``."""


def step(index: int, total: int) -> str:
    """``[index/total]`` padded to the width of ``[total/total]``, so the names after it start in one column.

    Example:
        >>> [step(1, 10), step(10, 10)]
        ['[1/10] ', '[10/10]']
    """
    return f"[{index}/{total}]".ljust(2 * len(str(total)) + 3)


@dataclass
class _Line:
    name: str
    index: int
    nodes: Sequence[str]
    started: float | None = None
    finished: set[str] = field(default_factory=set)
    cached: bool = True


class Progress:
    """Console progress, one line when a component starts and one when it ends (display only).

    A component may be several pipeline nodes (a gate and its stop node): its line starts with
    its first node and ends with its last, or with the first that fails. Nodes that belong to no
    component (resolvers) are not shown. The summary never reads these lines: it reads ML Metadata.

    Args:
        components: component name -> its node ids, in run order (``pipelines.build.component_nodes``).
        out: where the lines go (default: ``sys.stdout`` at the time of writing).
        on_start: component name -> called when that component starts (e.g. a prewarm).
        stop_nodes: the nodes that fail only to stop a run for a gate's verdict; their failure
            shows as ``blocked`` (``pipelines.build.stop_nodes``).
    """

    def __init__(
        self,
        components: Mapping[str, Sequence[str]],
        out: TextIO | None = None,
        on_start: Mapping[str, Any] | None = None,
        stop_nodes: Collection[str] = (),
    ) -> None:
        self._lines = [_Line(name, i, list(nodes)) for i, (name, nodes) in enumerate(components.items(), start=1)]
        self._by_node = {node: line for line in self._lines for node in line.nodes}
        self._width = max((len(line.name) for line in self._lines), default=0)
        self._out = out
        self._on_start = dict(on_start or {})
        self._stop_nodes = frozenset(stop_nodes)

    def _print(self, line: _Line, text: str) -> None:
        out = self._out or sys.stdout
        print(f"{step(line.index, len(self._lines))} {line.name:<{self._width}}  {text}", file=out, flush=True)

    def started(self, node: str) -> None:
        """``node`` started (or is being checked against the cache)."""
        line = self._by_node.get(node)
        if line is None or line.started is not None:
            return
        line.started = time.monotonic()
        self._print(line, "started")
        if line.name in self._on_start:
            self._on_start[line.name]()

    def finished(self, node: str, *, cached: bool) -> None:
        """``node`` ended well, by running or from the cache."""
        line = self._by_node.get(node)
        if line is None:
            return
        line.finished.add(node)
        line.cached = line.cached and cached
        if line.finished >= set(line.nodes):
            self._end(line, "cached" if line.cached else "ran", self._seconds(line))

    def failed(self, node: str) -> None:
        """``node`` failed: ``blocked`` when it is a gate's stop node, else ``failed``."""
        line = self._by_node.get(node)
        if line is not None:
            self._end(line, "blocked" if node in self._stop_nodes else "failed", self._seconds(line))

    def ended(self, name: str, status: str, seconds: float) -> None:
        """Component ``name``'s end line with a known status and time (a recorded run, replayed)."""
        line = next((line for line in self._lines if line.name == name), None)
        if line is not None:
            self._end(line, status, seconds)

    def _end(self, line: _Line, status: str, seconds: float) -> None:
        self._print(line, f"{status:<7} {seconds:6.1f} s")

    @staticmethod
    def _seconds(line: _Line) -> float:
        return time.monotonic() - line.started if line.started is not None else 0.0
