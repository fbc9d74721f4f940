"""pipelines.monitor and pipelines.predict against the first run's pushed model.

Requests from generated data go to the built-in server (``python -m pipelines.serve --builtin``)
with ``serving.logging.path`` set; the server's own request log is then monitored in windows:
unshifted (exit 0), ``age`` + 15 (exit 4 naming only age), and a canary that is a deliberately
worse real SavedModel (the serving tests' toy model) judged on joined delayed labels and
rolled back by ``--rollback-if-worse``. ``--retrain`` on the shifted window starts a pipeline
run through the configured runner whose summary and run record hold the alerts. Batch
inference is checked row for row against the in-process signature.
"""

from __future__ import annotations

import contextlib
import csv
import http.client
import io
import json
import math
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from components import serving_layout as sl
from components import serving_versions as sv
from pipelines.data.generators import write_ad_click
from tests.e2e.conftest import REPO

pytestmark = pytest.mark.slow
INTS = ("age", "male")
LABEL = "clicked_on_ad"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rows(path: str | Path) -> list[dict[str, Any]]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for k in r:
            if k in INTS or k == LABEL:
                r[k] = int(r[k])
            elif k not in ("ad_topic_line", "city", "country", "timestamp"):
                r[k] = float(r[k])
    return rows


def _next_second() -> int:
    """Sleep to the next whole second (the log's timestamps are whole seconds); returns it."""
    boundary = math.ceil(time.time() + 0.01)
    time.sleep(boundary - time.time() + 0.05)
    return boundary


class Client:
    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def predict(self, instances: list[dict[str, Any]], request_id: str | None = None) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", **({"x-request-id": request_id} if request_id else {})}
        body = json.dumps({"instances": [{k: v for k, v in r.items() if k != LABEL} for r in instances]})
        self.conn.request("POST", "/v1/models/ad_click:predict", body=body, headers=headers)
        response = self.conn.getresponse()
        data = json.loads(response.read())
        assert response.status == 200, data
        return data


def _monitor(config: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    """``pipelines.monitor`` in this process (its imports paid once for the module), as the CLI runs it."""
    from pipelines.cli import main_guard
    from pipelines.monitor import main

    out = config.parent / f"monitor-{time.monotonic_ns()}.json"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main_guard(lambda: main(["--config", str(config), "--json", str(out), *args]))
    return code, json.loads(out.read_text()) if out.exists() else {}, stdout.getvalue() + stderr.getvalue()


@pytest.fixture(scope="module")
def traffic(first_run: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from tests.serving.toy_model import build_toy_model

    started = time.monotonic()
    project = first_run["project"]
    stable = first_run["versions"][-1]
    root = tmp_path_factory.mktemp("monitor")
    serving = root / "serving"
    source = project.serving / "ad_click" / str(stable)
    metrics = (source / "assets.extra" / "eval_metrics.json").read_text()
    sl.publish_version(source, serving, "ad_click", version=stable, extra_files={"eval_metrics.json": metrics})
    worse = build_toy_model(root / "toy", 1.0)  # a real SavedModel that ignores what predicts a click
    sl.publish_version(worse, serving, "ad_click", version=stable + 1)
    sl.write_models_config(serving, pins={"ad_click": stable})
    cfg = yaml.safe_load(project.config.read_text())
    port = _free_port()
    cfg["push"]["serving_dir"] = str(serving)
    cfg["serving"] = {"port": port, "grpc_port": None, "poll_seconds": 0.3, "logging": {"path": str(root / "log")}}
    cfg["monitoring"] = {"report_dir": str(root / "reports")}
    config = root / "monitor.yaml"
    config.write_text(yaml.safe_dump(cfg, sort_keys=False))
    server = subprocess.Popen(
        [sys.executable, "-m", "pipelines.serve", "--config", str(config), "--builtin"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/v1/models/ad_click")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.5)
        client = Client(port)
        holdout = _rows(project.holdout)
        marks = {"a": _next_second()}
        for i in range(0, 600, 50):
            client.predict(holdout[i : i + 50])
        marks["b"] = _next_second()
        for i in range(600, 1200, 50):
            client.predict(holdout[i : i + 50])
        marks["c"] = _next_second()
        shifted = [{**r, "age": r["age"] + 15} for r in holdout[1200:1800]]
        for i in range(0, 600, 50):
            client.predict(shifted[i : i + 50])
        sv.set_canary(serving, "ad_click", 0.5, stable + 1)
        time.sleep(1.0)  # the server's next poll picks the canary up
        marks["d"] = _next_second()
        labelled = _rows(write_ad_click(str(root / "labelled"), 1600, seed=21)[0])
        with open(root / "labels.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["request_id", "label"])
            for i, row in enumerate(labelled):
                client.predict([row], request_id=f"req-{i}")
                w.writerow([f"req-{i}", row[LABEL]])
        marks["end"] = _next_second()
    finally:
        server.terminate()  # SIGTERM: the server drains and closes its request log
        server.wait(timeout=60)
    (root / "setup-seconds.txt").write_text(f"{time.monotonic() - started:.1f}\n")  # for the test-time budget
    return {"config": config, "root": root, "serving": serving, "stable": stable, "marks": marks, "project": project}


def test_unshifted_window_is_within_thresholds_and_a_corrupt_file_is_skipped(traffic: dict[str, Any]) -> None:
    log = traffic["root"] / "log"
    files = sorted(log.glob("requests-*.tfrecord"))
    assert files, "the server wrote no request log"
    (log / "requests-00000000T000000-0-000001.tfrecord").write_bytes(files[0].read_bytes()[:-7])
    m = traffic["marks"]
    code, result, out = _monitor(traffic["config"], "--since", str(m["b"]), "--until", str(m["c"]))
    assert code == 0, out
    assert result["rows"] == 600 and result["previous_rows"] == 600, result
    [group] = result["groups"]
    assert group["version"] == traffic["stable"] and group["run_id"], group
    assert {r["feature"] for r in group["skew"]} >= {"age", "city", "area_income"}
    assert group["drift"] and not [r for r in group["drift"] + group["skew"] if r["exceeded"]]
    assert any("requests-00000000T000000-0-000001.tfrecord" in p and "truncated" in p for p in result["problems"])
    assert Path(result["reports"]["html"]).read_text().count("within thresholds") == 1


def test_shifted_age_exits_4_naming_only_age(traffic: dict[str, Any]) -> None:
    m = traffic["marks"]
    code, result, out = _monitor(traffic["config"], "--since", str(m["c"]), "--until", str(m["d"]))
    assert code == 4, out
    assert "age" in out and "monitoring" in out
    [group] = result["groups"]
    for kind in ("skew", "drift"):
        assert {r["feature"] for r in group[kind] if r["exceeded"]} - {"prediction"} == {"age"}, group[kind]
    assert result["alerts"] and all(" of age " in a for a in result["alerts"]), result["alerts"]


def test_worse_canary_is_behind_on_joined_labels_and_rolled_back(traffic: dict[str, Any]) -> None:
    from components.serving_config import model_labels

    m, serving = traffic["marks"], traffic["serving"]
    assert "canary" in model_labels(serving, "ad_click").versions
    labels = str(traffic["root"] / "labels.csv")
    code, result, out = _monitor(traffic["config"], "--since", str(m["d"]), "--labels", labels, "--rollback-if-worse")
    assert code == 4, out
    canary = result["canary"]
    assert canary["version"] == traffic["stable"] + 1 and canary["verdict"] == "behind", canary
    assert canary["high"] < 0 < canary["stable"] - canary["canary"], canary
    live = {g["label"]: g["live"] for g in result["groups"]}
    assert live["stable"]["labelled"] + live["canary"]["labelled"] == 1600, live
    assert live["stable"]["evaluation"] is not None and live["stable"]["value"] > 0.75, live
    assert "canary" not in model_labels(serving, "ad_click").versions
    assert any("rolled back" in a for a in result["actions"]), result


def test_batch_predict_equals_the_in_process_signature(traffic: dict[str, Any], tmp_path: Path) -> None:
    import numpy as np
    import tensorflow as tf

    holdout = Path(traffic["project"].holdout)
    lines = holdout.read_text().splitlines()
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("\n".join([*lines[:1501], "1,2,three"]) + "\n")
    refused = lines[1].rsplit(",", 2)[0] + ",yesterday," + lines[1].rsplit(",", 1)[1]  # the model refuses it
    (data / "b.csv").write_text("\n".join([lines[0], *lines[1501:], refused]) + "\n")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.predict", "--config", str(traffic["config"]), "--data", str(data),
         "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    scored = {}
    for shard in out.glob("predictions-*.csv"):
        for r in csv.DictReader(shard.open()):
            scored[(Path(r["file"]).name, int(r["line"]))] = float(r["probabilities"])
    assert len(scored) == len(lines) - 1
    bad = sorted((r for shard in out.glob("bad_rows-*.csv") for r in csv.DictReader(shard.open())), key=str)
    assert [(b["file"].rsplit("/", 1)[1], b["line"]) for b in bad] == [
        ("a.csv", "1502"),
        ("b.csv", str(len(lines) - 1501 + 2)),
    ]
    assert "3 cells" in bad[0]["reason"] and "timestamp" in bad[1]["reason"] and "yesterday" in bad[1]["row"], bad
    model = tf.saved_model.load(str(traffic["serving"] / "ad_click" / str(traffic["stable"])))
    signature = model.signatures["serving_default"]
    rows = _rows(holdout)
    keys = [("a.csv", i + 2) for i in range(1500)] + [("b.csv", i + 2) for i in range(len(rows) - 1500)]
    expected = []
    for i in range(0, len(rows), 256):
        batch = rows[i : i + 256]
        inputs = {
            k: tf.constant([r[k] for r in batch], dtype=spec.dtype)
            for k, spec in signature.structured_input_signature[1].items()
        }
        expected += signature(**inputs)["probabilities"].numpy().tolist()
    got = [scored[k] for k in keys]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_retrain_starts_a_run_whose_summary_and_record_hold_the_trigger(
    traffic: dict[str, Any], tmp_path: Path
) -> None:
    """``python -m pipelines.monitor --retrain`` on the window where ``age`` was shifted: exit 4, and a
    pipeline run through the config's runner (``local``), in ML Metadata, whose summary and run record
    name the alerts. Kept cheap and apart from the session's runs: its own pipeline root and serving
    dir, 400 new rows whose ``country`` is one the schema has never seen, so the data gate stops the
    run before Transform and training (the trigger is recorded however a run ends). Skew needs the
    pushing run's ML Metadata, so here the trigger is the drift of ``age`` against the previous window."""
    from pipelines.config import load_config
    from pipelines.history.record import read_record
    from tests.e2e.conftest import mlmd_executions

    started = time.monotonic()
    m = traffic["marks"]
    [source] = write_ad_click(str(tmp_path / "generated"), 400, seed=5)
    data = tmp_path / "data"
    data.mkdir()
    header, *rows = Path(source).read_text().splitlines()
    country = header.split(",").index("country")
    rows = [",".join("Atlantis" if i == country else c for i, c in enumerate(r.split(","))) for r in rows]
    (data / "part.csv").write_text("\n".join([header, *rows]) + "\n")
    overrides = [
        f"pipeline.root={tmp_path / 'pipeline'}",
        f"data.source={data}",
        f"push.serving_dir={tmp_path / 'serving'}",
    ]
    summary_path = tmp_path / "retrain-summary.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.monitor", "--config", str(traffic["config"]), "--since", str(m["c"]),
         "--until", str(m["d"]), "--retrain", "--retrain-summary", str(summary_path),
         *[a for o in overrides for a in ("--set", o)]],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 4, out
    summary = json.loads(summary_path.read_text())
    run_id = summary["run_id"]
    assert run_id and summary["status"] == "blocked" and f"retrain run {run_id}: blocked" in out, out
    trigger = summary["trigger"]
    assert trigger["by"] == "pipelines.monitor" and trigger["alerts"], trigger
    assert all(" of age " in a for a in trigger["alerts"]) and any("drift of age" in a for a in trigger["alerts"])
    config = load_config(traffic["config"], overrides)
    executions = mlmd_executions(Path(config.metadata_path), config.pipeline.name, run_id)
    assert [s for s, _ in executions["CsvExampleGen"]] == ["COMPLETE"], executions  # the engine really ran it
    assert "DataGate" in executions and "COMPLETE" not in {s for s, _ in executions.get("Trainer", [])}, executions
    record = read_record(config, run_id)
    assert record is not None and record["engine"] == config.runner == "local", record
    assert record["summary"]["trigger"] == trigger
    (traffic["root"] / "retrain-seconds.txt").write_text(f"{time.monotonic() - started:.1f}\n")
