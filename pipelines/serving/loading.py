"""One model version loaded: its SavedModel, its signatures, its warm-up requests replayed.

    load_version(name, version, path)
      tf.saved_model.load(path)           TensorFlow reads the SavedModel itself
      saved_model.pb -> signature defs    for the metadata API (read through components.filesystem)
      replay assets.extra/tf_serving_warmup_requests, as TF Serving does before serving

Imports TensorFlow only inside :func:`load_version`; never TFX.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from components import filesystem as fs
from components import serving_layout
from pipelines.serving.codec_base import InputSpec

__all__ = ["MAX_WARMUP_RECORDS", "LoadedVersion", "Signature", "load_version"]

MAX_WARMUP_RECORDS = 1000  # TF Serving replays at most this many


@dataclass(frozen=True)
class Signature:
    """A callable signature and what it takes and returns.

    ``flat``: when ``fn`` is a loaded concrete function, a call that takes its input tensors as
    one list in ``order`` (sorted names, as the function flattens them) and skips the per-call
    argument binding and checks of ``fn(**tensors)`` (about 4x its cost on the toy model); the
    caller checks names, dtypes and shapes first (:func:`pipelines.serving.service.run_signature`).
    None for any other callable (``fn`` is then called by keyword).
    """

    fn: Any
    inputs: Mapping[str, InputSpec]
    outputs: tuple[str, ...]
    order: tuple[str, ...] = field(init=False, repr=False, compare=False)
    flat: Callable[[Sequence[Any]], Mapping[str, Any]] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "order", tuple(sorted(self.inputs)))
        object.__setattr__(self, "flat", _flat_call(self.fn, self.order))


def _flat_call(fn: Any, order: tuple[str, ...]) -> Callable[[Sequence[Any]], Mapping[str, Any]] | None:
    """``fn``'s flat call (see :class:`Signature`), or None when ``fn`` is not a concrete function
    whose inputs flatten to exactly ``order``."""
    call_flat = getattr(fn, "_call_flat", None)
    structured = getattr(fn, "structured_input_signature", None)
    if call_flat is None or structured is None:
        return None
    try:
        args, kwargs = structured
        names = tuple(spec.name for spec in _flatten(kwargs))
    except (TypeError, ValueError, AttributeError):
        return None
    if args or names != order:
        return None

    def call(tensors: Sequence[Any]) -> Mapping[str, Any]:
        return call_flat(list(tensors), fn.captured_inputs)

    return call


def _flatten(structure: Any) -> list[Any]:
    import tensorflow as tf

    return tf.nest.flatten(structure)


@dataclass(frozen=True)
class LoadedVersion:
    """A loaded model version: what a request needs to run and describe it."""

    name: str
    version: int
    path: str
    model: Any  # the object tf.saved_model.load returned; keeps the signatures alive
    signatures: Mapping[str, Signature]
    signature_defs: Mapping[str, Any]  # SignatureDefMap as JSON, for the metadata API


def _spec(tensor_spec: Any) -> InputSpec:
    """The input as the codec sees it.

    The SavedModel does not say which columns the schema lets be missing (its signature gives
    only dtypes and shapes, and the trainer writes no such asset), so ``may_be_missing`` stays
    True: ``null`` or an absent key is NaN for every float input and ``""`` for every string
    input, as sending NaN or ``""`` already is; an integer input refuses it.
    """
    shape = None if tensor_spec.shape.rank is None else tuple(tensor_spec.shape.as_list())
    return InputSpec(tensor_spec.dtype.name, shape)


def _signature_defs(path: str) -> dict[str, Any]:
    from google.protobuf import json_format
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString(fs.read_bytes(fs.join(path, "saved_model.pb")))
    defs = {}
    if proto.meta_graphs:
        for key, sig in proto.meta_graphs[0].signature_def.items():
            defs[key] = json_format.MessageToDict(
                sig, preserving_proto_field_name=True, including_default_value_fields=True
            )
    return defs


def load_version(name: str, version: int, path: str) -> LoadedVersion:
    """Load a SavedModel, read its signature defs, replay its warm-up requests.

    Raises:
        ValueError: a warm-up request names a signature the model does not have.
        Exception: whatever TensorFlow raises for a SavedModel it cannot load.
    """
    import tensorflow as tf

    # A gs:// version is downloaded first (once per content): TensorFlow's own GCS client cannot
    # reach an emulator, and a local copy loads the same bytes on real GCS.
    model = tf.saved_model.load(fs.local_copy(path))
    signatures = {}
    for key, fn in model.signatures.items():
        inputs = {k: _spec(s) for k, s in fn.structured_input_signature[1].items()}
        signatures[key] = Signature(fn, inputs, tuple(sorted(fn.structured_outputs)))
    loaded = LoadedVersion(name, version, path, model, signatures, _signature_defs(path))
    _warm_up(loaded)
    return loaded


def _warm_up(loaded: LoadedVersion) -> None:
    """Replay ``assets.extra/tf_serving_warmup_requests`` (predict requests), as TF Serving does."""
    path = fs.join(loaded.path, serving_layout.EXTRA_DIR, serving_layout.WARMUP_FILE)
    if not fs.exists(path):
        return
    import tensorflow as tf

    for i, log in enumerate(serving_layout.read_warmup_requests(path, MAX_WARMUP_RECORDS)):
        if log.WhichOneof("log_type") != "predict_log":
            continue
        request = log.predict_log.request
        signature = loaded.signatures.get(request.model_spec.signature_name or "serving_default")
        if signature is None:
            raise ValueError(
                f"warm-up request {i} names signature {request.model_spec.signature_name!r}, "
                f"which the model does not have"
            )
        signature.fn(**{k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()})
