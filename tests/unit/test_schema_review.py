"""The schema tools read data as a run does (pipelines.data.schema_review), and their exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

import pipelines.schema as schema_cli
from pipelines.errors import ConfigError, PipelineRunError, PreflightError


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        (0, 0),
        (1, 1),  # diff --exit-code: differences found
        (ConfigError("schema.path: bad"), 2),
        (PreflightError([]), 3),
        (PipelineRunError("beam failed"), 5),  # a failure never exits 1, the "differences" code
        (RuntimeError("a bug"), 5),
    ],
)
def test_a_crash_never_shares_the_differences_exit_code(
    outcome: object, code: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def main(argv: list[str] | None = None) -> int:
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(schema_cli, "main", main)
    assert schema_cli.run([]) == code


@pytest.mark.slow
def test_statistics_type_columns_as_examplegen_does(tmp_path: Path) -> None:
    """A BOM, quoted newlines, NA tokens in an int column and blank lines: TFDV's own CSV reader
    crashed or typed such a column BYTES; read through ExampleGen's conversion it is INT."""
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import schema_pb2

    from pipelines.data.schema_review import csv_statistics

    path = tmp_path / "t.csv"
    path.write_bytes(b'\xef\xbb\xbfn,x,note\r\n1,0.5,"a,\r\nb"\r\n\r\nNA,1.5,c\r\n3,N/A,"d ""q"""\r\n\r\n')
    stats = csv_statistics([str(path)])
    dataset = stats.datasets[0]
    assert dataset.num_examples == 3
    types = {f.path.step[0]: f.type for f in dataset.features}
    assert types == {"n": 0, "x": 1, "note": 2}  # INT, FLOAT, STRING in FeatureNameStatistics.Type
    schema = schema_pb2.Schema()
    schema.feature.add(name="n", type=schema_pb2.INT).value_count.max = 1
    schema.feature.add(name="x", type=schema_pb2.FLOAT).value_count.max = 1
    schema.feature.add(name="note", type=schema_pb2.BYTES)
    anomalies = tfdv.validate_statistics(stats, schema)
    assert dict(anomalies.anomaly_info) == {}
