"""Observation weights: frequency, analytic and sampling weights, as Stata's fweight /
aweight / pweight.

Every kind weights the log-likelihood, ``loglike = sum_i w_i l_i`` (mleopt.models.base sums
the rows once, block by block); they differ in what ``w`` and the covariance mean:

``freq_weights=w`` (``weights=w, weight_type="fweight"``)
    Row i stands for ``w_i`` identical observations (non-negative integers). Estimates,
    standard errors (every covariance type, robust ones included) and ``llf`` equal those
    of the data with each row replicated ``w_i`` times; ``nobs = sum w`` and
    ``df_resid = sum w - k`` (statsmodels GLM with freq_weights; Stata fweight).
``var_weights=w`` (``weights=w, weight_type="aweight"``)
    Analytic (inverse-variance) weights, rescaled to sum to the number of rows N (Stata's
    aweight): ``w_i N / sum w``. For OLS this is weighted least squares (params and the
    classical standard errors of statsmodels' WLS; sigma is the ML ``sqrt(sum w r^2 / N)``).
    For the other models it is statsmodels GLM's var_weights likelihood ``sum w_i l_i``:
    the same estimates as GLM(var_weights=w) and, because of the rescaling, the standard
    errors of GLM(var_weights=w N / sum w) (statsmodels does not rescale; its standard
    errors for Logit/Poisson then scale with sqrt(N / sum w)). ``nobs = N``. ``llf`` is
    ``sum w_i l_i``; for OLS it is not statsmodels WLS's llf (the density of
    N(x'b, sigma^2 / w_i)), which differs by terms in log w_i.
``weights=w, weight_type="pweight"``
    Sampling (probability) weights: ``w_i`` is the inverse of row i's probability of
    selection. The weighted log-likelihood is a pseudo-likelihood, so the default covariance
    is the robust sandwich ``H^-1 (sum_i w_i^2 s_i s_i') H^-1`` (``cov_type="HC0"``, the
    same for any rescaling of w, and statsmodels' GLM(var_weights=w, cov_type="HC0"));
    Stata's ``[pw=w]`` multiplies it by N / (N - 1), mleopt's ``fit(cov_type="HC1")`` by
    N / (N - k). ``llf`` is a pseudo log-likelihood: ``lr_test`` refuses it. ``nobs = N``.

The optimiser's convergence test reads the gradient of ``sum_i w_i l_i / sum_i w_i`` (the
models' ``_total_weight``), so any rescaling of the weights gives the same fit.

Weights are checked here (finite, non-negative, not all zero; frequency weights integer);
NaN is a missing value like any other per-row input (``missing="drop"`` drops the row).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .exceptions import DataError

__all__ = ["WEIGHT_TYPES", "Weighting", "weight_arguments", "checked_weights"]

# Stata's names, and the statsmodels-style keyword that gives the same kind
WEIGHT_TYPES = {"fweight": "freq_weights", "aweight": "var_weights", "pweight": "pweights"}
WEIGHT_KEYWORDS = (*WEIGHT_TYPES.values(), "weights", "weight_type")   # every way to give them
_ALIASES = {"freq": "fweight", "frequency": "fweight", "fw": "fweight", "fweights": "fweight",
            "aw": "aweight", "analytic": "aweight", "var": "aweight", "aweights": "aweight",
            "pw": "pweight", "sampling": "pweight", "probability": "pweight",
            "pweights": "pweight"}


@dataclass(frozen=True)
class Weighting:
    """Which weights a model was given: ``kind`` (fweight / aweight / pweight) and the
    keyword ``name`` they came by (for messages); the values live with the model's rows."""

    kind: str
    name: str

    @property
    def default_cov_type(self) -> str:
        """pweights: the robust sandwich (a pseudo-likelihood); otherwise the Hessian."""
        return "HC0" if self.kind == "pweight" else "nonrobust"

    def describe(self) -> str:
        return {"fweight": "frequency weights (fweight)",
                "aweight": "analytic weights (aweight, rescaled to sum to N)",
                "pweight": "sampling weights (pweight)"}[self.kind]


def weight_arguments(freq_weights: Any, var_weights: Any, pweights: Any, weights: Any,
                     weight_type: Any, owner: str = "the model") -> tuple[Weighting, Any] | None:
    """``(Weighting, values)`` from a model's weight keywords, or None when none is given.

    At most one of ``freq_weights``, ``var_weights``, ``pweights`` and ``weights`` (the last
    with ``weight_type``) may be given."""
    given = [n for n, v in (("freq_weights", freq_weights), ("var_weights", var_weights),
                            ("pweights", pweights), ("weights", weights)) if v is not None]
    if len(given) > 1:
        raise TypeError(f"{owner}: give one kind of observation weights, not "
                        f"{' and '.join(given)}.")
    if weight_type is not None and given != ["weights"]:
        raise TypeError(f"{owner}: weight_type={weight_type!r} describes weights=...; "
                        + ("pass the weights as weights=..." if not given else
                           f"{given[0]}= already says its kind: drop weight_type."))
    if not given:
        return None
    name = given[0]
    if name == "weights":
        kind = _weight_type(weight_type, owner)
        return Weighting(kind, "weights"), weights
    kind = {"freq_weights": "fweight", "var_weights": "aweight", "pweights": "pweight"}[name]
    return Weighting(kind, name), {"freq_weights": freq_weights, "var_weights": var_weights,
                                   "pweights": pweights}[name]


def _weight_type(weight_type: Any, owner: str) -> str:
    if weight_type is None:
        raise TypeError(f"{owner}: weights=... needs weight_type='fweight' (frequency: "
                        "replicated rows), "
                        "'aweight' (analytic, inverse-variance) or 'pweight' (sampling "
                        "weights, robust covariance); or pass freq_weights=, var_weights= or "
                        "pweights=.")
    key = str(weight_type).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in WEIGHT_TYPES:
        import difflib
        close = difflib.get_close_matches(str(weight_type), list(WEIGHT_TYPES), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"{owner}: weight_type={weight_type!r} is not a kind of weights."
                         f"{hint} Use "
                         "'fweight', 'aweight' or 'pweight'.")
    return key


def checked_weights(w: np.ndarray, weighting: Weighting) -> np.ndarray:
    """The weights a model uses: checked (finite, >= 0, some positive; integer frequency
    weights) and, for aweights, rescaled to sum to the number of rows. A new array."""
    name = weighting.name
    w = np.array(w, dtype=float, copy=True)
    bad = ~np.isfinite(w)
    if bad.any():
        raise DataError(f"{name} has {int(bad.sum())} non-finite values (first: row "
                        f"{int(np.flatnonzero(bad)[0])}); weights must be finite numbers.")
    neg = w < 0
    if neg.any():
        raise DataError(f"{name} has {int(neg.sum())} negative values (e.g. {w[neg][0]:g} in "
                        f"row {int(np.flatnonzero(neg)[0])}); weights must be >= 0.")
    if not np.any(w > 0):
        raise DataError(f"{name} is 0 in every row: no observation carries weight.")
    if weighting.kind == "fweight":
        frac = w != np.round(w)
        if frac.any():
            raise DataError(f"{name} are frequency weights (counts of identical rows) but "
                            f"{int(frac.sum())} are not integers (e.g. {w[frac][0]:g} in row "
                            f"{int(np.flatnonzero(frac)[0])}); for non-integer weights use "
                            "var_weights= (analytic) or pweights= (sampling).")
    if weighting.kind == "aweight":
        w *= w.shape[0] / w.sum()
    return w
