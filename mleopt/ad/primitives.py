"""The differentiable primitives: numpy functions wrapped so that they can be traced.

Only the functions here carry derivative rules (registered by rules.py, einsum.py,
rules_linalg.py and rules_special.py, which mleopt/ad/__init__.py imports right after this
module); everything in mleopt.numpy, mleopt.special and mleopt.stats is either one of these
or composed of them. This module imports core only, and registers itself with core (the
operators of traced values call these primitives).
"""
from __future__ import annotations

import sys

import numpy as np
import scipy.special as sps

from .core import NonDifferentiable, Primitive, register_namespace
from .core import stop_gradient as stop  # noqa: F401  (used by the rules)


def _prim(fun, name=None):
    return Primitive(fun, name)


# --- elementwise, one argument --------------------------------------------------------
def _broadcast_number(value: float, shape: tuple) -> np.ndarray:
    """One float as a zero-stride array of ``shape``, like np.broadcast_to of a number but
    without its Python-level overhead. (A view: never written in place here, and copied
    by fresh() before it could reach a user.)"""
    base = np.array(value, dtype=np.float64)
    return np.ndarray(shape, dtype=np.float64, buffer=base, strides=(0,) * len(shape))


def _negative(x):
    """-x; one number broadcast to a shape (a zero-stride view, as the cotangent of a sum
    is) stays a view instead of becoming a full array."""
    if isinstance(x, np.ndarray) and x.ndim and not any(x.strides):
        return _broadcast_number(-x[(0,) * x.ndim], x.shape)
    return np.negative(x)


negative = _prim(_negative, "negative")
exp = _prim(np.exp)
log = _prim(np.log)
log1p = _prim(np.log1p)
expm1 = _prim(np.expm1)
sqrt = _prim(np.sqrt)
# the square root of a quantity that is >= 0 and differentiable, so 0 only at a minimum
# (a sum of squares: norms, standard deviations); its rule gives derivative 0 there
sqrt_of_sum_of_squares = _prim(np.sqrt, "sqrt")
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
arccosh = _prim(np.arccosh)
arctanh = _prim(np.arctanh)
square = _prim(np.square)
reciprocal = _prim(lambda x: np.true_divide(1.0, x), "reciprocal")  # 1/0.0: inf, as numpy
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
remainder = _prim(np.remainder)   # x - floor(x / y) y (numpy's mod, Python's %)
fmod = _prim(np.fmod)             # x - trunc(x / y) y (C's fmod)
floor_divide = NonDifferentiable(np.floor_divide)  # piecewise constant, like floor


def divmod(x, y):  # noqa: A001 - numpy's name
    """(x // y, x % y), as numpy.divmod."""
    return floor_divide(x, y), remainder(x, y)


def _size(x) -> int:
    if isinstance(x, np.ndarray):
        return x.size
    return 1 if isinstance(x, (int, float)) else np.size(x)


_SMALL = 8192   # below this many elements numpy/scipy's own loops have less call overhead
_BLOCK = 16384  # elements per block of the blockwise kernels: their scratch stays in cache


def _by_blocks(kernel, n_scratch: int, *args):
    """Run ``kernel(out, inputs, scratch)`` over cache-sized blocks and return ``out``.

    Memory-bound chains of ufuncs (exp, log1p, ...) over large arrays cost mostly memory
    traffic and the allocation of full-size temporaries; done block by block, every
    intermediate stays in cache and the only large allocation is the result. Each input
    is a number or a C-contiguous array of the common shape; otherwise None is returned and
    the caller uses whole-array operations.
    """
    arrays = [np.asarray(a, dtype=np.float64) for a in args]
    shape = max((a.shape for a in arrays), key=len)
    if any(a.ndim and (a.shape != shape or not a.flags.c_contiguous) for a in arrays):
        return None
    out = np.empty(shape)
    flat_out = out.reshape(-1)
    flats = [a.reshape(-1) if a.ndim else a for a in arrays]
    n = flat_out.size
    scratch = [np.empty(min(_BLOCK, n)) for _ in range(n_scratch)]
    for begin in range(0, n, _BLOCK):
        end = min(begin + _BLOCK, n)
        kernel(flat_out[begin:end], [f[begin:end] if f.ndim else f for f in flats],
               [w[:end - begin] for w in scratch])
    return out


def _logaddexp_block(out, inputs, scratch):
    """out = max(x, y) + log1p(exp(-|x - y|))"""
    x, y = inputs
    gap = scratch[0]
    np.subtract(x, y, out=gap)
    np.maximum(x, y, out=out)
    np.abs(gap, out=gap)
    np.negative(gap, out=gap)
    np.exp(gap, out=gap)
    np.log1p(gap, out=gap)
    np.add(out, gap, out=out)


def _logaddexp(x, y):
    """log(exp(x) + exp(y)) = max(x, y) + log1p(exp(-|x - y|)): exact to rounding and about
    four times as fast as numpy.logaddexp on large arrays (the hot path of every GLM)."""
    if _size(x) < _SMALL and _size(y) < _SMALL:
        return np.logaddexp(x, y)
    with np.errstate(invalid="ignore"):
        out = _by_blocks(_logaddexp_block, 1, x, y)
        if out is None:
            return np.logaddexp(x, y)
    if np.isnan(np.add.reduce(out, axis=None)):
        # equal infinities give inf - inf = nan above: the answer is that infinity (and a
        # nan input stays nan)
        nan = np.isnan(out)
        out[nan] = np.broadcast_to(np.maximum(x, y), out.shape)[nan]
    return out


def _log_expit_block(out, inputs, scratch):
    """out = min(x, 0) - log1p(exp(-|x|))"""
    (x,) = inputs
    np.abs(x, out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    np.subtract(np.minimum(x, 0.0, out=scratch[0]), out, out=out)


def _log_expit(x):
    """log(expit(x)) = min(x, 0) - log1p(exp(-|x|)): exact to rounding, faster than
    scipy.special.log_expit on large arrays (the Logit log-likelihood)."""
    if _size(x) < _SMALL:
        return sps.log_expit(x)
    out = _by_blocks(_log_expit_block, 1, x)
    return sps.log_expit(x) if out is None else out


logaddexp = _prim(_logaddexp, "logaddexp")


def _weight_block(out, inputs, scratch):
    """out = exp(x - o)"""
    x, o = inputs
    np.subtract(x, o, out=out)
    np.exp(out, out=out)


def _logaddexp_weight(x, y, out):
    """d/dx logaddexp(x, y) = expit(x - y), evaluated as exp(x - out) with the already
    computed out = logaddexp(x, y) (a value only: its rules treat out as known)."""
    if _size(x) >= _SMALL or _size(out) >= _SMALL:
        w = _by_blocks(_weight_block, 0, x, out)
        if w is not None:
            return w
    return np.exp(np.subtract(x, out))


logaddexp_weight = _prim(_logaddexp_weight, "logaddexp_weight")
maximum = _prim(np.maximum)
minimum = _prim(np.minimum)
arctan2 = _prim(np.arctan2)
where = _prim(lambda condition, x, y: np.where(condition, x, y), "where")

# --- reductions -----------------------------------------------------------------------
def _sum(a, axis=None, keepdims=False):
    """np.sum; a sum over a short last axis of a large float array as a product with ones
    (numpy's reduction over a short inner axis is several times slower than BLAS)."""
    if (type(a) is np.ndarray and a.dtype == np.float64 and a.ndim >= 2
            and a.size >= _SMALL and a.shape[-1] <= 64 and axis is not None
            and tuple(np.atleast_1d(axis) % a.ndim) == (a.ndim - 1,)):
        out = a @ np.ones(a.shape[-1])
        return out[..., None] if keepdims else out
    return np.sum(a, axis=axis, keepdims=keepdims)


sum = _prim(_sum, "sum")  # noqa: A001
prod = _prim(np.prod)
amax = _prim(np.amax, "max")
amin = _prim(np.amin, "min")
cumsum = _prim(np.cumsum)

# --- shape ------------------------------------------------------------------------------
reshape = _prim(lambda x, shape, order="C": np.reshape(x, shape, order=order), "reshape")
transpose = _prim(lambda x, axes=None: np.transpose(x, axes), "transpose")
def _broadcast_to(x, shape):
    if type(x) is float or (type(x) is np.ndarray and x.ndim == 0 and x.dtype == np.float64):
        return _broadcast_number(x, tuple(shape))  # the cotangent of a sum: fast path
    return np.broadcast_to(x, shape)


broadcast_to = _prim(_broadcast_to, "broadcast_to")
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
    "arcsinh": arcsinh, "arccosh": arccosh, "arctanh": arctanh, "square": square, "add": add,
    "subtract": subtract, "multiply": multiply, "divide": true_divide,
    "true_divide": true_divide, "power": power, "logaddexp": logaddexp,
    "remainder": remainder, "fmod": fmod, "floor_divide": floor_divide, "divmod": divmod,
    "maximum": maximum, "minimum": minimum, "arctan2": arctan2, "matmul": matmul,
    "reciprocal": reciprocal, "sign": sign, "floor": floor, "ceil": ceil,
    "less": NonDifferentiable(np.less), "less_equal": NonDifferentiable(np.less_equal),
    "greater": NonDifferentiable(np.greater),
    "greater_equal": NonDifferentiable(np.greater_equal),
    "equal": NonDifferentiable(np.equal), "not_equal": NonDifferentiable(np.not_equal),
    "isfinite": NonDifferentiable(np.isfinite), "isnan": NonDifferentiable(np.isnan),
    "isinf": NonDifferentiable(np.isinf),
}

register_namespace("primitives", sys.modules[__name__])  # the operators of traced values
