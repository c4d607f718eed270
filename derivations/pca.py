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
    steps += _sample_steps()
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
        # sample PCA at any precision (module pca, SampleLawMP): the quadrature variable, the density, the two errors
        "sample_map": Result(SAMPLE_MAP, (t_q, a_e, b_e), "s(t) = a + (b − a)(1 − cos t)/2 on S's support [a, b]"),
        "sample_map_jac": Result(SAMPLE_JAC, (t_q, a_e, b_e), "ds/dt = ((b − a)/2) sin t"),
        "sample_density": Result(SAMPLE_DENSITY, (m_im,), "S's density (1/π) Im m_F(s + i0)"),
        "sample_pca_reconstruction": Result(SAMPLE_RECON, (W_s, x_s, atom_s), "sample PCA reconstruction error from W = ∫_top δ dF"),
        "sample_ppca_masked": Result(SAMPLE_PPCA, (phi, W_s, P1_s, P2_s, L_s), "sample PPCA masked error from its integrals"),
    }
    domain = {rho: (-sp.Rational(9, 10), sp.Rational(9, 10)), omega: (-3, 3), phi: (0, 1), r_abs: (0, sp.Rational(9, 10)),
              E: (sp.Rational(1, 50), sp.Rational(49, 50)), t_q: (0, 3), a_e: (sp.Rational(1, 100), 1), b_e: (2, 20),
              m_im: (0, 3), W_s: (0, 1), x_s: (0, sp.Rational(1, 2)), atom_s: (sp.Rational(1, 2), 1), P1_s: (1, 5), P2_s: (1, 5),
              L_s: (sp.Rational(1, 10), 1)}
    return Derivation(
        name="pca",
        title="Population PCA for AR(1) at d = ∞ and the SSR–PCA crossover",
        summary=__doc__,
        steps=steps,
        results=results,
        domain=domain,
        references=("Grenander & Szegő (1958)",),
    )


# ---- sample PCA at d = ∞ (Ledoit–Péché weights δ(s) = u(s)ᵀΣu(s)), the integrals the library computes at any precision.
#
# S's continuous part has density ρ on [a, b] with square-root edges. In t ∈ [0, π] with s = a + (b − a)(1 − cos t)/2,
# √((s − a)(b − s)) = ((b − a)/2) sin t and ds/dt = ((b − a)/2) sin t, so ρ(s) ds/dt is smooth in t (the edges'
# square roots become sin(t/2), cos(t/2)). The top fraction φ of S's eigenvalues is {s > s_c} with ∫_{s_c}^b ρ = φ.
#
# Reconstruction: the kept directions carry W = ∫_{s_c}^b δ ρ ds of tr Σ/d = 1. When α < 1 and φ exceeds the
# continuous mass α, x = φ − α of null directions of S are kept too; the null space (mass 1 − α) shares the weight
# 1 − W it carries equally (S is invariant under rotations of its null space), so the error is 1 − W − x(1 − W)/(1 − α).
#
# Masked (PPCA): C = Σ_kept s u uᵀ + σ²(I − Π), σ² = L/(1 − φ) the mean discarded eigenvalue (L = ∫_a^{s_c} s ρ ds,
# zeros included), P = C^{-1} = Σ_kept u uᵀ/s + (I − Π)/σ². With constant diagonals (AR(1), d = ∞) the masked error
# (1/d) Σ_j [PΣP]_jj/P_jj² is (tr PΣP/d)/(tr P/d)², with tr P/d = P1 + (1 − φ)/σ², P1 = ∫_top ρ/s, and
# tr PΣP/d = P2 + (1 − W)/σ⁴, P2 = ∫_top δ ρ/s² (no cross terms: Π and I − Π are orthogonal projectors).

t_q = sp.Symbol("t", real=True)
a_e, b_e = sp.Symbol("a", positive=True), sp.Symbol("b", positive=True)
m_im = sp.Symbol("m_im", real=True)  # the same symbol as lp_weight's argument
W_s, x_s, atom_s = sp.Symbol("W", nonnegative=True), sp.Symbol("x", nonnegative=True), sp.Symbol("atom", positive=True)
P1_s, P2_s, L_s = sp.Symbol("P1", positive=True), sp.Symbol("P2", positive=True), sp.Symbol("L", positive=True)
SAMPLE_MAP = a_e + (b_e - a_e) * (1 - sp.cos(t_q)) / 2
SAMPLE_JAC = (b_e - a_e) * sp.sin(t_q) / 2
SAMPLE_DENSITY = m_im / sp.pi
SAMPLE_RECON = 1 - W_s - x_s * (1 - W_s) / atom_s
_sig2 = L_s / (1 - phi)
SAMPLE_PPCA = (P2_s + (1 - W_s) / _sig2**2) / (P1_s + (1 - phi) / _sig2) ** 2


def _sqrt_expanded(e):
    """Expand every square root's radicand, then simplify (two radicands equal as polynomials become one)."""
    e = e.replace(lambda u: isinstance(u, sp.Pow) and u.exp == sp.Rational(1, 2), lambda u: sp.sqrt(sp.expand(u.base)))
    return sp.simplify(e)


def _sample_steps():
    from derivations.symbols import alpha as al

    g_ = 1 / al
    mp_density = get("spectrum").results["mp_density"]
    x_mp = mp_density.args[0]
    # Σ = I: Im m_F on the support is √(4γs − (s − 1 + γ)²)/(2γs) (step ledoit-peche-isotropic)
    im_m = sp.sqrt(4 * g_ * x_mp - (x_mp - 1 + g_) ** 2) / (2 * g_ * x_mp)
    # the PPCA traces on a 3 × 3 example: one kept direction u (exact unit vector), a general symmetric Σ
    u = sp.Matrix([1, 2, 2]) / 3
    S3 = sp.Matrix(3, 3, lambda i, j: sp.Symbol(f"Sg{min(i, j) + 1}{max(i, j) + 1}", real=True))
    s1, sg2 = sp.Symbol("s1", positive=True), sp.Symbol("sigma2", positive=True)
    Pi = u * u.T
    P = Pi / s1 + (sp.eye(3) - Pi) / sg2
    dlt = (u.T * S3 * u)[0]
    e_val = sp.Symbol("E_pca", positive=True)
    A0 = sp.Symbol("A0", positive=True)
    return [
        Step(
            "sample-map-jacobian",
            "s(t) = a + (b − a)(1 − cos t)/2 maps [0, π] onto [a, b] with ds/dt = ((b − a)/2) sin t.",
            sp.Matrix([sp.diff(SAMPLE_MAP, t_q), SAMPLE_MAP.subs(t_q, 0), SAMPLE_MAP.subs(t_q, sp.pi)]),
            sp.Matrix([SAMPLE_JAC, a_e, b_e]),
        ),
        Step(
            "sample-map-edges",
            "(s − a)(b − s) = (ds/dt)²: a density with square-root edges, times ds/dt, is smooth in t.",
            (SAMPLE_MAP - a_e) * (b_e - SAMPLE_MAP),
            SAMPLE_JAC**2,
        ),
        Step(
            "sample-density-mp",
            "Stieltjes inversion: the density is (1/π) Im m_F(s + i0); for Σ = I it is the Marchenko–Pastur density.",
            SAMPLE_DENSITY.subs(m_im, im_m),
            mp_density.expr,
            simplifier=_sqrt_expanded,
            domain={al: (sp.Rational(6, 5), 8), x_mp: (sp.Rational(7, 10), sp.Rational(13, 10))},
        ),
        Step(
            "sample-pca-reconstruction-ends",
            "Reconstruction: 1 − W with no null direction kept (x = 0), and 0 with the whole null space kept (x = 1 − α).",
            sp.Matrix([SAMPLE_RECON.subs(x_s, 0), SAMPLE_RECON.subs(x_s, atom_s)]),
            sp.Matrix([1 - W_s, 0]),
        ),
        Step(
            "sample-ppca-traces",
            "P = ΠS⁻¹Π + (I − Π)/σ²: tr PΣP = Σ_kept δ/s² + (tr Σ − Σ_kept δ)/σ⁴ and tr P = Σ_kept 1/s + (d − k)/σ² "
            "(3 × 3, one kept direction u with δ = uᵀΣu, general symmetric Σ).",
            sp.Matrix([(P * S3 * P).trace(), P.trace()]),
            sp.Matrix([dlt / s1**2 + (S3.trace() - dlt) / sg2**2, 1 / s1 + 2 / sg2]),
            domain={s1: (1, 5), sg2: (sp.Rational(1, 10), 1),
                    **{v: ((3, 5) if v.name[2] == v.name[3] else (-1, 1)) for v in S3.free_symbols}},
        ),
        Step(
            "sample-ppca-population",
            "With population weights (δ(s) = s: P1 = P2 = A₀, W = 1 − E_pca, L = E_pca) the sample formula is the "
            "population PPCA closed form 1/(A₀ + (1−φ)²/E_pca) (step ppca-closed-form).",
            SAMPLE_PPCA.subs({P1_s: A0, P2_s: A0, W_s: 1 - e_val, L_s: e_val}),
            1 / (A0 + (1 - phi) ** 2 / e_val),
            domain={A0: (sp.Rational(1, 10), 3), e_val: (sp.Rational(1, 10), 1), phi: (sp.Rational(1, 10), sp.Rational(9, 10))},
        ),
    ]


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
