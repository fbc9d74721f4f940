"""``python -m pipelines.serve --config FILE [--port N] [--host H] [--builtin]``: serve the pushed models.

With ``tensorflow_model_server`` on PATH this execs it on ``<push.serving_dir>/models.config``
(REST on ``serving.port``, config re-read every ``serving.poll_seconds``). Otherwise, or with
``--builtin``, it runs the built-in server (``pipelines.serving``): TF Serving's REST API for
every model under the serving dir, bound to ``serving.host`` (127.0.0.1 by default), loading
new and rolled-back versions as they appear without dropping requests. Ctrl-C or SIGTERM stops
it. Reads no training data (the logic is in ``pipelines.serving.launch``).
"""

from __future__ import annotations

import argparse
import shutil
import sys

from pipelines.cli import add_config_arguments, main_guard
from pipelines.config import load_config
from pipelines.runners.logs import quiet_tensorflow_startup
from pipelines.serving.launch import ServeOptions, serve

__all__ = ["main"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipelines.serve", description=__doc__.split("\n\n")[0])
    add_config_arguments(parser)
    parser.add_argument("--port", type=int, help="REST port (default serving.port)")
    parser.add_argument("--host", help="address to bind (default serving.host); the built-in server only")
    parser.add_argument(
        "--builtin", action="store_true", help="use the built-in server even if TF Serving is installed"
    )
    parser.add_argument("--access-log", action="store_true", help="log every request (built-in server)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = load_config(args.config, args.overrides)
    builtin = args.builtin or shutil.which("tensorflow_model_server") is None
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
        )
    )


if __name__ == "__main__":
    sys.exit(main_guard(main))
