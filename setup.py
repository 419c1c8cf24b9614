"""Build step for the compiled modules: the OTLP trace request walker (collector/decode/_wire.c),
the GenAI message-list scanner (collector/decode/_msgscan.c), the GenAI span normalizer's fast
path (collector/decode/_genai.c), these two sharing the scanner's code (msgscan.h), the trace
decoder's per-span loop (collector/decode/_spans.c) and the Arrow column packer
(collector/decode/_columns.c).

Everything else is in pyproject.toml. All are optional at run time: without them (no compiler when
installing) the decoder walks parsed protobuf messages, checks parsed message lists and normalizes
every span in Python and lets pyarrow build every column instead, with the same results.
"""

from setuptools import Extension, setup

_C_FLAGS = ["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter"]


def _module(name: str, *headers: str) -> Extension:
    """``collector/decode/<name>.c`` as ``collector.decode.<name>``, rebuilt when ``headers`` change."""
    return Extension(
        f"collector.decode.{name}",
        sources=[f"collector/decode/{name}.c"],
        depends=[f"collector/decode/{h}" for h in headers],
        extra_compile_args=_C_FLAGS,
        optional=True,
    )


setup(
    ext_modules=[
        _module("_wire"),
        _module("_msgscan", "msgscan.h"),
        _module("_genai", "msgscan.h"),
        _module("_columns"),
        _module("_spans"),
    ]
)
