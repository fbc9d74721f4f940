"""Feature spec -> model inputs, and the config -> custom_config mapping (no TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.baseline import previous_blessed
from components.spec import FeatureSpec, ModelInput
from pipelines.config import load_config

REPO = Path(__file__).resolve().parents[2]


def spec(features: dict) -> FeatureSpec:
    return FeatureSpec.from_config({"label": "y", "task": "binary", "features": features})


def test_model_inputs_per_transform() -> None:
    inputs = spec({
        "a": {"transform": "zscore"},
        "b": {"transform": "log"},
        "c": {"transform": "bucketize", "num_buckets": 5, "embedding_dim": 3},
        "d": {"transform": "vocabulary", "top_k": 10, "oov_buckets": 1, "embedding_dim": None},
        "e": {"transform": "hash", "hash_buckets": 32, "embedding_dim": None},
        "f": {"transform": "timestamp", "parts": ["hour", "day_of_week", "month"], "embedding_dim": 2},
        "g": {"transform": "drop"},
        "h": {"transform": "minmax"},
    }).model_inputs()
    assert inputs == [
        ModelInput("a", "numeric"),
        ModelInput("b", "numeric"),
        ModelInput("c", "categorical", 5, 3),
        ModelInput("d", "categorical", None, None),
        ModelInput("e", "categorical", 32, None),
        ModelInput("f_hour", "categorical", 24, 2),
        ModelInput("f_day_of_week", "categorical", 7, 2),
        ModelInput("f_month", "categorical", 12, 2),
        ModelInput("h", "numeric"),
    ]


def test_unknown_transform_is_rejected() -> None:
    with pytest.raises(ValueError, match="feature 'a': unknown transform 'sqrt'"):
        spec({"a": {"transform": "sqrt"}}).model_inputs()


def test_custom_config_from_the_example_config(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    (data / "x.csv").write_text((REPO / "tests" / "unit" / "ad_click_header.csv").read_text())
    cfg = load_config(REPO / "configs" / "ad_click.yaml", [f"data.source={data}"])
    t = cfg.transform_spec()
    assert set(t) == {"label", "task", "positive", "classes", "features"}  # trainer settings never reach Transform's cache key
    assert t["label"] == "clicked_on_ad"
    assert t["features"]["city"] == {"transform": "hash", "hash_buckets": 128, "embedding_dim": 4}
    full = cfg.trainer_spec()
    assert full["trainer"]["train_steps"] == 1500 and full["model"]["type"] == "wide_and_deep"
    names = [m.name for m in FeatureSpec.from_config(full).model_inputs()]
    assert "timestamp_hour" in names and "clicked_on_ad" not in names


class _Artifact:
    def __init__(self, id_: int, **props: int) -> None:
        self.id = id_
        self._props = props

    def get_int_custom_property(self, key: str) -> int:
        return self._props.get(key, 0)


def blessing(id_: int, model_id: int, blessed: bool) -> _Artifact:
    return _Artifact(id_, current_model_id=model_id, blessed=int(blessed))


def test_baseline_is_newest_blessed_model_older_than_candidate() -> None:
    models = [_Artifact(1), _Artifact(5), _Artifact(9)]
    blessings = [blessing(2, 1, True), blessing(6, 5, False), blessing(10, 9, True)]
    # Candidate 9 was blessed before (a cached rerun): the baseline stays model 1, not 9 itself.
    assert previous_blessed([9], models, blessings)[0].id == 1
    # A new candidate 12: the newest blessed model is 9.
    assert previous_blessed([12], models, blessings)[0].id == 9
    # First run: nothing older is blessed.
    assert previous_blessed([1], models, blessings) is None
    assert previous_blessed([3], [], []) is None
