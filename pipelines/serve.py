"""``python -m pipelines.serve --config FILE [--port N] [--host H] [--builtin]``: serve the pushed models.

With ``tensorflow_model_server`` on PATH this execs it on ``<push.serving_dir>/models.config``
(REST on ``serving.port``, config re-read every ``serving.poll_seconds``). Otherwise, or with
``--builtin``, it runs the built-in server (``pipelines.serving``): TF Serving's REST API for
every model under the serving dir, bound to ``serving.host`` (127.0.0.1 by default), loading
new and rolled-back versions as they appear without dropping requests. Ctrl-C or SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import shutil
import signal
import sys
import threading
from typing import Any

from components import serving_layout
from pipelines.cli import main_guard
from pipelines.config import load_config
from pipelines.errors import ServingError

__all__ = ["main", "tf_serving_command"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipelines.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="pipeline YAML file")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value (repeatable)")
    parser.add_argument("--port", type=int, help="REST port (default serving.port)")
    parser.add_argument("--host", help="address to bind (default serving.host); the built-in server only")
    parser.add_argument("--builtin", action="store_true", help="use the built-in server even if TF Serving is installed")
    parser.add_argument("--access-log", action="store_true", help="log every request (built-in server)")
    return parser.parse_args(argv)


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


def run_builtin(serving_dir: str, host: str, port: int, poll_seconds: float, model_name: str,
                access_log: bool = False) -> int:
    """Load the served versions, then answer requests until SIGINT/SIGTERM."""
    from pipelines.serving import ModelRegistry, make_server

    registry = ModelRegistry(serving_dir, poll_seconds)
    registry.poll_once()
    try:
        server = make_server(registry, host, port, access_log=access_log)
    except OSError as exc:
        raise ServingError(f"cannot listen on {host}:{port} ({exc.strerror or exc})",
                           hint="pass --port N or set serving.port") from exc
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
    print(f"serving {models or 'nothing yet'} at http://{bound_host}:{bound_port}/v1/models/{model_name} "
          f"(built-in server; polling {serving_dir} every {poll_seconds:g} s)", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        registry.stop()
        server.server_close()
    print("stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = load_config(args.config, args.overrides)
    serving_dir, name = config.push.serving_dir, config.model_name
    host = args.host or config.serving.host
    port = config.serving.port if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise ServingError(f"--port {port} is not a TCP port (0-65535)")
    if not serving_layout.version_dirs(serving_dir, name):
        raise ServingError(f"model {name!r} has no pushed versions under {os.path.join(serving_dir, name)}",
                           hint=f"run the pipeline first: python -m pipelines.run --config {args.config}")
    config_path = os.path.join(serving_dir, serving_layout.CONFIG_FILE)
    try:
        if not os.path.exists(config_path):
            serving_layout.write_models_config(serving_dir)
        serving_layout.read_models_config(serving_dir)
    except serving_layout.LayoutError as exc:
        raise ServingError(str(exc)) from exc

    binary = None if args.builtin else shutil.which("tensorflow_model_server")
    if binary:
        cmd = tf_serving_command(binary, config_path, port, config.serving.poll_seconds)
        if args.host and args.host not in ("0.0.0.0", "::"):
            print(f"note: tensorflow_model_server listens on all interfaces; --host {args.host} is ignored",
                  file=sys.stderr)
        print("exec " + shlex.join(cmd), flush=True)
        os.execv(binary, cmd)
    return run_builtin(serving_dir, host, port, config.serving.poll_seconds, name, access_log=args.access_log)


if __name__ == "__main__":
    sys.exit(main_guard(main))
