"""Sample PCA at any precision (module pca, SampleLawMP) against an independent computation, and its double-precision
tables' honest digits; the finite-d spiked model on an AR(1) base at any precision.

The independent side is written here and shares nothing with the library's route: S's law comes from the
Silverstein equation of the companion transform m̲ (the n × n matrix XΣXᵀ/n),

    z = −1/m̲ + γ ∫ t/(1 + t m̲) dH(t),   H the law of the AR(1) symbol f(ω) = (1−ρ²)/(1 − 2ρ cos ω + ρ²),

whose integral is elementary, (1/π)∫₀^π dω/(c − B cos ω + m̲) = 1/(u √(1 − B²/u²)) with u = c + m̲,
c = (1+ρ²)/(1−ρ²), B = 2ρ/(1−ρ²). Squared, the equation is a quartic in m̲, solved by mpmath's polyroots at every
node (no continuation, no Newton along a path); the physical root is the one with Im m̲ > 0 that solves the unsquared
equation. The density is Im m̲/(γπ) and the Ledoit–Péché weight is 1/(s|m̲|²) (1 − γ − γ s m_F = −s m̲). The edges of
S's support are the critical points of z(m̲) on the real axis, and the integrals are tanh-sinh quadratures in s itself
(mpmath ``quad``; the square-root edges are endpoint singularities there), not in the library's variable t.
"""

from __future__ import annotations

import time
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from conftest import printed_digits_right

from rmtverify.core.exceptions import InputError
from rmtverify.models import make_model
from rmtverify.theory.equivalents import equivalents
from rmtverify.theory.pca import SampleLaw, crossover, honest_text, sample_error

DPS_INDEPENDENT = 42


class IndependentSampleLaw:
    """S's law at d = ∞ for AR(1) through the companion quartic, and the sample-PCA errors by tanh-sinh in s."""

    def __init__(self, rho, alpha, dps=DPS_INDEPENDENT):
        ctx = self.ctx = mpmath.MPContext()
        ctx.dps = dps
        r = ctx.mpf(Fraction(rho).numerator) / Fraction(rho).denominator
        self.gamma = ctx.mpf(Fraction(alpha).denominator) / Fraction(alpha).numerator
        self.c, self.B = (1 + r**2) / (1 - r**2), 2 * r / (1 - r**2)
        self.atom = 1 - 1 / self.gamma if self.gamma > 1 else None
        self._cache = {}
        # edges: a local maximum of z(m̲) below the cut of H (α > 1) or at m̲ > 0 (α < 1), a local minimum above it
        lo_cut, hi_cut = -(self.c + self.B), -(self.c - self.B)
        a_range = ([lo_cut * (1 + ctx.mpf(k) / 50) for k in range(1, 800)] if self.gamma < 1
                   else [ctx.mpf(k) / 50 for k in range(1, 800)])
        self.a = self._z(self._critical(a_range))
        self.b = self._z(self._critical([hi_cut * (1 - ctx.mpf(k) / 800) for k in range(1, 800)]))

    def _I(self, m):
        u = self.c + m
        return 1 / (u * self.ctx.sqrt(1 - self.B**2 / u**2))

    def _z(self, m):
        return -1 / m + self.gamma * self._I(m)

    def _z_p(self, m):
        return 1 / m**2 - self.gamma * (self.c + m) * self._I(m) ** 3

    def _critical(self, ms):
        v = [self._z_p(m) for m in ms]
        for i in range(len(ms) - 1):
            if (v[i] > 0) != (v[i + 1] > 0):
                return self.ctx.findroot(self._z_p, (ms[i], ms[i + 1]), solver="anderson")
        raise AssertionError("no critical point of z(m̲) found")

    def _mbar(self, s):
        ctx = self.ctx
        coeffs = [ctx.mpf(0)] * 5  # (s m + 1)² ((c + m)² − B²) − γ² m², highest degree first
        for i, p in enumerate([s**2, 2 * s, 1]):
            for j, q in enumerate([1, 2 * self.c, self.c**2 - self.B**2]):
                coeffs[i + j] += p * q
        coeffs[2] -= self.gamma**2
        up = [m for m in ctx.polyroots(coeffs, maxsteps=200, extraprec=2 * ctx.prec) if ctx.im(m) > 0]
        return min(up, key=lambda m: abs(self._z(m) - s)) if up else None

    def parts(self, s):
        """ρ, δρ, sρ, ρ/s, δρ/s² at s."""
        if s not in self._cache:
            m = self._mbar(s)
            if m is None:
                self._cache[s] = (self.ctx.mpf(0),) * 5
            else:
                dens = self.ctx.im(m) / (self.gamma * self.ctx.pi)
                w = 1 / (s * abs(m) ** 2)
                self._cache[s] = (dens, dens * w, dens * s, dens / s, dens * w / s**2)
        return self._cache[s]

    def integral(self, i, lo, hi):
        a = self.a
        pts = [lo] + [p for p in (2 * a, 5 * a, 20 * a, 1, 4) if lo < p < hi] + [hi]
        return self.ctx.quad(lambda s: self.parts(s)[i], pts)

    def above(self, s):
        return [self.integral(i, s, self.b) for i in range(4 + 1)]

    def cut(self, phi, s):
        """The cut s_c with mass φ above it, by Newton's method from s."""
        for _ in range(40):
            step = (self.integral(0, s, self.b) - phi) / self.parts(s)[0]
            s += step
            if abs(step) < self.ctx.mpf(10) ** (-self.ctx.dps + 3) * s:
                return s
        raise AssertionError("cut did not converge")

    def masked(self, s):
        """(φ, the PPCA masked error) with the cut at s."""
        phi, W, _, P1, P2 = self.above(s)
        L = self.integral(2, self.a, s)
        sig2 = L / (1 - phi)
        return phi, (P2 + (1 - W) / sig2**2) / (P1 + (1 - phi) / sig2) ** 2

    def reconstruction(self, phi, s_start):
        if self.atom is not None and phi > 1 - self.atom:
            W = self.integral(1, self.a, self.b)
            return 1 - W - (phi - (1 - self.atom)) * (1 - W) / self.atom
        return 1 - self.integral(1, self.cut(phi, s_start), self.b)


def _start(model, alpha, phi):
    """A starting cut s for the independent Newton iterations: the library's double-precision table (only a start)."""
    law = SampleLaw(model, alpha)
    i = int(np.searchsorted(-law.mass_above, -float(phi)))
    return law.s[min(max(i, 1), len(law.s) - 1)]


def _digits(text):
    return len(text.replace("-", "").replace(".", "").lstrip("0"))



def _half_unit(ctx, x, digits):
    """Half a unit (plus 2%) of the last of ``digits`` significant digits of x: a correctly rounded text is this close."""
    return ctx.mpf("0.51") * ctx.mpf(10) ** (int(ctx.floor(ctx.log10(abs(x)))) - digits + 1)


def test_sample_pca_crossover_has_every_digit_reconstruction():
    model = make_model("ar1", rho="0.8")
    t0 = time.perf_counter()
    c = crossover(model, "2", "0.1", "sample", "reconstruction", dps=30).as_dict()
    seconds = time.perf_counter() - t0
    f = c["f_star"]
    assert _digits(f) == 30 and c["dps"] == 30, c
    ind = IndependentSampleLaw("0.8", "2")
    ctx = ind.ctx
    e = ctx.mpf(c["e_ssr"])  # the library's SSR error (delivered, checked elsewhere): this tests the PCA side and the crossing
    s = ctx.mpf(_start(model, "2", float(f)))
    for _ in range(40):  # Newton's method on 1 − ∫_s^b δρ = E_SSR
        step = (1 - ind.integral(1, s, ind.b) - e) / ind.parts(s)[1]
        s -= step
        if abs(step) < ctx.mpf(10) ** -40 * s:
            break
    phi = ind.integral(0, s, ind.b)
    assert abs(ctx.mpf(f) - phi) <= _half_unit(ctx, phi, 30), (f, phi)
    assert ctx.nstr(phi, 30, strip_zeros=False) == f
    # the double-precision tables: 2000 nodes (the 0.153151862) is wrong in the 7th digit, and the default
    # table (8000 nodes here, b/a = 711) prints only digits it has, with an error estimate above its actual error
    old = crossover(model, "2", "0.1", "sample", "reconstruction", dps=30, law=SampleLaw(model, "2", nodes=2000))
    assert abs(old.f_star - 0.153151862) < 1e-9 and 1e-7 < abs(ctx.mpf(old.f_star) - phi) < 1e-6
    table = crossover(model, "2", "0.1", "sample", "reconstruction", dps=None).as_dict()
    raw = crossover(model, "2", "0.1", "sample", "reconstruction", dps=None).f_star
    assert abs(raw - float(phi)) <= float(table["f_star_error"])
    assert 5 <= _digits(table["f_star"]) <= 8 and table["f_star"] == ctx.nstr(phi, _digits(table["f_star"]), strip_zeros=False), table
    assert seconds < 60, seconds


def test_sample_ppca_crossings_have_every_digit_masked():
    """The U-shaped PPCA error crosses E_SSR twice at ρ = 0.8, α = 2, λ = 1: both crossings, every digit."""
    model = make_model("ar1", rho="0.8")
    c = crossover(model, "2", "1", "sample", "masked", dps=30).as_dict()
    assert len(c["crossings"]) == 2 and c["f_star"] == c["crossings"][0], c
    ind = IndependentSampleLaw("0.8", "2")
    ctx = ind.ctx
    e = ctx.mpf(c["e_ssr"])
    for f in c["crossings"]:
        assert _digits(f) == 30
        s0 = ctx.mpf(_start(model, "2", float(f)))
        s1 = s0 * (1 + ctx.mpf(10) ** -7)
        g0, g1 = ind.masked(s0)[1] - e, ind.masked(s1)[1] - e
        for _ in range(30):  # secant on E_masked(s) = E_SSR
            s0, s1, g0 = s1, s1 - g1 * (s1 - s0) / (g1 - g0), g1
            g1 = ind.masked(s1)[1] - e
            if abs(s1 - s0) < ctx.mpf(10) ** -39 * s1:
                break
        phi = ind.masked(s1)[0]
        assert abs(ctx.mpf(f) - phi) <= _half_unit(ctx, phi, 30), (f, phi)
    table = crossover(model, "2", "1", "sample", "masked", dps=None).as_dict()
    assert len(table["crossings"]) == 2
    for t, f in zip(table["crossings"], c["crossings"]):
        assert _digits(t) <= 8 and abs(float(t) - float(f)) < 10 ** -(_digits(t) - 1) / 2 * 2, (t, f)


@pytest.mark.parametrize("rho,alpha,phi,metric", [("0.5", "1/2", "1/4", "masked"), ("0.5", "1/2", "1/4", "reconstruction"),
                                                  ("0.5", "1/2", "3/4", "reconstruction"), ("0.95", "8", "3/10", "reconstruction")])
def test_sample_error_has_every_digit(rho, alpha, phi, metric):
    model = make_model("ar1", rho=rho)
    got = sample_error(model, alpha, phi, metric, dps=30)
    assert _digits(got) == 30
    ind = IndependentSampleLaw(rho, alpha, dps=38)
    ctx = ind.ctx
    p = ctx.mpf(Fraction(phi).numerator) / Fraction(phi).denominator
    s0 = ctx.mpf(_start(model, alpha, Fraction(phi)))
    want = ind.masked(ind.cut(p, s0))[1] if metric == "masked" else ind.reconstruction(p, s0)
    assert abs(ctx.mpf(got) - want) <= _half_unit(ctx, want, 30), (got, want)
    # the double-precision text carries only the digits the tables have
    text = sample_error(model, alpha, phi, metric, dps=None)
    assert 3 <= _digits(text) <= 15 and abs(ctx.mpf(text) - want) <= _half_unit(ctx, want, _digits(text)) * 2


def test_isotropic_sample_pca_at_any_precision():
    """Σ = I: every Ledoit–Péché weight is 1 (uᵀΣu = 1 for every unit u), so the reconstruction error is 1 − φ exactly,
    also beyond the continuous part at α = 1/2 (k > n: the null space shares the rest of tr Σ/d)."""
    iso = make_model("isotropic")
    assert sample_error(iso, "3", "3/10", "reconstruction", dps=40) == "0." + "7" + "0" * 39
    assert sample_error(iso, "1/2", "1/4", "reconstruction", dps=30) == "0." + "75" + "0" * 28
    assert sample_error(iso, "1/2", "3/4", "reconstruction", dps=30) == "0." + "25" + "0" * 28


def test_sample_precision_path_keeps_the_tables_and_their_numbers():
    """crossover(dps=None) and crossover(law=table) are the tables' double-precision values, as before; the text shows
    only the digits they have."""
    model = make_model("ar1", rho="0.8")
    law = SampleLaw(model, "2")
    c = crossover(model, "2", "0.1", "sample", "reconstruction", dps=20, law=law)
    assert isinstance(c.f_star, float) and c.float() == c.f_star and c.ctx is None
    assert c.as_dict()["f_star"] == honest_text(c.f_star, float(c.as_dict()["f_star_error"]))
    assert abs(law.reconstruction_error(0.25) - 0.19464828847319027) < 1e-15  # the table's number, unchanged


def test_honest_text():
    assert honest_text(0.153151586, 3.7e-8) == "0.153152"  # the last digit's unit is at least 10 errors
    assert honest_text(0.153151586, 9e-9) == "0.1531516"
    assert honest_text(0.1531515862, 1e-16) == "0.153151586200000"
    assert honest_text(1.0, 0.0) == "1.0" and honest_text(0.0, 0.0) == "0.0"
    assert honest_text(0.689022, 2e-6) == "0.6890" and honest_text(0.689022, 9e-7) == "0.68902" and honest_text(0.689022, 0.3) == "0.7"
    assert honest_text(1.5e-5, 1e-10) == "1.5000e-05" and honest_text(0.0, 1e-8) == "0.0000000"


def test_sample_precision_path_bad_input():
    model = make_model("ar1", rho="0.5")
    with pytest.raises(InputError, match="k_frac"):
        sample_error(model, "1/2", "3/4", "masked", dps=20)  # the PPCA needs k < n
    with pytest.raises(InputError, match="k_frac"):
        sample_error(model, "2", "1", "masked", dps=20)
    with pytest.raises(InputError, match="alpha"):
        sample_error(model, "1", "1/4", "reconstruction", dps=20)
    with pytest.raises(InputError, match="model"):
        sample_error(make_model("mixture", atoms="1,2"), "2", "1/4", dps=20)


@pytest.mark.slow
def test_sample_crossover_at_50_digits_in_under_a_minute():
    t0 = time.perf_counter()
    c = crossover(make_model("ar1", rho="0.8"), "2", "0.1", "sample", "reconstruction", dps=50).as_dict()
    seconds = time.perf_counter() - t0
    assert _digits(c["f_star"]) == 50 and c["f_star"].startswith("0.153151567942687410531552372118")
    assert seconds < 60, seconds


# ---------------------------------------------------------------- spiked on an AR(1) base, finite d, any precision


def _dense_e_gen(model, d, alpha, lam, ctx):
    """E_gen at finite d from dense mpmath matrices: R = (Σ + κI)^{-1} by mpmath's inverse, κ by a root solve of
    κ − λ = (κ/n) tr ΣR, E_gen = (1/(1 − df2/n)) (1/d) Σ_k [RΣR]_kk / R_kk² (SPEC §2)."""
    Sig = _exact_sigma(model, d, ctx)
    n = ctx.mpf(Fraction(alpha).numerator) / Fraction(alpha).denominator * d
    lam = ctx.mpf(Fraction(lam).numerator) / Fraction(lam).denominator

    def R(k):
        return (Sig + k * ctx.eye(d)) ** -1

    kappa = ctx.findroot(lambda k: k - lam - k / n * ctx.fsum((Sig * R(k))[i, i] for i in range(d)), lam + ctx.mpf(1) / 2)
    Rk = R(kappa)
    SR = Sig * Rk
    df2 = ctx.fsum((SR * SR)[i, i] for i in range(d))
    RSR = Rk * Sig * Rk
    return ctx.fsum(RSR[k, k] / Rk[k, k] ** 2 for k in range(d)) / d / (1 - df2 / n)


def _exact_sigma(model, d, ctx):
    """ρ^{|i−j|} + Σ_i θ_i v_i v_iᵀ, the spikes flat (v₁ = 1/√d, v₂ the first DCT-II cosine) or e1, in the context."""
    r = ctx.mpf(Fraction(model.base_model.rho).numerator) / Fraction(model.base_model.rho).denominator
    thetas = [ctx.mpf(Fraction(t).numerator) / Fraction(t).denominator for t in model.thetas]
    if model.spike == "e1":
        vs = [[ctx.mpf(1 if k == i else 0) for k in range(d)] for i in range(model.rank)]
    else:
        vs = [[1 / ctx.sqrt(d)] * d] + [[ctx.sqrt(ctx.mpf(2) / d) * ctx.cos(ctx.pi * (k + ctx.mpf(1) / 2) / d) for k in range(d)]]
    return ctx.matrix([[r ** abs(i - j) + ctx.fsum(t * v[i] * v[j] for t, v in zip(thetas, vs)) for j in range(d)]
                       for i in range(d)])


def test_spiked_ar1_finite_d_at_40_digits():
    model = make_model("spiked", theta="4", spike="flat", base="ar1", rho="0.6")
    hi = equivalents(model, "2", "1/10", d=64, dps=40).as_dict()
    assert _digits(hi["e_gen"]) == 40
    lo = equivalents(model, "2", "1/10", d=64, dps=None).as_dict()
    assert lo["digits"] >= 10 and printed_digits_right(lo["e_gen"], hi["e_gen"])


@pytest.mark.parametrize("theta,spike,rank", [("4", "flat", 1), ("4,2", "flat", 2), ("3,1/2", "e1", 2)])
def test_spiked_ar1_finite_d_against_a_dense_mpmath_inverse(theta, spike, rank):
    model = make_model("spiked", theta=theta, spike=spike, rank=rank, base="ar1", rho="0.6")
    got = equivalents(model, "2", "1/10", d=8, dps=30).as_dict()["e_gen"]
    ctx = mpmath.MPContext()
    ctx.dps = 45
    want = _dense_e_gen(model, 8, "2", "1/10", ctx)
    assert abs(ctx.mpf(got) - want) <= _half_unit(ctx, want, 30), (got, want)


@pytest.mark.parametrize("spike,boundary", [("random", "toeplitz"), ("random", "circulant"), ("e1", "circulant")])
def test_spiked_ar1_finite_d_high_precision_matches_double(spike, boundary):
    model = make_model("spiked", theta="4,2", rank=2, spike=spike, base="ar1", rho="-0.6", boundary=boundary)
    hi = equivalents(model, "1/2", "1/10", d=32, dps=30).as_dict()
    lo = equivalents(model, "1/2", "1/10", d=32, dps=None).as_dict()
    assert lo["digits"] >= 10
    for key in ("kappa", "e_gen", "e_train"):
        assert printed_digits_right(lo[key], hi[key]), (key, lo[key], hi[key])
