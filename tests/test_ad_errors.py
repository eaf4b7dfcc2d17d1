"""Issue 2, section 2, "Nothing silently wrong": every way of losing the trace raises a
clear error that names the operation and the supported alternative."""
from __future__ import annotations

import math

import numpy as onp
import pytest

import mleopt.numpy as np
from mleopt.ad import (TraceError, grad, hessian, hvp, jacobian, jvp, stop_gradient, tensor,
                       value_and_grad, vjp)

X = onp.array([1.0, 2.0])

# every transform must refuse, not only reverse mode
TRANSFORMS = {
    "grad": lambda f, x: grad(lambda x: np.sum(f(x)))(x),
    "jacobian_fwd": lambda f, x: jacobian(f, mode="fwd")(x),
    "jacobian_rev": lambda f, x: jacobian(f, mode="rev")(x),
    "jvp": lambda f, x: jvp(f, (x,), (onp.ones_like(x),)),
    "hessian": lambda f, x: hessian(lambda x: np.sum(f(x) ** 2))(x),
    "tensor": lambda f, x: np.sum(f(tensor(x, requires_grad=True))).backward(),
}


def raises_trace_error(fun, *args, match):
    """Run fun; it must raise a TraceError whose message matches (also when numpy wraps it)."""
    with pytest.raises((TraceError, ValueError)) as info:
        fun(*args)
    err = info.value
    chain = [err]
    while chain[-1].__cause__ is not None or chain[-1].__context__ is not None:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)
    found = [e for e in chain if isinstance(e, TraceError)]
    assert found, f"expected a TraceError, got {err!r}"
    import re
    assert re.search(match, str(found[0])), f"{match!r} not in {str(found[0])!r}"
    return found[0]


# =======================================================================================
# conversions to plain numpy
# =======================================================================================

@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
def test_np_asarray_on_traced_value(transform):
    err = raises_trace_error(TRANSFORMS[transform], lambda x: onp.asarray(x) * 2.0, X,
                             match="converted to a plain numpy array")
    msg = str(err)
    assert "np.asarray" in msg and "mleopt.numpy" in msg and "stop_gradient" in msg
    assert "(2,)" in msg  # the shape of the offending value


def test_np_array_and_numpy_constructors_on_traced_value():
    raises_trace_error(grad(lambda x: onp.sum(onp.array(x))), X,
                       match="converted to a plain numpy array")
    raises_trace_error(grad(lambda x: onp.sum(onp.array([x[0], x[1]]))), X,
                       match="converted to a plain numpy array")
    raises_trace_error(grad(lambda x: onp.float64(x)), 1.0,
                       match="converted to a plain numpy array")
    # the differentiable constructor is the supported alternative
    assert list(grad(lambda x: np.sum(np.array([x[0], x[1] ** 2])))(X)) == [1.0, 4.0]


def test_float_of_non_scalar_traced_value():
    err = raises_trace_error(grad(lambda x: float(x)), X, match=r"float\(\)")
    assert "(2,)" in str(err) and "single number" in str(err)
    assert "stop_gradient" in str(err)


def test_float_int_of_scalar_traced_value():
    raises_trace_error(grad(lambda x: float(x) * x), 1.5, match=r"float\(\).*derivative")
    raises_trace_error(grad(lambda x: math.exp(x)), 1.5, match=r"float\(\)")
    raises_trace_error(grad(lambda x: int(x) * x), 1.5, match=r"int\(\)")
    raises_trace_error(grad(lambda x: x * len(range(x))), 1.5, match=r"int\(\)")
    raises_trace_error(grad(lambda x: x.astype(int)), 1.5, match=r"astype\(int")


def test_explicit_detaching_is_allowed():
    assert grad(lambda x: x.item() * x)(1.5) == 1.5
    assert grad(lambda x: stop_gradient(x) * x)(1.5) == 1.5


# =======================================================================================
# unsupported numpy functions
# =======================================================================================

UNSUPPORTED = {
    "interp": lambda x: onp.interp([0.5], [0.0, 1.0], x),
    "fft": lambda x: onp.fft.fft(x).real,
    "convolve": lambda x: onp.convolve(x, [1.0, 2.0]),
    "correlate": lambda x: onp.correlate(x, [1.0, 2.0]),
    "unique": lambda x: onp.unique(x),
    "eigvals": lambda x: onp.linalg.eigvals(onp.outer(x, x)),  # (complex in general)
}


def test_plain_numpy_function_with_a_differentiable_twin_is_dispatched():
    """numpy.linalg.norm / numpy.sum on a traced value run mleopt's version (exact)."""
    assert onp.allclose(grad(lambda x: onp.linalg.norm(x))(X), X / onp.linalg.norm(X))
    assert onp.allclose(grad(lambda x: onp.sum(x * x))(X), 2 * X)


@pytest.mark.parametrize("transform", ["grad", "jvp", "hessian", "tensor"])
@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_numpy_function(name, transform):
    err = raises_trace_error(TRANSFORMS[transform], UNSUPPORTED[name], X,
                             match="no differentiable version")
    assert name in str(err) and "mleopt.numpy" in str(err)


@pytest.mark.parametrize("ufunc", [onp.spacing, onp.nextafter, onp.frexp])
def test_unsupported_numpy_ufunc(ufunc):
    args = (1.0,) if ufunc is onp.nextafter else ()
    err = raises_trace_error(grad(lambda x: np.sum(ufunc(x, *args))), X,
                             match="no derivative rule")
    assert ufunc.__name__ in str(err) and "mleopt.numpy" in str(err)


def test_ufunc_methods_and_out_are_refused():
    raises_trace_error(grad(lambda x: onp.add.reduce(x)), X, match="add.reduce")
    raises_trace_error(grad(lambda x: np.sum(onp.exp(x, out=onp.empty(2)))), X,
                       match="exp")


def test_missing_function_in_mleopt_numpy():
    """Names numpy does not have (here one of autograd's internals) are missing here too."""
    with pytest.raises(AttributeError, match="numpy_boxes"):
        grad(lambda x: np.sum(np.numpy_boxes(x)))(X)


def test_supported_numpy_calls_dispatch_to_the_differentiable_version():
    """Plain numpy functions that mleopt.numpy implements are not an error: they dispatch."""
    for f in (lambda x: onp.sum(onp.exp(x) * x), lambda x: onp.mean(onp.sin(x)),
              lambda x: onp.dot(x, x), lambda x: onp.sum(onp.where(x > 1.5, x, 0.0))):
        g = grad(f)(X)
        h = 1e-6
        fd = [(f(X + h * e) - f(X - h * e)) / (2 * h) for e in onp.eye(2)]
        onp.testing.assert_allclose(g, fd, rtol=1e-6)


# =======================================================================================
# in-place assignment
# =======================================================================================

@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
def test_inplace_assignment_into_traced_array(transform):
    def f(x):
        x[0] = 1.0
        return x

    err = raises_trace_error(TRANSFORMS[transform], f, X, match="in-place assignment")
    assert "where" in str(err) and "concatenate" in str(err)
    assert list(X) == [1.0, 2.0]


def test_inplace_slice_assignment_into_traced_array():
    def f(x):
        x[:] = x * 2
        return np.sum(x)

    raises_trace_error(grad(f), X, match="in-place assignment")


@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
def test_assignment_of_traced_value_into_numpy_array(transform):
    def whole(x):
        out = onp.zeros(2)
        out[:] = x
        return out

    def element(x):
        out = onp.zeros(2)
        out[0] = x[0]  # numpy wraps the error in "setting an array element with a sequence"
        return out

    raises_trace_error(TRANSFORMS[transform], whole, X, match="assignment into a numpy")
    if transform == "tensor":
        # PyTorch's style: float() of a one-number tensor is the user's explicit number
        # (float(loss)), so numpy's element assignment gets it too; the result is plain
        assert isinstance(element(tensor(X, requires_grad=True)), onp.ndarray)
        return
    raises_trace_error(TRANSFORMS[transform], element, X, match=r"float\(\)")


def test_augmented_assignment_rebinds_and_stays_correct():
    def f(x):
        x += 1.0      # rebinds the name (no in-place update of the user's array)
        x *= x
        return np.sum(x)

    x = X.copy()
    onp.testing.assert_allclose(grad(f)(x), 2 * (X + 1.0))
    onp.testing.assert_array_equal(x, X)


# =======================================================================================
# non-scalar outputs
# =======================================================================================

@pytest.mark.parametrize("shape", [(2,), (2, 2)], ids=str)
def test_grad_of_non_scalar_output(shape):
    def f(x):
        return np.reshape(np.outer(x, x), (-1,))[:int(onp.prod(shape))].reshape(shape)

    for fun in (grad(f), value_and_grad(f), hessian(f)):
        with pytest.raises(TraceError) as info:
            fun(X)
        msg = str(info.value)
        assert str(shape) in msg and "jacobian" in msg and "single number" in msg
    with pytest.raises(TraceError, match="jacobian"):
        hvp(f)(X, X)


@pytest.mark.parametrize("out, what", [(None, "None"), ("s", "a str"), ((1.0, 2.0), "a tuple")])
def test_grad_of_function_returning_no_number(out, what):
    # a forgotten return used to give a gradient of zeros, silently
    def f(x):
        np.sum(x ** 2)
        return out if out != (1.0, 2.0) else (np.sum(x), 2.0)

    for fun in (grad(f), value_and_grad(f), hessian(f)):
        with pytest.raises(TypeError, match=f"returned {what}"):
            fun(X)


def test_backward_on_non_scalar_without_gradient():
    x = tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(TraceError) as info:
        y.backward()
    msg = str(info.value)
    assert "(2,)" in msg and "gradient=" in msg and "sum" in msg
    assert x.grad is None
    y.backward(gradient=onp.ones(2))
    onp.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_backward_when_nothing_requires_grad():
    x = tensor([1.0, 2.0])  # requires_grad=False
    with pytest.raises(TraceError, match="requires? grad"):
        (x * 2).sum().backward()


def test_shape_mismatches_in_forward_and_hvp():
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        jvp(lambda x: x, (X,), (onp.ones(3),))
    with pytest.raises(ValueError, match="shape"):
        hvp(lambda x: np.sum(x ** 2))(X, onp.ones(3))


def test_argnum_out_of_range_is_named():
    for transform in (grad, hessian, lambda f, argnum: jacobian(f, argnum)):
        with pytest.raises(ValueError, match="argnum 3 .* called with 1 positional"):
            transform(lambda x: np.sum(x ** 2), argnum=3)(X)
    with pytest.raises(ValueError, match="argnum 2"):
        hvp(lambda x: np.sum(x ** 2), argnum=2)(X, X)


def test_a_returned_list_of_parts_of_other_shapes_says_to_return_a_tuple():
    # it failed inside concatenate: "all the input arrays must have same number of dimensions"
    f = lambda x: [x, np.sum(x)]  # noqa: E731
    for transform in (jacobian, lambda f: (lambda x: vjp(f, x))):
        with pytest.raises(ValueError, match="return a tuple"):
            transform(f)(X)
    j1, j2 = jacobian(lambda x: (x, np.sum(x)))(X)
    onp.testing.assert_array_equal(j2, onp.ones(2))


def test_an_argument_chosen_twice_is_refused():
    # argnums=(0, 0) gave zeros for the first copy and leaked a traced tensor as the second
    f = lambda x, y: np.sum(np.sin(x) * y ** 2)  # noqa: E731
    for transform in (grad, hessian, jacobian, value_and_grad):
        for argnums in ((0, 0), (1, -1)):
            with pytest.raises(ValueError, match="twice"):
                transform(f, argnums=argnums)(X, X)


def test_jacobian_of_a_list_is_the_jacobian_of_the_array_and_of_a_tuple_a_tuple():
    f = lambda x: [x[0] * x[1], np.sin(x[0])]  # noqa: E731
    want = onp.array([[X[1], X[0]], [onp.cos(X[0]), 0.0]])
    for mode in ("auto", "fwd", "rev"):
        onp.testing.assert_allclose(jacobian(f, mode=mode)(X[:2]), want, rtol=1e-14)
    # a tuple output is a container (JAX): one Jacobian per entry
    j1, j2 = jacobian(lambda x: (x, 2 * x))(X)
    onp.testing.assert_array_equal(j1, onp.eye(X.size))
    onp.testing.assert_array_equal(j2, 2 * onp.eye(X.size))
