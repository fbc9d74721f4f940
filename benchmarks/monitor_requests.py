"""How long ``pipelines.monitor``'s pass takes on a large request log (goal: 1M requests under 2 minutes).

    python benchmarks/monitor_requests.py [--requests 1000000] [--shift age]

Writes ``--requests`` one-instance ad-click requests (generated rows; probabilities from the
toy rule below) as TF Serving ``PredictionLog`` records framed by the server's own writer
(``pipelines.serving.request_log``: ``build_log`` + ``frame``), in files of about 10 MB, half
in a previous window and half in the current one, and half of each window with delayed labels.
Then times the monitoring pass's stages on them, in this process: reading the log into a table,
TFDV statistics of both windows, skew against training statistics (generated training rows),
drift against the previous window, the labels join with the live AUC and a canary interval.
Prints a markdown table and writes ``benchmarks/results/monitor_requests.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

FILE_BYTES = 10 * 1024 * 1024


def write_log(folder: Path, requests: int, shift: str | None) -> tuple[float, float]:
    """The log files; returns (since of the current window, seconds spent writing)."""
    import numpy as np
    import pandas as pd
    from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
    from tensorflow_serving.apis import predict_pb2

    from pipelines.data.generators import write_ad_click
    from pipelines.serving.request_log import LogMeta, build_log, frame

    started = time.perf_counter()
    src = write_ad_click(str(folder / "rows"), min(requests, 200_000), seed=5)[0]
    rows = pd.read_csv(src)
    shape = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=1)])
    kinds = {c: (types_pb2.DT_STRING if rows[c].dtype == object else types_pb2.DT_INT64 if rows[c].dtype.kind == "i"
                 else types_pb2.DT_FLOAT) for c in rows.columns if c != "clicked_on_ad"}  # fmt: skip
    t0, half = 1_800_000_000, requests // 2
    buffer, n_file = bytearray(), 0
    labels = ["request_id,label"]
    records = rows.to_dict("records")
    for i in range(requests):
        row = records[i % len(records)]
        request = predict_pb2.PredictRequest()
        for col, kind in kinds.items():
            value = row[col] + 15 if shift == col and i >= half else row[col]
            t = tensor_pb2.TensorProto(dtype=kind, tensor_shape=shape)
            if kind == types_pb2.DT_STRING:
                t.string_val.append(str(value).encode())
            elif kind == types_pb2.DT_INT64:
                t.int64_val.append(int(value))
            else:
                t.float_val.append(float(value))
            request.inputs[col].CopyFrom(t)
        p = 1 / (1 + np.exp((row["daily_internet_usage"] - 180) / 40))  # heavy users click less
        response = predict_pb2.PredictResponse()
        out = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=shape)
        out.float_val.append(p)
        response.outputs["probabilities"].CopyFrom(out)
        label = "canary" if i % 10 == 0 else "stable"
        meta = LogMeta(
            f"r{i}", "ad_click", 2 if label == "canary" else 1, label, "serving_default", t0 + i * 3600 / half
        )
        buffer += frame(build_log(meta, "predict", request, response))
        if i % 2 == 0:
            labels.append(f"r{i},{row['clicked_on_ad']}")
        if len(buffer) >= FILE_BYTES or i == requests - 1:
            n_file += 1
            (folder / "log").mkdir(exist_ok=True)
            (folder / "log" / f"requests-20270115T000000-1-{n_file:06d}.tfrecord").write_bytes(bytes(buffer))
            buffer = bytearray()
    (folder / "labels.csv").write_text("\n".join(labels) + "\n")
    return t0 + 3600, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--shift", default="age", help="feature shifted by +15 in the current window")
    args = parser.parse_args()
    import pandas as pd
    import tensorflow_data_validation as tfdv

    from components.schema_file import read_schema
    from pipelines.config.monitoring import MonitoringSection
    from pipelines.data.generators import write_ad_click
    from pipelines.monitoring.compare import drift_rows, skew_rows, window_statistics
    from pipelines.monitoring.live import compare_canary, live_metric
    from pipelines.monitoring.logs import PREDICTION, read_log_table

    schema = read_schema(str(REPO / "schemas" / "ad_click" / "schema.pbtxt"))
    mon = MonitoringSection()
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        since, times["(setup) write the log"] = write_log(folder, args.requests, args.shift)
        training = pd.read_csv(write_ad_click(str(folder / "train"), 50_000, seed=1)[0])
        features = [c for c in training.columns if c != "clicked_on_ad"]
        train_stats = tfdv.generate_statistics_from_dataframe(training[features], n_jobs=1)
        size = sum(f.stat().st_size for f in (folder / "log").iterdir())

        def stage(name: str, fn):
            t = time.perf_counter()
            out = fn()
            times[name] = time.perf_counter() - t
            return out

        table = stage("read log (PredictionLog -> table)", lambda: read_log_table(str(folder / "log")))
        frame = table.frame
        current, previous = frame[frame["time"] >= since], frame[frame["time"] < since]
        cols = [*features, PREDICTION]
        stats = stage("TFDV statistics, both windows", lambda: (window_statistics(current, cols),
                                                                window_statistics(previous, cols)))  # fmt: skip
        skew = stage("skew vs training", lambda: skew_rows(schema, train_stats, stats[0], "clicked_on_ad", mon))
        drift = stage("drift vs previous window", lambda: drift_rows(schema, stats[0], stats[1], "clicked_on_ad", mon))

        def live():
            labels = pd.read_csv(folder / "labels.csv", dtype={"request_id": str, "label": str})
            labels["index"] = 0
            joined = current.merge(labels.rename(columns={"label": "truth"}), on=["request_id", "index"])
            joined["truth"] = joined["truth"].astype(float)
            auc = live_metric("binary", joined["truth"].to_numpy(), joined[PREDICTION].to_numpy())
            s, c = joined[joined["label"] == "stable"], joined[joined["label"] == "canary"]
            return auc, compare_canary(s, c, "binary", 0.95)

        auc, canary = stage("labels join, live AUC, canary interval", live)
    total = sum(v for k, v in times.items() if not k.startswith("(setup)"))
    exceeded = sorted({r["feature"] for r in skew + drift if r["exceeded"]})
    lines = [
        f"# pipelines.monitor stages on {args.requests:,} logged requests ({size / 1e6:.0f} MB of PredictionLog)",
        "",
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; one run; peak RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB",
        "",
        "| stage | seconds |",
        "|---|---|",
        *[f"| {k} | {v:.1f} |" for k, v in times.items()],
        f"| **monitoring pass (without setup)** | **{total:.1f}** |",
        "",
        f"Exceeded (shifted `{args.shift}` +15 in the current window): {', '.join(exceeded) or 'none'}; "
        f"live AUC {auc:.3f}; canary {canary.verdict} ({canary.difference:+.3f}).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    (REPO / "benchmarks" / "results" / "monitor_requests.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
