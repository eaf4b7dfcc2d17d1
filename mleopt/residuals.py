"""Residuals of a fit: response, Pearson, deviance, Anscombe (statsmodels GLM conventions) and
generalized (the score with respect to the linear index, by mleopt.ad).

With ``mu`` the fitted mean, ``V(mu)`` the family's variance function and ``d_i`` the unit
deviance (twice the log-likelihood gap to the saturated fit), for the families the
built-in models belong to (OLS: Gaussian, V = 1; Logit / Probit: Bernoulli, V = mu (1 - mu);
Poisson: V = mu; NegativeBinomial NB2 with the fitted alpha: V = mu + alpha mu^2):

* response: ``y - mu``;
* Pearson: ``(y - mu) / sqrt(V(mu))``;
* deviance: ``sign(y - mu) sqrt(d_i)``;
* Anscombe: ``(A(y) - A(mu)) / (A'(mu) sqrt(V(mu)))`` with ``A' = V^(-1/3)``: Gaussian
  ``y - mu``; Poisson ``3/2 (y^(2/3) - mu^(2/3)) / mu^(1/6)``; Bernoulli
  ``(B(y) - B(mu)) / (mu (1 - mu))^(1/6)`` with ``B(x) = Beta(2/3, 2/3) I_x(2/3, 2/3)``;
  NB2 ``3/2 (y^(2/3) F(-alpha y) - mu^(2/3) F(-alpha mu)) / (mu (1 + alpha mu))^(1/6)``
  with ``F = 2F1(2/3, 1/3; 5/3; .)``.

As statsmodels' GLM, only the Anscombe residuals are divided by sqrt(scale) (OLS:
``scale = SSR / (N - k)``; 1 for the others), and with analytic weights
(``var_weights``) Pearson, deviance and Anscombe residuals are multiplied by ``sqrt(w_i)``;
frequency and sampling weights leave them as they are.

``resid_generalized``: ``d l_i / d eta_i`` with ``eta_i = x_i'beta (+ offset)``, for any
index model (IndexModel: the built-in ones and a user's ``loglike_index``), by forward-mode
AD through ``loglike_index`` (each row's value depends on its own eta only, so one tangent of
ones gives every row's derivative). For Logit it is ``y - p``; for Probit the inverse Mills
ratio form; for OLS ``(y - mu) / sigma^2``.
"""
from __future__ import annotations

import numpy as np
import scipy.special as sps

from . import ad

__all__ = ["residuals", "generalized"]

KINDS = ("response", "pearson", "deviance", "anscombe")


def _family(model) -> str:
    """The model's ``glm_family`` (a class attribute of the built-in models)."""
    family = getattr(model, "glm_family", None)
    if family == "nb1":
        raise ValueError("Pearson, deviance and Anscombe residuals are defined for NB2 "
                         "(a GLM family); NB1 has response and generalized residuals only.")
    if family in ("gaussian", "bernoulli", "poisson", "nb2"):
        return family
    raise ValueError(f"Pearson, deviance and Anscombe residuals are defined for OLS, Logit, "
                     f"Probit, Poisson and NegativeBinomial (NB2), not "
                     f"{type(model).__name__}; resid (response) and resid_generalized work "
                     "for it.")


def residuals(results, kind: str) -> np.ndarray:
    """One kind of residual (``KINDS``) of a fit of a built-in GLM-family model, as an array
    over the estimation rows."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}.")
    model = results.model
    params = np.asarray(results.params, dtype=float)
    y = np.asarray(model.endog, dtype=float)
    mu = np.asarray(model.predict(params, which="mean"), dtype=float)
    if kind == "response":
        return y - mu
    family = _family(model)
    alpha = float(params[model.k_exog]) if family == "nb2" else 0.0
    w = model._row_weights()
    root_w = 1.0 if w is None or model.weighting.kind != "aweight" else np.sqrt(w)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "pearson":
            var = {"gaussian": np.ones_like(mu), "bernoulli": mu * (1 - mu), "poisson": mu,
                   "nb2": mu + alpha * mu * mu}[family]
            return (y - mu) / np.sqrt(var) * root_w
        if kind == "deviance":
            d = _unit_deviance(family, y, mu, alpha)
            return np.sign(y - mu) * np.sqrt(np.clip(d, 0.0, np.inf)) * root_w
        scale = results.scale if family == "gaussian" else 1.0
        return _anscombe(family, y, mu, alpha) * root_w / np.sqrt(scale)


def _unit_deviance(family: str, y, mu, alpha: float):
    if family == "gaussian":
        return (y - mu) ** 2
    if family == "bernoulli":
        return -2.0 * (sps.xlogy(y, mu) + sps.xlogy(1 - y, 1 - mu))
    if family == "poisson":
        return 2.0 * (sps.xlogy(y, y / mu) - (y - mu))
    return 2.0 * (sps.xlogy(y, y / mu)
                  - (y + 1 / alpha) * np.log((1 + alpha * y) / (1 + alpha * mu)))


def _anscombe(family: str, y, mu, alpha: float):
    if family == "gaussian":
        return y - mu
    if family == "poisson":
        return 1.5 * (y ** (2 / 3) - mu ** (2 / 3)) / mu ** (1 / 6)
    if family == "bernoulli":
        def b(x):
            return sps.betainc(2 / 3, 2 / 3, x) * sps.beta(2 / 3, 2 / 3)
        return (b(y) - b(mu)) / (mu * (1 - mu)) ** (1 / 6)

    def f(x):
        return sps.hyp2f1(2 / 3, 1 / 3, 5 / 3, x)
    return 1.5 * (y ** (2 / 3) * f(-alpha * y) - mu ** (2 / 3) * f(-alpha * mu)) / \
        (mu * (1 + alpha * mu)) ** (1 / 6)


def generalized(results) -> np.ndarray:
    """``d l_i / d eta_i`` at the estimate (see the module docstring), unweighted."""
    model = results.model
    if not hasattr(model, "loglike_index"):
        raise ValueError(f"resid_generalized is the score with respect to the linear index "
                         f"of an index model (IndexModel, with loglike_index); "
                         f"{type(model).__name__} is not one.")
    params = np.asarray(results.params, dtype=float)
    k = model.k_exog
    extra = [params[k + j] for j in range(model.k_extra)]
    eta = np.asarray(model._linear(params[:k]), dtype=float)
    _, d = ad.jvp(lambda e: model.loglike_index(e, extra), (eta,), (np.ones_like(eta),))
    return np.asarray(d, dtype=float)
