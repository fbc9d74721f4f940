"""The monthly retrain loop from a bucket, end to end against the emulator.

Month 2026-09 is uploaded and run (data.source and push.serving_dir on gs://), month 2026-10 is
added and run again: only the new month is ingested, its drift is measured against the first
month's statistics, and the pushed model is listed from the bucket. TensorFlow's own GCS client
cannot reach an emulator, so the pipeline root is local here (ML Metadata always is);
``test_root_on_a_bucket`` runs a gs:// root as far as TensorFlow allows.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from components import filesystem as fs
from pipelines.data.generators import write_ad_click

REPO = Path(__file__).resolve().parents[2]
ROWS = 3000
SECRET = "s3cr3t-value-that-must-never-be-written"


def _run(args: list[str], **kw) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GCS_TEST_SECRET_TOKEN": SECRET}
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=900, env=env, **kw
    )


def _sets(tmp_path: Path, bucket: str) -> list[str]:
    sets = [
        f"pipeline.root={tmp_path / 'root'}",
        f"data.source={bucket}/drops",
        f"push.serving_dir={bucket}/serving",
        "trainer.train_steps=60",
        "trainer.eval_steps=5",
        "push.infra_validation=false",
        "evaluation.thresholds.auc.lower_bound=0.5",
        "evaluation.thresholds.auc.change.absolute=-0.5",
    ]
    return [a for s in sets for a in ("--set", s)]


def _num_examples(statistics_uri: str) -> int:
    from tensorflow_metadata.proto.v0 import statistics_pb2

    total = 0
    for split in ("Split-train", "Split-eval"):
        stats = statistics_pb2.DatasetFeatureStatisticsList()
        stats.ParseFromString(fs.read_bytes(fs.join(statistics_uri, split, "FeatureStats.pb")))
        total += stats.datasets[0].num_examples
    return total


@dataclass
class Runs:
    tmp: Path
    bucket: str
    config: list[str]
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    s1: dict[str, Any]
    s2: dict[str, Any]


@pytest.fixture(scope="module")
def runs(emulator: str, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Month 2026-09 uploaded and run, then month 2026-10 added and run: once for this module."""
    from google.cloud import storage

    tmp = tmp_path_factory.mktemp("gcs-e2e")
    bucket = f"gs://e2e-{uuid.uuid4().hex[:12]}"
    storage.Client(project="test").create_bucket(bucket[len("gs://") :])
    write_ad_click(f"{bucket}/drops/2026-09", ROWS, seed=1, month=0)
    config = ["--config", "configs/ad_click_gcs.yaml", *_sets(tmp, bucket)]
    first = _run(["pipelines.run", *config, "--summary", str(tmp / "s1.json")])
    assert first.returncode == 0, first.stdout + first.stderr
    write_ad_click(f"{bucket}/drops/2026-10", ROWS, seed=2, month=1)
    second = _run(["pipelines.run", *config, "--summary", str(tmp / "s2.json")])
    assert second.returncode == 0, second.stdout + second.stderr
    s1, s2 = (json.loads((tmp / f"s{i}.json").read_text()) for i in (1, 2))
    return Runs(tmp, bucket, config, first, second, s1, s2)


@pytest.mark.slow
def test_monthly_runs_from_a_bucket(runs: Runs) -> None:
    s1, s2, bucket = runs.s1, runs.s2, runs.bucket
    assert s1["pushed"]["path"].startswith(f"{bucket}/serving/ad_click/")
    assert _num_examples(s1["artifacts"]["statistics"]) == ROWS
    assert "ad_click" in fs.listdir(f"{bucket}/serving") and ".lock" not in fs.listdir(f"{bucket}/serving")
    assert not [n for n in fs.listdir(f"{bucket}/serving/ad_click") if not n.isdigit()]  # no partial copy left

    ran = {c["name"]: c["status"] for c in s2["components"]}
    assert ran["CsvExampleGen"] == "ran"
    assert _num_examples(s2["artifacts"]["statistics"]) == ROWS  # the new month only, not both
    assert s2["artifacts"]["baseline_statistics"] == s1["artifacts"]["statistics"]  # drift vs the first month
    assert s2["drift"] and not any(d["exceeded"] for d in s2["drift"])

    listed = _run(["pipelines.push", "list", *runs.config, "--json"])
    assert listed.returncode == 0, listed.stderr
    versions = json.loads(listed.stdout)
    assert versions and any(v["served"] for v in versions)

    texts = [runs.first.stdout + runs.first.stderr, runs.second.stdout + runs.second.stderr]
    texts += [json.dumps(s1), json.dumps(s2)]
    texts += [p.read_text(errors="replace") for p in (runs.tmp / "root" / "logs").iterdir()]
    assert texts[-1] and not [t for t in texts if SECRET in t]


@pytest.mark.slow
def test_served_from_the_bucket(runs: Runs) -> None:
    """``pipelines.serve --builtin`` on the gs:// serving dir, one REST request."""
    served = runs.s2["pushed"] or runs.s1["pushed"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.serve", *runs.config, "--builtin", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        port, deadline, seen = None, time.monotonic() + 120, []
        while port is None and time.monotonic() < deadline and proc.poll() is None:
            ready, _, _ = select.select([proc.stdout], [], [], 0.5)
            line = proc.stdout.readline() if ready else ""
            seen.append(line)
            assert "could not load" not in line, "".join(seen)
            match = re.search(rf"serving ad_click version {served['version']} at http://127\.0\.0\.1:(\d+)/", line)
            port = int(match.group(1)) if match else None
        assert port, "".join(seen)
        row = {k: v for k, v in _first_row(f"{runs.bucket}/drops/2026-10/ad_click.csv").items() if k != "clicked_on_ad"}
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/models/ad_click:predict",
            data=json.dumps({"instances": [row]}).encode(),
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.loads(response.read())
        assert 0.0 <= float(body["predictions"][0]) <= 1.0
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


def _first_row(path: str) -> dict[str, Any]:
    import csv

    with fs.open_file(path, newline="") as fh:
        reader = csv.DictReader(fh)
        row = next(reader)
    ints = {"age", "male"}
    text = {"ad_topic_line", "city", "country", "timestamp"}
    return {k: v if k in text else int(v) if k in ints else float(v) for k, v in row.items()}


@pytest.mark.slow
def test_root_on_a_bucket_as_far_as_tensorflow_allows(tmp_path: Path, bucket: str) -> None:
    """``pipeline.root`` on gs://: CsvExampleGen (Beam's GCS IO), ImportSchemaGen (TFX fileio, through
    components.gcs_fileio) and StatisticsGen write their artifacts into the bucket; ML Metadata and the
    log stay local, at the default place. ExampleValidator is where it ends against an emulator: TFDV
    reads the statistics with TensorFlow's own GCS client, whose endpoint is built in."""
    write_ad_click(f"{bucket}/drops/2026-09", 500, seed=1, month=0)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    sets = [f"pipeline.root={bucket}/root", f"data.source={bucket}/drops", f"push.serving_dir={bucket}/serving"]
    args = ["--config", "configs/ad_click_gcs.yaml", *[a for s in sets for a in ("--set", s)]]
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.run", *args, "--until", "validate"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    out = proc.stdout + proc.stderr
    for name in ("CsvExampleGen", "ImportSchemaGen", "StatisticsGen"):
        assert re.search(rf"{name} +ran", out), out
    assert re.search(r"component ExampleValidator failed: .*www\.googleapis\.com", out), out
    assert proc.returncode == 1
    written = fs.listdir(f"{bucket}/root")
    assert {"CsvExampleGen", "ImportSchemaGen", "StatisticsGen", "schemas"} <= set(written), written
    assert fs.glob(f"{bucket}/root/StatisticsGen/statistics/*/Split-train/FeatureStats.pb")
    metadata = list((tmp_path / "cache" / "declarative-tfx" / "metadata").glob("*/root-*/metadata.sqlite"))
    assert len(metadata) == 1 and (metadata[0].parent / "logs").is_dir()
    assert not fs.exists(f"{bucket}/root/metadata.sqlite")
