"""Deterministic equivalents and the laws built on them (SPEC §2–§4)."""

from rmtverify.theory.equivalents import TheoryResult, equivalents
from rmtverify.theory.kappa import solve_kappa

__all__ = ["TheoryResult", "equivalents", "solve_kappa"]
