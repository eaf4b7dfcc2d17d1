"""The inverse of a Gram matrix ``M'M`` without forming it: an orthogonal factorisation.

``M`` (N x K, N >= K) is a design matrix or a matrix of scores. With ``D`` its column norms,
``M D^-1 = Q R`` (Householder QR of the unit-length columns), so that

    (M'M)^-1 = T T',   T = D^-1 R^-1,        leverage h_i = ||q_i||^2,
    (M'M)^-1 m_i = T q_i                      (m_i' the i-th row of M).

The relative error of ``T T'`` is of order ``cond(M D^-1) * eps``; inverting ``M'M`` (or a
Hessian ``-X'X / sigma^2``) directly loses ``cond^2 * eps``: for NIST's Filip data (a
degree-10 polynomial, scaled condition number 5e9) that is everything, here 8 digits remain.

Large, well-conditioned matrices (N*K above 10^6 and scaled condition number at most 1e3)
take ``R`` from the Cholesky factor of the scaled Gram matrix instead (same R up to signs,
relative error at most ``cond^2 eps`` <= 1e-10, at a fraction of the cost of a Householder
QR). The numerical rank is decided on the singular values ``s`` of ``R`` (those of
``M D^-1``) with numpy.linalg.matrix_rank's tolerance, ``max(N, K) * eps * s_max``: columns
that load on a null direction are reported as not identified.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg

__all__ = ["GramFactor"]

_LARGE = 1_000_000        # N * K from which a Householder QR costs many Gram matrices
_WELL_CONDITIONED = 1e3   # scaled condition number up to which the Gram route is exact to 1e-10


class GramFactor:
    """``M D^-1 = Q R`` for a tall matrix ``M``; see the module docstring.

    Attributes: ``norms`` (D), ``r`` (K x K upper triangular), ``rank``, ``unidentified``
    (boolean per column: zero, non-finite, or in a null direction of ``M``).
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
            r = self._cholesky_r(gram)
        if r is None:
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
        self._keep = ~null
        if null.any():      # pseudo-inverse of R on the directions that are identified
            self._u = u[:, self._keep]
            rinv = (vt[self._keep].T / s[self._keep]) @ self._u.T
        else:
            self._u = None
            rinv = scipy.linalg.solve_triangular(r, np.eye(k))
        self.t = rinv / self.norms[:, None]

    def _cholesky_r(self, gram: np.ndarray | None) -> np.ndarray | None:
        """R from the Cholesky factor of the scaled Gram matrix, or None when that matrix is
        not well conditioned enough for it (the Householder QR is used then)."""
        if gram is None:
            gram = self._m.T @ self._m
        c, info = scipy.linalg.lapack.dpotrf(gram / np.outer(self.norms, self.norms),
                                             lower=False, clean=True)
        if info != 0:
            return None
        d = np.abs(np.diag(c))
        s = np.linalg.svd(c, compute_uv=False)
        if d.min() <= 0 or s[0] > _WELL_CONDITIONED * s[-1]:
            return None
        return c

    # ------------------------------------------------------------------------------------
    def inverse(self) -> np.ndarray:
        """``(M'M)^-1 = T T'``; NaN rows and columns for the unidentified columns."""
        out = self.t @ self.t.T
        out[self.unidentified, :] = np.nan
        out[:, self.unidentified] = np.nan
        return out

    def lstsq(self, y: np.ndarray) -> np.ndarray:
        """The least-squares solution of ``M b = y``: ``D^-1 R^-1 Q'y`` by a triangular solve
        (more accurate than multiplying by T); when rank < K, ``T Q'y`` (the solution of
        minimum norm in the column-scaled coordinates)."""
        y = np.asarray(y, dtype=float)
        if self._u is None:
            return scipy.linalg.solve_triangular(self.r, self.q.T @ y) / self.norms
        return self.t @ (self._q.T @ y)     # all of Q: T maps the null directions to 0

    @property
    def q(self) -> np.ndarray:
        """The orthonormal factor (N x rank): ``M D^-1 R^-1`` on the identified directions."""
        if self._q is None:     # Cholesky route: Q = M D^-1 R^-1 (accurate: well conditioned)
            self._q = scipy.linalg.solve_triangular(self.r, (self._m / self.norms).T,
                                                    trans="T").T
        return self._q if self._u is None else self._q @ self._u

    def leverage(self) -> np.ndarray:
        """Diagonal of the hat matrix ``M (M'M)^+ M'``: the squared row norms of Q."""
        q = self.q
        return np.einsum("ij,ij->i", q, q)
