"""The command line (a contract: keep these names and keys).

    rmtverify theory MODEL [model options] --alpha A --lam L [--d N|inf] [--dps P] [--json]
    rmtverify simulate MODEL [model options] --alpha A --lam L --d N [--seeds K] [--seed S] [--json]
    rmtverify verify CLAIM|PATH.py [--quick] [--perturb EPS] [--seed S] [--out DIR] [--max-d N]
    rmtverify report [--quick] [--out DIR] [--claims DIR]
      (simulate, verify, report: [--jobs N] [--scheduler ADDRESS] [--no-cache] [--quiet])
    rmtverify bench [--json] [--quick]
    rmtverify derive [NAME|PATH.py] [--json] [--out DIR]
    rmtverify density MODEL [model options] --alpha A --lam L [--d N|inf] [--x X1,X2,...] [--dps P] [--json]
    rmtverify threshold spiked [--base isotropic|ar1 --rho R] [--spike flat|random|e1] --alpha A --lam L
                       [--matrix ssr|sample] [--dps P] [--certify] [--json]
    rmtverify outlier spiked ... --theta T [--json]
    rmtverify compare MODEL [model options] --alpha A [--lam L|opt] --k-frac F [--pca population|sample]
                      [--metric reconstruction|masked] [--dps P] [--json]
    rmtverify crossover ar1 --rho R --alpha A [--lam L|opt] [--pca population|sample] [--dps P] [--json]

Exit codes: 0 success or PASS; 1 FAIL (or INCONCLUSIVE); 2 bad usage or bad
input (one message naming the parameter and its allowed range, no
traceback); 3 a computation that did not converge (the message says what it
tried); 70 an internal error (one line; RMTVERIFY_DEBUG=1 shows the traceback);
130 interrupted (Ctrl-C or SIGTERM: workers stopped, finished samples kept).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from fractions import Fraction
from pathlib import Path

from rmtverify.core.exceptions import ClaimFileError, InputError, SolverError, one_line_warnings
from rmtverify.core.params import INF, PARAMETERS, parse
from rmtverify.core.provenance import own_version

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_SOLVER, EXIT_INTERRUPT, EXIT_INTERNAL = 0, 1, 2, 3, 130, 70
MODEL_NAMES = ("isotropic", "spiked", "ar1", "mixture", "custom", "data")


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # values such as -1e-3, -inf, nan and lists of numbers (-0.5,0.3) are values to us, not option flags
        number = r"[-+]?((\d+\.?\d*|\.\d+)([eE][-+]?\d+)?(/\d+)?|inf|infinity|nan)"
        self._negative_number_matcher = re.compile(rf"^-{number[5:]}(,{number})*$", re.I)

    def error(self, message):  # argparse's own usage errors: exit 2 with one line, as documented
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(EXIT_USAGE)


def _checked(name: str):
    """An argparse type that validates a value by its parameter declaration at parse time."""

    def check(value):
        try:
            parse(name, value)
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return value

    return check


def _scheduler(value):
    from rmtverify.montecarlo.executor import scheduler_address

    try:
        return scheduler_address(value)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _help(name: str) -> str:
    p = PARAMETERS[name]
    units = "" if p.units == "dimensionless" else f" [{p.units}]"
    return f"{p.description}{units}; {p.allowed()}; typically {p.typical[0]} to {p.typical[1]}"


def _model_options(p):
    g = p.add_argument_group("model options")
    g.add_argument("--theta", help="spiked: " + _help("theta") + " (comma-separated: one per spike)")
    g.add_argument("--spike", help="spiked: spike direction, flat | random | e1 (default flat)")
    g.add_argument("--rank", help="spiked: " + _help("rank") + " (default 1)")
    g.add_argument("--spike-seed", dest="spike_seed", help="spiked, random directions: " + _help("spike_seed"))
    g.add_argument("--base", help="spiked: the base covariance, isotropic | ar1 (default isotropic; ar1 needs --rho)")
    g.add_argument("--rho", help="ar1, or spiked on the ar1 base: " + _help("rho"))
    g.add_argument("--boundary", help="ar1: toeplitz | circulant (default toeplitz)")
    g.add_argument("--atoms", help="mixture: comma-separated eigenvalues of Σ (> 0)")
    g.add_argument("--weights", help="mixture: their shares, comma-separated, summing to 1 (default equal)")
    g.add_argument("--sigma", help="custom: a .npy file holding a symmetric positive-definite Σ")
    g.add_argument("--data", dest="path", help="data: a .npy or .csv file, rows are samples (Σ = its covariance; rows drawn "
                                                "without replacement, n ≤ N/4)")
    g.add_argument("--standardize", action="store_const", const="true", default=None, help="data: divide each column by its SD")


def _law_options(p, default="gaussian"):
    g = p.add_argument_group("data law (SPEC §7)")
    g.add_argument("--law", default=default,
                   help="rows x = Σ^{1/2} z with i.i.d. z of law gaussian | rademacher | uniform | student (t, unit variance), or "
                        "elliptical-t (x = √τ Σ^{1/2} z, τ = (ν−2)/χ²_ν); "
                        + ("default gaussian" if default else "default: each point's own (Gaussian unless the claim says otherwise)"))
    g.add_argument("--nu", default=None, help="degrees of freedom ν > 2 of student and elliptical-t")


def _build_model(args):
    from rmtverify.models import make_model

    keys = ("theta", "spike", "rank", "spike_seed", "base", "rho", "boundary", "atoms", "weights", "sigma", "path", "standardize")
    opts = {k: getattr(args, k, None) for k in keys}
    return make_model(args.model, **opts)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="rmtverify", description="Symbolic-numeric verifier for the random-matrix theory of masked SSR.")
    p.add_argument("--version", action="version", version=f"rmtverify {own_version()}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser("theory", help="deterministic equivalents κ, df1/d, df2/d, E_gen, E_train")
    t.add_argument("model", choices=MODEL_NAMES)
    _model_options(t)
    t.add_argument("--alpha", required=True, help=_help("alpha"))
    t.add_argument("--lam", required=True, help=_help("lam"))
    t.add_argument("--d", default=None, help=_help("d") + " (default: inf, or the custom Σ's size)")
    prec = t.add_mutually_exclusive_group()
    prec.add_argument("--dps", default=None, help=_help("dps") + " (default 30)")
    prec.add_argument("--double", action="store_true", help="double-precision path (fast, for large finite d)")
    _law_options(t)
    t.add_argument("--mask-rate", dest="mask_rate", default=None,
                   help="mask each coordinate with probability P in (0, 1) (SPEC §8): E_mask(P) instead of SSR's errors; "
                        "'opt' finds the rate p* that minimises E_mask (and says when the minimum is at p -> 0 or p -> 1)")
    t.add_argument("--json", action="store_true", help="print one JSON object")

    s = sub.add_parser("simulate", help="Monte Carlo E_train and E_gen at one d")
    s.add_argument("model", choices=MODEL_NAMES)
    _model_options(s)
    s.add_argument("--alpha", required=True, help=_help("alpha"))
    s.add_argument("--lam", required=True, help=_help("lam"))
    s.add_argument("--d", default=None, help="dimension, an integer >= 2 (data: the file's, the default)")
    s.add_argument("--seeds", default="16", help=_help("seeds") + " (default 16)")
    s.add_argument("--seed", default="0", help=_help("seed") + " (default 0)")
    s.add_argument("--jobs", default=None, help=_help("jobs") + ": samples run in N local processes (default 1: serial)")
    _law_options(s)
    s.add_argument("--mask-rate", dest="mask_rate", default=None,
                   help="comma-separated masking rates P in (0, 1): Monte Carlo E_mask(P) of the estimator masked at rate P (SPEC §8)")
    _run_options(s)
    s.add_argument("--json", action="store_true", help="print one JSON object")

    v = sub.add_parser("verify", help="verify one claim (built-in name or claim file PATH.py); exit 0 PASS, 1 FAIL")
    v.add_argument("claim", help="a built-in claim (ssr-closed-form, errors, spectrum, bbp, pca-spiked, pca-ar1) or a claim file PATH.py")
    v.add_argument("--quick", action="store_true", help="smaller ladder (the quick suite)")
    v.add_argument("--perturb", default="0", help=_help("perturb") + ": multiply the theory by (1 + EPS)")
    v.add_argument("--out", default=None,
                   help="report directory (default: reports, reports/quick with --quick, reports/perturbed with --perturb)")
    v.add_argument("--seed", default="0", help=_help("seed"))
    v.add_argument("--max-d", default=None, help=_help("max_d") + " (default: the claim's ladder)")
    v.add_argument("--jobs", default=None, help=_help("jobs") + ": samples run in N local processes (default 1: serial)")
    _law_options(v, default=None)
    vd = v.add_argument_group("data set (claims that take one: real-data)")
    vd.add_argument("--data", default=None, metavar="FILE", help="a .npy or .csv file, rows are samples, instead of the claim's data set")
    vd.add_argument("--standardize", action="store_true", help="divide each column of --data by its SD")
    _run_options(v)

    r = sub.add_parser("report", help="every implemented claim and the derivations, plus reports/index.md")
    r.add_argument("--quick", action="store_true")
    r.add_argument("--jobs", default=None,
                   help=_help("jobs") + ": derivations and claims run in N processes (default: min(2, number of cores))")
    r.add_argument("--out", default=None, help="report directory (default reports, or reports/quick with --quick)")
    r.add_argument("--seed", default="0", help=_help("seed"))
    r.add_argument("--max-d", default=None, help=_help("max_d") + " (default: the claim's ladder)")
    r.add_argument("--claims", default=None, metavar="DIR",
                   help="also verify every claim file (*.py) of this folder and list it in the index")
    _run_options(r)

    q = sub.add_parser("density", help="spectral density of Â, support edges and atoms (claim C3)")
    q.add_argument("model", choices=MODEL_NAMES)
    _model_options(q)
    q.add_argument("--alpha", required=True, help=_help("alpha"))
    q.add_argument("--lam", required=True, help="ridge penalty, a real number in (0, inf)")
    q.add_argument("--d", default=None, help=_help("d") + " (default: inf, or the custom Σ's size)")
    q.add_argument("--x", default="", help="comma-separated points at which to print the density")
    qprec = q.add_mutually_exclusive_group()
    qprec.add_argument("--dps", default="30", help=_help("dps") + " (default 30)")
    qprec.add_argument("--double", action="store_true",
                       help="double precision (the only route for a finite-d Σ that is neither diagonal nor of constant diag R, "
                            "e.g. ar1 or a rotated spike at --d N): each value printed with the digits its error bound leaves")
    q.add_argument("--json", action="store_true")

    for cmd, helptext in (("threshold", "BBP threshold θ_c of S or Â (claim C4)"),
                          ("outlier", "BBP outlier location, overlap and bulk edge (claim C4)")):
        b = sub.add_parser(cmd, help=helptext)
        b.add_argument("model", choices=("spiked",))
        b.add_argument("--base", default="isotropic", help="isotropic | ar1 (default isotropic)")
        b.add_argument("--rho", default=None, help="ar1 base: " + _help("rho"))
        b.add_argument("--spike", default="flat", help="flat | random | e1 (default flat)")
        b.add_argument("--alpha", required=True, help=_help("alpha"))
        b.add_argument("--lam", default=None, help="ridge penalty, a real number in (0, inf); required with --matrix ssr")
        b.add_argument("--matrix", default="ssr", help="ssr (Â, default) | sample (S)")
        b.add_argument("--dps", default="30", help=_help("dps") + " (default 30)")
        b.add_argument("--json", action="store_true")
        if cmd == "threshold":
            b.add_argument("--certify", action="store_true", help="add an interval proven (ball arithmetic) to contain θ_c")
        else:
            b.add_argument("--theta", required=True, help=_help("theta"))

    c = sub.add_parser("compare", help="masked SSR against PCA with k = F·d directions at d = inf (claims C5, C6)")
    c.add_argument("model", choices=MODEL_NAMES)
    _model_options(c)
    c.add_argument("--alpha", required=True, help=_help("alpha"))
    c.add_argument("--lam", default="opt", help="ridge penalty, or 'opt' for the optimal ridge (default opt)")
    c.add_argument("--k-frac", dest="k_frac", required=True, help="k/d, a real number in [0, 1]")
    c.add_argument("--pca", default="population", help="population | sample (default population)")
    c.add_argument("--metric", default="reconstruction", help="reconstruction | masked (PCA as a masked predictor)")
    c.add_argument("--dps", default="30", help=_help("dps") + " (default 30)")
    c.add_argument("--json", action="store_true")

    x = sub.add_parser("crossover", help="the k/d at which PCA and masked SSR have equal errors (claim C6)")
    x.add_argument("model", choices=("ar1",))
    x.add_argument("--rho", required=True, help=_help("rho"))
    x.add_argument("--alpha", required=True, help=_help("alpha"))
    x.add_argument("--lam", default="opt", help="ridge penalty, or 'opt' (default opt)")
    x.add_argument("--pca", default="population", help="population | sample")
    x.add_argument("--metric", default="reconstruction", help="reconstruction | masked")
    x.add_argument("--dps", default="30", help=_help("dps"))
    x.add_argument("--json", action="store_true")

    k = sub.add_parser("bench", help="benchmarks: Monte Carlo engine vs the LAPACK floor and a naive pipeline; theory timings")
    k.add_argument("--json", action="store_true", help="print one JSON object")
    k.add_argument("--quick", action="store_true", help="smaller d and fewer repetitions (a smoke run)")
    k.add_argument("--d", default=None, type=_checked("d"), help="dimension of the engine benchmarks (default 2048; quick 512)")
    k.add_argument("--repeats", default=None, type=_checked("repeats"), help=_help("repeats") + " (default 5; quick 3)")

    d = sub.add_parser("derive", help="run the SymPy derivations (or a derivation file PATH.py) and write derivations.md")
    d.add_argument("name", nargs="?", default=None,
                   help="one built-in derivation, or a derivation file PATH.py (default: every built-in one)")
    d.add_argument("--json", action="store_true")
    d.add_argument("--out", default="reports")
    return p


def _run_options(p):
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the sample cache")
    p.add_argument("--cache-dir", default=None, help="sample cache directory (default $RMTVERIFY_CACHE or ~/.cache/rmtverify)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS", type=_scheduler,
                   help="run the Monte Carlo samples on a Dask distributed cluster (scheduler address, e.g. tcp://host:8786)")


def _cache(args):
    from rmtverify.core.storage import SampleCache, default_cache_dir

    if args.no_cache:
        return SampleCache(None)
    cache = SampleCache(Path(args.cache_dir) if args.cache_dir else default_cache_dir())
    cache.usable()  # a path that cannot hold the cache is bypassed now, with one warning, not in the middle of a run
    return cache


def cmd_theory(args) -> int:
    from rmtverify.theory.equivalents import equivalents

    model = _build_model(args)
    if args.law != "gaussian" or args.nu is not None:
        return _theory_law(args, model)
    if args.mask_rate is not None:
        return _theory_masked(args, model)
    res = equivalents(model, args.alpha, args.lam, d=args.d, dps=None if args.double else (args.dps or 30))
    out = res.as_dict()
    if args.json:
        print(json.dumps(out))
    else:
        digits = out["dps"] if out["dps"] != "double" else f"double ({out['digits']} significant, after the digits lost to cancellation)"
        print(f"model {model.key()}  d = {out['d']}  alpha = {out['alpha']}  lam = {out['lam']}  digits = {digits}")
        for k in ("kappa", "df1", "df2", "e_gen", "e_train", "dkappa_dlam"):
            label = {"df1": "df1/d", "df2": "df2/d", "dkappa_dlam": "dkappa/dlam"}.get(k, k)
            print(f"  {label:12s} {out[k]}")
    return EXIT_OK


def _print_result(args, model, out: dict) -> int:
    """One theory result: JSON, or a head line (model, d, α, λ, digits) and a line per scalar value."""
    if args.json:
        print(json.dumps(out))
        return EXIT_OK
    head = ("model", "d", "alpha", "lam", "dps")
    print(f"model {model.key()}  " + "  ".join(f"{k} = {out[k]}" for k in head[1:] if k in out))
    for k, v in out.items():
        if k not in head and not isinstance(v, (dict, list)):
            print(f"  {k:12s} {v}")
    return EXIT_OK


def _theory_law(args, model) -> int:
    """theory --law L [--nu ν]: the equivalents of that data law (elliptical: its own; i.i.d.: the Gaussian ones, their
    universal limit, with a note saying so)."""
    from rmtverify.theory.elliptical import law_equivalents

    if args.mask_rate is not None:
        raise InputError("law", "masking at rate p (--mask-rate) has its theory for Gaussian rows only; drop --law or --mask-rate")
    res = law_equivalents(model, args.alpha, args.lam, law=args.law, nu=args.nu, d=args.d,
                          dps=None if args.double else (args.dps or 30))
    out = res.as_dict()
    return _print_result(args, model, out)


def _theory_masked(args, model) -> int:
    """theory --mask-rate P|opt: E_mask(P) (SPEC §8), or the optimal rate p*."""
    from rmtverify.theory.masking import mask_error, optimal_mask_rate

    dps = None if args.double else (args.dps or 30)
    if args.mask_rate.strip() == "opt":
        out = optimal_mask_rate(model, args.alpha, args.lam, dps=dps, d=args.d if args.d is not None else INF).as_dict()
    else:
        out = mask_error(model, args.alpha, args.lam, args.mask_rate, d=args.d if args.d is not None else INF, dps=dps).as_dict()
    return _print_result(args, model, out)


def _simulate_masked(args, model) -> int:
    from rmtverify.montecarlo.engine import simulate_masked

    rates = [p for p in args.mask_rate.split(",") if p.strip()] or [args.mask_rate]
    sim = simulate_masked(model, args.alpha, args.lam, rates, args.d, seeds=args.seeds, root_seed=args.seed, cache=_cache(args),
                          quiet=args.quiet, executor=_executor(args))
    out = {"model": model.describe(), "alpha": str(parse("alpha", args.alpha)), "lam": str(parse("lam", args.lam)), "d": sim["d"],
           "n": sim["n"], "seeds": sim["seeds"], "seed": parse("seed", args.seed)}
    for p, (mean, se) in sim["rates"].items():
        tag = "" if len(sim["rates"]) == 1 else f"|{p}"
        out.update({f"mask_rate{tag}": str(p), f"e_mask_mean{tag}": repr(mean), f"e_mask_se{tag}": repr(se)})
    if args.json:
        print(json.dumps(out))
    else:
        print(f"model {model.key()}  d = {sim['d']}  n = {sim['n']}  samples = {sim['seeds']}  seed = {out['seed']}")
        for p, (mean, se) in sim["rates"].items():
            print(f"  e_mask(p = {p})  {mean_with_error(mean, se)}")
        print(f"  ({sim['seconds']:.2f} s; the JSON keeps every digit of the means)")
    return EXIT_OK


def cmd_simulate(args) -> int:
    from rmtverify.models.laws import with_law
    from rmtverify.montecarlo.engine import simulate

    model = with_law(_build_model(args), args.law, args.nu)
    if args.d is None:
        if args.model != "data":
            raise InputError("d", "is required for the Monte Carlo (--d N, an integer >= 2)")
        args.d = model.default_d()
    if args.model == "data":
        from rmtverify.montecarlo.engine import sample_size

        model.check_n(sample_size(parse("alpha", args.alpha), model.check_d(args.d)))  # n ≤ N/4, before any work
    if args.mask_rate is not None:
        return _simulate_masked(args, model)
    sim = simulate(model, args.alpha, [args.lam], args.d, seeds=args.seeds, root_seed=args.seed, cache=_cache(args), quiet=args.quiet,
                   executor=_executor(args))
    out = {"model": model.describe(), "alpha": str(sim.alpha), "lam": str(sim.lams[0]), **sim.summary(0), "seed": sim.root_seed}
    # no wall-clock time in the JSON: the same seed must give byte-identical output
    if args.json:
        print(json.dumps(out))
    else:
        print(f"model {model.key()}  d = {sim.d}  n = {sim.n}  samples = {sim.k}  seed = {sim.root_seed}")
        for obs in ("e_gen", "e_train"):
            print(f"  {obs:8s} {mean_with_error(float(out[obs + '_mean']), float(out[obs + '_se']))}")
        print(f"  ({sim.seconds:.2f} s; the JSON keeps every digit of the means)")
    return EXIT_OK


def _jobs(args):
    """--jobs, validated and capped at the number of cores (more processes than cores only compete), with a note."""
    import os

    if getattr(args, "jobs", None) is None:
        return None
    jobs, cores = parse("jobs", args.jobs), os.cpu_count() or 1
    if jobs > cores:
        sys.stderr.write(f"rmtverify: note: --jobs {jobs} capped to {cores}, the number of cores of this machine\n")
        return cores
    return jobs


def mean_with_error(mean: float, se: float) -> str:
    """A Monte Carlo mean with only the digits its standard error supports: the SE to two significant digits and
    the mean to the same decimal place (1.50892 ± 0.044 → 1.509 ± 0.044)."""
    import math

    if not (math.isfinite(mean) and math.isfinite(se)) or se <= 0:
        return f"{mean!r} ± {se!r}"
    place = math.floor(math.log10(se)) - 1  # the decimal place of the SE's second significant digit
    decimals = max(0, -place)
    return f"{round(mean, -place):.{decimals}f} ± {round(se, -place):.{decimals}f}"


def _executor(args, jobs=True):
    """Where samples run: ``--scheduler`` (Dask), else ``--jobs`` local processes, else serially."""
    from rmtverify.montecarlo.executor import executor_spec

    return executor_spec(_jobs(args) if jobs else None, getattr(args, "scheduler", None))


def _out(args) -> Path:
    """Where a run writes: --out, or a folder of its own for quick and perturbed runs, so that they never
    overwrite the full suite's reports in reports/."""
    if args.out is not None:
        return Path(args.out)
    if parse("perturb", getattr(args, "perturb", "0")) != 0:
        out = Path("reports") / "perturbed"
    else:
        out = Path("reports") / "quick" if args.quick else Path("reports")
    law, data = getattr(args, "law", None), getattr(args, "data", None)
    if law is not None:
        out = out / ("law-" + law + (f"-nu{args.nu}" if args.nu is not None else ""))
    if data is not None:
        out = out / ("data-" + (Path(data).stem or "file"))
    return out


def _options(args, sample_jobs=True):
    from rmtverify.verification.claim import RunOptions

    return RunOptions(
        quick=args.quick,
        perturb=parse("perturb", getattr(args, "perturb", "0")),
        out=_out(args),
        seed=parse("seed", args.seed),
        cache=_cache(args),
        quiet=args.quiet,
        executor=_executor(args, sample_jobs),
        max_d=parse("max_d", args.max_d) if getattr(args, "max_d", None) is not None else None,
        law=_law_override(args),
        data=_data_override(args),
    )


def _data_override(args) -> dict | None:
    """verify --data FILE [--standardize]: the data set a claim that takes one verifies; None without --data."""
    if getattr(args, "data", None) is None:
        if getattr(args, "standardize", False) is True:
            raise InputError("standardize", "goes with --data FILE")
        return None
    return {"path": args.data, "standardize": args.standardize}


def _law_override(args) -> tuple | None:
    """verify --law L [--nu ν]: (law, ν as a decimal string) given to every point, checked now; None without --law."""
    from rmtverify.models.laws import parse_law, parse_nu

    law = getattr(args, "law", None)
    if law is None:
        if getattr(args, "nu", None) is not None:
            raise InputError("nu", "goes with --law student or --law elliptical-t")
        return None
    nu = parse_nu(parse_law(law), args.nu)
    return law, (None if nu is None else str(nu))


def _check_ladders(claims, options) -> None:
    """Refuse now (not in a worker, after other work) a --max-d that cannot extend a claim's ladder."""
    for claim in claims:
        if claim.ladders is not None:
            claim.ladder(options)


def cmd_verify(args) -> int:
    from dataclasses import replace

    from rmtverify.reports.markdown import write_index
    from rmtverify.reports.progress import DirectSink, Display
    from rmtverify.reports.suite import verify_and_write
    from rmtverify.verification.engine import check_overrides
    from rmtverify.verification.registry import get_claim

    claim = get_claim(args.claim)  # an unknown claim or a broken claim file is bad usage, before any work
    options = _options(args)
    check_overrides(claim, options)
    _check_writable(options.out)
    _check_ladders([claim], options)
    started = time.time()
    display = Display([args.claim], {args.claim: 1.0}, {args.claim: claim.name}, quiet=args.quiet)
    try:
        entry = verify_and_write(args.claim, replace(options, progress=DirectSink(display, args.claim)))
    finally:
        display.close()
    write_index(options.out, None, started)  # the index always tells what the folder holds
    spec = f" ({entry['spec']})" if entry["spec"] != "file" else ""
    print(f"{entry['name']}{spec}: {entry['status']} — {entry['summary']}")
    print(f"report: {options.out / entry['file']}")
    return EXIT_OK if entry["status"] == "PASS" else EXIT_FAIL


def cmd_report(args) -> int:
    import os

    from rmtverify.reports.markdown import write_index
    from rmtverify.reports.suite import claim_files, report_display, run_report
    from rmtverify.verification.registry import builtin_claims, get_claim, missing_requirement

    started = time.time()
    # a claim's samples run inside its worker (or on --scheduler's Dask cluster): --jobs is for the units
    opts = _options(args, sample_jobs=False)
    units = []
    for name, claim in builtin_claims().items():
        missing = missing_requirement(claim)
        if missing:
            print(f"{name}: skipped — needs an optional extra: {missing}", flush=True)
        else:
            units.append(name)
    units += claim_files(args.claims) if args.claims else []
    _check_ladders([get_claim(u) for u in units], opts)
    _check_writable(Path(opts.out))
    jobs = _jobs(args) if args.jobs is not None else min(2, os.cpu_count() or 1)
    display = report_display(units, quiet=args.quiet, quick=args.quick, jobs=jobs)
    try:
        ordered = run_report(units, opts, jobs, started, display=display)
    finally:
        display.close()
    index = write_index(opts.out, ordered, started)
    print(f"index: {index}")
    if any(e["status"] == "ERROR" for e in ordered):
        return EXIT_USAGE
    return EXIT_OK if all(e["status"] == "PASS" for e in ordered) else EXIT_FAIL


def cmd_bench(args) -> int:
    from rmtverify.montecarlo.bench import format_text, run_bench

    out = run_bench(quick=args.quick, d=args.d, repeats=args.repeats)
    print(json.dumps(out, indent=2) if args.json else format_text(out))
    return EXIT_OK


def cmd_density(args) -> int:
    from rmtverify.theory.spectrum import density_report

    model = _build_model(args)
    xs = [x for x in args.x.split(",") if x.strip()] if args.x else []
    out = density_report(model, args.alpha, args.lam, d=args.d, xs=xs, dps=None if args.double else args.dps)
    if args.json:
        print(json.dumps(out))
    else:
        digits = out["dps"]
        if digits is None:
            worst = max(out["density_error"].values(), key=float, default="0")
            digits = f"double (density +- {worst} at most, edges +- {out['edge_error']}; only the digits these leave)"
        print(f"model {model.key()}  d = {out['d']}  alpha = {out['alpha']}  lam = {out['lam']}  digits = {digits}")
        for lo, hi in out["edges"]:
            print(f"  support  [{lo}, {hi}]")
        if out["atom_location"] is not None:
            print(f"  atom     mass {out['atom_mass']} at {out['atom_location']}")
        for x, v in out["density"].items():
            print(f"  density({x}) = {v}")
    return EXIT_OK


def cmd_threshold(args) -> int:
    from rmtverify.theory.bbp import threshold

    out = threshold(alpha=args.alpha, base=args.base, spike=args.spike, lam=args.lam, matrix=args.matrix, rho=args.rho, dps=args.dps,
                    certify=args.certify).as_dict()
    if args.json:
        print(json.dumps(out))
    else:
        print(f"theta_c = {out['theta_c']}" + (f"  ({out['reason']})" if out.get("reason") else ""))
        if out.get("certified"):
            print(f"certified: theta_c in [{out['theta_c_lo']}, {out['theta_c_hi']}]")
    return EXIT_OK


def cmd_outlier(args) -> int:
    from rmtverify.theory.bbp import outlier

    out = outlier(theta=args.theta, alpha=args.alpha, base=args.base, spike=args.spike, lam=args.lam, matrix=args.matrix, rho=args.rho,
                  dps=args.dps).as_dict()
    if args.json:
        print(json.dumps(out))
    else:
        for k in ("location", "overlap", "bulk_edge", "separated", "theta_c"):
            print(f"  {k:10s} {out[k]}")
    return EXIT_OK


def cmd_compare(args) -> int:
    from rmtverify.theory.pca import choice, k_fraction, population_error, sample_error, ssr_error

    model = _build_model(args)
    pca = choice("pca", args.pca, ("population", "sample"))
    metric = choice("metric", args.metric, ("reconstruction", "masked"))
    phi = k_fraction("k_frac", args.k_frac)
    dps = parse("dps", args.dps)
    e_ssr, lam, ridge = ssr_error(model, args.alpha, args.lam, dps=dps)
    if pca == "population":
        e_pca = population_error(model, phi, dps=dps, metric=metric)
    else:
        e_pca = sample_error(model, args.alpha, phi, metric, dps=dps)
    out = {"model": model.describe(), "alpha": str(parse("alpha", args.alpha)), "k_frac": str(phi), "pca": pca, "metric": metric,
           "e_ssr": e_ssr, "e_pca": e_pca, "lam": lam, "winner": "ssr" if Fraction(e_ssr) < Fraction(e_pca) else "pca"}
    if ridge is not None:
        out["lam_opt"] = ridge.as_dict()["lam_opt"]
    if args.json:
        print(json.dumps(out))
    else:
        for k in ("e_ssr", "e_pca", "lam", "winner"):
            print(f"  {k:8s} {out[k]}")
    return EXIT_OK


def cmd_crossover(args) -> int:
    from rmtverify.models import make_model
    from rmtverify.theory.pca import crossover

    c = crossover(make_model("ar1", rho=args.rho), args.alpha, args.lam, args.pca, args.metric, dps=args.dps)
    out = {"rho": str(parse("rho", args.rho)), "alpha": str(parse("alpha", args.alpha)), **c.as_dict()}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"f_star = {out['f_star']}  (SSR wins for k/d < f_star; e_ssr = {out['e_ssr']}, lam = {out['lam']})")
    return EXIT_OK


def cmd_derive(args) -> int:
    from rmtverify.reports.derivations import as_json, write_report
    from rmtverify.verification.derive import run_derivations

    started = time.time()
    out = Path(args.out)
    _check_writable(out)  # before minutes of checks
    reps = run_derivations([args.name] if args.name else None)
    path = write_report(reps, out, started)
    if args.json:
        print(json.dumps(as_json(reps)))
    else:
        for r in reps:
            line = f"{r.name:18s} {'PASS' if r.ok else 'FAIL'}  {r.seconds:6.1f} s"
            if not r.ok:
                line += "  failing: " + ", ".join(r.failed_steps)
            print(line)
        print(f"report: {path}")
    return EXIT_OK if all(r.ok for r in reps) else EXIT_FAIL


def _check_writable(out: Path) -> None:
    """Refuse an output folder that cannot be created or written, before any work."""
    import tempfile

    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".rmtverify-write-test-"):
            pass
    except OSError as exc:
        raise InputError("out", f"cannot write reports into {str(out)!r} ({exc.strerror or exc})") from None


COMMANDS = {"theory": cmd_theory, "simulate": cmd_simulate, "verify": cmd_verify, "report": cmd_report, "derive": cmd_derive,
            "density": cmd_density, "threshold": cmd_threshold, "outlier": cmd_outlier, "compare": cmd_compare, "crossover": cmd_crossover,
            "bench": cmd_bench}


def main(argv=None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    import os
    import warnings

    from rmtverify.montecarlo.executor import close_executors

    interrupted = False
    with warnings.catch_warnings():
        one_line_warnings()
        try:
            return COMMANDS[args.command](args)
        except InputError as exc:
            sys.stderr.write(f"rmtverify {args.command}: error: {exc}\n")
            return EXIT_USAGE
        except ClaimFileError as exc:
            sys.stderr.write(f"rmtverify {args.command}: error in {exc}\n")
            return EXIT_USAGE
        except SolverError as exc:
            sys.stderr.write(f"rmtverify {args.command}: computation failed: {exc}\n")
            return EXIT_SOLVER
        except KeyboardInterrupt:
            interrupted = True
            sys.stderr.write("rmtverify: interrupted; finished samples are cached, no report was half-written\n")
            return EXIT_INTERRUPT
        except MemoryError:
            sys.stderr.write(f"rmtverify {args.command}: error: out of memory; choose a smaller d or fewer --jobs\n")
            return EXIT_USAGE
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                raise
            where = f" {str(exc.filename)!r}" if exc.filename else ""
            sys.stderr.write(f"rmtverify {args.command}: error: cannot use{where}: {exc.strerror or exc}\n")
            return EXIT_USAGE
        except Exception as exc:  # a bug of ours: one line, and the traceback only on request
            if os.environ.get("RMTVERIFY_DEBUG"):
                raise
            sys.stderr.write(f"rmtverify {args.command}: internal error: {type(exc).__name__}: {exc} "
                             "(please report it; RMTVERIFY_DEBUG=1 shows the traceback)\n")
            return EXIT_INTERNAL
        finally:
            close_executors(wait=not interrupted)


def _terminate(signum, frame):
    """SIGTERM ends a run the way Ctrl-C does: workers stopped, finished samples kept, no half-written report."""
    raise KeyboardInterrupt


def entry_point():
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader of our output went away (``rmtverify ... | head``): not an error of ours, and no traceback
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_OK
    sys.exit(code)


if __name__ == "__main__":
    entry_point()
