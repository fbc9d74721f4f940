"""The fast path's fingerprint of gs:// inputs: object generations and MD5s, not modification times."""

from __future__ import annotations

from pathlib import Path

from components import filesystem as fs
from pipelines.config import load_config
from pipelines.results.records import fingerprint

REPO = Path(__file__).resolve().parents[2]


def test_a_reupload_of_the_same_bytes_is_a_new_input(bucket: str, tmp_path: Path) -> None:
    csv = f"{bucket}/drops/2026-09/ads.csv"
    fs.write_text(csv, "a,b\n1,2\n")
    config = load_config(
        REPO / "configs" / "ad_click_gcs.yaml", [f"data.source={bucket}/drops", f"pipeline.root={tmp_path}"]
    )
    first = fingerprint(config, None)
    assert fingerprint(config, None) == first
    fs.write_text(csv, "a,b\n1,2\n")  # same bytes, new generation: TFX would read it again
    second = fingerprint(config, None)
    assert second != first
    fs.write_text(f"{bucket}/drops/2026-10/ads.csv", "a,b\n1,2\n")  # a new month: the newest is read
    assert fingerprint(config, None) not in (first, second)
