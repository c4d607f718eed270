"""What a report shows while it runs: a progress display for its units (claims and derivations), fed by sinks.

A claim's Monte Carlo reports each sample to a *sink* (``planned(work, samples)`` up front and for a sequential
design's extension, ``done(work, cached)`` per sample; work is the relative cost ``sample_cost``). In a worker
process the sink is a :class:`QueueSink` that batches the steps onto a queue the parent drains; in the parent it
is a :class:`DirectSink`. The :class:`Display` keeps, per unit, the work planned and done and the seconds spent
computing, and derives from them

- per unit: "k of n", samples done/total and an ETA from the measured seconds per unit of work;
- for the report: the fraction done, each unit weighted by its expected run time (``weights``), and an ETA from
  the elapsed time and that fraction.

On a terminal it draws with tqdm — one bar per running claim under a bar for the report — and prints result
lines above the bars (``tqdm.write``), never over them; elsewhere it writes plain log lines: a claim's start, each
quarter of its samples with the report's ETA, and the result lines.
"""

from __future__ import annotations

import heapq
import sys
import time
from dataclasses import dataclass

#: the report's ETA: the share of the expected work for which the weights' own speed counts as measured
PRIOR_SHARE = 0.2
#: a sink in a worker sends its batched steps at most this often
FLUSH_SECONDS = 0.25


class QueueSink:
    """A unit's sink in a worker process: steps batched onto a multiprocessing queue (picklable; the queue is a
    manager's proxy)."""

    def __init__(self, queue, unit: str):
        self.queue, self.unit = queue, unit
        self._work = self._cached = 0.0
        self._samples = 0
        self._last = 0.0

    def __getstate__(self):
        return {"queue": self.queue, "unit": self.unit}

    def __setstate__(self, state):
        self.__init__(state["queue"], state["unit"])

    def planned(self, work: float, samples: int) -> None:
        self.flush()
        self.queue.put(("plan", self.unit, float(work), int(samples)))

    def done(self, work: float, cached: bool = False) -> None:
        self._samples += 1
        if cached:
            self._cached += work
        else:
            self._work += work
        now = time.monotonic()
        if now - self._last >= FLUSH_SECONDS:
            self.flush()
            self._last = now

    def flush(self) -> None:
        if self._samples:
            self.queue.put(("done", self.unit, self._work, self._cached, self._samples))
            self._work = self._cached = 0.0
            self._samples = 0


class DirectSink:
    """A unit's sink in the process that shows the display."""

    def __init__(self, display: "Display", unit: str):
        self.display, self.unit = display, unit

    def planned(self, work: float, samples: int) -> None:
        self.display.event(("plan", self.unit, float(work), int(samples)))

    def done(self, work: float, cached: bool = False) -> None:
        self.display.event(("done", self.unit, 0.0 if cached else work, work if cached else 0.0, 1))

    def flush(self) -> None:
        pass


@dataclass
class UnitState:
    index: int
    weight: float
    planned_work: float = 0.0
    planned_samples: int = 0
    work: float = 0.0  # computed
    cached: float = 0.0  # read back from the cache
    samples: int = 0
    started: float | None = None
    ended: float | None = None
    finished: bool = False
    quarter: int = 0  # plain output: the last quarter of the samples logged

    def fraction(self) -> float:
        if self.finished:
            return 1.0
        if self.planned_work <= 0:
            return 0.0
        return min(1.0, (self.work + self.cached) / self.planned_work)

    def eta(self, now: float) -> float | None:
        """Seconds left for this unit, from its measured seconds per unit of computed work."""
        if self.started is None or self.work <= 0 or self.finished:
            return None
        left = max(self.planned_work - self.work - self.cached, 0.0)
        return left * (now - self.started) / self.work


def _terminal_columns(stream) -> int:
    """The width of the terminal ``stream`` writes to (0 when it is not a terminal, or one without a size)."""
    import os

    try:
        return os.get_terminal_size(stream.fileno()).columns if stream.isatty() else 0
    except (AttributeError, OSError, ValueError):
        return 0


def _bar(fraction: float, width: int = 20) -> str:
    full = int(round(width * min(max(fraction, 0.0), 1.0)))
    return "|" + "#" * full + " " * (width - full) + "|"


def _seconds(s: float | None) -> str:
    if s is None:
        return "--"
    s = int(round(s))
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


class Display:
    """The progress of a report (or one claim): see the module's docstring. ``units`` in scheduling order with their
    expected run times as weights; ``labels`` optional display names."""

    def __init__(self, units: list[str], weights: dict, labels: dict | None = None, stream=None, quiet: bool = False, jobs: int = 1):
        self.stream = stream if stream is not None else sys.stderr
        self.jobs = max(1, int(jobs))
        self.labels = labels or {}
        self.units = {u: UnitState(i + 1, float(weights.get(u, 1.0))) for i, u in enumerate(units)}
        self.n = len(units)
        self.t0 = time.monotonic()
        self.quiet = quiet
        self.tty = _terminal_columns(self.stream) >= 40 and not quiet
        self.finished = 0
        self._bars: dict = {}
        self._top = None
        if self.tty:
            from tqdm import tqdm

            self._tqdm = tqdm
            self._top = tqdm(total=self.n, position=0, file=self.stream, leave=False, dynamic_ncols=True, bar_format="{desc}")
            self._top.set_description_str(self._report_line(), refresh=True)

    # ---- numbers
    def label(self, unit: str) -> str:
        return self.labels.get(unit, unit)

    def fraction(self) -> float:
        total = sum(u.weight for u in self.units.values()) or 1.0
        return sum(u.weight * u.fraction() for u in self.units.values()) / total

    def eta(self) -> float | None:
        """Seconds left for the report (None before 1% of the expected work is done).

        The machine's speed is measured: seconds spent in the units so far per expected second of the work they did
        (a unit's work = its weight × its fraction done). Each unfinished unit has speed × weight × (1 − fraction) left;
        the running ones occupy their workers, the queued ones go, in order, to the worker that frees first, and the
        ETA is when the last worker ends. So the tail of a parallel report, where fewer units than workers run, counts."""
        now = time.monotonic()
        units = self.units.values()
        total = sum(u.weight for u in units) or 1.0
        # speed from the units whose progress is known: finished ones, and running ones that report their work
        known = [u for u in units if u.started is not None and (u.finished or u.planned_work > 0)]
        done = sum(u.weight * u.fraction() for u in known)
        spent = sum((u.ended if u.ended is not None else now) - u.started for u in known)
        if done < 0.01 * total or spent <= 0:
            return None
        # the weights are seconds measured on this project's machine: a prior speed of 1 worth PRIOR_SHARE of the work,
        # which the measured speed outweighs as the work gets done (a unit front-loads theory the work count misses)
        prior = PRIOR_SHARE * total
        speed = (spent + prior) / (done + prior)
        running = []
        for u in units:
            if u.started is None or u.finished:
                continue
            if u.planned_work > 0:
                running.append(speed * u.weight * (1 - u.fraction()))
            else:  # a unit that reports no steps (a derivation): its expected time less the time it has run
                running.append(max(speed * u.weight - (now - u.started), 0.1 * speed * u.weight))
        queued = [speed * u.weight for u in units if u.started is None and not u.finished]  # in scheduling order
        workers = sorted(running)[-self.jobs:] if len(running) > self.jobs else running + [0.0] * (self.jobs - len(running))
        heapq.heapify(workers)
        for left in queued:
            heapq.heappush(workers, heapq.heappop(workers) + left)
        return max(workers)

    # ---- events
    def event(self, ev) -> None:
        kind, unit = ev[0], ev[1]
        st = self.units.get(unit)
        if st is None:
            return
        now = time.monotonic()
        if st.started is None:
            st.started = now
            self._started(unit, st)
        if kind == "plan":  # a "start" event only marks the start, above
            st.planned_work += ev[2]
            st.planned_samples += ev[3]
        elif kind == "done":
            st.work += ev[2]
            st.cached += ev[3]
            st.samples += ev[4]
        self._show(unit, st, now)

    def start(self, unit: str) -> None:
        st = self.units.get(unit)
        if st is not None and st.started is None:
            st.started = time.monotonic()
            self._started(unit, st)

    def finish(self, unit: str, line: str | None = None) -> None:
        st = self.units.get(unit)
        if st is not None and not st.finished:
            st.finished = True
            st.ended = time.monotonic()
            self.finished += 1
            bar = self._bars.pop(unit, None)
            if bar is not None:
                bar.close()
        if line:
            self.write(line)
        if self._top is not None:
            self._top.set_description_str(self._report_line(), refresh=True)

    def write(self, line: str) -> None:
        """A result line: above the bars on a terminal, a plain line elsewhere."""
        if self.tty:
            self._tqdm.write(line, file=sys.stdout)
        else:
            print(line, flush=True)

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()
        if self._top is not None:
            self._top.close()
            self._top = None

    # ---- drawing
    def _report_text(self) -> str:
        el = time.monotonic() - self.t0
        return f"{100 * self.fraction():.0f}% of the work, elapsed {_seconds(el)}, ETA {_seconds(self.eta())}"

    def _report_line(self) -> str:
        return f"report: {self.finished} of {self.n} units {_bar(self.fraction())} {self._report_text()}"

    def _started(self, unit, st) -> None:
        if self.quiet:
            return
        if self.tty:
            self._bars[unit] = self._tqdm(total=1, position=len(self._bars) + 1, file=self.stream, leave=False, dynamic_ncols=True,
                                          bar_format="{desc}")
        elif not unit.startswith("derive:"):
            self.write(f"[{st.index} of {self.n}] {self.label(unit)}: started")

    def _show(self, unit, st, now) -> None:
        if self.quiet:
            return
        text = f"samples {st.samples}/{st.planned_samples}, ETA {_seconds(st.eta(now))}"
        if self.tty:
            bar = self._bars.get(unit)
            if bar is not None:
                bar.set_description_str(f"[{st.index} of {self.n}] {self.label(unit)} {_bar(st.fraction())} {text}", refresh=True)
            if self._top is not None:
                self._top.set_description_str(self._report_line(), refresh=True)
            return
        quarter = int(4 * st.fraction())
        if 0 < quarter < 4 and quarter > st.quarter:
            st.quarter = quarter
            self.write(f"[{st.index} of {self.n}] {self.label(unit)}: {25 * quarter}% ({text}); report {self._report_text()}")
