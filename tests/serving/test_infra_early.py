"""The infra check started early: the Evaluator hands the candidate to the prewarmed checker and the
Pusher's check collects that verdict (issue 17; components/infra_check.py, components/evaluator.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.serving.toy_model import ROW, example_features

pytestmark = pytest.mark.slow

ROWS = [ROW, {**ROW, "age": 52, "male": 1, "city": "Lake Annashire"}, {**ROW, "daily_time_spent_on_site": 41.0}]


def _examples(tmp_path: Path, rows: list[dict[str, Any]]) -> Any:
    """An ExampleGen ``Examples`` artifact whose eval split holds ``rows`` as gzipped tf.Examples."""
    import tensorflow as tf
    from tfx.types.standard_artifacts import Examples

    split = tmp_path / "examples" / "Split-eval"
    split.mkdir(parents=True)
    with tf.io.TFRecordWriter(str(split / "data.gz"), options="GZIP") as writer:
        for row in rows:
            example = tf.train.Example(features=tf.train.Features(feature=example_features(row)))
            writer.write(example.SerializeToString())
    artifact = Examples()
    artifact.uri = str(tmp_path / "examples")
    artifact.split_names = '["eval"]'
    return artifact


def test_the_pusher_collects_the_check_the_evaluator_started(tmp_path: Path, toy_models: dict[float, str]) -> None:
    from tfx.types.standard_artifacts import Model

    from components import infra_check
    from components.evaluator import start_infra_check
    from components.pusher import INFRA_ROWS, infra_rows

    examples = _examples(tmp_path, ROWS * 4)
    model = Model()
    model.uri = toy_models[1.0]
    assert not start_infra_check([model], [examples])  # no prewarmed checker (another engine): nothing started
    infra_check.prewarm()
    assert start_infra_check([model], [examples])
    pending = infra_check._pending
    assert pending is not None and infra_check._warm is None

    rows = infra_rows(toy_models[1.0], [examples], 10)  # what the Pusher reads with warmup_requests: 10
    verdict = infra_check.check_model(toy_models[1.0], rows[:INFRA_ROWS], timeout_s=120)
    assert verdict.ok and f"answered {INFRA_ROWS} rows" in verdict.reason, verdict.reason
    assert pending.child.proc.returncode == 0  # the early child answered; none was started after it
    assert infra_check._pending is None and not os.path.exists(pending.tmp)


def test_an_early_check_nobody_collects_is_stopped(toy_models: dict[float, str]) -> None:
    from components import infra_check

    infra_check.prewarm()
    assert infra_check.start_check(toy_models[1.0], ROWS)
    other = infra_check._pending
    assert other is not None
    assert infra_check._take_pending(toy_models[2.0], ROWS) is None  # another model: that check is stopped
    assert other.child.proc.returncode is not None and not os.path.exists(other.tmp)

    infra_check.prewarm()
    assert infra_check.start_check(toy_models[1.0], ROWS)
    unused = infra_check._pending
    infra_check.discard_warm()  # the run ended without a Pusher check (model not blessed)
    assert unused is not None and unused.child.proc.returncode is not None and infra_check._pending is None


def test_the_evaluators_rows_are_a_prefix_of_the_pushers_when_usable_rows_are_sparse(
    tmp_path: Path, toy_models: dict[float, str]
) -> None:
    """Rows missing a column are skipped; however far apart the usable ones are, both limits scan the
    same records, so the early check's rows are the first of the Pusher's and its verdict is used."""
    from components.pusher import INFRA_ROWS, infra_rows

    partial = {k: v for k, v in ROW.items() if k != "age"}
    rows = [ROW] * 5 + [partial] * 415 + [ROWS[1]] * 5  # usable: 0-4, then 420-424
    examples = _examples(tmp_path, rows)
    early = infra_rows(toy_models[1.0], [examples], INFRA_ROWS)
    assert len(early) == INFRA_ROWS
    assert infra_rows(toy_models[1.0], [examples], 10)[:INFRA_ROWS] == early
