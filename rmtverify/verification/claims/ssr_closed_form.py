"""C1 — the closed form Â = I − QD^{-1} is the d masked ridge regressions.

An exact identity (derivation ssr_closed_form), so there is no ladder: the verdict is agreement to rounding.
In double precision on Gaussian data of several shapes, n < d included, the relative difference must stay
below 10³ · ε · cond(S + λI); in 50-digit arithmetic on exact integer data it must stay below 10^-45.
``--perturb ε`` multiplies the closed form by (1 + ε).
"""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np

from rmtverify.core.precision import context
from rmtverify.core.provenance import run_record
from rmtverify.models import make_model
from rmtverify.montecarlo.engine import seed_sequence
from rmtverify.montecarlo.estimators import MaskedSSR, closed_form_mp, masked_ridge_reference, masked_ridge_reference_mp
from rmtverify.verification.claim import Claim
from rmtverify.verification.outcome import ClaimOutcome, Section, Table
from rmtverify.verification.verdict import FAIL, PASS

# (model, options, n, d, λ): n < d, n = d and n > d, small and large λ
CASES = [
    ("isotropic", {}, 200, 50, Fraction(1, 10)),
    ("isotropic", {}, 30, 60, Fraction(1, 10)),
    ("ar1", {"rho": Fraction(9, 10)}, 120, 120, Fraction(1, 100)),
    ("ar1", {"rho": Fraction(1, 2)}, 40, 100, Fraction(1)),
    ("spiked", {"theta": 5, "spike": "e1"}, 80, 40, Fraction(1, 1000)),
]
QUICK_CASES = CASES[:2] + CASES[3:4]
MP_CASES = [(4, 6, Fraction(1, 7)), (10, 5, Fraction(3, 2))]  # exact integer data at 50 digits: (n, d, λ)
MP_DPS = 50


class SSRClosedForm(Claim):
    name, spec = "ssr-closed-form", "C1"
    title = "The closed form Â = I − QD^{-1} equals the d separate masked ridge regressions"
    statement = (
        "Column k of Â = argmin_{diag A = 0} (1/n)‖X − XA‖²_F + λ‖A‖²_F is the ridge regression of coordinate k on the other d − 1, "
        "and Â = I − Q diag(Q)^{-1} (KKT with a diagonal multiplier; derivation ssr_closed_form)."
    )
    ladders = None  # an exact identity: no Monte Carlo ladder

    def run(self, options) -> ClaimOutcome:
        t0, factor = time.time(), 1 + options.perturb
        rows, cases = [], []
        for i, (model_name, opts, n, d, lam) in enumerate(QUICK_CASES if options.quick else CASES):
            model = make_model(model_name, **opts)
            ss = seed_sequence(options.seed, f"{self.name}|{model.key()}", d, i)
            X = model.sample(n, d, np.random.default_rng(ss))
            closed = MaskedSSR(lam).fit(X).coef_ * float(factor)
            ref = masked_ridge_reference(X, lam)
            rel = float(np.max(np.abs(closed - ref)) / np.max(np.abs(ref)))
            tol = 1e3 * np.finfo(float).eps * float(np.linalg.cond(X.T @ X / n + float(lam) * np.eye(d)))
            diag0 = float(np.max(np.abs(np.diag(closed))))
            status = PASS if rel <= tol and diag0 == 0.0 else FAIL
            rows.append([model.key(), n, d, str(lam), f"{rel:.2e}", f"{tol:.1e}", f"{diag0:.0e}", status])
            cases.append({"model": model.key(), "n": n, "d": d, "lam": str(lam), "relative_difference": rel, "tolerance": tol,
                          "max_abs_diagonal": diag0, "spawn_key": list(ss.spawn_key), "status": status})
        mp_rows, mp_cases = [], []
        for j, (n, d, lam) in enumerate(MP_CASES):
            rng = np.random.default_rng(seed_sequence(options.seed, f"{self.name}|mp", d, j))
            X = [[int(v) for v in row] for row in rng.integers(-9, 10, size=(n, d))]
            ctx = context(MP_DPS + 15)
            closed = closed_form_mp(X, lam, ctx) * ctx.mpf(factor.numerator) / factor.denominator
            ref = masked_ridge_reference_mp(X, lam, ctx)
            entries = [(a, b) for a in range(d) for b in range(d)]
            rel = max(abs(closed[a, b] - ref[a, b]) for a, b in entries) / max(abs(ref[a, b]) for a, b in entries)
            status = PASS if rel <= ctx.mpf(10) ** -45 else FAIL
            mp_rows.append([n, d, str(lam), ctx.nstr(rel, 3), "1e-45", status])
            mp_cases.append({"n": n, "d": d, "lam": str(lam), "relative_difference": ctx.nstr(rel, 5), "dps": MP_DPS, "status": status})
        status = PASS if all(c["status"] == PASS for c in cases + mp_cases) else FAIL
        worst = (max(c["relative_difference"] for c in cases), max(float(c["relative_difference"]) for c in mp_cases))
        summary = f"max relative difference {worst[0]:.1e} (float64), {worst[1]:.1e} (50 digits)"
        seeds = f"SeedSequence({options.seed}, spawn_key=(crc32(config), d, i))"
        record = run_record(t0, {"seeds": seeds, "parameters": {"perturb": str(options.perturb)}})
        sections = [
            Section("Method", ["This is an exact identity, so there is no convergence rate: the test is agreement to rounding. The "
                               "symbolic proof is derivation `ssr_closed_form` (see `derivations.md`)."]),
            Section("Double precision, Gaussian data",
                    ["Tolerance on max|Â − Â_ref| / max|Â_ref|: 10³ · ε_machine · cond(S + λI). diag(Â) must be exactly 0."],
                    [Table(["model", "n", "d", "λ", "rel. diff.", "tolerance", "max abs diag(Â)", "verdict"], rows)]),
            Section(f"{MP_DPS}-digit arithmetic, exact integer data", [],
                    [Table(["n", "d", "λ", "rel. diff.", "tolerance", "verdict"], mp_rows)]),
        ]
        return ClaimOutcome(self.name, self.spec, self.title, self.statement, status, summary, str(options.perturb), sections=sections,
                            record=record, data={"float64": cases, "mp": mp_cases})
