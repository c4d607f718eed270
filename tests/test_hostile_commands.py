"""Bad input to the spectrum, BBP and PCA commands and their Python API (SPEC §6): exit code 2, one line
naming the parameter, never a traceback."""

from __future__ import annotations

import pytest

from rmtverify.core.exceptions import InputError

OK = ("--alpha", "2", "--lam", "0.1")

CASES = [
    (("density", "isotropic", "--alpha", "2", "--lam", "0"), "lam", "> 0"),
    (("density", "isotropic") + OK + ("--x", "abc"), "x", "real"),
    (("density", "isotropic", "--alpha", "-2", "--lam", "0.1"), "alpha", "(0, inf)"),
    (("density", "isotropic") + OK + ("--dps", "3"), "dps", "[15, 10000]"),
    (("density", "mixture", "--atoms", "1,-1") + OK, "atoms", "> 0"),
    (("density", "mixture", "--atoms", "1,4", "--weights", "0.5,0.6") + OK, "weights", "sum to 1"),
    (("density", "mixture", "--atoms", "1,x") + OK, "atoms", "list of real numbers"),
    (("density", "mixture") + OK, "atoms", "required"),
    (("theory", "mixture", "--atoms", "1,4", "--weights", "1") + OK, "weights", "one weight per atom"),
    (("threshold", "spiked", "--spike", "diagonal", "--alpha", "2", "--lam", "0.1"), "spike", "flat, random, e1"),
    (("threshold", "spiked", "--base", "gaussian", "--alpha", "2", "--lam", "0.1"), "base", "isotropic, ar1"),
    (("threshold", "spiked", "--base", "ar1", "--alpha", "2", "--lam", "0.1"), "rho", "required"),
    (("threshold", "spiked", "--base", "ar1", "--rho", "1.2", "--alpha", "2", "--lam", "0.1"), "rho", "(-1, 1)"),
    (("threshold", "spiked", "--rho", "0.5", "--alpha", "2", "--lam", "0.1"), "rho", "AR(1) base"),
    (("threshold", "spiked", "--alpha", "2", "--matrix", "ssr"), "lam", "required"),
    (("threshold", "spiked", "--alpha", "2", "--matrix", "ssr", "--lam", "0"), "lam", "> 0"),
    (("threshold", "spiked", "--alpha", "2", "--matrix", "both", "--lam", "0.1"), "matrix", "sample, ssr"),
    (("threshold", "spiked", "--base", "ar1", "--rho", "0.5", "--spike", "e1", "--alpha", "2", "--lam", "0.1"), "spike",
     "isotropic base only"),
    (("threshold", "spiked", "--alpha", "nan", "--lam", "0.1"), "alpha", "(0, inf)"),
    (("threshold", "spiked", "--alpha", "2", "--lam", "0.1", "--dps", "100000"), "dps", "[15, 10000]"),
    (("outlier", "spiked", "--alpha", "2", "--lam", "0.1", "--theta", "-1"), "theta", "[0, inf)"),
    (("outlier", "spiked", "--alpha", "2", "--lam", "0.1", "--theta", "inf"), "theta", "[0, inf)"),
    (("compare", "ar1", "--rho", "0.5", "--alpha", "2", "--k-frac", "2"), "k_frac", "[0, 1]"),
    (("compare", "ar1", "--rho", "0.5", "--alpha", "2", "--k-frac", "0.5", "--pca", "kernel"), "pca", "population, sample"),
    (("compare", "ar1", "--rho", "0.5", "--alpha", "2", "--k-frac", "0.5", "--metric", "mse"), "metric", "reconstruction, masked"),
    (("compare", "mixture", "--atoms", "1,4", "--alpha", "2", "--k-frac", "0.5"), "model", "isotropic, AR(1) and spiked"),
    (("compare", "ar1", "--rho", "0.5", "--alpha", "2", "--lam", "-1", "--k-frac", "0.5"), "lam", "[0, inf)"),
    (("crossover", "ar1", "--rho", "1", "--alpha", "2"), "rho", "(-1, 1)"),
    (("crossover", "ar1", "--rho", "0.5", "--alpha", "0"), "alpha", "(0, inf)"),
    (("crossover", "ar1", "--rho", "0.5", "--alpha", "2", "--lam", "x"), "lam", "[0, inf)"),
    (("crossover", "ar1", "--rho", "0.5", "--alpha", "1", "--lam", "opt"), "alpha", "alpha = 1"),
    (("simulate", "isotropic") + OK + ("--d", "64", "--seeds", "1"), "seeds", "[2, 100000]"),
    (("simulate", "isotropic") + OK + ("--d", "64", "--seed", "-1"), "seed", "integer"),
]


@pytest.mark.parametrize("argv,param,allowed", CASES, ids=[" ".join(c[0])[:70] for c in CASES])
def test_bad_input_to_new_commands(cli, argv, param, allowed):
    rc, out, err = cli(*argv)
    assert rc == 2, (rc, out, err)
    assert out == "" and "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"rmtverify {argv[0]}: error: {param}: "), lines[0]
    assert allowed in lines[0], lines[0]


def test_bad_input_to_the_api():
    from rmtverify.models import make_model
    from rmtverify.theory.bbp import outlier, threshold
    from rmtverify.theory.pca import crossover, optimal_ridge
    from rmtverify.theory.spectrum import spectral_law

    calls = [
        (lambda: spectral_law(make_model("isotropic"), "0", "0.1"), "alpha"),
        (lambda: spectral_law(make_model("isotropic"), "2", "-0.1"), "lam"),
        (lambda: threshold(alpha="x"), "alpha"),
        (lambda: threshold(alpha="2", spike="e7"), "spike"),
        (lambda: outlier(theta="-3", alpha="2"), "theta"),
        (lambda: crossover(make_model("mixture", atoms="1,2"), "2"), "model"),
        (lambda: optimal_ridge(make_model("spiked", theta="1", base="ar1", rho="2"), "2"), "rho"),
    ]
    for call, name in calls:
        with pytest.raises(InputError) as info:
            call()
        assert info.value.parameter == name, (name, str(info.value))


def test_every_parameter_declares_domain_typical_range_and_units(cli):
    from rmtverify.core.params import PARAMETERS

    for name, p in PARAMETERS.items():
        lo, hi = p.typical
        assert p.domain.contains(type(p.domain.lo)(lo)) and p.domain.contains(type(p.domain.lo)(hi)), name
        assert p.units and p.description, name
    # the command line's help comes from the same declaration
    rc, out, _ = cli("theory", "--help")
    flat = " ".join(out.split())  # argparse wraps the help
    assert "[variance (units of Σ)]" in flat and "typically 1/1000 to 10" in flat
