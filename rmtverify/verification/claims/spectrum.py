"""C3 — the spectrum of Â has a deterministic limit given by a self-consistent resolvent equation."""

from __future__ import annotations

import numpy as np

from rmtverify.theory.spectrum import ks_between, law_comparison
from rmtverify.verification.claim import Claim, Observable, Point, is_limit, slug
from rmtverify.verification.distances import ks_continuous, spectral_observables
from rmtverify.verification.figures import density_panel, ladder_panel
from rmtverify.verification.outcome import Figure, SubTest

CONFIGS = (
    ("isotropic-a2", {"model": "isotropic", "alpha": 2, "lam": "1/10"}),
    ("isotropic-a0.5", {"model": "isotropic", "alpha": "1/2", "lam": "1/10"}),
    ("ar1-a2", {"model": "ar1", "rho": "1/2", "alpha": 2, "lam": "1/10"}),
    ("e1-spike-a2", {"model": "spiked", "theta": 4, "spike": "e1", "alpha": 2, "lam": "1/10", "outliers": 1}),
    ("mixture-a2", {"model": "mixture", "atoms": "1,4", "alpha": 2, "lam": "1/10"}),
)


class Spectrum(Claim):
    name = "spectrum"
    spec = "C3"
    title = "The spectrum of Â has a deterministic limit given by a self-consistent resolvent equation"
    statement = (
        "The eigenvalues of Â = I − QD^{-1} are 1 − 1/s for s in the spectrum of M = D̄^{1/2}(S + λ)D̄^{1/2}, "
        "D̄ = (κ/λ)diag(R); the resolvent of M solves δ = (1/n) tr ΣT, T = (λ − (wλ/κ)diag(R)^{-1} + Σ/(1+δ))^{-1}, "
        "and g_Â(z) = (1/(1−z))(1 + w g_M(w)), w = 1/(1−z) (derivation spectrum). When diag R is constant the law "
        "is the push-forward of S's generalised Marchenko–Pastur law by s ↦ 1 − λ/(κc₀(s + λ)), with an atom of "
        "mass 1 − α when α < 1."
    )
    # Power: the Stieltjes transform must detect half the change a 1% error in the resolvent equation makes;
    # KS and W1 a discrepancy of 0.01 (CDF units, support width); the edges 1% (top) or 10% (bottom, where the
    # map s ↦ 1 − λ/(κc₀(s+λ)) magnifies the fluctuations of S's smallest eigenvalues) of the support width.
    observables = (
        Observable("stieltjes_re", "Re g(z₀)", 1.0, 0.5),
        Observable("stieltjes_im", "Im g(z₀)", 1.0, 0.5),
        Observable("ks_continuous", "KS (continuous part)", 1.0, 0.01, log_correction=True),
        Observable("w1", "W1", 1.0, 0.01, log_correction=True),
        Observable("top_edge", "top edge", 2 / 3, 0.01),
        Observable("bottom_edge", "bottom edge", 2 / 3, 0.10),
    )
    ladders = ((64, 128, 256, 512), (128, 256, 512, 1024, 2048))
    seeds = (16, 12)
    perturbation = "theory"  # ε enters the resolvent equation: δ = (1 + ε)(1/n) tr ΣT
    method = (
        "- Observables per sample: the Stieltjes transform at z₀ far from the axis (a linear statistic: bias and "
        "fluctuations O(1/d)); KS of the continuous part (an atom's cluster, its round(mass·d) nearest eigenvalues, is "
        "removed); W1 of the whole law (rate 1, or ½ with an atom); the extreme eigenvalues of the continuous part "
        "against the edges (rate ⅔). Theory at d = ∞ for every d (double-precision tables; κ, edges and g(z₀) at 20 digits).",
        "- Distances are judged against 0 with absolute power targets; the push-forward shortcut is reported per point.",
    )

    def points(self, options):
        return [Point(spec, label=label) for label, spec in CONFIGS]

    def prepare(self, point, eps):
        c = law_comparison(point.model, point.alpha, point.lam, eps)
        width, dg = c["tables"].width(), c["dg_1pct"]
        scale = {"stieltjes_re": dg, "stieltjes_im": dg, "ks_continuous": 1.0, "w1": width, "top_edge": width, "bottom_edge": width}
        return {**c, "scale": scale}

    def measure(self, sample, point):
        return {"eigenvalues": sample.ssr_eigenvalues(point.lam)}

    def observe(self, measured, point, prepared, d):
        ev = np.asarray(measured["eigenvalues"])
        out = spectral_observables(ev, prepared["tables"], d, int(point.extra.get("outliers", 0)))
        return {**out, "ks_to_pushforward": ks_continuous(ev, prepared["pushforward"], d)}

    def theory(self, point, d, prepared):
        t = prepared["tables"]
        limit = {"stieltjes_re": t.g0.real, "stieltjes_im": t.g0.imag, "ks_continuous": 0.0, "w1": 0.0, "top_edge": t.edges[-1][1]}
        return None if is_limit(d) else {**limit, "bottom_edge": t.edges[0][0]}

    def criteria(self, point, observable, prepared):
        atom = bool(prepared["tables"].atoms) and observable.name == "w1"  # the atom is smeared over a width of order d^-½
        smeared = {"beta0": 0.5, "log_correction": False} if atom else {}
        return observable.criteria(scale=prepared["scale"][observable.name], **smeared)

    def details(self, point, prepared):
        t, gap = prepared["tables"], ks_between(prepared["tables"], prepared["pushforward"])
        line = (f"Theory (d = ∞): {t.summary()}. Push-forward shortcut: {'holds' if gap < 1e-3 else 'fails'} "
                f"(KS(full law, push-forward) = {gap:.2e}).")
        power = {**prepared["scale"], **{k: prepared[k] for k in ("ks_1pct", "w1_1pct")}}
        theory = {"kappa": repr(float(prepared["law"].kappa)), **t.as_dict()}
        pushforward = {"holds": gap < 1e-3, "ks_full_vs_pushforward_d_inf": gap}
        return line, {"theory": theory, "pushforward": pushforward, "power_reference": power}

    def extra_tests(self, result, prepared):
        to_pf, to_full = result.auxiliary["ks_to_pushforward"][-1], float(np.mean([s["ks_continuous"] for s in result.top_observed]))
        status = "holds" if result.details["pushforward"]["holds"] else "fails"
        reason = (f"at d = {result.observables['w1'].d[-1]} mean KS of the continuous part {to_full:.4f} to the full law, "
                  f"{to_pf:.4f} to the push-forward")
        numbers = {"mc_ks_to_full_law": to_full, "mc_ks_to_pushforward": to_pf}
        return [SubTest("push-forward shortcut", status, [reason], numbers, counted=False)]

    def figures_for(self, result, prepared):
        ev = np.concatenate([np.asarray(s["eigenvalues"]) for s in result.top_measured])
        d = result.observables["w1"].d[-1]
        hist = density_panel("spectrum of Â", "eigenvalue of Â", ev, prepared["tables"], prepared["law"].density_grid,
                             f"Â eigenvalues, d = {d} (pooled)")
        dist = ladder_panel("distances to the d = ∞ law", "distance (KS: CDF units; W1: eigenvalue units)",
                            [result.observables[k] for k in ("ks_continuous", "w1")])
        caption = ("Left: the pooled eigenvalues at the largest d against the limiting density; right: KS and W1, which shrink like "
                   "log(d)/d (√ with an atom).")
        return [Figure(slug(result.point.label), result.title, [hist, dist], caption=caption)]
