"""ExampleGen's writer, a block at a time: serialized ``tf.Example``s -> their splits' gzipped TFRecord shards.

TFX's writer (``tfx/components/example_gen/write_split.py``) makes every example a Beam element: it is
hashed to a split (``base_example_gen_executor._PartitionFn``), ``Reshuffle``d and written by
``WriteToTFRecord``. Here the examples of one input file are split, ordered and written by the
worker that encoded them, with the same rules:

- the split: ``bisect(buckets, int(sha256(example).hexdigest(), 16) % buckets[-1])``, where
  ``buckets`` are the cumulative ``hash_buckets`` of the output splits (TFX's ``_PartitionFn`` on
  bytes), so every example lands in the split TFX would put it in;
- the order inside a shard: by the same SHA-256 (its first 8 bytes), a fixed pseudo-random order,
  as TFX's ``Reshuffle`` gives a random one (the Trainer's shuffle buffer sees mixed rows even
  when the CSV is sorted, e.g. by date);
- the files: TFRecord framing (length, masked CRC32C, data, masked CRC32C), gzip at zlib's default
  level as Beam's ``WriteToTFRecord`` writes, named ``data_tfrecord-<i>-of-<n>.gz`` (TFX's prefix and
  Beam's shard names) for input file ``i`` of ``n``; each split gets a shard per input file, empty
  or not, so no split folder is ever empty.

A file of more than ``PART_ROWS`` examples is written in parts (``...-part0001.gz``), so a worker
holds a bounded number of examples. A shard's name and bytes depend only on its input file, so a
retried or duplicated bundle rewrites the same files: no example is written twice. Each shard is written whole through
``components.filesystem`` (locally a temporary name renamed over the target, on ``gs://`` one
object upload), so a reader never sees half a shard.

Pure Python and numpy (no TensorFlow, no Beam); ``components.csv_example_gen`` runs it on Beam.

Example:
    >>> counts = write_shards([[b"example-1", b"example-2"]], ["out/Split-train/s.gz", "out/Split-eval/s.gz"], [4, 5])
"""

from __future__ import annotations

import functools
import hashlib
import struct
import zlib
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import google_crc32c
import numpy as np

from components import filesystem as fs

__all__ = [
    "FILE_PREFIX",
    "PART_ROWS",
    "buckets_of",
    "frame",
    "part_path",
    "partition",
    "read_records",
    "shard_name",
    "write_shards",
]

FILE_PREFIX = "data_tfrecord"  # TFX's write_split.DEFAULT_TF_RECORD_FILE_NAME
_MASK_DELTA = 0xA282EAD8
_GZIP_WBITS = 16 + zlib.MAX_WBITS
_CHUNK = 8192  # records framed and compressed at a time
PART_ROWS = 1_000_000  # examples of one input file held before a part is written (~150-300 MB)


def buckets_of(hash_buckets: Sequence[int]) -> list[int]:
    """The cumulative buckets TFX's ``GenerateExamplesByBeam`` builds from the splits' ``hash_buckets``."""
    return np.cumsum(list(hash_buckets), dtype=np.int64).tolist()


def shard_name(index: int, count: int) -> str:
    """The shard of input file ``index`` of ``count`` (Beam's ``-SSSSS-of-NNNNN`` form, TFX's prefix)."""
    return f"{FILE_PREFIX}-{index:05d}-of-{count:05d}.gz"


def partition(records: Sequence[bytes], buckets: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """``(split, order)`` per record: the split index TFX's ``_PartitionFn`` gives the serialized
    record, and a sort key (the first 8 bytes of the same SHA-256)."""
    total = int(buckets[-1])
    digests = [hashlib.sha256(record).digest() for record in records]
    bucket = np.fromiter((int.from_bytes(d, "big") % total for d in digests), np.int64, len(digests))
    order = np.frombuffer(b"".join(d[:8] for d in digests), ">u8").astype(np.uint64)
    return np.searchsorted(np.asarray(buckets, np.int64), bucket, side="right"), order


@functools.lru_cache(maxsize=65536)
def _length_header(length: int) -> bytes:
    """A record's length and its masked CRC (examples of one file have few distinct lengths)."""
    data = struct.pack("<Q", length)
    return data + _masked_crc(data)


def _masked_crc(data: bytes) -> bytes:
    crc = google_crc32c.value(data)
    return struct.pack("<I", (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF)


def frame(records: Iterable[bytes]) -> bytes:
    """Records in TFRecord framing, as ``tf.io.TFRecordWriter`` writes them (before compression)."""
    parts = []
    for record in records:
        parts += (_length_header(len(record)), record, _masked_crc(record))
    return b"".join(parts)


def _gzip_records(records: Sequence[bytes]) -> bytes:
    """Framed and gzipped a chunk at a time; a thread compresses (zlib releases the GIL) while the
    next chunk is framed."""
    packer = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, _GZIP_WBITS)
    out: list[bytes] = []
    pending: deque[Future[bytes]] = deque()
    with ThreadPoolExecutor(1) as pool:
        for i in range(0, len(records), _CHUNK):
            pending.append(pool.submit(packer.compress, frame(records[i : i + _CHUNK])))
            if len(pending) > 2:  # at most a few framed chunks in memory
                out.append(pending.popleft().result())
        out += [chunk.result() for chunk in pending]
    return b"".join([*out, packer.flush()])


def part_path(path: str, part: int) -> str:
    """Shard ``path`` itself for part 0, ``<path without .gz>-part<k>.gz`` for the later parts of a big file."""
    return path if part == 0 else f"{path.removesuffix('.gz')}-part{part:04d}.gz"


def write_shards(
    batches: Iterable[Sequence[bytes]], paths: Sequence[str], buckets: Sequence[int], part_rows: int = PART_ROWS
) -> list[int]:
    """Split the serialized examples of ``batches`` by TFX's hash and write split ``j``'s to ``paths[j]``
    (gzipped TFRecord, ordered by hash); returns the number of examples per split.

    ``buckets`` are cumulative (:func:`buckets_of`), one per path. At most about ``part_rows``
    examples are held at once: a bigger file is written as parts (:func:`part_path`), each one
    ordered by hash, so a worker's memory does not grow with its file.
    """
    if len(paths) != len(buckets):
        raise ValueError(f"{len(paths)} shard paths for {len(buckets)} splits")
    counts, part = [0] * len(paths), 0
    kept: list[list[bytes]] = [[] for _ in paths]
    keys: list[list[np.ndarray]] = [[] for _ in paths]

    def flush() -> None:
        for j, path in enumerate(paths):
            ranked = np.argsort(np.concatenate(keys[j] or [np.empty(0, np.uint64)]), kind="stable")
            fs.write_bytes(part_path(path, part), _gzip_records([kept[j][i] for i in ranked]))
            counts[j] += len(kept[j])
            kept[j], keys[j] = [], []

    for batch in batches:
        if part_rows and sum(map(len, kept)) >= part_rows:
            flush()
            part += 1
        split, order = partition(batch, buckets)
        for j in range(len(paths)):
            where = np.flatnonzero(split == j)
            kept[j] += [batch[i] for i in where]
            keys[j].append(order[where])
    flush()
    return counts


def read_records(path: str) -> list[bytes]:
    """The records of one gzipped TFRecord file, each checked against its CRCs (tests and benchmarks)."""
    data = zlib.decompress(fs.read_bytes(path), _GZIP_WBITS)
    records, pos = [], 0
    while pos < len(data):
        length = data[pos : pos + 8]
        if _masked_crc(length) != data[pos + 8 : pos + 12]:
            raise ValueError(f"{path}: corrupt record length at byte {pos}")
        (n,) = struct.unpack("<Q", length)
        record = data[pos + 12 : pos + 12 + n]
        if _masked_crc(record) != data[pos + 12 + n : pos + 16 + n]:
            raise ValueError(f"{path}: corrupt record at byte {pos}")
        records.append(record)
        pos += 16 + n
    return records
