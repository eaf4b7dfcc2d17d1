"""Predictions with standard errors and confidence intervals by the exact delta method.

For a prediction ``f(params)`` (``model.predict(params, exog, which, ...)``, one value per
row of exog) the covariance of the predictions is ``J V J'`` with ``J = df/dparams`` the
N x K Jacobian from mleopt.ad (exact, no finite differences) and V the fit's covariance
(whatever ``cov_type`` the fit used); the standard errors are the square roots of its
diagonal. Intervals are ``f +- q se`` with q from N(0, 1), or from t(df) when the fit uses
t (``use_t``: e.g. OLS ``cov_type="classical"``). This is statsmodels' ``get_prediction`` for
the discrete models (its "delta" method) and for OLS; statsmodels' GLM instead builds the
interval of the mean by transforming the interval of the linear predictor.

Any model works whose ``predict(params, ...)`` is written with mleopt.numpy: the built-in
models, and a user's LikelihoodModel subclass through its own ``predict`` or, by default,
the mean of its linear index (``exog @ params[:k]``; with structured parameters
the one entry of exog's width).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import ad
from . import inference as _inf

__all__ = ["PredictionResults", "get_prediction"]


class PredictionResults:
    """Predictions ``predicted`` with standard errors ``se`` (arrays, or Series on exog's
    index), ``conf_int(alpha)`` and ``summary_frame(alpha)``."""

    def __init__(self, predicted: np.ndarray, se: np.ndarray, which: str,
                 df_t: float | None, index: pd.Index | None = None) -> None:
        self.which = which
        self.df_t = df_t
        self._index = index
        self._predicted = predicted
        self._se = se

    def _wrap(self, values: np.ndarray, name: str):
        return values if self._index is None else pd.Series(values, index=self._index,
                                                             name=name)

    @property
    def predicted(self):
        """The predictions (``which``) at the estimate."""
        return self._wrap(self._predicted, self.which)

    @property
    def se(self):
        """Delta-method standard errors of the predictions."""
        return self._wrap(self._se, f"{self.which}_se")

    @property
    def predicted_mean(self):
        """statsmodels' name for ``predicted``."""
        return self.predicted

    @property
    def se_mean(self):
        """statsmodels' name for ``se``."""
        return self.se

    @property
    def dist(self) -> str:
        return "normal" if self.df_t is None else f"t({self.df_t:g})"

    def conf_int(self, alpha: float = 0.05) -> np.ndarray:
        """``(N, 2)`` lower and upper bounds: ``predicted -+ q se``."""
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be between 0 and 1, not {alpha!r}.")
        q = _inf.critical_value(alpha, self.df_t)
        return np.column_stack([self._predicted - q * self._se, self._predicted + q * self._se])

    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Columns ``mean, mean_se, mean_ci_lower, mean_ci_upper`` (statsmodels' names, for
        every ``which``), on exog's index when it had one."""
        ci = self.conf_int(alpha)
        return pd.DataFrame({"mean": self._predicted, "mean_se": self._se,
                             "mean_ci_lower": ci[:, 0], "mean_ci_upper": ci[:, 1]},
                            index=self._index)

    def __repr__(self) -> str:
        return (f"<PredictionResults: which={self.which!r}, {self._predicted.size} "
                f"predictions, {self.dist}>")


def get_prediction(results, exog: Any = None, which: str = "mean",
                   **kwds: Any) -> PredictionResults:
    """Predictions of a fit with delta-method standard errors (see the module docstring).

    ``exog``: None (the estimation sample), an array, a DataFrame (columns by name) or a
    dict of columns; ``which`` and ``kwds`` (``offset=``, ``exposure=``, ...) go to the
    model's ``predict``."""
    model = results.model
    x, kw = results._predict_inputs(exog, kwds)
    params = np.asarray(results.params, dtype=float)

    def f(p):
        return model.predict(p, exog=x, which=which, **kw)

    predicted = np.asarray(f(params), dtype=float)
    if predicted.ndim != 1:
        raise ValueError(f"get_prediction needs one prediction per row; {type(model).__name__}"
                         f".predict(which={which!r}) gives shape {predicted.shape}.")
    jac = np.asarray(ad.jacobian(f)(params), dtype=float).reshape(predicted.size, params.size)
    cov = np.asarray(results.cov_params(), dtype=float)
    var = np.einsum("ij,jk,ik->i", jac, cov, jac)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.where(var < 0, np.nan, var))
    index = exog.index if isinstance(exog, pd.DataFrame) else None
    if exog is None:
        index = getattr(getattr(model, "data", None), "row_labels", None)
    return PredictionResults(predicted, se, which, results.df_t, index)
