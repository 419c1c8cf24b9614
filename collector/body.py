"""Reading an HTTP request body within the size limit, before and after decompression.

The limit applies to the decompressed bytes, so a gzip bomb is stopped after ``limit`` bytes of
output, whatever its ratio; memory never exceeds about ``limit`` per request.
"""

from __future__ import annotations

from typing import BinaryIO

from isal import isal_zlib

from collector.errors import MalformedPayload, PayloadTooLarge, UnsupportedMediaType

_CHUNK = 1 << 16


def read_raw(stream: BinaryIO, content_length: str | None, chunked: bool, limit: int) -> bytes:
    """Read the (possibly compressed) body: ``Content-Length`` bytes, or a chunked body."""
    if chunked:
        return _read_chunked(stream, limit)
    if content_length is None:
        raise MalformedPayload("Content-Length or chunked Transfer-Encoding is required")
    try:
        length = int(content_length)
    except ValueError:
        raise MalformedPayload(f"invalid Content-Length: {content_length[:40]!r}") from None
    if length < 0:
        raise MalformedPayload("invalid Content-Length: negative")
    if length > limit:
        raise PayloadTooLarge(f"request body of {length} bytes is over the limit of {limit} bytes")
    data = stream.read(length)
    if len(data) != length:
        raise MalformedPayload(f"body truncated: got {len(data)} of {length} bytes")
    return data


def _read_chunked(stream: BinaryIO, limit: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        line = stream.readline(1024)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise MalformedPayload("invalid chunked encoding") from None
        if size == 0:
            # trailers, up to the empty line
            while stream.readline(1024) not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(parts)
        total += size
        if total > limit:
            raise PayloadTooLarge(f"request body is over the limit of {limit} bytes")
        chunk = stream.read(size)
        if len(chunk) != size:
            raise MalformedPayload("body truncated inside a chunk")
        parts.append(chunk)
        stream.readline(8)  # the CRLF after each chunk


def decompress(body: bytes, encoding: str | None, limit: int) -> bytes:
    """Undo ``Content-Encoding`` (identity or gzip), refusing output past ``limit`` bytes."""
    enc = (encoding or "identity").strip().lower()
    if enc in ("", "identity"):
        return body
    if enc not in ("gzip", "x-gzip"):
        raise UnsupportedMediaType(f"unsupported Content-Encoding: {enc[:40]}")
    inflater = isal_zlib.decompressobj(16 + isal_zlib.MAX_WBITS)  # zlib's API, ~3x faster
    out: list[bytes] = []
    produced = 0
    data = body
    try:
        while data:
            piece = inflater.decompress(data, max(_CHUNK, 1))
            produced += len(piece)
            if produced > limit:
                raise PayloadTooLarge(f"decompressed body is over the limit of {limit} bytes")
            out.append(piece)
            data = inflater.unconsumed_tail
            if inflater.eof:
                break
        if not inflater.eof:
            tail = inflater.flush()
            produced += len(tail)
            if produced > limit:
                raise PayloadTooLarge(f"decompressed body is over the limit of {limit} bytes")
            out.append(tail)
            if not inflater.eof:
                raise MalformedPayload("truncated gzip body")
    except isal_zlib.error as e:  # type: ignore[misc]  # a class; its stub declares an instance
        raise MalformedPayload(f"invalid gzip body: {e}") from e
    return b"".join(out)
