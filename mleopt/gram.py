"""The inverse of a Gram matrix ``M'M`` without forming it: an orthogonal factorisation.

``M`` (N x K) is a design matrix or a matrix of scores. With ``D`` its column norms,
``M D^-1 = Q R`` (QR of the unit-length columns), so that

    (M'M)^-1 = T T',   T = D^-1 R^-1,        leverage h_i = ||q_i||^2,
    least squares  b = D^-1 R^-1 Q'y.

The relative error of ``T T'`` is of order ``cond(M D^-1) * eps``; inverting ``M'M`` (or a
Hessian ``-X'X / sigma^2``) directly loses ``cond^2 * eps``: for NIST's Filip data (a
degree-10 polynomial, scaled condition number 5e9) that is everything, here 8 digits remain.

How R is computed. Small matrices (N*K < 10^6): Householder QR. Large ones, where a
Householder QR costs many Gram matrices, start from the Cholesky factor ``R1`` of the scaled
Gram matrix (often already at hand) and its condition number c:

* c <= 1e3: ``R = R1`` (relative error at most c^2 eps <= 1e-10);
* c <= 1e6: one CholeskyQR2 step, ``R = chol((M D^-1 R1^-1)'(M D^-1 R1^-1)) R1``, which is
  as accurate as Householder for c up to ~1e8 (Fukaya et al., 2014), the product formed
  block of rows by block of rows (Q is never stored);
* otherwise Householder QR.

The numerical rank is decided on the singular values ``s`` of ``R`` (those of ``M D^-1``)
with numpy.linalg.matrix_rank's tolerance, ``max(N, K) * eps * s_max``: columns that load
on a null direction are reported as not identified.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.linalg.lapack

__all__ = ["GramFactor"]

_LARGE = 1_000_000        # N * K from which a Householder QR costs many Gram matrices
_CHOLESKY = 1e3           # scaled condition number up to which R1 itself is exact to 1e-10
_CHOLESKY_QR2 = 1e6       # ... up to which one CholeskyQR2 step gives Householder accuracy
_BLOCK = 1 << 20          # elements per block of rows in the row loops


class GramFactor:
    """``M D^-1 = Q R`` for a matrix ``M``; see the module docstring.

    Attributes: ``norms`` (D), ``r`` (K x K upper triangular), ``t`` (``D^-1 R^-1``, the
    pseudo-inverse on the identified directions when rank < K), ``rank``, ``unidentified``
    (boolean per column: zero, non-finite, or in a null direction of ``M``), ``route``
    ("householder", "cholesky" or "cholesky-qr2").
    """

    def __init__(self, m: np.ndarray, gram: np.ndarray | None = None) -> None:
        m = np.asarray(m, dtype=float)
        if m.ndim != 2:
            raise ValueError(f"GramFactor needs a 2-d matrix, got shape {m.shape}.")
        n, k = m.shape
        self._m = m
        self.shape = (n, k)
        norms = np.sqrt(np.einsum("ij,ij->j", m, m)) if gram is None else np.sqrt(np.diag(gram))
        bad = ~np.isfinite(norms) | (norms == 0)
        self.norms = np.where(bad, 1.0, norms)
        self._q = None
        r = None
        if n * k >= _LARGE and not bad.any():
            r = self._gram_route(gram)
        if r is None:
            self.route = "householder"
            if bad.any():
                m = np.where(np.isfinite(m), m, 0.0)
            self._q, r = np.linalg.qr(m / self.norms)
            if n < k:       # fewer rows than columns: pad to K x K (rank <= N)
                r = np.vstack([r, np.zeros((k - n, k))])
                self._q = np.hstack([self._q, np.zeros((n, k - n))])
        u, s, vt = np.linalg.svd(r)
        tol = max(n, k) * np.finfo(float).eps * (s[0] if s.size else 0.0)
        null = s <= tol
        unidentified = bad.copy()
        if null.any():
            unidentified |= np.abs(vt[null]).max(axis=0) > 1e-6
        self.r = r
        self.rank = int(np.sum(~null))
        self.unidentified = unidentified
        if null.any():      # pseudo-inverse of R on the directions that are identified
            self._u = u[:, ~null]
            rinv = (vt[~null].T / s[~null]) @ self._u.T
        else:
            self._u = None
            rinv = scipy.linalg.solve_triangular(r, np.eye(k))
        self.t = rinv / self.norms[:, None]

    # --- large matrices: R from the Gram matrix ----------------------------------------------
    def _gram_route(self, gram: np.ndarray | None) -> np.ndarray | None:
        """R by Cholesky (and one CholeskyQR2 step), or None for the Householder route."""
        if gram is None:
            gram = self._m.T @ self._m
        r1 = _cholesky(gram / np.outer(self.norms, self.norms))
        if r1 is None:
            return None
        s = np.linalg.svd(r1, compute_uv=False)
        cond = s[0] / s[-1] if s[-1] > 0 else np.inf
        if cond <= _CHOLESKY:
            self.route = "cholesky"
            self._factors = [r1]
            return r1
        if cond > _CHOLESKY_QR2:
            return None
        self._factors = [r1]
        g2 = np.zeros_like(r1)
        for y in self._row_blocks():
            g2 += y @ y.T
        r2 = _cholesky(g2)
        if r2 is None:
            return None
        self.route = "cholesky-qr2"
        self._factors = [r1, r2]
        return r2 @ r1

    def _row_blocks(self):
        """``Q'`` for consecutive blocks of rows (K x rows each), ``Q = M D^-1 R1^-1 R2^-1``
        solved factor by factor (solving with the product ``R = R2 R1`` at once is less
        accurate: it is as ill-conditioned as M)."""
        n, k = self.shape
        step = max(1, _BLOCK // max(k, 1))
        for start in range(0, n, step):
            y = (self._m[start:start + step] / self.norms).T
            for r in self._factors:
                y = scipy.linalg.solve_triangular(r, y, trans="T")
            yield y

    # --- what the covariances need -------------------------------------------------------------
    def inverse(self) -> np.ndarray:
        """``(M'M)^-1 = T T'``; NaN rows and columns for the unidentified columns."""
        out = self.t @ self.t.T
        out[self.unidentified, :] = np.nan
        out[:, self.unidentified] = np.nan
        return out

    def leverage(self) -> np.ndarray:
        """Diagonal of the hat matrix ``M (M'M)^+ M'``: the squared row norms of Q."""
        if self._q is None:         # Gram routes (full rank): Q = M D^-1 R^-1 by blocks
            return np.concatenate([np.einsum("ij,ij->j", y, y) for y in self._row_blocks()])
        q = self._q if self._u is None else self._q @ self._u
        return np.einsum("ij,ij->i", q, q)

    def lstsq(self, y: np.ndarray) -> np.ndarray:
        """The least-squares solution of ``M b = y``: ``D^-1 R^-1 Q'y`` by triangular solves;
        when rank < K, ``T Q'y`` (minimum norm in the column-scaled coordinates)."""
        y = np.asarray(y, dtype=float)
        if self._q is None:         # Q'y block by block (not R^-T D^-1 M'y: cond^2 eps)
            step = max(1, _BLOCK // max(self.shape[1], 1))
            qty = sum(yb @ y[i * step:(i + 1) * step]
                      for i, yb in enumerate(self._row_blocks()))
        else:
            qty = self._q.T @ y
        if self._u is None:
            return scipy.linalg.solve_triangular(self.r, qty) / self.norms
        return self.t @ qty         # T maps the null directions to 0


def _cholesky(a: np.ndarray) -> np.ndarray | None:
    """Upper Cholesky factor of a symmetric positive definite matrix, or None."""
    c, info = scipy.linalg.lapack.dpotrf(a, lower=False, clean=True)
    return c if info == 0 and np.all(np.diag(c) > 0) else None
