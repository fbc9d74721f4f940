"""The floor: the same model trained by a plain Keras script, no TFX, no validation.

    python benchmarks/plain_keras.py --data DIR --out DIR [--train-steps 1500] [--eval-steps 50]

Reads the CSV files with pandas, computes the same statistics TF Transform would
(means and standard deviations, the vocabularies), applies the same feature
transforms in TensorFlow inside ``tf.data``, trains the same wide-and-deep model
(hidden 64/32, embedding 8, batch 128, Adam 0.003) for the same number of steps,
evaluates AUC on the held-out 20%, and exports a SavedModel whose
``serving_default`` takes the raw columns. Prints ``phase <name> started`` /
``phase <name> finished`` lines for the benchmark harness.
"""

import argparse
import glob
import os
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pandas as pd
import tensorflow as tf

LABEL = "clicked_on_ad"
ZSCORE = ["daily_time_spent_on_site", "age", "daily_internet_usage"]
LOG = ["area_income"]
HASH = {"ad_topic_line": (64, 8), "city": (128, 4)}  # buckets, embedding dim
VOCAB = {"male": (None, 1), "country": (100, 2)}  # top_k, oov buckets
TIMESTAMP_PARTS = {"timestamp_hour": 24, "timestamp_day_of_week": 7, "timestamp_month": 12}
EMBEDDING_DIM, HIDDEN, BATCH, LR = 8, [64, 32], 128, 0.003
STRING_COLUMNS = ["ad_topic_line", "city", "male", "country", "timestamp"]


class phase:  # noqa: N801 - used as `with phase("train"):`
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.t = time.perf_counter()
        print(f"phase {self.name} started", flush=True)

    def __exit__(self, *exc):
        status = "finished" if exc[0] is None else "failed"
        print(f"phase {self.name} {status} {time.perf_counter() - self.t:.1f} s", flush=True)


def timestamp_parts(s):
    """'YYYY-MM-DD HH:MM:SS' strings -> hour, day of week (Monday=0), month (0-based), int64."""

    def num(pos, length):
        return tf.strings.to_number(tf.strings.substr(s, pos, length), out_type=tf.int64)

    year, month, day, hour = num(0, 4), num(5, 2), num(8, 2), num(11, 2)
    y = year - tf.cast(month <= 2, tf.int64)
    era = tf.math.floordiv(y, 400)
    yoe = y - era * 400
    mp = tf.where(month > 2, month - 3, month + 9)
    doy = tf.math.floordiv(153 * mp + 2, 5) + day - 1
    doe = yoe * 365 + tf.math.floordiv(yoe, 4) - tf.math.floordiv(yoe, 100) + doy
    days = era * 146097 + doe - 719468
    return {
        "timestamp_hour": hour,
        "timestamp_day_of_week": tf.math.floormod(days + 3, 7),
        "timestamp_month": month - 1,
    }


class Preprocess(tf.Module):
    """Raw columns ([batch] tensors) -> model inputs ([batch, 1]); statistics from the training split."""

    def __init__(self, train: pd.DataFrame):
        super().__init__()
        self.stats = {}
        for c in ZSCORE:
            x = train[c].astype("float64")
            self.stats[c] = (float(x.mean()), float(x.std(ddof=0)) or 1.0)
        for c in LOG:
            x = np.log1p(np.maximum(train[c].astype("float64"), 0.0))
            self.stats[c] = (float(x.mean()), float(x.std(ddof=0)) or 1.0)
        self.tables, self.cardinality = {}, {}
        for c, (top_k, oov) in VOCAB.items():
            counts = train[c].astype(str).value_counts()  # TFT orders by frequency, too
            vocab = list(counts.index[:top_k] if top_k else counts.index)
            init = tf.lookup.KeyValueTensorInitializer(vocab, tf.range(len(vocab), dtype=tf.int64))
            self.tables[c] = tf.lookup.StaticVocabularyTable(init, num_oov_buckets=oov)
            self.cardinality[c] = len(vocab) + oov
        for c, (buckets, _) in HASH.items():
            self.cardinality[c] = buckets
        self.cardinality.update(TIMESTAMP_PARTS)

    def __call__(self, raw):
        out = {}
        for c in ZSCORE:
            mean, std = self.stats[c]
            out[c] = (tf.cast(raw[c], tf.float32) - mean) / std
        for c in LOG:
            mean, std = self.stats[c]
            out[c] = (tf.math.log1p(tf.maximum(tf.cast(raw[c], tf.float32), 0.0)) - mean) / std
        for c, (buckets, _) in HASH.items():
            out[c] = tf.strings.to_hash_bucket_fast(raw[c], buckets)
        for c in VOCAB:
            out[c] = self.tables[c].lookup(raw[c])
        out.update(timestamp_parts(raw["timestamp"]))
        return {k: tf.reshape(v, [-1, 1]) for k, v in out.items()}


def build_model(cardinality):
    inputs, deep, wide = {}, [], []
    for c in sorted(ZSCORE + LOG):
        inputs[c] = tf.keras.Input(shape=(1,), name=c, dtype=tf.float32)
        deep.append(inputs[c])
    for c, card in sorted(cardinality.items()):
        dim = HASH[c][1] if c in HASH else EMBEDDING_DIM
        inputs[c] = tf.keras.Input(shape=(1,), name=c, dtype=tf.int64)
        deep.append(tf.keras.layers.Reshape((dim,))(tf.keras.layers.Embedding(card, dim)(inputs[c])))
        wide.append(tf.keras.layers.CategoryEncoding(num_tokens=card, output_mode="one_hot")(inputs[c]))
    x = tf.keras.layers.concatenate(deep)
    for units in HIDDEN:
        x = tf.keras.layers.Dense(units, activation="relu")(x)
    logit = tf.keras.layers.Add()(
        [tf.keras.layers.Dense(1)(x), tf.keras.layers.Dense(1)(tf.keras.layers.concatenate(wide))]
    )
    model = tf.keras.Model(inputs, tf.keras.layers.Activation("sigmoid")(logit))
    model.compile(
        optimizer=tf.keras.optimizers.Adam(LR), loss="binary_crossentropy", metrics=[tf.keras.metrics.AUC(name="auc")]
    )
    return model


def dataset(df, preprocess, shuffle):
    raw = {c: df[c].to_numpy() for c in df.columns if c != LABEL}
    ds = tf.data.Dataset.from_tensor_slices((raw, df[LABEL].to_numpy(np.int64)))
    if shuffle:
        ds = ds.shuffle(10_000, seed=0).repeat()
    return (
        ds.batch(BATCH)
        .map(lambda x, y: (preprocess(x), y), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="directory of CSV files")
    parser.add_argument("--out", required=True, help="SavedModel export directory")
    parser.add_argument("--train-steps", type=int, default=1500)
    parser.add_argument("--eval-steps", type=int, default=50)
    args = parser.parse_args()
    tf.keras.utils.set_random_seed(0)

    with phase("read_csv"):
        files = sorted(glob.glob(os.path.join(args.data, "*.csv")))
        dtypes = dict.fromkeys(STRING_COLUMNS, str)
        df = pd.concat([pd.read_csv(f, dtype=dtypes, keep_default_na=False) for f in files], ignore_index=True)
        is_eval = np.random.default_rng(0).random(len(df)) < 0.2  # 80/20, like hash_buckets 4:1
        train, evals = df[~is_eval], df[is_eval]
    with phase("analyze"):
        preprocess = Preprocess(train)
    with phase("train"):
        model = build_model(preprocess.cardinality)
        model.fit(
            dataset(train, preprocess, True),
            steps_per_epoch=args.train_steps,
            epochs=1,
            validation_data=dataset(evals, preprocess, True),
            validation_steps=args.eval_steps,
            verbose=0,
        )
    with phase("evaluate"):
        auc = model.evaluate(dataset(evals, preprocess, False), verbose=0, return_dict=True)["auc"]
        print(f"eval auc {auc:.4f} on {len(evals)} rows", flush=True)
    with phase("export"):
        model.preprocess = preprocess
        signature = {
            c: tf.TensorSpec([None], tf.float32 if c in ZSCORE + LOG else tf.string, name=c)
            for c in df.columns
            if c != LABEL
        }

        @tf.function(input_signature=[signature])
        def serve(raw):
            return {"probabilities": tf.reshape(model(model.preprocess(raw)), [-1])}

        model.save(args.out, save_format="tf", signatures={"serving_default": serve})
    return 0


if __name__ == "__main__":
    sys.exit(main())
