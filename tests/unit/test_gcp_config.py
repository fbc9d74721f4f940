"""gs:// paths and the ``gcp:`` section in a config (static: no bucket is touched)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.config import load_config
from pipelines.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
GCS = REPO / "configs" / "ad_click_gcs.yaml"


def test_gs_paths_stay_as_written_and_metadata_stays_local(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    config = load_config(
        GCS,
        [
            "pipeline.root=gs://ads-bucket/runs/ad_click/",
            "schema.path=gs://ads-bucket/schemas/schema.pbtxt",
            "validation.skew.serving_data=gs://ads-bucket/logs",
        ],
    )
    assert config.pipeline.root == "gs://ads-bucket/runs/ad_click"
    assert config.data.source == "gs://ad-click-logs/drops"
    assert config.push.serving_dir == "gs://ad-click-logs/serving"
    assert config.schema_.path == "gs://ads-bucket/schemas/schema.pbtxt"
    assert config.validation.skew.serving_data == "gs://ads-bucket/logs"
    assert config.gcp.project == "ad-click-prod"
    path = Path(config.metadata_path)
    assert path.name == "metadata.sqlite" and path.is_relative_to(
        tmp_path / "declarative-tfx" / "metadata" / "ads-bucket"
    )
    other = load_config(GCS, ["pipeline.root=gs://ads-bucket/runs/other"])
    assert other.metadata_path != config.metadata_path  # one history per root
    local = load_config(GCS, [f"pipeline.root={tmp_path / 'r'}"])
    assert local.metadata_path == str(tmp_path / "r" / "metadata.sqlite")


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ("data.source=s3://bucket/data", r"data\.source: 's3://bucket/data': only local paths and gs://bucket/prefix"),
        ("push.serving_dir=gs://B/serving", r"push\.serving_dir: 'gs://B/serving': the bucket name must be"),
        ("pipeline.metadata_path=gs://ads-bucket/m.sqlite", r"pipeline\.metadata_path: ML Metadata is a SQLite file"),
        ("gcp.project=My Project", r"gcp\.project: must be a project id"),
        ("gcp.key=abc", r"gcp\.key"),  # no place for a credential
    ],
)
def test_bad_cloud_settings(override: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(GCS, [override])
