"""``rmtverify report``: the derivations and every claim, spread over worker processes.

The units of work are each derivation (nine of them, 1–10 s each) and each
claim; they go to a pool of ``jobs`` spawned processes, longest first, so the
pool drains evenly (the derivations used to be one 40-second unit that held
a worker to the end). Each worker computes with one BLAS thread: the workers,
not BLAS, use the cores. A claim's Monte Carlo runs inside its worker
(serially), or on a Dask cluster when the options name one. When the last
derivation is in, one more unit writes ``derivations.md``.
"""

from __future__ import annotations

from rmtverify.montecarlo.executor import one_thread_environment

#: rough run times (s) of the quick suite, to schedule the longest work first
EXPECTED_SECONDS = {
    "pca-ar1": 20,
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


def run_task(name: str, options):
    """One unit: ``derive:<name>`` returns that derivation's report; a claim name returns the index entry."""
    if name.startswith("derive:"):
        from rmtverify.verification.derive import run_derivations

        return run_derivations([name.split(":", 1)[1]])[0]
    from rmtverify.verification.claims import run_claim
    from rmtverify.montecarlo.executor import close_executors

    try:
        outcome = run_claim(name, options)
    finally:
        close_executors()  # e.g. a Dask client: pool workers exit without running atexit handlers
    return {"name": name, "file": f"{name}.md", "spec": outcome.spec, "status": outcome.status, "summary": outcome.summary}


def write_derivations(reports: list, out, started: float) -> dict:
    """Write derivations.md/.json from the per-derivation reports; the index entry."""
    from rmtverify.verification.derive import write_report

    write_report(reports, out, started)
    ok = all(r.ok for r in reports)
    return {"name": DERIVATIONS_ENTRY, "file": "derivations.md", "spec": "§2–§4", "status": "PASS" if ok else "FAIL", "summary": f"{sum(r.ok for r in reports)}/{len(reports)} derivations pass"}


def run_report(claims: list[str], options, jobs: int, started: float, announce=print) -> list[dict]:
    """Run the derivations and ``claims``; returns the index entries (derivations first, then the claims
    in the given order). ``announce(line)`` is called as each entry is finished."""
    derivs = _derivation_names()
    entries: dict = {}
    reports: dict = {}

    def done(entry):
        entries[entry["name"]] = entry
        announce(f"{entry['name']}: {entry['status']} — {entry['summary']}")

    if jobs == 1:
        for d in derivs:
            reports[d] = run_task(f"derive:{d}", options)
        done(write_derivations([reports[d] for d in derivs], options.out, started))
        for name in claims:
            done(run_task(name, options))
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
                    else:
                        done(result)
    return [entries[n] for n in [DERIVATIONS_ENTRY, *claims]]
