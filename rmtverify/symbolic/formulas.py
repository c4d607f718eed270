"""The library's only door to closed-form formulas: the derivations' results.

Every expression the theory evaluates is a ``Result`` of a module under
``derivations/``, lambdified here. Nothing in ``rmtverify`` types a formula a
second time. For high precision the lambdified code is re-bound to a *local*
mpmath context, so ``sqrt``, ``cos``, ``pi`` and rational constants are
evaluated at that context's precision; the double-precision path binds the
same code to ``mpmath.fp`` (Python floats) or lambdifies it for NumPy arrays.
"""

from __future__ import annotations

import builtins
import types
from functools import lru_cache

import mpmath
import sympy as sp

import derivations

#: every formula this process has bound, for the test that records which results the suite evaluates (an
#: instrument, never read by the library itself)
_BOUND: set = set()


def bound_results() -> frozenset:
    """The names ("derivation.result") of every formula bound in this process so far."""
    return frozenset(_BOUND)


def _split(name: str):
    try:
        derivation, key = name.split(".", 1)
    except ValueError:
        raise KeyError(f"formula names look like 'derivation.result', got {name!r}") from None
    return derivation, key


@lru_cache(maxsize=None)
def _mp_code(name: str):
    derivation, key = _split(name)
    res = derivations.result(derivation, key)
    fn = sp.lambdify(res.args, res.expr, modules="mpmath")
    return fn.__code__


def numpy_function(name: str):
    """The formula ``name`` lambdified for NumPy (float64, vectorised)."""
    _BOUND.add(name)
    return _numpy_function(name)


@lru_cache(maxsize=None)
def _numpy_function(name: str):
    derivation, key = _split(name)
    res = derivations.result(derivation, key)
    return sp.lambdify(res.args, res.expr, modules="numpy")


def expression(name: str):
    """The SymPy result (expression and argument order) behind ``name``."""
    _BOUND.add(name)
    derivation, key = _split(name)
    return derivations.result(derivation, key)


def bind(name: str, ctx, record: bool = True):
    """The formula ``name`` as a function evaluated in the mpmath context ``ctx`` (``record=False``: a check of
    the derivations themselves, not the library's use of a result)."""
    if record:
        _BOUND.add(name)
    code = _mp_code(name)
    namespace = {"__builtins__": builtins}
    for ident in code.co_names:
        if hasattr(ctx, ident):
            namespace[ident] = getattr(ctx, ident)
        elif not hasattr(builtins, ident):
            # refusing beats silently evaluating in mpmath's global (default) precision
            raise RuntimeError(f"formula {name}: name {ident!r} has no counterpart in {type(ctx).__name__}")
    return types.FunctionType(code, namespace, name)


class Formulas:
    """All formulas bound to one context, each bound once (theory loops call them often)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self._bound = {}

    def __call__(self, name: str):
        f = self._bound.get(name)
        if f is None:
            f = self._bound[name] = bind(name, self.ctx)
        return f


FP = mpmath.fp
