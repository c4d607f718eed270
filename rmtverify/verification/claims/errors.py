"""C2 — E_train and E_gen converge to their deterministic equivalents, which depend on Σ alone."""

from __future__ import annotations

from rmtverify.core.params import INF
from rmtverify.verification.claim import Claim, Observable, Point, is_limit

LIMIT_DPS = 30
CONFIGS = (
    ("isotropic-a0.5", {"model": "isotropic", "alpha": "1/2", "lam": "1/5"}),
    ("isotropic-a2", {"model": "isotropic", "alpha": "2", "lam": "1/10"}),
    ("ar1-a0.5", {"model": "ar1", "rho": "7/10", "alpha": "1/2", "lam": "1/5"}),
    ("ar1-a2", {"model": "ar1", "rho": "7/10", "alpha": "2", "lam": "1/10"}),
    ("spiked-a0.5", {"model": "spiked", "theta": 4, "rank": 2, "spike": "random", "alpha": "1/2", "lam": "1/5"}),
    ("spiked-a2", {"model": "spiked", "theta": 4, "rank": 2, "spike": "random", "alpha": "2", "lam": "1/10"}),
)


class Errors(Claim):
    name = "errors"
    spec = "C2"
    title = "E_train and E_gen converge to deterministic equivalents that depend on Σ alone"
    statement = (
        "E_gen ≍ (1/(1 − df2/n)) (1/d) Σ_k [RΣR]_kk/R_kk² and E_train ≍ (λ/κ)² E_gen, with κ the "
        "effective regularisation (derivations kappa, train_gen)."
    )
    observables = (Observable("e_train", "E_train"), Observable("e_gen", "E_gen"))
    ladders = ((64, 128, 256, 512, 1024), (128, 256, 512, 1024, 2048))
    seeds = (24, 16)
    method = (
        "- Theory at each d: the finite-d deterministic equivalent for that model's Σ at α = n/d (double precision); "
        f"at d = ∞: the closed-form limit at {LIMIT_DPS} digits.",
    )

    def points(self, options):
        return [Point(spec, label=label) for label, spec in CONFIGS]

    def measure(self, sample, point):
        values = sample.ssr_errors([point.lam])
        return {k: v[0] for k, v in values.items()}

    def theory(self, point, d, prepared):
        if is_limit(d) and not point.model.has_limit:
            return None
        t = point.equivalents(d, LIMIT_DPS)
        return {"e_train": t.e_train, "e_gen": t.e_gen}

    def details(self, point, prepared):
        if not point.model.has_limit:
            return "", {}
        lim = point.equivalents(INF, LIMIT_DPS).as_dict()
        keys = ("kappa", "df1", "df2", "e_gen", "e_train")
        line = f"d = ∞ theory ({LIMIT_DPS} digits): κ = {lim['kappa']}, E_gen = {lim['e_gen']}, E_train = {lim['e_train']}"
        return line, {"theory_inf": {k: lim[k] for k in keys}}
