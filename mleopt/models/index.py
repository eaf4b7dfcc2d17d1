"""IndexModel: models whose observations see the parameters only through a linear predictor.

For OLS, Logit, Probit, Poisson and NegativeBinomial, observation i's log-likelihood is
``l_i(eta_i, e)`` with ``eta_i = x_i'beta + offset_i`` and a few scalar extra parameters
``e`` (sigma, alpha). A subclass defines only ``loglike_index(eta, extra)``, elementwise,
with mleopt.numpy / special.

Exact derivatives, cheaply. mleopt.ad differentiates ``l`` with respect to its
per-observation inputs ``u_i = (eta_i, e)``: the gradient by one reverse pass and the
second derivatives ``d2 l_i / du_i du_i'`` by one forward-over-reverse pass with one
tangent per input (``l_i`` depends only on ``u_i``, so the Jacobian of the gradient is
block-diagonal and all of it is recovered from 1 + k_extra tangents: Jacobian compression).
The map from ``theta = (beta, e)`` to ``u`` is linear (``X`` and ones), so the chain rule is
a matrix product: ``grad = A' g``, ``H = A' W A``. No derivative of a likelihood is written by
hand; only the linear algebra of ``eta = X beta`` is done in numpy, so that the cost of a
Hessian is one product ``X' W X`` instead of K tangents of length N through every operation.
The generic AD path (LikelihoodModel.score / hessian on ``loglikeobs``) gives the same
numbers and is what the tests compare against.

Extra parameters are optimised on the log scale (they are scales: sigma, alpha), and the
coefficients per unit of their regressor's root mean square (a diagonal rescaling that makes
the optimiser and the gradient tolerance independent of the units of the regressors).

Large data (nobs * k_params >= 10^6), where one Hessian (the product X'WX) costs several
gradients: the default start values are first refined by a fit on a systematic subsample of
20,000 rows, the optimiser computes Hessians only when asked, and Newton keeps a factorised
Hessian while it keeps cutting the gradient 8-fold per step (mleopt.optimize). The estimate
is the full-data MLE all the same, verified on the exact full-data gradient.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

import scipy.optimize

from .. import ad
from .. import numpy as mnp
from .. import optimize as _opt
from ..exceptions import (DataError, PerfectSeparationError, PerfectSeparationWarning,
                          warn_user)
from .base import LikelihoodModel, _as_params

__all__ = ["IndexModel"]


class IndexModel(LikelihoodModel):
    """A model with ``loglikeobs = loglike_index(X beta + offset, extra)`` (elementwise)."""

    def __init__(self, endog, exog=None, missing: str = "raise", **kwargs) -> None:
        if exog is None:
            raise DataError(f"{type(self).__name__} needs exog (the regressors); for an "
                            "intercept-only model pass a column of ones, np.ones(nobs).")
        super().__init__(endog, exog, missing=missing, **kwargs)

    def loglike_index(self, eta, extra: Sequence):
        """Per-observation log-likelihood from the linear predictor ``eta`` (length N) and the
        natural extra parameters ``extra`` (each a scalar or a length-N vector). Must be
        elementwise: entry i uses only eta[i], extra[j][i] and row i of the data."""
        raise NotImplementedError

    # --- the likelihood, generic form (used by mleopt.ad's generic path and by users) -------
    def _offset(self) -> np.ndarray | None:
        return None

    def loglikeobs(self, params):
        k = self.k_exog
        eta = mnp.matmul(self.exog, params[:k])
        offset = self._offset()
        if offset is not None:
            eta = eta + offset
        return self.loglike_index(eta, [params[k + j] for j in range(self.k_extra)])

    def transform(self, theta):
        """Coefficients unchanged, extra parameters ``exp(theta)`` (they are positive)."""
        if not self.k_extra:
            return theta
        k = self.k_exog
        return mnp.concatenate([theta[:k], mnp.exp(theta[k:])])

    def untransform(self, params):
        out = np.array(params, dtype=float, copy=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[self.k_exog:] = np.log(out[self.k_exog:])
        return out

    def _opt_scale(self, start: np.ndarray) -> np.ndarray:
        norms = self.__dict__.get("_col_norms")
        if norms is None:
            norms = np.sqrt(np.einsum("ij,ij->j", self.exog, self.exog))
        rms = norms / np.sqrt(self.nobs)
        rms[rms == 0] = 1.0
        return np.concatenate([rms, np.ones(self.k_extra)])

    _SUBSAMPLE = 20_000     # rows of the warm-start fit on large data

    def _refine_start(self, start: np.ndarray) -> np.ndarray:
        """On large data, start from the estimates on a systematic subsample.

        The subsample fit costs a fraction of one full iteration and lands within sampling
        error (~1/sqrt(20000)) of the full-data estimate, so the full-data Newton iterations
        start in the region of fast convergence. The result is still the full-data MLE (only
        the start changes); if the subsample fit fails, the default start is kept.
        """
        n = self.nobs
        if n * self.k_params < self._LARGE or n < 4 * self._SUBSAMPLE:
            return start
        rows = np.arange(0, n, n // self._SUBSAMPLE)
        try:
            record = self._take(rows)._fit_quick(start, gtol=1e-6, maxiter=50)
        except (ValueError, np.linalg.LinAlgError):
            return start
        ok = record.converged and np.all(np.isfinite(record.params))
        return record.params if ok else start

    # --- fast exact derivatives through the linear predictor --------------------------------
    def _linear(self, beta: np.ndarray) -> np.ndarray:
        eta = self.exog @ beta
        offset = self._offset()
        return eta if offset is None else eta + offset

    def _elementwise(self, log_extras: bool):
        """``f(eta, e_1, ..., e_m) = sum_i l_i``: the function mleopt.ad differentiates."""
        if not self.k_extra:
            def f(eta):
                return mnp.sum(self.loglike_index(eta, []))
        elif log_extras:
            def f(eta, *extra):
                return mnp.sum(self.loglike_index(eta, [mnp.exp(e) for e in extra]))
        else:
            def f(eta, *extra):
                return mnp.sum(self.loglike_index(eta, list(extra)))
        return f

    def _derivatives(self, params: np.ndarray, log_extras: bool, order: int):
        """``(loglike, G, W)``: G[a] = d l_i / d u_a (shape (1+m, N)); W[a][b] the second
        derivatives d2 l_i / du_a du_b (None if order < 2). ``params`` are natural, or theta
        (log extras) when ``log_extras``.

        The last result is kept: the optimiser's final evaluation then serves the Hessian
        of the results (for models without extra parameters theta and params coincide).
        """
        key = (np.asarray(params, dtype=float).tobytes(), bool(log_extras and self.k_extra))
        last = self.__dict__.get("_last_derivatives")
        if last is not None and last[0] == key and last[1] >= order:
            return last[2]
        out = self._compute_derivatives(params, log_extras, order)
        self._last_derivatives = (key, order, out)
        return out

    def _compute_derivatives(self, params: np.ndarray, log_extras: bool, order: int):
        k, m, n = self.k_exog, self.k_extra, self.nobs
        eta = self._linear(params[:k])
        extra = [np.full(n, params[k + j]) for j in range(m)]
        f = self._elementwise(log_extras)
        if order < 2:
            value, g = ad.value_and_grad(f, tuple(range(1 + m)) if m else 0)(eta, *extra)
            return value, (np.stack(g) if m else g[None]), None
        if not m:
            # forward over forward: l_i depends on eta_i only, so the directional derivative
            # along a vector of ones is the vector of first derivatives, and again, second
            ones = np.ones(n)

            def first(e):
                return ad.jvp(lambda e2: self.loglike_index(e2, []), (e,), (ones,))[1]

            with np.errstate(all="ignore"):
                value = f(eta)
            g, w = ad.jvp(first, (eta,), (ones,))
            return value, g[None], [[w]]

        def g_of_shift(s):
            # the stacked gradient (1+m, N) at u + s (s: one shift per input, broadcast to
            # all observations): its Jacobian in s is W, column by column
            gr = ad.grad(f, tuple(range(1 + m)))(eta + s[0], *[e + s[1 + j]
                                                               for j, e in enumerate(extra)])
            return mnp.stack(list(gr))

        value, g = ad.value_and_grad(f, tuple(range(1 + m)))(eta, *extra)
        jac = np.asarray(ad.jacobian(g_of_shift, mode="fwd")(np.zeros(1 + m)))  # (1+m, N, 1+m)
        w = [[jac[a, :, b] for b in range(1 + m)] for a in range(1 + m)]
        return value, np.stack(g), w

    def _assemble_grad(self, g: np.ndarray) -> np.ndarray:
        return np.concatenate([self.exog.T @ g[0], g[1:].sum(axis=1)])

    def _assemble_hess(self, w) -> np.ndarray:
        k, m = self.k_exog, self.k_extra
        x = self.exog
        h = np.empty((k + m, k + m))
        w00 = w[0][0]
        if x.size >= 100_000 and np.all(w00 <= 0):  # concave in eta, large data:
            z = x * np.sqrt(-w00)[:, None]  # X'WX = -Z'Z, a symmetric rank-k update
            h[:k, :k] = -(z.T @ z)
        else:
            h[:k, :k] = x.T @ (x * w00[:, None])
        for j in range(m):
            cross = x.T @ w[0][1 + j]
            h[:k, k + j] = cross
            h[k + j, :k] = cross
            for i in range(m):
                h[k + i, k + j] = np.sum(w[1 + i][1 + j])
        return h

    _LARGE = 1_000_000      # nobs * k_params from which a Hessian costs more than a gradient

    # --- the row-block methods of LikelihoodModel, by the fast route -------------------------
    # Small data: one forward-over-reverse pass gives the per-observation first and second
    # derivatives together (Python overhead dominates, so one pass beats two). Large data:
    # value and gradient only; the second derivatives and X'WX only when the optimiser asks
    # for a Hessian, and Newton may then reuse its factorisation (``expensive_hessian``).
    def _eager_hessian(self) -> bool:
        return self.nobs * self.k_params < self._LARGE

    def _expensive_hessian(self) -> bool:
        return not self._eager_hessian()

    def _bytes_per_row(self) -> float:
        """The row's data twice (X and the weighted copy of X'WX) plus the per-observation
        first and second derivatives (a few vectors per input of l_i)."""
        width = sum(int(np.prod(v.shape[1:])) for v in self._row_arrays().values())
        return 8.0 * (2 * width + 8 * (1 + self.k_extra) ** 2)

    def _block_derivatives(self, x: np.ndarray, order: int, space):
        if order < 1:
            return super()._block_derivatives(x, order, space)
        inv = space.inv
        theta = x if inv is None else x * inv
        value, g, w = self._derivatives(theta, log_extras=not space.natural, order=order)
        grad = self._assemble_grad(g)
        hess = self._assemble_hess(w) if order >= 2 else None
        if inv is not None:
            grad = grad * inv
            hess = None if hess is None else hess * np.outer(inv, inv)
        return float(value), grad, hess

    def _block_hessian(self, x: np.ndarray, space) -> np.ndarray:
        return self._block_derivatives(x, 2, space)[2]

    def _block_score_obs(self, params: np.ndarray) -> np.ndarray:
        g = self._derivatives(_as_params(params), log_extras=False, order=1)[1]
        return np.column_stack([self.exog * g[0][:, None]] + [g[1 + j] for j in
                                                               range(self.k_extra)])

    # --- non-existence of the MLE (separation) --------------------------------------------------
    def _separation(self, what: str, columns) -> None:
        """Raise (``separation="raise"``, the default) or warn that the MLE does not exist."""
        advice = ("Drop or merge the column(s) involved, or use a penalised model. Pass "
                  "separation='warn' to fit anyway (the estimates will not be meaningful).")
        if self.separation == "raise":
            raise PerfectSeparationError(f"{what} {advice}")
        warn_user(f"{what} The reported estimates are not meaningful.",
                  PerfectSeparationWarning)

    # --- helpers for subclasses ---------------------------------------------------------------
    @classmethod
    def _like(cls, other: "IndexModel", **attrs: Any) -> "IndexModel":
        """A model of class ``cls`` sharing ``other``'s data (no copy, no re-validation)."""
        new = object.__new__(cls)
        new.__dict__.update(other.__dict__)
        new.__dict__.update(attrs)
        new.__dict__.pop("_hessian_memo", None)
        new.__dict__.pop("_last_derivatives", None)
        new.__dict__.pop("_block_cache", None)
        names = list(other.exog_names) + list(cls.extra_param_names)
        new._param_names = names
        return new


def _separation_mode(separation: str) -> str:
    if separation not in ("raise", "warn"):
        raise ValueError(f"separation must be 'raise' or 'warn', not {separation!r}.")
    return separation


def diverging_columns(a: np.ndarray, equal: np.ndarray | None = None) -> list[int] | None:
    """Columns of a direction b != 0 along which the log-likelihood keeps rising, or None.

    Such a b has ``a_i'b >= 0`` for every row of ``a`` (and ``equal_i'b = 0`` for every row
    of ``equal``) with some ``a_i'b > 0``: moving the coefficients along b never lowers any
    observation's likelihood and raises some, so the MLE does not exist (binary models:
    ``a_i = q_i x_i``, perfect separation; count models: ``a_i = -x_i`` for the zero counts
    and ``equal`` the other rows). The linear program max sum_i a_i'b subject to those
    constraints and -1 <= b <= 1 (columns scaled to unit root mean square) decides.
    """
    n, k = a.shape
    rows = a if equal is None else np.vstack([a, equal])
    scale = np.sqrt(np.einsum("ij,ij->j", rows, rows) / rows.shape[0])
    scale[scale == 0] = 1.0
    a = a / scale
    eq = None if equal is None or not len(equal) else equal / scale
    res = scipy.optimize.linprog(-a.sum(axis=0), A_ub=-a, b_ub=np.zeros(n), A_eq=eq,
                                 b_eq=None if eq is None else np.zeros(eq.shape[0]),
                                 bounds=[(-1.0, 1.0)] * k, method="highs")
    if res.status != 0 or -res.fun <= 1e-7 * n:
        return None
    b = np.asarray(res.x)
    return [j for j in range(k) if abs(b[j]) > 1e-6 * np.max(np.abs(b))]
