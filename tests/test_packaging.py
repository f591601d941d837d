"""Packaging: the version, the licence, typed packages, and dependencies declared as ranges.

NumPy only (no framework): the core session runs it on every supported Python.
"""

import importlib.metadata
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.version import Version

import mivb

try:
    import tomllib
except ImportError:  # Python 3.10: pytest depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
PACKAGE_DIRS = PYPROJECT["tool"]["setuptools"]["package-dir"]
FRAMEWORK_EXTRAS = ("torch", "jax", "tensorflow", "tensorflow-cpu")


def requirements(extra=None):
    """The requirements of an extra (the core's with None), other extras of mivb left out."""
    names = PYPROJECT["project"]["dependencies"] if extra is None else EXTRAS[extra]
    return [r for r in map(Requirement, names) if r.name != "mivb"]


def pins(path):
    """name -> Version of a constraints file's pins that apply to this Python."""
    found = {}
    for line in (ROOT / path).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate():
                (specifier,) = requirement.specifier
                assert specifier.operator == "==", line
                found[canonical(requirement.name)] = Version(specifier.version)
    return found


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def lower_bound(requirement):
    (bound,) = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
    return bound


def test_version_comes_from_the_installed_metadata():
    assert mivb.__version__ == importlib.metadata.version("mivb") == PYPROJECT["project"]["version"]


def test_version_without_installed_metadata_is_a_placeholder_not_an_error():
    # A source tree put on sys.path by hand: no distribution named mivb is found.
    code = ("import importlib.metadata as m, sys\n"
            "def missing(name): raise m.PackageNotFoundError(name)\n"
            "m.version = missing\n"
            f"sys.path.insert(0, {str(ROOT)!r})\n"
            "import mivb\n"
            "print(mivb.__version__, mivb.__file__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "0+unknown" and Path(out[1]).resolve() == ROOT / "mivb" / "__init__.py"


def test_the_licence_is_mit_as_the_metadata_says():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Copyright (c) 2026 the mivb developers" in text
    assert PYPROJECT["project"]["license"] == "MIT"
    assert importlib.metadata.metadata("mivb")["License-Expression"] == "MIT"


def test_the_citation_file_names_the_version_licence_and_title_of_readmes_entry():
    fields = dict(line.split(": ", 1) for line in (ROOT / "CITATION.cff").read_text().splitlines()
                  if ": " in line and not line.startswith(("#", " ")))
    assert fields["cff-version"] == "1.2.0" and fields["type"] == "software"
    assert fields["version"] == PYPROJECT["project"]["version"] and fields["license"] == PYPROJECT["project"]["license"]
    entry = (ROOT / "README.md").read_text().split("@software{mivb,", 1)[1].split("\n}", 1)[0]
    bibtex = {key.strip(): value.strip().rstrip(",")[1:-1].replace("{", "").replace("}", "")
                  for key, value in (line.split("=", 1) for line in entry.strip().splitlines())}
    assert bibtex["title"] == fields["title"].strip('"') and bibtex["version"] == fields["version"]


def test_the_changelog_has_the_unreleased_version_and_the_first_release():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "## [0.2.0] - unreleased" in text and "## [0.1.0]" in text
    for subject in ("register_bound", "EstimatorSpec", "capabilities", "Estimate.unreliable"):
        assert subject in text


@pytest.mark.parametrize("extra", sorted(EXTRAS))
def test_extras_declare_ranges_never_pins(extra):
    for requirement in requirements(extra):
        operators = {s.operator for s in requirement.specifier}
        assert not operators & {"==", "===", "~="}, f"{extra}: {requirement} pins a version"


@pytest.mark.parametrize("extra", FRAMEWORK_EXTRAS)
def test_every_framework_requirement_has_a_lower_bound(extra):
    for requirement in requirements(extra):
        lower_bound(requirement)


def test_the_tensorflow_extras_differ_only_in_the_package():
    gpu = {canonical(r.name): r.specifier for r in requirements("tensorflow")}
    cpu = {canonical(r.name): r.specifier for r in requirements("tensorflow-cpu")}
    assert gpu.pop("tensorflow") == cpu.pop("tensorflow-cpu") and gpu == cpu


def test_lowest_constraints_are_the_lower_bounds():
    # constraints/lowest.txt is what `nox -s ends` installs as the lowest end.
    lowest = pins("constraints/lowest.txt")
    declared = {canonical(r.name): r for extra in (None, *EXTRAS) for r in requirements(extra)}
    for name, requirement in declared.items():
        if name in ("pytest", "pytest-xdist", "hypothesis", "pandas"):  # test tools, not part of what users install
            continue
        assert name in lowest, f"constraints/lowest.txt has no pin for {name}"
        bound = lower_bound(requirement)
        assert lowest[name] in requirement.specifier
        assert lowest[name].release[:len(bound.release)] == bound.release, (name, lowest[name], bound)
    assert set(lowest) <= set(declared)


def test_ci_constraints_lie_inside_the_declared_ranges():
    # CI tests exact versions: they must be versions users may get.
    ci = pins("constraints/ci.txt")
    for extra in (None, *EXTRAS):
        for requirement in requirements(extra):
            if requirement.marker is None or requirement.marker.evaluate():
                name = canonical(requirement.name)
                if name in ci:
                    assert ci[name] in requirement.specifier, (extra, requirement, ci[name])
    assert {"torch", "jax", "tensorflow-cpu", "keras", "numpy", "mypy"} <= set(ci)


def test_nox_installs_through_the_ci_constraints():
    noxfile = (ROOT / "noxfile.py").read_text()
    direct = re.findall(r"session\.install\(", noxfile)
    # The exceptions: ends (the ranges' ends), gpu (the CUDA builds, which CI never installs) and
    # beyond_normal (two calls: bmi with its own pins, numpy < 2, then mivb without its dependencies;
    # CI never runs it either)
    assert len(direct) == 5, "only install(), ends, gpu and beyond_normal call session.install"
    assert 'session.install(*args, "-c", CI_CONSTRAINTS)' in noxfile


def test_every_package_is_typed_and_ships_its_marker():
    assert PYPROJECT["tool"]["setuptools"]["package-data"]["*"] == ["py.typed"]
    for package, folder in PACKAGE_DIRS.items():
        assert (ROOT / folder / "py.typed").is_file(), package


def test_the_wheel_holds_the_typed_packages_and_the_licence(tmp_path):
    # The wheel as pip builds it (isolated build, setuptools from the index): about ten seconds.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(ROOT), "-w", str(tmp_path)],
                   check=True, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    (wheel,) = tmp_path.glob("mivb-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in PACKAGE_DIRS:
        assert f"{package}/py.typed" in names and f"{package}/__init__.py" in names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)


def test_readme_install_is_visible_to_type_checkers():
    # The default editable install hides the adapters/ mapping behind an import hook that mypy and
    # pyright cannot follow; strict mode links the files instead (nox -s typing checks both).
    readme = (ROOT / "README.md").read_text()
    setup = readme[readme.index("## Set up"):]
    command = setup.split("```")[1]
    assert '-e ".[torch,plot]"' in command and "--config-settings editable_mode=strict" in command
    assert "-c constraints/ci.txt" in command  # the versions CI tests (the CPU torch wheel here)


@pytest.mark.parametrize("output", ["mivb-demo.png", "out/figure.png", "build/lib/mivb/__init__.py",
                                    ".nox/typing/bin/python", "benchmarks/results/speed_quick.json"])
def test_what_commands_write_is_ignored_by_git(output):
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(["git", "check-ignore", "--quiet", "--no-index", output], cwd=ROOT, check=False)
    assert result.returncode == 0, f"{output} is not ignored"


def test_python_markers_in_the_ci_constraints_cover_every_supported_python():
    # Each marked pin has its counterpart: exactly one version of it applies to any Python >= 3.10.
    marked = {}
    for line in (ROOT / "constraints/ci.txt").read_text().splitlines():
        if ";" in line and not line.startswith("#"):
            requirement = Requirement(line)
            marked.setdefault(canonical(requirement.name), []).append(requirement.marker)
    for python in ("3.10", "3.11", "3.12", "3.13"):
        for name, markers in marked.items():
            applying = [m for m in markers if Marker(str(m)).evaluate({"python_version": python})]
            if name not in ("exceptiongroup", "tomli"):  # needed on 3.10 only
                assert len(applying) == 1, (name, python)
