"""Causal-consistency scenarios (SPEC §5.2) on memory-operation spans: stale read, lost update,
thin-air read, causal inversion, and clock skew between services.

The GenAI flavour carries ``faultlens.memory.version``; the OpenInference flavour leaves versions
out, so reads-from must be matched by value.
"""

from __future__ import annotations

from typing import Any

from bench.holdout.conv import Call, Convention, Msg
from bench.holdout.labels import Expected
from bench.holdout.otelkit import Recorder

CC = "causal_consistency"
READ, CREATE, UPDATE, UPSERT = "search_memory", "create_memory", "update_memory", "upsert_memory"


def _v(versioned: bool, n: int) -> int | None:
    return n if versioned else None


def stale_read(versioned: bool, names: dict[str, Any], how: str = "program") -> Any:
    """Writer updates a key twice; a later read returns the first version. ``how`` says what orders
    the newer write before the read: ``program`` (the next sub-agent of the same supervisor),
    ``self`` (the writer reads back), ``handoff`` (an ``execute_tool transfer_to_*`` between the
    agents) or ``link`` (the reader overlaps the writer in time; only a span link orders them)."""

    def build(r: Recorder, c: Convention) -> list[Expected]:
        svc, store, key = names["svc"], names["store"], names["key"]
        svc_b = names.get("svc_b", svc)
        root = c.agent(r, svc, None, 0, 7000, names["boss"], names["task"], "done")
        a = c.agent(r, svc, root, 100, 2000, names["writer"], names["task"], "plan stored")
        c.memory(r, svc, a, 200, 260, CREATE, store, key, names["old"], _v(versioned, 1))
        c.llm(r, svc, a, 300, 1400, [Msg("user", names["task"])], Msg("assistant", names["revise"]))
        newer = c.memory(r, svc, a, 1500, 1560, UPDATE, store, key, names["new"], _v(versioned, 2))
        if how == "self":
            bad = c.memory(r, svc, a, 1700, 1740, READ, store, key, names["old"], _v(versioned, 1))
            c.tool(r, svc, a, 1800, 1950, names["act"], names["act_args"], {"ok": True})
            return [Expected(CC, "stale_read", bad)]
        if how == "handoff_in":  # the writer itself hands off, as the OpenAI Agents SDK records it
            c.tool(
                r,
                svc,
                a,
                1900,
                1950,
                "transfer_to_" + names["reader"].lower().replace(" ", "_"),
                {"reason": "plan ready"},
                "transferred",
            )
        if how == "handoff":
            c.tool(
                r,
                svc,
                root,
                2050,
                2100,
                "transfer_to_" + names["reader"].lower().replace(" ", "_"),
                {"reason": "plan ready"},
                "transferred",
            )
        start, links = (1600.0, (newer,)) if how == "link" else (2200.0, ())
        b = c.agent(r, svc_b, root, start, 6800, names["reader"], "continue", "acted", links=links)
        bad = c.memory(
            r, svc_b, b, start + 100, start + 150, READ, store, key, names["old"], _v(versioned, 1)
        )
        c.tool(r, svc_b, b, start + 200, start + 800, names["act"], names["act_args"], {"ok": True})
        return [Expected(CC, "stale_read", bad)]

    return build


def lost_update(versioned: bool, names: dict[str, Any]) -> Any:
    """Two concurrent agents read the same version and both write their update over it."""

    def build(r: Recorder, c: Convention) -> list[Expected]:
        svc, store, key = names["svc"], names["store"], names["key"]
        root = c.agent(r, svc, None, 0, 5000, names["boss"], names["task"], "done")
        c.memory(r, svc, root, 20, 60, CREATE, store, key, names["base"], _v(versioned, 4))
        a = c.agent(r, svc, root, 100, 2000, names["a"], "update", "ok")
        b = c.agent(r, svc, root, 150, 2100, names["b"], "update", "ok")
        ra = c.memory(r, svc, a, 200, 240, READ, store, key, names["base"], _v(versioned, 4))
        rb = c.memory(r, svc, b, 250, 290, READ, store, key, names["base"], _v(versioned, 4))
        wa = c.memory(r, svc, a, 1200, 1250, UPDATE, store, key, names["va"], _v(versioned, 5))
        wb = c.memory(r, svc, b, 1300, 1350, UPDATE, store, key, names["vb"], _v(versioned, 5))
        return [Expected(CC, "lost_update", wb, also=(wa, ra, rb))]

    return build


def thin_air(versioned: bool, names: dict[str, Any]) -> Any:
    """The store is seen empty, one value is written, and another agent reads a value nobody wrote."""

    def build(r: Recorder, c: Convention) -> list[Expected]:
        svc, store, key = names["svc"], names["store"], names["key"]
        root = c.agent(r, svc, None, 0, 4000, names["boss"], names["task"], "done")
        a = c.agent(r, svc, root, 50, 1500, names["a"], names["task"], "recorded")
        c.memory(r, svc, a, 100, 130, READ, store, key, [], None)
        c.memory(r, svc, a, 900, 950, CREATE, store, key, names["written"], _v(versioned, 1))
        b = c.agent(r, svc, root, 1600, 3900, names["b"], "report it", names["said"])
        bad = c.memory(r, svc, b, 1700, 1740, READ, store, key, names["phantom"], _v(versioned, 2))
        c.llm(
            r,
            svc,
            b,
            1800,
            3800,
            [Msg("user", "report: " + str(names["phantom"]))],
            Msg("assistant", names["said"]),
        )
        return [Expected(CC, "thin_air_read", bad)]

    return build


def inversion(versioned: bool, names: dict[str, Any]) -> Any:
    """Root writes x=old; three agents run side by side: A writes x=new; B reads x=new and writes y;
    C reads y (B's write) and then x, getting old: it saw the effect without its cause."""

    def build(r: Recorder, c: Convention) -> list[Expected]:
        svc, store = names["svc"], names["store"]
        x, y = names["x"], names["y"]
        root = c.agent(r, svc, None, 0, 3000, names["boss"], names["task"], "done")
        c.memory(r, svc, root, 20, 50, CREATE, store, x, names["x_old"], _v(versioned, 1))
        a = c.agent(r, svc, root, 100, 2500, names["a"], "produce", "ok")
        b = c.agent(r, svc, root, 110, 2600, names["b"], "approve", "ok")
        cc = c.agent(r, svc, root, 120, 2700, names["c"], "ship", "ok")
        c.memory(r, svc, a, 300, 330, UPDATE, store, x, names["x_new"], _v(versioned, 2))
        c.memory(r, svc, b, 400, 430, READ, store, x, names["x_new"], _v(versioned, 2))
        c.memory(r, svc, b, 600, 630, CREATE, store, y, names["y_val"], _v(versioned, 1))
        c.memory(r, svc, cc, 800, 830, READ, store, y, names["y_val"], _v(versioned, 1))
        bad = c.memory(r, svc, cc, 900, 930, READ, store, x, names["x_old"], _v(versioned, 1))
        c.tool(r, svc, cc, 1000, 1400, names["act"], names["act_args"], {"ok": True})
        return [Expected(CC, "causal_inversion", bad)]

    return build


def clock_skew(names: dict[str, Any]) -> Any:
    """A remote service's clock runs ``skew_ms`` behind: its server span starts (and ends) before
    the client span that caused it."""

    def build(r: Recorder, c: Convention) -> list[Expected]:
        svc, remote, skew = names["svc"], names["remote"], names["skew_ms"]
        root = c.agent(r, svc, None, 0, 6000, names["boss"], names["task"], names["answer"])
        call = Call("c1", names["tool"], names["args"])
        c.llm(
            r,
            svc,
            root,
            50,
            900,
            [Msg("user", names["task"])],
            Msg("assistant", calls=(call,)),
            tools={names["tool"]: list(names["args"])},
        )
        client = c.tool(r, svc, root, 1000, 3000, names["tool"], names["args"], names["result"], call_id="c1")
        server = c.agent(
            r,
            remote,
            client,
            1050 - skew,
            2950 - skew,
            names["remote_agent"],
            str(names["args"]),
            str(names["result"]),
        )
        # The remote agent answers from its own lookup, so the only fault in the trace is the clock.
        c.tool(r, remote, server, 1100 - skew, 2900 - skew, names["lookup"], names["args"], names["result"])
        c.llm(
            r,
            svc,
            root,
            3100,
            5900,
            [Msg("user", names["task"]), Msg("tool", str(names["result"]), call_id="c1")],
            Msg("assistant", names["answer"]),
        )
        return [Expected(CC, "clock_skew", server)]

    return build
