"""Masked SSR against PCA (claims C5, C6): optimal ridge, Ledoit–Péché sample PCA, PPCA, crossovers, claims."""

from __future__ import annotations

import json
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from rmtverify.models import make_model
from rmtverify.montecarlo.engine import measure_ladder, sample_size
from rmtverify.montecarlo.kernels import population_pca
from rmtverify.theory.equivalents import equivalents
from rmtverify.theory.pca import SampleLaw, crossover, optimal_ridge, population_error, population_limit_crossover


@pytest.mark.parametrize("rho", ["0.5", "0.8", "0.95"])
def test_population_limit_crossover_has_every_digit(rho):
    ctx = mpmath.MPContext()
    ctx.dps = 80
    r = ctx.mpf(Fraction(rho).numerator) / Fraction(rho).denominator
    closed = (2 / ctx.pi) * ctx.atan((1 - r) / (1 + r) * ctx.tan(ctx.pi * r**2 / (1 + r**2)))
    got = ctx.mpf(population_limit_crossover(rho, dps=60))
    assert abs(got - closed) <= ctx.mpf(10) ** -59 * closed
    # and the finite-(α, λ) crossover approaches it as α → ∞, λ → 0
    near = ctx.mpf(crossover(make_model("ar1", rho=rho), "1e10", "1e-12", dps=20).as_dict()["f_star"])
    assert abs(near - closed) < 1e-5


def test_optimal_ridge_is_a_minimum_and_infinite_for_isotropic():
    model = make_model("ar1", rho="0.7")
    r = optimal_ridge(model, "2", dps=25).as_dict()
    lam = Fraction(r["lam_opt"])
    e = lambda l: equivalents(model, "2", l, dps=25).float("e_gen")  # noqa: E731
    assert abs(e(lam) - float(r["e_gen"])) < 1e-15
    assert e(lam * Fraction(11, 10)) > e(lam) and e(lam * Fraction(9, 10)) > e(lam)
    iso = optimal_ridge(make_model("isotropic"), "2", dps=20).as_dict()
    assert iso["lam_opt"] == "inf" and iso["e_gen"].startswith("1.000000000")


@pytest.mark.parametrize("rho,alpha", [("0.3", "0.25"), ("0.7", "2"), ("0.95", "16")])
def test_double_precision_ridge_and_crossover_agree_with_high_precision(rho, alpha):
    """dps=None (the C6 map figure) is one float evaluation: it must match the 25-digit values to ~1e-8."""
    model = make_model("ar1", rho=rho)
    fast, ref = optimal_ridge(model, alpha, dps=None).as_dict(), optimal_ridge(model, alpha, dps=25).as_dict()
    assert abs(float(fast["lam_opt"]) / float(ref["lam_opt"]) - 1) < 1e-8
    assert abs(float(fast["e_gen"]) / float(ref["e_gen"]) - 1) < 1e-12
    lam = Fraction(ref["lam_opt"])
    for metric in ("reconstruction", "masked"):
        f_fast = float(crossover(model, alpha, lam, "population", metric, dps=None).as_dict()["f_star"])
        f_ref = float(crossover(model, alpha, lam, "population", metric, dps=25).as_dict()["f_star"])
        assert 0 < f_ref < 1 and abs(f_fast - f_ref) < 1e-8, (metric, f_fast, f_ref)


def test_population_ppca_at_finite_d_converges_to_the_closed_form():
    model = make_model("ar1", rho="0.6", boundary="circulant")
    th = float(population_error(model, Fraction(1, 4), dps=20, metric="masked"))
    gaps = [abs(population_pca(model, d, [0.25])["masked"][0] - th) for d in (256, 1024)]
    assert gaps[1] < 2e-3 and gaps[1] < gaps[0] + 1e-4
    th_r = float(population_error(model, Fraction(1, 4), dps=20))
    assert abs(population_pca(model, 1024, [0.25])["recon"][0] - th_r) < 2e-3


class SamplePCA:
    """Sample PCA and PPCA errors with k/d = 1/4 (no SSR)."""

    draw = "gram"

    def key(self):
        return "test-sample-pca"

    def __call__(self, sample):
        return sample.pca(None, [0.25])


def test_ledoit_peche_sample_pca_matches_monte_carlo():
    model = make_model("ar1", rho="0.5")
    law = SampleLaw(model, "2")
    assert abs(law.wmass_above[0] - 1.0) < 1e-6  # Σ u_iᵀΣu_i = tr Σ: the weights integrate to tr Σ/d
    run = measure_ladder(SamplePCA(), lambda i: model, "test-lp", [512], [sample_size("2", 512)], 4)
    mc = float(np.mean([v["recon"][0] for v in run.values[0]]))
    assert abs(mc - law.reconstruction_error(0.25)) < 5e-3
    mc_m = float(np.mean([v["masked"][0] for v in run.values[0]]))
    assert abs(mc_m - law.masked_error(0.25)) < 5e-3
    # sample PCA is worse than population PCA
    assert law.reconstruction_error(0.25) > float(population_error(model, Fraction(1, 4), dps=20))


def test_isotropic_sample_pca_weights_are_one():
    law = SampleLaw(make_model("isotropic"), "3")
    assert abs(law.reconstruction_error(0.3) - 0.7) < 1e-4


def test_compare_and_crossover_cli(cli):
    rc, out, err = cli("crossover", "ar1", "--rho", "0.8", "--alpha", "2", "--json")
    assert rc == 0 and 0.1 < float(json.loads(out)["f_star"]) < 0.2
    rc, out, err = cli("compare", "ar1", "--rho", "0.8", "--alpha", "2", "--k-frac", "0.5", "--json")
    assert rc == 0 and json.loads(out)["winner"] == "pca"
    for bad, name in ((("--k-frac", "1.5"), "k_frac"), (("--k-frac", "0.5", "--pca", "best"), "pca"),
                      (("--k-frac", "0.5", "--metric", "x"), "metric")):
        rc, out, err = cli("compare", "ar1", "--rho", "0.8", "--alpha", "2", *bad)
        assert rc == 2 and name in err
