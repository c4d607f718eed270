"""Derivation 11 — elliptical data x = √ϑ Σ^{1/2} z (SPEC §7): κ, E_gen and E_train for a general law of the scale.

Notation. Rows x_i = √ϑ_i y_i, y_i ~ N(0, Σ), ϑ_i ≥ 0 i.i.d. and independent of y_i, E ϑ = 1 (so Cov x = Σ). SPEC §7
calls the scale τ; here it is ϑ, because τ = (1/d) tr R is the resolvent trace of every other derivation. S = XᵀX/n =
(1/n) Σ_i ϑ_i y_i y_iᵀ, Q = (S + λI)^{-1}, R = (Σ + κI)^{-1}, T₁ = df1/d = (1/d) tr ΣR, T₂ = df2/d = (1/d) tr (ΣR)²,
α = n/d. Three moments of the scale enter, all functions of one number δ:

    g(δ) = E[ϑ/(1 + ϑδ)],   γ(δ) = E[ϑ²/(1 + ϑδ)²] = −g'(δ),   ζ(δ) = E[ϑ/(1 + ϑδ)²] = g − δγ,   ψ = γ/g² ≥ 1.

First order (steps sherman-morrison, resolvent-identity, first-order, delta-in-R). For B ≻ 0, I − QB =
(1/n) Σ_i ϑ_i Q y_i y_iᵀ exactly, and Sherman–Morrison gives Q y_i = Q₋ᵢ y_i/(1 + ϑ_i q_i), q_i = (1/n) y_iᵀQ₋ᵢy_i,
so I − QB = (1/n) Σ_i [ϑ_i/(1 + ϑ_i q_i)] Q₋ᵢ y_i y_iᵀ (exact). q_i concentrates around δ = (1/n) tr Σ E Q, ϑ_i is
independent of (Q₋ᵢ, y_i) and E[Q₋ᵢ y_i y_iᵀ] = E[Q₋ᵢ] Σ ≍ E[Q] Σ; taking expectations, I ≍ E[Q](B + eΣ) with
e = E[ϑ/(1 + ϑδ)] = g(δ): (S + B)^{-1} ≍ (B + eΣ)^{-1}, δ = (1/n) tr Σ(B + eΣ)^{-1} — SPEC §7's starting point,
confirmed (Couillet & Liao 2022, ch. 2, separable covariance; no correction needed). With B = λI: λQ ≍ κR with the
effective ridge κ = λ/e, and δ = T₁/(αe) = κT₁/(λα).

κ (steps G-*, interference-*). κ is the root of G(κ) = 1 − λ/(κ g(δ(κ))), δ(κ) = κT₁(κ)/(λα). h(e) = g(δ(e)),
δ(e) = (1/n) tr Σ(λ + eΣ)^{-1}, is a standard interference function (h(se) < s h(e) for s > 1, from the two
pointwise inequalities checked below), so h(e)/e strictly decreases and the fixed point is unique; in κ = λ/e,
G is strictly increasing with G(λ) = 1 − 1/g(δ) < 0 and G ≥ 0 at κ_hi = λ/g(tr Σ/(nλ)). dG/dκ = λ(g − κγT₂/(λα))/(κg)²
(δ'(κ) = T₂/(λα)).

Second order (steps second-order-factor, QSigmaQ-equivalent, gen-term). Differentiating the equivalent of
(S + λI + tΣ)^{-1} ≍ (λ + (t + e(t))Σ)^{-1} in t at 0: 1 + e' = 1/(1 − γ(1/n) tr Σ²(λ + eΣ)^{-2}) = 1/(1 − ψT₂/α),
QΣQ ≍ (1 + e') RΣR/e², Q_kk ≍ m_k/e, hence

    E_gen ≍ ḡ/(1 − ψ df2/n),   ḡ = (1/d) Σ_k [RΣR]_kk/R_kk²   (the Gaussian ḡ, at the elliptical κ).

Training error (steps dkappa-dlambda, trace-identity, e-train-*). QSQ = Q − λQ² ≍ κ'(λ) RΣR still (derivation
train_gen, step QSQ-equivalent: it holds for any κ(λ)), but κ' is no longer 1/(1 − df2/n): implicit differentiation of
e(λ) = g(δ(λ, e)) gives κ' = (1/e)(α − ψT₁)/(α − ψT₂). So E_train = e²κ'ḡ = e(1 − ψT₁/α) E_gen = (e − γδ) E_gen:

    E_train ≍ ζ(δ) · E_gen,   ζ(δ) = E[ϑ/(1 + ϑδ)²]   (not (λ/κ)² E_gen = g² E_gen unless ϑ is constant).

Gaussian reduction (steps gaussian-*). ϑ ≡ 1: g = 1/(1 + δ), γ = ζ = g², ψ = 1, and G, dκ/dλ, E_gen, E_train are
exactly those of derivations kappa and train_gen (symbolically).

Closed forms at d = ∞. Σ = I: T₁ = 1/(1 + κ), T₂ = 1/(1 + κ)², ḡ = 1, E_gen = 1/(1 − ψ/(α(1 + κ)²)). AR(1): τ, τ'
of derivation ar1 (Szegő: m_k = τ), E_gen = ((τ + κτ')/τ²)/(1 − ψ(1 − 2κτ − κ²τ')/α). κ solves the scalar G above (no
closed form for a non-degenerate ϑ).

Multivariate t (steps t-*). ϑ = (ν − 2)/W, W ~ χ²_ν (ν > 2): E ϑ = 1. With W = 2s, s ~ Gamma(ν/2), the moments are
integrals of bounded functions against s^{ν/2−1}e^{−s}/Γ(ν/2) (the library's quadrature). Independent closed form:
g(δ) = ((ν − 2)/2) z^{k−1} U(k, k, z), k = ν/2, z = (ν − 2)δ/2 (Tricomi's U; = z^{k−1}e^z Γ(1 − k, z)), and γ = −g'.
"""

from __future__ import annotations

import random

import mpmath
import sympy as sp

from derivations import get
from derivations.framework import Derivation, Result, Step
from derivations.symbols import alpha, df1d, df2d, e_gen, kappa, lam, m, m_p, mean_term, n, rho, sigma, t, tau, tau_p

vt = sp.Symbol("vartheta", positive=True)  # the scale ϑ (SPEC §7's τ)
delta = sp.Symbol("delta", positive=True)  # δ = (1/n) tr Σ(λ + eΣ)^{-1}
e = sp.Symbol("e", positive=True)  # e = g(δ) = E[ϑ/(1 + ϑδ)]
g_ = sp.Symbol("g", positive=True)  # the value g(δ)
gam = sp.Symbol("gamma", positive=True)  # γ(δ) = E[ϑ²/(1 + ϑδ)²]
zeta = sp.Symbol("zeta", positive=True)  # ζ(δ) = E[ϑ/(1 + ϑδ)²]
psi = sp.Symbol("psi", positive=True)  # ψ = γ/g²
nu = sp.Symbol("nu", positive=True)  # degrees of freedom, ν > 2
s_ = sp.Symbol("s", positive=True)  # s = W/2, W ~ χ²_ν
w_ = sp.Symbol("w", positive=True)  # W
sc = sp.Symbol("s_c", positive=True)  # a scaling factor s > 1 (interference function)
t1p = sp.Symbol("T1p", positive=True)  # T₁' = (1/d) tr ΣR² = τ + κτ'

s1, s2, s3 = sp.symbols("sigma1:4", positive=True)
SPEC3 = (s1, s2, s3)

# ---- the library's formulas
G_ELL = 1 - lam / (kappa * g_)
DG_ELL = lam * (g_ - kappa * gam * df2d / (lam * alpha)) / (kappa * g_) ** 2
DELTA = kappa * df1d / (lam * alpha)
PSI = gam / g_**2
E_GEN = mean_term / (1 - psi * df2d / alpha)
E_TRAIN = zeta * e_gen
DKAPPA = (1 / g_) * (alpha - psi * df1d) / (alpha - psi * df2d)
# the three moments, as integrands in ϑ (a discrete law, ϑ ≡ 1) ...
G_INTEGRAND = vt / (1 + vt * delta)
GAMMA_INTEGRAND = vt**2 / (1 + vt * delta) ** 2
ZETA_INTEGRAND = vt / (1 + vt * delta) ** 2
# ... and for the multivariate t, in s = W/2 against the Gamma(ν/2) weight (bounded as s → 0 for δ > 0)
T_WEIGHT = s_ ** (nu / 2 - 1) * sp.exp(-s_) / sp.gamma(nu / 2)
T_G = (nu - 2) / (2 * s_ + (nu - 2) * delta)
T_GAMMA = (nu - 2) ** 2 / (2 * s_ + (nu - 2) * delta) ** 2
T_ZETA = 2 * s_ * (nu - 2) / (2 * s_ + (nu - 2) * delta) ** 2


def _numer_zero(expr):
    return sp.expand(sp.fraction(sp.together(expr))[0])


def _rat(expr):
    return sp.cancel(sp.together(expr))


class _Example:
    """A random rational data set (n = 3, d = 2) with rational scales ϑ_i and λ symbolic, built on first use."""

    def __getattr__(self, name):
        rng = random.Random(11)
        nn, dd = 3, 2
        Y = sp.Matrix(nn, dd, lambda i, j: sp.Rational(rng.randint(-9, 9), rng.randint(1, 5)))
        th = [sp.Rational(rng.randint(1, 20), rng.randint(1, 7)) for _ in range(nn)]
        S = sum((th[i] * Y[i, :].T * Y[i, :] for i in range(nn)), sp.zeros(dd, dd)) / nn
        Q = (S + lam * sp.eye(dd)).inv()
        rows = []
        for i in range(nn):
            Si = S - th[i] * Y[i, :].T * Y[i, :] / nn
            Qi = (Si + lam * sp.eye(dd)).inv()
            qi = (Y[i, :] * Qi * Y[i, :].T)[0] / nn
            rows.append((Y[i, :].T, Qi, qi, th[i]))
        self.nn, self.dd, self.Q, self.S, self.rows = nn, dd, Q, S, rows
        return self.__dict__[name]


def build() -> Derivation:
    ex = _Example()
    kap = get("kappa").results
    tg = get("train_gen").results
    steps = []

    # ---------------------------------------------------------------- first order, exact part
    steps += [
        Step("sherman-morrison",
             "Q y_i = Q₋ᵢ y_i/(1 + ϑ_i q_i), q_i = (1/n) y_iᵀQ₋ᵢy_i, Q₋ᵢ the resolvent without row i (exact; random rational "
             "Y with n = 3, d = 2, rational scales ϑ_i, λ symbolic; all three rows).",
             lambda: sp.Matrix.vstack(*[ex.Q * y for (y, _, _, _) in ex.rows]),
             lambda: sp.Matrix.vstack(*[Qi * y / (1 + th * qi) for (y, Qi, qi, th) in ex.rows]), simplifier=_rat),
        Step("resolvent-identity",
             "I − λQ = QS = (1/n) Σ_i [ϑ_i/(1 + ϑ_i q_i)] Q₋ᵢ y_i y_iᵀ (exact, same data): the weight of row i is "
             "ϑ_i/(1 + ϑ_i q_i); with q_i → δ and ϑ_i independent of (Q₋ᵢ, y_i), E of it is e = E[ϑ/(1 + ϑδ)].",
             lambda: sp.eye(ex.dd) - lam * ex.Q,
             lambda: sum((th / (1 + th * qi) * Qi * y * y.T for (y, Qi, qi, th) in ex.rows), sp.zeros(ex.dd, ex.dd)) / ex.nn,
             simplifier=_rat, cite="Couillet & Liao (2022), ch. 2 (separable sample covariance)"),
    ]

    # ---------------------------------------------------------------- first order in R
    r = 1 / (sigma + kappa)
    steps += [
        Step("first-order",
             "(λ + eΣ)^{-1} = (1/e) R at κ = λ/e (eigenvalue by eigenvalue): λQ ≍ κR with the effective ridge κ = λ/e.",
             1 / (lam + e * sigma), (1 / e) * r.subs(kappa, lam / e)),
        Step("delta-in-R",
             "δ = (1/n) tr Σ(λ + eΣ)^{-1} = T₁/(αe) = κT₁/(λα) at e = λ/κ (eigenvalue by eigenvalue, n = αd).",
             sigma / (lam + (lam / kappa) * sigma) / alpha, DELTA.subs(df1d, sigma * r)),
        Step("G-root",
             "At the fixed point e = g(δ) and κ = λ/e: G(κ) = 1 − λ/(κ g) = 0.",
             G_ELL.subs({g_: e, kappa: lam / e}), 0),
    ]

    # interference function: h(se) < s h(e) for s > 1
    steps += [
        Step("interference-g",
             "ϑ/(1 + ϑδ/s) = sϑ/(s + ϑδ): the scaled argument of g, pointwise in ϑ.",
             vt / (1 + vt * delta / sc), sc * vt / (sc + vt * delta),
             domain={sc: (1, 10), vt: (sp.Rational(1, 100), 20), delta: (sp.Rational(1, 100), 10)}),
        Step("interference-g-sign",
             "s g(δ) − g(δ/s) = E[sϑ/(1 + ϑδ) − sϑ/(s + ϑδ)] = E[sϑ(s − 1)/((1 + ϑδ)(s + ϑδ))] > 0 for s > 1 "
             "(pointwise in ϑ, so for every law): g(δ/s) < s g(δ).",
             sc * vt / (1 + vt * delta) - sc * vt / (sc + vt * delta),
             sc * vt * (sc - 1) / ((1 + vt * delta) * (sc + vt * delta)),
             domain={sc: (1, 10), vt: (sp.Rational(1, 100), 20), delta: (sp.Rational(1, 100), 10)}),
        Step("interference-delta",
             "σ/(λ + seσ) − σ/(s(λ + eσ)) = σλ(s − 1)/(s(λ + seσ)(λ + eσ)) ≥ 0: δ(se) ≥ δ(e)/s, so with g decreasing "
             "h(se) = g(δ(se)) ≤ g(δ(e)/s) < s h(e): h(e)/e strictly decreases, the root is unique, and G(κ) is increasing.",
             sigma / (lam + sc * e * sigma) - sigma / (sc * (lam + e * sigma)),
             sigma * lam * (sc - 1) / (sc * (lam + sc * e * sigma) * (lam + e * sigma)),
             domain={sc: (1, 10), sigma: (sp.Rational(1, 10), 10), lam: (sp.Rational(1, 100), 3), e: (sp.Rational(1, 20), 1)}),
        Step("delta-slope",
             "δ'(κ) = T₂/(λα): d/dκ[κσ/(σ + κ)] = (σ/(σ + κ))² (eigenvalue by eigenvalue).",
             sp.diff(DELTA.subs(df1d, sigma * r), kappa), (sigma * r) ** 2 / (lam * alpha)),
    ]
    # Newton derivative: d/dκ [1 − λ/(κ g(δ(κ)))] with g' = −γ and δ' = T₂/(λα)
    Gf = sp.Function("gfun")
    dfun = sp.Function("dfun")(kappa)
    G_k = 1 - lam / (kappa * Gf(dfun))
    dG_raw = sp.diff(G_k, kappa)
    dG_sub = dG_raw.subs(sp.Derivative(dfun, kappa), df2d / (lam * alpha))
    dG_sub = dG_sub.replace(lambda x: isinstance(x, sp.Subs), lambda x: -gam).replace(
        lambda x: isinstance(x, sp.Derivative), lambda x: -gam).subs(Gf(dfun), g_)
    steps.append(Step("dG", "dG/dκ = λ(g + κg'δ')/(κg)² = λ(g − κγT₂/(λα))/(κg)², g' = −γ, δ' = T₂/(λα).", dG_sub, DG_ELL))

    # ---------------------------------------------------------------- second order: (S + λ + tΣ)^{-1}
    ef = sp.Function("efun")(t)

    def implicit_factor():
        """1 + e'(0) from e(t) = g(δ(t)), δ(t) = (1/n) Σ_i σ_i/(λ + (t + e(t))σ_i) (3-point spectrum, n = 3α)."""
        dl = sum(s / (lam + (t + ef) * s) for s in SPEC3) / (3 * alpha)
        eq = ef - Gf(dl)
        deq = sp.diff(eq, t)
        deq = deq.replace(lambda x: isinstance(x, sp.Subs), lambda x: -gam)
        ep = sp.Symbol("eprime")
        deq = deq.subs(sp.Derivative(ef, t), ep).subs(ef, e).subs(t, 0)
        sol = sp.solve(deq, ep)[0]
        return (1 + sol).subs(e, lam / kappa).subs(gam, psi * (lam / kappa) ** 2)

    t2_3 = sum((s / (s + kappa)) ** 2 for s in SPEC3) / 3
    t1_3 = sum(s / (s + kappa) for s in SPEC3) / 3
    steps += [
        Step("second-order-factor",
             "Implicit differentiation of e(t) = g(δ(t)), δ(t) = (1/n) tr Σ(λ + (t + e)Σ)^{-1} at t = 0, g' = −γ: "
             "1 + e' = 1/(1 − γ(1/n) tr Σ²(λ + eΣ)^{-2}) = 1/(1 − ψT₂/α) with ψ = γ/e², e = λ/κ (3-point spectrum).",
             implicit_factor, lambda: 1 / (1 - psi * t2_3 / alpha), simplifier=_numer_zero,
             cite="Couillet & Liao (2022), ch. 2; Bach (2024), Prop. 2 (Gaussian case)"),
        Step("QSigmaQ-equivalent",
             "QΣQ = −d/dt (S + λ + tΣ)^{-1} ≍ −d/dt (λ + (t + e(t))Σ)^{-1} = (1 + e')Σ(λ + eΣ)^{-2} = (1 + e') RΣR/e² "
             "at κ = λ/e (eigenvalue by eigenvalue).",
             -sp.diff(1 / (lam + (t + e) * sigma), t).subs(t, 0), (sigma * r**2 / e**2).subs(kappa, lam / e)),
        Step("gen-term",
             "[QΣQ]_kk/Q_kk² ≍ ((1 + e')a_k/e²)/(m_k/e)² = (1 + e') a_k/m_k²: E_gen = ḡ/(1 − ψT₂/α), ḡ the Gaussian "
             "(1/d)Σ_k (m_k + κm_k')/m_k² at the elliptical κ.",
             ((m + kappa * m_p) / e**2 / (1 - psi * df2d / alpha)) / (m / e) ** 2,
             E_GEN.subs(mean_term, tg["gen_term"].expr)),
    ]

    # ---------------------------------------------------------------- κ'(λ) and the training error
    lf = sp.Function("efun")(lam)

    def dkappa_implicit():
        dl = sum(s / (lam + lf * s) for s in SPEC3) / (3 * alpha)
        eq = lf - Gf(dl)
        deq = sp.diff(eq, lam).replace(lambda x: isinstance(x, sp.Subs), lambda x: -gam)
        ep = sp.Symbol("eprime")
        sol = sp.solve(deq.subs(sp.Derivative(lf, lam), ep).subs(lf, e), ep)[0]
        kp = 1 / e - lam * sol / e**2  # κ = λ/e
        return kp.subs(e, lam / kappa).subs(gam, psi * (lam / kappa) ** 2)

    steps += [
        Step("trace-identity",
             "T₂ + κT₁' = T₁ with T₁' = (1/d) tr ΣR² (eigenvalue by eigenvalue: (σr)² + κσr² = σr).",
             (sigma * r) ** 2 + kappa * sigma * r**2, sigma * r),
        Step("dkappa-dlambda",
             "Implicit differentiation of e(λ) = g(δ(λ, e)), δ = (1/n) tr Σ(λ + eΣ)^{-1}, and κ = λ/e: "
             "κ' = (1/e)(α − ψT₁)/(α − ψT₂) (3-point spectrum; the trace identity folds κT₁' into T₁).",
             dkappa_implicit, lambda: DKAPPA.subs({g_: lam / kappa, df1d: t1_3, df2d: t2_3}), simplifier=_numer_zero),
        Step("e-train-ratio",
             "E_train = κ'(λ/κ)²ḡ (train_gen, QSQ-equivalent, for any κ(λ)) = e²κ'ḡ = e(1 − ψT₁/α) E_gen.",
             e**2 * DKAPPA.subs(g_, e) * mean_term, e * (1 - psi * df1d / alpha) * E_GEN),
        Step("e-train-moment",
             "e·ψT₁/α = γδ (ψ = γ/e², δ = T₁/(αe)), so E_train/E_gen = e − γδ.",
             e * PSI.subs(g_, e) * df1d / alpha, gam * DELTA.subs(kappa, lam / e)),
        Step("zeta",
             "e − γδ = E[ϑ/(1 + ϑδ) − δϑ²/(1 + ϑδ)²] = E[ϑ/(1 + ϑδ)²] = ζ (pointwise in ϑ): E_train ≍ ζ(δ) E_gen.",
             G_INTEGRAND - delta * GAMMA_INTEGRAND, ZETA_INTEGRAND),
        Step("gamma-is-minus-g-prime",
             "γ = −g'(δ): d/dδ [ϑ/(1 + ϑδ)] = −ϑ²/(1 + ϑδ)² (pointwise, so for every law with the expectation "
             "differentiated under the integral).", -sp.diff(G_INTEGRAND, delta), GAMMA_INTEGRAND),
    ]

    # ---------------------------------------------------------------- ϑ ≡ 1: the Gaussian formulas
    unit = {vt: 1}
    g1 = G_INTEGRAND.subs(unit)
    at_kappa = {delta: DELTA.subs(df1d, 1 - kappa * tau)}
    steps += [
        Step("gaussian-moments", "ϑ ≡ 1: g = 1/(1 + δ), γ = ζ = g², so ψ = 1.",
             sp.Matrix([GAMMA_INTEGRAND.subs(unit), ZETA_INTEGRAND.subs(unit), PSI.subs({gam: GAMMA_INTEGRAND.subs(unit), g_: g1})]),
             sp.Matrix([g1**2, g1**2, 1])),
        Step("gaussian-G",
             "ϑ ≡ 1: G(κ) = 1 − λ(1 + δ(κ))/κ is derivation kappa's G = 1 − (1/α)(1 − κτ) − λ/κ (T₁ = 1 − κτ).",
             G_ELL.subs(g_, g1).subs(at_kappa), kap["G"].expr, simplifier=_rat),
        Step("gaussian-dG",
             "ϑ ≡ 1: the Newton derivative is derivation kappa's dG/dκ (T₂ = 1 − 2κτ − κ²τ').",
             DG_ELL.subs({g_: g1, gam: g1**2}).subs(at_kappa).subs(df2d, kap["df2_over_d"].expr),
             kap["dG"].expr, simplifier=lambda x: _numer_zero(x.subs(lam, kappa * (1 - (1 - kappa * tau) / alpha)))),
        Step("gaussian-dkappa",
             "ϑ ≡ 1 at the root (e = λ/κ = 1 − T₁/α): κ' = (1/e)(α − T₁)/(α − T₂) = 1/(1 − T₂/α) (derivation kappa).",
             DKAPPA.subs({psi: 1, g_: 1 - df1d / alpha}), kap["dkappa_dlam"].expr, simplifier=_rat),
        Step("gaussian-e-gen", "ϑ ≡ 1: E_gen = ḡ/(1 − T₂/α), derivation train_gen's e_gen.",
             E_GEN.subs(psi, 1), tg["e_gen"].expr),
        Step("gaussian-e-train",
             "ϑ ≡ 1 at the root: ζ = 1/(1 + δ)² = g² = e² = (λ/κ)², so E_train = ζ E_gen is train_gen's (λ/κ)² E_gen.",
             E_TRAIN.subs(zeta, ZETA_INTEGRAND.subs(unit)).subs(delta, 1 / e - 1).subs(e, lam / kappa),
             tg["e_train"].expr.subs(tg["e_train"].args[1], lam / kappa)),
    ]

    # ---------------------------------------------------------------- d = ∞ closed forms
    ar = get("ar1").results
    iso_tau = 1 / (1 + kappa)
    e_gen_iso = E_GEN.subs({mean_term: tg["gen_term"].expr.subs({m: iso_tau, m_p: sp.diff(iso_tau, kappa)}),
                            df2d: kap["df2_over_d"].expr.subs({tau: iso_tau, tau_p: sp.diff(iso_tau, kappa)})})
    delta_iso = DELTA.subs(df1d, kap["df1_over_d"].expr.subs(tau, iso_tau))
    ar_sub = {tau: ar["tau"].expr, tau_p: ar["tau_p"].expr}
    e_gen_ar1 = E_GEN.subs({mean_term: tg["gen_term"].expr.subs({m: tau, m_p: tau_p}), df2d: kap["df2_over_d"].expr}).subs(ar_sub)
    delta_ar1 = DELTA.subs(df1d, kap["df1_over_d"].expr).subs(ar_sub)
    steps += [
        Step("isotropic-e-gen", "Σ = I: ḡ = 1, T₂ = 1/(1 + κ)², so E_gen = 1/(1 − ψ/(α(1 + κ)²)).",
             e_gen_iso, 1 / (1 - psi / (alpha * (1 + kappa) ** 2))),
        Step("isotropic-delta", "Σ = I: δ = κ/(λα(1 + κ)).", delta_iso, kappa / (lam * alpha * (1 + kappa))),
        Step("ar1-e-gen-quadrature",
             "AR(1) at d = ∞: E_gen and δ with derivation ar1's τ(κ), τ'(κ) equal those from quadratures of the symbol "
             "f(ω) (50 digits; Szegő: the bulk diagonal of R is τ).",
             0, 0, symbolic=False, numeric=_numeric_ar1(e_gen_ar1, delta_ar1),
             domain={rho: (-sp.Rational(9, 10), sp.Rational(9, 10)), kappa: (sp.Rational(1, 20), 5), alpha: (sp.Rational(1, 2), 8),
                     lam: (sp.Rational(1, 100), 3), psi: (1, 3)}),
    ]

    # ---------------------------------------------------------------- multivariate t: ϑ = (ν − 2)/W, W ~ χ²_ν
    kk = nu / 2
    chi2 = w_ ** (kk - 1) * sp.exp(-w_ / 2) / (2**kk * sp.gamma(kk))
    j_ = sp.Symbol("j", positive=True)  # ν = 2 + 2j, j > 0
    steps += [
        Step("t-density-substitution",
             "The χ²_ν density at w = 2s times dw/ds = 2 is the Gamma(ν/2) density s^{ν/2−1}e^{−s}/Γ(ν/2).",
             chi2.subs(w_, 2 * s_) * 2, T_WEIGHT, simplifier=lambda x: sp.simplify(sp.powsimp(sp.expand_power_base(x, force=True),
                                                                                                force=True))),
        Step("t-unit-mean",
             "E ϑ = (ν − 2) E[1/W] = (ν − 2)∫ s^{ν/2−2}e^{−s}/(2Γ(ν/2)) ds = (ν − 2)Γ(ν/2 − 1)/(2Γ(ν/2)) = 1 (ν = 2 + 2j, j > 0).",
             lambda: sp.gammasimp(((nu - 2) * sp.integrate((T_WEIGHT / (2 * s_)).subs(nu, 2 + 2 * j_), (s_, 0, sp.oo))).subs(
                 nu, 2 + 2 * j_)), 1, domain={j_: (sp.Rational(1, 20), 20)}),
        Step("t-integrands",
             "At ϑ = (ν − 2)/(2s): ϑ/(1 + ϑδ), ϑ²/(1 + ϑδ)², ϑ/(1 + ϑδ)² are (ν − 2)/(2s + (ν − 2)δ), (ν − 2)²/(2s + (ν − 2)δ)², "
             "2s(ν − 2)/(2s + (ν − 2)δ)²: bounded on s ≥ 0 for δ > 0.",
             sp.Matrix([G_INTEGRAND, GAMMA_INTEGRAND, ZETA_INTEGRAND]).subs(vt, (nu - 2) / (2 * s_)),
             sp.Matrix([T_G, T_GAMMA, T_ZETA]), simplifier=_rat),
        Step("t-g-closed-form",
             "g(δ) by quadrature of the Gamma(ν/2) weight equals ((ν − 2)/2) z^{k−1} U(k, k, z), k = ν/2, z = (ν − 2)δ/2 "
             "(Tricomi's U; 50 digits).", 0, 0, symbolic=False, numeric=_numeric_t_moment("g"),
             domain={nu: (sp.Rational(21, 10), 30), delta: (sp.Rational(1, 100), 10)}),
        Step("t-gamma-closed-form",
             "γ(δ) by quadrature equals −g'(δ) of the closed form, g' from U' = −aU(a + 1, b + 1, ·) (50 digits).",
             0, 0, symbolic=False, numeric=_numeric_t_moment("gamma"),
             domain={nu: (sp.Rational(21, 10), 30), delta: (sp.Rational(1, 100), 10)}),
    ]

    results = {
        "G": Result(G_ELL, (kappa, lam, g_), "G(κ) = 1 − λ/(κ g(δ)), increasing in κ"),
        "dG": Result(DG_ELL, (kappa, lam, alpha, g_, gam, df2d), "dG/dκ = λ(g − κγT₂/(λα))/(κg)²"),
        "delta": Result(DELTA, (kappa, lam, alpha, df1d), "δ = κT₁/(λα)"),
        "psi": Result(PSI, (g_, gam), "ψ = γ/g²"),
        "e_gen": Result(E_GEN, (mean_term, alpha, df2d, psi), "E_gen = ḡ/(1 − ψT₂/α)"),
        "e_train": Result(E_TRAIN, (e_gen, zeta), "E_train = ζ(δ) E_gen"),
        "dkappa_dlam": Result(DKAPPA, (g_, alpha, df1d, df2d, psi), "dκ/dλ = (1/g)(α − ψT₁)/(α − ψT₂)"),
        "g_integrand": Result(G_INTEGRAND, (vt, delta), "ϑ/(1 + ϑδ)"),
        "gamma_integrand": Result(GAMMA_INTEGRAND, (vt, delta), "ϑ²/(1 + ϑδ)²"),
        "zeta_integrand": Result(ZETA_INTEGRAND, (vt, delta), "ϑ/(1 + ϑδ)²"),
        "t_weight": Result(T_WEIGHT, (s_, nu), "Gamma(ν/2) density of s = W/2"),
        "t_g": Result(T_G, (s_, delta, nu), "ϑ/(1 + ϑδ) at ϑ = (ν − 2)/(2s)"),
        "t_gamma": Result(T_GAMMA, (s_, delta, nu), "ϑ²/(1 + ϑδ)² at ϑ = (ν − 2)/(2s)"),
        "t_zeta": Result(T_ZETA, (s_, delta, nu), "ϑ/(1 + ϑδ)² at ϑ = (ν − 2)/(2s)"),
        "e_gen_isotropic": Result(1 / (1 - psi / (alpha * (1 + kappa) ** 2)), (kappa, alpha, psi), "Σ = I, d = ∞",
                                  reference_only=True),
        "delta_isotropic": Result(kappa / (lam * alpha * (1 + kappa)), (kappa, lam, alpha), "Σ = I: δ", reference_only=True),
        "e_gen_ar1": Result(e_gen_ar1, (kappa, rho, alpha, psi), "AR(1), d = ∞", reference_only=True),
        "delta_ar1": Result(delta_ar1, (kappa, rho, lam, alpha), "AR(1), d = ∞: δ", reference_only=True),
    }
    domain = {
        kappa: (sp.Rational(1, 20), 5), lam: (sp.Rational(1, 100), 3), alpha: (sp.Rational(1, 5), 8), sigma: (sp.Rational(1, 10), 10),
        n: (2, 50), e: (sp.Rational(1, 20), sp.Rational(19, 20)), g_: (sp.Rational(1, 20), sp.Rational(19, 20)),
        gam: (sp.Rational(1, 20), 2), zeta: (sp.Rational(1, 20), 1), psi: (1, 3), delta: (sp.Rational(1, 100), 10),
        vt: (sp.Rational(1, 100), 20), nu: (sp.Rational(21, 10), 30), s_: (sp.Rational(1, 100), 20), w_: (sp.Rational(1, 100), 20),
        tau: (sp.Rational(1, 10), 2), tau_p: (-2, -sp.Rational(1, 10)), m: (sp.Rational(1, 10), 2), m_p: (-2, -sp.Rational(1, 10)),
        df1d: (sp.Rational(1, 10), sp.Rational(9, 10)), df2d: (sp.Rational(1, 20), sp.Rational(1, 10)), mean_term: (1, 3),
        e_gen: (1, 3), t: (0, 1), rho: (-sp.Rational(9, 10), sp.Rational(9, 10)),
        s1: (sp.Rational(1, 10), 10), s2: (sp.Rational(1, 10), 10), s3: (sp.Rational(1, 10), 10),
    }
    return Derivation(
        name="elliptical",
        title="Elliptical data x = √ϑ Σ^{1/2} z: κ = λ/E[ϑ/(1+ϑδ)], E_gen = ḡ/(1 − ψ df2/n), E_train = E[ϑ/(1+ϑδ)²] E_gen",
        summary=__doc__,
        steps=steps,
        results=results,
        domain=domain,
        references=("Couillet & Liao (2022), ch. 2", "El Karoui (2009)", "Silverstein & Bai (1995)", "Bach (2024)"),
    )


# ---------------------------------------------------------------- independent references (pure mpmath, no library code)


def t_moments_closed_form(ctx, nu_v, delta_v):
    """(g, γ, ζ) of ϑ = (ν − 2)/χ²_ν at δ by Tricomi's U: g = ((ν − 2)/2) z^{k−1}U(k, k, z), z = (ν − 2)δ/2, k = ν/2;
    γ = −g' with d/dz U(a, a, z) = −aU(a + 1, a + 1, z); ζ = g − δγ."""
    k = ctx.mpf(nu_v) / 2
    c = (ctx.mpf(nu_v) - 2) / 2
    z = c * delta_v
    u0, u1 = ctx.hyperu(k, k, z), ctx.hyperu(k + 1, k + 1, z)
    g = c * z ** (k - 1) * u0
    dg_dz = c * ((k - 1) * z ** (k - 2) * u0 - k * z ** (k - 1) * u1)
    gamma = -dg_dz * c
    return g, gamma, g - delta_v * gamma


def _t_quadrature(ctx, nu_v, delta_v, which):
    """A moment by direct quadrature over the χ²_ν density in w (the scale ϑ = (ν − 2)/w written out here)."""
    nv = ctx.mpf(nu_v)
    k = nv / 2
    h = {"g": lambda th: th / (1 + th * delta_v), "gamma": lambda th: (th / (1 + th * delta_v)) ** 2}[which]

    def f(w):
        return h((nv - 2) / w) * w ** (k - 1) * ctx.exp(-w / 2) / (2**k * ctx.gamma(k))

    return ctx.quad(f, [0, (nv - 2) * delta_v, nv, 4 * nv, ctx.inf])


def _numeric_t_moment(which):
    def check(point, ctx):
        hp = mpmath.MPContext()
        hp.dps = 70
        nv = hp.mpf(point[nu].numerator) / point[nu].denominator
        dv = hp.mpf(point[delta].numerator) / point[delta].denominator
        closed = t_moments_closed_form(hp, nv, dv)[0 if which == "g" else 1]
        return ctx.mpf(closed), ctx.mpf(_t_quadrature(hp, nv, dv, which))

    return check


def _ar1_mean(ctx, r, fn):
    return ctx.quad(lambda w: fn((1 - r**2) / (1 - 2 * r * ctx.cos(w) + r**2)), [0, ctx.pi / 2, ctx.pi]) / ctx.pi


def _numeric_ar1(e_gen_ar1, delta_ar1):
    def check(point, ctx):
        hp = mpmath.MPContext()
        hp.dps = 65
        r, k, a, lv, ps = (hp.mpf(point[s].numerator) / point[s].denominator for s in (rho, kappa, alpha, lam, psi))
        t2 = _ar1_mean(hp, r, lambda s: (s / (s + k)) ** 2)
        t1 = _ar1_mean(hp, r, lambda s: s / (s + k))
        rsr = _ar1_mean(hp, r, lambda s: s / (s + k) ** 2)
        rr = _ar1_mean(hp, r, lambda s: 1 / (s + k))
        ref = (rsr / rr**2) / (1 - ps * t2 / a) + k * t1 / (lv * a)
        subs = {s: sp.Rational(point[s].numerator, point[s].denominator) for s in (rho, kappa, alpha, lam, psi)}
        val = (e_gen_ar1 + delta_ar1).evalf(60, subs=subs)
        return ctx.mpf(str(val)), ctx.mpf(ref)

    return check


def reference_elliptical(point, which, model="isotropic"):
    """κ, E_gen or E_train at d = ∞ for the multivariate t (ν = point[nu]), Σ = I or AR(1) (ρ = point[rho]): the
    fixed point e = g(δ), δ = (1/n) tr Σ(λ + eΣ)^{-1} solved in (e) by mpmath's root finder, g by Tricomi's U, traces by
    quadratures of the AR(1) symbol (or exactly for Σ = I). Independent of the library's quadrature and solver."""
    ctx = mpmath.MPContext()
    ctx.dps = 70
    a, lv, nv = (ctx.mpf(point[s].numerator) / point[s].denominator for s in (alpha, lam, nu))
    if model == "isotropic":
        def mean(fn):
            return fn(ctx.mpf(1))
    else:
        r = ctx.mpf(point[rho].numerator) / point[rho].denominator

        def mean(fn):
            return _ar1_mean(ctx, r, fn)

    def dlt(ev):
        return mean(lambda s: s / (lv + ev * s)) / a

    ev = ctx.findroot(lambda x: x - t_moments_closed_form(ctx, nv, dlt(x))[0], ctx.mpf(1) / 2, tol=ctx.mpf(10) ** -65)
    k = lv / ev
    if which == "kappa":
        return k
    g, gamma, z = t_moments_closed_form(ctx, nv, dlt(ev))
    t2 = mean(lambda s: (s / (s + k)) ** 2)
    gbar = mean(lambda s: s / (s + k) ** 2) / mean(lambda s: 1 / (s + k)) ** 2
    eg = gbar / (1 - (gamma / g**2) * t2 / a)
    return eg if which == "e_gen" else z * eg
