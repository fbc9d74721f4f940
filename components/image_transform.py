"""The ``image`` transform: encoded image bytes -> scaled pixels, in TF Transform (so serving shares it).

``features.image_path: {transform: image, size: [32, 32]}`` declares a column whose examples hold
an image's bytes (PNG, JPEG, GIF or BMP; ``components.image_example_gen`` reads them from the
paths in the CSV). The TF function decodes each image, resizes it to ``size`` (height, width)
with bilinear resampling and scales it to [0, 1]; the output is one ``[batch, height*width*channels]``
float32 tensor, which the model reshapes and runs through a small convolutional branch
(``conv_filters``, ``components.trainer``). A missing image (empty bytes: the file was missing
or unreadable at ingestion) is all zeros. At serving, ``serving_default`` takes the bytes
(REST: ``{"image_path": {"b64": "..."}}``) and rejects a value that is no image format
before transforming (:func:`check_image`).

Cheap to import: pydantic only; TensorFlow inside the functions.

Example:
    >>> Image(transform="image").model_dump()
    {'transform': 'image', 'size': (32, 32), 'channels': 3, 'conv_filters': (16, 32), 'max_bad_fraction': 0.01}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field

from components.transform_configs import TransformConfig

__all__ = ["IMAGE_MAGIC", "Image", "check_image", "image_outputs", "image_pixels", "pixel_count"]

# The leading bytes of the formats tf.io.decode_image reads.
IMAGE_MAGIC = {"PNG": b"\x89PNG", "JPEG": b"\xff\xd8\xff", "GIF": b"GIF8", "BMP": b"BM"}
_Side = Annotated[int, Field(ge=4, le=512)]  # pixels


class Image(TransformConfig):
    """Encoded image bytes (PNG, JPEG, GIF, BMP): decoded, resized and scaled to [0, 1] in TF Transform."""

    transform: Literal["image"]
    size: tuple[_Side, _Side] = Field((32, 32), description="Height and width the image is resized to, in pixels.")
    channels: Literal[1, 3] = Field(3, description="3 (RGB) or 1 (grayscale).")
    conv_filters: tuple[Annotated[int, Field(ge=1, le=512)], ...] = Field(
        (16, 32),
        min_length=1,
        description="The model's convolutional branch: filters of each 3x3 conv + 2x2 max-pool layer.",
    )
    max_bad_fraction: float = Field(
        0.01,
        ge=0.0,
        le=1.0,
        description="The data gate blocks when more rows than this have a missing, unreadable or corrupt image.",
    )


def pixel_count(f: Mapping[str, Any]) -> int:
    """Values per image in the transformed output: height * width * channels."""
    height, width = f["size"]
    return int(height) * int(width) * int(f["channels"])


def image_outputs(name: str, f: Mapping[str, Any]) -> list[tuple[str, int | None]]:
    return [(name, None)]


def image_pixels(name: str, f: Mapping[str, Any], x: Any) -> dict[str, Any]:
    """[B, 1] encoded images ('' = missing) -> ``{name: [B, height*width*channels] float32 in [0, 1]}``."""
    import tensorflow as tf

    height, width = (int(v) for v in f["size"])
    channels = int(f["channels"])

    def decode(data: Any) -> Any:
        image = tf.io.decode_image(data, channels=channels, expand_animations=False, dtype=tf.float32)
        return tf.ensure_shape(tf.image.resize(image, [height, width]), [height, width, channels])

    def one(data: Any) -> Any:
        return tf.cond(tf.strings.length(data) > 0, lambda: decode(data), lambda: tf.zeros([height, width, channels]))

    pixels = tf.map_fn(
        one, tf.reshape(x, [-1]), fn_output_signature=tf.TensorSpec([height, width, channels], tf.float32)
    )
    return {name: tf.reshape(pixels, [-1, height * width * channels])}


def check_image(name: str, f: Mapping[str, Any], x: Any) -> Any:
    """``x`` (serving input) unchanged, after asserting every value is empty (missing) or starts like an image.

    Raises (when the graph runs):
        tf.errors.InvalidArgumentError: ``image column image_path: expected PNG, JPEG, GIF or BMP bytes ...``.
    """
    import tensorflow as tf

    s = tf.reshape(x, [-1])
    ok = tf.equal(s, "")
    for magic in IMAGE_MAGIC.values():
        ok = tf.logical_or(ok, tf.equal(tf.strings.substr(s, 0, len(magic)), magic))
    message = (
        f"image column {name}: expected PNG, JPEG, GIF or BMP bytes (in JSON as {{b64: ...}}), got values starting with"
    )
    bad = tf.strings.substr(tf.boolean_mask(s, tf.logical_not(ok))[:3], 0, 8)
    with tf.control_dependencies([tf.debugging.Assert(tf.reduce_all(ok), [message, bad], summarize=3)]):
        return tf.identity(x)
