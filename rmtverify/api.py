"""The public API for verifying your own claims and derivations (see ``examples/README.md``).

Claims: :class:`Claim` (the rich form), :class:`Observable`, :class:`Point`, :class:`Criteria`,
:class:`Sample` (what ``observe`` receives); or a claim file in the minimal form, verified with
``rmtverify verify PATH.py``. Theory to build on: :func:`make_model`, :func:`equivalents` (κ, df1, df2,
E_gen, E_train at any precision), :func:`solve_kappa`, :func:`spectral_law`. Derivations:
:class:`Derivation`, :class:`Step`, :class:`Result`, :class:`LibraryCheck` (``rmtverify derive PATH.py``).
"""

from __future__ import annotations

from derivations.framework import Derivation, LibraryCheck, Result, Step
from rmtverify.core.exceptions import ClaimFileError, InputError, SolverError
from rmtverify.core.params import INF
from rmtverify.models import make_model
from rmtverify.montecarlo.sample import Sample
from rmtverify.theory.equivalents import equivalents
from rmtverify.theory.kappa import solve_kappa
from rmtverify.theory.spectrum import spectral_law
from rmtverify.verification.claim import Claim, Observable, Point, RunOptions
from rmtverify.verification.engine import run_claim
from rmtverify.verification.registry import get_claim
from rmtverify.verification.verdict import Criteria

__all__ = [
    "Claim",
    "ClaimFileError",
    "Criteria",
    "Derivation",
    "INF",
    "InputError",
    "LibraryCheck",
    "Observable",
    "Point",
    "Result",
    "RunOptions",
    "Sample",
    "SolverError",
    "Step",
    "equivalents",
    "get_claim",
    "make_model",
    "run_claim",
    "solve_kappa",
    "spectral_law",
]
