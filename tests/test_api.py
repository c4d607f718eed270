"""Claims anyone can write (SPEC §9): claim files and derivation files, verified by the built-in engine.

A claim file in the minimal form PASSes; the same with --perturb 0.01 FAILs; a plausible but wrong formula
(the wrong effective ridge) FAILs. A file that does not import, raises, returns NaN, misses an observable or
names an unknown model ends in one line naming the file, the function and the point (exit 2).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

MINIMAL = '''
import math
from rmtverify.api import equivalents

name = "my-claim-test"             # used for report file names
statement = "E_gen of masked SSR at its deterministic equivalent"
points = [{"model": "ar1", "rho": "0.6", "alpha": "2", "lam": "0.2"},
          {"model": "isotropic", "alpha": "0.5", "lam": "0.3"}]
rate = 1.0                         # expected beta of the gap c*d^-beta (optional, default 1)

def observe(sample, point):        # one Monte Carlo sample -> {observable: float}
    A = sample.A_hat(point.lam)
    B = A - __import__("numpy").eye(sample.d)
    return {"e_gen": float((B * (sample.Sigma @ B)).sum() / sample.d)}

def theory(point, d):              # d an int, or math.inf -> {observable: number or decimal string}
    if d == math.inf:
        return {"e_gen": equivalents(point.model, point.alpha, point.lam, d=d, dps=30).as_dict()["e_gen"]}
    return {"e_gen": equivalents(point.model, point.alpha_at(d), point.lam, d=d, dps=None).e_gen}
'''


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


def _status(directory, claim):
    return json.loads((Path(directory) / f"{claim}.json").read_text())["status"]


@pytest.fixture(scope="module")
def claim_runs(tmp_path_factory):
    """The two worked examples and the minimal form, each correct and perturbed, sharing one cache."""
    import contextlib
    import io

    from rmtverify.cli import main

    base = tmp_path_factory.mktemp("claim-files")
    files = {"resolvent-traces": EXAMPLES / "resolvent_traces.py", "ridge-teacher": EXAMPLES / "ridge_teacher.py",
             "my-claim": EXAMPLES / "minimal_claim.py", "my-claim-test": _write(base, "my_claim.py", MINIMAL)}
    wrong = (EXAMPLES / "ridge_teacher.py").read_text().replace("t.kappa * (t.df1 - t.df2)", "lam * (t.df1 - t.df2)").replace(
        "    a = t.ctx", "    lam = t.ctx.mpf(point.lam.numerator) / point.lam.denominator\n    a = t.ctx")
    assert wrong != (EXAMPLES / "ridge_teacher.py").read_text()
    files["wrong-ridge"] = _write(base, "wrong_ridge.py", wrong)
    rc = {}
    for which, extra in (("good", []), ("bad", ["--perturb", "0.01"])):
        for name, path in files.items():
            if name == "wrong-ridge" and which == "bad":
                continue
            out, folder = io.StringIO(), base / (which if name != "wrong-ridge" else "wrong")
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                rc[(which, name)] = main(["verify", str(path), "--quick", "--out", str(folder), "--cache-dir", str(base / "cache"),
                                          "--quiet", *extra])
    return {"rc": rc, "dir": base}


@pytest.mark.parametrize("claim", ["resolvent-traces", "ridge-teacher", "my-claim", "my-claim-test"])
def test_a_correct_claim_file_passes_and_a_perturbed_one_fails(claim_runs, claim):
    assert claim_runs["rc"][("good", claim)] == 0 and _status(claim_runs["dir"] / "good", claim) == "PASS"
    assert claim_runs["rc"][("bad", claim)] == 1 and _status(claim_runs["dir"] / "bad", claim) == "FAIL"
    data = json.loads((claim_runs["dir"] / "good" / f"{claim}.json").read_text())
    assert data["run"]["parameters"]["source"].endswith(".py")
    assert all(o["status"] == "PASS" for p in data["points"] for o in p["observables"].values())
    assert (claim_runs["dir"] / "good" / f"{claim}.md").read_text().count("![") == len(data["points"])


def test_the_wrong_effective_ridge_fails(claim_runs):
    """Ridge's bias with λ where κ belongs: a plausible formula, and wrong."""
    assert claim_runs["rc"][("good", "wrong-ridge")] == 1
    data = json.loads((claim_runs["dir"] / "wrong" / "ridge-teacher.json").read_text())
    assert data["status"] == "FAIL" and all(o["status"] == "FAIL" for p in data["points"] for o in p["observables"].values())


BROKEN = {
    "syntax": ("name = 'x'\ndef observe(:\n", "import", "SyntaxError"),
    "raises": (MINIMAL.replace('A = sample.A_hat(point.lam)', 'raise RuntimeError("boom")'), "observe(sample, point) at point ar1",
               "RuntimeError: boom"),
    "nan": (MINIMAL.replace('return {"e_gen": equivalents(point.model, point.alpha_at(d)',
                            'return {"e_gen": float("nan") + 0 * equivalents(point.model, point.alpha_at(d)'),
            "theory(point, ", "not finite"),
    "missing": (MINIMAL.replace('return {"e_gen": float(', 'return {"e_gen_typo": float('), "observe(sample, point) at point ar1",
                "misses the observable(s) e_gen"),
    "model": (MINIMAL.replace('"model": "ar1"', '"model": "ar2"'), "points[0]", "unknown model 'ar2'"),
    "option": (MINIMAL.replace('"rho": "0.6"', '"rho": "1.5"'), "points[0]", "rho"),
    "no-theory": (MINIMAL.replace("def theory(point, d):", "def theory_(point, d):"), "theory", "is missing"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_claim_file_is_one_line_naming_file_function_and_point(cli, tmp_path, case):
    text, where, what = BROKEN[case]
    path = _write(tmp_path, f"broken_{case}.py", text)
    rc, out, err = cli("verify", str(path), "--quick", "--out", str(tmp_path / "out"), "--no-cache", "--quiet")
    assert rc == 2, (out, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert str(path) in err and where in err and what in err, err


def test_report_adds_the_claim_files_of_a_folder(cli, tmp_path, monkeypatch):
    from rmtverify.reports import suite

    folder = tmp_path / "claims"
    folder.mkdir()
    _write(folder, "mine.py", MINIMAL.replace('"my-claim-test"', '"mine"'))
    monkeypatch.setattr(suite, "_derivation_names", lambda: ["kappa"])
    monkeypatch.setattr("rmtverify.verification.registry.builtin_claims", lambda: {})
    rc, out, err = cli("report", "--quick", "--claims", str(folder), "--out", str(tmp_path / "r"), "--jobs", "1", "--quiet")
    assert rc == 0, out + err
    index = (tmp_path / "r" / "index.md").read_text()
    assert "[mine](mine.md)" in index and "**PASS**" in index
    _write(folder, "clash.py", MINIMAL.replace('"my-claim-test"', '"mine"'))
    rc, out, err = cli("report", "--quick", "--claims", str(folder), "--out", str(tmp_path / "r2"))
    assert rc == 2 and "already the name" in err


def test_a_claim_file_runs_in_worker_processes_with_the_serial_numbers(cli, tmp_path):
    path = EXAMPLES / "resolvent_traces.py"
    runs = {}
    for jobs in ("1", "2"):
        rc, out, err = cli("verify", str(path), "--quick", "--jobs", jobs, "--out", str(tmp_path / jobs), "--no-cache", "--quiet",
                           "--max-d", "512")
        assert rc == 0, out + err
        runs[jobs] = json.loads((tmp_path / jobs / "resolvent-traces.json").read_text())
    for p1, p2 in zip(runs["1"]["points"], runs["2"]["points"]):
        for name in p1["observables"]:
            assert p1["observables"][name]["mc_mean"] == p2["observables"][name]["mc_mean"]


def test_a_user_derivation_file_is_checked_three_ways(cli, tmp_path):
    rc, out, err = cli("derive", str(EXAMPLES / "derivation_resolvent.py"), "--out", str(tmp_path), "--json")
    assert rc == 0, err
    data = json.loads(out)
    kinds = [c["kind"] for c in data["derivations"][0]["checks"]]
    assert kinds.count("symbolic") == 2 and kinds.count("numeric") == 2 and kinds.count("library") == 1
    assert "Source:" in (tmp_path / "derivations.md").read_text()
    wrong = (EXAMPLES / "derivation_resolvent.py").read_text().replace("(1 + lam - gamma) * m - 1", "(1 + lam + gamma) * m - 1")
    path = _write(tmp_path, "wrong_derivation.py", wrong)
    rc, out, err = cli("derive", str(path), "--out", str(tmp_path / "w"))
    assert rc == 1 and "FAIL" in out and "marchenko-pastur" in out
    rc, out, err = cli("derive", str(tmp_path / "missing.py"), "--out", str(tmp_path / "m"))
    assert rc == 2 and "does not exist" in err


def test_the_readme_shows_the_minimal_example_as_it_is():
    readme = (EXAMPLES.parent / "README.md").read_text()
    body = (EXAMPLES / "minimal_claim.py").read_text().split('"""', 2)[2].strip()
    assert body in readme


def test_the_minimal_form_is_documented_as_written():
    """The guide and the claim-file module show the public contract exactly as issue 9 states it."""
    from rmtverify.verification import claimfile

    contract = 'def theory(point, d):              # d an int, or math.inf -> {observable: number or decimal string}'
    assert contract in (EXAMPLES / "README.md").read_text() and contract in claimfile.__doc__


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")))
def test_examples_are_short(path):
    assert len(path.read_text().splitlines()) < 60
