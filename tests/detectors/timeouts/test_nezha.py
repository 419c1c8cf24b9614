"""The Nezha Train-Ticket importer (real third-party data, /work/shared/external/nezha_trainticket)
and the root-cause ranking measured on its labelled faults.

The faults are injected latency (network delay, CPU contention), not always timeouts: this measures
the root-cause step of the cascade analysis. Figures printed by ``bench/timeouts.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.detectors.timeouts import TimeoutCascadeDetector
from analysis.importers import nezha
from analysis.load import load_traces
from store.writer import DuckStoreWriter

DATA = Path(__file__).resolve().parents[4] / "shared" / "external" / "nezha_trainticket"
pytestmark = pytest.mark.skipif(not DATA.exists(), reason="Nezha data not present")
MINUTE = DATA / "rca_2023-01-30" / "trace" / "13_52_trace.csv"


def test_service_of_pod() -> None:
    assert nezha.service_of_pod("ts-travel-service-64469b5b48-5rjvb") == "ts-travel-service"
    assert nezha.service_of_pod("mysql") == "mysql"


def test_import_one_minute() -> None:
    table = nezha.read_spans([MINUTE])
    lines = sum(1 for _ in MINUTE.open()) - 1
    assert table.num_rows == lines
    traces = nezha.read_traces([MINUTE])
    assert sum(t.spans.height for t in traces) == lines
    for trace in traces:
        roots = trace.spans.filter(trace.spans["parent_span_id"].is_null())
        assert roots.height == 1  # 'root' became NULL, every other parent is in the trace
        assert len(trace.hb.order()) == trace.spans.height
    services = set(table.column("service_name").to_pylist())
    assert "ts-route-service" in services and all(not s.endswith("5rjvb") for s in services)


def test_import_through_a_real_store(tmp_path: Path) -> None:
    batch = nezha.to_batch([MINUTE])
    with DuckStoreWriter(tmp_path / "nezha.duckdb") as writer:
        result = writer.write(batch)
        assert result.spans_written == batch.spans.num_rows
        reader = writer.reader()
        ids = [str(x) for x in reader.query("SELECT DISTINCT trace_id FROM spans").column(0).to_pylist()]
        loaded = list(load_traces(reader, ids))
    assert sum(t.spans.height for t in loaded) == batch.spans.num_rows
    # latency faults without errors: the timeout detectors stay silent on them
    detector = TimeoutCascadeDetector()
    assert [f for t in loaded for f in detector.detect(t) if f.kind == "timeout_cascade"] == []


def test_fault_list() -> None:
    faults = nezha.read_faults(DATA / "labels" / "2023-01-30-fault_list.json")
    assert faults == sorted(faults, key=lambda f: f.time_ns)
    assert {f.type for f in faults} <= {
        "cpu_contention",
        "cpu_consumed",
        "network_delay",
        "return",
        "exception",
    }


@pytest.mark.slow
def test_root_cause_ranking_on_labelled_faults() -> None:
    results = nezha.evaluate_rca(DATA)
    assert len(results) == 5  # the faults whose minutes ship with the data
    top1 = sum(1 for r in results if r.rank == 1)
    top3 = sum(1 for r in results if r.rank is not None and r.rank <= 3)
    network = [r for r in results if r.fault.type == "network_delay"]
    print(f"nezha top-1 {top1}/{len(results)} top-3 {top3}/{len(results)}")
    # measured 4/5 and 4/5 (every network delay at rank 1; the CPU-contention fault is missed);
    # a regression guard, not a target
    assert top3 >= 4 and all(r.rank == 1 for r in network)
