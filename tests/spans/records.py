"""Reading an Examples artifact's gzipped TFRecord shards without TensorFlow (the tests' own reader)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path


def read_records(path: Path) -> list[bytes]:
    """The records of one gzipped TFRecord file (length, CRC, data, CRC; CRCs not checked)."""
    data = gzip.decompress(Path(path).read_bytes())
    out, at = [], 0
    while at < len(data):
        (length,) = struct.unpack_from("<Q", data, at)
        out.append(data[at + 12 : at + 12 + length])
        at += 12 + length + 4
    return out
