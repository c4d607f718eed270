"""Data laws from the command line (issue 16): theory --law/--nu gives the elliptical equivalents or says that the
Gaussian ones are the universal limit; simulate --law draws rows of that law; bad laws are refused in one line."""

from __future__ import annotations

import json

import pytest

AR1 = ("ar1", "--rho", "0.6", "--alpha", "2", "--lam", "0.1")


def _json(cli, *argv):
    rc, out, err = cli(*argv, "--json")
    assert rc == 0, err
    return json.loads(out)


def test_theory_law(cli):
    gauss = _json(cli, "theory", *AR1)
    ell = _json(cli, "theory", *AR1, "--law", "elliptical-t", "--nu", "5")
    assert ell["theory"] == "elliptical" and ell["e_gen"].startswith("0.70923711054074195693952663842")
    assert float(ell["e_gen"]) / float(gauss["e_gen"]) - 1 > 0.03  # several percent above the Gaussian value
    iid = _json(cli, "theory", *AR1, "--law", "rademacher")
    assert iid["theory"] == "universal-limit" and iid["e_gen"] == gauss["e_gen"] and "universal" in iid["note"]


def test_simulate_law_sits_on_its_theory(cli):
    sim = _json(cli, "simulate", *AR1, "--law", "elliptical-t", "--nu", "5", "--d", "300", "--seeds", "16", "--no-cache", "--quiet")
    th = _json(cli, "theory", *AR1, "--law", "elliptical-t", "--nu", "5", "--d", "300", "--double")
    gauss = _json(cli, "theory", *AR1, "--d", "300", "--double")
    se = float(sim["e_gen_se"])
    assert abs(float(sim["e_gen_mean"]) - float(th["e_gen"])) <= 4 * se
    assert float(sim["e_gen_mean"]) - float(gauss["e_gen"]) >= 10 * se  # the Gaussian theory is many SE away


@pytest.mark.parametrize("argv,param", [
    (("theory", *AR1, "--law", "cauchy"), "law"),
    (("theory", *AR1, "--law", "student"), "nu"),
    (("theory", *AR1, "--law", "student", "--nu", "2"), "nu"),
    (("theory", *AR1, "--law", "rademacher", "--nu", "5"), "nu"),
    (("theory", *AR1, "--law", "elliptical-t", "--nu", "5", "--mask-rate", "0.1"), "law"),
    (("simulate", *AR1, "--law", "uniform", "--nu", "3", "--d", "16"), "nu"),
])
def test_bad_laws_are_refused(cli, argv, param):
    rc, out, err = cli(*argv)
    assert rc == 2 and param in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
