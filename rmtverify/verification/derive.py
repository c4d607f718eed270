"""Run derivations: the built-in ones under ``derivations/`` and a user's derivation file.

A derivation file uses the public derivation framework (``derivations.framework``, re-exported by
:mod:`rmtverify.api`): it defines ``derivation`` (a :class:`~derivations.framework.Derivation`) or
``build()`` returning one, and optionally ``checks``, a list of
:class:`~derivations.framework.LibraryCheck` (a function against an independent reference at random
rational points). Every step is checked symbolically and at random rational points at 50 digits, then
every check; a file that cannot be used is one :class:`~rmtverify.core.exceptions.ClaimFileError`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import derivations
from derivations.framework import Derivation, DerivationReport, LibraryCheck, run
from rmtverify.core.exceptions import ClaimFileError, InputError
from rmtverify.verification.claimfile import digest_of
from rmtverify.verification.library_checks import library_checks


def is_derivation_file(name: str) -> bool:
    return str(name).endswith(".py") or "/" in str(name) or "\\" in str(name)


def load_derivation_file(path) -> tuple[Derivation, list]:
    """(the derivation, its checks) of a user's derivation file."""
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise ClaimFileError(str(path), "file", "does not exist (a derivation file is a Python file PATH.py)")
    name = f"rmtverify_derivationfile_{digest_of(path)}"
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        derivation = getattr(module, "derivation", None)
        if derivation is None and callable(getattr(module, "build", None)):
            derivation = module.build()
    except Exception as exc:  # a user's file: any failure to load it is that file's error, in one line
        sys.modules.pop(name, None)
        raise ClaimFileError(str(path), "import", f"{type(exc).__name__}: {exc}") from None
    if not isinstance(derivation, Derivation):
        raise ClaimFileError(str(path), "derivation", "define `derivation` (a Derivation) or `build()` returning one")
    checks = list(getattr(module, "checks", []) or [])
    if not all(isinstance(c, LibraryCheck) for c in checks):
        raise ClaimFileError(str(path), "checks", "must be a list of LibraryCheck")
    return derivation, checks


def run_derivations(names=None) -> list[DerivationReport]:
    """Run the built-in derivations ``names`` (default: all) or derivation files (paths ending in .py)."""
    names = list(names) if names else list(derivations.NAMES)
    for name in names:
        if not is_derivation_file(name) and name not in derivations.NAMES:
            raise InputError("derivation",
                             f"unknown derivation {name!r}; known: {', '.join(derivations.NAMES)} (or a derivation file PATH.py)")
    reports = []
    for name in names:
        if is_derivation_file(name):
            derivation, checks = load_derivation_file(name)
            report = run(derivation, checks=checks)
            report.source = str(Path(name).expanduser().resolve())
        else:
            # the process's build (derivations.get), the very object whose results the library lambdifies: the checks
            # see exactly what the library evaluates; the library checks (c) are the library's own (library_checks)
            derivation = derivations.get(name)
            report = run(derivation, checks=library_checks(derivation))
        reports.append(report)
    return reports


__all__ = ["run_derivations", "load_derivation_file", "is_derivation_file"]
