"""The push contract: how models are laid out for TensorFlow Serving, and how a version is served.

    <serving_dir>/
        models.config                 text ModelServerConfig: each model, its base_path, the served
                                      versions (``specific`` policy) and their labels (``stable``,
                                      ``canary``, any other a user added: every change keeps them)
        routing.json                  the canary's share of the unlabelled path, per model
        <model_name>/
            <version>/                SavedModel (+ assets.extra/: eval_metrics.json, warm-up requests)
            .incoming-<v>-<pid>/      a push in progress (TF Serving ignores non-integer names)

One public namespace over four modules, each one responsibility:

- :mod:`components.serving_paths`: the names, ``LayoutError``, listing versions, the layout lock.
- :mod:`components.serving_config`: ``models.config`` and ``routing.json`` read and written (which
  versions are served, under which labels, with which share).
- :mod:`components.serving_versions`: version directories published, listed, pruned, rolled back;
  a canary set, promoted or removed.
- :mod:`components.serving_warmup`: the warm-up requests file, written and read.

A version appears under its integer name only through the rename of a complete copy, so a
server polling the directory never loads half a model. Every change to the layout holds an
exclusive lock (:func:`components.serving_paths.locked`, local or ``gs://``), so two pushes (or a push and a
rollback) never interleave. Every file access goes through :mod:`components.filesystem`. Pure
Python and protobuf: cheap to import; only the warm-up writer loads TensorFlow.

Example:
    >>> version, path = publish_version("runs/x/Trainer/model/6/Format-Serving", "serving", "ad_click")
    >>> prune("serving", "ad_click", keep=5)
    >>> write_models_config("serving", pins={"ad_click": version})
    >>> rollback("serving", "ad_click")  # serve the previous version again
    >>> set_canary("serving", "ad_click", 0.1)  # the newest non-stable version takes 10%
"""

from components.serving_config import (
    CANARY_LABEL,
    ROUTING_FILE,
    ModelEntry,
    read_models_config,
    read_routing,
    served_version,
    write_models_config,
)
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
from components.serving_versions import (
    ExtraFile,
    VersionInfo,
    list_versions,
    promote_canary,
    prune,
    publish_version,
    remove_canary,
    rollback,
    set_canary,
)
from components.serving_warmup import read_warmup_requests, warmup_records, write_warmup_requests

__all__ = [
    "CANARY_LABEL",
    "CONFIG_FILE",
    "EVAL_METRICS_FILE",
    "EXTRA_DIR",
    "ROUTING_FILE",
    "STABLE_LABEL",
    "WARMUP_FILE",
    "ExtraFile",
    "LayoutError",
    "ModelEntry",
    "VersionInfo",
    "absolute",
    "list_versions",
    "model_names",
    "promote_canary",
    "prune",
    "publish_version",
    "read_models_config",
    "read_routing",
    "read_warmup_requests",
    "remove_canary",
    "rollback",
    "served_version",
    "set_canary",
    "version_dirs",
    "versions_in",
    "warmup_records",
    "write_models_config",
    "write_warmup_requests",
]
