"""The built-in server: REST (Starlette on uvicorn, httptools, uvloop) and gRPC over one Service.

    RestServer(registry, host, port, options)    binds REST (and gRPC) now: a taken port fails here
      serve_forever()                            gRPC started, uvicorn runs until shutdown
      begin_shutdown()                           signal-safe: /readyz 503, listeners closed, requests
                                                 in flight finish (up to drain_seconds), gRPC drains too
      shutdown()                                 begin_shutdown() and wait for serve_forever to return

Signals are the caller's (``pipelines.serving.launch`` installs SIGTERM/SIGINT handlers that call
:meth:`RestServer.begin_shutdown`), so uvicorn does not re-raise them and the process exits 0.
"""

from __future__ import annotations

import contextlib
import math
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pipelines.serving.batching import Batcher, BatchOptions
from pipelines.serving.batching_async import AsyncBatcher
from pipelines.serving.metrics import Metrics
from pipelines.serving.registry import ModelRegistry
from pipelines.serving.request_log import RequestLog
from pipelines.serving.rest import HttpOptions, make_app
from pipelines.serving.service import Service

__all__ = ["RestServer", "ServerOptions", "make_server"]


@dataclass(frozen=True)
class ServerOptions:
    """Everything about the server but the models (``serving:`` of the config, flags applied)."""

    http: HttpOptions = field(default_factory=HttpOptions)
    grpc_port: int | None = None  # None: no gRPC; 0: a free port
    batching: BatchOptions | None = None  # None: off
    log_path: str | None = None  # None: no request log
    log_sampling_rate: float = 1.0
    log_max_mb: float = 100.0
    drain_seconds: float = 30.0
    access_log: bool = False


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=2048)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _uvicorn_server(app: Any, options: ServerOptions) -> Any:
    import uvicorn

    class _Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield  # the caller owns the signals

    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        log_level="info" if options.access_log else "warning",
        access_log=options.access_log,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=math.ceil(options.drain_seconds),
        server_header=False,
        date_header=False,
    )
    return _Server(config)


class RestServer:
    """REST and, with ``options.grpc_port``, gRPC, answering from a :class:`ModelRegistry`."""

    def __init__(
        self, registry: ModelRegistry, host: str = "127.0.0.1", port: int = 8501, options: ServerOptions | None = None
    ) -> None:
        options = options or ServerOptions()
        self.options = options
        metrics = Metrics()
        request_log = None
        if options.log_path:
            request_log = RequestLog(
                options.log_path, options.log_sampling_rate, options.log_max_mb, count=metrics.log_record
            )
        batcher = Batcher(options.batching) if options.batching else None
        async_batcher = AsyncBatcher(options.batching) if options.batching else None
        self.service = Service(registry, batcher, metrics, request_log, async_batcher)
        self.state: dict[str, Any] = {"draining": False}
        self.socket = _bind(host, port)
        self.server_address: tuple[str, int] = self.socket.getsockname()[:2]
        self.grpc: Any = None
        self.grpc_port: int | None = None
        if options.grpc_port is not None:
            from pipelines.serving.grpc_service import make_grpc_server

            try:
                self.grpc, self.grpc_port = make_grpc_server(
                    self.service,
                    host,
                    options.grpc_port,
                    options.http.token,
                    options.http.max_in_flight,
                    options.http.max_body_bytes,
                )
            except OSError:
                self.socket.close()
                raise
        self._uvicorn = _uvicorn_server(make_app(self.service, options.http, self.state), options)
        self._done = threading.Event()
        self._grpc_stopped: Any = None

    def serve_forever(self) -> None:
        """Answer until :meth:`begin_shutdown`, then drain; returns when both transports stopped."""
        self._done.clear()
        try:
            if self.grpc is not None:
                self.grpc.start()
            self._uvicorn.run(sockets=[self.socket])
        finally:
            self._stop_grpc()
            if self._grpc_stopped is not None:
                self._grpc_stopped.wait(self.options.drain_seconds + 1)
            if self.service.request_log is not None:
                self.service.request_log.close()
            self._done.set()

    def begin_shutdown(self) -> None:
        """Stop taking requests and let those in flight finish (safe in a signal handler)."""
        self.state["draining"] = True
        self._uvicorn.should_exit = True
        threading.Thread(target=self._stop_grpc, daemon=True).start()

    def _stop_grpc(self) -> None:
        if self.grpc is not None and self._grpc_stopped is None:
            self._grpc_stopped = self.grpc.stop(grace=self.options.drain_seconds)

    def shutdown(self, timeout: float = 60.0) -> None:
        self.begin_shutdown()
        self._done.wait(timeout)

    def server_close(self) -> None:
        self.socket.close()


def make_server(
    registry: ModelRegistry,
    host: str = "127.0.0.1",
    port: int = 8501,
    access_log: bool = False,
    options: ServerOptions | None = None,
) -> RestServer:
    """Bind (``port=0`` picks a free port; see ``server.server_address``); call ``serve_forever()``."""
    options = options or ServerOptions()
    if access_log and not options.access_log:
        from dataclasses import replace

        options = replace(options, access_log=True)
    return RestServer(registry, host, port, options)
