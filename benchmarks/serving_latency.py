"""Latency and throughput of the built-in server, REST and gRPC, beside the in-process signature call.

    python benchmarks/serving_latency.py [--model SAVED_MODEL_DIR] [--requests 300] [--seconds 5]

Publishes the model to a temporary serving dir and starts the built-in server
(``pipelines.serving``: REST and gRPC) in its own process on 127.0.0.1, twice: batching off,
and batching on (max_batch_size 16, batch_timeout_micros 2000). In one run it measures
the issue's three goals against the floor, the same ``serving_default`` signature called in
this process with ready-made tensors (no network, no JSON, no protos):

1. one instance per request, one client: p50 (goal: at most 0.5 ms above in-process);
2. 64 instances per request, one client: instances/s (goal: at least 80% of in-process);
3. 16 concurrent clients, one instance each, batching on: requests/s (goal: at least 2x the
   in-process sequential rate of one-instance calls).

Prints a markdown table and writes ``benchmarks/results/serving_latency.{md,csv}``.
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
from pipelines.serving.batching import BatchOptions
from pipelines.serving.server import ServerOptions
registry = ModelRegistry(sys.argv[1], poll_seconds=60, log=lambda m: None)
registry.poll_once()
batching = None if sys.argv[2] == "off" else BatchOptions(max_batch_size=16, batch_timeout_micros=int(sys.argv[2]))
server = make_server(registry, "127.0.0.1", 0, options=ServerOptions(grpc_port=0, batching=batching))
print(server.server_address[1], server.grpc_port, flush=True)
server.serve_forever()
"""
CLIENTS = 16


def measure(fns: dict[str, Callable[[], Any]], requests: int, rounds: int = 10, warmup: int = 20) -> dict[str, dict]:
    """Stats per path; the paths take turns in ``rounds`` slices, so a shared machine's load
    changes hit them alike."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    latencies: dict[str, list[float]] = {name: [] for name in fns}
    for r in range(rounds):
        share = requests // rounds + (1 if r < requests % rounds else 0)
        for name, fn in fns.items():
            for _ in range(share):
                t = time.perf_counter()
                fn()
                latencies[name].append(time.perf_counter() - t)
    out = {}
    for name, lat in latencies.items():
        lat.sort()
        out[name] = {
            "p50_ms": 1000 * statistics.median(lat),
            "p99_ms": 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))],
            "requests_per_s": len(lat) / sum(lat),
            "requests": len(lat),
        }
    return out


def start_server(serving: str, batching: str) -> tuple[subprocess.Popen[str], int, int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVER, serving, batching],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    rest, grpc_port = proc.stdout.readline().split()
    return proc, int(rest), int(grpc_port)


def concurrent_rate(make_call: Callable[[], Callable[[], None]], seconds: float) -> dict[str, float]:
    """Requests/s of CLIENTS threads, each with its own connection, calling for ``seconds``."""
    import threading

    calls = [make_call() for _ in range(CLIENTS)]
    for fn in calls:
        fn()
    counts, latencies, stop = [0] * CLIENTS, [[] for _ in range(CLIENTS)], threading.Event()

    def client(i: int) -> None:
        while not stop.is_set():
            t = time.perf_counter()
            calls[i]()
            latencies[i].append(time.perf_counter() - t)
            counts[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    total = time.perf_counter() - start
    every = sorted(x for lat in latencies for x in lat)
    return {
        "p50_ms": 1000 * statistics.median(every),
        "p99_ms": 1000 * every[min(len(every) - 1, int(0.99 * len(every)))],
        "requests_per_s": sum(counts) / total,
        "requests": sum(counts),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="SavedModel directory (default: the toy model)")
    parser.add_argument("--requests", type=int, default=300, help="timed sequential requests (default 300)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the concurrent runs (default 5)")
    parser.add_argument("--rounds", type=int, default=10, help="slices the sequential paths take turns in")
    parser.add_argument("--out", default=str(RESULTS / "serving_latency"), help="results path without extension")
    args = parser.parse_args(argv)

    import grpc
    import numpy as np
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    rows: list[dict[str, Any]] = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="serving-bench-") as tmp:
        model_dir = args.model
        if model_dir is None:
            from tests.serving.toy_model import build_toy_model

            model_dir = build_toy_model(os.path.join(tmp, "toy"))
        serving = os.path.join(tmp, "serving")
        serving_layout.publish_version(model_dir, serving, "bench", version=1)
        serving_layout.write_models_config(serving)
        signature = tf.saved_model.load(model_dir).signatures["serving_default"]
        specs = signature.structured_input_signature[1]

        def rest_call(port: int, body: bytes) -> Callable[[], None]:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

            def fn() -> None:
                conn.request(
                    "POST", "/v1/models/bench:predict", body=body, headers={"Content-Type": "application/json"}
                )
                response = conn.getresponse()
                data = response.read()
                if response.status != 200:
                    raise RuntimeError(data.decode())

            return fn

        def grpc_call(port: int, request: Any) -> Callable[[], None]:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
            return lambda: stub.Predict(request, timeout=60)

        def add(path: str, batch: int, clients: int, stats: dict[str, float]) -> None:
            rows.append({"path": path, "instances": batch, "clients": clients, **stats})
            rows[-1]["instances_per_s"] = stats["requests_per_s"] * batch

        plain, rest_port, grpc_port = start_server(serving, "off")
        try:
            for batch in (1, 64):
                body = json.dumps({"instances": [ROW] * batch}).encode()
                tensors = {k: tf.constant([ROW[k]] * batch, dtype=s.dtype) for k, s in specs.items()}
                request = predict_pb2.PredictRequest()
                request.model_spec.name = "bench"
                for k, t in tensors.items():
                    request.inputs[k].CopyFrom(tf.make_tensor_proto(t))

                def direct_call(tensors: dict = tensors) -> None:
                    np.asarray(signature(**tensors)["probabilities"])

                requests = args.requests if batch == 1 else max(20, args.requests // 3)
                paths = {
                    "in-process signature": direct_call,
                    "REST (JSON)": rest_call(rest_port, body),
                    "gRPC (PredictRequest)": grpc_call(grpc_port, request),
                }
                for path, stats in measure(paths, requests, rounds=args.rounds).items():
                    add(path, batch, 1, stats)
        finally:
            plain.terminate()
            plain.wait(timeout=30)
            plain.stdout.close()

        batched, rest_port, grpc_port = start_server(serving, "2000")
        try:
            body = json.dumps({"instances": [ROW]}).encode()
            request = predict_pb2.PredictRequest()
            request.model_spec.name = "bench"
            for k, s in specs.items():
                request.inputs[k].CopyFrom(tf.make_tensor_proto(tf.constant([ROW[k]], dtype=s.dtype)))
            add("REST, batching on", 1, CLIENTS, concurrent_rate(lambda: rest_call(rest_port, body), args.seconds))
            add(
                "gRPC, batching on",
                1,
                CLIENTS,
                concurrent_rate(lambda: grpc_call(grpc_port, request), args.seconds),
            )
        finally:
            batched.terminate()
            batched.wait(timeout=30)
            batched.stdout.close()

    floor = {r["instances"]: r for r in rows if r["path"].startswith("in-process")}
    for r in rows:
        base = floor[r["instances"]]
        r["p50_over_ms"] = r["p50_ms"] - base["p50_ms"]
        r["rate_vs_in_process"] = r["instances_per_s"] / base["instances_per_s"]
    header = (
        "| path | instances/request | clients | requests | p50 ms | p50 above in-process ms | p99 ms | requests/s "
        "| instances/s | vs in-process sequential |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [header] + [
        f"| {r['path']} | {r['instances']} | {r['clients']} | {int(r['requests'])} | {r['p50_ms']:.2f} | "
        f"{r['p50_over_ms']:+.2f} | {r['p99_ms']:.2f} | {r['requests_per_s']:.0f} | {r['instances_per_s']:.0f} | "
        f"{r['rate_vs_in_process']:.2f}x |"
        for r in rows
    ]
    goals = goal_lines(rows)
    model_name = "toy model (tests/serving/toy_model.py)" if args.model is None else args.model
    text = (
        f"# Serving latency\n\nModel: `{model_name}`. Server (built-in: Starlette on uvicorn, gRPC) in its own "
        f"process on 127.0.0.1; sequential rows: one client over one keep-alive connection / channel, "
        f"the three paths taking turns in {args.rounds} slices; "
        f"{CLIENTS}-client rows: batching on (max_batch_size 16, batch_timeout_micros 2000), {args.seconds:g} s. "
        f"{os.cpu_count()} cores, {platform.python_version()}, {time.strftime('%Y-%m-%d')}; 1-minute load "
        f"average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after (above the core count: other "
        f"jobs shared the machine and the figures are noisy).\n\n"
        + "\n".join(lines)
        + "\n\nGoals (issue 15):\n\n"
        + "\n".join(goals)
        + "\n"
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


def goal_lines(rows: list[dict[str, Any]]) -> list[str]:
    """Each speed goal, met or not, with its figures."""

    def row(path: str, instances: int) -> dict[str, Any]:
        return next(r for r in rows if r["path"] == path and r["instances"] == instances)

    lines = []
    for transport, sequential, concurrent in (
        ("REST", "REST (JSON)", "REST, batching on"),
        ("gRPC", "gRPC (PredictRequest)", "gRPC, batching on"),
    ):
        over = row(sequential, 1)["p50_over_ms"]
        share = row(sequential, 64)["rate_vs_in_process"]
        speedup = row(concurrent, 1)["rate_vs_in_process"]
        lines += [
            f"- {transport}, 1 instance: p50 {over:+.2f} ms above in-process (goal <= 0.5): "
            f"{'met' if over <= 0.5 else 'not met'}",
            f"- {transport}, 64 instances: {share:.0%} of in-process instances/s (goal >= 80%): "
            f"{'met' if share >= 0.8 else 'not met'}",
            f"- {transport}, {CLIENTS} clients with batching: {speedup:.2f}x in-process sequential requests/s "
            f"(goal >= 2x): {'met' if speedup >= 2 else 'not met'}",
        ]
    return lines


if __name__ == "__main__":
    sys.exit(main())
