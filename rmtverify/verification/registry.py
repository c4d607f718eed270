"""Claims by name or by file: the built-in claims of SPEC §4 and the claim files users write."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from rmtverify.core.exceptions import InputError
from rmtverify.verification.claim import Claim


@lru_cache(maxsize=None)
def builtin_claims() -> dict:
    """The built-in claims, in the order of SPEC §4."""
    from rmtverify.verification.claims import BUILTIN, EXTRAS

    return {c.name: c for c in BUILTIN + EXTRAS}


def missing_requirement(claim: Claim) -> str | None:
    """What a claim needs and this installation lacks (its install hint), or None."""
    import importlib.util

    module = getattr(claim, "requires", None)
    if module is None or importlib.util.find_spec(module) is not None:
        return None
    return getattr(claim, "requirement", f"the module {module}")


def is_claim_file(name: str) -> bool:
    """Whether a ``verify`` argument names a claim file rather than a built-in claim."""
    return str(name).endswith(".py") or "/" in str(name) or "\\" in str(name)


def get_claim(name: str) -> Claim:
    """A built-in claim by name, or the claim a file declares (a path ending in .py)."""
    if is_claim_file(name):
        from rmtverify.verification.claimfile import load_claim_file

        return load_claim_file(Path(name))
    claims = builtin_claims()
    if name not in claims:
        raise InputError("claim", f"unknown claim {name!r}; built-in: {', '.join(claims)} (or a claim file PATH.py)")
    return claims[name]


def resolve(ref) -> Claim:
    """The claim a :class:`~rmtverify.verification.engine.ClaimRef` names (in any process)."""
    if ref.path is None:
        return get_claim(ref.name)
    from rmtverify.verification.claimfile import load_claim_file

    claim = load_claim_file(Path(ref.path))
    if ref.digest is not None and claim.digest != ref.digest:
        raise InputError("claim", f"claim file {ref.path} changed while the run was using it")
    return claim
