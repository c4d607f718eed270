"""The built-in claims end to end: each quick suite on the correct theory and perturbed by 1%.

The runs come from the session fixture ``quick_suite`` (conftest): every claim once per setting, the two
settings sharing one sample cache, so the perturbed runs reuse every Monte Carlo sample and only the verdicts
change. Their numbers are held against ``tests/golden/quick-seed0.json``: a restructuring must not move them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import QUICK_CLAIMS
from golden import canonical, compare_numbers

GOLDEN = Path(__file__).resolve().parent / "golden" / "quick-seed0.json"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _json(directory, name):
    return json.loads((Path(directory) / f"{name}.json").read_text())


def _statuses(data):
    return [o["status"] for p in data["points"] for o in p["observables"].values() if o["verdict"] is not None]


def _check_record(data):
    run = data["run"]
    for pkg in ("rmtverify", "python", "numpy", "scipy", "sympy", "mpmath"):
        assert run["versions"][pkg], pkg
    assert run["seconds"] >= 0


@pytest.mark.parametrize("claim", QUICK_CLAIMS)
def test_quick_suite_passes_the_correct_theory_and_fails_a_one_percent_error(quick_suite, claim):
    assert quick_suite["rc"][("good", claim)] == 0, quick_suite["out"][("good", claim)]
    assert quick_suite["rc"][("bad", claim)] == 1, quick_suite["out"][("bad", claim)]
    good, bad = _json(quick_suite["good"], claim), _json(quick_suite["bad"], claim)
    assert good["status"] == "PASS" and good["perturb"] == "0"
    assert bad["status"] == "FAIL" and bad["perturb"] == "1/100"
    _check_record(good)
    for which in ("good", "bad"):
        md = (quick_suite[which] / f"{claim}.md").read_text()
        assert f"**Verdict: {_json(quick_suite[which], claim)['status']}**" in md
        for name in _json(quick_suite[which], claim)["figures"]:
            png = quick_suite[which] / name
            assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 10_000, name
            assert f"]({name})" in md
        assert not list(quick_suite[which].glob(".*.tmp"))  # the atomic writes left nothing behind


@pytest.mark.parametrize("which", ["good", "bad"])
def test_numbers_are_those_of_the_golden_run(quick_suite, which):
    """Monte Carlo means, SEs, theory values and verdicts of every sub-test, against the run recorded before the
    claims became declarations (and kept since). Relative tolerance 1e-9: BLAS kernels chosen for another CPU
    may change the last bits of a sample, nothing more."""
    golden = json.loads(GOLDEN.read_text())[which]
    for claim in QUICK_CLAIMS:
        problems = compare_numbers(golden[claim], canonical(_json(quick_suite[which], claim)), rtol=1e-9)
        assert problems == [], f"{claim}: {problems[:5]}"


def test_comparison_of_numbers_can_fail(quick_suite):
    """The golden comparison has teeth: a mean moved in its 8th digit, or a status changed, is found."""
    data = canonical(_json(quick_suite["good"], "errors"))
    moved = json.loads(json.dumps(data))
    key = next(iter(moved["observables"]))
    moved["observables"][key]["mc_mean"][0] = repr(float(moved["observables"][key]["mc_mean"][0]) * (1 + 1e-8))
    assert compare_numbers(data, moved, rtol=1e-9)
    moved = json.loads(json.dumps(data))
    moved["observables"][key]["status"] = "FAIL"
    assert compare_numbers(data, moved, rtol=1e-9)


# ---------------------------------------------------------------- C1 ssr-closed-form


def test_ssr_closed_form_agrees_to_rounding_and_sees_the_perturbation(quick_suite):
    data = _json(quick_suite["good"], "ssr-closed-form")
    for case in data["float64"]:
        assert case["relative_difference"] <= case["tolerance"] <= 1e-8
        assert case["max_abs_diagonal"] == 0.0
    assert len({(c["n"] > c["d"], c["n"] < c["d"]) for c in data["float64"]}) >= 2  # n > d and n < d both tried
    assert all(float(c["relative_difference"]) < 1e-45 for c in data["mp"])
    bad = _json(quick_suite["bad"], "ssr-closed-form")
    for case in bad["float64"]:
        assert abs(case["relative_difference"] - 0.01) < 1e-6 and case["status"] == "FAIL"
    for case in bad["mp"]:
        assert abs(float(case["relative_difference"]) - 0.01) < 1e-10


# ---------------------------------------------------------------- C2 errors


def test_errors_every_sub_test_sees_a_one_percent_error(quick_suite):
    good, bad = _json(quick_suite["good"], "errors"), _json(quick_suite["bad"], "errors")
    assert len(_statuses(good)) == 12 and set(_statuses(good)) == {"PASS"}
    assert _statuses(bad) == ["FAIL"] * 12
    for p in good["points"]:
        for o in p["observables"].values():
            assert abs(o["verdict"]["gap_inf"]) <= 4 * o["verdict"]["gap_inf_se"]
    # the perturbed run saw the same Monte Carlo numbers and the theory times 1.01
    for pg, pb in zip(good["points"], bad["points"]):
        for obs in ("e_gen", "e_train"):
            g, b = pg["observables"][obs], pb["observables"][obs]
            assert g["mc_mean"] == b["mc_mean"]
            assert all(abs(float(y) / float(x) - 1.01) < 1e-12 for x, y in zip(g["theory_d"], b["theory_d"]))


def test_perturbed_runs_reuse_every_cached_sample(quick_suite):
    good, bad = _json(quick_suite["good"], "errors"), _json(quick_suite["bad"], "errors")
    n_samples = sum(len(o["d"]) * o["seeds"] for p in good["points"] for o in list(p["observables"].values())[:1])
    assert good["run"]["parameters"]["cache_hits"] == 0
    assert bad["run"]["parameters"]["cache_hits"] == n_samples == 6 * 5 * 24


# ---------------------------------------------------------------- C3–C6


def test_spectrum_pushforward_and_stieltjes_power(quick_suite):
    bad = _json(quick_suite["bad"], "spectrum")
    for p in bad["points"]:
        assert "FAIL" in (p["observables"]["stieltjes_re"]["status"], p["observables"]["stieltjes_im"]["status"]), p["label"]
    holds = {p["label"]: p["details"]["pushforward"]["holds"] for p in _json(quick_suite["good"], "spectrum")["points"]}
    assert holds["mixture-a2"] is False and holds["isotropic-a2"] is True and holds["ar1-a2"] is True


def test_bbp_locations_catch_the_error_and_thresholds_answer(quick_suite):
    bad = _json(quick_suite["bad"], "bbp")
    configs = {}
    for p in bad["points"]:
        configs[p["label"].split("|")[0]] = p  # the last θ of each configuration
    for name, p in configs.items():
        assert "FAIL" in (p["observables"]["s_top"]["status"], p["observables"]["a_top"]["status"]), name
    good = {p["label"].split("|")[0]: p["details"]["theta_c"] for p in _json(quick_suite["good"], "bbp")["points"]}
    assert good["isotropic-flat"]["sample"]["theta_c"] == good["isotropic-flat"]["ssr"]["theta_c"]
    assert good["isotropic-e1"]["sample"]["theta_c"] != good["isotropic-e1"]["ssr"]["theta_c"]


def test_pca_ar1_crossovers_and_winners(quick_suite):
    data = _json(quick_suite["good"], "pca-ar1")
    assert all(0 < p["details"]["f_star"]["population/reconstruction"] < 0.3 for p in data["points"])
    assert all(t["status"] == "PASS" for p in data["points"] for t in p["subtests"])


@pytest.mark.slow
def test_errors_full_ladder_passes_and_perturbed_fails(tmp_path):
    """The full C2 suite (d = 128…2048): PASS on the correct theory, FAIL at ε = ±1% (several minutes)."""
    from rmtverify.cli import main

    cache = tmp_path / "cache"
    assert main(["verify", "errors", "--out", str(tmp_path / "good"), "--cache-dir", str(cache), "--quiet"]) == 0
    for eps in ("0.01", "-0.01"):
        assert main(["verify", "errors", "--out", str(tmp_path / eps), "--perturb", eps, "--cache-dir", str(cache), "--quiet"]) == 1
        assert "PASS" not in _statuses(_json(tmp_path / eps, "errors"))
