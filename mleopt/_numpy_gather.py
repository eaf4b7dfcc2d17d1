"""mleopt.numpy, part 2: functions that move, repeat or drop elements (sort, take, roll,
flip, split, pad, ...: one gather of the input), triangles, grids, r_ / c_, kron, cross.
Private: mleopt/numpy.py re-exports the public names."""
import builtins as _builtins
import numpy as _np
from .ad import primitives as _p
from ._numpy_base import *  # noqa: F401,F403
from ._numpy_base import _gathered, _static, _traced, _value_of  # noqa: F401


# --- rearranging elements: one gather (_gathered, in _numpy_base) --------------------------
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
        if _np.ndim(_static(values)) != 0:
            raise NotImplementedError("pad: a traced constant_values must be one number.")
        inside = _np.pad(_np.ones(_np.shape(_static(array)), dtype=bool), pad_width)
        return where(inside, _gathered(array, lambda pos: _np.pad(pos, pad_width,
                                                                  constant_values=-1),
                                       fill=0.0), values)
    body = _gathered(array, lambda pos: _np.pad(pos, pad_width, constant_values=-1), fill=0.0)
    border = _np.pad(_np.zeros(_np.shape(_static(array))), pad_width,
                     constant_values=values)
    return _p.add(body, border) if _np.any(border) else body


# --- shapes, triangles, grids ------------------------------------------------------------------
def tril(m, k=0):
    """The lower triangle of (a stack of) matrices: m where j <= i + k, 0 elsewhere."""
    if not _traced(m):
        return _np.tril(m, k)
    shp = _np.shape(_static(m))
    return _p.where(_np.tri(*shp[-2:], k=k, dtype=bool), m, 0.0)


def triu(m, k=0):
    """The upper triangle of (a stack of) matrices: m where j >= i + k, 0 elsewhere."""
    if not _traced(m):
        return _np.triu(m, k)
    shp = _np.shape(_static(m))
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
    shp = _np.broadcast_shapes(_np.shape(_static(start)), _np.shape(_static(stop)))
    steps = _np.arange(num, dtype=float).reshape((num,) + (1,) * len(shp))
    delta = _p.subtract(stop, start)
    step = _p.true_divide(delta, float(div)) if div > 0 else _np.nan * delta
    y = _p.add(_p.multiply(steps, step if div > 0 else 0.0), start)
    if endpoint and num > 1:
        last = _np.arange(num).reshape(steps.shape) == num - 1
        y = _p.where(last, broadcast_to(stop, _np.shape(_static(y))[1:]), y)
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
        return concatenate([x if _np.ndim(_static(x)) >= 2 else reshape(x, (-1, 1))
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
    shp = _np.broadcast_shapes(*[_np.shape(_static(a)) for a in args])
    return tuple(broadcast_to(a, shp) for a in args)


def permute_dims(a, axes=None):
    return transpose(a, axes)


def matrix_transpose(x):
    return swapaxes(x, -1, -2)


def kron(a, b):
    """numpy.kron: out[i*nb + k, ...] = a[i, ...] b[k, ...], as one broadcast product with
    the axes of a and b interleaved."""
    a, b = asarray(a), asarray(b)
    sa, sb = _np.shape(_static(a)), _np.shape(_static(b))
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
    na, nb = _np.shape(_static(a))[-1], _np.shape(_static(b))[-1]
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


