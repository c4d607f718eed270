"""The spectrum of Â (claim C3): closed forms, branches, atoms, the push-forward, the claim itself."""

from __future__ import annotations

import json
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from conftest import printed_digits_right

from rmtverify.core.exceptions import InputError
from rmtverify.models import make_model
from rmtverify.montecarlo.engine import SsrEigenvalues, measure_ladder, sample_size
from rmtverify.theory.spectrum import spectral_law


def _mp_pushforward_density(ctx, x, alpha, lam):
    """Marchenko–Pastur density pushed through φ(s) = 1 − λ/(κc₀(s+λ)), written out independently."""
    a, l = ctx.mpf(alpha), ctx.mpf(lam)
    b = a - a * l - 1
    kappa = (-b + ctx.sqrt(b * b + 4 * a * a * l)) / (2 * a)
    kc = kappa / (1 + kappa)
    s = l / (kc * (1 - x)) - l  # φ^{-1}(x)
    ds = l / (kc * (1 - x) ** 2)
    g = 1 / a
    lo, hi = (1 - ctx.sqrt(g)) ** 2, (1 + ctx.sqrt(g)) ** 2
    if not lo < s < hi:
        return ctx.mpf(0), kappa
    return ctx.sqrt((hi - s) * (s - lo)) / (2 * ctx.pi * g * s) * ds, kappa


def _digits(a, b, ctx):
    if a == b:
        return 99
    return float(-ctx.log10(abs(a - b) / abs(b)))


@pytest.mark.parametrize("alpha,lam", [("0.5", "0.05"), ("3", "0.2")])
def test_isotropic_density_is_the_pushforward_of_marchenko_pastur_to_45_digits(cli, alpha, lam):
    ctx = mpmath.MPContext()
    ctx.dps = 70
    rc, out, err = cli("density", "isotropic", "--alpha", alpha, "--lam", lam, "--dps", "50", "--json", "--x", "0.3,0.5,0.7,0.9")
    assert rc == 0, err
    res = json.loads(out)
    good = 0
    for x, val in res["density"].items():
        ref, kappa = _mp_pushforward_density(ctx, ctx.mpf(Fraction(x).numerator) / Fraction(x).denominator, ctx.mpf(alpha), ctx.mpf(lam))
        if ref == 0:
            assert ctx.mpf(val) == 0
            continue
        assert _digits(ctx.mpf(val), ref, ctx) >= 45, (x, val, ref)
        good += 1
    assert good >= 2
    # edges: φ((1 ∓ √γ)²)
    g = 1 / ctx.mpf(alpha)
    kc = kappa / (1 + kappa)
    phi = lambda s: 1 - ctx.mpf(lam) / (kc * (s + ctx.mpf(lam)))  # noqa: E731
    (lo, hi), = res["edges"]
    assert _digits(ctx.mpf(lo), phi((1 - ctx.sqrt(g)) ** 2), ctx) >= 45
    assert _digits(ctx.mpf(hi), phi((1 + ctx.sqrt(g)) ** 2), ctx) >= 45
    if Fraction(alpha) < 1:
        assert _digits(ctx.mpf(res["atom_mass"]), 1 - ctx.mpf(alpha), ctx) >= 45
        assert _digits(ctx.mpf(res["atom_location"]), 1 - 1 / kc, ctx) >= 45
    else:
        assert res["atom_mass"] == "0" and res["atom_location"] is None


def test_stieltjes_branch_is_in_the_upper_half_plane():
    law = spectral_law(make_model("ar1", rho="0.6"), "0.7", "0.2", dps=20)
    ctx = law.ctx
    rng = np.random.default_rng(3)
    for _ in range(8):
        z = ctx.mpc(rng.uniform(-4, 1.5), rng.uniform(1e-3, 2))
        assert ctx.im(law.g(z)) > 0
    # a real point inside the support: the root is complex although the start is real
    (a, b), = law.support()
    assert law.density((a + b) / 2) > 0
    assert law.density(b + (b - a)) == 0


def test_density_integrates_to_one_with_atoms():
    for model, alpha in [(make_model("isotropic"), "0.5"), (make_model("mixture", atoms="1,4", weights="0.7,0.3"), "0.5"),
                         (make_model("ar1", rho="0.5"), "2")]:
        law = spectral_law(model, alpha, "0.1", dps=None)
        _, _, total = law.cdf_table()
        assert abs(total - 1) < 1e-6, (model, total)


def test_mixture_atoms_are_the_excess_of_each_block_over_alpha():
    law = spectral_law(make_model("mixture", atoms="1,4", weights="0.7,0.3"), "0.5", "0.1", dps=20)
    atoms = law.atoms()
    assert len(atoms) == 1 and abs(atoms[0].mass - mpmath.mpf("0.2")) < 1e-15
    none = spectral_law(make_model("mixture", atoms="1,4"), "2", "0.1", dps=20)
    assert none.atoms() == []


def _eigenvalues(model, alpha, lam, d, seeds, key):
    run = measure_ladder(SsrEigenvalues(lam), lambda i: model, key, [d], [sample_size(alpha, d)], seeds)
    return [np.asarray(v["eigenvalues"]) for v in run.values[0]]


def test_pushforward_holds_for_constant_diagonal_and_fails_for_a_mixture():
    from rmtverify.theory.spectrum import ks_between, law_tables
    from rmtverify.verification.distances import ks_distance

    iso = spectral_law(make_model("isotropic"), "2", "0.1", dps=None)
    assert iso.constant_diagonal
    mix = make_model("mixture", atoms="1,4")
    full = law_tables(spectral_law(mix, "2", "0.1", dps=None))
    pf = law_tables(spectral_law(mix, "2", "0.1", dps=None, pushforward=True))
    assert ks_between(full, pf) > 0.1
    # and the Monte Carlo sides with the full law
    eigs = _eigenvalues(mix, "2", "0.1", 256, 4, "test")
    assert np.mean([ks_distance(ev, full.x, full.F) for ev in eigs]) < 0.03 < np.mean([ks_distance(ev, pf.x, pf.F) for ev in eigs])


def test_perturbed_equation_moves_the_law():
    a = spectral_law(make_model("isotropic"), "2", "0.1", dps=20)
    b = spectral_law(make_model("isotropic"), "2", "0.1", dps=20, perturb="0.01")
    z = a.ctx.mpc(0, 1)
    assert abs(a.g(z) - b.g(z)) > 1e-4


def test_density_rejects_bad_input(cli):
    rc, out, err = cli("density", "isotropic", "--alpha", "2", "--lam", "0")
    assert rc == 2 and "lam" in err
    rc, out, err = cli("density", "isotropic", "--alpha", "2", "--lam", "0.1", "--x", "abc")
    assert rc == 2 and "x" in err
    with pytest.raises(InputError):
        spectral_law(make_model("isotropic"), "-1", "0.1")


def test_pushforward_monte_carlo_scores_the_continuous_part_when_there_is_an_atom():
    """α = 1/2: half the eigenvalues sit on the atom and straddle it by rounding; the push-forward
    comparison must score the continuous part (as the KS sub-tests do), not report a spurious 0.25."""
    from rmtverify.theory.spectrum import law_tables
    from rmtverify.verification.distances import ks_continuous, ks_distance

    law = spectral_law(make_model("isotropic"), "0.5", "0.1", dps=None)
    tables = law_tables(law)
    assert tables.atoms and abs(tables.atoms[0][1] - 0.5) < 1e-12
    eigs = _eigenvalues(make_model("isotropic"), "0.5", "0.1", 256, 3, "test-atom")
    assert np.mean([ks_continuous(ev, tables, 256) for ev in eigs]) < 0.05
    assert np.mean([ks_distance(ev, tables.x, tables.F) for ev in eigs]) > 0.2  # a plain KS stalls at half the atom


def test_dense_route_agrees_with_the_population_types():
    """The dense finite-d equation (normalised traces of d × d complex inverses) against the population types of a
    diagonal Σ at the same d: two methods, one law."""
    model = make_model("mixture", atoms="1,4", weights="0.5,0.5")
    types = spectral_law(model, "2", "0.1", d=12, dps=None)
    dense = spectral_law(model, "2", "0.1", d=12, dps=None, method="dense")
    assert types.types is not None and dense.types is None
    x = np.linspace(0.6, 0.99, 40)
    a, b = types.density_grid(x), dense.density_grid(x)
    assert np.max(a) > 0.5 and np.allclose(a, b, rtol=1e-9, atol=1e-12)
    with pytest.raises(InputError, match="method"):
        spectral_law(model, "2", "0.1", d=None, method="dense")



def test_finite_d_density_in_double_precision_prints_only_right_digits(cli):
    """--double (the dense route's only precision): every printed digit of the densities and edges is right, checked
    against the multiprecision path where both exist (Σ = I at d = 32), and the refusal without it names --double."""
    argv = ("density", "isotropic", "--alpha", "2", "--lam", "0.1", "--d", "32", "--x", "-0.5,0.3,0.7,1,-3", "--json")
    rc, out, _ = cli(*argv, "--double")
    assert rc == 0
    lo = json.loads(out)
    rc, out, _ = cli(*argv, "--dps", "30")
    hi = json.loads(out)
    assert list(lo["density"]) == ["-0.5", "0.3", "0.7", "1", "-3"] == list(hi["density"])  # typed keys, in order
    for key, text in lo["density"].items():
        assert printed_digits_right(text, mpmath.mpf(hi["density"][key])), (key, text, hi["density"][key])
    assert len(lo["density"]["0.3"].replace("-", "").replace("0.", "", 1)) >= 10  # a well-conditioned point keeps 10+ digits
    for (a, b), (ra, rb) in zip(lo["edges"], hi["edges"]):
        assert printed_digits_right(a, mpmath.mpf(ra)) and printed_digits_right(b, mpmath.mpf(rb))
    rc, _, err = cli("density", "ar1", "--rho", "0.5", "--alpha", "2", "--lam", "0.1", "--d", "16", "--x", "0.3")
    assert rc == 2 and "--double" in err and len(err.strip().splitlines()) == 1
    rc, out, _ = cli("density", "ar1", "--rho", "0.5", "--alpha", "2", "--lam", "0.1", "--d", "16", "--x", "-0.4,0.3", "--double", "--json")
    ar = json.loads(out)
    assert rc == 0 and float(ar["edge_error"]) < 1e-8 and all(float(v) > 0 for v in ar["density"].values())
