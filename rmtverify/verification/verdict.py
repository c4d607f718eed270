"""A verdict is a statistical test (SPEC §5), not an eyeball.

Input: on a geometric ladder of d, Monte Carlo means ± standard errors and the
theory at each d (and, where the model has one, at d = ∞).

1. *Extrapolation.* The gap g(d) = MC(d) − theory(d) is fitted by weighted
   least squares as g∞ + c·d^{-β₀}, with β₀ the expected rate; g∞ must be
   consistent with zero: |g∞| ≤ z·SE(g∞). The same fit of MC(d) alone gives
   MC(∞), which must agree with the d = ∞ theory when there is one.
2. *Rate.* When the gap is resolved (the hypothesis g ≡ 0 is rejected), the
   free fit g = c·d^{-β} must give β within ``beta_tol`` (plus 2 SE) of β₀;
   when it is not resolved the report says so instead of quoting noise.
3. *Fit quality.* The model g∞ + c·d^{-β₀} must describe the data
   (χ² p-value ≥ ``p_min``).
4. *Power.* A PASS needs z·SE(g∞) ≤ ``resolution`` × |theory|, so that an
   error of twice ``resolution`` (1% by default) could not have passed.
   A run without that power is INCONCLUSIVE, which is not a PASS.

Standard errors are inflated by the Birge ratio √(χ²/dof) when that exceeds
1; the power requirement keeps this from turning a FAIL into a PASS.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize
import scipy.stats

PASS, FAIL, INCONCLUSIVE = "PASS", "FAIL", "INCONCLUSIVE"


@dataclass(frozen=True)
class Criteria:
    beta0: float = 1.0  # expected rate
    z: float = 4.0  # two-sided, about 6e-5 per test: a suite of tens of tests rarely false-alarms
    resolution: float = 0.005  # relative: 1% errors must be detectable at z
    beta_tol: float = 0.35
    p_min: float = 1e-4
    scale: float | None = None  # the size the power is measured against; default |theory|
    # empirical spectral distances decay like d^{-β₀} up to a logarithm whose power is not known:
    # extrapolate with both c·d^{-β₀} and c·log(d)·d^{-β₀} and require 0 inside the envelope of the two
    log_correction: bool = False
    # where set, the spread of the samples (their SD) must itself shrink like d^{-spread_rate}: an outlier
    # fluctuates on the scale d^-½ while the bias of its mean is O(1/d)
    spread_rate: float | None = None


@dataclass
class LinearFit:
    coef: np.ndarray
    cov: np.ndarray
    chi2: float
    dof: int

    @property
    def p_value(self) -> float:
        return float(scipy.stats.chi2.sf(self.chi2, self.dof)) if self.dof > 0 else 1.0


def wls(X: np.ndarray, y: np.ndarray, se: np.ndarray) -> LinearFit:
    """Weighted least squares with known standard errors, Birge-inflated covariance."""
    w = 1.0 / se**2
    A = X.T @ (X * w[:, None])
    b = X.T @ (w * y)
    coef = np.linalg.solve(A, b)
    resid = (y - X @ coef) / se
    chi2 = float(resid @ resid)
    dof = len(y) - X.shape[1]
    cov = np.linalg.inv(A)
    if dof > 0 and chi2 / dof > 1:
        cov = cov * (chi2 / dof)
    return LinearFit(coef, cov, chi2, dof)


def extrapolate(d, y, se, beta0, log_correction: bool = False) -> LinearFit:
    """y(d) = y∞ + c·d^{-β₀} (times log d with ``log_correction``); coef = (y∞, c)."""
    d = np.asarray(d, dtype=float)
    basis = d ** (-beta0) * (np.log(d) if log_correction else 1.0)
    X = np.stack([np.ones_like(d), basis], axis=1)
    return wls(X, np.asarray(y, float), np.asarray(se, float))


def fit_rate(d, g, se):
    """Free power law g = c·d^{-β} (nonlinear WLS): (β, SE(β), c)."""
    d = np.asarray(d, float)
    g = np.asarray(g, float)
    se = np.asarray(se, float)
    # start from the log-log slope of the largest-magnitude points
    sign = np.sign(g[np.argmax(np.abs(g) / se)]) or 1.0
    c0 = float(g[0] * d[0])
    try:
        with warnings.catch_warnings():
            # a flat gap has an undetermined β: that shows as an infinite SE, not a warning
            warnings.simplefilter("ignore", scipy.optimize.OptimizeWarning)
            popt, pcov = scipy.optimize.curve_fit(
                lambda x, c, b: c * x ** (-b), d, g, p0=(c0 if c0 else sign, 1.0), sigma=se, absolute_sigma=True, maxfev=20000
            )
    except (RuntimeError, ValueError):
        return float("nan"), float("inf"), float("nan")
    if not np.all(np.isfinite(pcov)):
        return float(popt[1]), float("inf"), float(popt[0])
    resid = (g - popt[0] * d ** (-popt[1])) / se
    dof = len(d) - 2
    scale = max(1.0, float(resid @ resid) / dof) if dof > 0 else 1.0
    return float(popt[1]), float(np.sqrt(pcov[1, 1] * scale)), float(popt[0])


@dataclass
class Verdict:
    status: str
    reasons: list
    numbers: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"status": self.status, "reasons": self.reasons, **self.numbers}


def judge(d, mc_mean, mc_se, theory_d, theory_inf=None, criteria: Criteria = Criteria()) -> Verdict:
    """The verdict for one observable on one ladder."""
    d = np.asarray(d, float)
    y = np.asarray(mc_mean, float)
    se = np.asarray(mc_se, float)
    T = np.asarray(theory_d, float)
    if np.any(se <= 0) or not np.all(np.isfinite(se)):
        return Verdict(FAIL, ["a standard error is zero or not finite: too few samples"], {})
    g = y - T
    reasons, fails, undetermined = [], [], []
    numbers = {"z_per_d": [float(v) for v in g / se], "gap_per_d": [float(v) for v in g]}

    fits = [extrapolate(d, g, se, criteria.beta0, False)]
    if criteria.log_correction:
        fits.append(extrapolate(d, g, se, criteria.beta0, True))
    fit = fits[0]
    ests = [(float(f.coef[0]), float(np.sqrt(f.cov[0, 0]))) for f in fits]
    lo_env = min(v - criteria.z * e for v, e in ests)
    hi_env = max(v + criteria.z * e for v, e in ests)
    g_inf, se_inf = ests[0]
    if criteria.scale is not None:
        ref = float(criteria.scale)
    else:
        ref = float(abs(theory_inf)) if theory_inf is not None else float(abs(T[-1]))
    # the half-width of the envelope is what an error must exceed to be seen
    half_width = (hi_env - lo_env) / 2
    numbers.update(
        gap_inf=g_inf,
        gap_inf_se=se_inf,
        gap_fit_c=float(fit.coef[1]),
        gap_fit_chi2=fit.chi2,
        gap_fit_dof=fit.dof,
        gap_fit_p=fit.p_value,
        min_detectable_rel=half_width / ref if ref > 0 else float("inf"),
    )
    if criteria.log_correction:
        numbers.update(gap_inf_log=ests[1][0], gap_inf_log_se=ests[1][1], gap_inf_envelope=[lo_env, hi_env])
        if not lo_env <= 0 <= hi_env:
            fails.append(
                f"extrapolated gap envelope [{lo_env:.3e}, {hi_env:.3e}] (fits c·d^-β₀ and c·log d·d^-β₀, ± {criteria.z:g} SE) excludes 0"
            )
        else:
            reasons.append(
                f"extrapolated gap {ests[0][0]:.3e} (c·d^-β₀) / {ests[1][0]:.3e} (c·log d·d^-β₀), envelope ± {criteria.z:g} SE "
                f"[{lo_env:.2e}, {hi_env:.2e}] contains 0"
            )
    elif abs(g_inf) > criteria.z * se_inf:
        fails.append(f"extrapolated gap {g_inf:.3e} ± {se_inf:.1e} is {abs(g_inf) / se_inf:.1f} SE from 0 (> {criteria.z:g})")
    else:
        reasons.append(f"extrapolated gap {g_inf:.3e} ± {se_inf:.1e} consistent with 0 ({abs(g_inf) / se_inf:.1f} SE)")
    fit = max(fits, key=lambda f: f.p_value)  # the better of the finite-size forms must describe the data
    if fit.p_value < criteria.p_min:
        form = f"c·d^-{criteria.beta0:g}" + (f" nor g∞ + c·log(d)·d^-{criteria.beta0:g}" if criteria.log_correction else "")
        fails.append(f"gap is not of the form g∞ + {form} (best χ² = {fit.chi2:.1f} on {fit.dof} dof, p = {fit.p_value:.1e})")

    # d = ∞: extrapolate the Monte Carlo itself and compare with the limit theory
    if theory_inf is not None:
        fy = extrapolate(d, y, se, criteria.beta0)
        y_inf, y_inf_se = float(fy.coef[0]), float(np.sqrt(fy.cov[0, 0]))
        dev = y_inf - float(theory_inf)
        numbers.update(mc_inf=y_inf, mc_inf_se=y_inf_se, theory_inf=float(theory_inf))
        if abs(dev) > criteria.z * y_inf_se:
            fails.append(f"MC extrapolated to d=∞, {y_inf:.6g} ± {y_inf_se:.1e}, misses the d=∞ theory {float(theory_inf):.6g} "
                         f"by {abs(dev) / y_inf_se:.1f} SE")
        else:
            reasons.append(f"MC at d=∞ {y_inf:.6g} ± {y_inf_se:.1e} agrees with theory {float(theory_inf):.6g} "
                           f"({abs(dev) / y_inf_se:.1f} SE)")
        numbers["min_detectable_rel"] = max(numbers["min_detectable_rel"], criteria.z * y_inf_se / ref if ref > 0 else float("inf"))

    # rate: only when the gap is resolved
    chi0 = float(np.sum((g / se) ** 2))
    p0 = float(scipy.stats.chi2.sf(chi0, len(d)))
    numbers.update(null_gap_chi2=chi0, null_gap_p=p0)
    if p0 < 1e-3:
        beta, beta_se, c = fit_rate(d, g, se)
        numbers.update(beta=beta, beta_se=beta_se, rate_c=c, rate_resolved=True)
        if not (np.isfinite(beta) and np.isfinite(beta_se)):
            # a gap too flat or too noisy to pin β: the rate is unknown, which is not evidence against the theory
            undetermined.append(f"the gap's rate is undetermined (fit β = {beta:.2f} ± {beta_se:.2f}): not judged")
        elif abs(beta - criteria.beta0) > criteria.beta_tol + 2 * beta_se:
            fails.append(f"fitted rate β = {beta:.2f} ± {beta_se:.2f}, expected {criteria.beta0:g} "
                         f"(tolerance {criteria.beta_tol:g} + 2 SE)")
        else:
            reasons.append(f"gap shrinks like d^-{beta:.2f} ± {beta_se:.2f} (expected {criteria.beta0:g})")
    else:
        numbers.update(beta=None, beta_se=None, rate_resolved=False)
        reasons.append(f"gap not resolved from 0 at the 1e-3 level (χ² = {chi0:.1f} on {len(d)} dof, p = {p0:.1e}): rate not fitted")

    if fails:
        return Verdict(FAIL, fails + undetermined + reasons, numbers)
    if undetermined:
        return Verdict(INCONCLUSIVE, undetermined + reasons, numbers)
    if numbers["min_detectable_rel"] > criteria.resolution:
        of = "of the theory" if criteria.scale is None else f"of the reference size {criteria.scale:.3g}"
        return Verdict(
            INCONCLUSIVE,
            [f"too little power: the smallest detectable error is {numbers['min_detectable_rel']:.2%} {of} "
             f"(> {criteria.resolution:.2%}); add seeds or larger d"] + reasons,
            numbers,
        )
    return Verdict(PASS, reasons, numbers)


def combine(statuses) -> str:
    statuses = list(statuses)
    if any(s == FAIL for s in statuses):
        return FAIL
    if any(s == INCONCLUSIVE for s in statuses):
        return INCONCLUSIVE
    return PASS if statuses else INCONCLUSIVE


def judge_rate(d, values, se, beta0: float, tol: float = 0.35) -> Verdict:
    """A pure rate test: values(d) = c·d^{-β} with β within tol + 2 SE of β₀ (e.g. the d^-½ fluctuations of an outlier)."""
    beta, beta_se, c = fit_rate(d, values, se)
    numbers = {"beta": beta, "beta_se": beta_se, "rate_c": c, "values": [float(v) for v in values]}
    if not (np.isfinite(beta) and np.isfinite(beta_se)):
        return Verdict(INCONCLUSIVE, [f"the rate is undetermined (fit β = {beta:.2f} ± {beta_se:.2f}): not judged"], numbers)
    if abs(beta - beta0) > tol + 2 * beta_se:
        return Verdict(FAIL, [f"fitted rate β = {beta:.2f} ± {beta_se:.2f}, expected {beta0:g} (tolerance {tol:g} + 2 SE)"], numbers)
    return Verdict(PASS, [f"shrinks like d^-{beta:.2f} ± {beta_se:.2f} (expected {beta0:g})"], numbers)
