"""Latency and throughput of the built-in server vs calling the SavedModel in-process (the floor).

    python benchmarks/serving_latency.py [--model SAVED_MODEL_DIR] [--requests 300]

Publishes the model to a temporary serving dir, starts the built-in server
(``pipelines.serving``) in its own process on 127.0.0.1, and sends ``:predict`` requests
one at a time over a keep-alive connection with 1 and 64 instances each. The floor calls
the same ``serving_default`` signature in this process with ready-made tensors (no HTTP,
no JSON). Prints a markdown table and writes ``benchmarks/results/serving_latency.{md,csv}``.
Without ``--model`` it uses the toy model of ``tests/serving/toy_model.py``.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import components  # noqa: E402,F401  (TF_USE_LEGACY_KERAS before TensorFlow loads)
from components import serving_layout  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
ROW = {
    "daily_time_spent_on_site": 68.95,
    "age": 35,
    "area_income": 61833.9,
    "daily_internet_usage": 256.09,
    "ad_topic_line": "Cloned 5thgeneration orchestration",
    "city": "Wrightburgh",
    "male": 0,
    "country": "Tunisia",
    "timestamp": "2016-03-27 00:53:11",
}
_SERVER = """
import sys
from pipelines.serving import ModelRegistry, make_server
registry = ModelRegistry(sys.argv[1], poll_seconds=60, log=lambda m: None)
registry.poll_once()
server = make_server(registry, "127.0.0.1", 0)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def measure(fn: Callable[[], Any], requests: int, warmup: int = 20) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    latencies = []
    start = time.perf_counter()
    for _ in range(requests):
        t = time.perf_counter()
        fn()
        latencies.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    latencies.sort()
    return {
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "requests_per_s": requests / total,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="SavedModel directory (default: the toy model)")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per batch size (default 300)")
    parser.add_argument("--out", default=str(RESULTS / "serving_latency"), help="results path without extension")
    args = parser.parse_args(argv)

    import numpy as np
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="serving-bench-") as tmp:
        model_dir = args.model
        if model_dir is None:
            from tests.serving.toy_model import build_toy_model

            model_dir = build_toy_model(os.path.join(tmp, "toy"))
        serving = os.path.join(tmp, "serving")
        serving_layout.publish_version(model_dir, serving, "bench", version=1)
        serving_layout.write_models_config(serving)

        server = subprocess.Popen(
            [sys.executable, "-c", _SERVER, serving],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            port = int(server.stdout.readline())
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            signature = tf.saved_model.load(model_dir).signatures["serving_default"]
            specs = signature.structured_input_signature[1]
            rows: list[dict[str, Any]] = []
            for batch in (1, 64):
                body = json.dumps({"instances": [ROW] * batch}).encode()
                tensors = {k: tf.constant([ROW[k]] * batch, dtype=s.dtype) for k, s in specs.items()}

                def http_call(body: bytes = body) -> None:
                    conn.request(
                        "POST", "/v1/models/bench:predict", body=body, headers={"Content-Type": "application/json"}
                    )
                    response = conn.getresponse()
                    data = response.read()
                    if response.status != 200:
                        raise RuntimeError(data.decode())

                def direct_call(tensors: dict = tensors) -> None:
                    np.asarray(signature(**tensors)["probabilities"])

                requests = args.requests if batch == 1 else max(20, args.requests // 3)
                for path, fn in (("built-in server (HTTP+JSON)", http_call), ("in-process signature", direct_call)):
                    stats = measure(fn, requests)
                    rows.append(
                        {
                            "path": path,
                            "instances": batch,
                            "requests": requests,
                            **stats,
                            "instances_per_s": stats["requests_per_s"] * batch,
                        }
                    )
            conn.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
            server.stdout.close()

    floor = {r["instances"]: r for r in rows if r["path"].startswith("in-process")}
    for r in rows:
        r["p50_vs_floor"] = r["p50_ms"] / floor[r["instances"]]["p50_ms"]
    header = (
        "| path | instances/request | requests | p50 ms | p99 ms | requests/s | instances/s | p50 vs in-process |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [header] + [
        f"| {r['path']} | {r['instances']} | {r['requests']} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
        f"{r['requests_per_s']:.0f} | {r['instances_per_s']:.0f} | {r['p50_vs_floor']:.1f}x |"
        for r in rows
    ]
    model_name = "toy model (tests/serving/toy_model.py)" if args.model is None else args.model
    text = (
        f"# Serving latency\n\nModel: `{model_name}`. One client, sequential requests over one keep-alive "
        f"connection to 127.0.0.1; server in its own process. {os.cpu_count()} cores, "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}.\n\n" + "\n".join(lines) + "\n"
    )
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(text)
    with open(out.with_suffix(".csv"), "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        for r in rows:
            writer.writerow({k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
