"""The verdict (SPEC §5) on synthetic ladders whose truth is known.

Synthetic Monte Carlo: mean(d) = theory(d) + c·d^-β + SE(d)·N(0, 1), with
fixed NumPy seeds. A verifier must PASS the correct theory and FAIL a theory
off by 1% either way; a wrong rate must FAIL once resolved; a run without the
power to see a 1% error must be INCONCLUSIVE, never PASS.
"""

from __future__ import annotations

import numpy as np
import pytest

from rmtverify.verification.verdict import FAIL, INCONCLUSIVE, PASS, Criteria, combine, extrapolate, fit_rate, judge, wls

LADDER = np.array([64, 128, 256, 512, 1024], dtype=float)
T_INF = 1.2
SEEDS = range(10)


def theory_d(d):
    return T_INF + 0.3 / d  # a finite-d theory with its own 1/d correction


def synthetic(seed, c=2.0, beta=1.0, se_scale=0.1, se=None):
    rng = np.random.default_rng(seed)
    se = np.full_like(LADDER, se) if se is not None else se_scale / LADDER
    mean = theory_d(LADDER) + c * LADDER ** (-beta) + se * rng.standard_normal(len(LADDER))
    return mean, se


@pytest.mark.parametrize("seed", SEEDS)
def test_correct_theory_passes(seed):
    mean, se = synthetic(seed)
    v = judge(LADDER, mean, se, theory_d(LADDER), T_INF)
    assert v.status == PASS, v.reasons
    n = v.numbers
    assert abs(n["gap_inf"]) <= 4 * n["gap_inf_se"]
    assert n["rate_resolved"] is True and abs(n["beta"] - 1) < 0.1
    assert abs(n["gap_fit_c"] - 2.0) < 0.2
    assert abs(n["mc_inf"] - T_INF) <= 4 * n["mc_inf_se"]
    assert n["min_detectable_rel"] <= 0.005


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("factor", [1.01, 0.99])
def test_theory_off_by_one_percent_fails(seed, factor):
    mean, se = synthetic(seed)
    v = judge(LADDER, mean, se, factor * theory_d(LADDER), factor * T_INF)
    assert v.status == FAIL, v.reasons
    # the failure is the extrapolated gap: about ∓1% of the theory, many SE from 0
    assert abs(v.numbers["gap_inf"] - (1 - factor) * T_INF) < 0.002
    assert abs(v.numbers["gap_inf"]) > 4 * v.numbers["gap_inf_se"]
    assert any("extrapolated gap" in r and "SE from 0" in r for r in v.reasons)


@pytest.mark.parametrize("seed", SEEDS)
def test_only_the_limit_wrong_fails(seed):
    """Right at every finite d but wrong at d = ∞: caught by MC extrapolated to d = ∞."""
    mean, se = synthetic(seed)
    v = judge(LADDER, mean, se, theory_d(LADDER), 1.01 * T_INF)
    assert v.status == FAIL
    assert any("d=∞" in r and "misses" in r for r in v.reasons)


@pytest.mark.parametrize("seed", SEEDS)
def test_without_limit_theory(seed):
    mean, se = synthetic(seed)
    assert judge(LADDER, mean, se, theory_d(LADDER)).status == PASS
    assert judge(LADDER, mean, se, 1.01 * theory_d(LADDER)).status == FAIL


@pytest.mark.parametrize("seed", SEEDS)
def test_wrong_rate_fails_when_resolved(seed):
    """A gap of the same size at d = 64 but decaying like d^-1/2 is not the expected d^-1."""
    c_half = 2.0 / 64 * np.sqrt(64)  # c·64^-1/2 = 2/64
    mean, se = synthetic(seed, c=c_half, beta=0.5)
    v = judge(LADDER, mean, se, theory_d(LADDER), T_INF, Criteria(beta0=1.0))
    assert v.status == FAIL
    assert v.numbers["rate_resolved"] is True
    assert abs(v.numbers["beta"] - 0.5) < 0.1
    assert any("fitted rate" in r for r in v.reasons)
    # judged with the right expected rate, the gap passes (flat theory, so that MC itself is
    # exactly of the form y∞ + c·d^-1/2 for the d = ∞ extrapolation too)
    flat = mean - 0.3 / LADDER
    assert judge(LADDER, flat, se, np.full_like(LADDER, T_INF), T_INF, Criteria(beta0=0.5)).status == PASS


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("factor", [1.0, 1.01, 0.99])
def test_huge_standard_error_is_inconclusive_never_pass(seed, factor):
    mean, se = synthetic(seed, se=0.05)
    v = judge(LADDER, mean, se, factor * theory_d(LADDER), factor * T_INF)
    assert v.status == INCONCLUSIVE, v.reasons
    assert v.numbers["min_detectable_rel"] > 0.005
    assert v.reasons[0].startswith("too little power")


def test_zero_standard_error_is_refused():
    mean, se = synthetic(0)
    se[2] = 0.0
    assert judge(LADDER, mean, se, theory_d(LADDER), T_INF).status == FAIL
    se[2] = np.nan
    assert judge(LADDER, mean, se, theory_d(LADDER), T_INF).status == FAIL


def test_weighted_least_squares_recovers_exact_line():
    d = LADDER
    y = 0.5 + 3.0 / d
    fit = extrapolate(d, y, np.full_like(d, 1e-3), 1.0)
    assert np.allclose(fit.coef, [0.5, 3.0], rtol=1e-10)
    assert fit.chi2 < 1e-12 and fit.dof == 3 and fit.p_value > 0.999
    # Birge ratio: inconsistent data inflate the covariance by χ²/dof
    y2 = y + np.array([1, -1, 1, -1, 1]) * 1e-2
    f_small = wls(np.stack([np.ones_like(d), 1 / d], axis=1), y2, np.full_like(d, 1e-3))
    f_big = wls(np.stack([np.ones_like(d), 1 / d], axis=1), y2, np.full_like(d, 1.0))
    assert f_small.chi2 / f_small.dof > 1
    assert np.allclose(f_small.cov, f_big.cov * f_small.chi2 / f_small.dof * 1e-6, rtol=1e-8)


def test_free_rate_fit():
    d = LADDER
    for beta in (0.5, 2 / 3, 1.0):
        beta_hat, beta_se, c = fit_rate(d, 0.7 * d ** (-beta), 1e-4 * d ** (-beta))
        assert abs(beta_hat - beta) < 1e-6 and abs(c - 0.7) < 1e-5 and beta_se < 1e-3


def test_combine():
    assert combine([PASS, PASS]) == PASS
    assert combine([PASS, INCONCLUSIVE]) == INCONCLUSIVE
    assert combine([INCONCLUSIVE, FAIL, PASS]) == FAIL
    assert combine([]) == INCONCLUSIVE


def test_an_undetermined_rate_is_inconclusive_never_fail(monkeypatch):
    """A resolved gap whose rate the fit cannot pin (β = nan ± inf) is not evidence against the theory: INCONCLUSIVE, while a
    wrong limit still FAILs on its own test."""
    import rmtverify.verification.verdict as verdict

    monkeypatch.setattr(verdict, "fit_rate", lambda d, g, se: (float("nan"), float("inf"), float("nan")))
    mean, se = synthetic(0, c=2.0, se_scale=0.01)  # a resolved c/d gap
    v = judge(LADDER, mean, se, theory_d(LADDER), T_INF)
    assert v.status == INCONCLUSIVE and "undetermined" in v.reasons[0], v.reasons
    wrong = judge(LADDER, mean, se, theory_d(LADDER) * 1.01, T_INF * 1.01)
    assert wrong.status == FAIL
    assert verdict.judge_rate(LADDER, np.abs(mean), se, 0.5).status == INCONCLUSIVE


def test_the_markdown_gives_each_sub_tests_gap_se_and_z():
    """Every judged observable (its g∞) and every sub-test of a point gets a row with its gap, SE and z; a check without a gap
    shows dashes, and one the verdict does not count says so."""
    from types import SimpleNamespace

    from rmtverify.reports.render import subtest_rows
    from rmtverify.verification.outcome import SubTest
    from rmtverify.verification.verdict import Verdict

    obs = SimpleNamespace(label="E_gen", status=PASS, verdict=Verdict(PASS, [], {"gap_inf": -3e-4, "gap_inf_se": 1e-4}))
    shown = SimpleNamespace(label="aux", status=None, verdict=None)
    tests = [SubTest("PCA wins: population/recon", PASS, ["r"], {"mean_margin": 0.02, "se": 0.004}),
             SubTest("power for a 1% error", INCONCLUSIVE, ["r"], {"ratio": 0.3}),
             SubTest("push-forward shortcut", PASS, ["r"], {"rel_gap": 0.001, "rel_gap_se": 0.002}, counted=False)]
    rows = subtest_rows(SimpleNamespace(observables={"e_gen": obs, "aux": shown}, subtests=tests))
    assert rows == [["E_gen: g∞", "-3.000e-04", "1.00e-04", "-3.0", PASS, "yes"],
                    ["PCA wins: population/recon", "+2.000e-02", "4.00e-03", "+5.0", PASS, "yes"],
                    ["power for a 1% error", "—", "—", "—", INCONCLUSIVE, "yes"],
                    ["push-forward shortcut", "+1.000e-03", "2.00e-03", "+0.5", PASS, "no"]]
