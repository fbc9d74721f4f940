"""A gs:// serving directory against the emulator: the push layout, models.config, the lock, the commands."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from components import filesystem as fs
from components import serving_layout, serving_paths


def _saved_model(root: Path, tag: str) -> str:
    """A directory shaped like a SavedModel: what the layout copies (the server is not involved here)."""
    (root / "variables").mkdir(parents=True)
    (root / "saved_model.pb").write_bytes(tag.encode())
    (root / "variables" / "variables.index").write_bytes(b"i")
    return str(root)


def test_push_list_rollback_on_a_bucket(bucket: str, tmp_path: Path) -> None:
    serving = fs.join(bucket, "serving")
    v1, path1 = serving_layout.publish_version(_saved_model(tmp_path / "a", "one"), serving, "ads", version=1)
    serving_layout.write_models_config(serving, pins={"ads": v1})
    v2, _ = serving_layout.publish_version(_saved_model(tmp_path / "b", "two"), serving, "ads", version=2)
    serving_layout.write_models_config(serving, pins={"ads": v2})
    assert path1 == fs.join(serving, "ads", "1")
    assert fs.listdir(fs.join(serving, "ads")) == ["1", "2"]  # no .incoming- copy left, no lock left
    assert fs.read_text(fs.join(serving, "ads", "2", "saved_model.pb")) == "two"
    assert 'base_path: "gs://' in fs.read_text(fs.join(serving, "models.config"))
    assert not fs.exists(fs.join(serving, ".lock"))
    assert serving_layout.served_version(serving, "ads") == 2
    assert [(v.version, v.served) for v in serving_layout.list_versions(serving, "ads")] == [(1, False), (2, True)]
    from pipelines import push  # the command, as a user runs it

    config = tmp_path / "c.yaml"
    config.write_text(
        "pipeline: {name: ads, root: /tmp/x}\ndata: {source: gs://bkt/d}\nlabel: {column: y}\n"
        f"features: {{a: zscore}}\ntrainer: {{train_steps: 1}}\npush: {{serving_dir: {serving}}}\n"
    )
    assert push.main(["list", "--config", str(config), "--json"]) == 0
    assert push.main(["rollback", "--config", str(config)]) == 0
    assert serving_layout.served_version(serving, "ads") == 1
    assert serving_layout.prune(serving, "ads", keep=1) == []  # the served version is never pruned
    serving_layout.rollback(serving, "ads", to=2)
    assert serving_layout.prune(serving, "ads", keep=1) == [1]
    assert fs.listdir(fs.join(serving, "ads")) == ["2"]


def test_pushes_to_one_bucket_take_turns(bucket: str) -> None:
    serving = fs.join(bucket, "serving")
    events: list[str] = []
    inside = threading.Event()

    def first() -> None:
        with serving_paths.locked(serving):
            events.append("a in")
            inside.set()
            time.sleep(0.6)
            events.append("a out")

    def second() -> None:
        inside.wait()
        with serving_paths.locked(serving):
            events.append("b in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert events == ["a in", "a out", "b in"]
    assert not fs.exists(fs.join(serving, ".lock"))


def test_a_stale_lock_is_taken_over_and_a_live_one_named(bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    serving = fs.join(bucket, "serving")
    lock = fs.join(serving, ".lock")
    fs.write_text(lock, json.dumps({"host": "elsewhere", "pid": 1}))
    monkeypatch.setattr(serving_paths, "LOCK_WAIT_SECONDS", 0.3)
    with (
        pytest.raises(serving_paths.LayoutError, match=r"\.lock is held by another push .*elsewhere.*delete"),
        serving_paths.locked(serving),
    ):
        pass
    assert fs.exists(lock)
    monkeypatch.setattr(serving_paths, "LOCK_STALE_SECONDS", 0.0)
    with serving_paths.locked(serving):
        assert "elsewhere" not in fs.read_text(lock)
    assert not fs.exists(lock)
