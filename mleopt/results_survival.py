"""Results of an accelerated-failure-time fit (mleopt.models.survival.AFT).

What it adds to LikelihoodResults, in R survreg's terms: ``scale`` = exp(Log(scale)) and,
for the Weibull, ``shape`` = 1/scale, with delta-method standard errors
(``scale_params()``; shown below the coefficients in the summary, without z tests: both
are > 0 by definition); the distribution and the number of events in the summary's header;
``predict`` returning a DataFrame (one column per time or quantile) for several ``times``
or ``q``; ``get_margeff(which="mean" | "median")``: marginal effects on the mean or median
survival time with delta-method standard errors.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import numpy as mnp
from .inference import EstimateResults
from .results import LikelihoodResults
from .results_twopart import WhichMargins

__all__ = ["AFTResults"]


class AFTResults(WhichMargins, LikelihoodResults):
    """Results of an AFT fit: survreg's coefficients and Log(scale), plus scale/shape, and
    marginal effects on the mean (``get_margeff()``) or median (``which="median"``)
    survival time."""

    _margins_which = ("mean", "median")

    def scale_params(self, alpha: float = 0.05) -> EstimateResults:
        """``scale`` = exp(Log(scale)) and, for the Weibull, ``shape`` = 1/scale, with
        delta-method standard errors (exact AD Jacobian). The exponential model's scale is
        fixed at 1: it has none (a ValueError says so)."""
        model = self.model
        if not model.extra_param_names:
            raise ValueError("the exponential AFT model has its scale fixed at 1 (Weibull "
                             "shape 1): there is no scale parameter to report.")
        name = model.extra_param_names[0]

        def derived(b):
            out = {"scale": mnp.exp(b[name])}
            if model.dist == "weibull":
                out["shape"] = mnp.exp(-b[name])
            return out
        est = self.delta_method(derived)
        est.alpha = alpha
        return est

    @property
    def scale(self) -> float:
        """sigma = exp(Log(scale)) (1 for the exponential model)."""
        if not self.model.extra_param_names:
            return 1.0
        return float(np.exp(self._params[self.model.k_exog]))

    @property
    def shape(self) -> float:
        """The Weibull shape 1/scale (R's rweibull / scipy's weibull_min shape)."""
        if self.model.dist not in ("weibull", "exponential"):
            raise AttributeError(f"shape is the Weibull shape 1/scale; this model's "
                                 f"distribution is {self.model.dist!r} (see scale).")
        return 1.0 / self.scale

    @property
    def n_events(self) -> int:
        """The number of observed (uncensored) durations, counted block by block (Dask
        partitions included)."""
        return int(sum(self.model._block_map("_block_apply", _count_events)))

    def predict(self, exog=None, which: str = "mean", q=None, times=None):
        """Predictions at the estimate (see ``AFT.predict``): ``"linear"``, ``"mean"``,
        ``"median"``, ``"quantile"`` (at ``q``), ``"survival"`` (S(t | x) at ``times``).

        Several ``q`` or ``times`` give one column each: a DataFrame whose columns are them
        (indexed like a DataFrame ``exog``, or the data's rows for ``exog=None``); one
        value per row otherwise (a Series for a DataFrame ``exog``, as the base class)."""
        extra = {k: v for k, v in (("q", q), ("times", times)) if v is not None}
        if any(np.ndim(v) == 1 for v in extra.values()):
            return self._predict_columns(exog, which, extra)
        return super().predict(exog, which=which, **extra)

    def _predict_columns(self, exog, which: str, extra: dict) -> pd.DataFrame:
        values = np.asarray(next(iter(extra.values())), dtype=float)
        index = None
        if isinstance(exog, pd.DataFrame):
            index = exog.index
        elif exog is None:
            index = getattr(getattr(self.model, "data", None), "row_labels", None)
        out = np.asarray(self.model.predict(self._params, exog=exog, which=which, **extra))
        columns = pd.Index(values, name="times" if which == "survival" else "q")
        return pd.DataFrame(out, index=index, columns=columns)

    def summary(self, alpha: float = 0.05, title: str | None = None, xname=None):
        """The statsmodels-style report, with scale (and the Weibull shape) below the
        coefficients, as survreg prints ``Scale=``."""
        report = super().summary(alpha=alpha, title=title, xname=xname)
        if not self.model.extra_param_names:
            report.notes.append("Scale fixed at 1 (exponential distribution).")
            return report
        derived = self.scale_params(alpha).summary_frame(alpha)
        derived.columns = report.frame.columns
        report.frame = pd.concat([report.frame, derived])
        report.untested = report.untested | frozenset(derived.index)
        report.notes.append(f"{' and '.join(derived.index)}: "
                            + ("exp(Log(scale)) and 1/scale" if len(derived) > 1
                               else "exp(Log(scale))")
                            + ", delta-method standard errors (not separate parameters).")
        return report

    def _summary_header_extra(self) -> list[tuple[str, str]]:
        return [("Distribution:", self.model.dist),
                ("Events:", f"{self.n_events} of {int(self.nobs)}")] + \
            super()._summary_header_extra()


def _count_events(block) -> float:
    return float(np.sum(block.event))
