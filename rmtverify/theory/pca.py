"""Masked SSR against PCA (claims C5, C6; derivation pca).

Metrics, per coordinate, at d = ∞:

- *reconstruction*: PCA with k = φd directions u_i reconstructs x by its
  projection, error (tr Σ − Σ_{i≤k} u_iᵀΣu_i)/d; SSR's error is E_gen.
  Population PCA (u_i eigenvectors of Σ) is in closed form; sample PCA
  (u_i eigenvectors of S) weighs each sample eigenvalue s by the
  Ledoit–Péché limit u(s)ᵀΣu(s) = s/|1 − γ − γ s m_F(s + i0)|², with m_F the
  Stieltjes transform of S's limiting law (module spectrum).
- *masked*: PCA used as a masked predictor — predict each coordinate from the
  others by its conditional mean under the probabilistic-PCA covariance with
  k components (top-k eigenpairs, the rest replaced by their mean σ²); error
  (1/d) Σ_j [PΣP]_jj/P_jj² with P = C^{-1}, against SSR's E_gen.

The SSR error is taken at a given λ or at the optimal ridge λ*, the zero of
dE_gen/dκ (dκ/dλ > 0), which is ∞ when E_gen decreases for every λ (Σ = I).
The isotropic base is AR(1) with ρ = 0; a spiked model compares through its
base (finite-rank spikes do not move per-coordinate errors at d = ∞).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import mpmath
import numpy as np
import scipy.optimize

from rmtverify.core.exceptions import InputError, SolverError
from rmtverify.core.params import INF, choice, exact, parse
from rmtverify.core.precision import decimal, deliver, mpf
from rmtverify.models import make_model
from rmtverify.symbolic.formulas import Formulas, numpy_function
from rmtverify.theory.equivalents import equivalents
from rmtverify.theory.kappa import solve_kappa

PCAS = ("population", "sample")
METRICS = ("reconstruction", "masked")


def k_fraction(name, value):
    """A fraction k/d of directions: an exact number in [0, 1], or InputError naming ``name``."""
    x = exact(value)
    if x is None or x in (INF, -INF) or not 0 <= x <= 1:
        raise InputError(name, f"must be a real number in [0, 1]; got {value!r}")
    return x


# ------------------------------------------------------------------ the SSR side


@dataclass(frozen=True)
class Ridge:
    lam: object  # ctx number, or None for λ* = ∞
    e_gen: object
    kappa: object
    dps: int | None  # None: double precision
    ctx: object
    reason: str = ""

    def as_dict(self) -> dict:
        return {
            "lam_opt": "inf" if self.lam is None else decimal(self.ctx, self.lam, self.dps),
            "e_gen": decimal(self.ctx, self.e_gen, self.dps),
            **({"reason": self.reason} if self.reason else {}),
        }


def _tau3(model, ctx):
    """τ, τ', τ'' of the d = ∞ base at real κ ≥ 0."""
    F = Formulas(ctx)
    r = model.ar1_rho()
    if r == 0:
        return lambda k: (F("isotropic.tau")(k), F("isotropic.tau_p")(k), F("isotropic.tau_pp")(k))
    rr = mpf(ctx, r)
    return lambda k: (F("ar1.tau")(k, rr), F("ar1.tau_p")(k, rr), F("ar1.tau_pp")(k, rr))


def _optimal_in(model, alpha, ctx) -> dict:
    F = Formulas(ctx)
    a = mpf(ctx, alpha)
    tau3 = _tau3(model, ctx)

    def E(k):
        t, tp, _ = tau3(k)
        return F("pca.e_gen_kappa")(k, a, t, tp)

    def dE(k):
        t, tp, tpp = tau3(k)
        return F("pca.e_gen_kappa_p")(k, a, t, tp, tpp)

    if alpha == 1:
        raise InputError("alpha", "the optimal ridge is not defined at alpha = 1 (the ridgeless errors diverge there); "
                                  "give a lam instead of 'opt'")
    # κ ranges over (κ(λ = 0), ∞); scan dE/dκ on a geometric grid for its first − → + change
    k0 = solve_kappa(model.limit_base().resolvent(INF, ctx), alpha, 0, ctx) if alpha < 1 else ctx.mpf(0)
    grid = [k0 + ctx.mpf(10) ** (ctx.mpf(j) / 4) for j in range(-40, 41)]
    prev = None
    for k in grid:
        sgn = dE(k) > 0
        if prev is not None and not prev[1] and sgn:
            lo, hi = prev[0], k
            kstar = ctx.findroot(dE, (lo, hi), solver="anderson", tol=ctx.mpf(2) ** (-(ctx.prec - 12)), maxsteps=500)
            if not lo <= kstar <= hi:
                raise SolverError("optimal ridge dE_gen/dκ = 0",
                                  f"root {ctx.nstr(kstar, 10)} left the bracket [{ctx.nstr(lo, 10)}, {ctx.nstr(hi, 10)}]")
            t, _, _ = tau3(kstar)
            lam = kstar * F("kappa.lam_over_kappa")(a, F("kappa.df1_over_d")(kstar, t))
            return {"lam": lam, "e_gen": E(kstar), "kappa": kstar, "infinite": False}
        prev = (k, sgn)
    if dE(grid[-1]) < 0:
        # E_gen still decreasing at κ = 10^10: its infimum is the λ → ∞ limit (predict 0, error tr Σ/d = 1)
        return {"lam": None, "e_gen": ctx.mpf(1), "kappa": None, "infinite": True}
    raise SolverError("optimal ridge", "dE_gen/dκ has no − → + sign change on κ ∈ κ(0) + [1e-10, 1e10] and is not negative at the top")


def optimal_ridge(model, alpha, dps: int | None = 30) -> Ridge:
    """λ* = argmin_λ E_gen at d = ∞ (∞ when E_gen decreases for every λ), with E_gen(λ*).

    ``dps=None`` selects double precision (one evaluation, no digit guarantee: maps and scans)."""
    alpha = parse("alpha", alpha)
    model.ar1_rho()  # the comparisons know the isotropic and AR(1) laws (InputError naming "model" otherwise)

    def compute(ctx):
        v = _optimal_in(model, alpha, ctx)
        return {"lam": v["lam"], "e_gen": v["e_gen"], "kappa": v["kappa"], "infinite": v["infinite"]}

    if dps is None:
        ctx, v = mpmath.fp, compute(mpmath.fp)
    else:
        ctx, v = deliver(compute, dps, "the optimal ridge")
        dps = parse("dps", dps)
    reason = "E_gen decreases for every λ: the best masked regression is no regression (error tr Σ/d = 1)" if v["infinite"] else ""
    return Ridge(v["lam"], v["e_gen"], v["kappa"], dps, ctx, reason)


def ssr_error(model, alpha, lam, dps: int | None = 30) -> tuple:
    """(E_gen at d = ∞ as a decimal string, λ used as a string or 'inf', the Ridge when λ = 'opt')."""
    if isinstance(lam, str) and lam.strip().lower() == "opt":
        r = optimal_ridge(model, alpha, dps)
        d = r.as_dict()
        return d["e_gen"], d["lam_opt"], r
    model.ar1_rho()  # the comparisons know the isotropic and AR(1) laws (InputError naming "model" otherwise)
    res = equivalents(model.limit_base(), alpha, lam, d=INF, dps=dps)
    return res.as_dict()["e_gen"], str(res.lam), None


# ------------------------------------------------------------------ the PCA side


def population_error(model, phi, dps: int = 30, metric: str = "reconstruction") -> str:
    """Population PCA (or PPCA masked) error at d = ∞ with k = φd, as a decimal string."""
    phi = k_fraction("k_frac", phi)
    metric = choice("metric", metric, METRICS)
    r = model.ar1_rho()
    name = "pca.e_pca_ar1" if metric == "reconstruction" else "pca.e_ppca_ar1"

    def compute(ctx):
        return {"e": Formulas(ctx)(name)(mpf(ctx, phi), abs(mpf(ctx, r)))}

    ctx, v = deliver(compute, dps, "the population PCA error")
    return decimal(ctx, v["e"], parse("dps", dps))


#: nodes of the sample-PCA tables: the cumulative integrals are trapezoid sums on cos-spaced nodes, whose
#: error grows with the width b/a of S's support. Against 32000 nodes, the largest error over k/d with 2000
#: → 8000 nodes: ρ = 0.95, α = 8 (b/a = 2738) reconstruction 4.1e-6 → 2.4e-7 (a Monte Carlo at d = 2048
#: resolves 2.4e-6 there and caught the first); ρ = 0.8, α = 2 (b/a = 711) masked 3.1e-5 → 1.9e-6;
#: ρ = 0.5, α = 2 (b/a = 106) masked 1.1e-5 → 7e-7
TABLE_NODES = 2000
TABLE_NODES_WIDE = 8000
WIDE_SUPPORT = 100.0  # b/a beyond which the wide table is used


class SampleLaw:
    """S's limiting law at d = ∞ with Ledoit–Péché weights, tabulated in double precision (see TABLE_NODES)."""

    def __init__(self, model, alpha, nodes: int | None = None):
        from rmtverify.theory.spectrum import spectral_law

        self.alpha = parse("alpha", alpha)
        law = spectral_law(model.limit_base(), self.alpha, 1, d=INF, dps=None)
        lam = 1.0
        # κc₀ rounded once: the push-forward φ(s) = 1 − λ/(κc₀(s + λ)), its inverse and m_F depend on κ and c₀
        # through their product only, which is passed as κ with c₀ = 1
        kc = float(law.kappa * law.c0)
        phi, phi_inv = numpy_function("spectrum.pushforward"), numpy_function("spectrum.pushforward_inverse")
        m_F = numpy_function("spectrum.m_F")
        self.mean_sigma = 1.0  # diag Σ = 1 for the isotropic and AR(1) bases
        # S's law on an isotropic or AR(1) base (a connected population spectrum) has one support
        # interval: a coarse scan brackets its two edges, each then solved as an equation
        edges = [(float(a), float(b)) for a, b in law.support(grid=1000)]
        if len(edges) != 1:
            raise SolverError("sample PCA law", f"expected one support interval for S, found {len(edges)}")
        mu_lo, mu_hi = edges[0]
        a, b = (float(phi_inv(mu, lam, kc, 1.0)) for mu in (mu_lo, mu_hi))  # S's edges, φ^{-1} of Â's
        if nodes is None:
            nodes = TABLE_NODES_WIDE if a > 0 and b > WIDE_SUPPORT * a else TABLE_NODES
        t = np.linspace(0, np.pi, nodes)
        s = a + (b - a) * (1 - np.cos(t)) / 2
        mu = phi(s[1:-1], lam, kc, 1.0)
        m = np.zeros(nodes, complex)
        m[1:-1] = m_F(law.g_M_grid(mu), lam, kc, 1.0)  # m_F(s) = (κc₀/λ) g_M(w), w = (κc₀/λ)(s + λ)
        dens = np.maximum(m.imag / np.pi, 0.0)
        w = np.zeros(nodes)
        w[1:-1] = numpy_function("pca.lp_weight")(s[1:-1], float(self.alpha), m.real[1:-1], m.imag[1:-1])
        jac = (b - a) / 2 * np.sin(t)  # ds/dt: the square-root edges become smooth in t
        self.s = s
        self.density = dens
        self.weight = w

        def cum_from_top(f):
            g = f * jac
            c = np.concatenate([[0.0], np.cumsum((g[1:] + g[:-1]) / 2 * np.diff(t))])
            return c[-1] - c  # ∫ from s to the top

        self.mass_above = cum_from_top(dens)
        self.wmass_above = cum_from_top(dens * w)
        self.smass_above = cum_from_top(dens * s)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = np.where(s > 0, 1 / s, 0.0)
        self.pmass_above = cum_from_top(dens * inv)  # ∫ (1/s) dF from s to the top
        self.p2wmass_above = cum_from_top(dens * inv**2 * w)  # ∫ (1/s²) δ(s) dF
        self.cont_mass = self.mass_above[0]
        self.atom = max(0.0, 1.0 - float(self.alpha)) if self.alpha < 1 else 0.0
        # eigenvectors of the null space of S (α < 1) share what the continuous part leaves of tr Σ/d
        self.null_weight = (self.mean_sigma - self.wmass_above[0]) / self.atom if self.atom > 0 else 0.0

    def _split(self, phi):
        """The cumulative integrals above the top fraction φ of S's eigenvalues, and the null-space excess."""
        names = ("wmass_above", "smass_above", "s", "pmass_above", "p2wmass_above")
        if phi <= self.cont_mass:
            i = np.searchsorted(-self.mass_above, -phi)  # mass_above decreases along s
            i = min(max(i, 1), len(self.s) - 1)
            # linear interpolation between nodes i-1 and i, consistently for every integral
            m0, m1 = self.mass_above[i - 1], self.mass_above[i]
            f = (m0 - phi) / (m0 - m1) if m0 != m1 else 0.0
            vals = {n: getattr(self, n)[i - 1] + f * (getattr(self, n)[i] - getattr(self, n)[i - 1]) for n in names}
            return vals, 0.0
        return {n: getattr(self, n)[0] for n in names}, phi - self.cont_mass  # k > n: null directions kept

    def reconstruction_error(self, phi) -> float:
        v, extra = self._split(float(phi))
        return float(self.mean_sigma - v["wmass_above"] - extra * self.null_weight)

    def masked_error(self, phi) -> float:
        """PPCA masked predictor from the sample: P = 1/s on the kept eigenvalues, 1/σ̂² on the rest."""
        phi = float(phi)
        if phi >= 1:
            raise InputError("k_frac", "the sample PPCA needs k < d (σ̂² is the mean of the discarded eigenvalues)")
        v, extra = self._split(phi)
        if extra > 0:
            raise InputError("k_frac", f"the sample PPCA needs k < n (a non-zero discarded eigenvalue); k/d = {phi} ≥ α")
        s2 = (self.smass_above[0] - v["smass_above"]) / (1 - phi)  # mean discarded eigenvalue (zeros included)
        if s2 <= 0:
            raise SolverError("sample PPCA", f"σ̂² = {s2} ≤ 0 at k/d = {phi}")
        # P = 1/s on the kept eigenvalues and 1/σ̂² on the rest: ∫ p dF and ∫ p² δ dF
        rest_weight = self.mean_sigma - v["wmass_above"]
        p_int = v["pmass_above"] + (1 - phi) / s2
        p2w = v["p2wmass_above"] + rest_weight / s2**2
        return float(p2w / p_int**2)


@dataclass(frozen=True)
class Crossover:
    f_star: object
    e_ssr: str
    lam: str
    pca: str
    metric: str
    dps: int | None
    ctx: object = None
    crossings: tuple = ()  # every φ where the errors are equal (sample PPCA can cross twice)

    def as_dict(self) -> dict:
        f = self.f_star if isinstance(self.f_star, str) else (decimal(self.ctx, self.f_star, self.dps) if self.ctx is not None
                                                              else repr(float(self.f_star)))
        out = {"f_star": f, "e_ssr": self.e_ssr, "lam": self.lam, "pca": self.pca, "metric": self.metric,
               "dps": self.dps if self.dps is not None else "double"}
        if len(self.crossings) > 1:
            out["crossings"] = [repr(float(c)) for c in self.crossings]
        return out


def crossover(model, alpha, lam="opt", pca: str = "population", metric: str = "reconstruction", dps: int | None = 30,
              law: "SampleLaw | None" = None) -> Crossover:
    """f* with E_pca(f*) = E_SSR: SSR beats PCA with fewer than f*·d directions (0: PCA always wins; 1: never).

    ``dps=None``: double precision throughout (the sample-PCA side is double precision at any ``dps``)."""
    pca = choice("pca", pca, PCAS)
    metric = choice("metric", metric, METRICS)
    alpha = parse("alpha", alpha)
    r = model.ar1_rho()
    e_str, lam_str, _ = ssr_error(model, alpha, lam, dps=None if dps is None else parse("dps", dps) + 10)
    if pca == "sample":
        law = law or SampleLaw(model, alpha)
        e = float(e_str)
        f = law.reconstruction_error if metric == "reconstruction" else law.masked_error
        # the masked error of the sample PPCA is U-shaped (C → S overfits as k → d): locate every crossing
        # the sample PPCA needs a discarded eigenvalue that is not 0: k < n when α < 1
        top = (min(1.0, law.cont_mass) if metric == "masked" else 1.0) - 1e-6
        grid = np.linspace(0.0, top, 401)
        vals = np.array([f(x) - e for x in grid])
        crossings = [scipy.optimize.brentq(lambda x: f(x) - e, grid[i], grid[i + 1], xtol=1e-13)
                     for i in range(len(grid) - 1) if vals[i] > 0 >= vals[i + 1] or vals[i] <= 0 < vals[i + 1]]
        if vals[0] <= 0:
            first = 0.0  # PCA wins from k = 0 on
        elif crossings:
            first = crossings[0]
        else:
            first = 1.0  # SSR wins at every k
        return Crossover(first, e_str, lam_str, pca, metric, None, crossings=tuple(crossings))

    def compute(ctx):
        F = Formulas(ctx)
        e = ctx.mpf(e_str)
        ra = abs(mpf(ctx, r))
        if metric == "reconstruction":
            if e >= 1:
                return {"f": ctx.mpf(0)}
            return {"f": F("pca.f_star")(e, ra)}
        g = lambda x: F("pca.e_ppca_ar1")(x, ra) - e  # noqa: E731  (decreasing from 1 to the floor)
        if e >= 1:
            return {"f": ctx.mpf(0)}
        if e <= F("ar1.population_floor")(ra):
            return {"f": ctx.mpf(1)}  # the PPCA error reaches the floor only at k = d
        top = 1 - ctx.mpf(10) ** (-(ctx.dps // 4))
        if g(top) > 0:
            top = 1 - ctx.mpf(10) ** (-(ctx.dps // 2))
        return {"f": ctx.findroot(g, (ctx.mpf(0), top), solver="illinois", tol=ctx.mpf(2) ** (-(ctx.prec - 12)), maxsteps=400)}

    if dps is None:
        return Crossover(compute(mpmath.fp)["f"], e_str, lam_str, pca, metric, None, mpmath.fp)
    ctx, v = deliver(compute, dps, "the SSR-PCA crossover")
    return Crossover(v["f"], e_str, lam_str, pca, metric, parse("dps", dps), ctx)


def crossover_alpha(model, phi, lam="opt", pca: str = "population", metric: str = "reconstruction") -> float | str:
    """α* with E_SSR(α*) = E_pca(φ; α*) (double precision): SSR wins for α > α*; 'none' if it never does."""
    phi = k_fraction("k_frac", phi)
    pca = choice("pca", pca, PCAS)
    metric = choice("metric", metric, METRICS)

    def gap(log_a):
        a = Fraction(repr(float(np.exp(log_a))))
        e_ssr = float(ssr_error(model, a, lam, dps=20)[0])
        if pca == "population":
            e_pca = float(population_error(model, phi, dps=20, metric=metric))
        else:
            law = SampleLaw(model, a)
            e_pca = law.reconstruction_error(phi) if metric == "reconstruction" else law.masked_error(phi)
        return e_ssr - e_pca

    lo, hi = np.log(0.05), np.log(1e4)
    g_lo, g_hi = gap(lo), gap(hi)
    if g_hi >= 0:
        return "none"
    if g_lo < 0:
        return float(np.exp(lo))
    return float(np.exp(scipy.optimize.brentq(gap, lo, hi, xtol=1e-10)))


def population_limit_crossover(rho, dps: int = 30) -> str:
    """f* at α = ∞, λ → 0 in closed form (derivation pca, crossover-population-limit)."""
    rho = parse("rho", rho)

    def compute(ctx):
        return {"f": Formulas(ctx)("pca.f_star_population_limit")(abs(mpf(ctx, rho)))}

    ctx, v = deliver(compute, dps, "the population-limit crossover")
    return decimal(ctx, v["f"], parse("dps", dps))


def crossover_map(rhos, alphas, metrics=METRICS) -> dict:
    """φ* of population PCA at the optimal ridge over a grid, in double precision: {metric: rows over α of
    values over ρ}; one optimal ridge serves every metric."""
    out = {m: [] for m in metrics}
    for a in alphas:
        rows = {m: [] for m in metrics}
        for r in rhos:
            model, alpha = make_model("ar1", rho=Fraction(repr(float(r)))), Fraction(repr(float(a)))
            lam = optimal_ridge(model, alpha, dps=None).as_dict()["lam_opt"]  # a map: double precision
            lam = "opt" if lam == "inf" else Fraction(lam)
            for m in metrics:
                rows[m].append(float(crossover(model, alpha, lam, "population", m, dps=None).as_dict()["f_star"]))
        for m in metrics:
            out[m].append(rows[m])
    return out


SETTINGS = (("population", "reconstruction"), ("sample", "reconstruction"), ("population", "masked"), ("sample", "masked"))


def law_error(law: SampleLaw, metric: str, phi) -> float:
    """The sample-PCA error of ``metric`` at k/d = φ from the sample law's tables."""
    return law.reconstruction_error(phi) if metric == "reconstruction" else law.masked_error(phi)


@lru_cache(maxsize=None)
def crossover_design(rho: Fraction, alpha: Fraction, dps: int = 20) -> dict:
    """AR(1) at (ρ, α), d = ∞: the optimal ridge λ* and E_gen(λ*), the sample law, the crossover φ* of each
    (PCA, metric) setting, and test fractions on each side of φ* — φ*/2 and (1 + φ*)/2, or 0.5 when φ* is 0
    or 1; the sample PPCA needs k < n, so its fractions stay below 0.9α — with the PCA error there."""
    model = make_model("ar1", rho=rho)
    ridge = optimal_ridge(model, alpha, dps=dps).as_dict()
    lam, law = Fraction(ridge["lam_opt"]), SampleLaw(model, alpha)
    fstars = {s: float(crossover(model, alpha, lam, *s, dps=dps, law=law).as_dict()["f_star"]) for s in SETTINGS}
    tests = []
    for pca, metric in SETTINGS:
        f = fstars[(pca, metric)]
        for phi in [0.5] if f <= 0 or f >= 1 else [f / 2, (1 + f) / 2]:
            phi = min(phi, 0.9 * float(alpha)) if (pca, metric) == ("sample", "masked") else phi
            exact = population_error(model, Fraction(repr(phi)), dps=dps, metric=metric) if pca == "population" else None
            tests.append((pca, metric, phi, float(exact) if exact is not None else law_error(law, metric, phi)))
    return {"lam": lam, "e_ssr": ridge["e_gen"], "law": law, "fstars": fstars, "tests": tests}


def error_curves(rho: Fraction, alpha: Fraction, phis) -> dict:
    """The four PCA errors against k/d = φ at d = ∞ (population in closed form, sample from the law's tables;
    NaN where the sample PPCA is not defined, k ≥ n)."""
    law, r, top = crossover_design(rho, alpha)["law"], abs(float(rho)), min(0.999, 0.999 * float(alpha))
    return {
        "population PCA": list(numpy_function("pca.e_pca_ar1")(phis, r)),
        "sample PCA": [law.reconstruction_error(x) for x in phis],
        "population PPCA (masked)": list(numpy_function("pca.e_ppca_ar1")(phis, r)),
        "sample PPCA (masked)": [law.masked_error(x) if x < top else float("nan") for x in phis],
    }
