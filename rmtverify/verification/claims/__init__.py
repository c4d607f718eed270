"""The claims of SPEC §4 that rmtverify implements, by name."""

from __future__ import annotations

from pathlib import Path

from rmtverify.core.exceptions import InputError
from rmtverify.reports.markdown import write_json
from rmtverify.core.storage import atomic_write_text
from rmtverify.verification.claims.base import Claim, ClaimOutcome, RunOptions
from rmtverify.verification.claims.bbp import BBP
from rmtverify.verification.claims.pca_ar1 import PcaAR1
from rmtverify.verification.claims.pca_spiked import PcaSpiked
from rmtverify.verification.claims.errors import Errors
from rmtverify.verification.claims.spectrum import Spectrum
from rmtverify.verification.claims.ssr_closed_form import SSRClosedForm

CLAIMS: dict[str, Claim] = {c.name: c for c in (SSRClosedForm(), Errors(), Spectrum(), BBP(), PcaSpiked(), PcaAR1())}


def get_claim(name: str) -> Claim:
    if name not in CLAIMS:
        raise InputError("claim", f"unknown claim {name!r}; implemented: {', '.join(CLAIMS)}")
    return CLAIMS[name]


def check_ladders(names, options: RunOptions) -> None:
    """Raise InputError now (not in a worker, after other work) when ``options.max_d`` cannot extend
    the ladder of one of the claims ``names``."""
    for name in names:
        claim = get_claim(name)
        if claim.ladders is not None:
            claim.ladder(options)


def run_claim(name: str, options: RunOptions) -> ClaimOutcome:
    """Run one claim and write reports/<claim>.md and .json (figures are written by the claim)."""
    claim = get_claim(name)
    Path(options.out).mkdir(parents=True, exist_ok=True)
    outcome = claim.run(options)
    atomic_write_text(Path(options.out) / f"{name}.md", outcome.markdown)
    write_json(Path(options.out) / f"{name}.json", outcome.data)
    return outcome


__all__ = ["CLAIMS", "get_claim", "run_claim", "RunOptions", "ClaimOutcome"]
