"""Issue 7, items 5, 11 and 14 (AD part): nothing silently wrong in mleopt.ad.

* derivatives that are finite (often 0) must not come out NaN from 0 * inf or 0 / 0 in a
  rule: x**p at 0 (every order, both modes), std / var / norm where they are 0;
* complex numbers are refused at the first primitive that sees one;
* boolean-valued functions (comparisons, allclose, ...) work on the values; a function
  whose output is boolean has no derivative and grad / jacobian / hessian say so;
* x % y, x // y, mod, remainder, fmod, floor_divide have rules;
* scipy.special / scipy.stats functions on traced values point to mleopt.special / stats;
* mleopt.numpy and mleopt.special do not show helper names.
"""
from __future__ import annotations

import warnings

import numpy as onp
import pytest

import mleopt.numpy as np
from check import check_grads
from mleopt.ad import grad, hessian, jacobian, jvp, tensor


def first_derivatives(f, x):
    """df/dx at x by reverse mode, forward mode and a forward jvp."""
    return [grad(f)(x), jacobian(f, mode="fwd")(x), jvp(f, (x,), (onp.ones_like(x),))[1]]


def second_derivatives(f, x):
    """d2f/dx2 four ways: forward-over-reverse, reverse-over-reverse, forward-over-forward,
    reverse-over-forward."""
    fwd = lambda z: jacobian(f, mode="fwd")(z)  # noqa: E731
    return [hessian(f)(x), jacobian(grad(f), mode="rev")(x), jacobian(fwd, mode="fwd")(x),
            jacobian(fwd, mode="rev")(x)]


def third_derivatives(f, x):
    return [grad(grad(grad(f)))(x), jacobian(hessian(f), mode="fwd")(x)]


def assert_all(values, want, what):
    for i, v in enumerate(values):
        onp.testing.assert_array_equal(onp.asarray(v, dtype=float), want, err_msg=f"{what} #{i}")


# =======================================================================================
# x**p at x = 0
# =======================================================================================

# d/dx, d2/dx2, d3/dx3 of x**p at 0
POWER_AT_ZERO = {0.0: (0.0, 0.0, 0.0), 1.0: (1.0, 0.0, 0.0), 2.0: (0.0, 2.0, 0.0),
                 3.0: (0.0, 0.0, 6.0)}


@pytest.mark.parametrize("p", sorted(POWER_AT_ZERO))
@pytest.mark.parametrize("spelling", ["operator", "np.power", "int exponent"])
def test_power_at_zero_every_order_both_modes(p, spelling):
    if spelling == "operator":
        f = lambda x: x ** p  # noqa: E731
    elif spelling == "np.power":
        f = lambda x: np.power(x, p)  # noqa: E731
    else:
        f = lambda x: x ** int(p)  # noqa: E731
    d1, d2, d3 = POWER_AT_ZERO[p]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0 * inf hidden behind a RuntimeWarning either
        assert_all(first_derivatives(f, 0.0), d1, f"d/dx x**{p} at 0")
        assert_all(second_derivatives(f, 0.0), d2, f"d2/dx2 x**{p} at 0")
        assert_all(third_derivatives(f, 0.0), d3, f"d3/dx3 x**{p} at 0")


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.0])
def test_power_at_zero_in_arrays_against_finite_differences(p):
    x = onp.array([0.0, 0.7, -1.3, 0.0])
    check_grads(lambda x: np.sum(np.power(x, p) * onp.arange(1.0, 5.0)), x, order=3)


def test_power_half_at_zero_is_genuinely_infinite():
    """x**0.5 at 0: the derivative 0.5 x**-0.5 is infinite (documented), not NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's "divide by zero"
        assert grad(lambda x: x ** 0.5)(0.0) == onp.inf
        assert jacobian(lambda x: x ** 0.5, mode="fwd")(0.0) == onp.inf
        assert hessian(lambda x: x ** 0.5)(0.0) == -onp.inf


def test_power_zero_exponent_keeps_the_mixed_derivative_away_from_zero():
    """Only x == 0 and y == 0 together change the rule: d2 x**y / dx dy at y = 0 is 1/x."""
    h = hessian(lambda v: v[0] ** v[1])(onp.array([2.0, 0.0]))
    onp.testing.assert_allclose(h, [[0.0, 0.5], [0.5, onp.log(2.0) ** 2]], rtol=1e-14)
    # 0**y = 0 for y > 0: its derivative in y is 0
    assert grad(lambda y: np.power(0.0, y))(1.5) == 0.0


# =======================================================================================
# std, var, norm where they are 0
# =======================================================================================

def test_std_of_one_value_has_derivative_zero():
    x = onp.array([3.5])
    assert_all(first_derivatives(np.std, x), onp.zeros(1), "d std / dx, one value")
    assert_all(second_derivatives(np.std, x), onp.zeros((1, 1)), "d2 std, one value")
    assert_all([tensor_grad(np.std, x)], onp.zeros(1), "std: .backward()")


def tensor_grad(f, x):
    t = tensor(x, requires_grad=True)
    f(t).backward()
    return t.grad


@pytest.mark.parametrize("ddof", [0, 1])
@pytest.mark.parametrize("fun", ["std", "var"])
def test_std_var_over_an_axis_of_length_one(fun, ddof):
    x = onp.array([[1.0, 2.0, 4.0]])           # axis 0 has length 1
    f = lambda x: getattr(np, fun)(x, axis=0, ddof=ddof)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy: degrees of freedom <= 0
        value = f(x)
        onp.testing.assert_array_equal(value, getattr(onp, fun)(x, axis=0, ddof=ddof))
        jac_rev = jacobian(f, mode="rev")(x)
        jac_fwd = jacobian(f, mode="fwd")(x)
    if ddof == 0:   # identically 0: every derivative is 0
        assert_all([jac_rev, jac_fwd], onp.zeros((3, 1, 3)), f"{fun} over a length-1 axis")
        w = onp.array([0.3, -1.0, 2.0])
        g = lambda x: np.sum(w * f(x))  # noqa: E731
        assert_all(second_derivatives(g, x), onp.zeros((1, 3, 1, 3)), f"d2 {fun}")
    else:           # 0 / 0: the value itself is NaN, as numpy's; so is its derivative
        assert onp.all(onp.isnan(value))


@pytest.mark.parametrize("ddof", [0, 1])
def test_std_var_with_ddof_against_finite_differences(ddof):
    x = onp.array([[1.0, 2.5, -0.5], [0.3, 1.7, 2.2]])
    for axis in (None, 0, 1):
        check_grads(lambda x: np.std(x, axis=axis, ddof=ddof), x)
        check_grads(lambda x: np.var(x, axis=axis, ddof=ddof), x)


def test_std_of_equal_values_and_norm_at_zero_take_the_zero_subgradient():
    """Kinks (like |x| at 0): the subgradient 0, as abs' = sign(0) = 0; not NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_all(first_derivatives(np.std, onp.full(3, 2.0)), onp.zeros(3), "std, equal")
        assert_all(first_derivatives(np.linalg.norm, onp.zeros(3)), onp.zeros(3), "norm at 0")
        assert_all(first_derivatives(np.linalg.norm, onp.zeros((2, 2))), onp.zeros((2, 2)),
                   "Frobenius norm at 0")
        assert_all(first_derivatives(np.abs, 0.0), 0.0, "abs at 0")
        assert_all(second_derivatives(np.abs, 0.0), 0.0, "abs'' at 0")
    # away from 0 the norm is exact to second order
    check_grads(np.linalg.norm, onp.array([0.3, -1.2, 2.0]))


def test_maximum_ties_split_the_derivative():
    """maximum(x, y) at x == y: 1/2 to each side (the sum, 1, is the derivative of
    maximum(x, x) = x)."""
    assert grad(lambda x: np.maximum(x, 1.0))(1.0) == 0.5
    assert grad(lambda x: np.maximum(x, x))(1.0) == 1.0
    assert grad(lambda x: np.max(np.stack([x, x, 1.0])))(1.0) == 2.0 / 3.0


def test_xlogy_at_zero_is_finite():
    from mleopt.special import xlog1py, xlogy
    assert grad(lambda y: xlogy(0.0, y))(0.0) == 0.0
    assert grad(lambda y: xlog1py(0.0, y))(-1.0) == 0.0
    # d/dx x log y at y = 1 is log 1 = 0, d/dy is x / y
    assert grad(lambda v: xlogy(v[0], v[1]))(onp.array([0.0, 1.0])).tolist() == [0.0, 0.0]
