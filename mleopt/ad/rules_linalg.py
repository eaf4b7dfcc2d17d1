"""Derivative rules for linear algebra: inv, solve, det, logabsdet (slogdet), cholesky.

All rules act on stacks of matrices (``(..., n, n)``) and, in forward mode, on tangents
with an extra leading batch axis. With ``X = inv(A)``, ``x = solve(A, b)``:

* inv:       dX = -X dA X;                   Abar = -X^T Xbar X^T
* solve:     dx = A^-1 (db - dA x);          bbar = A^-T xbar,  Abar = -bbar x^T
* det:       d det = det tr(A^-1 dA);        Abar = g det A^-T
* logabsdet: d log|det| = tr(A^-1 dA);       Abar = g A^-T
* cholesky (A = L L^T): dL = L Phi(L^-1 dA L^-T), Phi = lower triangle with half diagonal;
  Abar = sym(L^-T Phi(L^T Lbar) L^-1).  numpy reads only the lower triangle of A; the rule
  is the derivative of ``A -> cholesky((A + A^T) / 2)``, i.e. it assumes a symmetric
  input and symmetric perturbations (as A = X X^T or a covariance matrix always is).

The det and log|det| rules use inv(A), so at a singular A they raise numpy's LinAlgError.
``solve`` follows numpy 2: a 1-D ``b`` is one vector; otherwise ``b`` is a stack of
matrices ``(..., n, k)``.
"""
from __future__ import annotations

import numpy as np

from . import primitives as p
from .core import defjvp, defvjp
from .rules import batch_expand, expand_last, ndim_of, shape_of, swap_last, unbroadcast


def _mm(*mats):
    out = mats[0]
    for m in mats[1:]:
        out = p.matmul(out, m)
    return out


def _last_two_sum(x):
    nd = ndim_of(x)
    return p.sum(x, axis=(nd - 2, nd - 1))


def _as_matrix_cotangent(g):
    """(...) -> (..., 1, 1), for multiplying a per-matrix scalar into a matrix."""
    return p.reshape(g, shape_of(g) + (1, 1))


# --- inv --------------------------------------------------------------------------------
defvjp(p.inv, lambda g, ans, a: p.negative(_mm(swap_last(ans), g, swap_last(ans))))
defjvp(p.inv, lambda t, ans, a: p.negative(_mm(ans, t, ans)))


# --- solve ------------------------------------------------------------------------------
def _vector_rhs(b) -> bool:
    return ndim_of(b) == 1


def _solve_vjp_b(g, ans, a, b):
    if _vector_rhs(b):
        gb = p.getitem(p.solve(swap_last(a), expand_last(g)), (Ellipsis, 0))
    else:
        gb = p.solve(swap_last(a), g)
    return unbroadcast(gb, shape_of(b))


def _solve_vjp_a(g, ans, a, b):
    if _vector_rhs(b):
        gb = p.solve(swap_last(a), expand_last(g))          # (..., n, 1)
        ga = p.negative(p.matmul(gb, swap_last(expand_last(ans))))
    else:
        gb = p.solve(swap_last(a), g)
        ga = p.negative(p.matmul(gb, swap_last(ans)))
    return unbroadcast(ga, shape_of(a))


def _solve_jvp_a(t, ans, a, b):
    x = expand_last(ans) if _vector_rhs(b) else ans        # (..., n, k)
    ta = batch_expand(t, ndim_of(x))                       # (B, 1.., n, n)
    dx = p.negative(p.solve(a, p.matmul(ta, x)))
    return p.getitem(dx, (Ellipsis, 0)) if _vector_rhs(b) else dx


def _solve_jvp_b(t, ans, a, b):
    if _vector_rhs(b):
        tb = batch_expand(expand_last(t), ndim_of(ans) + 1)  # (B, 1.., n, 1)
        return p.getitem(p.solve(a, tb), (Ellipsis, 0))
    return p.solve(a, batch_expand(t, ndim_of(ans)))


defvjp(p.solve, _solve_vjp_a, _solve_vjp_b)
defjvp(p.solve, _solve_jvp_a, _solve_jvp_b)


# --- det and log|det| ---------------------------------------------------------------------
def _inv_t(a):
    return swap_last(p.inv(a))


defvjp(p.det, lambda g, ans, a: p.multiply(_as_matrix_cotangent(p.multiply(g, ans)),
                                           _inv_t(a)))
defjvp(p.det, lambda t, ans, a: p.multiply(ans, _last_two_sum(p.multiply(_inv_t(a), t))))
defvjp(p.logabsdet, lambda g, ans, a: p.multiply(_as_matrix_cotangent(g), _inv_t(a)))
defjvp(p.logabsdet, lambda t, ans, a: _last_two_sum(p.multiply(_inv_t(a), t)))


# --- cholesky -----------------------------------------------------------------------------
def _phi_mask(n: int) -> np.ndarray:
    """1 below the diagonal, 1/2 on it, 0 above."""
    return np.tril(np.ones((n, n)), -1) + 0.5 * np.eye(n)


def _sym(x):
    return p.multiply(0.5, p.add(x, swap_last(x)))


def _cholesky_vjp(g, ans, a):
    n = shape_of(a)[-1]
    linv = p.inv(ans)
    inner = p.multiply(_phi_mask(n), p.matmul(swap_last(ans), g))
    return _sym(_mm(swap_last(linv), inner, linv))


def _cholesky_jvp(t, ans, a):
    n = shape_of(a)[-1]
    linv = p.inv(ans)
    s = _mm(linv, _sym(t), swap_last(linv))
    return p.matmul(ans, p.multiply(_phi_mask(n), s))


defvjp(p.cholesky, _cholesky_vjp)
defjvp(p.cholesky, _cholesky_jvp)
