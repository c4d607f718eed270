"""The SymPy derivations: every check passes, and a sabotaged step is caught (and only that step)."""

from __future__ import annotations

import pytest
import sympy as sp

import derivations
from derivations.framework import Derivation, Result, random_points, run
from rmtverify.verification.library_checks import CHECKS, library_checks

IMPLEMENTED = derivations.NAMES


def test_names_are_known():
    for name in IMPLEMENTED:
        assert name in derivations.NAMES
    with pytest.raises(KeyError):
        derivations.fresh("no_such_derivation")


@pytest.mark.parametrize("name", IMPLEMENTED)
def test_derivation_passes_every_check(name):
    d = derivations.fresh(name)
    checks = library_checks(d)
    assert checks, f"derivation {name} has no library check"
    report = run(d, checks=checks)
    assert report.ok, [(o.kind, o.target, o.detail) for o in report.outcomes if not o.ok]
    assert report.failed_steps == []
    kinds = {o.kind for o in report.outcomes}
    assert "numeric" in kinds
    # every step was checked numerically; the steps that SymPy can close were checked symbolically
    numeric_targets = {o.target for o in report.outcomes if o.kind == "numeric"}
    assert numeric_targets == {s.name for s in d.steps}
    symbolic_targets = {o.target for o in report.outcomes if o.kind == "symbolic"}
    assert symbolic_targets == {s.name for s in d.steps if s.symbolic}
    assert [o.target for o in report.outcomes if o.kind == "library"] == [c.name for c in checks]


def test_every_derivation_has_library_checks_and_only_steps_run_without_them():
    assert set(CHECKS) == set(derivations.NAMES)
    d = derivations.fresh("spiked")
    d.steps = d.steps[:1]
    assert {o.kind for o in run(d).outcomes} == {"symbolic", "numeric"}  # no checks given: steps only
    with pytest.raises(KeyError):
        library_checks(Derivation("no_such_derivation", "", "", [], {}, {}))


def _sabotage(name, step, factor=sp.Rational(101, 100)):
    d = derivations.fresh(name)
    s = d.step(step)
    s.rhs = s.side("rhs") * factor
    s._lazy.pop("rhs", None)
    return d


def test_sabotaged_isotropic_quadratic_is_caught():
    report = run(_sabotage("isotropic", "quadratic"))
    assert not report.ok
    assert report.failed_steps == ["quadratic"]
    failed = {o.kind for o in report.outcomes if not o.ok}
    assert failed == {"symbolic", "numeric"}


@pytest.mark.parametrize("step", ["df2", "dlambda-dkappa", "c-form"])
def test_sabotaged_kappa_step_is_caught(step):
    report = run(_sabotage("kappa", step))
    assert not report.ok
    assert report.failed_steps == [step]


def test_tiny_sabotage_is_still_caught_numerically():
    """A relative error of 1e-30 is far below float64 but far above the 45-digit check."""
    report = run(_sabotage("isotropic", "df2", 1 + sp.Rational(1, 10**30)))
    assert report.failed_steps == ["df2"]
    assert {o.kind for o in report.outcomes if not o.ok} == {"symbolic", "numeric"}


def test_sabotaged_result_is_caught_by_library_check():
    """The library's κ solver must disagree with a closed form that is off by 1%."""
    from derivations.symbols import alpha, lam

    d = derivations.fresh("isotropic")
    good = d.results["kappa"]
    d.results["kappa"] = Result(good.expr * sp.Rational(101, 100), good.args, good.text)
    d.steps = []  # only the library checks
    report = run(d, checks=library_checks(d))
    assert report.failed_steps == ["kappa-solve-vs-closed-form"]
    assert alpha in good.args and lam in good.args


def test_random_points_are_reproducible_and_inside_the_domain():
    x = sp.Symbol("x")
    dom = {x: (sp.Rational(1, 5), 8)}
    a = random_points(dom, "key")
    assert a == random_points(dom, "key")
    assert a != random_points(dom, "other key")
    assert all(sp.Rational(1, 5) < p[x] < 8 for p in a)


def test_derive_cli_writes_report(cli, tmp_path):
    rc, out, err = cli("derive", "spiked", "--out", tmp_path)
    assert rc == 0, err
    assert "spiked" in out and "PASS" in out
    md = (tmp_path / "derivations.md").read_text()
    assert "**Status: PASS**" in md and "## spiked" in md
    import json

    data = json.loads((tmp_path / "derivations.json").read_text())
    assert data["status"] == "PASS" and data["derivations"][0]["failed_steps"] == []


def test_surd_zero_test_proves_true_identities_and_rejects_a_tiny_error():
    from derivations.isotropic import surd_zero
    from derivations.symbols import alpha, lam

    delta = (alpha * (1 + lam) - 1) ** 2 + 4 * alpha * lam  # the isotropic discriminant, not a square
    r = sp.sqrt(delta)
    assert surd_zero(r**2 - delta) == 0
    assert surd_zero(1 / (alpha + r) - (alpha - r) / (alpha**2 - delta)) == 0
    assert surd_zero(r**3 / (1 + r) - delta * r * (1 - r) / (1 - delta)) == 0
    assert surd_zero(1 / (alpha + r) - (alpha - r) / (alpha**2 - delta) * (1 + sp.Rational(1, 10**30))) != 0
    # the e-train step uses it: sabotaged by 1e-30, the symbolic check fails (and the numeric one too)
    report = run(_sabotage("isotropic", "e-train", 1 + sp.Rational(1, 10**30)))
    assert report.failed_steps == ["e-train"]
    assert {o.kind for o in report.outcomes if not o.ok} == {"symbolic", "numeric"}
