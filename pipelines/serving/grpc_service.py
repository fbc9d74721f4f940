"""TF Serving's gRPC API: ``PredictionService`` (Predict, Classify, Regress, GetModelMetadata) and
``ModelService.GetModelStatus``, on the ``tensorflow_serving.apis`` stubs, so a stock client works.

The server is ``grpc.aio`` on the event loop REST answers on (one loop, no thread per call):
a Predict with batching on awaits the loop's batcher, as REST's does; any other answer runs on
the loop while answers are quick and no other call is in flight, else on a thread pool
(:class:`pipelines.serving.offload.Offload`). Every call goes through
:class:`pipelines.serving.service.Service`, as REST does: the same version routing
(``x-request-key`` metadata is the sticky route key), batching, metrics (``entrypoint="GRPC"``)
and request log (``x-request-id`` metadata is the request id). Errors are gRPC statuses with TF
Serving's codes and messages; a bearer token, when set, is the ``authorization: Bearer <token>``
metadata. More than ``max_in_flight`` calls at once are refused by gRPC itself with
RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipelines.serving.auth import check_bearer
from pipelines.serving.codec import ApiError
from pipelines.serving.grpc_convert import examples_request, examples_response, fill_tensor, to_array
from pipelines.serving.offload import INLINE_BYTES, Offload
from pipelines.serving.service import TF_CODES, Call, Service, error_answer, signature

__all__ = ["make_grpc_server"]

_POOL_THREADS = 32


def _spec(spec: Any) -> tuple[str, int | None, str | None]:
    choice = spec.WhichOneof("version_choice")
    version = spec.version.value if choice == "version" else None
    label = spec.version_label if choice == "version_label" else None
    return spec.name, version, label


def _examples(request: Any) -> list[Any]:
    from tensorflow.core.example import example_pb2

    kind = request.input.WhichOneof("kind")
    if kind == "example_list":
        examples = list(request.input.example_list.examples)
    elif kind == "example_list_with_context":
        with_context = request.input.example_list_with_context
        examples = []
        for example in with_context.examples:
            merged = example_pb2.Example()
            merged.CopyFrom(with_context.context)
            for name, feature in example.features.feature.items():
                merged.features.feature[name].CopyFrom(feature)
            examples.append(merged)
    else:
        raise ApiError("Input is empty")
    if not examples:
        raise ApiError("Input is empty")
    return examples


class _Servicer:
    """Both services' methods; registered with the generated ``add_*_to_server`` functions."""

    def __init__(self, service: Service, token: str | None, offload: Offload) -> None:
        self.service = service
        self.token = token
        self.offload = offload
        self.in_flight = 0

    async def answer(
        self,
        context: Any,
        api: str,
        spec: Any,
        fn: Callable[[Call, int | None, str | None], Any],
        batched: Callable[[Call, int | None, str | None], Any] | None = None,
        size: int = 0,
    ) -> Any:
        """``fn(call, version, label)`` on the loop or the pool, or ``await batched(...)`` when given;
        any failure is aborted with TF Serving's status. A request of more than ``INLINE_BYTES``
        (``size``) is never decoded or answered on the loop, which REST's clients share."""
        import grpc

        metadata = {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)}
        if self.token is not None:
            problem = check_bearer(metadata.get("authorization"), self.token)
            if problem:
                self.service.metrics.rejected("auth")
                await context.abort(grpc.StatusCode.UNAUTHENTICATED, problem)
        name, version, label = _spec(spec)
        self.in_flight += 1
        try:
            with self.service.call(
                "GRPC", api, name, metadata.get("x-request-id"), metadata.get("x-request-key")
            ) as call:
                if batched is not None and size <= INLINE_BYTES:
                    return await batched(call, version, label)
                alone = self.in_flight <= 1 and size <= INLINE_BYTES
                return await self.offload.run(fn, call, version, label, alone=alone)
        except Exception as exc:  # noqa: BLE001 - every failure is a status, never a dropped call
            _, code, message = error_answer(exc)
        finally:
            self.in_flight -= 1
        await context.abort(grpc.StatusCode[TF_CODES[code]], message)

    # ------------------------------------------------------------------ PredictionService

    def _predict_inputs(self, request: Any, call: Call, version: int | None, label: str | None) -> tuple[str, dict]:
        self.service.resolve(call, version, label)
        name = request.model_spec.signature_name or "serving_default"
        sig = signature(call.loaded, name)  # type: ignore[arg-type] - resolved above
        for key in request.inputs:
            if key not in sig.inputs:
                raise ApiError(
                    f"input tensor alias not found in signature: {key}. Inputs expected to be in the set "
                    f"{{{','.join(sorted(sig.inputs))}}}."
                )
        missing = sorted(set(sig.inputs) - set(request.inputs))
        if missing:
            raise ApiError(f"Missing input(s) of signature '{name}': {', '.join(missing)}")
        return name, {k: to_array(v) for k, v in request.inputs.items()}

    def _predict_response(self, request: Any, call: Call, name: str, outputs: dict) -> Any:
        from tensorflow_serving.apis import predict_pb2

        if request.output_filter:
            unknown = [k for k in request.output_filter if k not in outputs]
            if unknown:
                raise ApiError(f"output tensor alias not found in signature: {unknown[0]}")
            outputs = {k: outputs[k] for k in request.output_filter}
        response = predict_pb2.PredictResponse()
        for key, array in outputs.items():
            fill_tensor(response.outputs[key], array)
        loaded = call.loaded
        response.model_spec.name = loaded.name  # type: ignore[union-attr] - resolved
        response.model_spec.version.value = loaded.version  # type: ignore[union-attr]
        response.model_spec.signature_name = name
        self.service.log(call, lambda: request, lambda: response)
        return response

    async def Predict(self, request: Any, context: Any) -> Any:  # noqa: N802 - the gRPC method name
        def run(call: Call, version: int | None, label: str | None) -> Any:
            name, arrays = self._predict_inputs(request, call, version, label)
            return self._predict_response(request, call, name, self.service.run(call, name, arrays))

        async def batched(call: Call, version: int | None, label: str | None) -> Any:
            name, arrays = self._predict_inputs(request, call, version, label)
            outputs = await self.service.run_async(call, name, arrays)
            return self._predict_response(request, call, name, outputs)

        use_batcher = self.service.async_batcher is not None
        size = request.ByteSize()
        return await self.answer(context, "predict", request.model_spec, run, batched if use_batcher else None, size)

    async def _examples_call(self, request: Any, context: Any, method: str) -> Any:
        def run(call: Call, version: int | None, label: str | None) -> Any:
            loaded = self.service.resolve(call, version, label)
            name = request.model_spec.signature_name or "serving_default"
            examples = _examples(request)
            outputs = self.service.run_examples(call, name, examples)
            response = examples_response(method, outputs, name)
            response.model_spec.name = loaded.name
            response.model_spec.version.value = loaded.version
            response.model_spec.signature_name = name
            self.service.log(call, lambda: examples_request(method, examples), lambda: response)
            return response

        return await self.answer(context, method, request.model_spec, run, size=request.ByteSize())

    async def Classify(self, request: Any, context: Any) -> Any:  # noqa: N802
        return await self._examples_call(request, context, "classify")

    async def Regress(self, request: Any, context: Any) -> Any:  # noqa: N802
        return await self._examples_call(request, context, "regress")

    async def GetModelMetadata(self, request: Any, context: Any) -> Any:  # noqa: N802
        from google.protobuf import json_format
        from tensorflow_serving.apis import get_model_metadata_pb2

        def run(call: Call, version: int | None, label: str | None) -> Any:
            fields = list(request.metadata_field)
            if fields != ["signature_def"]:
                raise ApiError("Metadata field must be exactly 'signature_def'" if fields else "Missing metadata_field")
            loaded = self.service.resolve(call, version, label)
            defs = get_model_metadata_pb2.SignatureDefMap()
            json_format.ParseDict({"signature_def": dict(loaded.signature_defs)}, defs)
            response = get_model_metadata_pb2.GetModelMetadataResponse()
            response.model_spec.name = loaded.name
            response.model_spec.version.value = loaded.version
            response.metadata["signature_def"].Pack(defs)
            return response

        return await self.answer(context, "metadata", request.model_spec, run)

    # ------------------------------------------------------------------ ModelService

    async def GetModelStatus(self, request: Any, context: Any) -> Any:  # noqa: N802
        from google.protobuf import json_format
        from tensorflow_serving.apis import get_model_status_pb2

        def run(call: Call, version: int | None, label: str | None) -> Any:
            status = self.service.registry.status(call.model, version, label)
            return json_format.ParseDict(status, get_model_status_pb2.GetModelStatusResponse())

        return await self.answer(context, "status", request.model_spec, run)


def make_grpc_server(
    service: Service,
    host: str,
    port: int,
    token: str | None = None,
    max_in_flight: int = 256,
    max_message_bytes: int = 64 * 1024 * 1024,
) -> tuple[Any, int, Offload]:
    """``(grpc.aio.Server not yet started, bound port, its thread pool)``; ``port=0`` picks a free port.
    Call it on the event loop that will serve it.

    Raises:
        OSError: ``host:port`` cannot be bound.
    """
    import grpc
    from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

    # The generated bases answer what is not here (MultiInference, HandleReloadConfigRequest) UNIMPLEMENTED.
    bases = (
        _Servicer,
        prediction_service_pb2_grpc.PredictionServiceServicer,
        model_service_pb2_grpc.ModelServiceServicer,
    )
    offload = Offload("grpc", _POOL_THREADS)
    servicer = type("Servicer", bases, {})(service, token, offload)
    server = grpc.aio.server(
        maximum_concurrent_rpcs=max_in_flight,
        options=[
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
            ("grpc.so_reuseport", 0),
        ],
    )
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(servicer, server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(servicer, server)
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError as exc:
        offload.close()
        raise OSError(f"cannot bind gRPC to {address}: {exc}") from exc
    if bound == 0:
        offload.close()
        raise OSError(f"cannot bind gRPC to {address}")
    return server, bound, offload
