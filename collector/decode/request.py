"""One export request, from its bytes to its ``Decoded`` batch: what the receivers, the decode
workers, ``faultlens ingest`` and the file-based report all run."""

from __future__ import annotations

from typing import Literal

from collector.decode.logs import decode_logs
from collector.decode.metrics import decode_metrics
from collector.decode.parse import Format, parse_logs, parse_metrics, parse_traces
from collector.decode.result import Decoded
from collector.decode.traces import decode_resources, decode_traces
from collector.decode.walk import walk_bytes

Signal = Literal["traces", "logs", "metrics"]


def parse_and_decode(signal: Signal, body: bytes | memoryview, fmt: Format) -> Decoded:
    """Parse ``body`` as ``signal``'s export request and decode it (``MalformedPayload`` if it is
    not one). A memoryview (a memory-mapped body) is copied only where a parser needs bytes."""
    if signal == "traces":
        resources = walk_bytes(body) if fmt == "protobuf" else None
        if resources is not None:
            return decode_resources(resources)
        return decode_traces(parse_traces(bytes(body), fmt))
    if signal == "logs":
        return decode_logs(parse_logs(bytes(body), fmt))
    return decode_metrics(parse_metrics(bytes(body), fmt))
