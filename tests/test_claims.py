"""Claims C1 and C2 end to end: the real quick suite, correct and perturbed by 1%.

Each claim is run once per setting (module-scoped fixtures); the two C2 runs
share one sample cache through --cache-dir, so the perturbed run reuses every
Monte Carlo sample of the first and only the verdicts change.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from rmtverify.verification.claims.errors import CONFIGS, QUICK_LADDER, QUICK_SEEDS
from rmtverify.cli import main

N_SAMPLES = len(CONFIGS) * len(QUICK_LADDER) * QUICK_SEEDS
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def ssr_runs(tmp_path_factory):
    good, bad = tmp_path_factory.mktemp("ssr-good"), tmp_path_factory.mktemp("ssr-perturbed")
    return {
        "good": (*_run("verify", "ssr-closed-form", "--quick", "--out", good, "--no-cache"), good),
        "bad": (*_run("verify", "ssr-closed-form", "--quick", "--out", bad, "--perturb", "0.01", "--no-cache"), bad),
    }


@pytest.fixture(scope="module")
def errors_runs(tmp_path_factory):
    cache = tmp_path_factory.mktemp("errors-cache")
    good, bad = tmp_path_factory.mktemp("errors-good"), tmp_path_factory.mktemp("errors-perturbed")
    return {
        "good": (*_run("verify", "errors", "--quick", "--out", good, "--cache-dir", cache, "--quiet"), good),
        "bad": (*_run("verify", "errors", "--quick", "--out", bad, "--perturb", "0.01", "--cache-dir", cache, "--quiet"), bad),
        "cache": cache,
    }


def _json(directory, name):
    return json.loads((Path(directory) / f"{name}.json").read_text())


def _check_record(data):
    run = data["run"]
    for pkg in ("rmtverify", "python", "numpy", "scipy", "sympy", "mpmath"):
        assert run["versions"][pkg], pkg
    assert run["seeds"]
    assert run["seconds"] >= 0


# ---------------------------------------------------------------- C1 ssr-closed-form


def test_ssr_closed_form_passes(ssr_runs):
    rc, out, err, directory = ssr_runs["good"]
    assert rc == 0, out + err
    assert "ssr-closed-form (C1): PASS" in out
    data = _json(directory, "ssr-closed-form")
    assert data["status"] == "PASS" and data["perturb"] == "0"
    _check_record(data)
    for case in data["float64"]:
        assert case["relative_difference"] <= case["tolerance"] <= 1e-8
        assert case["max_abs_diagonal"] == 0.0
    assert len({(c["n"] > c["d"], c["n"] < c["d"]) for c in data["float64"]}) >= 2  # n > d and n < d both tried
    for case in data["mp"]:
        assert float(case["relative_difference"]) < 1e-45
    md = (Path(directory) / "ssr-closed-form.md").read_text()
    assert "**Verdict: PASS**" in md


def test_ssr_closed_form_perturbed_fails(ssr_runs):
    rc, out, err, directory = ssr_runs["bad"]
    assert rc == 1, out + err
    data = _json(directory, "ssr-closed-form")
    assert data["status"] == "FAIL" and data["perturb"] == "1/100"
    # the reported discrepancy is the perturbation itself
    for case in data["float64"]:
        assert abs(case["relative_difference"] - 0.01) < 1e-6 and case["status"] == "FAIL"
    for case in data["mp"]:
        assert abs(float(case["relative_difference"]) - 0.01) < 1e-10
    assert "**Verdict: FAIL**" in (Path(directory) / "ssr-closed-form.md").read_text()


# ---------------------------------------------------------------- C2 errors


def _statuses(data):
    return [o["verdict"]["status"] for c in data["configs"] for o in c["observables"].values()]


def test_errors_quick_passes(errors_runs):
    rc, out, err, _ = errors_runs["good"]
    assert rc == 0, out + err


def test_errors_quick_correct_theory_never_fails(errors_runs):
    rc, out, err, directory = errors_runs["good"]
    assert err == ""
    data = _json(directory, "errors")
    statuses = _statuses(data)
    assert len(statuses) == 2 * len(CONFIGS)
    assert "FAIL" not in statuses
    assert statuses.count("PASS") >= len(statuses) - 1
    for c in data["configs"]:
        for obs in c["observables"].values():
            v = obs["verdict"]
            assert abs(v["gap_inf"]) <= 4 * v["gap_inf_se"]
            if v["status"] == "INCONCLUSIVE":  # only ever for want of power, and narrowly
                assert v["reasons"][0].startswith("too little power") and v["min_detectable_rel"] < 0.01
    assert data["status"] in ("PASS", "INCONCLUSIVE") and rc == (0 if data["status"] == "PASS" else 1)


def test_errors_quick_perturbed_fails(errors_runs):
    rc, out, err, directory = errors_runs["bad"]
    assert rc == 1, out + err
    assert "errors (C2): FAIL" in out
    data = _json(directory, "errors")
    assert data["status"] == "FAIL" and data["perturb"] == "1/100"
    assert _statuses(data) == ["FAIL"] * (2 * len(CONFIGS))  # every sub-test sees a 1% error
    # the perturbed run reused every Monte Carlo sample of the first
    assert data["run"]["parameters"]["cache_hits"] == N_SAMPLES
    assert _json(errors_runs["good"][3], "errors")["run"]["parameters"]["cache_hits"] == 0
    # and saw the same Monte Carlo numbers
    good = _json(errors_runs["good"][3], "errors")
    for cg, cb in zip(good["configs"], data["configs"]):
        for obs in ("e_gen", "e_train"):
            assert cg["observables"][obs]["mc_mean"] == cb["observables"][obs]["mc_mean"]
            th_g = [float(x) for x in cg["observables"][obs]["theory_d"]]
            th_b = [float(x) for x in cb["observables"][obs]["theory_d"]]
            assert all(abs(b / g - 1.01) < 1e-12 for g, b in zip(th_g, th_b))


@pytest.mark.parametrize("which", ["good", "bad"])
def test_errors_report_files(errors_runs, which):
    _, _, _, directory = errors_runs[which]
    directory = Path(directory)
    md = (directory / "errors.md").read_text()
    data = _json(directory, "errors")
    assert f"**Verdict: {data['status']}**" in md
    _check_record(data)
    assert data["run"]["parameters"]["ladder"] == list(QUICK_LADDER)
    assert f"{QUICK_SEEDS} per d" in data["run"]["seeds"]
    for cfg in CONFIGS:
        png = directory / f"errors-{cfg.name}.png"
        assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 10_000
        assert f"![{cfg.name}](errors-{cfg.name}.png)" in md
    # no temporary files left behind by the atomic writes
    assert not list(directory.glob(".*.tmp"))


def test_cache_dir_holds_one_file_per_sample(errors_runs):
    assert len(list(Path(errors_runs["cache"]).rglob("*.json"))) == N_SAMPLES


@pytest.mark.slow
def test_errors_full_ladder_passes_and_perturbed_fails(tmp_path):
    """The full C2 suite (d = 128…2048): PASS on the correct theory, FAIL at ε = ±1% (several minutes)."""
    cache = tmp_path / "cache"
    rc, out, err = _run("verify", "errors", "--out", tmp_path / "good", "--cache-dir", cache, "--quiet")
    assert rc == 0, out + err
    assert _json(tmp_path / "good", "errors")["status"] == "PASS"
    for eps in ("0.01", "-0.01"):
        rc, out, err = _run("verify", "errors", "--out", tmp_path / eps, "--perturb", eps, "--cache-dir", cache, "--quiet")
        assert rc == 1, out + err
        data = _json(tmp_path / eps, "errors")
        assert data["status"] == "FAIL" and "PASS" not in _statuses(data)
