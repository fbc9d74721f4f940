"""The generic Keras ``run_fn``: builds the model from the feature spec, trains it on
TF Transform's output, and exports a SavedModel with three signatures:

- ``serving_default``: the raw CSV columns by name (every column but the label),
  each a ``[batch]`` tensor. A column the schema lets be missing takes NaN (numbers;
  integer columns then take float64) or '' (strings) for "missing"; a value a transform
  cannot read (a timestamp that does not parse) fails the call with InvalidArgumentError,
  naming the column. Returns, by task:
  binary ``{"probabilities": [batch]}`` (positive class); multiclass
  ``{"scores": [batch, n], "classes": [batch, n]}``; regression ``{"predictions": [batch]}``.
- ``serving_examples``: serialized ``tf.Example`` strings (``examples``); same outputs.
  TFMA evaluates through this one.
- ``transform_features``: serialized examples -> the transformed features and label;
  TFMA reads string labels (Yes/No, class names) as their training ids through it.

Loss and output layer by task: sigmoid + binary cross-entropy; softmax + sparse
categorical cross-entropy; linear + mean squared error, the output rescaled by the
training label's mean and standard deviation so the network fits a standardized target.
"""

from __future__ import annotations

from typing import Any

import components  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)

# isort: split
import tensorflow as tf
import tensorflow_transform as tft
from tfx_bsl.public import tfxio

from components import hyperparameters, transforms
from components.spec import MISSING_SUFFIX, OUTPUT_KEYS, FeatureSpec

EXAMPLES_SIGNATURE = "serving_examples"
TRANSFORM_SIGNATURE = "transform_features"
# Raw rows per Transform-graph call in the input pipeline (one call per 128-row training batch
# doubled the Trainer's time at 20k rows: benchmarks/results/transform_evaluator_runs.md).
TRANSFORM_BATCH_SIZE = 1024
# Transformed rows shuffled between epochs (tfx-bsl shuffles the raw records with the same buffer).
SHUFFLE_BUFFER = 10_000
# Shards read side by side when the Trainer keeps its rows in memory (an open gzip reader each).
READ_FILES_AT_ONCE = 64


def _dataset(
    file_pattern: list[str],
    data_accessor: Any,
    tft_output: tft.TFTransformOutput,
    label: str,
    batch_size: int,
    cache: bool = True,
    rows: int | None = None,
) -> tf.data.Dataset:
    """(transformed features, target) batches from ExampleGen's raw examples, reshuffled each epoch, repeated.

    Transform does not materialise transformed examples (``Transform(materialize=False)``):
    the Transform graph runs here, inside tf.data (as the serving signatures run it), instead
    of Transform encoding and writing a transformed copy of every row
    (``benchmarks/results/transform_evaluator_runs.md``), on batches of ``TRANSFORM_BATCH_SIZE``.

    ``cache``: the first ``rows`` rows (all when None; callers pass the rows they will draw), read
    from every shard in turn (``_every_file``), are transformed once, up front, and kept in
    memory; each epoch is a fresh permutation of them, gathered a batch at a time (no per-row
    tf.data elements). ``cache=False`` (image features: 12 KB of pixels per 32x32 banner)
    streams through TFX's data accessor instead: rows transformed again each epoch, shuffled in
    a buffer of ``SHUFFLE_BUFFER``.
    """
    layer = tft_output.transform_features_layer()

    # No autograph: converting the Transform layer's call code inside tf.data cost ~10 s per
    # dataset on 2 cores (the signatures in make_signatures skip it the same way).
    @tf.autograph.experimental.do_not_convert
    def transform(raw: dict[str, Any]) -> tuple[dict[str, tf.Tensor], tf.Tensor]:
        features = dict(layer(raw))
        return features, features.pop(label)

    if not cache:
        options = tfxio.TensorFlowDatasetOptions(batch_size=TRANSFORM_BATCH_SIZE, num_epochs=1)
        raw = data_accessor.tf_dataset_factory(file_pattern, options, tft_output.raw_metadata.schema)
        rows_ds = raw.map(transform, num_parallel_calls=tf.data.AUTOTUNE).unbatch().shuffle(SHUFFLE_BUFFER)
        return rows_ds.batch(batch_size).repeat().prefetch(tf.data.AUTOTUNE)
    transformed = _every_file(file_pattern).map(
        lambda records: transform(tf.io.parse_example(records, tft_output.raw_feature_spec())),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    if rows is not None:
        transformed = transformed.take(-(-rows // TRANSFORM_BATCH_SIZE))
    batches = list(transformed.prefetch(tf.data.AUTOTUNE))
    if not batches:
        raise ValueError(f"no examples in {file_pattern}")
    features = {k: tf.concat([f[k] for f, _ in batches], axis=0) for k in batches[0][0]}
    target = tf.concat([t for _, t in batches], axis=0)
    count = int(target.shape[0])

    @tf.autograph.experimental.do_not_convert
    def gather(index: tf.Tensor) -> tuple[dict[str, tf.Tensor], tf.Tensor]:
        return {k: tf.gather(v, index) for k, v in features.items()}, tf.gather(target, index)

    order = tf.data.Dataset.range(count).shuffle(count, reshuffle_each_iteration=True).batch(batch_size)
    return order.repeat().map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def _every_file(file_pattern: list[str]) -> tf.data.Dataset:
    """Serialized examples in batches of ``TRANSFORM_BATCH_SIZE``, a row from each of (up to
    ``READ_FILES_AT_ONCE``) shards in turn: a prefix of it samples every shard, not the first
    few. ExampleGen writes a shard per input file and split, its rows in hash order
    (``components.split_writer``); a prefix is all the Trainer reads when the data outgrow its
    steps."""
    files = sorted(f for pattern in file_pattern for f in tf.io.gfile.glob(pattern))
    if not files:
        raise ValueError(f"no example files match {file_pattern}")
    compression = "GZIP" if all(f.endswith(".gz") for f in files) else ""
    records = tf.data.Dataset.from_tensor_slices(files).interleave(
        lambda f: tf.data.TFRecordDataset(f, compression),
        cycle_length=min(len(files), READ_FILES_AT_ONCE),
        block_length=1,
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    return records.batch(TRANSFORM_BATCH_SIZE)


def cache_rows(spec: FeatureSpec) -> bool:
    """Whether the input pipeline keeps transformed rows in memory: not with image features."""
    return all(mi.kind != "image" for mi in spec.model_inputs())


def _conv_branch(name: str, f: dict[str, Any], pixels: Any) -> Any:
    """Flat pixels -> (3x3 conv + 2x2 max-pool) per ``conv_filters`` -> global average: one vector per image."""
    height, width = f["size"]
    x = tf.keras.layers.Reshape((height, width, f["channels"]), name=f"{name}_pixels")(pixels)
    for i, filters in enumerate(f["conv_filters"]):
        x = tf.keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv{i}")(x)
        if min(x.shape[1], x.shape[2]) >= 2:
            x = tf.keras.layers.MaxPooling2D(2, name=f"{name}_pool{i}")(x)
    return tf.keras.layers.GlobalAveragePooling2D(name=f"{name}_mean")(x)


def build_model(
    spec: FeatureSpec,
    tft_output: tft.TFTransformOutput,
    label_moments: tuple[float, float] = (0.0, 1.0),
    metrics: tuple[Any, ...] = (),
) -> tf.keras.Model:
    """A DNN (or wide-and-deep) over the transformed features with the task's output layer.

    ``label_moments``: regression only, the training label's (mean, standard deviation).
    ``metrics``: Keras metrics to compile in (the Tuner's objective); the Trainer's model has none.
    Tuned settings are already in ``spec`` (``components.hyperparameters.apply``).
    """
    model_cfg, trainer_cfg = spec.model, spec.trainer
    inputs: dict[str, tf.keras.Input] = {}
    deep, wide = [], []
    for name in sorted(k for k in tft_output.transformed_feature_spec() if k.endswith(MISSING_SUFFIX)):
        inputs[name] = tf.keras.Input(shape=(1,), name=name, dtype=tf.float32)
        deep.append(inputs[name])
    for mi in spec.model_inputs():
        if mi.kind == "numeric":
            inp = tf.keras.Input(shape=(1,), name=mi.name, dtype=tf.float32)
            deep.append(inp)
        elif mi.kind == "image":  # [B, h*w*c] pixels in [0, 1]: a small conv branch (components.image_transform)
            inp = tf.keras.Input(shape=(mi.length,), name=mi.name, dtype=tf.float32)
            deep.append(_conv_branch(mi.name, spec.features[mi.name], inp))
        elif mi.kind == "tokens":  # [B, length] ids, 0 = padding: the mean of the real tokens' embeddings
            card, dim = mi.cardinality, mi.embedding_dim or model_cfg["embedding_dim"]
            inp = tf.keras.Input(shape=(mi.length,), name=mi.name, dtype=tf.int64)
            emb = tf.keras.layers.Embedding(card, dim, mask_zero=True, name=f"{mi.name}_embedding")(inp)
            deep.append(tf.keras.layers.GlobalAveragePooling1D(name=f"{mi.name}_mean")(emb))
            if model_cfg["type"] == "wide_and_deep":  # a bag of words
                wide.append(tf.keras.layers.CategoryEncoding(num_tokens=card, output_mode="multi_hot")(inp))
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
    units = len(spec.classes or ()) if spec.task == "multiclass" else 1
    logit = tf.keras.layers.Dense(units, name="deep_logit")(x)
    if wide:
        w = tf.keras.layers.concatenate(wide) if len(wide) > 1 else wide[0]
        logit = tf.keras.layers.Add()([logit, tf.keras.layers.Dense(units, name="wide_logit")(w)])
    output_name = OUTPUT_KEYS[spec.task]
    if spec.task == "binary":
        output = tf.keras.layers.Activation("sigmoid", name=output_name)(logit)
        loss = tf.keras.losses.BinaryCrossentropy()
    elif spec.task == "multiclass":
        output = tf.keras.layers.Activation("softmax", name=output_name)(logit)
        loss = tf.keras.losses.SparseCategoricalCrossentropy()
    else:
        mean, std = label_moments
        output = tf.keras.layers.Rescaling(std, offset=mean, name=output_name)(logit)
        loss = tf.keras.losses.MeanSquaredError()

    model = tf.keras.Model(inputs=inputs, outputs=output)
    optimizer = tf.keras.optimizers.get(
        {"class_name": trainer_cfg["optimizer"], "config": {"learning_rate": trainer_cfg["learning_rate"]}}
    )
    # No compiled metrics for the Trainer: TFMA computes the configured ones, and Keras' would shadow their names.
    model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
    return model


def label_moments(dataset: tf.data.Dataset, batches: int = 50) -> tuple[float, float]:
    """(mean, standard deviation) of the label over the first ``batches`` batches (regression)."""
    labels = tf.concat([tf.reshape(tf.cast(y, tf.float64), [-1]) for _, y in dataset.take(batches)], axis=0)
    mean, std = float(tf.reduce_mean(labels)), float(tf.math.reduce_std(labels))
    return mean, std if std > 0 else 1.0


def serving_dtype(spec: FeatureSpec, name: str, fs: Any) -> tf.DType:
    """The ``serving_default`` input dtype of raw feature ``name``, as its transform declares it
    (by default the column's own; an optional integer takes float64, NaN = missing)."""
    return transforms.for_feature(name, spec.features[name]).serving_dtype(fs)


def _raw_to_transform_input(raw_spec: dict[str, Any], features: dict[str, tf.Tensor]) -> dict[str, Any]:
    """Serving inputs ([batch] tensors) -> the shapes the transform graph was traced with.

    An optional (VarLen) feature becomes a sparse tensor without the rows whose value is
    NaN (numbers) or '' (strings): missing, as in a CSV cell.
    """
    out: dict[str, Any] = {}
    for name, fs in raw_spec.items():
        x = features[name]
        if isinstance(fs, tf.io.FixedLenFeature):
            out[name] = tf.reshape(x, [-1, *fs.shape])
            continue
        present = tf.not_equal(x, "") if x.dtype == tf.string else tf.logical_not(tf.math.is_nan(x))
        rows = tf.boolean_mask(tf.range(tf.shape(x, out_type=tf.int64)[0]), present)
        values = tf.cast(tf.boolean_mask(x, present), fs.dtype)
        n = tf.shape(x, out_type=tf.int64)[0]
        out[name] = tf.SparseTensor(tf.stack([rows, tf.zeros_like(rows)], axis=1), values, tf.stack([n, 1]))
    return out


def _checked(spec: FeatureSpec, features: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """Serving inputs after each transform's ``serving_check`` (a timestamp that does not parse fails)."""
    out = dict(features)
    for name in features:
        t = transforms.for_feature(name, spec.features[name])
        if t.serving_check is not None:
            out[name] = t.serving_check(name, spec.features[name], features[name])
    return out


def make_signatures(model: tf.keras.Model, tft_output: tft.TFTransformOutput, spec: FeatureSpec) -> dict[str, Any]:
    """The serving signatures, all running the same TF Transform graph as training."""
    model.tft_layer = tft_output.transform_features_layer()
    full_spec = dict(tft_output.raw_feature_spec())
    used = set(spec.served_features())
    raw_spec = {k: v for k, v in full_spec.items() if k in used}  # clients send only what the model uses
    dropped = {k: v for k, v in full_spec.items() if k not in used and k != spec.label}
    output_name = OUTPUT_KEYS[spec.task]

    def with_dropped(features: dict[str, Any], batch: tf.Tensor) -> dict[str, Any]:
        """The transform graph was traced with every raw column; unused ones get placeholder values."""
        out = dict(features)
        for name, fs in dropped.items():
            if isinstance(fs, tf.io.FixedLenFeature):
                blank = tf.constant("" if fs.dtype == tf.string else 0, fs.dtype)
                out[name] = tf.fill(tf.stack([batch, *fs.shape]), blank)
            else:
                out[name] = tf.SparseTensor(tf.zeros([0, 2], tf.int64), tf.zeros([0], fs.dtype), tf.stack([batch, 1]))
        return out

    def predict(transformed: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        transformed = {k: v for k, v in transformed.items() if k in model.input}
        out = model(transformed)
        if spec.task != "multiclass":
            return {output_name: tf.reshape(out, [-1])}
        classes = tf.constant([[str(c) for c in spec.classes or ()]])
        return {output_name: out, "classes": tf.tile(classes, [tf.shape(out)[0], 1])}

    # autograph=False: these have no tensor-dependent Python control flow, and converting the
    # Keras model's call code they reach costs seconds per signature.
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")], autograph=False)
    def serve_examples(examples: tf.Tensor) -> dict[str, tf.Tensor]:
        parsed = tf.io.parse_example(examples, raw_spec)
        return predict(model.tft_layer(with_dropped(parsed, tf.shape(examples, out_type=tf.int64)[0])))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")], autograph=False)
    def transform_features(examples: tf.Tensor) -> dict[str, tf.Tensor]:
        return model.tft_layer(tf.io.parse_example(examples, full_spec))

    raw_signature = {
        name: tf.TensorSpec([None], serving_dtype(spec, name, fs), name=name) for name, fs in sorted(raw_spec.items())
    }

    @tf.function(input_signature=[raw_signature], autograph=False)
    def serve_raw(features: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        batch = tf.shape(next(iter(features.values())), out_type=tf.int64)[0]
        features = _checked(spec, features)
        return predict(model.tft_layer(with_dropped(_raw_to_transform_input(raw_spec, features), batch)))

    return {
        "serving_default": serve_raw.get_concrete_function(),
        EXAMPLES_SIGNATURE: serve_examples.get_concrete_function(),
        TRANSFORM_SIGNATURE: transform_features.get_concrete_function(),
    }


def run_fn(fn_args: Any) -> None:
    """TFX Trainer entry point (``Trainer(run_fn='components.trainer.run_fn')``).

    With a Tuner upstream, its best settings (``fn_args.hyperparameters``) replace the config's.
    """
    spec = hyperparameters.apply(
        FeatureSpec.from_config(fn_args.custom_config), hyperparameters.values_of(fn_args.hyperparameters)
    )
    tf.keras.utils.set_random_seed(spec.trainer.get("seed", 0))
    tft_output = tft.TFTransformOutput(fn_args.transform_output)
    batch_size = spec.trainer["batch_size"]
    cache = cache_rows(spec)
    train_rows, eval_rows = fn_args.train_steps * batch_size, fn_args.eval_steps * batch_size
    train = _dataset(fn_args.train_files, fn_args.data_accessor, tft_output, spec.label, batch_size, cache, train_rows)
    evals = _dataset(fn_args.eval_files, fn_args.data_accessor, tft_output, spec.label, batch_size, cache, eval_rows)

    moments = label_moments(train) if spec.task == "regression" else (0.0, 1.0)
    model = build_model(spec, tft_output, moments)
    # Keras wraps train_step/test_step in a tf.function with autograph on; converting its own
    # (plain, tensor-control-flow-free) step code costs ~14 s per run on 2 cores and buys nothing.
    model.train_step = tf.autograph.experimental.do_not_convert(model.train_step)
    model.test_step = tf.autograph.experimental.do_not_convert(model.test_step)
    model.fit(
        train,
        steps_per_epoch=fn_args.train_steps,
        epochs=1,
        validation_data=evals,
        validation_steps=fn_args.eval_steps,
        verbose=0,
    )
    # save_traces=False: Keras would trace (and autograph-convert) every layer's call for the
    # SavedModel, about 9 s here; serving and TFMA use the signatures, and the Keras model
    # reloads from its config. Trainer: 21 s -> 9 s on 20k rows.
    model.save(
        fn_args.serving_model_dir,
        save_format="tf",
        save_traces=False,
        signatures=make_signatures(model, tft_output, spec),
    )
