"""Hard parameter regions (issue 8): each checked against a closed form or a second method.

ρ = ±0.999 (d = ∞ symbol against an exact periodic AR(1) at d = 20000), α within 1e-6 of 1 with
λ = 1e-10 (cancellation in the κ equation), λ = 1e6, dps = 1000, θ within 1e-30 of θ_c at 50
digits, and Stieltjes roots started from real guesses.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest

from rmtverify.models import make_model
from rmtverify.theory.bbp import outlier, threshold
from rmtverify.theory.equivalents import equivalents
from rmtverify.theory.spectrum import spectral_law


def _ctx(dps):
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


def _iso_closed(ctx, alpha, lam):
    """κ from its quadratic, E_gen = 1/(1 − 1/(α(1+κ)²)), written out independently of the library."""
    a, l = ctx.mpf(Fraction(alpha).numerator) / Fraction(alpha).denominator, ctx.mpf(Fraction(lam).numerator) / Fraction(lam).denominator
    b = a - a * l - 1
    kappa = (-b + ctx.sqrt(b * b + 4 * a * a * l)) / (2 * a)
    return kappa, 1 / (1 - 1 / (a * (1 + kappa) ** 2))


def _digits(ctx, x, ref):
    x = ctx.mpf(x)
    return 999 if x == ref else float(-ctx.log10(abs(x - ref) / abs(ref)))


@pytest.mark.parametrize(
    "alpha,lam",
    [("0.999999", "1e-10"), ("1.000001", "1e-10"), ("1", "1e-10"), ("2", "1e6"), ("0.5", "1e6"), ("1e-4", "1e-10")],
)
def test_isotropic_hard_regions_match_the_closed_form_to_every_digit(alpha, lam):
    """Near α = 1 with λ → 0 the κ equation cancels to ~16 bits; the solver must still deliver 50 digits."""
    r = equivalents(make_model("isotropic"), alpha, lam, dps=50)
    ctx = _ctx(120)
    kappa, e_gen = _iso_closed(ctx, alpha, lam)
    d = r.as_dict()
    assert _digits(ctx, d["kappa"], kappa) >= 48.5, (d["kappa"], kappa)
    assert _digits(ctx, d["e_gen"], e_gen) >= 48.5, (d["e_gen"], e_gen)


def test_near_alpha_one_errors_are_large_but_finite():
    # E_gen ≈ 5e4 at α = 1 ± 1e-6, λ = 1e-10: the two sides of α = 1 agree to ~6 digits, not 50
    lo = equivalents(make_model("isotropic"), "0.999999", "1e-10", dps=30).float("e_gen")
    hi = equivalents(make_model("isotropic"), "1.000001", "1e-10", dps=30).float("e_gen")
    assert 4.9e4 < lo < 5.1e4 and 4.9e4 < hi < 5.1e4 and lo != hi


def test_dps_1000():
    r = equivalents(make_model("isotropic"), "0.7", "0.3", dps=1000)
    ctx = _ctx(1100)
    kappa, e_gen = _iso_closed(ctx, "0.7", "0.3")
    assert _digits(ctx, r.as_dict()["e_gen"], e_gen) >= 998
    assert _digits(ctx, r.as_dict()["kappa"], kappa) >= 998


@pytest.mark.parametrize("rho", ["0.999", "-0.999"])
@pytest.mark.parametrize("alpha,lam", [("2", "0.1"), ("0.5", "0.001")])
def test_ar1_near_unit_correlation_matches_a_large_circulant(rho, alpha, lam):
    """Correlation length ℓ ≈ 1000: the periodic AR(1) at d = 20000 ≫ ℓ is within e^{-20} of d = ∞."""
    lim = equivalents(make_model("ar1", rho=rho), alpha, lam, dps=30).float("e_gen")
    big = equivalents(make_model("ar1", rho=rho, boundary="circulant"), alpha, lam, d=20000, dps=None).float("e_gen")
    assert abs(big - lim) <= 1e-11 * lim, (lim, big)
    # and ρ → −ρ leaves the spectrum of Σ, hence every error, unchanged
    other = equivalents(make_model("ar1", rho=str(-Fraction(rho))), alpha, lam, dps=30).float("e_gen")
    assert abs(other - lim) <= 1e-25 * lim


def test_theta_within_1e_30_of_the_threshold():
    """Isotropic base, delocalised spike, α = 2: θ_c = √γ = 1/√2; just above it the outlier sits at
    (1+θ)(1+γ/θ) and the overlap (1 − γ/θ²)/(1 + γ/θ) is O(1e-30), both to 50 digits."""
    ctx = _ctx(80)
    gamma = ctx.mpf(1) / 2
    tc = threshold(alpha="2", dps=50)
    assert _digits(ctx, tc.theta_c, ctx.sqrt(gamma)) >= 49
    theta = Fraction(ctx.nstr(ctx.sqrt(gamma) + ctx.mpf("1e-30"), 70))
    o = outlier(theta=theta, alpha="2", dps=50).as_dict()
    th = ctx.mpf(theta.numerator) / theta.denominator
    assert o["separated"] is True
    assert _digits(ctx, o["location"], (1 + th) * (1 + gamma / th)) >= 48
    overlap = (1 - gamma / th**2) / (1 + gamma / th)
    assert 1e-31 < overlap < 1e-29
    assert _digits(ctx, o["overlap"], overlap) >= 15  # the overlap itself is a difference of O(1) terms
    below = outlier(theta=Fraction(ctx.nstr(ctx.sqrt(gamma) - ctx.mpf("1e-30"), 70)), alpha="2", dps=50).as_dict()
    assert below["separated"] is False and ctx.mpf(below["overlap"]) == 0


@pytest.mark.parametrize("guess", [0, "0.3", 1, 5, 50, "-0.5", "-0.9"])
def test_stieltjes_root_from_a_real_guess_is_the_complex_one(guess):
    """A real start at a real point inside the support would stay real under Newton's method; the
    continuation in Im w still lands on the root with Im g > 0 (checked against Marchenko–Pastur)."""
    law = spectral_law(make_model("isotropic"), "2", "0.1", dps=30)
    ctx = law.ctx
    (a, b), = law.support()
    x = (2 * a + b) / 3
    g = law.g(x, start=ctx.mpf(guess))
    assert ctx.im(g) > 0
    assert abs(g - law.g(x)) <= ctx.mpf(10) ** -25 * abs(g)
    # the trap the continuation avoids: Newton on the real axis from a real guess stays real
    w = 1 / (1 - ctx.mpf(x))
    trapped = law._newton_mp(ctx.mpc(w, 0), ctx.mpc(guess), ctx.mpf(10) ** -20, 60, strict=False)
    assert ctx.im(trapped) == 0
