"""Results of the censored and truncated normal regressions (Tobit, TruncatedRegression,
IntervalRegression).

``get_margeff(which=...)`` gives marginal effects on any prediction of the model
(mleopt.inference.margeff with ``which``): for a Tobit ``"mean"`` (E[y], the default),
``"latent"`` (E[y*] = x'beta: the coefficients), ``"prob"`` (the probability of being
uncensored), ``"conditional"`` (E[y | uncensored]); for a truncated regression ``"mean"``
(the truncated mean), ``"latent"``, ``"prob"``. ``TobitResults.mcdonald_moffitt()`` splits
dE[y]/dx into its parts (McDonald and Moffitt 1980). Standard errors: delta method with
exact AD Jacobians.
"""
from __future__ import annotations

import numpy as np

from . import inference as _inf
from . import numpy as mnp
from .ad import grad, jacobian
from .results import LikelihoodResults

__all__ = ["IntervalResults", "TobitResults", "TruncatedResults"]


class _CensoredMargins:
    _which_default = "mean"

    def get_margeff(self, at: str = "overall", method: str = "dydx", alpha: float = 0.05,
                    dummy: bool = False, count: bool = False,
                    which: str = "mean") -> "_inf.MarginalEffects":
        """Average (``at="overall"``) or at-the-mean (``at="mean"``) marginal effects on the
        prediction ``which`` (see the model's ``predict``), with delta-method standard
        errors; ``method``, ``dummy``, ``count`` as for Logit's ``get_margeff``. With per-row
        limits, ``at="mean"`` is available for ``which="latent"`` only (the limits have no
        mean row)."""
        if which not in self.model.predictions:
            raise ValueError(f"which must be one of "
                             f"{', '.join(map(repr, self.model.predictions))}; got {which!r}.")
        if which not in ("latent", "linear"):
            self._check_mean_row(at)
        out = _inf.margeff(self, at=at, method=method, alpha=alpha, dummy=dummy,
                           count=count, which=which)
        out.which = which
        return out


    def _check_mean_row(self, at: str) -> None:
        rows = self.model._predict_row_kwds()
        if at == "mean" and rows:
            raise ValueError(f"at='mean' evaluates the effects at the mean of the regressors, "
                             f"but this {type(self.model).__name__} has per-row "
                             f"{' and '.join(rows)} limits, which have no mean row; use "
                             "at='overall' (or which='latent').")


class TobitResults(_CensoredMargins, LikelihoodResults):
    """Results of a Tobit fit: marginal effects on E[y], E[y*], P(uncensored) and
    E[y | uncensored], and the McDonald-Moffitt decomposition."""

    def mcdonald_moffitt(self, at: str = "overall", alpha: float = 0.05
                         ) -> "_inf.EstimateResults":
        """The McDonald-Moffitt decomposition of the marginal effects on E[y].

        ``E[y] = L P_L + R P_R + P E[y | unc]`` (P = P(uncensored)), so for each regressor
        ``dE[y]/dx = P dE[y|unc]/dx`` (the change among the uncensored: *intensive*)
        ``+ E[y|unc] dP/dx`` (the change in the probability of being uncensored:
        *extensive*) ``+ L dP_L/dx + R dP_R/dx`` (*limits*; 0 when the limits are 0 or
        absent). Each part is averaged over the sample (``at="overall"``) or taken at the
        mean of the regressors (``at="mean"``); rows are named ``"x: total"``,
        ``"x: intensive"``, ``"x: extensive"``, ``"x: limits"`` (left out when every limit
        is 0 or absent), with delta-method SEs.
        """
        if at not in ("overall", "mean"):
            raise ValueError(f"at must be 'overall' or 'mean'; got {at!r}.")
        model = self.model
        if getattr(model, "_dask_base", None) is not None:
            raise NotImplementedError(
                "mcdonald_moffitt() reads every row of exog, which on Dask data would gather "
                "it to the client; use get_margeff(which='prob' / 'conditional' / 'mean') "
                "(computed per partition) for the parts.")
        self._check_mean_row(at)
        x = np.asarray(model.exog, dtype=float)
        if at == "mean":
            x = _inf.at_row(x, at, model)
        w = _inf.sample_weights(model) if at == "overall" else None
        exog = None if at == "overall" else x
        keep = [j for j in range(x.shape[1]) if j != model.const_idx]
        lo, hi = model._limits_for(exog, None, None)
        lo = np.where(np.isfinite(lo), lo, 0.0)
        hi = np.where(np.isfinite(hi), hi, 0.0)
        with_limits = bool(np.any(lo != 0) or np.any(hi != 0))
        labels = ("total", "intensive", "extensive", "limits")[: 4 if with_limits else 3]

        def pred(theta, xx, which):
            return model.predict(theta, exog=xx, which=which)

        def slopes(theta, which):
            return grad(lambda xx: mnp.sum(pred(theta, xx, which)))(x)

        def parts(theta):
            p = mnp.reshape(pred(theta, x, "prob"), (-1, 1))
            cond = mnp.reshape(pred(theta, x, "conditional"), (-1, 1))
            lo_r = np.reshape(np.broadcast_to(lo, (x.shape[0],)), (-1, 1))
            hi_r = np.reshape(np.broadcast_to(hi, (x.shape[0],)), (-1, 1))
            intensive = p * slopes(theta, "conditional")
            extensive = cond * slopes(theta, "prob")
            limits = lo_r * slopes(theta, "prob_left") + hi_r * slopes(theta, "prob_right")
            total = slopes(theta, "mean")
            rows = [_inf.sample_mean(v, w) for v in (total, intensive, extensive, limits)]
            rows = rows if with_limits else rows[:3]
            return mnp.concatenate([mnp.stack([r[j] for r in rows]) for j in keep])

        value = np.asarray(parts(self._params), dtype=float)
        jac = np.asarray(jacobian(parts, mode="fwd")(self._params), dtype=float)
        names = [f"{model.exog_names[j]}: {part}" for j in keep
                 for part in labels]
        return _inf.EstimateResults(value, _inf._jvj(jac, self._cov), names, df_t=None,
                                    jacobian_=jac, alpha=alpha)

    def _summary_header_extra(self) -> list[tuple[str, str]]:
        counts = self.model.censoring_counts
        return [("Left-censored:", str(counts["left"])),
                ("Uncensored:", str(counts["uncensored"])),
                ("Right-censored:", str(counts["right"]))] + super()._summary_header_extra()


class TruncatedResults(_CensoredMargins, LikelihoodResults):
    """Results of a truncated normal regression: marginal effects on the truncated mean
    E[y | L < y* < R] (default), the latent mean and P(L < y* < R)."""


class IntervalResults(_CensoredMargins, LikelihoodResults):
    """Results of an interval regression; the summary counts exact, left-censored,
    right-censored and interval rows. Marginal effects on E[y*] are the coefficients."""

    def get_margeff(self, at: str = "overall", method: str = "dydx", alpha: float = 0.05,
                    dummy: bool = False, count: bool = False,
                    which: str = "latent") -> "_inf.MarginalEffects":
        """Marginal effects on ``E[y*] = x'beta`` (see ``_CensoredMargins.get_margeff``)."""
        return super().get_margeff(at=at, method=method, alpha=alpha, dummy=dummy,
                                   count=count, which=which)

    def _summary_header_extra(self) -> list[tuple[str, str]]:
        counts = self.model.interval_counts
        return [("Exact:", str(counts["exact"])),
                ("Left-censored:", str(counts["left"])),
                ("Right-censored:", str(counts["right"])),
                ("Interval:", str(counts["interval"]))] + super()._summary_header_extra()
