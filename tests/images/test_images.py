"""Ads with banners end to end: config only, the image's worth in AUC, bad images reported, REST with b64.

The figures (both AUCs, the generator's margin) are printed: run with ``-s`` to see them.
"""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from components.image_checks import BAD_IMAGES
from pipelines.data.generators.ad_click import LABEL, read_csv_columns
from pipelines.data.generators.ad_images import IMAGE_COLUMN, IMAGE_MARGIN
from tests.images.conftest import MISSING, REPO, ROWS, TRUNCATED

pytestmark = pytest.mark.slow


def _ok(run: tuple[int, str, dict[str, Any]]) -> dict[str, Any]:
    code, text, summary = run
    assert code == 0, text[-3000:]
    return summary


def test_runs_from_the_config_and_pushes(image_runs: dict[str, Any]) -> None:
    s = _ok(image_runs["images"])
    assert s["blessed"] and s["pushed"], s
    assert [c["name"] for c in s["components"]][:1] == ["CsvExampleGen"]


def test_bad_images_are_reported_not_fatal(image_runs: dict[str, Any]) -> None:
    s = _ok(image_runs["images"])
    text = image_runs["images"][1]
    [finding] = [a for a in s["anomalies"] if a["kind"] == BAD_IMAGES]
    assert finding["feature"] == IMAGE_COLUMN and not finding["blocking"]
    assert f"2 of {ROWS} rows" in finding["description"]
    assert f"{MISSING} (missing)" in finding["description"] and f"{TRUNCATED} (corrupt" in finding["description"]
    assert "image_path: BAD_IMAGES" in text  # on the console too
    report = Path(s["reports"]["validation"]).read_text()  # the image statistics table
    assert re.search(rf"<strong>{IMAGE_COLUMN}</strong></td><td class=\"num\">{ROWS:,}</td>", report), report[:500]


def test_above_the_fraction_the_gate_blocks(image_runs: dict[str, Any]) -> None:
    project = image_runs["project"]
    _ok(image_runs["images"])
    # Same pipeline root: ExampleGen and the statistics come from the cache, only the gate decides again.
    cmd = project.command(
        "images", "features.image_path.max_bad_fraction=0.0001", until="validate", summary="images-blocked"
    )
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 3, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "image_path" in proc.stdout + proc.stderr and f"2 of {ROWS} rows" in proc.stdout + proc.stderr


def test_the_image_is_worth_half_the_generators_margin(image_runs: dict[str, Any]) -> None:
    with_image = _ok(image_runs["images"])["metrics"]["auc"]
    without = _ok(image_runs["tabular"])["metrics"]["auc"]
    print(f"eval AUC with the image {with_image:.4f}, image dropped {without:.4f}, rule margin {IMAGE_MARGIN}")
    assert with_image - without >= IMAGE_MARGIN / 2


def _rows(data: Path, n: int) -> list[dict[str, Any]]:
    cols = read_csv_columns(str(data / "ad_click.csv"))
    picked = [i for i in range(10, 40) if cols[IMAGE_COLUMN][i] not in (MISSING, TRUNCATED)][:n]
    return [{k: v[i] for k, v in cols.items() if k != LABEL} for i in picked]


def _json_value(text: str, dtype: Any) -> Any:
    """A CSV cell as the JSON value TF Serving's REST API reads for ``dtype``."""
    return text if dtype.name == "string" else int(text) if dtype.is_integer else float(text)


def test_rest_with_a_b64_image_answers_as_the_signature(image_runs: dict[str, Any]) -> None:
    import tensorflow as tf

    from tests.serving.conftest import Server, call

    s = _ok(image_runs["images"])
    project = image_runs["project"]
    loaded = tf.saved_model.load(s["pushed"]["path"])
    sig = loaded.signatures["serving_default"]
    specs = sig.structured_input_signature[1]
    rows = _rows(project.data, 3)
    images = [(project.data / r[IMAGE_COLUMN]).read_bytes() for r in rows]
    inputs = {
        name: tf.constant(images)
        if name == IMAGE_COLUMN
        else tf.cast(tf.constant([float(r[name]) for r in rows]), spec.dtype)
        if spec.dtype != tf.string
        else tf.constant([str(r[name]) for r in rows])
        for name, spec in specs.items()
    }
    expected = sig(**inputs)["probabilities"].numpy().tolist()

    instances = []
    for r, image in zip(rows, images, strict=True):
        row = {k: _json_value(v, specs[k].dtype) for k, v in r.items() if k in specs}
        row[IMAGE_COLUMN] = {"b64": base64.b64encode(image).decode()}
        instances.append(row)
    server = Server(Path(s["pushed"]["path"]).parents[1])
    try:
        status, body = call(server.port, "POST", "/v1/models/ad_click_images:predict", {"instances": instances})
        assert status == 200, body
        assert body["predictions"] == pytest.approx(expected, abs=1e-5)
        instances[0][IMAGE_COLUMN] = {"b64": base64.b64encode(b"not an image").decode()}
        status, body = call(server.port, "POST", "/v1/models/ad_click_images:predict", {"instances": instances})
        assert status == 400 and "image column image_path" in body["error"], body
    finally:
        server.close()


def test_warmup_requests_carry_images(image_runs: dict[str, Any]) -> None:
    from components.serving_warmup import read_warmup_requests

    s = _ok(image_runs["images"])
    warmup = Path(s["pushed"]["path"]) / "assets.extra" / "tf_serving_warmup_requests"
    logs = read_warmup_requests(warmup, 3)
    assert logs
    for log in logs:
        [value] = log.predict_log.request.inputs[IMAGE_COLUMN].string_val
        assert value.startswith(b"\x89PNG")
