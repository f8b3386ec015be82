"""Checks for .ci/wheel: the release configuration, the sdist, the repaired wheels, the skipped tests.

    python .ci/wheel_checks.py config  SRC_DIR IDENTIFIERS_FILE
    python .ci/wheel_checks.py sdist   CHECKOUT SDIST       (CHECKOUT: a git work tree)
    python .ci/wheel_checks.py wheels  WHEEL_FROM_TREE WHEEL_FROM_SDIST
    python .ci/wheel_checks.py skips   SRC_DIR JUNIT_XML...

Runs in the tools environment of .ci/wheel (pyelftools comes with auditwheel, jsonschema and
PyYAML with check-jsonschema and by name). Each check prints what it found and exits non-zero
on a failure.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from importlib import resources
from pathlib import Path
from xml.etree import ElementTree

ARCHS = ("x86_64", "aarch64")
# what a repaired wheel's extensions may link: the C library (with its dynamic loader, which aarch64
# builds name) and libm; BLAS comes from SciPy at run time
ALLOWED_NEEDED = {"libc.so.6", "libm.so.6", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"}


def fail(message: str) -> None:
    sys.exit(f"wheel check failed: {message}")


def pyproject(src: Path) -> dict:
    with open(src / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)


def check_config(src: Path, identifiers_file: Path) -> None:
    """The Python versions agree across requires-python, the classifiers and cibuildwheel's builds;
    [tool.cibuildwheel] fits cibuildwheel's schema; the workflow has the expected jobs."""
    import jsonschema
    import yaml

    project = pyproject(src)
    meta, cibw = project["project"], project["tool"]["cibuildwheel"]
    schema = json.loads(resources.files("cibuildwheel").joinpath("resources/cibuildwheel.schema.json").read_text())
    jsonschema.validate(cibw, schema)

    minors = sorted(int(m) for m in re.findall(r"Programming Language :: Python :: 3\.(\d+)$",
                                                  "\n".join(meta["classifiers"]), re.M))
    if not minors or minors != list(range(minors[0], minors[-1] + 1)):
        fail(f"the classifiers name no contiguous range of Python 3 versions: {minors}")
    if meta["requires-python"] != f">=3.{minors[0]}":
        fail(f"requires-python {meta['requires-python']!r} does not start at the classifiers' 3.{minors[0]}")
    intended = sorted(f"cp3{minor}-manylinux_{arch}" for minor in minors for arch in ARCHS)
    printed = sorted(identifiers_file.read_text().split())
    print("cibuildwheel builds:", " ".join(printed))
    if printed != intended:
        fail(f"cibuildwheel would build {printed}, intended {intended}")

    workflow_path = src / ".github" / "workflows" / "wheels.yml"
    workflow = yaml.safe_load(workflow_path.read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    if not triggers.get("push", {}).get("tags"):
        fail("the wheels workflow does not run on tags")
    jobs = workflow["jobs"]
    runs = {name: "\n".join(step.get("run", "") for step in job["steps"]) for name, job in jobs.items()}
    if not any("build --sdist" in run for run in runs.values()):
        fail("no job of the wheels workflow builds the sdist")
    wheel_jobs = [name for name, run in runs.items() if "cibuildwheel" in run]
    if not wheel_jobs:
        fail("no job of the wheels workflow runs cibuildwheel")
    archs = {entry.get("arch") for name in wheel_jobs
             for entry in jobs[name].get("strategy", {}).get("matrix", {}).get("include", [])}
    if not set(ARCHS) <= archs:
        fail(f"the wheels workflow builds for {sorted(archs)}, not {list(ARCHS)}")
    print(f"config: Python 3.{minors[0]}-3.{minors[-1]}, {len(printed)} builds, workflow jobs {sorted(jobs)}")


def check_sdist(src: Path, sdist: Path) -> None:
    """Every tracked file that a build or the tests need is in the sdist; generated files are not."""
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    tracked = subprocess.run(["git", "ls-files"], cwd=src, capture_output=True, text=True, check=True).stdout.split()
    wanted = [name for name in tracked if name.split("/")[0] in {"fastnet", "csrc", "tests", "bench", "examples"}]
    wanted += ["setup.py", "pyproject.toml", "MANIFEST.in", "README.md", "LICENSE"]
    missing = sorted(set(wanted) - names)
    if missing:
        fail(f"the sdist lacks {missing}")
    generated = sorted(name for name in names
                       if name == "csrc/fn_codes.h" or re.fullmatch(r"fastnet/_\w+\.c", name) or name.endswith(".so"))
    if generated:
        fail(f"the sdist ships generated or built files: {generated}")
    print(f"sdist: {sdist.name}, {len(names)} entries, {len(wanted)} tracked files all present, nothing generated")


def elf_facts(data: bytes) -> tuple[list[str], list[str]]:
    """(DT_NEEDED libraries, debug section names) of one shared object."""
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile

    elf = ELFFile(io.BytesIO(data))
    needed = [tag.needed for section in elf.iter_sections() if isinstance(section, DynamicSection)
              for tag in section.iter_tags() if tag.entry.d_tag == "DT_NEEDED"]
    debug = [section.name for section in elf.iter_sections() if section.name.startswith((".debug", ".zdebug"))]
    return needed, debug


def describe_wheel(path: Path) -> set[str]:
    """Check one repaired wheel; return its file names (dist-info RECORD aside)."""
    from packaging.utils import parse_wheel_filename

    platforms = {tag.platform for tag in parse_wheel_filename(path.name)[3]}
    if not all(platform.startswith("manylinux") for platform in platforms):
        fail(f"{path.name} is not a manylinux wheel: {sorted(platforms)}")
    with zipfile.ZipFile(path) as wheel:
        infos = wheel.infolist()
        unpacked = sum(info.file_size for info in infos)
        libs = [info.filename for info in infos if ".libs/" in info.filename]
        if libs:
            fail(f"{path.name} bundles libraries: {libs}")
        extensions = [info.filename for info in infos if info.filename.endswith(".so")]
        if len(extensions) < 6:
            fail(f"{path.name} holds {len(extensions)} extension modules, expected 6")
        linked: set[str] = set()
        for name in extensions:
            needed, debug = elf_facts(wheel.read(name))
            linked.update(needed)
            if set(needed) - ALLOWED_NEEDED:
                fail(f"{name} links {sorted(set(needed) - ALLOWED_NEEDED)} (allowed: {sorted(ALLOWED_NEEDED)})")
            if debug:
                fail(f"{name} carries debug sections {debug}")
        names = {info.filename for info in infos if not info.filename.endswith(".dist-info/RECORD")}
    print(f"wheel: {path.name}: {path.stat().st_size / 1e6:.2f} MB, {unpacked / 1e6:.2f} MB unpacked, "
          f"{len(extensions)} extensions linking {sorted(linked)}, no debug sections")
    return names


def check_wheels(from_tree: Path, from_sdist: Path) -> None:
    tree, sdist = describe_wheel(from_tree), describe_wheel(from_sdist)
    if tree != sdist:
        fail(f"the two wheels differ: only from the tree {sorted(tree - sdist)}, "
             f"only from the sdist {sorted(sdist - tree)}")
    packages = {name.rsplit("/", 1)[0] for name in tree if name.endswith("/__init__.py")}
    print(f"wheels: the same {len(tree)} files from the tree and from the sdist; packages {sorted(packages)}")


def check_skips(src: Path, reports: list[Path]) -> None:
    """No test skipped for want of a module that the test extra provides."""
    extra = pyproject(src)["project"]["optional-dependencies"]["test"]
    provided = {re.split(r"[<>=!~\[ ;]", requirement)[0].lower().replace("-", "_") for requirement in extra}
    provided |= {"numpy", "scipy", "fastnet"}
    reasons: dict[str, int] = {}
    for report in reports:
        for skipped in ElementTree.parse(report).iter("skipped"):
            reason = skipped.get("message", "")
            reasons[reason] = reasons.get(reason, 0) + 1
            module = re.search(r"could not import '([\w.]+)'", reason)
            if module and module.group(1).split(".")[0].lower() in provided:
                fail(f"a test was skipped for a module the test extra provides: {reason}")
    for reason, count in sorted(reasons.items()):
        print(f"skipped {count}: {reason}")
    print(f"skips: none for want of {sorted(provided)}")


if __name__ == "__main__":
    command, *paths = sys.argv[1:]
    if command == "skips":
        check_skips(Path(paths[0]), [Path(path) for path in paths[1:]])
    else:
        {"config": check_config, "sdist": check_sdist, "wheels": check_wheels}[command](*map(Path, paths))
