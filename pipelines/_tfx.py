"""The parts of TFX a local run uses, imported directly.

``from tfx import v1`` also imports the Google Cloud AI Platform / Vertex extensions
(``google.cloud.aiplatform``), which a local run never uses; importing the modules
themselves skips them. The namespace mirrors ``tfx.v1`` so code reads the same.
"""

from types import SimpleNamespace

from tfx.components.evaluator.component import Evaluator
from tfx.components.example_gen.csv_example_gen.component import CsvExampleGen
from tfx.components.example_validator.component import ExampleValidator
from tfx.components.schema_gen.component import SchemaGen
from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen
from tfx.components.statistics_gen.component import StatisticsGen
from tfx.components.trainer.component import Trainer
from tfx.components.transform.component import Transform
from tfx.dsl.components.common.resolver import Resolver
from tfx.orchestration import metadata
from tfx.orchestration.local.local_dag_runner import LocalDagRunner
from tfx.orchestration.pipeline import Pipeline
from tfx.proto import example_gen_pb2, range_config_pb2, trainer_pb2
from tfx.types import standard_artifacts
from tfx.types.channel import Channel

tfx = SimpleNamespace(
    components=SimpleNamespace(
        CsvExampleGen=CsvExampleGen, StatisticsGen=StatisticsGen, SchemaGen=SchemaGen,
        ImportSchemaGen=ImportSchemaGen, ExampleValidator=ExampleValidator, Transform=Transform,
        Trainer=Trainer, Evaluator=Evaluator,
    ),
    dsl=SimpleNamespace(Pipeline=Pipeline, Resolver=Resolver, Channel=Channel),
    types=SimpleNamespace(standard_artifacts=standard_artifacts),
    proto=SimpleNamespace(
        Output=example_gen_pb2.Output, SplitConfig=example_gen_pb2.SplitConfig, Input=example_gen_pb2.Input,
        RangeConfig=range_config_pb2.RangeConfig, RollingRange=range_config_pb2.RollingRange,
        TrainArgs=trainer_pb2.TrainArgs, EvalArgs=trainer_pb2.EvalArgs,
    ),
    orchestration=SimpleNamespace(metadata=metadata, LocalDagRunner=LocalDagRunner),
)
