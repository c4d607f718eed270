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


def test_simulate_and_theory_on_a_data_file(cli, tmp_path):
    """--data FILE: Σ = the file's covariance, rows drawn without replacement; n ≤ N/4 refused before any work."""
    import numpy as np

    rng = np.random.default_rng(0)
    path = tmp_path / "rows.npy"
    np.save(path, rng.standard_normal((2000, 20)) * np.linspace(0.5, 2, 20))
    sim = _json(cli, "simulate", "data", "--data", path, "--alpha", "2", "--lam", "0.1", "--seeds", "32", "--no-cache", "--quiet")
    th = _json(cli, "theory", "data", "--data", path, "--alpha", "2", "--lam", "0.1", "--double")
    assert sim["d"] == 20 and th["d"] == 20
    # d = 20 is small: the finite-d equivalent's own O(1/d) gap is allowed on top of 4 SE
    assert abs(float(sim["e_gen_mean"]) - float(th["e_gen"])) <= 4 * float(sim["e_gen_se"]) + 0.05 * float(th["e_gen"])
    rc, _, err = cli("simulate", "data", "--data", path, "--alpha", "40", "--lam", "0.1", "--quiet")
    assert rc == 2 and "alpha" in err and "N/4" in err and len(err.strip().splitlines()) == 1
    rc, _, err = cli("simulate", "data", "--data", tmp_path / "missing.npy", "--alpha", "2", "--lam", "0.1", "--quiet")
    assert rc == 2 and "data" in err and len(err.strip().splitlines()) == 1


def test_verify_law_gives_every_point_its_rows_and_its_theory():
    """verify --law: each point draws rows of that law and its equivalents are that law's (elliptical-t: the elliptical
    ones, several percent above the Gaussian; i.i.d.: the Gaussian ones), labels and seeds unchanged."""
    from fractions import Fraction

    from rmtverify.core.params import INF
    from rmtverify.verification.claim import RunOptions
    from rmtverify.verification.claims.errors import Errors

    plain = Errors().points_run(RunOptions(quick=True))
    ell = Errors().points_run(RunOptions(quick=True, law=("elliptical-t", "5")))
    iid = Errors().points_run(RunOptions(quick=True, law=("rademacher", None)))
    assert [p.label for p in ell] == [p.label for p in plain] and [p.key for p in ell] == [p.key for p in plain]
    iso = {p.label: p for p in ell}["isotropic-a2"]
    assert iso.model.law == "elliptical-t" and iso.model.nu == Fraction(5) and not iso.model.gaussian
    assert str(iso.equivalents(INF).e_gen).startswith("1.62032763385372208324355397780")
    assert "law elliptical-t ν=5" in iso.title()
    for a, b in zip(iid, plain):
        assert a.model.key() == b.model.key() + "|law=rademacher"
        assert a.equivalents(INF, 30).e_gen == b.equivalents(INF, 30).e_gen if b.model.has_limit else True


@pytest.mark.parametrize("argv,param,words", [
    (("verify", "universality", "--law", "rademacher"), "law", "declares its own data law"),
    (("verify", "errors", "--nu", "5"), "nu", "goes with --law"),
    (("verify", "errors", "--law", "student"), "nu", "is required"),
    (("verify", "errors", "--law", "cauchy"), "law", "one of"),
    (("verify", "ssr-closed-form", "--law", "uniform"), "law", "no Monte Carlo points"),
])
def test_verify_refuses_a_law_it_cannot_apply(cli, argv, param, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, err = cli(*argv)
    assert rc == 2 and err.startswith(f"rmtverify verify: error: {param}:") and words in err and len(err.strip().splitlines()) == 1, err
