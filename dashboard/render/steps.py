"""One reasoning-chain step as safe HTML: findings banners, then what the agent was told (system
instructions), saw (input messages), thought (reasoning), called (tool calls, arguments, results)
and said (output). Every piece of content is escaped (``dashboard.render.safe``); claims of
hallucination findings are marked where they appear — red at their origin, amber where they spread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dashboard.data.chain import Step
from dashboard.data.findings import Occurrence
from dashboard.data.messages import Message, Piece, parse_messages, parse_parts, pretty
from dashboard.render.safe import Mark, esc, highlight, snippet

_PRE = (
    "white-space:pre-wrap;word-break:break-word;margin:2px 0 6px 0;padding:6px 8px;border-radius:4px;"
    "font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:0.82rem;background:{bg};"
    "border-left:3px solid {edge};max-height:28rem;overflow:auto"
)
_KIND_COLORS = {
    "text": ("#f6f8fa", "#c9d1d9"),
    "reasoning": ("#f3efff", "#8a63d2"),
    "tool_call": ("#eef6ff", "#2f81f7"),
    "tool_result": ("#edfbef", "#2da44e"),
    "media": ("#f6f8fa", "#8c959f"),
    "raw": ("#f6f8fa", "#8c959f"),
}
_ROLE_COLORS = {"system": "#6e7781", "user": "#0969da", "assistant": "#8250df", "tool": "#1a7f37"}
_SECTION = "margin:6px 0;"
_SUMMARY = "cursor:pointer;font-weight:600;font-size:0.85rem;color:#24292f"
_BANNER = (
    "margin:4px 0;padding:6px 10px;border-radius:6px;font-size:0.85rem;"
    "background:{bg};border:1px solid {edge}"
)
_EARLIER_SHOWN = 2  # input messages shown open; earlier ones fold (unless they hold a marked claim)


class _Marker:
    """Marks of one step, by field, and the occurrences no displayed text contained."""

    def __init__(self, occurrences: Sequence[Occurrence], titles: Mapping[str, str]) -> None:
        self._by_field: dict[str | None, list[Occurrence]] = {}
        for o in occurrences:
            self._by_field.setdefault(o.field, []).append(o)
        self._titles = titles
        self._found: set[int] = set()

    def marks(self, field: str) -> list[Mark]:
        occ = [*self._by_field.get(field, []), *self._by_field.get(None, [])]
        return [Mark(o.text, o.origin, self._titles.get(o.finding_id, "")) for o in occ]

    def render(self, field: str, text: str) -> str:
        body, count = highlight(text, self.marks(field))
        if count:
            for o in [*self._by_field.get(field, []), *self._by_field.get(None, [])]:
                if o.text.lower() in text.lower():
                    self._found.add(id(o))
        return body

    def missing(self) -> list[Occurrence]:
        return [
            o for group in self._by_field.values() for o in group if o.located and id(o) not in self._found
        ]


def _pre(body_html: str, kind: str = "text") -> str:
    bg, edge = _KIND_COLORS.get(kind, _KIND_COLORS["raw"])
    return f'<pre style="{_PRE.format(bg=bg, edge=edge)}">{body_html}</pre>'


def _details(title: str, inner: str, open_: bool = True, note: str = "") -> str:
    extra = f' <span style="font-weight:400;color:#57606a">{esc(note)}</span>' if note else ""
    return (
        f'<details style="{_SECTION}"{" open" if open_ else ""}>'
        f'<summary style="{_SUMMARY}">{esc(title)}{extra}'
        f"</summary>{inner}</details>"
    )


def _piece_html(piece: Piece, field: str, marker: _Marker) -> str:
    heading = {
        "reasoning": "reasoning",
        "tool_call": f"tool call → {piece.label}",
        "tool_result": f"tool result {piece.label}".strip(),
        "media": f"media {piece.label}".strip(),
    }.get(piece.kind)
    label = f'<div style="font-size:0.75rem;color:#57606a">{esc(heading)}</div>' if heading else ""
    return label + _pre(marker.render(field, piece.text), piece.kind)


def _message_html(msg: Message, field: str, marker: _Marker, shown_reasoning: str = "") -> str:
    color = _ROLE_COLORS.get(msg.role, "#57606a")
    who = msg.role + (f" ({msg.name})" if msg.name else "")
    finish = f" · finish: {msg.finish_reason}" if msg.finish_reason else ""
    head = f'<div style="font-size:0.78rem;font-weight:600;color:{color}">{esc(who)}{esc(finish)}</div>'
    # the span's reasoning column is shown in its own section: do not repeat it inside the message
    pieces = [
        p
        for p in msg.pieces
        if not (p.kind == "reasoning" and shown_reasoning and p.text.strip() == shown_reasoning)
    ]
    return head + "".join(_piece_html(p, field, marker) for p in pieces)


def _has_mark(msg: Message, marks: Sequence[Mark]) -> bool:
    return any(
        m.needle.lower() in p.text.lower() for p in msg.pieces for m in marks if len(m.needle.strip()) > 1
    )


def _messages_html(field: str, raw: str | None, marker: _Marker, shown_reasoning: str = "") -> str:
    messages = parse_messages(raw)
    if len(messages) <= _EARLIER_SHOWN + 1:
        return "".join(_message_html(m, field, marker, shown_reasoning) for m in messages)
    marks = marker.marks(field)
    earlier, recent = messages[:-_EARLIER_SHOWN], messages[-_EARLIER_SHOWN:]
    open_ = any(_has_mark(m, marks) for m in earlier)
    inner = "".join(_message_html(m, field, marker) for m in earlier)
    return _details(f"{len(earlier)} earlier messages", inner, open_=open_) + "".join(
        _message_html(m, field, marker, shown_reasoning) for m in recent
    )


def _findings_html(step: Step) -> str:
    out = []
    for f in step.origin_of:
        out.append(
            f'<div class="fl-finding-origin" style="{_BANNER.format(bg="#ffebe9", edge="#ff8182")}">'
            f"<b>⚑ Failure starts here</b> · {esc(f.detector)} / {esc(f.kind)} · <b>{esc(f.severity)}</b>"
            f"{' · ' + esc(', '.join(f.mast)) if f.mast else ''}<br>{esc(f.summary)}</div>"
        )
    for f in step.involved_in:
        out.append(
            f'<div class="fl-finding-spread" style="{_BANNER.format(bg="#fff8c5", edge="#d4a72c")}">'
            f"<b>↳ Affected</b> · {esc(f.detector)} / {esc(f.kind)} · {esc(f.severity)}"
            f"<br>{esc(f.summary)}</div>"
        )
    if step.error:
        msg = " · ".join(x for x in (step.error_type, step.status_message) if x)
        out.append(
            f'<div style="{_BANNER.format(bg="#ffebe9", edge="#ffcecb")}"><b>✖ Error</b> {esc(msg)}</div>'
        )
    return "".join(out)


def step_html(
    step: Step, content: Mapping[str, Any], events: Sequence[Mapping[str, Any]], cost: float | None = None
) -> str:
    """The HTML body of one step; ``content`` is the span's row from ``load_content``."""
    titles = {f.finding_id: f.summary for f in (*step.origin_of, *step.involved_in)}
    marker = _Marker(step.occurrences, titles)
    parts = [_findings_html(step), _meta_html(step, cost)]
    system = parse_parts(content.get("system_instructions"))
    if system:
        body = "".join(_piece_html(p, "system_instructions", marker) for p in system)
        parts.append(_details("System instructions", body, open_=bool(marker.marks("system_instructions"))))
    if content.get("tool_definitions"):
        body = _pre(marker.render("tool_definitions", pretty(content["tool_definitions"])), "raw")
        parts.append(_details("Tool definitions", body, open_=False))
    if content.get("input_messages"):
        parts.append(_details("Input", _messages_html("input_messages", content["input_messages"], marker)))
    if content.get("reasoning"):
        parts.append(
            _details("Reasoning", _pre(marker.render("reasoning", content["reasoning"]), "reasoning"))
        )
    if content.get("tool_arguments") is not None and content.get("tool_arguments") != "":
        body = _pre(marker.render("tool_arguments", pretty(content["tool_arguments"])), "tool_call")
        parts.append(_details(f"Tool call → {step.tool_name or step.name}", body))
    if content.get("tool_result") is not None and content.get("tool_result") != "":
        body = _pre(marker.render("tool_result", pretty(content["tool_result"])), "tool_result")
        parts.append(_details("Tool result", body))
    if content.get("memory_records"):
        body = _pre(marker.render("memory_records", pretty(content["memory_records"])), "raw")
        parts.append(_details("Memory records", body))
    if content.get("db_query_text"):
        parts.append(_details("Query", _pre(marker.render("db_query_text", content["db_query_text"]), "raw")))
    if content.get("output_messages"):
        reasoning = (content.get("reasoning") or "").strip()
        parts.append(
            _details(
                "Output", _messages_html("output_messages", content["output_messages"], marker, reasoning)
            )
        )
    if events:
        body = "".join(
            _pre(esc(e.get("name")) + "\n" + esc(pretty(e.get("attributes"))), "raw") for e in events
        )
        parts.append(
            _details(f"Events ({len(events)})", body, open_=any(e.get("name") == "exception" for e in events))
        )
    missing = marker.missing()
    if missing:
        parts.append(_missing_html(missing, content, titles))
    return "".join(parts)


def _located_text(o: Occurrence, content: Mapping[str, Any]) -> str | None:
    """The text the detector's offsets refer to: a message part's text, or the whole column."""
    raw = content.get(o.field or "") if o.field else None
    if not isinstance(raw, str):
        return None
    if o.part is None:
        return raw
    try:
        if o.field == "system_instructions":
            return parse_parts(raw)[o.part].text
        if o.message is not None:
            return parse_messages(raw)[o.message].pieces[o.part].text
    except IndexError:
        return None
    return None


def _missing_html(
    missing: Sequence[Occurrence], content: Mapping[str, Any], titles: Mapping[str, str]
) -> str:
    """Claims the detector located by offset in a field whose displayed form does not contain them."""
    rows = []
    for o in missing:
        raw = _located_text(o, content)
        mark = Mark(o.text, o.origin, titles.get(o.finding_id, ""))
        if (
            isinstance(raw, str)
            and o.start is not None
            and o.end is not None
            and 0 <= o.start < o.end <= len(raw)
        ):
            rows.append(f"<div>{esc(o.field)}: {snippet(raw, o.start, o.end, mark)}</div>")
        else:
            body, _ = highlight(o.text, [mark])
            rows.append(f"<div>{esc(o.field or 'content')}: {body}</div>")
    return _details("Claim located by the detector", "".join(rows))


def _meta_html(step: Step, cost: float | None) -> str:
    bits = [f"span {step.span_id}", f"+{step.offset_ms:,.1f} ms", f"{step.duration_ms:,.1f} ms"]
    if step.model:
        bits.append(f"model {step.model}")
    if step.input_tokens is not None or step.output_tokens is not None:
        tok = f"tokens in {step.input_tokens or 0:,} / out {step.output_tokens or 0:,}"
        if step.cache_read_tokens:
            tok += f" (cached {step.cache_read_tokens:,})"
        bits.append(tok)
    if cost is not None:
        bits.append(f"${cost:,.5f}")
    return f'<div style="font-size:0.75rem;color:#57606a;margin:2px 0 4px 0">{esc(" · ".join(bits))}</div>'
