"""C9 — real data (SPEC §7, issue 16): the learning curve E_gen(α) of scikit-learn's handwritten digits against the finite-d
equivalent at Σ = the data covariance. One d (the data's), no ladder: the claim builds its own outcome."""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np

from rmtverify.core.exceptions import InputError
from rmtverify.core.provenance import run_record
from rmtverify.models.data import DataModel
from rmtverify.montecarlo.engine import sample_size, seed_sequence
from rmtverify.montecarlo.executor import one_blas_thread
from rmtverify.montecarlo.sample import Sample
from rmtverify.theory.equivalents import equivalents
from rmtverify.verification.claim import Claim
from rmtverify.verification.outcome import ClaimOutcome, Figure, Panel, Section, Series, Table
from rmtverify.verification.verdict import FAIL, INCONCLUSIVE, PASS

INSTALL = "pip install 'rmtverify[data]'"
LAM, TOL_DATA, TOL_GAUSS = Fraction(2), 0.03, 0.0075  # λ ≈ (tr Σ/d)/10 for the raw pixels (tr Σ/d = 19.7)
ALPHAS = {True: ("1/2", "1", "2", "4", "6"), False: ("1/2", "3/4", "1", "3/2", "2", "3", "4", "5", "6")}
SEEDS = {True: 300, False: 1000}
DRAWS = {"without": "digits, rows without replacement", "with": "digits, rows with replacement", "gaussian": "Gaussian rows, same Σ"}


def digits() -> np.ndarray:
    """The 1797 × 64 handwritten digits (pixel intensities 0–16), shipped offline with scikit-learn (an optional extra)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise InputError("data", f"the real-data claim uses scikit-learn's handwritten digits, an optional extra: {INSTALL}") from None
    return load_digits().data


def curve(model, alpha, k, root) -> tuple[float, float, int]:
    """E_gen of Â fitted on n = round(αd) drawn rows, against the data covariance: mean, SE over k samples, n."""
    n, key = sample_size(Fraction(alpha), model.d), f"real-data|{model.key()}"
    with one_blas_thread():
        e = [Sample(model, model.d, n, seed_sequence(root, key, n, i), "rows").ssr_errors([LAM])["e_gen"][0] for i in range(k)]
    return float(np.mean(e)), float(np.std(e, ddof=1) / np.sqrt(k)), n


class RealData(Claim):
    name, spec, ladders = "real-data", "C9", None
    title = "Real data: the digits' learning curve E_gen(α) against the equivalent at their covariance"
    statement = (f"For scikit-learn's handwritten digits (N = 1797 images, 64 pixels; the 3 always-blank pixels dropped, d = 61), n "
                 f"rows drawn without replacement (n ≤ N/4), λ = {LAM}: the finite-d deterministic equivalent at Σ = the data covariance "
                 f"predicts E_gen within {TOL_DATA:.0%} for α from 0.5 to 6; Gaussian rows with the same Σ sit within "
                 f"{TOL_GAUSS:.2%} + 4 SE of it.")
    requirement, requires = INSTALL, "sklearn"

    def run(self, options) -> ClaimOutcome:
        t0, factor, data = time.time(), float(1 + options.perturb), digits()
        models = {k: DataModel(data, source="sklearn.datasets.load_digits", draws=k) for k in DRAWS}
        d, k, rows, table, powered = models["without"].d, SEEDS[options.quick], [], [], 0
        for a in ALPHAS[options.quick]:
            mc = {key: curve(m, a, k, options.seed) for key, m in models.items()}
            n = mc["without"][2]
            th = float(equivalents(models["without"], Fraction(n, d), LAM, d=d, dps=None).e_gen) * factor
            rel = {key: ((m - th) / th, se / th) for key, (m, se, _) in mc.items()}
            (r_data, s_data), (r_gauss, s_gauss) = rel["without"], rel["gaussian"]
            ok = abs(r_data) <= TOL_DATA and abs(r_gauss) <= TOL_GAUSS + 4 * s_gauss
            powered += TOL_GAUSS + 4 * s_gauss < 0.01
            rows.append({"alpha": a, "n": n, "theory": th, **{key: {"mean": m, "se": se, "rel_gap": rel[key][0], "rel_gap_se": rel[key][1]}
                                                             for key, (m, se, _) in mc.items()}, "status": PASS if ok else FAIL})
            table.append([a, n, f"{th:.5f}", f"{mc['without'][0]:.5f} ± {mc['without'][1]:.5f}", f"{r_data:+.2%} ± {s_data:.2%}",
                          f"{r_data / s_data:+.1f}", f"{rel['with'][0]:+.2%} ± {rel['with'][1]:.2%}", f"{r_gauss:+.2%} ± {s_gauss:.2%}",
                          "yes" if TOL_GAUSS + 4 * s_gauss < 0.01 else "no", rows[-1]["status"]])
        status = FAIL if any(r["status"] == FAIL for r in rows) else PASS if powered else INCONCLUSIVE
        gaps = [r["without"]["rel_gap"] for r in rows]
        zs = [r["without"]["rel_gap"] / r["without"]["rel_gap_se"] for r in rows]
        w, top = int(np.argmax(np.abs(gaps))), rows[-1]
        summary = (f"digits E_gen within {abs(gaps[w]):.2%} of the theory (largest at α = {rows[w]['alpha']}, {zs[w]:+.0f} SE; tolerance "
                   f"{TOL_DATA:.0%}); Gaussian rows within {max(abs(r['gaussian']['rel_gap']) for r in rows):.2%}; {powered}/{len(rows)} α "
                   "resolve a 1% error")
        head = ["α", "n", "theory E_gen", "digits (no replacement) ± SE", "gap", "z", "digits with replacement: gap", "Gaussian rows: gap",
                "resolves 1%", "verdict"]
        drop = (top["without"]["mean"] - top["with"]["mean"]) / top["with"]["mean"]
        answer = [f"- The digits sit {min(gaps):+.2%} to {max(gaps):+.2%} from the equivalent over α ∈ [0.5, 6]: the largest gaps are "
                  f"resolved (|z| up to {max(np.abs(zs)):.0f}), so the digits are not Gaussian rows, yet within {TOL_DATA:.0%}.",
                  "- Where the gap comes from: Gaussian rows with the same Σ measure the equivalent's own finite-d error at d = 61; rows "
                  "drawn with replacement (i.i.d. from the digits' empirical law) add the non-Gaussianity; without replacement adds the "
                  f"dependence of the draws: at α = {top['alpha']} (n/N = {top['n'] / models['without'].N:.2f}) it changes E_gen by "
                  f"{drop:+.2%} against draws with replacement."]
        method = [f"- d = {d}: the 64 pixels less the 3 that are 0 in every image (a zero column makes Σ singular and carries nothing). "
                  "Raw intensities, centred by the data mean, not standardised (standardising inflates the rarely-lit border pixels into "
                  f"heavy tails). Σ = the covariance of all N = {models['without'].N} images; no d = ∞ limit.",
                  f"- For each α, {k} samples of n = round(αd) rows per draw; E_gen = tr((I − Â)ᵀΣ(I − Â))/d of Â fitted on the n rows, "
                  "against the data covariance. Theory: the finite-d equivalent at Σ and α = n/d (double precision).",
                  f"- Verdict per α: PASS when the digits' |gap| ≤ {TOL_DATA:.0%} (a stated tolerance: the data are not Gaussian) and the "
                  f"Gaussian rows' |gap| ≤ {TOL_GAUSS:.2%} + 4 SE (the equivalent's finite-d error; where {TOL_GAUSS:.2%} + 4 SE < 1% a 1% "
                  "error of the theory fails it). The claim PASSes when every α does and at least one α resolves a 1% error."]
        seeds = f"{k} per α and draw; SeedSequence({options.seed}, spawn_key=(crc32('real-data|<model key>'), n, i))"
        record = run_record(t0, {"seeds": seeds, "parameters": {"lam": str(LAM), "perturb": str(options.perturb),
                                                                "alphas": list(ALPHAS[options.quick])}})
        figure = self.figure(models["without"], rows, factor)
        sections = [Section("Answer", answer, [Table(head, table)], [figure]), Section("Method", method)]
        return ClaimOutcome(self.name, self.spec, self.title, self.statement, status, summary, str(options.perturb), sections=sections,
                            record=record, data={"d": d, "lam": str(LAM), "curve": rows, "tolerances": [TOL_DATA, TOL_GAUSS]})

    def figure(self, model, rows, factor) -> Figure:
        grid = np.linspace(0.5, 6, 56)
        theory = [float(equivalents(model, Fraction(float(a)).limit_denominator(1000), LAM, d=model.d, dps=None).e_gen) * factor
                  for a in grid]
        alphas = [r["n"] / model.d for r in rows]
        left = Panel("learning curve", "α = n/d", "E_gen", [Series("line", list(grid), theory, label="equivalent at the data Σ (d = 61)")])
        right = Panel("(MC − theory)/theory", "α = n/d", "relative gap (%)", [Series("hline", y=[0.0], color="k")])
        for (key, label), mk in zip(DRAWS.items(), "osx"):
            left.series.append(Series("points", alphas, [r[key]["mean"] for r in rows], [r[key]["se"] for r in rows], label, mk))
            gap, err = [100 * r[key]["rel_gap"] for r in rows], [100 * r[key]["rel_gap_se"] for r in rows]
            right.series.append(Series("points", alphas, gap, err, label, mk))
        return Figure("curve", "The digits' learning curve E_gen(α): theory and Monte Carlo ± SE", [left, right],
                      caption=f"λ = {LAM}; Monte Carlo at n = round(αd), theory at α = n/d for the points.")
