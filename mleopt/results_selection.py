"""Results of the sample-selection model (mleopt.models.selection.Heckman).

Beside the generic estimates (outcome and selection coefficients, rho, sigma with their
inverse-Hessian covariance), the ancillary parameters Stata's ``heckman`` reports, each with
a delta-method standard error (exact AD Jacobian): ``athrho = arctanh(rho)``,
``lnsigma = log(sigma)`` and ``lambda = rho sigma``, the coefficient of the inverse Mills
ratio. The summary lists them under the coefficients. A fit at the boundary rho = +-1 says
so in the summary, and the standard errors of rho, athrho and lambda are NaN.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from . import inference as _inf
from . import numpy as mnp
from .inference import EstimateResults, estimate_table
from .results import LikelihoodResults

__all__ = ["HeckmanResults"]


class HeckmanResults(LikelihoodResults):
    """``Heckman(...).fit()``: params (``rho``, ``sigma`` on the natural scale), ``ancillary``
    (athrho, lnsigma, lambda by the delta method), ``lambda_``, predictions of the outcome
    mean, the mean given selection and the selection probability."""

    def _set_cov(self, cov_type, cov_kwds, use_t):
        super()._set_cov(cov_type, cov_kwds, use_t)
        if self.model.boundary_note:        # no interior maximum in rho: no SE for it
            j = self.param_names.index("rho")
            self._cov = self._cov.copy()
            self._cov[j, :] = self._cov[:, j] = np.nan

    @cached_property
    def ancillary(self) -> EstimateResults:
        """athrho, lnsigma and lambda = rho sigma, with delta-method SEs (Stata's
        ``/athrho``, ``/lnsigma``, ``lambda``)."""
        return self.delta_method(lambda p: {"athrho": mnp.arctanh(p["rho"]),
                                            "lnsigma": mnp.log(p["sigma"]),
                                            "lambda": p["rho"] * p["sigma"]})

    @property
    def lambda_(self) -> float:
        """``rho * sigma``: the coefficient of the inverse Mills ratio."""
        return float(self.params["rho"] * self.params["sigma"])

    @cached_property
    def lr_test_rho(self) -> tuple[float, float]:
        """``(chi2, p)``: likelihood-ratio test of rho = 0 (independent equations) on one
        degree of freedom, ``2 (llf - independent_llf)``, as Stata's heckman reports."""
        stat = 2.0 * (self.llf - self.model.independent_llf())
        if stat < -1e-8 * max(abs(self.llf), 1.0):     # this fit is not the maximum
            return float("nan"), float("nan")
        stat = max(stat, 0.0)                           # rounding only
        return stat, float(_inf.chi2_sf(stat, 1))

    @property
    def nobs_selected(self) -> int:
        return int(self.model._sums["n1"])

    def predict(self, exog=None, which: str = "mean", selection_exog=None):
        """``which``: ``"mean"`` (E[y | x] = x'b), ``"conditional"`` (E[y | x, z, selected]),
        ``"prob_selected"`` (Phi(z'g)), ``"linear"`` (x'b), ``"selection_linear"`` (z'g).
        New data: ``exog`` and/or ``selection_exog`` (DataFrames are read by column name;
        the result is a Series on their index)."""
        index = next((d.index for d in (exog, selection_exog) if isinstance(d, pd.DataFrame)),
                     None)
        for d in (exog, selection_exog):
            if isinstance(d, pd.DataFrame) and not d.index.equals(index):
                raise ValueError("exog and selection_exog have different row indexes; align "
                                 "them (e.g. selection_exog.loc[exog.index]).")
        out = np.asarray(self.model.predict(self._params, exog=exog, which=which,
                                            selection_exog=selection_exog), dtype=float)
        if index is not None:
            return pd.Series(out, index=index, name=which)
        if exog is None and selection_exog is None:
            return self._by_row(out, which)
        return out

    @cached_property
    def fittedvalues(self):
        """E[y_i | x_i] = x_i'b on every row (NaN where the outcome regressors were missing)."""
        return self.predict(which="mean")

    @property
    def resid(self):
        """``y - x'b`` on the selected rows, NaN on the others (y is not observed there)."""
        y = np.where(self.model.selected == 1, self.model.endog, np.nan)
        return self._by_row(y - np.asarray(self.fittedvalues, dtype=float), "resid")

    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """The coefficient table, then athrho, lnsigma and lambda (delta method)."""
        anc = self.ancillary
        extra = estimate_table(anc.effect, anc.sd, anc.names, self.df_t, alpha)
        return pd.concat([super().summary_frame(alpha), extra])

    def summary(self, alpha: float = 0.05, title: str | None = None, xname=None):
        from .summary import Summary
        report = Summary(self, alpha=alpha, title=title)
        report.frame = self.summary_frame(alpha)
        report.untested = report.untested | {"sigma"}
        report.rename(xname, self.param_names)
        m = self.model
        report.notes.append(
            f"Outcome {m.endog_name!r} observed on {self.nobs_selected} of {self.nobs} rows "
            f"({m.selected_name!r} = 1). lambda = rho * sigma is the coefficient of the inverse "
            "Mills ratio; athrho = arctanh(rho), lnsigma = log(sigma) (delta method).")
        chi2, p = self.lr_test_rho
        report.notes.append(f"LR test of independent equations (rho = 0): chi2(1) = "
                            f"{chi2:.4g}, Prob > chi2 = {p:.4g}.")
        if m.boundary_note:
            report.notes.append(f"WARNING: {m.boundary_note}")
        return report

    def _summary_header_extra(self) -> list[tuple[str, str]]:
        from .summary import fmt_stat
        n1 = self.nobs_selected
        rows = [("Selected obs:", fmt_stat(n1)), ("Nonselected obs:", fmt_stat(self.nobs - n1)),
                ("Log-Likelihood:", fmt_stat(self.llf, 2))]
        if not np.isnan(self.llnull):
            rows += [("LL-Null (outcome):", fmt_stat(self.llnull, 2)),
                     ("LLR p-value:", fmt_stat(self.llr_pvalue, 4))]
        return rows + [("AIC:", fmt_stat(self.aic, 2)), ("BIC:", fmt_stat(self.bic, 2))]
