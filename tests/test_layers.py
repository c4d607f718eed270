"""The package's layers show, and its imports point down the chain only.

symbolic derivations (top-level ``derivations``) → core → symbolic (formula binding) → models → theory →
montecarlo → verification → reports → cli/api. Every ``import`` of every module under ``rmtverify/`` is
parsed (those inside functions too); a module may import its own layer and the layers before it. No
private name (a leading underscore) is imported from another module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "rmtverify"
LAYERS = ["core", "symbolic", "models", "theory", "montecarlo", "verification", "reports", "top"]
TOP = {"cli", "api", "__main__"}


def layer_of(module: str) -> int:
    """The layer index of a module name under rmtverify (``rmtverify.theory.bbp`` → theory)."""
    parts = module.split(".")
    if parts[0] != "rmtverify":
        raise ValueError(module)
    if len(parts) == 1:
        return 0  # the package itself: only its version
    head = parts[1]
    if head in TOP:
        return LAYERS.index("top")
    return LAYERS.index(head)


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports(source: str, module: str, is_package: bool):
    """(imported module, [names], line) for every import statement, relative ones resolved."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            yield target, [a.name for a in node.names], node.lineno


def violations(source: str, module: str, is_package: bool = False) -> list:
    out = []
    here = layer_of(module)
    for target, names, line in imports(source, module, is_package):
        if target == "rmtverify" or target.startswith("rmtverify."):
            candidates = [target] + [f"{target}.{n}" for n in names]
            # ``from rmtverify.montecarlo import engine`` imports the submodule's layer
            there = max(layer_of(c) for c in candidates
                        if c == target or (PACKAGE.parent / c.replace(".", "/")).with_suffix(".py").exists())
            if there > here:
                out.append(f"{module}:{line} imports {target} ({LAYERS[there]}) from layer {LAYERS[here]}")
            private = [n for n in names if n.startswith("_") and n != "__version__"]
            if private:
                out.append(f"{module}:{line} imports private name(s) {', '.join(private)} from {target}")
    return out


def test_every_module_belongs_to_a_layer():
    for path in PACKAGE.rglob("*.py"):
        layer_of(module_name(path))  # raises for a module outside the declared layers


def test_imports_point_down_the_layers():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found += violations(path.read_text(), module_name(path), path.name == "__init__.py")
    assert found == []


@pytest.mark.parametrize(
    "module,source",
    [
        ("rmtverify.theory.spectrum", "from rmtverify.verification.verdict import judge"),
        ("rmtverify.models.base", "def f():\n    from rmtverify.theory import equivalents\n"),
        ("rmtverify.core.params", "import rmtverify.reports.render"),
        ("rmtverify.montecarlo.kernels", "from rmtverify.verification import engine"),
        ("rmtverify.verification.engine", "from rmtverify.theory.pca import _fraction"),
        ("rmtverify.theory.bbp", "from ..verification.claim import Point"),
    ],
)
def test_the_layer_check_catches_planted_violations(module, source):
    assert violations(source, module), source


def test_the_layer_check_accepts_downward_imports():
    assert violations("from rmtverify.core.params import parse\nfrom rmtverify.theory import equivalents",
                      "rmtverify.verification.engine") == []


def test_built_in_claims_are_short_declarations():
    """Each built-in claim is a declaration on the claim API: at most 120 lines, the machinery lives in the engine."""
    claims = sorted((PACKAGE / "verification" / "claims").glob("*.py"))
    assert len(claims) >= 7
    long = {p.name: n for p in claims if (n := len(p.read_text().splitlines())) > 120}
    assert long == {}
