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


@lru_cache(maxsize=None)
def _terms_code(name: str):
    derivation, key = _split(name)
    res = derivations.result(derivation, key)
    num, den = sp.fraction(sp.together(res.expr))
    parts = []
    for e in (sp.expand(num), sp.expand(den)):
        parts += [e, sp.Add(*[sp.Abs(t) for t in sp.Add.make_args(e)])]
    return sp.lambdify(res.args, tuple(parts), modules="mpmath").__code__


def bind_terms(name: str, ctx):
    """The formula ``name`` written as N/D over a common denominator, evaluated in ``ctx`` as (N, |N|₊, D, |D|₊), where |X|₊
    is the sum of the absolute values of X's terms: the rounding error of a sum is a few ulps of |X|₊, so the formula loses
    about log10(|N|₊/|N|) + log10(|D|₊/|D|) digits to cancellation (see :func:`lost_digits`). Made from the same derivation
    result as :func:`bind`, never typed again."""
    _BOUND.add(name)
    return _function(_terms_code(name), ctx, f"{name} (terms)")


def lost_digits(ctx, parts) -> float:
    """Digits lost to cancellation by a formula evaluated as ``bind_terms`` parts (inf when a sum vanished exactly)."""
    num, mnum, den, mden = parts
    if num == 0 or den == 0:
        return float("inf")
    return max(0.0, float(ctx.log10(abs(mnum) / abs(num))) + float(ctx.log10(abs(mden) / abs(den))))


def _function(code, ctx, label):
    namespace = {"__builtins__": builtins}
    for ident in code.co_names:
        if hasattr(ctx, ident):
            namespace[ident] = getattr(ctx, ident)
        elif not hasattr(builtins, ident):
            raise RuntimeError(f"formula {label}: name {ident!r} has no counterpart in {type(ctx).__name__}")
    return types.FunctionType(code, namespace, label)


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

    def terms(self, name: str):
        """``bind_terms(name, ctx)``, bound once."""
        key = ("terms", name)
        f = self._bound.get(key)
        if f is None:
            f = self._bound[key] = bind_terms(name, self.ctx)
        return f


FP = mpmath.fp
