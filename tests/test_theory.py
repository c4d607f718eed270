"""Deterministic equivalents (SPEC §2) against independent computations.

Every reference value here is computed in the test itself, from the formulas
of SPEC §2 (closed forms, mpmath quadrature, dense NumPy linear algebra), not
from the library's derivations.
"""

from __future__ import annotations

import json
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import scipy.optimize

from rmtverify.core.exceptions import InputError
from rmtverify.core.precision import decimal
from rmtverify.models import make_model
from rmtverify.theory.equivalents import equivalents

KEYS = ("kappa", "df1", "df2", "e_gen", "e_train")


def local_ctx(dps):
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


def exact(ctx, x):
    q = Fraction(x)
    return ctx.mpf(q.numerator) / q.denominator


def agreeing_digits(ctx, value, reference):
    """Significant decimal digits on which ``value`` agrees with ``reference``."""
    value, reference = ctx.mpf(value), ctx.mpf(reference)
    if value == reference:
        return ctx.inf
    return -ctx.log10(abs(value - reference) / abs(reference))


def theory_json(cli, *argv):
    rc, out, err = cli("theory", *argv, "--json")
    assert rc == 0, err
    assert err == ""
    return json.loads(out)


# ---------------------------------------------------------------- isotropic closed forms


def isotropic_reference(alpha, lam, dps=70):
    ctx = local_ctx(dps)
    a, l = exact(ctx, alpha), exact(ctx, lam)
    k = (1 + a * l - a + ctx.sqrt((a - a * l - 1) ** 2 + 4 * a**2 * l)) / (2 * a)
    e_gen = 1 / (1 - 1 / (a * (1 + k) ** 2))
    return ctx, {
        "kappa": k,
        "df1": 1 / (1 + k),
        "df2": 1 / (1 + k) ** 2,
        "e_gen": e_gen,
        "e_train": (l / k) ** 2 * e_gen,
    }


def test_cli_isotropic_50_digits_match_closed_form(cli):
    out = theory_json(cli, "isotropic", "--alpha", "0.5", "--lam", "0.05", "--dps", "50")
    assert out["dps"] == 50 and out["d"] == "inf" and out["alpha"] == "1/2" and out["lam"] == "1/20"
    ctx, ref = isotropic_reference(Fraction(1, 2), Fraction(1, 20))
    for key in KEYS:
        got = agreeing_digits(ctx, out[key], ref[key])
        assert got >= 45, f"{key}: {out[key]} agrees with the closed form to {ctx.nstr(got, 3)} digits only"


@pytest.mark.parametrize("alpha,lam", [("3", "0.001"), ("1", "0.2"), ("0.1", "7")])
def test_api_isotropic_50_digits_match_closed_form(alpha, lam):
    res = equivalents(make_model("isotropic"), alpha, lam, dps=50).as_dict()
    ctx, ref = isotropic_reference(Fraction(alpha), Fraction(lam))
    for key in KEYS:
        assert agreeing_digits(ctx, res[key], ref[key]) >= 45, (key, res[key])


def test_result_strings_carry_the_requested_digits():
    res = equivalents(make_model("isotropic"), "0.5", "0.05", dps=50).as_dict()
    for key in KEYS:
        mantissa = res[key].split("e")[0].replace("-", "").replace(".", "").lstrip("0")
        assert len(mantissa) == 50, (key, res[key])
    dbl = equivalents(make_model("isotropic"), "0.5", "0.05", dps=None)
    assert dbl.as_dict()["dps"] == "double"
    ctx, ref = isotropic_reference(Fraction(1, 2), Fraction(1, 20))
    for key in KEYS:
        assert abs(dbl.float(key) / float(ref[key]) - 1) < 1e-13  # a few ulps through (λ/κ)²


# ---------------------------------------------------------------- AR(1) at d = inf


def ar1_limit_reference(rho, alpha, lam, dps=60):
    """κ, df1/d, df2/d, E_gen, E_train at d = ∞ by quadrature of the symbol (SPEC §2, §3)."""
    ctx = local_ctx(dps)
    r, a, l = exact(ctx, rho), exact(ctx, alpha), exact(ctx, lam)

    def f(w):
        return (1 - r**2) / (1 - 2 * r * ctx.cos(w) + r**2)

    nodes = [0, ctx.pi / 16, ctx.pi / 4, ctx.pi]  # the symbol peaks at 0 (ρ > 0) or π (ρ < 0)

    def mean(g):
        return ctx.quad(g, nodes) / ctx.pi

    k = ctx.findroot(lambda k: k - l - (k / a) * mean(lambda w: f(w) / (f(w) + k)), l + 1 / (2 * a))
    df1 = mean(lambda w: f(w) / (f(w) + k))
    df2 = mean(lambda w: f(w) ** 2 / (f(w) + k) ** 2)
    diag_rsr = mean(lambda w: f(w) / (f(w) + k) ** 2)
    diag_r = mean(lambda w: 1 / (f(w) + k))
    e_gen = (diag_rsr / diag_r**2) / (1 - df2 / a)
    return ctx, {"kappa": k, "df1": df1, "df2": df2, "e_gen": e_gen, "e_train": (l / k) ** 2 * e_gen}


@pytest.mark.parametrize(
    "rho,alpha,lam",
    [("-0.6", "0.5", "0.1"), ("0.8", "3", "0.01"), ("0.95", "1.5", "0.001"), ("-0.3", "0.25", "2")],
)
def test_cli_ar1_limit_matches_quadrature(cli, rho, alpha, lam):
    out = theory_json(cli, "ar1", "--rho", rho, "--alpha", alpha, "--lam", lam, "--dps", "50")
    assert out["d"] == "inf" and out["model"]["rho"] == str(Fraction(rho))
    ctx, ref = ar1_limit_reference(Fraction(rho), Fraction(alpha), Fraction(lam))
    for key in KEYS:
        got = agreeing_digits(ctx, out[key], ref[key])
        assert got >= 45, f"{key}: {out[key]} vs quadrature {ctx.nstr(ref[key], 50)} ({ctx.nstr(got, 3)} digits)"


@pytest.mark.parametrize("rho", ["0.6", "-0.8"])
def test_ar1_population_limit(rho):
    """α → ∞ then λ → 0: E_gen → 1/τ(0) = (1−ρ²)/(1+ρ²); ridgeless OLS adds the factor α/(α−1)."""
    alpha, lam = Fraction(10**8), Fraction(1, 10**12)
    res = equivalents(make_model("ar1", rho=rho), alpha, lam, dps=30)
    ctx = local_ctx(40)
    r, a = exact(ctx, rho), exact(ctx, alpha)
    floor = (1 - r**2) / (1 + r**2)
    e_gen = ctx.mpf(res.as_dict()["e_gen"])
    gap = e_gen - floor
    assert 0 < gap <= 2 * floor / a + exact(ctx, lam)
    # the O(1/α) part is the ridgeless factor α/(α−1); what is left is O(λ)
    assert abs(e_gen - floor * a / (a - 1)) <= exact(ctx, lam)


# ---------------------------------------------------------------- finite d against d = inf


def test_circulant_ar1_converges_to_limit_faster_than_any_power():
    model = make_model("ar1", rho="0.6", boundary="circulant")
    limit = equivalents(model, "0.5", "0.1", d="inf", dps=40)
    ctx = local_ctx(40)
    gaps = {}
    for d in (16, 32, 64):
        fd = equivalents(model, "0.5", "0.1", d=d, dps=40)
        gaps[d] = abs(ctx.mpf(fd.as_dict()["e_gen"]) - ctx.mpf(limit.as_dict()["e_gen"]))
    # 1/d would only halve the gap per doubling; the periodic model converges geometrically
    assert gaps[16] > 0
    assert gaps[32] < gaps[16] / 100
    assert gaps[64] < gaps[32] / 100
    assert gaps[64] < ctx.mpf(10) ** -25


def test_toeplitz_ar1_differs_from_limit_by_order_one_over_d():
    model = make_model("ar1", rho="0.6")
    for key in ("e_gen", "kappa"):
        limit = equivalents(model, "0.5", "0.1", d="inf", dps=30)
        scaled = []
        for d in (256, 512, 1024):
            fd = equivalents(model, "0.5", "0.1", d=d, dps=None)
            scaled.append(d * (fd.float(key) - limit.float(key)))
        assert all(s > 0.05 for s in scaled), scaled  # a real O(1/d) boundary effect, not rounding
        assert max(scaled) / min(scaled) < 1.10, scaled


# ---------------------------------------------------------------- double path against the mp path


def _finite_d_models(tmp_path):
    rng = np.random.default_rng(20260131)
    A = rng.standard_normal((16, 16))
    sigma = A @ A.T / 16 + 0.3 * np.eye(16)
    path = tmp_path / "sigma.npy"
    np.save(path, sigma)
    return [
        ("isotropic", {}, 40),
        ("spiked", {"theta": 3, "spike": "flat"}, 40),
        ("spiked", {"theta": "3,1.5", "spike": "flat", "rank": 2}, 40),
        ("spiked", {"theta": 3, "spike": "random"}, 40),
        ("spiked", {"theta": "3,1.5", "spike": "random", "rank": 2, "spike_seed": 5}, 40),
        ("spiked", {"theta": 3, "spike": "e1"}, 40),
        ("spiked", {"theta": "3,1.5", "spike": "e1", "rank": 2}, 64),
        ("ar1", {"rho": "0.6"}, 40),
        ("ar1", {"rho": "-0.8", "boundary": "toeplitz"}, 33),
        ("ar1", {"rho": "-0.5", "boundary": "circulant"}, 40),
        ("ar1", {"rho": "0.9", "boundary": "circulant"}, 31),
        ("custom", {"sigma": str(path)}, 16),
    ]


@pytest.mark.parametrize("alpha,lam", [("0.7", "0.1"), ("2.5", "0.01"), ("2", "0")])
def test_double_path_agrees_with_mp_path(tmp_path, alpha, lam):
    for name, opts, d in _finite_d_models(tmp_path):
        model = make_model(name, **opts)
        dbl = equivalents(model, alpha, lam, d=d, dps=None)
        mp = equivalents(model, alpha, lam, d=d, dps=30)
        for key in KEYS + ("dkappa_dlam",):
            a, b = dbl.float(key), float(getattr(mp, key))
            if b == 0:
                assert a == 0, (name, opts, key, a)
            else:
                assert abs(a / b - 1) < 1e-12, (name, opts, key, a, b)


# ---------------------------------------------------------------- dense reference at finite d


def dense_theory(sigma, alpha, lam):
    """SPEC §2 by dense linear algebra: κ by brentq on the eigenvalues, then R, E_gen, E_train."""
    d = sigma.shape[0]
    n = alpha * d
    ev = np.linalg.eigvalsh(sigma)
    if lam == 0 and alpha > 1:
        k = 0.0
    else:
        k = scipy.optimize.brentq(
            lambda k: k - lam - (k / n) * np.sum(ev / (ev + k)), max(lam, 1e-14), lam + ev.mean() / alpha + 1, xtol=1e-300, rtol=1e-15
        )
    R = np.linalg.inv(sigma + k * np.eye(d))
    SR = sigma @ R
    df2 = np.trace(SR @ SR)
    e_gen = np.mean(np.diag(R @ sigma @ R) / np.diag(R) ** 2) / (1 - df2 / n)
    q = lam / k if k > 0 else 1 - np.trace(SR) / n
    return {"kappa": k, "df1": np.trace(SR) / d, "df2": df2 / d, "e_gen": e_gen, "e_train": q * q * e_gen}


@pytest.mark.parametrize("alpha,lam", [(0.75, 0.05), (3.0, 0.5), (0.5, 0.0), (2.0, 0.0)])
def test_custom_model_matches_dense_computation(tmp_path, alpha, lam):
    rng = np.random.default_rng(7)
    d = 12
    A = rng.standard_normal((d, d))
    sigma = A @ A.T / d + 0.2 * np.eye(d)
    np.save(tmp_path / "s.npy", sigma)
    model = make_model("custom", sigma=str(tmp_path / "s.npy"))
    ref = dense_theory(sigma, alpha, lam)
    for dps in (None, 30):
        res = equivalents(model, alpha, lam, dps=dps)
        assert res.d == d
        for key in KEYS:
            if ref[key] == 0:
                assert float(getattr(res, key)) == 0
            else:
                assert abs(float(getattr(res, key)) / ref[key] - 1) < 1e-12, (dps, key, getattr(res, key), ref[key])


@pytest.mark.parametrize(
    "name,opts",
    [
        ("spiked", {"theta": "3,1.5", "spike": "flat", "rank": 2}),
        ("spiked", {"theta": 4, "spike": "random", "rank": 2}),
        ("spiked", {"theta": "3,1.5", "spike": "e1", "rank": 2}),
        ("ar1", {"rho": "0.6"}),
        ("ar1", {"rho": "-0.8"}),
        ("ar1", {"rho": "-0.5", "boundary": "circulant"}),
    ],
)
def test_structured_models_match_dense_computation_on_their_sigma(name, opts):
    """The O(d) resolvents (Woodbury, tridiagonal pivots, Fourier) equal dense algebra on model.sigma(d)."""
    model = make_model(name, **opts)
    for d in (3, 24):
        for alpha, lam in ((0.5, 0.1), (2.0, 0.01), (2.0, 0.0), (0.5, 0.0)):
            ref = dense_theory(model.sigma(d), alpha, lam)
            res = equivalents(model, alpha, lam, d=d, dps=None)
            for key in KEYS:
                if ref[key] == 0:
                    assert res.float(key) == 0
                else:
                    assert abs(res.float(key) / ref[key] - 1) < 1e-12, (d, alpha, lam, key)


def test_custom_exact_rows_at_high_precision():
    """A Σ given exactly (Fractions) is inverted in ball arithmetic: diagonal Σ has R_kk = 1/(σ_k + κ)."""
    spectrum = [Fraction(1, 2), Fraction(2), Fraction(5)]
    rows = [[spectrum[i] if i == j else Fraction(0) for j in range(3)] for i in range(3)]
    alpha, lam = Fraction(3, 2), Fraction(1, 10)
    res = equivalents(make_model("custom", sigma=rows), alpha, lam, dps=40).as_dict()
    ctx = local_ctx(70)
    s = [exact(ctx, x) for x in spectrum]
    a, l = exact(ctx, alpha), exact(ctx, lam)
    k = ctx.findroot(lambda k: k - l - (k / (3 * a)) * ctx.fsum(x / (x + k) for x in s), l + 1 / a)
    df2 = ctx.fsum((x / (x + k)) ** 2 for x in s) / 3
    # diagonal Σ: [RΣR]_kk / R_kk² = σ_k, so E_gen = mean σ / (1 − df2/n)
    e_gen = ctx.fsum(s) / 3 / (1 - df2 / a)
    assert agreeing_digits(ctx, res["kappa"], k) >= 38
    assert agreeing_digits(ctx, res["e_gen"], e_gen) >= 38
    assert agreeing_digits(ctx, res["e_train"], (l / k) ** 2 * e_gen) >= 38


# ---------------------------------------------------------------- ridgeless λ = 0


def test_ridgeless_isotropic_alpha_2():
    res = equivalents(make_model("isotropic"), 2, 0, dps=30).as_dict()
    ctx = local_ctx(30)
    assert ctx.mpf(res["kappa"]) == 0
    assert abs(ctx.mpf(res["e_gen"]) - 2) < ctx.mpf(10) ** -29
    assert abs(ctx.mpf(res["e_train"]) - ctx.mpf(1) / 2) < ctx.mpf(10) ** -29


def test_ridgeless_isotropic_alpha_half():
    res = equivalents(make_model("isotropic"), "0.5", 0, dps=30).as_dict()
    ctx = local_ctx(30)
    assert abs(ctx.mpf(res["kappa"]) - 1) < ctx.mpf(10) ** -29
    assert abs(ctx.mpf(res["e_gen"]) - 2) < ctx.mpf(10) ** -29
    assert ctx.mpf(res["e_train"]) == 0


def test_ridgeless_is_the_limit_of_small_ridge():
    model = make_model("ar1", rho="0.5")
    for alpha in ("0.5", "2"):
        zero = equivalents(model, alpha, 0, dps=30)
        tiny = equivalents(model, alpha, Fraction(1, 10**20), dps=30)
        for key in KEYS:
            a, b = float(getattr(zero, key)), float(getattr(tiny, key))
            assert abs(a - b) <= 1e-15 * max(1.0, abs(b)), (alpha, key, a, b)


def test_ridgeless_at_alpha_one_is_refused():
    with pytest.raises(InputError) as exc:
        equivalents(make_model("isotropic"), 1, 0)
    assert exc.value.parameter == "lam"
    assert "lam" in str(exc.value)


# ---------------------------------------------------------------- monotonicity, bounds, derivative


def test_kappa_increases_with_lambda_and_exceeds_it():
    model = make_model("ar1", rho="0.7")
    lams = [Fraction(1, 1000), Fraction(1, 100), Fraction(1, 10), Fraction(1), Fraction(10)]
    for alpha in ("0.4", "3"):
        kappas = [float(equivalents(model, alpha, lam, dps=20).kappa) for lam in lams]
        assert all(k2 > k1 for k1, k2 in zip(kappas, kappas[1:])), kappas
        assert all(k >= float(lam) for k, lam in zip(kappas, lams)), kappas


@pytest.mark.parametrize("rho", ["-0.8", "0.5", "0.95"])
def test_e_gen_never_below_population_floor(rho):
    model = make_model("ar1", rho=rho)
    r = float(Fraction(rho))
    floor = (1 - r * r) / (1 + r * r)
    for alpha in ("0.3", "1.5", "10", "1000"):
        for lam in ("0", "0.001", "0.1", "1"):
            if alpha == "1" and lam == "0":
                continue
            e_gen = equivalents(model, alpha, lam, dps=20).float("e_gen")
            assert e_gen > floor, (alpha, lam, e_gen, floor)
            # and E_train never exceeds E_gen (λ/κ ≤ 1)
            assert equivalents(model, alpha, lam, dps=20).float("e_train") <= e_gen


@pytest.mark.parametrize(
    "name,opts,d",
    [("ar1", {"rho": "0.6"}, "inf"), ("ar1", {"rho": "-0.4"}, 20), ("spiked", {"theta": 5, "spike": "e1"}, 30), ("isotropic", {}, "inf")],
)
def test_dkappa_dlam_equals_finite_difference(name, opts, d):
    model = make_model(name, **opts)
    alpha, lam, h = Fraction(7, 10), Fraction(1, 5), Fraction(1, 10**12)
    ctx = local_ctx(40)
    res = equivalents(model, alpha, lam, d=d, dps=40)
    k_plus = ctx.mpf(equivalents(model, alpha, lam + h, d=d, dps=40).as_dict()["kappa"])
    k_minus = ctx.mpf(equivalents(model, alpha, lam - h, d=d, dps=40).as_dict()["kappa"])
    fd = (k_plus - k_minus) / (2 * exact(ctx, h))  # error O(h²) ~ 1e-24, rounding ~ 1e-28
    analytic = ctx.mpf(res.as_dict()["dkappa_dlam"])
    assert abs(analytic / fd - 1) < ctx.mpf(10) ** -20
    assert analytic > 1  # κ grows faster than λ: 1/(1 − df2/n) > 1


# ---------------------------------------------------------------- digits are delivered


@pytest.mark.parametrize(
    "name,opts,d", [("ar1", {"rho": "0.3"}, "inf"), ("isotropic", {}, "inf"), ("spiked", {"theta": 2, "spike": "random"}, 12)]
)
def test_digits_are_delivered(name, opts, d):
    model = make_model(name, **opts)
    r40 = equivalents(model, "0.7", "0.2", d=d, dps=40)
    r60 = equivalents(model, "0.7", "0.2", d=d, dps=60)
    ctx = local_ctx(80)
    for key in ("e_gen", "kappa", "e_train"):
        s40 = r40.as_dict()[key]
        s60_rounded = decimal(r60.ctx, getattr(r60, key), 40)
        assert s60_rounded == s40 or agreeing_digits(ctx, s60_rounded, s40) >= 39, (key, s40, s60_rounded)
        # the 60-digit string itself agrees with the 40-digit one to 40 digits
        assert agreeing_digits(ctx, r60.as_dict()[key], s40) >= 39.5


@pytest.mark.parametrize("dps", [15, 50, 200])
def test_every_printed_digit_is_correctly_rounded(cli, dps):
    """Each decimal string is the true value rounded to dps significant digits (error ≤ half a unit in the last place)."""
    out = theory_json(cli, "isotropic", "--alpha", "0.3", "--lam", "0.02", "--dps", str(dps))
    ctx, ref = isotropic_reference(Fraction(3, 10), Fraction(1, 50), dps=dps + 40)
    for key in KEYS:
        true = ref[key]
        exponent = int(ctx.floor(ctx.log10(abs(true))))
        half_ulp = ctx.mpf(10) ** (exponent - dps + 1) / 2
        assert abs(ctx.mpf(out[key]) - true) <= half_ulp * (1 + ctx.mpf(10) ** -10), (key, out[key])
