"""Build of fastnet's compiled core (the package metadata is in pyproject.toml).

Environment variables:
  FASTNET_DEBUG=1     bounds checking and wraparound on, -O0 -g: kernels raise IndexError
                      (they are `except -1`, so errors propagate) instead of reading out of bounds.
  FASTNET_SANITIZE=1  AddressSanitizer + UndefinedBehaviorSanitizer instrumentation (implies debug);
  FASTNET_SANITIZE=thread  ThreadSanitizer instead (implies debug).
Release builds are portable: no -march=native and never -ffast-math (it would flip
flush-to-zero for the whole process); CPU-specific paths are chosen at run time.
"""

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SANITIZE = os.environ.get("FASTNET_SANITIZE", "")  # "1": address + undefined, "thread": thread
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
    # -g0: no debug info (Python's own flags bring -g): a 4x smaller wheel and a faster build
    compile_args, link_args = ["-O3", "-fno-math-errno", "-g0"], []
if SANITIZE == "thread":
    compile_args += ["-fsanitize=thread"]
    link_args += ["-fsanitize=thread"]
elif SANITIZE:
    compile_args += ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"]
    link_args += ["-fsanitize=address,undefined"]

macros = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]


def write_codes_header(path="csrc/fn_codes.h"):
    """Generate the C view of fastnet/_codes.py (rewritten only when it changes, so no rebuild)."""
    table = {}
    with open(os.path.join("fastnet", "_codes.py"), encoding="utf-8") as handle:
        exec(compile(handle.read(), "fastnet/_codes.py", "exec"), table)  # plain data, no imports
    text = table["c_header"]()
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


write_codes_header()
# csrc/: plain C micro-kernels, linked into fastnet._cpu only (it holds the CPU-path state;
# the other modules reach them through its cimported API). Each fn_path_*.c compiles the
# templates (*_tmpl.h) for one CPU path via target attributes, so no -march flag here.
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
        depends=csrc_headers,  # every module reads fn_codes.h through _types.pxd
    )


# Two layers of Cython over csrc/: _cpu (the micro-kernels, linked here, and their dispatch) and
# _kernels (pointer-level math) below; the ops interface (_ops), the layer's fast paths (_layer_fast)
# and the engine (_network, _train, _predict) above. docs/design.md draws the whole house.
extensions = [
    extension("fastnet._cpu", ["fastnet/_cpu.pyx", *csrc]),
    extension("fastnet._kernels", ["fastnet/_kernels.pyx"]),
    extension("fastnet._sklearn_kernels", ["fastnet/_sklearn_kernels.pyx"]),
    extension("fastnet._sparse", ["fastnet/_sparse.pyx"]),
    extension("fastnet._ops", ["fastnet/_ops.pyx"]),
    extension("fastnet._layer_fast", ["fastnet/_layer_fast.pyx"]),
    extension("fastnet._network", ["fastnet/_network.pyx"]),
    extension("fastnet._train", ["fastnet/_train.pyx"]),
    extension("fastnet._predict", ["fastnet/_predict.pyx"]),
]


class parallel_build_ext(build_ext):
    """build_ext running up to `-j N` compiler processes at once (default: one per core) over the
    object files of all extensions together; setuptools alone parallelises whole extensions, so
    _cpu's csrc files would still compile one after another. As in setuptools, an extension is
    rebuilt only when one of its sources or headers is newer than it (see `build_ext --inplace`)."""

    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None or self.parallel is True:  # no -j given: every core
            self.parallel = os.cpu_count() or 1

    def build_extensions(self):
        compiler = self.compiler
        if self.parallel > 1 and compiler.compiler_type == "unix":
            slots = threading.BoundedSemaphore(self.parallel)

            def compile_parallel(sources, output_dir=None, macros=None, include_dirs=None, debug=False,
                                 extra_preargs=None, extra_postargs=None, depends=None):
                # CCompiler.compile, with the per-object _compile calls run in threads
                macros, objects, extra_postargs, pp_opts, build = compiler._setup_compile(
                    output_dir, macros, include_dirs, sources, depends, extra_postargs)
                cc_args = compiler._get_cc_args(pp_opts, debug, extra_preargs)

                def one(obj):
                    with slots:
                        compiler._compile(obj, *build[obj], cc_args, extra_postargs, pp_opts)

                with ThreadPoolExecutor(max(1, len(build))) as pool:
                    list(pool.map(one, [obj for obj in objects if obj in build]))
                return objects

            compiler.compile = compile_parallel
        super().build_extensions()


setup(
    cmdclass={"build_ext": parallel_build_ext},
    ext_modules=cythonize(
        extensions,
        compiler_directives=directives,
        build_dir="build/cython-debug" if DEBUG else None,
        quiet=True,
    ),
)
