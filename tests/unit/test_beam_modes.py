"""benchmarks.beam_modes: a stopped run keeps the stage times its progress lines show; --merge keeps other rows."""

from __future__ import annotations

from benchmarks.beam_modes import _merge, ended_components

LOG = """\
[ 1/10] CsvExampleGen     started
[ 1/10] CsvExampleGen     ran      912.4 s
[ 2/10] ImportSchemaGen   cached     0.2 s
[ 3/10] StatisticsGen     started
WARNING: something else on the console, 3.0 s
[10/10] Pusher            failed     1.5 s
"""


def test_ended_components_reads_only_end_lines() -> None:
    assert ended_components(LOG) == {"CsvExampleGen": 912.4, "ImportSchemaGen": 0.2, "Pusher": 1.5}


def test_merge_replaces_same_size_run_and_mode_and_keeps_the_rest_in_order() -> None:
    old = [
        {"rows": 20000, "until": "full", "mode": "in_memory", "wall_s": 1},
        {"rows": 2000000, "until": "validate", "mode": "multi_processing", "skipped": True},
        {"rows": 200000, "until": "full", "mode": "multi_processing", "skipped": True},
    ]
    new = [{"rows": 200000, "until": "full", "mode": "multi_processing", "wall_s": 9}]
    merged = _merge(old, new)
    assert [(r["rows"], r["mode"]) for r in merged] == [
        (20000, "in_memory"),
        (200000, "multi_processing"),
        (2000000, "multi_processing"),
    ]
    assert merged[1] == new[0]
