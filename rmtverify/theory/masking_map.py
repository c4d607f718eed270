"""The optimal mask rate p* over AR(1)'s (ρ, α), in double precision: the maps and curves of claim masking-rate (SPEC §8).

A cell evaluates the d = ∞ equivalent E_mask(p) (:func:`rmtverify.theory.masking.mask_error`, ``dps=None``) on the same
logit(p) grid as :func:`~rmtverify.theory.masking.optimal_mask_rate`, so that a minimum at an end (p → 0: one coordinate
at a time, SSR; p → 1: Â_p → 0) is decided alike, then refines an interior minimum by a bounded scalar search between the
grid's neighbours. At the optimal ridge each rate's E_mask is first minimised over log10 λ (a coarse scan, then a bounded
search), and that profile is minimised over p the same way, on a coarser logit grid. A map is a figure and a table, not
delivered digits: p* is good to about 1e-6 (the 30-digit optimum is :func:`optimal_mask_rate`'s). At the end p → 0, E_mask is
SSR's E_gen (the limit); at the end p → 1, the scan's last value (within 1e-6 of tr Σ/d).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import scipy.optimize

from rmtverify.core.params import INF
from rmtverify.models import make_model
from rmtverify.theory.equivalents import equivalents
from rmtverify.theory.masking import mask_error

#: the logit(p) scan of :func:`optimal_mask_rate` (p from about 8e-7 to 1 − 8e-7)
LOGIT_SPAN, SCAN_POINTS = 14, 57
#: at the optimal ridge: the coarser logit grid of the profile, and the range and coarse scan of log10 λ
OPT_POINTS, LOG_LAM, LAM_SCAN = 11, (-3.0, 3.0), 7
ENDS = {"p -> 0": "p* → 0", "p -> 1": "p* → 1"}


@dataclass(frozen=True)
class Optimum:
    """p* (0 or 1 at an end, see ``endpoint``), E_mask there (at an end: the scan's last value), and λ (given or λ*)."""

    p_star: float
    e_mask: float
    endpoint: str | None
    lam: float


def e_mask_inf(model, alpha, lam, p) -> float:
    """E_mask(p) at d = ∞ in double precision."""
    return float(mask_error(model, alpha, lam, Fraction(p), d=INF, dps=None).e_mask)


def e_mask_curve(model, alpha, lam, ps) -> list:
    """E_mask at d = ∞ (double precision) at each rate of ``ps``: a theory curve for figures."""
    return [e_mask_inf(model, alpha, lam, p) for p in ps]


def e_ssr(model, alpha, lam) -> float:
    """The limit p → 0 of E_mask at d = ∞: one-at-a-time SSR's E_gen (double precision)."""
    return float(equivalents(model, alpha, lam, dps=None).e_gen)


def _logistic(u: float) -> float:
    return float(1 / (1 + np.exp(-u)))


def _minimise_over_rate(f, points: int):
    """(p*, f(p*), endpoint) of f over (0, 1): a logit grid, then a bounded search between the minimum's neighbours; at an
    end, f there is the grid's last value (the caller replaces it by the limit it knows)."""
    us = np.linspace(-LOGIT_SPAN, LOGIT_SPAN, points)
    vals = [f(_logistic(u)) for u in us]
    i = int(np.nanargmin(vals))
    if i in (0, len(us) - 1):
        return float(i > 0), vals[i], "p -> 1" if i else "p -> 0"
    res = scipy.optimize.minimize_scalar(lambda u: f(_logistic(u)), bounds=(us[i - 1], us[i + 1]), method="bounded",
                                         options={"xatol": 1e-9})
    return _logistic(res.x), float(res.fun), None


def _best_ridge(model, alpha, p, near=None):
    """(min over λ of E_mask(p, λ), log10 λ*): a coarse scan of log10 λ, then a bounded search around its minimum; with
    ``near`` (λ* of a neighbouring rate, the profile being smooth in p) a bounded search within one decade of it."""

    def f(v):
        return e_mask_inf(model, alpha, Fraction(10.0**v), p)

    if near is None:
        vs = np.linspace(*LOG_LAM, LAM_SCAN)
        j = int(np.nanargmin([f(v) for v in vs]))
        lo, hi = vs[max(j - 1, 0)], vs[min(j + 1, len(vs) - 1)]
    else:
        lo, hi = max(near - 1, LOG_LAM[0]), min(near + 1, LOG_LAM[1])
    res = scipy.optimize.minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-4})
    return float(res.fun), float(res.x)


def optimum(model, alpha, lam="1/10") -> Optimum:
    """p* of ``model`` at d = ∞ and sample ratio α, at the ridge ``lam``, or jointly with λ when ``lam == "opt"``."""
    alpha = Fraction(alpha)
    if lam != "opt":
        p, e, end = _minimise_over_rate(lambda q: e_mask_inf(model, alpha, Fraction(lam), q), SCAN_POINTS)
        return Optimum(p, e_ssr(model, alpha, Fraction(lam)) if end == "p -> 0" else e, end, float(Fraction(lam)))
    best = {}

    def profile(q):  # each search starts from the λ* of the nearest rate seen (the grid is visited in increasing p)
        best[q] = _best_ridge(model, alpha, q, best[min(best, key=lambda k: abs(k - q))][1] if best else None)
        return best[q][0]

    p, e, end = _minimise_over_rate(profile, OPT_POINTS)
    q = min(best, key=lambda k: abs(k - p))
    lam_star = 10 ** (best[q][1] if end is not None else _best_ridge(model, alpha, p, best[q][1])[1])
    return Optimum(p, e_ssr(model, alpha, Fraction(lam_star)) if end == "p -> 0" else e, end, lam_star)


def p_star_map(rhos, alphas, lam="1/10") -> dict:
    """p* of AR(1) over the grid ``rhos`` × ``alphas`` at d = ∞, at the ridge ``lam`` or at the optimal one (``"opt"``).

    Returns {"rhos", "alphas", "lam", and per cell, as rows over α of values over ρ: "p_star" (0 or 1 at an end),
    "endpoint", "e_mask", "e_ssr" (E_mask as p → 0, SSR's E_gen at the same λ), "ridge" (the given λ, or λ*)}."""
    keys = ("p_star", "endpoint", "e_mask", "e_ssr", "ridge")
    out = {"rhos": [float(r) for r in rhos], "alphas": [float(a) for a in alphas], "lam": str(lam), **{k: [] for k in keys}}
    for a in alphas:
        rows = {k: [] for k in keys}
        for r in rhos:
            model, alpha = make_model("ar1", rho=Fraction(repr(float(r)))), Fraction(repr(float(a)))
            opt = optimum(model, alpha, lam)
            ridge = Fraction(repr(opt.lam)) if lam == "opt" else Fraction(lam)
            vals = (opt.p_star, opt.endpoint, opt.e_mask, e_ssr(model, alpha, ridge), opt.lam)
            for key, v in zip(rows, vals):
                rows[key].append(v)
        for key, v in rows.items():
            out[key].append(v)
    return out


def interior_cells(m: dict) -> list:
    """The cells of a map where p* is interior: (ρ, α, p*, E_mask(p*)/E_mask(p → 0)), row by row."""
    return [(r, a, p, e / s) for a, ps, ends, es, ss in zip(m["alphas"], m["p_star"], m["endpoint"], m["e_mask"], m["e_ssr"])
            for r, p, end, e, s in zip(m["rhos"], ps, ends, es, ss) if end is None]


def map_findings(fixed: dict, best: dict, habit: float = 0.15) -> list:
    """What two maps (at a fixed λ, at the optimal λ) say, as report bullets with their numbers: where p* is interior (masking
    more than one coordinate at a time beats p → 0), how p* compares with ``habit``, and what the optimal λ changes."""
    inner, n_cells, h = interior_cells(fixed), len(fixed["rhos"]) * len(fixed["alphas"]), f"{habit:.0%}"
    lam = f"{float(Fraction(fixed['lam'])):g}"
    low = [f"(ρ, α) = ({r:g}, {a:g}): p* = {p:.3g}" for r, a, p, _ in inner if p < habit]
    rows = "; ".join(f"α = {a:g}: ρ ∈ {{{', '.join(f'{r:g}' for r, a2, *_ in inner if a2 == a)}}}" for a in fixed["alphas"]
                     if any(a2 == a for _, a2, *_ in inner))
    ends = Counter(e or "interior" for row in best["endpoint"] for e in row)
    where = ", ".join(f"{ENDS.get(e, e)} at {n} of {sum(ends.values())} cells" for e, n in sorted(ends.items()))
    first = (f"- λ = {lam} (theory, d = ∞): masking more than one coordinate at a time helps (p* interior, E_mask(p*) < "
             f"E_mask(p → 0) = SSR's E_gen) at {len(inner)} of {n_cells} cells of the grid: {rows or 'none'}; elsewhere p → 0 "
             "(one coordinate at a time is best).")
    if inner:
        first += (f" There p* ranges from {min(c[2] for c in inner):.3g} to {max(c[2] for c in inner):.3g}, and the gain "
                  f"1 − E_mask(p*)/E_mask(p → 0) from {1 - max(c[3] for c in inner):.2%} to {1 - min(c[3] for c in inner):.2%}.")
    tuned = (f": with λ tuned, masking one coordinate at a time (SSR at its optimal ridge) is best; the gain at λ = {lam} is one "
             "a larger ridge gives too.") if set(ends) == {"p -> 0"} else "."
    return [first,
            f"- Against {h}: p* < {h} at {'; '.join(low) or 'no cell'}; p* > {h} at the other {len(inner) - len(low)} interior cells.",
            f"- At the optimal λ (E_mask minimised over (p, λ) jointly, {len(best['rhos'])} × {len(best['alphas'])} cells): {where}{tuned}"]


def map_table(m: dict) -> tuple[list, list]:
    """(header, rows) of a map as text: rows over α, p* per ρ ("→ 0" and "→ 1" at an end)."""
    ends = {k: v[3:] for k, v in ENDS.items()}
    return (["α \\ ρ", *[f"{r:g}" for r in m["rhos"]]],
            [[f"{a:g}", *[ends.get(e, f"{p:.3g}") for p, e in zip(ps, es)]] for a, ps, es in zip(m["alphas"], m["p_star"], m["endpoint"])])


__all__ = ["Optimum", "e_mask_curve", "e_mask_inf", "e_ssr", "interior_cells", "map_findings", "map_table", "optimum", "p_star_map"]
