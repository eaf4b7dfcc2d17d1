"""The derivative check helper used across the test suite.

``check_grads(f, *args, order=2)`` differentiates ``f`` with respect to each of its array
arguments and compares, at the given point:

first order
    * reverse mode (``value_and_grad`` for a scalar output, ``jacobian(mode="rev")``) and
      forward mode (``jacobian(mode="fwd")``) with central finite differences of ``f``;
    * forward against reverse: ``jvp`` in random directions ``u`` against the
      finite-difference Jacobian, and the identity ``<v, J u> == <J^T v, u>`` with ``vjp``;
second order (of a scalar function; an array output is reduced with random weights)
    * ``hessian`` (forward-over-reverse) against central finite differences of the AD
      gradient, and against reverse-over-reverse (``jacobian(grad(f), mode="rev")``),
      forward-over-forward and reverse-over-forward;
    * ``hvp`` against ``hessian @ v``;
    * mixed second derivatives between every pair of arguments, in both modes, against
      finite differences of the AD gradient;
order >= 3
    * the same checks, recursively, for a random directional derivative of the gradient.

It also checks that no argument was modified in place. Finite-difference comparisons use
``rtol``/``atol`` (``atol`` is relative to the size of the reference); comparisons between
two AD modes are much tighter (they should agree to rounding).
"""
from __future__ import annotations

import numpy as onp

import mleopt.numpy as mnp
from mleopt.ad import grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp
from mleopt.ad.core import Traced

EPS = 1e-6          # finite-difference step, relative to max(1, |x|)
AD_RTOL = 1e-8      # two AD modes must agree to (nearly) rounding
AD_ATOL = 1e-10


# =======================================================================================
# random points
# =======================================================================================

def rng_of(seed=0):
    return seed if isinstance(seed, onp.random.Generator) else onp.random.default_rng(seed)


def rand(shape=(), kind="real", seed=0):
    """A random float64 array of ``shape`` (``()`` gives a 0-d array).

    kind: ``"real"`` uniform on (-2, 2); ``"positive"`` uniform on (0.5, 2);
    ``"unit"`` uniform on (-0.9, 0.9); ``"nonzero"`` |x| in (0.5, 2) with a random sign;
    ``"normal"`` standard normal.
    """
    rng = rng_of(seed)
    shape = tuple(shape) if not isinstance(shape, int) else (shape,)
    if kind == "real":
        return rng.uniform(-2.0, 2.0, shape)
    if kind == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "unit":
        return rng.uniform(-0.9, 0.9, shape)
    if kind == "nonzero":
        return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    if kind == "normal":
        return rng.standard_normal(shape)
    raise ValueError(f"unknown kind {kind!r}")


def rand_distinct(shape=(), seed=0, gap=0.05, low=-2.0, high=2.0):
    """Random values whose pairwise differences all exceed ``gap`` (for max/min/sort)."""
    rng = rng_of(seed)
    n = int(onp.prod(shape, dtype=int))
    grid = onp.linspace(low, high, max(n, 2))
    if n > 1 and grid[1] - grid[0] < 2 * gap:
        raise ValueError("too many elements for that gap")
    vals = grid[:n] + rng.uniform(-0.25, 0.25, n) * (grid[1] - grid[0])
    return rng.permutation(vals).reshape(shape)


def points(shape=(), kind="real", n=3, seed=0):
    """``n`` random points of ``shape`` (a list of arrays)."""
    rng = rng_of(seed)
    return [rand(shape, kind, rng) for _ in range(n)]


# =======================================================================================
# finite differences
# =======================================================================================

def as_plain(y):
    if isinstance(y, Traced):
        raise AssertionError(f"a function evaluated on plain arrays returned a traced value "
                             f"{y!r}: a trace leaked")
    return onp.asarray(y, dtype=onp.float64)


def numerical_jacobian(fun, x, eps=EPS):
    """Central differences: shape ``fun(x).shape + x.shape``."""
    x = onp.array(x, dtype=onp.float64)
    y0 = as_plain(fun(x.copy()))
    jac = onp.zeros((y0.size, x.size))
    for j in range(x.size):
        h = eps * max(1.0, abs(x.flat[j]))
        xp, xm = x.copy(), x.copy()
        xp.flat[j] += h
        xm.flat[j] -= h
        step = xp.flat[j] - xm.flat[j]
        jac[:, j] = (as_plain(fun(xp)) - as_plain(fun(xm))).ravel() / step
    return jac.reshape(y0.shape + x.shape)


# =======================================================================================
# comparisons
# =======================================================================================

def assert_close(actual, desired, rtol, atol, what):
    actual = as_plain(actual)
    desired = as_plain(desired)
    assert actual.shape == desired.shape, (
        f"{what}: shape {actual.shape}, expected {desired.shape}")
    assert onp.all(onp.isfinite(actual)), f"{what}: non-finite values\n{actual}"
    scale = max(1.0, float(onp.max(onp.abs(desired), initial=0.0)))
    onp.testing.assert_allclose(actual, desired, rtol=rtol, atol=atol * scale,
                                err_msg=what)


def _with(args, i, x):
    args = list(args)
    args[i] = x
    return args


def _is_array_arg(a) -> bool:
    if isinstance(a, (bool, onp.bool_)):
        return False
    if isinstance(a, (float, onp.floating)):
        return True
    return isinstance(a, onp.ndarray) and a.dtype.kind == "f"


def _snapshot(args):
    return [onp.array(a, copy=True) if isinstance(a, onp.ndarray) else a for a in args]


# =======================================================================================
# the checks
# =======================================================================================

def check_first_order(fun, x, rtol, atol, eps, rng, n_dirs):
    """Reverse and forward first derivatives of ``fun`` (one argument) at ``x``."""
    y = as_plain(fun(x))
    assert onp.all(onp.isfinite(y)), f"the function is not finite at the test point: {y}"
    jac_fd = numerical_jacobian(fun, x, eps)
    out_in = y.shape + onp.shape(x)

    if y.size == 1 and y.ndim == 0:
        value, g = value_and_grad(fun)(x)
        assert_close(value, y, AD_RTOL, AD_ATOL, "value_and_grad: value")
        assert onp.shape(g) == onp.shape(x), (
            f"grad has shape {onp.shape(g)}, the argument {onp.shape(x)}")
        assert_close(g, jac_fd, rtol, atol, "grad (reverse) vs finite differences")

    jac_rev = jacobian(fun, mode="rev")(x)
    jac_fwd = jacobian(fun, mode="fwd")(x)
    jac_auto = jacobian(fun)(x)
    for name, jac in (("rev", jac_rev), ("fwd", jac_fwd), ("auto", jac_auto)):
        assert onp.shape(jac) == out_in, (
            f"jacobian(mode={name!r}) has shape {onp.shape(jac)}, expected {out_in}")
    assert_close(jac_rev, jac_fd, rtol, atol, "jacobian(mode='rev') vs finite differences")
    assert_close(jac_fwd, jac_rev, AD_RTOL, AD_ATOL, "jacobian: forward vs reverse")
    assert_close(jac_auto, jac_rev, AD_RTOL, AD_ATOL, "jacobian: auto vs reverse")

    value, pullback = vjp(fun, x)
    assert_close(value, y, AD_RTOL, AD_ATOL, "vjp: value")
    flat_fd = jac_fd.reshape(y.size, -1)
    for _ in range(n_dirs):
        u = rng.standard_normal(onp.shape(x))
        v = rng.standard_normal(y.shape)
        value, ju = jvp(fun, (x,), (u,))
        assert_close(value, y, AD_RTOL, AD_ATOL, "jvp: value")
        assert_close(ju, (flat_fd @ onp.ravel(u)).reshape(y.shape), rtol, atol,
                     "jvp (forward) vs finite differences")
        (vj,) = pullback(v)
        assert onp.shape(vj) == onp.shape(x), "vjp: cotangent shape"
        lhs = float(onp.sum(v * as_plain(ju)))
        rhs = float(onp.sum(as_plain(vj) * u))
        scale = max(1.0, float(onp.sum(onp.abs(v) * onp.abs(flat_fd @ onp.ravel(onp.abs(u))
                                                            ).reshape(y.shape))))
        assert abs(lhs - rhs) <= 1e-9 * scale, (
            f"forward vs reverse: <v, J u> = {lhs!r} but <J^T v, u> = {rhs!r}")


def check_second_order(fun, x, rtol, atol, eps, rng, n_dirs):
    """Second derivatives of a scalar ``fun`` (one argument) at ``x``, four ways."""
    shape = onp.shape(x)
    hh = shape + shape
    gfun = grad(fun)
    hess = hessian(fun)(x)
    assert onp.shape(hess) == hh, f"hessian has shape {onp.shape(hess)}, expected {hh}"
    hess_fd = numerical_jacobian(gfun, x, eps)
    assert_close(hess, hess_fd, rtol, atol,
                 "hessian (forward-over-reverse) vs finite differences of grad")
    hess_rr = jacobian(gfun, mode="rev")(x)
    assert_close(hess, hess_rr, AD_RTOL, AD_ATOL, "hessian vs reverse-over-reverse")
    jac_f = jacobian(fun, mode="fwd")
    hess_ff = jacobian(jac_f, mode="fwd")(x)
    assert_close(hess_ff, hess_rr, AD_RTOL, AD_ATOL, "forward-over-forward vs reverse-over-reverse")
    hess_rf = jacobian(jac_f, mode="rev")(x)
    assert_close(hess_rf, hess_rr, AD_RTOL, AD_ATOL, "reverse-over-forward vs reverse-over-reverse")
    n = int(onp.prod(shape, dtype=int))
    flat = onp.reshape(hess, (n, n))
    for _ in range(n_dirs):
        u = rng.standard_normal(shape)
        hv = hvp(fun)(x, u)
        assert onp.shape(hv) == shape, "hvp: shape"
        assert_close(hv, (flat @ onp.ravel(u)).reshape(shape), AD_RTOL, AD_ATOL,
                     "hvp vs hessian @ v")


def scalarize(f, y_shape, rng):
    """A scalar function: f itself when it returns one number, else sum(w * f) with random w."""
    if y_shape == ():
        return f
    w = rng.standard_normal(y_shape)
    return lambda *a, **k: mnp.sum(mnp.multiply(w, f(*a, **k)))


def check_grads(f, *args, order=2, argnums=None, rtol=1e-5, atol=1e-6, eps=EPS,
                n_dirs=2, seed=0, kwargs=None):
    """Check every derivative of ``f`` at ``args`` up to ``order`` (see the module doc).

    ``argnums``: the positions of the arguments to differentiate (default: every float
    array or float argument). ``kwargs`` pass through to ``f`` untouched.
    """
    kwargs = dict(kwargs or {})
    rng = rng_of(seed)
    before = _snapshot(args)
    if argnums is None:
        argnums = tuple(i for i, a in enumerate(args) if _is_array_arg(a))
    elif isinstance(argnums, int):
        argnums = (argnums,)
    assert argnums, "check_grads: no float argument to differentiate"

    y = as_plain(f(*args, **kwargs))
    g_all = scalarize(f, y.shape, rng)

    for i in argnums:
        xi = args[i]

        def fi(x, i=i):
            return f(*_with(args, i, x), **kwargs)

        check_first_order(fi, xi, rtol, atol, eps, rng, n_dirs)
        if order >= 2:
            def gi(x, i=i):
                return g_all(*_with(args, i, x), **kwargs)

            check_second_order(gi, xi, rtol, atol, eps, rng, n_dirs)
        if order >= 3:
            # the derivative of the gradient in a random direction, one order lower
            u = rng.standard_normal(onp.shape(xi))

            def dgi(x, i=i, u=u):
                return mnp.sum(mnp.multiply(u, grad(g_all, i)(*_with(args, i, x), **kwargs)))

            check_grads(dgi, xi, order=order - 1, rtol=rtol, atol=atol, eps=eps,
                        n_dirs=n_dirs, seed=rng)

    if order >= 2:
        # mixed second derivatives d/dx_j (d g / dx_i)
        for i in argnums:
            for j in argnums:
                if i == j:
                    continue

                def gij(xj, i=i, j=j):
                    return grad(g_all, i)(*_with(args, j, xj), **kwargs)

                want = numerical_jacobian(gij, args[j], eps)
                fwd = jacobian(gij, mode="fwd")(args[j])
                rev = jacobian(gij, mode="rev")(args[j])
                assert_close(fwd, want, rtol, atol,
                             f"mixed d2/dx{j}dx{i} (forward over reverse) vs finite differences")
                assert_close(rev, fwd, AD_RTOL, AD_ATOL,
                             f"mixed d2/dx{j}dx{i}: reverse-over-reverse vs forward-over-reverse")

    for a, b in zip(args, before):
        if isinstance(a, onp.ndarray):
            assert onp.array_equal(a, b, equal_nan=True), "an argument was modified in place"
