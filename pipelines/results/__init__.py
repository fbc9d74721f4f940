"""What a run produced, read back from ML Metadata and artifacts: summary, run records, reports.

``mlmd`` reads one run's executions and artifacts; ``summary`` turns them into the
``RunSummary`` (table, JSON, exit status); ``records`` remembers the last success for the
fast path; ``reports`` renders the HTML reports. Whatever engine ran the pipeline, the
summary is read the same way.
"""

from pipelines.results.mlmd import read_run
from pipelines.results.records import cached_summary, record_success
from pipelines.results.summary import RunSummary, collect, format_table, read_verdict, run_artifacts

__all__ = [
    "RunSummary",
    "cached_summary",
    "collect",
    "format_table",
    "read_run",
    "read_verdict",
    "record_success",
    "run_artifacts",
]
