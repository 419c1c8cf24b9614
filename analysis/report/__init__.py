"""Failure reports: ``build_report`` (SPEC §5.5 dict, validated by ``report.schema.json``) and its
renderings as JSON, Markdown and self-contained HTML."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from analysis.report.build import REPORT_VERSION, build_report, finding_json, max_severity
from analysis.report.html import render_html
from analysis.report.markdown import render_markdown

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")
FORMATS = ("json", "md", "html")


def render_json(report: Mapping[str, Any]) -> str:
    return orjson.dumps(report, option=orjson.OPT_INDENT_2).decode()


def render(report: Mapping[str, Any], fmt: str) -> str:
    """``report`` in ``fmt`` (one of ``FORMATS``)."""
    if fmt == "json":
        return render_json(report)
    if fmt == "md":
        return render_markdown(report)
    if fmt == "html":
        return render_html(report)
    raise ValueError(f"unknown report format {fmt!r} (expected one of {', '.join(FORMATS)})")


def schema() -> dict[str, Any]:
    """The JSON Schema of the JSON report."""
    value: dict[str, Any] = orjson.loads(SCHEMA_PATH.read_bytes())
    return value


__all__ = [
    "FORMATS",
    "REPORT_VERSION",
    "SCHEMA_PATH",
    "build_report",
    "finding_json",
    "max_severity",
    "render",
    "render_html",
    "render_json",
    "render_markdown",
    "schema",
]
