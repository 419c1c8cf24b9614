"""``ExportMetricsServiceRequest`` → the ``metrics`` Arrow table, GenAI metrics only.

Metrics whose name starts with ``gen_ai.`` (``gen_ai.client.token.usage``,
``gen_ai.client.operation.duration``, ...) become one row per data point; every other metric is
accepted and dropped (not rejected). ``point_id`` is a content hash of resource, scope, metric name
and data point. Gauge / sum points fill ``value``; histograms fill ``count`` / ``sum`` / ``min`` /
``max`` / ``bucket_counts`` / ``explicit_bounds``; exponential histograms fill count / sum / min /
max (their buckets stay out); summaries fill count / sum.
"""

from __future__ import annotations

import hashlib
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

from collector.decode import columns
from collector.decode.result import Decoded
from collector.decode.traces import MAX_I64
from collector.decode.values import as_text, attributes, dumps
from store import schema
from store.api import IngestBatch

_TYPES = {
    "gauge": "gauge",
    "sum": "sum",
    "histogram": "histogram",
    "exponential_histogram": "exponential_histogram",
    "summary": "summary",
}


def _number(point: Any) -> float | None:
    which = point.WhichOneof("value")
    if which == "as_double":
        return float(point.as_double)
    if which == "as_int":
        return float(point.as_int)
    return None


def _opt(point: Any, field: str) -> float | None:
    return float(getattr(point, field)) if point.HasField(field) else None


def _row(kind: str, point: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "time_ns": min(point.time_unix_nano, MAX_I64),
        "start_ns": min(point.start_time_unix_nano, MAX_I64),
        "attributes": dumps(attributes(point.attributes)),
    }
    if kind in ("gauge", "sum"):
        row["value"] = _number(point)
    elif kind in ("histogram", "exponential_histogram"):
        row["count"] = min(point.count, MAX_I64)
        row["sum"] = _opt(point, "sum")
        row["min"] = _opt(point, "min")
        row["max"] = _opt(point, "max")
        if kind == "histogram":
            row["bucket_counts"] = dumps(list(point.bucket_counts))
            row["explicit_bounds"] = dumps(list(point.explicit_bounds))
    else:  # summary
        row["count"] = min(point.count, MAX_I64)
        row["sum"] = float(point.sum)
    return row


def decode_metrics(request: ExportMetricsServiceRequest) -> Decoded:
    """Decode the GenAI metric points of ``request`` (see the module docstring)."""
    cols: dict[str, list[Any]] = {name: [] for name in schema.METRICS.names}
    per_point = (
        "time_ns",
        "start_ns",
        "value",
        "count",
        "sum",
        "min",
        "max",
        "bucket_counts",
        "explicit_bounds",
        "attributes",
    )
    for rm in request.resource_metrics:
        res_attrs = attributes(rm.resource.attributes)
        res_json = dumps(res_attrs)
        service = as_text(res_attrs.get("service.name"))
        res_bytes = rm.resource.SerializeToString(deterministic=True)
        for sm in rm.scope_metrics:
            scope_name = sm.scope.name or None
            scope_bytes = sm.scope.SerializeToString(deterministic=True)
            for metric in sm.metrics:
                if not metric.name.startswith("gen_ai."):
                    continue
                which = metric.WhichOneof("data")
                kind = _TYPES.get(which or "")
                if kind is None:
                    continue
                for point in getattr(metric, which or "").data_points:
                    digest = hashlib.blake2b(res_bytes, digest_size=16)
                    digest.update(b"\x00" + scope_bytes + b"\x00" + metric.name.encode() + b"\x00")
                    digest.update(point.SerializeToString(deterministic=True))
                    row = _row(kind, point)
                    cols["point_id"].append(digest.hexdigest())
                    cols["name"].append(metric.name)
                    cols["unit"].append(metric.unit or None)
                    cols["type"].append(kind)
                    for column in per_point:
                        cols[column].append(row.get(column))
                    cols["service_name"].append(service)
                    cols["resource_attributes"].append(res_json)
                    cols["scope_name"].append(scope_name)
    cols["ingested_ns"] = [None] * len(cols["point_id"])
    return Decoded(
        batch=IngestBatch(metrics=columns.table(cols, schema.METRICS)), rejected=0, error_message=None
    )
