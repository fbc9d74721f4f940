"""How the evaluation and drift baselines are chosen, per engine.

Kubeflow V2 (Vertex AI) compiles only TFX's stock resolver strategies
(``tfx/orchestration/kubeflow/v2/step_builder.py`` raises ``TypeError`` on any other),
so one choice per kind of engine:

    engine          model baseline (Evaluator)                 drift baseline (DataGate)
    local, airflow  PreviousBlessedModelStrategy: newest        PreviousPassedStatisticsStrategy: newest
                    blessed model older than the candidate      earlier statistics that passed the gate
    vertex          LatestBlessedModelStrategy (resolved        LatestArtifactStrategy, resolved before
                    before this run's Evaluator can bless)      StatisticsGen runs (an ordering edge)

Locally a cached rerun keeps the Evaluator's inputs identical, so Evaluator and Pusher
are cached. On Vertex the Evaluator, the only writer of blessings, depends on the
resolver, so a changed run compares with the model blessed before it; on a cached rerun
the stock strategy returns the candidate itself and ``components.evaluator.Executor``
drops that baseline (no model compared with itself).
What Vertex loses: a blocked data drop may become the next drift baseline (the stock
strategy cannot read gate verdicts), and a cached rerun is evaluated and pushed again.
"""

from __future__ import annotations

from typing import Any

# Engines whose compiler accepts only TFX's stock resolver strategies.
STOCK_RESOLVERS_ONLY = ("vertex",)


def model_baseline(engine: str, trainer: Any) -> Any:
    """The resolver node whose ``outputs["model"]`` is the Evaluator's ``baseline_model``."""
    from components.resolvers import PreviousBlessedModelStrategy
    from pipelines.build.tfx_api import tfx

    models = tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model)
    blessings = tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing)
    if engine in STOCK_RESOLVERS_ONLY:
        from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import LatestBlessedModelStrategy

        # No ordering edge: V2 splits this node in two tasks, and an edge would name neither.
        return tfx.dsl.Resolver(
            strategy_class=LatestBlessedModelStrategy, model=models, model_blessing=blessings
        ).with_id("baseline_resolver")
    return tfx.dsl.Resolver(
        strategy_class=PreviousBlessedModelStrategy,
        candidate=trainer.outputs["model"],
        model=models,
        model_blessing=blessings,
    ).with_id("baseline_resolver")


def drift_baseline(engine: str, statistics_gen: Any) -> Any:
    """The resolver node whose ``outputs["statistics"]`` is the data gate's ``baseline_statistics``."""
    from components.resolvers import PreviousPassedStatisticsStrategy
    from components.validation_gate import ValidationVerdict
    from pipelines.build.tfx_api import tfx

    statistics = tfx.dsl.Channel(type=tfx.types.standard_artifacts.ExampleStatistics)
    if engine in STOCK_RESOLVERS_ONLY:
        from tfx.dsl.input_resolution.strategies.latest_artifact_strategy import LatestArtifactStrategy

        node = tfx.dsl.Resolver(strategy_class=LatestArtifactStrategy, statistics=statistics)
        statistics_gen.add_upstream_node(node.with_id("drift_baseline_resolver"))
        return node
    return tfx.dsl.Resolver(
        strategy_class=PreviousPassedStatisticsStrategy,
        candidate=statistics_gen.outputs["statistics"],
        statistics=statistics,
        verdicts=tfx.dsl.Channel(type=ValidationVerdict),
    ).with_id("drift_baseline_resolver")
