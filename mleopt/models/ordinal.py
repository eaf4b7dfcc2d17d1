"""OrderedModel: ordered logit and probit (cumulative link models).

An outcome y in J ordered categories 0 < 1 < ... < J-1 arises from a latent
``y* = x'beta + e`` cut at ``c_0 < c_1 < ... < c_{J-2}``:

    P(y = j | x) = F(c_j - x'beta) - F(c_{j-1} - x'beta),   c_{-1} = -inf, c_{J-1} = +inf,

with F the logistic (``distr="logit"``) or standard normal (``"probit"``) cdf. exog has no
constant: the cut-points take its place (as in statsmodels' OrderedModel and R's
MASS::polr, whose ``zeta`` are these ``c_j``; polr's slopes have the same sign).

Parameters are reported on the natural scale: the slopes, then the cut-points named
``"a/b"`` for the categories a < b they separate (statsmodels' names). The optimiser works
on statsmodels' parametrisation, ``c_0`` and ``log(c_j - c_{j-1})``, so the cut-points stay
ordered; their standard errors are the usual ones from the Hessian in the natural
parameters (statsmodels reports the log increments and their standard errors instead).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special as sps

from .. import numpy as mnp
from .. import special
from ..exceptions import DataError
from ..reparam import ordered_from_free, ordered_to_free
from .base import LikelihoodModel, _as_exog
from .categories import CategoricalOutcome, category_label

__all__ = ["OrderedModel"]

_DISTRIBUTIONS = ("logit", "probit")


class OrderedModel(CategoricalOutcome, LikelihoodModel):
    """Ordered logit / probit: ``OrderedModel(endog, exog, distr="logit" | "probit")``.

    ``endog``: numbers (ordered by value) or an ordered pandas Categorical (ordered as its
    categories); strings and unordered Categoricals are refused (their order would be a
    guess). ``exog`` must not hold a constant (or columns adding up to one).
    """

    _strict_kwargs = True       # refuse keywords it does not use (weights=...)
    _formula_drop = ("Intercept",)   # from_formula: the cut-points are the intercepts

    def __init__(self, endog: Any, exog: Any, distr: str = "logit",
                 missing: str = "raise", separation: str = "raise", **weights: Any) -> None:
        self.separation = self._set_separation_mode(separation)
        if distr not in _DISTRIBUTIONS:
            raise ValueError(f"OrderedModel: distr must be 'logit' or 'probit', not {distr!r}.")
        if exog is None:
            raise DataError("OrderedModel needs exog (the regressors, without a constant).")
        self.distr = distr
        codes, labels = self._encode(endog, need_order=True)
        self.labels = labels
        text = [category_label(v) for v in labels]
        self.extra_param_names = [f"{a}/{b}" for a, b in zip(text[:-1], text[1:])]
        super().__init__(codes, exog, missing=missing, **weights)
        n_cat = len(labels)
        y = self.endog.astype(int)
        counts = np.bincount(y, minlength=n_cat)
        if np.any(counts == 0) and not self.__dict__.get("_partition"):  # missing="drop"
            empty = [text[j] for j in np.flatnonzero(counts == 0)]
            raise DataError(f"OrderedModel: endog {self.endog_name!r} has no observation in "
                            f"categor{'y' if len(empty) == 1 else 'ies'} {', '.join(empty)} "
                            "(after dropping missing rows); the cut-points next to it have "
                            "no MLE. Merge or drop that category.")
        self._counts = counts
        cats = np.arange(n_cat - 1)
        self._upper = (y[:, None] == cats).astype(float)        # c_y   (none for the top)
        self._lower = (y[:, None] == cats + 1).astype(float)    # c_y-1 (none for the bottom)
        self._top = y == n_cat - 1
        self._bottom = y == 0

    # --- checks ------------------------------------------------------------------------------
    def _validate(self) -> None:
        y = self.endog
        bad = (y != np.round(y)) | (y < 0) | (y >= len(self.labels))
        if bad.any():       # codes come from encode_categories: only a misuse reaches this
            raise DataError(f"OrderedModel: endog {self.endog_name!r} must be category codes.")
        if self.__dict__.get("_partition"):
            return      # one Dask partition: a column may be constant there only
        self._check_no_constant()
        self._check_no_implicit_constant(self._dask_summary()["r"])

    def _dask_summary(self) -> dict:
        """``R`` of the QR of ``[X, 1]`` ((K+1) x (K+1)): the R of all rows is the R of the
        partitions' R stacked (tall-skinny QR)."""
        x = self.exog
        return {"r": np.linalg.qr(np.column_stack([x, np.ones(x.shape[0])]), mode="r")}

    def _dask_validate(self) -> None:
        """On Dask data: the category counts, an explicit constant (from the whole sample's
        column ranges) and an implicit one (from the partitions' R)."""
        super()._dask_validate()
        self._check_no_constant()
        self._check_no_implicit_constant(np.linalg.qr(
            np.vstack([p["r"] for p in self._dask_summaries]), mode="r"))

    def _check_no_implicit_constant(self, r: np.ndarray) -> None:
        """Columns that add up to a constant (dummies of every level), from ``R`` of ``[X, 1]``:
        regressing 1 on X leaves the residual ``|R_KK|`` (refused where it is at most 1e-8
        sqrt(N)), with coefficients ``R[:K, :K]^-1 R[:K, K]``."""
        k = self.k_exog
        if abs(r[k, k]) > 1e-8 * np.sqrt(self.nobs):
            return
        coef = np.linalg.solve(r[:k, :k], r[:k, k])
        used = [self.exog_names[j] for j in np.flatnonzero(np.abs(coef) > 1e-10)]
        raise DataError(
            f"OrderedModel: exog has an implicit constant: the columns "
            f"{', '.join(map(repr, used))} add up to a constant, which the cut-points "
            "already represent. Drop one of them (e.g. one dummy of each set).")

    def _check_no_constant(self) -> None:
        if self.const_idx is not None:
            raise DataError(
                f"OrderedModel: exog column {self.exog_names[self.const_idx]!r} is constant; "
                "there should not be a constant in the model (the cut-points play the "
                "intercept's part). Drop it (e.g. do not call add_constant).")

    def _improving_rows(self) -> np.ndarray:
        """``c_y - x'b`` must not fall (rows below the top), ``c_{y-1} - x'b`` not rise
        (rows above the bottom)."""
        hi = np.hstack([-self.exog, self._upper])[~self._top]
        lo = np.hstack([self.exog, -self._lower])[~self._bottom]
        return np.vstack([hi, lo])

    # --- the likelihood ------------------------------------------------------------------------
    def loglikeobs(self, params):
        """``log(F(c_y - x'b) - F(c_{y-1} - x'b))``: the bottom and top categories
        ``log F(h)`` and ``log F(-l)``; a middle one, with ``h > l``, from the tail both
        lie in, without cancellation: ``log F(h) + log(1 - F(l)/F(h))`` where
        ``h + l <= 0``, else (F symmetric) ``log F(-l) + log(1 - F(-h)/F(-l))``."""
        k = self.k_exog
        xb = mnp.matmul(self.exog, params[:k])
        cuts = params[k:]
        hi = mnp.matmul(self._upper, cuts) - xb
        lo = mnp.matmul(self._lower, cuts) - xb
        log_cdf = special.log_expit if self.distr == "logit" else special.log_ndtr
        mid = ~(self._top | self._bottom)
        lower = mid & np.asarray((hi + lo) <= 0)   # a comparison: plain booleans
        upper = mid & ~lower
        # each branch gets safe values (1, 0) on the rows it does not serve: a branch must
        # stay finite where it is not chosen, or its derivative would be NaN there
        hi_l, lo_l = mnp.where(lower, hi, 1.0), mnp.where(lower, lo, 0.0)
        hi_u, lo_u = mnp.where(upper, hi, 1.0), mnp.where(upper, lo, 0.0)
        in_lower = log_cdf(hi_l) + mnp.log(-mnp.expm1(log_cdf(lo_l) - log_cdf(hi_l)))
        in_upper = log_cdf(-lo_u) + mnp.log(-mnp.expm1(log_cdf(-hi_u) - log_cdf(-lo_u)))
        return mnp.where(self._bottom, log_cdf(hi),
                         mnp.where(self._top, log_cdf(-lo),
                                   mnp.where(lower, in_lower, in_upper)))

    # --- parametrisation: ordered cut-points ---------------------------------------------------
    def transform(self, theta):
        """``c_0 = theta_0``, ``c_j = c_{j-1} + exp(theta_j)``: increasing for any theta."""
        k = self.k_exog
        return mnp.concatenate([theta[:k], ordered_from_free(theta[k:])])

    def untransform(self, params):
        out = np.array(params, dtype=float, copy=True)
        out[self.k_exog:] = ordered_to_free(out[self.k_exog:])
        return out

    def _natural_scale(self) -> np.ndarray:
        """The slopes and the first cut-point are optimised as they are."""
        return np.arange(self.k_params) <= self.k_exog

    def _opt_scale(self, start: np.ndarray) -> np.ndarray:
        """Slopes per unit of their regressor's root mean square (as IndexModel)."""
        return np.concatenate([self._exog_rms(), np.ones(self.k_extra)])

    def start_params(self) -> np.ndarray:
        """Slopes 0; cut-points ``F^-1`` of the cumulative shares (the null model's MLE)."""
        counts = self._weighted_counts()
        shares = np.cumsum(counts)[:-1] / counts.sum()
        cuts = sps.logit(shares) if self.distr == "logit" else sps.ndtri(shares)
        return np.concatenate([np.zeros(self.k_exog), cuts])

    @property
    def df_resid(self) -> float:
        """``nobs - k_params``: the cut-points count, as in statsmodels' OrderedModel."""
        return float(self.wnobs - self.k_params)

    def null_model_llf(self) -> float:
        """The model without regressors: ``sum_j n_j log(n_j / N)`` (cut-points alone)."""
        n = self._weighted_counts()
        n = n[n > 0]
        return float(np.sum(n * np.log(n / n.sum())))

    # --- predictions ---------------------------------------------------------------------------
    def predict(self, params, exog=None, which: str = "prob"):
        """``which="prob"``: the N x J probabilities of the categories; ``"cumprob"``: the
        N x (J-1) ``P(y <= j)``; ``"linear"``: ``x'beta``. Differentiable in params and
        exog. (E[y] is not defined for categories: ``which="mean"`` is refused.)"""
        if which not in ("prob", "cumprob", "linear"):
            raise ValueError(f"OrderedModel.predict: which must be 'prob', 'cumprob' or "
                             f"'linear', not {which!r} (the categories have no mean).")
        params = self._params_by_name(params)
        x = self.exog if exog is None else _as_exog(exog, self.k_exog, self.exog_names)
        k = self.k_exog
        xb = mnp.matmul(x, params[:k])
        if which == "linear":
            return xb
        cdf = special.expit if self.distr == "logit" else special.ndtr
        z = mnp.reshape(params[k:], (1, -1)) - mnp.reshape(xb, (-1, 1))
        cum = cdf(z)
        if which == "cumprob":
            return cum
        return mnp.concatenate([cum[:, :1], cum[:, 1:] - cum[:, :-1], 1.0 - cum[:, -1:]],
                               axis=1)

    @property
    def _results_class(self):
        from ..results_ordinal import OrderedResults
        return OrderedResults
