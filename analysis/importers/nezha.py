"""Import the Nezha (FSE '23) Train-Ticket span CSVs and fault lists (github.com/IntelligentDDS/Nezha,
MIT; see /work/shared/external/README.md) into faultlens' normalized schema.

CSV columns: ``TraceID, SpanID, ParentID ('root' for the root), PodName, OperationName,
StartTimeUnixNano, EndTimeUnixNano, Duration`` (microseconds). One file per minute. The service is the
pod name without its ReplicaSet hash and pod suffix (``ts-travel-service-64469b5b48-5rjvb`` →
``ts-travel-service``). The CSVs carry no span kind; it is inferred from the operation name
(``HTTP GET`` → client, ``/api/...`` → server, ``SELECT ...`` → client of the database).

Fault lists: ``{"HH": [{inject_time, inject_timestamp, inject_pod, inject_type}]}``.

``evaluate_rca`` is the benchmark: rank services by the timeout family's root-cause scoring
(``analysis.detectors.timeouts.ranking``) over the traces after each fault. The faults are latency
(network delay, CPU contention), not always timeouts: it measures the root-cause step, not the
cascade detector.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl
import pyarrow as pa

from analysis.detectors.timeouts.config import DEFAULT, TimeoutConfig
from analysis.detectors.timeouts.ranking import baseline_of, rank_actors
from analysis.detectors.timeouts.spans import SpanIndex
from analysis.load import build_trace
from analysis.model import Trace
from store import schema
from store.api import IngestBatch

_CLIENT, _SERVER, _INTERNAL = 3, 2, 1


@dataclass(frozen=True)
class Fault:
    time_ns: int
    pod: str
    service: str
    type: str  # cpu_contention | cpu_consumed | network_delay | return | exception


def service_of_pod(pod: str) -> str:
    """``ts-x-service-<replicaset hash>-<pod suffix>`` → ``ts-x-service`` (unchanged otherwise)."""
    parts = pod.rsplit("-", 2)
    return parts[0] if len(parts) == 3 else pod


def _kind(operation: str) -> int:
    if operation.startswith(("HTTP ", "SELECT", "INSERT", "UPDATE", "DELETE")):
        return _CLIENT
    if operation.startswith("/"):
        return _SERVER
    return _INTERNAL


def read_faults(path: Path) -> list[Fault]:
    """Every fault of one ``<date>-fault_list.json``, in time order."""
    raw = orjson.loads(path.read_bytes())
    faults = [
        Fault(
            _inject_ns(f),
            f["inject_pod"],
            service_of_pod(f["inject_pod"]),
            f["inject_type"],
        )
        for hour in raw.values()
        for f in hour
    ]
    return sorted(faults, key=lambda f: f.time_ns)


def _inject_ns(fault: dict[str, str]) -> int:
    """The injection time. ``inject_time`` (UTC) is preferred: for two faults of 2023-01-30
    ``inject_timestamp`` is one minute off it, and the shipped minute files follow the string."""
    try:
        parsed = datetime.strptime(fault["inject_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except (KeyError, ValueError):
        return int(fault["inject_timestamp"]) * 10**9
    return int(parsed.timestamp()) * 10**9


def _rows(path: Path) -> Iterable[dict[str, object]]:
    with path.open(newline="") as fh:
        for rec in csv.DictReader(fh):
            start, end = int(rec["StartTimeUnixNano"]), int(rec["EndTimeUnixNano"])
            pod, op = rec["PodName"], rec["OperationName"]
            service = service_of_pod(pod)
            parent = rec["ParentID"]
            yield {
                "trace_id": rec["TraceID"].lower(),
                "span_id": rec["SpanID"].lower(),
                "parent_span_id": None if parent in ("root", "") else parent.lower(),
                "name": op,
                "kind": _kind(op),
                "start_ns": start,
                "end_ns": end,
                "duration_ns": end - start,
                "status_code": 0,
                "service_name": service,
                "resource_attributes": orjson.dumps({"service.name": service, "k8s.pod.name": pod}).decode(),
                "attributes": "{}",
                "db_system": "mysql" if op.startswith("SELECT") else None,
            }


def read_spans(paths: Sequence[Path]) -> pa.Table:
    """The spans of ``paths`` as one table in ``store.schema.SPANS`` (duplicates kept once)."""
    seen: set[tuple[object, object]] = set()
    rows = []
    for path in paths:
        for row in _rows(path):
            key = (row["trace_id"], row["span_id"])
            if key not in seen:
                seen.add(key)
                rows.append(row)
    return pa.Table.from_pylist(rows, schema=schema.SPANS)


def to_batch(paths: Sequence[Path]) -> IngestBatch:
    """An ``IngestBatch`` for ``store.api.StoreWriter.write`` (no events, links, logs or metrics)."""
    return IngestBatch(spans=read_spans(paths))


def read_traces(paths: Sequence[Path]) -> list[Trace]:
    """The traces of ``paths`` as ``analysis.model.Trace`` objects, in start order."""
    frame = pl.from_arrow(read_spans(paths))
    assert isinstance(frame, pl.DataFrame)
    if frame.height == 0:
        return []
    events = pl.from_arrow(schema.SPAN_EVENTS.empty_table())
    links = pl.from_arrow(schema.SPAN_LINKS.empty_table())
    assert isinstance(events, pl.DataFrame) and isinstance(links, pl.DataFrame)
    parts = frame.partition_by("trace_id", as_dict=True)
    traces = [build_trace(str(tid[0]), part, events, links) for tid, part in parts.items()]
    return sorted(traces, key=lambda t: (int(t.spans["start_ns"].min() or 0), t.trace_id))  # type: ignore[arg-type]


@dataclass(frozen=True)
class FaultResult:
    fault: Fault
    traces: int
    ranking: tuple[str, ...]  # services, most blamed first

    @property
    def rank(self) -> int | None:
        """1-based rank of the faulty service, None when it was not blamed at all."""
        return self.ranking.index(self.fault.service) + 1 if self.fault.service in self.ranking else None


def evaluate_rca(
    dataset: Path, date: str = "2023-01-30", minutes_after: int = 3, config: TimeoutConfig = DEFAULT
) -> list[FaultResult]:
    """Service-level root-cause ranking for every labelled fault of ``date`` that has span files:
    the baseline is the fault-free minute(s) of that date, the traces those starting in the
    ``minutes_after`` minutes after the injection (``rank_actors``)."""
    base = baseline_of(
        SpanIndex(t)
        for t in read_traces(sorted((dataset / f"fault_free_{date}" / "trace").glob("*_trace.csv")))
    )
    trace_dir = dataset / f"rca_{date}" / "trace"
    out: list[FaultResult] = []
    for fault in read_faults(dataset / "labels" / f"{date}-fault_list.json"):
        minute = fault.time_ns // (60 * 10**9) * 60
        names = [time.strftime("%H_%M", time.gmtime(minute + 60 * k)) for k in range(minutes_after)]
        paths = [p for p in (trace_dir / f"{n}_trace.csv" for n in names) if p.exists()]
        if not paths:
            continue
        end = fault.time_ns + minutes_after * 60 * 10**9
        indexes = [
            SpanIndex(t)
            for t in read_traces(paths)
            if fault.time_ns <= int(t.spans["start_ns"].min() or 0) < end  # type: ignore[arg-type]
        ]
        ranking = tuple(s.actor for s in rank_actors(indexes, base, config))
        out.append(FaultResult(fault, len(indexes), ranking))
    return out
