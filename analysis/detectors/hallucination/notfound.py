"""Does a tool's answer say "the thing you named does not exist"?

Three readings, over the span's error type, status message, result (its head when long: a long
result is data, and data may say "unknown" anywhere) and event attributes:

- a not-found phrase or error code (``vocabulary.NOT_FOUND_PHRASES``), after spelling codes out
  as words: ``NOT_FOUND``, ``does_not_exist``, ``ResourceNotFoundException``, ``NoSuchKey`` and
  ``not-found`` all read as the phrases they spell; HTTP 404 by status code;
- "no <thing> with / named / for / found ..." and "invalid <thing>", when the thing is what the
  tool looks up (a word of its name or of its argument names, or a generic word such as
  "record"): "No account with id X" from ``get_account``, but not "No issues found" from
  ``lint_file``, which says the file exists and is clean;
- an empty answer to a lookup by key: the result is ``null``, ``{}``, ``""`` or an object whose
  fields are all null apart from echoes of the arguments (``{"account": null}``), or says
  ``{"found": false}`` / ``{"exists": false}``; the tool does not change the world (a write
  returning nothing is the usual success), and the entity is a whole argument value (a key, not a
  word of a search query). Empty lists are never "not found": a lookup of the orders of a
  customer may rightly return none, and so may a search.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from analysis.detectors.hallucination.propagation import is_side_effecting
from analysis.detectors.hallucination.vocabulary import LOOKUP_NOUNS, NOT_FOUND_PHRASES
from analysis.messages import loads

#: results longer than this are only searched in their head
SHORT_RESULT = 400

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_JOINER = re.compile(r"(?<=[A-Za-z])[_-]+(?=[A-Za-z])")
_NAME_WORD = re.compile(r"[a-z]+")
_PRESENCE_FLAGS = frozenset({"found", "exists", "exist", "is found", "present"})


def spelled(text: str) -> str:
    """Codes and identifiers as lowercase words: "ResourceNotFound" → "resource not found",
    "does_not_exist" → "does not exist", "non-existent" → "non existent"."""
    return _JOINER.sub(" ", _CAMEL.sub(" ", text)).lower()


_NOT_FOUND = re.compile(
    r"(?<!\w)(?:"
    + "|".join(sorted({re.escape(spelled(p)) for p in NOT_FOUND_PHRASES}, reverse=True))
    + r")(?!\w)"
)
#: phrases of an empty search: about an identifier or a key they mean "no such thing", about a
#: plain word ("status": "lost") only that nothing matched
EMPTY_SEARCH = frozenset({"no results", "no result", "0 results", "zero results", "no match", "no matching"})
#: "no account with id", "no user named", "no order for", "no invoice found", "no customer C-17"
_NO_THING = re.compile(
    r"(?<!\w)no((?: [a-z]+){1,3}?) (?:(?:with|named|called|matching|for|under|having|found|exists?|was|is"
    r"|on file|in the system)(?!\w)|(?=\S*\d))"
)
#: "invalid tracking number", "not a valid account": a key the system does not know
_INVALID_THING = re.compile(r"(?<!\w)(?:invalid|not a valid)((?: [a-z]+){1,3})")


def not_found_reason(
    row: Mapping[str, Any], event_texts: Iterable[str], looked_up: Sequence[str]
) -> str | None:
    """The phrase, code or status by which the tool span ``row`` (``store.schema.SPANS`` columns)
    says the entity it was asked about does not exist, or None. ``event_texts``: its span events'
    attributes as text; ``looked_up``: the entities under judgement, as written in the arguments."""
    if row.get("http_status_code") == 404:
        return "http 404"
    result = str(row.get("tool_result") or "")
    texts = [str(row.get("error_type") or ""), str(row.get("status_message") or "")]
    texts.append(result if len(result) <= SHORT_RESULT else result[:200])
    texts += (t[:SHORT_RESULT] for t in event_texts)
    words = spelled(" ".join(texts))
    m = _NOT_FOUND.search(words)
    if m:
        return m.group(0)
    subjects = _subject_words(row)
    for rx in (_NO_THING, _INVALID_THING):
        for m in rx.finditer(words):
            if any(_singular(w) in subjects for w in m.group(1).split()):
                return m.group(0).strip()
    if _empty_lookup(row, looked_up):
        return "an empty result"
    return None


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ses") or word.endswith("xes"):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _subject_words(row: Mapping[str, Any]) -> set[str]:
    """What the tool looks up: the words of its name and of its argument names, singular."""
    names = [str(row.get("tool_name") or "")]
    args = loads(row.get("tool_arguments"))
    if isinstance(args, dict):
        names += [str(k) for k in args]
    words = {_singular(w) for n in names for w in _NAME_WORD.findall(spelled(n))}
    return words | LOOKUP_NOUNS


def _leaves(value: Any) -> Iterable[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def _empty_lookup(row: Mapping[str, Any], looked_up: Sequence[str]) -> bool:
    result = row.get("tool_result")
    if result is None or is_side_effecting(row.get("tool_name")):
        return False
    args = loads(row.get("tool_arguments"))
    keys = {str(v).strip().lower() for v in _leaves(args) if isinstance(v, str | int) and v != ""}
    if not keys.intersection(e.strip().lower() for e in looked_up):
        return False  # the entity is not a whole argument value: a query, not a key
    text = str(result).strip()
    if text in ("", "null", "None", "{}", '""'):
        return True
    parsed = loads(text)
    return isinstance(parsed, dict) and _nothing(parsed, keys)


def _nothing(value: dict[str, Any], echoes: set[str]) -> bool:
    """An object that holds no data: every field null (or such an object), apart from fields
    that echo the arguments back; at least one null."""
    empty = 0
    for k, v in value.items():
        if v is False and spelled(str(k)) in _PRESENCE_FLAGS:
            return True  # {"found": false}, {"exists": false}
        if v is None or (isinstance(v, dict) and (not v or _nothing(v, echoes))):
            empty += 1
        elif not (isinstance(v, str | int) and str(v).strip().lower() in echoes):
            return False
    return empty > 0


#: argument names that hold a key ("order_id", "accountNumber", "sku", "ref")
_KEY_NAME = re.compile(r"(?:^|[ ])(?:id|ids|uuid|number|no|num|sku|code|ref|reference|key|slug|handle)$")


def key_values(arguments: str | None) -> set[str]:
    """The values of a tool call's key-like arguments, as lowercase text: a number there names an
    entity ("order_id": 884120), not a quantity."""
    args = loads(arguments)
    if not isinstance(args, dict):
        return set()
    return {
        str(v).lower()
        for k, v in args.items()
        if isinstance(v, str | int)
        and not isinstance(v, bool)
        and _KEY_NAME.search(spelled(str(k)).replace("_", " "))
    }
