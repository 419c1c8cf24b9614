"""``normalize_span`` gives exactly the outputs recorded before its hot path was optimized, for
every span of the sample corpus and the third-party traces and for thousands of seeded random
attribute dicts (see ``fixtures/normalize_cases.py``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.collector.fixtures.normalize_cases import OUTPUTS, all_sources, digest, inputs_digest, run

RECORDED: dict[str, dict[str, Any]] = json.loads(OUTPUTS.read_text())
SOURCES = dict(all_sources())


def test_every_committed_source_is_recorded() -> None:
    """The external data is optional; everything committed with the repository must be covered."""
    committed = {label for label in SOURCES if not label.startswith("external/")}
    assert committed <= set(RECORDED), sorted(committed - set(RECORDED))
    assert any(label.startswith("corpus/") for label in committed)


@pytest.mark.parametrize("label", sorted(RECORDED))
def test_outputs_unchanged(label: str) -> None:
    if label not in SOURCES:
        pytest.skip(f"{label}: source not present on this machine")
    cases = SOURCES[label]()
    assert inputs_digest(cases) == RECORDED[label]["inputs"], (
        f"{label}: the inputs changed (see fixtures/normalize_cases.py on re-recording)"
    )
    for index, (case, want) in enumerate(zip(cases, RECORDED[label]["outputs"], strict=True)):
        got: Any = run(case)
        assert digest(got) == want, f"{label}[{index}]: {case!r}\n-> {got!r}"
