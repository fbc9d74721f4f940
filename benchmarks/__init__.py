"""Benchmark harness: this project vs. vanilla TFX vs. plain Keras (``python -m benchmarks.run``).

Not part of the test suite. See ``benchmarks/README.md``.

- ``benchmarks.run``: the CLI; runs every scenario and writes ``benchmarks/results/``.
- ``benchmarks.monitor``: one subprocess, per-phase wall time and process-tree peak RSS.
- ``benchmarks.systems``: the commands of the three systems and their progress-line parsers.
- ``benchmarks.report``: results.md, CSVs and scale.png from the run records.
- ``benchmarks.tfma_metrics``: AUC and blessing of vanilla TFX's Evaluator outputs (run in a subprocess).
- ``benchmarks/vanilla_tfx/`` and ``benchmarks/plain_keras.py``: the two reference systems, run as scripts.
"""

__all__: list[str] = []
