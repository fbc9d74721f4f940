"""The request log: sampled requests as TF Serving ``PredictionLog`` records, TFRecord files in a folder.

    request thread                     writer thread
      sampled? (sampling_rate)           build the PredictionLog, frame it (TFRecord, CRC32C)
      submit(record builder) --queue-->  buffer; every flush_seconds or file_bytes: one new file
      full queue: dropped, counted       <folder>/requests-<UTC time>-<pid>-<n>.tfrecord
                                         folder over max_mb: the oldest files deleted
                                         a write that fails (disk full): its records dropped, counted

Each record: ``log_metadata`` (model name, the version that answered, signature,
``timestamp_secs``, and the request id in ``request_origin``) and the request (its
``model_spec.version_label`` is the label the request was routed by, if any) with its
response: ``predict_log``, ``classify_log`` or ``regress_log``. Files go through
:mod:`components.filesystem` (local or ``gs://``). :func:`read_logs` reads them back.
"""

from __future__ import annotations

import os
import queue
import random
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from components import filesystem as fs

__all__ = ["LogMeta", "LoggedRequest", "RequestLog", "frame", "read_logs", "read_records"]

_PREFIX, _SUFFIX = "requests-", ".tfrecord"


def _masked_crc(data: bytes) -> int:
    import google_crc32c

    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame(record: bytes) -> bytes:
    """One TFRecord: length, masked CRC32C of the length, data, masked CRC32C of the data."""
    length = struct.pack("<Q", len(record))
    return length + struct.pack("<I", _masked_crc(length)) + record + struct.pack("<I", _masked_crc(record))


def read_records(data: bytes) -> Iterator[bytes]:
    """The records of one TFRecord file's bytes, each checked against its CRC.

    Raises:
        ValueError: a truncated header or record, or a CRC that does not match (the byte offset named).
    """
    offset = 0
    while offset < len(data):
        if offset + 12 > len(data):
            raise ValueError(f"truncated TFRecord header at byte {offset}")
        (length,) = struct.unpack_from("<Q", data, offset)
        record = data[offset + 12 : offset + 12 + length]
        if len(record) != length or offset + 16 + length > len(data):
            raise ValueError(f"truncated TFRecord at byte {offset} ({length} bytes announced)")
        (crc,) = struct.unpack_from("<I", data, offset + 12 + length)
        if crc != _masked_crc(record):
            raise ValueError(f"TFRecord at byte {offset} fails its CRC")
        yield record
        offset += 16 + length


def _file_records(file: str) -> Iterator[bytes]:
    try:
        yield from read_records(fs.read_bytes(file))
    except ValueError as exc:
        raise ValueError(f"{file}: {exc}") from exc


@dataclass(frozen=True)
class LogMeta:
    """Who answered a request, and when."""

    request_id: str
    model: str
    version: int
    label: str
    signature: str
    time: float


@dataclass(frozen=True)
class LoggedRequest:
    """One record read back. ``inputs``/``outputs``: arrays by name (predict); for classify and
    regress, ``inputs`` is the list of ``tf.train.Example`` and ``outputs`` the results proto."""

    request_id: str
    model: str
    version: int
    label: str
    signature: str
    time: int
    api: str
    inputs: Any
    outputs: Any
    log: Any  # the PredictionLog proto


def read_logs(path: str) -> list[LoggedRequest]:
    """Every record of the request log in folder ``path`` (local or gs://), oldest file first.

    Raises:
        ValueError: a file is not a whole TFRecord file.
    """
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    out = []
    names = (
        sorted(n for n in fs.listdir(path) if n.startswith(_PREFIX) and n.endswith(_SUFFIX)) if fs.isdir(path) else []
    )
    for name in names:
        file = fs.join(path, name)
        for record in _file_records(file):
            log = prediction_log_pb2.PredictionLog.FromString(record)
            meta = log.log_metadata
            kind = log.WhichOneof("log_type")
            if kind == "predict_log":
                request, inputs = log.predict_log.request, None
                inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
                outputs: Any = {k: tf.make_ndarray(v) for k, v in log.predict_log.response.outputs.items()}
            else:
                sub = getattr(log, kind)
                request = sub.request
                examples = request.input.example_list.examples
                inputs, outputs = list(examples), sub.response.result
            out.append(
                LoggedRequest(
                    request_id=meta.request_origin,
                    model=meta.model_spec.name,
                    version=meta.model_spec.version.value,
                    label=request.model_spec.version_label,
                    signature=meta.model_spec.signature_name,
                    time=meta.timestamp_secs,
                    api=kind.removesuffix("_log"),
                    inputs=inputs,
                    outputs=outputs,
                    log=log,
                )
            )
    return out


def build_log(meta: LogMeta, api: str, request: Any, response: Any) -> bytes:
    """The serialized PredictionLog of one request/response pair (protos of ``api``'s kind)."""
    from tensorflow_serving.apis import prediction_log_pb2

    log = prediction_log_pb2.PredictionLog()
    m = log.log_metadata
    m.model_spec.name = meta.model
    m.model_spec.version.value = meta.version
    m.model_spec.signature_name = meta.signature
    m.timestamp_secs = int(meta.time)
    m.request_origin = meta.request_id
    sub = getattr(log, f"{api}_log")
    sub.request.CopyFrom(request)
    sub.request.model_spec.name = meta.model
    sub.request.model_spec.signature_name = meta.signature
    if meta.label:
        sub.request.model_spec.version_label = meta.label
    sub.response.CopyFrom(response)
    return log.SerializeToString()


class RequestLog:
    """Sampled, size-bounded, rotated request log in ``path``; never blocks or fails a request."""

    def __init__(
        self,
        path: str,
        sampling_rate: float = 1.0,
        max_mb: float = 100.0,
        count: Callable[[str, int], None] | None = None,
        flush_seconds: float = 5.0,
        queue_size: int = 10_000,
    ) -> None:
        self.path = path
        self.sampling_rate = sampling_rate
        self.max_bytes = int(max_mb * 1024 * 1024)
        self.file_bytes = max(64 * 1024, self.max_bytes // 10)  # rotation: about ten files in the folder
        self.flush_seconds = flush_seconds
        self._count = count or (lambda outcome, n: None)
        self._queue: queue.Queue[Callable[[], bytes] | None] = queue.Queue(queue_size)
        self._files: list[tuple[str, int]] = []
        self._seq = 0
        self._warned = False
        self._thread = threading.Thread(target=self._run, name="request-log", daemon=True)
        self._thread.start()

    def sampled(self) -> bool:
        return self.sampling_rate >= 1.0 or random.random() < self.sampling_rate

    def submit(self, build: Callable[[], bytes]) -> None:
        """Queue one record (``build`` runs on the writer thread); a full queue drops it."""
        try:
            self._queue.put_nowait(build)
        except queue.Full:
            self._count("dropped", 1)

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, then stop."""
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            fs.makedirs(self.path)
            names = [n for n in fs.listdir(self.path) if n.startswith(_PREFIX) and n.endswith(_SUFFIX)]
            self._files = [(n, fs.size(fs.join(self.path, n))) for n in sorted(names)]
        except OSError as exc:
            self._warn(f"cannot open the request log folder {self.path}: {exc}")
        buffer, records, since = bytearray(), 0, 0.0
        while True:
            wait = self.flush_seconds - (time.monotonic() - since) if records else None
            try:
                build = self._queue.get(timeout=max(wait, 0.0) if wait is not None else None)
            except queue.Empty:
                build = ...  # the flush interval passed
            if build is None or build is ...:
                if records:
                    self._flush(bytes(buffer), records)
                    buffer, records = bytearray(), 0
                if build is None:
                    return
                continue
            try:
                data = frame(build())
            except Exception as exc:  # noqa: BLE001 - a record that cannot be built is dropped, not fatal
                self._warn(f"a request-log record could not be built: {exc}")
                self._count("dropped", 1)
                continue
            if not records:
                since = time.monotonic()
            buffer += data
            records += 1
            if len(buffer) >= self.file_bytes:
                self._flush(bytes(buffer), records)
                buffer, records = bytearray(), 0

    def _flush(self, data: bytes, records: int) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        self._seq += 1
        name = f"{_PREFIX}{stamp}-{os.getpid()}-{self._seq:06d}{_SUFFIX}"
        try:
            fs.write_bytes(fs.join(self.path, name), data)
        except OSError as exc:
            self._warn(f"request log: cannot write {fs.join(self.path, name)} ({exc}); records dropped")
            self._count("dropped", records)
            return
        self._count("written", records)
        self._files.append((name, len(data)))
        while len(self._files) > 1 and sum(size for _, size in self._files) > self.max_bytes:
            oldest, _ = self._files.pop(0)
            try:
                fs.remove(fs.join(self.path, oldest))
            except OSError as exc:
                self._warn(f"request log: cannot delete {oldest} ({exc})")

    def _warn(self, message: str) -> None:
        if not self._warned:  # once: a full disk must not flood the console
            print(f"warning: {message}", file=sys.stderr, flush=True)
            self._warned = True
