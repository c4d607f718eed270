"""Masking at rate p (SPEC §8, issue 17): the derivation, the estimator against explicit mask averages and brute force,
the equivalent at 50 digits (p → 0 is SSR's E_gen, closed forms, routes), Monte Carlo at growing d, and the optimal rate."""

from __future__ import annotations

import time
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import scipy.optimize
import sympy as sp

import derivations
from derivations.framework import as_sympy, random_points, run
from derivations.masking import p as p_sym
from derivations.symbols import alpha, lam
from rmtverify.core.exceptions import InputError
from rmtverify.core.params import INF
from rmtverify.core.precision import context
from rmtverify.models import make_model
from rmtverify.montecarlo.masking import (
    MaskedRateRegression,
    explicit_mask_average,
    mask_error_from_sample,
    masked_coefficients,
    masked_risk,
)
from rmtverify.theory import masking as theory
from rmtverify.theory.equivalents import equivalents
from rmtverify.theory.masking import mask_error, optimal_mask_rate
from rmtverify.verification.library_checks import masking_checks

F = Fraction


# ---------------------------------------------------------------- the derivation


@pytest.mark.slow  # about 25 s: the 3 × 3 and 2 × 2 symbolic steps, quadratures at 65 digits
def test_derivation_passes_every_check():
    d = derivations.fresh("masking")
    report = run(d, checks=masking_checks(d))
    assert report.ok, [(o.kind, o.target, o.detail) for o in report.outcomes if not o.ok]
    assert {o.target for o in report.outcomes if o.kind == "numeric"} == {s.name for s in d.steps}
    assert [o.target for o in report.outcomes if o.kind == "library"] == [c.name for c in masking_checks(d)]


@pytest.mark.parametrize("step", ["averaged-loss", "mask-moment-3", "scalar-offdiag", "isotropic-e-mask"])
def test_sabotaged_step_is_caught(step):
    d = derivations.fresh("masking")
    s = d.step(step)
    s.rhs = s.side("rhs") * sp.Rational(101, 100)
    s._lazy.pop("rhs", None)
    d.steps = [s]
    report = run(d)
    assert report.failed_steps == [step]
    assert {o.kind for o in report.outcomes if not o.ok} == {"symbolic", "numeric"}


def test_sabotaged_ar1_closed_form_is_caught_by_quadrature():
    d = derivations.fresh("masking")
    s = d.step("ar1-e-mask-quadrature")
    honest = s.numeric

    def off(point, ctx):
        v, ref = honest(point, ctx)
        return v * ctx.mpf("1.01"), ref

    s.numeric = off
    d.steps = [s]
    assert run(d).failed_steps == ["ar1-e-mask-quadrature"]


# ---------------------------------------------------------------- the estimator


@pytest.fixture(scope="module")
def small_data():
    rng = np.random.default_rng(7)
    L = np.array([[1, 0, 0, 0, 0], [0.8, 0.6, 0, 0, 0], [0.3, -0.4, 1, 0, 0], [0, 0.5, 0.2, 0.9, 0], [0.1, 0, -0.6, 0.3, 1.2]])
    return rng.standard_normal((20, 5)) @ L.T  # d = 5, n = 20


def test_estimator_equals_the_average_over_all_masks(small_data):
    for p, ridge in ((0.05, 0.1), (0.3, 0.01), (0.7, 1.0)):
        est = MaskedRateRegression(p, ridge).fit(small_data).coef_
        assert np.all(np.diag(est) == 0)
        enumerated = explicit_mask_average(small_data, p, ridge, n_masks=None)
        assert np.max(np.abs(est - enumerated)) < 1e-12


def test_estimator_equals_sampled_masks_within_their_sampling_error(small_data):
    """16 independent fits on 500 sampled masks per row each: the closed form is within 5 standard errors entrywise;
    the closed form at a wrong rate (p + 0.05) is not."""
    p, lam = 0.3, 0.1
    rng = np.random.default_rng(11)
    fits = np.array([explicit_mask_average(small_data, p, lam, n_masks=500, rng=rng) for _ in range(16)])
    mean, se = fits.mean(axis=0), fits.std(axis=0, ddof=1) / np.sqrt(len(fits))
    off = ~np.eye(5, dtype=bool)
    z = np.abs(mean - MaskedRateRegression(p, lam).fit(small_data).coef_)[off] / se[off]
    assert z.max() < 5, z.max()
    z_wrong = np.abs(mean - MaskedRateRegression(p + 0.05, lam).fit(small_data).coef_)[off] / se[off]
    assert z_wrong.max() > 5, z_wrong.max()


def _enumerated_loss(X, A, p, lam):
    """The training loss by brute force: every one of the 2^d masks of every row, weighted by its probability."""
    n, d = X.shape
    total = 0.0
    for bits in range(2**d):
        m = np.array([(bits >> k) & 1 for k in range(d)], dtype=float)
        w = np.prod(np.where(m == 1, p, 1 - p))
        resid = X - (X * (1 - m)) @ A
        total += w * np.sum(m * resid**2) / (n * p)
    return total + lam * np.sum(A**2)


def test_estimator_equals_brute_force_minimisation(small_data):
    X, p, lam = small_data, 0.25, 0.05
    d = X.shape[1]
    idx = [(i, j) for i in range(d) for j in range(d) if i != j]

    def loss(v):
        A = np.zeros((d, d))
        for (i, j), x in zip(idx, v):
            A[i, j] = x
        return _enumerated_loss(X, A, p, lam)

    # a quadratic: central differences with step 1 are exact (up to rounding), so gradient and Hessian at 0 are recovered
    k = len(idx)
    E = np.eye(k)
    f0 = loss(np.zeros(k))
    g = np.array([(loss(E[i]) - loss(-E[i])) / 2 for i in range(k)])
    H = np.array([[(loss(E[i] + E[j]) - loss(E[i]) - loss(E[j]) + f0) for j in range(k)] for i in range(k)])
    v = np.linalg.solve(H, -g)
    est = masked_coefficients(X.T @ X / X.shape[0], p, lam)
    assert np.max(np.abs(v - np.array([est[i, j] for i, j in idx]))) < 1e-10
    # and an optimiser that knows nothing of the structure agrees to its own tolerance
    opt = scipy.optimize.minimize(loss, np.zeros(k), method="BFGS", options={"gtol": 1e-10})
    assert np.max(np.abs(opt.x - v)) < 1e-5


def test_mask_error_from_sample_is_the_q_formula():
    rng = np.random.default_rng(3)
    d, n, p, lam = 30, 60, 0.2, 0.1
    Sigma = make_model("ar1", rho="0.5").sigma(d)
    Sigma[0, 0] += 2.0
    X = rng.standard_normal((n, d)) @ np.linalg.cholesky(Sigma).T
    S = X.T @ X / n
    c = p / (1 - p)
    Lam = np.diag(np.diag(Sigma))
    Q = np.linalg.inv(S + c * np.diag(np.diag(S)) + lam / (1 - p) ** 2 * np.eye(d))
    q_formula = np.mean(np.diag(Q @ (Sigma + c * Lam) @ Q) / np.diag(Q) ** 2) - c * np.trace(Lam) / d
    assert abs(mask_error_from_sample(S, Sigma, p, lam) - q_formula) < 1e-12
    # the training loss (C = S: d × the per-coordinate masked risk, plus the ridge) of the fit is below any perturbation's
    A = masked_coefficients(S, p, lam)
    base = d * masked_risk(A, S, p) + lam * np.sum(A**2)
    for _ in range(5):
        B = A + 1e-3 * rng.standard_normal((d, d))
        np.fill_diagonal(B, 0)
        assert d * masked_risk(B, S, p) + lam * np.sum(B**2) > base


# ---------------------------------------------------------------- the equivalent at high precision


@pytest.mark.parametrize("name, options, d", [
    ("isotropic", {}, INF),
    ("ar1", {"rho": "0.6"}, INF),
    ("ar1", {"rho": "-0.3"}, 40),
    ("spiked", {"theta": "3", "spike": "e1"}, 12),
    ("custom", {"sigma": [[2, F(1, 2), 0], [F(1, 2), 1, F(1, 3)], [0, F(1, 3), F(3, 2)]]}, 3),
])
def test_p_to_zero_recovers_ssr_e_gen_to_45_digits(name, options, d):
    model = make_model(name, **options)
    masked = mask_error(model, 2, "0.1", F(1, 10**60), d=d, dps=50)
    ssr = equivalents(model, 2, "0.1", d=d, dps=50)
    ctx = context(60)
    gap = abs(ctx.mpf(masked.as_dict()["e_mask"]) - ctx.mpf(ssr.as_dict()["e_gen"]))
    assert gap < ctx.mpf(10) ** -45, (masked.as_dict()["e_mask"], ssr.as_dict()["e_gen"])


def test_isotropic_closed_form_agrees_with_the_general_route_at_50_digits():
    res = derivations.get("masking").results["e_mask_isotropic"]
    ctx = context(60)
    for point in random_points({alpha: (F(1, 5), 8), lam: (F(1, 100), 3), p_sym: (F(1, 50), F(49, 50))}, "test-isotropic-closed"):
        lib = mask_error(make_model("isotropic"), point[alpha], point[lam], point[p_sym], dps=50)
        ref = res.expr.evalf(60, subs=as_sympy(point))
        assert abs(ctx.mpf(lib.as_dict()["e_mask"]) - ctx.mpf(str(ref))) < ctx.mpf(10) ** -48
        assert lib.route == "effective-ridge"
        lam_eff = point[lam] / (1 - point[p_sym]) ** 2 + point[p_sym] / (1 - point[p_sym])  # σ = 1
        assert abs(ctx.mpf(lib.as_dict()["lam_eff"]) - ctx.mpf(lam_eff.numerator) / lam_eff.denominator) < ctx.mpf(10) ** -48


def test_routes_agree_where_they_overlap():
    """The dense route (ball arithmetic) on a constant-diagonal AR(1) Σ equals the effective-ridge route; on an e1 spike it
    equals the diagonal route (30 digits)."""
    ctx = context(45)
    F_ = theory.Formulas(ctx)
    for model, d in ((make_model("ar1", rho="0.7"), 16), (make_model("spiked", theta="2", spike="e1"), 10)):
        route, vals = theory.mask_values_in(model, F(2), F(1, 10), F(3, 10), d, ctx)
        dense = theory._dense(model, F(2), F(1, 10), ctx.mpf(3) / 10, d, ctx, F_)
        assert route in ("effective-ridge", "diagonal")
        for key in ("e_mask", "e", "t2", "t3"):
            assert abs(vals[key] - dense[key]) < ctx.mpf(10) ** -30 * abs(vals[key]), key


def test_double_path_agrees_with_30_digits_even_near_p_one():
    model = make_model("ar1", rho="0.6")
    for p in ("0.15", "0.999999"):
        hi = mask_error(model, 2, "0.1", p, dps=30).as_dict()["e_mask"]
        lo = mask_error(model, 2, "0.1", p, dps=None).e_mask
        assert abs(lo - float(hi)) < 1e-13


def test_mask_rate_outside_the_open_interval_is_refused():
    model = make_model("isotropic")
    for bad in (0, 1, "-0.1", "1.5", "nan", "inf"):
        with pytest.raises(InputError) as info:
            mask_error(model, 2, "0.1", bad)
        assert info.value.parameter == "mask_rate" and "(0, 1)" in info.value.message
    with pytest.raises(InputError):
        MaskedRateRegression(1.0, 0.1)


# ---------------------------------------------------------------- Monte Carlo at growing d


def _verdict(ds, means, ses, theory_values):
    """PASS when every gap is within 4 SE and the d = ∞ extrapolation a of gap = a + b/d (weighted least squares) is within
    4 of its standard errors."""
    gaps = np.array(means) - np.array(theory_values)
    ses = np.array(ses)
    within = bool(np.all(np.abs(gaps) <= 4 * ses))
    W = np.diag(1 / ses**2)
    D = np.stack([np.ones(len(ds)), 1 / np.array(ds, dtype=float)], axis=1)
    cov = np.linalg.inv(D.T @ W @ D)
    a, _ = cov @ D.T @ W @ gaps
    return within and abs(a) <= 4 * np.sqrt(cov[0, 0]), gaps, a, np.sqrt(cov[0, 0])


def _monte_carlo(model, alpha, lam, p, ds, seeds):
    means, ses, theories = [], [], []
    for d in ds:
        n = int(round(alpha * d))
        Sigma = model.sigma(d)
        vals = []
        for s in range(seeds):
            X = model.sample(n, d, np.random.default_rng([17, d, s]))
            vals.append(mask_error_from_sample(X.T @ X / n, Sigma, p, lam))
        means.append(np.mean(vals))
        ses.append(np.std(vals, ddof=1) / np.sqrt(seeds))
        theories.append(mask_error(model, F(alpha), F(str(lam)), F(str(p)), d=d, dps=None).e_mask)
    return means, ses, theories


# the e1 spike starts at d = 200: at d = 100 its gap is -0.0057 (6.6 SE, 0.4 %), a finite-size bias that falls to -0.0009
# at d = 200 and -0.0003 at d = 400 (the fluctuation of the spiked S_11, variance 2(1 + θ)²/n, enters Q_p through Diag(S))
MC_CASES = [("ar1", {"rho": "0.6"}, 0.3, (100, 200, 400)), ("spiked", {"theta": "3", "spike": "e1"}, 0.15, (200, 400, 800))]


@pytest.mark.parametrize("name, options, p, ds", MC_CASES)
def test_monte_carlo_converges_to_the_finite_d_theory_and_rejects_a_1_percent_error(name, options, p, ds):
    t0 = time.perf_counter()
    model = make_model(name, **options)
    means, ses, theories = _monte_carlo(model, 2, 0.1, p, ds, seeds=16)
    ok, gaps, a, se_a = _verdict(ds, means, ses, theories)
    print(name, "gaps", gaps, "SE", ses, "extrapolated", a, "+-", se_a)
    assert ok, (gaps, ses, a, se_a)
    bad, *_ = _verdict(ds, means, ses, [1.01 * t for t in theories])
    assert not bad
    assert time.perf_counter() - t0 < 30


# ---------------------------------------------------------------- the optimal rate


def test_optimal_rate_ar1_is_an_interior_minimum():
    model = make_model("ar1", rho="0.6")
    opt = optimal_mask_rate(model, 2, "0.1", dps=30)
    assert opt.endpoint is None
    p_star = Fraction(opt.as_dict()["mask_rate"])
    e_star = float(opt.as_dict()["e_mask"])
    assert 0 < p_star < 1
    for dp in (F(-1, 100), F(1, 100)):
        assert mask_error(model, 2, "0.1", p_star + dp, dps=None).e_mask > e_star
    # a stationary point to the working precision: E(p* ± 10⁻⁸) exceeds E(p*) by O(10⁻¹⁶) only
    ctx = context(40)
    for dp in (F(-1, 10**8), F(1, 10**8)):
        e = ctx.mpf(mask_error(model, 2, "0.1", p_star + dp, dps=30).as_dict()["e_mask"])
        assert 0 <= e - ctx.mpf(opt.as_dict()["e_mask"]) < ctx.mpf(10) ** -14


def test_optimal_rate_isotropic_is_the_end_p_to_one():
    opt = optimal_mask_rate(make_model("isotropic"), 2, "0.1", dps=30)
    assert opt.endpoint == "p -> 1"
    assert mpmath.mpf(opt.as_dict()["e_mask"]) == 1
    # E_mask decreases to 1 along the scan, never below (nothing beats predicting 0 when Σ = I)
    vals = [v for _, v in opt.scan]
    assert all(b <= a for a, b in zip(vals, vals[1:])) and min(vals) >= 1 and vals[0] - vals[-1] > 0.4


def test_optimal_rate_and_ridge_jointly_ar1_is_ssr_at_its_optimal_ridge():
    model = make_model("ar1", rho="0.6")
    opt = optimal_mask_rate(model, 2, dps=20, lam_opt=True)
    assert opt.endpoint == "p -> 0"
    lam_star = Fraction(opt.as_dict()["lam_star"])
    e_star = float(opt.as_dict()["e_mask"])
    assert abs(equivalents(model, 2, lam_star, dps=None).e_gen - e_star) < 1e-12
    for f in (F(9, 10), F(11, 10)):
        assert equivalents(model, 2, lam_star * f, dps=None).e_gen > e_star
        assert mask_error(model, 2, lam_star * f, "0.02", dps=None).e_mask > e_star


# ---------------------------------------------------------------- the optimal rate: a sweep over (ρ, α, λ), ends included

_SWEEP = [(r, a, lam_) for r in ("0.1", "0.5", "0.9", None) for a in ("1/4", "1", "4") for lam_ in ("1/100", "1/10", "1")]


def _logit_grid_rates(u_star=None):
    """Rates on a logit grid from about 2e-9 to 1 − 2e-9, the rates 1e-6 and 1 − 1e-6, and neighbours of u* (interior)."""
    us = list(np.linspace(-20, 20, 81))
    if u_star is not None:
        us += [u_star + s * h for h in (1e-3, 1e-2, 1e-1) for s in (-1, 1)]
    return [1 / (1 + np.exp(-u)) for u in us] + [1e-6, 1 - 1e-6]


@pytest.mark.parametrize("rho, a, ridge", _SWEEP)  # 36 points, about 30 s in all
def test_optimal_rate_sweep_is_a_global_minimum_with_honest_ends(rho, a, ridge):
    """At each (ρ, α, λ) (AR(1) at d = ∞; ρ = None: isotropic): E_mask(p*) is below E_mask on a fine logit grid reaching
    within 1e-6 of both ends (double path, within 1e-13 relative); an end is declared only where E_mask (30 digits) falls
    strictly toward its limit along the last logit points, and an interior p* beats both limits; dps=30 and dps=None agree
    on the endpoint and on every digit the double path prints."""
    model = make_model("ar1", rho=rho) if rho else make_model("isotropic")
    hi, lo = optimal_mask_rate(model, a, ridge, dps=30), optimal_mask_rate(model, a, ridge, dps=None)
    assert hi.endpoint == lo.endpoint
    for key in ("mask_rate", "e_mask"):
        text, exact_ = lo.as_dict()[key], mpmath.mpf(hi.as_dict()[key])
        mant = text.split("e")[0]
        places = len(mant.split(".")[1]) if "." in mant else 0
        assert abs(mpmath.mpf(text) - exact_) <= mpmath.mpf(10) ** (int(text.split("e")[1]) if "e" in text else 0) / 10**places / 2, key
    ctx = context(40)
    e_star, p_star = ctx.mpf(hi.as_dict()["e_mask"]), ctx.mpf(hi.as_dict()["mask_rate"])
    u_star = float(ctx.log(p_star / (1 - p_star))) if hi.endpoint is None else None
    for q in _logit_grid_rates(u_star):
        assert mask_error(model, a, ridge, q, dps=None).e_mask >= float(e_star) * (1 - 1e-13), q
    e_one = ctx.mpf(1)  # tr Σ/d: the limit p → 1
    e_zero = ctx.mpf(equivalents(model, a, ridge, dps=30).as_dict()["e_gen"])  # SSR's E_gen: the limit p → 0
    if hi.endpoint is None:
        assert 0 < p_star < 1 and e_star < e_one and e_star < e_zero
        return
    limit, us = {"p -> 1": (e_one, (8, 12, 16, 20)), "p -> 0": (e_zero, (-8, -12, -16, -20))}[hi.endpoint]
    assert p_star == (1 if hi.endpoint == "p -> 1" else 0) and abs(e_star - limit) < ctx.mpf(10) ** -29
    along = [ctx.mpf(mask_error(model, a, ridge, F(ctx.nstr(1 / (1 + ctx.exp(-u)), 40)), dps=30).as_dict()["e_mask"]) for u in us]
    assert all(x > y > limit for x, y in zip(along, along[1:])), along  # monotone toward the end, above its limit


def test_optimal_rate_near_p_one_reported_case():
    """AR(1) ρ = 0.1, α = 1/4, λ = 1/10: the minimum is interior at p* = 0.99932…, E_mask = 0.99999994 < 1 = E_mask(p → 1);
    dps=30 used to crash in an unbracketed secant and dps=None to run off to p = 1 − 1.4e-12."""
    model = make_model("ar1", rho="0.1")
    hi = optimal_mask_rate(model, "1/4", "1/10", dps=30).as_dict()
    assert hi["endpoint"] is None and hi["mask_rate"] == "0.999324696880415394800205626959"
    assert hi["e_mask"].startswith("0.99999993913154371348")
    lo = optimal_mask_rate(model, "1/4", "1/10", dps=None).as_dict()
    assert lo["endpoint"] is None and lo["mask_rate"] == "0.999324696880"
    at50 = optimal_mask_rate(model, "1/4", "1/10", dps=50).as_dict()
    assert at50["mask_rate"].startswith(hi["mask_rate"][:-1])


def test_optimal_rate_and_ridge_jointly_never_crash_and_state_their_ends():
    for model, a in ((make_model("ar1", rho="0.1"), "1/4"), (make_model("isotropic"), 1)):
        opt = optimal_mask_rate(model, a, dps=None, lam_opt=True)
        assert opt.endpoint in ("p -> 0", "p -> 1")
        if opt.endpoint == "p -> 0":  # SSR at its optimal ridge, a bracketed minimum: E_gen is higher on both sides
            lam_star = Fraction(opt.as_dict()["lam_star"])
            for f in (F(99, 100), F(101, 100)):
                assert equivalents(model, a, lam_star * f, dps=None).e_gen > float(opt.e_mask)


def test_masked_risk_is_the_three_operand_contraction():
    rng = np.random.default_rng(5)
    for d in (5, 40):
        A, B = rng.standard_normal((d, d)), rng.standard_normal((d, d))
        C = B @ B.T / d
        A0 = A - np.diag(np.diag(A))
        quad = np.einsum("lk,lm,mk->k", A0, C, A0)
        p = 0.3
        ref = np.mean(np.diag(C) - 2 * (1 - p) * np.einsum("lk,lk->k", A0, C) + (1 - p) ** 2 * quad
                      + p * (1 - p) * (np.diag(C) @ (A0 * A0)))
        assert abs(masked_risk(A, C, p) - ref) < 1e-12 * max(1.0, abs(ref))
