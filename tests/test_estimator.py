"""MaskedSSR: the closed form Â = I − QD^{-1} (SPEC §1, claim C1) and its error functionals."""

from __future__ import annotations

import numpy as np
import pytest

from rmtverify.core.exceptions import InputError
from rmtverify.models import make_model
from rmtverify.montecarlo.engine import seed_sequence
from rmtverify.montecarlo.estimators import MaskedSSR, masked_ridge_reference
from rmtverify.montecarlo.kernels import errors_from_gram


def rel_diff(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


@pytest.mark.parametrize("n,d", [(90, 30), (30, 30), (15, 40)], ids=["n>d", "n=d", "n<d"])
@pytest.mark.parametrize("lam", [1e-3, 0.1, 3.0])
def test_closed_form_equals_masked_ridge_regressions(n, d, lam):
    rng = np.random.default_rng(1000 + n + d)
    X = rng.standard_normal((n, d)) @ np.diag(np.linspace(0.5, 2, d))
    est = MaskedSSR(lam).fit(X)
    ref = masked_ridge_reference(X, lam)
    cond = np.linalg.cond(X.T @ X / n + lam * np.eye(d))
    assert rel_diff(est.coef_, ref) <= max(1e-12, 100 * np.finfo(float).eps * cond)
    assert np.all(np.diag(est.coef_) == 0.0)  # exactly, not approximately
    assert est.coef_.shape == (d, d)
    # a wrong closed form (Q D^{-1} without the identity, or D on the wrong side) is far off
    Q = est.resolvent_
    assert rel_diff(np.eye(d) - np.diag(1 / np.diag(Q)) @ Q, ref) > 1e-3


def test_column_k_is_the_ridge_regression_of_coordinate_k():
    rng = np.random.default_rng(5)
    n, d, lam = 50, 8, 0.3
    X = rng.standard_normal((n, d))
    A = MaskedSSR(lam).fit(X).coef_
    for k in (0, 3, 7):
        rest = [j for j in range(d) if j != k]
        Z, y = X[:, rest], X[:, k]
        a = np.linalg.solve(Z.T @ Z / n + lam * np.eye(d - 1), Z.T @ y / n)
        assert np.allclose(A[rest, k], a, rtol=1e-12, atol=1e-14)


def test_ridgeless_needs_n_above_d():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 10))
    est = MaskedSSR(0).fit(X)
    assert rel_diff(est.coef_, masked_ridge_reference(X, 0)) < 1e-12
    with pytest.raises(InputError) as exc:
        MaskedSSR(0).fit(rng.standard_normal((10, 10)))
    assert exc.value.parameter == "lam"


@pytest.mark.parametrize("bad,param", [(-0.1, "lam"), (float("nan"), "lam"), (float("inf"), "lam")])
def test_bad_lambda_is_refused(bad, param):
    X = np.random.default_rng(0).standard_normal((20, 5))
    with pytest.raises(InputError) as exc:
        MaskedSSR(bad).fit(X)
    assert exc.value.parameter == param


@pytest.mark.parametrize("X", [np.ones(5), np.ones((5, 1)), np.full((4, 3), np.nan), np.ones((2, 2, 2))])
def test_bad_data_is_refused(X):
    with pytest.raises(InputError) as exc:
        MaskedSSR(0.1).fit(X)
    assert exc.value.parameter == "X"


@pytest.mark.parametrize(
    "name,opts,d,n",
    [("ar1", {"rho": "0.5"}, 20, 30), ("spiked", {"theta": 4, "spike": "e1"}, 25, 10), ("isotropic", {}, 16, 64)],
)
def test_errors_equal_the_simulation_engine(name, opts, d, n):
    """The estimator's E_train, E_gen and the engine's eigendecomposition route agree on one data set."""
    model = make_model(name, **opts)
    lams = [0.01, 0.1, 1.0]
    X = model.sample(n, d, np.random.default_rng(seed_sequence(11, "estimator-test", d, 0)))
    engine = errors_from_gram(model, d, X.T @ X / n, lams)  # the engine's per-sample work, on these data
    sigma = model.sigma(d)
    for i, lam in enumerate(lams):
        est = MaskedSSR(lam).fit(X)
        R = X - X @ est.coef_
        assert abs(est.train_error(X) - np.sum(R * R) / (n * d)) < 1e-14 * est.train_error(X)
        # two different float64 routes (Cholesky vs eigendecomposition): rounding grows with cond(S + λI)
        tol = max(1e-12, 100 * np.finfo(float).eps * np.linalg.cond(X.T @ X / n + lam * np.eye(d)))
        assert abs(est.train_error(X) / engine["e_train"][i] - 1) < tol
        assert abs(est.generalization_error(sigma) / engine["e_gen"][i] - 1) < tol
    # different λ give genuinely different errors (the comparison above is not vacuous)
    assert len(set(np.round(engine["e_gen"], 8))) == 3


def test_generalization_error_is_the_expected_test_error():
    """E_gen = E_x ‖x − Âᵀx‖²/d, estimated on fresh samples (SE-controlled)."""
    model = make_model("ar1", rho="0.7")
    d, n, lam = 10, 40, 0.2
    rng = np.random.default_rng(3)
    est = MaskedSSR(lam).fit(model.sample(n, d, rng))
    x = model.sample(200_000, d, rng)
    per_row = np.sum((x - x @ est.coef_) ** 2, axis=1) / d
    se = per_row.std(ddof=1) / np.sqrt(len(per_row))
    assert abs(per_row.mean() - est.generalization_error(model.sigma(d))) < 4 * se


def test_permutation_equivariance():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((60, 12)) @ rng.standard_normal((12, 12))
    perm = rng.permutation(12)
    A = MaskedSSR(0.2).fit(X).coef_
    Ap = MaskedSSR(0.2).fit(X[:, perm]).coef_
    assert rel_diff(Ap, A[np.ix_(perm, perm)]) < 1e-12
    assert rel_diff(Ap, A) > 1e-2  # the permutation really moved things


@pytest.mark.parametrize("c", [1e-3, 0.37, 25.0])
def test_scaling_x_by_c_and_lambda_by_c_squared(c):
    rng = np.random.default_rng(9)
    X = rng.standard_normal((30, 15))
    lam = 0.05
    A = MaskedSSR(lam).fit(X).coef_
    Ac = MaskedSSR(lam * c * c).fit(c * X).coef_
    assert rel_diff(Ac, A) < 1e-12
    # scaling X alone changes Â (λ then acts differently)
    assert rel_diff(MaskedSSR(lam).fit(c * X).coef_, A) > 1e-4
