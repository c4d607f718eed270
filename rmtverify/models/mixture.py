"""A spectrum given as a finite mixture of atoms: Σ diagonal with eigenvalue σ_j on a share w_j.

At finite d the j-th block has round(w_j d) coordinates (the last block takes
the remainder), so the finite-d law differs from the d = ∞ law by O(1/d).
Diagonal, so diag R takes one value 1/(σ_j + κ) per atom: unless all atoms
are equal the diagonal of R is *not* constant, the case in which the
push-forward shortcut of claim C3 fails.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from rmtverify.core.exceptions import InputError
from rmtverify.core.params import INF, exact
from rmtverify.core.precision import mpf
from rmtverify.models.base import CovarianceModel, DiagonalGroup, Resolvent, Types
from rmtverify.symbolic.formulas import Formulas


def _list(name, value):
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    out = []
    for item in items:
        x = exact(item, name, "a comma-separated list of real numbers")
        if x is None or x in (INF, -INF):
            raise InputError(name, f"must be a comma-separated list of real numbers; got {value!r}")
        out.append(x)
    return out


class MixtureResolvent(Resolvent):
    def __init__(self, weights, atoms, ctx):
        self.w = [mpf(ctx, p) for p in weights]
        self.s = [mpf(ctx, a) for a in atoms]
        self.shares = weights
        self.fsum = ctx.fsum
        self.mean_sigma = ctx.fsum(p * s for p, s in zip(self.w, self.s))
        self._r = Formulas(ctx)("kappa.resolvent_eigenvalue")

    def trace(self, kappa):
        r = [self._r(s, kappa) for s in self.s]  # R's eigenvalue on each atom
        return self.fsum(p * x for p, x in zip(self.w, r)), -self.fsum(p * x * x for p, x in zip(self.w, r))

    def diagonal(self, kappa):
        r = [self._r(s, kappa) for s in self.s]
        return [DiagonalGroup(Fraction(p), x, -x * x) for p, x in zip(self.shares, r)]


class Mixture(CovarianceModel):
    name = "mixture"

    def __init__(self, atoms, weights=None):
        self.atoms = _list("atoms", atoms)
        if any(a <= 0 for a in self.atoms):
            raise InputError("atoms", f"must all be > 0 (Σ positive definite); got {[str(a) for a in self.atoms]}")
        ws = _list("weights", weights) if weights is not None else [Fraction(1, len(self.atoms))] * len(self.atoms)
        if len(ws) != len(self.atoms):
            raise InputError("weights", f"need one weight per atom ({len(self.atoms)}); got {len(ws)}")
        if any(p <= 0 for p in ws) or sum(ws) != 1:
            raise InputError("weights", f"must be > 0 and sum to 1; got {[str(p) for p in ws]}")
        self.weights = ws

    def describe(self):
        return {"model": self.name, "atoms": ",".join(map(str, self.atoms)), "weights": ",".join(map(str, self.weights))}

    def counts(self, d):
        counts = [int(p * d + Fraction(1, 2)) for p in self.weights[:-1]]
        counts.append(d - sum(counts))
        if any(c < 1 for c in counts):
            raise InputError("d", f"too small to hold every atom of the mixture (block sizes {counts}); got {d}")
        return counts

    def _shares(self, d):
        if d == INF:
            return self.weights
        return [Fraction(c, d) for c in self.counts(d)]

    def resolvent(self, d, ctx):
        return MixtureResolvent(self._shares(d), self.atoms, ctx)

    def constant_diagonal(self, d):
        return len(set(self.atoms)) == 1  # R_kk = 1/(σ_j + κ) on atom j

    def sigma_max(self, d, ctx):
        return mpf(ctx, max(self.atoms))

    def spectral_types(self, d, ctx, kappa):
        shares = self._shares(d)
        sig = [mpf(ctx, a) for a in self.atoms]
        r = Formulas(ctx)("kappa.resolvent_eigenvalue")
        return Types(tuple(shares), tuple(sig), tuple(r(s, kappa) for s in sig))

    def _diag(self, d):
        return np.repeat([float(a) for a in self.atoms], self.counts(d))

    def sigma(self, d):
        return np.diag(self._diag(d))

    def apply_root(self, d, Z):
        return Z * np.sqrt(self._diag(d))[None, :]

    def sigma_apply(self, d, B):
        return self._diag(d)[:, None] * B
