"""One test per error path of SPEC §2, against both receivers, each followed by a valid request that
must still succeed: malformed payloads, oversize and gzip bombs, partial success, auth, unknown
routes and media types."""

from __future__ import annotations

import gzip
import http.client
import json
import os
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from collector.config import ReceiverConfig
from faultlens.app import AnalysisConfig, FaultlensServer, ServeConfig
from store.reader import open_reader

TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
LIMIT = 256 * 1024


def make_request(n: int, bad: int = 0, trace_byte: int = 1) -> trace_service_pb2.ExportTraceServiceRequest:
    """``n`` valid spans plus ``bad`` spans with an invalid (3-byte) span id."""
    spans = [
        trace_pb2.Span(
            trace_id=bytes([trace_byte]) * 16,
            span_id=(i + 1).to_bytes(8, "big"),
            name=f"span-{i}",
            start_time_unix_nano=1_700_000_000_000_000_000 + i,
            end_time_unix_nano=1_700_000_000_100_000_000 + i,
            attributes=[
                common_pb2.KeyValue(
                    key="gen_ai.operation.name", value=common_pb2.AnyValue(string_value="chat")
                )
            ],
        )
        for i in range(n)
    ]
    spans += [
        trace_pb2.Span(trace_id=bytes([trace_byte]) * 16, span_id=b"\x01\x02\x03", name="bad")
        for _ in range(bad)
    ]
    return trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[
            trace_pb2.ResourceSpans(
                resource=resource_pb2.Resource(
                    attributes=[
                        common_pb2.KeyValue(key="service.name", value=common_pb2.AnyValue(string_value="svc"))
                    ]
                ),
                scope_spans=[trace_pb2.ScopeSpans(spans=spans)],
            )
        ]
    )


def start(tmp_path: Path, **kw: object) -> FaultlensServer:
    cfg = ReceiverConfig(grpc_port=0, http_port=0, max_body_bytes=LIMIT, **kw)  # type: ignore[arg-type]
    srv = FaultlensServer(
        ServeConfig(db=tmp_path / "s.duckdb", receivers=cfg, analysis=AnalysisConfig(enabled=False))
    )
    srv.start()
    return srv


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FaultlensServer]:
    srv = start(tmp_path)
    try:
        yield srv
    finally:
        srv.stop()


def post(
    srv: FaultlensServer,
    body: bytes,
    ctype: str = "application/x-protobuf",
    path: str = "/v1/traces",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.http_port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": ctype, **(headers or {})})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def grpc_export(
    srv: FaultlensServer,
    body: bytes,
    metadata: tuple[tuple[str, str], ...] = (),
    compression: grpc.Compression | None = None,
) -> bytes:
    with grpc.insecure_channel(f"127.0.0.1:{srv.grpc_port}") as channel:
        call = channel.unary_unary(TRACE_EXPORT, request_serializer=None, response_deserializer=None)
        return call(body, timeout=30, metadata=metadata, compression=compression)  # type: ignore[no-any-return]


def stored(srv: FaultlensServer) -> int:
    reader = open_reader(str(srv.config.db))
    try:
        return int(reader.query("select count(*) from spans").column(0)[0].as_py())
    finally:
        reader.close()


def assert_still_serving(srv: FaultlensServer, trace_byte: int) -> None:
    before = stored(srv)
    body = make_request(3, trace_byte=trace_byte).SerializeToString()
    status, _, _ = post(srv, body)
    assert status == 200
    grpc_export(srv, make_request(2, trace_byte=trace_byte + 100).SerializeToString())
    assert stored(srv) == before + 5


BAD_BODIES = {
    "garbage": os.urandom(4096),
    "truncated": make_request(50).SerializeToString()[:-7],
    "wrong_wire_type": b"\x0a\xff\xff\xff\xff\x0f",
}


@pytest.mark.parametrize("kind", sorted(BAD_BODIES))
def test_http_malformed_protobuf_is_400(server: FaultlensServer, kind: str) -> None:
    status, headers, body = post(server, BAD_BODIES[kind])
    assert status == 400
    assert headers["content-type"] == "application/x-protobuf"
    assert status_pb2.Status.FromString(body).message
    assert_still_serving(server, 10)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"resourceSpans": 5}',
        b"\xff\xfe{}",
        b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","spanId":"0102030405060708"}]}]}]}',
    ],
)
def test_http_invalid_json_is_400_in_json(server: FaultlensServer, body: bytes) -> None:
    status, headers, resp = post(server, body, "application/json")
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert json.loads(resp)["message"]
    assert_still_serving(server, 11)


@pytest.mark.parametrize("kind", sorted(BAD_BODIES))
def test_grpc_malformed_is_invalid_argument(server: FaultlensServer, kind: str) -> None:
    with pytest.raises(grpc.RpcError) as err:
        grpc_export(server, BAD_BODIES[kind])
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert_still_serving(server, 12)


def test_invalid_utf8_string_is_rejected_not_crashing(server: FaultlensServer) -> None:
    good = make_request(1).SerializeToString()
    # The span name "span-0" becomes invalid UTF-8 in place (same length, so framing stays valid).
    bad = good.replace(b"span-0", b"span\xff\xfe")
    status, _, _ = post(server, bad)
    assert status == 400
    with pytest.raises(grpc.RpcError) as err:
        grpc_export(server, bad)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert_still_serving(server, 13)


def test_http_oversize_is_413(server: FaultlensServer) -> None:
    status, _, _ = post(server, b"\x00" * (LIMIT + 1))
    assert status == 413
    assert_still_serving(server, 14)


def test_http_gzip_bomb_is_413(server: FaultlensServer) -> None:
    bomb = gzip.compress(b"\x00" * (64 * LIMIT))  # ~16 MiB of zeros in ~16 KiB
    assert len(bomb) < LIMIT
    status, headers, _ = post(server, bomb, headers={"Content-Encoding": "gzip"})
    assert status == 413
    assert "retry-after" not in headers  # not retryable
    assert_still_serving(server, 15)


def test_http_bad_gzip_is_400(server: FaultlensServer) -> None:
    status, _, _ = post(server, b"\x1f\x8b\x08\x00garbage", headers={"Content-Encoding": "gzip"})
    assert status == 400
    assert_still_serving(server, 16)


def test_grpc_oversize_and_gzip_bomb_are_resource_exhausted(server: FaultlensServer) -> None:
    with pytest.raises(grpc.RpcError) as err:
        grpc_export(server, b"\x00" * (LIMIT + 1))
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    # A compressible message far over the limit, sent gzip-compressed: grpc decompresses it and
    # must refuse by the decompressed size.
    huge = make_request(1).SerializeToString() + b"\x00" * 0  # valid prefix
    bomb = huge + trace_pb2.Span(name="x" * (8 * LIMIT)).SerializeToString()
    with pytest.raises(grpc.RpcError) as err:
        grpc_export(server, bomb, compression=grpc.Compression.Gzip)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert_still_serving(server, 17)


def test_partial_success_keeps_good_spans(server: FaultlensServer) -> None:
    body = make_request(4, bad=2).SerializeToString()
    status, _, resp = post(server, body)
    assert status == 200
    parsed = trace_service_pb2.ExportTraceServiceResponse.FromString(resp)
    assert parsed.partial_success.rejected_spans == 2
    assert parsed.partial_success.error_message
    assert stored(server) == 4

    resp2 = trace_service_pb2.ExportTraceServiceResponse.FromString(
        grpc_export(server, make_request(3, bad=1, trace_byte=2).SerializeToString())
    )
    assert resp2.partial_success.rejected_spans == 1
    assert stored(server) == 7


def test_full_success_leaves_partial_success_unset(server: FaultlensServer) -> None:
    status, _, resp = post(server, make_request(2).SerializeToString())
    assert status == 200
    assert not trace_service_pb2.ExportTraceServiceResponse.FromString(resp).HasField("partial_success")
    status, headers, resp = post(server, b'{"resourceSpans": []}', "application/json")
    assert status == 200 and headers["content-type"] == "application/json"
    assert json.loads(resp) == {}


def test_duplicates_are_stored_once(server: FaultlensServer) -> None:
    body = make_request(5).SerializeToString()
    for _ in range(3):
        assert post(server, body)[0] == 200
    grpc_export(server, body)
    assert stored(server) == 5


def test_unknown_path_and_media_type(server: FaultlensServer) -> None:
    assert post(server, b"", path="/v1/nope")[0] == 404
    assert post(server, make_request(1).SerializeToString(), ctype="text/plain")[0] == 415
    assert_still_serving(server, 18)


def test_token_required_on_both_receivers(tmp_path: Path) -> None:
    srv = start(tmp_path, token="s3cret")
    try:
        body = make_request(2).SerializeToString()
        assert post(srv, body)[0] == 401
        assert post(srv, body, headers={"Authorization": "Bearer wrong"})[0] == 401
        assert post(srv, body, headers={"Authorization": "Bearer s3cret"})[0] == 200
        with pytest.raises(grpc.RpcError) as err:
            grpc_export(srv, body)
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.RpcError) as err:
            grpc_export(srv, body, metadata=(("authorization", "Bearer nope"),))
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        grpc_export(
            srv,
            make_request(1, trace_byte=3).SerializeToString(),
            metadata=(("authorization", "Bearer s3cret"),),
        )
        assert stored(srv) == 3
    finally:
        srv.stop()


def test_full_queue_answers_retry_later_on_both_receivers(tmp_path: Path) -> None:
    """A queue bound of one item: while one request commits, every other is told to retry later
    (HTTP 503 + Retry-After, gRPC UNAVAILABLE + RetryInfo) and nothing it carried is stored."""
    import threading

    from google.rpc import error_details_pb2

    from store.config import StoreConfig

    cfg = ReceiverConfig(grpc_port=0, http_port=0, max_body_bytes=64 << 20)
    srv = FaultlensServer(
        ServeConfig(
            db=tmp_path / "q.duckdb",
            receivers=cfg,
            store=StoreConfig(queue_max_items=1),
            analysis=AnalysisConfig(enabled=False),
        )
    )
    srv.start()
    try:
        outcomes: list[tuple[str, int, object]] = []
        lock = threading.Lock()

        def via_http(i: int) -> None:
            status, headers, _ = post(srv, make_request(3000, trace_byte=i + 1).SerializeToString())
            with lock:
                outcomes.append(("http", status, headers.get("retry-after")))

        def via_grpc(i: int) -> None:
            try:
                grpc_export(srv, make_request(3000, trace_byte=i + 1).SerializeToString())
                result: tuple[str, int, object] = ("grpc", 200, None)
            except grpc.RpcError as e:
                trailers = dict(e.trailing_metadata() or ())
                info = trailers.get("google.rpc.retryinfo-bin")
                delay = error_details_pb2.RetryInfo.FromString(info).retry_delay if info else None
                result = ("grpc", 503 if e.code() == grpc.StatusCode.UNAVAILABLE else -1, delay)
            with lock:
                outcomes.append(result)

        threads = [threading.Thread(target=via_http if i % 2 else via_grpc, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert {o[1] for o in outcomes} <= {200, 503}
        refused = [o for o in outcomes if o[1] == 503]
        assert refused, "no request was refused with a bound of one item"
        for proto, _, hint in refused:
            assert hint is not None, f"{proto} refusal without a retry hint"
        ok = sum(1 for o in outcomes if o[1] == 200)
        assert stored(srv) == ok * 3000
    finally:
        srv.stop()


def test_decode_workers_give_the_same_answers(tmp_path: Path) -> None:
    """Decoding in worker processes: same storage, same error mapping as in-thread."""
    srv = start(tmp_path, decode_workers=1)
    try:
        status, _, resp = post(srv, make_request(4, bad=1).SerializeToString())
        assert status == 200
        assert (
            trace_service_pb2.ExportTraceServiceResponse.FromString(resp).partial_success.rejected_spans == 1
        )
        assert post(srv, BAD_BODIES["garbage"])[0] == 400
        with pytest.raises(grpc.RpcError) as err:
            grpc_export(srv, BAD_BODIES["truncated"])
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        grpc_export(srv, make_request(3, trace_byte=7).SerializeToString())
        assert stored(srv) == 7
    finally:
        srv.stop()


def test_http_inflight_bound_answers_retry_later(tmp_path: Path) -> None:
    """Past max_http_inflight concurrent requests the receiver answers 503 before reading the body."""
    import socket
    import time

    srv = start(tmp_path, max_http_inflight=1)
    try:
        # Hold the only slot: headers announcing a body that never comes. A hold that lost the race
        # for the slot is answered at once; it is held when no answer comes.
        deadline = time.monotonic() + 30
        while True:
            hold = socket.create_connection(("127.0.0.1", srv.http_port))
            hold.sendall(
                b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                b"Content-Length: 100\r\n\r\n"
            )
            hold.settimeout(0.5)
            try:
                answered = hold.recv(64)
            except TimeoutError:
                break  # the server is waiting for the body: the slot is ours
            hold.close()
            assert answered.startswith(b"HTTP/1.1 503") and time.monotonic() < deadline
        status, headers, _ = post(srv, make_request(1).SerializeToString())
        assert status == 503 and headers.get("retry-after")
        hold.close()
        deadline = time.monotonic() + 30
        while post(srv, make_request(2, trace_byte=9).SerializeToString())[0] != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        srv.stop()
