"""The built-in claim universality (C8, issue 16): its quick run PASSes and FAILs a 1% error; the report states the
elliptical gap with numbers; the heavy-tail rate fits are shown, not counted; the theory and sub-test helpers."""

from __future__ import annotations

import contextlib
import io
import json
import math
from fractions import Fraction

import numpy as np
import pytest

from rmtverify.core.params import INF
from rmtverify.models import make_model
from rmtverify.models.laws import with_law
from rmtverify.theory.spectrum import spectral_law
from rmtverify.theory.universality import Z0, elliptical_gap, heavy_tail_rate, law_theories, role, stieltjes_limit
from rmtverify.verification.claims import BUILTIN
from rmtverify.verification.law_tests import free_rate_test, powered_test, rejected_test
from rmtverify.verification.outcome import ObservableResult
from rmtverify.verification.verdict import Criteria, judge


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    """``verify universality --quick`` on the correct theory and with --perturb 0.01, sharing one sample cache (about 50 s)."""
    from rmtverify.cli import main

    base = tmp_path_factory.mktemp("universality-claim")
    out = {}
    for which, extra in (("good", []), ("bad", ["--perturb", "0.01"])):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            rc = main(["verify", "universality", "--quick", "--jobs", "2", "--out", str(base / which), "--cache-dir", str(base / "cache"),
                       "--quiet", *extra])
        out[which] = (rc, buf.getvalue(), base / which)
    return out


def test_registered_after_the_existing_claims():
    names = [c.name for c in BUILTIN]
    assert "universality" in names and names.index("universality") > names.index("masking-rate")


def test_quick_passes_and_a_one_percent_error_fails(quick_runs):
    rc, text, where = quick_runs["good"]
    assert rc == 0, text
    data = json.loads((where / "universality.json").read_text())
    assert data["status"] == "PASS"
    rc, text, where = quick_runs["bad"]
    assert rc == 1, text
    bad = json.loads((where / "universality.json").read_text())
    assert bad["status"] == "FAIL" and bad["perturb"] == "1/100"
    # the elliptical theory itself is caught at every elliptical point
    ell = [p for p in bad["points"] if "elliptical-t" in p["label"]]
    assert ell and all(p["observables"]["e_gen"]["status"] == "FAIL" for p in ell)


def test_the_report_states_the_elliptical_gap_with_numbers(quick_runs):
    where = quick_runs["good"][2]
    data = json.loads((where / "universality.json").read_text())
    md = (where / "universality.md").read_text()
    ell = [p for p in data["points"] if "elliptical-t" in p["label"]]
    assert len(ell) == 5
    for p in ell:
        t = next(s for s in p["subtests"] if s["name"] == "the Gaussian theory is rejected")
        assert t["status"] == "PASS" and t["counted"] and abs(t["z"]) > 10
        # the Monte Carlo sits on the elliptical prediction, within 4 SE of it
        assert abs(t["rel_gap"] - t["theory_rel_gap"]) <= 4 * t["rel_gap_se"], t
    iso5 = next(p for p in ell if p["label"] == "isotropic α=2 · elliptical-t ν=5")
    assert iso5["details"]["rel_gap_e_gen"].startswith("0.03268400030")  # +3.27% at d = ∞
    assert "Elliptical data: the Gaussian theory's gap" in md and "elliptical∞/Gaussian∞ − 1" in md
    assert "+3.27%" in md and "+2.61%" in md and "+3.83%" in md and "-5.38%" in md
    assert "](universality-e-gen.png)" in md and (where / "universality-e-gen.png").stat().st_size > 10_000


def test_iid_laws_pass_against_the_gaussian_theory(quick_runs):
    data = json.loads((quick_runs["good"][2] / "universality.json").read_text())
    iid = [p for p in data["points"] if any(law in p["label"] for law in ("rademacher", "uniform", "student ν=5"))]
    assert len(iid) == 5
    for p in iid:
        assert set(p["observables"]) == {"e_gen", "e_train", "stieltjes_re", "stieltjes_im"}
        assert all(o["status"] == "PASS" for o in p["observables"].values()), p["label"]


def test_heavy_tails_are_measured_not_counted(quick_runs):
    where = quick_runs["good"][2]
    data = json.loads((where / "universality.json").read_text())
    heavy = [p for p in data["points"] if "student ν=3" in p["label"] or "student ν=2.5" in p["label"]]
    assert len(heavy) == 2
    for p in heavy:
        assert all(o["status"] == "shown" for o in p["observables"].values())
        tests = [s for s in p["subtests"] if "free rate" in s["name"]]
        assert len(tests) == 3 and not any(s["counted"] for s in tests)
    nu3 = next(p for p in heavy if "ν=3" in p["label"])
    e_gen = next(s for s in nu3["subtests"] if s["name"].startswith("E_gen"))
    assert e_gen["heuristic_beta"] == 0.5 and 0.2 < e_gen["beta"] < 0.9  # a rate well below 1, near ν/2 − 1
    assert "Heavy tails: the gap to the Gaussian theory and its rate" in (where / "universality.md").read_text()


# ---------------------------------------------------------------- theory layer


def test_law_theories_and_the_elliptical_gap_at_d_infinity():
    iso = make_model("isotropic")
    t = law_theories(with_law(iso, "elliptical-t", 5), 2, Fraction(1, 10), INF, 30)
    assert str(t["gaussian"]["e_gen"]).startswith("1.569044967")
    assert str(t["elliptical"]["e_gen"]).startswith("1.620327633")
    gap = elliptical_gap(with_law(iso, "elliptical-t", 8), 2, Fraction(1, 10))
    assert abs(float(gap["rel_gap_e_gen"]) - 0.0261) < 5e-4
    assert elliptical_gap(with_law(iso, "rademacher"), 2, Fraction(1, 10)) == {}
    # finite d, double precision: the AR(1) model's own d
    ar = with_law(make_model("ar1", rho="0.6"), "elliptical-t", 5)
    fin = law_theories(ar, 2, Fraction(1, 10), 256, None)
    assert abs(float(fin["elliptical"]["e_gen"]) / float(fin["gaussian"]["e_gen"]) - 1.038) < 0.003


def test_roles_and_the_heavy_tail_heuristic():
    iso = make_model("isotropic")
    assert role(iso) == "iid" and role(with_law(iso, "uniform")) == "iid" and role(with_law(iso, "student", 5)) == "iid"
    assert role(with_law(iso, "student", 4)) == "heavy" and role(with_law(iso, "student", "5/2")) == "heavy"
    assert role(with_law(iso, "elliptical-t", 8)) == "elliptical"
    assert heavy_tail_rate(3) == 0.5 and heavy_tail_rate(Fraction(5, 2)) == 0.25 and heavy_tail_rate(5) == 1.0


def test_stieltjes_limit_is_the_spectral_law_and_matches_monte_carlo():
    ar = make_model("ar1", rho="0.6")
    g = stieltjes_limit(with_law(ar, "rademacher"), 2, Fraction(1, 10))
    law = spectral_law(ar, 2, Fraction(1, 10), d=INF, dps=None)
    assert g == complex(law.g(law.ctx.mpc(Z0.real, Z0.imag)))
    from rmtverify.montecarlo.sample import Sample

    vals = [np.mean(1 / (Sample(ar, 256, 512, np.random.SeedSequence(i), "gram").ssr_eigenvalues(0.1) - Z0)) for i in range(4)]
    assert abs(np.mean(vals) - g) < 0.01 * abs(g)


# ---------------------------------------------------------------- sub-test helpers


def _obs(name, d, mean, se, theory, theory_inf):
    return ObservableResult(name, name, list(d), [2 * x for x in d], 16, list(mean), list(se), list(se), list(theory), theory_inf,
                            None, None, "shown")


def test_free_rate_test_finds_a_slow_rate_and_does_not_count():
    d = np.array([64, 128, 256, 512, 1024], float)
    o = _obs("E_gen", d, 1 + 0.2 * d**-0.5, 0.002 * np.ones(5), np.ones(5), 1.0)
    t = free_rate_test(o, 0.5)
    assert not t.counted and t.status == "PASS" and abs(t.numbers["beta"] - 0.5) < 0.1
    flat = free_rate_test(_obs("E_gen", d, 1.05 * np.ones(5), 0.001 * np.ones(5), np.ones(5), 1.0))
    assert flat.status == "INCONCLUSIVE"  # a gap that does not shrink: the limit is not established


def test_rejected_and_powered_tests():
    d = np.array([64, 128, 256, 512], float)
    crit = Criteria()
    truth = 1.62 + 0.5 / d
    right = _obs("E_gen", d, truth, 1e-3 * np.ones(4), truth, 1.62)
    right.verdict = judge(d, truth, 1e-3 * np.ones(4), truth, 1.62, crit)
    wrong = _obs("E_gen", d, truth, 1e-3 * np.ones(4), 1.569 * np.ones(4), 1.569)
    t = rejected_test(wrong, right, crit)
    assert t.status == "PASS" and abs(t.numbers["rel_gap"] - (1.62 / 1.569 - 1)) < 1e-3 and t.numbers["z"] > 10
    same = rejected_test(right, right, crit)
    assert same.status == "INCONCLUSIVE"  # the right theory is not rejected
    noisy = powered_test(_obs("E_train", d, truth, 0.02 * np.ones(4), truth, 1.62), crit, "the elliptical theory")
    assert not noisy.counted and "not counted" in noisy.name
    sharp = powered_test(_obs("E_train", d, truth, 2e-4 * np.ones(4), truth * 1.01, 1.62 * 1.01), crit, "the elliptical theory")
    assert sharp.counted and sharp.status == "FAIL" and math.isfinite(sharp.numbers["power"])
