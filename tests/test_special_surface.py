"""The wider mleopt.special surface: erfinv, erfcinv, gamma / rgamma / gammasgn, beta,
multigammaln, entr, boxcox / inv_boxcox and the Bessel functions. Values against
scipy.special (computed at test time: scipy is a runtime dependency), derivatives against
finite differences in both modes to second (some third) order."""
import numpy as onp
import pytest
import scipy.special as sps
from check import check_grads, rand

import mleopt.special as S
from mleopt.ad import TraceError, grad

RTOL = 1e-14

# (name, points for the values, kind of random point for the derivatives)
UNARY = [
    ("erfinv", onp.linspace(-0.999, 0.999, 21), "unit"),
    ("erfcinv", onp.linspace(0.001, 1.999, 21), "positive"),
    ("gamma", onp.concatenate([onp.linspace(-4.7, -0.3, 9), onp.logspace(-3, 2, 11)]),
     "positive"),
    ("rgamma", onp.concatenate([onp.linspace(-4.7, -0.3, 9), [0.0, -1.0, -3.0],
                                onp.logspace(-3, 2, 11)]), "real"),
    ("entr", onp.concatenate([[0.0], onp.logspace(-3, 2, 11)]), "positive"),
    ("i0", onp.linspace(-20, 20, 17), "real"), ("i1", onp.linspace(-20, 20, 17), "real"),
    ("i0e", onp.linspace(-50, 50, 17), "nonzero"), ("i1e", onp.linspace(-50, 50, 17), "nonzero"),
    ("j0", onp.linspace(0, 30, 17), "real"), ("j1", onp.linspace(0, 30, 17), "real"),
    ("y0", onp.linspace(0.1, 30, 17), "positive"), ("y1", onp.linspace(0.1, 30, 17), "positive"),
]


@pytest.mark.parametrize("name, x, kind", UNARY, ids=[u[0] for u in UNARY])
def test_unary_values_and_derivatives(name, x, kind):
    onp.testing.assert_allclose(getattr(S, name)(x), getattr(sps, name)(x), rtol=RTOL,
                                atol=1e-300)
    for shape in [(), (3,), (2, 2)]:
        check_grads(getattr(S, name), rand(shape, kind, 1), order=2)
    check_grads(getattr(S, name), rand((2,), kind, 2), order=3)


@pytest.mark.parametrize("name, sign", [("iv", 1), ("ive", 1), ("jv", -1), ("yv", -1)])
def test_bessel_of_order_v(name, sign):
    f, ref = getattr(S, name), getattr(sps, name)
    v = onp.array([0.0, 0.5, 1.0, 2.5])[:, None]
    x = onp.array([0.2, 1.0, 3.5, 12.0])
    onp.testing.assert_allclose(f(v, x), ref(v, x), rtol=RTOL)
    check_grads(lambda x: f(v, x), rand((4,), "positive", 3) + 0.5, order=3)
    if name == "ive":   # the e^-|x| scaling has a kink at 0: both sides
        check_grads(lambda x: f(2.0, x), -rand((3,), "positive", 4), order=2)
    # the recurrence in closed form, d/dx f(v, x) = (f(v-1, x) +- f(v+1, x)) / 2 (- sign ive)
    g = grad(lambda x: f(2.0, x))(3.0)
    want = 0.5 * (ref(1.0, 3.0) + sign * ref(3.0, 3.0)) - (ref(2.0, 3.0) if name == "ive" else 0)
    assert g == pytest.approx(want, rel=1e-14)
    with pytest.raises(TraceError, match=f"{name} has no reverse-mode derivative rule for "
                                         "argument 0"):
        grad(lambda v: f(v, 1.0))(1.0)


def test_rgamma_derivative_at_its_zeros():
    # d/dx 1/gamma(x) at x = -n is (-1)^n n!  (the reflection formula), and the second
    # derivative is finite there too
    for n in range(4):
        assert grad(S.rgamma)(float(-n)) == pytest.approx((-1) ** n * sps.factorial(n),
                                                          rel=1e-13)
    check_grads(S.rgamma, onp.array([0.0, -1.0, -2.0, 0.7]), order=2)


def test_gammasgn_and_gamma_of_negative_numbers():
    x = onp.array([-2.5, -1.5, -0.5, 0.5, 3.0])
    onp.testing.assert_array_equal(S.gammasgn(x), sps.gammasgn(x))
    onp.testing.assert_allclose(S.gamma(x), sps.gamma(x), rtol=RTOL)
    check_grads(S.gamma, x, order=2)
    g = grad(lambda x: S.gammasgn(x) * x)(-0.5)   # piecewise constant: derivative 0
    assert g == pytest.approx(sps.gammasgn(-0.5))


def test_beta_and_multigammaln():
    a, b = rand((3, 1), "positive", 5), rand((2,), "positive", 6)
    onp.testing.assert_allclose(S.beta(a, b), sps.beta(a, b), rtol=RTOL)
    onp.testing.assert_allclose(S.beta(-0.5, 2.0), sps.beta(-0.5, 2.0), rtol=RTOL)
    check_grads(S.beta, a, b, order=2)
    x = onp.array([1.6, 2.0, 7.5])
    for d in (1, 2, 3):
        onp.testing.assert_allclose(S.multigammaln(x, d), sps.multigammaln(x, d), rtol=RTOL)
        check_grads(lambda x, d=d: S.multigammaln(x, d), x, order=3)
    with pytest.raises(ValueError, match=r"a > \(d - 1\) / 2"):
        S.multigammaln(0.7, 3)
    with pytest.raises(ValueError, match="positive integer dimension"):
        S.multigammaln(3.0, 2.5)


@pytest.mark.parametrize("lmbda", [0.0, 1e-7, -3e-4, 0.5, -1.3, 2.0])
def test_boxcox_and_its_inverse(lmbda):
    x = onp.array([0.05, 0.7, 1.0, 3.0, 40.0])
    onp.testing.assert_allclose(S.boxcox(x, lmbda), sps.boxcox(x, lmbda), rtol=1e-13,
                                atol=1e-300)
    y = sps.boxcox(x, lmbda)
    onp.testing.assert_allclose(S.inv_boxcox(y, lmbda), sps.inv_boxcox(y, lmbda), rtol=1e-13)
    xs, ls = rand((3,), "positive", 7), onp.full(3, lmbda)
    check_grads(S.boxcox, xs, ls, order=2)
    check_grads(S.inv_boxcox, sps.boxcox(xs, lmbda), ls, order=2)


def test_boxcox_derivative_in_lambda_at_zero():
    # d/dlmbda boxcox(x, lmbda) at lmbda = 0 is log(x)^2 / 2, d2 is log(x)^3 / 3
    x = 3.0
    assert grad(lambda l: S.boxcox(x, l))(0.0) == pytest.approx(onp.log(x) ** 2 / 2, rel=1e-14)
    assert grad(grad(lambda l: S.boxcox(x, l)))(0.0) == pytest.approx(onp.log(x) ** 3 / 3,
                                                                      rel=1e-12)


def test_incomplete_gamma_shape_is_refused_by_name():
    with pytest.raises(TraceError, match="gammaincc has no reverse-mode derivative rule "
                                         "for argument 0"):
        grad(lambda a: S.gammaincc(a, 2.0))(1.5)
    check_grads(lambda x: S.gammaincc(1.5, x), rand((3,), "positive", 8), order=2)


def test_scipy_special_on_traced_values_names_the_twin():
    for name in ("erfinv", "iv", "rgamma", "entr"):
        f = getattr(sps, name)
        args = (0.3,) if name != "iv" else (1.0,)
        with pytest.raises(TraceError, match=f"mleopt.special.{name}"):
            grad(lambda x: f(*args, x) if name == "iv" else f(x))(0.3)


def test_jn_and_yn_the_integer_order_names():
    """scipy.special.jn / yn (autograd offers both; review of issue 9): jn is jv, yn is yv
    for integer orders, differentiable in x; a non-integer order of yn is refused."""
    x = onp.array([0.3, 1.5, 7.0, 30.0])
    for n in (0, 2, -3):
        onp.testing.assert_allclose(S.jn(n, x), sps.jn(n, x), rtol=1e-13, atol=1e-300)
        onp.testing.assert_allclose(S.yn(n, x), sps.yn(n, x), rtol=1e-13)
    check_grads(lambda z: S.yn(3, z), x)
    check_grads(lambda z: S.jn(2, z), x)
    with pytest.raises(ValueError, match="yn: the order n must be an integer"):
        S.yn(2.5, x)
