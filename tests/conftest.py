"""Shared fixtures.

* Every test gets its own Monte Carlo sample cache (``RMTVERIFY_CACHE`` points
  at a fresh temporary directory), so no test ever reads a stale user cache;
  subprocesses started by a test inherit the variable.
* After every test, mpmath's global precision must still be 15 digits (and
  python-flint's global precision 53 bits): the library computes in local
  contexts and must never change global state.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# One BLAS thread. The Monte Carlo does many small eigendecompositions; with
# OpenBLAS's default threads on a 2-core machine that is also busy (another
# rmtverify run, a parallel job), they slow down about a hundredfold. Set
# before NumPy is first imported, and inherited by the CLI subprocesses.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import mpmath  # noqa: E402
import pytest  # noqa: E402

PYTHON = sys.executable
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_sample_cache(tmp_path_factory, monkeypatch):
    cache = tmp_path_factory.mktemp("rmtverify-cache")
    monkeypatch.setenv("RMTVERIFY_CACHE", str(cache))
    yield cache


@pytest.fixture(autouse=True)
def global_precision_untouched():
    try:
        import flint

        flint_prec = flint.ctx.prec
    except ImportError:  # pragma: no cover - flint is a hard dependency
        flint = None
    assert mpmath.mp.dps == 15, f"mpmath.mp.dps was {mpmath.mp.dps} before the test (expected 15)"
    yield
    dps, prec = mpmath.mp.dps, mpmath.mp.prec
    # restore first, so one offender does not make every later test fail too
    mpmath.mp.dps = 15
    problems = []
    if dps != 15 or prec != 53:
        problems.append(f"mpmath.mp.dps = {dps} (prec {prec}) after the test; the library must use local contexts")
    if flint is not None and flint.ctx.prec != flint_prec:
        problems.append(f"python-flint ctx.prec = {flint.ctx.prec} after the test (was {flint_prec})")
        flint.ctx.prec = flint_prec
    if problems:
        pytest.fail("; ".join(problems))


@pytest.fixture
def cli(capsys):
    """Run ``rmtverify.cli.main(argv)`` in-process; returns (exit code, stdout, stderr)."""
    from rmtverify.cli import main

    def run(*argv):
        capsys.readouterr()  # drop anything printed before
        rc = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return rc, out, err

    return run


@pytest.fixture
def cli_process():
    """Run ``python -m rmtverify argv`` as a separate process; returns (exit code, stdout, stderr)."""
    import subprocess

    def run(*argv, timeout=300):
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        proc = subprocess.run(
            [PYTHON, "-m", "rmtverify", *map(str, argv)], capture_output=True, text=True, env=env, timeout=timeout, cwd=REPO
        )
        return proc.returncode, proc.stdout, proc.stderr

    return run


QUICK_CLAIMS = ("ssr-closed-form", "errors", "spectrum", "bbp", "pca-spiked", "pca-ar1")


@pytest.fixture(scope="session")
def quick_suite(tmp_path_factory):
    """Every built-in claim's quick suite at root seed 0, on the correct theory (``good``) and with the theory
    perturbed by +1% (``bad``), sharing one sample cache: run once per test session.

    Returns {"good": dir, "bad": dir, "rc": {(which, claim): exit code}, "out": {(which, claim): stdout}}."""
    import contextlib
    import io

    from rmtverify.cli import main

    base = tmp_path_factory.mktemp("quick-suite")
    cache = base / "cache"
    out = {"good": base / "good", "bad": base / "bad", "rc": {}, "out": {}, "cache": cache}
    for which, extra in (("good", []), ("bad", ["--perturb", "0.01"])):
        for claim in QUICK_CLAIMS:
            buf, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
                rc = main(["verify", claim, "--quick", "--out", str(out[which]), "--cache-dir", str(cache), "--quiet", *extra])
            out["rc"][(which, claim)] = rc
            out["out"][(which, claim)] = buf.getvalue() + err.getvalue()
    return out


def printed_digits_right(text: str, exact) -> bool:
    """Every printed digit of ``text`` is right: |text − exact| is at most half a unit in its last place (``exact``: a
    decimal string or a number, read by mpmath at its current precision)."""
    import mpmath

    mant = text.lstrip("-").split("e")[0]
    places = (len(mant.split(".")[1]) if "." in mant else 0) - (int(text.split("e")[1]) if "e" in text else 0)
    return abs(mpmath.mpf(text) - mpmath.mpf(exact)) <= mpmath.mpf(10) ** -places / 2
