"""C8 — universality (SPEC §7, issue 16): where the Gaussian equivalents hold for non-Gaussian rows, and where they break."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from rmtverify.core.params import INF
from rmtverify.theory.universality import Z0, elliptical_gap, heavy_tail_rate, law_theories, role, stieltjes_limit
from rmtverify.verification.claim import Claim, Observable, Point, is_limit
from rmtverify.verification.law_tests import free_rate_test, law_figure, powered_test, rejected_test
from rmtverify.verification.outcome import Section, Table

DPS, C = 30, ("c_norm",)
ISO = ("isotropic α=2", {"model": "isotropic", "alpha": "2", "lam": "1/10"})
AR1 = ("AR(1) ρ=0.6 α=2", {"model": "ar1", "rho": "3/5", "alpha": "2", "lam": "1/10"})
HALF = ("isotropic α=0.5", {"model": "isotropic", "alpha": "1/2", "lam": "1/10"})
IID, ELL, HEAVY = (("rademacher", None), ("uniform", None), ("student", "5")), (("elliptical-t", "5"), ("elliptical-t", "8")), \
    (("student", "3"), ("student", "5/2"))
PLAN = {True: [(ISO, IID + ELL + HEAVY), (AR1, IID[:2] + ELL), (HALF, ELL[:1])],
        False: [(ISO, IID + ELL + HEAVY), (AR1, IID + ELL + HEAVY), (HALF, IID[:1] + ELL[:1])]}
OBS = {"e_gen": Observable("e_gen", "E_gen", controls=C), "e_train": Observable("e_train", "E_train", controls=C),
       "e_gen_gaussian": Observable("e_gen_gaussian", "E_gen vs the Gaussian theory", controls=C),
       "stieltjes_re": Observable("stieltjes_re", "Re g_Â(z₀)"), "stieltjes_im": Observable("stieltjes_im", "Im g_Â(z₀)")}
SPECTRAL = ("e_gen", "e_train", "stieltjes_re", "stieltjes_im")
BY_ROLE = {"iid": SPECTRAL, "heavy": SPECTRAL, "elliptical": ("e_gen", "e_gen_gaussian", "e_train")}


def law_text(law, nu) -> str:
    return law + (f" ν={float(Fraction(nu)):g}" if nu else "")


class Universality(Claim):
    name, spec, draw, point_figures, seeds, sequential_cap = "universality", "C8", "rows", False, (16, 24), 4
    ladders = ((64, 128, 256, 512), (64, 128, 256, 512, 1024))
    observables = tuple(OBS.values())
    title = "Universality: i.i.d. laws share the Gaussian equivalents; elliptical data need their own"
    statement = ("(i) Rows Σ^{1/2}z with i.i.d. Rademacher, uniform or Student-t (ν = 5) entries: E_gen, E_train and Â's Stieltjes "
                 "transform converge to the Gaussian equivalents. (ii) Elliptical-t rows (ν = 5, 8): the Gaussian E_gen misses by several "
                 "percent; the elliptical equivalents (derivation elliptical) hold. (iii) Student-t ν = 3, 2.5 (infinite fourth moment): "
                 "whether the Gaussian limit holds, and at what rate, is measured.")
    method = ("- Each sample draws its n rows (no Bartlett factor). E_gen, E_train use the control variate c = ‖X‖²_F/(n tr Σ) − 1 "
              "(mean zero for every law). g_Â(z₀) = (1/d) Σ 1/(λ_i(Â) − z₀), z₀ = ½ + ½i, against the Gaussian d = ∞ law; its power "
              "is relative to |g_Â(z₀)|.",
              "- Elliptical points: E_gen judged against the elliptical theory; the Gaussian theory must be rejected (its ladder verdict "
              "FAIL and |MC∞ − Gaussian∞| > 4 SE); E_train (fluctuations O(d^-½)) counted only where 4 SE(g∞) resolve 0.5% (read from "
              "the SEs). Heavy tails: shown against the Gaussian theory, the gap's rate fitted freely, not counted.")

    def points(self, options):
        return [Point({**spec, "law": law, **({"nu": nu} if nu else {})}, label=f"{base} · {law_text(law, nu)}")
                for (base, spec), laws in PLAN[options.quick] for law, nu in laws]

    def observables_for(self, point):
        return tuple(OBS[k] for k in BY_ROLE[role(point.model)])

    def prepare(self, point, eps):
        r, a, lam = role(point.model), point.alpha, point.lam
        return {"inf": law_theories(point.model, a, lam, INF, DPS), "role": r, "gap": elliptical_gap(point.model, a, lam),
                "g0": None if r == "elliptical" else stieltjes_limit(point.model, a, lam)}

    def measure(self, sample, point):
        e, X = sample.ssr_errors([point.lam]), sample.X
        out = {"e_gen": e["e_gen"][0], "e_train": e["e_train"][0],
               "c_norm": float(np.einsum("ij,ij->", X, X) / (sample.n * np.trace(sample.Sigma)) - 1)}
        if role(point.model) != "elliptical":
            g = np.mean(1.0 / (sample.ssr_eigenvalues(point.lam) - Z0))
            out.update(stieltjes_re=float(g.real), stieltjes_im=float(g.imag))
        return out

    def observe(self, measured, point, prepared, d):
        return {**{k: v for k, v in measured.items() if k != "c_norm"}, "e_gen_gaussian": measured["e_gen"]}

    def theory(self, point, d, p):
        t = p["inf"] if is_limit(d) else law_theories(point.model, point.alpha_at(d), point.lam, d, None)
        right = t["elliptical"] or t["gaussian"]
        out = {"e_gen": right["e_gen"], "e_train": right["e_train"], "e_gen_gaussian": t["gaussian"]["e_gen"]}
        return out if p["g0"] is None else {**out, "stieltjes_re": p["g0"].real, "stieltjes_im": p["g0"].imag}

    def criteria(self, point, observable, p):
        if p["role"] == "iid":
            return observable.criteria(scale=abs(p["g0"]) if observable.name.startswith("stieltjes") else None)
        return observable.criteria() if p["role"] == "elliptical" and observable.name == "e_gen" else None

    def details(self, point, p):
        t = {k: {q: str(v) for q, v in th.items()} for k, th in p["inf"].items() if th}
        line = ", ".join(f"{k} E_gen = {float(v['e_gen']):.10g}" for k, v in t.items()) + "".join(
            f"; elliptical/Gaussian − 1 = {float(v):+.4%} ({k[8:]})" for k, v in p["gap"].items())
        return f"d = ∞ ({DPS} digits): {line}", {"theory_inf": t, **p["gap"]}

    def extra_tests(self, result, p):
        obs, crit = result.observables, OBS["e_gen"].criteria()
        if p["role"] == "elliptical":
            return [rejected_test(obs["e_gen_gaussian"], obs["e_gen"], crit), powered_test(obs["e_train"], crit, "the elliptical theory")]
        h = heavy_tail_rate(Fraction(result.point["nu"])) if p["role"] == "heavy" else None
        return [free_rate_test(obs[k], h) for k in ("e_gen", "e_train", "stieltjes_im")] if p["role"] == "heavy" else []

    def summarize(self, results, options):
        rows, rates, groups = [], [], {}
        for r in results:
            base, law = r.point.label.split(" · ")
            groups.setdefault(base, []).append((law, r)) if base != HALF[0] else None
            for s in r.subtests:
                n = s.numbers
                if "rel_gap" in n:
                    rows.append([r.point.label, r.observables["e_gen"].status, f"{n['rel_gap']:+.2%} ± {n['rel_gap_se']:.2%}",
                                 f"{n['theory_rel_gap']:+.2%}", f"{n['z']:+.1f}", s.status])
                if "chi2_null" in n:
                    rates.append(f"- {r.point.label}, {s.name} ({s.status}): {s.reasons[0]}")
        table = Table(["point", "E_gen vs elliptical theory", "MC∞/Gaussian∞ − 1 ± SE", "elliptical∞/Gaussian∞ − 1", "z (SE)",
                       "Gaussian rejected"], rows)
        text = ["(ii) Elliptical data: the Monte Carlo extrapolated to d = ∞ against the Gaussian E_gen, and the elliptical prediction."]
        heavy = ["(iii) Student-t entries with an infinite fourth moment, against the Gaussian theory. Heuristic rate min(1, ν/2 − 1): a "
                 "fraction ∝ d^(1 − ν/2) of the rows has a coordinate as large as the row's norm (module theory.universality)."] + rates
        return {"sections": [Section("Elliptical data: the Gaussian theory's gap", text, [table], [law_figure("e-gen", groups)]),
                             Section("Heavy tails: the gap to the Gaussian theory and its rate", heavy)]}
