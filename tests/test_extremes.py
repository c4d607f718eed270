"""Every command at the extremes: λ and α from 1e-300 to 1e300 (the other at a typical value), through the command line
in process (``rmtverify.cli.main``, with --json). Each run either answers — exit 0, every value finite and equal to the
right limit — or refuses — exit 2, one line naming the parameter; never a wrong or non-finite number with exit 0, never a
traceback.

The limits checked (derivations train_gen, isotropic, spectrum, bbp; references evaluated here in mpmath, far above the
printed digits, never by the library's own code path):

- Σ = I: κ, df1/d, df2/d, E_gen, E_train against the closed form (κ₊ of the quadratic) at every point, so in particular
  E_gen → tr Σ/d = 1 as λ → ∞ and as α → 0 or α → ∞ (λ fixed), and E_gen → α/(α − 1) as λ → 0 (α > 1, ridgeless);
- AR(1), d = ∞: E_gen → (μ₁ + 2(s − μ₂)/κ)(1 + μ₂/(ακ²)) + O(κ^-2) at large κ (λ → ∞ or α → 0; tr Σ/d = 1, approached
  from below at fixed α), E_gen → (α/(α − 1)) × the population floor (1 − ρ²)/(1 + ρ²) as λ → 0, and E_gen → the
  population ridge error (m + λm')/m² at m = τ(λ) as α → ∞;
- the double-precision path at finite d agrees with the multiprecision one at the extremes;
- the density's support is the push-forward of Marchenko–Pastur's [(1 − 1/√α)², (1 + 1/√α)²] (with the atom 1 − α at
  φ(0) for α < 1, and the hard edge φ(0) at α = 1), inside the declared range, and refused outside it;
- θ_c = 1/√α for a flat spike on Σ = I (S and Â); the e1 threshold of Â is the closed form at κ₊, or ∞;
- the Monte Carlo: E_gen → tr Σ/d as λ → ∞ (P = λQ → I exactly), the ridgeless value as λ → 0.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from fractions import Fraction

import mpmath
import pytest
from conftest import printed_digits_right

from rmtverify.core.params import MAX_D, MAX_EXPONENT, MAX_N_MONTE_CARLO, long_integer_strings, parse
from rmtverify.symbolic.formulas import bind

DECADES = (-300, -100, -30, -10, -3, 0, 3, 10, 30, 100, 300)
#: (alpha, lam) sweeps: λ over the decades at α = 2, α over the decades at λ = 1/10
SWEEP = [("2", f"1e{k}") for k in DECADES] + [(f"1e{k}", "0.1") for k in DECADES]
IDS = [f"alpha={a},lam={lam}" for a, lam in SWEEP]
DPS = 20


def ctx_at(dps):
    c = mpmath.MPContext()
    c.dps = dps
    return c


def q(ctx, text):
    """An exact decimal (or ratio) text as a number of ctx."""
    x = Fraction(text)
    return ctx.mpf(x.numerator) / x.denominator


def formula(name, ctx):
    """A derivation result in ctx, for a reference (not recorded as a binding of the library)."""
    return bind(name, ctx, record=False)


def run(cli, *argv):
    """Run a command; assert it answered (0) or refused (2) cleanly. Returns (rc, parsed JSON or None, stderr)."""
    rc, out, err = cli(*argv, "--json")
    assert "Traceback" not in err and "Traceback" not in out, err
    assert rc in (0, 2), (rc, argv, err[-500:])
    if rc == 2:
        lines = err.strip().splitlines()
        assert out == "" and len(lines) == 1, (argv, err)
        return rc, None, lines[0]
    return rc, json.loads(out), err


def refused_by(line, *names):
    """The refusal names one of ``names`` and says what is allowed."""
    param = line.split(": error: ", 1)[1].split(":", 1)[0]
    assert param in names, line
    assert any(w in line for w in ("must", "allowed", "computed while", "lies beyond", "not defined")), line
    return param


def agree(ctx, text, ref, rel):
    x = num(ctx, text)
    if ref == 0:
        return x == 0
    return abs(x - ref) <= rel * abs(ref)


def num(ctx, text):
    """A printed decimal (any number of digits) as a number of ctx."""
    with long_integer_strings():
        return ctx.mpf(text)


def finite(*texts):
    for t in texts:
        assert mpmath.isfinite(mpmath.mpf(t)), texts


# --------------------------------------------------------------------------------------------- parse-time bounds


@pytest.mark.parametrize("argv", [
    ("theory", "isotropic", "--alpha", "1e999999999", "--lam", "0.1"),
    ("theory", "isotropic", "--alpha", "2", "--lam", "1e-999999999"),
    ("theory", "isotropic", "--alpha", "2", "--lam", "1e301"),
    ("density", "isotropic", "--alpha", "2", "--lam", "0.1", "--x", "1e999999999"),
    ("theory", "mixture", "--atoms", "1,1e999999999", "--alpha", "2", "--lam", "0.1"),
    ("simulate", "isotropic", "--alpha", "2", "--lam", "0.1", "--d", "1000000000"),
    ("theory", "ar1", "--rho", "0.5", "--alpha", "2", "--lam", "0.1", "--d", "1000000000"),
    ("theory", "ar1", "--rho", "0.5", "--alpha", "2", "--lam", "0.1", "--d", "100000"),
])
def test_work_is_bounded_at_parse_time(cli, argv):
    """A number whose exponent is beyond ±300 and a dimension beyond the declared maxima are refused at once."""
    t0 = time.perf_counter()
    rc, _, line = run(cli, *argv)
    assert rc == 2 and time.perf_counter() - t0 < 5
    refused_by(line, "alpha", "lam", "x", "atoms", "d")
    assert "[-300, 300]" in line or "at most" in line, line


def test_exponent_bound_is_exact_and_long_numbers_parse():
    assert parse("lam", f"1e{MAX_EXPONENT}") == 10**MAX_EXPONENT
    assert parse("lam", f"1e-{MAX_EXPONENT}") == Fraction(1, 10**MAX_EXPONENT)
    assert parse("lam", "9.99e300") and parse("d", str(MAX_D)) == MAX_D
    old = sys.get_int_max_str_digits()
    x = parse("alpha", "0." + "3" * 9000)  # 9000 digits: beyond Python's 4300-digit int-string limit
    assert x.denominator == 10**9000 and sys.get_int_max_str_digits() == old


# --------------------------------------------------------------------------------------------- theory


def iso_closed(ctx, alpha, lam):
    """κ₊, df1/d, df2/d, E_gen, E_train of Σ = I from the quadratic ακ² + (α − αλ − 1)κ − αλ = 0 (at ctx's precision,
    which is far above the cancellation the plain formula suffers at the extremes)."""
    a, l = q(ctx, alpha), q(ctx, lam)
    b = a - a * l - 1
    k = (-b + ctx.sqrt(b * b + 4 * a * a * l)) / (2 * a)
    e_gen = 1 / (1 - 1 / (a * (1 + k) ** 2))
    return {"kappa": k, "df1": 1 / (1 + k), "df2": 1 / (1 + k) ** 2, "e_gen": e_gen, "e_train": (l / k) ** 2 * e_gen}


@pytest.mark.parametrize("alpha,lam", SWEEP, ids=IDS)
def test_theory_isotropic_is_the_closed_form_at_every_extreme(cli, alpha, lam):
    rc, out, _ = run(cli, "theory", "isotropic", "--alpha", alpha, "--lam", lam, "--dps", DPS)
    assert rc == 0
    ctx = ctx_at(1500)
    ref = iso_closed(ctx, alpha, lam)
    for key, val in ref.items():
        assert agree(ctx, out[key], val, ctx.mpf(10) ** -(DPS - 2)), (key, out[key], ctx.nstr(val, 25))
    e = ctx.mpf(out["e_gen"])
    a, l = q(ctx, alpha), q(ctx, lam)
    if l >= 10**10 or a <= ctx.mpf(10) ** -10 or a >= 10**10:
        assert abs(e - 1) <= ctx.mpf(10) ** -9  # E_gen → tr Σ/d = 1
    if a == 2 and l <= ctx.mpf(10) ** -10:
        ridgeless = formula("isotropic.e_gen_ridgeless_gt1", ctx)(a)  # α/(α − 1) = 2
        assert abs(e - ridgeless) <= 10 * l * ridgeless


AR1_RHO = "0.5"


@pytest.mark.parametrize("alpha,lam", SWEEP, ids=IDS)
def test_theory_ar1_reaches_its_limits(cli, alpha, lam):
    rc, out, _ = run(cli, "theory", "ar1", "--rho", AR1_RHO, "--alpha", alpha, "--lam", lam, "--dps", DPS)
    assert rc == 0
    finite(*(out[k] for k in ("kappa", "df1", "df2", "e_gen", "e_train", "dkappa_dlam")))
    ctx = ctx_at(60)
    a, l, r = q(ctx, alpha), q(ctx, lam), q(ctx, AR1_RHO)
    kappa, e = ctx.mpf(out["kappa"]), ctx.mpf(out["e_gen"])
    floor = formula("ar1.population_floor", ctx)(r)
    assert e >= floor * (1 - ctx.mpf(10) ** -(DPS - 2)) and ctx.mpf(out["e_train"]) >= 0
    if kappa >= 10**10:  # λ → ∞ or α → 0
        mu2 = (1 + r**2) / (1 - r**2)  # tr Σ²/d of the AR(1) symbol; Σ_kk = 1
        ref = formula("train_gen.e_gen_large_kappa", ctx)(1, 1, mu2, a, kappa)
        assert abs(e - ref) <= max(ctx.mpf(10) ** -(DPS - 2), 100 / kappa**2), (out["e_gen"], ctx.nstr(ref, 25))
        if 10**10 <= l <= 10**15:
            assert e < 1  # from below at fixed α (s < μ₂: Σ is not diagonal), visible in 20 digits up to λ ~ 1e18
    if a == 2 and l <= ctx.mpf(10) ** -10:
        ref = formula("train_gen.e_gen_ridgeless", ctx)(a, floor)  # (α/(α − 1)) × floor
        assert abs(e - ref) <= max(ctx.mpf(10) ** -(DPS - 2), 100 * l) * ref
    if a >= 10**10:  # α → ∞ at fixed λ: κ → λ and E_gen → (m + λm')/m², m = τ(λ)
        m, m_p = formula("ar1.tau", ctx)(l, r), formula("ar1.tau_p", ctx)(l, r)
        ref = formula("train_gen.gen_term", ctx)(m, m_p, l)
        assert abs(e - ref) <= max(ctx.mpf(10) ** -(DPS - 2), 100 / a) * ref


@pytest.mark.parametrize("alpha,lam", [("2", "1e300"), ("2", "1e-300"), ("1e-300", "0.1"), ("1e300", "0.1"), ("1", "1e-300")])
def test_theory_double_path_agrees_with_multiprecision_at_finite_d(cli, alpha, lam):
    argv = ("theory", "ar1", "--rho", "0.9", "--alpha", alpha, "--lam", lam, "--d", "24")
    _, hi, _ = run(cli, *argv, "--dps", "30")
    _, lo, _ = run(cli, *argv, "--double")
    assert lo["digits"] >= 8
    for key in ("kappa", "df1", "df2", "e_gen", "e_train"):
        # every printed digit right (never 0 for 1e-600: beyond double's range it stays exact)
        assert mpmath.mpf(hi[key]) != 0 and printed_digits_right(lo[key], hi[key]), (key, lo[key], hi[key])


@pytest.mark.parametrize("alpha,lam", [("2", "1e300"), ("1e-300", "0.1"), ("2", "1e-300")])
def test_theory_mixture_limits(cli, alpha, lam):
    rc, out, _ = run(cli, "theory", "mixture", "--atoms", "1,4", "--alpha", alpha, "--lam", lam, "--dps", DPS)
    assert rc == 0
    if lam == "1e-300":
        # ridgeless, diagonal Σ: the floor is tr Σ/d (1/[Σ^{-1}]_kk = σ_k), times α/(α − 1) = 2
        assert out["e_gen"].startswith("5.000000000000000000")
    else:
        assert out["e_gen"].startswith("2.500000000000000000")  # tr Σ/d (Σ diagonal: no 1/κ term)


# --------------------------------------------------------------------------------------------- density


def _in_declared_range(alpha, lam):
    from rmtverify.theory.spectrum import SPECTRUM_ALPHA, SPECTRUM_LAM

    a, l = Fraction(alpha), Fraction(lam)
    return SPECTRUM_ALPHA[0] <= a <= SPECTRUM_ALPHA[1] and max(SPECTRUM_LAM[0], SPECTRUM_LAM[0] / a) <= l <= SPECTRUM_LAM[1]


@pytest.mark.parametrize("alpha,lam", SWEEP, ids=IDS)
def test_density_isotropic_is_the_pushforward_of_marchenko_pastur_or_refused(cli, alpha, lam):
    rc, out, line = run(cli, "density", "isotropic", "--alpha", alpha, "--lam", lam, "--x", "0.5,1,2", "--dps", "15")
    if not _in_declared_range(alpha, lam):
        assert rc == 2
        refused_by(line, "alpha", "lam")
        return
    assert rc == 0
    ctx = ctx_at(40)
    a, l, kappa = q(ctx, alpha), q(ctx, lam), ctx.mpf(out["kappa"])
    c0 = formula("isotropic.tau", ctx)(kappa)
    phi = formula("spectrum.pushforward", ctx)
    mp_lo, mp_hi = (1 - 1 / ctx.sqrt(a)) ** 2, (1 + 1 / ctx.sqrt(a)) ** 2
    ((lo, hi),) = out["edges"]
    assert abs(ctx.mpf(lo) - phi(mp_lo, l, kappa, c0)) <= 1e-12 * (1 + abs(ctx.mpf(lo)))
    assert abs(ctx.mpf(hi) - phi(mp_hi, l, kappa, c0)) <= 1e-12 * (1 + abs(ctx.mpf(hi)))
    if a < 1:
        assert abs(ctx.mpf(out["atom_mass"]) - (1 - a)) <= 1e-13
        assert abs(ctx.mpf(out["atom_location"]) - phi(0, l, kappa, c0)) <= 1e-12 * (1 + abs(phi(0, l, kappa, c0)))
    assert ctx.mpf(out["density"]["1"]) == 0 and ctx.mpf(out["density"]["2"]) == 0  # Â's spectrum lies below 1


def test_density_at_the_pole_of_w():
    from rmtverify.models import make_model
    from rmtverify.theory.spectrum import density_report

    out = density_report(make_model("isotropic"), "2", "0.1", xs=["1", "0.999999", "3/2"], dps=20)
    assert [mpmath.mpf(v) for v in out["density"].values()] == [0, 0, 0]


# --------------------------------------------------------------------------------------------- threshold, outlier


@pytest.mark.parametrize("alpha,lam", SWEEP, ids=IDS)
@pytest.mark.parametrize("matrix", ["sample", "ssr"])
def test_flat_spike_threshold_is_one_over_sqrt_alpha(cli, alpha, lam, matrix):
    rc, out, _ = run(cli, "threshold", "spiked", "--alpha", alpha, "--lam", lam, "--matrix", matrix, "--dps", DPS)
    assert rc == 0
    ctx = ctx_at(60)
    assert agree(ctx, out["theta_c"], 1 / ctx.sqrt(q(ctx, alpha)), ctx.mpf(10) ** -(DPS - 2)), out["theta_c"]


@pytest.mark.parametrize("alpha,lam", SWEEP, ids=IDS)
def test_e1_threshold_of_the_ssr_matrix_is_its_closed_form(cli, alpha, lam):
    rc, out, _ = run(cli, "threshold", "spiked", "--spike", "e1", "--alpha", alpha, "--lam", lam, "--dps", DPS)
    assert rc == 0
    ctx = ctx_at(1500)  # the closed form cancels to O(1/λ) at large λ: evaluated far above it
    a, l = q(ctx, alpha), q(ctx, lam)
    kappa = formula("isotropic.kappa", ctx)(a, l)
    if formula("bbp.e1_denominator", ctx)(a, l, kappa) <= 0:
        assert out["theta_c"] == "inf" and out["reason"]
    else:
        assert agree(ctx, out["theta_c"], formula("bbp.e1_theta_c", ctx)(a, l, kappa), ctx.mpf(10) ** -(DPS - 2)), out["theta_c"]


@pytest.mark.parametrize("alpha,lam,spike", [("1e-300", "0.1", "flat"), ("1e300", "0.1", "flat"), ("2", "1e300", "e1"),
                                             ("1e-30", "0.1", "e1"), ("1e-8", "0.1", "flat")])
def test_certified_threshold_at_the_extremes(cli, alpha, lam, spike):
    rc, out, _ = run(cli, "threshold", "spiked", "--spike", spike, "--alpha", alpha, "--lam", lam, "--certify")
    assert rc == 0 and out["certified"] is True
    lo, hi, th = (mpmath.mpf(out[k]) for k in ("theta_c_lo", "theta_c_hi", "theta_c"))
    assert lo <= hi and lo <= th * (1 + 1e-28) and th <= hi * (1 + 1e-28)


@pytest.mark.parametrize("alpha,lam", SWEEP, ids=IDS)
@pytest.mark.parametrize("matrix", ["sample", "ssr"])
def test_outlier_is_finite_and_ordered(cli, alpha, lam, matrix):
    rc, out, _ = run(cli, "outlier", "spiked", "--alpha", alpha, "--lam", lam, "--matrix", matrix, "--theta", "4", "--dps", DPS)
    assert rc == 0
    finite(out["location"], out["overlap"], out["bulk_edge"])
    ctx = ctx_at(60)
    a = q(ctx, alpha)
    loc, edge, ov = (ctx.mpf(out[k]) for k in ("location", "bulk_edge", "overlap"))
    assert out["separated"] is bool(4 > 1 / ctx.sqrt(a))
    assert 0 <= ov <= 1 and loc >= edge
    if matrix == "sample":
        g = 1 / a
        assert abs(edge - (1 + ctx.sqrt(g)) ** 2) <= ctx.mpf(10) ** -(DPS - 2) * edge
        if out["separated"]:
            assert abs(loc - 5 * (1 + g / 4)) <= ctx.mpf(10) ** -(DPS - 2) * loc  # ψ(1 + θ) = (1 + θ)(1 + γ/θ)
    else:
        assert loc != 0 and edge != 0  # O(1/λ) at λ → ∞: computed, not rounded to 0


# --------------------------------------------------------------------------------------------- compare, crossover


@pytest.mark.parametrize("alpha,lam", SWEEP, ids=IDS)
def test_compare_answers_or_refuses(cli, alpha, lam):
    rc, out, line = run(cli, "compare", "ar1", "--rho", AR1_RHO, "--alpha", alpha, "--lam", lam, "--k-frac", "0.3", "--dps", DPS)
    assert rc == 0
    finite(out["e_ssr"], out["e_pca"])
    e = mpmath.mpf(out["e_ssr"])
    assert out["winner"] == ("ssr" if e < mpmath.mpf(out["e_pca"]) else "pca")
    if alpha == "2" and Fraction(lam) <= Fraction(1, 10**10):
        assert abs(e - mpmath.mpf("1.2")) <= 1e-9  # ridgeless: (α/(α − 1)) × floor = 2 × 0.6


@pytest.mark.parametrize("alpha,lam", SWEEP + [(f"1e{k}", "opt") for k in DECADES], ids=IDS + [f"alpha=1e{k},opt" for k in DECADES])
def test_crossover_answers_or_refuses(cli, alpha, lam):
    rc, out, line = run(cli, "crossover", "ar1", "--rho", AR1_RHO, "--alpha", alpha, "--lam", lam, "--dps", DPS)
    if rc == 2:
        refused_by(line, "alpha", "lam")
        if lam != "opt":
            assert Fraction(lam) >= 10**10 or Fraction(alpha) <= Fraction(1, 10**10), line  # only where 1 − E_gen < 1e-8
        return
    f, e = mpmath.mpf(out["f_star"]), mpmath.mpf(out["e_ssr"])
    assert 0 <= f <= 1
    if e >= 1:
        assert f == 0  # PCA wins from k = 0
    else:
        assert 0 < f < 1  # an SSR error below 1 is beaten only with some directions: never rounded to 0


# --------------------------------------------------------------------------------------------- simulate


SIM = ("--d", "16", "--seeds", "4", "--no-cache", "--quiet")


@pytest.mark.parametrize("alpha,lam", SWEEP, ids=IDS)
def test_simulate_answers_or_refuses(cli, alpha, lam):
    rc, out, line = run(cli, "simulate", "isotropic", "--alpha", alpha, "--lam", lam, *SIM)
    if rc == 2:
        refused_by(line, "alpha", "lam", "d")
        n = Fraction(alpha) * 16
        assert n < 1 or n > MAX_N_MONTE_CARLO, line  # n = αd: at least one sample, at most the declared maximum
        return
    for k in ("e_gen_mean", "e_gen_se", "e_train_mean", "e_train_se"):
        assert mpmath.isfinite(mpmath.mpf(out[k])), out
    e = float(out["e_gen_mean"])
    if Fraction(lam) >= 10**10:
        assert abs(e - 1) <= 1e-9  # P = λQ → I: E_gen → (1/d) tr Σ = 1 to rounding (one sample each, no noise left)


def test_simulate_ridgeless_and_singular_ends(cli):
    """α = 2 (S invertible): λ = 1e-300 is the ridgeless value, continuous with λ = 1e-12; α = 1/2 (S singular): the scaled
    route keeps S's exact null space down to 1e-30 tr S/d, and refuses below (E_train ~ λ² underflows)."""
    vals = {lam: run(cli, "simulate", "isotropic", "--alpha", "2", "--lam", lam, *SIM)[1] for lam in ("1e-12", "1e-300")}
    assert abs(float(vals["1e-12"]["e_gen_mean"]) - float(vals["1e-300"]["e_gen_mean"])) <= 1e-9
    for lam in ("1e-12", "1e-20"):
        rc, out, _ = run(cli, "simulate", "isotropic", "--alpha", "0.5", "--lam", lam, *SIM)
        assert rc == 0 and 1 < float(out["e_gen_mean"]) < 5
    rc, _, line = run(cli, "simulate", "isotropic", "--alpha", "0.5", "--lam", "1e-100", *SIM)
    assert rc == 2 and refused_by(line, "lam") and "singular" in line


def test_kernels_scaled_route_continues_the_plain_one():
    """Across the switch to the scaled route (λ/s̄ = 1e8 and 1e-8) the errors move only as the theory says they do."""
    import numpy as np

    from rmtverify.models import make_model
    from rmtverify.montecarlo.kernels import errors_from_eigh, errors_from_eigh_scaled, psd_eigh

    rng = np.random.default_rng(0)
    X = rng.standard_normal((48, 16))
    S = X.T @ X / 48
    s, V = psd_eigh(S)
    model = make_model("isotropic")
    for lam in (1e7, 1e-7, 0.3):
        a, b = errors_from_eigh(model, 16, s, V, [lam]), errors_from_eigh_scaled(model, 16, s, V, [lam])
        for k in a:
            assert abs(a[k][0] - b[k][0]) <= 1e-12 * abs(a[k][0]), (lam, k)


# --------------------------------------------------------------------------------------------- 5000 and 10000 digits


def test_theory_isotropic_at_10000_digits(cli):
    t0 = time.perf_counter()
    rc, out, _ = run(cli, "theory", "isotropic", "--alpha", "2", "--lam", "0.1", "--dps", "10000")
    assert rc == 0
    ctx = ctx_at(10100)
    ref = iso_closed(ctx, "2", "0.1")
    with_digits = ctx.mpf(10) ** -9998
    for key in ("kappa", "e_gen", "e_train"):
        assert len(out[key].replace(".", "").lstrip("0")) >= 10000
        assert abs(num(ctx, out[key]) - ref[key]) <= with_digits * ref[key], key
    assert time.perf_counter() - t0 < 60


def test_certified_threshold_at_5000_digits(cli):
    old = sys.get_int_max_str_digits()
    rc, out, _ = run(cli, "threshold", "spiked", "--alpha", "2", "--lam", "0.1", "--matrix", "ssr", "--certify", "--dps", "5000")
    assert rc == 0 and out["certified"] is True
    ctx = ctx_at(5100)
    exact = 1 / ctx.sqrt(2)
    assert abs(num(ctx, out["theta_c"]) - exact) <= ctx.mpf(10) ** -4998 * exact
    assert num(ctx, out["theta_c_lo"]) <= exact <= num(ctx, out["theta_c_hi"])
    assert sys.get_int_max_str_digits() == old  # raised only inside the computation, then restored


def test_crossover_at_5000_digits(cli):
    old = sys.get_int_max_str_digits()
    rc, out, _ = run(cli, "crossover", "ar1", "--rho", "0.5", "--alpha", "2", "--dps", "5000")
    assert rc == 0 and len(out["f_star"].replace(".", "").lstrip("0")) >= 5000
    rc, low, _ = run(cli, "crossover", "ar1", "--rho", "0.5", "--alpha", "2", "--dps", "30")
    assert out["f_star"][:30] == low["f_star"][:30]
    assert sys.get_int_max_str_digits() == old


@pytest.mark.slow
def test_threshold_and_theory_ar1_at_10000_digits(cli):
    rc, out, _ = run(cli, "threshold", "spiked", "--alpha", "2", "--matrix", "sample", "--dps", "10000")
    assert rc == 0
    ctx = ctx_at(10100)
    assert abs(num(ctx, out["theta_c"]) - 1 / ctx.sqrt(2)) <= ctx.mpf(10) ** -9998
    rc, out, _ = run(cli, "theory", "ar1", "--rho", "0.5", "--alpha", "2", "--lam", "1e300", "--dps", "10000")
    assert rc == 0 and out["e_gen"].startswith("0.999999")


# --------------------------------------------------------------------------------------------- long computations


def test_long_precision_is_announced_up_front():
    from rmtverify.core.precision import LONG_SECONDS, LongComputationWarning, announce, estimated_seconds, on_long_computation

    assert estimated_seconds(10000, "the BBP threshold") > LONG_SECONDS > estimated_seconds(30, "the BBP threshold")
    assert estimated_seconds(2000, "the BBP outlier") < estimated_seconds(4000, "the BBP outlier")
    heard = []
    on_long_computation(lambda message, seconds: heard.append((message, seconds)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert announce(30, "the BBP threshold") is None
        message = announce(10000, "the BBP threshold")
    assert message and "10000 digits" in message and "takes about" in message
    assert [w.category for w in caught] == [LongComputationWarning]
    assert heard and heard[-1][0] == message
