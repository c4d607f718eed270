"""AR(1): Σ_ij = ρ^{|i−j|} (Toeplitz), its periodic (circulant) variant, and d = ∞.

Toeplitz, finite d: Σ^{-1} = T is tridiagonal (derivation ar1), so with
G = (I + κT)^{-1} we have R = (Σ + κI)^{-1} = G T, and the diagonal of G and
its first off-diagonal follow from the forward and backward pivots of the
tridiagonal I + κT in O(d). Every quantity carries its κ-derivative
(forward-mode differentiation), which the theory needs for τ' and m'.
At κ = 0 the recurrence gives R = T exactly, so the ridgeless case needs no
special branch. Periodic, finite d: eigenvalues are the symbol at the
Fourier frequencies and every diagonal entry equals τ.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import scipy.linalg
import scipy.signal

from rmtverify.core.params import INF, choice, parse
from rmtverify.core.precision import mpf
from rmtverify.models.base import CovarianceModel, DiagonalGroup, Resolvent
from rmtverify.symbolic.formulas import Formulas, expression, numpy_function

BOUNDARIES = ("toeplitz", "circulant")


def circulant_eigenvalues(rho, d: int) -> np.ndarray:
    """The eigenvalues of the circulant AR(1) Σ at d, float64: the symbol f at the Fourier frequencies 2πj/d."""
    return numpy_function("ar1.symbol")(2 * np.pi * np.arange(d) / d, float(rho))


class _Dual:
    """A number with its κ-derivative; only the operations the pivots need."""

    __slots__ = ("v", "d")

    def __init__(self, v, d):
        self.v, self.d = v, d

    def __add__(self, o):
        return _Dual(self.v + o.v, self.d + o.d)

    def __sub__(self, o):
        return _Dual(self.v - o.v, self.d - o.d)

    def __mul__(self, o):
        return _Dual(self.v * o.v, self.d * o.v + self.v * o.d)

    def __truediv__(self, o):
        q = self.v / o.v
        return _Dual(q, (self.d - q * o.d) / o.v)

    def __neg__(self):
        return _Dual(-self.v, -self.d)


class ToeplitzResolvent(Resolvent):
    def __init__(self, rho, d, ctx):
        f = Formulas(ctx)
        r = mpf(ctx, rho)
        self.d = d
        self.zero = ctx.mpf(0)
        self.t_edge = f("ar1.tinv_edge")(r)
        self.t_bulk = f("ar1.tinv_bulk")(r)
        self.t_off = f("ar1.tinv_off")(r)
        self.mean_sigma = ctx.mpf(1)
        self.fsum = ctx.fsum

    def _t(self, k):
        return self.t_edge if k in (0, self.d - 1) else self.t_bulk

    def _diag(self, kappa):
        d, zero = self.d, self.zero
        one = _Dual(zero + 1, zero)
        kap = _Dual(kappa, zero + 1)
        a = [one + kap * _Dual(self._t(k), zero) for k in range(d)]  # diag of I + κT
        b = kap * _Dual(self.t_off, zero)  # off-diagonal of I + κT
        b2 = b * b
        L = [a[0]]
        for k in range(1, d):
            L.append(a[k] - b2 / L[-1])
        U = [None] * d
        U[-1] = a[-1]
        for k in range(d - 2, -1, -1):
            U[k] = a[k] - b2 / U[k + 1]
        G = [one / (L[k] + U[k] - a[k]) for k in range(d)]
        # G_{k,k+1} = −b G_{k+1,k+1} / L_k (elimination of the upper neighbour)
        Goff = [-(b * G[k + 1]) / L[k] for k in range(d - 1)]
        t_off = _Dual(self.t_off, zero)
        out = []
        for k in range(d):
            rk = G[k] * _Dual(self._t(k), zero)
            if k > 0:
                rk = rk + Goff[k - 1] * t_off
            if k < d - 1:
                rk = rk + Goff[k] * t_off
            out.append(rk)
        return out

    def trace(self, kappa):
        diag = self._diag(kappa)
        return self.fsum(x.v for x in diag) / self.d, self.fsum(x.d for x in diag) / self.d

    def diagonal(self, kappa):
        w = Fraction(1, self.d)
        return [DiagonalGroup(w, x.v, x.d) for x in self._diag(kappa)]


class CirculantResolvent(Resolvent):
    """Σ circulant: its eigenvalues are the symbol at the Fourier frequencies, and τ(κ) = (1/d) Σ_j 1/(f(2πj/d) + κ).

    ``trace`` sums in the context (fsum of the eigenvalues of R and of their squares); ``trace_array`` is the
    same average in double precision, vectorised over an array of complex κ (the spectral law's fast path).
    """

    def __init__(self, rho, d, ctx):
        symbol = Formulas(ctx)("ar1.symbol")
        self._r = Formulas(ctx)("kappa.resolvent_eigenvalue")
        r = mpf(ctx, rho)
        self.rho = rho
        self.eigs = [symbol(2 * ctx.pi * j / d, r) for j in range(d)]
        self.mean_sigma = ctx.mpf(1)
        self.fsum, self.d = ctx.fsum, d

    def trace(self, kappa):
        inv = [self._r(s, kappa) for s in self.eigs]  # eigenvalues of R
        return self.fsum(inv) / self.d, -self.fsum(x * x for x in inv) / self.d

    def trace_array(self, kappas):
        r = numpy_function("kappa.resolvent_eigenvalue")(circulant_eigenvalues(self.rho, self.d)[None, :], kappas[:, None])  # R's, per κ
        return np.mean(r, axis=1), -np.mean(r * r, axis=1)

    def diagonal(self, kappa):
        tau, tau_p = self.trace(kappa)  # circulant: every diagonal entry is the mean
        return [DiagonalGroup(Fraction(1), tau, tau_p)]


class LimitResolvent(Resolvent):
    def __init__(self, rho, ctx):
        f = Formulas(ctx)
        self.ctx = ctx
        self.rho = rho
        self.r = mpf(ctx, rho)
        self._tau, self._tau_p = f("ar1.tau"), f("ar1.tau_p")
        self._tau_c, self._tau_c_p = f("ar1.tau_c"), f("ar1.tau_c_p")
        self._tau_r, self._tau_r_p = f("ar1.tau_c_res"), f("ar1.tau_c_res_p")
        self.mean_sigma = ctx.mpf(1)
        # the stable complex form divides by Δ + 1 − ρ², which vanishes only far left, at
        # κ = −2(1+ρ²)/(1−ρ²); there the residue form (no cancellation at large |κ|) takes over
        self._switch = (1 + self.r**2) / (1 - self.r**2)
        a = abs(self.r)
        self._f_min, self._f_max = (1 - a) / (1 + a), (1 + a) / (1 - a)  # the range of the symbol

    def trace(self, kappa):
        ctx = self.ctx
        if ctx.im(kappa) == 0 and ctx.re(kappa) >= 0:
            kappa = ctx.re(kappa)
            return self._tau(kappa, self.r), self._tau_p(kappa, self.r)
        # complex or negative κ (spectral equations): the product branch, real off the cut
        k = ctx.mpc(kappa)
        if abs(k) < self._switch:
            t, tp = self._tau_c(k, self.r), self._tau_c_p(k, self.r)
        else:
            t, tp = self._tau_r(k, self.r), self._tau_r_p(k, self.r)
        if ctx.im(kappa) == 0 and not (-self._f_max <= ctx.re(kappa) <= -self._f_min):
            return ctx.re(t), ctx.re(tp)
        return t, tp

    def diagonal(self, kappa):
        tau, tau_p = self.trace(kappa)  # Szegő: the bulk diagonal is the mean
        return [DiagonalGroup(Fraction(1), tau, tau_p)]

    def trace_array(self, kappas):
        # the product branch at every complex κ (the spectral law's arguments stay off the cut)
        r = float(self.rho)
        return numpy_function("ar1.tau_c")(kappas, r), numpy_function("ar1.tau_c_p")(kappas, r)


class AR1(CovarianceModel):
    name = "ar1"

    def __init__(self, rho, boundary: str = "toeplitz"):
        self.rho = parse("rho", rho)
        self.boundary = choice("boundary", boundary, BOUNDARIES)

    def describe(self):
        return {"model": self.name, "rho": str(self.rho), "boundary": self.boundary}

    def limit_description(self):
        res = expression("ar1.symbol")
        return {
            "toeplitz_symbol": f"f(omega) = {res.expr}",
            "rho": str(self.rho),
            "note": "toeplitz and circulant share the d = inf limit; bulk diagonals of g(Sigma) -> (1/2pi) int g(f)",
        }

    def resolvent(self, d, ctx):
        if d == INF:
            return LimitResolvent(self.rho, ctx)
        if self.boundary == "circulant":
            return CirculantResolvent(self.rho, d, ctx)
        return ToeplitzResolvent(self.rho, d, ctx)

    def constant_diagonal(self, d):
        # d = ∞: Szegő (the bulk diagonal of R is τ); circulant: every diagonal entry is the mean
        return d == INF or self.boundary == "circulant"

    def sigma_max(self, d, ctx):
        # the top of the symbol bounds every finite-d spectrum too (Toeplitz and circulant); in double precision
        return ctx.mpf(numpy_function("ar1.f_max")(float(self.rho)))

    def ar1_rho(self):
        return self.rho

    def sigma_entry(self, d, ctx):
        if self.boundary == "circulant":
            cov, r = Formulas(ctx)("ar1.periodic_cov"), mpf(ctx, self.rho)
            row = [cov(k, d, r) for k in range(d)]
            return lambda k, l: row[abs(k - l)]
        return lambda k, l: self.rho ** abs(k - l)  # Toeplitz: Σ_kl = ρ^{|k−l|}, exact

    def sigma(self, d):
        lags = np.arange(d)
        if self.boundary == "circulant":
            row = numpy_function("ar1.periodic_cov")(lags, d, float(self.rho))
            return scipy.linalg.circulant(row)
        return scipy.linalg.toeplitz(float(self.rho) ** lags)

    def apply_root(self, d, Z):
        r = float(self.rho)
        if self.boundary == "circulant":
            # circular convolution with the kernel whose spectrum is √f: covariance has spectrum f
            root = np.sqrt(circulant_eigenvalues(self.rho, d)[: d // 2 + 1])
            return np.fft.irfft(root * np.fft.rfft(Z, axis=1), n=d, axis=1)
        # AR recursion x_j = ρ x_{j−1} + √(1−ρ²) z_j with x_1 = z_1, as a linear filter (a C loop: 3-4x faster
        # than a bidiagonal solve or a loop over columns here)
        c = float(numpy_function("ar1.innovation")(r))
        z = np.array(Z, dtype=float)
        z[:, 0] /= c
        return scipy.signal.lfilter([c], [1.0, -r], z, axis=1)

    def sigma_apply(self, d, B):
        r = float(self.rho)
        if self.boundary == "circulant":
            eigs = circulant_eigenvalues(self.rho, d)[: d // 2 + 1]
            return np.fft.irfft(eigs[:, None] * np.fft.rfft(B, axis=0), n=d, axis=0)
        # Σ B = T^{-1} B with T tridiagonal: a banded solve, O(d²)
        edge = float(numpy_function("ar1.tinv_edge")(r))
        bulk = float(numpy_function("ar1.tinv_bulk")(r))
        off = float(numpy_function("ar1.tinv_off")(r))
        ab = np.empty((2, d))
        ab[0, :] = off
        ab[1, :] = bulk
        ab[1, 0] = ab[1, -1] = edge
        return scipy.linalg.solveh_banded(ab, B)
