"""The built-in claim masking-rate (C7, issue 17): its quick run PASSes and FAILs a 1% error, its report states where masking
more than one coordinate helps and how p* compares with 15%, its Monte Carlo route is the library's E_mask, and the p* maps
agree with optimal_mask_rate."""

from __future__ import annotations

import contextlib
import io
import json
from fractions import Fraction

import numpy as np
import pytest

from rmtverify.models import make_model
from rmtverify.montecarlo.masking import mask_error_from_sample
from rmtverify.montecarlo.sample import Sample
from rmtverify.theory.masking import optimal_mask_rate
from rmtverify.theory.masking_map import map_findings, map_table, optimum, p_star_map
from rmtverify.verification.claim import Point
from rmtverify.verification.claims import BUILTIN
from rmtverify.verification.claims.masking_rate import MaskingRate, rates


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    """``verify masking-rate --quick`` on the correct theory and with --perturb 0.01, sharing one sample cache (about 40 s)."""
    from rmtverify.cli import main

    base = tmp_path_factory.mktemp("masking-claim")
    out = {}
    for which, extra in (("good", []), ("bad", ["--perturb", "0.01"])):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            rc = main(["verify", "masking-rate", "--quick", "--out", str(base / which), "--cache-dir", str(base / "cache"), "--quiet",
                       *extra])
        out[which] = (rc, buf.getvalue(), base / which)
    return out


def test_registered_after_the_six_claims():
    names = [c.name for c in BUILTIN]
    assert names[6] == "masking-rate" and names[:6] == ["ssr-closed-form", "errors", "spectrum", "bbp", "pca-spiked", "pca-ar1"]


def test_quick_passes_and_a_one_percent_error_fails(quick_runs):
    rc, text, where = quick_runs["good"]
    assert rc == 0, text
    data = json.loads((where / "masking-rate.json").read_text())
    assert data["status"] == "PASS"
    rc, text, where = quick_runs["bad"]
    assert rc == 1, text
    bad = json.loads((where / "masking-rate.json").read_text())
    assert bad["status"] == "FAIL" and bad["perturb"] == "1/100"
    judged = [o["status"] for p in bad["points"] for o in p["observables"].values() if o["verdict"] is not None]
    assert judged and all(s == "FAIL" for s in judged)


def test_the_optimum_is_checked_on_both_sides_and_shown_not_counted(quick_runs):
    data = json.loads((quick_runs["good"][2] / "masking-rate.json").read_text())
    point = next(p for p in data["points"] if "e_mask_pstar" in p["observables"])
    tests = [t for t in point["subtests"] if t["name"].startswith("optimum")]
    assert len(tests) == 2 and all(not t["counted"] and t["status"] == "PASS" for t in tests), tests
    for t in tests:  # positive, resolved, and the theory's difference within 4 SE
        assert t["mean"] > 4 * t["se"] and abs(t["z"]) <= 4


def test_report_states_where_masking_helps_and_compares_p_star_with_15_percent(quick_runs):
    md = (quick_runs["good"][2] / "masking-rate.md").read_text()
    assert "masking more than one coordinate at a time helps (p* interior" in md
    assert "Against 15%: p* < 15% at" in md
    assert "At the optimal λ" in md and "p* → 0 at" in md
    assert "p* = 0.085407 < 15%" in md  # the Monte Carlo point
    assert "Monte Carlo verdict on the equivalent at the 4 points: PASS" in md
    for png in ("masking-rate-curves.png", "masking-rate-map.png"):
        assert f"]({png})" in md and (quick_runs["good"][2] / png).stat().st_size > 10_000
    bad = (quick_runs["bad"][2] / "masking-rate.md").read_text()
    assert "not PASS (FAIL): the statements above are unverified theory" in bad


def test_measurement_is_the_librarys_exact_e_mask():
    """The claim's one-inverse-per-rate route equals montecarlo.masking.mask_error_from_sample (non-constant diagonal too)."""
    claim = MaskingRate()
    point = next(p for p in claim.points(None) if "pstar" in p)
    spiked = Point({"model": "spiked", "theta": "3", "spike": "e1", "alpha": "2", "lam": "1/10"})
    for pt in (point, spiked):
        sample = Sample(pt.model, 40, pt.n(40), np.random.SeedSequence(5))
        got = claim.measure(sample, pt)
        for key, p in rates(pt).items():
            assert abs(got[key] - mask_error_from_sample(sample.S, sample.Sigma, p, pt.lam)) < 1e-12


@pytest.mark.parametrize("rho, alpha", [("0.6", "2"), ("0.7", "0.5"), ("0.9", "4")])
def test_map_agrees_with_optimal_mask_rate(rho, alpha):
    m = p_star_map([float(rho)], [float(alpha)], "1/10")
    ref = optimal_mask_rate(make_model("ar1", rho=rho), alpha, "1/10", dps=30)
    assert m["endpoint"][0][0] == ref.endpoint
    assert abs(m["p_star"][0][0] - float(ref.p_star)) < 1e-6
    assert abs(m["e_mask"][0][0] - float(ref.e_mask)) < 1e-9


def test_map_at_the_optimal_ridge_agrees_with_the_joint_optimum():
    model = make_model("ar1", rho="0.6")
    ref = optimal_mask_rate(model, 2, dps=None, lam_opt=True)
    got = optimum(model, Fraction(2), "opt")
    assert got.endpoint == ref.endpoint == "p -> 0"
    assert abs(got.lam / float(ref.lam_star) - 1) < 1e-3 and abs(got.e_mask - float(ref.e_mask)) < 1e-8


def test_map_findings_and_table_state_the_numbers():
    fixed, best = p_star_map([0.3, 0.6, 0.9], [2], "1/10"), p_star_map([0.6], [2], "opt")
    lines = map_findings(fixed, best)
    assert "at 2 of 3 cells of the grid: α = 2: ρ ∈ {0.3, 0.6}" in lines[0]
    assert "p* < 15% at (ρ, α) = (0.6, 2): p* = 0.0854" in lines[1] and "p* > 15% at the other 1 interior cells" in lines[1]
    assert "p* → 0 at 1 of 1 cells" in lines[2]
    header, rows = map_table(fixed)
    assert header == ["α \\ ρ", "0.3", "0.6", "0.9"] and rows == [["2", "0.927", "0.0854", "→ 0"]]
