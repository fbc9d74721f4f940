"""The `tuning:` section through the public loader: what it accepts, the errors naming the key, the node list."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipelines.build import component_nodes, stop_nodes
from pipelines.config import load_config
from pipelines.errors import ConfigError
from tests.unit.config_project import REPO, edit, make_project

SPACE = {
    "model": {"hidden_units": {"choice": [[64, 32], [32]]}, "dropout": {"float": [0.0, 0.3]}},
    "trainer": {"learning_rate": {"log": [1e-4, 1e-2]}, "batch_size": {"choice": [64, 128]}},
    "features": {"city": {"embedding_dim": {"int": [2, 8]}}},
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path)


def _with(project: Path, tuning: dict[str, Any], **more: Any) -> Path:
    def change(cfg: dict[str, Any]) -> None:
        cfg["tuning"] = tuning
        for key, value in more.items():
            section, name = key.split("__")
            cfg[section][name] = value

    return edit(project, change)


def test_a_tuning_section_loads_with_defaults(project: Path) -> None:
    cfg = load_config(_with(project, {"space": SPACE, "objective": {"metric": "auc"}}))
    assert cfg.tuning is not None
    assert list(cfg.tuning.flat_space()) == [
        "model.hidden_units",
        "model.dropout",
        "trainer.learning_rate",
        "trainer.batch_size",
        "features.city.embedding_dim",
    ]
    spec = cfg.tuning.tuner_spec()
    assert spec["objective"] == "auc" and spec["direction"] == "max"  # auc's own direction
    assert spec["algorithm"] == "random" and spec["max_trials"] == 4
    assert spec["space"]["trainer.learning_rate"] == {"kind": "log", "values": [1e-4, 1e-2]}
    assert spec["space"]["model.hidden_units"] == {"kind": "choice", "values": [[64, 32], [32]]}


def test_no_tuning_section_means_none(project: Path) -> None:
    assert load_config(project / "c.yaml").tuning is None


def test_the_shipped_tuning_config_loads() -> None:
    cfg = load_config(REPO / "configs" / "ad_click_tuning.yaml")
    assert cfg.tuning is not None and cfg.tuning.max_trials >= 2
    assert cfg.model_name != load_config(REPO / "configs" / "ad_click.yaml").model_name


@pytest.mark.parametrize(
    ("tuning", "more", "key", "match"),
    [
        ({"space": {"data": {"source": {"choice": ["x"]}}}}, {}, "tuning.space.data", "unknown key 'data'"),
        (
            {"space": {"trainer": {"train_steps": {"choice": [10]}}}},
            {},
            "tuning.space.trainer.train_steps",
            "unknown key 'train_steps'",
        ),
        (
            {"space": {"features": {"city": {"hash_buckets": {"choice": [64]}}}}},
            {},
            "tuning.space.features.city.hash_buckets",
            "unknown key 'hash_buckets'",
        ),
        ({"space": {"model": {"hidden_units": {"choice": []}}}}, {}, "tuning.space.model.hidden_units", "empty"),
        (
            {"space": {"trainer": {"learning_rate": {"log": [1e-2, 1e-4]}}}},
            {},
            "tuning.space.trainer.learning_rate",
            "low 0.01 > high 0.0001",
        ),
        ({"space": {"model": {"embedding_dim": {"int": [9, 3]}}}}, {}, "tuning.space.model.embedding_dim", "low 9"),
        ({"space": {"trainer": {"learning_rate": {"log": [0, 1]}}}}, {}, "tuning.space.trainer.learning_rate", "> 0"),
        (
            {"space": {"trainer": {"learning_rate": {"choice": [0.1], "log": [1e-3, 1e-2]}}}},
            {},
            "tuning.space.trainer.learning_rate",
            "write one of",
        ),
        ({"space": {"model": {"dropout": {"choice": [0.1, 1.5]}}}}, {}, "tuning.space.model.dropout", "1.5"),
        (
            {"space": {"features": {"nope": {"embedding_dim": {"choice": [4]}}}}},
            {},
            "tuning.space.features.nope.embedding_dim",
            "not in features",
        ),
        (
            {"space": {"features": {"age": {"embedding_dim": {"choice": [4]}}}}},
            {},
            "tuning.space.features.age.embedding_dim",
            "'zscore' has no embedding_dim",
        ),
        (
            {"space": SPACE, "objective": {"metric": "mae"}},
            {},
            "tuning.objective.metric",
            "not a binary metric",
        ),
        ({"space": SPACE, "objective": {"metric": "auc", "direction": "min"}}, {}, "tuning.objective", "max"),
        ({"space": {}}, {}, "tuning.space", "names no setting"),
        ({"space": SPACE, "algorithm": "grid"}, {}, "tuning.algorithm", "random"),
        ({"space": SPACE}, {"trainer__run_fn": "tests.e2e.user_module.run_fn"}, "tuning", "remove trainer.run_fn"),
    ],
)
def test_bad_tuning_names_the_key(
    project: Path, tuning: dict[str, Any], more: dict[str, Any], key: str, match: str
) -> None:
    path = _with(project, tuning, **more)
    with pytest.raises(ConfigError, match=match) as info:
        load_config(path)
    assert info.value.exit_code == 2
    assert f": {key}: " in str(info.value), str(info.value)


def test_cli_exits_2_naming_the_key_without_a_traceback(project: Path) -> None:
    path = _with(project, {"space": {"trainer": {"learning_rate": {"log": [1e-2, 1e-4]}}}})
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.run", "--config", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "tuning.space.trainer.learning_rate" in proc.stderr and "low 0.01 > high 0.0001" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_without_tuning_the_nodes_are_unchanged(project: Path) -> None:
    cfg = load_config(project / "c.yaml")
    assert list(component_nodes(cfg)) == [
        "CsvExampleGen",
        "ImportSchemaGen",
        "StatisticsGen",
        "ExampleValidator",
        "DataGate",
        "Transform",
        "TransformGate",
        "Trainer",
        "Evaluator",
        "Pusher",
    ]


def test_with_tuning_the_tuner_sits_between_transform_and_trainer(project: Path) -> None:
    plain = load_config(project / "c.yaml")
    cfg = load_config(_with(project, {"space": SPACE}))
    names = list(component_nodes(cfg))
    assert names[names.index("TransformGate") + 1 :][:2] == ["Tuner", "Trainer"]
    assert component_nodes(cfg)["Tuner"] == ["Tuner"]
    assert stop_nodes(cfg) == stop_nodes(plain)  # the gates' stop nodes are untouched
