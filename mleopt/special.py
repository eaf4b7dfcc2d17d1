"""Differentiable scipy.special functions: ``from mleopt.special import gammaln, expit, ...``.

Values come from scipy.special (so they are as accurate and as stable as scipy's); the
derivatives are exact and differentiable again:

* gammaln' = digamma,  digamma' = polygamma(1, .),  polygamma(n, .)' = polygamma(n + 1, .)
* betaln(a, b): d/da = digamma(a) - digamma(a + b)
* erf' = 2/sqrt(pi) exp(-x^2),  ndtr' = phi,  log_ndtr' = phi / Phi (the inverse Mills ratio,
  computed as sqrt(2/pi) / erfcx(-x / sqrt 2): finite and accurate from -inf to +inf)
* expit' = expit(x) expit(-x),  log_expit' = expit(-x),  logit'(p) = 1 / (p (1 - p))
* xlogy(x, y) = x log y (0 where x = 0); xlog1py(x, y) = x log(1 + y)
* gamma' = gamma digamma, rgamma = 1/gamma (finite derivatives at its zeros), beta,
  gammasgn (piecewise constant: derivative 0), multigammaln (a sum of gammaln)
* erfinv, erfcinv; entr(x) = -x log x; boxcox, inv_boxcox (differentiable in x and lmbda)
* Bessel functions iv, ive, jv, yv (in x; not in the order v), i0, i1, i0e, i1e, j0, j1, y0, y1
* logsumexp and softplus are compositions (see their docstrings).
* gammainc, gammaincc, betainc, stdtr: differentiable in their last argument; the shape
  arguments (a, b, df) raise a TraceError naming the function and argument (no closed form).
"""
# Helpers are imported under private names (and there is no `from __future__ import
# annotations`) so that dir(mleopt.special) and tab completion show only its functions.
from typing import Any as _ArrayLike

import sys as _sys

import numpy as _np
import scipy.special as _sps

from .ad import primitives as _p
from .ad.rules import normalize_axes as _normalize_axes
from .ad import rules_special as _rs
from .ad.core import NonDifferentiable as _NonDifferentiable
from .ad.core import Traced as _Traced
from .ad.core import TraceError as _TraceError
from .ad.core import _static, _value_of
from .ad.core import as_array as _as_array
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
erfinv = _rs.erfinv
erfcinv = _rs.erfcinv
gamma = _rs.gamma
beta = _rs.beta
rgamma = _rs.rgamma
entr = _rs.entr
gammasgn = _NonDifferentiable(_sps.gammasgn, "gammasgn")
iv = _rs.iv
ive = _rs.ive
jv = jn = _rs.jv   # scipy.special.jn is jv (integer orders)
yv = _rs.yv
i0 = _rs.i0
i1 = _rs.i1
i0e = _rs.i0e
i1e = _rs.i1e
j0 = _rs.j0
j1 = _rs.j1
y0 = _rs.y0
y1 = _rs.y1


def polygamma(n: _ArrayLike, x: _ArrayLike):
    """The n-th derivative of digamma (n a non-negative integer, not differentiated)."""
    if isinstance(n, _Traced):
        raise _TraceError("polygamma(n, x) is not differentiable with respect to the order n "
                         "(an integer); pass n as a constant.")
    n_val = _np.asarray(n)
    if n_val.dtype.kind == "f" and _np.any(n_val != _np.floor(n_val)):
        raise ValueError("polygamma(n, x) needs integer orders n.")
    return _p.polygamma(n_val.astype(int), x)


def multigammaln(a: _ArrayLike, d: int):
    """log of the multivariate gamma function of dimension d (an integer, not
    differentiated): d (d - 1) / 4 log(pi) + sum_{j=1..d} gammaln(a - (j - 1) / 2)."""
    if isinstance(d, _Traced) or not float(d).is_integer() or d < 1:
        raise ValueError(f"multigammaln(a, d) needs a positive integer dimension d, got {d!r}.")
    d = int(d)
    if _np.any(_np.asarray(_value_of(a)) <= 0.5 * (d - 1)):
        raise ValueError(f"multigammaln(a, d={d}) needs a > (d - 1) / 2 = {0.5 * (d - 1)}.")
    out = _p.gammaln(a)
    for j in range(2, d + 1):
        out = _p.add(out, _p.gammaln(_p.subtract(a, 0.5 * (j - 1))))
    return _p.add(out, 0.25 * d * (d - 1) * _np.log(_np.pi))


_SERIES_LIMIT = 1e-3  # |y| below which expm1(y)/y and log1p(y)/y are summed as series


def _expm1_ratio(y):
    """expm1(y) / y, 1 at y = 0: the series 1 + y/2 + y^2/6 + y^3/24 + y^4/120 for small |y|
    (error below 1e-17), expm1(y) / y elsewhere; smooth, so every derivative is right."""
    small = _np.abs(_np.asarray(_value_of(y))) < _SERIES_LIMIT
    series = _p.add(1.0, _p.multiply(y, _p.add(0.5, _p.multiply(y, _p.add(
        1 / 6, _p.multiply(y, _p.add(1 / 24, _p.multiply(y, 1 / 120))))))))
    if _np.all(small):
        return series
    ys = _p.where(small, 1.0, y)
    return _p.where(small, series, _p.true_divide(_p.expm1(ys), ys))


def _log1p_ratio(u):
    """log1p(u) / u, 1 at u = 0: the series 1 - u/2 + u^2/3 - u^3/4 + u^4/5 for small |u|."""
    small = _np.abs(_np.asarray(_value_of(u))) < _SERIES_LIMIT
    series = _p.add(1.0, _p.multiply(u, _p.add(-0.5, _p.multiply(u, _p.add(
        1 / 3, _p.multiply(u, _p.add(-0.25, _p.multiply(u, 0.2))))))))
    if _np.all(small):
        return series
    us = _p.where(small, 1.0, u)
    return _p.where(small, series, _p.true_divide(_p.log1p(us), us))


def boxcox(x: _ArrayLike, lmbda: _ArrayLike):
    """(x^lmbda - 1) / lmbda (log x at lmbda = 0) for x > 0, written as
    log(x) * h(lmbda log x), h(y) = expm1(y) / y: smooth in both arguments through lmbda = 0."""
    log_x = _p.log(x)
    return _p.multiply(log_x, _expm1_ratio(_p.multiply(lmbda, log_x)))


def inv_boxcox(y: _ArrayLike, lmbda: _ArrayLike):
    """(1 + lmbda y)^(1 / lmbda) (exp(y) at lmbda = 0), the inverse of boxcox, written as
    exp(y k(lmbda y)) with k(u) = log1p(u) / u: smooth in both arguments."""
    return _p.exp(_p.multiply(y, _log1p_ratio(_p.multiply(lmbda, y))))


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
    a, b = _as_array(a), _as_array(b)
    if not isinstance(a, _Traced):
        a = _np.asarray(a, dtype=_np.float64)
    shape = _np.shape(_static(a))
    if b is not None:
        shape = _np.broadcast_shapes(shape, _np.shape(_static(b)))
        if _np.shape(_static(a)) != shape:
            a = _p.broadcast_to(a, shape)
    axes = _normalize_axes(axis, len(shape))
    m = _np.amax(_value_of(a), axis=axes, keepdims=True) if _np.size(_static(a)) else 0.0
    m = _np.where(_np.isfinite(m), m, 0.0)
    e = _p.exp(_p.subtract(a, m))
    if b is not None:
        e = _p.multiply(b, e)
    with _np.errstate(divide="ignore"):
        out = _p.add(_p.log(_p.sum(e, axis=axes, keepdims=True)), m)
    if not keepdims:
        out = _p.reshape(out, tuple(n for i, n in enumerate(shape) if i not in axes))
    return out


def yn(n: _ArrayLike, x: _ArrayLike):
    """scipy.special.yn: the Bessel function of the second kind of integer order n, as yv
    (differentiable in x). A non-integer order is refused (scipy truncates it)."""
    order = _np.asarray(_value_of(n), dtype=float)
    if _np.any(order != _np.floor(order)):
        raise ValueError(f"yn: the order n must be an integer, got {n!r}; use yv for "
                         "non-integer orders.")
    return yv(n, x)


__all__ = ["gammaln", "digamma", "psi", "polygamma", "betaln", "gamma", "beta", "expit",
           "log_expit", "logit", "erf", "erfc", "ndtr", "log_ndtr", "xlogy", "xlog1py",
           "logsumexp", "softplus", "gammainc", "gammaincc", "betainc", "stdtr", "erfinv",
           "erfcinv", "rgamma", "gammasgn", "multigammaln", "entr", "boxcox", "inv_boxcox",
           "iv", "ive", "jv", "yv", "jn", "yn", "i0", "i1", "i0e", "i1e", "j0", "j1", "y0", "y1"]

# The engine names these functions in its error for scipy.special called on a traced value
_register_namespace("scipy.special", _sys.modules[__name__])
