"""``faultlens generate-samples``: regenerate the labelled corpus (sample_traces/corpus/ and
sample_traces/labels.json) deterministically, or ``--check`` that the committed copy is current."""

from __future__ import annotations

from pathlib import Path

import click

from faultlens.errors import EXIT_OPERATIONAL, CliError
from sample_traces.scenarios.corpus import CORPUS_DIR, LABELS_PATH, build_corpus, write_corpus


@click.command("generate-samples")
@click.option("--check", is_flag=True, help="Do not write; exit 3 when the committed corpus differs.")
def command(check: bool) -> None:
    """Rebuild every scenario trace through the OTel SDK (seeded ids, fixed timestamps): the output is
    byte-identical on every run."""
    corpus = build_corpus()
    if check:
        stale = [n for n, body in corpus.files.items() if _read(CORPUS_DIR / n) != body]
        if _read(LABELS_PATH) != corpus.labels:
            stale.append(LABELS_PATH.name)
        if stale:
            raise CliError(
                f"sample corpus is stale ({', '.join(stale[:5])}...); run faultlens generate-samples",
                EXIT_OPERATIONAL,
            )
        click.echo(f"sample corpus is current ({len(corpus.runs)} traces)")
        return
    write_corpus(corpus)
    click.echo(
        f"wrote {len(corpus.runs)} traces in {len(corpus.files)} files to {CORPUS_DIR} and {LABELS_PATH.name}"
    )


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None
