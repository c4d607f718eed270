"""``rmtverify verify`` and ``rmtverify report``: claims and derivations verified, reports written.

The units of a report are each derivation (nine of them, 1–10 s each), each built-in claim and each claim
file; they go to a pool of ``jobs`` spawned processes, longest first, so the pool drains evenly. Each
worker computes with one BLAS thread: the workers, not BLAS, use the cores. A claim's Monte Carlo runs
inside its worker (serially), or on a Dask cluster when the options name one. When the last derivation is
in, one more unit writes ``derivations.md``.
"""

from __future__ import annotations

from pathlib import Path

from rmtverify.core.exceptions import ClaimFileError, InputError
from rmtverify.montecarlo.executor import close_executors, one_thread_environment
from rmtverify.reports.render import write_outcome
from rmtverify.verification.engine import run_claim
from rmtverify.verification.registry import builtin_claims, get_claim

#: rough run times (s) of the quick suite, to schedule the longest work first
EXPECTED_SECONDS = {
    "pca-ar1": 30,
    "bbp": 20,
    "errors": 19,
    "spectrum": 9.5,
    "pca-spiked": 8,
    "ssr-closed-form": 0.1,
    "derive:train_gen": 7.5,
    "derive:bbp": 6,
    "derive:isotropic": 5.4,
    "derive:ar1": 2.9,
    "derive:pca": 2.7,
    "derive:spectrum": 2.4,
    "derive:kappa": 1.4,
    "derive:ssr_closed_form": 1.2,
    "derive:spiked": 1,
}
DERIVATIONS_ENTRY = "derivations"


def _derivation_names() -> list[str]:
    import derivations

    return list(derivations.NAMES)


def claim_files(directory) -> list[str]:
    """The claim files of a folder (``*.py``, sorted), each checked to load, with names unique across the report."""
    folder = Path(directory).expanduser()
    if not folder.is_dir():
        raise InputError("claims", f"{str(folder)!r} is not a folder of claim files")
    files = sorted(str(p.resolve()) for p in folder.glob("*.py") if not p.name.startswith("_"))
    if not files:
        raise InputError("claims", f"{str(folder)!r} holds no claim file (*.py)")
    names = {name: "built-in" for name in builtin_claims()}
    for f in files:
        claim = get_claim(f)
        if claim.name in names:
            raise ClaimFileError(f, "name", f"{claim.name!r} is already the name of {names[claim.name]}; report files would collide")
        names[claim.name] = f
    return files


def verify_and_write(name: str, options) -> dict:
    """Verify one claim (a built-in name or a claim file), write its report; the index entry."""
    claim = get_claim(name)
    outcome = run_claim(claim, options)
    write_outcome(outcome, options.out)
    return {"name": outcome.name, "file": f"{outcome.name}.md", "spec": outcome.spec or "file", "status": outcome.status, "summary": outcome.summary}


def run_task(name: str, options):
    """One unit: ``derive:<name>`` returns that derivation's report; a claim returns its index entry (or an
    ERROR entry with the one-line message of a claim file that fails)."""
    if name.startswith("derive:"):
        from rmtverify.verification.derive import run_derivations

        return run_derivations([name.split(":", 1)[1]])[0]
    try:
        return verify_and_write(name, options)
    except ClaimFileError as exc:
        return {"name": Path(exc.path).stem, "file": None, "spec": "file", "status": "ERROR", "summary": str(exc)}
    finally:
        close_executors()  # e.g. a Dask client: pool workers exit without running atexit handlers


def write_derivations(reports: list, out, started: float) -> dict:
    """Write derivations.md/.json from the per-derivation reports; the index entry."""
    from rmtverify.reports.derivations import write_report

    write_report(reports, out, started)
    ok = all(r.ok for r in reports)
    summary = f"{sum(r.ok for r in reports)}/{len(reports)} derivations pass"
    return {"name": DERIVATIONS_ENTRY, "file": "derivations.md", "spec": "§2–§4", "status": "PASS" if ok else "FAIL", "summary": summary}


def run_report(claims: list[str], options, jobs: int, started: float, announce=print) -> list[dict]:
    """Run the derivations and ``claims`` (names or claim files); returns the index entries (derivations
    first, then the claims in the given order). ``announce(line)`` is called as each entry is finished."""
    derivs = _derivation_names()
    entries: dict = {}
    reports: dict = {}

    def done(unit, entry):
        entries[unit] = entry
        announce(f"{entry['name']}: {entry['status']} — {entry['summary']}")

    if jobs == 1:
        for d in derivs:
            reports[d] = run_task(f"derive:{d}", options)
        done(DERIVATIONS_ENTRY, write_derivations([reports[d] for d in derivs], options.out, started))
        for name in claims:
            done(name, run_task(name, options))
        return [entries[n] for n in [DERIVATIONS_ENTRY, *claims]]

    import concurrent.futures as cf
    import multiprocessing as mp

    units = [f"derive:{d}" for d in derivs] + list(claims)
    order = sorted(units, key=lambda n: -EXPECTED_SECONDS.get(n, 30))  # longest first (unknown: early)
    with one_thread_environment():  # inherited by the spawned workers
        with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
            pending = {pool.submit(run_task, name, options): name for name in order}
            while pending:
                finished, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for fut in finished:
                    name = pending.pop(fut)
                    result = fut.result()
                    if name.startswith("derive:"):
                        reports[name.split(":", 1)[1]] = result
                        if len(reports) == len(derivs):
                            pending[pool.submit(write_derivations, [reports[d] for d in derivs], options.out, started)] = "write:derivations"
                    elif name == "write:derivations":
                        done(DERIVATIONS_ENTRY, result)
                    else:
                        done(name, result)
    return [entries[n] for n in [DERIVATIONS_ENTRY, *claims]]
