"""Spiked Σ = I + Σ_i θ_i v_i v_iᵀ on the isotropic base (derivation spiked), or Σ₀ + Σ_i θ_i v_i v_iᵀ on an AR(1) base.

Spike directions: ``flat`` (v₁ = 1/√d; further spikes are the DCT-II
cosines, deterministic and delocalised), ``random`` (Gaussian directions
orthonormalised, drawn from ``spike_seed`` and d), or ``e1`` (v_i = e_i,
localised). The directions are exactly orthonormal at every working
precision: the random ones are orthonormalised in the theory's own context.

On the AR(1) base at finite d the theory inverts Σ + κI: in double precision through one eigendecomposition of Σ,
at higher precision in ball arithmetic (the custom model's FlintResolvent) with Σ's entries exact where they are
rational (ρ^{|i−j|} and a flat rank-one or e1 spike) and otherwise computed in the working context.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from rmtverify.core.exceptions import InputError
from rmtverify.core.params import INF, choice, parse
from rmtverify.core.precision import mpf
from rmtverify.models.ar1 import AR1
from rmtverify.models.base import CovarianceModel, DiagonalGroup, Resolvent, SpectralResolvent, Types
from rmtverify.models.custom import FlintResolvent
from rmtverify.models.isotropic import Isotropic, IsotropicResolvent
from rmtverify.symbolic.formulas import Formulas, numpy_function

SPIKES = ("flat", "random", "e1")
BASES = ("isotropic", "ar1")


class SpikedResolvent(Resolvent):
    def __init__(self, thetas, groups, d, ctx):
        f = Formulas(ctx)
        self.thetas = [mpf(ctx, t) for t in thetas]
        self.groups = groups  # [(weight, [v_ik² for each spike i])]
        self.d = d
        self.fsum = ctx.fsum
        self.inv_d = ctx.mpf(1) / d
        self._term, self._term_dk = f("spiked.diag_term"), f("spiked.diag_term_dk")
        self._diag, self._diag_dk = f("spiked.diag"), f("spiked.diag_dk")
        self.mean_sigma = f("spiked.mean_sigma")(ctx.fsum(self.thetas), ctx.mpf(d))

    def _entry(self, kappa, ws):
        s = self.fsum(self._term(kappa, t, w) for t, w in zip(self.thetas, ws))
        s_p = self.fsum(self._term_dk(kappa, t, w) for t, w in zip(self.thetas, ws))
        return self._diag(kappa, s), self._diag_dk(kappa, s, s_p)

    def trace(self, kappa):
        # Σ_k v_ik² = 1, so the trace is a diagonal entry with v_ik² = 1/d
        return self._entry(kappa, [self.inv_d] * len(self.thetas))

    def diagonal(self, kappa):
        return [DiagonalGroup(wt, *self._entry(kappa, ws)) for wt, ws in self.groups]


class Spiked(CovarianceModel):
    name = "spiked"

    def __init__(self, theta, spike: str = "flat", rank=1, spike_seed=0, base: str = "isotropic", rho=None, boundary=None):
        self.rank = parse("rank", rank)
        thetas = theta if isinstance(theta, (list, tuple)) else str(theta).split(",") if isinstance(theta, str) else [theta]
        thetas = [parse("theta", t) for t in thetas]
        if len(thetas) == 1:
            thetas = thetas * self.rank
        if len(thetas) != self.rank:
            raise InputError("theta", f"give one strength or {self.rank} (one per spike); got {len(thetas)}")
        self.thetas = tuple(thetas)
        self.spike = choice("spike", spike, SPIKES)
        self.spike_seed = parse("spike_seed", spike_seed)
        self.base = choice("base", base, BASES)
        if self.base == "ar1":
            if rho is None:
                raise InputError("rho", "is required for the AR(1) base (--base ar1 --rho R)")
            self.base_model = AR1(rho, boundary or "toeplitz")
        else:
            if rho is not None or boundary is not None:
                raise InputError("rho" if rho is not None else "boundary", "applies only to the AR(1) base (--base ar1)")
            self.base_model = Isotropic()

    def describe(self):
        out = {
            "model": self.name,
            "theta": ",".join(str(t) for t in self.thetas),
            "spike": self.spike,
            "rank": self.rank,
            "base": self.base,
        }
        if self.base == "ar1":
            out["rho"] = str(self.base_model.rho)
            out["boundary"] = self.base_model.boundary
        if self.spike == "random":
            out["spike_seed"] = self.spike_seed
        return out

    def check_d(self, d):
        d = super().check_d(d)
        if d != INF and d <= self.rank:
            raise InputError("d", f"must exceed the rank {self.rank} of the spike; got {d}")
        return d

    # ---- directions
    def _gaussian(self, d):
        ss = np.random.SeedSequence(self.spike_seed, spawn_key=(d,))
        return np.random.default_rng(ss).standard_normal((d, self.rank))

    def spike_directions(self, d: int) -> np.ndarray:
        """Orthonormal spike directions as columns, float64."""
        if self.spike == "e1":
            return np.eye(d)[:, : self.rank]
        if self.spike == "flat":
            j = np.arange(d) + 0.5
            cols = [np.full(d, 1 / np.sqrt(d))]
            cols += [np.sqrt(2 / d) * np.cos(np.pi * i * j / d) for i in range(1, self.rank)]
            return np.stack(cols, axis=1)
        q, r = np.linalg.qr(self._gaussian(d))
        return q * np.sign(np.diag(r))

    def _weight_groups(self, d, ctx):
        r = self.rank
        if self.spike == "e1":
            groups = [(Fraction(1, d), [ctx.mpf(1 if i == k else 0) for i in range(r)]) for k in range(r)]
            return groups + [(Fraction(d - r, d), [ctx.mpf(0)] * r)]
        if self.spike == "flat" and r == 1:
            return [(Fraction(1), [ctx.mpf(1) / d])]
        if self.spike == "flat":
            cols = [[ctx.mpf(1) / d] * d]
            for i in range(1, r):
                cols.append([2 * ctx.cos(ctx.pi * i * (k + ctx.mpf(1) / 2) / d) ** 2 / d for k in range(d)])
        else:
            cols = [[a * a for a in u] for u in self._random_basis(d, ctx)]
        return [(Fraction(1, d), [cols[i][k] for i in range(r)]) for k in range(d)]

    def _random_basis(self, d, ctx):
        """The random spike directions, Gram–Schmidt in the working precision from the exact float64 Gaussian draws."""
        g = self._gaussian(d)
        basis = []
        for i in range(self.rank):
            v = [ctx.mpf(float(x)) for x in g[:, i]]
            for u in basis:
                p = ctx.fsum(a * b for a, b in zip(u, v))
                v = [a - p * b for a, b in zip(v, u)]
            norm = ctx.sqrt(ctx.fsum(a * a for a in v))
            basis.append([a / norm for a in v])
        return basis

    def _spike_entries(self, d, ctx):
        """(Σ_i θ_i v_i v_iᵀ)_kl as a function of (k, l): a Fraction where it is rational (a flat rank-one spike, e1
        spikes), else a number of the working context."""
        thetas = self.thetas
        if self.spike == "e1":
            return lambda k, l: thetas[k] if k == l and k < self.rank else Fraction(0)
        if self.spike == "flat" and self.rank == 1:
            return lambda k, l: thetas[0] / d
        if self.spike == "flat":
            vs = [[1 / ctx.sqrt(d)] * d] + [[ctx.sqrt(ctx.mpf(2) / d) * ctx.cos(ctx.pi * i * (k + ctx.mpf(1) / 2) / d) for k in range(d)]
                                          for i in range(1, self.rank)]
        else:
            vs = self._random_basis(d, ctx)
        th = [mpf(ctx, t) for t in thetas]
        return lambda k, l: ctx.fsum(t * v[k] * v[l] for t, v in zip(th, vs))

    def sigma_entry(self, d, ctx):
        """Σ = Σ₀ + Σ_i θ_i v_i v_iᵀ entry by entry (Fractions where exact, else ctx numbers)."""
        sig0, spike = self.base_model.sigma_entry(d, ctx), self._spike_entries(d, ctx)

        def entry(k, l):
            a, b = sig0(k, l), spike(k, l)
            if isinstance(a, Fraction) and isinstance(b, Fraction):
                return a + b
            return (mpf(ctx, a) if isinstance(a, Fraction) else a) + (mpf(ctx, b) if isinstance(b, Fraction) else b)

        return entry

    def _sigma_rows(self, d, ctx):
        entry = self.sigma_entry(d, ctx)
        return [[entry(k, l) for l in range(d)] for k in range(d)]

    def limit_description(self):
        return {
            "base": self.base_model.limit_description(),
            "spikes": [str(t) for t in self.thetas],
            "direction": self.spike,
            "note": "finite-rank spikes leave every normalised trace at its base value at d = inf",
        }

    # ---- theory
    def resolvent(self, d, ctx):
        if d == INF:
            # a finite-rank spike does not move normalised traces (step large-d)
            return self.base_model.resolvent(INF, ctx)
        if self.base == "ar1":
            if ctx.prec > 53:
                # any precision: (Σ + κI)^{-1} in ball arithmetic, Σ's entries exact where rational
                return FlintResolvent(self._sigma_rows(d, ctx), self.sigma(d), ctx)
            vals, vecs = np.linalg.eigh(self.sigma(d))
            return SpectralResolvent(vals, vecs**2)
        return SpikedResolvent(self.thetas, self._weight_groups(d, ctx), d, ctx)

    def limit_base(self):
        # finite-rank spikes do not move normalised traces at d = ∞ (step large-d)
        return self.base_model

    def ar1_rho(self):
        return self.base_model.ar1_rho()

    def constant_diagonal(self, d):
        # at finite d the spike makes diag R vary (e1) or the dense equation is used; at d = ∞ the base's
        return d == INF and self.base_model.constant_diagonal(INF)

    def sigma_max(self, d, ctx):
        if d == INF:
            return self.base_model.sigma_max(INF, ctx)
        # orthonormal spikes: ‖Σ₀ + Σ θ_i v_i v_iᵀ‖ ≤ ‖Σ₀‖ + max θ_i
        return self.base_model.sigma_max(d, ctx) + max(mpf(ctx, t) for t in self.thetas)

    def spectral_types(self, d, ctx, kappa):
        """Population types (σ_k, R_kk) when Σ is diagonal: d = ∞ (the base) or e1 spikes; else None."""
        if self.base != "isotropic":
            return None  # d = ∞: the base's constant diagonal; finite d: the dense equation
        if d == INF:
            tau = IsotropicResolvent(ctx).trace(kappa)[0]
            return Types((Fraction(1),), (ctx.mpf(1),), (tau,))
        if self.spike != "e1":
            return None
        groups = self.resolvent(d, ctx).diagonal(kappa)
        sig = [1 + mpf(ctx, t) for t in self.thetas] + [ctx.mpf(1)]
        return Types(tuple(g.weight for g in groups), tuple(sig), tuple(g.m for g in groups))

    # ---- Monte Carlo
    def _theta_array(self):
        return np.array([float(t) for t in self.thetas])

    def sigma(self, d):
        V = self.spike_directions(d)
        return self.base_model.sigma(d) + (V * self._theta_array()) @ V.T

    def noise_dim(self, d):
        # on the AR(1) base, x = R₀z + Σ_i √θ_i g_i v_i: d + r independent standard normals per row
        return d if self.base == "isotropic" else d + self.rank

    def apply_root(self, d, Z):
        V = self.spike_directions(d)
        if self.base == "isotropic":
            coeff = numpy_function("spiked.sqrt_coeff")(self._theta_array())
            return Z + ((Z @ V) * coeff) @ V.T
        # covariance R₀R₀ᵀ + Σ θ_i v_i v_iᵀ = Σ₀ + Σ θ_i v_i v_iᵀ
        return self.base_model.apply_root(d, Z[:, :d]) + (Z[:, d:] * np.sqrt(self._theta_array())) @ V.T

    def sigma_apply(self, d, B):
        V = self.spike_directions(d)
        return self.base_model.sigma_apply(d, B) + (V * self._theta_array()) @ (V.T @ B)

    def sigma_lowrank(self, d):
        if self.base != "isotropic":
            return None
        return 1.0, self.spike_directions(d), self._theta_array()
