"""``faultlens analyze``: run every detector over the store's traces and store the findings.

When ``faultlens serve`` owns the store, the server runs the analysis and writes the findings
(``POST /analyze``, ``analysis.remote``); otherwise the file is opened directly. The analysis
options (``--semantic-grounding``) go to whichever does the work; not given, a server uses its own.
"""

from __future__ import annotations

import os
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from analysis import engine
from analysis.judge import Judge
from analysis.options import AnalysisOptions
from analysis.remote import request_analysis, stats_json
from faultlens.errors import EXIT_USAGE, CliError, cli_errors
from faultlens.options import analysis_options, build_options, db_option
from store.discovery import read_endpoint
from store.reader import RemoteReader
from store.writer import DuckStoreWriter

_UNITS = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
    "d": 86400 * 10**9,
}
_DURATION = re.compile(r"^(\d+)(ns|us|ms|s|m|h|d)$")


def parse_since(value: str | None, now_ns: int | None = None) -> int | None:
    """``--since``: an RFC 3339 time, epoch nanoseconds, or a duration back from now (``90m``, ``2h``,
    ``1d``). Raises ``click.BadParameter``."""
    if value is None:
        return None
    text = value.strip()
    m = _DURATION.match(text)
    if m:
        now = time.time_ns() if now_ns is None else now_ns
        return now - int(m.group(1)) * _UNITS[m.group(2)]
    if text.isdigit():
        return int(text)
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as e:
        raise click.BadParameter(f"{value!r} is not an RFC 3339 time, epoch ns or a duration like 2h") from e
    if stamp.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no timezone (add Z or +00:00)")
    return int(stamp.timestamp()) * 10**9 + stamp.microsecond * 1000


def _trace_ids(values: tuple[str, ...]) -> list[str] | None:
    if not values:
        return None
    out = [v.strip().lower() for v in values]
    for v in out:
        if not re.fullmatch(r"[0-9a-f]{32}", v):
            raise CliError(f"--trace {v!r} is not a 32-hex-digit trace id", EXIT_USAGE)
    return out


def _summary(stats: dict[str, Any]) -> str:
    errors = stats.get("detector_errors") or {}
    line = (
        f"analysed {stats['traces']} trace(s), {stats['spans']} span(s) in {stats['seconds']:.2f} s: "
        f"{stats['findings']} finding(s), {stats['failed_traces']} failed trace(s)"
    )
    if errors:
        line += "; detector errors: " + ", ".join(f"{k}×{v}" for k, v in sorted(errors.items()))
    return line


def make_judge(url: str | None, model: str) -> Judge | None:
    """The optional judge; its API key comes from ``FAULTLENS_JUDGE_API_KEY`` (read here, at the edge)."""
    if url is None:
        return None
    if not re.match(r"^https?://[^/]+", url):
        raise CliError(f"--judge {url!r} is not an http(s) URL", EXIT_USAGE)
    return Judge(url, model=model, api_key=os.environ.get("FAULTLENS_JUDGE_API_KEY"))


def _local(
    db: str,
    trace_ids: list[str] | None,
    since_ns: int | None,
    console: Console,
    judge: Judge | None = None,
    options: AnalysisOptions | None = None,
) -> dict[str, Any]:
    if not Path(db).exists():
        raise CliError(f"no store at {db}", EXIT_USAGE)
    with DuckStoreWriter(db) as writer:
        reader = writer.reader()
        with Progress(
            TextColumn("analyse"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("traces"),
            TextColumn("{task.fields[spans]} spans"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("analyse", total=None, spans=0)

            def tick(done: int, total: int, spans: int) -> None:
                progress.update(task, completed=done, total=total, spans=spans)

            stats = engine.analyze(
                reader,
                writer,
                trace_ids=trace_ids,
                since_ns=since_ns,
                progress=tick,
                refine=judge,
                options=options,
            )
    return stats_json(stats)


@click.command("analyze")
@db_option
@click.option("--trace", "traces", multiple=True, metavar="ID", help="Analyse this trace (repeatable).")
@click.option(
    "--since",
    default=None,
    metavar="T",
    help="Only traces started at/after T: RFC 3339, epoch ns, or a duration back from now (2h, 1d).",
)
@click.option(
    "--judge",
    "judge_url",
    default=None,
    metavar="URL",
    help="Refine MAST modes with an OpenAI-compatible endpoint (off by default; API key: "
    "FAULTLENS_JUDGE_API_KEY).",
)
@click.option("--judge-model", default="gpt-4o-mini", show_default=True, help="Model name sent to the judge.")
@analysis_options
def command(
    db: str,
    traces: tuple[str, ...],
    since: str | None,
    judge_url: str | None,
    judge_model: str,
    semantic_grounding: bool | None,
) -> None:
    """Run the detectors (hallucination propagation, causal consistency, timeout cascades, MAST
    failure modes...) over the stored traces and store their findings, replacing earlier results.

    Works while `faultlens serve` runs: the server then does the analysis.
    """
    console = Console(stderr=True)
    with cli_errors():
        since_ns = parse_since(since)
        trace_ids = _trace_ids(traces)
        judge = make_judge(judge_url, judge_model)
        endpoint = read_endpoint(db)
        if endpoint is not None and RemoteReader(endpoint).ping():
            # the server checks the options itself: the extra must be installed where the work runs
            if judge is not None:
                raise CliError("--judge is not available while `faultlens serve` holds the store", EXIT_USAGE)
            with console.status("the server is analysing..."):
                stats = request_analysis(endpoint, trace_ids, since_ns, semantic_grounding=semantic_grounding)
        else:
            options = build_options(semantic_grounding=semantic_grounding)
            stats = _local(db, trace_ids, since_ns, console, judge, options)
    click.echo(_summary(stats))
