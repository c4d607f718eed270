"""Real data (SPEC §7): the population is a data set, Σ its covariance, and a sample is n of its rows.

:class:`DataModel` reads a data matrix (``.npy`` written by numpy.save, or ``.csv``; rows are samples: N rows, d
columns), or takes an array. Its population is the file itself: a row drawn uniformly has mean the file's mean and
covariance

    Σ = (1/N) Σ_i (x_i − x̄)(x_i − x̄)ᵀ           (centred; with ``standardize``, each column divided by its SD)

so the theory (the finite-d equivalents at this Σ; there is no d = ∞ description) and the Monte Carlo share one Σ
exactly. A sample is n rows drawn WITHOUT replacement, centred by the file's mean (``gaussian = False``: the engine
draws the rows, never Bartlett's factor). Draws without replacement are dependent (negatively, by O(n/N)); n ≤ N/4
(``MAX_FRACTION``) keeps them nearly independent, and a larger n is refused.

Columns that are constant over the file (e.g. the always-blank corner pixels of the handwritten digits) carry nothing
and would make Σ singular (the equivalents read tr Σ⁻¹, and ``standardize`` would divide by 0): they are dropped, so
d = the file's columns less the constant ones, and ``describe()`` lists them (``dropped_constant``).

The model's key carries the sha256 of the file's bytes (of the array's bytes for an array), so that the sample cache
never serves the samples of another file under the same name.
"""

from __future__ import annotations

import copy
import hashlib
from fractions import Fraction
from functools import cached_property
from pathlib import Path

import numpy as np

from rmtverify.core.exceptions import InputError
from rmtverify.core.params import INF, parse
from rmtverify.models.base import CovarianceModel, SpectralResolvent
from rmtverify.models.custom import FlintResolvent

#: the largest sample n as a fraction of the file's N rows
MAX_FRACTION = Fraction(1, 4)
TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")
#: how a sample's rows are drawn: from the file without replacement (the model), with replacement (i.i.d. rows of the
#: file's empirical law), or Gaussian rows with the data's Σ (a surrogate): the last two are controls for claims
DRAWS = ("without", "with", "gaussian")


def parse_standardize(value) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
        return value.strip().lower() in TRUE
    raise InputError("standardize", f"true or false; got {value!r}")


def _read(path: Path) -> tuple[np.ndarray, bytes]:
    """The array in a .npy or .csv file and the file's bytes; InputError naming ``data`` otherwise (one line)."""
    if not path.is_file():
        raise InputError("data", f"file {str(path)!r} does not exist (give a .npy or .csv data matrix, rows are samples)")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError("data", f"file {str(path)!r} cannot be read ({exc.strerror or exc})") from None
    if raw[:6] == b"\x93NUMPY":
        import io

        try:
            return np.load(io.BytesIO(raw), allow_pickle=False), raw
        except (OSError, ValueError, EOFError) as exc:
            what = "holds Python objects, not a numeric array" if "pickle" in str(exc) else f"is a damaged .npy file ({exc})"
            raise InputError("data", f"{str(path)!r} {what}") from None
    if path.suffix.lower() == ".npy":
        raise InputError("data", f"{str(path)!r} is not a .npy file (it does not start as one): write it with numpy.save")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("data", f"{str(path)!r} is neither a .npy file nor a text (.csv) file") from None
    lines = [ln for ln in text.splitlines() if ln.strip()]
    sep = "," if lines and "," in lines[0] else None
    for skip in (0, 1):  # a header line is allowed
        try:
            rows = [[float(x) for x in (ln.split(sep) if sep else ln.split())] for ln in lines[skip:]]
        except ValueError:
            continue
        if rows and len({len(r) for r in rows}) == 1:
            return np.array(rows, dtype=float), raw
        if rows:
            raise InputError("data", f"{str(path)!r}: rows of unequal length ({sorted({len(r) for r in rows})[:4]} columns)")
    raise InputError("data", f"{str(path)!r} is not a numeric .csv file (rows of numbers separated by commas, one header line allowed)")


class DataModel(CovarianceModel):
    """A data set as the population: Σ = its covariance, samples = rows drawn without replacement."""

    name = "data"
    has_limit = False
    gaussian = False

    def __init__(self, path, standardize=False, source: str | None = None, draws: str = "without"):
        self.standardize = parse_standardize(standardize)
        self._set_draws(draws)
        if isinstance(path, np.ndarray):
            arr, raw = path, None
            self.source = source or "array"
        elif isinstance(path, (str, Path)) and str(path):
            arr, raw = _read(Path(path))
            self.source = str(path)
        else:
            raise InputError("data", f"a path to a .npy or .csv data matrix; got {path!r}")
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "iuf":
            raise InputError("data", f"must hold a real numeric array; got dtype {getattr(arr, 'dtype', type(arr))}")
        if arr.ndim != 2:
            raise InputError("data", f"must be a matrix (rows are samples, columns are coordinates); got shape {arr.shape}")
        N, d = arr.shape
        if d < 2 or N < 8:
            raise InputError("data", f"needs at least 2 columns and 8 rows; got {N} x {d}")
        arr = np.ascontiguousarray(arr, dtype=float)
        if not np.all(np.isfinite(arr)):
            raise InputError("data", "has NaN or infinite entries")
        self.N, self.columns = N, d
        self.mean = arr.mean(axis=0)
        X = arr - self.mean
        sd = np.sqrt(np.mean(X**2, axis=0))
        constant = sd <= 1e-12 * max(1.0, float(np.max(np.abs(arr))))
        self.constant = [int(k) for k in np.flatnonzero(constant)]
        if d - len(self.constant) < 2:
            raise InputError("data", f"{d - len(self.constant)} of its {d} columns vary: the covariance needs at least 2")
        X = X[:, ~constant]
        self.d = X.shape[1]
        self.X = X / sd[~constant] if self.standardize else X
        self.arr = self.X.T @ self.X / N
        self.arr = (self.arr + self.arr.T) / 2
        self.digest = hashlib.sha256(raw if raw is not None else arr.tobytes() + repr(arr.shape).encode()).hexdigest()[:16]

    def with_draws(self, draws: str) -> "DataModel":
        """The same data set (read once) drawn another way: ``without`` or ``with`` replacement, or ``gaussian`` rows."""
        other = copy.copy(self)
        other._set_draws(draws)
        return other

    def _set_draws(self, draws: str) -> None:
        if draws not in DRAWS:
            raise InputError("draws", f"one of {', '.join(DRAWS)}; got {draws!r}")
        self.draws, self.gaussian = draws, draws == "gaussian"

    def describe(self):
        out = {"model": self.name, "path": self.source, "N": self.N, "d": self.d, "standardize": self.standardize, "sha256": self.digest}
        if self.constant:
            out["columns"], out["dropped_constant"] = self.columns, ",".join(map(str, self.constant))
        if self.draws != "without":
            out["draws"] = self.draws
        return out

    def default_d(self):
        return self.d

    def check_d(self, d):
        if d is None:
            return self.d
        d = parse("d", d)
        if d != self.d:
            raise InputError("d", f"the data have d = {self.d} columns{self._dropped()}; d must be {self.d} (or omitted), got {d}"
                             + (" (no d = inf description: the population is the file)" if d == INF else ""))
        return d

    def _dropped(self) -> str:
        return f" (the file's {self.columns} less {len(self.constant)} constant)" if self.constant else ""

    @property
    def max_n(self) -> int:
        return int(self.N * MAX_FRACTION)

    def check_n(self, n: int) -> int:
        """n ≤ N/4, else InputError naming ``alpha`` (n = round(αd))."""
        if n > self.max_n:
            raise InputError("alpha", f"n = {n} rows exceed N/4 = {self.max_n} of the {self.N}-row data {self.source!r}: n ≤ N/4 by "
                                      f"default so that draws are nearly independent (alpha ≤ {self.max_n / self.d:.4g} at d = {self.d})")
        return n

    @cached_property
    def _eigh(self):
        vals, vecs = np.linalg.eigh(self.arr)
        return np.clip(vals, 0.0, None), vecs  # Σ is positive semi-definite; rounding may leave -1e-16

    def resolvent(self, d, ctx):
        self.check_d(d)
        if ctx.prec <= 53:
            vals, vecs = self._eigh
            return SpectralResolvent(vals, vecs**2)
        return FlintResolvent(None, self.arr, ctx)

    def sigma(self, d):
        return self.arr

    def sigma_apply(self, d, B):
        return self.arr @ B

    def apply_root(self, d, Z):
        """Gaussian rows with the data's covariance (a surrogate: x = Σ^{1/2} z, symmetric root)."""
        vals, vecs = self._eigh
        return Z @ (vecs * np.sqrt(vals)).T

    def sample(self, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
        """n of the file's rows drawn without replacement (n ≤ N/4), centred by the file's mean (standardised if asked);
        with ``draws="with"`` drawn with replacement, with ``draws="gaussian"`` Gaussian rows of covariance Σ."""
        self.check_d(d)
        if self.draws == "gaussian":
            return super().sample(n, d, rng)
        if self.draws == "with":
            return self.X[rng.integers(0, self.N, size=n)]
        return self.X[rng.choice(self.N, size=self.check_n(n), replace=False)]


__all__ = ["DataModel", "MAX_FRACTION", "parse_standardize"]
