"""The web stack's limits on a real server on 127.0.0.1: body size in any encoding, timeouts, overload,
access, probes; and, through ``pipelines.serve``, connection resets and SIGTERM during load."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import struct
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.serving.conftest import V2, Server, call, publish_both
from tests.serving.test_serve_cli import builtin_server
from tests.serving.toy_model import ROW
from tests.unit.test_push_cli import write_project

pytestmark = pytest.mark.slow

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory, toy_models: dict[float, str]) -> Iterator[Server]:
    """A server with a 1 MiB body limit, a 0.5 s body timeout and a bearer token."""
    from pipelines.serving.rest import HttpOptions
    from pipelines.serving.server import ServerOptions

    http_options = HttpOptions(max_body_bytes=MIB, body_timeout=0.5, token="s3cret")
    serving = publish_both(tmp_path_factory.mktemp("limits"), toy_models, pin=V2)
    srv = Server(serving, options=ServerOptions(http=http_options, grpc_port=0))
    yield srv
    srv.close()


def raw_exchange(port: int, head: bytes, body: Iterable[bytes] = ()) -> tuple[int, dict[str, Any]]:
    """Send ``head`` then ``body`` pieces on a raw socket (the server may stop reading); the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(head)
            for piece in body:
                sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before the whole body: read its answer
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head_text, _, payload = data.partition(b"\r\n\r\n")
    return int(head_text.split()[1]), json.loads(payload)


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


AUTH = b"Authorization: Bearer s3cret\r\n"


def test_an_oversized_chunked_body_is_413(limited: Server) -> None:
    head = b"POST /v1/models/ad_click:predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n" + AUTH + b"\r\n"
    piece = b"x" * (256 * 1024)
    chunks = (b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(8))  # 2 MiB in 256 KiB chunks, never ended
    status, body = raw_exchange(limited.port, head, chunks)
    assert status == 413 and "larger than 1048576 bytes" in body["error"]


def test_an_oversized_content_length_is_413_before_the_body_is_sent(limited: Server) -> None:
    head = b"POST /v1/models/ad_click:predict HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n" % (2 * MIB) + AUTH
    status, body = raw_exchange(limited.port, head + b"\r\n")
    assert status == 413 and body["error"] == f"request body of {2 * MIB} bytes is larger than {MIB}"


def test_a_body_slower_than_the_timeout_is_408(limited: Server) -> None:
    head = b"POST /v1/models/ad_click:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n" + AUTH + b"\r\n{"
    start = time.monotonic()
    status, body = raw_exchange(limited.port, head)
    assert status == 408 and "within 0.5 s" in body["error"] and time.monotonic() - start < 10


def test_bearer_token_for_rest_and_grpc_and_open_probes(limited: Server) -> None:
    import grpc
    from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc

    path, doc = "/v1/models/ad_click:predict", json.dumps({"instances": [ROW]})
    for headers, status in (
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": "Bearer s3cret"}, 200),
    ):
        conn = http.client.HTTPConnection("127.0.0.1", limited.port, timeout=30)
        conn.request("POST", path, body=doc, headers=headers)
        response = conn.getresponse()
        assert response.status == status, response.read()
        if status == 401:
            assert response.getheader("WWW-Authenticate") == "Bearer" and "error" in json.loads(response.read())
        conn.close()
    assert call(limited.port, "GET", "/healthz") == (200, {"status": "alive"})
    status, body = call(limited.port, "GET", "/readyz")
    assert status == 200 and body["models"] == {"ad_click": [V2]}
    assert call(limited.port, "GET", "/monitoring/prometheus/metrics")[0] == 401

    request = get_model_status_pb2.GetModelStatusRequest(model_spec={"name": "ad_click"})
    with grpc.insecure_channel(f"127.0.0.1:{limited.grpc_port}") as channel:
        stub = model_service_pb2_grpc.ModelServiceStub(channel)
        with pytest.raises(grpc.RpcError) as info:
            stub.GetModelStatus(request, timeout=30)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert stub.GetModelStatus(
            request, timeout=30, metadata=[("authorization", "Bearer s3cret")]
        ).model_version_status


def test_overload_is_503_at_once_not_a_queue(tmp_path: Path, toy_models: dict[float, str]) -> None:
    from pipelines.serving.batching import BatchOptions
    from pipelines.serving.rest import HttpOptions
    from pipelines.serving.server import ServerOptions

    # One request at a time; batching holds each request 1 s waiting for company.
    options = ServerOptions(
        http=HttpOptions(max_in_flight=1), batching=BatchOptions(max_batch_size=64, batch_timeout_micros=1_000_000)
    )
    srv = Server(publish_both(tmp_path, toy_models, pin=V2), options=options)
    try:
        first: list[Any] = []
        thread = threading.Thread(
            target=lambda: first.append(call(srv.port, "POST", "/v1/models/ad_click:predict", {"instances": [ROW]}))
        )
        thread.start()
        time.sleep(0.3)
        start = time.monotonic()
        status, body = call(srv.port, "POST", "/v1/models/ad_click:predict", {"instances": [ROW]})
        assert status == 503 and "overloaded" in body["error"] and time.monotonic() - start < 0.5
        thread.join(timeout=30)
        assert first[0][0] == 200
    finally:
        srv.close()


# --------------------------------------------------------------------------- the command


def reset_connections(port: int) -> None:
    """Three clients that reset (RST) their connection: mid-body, before reading the answer, mid-request-line."""
    body = json.dumps({"instances": [ROW]}).encode()
    head = b"POST /v1/models/ad_click:predict HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
    for sent in (head + body[:10], head + body, b"POST /v1/models/ad_click:pre"):
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        sock.sendall(sent)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


def test_resets_leave_no_traceback_and_sigterm_finishes_requests_in_flight(
    tmp_path: Path, toy_models: dict[float, str]
) -> None:
    """One ``pipelines.serve`` process: connections reset, then SIGTERM under load from 8 clients whose
    requests each wait 0.3 s in the batcher, so some are in flight when the signal comes."""
    config = write_project(tmp_path)
    publish_both(tmp_path, toy_models, pin=V2)
    batching = ("--set", "serving.batching.enabled=true", "--set", "serving.batching.batch_timeout_micros=300000")
    log = tmp_path / "serve.log"
    with builtin_server(config, log, "--grpc-port", "0", *batching) as (proc, port):
        reset_connections(port)
        time.sleep(0.3)
        assert call(port, "POST", "/v1/models/ad_click:predict", {"instances": [ROW]})[0] == 200

        outcomes: list[tuple[float, float, int | str]] = []  # (sent, answered, status or what failed)
        lock, stop = threading.Lock(), threading.Event()

        def client() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            while not stop.is_set():
                sent = time.monotonic()
                try:
                    status = call(port, "POST", "/v1/models/ad_click:predict", {"instances": [ROW]}, conn=conn)[0]
                except (ConnectionError, http.client.HTTPException, OSError) as exc:
                    status = type(exc).__name__  # refused or closed: after the drain began
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    time.sleep(0.05)
                with lock:
                    outcomes.append((sent, time.monotonic(), status))
            conn.close()

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        term = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert code == 0
    straddling = [o for o in outcomes if o[0] < term < o[1] and isinstance(o[2], int)]
    assert straddling and all(status == 200 for _, _, status in straddling), straddling  # in flight: finished
    assert not [o for o in outcomes if isinstance(o[2], int) and o[2] != 200]  # no 5xx, no refusal with a body
    text = log.read_text()
    assert "Traceback" not in text and "Exception" not in text, text
