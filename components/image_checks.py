"""The validation gate's image check: ExampleGen's ``image_report.json`` -> one finding per image column.

A row whose image is missing, unreadable or corrupt reached training without it (ExampleGen
counted it and left the feature empty). Above the column's ``max_bad_fraction`` that is an
ERROR (blocking with ``validation.block_on: error``), below it a WARNING; the description
names the column, the number of bad rows and the first paths with their reasons.

Example:
    >>> bad = [{"path": "images/a.png", "reason": "missing"}]
    >>> report = {"image_path": {"rows": 100, "bad": 2, "missing": 1, "undecodable": 1, "first_bad": bad}}
    >>> [f["severity"] for f in image_findings(report, {"image_path": 0.01})]
    ['ERROR']
"""

from __future__ import annotations

import json
from typing import Any

from components import filesystem as fs

__all__ = ["BAD_IMAGES", "image_findings", "read_image_report"]

BAD_IMAGES = "BAD_IMAGES"  # the anomaly kind (validation.allow: {image_path: [BAD_IMAGES]} tolerates it)
REPORT_FILE = "image_report.json"  # written by components.image_example_gen


def read_image_report(examples_uri: str) -> dict[str, Any]:
    """ExampleGen's image report from its examples folder; {} when it wrote none (no image columns)."""
    path = fs.join(examples_uri, REPORT_FILE)
    return json.loads(fs.read_text(path)) if fs.exists(path) else {}


def image_findings(report: dict[str, Any], max_bad: dict[str, float]) -> list[dict[str, str]]:
    """The fields of one :class:`components.gate.Finding` per image column with bad rows
    (``max_bad``: column -> fraction)."""
    out = []
    for column, bound in sorted(max_bad.items()):
        s = report.get(column)
        if not s or not s["bad"]:
            continue
        fraction = s["bad"] / s["rows"]
        above = fraction > bound
        paths = ", ".join(f"{b['path'] or '(empty)'} ({b['reason']})" for b in s["first_bad"])
        description = (
            f"{column}: {s['bad']} of {s['rows']} rows ({fraction:.2%}) have no usable image "
            f"({s['missing']} missing, {s['undecodable']} unreadable or corrupt), "
            f"{'above' if above else 'within'} the allowed {bound:.2%}; first: {paths}"
        )
        fix = (
            f"restore or replace those image files, or raise features.{column}.max_bad_fraction "
            f"(now {bound:g}); the rows train without an image"
        )
        severity = "ERROR" if above else "WARNING"
        out.append(
            {"split": "train,eval", "feature": column, "kind": BAD_IMAGES, "severity": severity}
            | {"description": description, "fix": fix}
        )
    return out
