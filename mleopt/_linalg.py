"""The differentiable ``mleopt.numpy.linalg`` namespace (numpy.linalg's names and arguments).

Primitives with their own rules (see mleopt/ad/rules_linalg.py for the formulas): inv, solve,
det, slogdet, cholesky, eigh, eigvalsh, svd (reduced), pinv, qr (reduced). Compositions of
them: norm (every ord numpy offers for vectors and matrices, with axis= and keepdims=),
matrix_power, multi_dot, lstsq. ``matrix_rank`` is an integer (no derivative).

Plain (untraced) arguments go straight to numpy.linalg, so results are numpy's own. On
traced arguments, the choices that have no derivative are refused by name: the full SVD of a
non-square matrix (its extra singular vectors are any orthonormal completion), the complete
or raw QR, QR of a wide matrix, ``hermitian=True``.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from .ad import primitives as p
from .ad import rules_linalg as rl
from .ad.core import (Traced, TraceError, _is_complex, _static, _value_of, array_like_args,
                      complex_error)
from .ad.rules import swap_last

ArrayLike = Any


def _any_traced(name: str, *xs) -> bool:
    """Is any argument traced? Plain arguments are checked for complex numbers (refused
    like everywhere in mleopt.numpy, by the function's name)."""
    if any(isinstance(x, Traced) for x in xs):
        return True
    for i, x in enumerate(xs):
        if _is_complex(x):
            raise complex_error(f"linalg.{name}", i)
    return False


def _shape(x) -> tuple:
    return np.shape(_static(x))


def _check_uplo(uplo: str) -> None:
    if uplo not in ("L", "U"):
        raise ValueError(f"UPLO must be 'L' or 'U', not {uplo!r}.")


# --- decompositions ---------------------------------------------------------------------------
def slogdet(a: ArrayLike):
    """(sign, log|det a|); the sign is piecewise constant, log|det| is differentiable."""
    return np.linalg.slogdet(_value_of(a))[0], p.logabsdet(a)


def cholesky(a: ArrayLike, upper: bool = False):
    """Lower factor L (A = L L^T, from the lower triangle of a) or, with upper=True, the upper
    factor U (A = U^T U, from the upper triangle), as numpy.linalg.cholesky."""
    if not _any_traced("cholesky", a):
        return np.linalg.cholesky(a, upper=upper)
    if upper:
        return swap_last(p.cholesky(swap_last(a)))
    return p.cholesky(a)


def eigh(a: ArrayLike, UPLO: str = "L"):
    """(eigenvalues ascending, eigenvectors as columns) of the symmetric matrix read from the
    lower (UPLO='L') or upper triangle of a. Derivatives need distinct eigenvalues."""
    _check_uplo(UPLO)
    if not _any_traced("eigh", a):
        return np.linalg.eigh(a, UPLO=UPLO)
    packed = rl.eigh_packed(a, UPLO=UPLO)
    return p.getitem(packed, (Ellipsis, 0, slice(None))), rl.packed_rows(packed, 1)


def eigvalsh(a: ArrayLike, UPLO: str = "L"):
    """The eigenvalues of eigh, ascending. d w_i = v_i^T dA v_i."""
    _check_uplo(UPLO)
    return rl.eigvalsh(a, UPLO=UPLO)


def svd(a: ArrayLike, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False):
    """U, s, Vh with a = U diag(s) Vh (s descending), or s alone with compute_uv=False.

    On traced values the reduced SVD is differentiated (distinct, non-zero singular values);
    full_matrices=True is the same thing for a square matrix and refused otherwise.
    """
    if not _any_traced("svd", a):
        return np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv,
                             hermitian=hermitian)
    if hermitian:
        raise TraceError("linalg.svd(hermitian=True) is not differentiable in mleopt; drop "
                         "hermitian=True (the general SVD gives the same singular values).")
    if not compute_uv:
        return rl.svdvals(a)
    m, n = _shape(a)[-2:]
    if full_matrices and m != n:
        raise TraceError(
            f"linalg.svd(full_matrices=True) of a {m} x {n} matrix: the extra "
            f"{max(m, n) - min(m, n)} singular vectors are any orthonormal completion and have "
            "no derivative; pass full_matrices=False (the reduced SVD is differentiable).")
    packed = rl.svd_packed(a)
    u, s, v = rl.svd_parts(packed, m)
    return u, s, swap_last(v)


def pinv(a: ArrayLike, rcond: float | None = None):
    """The Moore-Penrose pseudo-inverse; differentiable where the rank is locally constant
    (full rank: always)."""
    if not _any_traced("pinv", a):
        return np.linalg.pinv(a) if rcond is None else np.linalg.pinv(a, rcond=rcond)
    return rl.pinv(a, rcond=rcond)


def qr(a: ArrayLike, mode: str = "reduced"):
    """(Q, R) with a = Q R, Q with orthonormal columns, R upper triangular; mode='r' gives R.
    On traced values: a tall or square matrix (m >= n), modes 'reduced' and 'r'
    ('complete' only when m == n, where it is the same)."""
    modes = ("reduced", "complete", "r", "raw")
    if mode not in modes:
        raise ValueError(f"qr mode must be one of {modes}, not {mode!r}.")
    if not _any_traced("qr", a):
        return np.linalg.qr(a, mode=mode)
    m, n = _shape(a)[-2:]
    if m < n:
        raise TraceError(f"linalg.qr of a wide {m} x {n} matrix (m < n) is not differentiable "
                         "in mleopt; factor a tall or square matrix (e.g. qr of a.T).")
    if mode == "raw" or (mode == "complete" and m != n):
        raise TraceError(f"linalg.qr(mode={mode!r}) of a {m} x {n} matrix is not "
                         "differentiable (its extra columns are any orthonormal completion); "
                         "use mode='reduced'.")
    packed = rl.qr_packed(a)
    q, r = rl.packed_rows(packed, 0, m), rl.packed_rows(packed, m)
    return r if mode == "r" else (q, r)


# --- compositions -----------------------------------------------------------------------------
def matrix_power(a: ArrayLike, n: int):
    """a @ a @ ... (n times, by repeated squaring); inv(a) for negative n; identity for 0."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"matrix_power needs an integer exponent n, got {n!r}.")
    if not _any_traced("matrix_power", a):
        return np.linalg.matrix_power(a, n)
    shape = _shape(a)
    if n == 0:
        return np.broadcast_to(np.eye(shape[-1]), shape).copy()
    if n < 0:
        a, n = p.inv(a), -n
    result = None
    while n:
        if n & 1:
            result = a if result is None else p.matmul(result, a)
        n >>= 1
        if n:
            a = p.matmul(a, a)
    return result


def multi_dot(arrays, *, out=None):
    """arrays[0] @ arrays[1] @ ... (left to right; 1-D ends as in numpy.linalg.multi_dot)."""
    if out is not None:
        raise TypeError("multi_dot(out=...) is not supported; use the returned array.")
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError("multi_dot needs at least two arrays.")
    result = arrays[0]
    for b in arrays[1:]:
        result = p.matmul(result, b)
    return result


def matrix_rank(a: ArrayLike, *args, **kwargs):
    """numpy.linalg.matrix_rank of the values (an integer: no derivative)."""
    return np.linalg.matrix_rank(_value_of(a), *args, **kwargs)


def lstsq(a: ArrayLike, b: ArrayLike, rcond: float | None = None):
    """(x, residuals, rank, s) as numpy.linalg.lstsq: x = pinv(a) b minimises |a x - b|^2;
    residuals are the squared residual norms (only when rank == n < m), s the singular values.
    Differentiable in a (constant rank) and b."""
    if not _any_traced("lstsq", a, b):
        return np.linalg.lstsq(a, b, rcond=rcond)
    m, n = _shape(a)[-2:]
    if rcond is None:
        rcond = np.finfo(np.float64).eps * max(m, n)
    x = rl.pinv(a, rcond=rcond)
    x = p.matmul(x, b)
    s = rl.svdvals(a)
    s_val = np.asarray(_value_of(s))
    rank = int(np.sum(s_val > rcond * s_val[0])) if s_val.size else 0
    if rank == n and m > n:
        resid = p.subtract(b, p.matmul(a, x))
        residuals = p.sum(p.square(resid), axis=0)
        if len(_shape(b)) == 1:
            residuals = p.reshape(residuals, (1,))
    else:
        residuals = np.empty((0,))
    return x, residuals, rank, s


def _move_to_end(x, axes: tuple):
    nd = len(_shape(x))
    rest = [ax for ax in range(nd) if ax not in axes]
    return p.transpose(x, tuple(rest) + axes)


def _vector_norm(x, ord, axis: int):
    ax = axis
    if ord is None or ord == 2:
        return p.sqrt_of_sum_of_squares(p.sum(p.square(x), axis=ax))
    abs_x = p.absolute(x)
    if ord == np.inf:
        return p.amax(abs_x, axis=ax)
    if ord == -np.inf:
        return p.amin(abs_x, axis=ax)
    if ord == 0:
        return np.sum(_value_of(x) != 0, axis=ax).astype(np.float64)
    if ord == 1:
        return p.sum(abs_x, axis=ax)
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order {ord!r} for vectors.")
    return p.power(p.sum(p.power(abs_x, float(ord)), axis=ax), 1.0 / ord)


def _matrix_norm(x, ord, axes: tuple):
    r, c = axes
    if ord in (None, "fro"):
        return p.sqrt_of_sum_of_squares(p.sum(p.square(x), axis=axes))
    if ord in ("nuc", 2, -2):
        s = rl.svdvals(_move_to_end(x, axes))
        if ord == "nuc":
            return p.sum(s, axis=-1)
        return p.getitem(s, (Ellipsis, 0 if ord == 2 else -1))
    # 1 / -1: column sums (over axis r), inf / -inf: row sums (over axis c)
    reduce_over, then = {1: (r, c), -1: (r, c), np.inf: (c, r), -np.inf: (c, r)}.get(
        ord, (None, None))
    if reduce_over is None:
        raise ValueError(f"Invalid norm order {ord!r} for matrices.")
    sums = p.sum(p.absolute(x), axis=reduce_over, keepdims=True)
    best = p.amax if ord in (1, np.inf) else p.amin
    return p.reshape(best(sums, axis=then, keepdims=True),
                     tuple(n for i, n in enumerate(_shape(x)) if i not in axes))


def norm(x: ArrayLike, ord=None, axis=None, keepdims: bool = False):
    """numpy.linalg.norm: vector norms (ord = None/2, 1, inf, -inf, 0, any p) along one axis,
    matrix norms (ord = None/'fro', 'nuc', 1, -1, 2, -2, inf, -inf) over two axes.

    The Euclidean and Frobenius norms have derivative 0 at 0 (the subgradient, as abs'(0));
    the 2-norm, -2-norm and nuclear norm need distinct non-zero singular values for second
    derivatives (non-zero for the first).
    """
    if not _any_traced("norm", x):
        return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    shape = _shape(x)
    nd = len(shape)
    if axis is None:
        if ord is None:
            out = p.sqrt_of_sum_of_squares(p.sum(p.square(x)))
            return p.reshape(out, (1,) * nd) if keepdims else out
        if nd not in (1, 2):
            raise ValueError(f"norm(ord={ord!r}) of a {nd}-D array needs axis= (one axis for "
                             "a vector norm, two for a matrix norm).")
        axes = tuple(range(nd))
    else:
        axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
        axes = normalize_axis_tuple(tuple(int(ax) for ax in axes), nd, 'axis')
    if len(axes) == 1:
        out = _vector_norm(x, ord, axes[0])
    elif len(axes) == 2:
        out = _matrix_norm(x, ord, axes)
    else:
        raise ValueError(f"norm: axis={axis!r} names {len(axes)} axes; give one (vector norm) "
                         "or two (matrix norm).")
    if keepdims:
        out = p.reshape(out, tuple(1 if i in axes else n for i, n in enumerate(shape)))
    return out


# lists of traced values are arrays here as in numpy (array_like); the primitives (inv,
# solve, det, matmul) do it themselves, multi_dot takes a list of matrices
_A = array_like_args
linalg = SimpleNamespace(
    inv=p.inv, solve=p.solve, det=p.det, slogdet=_A(slogdet), cholesky=_A(cholesky),
    eigh=_A(eigh), eigvalsh=_A(eigvalsh), svd=_A(svd), pinv=_A(pinv), qr=_A(qr),
    matrix_power=_A(matrix_power), multi_dot=multi_dot, matrix_rank=_A(matrix_rank),
    lstsq=_A(lstsq), norm=_A(norm), matmul=p.matmul,
    svdvals=_A(lambda x: svd(x, compute_uv=False)))
# numpy.linalg's other names pass through unchanged (LinAlgError, cond, eig, eigvals,
# tensorsolve, ...), as mleopt.numpy's do: plain numpy on plain arrays; called on a traced
# value they raise a TraceError (no differentiable version), never a silent zero.
for _name in dir(np.linalg):
    if not _name.startswith("_") and _name != "test" and not hasattr(linalg, _name):
        setattr(linalg, _name, getattr(np.linalg, _name))
