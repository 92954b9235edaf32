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
    ],
)
