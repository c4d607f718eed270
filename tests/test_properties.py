"""Property-based tests (hypothesis): invariances of Â and monotonicity and agreement of the theory,
over parameters drawn from the declared typical ranges plus their edges (rmtverify.params)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rmtverify.core.params import PARAMETERS
from rmtverify.models import make_model
from rmtverify.montecarlo.estimators import MaskedSSR
from rmtverify.theory.equivalents import equivalents

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def typical(name, lo_pad=Fraction(0), hi_pad=Fraction(0)):
    """Rationals from a parameter's typical range, its endpoints included (hypothesis shrinks toward them)."""
    lo, hi = (Fraction(v) for v in PARAMETERS[name].typical)
    lo, hi = lo + lo_pad, hi - hi_pad
    return st.one_of(st.sampled_from([lo, hi]), st.fractions(min_value=lo, max_value=hi, max_denominator=1000))


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 30), d=st.integers(2, 12), lam=typical("lam"))
def test_ssr_is_permutation_equivariant(seed, n, d, lam):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    perm = rng.permutation(d)
    A = MaskedSSR(lam).fit(X).coef_
    Ap = MaskedSSR(lam).fit(X[:, perm]).coef_
    np.testing.assert_allclose(Ap, A[np.ix_(perm, perm)], rtol=1e-9, atol=1e-9 * max(1.0, np.abs(A).max()))


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 30), d=st.integers(2, 12), lam=typical("lam"), c=st.floats(0.05, 20))
def test_ssr_is_invariant_under_scaling_x_by_c_and_lambda_by_c2(seed, n, d, lam, c):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    A = MaskedSSR(lam).fit(X).coef_
    Ac = MaskedSSR(Fraction(repr(c * c)) * lam).fit(c * X).coef_
    np.testing.assert_allclose(Ac, A, rtol=1e-7, atol=1e-7 * max(1.0, np.abs(A).max()))


def _model(kind, rho):
    return make_model("isotropic") if kind == "isotropic" else make_model("ar1", rho=rho)


@SETTINGS
@given(kind=st.sampled_from(["isotropic", "ar1"]), rho=typical("rho"), alpha=typical("alpha"), lam=typical("lam", lo_pad=Fraction(0)),
       factor=st.fractions(Fraction(11, 10), Fraction(10), max_denominator=100))
def test_kappa_increases_with_lambda_and_egen_stays_above_the_floor(kind, rho, alpha, lam, factor):
    model = _model(kind, rho)
    a = equivalents(model, alpha, lam, dps=20)
    b = equivalents(model, alpha, lam * factor, dps=20)
    assert b.kappa > a.kappa
    assert a.dkappa_dlam > 0
    floor = 1.0 if kind == "isotropic" else float((1 - rho**2) / (1 + rho**2))
    assert float(a.e_gen) >= floor * (1 - 1e-15)
    assert float(b.e_gen) >= floor * (1 - 1e-15)


@SETTINGS
@given(alpha=typical("alpha"), lam=typical("lam"))
def test_isotropic_closed_form_solve_and_finite_d_agree(alpha, lam):
    import mpmath

    from rmtverify.core.precision import context
    from rmtverify.symbolic.formulas import bind

    ctx = context(40)
    closed = bind("isotropic.e_gen", ctx, record=False)(
        ctx.mpf(alpha.numerator) / alpha.denominator, ctx.mpf(lam.numerator) / lam.denominator
    )
    solved = equivalents(make_model("isotropic"), alpha, lam, dps=30).e_gen
    assert abs(solved - closed) <= ctx.mpf(10) ** -29 * closed
    finite = equivalents(make_model("isotropic"), alpha, lam, d=64, dps=None).float("e_gen")
    assert abs(finite - float(closed)) <= 1e-12 * float(closed)
    del mpmath


@settings(max_examples=12, deadline=None)
@given(rho=typical("rho", lo_pad=Fraction(2, 10), hi_pad=Fraction(2, 10)), alpha=typical("alpha"),
       lam=st.fractions(Fraction(1, 20), Fraction(5), max_denominator=100))
def test_ar1_limit_agrees_with_a_large_circulant(rho, alpha, lam):
    """The d = ∞ closed form and the exact periodic AR(1) at d = 8192 (double precision) agree to O(e^{-d/ℓ})."""
    lim = equivalents(make_model("ar1", rho=rho), alpha, lam, dps=20).float("e_gen")
    big = equivalents(make_model("ar1", rho=rho, boundary="circulant"), alpha, lam, d=8192, dps=None).float("e_gen")
    assert abs(big - lim) <= 1e-9 * lim
