"""Parametric accelerated-failure-time (AFT) survival models with right censoring: AFT.

R survreg's location-scale form on log time: ``log T_i = x_i'beta + sigma W_i`` with W from
a standard distribution,

============  ======================  ===============  ==================  ==============
dist          W                       S_W(w)           quantile w_q        E[exp(sigma W)]
============  ======================  ===============  ==================  ==============
weibull       minimum extreme value   exp(-e^w)        log(-log(1 - q))    Gamma(1+sigma)
exponential   the same, sigma = 1
lognormal     standard normal         Phi(-w)          Phi^-1(q)           exp(sigma^2/2)
loglogistic   standard logistic       1 / (1 + e^w)    log(q / (1 - q))    pi s / sin(pi s)
============  ======================  ===============  ==================  ==============

With ``z_i = (log t_i - x_i'beta) / sigma``, an observed time (event 1) contributes the log
density of T, ``log f_W(z_i) - log sigma - log t_i``, a censored one (event 0) ``log S_W(z_i)``
(the time-scale log-likelihood survreg and lifelines report). The parameters are the
coefficients of log time and ``Log(scale)`` = log sigma (survreg's name; estimated as it is,
no transform). The results report ``scale`` = sigma and, for the Weibull, the ``shape``
1/sigma (R's rweibull / scipy's weibull_min shape), with delta-method standard errors.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np
import scipy.special as sps

from .. import numpy as mnp
from .. import special
from .. import stats
from ..exceptions import DataError
from .base import LikelihoodModel
from .index import IndexModel

__all__ = ["AFT"]


class _Errors(NamedTuple):
    """The standard distribution of W: log density and log survival (mleopt ops, traced),
    quantile (numpy: no parameter), E[exp(sigma W)] (mleopt ops), and its mean and sd
    (start values)."""

    logpdf: Callable
    logsf: Callable
    ppf: Callable
    mean_factor: Callable
    mean: float
    sd: float


def _ev_mean_factor(sigma):
    return mnp.exp(special.gammaln(1.0 + sigma))


def _loglogistic_mean_factor(sigma):
    """pi sigma / sin(pi sigma) for sigma < 1; the mean is infinite for sigma >= 1."""
    finite = sigma < 1.0            # a plain boolean on traced values too
    s = mnp.where(finite, sigma, 0.5)
    return mnp.where(finite, np.pi * s / mnp.sin(np.pi * s), np.inf)


_EXTREME = _Errors(logpdf=lambda w: w - mnp.exp(w), logsf=lambda w: -mnp.exp(w),
                   ppf=lambda q: np.log(-np.log1p(-q)), mean_factor=_ev_mean_factor,
                   mean=-np.euler_gamma, sd=np.pi / np.sqrt(6.0))
_NORMAL = _Errors(logpdf=stats.norm.logpdf, logsf=stats.norm.logsf, ppf=sps.ndtri,
                  mean_factor=lambda s: mnp.exp(0.5 * s * s), mean=0.0, sd=1.0)
_LOGISTIC = _Errors(logpdf=stats.logistic.logpdf, logsf=stats.logistic.logsf, ppf=sps.logit,
                    mean_factor=_loglogistic_mean_factor, mean=0.0, sd=np.pi / np.sqrt(3.0))

DISTRIBUTIONS = {"weibull": _EXTREME, "exponential": _EXTREME, "lognormal": _NORMAL,
                 "loglogistic": _LOGISTIC}
LOG_SCALE = "Log(scale)"        # survreg's name of log sigma


class AFT(IndexModel):
    """Accelerated-failure-time regression of ``durations`` on ``exog`` (R's survreg).

    ``AFT(durations, exog, event=None, dist="weibull")``: ``event`` is 1 where the duration
    was observed and 0 where it is right-censored (default: every duration observed);
    ``dist`` one of ``"weibull"``, ``"exponential"`` (Weibull with scale 1: no Log(scale)),
    ``"lognormal"``, ``"loglogistic"``. Parameters: the coefficients of log time, then
    ``Log(scale)``. ``exp(beta_j)`` is the time ratio of a unit change in x_j.
    """

    _strict_kwargs = True       # refuse keywords it does not use (weights=...)
    _extra_arrays = ("event",)

    def __new__(cls, *args: Any, **kwargs: Any):
        # the distribution's attributes are set here too: on Dask data the client's model
        # is made by DaskModel.__init__, which does not run AFT.__init__
        self = super().__new__(cls, *args, **kwargs)
        self._set_dist(args[3] if len(args) > 3 else kwargs.get("dist", "weibull"))
        return self

    def __init__(self, durations: Any, exog: Any = None, event: Any = None,
                 dist: str = "weibull", missing: str = "raise", **weights: Any) -> None:
        self._set_dist(dist)
        super().__init__(durations, exog, missing=missing, event=event, **weights)
        event = self.data.extras.get("event")
        self.event = np.ones(self.nobs) if event is None else event
        self._all_observed = bool(np.all(self.event == 1))
        self._log_t = np.log(self.endog)

    def _set_dist(self, dist: str) -> None:
        if not isinstance(dist, str) or dist not in DISTRIBUTIONS:
            raise ValueError(f"dist must be one of {', '.join(map(repr, DISTRIBUTIONS))}, "
                             f"not {dist!r}.")
        self.dist = dist
        self._errors = DISTRIBUTIONS[dist]
        self.extra_param_names = () if dist == "exponential" else (LOG_SCALE,)
        self.model_name = f"AFT ({dist})"

    # --- data checks ----------------------------------------------------------------------
    def _validate(self) -> None:
        t, name = self.endog, self.endog_name
        bad = ~(t > 0)
        if bad.any():
            raise DataError(f"AFT needs positive durations: {name!r} has {int(bad.sum())} "
                            f"value(s) <= 0 (e.g. {t[bad][0]:g} in row "
                            f"{int(np.flatnonzero(bad)[0])}); log time must be finite. Drop "
                            "those rows or, for events at time 0, add a small offset.")
        event = self.data.extras.get("event")
        if event is None:
            return
        bad = (event != 0) & (event != 1)
        if bad.any():
            raise DataError(f"event must be 1 (observed) or 0 (right-censored); it has "
                            f"{int(bad.sum())} other value(s) (e.g. {event[bad][0]:g} in row "
                            f"{int(np.flatnonzero(bad)[0])}). Recode it, e.g. event = "
                            "(status == 2) for R's 1/2 coding.")
        if not event.any() and not self.__dict__.get("_partition"):
            raise DataError(f"every duration of {name!r} is censored (event is 0 in all "
                            f"{t.shape[0]} rows): the likelihood rises without bound as the "
                            "times grow, so no estimate exists.")

    def not_nested_reason(self, restricted: "LikelihoodModel") -> str | None:
        """Why ``restricted`` (a fit of the same class) is not nested in this model, for
        lr_test: AFT models of different distributions are not, except the exponential
        within the Weibull (Log(scale) = 0)."""
        other = getattr(restricted, "dist", self.dist)
        if other == self.dist or (self.dist, other) == ("weibull", "exponential"):
            return None
        return (f"an AFT model with dist={other!r} is not nested in one with "
                f"dist={self.dist!r} (only the exponential is, within the Weibull); compare "
                "non-nested distributions by AIC instead.")

    # --- the likelihood -------------------------------------------------------------------
    def loglike_index(self, eta, extra):
        """``log f_W(z) - log sigma - log t`` (observed) or ``log S_W(z)`` (censored)."""
        log_sigma = extra[0] if extra else 0.0
        z = self._log_t - eta
        if extra:
            z = z * mnp.exp(-log_sigma)
        observed = self._errors.logpdf(z) - log_sigma - self._log_t
        if self._all_observed:
            return observed
        return mnp.where(self.event == 1, observed, self._errors.logsf(z))

    # Log(scale) is itself the parameter, as in survreg: no transform (IndexModel's exp is
    # for parameters reported as scales)
    transform = LikelihoodModel.transform
    untransform = LikelihoodModel.untransform
    _natural_scale = LikelihoodModel._natural_scale
    _theta_bounds = LikelihoodModel._theta_bounds

    def start_params(self) -> np.ndarray:
        """Least squares of log t on exog; sigma from the residuals' sd over sd(W), the
        intercept shifted by sigma E[W] (W's mean: -Euler's gamma for the extreme value)."""
        beta, *_ = np.linalg.lstsq(self.exog, self._log_t, rcond=None)
        if not self.extra_param_names:
            sigma = 1.0
        else:
            resid = self._log_t - self.exog @ beta
            sigma = max(float(np.std(resid)) / self._errors.sd, 1e-3)
        if self.const_idx is not None:
            beta[self.const_idx] -= sigma * self._errors.mean / self.exog[0, self.const_idx]
        return np.append(beta, np.log(sigma)) if self.extra_param_names else beta

    @property
    def _results_class(self):
        from ..results_survival import AFTResults    # the results layer, imported lazily
        return AFTResults

    # --- predictions ----------------------------------------------------------------------
    def _sigma(self, params):
        return mnp.exp(params[self.k_exog]) if self.extra_param_names else 1.0

    def predict(self, params, exog=None, which: str = "mean", q: Any = None,
                times: Any = None):
        """Predictions per row of ``exog`` (default: the estimation sample).

        ``which``: ``"linear"`` x'beta (log-time location, R's ``type="lp"``); ``"mean"``
        E[T | x]; ``"median"``; ``"quantile"`` the ``q`` quantile(s) of T | x,
        ``exp(x'beta + sigma w_q)`` (R's ``type="quantile", p=q``); ``"survival"``
        S(t | x) at ``times``. Several ``q`` or ``times`` give one column each (N x m).
        Differentiable in params (mleopt.numpy): usable inside ``delta_method``.
        """
        whats = ("linear", "mean", "median", "quantile", "survival")
        if which not in whats:
            raise ValueError(f"which must be one of {', '.join(map(repr, whats))}, not "
                             f"{which!r}.")
        if times is not None and which != "survival":
            raise ValueError(f"times= is for which='survival', not which={which!r}.")
        if q is not None and which != "quantile":
            raise ValueError(f"q= is for which='quantile', not which={which!r}.")
        params = self._params_by_name(params)
        eta = self._linear_predictor(params, exog)
        if which == "linear":
            return eta
        sigma = self._sigma(params)
        if which == "mean":
            return mnp.exp(eta) * self._errors.mean_factor(sigma)
        if which in ("median", "quantile"):
            if which == "quantile" and q is None:
                raise ValueError("which='quantile' needs q=: the probability (or a 1-D "
                                 "array of them) of the quantile(s) of T | x.")
            probs = np.asarray(0.5 if which == "median" else q, dtype=float)
            if probs.ndim > 1 or np.any(~((probs > 0) & (probs < 1))):
                raise ValueError(f"q must be a probability strictly between 0 and 1, or a "
                                 f"1-D array of them; got {q!r}.")
            w = self._errors.ppf(probs)
            if probs.ndim == 0:
                return mnp.exp(eta + sigma * float(w))
            return mnp.exp(mnp.reshape(eta, (-1, 1)) + sigma * w[None, :])
        if times is None:
            raise ValueError("which='survival' needs times=: the time(s) t at which to "
                             "evaluate S(t | x).")
        t = np.asarray(times, dtype=float)
        if t.ndim > 1 or np.any(~(t > 0)) or not np.all(np.isfinite(t)):
            raise ValueError(f"times must be positive finite number(s) (a number or a 1-D "
                             f"array); got {times!r}.")
        log_t = np.log(t) if t.ndim == 0 else np.log(t)[None, :]
        eta2 = eta if t.ndim == 0 else mnp.reshape(eta, (-1, 1))
        return mnp.exp(self._errors.logsf((log_t - eta2) / sigma))

    def _inverse_link(self, linear):
        raise NotImplementedError("AFT.predict computes E[T | x] with the scale parameter.")

