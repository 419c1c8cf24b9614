"""OTLP/gRPC receiver: TraceService, LogsService and MetricsService ``Export``.

Handlers take the raw request bytes (no grpc deserializer) so that parsing errors go through the same
decoder and the same error mapping as OTLP/HTTP. grpc itself enforces the size limit on the
decompressed message (RESOURCE_EXHAUSTED) and decompresses gzip.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from collector.config import ReceiverConfig
from collector.service import ExportService, Signal
from collector.status import error_response

log = logging.getLogger(__name__)

_SERVICES: dict[str, Signal] = {
    "opentelemetry.proto.collector.trace.v1.TraceService": "traces",
    "opentelemetry.proto.collector.logs.v1.LogsService": "logs",
    "opentelemetry.proto.collector.metrics.v1.MetricsService": "metrics",
}


class _AbortStatus(grpc.Status):  # type: ignore[misc]
    def __init__(self, code: grpc.StatusCode, details: str, trailing_metadata: tuple[tuple[str, Any], ...]):
        self.code = code
        self.details = details
        self.trailing_metadata = trailing_metadata


def _abort(context: grpc.ServicerContext, exc: BaseException) -> None:
    err = error_response(exc)
    trailers: tuple[tuple[str, Any], ...] = ()
    if err.retry_after is not None:
        retry = error_details_pb2.RetryInfo(
            retry_delay=duration_pb2.Duration(
                seconds=int(err.retry_after), nanos=int(err.retry_after % 1 * 1e9)
            )
        )
        detail = status_pb2.Status(code=code_pb2.UNAVAILABLE, message=err.message)
        detail.details.add().Pack(retry)
        # The rich status (as the Collector sends it) plus the trailer the Python exporter reads.
        trailers = (
            ("grpc-status-details-bin", detail.SerializeToString()),
            ("google.rpc.retryinfo-bin", retry.SerializeToString()),
        )
    context.abort_with_status(_AbortStatus(err.grpc_code, err.message, trailers))


def _export_handler(service: ExportService, signal: Signal) -> Callable[[bytes, grpc.ServicerContext], bytes]:
    def handle(request: bytes, context: grpc.ServicerContext) -> bytes:
        try:
            metadata = dict(context.invocation_metadata())
            auth = metadata.get("authorization")
            service.authenticate(auth if isinstance(auth, str) else None)
            response = service.export(signal, request, "protobuf")
        except Exception as exc:  # mapped in one place; never UNKNOWN
            service.counters.count_request(error_response(exc).grpc_code.name)
            _abort(context, exc)
            raise AssertionError("unreachable") from None  # abort_with_status raises
        service.counters.count_request("OK")
        data: bytes = response.SerializeToString()
        return data

    return handle


class _Handler(grpc.GenericRpcHandler):  # type: ignore[misc]
    def __init__(self, service: ExportService) -> None:
        self._handlers = {
            f"/{name}/Export": grpc.unary_unary_rpc_method_handler(
                _export_handler(service, signal), request_deserializer=None, response_serializer=None
            )
            for name, signal in _SERVICES.items()
        }

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        return self._handlers.get(handler_call_details.method)


class GrpcReceiver:
    """Runs the OTLP/gRPC receiver; ``port`` is the bound port."""

    def __init__(self, config: ReceiverConfig, service: ExportService) -> None:
        options = [
            # grpc shares a port with any other process by default (SO_REUSEPORT): a second faultlens
            # would silently take half of the traffic into another store. Refuse instead.
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", config.max_body_bytes),
            ("grpc.max_send_message_length", 4 * 1024 * 1024),
        ]
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=config.grpc_workers, thread_name_prefix="otlp-grpc"),
            handlers=[_Handler(service)],
            options=options,
        )
        address = f"{config.host}:{config.grpc_port}"
        try:
            if config.tls_cert is not None and config.tls_key is not None:
                creds = grpc.ssl_server_credentials(
                    [(config.tls_key.read_bytes(), config.tls_cert.read_bytes())]
                )
                self.port = self._server.add_secure_port(address, creds)
            else:
                self.port = self._server.add_insecure_port(address)
        except RuntimeError as e:  # grpc reports a taken port this way
            raise OSError(f"cannot bind the OTLP/gRPC receiver to {address}: is the port in use?") from e
        if self.port == 0:
            raise OSError(f"cannot bind the OTLP/gRPC receiver to {address}: is the port in use?")

    def start(self) -> None:
        self._server.start()

    def stop(self, grace: float = 5.0) -> None:
        self._server.stop(grace).wait(grace + 1)
