"""Serving the pushed models: a built-in server with TF Serving's REST and gRPC APIs, push and serve logic.

- ``pipelines.serving.codec``: TF Serving's request/response JSON and error messages
  (``request_predict`` with ``request_rows``, ``request_examples``, ``response``, ``codec_base`` behind it).
- ``pipelines.serving.loading``: one version loaded (SavedModel, signatures, warm-up replayed).
- ``pipelines.serving.registry``: the loaded versions, kept in step with ``<serving_dir>`` and
  its ``models.config`` by polling (new versions load fully before they are swapped in).
- ``pipelines.serving.service``: the one request path REST and gRPC share (routing, batching,
  metrics, request log); ``batching`` (threads), ``batching_async`` (the event loop), ``metrics``,
  ``request_log``, ``auth`` behind it.
- ``pipelines.serving.rest``: TF Serving's REST API as an ASGI app (Starlette), with
  ``/monitoring/prometheus/metrics``, ``/healthz`` and ``/readyz``.
- ``pipelines.serving.grpc_service``: TF Serving's gRPC API (``grpc_convert`` for its messages).
- ``pipelines.serving.server``: REST on uvicorn and ``grpc.aio`` on one event loop; graceful drain.
- ``pipelines.serving.offload``: a synchronous answer on the loop while quick, else on a thread pool.
- ``pipelines.serving.versions``: what ``pipelines.push`` does (list, rollback).
- ``pipelines.serving.launch``: what ``pipelines.serve`` does (TF Serving or the built-in server).

Example:
    >>> from pipelines.serving.server import ServerOptions
    >>> registry = ModelRegistry("serving", poll_seconds=2)
    >>> registry.poll_once()  # load what models.config asks for
    >>> server = make_server(registry, "127.0.0.1", 8501, options=ServerOptions(grpc_port=8500))
    >>> registry.start()
    >>> server.serve_forever()

The commands call ``pipelines.serving.versions`` and ``pipelines.serving.launch`` directly;
the package namespace is the server. Imports TensorFlow only when a model is loaded, and
never TFX: a serving host needs TensorFlow and ``tensorflow-serving-api``, not TFX.
"""

from pipelines.serving.codec import ApiError
from pipelines.serving.loading import LoadedVersion
from pipelines.serving.registry import ModelRegistry
from pipelines.serving.rest import handle
from pipelines.serving.server import RestServer, make_server

__all__ = ["ApiError", "LoadedVersion", "ModelRegistry", "RestServer", "handle", "make_server"]
