"""The push contract (components/serving_layout.py), on fake SavedModel directories: no TensorFlow."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from components import serving_layout as sl

REPO = Path(__file__).resolve().parents[2]


def fake_model(path: Path, files: int = 3) -> Path:
    """A directory shaped like a SavedModel (publish only copies it)."""
    (path / "variables").mkdir(parents=True)
    (path / "saved_model.pb").write_bytes(b"\x08\x01" * 100)
    for i in range(files):
        (path / "variables" / f"part-{i}").write_bytes(os.urandom(1000))
    return path


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return fake_model(tmp_path / "model")


@pytest.fixture
def serving(tmp_path: Path) -> Path:
    return tmp_path / "serving"


def entries(serving: Path) -> list[str]:
    return sorted(os.listdir(serving / "m"))


def parse_config(serving: Path) -> model_server_config_pb2.ModelServerConfig:
    config = model_server_config_pb2.ModelServerConfig()
    text_format.Parse((serving / "models.config").read_text(), config)
    return config


def test_publish_copies_to_an_integer_version_with_extra_files(model: Path, serving: Path) -> None:
    version, path = sl.publish_version(
        model,
        serving,
        "m",
        extra_files={
            "eval_metrics.json": json.dumps({"metrics": {"auc": 0.9}}),
            "blob": b"\x00\x01",
            "copied": model / "saved_model.pb",
        },
    )
    assert path == str(serving / "m" / str(version)) and entries(serving) == [str(version)]
    assert (Path(path) / "saved_model.pb").read_bytes() == (model / "saved_model.pb").read_bytes()
    assert (Path(path) / "variables" / "part-2").is_file()
    extra = Path(path) / "assets.extra"
    assert (extra / "blob").read_bytes() == b"\x00\x01" and (extra / "copied").is_file()
    assert sl.list_versions(serving, "m")[0].metrics == {"auc": 0.9}


def test_versions_increase_even_within_one_second(model: Path, serving: Path) -> None:
    versions = [sl.publish_version(model, serving, "m")[0] for _ in range(3)]
    assert versions == sorted(versions) and len(set(versions)) == 3
    assert list(sl.version_dirs(serving, "m")) == versions


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"version": 5}, "version 5 already exists"),
        ({"version": -1}, "non-negative"),
    ],
)
def test_publish_refuses_bad_versions(model: Path, serving: Path, kwargs: dict, match: str) -> None:
    sl.publish_version(model, serving, "m", version=5)
    with pytest.raises(sl.LayoutError, match=match):
        sl.publish_version(model, serving, "m", **kwargs)


@pytest.mark.parametrize(
    "src, name, match",
    [
        ("missing", "m", "holds no saved_model.pb"),
        ("model", "../escape", "model name '../escape' must hold only"),
    ],
)
def test_publish_refuses_bad_inputs(
    tmp_path: Path, model: Path, serving: Path, src: str, name: str, match: str
) -> None:
    with pytest.raises(sl.LayoutError, match=match):
        sl.publish_version(tmp_path / src, serving, name)


def test_a_copy_that_fails_leaves_no_version(model: Path, serving: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    original, calls = shutil.copyfile, []

    def full_disk(src: str, dst: str, *args: object, **kwargs: object) -> str:
        calls.append(src)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return original(src, dst, *args, **kwargs)

    monkeypatch.setattr(shutil, "copyfile", full_disk)
    with pytest.raises(OSError, match="No space left"):
        sl.publish_version(model, serving, "m")
    assert entries(serving) == []  # neither a version nor the partial copy


def test_a_push_killed_mid_copy_leaves_nothing_a_server_would_load(model: Path, serving: Path) -> None:
    child = textwrap.dedent(f"""
        import shutil, sys, time
        from components import serving_layout
        original, copied = shutil.copyfile, []
        def slow_copyfile(src, dst, *args, **kwargs):
            result = original(src, dst, *args, **kwargs)
            copied.append(src)
            if len(copied) == 2:
                print("copying", flush=True)
                time.sleep(60)
            return result
        shutil.copyfile = slow_copyfile
        serving_layout.publish_version({str(model)!r}, {str(serving)!r}, "m")
    """)
    proc = subprocess.Popen([sys.executable, "-c", child], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "copying"
        partial = entries(serving)
        assert len(partial) == 1 and partial[0].startswith(".incoming-")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    assert sl.version_dirs(serving, "m") == {}  # TF Serving ignores the non-integer .incoming-* name
    assert not any(name.isdigit() for name in entries(serving))
    version, _ = sl.publish_version(model, serving, "m")  # the next push removes the leftover
    assert entries(serving) == [str(version)]


def test_prune_keeps_the_newest_and_the_served_version(model: Path, serving: Path) -> None:
    for v in (1, 2, 3, 4, 5):
        sl.publish_version(model, serving, "m", version=v)
    sl.write_models_config(serving, pins={"m": 2})
    assert sl.prune(serving, "m", keep=2) == [1, 3]
    assert list(sl.version_dirs(serving, "m")) == [2, 4, 5]
    assert entries(serving) == ["2", "4", "5"]
    with pytest.raises(sl.LayoutError, match="keep must be at least 1"):
        sl.prune(serving, "m", keep=0)


def test_models_config_pins_one_version_per_model_with_a_stable_label(model: Path, serving: Path) -> None:
    for v in (10, 20):
        sl.publish_version(model, serving, "a", version=v)
    sl.publish_version(model, serving, "b", version=7)
    (serving / "not_a_model").mkdir()
    path = sl.write_models_config(serving, pins={"a": 10})
    assert path == str(serving / "models.config")
    config = parse_config(serving)
    models = {m.name: m for m in config.model_config_list.config}
    assert sorted(models) == ["a", "b"]
    a = models["a"]
    assert a.base_path == str(serving / "a") and a.model_platform == "tensorflow"
    assert list(a.model_version_policy.specific.versions) == [10] and dict(a.version_labels) == {"stable": 10}
    assert list(models["b"].model_version_policy.specific.versions) == [7]
    assert not [n for n in os.listdir(serving) if n.startswith("models.config.tmp")]
    # Without pins the served version stays; a new version is served only when pinned.
    sl.publish_version(model, serving, "a", version=30)
    sl.write_models_config(serving)
    assert sl.served_version(serving, "a") == 10
    with pytest.raises(sl.LayoutError, match="version 99 of model 'a' does not exist"):
        sl.write_models_config(serving, pins={"a": 99})


def test_without_models_config_the_newest_version_is_served(model: Path, serving: Path) -> None:
    for v in (1, 2):
        sl.publish_version(model, serving, "m", version=v)
    assert sl.served_version(serving, "m") == 2
    assert [(v.version, v.served, v.labels) for v in sl.list_versions(serving, "m")] == [(1, False, ()), (2, True, ())]


def test_rollback_pins_the_previous_or_the_named_version(model: Path, serving: Path) -> None:
    for v in (1, 2, 3):
        sl.publish_version(model, serving, "m", version=v)
    sl.write_models_config(serving, pins={"m": 3})
    assert sl.rollback(serving, "m") == (2, 3)
    assert sl.rollback(serving, "m") == (1, 2)
    assert dict(parse_config(serving).model_config_list.config[0].version_labels) == {"stable": 1}
    assert sl.rollback(serving, "m", to=3) == (3, 1)
    assert [(v.version, v.served, v.labels) for v in sl.list_versions(serving, "m")] == [
        (1, False, ()),
        (2, False, ()),
        (3, True, ("stable",)),
    ]


@pytest.mark.parametrize(
    "setup, kwargs, match",
    [
        ([], {}, "model 'm' has no versions under"),
        ([1], {}, "version 1 is the oldest version of model 'm'"),
        ([1, 2], {"to": 5}, r"version 5 of model 'm' does not exist under .* \(versions: 1, 2\)"),
    ],
)
def test_rollback_failures_name_the_version_and_dir(
    model: Path, serving: Path, setup: list[int], kwargs: dict, match: str
) -> None:
    for v in setup:
        sl.publish_version(model, serving, "m", version=v)
    with pytest.raises(sl.LayoutError, match=match):
        sl.rollback(serving, "m", **kwargs)


def test_a_corrupt_models_config_is_reported_with_the_fix(model: Path, serving: Path) -> None:
    sl.publish_version(model, serving, "m", version=1)
    (serving / "models.config").write_text("model_config_list { config { nme: 'x' } }")
    with pytest.raises(sl.LayoutError, match="is not a valid ModelServerConfig"):
        sl.list_versions(serving, "m")


def test_published_files_keep_their_mode_so_another_user_can_serve_them(model: Path, serving: Path) -> None:
    (model / "saved_model.pb").chmod(0o644)
    (model / "variables" / "part-0").chmod(0o640)
    _, path = sl.publish_version(model, serving, "m", extra_files={"copied": model / "saved_model.pb", "text": "x"})
    version = Path(path)
    assert (version / "saved_model.pb").stat().st_mode & 0o777 == 0o644
    assert (version / "variables" / "part-0").stat().st_mode & 0o777 == 0o640
    assert (version / "assets.extra" / "copied").stat().st_mode & 0o777 == 0o644
    assert (version / "assets.extra" / "text").stat().st_mode & 0o777 == 0o644
    sl.write_models_config(serving)
    assert (serving / "models.config").stat().st_mode & 0o777 == 0o644
