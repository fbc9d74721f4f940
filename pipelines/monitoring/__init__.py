"""Closing the loop: served traffic monitored for skew, drift and live accuracy, and batch scoring.

One module per job: ``logs`` (the request log as a table, corrupt files skipped; ``bulk``
decodes a file of predict logs in bulk), ``baseline`` (a served version's training statistics
through ML Metadata, its push-time metrics), ``compare`` (TFDV skew and drift rows), ``live``
(delayed labels joined, canary vs stable), ``job`` (one monitoring pass and its alerts),
``report`` (JSON, HTML and the console table), ``batch`` (batch inference as a Beam job with
RunInference; ``chunks`` turns CSV files into its chunks of typed columns). Commands:
``pipelines.monitor``, ``pipelines.predict``.

Example:
    >>> result = monitor(config, since=None, labels="labels/")
    >>> print(format_table(result))
"""

from pipelines.monitoring.job import MonitorResult, monitor
from pipelines.monitoring.report import format_table, write_reports

__all__ = ["MonitorResult", "format_table", "monitor", "write_reports"]
