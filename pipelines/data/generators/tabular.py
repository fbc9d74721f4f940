"""Messy example tables for the scaffold, one per task, each with a documented rule.

- ``churn`` (binary, labels ``Yes``/``No``): a telecom churn table;
- ``species`` (multiclass, labels ``heron``/``ibis``/``stork``): bird measurements;
- ``prices`` (regression): house sale prices.

Beyond the three scaffold tables (:data:`TABLES`), :data:`MORE_TABLES` holds

- ``tickets`` (binary, labels ``Yes``/``No``): support tickets whose escalation depends
  mostly on words of a free-text ``description`` (almost every value distinct), the table
  on which the ``text`` transform has to beat hashing the whole string.

All three are written the way real exports look: a UTF-8 byte order mark, missing
values as empty cells and as ``NA``/``N/A``/``null`` tokens, an integer column with
a few missing values, quoted fields holding commas, quotes and newlines, an
identifier column and a constant column (both to be dropped), and date-times.

``write(name, out_dir, rows, seed)`` returns the CSV path and the rule's own score on
the written rows (``oracle``: AUC for churn, accuracy for species, R² for prices),
so tests can set bars a model can reach.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from components import filesystem as fs
from pipelines.data.generators.oracle import roc_auc

__all__ = ["MORE_TABLES", "TABLES", "churn", "prices", "species", "tickets", "write"]

NA_CYCLE = ["", "NA", "N/A", "null"]
NOTES = [
    "called about billing, twice",
    'said "too expensive"',
    "moved,\nnew address pending",
    "none",
    "happy",
    "asked for a discount, then left",
]


def _missing(rng: np.random.Generator, values: list[Any], fraction: float) -> list[Any]:
    out = list(values)
    for i in np.flatnonzero(rng.random(len(out)) < fraction):
        out[i] = NA_CYCLE[i % len(NA_CYCLE)]
    return out


def _datetimes(rng: np.random.Generator, n: int, with_time: bool = True) -> tuple[list[str], np.ndarray]:
    """Random moments of 2023 as text, and their hour of day."""
    seconds = rng.integers(0, 365 * 86400, n)
    base = np.datetime64("2023-01-01T00:00:00")
    stamps = base + seconds.astype("timedelta64[s]")
    hours = (seconds % 86400) // 3600
    text = [str(s).replace("T", " ") if with_time else str(s)[:10] for s in stamps]
    return text, hours


def churn(rng: np.random.Generator, n: int) -> tuple[list[str], list[list[Any]], float]:
    """logit = -0.5 + 1.8 [month-to-month] - 0.05 tenure + 0.03 (monthly_charges - 70) + 0.6 [evening signup]."""
    tenure = rng.integers(1, 73, n)
    charges = np.round(rng.uniform(20, 120, n), 2)
    spend = np.round(np.exp(rng.normal(6.5, 1.0, n)), 2)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.5, 0.3, 0.2])
    region = rng.choice(["north", "south", "east", "west"], n)
    signup, hours = _datetimes(rng, n)
    logit = -0.5 + 1.8 * (contract == "Month-to-month") - 0.05 * tenure + 0.03 * (charges - 70) + 0.6 * (hours >= 18)
    p = 1 / (1 + np.exp(-logit))
    label = np.where(rng.random(n) < p, "Yes", "No")
    header = [
        "customer_id",
        "tenure_months",
        "monthly_charges",
        "total_spend",
        "contract",
        "region",
        "notes",
        "country",
        "signup_time",
        "churned",
    ]
    cols = [
        [f"C{i:07d}" for i in rng.permutation(n)],
        _missing(rng, tenure.tolist(), 0.05),  # an integer column with a few missing values
        _missing(rng, charges.tolist(), 0.03),
        spend.tolist(),
        contract.tolist(),
        _missing(rng, region.tolist(), 0.05),
        [NOTES[i] for i in rng.integers(0, len(NOTES), n)],  # quoted: commas, quotes, newlines
        ["US"] * n,  # constant
        signup,
        label.tolist(),
    ]
    return header, [list(r) for r in zip(*cols, strict=True)], roc_auc((label == "Yes").astype(int), p)


_SPECIES = ["heron", "ibis", "stork"]
# Per class: (wing_cm, beak_mm, weight_g) means; a shared spread.
_SPECIES_MEANS = np.array([[170.0, 120.0, 1800.0], [95.0, 150.0, 900.0], [200.0, 180.0, 3200.0]])
_SPECIES_STD = np.array([32.0, 30.0, 800.0])
_HABITAT = {"heron": [0.6, 0.3, 0.1], "ibis": [0.2, 0.6, 0.2], "stork": [0.2, 0.2, 0.6]}


def species(rng: np.random.Generator, n: int) -> tuple[list[str], list[list[Any]], float]:
    """Class prior 0.4/0.35/0.25; wing, beak and weight normal around class means; habitat depends on class."""
    prior = np.array([0.4, 0.35, 0.25])
    cls = rng.choice(3, n, p=prior)
    x = np.maximum(_SPECIES_MEANS[cls] + rng.normal(0, 1, (n, 3)) * _SPECIES_STD, 5.0)
    habitats = ["marsh", "river", "field"]
    habitat = np.array([rng.choice(habitats, p=_HABITAT[_SPECIES[c]]) for c in cls])
    # Bayes rule with the generator's own parameters: its accuracy is the bar a model can approach.
    loglik = np.log(prior)[None, :] - 0.5 * (((x[:, None, :] - _SPECIES_MEANS[None]) / _SPECIES_STD) ** 2).sum(-1)
    loglik += np.log(np.array([[_HABITAT[s][habitats.index(h)] for s in _SPECIES] for h in habitat]))
    oracle = float((loglik.argmax(1) == cls).mean())
    seen, _ = _datetimes(rng, n)
    header = ["ring_id", "wing_cm", "beak_mm", "weight_g", "habitat", "observer", "seen_at", "species"]
    cols = [
        [f"R-{i}" for i in rng.permutation(n)],
        _missing(rng, np.round(x[:, 0], 1).tolist(), 0.04),
        np.round(x[:, 1], 1).tolist(),
        _missing(rng, np.round(x[:, 2]).astype(int).tolist(), 0.04),
        _missing(rng, habitat.tolist(), 0.03),
        [f"Smith, J. ({'north' if i % 2 else 'south'} station)" for i in range(n)],  # quoted commas
        seen,
        [_SPECIES[c] for c in cls],
    ]
    return header, [list(r) for r in zip(*cols, strict=True)], oracle


_NEIGHBORHOODS = [f"district {c}" for c in "ABCDEFGHIJKL"]
_NB_EFFECT = np.linspace(-60000, 60000, len(_NEIGHBORHOODS))


def prices(rng: np.random.Generator, n: int) -> tuple[list[str], list[list[Any]], float]:
    """price = 40000 + 120 sqft + 15000 rooms - 800 age + district effect + N(0, 25000)."""
    sqft = np.round(np.exp(rng.normal(7.2, 0.45, n)))
    rooms = rng.integers(1, 9, n)
    age = np.round(rng.uniform(0, 80, n), 1)
    nb = rng.integers(0, len(_NEIGHBORHOODS), n)
    mean = 40000 + 120 * sqft + 15000 * rooms - 800 * age + _NB_EFFECT[nb]
    price = np.round(mean + rng.normal(0, 25000, n), 2)
    oracle = 1 - float(np.mean((price - mean) ** 2) / np.var(price))
    sold, _ = _datetimes(rng, n, with_time=False)
    header = ["listing", "sqft", "rooms", "age_years", "neighborhood", "agent_note", "sold_on", "price"]
    cols = [
        [f"L{i:06d}" for i in rng.permutation(n)],
        sqft.astype(int).tolist(),
        _missing(rng, rooms.tolist(), 0.03),
        _missing(rng, age.tolist(), 0.05),
        [_NEIGHBORHOODS[i] for i in nb],
        ['priced to sell, "motivated"' if i % 3 == 0 else "standard" for i in range(n)],
        sold,
        price.tolist(),
    ]
    return header, [list(r) for r in zip(*cols, strict=True)], oracle


# Words that move a ticket's escalation logit, and neutral filler (both drawn into descriptions).
TICKET_WORDS = {
    "refund": 1.6,
    "cancel": 1.8,
    "broken": 1.3,
    "lawyer": 2.2,
    "outage": 1.2,
    "charged": 1.0,
    "thanks": -1.4,
    "resolved": -1.8,
    "question": -0.8,
    "password": -0.6,
}
_FILLER = [
    "the",
    "my",
    "our",
    "app",
    "account",
    "order",
    "invoice",
    "phone",
    "screen",
    "login",
    "page",
    "email",
    "team",
    "support",
    "agent",
    "yesterday",
    "today",
    "again",
    "still",
    "please",
    "help",
    "need",
    "want",
    "update",
    "check",
    "status",
    "about",
    "since",
    "week",
    "customer",
    "service",
    "message",
    "call",
    "delivery",
    "package",
    "address",
    "card",
    "plan",
    "upgrade",
    "settings",
    "data",
]


def tickets(rng: np.random.Generator, n: int) -> tuple[list[str], list[list[Any]], float]:
    """logit = -1.2 + the sum of TICKET_WORDS' weights over the description's words + 0.3 [plan basic]."""
    signal = list(TICKET_WORDS)
    weights = np.array([TICKET_WORDS[w] for w in signal])
    descriptions, logit = [], np.full(n, -1.2)
    for i in range(n):
        words = list(rng.choice(_FILLER, rng.integers(3, 8)))
        picked = rng.choice(len(signal), rng.integers(0, 3), replace=False)
        logit[i] += weights[picked].sum()
        words += [signal[j] for j in picked]
        rng.shuffle(words)
        text = " ".join(words)
        # As people type: a capital, a comma, an exclamation mark (the tokenizer must see through them).
        text = text.capitalize() if rng.random() < 0.5 else text
        descriptions.append(text + rng.choice(["", ".", "!", ", thx"]) if rng.random() < 0.6 else text)
    plan = rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2])
    logit += 0.3 * (plan == "basic")
    p = 1 / (1 + np.exp(-logit))
    label = np.where(rng.random(n) < p, "Yes", "No")
    opened, _ = _datetimes(rng, n)
    header = ["ticket_id", "plan", "opened_at", "description", "escalated"]
    cols = [
        [f"T{i:07d}" for i in rng.permutation(n)],
        plan.tolist(),
        opened,
        _missing(rng, descriptions, 0.02),
        label.tolist(),
    ]
    return header, [list(r) for r in zip(*cols, strict=True)], roc_auc((label == "Yes").astype(int), p)


TableMaker = Callable[..., tuple[list[str], list[list[Any]], float]]
TABLES: dict[str, tuple[TableMaker, str, str]] = {
    # name: (generator, label column, task); the scaffold's example per task
    "churn": (churn, "churned", "binary"),
    "species": (species, "species", "multiclass"),
    "prices": (prices, "price", "regression"),
}
MORE_TABLES: dict[str, tuple[TableMaker, str, str]] = {"tickets": (tickets, "escalated", "binary")}


def write(name: str, out_dir: str, rows: int, seed: int = 0) -> tuple[str, float]:
    """Write ``<out_dir>/<name>.csv`` (with a BOM); returns (path, the rule's own score on it)."""
    make = {**TABLES, **MORE_TABLES}[name][0]
    header, data, oracle = make(np.random.default_rng(seed), rows)
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\r\n")
    w.writerow(header)
    w.writerows([_fmt(v) for v in row] for row in data)
    path = fs.join(out_dir, f"{name}.csv")
    fs.write_text(path, "\ufeff" + text.getvalue())  # the byte order mark real exports carry
    return path, oracle


def _fmt(v: Any) -> Any:
    return repr(v) if isinstance(v, float) and math.isfinite(v) else v
