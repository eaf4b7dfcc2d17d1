"""The public interface of mleopt.ad (issue 2, section 2): the seed examples, Cobb-Douglas,
argnum/kwargs handling, result shapes in every mode, higher order, nested differentiation
(perturbation confusion), control flow, and inputs left untouched."""
from __future__ import annotations

import numpy as onp
import pytest

import mleopt.numpy as np
from check import check_grads, numerical_jacobian, rand
from mleopt.ad import (Tensor, grad, hessian, hvp, jacobian, jvp, tensor, value_and_grad,
                       vjp)
from mleopt.ad.core import Traced

# =======================================================================================
# the seed's two examples
# =======================================================================================


def test_seed_tensor_example():
    x = tensor([2.0], requires_grad=True)
    y = x ** 2 + 3 * x
    y.backward()
    assert isinstance(x, Tensor)
    assert isinstance(x.grad, onp.ndarray)
    onp.testing.assert_array_equal(x.grad, onp.array([7.0]))


def test_tensor_grad_accumulates_until_reset():
    x = tensor([2.0], requires_grad=True)
    (x ** 2 + 3 * x).backward()
    (x ** 2 + 3 * x).backward()
    onp.testing.assert_array_equal(x.grad, [14.0])
    x.grad = None
    (x ** 2 + 3 * x).backward()
    onp.testing.assert_array_equal(x.grad, [7.0])
    x.zero_grad()
    assert x.grad is None or onp.all(x.grad == 0)
    (x * 5.0).backward()
    onp.testing.assert_array_equal(x.grad, [5.0])


def test_tensor_several_leaves_and_gradient_argument():
    a = tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = tensor(2.0, requires_grad=True)
    c = tensor([4.0, 5.0, 6.0])  # no grad wanted
    y = np.sum(np.exp(a) * b + c * a)
    y.backward()
    onp.testing.assert_allclose(a.grad, onp.exp([1.0, 2.0, 3.0]) * 2.0 + [4.0, 5.0, 6.0])
    onp.testing.assert_allclose(b.grad, onp.sum(onp.exp([1.0, 2.0, 3.0])))
    assert c.grad is None
    z = a * a
    z.backward(gradient=onp.array([1.0, 0.0, 2.0]))
    onp.testing.assert_allclose(a.grad, onp.exp([1.0, 2.0, 3.0]) * 2.0 + [4.0, 5.0, 6.0]
                                + [2.0, 0.0, 12.0])


def test_tensor_promotes_ints_and_copies_data():
    data = onp.array([1, 2, 3])
    x = tensor(data, requires_grad=True)
    assert x.dtype == onp.float64
    (np.sum(x ** 2)).backward()
    onp.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])
    assert data.dtype.kind == "i" and list(data) == [1, 2, 3]
    fdata = onp.array([1.0, 2.0])
    y = tensor(fdata, requires_grad=True)
    (y * 3.0).sum().backward()
    onp.testing.assert_array_equal(fdata, [1.0, 2.0])


def test_seed_functional_example():
    out = grad(lambda x: x ** 2 + 3 * x)(2.0)
    assert out == 7.0
    assert isinstance(out, float) or (isinstance(out, onp.ndarray) and out.ndim == 0)
    assert not isinstance(out, Traced)


def test_integer_inputs_are_promoted_to_float64():
    out = grad(lambda x: x ** 2 + 3 * x)(2)
    assert out == 7.0 and onp.asarray(out).dtype == onp.float64
    g = grad(lambda x: np.sum(x ** 3))(onp.array([1, 2, 3]))
    assert g.dtype == onp.float64
    onp.testing.assert_array_equal(g, [3.0, 12.0, 27.0])
    h = hessian(lambda x: np.sum(x ** 3))(onp.array([1, 2]))
    onp.testing.assert_array_equal(h, [[6.0, 0.0], [0.0, 12.0]])
    j = jacobian(lambda x: x / 2)(onp.array([1, 2]))
    onp.testing.assert_array_equal(j, [[0.5, 0.0], [0.0, 0.5]])
    g = grad(lambda x: np.sum(x * x))([1, 2])  # a list
    onp.testing.assert_array_equal(g, [2.0, 4.0])


# =======================================================================================
# Cobb-Douglas f(x, y) = x^0.8 y^0.2 at (2, 3)
# =======================================================================================

def cobb_douglas(x, y):
    return x ** 0.8 * y ** 0.2


def cobb_douglas_vec(v):
    return v[0] ** 0.8 * v[1] ** 0.2


X0, Y0 = 2.0, 3.0
FXX = -0.16 * X0 ** -1.2 * Y0 ** 0.2
FXY = 0.16 * X0 ** -0.2 * Y0 ** -0.8
FYY = -0.16 * X0 ** 0.8 * Y0 ** -1.8


def test_cobb_douglas_gradient():
    gx = grad(cobb_douglas)(X0, Y0)
    gy = grad(cobb_douglas, 1)(X0, Y0)
    onp.testing.assert_allclose([gx, gy], [0.86757742, 0.14459624], rtol=0, atol=5e-9)
    onp.testing.assert_allclose(gx, 0.8 * X0 ** -0.2 * Y0 ** 0.2, rtol=1e-14)
    onp.testing.assert_allclose(gy, 0.2 * X0 ** 0.8 * Y0 ** -0.8, rtol=1e-14)
    both = grad(cobb_douglas, (0, 1))(X0, Y0)
    assert isinstance(both, tuple) and len(both) == 2
    onp.testing.assert_allclose(both, [gx, gy], rtol=1e-15)
    onp.testing.assert_allclose(grad(cobb_douglas_vec)(onp.array([X0, Y0])), [gx, gy],
                                rtol=1e-14)


def test_cobb_douglas_second_derivatives():
    fxx = grad(grad(cobb_douglas, 0), 0)(X0, Y0)
    fxy = grad(grad(cobb_douglas, 0), 1)(X0, Y0)
    fyx = grad(grad(cobb_douglas, 1), 0)(X0, Y0)
    fyy = grad(grad(cobb_douglas, 1), 1)(X0, Y0)
    onp.testing.assert_allclose([fxx, fxy, fyx, fyy], [FXX, FXY, FXY, FYY], rtol=1e-12)
    want = onp.array([[FXX, FXY], [FXY, FYY]])
    v = onp.array([X0, Y0])
    onp.testing.assert_allclose(hessian(cobb_douglas_vec)(v), want, rtol=1e-12)
    onp.testing.assert_allclose(jacobian(grad(cobb_douglas_vec), mode="rev")(v), want,
                                rtol=1e-12)
    onp.testing.assert_allclose(jacobian(grad(cobb_douglas_vec), mode="fwd")(v), want,
                                rtol=1e-12)
    onp.testing.assert_allclose(hessian(cobb_douglas, 1)(X0, Y0), FYY, rtol=1e-12)
    check_grads(cobb_douglas, X0, Y0, order=3)


# =======================================================================================
# arguments
# =======================================================================================

def test_argnum_tuple_and_value_and_grad():
    def f(a, b, c):
        return np.sum(a * b) + np.sum(c) ** 2

    a, b, c = rand((3,), seed=0), rand((3,), seed=1), rand((2,), seed=2)
    ga, gc = grad(f, (0, 2))(a, b, c)
    onp.testing.assert_allclose(ga, b)
    onp.testing.assert_allclose(gc, 2 * onp.sum(c) * onp.ones(2))
    value, (gb,) = value_and_grad(f, (1,))(a, b, c)
    onp.testing.assert_allclose(value, f(a, b, c))
    onp.testing.assert_allclose(gb, a)
    value, gb = value_and_grad(f, 1)(a, b, c)
    onp.testing.assert_allclose(gb, a)


def test_extra_arguments_and_kwargs_pass_through_untouched():
    seen = {}
    data = onp.array([1, 2, 3])   # an int array that must not be promoted or traced
    labels = ["a", "b", "c"]

    def f(b, data, labels, scale=1.0, mode="sum"):
        seen.update(data=data, labels=labels, scale=scale, mode=mode)
        out = np.sum(b * data) * scale
        return out if mode == "sum" else out * 2

    g = grad(f)(onp.array([1.0, 1.0, 1.0]), data, labels, scale=3.0, mode="double")
    onp.testing.assert_array_equal(g, [6.0, 12.0, 18.0])
    assert seen["data"] is data and seen["labels"] is labels
    assert seen["scale"] == 3.0 and seen["mode"] == "double"
    h = hessian(lambda b, k=1.0: np.sum(b ** 3) * k)(onp.array([1.0, 2.0]), k=2.0)
    onp.testing.assert_allclose(h, [[12.0, 0.0], [0.0, 24.0]])
    j = jacobian(lambda b, k: b * k, 0)(onp.array([1.0, 2.0]), k=3.0)
    onp.testing.assert_allclose(j, 3 * onp.eye(2))


# =======================================================================================
# shapes in every mode
# =======================================================================================

JAC_SHAPES = [((), ()), ((), (3,)), ((3,), ()), ((3,), (2,)), ((2,), (5,)), ((2, 3), (4,)),
              ((3,), (2, 2)), ((2, 2), (3, 1, 2)), ((1,), (1,))]


@pytest.mark.parametrize("in_shape,out_shape", JAC_SHAPES, ids=str)
def test_jacobian_shapes_and_modes_agree(in_shape, out_shape):
    rng = onp.random.default_rng(0)
    n_in = int(onp.prod(in_shape, dtype=int))
    n_out = int(onp.prod(out_shape, dtype=int))
    w = rng.standard_normal((n_out, n_in))

    def f(x):
        flat = np.reshape(np.sin(x), (n_in,))
        return np.reshape(np.exp(np.matmul(w, flat) / 3.0), out_shape)

    x = rand(in_shape, seed=1)
    want = numerical_jacobian(f, x)
    results = {mode: jacobian(f, mode=mode)(x) for mode in ("auto", "fwd", "rev")}
    for mode, jac in results.items():
        assert onp.shape(jac) == out_shape + in_shape, mode
        onp.testing.assert_allclose(jac, want, rtol=1e-6, atol=1e-8, err_msg=mode)
    onp.testing.assert_allclose(results["fwd"], results["rev"], rtol=1e-12, atol=1e-14)


def test_jacobian_bad_mode():
    with pytest.raises(ValueError, match="mode"):
        jacobian(np.sin, mode="backward")(1.0)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 1, 2)], ids=str)
def test_hessian_shape_and_values(shape):
    a = rand(shape, seed=3)

    def f(x):
        return np.sum(np.sin(x) * a) * np.sum(x ** 2) + np.prod(np.cos(x))

    x = rand(shape, seed=4)
    h = hessian(f)(x)
    assert onp.shape(h) == shape + shape
    onp.testing.assert_allclose(h, numerical_jacobian(grad(f), x), rtol=1e-6, atol=1e-8)
    n = int(onp.prod(shape, dtype=int))
    flat = onp.reshape(h, (n, n))
    onp.testing.assert_allclose(flat, flat.T, rtol=1e-12, atol=1e-14)


def test_hessian_of_second_argument():
    def f(a, b):
        return np.sum(a * b ** 3)

    a, b = onp.array([1.0, 2.0]), onp.array([3.0, 4.0])
    onp.testing.assert_allclose(hessian(f, 1)(a, b), onp.diag(6 * a * b))
    onp.testing.assert_allclose(hessian(f, 0)(a, b), onp.zeros((2, 2)))


def test_hessian_runs_one_backward_pass(monkeypatch):
    """All K directions go through one pass (forward-over-reverse, or the index path's
    edge-pushing sweep over the rows), not K gradients."""
    from mleopt.ad import api, core, rowhess, structure
    calls = []

    def counting(real):
        def counted(*args, **kwargs):
            calls.append(1)
            return real(*args, **kwargs)
        return counted

    monkeypatch.setattr(api, "backward_pass", counting(core.backward_pass))
    monkeypatch.setattr(core, "backward_pass", counting(core.backward_pass))
    monkeypatch.setattr(structure, "backward_pass", counting(core.backward_pass))
    monkeypatch.setattr(rowhess, "_sweep", counting(rowhess._sweep))   # (the index path's)
    X = rand((50, 12), seed=5)
    y = (rand((50,), seed=6) > 0).astype(float)

    def loglike(b):
        z = X @ b
        return np.sum(y * z - np.logaddexp(0.0, z))

    b = rand((12,), seed=7) / 4
    h = hessian(loglike)(b)
    assert len(calls) == 1, f"hessian ran {len(calls)} backward passes for K = 12"
    p = 1 / (1 + onp.exp(-(X @ b)))
    onp.testing.assert_allclose(h, -(X.T * (p * (1 - p))) @ X, rtol=1e-10)


def test_hvp_equals_hessian_times_v():
    def f(x):
        return np.sum(np.exp(x[:-1] * x[1:])) + np.prod(x) ** 2

    x = rand((2, 3), seed=8) / 2
    v = rand((2, 3), seed=9)
    h = hessian(f)(x).reshape(6, 6)
    out = hvp(f)(x, v)
    assert out.shape == (2, 3)
    onp.testing.assert_allclose(out.ravel(), h @ v.ravel(), rtol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        hvp(f)(x, onp.ones(6))


def test_jvp_matches_jacobian():
    def f(x, y):
        return np.sin(x)[:, None] * y + np.sum(x * x)

    x, y = rand((3,), seed=10), rand((4,), seed=11)
    u, v = rand((3,), seed=12), rand((4,), seed=13)
    value, tangent = jvp(f, (x, y), (u, v))
    onp.testing.assert_allclose(value, f(x, y))
    jx = jacobian(f, 0)(x, y)
    jy = jacobian(f, 1)(x, y)
    assert tangent.shape == (3, 4)
    onp.testing.assert_allclose(tangent, onp.tensordot(jx, u, 1) + onp.tensordot(jy, v, 1),
                                rtol=1e-12)
    with pytest.raises(ValueError):
        jvp(f, (x, y), (u,))
    with pytest.raises(ValueError, match="shape"):
        jvp(f, (x, y), (u, onp.ones(3)))


def test_jvp_scalar():
    value, tangent = jvp(lambda x: x ** 3, (2.0,), (1.0,))
    assert value == 8.0 and tangent == 12.0


def test_vjp_matches_jacobian():
    def f(x, y):
        return np.outer(np.exp(x), y)

    x, y = rand((3,), seed=14), rand((2,), seed=15)
    value, pullback = vjp(f, x, y)
    onp.testing.assert_allclose(value, f(x, y))
    g = rand((3, 2), seed=16)
    gx, gy = pullback(g)
    onp.testing.assert_allclose(gx, onp.tensordot(g, jacobian(f, 0)(x, y), 2), rtol=1e-12)
    onp.testing.assert_allclose(gy, onp.tensordot(g, jacobian(f, 1)(x, y), 2), rtol=1e-12)
    # the pullback can be called again with another cotangent
    gx2, _ = pullback(2 * g)
    onp.testing.assert_allclose(gx2, 2 * gx, rtol=1e-14)
    with pytest.raises(ValueError, match="shape"):
        pullback(onp.ones(6))


# =======================================================================================
# higher order and nesting
# =======================================================================================

def test_third_order_polynomial():
    def f(x):
        return x ** 4 + 2 * x ** 3 - x

    d3 = grad(grad(grad(f)))
    for x in (-1.5, 0.0, 2.0):
        assert d3(x) == pytest.approx(24 * x + 12, rel=1e-14, abs=1e-14)
    assert grad(grad(grad(grad(f))))(0.7) == pytest.approx(24.0)
    assert grad(grad(grad(grad(grad(f)))))(0.7) == pytest.approx(0.0)


def test_third_order_mixed_modes():
    def f(x):
        return np.sum(np.sin(x) * x[0] ** 2)

    x = onp.array([0.3, -0.8])
    third = jacobian(hessian(f))(x)
    assert third.shape == (2, 2, 2)
    onp.testing.assert_allclose(third, numerical_jacobian(hessian(f), x), rtol=1e-6,
                                atol=1e-8)
    onp.testing.assert_allclose(third, jacobian(jacobian(jacobian(f, mode="rev"),
                                                         mode="rev"), mode="rev")(x),
                                rtol=1e-12, atol=1e-14)


def test_nested_grad_closure_perturbation_confusion():
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1
    def outer(x):
        inner = grad(lambda y: x + y)(1.0)
        return x * inner

    assert grad(outer)(3.0) == pytest.approx(1.0, abs=1e-15)

    # d/dx [x * d/dy (x * y)] = d/dx [x * x] = 2x
    def outer2(x):
        return x * grad(lambda y: x * y)(2.0)

    assert grad(outer2)(3.0) == pytest.approx(6.0)
    # and in forward mode over reverse, and reverse over forward
    assert jvp(outer2, (3.0,), (1.0,))[1] == pytest.approx(6.0)

    def outer3(x):
        return x * jvp(lambda y: x * y, (2.0,), (1.0,))[1]

    assert grad(outer3)(3.0) == pytest.approx(6.0)
    assert jvp(outer3, (3.0,), (1.0,))[1] == pytest.approx(6.0)


def test_nested_jacobian_of_closure_with_arrays():
    def f(a):
        def inner(b):
            return np.sum(np.exp(a * b))
        return np.sum(grad(inner)(onp.array([1.0, 2.0])) * a)

    a = onp.array([0.3, -0.2])
    onp.testing.assert_allclose(grad(f)(a), numerical_jacobian(f, a), rtol=1e-6)


# =======================================================================================
# control flow and purity
# =======================================================================================

def test_comparisons_and_control_flow_return_plain_bools():
    seen = []

    def f(x):
        c = x > 0
        seen.append(c)
        if x > 0:
            return x ** 2
        elif x <= -1:
            return -x
        return 3 * x

    assert grad(f)(2.0) == 4.0
    assert grad(f)(-2.0) == -1.0
    assert grad(f)(-0.5) == 3.0
    assert jvp(f, (2.0,), (1.0,))[1] == 4.0
    assert hessian(f)(2.0) == 2.0
    for c in seen:
        assert isinstance(c, (bool, onp.bool_)), type(c)

    def g(x):
        mask = x > 0
        assert isinstance(mask, onp.ndarray) and mask.dtype == bool
        assert (x == x).all() and not (x != x).any() and bool((x >= x).all())
        total = 0.0
        for i in range(len(x)):
            if x[i] < 0.0:
                total = total + x[i] ** 2
            else:
                total = total + x[i]
        while total > 10.0:
            total = total / 2.0
        return total

    onp.testing.assert_allclose(grad(g)(onp.array([1.0, -2.0, 3.0])), [1.0, -4.0, 1.0])


def test_user_arrays_are_not_modified():
    x = onp.array([[0.5, -1.0], [2.0, 0.25]])
    keep = x.copy()
    w = onp.array([1.0, 2.0])
    wkeep = w.copy()

    def f(x):
        y = np.where(x > 0, x, 0.0)
        return np.sum(np.exp(y) * w) + np.sum(x[::-1] ** 2)

    grad(f)(x)
    hessian(f)(x)
    jacobian(lambda x: x * 2.0)(x)
    jvp(f, (x,), (onp.ones_like(x),))
    vjp(f, x)[1](1.0)
    hvp(f)(x, onp.ones_like(x))
    onp.testing.assert_array_equal(x, keep)
    onp.testing.assert_array_equal(w, wkeep)


def test_results_are_fresh_writable_arrays():
    """Derivatives come back as ordinary arrays the user may modify: not read-only
    broadcast views, not aliases of the user's own arrays."""
    x = onp.ones((2, 3))
    keep = x.copy()
    results = {
        "grad": grad(lambda x: np.sum(x))(x),
        "value_and_grad": value_and_grad(lambda x: np.sum(x))(x)[1],
        "vjp": vjp(lambda x: np.sum(x), x)[1](1.0)[0],
        "hessian": hessian(lambda x: np.sum(x ** 2))(x),
        "jacobian": jacobian(lambda x: x * 2.0)(x),
        "jvp": jvp(lambda x: np.sum(x) * 2.0, (x,), (x,))[1],
        "hvp": hvp(lambda x: np.sum(x ** 2))(x, x),
    }
    for name, r in results.items():
        r = onp.asarray(r)
        assert r.flags.writeable, f"{name} returned a read-only array"
        r += 1.0  # must not raise, and must not touch x
    onp.testing.assert_array_equal(x, keep)
    g = onp.ones(3)
    (out,) = vjp(lambda x: x, onp.zeros(3))[1](g)
    assert out is not g and not onp.shares_memory(out, g)
    t = tensor(x, requires_grad=True)
    np.sum(t).backward()
    t.grad += 1.0
    onp.testing.assert_array_equal(t.grad, 2.0 * onp.ones((2, 3)))


def test_constant_function_has_zero_gradient_of_right_shape():
    g = grad(lambda x: 3.0)(onp.ones((2, 3)))
    assert g.shape == (2, 3) and onp.all(g == 0)
    h = hessian(lambda x: np.sum(x))(onp.ones(3))
    assert h.shape == (3, 3) and onp.all(h == 0)
    j = jacobian(lambda x: onp.ones(2))(onp.ones(3))
    assert j.shape == (2, 3) and onp.all(j == 0)


def test_jacobian_auto_records_f_once_and_sweeps_forward_over_the_graph():
    calls = []

    def f(x):
        calls.append(1)
        return np.sin(x) * np.sum(x ** 2)

    x = onp.array([0.3, -1.2, 2.0])
    j = jacobian(f)(x)  # 3 outputs, 3 inputs: forward mode over the recorded graph
    assert len(calls) == 1
    onp.testing.assert_allclose(j, jacobian(f, mode="rev")(x), rtol=1e-13)
    # the same sweep through a recorded backward pass: jacobian(grad(g)) is the Hessian
    g = lambda v: np.sum(np.exp(v) * v[0])  # noqa: E731
    onp.testing.assert_allclose(jacobian(grad(g))(x), hessian(g)(x), rtol=1e-13)


def test_cotangent_shortcuts_never_alias_or_modify_user_arrays():
    """The backward pass hands on a broadcast 1 times y as a view of y and accumulates
    cotangents in place when it alone owns them: neither may leak or write into y."""
    y = onp.arange(1.0, 6.0)
    keep = y.copy()
    g = grad(lambda b: np.sum(y * b))(onp.ones(5))
    assert g.flags.writeable and not onp.shares_memory(g, y)
    g += 1.0
    onp.testing.assert_array_equal(y, keep)
    g2 = grad(lambda b: np.sum(y * b) + np.sum(b * y) + np.sum(np.exp(b)))(onp.zeros(5))
    onp.testing.assert_allclose(g2, 2 * y + 1.0)
    onp.testing.assert_array_equal(y, keep)
    # the same variable used several times, through views and broadcasting
    x = onp.linspace(0.1, 1.0, 6).reshape(2, 3)
    f = lambda v: np.sum(v * v) + np.sum(v[0] * 3.0) + np.sum(v.T @ v)  # noqa: E731
    h = 1e-6
    fd = onp.array([(f(x + h * e) - f(x - h * e)) / (2 * h)
                    for e in onp.eye(6).reshape(6, 2, 3)]).reshape(2, 3)
    onp.testing.assert_allclose(grad(f)(x), fd, rtol=1e-7)
