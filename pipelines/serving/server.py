"""The built-in server: REST (Starlette on uvicorn, httptools) and gRPC (``grpc.aio``) on one uvloop loop.

    RestServer(registry, host, port, options)    binds REST (and gRPC) now: a taken port fails here
      serve_forever()                            both transports answer on one event loop until shutdown
      begin_shutdown()                           signal-safe: /readyz 503, listeners closed, requests
                                                 in flight finish (up to drain_seconds), gRPC drains too
      shutdown()                                 begin_shutdown() and wait for serve_forever to return

When serve_forever returns, the thread pools (REST's, gRPC's, the batchers') are shut down and
the request log is closed. Signals are the caller's (``pipelines.serving.launch`` installs
SIGTERM/SIGINT handlers that call :meth:`RestServer.begin_shutdown`), so uvicorn does not re-raise
them and the process exits 0.
"""

from __future__ import annotations

import asyncio
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
        import uvloop

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
        self.loop = uvloop.new_event_loop()  # both transports answer on it, in serve_forever's thread
        self.grpc: Any = None
        self.grpc_port: int | None = None
        self._grpc_offload: Any = None
        if options.grpc_port is not None:
            try:
                self.grpc, self.grpc_port, self._grpc_offload = self.loop.run_until_complete(self._make_grpc(host))
            except OSError:
                self.socket.close()
                self.loop.close()
                raise
        self.app = make_app(self.service, options.http, self.state)
        self._uvicorn = _uvicorn_server(self.app, options)
        self._done = threading.Event()

    async def _make_grpc(self, host: str) -> tuple[Any, int, Any]:
        from pipelines.serving.grpc_service import make_grpc_server

        http = self.options.http
        grpc_port = self.options.grpc_port or 0
        return make_grpc_server(self.service, host, grpc_port, http.token, http.max_in_flight, http.max_body_bytes)

    async def _serve(self) -> None:
        drain = self.options.drain_seconds
        if self.grpc is not None:
            await self.grpc.start()

        async def stop_grpc_when_draining() -> None:
            while not self._uvicorn.should_exit:
                await asyncio.sleep(0.05)
            await self.grpc.stop(grace=drain)

        grpc_stopped = asyncio.ensure_future(stop_grpc_when_draining()) if self.grpc is not None else None
        try:
            await self._uvicorn.serve(sockets=[self.socket])
        finally:
            if grpc_stopped is not None:
                self._uvicorn.should_exit = True
                await asyncio.wait_for(grpc_stopped, drain + 1)

    def serve_forever(self) -> None:
        """Answer until :meth:`begin_shutdown`, then drain; returns when both transports stopped."""
        self._done.clear()
        try:
            self.loop.run_until_complete(self._serve())
        finally:
            self.app.endpoint.offload.close()
            for pool in (self._grpc_offload, self.service.batcher, self.service.async_batcher):
                if pool is not None:
                    pool.close()
            if self.service.request_log is not None:
                self.service.request_log.close()
            self._done.set()

    def begin_shutdown(self) -> None:
        """Stop taking requests and let those in flight finish (safe in a signal handler)."""
        self.state["draining"] = True
        self._uvicorn.should_exit = True

    def shutdown(self, timeout: float = 60.0) -> None:
        self.begin_shutdown()
        self._done.wait(timeout)

    def server_close(self) -> None:
        self.socket.close()
        if not self.loop.is_running() and not self.loop.is_closed():
            self.loop.close()


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
