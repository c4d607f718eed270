"""``rmtverify bench``: what the Monte Carlo engine and the theory cost, measured side by side in one run.

Engine (one BLAS thread, as every sample runs; n = 2d, isotropic Σ unless
stated; medians over repetitions, all on the same data matrix X):

- *drawing S*: n rows and their Gram against Bartlett's factor (d pseudo-rows,
  :mod:`rmtverify.wishart`) and its Gram, which is how the engine draws S;
- *floor*: the unavoidable linear algebra of the eigendecomposition route —
  one Gram matrix XᵀX/n and one ``numpy.linalg.eigh``;
- *engine, one λ*: Gram + E_train and E_gen at one λ as the engine computes
  them (``auto``: one Cholesky inverse of S + λI), and the same through the
  eigendecomposition route (``eigh``);
- *engine, 16 λ*: Gram + one eigendecomposition serving a 16-value λ grid;
  the marginal cost of a λ is (T₁₆ − T₁)/15 of the per-λ part alone (given
  the decomposition, which the two share: timing noise of the eigh would
  otherwise swamp the difference);
- *naive*: for each λ, invert S + λI, form Â = I − QD^{-1} explicitly, and
  evaluate ‖X − XÂ‖²_F/(nd) and tr((I − Â)ᵀΣ(I − Â))/d; its numbers are
  checked against the engine's (max relative difference reported);
- the same engine timings for AR(1) (ρ = 0.7, Toeplitz), whose Σ has no
  low-rank form: one symmetric rank-d product per λ.

Theory: E_gen and friends for AR(1) at d = ∞ to 50 digits, per (α, λ) point
after a warm-up (each point is new: nothing is memoised), and the BBP
threshold θ_c to 100 digits. mpmath's backend must be gmpy2.
"""

from __future__ import annotations

import os
import platform
import time
from fractions import Fraction

import numpy as np

TARGETS = {
    "engine_1lam_vs_floor": ("<=", 1.5),
    "extra_lam_vs_floor": ("<=", 0.15),
    "naive_vs_engine_16lam": (">=", 4.0),
    "theory_ar1_50digits_ms": ("<=", 20.0),
}


def _median_time(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def naive_errors(model, d: int, X: np.ndarray, lams, n: int | None = None) -> dict:
    """The naive pipeline: per λ an explicit inverse of S + λI and an explicit Â (reference and yardstick).

    ``n``: the number of samples when X is Bartlett's factor of the data (fewer rows, S = XᵀX/n)."""
    n = X.shape[0] if n is None else n
    S = X.T @ X / n
    out = {"e_train": [], "e_gen": []}
    eye = np.eye(d)
    for lam in lams:
        Q = np.linalg.inv(S + lam * eye)
        A = eye - Q / np.diag(Q)[None, :]  # Â = I − QD^{-1}
        R = X - X @ A
        out["e_train"].append(float(np.sum(R * R) / (n * d)))
        B = eye - A
        out["e_gen"].append(float(np.sum(B * model.sigma_apply(d, B)) / d))
    return out


def _rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a / b - 1)))


def bench_engine(model, d: int, repeats: int, naive_repeats: int, lam: float = 0.1, naive: bool = True) -> dict:
    from rmtverify.montecarlo.engine import sample_size, seed_sequence
    from rmtverify.montecarlo.executor import one_blas_thread
    from rmtverify.montecarlo.kernels import errors_from_eigh, errors_from_gram
    from rmtverify.montecarlo.sample import gram_factor

    n = sample_size(Fraction(2), d)
    grid = [float(x) for x in np.geomspace(0.01, 1.0, 16)]
    ss = seed_sequence(0, "bench", d, 0)
    out = {"model": model.key(), "d": d, "n": n, "lam": lam, "grid": [min(grid), max(grid), len(grid)]}
    with one_blas_thread():
        t_draw, X = _median_time(lambda: model.sample(n, d, np.random.default_rng(ss)), repeats)

        def gram():
            return X.T @ X / n

        t_floor, _ = _median_time(lambda: np.linalg.eigh(gram()), repeats)
        t_gram, _ = _median_time(gram, repeats)
        # what a Monte Carlo sample pays for S itself: n rows and their Gram, or Bartlett's factor and its Gram
        t_s_rows, _ = _median_time(lambda: (lambda Xs: Xs.T @ Xs / n)(model.sample(n, d, np.random.default_rng(ss))), repeats)
        t_s_bartlett, _ = _median_time(lambda: (lambda F: F.T @ F / n)(gram_factor(model, n, d, np.random.default_rng(ss))), repeats)
        t1, one = _median_time(lambda: errors_from_gram(model, d, gram(), [lam], "auto"), repeats)
        t1e, one_e = _median_time(lambda: errors_from_gram(model, d, gram(), [lam], "eigh"), repeats)
        t16, many = _median_time(lambda: errors_from_gram(model, d, gram(), grid, "eigh"), repeats)
        # the marginal cost of a λ, measured apart from the (noisier) decomposition they share
        s, V = np.linalg.eigh(gram())
        s = np.clip(s, 0.0, None)
        t_lam1, _ = _median_time(lambda: errors_from_eigh(model, d, s, V, grid[:1]), repeats)
        t_lam16, _ = _median_time(lambda: errors_from_eigh(model, d, s, V, grid), repeats)
        secs = {
            "draw_x": t_draw,
            "draw_s_rows": t_s_rows,
            "draw_s_bartlett": t_s_bartlett,
            "gram": t_gram,
            "floor": t_floor,
            "engine_1lam": t1,
            "engine_1lam_eigh": t1e,
            "engine_16lam": t16,
            "per_lam_part_1lam": t_lam1,
            "per_lam_part_16lam": t_lam16,
        }
        agree = {"one_lam_auto_vs_eigh": max(_rel(one[k], one_e[k]) for k in one)}
        if naive:
            t_naive, ref = _median_time(lambda: naive_errors(model, d, X, grid), naive_repeats)
            secs["naive_16lam"] = t_naive
            agree["engine_vs_naive_16lam"] = max(_rel(many[k], ref[k]) for k in many)
    ratios = {
        "engine_1lam_vs_floor": t1 / t_floor,
        "engine_1lam_eigh_vs_floor": t1e / t_floor,
        "extra_lam_vs_floor": max(t_lam16 - t_lam1, 0.0) / 15 / t_floor,
        "engine_16lam_vs_floor": t16 / t_floor,
        "rows_vs_bartlett_draw_s": t_s_rows / t_s_bartlett,
    }
    if naive:
        ratios["naive_vs_engine_16lam"] = secs["naive_16lam"] / t16
    out.update(seconds=secs, ratios=ratios, max_rel_diff=agree)
    return out


def bench_theory(points: int = 16, repeats: int = 5) -> dict:
    import mpmath

    from rmtverify.models import make_model
    from rmtverify.theory.bbp import threshold
    from rmtverify.theory.equivalents import equivalents

    model = make_model("ar1", rho="0.7")
    equivalents(model, "2", "0.1", d=None, dps=50)  # warm-up: derivations built, formulas lambdified
    alphas = ["0.5", "1.5", "2", "4"]
    lams = ["0.001", "0.05", "0.3", "2"]
    grid = [(a, l) for a in alphas for l in lams][:points]
    per_point = []
    for a, l in grid:
        t0 = time.perf_counter()
        r = equivalents(model, a, l, d=None, dps=50)
        per_point.append(time.perf_counter() - t0)
    sample = equivalents(model, "2", "0.1", d=None, dps=50).as_dict()["e_gen"]
    threshold(alpha=2, dps=100)  # warm-up
    t_thr, thr = _median_time(lambda: threshold(alpha=2, dps=100), repeats)
    t_thr_ssr, thr_ssr = _median_time(lambda: threshold(alpha=2, lam="0.1", matrix="ssr", spike="flat", base="ar1", rho="0.5", dps=100),
                                      repeats)
    ms = np.array(per_point) * 1000
    return {
        "ar1_dinf_50digits": {
            "points": len(grid),
            "ms_median": float(np.median(ms)),
            "ms_max": float(np.max(ms)),
            "example": {"alpha": "2", "lam": "0.1", "rho": "0.7", "e_gen": sample},
            "last_point": {"alpha": grid[-1][0], "lam": grid[-1][1], "e_gen": r.as_dict()["e_gen"][:20] + "…"},
        },
        "bbp_threshold_100digits": {
            "sample_isotropic_alpha2_ms": t_thr * 1000,
            "theta_c": thr.as_dict()["theta_c"][:30] + "…",
            "ssr_ar1_flat_alpha2_lam0.1_ms": t_thr_ssr * 1000,
            "theta_c_ssr": thr_ssr.as_dict()["theta_c"][:30] + "…",
        },
        "mpmath_backend": mpmath.libmp.BACKEND,
    }


def run_bench(quick: bool = False, d=None, repeats=None) -> dict:
    from rmtverify.core.params import parse
    from rmtverify.core.provenance import versions
    from rmtverify.models import make_model

    d = parse("d", d) if d is not None else (512 if quick else 2048)
    repeats = int(repeats) if repeats is not None else (3 if quick else 5)
    naive_repeats = max(1, min(repeats, 3))
    t0 = time.perf_counter()
    iso = bench_engine(make_model("isotropic"), d, repeats, naive_repeats)
    ar1 = bench_engine(make_model("ar1", rho="0.7"), d, repeats, naive_repeats, naive=False)
    theory = bench_theory(points=8 if quick else 16, repeats=repeats)
    measured = {
        "engine_1lam_vs_floor": iso["ratios"]["engine_1lam_vs_floor"],
        "extra_lam_vs_floor": iso["ratios"]["extra_lam_vs_floor"],
        "naive_vs_engine_16lam": iso["ratios"]["naive_vs_engine_16lam"],
        "theory_ar1_50digits_ms": theory["ar1_dinf_50digits"]["ms_median"],
    }
    targets = {}
    for key, (op, bound) in TARGETS.items():
        v = measured[key]
        targets[key] = {"value": v, "target": f"{op} {bound:g}", "met": bool(v <= bound if op == "<=" else v >= bound)}
    targets["mpmath_backend_gmpy"] = {"value": theory["mpmath_backend"], "target": "gmpy", "met": theory["mpmath_backend"] == "gmpy"}
    return {
        "quick": quick,
        "blas_threads": 1,
        "repeats": repeats,
        "statistic": "median",
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cpus",
        "versions": versions(),
        "engine": {"isotropic": iso, "ar1": ar1},
        "theory": theory,
        "targets": targets,
        "seconds_total": time.perf_counter() - t0,
    }


def format_text(out: dict) -> str:
    iso, ar1 = out["engine"]["isotropic"], out["engine"]["ar1"]
    s, r = iso["seconds"], iso["ratios"]
    lines = [
        f"Monte Carlo engine, d = {iso['d']}, n = {iso['n']}, one BLAS thread, medians of {out['repeats']} runs",
        f"  floor (Gram + numpy eigh)        {s['floor'] * 1e3:9.1f} ms   (drawing X: {s['draw_x'] * 1e3:.1f} ms, "
        f"Gram alone {s['gram'] * 1e3:.1f} ms)",
        f"  engine, one λ (Cholesky)         {s['engine_1lam'] * 1e3:9.1f} ms   {r['engine_1lam_vs_floor']:.3f} × floor",
        f"  engine, one λ (eigh route)       {s['engine_1lam_eigh'] * 1e3:9.1f} ms   {r['engine_1lam_eigh_vs_floor']:.3f} × floor",
        f"  engine, 16-λ grid                {s['engine_16lam'] * 1e3:9.1f} ms   each further λ {r['extra_lam_vs_floor']:.4f} × floor",
        f"  naive, 16-λ grid                 {s['naive_16lam'] * 1e3:9.1f} ms   {r['naive_vs_engine_16lam']:.1f} × the engine "
        f"(same numbers to {iso['max_rel_diff']['engine_vs_naive_16lam']:.1e})",
        f"  drawing S: n rows + Gram {s['draw_s_rows'] * 1e3:.1f} ms, Bartlett's factor + Gram {s['draw_s_bartlett'] * 1e3:.1f} ms "
        f"({r['rows_vs_bartlett_draw_s']:.1f} × faster; the engine draws S this way)",
        f"  AR(1) ρ=0.7: one λ {ar1['ratios']['engine_1lam_vs_floor']:.3f} × floor, "
        f"each further λ {ar1['ratios']['extra_lam_vs_floor']:.4f} × floor",
    ]
    th = out["theory"]
    a = th["ar1_dinf_50digits"]
    b = th["bbp_threshold_100digits"]
    lines += [
        "Theory",
        f"  AR(1) d = ∞, 50 digits: {a['ms_median']:.2f} ms per (α, λ) point (median of {a['points']}, max {a['ms_max']:.2f} ms)",
        f"  BBP threshold, 100 digits: {b['sample_isotropic_alpha2_ms']:.2f} ms (S, α = 2); "
        f"{b['ssr_ar1_flat_alpha2_lam0.1_ms']:.2f} ms (Â, flat spike on AR(1))",
        f"  mpmath backend: {th['mpmath_backend']}",
        "Targets",
    ]
    for k, t in out["targets"].items():
        v = t["value"]
        lines.append(f"  {k:28s} {v if isinstance(v, str) else f'{v:.4g}':>10}  target {t['target']:8s} {'met' if t['met'] else 'NOT MET'}")
    lines.append(f"({out['seconds_total']:.0f} s)")
    return "\n".join(lines)
