"""Type stub of the trace decoder's compiled per-span loop (collector/decode/_spans.c); the
reference is the per-span body of ``collector.decode.traces.decode_resources``."""

from collections.abc import Callable
from typing import Any

def decode_spans(
    spans: list[Any],
    start: int,
    out: tuple[list[Any], ...],
    norms: list[dict[str, Any]],
    fast: Callable[[dict[str, Any], str], dict[str, Any] | None],
    move: Callable[..., int | None],
    moved: Any,
    dumps: Callable[[Any], str],
    /,
) -> tuple[int, bool]: ...
