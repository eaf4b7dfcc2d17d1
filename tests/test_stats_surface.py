"""The wider mleopt.stats surface: chi2, invgamma, beta, f, cauchy, laplace, truncnorm, geom,
skellam, multivariate_normal, dirichlet. Values against scipy.stats to 1e-12 (computed at test
time: scipy is a runtime dependency), derivatives against finite differences in both modes."""
import numpy as onp
import pytest
import scipy.stats as ss
from check import check_grads, rand

import mleopt.numpy as np
import mleopt.stats as ms
from mleopt.ad import TraceError, grad

X = onp.concatenate([onp.linspace(-4.0, 9.0, 27), [0.0, 1e-3, 0.5, 1.0, 0.7, 3.0]])
K = onp.array([-2.0, -1, 0, 1, 2, 3, 4, 5, 7, 10, 15, 2.5, 30])
INF = onp.inf

CONTINUOUS = [
    ("chi2", (3.5,), {}), ("chi2", (2.0,), {"scale": 2.0}), ("chi2", (1.0,), {"loc": -1}),
    ("invgamma", (2.5,), {"scale": 1.5}), ("invgamma", (0.7,), {"loc": -0.5}),
    ("beta", (2.5, 1.5), {}), ("beta", (0.5, 0.8), {"loc": -1, "scale": 4}),
    ("beta", (1.0, 1.0), {}),
    ("f", (3.0, 7.0), {}), ("f", (2.0, 4.5), {"scale": 2.0}), ("f", (1.0, 1.0), {}),
    ("cauchy", (), {}), ("cauchy", (), {"loc": 0.3, "scale": 1.4}),
    ("laplace", (), {}), ("laplace", (), {"loc": 0.3, "scale": 1.4}),
    ("truncnorm", (-0.5, 2.0), {}), ("truncnorm", (1.0, 3.0), {"loc": 0.5, "scale": 2.0}),
    ("truncnorm", (-INF, 0.7), {}), ("truncnorm", (2.5, INF), {}),
    ("truncnorm", (-3.0, -2.0), {"loc": 1.0}), ("truncnorm", (6.0, 9.0), {}),
]
DISCRETE = [("geom", (0.3,), {}), ("geom", (1.0,), {}), ("geom", (0.05,), {"loc": -1}),
            ("skellam", (2.0, 1.5), {}), ("skellam", (0.3, 4.0), {"loc": 1})]


def _assert_matches(got, want, rtol=1e-12):
    got, want = onp.asarray(got), onp.asarray(want)
    assert got.shape == want.shape
    onp.testing.assert_array_equal(onp.isnan(got), onp.isnan(want))
    finite = onp.isfinite(want)
    onp.testing.assert_array_equal(got[~finite], want[~finite])
    onp.testing.assert_allclose(got[finite], want[finite], rtol=rtol, atol=1e-15)


@pytest.mark.parametrize("name, shapes, kw", CONTINUOUS)
@pytest.mark.parametrize("method", ["logpdf", "logcdf", "logsf", "pdf", "cdf", "sf"])
def test_continuous_values_match_scipy(name, shapes, kw, method):
    with onp.errstate(all="ignore"):
        want = getattr(getattr(ss, name), method)(X, *shapes, **kw)
    _assert_matches(getattr(getattr(ms, name), method)(X, *shapes, **kw), want)


@pytest.mark.parametrize("name, shapes, kw", DISCRETE)
@pytest.mark.parametrize("method", ["logpmf", "pmf", "logcdf", "logsf", "cdf", "sf"])
def test_discrete_values_match_scipy(name, shapes, kw, method):
    if name == "skellam" and method not in ("logpmf", "pmf"):
        with pytest.raises(NotImplementedError, match="skellam offers logpmf and pmf only"):
            getattr(ms.skellam, method)(K, *shapes, **kw)
        return
    with onp.errstate(all="ignore"):
        want = getattr(getattr(ss, name), method)(K, *shapes, **kw)
    _assert_matches(getattr(getattr(ms, name), method)(K, *shapes, **kw), want)


@pytest.mark.parametrize("name, args", [
    ("chi2", (0.0,)), ("invgamma", (-1.0,)), ("beta", (1.0, 0.0)), ("f", (-1.0, 2.0)),
    ("truncnorm", (2.0, 1.0)), ("cauchy", ()), ("laplace", ())])
def test_invalid_parameters_give_nan(name, args):
    with onp.errstate(all="ignore"):
        want = getattr(ss, name).logpdf(X, *args, scale=-1.0 if not args else 1.0)
    got = getattr(ms, name).logpdf(X, *args, scale=-1.0 if not args else 1.0)
    _assert_matches(got, want)


# (name, shapes, which of them are differentiable in the logcdf / logsf)
DIFFERENTIABLE = [
    ("chi2", (3.5,), "positive", False), ("invgamma", (2.5,), "positive", False),
    ("beta", (2.5, 1.5), "beta", False), ("f", (3.0, 7.0), "positive", False),
    ("cauchy", (), "real", True), ("laplace", (), "nonzero", True),
    ("truncnorm", (-0.5, 2.0), "trunc", True), ("truncnorm", (1.0, 3.5), "right", True),
    ("truncnorm", (-3.0, -1.0), "left", True),
]


def _points(kind, seed):
    if kind == "beta":
        return rand((3,), "positive", seed) / 2.5
    if kind == "trunc":
        return onp.array([-0.3, 0.4, 1.7])
    if kind == "right":
        return onp.array([1.2, 2.0, 3.1])
    if kind == "left":
        return onp.array([-2.7, -1.9, -1.2])
    return rand((3,), kind, seed)


@pytest.mark.parametrize("name, shapes, kind, in_shapes", DIFFERENTIABLE)
@pytest.mark.parametrize("method", ["logpdf", "logcdf", "logsf"])
def test_continuous_derivatives(name, shapes, kind, in_shapes, method):
    fam = getattr(ms, name)
    x = _points(kind, 1)
    loc, scale = 0.1, 1.3
    xs = x * scale + loc
    check_grads(lambda x, loc, scale: getattr(fam, method)(x, *shapes, loc=loc, scale=scale),
                xs, loc, scale, order=2)
    if method == "logpdf" or in_shapes:
        arrays = tuple(onp.asarray(s, dtype=float) for s in shapes)
        if arrays:
            check_grads(lambda *s: getattr(fam, method)(xs, *s, loc=loc, scale=scale),
                        *arrays, order=2)


def test_cdf_shape_parameters_are_refused_by_name():
    with pytest.raises(TraceError, match="gammainc"):
        grad(lambda df: ms.chi2.logcdf(1.0, df))(3.0)
    with pytest.raises(TraceError, match="betainc"):
        grad(lambda a: ms.beta.cdf(0.3, a, 2.0))(3.0)


def test_truncated_normal_regression_loglike():
    # log f(y | y > c) of a normal regression truncated below at c: the loglike of a truncated
    # regression, differentiable in beta and sigma (they enter x, loc, scale and a)
    x = onp.column_stack([onp.ones(6), onp.linspace(-1, 1, 6)])
    y = onp.array([0.4, 0.9, 0.6, 1.5, 1.1, 2.0])
    c = 0.3

    def loglike(params):
        mu = x @ params[:2]
        sigma = np.exp(params[2])
        return np.sum(ms.truncnorm.logpdf(y, (c - mu) / sigma, np.inf, loc=mu, scale=sigma))

    params = onp.array([0.8, 0.5, -0.4])
    mu, sigma = x @ params[:2], onp.exp(params[2])
    assert loglike(params) == pytest.approx(
        onp.sum(ss.truncnorm.logpdf(y, (c - mu) / sigma, onp.inf, loc=mu, scale=sigma)),
        rel=1e-13)
    check_grads(loglike, params, order=3)


@pytest.mark.parametrize("method", ["logpmf", "logcdf", "logsf"])
def test_geom_derivatives(method):
    k = onp.array([1.0, 2.0, 5.0])
    check_grads(lambda p: getattr(ms.geom, method)(k, p), onp.array([0.2, 0.5, 0.7]), order=3)


def test_skellam_derivatives():
    k = onp.array([-3.0, 0.0, 2.0])
    check_grads(lambda m1, m2: ms.skellam.logpmf(k, m1, m2), onp.array([1.5, 0.4, 3.0]),
                onp.array([2.0, 1.1, 0.6]), order=2)


# --- multivariate ---------------------------------------------------------------------------------

RNG = onp.random.default_rng(77)
A = RNG.standard_normal((3, 3))
COV = A @ A.T + onp.eye(3)
MEAN = RNG.standard_normal(3)


@pytest.mark.parametrize("x_shape", [(3,), (5, 3), (2, 4, 3), (1, 3)])
def test_multivariate_normal_values(x_shape):
    x = RNG.standard_normal(x_shape)
    got = ms.multivariate_normal.logpdf(x, MEAN, COV)
    want = ss.multivariate_normal.logpdf(x, MEAN, COV)
    assert onp.shape(got) == onp.shape(want)
    onp.testing.assert_allclose(got, want, rtol=1e-12)
    onp.testing.assert_allclose(ms.multivariate_normal(MEAN, COV).pdf(x),
                                ss.multivariate_normal(MEAN, COV).pdf(x), rtol=1e-12)


@pytest.mark.parametrize("x, mean, cov", [
    (onp.array([0.5, 1.0, 2.0]), 0.0, 2.0),       # 1-D: three points of a 1-D normal
    (onp.array([0.5, 1.0]), [0.0, 1.0], [2.0, 3.0]),  # a diagonal covariance
    (0.3, None, 1.0), (onp.zeros((4, 2)), None, onp.eye(2) * 0.5)])
def test_multivariate_normal_argument_forms(x, mean, cov):
    got = ms.multivariate_normal.logpdf(x, mean, cov)
    want = ss.multivariate_normal.logpdf(x, mean, cov)
    assert onp.shape(got) == onp.shape(want)
    onp.testing.assert_allclose(got, want, rtol=1e-12)


def test_multivariate_normal_derivatives():
    x = RNG.standard_normal((4, 3))
    check_grads(lambda x, m, c: ms.multivariate_normal.logpdf(x, m, c), x, MEAN, COV, order=2)
    # the derivative in cov is the symmetric one: (S^-1 r r^T S^-1 - S^-1) / 2 per point
    g = grad(lambda c: ms.multivariate_normal.logpdf(x[0], MEAN, c))(COV)
    si = onp.linalg.inv(COV)
    r = si @ (x[0] - MEAN)
    onp.testing.assert_allclose(g, 0.5 * (onp.outer(r, r) - si), rtol=1e-10, atol=1e-12)
    # a covariance parameterised by its Cholesky factor (as a model would)
    chol = onp.linalg.cholesky(COV)
    check_grads(lambda l: ms.multivariate_normal.logpdf(x, MEAN, l @ l.T), chol, order=2)


def test_multivariate_normal_refusals():
    with pytest.raises(NotImplementedError, match="allow_singular"):
        ms.multivariate_normal.logpdf(onp.zeros(2), None, onp.eye(2), allow_singular=True)
    with pytest.raises(ValueError, match="mean has shape"):
        ms.multivariate_normal.logpdf(onp.zeros(2), onp.zeros(3), onp.eye(2))
    with pytest.raises(ValueError, match="components on its last axis"):
        ms.multivariate_normal.logpdf(onp.zeros((2, 3)), None, onp.eye(2))
    with pytest.raises(onp.linalg.LinAlgError):
        ms.multivariate_normal.logpdf(onp.zeros(2), None, onp.zeros((2, 2)))


def test_dirichlet():
    alpha = onp.array([1.5, 2.0, 3.0])
    x = onp.array([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]]).T
    onp.testing.assert_allclose(ms.dirichlet.logpdf(x, alpha), ss.dirichlet.logpdf(x, alpha),
                                rtol=1e-13)
    onp.testing.assert_allclose(ms.dirichlet.logpdf(x[:2], alpha),
                                ss.dirichlet.logpdf(x, alpha), rtol=1e-13)
    onp.testing.assert_allclose(ms.dirichlet(alpha).pdf(x[:, 0]),
                                ss.dirichlet.pdf(x[:, 0], alpha), rtol=1e-13)
    check_grads(lambda a: ms.dirichlet.logpdf(x, a), alpha, order=3)
    check_grads(lambda x2: ms.dirichlet.logpdf(x2, alpha), x[:2], order=2)
    with pytest.raises(ValueError, match="sum to 1"):
        ms.dirichlet.logpdf(onp.array([0.2, 0.2, 0.2]), alpha)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        ms.dirichlet.logpdf(x, -alpha)


def test_scipy_stats_on_traced_values_names_the_twin():
    with pytest.raises(TraceError, match="mleopt.stats.truncnorm.logpdf"):
        grad(lambda a: ss.truncnorm.logpdf(0.5, a, 2.0))(-1.0)
    with pytest.raises(TraceError, match="mleopt.stats.multivariate_normal"):
        grad(lambda m: ss.multivariate_normal.logpdf(onp.zeros(2), m, onp.eye(2)))(onp.ones(2))


@pytest.mark.parametrize("name, shapes", [("f", (3.0, 7.0)), ("f", (1.0, 1.0)), ("norm", ()),
                                          ("gamma", (2.3,)), ("beta", (2.2, 3.1)),
                                          ("invgamma", (2.5,)), ("t", (3.5,))])
def test_cdf_and_sf_at_the_infinities_are_their_limits(name, shapes):
    """cdf(+inf) = 1, cdf(-inf) = 0 (and sf, logs alike) as scipy's; F's cdf at +inf was nan
    (its formula's inf / inf) before the review of issue 9. The derivative in loc there is 0."""
    x = onp.array([-INF, 0.5, INF])
    for method in ("cdf", "logcdf", "sf", "logsf"):
        _assert_matches(getattr(getattr(ms, name), method)(x, *shapes, loc=0.2, scale=1.5),
                        getattr(getattr(ss, name), method)(x, *shapes, loc=0.2, scale=1.5))
    g = grad(lambda loc: np.sum(getattr(ms, name).logcdf(x[[0, 2]] * 1.0, *shapes, loc=loc)))(0.2)
    assert g == 0.0


def test_multivariate_normal_entropy():
    """multivariate_normal.entropy(mean, cov) (scipy's; autograd offers it; review of issue 9)
    to 1e-12 of scipy, differentiable in cov."""
    a = onp.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 1.5]])
    for mean, cov in [(None, a), (onp.zeros(3), 2.0), (onp.ones(2), a[:2, :2])]:
        onp.testing.assert_allclose(ms.multivariate_normal.entropy(mean, cov),
                                    ss.multivariate_normal.entropy(mean, cov), rtol=1e-12)
    check_grads(lambda c: ms.multivariate_normal.entropy(None, c @ c.T), a)
