"""GeneralizedPoisson: statsmodels' GP-1 parametrisation (Consul and Famoye's GP with the
dispersion scaled by the mean).

``E[y] = mu = exp(x'beta + offset)``, ``Var(y) = mu (1 + alpha)^2``::

    log P(y) = log mu + (y - 1) log(mu + alpha y) - y log(1 + alpha) - log y!
               - (mu + alpha y) / (1 + alpha).

alpha > 0 is overdispersion, alpha < 0 underdispersion (then ``mu + alpha y > 0`` and
``1 + alpha > 0`` are needed for every row), alpha = 0 the Poisson. Unlike the negative
binomial's alpha it is not a scale, so it is optimised as it is (not as a log), as in
statsmodels. The formula is ``mleopt.models.zeroinflated.log_pmf("gp1", ...)``, shared with
the predictions.
"""
from __future__ import annotations

import numpy as np

from .. import numpy as mnp
from .count import CountModel, Poisson
from .zeroinflated import log_pmf

__all__ = ["GeneralizedPoisson"]


class GeneralizedPoisson(CountModel):
    """Generalized Poisson (GP-1, statsmodels' GeneralizedPoisson with p=1): parameters
    beta and alpha; ``Var(y) = mu (1 + alpha)^2``."""

    _strict_kwargs = True
    extra_param_names = ("alpha",)
    nested_models = {Poisson: "Poisson is the generalized Poisson with alpha = 0."}

    def loglike_index(self, eta, extra):
        return log_pmf("gp1", self.endog, mnp.exp(eta), extra[0])

    # alpha is not a scale: the optimiser sees it as it is
    def transform(self, theta):
        return theta

    def untransform(self, params):
        return np.array(params, dtype=float, copy=True)

    def _natural_scale(self) -> np.ndarray:
        return np.ones(self.k_params, dtype=bool)

    def _theta_bounds(self, lower: np.ndarray, upper: np.ndarray):
        return lower, upper

    def start_params(self) -> np.ndarray:
        """The Poisson estimates (``_family_start``), then alpha from the moments,
        ``(1 + alpha)^2 = mean((y - mu)^2 / mu)`` (0 when the data are not overdispersed)."""
        pois = Poisson._like(self)
        beta = pois._family_start()
        mu = np.exp(pois._linear(beta))
        ratio = float(np.sum((self.endog - mu) ** 2 / mu) / max(self.df_resid, 1.0))
        alpha = np.sqrt(ratio) - 1.0 if np.isfinite(ratio) and ratio > 1 else 0.0
        return np.append(beta, alpha)

    def predict(self, params, exog=None, which: str = "mean", offset=None, exposure=None,
                y_values=None):
        """``"mean"``, ``"linear"`` (as Poisson), ``"prob-zero"`` P(y = 0), ``"prob"``
        P(y = k) for ``y_values`` (default 0..max(endog)), one column per k."""
        if which in ("mean", "linear"):
            return super().predict(params, exog, which, offset=offset, exposure=exposure)
        if which not in ("prob-zero", "prob"):
            raise ValueError(f"which must be 'mean', 'linear', 'prob-zero' or 'prob', not "
                             f"{which!r}.")
        p = self._params_by_name(params)
        mu = super().predict(p, exog, "mean", offset=offset, exposure=exposure)
        alpha = p[self.k_exog]
        ys = [0.0] if which == "prob-zero" else (
            np.arange(int(np.max(self.endog)) + 1) if y_values is None
            else np.asarray(y_values, dtype=float))
        if np.ndim(ys) != 1 or np.any(np.asarray(ys) < 0) or \
                np.any(np.asarray(ys) != np.floor(ys)):
            raise ValueError("y_values must be non-negative integers (one dimension).")
        cols = [mnp.exp(log_pmf("gp1", float(k), mu, alpha)) for k in ys]
        return cols[0] if which == "prob-zero" else mnp.stack(cols, axis=1)
