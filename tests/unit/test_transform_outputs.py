"""What Transform computes and writes, and how the Trainer and Tuner read its graph (issue 17).

Transform writes no transformed examples (``materialize=False``): the Trainer and Tuner read
ExampleGen's raw examples through the Transform graph in tf.data; what
``components.trainer._dataset`` yields equals TF Transform's own output. Its pre-transform
statistics cover the label only (StatisticsGen profiles the raw columns).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # TensorFlow, TF Transform, Beam and TFX (~40 s)

REPO = Path(__file__).resolve().parents[2]
ROWS = [
    {"num": [1.0], "cat": [b"a"], "ts": [b"2016-03-27 00:53:11"], "opt": [2.0], "y": [b"Yes"]},
    {"num": [2.0], "cat": [b"a"], "ts": [b"2016-01-01 23:00:00"], "opt": [], "y": [b"No"]},
    {"num": [3.0], "cat": [b"b"], "ts": [b"2016-07-04 08:15:00"], "opt": [4.0], "y": [b"Yes"]},
    {"num": [4.0], "cat": [b"c"], "ts": [b"2016-12-31 12:30:00"], "opt": [], "y": [b"No"]},
]
CONFIG = {
    "label": "y",
    "task": "binary",
    "positive": "Yes",
    "features": {
        "num": {"transform": "zscore"},
        "cat": {"transform": "vocabulary", "top_k": 1, "oov_buckets": 1},
        "ts": {"transform": "timestamp", "parts": ["hour", "month"]},
        "opt": {"transform": "passthrough"},
    },
}


def _example(row: dict) -> bytes:
    import tensorflow as tf

    feature = {}
    for name, values in row.items():
        if values and isinstance(values[0], bytes):
            feature[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
        else:
            feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=values))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


class _Accessor:  # what TFX's DataAccessor does for tf.Example payloads
    @staticmethod
    def tf_dataset_factory(files, options, schema):
        from tfx_bsl.public import tfxio

        return tfxio.TFExampleRecord(files, schema=schema).TensorFlowDataset(options)


@pytest.fixture(scope="module")
def transformed(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, list]:
    """(raw examples file, Transform graph folder, TF Transform's own output) for ``ROWS``."""
    import components  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)

    # isort: split
    import tensorflow as tf
    import tensorflow_transform as tft
    import tensorflow_transform.beam as tft_beam
    from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io, schema_utils

    from components.transform import preprocessing_fn

    tmp_path = tmp_path_factory.mktemp("transform")
    spec = {
        "num": tf.io.FixedLenFeature([1], tf.float32),
        "cat": tf.io.FixedLenFeature([1], tf.string),
        "ts": tf.io.FixedLenFeature([1], tf.string),
        "opt": tf.io.VarLenFeature(tf.float32),
        "y": tf.io.FixedLenFeature([1], tf.string),
    }
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    graph = tmp_path / "transform_graph"
    with tft_beam.Context(temp_dir=str(tmp_path / "tmp"), force_tf_compat_v1=False):
        (materialised, _), transform_fn = (ROWS, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing_fn(inputs, CONFIG)
        )
        _ = transform_fn | tft_beam.WriteTransformFn(str(graph))
    metadata_io.write_metadata(metadata, str(graph / tft.TFTransformOutput.RAW_METADATA_DIR))
    raw_file = str(tmp_path / "raw.tfrecord")
    with tf.io.TFRecordWriter(raw_file) as writer:
        for row in ROWS:
            writer.write(_example(row))
    return raw_file, str(graph), materialised


def _batches(transformed: tuple, batch_size: int, count: int, **kwargs) -> list[list[float]]:
    """The ``num`` column (zscored, so one distinct value per row) of ``count`` training batches."""
    import tensorflow_transform as tft

    from components.trainer import _dataset

    raw_file, graph, _ = transformed
    ds = _dataset([raw_file], _Accessor, tft.TFTransformOutput(graph), "y", batch_size, **kwargs)
    return [np.round(f["num"].numpy().reshape(-1), 5).tolist() for f, _ in ds.take(count)]


def test_each_epoch_is_a_permutation_of_the_rows_in_memory(transformed) -> None:
    batches = _batches(transformed, 3, 6)
    assert [len(b) for b in batches] == [3, 1] * 3  # 4 rows: an epoch is a batch of 3 and the remainder
    epochs = [batches[i] + batches[i + 1] for i in (0, 2, 4)]
    assert all(sorted(e) == sorted(epochs[0]) and len(set(e)) == 4 for e in epochs)
    assert len({tuple(e) for e in epochs}) > 1  # reshuffled between epochs (3 epochs of 24 orders)


def test_only_the_rows_training_will_draw_are_transformed(transformed, monkeypatch: pytest.MonkeyPatch) -> None:
    from components import trainer

    monkeypatch.setattr(trainer, "TRANSFORM_BATCH_SIZE", 1)
    everything = {v for b in _batches(transformed, 1, 8) for v in b}
    capped = {v for b in _batches(transformed, 1, 8, rows=2) for v in b}
    assert len(everything) == 4 and len(capped) == 2 and capped < everything
    streamed = _batches(transformed, 1, 8, cache=False)  # image features: no copy in memory, rows re-read
    assert sorted(streamed) == sorted(_batches(transformed, 1, 8))


def test_a_capped_read_samples_every_shard_not_the_first_few(
    transformed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ExampleGen writes a shard per input file: the rows training draws come from all of them."""
    import tensorflow as tf
    import tensorflow_transform as tft

    from components import trainer

    _, graph, _ = transformed
    for i in range(3):  # three shards of two rows; num = 10 * shard + k, so ranks name the shard
        with tf.io.TFRecordWriter(str(tmp_path / f"data-{i}.gz"), "GZIP") as writer:
            for k in range(2):
                writer.write(_example({**ROWS[k], "num": [10.0 * i + k]}))
    monkeypatch.setattr(trainer, "TRANSFORM_BATCH_SIZE", 1)

    def nums(**kwargs) -> list[float]:
        ds = trainer._dataset([str(tmp_path / "*.gz")], _Accessor, tft.TFTransformOutput(graph), "y", 6, **kwargs)
        return np.round(next(iter(ds))[0]["num"].numpy().reshape(-1), 5).tolist()

    ranks = {v: r for r, v in enumerate(sorted(nums()))}
    assert len(ranks) == 6
    assert sorted(ranks[v] // 2 for v in nums(rows=3)) == [0, 1, 2]


def test_training_batches_are_the_transform_output_of_the_raw_examples(transformed) -> None:
    import tensorflow_transform as tft

    from components.trainer import _dataset

    raw_file, graph, materialised = transformed
    features, target = next(iter(_dataset([raw_file], _Accessor, tft.TFTransformOutput(graph), "y", len(ROWS))))

    order = np.argsort(features["num"].numpy().reshape(-1))  # tf.data shuffles; TFT keeps the input order
    expected = sorted(materialised, key=lambda r: r["num"][0])
    assert set(features) == set(expected[0]) - {"y"}
    for name in features:
        got = features[name].numpy()[order].reshape(len(ROWS), -1)
        np.testing.assert_allclose(got, np.array([np.reshape(r[name], -1) for r in expected]), rtol=1e-6)
    np.testing.assert_array_equal(target.numpy()[order].reshape(-1), [r["y"][0] for r in expected])
    np.testing.assert_array_equal(target.numpy()[order].reshape(-1), [1, 0, 1, 0])


@pytest.mark.parametrize("config", ["ad_click.yaml", "ad_click_tuning.yaml"])
def test_trainer_and_tuner_read_examplegen_output_and_transform_materialises_nothing(config: str, tmp_path) -> None:
    from pipelines.build import build_components
    from pipelines.config import load_config

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.csv").write_text((REPO / "tests" / "unit" / "ad_click_header.csv").read_text())
    cfg = load_config(REPO / "configs" / config, [f"data.source={tmp_path / 'd'}", f"pipeline.root={tmp_path / 'r'}"])
    nodes = {c.id: c for c in build_components(cfg)}
    assert "transformed_examples" not in nodes["Transform"].outputs
    assert nodes["Transform"].exec_properties["stats_options_updater_fn"] == (
        "components.transform.stats_options_updater_fn"
    )
    readers = ["Trainer", *(["Tuner"] if cfg.tuning else [])]
    for name in readers:
        assert nodes[name].inputs["examples"].producer_component_id == "CsvExampleGen", name
        assert nodes[name].inputs["transform_graph"].producer_component_id == "Transform", name


def test_pre_transform_statistics_cover_the_label_only_post_transform_all() -> None:
    import tensorflow_data_validation as tfdv
    from tfx.components.transform.stats_options_util import StatsType

    from components.transform import stats_options_updater_fn

    pre = stats_options_updater_fn(StatsType.PRE_TRANSFORM, tfdv.StatsOptions(), CONFIG)
    post = stats_options_updater_fn(StatsType.POST_TRANSFORM, tfdv.StatsOptions(), CONFIG)
    assert pre.feature_allowlist == ["y"]
    assert not post.feature_allowlist
