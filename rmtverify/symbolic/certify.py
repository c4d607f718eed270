"""Certified enclosures in ball arithmetic (python-flint's arb).

``ArbContext`` gives lambdified derivation results the names they call
(``mpf``, ``sqrt``, ``pi``, …) on arb balls, so a formula evaluated on a ball
returns a ball guaranteed to contain the exact value for every point of the
input ball. ``interval_newton`` proves that a ball contains exactly one root
of f: with m the midpoint of X and f'(X) a ball free of 0, the Newton image
N = m − f(m)/f'(X) contains every root in X, and N ⊂ X proves there is one
(mpmath's own ``iv.findroot`` does not promise containment; this does).
"""

from __future__ import annotations

from contextlib import contextmanager

import flint

from rmtverify.core.exceptions import SolverError


@contextmanager
def flint_precision(bits: int):
    """Scoped python-flint precision (its context is process-global: always restore it)."""
    old = flint.ctx.prec
    flint.ctx.prec = bits
    try:
        yield
    finally:
        flint.ctx.prec = old


class ArbContext:
    """The mpmath names lambdified code uses, on arb balls (at the ambient flint precision)."""

    @staticmethod
    def mpf(x):
        if hasattr(x, "_mpf_"):
            sign, man, exp, _ = x._mpf_  # mpmath's man_exp drops the sign; the raw tuple keeps it
            return (-1) ** sign * flint.arb(int(man)) * flint.arb(2) ** int(exp)
        return flint.arb(x)

    @staticmethod
    def sqrt(x):
        return flint.arb(x).sqrt()

    @staticmethod
    def cos(x):
        return flint.arb(x).cos()

    @staticmethod
    def sin(x):
        return flint.arb(x).sin()

    @staticmethod
    def tan(x):
        return flint.arb(x).tan()

    @staticmethod
    def atan(x):
        return flint.arb(x).atan()

    @staticmethod
    def exp(x):
        return flint.arb(x).exp()

    @staticmethod
    def log(x):
        return flint.arb(x).log()

    @staticmethod
    def fabs(x):
        return abs(flint.arb(x))

    @property
    def pi(self):
        return flint.arb.pi()


def to_arb(x):
    """An mpmath number (exact binary value) or int as an exact arb."""
    return ArbContext.mpf(x)


def interval_newton(f, fp, x0, radius, target: float, max_steps: int = 200):
    """A ball proven to contain exactly one root of f, of radius ≤ target.

    f and fp take and return arb balls; x0 and radius (arb or numbers) give the
    starting ball, which must contain the root. Raises SolverError with what it
    tried when containment cannot be proven (f' may vanish, or the root is not
    in the starting ball).
    """
    X = flint.arb(x0, radius) if not isinstance(x0, flint.arb) else flint.arb(x0.mid(), radius)
    proven = False
    for step in range(max_steps):
        m = flint.arb(X.mid())
        d = fp(X)
        if d.contains(0):
            raise SolverError("interval Newton enclosure",
                              f"f' contains 0 on {X} after {step} steps: the starting ball is too wide or the root is not simple")
        N = m - f(m) / d
        if X.contains(N):
            proven = True
            X = N
        else:
            if not X.overlaps(N):
                raise SolverError("interval Newton enclosure", f"the Newton image {N} misses the ball {X}: no root there")
            if not proven and N.rad() >= X.rad():
                # the image is no tighter than the ball (f(m) carries rounding from cancelling terms): ε-inflation, a ball
                # holding X ∩ N (hence the root) twice as wide as N, so that the next image can fit inside it
                X = flint.arb(X.mid(), abs(flint.arb(X.mid()) - flint.arb(N.mid())) + X.rad() + 2 * N.rad())
            else:
                X = X.intersection(N)
        if proven and X.rad() <= target:
            return X
    raise SolverError("interval Newton enclosure", f"{max_steps} steps; last ball {X}, proven = {proven}, target radius {target}")
