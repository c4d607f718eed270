"""C4 — BBP transition of Â: thresholds, outliers and overlaps, against Monte Carlo scans across θ_c.

Theory: :mod:`rmtverify.bbp` (derivation bbp), at d = ∞. Monte Carlo: for each
configuration a scan of θ below, at and above the thresholds of S and Â; per
sample the top eigenvalue and the squared overlap of the top eigenvector
with the spike, for S and for Â (unit right eigenvector). The outlier
fluctuates on the scale d^-½, so the means use the control variate vᵀSv
(its Gaussian mean vᵀΣv is exact), cross-fitted: a sample is corrected with a
coefficient fitted on the other folds, which cuts the standard errors up to
tenfold without bias and keeps them honest (z-scores of replicated runs have
SD 1.02–1.08 for t ≈ 1.05). A second control, vᵀS²v, was dropped: with it the
z-scores had SD 1.2–1.45 and tails ten times too heavy.

Verdicts (SPEC §5). Above the threshold an outlier fluctuates on the scale
d^-½ (the rate ½ of SPEC §5, tested on the standard deviation across samples)
while the bias of its mean is O(1/d): the mean gap is extrapolated with
c·d^-1. Below the threshold the top eigenvalue is judged against the bulk
edge (rate ⅔) and the overlap against 0 (rate 1). Within the finite-size
window |θ/θ_c − 1| < max(0.3, 2·n^-⅓) (n at the smallest d; the BBP transition
has width O(n^-⅓)) nothing is judged: the points are shown. Power of
each sub-test: an error of 2% of a location, 0.05 in a squared overlap, 5% of
the edge below the threshold, 0.1 in an overlap there. Power of the claim:
for each configuration, at its largest θ, one of the locations (S or Â) must
detect what a 1% error in the outlier equation (θ → 1.01θ) would do,
4 SE(g∞) ≤ half that change; the tool reports which. Samples per point:
Stein's two-stage design — a pilot of K samples per (θ, d) estimates the
spread, and a point whose sub-tests (or, at the largest θ, the claim's power)
fall short of their targets is rerun with K·(1.2·shortfall)² samples, at most
8K. The extension reads the standard errors of the extrapolations, never the
gaps' distance from 0.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from rmtverify.theory.bbp import outlier_curve, threshold
from rmtverify.models import make_model
from rmtverify.reports.markdown import fixed_layout, markdown_table, record_markdown, run_record, save_figure
from rmtverify.montecarlo.engine import SAMPLER, control_variate_mean, sample_size, spike_ladder
from rmtverify.verification.verdict import Criteria, combine, judge, judge_rate
from rmtverify.verification.claims.base import Claim, ClaimOutcome, RunOptions

FULL_LADDER = (128, 256, 512, 1024)
QUICK_LADDER = (128, 256, 512)
FULL_SEEDS = 32
QUICK_SEEDS = 24
DPS = 20
WINDOW = 0.3  # |θ/θ_c − 1| below this is the finite-size window: shown, not judged
#: ...widened to WINDOW_N · n^(-1/3) at the ladder's smallest n: the BBP transition has width O(n^(-1/3)), and
#: within a few widths of θ_c the finite-size corrections are not yet c/d (e1 spike, α = 1/4, θ = 1.5 θ_c: the
#: S overlap dips 0.02 below its limit at n = 64–128 before rising back at n = 256)
WINDOW_N = 2.0
#: the control variates the means use (the engine also records c_vs2v; see the module text for why not it)
CONTROLS = ("c_vsv",)
#: the claim's power: 4 SE(g∞) of a location at the largest θ within this fraction of a 1% equation error's effect
POWER_RATIO = 0.5
#: the two-stage design adds samples to a θ point up to this multiple of the pilot
MAX_SEED_FACTOR = 8


@dataclass(frozen=True)
class Config:
    name: str
    base: str
    spike: str
    alpha: Fraction
    lam: Fraction
    thetas: tuple
    rho: Fraction | None = None
    boundary: str | None = None
    fresh_direction: bool = False  # a random spike: a new direction for every sample
    extra: dict = field(default_factory=dict)

    def model(self, theta, seed=0):
        opts = {"theta": theta, "spike": self.spike, "base": self.base}
        if self.base == "ar1":
            opts.update(rho=self.rho, boundary=self.boundary)
        if self.spike == "random":
            opts["spike_seed"] = seed if self.fresh_direction else 0
        return make_model("spiked", **opts)

    def theory_kw(self):
        kw = {"base": self.base, "spike": self.spike, "alpha": self.alpha}
        if self.rho is not None:
            kw["rho"] = self.rho
        return kw

    def title(self):
        b = "isotropic base" if self.base == "isotropic" else f"AR(1) base ρ={self.rho} ({self.boundary})"
        return f"{self.spike} spike on the {b}, α={self.alpha}, λ={self.lam}"


CONFIGS = (
    Config("isotropic-flat", "isotropic", "flat", Fraction(2), Fraction(1, 10), (Fraction(7, 20), Fraction(7071, 10000), Fraction(21, 10), Fraction(7))),
    Config("isotropic-e1", "isotropic", "e1", Fraction(1, 4), Fraction(2), (Fraction(1), Fraction(3), Fraction(30), Fraction(100))),
    Config("ar1-random", "ar1", "random", Fraction(2), Fraction(1, 10), (Fraction(1), Fraction(2), Fraction(6), Fraction(20)), rho=Fraction(1, 2), boundary="toeplitz", fresh_direction=True),
    Config("ar1-flat", "ar1", "flat", Fraction(2), Fraction(1, 10), (Fraction(3, 10), Fraction(3, 5), Fraction(17, 10), Fraction(15)), rho=Fraction(1, 2), boundary="circulant"),
)
LAMBDA_MAP = (Fraction(1, 100), Fraction(1, 10), Fraction(1, 2), Fraction(1), Fraction(2), Fraction(5), Fraction(10))
OBS = (("s_top", "sample", "location"), ("s_overlap", "sample", "overlap"), ("a_top", "ssr", "location"), ("a_overlap", "ssr", "overlap"))
LABEL = {
    "s_top": "S top eigenvalue",
    "s_overlap": "S overlap",
    "a_top": "Â top eigenvalue",
    "a_overlap": "Â overlap",
    "s_top_sd": "S top eigenvalue, SD across samples",
    "a_top_sd": "Â top eigenvalue, SD across samples",
}


class BBP(Claim):
    name = "bbp"
    ladders = (QUICK_LADDER, FULL_LADDER)
    spec = "C4"
    title = "Spiked models: BBP transition of Â — thresholds, outliers, overlaps"
    statement = (
        "Â's spectrum has a BBP-type transition: above θ_c an outlier separates from the bulk and its eigenvector "
        "correlates with the spike. For a delocalised spike θ_c is the sample-covariance threshold (1/√α on Σ₀ = I) "
        "for every λ; for a spike on e1 it is higher, depends on λ, and can be infinite (derivation bbp)."
    )

    def run(self, options: RunOptions) -> ClaimOutcome:
        t0 = time.time()
        ladder = self.ladder(options)
        seeds = QUICK_SEEDS if options.quick else FULL_SEEDS
        eps = options.perturb
        statuses, sections, figures, results = [], [], [], []
        for cfg in CONFIGS:
            th_s = threshold(dps=DPS, certify=True, perturb=eps, **cfg.theory_kw())
            th_a = threshold(dps=DPS, lam=cfg.lam, matrix="ssr", certify=True, perturb=eps, **cfg.theory_kw())
            tc = {"sample": th_s.theta_c, "ssr": th_a.theta_c}
            window = _window(cfg, ladder)
            rows, judged, points = [], {}, []
            # the quick suite skips the points it would only show
            scanned = [theta for theta in cfg.thetas if not (options.quick and _in_window(theta, tc, window))]
            curves = {
                (e, m): outlier_curve(scanned, lam=cfg.lam if m == "ssr" else None, matrix=m, dps=DPS, perturb=e, **cfg.theory_kw())
                for e in {Fraction(0), Fraction(1, 100), eps}
                for m in ("sample", "ssr")
            }
            for j, theta in enumerate(scanned):
                at = {e: {m: curves[(e, m)][j] for m in ("sample", "ssr")} for e in {Fraction(0), Fraction(1, 100), eps}}
                last = j == len(scanned) - 1
                # Stein's two-stage design: a pilot of `seeds` samples estimates the spread; where a sub-test
                # (or, at the last θ, the claim's power) falls short, the point is rerun with enough samples
                # for the target by that estimate (times 1.2², capped at MAX_SEED_FACTOR × pilot). The
                # extension reads the standard error of g∞ (the SEs and the fit's scatter), never the gap's
                # distance from 0; seeds 0…K−1 are the pilot's, so a cached pilot is not recomputed
                k, cap = seeds, MAX_SEED_FACTOR * seeds
                while True:
                    scan = spike_ladder(lambda i, th=theta: cfg.model(th, i), cfg.alpha, cfg.lam, ladder, k, options.seed, options.cache, f"{self.name}|{cfg.name}|{theta}", options.quiet, options.executor)
                    out = _judge_point(theta, ladder, scan, at[eps], at[Fraction(1, 100)], at[Fraction(0)], tc, window, k, last)
                    short = out["shortfall"]
                    if short <= 1 or k >= cap:
                        break
                    k = cap if not np.isfinite(short) else min(cap, 8 * int(np.ceil(k * (1.2 * short) ** 2 / 8)))
                point = out["point"]
                point["seeds"] = k
                statuses.extend(out["statuses"])
                judged.update(out["judged"])
                rows.extend([f"{r[0]} (K = {k})", *r[1:]] for r in out["rows"])
                points.append(point)
            power = _power_check(points, judged)
            statuses.append(power["status"])
            fig = f"{self.name}-{cfg.name}.png"
            save_figure(_figure(cfg, points, ladder, th_s, th_a, eps), options.out / fig)
            figures.append(fig)
            results.append({"config": cfg.name, "title": cfg.title(), "theta_c_sample": th_s.as_dict(), "theta_c_ssr": th_a.as_dict(), "d": list(ladder), "seeds": seeds, "points": points, "power_1pct": power})
            sections.append(_section(cfg, th_s, th_a, rows, ladder, judged, fig, power, window))
        lam_map = _lambda_map()
        status = combine(statuses)
        summary = f"{sum(s == 'PASS' for s in statuses)}/{len(statuses)} sub-tests PASS over {len(CONFIGS)} configurations, d = {ladder[0]}…{ladder[-1]}"
        record = run_record(t0, {"sampler": SAMPLER, "seeds": f"{seeds} per (θ, d) in the pilot, up to {MAX_SEED_FACTOR * seeds} where the two-stage design extends a point (K per point in the tables); SeedSequence({options.seed}, spawn_key=(crc32('{self.name}|<config>|<θ>'), d, i))", "parameters": {"ladder": list(ladder), "perturb": str(eps), "dps": DPS, "cache_hits": options.cache.hits}})
        md = "\n".join(
            [
                f"# {self.spec} — {self.name}: {self.title}",
                "",
                f"**Verdict: {status}** — {summary}" + (f"; outlier equation perturbed by ε = {eps} (θ → (1+ε)θ)" if eps else ""),
                "",
                f"Claim: {self.statement}",
                "",
                "## Answers",
                "",
                *_answers(results, lam_map),
                "",
                "## Method",
                "",
                __doc__.split("\n\n", 1)[1].strip().replace("\n", " "),
                "",
                *sections,
                "## θ_c of Â over λ",
                "",
                lam_map["table"],
                "",
                record_markdown(record),
            ]
        )
        data = {"claim": self.name, "spec": self.spec, "status": status, "summary": summary, "perturb": str(eps), "configs": results, "lambda_map": lam_map["data"], "run": record}
        return ClaimOutcome(self.name, self.spec, status, summary, md, data, figures)


def _judge_point(theta, ladder, scan, theory, ref, exact, tc, window: float, seeds: int, last: bool) -> dict:
    """Every sub-test at one θ from its ladder of samples; ``shortfall`` = the largest ratio of the smallest
    detectable error to its target (≤ 1: every sub-test has its power; at the last θ the claim's too)."""
    data = {}
    for d, (n, v) in zip(ladder, scan):
        C = np.stack([v[c] for c in CONTROLS], axis=1)
        data[d] = {k: (*control_variate_mean(v[k], C), float(np.std(v[k], ddof=1))) for k, _, _ in OBS}
    point = {"theta": str(theta), "n": None, "observables": {}}
    statuses, judged, rows, shortfall = [], {}, [], 0.0
    for key, matrix, kind in OBS:
        o = theory[matrix]
        value = float(getattr(o, kind))
        delta = abs(float(getattr(ref[matrix], kind)) - float(getattr(exact[matrix], kind)))
        mean = np.array([data[d][key][0] for d in ladder])
        se = np.array([data[d][key][1] for d in ladder])
        c = tc[matrix]
        ratio = float(Fraction(theta) / Fraction(str(c))) if c is not None else 0.0
        verdict = None
        if c is not None and abs(ratio - 1) < window:
            crit, status = None, "shown"
        elif o.separated:
            crit = Criteria(beta0=1.0, resolution=0.02) if kind == "location" else Criteria(beta0=1.0, resolution=0.05, scale=1.0)
        elif kind == "location":
            crit = Criteria(beta0=2 / 3, resolution=0.05)
        else:
            crit = Criteria(beta0=1.0, resolution=0.1, scale=1.0)
        if crit is not None:
            verdict = judge(ladder, mean, se, np.full(len(ladder), value), None, crit)
            status = verdict.status
            statuses.append(status)
            judged[(str(theta), key)] = verdict
            shortfall = max(shortfall, verdict.numbers["min_detectable_rel"] / crit.resolution)
            if o.separated and kind == "location":
                sd = np.array([data[d][key][2] for d in ladder])
                rate = judge_rate(ladder, sd, sd / np.sqrt(2 * (seeds - 1)), 0.5)
                statuses.append(rate.status)
                judged[(str(theta), key + "_sd")] = rate
                point.setdefault("fluctuations", {})[key] = {"sd": [repr(float(x)) for x in sd], "verdict": rate.as_dict()}
        point["observables"][key] = {
            "theory": repr(value),
            "separated": o.separated,
            "effect_of_1pct_equation_error": repr(delta),
            "mc_mean": [repr(float(x)) for x in mean],
            "mc_se": [repr(float(x)) for x in se],
            "status": status,
            "verdict": verdict.as_dict() if verdict is not None else None,
        }
        rows.append([str(theta), LABEL[key], f"{value:.6g}", *[f"{m:.5g} ± {s:.1g}" for m, s in zip(mean, se)], status])
    if last:
        power = _power_check([point], judged)
        if "ratio" in power:
            shortfall = max(shortfall, power["ratio"] / POWER_RATIO)
    return {"point": point, "statuses": statuses, "judged": judged, "rows": rows, "shortfall": shortfall}


def _power_check(points, judged) -> dict:
    """At the largest θ, can a location (S or Â) detect the change a 1% error in the outlier equation makes?"""
    last = points[-1]
    best = None
    for key in ("s_top", "a_top"):
        v = judged.get((last["theta"], key))
        o = last["observables"][key]
        if v is None or not o["separated"]:
            continue
        delta = float(o["effect_of_1pct_equation_error"])
        mde = 4 * v.numbers["gap_inf_se"]
        ratio = mde / delta if delta > 0 else float("inf")
        if best is None or ratio < best[2]:
            best = (key, delta, ratio, mde)
    if best is None:
        return {"status": "INCONCLUSIVE", "reason": f"no outlier at θ = {last['theta']} to carry the power"}
    key, delta, ratio, mde = best
    ok = ratio <= POWER_RATIO
    return {
        "status": "PASS" if ok else "INCONCLUSIVE",
        "ratio": ratio,
        "observable": key,
        "theta": last["theta"],
        "change_from_1pct_error": delta,
        "four_se": mde,
        "reason": f"{LABEL[key]} at θ = {last['theta']}: a 1% error in the outlier equation moves it by {delta:.3g}; 4 SE(g∞) = {mde:.3g} "
        + ("≤" if ok else ">") + " half of that",
    }


def _window(cfg, ladder) -> float:
    """The half-width of the finite-size window in θ/θ_c for this configuration's ladder."""
    return max(WINDOW, WINDOW_N * sample_size(cfg.alpha, ladder[0]) ** (-1 / 3))


def _in_window(theta, tc, window: float) -> bool:
    return any(c is not None and abs(float(Fraction(theta) / Fraction(str(c))) - 1) < window for c in tc.values())


def _lambda_map() -> dict:
    """θ_c of Â over λ for each spike type, next to the sample-covariance threshold."""
    rows, data = [], []
    cases = [
        ("isotropic", "flat", Fraction(2), None),
        ("isotropic", "e1", Fraction(2), None),
        ("isotropic", "e1", Fraction(1, 2), None),
        ("isotropic", "e1", Fraction(1, 4), None),
        ("ar1", "random", Fraction(2), Fraction(1, 2)),
        ("ar1", "flat", Fraction(2), Fraction(1, 2)),
    ]
    for base, spike, alpha, rho in cases:
        kw = {"base": base, "spike": spike, "alpha": alpha, **({"rho": rho} if rho is not None else {})}
        s = threshold(dps=DPS, **kw).as_dict()["theta_c"]
        vals = [threshold(dps=DPS, lam=l, matrix="ssr", **kw).as_dict()["theta_c"] for l in LAMBDA_MAP]
        label = f"{spike}, {base}" + (f" ρ={rho}" if rho is not None else "") + f", α={alpha}"
        rows.append([label, s[:10], *[v[:10] if v != "inf" else "∞" for v in vals]])
        data.append({"case": label, "sample": s, "ssr": dict(zip(map(str, LAMBDA_MAP), vals))})
    table = markdown_table(["spike, base, α", "θ_c(S)", *[f"λ={l}" for l in LAMBDA_MAP]], rows)
    return {"table": table, "data": data}


def _answers(results, lam_map) -> list:
    by = {r["config"]: r for r in results}
    out = []
    for name, what in (("isotropic-flat", "a flat spike (isotropic base)"), ("isotropic-e1", "an e1 spike (isotropic base)"), ("ar1-random", "a random spike on AR(1)"), ("ar1-flat", "a flat spike on AR(1)")):
        r = by[name]
        s, a = r["theta_c_sample"]["theta_c"], r["theta_c_ssr"]["theta_c"]
        same = s == a
        out.append(f"- For {what} at α = {r['theta_c_sample']['alpha']}, λ = {r['theta_c_ssr']['lam']}: θ_c(S) = {s[:12]}, θ_c(Â) = {a[:12] if a != 'inf' else '∞'} — **{'equal' if same else 'different'}**.")
    lam_dep = [d for d in lam_map["data"] if len(set(d["ssr"].values())) > 1]
    flat = [d for d in lam_map["data"] if len(set(d["ssr"].values())) == 1]
    out.append(
        "- Dependence on λ: θ_c(Â) is the same at every λ for "
        + "; ".join(d["case"] for d in flat)
        + ". It moves with λ for "
        + "; ".join(f"{d['case']} (from {min(d['ssr'].values(), key=_key)[:8]} to {max(d['ssr'].values(), key=_key)[:8]})" for d in lam_dep)
        + " — see the table below (∞: no outlier separates for any θ)."
    )
    return out


def _key(v):
    return float("inf") if v == "inf" else float(v)


def _section(cfg, th_s, th_a, rows, ladder, judged, fig, power, window) -> str:
    ds, da = th_s.as_dict(), th_a.as_dict()
    cert = lambda d: f" (certified: [{d['theta_c_lo']}, {d['theta_c_hi']}])" if d.get("certified") else (f" — {d['reason']}" if d.get("reason") else "")  # noqa: E731
    lines = [
        f"## {cfg.title()}",
        "",
        f"- θ_c(S) = {ds['theta_c']}{cert(ds)}",
        f"- θ_c(Â) = {da['theta_c']}{cert(da)}",
        "",
        markdown_table(["θ", "observable", "theory (d = ∞)", *[f"MC d={d}" for d in ladder], "verdict"], rows),
        "",
    ]
    for (theta, key), v in judged.items():
        if v.status != "PASS":
            lines.append(f"- θ = {theta}, {LABEL[key]}: **{v.status}** — " + "; ".join(v.reasons))
    n_pass = sum(v.status == "PASS" for v in judged.values())
    lines.append(f"- Power for a 1% error in the outlier equation: **{power['status']}** — {power['reason']}.")
    lines += [f"- {n_pass}/{len(judged)} judged sub-tests PASS (points within the window |θ/θ_c − 1| < {window:.2g} = max({WINDOW}, {WINDOW_N:g}·n^-⅓ at n = {sample_size(cfg.alpha, ladder[0])}) are shown, not judged).", "", f"![{cfg.name}]({fig})", ""]
    return "\n".join(lines)


def _figure(cfg, points, ladder, th_s, th_a, eps):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    tmax = max(float(t) for t in cfg.thetas) * 1.05
    grid = np.geomspace(min(float(t) for t in cfg.thetas) * 0.7, tmax, 30)
    # one outlier solve per (θ, matrix) serves both panels
    thetas = [Fraction(str(round(g, 6))) for g in grid]
    curve = {matrix: outlier_curve(thetas, lam=cfg.lam if matrix == "ssr" else None, matrix=matrix, dps=16, perturb=eps, **cfg.theory_kw()) for matrix in ("ssr", "sample")}
    for ax, kind, keys in ((axes[0], "location", ("a_top",)), (axes[1], "overlap", ("a_overlap", "s_overlap"))):
        for key in keys:
            matrix = "ssr" if key.startswith("a") else "sample"
            th = [float(getattr(o, kind)) for o in curve[matrix]]
            ax.plot(grid, th, "-" if matrix == "ssr" else "--", label=f"theory ({'Â' if matrix == 'ssr' else 'S'})")
            for j, d in enumerate(ladder[-3:]):
                xs = [float(Fraction(p["theta"])) * (1 + 0.02 * (j - 1)) for p in points]
                ys = [float(p["observables"][key]["mc_mean"][ladder.index(d)]) for p in points]
                es = [float(p["observables"][key]["mc_se"][ladder.index(d)]) for p in points]
                ax.errorbar(xs, ys, yerr=es, fmt="o" if matrix == "ssr" else "s", ms=3, capsize=2, label=f"MC {'Â' if matrix == 'ssr' else 'S'} d={d}")
        for tc, ls, lab in ((th_a.theta_c, ":", "θ_c(Â)"), (th_s.theta_c, "-.", "θ_c(S)")):
            if tc is not None:
                ax.axvline(float(tc), color="k", ls=ls, lw=1, label=lab)
        ax.set_xscale("log")
        ax.set_xlabel("θ")
        ax.set_title("Â top eigenvalue" if kind == "location" else "squared overlap with the spike")
        ax.legend(fontsize=7)
    fig.suptitle(cfg.title())
    fixed_layout(fig, left=0.075, right=0.986, bottom=0.145, top=0.83, wspace=0.12)
    return fig
