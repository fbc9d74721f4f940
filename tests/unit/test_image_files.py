"""Image columns: reading the files and counting bad ones, the gate's finding, and the config (no TFX)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import yaml

from components.gate import evaluate, policy_from_parameters
from components.image_checks import BAD_IMAGES, REPORT_FILE, image_findings
from components.image_files import FIRST_BAD, add_row, empty_stats, finish_stats, merge_stats, read_image
from pipelines.build import gate_parameters
from pipelines.config import load_config
from pipelines.config.features import image_features
from pipelines.data.generators.ad_images import banner_png
from pipelines.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "configs" / "ad_click_images.yaml"


@pytest.fixture
def images(tmp_path: Path) -> Path:
    (tmp_path / "images").mkdir()
    good = banner_png(0, 0, 1, seed=1)
    (tmp_path / "images" / "good.png").write_bytes(good)
    (tmp_path / "images" / "truncated.png").write_bytes(good[:60])
    (tmp_path / "images" / "text.png").write_bytes(b"not an image at all")
    return tmp_path


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("images/good.png", ""),
        ("images/nope.png", "missing"),
        ("images/truncated.png", "corrupt"),
        ("images/text.png", "not PNG, JPEG, GIF or BMP"),
        ("", "no path"),
        ("images", "unreadable"),  # a folder
    ],
)
def test_read_image_names_what_is_wrong(images: Path, path: str, reason: str) -> None:
    data, why, size = read_image(str(images), path)
    assert why.startswith(reason) and bool(why) == bool(reason)
    assert (data is None) == bool(reason)
    assert size == ((96, 48) if not reason else (0, 0))


def test_a_bmp_pillow_reads_but_tensorflow_cannot_is_bad(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (8, 8), (200, 10, 10)).save(tmp_path / "rgb.bmp")
    Image.new("1", (8, 8)).save(tmp_path / "mono.bmp")  # 1 bit per pixel: Transform's decode_bmp fails on it
    assert read_image(str(tmp_path), "rgb.bmp")[1:] == ("", (8, 8))
    assert read_image(str(tmp_path), "mono.bmp")[1].startswith("a BMP kind TensorFlow cannot decode")


def test_absolute_paths_are_read_as_they_are(images: Path) -> None:
    assert read_image("/elsewhere", str(images / "images" / "good.png"))[1] == ""


def test_bad_rows_are_counted_and_the_first_paths_kept(images: Path) -> None:
    paths = ["images/good.png", "images/nope.png", "images/truncated.png"] * 4
    halves = [empty_stats(), empty_stats()]
    for i, path in enumerate(paths):
        _, reason, (w, h) = read_image(str(images), path)
        add_row(halves[i % 2], path, reason, w, h)
    s = finish_stats(merge_stats(*halves))
    assert (s["rows"], s["bad"], s["missing"], s["undecodable"]) == (12, 8, 4, 4)
    assert len(s["first_bad"]) == FIRST_BAD
    assert {(b["path"], b["reason"].split(" ")[0]) for b in s["first_bad"]} == {
        ("images/nope.png", "missing"),
        ("images/truncated.png", "corrupt"),
    }
    assert (s["min_width"], s["max_width"], s["min_height"], s["max_height"]) == (96, 96, 48, 48)
    assert s["decodable_fraction"] == pytest.approx(4 / 12, abs=1e-6)


def _report(bad: int, rows: int = 1000) -> dict:
    first = [{"path": f"images/ad_{i}.png", "reason": "missing"} for i in range(min(bad, FIRST_BAD))]
    return {"image_path": {"rows": rows, "bad": bad, "missing": bad, "undecodable": 0, "first_bad": first}}


@pytest.mark.parametrize(("bad", "severity"), [(0, None), (5, "WARNING"), (11, "ERROR")])
def test_gate_finding_blocks_above_the_fraction(bad: int, severity: str | None) -> None:
    findings = image_findings(_report(bad), {"image_path": 0.01})
    assert [f["severity"] for f in findings] == ([severity] if severity else [])
    if severity:
        f = findings[0]
        assert f["feature"] == "image_path" and f["kind"] == BAD_IMAGES
        assert f"{bad} of 1000 rows" in f["description"] and "images/ad_0.png (missing)" in f["description"]
        assert "features.image_path.max_bad_fraction" in f["fix"]


def test_gate_reads_examplegens_report(tmp_path: Path) -> None:
    anomalies, examples = tmp_path / "anomalies", tmp_path / "examples"
    anomalies.mkdir()
    examples.mkdir()
    (examples / REPORT_FILE).write_text(json.dumps(_report(30)))
    policy = policy_from_parameters(
        gate="data", block_on="error", allow={}, label="y", task="binary", image_features={"image_path": 0.01}
    )
    verdict = evaluate(str(anomalies), policy, examples_uri=str(examples))
    assert not verdict["passed"]
    assert [(a["feature"], a["kind"], a["blocking"]) for a in verdict["anomalies"]] == [
        ("image_path", BAD_IMAGES, True)
    ]
    assert verdict["images"]["image_path"]["bad"] == 30
    allowed = {**policy, "allow": {"image_path": [BAD_IMAGES]}}
    assert evaluate(str(anomalies), allowed, examples_uri=str(examples))["passed"]


def test_example_config_declares_an_image_feature() -> None:
    cfg = load_config(CONFIG)
    f = cfg.features["image_path"]
    assert (f.transform, f.size, f.channels, f.conv_filters) == ("image", (32, 32), 3, (16, 32))
    assert image_features(cfg.features) == {"image_path": 0.01}
    assert gate_parameters(cfg, "data")["image_features"] == {"image_path": 0.01}
    assert "image_features" not in gate_parameters(load_config(REPO / "configs" / "ad_click.yaml"), "data")
    assert cfg.transform_spec()["features"]["image_path"]["size"] == (32, 32)


@pytest.mark.parametrize(
    ("image", "match"),
    [
        ({"size": [2, 32]}, r"features\.image_path.*size"),
        ({"size": [32]}, r"features\.image_path.*size"),
        ({"channels": 4}, r"features\.image_path.*channels"),
        ({"conv_filters": []}, r"features\.image_path.*conv_filters"),
        ({"max_bad_fraction": 1.5}, r"features\.image_path.*max_bad_fraction"),
        ({"sise": [32, 32]}, r"features\.image_path.*sise"),
    ],
)
def test_bad_image_settings_name_the_key(tmp_path: Path, image: dict, match: str) -> None:
    cfg = yaml.safe_load(CONFIG.read_text())
    cfg["features"]["image_path"] = {"transform": "image", **image}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError, match=match):
        load_config(path)


def test_infra_check_rows_carry_images_to_the_child_as_b64() -> None:
    from components.infra_check import _from_json, _to_json

    image = banner_png(1, 1, 0, seed=2)
    row = {"age": 31, "city": "Lakeport", "image_path": image}
    sent = json.loads(json.dumps(_to_json(row)))
    assert sent["image_path"] == {"b64": base64.b64encode(image).decode()}
    assert _from_json(sent) == row
