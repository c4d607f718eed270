"""``rmtverify bench``: a small run, its JSON keys, and that its numbers mean what they say."""

from __future__ import annotations

import json
import math

import pytest


@pytest.fixture(scope="module")
def bench_json():
    import contextlib
    import io

    from rmtverify.cli import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["bench", "--json", "--quick", "--d", "128", "--repeats", "2"])
    assert rc == 0
    return json.loads(buf.getvalue())


def test_bench_json_keys_and_consistent_ratios(bench_json):
    data = bench_json
    assert data["statistic"] == "median" and data["blas_threads"] == 1 and data["repeats"] == 2
    iso = data["engine"]["isotropic"]
    assert iso["d"] == 128 and iso["n"] == 256
    secs, ratios = iso["seconds"], iso["ratios"]
    for key in ("draw_x", "gram", "floor", "engine_1lam", "engine_1lam_eigh", "engine_16lam", "naive_16lam", "per_lam_part_1lam",
                "per_lam_part_16lam"):
        assert math.isfinite(secs[key]) and secs[key] > 0, key
    assert ratios["engine_1lam_vs_floor"] == pytest.approx(secs["engine_1lam"] / secs["floor"])
    assert ratios["naive_vs_engine_16lam"] == pytest.approx(secs["naive_16lam"] / secs["engine_16lam"])
    assert ratios["extra_lam_vs_floor"] == pytest.approx(
        max(secs["per_lam_part_16lam"] - secs["per_lam_part_1lam"], 0) / 15 / secs["floor"])
    # the engine and the naive pipeline computed the same numbers; the naive one is the slower
    assert iso["max_rel_diff"]["engine_vs_naive_16lam"] < 1e-11
    assert iso["max_rel_diff"]["one_lam_auto_vs_eigh"] < 1e-11
    assert ratios["naive_vs_engine_16lam"] > 1
    assert set(data["engine"]["ar1"]["ratios"]) >= {"engine_1lam_vs_floor", "extra_lam_vs_floor"}


def test_bench_theory_and_targets(bench_json):
    th = bench_json["theory"]
    a = th["ar1_dinf_50digits"]
    assert a["points"] == 8 and 0 < a["ms_median"] <= a["ms_max"] < 5000
    assert a["example"]["e_gen"].startswith("0.48158393336774257588")  # the README's 50-digit value
    b = th["bbp_threshold_100digits"]
    assert b["theta_c"].startswith("0.70710678118654752440")  # 1/√2
    assert 0 < b["sample_isotropic_alpha2_ms"] < 5000
    assert th["mpmath_backend"] == "gmpy"
    t = bench_json["targets"]
    assert set(t) == {"engine_1lam_vs_floor", "extra_lam_vs_floor", "naive_vs_engine_16lam", "theory_ar1_50digits_ms",
                      "mpmath_backend_gmpy"}
    assert t["mpmath_backend_gmpy"]["met"] is True
    for v in t.values():
        assert isinstance(v["met"], bool) and v["target"]
    assert t["theory_ar1_50digits_ms"]["met"] == (a["ms_median"] <= 20)


def test_bench_text_output(cli):
    rc, out, err = cli("bench", "--quick", "--d", "64", "--repeats", "1")
    assert rc == 0, err
    assert "floor (Gram + numpy eigh)" in out and "× floor" in out and "mpmath backend: gmpy" in out
