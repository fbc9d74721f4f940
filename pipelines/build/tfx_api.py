"""The parts of TFX a local run uses, imported directly.

``from tfx import v1`` also imports the Google Cloud AI Platform / Vertex extensions
(``google.cloud.aiplatform``), which a local run never uses; importing the modules
themselves skips them. The namespace mirrors ``tfx.v1`` so code reads the same.
"""

import importlib.util
import sys
from types import SimpleNamespace
from typing import Any


def _without_package_init(name: str) -> None:
    """Register package ``name`` without running its ``__init__``; submodules import as usual.

    ``tfx/components/__init__.py`` imports every TFX component, BulkInferrer's and Tuner's
    executors (TF Serving APIs, keras_tuner) included: about 5 s a local run never uses.
    ``from tfx.components import X`` still works: the first such attribute access runs the
    real ``__init__`` then.
    """
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)

    def __getattr__(attr: str) -> Any:  # noqa: N807 (module __getattr__)
        del module.__getattr__
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        return getattr(module, attr)

    module.__getattr__ = __getattr__  # type: ignore[attr-defined]
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    setattr(sys.modules[parent], child, module)


_without_package_init("tfx.components")

from tfx.components.evaluator.component import Evaluator  # noqa: E402
from tfx.components.example_gen.csv_example_gen.component import CsvExampleGen  # noqa: E402
from tfx.components.example_validator.component import ExampleValidator  # noqa: E402
from tfx.components.schema_gen.component import SchemaGen  # noqa: E402
from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen  # noqa: E402
from tfx.components.statistics_gen.component import StatisticsGen  # noqa: E402
from tfx.components.trainer.component import Trainer  # noqa: E402
from tfx.components.transform.component import Transform  # noqa: E402
from tfx.dsl.components.common.resolver import Resolver  # noqa: E402
from tfx.orchestration import metadata  # noqa: E402
from tfx.orchestration.local.local_dag_runner import LocalDagRunner  # noqa: E402
from tfx.orchestration.pipeline import Pipeline  # noqa: E402
from tfx.proto import example_gen_pb2, range_config_pb2, trainer_pb2  # noqa: E402
from tfx.types import standard_artifacts  # noqa: E402
from tfx.types.channel import Channel  # noqa: E402

tfx = SimpleNamespace(
    components=SimpleNamespace(
        CsvExampleGen=CsvExampleGen,
        StatisticsGen=StatisticsGen,
        SchemaGen=SchemaGen,
        ImportSchemaGen=ImportSchemaGen,
        ExampleValidator=ExampleValidator,
        Transform=Transform,
        Trainer=Trainer,
        Evaluator=Evaluator,
    ),
    dsl=SimpleNamespace(Pipeline=Pipeline, Resolver=Resolver, Channel=Channel),
    types=SimpleNamespace(standard_artifacts=standard_artifacts),
    proto=SimpleNamespace(
        Output=example_gen_pb2.Output,
        SplitConfig=example_gen_pb2.SplitConfig,
        Input=example_gen_pb2.Input,
        RangeConfig=range_config_pb2.RangeConfig,
        RollingRange=range_config_pb2.RollingRange,
        TrainArgs=trainer_pb2.TrainArgs,
        EvalArgs=trainer_pb2.EvalArgs,
    ),
    orchestration=SimpleNamespace(metadata=metadata, LocalDagRunner=LocalDagRunner),
)
