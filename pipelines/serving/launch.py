"""What ``pipelines.serve`` does: check there is something to serve, then hand over to a server.

    serve(options)
      prepare_models_config     a pushed version exists; models.config is written if missing
      tensorflow_model_server   on PATH (and not --builtin): write its monitoring (and batching)
                                config beside models.config, exec it
      else run_builtin          the built-in server (ModelRegistry + RestServer: REST and gRPC)
                                until SIGINT/SIGTERM, then drain

Example:
    >>> serve(ServeOptions("serving", "ad_click", host="127.0.0.1", port=8501, poll_seconds=2))
"""

from __future__ import annotations

import math
import os
import shlex
import shutil
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from components import filesystem as fs
from components import serving_layout
from pipelines.errors import ServingError
from pipelines.serving.batching import BatchOptions
from pipelines.serving.registry import ModelRegistry
from pipelines.serving.rest import METRICS_PATH
from pipelines.serving.server import ServerOptions, make_server

__all__ = [
    "ServeOptions",
    "prepare_models_config",
    "run_builtin",
    "serve",
    "tf_serving_command",
    "tf_serving_files",
]


@dataclass(frozen=True)
class ServeOptions:
    """Where the models are and how to serve them (the config's values with the flags applied)."""

    serving_dir: str
    model_name: str
    host: str
    port: int
    poll_seconds: float
    builtin: bool = False  # the built-in server even if tensorflow_model_server is on PATH
    access_log: bool = False
    host_flag: str | None = None  # --host as given on the command line (TF Serving cannot honour it)
    config_file: str = "FILE"  # named in hints
    server: ServerOptions = field(default_factory=ServerOptions)  # gRPC port, batching, log, limits, token


def prepare_models_config(serving_dir: str, model_name: str, config_file: str = "FILE") -> str:
    """Check ``model_name`` has a pushed version and models.config is readable (written if missing).

    Returns:
        the path of models.config.

    Raises:
        ServingError: no pushed version, or models.config cannot be read or written.
    """
    if not serving_layout.version_dirs(serving_dir, model_name):
        raise ServingError(
            f"model {model_name!r} has no pushed versions under {fs.join(serving_dir, model_name)}",
            hint=f"run the pipeline first: python -m pipelines.run --config {config_file}",
        )
    config_path = fs.join(serving_dir, serving_layout.CONFIG_FILE)
    try:
        if not fs.exists(config_path):
            serving_layout.write_models_config(serving_dir)
        serving_layout.read_models_config(serving_dir)
    except serving_layout.LayoutError as exc:
        raise ServingError(str(exc)) from exc
    return config_path


MONITORING_FILE = "monitoring.config"
BATCHING_FILE = "batching_parameters.config"


def tf_serving_files(serving_dir: str, batching: BatchOptions | None) -> dict[str, str]:
    """Write TF Serving's ``--monitoring_config_file`` (Prometheus at the built-in server's path)
    and, with batching on, its ``--batching_parameters_file``; ``{flag: path}``."""
    monitoring = fs.join(serving_dir, MONITORING_FILE)
    fs.write_text(monitoring, f'prometheus_config {{\n  enable: true\n  path: "{METRICS_PATH}"\n}}\n')
    files = {"monitoring_config_file": monitoring}
    if batching is not None:
        path = fs.join(serving_dir, BATCHING_FILE)
        fs.write_text(
            path,
            f"max_batch_size {{ value: {batching.max_batch_size} }}\n"
            f"batch_timeout_micros {{ value: {batching.batch_timeout_micros} }}\n"
            f"max_enqueued_batches {{ value: {batching.max_enqueued_batches} }}\n"
            f"num_batch_threads {{ value: {batching.num_batch_threads} }}\n",
        )
        files["batching_parameters_file"] = path
    return files


def tf_serving_command(
    binary: str,
    config_path: str,
    port: int,
    poll_seconds: float,
    grpc_port: int | None = None,
    files: dict[str, str] | None = None,
) -> list[str]:
    """The ``tensorflow_model_server`` command line serving ``config_path`` with REST on ``port``."""
    poll = max(1, math.ceil(poll_seconds))
    if grpc_port is None or grpc_port == port:
        grpc_port = 8500 if port != 8500 else 8499  # TF Serving always serves gRPC; it must differ from REST
    files = files or {}
    return [
        binary,
        f"--port={grpc_port}",
        f"--rest_api_port={port}",
        f"--model_config_file={config_path}",
        f"--model_config_file_poll_wait_seconds={poll}",
        f"--file_system_poll_wait_seconds={poll}",
        "--allow_version_labels_for_unavailable_models=true",
        *([f"--monitoring_config_file={files['monitoring_config_file']}"] if "monitoring_config_file" in files else []),
        *(
            ["--enable_batching=true", f"--batching_parameters_file={files['batching_parameters_file']}"]
            if "batching_parameters_file" in files
            else []
        ),
    ]


def run_builtin(options: ServeOptions, say: Callable[[str], None] | None = None) -> int:
    """Load the served versions, then answer requests until SIGINT/SIGTERM (main thread only).

    SIGTERM or SIGINT drains: /readyz turns 503, the listeners close, requests in flight finish
    (up to ``drain_seconds``), then the process exits 0. A second SIGINT does not wait.

    Raises:
        ServingError: a port cannot be bound.
    """
    say = say or (lambda line: print(line, flush=True))
    registry = ModelRegistry(options.serving_dir, options.poll_seconds)
    registry.poll_once()
    grpc_port = options.server.grpc_port
    try:
        server = make_server(registry, options.host, options.port, options.access_log, options.server)
    except OSError as exc:
        ports = f"{options.port}" + (f" (gRPC {grpc_port})" if grpc_port is not None else "")
        raise ServingError(
            f"cannot listen on {options.host}:{ports} ({exc.strerror or exc})",
            hint="pass --port N / --grpc-port N or set serving.port / serving.grpc_port",
        ) from exc
    signals = {"count": 0}

    def stop(signum: int, _frame: Any) -> None:
        signals["count"] += 1
        if signals["count"] == 1:
            server.begin_shutdown()
        elif signum == signal.SIGINT:
            os._exit(130)  # a second Ctrl-C: do not wait for the drain

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    registry.start()
    bound_host, bound_port = server.server_address[:2]
    models = ", ".join(f"{n} version {', '.join(map(str, v))}" for n, v in sorted(registry.models().items()))
    grpc = f" and gRPC at {bound_host}:{server.grpc_port}" if server.grpc_port is not None else ""
    say(
        f"serving {models or 'nothing yet'} at http://{bound_host}:{bound_port}/v1/models/{options.model_name}"
        f"{grpc} (built-in server; polling {options.serving_dir} every {options.poll_seconds:g} s)"
    )
    try:
        server.serve_forever()
    finally:
        registry.stop()
        server.server_close()
    say("stopped")
    return 0


def supervise_tf_serving(binary: str, options: ServeOptions, files: dict[str, str]) -> int:
    """Run ``tensorflow_model_server`` on a staged copy of models.config and keep that copy in step,
    moving labels in two steps (:func:`pipelines.serving.versions.follow_for_tf_serving`): TF Serving
    refuses to move a label to a version it has not loaded. SIGINT/SIGTERM go to TF Serving; returns
    its exit code."""
    import subprocess
    import threading

    from pipelines.serving.versions import follow_for_tf_serving

    stop = threading.Event()
    staged = follow_for_tf_serving(options.serving_dir, options.port, options.poll_seconds, stop)
    cmd = tf_serving_command(binary, staged, options.port, options.poll_seconds, options.server.grpc_port, files)
    print("running " + shlex.join(cmd), flush=True)
    proc = subprocess.Popen(cmd)

    def forward(signum: int, _frame: Any) -> None:
        proc.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        return proc.wait()
    finally:
        stop.set()


def serve(options: ServeOptions) -> int:
    """Serve the pushed models: supervise ``tensorflow_model_server`` if it is on PATH (and not
    ``builtin``), else run the built-in server until SIGINT/SIGTERM. Returns the exit code.

    Raises:
        ServingError: a bad port, nothing pushed, an unreadable models.config, a port taken.
    """
    if not 0 <= options.port <= 65535:
        raise ServingError(f"--port {options.port} is not a TCP port (0-65535)")
    prepare_models_config(options.serving_dir, options.model_name, options.config_file)
    binary = None if options.builtin else shutil.which("tensorflow_model_server")
    if binary:
        files = tf_serving_files(options.serving_dir, options.server.batching)
        for what, on in (
            ("a bearer token (serving.auth)", options.server.http.token is not None),
            ("the request log (serving.logging)", options.server.log_path is not None),
        ):
            if on:
                print(f"note: tensorflow_model_server does not take {what}; see README 'Serving'", file=sys.stderr)
        if options.host_flag and options.host_flag not in ("0.0.0.0", "::"):
            print(
                f"note: tensorflow_model_server listens on all interfaces; --host {options.host_flag} is ignored",
                file=sys.stderr,
            )
        return supervise_tf_serving(binary, options, files)
    return run_builtin(options)
