"""Derivation 2 — the effective regularisation κ and its derivative in λ.

Assumptions. Σ is symmetric positive definite with eigenvalues σ > 0; λ ≥ 0;
α = n/d. R = (Σ + κI)^{-1}, τ(κ) = (1/d) tr R, df1 = tr ΣR, df2 = tr (ΣR)².

Input (cited). The first-order deterministic equivalent of Silverstein and
Bai (1995), in the form used by Couillet and Liao: for a deterministic B ≻ 0
commuting with Σ, (S + B)^{-1} ≍ (B + cΣ)^{-1} where
c = 1 / (1 + (1/n) tr Σ(B + cΣ)^{-1}). With B = λI and κ = λ/c this is
λQ ≍ κR with κ − λ = (κ/n) tr ΣR (step ``c-form``).

Every trace identity below is a sum over eigenvalues of a per-eigenvalue
identity, so checking it for one eigenvalue σ proves it for every spectrum.

Result. κ is the unique root of the increasing function
G(κ) = 1 − (1/α)(1 − κτ) − λ/κ, bracketed by [λ, λ + (tr Σ/d)/α]; and
dκ/dλ = 1/(1 − df2/n).

Cancellation. df1/d = 1 − κτ and df2/d = 1 − 2κτ − κ²τ' are differences of O(1) terms that
cancel when κ is large against Σ's eigenvalues (λ → ∞, or α → 0 where κ ≈ (tr Σ/d)/α). By
Jensen's inequality (x ↦ 1/(1 + κx) is convex), df1/d ≥ 1/(1 + κτ₀) with τ₀ = τ(0) = (1/d) tr Σ^{-1},
and df2/d ≥ (df1/d)²; so rounding is amplified by at most 2(1 + κτ₀) in df1/d and 4(1 + κτ₀)² in
df2/d (steps jensen-*, condition-*): the library raises its working precision by the log10 of that
bound (result ``cancellation_bound``) before it solves for κ.
"""

import mpmath
import sympy as sp

from derivations.framework import Derivation, Result, Step
from derivations.symbols import alpha, c, df1d, df2d, kappa, lam, n, sigma, tau, tau_p

# a generic 3-point spectrum, for the steps that are not termwise
s1, s2, s3 = sp.symbols("sigma1:4", positive=True)
SPEC3 = (s1, s2, s3)
tau0 = sp.Symbol("tau0", positive=True)  # τ₀ = τ(0) = (1/d) tr Σ^{-1}


def build() -> Derivation:
    r = 1 / (sigma + kappa)  # one eigenvalue of R
    dr = sp.diff(r, kappa)

    steps = [
        Step(
            "square-resolvent",
            "R² = −dR/dκ; averaging gives (1/d) tr R² = −τ'.",
            r**2,
            -dr,
        ),
    ]

    # c-form of Silverstein–Bai with B = λI, and κ = λ/c, on a 3-point spectrum
    # (termwise in the trace; the 3 points keep it honest about the sum)
    c_of_kappa = lam / kappa
    sb = 1 / c - 1 - (1 / n) * sum(s / (lam + c * s) for s in SPEC3)
    kform = kappa - lam - (kappa / n) * sum(s / (s + kappa) for s in SPEC3)
    steps += [
        Step(
            "c-form",
            "With c = λ/κ the Silverstein–Bai fixed point 1/c = 1 + (1/n) tr Σ(λ + cΣ)^{-1} "
            "is (1/λ) × [κ − λ − (κ/n) tr ΣR]: the two equations have the same roots.",
            sb.subs(c, c_of_kappa),
            kform / lam,
            cite="Silverstein & Bai (1995); Couillet & Liao (2022), Thm 2.6",
        ),
        Step(
            "first-order",
            "(λ + cΣ)^{-1} = (κ/λ) R at c = λ/κ, i.e. λQ ≍ κR.",
            1 / (lam + c_of_kappa * sigma),
            (kappa / lam) * r,
        ),
    ]

    # the residual we solve: F = κ − λ − (κ/α) df1/d, and G = F/κ
    F = kappa - lam - (kappa / alpha) * (1 - kappa * tau)
    G = sp.expand(F / kappa)
    dG = sp.diff(G.subs(tau, sp.Function("T")(kappa)), kappa).subs(
        {sp.Derivative(sp.Function("T")(kappa), kappa): tau_p, sp.Function("T")(kappa): tau}
    )
    steps += [
        Step(
            "G",
            "G(κ) = F(κ)/κ with F = κ − λ − (κ/α)(1 − κτ): dividing by κ > 0 keeps the root "
            "and removes the spurious root κ = 0 of the ridgeless case.",
            G * kappa,
            F,
        ),
        Step(
            "G-increasing",
            "dG/dκ = (1/α)(τ + κτ') + λ/κ², and τ + κτ' = (1/d) tr ΣR² > 0 eigenvalue by "
            "eigenvalue: G is strictly increasing, so its root is unique.",
            r + kappa * dr,
            sigma * r**2,
        ),
        Step(
            "dG",
            "The Newton derivative dG/dκ, from the expression of G.",
            dG,
            (tau + kappa * tau_p) / alpha + lam / kappa**2,
        ),
    ]

    # λ(κ) = κ − (κ/n) tr ΣR: differentiate termwise
    steps.append(
        Step(
            "dlambda-dkappa",
            "d/dκ [κσ/(σ+κ)] = σ²/(σ+κ)², so dλ/dκ = 1 − df2/n and dκ/dλ = 1/(1 − df2/n).",
            sp.diff(kappa * sigma * r, kappa),
            (sigma * r) ** 2,
        )
    )
    dkappa_dlam = 1 / (1 - df2d / alpha)
    lam_over_kappa = 1 - df1d / alpha
    F_df1 = kappa - lam - (kappa / alpha) * df1d
    steps.append(
        Step(
            "lambda-over-kappa",
            "λ/κ = 1 − df1/n + F/κ, so at the root λ/κ = 1 − df1/n (finite in the ridgeless limit).",
            lam_over_kappa,
            lam / kappa + F_df1 / kappa,
        )
    )

    # Exported trace formulas are affine in (τ, τ'); they are checked eigenvalue by
    # eigenvalue (τ → 1/(σ+κ), τ' → its κ-derivative), which proves the averaged form.
    df1_expr = 1 - kappa * tau
    df2_expr = 1 - 2 * kappa * tau - kappa**2 * tau_p
    per_eig = {tau: r, tau_p: dr}
    steps += [
        Step(
            "df1",
            "ΣR = I − κR eigenvalue by eigenvalue, so df1/d = 1 − κτ.",
            df1_expr.subs(per_eig),
            sigma * r,
        ),
        Step(
            "df2",
            "(ΣR)² = I − 2κR + κ²R² and R² = −dR/dκ, so df2/d = 1 − 2κτ − κ²τ'.",
            df2_expr.subs(per_eig),
            (sigma * r) ** 2,
        ),
        Step(
            "resolvent-eigenvalue-derivative",
            "d/dκ 1/(σ+κ) = −(1/(σ+κ))²: τ' is minus the average of R's squared eigenvalues, each the square of the bound result.",
            dr,
            -(r**2),
        ),
    ]

    # ---- cancellation: how much df1/d and df2/d amplify rounding, bounded a priori by τ₀ = τ(0) = (1/d) tr Σ^{-1}
    x1, x2 = sp.symbols("x1:3", positive=True)  # 1/σ for two eigenvalues
    xs = sp.Symbol("x", positive=True)
    f_conv = 1 / (1 + kappa * xs)
    jensen_gap_2 = (f_conv.subs(xs, x1) + f_conv.subs(xs, x2)) / 2 - f_conv.subs(xs, (x1 + x2) / 2)
    df1_3 = sum(s / (s + kappa) for s in SPEC3) / 3
    tau_3 = sum(1 / (s + kappa) for s in SPEC3) / 3
    tau_p_3 = sp.diff(tau_3, kappa)
    tau0_3 = sum(1 / s for s in SPEC3) / 3
    df2_3 = sum((s / (s + kappa)) ** 2 for s in SPEC3) / 3
    bound = 4 * (1 + kappa * tau0) ** 2
    cond_df1 = (1 + kappa * tau_3) / df1_3  # Σ|terms| / |df1/d| for df1/d = 1 − κτ
    cond_df2 = (1 + 2 * kappa * tau_3 - kappa**2 * tau_p_3) / df2_3  # for df2/d = 1 − 2κτ − κ²τ' (τ' < 0)

    def nonneg(e):
        """e ≥ 0, as the identity e − |e| = 0 (checked at random points: an inequality has no residual to simplify)."""
        return e - sp.Abs(e)

    wide = {kappa: (sp.Rational(1, 100), 1000), s1: (sp.Rational(1, 100), 100), s2: (sp.Rational(1, 100), 100),
            s3: (sp.Rational(1, 100), 100)}
    steps += [
        Step(
            "jensen-gap",
            "x ↦ 1/(1 + κx) is convex: for two points its Jensen gap is κ²(x₁ − x₂)²/(2(1 + κx₁)(1 + κx₂)(2 + κ(x₁ + x₂))) ≥ 0.",
            jensen_gap_2,
            kappa**2 * (x1 - x2) ** 2 / (2 * (1 + kappa * x1) * (1 + kappa * x2) * (2 + kappa * (x1 + x2))),
            domain={kappa: (sp.Rational(1, 100), 1000), x1: (sp.Rational(1, 100), 100), x2: (sp.Rational(1, 100), 100)},
        ),
        Step(
            "jensen-df1",
            "df1/d = (1/d) Σ 1/(1 + κ/σ) ≥ 1/(1 + κτ₀), τ₀ = (1/d) tr Σ^{-1} (Jensen; 3-point spectrum, κ up to 1000).",
            nonneg(df1_3 - 1 / (1 + kappa * tau0_3)),
            0,
            symbolic=False,
            domain=wide,
        ),
        Step(
            "condition-df1",
            "Σ|terms|/|df1/d| = (1 + κτ)/(1 − κτ) ≤ 2(1 + κτ₀) (κτ ≤ 1 and step jensen-df1).",
            nonneg(2 * (1 + kappa * tau0_3) - cond_df1),
            0,
            symbolic=False,
            domain=wide,
        ),
        Step(
            "condition-df2",
            "Σ|terms|/|df2/d| = (1 + 2κτ + κ²|τ'|)/(df2/d) ≤ 4/(df1/d)² ≤ 4(1 + κτ₀)² (κτ ≤ 1, κ²|τ'| ≤ 1, "
            "df2/d ≥ (df1/d)² by Cauchy–Schwarz).",
            nonneg(bound.subs(tau0, tau0_3) - cond_df2),
            0,
            symbolic=False,
            domain=wide,
        ),
    ]

    results = {
        "G": Result(G, (kappa, lam, alpha, tau), "G(κ) = 1 − (1/α)(1 − κτ) − λ/κ"),
        "dG": Result(dG, (kappa, lam, alpha, tau, tau_p), "dG/dκ"),
        "df1_over_d": Result(df1_expr, (kappa, tau), "df1/d = 1 − κτ"),
        "df2_over_d": Result(df2_expr, (kappa, tau, tau_p), "df2/d = 1 − 2κτ − κ²τ'"),
        "dkappa_dlam": Result(dkappa_dlam, (alpha, df2d), "dκ/dλ = 1/(1 − df2/n)"),
        "lam_over_kappa": Result(lam_over_kappa, (alpha, df1d), "λ/κ = 1 − df1/n"),
        "resolvent_eigenvalue": Result(r, (sigma, kappa), "1/(σ + κ): R's eigenvalue on Σ's eigenvalue σ (τ is their average)"),
        "cancellation_bound": Result(bound, (kappa, tau0), "4(1 + κτ₀)²: the most df1/d and df2/d amplify rounding"),
    }

    domain = {
        kappa: (sp.Rational(1, 20), 5),
        lam: (sp.Rational(1, 100), 3),
        alpha: (sp.Rational(1, 5), 8),
        sigma: (sp.Rational(1, 10), 10),
        n: (2, 50),
        c: (sp.Rational(1, 10), 2),
        tau: (sp.Rational(1, 10), 2),
        tau_p: (-2, -sp.Rational(1, 10)),
        df1d: (sp.Rational(1, 10), sp.Rational(9, 10)),
        df2d: (sp.Rational(1, 10), sp.Rational(9, 10)),
        s1: (sp.Rational(1, 10), 10),
        s2: (sp.Rational(1, 10), 10),
        s3: (sp.Rational(1, 10), 10),
    }
    return Derivation(
        name="kappa",
        title="The effective regularisation κ and dκ/dλ",
        summary=__doc__,
        steps=steps,
        results=results,
        domain=domain,
        references=("Silverstein & Bai (1995)", "Bach (2024)", "Couillet & Liao (2022)"),
    )


# ---- independent references for the library checks (the library's verification package pairs them
# with the library's κ solver): pure SymPy/mpmath, nothing shared with the library's code paths


def independent_kappa(spectrum, a, l, dps):
    """κ as the root of the polynomial (F · Π(σ+κ)), found by SymPy, not by the library."""
    k = sp.Symbol("k")
    d = len(spectrum)
    F = k - l - (k / (a * d)) * sum(s / (s + k) for s in spectrum)
    num = sp.Poly(sp.numer(sp.together(F)), k)
    hi = l + sum(spectrum) / (d * a)
    roots = [r for r in num.nroots(n=dps + 15, maxsteps=200) if r.is_real and l <= r <= hi]
    if len(roots) != 1:
        raise AssertionError(f"expected one root in [λ, λ + trΣ/n], found {roots}")
    return roots[0]


def reference_kappa(point):
    """κ for the 3-point spectrum ``SPEC3`` of ``point`` (with α, λ), by :func:`independent_kappa`."""
    spectrum = [sp.Rational(point[s].numerator, point[s].denominator) for s in SPEC3]
    a = sp.Rational(point[alpha].numerator, point[alpha].denominator)
    lv = sp.Rational(point[lam].numerator, point[lam].denominator)
    return independent_kappa(spectrum, a, lv, 50)


def reference_dkappa_dlambda(point):
    """dκ/dλ by a Richardson-extrapolated central difference of independent root solves."""
    ctx = mpmath.MPContext()
    ctx.dps = 90
    spectrum = [sp.Rational(point[s].numerator, point[s].denominator) for s in SPEC3]
    a = sp.Rational(point[alpha].numerator, point[alpha].denominator)
    lv = sp.Rational(point[lam].numerator, point[lam].denominator)

    def kappa_at(x):
        return ctx.mpf(str(independent_kappa(spectrum, a, x, 85)))

    def central(h):
        return (kappa_at(lv + h) - kappa_at(lv - h)) / (2 * ctx.mpf(h.p) / h.q)

    h = sp.Rational(1, 10**15)
    return (4 * central(h / 2) - central(h)) / 3  # error O(h⁴)
