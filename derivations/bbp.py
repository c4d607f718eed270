"""Derivation 7 — BBP outliers of the sample covariance S and of the SSR matrix Â.

Assumptions. Σ = Σ₀ + θvvᵀ with ‖v‖ = 1, θ ≥ 0; the base Σ₀ has population
law H with top t_max (isotropic: δ₁; AR(1): the law of the symbol f);
γ = d/n = 1/α. Either v is an eigenvector of Σ₀ with eigenvalue t₀ (isotropic
base, any v; AR(1) and a flat v, t₀ = f(0)), or v is generic (random) with
respect to Σ₀, so vᵀg(Σ₀)v → ∫g dH.

Inputs (cited). Silverstein's equivalent (S − z)^{-1} ≍ −(1/z)(I + m̃(z)Σ)^{-1},
m̃ the companion Stieltjes transform, and the Silverstein–Choi inverse map
z(m̃) = −1/m̃ + γ∫ t/(1 + tm̃) dH, increasing exactly outside the support;
at z = −λ it is the κ equation with m̃ = 1/κ (step ``inverse-map-is-kappa``).

S. By Sherman–Morrison, vᵀ(z − S)^{-1}v ≍ (1/z) q_v/(1 + θm̃q_v) with
q_v(m̃) = vᵀ(I + m̃Σ₀)^{-1}v (= 1/(1 + m̃t₀) for an eigenvector, = ∫dH/(1+m̃t)
for a generic v). Outliers above the bulk solve 1 + θm̃q_v(m̃) = 0 with m̃ in
(m̃_c, 0), where z'(m̃_c) = 0 marks the top edge; hence the threshold
θ_c = −1/(m̃_c q_v(m̃_c)), the location z(m̃) and, from the residue, the squared
overlap |⟨û, v⟩|² = q_v z'(m̃)/(z θ (m̃q_v)'(m̃)). For an eigenvector this is
Bai–Yao's ψ(ℓ) = z(−1/ℓ) with ℓ = t₀ + θ, threshold ψ'(ℓ_c) = 0 and overlap
ℓψ'(ℓ)/ψ(ℓ); for Σ₀ = I, θ_c = √γ = 1/√α.

Â, delocalised spike. diag R stays constant up to O(1/d), so D ≍ (κ/λ)c₀I and
Â's eigenvalues are φ(s) = 1 − λ/(κc₀(s + λ)) of S's, φ increasing: Â's outlier
is φ of S's, with the same threshold for every λ and the same eigenvector.

Â, spike on e1, isotropic base. Σ and D̄ are diagonal and the resolvent
equation of M = D̄^{1/2}(S+λ)D̄^{1/2} (derivation spectrum) gives a pole where
h(w) = λ − wλ(1+κ+θ)/κ + (1+θ)b(w) = 0, b = 1/(1+δ) from the bulk. At the top
edge w_e = (κ/(λ(1+κ)))((1+√γ)² + λ), b_e = 1 + √γ, and h(w_e) is linear in θ:

    θ_c = √γ(1+√γ) / ((1+√γ) − ((1+√γ)² + λ)/(1+κ)),

finite only when κ > √γ + λ/(1+√γ); otherwise no outlier separates for any θ.
Then θ_c > √γ: a localised spike needs a stronger signal, and λ moves the
threshold. The right eigenvector of Â is D^{1/2}u with u M's eigenvector,
|u₁|² = −1/(D̄₁₁ h'(w)).
"""

import mpmath
import sympy as sp

from derivations import get
from derivations.framework import Derivation, Result, Step
from derivations.symbols import alpha, ell, kappa, lam, rho, theta, z

mt = sp.Symbol("mt")  # m̃, the companion Stieltjes transform (negative above the bulk)
t_atom = sp.Symbol("t", positive=True)  # an atom of H
t0 = sp.Symbol("t0", positive=True)  # eigenvalue of Σ₀ along v
gamma = 1 / alpha
s_eig = sp.Symbol("s", nonnegative=True)
c0 = sp.Symbol("c0", positive=True)
w = sp.Symbol("w", positive=True)
bb = sp.Symbol("b", positive=True)
qv = sp.Symbol("q_v")
qv_p = sp.Symbol("q_v_p")
qh = sp.Symbol("q_H")
qh_p = sp.Symbol("q_H_p")
zp = sp.Symbol("z_p")
h_p = sp.Symbol("h_p")
u2 = sp.Symbol("u2", positive=True)
d11 = sp.Symbol("D11", positive=True)
db = sp.Symbol("Db", positive=True)
eps = sp.Symbol("epsilon", real=True)  # a deliberate error in the outlier equation (verifier self-test)


def build() -> Derivation:
    z_of_mt = -1 / mt + gamma * t_atom / (1 + t_atom * mt)  # one atom of H
    z_generic = -1 / mt + (gamma / mt) * (1 - qh)  # averaged, through q_H = ∫ dH/(1 + m̃t)
    z_generic_p = sp.diff(z_generic.subs(qh, sp.Function("Q")(mt)), mt).subs(sp.Derivative(sp.Function("Q")(mt), mt), qh_p).subs(
        sp.Function("Q")(mt), qh)
    psi_atom = sp.simplify(z_of_mt.subs(mt, -1 / ell))
    psi_iso = psi_atom.subs(t_atom, 1)
    psi_iso_p = sp.diff(psi_iso, ell)
    q_iso = 1 / (1 + mt)
    q_eigen = 1 / (1 + mt * t0)
    outlier_eq = 1 + (1 + eps) * theta * mt * qv
    theta_c_expr = -1 / (mt * qv)
    overlap_generic = qv * zp / (z * theta * (qv + mt * qv_p))
    iso = get("isotropic").results
    kappa_iso = iso["kappa"].expr

    # ---- e1 spike, isotropic base, SSR
    h = lam - w * lam * (1 + kappa + theta) / kappa + (1 + theta) * bb
    h_eps = lam - w * lam * (1 + kappa + (1 + eps) * theta) / kappa + (1 + (1 + eps) * theta) * bb
    w_edge = (kappa / (lam * (1 + kappa))) * ((1 + sp.sqrt(gamma)) ** 2 + lam)
    b_edge = 1 + sp.sqrt(gamma)
    theta_c_e1 = sp.sqrt(gamma) * (1 + sp.sqrt(gamma)) / ((1 + sp.sqrt(gamma)) - ((1 + sp.sqrt(gamma)) ** 2 + lam) / (1 + kappa))
    denom_e1 = (1 + sp.sqrt(gamma)) - ((1 + sp.sqrt(gamma)) ** 2 + lam) / (1 + kappa)
    m_plus = -1 / (sp.sqrt(gamma) * (1 + sp.sqrt(gamma)))  # MP Stieltjes at the right edge
    zS = sp.Symbol("z_S")
    mS = sp.Symbol("m_S")
    mp_quadratic = gamma * zS * mS**2 + (zS - 1 + gamma) * mS + 1

    phi = 1 - lam / (kappa * c0 * (s_eig + lam))

    steps = [
        Step(
            "inverse-map-is-kappa",
            "At m̃ = 1/κ the Silverstein–Choi map z(m̃) equals −λ exactly when κ − λ = (κ/n) tr ΣR: "
            "per atom, z(1/κ) = −κ + γκ t/(t + κ).",
            z_of_mt.subs(mt, 1 / kappa),
            -kappa + gamma * kappa * t_atom / (t_atom + kappa),
            cite="Silverstein & Choi (1995)",
        ),
        Step(
            "z-through-q",
            "Per atom t/(1 + tm̃) = (1/m̃)(1 − 1/(1 + tm̃)): z(m̃) = −1/m̃ + (γ/m̃)(1 − q_H(m̃)), q_H = ∫dH/(1 + m̃t).",
            z_of_mt,
            z_generic.subs(qh, 1 / (1 + mt * t_atom)),
        ),
        Step(
            "q-through-tau",
            "1/(1 + m̃t) = (1/m̃)/(t + 1/m̃): q_H(m̃) = τ(1/m̃)/m̃ with τ the base model's (1/d) tr (Σ₀ + κ)^{-1}.",
            1 / (1 + mt * t_atom),
            (1 / mt) * (1 / (t_atom + 1 / mt)),
        ),
        Step(
            "sherman-morrison",
            "vᵀ(A + c vvᵀ)^{-1}v = q/(1 + cq) with q = vᵀA^{-1}v (exact, A diagonal 3×3, v generic), "
            "applied to A = I + m̃Σ₀, c = m̃θ.",
            lambda: _sherman_morrison()[0],
            lambda: _sherman_morrison()[1],
            simplifier=lambda e: sp.simplify(sp.cancel(sp.together(e))),
            domain={sp.Symbol(f"a{i}", positive=True): (1, 3) for i in range(1, 4)}
            | {sp.Symbol(f"v{i}", real=True): (-1, 1) for i in range(1, 4)}
            | {sp.Symbol("cc", real=True): (sp.Rational(1, 10), 2)},
        ),
        Step(
            "eigen-spike",
            "For an eigenvector (q_v = 1/(1 + m̃t₀)) the outlier equation 1 + θm̃q_v = 0 is m̃ = −1/(t₀ + θ) = −1/ℓ.",
            (1 + theta * mt * q_eigen).subs(mt, -1 / (t0 + theta)),
            0,
        ),
        Step(
            "psi",
            "z(−1/ℓ) = ψ(ℓ) = ℓ(1 + γ∫ t/(ℓ − t) dH) (Bai–Yao), per atom.",
            psi_atom,
            ell * (1 + gamma * t_atom / (ell - t_atom)),
            cite="Bai & Yao (2012)",
        ),
        Step(
            "threshold-condition",
            "dψ/dℓ = z'(−1/ℓ)/ℓ²: ψ(ℓ) is outside the bulk iff ψ'(ℓ) > 0; the threshold is z'(m̃_c) = 0, "
            "θ_c = −1/(m̃_c q_v(m̃_c)).",
            sp.diff(psi_atom, ell),
            sp.diff(z_of_mt, mt).subs(mt, -1 / ell) / ell**2,
        ),
        Step(
            "overlap-residue",
            "|⟨û,v⟩|² is the residue of (1/z) q_v/(1 + θm̃q_v) at the outlier: q_v/(zθ d(m̃q_v)/dz) with "
            "dm̃/dz = 1/z'(m̃). For an eigenvector it is ℓψ'(ℓ)/ψ(ℓ) (isotropic base shown).",
            overlap_generic.subs({qv: q_iso.subs(mt, mt), qv_p: sp.diff(q_iso, mt)})
            .subs({zp: sp.diff(z_generic.subs(qh, q_iso), mt), z: z_generic.subs(qh, q_iso)})
            .subs(mt, -1 / (1 + theta)),
            (ell * psi_iso_p / psi_iso).subs(ell, 1 + theta),
            cite="Paul (2007); Benaych-Georges & Nadakuditi (2011)",
        ),
        Step("iso-psi", "Σ₀ = I: ψ(ℓ) = ℓ(1 + γ/(ℓ − 1)).", psi_iso, ell * (1 + gamma / (ell - 1))),
        Step(
            "iso-mt-critical",
            "Σ₀ = I: z'(m̃) = 0 at m̃_c = −1/(1 + √γ), so θ_c = −1/(m̃_c q(m̃_c)) = √γ = 1/√α.",
            sp.Matrix([sp.diff(z_generic.subs(qh, q_iso), mt).subs(mt, -1 / (1 + sp.sqrt(gamma))),
                       theta_c_expr.subs(qv, q_iso).subs(mt, -1 / (1 + sp.sqrt(gamma)))]),
            sp.Matrix([0, sp.sqrt(gamma)]),
        ),
        Step("iso-edge", "ψ(1 + √γ) = (1 + √γ)², the Marchenko–Pastur right edge.", psi_iso.subs(ell, 1 + sp.sqrt(gamma)),
             (1 + sp.sqrt(gamma)) ** 2),
        Step("iso-location", "Outlier at (1 + θ)(1 + γ/θ) for θ > θ_c.", psi_iso.subs(ell, 1 + theta), (1 + theta) * (1 + gamma / theta)),
        Step(
            "iso-overlap",
            "Overlap (1 − γ/θ²)/(1 + γ/θ) (Paul's formula).",
            (ell * psi_iso_p / psi_iso).subs(ell, 1 + theta),
            (1 - gamma / theta**2) / (1 + gamma / theta),
        ),
        Step(
            "ssr-map",
            "D ≍ (κ/λ)c₀I: the eigenvalue s of S becomes φ(s) = 1 − λ/(κc₀(s + λ)) of Â.",
            1 - (1 / ((kappa / lam) * c0)) * (1 / (s_eig + lam)),
            phi,
        ),
        Step(
            "ssr-map-increasing",
            "φ'(s) = λ/(κc₀(s + λ)²) > 0: a delocalised spike has the same θ_c for S and Â, for every λ.",
            sp.diff(phi, s_eig),
            lam / (kappa * c0 * (s_eig + lam) ** 2),
        ),
        Step(
            "e1-pole",
            "e1 spike on Σ₀ = I: D̄₁₁ = (κ/λ)/(1+κ+θ), Σ₁₁ = 1+θ, so the (1,1) entry of "
            "λ − wD̄^{-1} + Σ/(1+δ) is h(w) = λ − wλ(1+κ+θ)/κ + (1+θ)b.",
            lam - w / ((kappa / lam) / (1 + kappa + theta)) + (1 + theta) * bb,
            h,
        ),
        Step(
            "mp-edge",
            "At the Marchenko–Pastur right edge z_S = (1+√γ)², m_S = −1/(√γ(1+√γ)) is the double root of "
            "γz m² + (z − 1 + γ)m + 1, and b = 1/(1 + γm_S) = 1 + √γ.",
            sp.Matrix([
                mp_quadratic.subs({zS: (1 + sp.sqrt(gamma)) ** 2, mS: m_plus}),
                sp.diff(mp_quadratic, mS).subs({zS: (1 + sp.sqrt(gamma)) ** 2, mS: m_plus}),
                1 / (1 + gamma * m_plus),
            ]),
            sp.Matrix([0, 0, b_edge]),
        ),
        Step(
            "e1-edge",
            "M's top edge is w_e = (κc₀/λ)((1+√γ)² + λ) with c₀ = 1/(1+κ) (push-forward of the bulk).",
            (kappa * (1 / (1 + kappa)) / lam) * ((1 + sp.sqrt(gamma)) ** 2 + lam),
            w_edge,
        ),
        Step(
            "e1-threshold",
            "h(w_e) is linear in θ and vanishes at θ_c = √γ(1+√γ)/((1+√γ) − ((1+√γ)² + λ)/(1+κ)).",
            h.subs({w: w_edge, bb: b_edge}).subs(theta, theta_c_e1),
            0,
        ),
        Step(
            "e1-threshold-above-sample",
            "When finite (positive denominator), θ_c^{SSR,e1} ≥ √γ: the denominator is at most 1 + √γ "
            "(checked at random (α, λ) with κ = κ₊ where it is positive).",
            sp.Piecewise((1, sp.Or(denom_e1.subs(kappa, kappa_iso) <= 0, theta_c_e1.subs(kappa, kappa_iso) >= sp.sqrt(gamma))), (0, True)),
            1,
            symbolic=False,
            domain={alpha: (sp.Rational(1, 10), 4), lam: (sp.Rational(1, 100), 10)},
        ),
        Step(
            "e1-no-outlier",
            "h(w_e) at θ → ∞ behaves like θ × denominator, so a non-positive denominator "
            "(κ ≤ √γ + λ/(1+√γ)) means no outlier for any θ: θ_c = ∞.",
            sp.limit(h.subs({w: w_edge, bb: b_edge}) / theta, theta, sp.oo),
            denom_e1,
        ),
        Step(
            "e1-eigenvector",
            "Â's right eigenvector is D^{1/2}u (u: M's unit eigenvector); with |u₁|² = u2 its squared overlap "
            "with e1 is D₁₁u2/(D₁₁u2 + D_b(1 − u2)).",
            (sp.sqrt(d11) * sp.sqrt(u2)) ** 2 / ((sp.sqrt(d11) * sp.sqrt(u2)) ** 2 + (sp.sqrt(db) * sp.sqrt(1 - u2)) ** 2),
            d11 * u2 / (d11 * u2 + db * (1 - u2)),
            domain={d11: (sp.Rational(1, 10), 2), db: (sp.Rational(1, 10), 2), u2: (sp.Rational(1, 10), sp.Rational(9, 10))},
        ),
    ]

    # q_H and its m̃-derivatives for the two bases; q_v for eigen-spikes
    ar1 = get("ar1").results
    kl = ar1["tau_left"].args[0]
    q_ar1 = ar1["tau_left"].expr.subs(kl, 1 / mt) / mt
    mS_right = (-(zS - 1 + gamma) + sp.sqrt((zS - 1 + gamma) ** 2 - 4 * gamma * zS)) / (2 * gamma * zS)
    zS_of_w = w * lam * (1 + kappa) / kappa - lam
    b_iso = 1 / (1 + gamma * mS_right.subs(zS, zS_of_w))
    steps += [
        Step(
            "mp-right-root",
            "Above the right edge the physical Marchenko–Pastur root is m_S(z) = (−(z−1+γ) + √((z−1+γ)² − 4γz))/(2γz): "
            "it solves the quadratic and behaves like −1/z as z → ∞.",
            sp.Matrix([sp.expand(sp.simplify(mp_quadratic.subs(mS, mS_right))), sp.limit(zS * mS_right.subs(alpha, 2), zS, sp.oo)]),
            sp.Matrix([0, -1]),
        ),
        Step(
            "mp-right-root-at-edge",
            "At z = (1+√γ)² the physical root equals the double root −1/(√γ(1+√γ)).",
            mS_right.subs(zS, (1 + sp.sqrt(gamma)) ** 2),
            m_plus,
            simplifier=lambda e: sp.simplify(sp.radsimp(e)),
        ),
        Step(
            "q-ar1",
            "AR(1) base: q_H(m̃) = τ(1/m̃)/m̃ with τ on the real axis left of −f_max (derivation ar1, tau_left), "
            "equal to (1/π)∫ dω/(1 + m̃f(ω)) by quadrature.",
            0,
            0,
            symbolic=False,
            numeric=_numeric_q_ar1(q_ar1, rho),
            domain={rho: (-sp.Rational(9, 10), sp.Rational(9, 10)), sp.Symbol("frac"): (sp.Rational(1, 100), sp.Rational(99, 100))},
        ),
    ]
    # control variates for the Monte Carlo: E vᵀSv and E vᵀS²v for Gaussian data, exactly
    nn = sp.Symbol("n", positive=True)
    vSv, vS2v, trS = sp.symbols("vSigmav vSigma2v trSigma", positive=True)
    steps.append(
        Step(
            "wishart-second-moment",
            "Isserlis: E[x_a x_b x_c x_e] = Σ_ab Σ_ce + Σ_ac Σ_be + Σ_ae Σ_bc, so E[xxᵀxxᵀ] = 2Σ² + Σ tr Σ, and "
            "E[S²] = ((n−1)/n)Σ² + (2Σ² + Σ tr Σ)/n = Σ²(1 + 1/n) + Σ tr Σ/n (3×3 symbolic Σ).",
            lambda: _wishart()[0],
            lambda: _wishart()[1],
            cite="Isserlis (1918)",
            domain={sp.Symbol("n", positive=True): (2, 50),
                    **{sp.Symbol(f"S{i}{j}", real=True): ((2, 4) if i == j else (-1, 1)) for i in range(1, 4) for j in range(i, 4)}},
        )
    )
    results = {
        "cv_vSv": Result(vSv, (vSv,), "E vᵀSv = vᵀΣv"),
        "cv_vS2v": Result(vS2v * (1 + 1 / nn) + vSv * trS / nn, (vSv, vS2v, trS, nn), "E vᵀS²v"),
        "q_iso_p": Result(sp.diff(q_iso, mt), (mt,), "q_H'"),
        "q_iso_pp": Result(sp.diff(q_iso, mt, 2), (mt,), "q_H''"),
        "q_eigen_p": Result(sp.diff(q_eigen, mt), (mt, t0), "q_v'"),
        "q_ar1": Result(q_ar1, (mt, rho), "q_H for AR(1), m̃ ∈ (−1/f_max, 0)"),
        "q_ar1_p": Result(sp.diff(q_ar1, mt), (mt, rho), "q_H' for AR(1)"),
        "q_ar1_pp": Result(sp.diff(q_ar1, mt, 2), (mt, rho), "q_H'' for AR(1)"),
        "b_iso": Result(b_iso, (w, alpha, lam, kappa), "b(w) = 1/(1+δ(w)) above the bulk, isotropic base"),
        "b_iso_w": Result(sp.diff(b_iso, w), (w, alpha, lam, kappa), "db/dw"),
        "e1_w_edge": Result(w_edge, (alpha, lam, kappa), "M's top edge"),
        "z_generic": Result(z_generic, (mt, alpha, qh), "z(m̃) = −1/m̃ + (γ/m̃)(1 − q_H)"),
        "z_generic_p": Result(z_generic_p, (mt, alpha, qh, qh_p), "z'(m̃)"),
        "z_generic_pp": Result(
            sp.diff(z_generic_p.subs({qh: sp.Function("Q")(mt), qh_p: sp.Derivative(sp.Function("Q")(mt), mt)}), mt)
            .subs(sp.Derivative(sp.Function("Q")(mt), (mt, 2)), sp.Symbol("q_H_pp"))
            .subs(sp.Derivative(sp.Function("Q")(mt), mt), qh_p)
            .subs(sp.Function("Q")(mt), qh),
            (mt, alpha, qh, qh_p, sp.Symbol("q_H_pp")),
            "z''(m̃)",
        ),
        "q_iso": Result(q_iso, (mt,), "q_H for Σ₀ = I"),
        "q_eigen": Result(q_eigen, (mt, t0), "q_v for an eigenvector with eigenvalue t₀"),
        "q_from_tau": Result(
            sp.Symbol("tau") / mt,
            (mt, sp.Symbol("tau")),
            "q_H = τ(1/m̃)/m̃ (reference only: the library evaluates q_H in closed form, q_iso and q_ar1 = tau_left(1/m̃)/m̃)",
            reference_only=True,
        ),
        "outlier_eq": Result(outlier_eq, (mt, theta, qv, eps), "1 + (1+ε)θm̃q_v"),
        "theta_c": Result(theta_c_expr, (mt, qv), "θ_c = −1/(m̃_c q_v(m̃_c))"),
        "overlap": Result(overlap_generic, (mt, z, theta, qv, qv_p, zp), "q_v z'/(zθ(m̃q_v)')"),
        "ssr_map": Result(phi, (s_eig, lam, kappa, c0), "φ(s) = 1 − λ/(κc₀(s+λ))"),
        # Σ₀ = I in closed form: the references the library's general root solves must agree with
        "theta_c_iso": Result(sp.sqrt(gamma), (alpha,), "θ_c = 1/√α", reference_only=True),
        "location_iso": Result((1 + theta) * (1 + gamma / theta), (theta, alpha), "(1+θ)(1+γ/θ)", reference_only=True),
        "overlap_iso": Result((1 - gamma / theta**2) / (1 + gamma / theta), (theta, alpha), "(1 − γ/θ²)/(1 + γ/θ)", reference_only=True),
        "edge_iso": Result((1 + sp.sqrt(gamma)) ** 2, (alpha,), "(1 + √γ)²", reference_only=True),
        "e1_h": Result(h_eps, (w, bb, theta, lam, kappa, eps), "h(w) for the e1 spike (ε: deliberate error)"),
        "e1_h_w": Result(sp.diff(h_eps, w), (w, bb, theta, lam, kappa, eps, sp.Symbol("b_w")), "∂h/∂w at fixed b"),
        "e1_theta_c": Result(theta_c_e1, (alpha, lam, kappa), "θ_c for Â with an e1 spike, isotropic base"),
        "e1_denominator": Result(denom_e1, (alpha, lam, kappa), "positive iff an outlier can separate"),
        "e1_D11": Result((kappa / lam) / (1 + kappa + theta), (theta, lam, kappa), "D̄₁₁"),
        "e1_overlap": Result(d11 * u2 / (d11 * u2 + db * (1 - u2)), (d11, db, u2), "right-eigenvector overlap"),
    }
    # ∂h/∂w with b = b(w): the library passes db/dw as b_w
    results["e1_h_w"] = Result(sp.diff(h_eps, w) + sp.diff(h_eps, bb) * sp.Symbol("b_w"), (w, bb, theta, lam, kappa, eps, sp.Symbol("b_w")),
                               "dh/dw")
    domain = {
        alpha: (sp.Rational(1, 5), 8),
        lam: (sp.Rational(1, 100), 3),
        kappa: (sp.Rational(1, 20), 5),
        ell: (sp.Rational(21, 10), 10),
        t_atom: (sp.Rational(1, 10), 2),
        t0: (sp.Rational(1, 10), 2),
        theta: (sp.Rational(1, 10), 10),
        mt: (-sp.Rational(1, 3), -sp.Rational(1, 20)),
        z: (sp.Rational(1, 10), 5),
        s_eig: (0, 10),
        c0: (sp.Rational(1, 10), 2),
        w: (sp.Rational(1, 10), 5),
        bb: (sp.Rational(1, 10), 3),
        qh: (sp.Rational(1, 10), 2),
        eps: (0, sp.Rational(1, 10)),
    }
    return Derivation(
        name="bbp",
        title="BBP outliers of S and of the SSR matrix: outlier equation, threshold, overlap, localised spikes",
        summary=__doc__,
        steps=steps,
        results=results,
        domain=domain,
        references=(
            "Baik, Ben Arous & Péché (2005)",
            "Baik & Silverstein (2006)",
            "Paul (2007)",
            "Bai & Yao (2012)",
            "Benaych-Georges & Nadakuditi (2011)",
            "Silverstein & Choi (1995)",
        ),
    )


def _numeric_q_ar1(q_ar1, rho):
    def check(point, ctx):
        r = ctx.mpf(point[rho].numerator) / point[rho].denominator
        f_max = (1 + abs(r)) / (1 - abs(r))
        m = -(ctx.mpf(point[sp.Symbol("frac")].numerator) / point[sp.Symbol("frac")].denominator) / f_max
        quad = ctx.quad(lambda om: 1 / (1 + m * (1 - r**2) / (1 - 2 * r * ctx.cos(om) + r**2)),
                        [0, ctx.pi / 8, ctx.pi / 2, ctx.pi]) / ctx.pi
        mr = sp.nsimplify(sp.Float(str(m), 80), rational=True)
        closed = sp.N(q_ar1.subs({rho: sp.Rational(point[rho].numerator, point[rho].denominator), mt: mr}), 70)
        return quad, ctx.mpf(str(closed))

    return check


def _wishart():
    """E[S²] for S = (1/n)Σ_i x_i x_iᵀ from Isserlis' theorem, entry by entry (3×3 symbolic Σ)."""
    d = 3
    Sg = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"S{min(i, j) + 1}{max(i, j) + 1}", real=True))
    nn = sp.Symbol("n", positive=True)

    def m4(a, b, c, e):  # E[x_a x_b x_c x_e]
        return Sg[a, b] * Sg[c, e] + Sg[a, c] * Sg[b, e] + Sg[a, e] * Sg[b, c]

    fourth = sp.Matrix(d, d, lambda a, e: sum(m4(a, b, b, e) for b in range(d)))  # E[x xᵀ x xᵀ]
    lhs = ((nn - 1) / nn) * Sg * Sg + fourth / nn
    rhs = Sg * Sg * (1 + 1 / nn) + Sg * Sg.trace() / nn
    return lhs, rhs


def _sherman_morrison():
    a = [sp.Symbol(f"a{i}", positive=True) for i in range(1, 4)]
    v = sp.Matrix([sp.Symbol(f"v{i}", real=True) for i in range(1, 4)])
    cc = sp.Symbol("cc", real=True)
    A = sp.diag(*a)
    q = (v.T * A.inv() * v)[0]
    lhs = (v.T * (A + cc * v * v.T).inv() * v)[0]
    return lhs, q / (1 + cc * q)


# ---- the independent side of a library check (the library's verification package pairs it with the
# library's threshold for a flat spike on AR(1)): ψ from a quadrature of the symbol, written out here


def reference_ar1_flat_threshold(point):
    """Flat spike on AR(1): ℓ_c solves ψ'(ℓ) = 0 with ψ from a quadrature of the symbol; θ_c = ℓ_c − f(0)."""
    ctx = mpmath.MPContext()
    ctx.dps = 60
    r = ctx.mpf(point[rho].numerator) / point[rho].denominator
    a = ctx.mpf(point[alpha].numerator) / point[alpha].denominator
    f = lambda om: (1 - r**2) / (1 - 2 * r * ctx.cos(om) + r**2)  # noqa: E731
    fmax = (1 + abs(r)) / (1 - abs(r))

    def psi_p(l):
        # ψ'(ℓ) = 1 − γ ∫ t²/(ℓ − t)² dH, the symbol's law by quadrature over ω
        return 1 - (1 / a) * ctx.quad(lambda om: f(om) ** 2 / (l - f(om)) ** 2, [0, ctx.pi / 8, ctx.pi / 2, ctx.pi]) / ctx.pi

    lo, hi = fmax * (1 + ctx.mpf(10) ** -8), fmax * (1 + 4 / ctx.sqrt(a)) + 2
    # the root in double precision (bracketed), then secant steps at 60 digits: 9 quadratures, not 25
    fp = mpmath.fp
    f_fp = lambda om: (1 - float(r) ** 2) / (1 - 2 * float(r) * fp.cos(om) + float(r) ** 2)  # noqa: E731
    l_fp = fp.findroot(lambda l: 1 - fp.quad(lambda om: f_fp(om) ** 2 / (l - f_fp(om)) ** 2,
                                             [0, fp.pi / 8, fp.pi / 2, fp.pi]) / (float(a) * fp.pi),
                       (float(lo), float(hi)), solver="anderson")
    l_c = ctx.findroot(psi_p, (ctx.mpf(l_fp), ctx.mpf(l_fp) * (1 + ctx.mpf(10) ** -10)), solver="secant")
    return l_c - (1 + r) / (1 - r)
