"""The ``text`` transform on a table whose label depends on words of a free-text description.

``pipelines.init`` scaffolds the ``tickets`` table (``pipelines.data.generators.tabular``) and
picks ``text`` for its ``description``; the pipeline runs twice, once as written and once with
the description hashed whole (``--set``), and the words must beat the hash by a clear margin.
The text run's served model also reads words at serving time and rejects a timestamp that does
not parse.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipelines.data.generators.tabular import write

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
ROWS = 2500
MARGIN = 0.10  # AUC(text) - AUC(hash) at least this


def _py(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=900, env=env)


def _run(root: Path, tag: str, *overrides: str) -> dict[str, Any]:
    sets = [
        x for o in (f"pipeline.root=runs/{tag}", f"push.serving_dir=serving_{tag}", *overrides) for x in ("--set", o)
    ]
    run = _py("pipelines.run", "--config", "configs/tickets.yaml", *sets, "--summary", f"{tag}.json", cwd=root)
    summary = root / f"{tag}.json"
    assert summary.exists(), run.stderr[-3000:]
    return json.loads(summary.read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("text")
    _, oracle = write("tickets", str(root / "data"), ROWS, seed=3)
    init = _py("pipelines.init", "--data", "data", "--label", "escalated", "--name", "tickets", cwd=root)
    assert init.returncode == 0, init.stderr
    config = (root / "configs" / "tickets.yaml").read_text()
    text = _run(root, "text", "trainer.train_steps=300")
    hashed = _run(root, "hash", "trainer.train_steps=300", "features.description={transform: hash, hash_buckets: 4096}")
    return {"config": config, "text": text, "hash": hashed, "oracle": oracle}


def test_init_reads_the_description_as_text(runs: dict[str, Any]) -> None:
    line = next(x for x in runs["config"].splitlines() if x.strip().startswith("description:"))
    assert "transform: text" in line and "# free text:" in line


def test_text_beats_hashing_the_whole_string(runs: dict[str, Any]) -> None:
    auc_text, auc_hash = runs["text"]["metrics"]["auc"], runs["hash"]["metrics"]["auc"]
    print(f"AUC text {auc_text:.3f}, hash {auc_hash:.3f}, generating rule {runs['oracle']:.3f}")
    assert auc_text >= auc_hash + MARGIN, (auc_text, auc_hash)
    assert auc_text >= runs["oracle"] - 0.08, (auc_text, runs["oracle"])


def test_served_model_reads_words_and_rejects_a_bad_timestamp(runs: dict[str, Any]) -> None:
    import tensorflow as tf

    assert runs["text"]["pushed"], runs["text"]
    serve = tf.saved_model.load(runs["text"]["pushed"]["path"]).signatures["serving_default"]
    row = {"plan": ["plus", "plus", "plus"], "opened_at": ["2023-05-01 10:00:00", "2023-05-01", ""]}
    texts = ["Lawyer! CANCEL my account, refund", "thanks, resolved: my account question", ""]
    p = serve(**{k: tf.constant(v) for k, v in row.items()}, description=tf.constant(texts))["probabilities"].numpy()
    assert p[0] > p[1] + 0.4 and 0 < p[2] < 1, p  # an empty (missing) description still predicts
    with pytest.raises(tf.errors.InvalidArgumentError, match="timestamp column opened_at: expected YYYY-MM-DD"):
        serve(plan=tf.constant(["plus"]), opened_at=tf.constant(["yesterday"]), description=tf.constant(["help"]))
