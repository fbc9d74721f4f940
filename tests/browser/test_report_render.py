"""The validation report in a real browser: Debian's headless Chromium, driven over the DevTools protocol.

No extra Python dependency: Chromium listens on 127.0.0.1 (``--remote-debugging-port=0``,
the port read from ``DevToolsActivePort``) and the installed ``websockets`` package
speaks the protocol. The test checks that the anomaly table is really visible, that
the page fetched nothing, that a hostile feature name stays text, and saves a
full-page screenshot under the test's tmp dir.

Needs ``apt-get install -y chromium`` (skipped, with that hint, when /usr/bin/chromium is absent).
"""

from __future__ import annotations

import base64
import contextlib
import csv
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow  # TFDV (~15 s to import) and a browser

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
HOSTILE = "<script>window.__pwned = true</script>"


class DevTools:
    """A minimal synchronous Chrome DevTools Protocol client over one browser websocket."""

    def __init__(self, ws_url: str) -> None:
        from websockets.sync.client import connect

        self.ws = connect(ws_url, max_size=None, open_timeout=15)
        self.events: list[dict[str, Any]] = []
        self._id = 0

    def _recv(self, deadline: float) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no answer from Chromium")
        return json.loads(self.ws.recv(timeout=remaining))

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None, timeout: float = 30
    ) -> dict[str, Any]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while True:
            data = self._recv(deadline)
            if data.get("id") == self._id:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return data.get("result", {})
            self.events.append(data)

    def wait_for(self, method: str, *, after: int = 0, timeout: float = 30) -> dict[str, Any]:
        """The first ``method`` event at or after index ``after`` of :attr:`events`."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events[after:]:
                if event.get("method") == method:
                    return event
            self.events.append(self._recv(deadline))

    def requests_since(self, index: int) -> list[str]:
        return [
            e["params"]["request"]["url"] for e in self.events[index:] if e.get("method") == "Network.requestWillBeSent"
        ]

    def close(self) -> None:
        self.ws.close()


def start_chromium(profile: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """Start headless Chromium on a free local port; (process, browser websocket URL)."""
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--hide-scrollbars",
        "--mute-audio",
        f"--user-data-dir={profile}",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        "--window-size=1280,900",
        "about:blank",
    ]
    with open(log, "wb") as err:
        # Own process group, so the finally block can stop Chromium and all its helper processes.
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if port_file.exists():
            lines = port_file.read_text().split()
            if len(lines) >= 2:
                return proc, f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        if proc.poll() is not None:
            raise RuntimeError(f"Chromium exited with {proc.returncode}: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    raise RuntimeError(f"Chromium wrote no DevToolsActivePort in 60 s: {log.read_text()[-2000:]}")


def stop_chromium(proc: subprocess.Popen) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # our own group: helpers (zygote, renderers) included
    proc.wait(timeout=10)


PROBE = """(() => {
  const t = document.querySelector('#anomalies');
  if (!t) return {found: false};
  t.scrollIntoView({block: 'center'});
  const r = t.getBoundingClientRect(), s = getComputedStyle(t);
  const probe = document.elementFromPoint(r.left + Math.min(r.width / 2, 150), r.top + Math.min(r.height / 2, 30));
  return {
    found: true, width: r.width, height: r.height, display: s.display, visibility: s.visibility,
    opacity: Number(s.opacity), visible: t.checkVisibility({checkOpacity: true, checkVisibilityCSS: true}),
    onTop: !!probe && t.contains(probe),
    headers: [...t.querySelectorAll('thead th')].map(th => th.textContent),
    rows: [...t.querySelectorAll('tbody tr')].map(tr =>
      ({text: tr.innerText, height: tr.getBoundingClientRect().height})),
    pwned: window.__pwned === true,
    scripts: document.scripts.length,
    charts: document.querySelectorAll('svg.chart').length,
    status: document.querySelector('#status').innerText,
  };
})()"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    """A validation report on real TFDV statistics of broken ad-click data, with anomalies."""
    import tensorflow_data_validation as tfdv

    from pipelines.data.generators import write_ad_click
    from pipelines.results.reports import anomalies_from_proto, render_validation_report

    tmp = tmp_path_factory.mktemp("browser_report")
    good = write_ad_click(str(tmp / "good"), 300, seed=1)[0]
    broken = write_ad_click(str(tmp / "broken"), 300, seed=2)[0]
    with open(broken, newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    rows[1][header.index("clicked_on_ad")] = "7"
    rows[2][header.index("age")] = "forty"
    with open(broken, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    stats = tfdv.generate_statistics_from_csv(broken)
    previous = tfdv.generate_statistics_from_csv(good)
    schema = tfdv.load_schema_text(str(REPO / "schemas" / "ad_click" / "schema.pbtxt"))
    anomalies = anomalies_from_proto(tfdv.validate_statistics(stats, schema), split="train")
    anomalies.append(
        {
            "feature": HOSTILE,
            "kind": "SCHEMA_NEW_COLUMN",
            "description": f"new column {HOSTILE}",
            "fix": "drop it",
            "severity": "warning",
            "split": "train",
        }
    )
    out = render_validation_report(
        tmp / "validation.html",
        title="ad_click: data validation",
        statistics=stats,
        anomalies=anomalies,
        previous_statistics=previous,
        run_info={"pipeline": "ad_click", "data": broken},
    )
    return Path(out), anomalies


@pytest.mark.timeout(240)
@pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} not found; install it: apt-get install -y chromium"
)
def test_anomaly_table_visible_and_offline(report: tuple[Path, list[dict[str, str]]], tmp_path: Path) -> None:
    path, anomalies = report
    assert {a["feature"] for a in anomalies} >= {"age", "clicked_on_ad"}
    url = path.as_uri()
    # A control page whose image must show up as a request: proves the recorder would see a fetch.
    control = tmp_path / "control.html"
    control.write_text('<!DOCTYPE html><img src="missing-pixel.png" alt="">')

    proc, ws_url = start_chromium(tmp_path / "profile", tmp_path / "chromium.log")
    cdp = None
    try:
        cdp = DevTools(ws_url)
        target = cdp.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = cdp.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Network.enable", "Page.enable", "Runtime.enable"):
            cdp.call(domain, session=session)
        cdp.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )

        start = len(cdp.events)
        cdp.call("Page.navigate", {"url": url}, session=session)
        cdp.wait_for("Page.loadEventFired", after=start)
        time.sleep(0.3)  # let anything deferred (there should be nothing) start
        probe = cdp.call("Runtime.evaluate", {"expression": PROBE, "returnByValue": True}, session=session)["result"][
            "value"
        ]
        metrics = cdp.call("Page.getLayoutMetrics", session=session)
        size = metrics["cssContentSize"]
        shot = cdp.call(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 8000), "scale": 1},
            },
            session=session,
            timeout=60,
        )
        png = base64.b64decode(shot["data"])
        (tmp_path / "validation_report.png").write_bytes(png)
        report_requests = [u for u in cdp.requests_since(start) if u != url]

        start = len(cdp.events)
        cdp.call("Page.navigate", {"url": control.as_uri()}, session=session)
        cdp.wait_for("Page.loadEventFired", after=start)
        control_requests = cdp.requests_since(start)
        cdp.call("Browser.close")
    finally:
        if cdp is not None:
            cdp.close()
        stop_chromium(proc)

    assert any(u.endswith("missing-pixel.png") for u in control_requests), control_requests
    assert report_requests == [], f"the report fetched: {report_requests}"

    assert probe["found"], "no #anomalies table"
    assert probe["width"] > 200 and probe["height"] > 40, probe
    assert probe["display"] == "table" and probe["visibility"] == "visible" and probe["opacity"] == 1, probe
    assert probe["visible"] and probe["onTop"], probe
    assert probe["headers"][:3] == ["split", "feature", "kind"], probe["headers"]
    assert len(probe["rows"]) == len(anomalies) >= 3
    assert all(row["height"] > 0 for row in probe["rows"])
    texts = [row["text"] for row in probe["rows"]]
    for anomaly in anomalies:
        assert any(anomaly["feature"] in t and anomaly["kind"].split(",")[0] in t for t in texts), anomaly
    assert any("forty" in t for t in texts) and any(HOSTILE in t for t in texts)  # shown as text
    assert not probe["pwned"] and probe["scripts"] == 0
    assert probe["charts"] >= 8  # a histogram or bar chart per feature
    assert "anomalies" in probe["status"]

    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
