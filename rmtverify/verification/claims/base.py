"""A claim owns its theory, its Monte Carlo observable, its expected rate and its verdict."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from rmtverify.core.exceptions import InputError
from rmtverify.core.storage import SampleCache


@dataclass
class RunOptions:
    quick: bool = False
    perturb: Fraction = Fraction(0)
    out: Path = Path("reports")
    seed: int = 0
    cache: SampleCache = field(default_factory=lambda: SampleCache(None))
    quiet: bool = True
    #: where the Monte Carlo samples run: None (serial) or an ExecutorSpec (local processes, Dask)
    executor: object = None
    #: extend each claim's ladder by doubling up to this d (None: the claim's own ladder)
    max_d: int | None = None

    def ladder(self, quick: tuple, full: tuple) -> tuple:
        """The claim's ladder (quick or full), extended by doubling while the next d is ≤ ``max_d``."""
        base = tuple(quick if self.quick else full)
        if self.max_d is None:
            return base
        if self.max_d < base[-1]:
            raise InputError("max_d", f"extends a ladder and cannot cut it: must be at least {base[-1]} (this claim's top d); got {self.max_d}")
        out = list(base)
        while out[-1] * 2 <= self.max_d:
            out.append(out[-1] * 2)
        return tuple(out)


@dataclass
class ClaimOutcome:
    name: str
    spec: str
    status: str
    summary: str
    markdown: str
    data: dict
    figures: list = field(default_factory=list)


class Claim(ABC):
    name: str = ""
    spec: str = ""  # SPEC §4 id
    title: str = ""
    statement: str = ""
    #: (quick, full) ladders of d for claims with a Monte Carlo ladder; None for the others
    ladders: tuple | None = None

    def ladder(self, options: "RunOptions") -> tuple:
        """This claim's ladder under ``options`` (quick or full, extended to ``options.max_d``)."""
        return options.ladder(*self.ladders)

    @abstractmethod
    def run(self, options: RunOptions) -> ClaimOutcome:
        """Compute theory and Monte Carlo, judge, and return the report's content."""
