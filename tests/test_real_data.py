"""Real data (SPEC §7, issue 16): the DataModel (Σ of the file, draws without replacement, n ≤ N/4, bad files refused
naming ``data``) and the claim real-data on scikit-learn's digits (an optional extra; skipped with a reason without it)."""

from __future__ import annotations

import json
import sys
from fractions import Fraction

import numpy as np
import pytest

from rmtverify.core.exceptions import InputError
from rmtverify.models import make_model
from rmtverify.models.custom import Custom
from rmtverify.models.data import DataModel
from rmtverify.montecarlo.sample import Sample
from rmtverify.theory.equivalents import equivalents
from rmtverify.verification.claim import Point, RunOptions


def _data(N=400, d=6, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d)) @ rng.standard_normal((d, d)) + 3.0
    X[:, 2] = 7.0  # a constant column
    return X


@pytest.fixture
def npy(tmp_path):
    path = tmp_path / "data.npy"
    np.save(path, _data())
    return path


def test_sigma_is_the_covariance_of_the_whole_file_without_its_constant_columns(npy):
    X = _data()
    m = DataModel(npy)
    kept = np.delete(X, 2, axis=1)
    assert m.d == 5 and m.N == 400 and m.constant == [2]
    np.testing.assert_allclose(m.sigma(5), np.cov(kept, rowvar=False, bias=True), rtol=1e-12)
    d = m.describe()
    assert d["dropped_constant"] == "2" and d["columns"] == 6 and len(d["sha256"]) == 16 and d["sha256"] in m.key()
    s = DataModel(npy, standardize="true")
    np.testing.assert_allclose(np.diag(s.sigma(5)), np.ones(5), rtol=1e-12)
    assert s.key() != m.key()
    with pytest.raises(InputError, match="d must be 5") as e:
        m.check_d(6)
    assert e.value.parameter == "d"


def test_csv_with_a_header_is_the_same_population(tmp_path, npy):
    csv = tmp_path / "data.csv"
    X = _data()
    csv.write_text("a,b,c,d,e,f\n" + "\n".join(",".join(repr(float(v)) for v in row) for row in X) + "\n")
    a, b = DataModel(npy), DataModel(csv)
    np.testing.assert_array_equal(a.sigma(5), b.sigma(5))
    assert a.digest != b.digest  # the key hashes the file's bytes


def test_draws_are_rows_of_the_file_without_replacement(npy):
    m = DataModel(npy)
    X = m.sample(100, 5, np.random.default_rng(0))
    centred = np.delete(_data(), 2, axis=1) - np.delete(_data(), 2, axis=1).mean(axis=0)
    rows = {tuple(r) for r in centred}
    assert X.shape == (100, 5) and all(tuple(r) in rows for r in X)
    assert len({tuple(r) for r in X}) == 100  # no row twice
    assert not m.gaussian
    # a sample of the engine draws the same way, and its E_gen is against the data covariance
    s = Sample(m, 5, 100, np.random.SeedSequence(3), "rows")
    assert len({tuple(r) for r in s.X}) == 100 and np.array_equal(s.Sigma, m.sigma(5))


def test_more_than_a_quarter_of_the_rows_is_refused_naming_alpha(npy):
    m = DataModel(npy)
    assert m.max_n == 100
    with pytest.raises(InputError, match=r"n = 101 rows exceed N/4 = 100 .*nearly independent") as e:
        m.sample(101, 5, np.random.default_rng(0))
    assert e.value.parameter == "alpha" and "\n" not in str(e.value)
    assert DataModel(npy, draws="with").sample(300, 5, np.random.default_rng(0)).shape == (300, 5)  # a control: i.i.d. rows


@pytest.mark.parametrize("content, match", [
    (None, "does not exist"),
    (b"1,2\n3,x\n", "not a numeric .csv"),
    (b"\x93NUMPY garbage", "damaged"),
    (b"\xff\xfe\x00binary", "neither a .npy file nor a text"),
    (b"1,2\n3,4,5\n", "unequal length"),
])
def test_bad_files_are_refused_naming_data(tmp_path, content, match):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=match) as e:
        DataModel(path)
    assert e.value.parameter == "data" and "\n" not in str(e.value)


@pytest.mark.parametrize("arr, match", [
    (np.arange(10.0), "must be a matrix"),
    (np.array([[1.0, np.nan]] * 10), "NaN"),
    (np.ones((10, 3)), "columns vary"),
    (np.array([["a", "b"]] * 10), "real numeric"),
    (np.ones((4, 3)), "at least 2 columns and 8 rows"),
])
def test_invalid_arrays_are_refused_naming_data(tmp_path, arr, match):
    path = tmp_path / "bad.npy"
    np.save(path, arr)
    with pytest.raises(InputError, match=match) as e:
        DataModel(path)
    assert e.value.parameter == "data"


def test_object_npy_and_standardize_option(tmp_path):
    path = tmp_path / "obj.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="Python objects"):
        DataModel(path)
    with pytest.raises(InputError) as e:
        DataModel(tmp_path / "x.npy", standardize="maybe")
    assert e.value.parameter == "standardize"


def test_registered_model_point_and_theory_equal_a_custom_sigma(npy):
    m = make_model("data", path=str(npy))
    assert isinstance(m, DataModel)
    with pytest.raises(InputError) as e:
        make_model("data")
    assert e.value.parameter == "path"
    p = Point({"model": "data", "path": str(npy), "standardize": "false", "alpha": "10", "lam": "1/2"})
    assert p.model.d == 5 and p.n(5) == 50
    ours = equivalents(m, 10, Fraction(1, 2), d=5, dps=30).as_dict()
    ref = equivalents(Custom(m.sigma(5)), 10, Fraction(1, 2), d=5, dps=30).as_dict()
    assert ours["e_gen"] == ref["e_gen"] and ours["kappa"] == ref["kappa"]


# ---------------------------------------------------------------- the claim on the digits


def test_without_scikit_learn_the_claim_says_how_to_install_it(monkeypatch):
    from rmtverify.verification.claims.real_data import RealData

    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(InputError, match=r"pip install 'rmtverify\[data\]'") as e:
        RealData().run(RunOptions(quick=True))
    assert e.value.parameter == "data"


@pytest.fixture(scope="module")
def digits_runs(tmp_path_factory):
    pytest.importorskip("sklearn", reason="the real-data claim needs the optional extra: pip install 'rmtverify[data]'")
    from rmtverify.reports.render import write_outcome
    from rmtverify.verification.claims.real_data import RealData

    out = {}
    for which, eps in (("good", 0), ("bad", Fraction(1, 100))):
        outcome = RealData().run(RunOptions(quick=True, perturb=Fraction(eps)))
        where = tmp_path_factory.mktemp(which)
        write_outcome(outcome, where)
        out[which] = (outcome, where)
    return out


def test_digits_learning_curve_passes_with_its_table_and_figure(digits_runs):
    outcome, where = digits_runs["good"]
    assert outcome.status == "PASS", outcome.summary
    curve = outcome.data["curve"]
    assert [r["alpha"] for r in curve] == ["1/2", "1", "2", "4", "6"] and outcome.data["d"] == 61
    assert all(r["n"] <= 1797 // 4 for r in curve)
    assert all(abs(r["without"]["rel_gap"]) <= 0.03 for r in curve)
    # the largest α resolves the data's departure from the Gaussian equivalent; Gaussian rows sit close to it
    top = curve[-1]
    assert abs(top["without"]["rel_gap"]) > 4 * top["without"]["rel_gap_se"]
    assert abs(top["gaussian"]["rel_gap"]) < 0.005
    md = (where / "real-data.md").read_text()
    assert "| α | n | theory E_gen |" in md and "](real-data-curve.png)" in md and "64 columns less the 3 constant over the data" in md
    assert (where / "real-data-curve.png").stat().st_size > 10_000


def test_a_one_percent_error_is_detected_where_the_claim_has_the_power(digits_runs):
    outcome, _ = digits_runs["bad"]
    assert outcome.status == "FAIL" and outcome.perturb == "1/100"
    failed = [r for r in outcome.data["curve"] if r["status"] == "FAIL"]
    powered = [r for r in outcome.data["curve"] if 0.0075 + 4 * r["gaussian"]["rel_gap_se"] < 0.01]
    assert powered and all(r in failed for r in powered)


def _gaussian_file(path, N=10000, d=100, seed=3):
    rng = np.random.default_rng(seed)
    mix = np.eye(d) + rng.standard_normal((d, d)) / (3 * np.sqrt(d))
    np.save(path, rng.standard_normal((N, d)) @ mix * 5.0)
    return path


def test_verify_real_data_on_a_users_file_needs_no_extra_and_detects_one_percent(cli, tmp_path, monkeypatch):
    """verify real-data --data FILE: the learning curve of the user's file (here Gaussian rows, so the data and the Gaussian draws
    agree); a 1% error of the theory FAILs; reports go to a folder of their own; no scikit-learn needed."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "sklearn", None)
    path = _gaussian_file(tmp_path / "rows.npy")
    rc, out, err = cli("verify", "real-data", "--quick", "--data", str(path), "--standardize", "--quiet", "--no-cache")
    assert rc == 0 and "real-data (C9): PASS" in out, out + err
    report = json.loads((tmp_path / "reports" / "quick" / "data-rows" / "real-data.json").read_text())
    assert report["run"]["parameters"]["data"]["d"] == 100 and report["run"]["parameters"]["data"]["standardize"] is True
    assert report["lam"] == "1/10"  # (tr Σ/d)/10 of standardised columns
    assert not (tmp_path / "reports" / "real-data.md").exists()
    rc, out, err = cli("verify", "real-data", "--quick", "--data", str(path), "--standardize", "--perturb", "0.01", "--quiet", "--no-cache")
    assert rc == 1 and "FAIL" in out, out + err


@pytest.mark.parametrize("argv, param, words", [
    (("verify", "spectrum", "--data", "x.npy"), "data", "verifies no data set"),
    (("verify", "real-data", "--law", "student", "--nu", "5"), "law", "no Monte Carlo points"),
    (("verify", "real-data", "--data", "missing.npy"), "data", "does not exist"),
    (("verify", "real-data", "--standardize"), "standardize", "goes with --data"),
])
def test_verify_refuses_a_data_set_or_law_the_claim_cannot_take(cli, tmp_path, monkeypatch, argv, param, words):
    monkeypatch.chdir(tmp_path)
    rc, out, err = cli(*argv)
    assert rc == 2 and err.startswith(f"rmtverify verify: error: {param}:") and words in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").rglob("*.md"))


def test_a_too_small_file_is_refused_naming_data_with_the_rows_it_needs(tmp_path):
    from rmtverify.verification.claims.real_data import RealData

    np.save(tmp_path / "small.npy", np.random.default_rng(0).standard_normal((60, 40)))
    with pytest.raises(InputError, match=r"N ≥ 160 rows") as e:
        RealData().run(RunOptions(quick=True, data={"path": str(tmp_path / "small.npy")}))
    assert e.value.parameter == "data"


def test_a_claim_files_data_path_is_relative_to_the_file(tmp_path, npy):
    folder = npy.parent
    p = Point({"model": "data", "path": npy.name, "alpha": "1/2", "lam": "1/10"}, base_dir=folder)
    assert p.model.N == 400 and p.options["path"] == str(folder / npy.name)
