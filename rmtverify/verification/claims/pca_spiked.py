"""C5 — spiked models: PCA outperforms masked SSR, and by how much.

Per coordinate, a finite-rank spike moves every error by O(r/d). At d = ∞,
PCA with k = r directions has reconstruction error 1 (population or sample)
and the PPCA masked predictor reaches the floor 1, while SSR has
E_gen(α, λ) ≥ 1: PCA wins by E_gen − 1 whatever θ is — a margin that tends to
0 at the optimal ridge λ* = ∞ of the isotropic base. The θ-dependence sits in
the O(1/d) term, which the finite-d theory gives exactly for population PCA
((tr Σ − (1+θ))/d) and the PPCA floor ((1/d) Σ_j 1/[Σ^{-1}]_jj), and which
the Monte Carlo measures for sample PCA and sample PPCA.

Sub-tests: at each (θ, α, λ) of the grid and each PCA variant, the paired
difference E_SSR − E_pca at the largest d must be positive and at least
4 SE from 0; and SSR's E_gen on the ladder must match its finite-d theory
(SPEC §5, rate 1, power for a 2% error; the 0.5% test of E_gen is claim C2) — the theory side of the margin.
"""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np

from rmtverify.montecarlo.pca_kernels import pca_samples, population_pca
from rmtverify.montecarlo.engine import SAMPLER
from rmtverify.models import make_model
from rmtverify.core.params import INF
from rmtverify.reports.markdown import fixed_layout, markdown_table, record_markdown, run_record, save_figure
from rmtverify.theory.equivalents import equivalents
from rmtverify.verification.verdict import FAIL, INCONCLUSIVE, PASS, Criteria, combine, judge
from rmtverify.verification.claims.base import Claim, ClaimOutcome, RunOptions

THETAS = (Fraction(1), Fraction(4), Fraction(16))
ALPHAS = (Fraction(1, 2), Fraction(2), Fraction(8))
LAMS = (Fraction(1, 10), Fraction(10))
FULL_LADDER = (128, 256, 512, 1024)
QUICK_LADDER = (128, 256, 512)
FULL_SEEDS = 16
QUICK_SEEDS = 12
VARIANTS = (("population", "recon"), ("sample", "recon"), ("population", "masked"), ("sample", "masked"))


def _pca_wins(diff: np.ndarray) -> tuple[str, str]:
    m = float(np.mean(diff))
    se = float(np.std(diff, ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 and np.std(diff) > 0 else 0.0
    if se == 0.0:
        return (PASS, f"margin {m:+.4g} (exact)") if m > 0 else (FAIL, f"margin {m:+.4g} (exact): SSR is not worse")
    z = m / se
    if z >= 4:
        return PASS, f"margin {m:+.4g} ± {se:.1g} ({z:.0f} SE)"
    if z <= -4:
        return FAIL, f"SSR wins: margin {m:+.4g} ± {se:.1g} ({-z:.0f} SE)"
    return INCONCLUSIVE, f"margin {m:+.4g} ± {se:.1g} not resolved"


class PcaSpiked(Claim):
    name = "pca-spiked"
    ladders = (QUICK_LADDER, FULL_LADDER)
    spec = "C5"
    title = "Spiked models: PCA outperforms masked SSR"
    statement = "For Σ = I + θvvᵀ (flat v), PCA with k = 1 direction beats masked SSR, in reconstruction and as a masked predictor (PPCA)."

    def run(self, options: RunOptions) -> ClaimOutcome:
        t0 = time.time()
        ladder = self.ladder(options)
        seeds = QUICK_SEEDS if options.quick else FULL_SEEDS
        factor = float(1 + options.perturb)
        statuses, rows, grid = [], [], []
        for alpha in ALPHAS:
            for lam in LAMS:
                iso = equivalents(make_model("isotropic"), alpha, lam, d=INF, dps=30)
                margin_inf = float(iso.as_dict()["e_gen"]) * factor - 1.0
                for theta in THETAS:
                    model = make_model("spiked", theta=theta, spike="flat")
                    # SSR's E_gen on the ladder against its finite-d theory: the part of the margin the theory predicts
                    per_d = {}
                    for dd in ladder:
                        nn, vv = pca_samples(model, alpha, lam, [1 / dd], dd, seeds, options.seed, options.cache, f"{self.name}|{alpha}|{lam}|{theta}", options.quiet)
                        per_d[dd] = (nn, vv)
                    mean = np.array([np.mean(per_d[dd][1]["e_ssr"]) for dd in ladder])
                    se = np.array([np.std(per_d[dd][1]["e_ssr"], ddof=1) / np.sqrt(seeds) for dd in ladder])
                    th = np.array([equivalents(model, Fraction(per_d[dd][0], dd), lam, d=dd, dps=None).float("e_gen") * factor for dd in ladder])
                    v_ssr = judge(ladder, mean, se, th, float(iso.as_dict()["e_gen"]) * factor, Criteria(beta0=1.0, resolution=0.02))
                    statuses.append(v_ssr.status)
                    d = ladder[-1]
                    n, v = per_d[d]
                    pop = population_pca(model, d, [1 / d])
                    th_ssr = equivalents(model, Fraction(n, d), lam, d=d, dps=None).float("e_gen") * factor
                    th_pop = pop["recon"][0]
                    th_ppca = pop["masked"][0]
                    entry = {"theta": str(theta), "alpha": str(alpha), "lam": str(lam), "d": d, "margin_d_inf": margin_inf, "margin_theory_d": {"population_recon": th_ssr - th_pop, "population_masked": th_ssr - th_ppca}, "ssr_verdict": v_ssr.as_dict(), "tests": {}}
                    cells = []
                    for pca, metric in VARIANTS:
                        if pca == "population":
                            diff = v["e_ssr"] - (th_pop if metric == "recon" else th_ppca)
                        else:
                            diff = v["e_ssr"] - v[metric][:, 0]
                        st, why = _pca_wins(diff)
                        statuses.append(st)
                        entry["tests"][f"{pca}/{metric}"] = {"status": st, "reason": why, "mean_margin": float(np.mean(diff))}
                        cells.append(f"{float(np.mean(diff)) * d:.3g} {'✓' if st == PASS else st}")
                    rows.append([str(alpha), str(lam), str(theta), f"{margin_inf:.4g}", f"{(th_ssr - th_pop) * d:.3g}", *cells, v_ssr.status])
                    grid.append(entry)
        status = combine(statuses)
        summary = f"{sum(s == 'PASS' for s in statuses)}/{len(statuses)} sub-tests PASS: PCA wins at every (θ, α, λ) of the grid, d = {ladder[-1]}"
        fig = f"{self.name}-margins.png"
        save_figure(_figure(grid, ladder[-1]), options.out / fig)
        record = run_record(t0, {"sampler": SAMPLER, "seeds": f"{seeds} at d = {ladder[-1]}; SeedSequence({options.seed}, spawn_key=(crc32('{self.name}|<α>|<λ>|<θ>'), d, i))", "parameters": {"d": ladder[-1], "perturb": str(options.perturb)}})
        md = "\n".join(
            [
                f"# {self.spec} — {self.name}: {self.title}",
                "",
                f"**Verdict: {status}** — {summary}" + (f"; theory perturbed by ε = {options.perturb}" if options.perturb else ""),
                "",
                f"Claim: {self.statement}",
                "",
                __doc__.split("\n\n", 1)[1].strip().replace("\n", " "),
                "",
                "Margins are E_SSR − E_pca (positive: PCA wins). Columns: the d = ∞ margin E_gen(α, λ) − 1 (the same for every θ); "
                f"the exact finite-d margin of population PCA times d; then, for each PCA variant, the Monte Carlo margin times d at d = {ladder[-1]} and its verdict.",
                "",
                markdown_table(["α", "λ", "θ", "margin (d = ∞)", "pop. recon. × d (theory)", "pop. recon. × d", "sample recon. × d", "pop. PPCA × d", "sample PPCA × d", "E_SSR vs theory (ladder)"], rows),
                "",
                f"![margins]({fig})",
                "",
                record_markdown(record),
            ]
        )
        data = {"claim": self.name, "spec": self.spec, "status": status, "summary": summary, "perturb": str(options.perturb), "grid": grid, "run": record}
        return ClaimOutcome(self.name, self.spec, status, summary, md, data, [fig])


def _figure(grid, d):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(LAMS), figsize=(11, 4))
    for ax, lam in zip(axes, LAMS):
        for alpha in ALPHAS:
            pts = [g for g in grid if g["alpha"] == str(alpha) and g["lam"] == str(lam)]
            th = [float(Fraction(g["theta"])) for g in pts]
            for key, mk in (("population/recon", "o-"), ("sample/recon", "s--")):
                ax.plot(th, [g["tests"][key]["mean_margin"] * d for g in pts], mk, label=f"α={alpha}, {key}")
        ax.set_xscale("log")
        ax.set_xlabel("θ")
        ax.set_ylabel(f"(E_SSR − E_PCA) × d at d = {d}")
        ax.set_title(f"λ = {lam}")
        ax.legend(fontsize=6)
    fixed_layout(fig, left=0.075, right=0.986, bottom=0.152, top=0.905, wspace=0.15)
    return fig
