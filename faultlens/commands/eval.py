"""``faultlens eval``: precision, recall and origin accuracy of every detector on the labelled
scenarios (sample_traces/corpus + sample_traces/labels.json), clean controls included."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from analysis import evaluation
from faultlens.errors import EXIT_USAGE, CliError, cli_errors
from faultlens.options import analysis_options, build_options

SAMPLES = Path(__file__).resolve().parents[2] / "sample_traces"


@click.command("eval")
@click.option(
    "--corpus",
    type=click.Path(file_okay=False, path_type=Path),
    default=SAMPLES / "corpus",
    show_default=True,
    help="Directory of OTLP files.",
)
@click.option(
    "--labels",
    type=click.Path(dir_okay=False, path_type=Path),
    default=SAMPLES / "labels.json",
    show_default=True,
    help="Labels file (docs/findings-vocabulary.md).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@analysis_options
def command(corpus: Path, labels: Path, fmt: str, semantic_grounding: bool | None) -> None:
    """Measure the detectors on labelled scenario traces: precision, recall and origin accuracy per
    detector and per kind. Findings on clean controls count as false positives."""
    for p, what in ((corpus, "corpus directory"), (labels, "labels file")):
        if not p.exists():
            raise CliError(f"no {what} at {p}", EXIT_USAGE)
    console = Console(stderr=True)
    options = build_options(semantic_grounding=semantic_grounding)
    with cli_errors(), tempfile.TemporaryDirectory(prefix="faultlens-eval-") as tmp:
        try:
            with Progress(
                TextColumn("evaluate"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task("evaluate", total=None)
                ev = evaluation.run(
                    corpus,
                    labels,
                    Path(tmp),
                    lambda d, t, _s: progress.update(task, completed=d, total=t),
                    options,
                )
        except (ValueError, KeyError) as e:
            raise CliError(f"{labels}: bad labels file: {e}", EXIT_USAGE) from e
    click.echo(
        orjson.dumps(ev.as_json(), option=orjson.OPT_INDENT_2).decode()
        if fmt == "json"
        else evaluation.format_table(ev)
    )
