"""Analysis on demand while ``faultlens serve`` owns the store: ``POST /analyze`` on its loopback
query server (the same bearer token and discovery file as ``POST /query``, ``store.discovery``).

Only the process that owns the DuckDB file can write findings, so ``faultlens analyze`` asks the
server to run the analysis and write the result itself.

- Server side: ``AnalyzeRoute(reader, writer)`` is a callable ``(request body) -> (HTTP status,
  JSON body)`` the query server dispatches ``POST /analyze`` to.
- Client side: ``request_analysis(endpoint, trace_ids, since_ns, semantic_grounding)``.

Request: ``{"trace_ids": [...] | null, "since_ns": int | null, "semantic_grounding"?: bool}`` —
``semantic_grounding`` absent or null: the server's own ``AnalysisOptions``. Answer 200 ``{"traces",
"spans", "findings", "failed_traces", "detector_errors": {name: count}, "seconds"}``; 400
``{"error", "message"}`` for a bad request or an option the server cannot honour (the ``semantic``
extra not installed there); 500 when the analysis failed.
"""

from __future__ import annotations

import http.client
import logging
import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import orjson

from analysis.engine import AnalyzeStats, analyze
from analysis.options import AnalysisOptions, OptionError
from store.api import FindingsWriter, StoreReader
from store.discovery import Endpoint
from store.errors import StoreError

log = logging.getLogger(__name__)
ANALYZE_PATH = "/analyze"


def stats_json(stats: AnalyzeStats) -> dict[str, Any]:
    return {
        "traces": stats.traces,
        "spans": stats.spans,
        "findings": stats.findings,
        "failed_traces": stats.failed_traces,
        "detector_errors": dict(stats.detector_errors),
        "seconds": round(stats.seconds, 3),
    }


class AnalyzeRoute:
    """``POST /analyze`` for the query server. One analysis at a time: concurrent requests queue."""

    def __init__(
        self, reader: StoreReader, writer: FindingsWriter, options: AnalysisOptions | None = None
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._options = options or AnalysisOptions()
        self._lock = threading.Lock()

    def __call__(self, body: bytes) -> tuple[int, bytes]:
        try:
            request = orjson.loads(body or b"{}")
            if not isinstance(request, dict):
                raise TypeError("the body must be a JSON object")
            trace_ids = request.get("trace_ids")
            since_ns = request.get("since_ns")
            if trace_ids is not None and not (
                isinstance(trace_ids, list) and all(isinstance(t, str) for t in trace_ids)
            ):
                raise TypeError("trace_ids must be a list of strings or null")
            if since_ns is not None and not isinstance(since_ns, int):
                raise TypeError("since_ns must be an integer or null")
            semantic = request.get("semantic_grounding")
            if semantic is not None and not isinstance(semantic, bool):
                raise TypeError("semantic_grounding must be a boolean or null")
        except (orjson.JSONDecodeError, TypeError) as e:
            return 400, orjson.dumps({"error": "BadRequest", "message": f"bad analyze request: {e}"})
        options = self._options
        if semantic is not None:
            options = replace(options, semantic_grounding=semantic)
        try:
            options.validate()
        except OptionError as e:
            return 400, orjson.dumps({"error": "OptionError", "message": str(e)})
        try:
            with self._lock:
                stats = analyze(
                    self._reader, self._writer, trace_ids=trace_ids, since_ns=since_ns, options=options
                )
        except StoreError as e:
            log.exception("analysis requested over HTTP failed")
            return 500, orjson.dumps({"error": type(e).__name__, "message": str(e)})
        return 200, orjson.dumps(stats_json(stats))


class AnalysisUnavailable(StoreError):
    """The server holding the store does not offer ``POST /analyze``."""


def request_analysis(
    endpoint: Endpoint,
    trace_ids: Sequence[str] | None = None,
    since_ns: int | None = None,
    timeout: float = 3600.0,
    semantic_grounding: bool | None = None,
) -> dict[str, Any]:
    """Ask the server at ``endpoint`` to analyse and store; returns its stats (see module doc).
    ``semantic_grounding`` None leaves the choice to the server's configuration."""
    request: dict[str, Any] = {
        "trace_ids": list(trace_ids) if trace_ids is not None else None,
        "since_ns": since_ns,
    }
    if semantic_grounding is not None:
        request["semantic_grounding"] = semantic_grounding
    body = orjson.dumps(request)
    conn = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=timeout)
    try:
        conn.request(
            "POST",
            ANALYZE_PATH,
            body=body,
            headers={"Authorization": f"Bearer {endpoint.token}", "Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        status, payload = resp.status, resp.read()
    except (OSError, http.client.HTTPException) as e:
        raise StoreError(f"the faultlens server for {endpoint.db} did not answer: {e}") from e
    finally:
        conn.close()
    if status == 404:
        raise AnalysisUnavailable(f"the faultlens server for {endpoint.db} does not offer {ANALYZE_PATH}")
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as e:
        raise StoreError(f"the faultlens server answered HTTP {status} without JSON") from e
    if status != 200 or not isinstance(data, dict):
        message = data.get("message") if isinstance(data, dict) else None
        raise StoreError(f"analysis on the server failed (HTTP {status}): {message or data}")
    return data
