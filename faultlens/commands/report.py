"""``faultlens report``: the offline failure-classification report (SPEC §5.5), from a store or
straight from OTLP files (no server, no existing store: they are decoded into a temporary store).

Exit codes: 0, or 1 when ``--fail-on`` finds a finding at or above that severity; 2 for usage and
input errors (see ``faultlens.errors``). The analysis options (``--semantic-grounding``) apply to
what the report analyses itself: every trace of FILES, the stale traces of a store.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from analysis.engine import Refiner
from analysis.model import SEVERITIES
from analysis.options import AnalysisOptions
from analysis.report import FORMATS, build_report, max_severity, render
from collector.files import FileRequest
from faultlens.commands.analyze import make_judge
from faultlens.commands.ingest import ingest_files
from faultlens.errors import EXIT_FINDINGS, EXIT_USAGE, CliError, cli_errors
from faultlens.options import DEFAULT_DB, analysis_options, build_options
from store.api import IngestBatch
from store.reader import open_reader
from store.writer import DuckStoreWriter


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def report_from_files(
    paths: list[Path],
    console: Console,
    judge: Refiner | None = None,
    options: AnalysisOptions | None = None,
) -> dict[str, object]:
    """Decode ``paths`` into a temporary store, analyse, report; the store is deleted after."""
    with (
        tempfile.TemporaryDirectory(prefix="faultlens-report-") as tmp,
        DuckStoreWriter(Path(tmp) / "r.duckdb") as writer,
    ):

        def sink(_req: FileRequest, batch: IngestBatch) -> None:
            if batch.item_count:
                writer.write(batch)

        with _progress(console) as progress:
            ingest_files(sink, paths, progress)
            writer.sync()
            task = progress.add_task("analyse", total=None)
            return build_report(
                writer.reader(),
                refine=judge,
                progress=lambda done, total, _s: progress.update(task, completed=done, total=total),
                options=options,
            )


def report_from_store(
    db: str, console: Console, judge: Refiner | None = None, options: AnalysisOptions | None = None
) -> dict[str, object]:
    reader = open_reader(db)
    try:
        with _progress(console) as progress:
            task = progress.add_task("analyse", total=None)
            return build_report(
                reader,
                refine=judge,
                progress=lambda done, total, _s: progress.update(task, completed=done, total=total),
                options=options,
            )
    finally:
        reader.close()


@click.command("report")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--db",
    default=None,
    envvar="FAULTLENS_DB",
    type=click.Path(dir_okay=False),
    help=f"DuckDB store to report on (default {DEFAULT_DB}; not with FILES).",
)
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True, help="Output format."
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write here, not stdout."
)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default=None,
    help="Exit 1 when any finding is at or above this severity.",
)
@click.option(
    "--judge",
    "judge_url",
    default=None,
    metavar="URL",
    help="Refine MAST modes of freshly analysed traces with an OpenAI-compatible endpoint (off by default).",
)
@click.option("--judge-model", default="gpt-4o-mini", show_default=True, help="Model name sent to the judge.")
@analysis_options
def command(
    files: tuple[Path, ...],
    db: str | None,
    fmt: str,
    out: Path | None,
    fail_on: str | None,
    judge_url: str | None,
    judge_model: str,
    semantic_grounding: bool | None,
) -> None:
    """Classify the failures of every trace: findings, MAST failure modes and where each failure
    started — from a store (`--db`, also while `faultlens serve` runs) or from OTLP files
    (protobuf, OTLP/JSON, JSON Lines; optionally gzipped) without any server or store.
    """
    console = Console(stderr=True)
    with cli_errors():
        if (
            files
            and db is not None
            and click.get_current_context().get_parameter_source("db")
            not in (click.core.ParameterSource.ENVIRONMENT,)
        ):
            raise CliError("give either --db or FILES, not both", EXIT_USAGE)
        options = build_options(semantic_grounding=semantic_grounding)
        if files:
            missing = [str(p) for p in files if not p.exists()]
            if missing:
                raise CliError(f"no such file: {missing[0]}", EXIT_USAGE)
            paths = sorted(
                {q for p in files for q in (sorted(p.rglob("*")) if p.is_dir() else [p]) if q.is_file()}
            )
            report = report_from_files(paths, console, make_judge(judge_url, judge_model), options)
        else:
            path = db or DEFAULT_DB
            if not Path(path).exists():
                raise CliError(f"no store at {path} (give --db PATH or OTLP FILES)", EXIT_USAGE)
            report = report_from_store(path, console, make_judge(judge_url, judge_model), options)
        text = render(report, fmt)
        if out is not None:
            out.write_text(text, encoding="utf-8")
        else:
            click.echo(text)
    worst = max_severity(report)
    if fail_on is not None and worst is not None and SEVERITIES.index(worst) >= SEVERITIES.index(fail_on):
        raise CliError(f"findings at or above {fail_on} (worst: {worst})", EXIT_FINDINGS)
