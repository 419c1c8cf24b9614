"""Options shared by several commands, defined once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

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
