"""IndexModel: models whose observations see the parameters only through a linear predictor.

For OLS, Logit, Probit, Poisson and NegativeBinomial, observation i's log-likelihood is
``l_i(eta_i, e)`` with ``eta_i = x_i'beta + offset_i`` and a few scalar extra parameters
``e`` (sigma, alpha). A subclass defines only ``loglike_index(eta, extra)``, elementwise,
with mleopt.numpy / special.

Nothing here differentiates: the score, Hessian and per-observation scores are
LikelihoodModel's generic ones (mleopt.ad on ``loglikeobs``). mleopt.ad finds the linear
index ``X beta`` in the recorded computation by itself (mleopt.ad.structure), takes the
per-observation derivatives with respect to the few inputs ``(eta_i, e)`` and chains them
through X with matrix products (X'WX), so a user's own likelihood written the same way is as
fast as these models.

What this class adds: extra parameters are optimised on the log scale (they are scales:
sigma, alpha), the coefficients per unit of their regressor's root mean square (a diagonal
rescaling that makes the optimiser and the gradient tolerance independent of the units of the
regressors), the checks that the MLE exists (separation), and on large data (nobs *
k_params >= 10^6) start values refined by a fit on a systematic subsample of 20,000 rows
(the estimate is the full-data MLE all the same).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

import scipy.optimize

from .. import numpy as mnp
from ..exceptions import (DataError, PerfectSeparationError, PerfectSeparationWarning,
                          warn_user)
from .base import LikelihoodModel

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

    # --- the likelihood: every derivative comes from it (mleopt.ad) --------------------------
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

    # --- the linear predictor (start values, checks, predictions) ----------------------------
    def _linear(self, beta: np.ndarray) -> np.ndarray:
        eta = self.exog @ beta
        offset = self._offset()
        return eta if offset is None else eta + offset

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
