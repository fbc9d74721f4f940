"""The runs index (``python -m pipelines.runs report``) in headless Chromium: its table is visible, it
fetches nothing, and every report link opens a page. ``check_index`` is also what
``tests/e2e/test_runs_history.py`` runs on the index of the session's real runs.

Needs ``apt-get install -y chromium`` (skipped, with that hint, when /usr/bin/chromium is absent).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from pipelines.history.catalog import RunView, why
from pipelines.history.index import render_index
from pipelines.results.mlmd import RunMetadata
from pipelines.results.summary import RunSummary
from tests.browser.test_report_render import CHROMIUM, DevTools, start_chromium, stop_chromium

pytestmark = pytest.mark.slow  # a browser

PROBE = """(() => {
  const t = document.querySelector('#runs');
  if (!t) return {found: false};
  const r = t.getBoundingClientRect();
  return {
    found: true, width: r.width, height: r.height,
    visible: t.checkVisibility({checkOpacity: true, checkVisibilityCSS: true}),
    rows: t.querySelectorAll('tbody tr:not(.empty)').length,
    hrefs: [...document.querySelectorAll('a.report')].map(a => a.href),
    scripts: document.scripts.length,
  };
})()"""


def check_index(index: Path, workdir: Path) -> dict[str, Any]:
    """Open ``index`` in headless Chromium, then every report link it has; what was seen.

    Returns the probe of the index (``found``, ``visible``, ``rows``, ``width``...), ``links`` (how many),
    ``broken`` (links that did not open a page with a title) and ``requests`` (what the index fetched).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    proc, ws_url = start_chromium(workdir / "profile", workdir / "chromium.log")
    cdp = None
    try:
        cdp = DevTools(ws_url)
        target = cdp.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = cdp.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Network.enable", "Page.enable", "Runtime.enable"):
            cdp.call(domain, session=session)

        def open_page(url: str) -> str | None:
            start = len(cdp.events)
            error = cdp.call("Page.navigate", {"url": url}, session=session).get("errorText")
            if error:
                return error
            cdp.wait_for("Page.loadEventFired", after=start)
            return None

        def evaluate(expression: str) -> Any:
            result = cdp.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session)
            return result["result"].get("value")

        start = len(cdp.events)
        error = open_page(index.as_uri())
        assert error is None, error
        time.sleep(0.3)
        probe = evaluate(PROBE)
        probe["requests"] = [u for u in cdp.requests_since(start) if u != index.as_uri()]
        probe["links"] = len(probe.get("hrefs", []))
        probe["broken"] = []
        for href in probe.get("hrefs", []):
            error = open_page(href)
            title = None if error else evaluate("document.title")
            if error or not title:
                probe["broken"].append((href, error or "no title"))
        cdp.call("Browser.close")
    finally:
        if cdp is not None:
            cdp.close()
        stop_chromium(proc)
    return probe


def _view(run_id: str, status: str, metrics: dict[str, float]) -> RunView:
    comps = [{"name": "DataGate", "status": "failed" if status == "blocked" else "ran", "seconds": 1.0}]
    s = RunSummary(status, "ad_click", run_id, 10.0, comps, metrics=metrics, blessed=bool(metrics))
    return RunView(run_id, 1.8e9, 10.0, "local", status, why(s), 0, s.blessed, None, ("auc", metrics.get("auc")),
                   s, None, RunMetadata(run_id, found=True))  # fmt: skip


@pytest.mark.timeout(180)
@pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} not found; install it: apt-get install -y chromium"
)
def test_index_renders_and_each_link_opens_its_report(tmp_path: Path) -> None:
    reports = tmp_path / "pipeline" / "reports"
    reports.mkdir(parents=True)
    for name in ("validation-r1", "evaluation-r1", "validation-r2"):
        (reports / f"{name}.html").write_text(f"<!DOCTYPE html><title>{name}</title><p>{name}</p>")
    views = [_view("r2", "blocked", {}), _view("r1", "succeeded", {"auc": 0.87})]
    links = {
        "r1": {"validation": str(reports / "validation-r1.html"), "evaluation": str(reports / "evaluation-r1.html")},
        "r2": {"validation": str(reports / "validation-r2.html")},
    }
    page = Path(render_index(str(tmp_path / "site" / "index.html"), "ad_click: runs", views, links))
    probe = check_index(page, tmp_path / "browser")
    assert probe["found"] and probe["visible"] and probe["width"] > 300 and probe["height"] > 60, probe
    assert probe["rows"] == 2 and probe["links"] == 3 and probe["broken"] == [], probe
    assert probe["requests"] == [] and probe["scripts"] == 0, probe

    # A link to a report that is not there is seen as broken: the check above can fail.
    (reports / "validation-r2.html").unlink()
    assert [href.rsplit("/", 1)[1] for href, _ in check_index(page, tmp_path / "again")["broken"]] == [
        "validation-r2.html"
    ]
