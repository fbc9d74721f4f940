"""The pipeline built for a config with an image feature: ExampleGen reads images, the data gate reads its report."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("config", "images"), [("ad_click_images.yaml", True), ("ad_click.yaml", False)])
def test_image_executor_and_gate_inputs_only_with_an_image_feature(config: str, images: bool, tmp_path: Path) -> None:
    from components import csv_example_gen, image_example_gen
    from pipelines.build import build_components
    from pipelines.config import load_config

    cfg = load_config(REPO / "configs" / config, [f"data.source={tmp_path}", f"pipeline.root={tmp_path / 'r'}"])
    nodes = {c.id: c for c in build_components(cfg, until="validate")}
    example_gen, gate = nodes["CsvExampleGen"], nodes["DataGate"]
    executor = example_gen.executor_spec.executor_class
    # The project's executors, without TFX's sdist on the DirectRunner (components/local_executors.py).
    assert issubclass(executor, csv_example_gen.Executor)
    assert issubclass(executor, image_example_gen.Executor) == images
    assert ("examples" in gate.inputs) == images
    if images:
        assert gate.inputs["examples"].producer_component_id == "CsvExampleGen"
        assert gate.exec_properties["image_features"] == {"image_path": 0.01}
        # The executor receives the proto as the JSON string the component stores.
        assert image_example_gen.image_columns(dict(example_gen.exec_properties)) == ["image_path"]


@pytest.mark.parametrize(("config", "cached"), [("ad_click_images.yaml", False), ("ad_click.yaml", True)])
def test_trainer_keeps_transformed_rows_in_memory_only_without_images(
    config: str, cached: bool, tmp_path: Path
) -> None:
    from components.spec import FeatureSpec
    from components.trainer import cache_rows
    from pipelines.config import load_config

    cfg = load_config(REPO / "configs" / config, [f"data.source={tmp_path}", f"pipeline.root={tmp_path / 'r'}"])
    assert cache_rows(FeatureSpec.from_config(cfg.transform_spec())) is cached
