"""Claim files: a claim declared in a Python file outside the package, verified like a built-in one.

The minimal form (a public contract):

    name = "my-claim"                  # used for report file names
    statement = "what is claimed, in words"
    points = [{"model": "ar1", "rho": "0.6", "alpha": "2", "lam": "0.2"},
              {"model": "isotropic", "alpha": "0.5", "lam": "0.3"}]
    rate = 1.0                         # expected beta of the gap c*d^-beta (optional, default 1)

    def observe(sample, point):        # one Monte Carlo sample -> {observable: float}
        ...

    def theory(point, d):              # d an int, or math.inf -> {observable: number or decimal string}
        ...

``sample`` is a :class:`~rmtverify.montecarlo.sample.Sample` (``X``, ``S``, ``Sigma``, ``n``, ``d``,
``Q(lam)``, ``A_hat(lam)``, ``rng``, ...); ``point`` a :class:`~rmtverify.verification.claim.Point`
(``point["rho"]`` as written, ``point.alpha``, ``point.lam``, ``point.model``, ``point.n(d)``). ``theory``
returns None at d = ∞ when there is no limit. Optional names: ``rates`` and ``labels`` (dicts per
observable), ``resolution`` (default 0.005: a 1% error must be detectable), ``ladder`` and ``quick_ladder``,
``seeds`` and ``quick_seeds``, ``draw`` ("rows", the default, or "gram": S through Bartlett's factor, no X).
A file may instead define ``claim``, an instance of :class:`~rmtverify.verification.claim.Claim`.

Whatever goes wrong in a file — it does not import, a function raises or returns a non-finite number or
misses an observable, a point names an unknown model — is one :class:`ClaimFileError` naming the file, the
function and the point.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import re
import sys
from fractions import Fraction
from functools import lru_cache
from numbers import Real
from pathlib import Path

from rmtverify.core.exceptions import ClaimFileError, InputError, RmtVerifyError
from rmtverify.verification.claim import Claim, Observable, Point, is_limit

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DEFAULT_LADDERS = ((64, 128, 256, 512), (128, 256, 512, 1024, 2048))
DEFAULT_SEEDS = (16, 16)


def digest_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def load_claim_file(path) -> Claim:
    """The claim a file declares (loaded once per process and content)."""
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise ClaimFileError(str(path), "file", "does not exist (a claim file is a Python file PATH.py)")
    try:
        digest = digest_of(path)
    except OSError as exc:
        raise ClaimFileError(str(path), "file", f"cannot be read ({exc.strerror})") from None
    return _load(str(path), digest)


@lru_cache(maxsize=64)
def _load(path: str, digest: str) -> Claim:
    module_name = f"rmtverify_claimfile_{digest}"
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # dataclasses and pickling look modules up by name
        spec.loader.exec_module(module)
    except Exception as exc:  # a user's file: any failure to import is that file's error, in one line
        sys.modules.pop(module_name, None)
        raise ClaimFileError(path, "import", f"{type(exc).__name__}: {exc}") from None
    claim = getattr(module, "claim", None)
    if claim is not None:
        if not isinstance(claim, Claim):
            raise ClaimFileError(path, "claim", f"must be an instance of rmtverify.api.Claim; got {type(claim).__name__}")
    else:
        claim = FileClaim(module, path)
    claim.source, claim.digest = path, digest
    _check_name(path, claim.name)
    return claim


def _check_name(path, name) -> None:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ClaimFileError(path, "name",
                             f"must be a short name of letters, digits, '-', '_' or '.' (it names the report files); got {name!r}")


def _number(path, where, key, value):
    """A theory or observation value as a finite number (exact when given as a decimal string)."""
    if isinstance(value, str):
        try:
            value = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise ClaimFileError(path, where, f"value of {key!r} is not a number: {value!r}") from None
    # a real number of any kind (int, float, Fraction, NumPy's scalars) or an mpmath number, not a bool
    if isinstance(value, bool) or not (isinstance(value, Real) or hasattr(value, "_mpf_")):
        raise ClaimFileError(path, where, f"value of {key!r} must be a number or a decimal string; got {type(value).__name__}")
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ClaimFileError(path, where, f"value of {key!r} is not a finite number ({exc})") from None
    if not math.isfinite(x):
        raise ClaimFileError(path, where, f"value of {key!r} is not finite: {x!r}")
    return value


class FileClaim(Claim):
    """A claim file in the minimal form, adapted to the claim API."""

    def __init__(self, module, path: str):
        self.path = path
        get = lambda key, default=None: getattr(module, key, default)  # noqa: E731
        for required in ("name", "statement", "points", "observe", "theory"):
            if get(required) is None:
                raise ClaimFileError(path, required, "is missing (a claim file defines name, statement, points, observe and theory)")
        self.name, self.statement = get("name"), get("statement")
        _check_name(path, self.name)
        if not isinstance(self.statement, str):
            raise ClaimFileError(path, "statement", "must be a string")
        for fn in ("observe", "theory"):
            if not callable(get(fn)):
                raise ClaimFileError(path, fn, "must be a function")
        self._observe, self._theory = get("observe"), get("theory")
        self.title = get("title", "") or ""
        self.rate = self._real("rate", get("rate", 1.0))
        self.rates = dict(get("rates", {}) or {})
        self.labels = dict(get("labels", {}) or {})
        self.resolution = self._real("resolution", get("resolution", 0.005))
        quick, full = DEFAULT_LADDERS
        self.ladders = (tuple(get("quick_ladder", quick)), tuple(get("ladder", full)))
        self.seeds = (int(get("quick_seeds", get("seeds", DEFAULT_SEEDS[0]))), int(get("seeds", DEFAULT_SEEDS[1])))
        self.draw = get("draw", "rows")
        self.version = "file"
        raw = get("points")
        if not isinstance(raw, (list, tuple)) or not raw:
            raise ClaimFileError(path, "points", "must be a non-empty list of dicts")
        base = Path(path).parent
        self.point_list = []
        for i, spec in enumerate(raw):
            if not isinstance(spec, dict):
                raise ClaimFileError(path, f"points[{i}]", f"must be a dict; got {type(spec).__name__}")
            try:
                label = spec.get("label")
                p = Point({k: v for k, v in spec.items() if k != "label"}, label=str(label) if label is not None else None, base_dir=base)
            except RmtVerifyError as exc:
                raise ClaimFileError(path, f"points[{i}]", str(exc)) from None
            if p.lam is None:
                raise ClaimFileError(path, f"points[{i}]", "lam: every point gives the ridge lam")
            self.point_list.append(p)
        keys = [p.key for p in self.point_list]
        if len(set(keys)) != len(keys):
            raise ClaimFileError(path, "points", "two points are the same (give them different parameters or labels)")
        self._observables = {}

    def _real(self, key, value) -> float:
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise ClaimFileError(self.path, key, f"must be a number; got {value!r}") from None
        if not math.isfinite(x) or x <= 0:
            raise ClaimFileError(self.path, key, f"must be a positive finite number; got {value!r}")
        return x

    def _call(self, fn, where, point, *args):
        try:
            return fn(*args)
        except ClaimFileError:
            raise
        except Exception as exc:  # the user's code: its failure is reported as that function's, at that point
            raise ClaimFileError(self.path, f"{where} at point {point.label}", f"{type(exc).__name__}: {exc}") from None

    def observables_for(self, point):
        if point.key not in self._observables:
            d0 = self.ladders[1][0]
            values = self.theory(point, d0, None)
            self._observables[point.key] = tuple(
                Observable(k, str(self.labels.get(k, k)), self._real(f"rates[{k!r}]", self.rates.get(k, self.rate)), self.resolution)
                for k in values
            )
        return self._observables[point.key]

    def theory(self, point, d, prepared):
        where = f"theory(point, {'math.inf' if is_limit(d) else d})"
        values = self._call(self._theory, where, point, point, d)
        if values is None and is_limit(d):
            return None
        if not isinstance(values, dict) or not values:
            raise ClaimFileError(self.path, f"{where} at point {point.label}",
                                 f"must return a non-empty dict of observables; got {type(values).__name__}")
        out = {str(k): _number(self.path, f"{where} at point {point.label}", k, v) for k, v in values.items()}
        if point.key in self._observables:
            names = [o.name for o in self._observables[point.key]]
            missing = [k for k in names if k not in out]
            if missing:
                raise ClaimFileError(self.path, f"{where} at point {point.label}",
                                     f"misses the observable(s) {', '.join(missing)} (it returned {', '.join(out)})")
        return out

    def measure(self, sample, point):
        where = "observe(sample, point)"
        values = self._call(self._observe, where, point, sample, point)
        if not isinstance(values, dict):
            raise ClaimFileError(self.path, f"{where} at point {point.label}",
                                 f"must return a dict of observables; got {type(values).__name__}")
        missing = [o.name for o in self.observables_for(point) if o.name not in values]
        if missing:
            raise ClaimFileError(self.path, f"{where} at point {point.label}, d = {sample.d}",
                                 f"misses the observable(s) {', '.join(missing)} that theory() gives")
        return {k: float(_number(self.path, f"{where} at point {point.label}, d = {sample.d}", k, values[k]))
                for k in (o.name for o in self.observables_for(point))}

    def ladder(self, options):
        try:
            return options.ladder(*self.ladders)
        except InputError:
            raise
        except (TypeError, ValueError) as exc:
            raise ClaimFileError(self.path, "ladder", f"must be increasing whole numbers ≥ 2 ({exc})") from None
