"""Masked SSR against PCA (claims C5, C6; derivation pca).

Metrics, per coordinate, at d = ∞:

- *reconstruction*: PCA with k = φd directions u_i reconstructs x by its
  projection, error (tr Σ − Σ_{i≤k} u_iᵀΣu_i)/d; SSR's error is E_gen.
  Population PCA (u_i eigenvectors of Σ) is in closed form; sample PCA
  (u_i eigenvectors of S) weighs each sample eigenvalue s by the
  Ledoit–Péché limit u(s)ᵀΣu(s) = s/|1 − γ − γ s m_F(s + i0)|², with m_F the
  Stieltjes transform of S's limiting law (module spectrum). Two routes:
  :class:`SampleLawMP` at any precision (Chebyshev panels in a variable where
  the square-root edges are smooth, m_F from the spectral law's fixed point in
  the working context; ``sample_error``, ``crossover(pca="sample", dps=D)``
  deliver every digit), and :class:`SampleLaw`, double-precision trapezoid
  tables (the Monte Carlo claim C6, maps), whose texts carry only the digits
  they have (``honest_text``, an error estimate from a coarser table).
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

import bisect
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import mpmath
import numpy as np
import scipy.optimize

from rmtverify.core.exceptions import InputError, SolverError
from rmtverify.core.params import INF, choice, exact, parse
from rmtverify.core.precision import context, decimal, deliver, mpf
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
    guard_optimal_ridge(model, alpha)  # extremes: refused by parameter (see the guards at the end of this module)

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
#: a table's error is estimated by its gap to a table on 1/COARSE_RATIO of its nodes (O(h²): the gap is ~3 errors)
COARSE_RATIO = 2
#: relative error below which a double-precision value is never claimed to be (rounding in the tables and root solves)
DOUBLE_FLOOR = 1e-13


#: the unit of the last digit a double-precision value is printed with is at least HONEST_MARGIN times its error
HONEST_MARGIN = 10


def honest_text(x: float, err: float) -> str:
    """``x`` as a decimal string with only the significant digits an absolute error ``err`` leaves: the unit u of the
    last digit printed is at least HONEST_MARGIN·err, so the text is within 0.6u of the truth, and is the truth
    correctly rounded unless the truth lies within err of a rounding boundary (at most 15 digits, at least one)."""
    x, err = float(x), abs(float(err))
    if err == 0 or not math.isfinite(x):
        return repr(x)  # an exact value (f* = 0 or 1 by classification, the same in the coarse table)
    if x == 0:
        return f"{0.0:.{max(0, -math.ceil(math.log10(HONEST_MARGIN * err)))}f}"
    lead = math.floor(math.log10(abs(x)))
    digits = lead + 1 - math.ceil(math.log10(HONEST_MARGIN * err))
    digits = min(15, max(1, digits))
    return f"{x:#.{digits}g}" if abs(x) >= 1e-4 else f"{x:.{digits - 1}e}"


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
        self.model, self.nodes, self._coarse = model, nodes, None
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

    # ---- how many digits the tables have
    def coarse(self) -> "SampleLaw":
        """The same law on half the nodes (built once): the trapezoid tables converge as O(h²), so the gap between
        this law and its coarse companion is about three times this law's own error (COARSE_RATIO)."""
        if self._coarse is None:
            self._coarse = SampleLaw(self.model, self.alpha, nodes=self.nodes // COARSE_RATIO)
        return self._coarse

    def error_estimate(self, metric: str, phi) -> float:
        """An estimate of the absolute error of this table's ``metric`` error at k/d = φ: its gap to the coarse
        companion's (see :meth:`coarse`), never below DOUBLE_FLOOR relative. Against the precision path at ρ = 0.5, 0.8,
        0.95, α = 1/2, 2, 8, φ = 0.1, 0.25, 0.4, both metrics, it was 1.3 to 8 times the actual error."""
        v = law_error(self, metric, phi)
        return max(abs(v - law_error(self.coarse(), metric, phi)), DOUBLE_FLOOR * abs(v))

    def text(self, metric: str, phi) -> str:
        """The ``metric`` error at k/d = φ as a decimal string with only the digits the table has."""
        return honest_text(law_error(self, metric, phi), self.error_estimate(metric, phi))


# ------------------------------------------------------------------ sample PCA at any precision

#: Chebyshev points per panel of the precision path: CHEB_PER_DIGIT per digit of the context, at least CHEB_MIN
#: (measured at ρ = 0.8, α = 2 and ρ = 0.95, α = 8, 42 and 74 digits: 2 per digit needs the fewest nodes in all)
CHEB_PER_DIGIT, CHEB_MIN = 2.0, 24
#: t ∈ [0, π] starts as panels graded towards the lower edge t = 0 (whose scale shrinks with a/b), [0, π/2^PANELS_GRADED],
#: ..., [π/4, π/2], [π/2, π]; a panel whose Chebyshev series has not converged to the context's precision is halved,
#: up to PANELS_MAX panels in all
PANELS_GRADED, PANELS_MAX = 4, 400
#: Newton steps at a node (from a start interpolated along t) before the continuation from Im w ≫ 1 is used instead
NODE_NEWTON_STEPS = 30
#: the nodes' g_M must agree with the double-precision continuation to BRANCH_TOL of its largest size (a check of the branch)
BRANCH_TOL = 1e-6
#: the crossing scan looks at about SCAN_POINTS cuts, equally spaced in t on each panel (the table path scans 401 fractions)
SCAN_POINTS = 400
#: the integrals from a cut to the top of S's support: ∫ρ, ∫δρ, ∫sρ, ∫ρ/s, ∫δρ/s² (ds), δ the Ledoit–Péché weight
PARTS = ("mass", "wmass", "smass", "pmass", "p2wmass")


@dataclass
class _Panel:
    t0: object
    t1: object
    coef: list  # per part: Chebyshev coefficients c_0..c_{n-1} of the integrand in x ∈ [-1, 1] (t = mid + half·x)
    anti: list  # per part: coefficients A_1..A_n of its antiderivative from t0 (index 0 unused), in t
    total: list  # per part: the integral over the panel
    tail: list  # per part: the size of the last coefficients (the series' truncation error, per unit of x)

    @property
    def half(self):
        return (self.t1 - self.t0) / 2


class SampleLawMP:
    """S's law at d = ∞ with Ledoit–Péché weights in one mpmath context: the precision path of :class:`SampleLaw`.

    The integrals of PARTS from a cut s_c to the top b of S's support [a, b] are taken in the variable t of
    s = a + (b − a)(1 − cos t)/2 (derivation pca, steps sample-map-*), in which ρ ds/dt is smooth up to both
    square-root edges: on panels of [0, π] each integrand is a Chebyshev series, a panel halved until its last
    coefficients are below the context's precision, and the integral from any cut is the series' antiderivative.
    m_F(s + i0) at a node is the spectral law's fixed point (module spectrum, at this precision) solved by Newton's
    method from a start interpolated along t through the nodes already solved (δ is analytic in t), the first node by
    the law's continuation from Im w ≫ 1; the physical root is the one with Im m_F > 0. The edges a, b are the law's
    edges, solved as equations at this precision. Every number is the context's: the callers deliver the digits
    (two precisions must agree), which also checks the panels' convergence.
    """

    def __init__(self, model, alpha, ctx):
        from rmtverify.theory.spectrum import SpectralLaw

        self.ctx = ctx
        self.alpha = parse("alpha", alpha)
        if self.alpha == 1:
            raise InputError("alpha", "the sample-PCA law needs alpha != 1 (at alpha = 1 the lower edge of S's support is a hard "
                                      "edge at 0, where the PPCA integrals of 1/s diverge)")
        law = SpectralLaw(model.limit_base(), self.alpha, Fraction(1), INF, ctx)
        if not law.constant_diagonal:
            raise SolverError("sample PCA law at d = ∞", "the base law has no constant diag R (S's law is not a push-forward)")
        self.law = law
        F = self.F = Formulas(ctx)
        one = ctx.mpf(1)
        self._alpha = mpf(ctx, self.alpha)
        self._pushforward = lambda s: F("spectrum.pushforward")(s, one, law.kappa, law.c0)
        self._m_F = lambda g: F("spectrum.m_F")(g, one, law.kappa, law.c0)
        edges = law.support(grid=1000)
        if len(edges) != 1:
            raise SolverError("sample PCA law", f"expected one support interval for S, found {len(edges)}")
        self.a, self.b = (F("spectrum.pushforward_inverse")(mu, one, law.kappa, law.c0) for mu in edges[0])
        atoms = law.atoms()
        self.atom = atoms[0].mass if atoms else None  # S's null space when α < 1
        self.n = max(CHEB_MIN, int(CHEB_PER_DIGIT * ctx.dps))
        theta = [(2 * j + 1) * ctx.pi / (2 * self.n) for j in range(self.n)]
        self._x = [ctx.cos(th) for th in theta]  # Chebyshev points of the first kind (no node on an edge)
        self._cos = [[ctx.cos(k * th) for th in theta] for k in range(self.n)]  # T_k(x_j)
        self._known_t, self._known, self._known_g = [], [], []  # solved nodes along t (sorted), their δ and g_M
        self.nodes_solved = 0
        self._seed()
        self._build()
        self._check_branch()

    # ---- m_F(s + i0) along t
    def _w(self, t):
        s = self.F("pca.sample_map")(t, self.a, self.b)
        return s, self.F("spectrum.w_of_z")(self._pushforward(s))

    def _seed(self):
        t = self.ctx.pi / 2
        _, w = self._w(t)
        delta, g = self.law._solve_mp(self.ctx.mpc(w))
        self._remember(t, *self._physical(delta, g))

    def _physical(self, delta, g):
        # at a real w the fixed point is real-analytic in δ: a root's conjugate is a root; the law is the one with Im m_F > 0
        return (self.ctx.conj(delta), self.ctx.conj(g)) if self.ctx.im(g) < 0 else (delta, g)

    def _remember(self, t, delta, g):
        i = bisect.bisect(self._known_t, t)
        self._known_t.insert(i, t)
        self._known.insert(i, delta)
        self._known_g.insert(i, g)
        return delta, g

    def _guess(self, t):
        """δ at t interpolated through the (up to) three nearest solved nodes."""
        i = bisect.bisect(self._known_t, t)
        near = sorted(range(max(0, i - 3), min(len(self._known_t), i + 3)), key=lambda j: abs(self._known_t[j] - t))[:3]
        out = 0
        for j in near:
            term = self._known[j]
            for k in near:
                if k != j:
                    term *= (t - self._known_t[k]) / (self._known_t[j] - self._known_t[k])
            out += term
        return out

    def _solve(self, t, w):
        ctx, law = self.ctx, self.law
        w = ctx.mpc(w)
        start = delta = self._guess(t)
        floor, tol = 64 * ctx.eps, ctx.mpf(2) ** (-(ctx.prec - 8))
        for _ in range(NODE_NEWTON_STEPS):
            # the spectral law's fixed point F(δ; w), its δ-derivative and g_M at δ (module spectrum)
            Fv, dF, g = law._F(law._mp, w, delta)
            if abs(Fv) <= floor * (1 + abs(delta)):
                break
            step = Fv / dF
            delta -= step
            if abs(step) <= tol * (1 + abs(delta)):
                g = law._F(law._mp, w, delta)[2]
                break
        else:
            delta, g = law._solve_mp(w, start=start)  # the continuation from Im w ≫ 1, from the interpolated start
        self.nodes_solved += 1
        return self._remember(t, *self._physical(delta, g))

    def _integrands(self, t):
        """The PARTS integrands times ds/dt at t."""
        F, ctx = self.F, self.ctx
        s, w = self._w(t)
        _, g = self._solve(t, w)
        m = self._m_F(g)
        m_re, m_im = ctx.re(m), ctx.im(m)
        f = F("pca.sample_density")(m_im) * F("pca.sample_map_jac")(t, self.a, self.b)
        lp = F("pca.lp_weight")(s, self._alpha, m_re, m_im)
        return [f, f * lp, f * s, f / s, f * lp / s**2]

    def _check_branch(self):
        """Every node's g_M against the law's double-precision continuation from Im w ≫ 1 (its vectorised path): a root
        of the fixed point other than the physical one would differ by O(|g_M|)."""
        F = self.F
        mus = np.array([float(self._pushforward(F("pca.sample_map")(t, self.a, self.b))) for t in self._known_t])
        ref = self.law.g_M_grid(mus)
        got = np.array([complex(g) for g in self._known_g])
        worst = int(np.argmax(np.abs(got - ref)))
        if not np.abs(got - ref)[worst] <= BRANCH_TOL * np.max(np.abs(ref)):
            raise SolverError("sample PCA law: m_F along t", f"g_M = {got[worst]:.10g} at t = {float(self._known_t[worst]):.10g} "
                                                             f"(Newton from interpolated starts) but {ref[worst]:.10g} by the "
                                                             "double-precision continuation from Im w ≫ 1")

    # ---- the panels
    def _panel(self, t0, t1):
        ctx, n = self.ctx, self.n
        mid, half = (t0 + t1) / 2, (t1 - t0) / 2
        order = list(range(n))  # x_j decreases with j: t from t1 down to t0
        if not (self._known_t and self._known_t[0] >= t1):
            order.reverse()  # solved nodes below (or on both sides): walk up in t
        vals = [None] * n
        for j in order:
            vals[j] = self._integrands(mid + half * self._x[j])
        coef, anti, total, tail = [], [], [], []
        for p in range(len(PARTS)):
            c = [2 * ctx.fsum(self._cos[k][j] * vals[j][p] for j in range(n)) / n for k in range(n)]
            cc = c + [ctx.mpf(0), ctx.mpf(0)]
            a = [None] + [half * (cc[k - 1] - cc[k + 1]) / (2 * k) for k in range(1, n + 1)]
            coef.append(c)
            anti.append(a)
            total.append(2 * ctx.fsum(a[k] for k in range(1, n + 1, 2)))
            tail.append(max(abs(x) for x in c[-3:]))
        return _Panel(t0, t1, coef, anti, total, tail)

    def _build(self):
        ctx = self.ctx
        cuts = [ctx.mpf(0)] + [ctx.pi / 2**k for k in range(PANELS_GRADED, 0, -1)] + [ctx.pi]
        pending = sorted(zip(cuts[:-1], cuts[1:]), key=lambda p: abs(p[0] + p[1] - ctx.pi))  # outward from t = π/2
        panels = [self._panel(*p) for p in pending]
        tol = ctx.mpf(10) ** (-(ctx.dps - 3))
        while True:
            scale = [ctx.fsum(abs(p.total[i]) for p in panels) for i in range(len(PARTS))]
            bad = [p for p in panels if any(p.tail[i] * p.half > tol * scale[i] for i in range(len(PARTS)))]
            if not bad:
                break
            if len(panels) + len(bad) > PANELS_MAX:
                raise SolverError("sample PCA integrals (Chebyshev panels in t)",
                                  f"{len(panels)} panels of {self.n} points at {ctx.dps} digits; {len(bad)} still not converged")
            for p in bad:
                panels.remove(p)
                m = (p.t0 + p.t1) / 2
                panels += [self._panel(p.t0, m), self._panel(m, p.t1)]
        self.panels = sorted(panels, key=lambda p: p.t0)
        self._starts = [p.t0 for p in self.panels]
        # integrals over the panels above panel j
        above, acc = [], [ctx.mpf(0)] * len(PARTS)
        for p in reversed(self.panels):
            above.append(acc)
            acc = [x + y for x, y in zip(acc, p.total)]
        self._above = above[::-1]
        self.totals = acc  # over all of S's continuous part
        self.cont_mass = acc[0]

    # ---- integrals from a cut
    def _locate(self, t):
        j = min(max(bisect.bisect(self._starts, t) - 1, 0), len(self.panels) - 1)
        p = self.panels[j]
        x = (t - (p.t0 + p.t1) / 2) / p.half
        T = [self.ctx.mpf(1), x]
        for _ in range(2, self.n + 1):
            T.append(2 * x * T[-1] - T[-2])
        return j, p, T

    def above(self, t) -> list:
        """The PARTS integrals from the cut s(t) to the top of S's support."""
        j, p, T = self._locate(t)
        out = []
        for i in range(len(PARTS)):
            a = p.anti[i]
            from_t0 = self.ctx.fsum(a[k] * (T[k] - (-1) ** k) for k in range(1, self.n + 1))
            out.append(self._above[j][i] + p.total[i] - from_t0)
        return out

    def _mass_density(self, t):
        """d/dt of the mass above the cut, −ρ ds/dt, from the series."""
        _, p, T = self._locate(t)
        c = p.coef[0]
        return -(c[0] / 2 + self.ctx.fsum(c[k] * T[k] for k in range(1, self.n)))

    def cut(self, phi):
        """The t of the cut that leaves mass φ of S's continuous part above it (0 ≤ φ ≤ its mass)."""
        ctx = self.ctx
        if phi <= 0:
            return ctx.pi
        if phi >= self.cont_mass:
            return ctx.mpf(0)
        j = max(k for k in range(len(self.panels)) if self._above[k][0] + self.panels[k].total[0] >= phi)
        lo, hi = self.panels[j].t0, self.panels[j].t1  # mass above lo ≥ φ ≥ mass above hi
        t = (lo + hi) / 2
        tol = ctx.mpf(2) ** (-(ctx.prec - 6)) * ctx.pi
        for _ in range(4 * ctx.prec):
            g = self.above(t)[0] - phi
            if g > 0:
                lo = t
            else:
                hi = t
            dg = self._mass_density(t)
            nxt = t - g / dg if dg != 0 else (lo + hi) / 2
            if not lo < nxt < hi:
                nxt = (lo + hi) / 2
            if abs(nxt - t) <= tol or hi - lo <= tol:
                return nxt
            t = nxt
        raise SolverError("sample PCA cut at mass φ", f"safeguarded Newton in t on [{ctx.nstr(lo, 10)}, {ctx.nstr(hi, 10)}]")

    # ---- the errors
    def _at_cut(self, metric, t, extra=None):
        """(φ, error) with the cut at s(t); ``extra``: null directions kept beyond the continuous part (k > n)."""
        F, ctx = self.F, self.ctx
        v = self.above(t) if extra is None else self.totals
        phi = v[0] if extra is None else self.cont_mass + extra
        if metric == "reconstruction":
            return phi, F("pca.sample_pca_reconstruction")(v[1], ctx.mpf(0) if extra is None else extra,
                                                             self.atom if self.atom is not None else ctx.mpf(1))
        low = self.totals[2] - v[2]  # ∫ s dF below the cut (the null space adds 0)
        return phi, F("pca.sample_ppca_masked")(phi, v[1], v[3], v[4], low)

    def error(self, metric: str, phi):
        """The sample PCA (``reconstruction``) or PPCA (``masked``) error at k/d = φ, in the context."""
        ctx = self.ctx
        phi = ctx.mpf(phi)
        if metric == "masked":
            if phi >= 1:
                raise InputError("k_frac", "the sample PPCA needs k < d (σ̂² is the mean of the discarded eigenvalues)")
            if self.atom is not None and phi >= self.cont_mass:
                raise InputError("k_frac", f"the sample PPCA needs k < n (a non-zero discarded eigenvalue); k/d = {ctx.nstr(phi, 8)} ≥ α")
        if self.atom is not None and phi > self.cont_mass:
            return self._at_cut(metric, None, extra=phi - self.cont_mass)[1]
        return self._at_cut(metric, self.cut(phi))[1]

    def crossings(self, metric: str, e) -> list:
        """Every k/d = φ where the ``metric`` error equals e (ascending), on the fractions the table path scans: [0, 1] for
        reconstruction, [0, min(1, α) − 1e-6] for the masked error (k < n)."""
        ctx = self.ctx
        if metric == "masked":
            t_end = self.cut(min(ctx.mpf(1), self.cont_mass) - ctx.mpf(10) ** -6)
        else:
            t_end = ctx.mpf(0)
        ts, per = [ctx.pi], -(-SCAN_POINTS // len(self.panels))
        for p in reversed(self.panels):
            for q in range(per - 1, -1, -1):
                t = p.t0 + (p.t1 - p.t0) * q / per
                if t > t_end:
                    ts.append(t)
        ts.append(t_end)
        gap = lambda t: self._at_cut(metric, t)[1] - e  # noqa: E731  (φ increases as t decreases)
        vals = [gap(t) for t in ts]
        out = []
        tol = ctx.mpf(2) ** (-(ctx.prec - 12))
        for i in range(len(ts) - 1):
            if (vals[i] > 0 >= vals[i + 1]) or (vals[i] <= 0 < vals[i + 1]):
                lo, hi = ts[i + 1], ts[i]
                t = ctx.findroot(gap, (lo, hi), solver="anderson", tol=tol, maxsteps=400) if vals[i + 1] != 0 else lo
                if not lo <= t <= hi:
                    raise SolverError("sample PCA crossing",
                                      f"root {ctx.nstr(t, 10)} left the bracket [{ctx.nstr(lo, 10)}, {ctx.nstr(hi, 10)}]")
                out.append(self._at_cut(metric, t)[0])
        if metric == "reconstruction" and self.atom is not None:
            # k > n: null directions added to the whole continuous part, the error falls linearly to 0 at k = d
            top = self._at_cut(metric, None, extra=ctx.mpf(0))[1] - e
            if top > 0 >= -e:
                g = lambda x: self._at_cut(metric, None, extra=x)[1] - e  # noqa: E731
                x = ctx.findroot(g, (ctx.mpf(0), self.atom), solver="anderson", tol=tol, maxsteps=100)
                out.append(self.cont_mass + x)
        return out


_SAMPLE_LAWS: dict = {}


def sample_law_mp(model, alpha, ctx) -> SampleLawMP:
    """The :class:`SampleLawMP` of a model's d = ∞ base at (α, ctx.prec), built once (a few recent ones are kept)."""
    key = (model.limit_base().key(), parse("alpha", alpha), ctx.prec)
    if key not in _SAMPLE_LAWS:
        if len(_SAMPLE_LAWS) >= 4:
            _SAMPLE_LAWS.pop(next(iter(_SAMPLE_LAWS)))
        _SAMPLE_LAWS[key] = SampleLawMP(model, alpha, context(ctx.dps))
    return _SAMPLE_LAWS[key]


def sample_error(model, alpha, phi, metric: str = "reconstruction", dps: int | None = 30) -> str:
    """Sample PCA (``reconstruction``) or PPCA (``masked``) error at d = ∞ with k = φd, as a decimal string with ``dps``
    delivered digits; ``dps=None``: the double-precision tables (:class:`SampleLaw`), with only the digits they have."""
    phi = k_fraction("k_frac", phi)
    metric = choice("metric", metric, METRICS)
    alpha = parse("alpha", alpha)
    model.ar1_rho()  # the comparisons know the isotropic and AR(1) laws (InputError naming "model" otherwise)
    if dps is None:
        return SampleLaw(model, alpha).text(metric, phi)

    def compute(ctx):
        return {"e": sample_law_mp(model, alpha, ctx).error(metric, mpf(ctx, phi))}

    ctx, v = deliver(compute, dps, "the sample PCA error")
    return decimal(ctx, v["e"], parse("dps", dps))


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
    #: the double-precision sample tables only: their error estimate, (error of f*, errors of the crossings), or a
    #: function computing it on demand (it needs a coarse companion table)
    error: object = None

    def _errors(self):
        return self.error() if callable(self.error) else self.error

    def float(self) -> float:
        """f* as a float: the tables' own double on the double-precision sample path, else the decimal of as_dict."""
        if self.ctx is None and not isinstance(self.f_star, str):
            return float(self.f_star)
        return float(self.as_dict()["f_star"])

    def as_dict(self) -> dict:
        errors = self._errors() if self.ctx is None and not isinstance(self.f_star, str) else None
        if isinstance(self.f_star, str):
            f = self.f_star
        elif self.ctx is not None:
            f = decimal(self.ctx, self.f_star, self.dps)
        elif errors is not None:
            f = honest_text(self.f_star, errors[0])
        else:
            f = repr(float(self.f_star))
        out = {"f_star": f, "e_ssr": self.e_ssr, "lam": self.lam, "pca": self.pca, "metric": self.metric,
               "dps": self.dps if self.dps is not None else "double"}
        if errors is not None:
            out["f_star_error"] = f"{errors[0]:.1e}"
        if len(self.crossings) > 1:
            if self.ctx is not None and self.dps is not None:
                out["crossings"] = [decimal(self.ctx, c, self.dps) for c in self.crossings]
            elif errors is not None:
                out["crossings"] = [honest_text(c, err) for c, err in zip(self.crossings, errors[1])]
            else:
                out["crossings"] = [repr(float(c)) for c in self.crossings]
        return out


def _table_crossings(law: SampleLaw, e: float, metric: str) -> tuple:
    """(f*, every crossing) of the tables' ``metric`` error with the SSR error e, in double precision."""
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
    return first, crossings


def _table_errors(law: SampleLaw, e: float, metric: str, first: float, crossings: list):
    """The error estimate of the tables' f* and crossings: their gaps to the coarse companion table's (nearest)."""

    def estimate():
        f2, c2 = _table_crossings(law.coarse(), e, metric)
        gap = lambda x, ys: min((abs(x - y) for y in ys), default=abs(x))  # noqa: E731
        floor = lambda x: DOUBLE_FLOOR * max(abs(x), 1e-3)  # noqa: E731
        # f* = 0 or 1 in both tables is a classification (PCA wins at k = 0; SSR wins at every k), exact
        exact = first == f2 and first in (0.0, 1.0)
        return 0.0 if exact else max(abs(first - f2), floor(first)), [max(gap(c, c2), floor(c)) for c in crossings]

    return estimate


#: the precision path reports at most this many crossings of the sample errors with E_SSR (the U-shaped PPCA error has 2)
MAX_CROSSINGS = 4


def crossover(model, alpha, lam="opt", pca: str = "population", metric: str = "reconstruction", dps: int | None = 30,
              law: "SampleLaw | None" = None) -> Crossover:
    """f* with E_pca(f*) = E_SSR: SSR beats PCA with fewer than f*·d directions (0: PCA always wins; 1: never).

    Every digit of f* is delivered at ``dps`` digits, for sample PCA too (:class:`SampleLawMP`). ``dps=None``: double
    precision throughout; the sample side then comes from the double-precision tables (:class:`SampleLaw`), as it does
    whenever a table ``law`` is given — as_dict then prints only the digits the tables have (``f_star_error``)."""
    pca = choice("pca", pca, PCAS)
    metric = choice("metric", metric, METRICS)
    alpha = parse("alpha", alpha)
    r = model.ar1_rho()
    guard_crossover(model, alpha, lam, pca)  # extremes: refused by parameter (see the guards at the end of this module)
    e_str, lam_str, _ = ssr_error(model, alpha, lam, dps=None if dps is None else parse("dps", dps) + 10)
    if pca == "sample" and (law is not None or dps is None):
        law = law or SampleLaw(model, alpha)
        e = float(e_str)
        first, crossings = _table_crossings(law, e, metric)
        return Crossover(first, e_str, lam_str, pca, metric, None, crossings=tuple(crossings),
                         error=_table_errors(law, e, metric, first, crossings))
    if pca == "sample":
        def compute_sample(ctx):
            sl = sample_law_mp(model, alpha, ctx)
            e = sl.ctx.mpf(e_str)
            xs = sl.crossings(metric, e)
            if len(xs) > MAX_CROSSINGS:
                raise SolverError("sample PCA crossover",
                                  f"{len(xs)} crossings of the PCA and SSR errors (at most {MAX_CROSSINGS} expected)")
            first = sl.ctx.mpf(0) if e >= 1 else xs[0] if xs else sl.ctx.mpf(1)
            return {"f": first, **{f"c{i}": xs[i] if i < len(xs) else None for i in range(MAX_CROSSINGS)}}

        ctx, v = deliver(compute_sample, dps, "the SSR-sample PCA crossover")
        xs = tuple(v[f"c{i}"] for i in range(MAX_CROSSINGS) if v[f"c{i}"] is not None)
        return Crossover(v["f"], e_str, lam_str, pca, metric, parse("dps", dps), ctx, crossings=xs)

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
    fstars = {s: crossover(model, alpha, lam, *s, dps=dps, law=law).float() for s in SETTINGS}
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


# ------------------------------------------------------------------ guards at the extremes (tests/test_extremes.py)
#
# Refusals by parameter where the computations above would return a wrong number: they only refuse, never change a value.

#: α for which the optimal ridge is searched: outside, the scan of κ(0) + [1e-10, 1e10] misses the minimum or sees rounding
OPT_ALPHA = (Fraction(1, 10**6), Fraction(1000))
#: f* = O(1 − E_gen) as E_gen → 1 (λ → ∞, α → 0): the crossover is computed while 1 − E_gen ≥ CROSSOVER_GAP (E_gen is
#: carried with 10 digits beyond f*'s)
CROSSOVER_GAP = Fraction(1, 10**8)
#: the top of the optimal ridge's scan above κ(0) (as in _optimal_in)
_SCAN_TOP = 10**10


def guard_optimal_ridge(model, alpha) -> None:
    """Refuse α outside OPT_ALPHA, and (ρ ≠ 0) a point whose minimum lies beyond the scan: for ρ ≠ 0, E_gen approaches
    tr Σ/d from below as κ → ∞ (derivation train_gen, step large-kappa-egen), so a finite λ* exists; if dE_gen/dκ is still
    negative at the top of the scan, λ* lies beyond it and 'inf' would be wrong."""
    lo, hi = OPT_ALPHA
    if not lo <= alpha <= hi:
        raise InputError("alpha", f"must be in [{lo}, {hi}] for the optimal ridge (lam = 'opt'); got {alpha}: give a lam instead")
    if model.ar1_rho() == 0 or alpha == 1:
        return
    from rmtverify.core.precision import context

    ctx = context(30)
    F = Formulas(ctx)
    k0 = solve_kappa(model.limit_base().resolvent(INF, ctx), alpha, 0, ctx) if alpha < 1 else ctx.mpf(0)
    top = k0 + _SCAN_TOP
    t, tp, tpp = _tau3(model, ctx)(top)
    if F("pca.e_gen_kappa_p")(top, mpf(ctx, alpha), t, tp, tpp) < 0:
        raise InputError("alpha", f"at alpha = {alpha}, rho = {model.ar1_rho()} the optimal ridge lies beyond lam ~ 1e10, past the "
                                  "scan of kappa(0) + [1e-10, 1e10]: give a lam instead of 'opt' (or a larger alpha or |rho|)")


def guard_crossover(model, alpha, lam, pca) -> None:
    """Refuse a crossover that would lose its digits: sample PCA outside the spectral law's α range, or 1 − E_gen below
    CROSSOVER_GAP (f* = O(1 − E_gen): at λ → ∞ or α → 0 it would be rounded to 0)."""
    if pca == "sample":
        from rmtverify.theory.spectrum import check_range

        check_range(model.limit_base(), alpha, Fraction(1), INF)
    opt = isinstance(lam, str) and lam.strip().lower() == "opt"
    if opt:
        ridge = optimal_ridge(model, alpha, dps=20)
        e = Fraction(ridge.as_dict()["e_gen"])
    else:
        lam = parse("lam", lam)
        # enough digits to see 1 − E_gen ~ α or 1/λ at the extremes (E_gen is delivered: its digits are right)
        import math

        digits = 30 + int(2 * (abs(math.log10(alpha)) + max(0.0, math.log10(lam) if lam > 0 else 0.0)))
        e = Fraction(equivalents(model.limit_base(), alpha, lam, d=INF, dps=min(digits, 2000)).as_dict()["e_gen"])
    # e > 1 proves E_gen > 1 (f* = 0); e = 1 exactly may be E_gen = 1 − 1e-40, whose f* is not 0. Σ = I (ρ = 0) has E_gen > 1
    # at every point (derivation isotropic), so f* = 0 there without digits of 1 − E_gen
    if 1 - CROSSOVER_GAP < e <= 1 and model.ar1_rho() != 0:
        name = "lam" if not opt and lam >= 1 else "alpha"
        raise InputError(name, f"the crossover f* = O(1 - E_gen) is computed while 1 - E_gen >= {CROSSOVER_GAP} (a smaller lam or a "
                               f"larger alpha); at alpha = {alpha}, lam = {lam}, 1 - E_gen = {float(1 - e):.3g}")

