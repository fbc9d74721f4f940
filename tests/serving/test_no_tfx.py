"""The serving package loads and answers a real SavedModel without importing TFX.

A serving host has TensorFlow and ``tensorflow-serving-api``, not the training stack: importing
``pipelines.serving`` and running its registry on a toy model, in a fresh interpreter, must
leave TFX (and Beam, ML Metadata, TFMA) out of ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from components import serving_layout as sl
from tests.serving.toy_model import COLUMNS, ROW, expected_probability

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TRAINING_STACK = ("tfx", "tfx_bsl", "apache_beam", "ml_metadata", "tensorflow_model_analysis")


def test_serving_a_toy_model_imports_no_tfx(tmp_path: Path, toy_models: dict[float, str]) -> None:
    serving = tmp_path / "serving"
    warmup, _ = sl.warmup_records("ad_click", [ROW], dtypes=COLUMNS, batch_size=1)
    sl.publish_version(toy_models[1.0], serving, "ad_click", version=1, extra_files={sl.WARMUP_FILE: warmup})
    sl.write_models_config(serving)
    child = textwrap.dedent(f"""
        import json, sys
        from pipelines.serving import ModelRegistry, handle
        registry = ModelRegistry({str(serving)!r}, poll_seconds=60, log=lambda message: None)
        registry.poll_once()
        body = json.dumps({{"instances": [{ROW!r}]}}).encode()
        predict = handle(registry, "POST", "/v1/models/ad_click:predict", body)
        status = handle(registry, "GET", "/v1/models/ad_click", b"")
        print(json.dumps({{
            "predict": [predict[0], json.loads(predict[1])],
            "status": [status[0], json.loads(status[1])],
            "loaded": sorted(m for m in sys.modules if m.split(".")[0] == "tensorflow")[:1],
            "training_stack": sorted({{m.split(".")[0] for m in sys.modules}} & set({TRAINING_STACK!r})),
        }}))
    """)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", child], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    status, body = result["predict"]
    assert status == 200, body
    assert body["predictions"][0] == pytest.approx(expected_probability(ROW, 1.0), abs=1e-6)
    assert result["status"][0] == 200
    assert result["status"][1]["model_version_status"][0]["state"] == "AVAILABLE"  # the warm-up replayed
    assert result["loaded"] == ["tensorflow"]  # the model really was loaded with TensorFlow
    assert result["training_stack"] == []
