"""mleopt.stats: values against scipy.stats, derivatives against finite differences,
support and parameter edges, no nan derivatives leaking from masked terms."""
import numpy as onp
import pytest
import scipy.stats as ss
from check import check_grads, rand

import mleopt.numpy as np
import mleopt.stats as ms
from mleopt.ad import TraceError, grad, hessian

X = onp.concatenate([onp.linspace(-4.0, 9.0, 27), [0.0, 1e-3, 0.5]])
K = onp.array([-2.0, -1, 0, 1, 2, 3, 4, 5, 7, 10, 15, 2.5, 30])

# (family, shape parameters, extra keyword arguments)
CONTINUOUS = [
    ("norm", (), {}), ("norm", (), {"loc": 0.5, "scale": 2.0}),
    ("t", (3.5,), {"loc": -0.3, "scale": 1.5}), ("t", (1.0,), {}), ("t", (250.0,), {}),
    ("logistic", (), {"loc": 0.3, "scale": 1.7}),
    ("expon", (), {}), ("expon", (), {"loc": -0.5, "scale": 2.0}),
    ("weibull_min", (1.7,), {"scale": 2.0}), ("weibull_min", (0.7,), {"loc": 0.2}),
    ("weibull_min", (1.0,), {}),
    ("gamma", (2.5,), {"scale": 2.0}), ("gamma", (0.5,), {}), ("gamma", (1.0,), {"loc": 1}),
    ("lognorm", (0.8,), {"scale": 2.0}), ("lognorm", (1.5,), {"loc": -1.0}),
]
DISCRETE = [
    ("poisson", (3.2,), {}), ("poisson", (0.4,), {"loc": 1}), ("poisson", (0.0,), {}),
    ("bernoulli", (0.3,), {}), ("bernoulli", (1.0,), {}),
    ("binom", (10, 0.35), {}), ("binom", (4, 0.9), {"loc": -1}), ("binom", (7, 0.0), {}),
    ("nbinom", (2.5, 0.35), {}), ("nbinom", (1.0, 0.8), {"loc": 2}),
    ("nbinom", (12.0, 1.0), {}),
]


def _assert_matches(got, want, rtol=1e-12):
    got, want = onp.asarray(got), onp.asarray(want)
    assert got.shape == want.shape
    onp.testing.assert_array_equal(onp.isnan(got), onp.isnan(want))
    finite = onp.isfinite(want)
    onp.testing.assert_array_equal(got[~finite], want[~finite])   # -inf, 0 and inf exactly
    onp.testing.assert_allclose(got[finite], want[finite], rtol=rtol, atol=1e-15)


@pytest.mark.parametrize("name, shapes, kw", CONTINUOUS)
@pytest.mark.parametrize("method", ["logpdf", "logcdf", "logsf", "pdf", "cdf", "sf"])
def test_continuous_values_match_scipy(name, shapes, kw, method):
    got = getattr(getattr(ms, name), method)(X, *shapes, **kw)
    want = getattr(getattr(ss, name), method)(X, *shapes, **kw)
    _assert_matches(got, want)


@pytest.mark.parametrize("name, shapes, kw", DISCRETE)
@pytest.mark.parametrize("method", ["logpmf", "logcdf", "logsf", "pmf", "cdf", "sf"])
def test_discrete_values_match_scipy(name, shapes, kw, method):
    got = getattr(getattr(ms, name), method)(K, *shapes, **kw)
    want = getattr(getattr(ss, name), method)(K, *shapes, **kw)
    # scipy takes log(cdf) where the cdf is close to 1; the log1p(-sf) used here is more
    # accurate there, and the two differ by rounding of the cdf (< 1e-15 absolute)
    _assert_matches(got, want)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # scipy divides by scale = 0
@pytest.mark.parametrize("name, args", [
    ("norm", (0.0, -1.0)), ("t", (-1.0,)), ("t", (2.0, 0.0, 0.0)), ("expon", (0.0, 0.0)),
    ("weibull_min", (-1.0,)), ("gamma", (0.0,)), ("lognorm", (-0.5,)),
    ("logistic", (0.0, -2.0))])
def test_invalid_continuous_parameters_give_nan(name, args):
    for method in ("logpdf", "logcdf", "logsf"):
        got = getattr(getattr(ms, name), method)(X, *args)
        want = getattr(getattr(ss, name), method)(X, *args)
        _assert_matches(got, want)
        assert onp.all(onp.isnan(got))


@pytest.mark.parametrize("name, args", [
    ("poisson", (-1.0,)), ("bernoulli", (1.5,)), ("binom", (10.5, 0.3)),
    ("binom", (10, -0.1)), ("nbinom", (0.0, 0.3)), ("nbinom", (2.0, 0.0))])
def test_invalid_discrete_parameters_give_nan(name, args):
    for method in ("logpmf", "logcdf", "logsf"):
        got = getattr(getattr(ms, name), method)(K, *args)
        want = getattr(getattr(ss, name), method)(K, *args)
        # nan everywhere (scipy's logcdf says 0 above the upper bound even then)
        assert onp.all(onp.isnan(got))
        assert onp.all(onp.isnan(want) | (want == 0))


def test_broadcasting_and_argument_forms():
    x = rand((4, 1), "real", 1)
    loc = rand((3,), "real", 2)
    scale = rand((3,), "positive", 3)
    got = ms.norm.logpdf(x, loc, scale)
    assert got.shape == (4, 3)
    _assert_matches(got, ss.norm.logpdf(x, loc, scale))
    _assert_matches(ms.t.logpdf(x, df=4.0, scale=scale), ss.t.logpdf(x, df=4.0, scale=scale))
    _assert_matches(ms.norm(loc, scale).logpdf(x), ss.norm(loc, scale).logpdf(x))
    _assert_matches(ms.binom(10, 0.3).logpmf(K), ss.binom(10, 0.3).logpmf(K))
    assert ms.norm.logpdf(0.5) == pytest.approx(ss.norm.logpdf(0.5), rel=1e-15)
    assert ms.poisson.logpmf([0, 1, 2], [1, 2, 3]).shape == (3,)


def test_argument_errors_name_the_parameters():
    with pytest.raises(TypeError, match=r"missing the shape parameter\(s\) df"):
        ms.t.logpdf(1.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'sigma'"):
        ms.norm.logpdf(1.0, sigma=2.0)
    with pytest.raises(TypeError, match="takes"):
        ms.norm.logpdf(1.0, 0.0, 1.0, 3.0)
    with pytest.raises(TypeError, match="two values for 'loc'"):
        ms.norm.logpdf(1.0, 0.0, loc=1.0)


def test_tails_are_stable():
    assert ms.norm.logcdf(-40.0) == pytest.approx(-804.60844201375378817, rel=1e-15)
    assert ms.norm.logsf(40.0) == pytest.approx(-804.60844201375378817, rel=1e-15)
    assert grad(lambda m: ms.norm.logcdf(-40.0, loc=m))(0.0) == pytest.approx(
        -40.024968847207263724, rel=1e-14)
    assert ms.logistic.logcdf(-800.0) == -800.0
    assert ms.expon.logcdf(50.0) == pytest.approx(-onp.exp(-50.0), rel=1e-15)
    assert ms.expon.logcdf(1e-10) == pytest.approx(onp.log(1e-10) - 0.5e-10, rel=1e-15)


# --- derivatives ---------------------------------------------------------------------------

def _continuous_point(name):
    """x inside the support (loc = -0.2), a vector of scales, and the shape parameters."""
    x = rand((3,), "positive", 4)
    shapes = {"t": (3.5,), "weibull_min": (1.7,), "gamma": (2.5,), "lognorm": (0.8,)}
    return x, onp.float64(-0.2), rand((3,), "positive", 5), [onp.float64(v) for v in
                                                               shapes.get(name, ())]


CONT_DERIVS = [(n, m) for n in ("norm", "t", "logistic", "expon", "weibull_min", "gamma",
                                "lognorm")
               for m in ("logpdf", "logcdf", "logsf")]


@pytest.mark.parametrize("name, method", CONT_DERIVS)
def test_continuous_derivatives(name, method):
    x, loc, scale, shapes = _continuous_point(name)
    f = getattr(getattr(ms, name), method)
    if method != "logpdf" and name in ("t", "gamma"):
        # cdf through an incomplete function: derivatives in x, loc, scale only
        def g(x, loc, scale):
            return f(x, *shapes, loc=loc, scale=scale)
        check_grads(g, x, loc, scale)
        with pytest.raises(TraceError, match="no reverse-mode derivative rule for argument 0"):
            grad(lambda s: np.sum(f(x, s, loc=loc, scale=scale)))(shapes[0])
        return

    def g(x, loc, scale, *shapes):
        return f(x, *shapes, loc=loc, scale=scale)
    check_grads(g, x, loc, scale, *shapes)


def test_continuous_third_order():
    x = rand((2,), "positive", 6)
    check_grads(lambda s, c: ms.weibull_min.logpdf(x, c, scale=s), onp.float64(1.3),
                onp.float64(1.7), order=3)
    check_grads(lambda m, s: ms.norm.logcdf(x, m, s), onp.float64(0.3), onp.float64(1.3),
                order=3)


@pytest.mark.parametrize("method", ["logpmf", "logcdf", "logsf"])
def test_discrete_derivatives(method):
    k = onp.array([0.0, 1, 3, 6])
    check_grads(lambda mu: getattr(ms.poisson, method)(k, mu), rand((4,), "positive", 7) * 3)
    check_grads(lambda p: getattr(ms.binom, method)(k, 8, p), rand((4,), "positive", 8) / 2.5)
    check_grads(lambda p: getattr(ms.nbinom, method)(k, 2.5, p), rand((), "positive", 9) / 2.5)
    kb = onp.array([0.0, 1, 1, 0]) if method == "logpmf" else onp.zeros(4)
    check_grads(lambda p: getattr(ms.bernoulli, method)(kb, p), rand((4,), "positive", 1) / 2.5)


def test_discrete_shape_derivatives():
    k = onp.array([0.0, 1, 3, 6])
    check_grads(lambda n, p: ms.nbinom.logpmf(k, n, p), rand((4,), "positive", 3) * 2,
                onp.float64(0.35))
    # binom's n must be an integer (finite differences in n would leave the family);
    # its derivative is that of the gamma-function formula, d/dn log C(n, k) + log(1-p)
    from scipy.special import digamma
    want = np.sum(digamma(9.0) - digamma(9.0 - k) + onp.log(0.7))
    assert grad(lambda n: np.sum(ms.binom.logpmf(k, n, 0.3)))(8.0) == pytest.approx(
        want, rel=1e-13)
    with pytest.raises(TraceError, match="betainc"):
        grad(lambda n: np.sum(ms.nbinom.logcdf(k, n, 0.3)))(2.5)


def test_poisson_score_and_hessian_are_exact():
    y = onp.array([0.0, 2, 5, 1, 3])
    X = rand((5, 2), "normal", 10)
    b = onp.array([0.3, -0.2])

    def loglike(b):
        return np.sum(ms.poisson.logpmf(y, np.exp(X @ b)))

    mu = onp.exp(X @ b)
    onp.testing.assert_allclose(grad(loglike)(b), X.T @ (y - mu), rtol=1e-12)
    onp.testing.assert_allclose(hessian(loglike)(b), -(X.T * mu) @ X, rtol=1e-12)


# --- edges: no nan derivative leaks from points outside the support ------------------------

EDGE_POINTS = onp.array([-1.0, 0.5, 2.0, 0.0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf * 0 in masked-out branches
@pytest.mark.parametrize("name, shapes", [
    ("expon", ()), ("gamma", (2.5,)), ("gamma", (0.5,)), ("gamma", (1.0,)),
    ("weibull_min", (1.5,)), ("weibull_min", (0.5,)), ("lognorm", (0.7,))])
@pytest.mark.parametrize("method", ["logpdf", "logcdf", "logsf"])
def test_no_nan_derivative_from_outside_the_support(name, shapes, method):
    f = getattr(getattr(ms, name), method)
    _assert_matches(f(EDGE_POINTS, *shapes, scale=1.3),
                    getattr(getattr(ss, name), method)(EDGE_POINTS, *shapes, scale=1.3))
    finite = onp.isfinite(f(EDGE_POINTS, *shapes, scale=1.3))

    def total(s):
        return np.sum(np.where(finite, f(EDGE_POINTS, *shapes, scale=s), 0.0))

    g, h = grad(total)(1.3), hessian(total)(1.3)
    assert onp.isfinite(g) and onp.isfinite(h)
    step = 1e-5
    assert g == pytest.approx((total(1.3 + step) - total(1.3 - step)) / (2 * step), rel=1e-7)
    dg = (grad(total)(1.3 + step) - grad(total)(1.3 - step)) / (2 * step)
    assert h == pytest.approx(dg, rel=1e-7)


@pytest.mark.parametrize("name, shapes", [
    ("poisson", [2.0]), ("binom", [10, 0.3]), ("nbinom", [2.0, 0.3]), ("bernoulli", [0.3])])
def test_discrete_outside_support_has_finite_derivatives(name, shapes):
    d = getattr(ms, name)
    k = onp.array([-1.0, 2.5, 0.0, 1.0, 11.0])
    methods = (d.logpmf, d.logcdf, d.logsf)
    finite = [onp.isfinite(m(k, *shapes)) for m in methods]

    def total(p):
        s = shapes[:-1] + [p]
        return sum(np.sum(np.where(ok, m(k, *s), 0.0)) for m, ok in zip(methods, finite))

    assert onp.isfinite(grad(total)(shapes[-1]))
    assert onp.isfinite(hessian(total)(shapes[-1]))


def test_autograd_style_code_runs():
    def nll(params, x):
        mu, log_sigma = params[0], params[1]
        return -np.sum(ms.norm.logpdf(x, mu, np.exp(log_sigma)))

    x = rand((50,), "normal", 11) * 2 + 1
    params = onp.array([0.5, 0.2])
    sigma = onp.exp(0.2)
    g = grad(nll)(params, x)
    want = [-onp.sum(x - 0.5) / sigma**2, len(x) - onp.sum((x - 0.5) ** 2) / sigma**2]
    onp.testing.assert_allclose(g, want, rtol=1e-12)
