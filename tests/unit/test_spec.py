"""Feature spec -> model inputs, the transform registry, and the config -> custom_config mapping (no TensorFlow)."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from components import transforms
from components.baseline import previous_blessed
from components.spec import FeatureSpec, ModelInput
from pipelines.config import TRANSFORMS, load_config
from pipelines.config.features import Feature

REPO = Path(__file__).resolve().parents[2]


def spec(features: dict) -> FeatureSpec:
    return FeatureSpec.from_config({"label": "y", "task": "binary", "features": features})


def test_model_inputs_per_transform() -> None:
    inputs = spec(
        {
            "a": {"transform": "zscore"},
            "b": {"transform": "log"},
            "c": {"transform": "bucketize", "num_buckets": 5, "embedding_dim": 3},
            "d": {"transform": "vocabulary", "top_k": 10, "oov_buckets": 1, "embedding_dim": None},
            "e": {"transform": "hash", "hash_buckets": 32, "embedding_dim": None},
            "f": {"transform": "timestamp", "parts": ["hour", "day_of_week", "month"], "embedding_dim": 2},
            "g": {"transform": "drop"},
            "h": {"transform": "minmax"},
            "i": {"transform": "text", "top_k": 100, "oov_buckets": 2, "embedding_dim": 4, "max_tokens": 16},
        }
    ).model_inputs()
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
        ModelInput("i", "tokens", 100 + 2 + 1, 4, length=16),  # + 1: id 0 pads
    ]


def test_unknown_transform_is_rejected() -> None:
    with pytest.raises(ValueError, match="feature 'a': unknown transform 'sqrt'"):
        spec({"a": {"transform": "sqrt"}}).model_inputs()


def test_unknown_transform_message_lists_the_allowed_ones() -> None:
    with pytest.raises(
        transforms.UnknownTransformError,
        match=r"feature 'a': unknown transform 'sqrt'; allowed: zscore, minmax, log, passthrough, "
        r"bucketize, vocabulary, hash, timestamp, text, image, drop$",
    ):
        spec({"a": {"transform": "sqrt"}}).model_inputs()
    with pytest.raises(ValueError, match="feature 'a': has no 'transform'"):
        spec({"a": {"top_k": 3}}).model_inputs()


def _union_members() -> list[type]:
    union = typing.get_args(Feature)[0]
    return list(typing.get_args(union))


def _sample(t: transforms.Transform) -> dict:
    """The transform's config, every required key set (ints to 16), embedding_dim 3; through the config's union."""
    fields = t.config.model_fields
    values = {n: 16 for n, fld in fields.items() if fld.is_required() and n != "transform"}
    assert all(fields[n].annotation in (int, "int") for n in values), f"{t.name}: give its required keys a sample value"
    if "embedding_dim" in fields:
        values["embedding_dim"] = 3
    return TypeAdapter(Feature).validate_python({"transform": t.name, **values}).model_dump()


def test_registry_config_union_and_model_inputs_agree() -> None:
    assert TRANSFORMS == transforms.TRANSFORM_NAMES == tuple(transforms.REGISTRY)
    assert _union_members() == [t.config for t in transforms.REGISTRY.values()]
    for name, t in transforms.REGISTRY.items():
        assert t.name == name
        assert typing.get_args(t.config.model_fields["transform"].annotation) == (name,)
        f = _sample(t)
        assert type(TypeAdapter(Feature).validate_python(f)) is t.config  # the dump round-trips to the same model
        inputs = FeatureSpec.from_config({"label": "y", "task": "binary", "features": {"x": f}}).model_inputs()
        assert inputs == t.model_inputs("x", f)
        assert [(m.name, m.cardinality) for m in inputs] == t.outputs("x", f)
        if t.kind == "drop":
            assert (inputs, t.apply, t.column, t.served) == ([], None, None, False)
            continue
        assert t.served and t.apply is not None and t.column in ("numeric", "string")
        assert inputs and {m.kind for m in inputs} == {t.kind}
        if t.kind == "numeric":
            assert t.column == "numeric" and all(m.cardinality is None and m.embedding_dim is None for m in inputs)
        elif t.kind == "image":  # [B, height*width*channels] pixels: no ids, no embedding
            assert all(m.length == 32 * 32 * 3 and m.embedding_dim is None for m in inputs)
        else:
            assert all(m.embedding_dim == 3 for m in inputs), f"{name}: categorical inputs take embedding_dim"


def test_served_features_leave_out_dropped_ones() -> None:
    s = spec({"b": {"transform": "drop"}, "a": {"transform": "zscore"}, "c": {"transform": "hash", "hash_buckets": 4}})
    assert s.served_features() == ["a", "c"]


def test_custom_config_from_the_example_config(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    (data / "x.csv").write_text((REPO / "tests" / "unit" / "ad_click_header.csv").read_text())
    cfg = load_config(REPO / "configs" / "ad_click.yaml", [f"data.source={data}"])
    t = cfg.transform_spec()
    # Trainer settings never reach Transform's cache key.
    assert set(t) == {"label", "task", "positive", "classes", "features"}
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


def test_text_config_defaults_and_bounds() -> None:
    from pydantic import TypeAdapter, ValidationError

    from pipelines.config.features import Feature

    text = TypeAdapter(Feature).validate_python({"transform": "text"}).model_dump()
    assert text == {"transform": "text", "top_k": 10_000, "oov_buckets": 1, "embedding_dim": None, "max_tokens": 32}
    for bad in ({"top_k": 0}, {"max_tokens": 0}, {"hash_buckets": 64}):
        with pytest.raises(ValidationError):
            TypeAdapter(Feature).validate_python({"transform": "text", **bad})
