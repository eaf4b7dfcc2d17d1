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


# =======================================================================================
# complex numbers are refused at the first primitive
# =======================================================================================

COMPLEX_CASES = {
    "norm of a complex list": lambda: np.linalg.norm([1 + 2j, 3 - 1j]),
    "exp of a complex array": lambda: np.exp(onp.array([1j])),
    "complex scalar": lambda: np.multiply(onp.complex64(1j), 2.0),
    "grad of x * complex": lambda: grad(lambda x: x * (1 + 0.2j))(1.0),
    "grad at a complex point": lambda: grad(lambda x: np.sum(x * x))(onp.array([1 + 1j])),
    "forward mode": lambda: jacobian(lambda x: x * (1 + 0.2j), mode="fwd")(1.0),
    "hessian": lambda: hessian(lambda x: np.sum(np.exp(x * 1j)))(onp.ones(2)),
    "tensor": lambda: tensor(onp.array([1j]), requires_grad=True) * 2.0,
    "a tensor's value": lambda: tensor(onp.ones(1), requires_grad=True) * onp.array([1j]),
    "plain numpy ufunc on traced": lambda: grad(lambda x: onp.add(x, 1j))(1.0),
    "identity at a complex point": lambda: grad(lambda x: x)(1 + 2j),
    "complex tangent": lambda: jvp(lambda x: 2.0 * x, (1.0,), (1j,)),
}


@pytest.mark.parametrize("case", sorted(COMPLEX_CASES))
def test_complex_numbers_are_refused(case):
    from mleopt.ad import ComplexNumberError
    with pytest.raises(ComplexNumberError, match="complex numbers are not supported") as info:
        COMPLEX_CASES[case]()
    assert isinstance(info.value, TypeError)
    assert "received a complex number" in str(info.value)   # names the function


def test_the_complex_error_names_the_function_and_argument():
    from mleopt.ad import ComplexNumberError
    with pytest.raises(ComplexNumberError, match=r"^multiply received a complex number "
                       r"\(argument 1\)"):
        grad(lambda x: x * (1 + 0.2j))(1.0)
    # the function the user called, not an inner primitive
    with pytest.raises(ComplexNumberError, match=r"^linalg.norm received a complex number "
                       r"\(argument 0\)"):
        np.linalg.norm([1 + 2j, 3 - 1j])


def test_real_values_pass_the_complex_check():
    assert np.exp(onp.float32(1.0)) == onp.exp(onp.float32(1.0))
    assert np.add([1.0, 2], 1).tolist() == [2.0, 3.0]
    assert grad(lambda x: np.sum(x * onp.array([1, 2])))(onp.ones(2)).tolist() == [1.0, 2.0]


# =======================================================================================
# boolean-valued functions
# =======================================================================================

BOOLEAN_FUNCTIONS = {
    "np.allclose": lambda x: np.allclose(x, 1.0),
    "numpy.allclose": lambda x: onp.allclose(x, 1.0),
    "np.isclose": lambda x: np.isclose(x, 1.0),
    "numpy.isclose": lambda x: onp.isclose(x, 1.0),
    "numpy.array_equal": lambda x: onp.array_equal(x, x),
    "x > 1": lambda x: x > 1.0,
    "x == x": lambda x: x == x,
    "numpy.isfinite": lambda x: onp.isfinite(x),
    "np.less": lambda x: np.less(x, 2.0),
}


@pytest.mark.parametrize("name", sorted(BOOLEAN_FUNCTIONS))
def test_boolean_functions_work_on_values_and_are_constants(name):
    """They are piecewise constant: on traced values they give plain booleans (for control
    flow and np.where); in arithmetic they act as constants, whose derivative is 0."""
    f = BOOLEAN_FUNCTIONS[name]
    x = onp.array([1.0, 2.0])
    want = f(x)
    seen = []

    def g(x):
        b = f(x)
        seen.append(b)
        return np.sum(x * b)

    gx = grad(g)(x)
    assert gx.dtype == onp.float64
    onp.testing.assert_array_equal(gx, onp.broadcast_to(want, x.shape) * 1.0)
    onp.testing.assert_array_equal(hessian(g)(x), onp.zeros((2, 2)))
    for b in seen:
        assert onp.asarray(b).dtype == bool and onp.array_equal(b, want)


@pytest.mark.parametrize("transform", ["grad", "jacobian", "jacobian fwd", "hessian",
                                       "jvp"])
@pytest.mark.parametrize("name", ["np.allclose", "x > 1", "numpy.isclose"])
def test_differentiating_a_boolean_output_is_refused(name, transform):
    f = BOOLEAN_FUNCTIONS[name]
    run = {"grad": lambda: grad(f)(1.0), "jacobian": lambda: jacobian(f)(onp.ones(2)),
           "jacobian fwd": lambda: jacobian(f, mode="fwd")(onp.ones(2)),
           "hessian": lambda: hessian(f)(onp.ones(2)),
           "jvp": lambda: jvp(f, (1.0,), (1.0,))}[transform]
    with pytest.raises(TypeError, match="returned a boolean .* has no derivative"):
        run()


def test_gradient_through_a_boolean_factor_is_a_float_array():
    """d/dx sum(x * b) with b boolean was handed back as b itself (a bool array)."""
    b = onp.array([True, False])
    g = grad(lambda x: np.sum(x * b))(onp.ones(2))
    assert g.dtype == onp.float64 and g.tolist() == [1.0, 0.0]


# =======================================================================================
# %, //, mod, remainder, fmod, floor_divide
# =======================================================================================

def _away_from_jumps(shape, seed):
    """x and y with x / y at least 0.2 from an integer (the jumps of mod)."""
    rng = onp.random.default_rng(seed)
    y = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    q = rng.integers(-3, 4, shape) + rng.uniform(0.2, 0.8, shape)
    return q * y, y


@pytest.mark.parametrize("name", ["mod", "remainder", "fmod", "%"])
@pytest.mark.parametrize("shapes", [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((), (2,))],
                         ids=str)
@pytest.mark.parametrize("seed", [0, 1])
def test_remainder_rules_against_finite_differences(name, shapes, seed):
    x, y = _away_from_jumps(onp.broadcast_shapes(*shapes), seed)
    x = x if shapes[0] else x.flat[0]
    y = y[(0,) * (y.ndim - len(shapes[1]))] if shapes[1] else y.flat[0]
    f = (lambda a, b: a % b) if name == "%" else getattr(np, name)
    onp.testing.assert_array_equal(f(x, y), (onp.fmod if name == "fmod" else onp.mod)(x, y))
    check_grads(f, onp.asarray(x), onp.asarray(y), order=2)


def test_remainder_derivatives_in_closed_form():
    assert grad(lambda x: x % 2.0)(3.0) == 1.0
    assert grad(lambda y: 7.5 % y)(2.0) == -3.0          # -floor(7.5 / 2)
    assert grad(lambda y: -7.5 % y)(2.0) == 4.0          # -floor(-3.75)
    assert grad(lambda y: np.fmod(-7.5, y))(2.0) == 3.0  # -trunc(-3.75)
    assert grad(lambda x: onp.remainder(x, 2.0))(3.0) == 1.0   # plain numpy dispatches


@pytest.mark.parametrize("spelling", ["//", "np.floor_divide", "numpy.floor_divide",
                                      "divmod"])
def test_floor_divide_is_piecewise_constant(spelling):
    f = {"//": lambda x, y: x // y, "np.floor_divide": np.floor_divide,
         "numpy.floor_divide": onp.floor_divide,
         "divmod": lambda x, y: divmod(x, y)[0]}[spelling]
    x, y = onp.array([7.5, -3.2]), onp.array([2.0, 1.5])
    onp.testing.assert_array_equal(f(x, y), onp.floor_divide(x, y))
    g = grad(lambda v: np.sum(f(v, y) + v))(x)   # // contributes 0 (as floor does)
    onp.testing.assert_array_equal(g, [1.0, 1.0])
    g = grad(lambda w: np.sum(f(x, w) + w))(y)
    onp.testing.assert_array_equal(g, [1.0, 1.0])


# =======================================================================================
# scipy.special / scipy.stats on traced values: the message names the twin
# =======================================================================================

def test_scipy_special_on_a_traced_value_points_to_mleopt_special():
    import scipy.special as sps
    with pytest.raises(TypeError, match=r"scipy\.special\.gammaln was called on a traced "
                       r"value.*mleopt\.special\.gammaln instead \(from mleopt\.special import"):
        grad(lambda x: sps.gammaln(x))(3.0)
    with pytest.raises(TypeError, match=r"scipy\.special\.logsumexp .*mleopt\.special\."
                       "logsumexp"):
        grad(lambda x: sps.logsumexp(x))(onp.ones(3))
    with pytest.raises(TypeError, match=r"scipy\.special\.erfcx .*mleopt\.special has no "
                       "differentiable version"):
        jacobian(lambda x: sps.erfcx(x), mode="fwd")(1.0)


def test_scipy_stats_on_a_traced_value_points_to_mleopt_stats():
    import scipy.stats as st
    with pytest.raises(TypeError, match=r"scipy\.stats\.norm\.logpdf was called on a traced "
                       r"value.*mleopt\.stats\.norm\.logpdf instead "
                       r"\(from mleopt\.stats import norm"):
        grad(lambda s: st.norm.logpdf(1.0, 0.0, s))(2.0)
    with pytest.raises(TypeError, match=r"scipy\.stats\.poisson\.logpmf.*mleopt\.stats\."
                       r"poisson\.logpmf"):
        hessian(lambda m: st.poisson.logpmf(3, m))(2.0)
    with pytest.raises(TypeError, match=r"scipy\.stats\.norm\.logpdf.*mleopt\.stats"):
        grad(lambda x: st.norm(0, 1).logpdf(x))(2.0)   # a frozen distribution
    # multivariate distributions have no .name: named from their class
    with pytest.raises(TypeError, match=r"scipy\.stats\.multivariate_normal\.logpdf was "
                       "called"):
        grad(lambda x: st.multivariate_normal.logpdf(x, onp.zeros(2)))(onp.ones(2))
    with pytest.raises(TypeError, match=r"scipy\.stats\.multivariate_normal\.logpdf"):
        grad(lambda x: st.multivariate_normal(onp.zeros(2)).logpdf(x))(onp.ones(2))


def test_plain_numpy_messages_are_unchanged():
    with pytest.raises(TypeError, match=r"numpy\.spacing was called on a traced value"):
        grad(lambda x: onp.spacing(x))(2.0)
    with pytest.raises(TypeError, match="converted to a plain numpy array"):
        grad(lambda x: onp.asarray(x).sum())(onp.ones(2))


# =======================================================================================
# the namespaces show only their own names
# =======================================================================================

HELPERS = {"builtins", "SimpleNamespace", "annotations", "Any", "ArrayLike", "normalize_axes",
           "TraceError", "Traced", "primitives"}


@pytest.mark.parametrize("module", ["mleopt.numpy", "mleopt.special"])
def test_namespaces_do_not_leak_helper_names(module):
    import importlib
    mod = importlib.import_module(module)
    public = {n for n in dir(mod) if not n.startswith("_")}
    assert not public & HELPERS, f"{module} shows helper names {sorted(public & HELPERS)}"
    if module == "mleopt.numpy":   # every public name is one of numpy's
        assert public - set(dir(onp)) == set()
    else:
        import scipy.special as sps
        assert public - set(dir(sps)) == set()


@pytest.mark.parametrize("module", ["mleopt.numpy", "mleopt.special"])
def test_star_import_still_gives_the_functions(module):
    names: dict = {}
    exec(f"from {module} import *", names)
    assert "exp" in names if module == "mleopt.numpy" else "gammaln" in names
    assert not set(names) & HELPERS


def test_stats_namespace_lists_distributions_not_helpers():
    import mleopt.stats as mstats
    names = dir(mstats)
    assert "norm" in names and "norm_gen" in names
    for helper in ("Any", "ArrayLike", "annotations", "LOG_SQRT_2PI", "Continuous"):
        assert helper not in names
