"""One unit per bound (issue #32): every fact about a bound is an attribute of its `mivb.Bound`, defined
in one module of mivb/bounds/, and nothing else in the library branches on a bound's name.

- No module outside the bound units (mivb/, adapters/, conformance/) compares a value with a bound's
  name, tests membership in names, keys a mapping by one, or keeps a tuple, list or set of names
  (an AST scan; passing a name as an argument, as users do, is allowed).
- The recipe of docs/architecture.md holds: a built-in bound is one module defining ``BOUND``, listed
  in the registry's ``UNITS``; a bound registered from anywhere gets its CLI flag, pointwise MI, the
  linear cross-check and the conformance suite (pointwise included) from its attributes alone.
"""

from __future__ import annotations

import ast
import importlib
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository's conformance package, outside mivb

import mivb
import mivb.bounds
from conformance.checks import checks_for
from conformance.example_bound import TEMPERED_DV
from conformance.trust import check_pointwise_of
from conformance.trust import log_ratio as exact_log_ratio
from mivb.crosscheck import fit_linear_critic, linear_values
from mivb.pointwise import normalised

UNITS_FOLDER = ROOT / "mivb" / "bounds"
SCANNED = [*sorted((ROOT / "mivb").rglob("*.py")), *sorted((ROOT / "adapters").rglob("*.py")),
           *sorted((ROOT / "conformance").glob("*.py"))]
BUILT_IN = frozenset(unit.BOUND.name for unit in mivb.bounds.UNITS)


def _names_in(node: ast.AST) -> list[str]:
    return [n.value for n in [node] if isinstance(n, ast.Constant) and n.value in BUILT_IN]


def name_uses(source: str) -> list[tuple[int, str]]:
    """``(line, what)`` for each place ``source`` branches on or lists a built-in bound's name. Names
    passed to a call (``bound=["club", "l1out"]``, as users pass them) and compared in an ``assert``
    (a check of a result) are not uses."""
    tree = ast.parse(source)
    passed = {id(arg) for call in ast.walk(tree) if isinstance(call, ast.Call)
              for arg in [*call.args, *(keyword.value for keyword in call.keywords)]}
    asserted = {id(node) for check in ast.walk(tree) if isinstance(check, ast.Assert) for node in ast.walk(check)}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in passed or id(node) in asserted:
            continue
        if isinstance(node, ast.Compare):
            for side in [node.left, *node.comparators]:
                found += [(node.lineno, f"compared with {name!r}") for name in _names_in(side)]
        elif isinstance(node, ast.Dict):
            found += [(node.lineno, f"a mapping keyed by {name!r}") for key in node.keys if key is not None
                      for name in _names_in(key)]
        elif isinstance(node, ast.Subscript):
            found += [(node.lineno, f"looked up by {name!r}") for name in _names_in(node.slice)]
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
            names = [name for e in node.elts for name in _names_in(e)]
            found += [(node.lineno, f"a collection of names {names}")] if names else []
    return found


def test_the_scan_finds_each_kind_of_name_use():
    source = ('if bound == "smile": pass\nok = name in ("infonce", "nwj")\nOFFSET = {"nwj": 1.0}\n'
              'x = BOUNDS["alpha"]\nmivb.estimate(x, z, bound=["club", "l1out"])\nother = ("auto", "gaussianize")\n'
              'assert result.bound == "infonce"\n')
    assert sorted(line for line, _ in name_uses(source)) == [1, 2, 3, 4]


def test_no_module_outside_the_bound_units_branches_on_a_bound_name():
    offending = [f"{path.relative_to(ROOT)}:{line}: {what}" for path in SCANNED
                 if path.parent != UNITS_FOLDER for line, what in name_uses(path.read_text(encoding="utf-8"))]
    assert not offending, "\n".join(offending)


def test_the_registry_lists_every_unit_and_each_unit_defines_its_one_bound():
    modules = sorted(path.stem for path in UNITS_FOLDER.glob("*.py") if not path.stem.startswith("_"))
    assert sorted(unit.__name__.rsplit(".", 1)[1] for unit in mivb.bounds.UNITS) == modules
    for unit in mivb.bounds.UNITS:
        defined = [value for value in vars(unit).values() if isinstance(value, mivb.Bound)]
        assert defined == [unit.BOUND] and unit.BOUND.name == unit.__name__.rsplit(".", 1)[1], unit.__name__
        paper, doc = unit.BOUND.paper, unit.__doc__ or ""
        assert mivb.BOUNDS[unit.BOUND.name] is unit.BOUND and paper.split()[0] in doc and paper[-4:] in doc, unit
        assert unit.BOUND.reference is not None, unit.__name__


def test_no_import_circle_runs_through_the_bounds_package():
    """The bounds package imports only modules below it: none of them imports mivb.bounds back."""
    package = "mivb.bounds"
    below = set()
    for path in UNITS_FOLDER.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module:
                below.add(node.module.split(".")[0])
    for module in below:
        source = (ROOT / "mivb" / f"{module}.py").read_text(encoding="utf-8")
        imported = {node.module for node in ast.walk(ast.parse(source))
                    if isinstance(node, ast.ImportFrom) and node.module}
        assert not any(name.startswith(("bounds", package)) for name in imported), module


@pytest.fixture
def tempered_dv():
    mivb.register_bound(TEMPERED_DV)
    yield TEMPERED_DV
    mivb.unregister_bound(TEMPERED_DV.name)


def test_a_registered_bound_passes_the_conformance_of_a_built_in_pointwise_included(tempered_dv):
    every = checks_for("torch")

    def kinds(name: str) -> set[str]:
        return {check.id.split(f"-{name}-")[0] for check in every if f"-{name}-" in check.id}

    checks = [check for check in every if f"-{tempered_dv.name}-" in check.id]
    assert kinds(tempered_dv.name) == set.intersection(*(kinds(name) for name in BUILT_IN))  # what every built-in gets
    for check in checks:
        check.run("torch")
    check_pointwise_of("torch", tempered_dv.name)  # its own log_ratio, reading its temperature
    check_pointwise_of("torch", tempered_dv.name, temperature=0.5)


def _tiny_unit_source() -> str:
    """A bound module written as the recipe says: statistics, value, reference and ``BOUND``."""
    return '''"""``halved``: half of Donsker & Varadhan 1983's bound on scores scaled by ``scale``."""
import math

import numpy as np

from mivb.bounds import LOGSUMEXP, SUM, Bound
from mivb.pointwise import normalised


def statistics(scores, params):
    s = params["scale"]
    return {"pos": (scores.sum_positives(lambda p: s * p), SUM),
            "neg": (scores.logsumexp_negatives(lambda g: s * g), LOGSUMEXP)}


def value(t, params, state):
    value = (t.mean("pos") - t.log_mean_exp("neg")) / 2
    return value, value


def reference(pos, neg, params, state):
    s, (n, k) = params["scale"], neg.shape
    weights = np.exp(s * neg - np.max(s * neg))
    lme = np.max(s * neg) + math.log(weights.sum()) - math.log(n * k)
    return float((s * pos.mean() - lme) / 2), np.full(n, s / (2 * n)), -s * weights / weights.sum() / 2


BOUND = Bound("halved", statistics, value, "half of Donsker-Varadhan", "Donsker & Varadhan 1983",
              params={"scale": 1.0}, reference=reference,
              log_ratio=lambda scores, baseline, params: normalised(params["scale"] * scores, baseline, params),
              linear_crosscheck=True, param_help={"scale": "the critic's scores are multiplied by it"})
'''


def test_a_bound_is_one_file_plus_one_registry_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "halved.py").write_text(_tiny_unit_source(), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    unit = importlib.import_module("halved")
    mivb.register_bound(unit.BOUND)  # what the registry's UNITS does for each module listed
    try:
        from mivb.cli import main, parser

        estimate = next(a for a in parser()._subparsers._group_actions[0].choices["estimate"]._actions
                        if "--scale" in a.option_strings)
        assert "halved only: the critic's scores are multiplied by it (default: 1.0)" in estimate.help
        assert main(["bounds"]) == 0 and "--scale 1.0" in capsys.readouterr().out
        scores = np.random.default_rng(0).normal(size=(6, 6))
        assert float(mivb.bound("halved", scores, scale=2.0)) == pytest.approx(
            float(mivb.bound("dv", 2.0 * scores)) / 2, rel=1e-12)
        for check in (c for c in checks_for("numpy") if "-halved-" in c.id and "float64" in c.id):
            check.run("numpy")
        rho = mivb.data.rho_for_mi(2, 0.5)
        x, z, _ = mivb.correlated_gaussians(3000, 2, rho, seed=1)
        assert fit_linear_critic("halved", None, x, z) is not None  # the linear cross-check applies
        result = mivb.estimate(x, z, bound="halved", backend="torch", steps=300, seed=0, progress=False)
        ratios = result.pointwise(x[:500], z[:500])  # its own rule, reading its scale
        assert ratios.shape == (500,) and np.corrcoef(ratios, exact_log_ratio(x[:500], z[:500], rho))[0, 1] > 0.8
    finally:
        mivb.unregister_bound("halved")


def test_the_pointwise_rule_reads_the_bound_parameters(tempered_dv):
    scores = np.random.default_rng(1).normal(size=(5, 5))
    at = {t: tempered_dv.log_ratio(scores, None, {"temperature": t}) for t in (1.0, 2.0)}
    np.testing.assert_allclose(at[1.0], normalised(scores, None, {}), rtol=1e-12)
    np.testing.assert_allclose(at[2.0], normalised(scores / 2.0, None, {}), rtol=1e-12)
    assert not np.allclose(at[1.0], at[2.0])


def test_replacing_a_bound_attribute_changes_what_the_library_does():
    """The cross-check reads ``linear_crosscheck`` and ``optimal_offset`` of the bound, not its name."""
    x, z, _ = mivb.correlated_gaussians(2000, 2, 0.8, seed=0)
    nwj = mivb.BOUNDS["nwj"]
    shifted = replace(nwj, name="nwj_shifted", optimal_offset=0.0)
    mivb.register_bound(shifted)
    try:
        critic = fit_linear_critic("nwj_shifted", None, x, z)
        batches = np.arange(2000).reshape(4, 500)
        assert critic is not None
        at_offset = linear_values(critic, x, z, batches, "nwj", {})
        without = linear_values(critic, x, z, batches, "nwj_shifted", {})
        assert np.all(at_offset > without)  # NWJ's optimal critic is 1 + log r: without the 1 it reads less
        mivb.register_bound(replace(shifted, linear_crosscheck=False), replace=True)
        assert fit_linear_critic("nwj_shifted", None, x, z) is None
    finally:
        mivb.unregister_bound("nwj_shifted")
