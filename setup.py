"""Build step for the compiled modules: the OTLP trace request walker (collector/decode/_wire.c),
the GenAI message-list scanner (collector/decode/_msgscan.c) and the GenAI span normalizer's fast
path (collector/decode/_genai.c), the last two sharing the scanner's code (msgscan.h).

Everything else is in pyproject.toml. All are optional at run time: without them (no compiler when
installing) the decoder walks parsed protobuf messages, checks parsed message lists and normalizes
every span in Python instead, with the same results.
"""

from setuptools import Extension, setup

_C_FLAGS = ["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter"]

setup(
    ext_modules=[
        Extension(
            "collector.decode._wire",
            sources=["collector/decode/_wire.c"],
            extra_compile_args=_C_FLAGS,
            optional=True,
        ),
        Extension(
            "collector.decode._msgscan",
            sources=["collector/decode/_msgscan.c"],
            depends=["collector/decode/msgscan.h"],
            extra_compile_args=_C_FLAGS,
            optional=True,
        ),
        Extension(
            "collector.decode._genai",
            sources=["collector/decode/_genai.c"],
            depends=["collector/decode/msgscan.h"],
            extra_compile_args=_C_FLAGS,
            optional=True,
        ),
    ]
)
