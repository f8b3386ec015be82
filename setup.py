"""Build of fastnet's compiled core (the package metadata is in pyproject.toml).

Environment variables:
  FASTNET_DEBUG=1     bounds checking and wraparound on, -O0 -g: kernels raise IndexError
                      (they are `except -1`, so errors propagate) instead of reading out of bounds.
  FASTNET_SANITIZE=1  AddressSanitizer + UndefinedBehaviorSanitizer instrumentation (implies debug).
Release builds are portable: no -march=native and never -ffast-math (it would flip
flush-to-zero for the whole process); CPU-specific paths are chosen at run time.
"""

import os
import sys

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

SANITIZE = os.environ.get("FASTNET_SANITIZE", "") == "1"
DEBUG = SANITIZE or os.environ.get("FASTNET_DEBUG", "") == "1"

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": not DEBUG,
    "embedsignature": True,
}

if sys.platform == "win32":
    compile_args, link_args = ["/O2"], []
elif DEBUG:
    compile_args, link_args = ["-O0", "-g", "-fno-omit-frame-pointer"], []
else:
    compile_args, link_args = ["-O3", "-fno-math-errno"], []
if SANITIZE:
    compile_args += ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"]
    link_args += ["-fsanitize=address,undefined"]

macros = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
# csrc/: plain C micro-kernels, linked into fastnet._kernels only (it holds the CPU-path
# state; fastnet._cpu reaches them through its cimported API). Each fn_path_*.c compiles
# the templates (*_tmpl.h) for one CPU path via target attributes, so no -march flag here.
csrc = sorted(os.path.join("csrc", name) for name in os.listdir("csrc") if name.endswith(".c"))
csrc_headers = sorted(os.path.join("csrc", name) for name in os.listdir("csrc") if name.endswith(".h"))


def extension(name, sources):
    return Extension(
        name,
        sources=sources,
        include_dirs=[numpy.get_include(), "csrc"],
        define_macros=macros,
        extra_compile_args=compile_args,
        extra_link_args=link_args,
        depends=csrc_headers if any(s.startswith("csrc") for s in sources) else [],
    )


extensions = [
    extension("fastnet._kernels", ["fastnet/_kernels.pyx", *csrc]),
    extension("fastnet._ops", ["fastnet/_ops.pyx"]),
    extension("fastnet._cpu", ["fastnet/_cpu.pyx"]),
    extension("fastnet._engine", ["fastnet/_engine.pyx"]),
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives=directives,
        build_dir="build/cython-debug" if DEBUG else None,
        quiet=True,
    ),
)
