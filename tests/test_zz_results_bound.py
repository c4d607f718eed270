"""One source of truth, checked by coverage: every result of every derivation is either evaluated by the library
during this test session or tagged ``reference_only``.

The library records each formula it binds (``rmtverify.symbolic.formulas.bound_results``). This module runs last
(its name sorts last), so in a run of the whole default suite the record holds everything the suite made the
library evaluate; run alone, or on a selection of tests, it has nothing to judge and skips.
"""

from __future__ import annotations

import pytest

import derivations
from rmtverify.symbolic.formulas import bound_results


def test_every_result_is_bound_by_the_suite_or_reference_only(request):
    session = request.session
    if session.testscollected < 400 or request.config.getoption("keyword") or request.config.getoption("markexpr") not in ("", "not slow"):
        pytest.skip("runs at the end of the whole default suite, where the record of bound results is complete")
    bound = bound_results()
    unbound, both = [], []
    for name in derivations.NAMES:
        for key, res in derivations.get(name).results.items():
            full = f"{name}.{key}"
            if res.reference_only and full in bound:
                both.append(full)
            elif not res.reference_only and full not in bound:
                unbound.append(full)
    assert unbound == [], f"results the library never evaluated in this session (bind them, or tag them reference_only): {unbound}"
    assert both == [], f"results tagged reference_only that the library evaluates: {both}"
