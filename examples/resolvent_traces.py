"""Normalised traces of the resolvent Q = (S + λI)^{-1} and of Q², against their deterministic equivalents.

First order, λQ ≍ κR gives (1/d) tr Q ≍ (κ/λ) τ = (1 − df1/d)/λ. Since Q² = −dQ/dλ and dκ/dλ = 1/(1 − df2/n),
(1/d) tr Q² ≍ (1 − df1/d)/λ² − (df1/d − df2/d) κ'/(κλ). Both are linear spectral statistics: the gap is
O(1/d) (rate 1).
"""

name = "resolvent-traces"
statement = "(1/d) tr Q ≍ (1 − df1/d)/λ and (1/d) tr Q² ≍ (1 − df1/d)/λ² − (df1/d − df2/d) κ'/(κλ)"
points = [
    {"model": "isotropic", "alpha": "2", "lam": "0.5"},
    {"model": "ar1", "rho": "0.5", "alpha": "0.5", "lam": "0.5"},
]
rate = 1.0
seeds = 32
labels = {"tr_Q": "(1/d) tr Q", "tr_Q2": "(1/d) tr Q²"}
draw = "gram"  # only S is needed: Bartlett's factor, no rows


def observe(sample, point):
    Q = sample.Q(point.lam)
    return {"tr_Q": Q.trace() / sample.d, "tr_Q2": (Q * Q).sum() / sample.d}


def theory(point, d):
    t = point.equivalents(d)  # at finite d in double precision at the sample's own n/d; at d = ∞ to 30 digits
    lam = t.ctx.mpf(point.lam.numerator) / point.lam.denominator
    tr_q = (1 - t.df1) / lam
    tr_q2 = (1 - t.df1) / lam**2 - (t.df1 - t.df2) * t.dkappa_dlam / (t.kappa * lam)
    return {"tr_Q": tr_q, "tr_Q2": tr_q2}
