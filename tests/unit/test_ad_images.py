"""The ad banners (``datagen ad_click --images``): columns, files, and the documented image rule."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipelines.data.generators import generate
from pipelines.data.generators.ad_click import COLUMNS, LABEL, click_logit
from pipelines.data.generators.ad_images import (
    COLOUR_EFFECT,
    COLOURS,
    IMAGE_COLUMN,
    IMAGE_MARGIN,
    SHAPE_EFFECT,
    SHAPES,
    banner_png,
    generate_with_images,
    image_effect,
    image_oracle_auc,
    tabular_only_auc,
)
from pipelines.data.generators.oracle import roc_auc
from pipelines.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_cli_writes_an_image_per_row(tmp_path: Path) -> None:
    out = tmp_path / "d"
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.datagen", "ad_click", "--images", "--rows", "40", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    with open(out / "ad_click.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [*COLUMNS[:-1], IMAGE_COLUMN, LABEL]
    assert len(rows) == 40
    for row in rows:
        with Image.open(out / row[IMAGE_COLUMN]) as image:
            assert image.format == "PNG" and image.size == (96, 48)


def test_banner_background_is_the_rule_colour() -> None:
    for i, (name, rgb) in enumerate(COLOURS.items()):
        with Image.open(io.BytesIO(banner_png(i, 0, 3, seed=i))) as image:
            assert image.convert("RGB").getpixel((95, 47)) == rgb, name


def test_image_effect_follows_the_documented_table() -> None:
    colours, shapes = np.arange(len(COLOURS)), np.array([0, 1, 2, 0, 1, 2])
    expected = [COLOUR_EFFECT[c] + SHAPE_EFFECT[SHAPES[s]] for c, s in zip(COLOURS, shapes, strict=True)]
    assert image_effect(colours, shapes).tolist() == expected
    assert COLOUR_EFFECT["red"] == 2.0 and SHAPE_EFFECT["triangle"] == -1.0


def test_the_image_carries_signal_the_columns_do_not() -> None:
    # With the image term the rule beats the tabular logit alone by the documented margin.
    with_image, without = image_oracle_auc(40_000, seed=3), tabular_only_auc(40_000, seed=3)
    assert with_image - without == pytest.approx(IMAGE_MARGIN, abs=0.015)
    # The image term is independent of the columns: same tabular columns as --images-less data.
    cols, colour, shape, _ = next(generate_with_images(2000, seed=4))
    effect = image_effect(colour, shape)
    assert abs(np.corrcoef(effect, click_logit(cols))[0, 1]) < 0.1
    assert roc_auc(cols[LABEL], effect) > 0.6  # the image alone predicts clicks


def test_images_are_only_for_ad_click(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--images is for ad_click"):
        generate("churn", str(tmp_path), 10, images=True)


def test_monthly_image_paths_are_relative_to_the_data_folder(tmp_path: Path) -> None:
    done = generate("ad_click", str(tmp_path), 5, months=2, images=True)
    assert len(done.paths) == 2
    with open(tmp_path / "2026-10" / "ad_click.csv", newline="") as fh:
        paths = [r[IMAGE_COLUMN] for r in csv.DictReader(fh)]
    assert paths[0] == "2026-10/images/ad_0000000.png"
    assert all((tmp_path / p).is_file() for p in paths)
