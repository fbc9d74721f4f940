"""The server's request log in a ``gs://`` folder (the GCS emulator): written, rotated, read back."""

from __future__ import annotations

import pytest

from tests.serving.test_request_log import write_records

pytestmark = pytest.mark.slow  # the PredictionLog protos import TensorFlow


def test_the_request_log_in_a_bucket_reads_back(bucket: str) -> None:
    from components import filesystem as fs
    from pipelines.serving.request_log import read_logs

    folder = f"{bucket}/request_log"
    sent = write_records(folder, 40, payload=1000)  # ~4 KB each: a few files of 64 KiB
    assert len(fs.listdir(folder)) > 1
    records = read_logs(folder)
    assert [r.request_id for r in records] == [f"id-{i}" for i in range(40)]
    assert all(r.inputs["x"].tolist() == x.tolist() for r, x in zip(records, sent, strict=True))
