"""Vanilla TFX 1.16 ad-click pipeline, written the way the TFX guides do it.

    python benchmarks/vanilla_tfx/ad_click_pipeline.py --data DIR --root DIR --serving DIR \
        [--train-steps 1500] [--eval-steps 50] [--learning-rate 0.003]

CsvExampleGen -> StatisticsGen -> SchemaGen -> ExampleValidator -> Transform ->
Trainer -> (LatestBlessedModelStrategy resolver) -> Evaluator -> Pusher, run with
LocalDagRunner, Beam DirectRunner in_memory, SQLite ML Metadata at <root>/metadata.sqlite.
The Transform and Trainer code is in ``ad_click_module.py`` next to this file
(``module_file=``), which TFX packages into a wheel with pip before the run.
It is the benchmark's reference point, so it imports nothing from the project.
"""

import argparse
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # TFX 1.16 cannot save Keras 3 models

import tensorflow_model_analysis as tfma
from absl import logging
from tfx import v1 as tfx

PIPELINE_NAME = "ad_click_vanilla"
MODULE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ad_click_module.py")
LABEL_KEY = "clicked_on_ad"


def create_pipeline(
    pipeline_name,
    pipeline_root,
    data_root,
    module_file,
    serving_model_dir,
    metadata_path,
    train_steps,
    eval_steps,
    learning_rate,
    beam_pipeline_args,
):
    """Creates the ad-click pipeline."""
    output_config = tfx.proto.Output(
        split_config=tfx.proto.SplitConfig(
            splits=[
                tfx.proto.SplitConfig.Split(name="train", hash_buckets=4),
                tfx.proto.SplitConfig.Split(name="eval", hash_buckets=1),
            ]
        )
    )
    example_gen = tfx.components.CsvExampleGen(input_base=data_root, output_config=output_config)
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"])
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )

    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"], schema=schema_gen.outputs["schema"], module_file=module_file
    )

    trainer = tfx.components.Trainer(
        module_file=module_file,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=eval_steps),
        custom_config={"learning_rate": learning_rate},
    )

    model_resolver = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id("latest_blessed_model_resolver")

    eval_config = tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(signature_name="serving_default", label_key=LABEL_KEY)],
        slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=["male"])],
        metrics_specs=[
            tfma.MetricsSpec(
                metrics=[
                    tfma.MetricConfig(class_name="ExampleCount"),
                    tfma.MetricConfig(class_name="BinaryAccuracy"),
                    tfma.MetricConfig(class_name="Precision"),
                    tfma.MetricConfig(class_name="Recall"),
                    tfma.MetricConfig(class_name="Calibration"),
                    tfma.MetricConfig(
                        class_name="AUC",
                        threshold=tfma.MetricThreshold(
                            value_threshold=tfma.GenericValueThreshold(lower_bound={"value": 0.75}),
                            change_threshold=tfma.GenericChangeThreshold(
                                direction=tfma.MetricDirection.HIGHER_IS_BETTER, absolute={"value": -0.01}
                            ),
                        ),
                    ),
                ]
            )
        ],
    )
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=model_resolver.outputs["model"],
        eval_config=eval_config,
    )

    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=serving_model_dir)
        ),
    )

    return tfx.dsl.Pipeline(
        pipeline_name=pipeline_name,
        pipeline_root=pipeline_root,
        components=[
            example_gen,
            statistics_gen,
            schema_gen,
            example_validator,
            transform,
            trainer,
            model_resolver,
            evaluator,
            pusher,
        ],
        enable_cache=True,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(metadata_path),
        beam_pipeline_args=beam_pipeline_args,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="directory of CSV files")
    parser.add_argument("--root", required=True, help="pipeline root (artifacts, metadata.sqlite)")
    parser.add_argument("--serving", required=True, help="push destination base directory")
    parser.add_argument("--train-steps", type=int, default=1500)
    parser.add_argument("--eval-steps", type=int, default=50)
    parser.add_argument("--learning-rate", type=float, default=0.003)
    args = parser.parse_args()

    logging.set_verbosity(logging.INFO)
    root = os.path.abspath(args.root)
    tfx.orchestration.LocalDagRunner().run(
        create_pipeline(
            pipeline_name=PIPELINE_NAME,
            pipeline_root=root,
            data_root=os.path.abspath(args.data),
            module_file=MODULE_FILE,
            serving_model_dir=os.path.join(os.path.abspath(args.serving), "ad_click"),
            metadata_path=os.path.join(root, "metadata.sqlite"),
            train_steps=args.train_steps,
            eval_steps=args.eval_steps,
            learning_rate=args.learning_rate,
            beam_pipeline_args=["--direct_running_mode=in_memory", "--direct_num_workers=1"],
        )
    )


if __name__ == "__main__":
    main()
