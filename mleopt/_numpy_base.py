"""mleopt.numpy, part 1: creation pass-throughs, elementwise functions, reductions, shapes,
products, and the names without a derivative. Public names are re-exported by
mleopt/numpy.py (see its docstring); this module is private."""
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
from .ad.core import _static as _static_value
from .ad.core import register_namespace as _register_namespace
from .ad.rules import normalize_axes as _normalize_axes, normalize_axis as _normalize_axis




def _value_of(x):
    """The plain value of x (for shapes and indices); a list or tuple of traced values
    becomes the list of their values (numpy's array_like)."""
    if (type(x) is list or type(x) is tuple) and _contains_traced(x):
        return type(x)(_value_of(item) for item in x)
    return _strip(x)


def _static(x):
    """As _value_of, to read a shape, ndim, size or dtype only: not an escape of the value
    (see mleopt.ad.core._static; replay stays allowed)."""
    if (type(x) is list or type(x) is tuple) and _contains_traced(x):
        return type(x)(_static(item) for item in x)
    return _static_value(x)


def _constant(fun, shapes_only: bool = False):
    """A numpy function whose result carries no derivative (shapes, indices, booleans,
    arrays built only from a shape): traced arguments are read through their values
    (``shapes_only``: through their shapes and dtypes, which is no escape of the values:
    mleopt.ad.core._static)."""
    read = _static if shapes_only else _value_of

    def wrapper(*args, **kwargs):
        return fun(*[read(a) for a in args], **{k: read(v) for k, v in kwargs.items()})
    wrapper.__name__ = fun.__name__
    wrapper.__doc__ = fun.__doc__
    wrapper.__wrapped__ = fun
    return wrapper


shape = _constant(_np.shape, shapes_only=True)
ndim = _constant(_np.ndim, shapes_only=True)
size = _constant(_np.size, shapes_only=True)
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
zeros_like = _constant(_np.zeros_like, shapes_only=True)
ones_like = _constant(_np.ones_like, shapes_only=True)


def full_like(a, fill_value, dtype=None):
    """numpy.full_like; a traced fill value keeps its derivative (it is broadcast)."""
    if isinstance(fill_value, _Traced):
        return broadcast_to(fill_value, _np.shape(_static(a)))
    return _np.full_like(_static(a), fill_value, dtype=dtype)     # (its shape and dtype)


empty_like = _constant(_np.empty_like, shapes_only=True)


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
    shp = _np.shape(_static(a))
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
    axes = list(range(_np.ndim(_static(a))))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return _p.transpose(a, tuple(axes))


def moveaxis(a, source, destination):
    nd = _np.ndim(_static(a))
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
    shp = list(_np.shape(_static(a)))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    nd = len(shp) + len(axes)
    for ax in _normalize_axes(axes, nd):
        shp.insert(ax, 1)
    return _p.reshape(a, tuple(shp))


def squeeze(a, axis=None):
    shp = _np.shape(_static(a))
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
    return reshape(a, (1,)) if _np.ndim(_static(a)) == 0 else a


@_each
def atleast_2d(a):
    """a with at least two axes, new axes in front: (N,) -> (1, N)."""
    nd = _np.ndim(_static(a))
    return reshape(a, (1,) * (2 - nd) + _np.shape(_static(a))) if nd < 2 else a


@_each
def atleast_3d(a):
    """a with at least three axes, as numpy: () -> (1, 1, 1), (N,) -> (1, N, 1),
    (M, N) -> (M, N, 1)."""
    shp = _np.shape(_static(a))
    new = {0: (1, 1, 1), 1: (1,) + shp + (1,), 2: shp + (1,)}.get(len(shp))
    return a if new is None else reshape(a, new)


def concatenate(arrays, axis=0):
    arrays = [atleast_1d(x) if _np.ndim(_static(x)) == 0 and axis is None else x
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
    return concatenate(arrays, axis=0 if _np.ndim(_static(arrays[0])) == 1 else 1)


def vstack(arrays):
    return concatenate([atleast_2d(x) for x in arrays], axis=0)


def column_stack(arrays):
    cols = [reshape(x, (-1, 1)) if _np.ndim(_static(x)) < 2 else x for x in arrays]
    return concatenate(cols, axis=1)


def append(arr, values, axis=None):
    if axis is None:
        return concatenate([ravel(arr), ravel(values)])
    return concatenate([arr, values], axis=axis)


# --- products ------------------------------------------------------------------------------
def dot(a, b):
    """numpy.dot: matrix product for 1-D and 2-D arrays, sum over last/second-last axes."""
    nda, ndb = _np.ndim(_static(a)), _np.ndim(_static(b))
    if nda == 0 or ndb == 0:
        return _p.multiply(a, b)
    if nda <= 2 and ndb <= 2:
        return _p.matmul(a, b)
    return tensordot(a, b, axes=([-1], [-2 if ndb > 1 else -1]))


def tensordot(a, b, axes=2):
    """Contract axes of a with axes of b (transpose, reshape and one matrix product)."""
    sa, sb = _np.shape(_static(a)), _np.shape(_static(b))
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
    if _np.ndim(_static(a)) == 0 or _np.ndim(_static(b)) == 0:
        return _p.multiply(a, b)
    return tensordot(a, b, axes=([-1], [-1]))


def outer(a, b):
    return _p.multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def vdot(a, b):
    return _p.sum(_p.multiply(ravel(a), ravel(b)))


def diag(v, k=0):
    """The k-th diagonal of a matrix, or a matrix with the vector v on its k-th diagonal."""
    nd = _np.ndim(_static(v))
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
    if offset == 0 and axis1 == 0 and axis2 == 1 and _np.ndim(_static(a)) == 2:
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


# --- the gather that the rearranging functions (mleopt/_numpy_gather.py) share ------------------------------------------------------
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
    positions = arrange(_np.arange(_np.size(_static(a))).reshape(_np.shape(_static(a))))
    if fill is not None:
        flat = concatenate([flat, _np.full(1, float(fill))])
        positions = _np.where(_np.asarray(positions) < 0, _np.size(_static(a)), positions)
    if isinstance(positions, list):
        return [_p.getitem(flat, pos) for pos in positions]
    return _p.getitem(flat, _np.asarray(positions))


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
    return _np.zeros(_np.shape(_static(val))) if _traced(val) else _np.imag(val)


# --- the inner products numpy 2 added -----------------------------------------------------
def vecdot(x1, x2, axis=-1):
    return _p.sum(_p.multiply(x1, x2), axis=axis)


def matvec(x1, x2):
    return _p.matmul(x1, expand_dims(x2, -1))[..., 0]


def vecmat(x1, x2):
    return _p.matmul(expand_dims(x1, -2), x2)[..., 0, :]


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


