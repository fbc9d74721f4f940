"""Prometheus metrics under TF Serving's names, for ``/monitoring/prometheus/metrics``.

    :tensorflow:serving:request_count{model_name,status}            counter, as TF Serving
    :tensorflow:serving:request_latency{model_name,API,entrypoint}  histogram, microseconds, TF Serving's buckets
    :tensorflow:serving:request_example_counts{model_name,API}      histogram of instances per request
    :tensorflow:serving:request_count_by_version{model_name,version,label,status}   counter (ours)
    :tensorflow:serving:request_log_records{outcome}                counter (ours): written | dropped
    :tensorflow:serving:rejected_count{reason}                      counter (ours): overload | auth | body

TF Serving writes counters without the ``_total`` suffix that ``prometheus_client`` adds;
:meth:`Metrics.text` writes them under TF Serving's names. One :class:`Metrics` per server
(its own ``CollectorRegistry``), so servers in one process do not share counts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_PREFIX = ":tensorflow:serving:"
# TF Serving's request_latency buckets: ExponentialBuckets(10 us, 1.8, 33).
_LATENCY_BUCKETS = tuple(10.0 * 1.8**i for i in range(33))
# request_example_counts: ExponentialBuckets(1, 2, 15) as TF Serving.
_EXAMPLE_BUCKETS = tuple(float(2**i) for i in range(15))


class _Counters:
    """Counters written without ``_total`` (TF Serving's names)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._families: dict[str, tuple[str, tuple[str, ...], dict[tuple[str, ...], float]]] = {}

    def declare(self, name: str, doc: str, labels: tuple[str, ...]) -> None:
        self._families[name] = (doc, labels, {})

    def inc(self, name: str, values: tuple[str, ...], amount: float = 1.0) -> None:
        samples = self._families[name][2]
        with self._lock:
            samples[values] = samples.get(values, 0.0) + amount

    def value(self, name: str, values: tuple[str, ...]) -> float:
        return self._families[name][2].get(values, 0.0)

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import Metric

        with self._lock:
            snapshot = {n: (d, labels, dict(s)) for n, (d, labels, s) in self._families.items()}
        for name, (doc, labels, samples) in snapshot.items():
            family = Metric(name, doc, "counter")
            for values, count in sorted(samples.items()):
                family.add_sample(name, dict(zip(labels, values, strict=True)), count)
            yield family


class Metrics:
    """What the server counts; :meth:`text` is the exposition."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Histogram

        self.registry = CollectorRegistry(auto_describe=False)
        self.counters = _Counters()
        self.counters.declare(_PREFIX + "request_count", "The total number of requests.", ("model_name", "status"))
        self.counters.declare(
            _PREFIX + "request_count_by_version",
            "Requests by the model version that answered and its labels.",
            ("model_name", "version", "label", "status"),
        )
        self.counters.declare(_PREFIX + "request_log_records", "Request-log records written or dropped.", ("outcome",))
        self.counters.declare(_PREFIX + "rejected_count", "Requests refused before routing.", ("reason",))
        self.registry.register(self.counters)  # type: ignore[arg-type] - a collector: it has collect()
        self.latency = Histogram(
            _PREFIX + "request_latency",
            "Distribution of wall time (in microseconds) for Tensorflow Serving request.",
            ("model_name", "API", "entrypoint"),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.examples = Histogram(
            _PREFIX + "request_example_counts",
            "The number of tensorflow.Examples (instances) per request.",
            ("model_name", "API"),
            buckets=_EXAMPLE_BUCKETS,
            registry=self.registry,
        )

    def request(
        self,
        *,
        model: str,
        api: str,
        entrypoint: str,
        status: str,
        micros: float,
        version: int | None,
        label: str,
        examples: int,
    ) -> None:
        """Count one answered request."""
        self.counters.inc(_PREFIX + "request_count", (model, status))
        if version is not None:
            self.counters.inc(_PREFIX + "request_count_by_version", (model, str(version), label, status))
        self.latency.labels(model, api, entrypoint).observe(micros)
        if examples:
            self.examples.labels(model, api).observe(examples)

    def rejected(self, reason: str) -> None:
        self.counters.inc(_PREFIX + "rejected_count", (reason,))

    def log_record(self, outcome: str, records: int = 1) -> None:
        self.counters.inc(_PREFIX + "request_log_records", (outcome,), records)

    def log_dropped(self) -> float:
        return self.counters.value(_PREFIX + "request_log_records", ("dropped",))

    def text(self) -> bytes:
        """Prometheus text format 0.0.4; counters under TF Serving's names (no ``_total``)."""
        from prometheus_client import generate_latest

        lines = generate_latest(self.registry).decode("utf-8").split("\n")
        out = []
        for line in lines:
            if line.startswith(("# HELP " + _PREFIX, "# TYPE " + _PREFIX)):
                head, name, rest = line[:7], *line[7:].split(" ", 1)
                if name.endswith("_total") and self._is_counter(name[: -len("_total")]):
                    line = f"{head}{name[: -len('_total')]} {rest}"
            out.append(line)
        return "\n".join(out).encode("utf-8")

    def _is_counter(self, name: str) -> bool:
        return name in self.counters._families
