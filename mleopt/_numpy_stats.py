"""mleopt.numpy, part 3: differences, cumulative products, averages, cov / corrcoef,
NaN-ignoring reductions and order statistics (median, quantile, percentile), select.
Private: mleopt/numpy.py re-exports the public names."""
import builtins as _builtins
import numpy as _np
from .ad import primitives as _p
from .ad.rules import normalize_axes as _normalize_axes
from .ad.rules import normalize_axis as _normalize_axis
from ._numpy_base import *  # noqa: F401,F403
from ._numpy_gather import *  # noqa: F401,F403
from ._numpy_base import _count, _static, _traced, _value_of  # noqa: F401
from ._numpy_gather import _axis_of  # noqa: F401


# --- differences, cumulative products, averages -------------------------------------------
def diff(a, n=1, axis=-1, prepend=None, append=None):
    """numpy.diff: a[1:] - a[:-1] along axis, n times (prepend/append joined first)."""
    a = asarray(a)
    nd = _np.ndim(_static(a))
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
    if extra is None or _np.ndim(_static(extra)) != 0:
        return extra
    shp = list(_np.shape(_static(a)))
    shp[axis] = 1
    return broadcast_to(extra, tuple(shp))


def gradient(f, *varargs, axis=None, edge_order=1):
    """numpy.gradient with uniform spacings (one number per axis): central differences
    (f[i+1] - f[i-1]) / 2h inside, one-sided differences of order edge_order at the ends.
    A tuple for several axes, as numpy."""
    if not _traced(f) and not _traced(varargs):
        return _np.gradient(f, *varargs, axis=axis, edge_order=edge_order)
    f = asarray(f)
    nd = _np.ndim(_static(f))
    axes = _normalize_axes(axis, nd)
    spacing = list(varargs) or [1.0]
    if len(spacing) == 1:
        spacing = spacing * len(axes)
    if len(spacing) != len(axes) or _builtins.any(_np.ndim(_static(h)) for h in spacing):
        raise NotImplementedError("gradient of a traced value takes one uniform spacing per "
                                  "axis (numbers); coordinate arrays are not supported.")
    if edge_order not in (1, 2):
        raise ValueError("gradient: edge_order must be 1 or 2.")
    out = tuple(_gradient_along(f, ax, h, edge_order) for ax, h in zip(axes, spacing))
    return out[0] if len(out) == 1 else out


def _gradient_along(f, axis, h, edge_order):
    nd = _np.ndim(_static(f))
    n = _np.shape(_static(f))[axis]
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
    n = _np.shape(_static(lines))[-1]
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
                        for i in range(_np.ndim(_static(out)))])
    return out


def average(a, axis=None, weights=None, returned=False, keepdims=False):
    """numpy.average: sum(w a) / sum(w) along axis (mean without weights). ``returned``
    also gives the sum of the weights, broadcast to the result's shape."""
    a = asarray(a)
    if weights is None:
        avg = mean(a, axis=axis, keepdims=keepdims)
        scale = _np.full(_np.shape(_static(avg)), float(_count(a, axis)))
        return (avg, scale) if returned else avg
    w = asarray(weights)
    sa, sw = _np.shape(_static(a)), _np.shape(_static(w))
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
    return (avg, broadcast_to(scale, _np.shape(_static(avg)))) if returned else avg


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None):
    """numpy.cov: with rows as variables (rowvar=True), X centred by its (weighted) mean,
    cov = X W X' / fact, fact = sum(w) - ddof (numpy's correction with aweights)."""
    X = atleast_2d(asarray(m))
    if not rowvar and _np.shape(_static(X))[0] != 1:
        X = transpose(X)
    if y is not None:
        Y = atleast_2d(asarray(y))
        if not rowvar and _np.shape(_static(Y))[0] != 1:
            Y = transpose(Y)
        X = concatenate([X, Y], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    n = _np.shape(_static(X))[1]
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
    if _np.ndim(_static(c)) == 0:
        return _p.true_divide(c, c)
    sd = _p.sqrt(diagonal(c))
    c = _p.true_divide(_p.true_divide(c, reshape(sd, (-1, 1))), reshape(sd, (1, -1)))
    return clip(c, -1.0, 1.0)


def ptp(a, axis=None, keepdims=False):
    return _p.subtract(max(a, axis=axis, keepdims=keepdims), min(a, axis=axis, keepdims=keepdims))


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """numpy.trapezoid: sum((y[1:] + y[:-1]) / 2 * diff(x)) along axis."""
    y = asarray(y)
    nd = _np.ndim(_static(y))
    ax = _normalize_axis(axis, nd)
    lo, hi = [slice(None)] * nd, [slice(None)] * nd
    lo[ax], hi[ax] = slice(None, -1), slice(1, None)
    if x is None:
        d = dx
    else:
        d = diff(x, axis=-1 if _np.ndim(_static(x)) == 1 else axis)
        if _np.ndim(_static(x)) == 1:
            d = reshape(d, tuple(-1 if i == ax else 1 for i in range(nd)))
    mid = _p.multiply(_p.add(y[tuple(hi)], y[tuple(lo)]), 0.5)
    return _p.sum(_p.multiply(mid, d), axis=ax)


def polyval(p, x):
    """Horner's scheme: p[0] x^(n-1) + ... + p[n-1], differentiable in p and x."""
    p = asarray(p)
    out = _np.zeros_like(_value_of(x), dtype=float) if not _traced(x) else _p.multiply(x, 0.0)
    for i in range(_np.shape(_static(p))[0]):
        out = _p.add(_p.multiply(out, x), p[i])
    return out


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
    shp = _np.shape(_static(a))
    axes = _normalize_axes(axis, len(shp))
    free = [i for i in range(len(shp)) if i not in axes]
    lead = tuple(shp[i] for i in free)
    lines = reshape(transpose(a, free + list(axes)), lead + (-1,))
    n = _np.shape(_static(lines))[-1]
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
    nd_res = _np.ndim(_static(res))
    res = moveaxis(res, nd_res - 1, 0)
    return reshape(res, _np.shape(qv) + _np.shape(_static(res))[1:])


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


