"""autograd's and JAX's API on mleopt.ad: containers (pytrees), argnum / argnums, autograd's
transforms, check_grads, flatten. References: central finite differences (fd below) and the
hand-derived derivatives written beside each check."""
from __future__ import annotations

import collections

import numpy as onp
import pytest

import mleopt.numpy as np
from mleopt.ad import (ComplexNumberError, check_grads, deriv, elementwise_grad, flatten,
                       flatten_func, grad, grad_and_aux, hessian, hessian_tensor_product,
                       hessian_vector_product, holomorphic_grad, hvp, jacobian, jvp,
                       make_ggnvp, make_hvp, make_jvp, make_vjp, multigrad_dict,
                       tensor_jacobian_product, value_and_grad, vector_jacobian_product, vjp)
from mleopt.ad.core import defjvp, defvjp, primitive
from mleopt.ad import primitives as P
from mleopt.ad.pytree import tree_structure

RNG = onp.random.default_rng(7)
PARAMS = {"beta": RNG.normal(size=3), "log_sigma": 0.3,
          "layers": [(RNG.normal(size=(2, 3)), RNG.normal(size=2)), 0.5]}


def loss(p):
    """A scalar function of every leaf of PARAMS, with cross terms between them."""
    W, b = p["layers"][0]
    h = np.tanh(W @ p["beta"] + b)
    return np.sum(h ** 2) * np.exp(p["log_sigma"]) + p["layers"][1] * np.sum(p["beta"] ** 3)


def fd(f, x: onp.ndarray, eps: float = 1e-6) -> onp.ndarray:
    """Central finite differences of f (vector -> array): shape out + (n,)."""
    cols = []
    for i in range(x.size):
        e = onp.zeros(x.size)
        e[i] = eps
        cols.append((onp.asarray(f(x + e)) - onp.asarray(f(x - e))) / (2 * eps))
    return onp.stack(cols, axis=-1)


def flat_loss():
    vec, unflatten = flatten(PARAMS)
    return (lambda v: loss(unflatten(v))), vec, unflatten


def same_tree(a, b, rtol=1e-6, atol=1e-8):
    """Same structure (types, keys, shapes) and close values."""
    assert type(a) is type(b) or (isinstance(a, (float, onp.floating))
                                  and isinstance(b, (float, onp.floating)))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            same_tree(a[k], b[k], rtol, atol)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            same_tree(u, v, rtol, atol)
    else:
        assert onp.shape(a) == onp.shape(b)
        onp.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# =======================================================================================
# flatten / unflatten
# =======================================================================================

def test_flatten_lays_out_sorted_keys_and_rebuilds_the_same_structure():
    tree = {"b": onp.arange(3.0), "a": 2, "c": [onp.ones((2, 2)), (onp.zeros(1), 4.0)]}
    vec, unflatten = flatten(tree)
    onp.testing.assert_array_equal(vec, [2, 0, 1, 2, 1, 1, 1, 1, 0, 4])
    back = unflatten(vec)
    assert list(back) == ["b", "a", "c"]              # the caller's key order is kept
    assert isinstance(back["c"], list) and isinstance(back["c"][1], tuple)
    assert isinstance(back["a"], onp.float64) and back["a"] == 2.0
    onp.testing.assert_array_equal(back["c"][0], onp.ones((2, 2)))
    vec[0] = 99.0                                     # unflatten copies: no aliasing
    assert back["a"] == 2.0
    assert tree_structure(tree).names() == [
        "a", "b[0]", "b[1]", "b[2]", "c[0][0,0]", "c[0][0,1]", "c[0][1,0]", "c[0][1,1]",
        "c[1][0][0]", "c[1][1]"]


def test_flatten_keeps_namedtuples_and_lists_of_numbers_are_arrays():
    Pair = collections.namedtuple("Pair", "w b")
    vec, unflatten = flatten(Pair(onp.ones(2), 3.0))
    back = unflatten(vec)
    assert isinstance(back, Pair) and back.b == 3.0
    onp.testing.assert_array_equal(back.w, [1.0, 1.0])
    # a list holding only numbers is an array (numpy's array_like), as before
    vec, unflatten = flatten({"x": [1.0, 2.0]})
    assert isinstance(unflatten(vec)["x"], onp.ndarray)
    onp.testing.assert_array_equal(grad(lambda x: np.sum(x * x))([1, 2]), [2.0, 4.0])


def test_a_ragged_nested_list_is_a_container():
    # [[1.0], 2.0, 1.5] is no array for numpy, so it is a container (as in autograd and JAX);
    # it was refused as "not an array"
    x = [[1.0], 2.0, 1.5]
    g = grad(lambda x: x[1:][0] * x[0][0] + x[2] ** 2)(x)
    assert isinstance(g, list) and len(g) == 3
    onp.testing.assert_array_equal(g[0], [2.0])
    assert (g[1], g[2]) == (1.0, 3.0)
    check_grads(lambda x: x[1:][0] * np.sin(x[0]))(x)
    assert flatten(x)[1](onp.arange(3.0))[0].shape == (1,)


def test_flatten_refuses_what_is_not_real_numbers():
    with pytest.raises(TypeError, match=r"\['name'\].*str"):
        flatten({"name": "abc", "x": 1.0})
    with pytest.raises(ComplexNumberError):
        flatten({"z": onp.array([1j])})
    vec, unflatten = flatten({"x": onp.ones(3)})
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        unflatten(onp.ones(4))


def test_flatten_and_flatten_func_are_differentiable():
    f, unflatten, vec = flatten_func(lambda p: {"out": p["beta"] * p["log_sigma"]}, PARAMS)
    onp.testing.assert_allclose(f(vec), PARAMS["beta"] * PARAMS["log_sigma"])
    g = grad(lambda v: np.sum(f(v) ** 2))(vec)
    want = fd(lambda v: onp.sum(f(v) ** 2), vec)
    onp.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-8)
    # flatten of traced leaves inside a function (as autograd's examples do)
    h = grad(lambda p: np.sum(flatten(p)[0] ** 2))(PARAMS)
    same_tree(h, flatten(PARAMS)[1](2 * flatten(PARAMS)[0]))


# =======================================================================================
# grad, jacobian, hessian, jvp, vjp, hvp with containers
# =======================================================================================

def test_grad_of_a_nested_container_has_its_structure():
    f, vec, unflatten = flat_loss()
    g = grad(loss)(PARAMS)
    same_tree(g, unflatten(fd(f, vec)))
    value, g2 = value_and_grad(loss)(PARAMS)
    assert value == loss(PARAMS)
    same_tree(g2, g, rtol=0, atol=0)


def test_grad_argnums_tuple_returns_a_tuple_as_jax():
    f = lambda a, b, c: np.sum(a * b) * c  # noqa: E731
    a, b = onp.array([1.0, 2.0]), onp.array([3.0, 4.0])
    ga, gc = grad(f, argnums=(0, 2))(a, b, 2.0)
    onp.testing.assert_array_equal(ga, 2 * b)
    assert gc == 11.0
    assert grad(f, (0, 2))(a, b, 2.0)[1] == 11.0   # autograd's positional argnum
    gd, gb = grad(lambda d, b: np.sum(d["x"] * b), argnums=(0, 1))({"x": a}, b)
    same_tree(gd, {"x": b})
    onp.testing.assert_array_equal(gb, a)
    with pytest.raises(TypeError, match="not both"):
        grad(f, 1, argnums=0)
    with pytest.raises(TypeError, match="argnums"):
        grad(f, argnums=())


def test_hessian_of_a_container_is_nested_as_jax():
    f, vec, unflatten = flat_loss()
    h = hessian(loss)(PARAMS)
    g = grad(f)
    want = fd(g, vec)                                   # (n, n): FD of the exact gradient
    assert h["beta"]["layers"][0][0].shape == (3, 2, 3)
    assert onp.shape(h["log_sigma"]["log_sigma"]) == ()
    # rebuild the flat Hessian from the nested blocks, leaf by leaf (in flattening order)
    flat_rows = []
    paths = [("beta",), ("layers", 0, 0), ("layers", 0, 1), ("layers", 1), ("log_sigma",)]

    def pick(tree, path):
        for k in path:
            tree = tree[k]
        return tree

    for p1 in paths:
        block = pick(h, p1)
        flat_rows.append(onp.concatenate(
            [onp.reshape(pick(block, p2), (int(onp.prod(onp.shape(pick(PARAMS, p1)))), -1))
             for p2 in paths], axis=1))
    onp.testing.assert_allclose(onp.concatenate(flat_rows), want, rtol=1e-6, atol=1e-7)


def test_hessian_and_jacobian_with_tuple_argnums():
    f = lambda a, b: np.sum(a ** 2 * b)  # noqa: E731
    a = onp.array([1.0, 2.0])
    (haa, hab), (hba, hbb) = hessian(f, argnums=(0, 1))(a, 3.0)
    onp.testing.assert_array_equal(haa, onp.diag([6.0, 6.0]))
    onp.testing.assert_array_equal(hab, 2 * a)
    onp.testing.assert_array_equal(hba, 2 * a)
    assert hbb == 0.0
    ja, jb = jacobian(lambda a, b: a * b, argnums=(0, 1))(a, 3.0)
    onp.testing.assert_array_equal(ja, 3 * onp.eye(2))
    onp.testing.assert_array_equal(jb, a)


@pytest.mark.parametrize("mode", ["auto", "fwd", "rev"])
def test_jacobian_of_containers_in_and_out(mode):
    def f(p):
        return {"u": np.sin(p["beta"]) * p["log_sigma"], "v": (np.sum(p["beta"] ** 2),)}
    j = jacobian(f, mode=mode)(PARAMS)
    b, s = PARAMS["beta"], PARAMS["log_sigma"]
    onp.testing.assert_allclose(j["u"]["beta"], onp.diag(onp.cos(b) * s), rtol=1e-14)
    onp.testing.assert_allclose(j["u"]["log_sigma"], onp.sin(b), rtol=1e-14)
    assert j["u"]["layers"][0][0].shape == (3, 2, 3) and not j["u"]["layers"][0][0].any()
    onp.testing.assert_allclose(j["v"][0]["beta"], 2 * b, rtol=1e-14)
    # an array input with a tuple output
    ja, jb = jacobian(lambda x: (x ** 2, np.sum(x)), mode=mode)(b)
    onp.testing.assert_allclose(ja, onp.diag(2 * b), rtol=1e-14)
    onp.testing.assert_array_equal(jb, onp.ones(3))


def test_jvp_and_vjp_of_containers_agree_with_each_other_and_fd():
    f, vec, unflatten = flat_loss()
    tangent = unflatten(RNG.normal(size=vec.size))
    value, t_out = jvp(loss, (PARAMS,), (tangent,))
    assert value == loss(PARAMS)
    onp.testing.assert_allclose(t_out, fd(f, vec) @ flatten(tangent)[0], rtol=1e-6)
    value, pullback = vjp(loss, PARAMS)
    (ct,) = pullback(1.0)
    same_tree(ct, grad(loss)(PARAMS), rtol=0, atol=0)
    # container output: the cotangent has the output's structure
    out, pullback = vjp(lambda p: (p["beta"] * 2.0, {"s": p["log_sigma"] ** 2}), PARAMS)
    (ct,) = pullback((onp.ones(3), {"s": 1.0}))
    onp.testing.assert_array_equal(ct["beta"], [2.0, 2.0, 2.0])
    assert ct["log_sigma"] == 2 * PARAMS["log_sigma"]
    with pytest.raises(ValueError, match="structure"):
        pullback(onp.ones(3))
    with pytest.raises(ValueError, match="structure"):
        jvp(loss, (PARAMS,), ({"beta": onp.ones(3)},))


def test_jvp_accepts_a_single_primal_and_says_what_it_expects():
    x = onp.array([0.5, 1.0])
    value, tangent = jvp(np.sin, x, onp.ones(2))
    onp.testing.assert_array_equal(value, onp.sin(x))
    onp.testing.assert_array_equal(tangent, onp.cos(x))
    value, tangent = jvp(lambda p: p["a"] ** 2, {"a": 3.0}, {"a": 1.0})
    assert (value, tangent) == (9.0, 6.0)
    with pytest.raises(TypeError, match="tangents must be one too"):
        jvp(lambda a, b: a * b, (1.0, 2.0), onp.ones(2))


def test_hvp_functional_and_direct_styles_with_containers():
    f, vec, unflatten = flat_loss()
    v = unflatten(RNG.normal(size=vec.size))
    want = fd(grad(f), vec) @ flatten(v)[0]
    for got in (hvp(loss)(PARAMS, v), hvp(loss, PARAMS, v)):
        same_tree(got, unflatten(want), rtol=1e-6, atol=1e-7)
    x = onp.array([1.0, 2.0])
    cube = lambda x, k: np.sum(x ** 3) * k  # noqa: E731
    onp.testing.assert_array_equal(hvp(cube)(x, 2.0, onp.ones(2)), 12 * x)
    assert hvp(cube, 1)(x, 2.0, 1.0) == 0.0           # argnum given positionally
    assert hvp(cube, argnums=1)(x, 2.0, 1.0) == 0.0
    with pytest.raises(TypeError, match="needs the point and the vector"):
        hvp(cube, x)
    with pytest.raises(ValueError, match="structure"):
        hvp(loss, PARAMS, {"beta": onp.ones(3)})


def test_containers_are_not_modified():
    before = flatten(PARAMS)[0].copy()
    grad(loss)(PARAMS)
    hessian(loss)(PARAMS)
    jvp(loss, (PARAMS,), (PARAMS,))
    onp.testing.assert_array_equal(flatten(PARAMS)[0], before)


def test_nested_grad_through_a_container():
    def outer(s):
        g = grad(lambda p: p["a"] ** 3 * p["b"] * s)({"a": 2.0, "b": 1.0})
        return g["a"] + g["b"]          # 3 a^2 b s + a^3 s = 20 s
    assert grad(outer)(1.5) == 20.0


# =======================================================================================
# autograd's transforms
# =======================================================================================

X = onp.array([0.5, 1.5, -0.7])


def test_make_vjp_and_make_jvp_conventions():
    pullback, value = make_vjp(np.sin)(X)              # autograd: (vjp, value)
    onp.testing.assert_array_equal(value, onp.sin(X))
    onp.testing.assert_allclose(pullback(onp.ones(3)), onp.cos(X), rtol=1e-15)
    value, tangent = make_jvp(np.sin)(X)(onp.ones(3))  # autograd: jvp(v) -> (value, Jv)
    onp.testing.assert_allclose(tangent, onp.cos(X), rtol=1e-15)
    pullback, value = make_vjp(lambda a, b: a * b, argnums=(0, 1))(X, 2.0)
    ga, gb = pullback(onp.ones(3))
    onp.testing.assert_array_equal(ga, [2.0, 2.0, 2.0])
    assert gb == onp.sum(X)


def test_elementwise_grad_deriv_and_grad_and_aux():
    onp.testing.assert_allclose(elementwise_grad(np.tanh)(X), 1 - onp.tanh(X) ** 2,
                                rtol=1e-14)
    assert deriv(np.sin)(0.3) == onp.cos(0.3)
    g, aux = grad_and_aux(lambda x: (np.sum(x ** 2), {"twice": x * 2}))(X)
    onp.testing.assert_array_equal(g, 2 * X)
    onp.testing.assert_array_equal(aux["twice"], 2 * X)
    assert isinstance(aux["twice"], onp.ndarray)      # plain values, no trace
    with pytest.raises(TypeError, match=r"\(value, aux\)"):
        grad_and_aux(lambda x: np.sum(x))(X)


def test_hessian_products_and_tensor_jacobian_products():
    f = lambda x: np.sum(x ** 3) + x[0] * x[1]  # noqa: E731
    H = onp.diag(6 * X) + onp.array([[0, 1, 0], [1, 0, 0], [0, 0, 0.0]])
    v = onp.array([1.0, -2.0, 0.5])
    onp.testing.assert_allclose(hessian_tensor_product(f)(X, v), H @ v, rtol=1e-14)
    onp.testing.assert_allclose(hessian_vector_product(f)(X, v), H @ v, rtol=1e-14)
    hv, g = make_hvp(f)(X)
    onp.testing.assert_allclose(hv(v), H @ v, rtol=1e-14)
    onp.testing.assert_allclose(g, 3 * X ** 2 + [X[1], X[0], 0.0], rtol=1e-14)
    # a matrix input: H contracted over both axes of the tensor
    M = RNG.normal(size=(2, 2))
    T = RNG.normal(size=(2, 2))
    onp.testing.assert_allclose(hessian_tensor_product(lambda m: np.sum(m ** 4))(M, T),
                                12 * M ** 2 * T, rtol=1e-13)
    A = RNG.normal(size=(2, 3))
    u = onp.array([1.0, 2.0])
    onp.testing.assert_allclose(tensor_jacobian_product(lambda x: A @ np.sin(x))(X, u),
                                (u @ A) * onp.cos(X), rtol=1e-14)
    onp.testing.assert_allclose(vector_jacobian_product(lambda x: A @ x)(X, u), u @ A)


def test_tensor_jacobian_product_over_the_leading_axes_of_the_output():
    # autograd contracts v with the output's first ndim(v) axes: the result has the output's
    # remaining axes, then x's (it used to be refused: "the cotangent has shape ...")
    W = RNG.normal(size=(2, 3, 4))
    f = lambda x: np.sin(W * x) * x[0]  # noqa: E731
    x = onp.array([0.3, -1.2, 0.7, 2.0])
    J = jacobian(f)(x)                              # (2, 3, 4, 4)
    for v in (RNG.normal(size=2), RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3, 4))):
        onp.testing.assert_allclose(tensor_jacobian_product(f)(x, v),
                                    onp.tensordot(v, J, axes=v.ndim), rtol=1e-13, atol=1e-15)
    with pytest.raises(ValueError, match=r"leading axes"):
        tensor_jacobian_product(f)(x, onp.ones(3))


def test_make_ggnvp_is_jt_hg_j_v():
    A = RNG.normal(size=(4, 3))
    f = lambda x: np.tanh(A @ x)  # noqa: E731
    J = (1 - onp.tanh(A @ X) ** 2)[:, None] * A
    v = onp.array([1.0, 0.0, -1.0])
    onp.testing.assert_allclose(make_ggnvp(f)(X)(v), J.T @ J @ v, rtol=1e-13)   # H_g = I
    g = lambda y: np.sum(np.exp(y))  # noqa: E731
    Hg = onp.diag(onp.exp(onp.tanh(A @ X)))
    onp.testing.assert_allclose(make_ggnvp(f, g)(X)(v), J.T @ Hg @ J @ v, rtol=1e-13)


def test_multigrad_dict_by_argument_name():
    def f(a, b=2.0, *rest, scale, **named):
        return a * b * scale + np.sum(rest[0] ** 2) + named["k"] * a
    g = multigrad_dict(f)(1.5, 3.0, onp.ones(2), scale=2.0, k=4.0)
    assert list(g) == ["a", "b", "rest", "scale", "named"]
    assert (g["a"], g["b"], g["scale"]) == (3.0 * 2.0 + 4.0, 1.5 * 2.0, 1.5 * 3.0)
    onp.testing.assert_array_equal(g["rest"][0], [2.0, 2.0])
    assert g["named"]["k"] == 1.5


def test_holomorphic_grad_is_refused_by_name():
    with pytest.raises(ComplexNumberError, match="holomorphic_grad.*real"):
        holomorphic_grad(np.sin)


# =======================================================================================
# check_grads
# =======================================================================================

def test_check_grads_passes_exact_derivatives_to_third_order():
    check_grads(lambda x: np.sum(np.sin(x) * x ** 2))(X)
    check_grads(lambda x: np.exp(x) * np.tanh(x), modes=["rev"], order=3)(X)
    check_grads(loss, order=2)(PARAMS)
    check_grads(lambda a, b: np.tanh(a * b), argnums=(0, 1))(X, 0.7)


def _wrong_sine():
    """sin with a reverse rule off by a factor 2 (and a correct forward rule)."""
    bad = primitive(onp.sin)
    defvjp(bad, lambda g, ans, x: P.multiply(P.multiply(g, 2.0), P.cos(x)))
    defjvp(bad, lambda t, ans, x: P.multiply(t, P.cos(x)))
    return bad


def test_check_grads_catches_a_wrong_rule_and_names_the_mode():
    bad = _wrong_sine()
    check_grads(lambda x: np.sum(bad(x)), modes=["fwd"], order=1)(X)   # fwd rule is right
    with pytest.raises(AssertionError, match=r"reverse-mode derivative of .*\(order 1\)"):
        check_grads(lambda x: np.sum(bad(x)))(X)
    with pytest.raises(AssertionError, match="exact .* numeric"):
        check_grads(lambda x: np.sum(bad(x)), modes="rev", order=1)(X)


def test_check_grads_takes_a_returned_list_as_an_array_as_jacobian_does():
    # it raised TraceError (the list was read by plain numpy)
    f = lambda x: [x[0] * x[1], np.sin(x[0]), 2.0]  # noqa: E731
    check_grads(f)(X)
    bad = _wrong_sine()
    with pytest.raises(AssertionError, match="reverse-mode"):
        check_grads(lambda x: [x[0] * x[1], bad(x[0])])(X)


def test_check_grads_takes_functions_that_return_lists():
    """np.split returns a list of arrays, as autograd's tests check it (review of issue 9)."""
    check_grads(lambda x: np.split(x, [1, 3]))(onp.arange(1.0, 6.0))
    check_grads(lambda x: np.array_split(x, 2, axis=1))(onp.arange(12.0).reshape(3, 4))
    bad = _wrong_sine()
    with pytest.raises(AssertionError, match="reverse-mode"):
        check_grads(lambda x: [bad(x), x])(X)


def test_check_grads_refuses_unknown_modes_and_orders():
    with pytest.raises(ValueError, match="did you mean 'rev'"):
        check_grads(np.sin, modes=["rve"])
    with pytest.raises(ValueError, match="order"):
        check_grads(np.sin, order=0)


def test_second_derivatives_through_containers_by_nesting():
    p = {"a": onp.array([1.0, 2.0]), "b": 0.5}
    f = lambda p: np.sum(p["a"] ** 3) * p["b"]  # noqa: E731
    g2 = grad(lambda p: np.sum(grad(f)(p)["a"]))(p)     # d/dp sum(3 a^2 b)
    onp.testing.assert_array_equal(g2["a"], 6 * p["a"] * p["b"])
    assert g2["b"] == onp.sum(3 * p["a"] ** 2)
    j = jacobian(grad(f))(p)                             # a dict output of a dict input
    onp.testing.assert_array_equal(j["a"]["b"], 3 * p["a"] ** 2)
    same_tree(j["a"]["a"], hessian(f)(p)["a"]["a"])
