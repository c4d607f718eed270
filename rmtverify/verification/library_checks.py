"""Library checks (c) of the derivations: the library, called at random rational points, against references.

Each check pairs a library function that evaluates a derived result with a
reference computed independently of the library: SymPy's ``evalf`` of the
derivation's own result, or a reference function of the derivation module (a
quadrature of the symbol, an independent root solve, exact rational algebra).
The derivations never import the library; the checks live here, one function
per derivation, and ``rmtverify derive`` hands them to
:func:`derivations.framework.run`.

A check's random points are seeded by its name (``random_points``), so a name
is part of the check: renaming one changes its points.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable

import flint
import mpmath

import derivations
from derivations.ar1 import reference_e_gen_quadrature
from derivations.bbp import reference_ar1_flat_threshold
from derivations.framework import Derivation, LibraryCheck, as_sympy
from derivations.kappa import SPEC3, reference_dkappa_dlambda, reference_kappa
from derivations.masking import p as p_mask
from derivations.masking import reference_e_mask_ar1_quadrature
from derivations.pca import reference_crossover, reference_e_pca_quadrature
from derivations.spectrum import reference_edge, reference_pushforward_density, u_frac
from derivations.spiked import reference_e_gen_d6
from derivations.ssr_closed_form import example_data, reference_entries, x_seed
from derivations.symbols import alpha, kappa, lam, phi, rho, theta
from derivations.train_gen import example_sigma_rows, reference_errors
from rmtverify.core.params import INF
from rmtverify.core.precision import working_context
from rmtverify.models import make_model
from rmtverify.montecarlo.estimators import closed_form_mp, masked_ridge_reference_mp
from rmtverify.theory.bbp import outlier, threshold
from rmtverify.theory.equivalents import equivalents
from rmtverify.theory.masking import mask_error
from rmtverify.theory.pca import crossover, population_error
from rmtverify.theory.spectrum import spectral_law

F = Fraction


def _mp(ctx, q):
    return ctx.mpf(q.numerator) / q.denominator


def _result_at(results, key):
    """The reference ``results[key]`` evaluated exactly at the point (looked up when called)."""

    def f(point):
        return results[key].expr.subs(as_sympy(point))

    return f


# ---------------------------------------------------------------- one function per derivation


def ssr_closed_form_checks(derivation: Derivation) -> list[LibraryCheck]:
    """The library's closed form and per-coordinate reference at 50 digits, against exact rationals."""

    def lib(which):
        def f(point, dps):
            X = example_data(point)
            ctx = working_context(dps)
            fn = closed_form_mp if which == "closed" else masked_ridge_reference_mp
            A = fn(X, point[lam], ctx)
            return A[1, 0] + 3 * A[0, 2]  # two off-diagonal entries, combined

        return f

    dom = {lam: (F(1, 100), 3), x_seed: (1, 100)}
    return [
        LibraryCheck("closed-form-mp-vs-exact", lib("closed"), reference_entries, dom),
        LibraryCheck("masked-ridges-mp-vs-exact", lib("ridges"), reference_entries, dom),
    ]


def kappa_checks(derivation: Derivation) -> list[LibraryCheck]:
    """The library's κ and dκ/dλ for a diagonal 3 × 3 Σ, against independent polynomial root solves."""

    def diagonal_model(point):
        spectrum = [point[s] for s in SPEC3]
        return make_model("custom", sigma=[[spectrum[i] if i == j else F(0) for j in range(3)] for i in range(3)])

    def lib_kappa(point, dps):
        return equivalents(diagonal_model(point), alpha=point[alpha], lam=point[lam], d=3, dps=dps).kappa

    def lib_dk(point, dps):
        return equivalents(diagonal_model(point), alpha=point[alpha], lam=point[lam], d=3, dps=dps).dkappa_dlam

    dom = {**{s: (F(1, 10), 10) for s in SPEC3}, alpha: (F(1, 5), 8), lam: (F(1, 100), 3)}
    return [
        LibraryCheck("kappa-root", lib_kappa, reference_kappa, dom),
        LibraryCheck("dkappa-dlambda", lib_dk, reference_dkappa_dlambda, dom),
    ]


def train_gen_checks(derivation: Derivation) -> list[LibraryCheck]:
    """Library E_gen, E_train on an exact rational Σ against a direct SymPy evaluation."""

    def lib(which):
        def f(point, dps):
            model = make_model("custom", sigma=example_sigma_rows(point))
            return getattr(equivalents(model, alpha=point[alpha], lam=point[lam], d=3, dps=dps), which)

        return f

    def ref(which):
        return lambda point: reference_errors(point, which)

    dom = {alpha: (F(1, 5), 8), lam: (F(1, 100), 3)}
    return [
        LibraryCheck("e-gen-custom", lib("e_gen"), ref("e_gen"), dom),
        LibraryCheck("e-train-custom", lib("e_train"), ref("e_train"), dom),
    ]


def isotropic_checks(derivation: Derivation) -> list[LibraryCheck]:
    """The library's general solve for Σ = I against the derivation's closed forms."""
    results = derivation.results

    def lib(key):
        def f(point, dps):
            res = equivalents(make_model("isotropic"), alpha=point[alpha], lam=point[lam], d=None, dps=dps)
            return getattr(res, key)

        return f

    dom = {alpha: (F(1, 5), 8), lam: (F(1, 1000), 5)}
    return [
        LibraryCheck("kappa-solve-vs-closed-form", lib("kappa"), _result_at(results, "kappa"), dom),
        LibraryCheck("e-gen-solve-vs-closed-form", lib("e_gen"), _result_at(results, "e_gen"), dom),
        LibraryCheck("e-train-solve-vs-closed-form", lib("e_train"), _result_at(results, "e_train"), dom),
    ]


def ar1_checks(derivation: Derivation) -> list[LibraryCheck]:
    """AR(1): d = ∞ E_gen against quadratures of the symbol; the Toeplitz diagonal against a dense inverse."""

    def lib_egen(point, dps):
        return equivalents(make_model("ar1", rho=point[rho]), alpha=point[alpha], lam=point[lam], d=None, dps=dps).e_gen

    def lib_toeplitz_diag(point, dps):
        """Toeplitz finite-d diagonal (tridiagonal recurrence) against a dense solve in ball arithmetic."""
        ctx = working_context(dps)
        model = make_model("ar1", rho=point[rho], boundary="toeplitz")
        groups = model.resolvent(9, ctx).diagonal(_mp(ctx, point[kappa]))
        return groups[2].m  # coordinate k = 3

    def ref_toeplitz_diag(point):
        """[(Σ + κI)^{-1}]₃₃ at d = 9 by a dense inverse of the Toeplitz matrix in arb ball arithmetic."""
        ctx = mpmath.MPContext()
        ctx.dps = 60
        old = flint.ctx.prec
        try:
            flint.ctx.prec = 260
            r = flint.arb(point[rho].numerator) / point[rho].denominator
            k = flint.arb(point[kappa].numerator) / point[kappa].denominator
            M = flint.arb_mat(9, 9, [r ** abs(i - j) + (k if i == j else 0) for i in range(9) for j in range(9)])
            inv = M.inv()
            man, exp = inv[2, 2].mid().man_exp()
            return ctx.mpf(int(man)) * ctx.mpf(2) ** int(exp)
        finally:
            flint.ctx.prec = old

    dom = {rho: (-F(9, 10), F(9, 10)), alpha: (F(1, 5), 8), lam: (F(1, 100), 3)}
    dom_k = {rho: (-F(9, 10), F(9, 10)), kappa: (F(1, 20), 5)}
    return [
        LibraryCheck("e-gen-d-inf-vs-quadrature", lib_egen, reference_e_gen_quadrature, dom),
        LibraryCheck("toeplitz-diagonal-vs-dense-inverse", lib_toeplitz_diag, ref_toeplitz_diag, dom_k),
    ]


def spiked_checks(derivation: Derivation) -> list[LibraryCheck]:
    """E_gen of a rank-1 spiked model at d = 6 against dense SymPy matrices."""

    def lib(spike):
        def f(point, dps):
            model = make_model("spiked", theta=point[theta], spike=spike, rank=1)
            return equivalents(model, alpha=point[alpha], lam=point[lam], d=6, dps=dps).e_gen

        return f

    def ref(spike):
        return lambda point: reference_e_gen_d6(point, spike)

    dom = {theta: (F(1, 10), 10), alpha: (F(1, 5), 8), lam: (F(1, 100), 3)}
    return [
        LibraryCheck("e-gen-flat-spike-d6", lib("flat"), ref("flat"), dom),
        LibraryCheck("e-gen-e1-spike-d6", lib("e1"), ref("e1"), dom),
    ]


def bbp_checks(derivation: Derivation) -> list[LibraryCheck]:
    """BBP thresholds, outlier locations and overlaps of the library against the closed forms (Σ₀ = I)
    and, for AR(1), against ψ from a quadrature of the symbol."""
    results = derivation.results

    def lib_threshold(base, spike, matrix):
        def f(point, dps):
            kw = {"lam": point[lam]} if matrix == "ssr" else {}
            return threshold(base=base, spike=spike, alpha=point[alpha], matrix=matrix, dps=dps, **kw).theta_c

        return f

    def isotropic_kappa(subs):
        return derivations.get("isotropic").results["kappa"].expr.subs(subs)

    def ref_theta_e1(point):
        s = as_sympy(point)
        return results["e1_theta_c"].expr.subs({kappa: isotropic_kappa(s)}).subs(s)

    def lib_outlier(key):
        def f(point, dps):
            return getattr(outlier(theta=point[theta], alpha=point[alpha], dps=dps), key)

        return f

    def lib_ssr_location(point, dps):
        return outlier(theta=point[theta], alpha=point[alpha], lam=point[lam], matrix="ssr", dps=dps).location

    def ref_ssr_location(point):
        """φ of the sample outlier location, with κ = κ₊ and c₀ = R_kk = τ(κ₊) of Σ = I."""
        s = as_sympy(point)
        kap = isotropic_kappa(s)
        c0v = derivations.get("isotropic").results["tau"].expr.subs(kappa, kap)
        loc = results["location_iso"].expr.subs(s)
        s_eig, _, _, c0 = results["ssr_map"].args  # φ(s; λ, κ, c₀)
        return results["ssr_map"].expr.subs({s_eig: loc, c0: c0v, kappa: kap}).subs(s)

    def lib_ar1_threshold(point, dps):
        return threshold(base="ar1", rho=point[rho], spike="flat", alpha=point[alpha], dps=dps).theta_c

    ref_theta_iso = _result_at(results, "theta_c_iso")
    dom = {alpha: (F(1, 5), 8)}
    dom_l = {alpha: (F(1, 5), 8), lam: (F(1, 100), 3)}
    dom_e1 = {alpha: (F(1, 10), F(1, 4)), lam: (2, 5)}  # where θ_c^{SSR,e1} is finite
    dom_t = {alpha: (F(1, 5), 8), theta: (3, 10)}
    dom_tl = {alpha: (F(1, 5), 8), theta: (3, 10), lam: (F(1, 100), 3)}
    dom_ar = {alpha: (F(1, 2), 8), rho: (F(1, 10), F(7, 10))}
    return [
        LibraryCheck("sample-threshold-root-vs-closed-form", lib_threshold("isotropic", "flat", "sample"), ref_theta_iso, dom),
        LibraryCheck("ssr-threshold-delocalised-equals-sample", lib_threshold("isotropic", "random", "ssr"), ref_theta_iso, dom_l),
        LibraryCheck("ssr-threshold-e1-vs-closed-form", lib_threshold("isotropic", "e1", "ssr"), ref_theta_e1, dom_e1),
        LibraryCheck("sample-outlier-location", lib_outlier("location"), _result_at(results, "location_iso"), dom_t),
        LibraryCheck("sample-outlier-overlap", lib_outlier("overlap"), _result_at(results, "overlap_iso"), dom_t),
        LibraryCheck("sample-bulk-edge", lib_outlier("bulk_edge"), _result_at(results, "edge_iso"), dom_t),
        LibraryCheck("ssr-outlier-location", lib_ssr_location, ref_ssr_location, dom_tl),
        LibraryCheck("ar1-flat-threshold-vs-quadrature-psi", lib_ar1_threshold, reference_ar1_flat_threshold, dom_ar),
    ]


def pca_checks(derivation: Derivation) -> list[LibraryCheck]:
    """Population PCA error and the SSR–PCA crossover against quadratures of the symbol."""

    def lib_error(point, dps):
        model = make_model("ar1", rho=point[rho]) if point[rho] != 0 else make_model("isotropic")
        return population_error(model, point[phi], dps=dps)

    def lib_cross(point, dps):
        return crossover(make_model("ar1", rho=point[rho]), point[alpha], point[lam], "population", "reconstruction",
                         dps=dps).as_dict()["f_star"]

    def ref_cross(point):
        """φ* from a root solve of quadrature-based E_pca against the library's d = ∞ E_gen at 65 digits."""
        e_ssr = equivalents(make_model("ar1", rho=point[rho]), point[alpha], point[lam], dps=62).as_dict()["e_gen"]
        return reference_crossover(point, e_ssr)

    dom_e = {rho: (-F(9, 10), F(9, 10)), phi: (F(1, 50), F(49, 50))}
    dom_c = {rho: (F(3, 10), F(9, 10)), alpha: (2, 20), lam: (F(1, 100), F(1, 2))}
    return [
        LibraryCheck("e-pca-vs-quadrature", lib_error, reference_e_pca_quadrature, dom_e),
        LibraryCheck("crossover-vs-root-of-quadrature", lib_cross, ref_cross, dom_c),
    ]


def spectrum_checks(derivation: Derivation) -> list[LibraryCheck]:
    """The spectral law of Â for Σ = I against the Marchenko–Pastur law pushed forward through φ."""

    def isotropic_law(point, dps):
        return spectral_law(make_model("isotropic"), alpha=point[alpha], lam=point[lam], d=None, dps=dps)

    def lib(point, dps):
        law = isotropic_law(point, dps)
        x = law.interior_point(point[u_frac])
        return law.density(x) * 1 + 0 * law.ctx.mpf(0)

    def ref(point):
        """Push-forward of the Marchenko–Pastur density through φ, at the same interior point."""
        x = isotropic_law(point, 60).interior_point(point[u_frac])
        return reference_pushforward_density(point, x)

    def lib_edge(which):
        def f(point, dps):
            (a, b), = isotropic_law(point, dps).support()
            return a if which == "lo" else b

        return f

    def ref_edge(which):
        return lambda point: reference_edge(point, which)

    dom = {alpha: (F(1, 5), 8), lam: (F(1, 100), 3), u_frac: (F(1, 20), F(19, 20))}
    dom_e = {alpha: (F(11, 10), 8), lam: (F(1, 100), 3)}
    return [
        LibraryCheck("density-vs-pushforward-of-marchenko-pastur", lib, ref, dom),
        LibraryCheck("lower-edge-vs-marchenko-pastur", lib_edge("lo"), ref_edge("lo"), dom_e),
        LibraryCheck("upper-edge-vs-marchenko-pastur", lib_edge("hi"), ref_edge("hi"), dom_e),
    ]


def masking_checks(derivation: Derivation) -> list[LibraryCheck]:
    """E_mask(p) at d = ∞: the library's general route against the isotropic closed form, and its AR(1) value against
    quadratures of the symbol."""
    results = derivation.results

    def lib(model_of):
        def f(point, dps):
            return mask_error(model_of(point), point[alpha], point[lam], point[p_mask], d=INF, dps=dps).e_mask

        return f

    dom = {alpha: (F(1, 5), 8), lam: (F(1, 100), 3), p_mask: (F(1, 50), F(49, 50))}
    dom_ar = {rho: (-F(4, 5), F(4, 5)), alpha: (F(1, 2), 6), lam: (F(1, 20), 2), p_mask: (F(1, 20), F(19, 20))}
    return [
        LibraryCheck("e-mask-isotropic-vs-closed-form", lib(lambda pt: make_model("isotropic")), _result_at(results, "e_mask_isotropic"),
                     dom),
        LibraryCheck("e-mask-ar1-vs-quadrature", lib(lambda pt: make_model("ar1", rho=pt[rho])), reference_e_mask_ar1_quadrature, dom_ar),
    ]


def elliptical_checks(derivation: Derivation) -> list[LibraryCheck]:
    """Elliptical data at d = ∞: the unit scale against the Gaussian closed form of derivation isotropic; the multivariate t
    (κ, E_train for Σ = I, E_gen for AR(1)) against a root solve on Tricomi's U and quadratures of the AR(1) symbol."""
    from derivations.elliptical import nu as nu_t
    from derivations.elliptical import reference_elliptical
    from rmtverify.theory.elliptical import elliptical_equivalents

    iso_results = derivations.get("isotropic").results

    def lib(model_of, key, law="elliptical-t"):
        def f(point, dps):
            nu_v = point[nu_t] if law == "elliptical-t" else None
            return getattr(elliptical_equivalents(model_of(point), point[alpha], point[lam], law=law, nu=nu_v, d=INF, dps=dps), key)

        return f

    def iso(point):
        return make_model("isotropic")

    def ar(point):
        return make_model("ar1", rho=point[rho])

    dom_g = {alpha: (F(1, 5), 8), lam: (F(1, 100), 3)}
    dom = {alpha: (F(1, 2), 8), lam: (F(1, 20), 3), nu_t: (F(21, 10), 30)}
    dom_ar = {**dom, rho: (-F(4, 5), F(4, 5))}
    return [
        LibraryCheck("unit-scale-e-gen-vs-isotropic-closed-form", lib(iso, "e_gen", "gaussian"), _result_at(iso_results, "e_gen"), dom_g),
        LibraryCheck("unit-scale-e-train-vs-isotropic-closed-form", lib(iso, "e_train", "gaussian"),
                     _result_at(iso_results, "e_train"), dom_g),
        LibraryCheck("t-kappa-isotropic-vs-tricomi-root", lib(iso, "kappa"), lambda pt: reference_elliptical(pt, "kappa"), dom),
        LibraryCheck("t-e-train-isotropic-vs-tricomi-root", lib(iso, "e_train"), lambda pt: reference_elliptical(pt, "e_train"), dom),
        LibraryCheck("t-e-gen-ar1-vs-quadrature-and-tricomi", lib(ar, "e_gen"), lambda pt: reference_elliptical(pt, "e_gen", "ar1"),
                     dom_ar),
    ]


#: the library checks of each derivation, by derivation name
CHECKS: dict[str, Callable[[Derivation], list[LibraryCheck]]] = {
    "ssr_closed_form": ssr_closed_form_checks,
    "kappa": kappa_checks,
    "train_gen": train_gen_checks,
    "isotropic": isotropic_checks,
    "ar1": ar1_checks,
    "spiked": spiked_checks,
    "bbp": bbp_checks,
    "pca": pca_checks,
    "spectrum": spectrum_checks,
    "masking": masking_checks,
    "elliptical": elliptical_checks,
}


def library_checks(derivation: Derivation) -> list[LibraryCheck]:
    """The library checks of ``derivation`` (built from it: references read its results when called)."""
    try:
        make = CHECKS[derivation.name]
    except KeyError:
        raise KeyError(f"no library checks for derivation {derivation.name!r}; known: {', '.join(CHECKS)}") from None
    return make(derivation)


__all__ = ["CHECKS", "library_checks"]
