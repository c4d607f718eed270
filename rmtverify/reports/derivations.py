"""``derivations.md`` and ``derivations.json``: every step of every derivation with its three checks."""

from __future__ import annotations

from pathlib import Path

from derivations.framework import DerivationReport
from rmtverify.core.provenance import run_record
from rmtverify.core.storage import atomic_write_text
from rmtverify.reports.html import write_derivations_page
from rmtverify.reports.markdown import markdown_table, record_markdown, write_json


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(reports: list[DerivationReport], started: float) -> str:
    ok = all(r.ok for r in reports)
    lines = [
        "# Derivations",
        "",
        f"**Status: {'PASS' if ok else 'FAIL'}** — {sum(r.ok for r in reports)}/{len(reports)} derivations pass every check.",
        "",
        "Each step is an identity checked (a) symbolically — the residual must simplify to exactly 0 — and "
        "(b) numerically at 3 random rational points at 50 digits (agreement to 45 digits). Steps marked "
        "'numeric only' rest on an independent numerical method (quadrature, a dense solve, a series) because "
        "SymPy cannot close them. (c) Library checks call the library function that evaluates a result and "
        "compare it with an independent evaluation at 50 digits.",
        "",
    ]
    for rep in reports:
        lines += [f"## {rep.name} — {rep.title}", "", f"Status: **{'PASS' if rep.ok else 'FAIL'}** ({rep.seconds:.1f} s)", ""]
        if rep.source:
            lines += [f"Source: `{rep.source}`", ""]
        lines += ["```", rep.summary.strip(), "```", ""]
        rows = []
        by_step = {}
        for o in rep.outcomes:
            by_step.setdefault((o.kind == "library", o.target), []).append(o)
        for name, claim, cite in rep.steps:
            outs = by_step.get((False, name), [])
            sym = next((o for o in outs if o.kind == "symbolic"), None)
            num = next((o for o in outs if o.kind == "numeric"), None)
            rows.append(
                [
                    f"`{name}`",
                    _cell(claim) + (f" *({cite})*" if cite else ""),
                    ("PASS" if sym.ok else "**FAIL**: " + _cell(sym.detail)) if sym else "numeric only",
                    ("PASS — " if num.ok else "**FAIL** — ") + _cell(num.detail) if num else "—",
                    f"{sum(o.seconds for o in outs):.2f}",
                ]
            )
        lines += [markdown_table(["step", "identity", "symbolic", "numeric (50 digits)", "s"], rows), ""]
        lib = [o for o in rep.outcomes if o.kind == "library"]
        if lib:
            lines += [
                markdown_table(
                    ["library check", "status", "detail", "s"],
                    [[f"`{o.target}`", "PASS" if o.ok else "**FAIL**", _cell(o.detail), f"{o.seconds:.2f}"] for o in lib],
                ),
                "",
            ]
    lines.append(record_markdown(run_record(started)))
    return "\n".join(lines)


def as_json(reports: list[DerivationReport]) -> dict:
    return {
        "status": "PASS" if all(r.ok for r in reports) else "FAIL",
        "derivations": [
            {
                "name": r.name,
                "title": r.title,
                **({"source": r.source} if r.source else {}),
                "status": "PASS" if r.ok else "FAIL",
                "failed_steps": r.failed_steps,
                "seconds": round(r.seconds, 3),
                "checks": [
                    {"kind": o.kind, "target": o.target, "ok": o.ok, "detail": o.detail, "seconds": round(o.seconds, 3)}
                    for o in r.outcomes
                ],
            }
            for r in reports
        ],
    }


def write_report(reports: list[DerivationReport], out: Path, started: float) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "derivations.md", markdown(reports, started))
    data = {**as_json(reports), "run": run_record(started)}
    write_json(out / "derivations.json", data)
    write_derivations_page(data, out)
    return out / "derivations.md"
