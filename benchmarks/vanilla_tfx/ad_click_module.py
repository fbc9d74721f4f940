"""TFX module file for the vanilla ad-click pipeline: ``preprocessing_fn`` and ``run_fn``.

Written the way the TFX guides write one (penguin / taxi templates): feature lists
as module constants, one ``preprocessing_fn`` for Transform, one ``run_fn`` for
Trainer, a ``serving_default`` signature over serialized ``tf.Example``s. It does
the same work as this project's ``components/transform.py`` and
``components/trainer.py`` for ``configs/ad_click.yaml``; it deliberately imports
nothing from the project (TFX packages it into a wheel of its own).
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # TFX 1.16 cannot save Keras 3 models

import tensorflow as tf
import tensorflow_transform as tft
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

LABEL_KEY = "clicked_on_ad"
ZSCORE_FEATURES = ["daily_time_spent_on_site", "age", "daily_internet_usage"]
LOG_FEATURES = ["area_income"]
HASH_FEATURES = {"ad_topic_line": (64, 8), "city": (128, 4)}  # name: (buckets, embedding dim)
VOCAB_FEATURES = {"male": (None, 1), "country": (100, 2)}  # name: (top_k, oov buckets)
TIMESTAMP_FEATURE = "timestamp"
TIMESTAMP_PARTS = {"hour": 24, "day_of_week": 7, "month": 12}
EMBEDDING_DIM = 8
HIDDEN_UNITS = [64, 32]
BATCH_SIZE = 128


def _dense(x):
    """Raw inputs are [batch, 1] (the inferred schema has fixed shapes)."""
    return tf.reshape(x, [-1, 1])


def _timestamp_parts(s):
    """'YYYY-MM-DD HH:MM:SS' -> hour, day of week (Monday=0), month (0-based)."""

    def num(pos, length):
        return tf.strings.to_number(tf.strings.substr(s, pos, length), out_type=tf.int64)

    year, month, day, hour = num(0, 4), num(5, 2), num(8, 2), num(11, 2)
    # Days since 1970-01-01 (a Thursday), H. Hinnant's days_from_civil.
    y = year - tf.cast(month <= 2, tf.int64)
    era = tf.math.floordiv(y, 400)
    yoe = y - era * 400
    mp = tf.where(month > 2, month - 3, month + 9)
    doy = tf.math.floordiv(153 * mp + 2, 5) + day - 1
    doe = yoe * 365 + tf.math.floordiv(yoe, 4) - tf.math.floordiv(yoe, 100) + doy
    days = era * 146097 + doe - 719468
    return {"hour": hour, "day_of_week": tf.math.floormod(days + 3, 7), "month": month - 1}


def preprocessing_fn(inputs):
    """tf.transform callback: raw features -> model-ready features."""
    outputs = {}
    for key in ZSCORE_FEATURES:
        outputs[key] = tft.scale_to_z_score(tf.cast(_dense(inputs[key]), tf.float32))
    for key in LOG_FEATURES:
        x = tf.cast(_dense(inputs[key]), tf.float32)
        outputs[key] = tft.scale_to_z_score(tf.math.log1p(tf.maximum(x, 0.0)))
    for key, (buckets, _) in HASH_FEATURES.items():
        outputs[key] = tf.strings.to_hash_bucket_fast(_dense(inputs[key]), buckets)
    for key, (top_k, oov) in VOCAB_FEATURES.items():
        x = _dense(inputs[key])
        if x.dtype != tf.string:
            x = tf.strings.as_string(x)
        outputs[key] = tft.compute_and_apply_vocabulary(x, top_k=top_k, num_oov_buckets=oov, vocab_filename=key)
    for part, t in _timestamp_parts(_dense(inputs[TIMESTAMP_FEATURE])).items():
        outputs[f"{TIMESTAMP_FEATURE}_{part}"] = t
    outputs[LABEL_KEY] = tf.cast(_dense(inputs[LABEL_KEY]), tf.int64)
    return outputs


def _input_fn(file_pattern, data_accessor, tf_transform_output, batch_size):
    return data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(batch_size=batch_size, label_key=LABEL_KEY),
        tf_transform_output.transformed_metadata.schema,
    ).repeat()


def _build_keras_model(tf_transform_output, learning_rate):
    """Wide and deep: embeddings + numeric -> 64 -> 32, plus a linear part over one-hot ids."""
    categorical = {key: (buckets, dim) for key, (buckets, dim) in HASH_FEATURES.items()}
    for key in VOCAB_FEATURES:
        categorical[key] = (tf_transform_output.num_buckets_for_transformed_feature(key), EMBEDDING_DIM)
    for part, card in TIMESTAMP_PARTS.items():
        categorical[f"{TIMESTAMP_FEATURE}_{part}"] = (card, EMBEDDING_DIM)

    inputs, deep, wide = {}, [], []
    for key in sorted(ZSCORE_FEATURES + LOG_FEATURES):
        inputs[key] = tf.keras.Input(shape=(1,), name=key, dtype=tf.float32)
        deep.append(inputs[key])
    for key, (card, dim) in sorted(categorical.items()):
        inputs[key] = tf.keras.Input(shape=(1,), name=key, dtype=tf.int64)
        emb = tf.keras.layers.Embedding(card, dim)(inputs[key])
        deep.append(tf.keras.layers.Reshape((dim,))(emb))
        wide.append(tf.keras.layers.CategoryEncoding(num_tokens=card, output_mode="one_hot")(inputs[key]))

    x = tf.keras.layers.concatenate(deep)
    for units in HIDDEN_UNITS:
        x = tf.keras.layers.Dense(units, activation="relu")(x)
    logit = tf.keras.layers.Add()(
        [
            tf.keras.layers.Dense(1)(x),
            tf.keras.layers.Dense(1)(tf.keras.layers.concatenate(wide)),
        ]
    )
    output = tf.keras.layers.Activation("sigmoid")(logit)
    model = tf.keras.Model(inputs=inputs, outputs=output)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate=learning_rate), loss=tf.keras.losses.BinaryCrossentropy()
    )
    return model


def _get_serve_tf_examples_fn(model, tf_transform_output):
    """Returns a function that parses a serialized tf.Example and applies TFT."""
    model.tft_layer = tf_transform_output.transform_features_layer()

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve_tf_examples_fn(serialized_tf_examples):
        feature_spec = tf_transform_output.raw_feature_spec()
        feature_spec.pop(LABEL_KEY)
        parsed_features = tf.io.parse_example(serialized_tf_examples, feature_spec)
        transformed_features = model.tft_layer(parsed_features)
        transformed_features.pop(LABEL_KEY, None)
        return {"outputs": model(transformed_features)}

    return serve_tf_examples_fn


def run_fn(fn_args: tfx.components.FnArgs):
    """Train the model based on given args."""
    tf.keras.utils.set_random_seed(0)
    learning_rate = float(fn_args.custom_config.get("learning_rate", 0.003))
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    train_dataset = _input_fn(fn_args.train_files, fn_args.data_accessor, tf_transform_output, BATCH_SIZE)
    eval_dataset = _input_fn(fn_args.eval_files, fn_args.data_accessor, tf_transform_output, BATCH_SIZE)

    model = _build_keras_model(tf_transform_output, learning_rate)
    model.fit(
        train_dataset,
        steps_per_epoch=fn_args.train_steps,
        epochs=1,
        validation_data=eval_dataset,
        validation_steps=fn_args.eval_steps,
        verbose=0,
    )

    signatures = {"serving_default": _get_serve_tf_examples_fn(model, tf_transform_output)}
    model.save(fn_args.serving_model_dir, save_format="tf", signatures=signatures)
