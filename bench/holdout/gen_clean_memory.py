"""Clean memory controls: reads of the latest version, concurrent writes to different keys,
compare-and-set style re-reads before writing, and an empty read after a delete."""

from __future__ import annotations

from typing import Any

from bench.holdout.conv import Convention
from bench.holdout.labels import Build, Expected, Scenario
from bench.holdout.otelkit import Recorder

READ, CREATE, UPDATE, DELETE = "search_memory", "create_memory", "update_memory", "delete_memory"


def _v(versioned: bool, n: int) -> int | None:
    return n if versioned else None


def latest_read(versioned: bool, d: dict[str, Any]) -> Build:
    def build(r: Recorder, c: Convention) -> list[Expected]:
        svc, store, key = d["svc"], d["store"], d["key"]
        root = c.agent(r, svc, None, 0, 6000, d["boss"], d["task"], "done")
        a = c.agent(r, svc, root, 100, 2000, d["a"], d["task"], "saved")
        c.memory(r, svc, a, 200, 250, CREATE, store, key, d["old"], _v(versioned, 1))
        c.memory(r, svc, a, 1500, 1550, UPDATE, store, key, d["new"], _v(versioned, 2))
        b = c.agent(r, svc, root, 2100, 5800, d["b"], "continue", "acted")
        c.memory(r, svc, b, 2200, 2250, READ, store, key, d["new"], _v(versioned, 2))
        return []

    return build


def disjoint_writes(versioned: bool, d: dict[str, Any]) -> Build:
    """Two agents at the same time, each reading and updating its own key."""

    def build(r: Recorder, c: Convention) -> list[Expected]:
        svc, store = d["svc"], d["store"]
        root = c.agent(r, svc, None, 0, 4000, d["boss"], d["task"], "done")
        for i, (key, base, _new) in enumerate(d["keys"]):
            c.memory(r, svc, root, 20 + 40 * i, 50 + 40 * i, CREATE, store, key, base, _v(versioned, 1))
        for i, (agent, (key, base, new)) in enumerate(zip(d["agents"], d["keys"], strict=True)):
            a = c.agent(r, svc, root, 200 + 30 * i, 2500 + 30 * i, agent, "update " + key, "ok")
            c.memory(r, svc, a, 300 + 30 * i, 340 + 30 * i, READ, store, key, base, _v(versioned, 1))
            c.memory(r, svc, a, 1200 + 30 * i, 1240 + 30 * i, UPDATE, store, key, new, _v(versioned, 2))
        return []

    return build


def cas_retry(versioned: bool, d: dict[str, Any]) -> Build:
    """Both agents read v1; A writes v2; B re-reads (gets v2) before writing v3: no update is lost."""

    def build(r: Recorder, c: Convention) -> list[Expected]:
        svc, store, key = d["svc"], d["store"], d["key"]
        root = c.agent(r, svc, None, 0, 5000, d["boss"], d["task"], "done")
        c.memory(r, svc, root, 20, 60, CREATE, store, key, d["v1"], _v(versioned, 1))
        a = c.agent(r, svc, root, 100, 2000, d["a"], "update", "ok")
        b = c.agent(r, svc, root, 150, 3000, d["b"], "update", "ok")
        c.memory(r, svc, a, 200, 240, READ, store, key, d["v1"], _v(versioned, 1))
        c.memory(r, svc, b, 250, 290, READ, store, key, d["v1"], _v(versioned, 1))
        c.memory(r, svc, a, 1200, 1250, UPDATE, store, key, d["v2"], _v(versioned, 2))
        c.memory(r, svc, b, 1400, 1440, READ, store, key, d["v2"], _v(versioned, 2))
        c.memory(r, svc, b, 1500, 1550, UPDATE, store, key, d["v3"], _v(versioned, 3))
        return []

    return build


def delete_then_empty(r: Recorder, c: Convention) -> list[Expected]:
    svc, store, key = "privacy-desk", "profiles", "user-4471"
    root = c.agent(r, svc, None, 0, 3000, "Privacy Officer", "Erase user 4471 (GDPR request).", "erased")
    c.memory(r, svc, root, 50, 80, CREATE, store, key, {"email": "mila@example.org"}, None)
    eraser = c.agent(r, svc, root, 100, 1200, "Eraser", "erase user-4471", "erased")
    c.memory(r, svc, eraser, 200, 240, DELETE, store, key, None, None)
    auditor = c.agent(r, svc, root, 1300, 2900, "Auditor", "confirm erasure", "confirmed")
    c.memory(r, svc, auditor, 1400, 1430, READ, store, key, [], None)
    return []


def _s(name: str, conv: str, build: Build) -> Scenario:
    return Scenario(name, conv, build, True)


SCENARIOS = [
    _s(
        "trip_latest_read",
        "genai",
        latest_read(
            True,
            {
                "svc": "trip-crew",
                "store": "trip-board",
                "key": "itinerary",
                "boss": "Concierge",
                "task": "Plan a Lisbon weekend.",
                "a": "Itinerary Planner",
                "b": "Hotel Booker",
                "old": {"city": "Lisbon", "nights": 2},
                "new": {"city": "Lisbon", "nights": 3},
            },
        ),
    ),
    _s(
        "claim_latest_read",
        "openinference",
        latest_read(
            False,
            {
                "svc": "claims-intake",
                "store": "claims",
                "key": "claim-6610",
                "boss": "Claims Router",
                "task": "Process claim 6610.",
                "a": "Adjuster",
                "b": "Payout Clerk",
                "old": {"status": "pending"},
                "new": {"status": "approved", "amount_eur": 910},
            },
        ),
    ),
    _s(
        "warehouse_disjoint",
        "genai",
        disjoint_writes(
            True,
            {
                "svc": "store-ops",
                "store": "inventory",
                "boss": "Shift Manager",
                "task": "Update two SKUs.",
                "agents": ["Restocker", "Checkout Bot"],
                "keys": [("sku-12-red", {"qty": 5}, {"qty": 25}), ("sku-40-green", {"qty": 9}, {"qty": 8})],
            },
        ),
    ),
    _s(
        "ward_disjoint",
        "openinference",
        disjoint_writes(
            False,
            {
                "svc": "ward-board",
                "store": "beds",
                "boss": "Charge Nurse",
                "task": "Assign beds.",
                "agents": ["Admissions", "Discharges"],
                "keys": [
                    ("bed-4", {"patient": None}, {"patient": "P-311"}),
                    ("bed-9", {"patient": "P-207"}, {"patient": None}),
                ],
            },
        ),
    ),
    _s(
        "budget_cas",
        "genai",
        cas_retry(
            True,
            {
                "svc": "budget-bots",
                "store": "budgets",
                "key": "q3-marketing",
                "boss": "CFO Agent",
                "task": "Adjust Q3 marketing budget.",
                "a": "Events Planner",
                "b": "Ads Buyer",
                "v1": {"remaining": 50000},
                "v2": {"remaining": 42000},
                "v3": {"remaining": 30500},
            },
        ),
    ),
    _s(
        "seats_cas",
        "openinference",
        cas_retry(
            False,
            {
                "svc": "event-desk",
                "store": "seatmap",
                "key": "row-K",
                "boss": "Box Office",
                "task": "Sell seats in row K.",
                "a": "Online Sales",
                "b": "Group Holds",
                "v1": {"seats_left": 6},
                "v2": {"seats_left": 5},
                "v3": {"seats_left": 2},
            },
        ),
    ),
    _s("erase_then_read", "openinference", delete_then_empty),
]
