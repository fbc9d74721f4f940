"""Bad input on gs://, through the commands a user runs: one line naming the path and what to do,
exit 2 before TFX starts, nothing pushed. Against the emulator, except where it cannot stand in."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from components import filesystem as fs
from pipelines.data.generators import generate

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=120, env=env)


def _run_config(tmp_path: Path, source: str, serving: str, *extra: str, env: dict[str, str] | None = None):
    sets = [
        f"pipeline.root={tmp_path / 'root'}",
        f"data.source={source}",
        f"push.serving_dir={serving}",
        *extra,
    ]
    args = ["pipelines.run", "--config", "configs/ad_click_gcs.yaml"]
    for s in sets:
        args += ["--set", s]
    started = time.monotonic()
    proc = _run(args, env)
    return proc, time.monotonic() - started


def _one_line_exit_2(proc: subprocess.CompletedProcess[str], match: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if "gs://" in line]
    assert any(re.search(match, line) for line in lines), proc.stdout + proc.stderr


def test_a_missing_bucket(tmp_path: Path, emulator: str, bucket: str) -> None:
    proc, seconds = _run_config(tmp_path, "gs://no-such-bucket-zz/drops", f"{bucket}/serving")
    _one_line_exit_2(proc, r"data\.source: gs://no-such-bucket-zz/drops: bucket gs://no-such-bucket-zz does not exist")
    assert seconds < 15  # before TFX is imported (that alone takes ~15 s)
    assert not fs.exists(f"{bucket}/serving")


def test_a_prefix_without_matching_files(tmp_path: Path, bucket: str) -> None:
    fs.write_text(f"{bucket}/drops/README.txt", "no csv here")
    proc, _ = _run_config(tmp_path, f"{bucket}/drops", f"{bucket}/serving", "data.pattern='*.csv'")
    _one_line_exit_2(proc, r"no files match '\*\.csv' in gs://.*/drops; set data\.pattern or add CSV files")
    proc, _ = _run_config(tmp_path, f"{bucket}/nothing", f"{bucket}/serving")
    _one_line_exit_2(proc, r"directory gs://.*/nothing does not exist; generate data with `python -m pipelines")
    assert not fs.exists(f"{bucket}/serving")


def test_an_empty_newest_month_folder(tmp_path: Path, bucket: str) -> None:
    generate("ad_click", f"{bucket}/drops", 50, months=1)
    fs.makedirs(f"{bucket}/drops/2026-10")  # the console's "create folder": a placeholder object
    proc, _ = _run_config(tmp_path, f"{bucket}/drops", f"{bucket}/serving")
    _one_line_exit_2(proc, r"data\.pattern: the newest folder gs://.*/drops/2026-10 holds no file matching '\*\.csv'")
    assert not fs.exists(f"{bucket}/serving")


def test_no_credentials(tmp_path: Path) -> None:
    """No emulator, no key file, no gcloud login, not on a VM: what a fresh machine has."""
    env = {k: v for k, v in os.environ.items() if k not in ("STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS")}
    env.update(CLOUDSDK_CONFIG=str(tmp_path / "gcloud"), NO_GCE_CHECK="true", HOME=str(tmp_path))
    proc, seconds = _run_config(tmp_path, "gs://ad-click-logs/drops", str(tmp_path / "serving"), env=env)
    _one_line_exit_2(proc, r"data\.source: no Google Cloud credentials found .*gcloud auth application-default login")
    assert seconds < 15
    out = _run(["pipelines.datagen", "ad_click", "--rows", "10", "--out", "gs://ad-click-logs/x"], env)
    assert out.returncode == 2 and "no Google Cloud credentials found" in out.stderr, out.stderr


def test_datagen_uploads_months_and_names_a_missing_bucket(bucket: str) -> None:
    out = _run(["pipelines.datagen", "ad_click", "--rows", "100", "--months", "2", "--out", f"{bucket}/drops"])
    assert out.returncode == 0, out.stderr
    assert fs.listdir(f"{bucket}/drops") == ["2026-09", "2026-10"]
    assert fs.read_text(f"{bucket}/drops/2026-10/ad_click.csv").count("\n") == 101
    out = _run(["pipelines.datagen", "ad_click", "--rows", "10", "--out", "gs://no-such-bucket-zz/d"])
    assert out.returncode == 2 and "bucket gs://no-such-bucket-zz does not exist" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("key", ["schema.path", "validation.skew.serving_data"])
def test_other_paths_on_a_missing_bucket(tmp_path: Path, bucket: str, key: str) -> None:
    generate("ad_click", f"{bucket}/drops", 50, months=1)
    value = "gs://no-such-bucket-zz/s/schema.pbtxt" if key == "schema.path" else "gs://no-such-bucket-zz/logs"
    proc, _ = _run_config(tmp_path, f"{bucket}/drops", f"{bucket}/serving", f"{key}={value}")
    _one_line_exit_2(proc, rf"{key.replace('.', '[.]')}: .*gs://no-such-bucket-zz")
