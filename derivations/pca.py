"""Derivation 8 — population PCA for AR(1) at d = ∞, and the SSR–PCA crossover.

Metric. PCA with k = φd directions u_i reconstructs x by its projection; its
error per coordinate is (tr Σ − Σ_{i≤k} u_iᵀΣu_i)/d. For population PCA (u_i
the top eigenvectors of Σ) this is the mean of the d − k smallest eigenvalues.

Steps. At d = ∞ the eigenvalues of the AR(1) Σ are distributed as f(ω),
ω uniform on (−π, π] (Grenander–Szegő). For ρ > 0, f decreases in |ω|, so
the top fraction φ are the ω with |ω| < πφ and
E_pca(φ) = (1/π)∫_{πφ}^{π} f(ω) dω. With the antiderivative
2 arctan(((1+ρ)/(1−ρ)) tan(ω/2)) of f on (−π, π),

    E_pca(φ) = 1 − (2/π) arctan(((1+ρ)/(1−ρ)) tan(πφ/2)).

ρ < 0 is the mirror image (ω → π − ω maps f(·; ρ) to f(·; −ρ)), so ρ enters
through |ρ|. E_pca falls from 1 at φ = 0 to 0 at φ = 1.

Crossover. SSR wins when E_SSR < E_pca(φ). Solving E_pca(φ*) = E for
0 < E < 1 gives φ* = (2/π) arctan(((1−|ρ|)/(1+|ρ|)) tan(π(1 − E)/2)): SSR
beats PCA with k < φ*d directions. At α = ∞ and λ → 0, E_SSR is the
population floor (1−ρ²)/(1+ρ²) (derivation ar1), so
φ*_∞ = (2/π) arctan(((1−|ρ|)/(1+|ρ|)) tan(πρ²/(1+ρ²))).
"""

import mpmath
import sympy as sp

from derivations import get
from derivations.framework import Derivation, Result, Step
from derivations.symbols import omega, phi, rho

E = sp.Symbol("E", positive=True)  # an SSR error level in (0, 1)
r_abs = sp.Symbol("r", nonnegative=True)  # |ρ|
c_pos = sp.Symbol("c", positive=True)
u_pos = sp.Symbol("u", positive=True)


def _atan_cot(expr):
    """Simplify with atan(cot x) = π/2 − x, valid for x in (0, π) (here x = πE/2, 0 < E < 1)."""
    expr = sp.simplify(expr)
    expr = expr.replace(
        lambda e: isinstance(e, sp.atan) and isinstance(e.args[0], sp.cot),
        lambda e: sp.pi / 2 - e.args[0].args[0],
    )
    return sp.simplify(expr)


def build() -> Derivation:
    f = get("ar1").results["symbol"].expr
    antider = 2 * sp.atan((1 + rho) / (1 - rho) * sp.tan(omega / 2))
    e_pca = 1 - (2 / sp.pi) * sp.atan((1 + r_abs) / (1 - r_abs) * sp.tan(sp.pi * phi / 2))
    f_star = (2 / sp.pi) * sp.atan((1 - r_abs) / (1 + r_abs) * sp.tan(sp.pi * (1 - E) / 2))
    floor = get("ar1").results["population_floor"].expr
    f_star_inf = f_star.subs(E, floor.subs(rho, r_abs))

    steps = [
        Step(
            "antiderivative",
            "d/dω 2 arctan(((1+ρ)/(1−ρ)) tan(ω/2)) = f(ω) on (−π, π).",
            sp.diff(antider, omega),
            f,
            simplifier=lambda e: sp.simplify(sp.expand_trig(sp.simplify(e.rewrite(sp.cos)))),
            domain={rho: (-sp.Rational(9, 10), sp.Rational(9, 10)), omega: (-3, 3)},
        ),
        Step(
            "e-pca",
            "E_pca(φ) = (1/π)[F(π) − F(πφ)] with F the antiderivative (F(π⁻) = π), for ρ = |ρ| ≥ 0.",
            (1 / sp.pi) * (sp.pi - antider.subs({omega: sp.pi * phi, rho: r_abs})),
            e_pca,
            domain={r_abs: (0, sp.Rational(9, 10)), phi: (0, 1)},
        ),
        Step(
            "e-pca-quadrature",
            "The closed form equals (1/π)∫_{πφ}^{π} f(ω) dω by quadrature at 50 digits.",
            0,
            0,
            symbolic=False,
            numeric=_numeric_quadrature(f, e_pca),
            domain={r_abs: (0, sp.Rational(9, 10)), phi: (sp.Rational(1, 50), sp.Rational(49, 50))},
        ),
        Step(
            "mirror",
            "f(π − ω; ρ) = f(ω; −ρ): negative ρ puts the top eigenvalues near ω = π, with the same error.",
            f.subs(omega, sp.pi - omega),
            f.subs(rho, -rho),
        ),
        Step(
            "e-pca-ends",
            "E_pca(0) = 1 = tr Σ/d, and E_pca → 0 as φ → 1⁻ (u = tan(πφ/2) → ∞, c = (1+|ρ|)/(1−|ρ|) > 0).",
            sp.Matrix([e_pca.subs(phi, 0), sp.limit(1 - (2 / sp.pi) * sp.atan(c_pos * u_pos), u_pos, sp.oo)]),
            sp.Matrix([1, 0]),
            domain={r_abs: (0, sp.Rational(9, 10)), c_pos: (1, 20), u_pos: (1, 20)},
        ),
        Step(
            "e-pca-decreasing",
            "dE_pca/dφ < 0 (E_pca is strictly decreasing, so the crossover is unique).",
            sp.Piecewise((1, sp.diff(e_pca, phi) < 0), (0, True)),
            1,
            symbolic=False,
            domain={r_abs: (0, sp.Rational(9, 10)), phi: (sp.Rational(1, 50), sp.Rational(49, 50))},
        ),
        Step(
            "crossover",
            "φ* solves E_pca(φ*) = E for 0 < E < 1.",
            e_pca.subs(phi, f_star),
            E,
            simplifier=_atan_cot,
            domain={r_abs: (0, sp.Rational(9, 10)), E: (sp.Rational(1, 50), sp.Rational(49, 50))},
        ),
        Step(
            "crossover-population-limit",
            "At α = ∞, λ → 0: E = (1−ρ²)/(1+ρ²), so π(1 − E)/2 = πρ²/(1+ρ²).",
            f_star_inf,
            (2 / sp.pi) * sp.atan((1 - r_abs) / (1 + r_abs) * sp.tan(sp.pi * r_abs**2 / (1 + r_abs**2))),
            domain={r_abs: (0, sp.Rational(9, 10))},
        ),
    ]
    # ---- the optimal ridge: E_gen as a function of κ (constant diag R: m = τ), and its κ-derivative
    from derivations.symbols import alpha as al
    from derivations.symbols import df2d as df2s
    from derivations.symbols import kappa as ka
    from derivations.symbols import m as m_s
    from derivations.symbols import m_p as m_ps
    from derivations.symbols import mean_term as gs
    from derivations.symbols import tau as ta
    from derivations.symbols import tau_p as tap

    tg, kp = get("train_gen").results, get("kappa").results
    T = sp.Function("T")(ka)
    e_k = tg["e_gen"].expr.subs({gs: tg["gen_term"].expr.subs({m_s: T, m_ps: sp.diff(T, ka)}),
                                 df2s: kp["df2_over_d"].expr.subs({ta: T, tap: sp.diff(T, ka)})})
    tpp = sp.Symbol("tau_pp")
    de_k = sp.diff(e_k, ka).subs(sp.Derivative(T, (ka, 2)), tpp).subs(sp.Derivative(T, ka), tap).subs(T, ta)
    e_k = e_k.subs(sp.Derivative(T, ka), tap).subs(T, ta)
    iso_tau = 1 / (1 + ka)
    de_iso = de_k.subs({tpp: sp.diff(iso_tau, ka, 2), tap: sp.diff(iso_tau, ka), ta: iso_tau})

    # ---- PCA as a masked predictor: probabilistic PCA covariance C, P = C^{-1}
    P3 = sp.Matrix(3, 3, lambda i, j: sp.Symbol(f"P{min(i, j) + 1}{max(i, j) + 1}", real=True))
    S3 = sp.Matrix(3, 3, lambda i, j: sp.Symbol(f"Sg{min(i, j) + 1}{max(i, j) + 1}", real=True))
    resid = P3[:, 0] / P3[0, 0]  # residual coefficients of the conditional-mean predictor of x_1
    a0 = ((1 + r_abs**2) * phi - (2 * r_abs / sp.pi) * sp.sin(sp.pi * phi)) / (1 - r_abs**2)
    e_ppca = 1 / (a0 + (1 - phi) ** 2 / e_pca)
    A1, B1 = sp.symbols("A B", positive=True)
    sg2 = sp.Symbol("s2", positive=True)
    # ---- Ledoit–Péché weights
    s_x, g_ = sp.Symbol("s", positive=True), 1 / al
    sq = sp.Symbol("sqrtD", positive=True)  # √(4γs − (s − 1 + γ)²) on the support
    m_sq = (-(s_x - 1 + g_) + sp.I * sq) / (2 * g_ * s_x)
    m_re, m_im = sp.symbols("m_re m_im", real=True)
    lp = s_x / ((1 - g_ - g_ * s_x * m_re) ** 2 + (g_ * s_x * m_im) ** 2)
    steps += [
        Step(
            "optimal-ridge-isotropic",
            "Σ = I: dE_gen/dκ = −2/(α(1+κ)³)/(1 − 1/(α(1+κ)²))² < 0, so E_gen decreases in λ: λ* = ∞ and "
            "E_gen(λ*) = 1, the population floor (nothing to predict).",
            de_iso,
            -2 / (al * (1 + ka) ** 3) / (1 - 1 / (al * (1 + ka) ** 2)) ** 2,
            domain={al: (sp.Rational(6, 5), 8), ka: (sp.Rational(1, 20), 5)},
        ),
        Step(
            "optimal-ridge-condition",
            "dE_gen/dλ = (dE_gen/dκ)(dκ/dλ) with dκ/dλ > 0 (derivation kappa): λ* is where dE_gen/dκ = 0, then "
            "λ* = κ*(1 − df1/n). The exported dE/dκ is the derivative of E_gen(κ) written through τ, τ', τ''.",
            de_k.subs({tpp: sp.diff(iso_tau, ka, 2), tap: sp.diff(iso_tau, ka), ta: iso_tau}),
            sp.diff(e_k.subs({tap: sp.diff(iso_tau, ka), ta: iso_tau}), ka),
            domain={al: (sp.Rational(6, 5), 8), ka: (sp.Rational(1, 20), 5)},
        ),
        Step(
            "masked-predictor-residual",
            "Predicting x_1 by its conditional mean under a covariance C (P = C^{-1}) leaves the residual rᵀx with "
            "r = Pe₁/P₁₁ (Schur complement, derivation ssr_closed_form with λ = 0): r₁ = 1 and "
            "E(rᵀx)² = [PΣP]₁₁/P₁₁² under the true Σ.",
            sp.Matrix([resid[0], (resid.T * S3 * resid)[0]]),
            sp.Matrix([1, (P3 * S3 * P3)[0, 0] / P3[0, 0] ** 2]),
            domain={**{v: ((3, 5) if v.name[1] == v.name[2] else (-1, 1)) for v in P3.free_symbols},
                    **{v: ((3, 5) if v.name[2] == v.name[3] else (-1, 1)) for v in S3.free_symbols}},
        ),
        Step(
            "ppca-a0",
            "A₀ = (1/π)∫₀^{πφ} dω/f(ω) = ((1+ρ²)φ − (2ρ/π) sin πφ)/(1 − ρ²) (ρ ≥ 0).",
            sp.integrate((1 - 2 * r_abs * sp.cos(omega) + r_abs**2) / (1 - r_abs**2), (omega, 0, sp.pi * phi)) / sp.pi,
            a0,
            domain={r_abs: (0, sp.Rational(9, 10)), phi: (0, 1)},
        ),
        Step(
            "ppca-closed-form",
            "Population PPCA with k = φd keeps f on the top set and replaces the rest by its mean σ² = E_pca/(1−φ): "
            "P_jj → A₀ + (1−φ)/σ² and [PΣP]_jj → A₀ + (1−φ)σ²/σ⁴, the same number B = A₀ + (1−φ)/σ², so the masked "
            "error is B/B² = 1/(A₀ + (1−φ)²/E_pca).",
            ((A1 + (1 - phi) * sg2 / sg2**2) / (A1 + (1 - phi) / sg2) ** 2).subs(sg2, B1 / (1 - phi)),
            1 / (A1 + (1 - phi) ** 2 / B1),
            domain={A1: (sp.Rational(1, 10), 3), B1: (sp.Rational(1, 10), 1), phi: (sp.Rational(1, 10), sp.Rational(9, 10))},
        ),
        Step(
            "ppca-quadrature",
            "The closed form equals the quadratures (1/π)∫f/g² over (1/π)∫1/g squared, g = f on the top set and σ² elsewhere.",
            0,
            0,
            symbolic=False,
            numeric=_numeric_ppca(e_ppca),
            domain={r_abs: (sp.Rational(1, 20), sp.Rational(9, 10)), phi: (sp.Rational(1, 20), sp.Rational(19, 20))},
        ),
        Step(
            "ppca-ends",
            "φ = 0: C = σ²I and the masked error is 1; φ → 1: C = Σ and it is the floor (1−ρ²)/(1+ρ²).",
            sp.Matrix([e_ppca.subs(phi, 0), sp.limit(1 / (a0 + (1 - phi) ** 2 / c_pos), phi, 1)]),
            sp.Matrix([1, (1 - r_abs**2) / (1 + r_abs**2)]),
            domain={r_abs: (0, sp.Rational(9, 10)), c_pos: (sp.Rational(1, 10), 2)},
        ),
        Step(
            "ledoit-peche-isotropic",
            "Ledoit–Péché: u(s)ᵀΣu(s) → s/|1 − γ − γ s m_F(s + i0)|². For Σ = I, where uᵀΣu = 1 for every unit u: "
            "on the support m_F = (−(s − 1 + γ) + i√D)/(2γs) with D = 4γs − (s − 1 + γ)² > 0, so "
            "1 − γ − γsm_F = (1 − γ + s)/2 − i√D/2 and |·|² = ((1 − γ + s)² + D)/4 = s: the weight is 1.",
            sp.Matrix([
                sp.expand((1 - g_ - g_ * s_x * m_sq) - ((1 - g_ + s_x) / 2 - sp.I * sq / 2)),
                ((1 - g_ + s_x) ** 2 + (4 * g_ * s_x - (s_x - 1 + g_) ** 2)) / 4,
            ]),
            sp.Matrix([0, s_x]),
            cite="Ledoit & Péché (2011), Thm 4",
            domain={al: (sp.Rational(6, 5), 8), s_x: (sp.Rational(7, 10), sp.Rational(13, 10)), sq: (sp.Rational(1, 10), 2)},
            numeric=_numeric_lp_iso(lp),
        ),
    ]
    results = {
        "e_gen_kappa": Result(e_k, (ka, al, ta, tap), "E_gen(κ), constant diag R"),
        "e_gen_kappa_p": Result(de_k, (ka, al, ta, tap, tpp), "dE_gen/dκ"),
        # A₀ enters the library through e_ppca_ar1; kept as the closed form of (1/π)∫₀^{πφ} dω/f (step ppca-a0)
        "ppca_a0": Result(a0, (phi, r_abs), "A₀", reference_only=True),
        "e_ppca_ar1": Result(e_ppca, (phi, r_abs), "PPCA masked error, AR(1), population, d = ∞"),
        # the library's population error for Σ = I must agree with this closed form
        "e_pca_iso": Result(1 - phi, (phi,), "population PCA error, Σ = I, d = ∞", reference_only=True),
        "lp_weight": Result(lp, (s_x, al, m_re, m_im), "Ledoit–Péché u(s)ᵀΣu(s)"),
        "e_pca_ar1": Result(e_pca, (phi, r_abs), "E_pca(φ) for AR(1), population PCA, d = ∞"),
        "f_star": Result(f_star, (E, r_abs), "crossover fraction for an SSR error E"),
        "f_star_population_limit": Result(f_star_inf, (r_abs,), "crossover at α = ∞, λ → 0"),
    }
    domain = {rho: (-sp.Rational(9, 10), sp.Rational(9, 10)), omega: (-3, 3), phi: (0, 1), r_abs: (0, sp.Rational(9, 10)),
              E: (sp.Rational(1, 50), sp.Rational(49, 50))}
    return Derivation(
        name="pca",
        title="Population PCA for AR(1) at d = ∞ and the SSR–PCA crossover",
        summary=__doc__,
        steps=steps,
        results=results,
        domain=domain,
        references=("Grenander & Szegő (1958)",),
    )


def _numeric_ppca(e_ppca):
    def check(point, ctx):
        r = ctx.mpf(point[r_abs].numerator) / point[r_abs].denominator
        p = ctx.mpf(point[phi].numerator) / point[phi].denominator
        f = lambda w: (1 - r**2) / (1 - 2 * r * ctx.cos(w) + r**2)  # noqa: E731
        rest = ctx.quad(f, [ctx.pi * p, ctx.pi]) / ctx.pi
        s2 = rest / (1 - p)
        inv_g = ctx.quad(lambda w: 1 / f(w), [0, ctx.pi * p]) / ctx.pi + (1 - p) / s2
        f_g2 = ctx.quad(lambda w: 1 / f(w), [0, ctx.pi * p]) / ctx.pi + ctx.quad(f, [ctx.pi * p, ctx.pi]) / ctx.pi / s2**2
        subs = {r_abs: sp.Rational(point[r_abs].numerator, point[r_abs].denominator),
                phi: sp.Rational(point[phi].numerator, point[phi].denominator)}
        return f_g2 / inv_g**2, ctx.mpf(str(sp.N(e_ppca.subs(subs), 70)))

    return check


def _numeric_lp_iso(lp):
    def check(point, ctx):
        from derivations.symbols import alpha as al

        a = ctx.mpf(point[al].numerator) / point[al].denominator
        g = 1 / a
        lo, hi = (1 - ctx.sqrt(g)) ** 2, (1 + ctx.sqrt(g)) ** 2
        u = ctx.mpf(point[sp.Symbol("s", positive=True)].numerator) / point[sp.Symbol("s", positive=True)].denominator
        x = lo + (hi - lo) * (u - ctx.mpf("0.7")) / ctx.mpf("0.6")  # a point inside the support
        m = (-(x - 1 + g) + 1j * ctx.sqrt(4 * g * x - (x - 1 + g) ** 2)) / (2 * g * x)
        w = x / ((1 - g - g * x * ctx.re(m)) ** 2 + (g * x * ctx.im(m)) ** 2)
        return w, 1

    return check


def _numeric_quadrature(f, e_pca):
    def check(point, ctx):
        r = ctx.mpf(point[r_abs].numerator) / point[r_abs].denominator
        p = ctx.mpf(point[phi].numerator) / point[phi].denominator
        quad = ctx.quad(lambda w: (1 - r**2) / (1 - 2 * r * ctx.cos(w) + r**2), [ctx.pi * p, ctx.pi]) / ctx.pi
        subs = {r_abs: sp.Rational(point[r_abs].numerator, point[r_abs].denominator),
                phi: sp.Rational(point[phi].numerator, point[phi].denominator)}
        return quad, ctx.mpf(str(sp.N(e_pca.subs(subs), 70)))

    return check


# ---- the independent side of the library checks (the library's verification package pairs them with
# the library's population PCA error and crossover): quadratures of the symbol, written out here


def reference_e_pca_quadrature(point):
    """E_pca(φ) as the mean of the smallest eigenvalues of the symbol, by quadrature over its tail."""
    ctx = mpmath.MPContext()
    ctx.dps = 65
    r = abs(ctx.mpf(point[rho].numerator) / point[rho].denominator)
    p = ctx.mpf(point[phi].numerator) / point[phi].denominator
    return ctx.quad(lambda w: (1 - r**2) / (1 - 2 * r * ctx.cos(w) + r**2), [ctx.pi * p, ctx.pi]) / ctx.pi


def reference_crossover(point, e_ssr):
    """φ* from a root solve of quadrature-based E_pca against the SSR error ``e_ssr``, at 65 digits.

    ``e_ssr`` (a number or a decimal string) is the library's d = ∞ E_gen: the check then tests the
    crossover root solve, not E_gen (which has checks of its own).
    """
    ctx = mpmath.MPContext()
    ctx.dps = 65
    e_ssr = ctx.mpf(e_ssr)
    r = abs(ctx.mpf(point[rho].numerator) / point[rho].denominator)

    def e_pca(p):
        return ctx.quad(lambda w: (1 - r**2) / (1 - 2 * r * ctx.cos(w) + r**2), [ctx.pi * p, ctx.pi]) / ctx.pi

    if e_ssr >= 1:
        return ctx.mpf(0)
    return ctx.findroot(lambda p: e_pca(p) - e_ssr, (ctx.mpf(0), ctx.mpf(1)), solver="anderson")
