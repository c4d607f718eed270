"""C6 — AR(1): masked SSR against PCA with k = φd directions; the crossover φ* and who wins on each side.

Theory (module pca, derivation pca), at d = ∞ and the optimal ridge λ* of SSR:
the crossover φ* in four settings — population or sample PCA, reconstruction
or masked metric (PCA as a masked predictor through the probabilistic-PCA
covariance) — with the α = ∞, λ → 0 closed form as a check.

Monte Carlo at growing d, for each (ρ, α) of the grid: SSR's E_gen at λ*,
sample PCA's reconstruction error and sample PPCA's masked error at the test
fractions φ*/2 and (1+φ*)/2 (0.5 when φ* is 0 or 1), and population PCA
at finite d (deterministic). Sub-tests: each error against its theory (SPEC
§5, rate 1; sample PCA at the fraction round(φd)/d each d has, with power to
detect a 2% error; SSR with power for 2% — the 0.5% test of E_gen is claim C2), and the *winner* at each test fraction — the paired
difference E_pca − E_SSR at the largest d must have the sign the theory
predicts and be at least 4 SE from 0 (INCONCLUSIVE if not resolved).
"""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np

from rmtverify.symbolic.formulas import numpy_function
from rmtverify.montecarlo.pca_kernels import pca_samples, population_pca
from rmtverify.montecarlo.engine import SAMPLER
from rmtverify.models import make_model
from rmtverify.theory.pca import SampleLaw, crossover, optimal_ridge, population_error, population_limit_crossover
from rmtverify.reports.markdown import fixed_layout, markdown_table, record_markdown, run_record, save_figure
from rmtverify.theory.equivalents import equivalents
from rmtverify.verification.verdict import FAIL, INCONCLUSIVE, PASS, Criteria, combine, judge
from rmtverify.verification.claims.base import Claim, ClaimOutcome, RunOptions

RHOS = (Fraction(1, 2), Fraction(4, 5), Fraction(19, 20))
ALPHAS = (Fraction(1, 2), Fraction(2), Fraction(8))
FULL_LADDER = (128, 256, 512, 1024)
QUICK_LADDER = (128, 256, 512)
FULL_SEEDS = 16
QUICK_SEEDS = 12
CLOSE_TO_ONE = 0.9  # "unless k/d is close to 1" read as φ* ≥ 0.9
SETTINGS = (("population", "reconstruction"), ("sample", "reconstruction"), ("population", "masked"), ("sample", "masked"))


def test_fractions(f_star: float, alpha: Fraction, masked_sample: bool) -> list:
    if f_star <= 0:
        fr = [0.5]
    elif f_star >= 1:
        fr = [0.5]
    else:
        fr = [f_star / 2, (1 + f_star) / 2]
    if masked_sample:  # the sample PPCA needs k < n
        fr = [min(f, 0.9 * float(alpha)) for f in fr]
    return fr


def winner_test(delta_mc: np.ndarray, theory_delta: float) -> tuple[str, str]:
    """Paired E_pca − E_SSR at the largest d: the sign the theory predicts, ≥ 4 SE from 0."""
    m = float(np.mean(delta_mc))
    se = float(np.std(delta_mc, ddof=1) / np.sqrt(len(delta_mc))) if len(delta_mc) > 1 else float(abs(m))
    se = max(se, 1e-300)
    z = m / se
    predicted = "PCA" if theory_delta < 0 else "SSR"
    seen = "PCA" if m < 0 else "SSR"
    if abs(z) < 4:
        return INCONCLUSIVE, f"E_pca − E_SSR = {m:+.4g} ± {se:.1g} is not resolved (theory {theory_delta:+.4g}: {predicted} wins)"
    if seen != predicted:
        return FAIL, f"{seen} wins by {abs(m):.4g} ({abs(z):.0f} SE) where the theory predicts {predicted} (Δ = {theory_delta:+.4g})"
    return PASS, f"{seen} wins, E_pca − E_SSR = {m:+.4g} ± {se:.1g} ({abs(z):.0f} SE; theory {theory_delta:+.4g})"


class PcaAR1(Claim):
    name = "pca-ar1"
    ladders = (QUICK_LADDER, FULL_LADDER)
    spec = "C6"
    title = "AR(1): masked SSR against PCA with k directions; the crossover k*/d"
    statement = (
        "Masked SSR (at its optimal ridge λ*) outperforms PCA with k directions unless k/d is large enough; the crossover "
        "k*/d is computed per (ρ, α) for population and sample PCA, in the reconstruction metric "
        "(tr Σ − Σ_{i≤k} u_iᵀΣu_i)/d and in the masked metric (PCA as a masked predictor through the probabilistic-PCA covariance)."
    )

    def run(self, options: RunOptions) -> ClaimOutcome:
        t0 = time.time()
        ladder = self.ladder(options)
        seeds = QUICK_SEEDS if options.quick else FULL_SEEDS
        factor = float(1 + options.perturb)
        statuses, results, rows_fstar, rows_tests = [], [], [], []
        curves = {}
        for rho in RHOS:
            model = make_model("ar1", rho=rho)
            for alpha in ALPHAS:
                ridge = optimal_ridge(model, alpha, dps=20)
                lam = Fraction(ridge.as_dict()["lam_opt"])
                e_ssr = float(ridge.as_dict()["e_gen"]) * factor
                law = SampleLaw(model, alpha)
                fstars = {}
                for pca, metric in SETTINGS:
                    c = crossover(model, alpha, lam, pca, metric, dps=20, law=law)
                    fstars[(pca, metric)] = float(c.as_dict()["f_star"])
                rows_fstar.append([f"{rho}", f"{alpha}", f"{float(lam):.5g}", f"{e_ssr:.5g}", *[f"{fstars[s]:.4g}" for s in SETTINGS]])
                # theory at the test fractions
                tests = []
                for pca, metric in SETTINGS:
                    for phi in test_fractions(fstars[(pca, metric)], alpha, pca == "sample" and metric == "masked"):
                        if pca == "population":
                            th = float(population_error(model, Fraction(repr(phi)), dps=20, metric=metric))
                        else:
                            th = law.reconstruction_error(phi) if metric == "reconstruction" else law.masked_error(phi)
                        tests.append((pca, metric, phi, th * factor))
                sample_fracs = sorted({t[2] for t in tests if t[0] == "sample"})
                pop_fracs = sorted({t[2] for t in tests if t[0] == "population"})
                mc = {}
                for d in ladder:
                    n, v = pca_samples(model, alpha, lam, sample_fracs, d, seeds, options.seed, options.cache, f"{self.name}|{rho}|{alpha}", options.quiet)
                    mc[d] = (n, v, population_pca(model, d, pop_fracs))
                # sub-tests: SSR E_gen against theory (finite d and d = ∞)
                th_d = np.array([equivalents(model, Fraction(mc[d][0], d), lam, d=d, dps=None).float("e_gen") * factor for d in ladder])
                ssr_mean = np.array([np.mean(mc[d][1]["e_ssr"]) for d in ladder])
                ssr_se = np.array([np.std(mc[d][1]["e_ssr"], ddof=1) / np.sqrt(seeds) for d in ladder])
                v_ssr = judge(ladder, ssr_mean, ssr_se, th_d, e_ssr, Criteria(beta0=1.0, resolution=0.02))
                statuses.append(v_ssr.status)
                entry = {"rho": str(rho), "alpha": str(alpha), "lam_opt": ridge.as_dict()["lam_opt"], "e_ssr": ridge.as_dict()["e_gen"], "f_star": {f"{p}/{m}": fstars[(p, m)] for p, m in SETTINGS}, "ssr_verdict": v_ssr.as_dict(), "tests": []}
                rows_tests.append([f"ρ={rho}, α={alpha}", "SSR E_gen (λ*)", "—", f"{e_ssr:.5g}", f"{ssr_mean[-1]:.5g} ± {ssr_se[-1]:.1g}", "—", v_ssr.status])
                for pca, metric, phi, th in tests:
                    key = "recon" if metric == "reconstruction" else "masked"
                    if pca == "sample":
                        j = sample_fracs.index(phi)
                        vals = np.array([mc[d][1][key][:, j] for d in ladder])
                        mean, se = vals.mean(axis=1), vals.std(axis=1, ddof=1) / np.sqrt(seeds)
                        # the theory at the fraction each d actually has, round(φd)/d
                        f_law = law.reconstruction_error if metric == "reconstruction" else law.masked_error
                        th_d = np.array([f_law(round(phi * d) / d) for d in ladder]) * factor
                        # against the finite-d theory only: round(φd)/d jitters with d, so there is no smooth d = ∞ extrapolation
                        v = judge(ladder, mean, se, th_d, None, Criteria(beta0=1.0, resolution=0.02))
                        statuses.append(v.status)
                        delta_mc = mc[ladder[-1]][1][key][:, j] - mc[ladder[-1]][1]["e_ssr"]
                        mc_text, comp = f"{mean[-1]:.5g} ± {se[-1]:.1g}", v
                    else:
                        j = pop_fracs.index(phi)
                        finite = np.array([mc[d][2][key][j] for d in ladder])
                        delta_mc = finite[-1] - mc[ladder[-1]][1]["e_ssr"]
                        mc_text, comp = f"{finite[-1]:.5g} (exact at d={ladder[-1]})", None
                    w_status, w_reason = winner_test(delta_mc, th - e_ssr)
                    statuses.append(w_status)
                    rows_tests.append([f"ρ={rho}, α={alpha}", f"{pca} PCA, {metric}", f"{phi:.4g}", f"{th:.5g}", mc_text, w_reason, (comp.status + " / " if comp else "") + w_status])
                    entry["tests"].append({"pca": pca, "metric": metric, "k_frac": phi, "theory": th, "winner": {"status": w_status, "reason": w_reason}, "component": comp.as_dict() if comp else None})
                results.append(entry)
                curves[(rho, alpha)] = (law, lam, e_ssr, fstars)
        # the population limit, closed form
        limit = {str(r): population_limit_crossover(r, dps=30) for r in RHOS}
        holds = {f"ρ={r['rho']}, α={r['alpha']}": r["f_star"] for r in results}
        fig = f"{self.name}-curves.png"
        save_figure(_curves_figure(curves), options.out / fig)
        fig_map = f"{self.name}-map.png"
        save_figure(_map_figure(options.quick), options.out / fig_map)
        status = combine(statuses)
        summary = f"{sum(s == 'PASS' for s in statuses)}/{len(statuses)} sub-tests PASS over {len(RHOS) * len(ALPHAS)} (ρ, α), d = {ladder[0]}…{ladder[-1]}"
        record = run_record(t0, {"sampler": SAMPLER, "seeds": f"{seeds} per d; SeedSequence({options.seed}, spawn_key=(crc32('{self.name}|<ρ>|<α>'), d, i))", "parameters": {"ladder": list(ladder), "perturb": str(options.perturb), "close_to_one": CLOSE_TO_ONE}})
        md = "\n".join(
            [
                f"# {self.spec} — {self.name}: {self.title}",
                "",
                f"**Verdict: {status}** — {summary}" + (f"; theory perturbed by ε = {options.perturb}" if options.perturb else ""),
                "",
                f"Claim: {self.statement}",
                "",
                "## Answer",
                "",
                *_answer(holds),
                "",
                "## Crossover φ* = k*/d at the optimal ridge (d = ∞)",
                "",
                "φ* is where the two errors are equal: SSR has the smaller error for k/d < φ*, PCA for k/d > φ*; "
                "φ* = 1 means SSR wins at every k < d, 0 that PCA wins at every k. Masked sample PPCA needs k < n.",
                "",
                markdown_table(["ρ", "α", "λ*", "E_gen(λ*)", "pop., recon.", "sample, recon.", "pop., masked", "sample, masked"], rows_fstar),
                "",
                "α = ∞, λ → 0 (closed form, derivation pca): " + ", ".join(f"ρ = {r}: φ* = {v}" for r, v in limit.items()),
                "",
                "## Monte Carlo: errors and winners on each side of φ*",
                "",
                __doc__.split("Monte Carlo at growing d,", 1)[1].strip().replace("\n", " "),
                "",
                markdown_table(["(ρ, α)", "quantity", "k/d", "theory (d = ∞)", f"MC at d = {ladder[-1]}", "winner", "verdict"], rows_tests),
                "",
                f"![errors against k/d]({fig})",
                "",
                f"![map of the crossover]({fig_map})",
                "",
                record_markdown(record),
            ]
        )
        data = {"claim": self.name, "spec": self.spec, "status": status, "summary": summary, "perturb": str(options.perturb), "grid": results, "population_limit_f_star": limit, "run": record}
        return ClaimOutcome(self.name, self.spec, status, summary, md, data, [fig, fig_map])


def _answer(holds) -> list:
    out = []
    for setting in ("population/reconstruction", "sample/reconstruction", "population/masked", "sample/masked"):
        yes = [k for k, f in holds.items() if f[setting] >= CLOSE_TO_ONE]
        no = [f"{k} (φ* = {f[setting]:.3g})" for k, f in holds.items() if f[setting] < CLOSE_TO_ONE]
        pca, metric = setting.split("/")
        line = f"- {pca} PCA, {metric} metric: \"SSR beats PCA unless k/d is close to 1\" (φ* ≥ {CLOSE_TO_ONE}) "
        if not no:
            line += "**holds** at every (ρ, α) of the grid."
        elif not yes:
            line += "**does not hold** anywhere on the grid: " + "; ".join(no) + "."
        else:
            line += f"**holds** at {', '.join(yes)}; **does not hold** at " + "; ".join(no) + "."
        out.append(line)
    return out


def _curves_figure(curves):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(RHOS), len(ALPHAS), figsize=(12, 9), sharex=True)
    phis = np.linspace(0.005, 0.995, 120)
    for i, rho in enumerate(RHOS):
        for j, alpha in enumerate(ALPHAS):
            ax = axes[i, j]
            law, lam, e_ssr, fstars = curves[(rho, alpha)]
            pop = numpy_function("pca.e_pca_ar1")(phis, abs(float(rho)))
            ppca = numpy_function("pca.e_ppca_ar1")(phis, abs(float(rho)))
            samp = [law.reconstruction_error(p) for p in phis]
            lim = min(0.999, 0.999 * float(alpha))
            masked = [law.masked_error(p) if p < lim else np.nan for p in phis]
            ax.plot(phis, pop, label="population PCA")
            ax.plot(phis, samp, label="sample PCA")
            ax.plot(phis, ppca, "--", label="population PPCA (masked)")
            ax.plot(phis, masked, "--", label="sample PPCA (masked)")
            ax.axhline(e_ssr, color="k", lw=1, label="SSR at λ*")
            for (p, m), f in fstars.items():
                if 0 < f < 1:
                    ax.axvline(f, color="gray", ls=":", lw=0.8)
            ax.set_ylim(0, min(1.2, max(1.05, e_ssr * 1.5)))
            ax.set_title(f"ρ = {rho}, α = {alpha}", fontsize=9)
            if i == len(RHOS) - 1:
                ax.set_xlabel("k/d")
    axes[0, 0].legend(fontsize=6)
    fig.suptitle("errors against k/d; dotted: crossovers φ*")
    fixed_layout(fig, left=0.048, right=0.988, bottom=0.065, top=0.925, wspace=0.15, hspace=0.19)
    return fig


def _map_figure(quick: bool):
    """φ* over (ρ, α) for population PCA (reconstruction and masked metrics), at λ*."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rhos = np.linspace(0.1, 0.95, 6 if quick else 12)
    alphas = np.geomspace(0.25, 16, 5 if quick else 9)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    points = {}  # (i, j) -> (model, α, λ*): one optimal ridge serves both metrics
    for i, a in enumerate(alphas):
        for j, r in enumerate(rhos):
            model, alpha = make_model("ar1", rho=Fraction(repr(float(r)))), Fraction(repr(float(a)))
            lam = optimal_ridge(model, alpha, dps=None).as_dict()["lam_opt"]  # a map: double precision
            points[(i, j)] = (model, alpha, "opt" if lam == "inf" else Fraction(lam))
    for ax, metric in zip(axes, ("reconstruction", "masked")):
        Z = np.zeros((len(alphas), len(rhos)))
        for (i, j), (model, alpha, lam) in points.items():
            Z[i, j] = float(crossover(model, alpha, lam, "population", metric, dps=None).as_dict()["f_star"])
        im = ax.pcolormesh(rhos, alphas, Z, shading="nearest", vmin=0, vmax=1)
        ax.set_yscale("log")
        ax.set_xlabel("ρ")
        ax.set_ylabel("α")
        ax.set_title(f"φ* (population PCA, {metric}), λ = λ*")
        fig.colorbar(im, ax=ax)
    fixed_layout(fig, left=0.075, right=0.986, bottom=0.145, top=0.905, wspace=0.15)
    return fig

