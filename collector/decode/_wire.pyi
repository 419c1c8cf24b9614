"""Type stub of the compiled OTLP trace walker (collector/decode/_wire.c); see collector/decode/walk.py."""

from typing import Any

def walk_traces(body: bytes | bytearray | memoryview, /) -> list[Any]: ...
