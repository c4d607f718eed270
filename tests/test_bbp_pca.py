"""BBP thresholds and outliers (isotropic base) and the AR(1) SSR–PCA crossover, against closed forms."""

from __future__ import annotations

import mpmath
import pytest

from rmtverify.core.exceptions import InputError
from rmtverify.models import make_model
from rmtverify.theory.bbp import outlier, threshold
from rmtverify.theory.pca import crossover, population_error


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
    ar = make_model("ar1", rho="0.7")
    assert population_error(ar, "0", dps=30).startswith("1.0000000000")
    assert float(population_error(ar, "1", dps=30)) < 1e-25
    # crossover at large α and tiny λ approaches the α = ∞, λ → 0 closed form
    ctx = mpmath.MPContext()
    ctx.dps = 30
    r = ctx.mpf("0.8")
    closed = (2 / ctx.pi) * ctx.atan((1 - r) / (1 + r) * ctx.tan(ctx.pi * r**2 / (1 + r**2)))
    near = ctx.mpf(crossover(make_model("ar1", rho="0.8"), "1e9", "1e-12", dps=20).as_dict()["f_star"])
    assert abs(near - closed) < 1e-6
    with pytest.raises(InputError, match="k_frac"):
        population_error(make_model("ar1", rho="0.5"), "1.5")


# ---------------------------------------------------------------- issue 5: general bases, e1, certification


@pytest.mark.parametrize("dps", [50, 500])
def test_certified_interval_contains_the_closed_form(dps):
    from decimal import Decimal, localcontext

    th = threshold(alpha="2", dps=dps, certify=True).as_dict()
    assert th["certified"] is True
    with localcontext() as dc:
        dc.prec = dps + 40
        exact = Decimal(1) / Decimal(2).sqrt()
        lo, hi = Decimal(th["theta_c_lo"]), Decimal(th["theta_c_hi"])
        assert lo <= exact <= hi
        assert hi - lo <= Decimal(10) ** (-(dps - 5))


def test_e1_threshold_of_ssr_is_higher_depends_on_lambda_and_can_be_infinite():
    ctx = mpmath.MPContext()
    ctx.dps = 40
    a, l = ctx.mpf("0.25"), ctx.mpf(2)
    b = a - a * l - 1
    kappa = (-b + ctx.sqrt(b * b + 4 * a * a * l)) / (2 * a)
    g = 1 / ctx.sqrt(a)
    closed = g * (1 + g) / ((1 + g) - ((1 + g) ** 2 + l) / (1 + kappa))
    th = threshold(alpha="0.25", lam="2", spike="e1", matrix="ssr", dps=30, certify=True).as_dict()
    assert abs(ctx.mpf(th["theta_c"]) - closed) < ctx.mpf(10) ** -28
    assert ctx.mpf(th["theta_c_lo"]) <= closed <= ctx.mpf(th["theta_c_hi"])
    assert ctx.mpf(th["theta_c"]) > 2  # the sample threshold √γ = 2
    other = threshold(alpha="0.25", lam="5", spike="e1", matrix="ssr", dps=30).as_dict()["theta_c"]
    assert other != th["theta_c"]
    none = threshold(alpha="2", lam="0.1", spike="e1", matrix="ssr", dps=30).as_dict()
    assert none["theta_c"] == "inf" and "no outlier separates" in none["reason"]
    # the sample covariance does not care where the spike points
    assert threshold(alpha="0.25", spike="e1", dps=30).as_dict()["theta_c"].startswith("2.00000000000")


def test_ar1_thresholds_match_quadrature_of_psi():
    ctx = mpmath.MPContext()
    ctx.dps = 40
    r, a = ctx.mpf("0.5"), ctx.mpf(2)
    f = lambda om: (1 - r**2) / (1 - 2 * r * ctx.cos(om) + r**2)  # noqa: E731
    fmax = (1 + r) / (1 - r)

    def psi_p(lv):
        return 1 - (1 / a) * ctx.quad(lambda om: f(om) ** 2 / (lv - f(om)) ** 2, [0, ctx.pi / 8, ctx.pi]) / ctx.pi

    l_c = ctx.findroot(psi_p, (fmax * (1 + ctx.mpf(10) ** -8), 3 * fmax + 2), solver="anderson")
    flat = threshold(alpha="2", base="ar1", rho="0.5", spike="flat", dps=30).as_dict()["theta_c"]
    assert abs(ctx.mpf(flat) - (l_c - fmax)) < ctx.mpf(10) ** -25
    # delocalised spikes: Â has the threshold of S at every λ
    for spike in ("flat", "random"):
        s = threshold(alpha="2", base="ar1", rho="0.5", spike=spike, dps=30).as_dict()["theta_c"]
        for lam in ("0.01", "1"):
            assert threshold(alpha="2", base="ar1", rho="0.5", spike=spike, lam=lam, matrix="ssr", dps=30).as_dict()["theta_c"] == s
    with pytest.raises(InputError, match="spike"):
        threshold(alpha="2", base="ar1", rho="0.5", spike="e1", lam="0.1", matrix="ssr")


def test_threshold_cli(cli):
    import json

    rc, out, err = cli("threshold", "spiked", "--spike", "flat", "--alpha", "2", "--lam", "0.1", "--dps", "100", "--certify", "--json")
    assert rc == 0, err
    res = json.loads(out)
    assert res["theta_c"].startswith("0.70710678118654752440084436210484903928483593768847403658833986899536623923105")
    rc, out, err = cli("outlier", "spiked", "--alpha", "2", "--matrix", "sample", "--theta", "3", "--json")
    assert rc == 0 and json.loads(out)["overlap"].startswith("0.809523809523809523")
    rc, out, err = cli("threshold", "spiked", "--alpha", "2", "--matrix", "ssr")
    assert rc == 2 and "lam" in err


@pytest.mark.parametrize(
    "kw",
    [
        dict(alpha="2", matrix="sample"),
        dict(alpha="2", lam="1/10", matrix="ssr", base="ar1", rho="1/2", spike="flat"),
        dict(alpha="1/4", lam="2", matrix="ssr", spike="e1"),
    ],
)
def test_outlier_curve_equals_outlier_point_by_point(kw):
    """θ_c and the bulk are solved once per precision along a curve; every digit must be unchanged."""
    from rmtverify.theory.bbp import outlier, outlier_curve

    thetas = ["0.5", "1", "3", "6", "12"]
    curve = outlier_curve(thetas, dps=25, **kw)
    for t, o in zip(thetas, curve):
        assert o.as_dict() == outlier(t, dps=25, **kw).as_dict()
    assert any(o.separated for o in curve) and not all(o.separated for o in curve)
