"""BBP thresholds and outliers (isotropic base) and the AR(1) SSR–PCA crossover, against closed forms."""

from __future__ import annotations

import mpmath
import pytest

from rmtverify.bbp import outlier, threshold
from rmtverify.errors import InputError
from rmtverify.pca import crossover_ar1, population_error_ar1


def _digits(a: str, b: str, ctx) -> float:
    x, y = ctx.mpf(a), ctx.mpf(b)
    return float(-ctx.log10(abs(x - y) / abs(y))) if x != y else float("inf")


@pytest.mark.parametrize("dps", [50, 500])
def test_threshold_matches_closed_form_to_every_digit(dps):
    ctx = mpmath.MPContext()
    ctx.dps = dps + 20
    for a in ("2", "0.3", "7/3"):
        th = threshold(alpha=a, dps=dps).as_dict()["theta_c"]
        ref = ctx.nstr(1 / ctx.sqrt(ctx.mpf(mpmath.mpf(1)) * _frac(ctx, a)), dps + 15)
        assert _digits(th, ref, ctx) >= dps - 1


def _frac(ctx, s):
    from fractions import Fraction

    q = Fraction(s)
    return ctx.mpf(q.numerator) / q.denominator


def test_threshold_is_fast_at_100_digits():
    import time

    t = time.perf_counter()
    threshold(alpha="2", dps=100)
    assert time.perf_counter() - t < 1.0


def test_ssr_threshold_equals_sample_threshold_for_every_lambda():
    base = threshold(alpha="2", dps=30).as_dict()["theta_c"]
    for lam in ("0.01", "1", "10"):
        assert threshold(alpha="2", lam=lam, matrix="ssr", dps=30).as_dict()["theta_c"] == base


def test_outlier_closed_forms_and_no_outlier_below_threshold():
    ctx = mpmath.MPContext()
    ctx.dps = 40
    th, a = ctx.mpf(3), ctx.mpf(2)
    o = outlier(theta="3", alpha="2", dps=30)
    assert o.separated
    assert abs(ctx.mpf(o.as_dict()["location"]) - (1 + th) * (1 + 1 / (a * th))) < ctx.mpf(10) ** -28
    assert abs(ctx.mpf(o.as_dict()["overlap"]) - (1 - 1 / (a * th**2)) / (1 + 1 / (a * th))) < ctx.mpf(10) ** -28
    below = outlier(theta="0.5", alpha="2", dps=30)
    assert not below.separated and below.as_dict()["overlap"] == "0.0"
    assert below.as_dict()["location"] == below.as_dict()["bulk_edge"]
    # a perturbed outlier equation is detected: the location differs from ψ(1+θ)·1.01 at every digit that matters
    assert abs(ctx.mpf(o.as_dict()["location"]) * ctx.mpf("1.01") - (1 + th) * (1 + 1 / (a * th))) > ctx.mpf("0.01")


def test_ssr_outlier_needs_lambda():
    with pytest.raises(InputError, match="lam"):
        outlier(theta="3", alpha="2", matrix="ssr")


def test_pca_error_ends_and_crossover_population_limit():
    assert population_error_ar1("0", "0.7", dps=30).as_str().startswith("1.0000000000")
    assert float(population_error_ar1("1", "0.7", dps=30).as_str()) < 1e-25
    # crossover at large α and tiny λ approaches the α = ∞, λ → 0 closed form
    ctx = mpmath.MPContext()
    ctx.dps = 30
    r = ctx.mpf("0.8")
    closed = (2 / ctx.pi) * ctx.atan((1 - r) / (1 + r) * ctx.tan(ctx.pi * r**2 / (1 + r**2)))
    near = ctx.mpf(crossover_ar1("0.8", "1e9", "1e-12", dps=20).as_dict()["f_star"])
    assert abs(near - closed) < 1e-6
    with pytest.raises(InputError, match="k_frac"):
        population_error_ar1("1.5", "0.5")
