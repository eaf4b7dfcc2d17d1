"""The multivariate families of mleopt.stats: multivariate_normal and dirichlet.

Arguments and output shapes follow scipy.stats: ``multivariate_normal.logpdf(x, mean=None,
cov=1)`` with the components on the last axis of x (a 1-D x is one point, or n points of a
1-D normal); ``dirichlet.logpdf(x, alpha)`` with the components on the first axis of x.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ._linalg import cholesky
from .ad import primitives as p
from .ad.core import Traced, _static, _value_of, as_array
from .ad.rules import swap_last
from .ad.rules_special import LOG_SQRT_2PI

ArrayLike = Any


def _arr(x):
    x = as_array(x)   # a list holding traced values: one traced array
    return x if isinstance(x, Traced) else np.asarray(x, dtype=np.float64)


def _shape(x) -> tuple:
    return np.shape(_static(x))


def _squeeze(out):
    """scipy's output convention: drop axes of length 1; a single number as a 0-d value."""
    shape = tuple(n for n in _shape(out) if n != 1)
    return out if shape == _shape(out) else p.reshape(out, shape)


class multivariate_normal_gen:
    """The multivariate normal, by its Cholesky factor cov = L L^T:

        log f(x) = -(k log(2 pi) + 2 sum(log diag L) + |L^-1 (x - mean)|^2) / 2.

    Differentiable in x, mean and cov (every derivative through solve and cholesky). The
    factor is taken of (cov + cov^T) / 2, equal to cov for any covariance matrix, so the
    derivative in cov is the symmetric one (d/dcov = (S^-1 r r^T S^-1 - S^-1) / 2 per point).
    cov may be a number (times the identity), a vector (the diagonal) or a matrix. A singular
    covariance is refused (allow_singular=True is not supported).
    """

    name = "multivariate_normal"

    @staticmethod
    def _dim(mean, cov) -> int:
        """The number of components: cov's side, else mean's length, else 1."""
        if len(_shape(cov)) > 2:
            raise ValueError(f"multivariate_normal: cov must be a number, a vector or a matrix, "
                             f"not an array of shape {_shape(cov)}.")
        if len(_shape(cov)) >= 1:
            return _shape(cov)[0]
        if mean is not None and len(_shape(mean)) >= 1:
            return _shape(mean)[0]
        return 1

    def _parse(self, x, mean, cov, allow_singular):
        if allow_singular:
            raise NotImplementedError(
                "multivariate_normal(allow_singular=True) is not supported by mleopt.stats: "
                "the Cholesky path needs a positive definite covariance. Drop the singular "
                "directions (or add a small ridge to cov) and pass allow_singular=False.")
        cov = _arr(cov)
        mean = None if mean is None else _arr(mean)
        cov_nd = len(_shape(cov))
        dim = self._dim(mean, cov)
        if mean is None:
            mean = np.zeros(dim)
        elif len(_shape(mean)) == 0:
            mean = p.multiply(mean, np.ones(dim))
        if _shape(mean) != (dim,):
            raise ValueError(f"multivariate_normal: mean has shape {_shape(mean)} but cov "
                             f"describes {dim} dimensions.")
        if cov_nd == 0:
            cov = p.multiply(cov, np.eye(dim))
        elif cov_nd == 1:
            cov = p.multiply(p.reshape(cov, (1, dim)), np.eye(dim))
        elif _shape(cov) != (dim, dim):
            raise ValueError(f"multivariate_normal: cov must be square, got shape {_shape(cov)}.")
        x = _arr(x)
        xs = _shape(x)
        if len(xs) == 0:
            x = p.reshape(x, (1,))
        elif len(xs) == 1:
            x = p.reshape(x, (xs[0], 1) if dim == 1 else (1, xs[0]))
        if _shape(x)[-1] != dim:
            raise ValueError(f"multivariate_normal: x has {_shape(x)[-1]} components on its "
                             f"last axis, the distribution {dim}.")
        return x, mean, cov, dim

    def logpdf(self, x: ArrayLike, mean: ArrayLike = None, cov: ArrayLike = 1,
               allow_singular: bool = False):
        """Log density at the points x (components on the last axis)."""
        x, mean, cov, dim = self._parse(x, mean, cov, allow_singular)
        lead = _shape(x)[:-1]
        chol = cholesky(p.multiply(0.5, p.add(cov, swap_last(cov))))
        diff = p.reshape(p.subtract(x, mean), (-1, dim))
        z = p.solve(chol, swap_last(diff))                      # (dim, points)
        maha = p.sum(p.square(z), axis=0)
        half_logdet = p.sum(p.log(p.diag(chol)))
        out = p.negative(p.add(p.multiply(0.5, maha), p.add(half_logdet, dim * LOG_SQRT_2PI)))
        return _squeeze(p.reshape(out, lead))

    def pdf(self, x: ArrayLike, mean: ArrayLike = None, cov: ArrayLike = 1,
            allow_singular: bool = False):
        return p.exp(self.logpdf(x, mean, cov, allow_singular))

    def entropy(self, mean: ArrayLike = None, cov: ArrayLike = 1, allow_singular: bool = False):
        """Differential entropy (k/2)(1 + log 2 pi) + (1/2) log det cov, differentiable in cov
        (mean only fixes the dimension, as in scipy)."""
        m = None if mean is None else _arr(mean)
        dim = self._dim(m, _arr(cov))
        _, _, cov, dim = self._parse(np.zeros(dim), mean, cov, allow_singular)
        chol = cholesky(p.multiply(0.5, p.add(cov, swap_last(cov))))
        return p.add(p.sum(p.log(p.diag(chol))), dim * (0.5 + LOG_SQRT_2PI))

    def __call__(self, mean: ArrayLike = None, cov: ArrayLike = 1,
                 allow_singular: bool = False) -> "_FrozenMultivariate":
        """Freeze the parameters: ``multivariate_normal(mean, cov).logpdf(x)``."""
        return _FrozenMultivariate(self, (mean, cov, allow_singular))

    def __repr__(self) -> str:
        return "<mleopt.stats.multivariate_normal>"


class dirichlet_gen:
    """The Dirichlet on the simplex: log f(x) = sum_i (alpha_i - 1) log x_i - B(alpha),
    B(alpha) = sum_i gammaln(alpha_i) - gammaln(sum_i alpha_i). x holds the K components on
    its first axis (K - 1 of them: the last is 1 minus their sum), as in scipy.
    Differentiable in x and alpha. Bad input (alpha <= 0, x off the simplex) raises
    ValueError, as scipy does."""

    name = "dirichlet"

    def logpdf(self, x: ArrayLike, alpha: ArrayLike):
        alpha, x = _arr(alpha), _arr(x)
        if len(_shape(alpha)) != 1:
            raise ValueError(f"dirichlet: alpha must be a vector, got shape {_shape(alpha)}.")
        if np.any(_value_of(alpha) <= 0):
            raise ValueError("dirichlet: every alpha must be > 0.")
        k = _shape(alpha)[0]
        if len(_shape(x)) == 0 or _shape(x)[0] not in (k - 1, k):
            raise ValueError(f"dirichlet: x must hold {k} (or {k - 1}) components on its first "
                             f"axis, got shape {_shape(x)}.")
        if _shape(x)[0] == k - 1:
            last = p.subtract(1.0, p.sum(x, axis=0, keepdims=True))
            x = p.concatenate_args(0, x, last)
        xv = np.asarray(_value_of(x))
        if np.any(xv < 0) or np.any(xv > 1):
            raise ValueError("dirichlet: the components of x must lie in [0, 1].")
        if np.any(np.abs(np.sum(xv, axis=0) - 1.0) > 10e-10):
            raise ValueError("dirichlet: the components of x must sum to 1.")
        a = p.reshape(alpha, (k,) + (1,) * (len(_shape(x)) - 1))
        log_b = p.subtract(p.sum(p.gammaln(alpha)), p.gammaln(p.sum(alpha)))
        return p.subtract(p.sum(p.xlogy(p.subtract(a, 1.0), x), axis=0), log_b)

    def pdf(self, x: ArrayLike, alpha: ArrayLike):
        return p.exp(self.logpdf(x, alpha))

    def __call__(self, alpha: ArrayLike) -> "_FrozenMultivariate":
        return _FrozenMultivariate(self, (alpha,))

    def __repr__(self) -> str:
        return "<mleopt.stats.dirichlet>"


class _FrozenMultivariate:
    """A multivariate family with its parameters bound."""

    def __init__(self, family, args: tuple):
        self.family, self.args = family, args

    def logpdf(self, x: ArrayLike):
        return self.family.logpdf(x, *self.args)

    def pdf(self, x: ArrayLike):
        return self.family.pdf(x, *self.args)


multivariate_normal = multivariate_normal_gen()
dirichlet = dirichlet_gen()
