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
        bottom.series.append(Series("line", d, fit,
                                    label=f"fit c·d^-β, β = {v['beta']:.2f} ± {v['beta_se']:.2f} (expected {o.criteria.beta0:.3g})"))
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


def scan_panel(title, xlabel, ylabel, results, x_of, keys, curves=(), vlines=(), xscale="log", last: int = 3) -> Panel:
    """Monte Carlo means ± SE of the observables ``keys`` ({key: (label, marker)}) at the ``last`` largest d,
    against a parameter ``x_of(point)`` of the points, with theory ``curves`` [(x, y, label, style)] and
    vertical lines [(x, label, style)]; the points of successive d are offset by 2% in x to stay readable."""
    panel = Panel(title, xlabel, ylabel, [Series("line", list(x), list(y), label=lab, style=st) for x, y, lab, st in curves], xscale=xscale)
    for key, (label, marker) in keys.items():
        ladder = results[0].observables[key].d
        for j, d in enumerate(ladder[-last:]):
            g = ladder.index(d)
            xs = [x_of(r.point) * (1 + 0.02 * (j - 1)) for r in results]
            obs = [r.observables[key] for r in results]
            panel.series.append(Series("points", xs, [o.mean[g] for o in obs], [o.se[g] for o in obs], f"{label} d={d}", marker))
    panel.series += [Series("vline", [x], label=lab, style=st) for x, lab, st in vlines]
    return panel


def density_panel(title, xlabel, samples, tables, density, label) -> Panel:
    """A histogram of ``samples`` against a law's density (``density(x)`` on each support interval of ``tables``,
    a LawTables) and its atoms."""
    lo = min([tables.edges[0][0]] + [a for a, _ in tables.atoms])
    hi = max([tables.edges[-1][1]] + [a for a, _ in tables.atoms])
    bins = list(np.linspace(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo), 120))
    panel = Panel(title, xlabel, "density", [Series("hist", list(samples), bins=bins, label=label)])
    for j, (a, b) in enumerate(tables.edges):
        xs = np.linspace(a, b, 600)[1:-1]
        panel.series.append(Series("line", list(xs), list(density(xs)), color="r", label="theory density (d = ∞)" if j == 0 else ""))
    panel.series += [Series("vline", [loc], label=f"atom of mass {m:.3g}") for loc, m in tables.atoms]
    return panel


def ladder_panel(title, ylabel, results, markers=("o", "s", "^", "v")) -> Panel:
    """Observables (ObservableResult) against d on log-log axes, Monte Carlo means ± SE, with their verdicts."""
    panel = Panel(title, "dimension d", ylabel, xscale="log2", yscale="log")
    for o, mk in zip(results, markers):
        panel.series.append(Series("points", o.d, o.mean, o.se, f"{o.label} ({o.status})", style=mk))
    return panel
