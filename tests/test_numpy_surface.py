"""The wider numpy surface of mleopt.numpy (issue 9): sort, order statistics, gathers,
cumprod, average / cov / corrcoef, pad, nan-reductions, lists of traced values, ...

Each case is checked twice: its value against numpy's own function on the same plain
arrays (numpy is the reference), and its derivatives with ``check_grads`` (reverse and
forward mode against central finite differences, forward against reverse, Hessians four
ways, to second order). Points are chosen away from ties (sort, quantiles) and kinks.
"""
from __future__ import annotations

import warnings

import numpy as onp
import pytest

import mleopt.numpy as np
from check import check_grads, rand, rand_distinct
from mleopt.ad import TraceError, grad, hessian, jacobian
from mleopt.ad import check_grads as ad_check_grads   # autograd's helper (takes empty outputs)

X34 = rand_distinct((3, 4), 0)          # distinct values: no ties in sort / quantiles
V4 = rand_distinct((4,), 1)
W4 = onp.array([0.5, 1.0, 2.0, 1.5])


def _same(mine, theirs):
    """mleopt.numpy's value equals numpy's (lists and tuples compared item by item)."""
    if isinstance(theirs, (list, tuple)):
        assert len(mine) == len(theirs)
        for m, t in zip(mine, theirs):
            _same(m, t)
        return
    onp.testing.assert_allclose(onp.asarray(mine), theirs, rtol=1e-12, atol=1e-13)


# name: (function of one float array, numpy's version, the point)
ONE = {
    "sort_axis0": (lambda a: np.sort(a, axis=0), lambda a: onp.sort(a, axis=0), X34),
    "sort_none": (lambda a: np.sort(a, axis=None), lambda a: onp.sort(a, axis=None), X34),
    "partition": (lambda a: np.partition(a, 2), lambda a: onp.partition(a, 2), X34),
    "median": (np.median, onp.median, X34),
    "median_axis_keep": (lambda a: np.median(a, axis=1, keepdims=True),
                         lambda a: onp.median(a, axis=1, keepdims=True), X34),
    "median_axes": (lambda a: np.median(a, axis=(0, 1)), lambda a: onp.median(a, (0, 1)), X34),
    "quantile": (lambda a: np.quantile(a, [0.1, 0.75], axis=0),
                 lambda a: onp.quantile(a, [0.1, 0.75], axis=0), X34),
    "quantile_2d_q": (lambda a: np.quantile(a, [[0.3], [0.9]], axis=1),
                      lambda a: onp.quantile(a, [[0.3], [0.9]], axis=1), X34),
    "percentile": (lambda a: np.percentile(a, 37.0, axis=-1),
                   lambda a: onp.percentile(a, 37.0, axis=-1), X34),
    "diff": (lambda a: np.diff(a), onp.diff, X34),
    "diff_n2_axis0": (lambda a: np.diff(a, n=2, axis=0), lambda a: onp.diff(a, 2, 0), X34),
    "diff_prepend": (lambda a: np.diff(a, prepend=1.5, append=a[:, :1]),
                     lambda a: onp.diff(a, prepend=1.5, append=a[:, :1]), X34),
    "gradient": (lambda a: np.gradient(a, 0.5, axis=1), lambda a: onp.gradient(a, 0.5, axis=1),
                 X34),
    "gradient_order2": (lambda a: np.gradient(a, 2.0, 1.0, edge_order=2),
                        lambda a: onp.gradient(a, 2.0, 1.0, edge_order=2), X34),
    "full": (lambda a: np.full((2, 3), a[0, 0]), lambda a: onp.full((2, 3), a[0, 0]), X34),
    "ediff1d": (lambda a: np.ediff1d(a, to_begin=[2.0]),
                lambda a: onp.ediff1d(a, to_begin=[2.0]), X34),
    "repeat": (lambda a: np.repeat(a, [1, 0, 2, 1], axis=1),
               lambda a: onp.repeat(a, [1, 0, 2, 1], axis=1), X34),
    "repeat_flat": (lambda a: np.repeat(a, 2), lambda a: onp.repeat(a, 2), X34),
    "tile": (lambda a: np.tile(a, (2, 1, 2)), lambda a: onp.tile(a, (2, 1, 2)), X34),
    "split": (lambda a: np.split(a, [1, 3], axis=1), lambda a: onp.split(a, [1, 3], axis=1), X34),
    "array_split": (lambda a: np.array_split(a, 3, axis=1),
                    lambda a: onp.array_split(a, 3, axis=1), X34),
    "hsplit": (lambda a: np.hsplit(a, 2), lambda a: onp.hsplit(a, 2), X34),
    "vsplit": (lambda a: np.vsplit(a, [1]), lambda a: onp.vsplit(a, [1]), X34),
    "dsplit": (lambda a: np.dsplit(a.reshape(3, 2, 2), 2),
               lambda a: onp.dsplit(a.reshape(3, 2, 2), 2), X34),
    "roll": (lambda a: np.roll(a, 1), lambda a: onp.roll(a, 1), X34),
    "roll_axes": (lambda a: np.roll(a, (1, -1), axis=(0, 1)),
                  lambda a: onp.roll(a, (1, -1), axis=(0, 1)), X34),
    "flip": (np.flip, onp.flip, X34),
    "flip_axis": (lambda a: np.flip(a, 1), lambda a: onp.flip(a, 1), X34),
    "fliplr": (np.fliplr, onp.fliplr, X34),
    "flipud": (np.flipud, onp.flipud, X34),
    "rot90": (lambda a: np.rot90(a, 3), lambda a: onp.rot90(a, 3), X34),
    "take": (lambda a: np.take(a, [[0, 5], [11, 5]]), lambda a: onp.take(a, [[0, 5], [11, 5]]),
             X34),
    "take_axis_wrap": (lambda a: np.take(a, [0, 5, -1], axis=1, mode="wrap"),
                       lambda a: onp.take(a, [0, 5, -1], axis=1, mode="wrap"), X34),
    "take_along_axis": (lambda a: np.take_along_axis(a, onp.argsort(-a, axis=0), 0),
                        lambda a: onp.take_along_axis(a, onp.argsort(-a, axis=0), 0), X34),
    "cumprod": (lambda a: np.cumprod(a, axis=1), lambda a: onp.cumprod(a, axis=1), X34),
    "cumprod_flat": (np.cumprod, onp.cumprod, X34),
    "average": (lambda a: np.average(a, axis=1, weights=W4),
                lambda a: onp.average(a, axis=1, weights=W4), X34),
    "average_returned": (lambda a: np.average(a, axis=1, weights=W4, returned=True)[0],
                         lambda a: onp.average(a, axis=1, weights=W4, returned=True)[0], X34),
    "average_plain": (lambda a: np.average(a, axis=0), lambda a: onp.average(a, axis=0), X34),
    "cov": (np.cov, onp.cov, X34),
    "cov_cols_bias": (lambda a: np.cov(a, rowvar=False, bias=True),
                      lambda a: onp.cov(a, rowvar=False, bias=True), X34),
    "cov_y": (lambda a: np.cov(a[0], a[1] ** 2), lambda a: onp.cov(a[0], a[1] ** 2), X34),
    "cov_weights": (lambda a: np.cov(a, fweights=[1, 2, 1, 3], aweights=W4, ddof=1),
                    lambda a: onp.cov(a, fweights=[1, 2, 1, 3], aweights=W4, ddof=1), X34),
    "corrcoef": (np.corrcoef, onp.corrcoef, X34),
    "pad_constant": (lambda a: np.pad(a, ((1, 0), (2, 1)), constant_values=((1.0, 2.0), (3.0, 0.0))),
                     lambda a: onp.pad(a, ((1, 0), (2, 1)),
                                       constant_values=((1.0, 2.0), (3.0, 0.0))), X34),
    "pad_edge": (lambda a: np.pad(a, 2, mode="edge"), lambda a: onp.pad(a, 2, mode="edge"), X34),
    "pad_reflect": (lambda a: np.pad(a, ((2, 1), (1, 3)), mode="reflect"),
                    lambda a: onp.pad(a, ((2, 1), (1, 3)), mode="reflect"), X34),
    "pad_symmetric": (lambda a: np.pad(a, 1, mode="symmetric"),
                      lambda a: onp.pad(a, 1, mode="symmetric"), X34),
    "pad_wrap": (lambda a: np.pad(a, (1, 2), mode="wrap"),
                 lambda a: onp.pad(a, (1, 2), mode="wrap"), X34),
    "atleast_3d": (lambda a: np.atleast_3d(a[0]), lambda a: onp.atleast_3d(a[0]), X34),
    "atleast_2d": (lambda a: np.atleast_2d(a[0, 0]), lambda a: onp.atleast_2d(a[0, 0]), X34),
    "atleast_1d_many": (lambda a: np.atleast_1d(a[0, 0], a), lambda a: onp.atleast_1d(a[0, 0], a),
                        X34),
    "tril": (lambda a: np.tril(a, 1), lambda a: onp.tril(a, 1), X34),
    "triu": (lambda a: np.triu(a, -1), lambda a: onp.triu(a, -1), X34),
    "tril_stack": (lambda a: np.tril(a.reshape(3, 2, 2)), lambda a: onp.tril(a.reshape(3, 2, 2)),
                   X34),
    "trace_offset": (lambda a: np.trace(a, 1), lambda a: onp.trace(a, 1), X34),
    "trace_axes": (lambda a: np.trace(a.reshape(3, 2, 2), -1, 0, 2),
                   lambda a: onp.trace(a.reshape(3, 2, 2), -1, 0, 2), X34),
    "diag_k": (lambda a: np.diag(a, -1), lambda a: onp.diag(a, -1), X34),
    "diag_vector_k": (lambda a: np.diag(a[0], 2), lambda a: onp.diag(a[0], 2), X34),
    "diagflat": (lambda a: np.diagflat(a[:2, :2], -1), lambda a: onp.diagflat(a[:2, :2], -1), X34),
    "diagonal": (lambda a: np.diagonal(a.reshape(2, 3, 2), 1, 2, 1),
                 lambda a: onp.diagonal(a.reshape(2, 3, 2), 1, 2, 1), X34),
    "kron": (lambda a: np.kron(a, a[:2, :3]), lambda a: onp.kron(a, a[:2, :3]), X34),
    "kron_ranks": (lambda a: np.kron(a[0], a[1:]), lambda a: onp.kron(a[0], a[1:]), X34),
    "cross": (lambda a: np.cross(a[:, :3], a[:, 1:]), lambda a: onp.cross(a[:, :3], a[:, 1:]), X34),
    "cross_axis": (lambda a: np.cross(a[:3, :2], a[:3, 2:], axisa=0, axisb=0),
                   lambda a: onp.cross(a[:3, :2], a[:3, 2:], axisa=0, axisb=0), X34),
    "cross_2_3": (lambda a: np.cross(a[:, :2], a[:, 1:]),
                  lambda a: onp.cross(onp.pad(a[:, :2], ((0, 0), (0, 1))), a[:, 1:]), X34),
    "linspace": (lambda a: np.linspace(a[0, 0], a[1, 1], 5),
                 lambda a: onp.linspace(a[0, 0], a[1, 1], 5), X34),
    "linspace_vec_axis": (lambda a: np.linspace(a[0], a[1], 4, endpoint=False, axis=1),
                          lambda a: onp.linspace(a[0], a[1], 4, endpoint=False, axis=1), X34),
    "linspace_retstep": (lambda a: np.linspace(a[0, 0], 2.0, 3, retstep=True)[1],
                         lambda a: onp.linspace(a[0, 0], 2.0, 3, retstep=True)[1], X34),
    "r_": (lambda a: np.r_[a[0], 2.0, a[1, :2], 0:2], lambda a: onp.r_[a[0], 2.0, a[1, :2], 0:2],
           X34),
    "c_": (lambda a: np.c_[a[0], a[1], onp.ones(4)], lambda a: onp.c_[a[0], a[1], onp.ones(4)],
           X34),
    "einsum_interleaved": (lambda a: np.einsum(a, [0, 1], a, [2, 1], [0, 2]),
                           lambda a: onp.einsum(a, [0, 1], a, [2, 1], [0, 2]), X34),
    "einsum_interleaved_implicit": (lambda a: np.einsum(a, [Ellipsis, 1], a[0], [1]),
                                    lambda a: onp.einsum(a, [Ellipsis, 1], a[0], [1]), X34),
    "select": (lambda a: np.select([a > 0.5, a < -1.0], [a ** 2, np.sin(a)], a[0]),
               lambda a: onp.select([a > 0.5, a < -1.0], [a ** 2, onp.sin(a)], a[0]), X34),
    "exp2": (np.exp2, onp.exp2, X34),
    "arccosh": (lambda a: np.arccosh(a ** 2 + 1.5), lambda a: onp.arccosh(a ** 2 + 1.5), X34),
    "cbrt": (np.cbrt, onp.cbrt, X34),
    "deg2rad": (np.deg2rad, onp.deg2rad, X34),
    "sinc": (np.sinc, onp.sinc, X34),
    "sinc_at_0": (lambda a: np.sinc(a * 1e-5), lambda a: onp.sinc(a * 1e-5), X34),
    "ptp": (lambda a: np.ptp(a, axis=1), lambda a: onp.ptp(a, axis=1), X34),
    "trapezoid": (lambda a: np.trapezoid(a, dx=0.5), lambda a: onp.trapezoid(a, dx=0.5), X34),
    "trapezoid_x": (lambda a: np.trapezoid(a, x=[0.0, 0.3, 1.0, 1.2]),
                    lambda a: onp.trapezoid(a, x=[0.0, 0.3, 1.0, 1.2]), X34),
    "polyval": (lambda a: np.polyval(a[0], a[1]), lambda a: onp.polyval(a[0], a[1]), X34),
    "delete": (lambda a: np.delete(a, [0, 2], axis=1), lambda a: onp.delete(a, [0, 2], axis=1),
               X34),
    "resize": (lambda a: np.resize(a, (5, 3)), lambda a: onp.resize(a, (5, 3)), X34),
    "dstack": (lambda a: np.dstack([a, a ** 2]), lambda a: onp.dstack([a, a ** 2]), X34),
    "vecdot": (lambda a: np.vecdot(a, a[::-1]), lambda a: onp.vecdot(a, a[::-1]), X34),
    "matvec": (lambda a: np.matvec(a, a[0]), lambda a: onp.matvec(a, a[0]), X34),
    "nan_to_num": (lambda a: np.nan_to_num(np.where(a > 1.0, onp.inf, a), posinf=7.0),
                   lambda a: onp.nan_to_num(onp.where(a > 1.0, onp.inf, a), posinf=7.0), X34),
}


@pytest.mark.parametrize("name", sorted(ONE))
def test_values_match_numpy(name):
    mine, theirs, x = ONE[name]
    _same(mine(x), theirs(x))


@pytest.mark.parametrize("name", sorted(ONE))
def test_derivatives_to_second_order(name):
    mine, _, x = ONE[name]

    def f(a):
        out = mine(a)
        return np.concatenate([np.ravel(o) for o in out]) if isinstance(out, (list, tuple)) \
            else out
    check_grads(f, x, n_dirs=1)


# =======================================================================================
# functions of two arguments, with broadcasting
# =======================================================================================

TWO = {
    "hypot": (np.hypot, onp.hypot),
    "logaddexp2": (np.logaddexp2, onp.logaddexp2),
    "fmax": (np.fmax, onp.fmax),
    "fmin": (np.fmin, onp.fmin),
    "copysign": (np.copysign, onp.copysign),
    "kron": (np.kron, onp.kron),
    "select": (lambda a, b: np.select([a > 0, b > 0], [b, a ** 2], -1.0),
               lambda a, b: onp.select([a > 0, b > 0], [b, a ** 2], -1.0)),
}


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 1), (3,)), ((), (2, 3))], ids=str)
@pytest.mark.parametrize("name", sorted(TWO))
def test_two_arguments(name, shapes):
    mine, theirs = TWO[name]
    x, y = rand(shapes[0], "nonzero", 3), rand(shapes[1], "nonzero", 4)
    _same(mine(x, y), theirs(x, y))
    check_grads(mine, x, y, n_dirs=1)


def test_cross_and_weights_in_both_arguments():
    a, b = rand((2, 3), "real", 5), rand((3,), "positive", 6)
    _same(np.cross(a, b), onp.cross(a, b))
    check_grads(np.cross, a, b, n_dirs=1)
    _same(np.average(a, axis=1, weights=b), onp.average(a, axis=1, weights=b))
    check_grads(lambda a, b: np.average(a, axis=1, weights=b), a, b, n_dirs=1)
    check_grads(lambda a, b: np.average(a, axis=1, weights=b, returned=True)[1], a, b)


def test_order_statistics_in_q():
    q = onp.array([0.15, 0.6])
    check_grads(lambda q: np.quantile(V4, q), q)
    check_grads(lambda q: np.percentile(X34, q * 100.0, axis=0), q)
    g = grad(lambda q: np.quantile(V4, q))(0.5)
    s = onp.sort(V4)
    onp.testing.assert_allclose(g, 3 * (s[2] - s[1]))   # (n - 1)(s[hi] - s[lo])


def test_median_derivative_is_the_order_statistic():
    x = onp.array([3.0, -1.0, 2.0, 0.5, 7.0])
    onp.testing.assert_allclose(grad(np.median)(x), [0, 0, 1, 0, 0])
    onp.testing.assert_allclose(grad(np.median)(x[:4]), [0, 0, 0.5, 0.5])


def test_cumprod_exact_at_zeros():
    x = onp.array([[1.5, 0.0, -2.0, 0.7], [0.0, 0.0, 3.0, 1.2]])
    _same(np.cumprod(x, axis=1), onp.cumprod(x, axis=1))
    check_grads(lambda a: np.cumprod(a, axis=1), x)
    check_grads(lambda a: np.cumprod(a), x[0], order=3)


def test_third_order_through_gathers_and_quantiles():
    check_grads(lambda a: np.sum(np.sort(a) * np.roll(a, 1) ** 2), V4, order=3)
    check_grads(lambda a: np.median(a ** 3) * np.sum(np.pad(a, 1, mode="reflect") ** 2), V4,
                order=3)


# =======================================================================================
# NaN-ignoring reductions
# =======================================================================================

MASK = onp.array([[False, True, False, False], [False, False, False, True],
                  [True, False, False, False]])
NANS = {
    "nansum": (lambda a: np.nansum(a, axis=1), lambda a: onp.nansum(a, axis=1)),
    "nanprod": (lambda a: np.nanprod(a, axis=0), lambda a: onp.nanprod(a, axis=0)),
    "nanmean": (lambda a: np.nanmean(a, axis=1, keepdims=True),
                lambda a: onp.nanmean(a, axis=1, keepdims=True)),
    "nanvar": (lambda a: np.nanvar(a, axis=0, ddof=1), lambda a: onp.nanvar(a, axis=0, ddof=1)),
    "nanstd": (np.nanstd, onp.nanstd),
    "nanmax": (lambda a: np.nanmax(a, axis=1), lambda a: onp.nanmax(a, axis=1)),
    "nanmin": (lambda a: np.nanmin(a, axis=0), lambda a: onp.nanmin(a, axis=0)),
    "nancumsum": (lambda a: np.nancumsum(a, axis=1), lambda a: onp.nancumsum(a, axis=1)),
    "nancumprod": (lambda a: np.nancumprod(a, axis=0), lambda a: onp.nancumprod(a, axis=0)),
    "nanmedian": (lambda a: np.nanmedian(a, axis=1), lambda a: onp.nanmedian(a, axis=1)),
    "nanquantile": (lambda a: np.nanquantile(a, [0.2, 0.9], axis=0),
                    lambda a: onp.nanquantile(a, [0.2, 0.9], axis=0)),
    "nanpercentile": (lambda a: np.nanpercentile(a, 40.0), lambda a: onp.nanpercentile(a, 40.0)),
}


@pytest.mark.parametrize("name", sorted(NANS))
def test_nan_reductions(name):
    mine, theirs = NANS[name]
    with_nan = onp.where(MASK, onp.nan, X34)
    _same(mine(with_nan), theirs(with_nan))
    # the NaNs are placed by where (derivative 0 there); every other value is checked
    check_grads(lambda a: mine(np.where(MASK, onp.nan, a)), X34, n_dirs=1)


def test_all_nan_slice_warns_and_gives_nan_as_numpy():
    x = onp.array([[onp.nan, onp.nan], [1.0, 2.0]])
    for mine, theirs in ((np.nanmax, onp.nanmax), (np.nanmean, onp.nanmean),
                         (np.nanmedian, onp.nanmedian)):
        with pytest.warns(RuntimeWarning):
            got = mine(x, axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            onp.testing.assert_array_equal(got, theirs(x, axis=1))


def test_median_of_a_line_with_nan_is_nan_as_numpy():
    x = onp.array([[onp.nan, 1.0, 2.0], [3.0, 1.0, 2.0]])
    onp.testing.assert_array_equal(np.median(x, axis=1), onp.median(x, axis=1))


# =======================================================================================
# lists and tuples of traced values where numpy takes array_like
# =======================================================================================

def test_lists_and_tuples_of_traced_values():
    cases = [
        (lambda x: np.mean([x, x + 2.0]), lambda x: onp.mean([x, x + 2.0])),
        (lambda x: np.sum((x, 2.0 * x)), lambda x: onp.sum((x, 2.0 * x))),
        (lambda x: np.exp([x[0], 1.0, x[1]]), lambda x: onp.exp([x[0], 1.0, x[1]])),
        (lambda x: np.append(x, [x[0] ** 2, 3.0]), lambda x: onp.append(x, [x[0] ** 2, 3.0])),
        (lambda x: np.dot([x[0], x[1]], x[:2]), lambda x: onp.dot([x[0], x[1]], x[:2])),
        (lambda x: np.std([[x[0], x[1]], [x[2], 1.0]], axis=0),
         lambda x: onp.std([[x[0], x[1]], [x[2], 1.0]], axis=0)),
        (lambda x: np.sort([x[2], x[0], x[1]]), lambda x: onp.sort([x[2], x[0], x[1]])),
        (lambda x: x * [x[0], 1.0, 2.0, x[3]], lambda x: x * onp.array([x[0], 1.0, 2.0, x[3]])),
    ]
    for mine, theirs in cases:
        _same(mine(V4), theirs(V4))
        check_grads(mine, V4, n_dirs=1)


# =======================================================================================
# numpy's own functions on traced values dispatch here; the rest pass through
# =======================================================================================

def test_numpy_functions_on_traced_values_dispatch_to_the_differentiable_ones():
    for call in (lambda a: onp.sort(a), lambda a: onp.median(a), lambda a: onp.hypot(a, 1.0),
                 lambda a: onp.exp2(a), lambda a: onp.tril(a.reshape(2, 2))):
        check_grads(call, V4, n_dirs=1)


def test_plain_numpy_names_pass_through():
    for name in ("float64", "dtype", "errstate", "iinfo", "finfo", "isscalar", "save",
                 "load", "loadtxt", "random", "newaxis", "e", "inf", "nan", "pi", "fft",
                 "int64", "bool_", "ndarray"):
        assert getattr(np, name) is getattr(onp, name), name


def test_value_only_names_read_traced_values():
    def f(x):
        keep = np.logical_and(x > -1.0, np.logical_not(np.isin(x, [0.0])))
        keep = np.logical_or(keep, np.logical_xor(x > 5.0, x > 6.0))
        assert np.isposinf(x).dtype == bool and np.argpartition(x, 1).shape == x.shape
        return np.sum(np.where(keep, x ** 2, 0.0))
    check_grads(f, V4, n_dirs=1)


def test_names_without_derivative_refuse_traced_values():
    with pytest.raises(TraceError, match="interp"):
        grad(lambda x: np.sum(np.interp([0.5], [0.0, 1.0], x[:2])))(V4)
    with pytest.raises(TraceError):
        grad(lambda x: np.sum(np.bitwise_and(x, 1)))(V4)


def test_real_valued_complex_names():
    check_grads(lambda x: np.real(x) * np.conj(x) + np.conjugate(x) + np.imag(x), V4, n_dirs=1)
    _same(np.angle(V4), onp.angle(V4))
    g = grad(lambda x: np.sum(np.angle(x) * x))(V4)     # angle is piecewise constant
    _same(g, onp.angle(V4))


def test_copy_of_a_traced_value_keeps_its_derivative():
    check_grads(lambda x: np.copy(x) * x, V4, n_dirs=1)
    a = onp.ones(3)
    assert np.copy(a) is not a


# =======================================================================================
# refusals with their reasons
# =======================================================================================

def test_unsupported_options_are_refused_by_name():
    with pytest.raises(NotImplementedError, match="mode='mean'"):
        grad(lambda x: np.sum(np.pad(x, 1, mode="mean")))(V4)
    with pytest.raises(NotImplementedError, match="nearest"):
        np.quantile(V4, 0.5, method="nearest")
    with pytest.raises(ValueError, match=r"\[0, 100\]"):
        np.percentile(V4, 120.0)
    with pytest.raises(NotImplementedError, match="directive"):
        grad(lambda x: np.sum(np.r_["0,2", x, x]))(V4)
    with pytest.raises(ValueError, match="interleaved"):
        np.einsum(V4, ["i"])
    with pytest.raises(ValueError, match="interleaved"):
        np.einsum(V4, [0], V4, [0], [None])
    with pytest.raises(TypeError, match="floating dtype"):
        grad(lambda x: np.sum(np.linspace(x[0], 2.0, 3, dtype=int)))(V4)


def test_plain_inputs_give_numpy_results_and_are_not_modified():
    x = X34.copy()
    for name in ("sort", "median", "cumprod", "flip", "cov"):
        _same(getattr(np, name)(x), getattr(onp, name)(x))
    onp.testing.assert_array_equal(x, X34)
    _same(np.pad(x, 1, mode="linear_ramp"), onp.pad(x, 1, mode="linear_ramp"))


def test_hessian_of_a_robust_loss_with_median_and_sort():
    """A trimmed least-squares loss, as a user would write it."""
    y = rand_distinct((6,), 9)

    def loss(b):
        r = np.sort((y - b[0] - b[1] * np.linspace(0.0, 1.0, 6)) ** 2)
        return np.sum(r[:4]) + np.median(np.abs(r))
    b = onp.array([0.1, -0.3])
    check_grads(loss, b)
    assert hessian(loss)(b).shape == (2, 2)
    assert jacobian(lambda b: np.tile(b, 2))(b).shape == (4, 2)


def test_more_plain_and_traced_cases():
    v = onp.arange(1.0, 4.0)
    _same(np.tril(v), onp.tril(v))                       # a vector counts as a row
    check_grads(lambda x: np.triu(x, 1), v, n_dirs=1)
    z = onp.array([1 + 2j, -3j])
    _same(np.real(z), onp.real(z))
    _same(np.imag(z), onp.imag(z))
    assert onp.array_equal(np.conj(z), onp.conj(z))
    _same(np.cumulative_sum(v, include_initial=True), onp.cumulative_sum(v, include_initial=True))
    check_grads(lambda x: np.cumulative_sum(x, include_initial=True), v, n_dirs=1)
    _same(np.linspace(0.0, 1.0, 4), onp.linspace(0.0, 1.0, 4))


def test_bad_inputs_are_named():
    with pytest.raises(TraceError, match="index holds a traced value"):
        grad(lambda x: np.sum(x[(x[0], 1)]))(onp.ones((3, 3)))
    with pytest.raises(TypeError, match="fweights must be integer"):
        np.cov(X34, fweights=[1.5, 1, 1, 1])
    with pytest.raises(ValueError, match="aweights cannot be negative"):
        np.cov(X34, aweights=[-1.0, 1, 1, 1])
    with pytest.raises(ValueError, match="one weight per observation"):
        np.cov(X34, aweights=[1.0, 1])
    with pytest.raises(ZeroDivisionError, match="sum to zero"):
        np.average(V4, weights=[1.0, -1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="must be same length"):
        np.select([V4 > 0], [V4, V4])


def test_empty_results_have_zero_derivatives():
    """Derivatives through empty intermediates (diff of one value, linspace with num=0, an
    empty slice): zero, as numpy's and autograd's; the cotangent of the empty part once
    crashed on an index (review of issue 9)."""
    one = onp.array([0.7])
    onp.testing.assert_array_equal(grad(lambda x: np.sum(np.diff(x)))(one), [0.0])
    assert grad(lambda x: np.sum(np.linspace(x, 2.0 * x, 0)))(1.5) == 0.0
    onp.testing.assert_array_equal(grad(lambda x: -np.sum(x[:0]))(V4), onp.zeros(4))
    onp.testing.assert_array_equal(grad(lambda x: np.sum(x[:0] * x[:0]))(V4), onp.zeros(4))
    check_grads(lambda x: np.sum(np.diff(x)) + np.sum(x ** 2), one)
    ad_check_grads(lambda x: np.diff(x, axis=1))(onp.array([[0.3], [1.2], [-0.4]]))


@pytest.mark.parametrize("name", ["logsumexp", "median", "quantile", "diff", "norm", "cumprod",
                                  "moveaxis", "expand_dims", "trapezoid"])
def test_axes_out_of_range_are_refused_not_wrapped(name):
    """axis=2 of a 2-D array is numpy's AxisError, plain or traced; these once wrapped it
    round to axis 0 and returned a silently wrong answer (review of issue 9)."""
    import mleopt.special as sp
    f = {"logsumexp": lambda a: sp.logsumexp(a, axis=2),
         "median": lambda a: np.median(a, axis=2),
         "quantile": lambda a: np.quantile(a, 0.3, axis=(0, 2)),
         "diff": lambda a: np.diff(a, axis=2),
         "norm": lambda a: np.linalg.norm(a, axis=2),
         "cumprod": lambda a: np.cumprod(a, axis=-3),
         "moveaxis": lambda a: np.moveaxis(a, 2, 0),
         "expand_dims": lambda a: np.expand_dims(a, 4),
         "trapezoid": lambda a: np.trapezoid(a, axis=2)}[name]
    with pytest.raises(onp.exceptions.AxisError):
        f(X34)
    with pytest.raises(onp.exceptions.AxisError):
        grad(lambda a: np.sum(f(a)))(X34)
    # in range, negative axes still work as numpy's
    onp.testing.assert_allclose(np.median(X34, axis=-2), onp.median(X34, axis=-2), rtol=1e-14)
    onp.testing.assert_allclose(np.expand_dims(X34, -1).shape, (3, 4, 1))


def test_moveaxis_takes_sequences_of_axes():
    """np.moveaxis(a, [0, 1], [-1, 0]) as numpy's (a TypeError before the review of issue 9)."""
    a = onp.arange(24.0).reshape(2, 3, 4)
    for src, dst in [([0, 1], [-1, 0]), ((2, 0), (0, 1)), ([0, 1, 2], [2, 0, 1]), (-1, 0)]:
        onp.testing.assert_array_equal(np.moveaxis(a, src, dst), onp.moveaxis(a, src, dst))
    check_grads(lambda x: np.moveaxis(x, [0, 1], [-1, 0]), a)
    with pytest.raises(ValueError, match="repeated axis"):
        np.moveaxis(a, [0, 0], [1, 2])
    with pytest.raises(ValueError, match="same number"):
        np.moveaxis(a, [0, 1], [1])


def test_pad_odd_reflection_of_traced_values_is_refused():
    """reflect_type='odd' is arithmetic, not a gather: it once gathered wrong positions
    (x[-1] for the left pad: silently wrong) or failed on an index (review of issue 9)."""
    x = onp.array([1.0, 2.0, 4.0, 8.0])
    for mode in ("reflect", "symmetric"):
        with pytest.raises(NotImplementedError, match="reflect_type='odd'"):
            grad(lambda a: np.sum(np.pad(a, (1, 0), mode=mode, reflect_type="odd")))(x)
    # plain arrays are numpy's
    onp.testing.assert_array_equal(np.pad(x, 1, mode="reflect", reflect_type="odd"),
                                   onp.pad(x, 1, mode="reflect", reflect_type="odd"))
    check_grads(lambda a: np.pad(a, (2, 1), mode="reflect", reflect_type="even"), x)


def test_lists_of_traced_values_in_linalg_einsum_special_and_stats():
    """Lists holding traced values are arrays (array_like) in linalg, einsum, logsumexp and
    the distributions too (a TraceError before the review of issue 9)."""
    import mleopt.special as sp
    import mleopt.stats as st
    x0 = onp.array([2.0, 0.3, 1.5])

    def m(x):
        return [[x[0], x[1]], [x[1], x[2]]]

    cases = [lambda x: np.linalg.norm([x[0], x[1]]),
             lambda x: np.linalg.eigvalsh(m(x)),
             lambda x: np.linalg.svd(m(x), compute_uv=False),
             lambda x: np.linalg.cholesky(m(x)),
             lambda x: np.linalg.slogdet(m(x))[1],
             lambda x: np.linalg.lstsq(m(x), [x[0], 1.0], rcond=None)[0],
             lambda x: np.einsum("i,i->", [x[0], x[1]], [1.0, 2.0]),
             lambda x: sp.logsumexp([x[0], x[1]], b=[x[2], 1.0]),
             lambda x: st.norm.logpdf([x[0], x[1]], loc=[0.0, x[2]]),
             lambda x: st.multivariate_normal.logpdf([x[0], x[1]], [0.0, 0.0], m(x)),
             lambda x: st.dirichlet.logpdf([0.2, 0.8], [x[0], x[2]])]
    for f in cases:
        ad_check_grads(f)(x0)
    mat = onp.array(m(x0))
    onp.testing.assert_allclose(np.linalg.eigvalsh(m(x0)), onp.linalg.eigvalsh(mat), rtol=1e-14)
