"""Run one command as a monitored subprocess: per-phase wall time and peak RSS.

The child runs in its own session (process group). Two reader threads timestamp
every stdout/stderr line as it arrives and hand it to a ``parse_line`` callback,
which turns progress lines into phase events (a component started / ended). The
main thread samples the RSS of the whole process tree (the child and all its
descendants, summed) every ``interval`` seconds. After the child exits, samples are
attributed to phases by time:

    (startup)   process start -> first phase start   (interpreter, imports, build)
    <phase>     its start line -> its end line
    (between)   gaps between phases (e.g. a resolver the progress lines skip)
    (teardown)  last phase end -> process exit       (summary, shutdown)

A run that exits non-zero is ``failed``; one still running after ``timeout``
seconds has its process group terminated and is ``timeout``; a phase still open at
exit is recorded with that status. Nothing here raises for a failing child.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

# (stream, line) -> None, or ("start", name, None) / ("end", name, status) / ("mark", name, None)
Event = tuple[str, str, str | None]
LineParser = Callable[[str, str], Event | None]

STARTUP, BETWEEN, TEARDOWN = "(startup)", "(between)", "(teardown)"


@dataclass
class Phase:
    name: str
    start: float
    end: float | None = None
    status: str = "ran"  # ran | cached | failed | timeout | unfinished
    peak_rss: int = 0  # bytes, process tree, sampled
    samples: int = 0

    @property
    def seconds(self) -> float:
        return (self.end if self.end is not None else self.start) - self.start


@dataclass
class RunResult:
    cmd: list[str]
    status: str  # ok | failed | timeout | error
    exit_code: int | None
    wall: float
    phases: list[Phase]  # components in order, then the synthetic (startup)/(between)/(teardown)
    peak_rss: int  # bytes, process tree, sampled
    max_proc_rss: int  # bytes, largest single process (kernel ru_maxrss via wait4)
    cpu_seconds: float  # user + sys of the child and its reaped descendants
    marks: list[tuple[str, float]] = field(default_factory=list)  # (name, seconds since start), in order
    stderr_tail: list[str] = field(default_factory=list)
    stdout_tail: list[str] = field(default_factory=list)
    log_path: str | None = None
    error: str | None = None

    def phase(self, name: str) -> Phase | None:
        return next((p for p in self.phases if p.name == name), None)

    @property
    def components(self) -> list[Phase]:
        return [p for p in self.phases if not p.name.startswith("(")]


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return []


def _tree_rss(procs: list[psutil.Process]) -> int:
    """Summed RSS of a process and its descendants (pages shared between them count once per process)."""
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _kill_tree(pid: int, known: list[psutil.Process], grace: float = 10.0, *, reaped: bool = False) -> None:
    """SIGTERM the child's process group (the one we created), then SIGKILL what is left.

    ``known`` are descendants seen while sampling; psutil checks their start time, so a
    reused pid is never signalled. The child itself is left as a zombie for ``wait4``;
    once it is ``reaped``, only ``known`` processes are signalled.
    """
    current: list[psutil.Process] = []
    if not reaped:
        with contextlib.suppress(psutil.Error):
            current = _tree(psutil.Process(pid))[1:]
    tree = {p.pid: p for p in [*known, *current]}
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 3.0)):
        if not reaped:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)
        for p in tree.values():
            with contextlib.suppress(psutil.Error):
                p.send_signal(sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                child_alive = not reaped and _alive(psutil.Process(pid))
            except psutil.Error:
                child_alive = False
            if not child_alive and not any(_alive(p) for p in tree.values()):
                return
            time.sleep(0.2)


def run_monitored(
    cmd: list[str],
    *,
    parse_line: LineParser | None = None,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    log_path: str | None = None,
    interval: float = 0.2,
    echo: Callable[[str], None] | None = None,
) -> RunResult:
    """Run ``cmd`` to completion (or timeout) and measure it; never raises for the child's failure.

    Example:
        >>> r = run_monitored(["python", "-c", "print('hi')"])
        >>> r.status, r.exit_code
        ('ok', 0)
    """
    events: list[tuple[float, Event]] = []
    lock = threading.Lock()
    tails = {"stdout": deque(maxlen=40), "stderr": deque(maxlen=40)}
    # Closed in the finally below, once the reader threads are done with it.
    log = open(log_path, "w", encoding="utf-8", errors="replace") if log_path else None  # noqa: SIM115
    t0 = time.monotonic()

    def reader(stream_name: str, pipe) -> None:
        for raw in iter(pipe.readline, b""):
            now = time.monotonic() - t0
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            tails[stream_name].append(line)
            with lock:
                if log:
                    log.write(f"[{now:9.3f} {stream_name[3:]}] {line}\n")
            event = None
            if parse_line is not None:
                try:
                    event = parse_line(stream_name, line)
                except Exception:  # noqa: BLE001 - a parser bug must not kill the reader
                    event = None
            if event is not None:
                with lock:
                    events.append((now, event))
                if echo and event[0] in ("start", "end"):
                    echo(f"    {now:8.1f} s  {event[1]} {event[2] or event[0]}")
        pipe.close()

    try:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        if log:
            log.close()
        return RunResult(cmd, "error", None, 0.0, [], 0, 0, 0.0, log_path=log_path, error=f"cannot start: {exc}")

    threads = [
        threading.Thread(target=reader, args=(n, p), daemon=True)
        for n, p in (("stdout", proc.stdout), ("stderr", proc.stderr))
    ]
    for t in threads:
        t.start()
    ps = psutil.Process(proc.pid)
    seen: dict[int, psutil.Process] = {}  # every descendant sampled, for cleanup
    samples: list[tuple[float, int]] = []
    status, exit_code, rusage = "ok", None, None
    try:
        while True:
            pid, wstatus, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                exit_code = os.waitstatus_to_exitcode(wstatus)
                proc.returncode = exit_code  # reaped here (wait4 gives rusage); Popen must not wait again
                rusage = ru
                break
            tree = _tree(ps)
            seen.update((p.pid, p) for p in tree[1:])
            samples.append((time.monotonic() - t0, _tree_rss(tree)))
            if timeout is not None and time.monotonic() - t0 > timeout:
                status = "timeout"
                _kill_tree(proc.pid, list(seen.values()))
                _, wstatus, rusage = os.wait4(proc.pid, 0)
                exit_code = os.waitstatus_to_exitcode(wstatus)
                proc.returncode = exit_code
                break
            time.sleep(interval)
    except BaseException:  # KeyboardInterrupt or a harness bug: never leave the child running
        if proc.returncode is None:
            _kill_tree(proc.pid, list(seen.values()), grace=3.0)
            with contextlib.suppress(ChildProcessError):
                os.wait4(proc.pid, 0)
            proc.returncode = -9
        raise
    finally:
        wall = time.monotonic() - t0
        # Descendants that outlived the child (none expected) would hold our pipes open.
        leftovers = [p for p in seen.values() if _alive(p)]
        if leftovers:
            _kill_tree(proc.pid, leftovers, grace=3.0, reaped=proc.returncode is not None)
        for t in threads:
            t.join(timeout=10)
        if log:
            log.close()
    if status == "ok" and exit_code != 0:
        status = "failed"

    phases = _phases(events, wall, status)
    _attribute(phases, samples)
    return RunResult(
        cmd=cmd,
        status=status,
        exit_code=exit_code,
        wall=wall,
        phases=phases,
        peak_rss=max((s for _, s in samples), default=0),
        max_proc_rss=(rusage.ru_maxrss * 1024) if rusage else 0,
        cpu_seconds=(rusage.ru_utime + rusage.ru_stime) if rusage else 0.0,
        marks=sorted(((name, t) for t, (kind, name, _) in events if kind == "mark"), key=lambda m: m[1]),
        stderr_tail=list(tails["stderr"]),
        stdout_tail=list(tails["stdout"]),
        log_path=log_path,
    )


def _phases(events: list[tuple[float, Event]], wall: float, run_status: str) -> list[Phase]:
    """Phase intervals from start/end events, plus the synthetic startup/between/teardown phases."""
    comps: list[Phase] = []
    current: Phase | None = None
    for t, (kind, name, status) in sorted(events, key=lambda e: e[0]):
        if kind == "start":
            if current is not None:  # a start without an end: close the open one here
                current.end, current.status = t, "unfinished"
            current = Phase(name, t)
            comps.append(current)
        elif kind == "end":
            if current is None:  # an end line with no start line: reported as done (e.g. all cached, zero time)
                comps.append(Phase(name, t, t, status or "ran"))
                continue
            if current.name != name:
                continue
            current.end, current.status = t, status or "ran"
            current = None
    if current is not None:
        current.end = wall
        current.status = "timeout" if run_status == "timeout" else "failed"
    synthetic: list[Phase] = []
    first = comps[0].start if comps else wall
    synthetic.append(Phase(STARTUP, 0.0, first))
    gaps = [(a.end, b.start) for a, b in itertools.pairwise(comps) if a.end is not None and b.start > a.end]
    if gaps:
        between = Phase(BETWEEN, 0.0, sum(b - a for a, b in gaps))
        between.gaps = gaps  # type: ignore[attr-defined]
        synthetic.append(between)
    last = comps[-1].end if comps else wall
    synthetic.append(Phase(TEARDOWN, last, wall))
    return comps + synthetic


def _attribute(phases: list[Phase], samples: list[tuple[float, int]]) -> None:
    """Each RSS sample goes to the phase whose interval holds it; a phase too short for a
    sample gets the larger of the samples just before and after it."""

    def intervals(p: Phase) -> list[tuple[float, float]]:
        return getattr(p, "gaps", None) or [(p.start, p.end if p.end is not None else p.start)]

    for p in phases:
        spans = intervals(p)
        inside = [s for t, s in samples if any(a <= t < b for a, b in spans)]
        if inside:
            p.peak_rss, p.samples = max(inside), len(inside)
            continue
        near = []
        for a, b in spans:
            before = [s for t, s in samples if t < a][-1:]
            after = [s for t, s in samples if t >= b][:1]
            near += before + after
        p.peak_rss = max(near, default=0)
