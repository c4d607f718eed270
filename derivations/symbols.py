"""The symbols every derivation shares, named as in SPEC §1–§2.

Positivity is declared where the model guarantees it, because it decides
which square-root branch and which root SymPy may choose.
"""

import sympy as sp

kappa = sp.Symbol("kappa", positive=True)  # effective regularisation κ
lam = sp.Symbol("lambda", positive=True)  # ridge λ
alpha = sp.Symbol("alpha", positive=True)  # n/d
n = sp.Symbol("n", positive=True)  # sample size
sigma = sp.Symbol("sigma", positive=True)  # one eigenvalue of Σ
rho = sp.Symbol("rho", real=True)  # AR(1) correlation, |ρ| < 1
theta = sp.Symbol("theta", positive=True)  # spike strength
omega = sp.Symbol("omega", real=True)  # frequency of a Toeplitz symbol
w = sp.Symbol("w", nonnegative=True)  # squared entry v_k^2 of a unit spike direction
c = sp.Symbol("c", positive=True)  # c = λ/κ, the Silverstein–Bai form of κ
t = sp.Symbol("t", real=True)  # perturbation parameter (derivatives of resolvents)
phi = sp.Symbol("phi", positive=True)  # PCA fraction k/d
ell = sp.Symbol("ell", positive=True)  # population spike eigenvalue ℓ = 1 + θ
z = sp.Symbol("z")  # complex variable of contour integrals

# Quantities the library supplies numerically (traces, diagonals) enter the
# formulas as plain symbols; the derivations fix what they stand for.
tau = sp.Symbol("tau", positive=True)  # τ(κ) = (1/d) tr R
tau_p = sp.Symbol("tau_p", negative=True)  # τ'(κ) = dτ/dκ = -(1/d) tr R²
m = sp.Symbol("m", positive=True)  # m_k = R_kk
m_p = sp.Symbol("m_p", negative=True)  # m_k' = dR_kk/dκ = -[R²]_kk
df1d = sp.Symbol("df1_d", positive=True)  # df1/d = (1/d) tr ΣR
df2d = sp.Symbol("df2_d", positive=True)  # df2/d = (1/d) tr (ΣR)²
mean_term = sp.Symbol("g", positive=True)  # (1/d) Σ_k [RΣR]_kk / R_kk²
e_gen = sp.Symbol("E_gen", positive=True)
