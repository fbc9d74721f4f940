"""The infra check itself: load a SavedModel and query both serving signatures with a few rows.

Runs in the child process :mod:`components.infra_check` starts (``python -m components.infra_check``),
so a model that crashes, hangs or leaks while loading cannot take the pipeline with it; imports
TensorFlow inside :func:`query_model` only.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components import filesystem as fs

__all__ = ["EXAMPLES_SIGNATURE", "RAW_SIGNATURE", "Verdict", "check_files", "query_model"]

RAW_SIGNATURE = "serving_default"
EXAMPLES_SIGNATURE = "serving_examples"
_SIGNATURE_HINT = (
    "the trainer's run_fn must export 'serving_default' (raw columns) and 'serving_examples' "
    "(serialized tf.Example), as components.trainer.make_signatures does"
)


@dataclass(frozen=True)
class Verdict:
    """Whether the model loaded and answered, and why not (a sentence a user can act on)."""

    ok: bool
    reason: str


def check_files(model_dir: str) -> Verdict | None:
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

    early = check_files(model_dir)
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


def _single_input(fn: Any) -> str:
    names = list(fn.structured_input_signature[1])
    return names[0] if len(names) == 1 else "examples"
