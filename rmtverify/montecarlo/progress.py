"""A one-line progress report on stderr for a ladder of Monte Carlo samples."""

from __future__ import annotations

import sys
import time


class Progress:
    """A one-line progress report on stderr, only when stderr is a terminal and not quiet.

    With ``groups`` (one (name, count, cost per sample) per ladder point) the line shows the ladder
    point whose sample finished last, its count and ETA, and the ETA of the whole ladder; samples may
    finish in any order (parallel executors). Cached samples count as done and cost nothing, so the
    rate — and the ETA — come from the samples actually computed.
    """

    def __init__(self, total: int, label: str, quiet: bool = False, groups=None):
        self.total, self.label = total, label
        self.enabled = not quiet and sys.stderr.isatty()
        self.done, self.t0 = 0, time.perf_counter()
        self.groups = list(groups) if groups else [(None, total, 1.0)]
        self.gdone = [0] * len(self.groups)
        self.work_left = [c * w for _, c, w in self.groups]  # cost still to compute, per group
        self.work_done = 0.0

    def step(self, group: int | None = None, cached: bool = False):
        g = group or 0
        self.done += 1
        self.gdone[g] += 1
        w = self.groups[g][2]
        self.work_left[g] -= w
        if not cached:
            self.work_done += w
        if not self.enabled:
            return
        el = time.perf_counter() - self.t0
        rate = el / self.work_done if self.work_done else 0.0
        name, count, _ = self.groups[g]
        eta_all = rate * max(sum(self.work_left), 0.0)
        if name is None:
            line = f"{self.label}: {self.done}/{self.total}  elapsed {el:5.1f}s  eta {eta_all:5.1f}s "
        else:
            eta_g = rate * max(self.work_left[g], 0.0)
            line = (
                f"{self.label} {name}: {self.gdone[g]}/{count} (eta {eta_g:5.1f}s)  "
                f"all {self.done}/{self.total}  elapsed {el:5.1f}s  eta {eta_all:5.1f}s "
            )
        sys.stderr.write("\r" + line)
        if self.done == self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def sample_cost(d: int, n: int) -> float:
    """Relative cost of one sample (flops of the Gram matrix and one factorisation)."""
    return float(d) * d * (n + d)


class SinkProgress:
    """Per-sample steps of one ladder forwarded to a progress sink (a claim's share of a report's progress): each sample
    reports its relative cost and whether it came from the cache. Samples with a seed index below ``fresh_from`` were
    counted by an earlier pass (a sequential design's pilot) and are not reported again."""

    def __init__(self, sink, groups, seeds: int, fresh_from: int = 0):
        self.sink, self.groups, self.fresh_from = sink, list(groups), fresh_from
        self.seen = [0] * len(self.groups)

    def step(self, group: int | None = None, cached: bool = False):
        g = group or 0
        self.seen[g] += 1
        if self.seen[g] <= self.fresh_from:  # as many as the earlier pass counted (read back first when cached)
            return
        self.sink.done(self.groups[g][2], cached)
