"""Derivations: every closed form the library uses, derived and re-checked in SymPy.

Each module builds one :class:`~derivations.framework.Derivation`: readable
top to bottom like an appendix (assumptions, steps, result), each step a SymPy
identity. The library lambdifies the ``results`` of these derivations, so
there is one source of truth for every formula.
"""

from __future__ import annotations

import importlib
from functools import lru_cache

#: in reading order; later derivations use the results of earlier ones
NAMES = (
    "ssr_closed_form",
    "kappa",
    "train_gen",
    "isotropic",
    "ar1",
    "spiked",
    "bbp",
    "pca",
    "spectrum",
    "masking",
    "elliptical",
)


def fresh(name: str):
    """Build a derivation anew (tests alter the steps of a fresh copy)."""
    if name not in NAMES:
        raise KeyError(f"unknown derivation {name!r}; known: {', '.join(NAMES)}")
    return importlib.import_module(f"derivations.{name}").build()


@lru_cache(maxsize=None)
def get(name: str):
    """The derivation ``name``, built once per process."""
    return fresh(name)


def result(name: str, key: str):
    """One result expression of a derivation, e.g. ``result('isotropic', 'kappa')``."""
    d = get(name)
    try:
        return d.results[key]
    except KeyError:
        raise KeyError(f"derivation {name!r} has no result {key!r}; it has {sorted(d.results)}") from None
