"""How long ``pipelines.monitor``'s pass takes on a large request log (goal: 1M requests under 2 minutes).

    python benchmarks/monitor_requests.py [--requests 1000000] [--shift age]

Writes ``--requests`` one-instance ad-click requests (generated rows; probabilities from the
toy rule below) as TF Serving ``PredictionLog`` records framed by the server's own writer
(``pipelines.serving.request_log``: ``build_log`` + ``frame``), in files of about 10 MB, half
in a previous window and half in the current one, and half of each window with delayed labels.
Then times the monitoring pass's stages on them, in this process: reading the log into a table,
TFDV statistics of both windows, skew against training statistics (generated training rows),
drift against the previous window, the labels join with the live AUC and a canary interval.
Then runs the whole command, ``python -m pipelines.monitor``, on the same log (imports, the
log read, statistics, drift, labels, reports; skew needs ML Metadata, which this log has not),
and times both readers per record on the same two files (the bulk decoder of
``pipelines.monitoring.bulk``, the general record-by-record reader). Prints a markdown table
and writes ``benchmarks/results/monitor_requests.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

FILE_BYTES = 10 * 1024 * 1024
WARM = "import tensorflow_data_validation, pandas, pipelines.monitor, pipelines.monitoring.bulk"
LOAD = [f"{os.getloadavg()[0]:.2f}"]  # at start


def write_log(folder: Path, requests: int, shift: str | None) -> tuple[float, float]:
    """The log files; returns (since of the current window, seconds spent writing).

    One ``PredictionLog`` per label is built by the server's ``build_log``; each record is that
    template with its values, id, version and time set in place (building a fresh proto per
    record would take ~800 s for a million), then framed by the server's ``frame``."""
    import numpy as np
    import pandas as pd
    from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
    from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

    from pipelines.data.generators import write_ad_click
    from pipelines.serving.request_log import LogMeta, build_log, frame

    started = time.perf_counter()
    src = write_ad_click(str(folder / "rows"), min(requests, 200_000), seed=5)[0]
    rows = pd.read_csv(src)
    shape = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=1)])
    kinds = {c: (types_pb2.DT_STRING if rows[c].dtype == object else types_pb2.DT_INT64 if rows[c].dtype.kind == "i"
                 else types_pb2.DT_FLOAT) for c in rows.columns if c != "clicked_on_ad"}  # fmt: skip
    fields = {types_pb2.DT_STRING: "string_val", types_pb2.DT_INT64: "int64_val", types_pb2.DT_FLOAT: "float_val"}
    request, response = predict_pb2.PredictRequest(), predict_pb2.PredictResponse()
    for col, kind in kinds.items():
        t = tensor_pb2.TensorProto(dtype=kind, tensor_shape=shape)
        getattr(t, fields[kind]).append(b"" if kind == types_pb2.DT_STRING else 0)
        request.inputs[col].CopyFrom(t)
    response.outputs["probabilities"].CopyFrom(tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=shape))
    response.outputs["probabilities"].float_val.append(0.0)
    templates = {
        label: prediction_log_pb2.PredictionLog.FromString(
            build_log(LogMeta("r", "ad_click", version, label, "serving_default", 0), "predict", request, response)
        )
        for label, version in (("stable", 1), ("canary", 2))
    }
    slots = {  # label -> [(column, its repeated value field in the template, string?)], set per record
        lab: [
            (c, getattr(log.predict_log.request.inputs[c], fields[k]), k == types_pb2.DT_STRING)
            for c, k in kinds.items()
        ]
        for lab, log in templates.items()
    }
    t0, half = 1_800_000_000, requests // 2
    buffer, n_file = bytearray(), 0
    labels = ["request_id,label"]
    columns = {c: rows[c].tolist() for c in rows.columns}
    prob = (1 / (1 + np.exp((rows["daily_internet_usage"].to_numpy() - 180) / 40))).tolist()  # heavy users click less
    for i in range(requests):
        r = i % len(rows)
        label = "canary" if i % 10 == 0 else "stable"
        log = templates[label]
        for col, slot, text in slots[label]:
            value = columns[col][r] + 15 if shift == col and i >= half else columns[col][r]
            slot[0] = str(value).encode() if text else value
        log.predict_log.response.outputs["probabilities"].float_val[0] = prob[r]
        log.log_metadata.request_origin = f"r{i}"
        log.log_metadata.timestamp_secs = int(t0 + i * 3600 / half)
        buffer += frame(log.SerializeToString())
        if i % 2 == 0:
            labels.append(f"r{i},{columns['clicked_on_ad'][r]}")
        if len(buffer) >= FILE_BYTES or i == requests - 1:
            n_file += 1
            (folder / "log").mkdir(exist_ok=True)
            (folder / "log" / f"requests-20270115T000000-1-{n_file:06d}.tfrecord").write_bytes(bytes(buffer))
            buffer = bytearray()
    (folder / "labels.csv").write_text("\n".join(labels) + "\n")
    return t0 + 3600, time.perf_counter() - started


def compare_readers(log: Path) -> dict[str, float]:
    """Microseconds per record of the bulk decoder and of the general reader, on the same two files."""
    from pipelines.monitoring.bulk import decode_predict_file
    from pipelines.monitoring.logs import _general
    from pipelines.serving.request_log import read_records

    records = [r for f in sorted(log.iterdir())[:2] for r in read_records(f.read_bytes())]
    out: dict[str, float] = {"records": len(records)}
    for name, fn in (("bulk", decode_predict_file), ("general", _general)):
        t = time.perf_counter()
        fn(records, None, None)
        out[name] = (time.perf_counter() - t) / len(records) * 1e6
    return out


def run_command(folder: Path):
    """``python -m pipelines.monitor`` on the log (window: the last hour), as a monitored subprocess."""
    import yaml

    from benchmarks.monitor import run_monitored
    from benchmarks.predict import child_env

    cfg = yaml.safe_load((REPO / "configs" / "ad_click.yaml").read_text())
    cfg["pipeline"]["root"] = str(folder / "root")
    cfg["data"]["source"] = str(folder / "rows")
    cfg["schema"]["path"] = str(REPO / "schemas" / "ad_click" / "schema.pbtxt")
    cfg["push"]["serving_dir"] = str(folder / "serving")
    cfg["serving"] = {"logging": {"path": str(folder / "log")}}
    cfg["monitoring"] = {"window_hours": 1, "report_dir": str(folder / "reports")}
    config = folder / "monitor.yaml"
    config.write_text(yaml.safe_dump(cfg, sort_keys=False))
    cmd = [sys.executable, "-m", "pipelines.monitor", "--config", str(config), "--labels", str(folder / "labels.csv")]
    env = child_env(Path(tempfile.gettempdir()) / "benchmark-pycache")  # warmed: a deployed job has its .pyc
    subprocess.run([sys.executable, "-c", WARM], cwd=str(REPO), env=env, check=True, capture_output=True)
    return run_monitored(cmd, cwd=str(REPO), env=env)


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
        per_record = compare_readers(folder / "log")
        command = run_command(folder)
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
        "",
        f"Whole command (`python -m pipelines.monitor --labels ...`, imports and reports included; no ML Metadata "
        f"here, so no skew stage): **{command.wall:.1f} s**, peak RSS {command.peak_rss / 1e9:.2f} GB, "
        f"exit {command.exit_code} (4: bounds crossed).",
        "",
        f"Reading, per record, on the first two files ({per_record['records']:,} records): bulk decode "
        f"{per_record['bulk']:.1f} us, the general record-by-record reader {per_record['general']:.1f} us "
        f"({per_record['general'] / per_record['bulk']:.1f}x).",
        "",
        f"Load average before / after: {LOAD[0]} / {os.getloadavg()[0]:.2f}.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    (REPO / "benchmarks" / "results" / "monitor_requests.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
