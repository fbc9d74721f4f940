"""``python -m pipelines.serve --config FILE [--port N] [--grpc-port N] [--host H] [--builtin]``: serve the models.

With ``tensorflow_model_server`` on PATH this runs and supervises it on a staged copy of
``<push.serving_dir>/models.config`` that moves labels only to loaded versions (REST on
``serving.port``, gRPC on ``serving.grpc_port``, Prometheus metrics on, config re-read every
``serving.poll_seconds``). Otherwise, or with ``--builtin``, it runs the built-in server
(``pipelines.serving``): TF Serving's REST and gRPC APIs for every model under the serving dir,
bound to ``serving.host`` (127.0.0.1 by default), loading new and rolled-back versions as they
appear without dropping requests, with ``serving.batching``, ``serving.logging`` and
``serving.auth``. Ctrl-C or SIGTERM drains and stops it. Reads no training data (the logic is
in ``pipelines.serving.launch``).
"""

from __future__ import annotations

import argparse
import shutil
import sys

from pipelines.cli import add_config_arguments, main_guard
from pipelines.config import load_config
from pipelines.config.serving import ServingSection
from pipelines.errors import ServingError
from pipelines.runners.logs import quiet_tensorflow_startup
from pipelines.serving.launch import ServeOptions, serve
from pipelines.serving.server import ServerOptions

__all__ = ["main"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipelines.serve", description=__doc__.split("\n\n")[0])
    add_config_arguments(parser)
    parser.add_argument("--port", type=int, help="REST port (default serving.port)")
    parser.add_argument(
        "--grpc-port", type=int, help="gRPC port (default serving.grpc_port); 0 picks a free one (built-in server)"
    )
    parser.add_argument("--host", help="address to bind (default serving.host); the built-in server only")
    parser.add_argument(
        "--builtin", action="store_true", help="use the built-in server even if TF Serving is installed"
    )
    parser.add_argument("--access-log", action="store_true", help="log every request (built-in server)")
    return parser.parse_args(argv)


def server_options(serving: ServingSection, grpc_port: int | None, access_log: bool, builtin: bool) -> ServerOptions:
    """The server's options from ``serving:``; the bearer token is read only for the built-in server."""
    from dataclasses import replace

    from pipelines.serving.auth import load_token
    from pipelines.serving.batching import BatchOptions
    from pipelines.serving.rest import HttpOptions

    b = serving.batching
    return replace(
        ServerOptions(),
        http=HttpOptions(
            max_body_bytes=int(serving.max_body_mb * 1024 * 1024),
            body_timeout=serving.request_timeout_seconds,
            max_in_flight=serving.max_in_flight,
            token=load_token(serving.auth.token_env, serving.auth.token_file) if builtin else None,
        ),
        grpc_port=serving.grpc_port if grpc_port is None else grpc_port,
        batching=BatchOptions(b.max_batch_size, b.batch_timeout_micros, b.max_enqueued_batches, b.num_batch_threads)
        if b.enabled
        else None,
        log_path=serving.logging.path,
        log_sampling_rate=serving.logging.sampling_rate,
        log_max_mb=serving.logging.max_mb,
        drain_seconds=serving.drain_seconds,
        access_log=access_log,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = load_config(args.config, args.overrides)
    builtin = args.builtin or shutil.which("tensorflow_model_server") is None
    for flag, value in (("--port", args.port), ("--grpc-port", args.grpc_port)):
        if value is not None and not 0 <= value <= 65535:
            raise ServingError(f"{flag} {value} is not a TCP port (0-65535)")
    if builtin:  # not for TF Serving: it would inherit TF_CPP_MIN_LOG_LEVEL and hide its own errors
        quiet_tensorflow_startup()
    return serve(
        ServeOptions(
            serving_dir=config.push.serving_dir,
            model_name=config.model_name,
            host=args.host or config.serving.host,
            port=config.serving.port if args.port is None else args.port,
            poll_seconds=config.serving.poll_seconds,
            builtin=builtin,
            access_log=args.access_log,
            host_flag=args.host,
            config_file=args.config,
            server=server_options(config.serving, args.grpc_port, args.access_log, builtin),
        )
    )


if __name__ == "__main__":
    sys.exit(main_guard(main))
