"""Derivation 6 — spiked Σ = I + Σ_i θ_i v_i v_iᵀ with orthonormal v_i.

Assumptions. v_1, …, v_r orthonormal, θ_i ≥ 0, κ ≥ 0.

Steps. Σ + κI acts as 1 + κ + θ_i on v_i and as 1 + κ on their orthogonal
complement, so (Sherman–Morrison–Woodbury)

    R = (1/(1+κ)) [I − Σ_i θ_i/(1+κ+θ_i) v_i v_iᵀ],
    R_kk = (1 − s_k)/(1+κ),   s_k = Σ_i θ_i v_ik²/(1+κ+θ_i).

Since Σ_k v_ik² = 1, τ = (1/d) tr R is the same expression with v_ik² → 1/d.
A flat spike (v = 1/√d) leaves diag R constant; an e1 spike makes
R_11 = 1/(1+κ+θ) and every other R_kk = 1/(1+κ). The square root used by the
sampler is (I + θvvᵀ)^{1/2} = I + (√(1+θ) − 1) vvᵀ. For fixed r, d → ∞
leaves τ and every normalised trace at their isotropic values (O(r/d) change).
"""

import sympy as sp

from derivations.framework import Derivation, Result, Step
from derivations.kappa import independent_kappa
from derivations.symbols import alpha, kappa, lam, theta, w

th1, th2 = sp.symbols("theta1:3", nonnegative=True)
s_sum = sp.Symbol("s", nonnegative=True)  # s_k = Σ_i θ_i w_ik/(1+κ+θ_i)
s_sum_p = sp.Symbol("s_p", real=True)  # ds_k/dκ
dim = sp.Symbol("d", positive=True)
theta_sum = sp.Symbol("theta_sum", nonnegative=True)


def build() -> Derivation:
    term = theta * w / (1 + kappa + theta)
    diag = (1 - s_sum) / (1 + kappa)
    K = sp.Function("s")(kappa)
    diag_dk = sp.diff(diag.subs(s_sum, K), kappa).subs({sp.Derivative(K, kappa): s_sum_p}).subs(K, s_sum)
    sqrt_coeff = sp.sqrt(1 + theta) - 1

    # an exact orthonormal pair in R³ to check the Woodbury form as a matrix identity
    v1 = sp.Matrix([1, 2, 2]) / 3
    v2 = sp.Matrix([2, 1, -2]) / 3
    Sigma = sp.eye(3) + th1 * v1 * v1.T + th2 * v2 * v2.T
    R_formula = (sp.eye(3) - th1 / (1 + kappa + th1) * v1 * v1.T - th2 / (1 + kappa + th2) * v2 * v2.T) / (1 + kappa)
    vv = sp.Matrix([3, 4]) / 5  # a unit vector in R², for the square root

    steps = [
        Step(
            "woodbury",
            "(Σ + κI) · (1/(1+κ))[I − Σ_i θ_i/(1+κ+θ_i) v_i v_iᵀ] = I (exact, rank 2 in R³).",
            (Sigma + kappa * sp.eye(3)) * R_formula,
            sp.eye(3),
            domain={th1: (0, 20), th2: (0, 20), kappa: (0, 5)},
        ),
        Step(
            "diagonal",
            "R_kk = (1 − s_k)/(1+κ) with s_k = Σ_i θ_i v_ik²/(1+κ+θ_i) (entry (1,1) of the rank-2 example).",
            R_formula[0, 0],
            diag.subs(s_sum, term.subs({theta: th1, w: v1[0] ** 2}) + term.subs({theta: th2, w: v2[0] ** 2})),
            domain={th1: (0, 20), th2: (0, 20), kappa: (0, 5)},
        ),
        Step(
            "diagonal-derivative",
            "d/dκ R_kk = −s_k'/(1+κ) − (1 − s_k)/(1+κ)², with s_k' = Σ_i d/dκ[θ_i v_ik²/(1+κ+θ_i)].",
            sp.diff(R_formula[1, 1], kappa),
            diag_dk.subs(
                {
                    s_sum: term.subs({theta: th1, w: v1[1] ** 2}) + term.subs({theta: th2, w: v2[1] ** 2}),
                    s_sum_p: sp.diff(term, kappa).subs({theta: th1, w: v1[1] ** 2})
                    + sp.diff(term, kappa).subs({theta: th2, w: v2[1] ** 2}),
                }
            ),
            domain={th1: (0, 20), th2: (0, 20), kappa: (0, 5)},
        ),
        Step(
            "trace",
            "τ = (1/d) tr R is R_kk with v_ik² → 1/d, because Σ_k v_ik² = 1 (rank-2 example, d = 3).",
            R_formula.trace() / 3,
            diag.subs(s_sum, term.subs({theta: th1, w: sp.Rational(1, 3)}) + term.subs({theta: th2, w: sp.Rational(1, 3)})),
            domain={th1: (0, 20), th2: (0, 20), kappa: (0, 5)},
        ),
        Step(
            "flat-spike",
            "A flat spike, v_k² = 1/d for every k, gives the same R_kk for every k: diag R is constant.",
            diag.subs(s_sum, term.subs(w, 1 / dim)),
            (1 - theta / (dim * (1 + kappa + theta))) / (1 + kappa),
        ),
        Step(
            "e1-spike",
            "v = e1: R_11 = 1/(1+κ+θ) and R_kk = 1/(1+κ) for k > 1.",
            sp.Matrix([diag.subs(s_sum, term.subs(w, 1)), diag.subs(s_sum, term.subs(w, 0))]),
            sp.Matrix([1 / (1 + kappa + theta), 1 / (1 + kappa)]),
        ),
        Step(
            "square-root",
            "(I + (√(1+θ) − 1) vvᵀ)² = I + θvvᵀ for a unit v (exact, v = (3/5, 4/5)).",
            (sp.eye(2) + sqrt_coeff * vv * vv.T) ** 2,
            sp.eye(2) + theta * vv * vv.T,
        ),
        Step(
            "mean-eigenvalue",
            "tr Σ/d = 1 + Σ_i θ_i/d.",
            Sigma.trace() / 3,
            1 + (th1 + th2) / 3,
            domain={th1: (0, 20), th2: (0, 20)},
        ),
        Step(
            "large-d",
            "For fixed r, τ − 1/(1+κ) = −(1/d) Σ_i θ_i/((1+κ)(1+κ+θ_i)) → 0: the d = ∞ limit is isotropic.",
            diag.subs(s_sum, term.subs(w, 1 / dim)) - 1 / (1 + kappa),
            -theta / (dim * (1 + kappa) * (1 + kappa + theta)),
        ),
    ]
    results = {
        "diag_term": Result(term, (kappa, theta, w), "θ v_k²/(1+κ+θ)"),
        "diag_term_dk": Result(sp.diff(term, kappa), (kappa, theta, w), "d/dκ of diag_term"),
        "diag": Result(diag, (kappa, s_sum), "R_kk = (1 − s_k)/(1+κ)"),
        "diag_dk": Result(diag_dk, (kappa, s_sum, s_sum_p), "dR_kk/dκ"),
        "sqrt_coeff": Result(sqrt_coeff, (theta,), "√(1+θ) − 1"),
        "mean_sigma": Result(1 + theta_sum / dim, (theta_sum, dim), "tr Σ/d = 1 + Σθ_i/d"),
    }
    domain = {
        kappa: (0, 5),
        theta: (0, 20),
        w: (0, 1),
        dim: (2, 100),
        s_sum: (0, 1),
        s_sum_p: (-1, 1),
    }
    return Derivation(
        name="spiked",
        title="Spiked Σ = I + Σθ_i v_i v_iᵀ: resolvent diagonal by Woodbury, sampler square root",
        summary=__doc__,
        steps=steps,
        results=results,
        domain=domain,
        references=("Baik, Ben Arous & Péché (2005)",),
    )


# ---- the independent side of the library checks of E_gen at d = 6 (the library's verification
# package calls the library on the same spiked model): dense SymPy matrices and derivation kappa's
# independent root solve


def reference_e_gen_d6(point, spike):
    """E_gen at d = 6 for Σ = I + θvvᵀ, v flat (``spike='flat'``) or e1, by dense SymPy matrices."""
    dd = 6
    v = sp.ones(dd, 1) / sp.sqrt(dd) if spike == "flat" else sp.Matrix([1] + [0] * (dd - 1))
    th = sp.Rational(point[theta].numerator, point[theta].denominator)
    a = sp.Rational(point[alpha].numerator, point[alpha].denominator)
    lv = sp.Rational(point[lam].numerator, point[lam].denominator)
    Sig = sp.eye(dd) + th * v * v.T
    spectrum = [1 + th] + [1] * (dd - 1)
    k = independent_kappa([sp.Integer(1) * s for s in spectrum], a, lv, 60)
    Rm = (Sig + k * sp.eye(dd)).inv()
    SR = Sig * Rm
    df2 = (SR * SR).trace() / dd
    RSR = Rm * Sig * Rm
    g = sum(RSR[i, i] / Rm[i, i] ** 2 for i in range(dd)) / dd
    return (g / (1 - df2 / a)).evalf(70)
