"""``rmtverify verify`` and ``rmtverify report``: claims and derivations verified, reports written.

The units of a report are each derivation (1–45 s each), each built-in claim and each claim
file; they go to a pool of ``jobs`` spawned processes, longest first, so the pool drains evenly. Each
worker computes with one BLAS thread: the workers, not BLAS, use the cores. A claim's Monte Carlo runs
inside its worker (serially), or on a Dask cluster when the options name one. When the last derivation is
in, one more unit writes ``derivations.md``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rmtverify.core.exceptions import ClaimFileError, InputError, one_line_warnings
from rmtverify.montecarlo.executor import close_executors, die_with_parent, one_thread_environment, terminate_children
from rmtverify.reports.progress import DirectSink, Display, QueueSink
from rmtverify.reports.render import write_outcome
from rmtverify.verification.engine import run_claim
from rmtverify.verification.registry import builtin_claims, get_claim

#: run times (s) of the quick suite's units in one `rmtverify report --quick` (2 workers, empty cache, 2-core machine): the
#: schedule runs the longest first, and the report's ETA weighs each unit's share of the work by them
EXPECTED_SECONDS = {
    "derive:elliptical": 43,
    "pca-ar1": 41,
    "universality": 38,
    "masking-rate": 24,
    "bbp": 22,
    "errors": 22,
    "derive:masking": 17,
    "derive:train_gen": 13.6,
    "spectrum": 11,
    "pca-spiked": 8,
    "real-data": 6,
    "derive:bbp": 4.5,
    "derive:pca": 3.6,
    "derive:isotropic": 3.5,
    "derive:spectrum": 3.3,
    "derive:ar1": 3.1,
    "derive:spiked": 1.3,
    "derive:kappa": 1.0,
    "derive:ssr_closed_form": 1.0,
    "ssr-closed-form": 0.1,
}
#: run times (s) of the full suite's claims in one `rmtverify report` (2 workers, empty cache); derivations as above
FULL_SECONDS = {"pca-ar1": 208, "universality": 143, "spectrum": 90, "bbp": 84, "errors": 72, "masking-rate": 59, "pca-spiked": 43,
                "real-data": 22, "ssr-closed-form": 0.1}
DERIVATIONS_ENTRY = "derivations"


def expected_seconds(unit: str, quick: bool = True) -> float:
    """A unit's expected run time (unknown units: 30 s), for scheduling and for the report's ETA."""
    table = EXPECTED_SECONDS if quick else {**EXPECTED_SECONDS, **FULL_SECONDS}
    return table.get(unit, 30)


#: in a report's worker process: the queue its units' progress goes to (set once by the pool's initializer; a
#: multiprocessing queue passes to a process only when it starts)
_progress_queue = None


def worker_setup(queue=None) -> None:
    """A report worker ends with its parent (even a killed one), shows warnings as one line, and sends its units'
    progress to ``queue``."""
    global _progress_queue
    die_with_parent()
    one_line_warnings()
    _progress_queue = queue


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
    return {"name": outcome.name, "file": f"{outcome.name}.md", "spec": outcome.spec or "file", "status": outcome.status,
            "summary": outcome.summary}


def run_task(name: str, options):
    """One unit: ``derive:<name>`` returns that derivation's report; a claim returns its index entry (or an
    ERROR entry with the one-line message of a claim file that fails)."""
    if _progress_queue is not None:
        _progress_queue.put(("start", name))  # the report's ETA counts a unit's time from here
    if name.startswith("derive:"):
        from rmtverify.verification.derive import run_derivations

        return run_derivations([name.split(":", 1)[1]])[0]
    if _progress_queue is not None:
        options = replace(options, progress=QueueSink(_progress_queue, name))
    try:
        return verify_and_write(name, options)
    except ClaimFileError as exc:
        return {"name": Path(exc.path).stem, "file": None, "spec": "file", "status": "ERROR", "summary": str(exc)}
    finally:
        if options.progress is not None:
            options.progress.flush()
        close_executors()  # e.g. a Dask client: pool workers exit without running atexit handlers


def write_derivations(reports: list, out, started: float) -> dict:
    """Write derivations.md/.json from the per-derivation reports; the index entry."""
    from rmtverify.reports.derivations import write_report

    write_report(reports, out, started)
    ok = all(r.ok for r in reports)
    summary = f"{sum(r.ok for r in reports)}/{len(reports)} derivations pass"
    return {"name": DERIVATIONS_ENTRY, "file": "derivations.md", "spec": "§2–§4", "status": "PASS" if ok else "FAIL", "summary": summary}


def run_report(claims: list[str], options, jobs: int, started: float, announce=print, display: Display | None = None) -> list[dict]:
    """Run the derivations and ``claims`` (names or claim files); returns the index entries (derivations
    first, then the claims in the given order). A result line is printed as each entry is finished: by ``display``
    (above its progress bars) when given, else by ``announce(line)``."""
    derivs = _derivation_names()
    entries: dict = {}
    reports: dict = {}
    say = display.write if display is not None else announce

    def done(unit, entry):
        entries[unit] = entry
        line = f"{entry['name']}: {entry['status']} — {entry['summary']}"
        if display is not None:
            display.finish(unit, line)
        else:
            say(line)

    def finished(unit):
        if display is not None:
            display.finish(unit)

    if jobs == 1:
        for d in derivs:
            if display is not None:
                display.start(f"derive:{d}")
            reports[d] = run_task(f"derive:{d}", options)
            finished(f"derive:{d}")
        done(DERIVATIONS_ENTRY, write_derivations([reports[d] for d in derivs], options.out, started))
        for name in claims:
            opts = replace(options, progress=DirectSink(display, name)) if display is not None else options
            done(name, run_task(name, opts))
        return [entries[n] for n in [DERIVATIONS_ENTRY, *claims]]

    import concurrent.futures as cf
    import multiprocessing as mp
    import queue as queues

    units = [f"derive:{d}" for d in derivs] + list(claims)
    order = report_order(units, options.quick)
    ctx = mp.get_context("spawn")
    progress = ctx.Queue() if display is not None else None

    def drain():
        while progress is not None:
            try:
                display.event(progress.get_nowait())
            except queues.Empty:
                return

    # the workers spawn while the environment says one BLAS thread; an interruption (or a failed unit) cancels
    # what is queued and ends the workers at once
    with one_thread_environment():
        pool = cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=worker_setup, initargs=(progress,))
        try:
            pending = {pool.submit(run_task, name, options): name for name in order}
            while pending:
                finished_now, _ = cf.wait(pending, timeout=0.2, return_when=cf.FIRST_COMPLETED)
                drain()
                for fut in finished_now:
                    name = pending.pop(fut)
                    result = fut.result()
                    if name.startswith("derive:"):
                        finished(name)
                        reports[name.split(":", 1)[1]] = result
                        if len(reports) == len(derivs):
                            ordered = [reports[d] for d in derivs]
                            pending[pool.submit(write_derivations, ordered, options.out, started)] = "write:derivations"
                    elif name == "write:derivations":
                        done(DERIVATIONS_ENTRY, result)
                    else:
                        done(name, result)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            terminate_children()
            raise
        finally:
            if progress is not None:
                progress.cancel_join_thread()  # never wait on the queue's feeder at exit
                progress.close()
        pool.shutdown(wait=True)
    return [entries[n] for n in [DERIVATIONS_ENTRY, *claims]]


def report_order(units: list[str], quick: bool = True) -> list[str]:
    """The units longest first (unknown ones early), so that the pool drains evenly."""
    return sorted(units, key=lambda n: -expected_seconds(n, quick))


def report_display(units: list[str], quiet: bool = False, quick: bool = True, jobs: int = 1) -> Display:
    """The progress display of a report over ``units`` (claims; the derivations are added), weighted by their
    expected run times."""
    derivs = [f"derive:{d}" for d in _derivation_names()]
    order = report_order(derivs + list(units), quick)
    labels = {u: f"derivation {u.split(':', 1)[1]}" for u in derivs}
    labels.update({u: Path(u).stem if u.endswith(".py") else u for u in units})
    return Display(order, {u: expected_seconds(u, quick) for u in order}, labels, quiet=quiet, jobs=jobs)
