"""Figure declarations the engine makes for every ladder claim (drawn by :mod:`rmtverify.reports.figures`)."""

from __future__ import annotations

import numpy as np

from rmtverify.verification.outcome import Figure, Panel, Series


def ladder_panels(o) -> tuple[Panel, Panel]:
    """For one ObservableResult: Monte Carlo ± SE against d with the theory, and the gap on log-log axes."""
    d = [float(x) for x in o.d]
    top = Panel(
        f"{o.label}: {o.status}",
        "dimension d",
        o.label,
        [Series("points", d, o.mean, o.se, "Monte Carlo ± SE"), Series("line", d, o.theory_d, label="theory at d")],
        xscale="log2",
    )
    if o.theory_inf is not None:
        top.series.append(Series("hline", y=[o.theory_inf], label="theory at d = ∞"))
    gap = np.abs(np.array(o.mean) - np.array(o.theory_d))
    bottom = Panel(
        f"{o.label}: |MC − theory(d)|",
        "dimension d",
        f"|gap| of {o.label}",
        [Series("points", d, list(gap), o.se, "|MC − theory(d)| ± SE"), Series("line", d, o.se, style=":", color="gray", label="SE")],
        xscale="log2",
        yscale="log",
    )
    v = o.verdict.numbers if o.verdict is not None else {}
    if v.get("rate_resolved") and np.isfinite(v.get("beta", np.nan)):
        fit = list(np.abs(v["rate_c"]) * np.array(d) ** (-v["beta"]))
        bottom.series.append(Series("line", d, fit, label=f"fit c·d^-β, β = {v['beta']:.2f} ± {v['beta_se']:.2f} (expected {o.criteria.beta0:.3g})"))
    return top, bottom


def point_figure(name: str, result, title: str) -> Figure:
    """Each observable of a point against d (top row) and its gap (bottom row)."""
    obs = list(result.observables.values())
    pairs = [ladder_panels(o) for o in obs]
    panels = [p[0] for p in pairs] + [p[1] for p in pairs]
    cols = len(obs)
    return Figure(
        name,
        title,
        panels,
        shape=(2, cols),
        size=(max(5.5, 5 * cols), 7),
        caption="Top: Monte Carlo means ± SE on the ladder of d against the deterministic equivalent at each d (and at d = ∞). "
        "Bottom: the gap on log-log axes; a fitted line c·d^-β appears when the gap is resolved from 0.",
    )
