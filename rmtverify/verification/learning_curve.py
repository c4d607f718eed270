"""A data set's learning curve E_gen(α) (SPEC §7): the data set (a user's file or scikit-learn's digits), its ridge and α
grid, the Monte Carlo per draw, and the figure. The real-data claim (C9) judges what these measure."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from rmtverify.core.exceptions import InputError
from rmtverify.models.data import DataModel
from rmtverify.montecarlo.engine import sample_size, seed_sequence
from rmtverify.montecarlo.executor import one_blas_thread
from rmtverify.montecarlo.sample import Sample
from rmtverify.theory.equivalents import equivalents
from rmtverify.verification.outcome import Figure, Panel, Series

INSTALL = "pip install 'rmtverify[data]'"
TOL_DATA, TOL_GAUSS = 0.03, 0.0075
ALPHAS = {True: ("1/2", "1", "2", "4", "6"), False: ("1/2", "3/4", "1", "3/2", "2", "3", "4", "5", "6")}
SEEDS = {True: 300, False: 1000}
DRAWS = {"without": "rows without replacement", "with": "rows with replacement", "gaussian": "Gaussian rows, same Σ"}


def digits() -> np.ndarray:
    """The 1797 × 64 handwritten digits (pixel intensities 0–16), shipped offline with scikit-learn (an optional extra)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise InputError("data", f"the real-data claim uses scikit-learn's handwritten digits, an optional extra: {INSTALL}") from None
    return load_digits().data


def data_models(options) -> tuple[dict, str]:
    """The three draws of the data set ({draw: DataModel}) and its name: ``verify --data FILE`` (``options.data``), else the
    digits."""
    if options.data is None:
        kw, name = {"path": digits(), "source": "sklearn.datasets.load_digits"}, "scikit-learn's handwritten digits"
    else:
        kw = {"path": options.data["path"], "standardize": options.data.get("standardize", False)}
        name = f"the data file {options.data['path']}" + (" (standardised)" if kw["standardize"] else "")
    data = DataModel(**kw)  # the file is read once; the other draws share it
    return {k: data.with_draws(k) for k in DRAWS}, name


def ridge(model) -> Fraction:
    """λ = (tr Σ/d)/10 to one significant digit (the digits: tr Σ/d = 19.7, λ = 2): the same relative ridge for any scale."""
    x = float(np.trace(model.sigma(model.d))) / model.d / 10
    if not x > 0:
        raise InputError("data", "has Σ = 0 (every kept column constant up to rounding)")
    e = math.floor(math.log10(x))
    m = round(x / 10**e)
    return Fraction(m) * Fraction(10) ** e


def alphas(model, quick: bool) -> tuple:
    """The ladder's α with n = round(αd) ≤ N/4 (at least two), else InputError naming ``data``."""
    out = tuple(a for a in ALPHAS[quick] if sample_size(Fraction(a), model.d) <= model.max_n)
    if len(out) < 2:
        raise InputError("data", f"N = {model.N} rows leave n ≤ N/4 = {model.max_n} at d = {model.d}: the learning curve needs α = 1/2 "
                                 f"and 1, i.e. N ≥ {4 * sample_size(Fraction(1), model.d)} rows")
    return out


def measure_curve(model, alpha, lam, k, root) -> tuple[float, float, int]:
    """E_gen of Â fitted on n = round(αd) drawn rows, against the data covariance: mean, SE over k samples, n."""
    n, key = sample_size(Fraction(alpha), model.d), f"real-data|{model.key()}"
    with one_blas_thread():
        e = [Sample(model, model.d, n, seed_sequence(root, key, n, i), "rows").ssr_errors([lam])["e_gen"][0] for i in range(k)]
    return float(np.mean(e)), float(np.std(e, ddof=1) / np.sqrt(k)), n


def theory_curve(model, alpha: Fraction, lam: Fraction, factor: float = 1.0) -> float:
    """The finite-d equivalent E_gen at the data Σ and α (double precision), times the perturbation factor."""
    return float(equivalents(model, alpha, lam, d=model.d, dps=None).e_gen) * factor


def curve_figure(model, name: str, lam: Fraction, rows: list, factor: float) -> Figure:
    """Learning curve (theory line, Monte Carlo ± SE per draw) and the relative gaps."""
    lo, hi = float(Fraction(rows[0]["alpha"])), float(Fraction(rows[-1]["alpha"]))
    grid = np.linspace(lo, hi, 56)
    theory = [theory_curve(model, Fraction(float(a)).limit_denominator(1000), lam, factor) for a in grid]
    alphas = [r["n"] / model.d for r in rows]
    left = Panel("learning curve", "α = n/d", "E_gen", [Series("line", list(grid), theory,
                                                                       label=f"equivalent at the data Σ (d = {model.d})")])
    right = Panel("(MC − theory)/theory", "α = n/d", "relative gap (%)", [Series("hline", y=[0.0], color="k")])
    for (key, label), mk in zip(DRAWS.items(), "osx"):
        left.series.append(Series("points", alphas, [r[key]["mean"] for r in rows], [r[key]["se"] for r in rows], label, mk))
        gap, err = [100 * r[key]["rel_gap"] for r in rows], [100 * r[key]["rel_gap_se"] for r in rows]
        right.series.append(Series("points", alphas, gap, err, label, mk))
    return Figure("curve", f"The learning curve E_gen(α) of {name}: theory and Monte Carlo ± SE", [left, right],
                  caption=f"λ = {lam}; Monte Carlo at n = round(αd), theory at α = n/d for the points. Gaussian rows with the same Σ "
                          f"show the equivalent's own finite-d error at d = {model.d}.")
