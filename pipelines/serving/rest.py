"""TF Serving's REST API over ``http.server``: model status, metadata, predict, classify, regress.

    GET  /v1/models/{name}[/versions/{v}|/labels/{l}]             model status
    GET  /v1/models/{name}[/versions/{v}|/labels/{l}]/metadata    signature defs
    POST /v1/models/{name}[/versions/{v}|/labels/{l}]:predict     instances | inputs
    POST /v1/models/{name}[/versions/{v}|/labels/{l}]:classify    examples (+ context)
    POST /v1/models/{name}[/versions/{v}|/labels/{l}]:regress     examples (+ context)

Errors are ``{"error": "..."}`` with TF Serving's HTTP codes: 400 bad request, 404 unknown
model or version, 500 internal. An error the model raises while it runs is answered as TF
Serving answers it: its TensorFlow code mapped to HTTP (``InvalidArgumentError``, e.g. a
``tf.debugging`` assertion on an input, is 400) and the kernel's message, without the
wrapper eager Python adds (``Graph execution error: Detected at node ...``, ``[Op:...]``).

One thread per connection (HTTP/1.1 keep-alive); each request resolves its model version
once, so a version swap never affects a request in flight.
"""

from __future__ import annotations

import re
import socket
import urllib.parse
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from pipelines.serving import codec
from pipelines.serving.codec import ApiError
from pipelines.serving.loading import LoadedVersion, Signature
from pipelines.serving.registry import ModelRegistry

__all__ = ["RestServer", "handle", "make_server", "tf_error_message"]

_PREDICT = re.compile(
    r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)", re.IGNORECASE
)
_STATUS = re.compile(
    r"/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?", re.IGNORECASE
)
_MAX_BODY = 64 * 1024 * 1024
# tensorflow::error::Code -> HTTP status, as TF Serving maps them.
_HTTP_FOR_TF_CODE = {
    1: 499,
    3: 400,
    4: 504,
    5: 404,
    6: 409,
    7: 403,
    8: 429,
    9: 400,
    10: 409,
    11: 400,
    12: 501,
    14: 503,
    16: 401,
}


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


def _signature(loaded: LoadedVersion, name: str) -> Signature:
    sig = loaded.signatures.get(name)
    if sig is None:
        raise ApiError(f'Serving signature name: "{name}" not found in signature def')
    return sig


def _run(sig: Signature, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    import tensorflow as tf

    tensors = {k: tf.constant(v, dtype=sig.inputs[k].dtype) for k, v in arrays.items()}
    return {k: v.numpy() for k, v in sig.fn(**tensors).items()}


def _predict(loaded: LoadedVersion, body: bytes) -> str:
    doc = codec.parse_json(body)
    name = codec.signature_name(doc)
    sig = _signature(loaded, name)
    arrays, fmt = codec.parse_predict(doc, sig.inputs, name)
    return codec.format_predict(_run(sig, arrays), fmt)


def _classify_regress(loaded: LoadedVersion, body: bytes, method: str) -> str:
    doc = codec.parse_json(body)
    name = codec.signature_name(doc)
    examples = codec.parse_classify_regress(doc, method)
    sig = _signature(loaded, name)
    if len(sig.inputs) == 1 and next(iter(sig.inputs.values())).dtype == "string":
        # An examples signature (serving_examples, or TF Serving's classify/regress ones).
        serialized = np.empty(len(examples), dtype=object)
        serialized[:] = [e.SerializeToString() for e in examples]
        outputs = _run(sig, {next(iter(sig.inputs)): serialized})
    else:
        outputs = _run(sig, codec.build_examples(examples, sig.inputs))
    return codec.format_classify(outputs, name) if method == "classify" else codec.format_regress(outputs, name)


def _metadata(loaded: LoadedVersion) -> str:
    return codec.encode(
        {
            "model_spec": {"name": loaded.name, "signature_name": "", "version": str(loaded.version)},
            "metadata": {"signature_def": {"signature_def": loaded.signature_defs}},
        }
    )


def handle(registry: ModelRegistry, method: str, path: str, body: bytes) -> tuple[int, str]:
    """``(HTTP status, JSON text)`` for one request; never raises."""
    try:
        return 200, _route(registry, method, path, body)
    except ApiError as exc:
        return exc.status, codec.encode({"error": exc.message})
    except Exception as exc:  # noqa: BLE001 - every failure is an answer, never a dropped connection
        code = getattr(exc, "error_code", None)
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        if isinstance(code, int):  # a tf.errors.OpError
            message = tf_error_message(message)
        return _HTTP_FOR_TF_CODE.get(code, 500) if isinstance(code, int) else 500, codec.encode({"error": message})


def _route(registry: ModelRegistry, method: str, path: str, body: bytes) -> str:
    match = _PREDICT.fullmatch(path)
    if method == "POST" and match:
        name, version, label, verb = match.groups()
        loaded = registry.resolve(name, int(version) if version else None, label)
        if verb.lower() == "predict":
            return _predict(loaded, body)
        return _classify_regress(loaded, body, verb.lower())
    match = _STATUS.fullmatch(path)
    if method == "GET" and match:
        name, version, label, metadata = match.groups()
        if not name:
            raise ApiError("Missing model name in request.")
        if metadata:
            return _metadata(registry.resolve(name, int(version) if version else None, label))
        return codec.encode(registry.status(name, int(version) if version else None, label))
    raise ApiError(f"Malformed request: {method} {path}", 400 if path.lower().startswith("/v1/") else 404)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "declarative-tfx-serving"
    server: RestServer

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            raise ApiError(f"request body of {length} bytes is larger than {_MAX_BODY}", 413)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except (ApiError, ValueError) as exc:
            self.close_connection = True
            message = exc.message if isinstance(exc, ApiError) else f"bad request body: {exc}"
            self._send(getattr(exc, "status", 400), codec.encode({"error": message}))
            return
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        status, text = handle(self.server.registry, self.command, path, body)
        self._send(status, text)

    def setup(self) -> None:
        super().setup()
        # Small JSON answers: send at once instead of waiting for the client's delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, status: int, text: str) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if hasattr(self, "_headers_buffer"):
            self._headers_buffer.append(b"\r\n" + data)  # headers and body in one write
            self.flush_headers()
        else:  # an HTTP/0.9 request has no headers to buffer
            self.end_headers()
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        if self.server.access_log:
            super().log_message(format, *args)


class RestServer(ThreadingHTTPServer):
    """A threading HTTP server answering TF Serving's REST API from a :class:`ModelRegistry`."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], registry: ModelRegistry, access_log: bool = False) -> None:
        self.registry = registry
        self.access_log = access_log
        super().__init__(address, _Handler)


def make_server(
    registry: ModelRegistry, host: str = "127.0.0.1", port: int = 8501, access_log: bool = False
) -> RestServer:
    """Bind (``port=0`` picks a free port; see ``server.server_address``); call ``serve_forever()``."""
    return RestServer((host, port), registry, access_log)
