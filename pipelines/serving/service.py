"""The one request path REST and gRPC share: resolve the version, run the signature (batched), count, log.

    Service.call(entrypoint, api, model, ...)       a context: times the request, counts its status
      resolve(name, version, label, route_key)     the registry picks the version
      run(loaded, signature, arrays)               the signature, through the batcher when it is on
      run_async(...)                               the same on REST's event loop (its own batcher)
      run_examples(loaded, signature, examples)    classify/regress: tf.Examples -> outputs
      log(call, api, request, response)            the request log, when on and sampled

Errors are answered by :func:`error_answer`: an ``ApiError`` keeps its HTTP status, a
TensorFlow ``OpError`` maps its code as TF Serving does, anything else is 500.
"""

from __future__ import annotations

import inspect
import itertools
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipelines.serving import codec
from pipelines.serving.batching import Batcher
from pipelines.serving.batching_async import AsyncBatcher
from pipelines.serving.codec import ApiError
from pipelines.serving.loading import LoadedVersion, Signature
from pipelines.serving.metrics import Metrics
from pipelines.serving.registry import ModelRegistry
from pipelines.serving.request_log import LogMeta, RequestLog, build_log

__all__ = ["Call", "Service", "error_answer", "tf_error_message"]

# tensorflow::error::Code names, and HTTP status for each, as TF Serving maps them.
TF_CODES = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
]
HTTP_FOR_TF_CODE = {1: 499, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409, 11: 400, 12: 501}
HTTP_FOR_TF_CODE.update({14: 503, 16: 401})
TF_CODE_FOR_HTTP = {400: 3, 401: 16, 403: 7, 404: 5, 408: 4, 409: 10, 413: 8, 429: 8, 499: 1, 501: 12, 503: 14}
TF_CODE_FOR_HTTP.update({504: 4})

# A request id when the caller gives none: unique per process (random prefix) without a
# system call per request, as uuid4 makes (tens of microseconds on a busy machine).
_ID_PREFIX = os.urandom(8).hex()
_IDS = itertools.count(1)
_OP_SUFFIX = re.compile(r"\s*\[Op:[^\]]*\]\s*$")


def tf_error_message(message: str) -> str:
    """The kernel's message of a TensorFlow error raised by a signature call, as TF Serving reports it.

    Example:
        >>> tf_error_message(
        ...     "Graph execution error:\\n\\nDetected at node A defined at (most recent call "
        ...     "last):\\n<stack traces unavailable>\\nassertion failed: [x]\\n\\t [[{{node A}}]] [Op:f]"
        ... )
        'assertion failed: [x]\\n\\t [[{{node A}}]]'
    """
    text = message
    if text.startswith("Graph execution error:"):
        lines = text[len("Graph execution error:") :].lstrip("\n").split("\n")
        if lines and lines[0].startswith("Detected at node"):
            # Then the Python stack: indented "File ..." lines, blank lines, or a placeholder.
            rest = 1
            while rest < len(lines) and (
                not lines[rest].strip()
                or lines[rest][:1].isspace()
                or lines[rest] == "<stack traces unavailable>"
                or lines[rest].startswith("Node: ")
            ):
                rest += 1
            lines = lines[rest:]
        text = "\n".join(lines)
    text = _OP_SUFFIX.sub("", text).replace("\\'", "'")  # Assert's data escapes quotes: \'column\'
    return text or message


def error_answer(exc: BaseException) -> tuple[int, int, str]:
    """``(HTTP status, TF error code, message)`` for an exception raised while answering."""
    if isinstance(exc, ApiError):
        return exc.status, TF_CODE_FOR_HTTP.get(exc.status, 13 if exc.status >= 500 else 3), exc.message
    code = getattr(exc, "error_code", None)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if isinstance(code, int) and 0 < code < len(TF_CODES):  # a tf.errors.OpError
        return HTTP_FOR_TF_CODE.get(code, 500), code, tf_error_message(message)
    return 500, 2, message


def signature(loaded: LoadedVersion, name: str) -> Signature:
    sig = loaded.signatures.get(name)
    if sig is None:
        raise ApiError(f'Serving signature name: "{name}" not found in signature def')
    return sig


def run_signature(sig: Signature, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The signature's outputs as arrays. Inputs of exactly its names and shapes take the flat call
    (:attr:`Signature.flat`); anything else the keyword call, which words any error as TensorFlow does."""
    flat = sig.flat
    if (
        flat is not None
        and len(arrays) == len(sig.order)
        and all(_fits(arrays.get(k), sig.inputs[k]) for k in sig.order)
    ):
        outputs = flat([tensor(arrays[k], sig.inputs[k].dtype) for k in sig.order])
    else:
        import tensorflow as tf

        outputs = sig.fn(**{k: tf.constant(v, dtype=sig.inputs[k].dtype) for k, v in arrays.items()})
    return {k: v.numpy() for k, v in outputs.items()}


def _fits(array: np.ndarray | None, spec: Any) -> bool:
    shape = spec.shape
    if array is None or shape is None:
        return shape is None and array is not None
    if len(shape) != array.ndim:
        return False
    return all(d is None or d == a for d, a in zip(shape, array.shape, strict=True))


_TENSOR: list[Callable[[np.ndarray, str], Any]] = []


def tensor(array: np.ndarray, dtype: str) -> Any:
    """``tf.constant(array, dtype=dtype)`` in eager mode, without its Python layers (the same
    ``EagerTensor`` constructor it ends in; ``tf.constant`` itself where that is not available)."""
    if not _TENSOR:
        _TENSOR.append(_eager_constructor())
    return _TENSOR[0](array, dtype)


def _eager_constructor() -> Callable[[np.ndarray, str], Any]:
    import tensorflow as tf

    try:
        from tensorflow.python.eager import context
        from tensorflow.python.framework import ops

        eager, ctx = ops.EagerTensor, context.context()
        ctx.ensure_initialized()
        enums = {}

        def make(array: np.ndarray, dtype: str) -> Any:
            enum = enums.get(dtype)
            if enum is None:
                enum = enums[dtype] = tf.as_dtype(dtype).as_datatype_enum
            return eager(array, ctx.device_name, enum)

        make(np.zeros(1, np.float32), "float32")
        return make
    except (ImportError, AttributeError, TypeError, ValueError):  # another TensorFlow: the public call
        return lambda array, dtype: tf.constant(array, dtype=dtype)


@dataclass
class Call:
    """One request as it is answered: what it asked, who answered, how it went."""

    entrypoint: str  # REST | GRPC
    api: str  # predict | classify | regress | metadata | status
    model: str
    request_id: str
    route_key: str | None = None
    loaded: LoadedVersion | None = None
    label: str = ""
    signature: str = ""
    examples: int = 0
    status: str = "OK"
    start: float = field(default_factory=time.time)


class Service:
    """REST's and gRPC's shared core over a :class:`ModelRegistry`."""

    def __init__(
        self,
        registry: ModelRegistry,
        batcher: Batcher | None = None,
        metrics: Metrics | None = None,
        request_log: RequestLog | None = None,
        async_batcher: AsyncBatcher | None = None,
    ) -> None:
        self.registry = registry
        self.batcher = batcher
        self.async_batcher = async_batcher  # predict on the server's event loop; ``batcher``: calls on threads
        self.metrics = metrics or Metrics()
        self.request_log = request_log
        self._route_key = "route_key" in inspect.signature(registry.resolve).parameters

    @contextmanager
    def call(
        self, entrypoint: str, api: str, model: str, request_id: str | None = None, route_key: str | None = None
    ) -> Iterator[Call]:
        """Time and count one request; an exception leaving the block sets its status."""
        call = Call(entrypoint, api, model, request_id or f"{_ID_PREFIX}{next(_IDS):016x}", route_key)
        started = time.perf_counter()
        try:
            yield call
        except BaseException as exc:
            call.status = TF_CODES[error_answer(exc)[1]]
            raise
        finally:
            loaded = call.loaded
            self.metrics.request(
                model=model,
                api=api,
                entrypoint=entrypoint,
                status=call.status,
                micros=(time.perf_counter() - started) * 1e6,
                version=loaded.version if loaded is not None else None,
                label=call.label,
                examples=call.examples,
            )

    def resolve(self, call: Call, version: int | None, label: str | None) -> LoadedVersion:
        """The version that answers ``call``; sets ``call.loaded`` and ``call.label``."""
        if self._route_key:
            loaded = self.registry.resolve(call.model, version, label, route_key=call.route_key)
        else:  # the registry does not split traffic (yet)
            loaded = self.registry.resolve(call.model, version, label)
        call.loaded = loaded
        call.label = label or self.label_of(loaded)
        return loaded

    def label_of(self, loaded: LoadedVersion) -> str:
        labels = getattr(self.registry, "labels_for", None)
        return ",".join(labels(loaded.name, loaded.version)) if labels else ""

    def _prepare(self, call: Call, name: str, arrays: Mapping[str, np.ndarray]) -> tuple[LoadedVersion, Signature]:
        loaded = call.loaded
        if loaded is None:
            raise RuntimeError("resolve() before run()")
        sig = signature(loaded, name)
        call.signature = name
        call.examples = max((int(a.shape[0]) for a in arrays.values() if a.ndim), default=1)
        return loaded, sig

    async def run_async(self, call: Call, name: str, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """:meth:`run` through the event loop's batcher (``async_batcher``, which must be set)."""
        loaded, sig = self._prepare(call, name, arrays)
        if self.async_batcher is None:
            raise RuntimeError("run_async() needs an async_batcher")
        fn: Callable[[Mapping[str, np.ndarray]], dict[str, np.ndarray]] = lambda a: run_signature(sig, a)
        return await self.async_batcher.run((loaded.name, name), fn, arrays, group=id(loaded))

    def run(self, call: Call, name: str, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run signature ``name`` of the resolved version on ``arrays`` (batched when batching is on)."""
        loaded, sig = self._prepare(call, name, arrays)
        if self.batcher is None:
            return run_signature(sig, arrays)
        fn: Callable[[Mapping[str, np.ndarray]], dict[str, np.ndarray]] = lambda a: run_signature(sig, a)
        return self.batcher.run((loaded.name, name), fn, arrays, group=id(loaded))

    def run_examples(self, call: Call, name: str, examples: list[Any]) -> dict[str, np.ndarray]:
        """Classify/regress: an examples signature gets them serialized, a raw one their features."""
        loaded = call.loaded
        if loaded is None:
            raise RuntimeError("resolve() before run_examples()")
        sig = signature(loaded, name)
        if len(sig.inputs) == 1 and next(iter(sig.inputs.values())).dtype == "string":
            serialized = np.empty(len(examples), dtype=object)
            serialized[:] = [e.SerializeToString() for e in examples]
            return self.run(call, name, {next(iter(sig.inputs)): serialized})
        return self.run(call, name, codec.build_examples(examples, sig.inputs))

    def log(self, call: Call, request: Callable[[], Any], response: Callable[[], Any]) -> None:
        """Queue the request and its response for the request log (built on the writer thread)."""
        log = self.request_log
        if log is None or call.loaded is None or not log.sampled():
            return
        meta = LogMeta(call.request_id, call.model, call.loaded.version, call.label, call.signature, call.start)
        api = call.api
        log.submit(lambda: build_log(meta, api, request(), response()))
