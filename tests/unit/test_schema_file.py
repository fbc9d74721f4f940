"""components.schema_file: TFDV schemas read and written as protos (schema_pb2 + text_format), never by regex."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from components.schema_file import SchemaFileError, feature_names, find_feature, read_schema, write_schema

REPO = Path(__file__).resolve().parents[2]

# Valid text format in which `name:` is neither the first field of a feature block nor on its own line.
NAME_NOT_FIRST = """\
# a comment before anything
default_environment: "TRAINING"
feature {
  type: INT
  int_domain { min: 0 max: 120 }
  name: "age"
}
feature { presence { min_fraction: 1.0 } type: BYTES name: "city" }
feature {
  value_count { min: 1 max: 1 }
  type: FLOAT

  # a comment between fields
  name: 'income'
}
"""


def _schema() -> schema_pb2.Schema:
    schema = schema_pb2.Schema()
    schema.default_environment.extend(["TRAINING", "SERVING"])
    age = schema.feature.add(name="age", type=schema_pb2.INT)
    age.int_domain.min, age.int_domain.max = 0, 120
    age.presence.min_fraction = 1.0
    city = schema.feature.add(name="city", type=schema_pb2.BYTES, domain="city")
    city.not_in_environment.append("SERVING")
    schema.string_domain.add(name="city", value=["Oslo", "Lima", 'with "quotes" and \\ backslash'])
    schema.feature.add(name="income", type=schema_pb2.FLOAT).float_domain.min = 0.5
    return schema


def test_write_then_read_round_trips_and_keeps_the_header(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "schema.pbtxt"
    schema = _schema()
    write_schema(schema, str(path), header="Curated schema.\n\nReviewed like code.")
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[:3] == ["# Curated schema.", "#", "# Reviewed like code."]
    assert read_schema(str(path)) == schema
    assert [p.name for p in path.parent.iterdir()] == ["schema.pbtxt"]  # atomic write left no temp file


def test_write_without_header_is_plain_text_format(tmp_path: Path) -> None:
    path = tmp_path / "schema.pbtxt"
    write_schema(_schema(), str(path))
    text = path.read_text(encoding="utf-8")
    assert not text.startswith("#")
    assert text_format.Parse(text, schema_pb2.Schema()) == _schema()


def test_feature_names_do_not_depend_on_field_order_or_layout(tmp_path: Path) -> None:
    path = tmp_path / "schema.pbtxt"
    path.write_text(NAME_NOT_FIRST, encoding="utf-8")
    schema = read_schema(str(path))
    assert feature_names(schema) == ["age", "city", "income"]
    age = find_feature(schema, "age")
    assert age is not None and age.type == schema_pb2.INT and age.int_domain.max == 120
    city = find_feature(schema, "city")
    assert city is not None and city.type == schema_pb2.BYTES
    assert find_feature(schema, "nope") is None


def test_the_curated_schema_reads_and_round_trips(tmp_path: Path) -> None:
    schema = read_schema(str(REPO / "schemas" / "ad_click" / "schema.pbtxt"))
    names = feature_names(schema)
    assert len(names) == 10 and len(set(names)) == 10
    assert {"age", "daily_time_spent_on_site"} <= set(names)
    copy = tmp_path / "schema.pbtxt"
    write_schema(schema, str(copy))
    assert read_schema(str(copy)) == schema


@pytest.mark.parametrize(
    "text",
    [
        'feature { name: "age" type: INTEGER }\n',  # not an enum value
        'feature { name: "age" type: INT\n',  # unclosed block
        'features { name: "age" }\n',  # no such field
        "name,age\n1,2\n",  # a CSV saved under the wrong name
    ],
)
def test_a_broken_file_is_a_schema_file_error_naming_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "broken" / "schema.pbtxt"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaFileError, match=re.escape(str(path))) as info:
        read_schema(str(path))
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value.__cause__, text_format.ParseError)  # raise ... from exc keeps the cause
    assert "\n" not in str(info.value)  # one line for the CLI


def test_a_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_schema(str(tmp_path / "absent.pbtxt"))
