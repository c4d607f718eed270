"""The layering rule of ``derivations/``: it imports only SymPy, mpmath, the standard library and itself.

The derivations are the independent side of every check, so they must not
import the library (``rmtverify``), nor python-flint, NumPy or anything else,
not even lazily inside a function. The checker parses every file with ``ast``
(so an import anywhere, at module level or in a function body, counts) and is
itself tested on planted imports, so it can fail.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

DERIVATIONS = Path(__file__).resolve().parent.parent / "derivations"
ALLOWED = frozenset({"sympy", "mpmath", "derivations"}) | frozenset(sys.stdlib_module_names)


def _callee(call: ast.Call) -> str | None:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _dynamic_target(call: ast.Call) -> str | None:
    """The module named by ``import_module(...)`` / ``__import__(...)``, or None when it cannot be read."""
    if not call.args:
        return None
    arg = call.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        prefix = str(arg.values[0].value)
        if "." in prefix:  # f"derivations.{name}": the top-level package is fixed
            return prefix
    return None


def foreign_imports(source: str, filename: str = "<source>") -> list[str]:
    """Imports anywhere in ``source`` of modules outside sympy, mpmath, the standard library and derivations."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # a relative import stays inside the package
                continue
            modules = [node.module]
        elif isinstance(node, ast.Call) and _callee(node) in ("import_module", "__import__"):
            modules = [_dynamic_target(node)]
        else:
            continue
        for module in modules:
            if module is None or module.split(".")[0] not in ALLOWED:
                found.append(f"{filename}:{node.lineno}: {module or '<unreadable dynamic import>'}")
    return found


def private_imports(source: str, filename: str = "<source>") -> list[str]:
    """``from derivations.x import _name``: private names must not cross module boundaries."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] == "derivations"):
            found += [f"{filename}:{node.lineno}: {alias.name}" for alias in node.names if alias.name.startswith("_")]
    return found


def _sources():
    paths = sorted(DERIVATIONS.rglob("*.py"))
    assert len(paths) >= 10, paths  # the package is where we think it is
    return [(str(p.relative_to(DERIVATIONS.parent)), p.read_text()) for p in paths]


def test_derivations_import_only_sympy_mpmath_stdlib_and_themselves():
    found = [hit for name, text in _sources() for hit in foreign_imports(text, name)]
    assert found == [], f"derivations/ must import only sympy, mpmath, the standard library and derivations: {found}"


def test_no_private_name_is_imported_across_derivation_modules():
    found = [hit for name, text in _sources() for hit in private_imports(text, name)]
    assert found == [], f"private names imported from another module: {found}"


@pytest.mark.parametrize(
    "planted",
    [
        "import numpy as np",
        "import flint",
        "from rmtverify.models import make_model",
        "import rmtverify.theory.equivalents",
        "def check(point, ctx):\n    from rmtverify.symbolic.formulas import bind\n    return bind",
        "class C:\n    def m(self):\n        if True:\n            import flint\n",
        "def f():\n    return [__import__('numpy') for _ in ()]",
        "import importlib\nmod = importlib.import_module('rmtverify.theory')",
        "import importlib\nname = 'x'\nmod = importlib.import_module(name)",
        "import sympy, scipy",
        "from scipy.special import gamma",
    ],
)
def test_checker_catches_planted_imports(planted):
    assert foreign_imports(planted), f"checker missed a foreign import: {planted!r}"


def test_checker_allows_sympy_mpmath_stdlib_and_derivations():
    allowed = "\n".join(
        [
            "from __future__ import annotations",
            "import importlib, random, zlib",
            "from fractions import Fraction",
            "import sympy as sp",
            "from mpmath import mp",
            "import mpmath",
            "from derivations.framework import Derivation, Step",
            "from . import symbols",
            "def f(name):",
            "    from derivations.symbols import alpha",
            "    return importlib.import_module(f'derivations.{name}')",
        ]
    )
    assert foreign_imports(allowed) == []
    assert private_imports("from derivations.kappa import _independent_kappa") != []
    assert private_imports("def f():\n    from derivations.kappa import independent_kappa") == []
