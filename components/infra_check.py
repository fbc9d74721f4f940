"""Docker-free infra validation: load the candidate SavedModel and query it, in a separate process.

The equivalent of TFX InfraValidator's LOAD_AND_QUERY mode without a model server: a child
process (``python -m components.infra_check``) loads the SavedModel the way a server would,
calls ``serving_default`` with the raw columns of a few eval rows and ``serving_examples``
with the same rows as serialized ``tf.Example``s, and checks that both answer with one
finite value per row and agree. A separate process means a model that crashes, hangs or
leaks while loading cannot take the pipeline with it.

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

__all__ = ["Verdict", "check_model", "discard_warm", "prewarm", "query_model"]

RAW_SIGNATURE = "serving_default"
EXAMPLES_SIGNATURE = "serving_examples"
_SIGNATURE_HINT = (
    "the trainer's run_fn must export 'serving_default' (raw columns) and 'serving_examples' "
    "(serialized tf.Example), as components.trainer.make_signatures does"
)
_PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class Verdict:
    """Whether the model loaded and answered, and why not (a sentence a user can act on)."""

    ok: bool
    reason: str


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
    early = _check_files(model_dir)
    if early is not None:
        return early
    if not rows:
        return Verdict(
            False,
            "no eval row has exactly one value in every serving_default column, so there is "
            "nothing to query the model with; set push.infra_validation: false to push unchecked",
        )
    with tempfile.TemporaryDirectory(prefix="infra-check-") as tmp:
        rows_path, out_path = fs.join(tmp, "rows.json"), fs.join(tmp, "verdict.json")
        fs.write_text(rows_path, json.dumps([_to_json(r) for r in rows]))
        child = _take_warm() or _Child()
        try:
            child.proc.communicate(json.dumps([model_dir, rows_path, out_path]) + "\n", timeout=timeout_s)
        except subprocess.TimeoutExpired:
            child.kill()
            return Verdict(
                False,
                f"the model at {model_dir} did not load and answer {len(rows)} rows within "
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


def discard_warm() -> None:
    """Stop an unused prewarmed process (the run ended before the Pusher)."""
    global _warm
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


def _check_files(model_dir: str) -> Verdict | None:
    """The failures visible without TensorFlow: no directory, no saved_model.pb."""
    if not fs.isdir(model_dir):
        return Verdict(False, f"{model_dir} does not exist; the Trainer wrote no SavedModel there")
    if not fs.isfile(fs.join(model_dir, "saved_model.pb")):
        return Verdict(
            False,
            f"{model_dir} holds no saved_model.pb; the Trainer's run_fn must save the model "
            f"to fn_args.serving_model_dir",
        )
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:500]


def query_model(model_dir: str, rows: Sequence[Mapping[str, Any]]) -> Verdict:
    """The check itself, in this process (the child runs it). Imports TensorFlow."""
    import numpy as np
    import tensorflow as tf

    import components  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow loads)

    early = _check_files(model_dir)
    if early is not None:
        return early
    start = time.monotonic()
    try:
        loaded = tf.saved_model.load(model_dir)
    except Exception as exc:  # noqa: BLE001 - any load failure is the verdict
        return Verdict(False, f"the SavedModel at {model_dir} does not load ({_first_line(exc)})")
    load_s = time.monotonic() - start
    missing = [s for s in (RAW_SIGNATURE, EXAMPLES_SIGNATURE) if s not in loaded.signatures]
    if missing:
        return Verdict(
            False,
            f"the SavedModel has no signature {', '.join(map(repr, missing))} "
            f"(it has {sorted(loaded.signatures) or 'none'}); {_SIGNATURE_HINT}",
        )
    raw_fn, ex_fn = loaded.signatures[RAW_SIGNATURE], loaded.signatures[EXAMPLES_SIGNATURE]
    specs = raw_fn.structured_input_signature[1]
    absent = sorted(name for name in specs if any(name not in r for r in rows))
    if absent:
        return Verdict(
            False,
            f"serving_default takes columns the eval rows lack: {', '.join(absent)}; "
            f"the signature must take the raw CSV columns",
        )

    n = len(rows)
    raw_inputs, features = {}, [{} for _ in rows]
    for name, spec in specs.items():
        values = [r[name] for r in rows]
        if spec.dtype == tf.string:
            data = [v if isinstance(v, bytes) else str(v).encode("utf-8") for v in values]
            raw_inputs[name] = tf.constant(data, dtype=tf.string)
            for f, v in zip(features, data, strict=True):
                f[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[v]))
        else:
            try:
                array = np.asarray(values, dtype=spec.dtype.as_numpy_dtype)
            except (TypeError, ValueError) as exc:
                return Verdict(
                    False,
                    f"eval column {name!r} does not convert to the signature's {spec.dtype.name} ({_first_line(exc)})",
                )
            raw_inputs[name] = tf.constant(array)
            # The tf.Example keeps the value's own type: an optional integer column is float64 in
            # serving_default (NaN = missing) but int64 in the examples the model parses.
            for f, v, a in zip(features, values, array.tolist(), strict=True):
                f[name] = (
                    tf.train.Feature(int64_list=tf.train.Int64List(value=[v]))
                    if isinstance(v, int)
                    else tf.train.Feature(float_list=tf.train.FloatList(value=[a]))
                    if spec.dtype.is_floating
                    else tf.train.Feature(int64_list=tf.train.Int64List(value=[a]))
                )
    examples = [tf.train.Example(features=tf.train.Features(feature=f)).SerializeToString() for f in features]

    answers = {}
    for sig, call in (
        (RAW_SIGNATURE, lambda: raw_fn(**raw_inputs)),
        (EXAMPLES_SIGNATURE, lambda: ex_fn(**{_single_input(ex_fn): tf.constant(examples)})),
    ):
        try:
            outputs = {k: v.numpy() for k, v in call().items()}
        except Exception as exc:  # noqa: BLE001
            return Verdict(False, f"{sig} failed on {n} eval rows ({_first_line(exc)})")
        if not outputs:
            return Verdict(False, f"{sig} returned no outputs")
        for key, value in outputs.items():
            if value.ndim == 0 or value.shape[0] != n:
                return Verdict(
                    False,
                    f"{sig} output {key!r} has shape {list(value.shape)} for {n} rows; "
                    f"expected [{n}] (one value per row)",
                )
            if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
                bad = sorted({int(i) for i in np.argwhere(~np.isfinite(value))[:, 0]})[:5]
                return Verdict(
                    False,
                    f"{sig} output {key!r} is not finite for rows {bad}; "
                    f"check the transform (e.g. log of negatives) and the training loss",
                )
        answers[sig] = outputs
    raw_out, ex_out = answers[RAW_SIGNATURE], answers[EXAMPLES_SIGNATURE]
    if set(raw_out) != set(ex_out):
        return Verdict(
            False,
            f"serving_default returns {sorted(raw_out)} but serving_examples returns "
            f"{sorted(ex_out)}; {_SIGNATURE_HINT}",
        )
    for key in raw_out:
        a, b = raw_out[key], ex_out[key]
        if (
            a.shape != b.shape
            or (a.dtype.kind == "f" and not np.allclose(a, b, rtol=1e-4, atol=1e-5))
            or (a.dtype.kind != "f" and not np.array_equal(a, b))
        ):
            diff = float(np.max(np.abs(a.astype("float64") - b.astype("float64")))) if a.shape == b.shape else None
            return Verdict(
                False,
                f"serving_default and serving_examples disagree on output {key!r}"
                + (f" (max difference {diff:.3g})" if diff is not None else "")
                + "; both must run the same transform and model",
            )
    return Verdict(True, f"loaded in {load_s:.1f} s; serving_default and serving_examples answered {n} rows and agree")


def _to_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row for the child's JSON file: binary values (images) as ``{"b64": ...}``, as TF Serving's REST API."""
    return {k: {"b64": base64.b64encode(v).decode("ascii")} if isinstance(v, bytes) else v for k, v in row.items()}


def _from_json(row: dict[str, Any]) -> dict[str, Any]:
    return {k: base64.b64decode(v["b64"]) if isinstance(v, dict) and "b64" in v else v for k, v in row.items()}


def _single_input(fn: Any) -> str:
    names = list(fn.structured_input_signature[1])
    return names[0] if len(names) == 1 else "examples"


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
