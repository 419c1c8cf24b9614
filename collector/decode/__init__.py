"""Decode OTLP export requests at the edge into the normalized columnar schema (``store.schema``).

Contract (the receivers, ``faultlens ingest`` and the tests rely on it):

- ``parse_traces(body, fmt)`` / ``parse_logs`` / ``parse_metrics``: bytes (already decompressed)
  in OTLP protobuf (``fmt="protobuf"``) or OTLP/JSON (``fmt="json"``: hex ids in any case, int64 as
  strings or numbers, enums as ints, lowerCamelCase keys, unknown fields ignored) to the protobuf
  request message. Raise ``collector.errors.MalformedPayload`` with a one-line reason otherwise.
- ``decode_traces(request)`` / ``decode_logs`` / ``decode_metrics``: a parsed request to
  ``Decoded``: one ``store.api.IngestBatch`` of Arrow tables plus the count and reason of the items
  rejected (invalid ids, ...), for OTLP ``partial_success``. Never raises on content: a bad item is
  counted and skipped, it never sinks its request.

Where things are: ``parse`` (+ ``otlp_json``, the fast OTLP/JSON trace builder) → ``traces`` /
``logs`` / ``metrics`` (one pass into column lists); ``normalize`` picks a span's convention and
runs ``openinference`` / ``openllmetry`` / ``genai`` (the key → column table, deprecated forms and
span events); ``messages`` and ``events`` turn every message shape into the semconv shape;
``values`` maps AnyValues to JSON. Each module's docstring lists the keys it reads.
"""

from collector.decode.logs import decode_logs
from collector.decode.metrics import decode_metrics
from collector.decode.parse import Format, parse_logs, parse_metrics, parse_traces
from collector.decode.request import Signal, parse_and_decode
from collector.decode.result import Decoded
from collector.decode.traces import decode_traces

__all__ = [
    "Decoded",
    "Format",
    "Signal",
    "decode_logs",
    "decode_metrics",
    "decode_traces",
    "parse_and_decode",
    "parse_logs",
    "parse_metrics",
    "parse_traces",
]
