"""The HTML report: ``index.html`` and a page per claim and for the derivations, each self-contained.

Figures are embedded as data URIs and the style and the table script are inline, so a page opens from the file
system in any browser, with no network. Every claim page has the verdict, the claim, the method, a table of its
sub-tests (gap, SE, z, verdict; sortable by clicking a column, filterable by typing), the figures, and the run
record; the index has the verdict table and the conventions; the derivations page every step with its checks.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from rmtverify.core.storage import atomic_write_text

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1200px;margin:1.5em auto;padding:0 1em;color:#1b1b1b;
line-height:1.45}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left}
th{background:#f3f3f3;cursor:pointer;user-select:none}th.sorted-asc::after{content:" ▲"}th.sorted-desc::after{content:" ▼"}
.PASS{color:#176b26;font-weight:600}.FAIL{color:#b00020;font-weight:600}.INCONCLUSIVE{color:#8a5a00;font-weight:600}
.ERROR{color:#b00020;font-weight:600}
.verdict{font-size:1.15em;padding:.4em .6em;background:#f7f7f7;border-left:4px solid #888}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.85em;color:#555}
input.filter{margin:.3em 0;padding:.3em;width:24em}code{background:#f3f3f3;padding:0 .2em}
nav a{margin-right:1em}.small{font-size:.85em;color:#555}
"""

SCRIPT = """
document.querySelectorAll('table.sortable').forEach(function(table){
  var heads = table.querySelectorAll('th');
  heads.forEach(function(th, col){
    th.addEventListener('click', function(){
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var asc = !th.classList.contains('sorted-asc');
      heads.forEach(function(h){ h.classList.remove('sorted-asc', 'sorted-desc'); });
      th.classList.add(asc ? 'sorted-asc' : 'sorted-desc');
      rows.sort(function(a, b){
        var x = a.cells[col].textContent.trim(), y = b.cells[col].textContent.trim();
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function(r){ body.appendChild(r); });
    });
  });
});
document.querySelectorAll('input.filter').forEach(function(input){
  var table = document.getElementById(input.dataset.table);
  input.addEventListener('input', function(){
    var q = input.value.toLowerCase();
    Array.prototype.forEach.call(table.tBodies[0].rows, function(r){
      r.style.display = r.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
    });
  });
});
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _page(title: str, body: list) -> str:
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">', f"<title>{_e(title)}</title>",
        f"<style>{STYLE}</style></head><body>", *body, f"<script>{SCRIPT}</script>", "</body></html>",
    ])


def _table(header, rows, table_id=None, sortable=True) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    cells = []
    for row in rows:
        tds = []
        for c in row:
            cls = f' class="{c}"' if c in ("PASS", "FAIL", "INCONCLUSIVE", "ERROR") else ""
            tds.append(f"<td{cls}>{_e(c)}</td>")
        cells.append("<tr>" + "".join(tds) + "</tr>")
    attrs = (f' id="{table_id}"' if table_id else "") + (' class="sortable"' if sortable else "")
    out = f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{''.join(cells)}</tbody></table>"
    if table_id:
        out = f'<input class="filter" data-table="{table_id}" placeholder="filter the rows (e.g. FAIL, E_gen, d=512)">' + out
    return out


def _paragraphs(lines) -> str:
    out, bullets = [], []
    for line in lines:
        if line.startswith("- "):
            bullets.append(f"<li>{_e(line[2:])}</li>")
            continue
        if bullets:
            out.append("<ul>" + "".join(bullets) + "</ul>")
            bullets = []
        out.append(f"<p>{_e(line)}</p>")
    if bullets:
        out.append("<ul>" + "".join(bullets) + "</ul>")
    return "\n".join(out)


def _figure(name: str, folder: Path, title: str = "", caption: str = "") -> str:
    path = Path(folder) / name
    if not path.exists():
        return f'<p class="small">(figure {_e(name)} missing)</p>'
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{_e(title or name)}" src="data:image/png;base64,{data}">{cap}</figure>'


def _record(record: dict) -> str:
    rows = [[k, json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, (dict, list)) else v] for k, v in record.items()]
    return "<h2>Run record</h2>" + _table(["field", "value"], rows, sortable=False)


def _z(gap, se) -> str:
    return f"{gap / se:+.2f}" if se else "—"


def subtest_rows(outcome) -> list:
    """One row per judged sub-test: point, sub-test, g∞ (or the mean), its SE, z, verdict."""
    rows = []
    for r in outcome.points:
        for o in r.observables.values():
            if o.verdict is None:
                rows.append([r.point.label, o.label, "—", "—", "—", "shown"])
                continue
            v = o.verdict.numbers
            g, se = v.get("gap_inf"), v.get("gap_inf_se")
            rows.append([r.point.label, o.label, f"{g:.3e}" if g is not None else "—", f"{se:.2e}" if se else "—",
                         _z(g, se) if g is not None else "—", o.status])
        for t in r.subtests:
            m, se = t.numbers.get("mean", t.numbers.get("mean_margin")), t.numbers.get("se")
            rows.append([r.point.label, t.name + ("" if t.counted else " (not counted)"), f"{m:.3e}" if m is not None else "—",
                         f"{se:.2e}" if se else "—", _z(m, se) if m is not None and se else "—", t.status])
    for t in outcome.tests:
        rows.append(["(claim)", t.name, "—", "—", "—", t.status])
    return rows


def claim_page(outcome, folder: Path, figure_names: dict) -> str:
    """The page of one claim; ``figure_names`` maps each Figure to its PNG file in ``folder``."""
    head = f"{outcome.spec} — {outcome.name}: {outcome.title}" if outcome.spec else f"{outcome.name}: {outcome.title}"
    body = ['<nav><a href="index.html">← all reports</a><a href="derivations.html">derivations</a></nav>', f"<h1>{_e(head)}</h1>",
            f'<p class="verdict">Verdict: <span class="{outcome.status}">{_e(outcome.status)}</span> — {_e(outcome.summary)}'
            + (f"; theory perturbed on purpose by ε = {_e(outcome.perturb)}" if outcome.perturb not in ("0", "") else "") + "</p>",
            f"<p><b>Claim.</b> {_e(outcome.statement)}</p>"]
    if outcome.method:
        body += ["<h2>Method</h2>", _paragraphs(outcome.method)]
    for sec in outcome.sections:
        body += [f"<h2>{_e(sec.title)}</h2>", _paragraphs(sec.text), *[_table(t.header, t.rows) for t in sec.tables]]
        body += [_figure(figure_names[id(f)], folder, f.title, f.caption) for f in sec.figures]
    if outcome.points:
        body += ["<h2>Sub-tests</h2>", '<p class="small">g∞: the gap MC − theory extrapolated to d = ∞ (for a sign test, the mean '
                 "paired difference); z = g∞/SE. Click a column to sort.</p>",
                 _table(["point", "sub-test", "g∞ / mean", "SE", "z", "verdict"], subtest_rows(outcome), "subtests")]
        body.append("<h2>Results per point</h2>")
        for r in outcome.points:
            body.append(f"<h3>{_e(r.title)}</h3>")
            if r.summary:
                body.append(f"<p>{_e(r.summary)}</p>")
            rows = [[o.label, d, o.n[i], o.seeds, f"{o.mean[i]:.6g}", f"{o.se[i]:.1e}", f"{o.theory_d[i]:.6g}",
                     f"{o.mean[i] - o.theory_d[i]:+.2e}", _z(o.mean[i] - o.theory_d[i], o.se[i])]
                    for o in r.observables.values() for i, d in enumerate(o.d)]
            body.append(_table(["observable", "d", "n", "K", "MC mean", "SE", "theory(d)", "gap", "z"], rows))
            body += [_figure(figure_names[id(f)], folder, f.title, f.caption) for f in r.figures]
    for sec in outcome.appendix:
        body += [f"<h2>{_e(sec.title)}</h2>", _paragraphs(sec.text), *[_table(t.header, t.rows) for t in sec.tables]]
        body += [_figure(figure_names[id(f)], folder, f.title, f.caption) for f in sec.figures]
    body += [_figure(figure_names[id(f)], folder, f.title, f.caption) for f in outcome.figures]
    body.append(_record(outcome.record))
    return _page(head, body)


def derivations_page(data: dict) -> str:
    body = ['<nav><a href="index.html">← all reports</a></nav>', "<h1>Derivations</h1>",
            f'<p class="verdict">Status: <span class="{data["status"]}">{_e(data["status"])}</span></p>',
            "<p>Each step is an identity checked (a) symbolically — the residual must simplify to exactly 0 — and (b) at random "
            "rational points at 50 digits; (c) library checks compare the library with an independent evaluation.</p>"]
    for d in data.get("derivations", []):
        body.append(f'<h2 id="{_e(d["name"])}">{_e(d["name"])} — {_e(d["title"])} '
                    f'<span class="{d["status"]}">{_e(d["status"])}</span></h2>')
        rows = [[c["kind"], c["target"], "PASS" if c["ok"] else "FAIL", c["detail"], c["seconds"]] for c in d["checks"]]
        body.append(_table(["check", "step", "status", "detail", "s"], rows, f"checks-{d['name']}"))
    if "run" in data:
        body.append(_record(data["run"]))
    return _page("rmtverify — derivations", body)


def index_page(entries: list, conventions: str, record: dict) -> str:
    rows = []
    for e in entries:
        page = Path(e["file"]).with_suffix(".html").name if e.get("file") else None
        link = f'<a href="{_e(page)}">{_e(e["name"])}</a>' if page else _e(e["name"])
        rows.append(f'<tr><td>{link}</td><td>{_e(e.get("spec", ""))}</td><td class="{e["status"]}">{_e(e["status"])}</td>'
                    f'<td>{_e(e.get("summary", ""))}</td></tr>')
    table = ('<table class="sortable" id="index"><thead><tr><th>report</th><th>SPEC</th><th>verdict</th><th>summary</th></tr></thead>'
             f"<tbody>{''.join(rows)}</tbody></table>")
    body = ["<h1>rmtverify — validation reports</h1>",
            "<p>Regenerate with <code>rmtverify report</code> (the full ladder) or <code>rmtverify report --quick</code>.</p>",
            table, "<h2>Conventions</h2>", f"<p>{_e(conventions)}</p>", _record(record)]
    return _page("rmtverify — validation reports", body)


def write_claim_page(outcome, folder: Path, figure_names: dict) -> Path:
    path = Path(folder) / f"{outcome.name}.html"
    atomic_write_text(path, claim_page(outcome, folder, figure_names))
    return path


def write_derivations_page(data: dict, folder: Path) -> Path:
    path = Path(folder) / "derivations.html"
    atomic_write_text(path, derivations_page(data))
    return path


def write_index_page(entries: list, conventions: str, record: dict, folder: Path) -> Path:
    path = Path(folder) / "index.html"
    atomic_write_text(path, index_page(entries, conventions, record))
    return path
