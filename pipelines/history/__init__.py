"""Run history: list, inspect and compare a pipeline's runs, and an offline index of them.

Everything is read from ML Metadata and the runs' artifacts, whatever engine made them; a run
made through ``pipelines.run`` also has a record (``record.py``: its validated config and the
engine's word) that ``compare`` diffs. ``python -m pipelines.runs`` and the notebooks call these.
A run is named by its id, ``latest`` or ``latest~N`` (the Nth run before the newest).

    catalog   list_runs, load_run: one row per run (status and why, span, blessing, push, metric)
    show      show_run: one run in full (components, lineage, artifacts, reports)
    compare   compare_runs: config, data, schema and metric differences of two runs
    index     write_index: the offline HTML index linking each run's reports
    record    record_run: written after each run by pipelines.run

Example:
    >>> from pipelines import history, load_config
    >>> config = load_config("configs/ad_click.yaml")
    >>> print(history.format_runs(history.list_runs(config, limit=5)))
    >>> details = history.show_run(config)  # the newest run; history.show_run(config, "latest~1")
    >>> diff = history.compare_runs(config, "latest~1", "latest")
    >>> diff.config_changes, diff.metrics["overall"]["auc"]["delta"]
    >>> statistics, previous = history.run_statistics(history.load_run(config))  # for plots (the notebooks)
    >>> history.write_index(config)  # <pipeline.root>/reports/index.html
"""

from pipelines.history.catalog import RunView, format_runs, list_runs, load_run
from pipelines.history.compare import Comparison, compare_runs, comparison_json, format_comparison, run_statistics
from pipelines.history.index import write_index
from pipelines.history.record import read_record, record_run
from pipelines.history.show import RunDetails, details_json, format_details, show_run

__all__ = [
    "Comparison",
    "RunDetails",
    "RunView",
    "compare_runs",
    "comparison_json",
    "details_json",
    "format_comparison",
    "format_details",
    "format_runs",
    "list_runs",
    "load_run",
    "read_record",
    "record_run",
    "run_statistics",
    "show_run",
    "write_index",
]
