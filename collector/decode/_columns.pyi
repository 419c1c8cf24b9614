"""Type stub of the compiled column packer (collector/decode/_columns.c); see
collector/decode/columns.py, whose reference is ``pyarrow.array``."""

from typing import Any

def strings(values: list[Any], /) -> tuple[bytes | None, bytes, bytes, int]: ...
def integers(values: list[Any], width: int, /) -> tuple[bytes | None, bytes, int]: ...
