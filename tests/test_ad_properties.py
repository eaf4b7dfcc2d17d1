"""Property-based tests: random compositions of primitives, checked against finite
differences (first order, forward against reverse, and second order through Hessians and
Hessian-vector products) by ``check_grads``.

An expression is a small tree drawn by hypothesis: leaves are the inputs (1 to 3 arrays whose
shapes broadcast together) or constants; inner nodes are smooth unary operations (elementwise
functions, shape-preserving reductions with keepdims, slicing, cumsum, a matrix product)
and smooth binary operations (with broadcasting). Every operation is smooth on the whole
real line, so finite differences are well conditioned at every drawn point.
"""
from __future__ import annotations

import numpy as onp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import mleopt.numpy as np
from check import check_grads
from mleopt.ad import grad, hvp, jvp, vjp

# =======================================================================================
# the operations
# =======================================================================================


def _last(f):
    """Apply f along the last axis, or leave a 0-d value alone."""
    return lambda x: x if np.ndim(x) == 0 else f(x)


def _matmul_const(x):
    n = np.shape(x)[-1]
    w = onp.linspace(-1.0, 1.0, n * n).reshape(n, n) + onp.eye(n)
    return x @ w


def _bshape(x, y):
    return onp.broadcast_shapes(np.shape(x), np.shape(y))


def _pattern(x, y):
    """A fixed checkerboard condition of the broadcast shape."""
    shape = _bshape(x, y)
    return (onp.arange(int(onp.prod(shape, dtype=int))) % 2 == 0).reshape(shape)


UNARY = {
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "arctan": np.arctan,
    "neg": lambda x: -x,
    "square": np.square,
    "softplus": lambda x: np.logaddexp(0.0, x),
    "log1p_sq": lambda x: np.log1p(x ** 2),
    "sqrt_1p_sq": lambda x: np.sqrt(1.0 + x * x),
    "exp_tanh": lambda x: np.exp(np.tanh(x)),
    "inv_1p_sq": lambda x: 1.0 / (1.0 + x ** 2),
    "expm1_sin": lambda x: np.expm1(np.sin(x)),
    "log_cosh": lambda x: np.log(np.cosh(x)),
    "affine": lambda x: 0.5 * x - 0.25,
    "sum_all": lambda x: np.sum(x, keepdims=True) if np.ndim(x) else np.sum(x),
    "mean_last": _last(lambda x: np.mean(x, axis=-1, keepdims=True)),
    "var_last": _last(lambda x: np.var(x, axis=-1, keepdims=True)),
    "prod_last": _last(lambda x: np.prod(x, axis=-1, keepdims=True)),
    "cumsum_last": _last(lambda x: np.cumsum(x, axis=-1)),
    "flip_last": _last(lambda x: x[..., ::-1]),
    "roll_last": _last(lambda x: np.concatenate([x[..., 1:], x[..., :1]], axis=-1)),
    "reshape_roundtrip": lambda x: np.reshape(np.ravel(x), np.shape(x)),
    "transpose_twice": lambda x: np.transpose(np.transpose(x)),
    "matmul_const": _last(_matmul_const),
}

BINARY = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div_safe": lambda x, y: x / (1.0 + y ** 2),
    "logaddexp": np.logaddexp,
    "hypot1": lambda x, y: np.sqrt(1.0 + x ** 2 + y ** 2),
    "pow_safe": lambda x, y: (1.0 + x ** 2) ** np.tanh(y),
    "arctan2_safe": lambda x, y: np.arctan2(x, 2.0 + y ** 2),
    "where_pattern": lambda x, y: np.where(_pattern(x, y), x, y),
    "stack_sum": lambda x, y: np.sum(np.stack([np.broadcast_to(x, _bshape(x, y)),
                                               np.broadcast_to(y, _bshape(x, y)) ** 2]),
                                     axis=0),
}

BASE_SHAPES = {
    (): [()],
    (3,): [(3,), (1,), ()],
    (2, 3): [(2, 3), (3,), (2, 1), (1, 3), ()],
}

# =======================================================================================
# strategies
# =======================================================================================


def expressions(n_inputs, depth):
    """Trees of depth <= ``depth``; leaves are mostly inputs, sometimes constants."""
    x = st.tuples(st.just("x"), st.integers(0, n_inputs - 1))
    c = st.tuples(st.just("c"), st.floats(-2.0, 2.0, allow_nan=False))
    leaf = st.one_of(x, x, x, c)
    if depth == 0:
        return leaf
    sub = expressions(n_inputs, depth - 1)
    unary = st.tuples(st.just("u"), st.sampled_from(sorted(UNARY)), sub)
    binary = st.tuples(st.just("b"), st.sampled_from(sorted(BINARY)), sub, sub)
    return st.one_of(leaf, unary, unary, binary, binary)


def evaluate(expr, inputs):
    kind = expr[0]
    if kind == "x":
        return inputs[expr[1]]
    if kind == "c":
        return expr[1]
    if kind == "u":
        return UNARY[expr[1]](evaluate(expr[2], inputs))
    return BINARY[expr[1]](evaluate(expr[2], inputs), evaluate(expr[3], inputs))


def uses(expr, i) -> bool:
    if expr[0] == "x":
        return expr[1] == i
    if expr[0] == "c":
        return False
    return any(uses(e, i) for e in expr[2:])


@st.composite
def problems(draw):
    n_inputs = draw(st.integers(1, 3))
    base = draw(st.sampled_from(sorted(BASE_SHAPES, key=len)))
    shapes = [draw(st.sampled_from(BASE_SHAPES[base])) for _ in range(n_inputs)]
    values = [draw(hnp.arrays(onp.float64, s, elements=st.floats(-2.0, 2.0, allow_nan=False,
                                                                  allow_infinity=False)))
              for s in shapes]
    expr = draw(expressions(n_inputs, 3).filter(lambda e: e[0] in "ub"))
    # make the output depend on every input: combine the expression with each input
    for i in range(n_inputs):
        if not uses(expr, i):
            expr = ("b", draw(st.sampled_from(sorted(BINARY))), expr, ("x", i))
    return expr, values


SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _function(expr):
    def f(*inputs):
        return evaluate(expr, inputs)
    f.__name__ = "expr"
    return f


# =======================================================================================
# properties
# =======================================================================================

@SETTINGS
@given(problems())
def test_random_compositions_match_finite_differences(problem):
    expr, values = problem
    f = _function(expr)
    out = onp.asarray(f(*values))
    if not onp.all(onp.isfinite(out)) or onp.max(onp.abs(out), initial=0.0) > 1e6:
        return  # (cannot happen with these operations; guards the finite differences)
    check_grads(f, *values, order=2, rtol=1e-4, atol=1e-5, n_dirs=1)


@SETTINGS
@given(problems(), st.integers(0, 2**32 - 1))
def test_hvp_matches_finite_difference_of_gradient(problem, seed):
    """H v by hvp against (grad(x + h v) - grad(x - h v)) / 2h, for a scalar reduction."""
    expr, values = problem
    f = _function(expr)
    rng = onp.random.default_rng(seed)
    w = rng.standard_normal(onp.shape(f(*values)))

    def scalar(x0, *rest):
        return np.sum(w * f(x0, *rest))

    x0, rest = values[0], values[1:]
    v = rng.standard_normal(onp.shape(x0))
    g = grad(scalar)
    h = 1e-5
    fd = (g(x0 + h * v, *rest) - g(x0 - h * v, *rest)) / (2 * h)
    hv = hvp(scalar)(x0, *rest, v)
    scale = max(1.0, float(onp.max(onp.abs(fd), initial=0.0)))
    onp.testing.assert_allclose(hv, fd, rtol=1e-4, atol=1e-6 * scale)
    # forward over reverse in that direction equals the hvp exactly
    _, fwd = jvp(lambda x: g(x, *rest), (x0,), (v,))
    onp.testing.assert_allclose(fwd, hv, rtol=1e-10, atol=1e-12 * scale)


@SETTINGS
@given(problems(), st.integers(0, 2**32 - 1))
def test_forward_and_reverse_agree_on_all_inputs(problem, seed):
    """<v, J u> == <J^T v, u> with all inputs perturbed at once."""
    expr, values = problem
    f = _function(expr)
    rng = onp.random.default_rng(seed)
    us = [rng.standard_normal(onp.shape(x)) for x in values]
    out, tangent = jvp(f, tuple(values), tuple(us))
    v = rng.standard_normal(onp.shape(out))
    value, pullback = vjp(f, *values)
    cots = pullback(v)
    onp.testing.assert_allclose(value, out)
    lhs = float(onp.sum(v * tangent))
    rhs = float(sum(onp.sum(c * u) for c, u in zip(cots, us)))
    assert abs(lhs - rhs) <= 1e-9 * max(1.0, abs(lhs), abs(rhs))
