"""Labels and traffic shares (components/serving_config.py, serving_versions.py): every push, rollback,
canary and promote keeps the labels it does not change; checked on the models.config text TF Serving reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from components import serving_config as sc
from components import serving_layout as sl
from components import serving_versions as sv
from tests.unit.test_serving_layout import fake_model


@pytest.fixture
def serving(tmp_path: Path) -> Path:
    """Model ``m`` with versions 1-4, ``stable`` on 2, a custom ``blue`` label on 1; model ``other`` on 7."""
    model = fake_model(tmp_path / "model")
    serving = tmp_path / "serving"
    for v in (1, 2, 3, 4):
        sl.publish_version(model, serving, "m", version=v)
    sl.publish_version(model, serving, "other", version=7)
    sl.write_models_config(serving, pins={"m": 2})
    sc.update_labels(serving, "m", lambda labels, _: sc.Labels({**labels.versions, "blue": 1}))
    return serving


def config(serving: Path) -> dict[str, tuple[list[int], dict[str, int]]]:
    """``{model: (specific versions, labels)}`` parsed from the models.config text."""
    parsed = model_server_config_pb2.ModelServerConfig()
    text_format.Parse((serving / "models.config").read_text(), parsed)
    return {
        m.name: (list(m.model_version_policy.specific.versions), dict(m.version_labels))
        for m in parsed.model_config_list.config
    }


def routing(serving: Path) -> dict:
    path = serving / sc.ROUTING_FILE
    return json.loads(path.read_text()) if path.exists() else {}


OTHER = {"other": ([7], {"stable": 7})}


def test_canary_is_served_beside_stable_with_its_share(serving: Path) -> None:
    assert config(serving) == {"m": ([1, 2], {"blue": 1, "stable": 2}), **OTHER}
    assert sv.set_canary(serving, "m", 0.1) == (4, 2)  # the newest version that is not stable
    assert config(serving) == {"m": ([1, 2, 4], {"blue": 1, "canary": 4, "stable": 2}), **OTHER}
    assert routing(serving) == {"m": {"canary": 0.1}}
    assert sv.set_canary(serving, "m", 0.25, version=3) == (3, 2)  # replaces the canary
    assert config(serving)["m"] == ([1, 2, 3], {"blue": 1, "canary": 3, "stable": 2})
    assert routing(serving) == {"m": {"canary": 0.25}}
    info = {v.version: (v.labels, v.share, v.served) for v in sl.list_versions(serving, "m")}
    assert info == {
        1: (("blue",), 0.0, False),
        2: (("stable",), 0.75, True),
        3: (("canary",), 0.25, False),
        4: ((), 0.0, False),
    }


def test_a_push_keeps_the_canary_unless_it_pins_the_canary_version(serving: Path) -> None:
    sv.set_canary(serving, "m", 0.2, version=3)
    sl.write_models_config(serving, pins={"m": 4})  # what the Pusher does after publishing version 4
    assert config(serving) == {"m": ([1, 3, 4], {"blue": 1, "canary": 3, "stable": 4}), **OTHER}
    assert routing(serving) == {"m": {"canary": 0.2}}
    sl.write_models_config(serving)  # a rewrite without pins (pipelines.serve when the file is missing) keeps all
    assert config(serving)["m"] == ([1, 3, 4], {"blue": 1, "canary": 3, "stable": 4})
    sl.write_models_config(serving, pins={"m": 3})  # stable replaces the canary: one version, one label
    assert config(serving)["m"] == ([1, 3], {"blue": 1, "stable": 3})
    assert routing(serving) == {}


def test_promote_moves_stable_to_the_canary_and_drops_it(serving: Path) -> None:
    sv.set_canary(serving, "m", 0.2, version=4)
    assert sv.promote_canary(serving, "m") == (4, 2)
    assert config(serving) == {"m": ([1, 4], {"blue": 1, "stable": 4}), **OTHER}
    assert routing(serving) == {}
    assert sl.served_version(serving, "m") == 4


def test_remove_canary_and_rollback_keep_the_other_labels(serving: Path) -> None:
    sv.set_canary(serving, "m", 0.2, version=4)
    assert sv.remove_canary(serving, "m") == (4, 2)
    assert config(serving) == {"m": ([1, 2], {"blue": 1, "stable": 2}), **OTHER}
    sv.set_canary(serving, "m", 0.2, version=4)
    assert sl.rollback(serving, "m", to=3) == (3, 2)  # moves stable only
    assert config(serving)["m"] == ([1, 3, 4], {"blue": 1, "canary": 4, "stable": 3})
    assert sl.rollback(serving, "m", to=4) == (4, 3)  # stable onto the canary's version: the canary goes
    assert config(serving)["m"] == ([1, 4], {"blue": 1, "stable": 4})
    assert routing(serving) == {}


def test_prune_never_removes_a_labelled_version(serving: Path) -> None:
    sv.set_canary(serving, "m", 0.2, version=3)
    assert sl.prune(serving, "m", keep=1) == []  # 1 blue, 2 stable, 3 canary, 4 newest
    sv.remove_canary(serving, "m")
    assert sl.prune(serving, "m", keep=1) == [3]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"fraction": 0.0}, r"fraction must be between 0 and 1 \(exclusive\), got 0.0"),
        ({"fraction": 1.0}, "fraction must be between 0 and 1"),
        ({"fraction": -0.1}, "fraction must be between 0 and 1"),
        ({"fraction": float("nan")}, "fraction must be between 0 and 1"),
        ({"fraction": 0.1, "version": 9}, r"version 9 of model 'm' does not exist under .* \(versions: 1, 2, 3, 4\)"),
        ({"fraction": 0.1, "version": 2}, "version 2 of model 'm' is the stable version; a canary must differ"),
    ],
)
def test_canary_refusals_write_nothing(serving: Path, kwargs: dict, match: str) -> None:
    before = (serving / "models.config").read_text()
    with pytest.raises(sl.LayoutError, match=match):
        sv.set_canary(serving, "m", **kwargs)
    assert (serving / "models.config").read_text() == before and routing(serving) == {}


def test_no_canary_to_promote_or_remove_and_nothing_to_try(serving: Path) -> None:
    for action in (sv.promote_canary, sv.remove_canary):
        with pytest.raises(sl.LayoutError, match=r"model 'm' has no canary under .*; start one with"):
            action(serving, "m")
    with pytest.raises(sl.LayoutError, match=r"model 'other' has only its stable version 7 under .*; push another"):
        sv.set_canary(serving, "other", 0.1)


def test_routing_file_is_checked_and_a_share_without_its_label_is_ignored(serving: Path) -> None:
    (serving / sc.ROUTING_FILE).write_text('{"m": {"canary": 0.3}}')  # no canary label in models.config
    assert sc.model_labels(serving, "m").shares == {}
    assert [v.share for v in sl.list_versions(serving, "m")] == [0.0, 1.0, 0.0, 0.0]
    for text, match in [
        ("{not json", "routing.json is not JSON"),
        ('{"m": 0.3}', "must map each model to {label: share}"),
        ('{"m": {"canary": 1.5}}', r"m.canary = 1.5 is not a share between 0 and 1"),
    ]:
        (serving / sc.ROUTING_FILE).write_text(text)
        with pytest.raises(sl.LayoutError, match=match):
            sc.read_routing(serving)


def entry(versions: tuple[int, ...], labels: dict[str, int]) -> sc.ModelEntry:
    return sc.ModelEntry("m", "/s/m", versions, labels)


def test_label_moves_for_tf_serving_take_two_steps() -> None:
    applied = {"m": entry((2,), {"stable": 2})}
    desired = {"m": entry((2, 4), {"stable": 4, "canary": 2})}
    loaded: set[int] = {2}
    step1 = sc.label_move_step(desired, applied, lambda name: loaded)
    assert step1 == {"m": entry((2, 4), {"stable": 2, "canary": 2})}  # 4 loads; stable stays on 2
    assert sc.label_move_step(desired, step1, lambda name: loaded) == step1  # until 4 is AVAILABLE
    loaded.add(4)
    assert sc.label_move_step(desired, step1, lambda name: loaded) == desired
    fresh = sc.label_move_step(desired, {}, lambda name: set())  # a server just started: labels wait
    assert fresh == {"m": entry((2, 4), {})}


def test_sync_staged_config_converges_on_models_config(serving: Path) -> None:
    staged = ".tf_serving.config"
    loaded = {"m": {1, 2}, "other": {7}}
    assert sc.sync_staged_config(serving, lambda name: loaded[name], staged) is True  # nothing to move
    sv.set_canary(serving, "m", 0.1, version=4)
    sv.promote_canary(serving, "m")
    assert sc.sync_staged_config(serving, loaded.__getitem__, staged) is False
    first = sc.read_models_config(serving, staged)["m"]
    assert (sorted(first.versions), dict(first.labels)) == ([1, 2, 4], {"blue": 1, "stable": 2})
    loaded["m"].add(4)
    assert sc.sync_staged_config(serving, loaded.__getitem__, staged) is True
    assert (serving / staged).read_text() == (serving / "models.config").read_text()
