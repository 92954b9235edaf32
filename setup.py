"""Build hook for the optional native extensions; everything else is in pyproject.toml.

Each extension is optional: if the C compiler fails, the install continues and the code
falls back to its pure-Python reference (and says so).

Compile flags are chosen per compiler when the build starts (``BuildExt``): GCC/Clang get the
``GNU_FLAGS`` below; MSVC gets ``/O2`` and compiles the kernel's own MSVC paths (no computed
goto, no ``__int128``, portable C instead of AVX2/AVX-512; see ``miner/native/compat.h``).

``miner._kernel_portable`` is the same kernel built with ``-DPC_FORCE_PORTABLE``: GCC takes
the code paths MSVC would take (switch dispatch, 64-bit-halves 128-bit arithmetic, plain-C bit
counting, no SIMD), so ``tests/miner/test_kernel_portable.py`` proves them bit-exact on Linux.
It is not used for mining.
"""

from __future__ import annotations

import copy
import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

KERNEL_SOURCES = [
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
]
KERNEL_DEPENDS = [
    "miner/native/pc.h",
    "miner/native/compat.h",
    "miner/native/ann.h",
    "miner/native/poly1305_x4.h",
]

GNU_FLAGS = {
    "spv._gcs": ["-O3", "-std=c99"],
    "spv._headers": ["-O3", "-std=c99"],
    "miner._kernel": ["-O3", "-std=gnu11", "-fno-strict-aliasing"],
    # the portable build is only a test of the MSVC-style code: -O2 compiles faster
    "miner._kernel_portable": ["-O2", "-std=gnu11", "-fno-strict-aliasing"],
}
MSVC_FLAGS = ["/O2"]


class BuildExt(build_ext):
    """Per-compiler flags, and the extensions built side by side (they are independent)."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if self.parallel is None:
            self.parallel = min(4, os.cpu_count() or 1)

    def build_extensions(self) -> None:
        msvc = self.compiler.compiler_type == "msvc"
        for ext in self.extensions:
            ext.extra_compile_args = list(MSVC_FLAGS if msvc else GNU_FLAGS[ext.name])
        super().build_extensions()

    def build_extension(self, ext: Extension) -> None:
        if ext.name == "miner._kernel_portable":
            # same sources as miner._kernel: its objects go to their own directory (a copy of
            # this command, so extensions built in parallel do not share the attribute)
            clone = copy.copy(self)
            clone.build_temp = os.path.join(self.build_temp, "portable")
            build_ext.build_extension(clone, ext)
            return
        super().build_extension(ext)


setup(
    cmdclass={"build_ext": BuildExt},
    ext_modules=[
        Extension("spv._gcs", sources=["spv/native/gcs.c"], optional=True),
        Extension("spv._headers", sources=["spv/native/headers.c"], optional=True),
        Extension(
            "miner._kernel",
            sources=KERNEL_SOURCES,
            depends=KERNEL_DEPENDS,
            optional=True,
        ),
        Extension(
            "miner._kernel_portable",
            sources=KERNEL_SOURCES,
            depends=KERNEL_DEPENDS,
            define_macros=[("PC_FORCE_PORTABLE", "1"), ("PC_MODULE_NAME", "_kernel_portable")],
            optional=True,
        ),
    ],
)
