"""Derivation 4 — isotropic Σ = I in closed form.

Assumptions. Σ = I, α = n/d > 0, λ > 0.

Steps. τ(κ) = 1/(1+κ). Clearing the denominators ακ(1+κ) of G(κ) = 0
(derivation 2) gives the quadratic ακ² + (α − αλ − 1)κ − αλ = 0. Its roots
have product −λ < 0, so exactly one is positive: κ₊ with the + square root.
Then df2/n = 1/(α(1+κ)²) and every coordinate has (m + κm')/m² = 1, so
E_gen = 1/(1 − 1/(α(1+κ)²)) and E_train = (λ/κ)² E_gen.

Ridgeless limits (λ → 0+): for α > 1, κ → 0, E_gen → α/(α−1),
E_train → (α−1)/α; for α < 1, κ → (1−α)/α, E_gen → 1/(1−α), E_train → 0.
"""

import sympy as sp

from derivations import get
from derivations.framework import Derivation, Result, Step
from derivations.symbols import alpha, df1d, df2d, e_gen, kappa, lam, m, m_p, mean_term, tau, tau_p

beta = sp.Symbol("beta", positive=True)  # offsets that put α on one side of 1


def build() -> Derivation:
    kap = get("kappa").results
    tg = get("train_gen").results

    tau_iso = 1 / (1 + kappa)
    tau_p_iso = sp.diff(tau_iso, kappa)
    G = kap["G"].expr.subs(tau, tau_iso)
    quadratic = alpha * kappa**2 + (alpha - alpha * lam - 1) * kappa - alpha * lam
    roots = sp.solve(quadratic, kappa)
    # SymPy returns both roots; keep the one that is positive (the product is −λ < 0),
    # identified by the sign of the square-root term rather than by list position
    (k_plus,) = [r for r in roots if sp.sign(r.subs({alpha: 1, lam: 1})) > 0]

    df1_iso = kap["df1_over_d"].expr.subs(tau, tau_iso)
    df2_iso = kap["df2_over_d"].expr.subs({tau: tau_iso, tau_p: tau_p_iso})
    gen_term_iso = tg["gen_term"].expr.subs({m: tau_iso, m_p: tau_p_iso})
    e_gen_kappa = tg["e_gen"].expr.subs({mean_term: gen_term_iso, df2d: df2_iso})
    q_ratio = tg["e_train"].args[1]
    e_train_kappa = tg["e_train"].expr.subs({e_gen: e_gen_kappa, q_ratio: kap["lam_over_kappa"].expr.subs(df1d, df1_iso)})
    e_gen_closed = e_gen_kappa.subs(kappa, k_plus)
    e_train_closed = e_train_kappa.subs(kappa, k_plus)

    spec_e_gen = 1 / (1 - 1 / (alpha * (1 + kappa) ** 2))

    steps = [
        Step("tau", "Σ = I: τ(κ) = (1/d) tr (1 + κ)^{-1} I = 1/(1 + κ).", tau_iso, 1 / (kappa + 1)),
        Step(
            "quadratic",
            "ακ(1 + κ) G(κ) is the quadratic ακ² + (α − αλ − 1)κ − αλ.",
            sp.expand(G * alpha * kappa * (1 + kappa)),
            quadratic,
        ),
        Step("root", "κ₊ solves the quadratic.", quadratic.subs(kappa, k_plus), 0),
        Step(
            "vieta",
            "The product of the two roots is −λ < 0, so exactly one root is positive.",
            sp.Mul(*roots),
            -lam,
        ),
        Step(
            "root-positive",
            "κ₊ > 0 (checked at random rational points: κ₊ − |κ₊| = 0).",
            k_plus - sp.Abs(k_plus),
            0,
            symbolic=False,
        ),
        Step("gen-term", "Every coordinate has (m + κm')/m² = 1 when Σ = I.", gen_term_iso, 1),
        Step(
            "df2",
            "df2/d = 1/(1 + κ)², so df2/n = 1/(α(1 + κ)²).",
            df2_iso,
            1 / (1 + kappa) ** 2,
        ),
        Step("e-gen", "E_gen = 1/(1 − 1/(α(1+κ)²)) (SPEC §2).", e_gen_kappa, spec_e_gen),
        Step(
            "e-train",
            "At κ₊, (1 − df1/n)² = (λ/κ)², so E_train = (λ/κ₊)² E_gen.",
            e_train_kappa.subs(kappa, k_plus),
            (lam / k_plus) ** 2 * spec_e_gen.subs(kappa, k_plus),
            simplifier=surd_zero,
        ),
    ]

    # ridgeless limits, with α put on one side of 1 through a positive offset β;
    # computed on first use (sp.limit is slow and the library needs only the results)
    a_gt = 1 + beta  # α > 1
    a_lt = 1 / (1 + beta)  # 0 < α < 1

    def limit(expr, a):
        return lambda: _surd_simplify(sp.limit(_surd_simplify(expr.subs(alpha, a)), lam, 0, "+"))

    steps += [
        Step("ridgeless-kappa-gt1", "α > 1: κ → 0 as λ → 0+.", limit(k_plus, a_gt), 0),
        Step("ridgeless-egen-gt1", "α > 1: E_gen → α/(α − 1).", limit(e_gen_closed, a_gt), a_gt / (a_gt - 1)),
        Step("ridgeless-etrain-gt1", "α > 1: E_train → (α − 1)/α.", limit(e_train_closed, a_gt), (a_gt - 1) / a_gt),
        Step("ridgeless-kappa-lt1", "α < 1: κ → (1 − α)/α as λ → 0+.", limit(k_plus, a_lt), (1 - a_lt) / a_lt),
        Step("ridgeless-egen-lt1", "α < 1: E_gen → 1/(1 − α).", limit(e_gen_closed, a_lt), 1 / (1 - a_lt)),
        Step("ridgeless-etrain-lt1", "α < 1: E_train → 0 (interpolation).", limit(e_train_closed, a_lt), 0),
    ]
    ridgeless = {
        "e_gen_ridgeless_gt1": ("ridgeless-egen-gt1", a_gt, alpha / (alpha - 1)),
        "e_train_ridgeless_gt1": ("ridgeless-etrain-gt1", a_gt, (alpha - 1) / alpha),
        "kappa_ridgeless_lt1": ("ridgeless-kappa-lt1", a_lt, (1 - alpha) / alpha),
        "e_gen_ridgeless_lt1": ("ridgeless-egen-lt1", a_lt, 1 / (1 - alpha)),
    }

    results = {
        "tau": Result(tau_iso, (kappa,), "τ(κ) = 1/(1+κ)"),
        "tau_p": Result(tau_p_iso, (kappa,), "τ'(κ)"),
        "tau_pp": Result(sp.diff(tau_iso, kappa, 2), (kappa,), "τ''(κ)"),
        "kappa": Result(k_plus, (alpha, lam), "κ₊, the positive root of the quadratic"),
        # the library solves for κ and evaluates E_gen, E_train through the general formulas; these
        # closed forms are the references its isotropic values must agree with
        "e_gen": Result(e_gen_closed, (alpha, lam), "E_gen in closed form", reference_only=True),
        "e_train": Result(e_train_closed, (alpha, lam), "E_train in closed form", reference_only=True),
    }
    for key, (step_name, a, expr) in ridgeless.items():
        results[key] = Result(expr, (alpha,), f"{key}: λ → 0+", reference_only=True)
        steps.append(
            Step(
                f"{key}-exported",
                f"The exported {key} equals the limit of step {step_name}.",
                expr.subs(alpha, a),
                (lambda nm=step_name: next(s for s in steps if s.name == nm).side("lhs")),
                simplifier=_surd_simplify,
            )
        )
    domain = {
        alpha: (sp.Rational(1, 5), 8),
        lam: (sp.Rational(1, 1000), 5),
        kappa: (sp.Rational(1, 20), 5),
        beta: (sp.Rational(1, 10), 5),
    }
    return Derivation(
        name="isotropic",
        title="Isotropic Σ = I: κ, E_gen, E_train and the ridgeless limits in closed form",
        summary=__doc__,
        steps=steps,
        results=results,
        domain=domain,
        references=("Marchenko & Pastur (1967)", "Hastie et al. (2022)"),
    )


def _surd_simplify(expr):
    """Factor under every square root (so √((1+β)²) = 1 + β for β > 0), then simplify."""
    expr = sp.sympify(expr).replace(
        lambda x: x.is_Pow and x.exp == sp.S.Half, lambda x: sp.sqrt(sp.factor(x.base))
    )
    return sp.simplify(expr)


def surd_zero(expr):
    """Exact zero test for a rational function of one square root √Δ (and rational symbols).

    Every half-integer power of Δ becomes a power of a symbol s; over a common denominator the numerator
    is a polynomial N(s), and the expression vanishes identically when N reduces to 0 modulo s² − Δ
    (N(√Δ) = 0 then, whatever the denominator). Returns that remainder, expanded: 0 proves the identity.
    Several distinct square roots: radsimp and expand, as before (slower: 2.4 s against 0.17 s here)."""
    expr = sp.sympify(expr)
    bases = {p.base for p in expr.atoms(sp.Pow) if p.exp.is_Rational and p.exp.q == 2}
    if len(bases) != 1:
        return sp.expand(sp.radsimp(sp.together(expr)))
    delta = bases.pop()
    s = sp.Dummy("s")
    e = expr.replace(lambda x: x.is_Pow and x.base == delta and x.exp.is_Rational and x.exp.q == 2, lambda x: s ** (2 * x.exp))
    numer, _ = sp.fraction(sp.together(e))
    rem = sp.rem(sp.Poly(sp.expand(numer), s), sp.Poly(s**2 - delta, s))
    return sp.expand(rem.as_expr())
