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
tried); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from rmtverify.core.exceptions import ClaimFileError, InputError, SolverError
from rmtverify.core.params import PARAMETERS, parse

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_SOLVER, EXIT_INTERRUPT = 0, 1, 2, 3, 130
MODEL_NAMES = ("isotropic", "spiked", "ar1", "mixture", "custom")


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # values such as -1e-3, -inf and nan are numbers to us, not option flags
        self._negative_number_matcher = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-(inf|infinity|nan)$", re.I)

    def error(self, message):  # argparse's own usage errors: exit 2 with one line, as documented
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(EXIT_USAGE)


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
    g.add_argument("--rho", help="ar1: " + _help("rho"))
    g.add_argument("--boundary", help="ar1: toeplitz | circulant (default toeplitz)")
    g.add_argument("--atoms", help="mixture: comma-separated eigenvalues of Σ (> 0)")
    g.add_argument("--weights", help="mixture: their shares, comma-separated, summing to 1 (default equal)")
    g.add_argument("--sigma", help="custom: a .npy file holding a symmetric positive-definite Σ")


def _build_model(args):
    from rmtverify.models import make_model

    opts = {k: getattr(args, k) for k in ("theta", "spike", "rank", "spike_seed", "rho", "boundary", "atoms", "weights", "sigma")}
    return make_model(args.model, **opts)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="rmtverify", description="Symbolic-numeric verifier for the random-matrix theory of masked SSR.")
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
    t.add_argument("--json", action="store_true", help="print one JSON object")

    s = sub.add_parser("simulate", help="Monte Carlo E_train and E_gen at one d")
    s.add_argument("model", choices=MODEL_NAMES)
    _model_options(s)
    s.add_argument("--alpha", required=True, help=_help("alpha"))
    s.add_argument("--lam", required=True, help=_help("lam"))
    s.add_argument("--d", required=True, help="dimension, an integer >= 2")
    s.add_argument("--seeds", default="16", help=_help("seeds") + " (default 16)")
    s.add_argument("--seed", default="0", help=_help("seed") + " (default 0)")
    s.add_argument("--jobs", default=None, help=_help("jobs") + ": samples run in N local processes (default 1: serial)")
    _run_options(s)
    s.add_argument("--json", action="store_true", help="print one JSON object")

    v = sub.add_parser("verify", help="verify one claim (built-in name or claim file PATH.py); exit 0 PASS, 1 FAIL")
    v.add_argument("claim", help="a built-in claim (ssr-closed-form, errors, spectrum, bbp, pca-spiked, pca-ar1) or a claim file PATH.py")
    v.add_argument("--quick", action="store_true", help="smaller ladder (the quick suite)")
    v.add_argument("--perturb", default="0", help=_help("perturb") + ": multiply the theory by (1 + EPS)")
    v.add_argument("--out", default="reports", help="report directory (default reports)")
    v.add_argument("--seed", default="0", help=_help("seed"))
    v.add_argument("--max-d", default=None, help=_help("max_d") + " (default: the claim's ladder)")
    v.add_argument("--jobs", default=None, help=_help("jobs") + ": samples run in N local processes (default 1: serial)")
    _run_options(v)

    r = sub.add_parser("report", help="every implemented claim and the derivations, plus reports/index.md")
    r.add_argument("--quick", action="store_true")
    r.add_argument("--jobs", default=None,
                   help=_help("jobs") + ": derivations and claims run in N processes (default: min(2, number of cores))")
    r.add_argument("--out", default="reports")
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
    q.add_argument("--dps", default="30", help=_help("dps") + " (default 30)")
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
    c.add_argument("--dps", default="30", help=_help("dps") + " (sample PCA: double precision)")
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
    k.add_argument("--d", default=None, help="dimension of the engine benchmarks (default 2048; quick 512)")
    k.add_argument("--repeats", default=None, help="repetitions per timing, medians reported (default 5; quick 3)")

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
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the Monte Carlo samples on a Dask distributed cluster (scheduler address, e.g. tcp://host:8786)")


def _cache(args):
    from rmtverify.core.storage import SampleCache, default_cache_dir

    if args.no_cache:
        return SampleCache(None)
    return SampleCache(Path(args.cache_dir) if args.cache_dir else default_cache_dir())


def cmd_theory(args) -> int:
    from rmtverify.theory.equivalents import equivalents

    model = _build_model(args)
    res = equivalents(model, args.alpha, args.lam, d=args.d, dps=None if args.double else (args.dps or 30))
    out = res.as_dict()
    if args.json:
        print(json.dumps(out))
    else:
        print(f"model {model.key()}  d = {out['d']}  alpha = {out['alpha']}  lam = {out['lam']}  digits = {out['dps']}")
        for k in ("kappa", "df1", "df2", "e_gen", "e_train", "dkappa_dlam"):
            label = {"df1": "df1/d", "df2": "df2/d", "dkappa_dlam": "dkappa/dlam"}.get(k, k)
            print(f"  {label:12s} {out[k]}")
    return EXIT_OK


def cmd_simulate(args) -> int:
    from rmtverify.montecarlo.engine import simulate

    model = _build_model(args)
    sim = simulate(model, args.alpha, [args.lam], args.d, seeds=args.seeds, root_seed=args.seed, cache=_cache(args), quiet=args.quiet,
                   executor=_executor(args))
    out = {"model": model.describe(), "alpha": str(sim.alpha), "lam": str(sim.lams[0]), **sim.summary(0), "seed": sim.root_seed}
    # no wall-clock time in the JSON: the same seed must give byte-identical output
    if args.json:
        print(json.dumps(out))
    else:
        print(f"model {model.key()}  d = {sim.d}  n = {sim.n}  samples = {sim.k}  seed = {sim.root_seed}")
        for obs in ("e_gen", "e_train"):
            print(f"  {obs:8s} {out[obs + '_mean']} ± {out[obs + '_se']}")
        print(f"  ({sim.seconds:.2f} s)")
    return EXIT_OK


def _executor(args, jobs=True):
    """Where samples run: ``--scheduler`` (Dask), else ``--jobs`` local processes, else serially."""
    from rmtverify.montecarlo.executor import executor_spec

    return executor_spec(getattr(args, "jobs", None) if jobs else None, getattr(args, "scheduler", None))


def _options(args, sample_jobs=True):
    from rmtverify.verification.claim import RunOptions

    return RunOptions(
        quick=args.quick,
        perturb=parse("perturb", getattr(args, "perturb", "0")),
        out=Path(args.out),
        seed=parse("seed", args.seed),
        cache=_cache(args),
        quiet=args.quiet,
        executor=_executor(args, sample_jobs),
        max_d=parse("max_d", args.max_d) if getattr(args, "max_d", None) is not None else None,
    )


def _check_ladders(claims, options) -> None:
    """Refuse now (not in a worker, after other work) a --max-d that cannot extend a claim's ladder."""
    for claim in claims:
        if claim.ladders is not None:
            claim.ladder(options)


def cmd_verify(args) -> int:
    from rmtverify.reports.suite import verify_and_write
    from rmtverify.verification.registry import get_claim

    claim = get_claim(args.claim)  # an unknown claim or a broken claim file is bad usage, before any work
    options = _options(args)
    _check_ladders([claim], options)
    entry = verify_and_write(args.claim, options)
    spec = f" ({entry['spec']})" if entry["spec"] != "file" else ""
    print(f"{entry['name']}{spec}: {entry['status']} — {entry['summary']}")
    print(f"report: {Path(args.out) / entry['file']}")
    return EXIT_OK if entry["status"] == "PASS" else EXIT_FAIL


def cmd_report(args) -> int:
    import os

    from rmtverify.reports.markdown import write_index
    from rmtverify.reports.suite import claim_files, run_report
    from rmtverify.verification.registry import builtin_claims, get_claim

    started = time.time()
    # a claim's samples run inside its worker (or on --scheduler's Dask cluster): --jobs is for the units
    opts = _options(args, sample_jobs=False)
    units = list(builtin_claims()) + (claim_files(args.claims) if args.claims else [])
    _check_ladders([get_claim(u) for u in units], opts)
    Path(opts.out).mkdir(parents=True, exist_ok=True)
    jobs = parse("jobs", args.jobs) if args.jobs is not None else min(2, os.cpu_count() or 1)
    ordered = run_report(units, opts, jobs, started, announce=lambda line: print(line, flush=True))
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
    out = density_report(model, args.alpha, args.lam, d=args.d, xs=xs, dps=args.dps)
    if args.json:
        print(json.dumps(out))
    else:
        print(f"model {model.key()}  d = {out['d']}  alpha = {out['alpha']}  lam = {out['lam']}  digits = {out['dps']}")
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
    from rmtverify.theory.pca import SampleLaw, choice, k_fraction, population_error, ssr_error

    model = _build_model(args)
    pca = choice("pca", args.pca, ("population", "sample"))
    metric = choice("metric", args.metric, ("reconstruction", "masked"))
    phi = k_fraction("k_frac", args.k_frac)
    e_ssr, lam, ridge = ssr_error(model, args.alpha, args.lam, dps=parse("dps", args.dps))
    if pca == "population":
        e_pca = population_error(model, phi, dps=args.dps, metric=metric)
    else:
        law = SampleLaw(model, args.alpha)
        e_pca = repr(law.reconstruction_error(phi) if metric == "reconstruction" else law.masked_error(phi))
    out = {"model": model.describe(), "alpha": str(parse("alpha", args.alpha)), "k_frac": str(phi), "pca": pca, "metric": metric,
           "e_ssr": e_ssr, "e_pca": e_pca, "lam": lam, "winner": "ssr" if float(e_ssr) < float(e_pca) else "pca"}
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
        sys.stderr.write("rmtverify: interrupted; finished samples are cached, no report was half-written\n")
        return EXIT_INTERRUPT
    finally:
        from rmtverify.montecarlo.executor import close_executors

        close_executors()


def entry_point():
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
