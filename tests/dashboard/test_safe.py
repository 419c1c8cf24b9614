"""Untrusted text stays text: escaping, claim highlighting and Markdown-label escaping."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from dashboard.render.safe import Mark, highlight, md_code, md_escape, snippet

_OWN_TAGS = re.compile(r'<mark class="fl-claim fl-(origin|spread)" style="[^"<>]*" title="[^"<>]*">|</mark>')


def test_script_and_handlers_are_escaped() -> None:
    text = '<script>alert(1)</script><img src=x onerror="alert(2)"> €189 per night'
    html, count = highlight(text, [Mark("€189 per night", origin=True, title='<b onclick="x">')])
    assert count == 1
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "onerror=&quot;alert(2)&quot;" in html
    assert '<mark class="fl-claim fl-origin"' in html
    assert 'title="&lt;b onclick=&quot;x&quot;&gt;"' in html


def test_every_occurrence_case_insensitive_and_origin_wins_ties() -> None:
    html, count = highlight(
        "Paris, paris and PARIS", [Mark("paris", origin=False), Mark("Paris", origin=True)]
    )
    assert count == 3
    assert html.count("fl-origin") == 3  # same span: the origin mark is preferred


def test_overlapping_marks_do_not_nest() -> None:
    html, count = highlight("costs 189 EUR", [Mark("189 EUR", True), Mark("189", False)])
    assert count == 1
    assert html.count("<mark") == 1 and "189 EUR</mark>" in html


@given(st.text(), st.lists(st.text(min_size=2, max_size=8), max_size=3))
def test_only_our_own_tags_survive(text: str, needles: list[str]) -> None:
    html, _ = highlight(text, [Mark(n, bool(i % 2), title=n) for i, n in enumerate(needles)])
    stripped = _OWN_TAGS.sub("", html)
    assert "<" not in stripped and ">" not in stripped


def test_snippet_marks_by_offsets_with_context() -> None:
    raw = '{"a": "x' + "y" * 100 + "€189 per night" + "z" * 100 + '"}'
    start = raw.index("€189")
    out = snippet(raw, start, start + len("€189 per night"), Mark("€189 per night", True))
    assert out.startswith("…") and out.endswith("…")
    assert "€189 per night</mark>" in out


def test_markdown_text_cannot_autolink() -> None:
    out = md_escape("mail ops@evil.example, see https://evil.example/x or www.evil.example")
    assert "@evil" not in out and "://evil" not in out and "www.evil" not in out.replace("\\", "")
    assert (
        out.replace("\u200b", "").replace("\\", "")
        == "mail ops@evil.example, see https://evil.example/x or www.evil.example"
    )


def test_markdown_labels_cannot_form_links() -> None:
    label = md_escape("[click](javascript:alert(1)) **b** <img src=x>")
    assert "\\[click\\]" in label and "\\(javascript" in label and "\\*\\*b" in label and "\\<img" in label
    assert md_code("a`b\nc") == "`a'b c`"
