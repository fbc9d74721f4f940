"""Ad banners for the ad-click data (``python -m pipelines.datagen ad_click --images``), with a known rule.

Each row gets one small PNG banner (96x48 pixels) and an ``image_path`` column holding its path
relative to the data folder (``images/ad_0000042.png``). A banner has a background colour, one
shape in a contrasting colour and 0-3 lines of text; the colour and the shape carry part of the
click signal, and nothing in the CSV does:

    image_effect = COLOUR_EFFECT[colour] + SHAPE_EFFECT[shape]
        colour: red +2, orange +1, green 0, teal 0, blue -1, purple -2
        shape:  circle +1, square 0, triangle -1              (text lines: no effect)
    logit  = click_logit(tabular columns) + image_effect       (see ``ad_click``)

Scored with the true probability the rows reach :func:`image_oracle_auc` (0.917 on 200k rows);
the best any model without the image can do is scoring the tabular logit, :func:`tabular_only_auc`
(0.848): the image is worth a margin of 0.069 AUC (``IMAGE_MARGIN``). Colour, shape and text lines are drawn from
their own random stream, so the tabular columns of a seed are those of ``--images``-less data;
the labels differ (the rule has one more term).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import ExitStack

import numpy as np

from components import filesystem as fs
from pipelines.data.generators.ad_click import COLUMNS, LABEL, click_logit, generate_ad_click
from pipelines.data.generators.oracle import roc_auc
from pipelines.errors import ConfigError

__all__ = [
    "COLOURS",
    "COLOUR_EFFECT",
    "IMAGE_COLUMN",
    "IMAGE_DIR",
    "IMAGE_MARGIN",
    "SHAPES",
    "SHAPE_EFFECT",
    "banner_png",
    "generate_with_images",
    "image_effect",
    "image_oracle_auc",
    "image_path",
    "tabular_only_auc",
    "write_ad_click_images",
    "write_images",
]

IMAGE_COLUMN = "image_path"
IMAGE_DIR = "images"
SIZE = (96, 48)
COLOURS = {
    "red": (210, 40, 40),
    "orange": (240, 140, 20),
    "green": (40, 170, 70),
    "teal": (20, 150, 150),
    "blue": (40, 70, 210),
    "purple": (130, 40, 170),
}
COLOUR_EFFECT = {"red": 2.0, "orange": 1.0, "green": 0.0, "teal": 0.0, "blue": -1.0, "purple": -2.0}
SHAPES = ("circle", "square", "triangle")
SHAPE_EFFECT = {"circle": 1.0, "square": 0.0, "triangle": -1.0}
_COLOUR_NAMES = list(COLOURS)
IMAGE_MARGIN = 0.069  # image_oracle_auc() - tabular_only_auc(), 200k rows


def image_effect(colour: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """The image's term of the click logit, for colour and shape indices (into COLOURS, SHAPES)."""
    colours = np.array([COLOUR_EFFECT[c] for c in _COLOUR_NAMES])
    shapes = np.array([SHAPE_EFFECT[s] for s in SHAPES])
    return colours[np.asarray(colour)] + shapes[np.asarray(shape)]


def banner_png(colour: int, shape: int, lines: int, seed: int) -> bytes:
    """One banner as PNG bytes: background ``COLOURS[colour]``, shape ``SHAPES[shape]``, ``lines`` text lines."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    image = Image.new("RGB", SIZE, COLOURS[_COLOUR_NAMES[colour]])
    draw = ImageDraw.Draw(image)
    x0, y0 = int(rng.integers(4, 20)), int(rng.integers(4, 12))
    box = (x0, y0, x0 + 28, y0 + 28)
    ink = (245, 245, 245)
    if SHAPES[shape] == "circle":
        draw.ellipse(box, fill=ink)
    elif SHAPES[shape] == "square":
        draw.rectangle(box, fill=ink)
    else:
        draw.polygon([(x0 + 14, y0), (x0, y0 + 28), (x0 + 28, y0 + 28)], fill=ink)
    for i in range(lines):  # text density: grey bars of random length, no signal
        y = 6 + 12 * i
        draw.rectangle((50, y, 50 + int(rng.integers(12, 42)), y + 5), fill=(30, 30, 30))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def generate_with_images(
    rows: int, seed: int = 0, month: int | None = None
) -> Iterator[tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(columns, colour, shape, lines)`` chunks; the label follows the rule with the image term."""
    rng = np.random.default_rng([seed, 0x1A6E])
    label_rng = np.random.default_rng([seed, 0xC11C])
    for cols in generate_ad_click(rows, seed, month):
        n = len(cols[LABEL])
        colour, shape, lines = rng.integers(0, len(COLOURS), n), rng.integers(0, len(SHAPES), n), rng.integers(0, 4, n)
        logit = click_logit(cols) + image_effect(colour, shape)
        cols[LABEL] = (label_rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
        yield cols, colour, shape, lines


def image_path(row: int) -> str:
    """The ``image_path`` value of data row ``row`` (0-based), relative to the data folder."""
    return f"{IMAGE_DIR}/ad_{row:07d}.png"


def write_images(out_dir: str, start: int, colour: np.ndarray, shape: np.ndarray, lines: np.ndarray, seed: int) -> None:
    """Write the banners of rows ``start, start + 1, ...`` under ``out_dir/images/``."""
    for i, (c, s, k) in enumerate(zip(colour.tolist(), shape.tolist(), lines.tolist(), strict=True)):
        row = start + i
        fs.write_bytes(fs.join(out_dir, image_path(row)), banner_png(c, s, k, seed * 1_000_003 + row))


def write_ad_click_images(
    out_dir: str, rows: int, seed: int = 0, shards: int = 1, month: int | None = None, prefix: str = ""
) -> list[str]:
    """Write ``rows`` rows as CSV (with the ``image_path`` column) and one banner per row into ``out_dir``.

    ``prefix``: prepended to ``image_path`` (a month's folder name: paths are relative to ``data.source``).
    """
    if rows < 1:
        raise ConfigError(f"--rows {rows}: must be at least 1")
    if shards < 1 or shards > rows:
        raise ConfigError(f"--shards {shards}: must be between 1 and --rows")
    fs.makedirs(out_dir)
    fs.makedirs(fs.join(out_dir, IMAGE_DIR))
    names = ["ad_click.csv"] if shards == 1 else [f"ad_click-{i:05d}-of-{shards:05d}.csv" for i in range(shards)]
    paths = [fs.join(out_dir, n) for n in names]
    columns = [*COLUMNS[:-1], IMAGE_COLUMN, LABEL]
    with ExitStack() as files:
        writers = [csv.writer(files.enter_context(fs.atomic_writer(p, newline="")), lineterminator="\n") for p in paths]
        for w in writers:
            w.writerow(columns)
        row = 0
        for cols, colour, shape, lines in generate_with_images(rows, seed, month):
            n = len(cols[LABEL])
            write_images(out_dir, row, colour, shape, lines, seed)
            cols[IMAGE_COLUMN] = np.array([prefix + image_path(row + i) for i in range(n)], dtype=object)
            data = list(zip(*(cols[c].tolist() for c in columns), strict=True))
            for i, shard in enumerate(range(shards)):
                first = (shard - row) % shards
                writers[i].writerows(data[first::shards])
            row += n
    return paths


def _oracle_scores(rows: int, seed: int, with_image: bool) -> float:
    labels, scores = [], []
    for cols, colour, shape, _ in generate_with_images(rows, seed):
        labels.append(cols[LABEL])
        scores.append(click_logit(cols) + (image_effect(colour, shape) if with_image else 0.0))
    return roc_auc(np.concatenate(labels), np.concatenate(scores))


def image_oracle_auc(rows: int = 200_000, seed: int = 12345) -> float:
    """AUC of the true click probability (tabular + image): the best any model can do on this data."""
    return _oracle_scores(rows, seed, with_image=True)


def tabular_only_auc(rows: int = 200_000, seed: int = 12345) -> float:
    """AUC of the tabular logit alone on the same rows: the best a model without the image can do
    (the image term is independent of the columns, so P(click | columns) is monotone in it)."""
    return _oracle_scores(rows, seed, with_image=False)
