"""The dashboard's configuration: one typed object, read from argv/environment only at the app's edge."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

DB_ENV = "FAULTLENS_DB"
PRICING_ENV = "FAULTLENS_PRICING"
DEFAULT_DB = "./faultlens.duckdb"


class SettingsError(ValueError):
    """A setting is invalid; the message names the key."""


@dataclass(frozen=True)
class DashboardSettings:
    """``db_path``: the store (``--db`` after ``--`` on the ``streamlit run`` line, else ``FAULTLENS_DB``,
    else ``./faultlens.duckdb``). ``pricing_path``: an optional TOML/JSON file of model prices that
    extends the built-in table (``FAULTLENS_PRICING``). ``page_size``: rows per trace-list page.
    ``steps_per_page``: reasoning-chain steps per page. ``waterfall_rows``: spans per waterfall page."""

    db_path: str = DEFAULT_DB
    pricing_path: str | None = None
    page_size: int = 50
    steps_per_page: int = 25
    waterfall_rows: int = 200

    def validate(self) -> DashboardSettings:
        if not self.db_path:
            raise SettingsError("db_path: empty")
        for key in ("page_size", "steps_per_page", "waterfall_rows"):
            if int(getattr(self, key)) < 1:
                raise SettingsError(f"{key}: must be >= 1")
        return self

    @classmethod
    def from_argv_env(
        cls, argv: Sequence[str], environ: Mapping[str, str] | None = None
    ) -> DashboardSettings:
        """Settings from the script's argv (``--db PATH``, ``--pricing PATH``) and the environment."""
        env = os.environ if environ is None else environ
        db = env.get(DB_ENV) or DEFAULT_DB
        pricing = env.get(PRICING_ENV) or None
        args = list(argv)
        for i, arg in enumerate(args[:-1]):
            if arg == "--db":
                db = args[i + 1]
            elif arg == "--pricing":
                pricing = args[i + 1]
        return cls(db_path=db, pricing_path=pricing).validate()
