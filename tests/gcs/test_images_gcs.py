"""Ads with banners on gs:// (the session's GCS emulator): written by datagen, read as ExampleGen reads them."""

from __future__ import annotations

from components import filesystem as fs
from components.image_files import read_image
from pipelines.data.generators.ad_click import read_csv_columns
from pipelines.data.generators.ad_images import IMAGE_COLUMN, write_ad_click_images


def test_banners_round_trip_through_gcs(bucket: str) -> None:
    data = fs.join(bucket, "ads")
    [csv_path] = write_ad_click_images(data, 12, seed=3)
    paths = read_csv_columns(csv_path)[IMAGE_COLUMN].tolist()
    assert paths[0] == "images/ad_0000000.png"
    fs.remove(fs.join(data, paths[5]))
    outcomes = [read_image(data, p) for p in paths]
    assert [reason for _, reason, _ in outcomes] == [""] * 5 + ["missing"] + [""] * 6
    assert all(d is not None and d.startswith(b"\x89PNG") and size == (96, 48) for d, r, size in outcomes if not r)
