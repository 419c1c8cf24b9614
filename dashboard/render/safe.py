"""Untrusted text into safe HTML.

LLM content, tool payloads, span names and attribute values are attacker-controlled. The rule:
every piece of such text goes through ``html.escape`` (quotes included) before it touches markup;
the only tags in the output are the fixed ones written in this package (``<mark>``, ``<pre>``,
``<details>``, ...), with fixed attribute values — apart from ``title`` attributes that are escaped
text as well. Nothing here produces Markdown: ``javascript:`` links or ``<img onerror>`` in content
stay inert characters on the page.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

ORIGIN_STYLE = "background:#ffb3b3;color:#5a0000;border-radius:3px;padding:0 2px;outline:2px solid #d40000"
SPREAD_STYLE = "background:#ffe08a;color:#4a3800;border-radius:3px;padding:0 2px"


def esc(text: object) -> str:
    """``text`` escaped for HTML text and attribute values."""
    return html.escape("" if text is None else str(text), quote=True)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$])")


_AUTOLINK = re.compile(r"(@|://|www\.)", re.IGNORECASE)
_ZWSP = "\u200b"


def md_escape(text: object) -> str:
    """``text`` for Markdown (Streamlit titles, captions and labels): every Markdown and HTML special
    character backslash-escaped, and the triggers of GFM autolinks (``@``, ``://``, ``www.``) broken
    with a zero-width space, so names and claims from spans cannot form links or formatting."""
    plain = _AUTOLINK.sub(
        lambda m: m.group(0)[:1] + _ZWSP + m.group(0)[1:], "" if text is None else str(text)
    )
    return _MD_SPECIAL.sub(r"\\\1", plain).replace("\n", " ")


def md_code(text: object) -> str:
    """``text`` as a Markdown code span (rendered literally; backticks and newlines removed)."""
    return "`" + ("" if text is None else str(text)).replace("`", "'").replace("\n", " ") + "`"


@dataclass(frozen=True)
class Mark:
    """Highlight every case-insensitive occurrence of ``needle``; ``origin`` marks the claim where it
    was first emitted (red) rather than where it spread (amber). ``title`` is the tooltip."""

    needle: str
    origin: bool
    title: str = ""


def _mark_open(mark: Mark) -> str:
    cls, style = ("fl-origin", ORIGIN_STYLE) if mark.origin else ("fl-spread", SPREAD_STYLE)
    return f'<mark class="fl-claim {cls}" style="{style}" title="{esc(mark.title)}">'


def highlight(text: str, marks: Sequence[Mark]) -> tuple[str, int]:
    """Escaped HTML of ``text`` with the marks' occurrences wrapped in ``<mark>``, and how many were
    marked. Overlaps resolve to the earliest, then longest, occurrence."""
    hits: list[tuple[int, int, Mark]] = []
    for mark in marks:
        needle = mark.needle.strip()
        if len(needle) < 2:
            continue
        hits += [(m.start(), m.end(), mark) for m in re.finditer(re.escape(needle), text, re.IGNORECASE)]
    if not hits:
        return esc(text), 0
    hits.sort(key=lambda h: (h[0], -(h[1] - h[0]), not h[2].origin))
    out: list[str] = []
    pos = 0
    count = 0
    for start, end, mark in hits:
        if start < pos:
            continue
        out += [esc(text[pos:start]), _mark_open(mark), esc(text[start:end]), "</mark>"]
        pos = end
        count += 1
    out.append(esc(text[pos:]))
    return "".join(out), count


def snippet(raw: str, start: int, end: int, mark: Mark, context: int = 80) -> str:
    """Escaped HTML of ``raw[start:end]`` marked, with some context either side (used when a claim's
    stored offsets are known but the claim is not found in the displayed text)."""
    start, end = max(0, min(start, len(raw))), max(0, min(end, len(raw)))
    lo, hi = max(0, start - context), min(len(raw), end + context)
    return (
        ("…" if lo else "")
        + esc(raw[lo:start])
        + _mark_open(mark)
        + esc(raw[start:end])
        + "</mark>"
        + esc(raw[end:hi])
        + ("…" if hi < len(raw) else "")
    )
