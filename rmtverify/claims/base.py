"""A claim owns its theory, its Monte Carlo observable, its expected rate and its verdict."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from ..storage import SampleCache


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

    @abstractmethod
    def run(self, options: RunOptions) -> ClaimOutcome:
        """Compute theory and Monte Carlo, judge, and return the report's content."""
