"""C4 — BBP transition of Â: thresholds, outliers and overlaps, against Monte Carlo scans across θ_c."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np

from rmtverify.theory.bbp import Scan, threshold, threshold_map
from rmtverify.verification.claim import Claim, Observable, Point, is_limit
from rmtverify.verification.figures import scan_panel
from rmtverify.verification.outcome import Figure, Section, Table

SCANS = {  # name: (the d = ∞ theory, θ scan, model options beyond the scan's, a new random direction per sample)
    "isotropic-flat": (Scan("isotropic", "flat", F(2), F(1, 10)), (F(7, 20), F(7071, 10000), F(21, 10), F(7)), {}, False),
    "isotropic-e1": (Scan("isotropic", "e1", F(1, 4), F(2)), (F(1), F(3), F(30), F(100)), {}, False),
    "ar1-random": (Scan("ar1", "random", F(2), F(1, 10), F(1, 2)), (F(1), F(2), F(6), F(20)), {"boundary": "toeplitz"}, True),
    "ar1-flat": (Scan("ar1", "flat", F(2), F(1, 10), F(1, 2)), (F(3, 10), F(3, 5), F(17, 10), F(15)), {"boundary": "circulant"}, False),
}
WINDOW, WINDOW_N = 0.3, 2.0  # the transition has width O(n^-⅓): a window around θ_c is shown, not judged
MAP = [Scan("isotropic", "flat", F(2), F(0)), *(Scan("isotropic", "e1", a, F(0)) for a in (F(2), F(1, 2), F(1, 4))),
       Scan("ar1", "random", F(2), F(0), F(1, 2)), Scan("ar1", "flat", F(2), F(0), F(1, 2))]
LAMBDA_MAP = (F(1, 100), F(1, 10), F(1, 2), F(1), F(2), F(5), F(10))
MATRIX = {"s_top": "sample", "s_overlap": "sample", "a_top": "ssr", "a_overlap": "ssr"}
LABELS = {"s_top": "S top eigenvalue", "s_overlap": "S overlap", "a_top": "Â top eigenvalue", "a_overlap": "Â overlap"}
KIND = {k: "location" if k.endswith("top") else "overlap" for k in MATRIX}


class BBP(Claim):
    name, spec = "bbp", "C4"
    title = "Spiked models: BBP transition of Â — thresholds, outliers, overlaps"
    statement = ("Â's spectrum has a BBP-type transition: above θ_c an outlier separates from the bulk and its eigenvector "
                 "correlates with the spike. For a delocalised spike θ_c is the sample-covariance threshold (1/√α on Σ₀ = I) at "
                 "every λ; for a spike on e1 it is higher, depends on λ, and can be infinite (derivation bbp).")
    observables = tuple(Observable(k, lab, controls=("c_vsv",)) for k, lab in LABELS.items())
    ladders, seeds, perturbation, sequential_cap = ((128, 256, 512), (128, 256, 512, 1024)), (24, 32), "theory", 8
    power_observables, point_figures = ("s_top", "a_top"), False
    method = ("- Theory at d = ∞ (derivation bbp, 20 digits; θ_c with certified enclosures); ε enters the outlier equation as θ → (1+ε)θ. "
              "Above θ_c a location's mean gap is extrapolated with c·d^-1 (power for 2%) and its spread across samples must shrink like "
              "d^-½; an overlap must resolve 0.05. Below θ_c the top eigenvalue is judged against the bulk edge (rate ⅔, 5%) and the "
              "overlap against 0 (0.1). Points within |θ/θ_c − 1| < max(0.3, 2·n^-⅓) are shown, not judged. The largest θ of each "
              "configuration must resolve half the change a 1% error in the outlier equation makes in a location (the claim's power).",)

    def points(self, options):
        out, ladder = [], self.ladder(options)
        for name, (scan, thetas, opts, fresh) in SCANS.items():
            window = max(WINDOW, WINDOW_N * Point({"model": "isotropic", "alpha": scan.alpha}).n(ladder[0]) ** (-1 / 3))
            tc = [t.theta_c for t in scan.thresholds(F(options.perturb)).values() if t.theta_c is not None]
            scanned = tuple(th for th in thetas if not (options.quick and any(abs(float(th / F(str(c))) - 1) < window for c in tc)))
            model = {"model": "spiked", **{k: v for k, v in scan.kw().items() if k != "alpha"}, **opts}
            for th in scanned:
                spec = {**model, "theta": th, "alpha": scan.alpha, "lam": scan.lam, "config": name, "window": window, "scan": scanned}
                out.append(Point(spec, label=f"{name}|{th}", fresh_spike=fresh))
        return out

    def prepare(self, point, eps):
        scan, th, thetas = SCANS[point["config"]][0], point["theta"], point["scan"]
        return {"at": {m: c[thetas.index(th)] for m, c in scan.curve(thetas, eps).items()}, "tc": scan.thresholds(eps)}

    def measure(self, sample, point):
        return sample.spike(point.lam)

    def theory(self, point, d, prepared):
        return None if is_limit(d) else {k: float(getattr(prepared["at"][m], KIND[k])) for k, m in MATRIX.items()}

    def criteria(self, point, observable, prepared):
        c, o = prepared["tc"][MATRIX[observable.name]].theta_c, prepared["at"][MATRIX[observable.name]]
        if c is not None and abs(float(F(point["theta"]) / F(str(c))) - 1) < point["window"]:
            return None
        if KIND[observable.name] == "location":
            separated = observable.criteria(resolution=0.02, spread_rate=0.5)
            return separated if o.separated else observable.criteria(beta0=2 / 3, resolution=0.05)
        return observable.criteria(resolution=0.05 if o.separated else 0.1, scale=1.0)

    def needs_power(self, point):
        return point["theta"] == point["scan"][-1]  # the largest θ of each scan carries the claim's power

    def details(self, point, prepared):
        separated = {k: prepared["at"][m].separated for k, m in MATRIX.items()}
        return "", {"separated": separated, "theta_c": {m: t.as_dict() for m, t in prepared["tc"].items()}}

    def summarize(self, results, options):
        sections, answers = [], []
        for name, (scan, thetas, _, _) in SCANS.items():
            rs, tc = [r for r in results if r.point["config"] == name], scan.thresholds(F(options.perturb))
            s, a = (t.as_dict()["theta_c"] for t in tc.values())
            answers.append(f"- {name}: θ_c(S) = {s[:12]}, θ_c(Â) = {a[:12]} — **{'equal' if s == a else 'different'}**.")
            lines = [f"- θ_c({'S' if m == 'sample' else 'Â'}) = {t.as_dict()['theta_c']}"
                     + (f" (certified: [{t.lo}, {t.hi}])" if t.certified else f" — {t.reason}") for m, t in tc.items()]
            lines.append(f"- points within |θ/θ_c − 1| < {rs[0].point['window']:.2g} are shown, not judged")
            title = f"{name}: {scan.spike} spike, {scan.base} base, α = {scan.alpha}, λ = {scan.lam}"
            sections.append(Section(title, lines, figures=[self.figure(name, rs, tc, options)]))
        lam_map = [(", ".join(f"{k}={v}" for k, v in s.kw().items()), threshold(dps=s.dps, **s.kw()).as_dict()["theta_c"],
                    threshold_map(s, LAMBDA_MAP)) for s in MAP]
        rows = [[case, tc_s[:10], *[v[:10] if v != "inf" else "∞" for v in tcs]] for case, tc_s, tcs in lam_map]
        moves = "; ".join(case for case, _, tcs in lam_map if len(set(tcs)) > 1)
        answers.append(f"- θ_c(Â) moves with λ for {moves}; it is the same at every λ for the other cases (table below).")
        table = Table(["case", "θ_c(S)", *[f"λ={x}" for x in LAMBDA_MAP]], rows)
        data = [{"case": case, "sample": tc_s, "ssr": dict(zip(map(str, LAMBDA_MAP), tcs))} for case, tc_s, tcs in lam_map]
        appendix = [Section("θ_c of Â over λ", ["∞: no outlier separates for any θ."], [table])]
        return {"sections": [Section("Answers", answers), *sections], "appendix": appendix, "data": {"lambda_map": data}}

    def figure(self, name, rs, tc, options):
        scan, thetas = SCANS[name][0], SCANS[name][1]
        grid = np.geomspace(float(min(thetas)) * 0.7, float(max(thetas)) * 1.05, 30)
        curve = scan.curve(tuple(F(str(round(g, 6))) for g in grid), F(options.perturb), 16)
        def line(k):
            ys = [float(getattr(o, KIND[k])) for o in curve[MATRIX[k]]]
            return grid, ys, f"theory d = ∞ ({LABELS[k].split()[0]})", "-" if k[0] == "a" else "--"

        vlines = [(float(t.theta_c), f"θ_c({'Â' if m == 'ssr' else 'S'})", ":" if m == "ssr" else "-.")
                  for m, t in tc.items() if t.theta_c is not None]
        theta, mc = (lambda p: float(F(p["theta"]))), {"a_top": ("MC Â", "o"), "a_overlap": ("MC Â", "o"), "s_overlap": ("MC S", "s")}
        panels = [scan_panel("Â top eigenvalue", "spike strength θ", "top eigenvalue of Â", rs, theta, {"a_top": mc["a_top"]},
                             [line("a_top")], vlines),
                  scan_panel("squared overlap with the spike", "spike strength θ", "|⟨u, v⟩|²", rs, theta,
                             {k: mc[k] for k in ("a_overlap", "s_overlap")}, [line("a_overlap"), line("s_overlap")], vlines)]
        caption = "Below θ_c the top eigenvalue sits at the bulk edge, which finite d approaches at rate d^-⅔."
        return Figure(name, f"{name}: outliers across θ_c", panels, caption=caption)
