"""TF Serving's REST API as an ASGI app (Starlette): model status, metadata, predict, classify, regress.

    GET  /v1/models/{name}[/versions/{v}|/labels/{l}]             model status
    GET  /v1/models/{name}[/versions/{v}|/labels/{l}]/metadata    signature defs
    POST /v1/models/{name}[/versions/{v}|/labels/{l}]:predict     instances | inputs
    POST /v1/models/{name}[/versions/{v}|/labels/{l}]:classify    examples (+ context)
    POST /v1/models/{name}[/versions/{v}|/labels/{l}]:regress     examples (+ context)
    GET  /monitoring/prometheus/metrics                          Prometheus text (TF Serving's names)
    GET  /healthz  (200 while the process runs)   GET /readyz  (200 once a model is loaded, 503 draining)

Errors are ``{"error": "..."}`` with TF Serving's HTTP codes: 400 bad request, 404 unknown
model or version, 500 internal; a TensorFlow error the model raises is mapped from its code
(see :func:`pipelines.serving.service.error_answer`). Before routing, the app refuses: a body
over ``max_body_bytes`` in any encoding (413, read no further), a body slower than
``body_timeout`` (408), more than ``max_in_flight`` requests at once (503), a missing or wrong
bearer token when one is set (401). A client that goes away is let go without an answer.
TF Serving's paths go straight to their ASGI endpoint (Starlette routes only the probes and the
metrics). :func:`handle` is the answer itself: run on the event loop for a small request while no
other is in flight (one client pays no thread hop), else on a thread pool; with batching on, a
predict is parsed on the loop and awaits the loop's batcher (one worker thread per merged call).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from pipelines.serving import codec
from pipelines.serving.auth import check_bearer
from pipelines.serving.codec import ApiError
from pipelines.serving.grpc_convert import examples_request, examples_response, predict_request, predict_response
from pipelines.serving.metrics import CONTENT_TYPE
from pipelines.serving.offload import INLINE_BYTES, Offload
from pipelines.serving.registry import ModelRegistry
from pipelines.serving.service import Call, Service, error_answer, signature, tf_error_message

__all__ = ["METRICS_PATH", "HttpOptions", "handle", "make_app", "tf_error_message"]

_PREDICT = re.compile(
    r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)", re.IGNORECASE
)
_STATUS = re.compile(
    r"/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?", re.IGNORECASE
)
_OPEN_PATHS = ("/healthz", "/readyz")  # probes need no token
_POOL_THREADS = 32
_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
METRICS_PATH = "/monitoring/prometheus/metrics"


@dataclass(frozen=True)
class HttpOptions:
    """The REST app's limits and access rule."""

    max_body_bytes: int = 64 * 1024 * 1024
    body_timeout: float = 30.0
    max_in_flight: int = 256
    token: str | None = None  # bearer token; None = open


def _predict(service: Service, call: Call, body: bytes) -> str:
    name, arrays, fmt = _predict_inputs(call, body)
    return _predict_answer(service, call, arrays, service.run(call, name, arrays), fmt)


def _predict_inputs(call: Call, body: bytes) -> tuple[str, dict[str, Any], str]:
    """``(signature name, input arrays, "row" | "columnar")`` of a predict body."""
    doc = codec.parse_json(body)
    name = codec.signature_name(doc)
    sig = signature(call.loaded, name)  # type: ignore[arg-type] - resolved by the caller
    arrays, fmt = codec.parse_predict(doc, sig.inputs, name)
    return name, arrays, fmt


def _predict_answer(service: Service, call: Call, arrays: dict[str, Any], outputs: dict[str, Any], fmt: str) -> str:
    text = codec.format_predict(outputs, fmt)
    if service.request_log is not None:
        service.log(call, lambda: predict_request(arrays), lambda: predict_response(outputs))
    return text


async def _predict_batched(
    service: Service, path: str, body: bytes, request_id: str | None, key: str | None
) -> tuple[int, str] | None:
    """:func:`handle` for ``POST ...:predict`` with batching on, on the event loop (the signature call
    on the batcher's thread); None for any other request."""
    match = _PREDICT.fullmatch(path)
    if match is None or match.group(4).lower() != "predict":
        return None
    name, version, label, _ = match.groups()
    try:
        with service.call("REST", "predict", name, request_id, key) as call:
            service.resolve(call, int(version) if version else None, label)
            signature_name, arrays, fmt = _predict_inputs(call, body)
            outputs = await service.run_async(call, signature_name, arrays)
            return 200, _predict_answer(service, call, arrays, outputs, fmt)
    except Exception as exc:  # noqa: BLE001 - every failure is an answer, never a dropped connection
        return _failure(exc)


def _classify_regress(service: Service, call: Call, body: bytes, method: str) -> str:
    doc = codec.parse_json(body)
    name = codec.signature_name(doc)
    examples = codec.parse_classify_regress(doc, method)
    outputs = service.run_examples(call, name, examples)
    text = codec.format_classify(outputs, name) if method == "classify" else codec.format_regress(outputs, name)
    if service.request_log is not None:
        service.log(call, lambda: examples_request(method, examples), lambda: examples_response(method, outputs, name))
    return text


def _metadata(service: Service, call: Call, version: int | None, label: str | None) -> str:
    loaded = service.resolve(call, version, label)
    return codec.encode(
        {
            "model_spec": {"name": loaded.name, "signature_name": "", "version": str(loaded.version)},
            "metadata": {"signature_def": {"signature_def": loaded.signature_defs}},
        }
    )


def _route(service: Service, method: str, path: str, body: bytes, request_id: str | None, key: str | None) -> str:
    match = _PREDICT.fullmatch(path)
    if method == "POST" and match:
        name, version, label, verb = match.groups()
        verb = verb.lower()
        with service.call("REST", verb, name, request_id, key) as call:
            service.resolve(call, int(version) if version else None, label)
            if verb == "predict":
                return _predict(service, call, body)
            return _classify_regress(service, call, body, verb)
    match = _STATUS.fullmatch(path)
    if method == "GET" and match:
        name, version, label, metadata = match.groups()
        if not name:
            raise ApiError("Missing model name in request.")
        if metadata:
            with service.call("REST", "metadata", name, request_id, key) as call:
                return _metadata(service, call, int(version) if version else None, label)
        return codec.encode(service.registry.status(name, int(version) if version else None, label))
    raise ApiError(f"Malformed request: {method} {path}", 400 if path.lower().startswith("/v1/") else 404)


def handle(
    registry: ModelRegistry | Service,
    method: str,
    path: str,
    body: bytes,
    request_id: str | None = None,
    route_key: str | None = None,
) -> tuple[int, str]:
    """``(HTTP status, JSON text)`` for one TF Serving REST request; never raises."""
    service = registry if isinstance(registry, Service) else Service(registry)
    try:
        return 200, _route(service, method, path, body, request_id, route_key)
    except Exception as exc:  # noqa: BLE001 - every failure is an answer, never a dropped connection
        return _failure(exc)


def _failure(exc: Exception) -> tuple[int, str]:
    """``(HTTP status, JSON error body)`` for a failed request (TF Serving's codes and messages)."""
    status, _, message = error_answer(exc)
    return status, codec.encode({"error": message})


# --------------------------------------------------------------------------- ASGI


class _DisconnectedError(Exception):
    """The client went away before its request was read."""


async def _read_body(receive: Any, headers: dict[bytes, bytes], limit: int) -> bytes:
    length = headers.get(b"content-length")
    if length is not None:
        if not length.strip().isdigit():
            raise ApiError(f"bad Content-Length: {length.decode('latin-1')!r}")
        if int(length) > limit:
            raise ApiError(f"request body of {int(length)} bytes is larger than {limit}", 413)
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _DisconnectedError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:  # chunked, or a Content-Length that lied
            raise ApiError(f"request body is larger than {limit} bytes", 413)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _within(read: Any, seconds: float) -> bytes:
    """``await read``, or ``asyncio.TimeoutError`` after ``seconds``: ``asyncio.wait_for`` without
    the task it makes per call (a timer cancels this task instead)."""
    task = asyncio.current_task()
    if task is None:  # not in a task: the plain way
        return await asyncio.wait_for(read, seconds)
    expired: list[bool] = []

    def expire() -> None:
        expired.append(True)
        task.cancel()

    timer = asyncio.get_running_loop().call_later(seconds, expire)
    try:
        return await read
    except asyncio.CancelledError as exc:
        if expired:
            raise asyncio.TimeoutError from exc
        raise
    finally:
        timer.cancel()


async def _send(
    send: Any, status: int, body: bytes, content_type: bytes = b"application/json", extra: tuple | list = ()
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _error(message: str) -> bytes:
    return codec.encode({"error": message}).encode("utf-8")


class _TfServingEndpoint:
    """The TF Serving ASGI endpoint: read the body (bounded), then answer: a predict with batching on
    on the loop (the signature call batched on a worker thread); a small request while no other is
    in flight on the loop itself while requests are quick (no thread hop: one client's latency);
    anything else on the pool."""

    def __init__(self, service: Service, options: HttpOptions) -> None:
        self.service = service
        self.options = options
        self.offload = Offload("rest", _POOL_THREADS)
        self.in_flight = lambda: 1  # set by _Guard: requests being answered, this one included

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        headers = dict(scope["headers"])
        try:
            body = await _within(_read_body(receive, headers, self.options.max_body_bytes), self.options.body_timeout)
        except _DisconnectedError:
            return
        except (ApiError, asyncio.TimeoutError) as exc:
            if isinstance(exc, ApiError):
                status, message = exc.status, exc.message
            else:
                status, message = 408, f"request body not received within {self.options.body_timeout:g} s"
            self.service.metrics.rejected("body")
            await _send(send, status, _error(message), extra=[(b"connection", b"close")])
            return
        request_id = headers.get(b"x-request-id", b"").decode("latin-1") or None
        key = headers.get(b"x-request-key", b"").decode("latin-1") or None
        method, path = scope["method"], scope["path"]
        answer = None
        if self.service.async_batcher is not None and method == "POST" and len(body) <= INLINE_BYTES:
            answer = await _predict_batched(self.service, path, body, request_id, key)
        if answer is None:
            alone = self.in_flight() <= 1 and len(body) <= INLINE_BYTES
            args = (self.service, method, path, body, request_id, key)
            answer = await self.offload.run(handle, *args, alone=alone)
        await _send(send, answer[0], answer[1].encode("utf-8"))


class _Guard:
    """Refuses before routing: a missing or wrong token (401), too many requests in flight (503)."""

    def __init__(
        self, app: Any, service: Service, options: HttpOptions, state: dict[str, Any], endpoint: _TfServingEndpoint
    ) -> None:
        self.app = app
        self.service = service
        self.options = options
        self.state = state
        self.in_flight = 0
        self.endpoint = endpoint  # TF Serving's paths go straight to it, not through Starlette's layers
        endpoint.in_flight = lambda: self.in_flight

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.options.token is not None and scope["path"] not in _OPEN_PATHS:
            problem = check_bearer(dict(scope["headers"]).get(b"authorization"), self.options.token)
            if problem:
                self.service.metrics.rejected("auth")
                await _send(send, 401, _error(problem), extra=[(b"www-authenticate", b"Bearer")])
                return
        if self.in_flight >= self.options.max_in_flight and scope["path"] not in _OPEN_PATHS:
            self.service.metrics.rejected("overload")
            message = f"server overloaded: {self.in_flight} requests in flight; retry later"
            await _send(send, 503, _error(message), extra=[(b"retry-after", b"1")])
            return
        self.in_flight += 1
        try:
            if scope["path"].startswith("/v1/") and scope["method"] in _METHODS:
                await self.endpoint(scope, receive, send)
            else:
                await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


def make_app(service: Service, options: HttpOptions | None = None, state: dict[str, Any] | None = None) -> Any:
    """The ASGI app; ``state["draining"] = True`` turns ``/readyz`` to 503."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    options = options or HttpOptions()
    state = state if state is not None else {"draining": False}

    async def healthz(_request: Any) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(_request: Any) -> Response:
        loaded = service.registry.models()
        if state.get("draining"):
            return JSONResponse({"status": "draining"}, status_code=503)
        if not any(loaded.values()):
            return JSONResponse({"status": "no model version loaded yet"}, status_code=503)
        return JSONResponse({"status": "ready", "models": loaded})

    async def metrics(_request: Any) -> Response:
        return Response(service.metrics.text(), media_type=CONTENT_TYPE)

    endpoint = _TfServingEndpoint(service, options)
    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route(METRICS_PATH, metrics, methods=["GET"]),
            Route("/{path:path}", endpoint, methods=list(_METHODS)),
        ]
    )
    return _Guard(app, service, options, state, endpoint)
