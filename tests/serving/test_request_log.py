"""The request log on its own: records read back equal what was written; size-bounded and rotated."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # the PredictionLog protos import TensorFlow


def write_records(path: str, count: int, max_mb: float = 100.0, payload: int = 10) -> list[np.ndarray]:
    """``count`` predict records (``payload`` floats each) through a RequestLog in ``path``; their inputs."""
    from pipelines.serving.grpc_convert import predict_request, predict_response
    from pipelines.serving.request_log import LogMeta, RequestLog, build_log

    counts: dict[str, int] = {}
    log = RequestLog(path, max_mb=max_mb, count=lambda outcome, n: counts.update({outcome: counts.get(outcome, 0) + n}))
    log.file_bytes = 64 * 1024  # rotate often
    sent = []
    for i in range(count):
        x = np.full(payload, float(i), dtype=np.float32)
        sent.append(x)
        meta = LogMeta(f"id-{i}", "ad_click", 7, "stable", "serving_default", time.time())
        log.submit(
            lambda x=x, meta=meta: build_log(meta, "predict", predict_request({"x": x}), predict_response({"y": x * 2}))
        )
    log.close()
    assert counts.get("dropped", 0) == 0 and counts["written"] == count
    return sent


def test_records_read_back_equal_what_was_written(tmp_path: Path) -> None:
    from pipelines.serving.request_log import read_logs

    sent = write_records(str(tmp_path / "log"), 5)
    records = read_logs(str(tmp_path / "log"))
    assert [r.request_id for r in records] == [f"id-{i}" for i in range(5)]
    for record, x in zip(records, sent, strict=True):
        assert (record.model, record.version, record.label, record.api) == ("ad_click", 7, "stable", "predict")
        assert record.inputs["x"].tolist() == x.tolist() and record.outputs["y"].tolist() == (x * 2).tolist()


def test_the_folder_stays_under_max_mb_by_deleting_the_oldest_files(tmp_path: Path) -> None:
    from pipelines.serving.request_log import read_logs

    folder = tmp_path / "log"
    write_records(str(folder), 400, max_mb=0.25, payload=1000)  # ~1.6 MB written, 0.25 MB kept
    files = sorted(folder.iterdir())
    assert len(files) > 1 and sum(f.stat().st_size for f in files) <= 0.25 * 1024 * 1024
    kept = [r.request_id for r in read_logs(str(folder))]
    assert kept and kept == [f"id-{i}" for i in range(400 - len(kept), 400)]  # the newest, in order


def test_a_damaged_file_is_an_error_naming_it(tmp_path: Path) -> None:
    from pipelines.serving.request_log import read_logs

    folder = tmp_path / "log"
    write_records(str(folder), 3)
    (file,) = folder.iterdir()
    file.write_bytes(file.read_bytes()[:-3])
    with pytest.raises(ValueError, match=f"{file.name}: truncated TFRecord"):
        read_logs(str(folder))
