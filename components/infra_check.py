"""Docker-free infra validation: load the candidate SavedModel and query it, in a separate process.

The equivalent of TFX InfraValidator's LOAD_AND_QUERY mode without a model server: a child
process (``python -m components.infra_check``) loads the SavedModel the way a server would,
calls ``serving_default`` with the raw columns of a few eval rows and ``serving_examples``
with the same rows as serialized ``tf.Example``s, and checks that both answer with one
finite value per row and agree. A separate process means a model that crashes, hangs or
leaks while loading cannot take the pipeline with it. The check itself is
:mod:`components.infra_query`; this module runs it in the child and waits for the verdict.

In a local run the child is started early (:func:`prewarm`, when the Evaluator starts), and the
Evaluator hands it the candidate right away (:func:`start_check`), so the load and query overlap
the evaluation and the Pusher's ``check_model`` only collects the verdict.

Example:
    >>> verdict = check_model("runs/x/Trainer/model/6/Format-Serving", rows, timeout_s=120)
    >>> verdict.ok, verdict.reason
    (True, 'loaded in 1.2 s; serving_default and serving_examples answered 8 rows and agree')
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from components import filesystem as fs
from components.infra_query import EXAMPLES_SIGNATURE, RAW_SIGNATURE, Verdict, check_files, query_model

__all__ = [
    "EXAMPLES_SIGNATURE",
    "RAW_SIGNATURE",
    "Verdict",
    "check_model",
    "discard_warm",
    "has_warm",
    "prewarm",
    "query_model",
    "start_check",
]

_PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def check_model(
    model_dir: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]], timeout_s: float = 300.0
) -> Verdict:
    """Load and query ``model_dir`` with ``rows`` in a child process; never raises for a bad model.

    Args:
        model_dir: the SavedModel directory.
        rows: raw rows ``{column: value}`` (str, int or float values), e.g. eval examples.
        timeout_s: how long loading and querying may take in total.
    """
    model_dir = os.fspath(model_dir)
    early = check_files(model_dir)
    if early is not None:
        return early
    if not rows:
        return Verdict(
            False,
            "no eval row has exactly one value in every serving_default column, so there is "
            "nothing to query the model with; set push.infra_validation: false to push unchecked",
        )
    pending = _take_pending(model_dir, rows)
    if pending is not None:  # started early (start_check): wait for that answer
        try:
            # The budget runs from the request; the child shared the machine with the evaluation
            # meanwhile, so it gets at least a tenth of it from now.
            remaining = max(timeout_s - (time.monotonic() - pending.started), timeout_s / 10)
            return _answer(pending.child, None, pending.out_path, model_dir, len(rows), remaining, timeout_s)
        finally:
            fs.rmtree(pending.tmp)
    with tempfile.TemporaryDirectory(prefix="infra-check-") as tmp:
        rows_path, out_path = fs.join(tmp, "rows.json"), fs.join(tmp, "verdict.json")
        fs.write_text(rows_path, json.dumps([_to_json(r) for r in rows]))
        child = _take_warm() or _Child()
        request = json.dumps([model_dir, rows_path, out_path]) + "\n"
        return _answer(child, request, out_path, model_dir, len(rows), timeout_s, timeout_s)


def _answer(
    child: _Child, request: str | None, out_path: str, model_dir: str, n: int, wait_s: float, timeout_s: float
) -> Verdict:
    """Send ``request`` (None: already sent) and wait up to ``wait_s`` for the child's verdict."""
    try:
        child.proc.communicate(request, timeout=wait_s)
    except subprocess.TimeoutExpired:
        child.kill()
        return Verdict(
            False,
            f"the model at {model_dir} did not load and answer {n} rows within "
            f"{timeout_s:.0f} s; check that it loads with tf.saved_model.load",
        )
    except (BrokenPipeError, OSError):
        child.proc.wait()
    stderr = child.close()
    if fs.exists(out_path):
        return Verdict(**json.loads(fs.read_text(out_path)))
    code = child.proc.returncode
    how = f"was killed by signal {-code}" if code < 0 else f"exited with {code}"
    tail = " | ".join(line for line in stderr.strip().splitlines()[-3:])
    return Verdict(False, f"the process loading {model_dir} {how} before answering" + (f": {tail}" if tail else ""))


class _Child:
    """``python -m components.infra_check --wait``: imports TensorFlow, then checks the one model
    named on its stdin and exits. Its stderr goes to a temporary file, for the verdict."""

    def __init__(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PROJECT_ROOT, env.get("PYTHONPATH")) if p)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        # Closed in close(), after the child exits; a scratch file, not a path the pipeline reads.
        self.stderr = tempfile.TemporaryFile(mode="w+", prefix="infra-check-stderr-")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "components.infra_check", "--wait"],
            env=env,
            cwd=_PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
            text=True,
        )

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.close()

    def close(self) -> str:
        if self.stderr.closed:
            return ""
        self.stderr.seek(0)
        text = self.stderr.read()
        self.stderr.close()
        return text


_warm: _Child | None = None


def prewarm() -> None:
    """Start the checking process now, so it imports TensorFlow (about 8 s, on a core the
    pipeline's single-worker Beam stages leave idle) while the pipeline runs; the next
    ``check_model`` in this process uses it. Each child checks one model: isolation is kept."""
    global _warm
    if _warm is None or _warm.proc.poll() is not None:
        _warm = _Child()


def has_warm() -> bool:
    """Whether a prewarmed checker waits for a model (:func:`prewarm`)."""
    return _warm is not None and _warm.proc.poll() is None


def discard_warm() -> None:
    """Stop an unused prewarmed process (the run ended before the Pusher), and an early check
    (:func:`start_check`) the Pusher did not collect (the model was not blessed)."""
    global _warm
    _discard_pending()
    if _warm is not None:
        if _warm.proc.poll() is None:
            _warm.proc.terminate()
            try:
                _warm.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _warm.kill()
        _warm.close()
        _warm = None


def _take_warm() -> _Child | None:
    global _warm
    child, _warm = _warm, None
    if child is not None and child.proc.poll() is not None:  # died while waiting: start afresh
        child.close()
        return None
    return child


@dataclass
class _Pending:
    """A check handed to the prewarmed child before the Pusher asked for it (:func:`start_check`)."""

    key: str
    child: _Child
    tmp: str
    out_path: str
    started: float


_pending: _Pending | None = None


def _request_key(model_dir: str, rows: Sequence[Mapping[str, Any]]) -> str:
    return json.dumps([os.fspath(model_dir), [_to_json(r) for r in rows]], sort_keys=True, default=str)


def start_check(model_dir: str, rows: Sequence[Mapping[str, Any]]) -> bool:
    """Hand the prewarmed checker (:func:`prewarm`) ``model_dir`` and ``rows`` now, without waiting.

    The Evaluator does so for its candidate, so the load and query overlap the evaluation; a later
    ``check_model`` with the same model and rows takes that verdict instead of starting another
    check (any other call checks as before). Does nothing, and returns False, without a prewarmed
    checker (another engine, ``push.infra_validation: false``) or with nothing to check.
    """
    global _pending
    model_dir = os.fspath(model_dir)
    if _warm is None or not rows or check_files(model_dir) is not None:
        return False
    child = _take_warm()
    if child is None:
        return False
    _discard_pending()
    tmp = tempfile.mkdtemp(prefix="infra-check-")
    rows_path, out_path = fs.join(tmp, "rows.json"), fs.join(tmp, "verdict.json")
    fs.write_text(rows_path, json.dumps([_to_json(r) for r in rows]))
    try:
        if child.proc.stdin is None:  # never: _Child opens it as a pipe
            raise OSError("the checker has no stdin")
        child.proc.stdin.write(json.dumps([model_dir, rows_path, out_path]) + "\n")
        child.proc.stdin.flush()
    except (BrokenPipeError, OSError):
        child.kill()
        fs.rmtree(tmp)
        return False
    _pending = _Pending(_request_key(model_dir, rows), child, tmp, out_path, time.monotonic())
    return True


def _take_pending(model_dir: str, rows: Sequence[Mapping[str, Any]]) -> _Pending | None:
    """The early check of exactly this model and these rows, or None (a different one is discarded)."""
    global _pending
    pending, _pending = _pending, None
    if pending is None:
        return None
    if pending.key != _request_key(model_dir, rows):
        _stop_pending(pending)
        return None
    return pending


def _stop_pending(pending: _Pending) -> None:
    if pending.child.proc.poll() is None:
        pending.child.kill()
    pending.child.close()
    fs.rmtree(pending.tmp)


def _discard_pending() -> None:
    global _pending
    pending, _pending = _pending, None
    if pending is not None:
        _stop_pending(pending)


def _to_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row for the child's JSON file: binary values (images) as ``{"b64": ...}``, as TF Serving's REST API."""
    return {k: {"b64": base64.b64encode(v).decode("ascii")} if isinstance(v, bytes) else v for k, v in row.items()}


def _from_json(row: dict[str, Any]) -> dict[str, Any]:
    return {k: base64.b64decode(v["b64"]) if isinstance(v, dict) and "b64" in v else v for k, v in row.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.infra_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", nargs="?", help="SavedModel directory")
    parser.add_argument("--rows", help="JSON file: a list of {column: value} rows")
    parser.add_argument("--out", help="write the verdict here as JSON (default: print it)")
    parser.add_argument(
        "--wait",
        action="store_true",
        help="import TensorFlow first, then read one JSON line [model_dir, rows, out] from stdin",
    )
    args = parser.parse_args(argv)
    if args.wait:
        import tensorflow  # noqa: F401  (the slow part, done before the request arrives)

        import components  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow loads)

        line = sys.stdin.readline()
        if not line.strip():
            return 0  # discarded unused
        args.model_dir, args.rows, args.out = json.loads(line)
    elif not args.model_dir or not args.rows:
        parser.error("model_dir and --rows are required (or --wait)")
    rows = [_from_json(r) for r in json.loads(fs.read_text(args.rows))]
    verdict = query_model(args.model_dir, rows)
    text = json.dumps(asdict(verdict))
    if args.out:
        fs.write_text(args.out, text)  # atomic: the parent never reads half a verdict
    else:
        print(text)
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
