"""Reports: Markdown + JSON + PNG per claim, an index, and the record of every run.

All files are written atomically (temporary file, then rename): a run that is
interrupted leaves the previous report or the new one, never half of one.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from rmtverify.core.provenance import run_record
from rmtverify.core.storage import atomic_write_bytes, atomic_write_text

CONVENTIONS = (
    "X ∈ R^{n×d} with i.i.d. rows x ~ N(0, Σ); α = n/d; S = XᵀX/n; Q = (S + λI)^{-1}; D = diag(Q); "
    "Â = I − QD^{-1}; E_train = ‖X − XÂ‖²_F/(nd); E_gen = tr((I − Â)ᵀΣ(I − Â))/d; "
    "κ solves κ − λ = (κ/n) tr Σ(Σ + κI)^{-1}; R = (Σ + κI)^{-1}; df1 = tr ΣR, df2 = tr (ΣR)² "
    "(reported divided by d). (SPEC §1–§2)"
)


def fixed_layout(fig, **subplotpars) -> None:
    """Place the axes with fixed margins (fractions of the figure).

    Each claim's figures have one shape; the margins are what ``tight_layout`` chose for them on the
    reports, plus a little room. ``tight_layout`` would draw the whole figure once more to measure its
    text (0.17 s a figure, 3 s of a quick report)."""
    fig.subplots_adjust(**subplotpars)


def save_figure(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    # every figure is laid out by its claim (fixed_layout): a "tight" bounding box would draw it a second time
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def write_json(path: Path, data: dict) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def markdown_table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def record_markdown(record: dict) -> str:
    v = record["versions"]
    vtxt = ", ".join(f"{k} {val}" for k, val in v.items() if val is not None)
    lines = [
        "## Run record",
        "",
        f"- command: `{record['command']}`",
        f"- started (UTC): {record['started_utc']}; run time {record['seconds']} s",
        f"- machine: {record['machine']}",
        f"- versions: {vtxt}",
    ]
    for key in ("sampler", "seeds", "parameters"):
        if key in record:
            lines.append(f"- {key}: {record[key]}")
    return "\n".join(lines) + "\n"


def index_entries(out: Path) -> list[dict]:
    """The index entries of every report in ``out`` (derivations first, then the claims in SPEC order, then
    claim files), read back from their JSON files."""
    import json

    entries = []
    for path in sorted(Path(out).glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or "status" not in data:
            continue
        if path.stem == "derivations":
            n_ok = sum(d.get("status") == "PASS" for d in data.get("derivations", []))
            summary = f"{n_ok}/{len(data.get('derivations', []))} derivations pass"
            entries.append({"name": "derivations", "file": "derivations.md", "spec": "§2–§4", "status": data["status"], "summary": summary})
        elif "claim" in data:
            entries.append({"name": data["claim"], "file": f"{data['claim']}.md", "spec": data.get("spec") or "file",
                            "status": data["status"], "summary": data.get("summary", "")})
    order = {"derivations": "0", **{f"C{i}": f"1{i}" for i in range(1, 10)}}
    return sorted(entries, key=lambda e: (order.get(e["name"], order.get(e["spec"], "9")), e["name"]))


def write_index(out: Path, entries: list[dict] | None, started: float) -> Path:
    """``index.md`` of a report folder: one line per report, with its verdict (``entries=None``: every report the
    folder holds, read back, so that the index is rewritten whenever one report is)."""
    entries = index_entries(out) if entries is None else entries
    rows = [[f"[{e['name']}]({e['file']})" if e.get("file") else e["name"], e.get("spec", ""), f"**{e['status']}**", e.get("summary", "")]
            for e in entries]
    text = "\n".join(
        [
            "# rmtverify — validation reports",
            "",
            "Regenerate with `rmtverify report` (the full ladder) or `rmtverify report --quick`.",
            "",
            markdown_table(["report", "SPEC", "verdict", "summary"], rows),
            "",
            "## Conventions",
            "",
            CONVENTIONS,
            "",
            record_markdown(run_record(started)),
        ]
    )
    path = Path(out) / "index.md"
    atomic_write_text(path, text)
    from rmtverify.reports.html import write_index_page

    write_index_page(entries, CONVENTIONS, run_record(started), out)
    return path
