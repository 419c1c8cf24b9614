"""``db.*`` client spans of key-value stores as memory operations, where key and value are visible.

Real instrumentation (OTel redis / ioredis / pymemcache / valkey) records the command in
``db_query_text`` (``SET user:1 "alice" EX 60``; ``db.statement`` before semconv 1.26) and its name
in ``db_operation``. Values of reads only appear when a response hook captured them; the raw
attributes keep them under one of ``RESPONSE_KEYS``. Arguments obfuscated to ``?`` are unknown:
an unknown key drops the op, an unknown written value keeps the write but marks it ``known=False``
(the checker then stops matching that key by value). A read whose response was not captured is
dropped: nothing can be checked about it.

The store is the system plus the server and database (``redis://cache:6379/0``), so two Redis
servers are two stores.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from analysis.detectors.causal.values import canonical_value, loads

KV_SYSTEMS = frozenset({"redis", "valkey", "memcached", "keydb", "dragonfly", "etcd", "tikv"})

#: attributes a response hook uses for the value a command returned (first present wins)
RESPONSE_KEYS = (
    "db.response.value",
    "db.response",
    "db.result",
    "db.redis.response",
    "redis.response",
    "db.memcached.response",
    "memcached.response",
)
_NIL = frozenset({"nil", "(nil)", "null", "none"})

_READS = frozenset({"GET", "HGET", "MGET", "GETDEL", "GETEX"})
_SETS = frozenset({"SET", "SETNX", "ADD", "REPLACE", "CAS"})  # SET key value [options]; memcached set/add
_COUNTERS = frozenset({"INCR", "INCRBY", "DECR", "DECRBY", "INCRBYFLOAT", "APPEND", "INCREMENT", "DECREMENT"})
_DELETES = frozenset({"DEL", "UNLINK", "DELETE"})


@dataclass(frozen=True, slots=True)
class KvOp:
    kind: Literal["read", "write"]
    store: str
    key: str
    value: str | None
    known: bool
    delete: bool


def _store(system: str, attrs: Mapping[str, Any]) -> str:
    host = attrs.get("server.address") or attrs.get("net.peer.name") or ""
    port = attrs.get("server.port") or attrs.get("net.peer.port")
    db = next(
        (
            attrs[k]
            for k in ("db.namespace", "db.redis.database_index", "db.name")
            if attrs.get(k) is not None
        ),
        None,
    )
    where = f"{host}:{port}" if host and port else str(host)
    return f"{system}://{where}/{db}" if db is not None else f"{system}://{where}"


def _tokens(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:  # unbalanced quotes: a truncated statement
        return text.split()


def _response(attrs: Mapping[str, Any]) -> tuple[bool, Any]:
    """(captured, value) of the command's response."""
    for k in RESPONSE_KEYS:
        if k in attrs:
            v = attrs[k]
            if isinstance(v, str) and v.strip().lower() in _NIL:
                return True, None
            return True, loads(v) if isinstance(v, str) else v
    return False, None


def _visible(token: str) -> bool:
    return token not in ("?", "") and not token.startswith("$")


def kv_ops(system: str | None, operation: str | None, query: str | None, attrs: Any) -> list[KvOp]:
    """The memory operations of one key-value client span (empty when nothing is visible)."""
    attrs = attrs if isinstance(attrs, dict) else {}
    sys = (system or "").lower()
    tokens = _tokens(query or "")
    # The statement starts with the command when it is visible; some instrumentations only give
    # the operation name and the arguments.
    named = tokens[0].upper() if tokens and tokens[0].upper() in _ALL else None
    cmd = named or (operation or "").upper()
    args = tokens[1:] if named else tokens
    store = _store(sys, attrs)
    captured, response = _response(attrs)

    def op(
        kind: Literal["read", "write"], key: str, value: Any, known: bool = True, delete: bool = False
    ) -> KvOp:
        return KvOp(kind, store, key, None if delete else canonical_value(value), known, delete)

    out: list[KvOp] = []
    if cmd in _READS and args and captured:
        if cmd == "MGET":
            values = response if isinstance(response, list) and len(response) == len(args) else None
            if values is not None:
                out = [op("read", k, v) for k, v in zip(args, values, strict=True) if _visible(k)]
        elif cmd == "HGET" and len(args) >= 2 and _visible(args[0]) and _visible(args[1]):
            out = [op("read", f"{args[0]}#{args[1]}", response)]
        elif _visible(args[0]):
            out = [op("read", args[0], response)]
            if cmd == "GETDEL":
                out.append(op("write", args[0], None, delete=True))
    elif cmd in _SETS | {"SETEX", "PSETEX", "GETSET"} and len(args) >= 2 and _visible(args[0]):
        if cmd == "SETNX" and captured and response in (0, False, "0"):
            return []  # not set: the key existed
        value = args[2] if cmd in ("SETEX", "PSETEX") and len(args) >= 3 else args[1]
        if cmd in ("ADD", "REPLACE", "CAS") and len(args) >= 4:
            value = args[-1]  # memcached: key flags exptime [bytes] value
        if cmd == "GETSET" and captured:
            out.append(op("read", args[0], response))
        out.append(op("write", args[0], value if _visible(value) else None, known=_visible(value)))
    elif cmd == "HSET" and len(args) >= 3 and _visible(args[0]):
        out = [
            op("write", f"{args[0]}#{f}", v if _visible(v) else None, known=_visible(v))
            for f, v in zip(args[1::2], args[2::2], strict=False)
            if _visible(f)
        ]
    elif cmd == "MSET" and len(args) >= 2:
        out = [
            op("write", k, v if _visible(v) else None, known=_visible(v))
            for k, v in zip(args[0::2], args[1::2], strict=False)
            if _visible(k)
        ]
    elif cmd in _COUNTERS and args and _visible(args[0]):
        # The new value is only known when the response (INCR returns it) was captured.
        out = [
            op(
                "write",
                args[0],
                response if captured and cmd != "APPEND" else None,
                known=captured and cmd != "APPEND",
            )
        ]
    elif cmd in _DELETES and args:
        out = [op("write", k, None, delete=True) for k in args if _visible(k)]
    return out


_ALL = _READS | _SETS | _COUNTERS | _DELETES | {"SETEX", "PSETEX", "GETSET", "HSET", "MSET"}
