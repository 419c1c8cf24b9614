"""``python -m sample_traces.scenarios``: regenerate sample_traces/corpus/ and labels.json."""

from __future__ import annotations

import sys

from sample_traces.scenarios.corpus import CORPUS_DIR, LABELS_PATH, build_corpus, write_corpus


def main() -> int:
    corpus = build_corpus()
    write_corpus(corpus)
    size = sum(len(b) for b in corpus.files.values()) + len(corpus.labels)
    spans = sum(r.span_count for r in corpus.runs)
    clean = sum(1 for r in corpus.runs if r.scenario.clean)
    print(
        f"wrote {len(corpus.runs)} traces ({clean} clean, {len(corpus.runs) - clean} failing), "
        f"{spans} spans, "
        f"{len(corpus.files)} files, {size / 1e6:.2f} MB to {CORPUS_DIR} and {LABELS_PATH.name}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
