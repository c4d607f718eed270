"""The limiting spectral law of the SSR matrix Â (claim C3; derivation spectrum).

Â is similar to I − D^{-1/2}QD^{-1/2}; with D ≍ D̄ = (κ/λ)diag(R) its eigenvalues
are 1 − 1/s for s in the spectrum of M = D̄^{1/2}(S + λI)D̄^{1/2}. The resolvent
of M solves the self-consistent equation

    F(δ; w) = δ − (1/α) E[σT(w, δ)] = 0,   T = 1/(λ − wλ/(κm) + σ/(1+δ)),

with E the average over the population *types* (σ, m) (diagonal Σ, or d = ∞
with constant m = c₀ where E is written through the base model's τ at a
complex argument), or a normalised trace over a dense d × d matrix (finite d,
general Σ; double precision only). Then g_M(w) = E[(λ/(κm))T] and
g_Â(z) = (1/(1−z))(1 + w g_M(w)) with w = 1/(1 − z).

Branch. δ(w) is continued from Im w large (where δ ≈ 0) down to the target
along a geometric path in Im w, Newton at every stage, so the root found is
the one with Im g > 0 in the upper half-plane; at a real point the last
Newton solve is made at Im w = 0 exactly, from the root just above it.

Edges are solved as equations: F = 0 and ∂F/∂δ = 0 in the real unknowns
(w, δ), by Newton's method, from starting points bracketed on a grid.
Atoms: with m constant on a block of coordinates of weight p, the null
space of S meets that block in dimension (p − α)⁺, so an atom of mass
(p − α)⁺ sits at 1 − 1/(κm) (for constant m: mass 1 − α at φ(0)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import numpy as np

from rmtverify.core.exceptions import InputError, SolverError
from rmtverify.core.params import INF, MAX_D_DENSE, MAX_D_SPECTRUM, check_dimension, parse
from rmtverify.core.precision import context, decimal, mpf
from rmtverify.models.base import CovarianceModel, Types
from rmtverify.symbolic.formulas import Formulas, numpy_function
from rmtverify.theory.kappa import solve_kappa

METHODS = ("auto", "dense")
#: a range of Â's spectrum wider than this (in x) is scanned on a geometric grid in w = 1/(1 − x)
WIDE_RANGE = 100.0
#: where the law is computed: α and λ/(tr Σ/d) in these closed ranges. Outside, the support shrinks (α → 0: a continuous
#: part of mass α; λ → ∞: width O(1/λ) around 0; λ → 0 with α < 1: width O(λ) below 1) beyond what the double-precision
#: support scan resolves, and a scan that misses it would report a wrong (empty) support: refused instead
SPECTRUM_ALPHA = (Fraction(1, 100), Fraction(1000))
SPECTRUM_LAM = (Fraction(1, 1000), Fraction(1000))  # λ/(tr Σ/d), and α·λ/(tr Σ/d) ≥ the lower end too
#: continuation stages from Im w = Y0 down to the target
PATH_STAGES = 40
#: an edge's bracket is cut into EDGE_POINTS pieces, EDGE_ROUNDS times (32^3 = 2^15): enough to start
#: the edge's 2-d Newton iteration, which is regular at a square-root edge, well inside its basin
EDGE_POINTS, EDGE_ROUNDS = 32, 3
#: the dense route (double precision): a coarser support scan, refined by more subdivision rounds (32^-5 of a scan step)
DENSE_GRID, DENSE_EDGE_ROUNDS = 400, 5


# --------------------------------------------------------------- population types (models.base.Types)


class _TypesBackend:
    """E[σT], E[σ²T²] and g_M for a finite list of types (mp scalars or numpy arrays)."""

    def __init__(self, types: Types, lam, kappa, ctx, vectorised: bool):
        self.vec = vectorised
        self.lam, self.kappa = lam, kappa
        if vectorised:
            T = numpy_function("spectrum.T_type")
            wgt = numpy_function("spectrum.gM_weight")
            self.w = np.array([float(x) for x in types.weights])
            self.s = np.array([float(x) for x in types.sigmas])
            self.m = np.array([float(x) for x in types.ms])
            self._T = T
            self.gw = wgt(self.m, float(lam), float(kappa))
        else:
            F = Formulas(ctx)
            self._T = F("spectrum.T_type")
            wgt = F("spectrum.gM_weight")
            self.w = [mpf(ctx, x) if isinstance(x, Fraction) else x for x in types.weights]
            self.s = list(types.sigmas)
            self.m = list(types.ms)
            self.gw = [wgt(m, lam, kappa) for m in self.m]
            self.ctx = ctx

    def evaluate(self, w, delta):
        b = 1 / (1 + delta)
        if self.vec:
            T = self._T(w[:, None], b[:, None], self.s[None, :], self.m[None, :], float(self.lam), float(self.kappa))
            es = T @ (self.w * self.s)
            es2 = (T * T) @ (self.w * self.s**2)
            g = T @ (self.w * self.gw)
            return es, es2, g
        T = [self._T(w, b, s, m, self.lam, self.kappa) for s, m in zip(self.s, self.m)]
        fs = self.ctx.fsum
        es = fs(p * s * t for p, s, t in zip(self.w, self.s, T))
        es2 = fs(p * s * s * t * t for p, s, t in zip(self.w, self.s, T))
        g = fs(p * q * t for p, q, t in zip(self.w, self.gw, T))
        return es, es2, g


class _ConstantBackend:
    """Constant m = c₀: every average through the model's τ(κ') at complex κ' (its resolvent's ``trace``, or
    ``trace_array`` in double precision)."""

    def __init__(self, resolvent, lam, kappa, c0, ctx, vectorised: bool):
        self.vec = vectorised
        self.lam, self.kappa, self.c0 = lam, kappa, c0
        if vectorised:
            self._kp = numpy_function("spectrum.kappa_prime")
            self._es = numpy_function("spectrum.E_sigma_T")
            self._es2 = numpy_function("spectrum.E_sigma2_T2")
            self._et = numpy_function("spectrum.E_T")
            self._tau = resolvent.trace_array  # vectorised complex τ, τ'
            self.gw = float(numpy_function("spectrum.gM_weight")(float(c0), float(lam), float(kappa)))
        else:
            F = Formulas(ctx)
            self._kp, self._es, self._es2, self._et = (F("spectrum.kappa_prime"), F("spectrum.E_sigma_T"), F("spectrum.E_sigma2_T2"),
                                                       F("spectrum.E_T"))
            self.res = resolvent
            self.gw = F("spectrum.gM_weight")(c0, lam, kappa)

    def evaluate(self, w, delta):
        b = 1 / (1 + delta)
        if self.vec:
            kp = self._kp(w, b, float(self.lam), float(self.kappa), float(self.c0))
            tau, tau_p = self._tau(kp)
        else:
            kp = self._kp(w, b, self.lam, self.kappa, self.c0)
            tau, tau_p = self.res.trace(kp)
        return self._es(b, kp, tau), self._es2(b, kp, tau, tau_p), self.gw * self._et(b, tau)


#: memory for one block of the dense backend's batched inverses
DENSE_BLOCK_BYTES = 2**27


class _DenseBackend:
    """Finite d, general Σ: normalised traces over d × d complex inverses (numpy, per point).

    T = B^{-1} with B(w) = (λI − (wλ/κ)Δ^{-1}) + Σ/(1+δ); E[σT] = (1/d) tr ΣT and E[σ²T²] = (1/d) tr (ΣT)² are the
    normalised traces, g_M = (λ/κ)(1/d) tr Δ^{-1}T (derivation spectrum, steps dense-B and dense-g-M).
    """

    def __init__(self, sigma, m_diag, lam, kappa):
        self.S = np.asarray(sigma, float)
        self.minv = 1 / np.asarray(m_diag, float)  # the diagonal of Δ^{-1}
        self.lam, self.kappa = float(lam), float(kappa)
        self.d = self.S.shape[0]
        self.vec = True
        self._coef = numpy_function("spectrum.B_coefficient")
        self._diag = numpy_function("spectrum.B_diagonal")
        self._B = numpy_function("spectrum.B_matrix")
        self._g = numpy_function("spectrum.g_M_trace")

    def evaluate(self, w, delta):
        # all points at once: one batched LAPACK inverse of a (k, d, d) stack, in blocks that bound the memory
        w, delta = np.asarray(w, complex), np.asarray(delta, complex)
        es, es2, g = (np.empty(w.size, complex) for _ in range(3))
        block = max(1, DENSE_BLOCK_BYTES // (16 * self.d * self.d * 3))
        for lo in range(0, w.size, block):
            sl = slice(lo, lo + block)
            c = self._coef(w[sl], self.lam, self.kappa)
            diag = self._diag(c[:, None], self.minv[None, :], self.lam)
            stack = np.zeros((diag.shape[0], self.d, self.d), complex)
            idx = np.arange(self.d)
            stack[:, idx, idx] = diag
            T = np.linalg.inv(self._B(stack, self.S[None, :, :], delta[sl][:, None, None]))
            ST = self.S[None, :, :] @ T
            es[sl] = np.trace(ST, axis1=1, axis2=2) / self.d
            es2[sl] = np.einsum("kij,kji->k", ST, ST) / self.d
            g[sl] = self._g(np.diagonal(T, axis1=1, axis2=2) @ self.minv, self.lam, self.kappa, self.d)
        return es, es2, g


# --------------------------------------------------------------- the law


@dataclass
class Atom:
    mass: object
    location: object


class SpectralLaw:
    """The limiting (or finite-d deterministic-equivalent) spectral law of Â."""

    def __init__(self, model, alpha, lam, d, ctx, perturb=Fraction(0), pushforward: bool = False, method: str = "auto"):
        self.model, self.alpha, self.lam, self.d = model, alpha, lam, d
        self.ctx = ctx
        self._memo = {}
        self.perturb = Fraction(perturb)
        self.edge_error = 0.0  # the dense route's edges: half the width of their final bracket
        res = model.resolvent(d, ctx)
        self.kappa = solve_kappa(res, alpha, lam, ctx)
        self._a = mpf(ctx, alpha)
        self._l = mpf(ctx, lam)
        self._eps = mpf(ctx, self.perturb)
        F = Formulas(ctx)
        # the fixed point F(δ) = δ − s_F E[σT] and its δ-derivative, s_F = (1+ε)/α, in ctx (s_F at the precision
        # of each call: the edge solver raises it) and in double precision
        self._fixed_mp = (F("spectrum.fixed_point"), F("spectrum.fixed_point_d"), F("spectrum.fixed_point_scale"))
        self._fixed_np = (
            numpy_function("spectrum.fixed_point"),
            numpy_function("spectrum.fixed_point_d"),
            numpy_function("spectrum.fixed_point_scale")(float(1 + self.perturb), float(self.alpha)),
        )
        if method not in METHODS:
            raise InputError("method", f"one of {', '.join(METHODS)}; got {method!r}")
        if method == "dense" and d == INF:
            raise InputError("method", "the dense route is a finite-d computation: give a finite d")
        types = model.spectral_types(d, ctx, self.kappa) if method == "auto" else None
        if types is not None and pushforward:
            # the shortcut of SPEC C3: every m replaced by the mean of diag R, c₀ = τ(κ)
            c0 = res.trace(self.kappa)[0]
            types = Types(types.weights, types.sigmas, tuple(c0 for _ in types.ms))
        self.pushforward = pushforward
        self.constant_diagonal = types is None and method == "auto" and model.constant_diagonal(d)
        if types is not None:
            self.types = types
            self._mp = _TypesBackend(types, self._l, self.kappa, ctx, False)
            self._np = _TypesBackend(types, self._l, self.kappa, ctx, True)
            ms = {ctx.nstr(m, 20) for m in types.ms}
            self.constant_diagonal = len(ms) == 1
            self.c0 = types.ms[0] if self.constant_diagonal else None
        elif self.constant_diagonal:
            self.types = None
            self.c0 = res.trace(self.kappa)[0]
            self._mp = _ConstantBackend(res, self._l, self.kappa, self.c0, ctx, False)
            self._np = _ConstantBackend(res, self._l, self.kappa, self.c0, ctx, True)
        else:
            self.types = None
            self.c0 = None
            # the diagonal of R coordinate by coordinate: a group of weight w stands for w·d consecutive coordinates
            # (every model lists its groups in the order of Σ's coordinates)
            groups = res.diagonal(self.kappa)
            counts = [int(g.weight * d) for g in groups]
            if sum(counts) != d or any(g.weight * d != c for g, c in zip(groups, counts)):
                raise SolverError("dense spectral equation", f"diag R's groups do not cover the {d} coordinates ({counts})")
            m_diag = np.repeat([float(g.m) for g in groups], counts)
            self._mp = None
            self._np = _DenseBackend(model.sigma(d), m_diag, self._l, self.kappa)

    # ---- the fixed point
    def _F(self, backend, w, delta):
        es, es2, g = backend.evaluate(w, delta)
        if backend is self._mp:
            residual, derivative, scale = self._fixed_mp
            scale = scale(1 + self._eps, self._a)
        else:
            residual, derivative, scale = self._fixed_np
        return residual(delta, es, scale), derivative(delta, es2, scale), g

    def _solve_mp(self, w, real_limit: bool = True, start=None):
        """δ(w) and g_M(w) for one complex w with Im w ≥ 0, in the law's context.

        ``start``: a guess for δ at the top of the path (default 0). Any guess, a real one
        included, is pulled onto the physical branch there (|δ| is small and the fixed point is
        a contraction at Im w ≫ |w|); a real guess at a real w would stay real under Newton's
        method and miss the complex root inside the support.

        Continued from Im w = max(10, 10|w|) down to Im w = y_min = 10^(-0.6 dps)
        (about three stages per decade); a real target is then solved at Im w = 0
        from the last stage when ``real_limit``. Near an edge the real-axis root is
        nearly double and Newton slows down; if it has not converged in 100 steps
        the value at y_min is returned (its error is O(y_min), far below the
        digits the callers deliver, which compare two precisions).
        """
        ctx = self.ctx
        if self._mp is None:
            raise InputError("dps", "the dense finite-d spectral equation (a Σ neither diagonal nor of constant diag R, at "
                                    "finite d) is solved in double "
                                    "precision only (--double on the command line, dps=None in Python)")
        y_target = ctx.im(w)
        y0 = max(ctx.mpf(10), 10 * abs(w))
        y_min = max(y_target, ctx.mpf(10) ** (-(ctx.dps * 3 // 5)))
        stages = max(PATH_STAGES, int(3 * float(ctx.log10(y0 / y_min))) + 1)
        delta = ctx.mpc(0 if start is None else start)
        tol = ctx.mpf(2) ** (-(ctx.prec - 10))
        for k in range(stages + 1):
            y = y0 * (y_min / y0) ** (ctx.mpf(k) / stages)
            delta = self._newton_mp(ctx.mpc(ctx.re(w), y), delta, tol, 200, strict=True)
        if y_target < y_min and real_limit:
            delta = self._newton_mp(w, delta, tol, 100, strict=False)
        F, dF, g = self._F(self._mp, ctx.mpc(ctx.re(w), max(y_target, 0 if real_limit else y_min)), delta)
        return delta, g

    def _newton_mp(self, w, delta, tol, steps, strict):
        start = delta
        # near an edge F' is small and δ is only determined to eps/|F'|: accept a residual at rounding level
        floor = 64 * self.ctx.eps
        for _ in range(steps):
            F, dF, _ = self._F(self._mp, w, delta)
            if abs(F) <= floor * (1 + abs(delta)):
                return delta
            step = F / dF
            delta = delta - step
            if abs(step) <= tol * (1 + abs(delta)):
                return delta
        if strict:
            raise SolverError("spectral fixed point δ(w)", f"Newton's method at w = {self.ctx.nstr(w, 10)} ({self.ctx.prec} bits), "
                                                           f"{steps} iterations along the Im w path")
        return start

    def g(self, z, start=None):
        """g_Â(z) for complex z (Im z ≥ 0; a real z means z + i0); ``start`` as in ``_solve_mp``."""
        ctx = self.ctx
        F = Formulas(ctx)
        z = ctx.mpc(z)
        w = F("spectrum.w_of_z")(z)
        if ctx.im(w) < 0:
            w = ctx.conj(w)
        _, gm = self._solve_mp(w, start=start)
        return F("spectrum.g_A")(z, w, gm)

    def density(self, x):
        """The density of Â's continuous part at real x (0 on [1, ∞): Â's spectrum lies below 1, derivation spectrum
        step below-one; x = 1 is the pole of w = 1/(1 − x))."""
        if self.ctx.mpf(x) >= 1:
            return self.ctx.mpf(0)
        val = self.ctx.im(self.g(self.ctx.mpf(x))) / self.ctx.pi
        noise = self.ctx.mpf(10) ** (-(self.ctx.dps - 8))
        return val if val > noise else self.ctx.mpf(0)

    # ---- double precision, vectorised: densities on grids, CDF tables
    def _delta_np(self, x: np.ndarray) -> np.ndarray:
        """δ at w = 1/(1 − x) for real x (double precision, vectorised continuation)."""
        w = numpy_function("spectrum.w_of_z")(np.asarray(x, float).astype(complex))
        delta = np.zeros_like(w)
        y0 = np.maximum(10.0, 10 * np.abs(w))
        wr = w.real
        for k in range(PATH_STAGES + 1):
            y = y0 * (1e-9 / y0) ** (k / PATH_STAGES)
            delta = self._newton_np(wr + 1j * y, delta)
        return self._newton_np(wr + 0j, delta)

    def g_M_grid(self, x: np.ndarray) -> np.ndarray:
        """g_M(w + i0) at w = 1/(1 − x) for real x (double precision, vectorised)."""
        x = np.asarray(x, float)
        wr = numpy_function("spectrum.w_of_z")(x.astype(complex)).real
        delta = self._delta_np(x)
        return self._F(self._np, wr + 0j, delta)[2]

    def density_grid(self, x: np.ndarray) -> np.ndarray:
        return self.density_grid_with_error(x)[0]

    def density_grid_with_error(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The density on a grid (double precision) and a first-order bound on its error: δ is known to |F|/|F'| plus
        the rounding of one evaluation, and the density is re-evaluated at δ moved by that much."""
        x = np.asarray(x, float)
        w = numpy_function("spectrum.w_of_z")(x.astype(complex))
        wr = w.real
        delta = self._delta_np(x)
        F, dF, gm = self._F(self._np, wr + 0j, delta)
        g_A = numpy_function("spectrum.g_A_w")
        dens = g_A(w, gm).imag / np.pi
        with np.errstate(divide="ignore", invalid="ignore"):
            step = (np.abs(F) + 1e-14 * (1 + np.abs(delta))) / np.abs(dF)
        step = np.where(np.isfinite(step), step, 0.0)
        moved = g_A(w, self._F(self._np, wr + 0j, delta + step)[2]).imag / np.pi
        err = np.abs(moved - dens) + 1e-14 * np.abs(dens)
        zero = dens < 1e-12
        dens[zero], err[zero] = 0.0, np.maximum(err[zero], 1e-12)
        return dens, err

    def _newton_np(self, w, delta):
        # only the points not yet converged are iterated: near an edge Newton is slow, and the cost of
        # one evaluation is proportional to the number of points in it
        delta = np.array(delta, complex)
        active = np.arange(delta.size)
        for _ in range(100):
            F, dF, _ = self._F(self._np, w[active], delta[active])
            # a non-finite point (a pole of w) can never converge: drop it rather than iterate 100 times
            done = (np.abs(F) <= 1e-14 * (1 + np.abs(delta[active]))) | ~np.isfinite(F)
            active, F, dF = active[~done], F[~done], dF[~done]
            if active.size == 0:
                break
            delta[active] -= F / dF
        return delta

    # ---- atoms, support, edges
    def atoms(self) -> list[Atom]:
        if self.alpha >= 1:
            return []
        ctx = self.ctx
        loc = Formulas(ctx)("spectrum.atom_location")
        out = []
        if self.constant_diagonal:
            return [Atom(1 - self._a, loc(self.kappa, self.c0))]
        if self.types is not None:
            blocks = {}
            for p, m in zip(self.types.weights, self.types.ms):
                key = ctx.nstr(m, ctx.dps - 5)
                blocks.setdefault(key, [ctx.mpf(0), m])
                blocks[key][0] += mpf(ctx, p) if isinstance(p, Fraction) else p
            for p, m in blocks.values():
                if p > self._a:
                    out.append(Atom(p - self._a, loc(self.kappa, m)))
        return out

    def range(self):
        """An interval that contains the whole spectrum of Â (from bounds on M's)."""
        ctx = self.ctx
        F = Formulas(ctx)
        if self.types is not None:
            m_lo, m_hi = min(self.types.ms), max(self.types.ms)
            s_max = max(self.types.sigmas)
        elif self.constant_diagonal:
            m_lo = m_hi = self.c0
            s_max = self.model.sigma_max(self.d, ctx)
        else:
            ms = [float(g.m) for g in self.model.resolvent(self.d, mpmath.fp).diagonal(float(self.kappa))]
            m_lo, m_hi = ctx.mpf(min(ms)), ctx.mpf(max(ms))
            s_max = ctx.mpf(float(np.linalg.eigvalsh(self.model.sigma(self.d))[-1]))
        # λ D̄ ≤ M ≤ D̄ (‖S‖ + λ), ‖S‖ ≤ s_max (1 + 1/√α)² in the limit (steps range-lower, range-upper)
        lo = F("spectrum.lower_bound")(self.kappa, m_lo)
        hi = F("spectrum.z_of_w")(F("spectrum.M_top")(self.kappa, self._l, m_hi, s_max, self._a))
        return lo, hi

    def support(self, grid: int = 4000):
        """Support intervals of the continuous part, each edge solved as an equation (double root of F)."""
        key = ("support", grid)
        if key not in self._memo:
            self._memo[key] = self._support(grid)
        return self._memo[key]

    def _support(self, grid):
        if self._mp is None:
            grid = min(grid, DENSE_GRID)  # each point is a d x d inverse per Newton step: a coarser scan, then subdivision
        lo, hi = (float(v) for v in self.range())
        if hi - lo <= WIDE_RANGE:
            pad = 1e-3 * (hi - lo)
            x = np.linspace(lo - pad, hi + pad, grid)
        else:
            # a range spanning decades in w = 1/(1 − x) (small λ: the lower bound 1 − 1/(κm) runs off to −∞): a geometric
            # grid in w resolves the support wherever it sits
            wz = numpy_function("spectrum.w_of_z")
            w_lo, w_hi = (float(np.real(wz(complex(v)))) for v in (lo, hi))
            x = 1 - 1 / np.geomspace(w_lo / 1.01, w_hi * 1.01, grid)
        dens = self.density_grid(x)
        inside = dens > 0
        intervals = []
        k = 0
        while k < grid:
            if inside[k]:
                j = k
                while j + 1 < grid and inside[j + 1]:
                    j += 1
                intervals.append((x[max(k - 1, 0)], x[k], x[j], x[min(j + 1, grid - 1)]))
                k = j + 1
            else:
                k += 1
        edges = []
        hard = self._hard_edge()
        for out_lo, in_lo, in_hi, out_hi in intervals:
            a = hard if hard is not None and not edges and out_lo <= float(hard) <= in_lo else self._edge(out_lo, in_lo)
            b = self._edge(out_hi, in_hi)
            edges.append((a, b))
        mass = self._continuous_mass()
        if not edges and mass > 0:
            raise SolverError("support of Â's spectral law", f"a scan of {grid} points on [{lo:.6g}, {hi:.6g}] found no point of "
                                                             f"positive density, though the continuous part has mass {float(mass):.6g}")
        return edges

    def _hard_edge(self):
        """At α = 1 with a constant diagonal, the lower edge is the image φ(0) = 1 − 1/(κc₀) of S's hard edge s = 0
        (derivation spectrum, step hard-edge-alpha-one), not a double root of the fixed point; None otherwise."""
        if self.alpha != 1 or not self.constant_diagonal or self.c0 is None:
            return None
        return Formulas(self.ctx)("spectrum.atom_location")(self.kappa, self.c0)

    def _continuous_mass(self):
        return 1 - sum((a.mass for a in self.atoms()), self.ctx.mpf(0))

    def _edge(self, x_out, x_in):
        """The support edge between a grid point outside (x_out) and one inside (x_in).

        Subdivision (double precision) on "the fixed point has a real root" (Im δ = 0)
        brings the bracket to 32^-EDGE_ROUNDS of its width; then the edge is solved as the equation system F = 0,
        ∂F/∂δ = 0 in the real unknowns (w, δ) by Newton's method, to full precision.
        """
        ctx = self.ctx
        F = Formulas(ctx)
        if self._mp is None:
            return self._edge_dense(float(x_out), float(x_in))
        wz = F("spectrum.w_of_z")
        # subdivision in double precision (classification only: does δ have an imaginary part?)
        out, inn = float(x_out), float(x_in)
        # EDGE_ROUNDS rounds of 31 interior points shrink the bracket by 32^EDGE_ROUNDS, like
        # 5·EDGE_ROUNDS bisection steps, in EDGE_ROUNDS vectorised continuations
        t = np.arange(1, EDGE_POINTS) / EDGE_POINTS
        delta_out = None
        for _ in range(EDGE_ROUNDS):
            pts = out + t * (inn - out)
            deltas = self._delta_np(pts)
            inside = deltas.imag > 1e-9
            j = int(np.argmax(inside)) if inside.any() else len(pts)
            if j > 0:
                delta_out = deltas[j - 1].real
            out, inn = (pts[j - 1] if j > 0 else out), (pts[j] if j < len(pts) else inn)
        out, inn = ctx.mpf(out), ctx.mpf(inn)
        # Newton's start: the real root just outside, in double precision (the 2-d system below is
        # regular at a simple edge, so it converges to ctx's precision from there); solved in ctx only
        # when no subdivision point fell outside
        if delta_out is None or not np.isfinite(delta_out):
            delta_out = ctx.re(self._solve_mp(ctx.mpc(wz(out)))[0])
        delta_out = ctx.mpf(delta_out)

        def system(wv, dv):
            Fv, dFv, _ = self._F(self._mp, wv, dv)
            return [ctx.re(Fv), ctx.re(dFv)]

        w0 = wz(out)
        try:
            w_e, _ = ctx.findroot(system, (w0, delta_out), tol=ctx.mpf(2) ** (-(ctx.prec - 20)), maxsteps=100)
        except (ValueError, ZeroDivisionError) as exc:
            raise SolverError(
                "support edge (double root of the spectral fixed point)",
                f"subdivision to [{ctx.nstr(out, 12)}, {ctx.nstr(inn, 12)}], then 2-d Newton from w = {ctx.nstr(w0, 12)}, "
                f"δ = {ctx.nstr(delta_out, 12)}: {exc}",
            ) from None
        x_e = F("spectrum.z_of_w")(w_e)
        width = abs(ctx.mpf(x_in) - ctx.mpf(x_out))
        # the bisection classifies by Im δ, which is unreliable within ~1e-10 of the edge: only reject a far-off root
        if abs(x_e - (out + inn) / 2) > width / 100:
            raise SolverError("support edge", f"Newton converged to x = {ctx.nstr(x_e, 12)}, "
                                              f"away from the bisected bracket [{ctx.nstr(out, 12)}, {ctx.nstr(inn, 12)}]")
        return x_e

    def _edge_dense(self, out: float, inn: float):
        """The dense route's edge (double precision): DENSE_EDGE_ROUNDS subdivisions on "δ has an imaginary part",
        then the bracket's midpoint; its half-width, the edge's error bound, is kept in ``edge_error``."""
        t = np.arange(1, EDGE_POINTS) / EDGE_POINTS
        for _ in range(DENSE_EDGE_ROUNDS):
            pts = out + t * (inn - out)
            inside = self._delta_np(pts).imag > 1e-9
            j = int(np.argmax(inside)) if inside.any() else len(pts)
            out, inn = (pts[j - 1] if j > 0 else out), (pts[j] if j < len(pts) else inn)
        self.edge_error = max(self.edge_error, abs(inn - out) / 2)
        return self.ctx.mpf((out + inn) / 2)

    def interior_point(self, u):
        """A point at fraction u of the first support interval (for checks)."""
        a, b = self.support()[0]
        return a + (b - a) * mpf(self.ctx, Fraction(u))

    # ---- CDF table (double precision) for distances
    def cdf_table(self, nodes_per_interval: int = 1500):
        """(x, F(x)) on Chebyshev-spaced nodes of every support interval, atoms included as jumps."""
        key = ("cdf", nodes_per_interval)
        if key not in self._memo:
            self._memo[key] = self._cdf_table(nodes_per_interval)
        return self._memo[key]

    def _cdf_table(self, nodes_per_interval):
        edges = [(float(a), float(b)) for a, b in self.support()]
        atoms = [(float(at.location), float(at.mass)) for at in self.atoms()]
        xs, Fs = [], []
        total = 0.0
        pieces = sorted([("c", a, b) for a, b in edges] + [("a", x, m) for x, m in atoms], key=lambda t: t[1])
        for kind, a, b in pieces:
            if kind == "a":
                xs += [a, a]
                Fs += [total, total + b]
                total += b
                continue
            t = np.linspace(0, np.pi, nodes_per_interval)
            x = a + (b - a) * (1 - np.cos(t)) / 2
            dens = self.density_grid(x[1:-1])
            dens = np.concatenate([[0.0], dens, [0.0]])
            # dx = (b − a)/2 sin t dt: the sqrt edges become smooth in t
            integrand = dens * (b - a) / 2 * np.sin(t)
            cum = np.concatenate([[0.0], np.cumsum((integrand[1:] + integrand[:-1]) / 2 * np.diff(t))])
            xs += list(x)
            Fs += list(total + cum)
            total += cum[-1]
        return np.array(xs), np.array(Fs), total

    def as_dict(self, x_points=(), digits=None) -> dict:
        ctx = self.ctx
        digits = digits or max(15, ctx.dps - 12)
        out = {
            "kappa": decimal(ctx, self.kappa, digits),
            "constant_diagonal": self.constant_diagonal,
            "edges": [[decimal(ctx, a, digits), decimal(ctx, b, digits)] for a, b in self.support()],
        }
        atoms = self.atoms()
        out["atom_mass"] = (decimal(ctx, atoms[0].mass, digits) if len(atoms) == 1
                            else [decimal(ctx, a.mass, digits) for a in atoms] if atoms else "0")
        out["atom_location"] = (decimal(ctx, atoms[0].location, digits) if len(atoms) == 1
                                else [decimal(ctx, a.location, digits) for a in atoms] if atoms else None)
        out["density"] = {str(x): decimal(ctx, self.density(mpf(ctx, parse_x(x))), digits) for x in x_points}
        return out


@dataclass
class LawTables:
    """A law in double precision for comparisons with samples: the CDF on a table of nodes (atoms included
    as jumps) and of its continuous part alone (normalised to 1), atoms, support edges, and the Stieltjes
    transform g₀ at a test point z₀ far from the axis (where 1/(x − z₀) is smooth)."""

    x: np.ndarray
    F: np.ndarray
    Fc: np.ndarray
    atoms: list  # [(location, mass)]
    edges: list  # [(lo, hi)] of the continuous part
    z0: complex
    g0: complex

    def cdf(self, grid: np.ndarray) -> np.ndarray:
        return np.interp(grid, self.x, self.F, left=0.0, right=1.0)

    def width(self) -> float:
        return self.edges[-1][1] - self.edges[0][0]

    def summary(self) -> str:
        edges = ", ".join(f"[{a:.8g}, {b:.8g}]" for a, b in self.edges)
        atoms = ", ".join(f"mass {m:.6g} at {loc:.8g}" for loc, m in self.atoms) or "none"
        return (f"support {edges}; atoms: {atoms}; g_Â(z₀) = {self.g0.real:.10g} + {self.g0.imag:.10g}i "
                f"at z₀ = {self.z0.real:.6g} + {self.z0.imag:.6g}i")

    def as_dict(self) -> dict:
        return {"edges": [[repr(a), repr(b)] for a, b in self.edges],
                "atoms": [{"location": repr(a), "mass": repr(m)} for a, m in self.atoms],
                "z0": [self.z0.real, self.z0.imag], "g_z0": [self.g0.real, self.g0.imag]}


def law_tables(law: "SpectralLaw") -> LawTables:
    """The double-precision tables of ``law`` (see :class:`LawTables`)."""
    x, F, _ = law.cdf_table()
    atoms = [(float(a.location), float(a.mass)) for a in law.atoms()]
    edges = [(float(a), float(b)) for a, b in law.support()]
    jumps = np.zeros_like(F)
    for loc, mass in atoms:
        jumps += mass * (x >= loc)
    Fc = F - jumps
    Fc = Fc / Fc[-1]
    lo, hi = edges[0][0], edges[-1][1]
    z0 = complex((lo + hi) / 2, 3 * (hi - lo))
    g0 = complex(law.g(law.ctx.mpc(z0.real, z0.imag)))
    return LawTables(x, F, Fc, atoms, edges, z0, g0)


def law_comparison(model, alpha, lam, eps=Fraction(0)) -> dict:
    """The d = ∞ law of Â with its resolvent equation perturbed by ``eps`` (double-precision tables), the tables
    of the push-forward shortcut, and what a 1% error in the equation changes: |Δg_Â(z₀)| and the KS and W1
    distances between the exact and the perturbed laws."""
    laws = {e: spectral_law(model, alpha, lam, d=INF, dps=None, perturb=e) for e in {Fraction(0), Fraction(1, 100), eps}}
    law, exact, off = laws[eps], laws[Fraction(0)], laws[Fraction(1, 100)]
    tables = law_tables(law)
    ok, bad = (tables if exact is law else law_tables(exact)), (tables if off is law else law_tables(off))
    pf = tables if law.constant_diagonal else law_tables(spectral_law(model, alpha, lam, d=INF, dps=None, pushforward=True))
    dg = abs(ok.g0 - complex(off.g(off.ctx.mpc(ok.z0.real, ok.z0.imag))))
    return {"law": law, "tables": tables, "pushforward": pf, "dg_1pct": dg, "ks_1pct": ks_between(ok, bad), "w1_1pct": w1_between(ok, bad)}


def _common_grid(a: LawTables, b: LawTables, points: int = 200001) -> np.ndarray:
    return np.linspace(min(a.x[0], b.x[0]), max(a.x[-1], b.x[-1]), points)


def ks_between(a: LawTables, b: LawTables) -> float:
    """sup |F_a − F_b| of two tabulated laws."""
    g = _common_grid(a, b)
    return float(np.max(np.abs(a.cdf(g) - b.cdf(g))))


def w1_between(a: LawTables, b: LawTables) -> float:
    """∫ |F_a − F_b| of two tabulated laws (trapezoid on a fine grid)."""
    g = _common_grid(a, b)
    diff = np.abs(a.cdf(g) - b.cdf(g))
    return float(np.sum((diff[1:] + diff[:-1]) / 2 * np.diff(g)))


def parse_x(x):
    from rmtverify.core.params import exact

    v = exact(x, "x")
    if v is None or v in (INF, -INF):
        raise InputError("x", f"must be real numbers; got {x!r}")
    return v


def check_range(model: CovarianceModel, alpha, lam, d, method: str = "auto") -> None:
    """Refuse (InputError naming the parameter and its range) a point outside the declared ranges of the spectral law
    (SPECTRUM_ALPHA, SPECTRUM_LAM relative to tr Σ/d) or a finite d beyond MAX_D_SPECTRUM (MAX_D_DENSE for the dense route)."""
    a_lo, a_hi = SPECTRUM_ALPHA
    if not a_lo <= alpha <= a_hi:
        raise InputError("alpha", f"must be in [{a_lo}, {a_hi}] for the spectral law of Â; got {alpha} (outside, the support "
                                  "shrinks below what the double-precision support scan resolves)")
    scale = Fraction(repr(float(model.resolvent(d, mpmath.fp).mean_sigma)))
    l_lo, l_hi = SPECTRUM_LAM
    lo = max(l_lo, l_lo / alpha) * scale
    if not lo <= lam <= l_hi * scale:
        raise InputError("lam", f"must be in [{float(lo):.6g}, {float(l_hi * scale):.6g}] for the spectral law of Â at alpha = {alpha} "
                                f"(lam/(tr Σ/d) in [{l_lo}, {l_hi}] and alpha·lam/(tr Σ/d) >= {l_lo}; outside, the support shrinks "
                                f"to a width O(lam) or O(1/lam) that the double-precision support scan does not resolve); got {lam}")
    if d != INF:
        check_dimension(d, MAX_D_SPECTRUM, "the finite-d spectral law")
        if method == "dense" or (model.spectral_types(d, mpmath.fp, 1.0) is None and not model.constant_diagonal(d)):
            check_dimension(d, MAX_D_DENSE, "the dense finite-d spectral equation (a d x d complex inverse per point)")


def spectral_law(model: CovarianceModel, alpha, lam, d=None, dps: int | None = 30, perturb=0, pushforward: bool = False,
                 method: str = "auto") -> SpectralLaw:
    """The spectral law of Â for a model at (α, λ), at d (None: the model's default, d = ∞ when it has one).

    ``method``: ``auto`` (population types when Σ is diagonal, the base law's τ when diag R is constant, else the
    dense d × d equation) or ``dense`` (the dense equation at any finite d: a second method, to cross-check)."""
    alpha = parse("alpha", alpha)
    lam = parse("lam", lam)
    if lam == 0:
        raise InputError("lam", "must be > 0 for the spectrum of the SSR matrix; got 0")
    d = model.check_d(d)
    check_range(model, alpha, lam, d, method)
    ctx = mpmath.fp if dps is None else context(parse("dps", dps) + 12)
    if dps is None:
        ctx = context(20)  # the double path still solves κ and the edges at 20 digits
    return SpectralLaw(model, alpha, lam, d, ctx, parse("perturb", perturb), pushforward, method)


def density_report(model: CovarianceModel, alpha, lam, d=None, xs=(), dps: int = 30) -> dict:
    """Density at the points, support edges and atoms, every digit delivered (two precisions agree)."""
    from rmtverify.core.precision import deliver

    alpha, lam = parse("alpha", alpha), parse("lam", lam)
    if lam == 0:
        raise InputError("lam", "must be > 0 for the spectrum of the SSR matrix; got 0")
    d = model.check_d(d)
    check_range(model, alpha, lam, d)
    labels = [x.strip() if isinstance(x, str) else str(x) for x in xs]  # the points as given (the JSON keys)
    xs = [parse_x(x) for x in xs]
    if dps is None:
        return _density_report_double(model, alpha, lam, d, labels, xs)
    dps = parse("dps", dps)

    def compute(ctx):
        law = SpectralLaw(model, alpha, lam, d, ctx)
        out = {f"x{i}": law.density(mpf(ctx, x)) for i, x in enumerate(xs)}
        for j, (a, b) in enumerate(law.support()):
            out[f"lo{j}"], out[f"hi{j}"] = a, b
        for j, at in enumerate(law.atoms()):
            out[f"atom_mass{j}"], out[f"atom_loc{j}"] = at.mass, at.location
        out["kappa"] = law.kappa
        out["n_intervals"] = len([k for k in out if k.startswith("lo")])
        out["n_atoms"] = len([k for k in out if k.startswith("atom_mass")])
        return out

    ctx, v = deliver(compute, dps, "the spectral density")
    digits = dps
    dens = {label: decimal(ctx, v[f"x{i}"], digits) for i, label in enumerate(labels)}
    edges = [[decimal(ctx, v[f"lo{j}"], digits), decimal(ctx, v[f"hi{j}"], digits)] for j in range(v["n_intervals"])]
    masses = [decimal(ctx, v[f"atom_mass{j}"], digits) for j in range(v["n_atoms"])]
    locs = [decimal(ctx, v[f"atom_loc{j}"], digits) for j in range(v["n_atoms"])]
    return {
        "model": model.describe(),
        "d": "inf" if d == INF else d,
        "alpha": str(alpha),
        "lam": str(lam),
        "dps": dps,
        "kappa": decimal(ctx, v["kappa"], digits),
        "density": dens,
        "edges": edges,
        "atom_mass": masses[0] if len(masses) == 1 else masses if masses else "0",
        "atom_location": locs[0] if len(locs) == 1 else locs if locs else None,
    }


def _with_error(value: float, error: float) -> str:
    """A double-precision value with only the significant digits its error bound leaves (at most 12)."""
    if value == 0:
        return "0"
    # the last printed digit is right when the error is below half a unit in its place
    digits = int(min(12, max(1, math.floor(math.log10(abs(value) / (2 * error)))) if error > 0 else 12))
    return mpmath.nstr(mpmath.mpf(value), digits, min_fixed=-math.inf, max_fixed=math.inf)


def _density_report_double(model: CovarianceModel, alpha, lam, d, labels, xs) -> dict:
    """density_report in double precision (the dense finite-d route has no other): each value printed with the digits
    its error bound leaves, and the bound itself."""
    law = spectral_law(model, alpha, lam, d=d, dps=None)
    pts = np.array([float(x) for x in xs], float)
    below = pts < 1  # Â's spectrum lies below 1 (derivation spectrum, step below-one); x = 1 is the pole of w = 1/(1 − x)
    dens, err = np.zeros(len(pts)), np.zeros(len(pts))
    if below.any():
        dens[below], err[below] = law.density_grid_with_error(pts[below])
    edges = [(float(a), float(b)) for a, b in law.support()]
    edge_err = max(law.edge_error, 1e-15 * max((abs(v) for e in edges for v in e), default=1.0))
    atoms = law.atoms()
    ctx = law.ctx
    masses = [decimal(ctx, a.mass, 15) for a in atoms]
    locs = [decimal(ctx, a.location, 15) for a in atoms]
    return {
        "model": model.describe(),
        "d": "inf" if d == INF else d,
        "alpha": str(alpha),
        "lam": str(lam),
        "dps": None,
        "precision": "double (each value with the digits its error bound leaves)",
        "kappa": decimal(ctx, law.kappa, 15),
        "density": {label: _with_error(float(v), float(e)) for label, v, e in zip(labels, dens, err)},
        "density_error": {label: f"{float(e):.1e}" for label, e in zip(labels, err)},
        "edges": [[_with_error(a, edge_err), _with_error(b, edge_err)] for a, b in edges],
        "edge_error": f"{edge_err:.1e}",
        "atom_mass": masses[0] if len(masses) == 1 else masses if masses else "0",
        "atom_location": locs[0] if len(locs) == 1 else locs if locs else None,
    }
