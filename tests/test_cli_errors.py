"""Bad input (SPEC §6): exit code 2, one line naming the parameter (and its range), never a traceback."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rmtverify.core.exceptions import InputError
from rmtverify.models import make_model
from rmtverify.theory.equivalents import equivalents

ISO = ("theory", "isotropic")
AR1 = ("theory", "ar1")
OK = ("--alpha", "0.5", "--lam", "0.1")


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad-sigma")
    np.save(d / "nonsym.npy", np.array([[1.0, 0.5], [0.2, 1.0]]))
    np.save(d / "notpd.npy", np.array([[1.0, 2.0], [2.0, 1.0]]))
    np.save(d / "singular.npy", np.array([[1.0, 1.0], [1.0, 1.0]]))
    np.save(d / "three.npy", np.ones((2, 2, 2)))
    np.save(d / "nonsquare.npy", np.ones((2, 3)))
    np.save(d / "tiny.npy", np.ones((1, 1)))
    np.save(d / "nan.npy", np.array([[1.0, np.nan], [np.nan, 1.0]]))
    np.save(d / "complex.npy", np.eye(2) * (1 + 1j))
    np.save(d / "good.npy", 2 * np.eye(3))
    (d / "text.txt").write_text("1 0\n0 1\n")
    (d / "fake.npy").write_bytes(b"\x93NUMPY garbage that is not an array")
    return d


# (argv, parameter named in the message, a piece of the allowed range or reason); "{D}" is the bad-files dir
INPUT_ERRORS = [
    (ISO + ("--alpha", "-1", "--lam", "0.1"), "alpha", "(0, inf)"),
    (ISO + ("--alpha", "0", "--lam", "0.1"), "alpha", "(0, inf)"),
    (ISO + ("--alpha", "0.5", "--lam", "-0.1"), "lam", "[0, inf)"),
    (AR1 + ("--rho", "1") + OK, "rho", "(-1, 1)"),
    (AR1 + ("--rho", "-1") + OK, "rho", "(-1, 1)"),
    (AR1 + ("--rho", "1.5") + OK, "rho", "(-1, 1)"),
    (("theory", "spiked", "--theta", "-1") + OK, "theta", "[0, inf)"),
    (ISO + ("--alpha", "nan", "--lam", "0.1"), "alpha", "(0, inf)"),
    (ISO + ("--alpha", "inf", "--lam", "0.1"), "alpha", "(0, inf)"),
    (ISO + ("--alpha=-inf", "--lam", "0.1"), "alpha", "(0, inf)"),
    (ISO + ("--alpha", "-inf", "--lam", "0.1"), "alpha", "(0, inf)"),  # -inf is a value, not an option
    (ISO + ("--alpha", "0.5", "--lam", "-1e-3"), "lam", "[0, inf)"),  # so is -1e-3
    (ISO + OK + ("--d", "-inf"), "d", "[2, inf)"),
    (ISO + ("--alpha", "0.5", "--lam", "nan"), "lam", "[0, inf)"),
    (ISO + ("--alpha", "0.5", "--lam", "inf"), "lam", "[0, inf)"),
    (ISO + ("--alpha", "abc", "--lam", "0.1"), "alpha", "real number"),
    (ISO + ("--alpha", "0.5", "--lam", "1e-3x"), "lam", "real number"),
    (ISO + ("--alpha", "1/0", "--lam", "0.1"), "alpha", "real number"),
    (ISO + ("--alpha", "", "--lam", "0.1"), "alpha", "real number"),
    (AR1 + ("--rho", "foo") + OK, "rho", "(-1, 1)"),
    (ISO + OK + ("--d", "1"), "d", "[2, inf)"),
    (ISO + OK + ("--d", "0"), "d", "[2, inf)"),
    (ISO + OK + ("--d", "2.5"), "d", "integer"),
    (ISO + OK + ("--d=-inf",), "d", "[2, inf)"),
    (ISO + OK + ("--dps", "5"), "dps", "[15, 10000]"),
    (ISO + OK + ("--dps", "14"), "dps", "[15, 10000]"),
    (ISO + OK + ("--dps", "100000"), "dps", "[15, 10000]"),
    (ISO + OK + ("--dps", "20.5"), "dps", "integer"),
    (("verify", "nosuchclaim"), "claim", "ssr-closed-form"),
    (("derive", "no_such_derivation"), "derivation", "kappa"),
    (ISO + ("--rho", "0.5") + OK, "rho", "not an option of model 'isotropic'"),
    (AR1 + ("--rho", "0.5", "--theta", "2") + OK, "theta", "not an option of model 'ar1'"),
    (ISO + ("--sigma", "x.npy") + OK, "sigma", "not an option"),
    (AR1 + OK, "rho", "required"),
    (("theory", "spiked") + OK, "theta", "required"),
    (("theory", "custom") + OK, "sigma", "required"),
    (AR1 + ("--rho", "0.5", "--boundary", "periodic") + OK, "boundary", "toeplitz, circulant"),
    (("theory", "spiked", "--theta", "1", "--spike", "diag") + OK, "spike", "flat, random, e1"),
    (("theory", "spiked", "--theta", "1,2,3", "--rank", "2") + OK, "theta", "one per spike"),
    (("theory", "spiked", "--theta", "1", "--rank", "0") + OK, "rank", "[1, inf)"),
    (("theory", "spiked", "--theta", "1", "--rank", "5", "--d", "4") + OK, "d", "rank"),
    (("theory", "spiked", "--theta", "1", "--spike", "random", "--spike-seed", "-3") + OK, "spike_seed", "integer"),
    (ISO + ("--alpha", "1", "--lam", "0"), "lam", "alpha != 1"),
    (("theory", "custom", "--sigma", "{D}/missing.npy") + OK, "sigma", "does not exist"),
    (("theory", "custom", "--sigma", "{D}/text.txt") + OK, "sigma", ".npy"),
    (("theory", "custom", "--sigma", "{D}/fake.npy") + OK, "sigma", ".npy"),
    (("theory", "custom", "--sigma", "{D}/nonsym.npy") + OK, "sigma", "symmetric"),
    (("theory", "custom", "--sigma", "{D}/notpd.npy") + OK, "sigma", "positive definite"),
    (("theory", "custom", "--sigma", "{D}/singular.npy") + OK, "sigma", "positive definite"),
    (("theory", "custom", "--sigma", "{D}/three.npy") + OK, "sigma", "square"),
    (("theory", "custom", "--sigma", "{D}/nonsquare.npy") + OK, "sigma", "square"),
    (("theory", "custom", "--sigma", "{D}/tiny.npy") + OK, "sigma", "2 x 2"),
    (("theory", "custom", "--sigma", "{D}/nan.npy") + OK, "sigma", "NaN"),
    (("theory", "custom", "--sigma", "{D}/complex.npy") + OK, "sigma", "real"),
    (("theory", "custom", "--sigma", "{D}/good.npy", "--d", "4") + OK, "d", "3 x 3"),
    (("theory", "custom", "--sigma", "{D}/good.npy", "--d", "inf") + OK, "d", "3"),
    (("simulate", "isotropic") + OK + ("--d", "inf"), "d", "finite"),
    (("simulate", "isotropic", "--alpha", "0.5", "--lam", "0", "--d", "20"), "lam", "n > d"),
    (("simulate", "isotropic", "--alpha", "0.001", "--lam", "0.1", "--d", "10"), "alpha", "at least one sample"),
    (("simulate", "isotropic") + OK + ("--d", "10", "--seeds", "1"), "seeds", "[2, 100000]"),
    (("simulate", "isotropic") + OK + ("--d", "10", "--seed", "-1"), "seed", "integer"),
    (("simulate", "ar1", "--rho", "1") + OK + ("--d", "10"), "rho", "(-1, 1)"),
    (("verify", "errors", "--perturb", "2"), "perturb", "[-1/2, 1/2]"),
    (("verify", "ssr-closed-form", "--perturb", "nan"), "perturb", "[-1/2, 1/2]"),
    (("verify", "errors", "--seed", "abc"), "seed", "integer"),
]

# argparse's own usage errors (unknown choice, missing option, conflicting options)
USAGE_ERRORS = [
    (("theory", "gaussian") + OK, "model"),
    (("simulate", "gaussian") + OK + ("--d", "10"), "model"),
    (ISO + ("--alpha", "0.5"), "--lam"),
    (("theory",), "model"),
    (("frobnicate",), "command"),
    (ISO + OK + ("--dps", "40", "--double"), "--double"),
    (("simulate", "isotropic") + OK, "--d"),
]


def _argv(argv, bad_files):
    return [a.replace("{D}", str(bad_files)) for a in argv]


def _ids(cases):
    return [" ".join(c[0])[:60] for c in cases]


@pytest.mark.parametrize("argv,param,allowed", INPUT_ERRORS, ids=_ids(INPUT_ERRORS))
def test_bad_input_exit_2_one_line_naming_parameter(cli, bad_files, argv, param, allowed):
    rc, out, err = cli(*_argv(argv, bad_files))
    assert rc == 2, (rc, out, err)
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith(f"rmtverify {argv[0]}: error: {param}: "), line
    assert allowed in line, line


@pytest.mark.parametrize("argv,param", USAGE_ERRORS, ids=_ids(USAGE_ERRORS))
def test_usage_errors_exit_2_naming_parameter(cli, argv, param):
    rc, out, err = cli(*argv)
    assert rc == 2, (rc, out, err)
    assert out == "" and "Traceback" not in err
    lines = err.splitlines()
    error_lines = [ln for ln in lines if ": error: " in ln]
    assert len(error_lines) == 1, err
    assert error_lines[0].startswith("rmtverify") and param in error_lines[0]
    # anything else is argparse's usage block
    others = [ln for ln in lines if ln not in error_lines]
    assert all(ln.startswith("usage:") or ln.startswith(" ") for ln in others), err


@pytest.mark.parametrize("argv", [USAGE_ERRORS[0][0], USAGE_ERRORS[2][0]], ids=["unknown-model", "missing-lam"])
def test_usage_errors_are_one_line(cli, argv):
    rc, out, err = cli(*argv)
    assert rc == 2
    assert len(err.splitlines()) == 1, err


# the process level: no traceback escapes python -m rmtverify
PROCESS_CASES = [
    (ISO + ("--alpha", "nan", "--lam", "0.1"), "alpha"),
    (("theory", "custom", "--sigma", "{D}/notpd.npy") + OK, "sigma"),
    (("simulate", "isotropic") + OK + ("--d", "inf"), "d"),
    (("verify", "errors", "--perturb", "2"), "perturb"),
    (ISO + OK + ("--dps", "100000"), "dps"),
    (("theory", "gaussian") + OK, "model"),
]


@pytest.mark.parametrize("argv,param", PROCESS_CASES, ids=_ids(PROCESS_CASES))
def test_bad_input_at_process_level(cli_process, bad_files, argv, param):
    rc, out, err = cli_process(*_argv(argv, bad_files), timeout=120)
    assert rc == 2, (rc, out, err)
    assert out == ""
    assert "Traceback" not in err and "Traceback" not in out
    error_lines = [ln for ln in err.splitlines() if ": error: " in ln]
    assert len(error_lines) == 1 and error_lines[0].startswith("rmtverify") and param in error_lines[0], err


def test_good_input_at_process_level(cli_process):
    """The same entry point succeeds (exit 0, nothing on stderr) on good input: the tests above are not vacuous."""
    rc, out, err = cli_process(*ISO, "--alpha", "2", "--lam", "0", "--dps", "20", "--json")
    assert rc == 0 and err == ""
    import json

    data = json.loads(out)
    assert data["e_gen"].startswith("2.0000000000000000000") and data["e_train"].startswith("0.5000000000000000000")


# ---------------------------------------------------------------- the Python API validates too


@pytest.mark.parametrize(
    "kwargs,param",
    [
        ({"alpha": float("nan"), "lam": 0.1}, "alpha"),
        ({"alpha": -0.5, "lam": 0.1}, "alpha"),
        ({"alpha": 0.5, "lam": float("inf")}, "lam"),
        ({"alpha": 0.5, "lam": -1e-300}, "lam"),
        ({"alpha": True, "lam": 0.1}, "alpha"),
        ({"alpha": 0.5, "lam": 0.1, "dps": 14}, "dps"),
        ({"alpha": 0.5, "lam": 0.1, "d": 1}, "d"),
        ({"alpha": 0.5, "lam": 0.1, "d": math.inf * -1}, "d"),
    ],
)
def test_api_bad_input(kwargs, param):
    with pytest.raises(InputError) as exc:
        equivalents(make_model("isotropic"), **kwargs)
    assert exc.value.parameter == param
    assert str(exc.value).startswith(f"{param}: ")


@pytest.mark.parametrize(
    "name,opts,param",
    [
        ("ar1", {"rho": 1.0}, "rho"),
        ("ar1", {"rho": float("nan")}, "rho"),
        ("spiked", {"theta": -0.1}, "theta"),
        ("nope", {}, "model"),
        ("isotropic", {"rho": 0.5}, "rho"),
        ("custom", {"sigma": [[1, 2], [3, 4]]}, "sigma"),
        ("custom", {"sigma": [[1, 0], [0]]}, "sigma"),
        ("custom", {"sigma": np.array([[1.0, 0.0], [0.0, -1.0]])}, "sigma"),
    ],
)
def test_model_bad_input(name, opts, param):
    with pytest.raises(InputError) as exc:
        make_model(name, **opts)
    assert exc.value.parameter == param
