"""Timeout cascades through async jobs: a producer enqueues a job and returns, another span awaits
it, and the worker that runs it is connected only by a span link (as its own root, under the
producer, under the producer's caller, or linked from the awaiter). The root cause is the worker's
hung call, not the await. Near-misses: fire-and-forget jobs nobody waits for, and busy siblings
that merely overlap the job."""

from __future__ import annotations

from analysis.detectors.timeouts import TimeoutCascadeDetector
from analysis.detectors.timeouts.spans import SpanIndex
from analysis.model import Finding

from .tracebuild import TraceBuilder, sid

DETECTOR = TimeoutCascadeDetector()
PRODUCER, CONSUMER = 4, 5


def _job_trace(worker_parent: str | None, *, await_gives_up_at: float = 31.0) -> TraceBuilder:
    """A billing agent enqueues an export job (0.2 s), drafts a note with the model, then awaits the
    job; the exporter's warehouse query hangs 28 s and fails with DEADLINE_EXCEEDED."""
    b = TraceBuilder(f"export-job-{worker_parent}-{await_gives_up_at}")
    b.agent("billing", None, 0.0, await_gives_up_at + 0.3, "billing", status=2, error_type="TimeoutError")
    b.span("enqueue", "billing", 0.1, 0.3, kind=PRODUCER, span_name="exports publish")
    b.chat("draft", "billing", 0.4, 1.9)
    b.tool(
        "await-export",
        "billing",
        2.0,
        await_gives_up_at,
        "wait_for_export",
        {"job": "ex-1"},
        result=None,
        status=2,
        status_message="export ex-1 timed out",
    )
    parent = {
        "root": None, "producer": "enqueue", "producer-unlinked": "enqueue", "caller": "billing",
        "worker": "poll-loop",
    }[worker_parent or "root"]  # fmt: skip
    if worker_parent == "worker":  # the worker's own root span in the same trace, the link below it
        b.span("poll-loop", None, 0.45, 30.05, service="exporter", span_name="exports poll")
    b.span(
        "run-export", parent, 0.5, 30.0, kind=CONSUMER, status=2, span_name="exports process",
        status_message="export failed: warehouse query timed out", service="exporter",
    )  # fmt: skip
    if worker_parent != "producer-unlinked":  # context propagated through the message instead
        b.link("run-export", "enqueue")
    b.span("load-rows", "run-export", 0.6, 1.1, service="exporter", db_system="postgresql")
    b.span(
        "warehouse-query", "run-export", 1.2, 29.9, status=2, error_type="DEADLINE_EXCEEDED",
        service="exporter", db_system="snowflake", span_name="SELECT invoices",
    )  # fmt: skip
    return b


def _cascade(findings: list[Finding]) -> Finding:
    cascades = [f for f in findings if f.kind == "timeout_cascade"]
    assert len(cascades) == 1, [f.kind for f in findings]
    return cascades[0]


def test_root_cause_is_the_workers_hung_call_wherever_the_worker_hangs() -> None:
    for worker_parent in ("root", "producer", "producer-unlinked", "caller", "worker"):
        findings = DETECTOR.detect(_job_trace(worker_parent).build())
        c = _cascade(findings)
        assert c.origin_span_id == sid("warehouse-query"), worker_parent
        path = c.evidence["critical_path"]
        assert path[0] == sid("billing") and path[-1] == sid("warehouse-query")
        assert sid("await-export") in path and sid("run-export") in path
        assert {sid("await-export"), sid("run-export")} <= set(c.span_ids)
        assert [f.kind for f in findings] == ["timeout_cascade"], worker_parent


def test_the_await_that_gave_up_first_wastes_the_jobs_remaining_time() -> None:
    """The await gives up at 12 s; the job runs on to 30 s. Still a cascade (a queued job has no
    deadline from its waiter, so no inversion), and the 18 s after the give-up are wasted."""
    findings = DETECTOR.detect(_job_trace("producer", await_gives_up_at=12.0).build())
    c = _cascade(findings)
    assert c.origin_span_id == sid("warehouse-query")
    assert [f.kind for f in findings] == ["timeout_cascade"]
    assert abs(c.evidence["wasted"]["seconds"] - 18.0) < 0.05
    assert sid("run-export") in c.evidence["wasted"]["span_ids"]


def test_an_awaiter_that_links_to_the_job_it_awaits() -> None:
    """The other direction: the waiting span records the link, the job runs in the caller's tree."""
    b = TraceBuilder("poller-links-job")
    b.agent("planner", None, 0.0, 21.0, "planner", status=2, error_type="TimeoutError")
    b.span("kickoff", "planner", 0.1, 0.2, kind=PRODUCER, span_name="render submit")
    b.span("render", "planner", 0.3, 20.0, kind=CONSUMER, status=2, status_message="render timed out")
    b.span("fetch-tiles", "render", 0.4, 19.9, status=2, http_status_code=504, span_name="GET /tiles")
    b.tool("await-render", "planner", 0.25, 20.5, "await_render", {"id": 3}, result=None, status=2,
           error_type="TimeoutError")  # fmt: skip
    b.link("await-render", "render")
    c = _cascade(DETECTOR.detect(b.build()))
    assert c.origin_span_id == sid("fetch-tiles")


def test_a_caller_held_open_for_the_job_waits_itself() -> None:
    """No await span: the agent run stays open until the job fails, so the job is its wait."""
    b = TraceBuilder("held-open")
    b.agent("ingest", None, 0.0, 15.2, "ingest", status=2, status_message="job deadline exceeded")
    b.span("submit", "ingest", 0.1, 0.2, kind=PRODUCER, span_name="jobs publish")
    b.chat("summarise", "ingest", 0.3, 1.0)
    b.span("job", None, 0.4, 15.0, kind=CONSUMER, status=2, status_message="timed out", service="etl")
    b.link("job", "submit")
    b.span("parse", "job", 0.5, 1.0, service="etl")
    b.span("s3-get", "job", 1.0, 14.9, status=2, http_status_code=504, service="etl", span_name="GET s3")
    trace = b.build()
    assert SpanIndex(trace).spans[sid("job")].parent == sid("ingest")
    c = _cascade(DETECTOR.detect(trace))
    assert c.origin_span_id == sid("s3-get")


def test_fire_and_forget_job_nobody_awaits_is_clean() -> None:
    """The caller enqueues and answers; the slow job succeeds later. No wait, no cascade."""
    b = TraceBuilder("fire-and-forget")
    b.agent("notifier", None, 0.0, 3.0, "notifier", status=1)
    b.span("publish", "notifier", 0.1, 0.2, kind=PRODUCER)
    b.chat("answer", "notifier", 0.3, 2.5)
    b.tool("log-it", "notifier", 2.5, 2.9, "audit_log", {"event": "queued"})
    b.span("digest", None, 0.4, 40.0, kind=CONSUMER, service="digest-worker")
    b.link("digest", "publish")
    b.span("smtp", "digest", 0.5, 39.0, service="digest-worker", span_name="smtp send")
    trace = b.build()
    assert DETECTOR.detect(trace) == []
    index = SpanIndex(trace)
    # neither the model call nor the short tool that overlapped the job waited for it
    assert index.spans[sid("digest")].parent == sid("publish")
    assert sid("digest") not in index.spans[sid("log-it")].children


def test_an_overlapping_sibling_that_finished_is_not_the_waiter() -> None:
    """A sibling lookup runs while the job runs and returns OK before it: the await is the waiter."""
    b = _job_trace("caller")
    b.tool("lookup", "billing", 1.95, 2.6, "lookup_customer", {"id": 9})
    index = SpanIndex(b.build())
    assert index.spans[sid("run-export")].parent == sid("await-export")
    assert sid("run-export") in index.link_hosted
