"""``rolling_spans: 2`` over month folders, through ``pipelines.run``: a new month is the only one ingested
and profiled, every later component sees both, and a rewritten old month is ingested again.

Three runs on one pipeline root, once per module: month 2026-09 alone (``--until validate``), then
2026-10 added (the whole pipeline), then 2026-09 rewritten (``--until validate``). Months have
different row counts so each count names its month.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks.rolling_spans import profiled_rows  # examples per split in a Statistics artifact
from pipelines.data.generators import write_ad_click
from tests.spans.records import read_records

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SEPT, OCT, SEPT_REWRITTEN = 3000, 2500, 2000


class Months:
    def __init__(self, root: Path) -> None:
        self.root, self.data, self.config = root, root / "data", root / "rolling.yaml"
        cfg = yaml.safe_load((REPO / "configs" / "ad_click.yaml").read_text())
        cfg["pipeline"]["root"] = str(root / "pipeline")
        cfg["data"].update(source=str(self.data), pattern="{YYYY}-{MM}/*.csv", rolling_spans=2)
        cfg["schema"]["path"] = str(REPO / "schemas" / "ad_click" / "schema.pbtxt")
        cfg["push"]["serving_dir"] = str(root / "serving")
        cfg["trainer"].update(train_steps=30, eval_steps=3)
        self.config.write_text(yaml.safe_dump(cfg, sort_keys=False))

    def write(self, month: int, rows: int, seed: int) -> None:
        write_ad_click(str(self.data / f"2026-{9 + month:02d}"), rows, seed=seed, month=month)

    def run(self, name: str, until: str | None = None) -> dict[str, Any]:
        summary = self.root / f"{name}.json"
        args = [sys.executable, "-m", "pipelines.run", "--config", str(self.config), "--summary", str(summary)]
        proc = subprocess.run([*args, *(["--until", until] if until else [])], cwd=REPO, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return json.loads(summary.read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    months = Months(tmp_path_factory.mktemp("rolling"))
    months.write(0, SEPT, seed=7)
    first = months.run("first", until="validate")
    months.write(1, OCT, seed=8)
    second = months.run("second")
    months.write(0, SEPT_REWRITTEN, seed=9)
    third = months.run("third", until="validate")
    return {"first": first, "second": second, "third": third}


def rows(examples_uri: str, prefix: str = "", splits: tuple[str, ...] = ("train", "eval")) -> int:
    return sum(len(read_records(f)) for s in splits for f in Path(examples_uri, f"Split-{s}").glob(f"{prefix}*"))


def store_log(summary: dict[str, Any]) -> str:
    found = re.findall(r"span store: encoded .*", Path(summary["log_path"]).read_text())
    assert len(found) == 1, found
    return found[0]


def test_the_added_month_is_the_only_one_encoded(runs):
    second = runs["second"]
    assert second["status"] == "succeeded"
    assert {c["name"]: c["status"] for c in second["components"]}["CsvExampleGen"] == "ran"
    examples = second["artifacts"]["examples"]
    counts = (rows(examples, "encoded-2026-10-"), rows(examples, "reused-2026-09-"), rows(examples))
    assert counts == (OCT, SEPT, OCT + SEPT)
    assert store_log(second) == f"span store: encoded {{'2026-10': {OCT}}}, reused {{'2026-09': {SEPT}}}"
    assert second["spans"] == {"encoded": {"2026-10": OCT}, "reused": {"2026-09": SEPT}}


def test_statistics_cover_the_new_month_and_drift_is_against_the_previous_one(runs):
    first, second = runs["first"], runs["second"]
    assert profiled_rows(first["artifacts"]["statistics"]) == SEPT
    assert profiled_rows(second["artifacts"]["statistics"]) == OCT
    assert second["artifacts"]["baseline_statistics"] == first["artifacts"]["statistics"]
    assert second["drift"], "no drift figures: the gate had no baseline"


def test_later_components_see_both_months(runs):
    second = runs["second"]
    eval_rows = rows(second["artifacts"]["examples"], splits=("eval",))
    assert eval_rows > rows(second["artifacts"]["examples"], "encoded-", splits=("eval",))
    assert second["metrics"]["example_count"] == eval_rows  # the Evaluator read both months' eval rows


def test_a_rewritten_month_is_ingested_again(runs):
    third = runs["third"]
    examples = third["artifacts"]["examples"]
    assert (rows(examples, "encoded-2026-09-"), rows(examples, "reused-2026-10-")) == (SEPT_REWRITTEN, OCT)
    assert profiled_rows(third["artifacts"]["statistics"]) == SEPT_REWRITTEN
