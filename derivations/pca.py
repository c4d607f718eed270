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

import sympy as sp

from . import get
from .framework import Derivation, LibraryCheck, Result, Step
from .symbols import alpha, lam, omega, phi, rho

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
    results = {
        "e_pca_ar1": Result(e_pca, (phi, r_abs), "E_pca(φ) for AR(1), population PCA, d = ∞"),
        "f_star": Result(f_star, (E, r_abs), "crossover fraction for an SSR error E"),
        "f_star_population_limit": Result(f_star_inf, (r_abs,), "crossover at α = ∞, λ → 0"),
    }
    domain = {rho: (-sp.Rational(9, 10), sp.Rational(9, 10)), omega: (-3, 3), phi: (0, 1), r_abs: (0, sp.Rational(9, 10)), E: (sp.Rational(1, 50), sp.Rational(49, 50))}
    return Derivation(
        name="pca",
        title="Population PCA for AR(1) at d = ∞ and the SSR–PCA crossover",
        summary=__doc__,
        steps=steps,
        results=results,
        domain=domain,
        library_checks=_library_checks(f),
        references=("Grenander & Szegő (1958)",),
    )


def _numeric_quadrature(f, e_pca):
    def check(point, ctx):
        r = ctx.mpf(point[r_abs].numerator) / point[r_abs].denominator
        p = ctx.mpf(point[phi].numerator) / point[phi].denominator
        quad = ctx.quad(lambda w: (1 - r**2) / (1 - 2 * r * ctx.cos(w) + r**2), [ctx.pi * p, ctx.pi]) / ctx.pi
        subs = {r_abs: sp.Rational(point[r_abs].numerator, point[r_abs].denominator), phi: sp.Rational(point[phi].numerator, point[phi].denominator)}
        return quad, ctx.mpf(str(sp.N(e_pca.subs(subs), 70)))

    return check


def _library_checks(f):
    def lib_error(point, dps):
        from rmtverify.pca import population_error_ar1

        return population_error_ar1(point[phi], point[rho], dps=dps).value

    def ref_error(point):
        import mpmath

        ctx = mpmath.MPContext()
        ctx.dps = 65
        r = abs(ctx.mpf(point[rho].numerator) / point[rho].denominator)
        p = ctx.mpf(point[phi].numerator) / point[phi].denominator
        # the mean of the smallest eigenvalues of the symbol, by quadrature over its tail
        return ctx.quad(lambda w: (1 - r**2) / (1 - 2 * r * ctx.cos(w) + r**2), [ctx.pi * p, ctx.pi]) / ctx.pi

    def lib_cross(point, dps):
        from rmtverify.pca import crossover_ar1

        return crossover_ar1(point[rho], point[alpha], point[lam], dps=dps).f_star

    def ref_cross(point):
        """φ* from a root solve of quadrature-based E_pca against the library's d = ∞ E_gen at 65 digits."""
        import mpmath

        from rmtverify.models import make_model
        from rmtverify.theory import errors

        ctx = mpmath.MPContext()
        ctx.dps = 65
        e_ssr = ctx.mpf(errors(make_model("ar1", rho=point[rho]), point[alpha], point[lam], dps=62).as_dict()["e_gen"])
        r = abs(ctx.mpf(point[rho].numerator) / point[rho].denominator)

        def e_pca(p):
            return ctx.quad(lambda w: (1 - r**2) / (1 - 2 * r * ctx.cos(w) + r**2), [ctx.pi * p, ctx.pi]) / ctx.pi

        if e_ssr >= 1:
            return ctx.mpf(0)
        return ctx.findroot(lambda p: e_pca(p) - e_ssr, (ctx.mpf(0), ctx.mpf(1)), solver="anderson")

    dom_e = {rho: (-sp.Rational(9, 10), sp.Rational(9, 10)), phi: (sp.Rational(1, 50), sp.Rational(49, 50))}
    dom_c = {rho: (sp.Rational(3, 10), sp.Rational(9, 10)), alpha: (2, 20), lam: (sp.Rational(1, 100), sp.Rational(1, 2))}
    return [
        LibraryCheck("e-pca-vs-quadrature", lib_error, ref_error, dom_e),
        LibraryCheck("crossover-vs-root-of-quadrature", lib_cross, ref_cross, dom_c),
    ]
