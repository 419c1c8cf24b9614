"""Build step for the compiled modules: the OTLP trace request walker (collector/decode/_wire.c) and
the GenAI message-list scanner (collector/decode/_msgscan.c).

Everything else is in pyproject.toml. Both are optional at run time: without them (no compiler when
installing) the decoder walks parsed protobuf messages and checks parsed message lists instead, with
the same results.
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
            extra_compile_args=_C_FLAGS,
            optional=True,
        ),
    ]
)
