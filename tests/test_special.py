"""mleopt.special: values against scipy.special, derivatives against finite differences,
and stability in the tails."""
import numpy as onp
import pytest
import scipy.special as sps
from check import check_grads, rand

import mleopt.numpy as np
import mleopt.special as S
from mleopt.ad import TraceError, grad, hessian, jvp

RTOL = 1e-14

# --- values -------------------------------------------------------------------------------

WIDE = onp.concatenate([-onp.logspace(3, -3, 25), [0.0], onp.logspace(-3, 3, 25)])
POSITIVE = onp.logspace(-3, 3, 31)
UNIT = onp.linspace(0.001, 0.999, 31)


@pytest.mark.parametrize("name, x", [
    ("gammaln", POSITIVE), ("digamma", POSITIVE), ("erf", WIDE), ("erfc", WIDE),
    ("ndtr", WIDE), ("log_ndtr", WIDE), ("expit", WIDE), ("log_expit", WIDE),
    ("logit", UNIT),
])
def test_unary_values_match_scipy(name, x):
    onp.testing.assert_allclose(getattr(S, name)(x), getattr(sps, name)(x), rtol=RTOL)


def test_binary_values_match_scipy():
    a, b = POSITIVE[:, None], POSITIVE[None, ::3]
    onp.testing.assert_allclose(S.betaln(a, b), sps.betaln(a, b), rtol=RTOL)
    x = onp.array([0.0, 0.5, 2.0])[:, None]
    y = onp.array([0.0, 1e-300, 0.3, 4.0])
    onp.testing.assert_array_equal(S.xlogy(x, y), sps.xlogy(x, y))
    onp.testing.assert_array_equal(S.xlog1py(x, y - 1), sps.xlog1py(x, y - 1))
    for n in (0, 1, 2, 3):
        onp.testing.assert_allclose(S.polygamma(n, POSITIVE), sps.polygamma(n, POSITIVE),
                                    rtol=RTOL)


def test_softplus_and_logsumexp_values():
    x = onp.array([-1000.0, -40.0, -1.0, 0.0, 1.0, 40.0, 1000.0])
    want = onp.logaddexp(0.0, x)
    onp.testing.assert_allclose(S.softplus(x), want, rtol=RTOL)
    assert S.softplus(1000.0) == 1000.0
    if hasattr(sps, "softplus"):
        onp.testing.assert_allclose(S.softplus(x), sps.softplus(x), rtol=RTOL)
    a = rand((3, 4), "real", 1) * 300
    for axis in (None, 0, 1, -1, (0, 1)):
        for keepdims in (False, True):
            onp.testing.assert_allclose(S.logsumexp(a, axis=axis, keepdims=keepdims),
                                        sps.logsumexp(a, axis=axis, keepdims=keepdims),
                                        rtol=RTOL)
    b = rand((3, 1), "positive", 2)
    onp.testing.assert_allclose(S.logsumexp(a, axis=1, b=b), sps.logsumexp(a, axis=1, b=b),
                                rtol=RTOL)
    assert S.logsumexp(onp.array([1000.0, 1000.0])) == pytest.approx(1000 + onp.log(2))
    assert S.logsumexp(onp.array([-onp.inf, -onp.inf])) == -onp.inf
    assert S.logsumexp(3.0) == 3.0


# --- derivatives --------------------------------------------------------------------------

UNARY = [("gammaln", "positive"), ("digamma", "positive"), ("erf", "real"),
         ("erfc", "real"), ("ndtr", "real"), ("log_ndtr", "real"), ("expit", "real"),
         ("log_expit", "real"), ("softplus", "real"), ("gamma", "positive")]


@pytest.mark.parametrize("name, kind", UNARY)
@pytest.mark.parametrize("shape", [(), (3,), (2, 2)])
def test_unary_derivatives(name, kind, shape):
    check_grads(getattr(S, name), rand(shape, kind, 3), order=2)


@pytest.mark.parametrize("name, kind", UNARY)
def test_unary_third_order(name, kind):
    check_grads(getattr(S, name), rand((2,), kind, 4), order=3)


def test_logit_and_polygamma_derivatives():
    check_grads(S.logit, rand((3,), "positive", 5) / 2.5, order=3)
    for n in (0, 1, 2):
        check_grads(lambda x, n=n: S.polygamma(n, x), rand((3,), "positive", n), order=2)
    check_grads(lambda x: S.polygamma(onp.array([1, 2]), x), rand((2, 2), "positive", 6))


@pytest.mark.parametrize("shapes", [((), ()), ((3,), (3,)), ((3, 1), (4,)), ((), (2, 2))])
@pytest.mark.parametrize("name, kinds", [
    ("xlogy", ("real", "positive")), ("xlog1py", ("real", "positive")),
    ("betaln", ("positive", "positive")), ("beta", ("positive", "positive"))])
def test_binary_derivatives(name, kinds, shapes):
    x = rand(shapes[0], kinds[0], 7)
    y = rand(shapes[1], kinds[1], 8)
    check_grads(getattr(S, name), x, y, order=2)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_xlogy_mixed_second_derivative_at_x_zero(name):
    # d2/dx dy (x log y) = 1/y also where x == 0 (e.g. gamma/weibull logpdf at shape 1);
    # it used to be 1 there, giving an asymmetric, wrong Hessian
    x = onp.array([0.0, 1.5, 0.0])
    y = onp.array([2.0, 3.0, 0.5])
    check_grads(getattr(S, name), x, y, order=2)
    h = hessian(lambda v: getattr(S, name)(v[0], v[1]))(onp.array([0.0, 2.0]))
    expected = 1.0 / (2.0 if name == "xlogy" else 3.0)
    onp.testing.assert_allclose(h, [[0.0, expected], [expected, 0.0]], rtol=1e-14)


def test_logsumexp_derivatives():
    a = rand((3, 4), "real", 9)
    b = rand((3, 1), "positive", 10)
    check_grads(S.logsumexp, a)
    check_grads(lambda a: S.logsumexp(a, axis=1), a)
    check_grads(lambda a: S.logsumexp(a, axis=0, keepdims=True), a)
    check_grads(lambda a, b: S.logsumexp(a, axis=1, b=b), a, b)
    # the shift by the maximum is detached, the derivative is still exact
    g = grad(lambda a: S.logsumexp(a))(a)
    onp.testing.assert_allclose(g, sps.softmax(a), rtol=1e-14)


@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
def test_incomplete_gamma_derivative_in_x(name):
    f = getattr(S, name)
    check_grads(lambda x: f(2.5, x), rand((3,), "positive", 11), order=3)
    with pytest.raises(TraceError, match=f"{name} has no reverse-mode derivative rule "
                                         "for argument 0"):
        grad(lambda a: f(a, 1.0))(2.5)


def test_incomplete_beta_and_t_cdf_derivative_in_x():
    check_grads(lambda x: S.betainc(2.5, 1.5, x), rand((3,), "positive", 12) / 2.5)
    check_grads(lambda x: S.stdtr(4.5, x), rand((3,), "real", 13))
    with pytest.raises(TraceError, match="stdtr"):
        grad(lambda df: S.stdtr(df, 1.0))(3.0)


def test_polygamma_order_is_not_differentiable():
    with pytest.raises(TraceError, match="polygamma"):
        grad(lambda n: S.polygamma(n, 2.0))(1.0)
    with pytest.raises(ValueError, match="integer"):
        S.polygamma(1.5, 2.0)


# --- stability and the derivative chain ------------------------------------------------------

def test_gammaln_derivative_chain():
    x = onp.array([0.3, 2.5, 40.0])
    d1, d2, d3 = grad(S.gammaln), grad(grad(S.gammaln)), grad(grad(grad(S.gammaln)))
    for v in x:
        assert d1(v) == pytest.approx(sps.digamma(v), rel=1e-14)
        assert d2(v) == pytest.approx(sps.polygamma(1, v), rel=1e-14)
        assert d3(v) == pytest.approx(sps.polygamma(2, v), rel=1e-14)
        assert grad(d3)(v) == pytest.approx(sps.polygamma(3, v), rel=1e-14)


def _mills(x):
    """phi(x) / Phi(x) from scipy's log-density and log_ndtr (a reference)."""
    return onp.exp(-0.5 * x * x - 0.5 * onp.log(2 * onp.pi) - sps.log_ndtr(x))


@pytest.mark.parametrize("x", [-1e4, -40.0, -5.0, 0.0, 5.0, 40.0, 1e4])
def test_log_ndtr_derivatives_in_the_tails(x):
    d1 = grad(S.log_ndtr)(x)
    d2 = grad(grad(S.log_ndtr))(x)
    assert onp.isfinite(d1) and onp.isfinite(d2)
    r = _mills(x) if x > -1e3 else -x - 1 / x + 2 / x**3   # asymptotic series
    assert d1 == pytest.approx(r, rel=1e-12, abs=1e-300)
    # (phi/Phi)' = -r (x + r); at -40, x + r is small, so compare to the series
    want = -r * (x + r) if x > -10 else -r * (-1 / x + 2 / x**3 - 10 / x**5)
    assert d2 == pytest.approx(want, rel=1e-6, abs=1e-300)
    assert jvp(S.log_ndtr, (x,), (1.0,))[1] == pytest.approx(d1, rel=1e-15)
    assert S.log_ndtr(x) == sps.log_ndtr(x)


def test_log_ndtr_at_40():
    # references computed with mpmath 1.3.0 at 40 digits: r = npdf(x) / ncdf(x)
    assert grad(S.log_ndtr)(-40.0) == pytest.approx(40.024968847207263724, rel=1e-14)
    assert grad(grad(S.log_ndtr))(-40.0) == pytest.approx(-0.99937733162140861123,
                                                          rel=1e-12)
    assert S.log_ndtr(-40.0) == pytest.approx(-804.60844201375378817, rel=1e-15)
    assert grad(S.log_ndtr)(-1e4) == pytest.approx(10000.000099999998, rel=1e-14)
    assert grad(S.log_ndtr)(40.0) == 0.0          # true value 1.46e-348 underflows
    assert grad(grad(S.log_ndtr))(40.0) == 0.0


@pytest.mark.parametrize("x", [-800.0, -40.0, 40.0, 800.0])
def test_log_expit_and_expit_in_the_tails(x):
    assert S.log_expit(x) == sps.log_expit(x)
    assert onp.isfinite(S.log_expit(x))
    assert grad(S.log_expit)(x) == pytest.approx(sps.expit(-x), rel=1e-15)
    assert grad(grad(S.log_expit))(x) == pytest.approx(-sps.expit(x) * sps.expit(-x),
                                                       rel=1e-14, abs=1e-320)
    # expit' = expit(x) expit(-x) keeps its relative accuracy in both tails
    assert grad(S.expit)(x) == pytest.approx(sps.expit(x) * sps.expit(-x), rel=1e-14,
                                             abs=1e-320)


def test_softplus_never_overflows():
    for x in (-1000.0, 1000.0):
        assert onp.isfinite(S.softplus(x))
        assert grad(S.softplus)(x) == sps.expit(x)
        assert onp.isfinite(hessian(S.softplus)(x))


def test_logsumexp_large_values_derivatives_finite():
    a = onp.array([1000.0, 999.0, -1000.0])
    g = grad(S.logsumexp)(a)
    onp.testing.assert_allclose(g, sps.softmax(a), rtol=1e-14)
    h = hessian(S.logsumexp)(a)
    s = sps.softmax(a)
    onp.testing.assert_allclose(h, onp.diag(s) - onp.outer(s, s), atol=1e-15)


def test_works_inside_mleopt_numpy_code():
    def loglike(b, X, y):
        z = X @ b
        return np.sum(y * S.log_expit(z) + (1 - y) * S.log_expit(-z))

    X = rand((20, 3), "normal", 14)
    y = (rand((20,), "real", 15) > 0).astype(float)
    b = rand((3,), "real", 16)
    p = sps.expit(X @ b)
    onp.testing.assert_allclose(grad(loglike)(b, X, y), X.T @ (y - p), rtol=1e-12)
    onp.testing.assert_allclose(hessian(loglike)(b, X, y), -(X.T * (p * (1 - p))) @ X,
                                rtol=1e-12)
