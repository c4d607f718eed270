"""A hostile user, invocation by invocation: every failure is one line with exit 2, never a traceback, never a
wrong number with exit 0 (issue 10's suite; tests/test_extremes.py sweeps the decades of λ and α).

Classes: numbers (malformed, non-finite, out of range, huge exponents, lists), precision (the documented range
of dps), files (unwritable or invalid output folders, Σ files that are not what they claim), caches (a file
where the folder should be, read-only folders, entries that are folders or tampered records), memory (a d
that cannot fit), workers (absurd --jobs, malformed scheduler addresses), claims and derivations (unknown
names, broken files). Each case runs ``rmtverify.cli.main`` in-process; signals are in tests/test_signals.py.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

T = ["theory", "isotropic", "--alpha", "2", "--lam", "0.1"]
A1 = ["theory", "ar1", "--rho", "0.5", "--alpha", "2", "--lam", "0.1"]
S = ["simulate", "isotropic", "--alpha", "2", "--lam", "0.1", "--d", "16", "--seeds", "3", "--quiet"]
DENS = ["density", "isotropic", "--alpha", "2", "--lam", "0.1"]
TH = ["threshold", "spiked", "--alpha", "2", "--lam", "0.1"]

# (argv, the parameter the one-line message must name) — each must exit 2
REFUSED = [
    # numbers: malformed, non-finite, out of the declared domain
    *[(T[:3] + [v] + T[4:], "alpha") for v in ("nan", "inf", "-inf", "-1", "0", "abc", "1e", "", "0x10", "1e999999999", "--")],
    *[(T[:5] + [v], "lam") for v in ("nan", "inf", "-1e-3", "x", "1e-999999999", "1/0", "1e400000")],
    *[(A1[:3] + [v] + A1[4:], "rho") for v in ("1", "-1", "1.5", "nan", "inf", "0.9999999999999999999999e1")],
    *[(T + ["--d", v], "d") for v in ("1", "0", "-5", "2.5", "nan", "1e999", "abc")],
    *[(T + ["--dps", v], "dps") for v in ("14", "10001", "0", "-30", "30.5", "nan", "1e6")],
    *[(S[:7] + [v] + S[8:], "d") for v in ("inf", "1", "0", "3.5")],
    *[(S[:9] + [v] + S[10:], "seeds") for v in ("1", "0", "-3", "2.5", "100001", "nan")],
    *[(S + ["--seed", v], "seed") for v in ("-1", "1.5", "nan", str(2**64))],
    *[(["theory", "spiked", "--theta", v, "--alpha", "2", "--lam", "0.1"], "theta") for v in ("-1", "nan", "inf", "a,b")],
    *[(["theory", "spiked", "--theta", "4", "--rank", v, "--alpha", "2", "--lam", "0.1"], "rank") for v in ("0", "-1", "1.5")],
    *[(["theory", "mixture", "--atoms", v, "--alpha", "2", "--lam", "0.1"], "atoms") for v in ("1,-4", "0,1", "a,b", "1,inf")],
    *[(["theory", "mixture", "--atoms", "1,4", "--weights", v, "--alpha", "2", "--lam", "0.1"], "weights")
      for v in ("0.5,0.6", "1", "-0.5,1.5", "0.5,0.5,0")],
    (["theory", "isotropic", "--rho", "0.5", "--alpha", "2", "--lam", "0.1"], "rho"),
    (["theory", "ar1", "--alpha", "2", "--lam", "0.1"], "rho"),
    (["theory", "spiked", "--alpha", "2", "--lam", "0.1"], "theta"),
    (["theory", "spiked", "--theta", "4", "--spike", "diagonal", "--alpha", "2", "--lam", "0.1"], "spike"),
    (["theory", "ar1", "--rho", "0.5", "--boundary", "periodic", "--alpha", "2", "--lam", "0.1"], "boundary"),
    (["theory", "spiked", "--theta", "4", "--base", "ar1", "--alpha", "2", "--lam", "0.1"], "rho"),
    *[(DENS + ["--x", v], "x") for v in ("abc", "0.5,abc", "nan", "inf")],
    (DENS[:5] + ["0"], "lam"),
    *[(TH[:3] + [v] + TH[4:], "alpha") for v in ("0", "-2", "nan")],
    (TH + ["--matrix", "both"], "matrix"),
    (TH + ["--spike", "e2"], "spike"),
    (["threshold", "spiked", "--alpha", "2"], "lam"),
    (["outlier", "spiked", "--alpha", "2", "--lam", "0.1", "--theta", "-1"], "theta"),
    *[(["compare", "ar1", "--rho", "0.5", "--alpha", "2", "--k-frac", v], "k_frac") for v in ("1.5", "-0.1", "nan", "x")],
    (["compare", "ar1", "--rho", "0.5", "--alpha", "2", "--k-frac", "0.3", "--pca", "best"], "pca"),
    (["compare", "ar1", "--rho", "0.5", "--alpha", "2", "--k-frac", "0.3", "--metric", "l2"], "metric"),
    (["crossover", "ar1", "--rho", "0.5", "--alpha", "1", "--lam", "opt"], "alpha"),
    *[(["crossover", "ar1", "--rho", "0.5", "--alpha", "2", "--dps", v], "dps") for v in ("3", "20000")],
    # claims and derivations
    (["verify", "no-such-claim", "--quick"], "claim"),
    *[(["verify", "errors", "--quick", "--perturb", v], "perturb") for v in ("0.6", "-0.6", "nan", "1%")],
    *[(["verify", "errors", "--quick", "--seed", v], "seed") for v in ("-1", "x")],
    *[(["verify", "errors", "--quick", "--max-d", v], "max_d") for v in ("512", "1e9", "abc")],
    (["derive", "no-such-derivation"], "derivation"),
    # workers
    *[(S + ["--jobs", v], "jobs") for v in ("0", "-2", "1.5", "257", "many")],
    *[(S + ["--scheduler", v], "scheduler") for v in ("tcp//host:8786", "host", "tcp://", "tcp://host:99999", "ftp://host:21", " ")],
    *[(["bench", "--repeats", v], "repeats") for v in ("0", "-1", "1001", "2.5")],
    (["bench", "--d", "1"], "d"),
]


@pytest.mark.parametrize("argv,param", REFUSED, ids=[" ".join(a)[:60] for a, _ in REFUSED])
def test_refused_with_one_line_naming_the_parameter(cli, tmp_path, argv, param):
    rc, out, err = cli(*argv, *(["--out", str(tmp_path / "out")] if argv[0] in ("verify", "derive") else []))
    assert rc == 2, (rc, out, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert param in err, err
    assert out == ""


# ---------------------------------------------------------------- files


def test_out_folders_that_cannot_hold_reports_are_refused_before_any_work(cli, tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        for out in (a_file, a_file / "sub", Path("/proc/forbidden"), read_only):
            for argv in (["verify", "ssr-closed-form", "--quick"], ["derive", "kappa"], ["report", "--quick", "--jobs", "1"]):
                if os.geteuid() == 0 and out == read_only:
                    continue  # root writes anywhere
                rc, o, err = cli(*argv, "--out", str(out))
                assert rc == 2 and "out" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, (argv, out, err)
    finally:
        read_only.chmod(stat.S_IRWXU)


SIGMA_FILES = {
    "text.npy": ("1 0\n0 1\n", "not a .npy"),
    "sigma.txt": ("1 0\n0 1\n", "not a .npy"),
    "empty.npy": ("", "not a .npy"),
    "missing.npy": (None, "does not exist"),
}


@pytest.mark.parametrize("name", sorted(SIGMA_FILES))
def test_a_sigma_file_that_is_not_a_npy_array_gets_our_message(cli, tmp_path, name):
    text, expect = SIGMA_FILES[name]
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    rc, out, err = cli("theory", "custom", "--sigma", str(path), "--alpha", "2", "--lam", "0.1")
    assert rc == 2 and "sigma" in err and expect in err and "pickle" not in err and "Traceback" not in err, err


@pytest.mark.parametrize(
    "array,expect",
    [
        (np.ones((3, 4)), "square"),
        (np.array([[1.0, 2.0], [0.0, 1.0]]), "symmetric"),
        (np.array([[1.0, 2.0], [2.0, 1.0]]), "positive definite"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), "NaN"),
        (np.array([["a", "b"], ["c", "d"]]), "numeric"),
        (np.eye(1), "2 x 2"),
        (np.ones(4), "square"),
    ],
)
def test_a_sigma_array_that_is_not_spd_is_refused(cli, tmp_path, array, expect):
    path = tmp_path / "sigma.npy"
    np.save(path, array)
    rc, out, err = cli("theory", "custom", "--sigma", str(path), "--alpha", "2", "--lam", "0.1")
    assert rc == 2 and "sigma" in err and expect in err and "Traceback" not in err, err


# ---------------------------------------------------------------- caches


def _simulate(cli, cache, *extra):
    return cli(*S, "--cache-dir", str(cache), "--json", *extra)


def test_a_cache_path_that_is_a_file_is_bypassed_with_a_warning_and_the_same_numbers(cli, tmp_path):
    clean = json.loads(_simulate(cli, tmp_path / "clean")[1])
    bad = tmp_path / "a-file"
    bad.write_text("x")
    rc, out, err = _simulate(cli, bad)
    assert rc == 0 and json.loads(out) == clean
    assert "warning" in err and "bypassed" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_cache_is_bypassed_with_a_warning(cli, tmp_path):
    cache = tmp_path / "ro"
    cache.mkdir()
    cache.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        rc, out, err = _simulate(cli, cache)
        assert rc == 0 and "bypassed" in err and "Traceback" not in err
    finally:
        cache.chmod(stat.S_IRWXU)


def _entries(cache: Path) -> list:
    return sorted(p for p in cache.rglob("*") if p.is_file() and p.suffix in (".json", ".npz"))


@pytest.mark.parametrize("damage", ["missing-values", "wrong-values", "truncated", "not-json", "a-folder", "empty", "other-spec"])
def test_a_damaged_cache_entry_is_recomputed_never_trusted(cli, tmp_path, damage):
    cache = tmp_path / "cache"
    clean = json.loads(_simulate(cli, cache)[1])
    entry = _entries(cache)[0]
    record = json.loads(entry.read_text())
    if damage == "missing-values":
        record["values"] = {"e_gen": record["values"]["e_gen"]}
        entry.write_text(json.dumps(record))
    elif damage == "wrong-values":
        record["values"]["e_gen"] = [v * 1.5 for v in record["values"]["e_gen"]]  # well-formed JSON, wrong numbers
        entry.write_text(json.dumps(record))
    elif damage == "truncated":
        entry.write_text(entry.read_text()[: len(entry.read_text()) // 2])
    elif damage == "not-json":
        entry.write_bytes(b"\x00\xff\x00garbage")
    elif damage == "a-folder":
        entry.unlink()
        entry.mkdir()
    elif damage == "empty":
        entry.write_text("")
    elif damage == "other-spec":
        record["spec"]["d"] = 17
        entry.write_text(json.dumps(record))
    rc, out, err = _simulate(cli, cache)
    assert rc == 0 and "Traceback" not in err, err
    assert json.loads(out) == clean  # the damaged sample was recomputed, not read


def test_a_tampered_array_entry_is_recomputed(tmp_path):
    from rmtverify.core.storage import SampleCache

    cache = SampleCache(tmp_path)
    spec = {"k": 1}
    cache.put(spec, {"eigenvalues": np.arange(5.0)})
    assert np.array_equal(cache.get(spec)["eigenvalues"], np.arange(5.0))
    path = next(tmp_path.rglob("*.npz"))
    with np.load(path) as z:
        fields = {k: z[k] for k in z.files}
    fields["v_eigenvalues"] = np.arange(5.0) * 2  # a valid archive with other numbers
    np.savez(path, **fields)
    assert cache.get(spec) is None


# ---------------------------------------------------------------- memory


@pytest.mark.parametrize(
    "argv",
    [
        ["simulate", "isotropic", "--alpha", "2", "--lam", "0.1", "--d", "90000", "--seeds", "2"],
        ["simulate", "ar1", "--rho", "0.5", "--alpha", "8", "--lam", "0.1", "--d", "60000", "--seeds", "2"],
        ["verify", "errors", "--quick", "--max-d", "131072"],
    ],
)
def test_a_d_that_cannot_fit_in_memory_is_refused_before_allocating(cli, tmp_path, argv):
    rc, out, err = cli(*argv, *(["--out", str(tmp_path)] if argv[0] == "verify" else ["--no-cache"]))
    assert rc == 2 and "GiB" in err and "d" in err and "Traceback" not in err, err


# ---------------------------------------------------------------- the command line itself


def test_version(cli):
    with pytest.raises(SystemExit) as exc:
        from rmtverify.cli import _parser

        _parser().parse_args(["--version"])
    assert exc.value.code == 0


def test_huge_jobs_are_capped_with_a_note(cli):
    rc, out, err = cli(*S, "--jobs", "64", "--no-cache", "--json")
    assert rc == 0 and "capped" in err and "Traceback" not in err
    assert json.loads(out)["seeds"] == 3


def test_negative_values_in_lists_need_no_equals_sign(cli):
    rc, out, err = cli("density", "isotropic", "--alpha", "0.5", "--lam", "0.1", "--x", "-0.5,0.9", "--json", "--dps", "15")
    assert rc == 0, err
    assert list(json.loads(out)["density"]) == ["-0.5", "0.9"]  # the values as typed, in order
