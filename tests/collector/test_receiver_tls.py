"""TLS on both receivers, with a self-signed certificate made by openssl for 127.0.0.1."""

from __future__ import annotations

import http.client
import shutil
import ssl
import subprocess
from pathlib import Path

import grpc
import pytest

from collector.config import ConfigError, ReceiverConfig
from faultlens.app import AnalysisConfig, FaultlensServer, ServeConfig
from tests.collector.test_receiver_errors import TRACE_EXPORT, make_request, stored

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_tls_on_grpc_and_http(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    cfg = ReceiverConfig(grpc_port=0, http_port=0, tls_cert=cert, tls_key=key, token="t0k")
    srv = FaultlensServer(
        ServeConfig(db=tmp_path / "t.duckdb", receivers=cfg, analysis=AnalysisConfig(enabled=False))
    )
    srv.start()
    try:
        ctx = ssl.create_default_context(cafile=str(cert))
        conn = http.client.HTTPSConnection("127.0.0.1", srv.http_port, context=ctx, timeout=30)
        conn.request(
            "POST",
            "/v1/traces",
            body=make_request(2).SerializeToString(),
            headers={"Content-Type": "application/x-protobuf", "Authorization": "Bearer t0k"},
        )
        assert conn.getresponse().status == 200
        conn.close()

        creds = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        with grpc.secure_channel(f"127.0.0.1:{srv.grpc_port}", creds) as channel:
            call = channel.unary_unary(TRACE_EXPORT)
            call(
                make_request(3, trace_byte=9).SerializeToString(),
                timeout=30,
                metadata=(("authorization", "Bearer t0k"),),
            )
        assert stored(srv) == 5

        # plaintext against the TLS port fails, it does not store anything
        plain = http.client.HTTPConnection("127.0.0.1", srv.http_port, timeout=5)
        with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
            plain.request("POST", "/v1/traces", body=b"x", headers={"Content-Type": "application/x-protobuf"})
            plain.getresponse()
        plain.close()
        assert stored(srv) == 5
    finally:
        srv.stop()


def test_tls_config_needs_cert_and_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="tls_cert/tls_key"):
        ReceiverConfig(tls_cert=tmp_path / "c.pem").validate()
