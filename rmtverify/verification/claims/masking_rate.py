"""C7 — masking at rate p (SPEC §8, issue 17): E_mask(p) converges to its equivalent; the optimal rate p* and its map."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np

from rmtverify.core.params import INF
from rmtverify.montecarlo.kernels import spd_inverse
from rmtverify.montecarlo.masking import masked_gram
from rmtverify.theory.masking import mask_error, optimal_mask_rate
from rmtverify.theory.masking_map import e_mask_curve, map_findings, map_table, p_star_map
from rmtverify.verification.claim import Claim, Observable, Point, is_limit
from rmtverify.verification.outcome import Figure, Panel, Section, Series, SubTest, Table
from rmtverify.verification.statistics import sign_test

RATES, DELTA, DPS, HABIT = ("0.05", "0.15", "0.3", "0.5"), Fraction(1, 20), 30, 0.15
STAR = ("e_mask_pstar_lo", "e_mask_pstar", "e_mask_pstar_hi")  # E_mask at p* − Δ, p*, p* + Δ
CONFIGS = (("isotropic α=2", {"model": "isotropic", "alpha": "2", "lam": "1/10"}),
           ("AR(1) ρ=0.6 α=2", {"model": "ar1", "rho": "3/5", "alpha": "2", "lam": "1/10"}),
           ("AR(1) ρ=0.7 α=0.5", {"model": "ar1", "rho": "7/10", "alpha": "1/2", "lam": "1/10"}),
           ("e1 spike θ=3 α=2", {"model": "spiked", "theta": "3", "spike": "e1", "alpha": "2", "lam": "1/10"}))
OPTIMUM = "AR(1) ρ=0.6 α=2"  # p* interior (≈ 0.0854)
#: the p* maps (ρ, α at λ = 0.1; ρ, α at the optimal λ), quick and full; α doubles (the mesh's cells on a log axis)
MAPS = {True: ((0.1, 0.3, 0.5, 0.7, 0.9), (0.25, 0.5, 1, 2, 4, 8), (0.2, 0.5, 0.8), (0.5, 1, 2, 4)),
        False: (tuple(np.arange(1, 10) / 10), (0.25, 0.5, 1, 2, 4, 8, 16), (0.1, 0.3, 0.5, 0.7, 0.9), (0.25, 0.5, 1, 2, 4, 8, 16))}


def rates(point) -> dict:
    out = {f"e_mask_p{r}": Fraction(r) for r in RATES}
    return {**out, **dict(zip(STAR, (Fraction(point["pstar"]) + k * DELTA for k in (-1, 0, 1))))} if "pstar" in point else out


class MaskingRate(Claim):
    name, spec, point_figures, seeds, sequential_cap = "masking-rate", "C7", False, (16, 16), 8
    ladders = ((128, 256, 512), (128, 256, 512, 1024))
    title = "Masking at rate p: E_mask(p) converges to its deterministic equivalent; the optimal rate p*"
    statement = ("E_mask(p) of the estimator masked at rate p converges at rate 1/d to its equivalent (derivation masking) for p ∈ "
                 "{0.05, 0.15, 0.3, 0.5} on isotropic, AR(1) and e1-spiked Σ; around an interior optimum p*, E_mask(p* ± Δ) > E_mask(p*).")
    method = ("- One sample gives E_mask at every rate: the exact test error of Â_p fitted on S, (1/d) Σ_k [Q_p(Σ + cΛ)Q_p]_kk/"
              f"[Q_p]_kk² − c tr Λ/d (c = p/(1 − p), Λ = Diag Σ). Theory (module masking): at d in double precision at α = n/d, "
              f"at d = ∞ to {DPS} digits. p* at d = ∞ rounded to 6 decimals, Δ = {DELTA}; the paired E(p* ± Δ) − E(p*) at the "
              "largest d must be positive (≥ 4 SE) and within 4 SE of the theory, shown but not counted (a 1% error of the theory "
              "moves it by less than its SE). Maps of p*: AR(1), d = ∞, double precision (module masking_map).",)

    def points(self, options):  # at OPTIMUM the Monte Carlo runs at p* too (d = ∞, 6 decimals) and at p* ± Δ
        pts = [Point(spec, label=label) for label, spec in CONFIGS]
        return [Point({**p, "pstar": f"{float(optimal_mask_rate(p.model, p.alpha, p.lam, dps=DPS).p_star):.6f}"}, label=p.label)
                if p.label == OPTIMUM else p for p in pts]

    def observables_for(self, point):
        return tuple(Observable(k, f"E_mask(p = {float(p):.4g})") for k, p in rates(point).items())

    def prepare(self, point, eps):
        opt = optimal_mask_rate(point.model, point.alpha, point.lam, dps=DPS).as_dict()
        e15 = mask_error(point.model, point.alpha, point.lam, "0.15", dps=DPS).as_dict()["e_mask"]
        return {"p_star": opt["mask_rate"], "endpoint": opt["endpoint"], "e_mask_star": opt["e_mask"],
                "e15_minus_star": str(Decimal(e15) - Decimal(opt["e_mask"])), "e_ssr": point.equivalents(INF, DPS).as_dict()["e_gen"]}

    def measure(self, sample, point):
        S, Sigma, lam_diag, out = sample.S, sample.Sigma, np.diag(sample.Sigma), {}
        for key, p in rates(point).items():
            c, Q = float(p / (1 - p)), spd_inverse(masked_gram(S, p, point.lam))
            quad = np.sum(Q * ((Sigma + c * np.diag(lam_diag)) @ Q), axis=0)  # [Q(Σ + cΛ)Q]_kk (Q symmetric)
            out[key] = float(np.mean(quad / np.diag(Q) ** 2) - c * np.mean(lam_diag))
        return out

    def theory(self, point, d, prepared):
        at, dps = (INF, DPS) if is_limit(d) else (d, None)  # finite d: double precision, at the Monte Carlo's α = n/d
        return {k: mask_error(point.model, point.alpha_at(at), point.lam, p, d=at, dps=dps).as_dict()["e_mask"]
                for k, p in rates(point).items()}

    def details(self, point, t):
        where = f"at the end {t['endpoint']}" if t["endpoint"] else f"= {t['p_star'][:12]} (interior)"
        return (f"d = ∞ ({DPS} digits): p* {where}, E_mask(p*) = {t['e_mask_star'][:12]}; p → 0 (SSR's E_gen) {t['e_ssr'][:12]}; "
                f"E_mask(0.15) − E_mask(p*) = {float(t['e15_minus_star']):.4g}"), dict(t)

    def extra_tests(self, result, t):
        obs, tests = result.observables, []
        for side, sign in ((STAR[0], "−"), (STAR[2], "+")) if "pstar" in result.point else ():
            th = obs[side].theory_d[-1] - obs[STAR[1]].theory_d[-1]
            s = sign_test([m[side] - m[STAR[1]] for m in result.top_measured], 1, what=f"E(p* {sign} Δ) − E(p*)")
            z = (s.mean - th) / s.se
            why = f"theory at d = {obs[side].d[-1]}: {th:+.4g}; MC − theory = {s.mean - th:+.2g} ({z:+.1f} SE)"
            tests.append(SubTest(f"optimum: E(p* {sign} Δ) > E(p*)", s.status if abs(z) <= 4 else "FAIL", [s.reason, why],
                                 {"mean": s.mean, "se": s.se, "theory": th, "z": z}, counted=False))
        return tests

    def summarize(self, results, options):
        rhos, alphas, rhos_o, alphas_o = MAPS[options.quick]
        fixed, best = p_star_map(rhos, alphas, "1/10"), p_star_map(rhos_o, alphas_o, "opt")
        answer = map_findings(fixed, best, HABIT)
        for r in (r for r in results if "pstar" in r.point):
            diff, top = [m["e_mask_p0.15"] - m[STAR[1]] for m in r.top_measured], r.observables[STAR[1]].d[-1]
            side = "<" if float(r.details["p_star"]) < HABIT else ">"
            answer.append(f"- Monte Carlo at {r.point.label}, λ = 0.1, d = {top}: p* = {r.details['p_star'][:8]} {side} 15%; "
                          f"E_mask(0.15) − E_mask(p*) = {np.mean(diff):+.4g} ± {np.std(diff, ddof=1) / np.sqrt(len(diff)):.1g} "
                          f"(theory at d = ∞ {float(r.details['e15_minus_star']):+.4g}).")
        statuses = sorted({o.status for r in results for o in r.observables.values()})
        verdict = "PASS" if statuses == ["PASS"] else f"not PASS ({', '.join(statuses)}): the statements above are unverified theory"
        answer.append(f"- The maps are theory at d = ∞; the Monte Carlo verdict on the equivalent at the {len(results)} points: {verdict}.")
        maps = Figure("map", "the optimal mask rate p* of AR(1) over (ρ, α), d = ∞ (0: p → 0, 1: p → 1)", [
            Panel(f"p* at {title}", "ρ", "α", [Series("mesh", m["rhos"], m["alphas"], z=m["p_star"], label="p*")], yscale="log",
                  legend=False) for title, m in (("λ = 0.1", fixed), ("the optimal λ", best))], size=(11, 4))
        section = Section("p* at λ = 0.1 over (ρ, α), d = ∞", [], [Table(*map_table(fixed))], [self.curves(results), maps])
        return {"sections": [Section("Answer", answer), section], "data": {"map_lam_0.1": fixed, "map_lam_opt": best}}

    def curves(self, results):
        ps, panels = np.concatenate([np.geomspace(0.002, 0.1, 16), np.linspace(0.12, 0.98, 30)]), []
        for r in results:
            pt, obs = r.point, list(r.observables.values())
            star = [] if r.details["endpoint"] else [Series("vline", [float(r.details["p_star"])], label="p*", style=":", color="r")]
            panels.append(Panel(pt.label, "mask rate p", "E_mask(p)", [
                Series("line", list(ps), e_mask_curve(pt.model, pt.alpha, pt.lam, ps), label="theory, d = ∞"),
                Series("points", [float(rates(pt)[o.name]) for o in obs], [o.mean[-1] for o in obs], [o.se[-1] for o in obs],
                       f"Monte Carlo, d = {obs[0].d[-1]}", "ko"),
                Series("vline", [HABIT], label="15%", style="--", color="gray"), *star], xscale="log", legend=r is results[0]))
        return Figure("curves", "E_mask(p): theory at d = ∞, Monte Carlo ± SE at the largest d", panels, size=(16, 4))
