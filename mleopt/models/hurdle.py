"""Hurdle count models: HurdlePoisson and HurdleNegativeBinomial.

A binary part decides zero or positive, ``P(y > 0) = pi_i`` on ``z_i'gamma``
(``zerodist="logit"``, the default as in R's pscl::hurdle; ``"probit"``; or ``"poisson"``,
``pi = 1 - exp(-exp(z'gamma))``, statsmodels' HurdleCountModel default), and the positive
counts follow the zero-truncated count distribution ``f(y) / (1 - f(0))``::

    P(0) = 1 - pi,     P(k > 0) = pi f(k) / (1 - f(0)),     E[y] = pi mu / (1 - f(0)).

The two parts share no parameter, so the MLE of each is that of its part alone (the
log-likelihood is their sum); written as one ``loglikeobs`` all the same, differentiated by
mleopt.ad. Parameter names follow statsmodels: the zero part's first (``zm_<name>``; its
design ``exog_zero`` defaults to exog, as in statsmodels and pscl), then the count part's,
then ``alpha`` (negative binomial; optimised as log alpha, reported as alpha).
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from .. import numpy as mnp
from .zeroinflated import (TwoPartCountModel, _const_col, log_binary, log_pmf, log_pmf0,
                           nb_dist)

__all__ = ["HurdlePoisson", "HurdleNegativeBinomial"]


def _log1mexp(a):
    """``log(1 - exp(a))`` for a < 0."""
    return mnp.log(-mnp.expm1(a))


class _Hurdle(TwoPartCountModel):
    _zero_prefix = "zm_"
    _zero_arg = "exog_zero"
    _zeros_needed = "the hurdle's zero part"

    def __init__(self, endog, exog, exog_zero="exog", offset=None, exposure=None,
                 zerodist: str = "logit", missing: str = "raise", **kwargs) -> None:
        if zerodist not in ("logit", "probit", "poisson"):
            raise ValueError(f"zerodist must be 'logit', 'probit' or 'poisson', not "
                             f"{zerodist!r}.")
        self.zerodist = zerodist
        super().__init__(endog, exog, exog_zero, zerodist, missing=missing, offset=offset,
                         exposure=exposure, **kwargs)

    def loglikeobs(self, params):
        """``log(1 - pi)`` for zeros; ``log pi + log f(y) - log(1 - f(0))`` otherwise."""
        q, eta, alpha = self._parts(params)
        log_pi, log_1mpi = log_binary(self.link, q)
        mu = mnp.exp(eta)
        positive = (log_pi + log_pmf(self.dist, self.endog, mu, alpha)
                    - _log1mexp(log_pmf0(self.dist, mu, alpha)))
        return mnp.where(self._zero > 0, log_1mpi, positive)

    def predict(self, params, exog=None, which: str = "mean", exog_zero=None, offset=None,
                exposure=None, y_values=None):
        """As the zero-inflated models' predict (``which``: "mean", "linear", "mean-main",
        "prob-zero", "prob-main" = P(y > 0), "prob"), with ``exog_zero`` the zero part's
        design for a new ``exog`` (default: exog itself, or a constant if the model's zero
        part is a constant)."""
        return super().predict(params, exog, which, exog_infl=exog_zero, offset=offset,
                               exposure=exposure, y_values=y_values)

    def _log_prob0(self, mu, alpha, log_pi, log_1mpi):
        return log_1mpi + 0.0 * mu

    def _log_prob_k(self, k, mu, alpha, log_pi, log_1mpi):
        if k == 0:
            return self._log_prob0(mu, alpha, log_pi, log_1mpi)
        return (log_pi + log_pmf(self.dist, k, mu, alpha)
                - _log1mexp(log_pmf0(self.dist, mu, alpha)))

    def _mean(self, mu, alpha, log_pi, log_1mpi):
        return mnp.exp(log_pi - _log1mexp(log_pmf0(self.dist, mu, alpha))) * mu

    def start_params(self) -> np.ndarray:
        """Count part from a Poisson fit; zero part a constant at the share of positive
        counts; alpha 0.5."""
        beta = self._count_start()
        gamma = np.zeros(self.k_zero)
        c = _const_col(self.zexog)
        if c is not None:
            share = float(np.clip(1.0 - np.mean(self._zero), 0.02, 0.98))
            level = {"logit": np.log(share / (1 - share)),
                     "probit": float(ndtri(share)),
                     "poisson": np.log(-np.log1p(-share))}[self.link]
            gamma[c] = level / self.zexog[0, c]
        return np.concatenate([gamma, beta, [0.5] if self.extra_param_names else []])


class HurdlePoisson(_Hurdle):
    """Hurdle Poisson: ``endog, exog, exog_zero=exog, offset=None, exposure=None,
    zerodist="logit" | "probit" | "poisson"``; a binary zero part and a zero-truncated
    Poisson for the positive counts."""

    _strict_kwargs = True
    dist = "poisson"


class HurdleNegativeBinomial(_Hurdle):
    """Hurdle negative binomial: as HurdlePoisson with a zero-truncated NB2 (``p=2``, the
    default) or NB1 (``p=1``) count part; alpha is the last parameter."""

    _strict_kwargs = True
    extra_param_names = ("alpha",)

    def __init__(self, endog, exog, exog_zero="exog", offset=None, exposure=None,
                 zerodist: str = "logit", p: int = 2, missing: str = "raise",
                 **kwargs) -> None:
        self.p, self.dist = p, nb_dist(p)
        super().__init__(endog, exog, exog_zero=exog_zero, offset=offset, exposure=exposure,
                         zerodist=zerodist, missing=missing, **kwargs)
