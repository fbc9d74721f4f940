"""The push contract: how models are laid out for TensorFlow Serving, and how a version is served.

    <serving_dir>/
        models.config                 text ModelServerConfig: each model, its base_path, the served
                                      version (``specific`` policy) and the ``stable`` label
        <model_name>/
            <version>/                SavedModel (+ assets.extra/: eval_metrics.json, warm-up requests)
            .incoming-<v>-<pid>/      a push in progress (TF Serving ignores non-integer names)

One public namespace over four modules, each one responsibility:

- :mod:`components.serving_paths`: the names, ``LayoutError``, listing versions, the layout lock.
- :mod:`components.serving_config`: ``models.config`` read and written (which version is served).
- :mod:`components.serving_versions`: version directories published, listed, pruned, rolled back.
- :mod:`components.serving_warmup`: the warm-up requests file, written and read.

A version appears under its integer name only through the rename of a complete copy, so a
server polling the directory never loads half a model. Every change to the layout holds an
exclusive lock on ``<serving_dir>/.lock`` (local serving dirs), so two pushes (or a push and a
rollback) never interleave. Every file access goes through :mod:`components.filesystem`. Pure
Python and protobuf: cheap to import; only the warm-up writer loads TensorFlow.

Example:
    >>> version, path = publish_version("runs/x/Trainer/model/6/Format-Serving", "serving", "ad_click")
    >>> prune("serving", "ad_click", keep=5)
    >>> write_models_config("serving", pins={"ad_click": version})
    >>> rollback("serving", "ad_click")  # serve the previous version again
"""

from components.serving_config import ModelEntry, read_models_config, served_version, write_models_config
from components.serving_paths import (
    CONFIG_FILE,
    EVAL_METRICS_FILE,
    EXTRA_DIR,
    STABLE_LABEL,
    WARMUP_FILE,
    LayoutError,
    absolute,
    model_names,
    version_dirs,
    versions_in,
)
from components.serving_versions import ExtraFile, VersionInfo, list_versions, prune, publish_version, rollback
from components.serving_warmup import read_warmup_requests, warmup_records, write_warmup_requests

__all__ = [
    "CONFIG_FILE",
    "EVAL_METRICS_FILE",
    "EXTRA_DIR",
    "STABLE_LABEL",
    "WARMUP_FILE",
    "ExtraFile",
    "LayoutError",
    "ModelEntry",
    "VersionInfo",
    "absolute",
    "list_versions",
    "model_names",
    "prune",
    "publish_version",
    "read_models_config",
    "read_warmup_requests",
    "rollback",
    "served_version",
    "version_dirs",
    "versions_in",
    "warmup_records",
    "write_models_config",
    "write_warmup_requests",
]
