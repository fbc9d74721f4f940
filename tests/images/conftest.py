"""One pipeline run on generated ads with banners, and the same rows with the image dropped, once per session.

Both runs start together (each keeps about one core busy) from ``configs/ad_click_images.yaml``
with only paths and step counts overridden: no user code. Two banners are damaged first, one
deleted and one truncated, so the run must report them and carry on.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipelines.data.generators.ad_images import write_ad_click_images

REPO = Path(__file__).resolve().parents[2]
ROWS = 4000
MISSING, TRUNCATED = "images/ad_0000003.png", "images/ad_0000004.png"


class ImageProject:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.config = root / "ad_click_images.yaml"
        write_ad_click_images(str(self.data), ROWS, seed=21)
        (self.data / MISSING).unlink()
        good = (self.data / TRUNCATED).read_bytes()
        (self.data / TRUNCATED).write_bytes(good[: len(good) // 3])
        cfg = yaml.safe_load((REPO / "configs" / "ad_click_images.yaml").read_text())
        cfg["data"]["source"] = str(self.data)
        cfg["schema"]["path"] = str(REPO / cfg["schema"]["path"])
        cfg["trainer"].update(train_steps=400, eval_steps=5)
        self.config.write_text(yaml.safe_dump(cfg, sort_keys=False))

    def command(self, name: str, *overrides: str, until: str | None = None, summary: str | None = None) -> list[str]:
        """``pipelines.run`` on pipeline root ``<root>/<name>``, its summary in ``<root>/<summary or name>.json``."""
        args = [sys.executable, "-m", "pipelines.run", "--config", str(self.config)]
        args += ["--summary", str(self.root / f"{summary or name}.json"), *(["--until", until] if until else [])]
        settings = [
            f"pipeline.root={self.root / name}",
            f"push.serving_dir={self.root / name / 'serving'}",
            *overrides,
        ]
        return args + [a for s in settings for a in ("--set", s)]

    def summary(self, name: str) -> dict[str, Any]:
        path = self.root / f"{name}.json"
        return json.loads(path.read_text()) if path.exists() else {}


@pytest.fixture(scope="session")
def image_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``{"project", "images": (proc, summary), "tabular": (proc, summary)}``: both runs, done."""
    project = ImageProject(tmp_path_factory.mktemp("images"))
    commands = {
        "images": project.command("images"),
        # The image column read as a path and not used; the same rows in the same splits.
        "tabular": project.command(
            "tabular", "features.image_path=drop", "push.infra_validation=false", "push.warmup_requests=0"
        ),
    }
    procs = {
        name: subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for name, cmd in commands.items()
    }
    out: dict[str, Any] = {"project": project}
    for name, proc in procs.items():
        text, _ = proc.communicate(timeout=900)
        out[name] = (proc.returncode, text, project.summary(name))
    return out
