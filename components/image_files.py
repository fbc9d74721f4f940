"""Reading the images CSV rows point at, and counting the bad ones: Pillow (TensorFlow only for BMP), no TFX.

``components.image_example_gen`` calls :func:`read_image` once per row and folds each outcome
into per-column statistics with :func:`add_row` / :func:`merge_stats` / :func:`finish_stats`
(a Beam ``CombineFn`` there); ``components.image_checks`` turns them into the gate's finding.

Example:
    >>> data, reason, size = read_image("data/ad_click_images", "images/nope.png")
    >>> (data, reason)
    (None, 'missing')
"""

from __future__ import annotations

import io
from typing import Any

from components import filesystem as fs
from components.image_transform import IMAGE_MAGIC

__all__ = ["FIRST_BAD", "add_row", "empty_stats", "finish_stats", "merge_stats", "read_image"]

FIRST_BAD = 5  # bad paths a report keeps (and the gate's message names)
_MISSING = ("missing", "no path")


def read_image(base: str, path: str) -> tuple[bytes | None, str, tuple[int, int]]:
    """``(bytes, "", (width, height))`` of the image at ``path`` (relative to ``base`` unless absolute
    or ``gs://``), or ``(None, reason, (0, 0))`` when it is missing, unreadable, not PNG/JPEG/GIF/BMP
    (what TensorFlow decodes) or corrupt (Pillow cannot decode it)."""
    from PIL import Image

    if not path:
        return None, "no path", (0, 0)
    full = path if fs.is_remote(path) or path.startswith("/") else fs.join(base, path)
    try:
        data = fs.read_bytes(full)
    except FileNotFoundError:
        return None, "missing", (0, 0)
    except OSError as exc:
        return None, f"unreadable ({type(exc).__name__})", (0, 0)
    if not any(data.startswith(m) for m in IMAGE_MAGIC.values()):
        return None, "not PNG, JPEG, GIF or BMP", (0, 0)
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            size = image.size
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for a damaged file
        return None, f"corrupt ({type(exc).__name__})", (0, 0)
    if data.startswith(IMAGE_MAGIC["BMP"]) and not _tensorflow_reads_bmp(data):
        return None, "a BMP kind TensorFlow cannot decode (1, 4 or 16 bits, or compressed)", (0, 0)
    return data, "", size


def _tensorflow_reads_bmp(data: bytes) -> bool:
    """Whether ``tf.io.decode_bmp`` (what Transform uses) reads a BMP that Pillow reads: not every kind."""
    import tensorflow as tf

    try:
        tf.io.decode_bmp(data)
    except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError):
        return False
    return True


def empty_stats() -> dict[str, Any]:
    """One column's statistics before any row."""
    keys = ("rows", "bad", "missing", "undecodable", "max_width", "max_height")
    return {**dict.fromkeys(keys, 0), "min_width": None, "min_height": None, "first_bad": []}


def add_row(s: dict[str, Any], path: str, reason: str, width: int, height: int) -> dict[str, Any]:
    """``s`` with one more row: bad when ``reason`` is set (``read_image``'s), else its size counted."""
    s["rows"] += 1
    if reason:
        s["bad"] += 1
        s["missing" if reason in _MISSING else "undecodable"] += 1
        if len(s["first_bad"]) < FIRST_BAD:
            s["first_bad"].append({"path": path, "reason": reason})
        return s
    for key, value in (("width", width), ("height", height)):
        s[f"min_{key}"] = value if s[f"min_{key}"] is None else min(s[f"min_{key}"], value)
        s[f"max_{key}"] = max(s[f"max_{key}"], value)
    return s


def merge_stats(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Two columns' statistics as one (``a`` updated)."""
    for key in ("rows", "bad", "missing", "undecodable"):
        a[key] += b[key]
    a["first_bad"] = (a["first_bad"] + b["first_bad"])[:FIRST_BAD]
    for key in ("width", "height"):
        mins = [v for v in (a[f"min_{key}"], b[f"min_{key}"]) if v is not None]
        a[f"min_{key}"] = min(mins) if mins else None
        a[f"max_{key}"] = max(a[f"max_{key}"], b[f"max_{key}"])
    return a


def finish_stats(s: dict[str, Any]) -> dict[str, Any]:
    """``s`` with ``decodable_fraction``: the rows whose image decoded, of all rows."""
    s["decodable_fraction"] = round((s["rows"] - s["bad"]) / s["rows"], 6) if s["rows"] else 0.0
    return s
