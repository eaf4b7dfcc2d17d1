"""Every function of mleopt.numpy (issue 2, section 3), checked to second order.

Each case is checked with ``check_grads`` (reverse and forward mode against central finite
differences, forward against reverse, Hessians four ways against finite differences of the
gradient, mixed partials between arguments) at several random, well-conditioned points:
positive inputs for log/sqrt, points away from the kinks of abs/max/min/maximum/clip.
linalg and einsum are covered by their own test files.
"""
from __future__ import annotations

import numpy as onp
import pytest

import mleopt.numpy as np
from check import check_grads, rand, rand_distinct

SEEDS = (0, 1)
SHAPES = [(), (3,), (2, 3)]
PAIRS = [((), ()), ((3,), (3,)), ((3, 1), (1, 4)), ((4,), (3, 4)), ((), (2, 3)),
         ((2, 3), ()), ((2, 1, 3), (4, 1))]


def _args(specs, seed):
    rng = onp.random.default_rng(seed)
    out = []
    for shape, kind in specs:
        if kind == "distinct":
            out.append(rand_distinct(shape, rng))
        else:
            out.append(rand(shape, kind, rng))
    return out


def run(f, specs, seed, **kw):
    check_grads(f, *_args(specs, seed), seed=seed, **kw)


# =======================================================================================
# elementwise functions of one argument
# =======================================================================================

UNARY = {
    "exp": (np.exp, "real"),
    "log": (np.log, "positive"),
    "log1p": (np.log1p, "positive"),
    "log1p_neg": (np.log1p, "unit"),
    "expm1": (np.expm1, "real"),
    "log2": (np.log2, "positive"),
    "log10": (np.log10, "positive"),
    "sqrt": (np.sqrt, "positive"),
    "square": (np.square, "real"),
    "abs": (np.abs, "nonzero"),
    "absolute": (np.absolute, "nonzero"),
    "sign_times": (lambda x: np.sign(x) * x ** 3, "nonzero"),
    "sin": (np.sin, "real"),
    "cos": (np.cos, "real"),
    "tan": (np.tan, "unit"),
    "tanh": (np.tanh, "real"),
    "sinh": (np.sinh, "real"),
    "cosh": (np.cosh, "real"),
    "arctan": (np.arctan, "real"),
    "arcsin": (np.arcsin, "unit"),
    "arccos": (np.arccos, "unit"),
    "arcsinh": (np.arcsinh, "real"),
    "arctanh": (np.arctanh, "unit"),
    "reciprocal": (np.reciprocal, "nonzero"),
    "negative": (np.negative, "real"),
    "neg_operator": (lambda x: -x, "real"),
    "pos_operator": (lambda x: +x * 2.0, "real"),
    "abs_builtin": (lambda x: abs(x), "nonzero"),
    "pow_int": (lambda x: x ** 3, "real"),
    "pow_neg_int": (lambda x: x ** -2, "nonzero"),
    "pow_half": (lambda x: x ** 0.5, "positive"),
    "pow_frac": (lambda x: np.power(x, 1.7), "positive"),
    "rpow": (lambda x: 2.0 ** x, "real"),
    "rpow_e": (lambda x: np.power(np.e, x), "real"),
    "rsub": (lambda x: 2.0 - x, "real"),
    "rdiv": (lambda x: 2.0 / x, "nonzero"),
    "div_const": (lambda x: x / 3.0, "real"),
    "radd": (lambda x: 1.5 + x, "real"),
    "rmul": (lambda x: 1.5 * x, "real"),
}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name, shape):
    f, kind = UNARY[name]
    for seed in SEEDS:
        run(f, [(shape, kind)], seed)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_third_order(name):
    f, kind = UNARY[name]
    check_grads(lambda x: f(x) * f(x[::-1]), rand((2,), kind, 7), order=3)


def test_unary_python_float():
    check_grads(lambda x: np.exp(np.sin(x)) * np.log(x), 1.3)


def test_nondifferentiable_elementwise_have_zero_derivative():
    for f in (np.sign, np.floor, np.ceil, np.round):
        check_grads(lambda x, f=f: f(x) * x, rand((3,), "nonzero") + 0.25)


def test_unary_compositions_third_order():
    check_grads(lambda x: np.sum(np.exp(np.sin(x)) * np.log1p(x ** 2)), rand((3,)), order=3)
    check_grads(lambda x: np.tanh(x) * np.sqrt(x), 1.2, order=3)


# =======================================================================================
# elementwise functions of two arguments, with broadcasting
# =======================================================================================

BINARY = {
    "add": (np.add, "real", "real"),
    "subtract": (np.subtract, "real", "real"),
    "multiply": (np.multiply, "real", "real"),
    "divide": (np.divide, "real", "nonzero"),
    "true_divide": (np.true_divide, "real", "nonzero"),
    "power": (np.power, "positive", "real"),
    "logaddexp": (np.logaddexp, "real", "real"),
    "arctan2": (np.arctan2, "real", "nonzero"),
    "op_add": (lambda x, y: x + y, "real", "real"),
    "op_sub": (lambda x, y: x - y, "real", "real"),
    "op_mul": (lambda x, y: x * y, "real", "real"),
    "op_div": (lambda x, y: x / y, "real", "nonzero"),
    "op_pow": (lambda x, y: x ** y, "positive", "real"),
    "op_chain": (lambda x, y: (x * y - x / (1.0 + y ** 2)) ** 2, "real", "real"),
}


@pytest.mark.parametrize("shapes", PAIRS, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary(name, shapes):
    f, kx, ky = BINARY[name]
    for seed in SEEDS:
        run(f, [(shapes[0], kx), (shapes[1], ky)], seed)


def test_logaddexp_and_log_expit_large_array_path_match_numpy():
    # above 8192 elements both use their own in-place formula instead of numpy/scipy's;
    # equal infinities must still give that infinity when a NaN sits elsewhere
    import scipy.special as sps
    from mleopt import special
    rng = onp.random.default_rng(3)
    x = rng.uniform(-800.0, 800.0, 10_000)
    y = rng.uniform(-5.0, 5.0, 10_000)
    x[:4], y[:4] = [onp.inf, -onp.inf, onp.nan, 1.0], [onp.inf, -onp.inf, 1.0, -onp.inf]
    with onp.errstate(invalid="ignore"):
        onp.testing.assert_allclose(np.logaddexp(x, y), onp.logaddexp(x, y), rtol=1e-15)
    onp.testing.assert_allclose(special.log_expit(x), sps.log_expit(x), rtol=1e-15)


def _separated(shapes, seed, gap=0.1):
    """Two arrays whose broadcast elementwise differences are all at least ``gap``."""
    rng = onp.random.default_rng(seed)
    while True:
        x = rand(shapes[0], "real", rng)
        y = rand(shapes[1], "real", rng)
        if onp.all(onp.abs(x - y) >= gap):
            return x, y


@pytest.mark.parametrize("shapes", PAIRS, ids=str)
@pytest.mark.parametrize("f", [np.maximum, np.minimum], ids=["maximum", "minimum"])
def test_maximum_minimum(f, shapes):
    for seed in SEEDS:
        x, y = _separated(shapes, seed)
        check_grads(f, x, y, seed=seed)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_third_order(name):
    f, kx, ky = BINARY[name]
    check_grads(f, rand((2, 1), kx, 8), rand((3,), ky, 9), order=3)


def test_maximum_minimum_with_constants():
    x = rand_distinct((5,), 3) + 0.03
    check_grads(lambda x: np.maximum(x, 0.0) ** 2, x)
    check_grads(lambda x: np.minimum(0.5, x) * x, x)


def test_maximum_tie_splits_derivative():
    from mleopt.ad import grad
    g = grad(lambda x: np.sum(np.maximum(x, onp.array([1.0, 0.0]))))(onp.array([1.0, 2.0]))
    onp.testing.assert_allclose(g, [0.5, 1.0])


def test_binary_with_numpy_array_on_the_left():
    a = rand((3, 4), "real", 5)
    check_grads(lambda x: a * x + a / (x ** 2 + 1.0) - a, rand((4,), "real", 6))
    check_grads(lambda x: np.sum(onp.abs(a) ** x), rand((3, 4), "real", 7))


@pytest.mark.parametrize("shapes", [((3,), (3,), (3,)), ((2, 3), (3,), ()),
                                    ((3, 1), (1, 4), (4,))], ids=str)
def test_where(shapes):
    for seed in SEEDS:
        rng = onp.random.default_rng(seed)
        c = rand(shapes[0], "nonzero", rng) > 0
        x, y = rand(shapes[1], "real", rng), rand(shapes[2], "real", rng)
        check_grads(lambda x, y: np.where(c, x ** 2, np.sin(y)), x, y, seed=seed)


def test_where_condition_from_traced_value():
    x = rand((6,), "nonzero", 4)
    check_grads(lambda x: np.where(x > 0, x ** 2, -x ** 3), x)
    check_grads(lambda x: np.where(np.greater(x, 0), np.log(np.abs(x)), x), x)


def test_clip():
    x = onp.array([-1.7, -0.8, -0.2, 0.3, 0.9, 1.6])
    check_grads(lambda x: np.clip(x, -0.5, 0.5) * x, x)
    check_grads(lambda x: np.clip(x, -1.0, None) ** 2, x)
    check_grads(lambda x: np.clip(x, None, 0.5) ** 2, x)
    check_grads(lambda x: x.clip(-0.5, 0.5) ** 3, x)
    check_grads(lambda x, lo: np.clip(x, lo, 1.0) ** 2, x, onp.array(-0.5))


# =======================================================================================
# reductions
# =======================================================================================

RED_SHAPES_AXES = [((4,), None), ((4,), 0), ((4,), -1), ((3, 4), None), ((3, 4), 0),
                   ((3, 4), 1), ((3, 4), -1), ((2, 3, 4), (0, 2)), ((2, 3, 4), 1),
                   ((2, 3, 4), (-1, 0)), ((), None)]


def _red_cases():
    for shape, axis in RED_SHAPES_AXES:
        for keepdims in (False, True):
            yield pytest.param(shape, axis, keepdims, id=f"{shape}-ax{axis}-kd{keepdims}")


REDUCTIONS = {
    "sum": (lambda x, **k: np.sum(x, **k), "real"),
    "mean": (lambda x, **k: np.mean(x, **k), "real"),
    "prod": (lambda x, **k: np.prod(x, **k), "nonzero"),
    "var": (lambda x, **k: np.var(x, **k), "real"),
    "std": (lambda x, **k: np.std(x, **k), "real"),
    "max": (lambda x, **k: np.max(x, **k), "distinct"),
    "min": (lambda x, **k: np.min(x, **k), "distinct"),
    "amax": (lambda x, **k: np.amax(x, **k), "distinct"),
    "sum_method": (lambda x, **k: x.sum(**k), "real"),
    "mean_method": (lambda x, **k: x.mean(**k), "real"),
    "prod_method": (lambda x, **k: x.prod(**k), "nonzero"),
    "var_method": (lambda x, **k: x.var(**k), "real"),
    "std_method": (lambda x, **k: x.std(**k), "real"),
    "max_method": (lambda x, **k: x.max(**k), "distinct"),
    "min_method": (lambda x, **k: x.min(**k), "distinct"),
}


@pytest.mark.parametrize("shape,axis,keepdims", list(_red_cases()))
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction(name, shape, axis, keepdims):
    f, kind = REDUCTIONS[name]
    for seed in SEEDS[:1] if shape == () else SEEDS:
        x = _args([(shape, kind)], seed)[0]
        if name.startswith("std") and shape == ():
            continue  # the std of one number is sqrt(0): not differentiable
        check_grads(lambda x: f(x, axis=axis, keepdims=keepdims), x, seed=seed)


@pytest.mark.parametrize("ddof", [0, 1])
def test_var_std_ddof(ddof):
    x = rand((3, 4), "real", 2)
    check_grads(lambda x: np.var(x, axis=1, ddof=ddof), x)
    check_grads(lambda x: np.std(x, ddof=ddof), x)
    check_grads(lambda x: x.std(axis=0, ddof=ddof, keepdims=True), x)
    onp.testing.assert_allclose(np.var(x, axis=1, ddof=ddof), onp.var(x, axis=1, ddof=ddof))
    onp.testing.assert_allclose(np.std(x, ddof=ddof), onp.std(x, ddof=ddof))


def test_reduction_values_match_numpy():
    x = rand((2, 3, 4), "nonzero", 9)
    for ours, theirs in ((np.sum, onp.sum), (np.mean, onp.mean), (np.prod, onp.prod),
                         (np.var, onp.var), (np.std, onp.std), (np.max, onp.max),
                         (np.min, onp.min)):
        for axis in (None, 0, (0, 2), -1):
            for keepdims in (False, True):
                onp.testing.assert_allclose(ours(x, axis=axis, keepdims=keepdims),
                                            theirs(x, axis=axis, keepdims=keepdims),
                                            rtol=1e-13)


@pytest.mark.parametrize("shape,axis", [((5,), None), ((5,), 0), ((3, 4), None),
                                        ((3, 4), 0), ((3, 4), 1), ((3, 4), -1),
                                        ((2, 3, 4), 1)], ids=str)
def test_cumsum(shape, axis):
    for seed in SEEDS:
        x = rand(shape, "real", seed)
        check_grads(lambda x: np.cumsum(x, axis=axis) ** 2, x, seed=seed)
        check_grads(lambda x: x.cumsum(axis=axis), x, seed=seed, order=1)
    onp.testing.assert_allclose(np.cumsum(x, axis=axis), onp.cumsum(x, axis=axis))


def test_prod_with_a_zero():
    """d prod(x) / dx_i is the product of the others, also where some x_j == 0."""
    from mleopt.ad import grad, hessian
    x = onp.array([0.0, 2.0, 3.0])
    onp.testing.assert_allclose(grad(np.prod)(x), [6.0, 0.0, 0.0])
    onp.testing.assert_allclose(hessian(np.prod)(x),
                                [[0.0, 3.0, 2.0], [3.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    m = onp.array([[0.0, 2.0], [1.5, 3.0], [0.0, 0.0]])
    check_grads(lambda m: np.prod(m, axis=1), m)
    check_grads(lambda m: np.prod(m, axis=0, keepdims=True), m)
    check_grads(lambda m: np.prod(m), onp.array([[0.0, 2.0], [1.5, 3.0]]))
    t = rand((2, 3, 2), "nonzero", 1)
    t[0, 1, 1] = t[1, 2, 0] = t[1, 0, 0] = 0.0
    check_grads(lambda t: np.prod(t, axis=(0, 2)), t)
    check_grads(lambda t: np.prod(t, axis=-1, keepdims=True), t)
    check_grads(lambda s: np.prod(s) * s, onp.array(0.0))


def test_prod_second_derivative_exact_at_small_values():
    """d2 prod / dx_i^2 is exactly 0 (the others do not involve x_i), also for tiny x_i:
    a rule written as ans / x would give others/x_i - others/x_i, which cancels badly."""
    from mleopt.ad import hessian, jacobian
    for tiny in (1e-3, 1e-9, 1e-200, 1.1e-308, 0.0):
        x = onp.array([tiny, 3.0, 7.0, -2.0, 0.5])
        want = onp.array([[onp.prod(onp.delete(x, [i, j])) if i != j else 0.0
                           for j in range(5)] for i in range(5)])
        onp.testing.assert_allclose(hessian(np.prod)(x), want, rtol=1e-14, atol=0)
        onp.testing.assert_allclose(jacobian(jacobian(np.prod, mode="fwd"), mode="fwd")(x),
                                    want, rtol=1e-14, atol=0)
    check_grads(lambda x: np.prod(x, axis=-1) ** 2, onp.array([[1e-7, 2.0, 3.0],
                                                               [0.5, 1e-6, -1.0]]), order=3)


def test_prod_of_long_axis_is_exact():
    from mleopt.ad import grad, hessian
    x = rand((2, 37), "positive", 4)
    x[1, 5] = 0.0
    check_grads(lambda x: np.prod(x, axis=1), x, order=1)
    h = hessian(lambda x: np.prod(x[0]))(x)
    onp.testing.assert_allclose(h[0, 3, 0, 3], 0.0, atol=0)
    onp.testing.assert_allclose(h[0, 3, 0, 4], onp.prod(onp.delete(x[0], [3, 4])), rtol=1e-13)
    g = grad(lambda x: np.prod(x[1]))(x)
    onp.testing.assert_allclose(g[1, 5], onp.prod(onp.delete(x[1], 5)), rtol=1e-13)
    assert onp.all(onp.delete(g[1], 5) == 0)


def test_max_min_ties_split():
    from mleopt.ad import grad
    x = onp.array([1.0, 3.0, 3.0, 2.0])
    onp.testing.assert_allclose(grad(np.max)(x), [0.0, 0.5, 0.5, 0.0])
    onp.testing.assert_allclose(grad(lambda x: np.sum(np.min(x, axis=0)))(onp.array([[1.0, 2.0],
                                                                             [1.0, 0.0]])),
                                [[0.5, 0.0], [0.5, 1.0]])


# =======================================================================================
# shape manipulation
# =======================================================================================

SHAPE_FUNS = {
    "reshape_tuple": (lambda x: np.reshape(x, (4, 3)), (3, 4)),
    "reshape_minus1": (lambda x: np.reshape(x, (-1, 2)), (3, 4)),
    "reshape_int": (lambda x: np.reshape(x, 12), (3, 4)),
    "reshape_F": (lambda x: np.reshape(x, (2, 6), order="F"), (3, 4)),
    "reshape_method": (lambda x: x.reshape(2, 2, 3), (3, 4)),
    "reshape_method_tuple": (lambda x: x.reshape((6, 2)), (3, 4)),
    "reshape_method_F": (lambda x: x.reshape((2, 6), order="F"), (3, 4)),
    "reshape_method_F_3d": (lambda x: x.reshape(4, 3, order="F"), (2, 3, 2)),
    "reshape_scalar": (lambda x: np.reshape(x, (1, 1)), ()),
    "reshape_to_scalar": (lambda x: np.reshape(x, ()), (1,)),
    "transpose": (np.transpose, (3, 4)),
    "transpose_axes": (lambda x: np.transpose(x, (1, 2, 0)), (2, 3, 4)),
    "transpose_neg_axes": (lambda x: np.transpose(x, (-1, 0, 1)), (2, 3, 4)),
    "transpose_3d_default": (np.transpose, (2, 3, 4)),
    "T": (lambda x: x.T, (3, 4)),
    "T_1d": (lambda x: x.T, (4,)),
    "transpose_method": (lambda x: x.transpose(2, 0, 1), (2, 3, 4)),
    "transpose_method_tuple": (lambda x: x.transpose((1, 0, 2)), (2, 3, 4)),
    "ravel": (np.ravel, (3, 4)),
    "ravel_method": (lambda x: x.ravel(), (2, 3, 2)),
    "flatten_method": (lambda x: x.flatten(), (2, 3)),
    "expand_dims0": (lambda x: np.expand_dims(x, 0), (3, 4)),
    "expand_dims1": (lambda x: np.expand_dims(x, 1), (3, 4)),
    "expand_dims_neg": (lambda x: np.expand_dims(x, -1), (3, 4)),
    "expand_dims_tuple": (lambda x: np.expand_dims(x, (0, 2)), (3,)),
    "expand_dims_scalar": (lambda x: np.expand_dims(x, 0), ()),
    "squeeze": (np.squeeze, (1, 3, 1, 2)),
    "squeeze_axis": (lambda x: np.squeeze(x, 2), (1, 3, 1, 2)),
    "squeeze_axes": (lambda x: np.squeeze(x, (0, -2)), (1, 3, 1, 2)),
    "squeeze_method": (lambda x: x.squeeze(), (3, 1)),
    "squeeze_to_scalar": (lambda x: np.squeeze(x), (1, 1)),
    "broadcast_to": (lambda x: np.broadcast_to(x, (2, 3, 4)), (3, 1)),
    "broadcast_to_1d": (lambda x: np.broadcast_to(x, (3, 4)), (4,)),
    "broadcast_to_scalar": (lambda x: np.broadcast_to(x, (2, 3)), ()),
    "broadcast_to_same": (lambda x: np.broadcast_to(x, (3, 4)), (3, 4)),
    "swapaxes": (lambda x: np.swapaxes(x, 0, 2), (2, 3, 4)),
    "moveaxis": (lambda x: np.moveaxis(x, 0, -1), (2, 3, 4)),
    "atleast_1d": (lambda x: np.atleast_1d(x), ()),
    "atleast_2d": (lambda x: np.atleast_2d(x), (3,)),
}


@pytest.mark.parametrize("name", sorted(SHAPE_FUNS))
def test_shape_functions(name):
    f, shape = SHAPE_FUNS[name]
    x = rand(shape, "real", 0)
    expected = {"reshape_F": lambda x: onp.reshape(x, (2, 6), order="F"),
                "reshape_method_F": lambda x: onp.reshape(x, (2, 6), order="F"),
                "transpose_axes": lambda x: onp.transpose(x, (1, 2, 0)),
                "squeeze_axes": lambda x: onp.squeeze(x, (0, -2)),
                "moveaxis": lambda x: onp.moveaxis(x, 0, -1),
                "expand_dims_tuple": lambda x: onp.expand_dims(x, (0, 2)),
                "broadcast_to": lambda x: onp.broadcast_to(x, (2, 3, 4))}
    if name in expected:
        onp.testing.assert_array_equal(f(x), expected[name](x))
    # compose with a nonlinearity so that second derivatives are not all zero
    check_grads(lambda x: f(x) * f(x ** 2 + 1.0), x)


# =======================================================================================
# indexing (read)
# =======================================================================================

INDEXING = {
    "int": (lambda x: x[0], (4,)),
    "neg_int": (lambda x: x[-1], (4,)),
    "row": (lambda x: x[1], (3, 4)),
    "element": (lambda x: x[1, 2], (3, 4)),
    "slice": (lambda x: x[1:3], (5,)),
    "slice_step": (lambda x: x[::2], (5,)),
    "reverse": (lambda x: x[::-1], (5,)),
    "neg_step": (lambda x: x[4:0:-2], (5,)),
    "2d_slices": (lambda x: x[1:, ::-1], (3, 4)),
    "2d_neg_step_cols": (lambda x: x[:, -1::-2], (3, 4)),
    "column": (lambda x: x[:, 1], (3, 4)),
    "newaxis": (lambda x: x[None, :, 1], (3, 4)),
    "newaxis_end": (lambda x: x[:, np.newaxis], (3,)),
    "ellipsis": (lambda x: x[..., 0], (2, 3, 4)),
    "ellipsis_mid": (lambda x: x[0, ..., 1:], (2, 3, 4)),
    "int_array": (lambda x: x[onp.array([0, 2, 2])], (4,)),
    "list_repeated": (lambda x: x[[3, 0, 3, 3]], (4,)),
    "int_array_neg": (lambda x: x[onp.array([-1, 0])], (4,)),
    "int_array_rows": (lambda x: x[onp.array([2, 0]), :], (3, 4)),
    "int_array_cols": (lambda x: x[:, [1, 0, 1]], (3, 4)),
    "int_array_2d_index": (lambda x: x[onp.array([[0, 1], [2, 2]])], (3, 4)),
    "pairs": (lambda x: x[[0, 1, 2], [1, 2, 1]], (3, 4)),
    "pairs_broadcast": (lambda x: x[onp.array([[0], [2]]), onp.array([1, 3])], (3, 4)),
    "int_and_array": (lambda x: x[0, [1, 2]], (3, 4)),
    "array_and_slice_3d": (lambda x: x[[0, 1], 1:], (2, 3, 4)),
    "separated_arrays": (lambda x: x[[0, 1], :, [1, 2]], (2, 3, 4)),
    "separated_array_int": (lambda x: x[[0, 1, 1], :, 0], (2, 3, 4)),
    "separated_int_array": (lambda x: x[0, :, [3, 1]], (2, 3, 4)),
    "mid_array": (lambda x: x[:, [2, 0]], (2, 3, 4)),
    "ellipsis_array": (lambda x: x[..., [0, 2]], (2, 3, 4)),
    "ellipsis_between_arrays": (lambda x: x[[0, 1], ..., [1, 2]], (2, 3, 4)),
    "empty_ellipsis_between_arrays": (lambda x: x[[0, 1], ..., [1, 2]], (2, 4)),
    "newaxis_between_arrays": (lambda x: x[[0, 1], None, [1, 2]], (2, 3, 4)),
    "int_newaxis_array": (lambda x: x[0, None, [1, 2]], (2, 3, 4)),
    "arrays_then_newaxis": (lambda x: x[[0, 1], [1, 0], None], (2, 3, 4)),
    "mid_array_int": (lambda x: x[:, [2, 0], 1], (2, 3, 4)),
    "bool_mask": (lambda x: x[onp.array([True, False, True, True])], (4,)),
    "bool_mask_2d": (lambda x: x[onp.array([[True, False, True, False]] * 3)], (3, 4)),
    "bool_mask_rows": (lambda x: x[onp.array([True, False, True])], (3, 4)),
    "bool_mask_cols": (lambda x: x[:, onp.array([False, True, True, False])], (3, 4)),
    "bool_mask_separated": (lambda x: x[onp.array([True, False]), :,
                                        onp.array([False, True, True, False])], (2, 3, 4)),
    "bool_mask_2d_of_3d": (lambda x: x[:, onp.array([[True, False, True, False],
                                                     [False, True, True, False],
                                                     [True, True, False, False]])], (2, 3, 4)),
    "mask_from_value": (lambda x: x[x > 0], (3, 4)),
    "iterate": (lambda x: np.stack([row * i for i, row in enumerate(x)]), (3, 4)),
    "chained": (lambda x: x[1:][::-1][0], (4, 3)),
}


@pytest.mark.parametrize("name", sorted(INDEXING))
def test_indexing(name):
    f, shape = INDEXING[name]
    for seed in SEEDS:
        x = rand(shape, "nonzero", seed)
        onp.testing.assert_array_equal(f(x), f(x.copy()))
        check_grads(lambda x: f(x) * np.sin(f(x)), x, seed=seed)


def test_indexing_values_match_numpy():
    from mleopt.ad import jacobian
    x = rand((2, 3, 4), "real", 1)
    for name, (f, shape) in INDEXING.items():
        if shape != (2, 3, 4):
            continue
        # forward mode sees the batch axis: its values must land where numpy puts them
        jac = jacobian(f, mode="fwd")(x)
        onp.testing.assert_array_equal(onp.tensordot(jac, x, axes=3), f(x), err_msg=name)


# =======================================================================================
# products
# =======================================================================================

MATMUL_SHAPES = [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                 ((2, 2, 3), (3,)), ((3,), (2, 3, 4)), ((2, 2, 3), (3, 4)),
                 ((2, 3), (2, 3, 4)), ((2, 2, 3), (2, 3, 4)), ((1, 2, 3), (4, 3, 2)),
                 ((4, 1, 2, 3), (2, 3, 2))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes):
    for seed in SEEDS:
        a, b = rand(shapes[0], "real", seed), rand(shapes[1], "real", seed + 10)
        onp.testing.assert_allclose(np.matmul(a, b), onp.matmul(a, b), rtol=1e-14)
        check_grads(lambda a, b: a @ b, a, b, seed=seed)
        check_grads(lambda a, b: np.matmul(np.sin(a), b) ** 2, a, b, seed=seed)


def test_matmul_both_operands_depend_on_the_input():
    """Forward mode with an identity seed on one operand while the other is traced too."""
    b = rand((3,), "real", 3)
    check_grads(lambda b: np.outer(b, b) @ b, b)
    check_grads(lambda b: b @ np.outer(np.sin(b), b), b)
    check_grads(lambda m: m @ m[0], rand((3, 3), "real", 4))
    check_grads(lambda m: m @ m @ m, rand((2, 2), "real", 5))


def test_matmul_with_numpy_operand():
    a = rand((3, 4), "real", 0)
    check_grads(lambda b: np.sum(np.exp(a @ b)), rand((4,), "real", 1))
    check_grads(lambda b: (b @ a.T) ** 2, rand((2, 4), "real", 2))


DOT_SHAPES = [((), ()), ((), (3,)), ((2, 3), ()), ((3,), (3,)), ((3,), (3, 4)),
              ((2, 3), (3,)), ((2, 3), (3, 4)), ((2, 2, 3), (3,)), ((2, 2, 3), (3, 4)),
              ((2, 3), (2, 3, 4)), ((2, 2, 3), (4, 3, 2))]


@pytest.mark.parametrize("shapes", DOT_SHAPES, ids=str)
def test_dot(shapes):
    a, b = rand(shapes[0], "real", 0), rand(shapes[1], "real", 1)
    onp.testing.assert_allclose(np.dot(a, b), onp.dot(a, b), rtol=1e-13)
    check_grads(lambda a, b: np.dot(a, b) ** 2, a, b)
    if shapes[0] != ():
        check_grads(lambda a, b: a.dot(b), a, b, order=1, argnums=0)


@pytest.mark.parametrize("shapes", [((), ()), ((3,), ()), ((3,), (3,)), ((2, 3), (4, 3)),
                                    ((3,), (2, 3)), ((2, 2, 3), (3,))], ids=str)
def test_inner(shapes):
    a, b = rand(shapes[0], "real", 0), rand(shapes[1], "real", 1)
    onp.testing.assert_allclose(np.inner(a, b), onp.inner(a, b), rtol=1e-13)
    check_grads(lambda a, b: np.inner(a, b) ** 2, a, b)


@pytest.mark.parametrize("shapes", [((3,), (4,)), ((2, 2), (3,)), ((), (3,))], ids=str)
def test_outer(shapes):
    a, b = rand(shapes[0], "real", 0), rand(shapes[1], "real", 1)
    onp.testing.assert_allclose(np.outer(a, b), onp.outer(a, b), rtol=1e-14)
    check_grads(lambda a, b: np.outer(a, b) ** 2, a, b)


@pytest.mark.parametrize("shapes,axes", [
    (((3, 4), (4, 2)), 1), (((2, 3, 4), (3, 4, 2)), 2), (((2, 3), (3, 2)), ([1, 0], [0, 1])),
    (((3,), (4,)), 0), (((2, 3, 4), (4, 2, 3)), ([1, 2], [2, 0])), (((3, 4), (3,)), (0, 0)),
    (((2, 3), (2, 3)), ([-1, -2], [-1, -2]))], ids=str)
def test_tensordot(shapes, axes):
    a, b = rand(shapes[0], "real", 0), rand(shapes[1], "real", 1)
    onp.testing.assert_allclose(np.tensordot(a, b, axes), onp.tensordot(a, b, axes),
                                rtol=1e-13)
    check_grads(lambda a, b: np.tensordot(a, b, axes) ** 2, a, b)


@pytest.mark.parametrize("shape", [(3,), (3, 3), (2, 4), (4, 2)], ids=str)
def test_diag(shape):
    x = rand(shape, "real", 0)
    onp.testing.assert_array_equal(np.diag(x), onp.diag(x))
    check_grads(lambda x: np.diag(x) * np.diag(x ** 2), x)
    check_grads(lambda x: np.diag(np.exp(x)), x)


def test_diag_roundtrip_and_trace():
    x = rand((3, 3), "real", 3)
    onp.testing.assert_allclose(np.trace(x), onp.trace(x))
    check_grads(lambda x: np.trace(x @ x) * np.trace(x), x)
    check_grads(lambda v: np.diag(np.diag(v)) @ v, rand((3,), "real", 4))


# =======================================================================================
# joining arrays
# =======================================================================================

def test_concatenate():
    a, b, c = rand((2, 3), "real", 0), rand((1, 3), "real", 1), rand((2, 2), "real", 2)
    check_grads(lambda a, b: np.concatenate([a, b]) ** 2, a, b)
    check_grads(lambda a, c: np.concatenate([a, c], axis=1) ** 2, a, c)
    check_grads(lambda a, c: np.concatenate((np.sin(c), a, c), axis=-1), a, c)
    check_grads(lambda a, b: np.concatenate([a, b], axis=None) ** 3, a, b)
    check_grads(lambda a: np.concatenate([a, onp.ones((4, 3)), a * 2]) ** 2, a)
    check_grads(lambda b: np.concatenate([onp.zeros((1, 3)), b]) ** 2, b)
    onp.testing.assert_array_equal(np.concatenate([a, c], axis=1),
                                   onp.concatenate([a, c], axis=1))


def test_stack():
    a, b = rand((2, 3), "real", 0), rand((2, 3), "real", 1)
    for axis in (0, 1, 2, -1):
        onp.testing.assert_array_equal(np.stack([a, b], axis), onp.stack([a, b], axis))
        check_grads(lambda a, b: np.stack([a, b * a, onp.ones((2, 3))], axis=axis) ** 2, a, b)
    check_grads(lambda x: np.stack([x[0] * x[1], x[1], x[0] ** 2]), rand((2,), "real", 3))


def test_hstack_vstack():
    u, v = rand((3,), "real", 0), rand((2,), "real", 1)
    a, b = rand((2, 3), "real", 2), rand((2, 1), "real", 3)
    check_grads(lambda u, v: np.hstack([u, v]) ** 2, u, v)
    check_grads(lambda a, b: np.hstack([a, b, a]) ** 2, a, b)
    check_grads(lambda a, u: np.vstack([a, u]) ** 2, a, u)
    check_grads(lambda u: np.vstack([u, u ** 2]), u)
    check_grads(lambda s, u: np.hstack([s, u]) ** 2, onp.array(0.7), u)
    onp.testing.assert_array_equal(np.hstack([a, b, a]), onp.hstack([a, b, a]))
    onp.testing.assert_array_equal(np.vstack([a, u]), onp.vstack([a, u]))


def test_append():
    a, b = rand((2, 3), "real", 0), rand((1, 3), "real", 1)
    check_grads(lambda a, b: np.append(a, b) ** 2, a, b)
    check_grads(lambda a, b: np.append(a, b, axis=0) ** 2, a, b)
    check_grads(lambda a: np.append(a, 1.0) ** 2, a)
    onp.testing.assert_array_equal(np.append(a, b, axis=0), onp.append(a, b, axis=0))
    onp.testing.assert_array_equal(np.append(a, b), onp.append(a, b))


def test_array_of_traced_values():
    check_grads(lambda x: np.array([x[0] * x[1], np.sin(x[1]), 2.0]), rand((2,), "real", 0))
    check_grads(lambda x: np.array([[x[0], x[1]], [x[1] ** 2, 1.0]]) @ x, rand((2,), "real", 1))


# =======================================================================================
# pass-through helpers that carry no derivative
# =======================================================================================

def test_constant_helpers_accept_traced_values():
    def f(x):
        assert np.shape(x) == (2, 3) and np.ndim(x) == 2 and np.size(x) == 6
        i = np.argmax(x, axis=1)
        z = np.zeros_like(x) + np.ones_like(x)
        return x[onp.arange(2), i] * np.sum(z * x) + np.where(np.isfinite(x), x, 0.0)[0, 0]
    check_grads(f, rand_distinct((2, 3), 5))


def test_full_like_with_traced_fill_value_keeps_derivative():
    from mleopt.ad import grad
    base = onp.zeros((2, 3))
    assert grad(lambda v: np.sum(np.full_like(base, v) * 2.0))(1.5) == 12.0
    check_grads(lambda v: np.full_like(base, v) ** 2, onp.array(0.7))
    check_grads(lambda x: np.full_like(x, 2.0) * x, rand((2,), "real", 1))


def test_namespace_constants():
    assert np.pi == onp.pi and np.inf == onp.inf and onp.isnan(np.nan)
    assert np.float64 is onp.float64 and np.newaxis is None
    onp.testing.assert_array_equal(np.c_[[1, 2], [3, 4]], onp.c_[[1, 2], [3, 4]])
    onp.testing.assert_array_equal(np.r_[[1, 2], [3]], onp.r_[[1, 2], [3]])
    assert np.array([1.0, 2.0]).dtype == onp.float64
    onp.testing.assert_array_equal(np.eye(2), onp.eye(2))
    onp.testing.assert_array_equal(np.arange(3), onp.arange(3))
    assert np.random.default_rng is onp.random.default_rng


@pytest.mark.parametrize("shapes", [((40_000,), ()), ((), (40_000,)), ((200, 200), (200, 200)),
                                    ((300, 100), (100,)), ((100, 1), (1, 300))], ids=str)
def test_blocked_kernels_match_numpy_over_several_blocks_and_broadcasting(shapes):
    """The cache-blocked logaddexp / log_expit / weight kernels (arrays of more than one
    block, numbers, and broadcasting that falls back to whole-array numpy) agree with
    numpy, and their derivatives with the closed forms."""
    import scipy.special as sps
    from mleopt import special
    from mleopt.ad import grad
    rng = onp.random.default_rng(7)
    x = rng.normal(0, 30, shapes[0]) if shapes[0] else 0.7
    y = rng.normal(0, 30, shapes[1]) if shapes[1] else -0.3
    onp.testing.assert_allclose(np.logaddexp(x, y), onp.logaddexp(x, y), rtol=1e-13,
                                atol=1e-13)
    xv = onp.asarray(x) + onp.zeros(onp.broadcast_shapes(onp.shape(x), onp.shape(y)))
    onp.testing.assert_allclose(special.log_expit(xv), sps.log_expit(xv), rtol=1e-14, atol=0)
    g = grad(lambda a: np.sum(np.logaddexp(a, y)))(xv)
    onp.testing.assert_allclose(g, sps.expit(xv - y), rtol=1e-12, atol=1e-300)


def test_logaddexp_weight_tangent_to_third_order():
    """logaddexp's weight w(x, y) = exp(x - logaddexp(x, y)) has one joint forward rule,
    (t_x - t_y) dw/dx: third derivatives of logaddexp (forward over its weights) against
    finite differences, with broadcasting, in both modes; a traced ``out`` is refused."""
    from mleopt.ad import jvp, primitives
    from mleopt.ad.core import TraceError
    x, y = rand((3, 4), "real", 21), rand((4,), "real", 22)
    check_grads(lambda x, y: np.logaddexp(x, y), x, y, order=3)
    check_grads(lambda y: np.logaddexp(0.5, y), y, order=3)
    out = onp.logaddexp(x, y)
    with pytest.raises(TraceError, match="logaddexp_weight"):
        jvp(lambda o: primitives.logaddexp_weight(x, y, o), (out,), (onp.ones_like(out),))
