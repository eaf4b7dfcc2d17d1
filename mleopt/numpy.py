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

Functions that only move, repeat or drop elements (sort, take, roll, flip, pad, split, tile,
diagonal, ...) are one gather (``_gathered``): numpy's own function applied to the positions
of the elements says where each result element comes from. Order statistics (median,
quantile, percentile) interpolate between two sorted elements as numpy's 'linear' method.
Lists and tuples holding traced values are stacked wherever numpy takes an array (the
primitives do it). Every other numpy name passes through unchanged: it works on plain
arrays and raises a TraceError on a traced value.
"""
# Helpers are imported under private names (and there is no `from __future__ import
# annotations`) so that dir(mleopt.numpy) and tab completion show only numpy's names.
import builtins as _builtins
import sys as _sys
from types import SimpleNamespace as _SimpleNamespace

import numpy as _np
from numpy import (  # noqa: F401  (creation functions and constants pass through)
    arange, empty, e, eye, finfo, float32, float64, full, identity, inf, int32, int64,
    isfinite, isinf, isnan, nan, ndarray, newaxis, ones, pi, random,
    tril_indices, triu_indices, zeros, unique, bool_, meshgrid, tri,
)


from numpy.lib.array_utils import normalize_axis_tuple as _normalize_axes_in_order

from .ad import primitives as _p
from .ad.core import Traced as _Traced
from .ad.core import _value_of as _strip
from .ad.core import register_namespace as _register_namespace
from .ad.rules import normalize_axes as _normalize_axes, normalize_axis as _normalize_axis


def _value_of(x):
    """The plain value of x (for shapes and indices); a list or tuple of traced values
    becomes the list of their values (numpy's array_like)."""
    if (type(x) is list or type(x) is tuple) and _contains_traced(x):
        return type(x)(_value_of(item) for item in x)
    return _strip(x)


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


def full(shape, fill_value, dtype=None, order="C"):
    """numpy.full; a traced fill value keeps its derivative (it is broadcast)."""
    if _traced(fill_value):
        if dtype is not None and not _np.issubdtype(_np.dtype(dtype), _np.floating):
            raise TypeError(f"full(dtype={_np.dtype(dtype)}) of a traced fill value would "
                            "drop its derivative; use a floating dtype.")
        return broadcast_to(fill_value, (shape,) if isinstance(shape, int) else tuple(shape))
    return _np.full(shape, fill_value, dtype=dtype, order=order)

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
    source = _normalize_axes_in_order(source, nd, "source")
    destination = _normalize_axes_in_order(destination, nd, "destination")
    if len(source) != len(destination):
        raise ValueError("`source` and `destination` arguments must have the same number "
                         "of elements")
    order = [ax for ax in range(nd) if ax not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return _p.transpose(a, tuple(order))


def ravel(a):
    return _p.reshape(a, (-1,))


def expand_dims(a, axis):
    shp = list(_np.shape(_value_of(a)))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    nd = len(shp) + len(axes)
    for ax in _normalize_axes(axes, nd):
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


def _each(fun):
    """numpy's atleast_*d style: one array gives one result, several give a tuple."""
    def wrapper(*arys):
        out = tuple(fun(asarray(a)) for a in arys)
        return out[0] if len(out) == 1 else out
    wrapper.__name__ = fun.__name__
    wrapper.__doc__ = fun.__doc__
    return wrapper


@_each
def atleast_1d(a):
    """a with at least one axis (a number becomes shape (1,))."""
    return reshape(a, (1,)) if _np.ndim(_value_of(a)) == 0 else a


@_each
def atleast_2d(a):
    """a with at least two axes, new axes in front: (N,) -> (1, N)."""
    nd = _np.ndim(_value_of(a))
    return reshape(a, (1,) * (2 - nd) + _np.shape(_value_of(a))) if nd < 2 else a


@_each
def atleast_3d(a):
    """a with at least three axes, as numpy: () -> (1, 1, 1), (N,) -> (1, N, 1),
    (M, N) -> (M, N, 1)."""
    shp = _np.shape(_value_of(a))
    new = {0: (1, 1, 1), 1: (1,) + shp + (1,), 2: shp + (1,)}.get(len(shp))
    return a if new is None else reshape(a, new)


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
    """The k-th diagonal of a matrix, or a matrix with the vector v on its k-th diagonal."""
    nd = _np.ndim(_value_of(v))
    if nd not in (1, 2):
        raise ValueError(f"diag: input must be 1-D or 2-D, not {nd}-D.")
    if not _traced(v):
        return _np.diag(v, k)
    if k == 0:
        return _p.diag(v)
    if nd == 2:
        return diagonal(v, offset=k)
    # the positions 1..n on the k-th diagonal, 0 elsewhere: a gather with 0 as filling
    return _gathered(v, lambda pos: _np.diag(pos + 1, k) - 1, fill=0.0)


def diagflat(v, k=0):
    """numpy.diagflat: diag of the flattened input."""
    return diag(ravel(v), k)


def diagonal(a, offset=0, axis1=0, axis2=1):
    """numpy.diagonal (a gather: exact derivatives to every order)."""
    if offset == 0 and axis1 == 0 and axis2 == 1 and _np.ndim(_value_of(a)) == 2:
        return _p.diag(a)
    return _gathered(a, lambda pos: _np.diagonal(pos, offset, axis1, axis2))


def trace(a, offset=0, axis1=0, axis2=1):
    """numpy.trace: the sum of diagonal(a, offset, axis1, axis2) along its last axis."""
    return _p.sum(diagonal(a, offset, axis1, axis2), axis=-1)


def einsum(*operands):
    """numpy.einsum, differentiable: the subscripts form ``einsum('ij,jk->ik', a, b)``
    (explicit or implicit output, with ellipsis) and the interleaved form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])``."""
    from .ad.einsum import einsum as _einsum
    return _einsum(*operands)


# --- rearranging elements: one gather ------------------------------------------------------
def _traced(a) -> bool:
    return isinstance(a, _Traced) or (isinstance(a, (list, tuple)) and _contains_traced(a))


def _gathered(a, arrange, fill=None):
    """``arrange(a)`` for a function that only moves, repeats or drops elements.

    On a plain array numpy's own function is called. On a traced one, ``arrange`` is applied
    to the positions 0..size-1 (an integer array of a's shape), which says where every
    element of the result comes from, and the result gathers them from the flattened a:
    getitem and its adjoint give exact derivatives, in both modes, to every order.
    ``arrange`` may return a list of position arrays (split). With ``fill``, a position -1
    stands for the constant ``fill`` (pad, diag off the main diagonal); the gather then also
    serves plain arrays.
    """
    if fill is None and not _traced(a):
        return arrange(_np.asarray(a))
    a = asarray(a)
    flat = ravel(a)
    positions = arrange(_np.arange(_np.size(_value_of(a))).reshape(_np.shape(_value_of(a))))
    if fill is not None:
        flat = concatenate([flat, _np.full(1, float(fill))])
        positions = _np.where(_np.asarray(positions) < 0, _np.size(_value_of(a)), positions)
    if isinstance(positions, list):
        return [_p.getitem(flat, pos) for pos in positions]
    return _p.getitem(flat, _np.asarray(positions))


def _axis_of(a, axis):
    """The flattened array and axis 0 for axis=None (numpy's convention), else a, axis."""
    return (ravel(a), 0) if axis is None else (a, axis)


def sort(a, axis=-1, kind=None, order=None):
    """numpy.sort; the derivative moves with the elements (at ties, numpy's stable order)."""
    if order is not None:
        raise ValueError("sort: order= (fields of structured arrays) is not supported.")
    a, axis = _axis_of(asarray(a), axis)
    ranks = _np.argsort(_value_of(a), axis=axis, kind="stable")
    return take_along_axis(a, ranks, axis)


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """numpy.partition, differentiable: the derivative moves with the elements."""
    if order is not None:
        raise ValueError("partition: order= (fields of structured arrays) is not supported.")
    a, axis = _axis_of(asarray(a), axis)
    return take_along_axis(a, _np.argpartition(_value_of(a), kth, axis=axis), axis)


def take(a, indices, axis=None, mode="raise"):
    """numpy.take (modes 'raise', 'wrap', 'clip'), differentiable in a."""
    return _gathered(a, lambda pos: _np.take(pos, _value_of(indices), axis=axis, mode=mode))


def take_along_axis(arr, indices, axis):
    """numpy.take_along_axis, differentiable in arr."""
    return _gathered(arr, lambda pos: _np.take_along_axis(pos, _value_of(indices), axis))


def repeat(a, repeats, axis=None):
    return _gathered(a, lambda pos: _np.repeat(pos, repeats, axis=axis))


def tile(A, reps):  # noqa: N803 - numpy's name
    return _gathered(A, lambda pos: _np.tile(pos, reps))


def roll(a, shift, axis=None):
    return _gathered(a, lambda pos: _np.roll(pos, shift, axis=axis))


def flip(m, axis=None):
    return _gathered(m, lambda pos: _np.flip(pos, axis=axis))


def fliplr(m):
    return _gathered(m, _np.fliplr)


def flipud(m):
    return _gathered(m, _np.flipud)


def rot90(m, k=1, axes=(0, 1)):
    return _gathered(m, lambda pos: _np.rot90(pos, k, axes))


def rollaxis(a, axis, start=0):
    return _gathered(a, lambda pos: _np.rollaxis(pos, axis, start))


def resize(a, new_shape):
    return _gathered(a, lambda pos: _np.resize(pos, new_shape))


def delete(arr, obj, axis=None):
    return _gathered(arr, lambda pos: _np.delete(pos, obj, axis=axis))


def compress(condition, a, axis=None):
    return _gathered(a, lambda pos: _np.compress(_value_of(condition), pos, axis=axis))


def extract(condition, arr):
    return _gathered(arr, lambda pos: _np.extract(_value_of(condition), pos))


def split(ary, indices_or_sections, axis=0):
    """numpy.split: a list of gathers (each part keeps its derivative)."""
    return _gathered(ary, lambda pos: _np.split(pos, indices_or_sections, axis=axis))


def array_split(ary, indices_or_sections, axis=0):
    return _gathered(ary, lambda pos: _np.array_split(pos, indices_or_sections, axis=axis))


def hsplit(ary, indices_or_sections):
    return _gathered(ary, lambda pos: _np.hsplit(pos, indices_or_sections))


def vsplit(ary, indices_or_sections):
    return _gathered(ary, lambda pos: _np.vsplit(pos, indices_or_sections))


def dsplit(ary, indices_or_sections):
    return _gathered(ary, lambda pos: _np.dsplit(pos, indices_or_sections))


def unstack(x, axis=0):
    """numpy.unstack: the slices along axis, as a tuple."""
    return tuple(_gathered(x, lambda pos: list(_np.unstack(pos, axis=axis))))


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad(array, pad_width, mode="constant", **kwargs):
    """numpy.pad; on traced values the modes constant, edge, reflect, symmetric and wrap
    (gathers of the input, exact derivatives); other modes are refused by name."""
    if not _traced(array) and not _traced(kwargs.get("constant_values")):
        return _np.pad(array, pad_width, mode, **kwargs)
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"pad(mode={mode!r}) of a traced value is not supported; "
                                  f"the differentiable modes are {', '.join(_PAD_MODES)}.")
    if kwargs.get("reflect_type", "even") != "even":
        # odd reflection is arithmetic (2 edge - mirror), not a gather of the input: numpy.pad
        # applied to positions would give wrong (or out of range) positions
        raise NotImplementedError(f"pad(reflect_type={kwargs['reflect_type']!r}) of a traced "
                                  "value is not supported; the default 'even' is.")
    if mode != "constant":
        return _gathered(array, lambda pos: _np.pad(pos, pad_width, mode, **kwargs))
    unknown = set(kwargs) - {"constant_values"}
    if unknown:
        raise TypeError(f"pad(mode='constant') got unexpected keyword(s) {sorted(unknown)}; "
                        "it takes constant_values.")
    values = kwargs.get("constant_values", 0)
    if _traced(values):
        if _np.ndim(_value_of(values)) != 0:
            raise NotImplementedError("pad: a traced constant_values must be one number.")
        inside = _np.pad(_np.ones(_np.shape(_value_of(array)), dtype=bool), pad_width)
        return where(inside, _gathered(array, lambda pos: _np.pad(pos, pad_width,
                                                                  constant_values=-1),
                                       fill=0.0), values)
    body = _gathered(array, lambda pos: _np.pad(pos, pad_width, constant_values=-1), fill=0.0)
    border = _np.pad(_np.zeros(_np.shape(_value_of(array))), pad_width,
                     constant_values=values)
    return _p.add(body, border) if _np.any(border) else body


# --- shapes, triangles, grids ------------------------------------------------------------------
def tril(m, k=0):
    """The lower triangle of (a stack of) matrices: m where j <= i + k, 0 elsewhere."""
    if not _traced(m):
        return _np.tril(m, k)
    shp = _np.shape(_value_of(m))
    return _p.where(_np.tri(*shp[-2:], k=k, dtype=bool), m, 0.0)


def triu(m, k=0):
    """The upper triangle of (a stack of) matrices: m where j >= i + k, 0 elsewhere."""
    if not _traced(m):
        return _np.triu(m, k)
    shp = _np.shape(_value_of(m))
    return _p.where(_np.tri(*shp[-2:], k=k - 1, dtype=bool), 0.0, m)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """numpy.linspace, differentiable in start and stop:
    start + i * step with step = (stop - start) / (num - 1) (num when endpoint=False), and
    the last point exactly stop when endpoint=True."""
    if not (_traced(start) or _traced(stop)):
        return _np.linspace(start, stop, num, endpoint, retstep, dtype, axis)
    if dtype is not None and not _np.issubdtype(_np.dtype(dtype), _np.floating):
        raise TypeError(f"linspace(dtype={_np.dtype(dtype)}) of traced end points would drop "
                        "their derivative; use a floating dtype.")
    num = int(num)
    if num < 0:
        raise ValueError(f"linspace: number of samples, {num}, must be non-negative.")
    start, stop = asarray(start), asarray(stop)
    div = (num - 1) if endpoint else num
    shp = _np.broadcast_shapes(_np.shape(_value_of(start)), _np.shape(_value_of(stop)))
    steps = _np.arange(num, dtype=float).reshape((num,) + (1,) * len(shp))
    delta = _p.subtract(stop, start)
    step = _p.true_divide(delta, float(div)) if div > 0 else _np.nan * delta
    y = _p.add(_p.multiply(steps, step if div > 0 else 0.0), start)
    if endpoint and num > 1:
        last = _np.arange(num).reshape(steps.shape) == num - 1
        y = _p.where(last, broadcast_to(stop, _np.shape(_value_of(y))[1:]), y)
    y = moveaxis(y, 0, axis) if axis != 0 else y
    return (y, step) if retstep else y


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """numpy.logspace: base ** linspace(start, stop), differentiable in start, stop, base."""
    if not (_traced(start) or _traced(stop) or _traced(base)):
        return _np.logspace(start, stop, num, endpoint, base, dtype, axis)
    return _p.power(base, linspace(start, stop, num, endpoint, dtype=dtype, axis=axis))


class _Concatenator:
    """numpy's r_ / c_ (index-style concatenation). Pieces that are traced are joined by
    the differentiable concatenate; slices give plain ranges as in numpy."""

    def __init__(self, plain, columns: bool):
        self._plain = plain
        self._columns = columns

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        if not _builtins.any(_traced(item) for item in items):
            return self._plain[key]
        name = "c_" if self._columns else "r_"
        if _builtins.any(isinstance(item, str) for item in items):
            raise NotImplementedError(f"{name}['...', ...] with a directive string and traced "
                                      "pieces is not supported; use concatenate / stack.")
        pieces = [self._plain[item] if isinstance(item, slice) else asarray(item)
                  for item in items]
        if not self._columns:
            return concatenate([atleast_1d(x) for x in pieces], axis=0)
        return concatenate([x if _np.ndim(_value_of(x)) >= 2 else reshape(x, (-1, 1))
                            for x in pieces], axis=-1)

    def __len__(self) -> int:
        return 0


r_ = _Concatenator(_np.r_, columns=False)
c_ = _Concatenator(_np.c_, columns=True)


def dstack(tup):
    return concatenate([atleast_3d(x) for x in tup], axis=2)


row_stack = vstack
concat = concatenate


def broadcast_arrays(*args):
    shp = _np.broadcast_shapes(*[_np.shape(_value_of(a)) for a in args])
    return tuple(broadcast_to(a, shp) for a in args)


def permute_dims(a, axes=None):
    return transpose(a, axes)


def matrix_transpose(x):
    return swapaxes(x, -1, -2)


def kron(a, b):
    """numpy.kron: out[i*nb + k, ...] = a[i, ...] b[k, ...], as one broadcast product with
    the axes of a and b interleaved."""
    a, b = asarray(a), asarray(b)
    sa, sb = _np.shape(_value_of(a)), _np.shape(_value_of(b))
    nd = _builtins.max(len(sa), len(sb))
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    a2 = reshape(a, tuple(x for n in sa for x in (n, 1)))
    b2 = reshape(b, tuple(x for n in sb for x in (1, n)))
    return reshape(_p.multiply(a2, b2), tuple(m * n for m, n in zip(sa, sb)))


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """numpy.cross of 3-vectors (a 2-vector counts as z = 0; two 2-vectors give the z
    component only, as numpy)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(asarray(a), axisa, -1), moveaxis(asarray(b), axisb, -1)
    na, nb = _np.shape(_value_of(a))[-1], _np.shape(_value_of(b))[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("cross: incompatible dimensions for cross product "
                         "(dimension must be 2 or 3).")
    ax, ay = a[..., 0], a[..., 1]
    bx, by = b[..., 0], b[..., 1]
    z = _p.subtract(_p.multiply(ax, by), _p.multiply(ay, bx))
    if na == 2 and nb == 2:
        return z
    az = a[..., 2] if na == 3 else 0.0
    bz = b[..., 2] if nb == 3 else 0.0
    x = _p.subtract(_p.multiply(ay, bz), _p.multiply(az, by))
    y = _p.subtract(_p.multiply(az, bx), _p.multiply(ax, bz))
    return moveaxis(stack([x, y, z], axis=-1), -1, axisc)


# --- differences, cumulative products, averages -------------------------------------------
def diff(a, n=1, axis=-1, prepend=None, append=None):
    """numpy.diff: a[1:] - a[:-1] along axis, n times (prepend/append joined first)."""
    a = asarray(a)
    nd = _np.ndim(_value_of(a))
    if nd == 0:
        raise ValueError("diff requires input that is at least one dimensional.")
    axis = _normalize_axis(axis, nd)
    pieces = [_edge_piece(prepend, a, axis), a, _edge_piece(append, a, axis)]
    pieces = [x for x in pieces if x is not None]
    if len(pieces) > 1:
        a = concatenate(pieces, axis=axis)
    head = [slice(None)] * nd
    tail = [slice(None)] * nd
    head[axis], tail[axis] = slice(1, None), slice(None, -1)
    for _ in range(n):
        a = _p.subtract(a[tuple(head)], a[tuple(tail)])
    return a


def _edge_piece(extra, a, axis):
    """diff's prepend/append: a number is broadcast to a slab of thickness 1 along axis."""
    if extra is None or _np.ndim(_value_of(extra)) != 0:
        return extra
    shp = list(_np.shape(_value_of(a)))
    shp[axis] = 1
    return broadcast_to(extra, tuple(shp))


def gradient(f, *varargs, axis=None, edge_order=1):
    """numpy.gradient with uniform spacings (one number per axis): central differences
    (f[i+1] - f[i-1]) / 2h inside, one-sided differences of order edge_order at the ends.
    A tuple for several axes, as numpy."""
    if not _traced(f) and not _traced(varargs):
        return _np.gradient(f, *varargs, axis=axis, edge_order=edge_order)
    f = asarray(f)
    nd = _np.ndim(_value_of(f))
    axes = _normalize_axes(axis, nd)
    spacing = list(varargs) or [1.0]
    if len(spacing) == 1:
        spacing = spacing * len(axes)
    if len(spacing) != len(axes) or _builtins.any(_np.ndim(_value_of(h)) for h in spacing):
        raise NotImplementedError("gradient of a traced value takes one uniform spacing per "
                                  "axis (numbers); coordinate arrays are not supported.")
    if edge_order not in (1, 2):
        raise ValueError("gradient: edge_order must be 1 or 2.")
    out = tuple(_gradient_along(f, ax, h, edge_order) for ax, h in zip(axes, spacing))
    return out[0] if len(out) == 1 else out


def _gradient_along(f, axis, h, edge_order):
    nd = _np.ndim(_value_of(f))
    n = _np.shape(_value_of(f))[axis]
    if n < edge_order + 1:
        raise ValueError("gradient: the shape of the array along an axis must be at least "
                         "edge_order + 1.")

    def at(start, stop):
        index = [slice(None)] * nd
        index[axis] = slice(start, stop)
        return f[tuple(index)]

    def one(i):
        return at(i, i + 1 if i != -1 else None)

    inside = _p.true_divide(_p.subtract(at(2, n), at(0, n - 2)), 2.0)
    if edge_order == 1:
        first = _p.subtract(one(1), one(0))
        last = _p.subtract(one(-1), one(-2))
    else:
        first = _p.add(_p.add(_p.multiply(-1.5, one(0)), _p.multiply(2.0, one(1))),
                       _p.multiply(-0.5, one(2)))
        last = _p.add(_p.add(_p.multiply(1.5, one(-1)), _p.multiply(-2.0, one(-2))),
                      _p.multiply(0.5, one(-3)))
    return _p.true_divide(concatenate([first, inside, last], axis=axis), h)


def ediff1d(ary, to_end=None, to_begin=None):
    pieces = [diff(ravel(ary))]
    if to_begin is not None:
        pieces.insert(0, ravel(to_begin))
    if to_end is not None:
        pieces.append(ravel(to_end))
    return concatenate(pieces) if len(pieces) > 1 else pieces[0]


def cumprod(a, axis=None):
    """numpy.cumprod as products of the leading elements: out[..., i] = prod(x[..., :i+1]),
    with the later elements masked to 1. Exact at zeros and to every order (prod's rule);
    it costs O(n^2) for a line of n elements."""
    if not _traced(a):
        return _np.cumprod(a, axis=axis)
    a, axis = _axis_of(asarray(a), axis)
    lines = moveaxis(a, axis, -1)
    n = _np.shape(_value_of(lines))[-1]
    leading = _np.tri(n, dtype=bool)                       # leading[i, j]: j <= i
    square = _p.where(leading, expand_dims(lines, -2), 1.0)
    return moveaxis(_p.prod(square, axis=-1), -1, axis)


cumulative_prod = cumprod


def cumulative_sum(x, axis=None, dtype=None, include_initial=False):
    """numpy.cumulative_sum; include_initial puts a 0 in front along axis."""
    if not _traced(x):
        return _np.cumulative_sum(x, axis=axis, dtype=dtype, include_initial=include_initial)
    if dtype is not None and not _np.issubdtype(_np.dtype(dtype), _np.floating):
        raise TypeError(f"cumulative_sum(dtype={_np.dtype(dtype)}) of a traced value would "
                        "drop its derivative; use a floating dtype.")
    out = cumsum(x, axis=axis)
    if include_initial:
        out = pad(out, [(1, 0) if i == (axis or 0) else (0, 0)
                        for i in range(_np.ndim(_value_of(out)))])
    return out


def average(a, axis=None, weights=None, returned=False, keepdims=False):
    """numpy.average: sum(w a) / sum(w) along axis (mean without weights). ``returned``
    also gives the sum of the weights, broadcast to the result's shape."""
    a = asarray(a)
    if weights is None:
        avg = mean(a, axis=axis, keepdims=keepdims)
        scale = _np.full(_np.shape(_value_of(avg)), float(_count(a, axis)))
        return (avg, scale) if returned else avg
    w = asarray(weights)
    sa, sw = _np.shape(_value_of(a)), _np.shape(_value_of(w))
    if sa != sw:
        if axis is None:
            raise TypeError("average: axis must be specified when shapes of a and weights "
                            "differ.")
        axes = _normalize_axes(axis, len(sa))
        if sw != tuple(sa[ax] for ax in axes):
            raise ValueError(f"average: weights of shape {sw} do not match the axis {axis} "
                             f"of a (shape {sa}).")
        w = reshape(w, tuple(n if i in axes else 1 for i, n in enumerate(sa)))
    scale = _p.sum(broadcast_to(w, sa), axis=axis, keepdims=keepdims)
    if _np.any(_value_of(scale) == 0.0):
        raise ZeroDivisionError("average: weights sum to zero, can't be normalized.")
    avg = _p.true_divide(_p.sum(_p.multiply(a, w), axis=axis, keepdims=keepdims), scale)
    return (avg, broadcast_to(scale, _np.shape(_value_of(avg)))) if returned else avg


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None):
    """numpy.cov: with rows as variables (rowvar=True), X centred by its (weighted) mean,
    cov = X W X' / fact, fact = sum(w) - ddof (numpy's correction with aweights)."""
    X = atleast_2d(asarray(m))
    if not rowvar and _np.shape(_value_of(X))[0] != 1:
        X = transpose(X)
    if y is not None:
        Y = atleast_2d(asarray(y))
        if not rowvar and _np.shape(_value_of(Y))[0] != 1:
            Y = transpose(Y)
        X = concatenate([X, Y], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    n = _np.shape(_value_of(X))[1]
    w = None
    for label, given in (("fweights", fweights), ("aweights", aweights)):
        if given is None:
            continue
        value = _np.asarray(_value_of(given), dtype=float)
        if value.shape != (n,):
            raise ValueError(f"cov: {label} must be 1-D with one weight per observation "
                             f"({n}), not of shape {value.shape}.")
        if _np.any(value < 0):
            raise ValueError(f"cov: {label} cannot be negative.")
        if label == "fweights" and (_traced(given) or _np.any(value != _np.round(value))):
            raise TypeError("cov: fweights must be integer (frequencies).")
        given = given if _traced(given) else value
        w = given if w is None else _p.multiply(w, given)
    if w is None:
        avg = mean(X, axis=1)
        fact = float(n - ddof)
        Xc = _p.subtract(X, reshape(avg, (-1, 1)))
        c = _p.matmul(Xc, transpose(Xc))
    else:
        avg, total = average(X, axis=1, weights=w, returned=True)
        v1 = total[0]
        if ddof == 0:
            fact = v1
        elif aweights is None:
            fact = _p.subtract(v1, float(ddof))
        else:
            fact = _p.subtract(v1, _p.true_divide(_p.multiply(
                float(ddof), _p.sum(_p.multiply(w, aweights))), v1))
        Xc = _p.subtract(X, reshape(avg, (-1, 1)))
        c = _p.matmul(Xc, transpose(_p.multiply(Xc, w)))
    return squeeze(_p.true_divide(c, fact))


def corrcoef(x, y=None, rowvar=True):
    """numpy.corrcoef: cov / sqrt(d_i d_j), clipped to [-1, 1] as numpy does."""
    c = cov(x, y, rowvar)
    if _np.ndim(_value_of(c)) == 0:
        return _p.true_divide(c, c)
    sd = _p.sqrt(diagonal(c))
    c = _p.true_divide(_p.true_divide(c, reshape(sd, (-1, 1))), reshape(sd, (1, -1)))
    return clip(c, -1.0, 1.0)


def ptp(a, axis=None, keepdims=False):
    return _p.subtract(max(a, axis=axis, keepdims=keepdims), min(a, axis=axis, keepdims=keepdims))


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """numpy.trapezoid: sum((y[1:] + y[:-1]) / 2 * diff(x)) along axis."""
    y = asarray(y)
    nd = _np.ndim(_value_of(y))
    ax = _normalize_axis(axis, nd)
    lo, hi = [slice(None)] * nd, [slice(None)] * nd
    lo[ax], hi[ax] = slice(None, -1), slice(1, None)
    if x is None:
        d = dx
    else:
        d = diff(x, axis=-1 if _np.ndim(_value_of(x)) == 1 else axis)
        if _np.ndim(_value_of(x)) == 1:
            d = reshape(d, tuple(-1 if i == ax else 1 for i in range(nd)))
    mid = _p.multiply(_p.add(y[tuple(hi)], y[tuple(lo)]), 0.5)
    return _p.sum(_p.multiply(mid, d), axis=ax)


def polyval(p, x):
    """Horner's scheme: p[0] x^(n-1) + ... + p[n-1], differentiable in p and x."""
    p = asarray(p)
    out = _np.zeros_like(_value_of(x), dtype=float) if not _traced(x) else _p.multiply(x, 0.0)
    for i in range(_np.shape(_value_of(p))[0]):
        out = _p.add(_p.multiply(out, x), p[i])
    return out


# --- elementwise functions composed of primitives ---------------------------------------------
def hypot(x1, x2):
    """sqrt(x1**2 + x2**2); its derivative is taken as 0 at (0, 0) (as for norm)."""
    return _p.sqrt_of_sum_of_squares(_p.add(_p.square(x1), _p.square(x2)))


def exp2(x):
    return _p.power(2.0, x)


def logaddexp2(x1, x2):
    """log2(2**x1 + 2**x2) = logaddexp(x1 ln 2, x2 ln 2) / ln 2."""
    ln2 = _np.log(2.0)
    return _p.true_divide(_p.logaddexp(_p.multiply(x1, ln2), _p.multiply(x2, ln2)), ln2)


arccosh = _p.arccosh
acos, asin, atan, atan2 = arccos, arcsin, arctan, arctan2
acosh, asinh, atanh = arccosh, arcsinh, arctanh
pow = float_power = power  # noqa: A001
fabs = absolute


def positive(x):
    return asarray(x) if _traced(x) else _np.positive(x)


def cbrt(x):
    """The real cube root sign(x) |x|^(1/3) (its derivative is infinite at 0)."""
    return _p.multiply(sign(x), _p.power(_p.absolute(x), 1.0 / 3.0))


def deg2rad(x):
    return _p.multiply(x, _np.pi / 180.0)


def rad2deg(x):
    return _p.multiply(x, 180.0 / _np.pi)


radians, degrees = deg2rad, rad2deg


def copysign(x1, x2):
    """|x1| with the sign of x2 (d/dx2 = 0)."""
    return _p.where(_np.signbit(_value_of(x2)), _p.negative(_p.absolute(x1)),
                    _p.absolute(x1))


def sinc(x):
    """sin(pi x) / (pi x), 1 at 0 (its derivatives there are those of the series)."""
    small = _np.abs(_value_of(x)) < 1e-4
    if not _np.any(small):
        px = _p.multiply(x, _np.pi)
        return _p.true_divide(_p.sin(px), px)
    safe = _p.where(small, 1.0, x)
    px = _p.multiply(safe, _np.pi)
    u = _p.square(_p.multiply(x, _np.pi))   # the series 1 - u/6 + u^2/120 - u^3/5040
    series = _p.add(1.0, _p.multiply(u, _p.add(-1.0 / 6, _p.multiply(
        u, _p.add(1.0 / 120, _p.multiply(u, -1.0 / 5040))))))
    return _p.where(small, series, _p.true_divide(_p.sin(px), px))


def fmax(x1, x2):
    """Elementwise maximum ignoring NaN (the other value is taken where one is NaN)."""
    return _nan_aware(_p.maximum, x1, x2)


def fmin(x1, x2):
    """Elementwise minimum ignoring NaN."""
    return _nan_aware(_p.minimum, x1, x2)


def _nan_aware(op, x1, x2):
    n1, n2 = _np.isnan(_value_of(x1)), _np.isnan(_value_of(x2))
    return _p.where(n2, x1, _p.where(n1, x2, op(x1, x2)))


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """NaN -> nan, +inf -> posinf, -inf -> neginf (numpy's defaults: the largest finite
    floats); derivative 1 at finite values, 0 at replaced ones."""
    v = _value_of(x)
    big = _np.finfo(_np.float64).max
    out = _p.where(_np.isnan(v), float(nan), x)
    out = _p.where(_np.isposinf(v), big if posinf is None else float(posinf), out)
    return _p.where(_np.isneginf(v), -big if neginf is None else float(neginf), out)


def real(val):
    """numpy.real; a traced value is real (complex numbers are refused by every primitive),
    so it is its own real part."""
    return asarray(val) if _traced(val) else _np.real(val)


def conj(x):
    """numpy.conj; a traced value is real, so it is its own conjugate."""
    return asarray(x) if _traced(x) else _np.conj(x)


conjugate = conj
real_if_close = real


def imag(val):
    """numpy.imag; 0 for a traced (real) value."""
    return _np.zeros(_np.shape(_value_of(val))) if _traced(val) else _np.imag(val)


# --- NaN-ignoring reductions ------------------------------------------------------------------
def _without_nan(a, replacement):
    a = asarray(a)
    v = _value_of(a)
    return _p.where(_np.isnan(v), replacement, a), ~_np.isnan(v)


def nansum(a, axis=None, keepdims=False):
    return _p.sum(_without_nan(a, 0.0)[0], axis=axis, keepdims=keepdims)


def nanprod(a, axis=None, keepdims=False):
    return _p.prod(_without_nan(a, 1.0)[0], axis=axis, keepdims=keepdims)


def nancumsum(a, axis=None):
    return cumsum(_without_nan(a, 0.0)[0], axis=axis)


def nancumprod(a, axis=None):
    return cumprod(_without_nan(a, 1.0)[0], axis=axis)


def nanmean(a, axis=None, keepdims=False):
    """The mean of the non-NaN values (NaN, with numpy's warning, where there are none)."""
    clean, present = _without_nan(a, 0.0)
    count = _np.sum(present, axis=axis, keepdims=keepdims)
    with _np.errstate(invalid="ignore", divide="ignore"):
        out = _p.true_divide(_p.sum(clean, axis=axis, keepdims=keepdims), count)
    return _warn_empty(out, count, "Mean of empty slice")


def _warn_empty(out, count, message):
    if _np.any(_np.asarray(count) == 0):
        import warnings
        warnings.warn(message, RuntimeWarning, stacklevel=3)
        return _p.where(_np.asarray(count) == 0, _np.nan, out)
    return out


def nanvar(a, axis=None, ddof=0, keepdims=False):
    clean, present = _without_nan(a, 0.0)
    count = _np.sum(present, axis=axis, keepdims=True)
    with _np.errstate(invalid="ignore", divide="ignore"):
        centre = _p.true_divide(_p.sum(clean, axis=axis, keepdims=True), count)
        dev = _p.where(present, _p.subtract(clean, centre), 0.0)
        total = _p.sum(_p.square(dev), axis=axis, keepdims=keepdims)
        dof = _np.sum(present, axis=axis, keepdims=keepdims) - ddof
        out = _p.true_divide(total, _np.maximum(dof, 0))
    return _warn_empty(out, _np.maximum(dof, 0), "Degrees of freedom <= 0 for slice.")


def nanstd(a, axis=None, ddof=0, keepdims=False):
    return _p.sqrt_of_sum_of_squares(nanvar(a, axis=axis, ddof=ddof, keepdims=keepdims))


def nanmax(a, axis=None, keepdims=False):
    clean, present = _without_nan(a, -_np.inf)
    out = _p.amax(clean, axis=axis, keepdims=keepdims)
    return _warn_empty(out, _np.sum(present, axis=axis, keepdims=keepdims),
                       "All-NaN slice encountered")


def nanmin(a, axis=None, keepdims=False):
    clean, present = _without_nan(a, _np.inf)
    out = _p.amin(clean, axis=axis, keepdims=keepdims)
    return _warn_empty(out, _np.sum(present, axis=axis, keepdims=keepdims),
                       "All-NaN slice encountered")


# --- order statistics ---------------------------------------------------------------------------
def _order_statistic(a, q, axis, keepdims, skip_nan, name, method="linear", out=None):
    """numpy's quantile with the 'linear' method: with the line sorted (s) and n values,
    the virtual index h = q (n - 1), lo = floor(h), and the result
    s[lo] + (h - lo) (s[lo+1] - s[lo]). Its derivative moves with the two order statistics
    (and is (n - 1)(s[lo+1] - s[lo]) in q). skip_nan: n counts the non-NaN values (NaN sorts
    last)."""
    if method != "linear":
        raise NotImplementedError(f"{name}(method={method!r}) is not supported; mleopt.numpy "
                                  "differentiates numpy's default method 'linear'.")
    if out is not None:
        raise TypeError(f"{name}(out=...) is not supported; use the returned array.")
    a = asarray(a)
    qv = _np.asarray(_value_of(q), dtype=float)
    if _np.any((qv < 0) | (qv > 1)) or _np.any(_np.isnan(qv)):
        scale = "[0, 100]" if name.endswith("percentile") else "[0, 1]"
        raise ValueError(f"{name}: q must be in {scale}.")
    shp = _np.shape(_value_of(a))
    axes = _normalize_axes(axis, len(shp))
    free = [i for i in range(len(shp)) if i not in axes]
    lead = tuple(shp[i] for i in free)
    lines = reshape(transpose(a, free + list(axes)), lead + (-1,))
    n = _np.shape(_value_of(lines))[-1]
    ranked = sort(lines, axis=-1)
    values = _value_of(lines)
    count = _np.sum(~_np.isnan(values), axis=-1) if skip_nan else _np.full(lead, n)
    nq = qv.size
    qlead = _np.reshape(qv, (1,) * len(lead) + (nq,))
    last = _np.maximum(count - 1, 0)[..., None]
    h = qlead * last
    lo = _np.minimum(_np.floor(h).astype(int), last)
    hi = _np.minimum(lo + 1, last)
    q_col = reshape(q, (1,) * len(lead) + (nq,)) if _traced(q) else qlead
    frac = _p.subtract(_p.multiply(q_col, last.astype(float)), lo.astype(float))
    s_lo = take_along_axis(ranked, lo, -1)
    s_hi = take_along_axis(ranked, hi, -1)
    res = _p.add(s_lo, _p.multiply(frac, _p.subtract(s_hi, s_lo)))   # lead + (nq,)
    if not skip_nan and _np.any(_np.isnan(values)):
        res = _p.where(_np.any(_np.isnan(values), axis=-1)[..., None], _np.nan, res)
    if skip_nan:
        res = _warn_empty(res, count[..., None], "All-NaN slice encountered")
    if keepdims:
        res = reshape(res, tuple(1 if i in axes else s for i, s in enumerate(shp)) + (nq,))
    nd_res = _np.ndim(_value_of(res))
    res = moveaxis(res, nd_res - 1, 0)
    return reshape(res, _np.shape(qv) + _np.shape(_value_of(res))[1:])


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False):
    """numpy.quantile (method 'linear'), differentiable in a (and q)."""
    return _order_statistic(a, q, axis, keepdims, False, "quantile", method, out)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False):
    """numpy.percentile (method 'linear'): quantile(a, q / 100)."""
    return _order_statistic(a, _p.true_divide(q, 100.0), axis, keepdims, False,
                            "percentile", method, out)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    return _order_statistic(a, 0.5, axis, keepdims, False, "median", out=out)


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False):
    return _order_statistic(a, q, axis, keepdims, True, "nanquantile", method, out)


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False):
    return _order_statistic(a, _p.true_divide(q, 100.0), axis, keepdims, True,
                            "nanpercentile", method, out)


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    return _order_statistic(a, 0.5, axis, keepdims, True, "nanmedian", out=out)


def select(condlist, choicelist, default=0):
    """numpy.select: the first choice whose condition holds, else default (nested where)."""
    if len(condlist) != len(choicelist):
        raise ValueError("select: list of cases must be same length as list of conditions.")
    out = default
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        out = _p.where(_np.asarray(_value_of(cond), dtype=bool), choice, out)
    return out


# --- the inner products numpy 2 added -----------------------------------------------------
def vecdot(x1, x2, axis=-1):
    return _p.sum(_p.multiply(x1, x2), axis=axis)


def matvec(x1, x2):
    return _p.matmul(x1, expand_dims(x2, -1))[..., 0]


def vecmat(x1, x2):
    return _p.matmul(expand_dims(x1, -2), x2)[..., 0, :]


# --- linear algebra: the namespace lives in mleopt/_linalg.py ------------------------------
from ._linalg import linalg  # noqa: E402

# --- names whose results carry no derivative ---------------------------------------------------
# (booleans, indices, counts, piecewise-constant values: traced arguments are read by value)
argpartition = _constant(_np.argpartition)
argwhere = _constant(_np.argwhere)
flatnonzero = _constant(_np.flatnonzero)
nanargmax = _constant(_np.nanargmax)
nanargmin = _constant(_np.nanargmin)
lexsort = _constant(_np.lexsort)
digitize = _constant(_np.digitize)
isin = _constant(_np.isin)
isneginf = _constant(_np.isneginf)
isposinf = _constant(_np.isposinf)
isreal = _constant(_np.isreal)
iscomplex = _constant(_np.iscomplex)
isrealobj = _constant(_np.isrealobj)
iscomplexobj = _constant(_np.iscomplexobj)
array_equiv = _constant(_np.array_equiv)
logical_and = _constant(_np.logical_and)
logical_or = _constant(_np.logical_or)
logical_not = _constant(_np.logical_not)
logical_xor = _constant(_np.logical_xor)
signbit = _constant(_np.signbit)
heaviside = _constant(_np.heaviside)
angle = _constant(_np.angle)   # 0 or pi on real values: piecewise constant
trunc = fix = _constant(_np.trunc)
rint = around = _constant(_np.round)
tril_indices_from = _constant(_np.tril_indices_from)
triu_indices_from = _constant(_np.triu_indices_from)
diag_indices_from = _constant(_np.diag_indices_from)
result_type = _constant(_np.result_type)
may_share_memory = _constant(_np.may_share_memory)
shares_memory = _constant(_np.shares_memory)


def copy(a, order="K", subok=False):
    """numpy.copy; a traced value is returned as it is (traced values are never changed in
    place, so it is its own copy)."""
    return a if _traced(a) and not isinstance(a, (list, tuple)) else (
        array(a) if _traced(a) else _np.copy(a, order=order, subok=subok))


def asanyarray(a, dtype=None):
    return asarray(a, dtype=dtype)


ascontiguousarray = asfortranarray = asanyarray


def asarray_chkfinite(a, dtype=None):
    if not _np.all(_np.isfinite(_value_of(a))):
        raise ValueError("array must not contain infs or NaNs")
    return asarray(a, dtype=dtype)


# Every other public numpy name passes through unchanged (dtypes, constants, errstate,
# iinfo / finfo, isscalar, io, random, fft, ...). They work on plain arrays; called on a
# traced value they raise a TraceError (numpy dispatches such calls to this namespace and
# finds no differentiable version), never a silent zero. numpy's lazily loaded submodules
# (testing, f2py, ma, ...) are left out, except fft, which autograd.numpy offers too.
def _pass_through_the_rest() -> None:
    import warnings
    namespace = globals()
    loaded = set(vars(_np)) | {"fft"}
    for name in dir(_np):
        if name.startswith("_") or name in namespace or name not in loaded:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # skip names numpy has deprecated
            try:
                namespace[name] = getattr(_np, name)
            except (AttributeError, DeprecationWarning):
                pass


_pass_through_the_rest()


# The engine calls this namespace for the array methods of traced values (x.mean(), ...) and
# for numpy functions called on them (__array_function__); it does not import it.
_register_namespace("numpy", _sys.modules[__name__])
