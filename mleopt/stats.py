"""Differentiable log densities and mass functions, named and called like scipy.stats.

``from mleopt.stats import norm; norm.logpdf(x, loc=0, scale=1)``. Every family takes its
shape parameters first, then ``loc`` (and ``scale`` for continuous families), by position
or by name, as scipy.stats does; ``norm(loc, scale)`` freezes the parameters.

* continuous: ``logpdf, pdf, logcdf, cdf, logsf, sf`` of norm, t, logistic, expon,
  weibull_min, gamma, lognorm, chi2, invgamma, beta, f, cauchy, laplace, truncnorm;
* discrete: ``logpmf, pmf, logcdf, cdf, logsf, sf`` of poisson, bernoulli, binom, nbinom,
  geom, and ``logpmf, pmf`` of skellam;
* multivariate: ``logpdf, pdf`` of multivariate_normal (by its Cholesky factor) and
  dirichlet (see mleopt/_stats_multivariate.py).

Outside the support the log density is ``-inf`` (log cdf ``-inf`` below, log sf ``0``);
invalid parameters (scale <= 0, p outside [0, 1], ...) give ``nan``, as in scipy. Points
outside the support (and infinite values on its edge, e.g. gamma.logpdf(0, a > 1)) are
replaced by a harmless value before the formula is evaluated, so no ``nan`` derivative
leaks into shared parameters (e.g. when such terms are masked out with ``where``). At
the edge x == loc of a support [loc, inf) the density jumps, so there the derivative in x
and loc is taken as 0 (derivatives in scale and the shapes are kept).

Derivatives are exact with respect to every continuous argument, with one documented
limit: cdfs built on regularized incomplete functions (t, gamma, chi2, invgamma, beta, f,
and the discrete cdfs) differentiate in x, loc, scale and in the parameter that enters their
last argument (poisson mu, binom p, nbinom p), but not in the shape parameters df, a, b,
dfn, dfd, binom n and nbinom n (no closed form); differentiating those raises a TraceError
naming the function.
"""
from __future__ import annotations

from typing import Any

import sys as _sys

import numpy as _np

from . import special as _sp
from ._stats_multivariate import dirichlet, multivariate_normal  # noqa: F401
from .ad import primitives as _p
from .ad.core import Traced as _Traced
from .ad.core import _value_of
from .ad.core import as_array as _as_array
from .ad.core import register_namespace as _register_namespace
from .ad.rules_special import LOG_SQRT_2PI

ArrayLike = Any


# =======================================================================================
# helpers
# =======================================================================================

def _arr(x):
    """Traced values (and lists holding them: one traced array) pass through; anything else
    becomes a float64 array."""
    x = _as_array(x)
    return x if isinstance(x, _Traced) else _np.asarray(x, dtype=_np.float64)


def _val(x) -> _np.ndarray:
    return _np.asarray(_value_of(x), dtype=_np.float64)


def _is(x, number: float) -> bool:
    """x is a constant equal to ``number`` everywhere (so an operation can be skipped)."""
    return not isinstance(x, _Traced) and bool(_np.all(_val(x) == number))


def _keep(x, mask, fill):
    """where(mask, x, fill), skipped when mask holds everywhere."""
    if _np.all(mask):
        return x
    return _p.where(mask, x, fill)


def _log_from_pair(c, s):
    """log c, where c = 1 - s: log(c) when c <= 1/2 and log1p(-s) otherwise (both tails)."""
    big = _val(c) > 0.5
    if not _np.any(big):
        return _p.log(c)
    if _np.all(big):
        return _p.log1p(_p.negative(s))
    return _p.where(big, _p.log1p(_p.negative(_p.where(big, s, 0.0))),
                    _p.log(_p.where(big, 1.0, c)))


def _log1mexp(x):
    """log(1 - e^-x) for x >= 0: log(-expm1(-x)) for x <= log 2, else log1p(-e^-x)."""
    small = _val(x) <= _np.log(2.0)

    def near(v):
        return _p.log(_p.negative(_p.expm1(_p.negative(v))))

    def far(v):
        return _p.log1p(_p.negative(_p.exp(_p.negative(v))))

    if _np.all(small):
        return near(x)
    if not _np.any(small):
        return far(x)
    return _p.where(small, near(_p.where(small, x, 1.0)), far(_p.where(small, 1.0, x)))


class _Family:
    """Argument parsing shared by the continuous and discrete families."""

    name = ""
    shapes: tuple[str, ...] = ()
    safe_shapes: tuple[float, ...] = ()
    extra: tuple[tuple[str, float], ...] = ()

    def _parse(self, method: str, args: tuple, kwds: dict) -> dict:
        names = self.shapes + tuple(n for n, _ in self.extra)
        sig = ", ".join(self.shapes + tuple(f"{n}={d:g}" for n, d in self.extra))
        if len(args) > len(names):
            raise TypeError(f"{self.name}.{method} takes (x, {sig}); got {len(args)} "
                            "parameters after x.")
        values = dict(zip(names, args))
        for key, v in kwds.items():
            if key not in names:
                raise TypeError(f"{self.name}.{method} got an unexpected keyword argument "
                                f"{key!r}; its parameters are ({sig}).")
            if key in values:
                raise TypeError(f"{self.name}.{method} got two values for {key!r}.")
            values[key] = v
        missing = [n for n in self.shapes if n not in values]
        if missing:
            raise TypeError(f"{self.name}.{method} is missing the shape parameter(s) "
                            f"{', '.join(missing)}; it takes (x, {sig}).")
        for n, d in self.extra:
            values.setdefault(n, d)
        return {k: _arr(v) for k, v in values.items()}

    def _argcheck(self, *shapes) -> _np.ndarray:
        return _np.asarray(True)

    def _safe_params(self, shapes, valid):
        return [_keep(s, valid, safe) for s, safe in zip(shapes, self.safe_shapes)]

    def _evaluate(self, method: str, x, args, kwds):
        raise NotImplementedError

    def logcdf(self, x: ArrayLike, *args: ArrayLike, **kwds: ArrayLike):
        """Log of the cumulative distribution function P(X <= x)."""
        with _np.errstate(divide="ignore"):
            return self._evaluate("logcdf", x, args, kwds)

    def logsf(self, x: ArrayLike, *args: ArrayLike, **kwds: ArrayLike):
        """Log of the survival function P(X > x)."""
        with _np.errstate(divide="ignore"):
            return self._evaluate("logsf", x, args, kwds)

    def cdf(self, x: ArrayLike, *args: ArrayLike, **kwds: ArrayLike):
        return _p.exp(self.logcdf(x, *args, **kwds))

    def sf(self, x: ArrayLike, *args: ArrayLike, **kwds: ArrayLike):
        return _p.exp(self.logsf(x, *args, **kwds))

    def __call__(self, *args, **kwds) -> "_Frozen":
        """Freeze the parameters: ``norm(0, 2).logpdf(x)``."""
        return _Frozen(self, args, kwds)

    def __repr__(self) -> str:
        return f"<mleopt.stats.{self.name}>"


class _Frozen:
    """A family with its parameters bound."""

    def __init__(self, family: _Family, args: tuple, kwds: dict):
        self.family, self.args, self.kwds = family, args, kwds

    def __getattr__(self, method: str):
        if method.startswith("_"):
            raise AttributeError(method)
        fun = getattr(self.family, method)
        return lambda x: fun(x, *self.args, **self.kwds)


# =======================================================================================
# continuous families
# =======================================================================================

class Continuous(_Family):
    """logpdf(x, *shapes, loc=0, scale=1) = _logpdf(z, *shapes) - log(scale), z = (x-loc)/scale.

    Subclasses give ``_logpdf``, ``_logcdf``, ``_logsf`` in the standardized variable z,
    ``_support(z)`` (a boolean mask; every support here is unbounded above) and
    ``_argcheck(*shapes)``.
    """

    extra = (("loc", 0.0), ("scale", 1.0))
    safe_z = 1.0  # a point inside every support

    def _support(self, z: _np.ndarray, *shapes) -> _np.ndarray:
        return _np.ones(_np.shape(z), dtype=bool)

    def _above(self, z: _np.ndarray, *shapes):
        """Points above the support (where the cdf is 1); none (False) if it is unbounded."""
        return False

    def _edge(self, z: _np.ndarray, *shapes) -> _np.ndarray:
        """Points of the support where the density jumps: z == 0 when the support starts
        there (0 is in it, -1 is not)."""
        return (z == 0) & ~self._support(-_np.ones_like(z), *shapes)

    def _safe_z(self, *shapes):
        """A point inside the support, where the formulas are finite."""
        return self.safe_z

    def _evaluate(self, method: str, x, args, kwds):
        params = self._parse(method, args, kwds)
        shapes = [params[n] for n in self.shapes]
        loc, scale = params["loc"], params["scale"]
        valid = self._argcheck(*[_val(s) for s in shapes]) & (_val(scale) > 0)
        shapes = self._safe_params(shapes, valid)
        shape_values = [_val(s) for s in shapes]
        scale = _keep(scale, valid, 1.0)
        z = _arr(x)
        if not _is(loc, 0.0):
            z = _p.subtract(z, loc)
        if not _is(scale, 1.0):
            z = _p.true_divide(z, scale)
        zv = _val(z)
        inside = self._support(zv, *shape_values) | _np.isnan(zv)
        fill = 0.0 if method == "logsf" else -_np.inf   # below the support
        above = self._above(zv, *shape_values)
        if method != "logpdf":
            # the cdf is 0 at x = -inf and 1 at +inf (limits, not the formulas, which give
            # inf / inf = nan in some: the F cdf's d1 z / (d1 z + d2))
            inside = inside & ~_np.isinf(zv)
            above = above | (zv == _np.inf)
        if method != "logpdf" and _np.any(above):
            fill = _np.where(above, -_np.inf if method == "logsf" else 0.0, fill)
        formula = getattr(self, "_" + method)
        edge = inside & self._edge(zv, *shape_values)
        z_fill = self._safe_z(*shape_values)
        if _np.any(edge):
            # On an edge of the support where the density jumps (x == loc for [loc, inf)),
            # z enters as a constant (no derivative in x or loc; none of the infinite
            # slopes of z^c, log z, ... leaks in), and infinite values (gamma.logpdf(0, a >
            # 1)) are constants like points outside the support.
            plain = formula(_np.where(edge, zv, z_fill), *shape_values)
            infinite = edge & ~_np.isfinite(plain)
            inside = inside & ~infinite
            fill = _np.where(infinite, plain, fill)
            z_fill = _np.where(edge & ~infinite, zv, z_fill)
            inside_z = inside & ~edge
        else:
            inside_z = inside
        out = formula(_keep(z, inside_z, z_fill), *shapes)
        if method == "logpdf" and not _is(scale, 1.0):
            out = _p.subtract(out, _p.log(scale))
        out = _keep(out, inside, fill)
        return _keep(out, valid, _np.nan)

    def logpdf(self, x: ArrayLike, *args: ArrayLike, **kwds: ArrayLike):
        """Log of the probability density at x."""
        with _np.errstate(divide="ignore"):
            return self._evaluate("logpdf", x, args, kwds)

    def pdf(self, x: ArrayLike, *args: ArrayLike, **kwds: ArrayLike):
        return _p.exp(self.logpdf(x, *args, **kwds))


def _nonnegative(z, *shapes):
    return z >= 0


def _positive(z, *shapes):
    return z > 0


class norm_gen(Continuous):
    """Normal: log phi(z) = -z^2/2 - log sqrt(2 pi); log cdf = log_ndtr(z)."""

    name = "norm"

    def _logpdf(self, z):
        return _p.subtract(_p.multiply(-0.5, _p.square(z)), LOG_SQRT_2PI)

    def _logcdf(self, z):
        return _p.log_ndtr(z)

    def _logsf(self, z):
        return _p.log_ndtr(_p.negative(z))


class t_gen(Continuous):
    """Student's t: log f = -betaln(df/2, 1/2) - log(df)/2 - (df+1)/2 log(1 + z^2/df).

    The cdf is ``stdtr(df, z)``: differentiable in x, loc and scale, not in df.
    """

    name = "t"
    shapes = ("df",)
    safe_shapes = (1.0,)

    def _argcheck(self, df):
        return df > 0

    def _logpdf(self, z, df):
        log_norm = _p.add(_sp.betaln(_p.multiply(0.5, df), 0.5),
                          _p.multiply(0.5, _p.log(df)))
        tail = _p.multiply(_p.multiply(0.5, _p.add(df, 1.0)),
                           _p.log1p(_p.true_divide(_p.square(z), df)))
        return _p.negative(_p.add(log_norm, tail))

    def _logcdf(self, z, df):
        return _log_from_pair(_sp.stdtr(df, z), _sp.stdtr(df, _p.negative(z)))

    def _logsf(self, z, df):
        return _log_from_pair(_sp.stdtr(df, _p.negative(z)), _sp.stdtr(df, z))


class logistic_gen(Continuous):
    """Logistic: log f = log_expit(z) + log_expit(-z); log cdf = log_expit(z)."""

    name = "logistic"

    def _logpdf(self, z):
        return _p.add(_p.log_expit(z), _p.log_expit(_p.negative(z)))

    def _logcdf(self, z):
        return _p.log_expit(z)

    def _logsf(self, z):
        return _p.log_expit(_p.negative(z))


class expon_gen(Continuous):
    """Exponential on z >= 0: log f = -z; log cdf = log(1 - e^-z); log sf = -z."""

    name = "expon"
    _support = staticmethod(_nonnegative)

    def _logpdf(self, z):
        return _p.negative(z)

    def _logcdf(self, z):
        return _log1mexp(z)

    def _logsf(self, z):
        return _p.negative(z)


class weibull_min_gen(Continuous):
    """Weibull on z >= 0: log f = log c + (c-1) log z - z^c; log sf = -z^c."""

    name = "weibull_min"
    shapes = ("c",)
    safe_shapes = (1.0,)
    _support = staticmethod(_nonnegative)

    def _argcheck(self, c):
        return c > 0

    def _logpdf(self, z, c):
        return _p.subtract(_p.add(_p.log(c), _p.xlogy(_p.subtract(c, 1.0), z)),
                           _p.power(z, c))

    def _logcdf(self, z, c):
        return _log1mexp(_p.power(z, c))

    def _logsf(self, z, c):
        return _p.negative(_p.power(z, c))


class gamma_gen(Continuous):
    """Gamma on z >= 0: log f = (a-1) log z - z - gammaln(a).

    The cdf is ``gammainc(a, z)``: differentiable in x, loc and scale, not in a.
    """

    name = "gamma"
    shapes = ("a",)
    safe_shapes = (1.0,)
    _support = staticmethod(_nonnegative)

    def _argcheck(self, a):
        return a > 0

    def _logpdf(self, z, a):
        return _p.subtract(_p.subtract(_p.xlogy(_p.subtract(a, 1.0), z), z), _p.gammaln(a))

    def _logcdf(self, z, a):
        return _log_from_pair(_sp.gammainc(a, z), _sp.gammaincc(a, z))

    def _logsf(self, z, a):
        return _log_from_pair(_sp.gammaincc(a, z), _sp.gammainc(a, z))


class lognorm_gen(Continuous):
    """Log-normal on z > 0, y = log z: log f = -y^2/(2 s^2) - log s - y - log sqrt(2 pi)."""

    name = "lognorm"
    shapes = ("s",)
    safe_shapes = (1.0,)
    _support = staticmethod(_positive)

    def _argcheck(self, s):
        return s > 0

    def _logpdf(self, z, s):
        y = _p.log(z)
        quad = _p.multiply(-0.5, _p.square(_p.true_divide(y, s)))
        return _p.subtract(_p.subtract(quad, _p.add(_p.log(s), y)), LOG_SQRT_2PI)

    def _logcdf(self, z, s):
        return _p.log_ndtr(_p.true_divide(_p.log(z), s))

    def _logsf(self, z, s):
        return _p.log_ndtr(_p.negative(_p.true_divide(_p.log(z), s)))


class chi2_gen(Continuous):
    """Chi-squared on z >= 0 (gamma with a = df/2, scale 2):
    log f = (df/2 - 1) log z - z/2 - (df/2) log 2 - gammaln(df/2); cdf = gammainc(df/2, z/2)
    (not differentiable in df)."""

    name = "chi2"
    shapes = ("df",)
    safe_shapes = (1.0,)
    _support = staticmethod(_nonnegative)

    def _argcheck(self, df):
        return df > 0

    def _logpdf(self, z, df):
        half = _p.multiply(0.5, df)
        return _p.subtract(_p.subtract(_p.xlogy(_p.subtract(half, 1.0), z), _p.multiply(0.5, z)),
                           _p.add(_p.multiply(half, _np.log(2.0)), _p.gammaln(half)))

    def _pair(self, z, df):
        half, x = _p.multiply(0.5, df), _p.multiply(0.5, z)
        return _sp.gammainc(half, x), _sp.gammaincc(half, x)

    def _logcdf(self, z, df):
        return _log_from_pair(*self._pair(z, df))

    def _logsf(self, z, df):
        return _log_from_pair(*self._pair(z, df)[::-1])


class invgamma_gen(Continuous):
    """Inverse gamma on z > 0: log f = -(a+1) log z - 1/z - gammaln(a);
    cdf = gammaincc(a, 1/z) (not differentiable in a)."""

    name = "invgamma"
    shapes = ("a",)
    safe_shapes = (1.0,)
    _support = staticmethod(_positive)

    def _argcheck(self, a):
        return a > 0

    def _logpdf(self, z, a):
        return _p.subtract(_p.negative(_p.add(_p.multiply(_p.add(a, 1.0), _p.log(z)),
                                              _p.reciprocal(z))), _p.gammaln(a))

    def _pair(self, z, a):
        y = _p.reciprocal(z)
        return _sp.gammaincc(a, y), _sp.gammainc(a, y)

    def _logcdf(self, z, a):
        return _log_from_pair(*self._pair(z, a))

    def _logsf(self, z, a):
        return _log_from_pair(*self._pair(z, a)[::-1])


class beta_gen(Continuous):
    """Beta on 0 <= z <= 1: log f = (a-1) log z + (b-1) log(1-z) - betaln(a, b);
    cdf = betainc(a, b, z) (not differentiable in a, b)."""

    name = "beta"
    shapes = ("a", "b")
    safe_shapes = (1.0, 1.0)
    safe_z = 0.5

    def _argcheck(self, a, b):
        return (a > 0) & (b > 0)

    def _support(self, z, *shapes):
        return (z >= 0) & (z <= 1)

    def _above(self, z, *shapes):
        return z > 1

    def _edge(self, z, *shapes):
        return (z == 0) | (z == 1)

    def _logpdf(self, z, a, b):
        return _p.subtract(_p.add(_p.xlogy(_p.subtract(a, 1.0), z),
                                  _p.xlog1py(_p.subtract(b, 1.0), _p.negative(z))),
                           _sp.betaln(a, b))

    def _pair(self, z, a, b):
        return _sp.betainc(a, b, z), _sp.betainc(b, a, _p.subtract(1.0, z))

    def _logcdf(self, z, a, b):
        return _log_from_pair(*self._pair(z, a, b))

    def _logsf(self, z, a, b):
        return _log_from_pair(*self._pair(z, a, b)[::-1])


class f_gen(Continuous):
    """F on z >= 0 (d1 = dfn, d2 = dfd): log f = (d1/2) log d1 + (d2/2) log d2
    + (d1/2 - 1) log z - ((d1 + d2)/2) log(d2 + d1 z) - betaln(d1/2, d2/2);
    cdf = betainc(d1/2, d2/2, d1 z / (d1 z + d2)) (not differentiable in d1, d2)."""

    name = "f"
    shapes = ("dfn", "dfd")
    safe_shapes = (1.0, 1.0)
    _support = staticmethod(_nonnegative)

    def _argcheck(self, dfn, dfd):
        return (dfn > 0) & (dfd > 0)

    def _logpdf(self, z, dfn, dfd):
        h1, h2 = _p.multiply(0.5, dfn), _p.multiply(0.5, dfd)
        norm_ = _p.subtract(_p.add(_p.xlogy(h1, dfn), _p.xlogy(h2, dfd)), _sp.betaln(h1, h2))
        body = _p.subtract(_p.xlogy(_p.subtract(h1, 1.0), z),
                           _p.multiply(_p.add(h1, h2), _p.log(_p.add(dfd, _p.multiply(dfn, z)))))
        return _p.add(norm_, body)

    def _pair(self, z, dfn, dfd):
        d1z = _p.multiply(dfn, z)
        total = _p.add(d1z, dfd)
        h1, h2 = _p.multiply(0.5, dfn), _p.multiply(0.5, dfd)
        return (_sp.betainc(h1, h2, _p.true_divide(d1z, total)),
                _sp.betainc(h2, h1, _p.true_divide(dfd, total)))

    def _logcdf(self, z, dfn, dfd):
        return _log_from_pair(*self._pair(z, dfn, dfd))

    def _logsf(self, z, dfn, dfd):
        return _log_from_pair(*self._pair(z, dfn, dfd)[::-1])


class cauchy_gen(Continuous):
    """Cauchy: log f = -log(pi) - log(1 + z^2); cdf = arctan2(1, -z) / pi (accurate in the
    lower tail, where 1/2 + arctan(z)/pi would cancel), sf = arctan2(1, z) / pi."""

    name = "cauchy"

    def _logpdf(self, z):
        return _p.negative(_p.add(_np.log(_np.pi), _p.log1p(_p.square(z))))

    def _logcdf(self, z):
        return _p.log(_p.true_divide(_p.arctan2(1.0, _p.negative(z)), _np.pi))

    def _logsf(self, z):
        return _p.log(_p.true_divide(_p.arctan2(1.0, z), _np.pi))


def _laplace_logcdf(z):
    """log P(Z <= z) for the standard Laplace: z - log 2 below 0, log(1 - e^-z / 2) above."""
    neg = _val(z) < 0
    low = _p.subtract(z, _np.log(2.0))
    if _np.all(neg):
        return low
    high = _p.log1p(_p.multiply(-0.5, _p.exp(_p.negative(_p.where(neg, 0.0, z)))))
    return high if not _np.any(neg) else _p.where(neg, low, high)


class laplace_gen(Continuous):
    """Laplace: log f = -|z| - log 2 (derivative in z taken as 0 at the kink z = 0, as abs);
    log cdf = z - log 2 for z < 0, log(1 - e^-z / 2) above; log sf(z) = log cdf(-z)."""

    name = "laplace"

    def _logpdf(self, z):
        return _p.subtract(_p.negative(_p.absolute(z)), _np.log(2.0))

    def _logcdf(self, z):
        return _laplace_logcdf(z)

    def _logsf(self, z):
        return _laplace_logcdf(_p.negative(z))


def _log_normal_mass(lo, hi):
    """log(Phi(hi) - Phi(lo)) for lo <= hi, without cancellation: computed in the tail that
    holds the interval (the upper one, with Phi(-lo) - Phi(-hi), when lo > 0)."""
    right = _val(lo) > 0

    def mass(lo_, hi_):
        log_hi = _p.log_ndtr(hi_)
        return _p.add(log_hi, _log1mexp(_p.subtract(log_hi, _p.log_ndtr(lo_))))

    if not _np.any(right):
        return mass(lo, hi)
    if _np.all(right):
        return mass(_p.negative(hi), _p.negative(lo))
    return _p.where(right, mass(_p.negative(_p.where(right, hi, 1.0)),
                                _p.negative(_p.where(right, lo, 0.0))),
                    mass(_p.where(right, -1.0, lo), _p.where(right, 0.0, hi)))


class truncnorm_gen(Continuous):
    """The normal truncated to a <= z <= b (a, b standardised, as in scipy):
    log f = log phi(z) - log(Phi(b) - Phi(a)); log cdf = log(Phi(z) - Phi(a)) - log(Phi(b) -
    Phi(a)); log sf = log(Phi(b) - Phi(z)) - log(Phi(b) - Phi(a)). Every difference of
    normal cdfs is computed in the tail that holds it; differentiable in x, loc, scale, a
    and b (truncated regression: a = (lower - x'b) / sigma). On the bounds z = a and z = b
    the density jumps: there z is a constant, as on the edges of the other supports."""

    name = "truncnorm"
    shapes = ("a", "b")
    safe_shapes = (-1.0, 1.0)

    def _argcheck(self, a, b):
        return a < b

    def _support(self, z, a, b):
        return (z >= a) & (z <= b)

    def _above(self, z, a, b):
        return z > b

    def _edge(self, z, a, b):
        return (z == a) | (z == b)

    def _safe_z(self, a, b):
        mid = _np.where(_np.isfinite(a) & _np.isfinite(b), 0.5 * (a + b),
                        _np.where(_np.isfinite(a), a + 1.0,
                                  _np.where(_np.isfinite(b), b - 1.0, 0.0)))
        return mid

    def _logpdf(self, z, a, b):
        return _p.subtract(_p.subtract(_p.multiply(-0.5, _p.square(z)), LOG_SQRT_2PI),
                           _log_normal_mass(a, b))

    def _logcdf(self, z, a, b):
        return _p.subtract(_log_normal_mass(a, z), _log_normal_mass(a, b))

    def _logsf(self, z, a, b):
        return _p.subtract(_log_normal_mass(z, b), _log_normal_mass(a, b))


# =======================================================================================
# discrete families
# =======================================================================================

class Discrete(_Family):
    """logpmf(k, *shapes, loc=0) on the integers 0 <= k - loc <= upper(*shapes).

    Subclasses give ``_logpmf``, ``_logcdf``, ``_logsf`` (for 0 <= k < upper), ``_upper``
    and ``_argcheck``. The cdfs use k = floor(k - loc).
    """

    extra = (("loc", 0.0),)
    lower = 0.0  # the smallest value of k - loc (geom: 1; skellam: -inf)

    def _upper(self, *shapes) -> _np.ndarray:
        return _np.asarray(_np.inf)

    def _evaluate(self, method: str, k, args, kwds):
        params = self._parse(method, args, kwds)
        shapes = [params[n] for n in self.shapes]
        loc = params["loc"]
        values = [_val(s) for s in shapes]
        valid = self._argcheck(*values)
        shapes = self._safe_params(shapes, valid)
        k = _arr(k)
        if not _is(loc, 0.0):
            k = _p.subtract(k, loc)
        kv = _val(k)
        upper = self._upper(*values)
        nan = _np.isnan(kv)
        if method == "logpmf":
            inside = ((kv >= self.lower) & (kv <= upper) & (kv == _np.floor(kv))) | nan
            fill = -_np.inf
        else:
            kv = _np.floor(kv)
            k = kv  # the cdf is a step function of k: no derivative in k
            inside = ((kv >= self.lower) & (kv < upper)) | nan
            below, above = (-_np.inf, 0.0) if method == "logcdf" else (0.0, -_np.inf)
            fill = _np.where(kv < self.lower, below, above)
        safe_k = self.lower if _np.isfinite(self.lower) else 0.0
        out = getattr(self, "_" + method)(_keep(k, inside, safe_k), *shapes)
        out = _keep(out, inside, fill)
        return _keep(out, valid, _np.nan)

    def logpmf(self, k: ArrayLike, *args: ArrayLike, **kwds: ArrayLike):
        """Log of the probability mass P(X = k)."""
        with _np.errstate(divide="ignore"):
            return self._evaluate("logpmf", k, args, kwds)

    def pmf(self, k: ArrayLike, *args: ArrayLike, **kwds: ArrayLike):
        return _p.exp(self.logpmf(k, *args, **kwds))


class poisson_gen(Discrete):
    """Poisson: log p(k) = k log mu - mu - gammaln(k+1); cdf = gammaincc(k+1, mu)."""

    name = "poisson"
    shapes = ("mu",)
    safe_shapes = (1.0,)

    def _argcheck(self, mu):
        return mu >= 0

    def _logpmf(self, k, mu):
        return _p.subtract(_p.subtract(_p.xlogy(k, mu), mu), _p.gammaln(_p.add(k, 1.0)))

    def _logcdf(self, k, mu):
        return _log_from_pair(_sp.gammaincc(k + 1.0, mu), _sp.gammainc(k + 1.0, mu))

    def _logsf(self, k, mu):
        return _log_from_pair(_sp.gammainc(k + 1.0, mu), _sp.gammaincc(k + 1.0, mu))


def _log_binom_coef(n, k):
    """log C(n, k) = -log(n + 1) - betaln(n - k + 1, k + 1)."""
    return _p.negative(_p.add(_p.log1p(n), _sp.betaln(_p.add(_p.subtract(n, k), 1.0),
                                                        _p.add(k, 1.0))))


class binom_gen(Discrete):
    """Binomial: log p(k) = log C(n, k) + k log p + (n-k) log(1-p);
    cdf = betainc(n - k, k + 1, 1 - p) (differentiable in p, not in n)."""

    name = "binom"
    shapes = ("n", "p")
    safe_shapes = (1.0, 0.5)

    def _argcheck(self, n, p):
        return (n >= 0) & (n == _np.floor(n)) & (p >= 0) & (p <= 1)

    def _upper(self, n, p):
        return n

    def _logpmf(self, k, n, p):
        return _p.add(_log_binom_coef(n, k),
                      _p.add(_p.xlogy(k, p), _p.xlog1py(_p.subtract(n, k), _p.negative(p))))

    def _cdf_pair(self, k, n, p):
        q = _p.subtract(1.0, p)
        return (_sp.betainc(_p.subtract(n, k), k + 1.0, q),
                _sp.betainc(k + 1.0, _p.subtract(n, k), p))

    def _logcdf(self, k, n, p):
        return _log_from_pair(*self._cdf_pair(k, n, p))

    def _logsf(self, k, n, p):
        return _log_from_pair(*self._cdf_pair(k, n, p)[::-1])


class bernoulli_gen(Discrete):
    """Bernoulli: log p(k) = k log p + (1-k) log(1-p), k in {0, 1}."""

    name = "bernoulli"
    shapes = ("p",)
    safe_shapes = (0.5,)

    def _argcheck(self, p):
        return (p >= 0) & (p <= 1)

    def _upper(self, p):
        return _np.asarray(1.0)

    def _logpmf(self, k, p):
        return _p.add(_p.xlogy(k, p), _p.xlog1py(_p.subtract(1.0, k), _p.negative(p)))

    def _logcdf(self, k, p):  # only k = 0 gets here
        return _p.log1p(_p.negative(p))

    def _logsf(self, k, p):
        return _p.log(p)


class nbinom_gen(Discrete):
    """Negative binomial (failures k before the n-th success, success probability p):
    log p(k) = -log(n + k) - betaln(n, k + 1) + n log p + k log(1 - p);
    cdf = betainc(n, k + 1, p) (differentiable in p, not in n)."""

    name = "nbinom"
    shapes = ("n", "p")
    safe_shapes = (1.0, 0.5)

    def _argcheck(self, n, p):
        return (n > 0) & (p > 0) & (p <= 1)

    def _logpmf(self, k, n, p):
        coef = _p.negative(_p.add(_p.log(_p.add(n, k)), _sp.betaln(n, _p.add(k, 1.0))))
        return _p.add(coef, _p.add(_p.xlogy(n, p), _p.xlog1py(k, _p.negative(p))))

    def _cdf_pair(self, k, n, p):
        return (_sp.betainc(n, k + 1.0, p),
                _sp.betainc(k + 1.0, n, _p.subtract(1.0, p)))

    def _logcdf(self, k, n, p):
        return _log_from_pair(*self._cdf_pair(k, n, p))

    def _logsf(self, k, n, p):
        return _log_from_pair(*self._cdf_pair(k, n, p)[::-1])


class geom_gen(Discrete):
    """Geometric on k >= 1 (trials up to the first success): log p(k) = (k-1) log(1-p) + log p;
    log cdf = log(1 - (1-p)^k), log sf = k log(1-p)."""

    name = "geom"
    shapes = ("p",)
    safe_shapes = (0.5,)
    lower = 1.0

    def _argcheck(self, p):
        return (p > 0) & (p <= 1)

    def _logpmf(self, k, p):
        return _p.add(_p.xlog1py(_p.subtract(k, 1.0), _p.negative(p)), _p.log(p))

    def _logcdf(self, k, p):
        return _log1mexp(_p.negative(_p.xlog1py(k, _p.negative(p))))

    def _logsf(self, k, p):
        return _p.xlog1py(k, _p.negative(p))


class skellam_gen(Discrete):
    """Skellam (the difference of Poisson(mu1) and Poisson(mu2)) on all integers:
    log p(k) = -(sqrt(mu1) - sqrt(mu2))^2 + (k/2) log(mu1/mu2) + log ive(|k|, 2 sqrt(mu1 mu2)).
    Only logpmf/pmf (the cdf is refused)."""

    name = "skellam"
    shapes = ("mu1", "mu2")
    safe_shapes = (1.0, 1.0)
    lower = -_np.inf

    def _argcheck(self, mu1, mu2):
        return (mu1 > 0) & (mu2 > 0)

    def _logpmf(self, k, mu1, mu2):
        gap = _p.square(_p.subtract(_p.sqrt(mu1), _p.sqrt(mu2)))
        ratio = _p.multiply(_p.multiply(0.5, k), _p.subtract(_p.log(mu1), _p.log(mu2)))
        bessel = _p.log(_sp.ive(_np.abs(_val(k)), _p.multiply(2.0, _p.sqrt(_p.multiply(mu1, mu2)))))
        return _p.add(_p.subtract(ratio, gap), bessel)

    def _refuse(self, *args):
        raise NotImplementedError("mleopt.stats.skellam offers logpmf and pmf only; its cdf "
                                  "(a non-central chi-squared cdf) is not implemented.")

    _logcdf = _logsf = _refuse


norm = norm_gen()
t = t_gen()
logistic = logistic_gen()
expon = expon_gen()
weibull_min = weibull_min_gen()
gamma = gamma_gen()
lognorm = lognorm_gen()
poisson = poisson_gen()
bernoulli = bernoulli_gen()
binom = binom_gen()
nbinom = nbinom_gen()
chi2 = chi2_gen()
invgamma = invgamma_gen()
beta = beta_gen()
f = f_gen()
cauchy = cauchy_gen()
laplace = laplace_gen()
truncnorm = truncnorm_gen()
geom = geom_gen()
skellam = skellam_gen()

__all__ = ["norm", "t", "logistic", "expon", "weibull_min", "gamma", "lognorm", "poisson",
           "bernoulli", "binom", "nbinom", "chi2", "invgamma", "beta", "f", "cauchy", "laplace",
           "truncnorm", "geom", "skellam", "multivariate_normal", "dirichlet"]


# The engine names these distributions in its error for scipy.stats called on a traced value
_register_namespace("scipy.stats", _sys.modules[__name__])


def __dir__() -> list[str]:
    """The distributions (and their classes), not the module's helpers, for tab completion."""
    return sorted(__all__ + [n for n in globals() if n.endswith("_gen")])
