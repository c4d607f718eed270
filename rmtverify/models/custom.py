"""A user's Σ: any symmetric positive-definite matrix, from a ``.npy`` file or given exactly.

The theory at high precision inverts Σ + κI in ball arithmetic (python-flint's
arb), and refuses a result whose balls are wider than the working precision;
the double-precision path diagonalises Σ once with LAPACK.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from functools import cached_property
from pathlib import Path

import numpy as np

from rmtverify.core.exceptions import InputError, SolverError
from rmtverify.core.params import INF, parse
from rmtverify.core.precision import mpf
from rmtverify.models.base import CovarianceModel, DiagonalGroup, Resolvent, SpectralResolvent, Types
from rmtverify.symbolic.certify import flint_precision, to_arb
from rmtverify.symbolic.formulas import Formulas

#: allowed relative asymmetry of a Σ read from a file (it is then symmetrised exactly)
SYMMETRY_TOL = 1e-12


def _load(sigma):
    if isinstance(sigma, (str, Path)):
        path = Path(sigma)
        if not path.is_file():
            raise InputError("sigma", f"file {str(path)!r} does not exist (give a .npy file written by numpy.save)")
        try:
            with open(path, "rb") as fh:
                magic = fh.read(6)
        except OSError as exc:
            raise InputError("sigma", f"file {str(path)!r} cannot be read ({exc.strerror or exc})") from None
        if magic != b"\x93NUMPY":
            raise InputError("sigma", f"{str(path)!r} is not a .npy file (it does not start as one): write Σ with numpy.save")
        try:
            arr = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            if "pickle" in str(exc):
                raise InputError("sigma", f"{str(path)!r} holds Python objects, not a numeric array") from None
            raise InputError("sigma", f"{str(path)!r} is a damaged .npy file ({type(exc).__name__}: {exc})") from None
        return arr, None
    if isinstance(sigma, np.ndarray):
        return sigma, None
    from rmtverify.core.params import exact

    try:
        rows = [[exact(x) for x in row] for row in sigma]
    except TypeError:
        raise InputError("sigma", "must be a square array of real numbers") from None
    if any(x is None or x in (INF, -INF) for row in rows for x in row):
        raise InputError("sigma", "has NaN, infinite or non-numeric entries")
    try:
        arr = np.array([[float(x) for x in row] for row in rows], dtype=float)
    except ValueError:
        raise InputError("sigma", "must be a square array of real numbers (rows of equal length)") from None
    return arr, rows


class FlintResolvent(Resolvent):
    """R = (Σ + κI)^{-1} in arb ball arithmetic at the context's precision (plus guard bits).

    ``exact_rows``: Σ's entries as Fractions (exact) or numbers of the working context (their binary values), or None to
    take the float64 entries of ``arr``; ``arr`` gives the dimension either way."""

    def __init__(self, exact_rows, arr, ctx):
        self.ctx = ctx
        self.rows = exact_rows
        self.arr = arr
        self.d = arr.shape[0]
        self._cache = {}
        self.mean_sigma = self._to_mp(self._trace_sigma()) / self.d

    def _arb(self, x):
        import flint

        if isinstance(x, Fraction):
            return flint.arb(flint.fmpq(x.numerator, x.denominator))
        if hasattr(x, "_mpf_"):
            return to_arb(x)  # an mpmath number (a model's entry computed in the working context): its exact binary value
        return flint.arb(float(x))  # a float64 entry is exact in arb

    def _trace_sigma(self):
        import flint

        with flint_precision(self.ctx.prec + 30):
            return sum((self._entry(i, i) for i in range(self.d)), flint.arb(0))

    def _entry(self, i, j):
        return self._arb(self.rows[i][j] if self.rows is not None else self.arr[i, j])

    def _to_mp(self, a):
        man, exp = a.mid().man_exp()
        return self.ctx.mpf(int(man)) * self.ctx.mpf(2) ** int(exp)

    def _solve(self, kappa):
        import flint

        key = self.ctx.nstr(kappa, self.ctx.dps + 5)
        if key in self._cache:
            return self._cache[key]
        for extra in (30, 120, 480):
            with flint_precision(self.ctx.prec + extra):
                k = to_arb(self.ctx.mpf(kappa))
                M = flint.arb_mat(self.d, self.d, [self._entry(i, j) + (k if i == j else 0) for i in range(self.d) for j in range(self.d)])
                try:
                    R = M.inv()
                except ZeroDivisionError:
                    continue
                m = [R[i, i] for i in range(self.d)]
                m_p = [-sum((R[i, j] * R[i, j] for j in range(self.d)), flint.arb(0)) for i in range(self.d)]
                tight = all(x.rad() <= abs(x.mid()) * flint.arb(2) ** (-(self.ctx.prec + 4)) for x in m + m_p)
                if tight:
                    out = ([self._to_mp(x) for x in m], [self._to_mp(x) for x in m_p])
                    self._cache = {key: out}
                    return out
        raise SolverError(
            "ball-arithmetic inverse of Σ + κI",
            f"arb_mat.inv at {self.ctx.prec + 30}, {self.ctx.prec + 120} and {self.ctx.prec + 480} bits; "
            "the balls stayed wider than the working precision (Σ + κI is too ill-conditioned)",
        )

    def trace(self, kappa):
        m, m_p = self._solve(kappa)
        return self.ctx.fsum(m) / self.d, self.ctx.fsum(m_p) / self.d

    def diagonal(self, kappa):
        m, m_p = self._solve(kappa)
        return [DiagonalGroup(Fraction(1, self.d), a, b) for a, b in zip(m, m_p)]


class Custom(CovarianceModel):
    name = "custom"
    has_limit = False

    def __init__(self, sigma):
        if sigma is None:
            raise InputError("sigma", "is required for the custom model (a .npy file of a symmetric positive-definite matrix)")
        self.source = str(sigma) if isinstance(sigma, (str, Path)) else "array"
        arr, rows = _load(sigma)
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "iuf":
            raise InputError("sigma", f"must be a real numeric array; got dtype {getattr(arr, 'dtype', type(arr))}")
        if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
            raise InputError("sigma", f"must be a square matrix; got shape {arr.shape}")
        d = arr.shape[0]
        if d < 2:
            raise InputError("sigma", f"must be at least 2 x 2; got {d} x {d}")
        arr = arr.astype(float)
        if not np.all(np.isfinite(arr)):
            raise InputError("sigma", "has NaN or infinite entries")
        scale = np.max(np.abs(arr))
        asym = np.max(np.abs(arr - arr.T))
        if asym > SYMMETRY_TOL * scale:
            raise InputError("sigma", f"must be symmetric; max |Σ − Σᵀ| = {asym:.3g} (allowed {SYMMETRY_TOL:g} × max|Σ|)")
        if rows is not None:
            if any(rows[i][j] != rows[j][i] for i in range(d) for j in range(i)):
                raise InputError("sigma", "must be symmetric (exact entries differ across the diagonal)")
        else:
            arr = (arr + arr.T) / 2  # exact for binary floating point up to the last bit
        eig = np.linalg.eigvalsh(arr)
        if not eig[0] > d * np.finfo(float).eps * eig[-1]:
            raise InputError("sigma", f"must be positive definite; smallest eigenvalue {eig[0]:.3g}, largest {eig[-1]:.3g}")
        self.arr = arr
        self.rows = rows
        self.d = d
        exact = repr([[str(x) for x in row] for row in rows]).encode() if rows is not None else np.ascontiguousarray(arr).tobytes()
        self.digest = hashlib.sha256(exact).hexdigest()[:16]

    def describe(self):
        # keyed by content, not by name: a rewritten file or another array is another model
        return {"model": self.name, "sigma": self.source, "d": self.d, "sha256": self.digest}

    def default_d(self):
        return self.d

    def check_d(self, d):
        if d is None:
            return self.d
        d = parse("d", d)
        if d != self.d:
            raise InputError("d", f"the custom Σ is {self.d} x {self.d}; d must be {self.d} (or omitted), got {d}")
        return d

    @cached_property
    def _eigh(self):
        return np.linalg.eigh(self.arr)

    @cached_property
    def _chol(self):
        return np.linalg.cholesky(self.arr)

    def resolvent(self, d, ctx):
        if d == INF:
            raise InputError("d", "the custom model has no d = inf description")
        if ctx.prec <= 53:
            vals, vecs = self._eigh
            return SpectralResolvent(vals, vecs**2)
        return FlintResolvent(self.rows, self.arr, ctx)

    def spectral_types(self, d, ctx, kappa):
        """Types (Σ_kk, R_kk) when Σ is diagonal; None otherwise (the dense equation is used)."""
        if np.count_nonzero(self.arr - np.diag(np.diag(self.arr))):
            return None
        diag = [self.rows[k][k] if self.rows is not None else Fraction(float(self.arr[k, k])) for k in range(self.d)]
        sig = [mpf(ctx, v) for v in diag]
        r = Formulas(ctx)("kappa.resolvent_eigenvalue")
        return Types(tuple(Fraction(1, self.d) for _ in sig), tuple(sig), tuple(r(s, kappa) for s in sig))

    def sigma_entry(self, d, ctx):
        rows = self.rows
        return (lambda k, l: rows[k][l]) if rows is not None else super().sigma_entry(d, ctx)

    def sigma(self, d):
        return self.arr

    def apply_root(self, d, Z):
        return Z @ self._chol.T

    def sigma_apply(self, d, B):
        return self.arr @ B
