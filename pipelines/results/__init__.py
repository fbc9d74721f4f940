"""What a run produced, read back from ML Metadata and artifacts: summary, run records, reports."""
