"""The built-in claims of SPEC §4, each a declaration on the claim API (:mod:`rmtverify.verification.claim`)."""

from __future__ import annotations

from rmtverify.verification.claims.bbp import BBP
from rmtverify.verification.claims.errors import Errors
from rmtverify.verification.claims.masking_rate import MaskingRate
from rmtverify.verification.claims.pca_ar1 import PcaAR1
from rmtverify.verification.claims.pca_spiked import PcaSpiked
from rmtverify.verification.claims.real_data import RealData
from rmtverify.verification.claims.spectrum import Spectrum
from rmtverify.verification.claims.ssr_closed_form import SSRClosedForm
from rmtverify.verification.claims.universality import Universality

BUILTIN = (SSRClosedForm(), Errors(), Spectrum(), BBP(), PcaSpiked(), PcaAR1(), MaskingRate(), Universality())

#: built-in claims that need an optional extra (``requires``: the module to import; skipped by a report without it)
EXTRAS = (RealData(),)

__all__ = ["BUILTIN", "EXTRAS"]
