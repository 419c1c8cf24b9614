"""Options shared by several commands, defined once. The analysis options (``analysis_options``)
are built from ``analysis.options.SETTINGS``: one table drives the flags of ``analyze``, ``report``,
``eval``, ``serve`` and ``up``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from analysis.options import SETTINGS, AnalysisOptions, OptionError
from faultlens.errors import EXIT_USAGE, CliError

DEFAULT_DB = "faultlens.duckdb"

F = TypeVar("F", bound=Callable[..., Any])


def db_option(f: F) -> F:
    return click.option(
        "--db",
        "db",
        default=DEFAULT_DB,
        envvar="FAULTLENS_DB",
        show_default=True,
        show_envvar=True,
        type=click.Path(dir_okay=False),
        help="DuckDB store file.",
    )(f)


_MEMORY_LIMIT = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)", re.IGNORECASE)


def _memory_size(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Check a DuckDB memory size (``2GB``, ``512MiB``) before anything opens the store."""
    if value is not None and not _MEMORY_LIMIT.fullmatch(value.strip()):
        raise click.BadParameter(f"{value!r} is not a size such as 512MB or 2GB", ctx=ctx, param=param)
    return None if value is None else value.strip()


def db_memory_limit_option(f: F) -> F:
    return click.option(
        "--db-memory-limit",
        envvar="FAULTLENS_DB_MEMORY_LIMIT",
        show_envvar=True,
        default=None,
        callback=_memory_size,
        help="Cap on the store's DuckDB memory, e.g. 2GB (default: DuckDB's own, 80% of RAM). Table "
        "blocks are evicted to stay under it. Held outside it: the hashes of the stored keys of spans, "
        "span events and links, log records and metric points (8 bytes per row).",
    )(f)


def receiver_options(f: F) -> F:
    f = click.option("--host", default="127.0.0.1", show_default=True, help="Address the receivers bind to.")(
        f
    )
    f = click.option(
        "--grpc-port",
        default=4317,
        show_default=True,
        type=int,
        help="OTLP/gRPC port (0 = any free, -1 = off).",
    )(f)
    f = click.option(
        "--http-port",
        default=4318,
        show_default=True,
        type=int,
        help="OTLP/HTTP port (0 = any free, -1 = off).",
    )(f)
    return f


def analysis_options(f: F) -> F:
    """One flag per ``analysis.options.SETTINGS`` entry (``--x/--no-x``, also from its environment
    variable); not given, the parameter is None."""
    for setting in reversed(SETTINGS):
        f = click.option(
            setting.flag,
            setting.key,
            default=None,
            envvar=setting.envvar,
            show_envvar=True,
            help=setting.help,
        )(f)
    return f


def build_options(**values: bool | None) -> AnalysisOptions:
    """``AnalysisOptions`` from the flags given (None: the default), validated; an option that
    cannot be honoured here is a one-line usage error."""
    try:
        return AnalysisOptions(**{k: v for k, v in values.items() if v is not None}).validate()
    except OptionError as e:
        raise CliError(str(e), EXIT_USAGE) from e
