"""The ad-click example data (``python -m pipelines.datagen ad_click``), with a known generating rule.

The data is modelled on the classic advertising dataset (columns
``daily_time_spent_on_site, age, area_income, daily_internet_usage, ad_topic_line,
city, male, country, timestamp, clicked_on_ad``). The label follows a fixed,
documented rule, so what a good model can reach is known:

    z(x)   = (x - mean) / std  with the generator's own constants (see _NUMERIC)
    logit  = 0.3 - 1.5 z(daily_time_spent_on_site) + 1.0 z(age) - 0.9 z(area_income)
                 - 1.6 z(daily_internet_usage) + 0.6 [18 <= hour <= 23] + 0.15 male
                 + country_effect(country)                  (a fixed table in [-0.6, 0.6])
    clicked_on_ad ~ Bernoulli(sigmoid(logit))

``ad_topic_line`` and ``city`` carry no signal. Scoring rows with the true
probability gives the Bayes-optimal AUC, 0.896 (``oracle_auc``); the best single
feature (daily_internet_usage) reaches 0.733. A model
that learns the rule gets close to 0.896; one that ignores the features gets 0.5.

Rows are written in chunks, so 10M rows never sit in memory; the output depends
only on ``--seed`` (and ``--rows``).

Monthly drops (``--months N``): month ``i`` (0 = 2026-09, 1 = 2026-10, ...) has its
timestamps in that calendar month and a slow drift: the mean of each feature in
``MONTHLY_DRIFT`` moves by that many standard deviations per month (people spend a
little more time online and a little less on the site). The click rule does not change,
so a model trained on one month still fits the next; the drift is small enough to pass
the default drift bounds (Jensen-Shannon 0.1) month to month, and shows in the drift
figures of each run's summary.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import ExitStack

import numpy as np

from components import filesystem as fs
from components.csv_cells import open_csv, read_rows
from pipelines.data.generators.oracle import roc_auc
from pipelines.errors import ConfigError

__all__ = [
    "COLUMNS",
    "LABEL",
    "MONTHLY_DRIFT",
    "click_logit",
    "click_probability",
    "generate_ad_click",
    "month_name",
    "oracle_auc",
    "read_csv_columns",
    "write_ad_click",
]

COLUMNS = [
    "daily_time_spent_on_site",
    "age",
    "area_income",
    "daily_internet_usage",
    "ad_topic_line",
    "city",
    "male",
    "country",
    "timestamp",
    "clicked_on_ad",
]
LABEL = "clicked_on_ad"

# name: (mean, std, low, high) of the generating normal, clipped to [low, high].
_NUMERIC = {
    "daily_time_spent_on_site": (65.0, 15.8, 32.0, 91.5),
    "age": (36.0, 8.8, 19.0, 61.0),
    "area_income": (55000.0, 13400.0, 13996.0, 79485.0),
    "daily_internet_usage": (180.0, 44.0, 104.0, 270.0),
}
_WEIGHTS = {"daily_time_spent_on_site": -1.5, "age": 1.0, "area_income": -0.9, "daily_internet_usage": -1.6}
_INTERCEPT, _EVENING, _MALE = 0.3, 0.6, 0.15

_COUNTRIES = [
    "Afghanistan",
    "Australia",
    "Austria",
    "Belgium",
    "Brazil",
    "Bulgaria",
    "Canada",
    "Chile",
    "China",
    "Czech Republic",
    "Denmark",
    "Egypt",
    "Estonia",
    "Finland",
    "France",
    "Germany",
    "Greece",
    "Hungary",
    "Iceland",
    "India",
    "Indonesia",
    "Ireland",
    "Italy",
    "Japan",
    "Kenya",
    "Latvia",
    "Mexico",
    "Morocco",
    "Netherlands",
    "Norway",
    "Peru",
    "Poland",
    "Portugal",
    "Romania",
    "Spain",
    "Sweden",
    "Turkey",
    "Ukraine",
    "United Kingdom",
    "Vietnam",
]
# Fixed per-country effect, independent of --seed: the rule must not change with the seed.
_COUNTRY_EFFECT = np.round(np.random.default_rng(20240501).uniform(-0.6, 0.6, len(_COUNTRIES)), 3)

_ADJ = [
    "Cloned",
    "Monitored",
    "Organic",
    "Triple-buffered",
    "Robust",
    "Sharable",
    "Enhanced",
    "Reactive",
    "Configurable",
    "Mandatory",
    "Centralized",
    "Synergistic",
    "Focused",
    "Grass-roots",
    "Visionary",
    "Adaptive",
    "Balanced",
    "Innovative",
    "Persistent",
    "Streamlined",
]
_MID = [
    "5thgeneration",
    "national",
    "client-driven",
    "bottom-line",
    "analyzing",
    "interactive",
    "tangible",
    "global",
    "zero-defect",
    "multimedia",
    "heuristic",
    "dynamic",
    "radical",
    "didactic",
    "optimal",
    "explicit",
    "uniform",
    "secondary",
    "web-enabled",
    "fresh-thinking",
]
_NOUN = [
    "orchestration",
    "capability",
    "toolset",
    "hierarchy",
    "framework",
    "paradigm",
    "initiative",
    "algorithm",
    "alliance",
    "matrix",
    "interface",
    "middleware",
    "workforce",
    "approach",
    "firmware",
    "database",
    "protocol",
    "moratorium",
    "synergy",
    "encoding",
]
_SYLLABLES = [
    "wa",
    "ter",
    "ston",
    "ville",
    "port",
    "ham",
    "mouth",
    "ford",
    "ley",
    "bury",
    "new",
    "lake",
    "north",
    "south",
    "east",
    "west",
    "mar",
    "cas",
    "lin",
    "dale",
    "brook",
    "field",
    "haven",
    "ridge",
    "glen",
    "ash",
    "bel",
    "mont",
    "ros",
    "val",
]

_START = np.datetime64("2016-01-01T00:00:00")
_SPAN_SECONDS = 205 * 24 * 3600
_CHUNK = 50_000
# Standard deviations per month by which a feature's mean moves in monthly drops.
MONTHLY_DRIFT = {"daily_internet_usage": 0.1, "daily_time_spent_on_site": -0.05}
_FIRST_MONTH = np.datetime64("2026-09", "M")


def month_name(month: int) -> str:
    """The folder of monthly drop ``month``: 0 -> ``2026-09``, 4 -> ``2027-01``."""
    return str(_FIRST_MONTH + month)


def _time_range(month: int | None) -> tuple[np.datetime64, int]:
    if month is None:
        return _START, _SPAN_SECONDS
    start = (_FIRST_MONTH + month).astype("datetime64[s]")
    end = (_FIRST_MONTH + month + 1).astype("datetime64[s]")
    return start, int((end - start).astype(int))


def click_logit(cols: dict[str, np.ndarray]) -> np.ndarray:
    """The generating rule: log-odds of a click for columns as numpy arrays."""
    logit = np.full(len(cols["age"]), _INTERCEPT)
    for name, weight in _WEIGHTS.items():
        mean, std, _, _ = _NUMERIC[name]
        logit += weight * (np.asarray(cols[name], dtype=float) - mean) / std
    hours = np.array([int(str(t)[11:13]) for t in cols["timestamp"]])
    logit += _EVENING * ((hours >= 18) & (hours <= 23))
    logit += _MALE * np.asarray(cols["male"], dtype=float)
    effect = dict(zip(_COUNTRIES, _COUNTRY_EFFECT, strict=True))
    logit += np.array([effect.get(str(c), 0.0) for c in cols["country"]])
    return logit


def click_probability(cols: dict[str, np.ndarray]) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-click_logit(cols)))


def _chunk(rng: np.random.Generator, n: int, month: int | None = None) -> dict[str, np.ndarray]:
    cols: dict[str, np.ndarray] = {}
    for name, (mean, std, low, high) in _NUMERIC.items():
        shift = MONTHLY_DRIFT.get(name, 0.0) * std * (month or 0)
        values = np.clip(rng.normal(mean + shift, std, n), low, high)
        cols[name] = np.round(values) if name == "age" else np.round(values, 2)
    cols["age"] = cols["age"].astype(np.int64)
    topic = rng.integers(0, len(_ADJ), (n, 3))
    cols["ad_topic_line"] = np.array([f"{_ADJ[a]} {_MID[b]} {_NOUN[c]}" for a, b, c in topic], dtype=object)
    city = rng.integers(0, len(_SYLLABLES), (n, 2))
    cols["city"] = np.array([(_SYLLABLES[a] + _SYLLABLES[b]).capitalize() for a, b in city], dtype=object)
    cols["male"] = (rng.random(n) < 0.48).astype(np.int64)
    cols["country"] = np.array(_COUNTRIES, dtype=object)[rng.integers(0, len(_COUNTRIES), n)]
    start, span = _time_range(month)
    seconds = rng.integers(0, span, n)
    stamps = np.datetime_as_string(start + seconds.astype("timedelta64[s]"), unit="s")
    cols["timestamp"] = np.char.replace(stamps.astype(str), "T", " ")
    cols[LABEL] = (rng.random(n) < click_probability(cols)).astype(np.int64)
    return cols


def generate_ad_click(rows: int, seed: int = 0, month: int | None = None) -> Iterator[dict[str, np.ndarray]]:
    """Yield the rows as column chunks of at most 50,000 rows (of monthly drop ``month``, if given)."""
    rng = np.random.default_rng(seed)
    done = 0
    while done < rows:
        n = min(_CHUNK, rows - done)
        yield _chunk(rng, n, month)
        done += n


def write_ad_click(out_dir: str, rows: int, seed: int = 0, shards: int = 1, month: int | None = None) -> list[str]:
    """Write ``rows`` rows as CSV into ``out_dir`` (``shards`` files; local or ``gs://``); returns the paths."""
    if rows < 1:
        raise ConfigError(f"--rows {rows}: must be at least 1")
    if shards < 1 or shards > rows:
        raise ConfigError(f"--shards {shards}: must be between 1 and --rows")
    fs.makedirs(out_dir)
    names = ["ad_click.csv"] if shards == 1 else [f"ad_click-{i:05d}-of-{shards:05d}.csv" for i in range(shards)]
    paths = [fs.join(out_dir, n) for n in names]
    with ExitStack() as files:
        writers = [csv.writer(files.enter_context(fs.atomic_writer(p, newline="")), lineterminator="\n") for p in paths]
        for w in writers:
            w.writerow(COLUMNS)
        row = 0
        for cols in generate_ad_click(rows, seed, month):
            n = len(cols[LABEL])
            data = list(zip(*(cols[c].tolist() for c in COLUMNS), strict=True))
            for shard in range(shards):
                # Row r goes to shard r % shards: every shard is a sample of the whole.
                first = (shard - row) % shards
                writers[shard].writerows(data[first::shards])
            row += n
    return paths


def read_csv_columns(path: str) -> dict[str, np.ndarray]:
    """Read a generated CSV back as columns of strings (for scoring and tests)."""
    with open_csv(path) as fh:
        reader = read_rows(fh)
        header = next(reader)
        rows = list(reader)
    return {name: np.array([r[i] for r in rows], dtype=object) for i, name in enumerate(header)}


def oracle_auc(rows: int = 200_000, seed: int = 12345) -> float:
    """AUC of the true click probability: the best any model can do on this data."""
    labels, scores = [], []
    for cols in generate_ad_click(rows, seed):
        labels.append(cols[LABEL])
        scores.append(click_logit(cols))
    return roc_auc(np.concatenate(labels), np.concatenate(scores))
