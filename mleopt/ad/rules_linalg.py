"""Derivative rules for linear algebra: inv, solve, det, logabsdet (slogdet), cholesky.

All rules act on stacks of matrices (``(..., n, n)``) and, in forward mode, on tangents
with an extra leading batch axis. With ``X = inv(A)``, ``x = solve(A, b)``:

* inv:       dX = -X dA X;                   Abar = -X^T Xbar X^T
* solve:     dx = A^-1 (db - dA x);          bbar = A^-T xbar,  Abar = -bbar x^T
* det:       d det = det tr(A^-1 dA);        Abar = g det A^-T
* logabsdet: d log|det| = tr(A^-1 dA);       Abar = g A^-T
* cholesky (A = L L^T): dL = L Phi(L^-1 dS L^-T), Phi = lower triangle with half diagonal.
  numpy reads only the lower triangle of A: the matrix it factors is S = tril(A) +
  tril(A, -1)^T, so dS = tril(dA) + tril(dA, -1)^T and the cotangent of A is
  Abar = tril(M) + tril(M^T, -1), M = L^-T Phi(L^T Lbar) L^-1 (zero above the diagonal).
  This is exact for any input, also one whose upper triangle differs (the upper triangle
  does not change the result); for a symmetric A built symmetrically (X X^T) the chain rule
  gives the same derivative as the symmetric convention.
* eigh / eigvalsh (A = V diag(w) V^T, read from the lower triangle by default, UPLO='U' the
  upper, as numpy): with M = V^T dS V, dw = diag(M), dV = V (F o M), F_ij = 1/(w_j - w_i)
  (i != j, 0 on the diagonal); Abar from V (diag(wbar) + F o (V^T Vbar)) V^T through the
  same triangle. Eigenvalues must be distinct for the eigenvectors (not for eigvalsh's
  first derivative).
* svd, reduced (A = U diag(s) V^T, m x n, k = min(m, n)), Townsend (2016): with P = U^T dA V,
  F_ij = 1/(s_j^2 - s_i^2): ds = diag(P), dU = U (F o (P S + S P^T)) + (I - U U^T) dA V S^-1,
  dV = V (F o (S P + P^T S)) + (I - V V^T) dA^T U S^-1; Abar = U [(F o (U^T Ubar - Ubar^T U)) S
  + diag(sbar) + S (F o (V^T Vbar - Vbar^T V))] V^T + (I - U U^T) Ubar S^-1 V^T
  + U S^-1 Vbar^T (I - V V^T). Needs distinct, non-zero singular values (svdvals: non-zero
  for the first derivative, distinct for the second).
* pinv (X = A^+, A of constant rank, Golub & Pereyra 1973): dX = -X dA X + X X^T dA^T (I - A X)
  + (I - X A) dA^T X^T X;  Abar = -X^T G X^T + (I - A X) G^T X X^T + X^T X G^T (I - X A).
* qr, reduced (A = Q R, m >= n): with C = Q^T dA R^-1 and Omega = tril(C, -1) - tril(C, -1)^T:
  dR = (C - Omega) R, dQ = dA R^-1 - Q (C - Omega);  Abar = (Qbar + Q N) R^-T with
  N = triu(M) + triu(M, 1)^T, M = Rbar R^T - Q^T Qbar.

eigh, svd and qr return several arrays; their primitives return them packed into one array
along the second-last axis ([w; V], [U; s; V], [Q; R]) and mleopt.numpy.linalg unpacks them.

The det and log|det| rules use inv(A), so at a singular A they raise numpy's LinAlgError.
``solve`` follows numpy 2: a 1-D ``b`` is one vector; otherwise ``b`` is a stack of
matrices ``(..., n, k)``.
"""
from __future__ import annotations

import numpy as np

from . import primitives as p
from .core import Primitive, defjvp, defvjp
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


# --- helpers for the matrix decompositions --------------------------------------------------
def _eye(n: int) -> np.ndarray:
    return np.eye(n)


def _diag_part(m):
    """(..., n, n) -> (..., n): the diagonals of a stack of matrices."""
    return p.sum(p.multiply(m, _eye(shape_of(m)[-1])), axis=-1)


def _diag_embed(d):
    """(..., n) -> (..., n, n): diagonal matrices."""
    n = shape_of(d)[-1]
    return p.multiply(p.reshape(d, shape_of(d)[:-1] + (1, n)), _eye(n))


def _triangle(m, k: int, lower: bool):
    """tril(m, k) (or triu(m, k)) of a stack of matrices."""
    rows, cols = shape_of(m)[-2:]
    mask = np.tril(np.ones((rows, cols)), k) if lower else np.triu(np.ones((rows, cols)), k)
    return p.multiply(m, mask)


def _read_triangle(t, lower: bool = True):
    """The symmetric matrix a function that reads one triangle sees: tril(t) + tril(t,-1)^T."""
    off = -1 if lower else 1
    return p.add(_triangle(t, 0, lower), swap_last(_triangle(t, off, lower)))


def _read_triangle_adjoint(m, lower: bool = True):
    """The adjoint of _read_triangle: tril(m) + tril(m^T, -1) (zero in the other triangle)."""
    off = -1 if lower else 1
    return p.add(_triangle(m, 0, lower), _triangle(swap_last(m), off, lower))


def _gap_inverse(d):
    """F_ij = 1 / (d_j - d_i) for i != j, 0 on the diagonal, for a stack of vectors d."""
    n = shape_of(d)[-1]
    lead = shape_of(d)[:-1]
    gaps = p.subtract(p.reshape(d, lead + (1, n)), p.reshape(d, lead + (n, 1)))
    on_diag = _eye(n).astype(bool)
    return p.where(on_diag, 0.0, p.reciprocal(p.where(on_diag, 1.0, gaps)))


def packed_rows(x, start, stop=None):
    """x[..., start:stop, :] (the parts of a packed result)."""
    return p.getitem(x, (Ellipsis, slice(start, stop), slice(None)))


def _pack(*parts):
    return p.concatenate_args(-2, *parts)


def _as_row(v):
    """(..., n) -> (..., 1, n)"""
    return p.reshape(v, shape_of(v)[:-1] + (1, shape_of(v)[-1]))


def _scale_columns(m, v):
    """m @ diag(v): column j of m times v_j."""
    return p.multiply(m, _as_row(v))


def _scalepacked_rows(v, m):
    """diag(v) @ m: row i of m times v_i."""
    return p.multiply(expand_last(v), m)


# --- cholesky ---------------------------------------------------------------------------------
def _phi_mask(n: int) -> np.ndarray:
    """1 below the diagonal, 1/2 on it, 0 above."""
    return np.tril(np.ones((n, n)), -1) + 0.5 * np.eye(n)


def _cholesky_vjp(g, ans, a):
    n = shape_of(a)[-1]
    linv = p.inv(ans)
    inner = p.multiply(_phi_mask(n), p.matmul(swap_last(ans), g))
    return _read_triangle_adjoint(_mm(swap_last(linv), inner, linv))


def _cholesky_jvp(t, ans, a):
    n = shape_of(a)[-1]
    linv = p.inv(ans)
    s = _mm(linv, _read_triangle(t), swap_last(linv))
    return p.matmul(ans, p.multiply(_phi_mask(n), s))


defvjp(p.cholesky, _cholesky_vjp)
defjvp(p.cholesky, _cholesky_jvp)


# --- eigh and eigvalsh --------------------------------------------------------------------------
def _eigh_packed(a, UPLO="L"):
    w, v = np.linalg.eigh(a, UPLO=UPLO)
    return np.concatenate([w[..., None, :], v], axis=-2)


eigh_packed = Primitive(_eigh_packed, "linalg.eigh")
eigvalsh = Primitive(lambda a, UPLO="L": np.linalg.eigvalsh(a, UPLO=UPLO), "linalg.eigvalsh")


def _eigh_parts(packed):
    return p.getitem(packed, (Ellipsis, 0, slice(None))), packed_rows(packed, 1)


def _eigh_vjp(g, ans, a, UPLO="L"):
    w, v = _eigh_parts(ans)
    wbar, vbar = _eigh_parts(g)
    inner = p.add(_diag_embed(wbar), p.multiply(_gap_inverse(w), p.matmul(swap_last(v), vbar)))
    return _read_triangle_adjoint(_mm(v, inner, swap_last(v)), UPLO == "L")


def _eigh_jvp(t, ans, a, UPLO="L"):
    w, v = _eigh_parts(ans)
    m = _mm(swap_last(v), _read_triangle(t, UPLO == "L"), v)
    dv = p.matmul(v, p.multiply(_gap_inverse(w), m))
    return _pack(_as_row(_diag_part(m)), dv)


def _eigvalsh_vjp(g, ans, a, UPLO="L"):
    v = packed_rows(eigh_packed(a, UPLO=UPLO), 1)
    return _read_triangle_adjoint(_mm(_scale_columns(v, g), swap_last(v)), UPLO == "L")


def _eigvalsh_jvp(t, ans, a, UPLO="L"):
    v = packed_rows(eigh_packed(a, UPLO=UPLO), 1)
    return _diag_part(_mm(swap_last(v), _read_triangle(t, UPLO == "L"), v))


defvjp(eigh_packed, _eigh_vjp)
defjvp(eigh_packed, _eigh_jvp)
defvjp(eigvalsh, _eigvalsh_vjp)
defjvp(eigvalsh, _eigvalsh_jvp)


# --- svd (reduced) and the singular values ----------------------------------------------------
def _svd_packed(a):
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    return np.concatenate([u, s[..., None, :], np.swapaxes(vt, -1, -2)], axis=-2)


svd_packed = Primitive(_svd_packed, "linalg.svd")
svdvals = Primitive(lambda a: np.linalg.svd(a, compute_uv=False), "linalg.svd")


def svd_parts(packed, m: int):
    return packed_rows(packed, 0, m), p.getitem(packed, (Ellipsis, m, slice(None))), \
        packed_rows(packed, m + 1)


def _svd_vjp(g, ans, a):
    m = shape_of(a)[-2]
    u, s, v = svd_parts(ans, m)
    ubar, sbar, vbar = svd_parts(g, m)
    f = _gap_inverse(p.square(s))
    utu = p.matmul(swap_last(u), ubar)
    vtv = p.matmul(swap_last(v), vbar)
    j = p.multiply(f, p.subtract(utu, swap_last(utu)))
    k = p.multiply(f, p.subtract(vtv, swap_last(vtv)))
    inner = p.add(p.add(_scale_columns(j, s), _diag_embed(sbar)), _scalepacked_rows(s, k))
    s_inv = p.reciprocal(s)
    u_rest = p.subtract(ubar, p.matmul(u, utu))            # (I - U U^T) Ubar
    v_rest = p.subtract(vbar, p.matmul(v, vtv))            # (I - V V^T) Vbar
    out = _mm(u, inner, swap_last(v))
    out = p.add(out, p.matmul(_scale_columns(u_rest, s_inv), swap_last(v)))
    return p.add(out, p.matmul(_scale_columns(u, s_inv), swap_last(v_rest)))


def _svd_jvp(t, ans, a):
    m = shape_of(a)[-2]
    u, s, v = svd_parts(ans, m)
    f = _gap_inverse(p.square(s))
    tv = p.matmul(t, v)
    tu = p.matmul(swap_last(t), u)
    pm = p.matmul(swap_last(u), tv)                        # U^T dA V
    pt = swap_last(pm)
    s_inv = p.reciprocal(s)
    du = p.add(p.matmul(u, p.multiply(f, p.add(_scale_columns(pm, s), _scalepacked_rows(s, pt)))),
               _scale_columns(p.subtract(tv, p.matmul(u, pm)), s_inv))
    dv = p.add(p.matmul(v, p.multiply(f, p.add(_scalepacked_rows(s, pm), _scale_columns(pt, s)))),
               _scale_columns(p.subtract(tu, p.matmul(v, pt)), s_inv))
    return _pack(du, _as_row(_diag_part(pm)), dv)


def _svdvals_vjp(g, ans, a):
    u, _, v = svd_parts(svd_packed(a), shape_of(a)[-2])
    return p.matmul(_scale_columns(u, g), swap_last(v))


def _svdvals_jvp(t, ans, a):
    u, _, v = svd_parts(svd_packed(a), shape_of(a)[-2])
    return _diag_part(_mm(swap_last(u), t, v))


defvjp(svd_packed, _svd_vjp)
defjvp(svd_packed, _svd_jvp)
defvjp(svdvals, _svdvals_vjp)
defjvp(svdvals, _svdvals_jvp)


# --- pinv ---------------------------------------------------------------------------------------
pinv = Primitive(lambda a, rcond=None: np.linalg.pinv(a) if rcond is None
                 else np.linalg.pinv(a, rcond=rcond), "linalg.pinv")


def _pinv_projections(ans, a):
    """I - A X (m x m) and I - X A (n x n)."""
    m, n = shape_of(a)[-2:]
    return p.subtract(_eye(m), p.matmul(a, ans)), p.subtract(_eye(n), p.matmul(ans, a))


def _pinv_vjp(g, ans, a, rcond=None):
    left, right = _pinv_projections(ans, a)
    xt, gt = swap_last(ans), swap_last(g)
    out = p.negative(_mm(xt, g, xt))
    out = p.add(out, _mm(left, gt, ans, xt))
    return p.add(out, _mm(xt, ans, gt, right))


def _pinv_jvp(t, ans, a, rcond=None):
    left, right = _pinv_projections(ans, a)
    xt, tt = swap_last(ans), swap_last(t)
    out = p.negative(_mm(ans, t, ans))
    out = p.add(out, _mm(ans, xt, tt, left))
    return p.add(out, _mm(right, tt, xt, ans))


defvjp(pinv, _pinv_vjp)
defjvp(pinv, _pinv_jvp)


# --- qr (reduced, m >= n) ---------------------------------------------------------------------------
def _qr_packed(a):
    q, r = np.linalg.qr(a, mode="reduced")
    return np.concatenate([q, r], axis=-2)


qr_packed = Primitive(_qr_packed, "linalg.qr")


def _qr_vjp(g, ans, a):
    m = shape_of(a)[-2]
    q, r = packed_rows(ans, 0, m), packed_rows(ans, m)
    qbar, rbar = packed_rows(g, 0, m), packed_rows(g, m)
    mm = p.subtract(p.matmul(rbar, swap_last(r)), p.matmul(swap_last(q), qbar))
    nn = p.add(_triangle(mm, 0, False), swap_last(_triangle(mm, 1, False)))
    return p.matmul(p.add(qbar, p.matmul(q, nn)), swap_last(p.inv(r)))


def _qr_jvp(t, ans, a):
    m = shape_of(a)[-2]
    q, r = packed_rows(ans, 0, m), packed_rows(ans, m)
    t_rinv = p.matmul(t, p.inv(r))
    c = p.matmul(swap_last(q), t_rinv)
    below = _triangle(c, -1, True)
    upper = p.add(p.subtract(c, below), swap_last(below))  # C - Omega
    return _pack(p.subtract(t_rinv, p.matmul(q, upper)), p.matmul(upper, r))


defvjp(qr_packed, _qr_vjp)
defjvp(qr_packed, _qr_jvp)
