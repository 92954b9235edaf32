"""Build hook for the optional native extensions; everything else is in pyproject.toml.

Each extension is optional: if the C compiler fails, the install continues and the code
falls back to its pure-Python reference (and says so).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "spv._gcs",
            sources=["spv/native/gcs.c"],
            extra_compile_args=["-O3", "-std=c99"],
            optional=True,
        ),
        Extension(
            "spv._headers",
            sources=["spv/native/headers.c"],
            extra_compile_args=["-O3", "-std=c99"],
            optional=True,
        ),
        Extension(
            "miner._kernel",
            sources=[
                "miner/native/module.c",
                "miner/native/ann.c",
                "miner/native/blake2b.c",
                "miner/native/chacha.c",
                "miner/native/cryptocycle.c",
                "miner/native/poly1305.c",
                "miner/native/randgen.c",
                "miner/native/randhash.c",
                "miner/native/simd.c",
                "miner/native/simd_x86.c",
            ],
            depends=[
                "miner/native/pc.h",
                "miner/native/ann.h",
                "miner/native/poly1305_x4.h",
            ],
            extra_compile_args=["-O3", "-std=gnu11", "-fno-strict-aliasing"],
            optional=True,
        ),
    ],
)
