"""Masking at rate p from the command line (issue 17): theory --mask-rate P|opt, simulate --mask-rate P, and the digits
of the double-precision routes."""

from __future__ import annotations

import json

import mpmath
import pytest
from conftest import printed_digits_right


def _json(cli, *argv):
    rc, out, err = cli(*argv, "--json")
    assert rc == 0, err
    return json.loads(out)


@pytest.mark.parametrize("model", [("isotropic",), ("ar1", "--rho", "0.6"), ("spiked", "--theta", "3", "--spike", "e1", "--d", "40")])
def test_mask_rate_to_zero_is_ssr_to_every_digit(cli, model):
    """E_mask(p) − E_gen = O(p): at p = 1e-60 the 40 printed digits are SSR's."""
    ssr = _json(cli, "theory", *model, "--alpha", "2", "--lam", "0.1", "--dps", "40")
    masked = _json(cli, "theory", *model, "--alpha", "2", "--lam", "0.1", "--dps", "40", "--mask-rate", "1e-60")
    assert masked["e_mask"] == ssr["e_gen"] and len(ssr["e_gen"]) >= 41


def test_optimal_rate_from_the_command_line(cli):
    opt = _json(cli, "theory", "ar1", "--rho", "0.6", "--alpha", "2", "--lam", "0.1", "--mask-rate", "opt", "--dps", "30")
    assert opt["endpoint"] is None and opt["mask_rate"].startswith("0.085407257117438593001747958")
    p = mpmath.mpf(opt["mask_rate"])
    for q in (p - mpmath.mpf("0.01"), p + mpmath.mpf("0.01")):  # a minimum: E_mask is higher on both sides
        side = _json(cli, "theory", "ar1", "--rho", "0.6", "--alpha", "2", "--lam", "0.1", "--mask-rate", mpmath.nstr(q, 20), "--dps", "30")
        assert mpmath.mpf(side["e_mask"]) > mpmath.mpf(opt["e_mask"])
    iso = _json(cli, "theory", "isotropic", "--alpha", "2", "--lam", "0.1", "--mask-rate", "opt")
    assert iso["endpoint"] == "p -> 1"


@pytest.mark.parametrize("model", [("ar1", "--rho", "0.9"), ("spiked", "--theta", "3", "--spike", "e1"),
                                   ("spiked", "--theta", "3", "--spike", "random")])
@pytest.mark.parametrize("p", ["0.05", "0.5", "0.95"])
def test_double_precision_masked_theory_prints_only_right_digits(cli, model, p):
    argv = ("theory", *model, "--alpha", "2", "--lam", "0.1", "--d", "48", "--mask-rate", p)
    lo, hi = _json(cli, *argv, "--double"), _json(cli, *argv, "--dps", "30")
    for key in ("e_mask", "e", "t1", "t2", "t3", "epsilon"):
        assert printed_digits_right(lo[key], mpmath.mpf(hi[key])), (key, lo[key], hi[key])


@pytest.mark.parametrize("lam", ["0.1", "1e-8", "1e5"])
@pytest.mark.parametrize("alpha", ["2", "0.5", "1"])
def test_double_precision_theory_prints_only_right_digits(cli, alpha, lam):
    argv = ("theory", "ar1", "--rho", "0.9", "--alpha", alpha, "--lam", lam, "--d", "24")
    lo, hi = _json(cli, *argv, "--double"), _json(cli, *argv, "--dps", "40")
    assert 8 <= lo["digits"] <= 14
    for key in ("kappa", "df1", "df2", "e_gen", "e_train", "dkappa_dlam"):
        assert printed_digits_right(lo[key], mpmath.mpf(hi[key])), (key, lo[key], hi[key])


def test_simulate_mask_rate_sits_on_the_theory(cli):
    """Monte Carlo E_mask at d = 200 against the finite-d equivalent: within 4 SE for each rate (16 samples)."""
    argv = ("ar1", "--rho", "0.6", "--alpha", "2", "--lam", "0.1")
    sim = _json(cli, "simulate", *argv, "--d", "200", "--seeds", "16", "--mask-rate", "0.05,0.3", "--no-cache", "--quiet")
    for p in ("1/20", "3/10"):
        th = _json(cli, "theory", *argv, "--d", "200", "--mask-rate", p, "--double")
        gap = float(sim[f"e_mask_mean|{p}"]) - float(th["e_mask"])
        assert abs(gap) <= 4 * float(sim[f"e_mask_se|{p}"]), (p, gap, sim)
        assert 4 * float(sim[f"e_mask_se|{p}"]) < 0.01 * float(th["e_mask"])  # a 1% error would be seen
    one = _json(cli, "simulate", *argv, "--d", "64", "--seeds", "4", "--mask-rate", "0.15", "--no-cache", "--quiet")
    assert set(one) >= {"e_mask_mean", "e_mask_se", "mask_rate"}
    rc, _, err = cli("simulate", *argv, "--d", "64", "--seeds", "4", "--mask-rate", "1", "--no-cache", "--quiet")
    assert rc == 2 and "mask_rate" in err and len(err.strip().splitlines()) == 1
