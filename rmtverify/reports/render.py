"""One renderer for every claim: a ClaimOutcome becomes ``<claim>.md``, ``<claim>.json`` and its figures.

Numbers that leave the engine keep their digits: Monte Carlo means, standard errors and theory values are
written to the JSON as ``repr`` strings (the shortest decimal that reads back as the same double). Every
file is written atomically.
"""

from __future__ import annotations

from pathlib import Path

from rmtverify.core.storage import atomic_write_text
from rmtverify.reports.figures import save_figure
from rmtverify.reports.html import write_claim_page
from rmtverify.reports.markdown import markdown_table, record_markdown, write_json


def _r(x) -> str | None:
    return None if x is None else repr(float(x))


def _fmt(x, spec: str = ".6g") -> str:
    return "—" if x is None else format(float(x), spec)


def figure_file(outcome, name: str) -> str:
    return f"{outcome.name}-{name}.png"


def all_figures(outcome) -> list:
    """(file name, Figure) for every figure of the outcome: the claim's, its sections', each point's."""
    out = [(figure_file(outcome, f.name), f) for f in outcome.figures]
    for sec in outcome.sections + outcome.appendix:
        out += [(figure_file(outcome, f.name), f) for f in sec.figures]
    for r in outcome.points:
        out += [(figure_file(outcome, f.name), f) for f in r.figures]
    return out


# --------------------------------------------------------------------------- Markdown


def _section_md(sec, outcome, level: str = "##") -> list:
    lines = [f"{level} {sec.title}", ""] if sec.title else []
    for par in sec.text:
        lines += [par, ""] if not par.startswith("- ") else [par]
    if sec.text and sec.text[-1].startswith("- "):
        lines.append("")
    for t in sec.tables:
        lines += [markdown_table(t.header, t.rows), ""]
    for f in sec.figures:
        lines += _figure_md(outcome, f)
    return lines


def _figure_md(outcome, f) -> list:
    lines = [f"![{f.title or f.name}]({figure_file(outcome, f.name)})", ""]
    if f.caption:
        lines += [f"*{f.caption}*", ""]
    return lines


#: (gap, SE) keys a sub-test's numbers may carry, in order of preference
GAP_KEYS = (("gap_inf", "gap_inf_se"), ("rel_gap", "rel_gap_se"), ("mean_margin", "se"), ("mean", "se"), ("gap", "se"))


def gap_and_se(numbers: dict) -> tuple:
    """The (gap, SE) a sub-test reports (None, None when it has none: a power or a shortcut check)."""
    for g, s in GAP_KEYS:
        if isinstance(numbers.get(g), (int, float)) and isinstance(numbers.get(s), (int, float)):
            return float(numbers[g]), float(numbers[s])
    return None, None


def subtest_rows(r) -> list:
    """One row per judged observable (its g∞) and per sub-test of a point: name, gap, SE, z, verdict, counted."""
    rows = []
    items = [(f"{o.label}: g∞", o.status, o.verdict.numbers, True) for o in r.observables.values() if o.verdict is not None]
    items += [(t.name, t.status, t.numbers, t.counted) for t in r.subtests]
    for name, status, numbers, counted in items:
        gap, se = gap_and_se(numbers)
        if gap is None:
            rows.append([name, "—", "—", "—", status, "yes" if counted else "no"])
            continue
        z = gap / se if se > 0 else float("nan")
        rows.append([name, f"{gap:+.3e}", f"{se:.2e}", f"{z:+.1f}", status, "yes" if counted else "no"])
    return rows


def _point_md(outcome, r) -> list:
    lines = [f"### {r.title}", ""]
    if r.summary:
        lines += [r.summary, ""]
    rows = []
    for o in r.observables.values():
        for i, d in enumerate(o.d):
            gap = o.mean[i] - o.theory_d[i]
            z = gap / o.se[i] if o.se[i] > 0 else float("nan")
            rows.append([o.label, d, o.n[i], o.seeds, _fmt(o.mean[i]), _fmt(o.se[i], ".1e"), _fmt(o.theory_d[i]), f"{gap:+.2e}",
                         f"{z:+.1f}"])
    if rows:
        lines += [markdown_table(["observable", "d", "n", "K", "MC mean", "SE", "theory(d)", "gap", "z"], rows), ""]
    table = subtest_rows(r)
    if table:
        lines += ["Sub-tests (gap = the quantity tested, its standard error and z = gap/SE; g∞ is the gap MC − theory extrapolated to "
                  "d = ∞; a qualitative check is shown, not counted):", "",
                  markdown_table(["sub-test", "gap", "SE", "z", "verdict", "counted"], table), ""]
    for o in r.observables.values():
        if o.verdict is None:
            lines.append(f"- {o.label}: shown, not judged")
            continue
        v = o.verdict.numbers
        head = f"- **{o.label}: {o.status}**"
        if "gap_inf" in v:
            size = "the theory" if o.criteria.scale is None else "the reference size"
            head += f" (g∞ = {v['gap_inf']:.3e} ± {v['gap_inf_se']:.1e}; smallest detectable error {v['min_detectable_rel']:.3g} of {size})"
        lines.append(head + " — " + "; ".join(o.verdict.reasons))
    for t in r.subtests:
        bold, note = ("**", "**") if t.counted else ("", " (shown, not counted)")
        lines.append(f"- {bold}{t.name}: {t.status}{note} — " + "; ".join(t.reasons))
    lines.append("")
    for f in r.figures:
        lines += _figure_md(outcome, f)
    return lines


def markdown(outcome) -> str:
    head = f"# {outcome.spec} — {outcome.name}: {outcome.title}" if outcome.spec else f"# {outcome.name}: {outcome.title}"
    verdict = f"**Verdict: {outcome.status}** — {outcome.summary}"
    if outcome.perturb not in ("0", ""):
        verdict += f"; theory perturbed on purpose by ε = {outcome.perturb}"
    lines = [head, "", verdict, "", f"Claim: {outcome.statement}", ""]
    if outcome.method:
        lines += ["## Method", ""] + list(outcome.method) + [""]
    for sec in outcome.sections:
        lines += _section_md(sec, outcome)
    if outcome.points:
        lines += ["## Results", ""]
        for r in outcome.points:
            lines += _point_md(outcome, r)
    if outcome.tests:
        lines += ["## Claim-level sub-tests", ""]
        lines += [f"- **{t.name}: {t.status}** — " + "; ".join(t.reasons) for t in outcome.tests] + [""]
    for sec in outcome.appendix:
        lines += _section_md(sec, outcome)
    for f in outcome.figures:
        lines += _figure_md(outcome, f)
    lines.append(record_markdown(outcome.record))
    return "\n".join(lines)


# --------------------------------------------------------------------------- JSON


def _verdict_json(v) -> dict | None:
    return None if v is None else v.as_dict()


def _observable_json(o) -> dict:
    return {
        "label": o.label,
        "d": list(o.d),
        "n": list(o.n),
        "seeds": o.seeds,
        "mc_mean": [_r(x) for x in o.mean],
        "mc_se": [_r(x) for x in o.se],
        "mc_sd": [_r(x) for x in o.sd],
        "theory_d": [_r(x) for x in o.theory_d],
        "theory_inf": _r(o.theory_inf),
        "criteria": None if o.criteria is None else dict(o.criteria.__dict__),
        "status": o.status,
        "verdict": _verdict_json(o.verdict),
        **o.extra,
    }


def _subtest_json(t) -> dict:
    return {"name": t.name, "status": t.status, "counted": t.counted, "reasons": t.reasons, **t.numbers}


def as_json(outcome) -> dict:
    out = {
        "claim": outcome.name,
        "spec": outcome.spec,
        "title": outcome.title,
        "statement": outcome.statement,
        "status": outcome.status,
        "summary": outcome.summary,
        "perturb": outcome.perturb,
    }
    if outcome.points:
        out["points"] = [
            {
                "label": r.point.label,
                "key": r.point.key,
                "point": r.point.describe(),
                "seeds": r.seeds,
                "cache_hits": r.cache_hits,
                "details": r.details,
                "observables": {name: _observable_json(o) for name, o in r.observables.items()},
                "subtests": [_subtest_json(t) for t in r.subtests],
            }
            for r in outcome.points
        ]
    if outcome.tests:
        out["tests"] = [_subtest_json(t) for t in outcome.tests]
    out.update(outcome.data)
    out["figures"] = [name for name, _ in all_figures(outcome)]
    out["run"] = outcome.record
    return out


def write_outcome(outcome, out: Path) -> Path:
    """Write the claim's report files into ``out``; returns the Markdown path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures = all_figures(outcome)
    for name, fig in figures:
        save_figure(fig, out / name)
    write_json(out / f"{outcome.name}.json", as_json(outcome))
    write_claim_page(outcome, out, {id(fig): name for name, fig in figures})
    path = out / f"{outcome.name}.md"
    atomic_write_text(path, markdown(outcome))
    return path
