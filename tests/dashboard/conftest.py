"""Fixtures for the dashboard tests: a real store file with the scenario traces, and AppTest."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.scenario import build_store

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("dash") / "faultlens.duckdb")


@pytest.fixture
def app_for(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path, str | None], AppTest]]:
    """``app_for(db, page)``: an AppTest of the dashboard on ``db``, switched to ``views/<page>.py``
    after a first run (None stays on the default page, the overview)."""

    def make(db: Path, page: str | None = None) -> AppTest:
        monkeypatch.setenv("FAULTLENS_DB", str(db))
        monkeypatch.delenv("FAULTLENS_PRICING", raising=False)
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.run()
        if page is not None:
            at.switch_page(f"views/{page}.py")
        return at

    yield make
