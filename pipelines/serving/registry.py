"""Which model versions are loaded, and the poller that keeps them in step with the serving dir.

    poll (every serving.poll_seconds)
      read models.config            which models, which versions (``specific``), labels
      read routing.json             the canary's share of the unlabelled model path
      list <base_path>/<version>/   what exists on disk
      load what is wanted and not loaded yet: tf.saved_model.load, replay warm-up requests
      swap in a new snapshot        one reference assignment; requests in flight keep the old one
      drop what is no longer wanted

Without models.config every model directory under the serving dir serves its newest
version (TF Serving's default policy). A version that fails to load is reported in the
model status (state END with the error) and not retried until its directory changes; if
nothing wanted could be loaded, the versions already loaded keep serving.

Routing (:meth:`ModelRegistry.resolve`): a labelled or versioned request addresses one
version. The unlabelled model path goes to ``stable`` (the newest loaded version when there
is no ``stable`` label), except that, while a ``canary`` label with a share in routing.json
is loaded, that share of requests goes to the canary: sticky per caller when the request
carries a route key (the same key always lands on the same version while the share stays;
raising the share only moves keys to the canary), random otherwise.
"""

from __future__ import annotations

import hashlib
import random
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from components import filesystem as fs
from components import serving_config, serving_layout
from pipelines.serving.codec_base import ApiError
from pipelines.serving.loading import LoadedVersion, load_version

__all__ = ["ModelRegistry"]


@dataclass(frozen=True)
class _Model:
    versions: Mapping[int, LoadedVersion]
    labels: Mapping[str, int]
    canary_share: float = 0.0  # of the unlabelled path, from routing.json


def key_point(route_key: str) -> float:
    """Where ``route_key`` falls in [0, 1): a stable hash, the same in every process and run."""
    digest = hashlib.blake2b(route_key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass
class _State:
    state: str  # LOADING | AVAILABLE | END
    error: str = ""
    stamp: float = field(default=0.0)  # mtime of the version dir when it failed (retry when it changes)


class ModelRegistry:
    """The loaded versions of every served model, kept in step with ``serving_dir`` by polling."""

    def __init__(
        self,
        serving_dir: str,
        poll_seconds: float = 2.0,
        log: Callable[[str], None] | None = None,
        loader: Callable[[str, int, str], LoadedVersion] = load_version,
    ) -> None:
        self.serving_dir = serving_layout.absolute(serving_dir)
        self.poll_seconds = poll_seconds
        self._log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self._load = loader
        self._models: dict[str, _Model] = {}  # replaced, never mutated: readers need no lock
        self._states: dict[str, dict[int, _State]] = {}
        self._states_lock = threading.Lock()
        self._poll_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._config_error: str | None = None
        self._last_wanted: dict[str, tuple[str, set[int], dict[str, int]]] = {}
        self._routing: dict[str, dict[str, float]] = {}
        self._routing_error: str | None = None

    # ------------------------------------------------------------------ polling

    def _wanted(self) -> dict[str, tuple[str, set[int], dict[str, int]]]:
        """``{model: (base_path, versions to serve, labels)}`` from models.config and the disk."""
        try:
            entries = serving_layout.read_models_config(self.serving_dir)
        except serving_layout.LayoutError as exc:
            if str(exc) != self._config_error:
                self._log(f"warning: {exc}; keeping the models loaded now")
            self._config_error = str(exc)
            return self._last_wanted
        self._config_error = None
        wanted = {}
        if entries:
            for name, entry in entries.items():
                base = entry.base_path or fs.join(self.serving_dir, name)
                on_disk = serving_layout.versions_in(base)
                versions = {v for v in entry.versions if v in on_disk} if entry.versions else set(list(on_disk)[-1:])
                wanted[name] = (base, versions, dict(entry.labels))
        else:
            for name in serving_layout.model_names(self.serving_dir):
                on_disk = serving_layout.version_dirs(self.serving_dir, name)
                wanted[name] = (fs.join(self.serving_dir, name), {max(on_disk)}, {})
        self._last_wanted = wanted
        return wanted

    def _shares(self) -> dict[str, dict[str, float]]:
        """``{model: {label: share}}`` from routing.json; the last good one if it cannot be read."""
        try:
            self._routing = serving_config.read_routing(self.serving_dir)
        except serving_layout.LayoutError as exc:
            if str(exc) != self._routing_error:
                self._log(f"warning: {exc}; keeping the traffic split in use now")
            self._routing_error = str(exc)
            return self._routing
        self._routing_error = None
        return self._routing

    def _set_state(self, name: str, version: int, state: _State) -> None:
        with self._states_lock:
            self._states.setdefault(name, {})[version] = state

    def poll_once(self) -> None:
        """Load what models.config and the disk ask for, then swap it in."""
        with self._poll_lock:
            wanted = self._wanted()
            shares = self._shares()
            current = self._models
            new: dict[str, _Model] = {}
            for name, (base, versions, labels) in wanted.items():
                old = current.get(name, _Model({}, {}))
                loaded: dict[int, LoadedVersion] = {}
                for v in sorted(versions):
                    if v in old.versions:
                        loaded[v] = old.versions[v]
                        continue
                    path = fs.join(base, str(v))
                    stamp = _mtime(path)
                    prior = self._states.get(name, {}).get(v)
                    if prior is not None and prior.state == "END" and prior.error and prior.stamp == stamp:
                        continue  # failed before and unchanged: do not retry every poll
                    self._set_state(name, v, _State("LOADING"))
                    start = time.monotonic()
                    try:
                        loaded[v] = self._load(name, v, path)
                    except Exception as exc:  # noqa: BLE001 - a bad version must not stop the server
                        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
                        self._set_state(name, v, _State("END", error, stamp))
                        self._log(f"error: could not load {name} version {v} from {path}: {error}")
                        continue
                    self._set_state(name, v, _State("AVAILABLE"))
                    self._log(f"loaded {name} version {v} in {time.monotonic() - start:.1f} s")
                if not loaded and old.versions:
                    # Availability first: nothing wanted could be loaded, keep serving what is loaded.
                    loaded = dict(old.versions)
                share = shares.get(name, {}).get(serving_config.CANARY_LABEL, 0.0)
                new[name] = _Model(loaded, dict(labels), share if serving_config.CANARY_LABEL in labels else 0.0)
            self._models = new  # the swap: one reference assignment
            for name, model in current.items():
                for v in model.versions:
                    if v not in new.get(name, _Model({}, {})).versions:
                        self._set_state(name, v, _State("END"))
                        self._log(f"unloaded {name} version {v}")

    def start(self) -> None:
        """Poll in a background thread until :meth:`stop`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="model-poller", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.poll_once()
            except Exception as exc:  # noqa: BLE001 - keep polling; the next poll may succeed
                self._log(f"error: polling {self.serving_dir} failed: {exc}")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None

    # ------------------------------------------------------------------ requests

    def models(self) -> dict[str, list[int]]:
        """``{model: loaded versions}``."""
        return {name: sorted(m.versions) for name, m in self._models.items()}

    def labels_for(self, name: str, version: int) -> list[str]:
        """The labels pointing at ``version`` of ``name`` (for per-label metrics and the request log)."""
        model = self._models.get(name)
        return sorted(label for label, v in model.labels.items() if v == version) if model is not None else []

    def resolve(
        self, name: str, version: int | None = None, label: str | None = None, route_key: str | None = None
    ) -> LoadedVersion:
        """The loaded version a request names (TF Serving's ServableRequest semantics).

        The unlabelled, unversioned path goes to ``stable``, or to the ``canary`` for its share of
        requests: by ``route_key`` (a caller's id from a request header: sticky) when given, at
        random otherwise.

        Raises:
            ApiError: 404 for an unknown model or version, 400 for an unknown label.
        """
        model = self._models.get(name)
        if label is not None:
            if model is None or label not in model.labels:
                raise ApiError(f"Unrecognized servable version label: {label}", 400)
            version = model.labels[label]
        if model is not None:
            if version is None and model.versions:
                return model.versions[self._route(model, route_key)]
            if version in model.versions:
                return model.versions[version]
        request = f"Specific({name}, {version})" if version is not None else f"Latest({name})"
        raise ApiError(f"Servable not found for request: {request}", 404)

    @staticmethod
    def _route(model: _Model, route_key: str | None) -> int:
        """The version the unlabelled path serves (``model.versions`` is not empty)."""
        canary = model.labels.get(serving_config.CANARY_LABEL)
        if model.canary_share > 0 and canary in model.versions:
            point = key_point(route_key) if route_key is not None else random.random()
            if point < model.canary_share:
                return canary
        stable = model.labels.get(serving_layout.STABLE_LABEL)
        return stable if stable in model.versions else max(model.versions)

    def status(self, name: str, version: int | None = None, label: str | None = None) -> dict[str, Any]:
        """The GetModelStatusResponse JSON for a model (or one version)."""
        from google.protobuf import json_format
        from tensorflow_serving.apis import get_model_status_pb2

        if label is not None:
            model = self._models.get(name)
            if model is None or label not in model.labels:
                raise ApiError(f"Unrecognized servable version label: {label}", 400)
            version = model.labels[label]
        with self._states_lock:
            states = dict(self._states.get(name, {}))
        if not states:
            raise ApiError(f"Could not find any versions of model {name}", 404)
        if version is not None:
            if version not in states:
                raise ApiError(f"Could not find version {version} of model {name}", 404)
            states = {version: states[version]}
        response = get_model_status_pb2.GetModelStatusResponse()
        for v, st in sorted(states.items(), reverse=True):
            entry = response.model_version_status.add()
            entry.version = v
            entry.state = get_model_status_pb2.ModelVersionStatus.State.Value(st.state)
            entry.status.SetInParent()  # TF Serving always reports a status, OK or the load error
            if st.error:
                entry.status.error_code = 2  # UNKNOWN
                entry.status.error_message = st.error
        return json_format.MessageToDict(
            response, preserving_proto_field_name=True, including_default_value_fields=True
        )


def _mtime(path: str) -> float:
    try:
        return fs.mtime_ns(path) / 1e9
    except OSError:
        return 0.0
