"""CSV -> serialized ``tf.Example`` with Arrow: the fast path of ``components.csv_example_gen``.

A file is read by pyarrow's CSV reader into record batches of strings (every column read as text, so
nothing is decided by Arrow's own type inference), and each column is then classified and converted
with vectorised compute, by exactly the rules of the Python path (``components.csv_cells`` and tfx_bsl's
``ColumnTypeInferrer``):

- a cell is missing when, stripped of Python's whitespace, it is one of ``NA_TOKENS``;
- a cell is an int, a float or a string by Python's ``int()`` then ``float()`` on its bytes. The plain
  forms (``-12``, ``0.5``, ``1e3``, ``.5``) are classified and converted by Arrow; any other cell
  (``+5``, `` 7``, ``1_000``, ``inf``, 19+ digits) goes through tfx_bsl's own rule, cell by cell.

Examples are serialized here, column by column with numpy, into the bytes protobuf's deterministic
serialization gives (features sorted by name): TFX's ExampleGen hashes those bytes to pick each
example's split, so the train/eval split stays the same as the Python path's. tfx-bsl's C++ encoder
(``RecordBatchToExamples``) writes the same messages with the features in hash order, which would move
examples between splits.

A file the reader cannot take exactly as Python's ``csv`` module does (a NUL byte, a field over
``csv.field_size_limit()``, a header Arrow reads differently, a parse error) is reported by
:func:`scan_file` as not fast, and ``components.csv_example_gen`` reads it with the Python path, which
also raises the same error messages as before.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from components import filesystem as fs
from components.csv_cells import NA_TOKENS, open_csv

__all__ = [
    "FLOAT",
    "INT",
    "STRING",
    "UNKNOWN",
    "FileScan",
    "column_kind",
    "encode_batch",
    "file_batches",
    "raw_header",
    "scan_file",
]

# tfx_bsl's ColumnType values: UNKNOWN (all missing) < INT < FLOAT < STRING.
UNKNOWN, INT, FLOAT, STRING = -1, 0, 1, 2
# The characters Python's str.strip() removes (str.isspace()); Arrow's utf8_trim_whitespace misses \x1c-\x1f.
PY_WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
PY_WHITESPACE += "\u2028\u2029\u202f\u205f\u3000"
# Cells Arrow parses to the value Python's int()/float() gives; anything else goes through Python.
PLAIN_INT = r"^-?[0-9]{1,18}$"
PLAIN_FLOAT = r"^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
DIGITS = r"^-?[0-9]+$"
BLOCK_SIZE = 8 << 20
_NA = pa.array(sorted(NA_TOKENS), pa.string())

FileScan = tuple[str, list[int], bool]  # (path, column kinds, read with Arrow)


def raw_header(path: str) -> list[str]:
    """The header as Python's ``csv`` reads it: BOM removed, names not stripped (Arrow's names)."""
    with open_csv(path) as fh:
        for row in csv.reader(fh):
            if row:
                return [row[0].removeprefix("\ufeff"), *row[1:]]
    return []


def _has_nul(path: str) -> bool:
    with fs.open_file(path, "rb") as fh:
        while chunk := fh.read(16 << 20):
            if b"\x00" in chunk:
                return True
    return False


def file_batches(path: str, raw_names: list[str]) -> Iterator[pa.RecordBatch]:
    """The data rows of ``path`` as record batches of strings (columns as in the file).

    Raises:
        pyarrow.ArrowInvalid: the file is not valid CSV or UTF-8 for Arrow, or a row has another number of fields.
    """
    read = pcsv.ReadOptions(block_size=BLOCK_SIZE, use_threads=True)
    parse = pcsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=True)
    convert = pcsv.ConvertOptions(
        column_types={n: pa.string() for n in raw_names},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        null_values=[],
        check_utf8=True,
    )
    with fs.open_file(path, "rb") as fh:
        reader = pcsv.open_csv(fh, read_options=read, parse_options=parse, convert_options=convert)
        if reader.schema.names != raw_names:
            raise pa.ArrowInvalid(f"{path}: Arrow reads the header as {reader.schema.names}")
        yield from reader


def _present(col: pa.Array) -> pa.Array:
    return pc.invert(pc.is_in(pc.utf8_trim(col, characters=PY_WHITESPACE), value_set=_NA))


def _python_kind(cell: str) -> int:
    from tfx_bsl.coders.csv_decoder import _InferValueType  # the Python path's rule, for the odd cells

    return int(_InferValueType(cell.encode("utf-8")).value)


def column_kind(col: pa.Array) -> int:
    """tfx_bsl's type of one column of strings: ``UNKNOWN``, ``INT``, ``FLOAT`` or ``STRING``."""
    values = col.filter(_present(col))
    if len(values) == 0:
        return UNKNOWN
    plain_int = pc.match_substring_regex(values, PLAIN_INT)
    if pc.all(plain_int).as_py():
        return INT
    rest = values.filter(pc.invert(plain_int))
    # a long run of digits is an int or a string by int64's range: Python's rule decides it
    plain_float = pc.and_(
        pc.match_substring_regex(rest, PLAIN_FLOAT), pc.invert(pc.match_substring_regex(rest, DIGITS))
    )
    kind = FLOAT if pc.any(plain_float).as_py() else INT
    for cell in pc.unique(rest.filter(pc.invert(plain_float))).to_pylist():
        kind = max(kind, _python_kind(cell))
        if kind == STRING:
            break
    return kind


def scan_file(path: str, ncolumns: int) -> FileScan:
    """``(path, kinds, fast)``: the column kinds of one file; ``fast`` is False when Arrow cannot read it
    exactly as the Python path does (kinds are then ``[]`` and the caller scans it with Python)."""
    names = raw_header(path)
    if len(names) != ncolumns or len(set(names)) != len(names) or not names or _has_nul(path):
        return path, [], False
    kinds = [UNKNOWN] * ncolumns
    limit = csv.field_size_limit()
    try:
        for batch in file_batches(path, names):
            for i, col in enumerate(batch.columns):
                if kinds[i] != STRING:
                    kinds[i] = max(kinds[i], column_kind(col))
                if len(col) and pc.max(pc.binary_length(col)).as_py() > limit:
                    return path, [], False
    except (pa.ArrowInvalid, UnicodeDecodeError, csv.Error):
        return path, [], False
    return path, kinds, True


def _varints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Protobuf varints of uint64 ``values``: a (n, width) byte matrix and each varint's length."""
    x = values.astype(np.uint64)
    n = len(x)
    out, lens = np.zeros((n, 10), np.uint8), np.ones(n, np.int64)
    for k in range(10):
        low = (x & np.uint64(0x7F)).astype(np.uint8)
        x = x >> np.uint64(7)
        more = x != 0
        out[:, k] = low | (more.astype(np.uint8) << 7)
        if not more.any():
            return out[:, : k + 1], lens
        lens += more
    return out, lens


def _const(data: bytes, n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.tile(np.frombuffer(data, np.uint8), (n, 1)), np.full(n, len(data), np.int64)


def _pack(pieces: list[tuple[np.ndarray, np.ndarray]]) -> tuple[pa.Array, np.ndarray]:
    """Per row, the first ``len`` bytes of each piece's row, concatenated: a binary array and its lengths."""
    matrix = np.hstack([m for m, _ in pieces])
    mask = np.hstack([np.arange(m.shape[1])[None, :] < lens[:, None] for m, lens in pieces])
    lengths = np.sum([lens for _, lens in pieces], axis=0)
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    data = matrix[mask]
    return pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(lengths), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    ), lengths


def _pick(present: np.ndarray, value: tuple[np.ndarray, np.ndarray], missing: bytes) -> tuple[np.ndarray, np.ndarray]:
    matrix, lens = value
    absent, absent_len = _const(missing, len(lens))
    width = max(matrix.shape[1], absent.shape[1])
    out = np.zeros((len(lens), width), np.uint8)
    out[:, : matrix.shape[1]] = matrix
    out[~present, : absent.shape[1]] = absent[~present]
    return out, np.where(present, lens, absent_len)


def _numbers(col: pa.Array, present: np.ndarray, kind: int) -> np.ndarray:
    """The values of a numeric column (int64 or float64; 0 where missing), odd cells by Python's rule."""
    dtype, plain, convert = (np.int64, PLAIN_INT, int) if kind == INT else (np.float64, PLAIN_FLOAT, float)
    out = np.zeros(len(col), dtype)
    is_plain = pc.fill_null(pc.match_substring_regex(col, plain), False).to_numpy(zero_copy_only=False)
    if kind == FLOAT:
        is_plain &= np.asarray(pc.utf8_length(col).to_numpy(zero_copy_only=False)) < 400
    fast = present & is_plain
    out[fast] = pc.cast(col.filter(pa.array(fast)), pa.int64() if kind == INT else pa.float64()).to_numpy()
    for i in np.flatnonzero(present & ~is_plain):
        out[i] = convert(col[i].as_py().encode("utf-8"))
    return out


def _feature(col: pa.Array, kind: int) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray], pa.Array | None]:
    """One column's ``Feature`` messages: their lengths, the bytes before the payload, the payload (strings)."""
    n = len(col)
    if kind == UNKNOWN:
        return np.zeros(n, np.int64), (np.zeros((n, 0), np.uint8), np.zeros(n, np.int64)), None
    present = _present(col).to_numpy(zero_copy_only=False)
    if kind == INT:
        v, vlen = _varints(_numbers(col, present, kind).view(np.uint64))
        head = _pick(
            present,
            _pack_matrix(
                [
                    _const(b"\x1a", n),
                    (vlen[:, None] + 2, _ones(n)),
                    _const(b"\x0a", n),
                    (vlen[:, None], _ones(n)),
                    (v, vlen),
                ]
            ),
            b"\x1a\x00",
        )
        return head[1], head, None
    if kind == FLOAT:
        f = _numbers(col, present, kind).astype(np.float32).view(np.uint8).reshape(n, 4)
        head = _pick(present, _pack_matrix([_const(b"\x12\x06\x0a\x04", n), (f, np.full(n, 4))]), b"\x12\x00")
        return head[1], head, None
    payload = pc.if_else(pa.array(present), col, "").cast(pa.large_binary())
    slen = pc.binary_length(payload).to_numpy().astype(np.int64)
    s_var, s_varlen = _varints(slen)
    blen = 1 + s_varlen + slen
    b_var, b_varlen = _varints(blen)
    head = _pick(
        present,
        _pack_matrix([_const(b"\x0a", n), (b_var, b_varlen), _const(b"\x0a", n), (s_var, s_varlen)]),
        b"\x0a\x00",
    )
    return np.where(present, 1 + b_varlen + blen, 2), head, payload


def _ones(n: int) -> np.ndarray:
    return np.ones(n, np.int64)


def _pack_matrix(pieces: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`_pack` but to a left-aligned (n, width) byte matrix and lengths."""
    n = len(pieces[0][1])
    width = sum(m.shape[1] for m, _ in pieces)
    out = np.zeros((n, width), np.uint8)
    pos = np.zeros(n, np.int64)
    rows = np.arange(n)
    for matrix, lens in pieces:
        matrix = matrix.astype(np.uint8)
        for j in range(matrix.shape[1]):
            take = lens > j
            out[rows[take], pos[take] + j] = matrix[take, j]
        pos += lens
    return out, pos


def _varint(value: int) -> bytes:
    matrix, lens = _varints(np.array([value]))
    return matrix[0, : lens[0]].tobytes()


def encode_batch(batch: pa.RecordBatch, names: list[str], kinds: list[int]) -> pa.Array:
    """Serialized ``tf.Example``s of a batch of strings (columns as ``names``, typed by ``kinds``), each
    byte-for-byte ``Example.SerializeToString(deterministic=True)`` of the Python path's example.

    Example = field 1 (Features) = map entries sorted by key, each entry = key (1) + Feature (2).
    """
    n = batch.num_rows
    pieces: list[pa.Array] = []
    row_len = np.zeros(n, np.int64)
    for i in sorted(range(len(names)), key=lambda i: names[i].encode("utf-8")):
        key = names[i].encode("utf-8")
        flen, head, payload = _feature(batch.column(i), kinds[i])
        entry_key = b"\x0a" + _varint(len(key)) + key + b"\x12"
        f_var, f_varlen = _varints(flen)
        elen = len(entry_key) + f_varlen + flen
        e_var, e_varlen = _varints(elen)
        prefix, _ = _pack([_const(b"\x0a", n), (e_var, e_varlen), _const(entry_key, n), (f_var, f_varlen), head])
        pieces.append(prefix)
        if payload is not None:
            pieces.append(payload)
        row_len += 1 + e_varlen + elen
    r_var, r_varlen = _varints(row_len)
    outer, _ = _pack([_const(b"\x0a", n), (r_var, r_varlen)])
    return pc.binary_join_element_wise(outer, *pieces, pa.scalar(b"", pa.large_binary()))
