"""One engine verifies every claim: ladders, seeds, cache, executors, perturbation, verdicts, designs.

For each point of a claim: the theory at every d of the ladder and at d = ∞ (perturbed on purpose with
``--perturb``); K seeded Monte Carlo samples per d (cached, on any executor); each observable's mean ± SE
per d (plain, or with cross-fitted control variates); a verdict per observable (SPEC §5,
:func:`~rmtverify.verification.verdict.judge`); the claim's own sub-tests. With a sequential design a point
whose sub-tests lack power is rerun with more samples (Stein's two-stage design, on the standard errors
alone). The outcome is data (:mod:`rmtverify.verification.outcome`) for the renderer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from rmtverify.core.exceptions import InputError
from rmtverify.core.params import INF
from rmtverify.core.provenance import run_record
from rmtverify.montecarlo.engine import SAMPLERS, measure_ladder
from rmtverify.montecarlo.progress import sample_cost
from rmtverify.verification.claim import Claim, Point, RunOptions
from rmtverify.verification.outcome import ClaimOutcome, ObservableResult, PointResult, SubTest
from rmtverify.verification.statistics import estimate
from rmtverify.verification.verdict import PASS, combine, judge, judge_rate


@dataclass(frozen=True)
class ClaimRef:
    """How a worker process finds a claim: a built-in name, or a claim file (path and content hash)."""

    name: str
    path: str | None = None
    digest: str | None = None

    def resolve(self) -> Claim:
        from rmtverify.verification.registry import resolve

        return resolve(self)


@dataclass(frozen=True)
class ClaimMeasurement:
    """The picklable measurement the Monte Carlo engine runs for one point of a claim."""

    ref: ClaimRef
    version: str
    point: Point
    draw: str

    def key(self) -> str:
        code = self.version if self.ref.digest is None else f"{self.version}|sha256={self.ref.digest}"
        return f"claim:{self.ref.name}|v{code}|{self.point.key}|{self.point.canonical()}"

    def __call__(self, sample) -> dict:
        return self.ref.resolve().measure(sample, self.point)


def claim_ref(claim: Claim) -> ClaimRef:
    return ClaimRef(claim.name, claim.source, getattr(claim, "digest", None))


def _number(x) -> float:
    """A theory value (number or decimal string) as a float."""
    if isinstance(x, str):
        return float(Fraction(x)) if "/" in x else float(x)
    return float(x)


def next_seeds(k: int, shortfall: float, cap: int) -> int:
    """Stein's second stage: the pilot's K scaled by (1.2 · shortfall)², a multiple of 8, at most ``cap``."""
    if not np.isfinite(shortfall):
        return cap
    return min(cap, 8 * int(np.ceil(k * (1.2 * shortfall) ** 2 / 8)))


RATES = {0.5: "½", 2 / 3: "⅔", 1.0: "1"}


def spread_tests(result: PointResult) -> list:
    """For each judged observable whose criteria set a ``spread_rate``: its SD across samples against d must
    shrink at that rate (the SD of an SD estimated from K samples is ≈ SD/√(2(K − 1)))."""
    out = []
    for o in result.observables.values():
        rate = o.criteria.spread_rate if o.criteria is not None else None
        if rate is not None:
            v = judge_rate(o.d, o.sd, np.array(o.sd) / np.sqrt(2 * (o.seeds - 1)), rate)
            out.append(SubTest(f"{o.label}, SD across samples ∝ d^-{RATES.get(rate, f'{rate:g}')}", v.status, v.reasons, v.numbers))
    return out


def judge_point(claim: Claim, point: Point, prepared, run, theory_d: list, theory_inf, factor: float, k: int) -> PointResult:
    """Every observable's verdict at one point from its ladder of samples."""
    ladder = run.ladder
    observed = [[claim.observe(m, point, prepared, d) for m in run.values[g]] for g, d in enumerate(ladder)]
    results = {}
    observables = claim.observables_for(point)
    for o in observables:
        crit = claim.criteria(point, o, prepared)
        ests = []
        for g in range(len(ladder)):
            y = [s[o.name] for s in observed[g]]
            C = np.array([[m[c] for c in o.controls] for m in run.values[g]], dtype=float) if o.controls else None
            ests.append(estimate(y, C))
        mean = np.array([e.mean for e in ests])
        se = np.array([e.se for e in ests])
        th = np.array([_number(t[o.name]) * factor for t in theory_d])
        inf = theory_inf.get(o.name) if theory_inf else None
        th_inf = _number(inf) * factor if inf is not None else None
        verdict = judge(ladder, mean, se, th, th_inf, crit) if crit is not None else None
        results[o.name] = ObservableResult(
            o.name,
            o.title,
            list(ladder),
            list(run.ns),
            k,
            [float(x) for x in mean],
            [float(x) for x in se],
            [e.sd for e in ests],
            [float(x) for x in th],
            th_inf,
            crit,
            verdict,
            verdict.status if verdict is not None else "shown",
        )
    declared = {o.name for o in observables}
    aux = sorted({key for s in observed[0] for key in s} - declared) if observed and observed[0] else []
    auxiliary = {key: [float(np.mean([s[key] for s in observed[g]])) for g in range(len(ladder))] for key in aux}
    line, details = claim.details(point, prepared)
    return PointResult(
        point, claim.point_title(point), results, [], k, details, line, sum(run.hits),
        auxiliary=auxiliary, top_measured=run.values[-1], top_observed=observed[-1],
    )


def _theory(claim: Claim, point: Point, d, prepared) -> dict | None:
    values = claim.theory(point, d, prepared)
    if values is None:
        return None
    if not isinstance(values, dict):
        raise InputError("theory", f"must return a dict of observables; got {type(values).__name__} at d = {d}")
    return values


ONE_PERCENT = Fraction(1, 100)


def effects_of_one_percent(claim: Claim, point: Point, d) -> dict:
    """|theory(ε = 1%) − theory(ε = 0)| of every observable at dimension d: the change the error a claim must
    detect makes (for a theory perturbed in its equations, not simply 1% of its values)."""
    if claim.perturbation == "theory":
        off, exact = (_theory(claim, point, d, claim.prepare(point, e)) for e in (ONE_PERCENT, Fraction(0)))
        return {k: abs(_number(off[k]) - _number(exact[k])) for k in exact}
    exact = _theory(claim, point, d, claim.prepare(point, Fraction(0)))
    return {k: abs(_number(v)) / 100 for k, v in exact.items()}


def power_test(claim: Claim, result: PointResult, effects: dict) -> SubTest:
    """The claim's power at a point: one of ``claim.power_observables`` must have 4 SE(g∞) ≤ ``claim.power_ratio``
    times the change a 1% error makes in it."""
    ratios = [(4 * o.verdict.numbers["gap_inf_se"] / effects[k], k) for k, o in result.observables.items()
              if k in claim.power_observables and o.verdict is not None and effects.get(k, 0) > 0]
    if not ratios:
        return SubTest("power for a 1% error", "INCONCLUSIVE",
                       [f"no observable at {result.point.label} that a 1% error moves carries the power"])
    ratio, key = min(ratios)
    ok = ratio <= claim.power_ratio
    why = f"{result.observables[key].label}: 4 SE(g∞) / (change a 1% error makes) = {ratio:.3g} {'≤' if ok else '>'} {claim.power_ratio}"
    return SubTest("power for a 1% error", "PASS" if ok else "INCONCLUSIVE", [why], {"ratio": ratio, "observable": key})


def point_cost(point: Point, ladder: tuple) -> float:
    """The relative cost of one seed of a point over the ladder (a sample at each d), for progress and ETAs."""
    return sum(sample_cost(d, point.n(d)) for d in ladder)


def verify_point(claim: Claim, point: Point, options: RunOptions, ladder: tuple, seeds: int) -> PointResult:
    eps = Fraction(options.perturb)
    factor = float(1 + eps) if claim.perturbation == "scale" else 1.0
    prepared = claim.prepare(point, eps if claim.perturbation == "theory" else Fraction(0))
    theory_d = [_theory(claim, point, d, prepared) for d in ladder]
    for d, t in zip(ladder, theory_d):
        if t is None:
            raise InputError("theory", f"returned no values at d = {d} for point {point.label}")
    theory_inf = _theory(claim, point, INF, prepared)
    measurement = ClaimMeasurement(claim_ref(claim), claim.version, point, claim.draw)
    key = f"{claim.name}|{point.key}"
    ns = [point.n(d) for d in ladder]
    k, cap = seeds, max(seeds, claim.sequential_cap * seeds)
    effects = effects_of_one_percent(claim, point, ladder[-1]) if claim.needs_power(point) else None
    counted = 0  # samples per d already reported to the progress sink
    while True:
        if options.progress is not None and counted:
            options.progress.planned((k - counted) * point_cost(point, ladder), (k - counted) * len(ladder))  # an extension
        run = measure_ladder(
            measurement, point.model_for_sample, key, ladder, ns, k, options.seed, options.cache, options.executor,
            options.quiet, f"{claim.name} {point.label}", sink=options.progress, fresh_from=counted,
        )
        counted = k
        result = judge_point(claim, point, prepared, run, theory_d, theory_inf, factor, k)
        power = power_test(claim, result, effects) if effects is not None else None
        short = max(claim.shortfall(result, prepared), power.numbers.get("ratio", 0.0) / claim.power_ratio if power else 0.0)
        if claim.sequential_cap <= 1 or short <= 1 or k >= cap:
            break
        k = next_seeds(k, short, cap)
    if power is not None:
        result.subtests.append(power)
        result.details["effect_of_1pct_error"] = {k: repr(v) for k, v in effects.items()}
    result.subtests.extend(spread_tests(result))
    result.subtests.extend(claim.extra_tests(result, prepared))
    result.figures.extend(claim.figures_for(result, prepared))
    return result


def check_overrides(claim: Claim, options: RunOptions) -> None:
    """Refuse a data law or a data set the claim cannot take (InputError naming ``law`` or ``data``), before any work."""
    if options.data is not None and not claim.takes_data:
        raise InputError("data", f"claim {claim.name!r} verifies no data set: --data serves claims that take one (real-data, or a claim "
                                 "with takes_data = True)")
    if options.law is not None:
        if claim.ladders is None:
            raise InputError("law", f"claim {claim.name!r} has no Monte Carlo points whose rows a data law could draw")
        claim.points_run(options)


def run_claim(claim: Claim, options: RunOptions) -> ClaimOutcome:
    """Verify one claim; returns its outcome (the renderer writes it)."""
    check_overrides(claim, options)
    if claim.ladders is None:
        return claim.run(options)
    t0 = time.time()
    ladder = claim.ladder(options)
    seeds = claim.seeds_for(options)
    points = claim.points_run(options)
    law, nu = options.law or (None, None)
    if options.progress is not None:
        options.progress.planned(seeds * sum(point_cost(p, ladder) for p in points), seeds * len(ladder) * len(points))
    results = [verify_point(claim, p, options, ladder, seeds) for p in points]
    extra = claim.summarize(results, options) or {}
    statuses = [s for r in results for s in r.statuses()] + [t.status for t in extra.get("tests", []) if t.counted]
    status = combine(statuses)
    n_pass = sum(s == PASS for s in statuses)
    summary = extra.get("summary") or f"{n_pass}/{len(statuses)} sub-tests PASS over {len(points)} points, d = {ladder[0]}…{ladder[-1]}"
    k_max = max(r.seeds for r in results) if results else seeds
    seeds_text = f"{seeds} per d" + (f" (up to {k_max} where the sequential design extended a point)" if k_max > seeds else "")
    record = run_record(
        t0,
        {
            "sampler": SAMPLERS[claim.draw],
            "seeds": f"{seeds_text}; SeedSequence({options.seed}, spawn_key=(crc32('{claim.name}|<point key>'), d, i))",
            "parameters": {
                "ladder": list(ladder),
                "perturb": str(options.perturb),
                "cache_hits": options.cache.hits,
                "source": claim.source or "built-in",
                **({"law": law} if law is not None else {}),
                **({"nu": nu} if nu is not None else {}),
            },
        },
    )
    return ClaimOutcome(
        name=claim.name,
        spec=claim.spec,
        title=claim.title or claim.statement,
        statement=claim.statement,
        status=status,
        summary=summary,
        perturb=str(options.perturb),
        method=method_text(claim, ladder, seeds) + law_method(options.law),
        points=results,
        sections=extra.get("sections", []),
        appendix=extra.get("appendix", []),
        figures=extra.get("figures", []),
        record=record,
        data=extra.get("data", {}),
        tests=extra.get("tests", []),
    )


def law_method(law) -> list:
    """The Method line of a run whose rows follow another law (``verify --law``)."""
    if law is None:
        return []
    name = law[0] + (f" (ν = {law[1]})" if law[1] is not None else "")
    return [f"- Rows of law {name} at every point (verify --law; SPEC §7), drawn row by row (no Bartlett factor). Where the claim's "
            "theory is the deterministic equivalents, they are this law's: the elliptical equivalents for elliptical-t, the Gaussian "
            "ones (their universal limit) for i.i.d. entries; every other theory of the claim is the Gaussian one, so a FAIL says the "
            "claim does not carry over to this law."]


def method_text(claim: Claim, ladder: tuple, seeds: int) -> list:
    estimators = {"plain": "mean ± standard error (sample SD/√K)"}
    controls = sorted({c for o in claim.observables for c in o.controls})
    if controls:
        estimators["cv"] = "means with the control variates " + ", ".join(controls) + " regressed out, cross-fitted over 8 folds"
    out = [
        f"- Ladder d = {', '.join(map(str, ladder))}; n = round(αd); {seeds} independent samples per d"
        + (f" (a point short of power is extended up to {claim.sequential_cap}× by Stein's two-stage design, "
           "on its standard errors alone)" if claim.sequential_cap > 1 else "")
        + "; " + "; ".join(estimators.values()) + ".",
        "- Verdict (SPEC §5): the gap MC(d) − theory(d) is fitted as g∞ + c·d^-β₀ with β₀ the observable's expected rate; g∞ (and "
        "MC(∞) − theory(∞) where the theory has a limit) must be within 4 SE of 0; a resolved gap must shrink at β within "
        "0.35 + 2 SE of β₀; the fit must describe the data (χ² p ≥ 1e-4); PASS also needs power: 4·SE(g∞) ≤ the observable's "
        "resolution (0.5% of the theory unless stated), else INCONCLUSIVE.",
    ]
    return out + list(getattr(claim, "method", ()))
