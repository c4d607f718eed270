"""The numbers of a claim report that must not move: canonical form and comparison (tests/test_claims.py).

Run as a script to record the golden file from a directory of quick-suite reports:
``python tests/golden.py GOOD_DIR BAD_DIR > tests/golden/quick-seed0.json``.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

VERDICT_NUMBERS = ("gap_inf", "gap_inf_se", "min_detectable_rel", "mc_inf", "mc_inf_se", "beta", "beta_se")


def canonical(data: dict) -> dict:
    """Per point and observable: Monte Carlo means and SEs, theory values, status and the verdict's numbers;
    per sub-test its status (and mean, where it has one); for an exact claim (C1), its cases."""
    out = {"status": data["status"], "observables": {}, "subtests": {}}
    for p in data.get("points", []):
        out.setdefault("seeds", {})[p["label"]] = p["seeds"]
        for name, o in p["observables"].items():
            v = o["verdict"] or {}
            out["observables"][f"{p['label']}/{name}"] = {
                "mc_mean": o["mc_mean"],
                "mc_se": o["mc_se"],
                "theory_d": o["theory_d"],
                "theory_inf": o["theory_inf"],
                "status": o["status"],
                "verdict": {k: v.get(k) for k in VERDICT_NUMBERS},
            }
        for t in p["subtests"]:
            out["subtests"][f"{p['label']}/{t['name']}"] = {"status": t["status"], "mean": t.get("mean", t.get("mean_margin"))}
    for key in ("float64", "mp"):
        if key in data:
            out[key] = [{"status": c["status"], "relative_difference": c["relative_difference"]} for c in data[key]]
    return out


def _close(a, b, rtol) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        try:
            a, b = float(a), float(b)
        except ValueError:
            return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or abs(a - b) <= rtol * max(abs(a), abs(b))
    return a == b


def compare_numbers(golden, new, rtol: float = 0.0, path: str = "") -> list:
    """Every difference between two canonical forms (numbers within ``rtol`` relative agree)."""
    if isinstance(golden, dict) and isinstance(new, dict):
        problems = [f"{path}/{k}: missing" for k in golden if k not in new] + [
            f"{path}/{k}: not in the golden run" for k in new if k not in golden]
        for k in golden:
            if k in new:
                problems += compare_numbers(golden[k], new[k], rtol, f"{path}/{k}")
        return problems
    if isinstance(golden, list) and isinstance(new, list):
        if len(golden) != len(new):
            return [f"{path}: length {len(new)} != {len(golden)}"]
        return [p for i, (a, b) in enumerate(zip(golden, new)) for p in compare_numbers(a, b, rtol, f"{path}[{i}]")]
    return [] if _close(golden, new, rtol) else [f"{path}: {new!r} != golden {golden!r}"]


if __name__ == "__main__":
    good, bad = Path(sys.argv[1]), Path(sys.argv[2])
    claims = ("ssr-closed-form", "errors", "spectrum", "bbp", "pca-spiked", "pca-ar1")
    out = {which: {c: canonical(json.loads((d / f"{c}.json").read_text())) for c in claims} for which, d in (("good", good), ("bad", bad))}
    print(json.dumps(out, indent=1, sort_keys=True))
