"""Results of MNLogit: statsmodels' K x (J-1) tables, probabilities, marginal effects.

``params`` stays one flat Series (names ``"y=label:x"``), so that every generic tool of the
results layer (covariance, Wald tests by name, delta method, summary) works unchanged;
``params_table``, ``bse_table``, ``tvalues_table`` and ``pvalues_table`` reshape it to
statsmodels' K x (J-1) DataFrame (rows the regressors, columns the outcomes ``"y=label"``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import inference as _inf
from . import numpy as mnp
from .ad import grad, jacobian
from .results import LikelihoodResults
from .results_ordinal import CategoricalResultsMixin

__all__ = ["MNLogitResults"]


class MNLogitResults(CategoricalResultsMixin, LikelihoodResults):
    """Results of MNLogit (see the module docstring for the layout of the parameters)."""

    def _table(self, values: pd.Series) -> pd.DataFrame:
        model = self.model
        k, j = model.k_exog, model.n_categories - 1
        return pd.DataFrame(np.asarray(values, dtype=float).reshape(j, k).T,
                            index=list(model.exog_names), columns=model.outcome_names[1:])

    @property
    def params_table(self) -> pd.DataFrame:
        """The coefficients as statsmodels' K x (J-1) table (``res.params`` there)."""
        return self._table(self.params)

    @property
    def bse_table(self) -> pd.DataFrame:
        return self._table(self.bse)

    @property
    def tvalues_table(self) -> pd.DataFrame:
        return self._table(self.tvalues)

    @property
    def pvalues_table(self) -> pd.DataFrame:
        return self._table(self.pvalues)

    def get_margeff(self, at: str = "overall", method: str = "dydx",
                    alpha: float = 0.05) -> "_inf.MarginalEffects":
        """Marginal effects of each regressor (the constant excluded) on the probability of
        every outcome, the base included: ``dP(y = j)/dx_k``, averaged over the sample
        (``at="overall"``) or at the regressors' means (``at="mean"``); names
        ``"y=label:x"``, outcome by outcome (statsmodels' ``margeff.ravel(order="F")``).
        Standard errors by the delta method with the exact AD Jacobian."""
        if method != "dydx":
            raise ValueError(f"MNLogit.get_margeff offers method='dydx' only, not {method!r}.")
        if at not in ("overall", "mean"):
            raise ValueError(f"at must be 'overall' or 'mean'; got {at!r}.")
        model = self.model
        x = np.asarray(model.exog, dtype=float)
        if at == "mean":
            x = x.mean(axis=0, keepdims=True)
        keep = np.array([j for j in range(model.k_exog) if j != model.const_idx], dtype=int)

        def effects(theta):
            parts = []
            for j in range(model.n_categories):
                def prob_j(xx, j=j):
                    return mnp.sum(model.predict(theta, exog=xx)[:, j])
                parts.append(mnp.mean(grad(prob_j)(x), axis=0)[keep])
            return mnp.concatenate(parts)

        theta = self._params
        value = np.asarray(effects(theta), dtype=float)
        jac = np.asarray(jacobian(effects, mode="fwd")(theta), dtype=float)
        names = [f"{outcome}:{model.exog_names[k]}" for outcome in model.outcome_names
                 for k in keep]
        return _inf.MarginalEffects(value, _inf._jvj(jac, self._cov), names, df_t=None,
                                    jacobian_=jac, alpha=alpha, method=method, at=at,
                                    results=self)
