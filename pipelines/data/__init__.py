"""The input data: which files a run reads, the checks before TFX starts, the scaffold, the schema tools.

- ``sources``: ``data.source`` + ``data.pattern`` -> the files of the latest span(s).
- ``environment``: checks of the world a config names (data folder, schema file, columns).
- ``preflight``: every input file read as ExampleGen reads it (``components.csv_cells``); problems named.
- ``column_profiles`` / ``scaffold``: a CSV sample -> inferred config and curated schema (``pipelines.init``).
- ``schema_review``: statistics as a run computes them -> inferred schema, diff (``pipelines.schema``).
- ``generators``: example data with a known rule (``pipelines.datagen``; imported on its own, uses numpy).

Nothing here imports TensorFlow, TFX, Beam or TFDV at import time.
"""

from pipelines.data.environment import check_environment
from pipelines.data.preflight import Problem, preflight
from pipelines.data.scaffold import Scaffolded, ScaffoldRequest, scaffold
from pipelines.data.schema_review import SchemaDiff, csv_statistics, diff_schema, infer_schema
from pipelines.data.sources import InputFiles, resolve

__all__ = [
    "InputFiles",
    "Problem",
    "ScaffoldRequest",
    "Scaffolded",
    "SchemaDiff",
    "check_environment",
    "csv_statistics",
    "diff_schema",
    "infer_schema",
    "preflight",
    "resolve",
    "scaffold",
]
