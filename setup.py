"""Build step for the one compiled module: the OTLP trace request walker (collector/decode/_wire.c).

Everything else is in pyproject.toml. The module is optional at run time: without it (no compiler
when installing) the decoder walks parsed protobuf messages instead, with the same results.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "collector.decode._wire",
            sources=["collector/decode/_wire.c"],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
            optional=True,
        )
    ]
)
