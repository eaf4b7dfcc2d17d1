"""Results of MNLogit: statsmodels' K x (J-1) tables (probabilities and marginal effects
per outcome: mleopt.results_ordinal.CategoricalResultsMixin).

As in statsmodels' MNLogitResults, ``params``, ``bse``, ``tvalues`` and ``pvalues`` are
K x (J-1) DataFrames: rows the regressors, columns the outcomes ``"y=label"`` (the base
category has none). The parameters themselves are one flat vector, outcome by outcome, named
``"y=label:x"`` (e.g. ``"PID=1:age"``): ``param_names``, ``cov_params()``, ``conf_int()``,
the summary, Wald and t tests by name (``res.t_test("PID=1:age = PID=2:age")``) and the delta
method use these names; ``params_flat``, ``bse_flat``, ``tvalues_flat`` and
``pvalues_flat`` give the flat Series. ``model.predict`` takes either form.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .results import LikelihoodResults, shared_index
from .results_ordinal import CategoricalResultsMixin

__all__ = ["MNLogitResults"]


class MNLogitResults(CategoricalResultsMixin, LikelihoodResults):
    """Results of MNLogit (see the module docstring for the layout of the parameters)."""

    def _as_reported(self, values: np.ndarray) -> pd.DataFrame:
        """The flat values (outcome by outcome) as statsmodels' K x (J-1) table."""
        model = self.model
        k, j = model.k_exog, model.n_categories - 1
        rows, cols = self._table_axes()
        return pd.DataFrame(np.asarray(values, dtype=float).reshape(j, k).T,
                            index=rows, columns=cols)

    def _table_axes(self) -> tuple[pd.Index, pd.Index]:
        """The tables' rows (regressors) and columns (outcomes but the base) as pandas
        Indexes, built once (as ``_names_index``); each table gets its own views."""
        key = (tuple(self.model.exog_names), tuple(self.model.outcome_names[1:]))
        cached = self.__dict__.get("_table_axes_cache")
        if cached is None or cached[0] != key:
            cached = self._table_axes_cache = (key, shared_index(key[0]), shared_index(key[1]))
        return cached[1].view(), cached[2].view()

    @property
    def J(self) -> int:     # noqa: N802 (statsmodels' MNLogitResults names)
        """The number of categories."""
        return self.model.J

    @property
    def K(self) -> int:     # noqa: N802
        """The number of regressors."""
        return self.model.K

    # the names of earlier versions, where params was flat and these were the tables
    @property
    def params_table(self) -> pd.DataFrame:
        """= ``params`` (statsmodels' K x (J-1) table)."""
        return self.params

    @property
    def bse_table(self) -> pd.DataFrame:
        return self.bse

    @property
    def tvalues_table(self) -> pd.DataFrame:
        return self.tvalues

    @property
    def pvalues_table(self) -> pd.DataFrame:
        return self.pvalues

    def summary(self, alpha: float = 0.05, title: str | None = None, xname=None):
        """statsmodels' layout: one block of coefficients per outcome, under ``"y=label"``,
        rows the regressors (shown as ``xname``, one name per regressor, if given)."""
        report = super().summary(alpha=alpha, title=title)
        model = self.model
        k = model.k_exog
        rows = list(model.exog_names)
        if xname is not None:
            rows = [str(x) for x in xname]
            if len(rows) != k:
                raise ValueError(f"xname has {len(rows)} names for the {k} regressors "
                                 f"{list(model.exog_names)} (one per regressor; the same "
                                 "in every outcome's block).")
        report.frame = report.frame.set_axis(rows * (model.n_categories - 1), axis=0)
        report.groups = [(name, k) for name in model.outcome_names[1:]]
        return report
