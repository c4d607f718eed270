"""C6 — AR(1): masked SSR against PCA with k = φd directions; the crossover φ* and who wins on each side."""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

from rmtverify.models import make_model
from rmtverify.montecarlo.kernels import population_pca
from rmtverify.symbolic.formulas import numpy_function
from rmtverify.theory.equivalents import equivalents
from rmtverify.theory.pca import SampleLaw, crossover, crossover_map, optimal_ridge, population_error, population_limit_crossover
from rmtverify.verification.claim import Claim, Observable, Point, is_limit
from rmtverify.verification.outcome import Figure, Panel, Section, Series, SubTest, Table
from rmtverify.verification.statistics import sign_test

RHOS, ALPHAS = (Fraction(1, 2), Fraction(4, 5), Fraction(19, 20)), (Fraction(1, 2), Fraction(2), Fraction(8))
SETTINGS = (("population", "reconstruction"), ("sample", "reconstruction"), ("population", "masked"), ("sample", "masked"))
KEY = {"reconstruction": "recon", "masked": "masked"}
CLOSE_TO_ONE = 0.9  # "unless k/d is close to 1" read as φ* ≥ 0.9


@lru_cache(maxsize=None)
def design(rho: Fraction, alpha: Fraction) -> dict:
    """The optimal ridge, the sample law, the crossovers φ* and the test fractions on each side of them (d = ∞)."""
    model = make_model("ar1", rho=rho)
    ridge = optimal_ridge(model, alpha, dps=20).as_dict()
    lam, law = Fraction(ridge["lam_opt"]), SampleLaw(model, alpha)
    fstars = {s: float(crossover(model, alpha, lam, *s, dps=20, law=law).as_dict()["f_star"]) for s in SETTINGS}
    tests = []
    for pca, metric in SETTINGS:
        f = fstars[(pca, metric)]
        for phi in [0.5] if f <= 0 or f >= 1 else [f / 2, (1 + f) / 2]:
            phi = min(phi, 0.9 * float(alpha)) if (pca, metric) == ("sample", "masked") else phi  # the sample PPCA needs k < n
            th = float(population_error(model, Fraction(repr(phi)), dps=20, metric=metric)) if pca == "population" else law_error(law, metric, phi)
            tests.append((pca, metric, phi, th))
    return {"lam": lam, "e_ssr": ridge["e_gen"], "law": law, "fstars": fstars, "tests": tests}


def law_error(law, metric, phi):
    return law.reconstruction_error(phi) if metric == "reconstruction" else law.masked_error(phi)


def obs_name(metric, phi):
    return f"{KEY[metric]}@{phi!r}"


class PcaAR1(Claim):
    name, spec = "pca-ar1", "C6"
    title = "AR(1): masked SSR against PCA with k directions; the crossover k*/d"
    statement = ("Masked SSR (at its optimal ridge λ*) outperforms PCA with k directions unless k/d is large enough; the crossover k*/d is computed "
                 "per (ρ, α) for population and sample PCA, in the reconstruction metric (tr Σ − Σ_{i≤k} u_iᵀΣu_i)/d and in the masked metric "
                 "(PCA as a masked predictor through the probabilistic-PCA covariance).")
    ladders, seeds = ((128, 256, 512), (128, 256, 512, 1024)), (12, 16)
    method = ("- Theory (module pca, derivation pca) at d = ∞ and the optimal ridge λ* of SSR: φ* for population or sample PCA (Ledoit–Péché weights) in both "
              "metrics. Monte Carlo: SSR's E_gen at λ* (rate 1, power for 2%; the 0.5% test is claim C2), sample PCA and sample PPCA at fractions φ*/2 and "
              "(1+φ*)/2 (0.5 when φ* is 0 or 1) against the theory at round(φd)/d (power for 2%), and the winner at each test fraction: the paired "
              "E_pca − E_SSR at the largest d must have the sign the theory predicts, ≥ 4 SE from 0.",)

    def points(self, options):
        out = []
        for rho in RHOS:
            for alpha in ALPHAS:
                t = design(rho, alpha)
                fracs = tuple(sorted({phi for pca, _, phi, _ in t["tests"] if pca == "sample"}))
                out.append(Point({"model": "ar1", "rho": rho, "alpha": alpha, "lam": t["lam"], "fracs": fracs}, label=f"{rho}|{alpha}"))
        return out

    def observables_for(self, point):
        tests = design(point["rho"], point.alpha)["tests"]
        obs = [Observable(obs_name(m, phi), f"sample {m} at k/d = {phi:.4g}", resolution=0.02) for pca, m, phi, _ in tests if pca == "sample"]
        return (Observable("e_ssr", "SSR E_gen at λ*", resolution=0.02), *obs)

    def measure(self, sample, point):
        return sample.pca(point.lam, list(point["fracs"]))

    def observe(self, measured, point, prepared, d):
        fracs = list(point["fracs"])
        return {"e_ssr": measured["e_ssr"], **{obs_name(m, phi): measured[KEY[m]][fracs.index(phi)] for p, m, phi, _ in design(point["rho"], point.alpha)["tests"] if p == "sample"}}

    def theory(self, point, d, prepared):
        t = design(point["rho"], point.alpha)
        if is_limit(d):
            return {"e_ssr": t["e_ssr"]}
        out = {"e_ssr": equivalents(point.model, point.alpha_at(d), point.lam, d=d, dps=None).e_gen}
        return out | {obs_name(m, phi): law_error(t["law"], m, round(phi * d) / d) for p, m, phi, _ in t["tests"] if p == "sample"}

    def details(self, point, prepared):
        t = design(point["rho"], point.alpha)
        return "", {"lam_opt": str(t["lam"]), "e_ssr": t["e_ssr"], "f_star": {f"{p}/{m}": t["fstars"][(p, m)] for p, m in SETTINGS}}

    def figures_for(self, result, prepared):
        return []

    def extra_tests(self, result, prepared):
        t, top = design(result.point["rho"], result.point.alpha), result.top_measured
        fracs, d, tests = list(result.point["fracs"]), result.observables["e_ssr"].d[-1], []
        pop_fracs = sorted({phi for p, _, phi, _ in t["tests"] if p == "population"})
        pop = population_pca(result.point.model, d, pop_fracs)
        for pca, metric, phi, th in t["tests"]:
            value = (lambda m: m[KEY[metric]][fracs.index(phi)]) if pca == "sample" else (lambda m: pop[KEY[metric]][pop_fracs.index(phi)])
            delta = th - float(t["e_ssr"])
            s = sign_test([value(m) - m["e_ssr"] for m in top], -1 if delta < 0 else 1, what=f"E_pca − E_SSR (theory {delta:+.4g}: {'PCA' if delta < 0 else 'SSR'} wins)")
            tests.append(SubTest(f"winner: {pca} PCA, {metric}, k/d = {phi:.4g}", s.status, [s.reason], {"mean": s.mean, "se": s.se, "theory_delta": delta}))
        return tests

    def summarize(self, results, options):
        rows, holds = [], {}
        for r in results:
            t = design(r.point["rho"], r.point.alpha)
            rows.append([str(r.point["rho"]), str(r.point.alpha), f"{float(t['lam']):.5g}", f"{float(t['e_ssr']):.5g}", *[f"{t['fstars'][s]:.4g}" for s in SETTINGS]])
            holds[f"ρ={r.point['rho']}, α={r.point.alpha}"] = t["fstars"]
        answer = []
        for s in SETTINGS:
            no = [f"{k} (φ* = {f[s]:.3g})" for k, f in holds.items() if f[s] < CLOSE_TO_ONE]
            yes = [k for k, f in holds.items() if f[s] >= CLOSE_TO_ONE]
            where = "**holds** at every (ρ, α) of the grid." if not no else ("**does not hold** anywhere on the grid: " if not yes else f"**holds** at {', '.join(yes)}; **does not hold** at ") + "; ".join(no) + "."
            answer.append(f"- {s[0]} PCA, {s[1]} metric: \"SSR beats PCA unless k/d is close to 1\" (φ* ≥ {CLOSE_TO_ONE}) " + where)
        limit = {str(r): population_limit_crossover(r, dps=30) for r in RHOS}
        table = Section("Crossover φ* = k*/d at the optimal ridge (d = ∞)", [
            "φ* is where the two errors are equal: SSR has the smaller error for k/d < φ*, PCA for k/d > φ*; φ* = 1 means SSR wins at every k < d, "
            "0 that PCA wins at every k. Masked sample PPCA needs k < n.",
            "α = ∞, λ → 0 (closed form, derivation pca): " + ", ".join(f"ρ = {r}: φ* = {v}" for r, v in limit.items())],
            [Table(["ρ", "α", "λ*", "E_gen(λ*)", "pop., recon.", "sample, recon.", "pop., masked", "sample, masked"], rows)], [self.curves(results), self.map(options.quick)])
        return {"sections": [Section("Answer", answer), table], "data": {"population_limit_f_star": limit}}

    def curves(self, results):
        phis, panels = np.linspace(0.005, 0.995, 120), []
        for r in results:
            rho, alpha = r.point["rho"], r.point.alpha
            t, rr = design(rho, alpha), abs(float(rho))
            lim = min(0.999, 0.999 * float(alpha))
            p = Panel(f"ρ = {rho}, α = {alpha}", "k/d", "error per coordinate", ylim=(0, min(1.2, max(1.05, float(t["e_ssr"]) * 1.5))), legend=r is results[0])
            p.series += [Series("line", list(phis), list(numpy_function("pca.e_pca_ar1")(phis, rr)), label="population PCA"),
                         Series("line", list(phis), [t["law"].reconstruction_error(x) for x in phis], label="sample PCA"),
                         Series("line", list(phis), list(numpy_function("pca.e_ppca_ar1")(phis, rr)), style="--", label="population PPCA (masked)"),
                         Series("line", list(phis), [t["law"].masked_error(x) if x < lim else np.nan for x in phis], style="--", label="sample PPCA (masked)"),
                         Series("hline", y=[float(t["e_ssr"])], style="-", color="k", label="SSR at λ*")]
            p.series += [Series("points", [float(o.name.split("@")[1])], [o.mean[-1]], [o.se[-1]], f"MC d={o.d[-1]}" if i == 0 else "", "ko") for i, o in enumerate(list(r.observables.values())[1:])]
            panels.append(p)
        return Figure("curves", "errors against k/d (theory at d = ∞; Monte Carlo at the largest d)", panels, shape=(len(RHOS), len(ALPHAS)), size=(12, 9))

    def map(self, quick):
        rhos, alphas = np.linspace(0.1, 0.95, 6 if quick else 12), np.geomspace(0.25, 16, 5 if quick else 9)
        z = crossover_map(rhos, alphas)
        panels = [Panel(f"φ* (population PCA, {m}), λ = λ*", "ρ", "α", [Series("mesh", list(rhos), list(alphas), z=z[m], label="φ*")], yscale="log", legend=False) for m in z]
        return Figure("map", "the crossover φ* over (ρ, α)", panels, size=(11, 4))
