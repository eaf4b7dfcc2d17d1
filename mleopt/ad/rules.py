"""Derivative rules, one entry per primitive.

``defvjp(prim, rule_for_arg0, rule_for_arg1, ...)``: reverse mode, ``rule(g, ans, *args)``
returns the cotangent of that argument (same shape as the argument).
``defjvp(prim, ...)``: forward mode, ``rule(t, ans, *args)`` takes the argument's tangent
with a leading batch axis, ``t.shape == (B,) + shape(arg)``, and returns the output tangent
(shape broadcastable to ``(B,) + shape(ans)``; the tracer broadcasts it).

Rules are written with the primitives themselves, so they can be differentiated again.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from . import primitives as p
from .core import Traced, _missing_rule, _static, defjvp, defvjp

# =======================================================================================
# helpers
# =======================================================================================


def shape_of(x) -> tuple:
    try:
        return x.shape
    except AttributeError:  # Python numbers
        return np.shape(x)


def ndim_of(x) -> int:
    return len(shape_of(x))


def unbroadcast(g, shape: tuple):
    """Sum ``g`` over the axes that broadcasting added or stretched, to get ``shape``."""
    gshape = shape_of(g)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if lead > 0:
        g = p.sum(g, axis=tuple(range(lead)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and shape_of(g)[i] != 1)
    if stretched:
        g = p.sum(g, axis=stretched, keepdims=True)
    return g


def batch_expand(t, ndim: int):
    """Give a batched tangent ``(B,) + s`` the rank of an ``ndim``-dimensional result."""
    missing = ndim - (ndim_of(t) - 1)
    if missing <= 0:
        return t
    ts = shape_of(t)
    return p.reshape(t, ts[:1] + (1,) * missing + ts[1:])


def normalize_axes(axis, ndim: int) -> tuple:
    """The axes ``axis`` names in an array of ndim dimensions, non-negative and sorted; an
    axis out of range or repeated raises numpy's AxisError / ValueError (never wraps)."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(sorted(normalize_axis_tuple(axis, ndim)))


def normalize_axis(axis: int, ndim: int) -> int:
    """One axis as a non-negative index; out of range raises numpy's AxisError."""
    return normalize_axis_index(axis, ndim)


def kept_shape(shape: tuple, axis) -> tuple:
    axes = normalize_axes(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def shifted_axes(axis, ndim: int) -> tuple:
    """Axes of a reduction, moved past the tangent's batch axis."""
    return tuple(a + 1 for a in normalize_axes(axis, ndim))


def swap_last(x):
    nd = ndim_of(x)
    axes = tuple(range(nd - 2)) + (nd - 1, nd - 2)
    return p.transpose(x, axes)


def expand_last(x):
    return p.reshape(x, shape_of(x) + (1,))


def to_float(x):
    return x if isinstance(x, np.ndarray) and x.dtype == np.float64 else np.asarray(
        x, dtype=np.float64)


# =======================================================================================
# elementwise functions of one argument
# =======================================================================================


def elementwise(prim, derivative) -> None:
    """d prim(x)/dx = derivative(ans, x), applied elementwise in both modes."""
    defvjp(prim, lambda g, ans, x: p.multiply(g, derivative(ans, x)))
    defjvp(prim, lambda t, ans, x: p.multiply(t, derivative(ans, x)))


elementwise(p.exp, lambda ans, x: ans)
elementwise(p.log, lambda ans, x: p.reciprocal(x))
elementwise(p.log1p, lambda ans, x: p.reciprocal(p.add(x, 1.0)))
elementwise(p.expm1, lambda ans, x: p.add(ans, 1.0))
elementwise(p.sqrt, lambda ans, x: p.true_divide(0.5, ans))


def _sqrt_at_minimum(ans, x):
    """d sqrt(s) / ds = 1 / (2 sqrt(s)), taken as 0 where s = 0.

    For s >= 0 differentiable (a sum of squares), s = 0 is a minimum of s, so the first
    derivative of s vanishes there and the chain rule would give inf * 0. The true
    derivative of sqrt(s(x)) is then 0 (std along an axis of length 1 is identically 0) or,
    where sqrt(s) has a kink (the norm at 0, like |x| at 0), 0 is the subgradient chosen,
    as abs' = sign gives. Higher derivatives at that point follow the same choice (0).
    """
    zero = p.stop(ans) == 0
    if not np.any(zero):
        return p.true_divide(0.5, ans)
    return p.where(zero, 0.0, p.true_divide(0.5, p.where(zero, 1.0, ans)))


elementwise(p.sqrt_of_sum_of_squares, _sqrt_at_minimum)
elementwise(p.absolute, lambda ans, x: np.sign(p.stop(x)))
elementwise(p.sin, lambda ans, x: p.cos(x))
elementwise(p.cos, lambda ans, x: p.negative(p.sin(x)))
elementwise(p.tan, lambda ans, x: p.add(1.0, p.square(ans)))
elementwise(p.tanh, lambda ans, x: p.subtract(1.0, p.square(ans)))
elementwise(p.sinh, lambda ans, x: p.cosh(x))
elementwise(p.cosh, lambda ans, x: p.sinh(x))
elementwise(p.arctan, lambda ans, x: p.reciprocal(p.add(1.0, p.square(x))))
elementwise(p.arcsin, lambda ans, x: p.power(p.subtract(1.0, p.square(x)), -0.5))
elementwise(p.arccos, lambda ans, x: p.negative(p.power(p.subtract(1.0, p.square(x)), -0.5)))
elementwise(p.arcsinh, lambda ans, x: p.power(p.add(p.square(x), 1.0), -0.5))
elementwise(p.arccosh, lambda ans, x: p.power(p.subtract(p.square(x), 1.0), -0.5))
elementwise(p.arctanh, lambda ans, x: p.reciprocal(p.subtract(1.0, p.square(x))))
elementwise(p.square, lambda ans, x: p.multiply(2.0, x))
elementwise(p.reciprocal, lambda ans, x: p.negative(p.square(ans)))

defvjp(p.negative, lambda g, ans, x: p.negative(g))
defjvp(p.negative, lambda t, ans, x: p.negative(t))

# =======================================================================================
# elementwise functions of two arguments (with broadcasting)
# =======================================================================================


_FLOAT64 = np.dtype(np.float64)


def exact(ans, c):
    """A constant argument ``c`` of a lower floating-point precision than the answer (float32
    data in a float64 computation), in the answer's dtype: numpy computed the answer so, and
    the partials must be too (1 / c, log c, c - 1 taken in float32 round to 1e-8).
    Anything else is returned unchanged."""
    if not isinstance(c, (np.ndarray, np.floating)) or c.dtype is _FLOAT64:
        return c
    dtype = getattr(_static(ans), "dtype", None)      # (its dtype only: no escape)
    if c.dtype.kind != "f" or dtype is None or dtype.kind not in "fc":
        return c
    wider = np.promote_types(c.dtype, dtype)
    return c if wider == c.dtype else c.astype(wider)


def binary(prim, dx, dy) -> None:
    """Partial derivatives dx(ans, x, y) and dy(ans, x, y), broadcast against the output
    (constant arguments of a lower precision taken in the answer's: ``exact``)."""
    plain_dx, plain_dy = dx, dy

    def dx(ans, x, y):
        return plain_dx(ans, exact(ans, x), exact(ans, y))

    def dy(ans, x, y):
        return plain_dy(ans, exact(ans, x), exact(ans, y))
    defvjp(prim,
           lambda g, ans, x, y: unbroadcast(p.multiply(g, dx(ans, x, y)), shape_of(x)),
           lambda g, ans, x, y: unbroadcast(p.multiply(g, dy(ans, x, y)), shape_of(y)))
    defjvp(prim,
           lambda t, ans, x, y: p.multiply(batch_expand(t, ndim_of(ans)), dx(ans, x, y)),
           lambda t, ans, x, y: p.multiply(batch_expand(t, ndim_of(ans)), dy(ans, x, y)))


defvjp(p.add,
       lambda g, ans, x, y: unbroadcast(g, shape_of(x)),
       lambda g, ans, x, y: unbroadcast(g, shape_of(y)))


def _sum_jvp(sign: float):
    """Tangent of x + sign * y, in one operation when both are traced."""
    def rule(tangents, ans, x, y):
        tx, ty = tangents
        nd = ndim_of(ans)
        if ty is None:
            return batch_expand(tx, nd)
        ty = batch_expand(ty, nd)
        if tx is None:
            return ty if sign > 0 else p.negative(ty)
        tx = batch_expand(tx, nd)
        return p.add(tx, ty) if sign > 0 else p.subtract(tx, ty)
    return rule


p.add.jvp_joint = _sum_jvp(1.0)
defvjp(p.subtract,
       lambda g, ans, x, y: unbroadcast(g, shape_of(x)),
       lambda g, ans, x, y: unbroadcast(p.negative(g), shape_of(y)))
p.subtract.jvp_joint = _sum_jvp(-1.0)

binary(p.multiply, lambda ans, x, y: y, lambda ans, x, y: x)


def _times_cotangent(g, factor, shape):
    """unbroadcast(g * factor, shape). When g is a broadcast 1 (the cotangent of a sum) and
    factor is a float64 array of the output's shape, the product is factor itself: it is
    handed on as a read-only view instead of a new array (a view is never updated in place,
    and a leaf gradient that is a view is copied before it is returned). A factor of another
    dtype (a boolean mask) is multiplied, so that the gradient is float64."""
    if (type(g) is np.ndarray and type(factor) is np.ndarray and g.size > 1 and g.shape == shape
            and factor.shape == shape and factor.dtype is _FLOAT64 and not any(g.strides)
            and g[(0,) * g.ndim] == 1.0):
        view = factor.view()
        view.flags.writeable = False
        return view
    return unbroadcast(p.multiply(g, factor), shape)


defvjp(p.multiply,
       lambda g, ans, x, y: _times_cotangent(g, y, shape_of(x)),
       lambda g, ans, x, y: _times_cotangent(g, x, shape_of(y)))
binary(p.true_divide,
       lambda ans, x, y: p.reciprocal(y),
       lambda ans, x, y: p.negative(p.true_divide(ans, y)))


def _power_dx(ans, x, y):
    """d x**y / dx = y x**(y-1).

    At x = 0 with y = 0 the product is 0 * inf; but x**0 = 1 is constant, so its derivative
    is 0: the exponent is replaced by 1 there (0 * x**0 = 0), and since the rule is written
    with power itself, every higher derivative of x**0, x**1, x**2, ... at 0 comes out
    exact (x**1 has derivative 1 and second derivative 0; x**2 has second derivative 2).
    For 0 < y < 1 the derivative at x = 0 is genuinely infinite (x**0.5 at 0: inf).
    """
    return p.multiply(y, p.power(x, p.subtract(_exponent_at_zero_base(x, y), 1.0)))


def _exponent_at_zero_base(x, y):
    """y, with 1 where x == 0 and y == 0 (only where both are, so that the mixed
    derivative in y keeps its value x**(y-1) wherever x != 0)."""
    both = (np.asarray(p.stop(x)) == 0) & (np.asarray(p.stop(y)) == 0)
    return p.where(both, 1.0, y) if both.any() else y


def _power_dy(ans, x, y):
    safe_x = p.where(p.stop(x) == 0, 1.0, x)
    return p.multiply(ans, p.log(safe_x))


binary(p.power, _power_dx, _power_dy)


def _quotient_rules(prim, integer_part) -> None:
    """x - q(x / y) y with q piecewise constant (floor for remainder, trunc for fmod):
    d/dx = 1, d/dy = -q(x / y), away from the jumps where x / y is an integer."""
    def dy(ans, x, y):
        return np.negative(integer_part(np.true_divide(p.stop(x), p.stop(y))))

    defvjp(prim,
           lambda g, ans, x, y: unbroadcast(g, shape_of(x)),
           lambda g, ans, x, y: unbroadcast(p.multiply(g, dy(ans, x, y)), shape_of(y)))
    defjvp(prim,
           lambda t, ans, x, y: batch_expand(t, ndim_of(ans)),
           lambda t, ans, x, y: p.multiply(batch_expand(t, ndim_of(ans)), dy(ans, x, y)))


_quotient_rules(p.remainder, np.floor)
_quotient_rules(p.fmod, np.trunc)

# d/dx logaddexp(x, y) = w(x, y) = expit(x - y) = exp(x - out). The weight is its own
# primitive so that it depends on x and y only (a Hessian then needs no tangent of out);
# out is passed as a plain value to evaluate it with one exp. dw/dx = w(x, y) w(y, x).
binary(p.logaddexp,
       lambda ans, x, y: p.logaddexp_weight(x, y, p.stop(ans)),
       lambda ans, x, y: p.logaddexp_weight(y, x, p.stop(ans)))


def _logaddexp_vjp(first: bool):
    def rule(g, ans, x, y):
        a, b = (x, y) if first else (y, x)
        w = p.logaddexp_weight(a, b, p.stop(ans))
        if type(w) is np.ndarray and type(g) is np.ndarray and w.shape == g.shape:
            return unbroadcast(np.multiply(g, w, out=w), shape_of(a))  # w: our own temporary
        return unbroadcast(p.multiply(g, w), shape_of(a))
    return rule


defvjp(p.logaddexp, _logaddexp_vjp(True), _logaddexp_vjp(False))


def _weight_slope(ans, x, y, out):
    return p.multiply(ans, p.logaddexp_weight(y, x, out))


defvjp(p.logaddexp_weight,
       lambda g, ans, x, y, out: unbroadcast(
           p.multiply(g, _weight_slope(ans, x, y, out)), shape_of(x)),
       lambda g, ans, x, y, out: unbroadcast(
           p.negative(p.multiply(g, _weight_slope(ans, x, y, out))), shape_of(y)))


def _weight_jvp(tangents, ans, x, y, out):
    """Tangent of w(x, y): ``t_x dw/dx - t_y dw/dx`` (dw/dy = -dw/dx), the slope computed
    once for both arguments (the same numbers as one rule per argument, added).
    ``out`` is a known value (never traced)."""
    tx, ty, t_out = tangents
    if t_out is not None:
        raise _missing_rule(p.logaddexp_weight, 2, "forward-mode")
    nd = ndim_of(ans)
    slope = _weight_slope(ans, x, y, out)
    if ty is None:
        return p.multiply(batch_expand(tx, nd), slope)
    if tx is None:
        return p.negative(p.multiply(batch_expand(ty, nd), slope))
    return p.subtract(p.multiply(batch_expand(tx, nd), slope),
                      p.multiply(batch_expand(ty, nd), slope))


p.logaddexp_weight.jvp_joint = _weight_jvp


def _pick_weight(x, y, first_wins):
    """1 where the first argument is chosen, 0 where the second is, 0.5 on ties."""
    xv, yv = p.stop(x), p.stop(y)
    chosen = (xv > yv) if first_wins else (xv < yv)
    return chosen + 0.5 * (xv == yv)


binary(p.maximum,
       lambda ans, x, y: _pick_weight(x, y, True),
       lambda ans, x, y: _pick_weight(y, x, True))
binary(p.minimum,
       lambda ans, x, y: _pick_weight(x, y, False),
       lambda ans, x, y: _pick_weight(y, x, False))
binary(p.arctan2,
       lambda ans, y, x: p.true_divide(x, p.add(p.square(x), p.square(y))),
       lambda ans, y, x: p.negative(p.true_divide(y, p.add(p.square(x), p.square(y)))))

defvjp(p.where,
       None,
       lambda g, ans, c, x, y: unbroadcast(p.where(c, g, 0.0), shape_of(x)),
       lambda g, ans, c, x, y: unbroadcast(p.where(c, 0.0, g), shape_of(y)))
defjvp(p.where,
       None,
       lambda t, ans, c, x, y: p.where(c, batch_expand(t, ndim_of(ans)), 0.0),
       lambda t, ans, c, x, y: p.where(c, 0.0, batch_expand(t, ndim_of(ans))))

# =======================================================================================
# reductions
# =======================================================================================


def _spread(g, shape, axis, keepdims):
    """Broadcast a reduced cotangent back over the reduced axes."""
    if axis is None:  # g is a single number (kept dims or not): it broadcasts as it is
        return p.broadcast_to(g, shape)
    if not keepdims:
        g = p.reshape(g, kept_shape(shape, axis))
    return p.broadcast_to(g, shape)


def _kept(ans, shape, axis, keepdims):
    return ans if keepdims else p.reshape(ans, kept_shape(shape, axis))


defvjp(p.sum, lambda g, ans, x, axis=None, keepdims=False:
       _spread(g, shape_of(x), axis, keepdims))
defjvp(p.sum, lambda t, ans, x, axis=None, keepdims=False:
       p.sum(t, axis=shifted_axes(axis, ndim_of(x)), keepdims=keepdims))


def _prod_factor(ans, x, axis):
    """d prod(x, axis) / dx: the product of the *other* elements along the axis.

    ``ans / x`` is fast and accurate for a first derivative when no product is zero. When x
    is itself traced (a higher derivative will be taken) it is not: d(ans/x)/dx_i is then
    computed as others/x_i - others/x_i, which cancels catastrophically for small x_i and is
    0/0 at zeros. The exact path multiplies the other elements without dividing.
    """
    kept = _kept(ans, shape_of(x), axis, False)
    if not isinstance(x, Traced) and np.all(p.stop(kept) != 0):
        return p.true_divide(kept, x)
    shape, nd = shape_of(x), ndim_of(x)
    axes = normalize_axes(axis, nd)
    free = tuple(i for i in range(nd) if i not in axes)
    perm = free + axes
    free_shape = tuple(shape[i] for i in free)
    n = int(np.prod([shape[i] for i in axes], dtype=int))
    lines = p.reshape(p.transpose(x, perm), free_shape + (n,))
    others = p.reshape(_others_last(lines), free_shape + tuple(shape[i] for i in axes))
    return p.transpose(others, tuple(np.argsort(perm)))


def _others_last(x):
    """others[..., i] = prod_{j != i} x[..., j], by multiplications only (no division).

    The line is padded with ones to n = 2^k and viewed as a binary tree: block products
    P_l (blocks of 2^l elements) are built by pairwise multiplication, and the others of
    element i are the product, over the levels l, of the sibling block of i's block.
    O(n log n) work in O(log n) vectorised steps; exact at zeros and to every order.
    """
    shape = shape_of(x)
    n = shape[-1]
    lead = shape[:-1]
    if n <= 1:
        return np.ones(shape)
    size = 1 << (n - 1).bit_length()
    if size > n:
        x = p.concatenate_args(-1, x, np.ones(lead + (size - n,)))
    others = None
    block = x            # P_l: products of blocks of 2^l elements, shape lead + (size >> l,)
    width = 1            # 2^l
    while width < size:
        m = size // width
        pairs = p.reshape(block, lead + (m // 2, 2))
        sibling = p.reshape(p.getitem(pairs, (Ellipsis, slice(None, None, -1))), lead + (m,))
        spread = p.reshape(p.broadcast_to(p.reshape(sibling, lead + (m, 1)),
                                          lead + (m, width)), lead + (size,))
        others = spread if others is None else p.multiply(others, spread)
        block = p.multiply(p.getitem(pairs, (Ellipsis, 0)), p.getitem(pairs, (Ellipsis, 1)))
        width *= 2
    return p.getitem(others, (Ellipsis, slice(0, n))) if size > n else others


defvjp(p.prod, lambda g, ans, x, axis=None, keepdims=False: p.multiply(
    _spread(g, shape_of(x), axis, keepdims), _prod_factor(ans, x, axis)))
defjvp(p.prod, lambda t, ans, x, axis=None, keepdims=False: p.sum(
    p.multiply(t, _prod_factor(ans, x, axis)),
    axis=shifted_axes(axis, ndim_of(x)), keepdims=keepdims))


def _extremum_weights(ans, x, axis, keepdims):
    """Where x attains the max/min along axis, split equally among ties (no derivative)."""
    xv = p.stop(x)
    hit = xv == p.stop(_kept(ans, shape_of(x), axis, keepdims))
    return hit / np.sum(hit, axis=normalize_axes(axis, np.ndim(xv)), keepdims=True)


for _prim in (p.amax, p.amin):
    defvjp(_prim, lambda g, ans, x, axis=None, keepdims=False: p.multiply(
        _spread(g, shape_of(x), axis, keepdims), _extremum_weights(ans, x, axis, keepdims)))
    defjvp(_prim, lambda t, ans, x, axis=None, keepdims=False: p.sum(
        p.multiply(t, _extremum_weights(ans, x, axis, keepdims)),
        axis=shifted_axes(axis, ndim_of(x)), keepdims=keepdims))


def _reverse_along(x, axis):
    index = [slice(None)] * ndim_of(x)
    index[axis] = slice(None, None, -1)
    return p.getitem(x, tuple(index))


def _cumsum_vjp(g, ans, x, axis=None):
    if axis is None:
        return p.reshape(_cumsum_vjp(g, ans, p.reshape(x, (-1,)), 0), shape_of(x))
    return _reverse_along(p.cumsum(_reverse_along(g, axis), axis=axis), axis)


def _cumsum_jvp(t, ans, x, axis=None):
    if axis is None:
        return p.cumsum(p.reshape(t, (shape_of(t)[0], -1)), axis=1)
    return p.cumsum(t, axis=axis % ndim_of(x) + 1)


defvjp(p.cumsum, _cumsum_vjp)
defjvp(p.cumsum, _cumsum_jvp)

# =======================================================================================
# shape and indexing
# =======================================================================================

def _reshape_jvp(t, ans, x, shape, order="C"):
    batch = shape_of(t)[:1]
    if order == "C":
        return p.reshape(t, batch + shape_of(ans))
    # order "F": with the batch axis last, each direction is one contiguous F-order block
    nd = ndim_of(t)
    last = p.reshape(p.transpose(t, tuple(range(1, nd)) + (0,)), shape_of(ans) + batch,
                     order=order)
    return p.transpose(last, (ndim_of(ans),) + tuple(range(ndim_of(ans))))


defvjp(p.reshape, lambda g, ans, x, shape, order="C": p.reshape(g, shape_of(x), order=order))
defjvp(p.reshape, _reshape_jvp)


def _axes_or_reversed(axes, ndim):
    return tuple(range(ndim))[::-1] if axes is None else tuple(a % ndim for a in axes)


defvjp(p.transpose, lambda g, ans, x, axes=None: p.transpose(
    g, tuple(np.argsort(_axes_or_reversed(axes, ndim_of(x))))))
defjvp(p.transpose, lambda t, ans, x, axes=None: p.transpose(
    t, (0,) + tuple(a + 1 for a in _axes_or_reversed(axes, ndim_of(x)))))

defvjp(p.broadcast_to, lambda g, ans, x, shape: unbroadcast(g, shape_of(x)))
defjvp(p.broadcast_to, lambda t, ans, x, shape: p.broadcast_to(
    batch_expand(t, len(shape)), shape_of(t)[:1] + tuple(shape)))


def _is_basic(item) -> bool:
    return item is None or item is Ellipsis or isinstance(item, (slice, int, np.integer))


def _advanced_shape(item):
    """The shape an advanced index contributes: a boolean mask acts as its nonzero()."""
    arr = np.asarray(item)
    if arr.dtype == bool:
        return (int(np.count_nonzero(arr)),)
    return arr.shape


def batched_index(index) -> tuple[tuple, int]:
    """The index for a tangent with a leading batch axis, and where that axis lands.

    numpy moves the dimensions of advanced (array) indices to the front when a slice,
    Ellipsis or newaxis separates them (an integer counts as an advanced index as soon as
    one array index is present); the batch axis then follows them instead of leading.
    """
    items = index if isinstance(index, tuple) else (index,)
    new = (slice(None),) + items
    arrays = [i for i, it in enumerate(items) if not _is_basic(it)]
    if not arrays:
        return new, 0
    advanced = [i for i, it in enumerate(items)
                if not _is_basic(it) or isinstance(it, (int, np.integer))]
    if advanced[-1] - advanced[0] + 1 == len(advanced):
        return new, 0
    adv_ndim = len(np.broadcast_shapes(*[_advanced_shape(items[i]) for i in advanced]))
    return new, adv_ndim


def _getitem_jvp(t, ans, x, index):
    new, batch_at = batched_index(index)
    out = p.getitem(t, new)
    if batch_at:
        out = p.transpose(out, _move_to_front(ndim_of(out), batch_at))
    return out


def _move_to_front(ndim, axis):
    return (axis,) + tuple(i for i in range(ndim) if i != axis)


def _untake_jvp(t, ans, g, index, shape):
    new, batch_at = batched_index(index)
    batch = shape_of(t)[:1]
    if batch_at:
        order = _move_to_front(ndim_of(t), batch_at)
        t = p.transpose(t, tuple(np.argsort(order)))
    return p.untake(t, new, batch + tuple(shape))


defvjp(p.getitem, lambda g, ans, x, index: p.untake(g, index, shape_of(x)))
defjvp(p.getitem, _getitem_jvp)
defvjp(p.untake, lambda g, ans, t, index, shape: p.getitem(g, index))
defjvp(p.untake, _untake_jvp)


def _concatenate_vjp(i):
    def rule(g, ans, axis, *arrays):
        ax = axis % ndim_of(ans)
        start = int(np.sum([shape_of(a)[ax] for a in arrays[:i - 1]]))
        index = [slice(None)] * ndim_of(ans)
        index[ax] = slice(start, start + shape_of(arrays[i - 1])[ax])
        return p.getitem(g, tuple(index))
    return rule


class _ConcatenateRules(dict):
    """vjp rules of concatenate for any argument position (arrays start at 1)."""

    def __missing__(self, i):
        if i == 0:
            raise KeyError(i)
        rule = _concatenate_vjp(i)
        self[i] = rule
        return rule

    def __contains__(self, i):
        return isinstance(i, int) and i >= 1


def _concatenate_jvp(tangents, ans, axis, *arrays):
    batch = next(shape_of(t)[0] for t in tangents if t is not None)
    parts = [np.zeros((batch,) + shape_of(a)) if t is None else t
             for t, a in zip(tangents[1:], arrays)]
    return p.concatenate_args(axis % ndim_of(ans) + 1, *parts)


p.concatenate_args.vjps = _ConcatenateRules()
p.concatenate_args.jvp_joint = _concatenate_jvp


def _diag_vjp(g, ans, x):
    if ndim_of(x) == 1:
        return p.diag(g)
    k = min(shape_of(x))
    return p.untake(g, (np.arange(k), np.arange(k)), shape_of(x))


def _diag_jvp(t, ans, x):
    if ndim_of(x) == 1:
        n = shape_of(x)[0]
        return p.multiply(p.reshape(t, shape_of(t) + (1,)), np.eye(n))
    k = min(shape_of(x))
    return p.getitem(t, (slice(None), np.arange(k), np.arange(k)))


defvjp(p.diag, _diag_vjp)
defjvp(p.diag, _diag_jvp)

# =======================================================================================
# matrix products
# =======================================================================================


def _matmul_vjp_a(g, ans, a, b):
    a_nd, b_nd = ndim_of(a), ndim_of(b)
    if b_nd == 1:
        ga = p.multiply(expand_last(g), b)
    elif a_nd == 1:
        ga = p.matmul(b, g) if b_nd == 2 else p.getitem(
            p.matmul(b, expand_last(g)), (Ellipsis, 0))
    else:
        ga = p.matmul(g, swap_last(b))
    return unbroadcast(ga, shape_of(a))


def _matmul_vjp_b(g, ans, a, b):
    a_nd, b_nd = ndim_of(a), ndim_of(b)
    if a_nd == 1:
        gb = p.multiply(g, a) if b_nd == 1 else p.multiply(
            expand_last(a), p.reshape(g, shape_of(g)[:-1] + (1,) + shape_of(g)[-1:]))
    elif b_nd == 1:
        gb = p.matmul(g, a) if a_nd == 2 else p.getitem(
            p.matmul(swap_last(a), expand_last(g)), (Ellipsis, 0))
    else:
        gb = p.matmul(swap_last(a), g)
    return unbroadcast(gb, shape_of(b))


def _promote(shape, is_first):
    """Shape of a matmul operand after numpy's promotion of 1-D operands to matrices."""
    if len(shape) != 1:
        return shape
    return (1,) + shape if is_first else shape + (1,)


def _matmul_jvp_general(t, ans, a, b, tangent_of_first):
    """Batched tangent of a @ b for operands of any rank (the slow, general path)."""
    a2, b2 = _promote(shape_of(a), True), _promote(shape_of(b), False)
    out_nd = max(len(a2), len(b2))
    batch = shape_of(t)[0]
    if tangent_of_first:
        t2 = p.reshape(t, (batch,) + (1,) * (out_nd - len(a2)) + a2)
        res = p.matmul(t2, p.reshape(b, b2))
    else:
        t2 = p.reshape(t, (batch,) + (1,) * (out_nd - len(b2)) + b2)
        res = p.matmul(p.reshape(a, a2), t2)
    return p.reshape(res, (batch,) + shape_of(ans))


def _matmul_jvp_a(t, ans, a, b):
    if ndim_of(b) <= 2:
        return p.matmul(t, b)  # (B, ..., n, m) @ (m[, p]) broadcasts correctly
    return _matmul_jvp_general(t, ans, a, b, True)


IDENTITY_SEEDS: set = set()  # ids of identity tangents made by jacobian/hessian


def _matmul_jvp_b(t, ans, a, b):
    a_nd, b_nd = ndim_of(a), ndim_of(b)
    if b_nd == 1 and a_nd == 2:
        if id(t) in IDENTITY_SEEDS:
            return swap_last(a)  # the directions are the unit vectors: a @ e_k = a[:, k]
        return swap_last(p.matmul(a, swap_last(t)))  # one matrix product for all directions
    if b_nd == 1 and a_nd == 1:
        return p.matmul(t, a)
    if b_nd == 2 and a_nd <= 2:
        return p.matmul(a, t)
    return _matmul_jvp_general(t, ans, a, b, False)


defvjp(p.matmul, _matmul_vjp_a, _matmul_vjp_b)
defjvp(p.matmul, _matmul_jvp_a, _matmul_jvp_b)
