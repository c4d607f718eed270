"""Claims that need an optional extra (real-data needs scikit-learn): resolved by name, and named with their install
hint when the extra is missing (the report then skips them with one line)."""

from __future__ import annotations

import importlib.util

from rmtverify.verification.registry import builtin_claims, get_claim, missing_requirement


def test_real_data_is_known_and_says_how_to_install_its_extra(monkeypatch):
    assert "real-data" in builtin_claims() and get_claim("real-data").name == "real-data"
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sklearn" else real(name, *a))
    assert missing_requirement(get_claim("real-data")) == "pip install 'rmtverify[data]'"
    assert missing_requirement(get_claim("errors")) is None
