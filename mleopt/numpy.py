"""A differentiable numpy namespace: ``import mleopt.numpy as np``.

Array creation and constants pass through to numpy; the mathematical functions are the
primitives of mleopt.ad (or compositions of them), so code written with them can be
differentiated by mleopt.ad in reverse and forward mode, to any order.

Piecewise-constant functions (comparisons, isfinite / isnan / isinf, allclose, isclose,
array_equal, any, all, argmax, floor, ceil, round, sign, floor_divide) work on the values of
traced arguments and return plain numpy results: booleans for control flow and ``where``,
constants (derivative 0) in arithmetic. Differentiating a function whose result is boolean
raises a TypeError. ``mod`` / ``remainder`` (``x % y``) and ``fmod`` have d/dx = 1 and
d/dy = -floor(x / y) (-trunc(x / y) for fmod) away from their jumps. Complex numbers are
not supported: every function raises mleopt.ad.ComplexNumberError (a TypeError) on one.
"""
# Helpers are imported under private names (and there is no `from __future__ import
# annotations`) so that dir(mleopt.numpy) and tab completion show only numpy's names.
import builtins as _builtins
import sys as _sys
from types import SimpleNamespace as _SimpleNamespace

import numpy as _np
from numpy import (  # noqa: F401  (creation functions and constants pass through)
    arange, c_, empty, e, eye, finfo, float32, float64, full, identity, inf, int32, int64,
    isfinite, isinf, isnan, linspace, nan, ndarray, newaxis, ones, pi, r_, random,
    tril_indices, triu_indices, zeros, unique, bool_, meshgrid, tri, tril, triu,
)

from .ad import primitives as _p
from .ad.core import Traced as _Traced
from .ad.core import _value_of
from .ad.core import register_namespace as _register_namespace


def _constant(fun):
    """A numpy function whose result carries no derivative (shapes, indices, booleans,
    arrays built only from a shape): traced arguments are read through their values."""
    def wrapper(*args, **kwargs):
        return fun(*[_value_of(a) for a in args],
                   **{k: _value_of(v) for k, v in kwargs.items()})
    wrapper.__name__ = fun.__name__
    wrapper.__doc__ = fun.__doc__
    wrapper.__wrapped__ = fun
    return wrapper


shape = _constant(_np.shape)
ndim = _constant(_np.ndim)
size = _constant(_np.size)
argmax = _constant(_np.argmax)
argmin = _constant(_np.argmin)
argsort = _constant(_np.argsort)
searchsorted = _constant(_np.searchsorted)
nonzero = _constant(_np.nonzero)
count_nonzero = _constant(_np.count_nonzero)
any = _constant(_np.any)  # noqa: A001
all = _constant(_np.all)  # noqa: A001
allclose = _constant(_np.allclose)
isclose = _constant(_np.isclose)
array_equal = _constant(_np.array_equal)
zeros_like = _constant(_np.zeros_like)
ones_like = _constant(_np.ones_like)


def full_like(a, fill_value, dtype=None):
    """numpy.full_like; a traced fill value keeps its derivative (it is broadcast)."""
    if isinstance(fill_value, _Traced):
        return broadcast_to(fill_value, _np.shape(_value_of(a)))
    return _np.full_like(_value_of(a), fill_value, dtype=dtype)


empty_like = _constant(_np.empty_like)

# --- elementwise ----------------------------------------------------------------------
negative = _p.negative
exp = _p.exp
log = _p.log
log1p = _p.log1p
expm1 = _p.expm1
sqrt = _p.sqrt
square = _p.square
absolute = abs = _p.absolute  # noqa: A001
sign = _p.sign
floor = _p.floor
ceil = _p.ceil
round = _p.round  # noqa: A001
sin = _p.sin
cos = _p.cos
tan = _p.tan
tanh = _p.tanh
sinh = _p.sinh
cosh = _p.cosh
arctan = _p.arctan
arcsin = _p.arcsin
arccos = _p.arccos
arcsinh = _p.arcsinh
arctanh = _p.arctanh
arctan2 = _p.arctan2
reciprocal = _p.reciprocal
add = _p.add
subtract = _p.subtract
multiply = _p.multiply
divide = true_divide = _p.true_divide
power = _p.power
mod = remainder = _p.remainder
fmod = _p.fmod
floor_divide = _p.floor_divide
divmod = _p.divmod  # noqa: A001
logaddexp = _p.logaddexp
maximum = _p.maximum
minimum = _p.minimum
matmul = _p.matmul
less = _p.UFUNCS["less"]
less_equal = _p.UFUNCS["less_equal"]
greater = _p.UFUNCS["greater"]
greater_equal = _p.UFUNCS["greater_equal"]
equal = _p.UFUNCS["equal"]
not_equal = _p.UFUNCS["not_equal"]


def log2(x):
    return _p.true_divide(_p.log(x), _np.log(2.0))


def log10(x):
    return _p.true_divide(_p.log(x), _np.log(10.0))


def where(condition, x=None, y=None):
    """Elementwise choice; derivatives flow to x where condition holds, to y elsewhere."""
    if x is None and y is None:
        return _np.where(_value_of(condition))
    return _p.where(_value_of(condition), x, y)


def clip(a, a_min=None, a_max=None):
    if a_min is not None:
        a = _p.maximum(a, a_min)
    if a_max is not None:
        a = _p.minimum(a, a_max)
    return a


def array(obj, dtype=None, copy=True, ndmin=0):
    """numpy.array, and for sequences holding traced values, a differentiable stack."""
    if isinstance(obj, _Traced):
        return obj
    if isinstance(obj, (list, tuple)) and _contains_traced(obj):
        return stack([array(item) for item in obj])
    return _np.array(obj, dtype=dtype, copy=copy, ndmin=ndmin)


def asarray(obj, dtype=None):
    if isinstance(obj, _Traced) or (isinstance(obj, (list, tuple)) and _contains_traced(obj)):
        return array(obj)
    return _np.asarray(obj, dtype=dtype)


def _contains_traced(seq) -> bool:
    return _builtins.any(isinstance(item, _Traced) or
                        (isinstance(item, (list, tuple)) and _contains_traced(item))
                        for item in seq)


# --- reductions -----------------------------------------------------------------------
def sum(a, axis=None, keepdims=False):  # noqa: A001
    return _p.sum(a, axis=axis, keepdims=keepdims)


def prod(a, axis=None, keepdims=False):
    return _p.prod(a, axis=axis, keepdims=keepdims)


def max(a, axis=None, keepdims=False):  # noqa: A001
    return _p.amax(a, axis=axis, keepdims=keepdims)


def min(a, axis=None, keepdims=False):  # noqa: A001
    return _p.amin(a, axis=axis, keepdims=keepdims)


amax, amin = max, min


def _count(a, axis) -> int:
    shp = _np.shape(_value_of(a))
    if axis is None:
        return int(_np.prod(shp))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return int(_np.prod([shp[ax] for ax in axes]))


def mean(a, axis=None, keepdims=False):
    return _p.true_divide(_p.sum(a, axis=axis, keepdims=keepdims), float(_count(a, axis)))


def var(a, axis=None, ddof=0, keepdims=False):
    centred = _p.subtract(a, mean(a, axis=axis, keepdims=True))
    total = _p.sum(_p.square(centred), axis=axis, keepdims=keepdims)
    return _p.true_divide(total, float(_count(a, axis) - ddof))


def std(a, axis=None, ddof=0, keepdims=False):
    """sqrt(var(a)). Where the standard deviation is 0 (all values equal, or an axis of
    length 1) its derivative is taken as 0: exact for a single value (std is identically
    0), the subgradient at the kink otherwise (as abs' = sign(x) is 0 at 0)."""
    return _p.sqrt_of_sum_of_squares(var(a, axis=axis, ddof=ddof, keepdims=keepdims))


def cumsum(a, axis=None):
    return _p.cumsum(a, axis=axis)


# --- shape ------------------------------------------------------------------------------
def reshape(a, newshape, order="C"):
    newshape = (newshape,) if isinstance(newshape, (int, _np.integer)) else tuple(newshape)
    if order == "F":
        return transpose(_p.reshape(transpose(a), newshape[::-1]))
    if order != "C":
        raise ValueError(f"reshape supports order 'C' and 'F', not {order!r}.")
    return _p.reshape(a, newshape)


def transpose(a, axes=None):
    return _p.transpose(a, None if axes is None else tuple(axes))


def swapaxes(a, axis1, axis2):
    axes = list(range(_np.ndim(_value_of(a))))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return _p.transpose(a, tuple(axes))


def moveaxis(a, source, destination):
    nd = _np.ndim(_value_of(a))
    order = [ax for ax in range(nd) if ax != source % nd]
    order.insert(destination % nd, source % nd)
    return _p.transpose(a, tuple(order))


def ravel(a):
    return _p.reshape(a, (-1,))


def expand_dims(a, axis):
    shp = list(_np.shape(_value_of(a)))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    nd = len(shp) + len(axes)
    for ax in sorted(ax % nd for ax in axes):
        shp.insert(ax, 1)
    return _p.reshape(a, tuple(shp))


def squeeze(a, axis=None):
    shp = _np.shape(_value_of(a))
    if axis is None:
        keep = [n for n in shp if n != 1]
    else:
        axes = {ax % len(shp) for ax in (axis if isinstance(axis, (tuple, list)) else (axis,))}
        for ax in axes:
            if shp[ax] != 1:
                raise ValueError(f"cannot squeeze axis {ax} of size {shp[ax]}.")
        keep = [n for i, n in enumerate(shp) if i not in axes]
    return _p.reshape(a, tuple(keep))


def broadcast_to(a, shape):
    return _p.broadcast_to(a, tuple(shape) if not isinstance(shape, int) else (shape,))


def atleast_1d(a):
    return reshape(a, (1,)) if _np.ndim(_value_of(a)) == 0 else a


def atleast_2d(a):
    nd = _np.ndim(_value_of(a))
    return reshape(a, (1,) * (2 - nd) + _np.shape(_value_of(a))) if nd < 2 else a


def concatenate(arrays, axis=0):
    arrays = [atleast_1d(x) if _np.ndim(_value_of(x)) == 0 and axis is None else x
              for x in arrays]
    if axis is None:
        return _p.concatenate_args(0, *[ravel(x) for x in arrays])
    return _p.concatenate_args(axis, *arrays)


def stack(arrays, axis=0):
    arrays = list(arrays)
    if not arrays:
        raise ValueError("need at least one array to stack.")
    return concatenate([expand_dims(x, axis) for x in arrays], axis=axis)


def hstack(arrays):
    arrays = [atleast_1d(x) for x in arrays]
    return concatenate(arrays, axis=0 if _np.ndim(_value_of(arrays[0])) == 1 else 1)


def vstack(arrays):
    return concatenate([atleast_2d(x) for x in arrays], axis=0)


def column_stack(arrays):
    cols = [reshape(x, (-1, 1)) if _np.ndim(_value_of(x)) < 2 else x for x in arrays]
    return concatenate(cols, axis=1)


def append(arr, values, axis=None):
    if axis is None:
        return concatenate([ravel(arr), ravel(values)])
    return concatenate([arr, values], axis=axis)


# --- products ------------------------------------------------------------------------------
def dot(a, b):
    """numpy.dot: matrix product for 1-D and 2-D arrays, sum over last/second-last axes."""
    nda, ndb = _np.ndim(_value_of(a)), _np.ndim(_value_of(b))
    if nda == 0 or ndb == 0:
        return _p.multiply(a, b)
    if nda <= 2 and ndb <= 2:
        return _p.matmul(a, b)
    return tensordot(a, b, axes=([-1], [-2 if ndb > 1 else -1]))


def tensordot(a, b, axes=2):
    """Contract axes of a with axes of b (transpose, reshape and one matrix product)."""
    sa, sb = _np.shape(_value_of(a)), _np.shape(_value_of(b))
    if isinstance(axes, (int, _np.integer)):
        axes_a = list(range(len(sa) - axes, len(sa)))
        axes_b = list(range(axes))
    else:
        axes_a, axes_b = axes
        axes_a = [axes_a] if isinstance(axes_a, (int, _np.integer)) else list(axes_a)
        axes_b = [axes_b] if isinstance(axes_b, (int, _np.integer)) else list(axes_b)
    axes_a = [ax % len(sa) for ax in axes_a]
    axes_b = [ax % len(sb) for ax in axes_b]
    free_a = [ax for ax in range(len(sa)) if ax not in axes_a]
    free_b = [ax for ax in range(len(sb)) if ax not in axes_b]
    n_contract = int(_np.prod([sa[ax] for ax in axes_a]))
    a2 = reshape(transpose(a, free_a + axes_a), (-1, n_contract))
    b2 = reshape(transpose(b, axes_b + free_b), (n_contract, -1))
    out_shape = tuple(sa[ax] for ax in free_a) + tuple(sb[ax] for ax in free_b)
    return reshape(_p.matmul(a2, b2), out_shape)


def inner(a, b):
    if _np.ndim(_value_of(a)) == 0 or _np.ndim(_value_of(b)) == 0:
        return _p.multiply(a, b)
    return tensordot(a, b, axes=([-1], [-1]))


def outer(a, b):
    return _p.multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def vdot(a, b):
    return _p.sum(_p.multiply(ravel(a), ravel(b)))


def diag(v, k=0):
    if k != 0:
        raise NotImplementedError("mleopt.numpy.diag supports only the main diagonal (k=0).")
    return _p.diag(v)


def diagonal(a):
    return _p.diag(a)


def trace(a):
    if _np.ndim(_value_of(a)) != 2:
        raise NotImplementedError("mleopt.numpy.trace supports 2-D arrays.")
    return _p.sum(_p.diag(a))


def einsum(subscripts, *operands):
    """numpy.einsum (explicit or implicit output, with ellipsis), differentiable."""
    from .ad.einsum import einsum as _einsum
    return _einsum(subscripts, *operands)


# --- linear algebra: the namespace lives in mleopt/_linalg.py ------------------------------
from ._linalg import linalg  # noqa: E402

# The engine calls this namespace for the array methods of traced values (x.mean(), ...) and
# for numpy functions called on them (__array_function__); it does not import it.
_register_namespace("numpy", _sys.modules[__name__])
