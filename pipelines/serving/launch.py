"""What ``pipelines.serve`` does: check there is something to serve, then hand over to a server.

    serve(options)
      prepare_models_config     a pushed version exists; models.config is written if missing
      tensorflow_model_server   on PATH (and not --builtin): exec it on models.config
      else run_builtin          the built-in server (ModelRegistry + RestServer) until SIGINT/SIGTERM

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
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from components import filesystem as fs
from components import serving_layout
from pipelines.errors import ServingError
from pipelines.serving.registry import ModelRegistry
from pipelines.serving.rest import make_server

__all__ = ["ServeOptions", "prepare_models_config", "run_builtin", "serve", "tf_serving_command"]


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


def tf_serving_command(binary: str, config_path: str, port: int, poll_seconds: float) -> list[str]:
    """The ``tensorflow_model_server`` command line serving ``config_path`` with REST on ``port``."""
    poll = max(1, math.ceil(poll_seconds))
    return [
        binary,
        f"--port={8500 if port != 8500 else 8499}",  # gRPC; must differ from the REST port
        f"--rest_api_port={port}",
        f"--model_config_file={config_path}",
        f"--model_config_file_poll_wait_seconds={poll}",
        f"--file_system_poll_wait_seconds={poll}",
        "--allow_version_labels_for_unavailable_models=true",
    ]


def run_builtin(
    serving_dir: str,
    host: str,
    port: int,
    poll_seconds: float,
    model_name: str,
    access_log: bool = False,
    say: Callable[[str], None] | None = None,
) -> int:
    """Load the served versions, then answer requests until SIGINT/SIGTERM (main thread only).

    Raises:
        ServingError: ``host:port`` cannot be bound.
    """
    say = say or (lambda line: print(line, flush=True))
    registry = ModelRegistry(serving_dir, poll_seconds)
    registry.poll_once()
    try:
        server = make_server(registry, host, port, access_log=access_log)
    except OSError as exc:
        raise ServingError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc})", hint="pass --port N or set serving.port"
        ) from exc
    stopping = threading.Event()

    def stop(signum: int, _frame: Any) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    registry.start()
    bound_host, bound_port = server.server_address[:2]
    models = ", ".join(f"{n} version {', '.join(map(str, v))}" for n, v in sorted(registry.models().items()))
    say(
        f"serving {models or 'nothing yet'} at http://{bound_host}:{bound_port}/v1/models/{model_name} "
        f"(built-in server; polling {serving_dir} every {poll_seconds:g} s)"
    )
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        registry.stop()
        server.server_close()
    say("stopped")
    return 0


def serve(options: ServeOptions) -> int:
    """Serve the pushed models: exec ``tensorflow_model_server`` if it is on PATH (and not
    ``builtin``), else run the built-in server until SIGINT/SIGTERM. Returns the exit code.

    Raises:
        ServingError: a bad port, nothing pushed, an unreadable models.config, a port taken.
    """
    if not 0 <= options.port <= 65535:
        raise ServingError(f"--port {options.port} is not a TCP port (0-65535)")
    config_path = prepare_models_config(options.serving_dir, options.model_name, options.config_file)
    binary = None if options.builtin else shutil.which("tensorflow_model_server")
    if binary:
        cmd = tf_serving_command(binary, config_path, options.port, options.poll_seconds)
        if options.host_flag and options.host_flag not in ("0.0.0.0", "::"):
            print(
                f"note: tensorflow_model_server listens on all interfaces; --host {options.host_flag} is ignored",
                file=sys.stderr,
            )
        print("exec " + shlex.join(cmd), flush=True)
        os.execv(binary, cmd)
    return run_builtin(
        options.serving_dir,
        options.host,
        options.port,
        options.poll_seconds,
        options.model_name,
        access_log=options.access_log,
    )
