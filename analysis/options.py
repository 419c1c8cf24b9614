"""How the analysis is asked to run beyond its defaults: one typed object, built at the edge (CLI
flags, ``faultlens serve``'s configuration, a ``POST /analyze`` body) and handed to
``registry.detectors(options)``, which builds the detectors with it. Nothing below the edge reads
the environment for these settings.

``SETTINGS`` lists every option with its CLI flag and help text; the CLI builds its flags from it.

- ``semantic_grounding`` (default off): the hallucination detector also grounds paraphrased names
  with a sentence-embedding model (``analysis.detectors.hallucination.semantic``). Needs the
  optional ``semantic`` extra; ``validate`` says how to install it when it is missing.
"""

from __future__ import annotations

from dataclasses import dataclass


class OptionError(ValueError):
    """An option that cannot be honoured; ``key`` names it."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True)
class Setting:
    key: str
    flag: str
    envvar: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "semantic_grounding",
        "--semantic-grounding/--no-semantic-grounding",
        "FAULTLENS_SEMANTIC_GROUNDING",
        "Also ground paraphrased names with a small sentence-embedding model (off by default; needs "
        "pip install 'faultlens[semantic]').",
    ),
)


@dataclass(frozen=True)
class AnalysisOptions:
    semantic_grounding: bool = False

    def validate(self) -> AnalysisOptions:
        """``self``, or ``OptionError`` naming the option that cannot be honoured here."""
        if self.semantic_grounding:
            from analysis.detectors.hallucination.semantic import SemanticUnavailable, require

            try:
                require()
            except SemanticUnavailable as e:
                raise OptionError("semantic_grounding", str(e)) from e
        return self


DEFAULT = AnalysisOptions()
