"""Results of MNLogit: statsmodels' K x (J-1) tables (probabilities and marginal effects
per outcome: mleopt.results_ordinal.CategoricalResultsMixin).

``params`` stays one flat Series (names ``"y=label:x"``), so that every generic tool of the
results layer (covariance, Wald tests by name, delta method, summary) works unchanged;
``params_table``, ``bse_table``, ``tvalues_table`` and ``pvalues_table`` reshape it to
statsmodels' K x (J-1) DataFrame (rows the regressors, columns the outcomes ``"y=label"``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

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
