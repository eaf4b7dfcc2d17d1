"""The differentiable primitives: numpy functions wrapped so that they can be traced.

Only the functions here carry derivative rules (registered in rules.py); everything in
mleopt.numpy, mleopt.special and mleopt.stats is either one of these or composed of them.
"""
from __future__ import annotations

import numpy as np
import scipy.special as sps

from .core import NonDifferentiable, Primitive
from .core import stop_gradient as stop  # noqa: F401  (used by the rules)


def _prim(fun, name=None):
    return Primitive(fun, name)


# --- elementwise, one argument --------------------------------------------------------
negative = _prim(np.negative)
exp = _prim(np.exp)
log = _prim(np.log)
log1p = _prim(np.log1p)
expm1 = _prim(np.expm1)
sqrt = _prim(np.sqrt)
absolute = _prim(np.absolute)
sin = _prim(np.sin)
cos = _prim(np.cos)
tan = _prim(np.tan)
tanh = _prim(np.tanh)
sinh = _prim(np.sinh)
cosh = _prim(np.cosh)
arctan = _prim(np.arctan)
arcsin = _prim(np.arcsin)
arccos = _prim(np.arccos)
arcsinh = _prim(np.arcsinh)
arctanh = _prim(np.arctanh)
square = _prim(np.square)
reciprocal = _prim(lambda x: 1.0 / x, "reciprocal")
sign = NonDifferentiable(np.sign)
floor = NonDifferentiable(np.floor)
ceil = NonDifferentiable(np.ceil)
round = NonDifferentiable(np.round)  # noqa: A001 - numpy's name

# --- elementwise, two or more arguments -----------------------------------------------
add = _prim(np.add)
subtract = _prim(np.subtract)
multiply = _prim(np.multiply)
true_divide = _prim(np.true_divide)
power = _prim(np.power)


_SMALL = 8192  # below this many elements numpy/scipy's own loops have less call overhead


def _log1p_exp_minus_abs(d):
    """log1p(exp(-|d|)) as a new array, computed in place (no temporaries)."""
    out = np.abs(d, dtype=np.float64)
    np.negative(out, out=out)
    np.exp(out, out=out)
    return np.log1p(out, out=out)


def _logaddexp(x, y):
    """log(exp(x) + exp(y)) = max(x, y) + log1p(exp(-|x - y|)): exact to rounding and about
    twice as fast as numpy.logaddexp on large arrays (the hot path of every GLM)."""
    if np.size(x) < _SMALL and np.size(y) < _SMALL:
        return np.logaddexp(x, y)
    big = np.maximum(x, y)
    with np.errstate(invalid="ignore"):
        out = _log1p_exp_minus_abs(np.subtract(x, y))
    infinite = np.isinf(big)    # (not big.max() == inf: a NaN elsewhere would hide it)
    if infinite.any():
        # equal infinities give inf - inf = nan above; the answer is that infinity
        out[infinite] = 0.0
    return np.add(big, out, out=out)


def _log_expit(x):
    """log(expit(x)) = min(x, 0) - log1p(exp(-|x|)): exact to rounding, about twice as fast
    as scipy.special.log_expit on large arrays (the Logit log-likelihood)."""
    if np.size(x) < _SMALL:
        return sps.log_expit(x)
    out = _log1p_exp_minus_abs(x)
    return np.subtract(np.minimum(x, 0.0), out, out=out)


logaddexp = _prim(_logaddexp, "logaddexp")
# d/dx logaddexp(x, y) = expit(x - y), evaluated cheaply as exp(x - out) with the
# already computed out = logaddexp(x, y) (a value only; its rules treat out as known)
logaddexp_weight = _prim(lambda x, y, out: np.exp(np.subtract(x, out)), "logaddexp_weight")
maximum = _prim(np.maximum)
minimum = _prim(np.minimum)
arctan2 = _prim(np.arctan2)
where = _prim(lambda condition, x, y: np.where(condition, x, y), "where")

# --- reductions -----------------------------------------------------------------------
sum = _prim(np.sum)  # noqa: A001
prod = _prim(np.prod)
amax = _prim(np.amax, "max")
amin = _prim(np.amin, "min")
cumsum = _prim(np.cumsum)

# --- shape ------------------------------------------------------------------------------
reshape = _prim(lambda x, shape, order="C": np.reshape(x, shape, order=order), "reshape")
transpose = _prim(lambda x, axes=None: np.transpose(x, axes), "transpose")
broadcast_to = _prim(lambda x, shape: np.broadcast_to(x, shape), "broadcast_to")
getitem = _prim(lambda x, index: x[index], "getitem")


def _untake(g, index, shape):
    """The adjoint of x[index]: zeros of ``shape`` with ``g`` added at ``index``."""
    out = np.zeros(shape, dtype=np.result_type(g, np.float64))
    np.add.at(out, index, g)
    return out


untake = _prim(_untake, "untake")
concatenate_args = _prim(lambda axis, *arrays: np.concatenate(arrays, axis=axis),
                         "concatenate")
diag = _prim(lambda x: np.diag(x), "diag")

# --- products and linear algebra ------------------------------------------------------------
matmul = _prim(np.matmul)
einsum_args = _prim(lambda subscripts, *operands: np.einsum(subscripts, *operands,
                                                             optimize=True), "einsum")
inv = _prim(np.linalg.inv, "linalg.inv")
solve = _prim(np.linalg.solve, "linalg.solve")
det = _prim(np.linalg.det, "linalg.det")
logabsdet = _prim(lambda a: np.linalg.slogdet(a)[1], "linalg.slogdet")
cholesky = _prim(np.linalg.cholesky, "linalg.cholesky")

# --- special functions --------------------------------------------------------------------
gammaln = _prim(sps.gammaln)
digamma = _prim(sps.digamma)
polygamma = _prim(lambda n, x: sps.polygamma(n, x), "polygamma")
erf = _prim(sps.erf)
erfc = _prim(sps.erfc)
ndtr = _prim(sps.ndtr)
log_ndtr = _prim(sps.log_ndtr)
expit = _prim(sps.expit)
log_expit = _prim(_log_expit, "log_expit")
logit = _prim(sps.logit)
xlogy = _prim(sps.xlogy)
xlog1py = _prim(sps.xlog1py)

# numpy ufunc name -> primitive, for __array_ufunc__ dispatch on traced values
UFUNCS = {
    "negative": negative, "exp": exp, "log": log, "log1p": log1p, "expm1": expm1,
    "sqrt": sqrt, "absolute": absolute, "sin": sin, "cos": cos, "tan": tan, "tanh": tanh,
    "sinh": sinh, "cosh": cosh, "arctan": arctan, "arcsin": arcsin, "arccos": arccos,
    "arcsinh": arcsinh, "arctanh": arctanh, "square": square, "add": add,
    "subtract": subtract, "multiply": multiply, "divide": true_divide,
    "true_divide": true_divide, "power": power, "logaddexp": logaddexp,
    "maximum": maximum, "minimum": minimum, "arctan2": arctan2, "matmul": matmul,
    "reciprocal": reciprocal, "sign": sign, "floor": floor, "ceil": ceil,
    "less": NonDifferentiable(np.less), "less_equal": NonDifferentiable(np.less_equal),
    "greater": NonDifferentiable(np.greater),
    "greater_equal": NonDifferentiable(np.greater_equal),
    "equal": NonDifferentiable(np.equal), "not_equal": NonDifferentiable(np.not_equal),
    "isfinite": NonDifferentiable(np.isfinite), "isnan": NonDifferentiable(np.isnan),
    "isinf": NonDifferentiable(np.isinf),
}

from . import rules  # noqa: E402,F401  (registers the derivative rules)
from . import einsum, rules_linalg, rules_special  # noqa: E402,F401  (more rules)
