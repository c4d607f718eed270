"""A derivation in the public framework: the resolvent trace of an isotropic sample covariance.

For Σ = I, κ solves κ − λ = γκ/(1 + κ) (γ = 1/α; SPEC §2), and first order gives (1/d) tr Q ≍ m = κ/(λ(1 + κ)).
The derivation shows that m solves the Marchenko–Pastur equation γλm² + (1 + λ − γ)m − 1 = 0, and checks the
library's (1 − df1/d)/λ against m at random rational points. Run it with ``rmtverify derive PATH.py``.
"""

import sympy as sp

from rmtverify.api import Derivation, LibraryCheck, Result, Step, equivalents, make_model

alpha, lam = sp.symbols("alpha lambda", positive=True)
gamma = 1 / alpha
# the positive root of κ² + (1 − λ − γ)κ − λ = 0, which is κ − λ = γκ/(1 + κ) times (1 + κ)
kappa = ((lam + gamma - 1) + sp.sqrt((1 - lam - gamma) ** 2 + 4 * lam)) / 2
m = kappa / (lam * (1 + kappa))

steps = [
    Step("kappa-root", "κ = ((λ + γ − 1) + √((1 − λ − γ)² + 4λ))/2 solves κ − λ = γκ/(1 + κ)",
         lhs=(kappa - lam) * (1 + kappa), rhs=gamma * kappa),
    Step("marchenko-pastur", "m = κ/(λ(1 + κ)) solves γλm² + (1 + λ − γ)m − 1 = 0",
         lhs=gamma * lam * m**2 + (1 + lam - gamma) * m - 1, rhs=0, simplifier=lambda e: sp.simplify(sp.radsimp(sp.together(e)))),
]
derivation = Derivation(
    name="mp-resolvent-trace",
    title="The resolvent trace of an isotropic sample covariance solves the Marchenko–Pastur equation",
    summary="(1/d) tr (S + λI)^{-1} ≍ κ/(λ(1 + κ)) with κ − λ = γκ/(1 + κ); this is the root of γλm² + (1 + λ − γ)m − 1 = 0",
    steps=steps,
    results={"trace_Q": Result(m, (alpha, lam), "(1/d) tr Q at d = ∞")},
    domain={alpha: (sp.Rational(1, 5), 8), lam: (sp.Rational(1, 100), 3)},
)


def library_trace(point, dps):
    """The library's (1/d) tr Q = (1 − df1/d)/λ, from its κ solve at ``dps`` digits."""
    t = equivalents(make_model("isotropic"), point[alpha], point[lam], dps=dps)
    return (1 - t.df1) * point[lam].denominator / t.ctx.mpf(point[lam].numerator)


def derived_trace(point):
    return m.subs({alpha: sp.Rational(point[alpha].numerator, point[alpha].denominator),
                   lam: sp.Rational(point[lam].numerator, point[lam].denominator)})


checks = [LibraryCheck("trace-Q-library-vs-derived", library_trace, derived_trace)]
