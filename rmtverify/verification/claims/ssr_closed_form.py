"""C1 — the closed form Â = I − QD^{-1} is the d masked ridge regressions.

An exact identity (derivation ssr_closed_form), so the verdict is agreement to
rounding: in double precision on Gaussian data of several shapes, n < d
included, the relative difference must stay below 10³ · ε · cond(S + λI);
in 50-digit arithmetic on exact integer data it must stay below 10^-45.
``--perturb ε`` multiplies the closed form by (1 + ε).
"""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np

from rmtverify.montecarlo.estimators import MaskedSSR, closed_form_mp, masked_ridge_reference, masked_ridge_reference_mp
from rmtverify.models import make_model
from rmtverify.core.precision import context
from rmtverify.reports.markdown import markdown_table, record_markdown, run_record
from rmtverify.montecarlo.engine import seed_sequence
from rmtverify.verification.verdict import FAIL, PASS
from rmtverify.verification.claims.base import Claim, ClaimOutcome, RunOptions

# (model, options, n, d, λ): n < d, n = d and n > d, small and large λ
CASES = [
    ("isotropic", {}, 200, 50, Fraction(1, 10)),
    ("isotropic", {}, 30, 60, Fraction(1, 10)),
    ("ar1", {"rho": Fraction(9, 10)}, 120, 120, Fraction(1, 100)),
    ("ar1", {"rho": Fraction(1, 2)}, 40, 100, Fraction(1)),
    ("spiked", {"theta": 5, "spike": "e1"}, 80, 40, Fraction(1, 1000)),
]
QUICK_CASES = CASES[:2] + CASES[3:4]
# exact integer data at 50 digits: (n, d, λ)
MP_CASES = [(4, 6, Fraction(1, 7)), (10, 5, Fraction(3, 2))]
MP_DPS = 50


class SSRClosedForm(Claim):
    name = "ssr-closed-form"
    spec = "C1"
    title = "The closed form Â = I − QD^{-1} equals the d separate masked ridge regressions"
    statement = (
        "Column k of Â = argmin_{diag A = 0} (1/n)‖X − XA‖²_F + λ‖A‖²_F is the ridge regression of "
        "coordinate k on the other d − 1, and Â = I − Q diag(Q)^{-1} (KKT with a diagonal multiplier; "
        "derivation ssr_closed_form)."
    )

    def run(self, options: RunOptions) -> ClaimOutcome:
        t0 = time.time()
        factor = 1 + options.perturb
        rows, cases = [], []
        ok = True
        for i, (model_name, opts, n, d, lam) in enumerate(QUICK_CASES if options.quick else CASES):
            model = make_model(model_name, **opts)
            ss = seed_sequence(options.seed, f"{self.name}|{model.key()}", d, i)
            X = model.sample(n, d, np.random.default_rng(ss))
            est = MaskedSSR(lam).fit(X)
            closed = est.coef_ * float(factor)
            ref = masked_ridge_reference(X, lam)
            rel = float(np.max(np.abs(closed - ref)) / np.max(np.abs(ref)))
            cond = float(np.linalg.cond(X.T @ X / n + float(lam) * np.eye(d)))
            tol = 1e3 * np.finfo(float).eps * cond
            diag0 = float(np.max(np.abs(np.diag(closed))))
            passed = rel <= tol and diag0 == 0.0
            ok &= passed
            rows.append([model.key(), n, d, str(lam), f"{rel:.2e}", f"{tol:.1e}", f"{diag0:.0e}", "PASS" if passed else "FAIL"])
            cases.append({"model": model.key(), "n": n, "d": d, "lam": str(lam), "relative_difference": rel, "tolerance": tol, "max_abs_diagonal": diag0, "spawn_key": list(ss.spawn_key), "status": PASS if passed else FAIL})

        mp_rows, mp_cases = [], []
        for j, (n, d, lam) in enumerate(MP_CASES):
            rng = np.random.default_rng(seed_sequence(options.seed, f"{self.name}|mp", d, j))
            X = [[int(v) for v in row] for row in rng.integers(-9, 10, size=(n, d))]
            ctx = context(MP_DPS + 15)
            closed = closed_form_mp(X, lam, ctx) * ctx.mpf(factor.numerator) / factor.denominator
            ref = masked_ridge_reference_mp(X, lam, ctx)
            scale = max(abs(ref[a, b]) for a in range(d) for b in range(d))
            rel = max(abs(closed[a, b] - ref[a, b]) for a in range(d) for b in range(d)) / scale
            passed = rel <= ctx.mpf(10) ** -45
            ok &= bool(passed)
            mp_rows.append([n, d, str(lam), ctx.nstr(rel, 3), "1e-45", "PASS" if passed else "FAIL"])
            mp_cases.append({"n": n, "d": d, "lam": str(lam), "relative_difference": ctx.nstr(rel, 5), "dps": MP_DPS, "status": PASS if passed else FAIL})

        status = PASS if ok else FAIL
        summary = f"max relative difference {max(c['relative_difference'] for c in cases):.1e} (float64), {max(float(c['relative_difference']) for c in mp_cases):.1e} (50 digits)"
        record = run_record(t0, {"seeds": f"SeedSequence({options.seed}, spawn_key=(crc32(config), d, i))", "parameters": {"perturb": str(options.perturb)}})
        md = "\n".join(
            [
                f"# {self.spec} — {self.name}: {self.title}",
                "",
                f"**Verdict: {status}**" + (f" (theory perturbed by ε = {options.perturb})" if options.perturb else ""),
                "",
                self.statement,
                "",
                "This is an exact identity, so there is no convergence rate: the test is agreement to rounding. "
                "The symbolic proof is derivation `ssr_closed_form` (see `derivations.md`).",
                "",
                "## Double precision, Gaussian data",
                "",
                "Tolerance on max|Â − Â_ref| / max|Â_ref|: 10³ · ε_machine · cond(S + λI). diag(Â) must be exactly 0.",
                "",
                markdown_table(["model", "n", "d", "λ", "rel. diff.", "tolerance", "max abs diag(Â)", "verdict"], rows),
                "",
                f"## {MP_DPS}-digit arithmetic, exact integer data",
                "",
                markdown_table(["n", "d", "λ", "rel. diff.", "tolerance", "verdict"], mp_rows),
                "",
                record_markdown(record),
            ]
        )
        data = {"claim": self.name, "spec": self.spec, "status": status, "perturb": str(options.perturb), "float64": cases, "mp": mp_cases, "run": record}
        return ClaimOutcome(self.name, self.spec, status, summary, md, data)
