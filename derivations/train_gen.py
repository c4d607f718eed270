"""Derivation 3 — the training and generalisation errors of masked SSR.

Assumptions. S = XᵀX/n, Q = (S + λI)^{-1}, D = diag(Q), Â = I − QD^{-1}
(derivation 1), x ~ N(0, Σ) independent of X. R = (Σ + κI)^{-1},
m_k = R_kk and m_k' = dm_k/dκ = −[R²]_kk.

Steps. (i) Both errors are weighted diagonals:
E_train = (1/d) Σ_k [QSQ]_kk / Q_kk², E_gen = (1/d) Σ_k [QΣQ]_kk / Q_kk².
(ii) QSQ = Q − λQ² and Q² = −dQ/dλ, exactly. (iii) Differentiating the
first-order equivalent Q ≍ (κ/λ) R along κ(λ) gives QSQ ≍ κ' RΣR.
(iv) Differentiating the Silverstein–Bai equivalent of (S + λI + tΣ)^{-1} in t
gives QΣQ ≍ (κ/λ)² RΣR / (1 − df2/n). (v) Diagonal entries concentrate
entrywise (Q_kk ≍ (κ/λ) m_k), so

E_gen ≍ (1/(1 − df2/n)) · (1/d) Σ_k (m_k + κ m_k') / m_k²,
E_train ≍ (λ/κ)² E_gen, and λ/κ = 1 − df1/n (finite as λ → 0).

Ends (vi). Large κ (λ → ∞ at fixed α, or α → 0 at fixed λ, where κ ≈ (tr Σ/d)/α): with
μ₁ = tr Σ/d, μ₂ = tr Σ²/d and s = (1/d) Σ_k Σ_kk²,
E_gen = (μ₁ + 2(s − μ₂)/κ)(1 + μ₂/(ακ²)) + O(κ^-2) (and O(α²) when α ~ 1/κ → 0), so E_gen → tr Σ/d;
since (Σ²)_kk − Σ_kk² = Σ_{j≠k} Σ_kj² ≥ 0, s ≤ μ₂: at fixed α, E_gen approaches tr Σ/d from below
unless Σ is diagonal. Ridgeless (λ → 0 with α > 1, κ → 0): every term is 1/[Σ^{-1}]_kk and df2/d = 1, so
E_gen → (α/(α − 1)) (1/d) Σ_k 1/[Σ^{-1}]_kk: α/(α − 1) times the population floor. These are the limits
the extreme parameters are checked against (tests/test_extremes.py); the library evaluates the exact
formulas at a precision raised by the digits they lose there (derivation kappa, cancellation_bound).
"""

import random
import zlib
from fractions import Fraction

import sympy as sp

from derivations.framework import Derivation, Result, Step
from derivations.symbols import alpha, c, df1d, df2d, e_gen, kappa, lam, m, m_p, mean_term, n, sigma, t

s1, s2, s3 = sp.symbols("sigma1:4", positive=True)
q_ratio = sp.Symbol("q", nonnegative=True)  # λ/κ
SPEC3 = (s1, s2, s3)


def _random_rational_matrix(rows, cols, seed):
    rng = random.Random(seed)
    return sp.Matrix(rows, cols, lambda i, j: sp.Rational(rng.randint(-9, 9), rng.randint(1, 5)))


class _ExactExample:
    """A random rational data set (n = 4, d = 3) with λ symbolic, built on first use."""

    def __getattr__(self, name):
        nn, dd = 4, 3
        X = _random_rational_matrix(nn, dd, 3)
        S = X.T * X / nn
        Q = (S + lam * sp.eye(dd)).inv()
        Dinv = sp.diag(*[1 / Q[k, k] for k in range(dd)])
        A = sp.eye(dd) - Q * Dinv
        L = _random_rational_matrix(dd, dd, 5)
        Sigma = L * L.T + sp.eye(dd)  # an exact SPD covariance
        resid = X - X * A
        self.S, self.Q = S, Q
        self.e_train_def = sum(v**2 for v in resid) / (nn * dd)
        self.e_train_diag = sum((Q * S * Q)[k, k] / Q[k, k] ** 2 for k in range(dd)) / dd
        # E_x ||x − Âᵀx||² = tr((I − Â)ᵀ Σ (I − Â)) for x ~ N(0, Σ)
        self.e_gen_def = ((sp.eye(dd) - A).T * Sigma * (sp.eye(dd) - A)).trace() / dd
        self.e_gen_diag = sum((Q * Sigma * Q)[k, k] / Q[k, k] ** 2 for k in range(dd)) / dd
        return self.__dict__[name]


def _simplify_matrix_rational(expr):
    return sp.cancel(sp.together(expr))


def build() -> Derivation:
    # ---- (i) errors as weighted diagonals, on an exact random rational data set
    ex = _ExactExample()
    steps = [
        Step(
            "train-as-diagonal",
            "‖X − XÂ‖²_F/(nd) = (1/d) Σ_k [QSQ]_kk/Q_kk², since I − Â = QD^{-1} "
            "(exact, on a random rational X with n = 4, d = 3, λ symbolic).",
            lambda: ex.e_train_def,
            lambda: ex.e_train_diag,
            simplifier=_simplify_matrix_rational,
        ),
        Step(
            "gen-as-diagonal",
            "tr((I − Â)ᵀΣ(I − Â))/d = (1/d) Σ_k [QΣQ]_kk/Q_kk² (exact, random rational X and Σ).",
            lambda: ex.e_gen_def,
            lambda: ex.e_gen_diag,
            simplifier=_simplify_matrix_rational,
        ),
        Step(
            "QSQ",
            "QSQ = Q − λQ², because S = (S + λI) − λI (exact).",
            lambda: ex.Q * ex.S * ex.Q,
            lambda: ex.Q - lam * ex.Q * ex.Q,
            simplifier=_simplify_matrix_rational,
        ),
        Step(
            "Q-squared",
            "Q² = −dQ/dλ (exact).",
            lambda: ex.Q * ex.Q,
            lambda: -sp.diff(ex.Q, lam),
            simplifier=_simplify_matrix_rational,
        ),
    ]

    # ---- (iii) QSQ ≍ κ' RΣR from Q ≍ (κ/λ) R, eigenvalue by eigenvalue
    K = sp.Function("kappa")(lam)
    q_equiv = K / (lam * (sigma + K))  # one eigenvalue of (κ/λ) R
    kprime = sp.Derivative(K, lam)
    steps.append(
        Step(
            "QSQ-equivalent",
            "Q − λQ² = Q + λ dQ/dλ ≍ d/dλ[(κ/λ)R] λ + (κ/λ)R = κ'(λ) RΣR, for any κ(λ).",
            q_equiv + lam * sp.diff(q_equiv, lam),
            kprime * sigma / (sigma + K) ** 2,
            numeric=_numeric_with_kappa_function(q_equiv + lam * sp.diff(q_equiv, lam), kprime * sigma / (sigma + K) ** 2, K),
        )
    )

    # ---- (iv) QΣQ from d/dt of the equivalent of (S + λ + tΣ)^{-1}
    # c(t) solves Φ(c, t) = c (1 + (1/n) Σ_i σ_i/(λ + (c + t)σ_i)) − 1 = 0.
    Phi = c * (1 + (1 / n) * sum(s / (lam + (c + t) * s) for s in SPEC3)) - 1
    c_prime = (-sp.diff(Phi, t) / sp.diff(Phi, c)).subs(t, 0)
    # eliminate n with the fixed point at t = 0, then write c = λ/κ
    n_fixed = sp.solve(Phi.subs(t, 0), n)[0]
    one_plus_cprime = (1 + c_prime).subs(n, n_fixed).subs(c, lam / kappa)
    df2_over_n = (sum((s / (s + kappa)) ** 2 for s in SPEC3) / n).subs(n, n_fixed).subs(c, lam / kappa)
    steps += [
        Step(
            "second-order-factor",
            "Implicit differentiation of the Silverstein–Bai fixed point with B = λI + tΣ at t = 0: "
            "1 + c'(0) = 1/(1 − df2/n) (n eliminated through the fixed point; 3-point spectrum).",
            one_plus_cprime,
            1 / (1 - df2_over_n),
            # a rational function is 0 exactly when the numerator over a common denominator expands to 0
            simplifier=lambda e: sp.expand(sp.fraction(sp.together(e))[0]),
            cite="Bach (2024), Prop. 2; Couillet & Liao (2022)",
        ),
        Step(
            "QSigmaQ-equivalent",
            "QΣQ = −d/dt (S + λ + tΣ)^{-1} ≍ −d/dt (λ + (c + t)Σ)^{-1} = (1 + c') Σ(λ + cΣ)^{-2} "
            "= (1 + c') (κ/λ)² RΣR at c = λ/κ (eigenvalue by eigenvalue).",
            -sp.diff(1 / (lam + (c + t) * sigma), t).subs(t, 0).subs(c, lam / kappa),
            (kappa / lam) ** 2 * sigma / (sigma + kappa) ** 2,
        ),
        Step(
            "RSigmaR-diagonal",
            "RΣR = R − κR², so [RΣR]_kk = m_k + κ m_k' (eigenvalue by eigenvalue).",
            1 / (sigma + kappa) + kappa * sp.diff(1 / (sigma + kappa), kappa),
            sigma / (sigma + kappa) ** 2,
        ),
    ]

    # ---- (v) the errors
    gen_term = (m + kappa * m_p) / m**2
    # [QΣQ]_kk / Q_kk² with Q_kk ≍ (κ/λ) m_k and [QΣQ]_kk ≍ (κ/λ)² (m_k + κ m_k')/(1 − df2/n)
    ratio = ((kappa / lam) ** 2 * (m + kappa * m_p) / (1 - df2d / alpha)) / ((kappa / lam) * m) ** 2
    e_gen_expr = mean_term / (1 - df2d / alpha)
    e_train_expr = q_ratio**2 * e_gen
    steps += [
        Step(
            "gen-term",
            "Per coordinate, [QΣQ]_kk / Q_kk² ≍ (m_k + κm_k')/m_k² / (1 − df2/n): the factors κ/λ cancel.",
            ratio,
            gen_term / (1 - df2d / alpha),
        ),
        Step(
            "e-gen",
            "E_gen ≍ g/(1 − df2/n) with g = (1/d) Σ_k (m_k + κm_k')/m_k² (linearity of the average).",
            e_gen_expr.subs(mean_term, gen_term),
            ratio,
        ),
        Step(
            "e-train",
            "Per coordinate [QSQ]_kk/Q_kk² ≍ κ'(m + κm')/((κ/λ)m)² = (λ/κ)² × (gen term), with "
            "κ' = 1/(1 − df2/n) (derivation 2). So E_train = q² E_gen with q = λ/κ "
            "(q = 1 − df1/n at κ = 0, derivation 2 step lambda-over-kappa).",
            (1 / (1 - df2d / alpha)) * (m + kappa * m_p) / ((kappa / lam) * m) ** 2,
            e_train_expr.subs({q_ratio: lam / kappa, e_gen: ratio}),
        ),
    ]

    # ---- (vi) the ends, on a general symmetric 2 × 2 Σ (exact rational functions of κ, expanded in u = 1/κ)
    steps += _ends_steps()

    results = {
        "gen_term": Result(gen_term, (m, m_p, kappa), "[RΣR]_kk / R_kk² = (m + κm')/m²"),
        "e_gen": Result(e_gen_expr, (mean_term, alpha, df2d), "E_gen = g/(1 − df2/n)"),
        "e_train": Result(e_train_expr, (e_gen, q_ratio), "E_train = (λ/κ)² E_gen, q = λ/κ"),
        "e_gen_large_kappa": Result(E_LARGE_KAPPA, (MU1, S_DIAG, MU2, alpha, kappa),
                                    "E_gen at large κ: (μ₁ + 2(s − μ₂)/κ)(1 + μ₂/(ακ²)) + O(κ^-2)", reference_only=True),
        "e_gen_ridgeless": Result(alpha / (alpha - 1) * FLOOR, (alpha, FLOOR), "λ → 0+, α > 1: (α/(α − 1)) × floor",
                                  reference_only=True),
    }
    domain = {
        lam: (sp.Rational(1, 100), 3),
        kappa: (sp.Rational(1, 20), 5),
        alpha: (sp.Rational(1, 5), 8),
        sigma: (sp.Rational(1, 10), 10),
        n: (2, 50),
        c: (sp.Rational(1, 10), 2),
        m: (sp.Rational(1, 10), 2),
        m_p: (-2, -sp.Rational(1, 10)),
        df1d: (sp.Rational(1, 10), sp.Rational(9, 10)),
        df2d: (sp.Rational(1, 20), sp.Rational(1, 10)),
        mean_term: (1, 3),
        e_gen: (1, 3),
        q_ratio: (0, 1),
        s1: (sp.Rational(1, 10), 10),
        s2: (sp.Rational(1, 10), 10),
        s3: (sp.Rational(1, 10), 10),
    }
    return Derivation(
        name="train_gen",
        title="Training and generalisation errors: E_gen and E_train = (λ/κ)² E_gen",
        summary=__doc__,
        steps=steps,
        results=results,
        domain=domain,
        references=("Bach (2024)", "Hastie, Montanari, Rosset, Tibshirani (2022)", "Dobriban & Wager (2018)"),
    )


# ---- the ends (vi): symbols and the 2 × 2 example
MU1, MU2 = sp.Symbol("mu1", positive=True), sp.Symbol("mu2", positive=True)  # tr Σ/d, tr Σ²/d
S_DIAG = sp.Symbol("s_diag2", positive=True)  # (1/d) Σ_k Σ_kk²
FLOOR = sp.Symbol("floor", positive=True)  # (1/d) Σ_k 1/[Σ^{-1}]_kk
E_LARGE_KAPPA = (MU1 + 2 * (S_DIAG - MU2) / kappa) * (1 + MU2 / (alpha * kappa**2))
A11, A22 = sp.Symbol("a11", positive=True), sp.Symbol("a22", positive=True)
A12 = sp.Symbol("a12", real=True)
U, BETA = sp.Symbol("u", positive=True), sp.Symbol("beta", positive=True)


def _ends_steps():
    Sig = sp.Matrix([[A11, A12], [A12, A22]])
    R = (Sig + kappa * sp.eye(2)).inv()
    Rp = sp.diff(R, kappa)
    gen = [(R[k, k] + kappa * Rp[k, k]) / R[k, k] ** 2 for k in range(2)]
    SR = Sig * R
    df2 = (SR * SR).trace() / 2
    egen = (sum(gen) / 2) / (1 - df2 / alpha)
    moments = {MU1: Sig.trace() / 2, MU2: (Sig * Sig).trace() / 2, S_DIAG: (A11**2 + A22**2) / 2}
    gap = sp.together(egen - E_LARGE_KAPPA.subs(moments)).subs(kappa, 1 / U)

    def series_2(e):
        return lambda: sp.series(e, U, 0, 2).removeO()

    Sinv = Sig.inv()
    floor = (1 / Sinv[0, 0] + 1 / Sinv[1, 1]) / 2
    return [
        Step(
            "large-kappa-egen",
            "E_gen − (μ₁ + 2(s − μ₂)/κ)(1 + μ₂/(ακ²)) = O(u²), u = 1/κ, at fixed α (λ → ∞): its series in u has no term "
            "of order 1 or u (exact E_gen of a general symmetric 2 × 2 Σ).",
            series_2(gap),
            0,
            domain={A11: (1, 3), A22: (1, 3), A12: (-sp.Rational(1, 2), sp.Rational(1, 2)), alpha: (sp.Rational(1, 5), 8)},
        ),
        Step(
            "small-alpha-egen",
            "The same expansion as α → 0 with κ ~ 1/α (α = βu): the gap is still O(u²) = O(α²), so E_gen → tr Σ/d.",
            series_2(gap.subs(alpha, BETA * U)),
            0,
            domain={A11: (1, 3), A22: (1, 3), A12: (-sp.Rational(1, 2), sp.Rational(1, 2)), BETA: (sp.Rational(1, 10), 10)},
        ),
        Step(
            "from-below",
            "(Σ²)_kk − Σ_kk² = Σ_{j≠k} Σ_kj² ≥ 0 (2 × 2: Σ₁₂²), so s ≤ μ₂ and the 1/κ term is ≤ 0: E_gen → tr Σ/d from "
            "below at fixed α unless Σ is diagonal.",
            moments[MU2] - moments[S_DIAG],
            A12**2,
            domain={A11: (1, 3), A22: (1, 3), A12: (-sp.Rational(1, 2), sp.Rational(1, 2))},
        ),
        Step(
            "ridgeless-egen",
            "At κ = 0 (λ → 0+, α > 1) each term (m + κm')/m² is 1/[Σ^{-1}]_kk and df2/d = 1, so "
            "E_gen = (α/(α − 1)) (1/d) Σ_k 1/[Σ^{-1}]_kk (exact, 2 × 2 Σ).",
            egen.subs(kappa, 0),
            (alpha / (alpha - 1) * FLOOR).subs(FLOOR, floor),
            domain={A11: (1, 3), A22: (1, 3), A12: (-sp.Rational(1, 2), sp.Rational(1, 2)), alpha: (sp.Rational(6, 5), 8)},
        ),
    ]


def _numeric_with_kappa_function(lhs, rhs, K):
    """Numeric check of an identity that holds for any κ(λ): use a random quadratic κ(λ)."""
    lam_sym = K.args[0]

    def check(point, ctx):
        rng = random.Random(zlib.crc32(repr(sorted((str(k), str(v)) for k, v in point.items())).encode()))
        coeffs = [sp.Rational(rng.randint(1, 50), rng.randint(1, 20)) for _ in range(3)]
        concrete = coeffs[0] + coeffs[1] * lam_sym + coeffs[2] * lam_sym**2
        subs = {s: sp.Rational(v.numerator, v.denominator) for s, v in point.items()}
        lv = (lhs.subs(K, concrete).doit()).subs(subs).evalf(60)
        rv = (rhs.subs(K, concrete).doit()).subs(subs).evalf(60)
        return ctx.mpf(str(lv)), ctx.mpf(str(rv))

    return check


# ---- the independent side of the library checks of E_gen and E_train on an exact rational Σ (the
# library's verification package calls the library with the same Σ): a direct SymPy evaluation


def example_sigma(point):
    """An exact rational SPD 3×3 Σ = LLᵀ + I, seeded by ``point``'s α and λ."""
    rng = random.Random(int(point[alpha] * 1000 + point[lam] * 100000))
    L = sp.Matrix(3, 3, lambda i, j: sp.Rational(rng.randint(-9, 9), rng.randint(1, 5)))
    return L * L.T + sp.eye(3)


def example_sigma_rows(point):
    """:func:`example_sigma` as rows of Fractions."""
    Sig = example_sigma(point)
    return [[Fraction(int(sp.numer(Sig[i, j])), int(sp.denom(Sig[i, j]))) for j in range(3)] for i in range(3)]


def reference_errors(point, which):
    """E_gen (``which='e_gen'``) or E_train at d = 3 for :func:`example_sigma`, evaluated directly by SymPy."""
    Sig = example_sigma(point)
    a = sp.Rational(point[alpha].numerator, point[alpha].denominator)
    lv = sp.Rational(point[lam].numerator, point[lam].denominator)
    spectrum = [sp.nsimplify(v, rational=False) for v in Sig.eigenvals(multiple=True)]
    # eigenvalues of a 3x3 rational matrix are algebraic; evaluate them at 80 digits
    spectrum = [sp.re(sp.N(v, 80)) for v in spectrum]
    k = sp.Symbol("k")
    F = k - lv - (k / (3 * a)) * sum(s / (s + k) for s in spectrum)
    kap = sp.nsolve(F, k, lv + sum(spectrum) / (6 * a), prec=70)
    Rm = (Sig + kap * sp.eye(3)).evalf(80).inv()
    SR = Sig * Rm
    df2 = (SR * SR).trace() / 3
    df1 = SR.trace() / 3
    RSR = Rm * Sig * Rm
    g = sum(RSR[i, i] / Rm[i, i] ** 2 for i in range(3)) / 3
    eg = g / (1 - df2 / a)
    if which == "e_gen":
        return eg
    return (1 - df1 / a) ** 2 * eg
