"""Σ = I."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from rmtverify.models.base import CovarianceModel, DiagonalGroup, Resolvent, Types
from rmtverify.symbolic.formulas import Formulas, numpy_function


class IsotropicResolvent(Resolvent):
    def __init__(self, ctx):
        f = Formulas(ctx)
        self._tau, self._tau_p = f("isotropic.tau"), f("isotropic.tau_p")
        self.mean_sigma = ctx.mpf(1)

    def trace(self, kappa):
        return self._tau(kappa), self._tau_p(kappa)

    def diagonal(self, kappa):
        tau, tau_p = self.trace(kappa)
        return [DiagonalGroup(Fraction(1), tau, tau_p)]

    def trace_array(self, kappas):
        return numpy_function("isotropic.tau")(kappas), numpy_function("isotropic.tau_p")(kappas)


class Isotropic(CovarianceModel):
    name = "isotropic"

    def describe(self):
        return {"model": self.name}

    def limit_description(self):
        return {"spectral_law": "δ_1 (every eigenvalue of Σ is 1)"}

    def resolvent(self, d, ctx):
        # the same at every d: every coordinate has R_kk = 1/(1+κ)
        return IsotropicResolvent(ctx)

    def spectral_types(self, d, ctx, kappa):
        tau, _ = IsotropicResolvent(ctx).trace(kappa)
        return Types((Fraction(1),), (ctx.mpf(1),), (tau,))

    def constant_diagonal(self, d):
        return True

    def sigma_max(self, d, ctx):
        return ctx.mpf(1)

    def ar1_rho(self):
        return Fraction(0)  # Σ = I is AR(1) with ρ = 0

    def sigma(self, d):
        return np.eye(d)

    def apply_root(self, d, Z):
        return Z

    def sigma_apply(self, d, B):
        return B

    def sigma_lowrank(self, d):
        return 1.0, np.zeros((d, 0)), np.zeros(0)
