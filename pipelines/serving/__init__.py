"""Serving the pushed models: a built-in server with TensorFlow Serving's REST API, push and serve logic.

- ``pipelines.serving.codec``: TF Serving's request/response JSON and error messages
  (``request_predict``, ``request_examples``, ``response``, ``codec_base`` behind it).
- ``pipelines.serving.loading``: one version loaded (SavedModel, signatures, warm-up replayed).
- ``pipelines.serving.registry``: the loaded versions, kept in step with ``<serving_dir>`` and
  its ``models.config`` by polling (new versions load fully before they are swapped in).
- ``pipelines.serving.rest``: the HTTP endpoints over ``http.server``.
- ``pipelines.serving.versions``: what ``pipelines.push`` does (list, rollback).
- ``pipelines.serving.launch``: what ``pipelines.serve`` does (TF Serving or the built-in server).

Example:
    >>> registry = ModelRegistry("serving", poll_seconds=2)
    >>> registry.poll_once()  # load what models.config asks for
    >>> server = make_server(registry, "127.0.0.1", 8501)
    >>> registry.start()
    >>> server.serve_forever()

The commands call ``pipelines.serving.versions`` and ``pipelines.serving.launch`` directly;
the package namespace is the server. Imports TensorFlow only when a model is loaded, and
never TFX: a serving host needs TensorFlow and ``tensorflow-serving-api``, not TFX.
"""

from pipelines.serving.codec import ApiError
from pipelines.serving.loading import LoadedVersion
from pipelines.serving.registry import ModelRegistry
from pipelines.serving.rest import RestServer, handle, make_server

__all__ = ["ApiError", "LoadedVersion", "ModelRegistry", "RestServer", "handle", "make_server"]
