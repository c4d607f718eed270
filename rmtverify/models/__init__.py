"""Covariance models (SPEC §3) and the one function that builds them by name."""

from __future__ import annotations

from rmtverify.core.exceptions import InputError
from rmtverify.models.ar1 import AR1
from rmtverify.models.base import CovarianceModel, DiagonalGroup, Resolvent
from rmtverify.models.custom import Custom
from rmtverify.models.data import DataModel
from rmtverify.models.isotropic import Isotropic
from rmtverify.models.mixture import Mixture
from rmtverify.models.spiked import Spiked

MODELS = {"isotropic": Isotropic, "spiked": Spiked, "ar1": AR1, "mixture": Mixture, "custom": Custom, "data": DataModel}

#: options each model accepts (the command line maps its flags onto these)
OPTIONS = {
    "isotropic": (),
    "spiked": ("theta", "spike", "rank", "spike_seed", "base", "rho", "boundary"),
    "ar1": ("rho", "boundary"),
    "mixture": ("atoms", "weights"),
    "custom": ("sigma",),
    "data": ("path", "standardize"),
}
REQUIRED = {"spiked": ("theta",), "ar1": ("rho",), "mixture": ("atoms",), "custom": ("sigma",), "data": ("path",)}


def make_model(name: str, **options) -> CovarianceModel:
    """Build a covariance model by name, rejecting unknown or missing options."""
    if name not in MODELS:
        raise InputError("model", f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    options = {k: v for k, v in options.items() if v is not None}
    unknown = sorted(set(options) - set(OPTIONS[name]))
    if unknown:
        allowed = ", ".join(OPTIONS[name]) or "none"
        raise InputError(unknown[0], f"is not an option of model {name!r} (its options: {allowed})")
    for req in REQUIRED.get(name, ()):
        if req not in options:
            raise InputError(req, f"is required for model {name!r}")
    return MODELS[name](**options)


__all__ = ["make_model", "MODELS", "OPTIONS", "CovarianceModel", "Resolvent", "DiagonalGroup"]
