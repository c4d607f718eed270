"""Derivation 9 — the spectrum of the SSR matrix Â = I − QD^{-1}.

Assumptions. λ > 0; R = (Σ + κI)^{-1}, Δ = diag(R) = diag(m_k);
D̄ = (κ/λ)Δ is the deterministic equivalent of D = diag(Q), and
max_k |D_kk − D̄_kk| → 0, so replacing D by D̄ moves every eigenvalue by o(1)
(Weyl): the limiting spectral law is that of I − D̄^{-1/2}QD̄^{-1/2}.

Input (cited). For deterministic B with Im B ≤ 0 (not necessarily commuting
with Σ), (S + B)^{-1} ≍ (B + Σ/(1+δ))^{-1} with
δ = (1/n) tr Σ(B + Σ/(1+δ))^{-1} (Silverstein–Bai; Couillet–Liao). With
B = λI it is derivation 2's equation (c = 1/(1+δ)).

Steps. Â is similar to I − D^{-1/2}QD^{-1/2}, whose eigenvalues are 1 − 1/s
with s ∈ spec M, M = D̄^{1/2}(S + λI)D̄^{1/2}. Since
(M − w)^{-1} = D̄^{-1/2}(S + λ − wD̄^{-1})^{-1}D̄^{-1/2}, with
B(w) = λI − (wλ/κ)Δ^{-1}:

    T(w) = (λ − (wλ/κ)Δ^{-1} + Σ/(1+δ))^{-1},   δ = (1/n) tr ΣT,
    g_M(w) = (1/d) tr (λ/κ)Δ^{-1} T(w),
    g_Â(z) = (1/(1−z)) (1 + w g_M(w)),   w = 1/(1 − z),

and the density of Â is (1/π) Im g_Â(x + i0). Im z > 0 gives Im w > 0.

Push-forward. If Δ = c₀I, T(w) is the equivalent of S's resolvent at
z_S = wλ/(κc₀) − λ, and Â's eigenvalues are φ(s) = 1 − λ/(κc₀(s + λ)) of
S's: its law is the push-forward of the generalised Marchenko–Pastur law of
S, with an atom of mass 1 − α at φ(0) = 1 − 1/(κc₀) when α < 1. For Σ = I
the law of S is Marchenko–Pastur, with density √((b−x)(x−a))/(2πγx) on
[a, b] = [(1−√γ)², (1+√γ)²], γ = 1/α.

Population types. When Σ is diagonal (or at d = ∞ with constant Δ), traces
are averages over types (σ, m): E[σT], E[T/m], with
T = 1/(λ − wλ/(κm) + σb), b = 1/(1+δ). With constant Δ and
κ' = (λ − wλ/(κc₀))/b, E[σT] = (1/b)(1 − κ'τ(κ')), E[T] = τ(κ')/b and
E[σ²T²] = (1/b²)(1 − 2κ'τ(κ') − κ'²τ'(κ')), with τ the base model's
(1/d) tr (Σ + κ')^{-1} continued to complex κ'.

Fixed point. The equation is solved as the residual F(δ) = δ − s_F E[σT] = 0
with s_F = (1+ε)/α (ε = 0 for the law; ε ≠ 0 is the verifier's deliberate
error δ = (1+ε)(1/n) tr ΣT), and Newton's method needs
∂F/∂δ = 1 − s_F E[σ²T²]/(1+δ)², since dT/dδ = σT²/(1+δ)².

Finite d, general Σ. B(w) = λI − (wλ/κ)Δ^{-1} + Σ/(1+δ) is a d × d matrix,
T = B^{-1}; by definition E[σT] = (1/d) tr ΣT and E[σ²T²] = (1/d) tr (ΣT)²
(the normalised traces; for diagonal Σ they are the type averages), and
g_M = (λ/κ)(1/d) tr Δ^{-1}T.

Bounds. λD̄ ≤ M ≤ D̄(‖S‖ + λ) with ‖S‖ ≤ σ_max(1 + √γ)² in the limit, so Â's
spectrum lies in [1 − 1/(κ m_min), 1 − 1/s_top] with
s_top = (κ/λ)m_max(σ_max(1 + √γ)² + λ) (s ↦ 1 − 1/s is increasing).

Sample covariance. With Δ = c₀I, T is S's resolvent equivalent at
z_S = wλ/(κc₀) − λ, so S's Stieltjes transform there is E[T], and
m_F = (κc₀/λ) g_M(w) at w = (κc₀/λ)(s + λ).

Edges. Outside the support δ(w) is real; an edge is a real w where the
fixed point F(δ, w) = δ − (1/α)E[σT] = 0 has a double root, ∂F/∂δ = 0.
"""

import sympy as sp

from derivations import get
from derivations.framework import Derivation, Result, Step
from derivations.symbols import alpha, kappa, lam, sigma, tau, tau_p, z

w = sp.Symbol("w")  # spectral variable of M
dl = sp.Symbol("delta")  # δ(w)
mm = sp.Symbol("m", positive=True)  # a diagonal entry of R
c0 = sp.Symbol("c0", positive=True)
s_eig = sp.Symbol("s", positive=True)
x_real = sp.Symbol("x", real=True)
y_pos = sp.Symbol("y", positive=True)
bb = sp.Symbol("b")  # b = 1/(1+δ)
kp = sp.Symbol("kappa_p")  # κ' = a/b
g_m = sp.Symbol("g_M")
mu = sp.Symbol("mu", real=True)
gamma = 1 / alpha
# the fixed point's residual and its Newton derivative take the averages as numbers
# (lower-case names: the printed code then reads δ − s_F·E[σT], in the library's order of operations)
es_sym = sp.Symbol("e_sigma_T")  # E[σT]
es2_sym = sp.Symbol("e_sigma2_T2")  # E[σ²T²]
s_F = sp.Symbol("s_F", positive=True)  # (1+ε)/α, the factor of E[σT] in the fixed point
p_eps = sp.Symbol("p", positive=True)  # 1 + ε (ε: the verifier's deliberate error; 1 for the law)
# finite d, general Σ: B(w) = λ − cΔ^{-1} + Σ/(1+δ) entrywise, c = wλ/κ, u = 1/m an entry of Δ^{-1}
c_B = sp.Symbol("c_B")
u_inv = sp.Symbol("u", positive=True)
B_d = sp.Symbol("B_d")  # the diagonal part λI − cΔ^{-1} (a matrix in the library)
Sig = sp.Symbol("Sigma")  # Σ (a matrix in the library)
tr_T = sp.Symbol("t_DT")  # tr Δ^{-1}T
d_sym = sp.Symbol("d", positive=True)
s_max = sp.Symbol("sigma_max", positive=True)  # an upper bound of Σ's spectrum
# λ under a plain identifier, for the results whose grouping fixes the order of operations: lambdify renames the
# keyword-named symbol Symbol("lambda"), which rebuilds (and regroups) the expression
lam_id = sp.Symbol("lam", positive=True)
_SPEC3 = sp.symbols("sigma1:4", positive=True)


def build() -> Derivation:
    # generic 3×3 objects for the matrix identities
    q = sp.symbols("q1:4", positive=True)
    D = sp.diag(*q)
    Dh = sp.diag(*[sp.sqrt(v) for v in q])
    Qg = sp.Matrix(3, 3, lambda i, j: sp.Symbol(f"Q{min(i, j) + 1}{max(i, j) + 1}", real=True))
    A = sp.eye(3) - Qg * D.inv()

    T_type = 1 / (lam - w * lam / (kappa * mm) + sigma * bb)
    phi = get("bbp").results["ssr_map"].expr  # φ(s) = 1 − λ/(κc₀(s+λ))
    s_sym, c0_sym = get("bbp").results["ssr_map"].args[0], get("bbp").results["ssr_map"].args[3]
    phi = phi.subs({s_sym: s_eig, c0_sym: c0})
    phi_inv = lam / (kappa * c0 * (1 - mu)) - lam
    mp_density = sp.sqrt(((1 + sp.sqrt(gamma)) ** 2 - x_real) * (x_real - (1 - sp.sqrt(gamma)) ** 2)) / (2 * sp.pi * gamma * x_real)
    g_A = (1 / (1 - z)) * (1 + w * g_m)
    g_A_w = w * (1 + w * g_m)
    z_of_w = 1 - 1 / w
    # the grouping below fixes the order of the operations of the lambdified code (the library's double-precision
    # tables depend on it to the last bit); each is checked against the plain expression in a step
    fixed_point = dl - s_F * es_sym
    fixed_point_d = 1 - s_F * es2_sym / (1 + dl) ** 2
    fp_scale = p_eps / alpha
    B_coefficient = w * lam / kappa
    B_diagonal = lam - c_B * u_inv
    B_matrix = B_d + Sig / (1 + dl)
    g_M_trace = sp.Mul(sp.Mul(sp.Mul(tr_T, lam_id, evaluate=False), sp.Pow(kappa, -1), evaluate=False), sp.Pow(d_sym, -1), evaluate=False)
    lower_bound = 1 - 1 / (kappa * mm)
    M_top = sp.Mul(
        sp.Mul(sp.Mul(kappa, sp.Pow(lam_id, -1), evaluate=False), mm, evaluate=False),
        sp.Add(sp.Mul(s_max, (1 + 1 / sp.sqrt(alpha)) ** 2, evaluate=False), lam_id, evaluate=False),
        evaluate=False,
    )
    m_F = sp.Mul(sp.Mul(g_m, sp.Mul(kappa, c0, evaluate=False), evaluate=False), sp.Pow(lam_id, -1), evaluate=False)

    # isotropic: T = 1/(a + b) with a = −z_S, δ = γT, m_S = T; MP quadratic in m_S
    m_S = sp.Symbol("m_S")
    zS = sp.Symbol("z_S")
    mp_fixed = m_S * (-zS + 1 / (1 + gamma * m_S)) - 1
    mp_quadratic = gamma * zS * m_S**2 + (zS - 1 + gamma) * m_S + 1

    steps = [
        Step(
            "similarity",
            "D^{-1/2} Â D^{1/2} = I − D^{-1/2}QD^{-1/2}: Â is similar to a symmetric matrix, its eigenvalues are real.",
            Dh.inv() * A * Dh,
            sp.eye(3) - Dh.inv() * Qg * Dh.inv(),
            domain={**{v: (1, 3) for v in q}, **{s: (-1, 1) for s in Qg.free_symbols}},
        ),
        Step(
            "M-resolvent",
            "(M − w)^{-1} = D̄^{-1/2}(S + λ − wD̄^{-1})^{-1}D̄^{-1/2} for M = D̄^{1/2}(S + λ)D̄^{1/2} "
            "(exact, generic symmetric S, d = 2).",
            lambda: _m_resolvent()[0],
            lambda: _m_resolvent()[1],
            simplifier=lambda e: sp.simplify(sp.cancel(sp.together(e))),
            domain={sp.Symbol("u1", positive=True): (1, 3), sp.Symbol("u2", positive=True): (1, 3), lam: (sp.Rational(1, 10), 2),
                    w: (-3, -1), sp.Symbol("S11", real=True): (3, 5), sp.Symbol("S22", real=True): (3, 5),
                    sp.Symbol("S12", real=True): (-1, 1)},
        ),
        Step(
            "lambda-recovers-kappa",
            "B = λI: the fixed point δ = (1/n) Σ σ/(λ + σ/(1+δ)) with c = 1/(1+δ) is derivation 2's c-form "
            "1/c − 1 = (1/n) Σ σ/(λ + cσ) (3-point spectrum).",
            (dl - (1 / sp.Symbol("n", positive=True)) * sum(sv / (lam + sv / (1 + dl)) for sv in _SPEC3)).subs(
                dl, 1 / sp.Symbol("c", positive=True) - 1),
            (1 / sp.Symbol("c", positive=True) - 1)
            - (1 / sp.Symbol("n", positive=True)) * sum(sv / (lam + sp.Symbol("c", positive=True) * sv) for sv in _SPEC3),
            domain={lam: (sp.Rational(1, 100), 3), sp.Symbol("n", positive=True): (2, 50),
                    sp.Symbol("c", positive=True): (sp.Rational(1, 10), 2),
                    **{sv: (sp.Rational(1, 10), 10) for sv in sp.symbols("sigma1:4", positive=True)}},
        ),
        Step(
            "stieltjes-map",
            "For an eigenvalue s of M, 1/((1 − 1/s) − z) = (1/(1−z))(1 + w/(s − w)) with w = 1/(1 − z): "
            "averaging gives g_Â(z) = (1/(1−z))(1 + w g_M(w)).",
            1 / ((1 - 1 / s_eig) - z),
            ((1 / (1 - z)) * (1 + w / (s_eig - w))).subs(w, 1 / (1 - z)),
        ),
        Step(
            "upper-half-plane",
            "Im w = Im z / |1 − z|² for z = x + iy: the map keeps the upper half-plane (Stieltjes branch Im g > 0).",
            sp.im(1 / (1 - (x_real + sp.I * y_pos))),
            y_pos / ((1 - x_real) ** 2 + y_pos**2),
        ),
        Step(
            "M-trace",
            "g_M = (1/d) tr D̄^{-1/2}·D̄^{-1/2}T = (1/d) tr (λ/κ)Δ^{-1}T, per type (λ/(κm)) T.",
            (1 / ((kappa / lam) * mm)) * T_type,
            (lam / (kappa * mm)) * T_type,
        ),
        Step(
            "pushforward",
            "Δ = c₀I: the eigenvalue s of M is (κc₀/λ)(σ_S + λ) for an eigenvalue σ_S of S, and "
            "1 − 1/s = φ(σ_S).",
            1 - 1 / ((kappa * c0 / lam) * (s_eig + lam)),
            phi,
        ),
        Step(
            "pushforward-T",
            "With Δ = c₀I, T = 1/(λ − wλ/(κc₀) + σb) is S's equivalent 1/(−z_S + σb) at z_S = wλ/(κc₀) − λ.",
            T_type.subs(mm, c0),
            1 / (-(w * lam / (kappa * c0) - lam) + sigma * bb),
        ),
        Step(
            "pushforward-inverse",
            "φ^{-1}(μ) = λ/(κc₀(1 − μ)) − λ, so ρ_Â(μ) = ρ_S(φ^{-1}(μ)) |dφ^{-1}/dμ|.",
            phi.subs(s_eig, phi_inv),
            mu,
        ),
        Step(
            "atom",
            "α < 1: S has (1 − α)d zero eigenvalues; with Δ = c₀I they sit at φ(0) = 1 − 1/(κc₀).",
            phi.subs(s_eig, 0),
            1 - 1 / (kappa * c0),
        ),
        Step(
            "mp-quadratic",
            "Σ = I: m_S = T = 1/(−z_S + 1/(1 + γm_S)) (δ = γT) is the Marchenko–Pastur quadratic "
            "γz m² + (z − 1 + γ)m + 1 = 0 (times −(1 + γm)).",
            sp.expand(mp_fixed * (1 + gamma * m_S)),
            -mp_quadratic,
        ),
        Step(
            "mp-density",
            "Its physical root has Im m(x + i0) = √(4γx − (x − 1 + γ)²)/(2γx), and 4γx − (x − 1 + γ)² = (b − x)(x − a).",
            4 * gamma * x_real - (x_real - 1 + gamma) ** 2,
            ((1 + sp.sqrt(gamma)) ** 2 - x_real) * (x_real - (1 - sp.sqrt(gamma)) ** 2),
        ),
        Step(
            "types-constant-diagonal",
            "Constant Δ: E[σT] = (1/b)(1 − κ'τ(κ')) and E[σ²T²] = (1/b²)(1 − 2κ'τ − κ'²τ') with κ' = a/b "
            "(one eigenvalue σ; τ → 1/(σ+κ'), τ' → −1/(σ+κ')²).",
            sp.Matrix([sigma / (kp * bb + sigma * bb), sigma**2 / (kp * bb + sigma * bb) ** 2]),
            sp.Matrix(
                [
                    (1 / bb) * (1 - kp * tau),
                    (1 / bb**2) * (1 - 2 * kp * tau - kp**2 * tau_p),
                ]
            ).subs({tau: 1 / (sigma + kp), tau_p: -1 / (sigma + kp) ** 2}),
        ),
        Step(
            "fixed-point-derivative",
            "dT/dδ = σT²/(1+δ)², so ∂F/∂δ = 1 − (1/α) E[σ²T²]/(1+δ)² for F = δ − (1/α)E[σT].",
            sp.diff(T_type.subs(bb, 1 / (1 + dl)), dl),
            sigma * T_type.subs(bb, 1 / (1 + dl)) ** 2 / (1 + dl) ** 2,
        ),
        Step(
            "fixed-point-residual",
            "The fixed point δ = (1+ε)(1/n) tr ΣT = (1+ε)(1/α)E[σT] as a residual: F = δ − s_F E[σT] with "
            "s_F = (1+ε)/α; for one type (E[σT] = σT) it is δ − (1+ε)σ/(α(λ − wλ/(κm) + σ/(1+δ))).",
            fixed_point.subs(s_F, fp_scale.subs(p_eps, 1 + sp.Symbol("epsilon"))).subs(es_sym, sigma * T_type.subs(bb, 1 / (1 + dl))),
            dl - (1 + sp.Symbol("epsilon")) * sigma / (alpha * (lam - w * lam / (kappa * mm) + sigma / (1 + dl))),
            domain={**_DOMAIN, sp.Symbol("epsilon"): (-sp.Rational(1, 2), sp.Rational(1, 2))},
        ),
        Step(
            "fixed-point-newton",
            "∂F/∂δ of the residual, with E[σT] = σT(δ) (one type), is 1 − s_F E[σ²T²]/(1+δ)² with E[σ²T²] = σ²T²: "
            "the derivative Newton's method uses.",
            sp.diff(fixed_point.subs(es_sym, sigma * T_type.subs(bb, 1 / (1 + dl))), dl),
            fixed_point_d.subs(es2_sym, (sigma * T_type.subs(bb, 1 / (1 + dl))) ** 2),
        ),
        Step(
            "dense-B",
            "Finite d, general Σ: B(w) = λI − (wλ/κ)Δ^{-1} + Σ/(1+δ) has diagonal part λ − c u with c = wλ/κ and "
            "u = 1/m_k; for one type its inverse is T = 1/(λ − wλ/(κm) + σb), b = 1/(1+δ).",
            1 / B_matrix.subs({B_d: B_diagonal.subs(c_B, B_coefficient), Sig: sigma}).subs(u_inv, 1 / mm),
            T_type.subs(bb, 1 / (1 + dl)),
        ),
        Step(
            "dense-g-M",
            "g_M = (λ/κ)(1/d) tr Δ^{-1}T: for diagonal Σ (three types of weight 1/3) it is the type average "
            "E[(λ/(κm))T] (E[σT] = (1/d) tr ΣT and E[σ²T²] = (1/d) tr (ΣT)² are the normalised traces by definition).",
            g_M_trace.subs(lam_id, lam).subs({tr_T: sum(sp.Symbol(f"T{k}") / sp.Symbol(f"m{k}", positive=True) for k in range(1, 4)),
                                              d_sym: 3}),
            sum(sp.Rational(1, 3) * (lam / (kappa * sp.Symbol(f"m{k}", positive=True))) * sp.Symbol(f"T{k}") for k in range(1, 4)),
            domain={lam: (sp.Rational(1, 100), 3), kappa: (sp.Rational(1, 20), 5), **{sp.Symbol(f"T{k}"): (-2, 2) for k in range(1, 4)},
                    **{sp.Symbol(f"m{k}", positive=True): (sp.Rational(1, 10), 2) for k in range(1, 4)}},
        ),
        Step(
            "stieltjes-map-w",
            "Since 1/(1 − z) = w, g_Â = (1/(1−z))(1 + w g_M) = w(1 + w g_M): Â's Stieltjes transform from w alone.",
            g_A.subs(w, 1 / (1 - z)),
            g_A_w.subs(w, 1 / (1 - z)),
        ),
        Step(
            "eigenvalue-map",
            "s ↦ 1 − 1/s (Â's eigenvalue of M's eigenvalue s) inverts z ↦ w = 1/(1 − z).",
            (1 / (1 - z_of_w)).subs(w, s_eig),
            s_eig,
        ),
        Step(
            "range-lower",
            "λD̄ ≤ M: every eigenvalue of M is ≥ λ(κ/λ)m_min = κm_min, and s ↦ 1 − 1/s is increasing, so Â's "
            "spectrum lies above 1 − 1/(κm_min).",
            z_of_w.subs(w, lam * (kappa / lam) * mm),
            lower_bound,
        ),
        Step(
            "range-upper",
            "M ≤ D̄(‖S‖ + λ) and ‖S‖ ≤ σ_max(1 + √γ)² (Marchenko–Pastur's top edge (1 + √γ)² scaled by the top of Σ), "
            "so M's spectrum lies below s_top = (κ/λ)m_max(σ_max(1 + 1/√α)² + λ).",
            (kappa / lam) * mm * (s_max * (1 + sp.sqrt(gamma)) ** 2 + lam),
            M_top.subs(lam_id, lam),
        ),
        Step(
            "below-one",
            "1 − z = 1/w for z = 1 − 1/w: with w = s > 0 (M ≻ 0 for λ > 0) every eigenvalue of Â is < 1, so Â's density is 0 "
            "on [1, ∞) (z = 1 is the pole of w = 1/(1 − z), never a point of the spectrum).",
            1 - z_of_w,
            1 / w,
        ),
        Step(
            "hard-edge-alpha-one",
            "At α = 1 (γ = 1) S's law has the hard edge s = 0 (Marchenko–Pastur's (1 − √γ)² = 0); with Δ = c₀I its image "
            "under φ is φ(0) = 1 − 1/(κc₀), the atom location (here of mass (1 − α)⁺ = 0): the lower edge of Â's support "
            "is this point, not a double root of F.",
            sp.Matrix([phi.subs(s_eig, 0), ((1 - sp.sqrt(gamma)) ** 2).subs(gamma, 1)]),
            sp.Matrix([1 - 1 / (kappa * c0), 0]),
        ),
        Step(
            "sample-stieltjes",
            "Δ = c₀I: at w = (κc₀/λ)(s + λ), z_S = wλ/(κc₀) − λ = s, and g_M = (λ/(κc₀))E[T] with E[T] S's Stieltjes "
            "transform at z_S (pushforward-T), so m_F = (κc₀/λ) g_M.",
            sp.Matrix([(w * lam / (kappa * c0) - lam).subs(w, (kappa * c0 / lam) * (s_eig + lam)),
                       m_F.subs(lam_id, lam).subs(g_m, (lam / (kappa * c0)) * tau)]),
            sp.Matrix([s_eig, tau]),
        ),
    ]
    results = {
        "fixed_point": Result(fixed_point, (dl, es_sym, s_F), "F(δ) = δ − s_F E[σT]"),
        "fixed_point_d": Result(fixed_point_d, (dl, es2_sym, s_F), "∂F/∂δ = 1 − s_F E[σ²T²]/(1+δ)²"),
        "fixed_point_scale": Result(fp_scale, (p_eps, alpha), "s_F = (1+ε)/α with p = 1 + ε"),
        "B_coefficient": Result(B_coefficient, (w, lam, kappa), "c = wλ/κ, the coefficient of Δ^{-1} in B(w)"),
        "B_diagonal": Result(B_diagonal, (c_B, u_inv, lam), "λ − c u, the diagonal part of B(w) (u = 1/m)"),
        "B_matrix": Result(B_matrix, (B_d, Sig, dl), "B(w) = (λI − cΔ^{-1}) + Σ/(1+δ)"),
        "g_M_trace": Result(g_M_trace, (tr_T, lam_id, kappa, d_sym), "g_M = (λ/κ)(1/d) tr Δ^{-1}T"),
        "g_A_w": Result(g_A_w, (w, g_m), "g_Â = w(1 + w g_M(w))"),
        "z_of_w": Result(z_of_w, (w,), "Â's eigenvalue 1 − 1/s of M's eigenvalue s = w"),
        "lower_bound": Result(lower_bound, (kappa, mm), "1 − 1/(κ m_min): Â's spectrum lies above"),
        "M_top": Result(M_top, (kappa, lam_id, mm, s_max, alpha), "s_top = (κ/λ)m_max(σ_max(1 + 1/√α)² + λ): M's spectrum lies below"),
        "m_F": Result(m_F, (g_m, lam_id, kappa, c0), "m_F = (κc₀/λ) g_M: S's Stieltjes transform at s (w = (κc₀/λ)(s + λ))"),
        "T_type": Result(T_type, (w, bb, sigma, mm, lam, kappa), "T = 1/(λ − wλ/(κm) + σb)"),
        "gM_weight": Result(lam / (kappa * mm), (mm, lam, kappa), "λ/(κm): weight of T in g_M"),
        "g_A": Result(g_A, (z, w, g_m), "g_Â(z) = (1/(1−z))(1 + w g_M(w))"),
        "w_of_z": Result(1 / (1 - z), (z,), "w = 1/(1 − z)"),
        "kappa_prime": Result((lam - w * lam / (kappa * c0)) / bb, (w, bb, lam, kappa, c0), "κ' = a/b"),
        "E_sigma_T": Result((1 / bb) * (1 - kp * tau), (bb, kp, tau), "E[σT], constant Δ"),
        "E_sigma2_T2": Result((1 / bb**2) * (1 - 2 * kp * tau - kp**2 * tau_p), (bb, kp, tau, tau_p), "E[σ²T²], constant Δ"),
        "E_T": Result(tau / bb, (bb, tau), "E[T], constant Δ"),
        "pushforward": Result(phi, (s_eig, lam, kappa, c0), "φ(s)"),
        "pushforward_inverse": Result(phi_inv, (mu, lam, kappa, c0), "φ^{-1}(μ)"),
        "atom_location": Result(1 - 1 / (kappa * c0), (kappa, c0), "φ(0)"),
        # the library's spectral law for Σ = I must agree with the Marchenko–Pastur law (pushed forward)
        "mp_density": Result(mp_density, (x_real, alpha), "Marchenko–Pastur density", reference_only=True),
    }
    domain = dict(_DOMAIN)
    return Derivation(
        name="spectrum",
        title="The spectrum of Â: self-consistent resolvent equation, push-forward, Marchenko–Pastur",
        summary=__doc__,
        steps=steps,
        results=results,
        domain=domain,
        references=("Marchenko & Pastur (1967)", "Silverstein & Bai (1995)", "Silverstein & Choi (1995)", "Couillet & Liao (2022)"),
    )


#: where the steps are checked (random rational points)
_DOMAIN = {
    alpha: (sp.Rational(1, 5), 8),
    lam: (sp.Rational(1, 100), 3),
    kappa: (sp.Rational(1, 20), 5),
    sigma: (sp.Rational(1, 10), 10),
    mm: (sp.Rational(1, 10), 2),
    c0: (sp.Rational(1, 10), 2),
    s_eig: (sp.Rational(1, 10), 10),
    z: (2, 5),
    w: (-3, -1),
    dl: (sp.Rational(1, 10), 2),
    bb: (sp.Rational(1, 10), 2),
    kp: (sp.Rational(1, 10), 5),
    x_real: (sp.Rational(1, 10), 3),
    y_pos: (sp.Rational(1, 10), 3),
    mu: (-2, sp.Rational(9, 10)),
    g_m: (-2, 2),
    tau: (sp.Rational(1, 10), 2),
    tau_p: (-2, -sp.Rational(1, 10)),
    sp.Symbol("m_S"): (-2, -sp.Rational(1, 10)),
    sp.Symbol("z_S"): (-3, -1),
    es_sym: (-2, 2),
    es2_sym: (-2, 2),
    s_F: (sp.Rational(1, 10), 5),
    p_eps: (sp.Rational(1, 2), sp.Rational(3, 2)),
    c_B: (-3, 3),
    u_inv: (sp.Rational(1, 2), 10),
    B_d: (-3, 3),
    Sig: (sp.Rational(1, 10), 10),
    tr_T: (-5, 5),
    d_sym: (2, 100),
    s_max: (1, 10),
    lam_id: (sp.Rational(1, 100), 3),
}


def _m_resolvent():
    u1, u2 = sp.symbols("u1 u2", positive=True)
    S11, S22 = sp.symbols("S11 S22", real=True)
    S12 = sp.Symbol("S12", real=True)
    S = sp.Matrix([[S11, S12], [S12, S22]])
    Dh = sp.diag(sp.sqrt(u1), sp.sqrt(u2))
    Dbar = sp.diag(u1, u2)
    M = Dh * (S + lam * sp.eye(2)) * Dh
    lhs = (M - w * sp.eye(2)).inv()
    rhs = Dh.inv() * (S + lam * sp.eye(2) - w * Dbar.inv()).inv() * Dh.inv()
    return lhs, rhs


# ---- the independent side of the library checks (the library's verification package pairs them with
# the library's spectral law of Â for Σ = I): the Marchenko–Pastur law pushed forward through φ

#: where a library check evaluates the density: the fraction of the way into the support
u_frac = sp.Symbol("u")


def reference_pushforward_density(point, x):
    """Push-forward of the Marchenko–Pastur density through φ, at the point ``x`` (an mpmath number) of Â's support."""
    subs = {alpha: sp.Rational(point[alpha].numerator, point[alpha].denominator),
            lam: sp.Rational(point[lam].numerator, point[lam].denominator)}
    kap = get("isotropic").results["kappa"].expr.subs(subs)
    c0v = 1 / (1 + kap)
    xv = sp.Float(str(x), 70)
    s_val = (lam / (kappa * c0 * (1 - mu)) - lam).subs({mu: xv, kappa: kap, c0: c0v}).subs(subs)
    jac = sp.Abs(sp.diff(lam / (kappa * c0 * (1 - mu)) - lam, mu)).subs({mu: xv, kappa: kap, c0: c0v}).subs(subs)
    dens = sp.sqrt(((1 + sp.sqrt(1 / subs[alpha])) ** 2 - s_val) * (s_val - (1 - sp.sqrt(1 / subs[alpha])) ** 2)) / (
        2 * sp.pi * s_val / subs[alpha])
    return (dens * jac).evalf(60)


def reference_edge(point, which):
    """The lower (``which='lo'``) or upper edge of Â's support: φ of the Marchenko–Pastur edge."""
    subs = {alpha: sp.Rational(point[alpha].numerator, point[alpha].denominator),
            lam: sp.Rational(point[lam].numerator, point[lam].denominator)}
    kap = get("isotropic").results["kappa"].expr.subs(subs)
    g = 1 / subs[alpha]
    s_edge = (1 - sp.sqrt(g)) ** 2 if which == "lo" else (1 + sp.sqrt(g)) ** 2
    return (1 - subs[lam] / ((kap / (1 + kap)) * (s_edge + subs[lam]))).evalf(60)
