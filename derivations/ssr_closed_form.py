"""Derivation 1 — the closed form of masked self-supervised regression.

Assumptions. S = XᵀX/n symmetric positive semi-definite (n < d allowed),
λ > 0, so M = S + λI ≻ 0 and Q = M^{-1} exists.

Steps. The objective (1/n)‖X − XA‖²_F + λ‖A‖²_F is a sum over columns; for
column a = A e_k it is, up to a constant, aᵀMa − 2aᵀSe_k, strictly convex,
minimised under the single constraint a_k = 0. The KKT conditions with a
multiplier μ_k for that constraint are solved by a = e_k − Qe_k/Q_kk with
μ_k = 2(1/Q_kk − λ): the multiplier is diagonal across columns, and

    Â = I − Q D^{-1},   D = diag(Q).

Equivalently (Schur complement of the block M_{kk}) the off-diagonal
entries are Â_jk = −Q_jk/Q_kk = [(S_{−k,−k} + λI)^{-1} S_{−k,k}]_j: column k is
the ridge regression of coordinate k on the other d − 1 coordinates.

Result. Entrywise, Â_ij = δ_ij − Q_ij/Q_jj: the library builds Â from Q with
it (whole arrays in double precision, entry by entry at high precision).
"""

import random

import sympy as sp

from derivations.framework import Derivation, Result, Step
from derivations.symbols import lam

DIM = 3
_S = sp.Matrix(DIM, DIM, lambda i, j: sp.Symbol(f"s{min(i, j) + 1}{max(i, j) + 1}", real=True))
S_SYMS = sorted(_S.free_symbols, key=lambda s: s.name)
# the entry (i, j) of Â in terms of the Kronecker δ_ij and two entries of Q
delta_ij = sp.Symbol("delta_ij")
q_ij = sp.Symbol("q_ij", real=True)
q_jj = sp.Symbol("q_jj", positive=True)


def _generic():
    """Q = (S + λI)^{-1} for a generic symmetric 3×3 S, and the closed form (built on first use)."""
    M = _S + lam * sp.eye(DIM)
    Q = M.inv()
    A = sp.eye(DIM) - Q * sp.diag(*[1 / Q[k, k] for k in range(DIM)])
    return M, Q, A


_cache = {}


def generic():
    if "g" not in _cache:
        _cache["g"] = _generic()
    return _cache["g"]


def _rat(e):
    return sp.cancel(sp.together(e))


def _simplify_rational(e):
    return sp.simplify(_rat(e))


def build() -> Derivation:
    k = 0  # the masked coordinate; every k is the same up to relabelling
    entry = delta_ij - q_ij / q_jj
    ek = sp.eye(DIM)[:, k]
    Asym = sp.Matrix(DIM, DIM, lambda i, j: sp.Symbol(f"a{i + 1}{j + 1}", real=True))

    def objective_split():
        rng = random.Random(11)
        X = sp.Matrix(4, DIM, lambda i, j: sp.Rational(rng.randint(-9, 9), rng.randint(1, 4)))
        full = sum(v**2 for v in (X - X * Asym)) / 4 + lam * sum(v**2 for v in Asym)
        cols = sum(
            sum(v**2 for v in (X[:, j] - X * Asym[:, j])) / 4 + lam * sum(v**2 for v in Asym[:, j]) for j in range(DIM)
        )
        return full, cols

    def kkt():
        M, Q, _ = generic()
        a = ek - Q * ek / Q[k, k]
        mu = 2 * (1 / Q[k, k] - lam)
        # gradient of aᵀMa − 2aᵀSe_k + μ e_kᵀa
        return 2 * M * a - 2 * _S * ek + mu * ek

    def schur():
        M, Q, _ = generic()
        rest = [i for i in range(DIM) if i != k]
        ridge = M.extract(rest, rest).inv() * M.extract(rest, [k])
        return ridge, -Q.extract(rest, [k]) / Q[k, k]

    def closed_vs_ridges():
        M, Q, A = generic()
        cols = []
        for kk in range(DIM):
            rest = [i for i in range(DIM) if i != kk]
            ridge = M.extract(rest, rest).inv() * M.extract(rest, [kk])
            col = sp.zeros(DIM, 1)
            for pos, i in enumerate(rest):
                col[i] = ridge[pos]
            cols.append(col)
        return A, sp.Matrix.hstack(*cols)

    def rank_deficient():
        # n = 2 < d = 4: S is singular, the closed form still equals the ridges (exact rationals)
        rng = random.Random(7)
        X = sp.Matrix(2, 4, lambda i, j: sp.Integer(rng.randint(-5, 5)))
        M = X.T * X / 2 + lam * sp.eye(4)
        Q = M.inv()
        A = sp.eye(4) - Q * sp.diag(*[1 / Q[j, j] for j in range(4)])
        cols = []
        for kk in range(4):
            rest = [i for i in range(4) if i != kk]
            ridge = M.extract(rest, rest).inv() * M.extract(rest, [kk])
            col = sp.zeros(4, 1)
            for pos, i in enumerate(rest):
                col[i] = ridge[pos]
            cols.append(col)
        return A, sp.Matrix.hstack(*cols)

    cache = {}

    def side(fn, i):
        def get():
            if fn not in cache:
                cache[fn] = fn()
            return cache[fn][i]

        return get

    steps = [
        Step(
            "columns-decouple",
            "(1/n)‖X − XA‖²_F + λ‖A‖²_F = Σ_k [(1/n)‖X e_k − X A e_k‖² + λ‖A e_k‖²] (exact, random rational X, n = 4, d = 3).",
            side(objective_split, 0),
            side(objective_split, 1),
            simplifier=sp.expand,
        ),
        Step(
            "kkt-stationarity",
            "a = e_k − Qe_k/Q_kk and μ_k = 2(1/Q_kk − λ) make the gradient 2Ma − 2Se_k + μ_k e_k vanish "
            "(generic symmetric S, d = 3).",
            kkt,
            sp.zeros(DIM, 1),
            simplifier=_simplify_rational,
        ),
        Step(
            "kkt-constraint",
            "The constraint holds: (e_k − Qe_k/Q_kk)_k = 0.",
            lambda: (ek - generic()[1] * ek / generic()[1][k, k])[k],
            0,
            simplifier=_simplify_rational,
        ),
        Step(
            "schur-complement",
            "(S_{−k,−k} + λI)^{-1} S_{−k,k} = −Q_{−k,k}/Q_kk: the masked ridge regression of x_k on x_{−k} "
            "(block inversion of M = S + λI; off-diagonal blocks of M are those of S).",
            side(schur, 0),
            side(schur, 1),
            simplifier=_simplify_rational,
        ),
        Step(
            "closed-form",
            "Column by column, I − QD^{-1} is the matrix of the d masked ridge regressions (generic S, d = 3).",
            side(closed_vs_ridges, 0),
            side(closed_vs_ridges, 1),
            simplifier=_simplify_rational,
        ),
        Step(
            "entrywise",
            "Entry (i, j) of the closed form I − QD^{-1} is δ_ij − Q_ij/Q_jj (generic S, d = 3, every i, j).",
            lambda: generic()[2],
            lambda: sp.Matrix(DIM, DIM, lambda i, j: entry.subs({delta_ij: 1 if i == j else 0, q_ij: generic()[1][i, j],
                                                                 q_jj: generic()[1][j, j]})),
            simplifier=_simplify_rational,
        ),
        Step(
            "n-below-d",
            "With n = 2 < d = 4 (S singular) the identity still holds: only λ > 0 is needed (exact rationals).",
            side(rank_deficient, 0),
            side(rank_deficient, 1),
            simplifier=_simplify_rational,
        ),
    ]
    domain = {lam: (sp.Rational(1, 100), 3)}
    for s in S_SYMS:
        domain[s] = (5, 10) if s.name[1] == s.name[2] else (-1, 1)  # diagonally dominant: S ≻ 0
    for s in Asym:
        domain[s] = (-2, 2)
    domain[delta_ij] = (0, 1)
    domain[q_ij] = (-1, 1)
    domain[q_jj] = (sp.Rational(1, 10), 2)
    results = {"ssr_entry": Result(entry, (delta_ij, q_ij, q_jj), "Â_ij = δ_ij − Q_ij/Q_jj")}
    return Derivation(
        name="ssr_closed_form",
        title="Masked SSR in closed form: Â = I − QD^{-1} (KKT, Schur complement)",
        summary=__doc__,
        steps=steps,
        results=results,
        domain=domain,
        references=(),
    )


# ---- the exact side of the library checks of the 50-digit closed form (the library's verification
# package calls the library on the same data): exact rationals, nothing shared with the library

#: seeds the small integer data set of a library check
x_seed = sp.Symbol("x_seed", positive=True)


def example_data(point):
    """A small integer data matrix X (rows = samples), n < d or n > d, seeded by ``point[x_seed]``."""
    rng = random.Random(int(point[x_seed] * 1000))
    n, d = (3, 5) if rng.random() < 0.5 else (8, 4)
    return [[rng.randint(-9, 9) for _ in range(d)] for _ in range(n)]


def reference_entries(point):
    """Â₂₁ + 3Â₁₃ of Â = I − QD^{-1} for :func:`example_data`, in exact rationals."""
    X = sp.Matrix(example_data(point))
    n, d = X.shape
    lv = sp.Rational(point[lam].numerator, point[lam].denominator)
    Q = (X.T * X / n + lv * sp.eye(d)).inv()
    A = sp.eye(d) - Q * sp.diag(*[1 / Q[j, j] for j in range(d)])
    return A[1, 0] + 3 * A[0, 2]
