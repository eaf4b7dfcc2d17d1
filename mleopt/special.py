"""Differentiable scipy.special functions: ``from mleopt.special import gammaln, expit, ...``.

Values come from scipy.special (so they are as accurate and as stable as scipy's); the
derivatives are exact and differentiable again:

* gammaln' = digamma,  digamma' = polygamma(1, .),  polygamma(n, .)' = polygamma(n + 1, .)
* betaln(a, b): d/da = digamma(a) - digamma(a + b)
* erf' = 2/sqrt(pi) exp(-x^2),  ndtr' = phi,  log_ndtr' = phi / Phi (the inverse Mills ratio,
  computed as sqrt(2/pi) / erfcx(-x / sqrt 2): finite and accurate from -inf to +inf)
* expit' = expit(x) expit(-x),  log_expit' = expit(-x),  logit'(p) = 1 / (p (1 - p))
* xlogy(x, y) = x log y (0 where x = 0); xlog1py(x, y) = x log(1 + y)
* logsumexp and softplus are compositions (see their docstrings).
"""
# Helpers are imported under private names (and there is no `from __future__ import
# annotations`) so that dir(mleopt.special) and tab completion show only its functions.
from typing import Any as _ArrayLike

import sys as _sys

import numpy as _np

from .ad import primitives as _p
from .ad.rules import normalize_axes as _normalize_axes
from .ad import rules_special as _rs
from .ad.core import Traced as _Traced
from .ad.core import TraceError as _TraceError
from .ad.core import _value_of
from .ad.core import register_namespace as _register_namespace

gammaln = _p.gammaln
digamma = psi = _p.digamma
erf = _p.erf
erfc = _p.erfc
ndtr = _p.ndtr
log_ndtr = _p.log_ndtr
expit = _p.expit
log_expit = _p.log_expit
logit = _p.logit
xlogy = _p.xlogy
xlog1py = _p.xlog1py
betaln = _rs.betaln
gammainc = _rs.gammainc
gammaincc = _rs.gammaincc
betainc = _rs.betainc
stdtr = _rs.stdtr


def polygamma(n: _ArrayLike, x: _ArrayLike):
    """The n-th derivative of digamma (n a non-negative integer, not differentiated)."""
    if isinstance(n, _Traced):
        raise _TraceError("polygamma(n, x) is not differentiable with respect to the order n "
                         "(an integer); pass n as a constant.")
    n_val = _np.asarray(n)
    if n_val.dtype.kind == "f" and _np.any(n_val != _np.floor(n_val)):
        raise ValueError("polygamma(n, x) needs integer orders n.")
    return _p.polygamma(n_val.astype(int), x)


def gamma(x: _ArrayLike):
    """Gamma function for positive x: exp(gammaln(x))."""
    return _p.exp(_p.gammaln(x))


def beta(a: _ArrayLike, b: _ArrayLike):
    """Beta function for positive a, b: exp(betaln(a, b))."""
    return _p.exp(betaln(a, b))


def softplus(x: _ArrayLike):
    """log(1 + e^x) = logaddexp(0, x): no overflow for large x; derivative expit(x)."""
    return _p.logaddexp(0.0, x)


def logsumexp(a: _ArrayLike, axis=None, b: _ArrayLike | None = None, keepdims: bool = False,
              return_sign: bool = False):
    """log(sum(b * exp(a), axis)), computed as m + log(sum(b * exp(a - m))).

    The shift ``m`` is the (detached) maximum of ``a`` along ``axis``; since the result
    does not depend on ``m``, detaching it keeps the derivative exact: d/da = b e^(a-m)/s.
    """
    if return_sign:
        raise NotImplementedError("logsumexp(return_sign=True) is not supported; the "
                                  "weights b must make the sum positive.")
    if not isinstance(a, _Traced):
        a = _np.asarray(a, dtype=_np.float64)
    shape = _np.shape(_value_of(a))
    if b is not None:
        shape = _np.broadcast_shapes(shape, _np.shape(_value_of(b)))
        if _np.shape(_value_of(a)) != shape:
            a = _p.broadcast_to(a, shape)
    axes = _normalize_axes(axis, len(shape))
    m = _np.amax(_value_of(a), axis=axes, keepdims=True) if _np.size(_value_of(a)) else 0.0
    m = _np.where(_np.isfinite(m), m, 0.0)
    e = _p.exp(_p.subtract(a, m))
    if b is not None:
        e = _p.multiply(b, e)
    with _np.errstate(divide="ignore"):
        out = _p.add(_p.log(_p.sum(e, axis=axes, keepdims=True)), m)
    if not keepdims:
        out = _p.reshape(out, tuple(n for i, n in enumerate(shape) if i not in axes))
    return out


__all__ = ["gammaln", "digamma", "psi", "polygamma", "betaln", "gamma", "beta", "expit",
           "log_expit", "logit", "erf", "erfc", "ndtr", "log_ndtr", "xlogy", "xlog1py",
           "logsumexp", "softplus", "gammainc", "gammaincc", "betainc", "stdtr"]

# The engine names these functions in its error for scipy.special called on a traced value
_register_namespace("scipy.special", _sys.modules[__name__])
