"""Synthetic data sets with a known generating rule (ad-click, and tabular churn/species/prices).

- ``ad_click``: the advertising table the example pipeline trains on; the rule's AUC is 0.896.
- ``tabular``: messy exports (BOM, NA tokens, quoted newlines) for the scaffold, one per task.
- ``datasets.generate``: any of them by name (``python -m pipelines.datagen``).
"""

from pipelines.data.generators.ad_click import (
    COLUMNS,
    LABEL,
    generate_ad_click,
    oracle_auc,
    read_csv_columns,
    write_ad_click,
)
from pipelines.data.generators.datasets import DATASETS, Generated, generate
from pipelines.data.generators.oracle import roc_auc
from pipelines.data.generators.tabular import TABLES

__all__ = [
    "COLUMNS",
    "DATASETS",
    "LABEL",
    "TABLES",
    "Generated",
    "generate",
    "generate_ad_click",
    "oracle_auc",
    "read_csv_columns",
    "roc_auc",
    "write_ad_click",
]
