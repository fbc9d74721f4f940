"""Latency and throughput of the built-in server, REST and gRPC, beside the in-process signature call.

    python benchmarks/serving_latency.py [--model SAVED_MODEL_DIR] [--requests 300] [--seconds 5]
                                         [--baseline SOURCE_TREE] [--batch-timeout-micros 2000]
                                         [--batch-threads CORES]

Publishes the model to a temporary serving dir and starts the built-in server
(``pipelines.serving``: REST and gRPC) in its own process on 127.0.0.1, twice: batching off,
and batching on (max_batch_size 16, batch_timeout_micros 2000, num_batch_threads = cores by
default: on 2 cores with 16 REST clients this beat TF Serving's CPU advice of batch_timeout_micros 0,
1,964 against 1,460 requests/s, the two servers taking turns in one run at load 7). In one run it measures
the issue's three goals against the floor, the same ``serving_default`` signature called in
this process with ready-made tensors (no network, no JSON, no protos):

1. one instance per request, one client: p50 (goal: at most 0.5 ms above in-process);
2. 64 instances per request, one client: instances/s (goal: at least 80% of in-process);
3. 16 concurrent clients, one instance each, batching on: requests/s (goal: at least 2x the
   in-process sequential rate of one-instance calls).

The clients are lean, so the figures are the server's and not the client library's: REST sends
ready-made request bytes over a raw keep-alive socket and reads the whole response (status line,
headers, Content-Length body); gRPC sends a ready-serialized ``PredictRequest`` and takes the
response bytes (``unary_unary`` without (de)serializers) on the stock channel; the 16-client runs
use one asyncio loop (uvloop; ``grpc.aio`` for gRPC) with 16 connections / channels, each with one
request in flight. Every answer is checked for status 200 (OK). Column ``client CPU``: the CPU
time of this process (the client, or the in-process call) over the wall time of the row, so a
client that starves the server on a small machine shows.

``--baseline DIR``: a source tree (``pipelines`` and ``components``, e.g. the last commit's,
exported with ``git archive HEAD pipelines components | tar -x -C DIR``) whose server is measured
in the same run: its rows take turns with this tree's, under the same load (rows ``..., baseline``).

Prints a markdown table and writes ``benchmarks/results/serving_latency.{md,csv}``; the ``load``
column is the 1-minute load average while the row ran. Without ``--model`` it uses the toy model
of ``tests/serving/toy_model.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import socket
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
batching = None if sys.argv[2] == "off" else BatchOptions(16, int(sys.argv[2]), num_batch_threads=int(sys.argv[3]))
server = make_server(registry, "127.0.0.1", 0, options=ServerOptions(grpc_port=0, batching=batching))
print(server.server_address[1], server.grpc_port, flush=True)
server.serve_forever()
"""
CLIENTS = 16
FLOOR_BESIDE = "in-process signature, beside the 16-client runs"


def load() -> float:
    return os.getloadavg()[0]


def measure(fns: dict[str, Callable[[], Any]], requests: int, rounds: int = 10, warmup: int = 20) -> dict[str, dict]:
    """Stats per path; the paths take turns in ``rounds`` slices, so a shared machine's load
    changes hit them alike."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    latencies: dict[str, list[float]] = {name: [] for name in fns}
    cpu = dict.fromkeys(fns, 0.0)
    loads: list[float] = []
    for r in range(rounds):
        share = requests // rounds + (1 if r < requests % rounds else 0)
        for name, fn in fns.items():
            c = time.process_time()
            for _ in range(share):
                t = time.perf_counter()
                fn()
                latencies[name].append(time.perf_counter() - t)
            cpu[name] += time.process_time() - c
        loads.append(load())
    out = {}
    for name, lat in latencies.items():
        lat.sort()
        out[name] = {
            "p50_ms": 1000 * statistics.median(lat),
            "p99_ms": 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))],
            "requests_per_s": len(lat) / sum(lat),
            "requests": len(lat),
            "client_cpu": cpu[name] / sum(lat),
            "load": statistics.mean(loads),
        }
    return out


def start_server(
    serving: str, batching: str, root: Path = REPO, threads: int = 2
) -> tuple[subprocess.Popen[str], int, int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVER, serving, batching, str(threads)],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    rest, grpc_port = proc.stdout.readline().split()
    return proc, int(rest), int(grpc_port)


def rest_request(port: int, body: bytes) -> bytes:
    return (
        f"POST /v1/models/bench:predict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def _content_length(head: bytes) -> int:
    if not head.startswith(b"HTTP/1.1 200 "):
        raise RuntimeError(head.decode("latin-1"))
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise RuntimeError("no Content-Length in " + head.decode("latin-1"))


def rest_call(port: int, body: bytes) -> Callable[[], None]:
    """One keep-alive connection; each call sends the ready-made request and reads the whole answer."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    request, pending = rest_request(port, body), [b""]

    def fn() -> None:
        sock.sendall(request)
        data = pending[0]
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, data = data.partition(b"\r\n\r\n")
        size = _content_length(head)
        while len(data) < size:
            data += sock.recv(65536)
        pending[0] = data[size:]

    return fn


def grpc_call(port: int, request: bytes) -> Callable[[], None]:
    import grpc

    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    predict = channel.unary_unary("/tensorflow.serving.PredictionService/Predict")
    return lambda: predict(request, timeout=60)


def _stats(latencies: list[float], seconds: float, loads: list[float], cpu: float) -> dict[str, float]:
    every = sorted(latencies)
    return {
        "p50_ms": 1000 * statistics.median(every),
        "p99_ms": 1000 * every[min(len(every) - 1, int(0.99 * len(every)))],
        "requests_per_s": len(every) / seconds,
        "requests": len(every),
        "client_cpu": cpu / seconds,
        "load": statistics.mean(loads),
    }


async def _rest_clients(port: int, body: bytes, seconds: float) -> tuple[list[float], float]:
    request = rest_request(port, body)
    streams = [await asyncio.open_connection("127.0.0.1", port) for _ in range(CLIENTS)]
    latencies: list[float] = []

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, until: float, keep: bool) -> None:
        while time.perf_counter() < until:
            t = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(_content_length(head))
            if keep:
                latencies.append(time.perf_counter() - t)

    await asyncio.gather(*(client(r, w, time.perf_counter() + 0.3, False) for r, w in streams))  # warm-up
    start = time.perf_counter()
    await asyncio.gather(*(client(r, w, start + seconds, True) for r, w in streams))
    total = time.perf_counter() - start
    for _, writer in streams:
        writer.close()
    return latencies, total


async def _grpc_clients(port: int, request: bytes, seconds: float) -> tuple[list[float], float]:
    import grpc

    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for _ in range(CLIENTS)]
    calls = [c.unary_unary("/tensorflow.serving.PredictionService/Predict") for c in channels]
    latencies: list[float] = []

    async def client(predict: Any, until: float, keep: bool) -> None:
        while time.perf_counter() < until:
            t = time.perf_counter()
            await predict(request, timeout=60)
            if keep:
                latencies.append(time.perf_counter() - t)

    await asyncio.gather(*(client(c, time.perf_counter() + 0.3, False) for c in calls))  # warm-up
    start = time.perf_counter()
    await asyncio.gather(*(client(c, start + seconds, True) for c in calls))
    total = time.perf_counter() - start
    for channel in channels:
        await channel.close()
    return latencies, total


def concurrent_rates(runs: dict[str, Callable[[float], Any]], seconds: float, rounds: int = 2) -> dict[str, dict]:
    """Requests/s of CLIENTS concurrent clients per run; the runs take turns in ``rounds`` slices."""
    import uvloop

    latencies: dict[str, list[float]] = {name: [] for name in runs}
    totals, cpu, loads = dict.fromkeys(runs, 0.0), dict.fromkeys(runs, 0.0), {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            c = time.process_time()
            lat, total = uvloop.run(run(seconds / rounds))
            cpu[name] += time.process_time() - c  # warm-up and connecting included: an upper bound
            latencies[name] += lat
            totals[name] += total
            loads[name].append(load())
    return {name: _stats(latencies[name], totals[name], loads[name], cpu[name]) for name in runs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="SavedModel directory (default: the toy model)")
    parser.add_argument("--requests", type=int, default=300, help="timed sequential requests (default 300)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the concurrent runs (default 5)")
    parser.add_argument("--rounds", type=int, default=10, help="slices the sequential paths take turns in")
    parser.add_argument("--baseline", help="a source tree whose server is measured beside this one's")
    parser.add_argument("--out", default=str(RESULTS / "serving_latency"), help="results path without extension")
    parser.add_argument("--batch-timeout-micros", type=int, default=2000, help="batching on: the wait (default 2000)")
    parser.add_argument("--batch-threads", type=int, default=os.cpu_count() or 2, help="default: the cores")
    args = parser.parse_args(argv)

    import numpy as np
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    rows: list[dict[str, Any]] = []
    load_before = load()
    trees = {"": REPO} | ({", baseline": Path(args.baseline).resolve()} if args.baseline else {})
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

        def add(path: str, batch: int, clients: int, stats: dict[str, float]) -> None:
            rows.append({"path": path, "instances": batch, "clients": clients, **stats})
            rows[-1]["instances_per_s"] = stats["requests_per_s"] * batch

        def bodies(batch: int) -> tuple[bytes, bytes, dict[str, Any]]:
            """(REST body, serialized PredictRequest, in-process tensors) for ``batch`` instances."""
            tensors = {k: tf.constant([ROW[k]] * batch, dtype=s.dtype) for k, s in specs.items()}
            request = predict_pb2.PredictRequest()
            request.model_spec.name = "bench"
            for k, t in tensors.items():
                request.inputs[k].CopyFrom(tf.make_tensor_proto(t))
            return json.dumps({"instances": [ROW] * batch}).encode(), request.SerializeToString(), tensors

        servers = {tag: start_server(serving, "off", root) for tag, root in trees.items()}
        try:
            for batch in (1, 64):
                body, request, tensors = bodies(batch)

                def direct_call(tensors: dict = tensors) -> None:
                    np.asarray(signature(**tensors)["probabilities"])

                paths: dict[str, Callable[[], None]] = {"in-process signature": direct_call}
                for tag, (_, rest_port, grpc_port) in servers.items():
                    paths[f"REST (JSON){tag}"] = rest_call(rest_port, body)
                    paths[f"gRPC (PredictRequest){tag}"] = grpc_call(grpc_port, request)
                requests = args.requests if batch == 1 else max(20, args.requests // 3)
                print(f"sequential, {batch} instances/request ...", file=sys.stderr, flush=True)
                for path, stats in measure(paths, requests, rounds=args.rounds).items():
                    add(path, batch, 1, stats)
        finally:
            stop(proc for proc, _, _ in servers.values())

        timeout, threads = str(args.batch_timeout_micros), args.batch_threads
        servers = {tag: start_server(serving, timeout, root, threads) for tag, root in trees.items()}
        try:
            body, request, tensors = bodies(1)

            async def sequential(seconds: float, tensors: dict = tensors) -> tuple[list[float], float]:
                """The floor again, taking turns with the 16-client runs (the same load)."""
                latencies, start = [], time.perf_counter()
                while time.perf_counter() < start + seconds:
                    t = time.perf_counter()
                    np.asarray(signature(**tensors)["probabilities"])
                    latencies.append(time.perf_counter() - t)
                return latencies, time.perf_counter() - start

            runs: dict[str, Callable[[float], Any]] = {FLOOR_BESIDE: sequential}
            for tag, (_, rest_port, grpc_port) in servers.items():
                runs[f"REST, batching on{tag}"] = lambda s, port=rest_port: _rest_clients(port, body, s)
                runs[f"gRPC, batching on{tag}"] = lambda s, port=grpc_port: _grpc_clients(port, request, s)
            print(f"{CLIENTS} clients, batching on ...", file=sys.stderr, flush=True)
            for path, stats in concurrent_rates(runs, args.seconds).items():
                add(path, 1, 1 if path == FLOOR_BESIDE else CLIENTS, stats)
        finally:
            stop(proc for proc, _, _ in servers.values())

    floor = {r["instances"]: r for r in rows if r["path"] == "in-process signature"}
    beside = next(r for r in rows if r["path"] == FLOOR_BESIDE)
    for r in rows:
        base = beside if r["clients"] == CLIENTS or r is beside else floor[r["instances"]]
        r["p50_over_ms"] = r["p50_ms"] - base["p50_ms"]
        r["rate_vs_in_process"] = r["instances_per_s"] / base["instances_per_s"]
    header = (
        "| path | instances/request | clients | requests | p50 ms | p50 above in-process ms | p99 ms | requests/s "
        "| instances/s | vs in-process sequential | client CPU | load |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [header] + [
        f"| {r['path']} | {r['instances']} | {r['clients']} | {int(r['requests'])} | {r['p50_ms']:.2f} | "
        f"{r['p50_over_ms']:+.2f} | {r['p99_ms']:.2f} | {r['requests_per_s']:.0f} | {r['instances_per_s']:.0f} | "
        f"{r['rate_vs_in_process']:.2f}x | {r['client_cpu']:.0%} | {r['load']:.1f} |"
        for r in rows
    ]
    goals = goal_lines(rows)
    model_name = "toy model (tests/serving/toy_model.py)" if args.model is None else args.model
    text = (
        f"# Serving latency\n\nModel: `{model_name}`. Server (built-in: Starlette on uvicorn, gRPC) in its own "
        f"process on 127.0.0.1; sequential rows: one lean client (ready-made request bytes) over one keep-alive "
        f"connection / channel, the paths taking turns in {args.rounds} slices; "
        f"{CLIENTS}-client rows: batching on (max_batch_size 16, batch_timeout_micros {args.batch_timeout_micros}, "
        f"num_batch_threads {args.batch_threads}), {CLIENTS} connections "
        f"/ channels on one asyncio loop, {args.seconds:g} s per path in 2 turns, compared with the in-process "
        f"sequential rate measured in turns with them (row `{FLOOR_BESIDE}`). Column `client CPU`: CPU time of the "
        f"benchmark process (the client; for in-process rows the call itself) over the row's wall time. "
        + (
            "Rows `..., baseline`: the server of the source tree given as `--baseline`, in the same run. "
            if args.baseline
            else ""
        )
        + f"{os.cpu_count()} cores, {platform.python_version()}, {time.strftime('%Y-%m-%d')}; 1-minute load "
        f"average {load_before:.1f} before, {load():.1f} after, and per row in `load` (above the core count "
        f"{os.cpu_count()}: other jobs shared the machine and the figures are noisy).\n\n"
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


def stop(procs: Any) -> None:
    for proc in list(procs):
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()


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
        before = {"over": "", "share": "", "speedup": ""}
        if any(r["path"].endswith(", baseline") for r in rows):
            before = {
                "over": f"; baseline {row(sequential + ', baseline', 1)['p50_over_ms']:+.2f} ms",
                "share": f"; baseline {row(sequential + ', baseline', 64)['rate_vs_in_process']:.0%}",
                "speedup": f"; baseline {row(concurrent + ', baseline', 1)['rate_vs_in_process']:.2f}x",
            }
        lines += [
            f"- {transport}, 1 instance: p50 {over:+.2f} ms above in-process (goal <= 0.5): "
            f"{'met' if over <= 0.5 else 'not met'}{before['over']}",
            f"- {transport}, 64 instances: {share:.0%} of in-process instances/s (goal >= 80%): "
            f"{'met' if share >= 0.8 else 'not met'}{before['share']}",
            f"- {transport}, {CLIENTS} clients with batching: {speedup:.2f}x in-process sequential requests/s "
            f"(goal >= 2x): {'met' if speedup >= 2 else 'not met'}{before['speedup']}",
        ]
    return lines


if __name__ == "__main__":
    sys.exit(main())
