"""``python -m benchmarks.tfma_metrics EVAL_DIR ...``: overall AUC and blessing of Evaluator outputs.

Prints one JSON line ``{eval_dir: {"auc": float | null, "blessed": bool | null}}``.
Run by the harness in a subprocess so TFMA's import cost stays out of its own process.
"""

from __future__ import annotations

import json
import os
import sys


def read(eval_dir: str) -> dict:
    import tensorflow_model_analysis as tfma

    info: dict = {"auc": None, "blessed": None}
    try:
        for metrics in tfma.load_metrics(eval_dir):
            if metrics.slice_key.single_slice_keys:
                continue  # overall slice only
            for kv in metrics.metric_keys_and_values:
                if kv.key.name == "auc" and not kv.key.is_diff:
                    info["auc"] = round(kv.value.double_value.value, 4)
    except Exception as exc:  # noqa: BLE001 - report what could be read
        info["error"] = f"{type(exc).__name__}: {exc}"
    blessing = os.path.join(os.path.dirname(os.path.dirname(eval_dir)), "blessing", os.path.basename(eval_dir))
    if os.path.isdir(blessing):
        names = os.listdir(blessing)
        info["blessed"] = True if "BLESSED" in names else False if "NOT_BLESSED" in names else None
    return info


def main(argv: list[str]) -> int:
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    print(json.dumps({d: read(d) for d in argv}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
