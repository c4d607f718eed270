"""Derivation 7 — outliers (BBP) of the sample covariance S and of the SSR matrix Â.

Assumptions. Σ has population spectral law H (an atomic law t_j with weights
w_j here; a finite-d Σ₀ gives one), γ = d/n = 1/α, and a spike direction v
is an eigenvector of Σ with eigenvalue ℓ > max supp H.

Inputs (cited). Silverstein's equivalent (S − z)^{-1} ≍ −(1/z)(I + m̃(z)Σ)^{-1},
with m̃ the Stieltjes transform of the companion matrix XXᵀ/n, and the
Silverstein–Choi inverse map z(m̃) = −1/m̃ + γ∫ t/(1 + t m̃) dH(t), which is
increasing exactly where z is outside the support. At z = −λ this is the κ
equation of derivation 2 with m̃ = 1/κ (step ``inverse-map-is-kappa``).

Steps. vᵀ(z − S)^{-1}v ≍ 1/(z(1 + ℓ m̃(z))) has a pole where m̃ = −1/ℓ, i.e.
at z = ψ(ℓ) := z(−1/ℓ) = ℓ(1 + γ∫ t/(ℓ − t) dH) (Bai–Yao's ψ). It is an
outlier iff ψ'(ℓ) > 0; the threshold solves ψ'(ℓ_c) = 0, and the squared
overlap is the residue, ℓψ'(ℓ)/ψ(ℓ).

Isotropic base (H = δ₁): ψ(ℓ) = ℓ(1 + γ/(ℓ−1)), θ_c = √γ = 1/√α, outlier
(1+θ)(1 + γ/θ), overlap (1 − γ/θ²)/(1 + γ/θ), bulk edge (1 + √γ)².

SSR matrix. When diag R is asymptotically constant, c₀ (delocalised spikes
on an isotropic base, c₀ = τ(κ)), D ≍ (κ/λ)c₀ I, so Â = I − QD^{-1} has the
eigenvalues of I − (λ/(κc₀))Q: φ(s) = 1 − λ/(κc₀(s + λ)) applied to those of
S. φ is increasing, so Â has an outlier exactly when S has one: same θ_c, for
every λ; its location is φ(ψ(ℓ)) and its eigenvector is S's. (Localised
spikes make diag R non-constant; that case is not covered here.)
"""

import sympy as sp

from . import get
from .framework import Derivation, LibraryCheck, Result, Step
from .symbols import alpha, ell, kappa, lam, tau, theta, z

mt = sp.Symbol("mt")  # m̃, the companion Stieltjes transform
t_atom = sp.Symbol("t", positive=True)  # an atom of H
gamma = 1 / alpha
s_eig = sp.Symbol("s", nonnegative=True)  # an eigenvalue of S
c0 = sp.Symbol("c0", positive=True)  # the constant value of diag R


def build() -> Derivation:
    # one atom of H: every H-integral below is a weighted sum of these terms
    z_of_mt = -1 / mt + gamma * t_atom / (1 + t_atom * mt)
    psi_atom = sp.simplify(z_of_mt.subs(mt, -1 / ell))
    psi_iso = psi_atom.subs(t_atom, 1)
    psi_iso_p = sp.diff(psi_iso, ell)
    ell_c = 1 + sp.sqrt(gamma)
    theta_c = sp.sqrt(gamma)
    location = psi_iso.subs(ell, 1 + theta)
    overlap_general = ell * sp.Symbol("psi_p") / sp.Symbol("psi")
    overlap_iso = (ell * psi_iso_p / psi_iso).subs(ell, 1 + theta)
    edge = psi_iso.subs(ell, ell_c)

    phi = 1 - lam / (kappa * c0 * (s_eig + lam))
    iso = get("isotropic").results
    kappa_iso = iso["kappa"].expr

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
            "quadratic-form",
            "Silverstein's equivalent at z = −λ, m̃ = 1/κ: −(1/z)(1 + ℓm̃)^{-1} = (κ/λ)/(ℓ + κ), "
            "which is vᵀ(κ/λ)Rv — derivation 2's λQ ≍ κR.",
            (-1 / z / (1 + ell * mt)).subs({z: -lam, mt: 1 / kappa}),
            (kappa / lam) / (ell + kappa),
            cite="Silverstein (1995)",
        ),
        Step(
            "outlier-equation",
            "The pole of 1/(z(1 + ℓm̃(z))) is at m̃ = −1/ℓ, i.e. z = ψ(ℓ) = z(−1/ℓ); per atom "
            "ψ(ℓ) = ℓ + γ ℓt/(ℓ − t) = ℓ(1 + γ t/(ℓ − t)).",
            psi_atom,
            ell * (1 + gamma * t_atom / (ell - t_atom)),
            cite="Bai & Yao (2012)",
        ),
        Step(
            "threshold-condition",
            "dψ/dℓ = z'(−1/ℓ)/ℓ², so ψ'(ℓ) > 0 ⇔ z'(m̃) > 0 at m̃ = −1/ℓ ⇔ ψ(ℓ) is outside the bulk; "
            "the threshold is ψ'(ℓ_c) = 0.",
            sp.diff(psi_atom, ell),
            sp.diff(z_of_mt, mt).subs(mt, -1 / ell) / ell**2,
        ),
        Step(
            "overlap-residue",
            "|⟨û, v⟩|² = residue of 1/(z(1 + ℓm̃(z))) at ψ(ℓ) = 1/(ψ ℓ m̃'(ψ)), and m̃' = 1/z'(m̃) = 1/(ℓ²ψ'(ℓ)): "
            "the overlap is ℓψ'(ℓ)/ψ(ℓ).",
            1 / (sp.Symbol("psi") * ell * (1 / (ell**2 * sp.Symbol("psi_p")))),
            overlap_general,
            cite="Paul (2007); Benaych-Georges & Nadakuditi (2011)",
        ),
        Step("iso-psi", "H = δ₁: ψ(ℓ) = ℓ(1 + γ/(ℓ − 1)).", psi_iso, ell * (1 + gamma / (ell - 1))),
        Step("iso-threshold", "ψ'(1 + √γ) = 0: ℓ_c = 1 + √γ, θ_c = √γ = 1/√α.", psi_iso_p.subs(ell, ell_c), 0),
        Step(
            "iso-threshold-unique",
            "ψ'(ℓ) = 1 − γ/(ℓ − 1)² is increasing on ℓ > 1, so ℓ_c is its only zero there.",
            sp.diff(psi_iso_p, ell),
            2 * gamma / (ell - 1) ** 3,
        ),
        Step("iso-edge", "ψ(ℓ_c) = (1 + √γ)², the Marchenko–Pastur right edge.", edge, (1 + sp.sqrt(gamma)) ** 2),
        Step("iso-location", "Outlier at (1 + θ)(1 + γ/θ) for θ > θ_c.", location, (1 + theta) * (1 + gamma / theta)),
        Step(
            "iso-overlap",
            "Overlap ℓψ'/ψ = (1 − γ/θ²)/(1 + γ/θ) (Paul's formula).",
            overlap_iso,
            (1 - gamma / theta**2) / (1 + gamma / theta),
        ),
        Step(
            "ssr-map",
            "With D ≍ (κ/λ)c₀ I, I − D^{-1/2}QD^{-1/2} has eigenvalue φ(s) = 1 − λ/(κc₀(s + λ)) for each "
            "eigenvalue s of S (Q's eigenvalue is 1/(s + λ)).",
            1 - (1 / ((kappa / lam) * c0)) * (1 / (s_eig + lam)),
            phi,
        ),
        Step(
            "ssr-map-increasing",
            "φ'(s) = λ/(κc₀(s + λ)²) > 0: Â's largest eigenvalue is φ of S's, so Â has an outlier iff S does, "
            "with the same θ_c for every λ and the same eigenvector.",
            sp.diff(phi, s_eig),
            lam / (kappa * c0 * (s_eig + lam) ** 2),
        ),
        Step(
            "ssr-iso-c0",
            "Isotropic base (delocalised spike, d → ∞): c₀ = τ(κ) = 1/(1 + κ), so κc₀ = κ/(1 + κ).",
            kappa * iso["tau"].expr,
            kappa / (1 + kappa),
        ),
        Step(
            "ssr-iso-location-above-edge",
            "Above θ_c the SSR outlier sits above the SSR bulk edge: φ(ψ(1+θ)) − φ((1+√γ)²) > 0 "
            "(numerically at random θ > θ_c, with κ = κ₊(α, λ)).",
            sp.Piecewise((1, (phi.subs(s_eig, location) - phi.subs(s_eig, edge)).subs({c0: 1 / (1 + kappa)}).subs(kappa, kappa_iso) > 0), (0, True)),
            1,
            symbolic=False,
            domain={alpha: (sp.Rational(1, 5), 8), lam: (sp.Rational(1, 100), 3), theta: (3, 10)},
        ),
    ]
    psi_p_sym, psi_sym = sp.Symbol("psi_p"), sp.Symbol("psi")
    results = {
        "psi_atom": Result(psi_atom, (ell, t_atom, alpha), "ψ for H = δ_t"),
        "psi_atom_p": Result(sp.diff(psi_atom, ell), (ell, t_atom, alpha), "dψ/dℓ for H = δ_t"),
        "psi_atom_pp": Result(sp.diff(psi_atom, ell, 2), (ell, t_atom, alpha), "d²ψ/dℓ² for H = δ_t"),
        "overlap": Result(overlap_general, (ell, psi_sym, psi_p_sym), "ℓψ'(ℓ)/ψ(ℓ)"),
        "theta_c_iso": Result(theta_c, (alpha,), "θ_c = 1/√α"),
        "location_iso": Result(location, (theta, alpha), "(1+θ)(1+γ/θ)"),
        "overlap_iso": Result(overlap_iso, (theta, alpha), "(1 − γ/θ²)/(1 + γ/θ)"),
        "edge_iso": Result(edge, (alpha,), "(1 + √γ)²"),
        "ssr_map": Result(phi, (s_eig, lam, kappa, c0), "φ(s) = 1 − λ/(κc₀(s+λ))"),
    }
    domain = {
        alpha: (sp.Rational(1, 5), 8),
        lam: (sp.Rational(1, 100), 3),
        kappa: (sp.Rational(1, 20), 5),
        ell: (sp.Rational(21, 10), 10),
        t_atom: (sp.Rational(1, 10), 2),
        theta: (sp.Rational(1, 10), 10),
        mt: (sp.Rational(1, 10), 2),
        z: (sp.Rational(1, 10), 5),
        s_eig: (0, 10),
        c0: (sp.Rational(1, 10), 2),
        sp.Symbol("psi"): (1, 10),
        sp.Symbol("psi_p"): (sp.Rational(1, 10), 1),
    }
    return Derivation(
        name="bbp",
        title="BBP outliers of S and of the SSR matrix: outlier equation, threshold, overlap",
        summary=__doc__,
        steps=steps,
        results=results,
        domain=domain,
        library_checks=_library_checks(results),
        references=(
            "Baik, Ben Arous & Péché (2005)",
            "Baik & Silverstein (2006)",
            "Paul (2007)",
            "Bai & Yao (2012)",
            "Silverstein & Choi (1995)",
        ),
    )


def _library_checks(results):
    def ref(key, args):
        def f(point):
            subs = {s: sp.Rational(v.numerator, v.denominator) for s, v in point.items()}
            return results[key].expr.subs(subs)

        return f

    def lib_threshold(point, dps):
        from rmtverify.bbp import threshold

        return threshold(alpha=point[alpha], dps=dps).theta_c

    def lib_threshold_ssr(point, dps):
        from rmtverify.bbp import threshold

        return threshold(alpha=point[alpha], lam=point[lam], matrix="ssr", dps=dps).theta_c

    def lib_outlier(key):
        def f(point, dps):
            from rmtverify.bbp import outlier

            return getattr(outlier(theta=point[theta], alpha=point[alpha], dps=dps), key)

        return f

    def lib_ssr_location(point, dps):
        from rmtverify.bbp import outlier

        return outlier(theta=point[theta], alpha=point[alpha], lam=point[lam], matrix="ssr", dps=dps).location

    def ref_ssr_location(point):
        subs = {s: sp.Rational(v.numerator, v.denominator) for s, v in point.items()}
        kap = get("isotropic").results["kappa"].expr.subs(subs)
        loc = results["location_iso"].expr.subs(subs)
        return results["ssr_map"].expr.subs({s_eig: loc, c0: 1 / (1 + kap), kappa: kap}).subs(subs)

    dom = {alpha: (sp.Rational(1, 5), 8)}
    dom_l = {alpha: (sp.Rational(1, 5), 8), lam: (sp.Rational(1, 100), 3)}
    dom_t = {alpha: (sp.Rational(1, 5), 8), theta: (3, 10)}
    dom_tl = {alpha: (sp.Rational(1, 5), 8), theta: (3, 10), lam: (sp.Rational(1, 100), 3)}
    return [
        LibraryCheck("sample-threshold-root-vs-closed-form", lib_threshold, ref("theta_c_iso", ()), dom),
        LibraryCheck("ssr-threshold-equals-sample", lib_threshold_ssr, ref("theta_c_iso", ()), dom_l),
        LibraryCheck("sample-outlier-location", lib_outlier("location"), ref("location_iso", ()), dom_t),
        LibraryCheck("sample-outlier-overlap", lib_outlier("overlap"), ref("overlap_iso", ()), dom_t),
        LibraryCheck("sample-bulk-edge", lib_outlier("bulk_edge"), ref("edge_iso", ()), dom_t),
        LibraryCheck("ssr-outlier-location", lib_ssr_location, ref_ssr_location, dom_tl),
    ]
