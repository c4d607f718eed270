"""C6 — AR(1): masked SSR against PCA with k = φd directions; the crossover φ* and who wins on each side."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from rmtverify.montecarlo.kernels import population_pca
from rmtverify.theory.pca import SETTINGS, crossover_design, crossover_map, error_curves, law_error, population_limit_crossover
from rmtverify.verification.claim import Claim, Observable, Point, is_limit
from rmtverify.verification.outcome import Figure, Panel, Section, Series, SubTest, Table
from rmtverify.verification.statistics import sign_test

RHOS, ALPHAS = (Fraction(1, 2), Fraction(4, 5), Fraction(19, 20)), (Fraction(1, 2), Fraction(2), Fraction(8))
KEY = {"reconstruction": "recon", "masked": "masked"}
CLOSE_TO_ONE = 0.9  # "unless k/d is close to 1" read as φ* ≥ 0.9


def sample_tests(point):
    return [(m, phi, f"{KEY[m]}@{phi!r}") for p, m, phi, _ in crossover_design(point["rho"], point.alpha)["tests"] if p == "sample"]


class PcaAR1(Claim):
    name, spec = "pca-ar1", "C6"
    title = "AR(1): masked SSR against PCA with k directions; the crossover k*/d"
    statement = ("Masked SSR (at its optimal ridge λ*) outperforms PCA with k directions unless k/d is large enough; the crossover "
                 "k*/d is computed per (ρ, α) for population and sample PCA, in the reconstruction metric (tr Σ − Σ_{i≤k} u_iᵀΣu_i)/d and "
                 "in the masked metric (PCA as a masked predictor through the probabilistic-PCA covariance).")
    ladders, seeds, point_figures = ((128, 256, 512), (128, 256, 512, 1024)), (12, 16), False
    method = ("- Theory (module pca, derivation pca) at d = ∞ and the optimal ridge λ*: φ* for population or sample PCA (Ledoit–Péché "
              "weights) in both metrics. Monte Carlo: SSR's E_gen at λ* (rate 1, power for 2%; the 0.5% test is claim C2), sample PCA and "
              "PPCA at fractions φ*/2 and (1+φ*)/2 (0.5 when φ* is 0 or 1) against the theory at round(φd)/d (power for 2%), and the "
              "winner at each test fraction: the paired E_pca − E_SSR at the largest d must have the predicted sign, ≥ 4 SE from 0.",)

    def points(self, options):
        ts = {(r, a): crossover_design(r, a) for r in RHOS for a in ALPHAS}
        fracs = {k: tuple(sorted({phi for p, _, phi, _ in t["tests"] if p == "sample"})) for k, t in ts.items()}
        return [Point({"model": "ar1", "rho": r, "alpha": a, "lam": t["lam"], "fracs": fracs[r, a]}, label=f"{r}|{a}")
                for (r, a), t in ts.items()]

    def observables_for(self, point):
        tests = [Observable(name, f"sample {m} at k/d = {phi:.4g}", resolution=0.02) for m, phi, name in sample_tests(point)]
        return (Observable("e_ssr", "SSR E_gen at λ*", resolution=0.02), *tests)

    def prepare(self, point, eps):
        return crossover_design(point["rho"], point.alpha)

    def measure(self, sample, point):
        return sample.pca(point.lam, list(point["fracs"]))

    def observe(self, measured, point, prepared, d):
        fracs = list(point["fracs"])
        return {"e_ssr": measured["e_ssr"], **{name: measured[KEY[m]][fracs.index(phi)] for m, phi, name in sample_tests(point)}}

    def theory(self, point, d, t):
        if is_limit(d):
            return {"e_ssr": t["e_ssr"]}
        sample = {name: law_error(t["law"], m, round(phi * d) / d) for m, phi, name in sample_tests(point)}
        return {"e_ssr": point.equivalents(d).e_gen, **sample}

    def details(self, point, t):
        return "", {"lam_opt": str(t["lam"]), "e_ssr": t["e_ssr"], "f_star": {f"{p}/{m}": t["fstars"][(p, m)] for p, m in SETTINGS}}

    def extra_tests(self, result, t):
        fracs, d, tests = list(result.point["fracs"]), result.observables["e_ssr"].d[-1], []
        pop_fracs = sorted({phi for p, _, phi, _ in t["tests"] if p == "population"})
        pop = population_pca(result.point.model, d, pop_fracs)
        for pca, metric, phi, th in t["tests"]:
            pick = (lambda m: m[KEY[metric]][fracs.index(phi)]) if pca == "sample" else (lambda m: pop[KEY[metric]][pop_fracs.index(phi)])
            delta = th - float(t["e_ssr"])
            what = f"E_pca − E_SSR (theory {delta:+.4g}: {'PCA' if delta < 0 else 'SSR'} wins)"
            s = sign_test([pick(m) - m["e_ssr"] for m in result.top_measured], -1 if delta < 0 else 1, what=what)
            numbers = {"mean": s.mean, "se": s.se, "theory_delta": delta}
            tests.append(SubTest(f"winner: {pca} PCA, {metric}, k/d = {phi:.4g}", s.status, [s.reason], numbers))
        return tests

    def summarize(self, results, options):
        designs = {f"ρ={r.point['rho']}, α={r.point.alpha}": crossover_design(r.point["rho"], r.point.alpha) for r in results}
        rows = [[k, f"{float(t['lam']):.5g}", f"{float(t['e_ssr']):.5g}", *[f"{t['fstars'][s]:.4g}" for s in SETTINGS]]
                for k, t in designs.items()]
        answer = []
        for s in SETTINGS:
            yes = [k for k, t in designs.items() if t["fstars"][s] >= CLOSE_TO_ONE]
            no = "; ".join(f"{k} (φ* = {t['fstars'][s]:.3g})" for k, t in designs.items() if t["fstars"][s] < CLOSE_TO_ONE)
            where = f"**does not hold** at {no}." if no else "**holds** at every (ρ, α) of the grid."
            where = f"**holds** at {', '.join(yes)}; {where}" if yes and no else where
            answer.append(f"- {s[0]} PCA, {s[1]} metric: \"SSR beats PCA unless k/d is close to 1\" (φ* ≥ {CLOSE_TO_ONE}) {where}")
        limit = {str(r): population_limit_crossover(r, dps=30) for r in RHOS}
        text = ["φ* is where the two errors are equal: SSR has the smaller error for k/d < φ*, PCA for k/d > φ* (1: SSR wins at every "
                "k < d, 0: PCA wins at every k). Masked sample PPCA needs k < n.",
                "α = ∞, λ → 0 (closed form): " + ", ".join(f"ρ = {r}: φ* = {v}" for r, v in limit.items())]
        table = Table(["(ρ, α)", "λ*", "E_gen(λ*)", *[f"{p[:3]}., {m[:5]}." for p, m in SETTINGS]], rows)
        figures = [self.curves(results), self.map(options.quick)]
        crossover = Section("Crossover φ* = k*/d at the optimal ridge (d = ∞)", text, [table], figures)
        return {"sections": [Section("Answer", answer), crossover], "data": {"population_limit_f_star": limit}}

    def curves(self, results):
        phis, panels = np.linspace(0.005, 0.995, 120), []
        for r in results:
            e_ssr = float(crossover_design(r.point["rho"], r.point.alpha)["e_ssr"])
            p = Panel(f"ρ = {r.point['rho']}, α = {r.point.alpha}", "k/d", "error per coordinate", legend=r is results[0],
                      ylim=(0, min(1.2, max(1.05, e_ssr * 1.5))))
            curves = error_curves(r.point["rho"], r.point.alpha, phis)
            p.series = [Series("line", list(phis), ys, label=lab, style="--" if "PPCA" in lab else "-") for lab, ys in curves.items()]
            p.series.append(Series("hline", y=[e_ssr], style="-", color="k", label="SSR at λ*"))
            for i, (_, phi, n) in enumerate(sample_tests(r.point)):
                o = r.observables[n]
                p.series.append(Series("points", [phi], [o.mean[-1]], [o.se[-1]], "" if i else "MC, largest d", "ko"))
            panels.append(p)
        title = "errors against k/d (theory at d = ∞; Monte Carlo at the largest d)"
        return Figure("curves", title, panels, shape=(len(RHOS), len(ALPHAS)), size=(12, 9))

    def map(self, quick):
        rhos, alphas = np.linspace(0.1, 0.95, 6 if quick else 12), np.geomspace(0.25, 16, 5 if quick else 9)
        panels = [Panel(f"φ* (population PCA, {m}), λ = λ*", "ρ", "α", [Series("mesh", list(rhos), list(alphas), z=z, label="φ*")],
                        yscale="log", legend=False) for m, z in crossover_map(rhos, alphas).items()]
        return Figure("map", "the crossover φ* over (ρ, α)", panels, size=(11, 4))
