"""Derivation 10 — masking at rate p (SPEC §8): the estimator, its test error, and their deterministic equivalent.

Assumptions. Each coordinate is masked independently, m_k ~ Bernoulli(p), 0 < p < 1; the masked coordinate k is
predicted from the unmasked ones, x̂_k = Σ_l A_lk (1 − m_l) x_l; the training loss is the squared error on the masked
coordinates averaged over masks, divided by p, plus λ‖A‖²_F (λ > 0), diag A = 0. S = XᵀX/n, Λ_S = Diag(S),
Λ = Diag(Σ), c = p/(1 − p), λ' = λ/(1 − p)².

Estimator (steps mask-moments … kkt-stationary). The mask moments E m_k = p, E m_k(1 − m_l) = p(1 − p),
E m_k(1 − m_l)(1 − m_l') = p(1 − p)² (l ≠ l') or p(1 − p) (l = l'), and m_k(1 − m_k) = 0, so A_kk never enters the
loss (diag A = 0 costs nothing). For a column a of A (target k) the averaged loss is

    S_kk − 2(1 − p) aᵀS_k + (1 − p)² aᵀSa + p(1 − p) aᵀΛ_S a + λ‖a‖²,

and with b = (1 − p)a it is the one-at-a-time SSR objective bᵀMb − 2bᵀS_k (+ const) of the Gram matrix
M = S + cΛ_S + λ'I, whose off-diagonal entries are S's. Hence (KKT, derivation ssr_closed_form)
B = I − Q_p D_p^{-1}, Q_p = M^{-1}, D_p = diag Q_p, and Â_p = B/(1 − p).

Test error (steps e-mask-*). Averaged over masks and x ~ N(0, Σ), per masked coordinate,
E_mask = (1/d) Σ_k [Q_p(Σ + cΛ)Q_p]_kk/[Q_p]_kk² − c tr Λ/d = (1/d) Σ_k ([Q_pΣQ_p]_kk + c Σ_{j≠k} [Q_p]_kj² Λ_j)/[Q_p]_kk²
(the second form has no cancellation as p → 1). At p = 0 it is SSR's E_gen (derivation train_gen).

Equivalent. S_kk = Σ_kk + O(n^{-1/2}) (variance 2Σ_kk²/n), so Q_p behaves as (S + Γ)^{-1} with the deterministic diagonal
Γ = cΛ + λ'I. Whitening by Γ^{-1/2} turns the Silverstein–Bai equivalent into (S + Γ)^{-1} ≍ R̄ = (Γ + eΣ)^{-1},
e = 1/(1 + (1/n) tr ΣR̄), for any Γ ≻ 0 (not only one commuting with Σ). With R = eR̄ = (Σ + Γ/e)^{-1} the fixed point is
e = 1 − T₁/α, T₁ = (1/d) tr ΣR, increasing in e with a unique root in (0, 1). Differentiating the equivalent of
(S + Γ + tM)^{-1} in t gives QMQ ≍ R̄MR̄ + e' R̄ΣR̄, e' = e²(1/n)tr(ΣR̄MR̄)/(1 − e²(1/n)tr(ΣR̄)²). For M = Σ + cΛ, in R:

    E_mask ≍ (1/d) Σ_k ((1 + ε) a_k + c b_k)/m_k²,   ε = (T₂ + cT₃)/(α − T₂),

m_k = R_kk, a_k = [RΣR]_kk, b_k = Σ_{j≠k} R_kj² Λ_j, T₂ = (1/d) tr (ΣR)², T₃ = (1/d) Σ_k Λ_k a_k.

Constant diagonal Λ = σI (isotropic, AR(1), flat spike): Γ = λ_eff I with the effective ridge λ_eff = λ/(1 − p)² + cσ,
R = (Σ + κI)^{-1} with κ the SSR κ at λ_eff, a_k = m_k + κm_k', b_k = −σ(m_k' + m_k²), T₂ = df2/d, T₃ = σ(τ + κτ').
Isotropic: b = 0 and E_mask = (1 + c/(α(1+κ)²))/(1 − 1/(α(1+κ)²)), κ = κ₊(α, λ_eff); → E_gen as p → 0, → 1 as p → 1.
AR(1) at d = ∞ (Szegő: m_k = τ): E_mask = ((1 + ε)(τ + κτ') − cσ(τ' + τ²))/τ² with σ = 1, τ the closed form of
derivation ar1, checked against quadratures of the symbol.
"""

import itertools
import random

import mpmath
import sympy as sp

from derivations import get
from derivations.framework import Derivation, Result, Step
from derivations.symbols import alpha, df2d, kappa, lam, m, m_p, mean_term, n, rho, sigma, t, tau, tau_p

p = sp.Symbol("p", positive=True)  # mask rate
e = sp.Symbol("e", positive=True)  # the Silverstein–Bai scalar of (S + Γ)^{-1} ≍ (Γ + eΣ)^{-1}
T1, T2, T3 = sp.symbols("T1:4", positive=True)  # (1/d) tr ΣR, (1/d) tr (ΣR)², (1/d) Σ_k Λ_k [RΣR]_kk
U = sp.Symbol("U", positive=True)  # (1/d) Σ_k Γ_k [RΣR]_kk, the e-derivative of T₁ times e²
a_k = sp.Symbol("a_k", positive=True)  # [RΣR]_kk
b_k = sp.Symbol("b_k", nonnegative=True)  # Σ_{j≠k} R_kj² Λ_j
eps = sp.Symbol("epsilon", nonnegative=True)  # ε, the second-order factor
lam_eff = sp.Symbol("lambda_eff", positive=True)

C = p / (1 - p)  # c
LAM_P = lam / (1 - p) ** 2  # λ'

# a general symmetric 2 × 2 Σ and diagonal Γ, M, for the steps about the equivalent (not termwise in eigenvalues)
s11, s22 = sp.symbols("s11 s22", positive=True)
s12 = sp.Symbol("s12", real=True)
g1, g2, mu1, mu2 = sp.symbols("g1 g2 mu1 mu2", positive=True)
SIG2 = sp.Matrix([[s11, s12], [s12, s22]])
GAM2 = sp.diag(g1, g2)
LAMBDA2 = sp.diag(s11, s22)


def _rat(expr):
    return sp.cancel(sp.together(expr))


def _numer_zero(expr):
    """A rational function is 0 when the numerator over a common denominator expands to 0."""
    return sp.expand(sp.fraction(sp.together(expr))[0])


def _bernoulli_mean(f, ms):
    """E f(m) for independent m_i ~ Bernoulli(p), by enumerating every outcome."""
    total = 0
    for bits in itertools.product((0, 1), repeat=len(ms)):
        weight = sp.Mul(*[p if b else 1 - p for b in bits])
        total += weight * f.subs(dict(zip(ms, bits)))
    return sp.expand(total)


class _Example:
    """A random rational data set (n = 4, d = 3) and covariance, p and λ symbolic; built on first use.

    The E_mask identities hold for any symmetric Q with a non-zero diagonal (they use only B = I − QD^{-1}), so they are
    checked for a generic symmetric Q of symbols; the KKT steps use Q_p = M^{-1} of the data set."""

    def __getattr__(self, name):
        rng = random.Random(17)
        nn, dd = 4, 3
        X = sp.Matrix(nn, dd, lambda i, j: sp.Rational(rng.randint(-9, 9), rng.randint(1, 5)))
        S = X.T * X / nn
        L = sp.Matrix(dd, dd, lambda i, j: sp.Rational(rng.randint(-5, 5), rng.randint(1, 4)))
        Sig = L * L.T + sp.eye(dd)
        Lam_S, Lam = sp.diag(*[S[k, k] for k in range(dd)]), sp.diag(*[Sig[k, k] for k in range(dd)])
        M = S + C * Lam_S + LAM_P * sp.eye(dd)
        Q = M.inv()
        self.dd, self.S, self.Sig, self.Lam, self.M = dd, S, Sig, Lam, M
        self.B = sp.eye(dd) - Q * sp.diag(*[1 / Q[k, k] for k in range(dd)])
        Qg = sp.Matrix(dd, dd, lambda i, j: Q_SYMS[(min(i, j), max(i, j))])
        A = (sp.eye(dd) - Qg * sp.diag(*[1 / Qg[k, k] for k in range(dd)])) / (1 - p)
        # E_mask of Â_p from the definition: the averaged masked loss of each column under Σ, per coordinate
        direct = 0
        for k in range(dd):
            a = A[:, k]
            direct += (Sig[k, k] - 2 * (1 - p) * (a.T * Sig[:, k])[0] + (1 - p) ** 2 * (a.T * Sig * a)[0]
                       + p * (1 - p) * (a.T * Lam * a)[0])
        self.e_mask_def = direct / dd
        QMQ = Qg * (Sig + C * Lam) * Qg
        self.e_mask_q = sum(QMQ[k, k] / Qg[k, k] ** 2 for k in range(dd)) / dd - C * Lam.trace() / dd
        QSQ = Qg * Sig * Qg
        self.e_mask_stable = sum((QSQ[k, k] + C * sum(Qg[k, j] ** 2 * Lam[j, j] for j in range(dd) if j != k)) / Qg[k, k] ** 2
                                 for k in range(dd)) / dd
        self.e_gen_ssr = sum(QSQ[k, k] / Qg[k, k] ** 2 for k in range(dd)) / dd  # derivation train_gen, gen-as-diagonal
        return self.__dict__[name]


#: a generic symmetric 3 × 3 Q
Q_SYMS = {(i, j): sp.Symbol(f"q{i + 1}{j + 1}", positive=(i == j), real=True) for i in range(3) for j in range(i, 3)}


def build() -> Derivation:
    ex = _Example()
    steps = _estimator_steps(ex) + _equivalent_steps() + _scalar_steps()

    iso = get("isotropic").results
    iso_kappa = iso["kappa"].expr.subs(lam, lam_eff)
    lam_eff_expr = LAM_P + C * sigma
    e_iso_kappa = (1 + C / (alpha * (1 + kappa) ** 2)) / (1 - 1 / (alpha * (1 + kappa) ** 2))
    kappa_iso_p = iso_kappa.subs(lam_eff, lam_eff_expr.subs(sigma, 1))
    e_mask_iso = e_iso_kappa.subs(kappa, kappa_iso_p)
    ar = get("ar1").results
    e_mask_ar1 = E_SCALAR_D_INF.subs({tau: ar["tau"].expr, tau_p: ar["tau_p"].expr, sigma: 1})

    steps += [
        Step("isotropic-kappa", "Σ = I: κ solves the SSR quadratic at λ_eff = λ/(1−p)² + c (derivation isotropic).",
             (alpha * kappa**2 + (alpha - alpha * lam_eff - 1) * kappa - alpha * lam_eff).subs(kappa, iso_kappa), 0),
        Step("isotropic-e-mask",
             "Σ = I: m = 1/(1+κ), b = 0, T₂ = T₃ = 1/(1+κ)², so E_mask = (1 + c/(α(1+κ)²))/(1 − 1/(α(1+κ)²)).",
             E_SCALAR_D_INF.subs({tau: 1 / (1 + kappa), tau_p: -1 / (1 + kappa) ** 2, sigma: 1}), e_iso_kappa),
        Step("isotropic-p-to-zero", "At p = 0 (c = 0, λ_eff = λ) the isotropic E_mask is SSR's E_gen (derivation isotropic).",
             e_mask_iso.subs(p, 0), iso["e_gen"].expr, simplifier=_surd_zero),
        Step("isotropic-p-to-one",
             "As p → 1 (c → ∞, κ ~ λ_eff → ∞) the isotropic E_mask → 1 = tr Σ/d: at p = 1 − 10⁻⁶⁰ it is 1 to 45 digits.",
             0, 0, symbolic=False, numeric=_numeric_near_one(e_mask_iso), domain={alpha: (sp.Rational(1, 5), 8),
                                                                                  lam: (sp.Rational(1, 100), 3)}),
        Step("ar1-p-to-zero", "At p = 0 the AR(1) d = ∞ E_mask is SSR's E_gen with the same τ (derivation train_gen).",
             E_SCALAR_D_INF.subs({p: 0, sigma: 1}),
             get("train_gen").results["e_gen"].expr.subs({mean_term: (tau + kappa * tau_p) / tau**2,
                                                          df2d: 1 - 2 * kappa * tau - kappa**2 * tau_p})),
        Step("ar1-e-mask-quadrature",
             "AR(1) at d = ∞: the closed form at κ = κ(λ_eff) equals E_mask from quadratures of the symbol f(ω) and an "
             "independent root solve (50 digits).",
             0, 0, symbolic=False, numeric=_numeric_ar1(e_mask_ar1),
             domain={rho: (-sp.Rational(4, 5), sp.Rational(4, 5)), alpha: (sp.Rational(1, 2), 6), lam: (sp.Rational(1, 20), 2),
                     p: (sp.Rational(1, 20), sp.Rational(19, 20))}),
    ]

    results = {
        "mask_ratio": Result(C, (p,), "c = p/(1 − p)"),
        "ridge_masked": Result(LAM_P, (lam, p), "λ' = λ/(1 − p)²"),
        "lam_eff": Result(lam_eff_expr, (lam, p, sigma), "λ_eff = λ/(1 − p)² + cσ (constant diagonal Λ = σI)"),
        "fixed_point": Result(FIXED_POINT, (e, alpha, T1), "e − 1 + T₁/α"),
        "fixed_point_slope": Result(FIXED_POINT_SLOPE, (e, alpha, U), "d/de of the fixed point: 1 + U/(αe²)"),
        "second_order": Result(EPS_EXPR, (T2, T3, alpha, p), "ε = (T₂ + cT₃)/(α − T₂)"),
        "mask_term": Result(MASK_TERM, (a_k, b_k, m, eps, p), "((1 + ε)a_k + c b_k)/m_k²"),
        "rsr_scalar": Result(m + kappa * m_p, (m, m_p, kappa), "[RΣR]_kk = m + κm'"),
        "offdiag_scalar": Result(-sigma * (m_p + m**2), (m, m_p, sigma), "Σ_{j≠k} R_kj² σ = −σ(m' + m²)"),
        "t3_scalar": Result(sigma * (tau + kappa * tau_p), (tau, tau_p, kappa, sigma), "T₃ = σ(τ + κτ')"),
        "e_mask_isotropic": Result(e_mask_iso, (alpha, lam, p), "E_mask for Σ = I at d = ∞, closed form", reference_only=True),
        "kappa_isotropic": Result(kappa_iso_p, (alpha, lam, p), "κ₊ at λ_eff for Σ = I", reference_only=True),
        "e_mask_ar1": Result(e_mask_ar1, (kappa, rho, alpha, p), "E_mask for AR(1) at d = ∞, κ = κ(λ_eff)", reference_only=True),
    }
    domain = {
        p: (sp.Rational(1, 50), sp.Rational(49, 50)),
        lam: (sp.Rational(1, 100), 3),
        alpha: (sp.Rational(1, 5), 8),
        kappa: (sp.Rational(1, 20), 5),
        sigma: (sp.Rational(1, 10), 10),
        n: (2, 50),
        e: (sp.Rational(1, 20), sp.Rational(19, 20)),
        m: (sp.Rational(1, 10), 2),
        m_p: (-2, -sp.Rational(1, 10)),
        tau: (sp.Rational(1, 10), 2),
        tau_p: (-2, -sp.Rational(1, 10)),
        T1: (sp.Rational(1, 10), 1), T2: (sp.Rational(1, 20), sp.Rational(1, 6)), T3: (sp.Rational(1, 10), 2),
        df2d: (sp.Rational(1, 20), sp.Rational(1, 6)),
        a_k: (sp.Rational(1, 10), 2), b_k: (0, 2), eps: (0, 2), lam_eff: (sp.Rational(1, 100), 5),
        s11: (1, 3), s22: (1, 3), s12: (-sp.Rational(1, 2), sp.Rational(1, 2)),
        g1: (sp.Rational(1, 10), 3), g2: (sp.Rational(1, 10), 3), mu1: (sp.Rational(1, 10), 3), mu2: (sp.Rational(1, 10), 3),
        rho: (-sp.Rational(9, 10), sp.Rational(9, 10)),
    }
    return Derivation(
        name="masking",
        title="Masking at rate p: the estimator Â_p = (I − Q_p D_p^{-1})/(1 − p), E_mask(p) and its equivalent",
        summary=__doc__,
        steps=steps,
        results=results,
        domain=domain,
        references=("Silverstein & Bai (1995)", "Couillet & Liao (2022)", "Bach (2024)"),
    )


# ---- the library's formulas
FIXED_POINT = e - 1 + T1 / alpha
FIXED_POINT_SLOPE = 1 + U / (alpha * e**2)
EPS_EXPR = (T2 + C * T3) / (alpha - T2)
MASK_TERM = ((1 + eps) * a_k + C * b_k) / m**2
# constant diagonal at d = ∞ (every m_k = τ): one mask_term with the scalar a, b, T₂, T₃
E_SCALAR_D_INF = MASK_TERM.subs({
    eps: EPS_EXPR.subs({T2: 1 - 2 * kappa * tau - kappa**2 * tau_p, T3: sigma * (tau + kappa * tau_p)}),
    a_k: tau + kappa * tau_p, b_k: -sigma * (tau_p + tau**2), m: tau,
})


def _estimator_steps(ex):
    mk, ml, ml2 = sp.symbols("m_k m_l m_l2")
    steps = [
        Step("mask-moment-1", "E m_k = p (Bernoulli enumeration).", _bernoulli_mean(mk, [mk]), p),
        Step("mask-moment-2", "E m_k(1 − m_l) = p(1 − p) for l ≠ k.", _bernoulli_mean(mk * (1 - ml), [mk, ml]), p * (1 - p)),
        Step("mask-moment-3", "E m_k(1 − m_l)(1 − m_l') = p(1 − p)² for distinct k, l, l'.",
             _bernoulli_mean(mk * (1 - ml) * (1 - ml2), [mk, ml, ml2]), p * (1 - p) ** 2),
        Step("mask-moment-3-equal", "E m_k(1 − m_l)² = p(1 − p) (l = l' ≠ k).",
             _bernoulli_mean(mk * (1 - ml) ** 2, [mk, ml]), p * (1 - p)),
        Step("self-excluded", "m_k(1 − m_k) = 0 for m_k ∈ {0, 1}: A_kk never enters the loss.",
             _bernoulli_mean(mk * (1 - mk), [mk]), 0),
    ]

    # the averaged loss of column k = 1 at d = 4, all 16 masks enumerated; a₁ = A_kk included to show it drops out
    dd = 4
    xs = sp.symbols("x1:5", real=True)
    av = sp.symbols("a1:5", real=True)
    ms = sp.symbols("mm1:5")
    x = sp.Matrix(xs)
    pred = sum(av[l] * (1 - ms[l]) * xs[l] for l in range(dd))
    enumerated = _bernoulli_mean(ms[0] * (xs[0] - pred) ** 2, list(ms)) / p
    S1 = x * x.T  # one row; the loss is linear in S, so the identity holds for S = XᵀX/n
    a = sp.Matrix([0] + list(av[1:]))
    closed = (S1[0, 0] - 2 * (1 - p) * (a.T * S1[:, 0])[0] + (1 - p) ** 2 * (a.T * S1 * a)[0]
              + p * (1 - p) * (a.T * sp.diag(*[S1[k, k] for k in range(dd)]) * a)[0])
    steps.append(Step(
        "averaged-loss",
        "Averaging m_k(x_k − Σ_l a_l(1 − m_l)x_l)²/p over all 2⁴ masks (d = 4, k = 1, a₁ = A_kk kept) gives "
        "S_kk − 2(1−p)aᵀS_k + (1−p)²aᵀSa + p(1−p)aᵀDiag(S)a with a₁ = 0: the quadratic in closed form.",
        sp.expand(enumerated), sp.expand(closed), domain={**{s: (-3, 3) for s in xs + av}, p: (sp.Rational(1, 50), sp.Rational(49, 50))}))

    # rescaling b = (1 − p)a on a generic symmetric 3 × 3 S
    S3 = sp.Matrix(3, 3, lambda i, j: sp.Symbol(f"t{min(i, j) + 1}{max(i, j) + 1}", real=True))
    a3 = sp.Matrix([0, sp.Symbol("a2", real=True), sp.Symbol("a3", real=True)])
    b3 = (1 - p) * a3
    Mgen = S3 + C * sp.diag(*[S3[k, k] for k in range(3)]) + LAM_P * sp.eye(3)
    loss_a = (-2 * (1 - p) * (a3.T * S3[:, 0])[0] + (1 - p) ** 2 * (a3.T * S3 * a3)[0]
              + p * (1 - p) * (a3.T * sp.diag(*[S3[k, k] for k in range(3)]) * a3)[0] + lam * (a3.T * a3)[0])
    loss_b = (b3.T * Mgen * b3)[0] - 2 * (b3.T * Mgen[:, 0])[0]
    dom3 = {**{s: (-3, 3) for s in S3.free_symbols | set(a3.free_symbols)}, p: (sp.Rational(1, 50), sp.Rational(49, 50)),
            lam: (sp.Rational(1, 100), 3)}
    steps.append(Step(
        "rescaled-loss",
        "With b = (1 − p)a, c = p/(1−p), λ' = λ/(1−p)² and M = S + cDiag(S) + λ'I, the loss (less S_kk) is bᵀMb − 2bᵀM_k: "
        "M_k and S_k differ only in entry k, where b_k = 0. It is SSR's objective with Gram matrix M (generic 3 × 3 S).",
        loss_a, loss_b, simplifier=_rat, domain=dom3))

    def offdiag(Mx):
        return sp.Matrix(Mx.rows, Mx.cols, lambda i, j: 0 if i == j else Mx[i, j])

    steps += [
        Step("kkt-diagonal", "B = I − Q_p D_p^{-1} has zero diagonal (exact example, p and λ symbolic).",
             lambda: sp.Matrix([ex.B[k, k] for k in range(ex.dd)]), sp.zeros(3, 1), simplifier=_rat),
        Step("kkt-stationary",
             "Stationarity off the constrained entry: [MB − S]_lk = 0 for l ≠ k, since MB = M − D_p^{-1} and M, S share their "
             "off-diagonal; M ≻ 0 makes this the unique minimiser. So Â_p = B/(1 − p) (exact example).",
             lambda: offdiag(ex.M * ex.B - ex.S), sp.zeros(3, 3), simplifier=_rat),
        Step("e-mask-as-diagonal",
             "E_mask of Â = (I − QD^{-1})/(1 − p) (the averaged loss under Σ, per coordinate) = (1/d) Σ_k [Q(Σ + cΛ)Q]_kk/Q_kk² "
             "− c tr Λ/d, for any symmetric Q with non-zero diagonal (generic 3 × 3 Q, exact Σ, p symbolic).",
             lambda: ex.e_mask_def, lambda: ex.e_mask_q, simplifier=_numer_zero, domain=DOM_Q),
        Step("e-mask-stable",
             "… = (1/d) Σ_k ([QΣQ]_kk + c Σ_{j≠k} Q_kj²Λ_j)/Q_kk²: the j = k term cancels c Λ_k exactly.",
             lambda: ex.e_mask_q, lambda: ex.e_mask_stable, simplifier=_numer_zero, domain=DOM_Q),
        Step("p-to-zero-gram", "At p = 0 (c = 0, λ' = λ) the Gram matrix M is S + λI: Q_p is SSR's Q.",
             lambda: ex.M.subs(p, 0), lambda: ex.S + lam * sp.eye(ex.dd)),
        Step("p-to-zero", "At p = 0 E_mask is SSR's E_gen = (1/d) Σ_k [QΣQ]_kk/Q_kk² (derivation train_gen, gen-as-diagonal).",
             lambda: ex.e_mask_q.subs(p, 0), lambda: ex.e_gen_ssr, simplifier=_numer_zero, domain=DOM_Q),
    ]
    return steps


DOM_Q = {**{q: ((1, 3) if q.is_positive else (-sp.Rational(1, 2), sp.Rational(1, 2))) for q in Q_SYMS.values()},
         p: (sp.Rational(1, 50), sp.Rational(49, 50))}


def _equivalent_steps():
    x_ = sp.Symbol("x", positive=True)
    steps = [
        Step("diagonal-concentration",
             "S_kk = (1/n)Σ_i x_ik² has mean Σ_kk and variance (E x⁴ − Σ_kk²)/n = 2Σ_kk²/n (Gaussian E x⁴ = 3Σ_kk²): "
             "Diag(S) → Λ and Q_p behaves as (S + Γ)^{-1}, Γ = cΛ + λ'I.",
             (3 * x_**2 - x_**2) / n, 2 * x_**2 / n, domain={x_: (sp.Rational(1, 10), 5), n: (2, 50)}),
    ]
    # whitening: (Γ + eΣ)^{-1} = Γ^{-1/2}(I + eΣ̃)^{-1}Γ^{-1/2}, Σ̃ = Γ^{-1/2}ΣΓ^{-1/2}
    Gh = sp.diag(1 / sp.sqrt(g1), 1 / sp.sqrt(g2))
    Sw = Gh * SIG2 * Gh
    Rbar = (GAM2 + e * SIG2).inv()
    dom2 = {s11: (1, 3), s22: (1, 3), s12: (-sp.Rational(1, 2), sp.Rational(1, 2)), g1: (sp.Rational(1, 10), 3),
            g2: (sp.Rational(1, 10), 3), e: (sp.Rational(1, 20), sp.Rational(19, 20)), n: (2, 50)}
    steps += [
        Step("whitening",
             "(S + Γ)^{-1} = Γ^{-1/2}(S̃ + I)^{-1}Γ^{-1/2} with S̃ the sample covariance of Γ^{-1/2}x (covariance Σ̃ = "
             "Γ^{-1/2}ΣΓ^{-1/2}); Silverstein–Bai for S̃ with B = I gives (S + Γ)^{-1} ≍ Γ^{-1/2}(I + eΣ̃)^{-1}Γ^{-1/2} = "
             "(Γ + eΣ)^{-1} for any Γ ≻ 0 (2 × 2 check).",
             lambda: Gh * (sp.eye(2) + e * Sw).inv() * Gh, lambda: Rbar, simplifier=_rat, domain=dom2,
             cite="Silverstein & Bai (1995); Couillet & Liao (2022), Thm 2.6"),
        Step("whitening-trace", "tr Σ̃(I + eΣ̃)^{-1} = tr Σ(Γ + eΣ)^{-1}: the fixed point of e is unchanged by whitening.",
             lambda: (Sw * (sp.eye(2) + e * Sw).inv()).trace(), lambda: (SIG2 * Rbar).trace(), simplifier=_rat, domain=dom2),
    ]
    # e-form of the fixed point, with R = eR̄ = (Σ + Γ/e)^{-1}
    Re = (SIG2 + GAM2 / e).inv()
    steps += [
        Step("e-form",
             "With R = eR̄ = (Σ + Γ/e)^{-1}: e(1 + (1/n) tr ΣR̄) − 1 = e − 1 + (1/n) tr ΣR, so the fixed point is "
             "e = 1 − T₁/α with T₁ = (1/d) tr ΣR (2 × 2).",
             lambda: e * (1 + (SIG2 * Rbar).trace() / n) - 1, lambda: e - 1 + (SIG2 * Re).trace() / n, simplifier=_rat, domain=dom2),
        Step("fixed-point-slope",
             "d/de tr ΣR = (1/e²) tr(ΣRΓR) = (1/e²) Σ_k Γ_k [RΣR]_kk > 0: e − 1 + T₁/α increases from −1 (e → 0) to T₁/α > 0 "
             "(e = 1), one root in (0, 1); its slope is 1 + U/(αe²), U = (1/d) Σ_k Γ_k [RΣR]_kk (2 × 2).",
             lambda: sp.diff((SIG2 * Re).trace(), e), lambda: sum(GAM2[k, k] * (Re * SIG2 * Re)[k, k] for k in range(2)) / e**2,
             simplifier=_rat, domain=dom2),
    ]
    # second order: differentiate the equivalent of (S + Γ + tM)^{-1}
    MM = sp.diag(mu1, mu2)
    dom2m = {**dom2, mu1: (sp.Rational(1, 10), 3), mu2: (sp.Rational(1, 10), 3)}
    Phi = e * (1 + (SIG2 * (GAM2 + t * MM + e * SIG2).inv()).trace() / n) - 1

    def e_prime():
        ep = (-sp.diff(Phi, t) / sp.diff(Phi, e)).subs(t, 0)
        n_fixed = sp.solve(Phi.subs(t, 0), n)[0]
        return ep.subs(n, n_fixed), n_fixed

    def e_prime_claim():
        _, n_fixed = e_prime()
        tr_m = (SIG2 * Rbar * MM * Rbar).trace() / n_fixed
        tr_s = (SIG2 * Rbar * SIG2 * Rbar).trace() / n_fixed
        return e**2 * tr_m / (1 - e**2 * tr_s)

    e0, e1 = sp.Symbol("e0", positive=True), sp.Symbol("e1", real=True)
    Rt = (GAM2 + t * MM + (e0 + e1 * t) * SIG2).inv()
    R0 = (GAM2 + e0 * SIG2).inv()
    steps += [
        Step("second-order-factor",
             "Implicit differentiation of e(1 + (1/n) tr Σ(Γ + tM + eΣ)^{-1}) = 1 at t = 0, n eliminated through the fixed "
             "point: e' = e²(1/n)tr(ΣR̄MR̄)/(1 − e²(1/n)tr(ΣR̄ΣR̄)) (2 × 2, diagonal Γ and M).",
             lambda: e_prime()[0], e_prime_claim, simplifier=_numer_zero, domain=dom2m, cite="Bach (2024), Prop. 2"),
        Step("QMQ-equivalent",
             "QMQ = −d/dt (S + Γ + tM)^{-1} ≍ −d/dt (Γ + tM + e(t)Σ)^{-1} = R̄(M + e'Σ)R̄ (2 × 2, e(t) = e₀ + e₁t).",
             lambda: -sp.diff(Rt, t).subs(t, 0), lambda: R0 * (MM + e1 * SIG2) * R0, simplifier=_rat,
             domain={**dom2m, e0: (sp.Rational(1, 20), 1), e1: (-1, 1), t: (0, 1)}),
    ]

    # E_mask's equivalent in R: M = Σ + cΛ, dimension d = 2, n = αd. Numerically, the matrices are built at the point's
    # exact rationals first (an exact evaluation, not evalf of the large unsimplified expression)
    def in_R(subs=None):
        sub = (lambda x: x.subs(subs)) if subs else (lambda x: x)
        Sg, Lm, Gm, ee, cc, aa = sub(SIG2), sub(LAMBDA2), sub(GAM2), sub(e), sub(C), sub(alpha)
        Rb = (Gm + ee * Sg).inv()
        Re_ = (Sg + Gm / ee).inv()
        Mm = Sg + cc * Lm
        nn = 2 * aa
        ep = ee**2 * (Sg * Rb * Mm * Rb).trace() / nn / (1 - ee**2 * (Sg * Rb * Sg * Rb).trace() / nn)
        lhs = sum(((Rb * Mm * Rb)[k, k] + ep * (Rb * Sg * Rb)[k, k] - cc * Lm[k, k] * Rb[k, k] ** 2) / Rb[k, k] ** 2
                  for k in range(2)) / 2
        RSR = Re_ * Sg * Re_
        SR = Sg * Re_
        t2, t3 = (SR * SR).trace() / 2, sum(Lm[k, k] * RSR[k, k] for k in range(2)) / 2
        epsv = sub(EPS_EXPR).subs({T2: t2, T3: t3})
        rhs = sum(sub(MASK_TERM).subs({a_k: RSR[k, k], b_k: Re_[k, 1 - k] ** 2 * Lm[1 - k, 1 - k], m: Re_[k, k], eps: epsv})
                  for k in range(2)) / 2
        return lhs, rhs

    def in_R_exact(point, ctx):
        lhs, rhs = in_R({s: sp.Rational(v.numerator, v.denominator) for s, v in point.items()})
        return (ctx.mpf(sp.numer(lhs)) / ctx.mpf(sp.denom(lhs)), ctx.mpf(sp.numer(rhs)) / ctx.mpf(sp.denom(rhs)))

    dom_r = {**dom2, alpha: (sp.Rational(1, 5), 8), p: (sp.Rational(1, 50), sp.Rational(49, 50))}
    steps.append(Step(
        "e-mask-equivalent",
        "Replacing Q_p by R̄ in both orders: (1/d)Σ_k ([R̄(Σ+cΛ)R̄]_kk + e'[R̄ΣR̄]_kk − cΛ_kR̄_kk²)/R̄_kk² = "
        "(1/d)Σ_k ((1 + ε)a_k + c b_k)/m_k² in R = eR̄, ε = (T₂ + cT₃)/(α − T₂): the factors e cancel (2 × 2, Γ free).",
        lambda: in_R()[0], lambda: in_R()[1], simplifier=_numer_zero, domain=dom_r, numeric=in_R_exact))
    return steps


def _scalar_steps():
    r = 1 / (sigma + kappa)  # an eigenvalue of R = (Σ + κI)^{-1}
    return [
        Step("lam-eff", "Λ = σI: Γ = cσI + λ'I = λ_eff I with λ_eff = λ/(1−p)² + pσ/(1−p).",
             C * sigma + LAM_P, lam / (1 - p) ** 2 + p * sigma / (1 - p)),
        Step("scalar-fixed-point",
             "Γ = λ_eff I: R = (Σ + κI)^{-1} with κ = λ_eff/e, and κ(e − 1 + T₁/α) = λ_eff − κ + κT₁/α: the fixed point is "
             "SSR's κ − λ_eff = (κ/n) tr ΣR (derivation kappa at λ = λ_eff).",
             kappa * FIXED_POINT.subs(e, lam_eff / kappa), lam_eff - kappa + kappa * T1 / alpha),
        Step("scalar-rsr", "[RΣR]_kk = m + κm' (eigenvalue by eigenvalue: σ/(σ+κ)² = r + κ dr/dκ).",
             r + kappa * sp.diff(r, kappa), sigma * r**2),
        Step("scalar-offdiag",
             "Λ = σI: b_k = σ([R²]_kk − R_kk²) = −σ(m' + m²), since R² = −dR/dκ (eigenvalue by eigenvalue: r² = −dr/dκ).",
             r**2, -sp.diff(r, kappa)),
        Step("scalar-t3", "T₃ = σ(1/d) tr RΣR = σ(τ + κτ') (eigenvalue by eigenvalue).",
             sigma * (r + kappa * sp.diff(r, kappa)), sigma * sigma * r**2),
        Step("scalar-p-to-zero", "At p = 0, ε = T₂/(α − T₂) and each term is [RΣR]_kk/m_k²/(1 − df2/n): SSR's E_gen term.",
             MASK_TERM.subs(eps, EPS_EXPR).subs(T2, df2d).subs(p, 0), a_k / m**2 / (1 - df2d / alpha)),
    ]


def _surd_zero(expr):
    from derivations.isotropic import surd_zero

    return surd_zero(expr)


def _numeric_near_one(e_mask_iso):
    def check(point, ctx):
        subs = {alpha: sp.Rational(point[alpha].numerator, point[alpha].denominator),
                lam: sp.Rational(point[lam].numerator, point[lam].denominator), p: 1 - sp.Rational(1, 10**60)}
        val = e_mask_iso.evalf(80, subs=subs)
        return ctx.mpf(str(val)), 1

    return check


def _numeric_ar1(e_mask_ar1):
    def check(point, ctx):
        ref = reference_e_mask_ar1_quadrature(point)
        hp = mpmath.MPContext()
        hp.dps = 70
        r, a, lv, pv = (hp.mpf(point[s].numerator) / point[s].denominator for s in (rho, alpha, lam, p))
        kap = _kappa_quadrature(hp, r, a, lv / (1 - pv) ** 2 + pv / (1 - pv))
        subs = {rho: sp.Rational(point[rho].numerator, point[rho].denominator), alpha: sp.Rational(point[alpha].numerator,
                point[alpha].denominator), p: sp.Rational(point[p].numerator, point[p].denominator),
                kappa: sp.Float(hp.nstr(kap, 65), 65)}
        return ctx.mpf(str(e_mask_ar1.evalf(60, subs=subs))), ctx.mpf(ref)

    return check


# ---- independent references (quadratures of the AR(1) symbol, a root solve), for steps and the library checks


def _ar1_mean(ctx, r, g):
    """(1/2π)∫ g(f(ω)) dω for the AR(1) symbol, written out here."""
    return ctx.quad(lambda w: g((1 - r**2) / (1 - 2 * r * ctx.cos(w) + r**2)), [0, ctx.pi / 2, ctx.pi]) / ctx.pi


def _kappa_quadrature(ctx, r, a, lv):
    return ctx.findroot(lambda k: k - lv - (k / a) * _ar1_mean(ctx, r, lambda s: s / (s + k)), (lv, lv + 1 / a), solver="anderson")


def reference_e_mask_ar1_quadrature(point):
    """E_mask of AR(1) at d = ∞ from quadratures: κ at λ_eff, T₂, T₃, and the Szegő bulk diagonal τ."""
    ctx = mpmath.MPContext()
    ctx.dps = 65
    r, a, lv, pv = (ctx.mpf(point[s].numerator) / point[s].denominator for s in (rho, alpha, lam, p))
    c = pv / (1 - pv)
    k = _kappa_quadrature(ctx, r, a, lv / (1 - pv) ** 2 + c)
    t2 = _ar1_mean(ctx, r, lambda s: (s / (s + k)) ** 2)
    rsr = _ar1_mean(ctx, r, lambda s: s / (s + k) ** 2)
    rr = _ar1_mean(ctx, r, lambda s: 1 / (s + k))
    r2 = _ar1_mean(ctx, r, lambda s: 1 / (s + k) ** 2)
    epsv = (t2 + c * rsr) / (a - t2)
    return ((1 + epsv) * rsr + c * (r2 - rr**2)) / rr**2
