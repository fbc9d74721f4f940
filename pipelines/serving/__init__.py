"""A built-in model server with TensorFlow Serving's REST API, for machines without TF Serving.

- ``pipelines.serving.registry``: the loaded versions, kept in step with ``<serving_dir>`` and
  its ``models.config`` by polling (new versions load fully before they are swapped in).
- ``pipelines.serving.codec``: TF Serving's request/response JSON and error messages.
- ``pipelines.serving.rest``: the HTTP endpoints over ``http.server``.

Example:
    >>> registry = ModelRegistry("serving", poll_seconds=2)
    >>> registry.poll_once()                      # load what models.config asks for
    >>> server = make_server(registry, "127.0.0.1", 8501)
    >>> registry.start(); server.serve_forever()

Imports TensorFlow only when a model is loaded.
"""

from pipelines.serving.codec import ApiError
from pipelines.serving.registry import LoadedVersion, ModelRegistry
from pipelines.serving.rest import RestServer, handle, make_server

__all__ = ["ApiError", "LoadedVersion", "ModelRegistry", "RestServer", "handle", "make_server"]
