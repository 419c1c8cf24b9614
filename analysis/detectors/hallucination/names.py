"""Capitalised names ("Dana Whitfield", "Globex Corp", "Terminal 5") as claims, told apart from
capitals that are layout or style.

A name is a run of capitalised words on one line (it never continues past a line break: a list
item, a heading or a new sentence starts there). Not names: a run on a line written in Title
Case (a pronoun, auxiliary or preposition capitalised mid-sentence — "Let Me Know If You Need
More Detail" — makes every capital on that line style), a Markdown heading or a title-case line
on its own, a label ("Root Cause:"), a single word opening a sentence, and runs made only of
generic report words (``vocabulary.GENERIC_CAPITALISED``).
"""

from __future__ import annotations

import bisect
import re

from analysis.detectors.hallucination.claim import Claim
from analysis.detectors.hallucination.vocabulary import (
    GENERIC_CAPITALISED,
    LEADING_STOPWORDS,
    NAME_CONNECTORS,
    TITLE_CASE_MARKERS,
)

#: whitespace within one line
_SP = r"[^\S\r\n]"
_NAME_TOKEN = rf"(?:(?:Dr|Mr|Mrs|Ms|Prof|Sr|Jr|St)\.{_SP})?[A-Z][\w'’&-]*"
# a trailing number belongs to the name ("Terminal 5", "Apollo 11"); a backslash before the first
# letter is an escape ("\\nBest"), not a word boundary
NAME = re.compile(
    rf"(?<![\w'’\\-]){_NAME_TOKEN}(?:{_SP}(?:(?:{'|'.join(NAME_CONNECTORS)}){_SP})?{_NAME_TOKEN})*"
    rf"(?:{_SP}\d{{1,4}}(?![\w.,:]\d))?"
)
WORD = re.compile(r"[a-z0-9]+")
_LABEL_AFTER = re.compile(r"[*_]*\s*:")
_MD_HEADING = re.compile(r"[ \t>]*#{1,6}[ \t]")
_HONORIFIC = re.compile(r"^(?:dr|mr|mrs|ms|prof|sr|jr|st)\.?$")
#: line breaks, including escaped ones in serialized JSON ("...Nordics\\nLet Me Know"); in JSON
#: each string value is a line of its own
_BREAK = re.compile(r"\n|\\n")
_JSON_BREAK = re.compile(r'\n|\\n|(?<!\\)"')
#: a capital right after an opening quote or bracket starts a quotation, not Title Case
_QUOTE_BEFORE = re.compile(r"[\"'“‘(\[][ \t]*$")
_TITLE_WORD = re.compile(r"(?<![\w'’])[A-Z][a-z]+(?:['’][a-z]+)?(?![\w'’])")
#: how far a line is looked at either side of a name (texts may be one long line of JSON)
_LINE_REACH = 400


class TextLines:
    """Line lookups over one text, each line judged once. In JSON, Title Case is judged per string
    value (an e-mail subject does not style the recipient's name)."""

    def __init__(self, text: str, *, json_text: bool = False) -> None:
        self.text = text
        self._json = json_text
        self._breaks: dict[bool, list[tuple[int, int]]] = {}
        self._markers: list[int] | None = None

    def bounds(self, pos: int, *, per_value: bool = False) -> tuple[int, int]:
        """[start, end) of the line (``per_value``: the JSON string) holding ``pos``, at most
        ``_LINE_REACH`` either side."""
        per_value = per_value and self._json
        breaks = self._breaks.get(per_value)
        if breaks is None:
            rx = _JSON_BREAK if per_value else _BREAK
            breaks = self._breaks[per_value] = [m.span() for m in rx.finditer(self.text)]
        i = bisect.bisect_right(breaks, (pos, pos))
        start = breaks[i - 1][1] if i else 0
        end = breaks[i][0] if i < len(breaks) else len(self.text)
        return max(start, pos - _LINE_REACH), min(end, pos + _LINE_REACH)

    def line(self, pos: int) -> str:
        start, end = self.bounds(pos)
        return self.text[start:end]

    def title_case(self, pos: int) -> bool:
        """The line holding ``pos`` capitalises a function word mid-sentence: Title Case styling."""
        if self._markers is None:  # one pass over the text, then a binary search per name
            text = self.text
            self._markers = [
                m.start()
                for m in _TITLE_WORD.finditer(text)
                if m.group(0).lower() in TITLE_CASE_MARKERS
                and not sentence_initial(text, m.start())
                and not _QUOTE_BEFORE.search(text, max(0, m.start() - 8), m.start())
            ]
        start, end = self.bounds(pos, per_value=True)
        i = bisect.bisect_left(self._markers, start)
        return i < len(self._markers) and self._markers[i] < end


def name_claim(m: re.Match[str], lines: TextLines) -> Claim | None:
    """The name claim of one ``NAME`` match, or None when the capitals are layout or style."""
    text = lines.text
    if lines.title_case(m.start()):
        return None
    words = m.group(0).split()
    # "The", "According", "However" open sentences; they are not part of a name
    while words and words[0].lower().strip(".,") in LEADING_STOPWORDS:
        words = words[1:]
    while words and words[-1].lower() in NAME_CONNECTORS:
        words = words[:-1]
    if not words:
        return None
    raw = " ".join(words)
    start = m.start() + m.group(0).index(words[0])
    end = start + len(raw)
    if text[start:end] != raw:  # collapsed whitespace: keep the text's own offsets honest
        end = m.end()
        raw = text[start:end]
    tokens = tuple(
        t
        for w in words
        if not _HONORIFIC.match(w.lower())
        for t in WORD.findall(w.lower().removesuffix("'s").removesuffix("’s"))
    )
    capitalised = [w for w in words if (w[:1].isupper() or w.isdigit()) and not _HONORIFIC.match(w.lower())]
    if not _HONORIFIC.match(words[0].lower()) and sentence_initial(text, start):
        if len(tokens) < 2:
            return None  # one capitalised word opening a sentence is just a sentence
        # "Meet Dana Whitfield": the opening word may be a verb capitalised by position only, so
        # the name is compared (grounding, carriers) without it
        tokens, capitalised = tokens[1:], capitalised[1:]
    if not tokens or all(t in GENERIC_CAPITALISED or t in LEADING_STOPWORDS or t.isdigit() for t in tokens):
        return None
    if _is_heading(lines, start, end) or _LABEL_AFTER.match(text, end):
        return None  # a heading, or a label ("Root Cause: ...", "**Next Steps**:")
    key = "name:" + " ".join(tokens)
    covers = frozenset((key, "name:" + " ".join(WORD.findall(raw.lower()))))
    return Claim("name", raw, start, end, (key,), covers, len(capitalised) >= 2, None, tokens)


def sentence_initial(text: str, start: int) -> bool:
    """Whether ``start`` opens a sentence, a line or a list item."""
    before = text[max(0, start - 80) : start].rstrip(" \t\"'“‘(*_")
    return not before or before[-1] in ".!?:;\r\n-+•>#|" or before.endswith(("\\n", "\\t"))


def _is_heading(lines: TextLines, start: int, end: int) -> bool:
    """A Markdown heading ("## Revenue Grew Strongly in the Nordics", Title Case by convention), or a
    line that is only the name, after layout marks and opening words ("**Next Steps:**", "The
    Analytics Team" under a sign-off): layout, not a claim."""
    line = lines.line(start)
    if _MD_HEADING.match(line):
        return True
    rest = line.strip(" \t#*_:-|>•").strip()
    name = lines.text[start:end]
    if not rest.endswith(name):
        return False
    lead = rest[: len(rest) - len(name)].split()
    return all(w.lower().strip(".,") in LEADING_STOPWORDS for w in lead)
