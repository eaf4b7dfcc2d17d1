"""Censored and truncated normal regression: Tobit, IntervalRegression, TruncatedRegression.

All have a latent ``y*_i = x_i'beta + sigma e_i``, ``e_i ~ N(0, 1)``, and limits
``L_i < R_i`` (numbers, or per-row arrays; -inf / +inf / None: no limit; an interval
regression also allows ``L_i = R_i``). With
``a_i = (L_i - x_i'beta) / sigma``, ``b_i = (R_i - x_i'beta) / sigma``, ``z_i = (y_i -
x_i'beta) / sigma``:

* **Tobit** (censoring): ``y_i = L_i`` when ``y*_i <= L_i``, ``y_i = R_i`` when ``y*_i >=
  R_i``, else ``y_i = y*_i``. Observation i's log-likelihood is ``log Phi(a_i)`` (left-
  censored), ``log Phi(-b_i)`` (right-censored) or ``log phi(z_i) - log sigma``. Per-row
  limits give each row its own censoring points (Stata's ``tobit, ll(var) ul(var)``).
* **IntervalRegression** (interval censoring, Stata's ``intreg``, R's ``survreg(Surv(lo, hi,
  type="interval2"), dist="gaussian")``): y*_i is known to lie in ``[lower_i, upper_i]``;
  ``log phi(z_i) - log sigma`` (lower = upper: exact), ``log Phi(b_i)`` (lower = -inf:
  left-censored), ``log Phi(-a_i)`` (upper = +inf: right-censored), ``log(Phi(b_i) -
  Phi(a_i))`` (an interval), with ``a``, ``b``, ``z`` from ``L = lower``, ``R = upper``.
* **TruncatedRegression** (truncation): only rows with ``L_i < y*_i < R_i`` are sampled;
  ``log phi(z_i) - log sigma - log(Phi(b_i) - Phi(a_i))``.

sigma is optimised as log sigma and reported as sigma (its standard error by the delta
method through the exact AD Hessian), as NegativeBinomial's alpha. Nothing is differentiated
by hand: mleopt.ad finds the linear index ``X beta`` by itself.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import numpy as mnp
from ..ad.rules_special import LOG_SQRT_2PI
from ..exceptions import DataError
from ..special import log_ndtr, ndtr
from .index import IndexModel
from .linear import _least_squares

__all__ = ["IntervalRegression", "Tobit", "TruncatedRegression"]

_WHICH = ("mean", "latent", "linear", "prob", "conditional", "prob_left", "prob_right")


def _check_which(which: str, allowed: tuple) -> None:
    if which not in allowed:
        raise ValueError(f"which must be one of {', '.join(map(repr, allowed))}; got "
                         f"{which!r}.")


def _limit(value: Any, name: str, default: float):
    """A scalar limit as a float (None: ``default``, i.e. -inf / +inf), or per-row limits as
    given (a pandas Series is aligned by the data layer), with None entries of a list or
    object array mapped to ``default``."""
    if value is None:
        return default
    if np.ndim(value) == 0 and not isinstance(value, (pd.Series, pd.Index)):
        try:
            out = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a number, None, or one number per observation; "
                            f"got {value!r}.") from None
        if np.isnan(out):
            raise ValueError(f"{name} is NaN; give a number, or None / "
                             f"{'-' if default < 0 else ''}inf for no limit.")
        return out
    if isinstance(value, (pd.Series, pd.DataFrame)):
        return value
    arr = np.asarray(value)
    if arr.dtype == object:
        arr = np.array([default if v is None else v for v in arr.ravel()], dtype=float)
    return arr


def _per_row_float(values: Any, name: str) -> np.ndarray:
    arr = values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)
    try:
        return np.array(arr, dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"{name} must hold numbers (None, -inf or inf for no limit); got "
                        f"values of type {arr.dtype}.") from None


class _NormalLimits(IndexModel):
    """Shared parts: limits (scalars or per-row), start values, sigma on the log scale."""

    extra_param_names = ("sigma",)
    scale_param_names = ("sigma",)
    _LIMITS = ("left", "right")

    def __init__(self, endog, exog=None, left: Any = 0.0, right: Any = None,
                 missing: str = "raise", **kwargs) -> None:
        limits = {"left": _limit(left, "left", -np.inf),
                  "right": _limit(right, "right", np.inf)}
        # per-row limits travel with the rows (aligned by index, dropped with missing rows)
        rows = {k: v for k, v in limits.items() if np.ndim(v) > 0}
        super().__init__(endog, exog, missing=missing, **rows, **kwargs)
        for name, value in limits.items():
            setattr(self, name, _per_row_float(getattr(self, name), name) if name in rows
                    else value)
        self._check_limits()
        self._prepare()

    def _split_kwargs(self, endog, kwargs: dict) -> tuple[dict, dict]:
        """Per-row ``left`` / ``right`` are kept aligned with the data (LikelihoodModel's
        per-row keyword arrays); every other keyword is refused."""
        rows = {k: kwargs.pop(k) for k in self._LIMITS if k in kwargs}
        extras, passthrough = super()._split_kwargs(endog, kwargs)
        return extras, {**passthrough, **rows}

    def _validate(self) -> None:
        """Checked once the limits are set (``_check_limits``)."""

    def _check_limits(self) -> None:
        y, yname, model = self.endog, self.endog_name, type(self).__name__
        lo, hi = self.left, self.right
        bad = ~(np.broadcast_to(lo, y.shape) < np.broadcast_to(hi, y.shape))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"{model}: the left limit must be below the right limit; "
                            f"{int(bad.sum())} of {self.nobs} rows have left >= right "
                            f"(first: row {i}, left = {np.broadcast_to(lo, y.shape)[i]:g}, "
                            f"right = {np.broadcast_to(hi, y.shape)[i]:g}).")
        for side, outside in (("left", y < lo), ("right", y > hi)):
            if np.any(outside):
                i = int(np.flatnonzero(outside)[0])
                limit = np.broadcast_to(getattr(self, side), y.shape)[i]
                word = "below the left" if side == "left" else "above the right"
                raise DataError(
                    f"{model}: endog {yname!r} is {word} limit in {int(outside.sum())} of "
                    f"{self.nobs} rows (first: row {i}, {yname} = {y[i]:g}, {side} = "
                    f"{limit:g}); the limits contradict the data. Check {side}= "
                    f"(None for no limit){self._contradiction_hint}.")

    _contradiction_hint = ("; a censored outcome equals its limit: if those rows are "
                           "censored, record them at the limit (e.g. y.clip(lower=left, "
                           "upper=right), which is what R's AER::tobit assumes)")

    def _prepare(self) -> None:
        """Per-row constants the log-likelihood uses (subclasses)."""

    @property
    def _results_class(self):
        from .. import results_censored     # the results layer, imported when a fit ends
        return getattr(results_censored, self._results_name)

    # --- start values ------------------------------------------------------------------------
    def start_params(self) -> np.ndarray:
        """Least squares on the rows whose outcome is exact (all rows if too few), sigma
        from their residuals."""
        rows = self._exact_rows()
        if rows is None or rows.sum() <= self.k_exog:
            x, y = self.exog, self.endog
        else:
            x, y = self.exog[rows], self.endog[rows]
        try:
            beta = _least_squares(x, y)
        except np.linalg.LinAlgError:
            beta = np.zeros(self.k_exog)
        resid = y - x @ beta
        sigma = float(np.sqrt(resid @ resid / max(y.size, 1)))
        if not (np.isfinite(sigma) and sigma > 0):
            sigma = float(np.std(self.endog)) or 1.0
        return np.append(beta, sigma)

    def _exact_rows(self) -> np.ndarray | None:
        return None

    def _opt_scale(self, start: np.ndarray) -> np.ndarray:
        """Coefficients per unit of RMS(x) / sigma (the index in units of sigma), as OLS."""
        scale = super()._opt_scale(start)
        if start[-1] > 0:
            scale[: self.k_exog] /= start[-1]
        return scale

    # --- predictions -------------------------------------------------------------------------
    def _limits_for(self, exog, left, right):
        """The limits for predict: the model's (exog None, or scalar limits), or given."""
        out = []
        for name, given in (("left", left), ("right", right)):
            if given is not None:
                value = _limit(given, name, -np.inf if name == "left" else np.inf)
                out.append(value if np.ndim(value) == 0 else _per_row_float(value, name))
                continue
            mine = getattr(self, name)
            if exog is not None and np.ndim(mine) > 0:
                raise ValueError(f"{type(self).__name__} has per-row {name} limits, so "
                                 f"predict for a new exog needs them too: pass {name}= (a "
                                 "number or one value per row of exog).")
            out.append(mine)
        return out

    def _predict_row_kwds(self) -> dict:
        """The per-row limits, for predictions on the model's own rows given as exog
        (marginal effects: mleopt.inference.margeff)."""
        rows = {k: self.__dict__.get(k) for k in self._LIMITS}    # (a Dask model's client
        return {k: v for k, v in rows.items() if np.ndim(v) > 0}   # holds only per-row ones)

    def _standardised(self, params, exog, left, right):
        """``(xb, sigma, a, b, has_left, has_right)`` for predictions."""
        params = self._params_by_name(params)
        xb = self._linear_predictor(params, exog)
        sigma = params[self.k_exog]
        lo, hi = self._limits_for(exog, left, right)
        has_lo, has_hi = bool(np.any(np.isfinite(lo))), bool(np.any(np.isfinite(hi)))
        # a limit of -inf / inf enters through where(): a finite stand-in keeps derivatives
        a = (mnp.where(np.isfinite(lo), lo, 0.0) - xb) / sigma
        b = (mnp.where(np.isfinite(hi), hi, 0.0) - xb) / sigma
        return xb, sigma, a, b, (has_lo, np.isfinite(lo)), (has_hi, np.isfinite(hi))

    @staticmethod
    def _phi(x):
        return mnp.exp(-0.5 * x * x - LOG_SQRT_2PI)

    def _prob_inside(self, a, b, lo, hi):
        """``Phi(b) - Phi(a)``, P(L < y* < R), with an absent limit as Phi(-inf) = 0 /
        Phi(inf) = 1."""
        upper = mnp.where(hi[1], ndtr(b), 1.0) if hi[0] else 1.0
        lower = mnp.where(lo[1], ndtr(a), 0.0) if lo[0] else 0.0
        return upper - lower

    def _mills_terms(self, a, b, lo, hi):
        """``phi(a) - phi(b)`` with phi(+-inf) = 0 for absent limits."""
        pa = mnp.where(lo[1], self._phi(a), 0.0) if lo[0] else 0.0
        pb = mnp.where(hi[1], self._phi(b), 0.0) if hi[0] else 0.0
        return pa - pb


class Tobit(_NormalLimits):
    """Censored normal regression (Tobit): ``Tobit(endog, exog, left=0, right=None)``.

    ``left`` / ``right``: censoring limits, each a number, None (no limit; also -inf / inf),
    or one value per observation (per-row censoring points; a pandas Series is matched by
    index). ``y_i <= left_i`` (it can only equal it) marks a left-censored observation,
    ``y_i >= right_i`` a right-censored one. Parameters: the coefficients and ``sigma``
    (optimised as log sigma; R's ``AER::tobit`` reports ``Log(scale) = log sigma``).

    ``predict(which=...)``: ``"latent"`` (= ``"linear"``) ``x'beta = E[y*]``; ``"mean"``
    (default) the censored mean ``E[y] = L Phi(a) + R Phi(-b) + (Phi(b) - Phi(a)) x'beta +
    sigma (phi(a) - phi(b))``; ``"prob"`` the probability of being uncensored ``Phi(b) -
    Phi(a)``; ``"conditional"`` ``E[y | uncensored] = x'beta + sigma (phi(a) - phi(b)) /
    (Phi(b) - Phi(a))``; ``"prob_left"`` ``Phi(a)``, ``"prob_right"`` ``Phi(-b)``. Marginal
    effects on each: ``results.get_margeff(which=...)``; the McDonald-Moffitt decomposition:
    ``results.mcdonald_moffitt()``.
    """

    _results_name = "TobitResults"
    _strict_kwargs = True       # read from each class's own body (see LikelihoodModel)
    predictions = _WHICH
    """The values ``predict(which=...)`` takes."""

    def _prepare(self) -> None:
        y = self.endog
        self._cens_left = np.asarray(y <= self.left)
        self._cens_right = np.asarray(y >= self.right)
        self._any_left = bool(self._cens_left.any())
        self._any_right = bool(self._cens_right.any())
        n_cens = int((self._cens_left | self._cens_right).sum())
        if n_cens == self.nobs and not self.__dict__.get("_partition"):
            raise DataError(
                f"Tobit: every observation of endog {self.endog_name!r} is censored "
                f"({int(self._cens_left.sum())} at the left limit, "
                f"{int(self._cens_right.sum())} at the right); with no exact outcome sigma and "
                "the coefficients are not identified. Check the limits left= / right=.")
        # the limits where they bind (elsewhere 0: a finite stand-in, never chosen)
        self._left_at = np.where(self._cens_left, self.left, 0.0)
        self._right_at = np.where(self._cens_right, self.right, 0.0)

    @property
    def censoring_counts(self) -> dict[str, int]:
        """Rows censored at the left, at the right, and uncensored (summed block by block:
        Dask partitions too)."""
        parts = self._block_map("_block_apply", _censored_rows)
        left, right = sum(p[0] for p in parts), sum(p[1] for p in parts)
        return {"left": left, "uncensored": self.nobs - left - right, "right": right}

    def loglike_index(self, eta, extra):
        """``log Phi((L - eta) / sigma)``, ``log Phi((eta - R) / sigma)`` or
        ``log phi((y - eta) / sigma) - log sigma`` by the row's censoring."""
        sigma = extra[0]
        z = (self.endog - eta) / sigma
        ll = -LOG_SQRT_2PI - 0.5 * z * z - mnp.log(sigma)
        if self._any_left:
            ll = mnp.where(self._cens_left, log_ndtr((self._left_at - eta) / sigma), ll)
        if self._any_right:
            ll = mnp.where(self._cens_right, log_ndtr((eta - self._right_at) / sigma), ll)
        return ll

    def _exact_rows(self) -> np.ndarray:
        return ~(self._cens_left | self._cens_right)

    def predict(self, params, exog=None, which: str = "mean", left=None, right=None):
        """Predictions (see the class docstring for ``which``). With a new ``exog`` the
        model's limits are used when they are numbers; per-row limits must be given
        (``left=`` / ``right=``). Differentiable in params and exog (mleopt.numpy)."""
        _check_which(which, self.predictions)
        if which in ("latent", "linear"):
            return self._linear_predictor(self._params_by_name(params), exog)
        xb, sigma, a, b, lo, hi = self._standardised(params, exog, left, right)
        if which == "prob_left":
            return mnp.where(lo[1], ndtr(a), 0.0) if lo[0] else mnp.zeros_like(xb)
        if which == "prob_right":
            return mnp.where(hi[1], ndtr(-b), 0.0) if hi[0] else mnp.zeros_like(xb)
        prob = self._prob_inside(a, b, lo, hi)
        if which == "prob":
            return prob
        mills = self._mills_terms(a, b, lo, hi)
        if which == "conditional":
            return xb + sigma * mills / prob
        mean = prob * xb + sigma * mills
        if lo[0]:
            mean = mean + mnp.where(lo[1], (a * sigma + xb) * ndtr(a), 0.0)
        if hi[0]:
            mean = mean + mnp.where(hi[1], (b * sigma + xb) * ndtr(-b), 0.0)
        return mean


class TruncatedRegression(_NormalLimits):
    """Truncated normal regression: ``TruncatedRegression(endog, exog, left=0, right=None)``.

    Rows are sampled only when ``left_i < y*_i < right_i`` (R's ``truncreg``, Stata's
    ``truncreg``): ``log phi(z) - log sigma - log(Phi(b) - Phi(a))``. Limits as for
    :class:`Tobit` (numbers, None / -inf / inf for none, or per-row arrays); an outcome
    outside them is an error. Parameters: the coefficients and ``sigma`` (optimised as log
    sigma).

    ``predict(which=...)``: ``"latent"`` (= ``"linear"``) ``x'beta``; ``"mean"`` (default)
    the truncated mean ``E[y | L < y* < R] = x'beta + sigma (phi(a) - phi(b)) / (Phi(b) -
    Phi(a))``; ``"prob"`` ``P(L < y* < R) = Phi(b) - Phi(a)``. Marginal effects:
    ``results.get_margeff(which=...)``.
    """

    _results_name = "TruncatedResults"
    _strict_kwargs = True
    predictions = ("mean", "latent", "linear", "prob")
    """The values ``predict(which=...)`` takes."""
    _contradiction_hint = ("; a truncated sample holds only outcomes inside the limits: "
                           "drop the rows outside them, or use Tobit for censored data")

    def _prepare(self) -> None:
        lo = np.broadcast_to(np.isfinite(self.left), self.endog.shape)
        hi = np.broadcast_to(np.isfinite(self.right), self.endog.shape)
        if not (lo.any() or hi.any()):
            raise DataError("TruncatedRegression: left and right are both None (no "
                            "truncation); that is OLS. Give the truncation limit(s).")
        self._has_left, self._has_right = bool(lo.any()), bool(hi.any())
        self._lo_finite, self._hi_finite = np.array(lo), np.array(hi)
        self._left_at = np.where(lo, self.left, 0.0)
        self._right_at = np.where(hi, self.right, 0.0)

    def loglike_index(self, eta, extra):
        """``log phi(z) - log sigma - log P(L < y* < R)``; the last term is ``log Phi(-a)``
        (left only), ``log Phi(b)`` (right only), or ``log(Phi(b) - Phi(a))`` computed on
        the side of the distribution where it does not cancel."""
        sigma = extra[0]
        z = (self.endog - eta) / sigma
        ll = -LOG_SQRT_2PI - 0.5 * z * z - mnp.log(sigma)
        a = (self._left_at - eta) / sigma
        b = (self._right_at - eta) / sigma
        both = self._lo_finite & self._hi_finite
        if self._has_left and self._has_right and both.any():
            log_both = _log_ndtr_diff(a, b, both)
        else:
            log_both = 0.0
        log_p = 0.0
        if self._has_left:
            log_p = mnp.where(self._lo_finite, log_ndtr(-a), log_p)
        if self._has_right:
            log_p = mnp.where(self._hi_finite, log_ndtr(b), log_p)
        if self._has_left and self._has_right and both.any():
            log_p = mnp.where(both, log_both, log_p)
        return ll - log_p

    def predict(self, params, exog=None, which: str = "mean", left=None, right=None):
        """Predictions (see the class docstring for ``which``): with a new ``exog`` the
        model's limits are used when they are numbers; per-row limits must be given."""
        _check_which(which, self.predictions)
        if which in ("latent", "linear"):
            return self._linear_predictor(self._params_by_name(params), exog)
        xb, sigma, a, b, lo, hi = self._standardised(params, exog, left, right)
        prob = self._prob_inside(a, b, lo, hi)
        if which == "prob":
            return prob
        return xb + sigma * self._mills_terms(a, b, lo, hi) / prob


def _log_ndtr_diff(a, b, rows: np.ndarray):
    """``log(Phi(b) - Phi(a))`` (``a < b``) on ``rows``, computed in the tail where it does
    not cancel: ``Phi(b) - Phi(a) = Phi(-a) - Phi(-b)``, so for ``a > 0`` it is ``log Phi(-a)
    + log(1 - exp(log Phi(-b) - log Phi(-a)))``, else the same with ``(b, a)``. Elsewhere
    a stand-in interval (-1, 1), whose value is never chosen, keeps log(0) out of the
    derivatives that flow through where()."""
    a2, b2 = mnp.where(rows, a, -1.0), mnp.where(rows, b, 1.0)
    hi_cdf = log_ndtr(mnp.where(a2 > 0, -a2, b2))
    lo_cdf = log_ndtr(mnp.where(a2 > 0, -b2, a2))
    return hi_cdf + mnp.log(-mnp.expm1(lo_cdf - hi_cdf))


def _censored_rows(block: Tobit) -> tuple[int, int]:
    return int(block._cens_left.sum()), int(block._cens_right.sum())


def _bound_column(values: Any, name: str, empty: float) -> tuple[np.ndarray, pd.Index | None]:
    """One interval bound as a float vector (NaN and None: ``empty``, i.e. unbounded), with
    its row labels when a pandas Series; the user's array is copied, never modified."""
    labels = values.index if isinstance(values, pd.Series) else None
    arr = values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(f"{name} must be one value per observation (one-dimensional); got "
                        f"shape {arr.shape}.")
    if arr.dtype == object:
        arr = np.array([np.nan if v is None else v for v in arr], dtype=object)
    try:
        out = np.array(arr, dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"{name} must hold numbers (NaN, None or {'-' if empty < 0 else ''}"
                        f"inf for no bound); got values of type {arr.dtype}.") from None
    out[np.isnan(out)] = empty
    return out, labels


def _first_rows(mask: np.ndarray, labels: pd.Index | None, k: int = 3) -> str:
    rows = np.flatnonzero(mask)[:k]
    shown = [str(labels[i]) if labels is not None else str(i) for i in rows]
    return ", ".join(shown) + (", ..." if mask.sum() > k else "")


class IntervalRegression(_NormalLimits):
    """Interval-censored normal regression: ``IntervalRegression(lower, upper, exog)``.

    Observation i's latent ``y*_i = x_i'beta + sigma e_i`` is known to lie in ``[lower_i,
    upper_i]`` (Stata's ``intreg``; R's ``survreg(Surv(lower, upper, type="interval2"),
    dist="gaussian")``): ``lower_i = upper_i`` is an exact outcome, ``lower_i`` NaN / None /
    -inf a left-censored one (y* <= upper_i), ``upper_i`` NaN / None / +inf a right-censored
    one (y* >= lower_i), both finite an interval. ``lower`` / ``upper`` are one value per
    row (pandas Series: with the same index as a pandas exog, as endog elsewhere). Parameters: the coefficients and
    ``sigma`` (optimised as log sigma, reported as sigma with a delta-method SE; R reports
    ``Log(scale)``). Tobit is the special case of points and one-sided censoring.

    ``predict(which=...)``: ``"latent"`` (default; = ``"linear"`` = ``"mean"``) ``x'beta =
    E[y*]``, the mean of the outcome the intervals record. ``missing="drop"`` drops rows
    with NaN in exog; a NaN in lower / upper is an absent bound, not a missing value. Dask
    data (lower, upper, exog partitioned alike) are evaluated partition by partition.
    """

    _results_name = "IntervalResults"
    _strict_kwargs = True
    _LIMITS = ("lower", "upper")
    predictions = ("latent", "linear", "mean")
    """The values ``predict(which=...)`` takes."""

    _dask_roles = ("lower", "exog")     # Dask data: lower stands in for endog, upper per row
    _dask_added = {"_any": "sum"}       # rows of each kind, over all partitions

    @classmethod
    def from_formula(cls, formula: str, data: Any, *args: Any, **kwargs: Any):
        """Not available: the outcome is two columns whose NaN mean open intervals."""
        raise NotImplementedError(
            "IntervalRegression has no from_formula (its outcome is two columns, lower and "
            "upper, whose NaN mean open intervals); build the design with "
            "formulaic.model_matrix('~ x1 + x2', data) and pass IntervalRegression(lower, "
            "upper, design).")

    def __init__(self, lower: Any, upper: Any, exog: Any = None, missing: str = "raise",
                 **kwargs: Any) -> None:
        names = [(str(v.name) if isinstance(v, pd.Series) and v.name is not None else d)
                 for v, d in ((lower, "lower"), (upper, "upper"))]
        if names[0] == names[1]:
            names = ["lower", "upper"]
        lo, lo_labels = _bound_column(lower, f"lower ({names[0]!r})", -np.inf)
        hi, hi_labels = _bound_column(upper, f"upper ({names[1]!r})", np.inf)
        if lo.shape != hi.shape:
            raise DataError(f"lower ({names[0]!r}) has {lo.size} rows but upper ({names[1]!r}) "
                            f"has {hi.size}; give one bound of each per observation.")
        if lo_labels is not None and hi_labels is not None and not lo_labels.equals(hi_labels):
            raise DataError(f"lower ({names[0]!r}) and upper ({names[1]!r}) are Series with "
                            "different indexes; align them first (e.g. upper.loc[lower.index]).")
        labels = lo_labels if lo_labels is not None else hi_labels
        if labels is None and isinstance(exog, (pd.DataFrame, pd.Series)) and \
                len(exog) == lo.size:
            labels = exog.index
        self._check_bounds(lo, hi, names, labels)
        finite_lo, finite_hi = np.isfinite(lo), np.isfinite(hi)
        # endog: a finite value per row (the exact value, the interval's midpoint, or the one
        # finite bound), used for the exact rows' density and for start values
        rep = np.where(finite_lo & finite_hi, 0.5 * (lo + hi), np.where(finite_lo, lo, hi))
        rep = np.where(lo == hi, lo, rep)
        endog = pd.Series(rep, index=labels if labels is not None else pd.RangeIndex(lo.size),
                          name=f"[{names[0]}, {names[1]}]")
        self.bound_names = names
        super(_NormalLimits, self).__init__(endog, exog, missing=missing, lower=lo, upper=hi,
                                            **kwargs)
        self.lower = np.asarray(self.lower, dtype=float)
        self.upper = np.asarray(self.upper, dtype=float)
        self._prepare()

    @staticmethod
    def _check_bounds(lo: np.ndarray, hi: np.ndarray, names: list[str],
                      labels: pd.Index | None) -> None:
        where = f"lower ({names[0]!r}) / upper ({names[1]!r})"
        unbounded = ~np.isfinite(lo) & ~np.isfinite(hi)
        if unbounded.any():
            raise DataError(
                f"IntervalRegression: {int(unbounded.sum())} of {lo.size} rows have no finite "
                f"bound in {where} (both NaN / infinite; first rows: "
                f"{_first_rows(unbounded, labels)}); such a row says nothing about y*. Drop "
                "those rows, or give at least one bound.")
        wrong = lo > hi
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            raise DataError(
                f"IntervalRegression: lower is above upper in {int(wrong.sum())} of {lo.size} "
                f"rows (first rows: {_first_rows(wrong, labels)}; row "
                f"{labels[i] if labels is not None else i}: {names[0]} = {lo[i]:g}, "
                f"{names[1]} = {hi[i]:g}); an interval needs lower <= upper. Check whether "
                "the columns are swapped.")

    def _validate(self) -> None:
        """The bounds are checked before the data layer (``_check_bounds``)."""

    def _prepare(self) -> None:
        lo, hi = self.lower, self.upper
        finite_lo, finite_hi = np.isfinite(lo), np.isfinite(hi)
        self._exact = np.asarray(lo == hi)
        self._left = ~finite_lo
        self._right = ~finite_hi
        self._interval = finite_lo & finite_hi & ~self._exact
        if not (self._exact | self._interval).any() and not self.__dict__.get("_partition"):
            raise DataError(
                f"IntervalRegression: every one of the {self.nobs} rows is unbounded on one "
                f"side ({int(self._left.sum())} left-censored: {self.bound_names[0]} missing; "
                f"{int(self._right.sum())} right-censored: {self.bound_names[1]} missing), "
                "with no exact value or finite interval; sigma and the coefficients are not "
                "identified. Check the bounds.")
        self._any = {k: int(getattr(self, "_" + k).sum())      # rows of each kind
                     for k in ("left", "right", "interval")}
        self._lower_at = np.where(finite_lo, lo, 0.0)     # finite stand-ins, never chosen
        self._upper_at = np.where(finite_hi, hi, 0.0)

    def _dask_validate(self) -> None:
        """On Dask data: some exact or two-sided row, from the partitions' counts of one-sided
        rows (every row is exact, two-sided, left- or right-censored)."""
        if self._any["left"] + self._any["right"] == self.nobs:
            raise DataError(
                f"IntervalRegression: every one of the {self.nobs} rows is unbounded on one "
                "side, with no exact value or finite interval; sigma and the coefficients are "
                "not identified. Check the bounds.")

    def _exact_rows(self) -> np.ndarray:
        return self._exact

    def _predict_row_kwds(self) -> dict:
        """Predictions do not depend on the bounds."""
        return {}

    @property
    def interval_counts(self) -> dict[str, int]:
        """Rows by kind: exact, left-censored, right-censored, interval (summed block by
        block)."""
        parts = self._block_map("_block_apply", _interval_rows)
        keys = ("exact", "left", "right", "interval")
        return {k: sum(p[j] for p in parts) for j, k in enumerate(keys)}

    def loglike_index(self, eta, extra):
        """``log phi(z) - log sigma``, ``log Phi(b)``, ``log Phi(-a)`` or ``log(Phi(b) -
        Phi(a))`` (in the tail where it does not cancel) by the row's kind."""
        sigma = extra[0]
        z = (self.endog - eta) / sigma
        ll = -LOG_SQRT_2PI - 0.5 * z * z - mnp.log(sigma)
        a = (self._lower_at - eta) / sigma
        b = (self._upper_at - eta) / sigma
        if self._any["left"]:
            ll = mnp.where(self._left, log_ndtr(b), ll)
        if self._any["right"]:
            ll = mnp.where(self._right, log_ndtr(-a), ll)
        if self._any["interval"]:
            ll = mnp.where(self._interval, _log_ndtr_diff(a, b, self._interval), ll)
        return ll

    def predict(self, params, exog=None, which: str = "latent"):
        """``x'beta = E[y*]`` for the model's rows or a new ``exog`` (``which``: "latent",
        "linear" or "mean", all the same). Differentiable in params and exog."""
        _check_which(which, self.predictions)
        return self._linear_predictor(self._params_by_name(params), exog)


def _interval_rows(block: IntervalRegression) -> tuple[int, int, int, int]:
    return tuple(int(getattr(block, k).sum())
                 for k in ("_exact", "_left", "_right", "_interval"))
