"""Sub-tests and figures for claims that compare data laws (claim ``universality``, SPEC §7): a theory that must be
rejected, an observable counted only where it has the power, a gap whose rate is fitted freely, and E_gen against d per law.

Each reads a point's :class:`~rmtverify.verification.outcome.ObservableResult` (Monte Carlo means ± SE on the ladder,
the theory at each d and at d = ∞) and returns a :class:`~rmtverify.verification.outcome.SubTest` with its numbers.
"""

from __future__ import annotations

import numpy as np
import scipy.stats

from rmtverify.verification.outcome import Figure, Panel, Series, SubTest
from rmtverify.verification.verdict import FAIL, INCONCLUSIVE, PASS, Criteria, extrapolate, fit_rate, judge


def rejected_test(wrong, right, criteria: Criteria, name: str = "the Gaussian theory is rejected") -> SubTest:
    """``wrong``: an observable shown against a theory the claim says fails; ``right``: the same measurement judged against
    the right theory (its verdict gives the Monte Carlo extrapolated to d = ∞). PASS when the wrong theory's ladder verdict
    FAILs and the extrapolated Monte Carlo is > 4 SE from its d = ∞ value; the relative gap with its SE is reported."""
    v, n = judge(wrong.d, wrong.mean, wrong.se, wrong.theory_d, wrong.theory_inf, criteria), right.verdict.numbers
    ref = wrong.theory_inf
    rel, se, th = n["mc_inf"] / ref - 1, n["mc_inf_se"] / abs(ref), right.theory_inf / ref - 1
    z = (n["mc_inf"] - ref) / n["mc_inf_se"]
    status = PASS if v.status == FAIL and abs(z) > criteria.z else INCONCLUSIVE
    why = (f"MC at d = ∞ {n['mc_inf']:.6g} ± {n['mc_inf_se']:.1e} is {rel:+.2%} ± {se:.2%} from the {name.split()[1]} value {ref:.6g} "
           f"({z:+.1f} SE); the right theory predicts {th:+.2%}")
    return SubTest(name, status, [why] + v.reasons, {"rel_gap": rel, "rel_gap_se": se, "theory_rel_gap": th, "z": z})


def powered_test(o, criteria: Criteria, what: str) -> SubTest:
    """``o`` judged against its theory as a sub-test, counted only where its standard errors resolve the criteria's
    resolution (the power is computed with the gaps set to zero: it reads the SEs alone, never the gaps)."""
    power = judge(o.d, o.mean, o.se, o.mean, None, criteria).numbers["min_detectable_rel"]
    v, ok = judge(o.d, o.mean, o.se, o.theory_d, o.theory_inf, criteria), power <= criteria.resolution
    note = "" if ok else f" (not counted: 4 SE resolve {power:.2%} > {criteria.resolution:.1%})"
    return SubTest(f"{o.label} against {what}{note}", v.status, v.reasons, {**v.numbers, "power": power}, counted=ok)


def free_rate_test(o, heuristic: float | None = None, z: float = 4.0) -> SubTest:
    """Whether the gap MC − theory(d) vanishes as d → ∞, at a rate fitted freely (c·d^-β), not counted.

    PASS when the gap is not resolved at any d (χ² of g ≡ 0, p ≥ 1e-3), or when β > 0 by 2 SE and the extrapolation
    g∞ + c·d^-β̂ is within ``z`` SE of 0; else INCONCLUSIVE (the limit is not established by these d)."""
    d, g, se = np.array(o.d, float), np.array(o.mean) - np.array(o.theory_d), np.array(o.se)
    chi0, ref = float(np.sum((g / se) ** 2)), abs(o.theory_d[-1])
    top = f"at d = {o.d[-1]} the gap is {g[-1] / ref:+.3%} ± {se[-1] / ref:.3%} of the theory"
    hint = f" (heuristic {heuristic:g})" if heuristic is not None else ""
    name = f"{o.label}: limit and free rate"
    if scipy.stats.chi2.sf(chi0, len(d)) >= 1e-3:
        return SubTest(name, PASS, [f"gap not resolved at any d (χ² = {chi0:.1f} on {len(d)} dof): rate not fitted{hint}; {top}"],
                       {"chi2_null": chi0, "heuristic_beta": heuristic, "beta": None}, counted=False)
    beta, beta_se, _ = fit_rate(d, g, se)
    fit = extrapolate(d, g, se, beta if np.isfinite(beta) and beta > 0.05 else 0.05)
    g_inf, g_se = float(fit.coef[0]), float(np.sqrt(fit.cov[0, 0]))
    ok = bool(np.isfinite(beta_se) and beta - 2 * beta_se > 0 and abs(g_inf) <= z * g_se)
    rate = f"gap ∝ d^-{beta:.2f} ± {beta_se:.2f}" if np.isfinite(beta_se) else "rate not determined by a power law c·d^-β"
    verdict = "consistent with a vanishing gap (β > 0 by 2 SE, g∞ within 4 SE of 0)" if ok else "the limit is not established by these d"
    why = f"{rate}{hint}, extrapolated g∞ = {g_inf:.2e} ± {g_se:.1e} ({abs(g_inf) / g_se:.1f} SE): {verdict}; {top}"
    return SubTest(name, PASS if ok else INCONCLUSIVE, [why],
                   {"beta": beta, "beta_se": beta_se, "g_inf": g_inf, "g_inf_se": g_se, "heuristic_beta": heuristic, "chi2_null": chi0},
                   counted=False)


def law_figure(name: str, groups: dict, right: str = "elliptical theory") -> Figure:
    """E_gen against d per law: for each group {title: [(law label, PointResult)]}, Monte Carlo ± SE with the Gaussian
    theory at d (``e_gen`` of a Gaussian-judged point, ``e_gen_gaussian`` of the others) and the right theory of the
    others (dashed); beside it, each relative to the Gaussian theory at d."""
    panels = []
    for title, members in groups.items():
        top = Panel(f"E_gen, {title}", "dimension d", "E_gen", xscale="log2")
        rel = Panel(f"E_gen / Gaussian theory(d) − 1, {title}", "dimension d", "relative gap (%)", xscale="log2")
        g = None
        for (law, r), mk in zip(members, "os^vDx+*"):
            e, other = r.observables["e_gen"], r.observables.get("e_gen_gaussian")
            g = np.array((other or e).theory_d)
            top.series.append(Series("points", e.d, e.mean, e.se, law, mk))
            rel.series.append(Series("points", e.d, list(100 * (np.array(e.mean) / g - 1)), list(100 * np.array(e.se) / g), law, mk))
            if other is not None:
                top.series.append(Series("line", e.d, e.theory_d, label=f"{right}, {law}", style="--"))
                rel.series.append(Series("line", e.d, list(100 * (np.array(e.theory_d) / g - 1)), label=f"{right}, {law}", style="--"))
        if g is not None:
            top.series.append(Series("line", e.d, list(g), label="Gaussian theory at d", style="-", color="k"))
            rel.series.append(Series("hline", y=[0.0], label="Gaussian theory", style="-", color="k"))
        panels += [top, rel]
    return Figure(name, "E_gen against d for each law, with the Gaussian and the elliptical theory", panels,
                  shape=(len(groups), 2), size=(13, 4.5 * len(groups)),
                  caption="Left: Monte Carlo ± SE (control-variate means) at each d against the finite-d equivalents. Right: the same "
                          "relative to the Gaussian equivalent at d (%).")


__all__ = ["rejected_test", "powered_test", "free_rate_test", "law_figure"]
