"""Derivative rules for the special functions (gammaln, erf, log_ndtr, expit, ...).

Also defines a few extra primitives that the public special/stats functions need:

* ``inv_mills(x) = phi(x) / Phi(x) = sqrt(2/pi) / erfcx(-x/sqrt(2))``, the derivative of
  ``log_ndtr``, accurate on the whole real line; ``inv_mills'(x) = -r (x + r)``;
* ``betaln(a, b)`` (scipy's accurate value; d/da = digamma(a) - digamma(a + b));
* the Bessel functions iv, ive, i0, i1, i0e, i1e, jv, yv, j0, j1, y0, y1 (differentiable in
  x, not in the order v): iv' = (iv(v-1) + iv(v+1))/2, jv' = (jv(v-1) - jv(v+1))/2 (yv alike),
  ive = iv e^-|x| so ive' = (ive(v-1) + ive(v+1))/2 - sign(x) ive; i0' = i1, j0' = -j1,
  y0' = -y1;
* erfinv' = sqrt(pi)/2 exp(erfinv^2), erfcinv' = -sqrt(pi)/2 exp(erfcinv^2);
* gamma' = gamma digamma; beta(a, b): d/da = beta (digamma(a) - digamma(a + b));
  rgamma = 1/gamma: d/dx = -digamma(x) rgamma(x) for x >= 1/2 and, from the reflection
  rgamma(x) = sin(pi x) gamma(1 - x) / pi, gamma(1 - x) (cos(pi x) - sin(pi x) digamma(1 - x)
  / pi) below (finite at the zeros x = 0, -1, -2, ...);
* entr(x) = -x log x: entr' = -(log x + 1);
* the regularized incomplete functions ``gammainc(a, x)``, ``gammaincc(a, x)``,
  ``betainc(a, b, x)`` and Student's t cdf ``stdtr(df, t)``, differentiable in their last
  argument only (there is no closed form in the shape parameters; differentiating with
  respect to them raises a TraceError naming the argument).

Every rule is written with primitives, so it can be differentiated again.
"""
from __future__ import annotations

import numpy as np
import scipy.special as sps

from . import primitives as p
from .core import Primitive, defjvp, defvjp
from .rules import (batch_expand, binary, elementwise, exact, ndim_of, shape_of,
                    unbroadcast)

LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
TWO_OVER_SQRT_PI = 2.0 / np.sqrt(np.pi)
SQRT_2_OVER_PI = np.sqrt(2.0 / np.pi)

# =======================================================================================
# extra primitives
# =======================================================================================

inv_mills = Primitive(lambda x: SQRT_2_OVER_PI / sps.erfcx(-np.asarray(x) / np.sqrt(2.0)),
                      "inv_mills")
betaln = Primitive(sps.betaln, "betaln")
gammainc = Primitive(sps.gammainc, "gammainc")
gammaincc = Primitive(sps.gammaincc, "gammaincc")
betainc = Primitive(sps.betainc, "betainc")
stdtr = Primitive(sps.stdtr, "stdtr")
erfinv = Primitive(sps.erfinv, "erfinv")
erfcinv = Primitive(sps.erfcinv, "erfcinv")
gamma = Primitive(sps.gamma, "gamma")
beta = Primitive(sps.beta, "beta")
rgamma = Primitive(sps.rgamma, "rgamma")
entr = Primitive(sps.entr, "entr")
iv = Primitive(sps.iv, "iv")
ive = Primitive(sps.ive, "ive")
jv = Primitive(sps.jv, "jv")
yv = Primitive(sps.yv, "yv")
i0 = Primitive(sps.i0, "i0")
i1 = Primitive(sps.i1, "i1")
i0e = Primitive(sps.i0e, "i0e")
i1e = Primitive(sps.i1e, "i1e")
j0 = Primitive(sps.j0, "j0")
j1 = Primitive(sps.j1, "j1")
y0 = Primitive(sps.y0, "y0")
y1 = Primitive(sps.y1, "y1")


def _safe_nonzero(x, y):
    """``y`` with 1 where ``x == 0`` and ``y == 0`` (so that x / y is 0 there, with finite
    derivatives). Only the 0/0 points are replaced: where ``x == 0`` but ``y != 0``,
    ``x / y`` must keep its derivative ``1 / y`` in x (the mixed second derivative of
    ``x log y``, e.g. of gamma.logpdf in its shape at a == 1)."""
    return p.where((np.asarray(p.stop(x)) == 0) & (np.asarray(p.stop(y)) == 0), 1.0, y)


# =======================================================================================
# gamma family
# =======================================================================================

elementwise(p.gammaln, lambda ans, x: p.digamma(x))
elementwise(p.digamma, lambda ans, x: p.polygamma(1, x))


def _polygamma_next(n):
    return np.asarray(p.stop(n)) + 1


defvjp(p.polygamma, None, lambda g, ans, n, x: unbroadcast(
    p.multiply(g, p.polygamma(_polygamma_next(n), x)), shape_of(x)))
defjvp(p.polygamma, None, lambda t, ans, n, x: p.multiply(
    batch_expand(t, ndim_of(ans)), p.polygamma(_polygamma_next(n), x)))

binary(betaln,
       lambda ans, a, b: p.subtract(p.digamma(a), p.digamma(p.add(a, b))),
       lambda ans, a, b: p.subtract(p.digamma(b), p.digamma(p.add(a, b))))
binary(beta,
       lambda ans, a, b: p.multiply(ans, p.subtract(p.digamma(a), p.digamma(p.add(a, b)))),
       lambda ans, a, b: p.multiply(ans, p.subtract(p.digamma(b), p.digamma(p.add(a, b)))))
elementwise(gamma, lambda ans, x: p.multiply(ans, p.digamma(x)))


def _rgamma_derivative(ans, x):
    """-digamma(x) rgamma(x) for x >= 1/2; below, the derivative of the reflection formula
    sin(pi x) gamma(1 - x) / pi (each branch evaluated at a safe point where not chosen)."""
    low = np.asarray(p.stop(x)) < 0.5
    xl = p.where(low, x, 0.0)
    pix = p.multiply(np.pi, xl)
    reflected = p.multiply(p.exp(p.gammaln(p.subtract(1.0, xl))),
                           p.subtract(p.cos(pix), p.multiply(p.sin(pix), p.true_divide(
                               p.digamma(p.subtract(1.0, xl)), np.pi))))
    if np.all(low):
        return reflected
    direct = p.negative(p.multiply(p.digamma(p.where(low, 1.0, x)), ans))
    return direct if not np.any(low) else p.where(low, reflected, direct)


elementwise(rgamma, _rgamma_derivative)
elementwise(entr, lambda ans, x: p.negative(p.add(p.log(x), 1.0)))

# =======================================================================================
# error function and the normal distribution
# =======================================================================================

elementwise(p.erf, lambda ans, x: p.multiply(TWO_OVER_SQRT_PI, p.exp(p.negative(p.square(x)))))
elementwise(p.erfc, lambda ans, x: p.multiply(-TWO_OVER_SQRT_PI,
                                              p.exp(p.negative(p.square(x)))))


def _log_phi(x):
    """log of the standard normal density: -x^2/2 - log sqrt(2 pi)."""
    return p.subtract(p.multiply(-0.5, p.square(x)), LOG_SQRT_2PI)


elementwise(p.ndtr, lambda ans, x: p.exp(_log_phi(x)))
# d log Phi(x) / dx = phi(x) / Phi(x), the inverse Mills ratio r(x) (no overflow anywhere)
elementwise(p.log_ndtr, lambda ans, x: inv_mills(x))
# r'(x) = -r (x + r)
elementwise(inv_mills, lambda ans, x: p.negative(p.multiply(ans, p.add(x, ans))))

elementwise(erfinv, lambda ans, x: p.multiply(0.5 * np.sqrt(np.pi), p.exp(p.square(ans))))
elementwise(erfcinv, lambda ans, x: p.multiply(-0.5 * np.sqrt(np.pi), p.exp(p.square(ans))))

# =======================================================================================
# logistic
# =======================================================================================

# expit' = expit(x) expit(-x) (accurate in both tails, unlike ans * (1 - ans))
elementwise(p.expit, lambda ans, x: p.multiply(ans, p.expit(p.negative(x))))
elementwise(p.log_expit, lambda ans, x: p.expit(p.negative(x)))
# logit'(x) = 1 / (x (1 - x))
elementwise(p.logit, lambda ans, x: p.reciprocal(p.multiply(x, p.subtract(1.0, x))))

# =======================================================================================
# x log y
# =======================================================================================

# d/dx x log y = log y;  d/dy = x / y (0 where x == 0, as xlogy itself is 0 there)
binary(p.xlogy,
       lambda ans, x, y: p.log(y),
       lambda ans, x, y: p.true_divide(x, _safe_nonzero(x, y)))
binary(p.xlog1py,
       lambda ans, x, y: p.log1p(y),
       lambda ans, x, y: p.true_divide(x, _safe_nonzero(x, p.add(1.0, y))))

# =======================================================================================
# regularized incomplete functions: derivative in the last argument only
# =======================================================================================


def _gamma_density(a, x):
    """d gammainc(a, x) / dx = x^(a-1) e^-x / Gamma(a)."""
    return p.exp(p.subtract(p.subtract(p.xlogy(p.subtract(a, 1.0), x), x), p.gammaln(a)))


def _beta_density(a, b, x):
    """d betainc(a, b, x) / dx = x^(a-1) (1-x)^(b-1) / B(a, b)."""
    log_dens = p.add(p.xlogy(p.subtract(a, 1.0), x),
                     p.xlog1py(p.subtract(b, 1.0), p.negative(x)))
    return p.exp(p.subtract(log_dens, betaln(a, b)))


def _t_density(df, x):
    """d stdtr(df, x) / dx, the t density (1 + x^2/df)^-((df+1)/2) / (sqrt(df) B(df/2, 1/2))."""
    log_dens = p.add(
        p.add(betaln(p.multiply(0.5, df), 0.5), p.multiply(0.5, p.log(df))),
        p.multiply(p.multiply(0.5, p.add(df, 1.0)), p.log1p(p.true_divide(p.square(x), df))))
    return p.exp(p.negative(log_dens))


def _last_arg_rules(prim, n_shapes, density, sign=1.0) -> None:
    """Rules for d prim(*shapes, x) / dx = sign * density(*shapes, x), with broadcasting
    (shapes of a lower precision taken in the answer's: rules.exact)."""
    def vjp(g, ans, *args):
        d = p.multiply(g, density(*[exact(ans, a) for a in args]))
        return unbroadcast(p.negative(d) if sign < 0 else d, shape_of(args[-1]))

    def jvp(t, ans, *args):
        d = p.multiply(batch_expand(t, ndim_of(ans)), density(*[exact(ans, a) for a in args]))
        return p.negative(d) if sign < 0 else d

    defvjp(prim, *([None] * n_shapes), vjp)
    defjvp(prim, *([None] * n_shapes), jvp)


_last_arg_rules(gammainc, 1, _gamma_density)
_last_arg_rules(gammaincc, 1, _gamma_density, sign=-1.0)
_last_arg_rules(betainc, 2, _beta_density)
_last_arg_rules(stdtr, 1, _t_density)


# =======================================================================================
# Bessel functions: derivative in x (the order v is not differentiable)
# =======================================================================================

def _recurrence(fun, sign):
    """x -> (fun(v - 1, x) + sign * fun(v + 1, x)) / 2."""
    def density(v, x):
        lower, upper = fun(p.subtract(v, 1.0), x), fun(p.add(v, 1.0), x)
        both = p.add(lower, upper) if sign > 0 else p.subtract(lower, upper)
        return p.multiply(0.5, both)
    return density


def _scaled(fun, scaled_value):
    """The derivative of f(x) e^-|x|: f'(x) e^-|x| - sign(x) f(x) e^-|x|."""
    def derivative(*args):
        return p.subtract(fun(*args), p.multiply(p.sign(args[-1]), scaled_value(*args)))
    return derivative


_last_arg_rules(iv, 1, _recurrence(iv, 1))
_last_arg_rules(ive, 1, _scaled(_recurrence(ive, 1), ive))
_last_arg_rules(jv, 1, _recurrence(jv, -1))
_last_arg_rules(yv, 1, _recurrence(yv, -1))
elementwise(i0, lambda ans, x: i1(x))
elementwise(i1, lambda ans, x: p.multiply(0.5, p.add(i0(x), iv(2.0, x))))
elementwise(i0e, lambda ans, x: p.subtract(i1e(x), p.multiply(p.sign(x), ans)))
elementwise(i1e, lambda ans, x: p.subtract(p.multiply(0.5, p.add(i0e(x), ive(2.0, x))),
                                           p.multiply(p.sign(x), ans)))
elementwise(j0, lambda ans, x: p.negative(j1(x)))
elementwise(j1, lambda ans, x: p.multiply(0.5, p.subtract(j0(x), jv(2.0, x))))
elementwise(y0, lambda ans, x: p.negative(y1(x)))
elementwise(y1, lambda ans, x: p.multiply(0.5, p.subtract(y0(x), yv(2.0, x))))
