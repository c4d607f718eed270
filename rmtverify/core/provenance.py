"""Where a number came from: the versions, machine, command and time of a run, for every report."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    import mpmath

    out = {"rmtverify": own_version(), "python": platform.python_version()}
    for pkg in ("numpy", "scipy", "sympy", "mpmath", "matplotlib", "python-flint", "gmpy2"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    out["mpmath_backend"] = mpmath.libmp.BACKEND
    return out


def own_version() -> str:
    from rmtverify import __version__

    commit = None
    try:
        here = Path(__file__).resolve().parents[2]
        commit = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5
        ).stdout.strip() or None
        dirty = subprocess.run(
            # the reports the run itself rewrites do not make the code dirty
            ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)reports"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        if commit and dirty:
            commit += "+dirty"
    except (OSError, subprocess.SubprocessError):
        pass
    return f"{__version__} ({commit})" if commit else __version__


def run_record(started: float, extra: dict | None = None) -> dict:
    rec = {
        "command": " ".join(sys.argv),
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 3),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cpus",
        "versions": versions(),
    }
    if extra:
        rec.update(extra)
    return rec
