"""End to end: the real CLI runs the real TFX pipeline on generated data.

The runs are session fixtures (tests/e2e/conftest.py): tests that only inspect
outputs share them instead of running their own pipelines.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipelines.data.generators import COLUMNS, LABEL, read_csv_columns
from pipelines.data.generators.oracle import roc_auc
from pipelines.runners.base import step
from tests.e2e.conftest import (
    AUC_BAR,
    COMPONENTS,
    HOLDOUT_ROWS,
    TRAIN_ROWS,
    Project,
    assert_matches_mlmd,
    mlmd_executions,
    statuses,
)

pytestmark = pytest.mark.slow

# --------------------------------------------------------------------------- first run


def test_first_run_succeeds_blesses_and_pushes(first_run: dict[str, Any]) -> None:
    s = first_run["summary"]
    assert s["status"] == "succeeded"
    assert [c["name"] for c in s["components"]] == COMPONENTS
    assert set(statuses(s).values()) == {"ran"}
    assert s["blessed"] is True
    assert s["anomalies"] == []
    assert s["metrics"]["example_count"] > 0.1 * TRAIN_ROWS
    assert s["pushed"]["path"] == str(Path(s["pushed"]["path"]))
    assert first_run["versions"] == [s["pushed"]["version"]]


def _progress(out: str, index: int, name: str) -> list[str]:
    """The status words of one component's own progress lines (``started``, then how it ended)."""
    head = rf"^{re.escape(step(index, len(COMPONENTS)))} {re.escape(name)} +"
    pattern = head + r"(started|ran|cached|failed|blocked)\b(?: +[\d.]+ s)?$"
    return [m.group(1) for m in re.finditer(pattern, out, flags=re.MULTILINE)]


def test_progress_line_per_component_and_table(first_run: dict[str, Any]) -> None:
    out = first_run["proc"].stdout
    for i, name in enumerate(COMPONENTS, start=1):
        assert _progress(out, i, name) == ["started", "ran"], (name, out[-3000:])
    assert "blessed: yes" in out and "pushed: " in out and "eval metrics (overall): " in out
    assert "Traceback" not in first_run["proc"].stderr


def test_summary_is_what_ml_metadata_recorded_for_this_run(first_run: dict[str, Any], project: Project) -> None:
    s = first_run["summary"]
    assert_matches_mlmd(project, s)
    nodes = mlmd_executions(project.metadata, s["pipeline"], s["run_id"])
    assert {"DataGate_stop", "TransformGate_stop"} <= set(nodes)  # each gate: decision node + stop node
    assert sum(sec for runs in nodes.values() for _, sec in runs) <= s["seconds"]


def test_pushed_model_has_tf_serving_layout(first_run: dict[str, Any], project: Project) -> None:
    version = first_run["summary"]["pushed"]["version"]
    path = project.serving / "ad_click" / str(version)
    assert (path / "saved_model.pb").is_file()
    assert (path / "variables").is_dir()
    assert (path / "assets.extra" / "tf_serving_warmup_requests").stat().st_size > 0
    assert "auc" in (path / "assets.extra" / "eval_metrics.json").read_text()
    assert f"versions: {version}" in first_run["models_config"]
    assert not [p for p in (project.serving / "ad_click").iterdir() if p.name.startswith(".incoming")]
    assert first_run["summary"]["pushed"]["path"].rstrip("/") == str(path)


@pytest.fixture(scope="module")
def loaded(first_run: dict[str, Any]) -> Any:
    import tensorflow as tf

    return tf.saved_model.load(first_run["summary"]["pushed"]["path"])


def _raw_inputs(signature: Any, cols: dict[str, np.ndarray]) -> dict[str, Any]:
    import tensorflow as tf

    specs = signature.structured_input_signature[1]
    out = {}
    for name, spec in specs.items():
        values = cols[name]
        if spec.dtype == tf.string:
            out[name] = tf.constant(values.astype(str).tolist(), tf.string)
        else:  # CSV text -> the signature's numeric dtype (int64 or float32)
            out[name] = tf.cast(tf.constant(values.astype(float)), spec.dtype)
    return out


def test_serving_default_takes_raw_columns_and_beats_the_bar(loaded: Any, project: Project) -> None:
    """Raw CSV rows from held-out generated data, scored through serving_default."""
    sig = loaded.signatures["serving_default"]
    specs = sig.structured_input_signature[1]
    assert sorted(specs) == sorted(c for c in COLUMNS if c != LABEL)
    assert all(spec.shape.as_list() == [None] for spec in specs.values())
    cols = read_csv_columns(project.holdout)
    probs = sig(**_raw_inputs(sig, cols))["probabilities"].numpy()
    assert probs.shape == (HOLDOUT_ROWS,)
    assert ((probs >= 0) & (probs <= 1)).all()
    auc = roc_auc(cols[LABEL].astype(int), probs)
    print(f"held-out AUC {auc:.4f} (bar {AUC_BAR})")
    assert auc >= AUC_BAR


def test_examples_signature_agrees_with_serving_default(loaded: Any, project: Project) -> None:
    import tensorflow as tf

    cols = {k: v[:50] for k, v in read_csv_columns(project.holdout).items()}
    sig = loaded.signatures["serving_default"]
    raw = sig(**_raw_inputs(sig, cols))["probabilities"].numpy()
    examples = []
    for i in range(50):
        feats = {}
        for name, spec in sig.structured_input_signature[1].items():
            v = cols[name][i]
            if spec.dtype == tf.string:
                feats[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[v.encode()]))
            elif spec.dtype.is_integer:
                feats[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v)]))
            else:
                feats[name] = tf.train.Feature(float_list=tf.train.FloatList(value=[float(v)]))
        examples.append(tf.train.Example(features=tf.train.Features(feature=feats)).SerializeToString())
    from_examples = loaded.signatures["serving_examples"](examples=tf.constant(examples))["probabilities"].numpy()
    np.testing.assert_allclose(from_examples, raw, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- reruns


def test_rerun_with_nothing_changed_is_fully_cached(cached_run: dict[str, Any], first_run: dict[str, Any]) -> None:
    """Through TFX (--no-fast-path): TFX's own cache reuses every component, Evaluator and Pusher included."""
    s = cached_run["summary"]
    assert s["status"] == "succeeded" and s["engine"] == "tfx"
    assert statuses(s) == dict.fromkeys(COMPONENTS, "cached")
    # Same model, nothing pushed again.
    assert cached_run["versions"] == first_run["versions"]
    assert s["pushed"] == first_run["summary"]["pushed"]
    assert s["blessed"] is True
    # The run just made, not an earlier one: its own pipeline_run context, every node reused from the cache.
    assert s["run_id"] != first_run["summary"]["run_id"]
    assert_matches_mlmd(cached_run["project"], s)


def test_fast_path_reports_the_cached_run_without_tfx(
    fast_rerun: dict[str, Any], cached_run: dict[str, Any], first_run: dict[str, Any]
) -> None:
    s, out, recorded = fast_rerun["summary"], fast_rerun["proc"].stdout, cached_run["summary"]
    assert s["engine"] == "fast-path" and s["status"] == "succeeded"
    assert statuses(s) == dict.fromkeys(COMPONENTS, "cached")
    # This invocation made no run and pushed nothing; the run it answered from is named apart.
    assert s["run_id"] is None and s["pushed"] is None
    assert s["unchanged_since"] == {
        "run_id": recorded["run_id"],  # no new run was recorded in ML Metadata
        "seconds": recorded["seconds"],
        "pushed": first_run["summary"]["pushed"],  # the version still served
    }
    assert fast_rerun["versions"] == cached_run["versions"]
    # Its own seconds (TFX not started), not the recorded run's.
    assert s["seconds"] < 5.0 < recorded["seconds"]
    version = first_run["summary"]["pushed"]["version"]
    assert f"nothing changed since run {recorded['run_id']}; serving version {version}; nothing pushed" in out
    assert "pushed: " not in out and f"succeeded {recorded['seconds']:>8.1f}" not in out
    assert "TFX was not started" in out


def test_changing_a_trainer_setting_reruns_only_trainer_and_after(
    changed_run: dict[str, Any], first_run: dict[str, Any]
) -> None:
    s = changed_run["summary"]
    st = statuses(s)
    assert all(st[n] == "cached" for n in COMPONENTS[: COMPONENTS.index("Trainer")]), st
    assert all(st[n] == "ran" for n in ("Trainer", "Evaluator", "Pusher")), st
    # The new model was compared with the first one (the latest blessed model before it).
    assert s["baseline"] is not None and "auc" in " ".join(s["baseline"]["diff"])
    # The change bar is -1.0 for this run (conftest): blessed and pushed as a new version.
    assert s["blessed"] is True and s["failed_thresholds"] == []
    assert changed_run["versions"][:-1] == first_run["versions"] and len(changed_run["versions"]) == 2
    assert s["pushed"]["version"] == changed_run["versions"][-1]
    assert_matches_mlmd(changed_run["project"], s)


def test_failing_user_run_fn_fails_cleanly_and_keeps_served_model(
    failed_run: dict[str, Any], changed_run: dict[str, Any]
) -> None:
    proc, s = failed_run["proc"], failed_run["summary"]
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "component Trainer failed" in proc.stderr and "deliberately failing run_fn" in proc.stderr
    assert "full log: " in proc.stderr
    st = statuses(s)
    assert s["status"] == "failed" and st["Trainer"] == "failed"
    assert st["Evaluator"] == "skipped" and st["Pusher"] == "skipped"
    assert s["pushed"] is None
    assert failed_run["versions"] == changed_run["versions"]
    assert_matches_mlmd(failed_run["project"], s)


def test_a_model_below_the_bar_is_not_blessed_and_not_pushed(unblessed_run: dict[str, Any]) -> None:
    proc, s = unblessed_run["proc"], unblessed_run["summary"]
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert s["status"] == "succeeded" and s["blessed"] is False and s["pushed"] is None
    assert any(f.startswith("auc") for f in s["failed_thresholds"]), s["failed_thresholds"]
    assert "did not bless" in s["push_reason"]
    st = statuses(s)
    assert st["Trainer"] == "cached" and st["Evaluator"] == "ran" and st["Pusher"] == "ran"
    assert unblessed_run["versions"] == unblessed_run["before"]
    assert "blessed: no" in proc.stdout and "failed threshold: auc" in proc.stdout
    assert_matches_mlmd(unblessed_run["project"], s)
