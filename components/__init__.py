"""Code that runs inside TFX executors, driven by the feature spec in ``custom_config``.

- ``components.transform.preprocessing_fn``: the generic TF Transform function.
- ``components.trainer.run_fn``: the generic Keras trainer and serving signatures.
- ``components.resolvers.PreviousBlessedModelStrategy``: the evaluation baseline.

Referenced by module path from the pipeline, so TFX builds no user-code wheel.
This package never imports ``pipelines``.
"""

import os

# TF 2.16 defaults to Keras 3, which TFX 1.16 cannot save; this must precede any TF import.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

__all__: list[str] = []
