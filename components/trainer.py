"""The generic Keras ``run_fn``: builds the model from the feature spec, trains it on
TF Transform's output, and exports a SavedModel with two signatures:

- ``serving_default``: the raw CSV columns by name (every column but the label),
  each a ``[batch]`` tensor; returns ``{"probabilities": [batch]}`` (click probability).
- ``serving_examples``: serialized ``tf.Example`` strings (``examples``); same output.
  TFMA evaluates through this one.
"""

from __future__ import annotations

from typing import Any

import components  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
import tensorflow as tf
import tensorflow_transform as tft
from tfx_bsl.public import tfxio

from components.spec import FeatureSpec

OUTPUT_KEY = "probabilities"
EXAMPLES_SIGNATURE = "serving_examples"


def _dataset(file_pattern: list[str], data_accessor: Any, tft_output: tft.TFTransformOutput, label: str,
             batch_size: int) -> tf.data.Dataset:
    return data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(batch_size=batch_size, label_key=label),
        tft_output.transformed_metadata.schema,
    ).repeat()


def build_model(spec: FeatureSpec, tft_output: tft.TFTransformOutput) -> tf.keras.Model:
    """A DNN (or wide-and-deep) over the transformed features, sigmoid output."""
    model_cfg, trainer_cfg = spec.model, spec.trainer
    inputs: dict[str, tf.keras.Input] = {}
    deep, wide = [], []
    for mi in spec.model_inputs():
        if mi.kind == "numeric":
            inp = tf.keras.Input(shape=(1,), name=mi.name, dtype=tf.float32)
            deep.append(inp)
        else:
            card = mi.cardinality or tft_output.num_buckets_for_transformed_feature(mi.name)
            dim = mi.embedding_dim or model_cfg["embedding_dim"]
            inp = tf.keras.Input(shape=(1,), name=mi.name, dtype=tf.int64)
            emb = tf.keras.layers.Embedding(card, dim, name=f"{mi.name}_embedding")(inp)
            deep.append(tf.keras.layers.Reshape((dim,))(emb))
            if model_cfg["type"] == "wide_and_deep":
                wide.append(tf.keras.layers.CategoryEncoding(num_tokens=card, output_mode="one_hot")(inp))
        inputs[mi.name] = inp

    x = tf.keras.layers.concatenate(deep) if len(deep) > 1 else deep[0]
    for units in model_cfg["hidden_units"]:
        x = tf.keras.layers.Dense(units, activation="relu")(x)
        if model_cfg["dropout"]:
            x = tf.keras.layers.Dropout(model_cfg["dropout"])(x)
    logit = tf.keras.layers.Dense(1, name="deep_logit")(x)
    if wide:
        w = tf.keras.layers.concatenate(wide) if len(wide) > 1 else wide[0]
        logit = tf.keras.layers.Add()([logit, tf.keras.layers.Dense(1, name="wide_logit")(w)])
    output = tf.keras.layers.Activation("sigmoid", name=OUTPUT_KEY)(logit)

    model = tf.keras.Model(inputs=inputs, outputs=output)
    optimizer = tf.keras.optimizers.get(
        {"class_name": trainer_cfg["optimizer"], "config": {"learning_rate": trainer_cfg["learning_rate"]}})
    # No compiled metrics: TFMA computes the configured ones, and Keras' would shadow their names.
    model.compile(optimizer=optimizer, loss=tf.keras.losses.BinaryCrossentropy())
    return model


def _raw_to_transform_input(raw_spec: dict[str, Any], features: dict[str, tf.Tensor]) -> dict[str, Any]:
    """Serving inputs ([batch] tensors) -> the shapes the transform graph was traced with."""
    out: dict[str, Any] = {}
    for name, fs in raw_spec.items():
        x = features[name]
        if isinstance(fs, tf.io.FixedLenFeature):
            out[name] = tf.reshape(x, [-1, *fs.shape])
        else:  # VarLenFeature: one value per row
            n = tf.shape(x, out_type=tf.int64)[0]
            rows = tf.range(n, dtype=tf.int64)
            out[name] = tf.SparseTensor(tf.stack([rows, tf.zeros_like(rows)], axis=1), x, tf.stack([n, 1]))
    return out


def make_signatures(model: tf.keras.Model, tft_output: tft.TFTransformOutput, label: str) -> dict[str, Any]:
    """The two serving signatures, both running the same TF Transform graph as training."""
    model.tft_layer = tft_output.transform_features_layer()
    raw_spec = dict(tft_output.raw_feature_spec())
    raw_spec.pop(label, None)

    def predict(transformed: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        transformed = {k: v for k, v in transformed.items() if k in model.input}
        return {OUTPUT_KEY: tf.reshape(model(transformed), [-1])}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(examples: tf.Tensor) -> dict[str, tf.Tensor]:
        parsed = tf.io.parse_example(examples, raw_spec)
        return predict(model.tft_layer(parsed))

    raw_signature = {name: tf.TensorSpec([None], fs.dtype, name=name) for name, fs in sorted(raw_spec.items())}

    @tf.function(input_signature=[raw_signature])
    def serve_raw(features: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        return predict(model.tft_layer(_raw_to_transform_input(raw_spec, features)))

    return {
        "serving_default": serve_raw.get_concrete_function(),
        EXAMPLES_SIGNATURE: serve_examples.get_concrete_function(),
    }


def run_fn(fn_args: Any) -> None:
    """TFX Trainer entry point (``Trainer(run_fn='components.trainer.run_fn')``)."""
    spec = FeatureSpec.from_config(fn_args.custom_config)
    tf.keras.utils.set_random_seed(spec.trainer.get("seed", 0))
    tft_output = tft.TFTransformOutput(fn_args.transform_output)
    batch_size = spec.trainer["batch_size"]
    train = _dataset(fn_args.train_files, fn_args.data_accessor, tft_output, spec.label, batch_size)
    evals = _dataset(fn_args.eval_files, fn_args.data_accessor, tft_output, spec.label, batch_size)

    model = build_model(spec, tft_output)
    # Keras wraps train_step/test_step in a tf.function with autograph on; converting its own
    # (plain, tensor-control-flow-free) step code costs ~14 s per run on 2 cores and buys nothing.
    model.train_step = tf.autograph.experimental.do_not_convert(model.train_step)
    model.test_step = tf.autograph.experimental.do_not_convert(model.test_step)
    model.fit(train, steps_per_epoch=fn_args.train_steps, epochs=1,
              validation_data=evals, validation_steps=fn_args.eval_steps, verbose=0)
    model.save(fn_args.serving_model_dir, save_format="tf",
               signatures=make_signatures(model, tft_output, spec.label))
