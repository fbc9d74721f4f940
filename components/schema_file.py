"""Curated TFDV schemas on disk: read and written as ``schema_pb2.Schema`` in text format.

Protobuf only (no TensorFlow), so the config checks, preflight and the scaffold can use it.

Example:
    >>> schema = read_schema("schemas/ad_click/schema.pbtxt")
    >>> feature_names(schema)[:2]
    ['daily_time_spent_on_site', 'age']
"""

from __future__ import annotations

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from components import filesystem as fs

__all__ = ["SchemaFileError", "feature_names", "find_feature", "read_schema", "write_schema"]


class SchemaFileError(ValueError):
    """The file is not a text-format TFDV schema; the message names the file and the parse error."""


def read_schema(path: str) -> schema_pb2.Schema:
    """Parse a text-format ``schema.pbtxt``.

    Raises:
        FileNotFoundError: no file at ``path``.
        SchemaFileError: the file is not a valid text-format Schema (line and column named).
    """
    text = fs.read_text(path)
    try:
        return text_format.Parse(text, schema_pb2.Schema())
    except text_format.ParseError as exc:
        raise SchemaFileError(f"{path} is not a TFDV schema in text format: {exc}") from exc


def write_schema(schema: schema_pb2.Schema, path: str, header: str = "") -> None:
    """Write ``schema`` as text format, atomically; ``header`` lines are written as ``#`` comments first."""
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    fs.write_text(path, comments + text_format.MessageToString(schema))


def feature_names(schema: schema_pb2.Schema) -> list[str]:
    """Top-level feature names, in schema order."""
    return [f.name for f in schema.feature]


def find_feature(schema: schema_pb2.Schema, name: str) -> schema_pb2.Feature | None:
    """The top-level feature ``name``, or None."""
    return next((f for f in schema.feature if f.name == name), None)
