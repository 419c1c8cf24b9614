"""Probes at the edges of the operational detectors: a cascade carried by a span link (an async
job), a retry storm with a constant (not growing) back-off, and two memory near-misses that are
clean by SPEC §5.2: a read of a value written before the trace began, and a read that overlaps
the write it does not see."""

from __future__ import annotations

from opentelemetry.trace import SpanKind

from bench.holdout.conv import Convention, Msg
from bench.holdout.labels import Expected, Scenario
from bench.holdout.otelkit import Err, Recorder


def linked_job_cascade(r: Recorder, c: Convention) -> list[Expected]:
    """The report agent enqueues a render job and waits; the worker (linked, not a child) hangs on
    a font fetch until its timeout, and the waiting agent gives up after it."""
    svc = "report-studio"
    root = c.agent(
        r,
        svc,
        None,
        0,
        26000,
        "Report Builder",
        "Render the Q1 board pack.",
        "",
        err=Err("TimeoutError", "gave up waiting for render job", style="event"),
    )
    enqueue = r.span(
        svc,
        "render_queue publish",
        root,
        100,
        150,
        {"messaging.operation.type": "publish", "messaging.destination.name": "render"},
        kind=SpanKind.PRODUCER,
    )
    wait = c.tool(
        r,
        svc,
        root,
        160,
        25900,
        "await_render",
        {"job": "rj-5531"},
        None,
        err=Err("TimeoutError", "render job rj-5531 timed out", style="event"),
    )
    worker = r.span(
        "render-worker",
        "render_queue process",
        root,
        300,
        25000,
        {"messaging.operation.type": "process", "messaging.destination.name": "render"},
        kind=SpanKind.CONSUMER,
        links=[enqueue],
        err=Err("TimeoutError", "render aborted: font fetch timed out", style="event"),
    )
    slow = r.span(
        "render-worker",
        "GET fonts.cdn/inter.woff2",
        worker,
        320,
        24900,
        {"http.request.method": "GET", "server.address": "fonts.cdn"},
        kind=SpanKind.CLIENT,
        err=Err("TimeoutError", "read timeout after 24.5s", style="event", http=504),
    )
    del wait
    return [Expected("timeout_cascade", "timeout_cascade", slow)]


def constant_backoff_storm(r: Recorder, c: Convention) -> list[Expected]:
    """Six identical calls, each answered 503, exactly 1 s apart: back-off that never grows."""
    svc = "ticket-sync"
    root = c.agent(r, svc, None, 0, 9000, "Ticket Sync", "Mirror ticket T-7781 to Jira.", "Sync failed.")
    calls = []
    t = 100.0
    for i in range(6):
        calls.append(
            c.tool(
                r,
                svc,
                root,
                t,
                t + 120,
                "jira_create",
                {"ticket": "T-7781", "project": "OPS"},
                None,
                call_id=f"j{i}",
                err=Err("ServiceUnavailable", "503 Service Unavailable", http=503),
            )
        )
        t += 1120
    return [Expected("timeout_cascade", "retry_storm", calls[0], also=(calls[1],))]


def preexisting_value(r: Recorder, c: Convention) -> list[Expected]:
    """The first memory operation of the trace reads a value: it was written before the trace
    began, so nothing shows the store started empty. Then a normal write and a latest read."""
    svc = "hr-desk"
    root = c.agent(r, svc, None, 0, 4000, "Leave Manager", "Book 3 days of leave for Sam.", "Booked.")
    a = c.agent(r, svc, root, 50, 1800, "Balance Checker", "Sam's balance?", "Sam has 12 days.")
    c.memory(r, svc, a, 100, 140, "search_memory", "leave", "sam", {"days_left": 12}, 7)
    c.memory(r, svc, a, 900, 950, "update_memory", "leave", "sam", {"days_left": 9}, 8)
    b = c.agent(r, svc, root, 1900, 3900, "Confirmer", "confirm", "Sam has 9 days left.")
    c.memory(r, svc, b, 2000, 2040, "search_memory", "leave", "sam", {"days_left": 9}, 8)
    return []


def overlapping_read(r: Recorder, c: Convention) -> list[Expected]:
    """Two agents side by side: a read that starts before a concurrent write finishes returns the
    old value. That is allowed (linearizable: the read may be ordered first)."""
    svc = "fleet-ops"
    root = c.agent(r, svc, None, 0, 3000, "Fleet Dispatcher", "Move van 12 and report its depot.", "ok")
    c.memory(r, svc, root, 20, 50, "create_memory", "fleet", "van-12", {"depot": "Leeds"}, None)
    mover = c.agent(r, svc, root, 100, 2000, "Mover", "move van-12 to York", "moved")
    c.memory(r, svc, mover, 500, 900, "update_memory", "fleet", "van-12", {"depot": "York"}, None)
    watcher = c.agent(r, svc, root, 120, 2100, "Watcher", "where is van-12?", "Leeds")
    c.memory(r, svc, watcher, 600, 700, "search_memory", "fleet", "van-12", {"depot": "Leeds"}, None)
    c.llm(
        r,
        svc,
        watcher,
        750,
        1500,
        [Msg("user", "van-12 depot: Leeds")],
        Msg("assistant", "Van 12 is in Leeds."),
    )
    return []


SCENARIOS = [
    Scenario("linked_job_cascade", "openinference", linked_job_cascade, False),
    Scenario("constant_backoff_storm", "genai", constant_backoff_storm, False),
    Scenario("preexisting_value", "genai", preexisting_value, True),
    Scenario("overlapping_read", "openinference", overlapping_read, True),
]
