"""The minimal form of a claim file: E_gen of masked SSR against the library's deterministic equivalent."""

import numpy as np

name = "my-claim"                  # used for report file names
statement = "E_gen of masked SSR converges to its deterministic equivalent"
points = [{"model": "ar1", "rho": "0.6", "alpha": "2", "lam": "0.2"},
          {"model": "isotropic", "alpha": "0.5", "lam": "0.3"}]
rate = 1.0                         # expected beta of the gap c*d^-beta (optional, default 1)


def observe(sample, point):        # one Monte Carlo sample -> {observable: float}
    B = np.eye(sample.d) - sample.A_hat(point.lam)
    return {"e_gen": float((B * (sample.Sigma @ B)).sum() / sample.d)}


def theory(point, d):              # d an int, or math.inf -> {observable: number or decimal string}
    return {"e_gen": point.equivalents(d).e_gen}  # d = ∞: 30 digits; finite d: double precision at n/d
