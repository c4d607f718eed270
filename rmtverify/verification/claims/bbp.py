"""C4 — BBP transition of Â: thresholds, outliers and overlaps, against Monte Carlo scans across θ_c."""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

from rmtverify.montecarlo.engine import sample_size
from rmtverify.theory.bbp import outlier_curve, threshold, threshold_map
from rmtverify.verification.claim import Claim, Observable, Point, is_limit
from rmtverify.verification.outcome import Figure, Panel, Section, Series, SubTest, Table
from rmtverify.verification.verdict import judge_rate

F = Fraction
CONFIGS = {  # name: (model options, α, λ, θ scan, a new random direction per sample)
    "isotropic-flat": ({"spike": "flat", "base": "isotropic"}, F(2), F(1, 10), (F(7, 20), F(7071, 10000), F(21, 10), F(7)), False),
    "isotropic-e1": ({"spike": "e1", "base": "isotropic"}, F(1, 4), F(2), (F(1), F(3), F(30), F(100)), False),
    "ar1-random": ({"spike": "random", "base": "ar1", "rho": F(1, 2), "boundary": "toeplitz"}, F(2), F(1, 10), (F(1), F(2), F(6), F(20)), True),
    "ar1-flat": ({"spike": "flat", "base": "ar1", "rho": F(1, 2), "boundary": "circulant"}, F(2), F(1, 10), (F(3, 10), F(3, 5), F(17, 10), F(15)), False),
}
DPS, WINDOW, WINDOW_N, POWER_RATIO = 20, 0.3, 2.0, 0.5  # BBP's transition has width O(n^-⅓): a window around θ_c
LAMBDA_MAP = (F(1, 100), F(1, 10), F(1, 2), F(1), F(2), F(5), F(10))
MAP_CASES = ({"base": "isotropic", "spike": "flat", "alpha": F(2)}, {"base": "isotropic", "spike": "e1", "alpha": F(2)},
             {"base": "isotropic", "spike": "e1", "alpha": F(1, 2)}, {"base": "isotropic", "spike": "e1", "alpha": F(1, 4)},
             {"base": "ar1", "spike": "random", "alpha": F(2), "rho": F(1, 2)}, {"base": "ar1", "spike": "flat", "alpha": F(2), "rho": F(1, 2)})
MATRIX = {"s_top": "sample", "s_overlap": "sample", "a_top": "ssr", "a_overlap": "ssr"}


def _kw(name):
    opts, alpha, lam, _, _ = CONFIGS[name]
    return {"base": opts["base"], "spike": opts["spike"], "alpha": alpha, **({"rho": opts["rho"]} if "rho" in opts else {})}, lam


@lru_cache(maxsize=None)
def thresholds(name: str, eps: Fraction) -> dict:
    kw, lam = _kw(name)
    return {"sample": threshold(dps=DPS, certify=True, perturb=eps, **kw), "ssr": threshold(dps=DPS, lam=lam, matrix="ssr", certify=True, perturb=eps, **kw)}


@lru_cache(maxsize=None)
def curves(name: str, thetas: tuple, eps: Fraction, dps: int = DPS) -> dict:
    kw, lam = _kw(name)
    return {m: outlier_curve(thetas, lam=lam if m == "ssr" else None, matrix=m, dps=dps, perturb=eps, **kw) for m in ("sample", "ssr")}


class BBP(Claim):
    name, spec = "bbp", "C4"
    title = "Spiked models: BBP transition of Â — thresholds, outliers, overlaps"
    statement = ("Â's spectrum has a BBP-type transition: above θ_c an outlier separates from the bulk and its eigenvector correlates with the spike. "
                 "For a delocalised spike θ_c is the sample-covariance threshold (1/√α on Σ₀ = I) for every λ; for a spike on e1 it is higher, "
                 "depends on λ, and can be infinite (derivation bbp).")
    observables = tuple(Observable(k, lab, controls=("c_vsv",)) for k, lab in (("s_top", "S top eigenvalue"), ("s_overlap", "S overlap"), ("a_top", "Â top eigenvalue"), ("a_overlap", "Â overlap")))
    ladders, seeds, perturbation, sequential_cap = ((128, 256, 512), (128, 256, 512, 1024)), (24, 32), "theory", 8
    method = ("- Theory at d = ∞ (derivation bbp, 20 digits; θ_c with certified enclosures); ε enters the outlier equation as θ → (1+ε)θ. Above θ_c a "
              "location's mean gap is extrapolated with c·d^-1 (power for 2%) and its spread across samples must shrink like d^-½; an overlap must "
              "resolve 0.05. Below θ_c the top eigenvalue is judged against the bulk edge (rate ⅔, 5%) and the overlap against 0 (0.1). Points within "
              "|θ/θ_c − 1| < max(0.3, 2·n^-⅓) are shown, not judged. The largest θ of each configuration must resolve half the change a 1% error "
              "in the outlier equation makes in a location (the claim's power).",)

    def points(self, options):
        ladder, out = self.ladder(options), []
        for name, (opts, alpha, lam, thetas, fresh) in CONFIGS.items():
            window = max(WINDOW, WINDOW_N * sample_size(alpha, ladder[0]) ** (-1 / 3))
            tc = {m: t.theta_c for m, t in thresholds(name, F(options.perturb)).items()}
            near = lambda th: any(c is not None and abs(float(th / F(str(c))) - 1) < window for c in tc.values())  # noqa: E731
            scanned = tuple(th for th in thetas if not (options.quick and near(th)))
            for th in scanned:
                out.append(Point({"model": "spiked", **opts, "theta": th, "alpha": alpha, "lam": lam, "config": name, "window": window, "scan": scanned},
                                 label=f"{name}|{th}", fresh_spike=fresh))
        return out

    def prepare(self, point, eps):
        name, th, scan = point["config"], point["theta"], point["scan"]
        at = {e: {m: c[scan.index(th)] for m, c in curves(name, scan, e).items()} for e in {F(0), F(1, 100), eps}}
        return {"at": at[eps], "ref": at[F(1, 100)], "exact": at[F(0)], "tc": thresholds(name, eps), "last": th == scan[-1]}

    def measure(self, sample, point):
        return sample.spike(point.lam)

    def theory(self, point, d, prepared):
        return None if is_limit(d) else {k: float(getattr(prepared["at"][m], "location" if "top" in k else "overlap")) for k, m in MATRIX.items()}

    def criteria(self, point, observable, prepared):
        c, o = prepared["tc"][MATRIX[observable.name]].theta_c, prepared["at"][MATRIX[observable.name]]
        if c is not None and abs(float(F(point["theta"]) / F(str(c))) - 1) < point["window"]:
            return None
        loc = "top" in observable.name
        if o.separated:
            return observable.criteria(resolution=0.02) if loc else observable.criteria(resolution=0.05, scale=1.0)
        return observable.criteria(beta0=2 / 3, resolution=0.05) if loc else observable.criteria(resolution=0.1, scale=1.0)

    def effect(self, prepared, key):
        kind = "location" if "top" in key else "overlap"
        return abs(float(getattr(prepared["ref"][MATRIX[key]], kind)) - float(getattr(prepared["exact"][MATRIX[key]], kind)))

    def power(self, result, prepared) -> SubTest | None:
        """At the largest θ: can a location (S or Â) resolve half the change a 1% error in the outlier equation makes?"""
        if not prepared["last"]:
            return None
        ratios = [(4 * o.verdict.numbers["gap_inf_se"] / self.effect(prepared, k) if self.effect(prepared, k) > 0 else np.inf, k) for k, o in result.observables.items()
                  if "top" in k and o.verdict is not None and prepared["at"][MATRIX[k]].separated]
        if not ratios:
            return SubTest("power for a 1% error", "INCONCLUSIVE", [f"no outlier at θ = {result.point['theta']} to carry the power"])
        ratio, key = min(ratios)
        ok = ratio <= POWER_RATIO
        why = f"{result.observables[key].label}: 4 SE(g∞) / (change a 1% error makes) = {ratio:.3g} {'≤' if ok else '>'} {POWER_RATIO}"
        return SubTest("power for a 1% error", "PASS" if ok else "INCONCLUSIVE", [why], {"ratio": ratio, "observable": key, "change_from_1pct_error": self.effect(prepared, key)})

    def shortfall(self, result, prepared):
        power = self.power(result, prepared)
        return max(super().shortfall(result, prepared), power.numbers["ratio"] / POWER_RATIO if power and "ratio" in power.numbers else 0.0)

    def extra_tests(self, result, prepared):
        tests = [self.power(result, prepared)] if prepared["last"] else []
        for k, o in result.observables.items():
            if "top" in k and o.verdict is not None and prepared["at"][MATRIX[k]].separated:
                v = judge_rate(o.d, o.sd, np.array(o.sd) / np.sqrt(2 * (o.seeds - 1)), 0.5)
                tests.append(SubTest(f"{o.label}, SD across samples ∝ d^-½", v.status, v.reasons, v.numbers))
        return tests

    def details(self, point, prepared):
        d = {k: {"theory": repr(float(getattr(prepared["at"][m], "location" if "top" in k else "overlap"))), "separated": prepared["at"][m].separated,
                 "effect_of_1pct_equation_error": repr(self.effect(prepared, k))} for k, m in MATRIX.items()}
        return "", {"observables": d, "theta_c": {m: t.as_dict() for m, t in prepared["tc"].items()}}

    def figures_for(self, result, prepared):
        return []

    def summarize(self, results, options):
        sections, eps = [], F(options.perturb)
        for name, (opts, alpha, lam, thetas, _) in CONFIGS.items():
            rs = [r for r in results if r.point["config"] == name]
            tc = {m: t.as_dict() for m, t in thresholds(name, eps).items()}
            lines = [f"- θ_c({'S' if m == 'sample' else 'Â'}) = {t['theta_c']}" + (f" (certified: [{t['theta_c_lo']}, {t['theta_c_hi']}])" if t.get("certified") else f" — {t.get('reason', '')}") for m, t in tc.items()]
            lines.append(f"- points within |θ/θ_c − 1| < {rs[0].point['window']:.2g} are shown, not judged")
            sections.append(Section(f"{name}: {opts['spike']} spike, {opts['base']} base, α = {alpha}, λ = {lam}", lines, figures=[self.curve_figure(name, rs, eps)]))
        lam_map = threshold_map(MAP_CASES, LAMBDA_MAP, DPS)
        label = lambda c: ", ".join(f"{k}={v}" for k, v in c.items())  # noqa: E731
        rows = [[label(m["case"]), m["sample"][:10], *[v[:10] if v != "inf" else "∞" for v in m["ssr"].values()]] for m in lam_map]
        table = Section("θ_c of Â over λ", ["∞: no outlier separates for any θ."], [Table(["case", "θ_c(S)", *[f"λ={x}" for x in LAMBDA_MAP]], rows)])
        return {"sections": sections, "appendix": [table], "data": {"lambda_map": [{**m, "case": label(m["case"])} for m in lam_map]}}

    def curve_figure(self, name, rs, eps):
        grid = np.geomspace(float(min(CONFIGS[name][3])) * 0.7, float(max(CONFIGS[name][3])) * 1.05, 30)
        curve = curves(name, tuple(F(str(round(g, 6))) for g in grid), eps, 16)
        panels = [Panel("Â top eigenvalue", "spike strength θ", "top eigenvalue of Â", xscale="log"), Panel("squared overlap with the spike", "spike strength θ", "|⟨u, v⟩|²", xscale="log")]
        for panel, kind, keys in ((panels[0], "location", ("a_top",)), (panels[1], "overlap", ("a_overlap", "s_overlap"))):
            for k in keys:
                m = MATRIX[k]
                panel.series.append(Series("line", list(grid), [float(getattr(o, kind)) for o in curve[m]], style="-" if m == "ssr" else "--", label=f"theory d = ∞ ({'Â' if m == 'ssr' else 'S'})"))
                for j, d in enumerate(rs[0].observables[k].d[-3:]):
                    g = rs[0].observables[k].d.index(d)
                    xs = [float(F(r.point["theta"])) * (1 + 0.02 * (j - 1)) for r in rs]
                    panel.series.append(Series("points", xs, [r.observables[k].mean[g] for r in rs], [r.observables[k].se[g] for r in rs], f"MC {'Â' if m == 'ssr' else 'S'} d={d}", "o" if m == "ssr" else "s"))
            panel.series += [Series("vline", [float(t.theta_c)], label=f"θ_c({'Â' if m == 'ssr' else 'S'})", style=":" if m == "ssr" else "-.") for m, t in thresholds(name, eps).items() if t.theta_c is not None]
        return Figure(name, f"{name}: outliers across θ_c", panels, caption="Below θ_c the top eigenvalue sits at the bulk edge, which finite d approaches from above at rate d^-⅔.")
