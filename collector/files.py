"""OTLP files on disk → export requests, for ``faultlens ingest`` and ``faultlens report FILES``.

Accepted, each optionally gzip-compressed (detected by its magic bytes, not its name):
- OTLP/JSON: one ExportTraceServiceRequest / ExportLogsServiceRequest / ExportMetricsServiceRequest
  object (the signal is told by its top-level key: ``resourceSpans``, ``resourceLogs``,
  ``resourceMetrics``), or a JSON array of such objects;
- JSON Lines: one such object per line (the OTel Collector's file exporter writes this);
- OTLP protobuf: one serialized ExportTraceServiceRequest (``.pb``/``.binpb``/anything else);
  a file whose name contains ``logs`` or ``metrics`` is read as that signal's request.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from collector.decode import Format, Signal
from collector.errors import MalformedPayload

_SIGNAL_KEYS: dict[str, Signal] = {
    "resourceSpans": "traces",
    "resource_spans": "traces",
    "resourceLogs": "logs",
    "resource_logs": "logs",
    "resourceMetrics": "metrics",
    "resource_metrics": "metrics",
}


@dataclass(frozen=True)
class FileRequest:
    signal: Signal
    body: bytes
    fmt: Format
    where: str  # "path" or "path:line" for messages


def read_requests(path: Path, max_bytes: int = 1 << 30) -> Iterator[FileRequest]:
    """Yield the export requests in ``path``. Raises ``MalformedPayload`` naming the file (and line)
    for content that is none of the accepted forms."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise MalformedPayload(f"{path}: invalid gzip: {e}") from e
        if len(data) > max_bytes:
            raise MalformedPayload(f"{path}: decompressed content over {max_bytes} bytes")
    stripped = data.lstrip()
    if stripped[:1] in (b"{", b"["):
        yield from _json_requests(path, data)
        return
    signal: Signal = "traces"
    name = path.name.lower()
    if "logs" in name:
        signal = "logs"
    elif "metrics" in name:
        signal = "metrics"
    yield FileRequest(signal, data, "protobuf", str(path))


def _json_requests(path: Path, data: bytes) -> Iterator[FileRequest]:
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        doc = None
    if doc is not None:
        items = doc if isinstance(doc, list) else [doc]
        for i, item in enumerate(items):
            where = f"{path}[{i}]" if isinstance(doc, list) else str(path)
            yield FileRequest(_signal_of(item, where), orjson.dumps(item), "json", where)
        return
    # JSON Lines
    for lineno, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            raise MalformedPayload(f"{where}: invalid JSON: {e}") from e
        yield FileRequest(_signal_of(item, where), line, "json", where)


def _signal_of(item: object, where: str) -> Signal:
    if isinstance(item, dict):
        for key, signal in _SIGNAL_KEYS.items():
            if key in item:
                return signal
        if not item:
            return "traces"  # an empty request is valid OTLP
    raise MalformedPayload(
        f"{where}: not an OTLP export request (no resourceSpans/resourceLogs/resourceMetrics)"
    )
