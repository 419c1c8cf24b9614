"""Type stub of the compiled message-list scanner (collector/decode/_msgscan.c); the reference is
``collector.decode.messages._canonical_messages`` over ``orjson.loads``."""

NOT_SURE: int
CANONICAL: int
HAS_SYSTEM: int
MAY_REASON: int
#: The part rules compiled in; equal to ``messages._RENAMED_PARTS`` / ``messages._REQUIRED_KEY``.
RENAMED_PARTS: tuple[str, ...]
REQUIRED_KEY: dict[str, str]

def scan_messages(text: str, /) -> int:
    """0 (``NOT_SURE``) unless ``text`` is certainly a message list in the normalized shape: then
    ``CANONICAL``, plus ``HAS_SYSTEM`` / ``MAY_REASON`` as ``_canonical_messages`` sets them."""
