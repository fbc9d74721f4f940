"""components.filesystem: the one seam for paths that may be remote; local behaviour and one remote round trip."""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path

import pytest

from components import filesystem as fs


def _entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- atomic writes ------------------------------------------------------------------------------


def test_write_text_creates_parents_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "summary.json"
    fs.write_text(str(target), '{"ok": true}')
    assert target.read_text(encoding="utf-8") == '{"ok": true}'
    fs.write_text(str(target), "second")
    assert fs.read_text(str(target)) == "second"
    assert _entries(target.parent) == ["summary.json"]
    assert target.stat().st_mode & 0o777 == 0o644  # readable like any other file, not mkstemp's 0600


def test_write_bytes_is_fsynced_renamed_from_the_same_folder_under_a_fresh_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    renames: list[tuple[str, str]] = []
    fsynced: list[int] = []
    real_replace, real_rename, real_fsync = os.replace, os.rename, os.fsync

    def spy_replace(src: str, dst: str) -> None:
        renames.append((str(src), str(dst)))
        real_replace(src, dst)

    def spy_rename(src: str, dst: str) -> None:
        renames.append((str(src), str(dst)))
        real_rename(src, dst)

    def spy_fsync(fd: int) -> None:
        fsynced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "replace", spy_replace)
    monkeypatch.setattr(os, "rename", spy_rename)
    monkeypatch.setattr(os, "fsync", spy_fsync)
    target = tmp_path / "out" / "model.config"
    for i in range(3):
        fs.write_bytes(str(target), f"v{i}".encode())
    assert target.read_bytes() == b"v2"
    assert len(renames) == 3 and len(fsynced) >= 3
    temps = [src for src, _ in renames]
    assert len(set(temps)) == 3, f"temporary names reused: {temps}"
    for src, dst in renames:
        assert Path(dst).resolve() == target.resolve()
        assert Path(src).parent.resolve() == target.parent.resolve()  # same folder: rename stays atomic
        assert Path(src).name != target.name


def test_a_failed_write_keeps_the_old_content_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    fs.write_text(str(target), "old")
    with pytest.raises(TypeError):
        fs.write_bytes(str(target), "not bytes")  # type: ignore[arg-type]
    assert target.read_text(encoding="utf-8") == "old"
    assert _entries(tmp_path) == ["state.json"]


def test_concurrent_writers_to_one_path_never_interleave_or_share_a_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "shared" / "summary.json"
    writers, rounds, size = 8, 15, 256 * 1024
    payloads = [bytes([ord("a") + i]) * size for i in range(writers)]
    errors: list[BaseException] = []
    seen: list[bytes] = []
    start = threading.Barrier(writers + 1)
    done = threading.Event()

    def write(i: int) -> None:
        start.wait()
        try:
            for _ in range(rounds):
                fs.write_bytes(str(target), payloads[i])
        except BaseException as exc:  # noqa: BLE001 - a shared temp name shows up as a vanished or clobbered file
            errors.append(exc)

    def read() -> None:
        start.wait()
        while not done.is_set():
            if target.exists():
                try:
                    seen.append(target.read_bytes())
                except FileNotFoundError:  # pragma: no cover - os.replace never unlinks the target
                    errors.append(AssertionError("target vanished during a rename"))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    reader = threading.Thread(target=read)
    for t in [*threads, reader]:
        t.start()
    for t in threads:
        t.join(timeout=120)
    done.set()
    reader.join(timeout=30)
    assert errors == []
    final = target.read_bytes()
    assert final in payloads
    torn = [s[:1] for s in seen if s not in payloads]
    assert torn == [], "a reader saw a partial or interleaved file"
    assert _entries(target.parent) == ["summary.json"]


# --- copy, rename, remove -----------------------------------------------------------------------


def test_copy_creates_parents_replaces_whole_and_leaves_no_temp_file(tmp_path: Path) -> None:
    src = tmp_path / "src.csv"
    src.write_bytes(b"a,b\n1,2\n")
    dst = tmp_path / "deep" / "er" / "dst.csv"
    fs.copy(str(src), str(dst))
    assert dst.read_bytes() == b"a,b\n1,2\n"
    src.write_bytes(b"new")
    fs.copy(str(src), str(dst))
    assert dst.read_bytes() == b"new"
    assert _entries(dst.parent) == ["dst.csv"]
    with pytest.raises(FileNotFoundError):
        fs.copy(str(tmp_path / "absent"), str(tmp_path / "deep" / "x"))
    assert _entries(tmp_path / "deep") == ["er"]


def test_rename_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("A", encoding="utf-8")
    b.write_text("B", encoding="utf-8")
    with pytest.raises(FileExistsError):
        fs.rename(str(a), str(b))
    assert b.read_text(encoding="utf-8") == "B"
    fs.rename(str(a), str(b), overwrite=True)
    assert b.read_text(encoding="utf-8") == "A" and not a.exists()
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "f").write_text("x", encoding="utf-8")
    fs.rename(str(tmp_path / "dir"), str(tmp_path / "moved"))
    assert (tmp_path / "moved" / "f").read_text(encoding="utf-8") == "x"


def test_remove_and_rmtree_of_a_missing_path_are_no_ops(tmp_path: Path) -> None:
    fs.remove(str(tmp_path / "absent.txt"))
    fs.rmtree(str(tmp_path / "absent_dir"))
    tree = tmp_path / "tree"
    (tree / "x" / "y").mkdir(parents=True)
    (tree / "x" / "y" / "f").write_text("1", encoding="utf-8")
    fs.rmtree(str(tree))
    assert not tree.exists()
    f = tmp_path / "f"
    f.write_text("1", encoding="utf-8")
    fs.remove(str(f))
    assert not f.exists()


# --- listing --------------------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for rel in ["b.csv", "a.csv", "notes.txt", "sub/c.csv", "sub/deeper/d.csv", "sub/deeper/e.txt"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel, encoding="utf-8")
    return tmp_path


def test_glob_is_sorted_and_star_stays_in_one_folder(tree: Path) -> None:
    assert fs.glob(str(tree / "*.csv")) == [str(tree / "a.csv"), str(tree / "b.csv")]
    assert fs.glob(str(tree / "sub" / "*" / "?.csv")) == [str(tree / "sub" / "deeper" / "d.csv")]
    assert fs.glob(str(tree / "nothing*")) == []


def test_walk_files_is_recursive_filtered_and_sorted(tree: Path) -> None:
    assert fs.walk_files(str(tree), "*.csv") == [
        str(tree / "a.csv"),
        str(tree / "b.csv"),
        str(tree / "sub" / "c.csv"),
        str(tree / "sub" / "deeper" / "d.csv"),
    ]
    assert len(fs.walk_files(str(tree))) == 6
    assert fs.walk_files(str(tree / "absent")) == []


def test_stat_helpers(tree: Path) -> None:
    assert fs.listdir(str(tree)) == ["a.csv", "b.csv", "notes.txt", "sub"]
    assert fs.exists(str(tree / "sub")) and fs.isdir(str(tree / "sub")) and not fs.isfile(str(tree / "sub"))
    assert fs.isfile(str(tree / "a.csv")) and not fs.isdir(str(tree / "a.csv"))
    assert not fs.exists(str(tree / "absent"))
    assert fs.size(str(tree / "a.csv")) == len("a.csv")
    assert fs.mtime_ns(str(tree / "a.csv")) == (tree / "a.csv").stat().st_mtime_ns
    fs.makedirs(str(tree / "new" / "deep"))
    fs.makedirs(str(tree / "new" / "deep"))  # exists already: no error
    assert (tree / "new" / "deep").is_dir()


def test_join_and_is_remote() -> None:
    assert fs.join("runs", "x", "y.json") == os.path.join("runs", "x", "y.json")
    assert fs.join("gs://bucket/root/", "/x/", "y.json") == "gs://bucket/root/x/y.json"
    assert fs.is_remote("gs://bucket/x") and not fs.is_remote("/tmp/x") and not fs.is_remote("runs/x")


# --- open_file ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["w", "wb", "x", "xb", "r+", "rb+", "a+", "w+"])
def test_open_file_refuses_write_modes(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "f.txt"
    path.write_text("keep", encoding="utf-8")
    with pytest.raises(ValueError, match="write_text/write_bytes"):
        fs.open_file(str(path), mode)
    assert path.read_text(encoding="utf-8") == "keep"


def test_open_file_reads_text_and_bytes_and_appends(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_bytes("\ufeffh\u00e9\r\nx".encode())
    with fs.open_file(str(path), "r", encoding="utf-8-sig", newline="") as fh:
        assert fh.read() == "h\u00e9\r\nx"
    with fs.open_file(str(path), "rb") as fh:
        assert fh.read().startswith(b"\xef\xbb\xbf")
    with fs.open_file(str(path), "a") as fh:
        fh.write("!")
    assert fs.read_text(str(path)).endswith("x!")
    assert fs.read_bytes(str(path)) == path.read_bytes()


# --- remote ---------------------------------------------------------------------------------------


@pytest.mark.slow  # TFX's fileio imports TensorFlow (10 to 20 s)
def test_remote_round_trip_through_tfx_fileio_in_memory() -> None:
    """TFX's fileio falls back to TensorFlow's filesystems, whose ``ram://`` scheme is in memory
    and offline: the same code path a ``gs://`` path takes, without a bucket."""
    pytest.importorskip("tensorflow")
    root = f"ram://fs-test-{uuid.uuid4().hex}"
    target = fs.join(root, "runs", "summary.json")
    assert fs.is_remote(target)
    fs.write_text(target, '{"ok": 1}')
    fs.write_text(target, '{"ok": 2}')
    assert fs.read_text(target) == '{"ok": 2}'
    assert fs.exists(target) and fs.isfile(target) and not fs.isdir(target)
    assert fs.isdir(fs.join(root, "runs"))
    assert fs.listdir(fs.join(root, "runs")) == ["summary.json"]  # no temporary file left behind
    assert fs.size(target) == len('{"ok": 2}')
    with fs.open_file(target) as fh:
        assert fh.read() == '{"ok": 2}'
    with pytest.raises(ValueError, match="appending"):
        fs.open_file(target, "a")
    copy = fs.join(root, "copy", "c.json")
    fs.copy(target, copy)
    assert fs.read_bytes(copy) == b'{"ok": 2}'
    assert fs.glob(fs.join(root, "*", "*.json")) == [copy, target]
    assert fs.walk_files(root, "*.json") == [copy, target]
    fs.rename(copy, fs.join(root, "copy", "d.json"))
    assert fs.listdir(fs.join(root, "copy")) == ["d.json"]
    fs.remove(fs.join(root, "copy", "d.json"))
    fs.remove(fs.join(root, "copy", "d.json"))  # already gone: no error
    fs.rmtree(root)
    fs.rmtree(root)
    assert not fs.exists(target)


def test_atomic_writer_appears_whole_or_not_at_all(tmp_path) -> None:
    target = tmp_path / "out.csv"
    with fs.atomic_writer(str(target)) as fh:
        fh.write("a,b\n")
        assert not target.exists()  # nothing at the path until the writer closes
    assert target.read_text() == "a,b\n"
    try:
        with fs.atomic_writer(str(target)) as fh:
            fh.write("half")
            raise RuntimeError("writer failed")
    except RuntimeError:
        pass
    assert target.read_text() == "a,b\n"  # the old content survives a failed write
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # no temporary file left


@pytest.mark.parametrize(
    ("path", "folder", "name"),
    [
        ("/data/2026-09/ads.csv", "/data/2026-09", "ads.csv"),
        ("gs://bucket/2026-09/ads.csv", "gs://bucket/2026-09", "ads.csv"),
        ("gs://bucket/2026-09/", "gs://bucket", "2026-09"),
        ("gs://bucket", "gs://bucket", "bucket"),
    ],
)
def test_dirname_and_basename(path: str, folder: str, name: str) -> None:
    assert (fs.dirname(path), fs.basename(path)) == (folder, name)


# --- what identifies a file's content, and local copies ------------------------------------------


def test_fingerprint_of_a_local_file_changes_with_its_content(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("a\n")
    first = fs.fingerprint(str(path))
    assert first.startswith("size=2|mtime_ns=")
    os.utime(path, ns=(1, 1))
    assert fs.fingerprint(str(path)) != first


def test_local_copy_of_a_local_folder_is_the_folder(tmp_path: Path) -> None:
    assert fs.local_copy(str(tmp_path)) == str(tmp_path)


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("drops/*/*.csv", "drops/2026-09/a.csv", True),
        ("drops/*.csv", "drops/2026-09/a.csv", False),  # * stays within one folder
        ("drops/2026-[01][09]/*.csv", "drops/2026-10/a.csv", True),
        ("drops/2026-[01][09]/*.csv", "drops/2026-11/a.csv", False),
        ("drops/2026-0?", "drops/2026-09/", True),  # a folder placeholder is its folder
        ("a+b/(x).csv", "a+b/(x).csv", True),  # regex characters are literal
    ],
)
def test_gcs_glob_patterns(pattern: str, name: str, matches: bool) -> None:
    from components.gcs import _glob_regex

    assert bool(_glob_regex(pattern).match(name)) is matches
