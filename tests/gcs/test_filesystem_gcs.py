"""components.filesystem on gs:// against the emulator: every operation, through google-cloud-storage."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from components import filesystem as fs
from components import gcs_generations as gcs


def test_round_trip(bucket: str, tmp_path: Path) -> None:
    target = fs.join(bucket, "runs", "summary.json")
    fs.write_text(target, '{"ok": 1}')
    first = fs.fingerprint(target)
    fs.write_text(target, '{"ok": 2}')
    assert fs.read_text(target) == '{"ok": 2}'
    assert fs.fingerprint(target) != first and fs.fingerprint(target).startswith("gen=")
    assert fs.exists(target) and fs.isfile(target) and not fs.isdir(target)
    assert fs.isdir(fs.join(bucket, "runs")) and not fs.isfile(fs.join(bucket, "runs"))
    assert fs.listdir(fs.join(bucket, "runs")) == ["summary.json"]  # nothing temporary left
    assert fs.size(target) == len('{"ok": 2}') and fs.mtime_ns(target) > 0
    with fs.open_file(target) as fh:
        assert fh.read() == '{"ok": 2}'
    with pytest.raises(ValueError, match="appending"):
        fs.open_file(target, "a")
    copy = fs.join(bucket, "copy", "c.json")
    fs.copy(target, copy)
    assert fs.read_bytes(copy) == b'{"ok": 2}'
    assert fs.glob(fs.join(bucket, "*", "*.json")) == [copy, target]
    assert fs.glob(fs.join(bucket, "*")) == [fs.join(bucket, "copy"), fs.join(bucket, "runs")]
    assert fs.walk_files(bucket, "*.json") == [copy, target]
    fs.rename(copy, fs.join(bucket, "copy", "d.json"))
    assert fs.listdir(fs.join(bucket, "copy")) == ["d.json"]
    fs.remove(fs.join(bucket, "copy", "d.json"))
    fs.remove(fs.join(bucket, "copy", "d.json"))  # already gone: no error
    fs.makedirs(fs.join(bucket, "empty"))
    assert fs.isdir(fs.join(bucket, "empty")) and fs.listdir(fs.join(bucket, "empty")) == []
    fs.rmtree(bucket + "/runs")
    fs.rmtree(bucket + "/runs")
    assert not fs.exists(target)
    local = tmp_path / "local.txt"
    local.write_text("x")
    fs.copy(str(local), fs.join(bucket, "up", "local.txt"))  # local -> gs://
    fs.copy(fs.join(bucket, "up", "local.txt"), str(tmp_path / "down.txt"))  # gs:// -> local
    assert (tmp_path / "down.txt").read_text() == "x"


def test_a_folder_renames_whole_and_big_objects_read_in_ranges(bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from components import gcs as backend

    monkeypatch.setattr(backend, "_CHUNK", 4096)  # ranges of 4 KB instead of 8 MB: the same code, a small object
    blob = bytes(range(256)) * 100  # 25,600 bytes: seven ranges
    fs.write_bytes(fs.join(bucket, "v", ".incoming-1", "variables", "data"), blob)
    fs.write_text(fs.join(bucket, "v", ".incoming-1", "saved_model.pb"), "pb")
    fs.rename(fs.join(bucket, "v", ".incoming-1"), fs.join(bucket, "v", "1"))
    assert fs.listdir(fs.join(bucket, "v")) == ["1"]
    assert fs.read_bytes(fs.join(bucket, "v", "1", "variables", "data")) == blob
    with pytest.raises(FileExistsError):
        fs.rename(fs.join(bucket, "v", "1", "saved_model.pb"), fs.join(bucket, "v", "1", "variables", "data"))


def test_local_copy_downloads_once_per_content(bucket: str, tmp_path: Path) -> None:
    fs.write_text(fs.join(bucket, "m", "1", "saved_model.pb"), "one")
    fs.write_text(fs.join(bucket, "m", "1", "variables", "v.index"), "idx")
    first = fs.local_copy(fs.join(bucket, "m", "1"), str(tmp_path))
    assert Path(first, "saved_model.pb").read_text() == "one" and Path(first, "variables", "v.index").exists()
    assert fs.local_copy(fs.join(bucket, "m", "1"), str(tmp_path)) == first
    fs.write_text(fs.join(bucket, "m", "1", "saved_model.pb"), "two")
    second = fs.local_copy(fs.join(bucket, "m", "1"), str(tmp_path))
    assert second != first and Path(second, "saved_model.pb").read_text() == "two"
    assert fs.local_copy(str(tmp_path)) == str(tmp_path)


def test_a_missing_bucket_is_named(emulator: str) -> None:
    with pytest.raises(FileNotFoundError, match=r"gs://no-such-bucket-x.*does not exist"):
        fs.listdir("gs://no-such-bucket-x/data")
    assert not fs.exists("gs://no-such-bucket-x/data/a.csv")
    with pytest.raises(FileNotFoundError, match="no-such-bucket-x"):
        fs.read_text("gs://no-such-bucket-x/data/a.csv")


def test_create_if_absent_and_delete_if_generation(bucket: str) -> None:
    """The emulator ignores generation preconditions (it answers 200 where GCS answers 412), so
    only the sequential behaviour is checked here: a second creator is refused, the owner deletes."""
    path = fs.join(bucket, "lock")
    generation = gcs.create_if_absent(path, b"me")
    assert generation and gcs.create_if_absent(path, b"you") is None
    assert fs.read_text(path) == "me"
    assert gcs.delete_if_generation(path, generation) and not fs.exists(path)
    assert not gcs.delete_if_generation(path, generation)  # already gone


def test_one_client_per_process_used_from_threads(bucket: str) -> None:
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            fs.write_text(fs.join(bucket, "t", f"{i}.txt"), str(i))
            assert fs.read_text(fs.join(bucket, "t", f"{i}.txt")) == str(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(fs.listdir(fs.join(bucket, "t"))) == 8
