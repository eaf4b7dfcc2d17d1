"""Declared reparametrisations: fit(transforms=...) and param_transforms (mleopt.reparam).

References, each computed here in closed form (no stored numbers needed):
* a multinomial sample's weights: MLE n_j / N, covariance (diag(w) - w w') / N;
* a zero-mean normal sample's covariance matrix: MLE X'X / N;
* ordered cut-points of an intercept-only ordered probit: Phi^-1 of the cumulative shares;
* at an interior optimum the delta method of a one-to-one transform equals the natural-scale
  covariance, so a transformed fit must match the untransformed one (params to 1e-8,
  standard errors to 1e-6), here on the anes96 logit and on user models.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtri

import mleopt.numpy as mnp
from mleopt import ConvergenceWarning, StartValueError, fit_mle, special, stats
from mleopt.ad import jacobian
from mleopt.ad.core import Traced
from mleopt.models import LikelihoodModel, Logit, Tobit
from mleopt.optimize import DivergenceError
from mleopt.reparam import Reparam

from check import check_grads, numerical_jacobian

DATA = Path(__file__).resolve().parents[1] / "datasets"

# (declaration, names, natural values inside the set)
CASES = [
    ({"a": "positive"}, ["a"], [0.7]),
    ({"a": ("positive", "softplus")}, ["a"], [0.3]),
    ({("a", "b"): ("interval", -1.0, 2.0)}, ["a", "b"], [0.5, -0.9]),
    ({"a": ("interval", 1.0, None), "b": ("interval", None, -2.0)}, ["a", "b"], [1.5, -4.0]),
    ({("a", "b"): "simplex"}, ["a", "b"], [0.3, 0.7]),
    ({("a", "b", "c", "d"): "simplex"}, ["a", "b", "c", "d"], [0.1, 0.2, 0.3, 0.4]),
    ({("a", "b", "c", "d"): ("simplex", "stick-breaking")}, ["a", "b", "c", "d"],
     [0.4, 0.1, 0.2, 0.3]),
    ({("a", "b", "c"): "ordered"}, ["x", "a", "b", "c"], [5.0, -1.0, 0.2, 3.0]),
    ({("r",): "corr_matrix"}, ["r"], [-0.6]),
    ({("r21", "r31", "r32"): "corr_matrix"}, ["r21", "r31", "r32"], [0.5, -0.3, 0.4]),
    ({tuple(f"r{i}" for i in range(6)): "corr_matrix"}, [f"r{i}" for i in range(6)],
     [0.2, -0.1, 0.3, 0.25, 0.1, -0.2]),
    ({("s11", "s21", "s22"): "cov_matrix"}, ["s11", "s21", "s22"], [2.0, -0.5, 0.8]),
    ({tuple(f"s{i}" for i in range(6)): "cov_matrix", "z": "positive"},
     [f"s{i}" for i in range(6)] + ["z"], [1.0, 0.3, 2.0, -0.2, 0.5, 1.5, 3.0]),
]


@pytest.mark.parametrize("decl, names, natural", CASES)
def test_round_trip_and_jacobian(decl, names, natural):
    rep = Reparam(decl, names)
    p = np.array(natural)
    t = rep.to_free(p)
    assert t.size == rep.k_free
    np.testing.assert_allclose(np.asarray(rep.from_free(t), float), p, rtol=1e-12, atol=1e-14)
    # the exact Jacobian (AD) against central finite differences, and every derivative of
    # the map to second order in both modes (tests/check.py)
    jac = np.asarray(jacobian(rep.from_free)(t), float)
    np.testing.assert_allclose(jac, numerical_jacobian(rep.from_free, t), rtol=1e-6,
                               atol=1e-8)
    check_grads(rep.from_free, t, order=2)
    # any free point maps inside the set, and back
    u = np.random.default_rng(0).normal(size=rep.k_free)
    np.testing.assert_allclose(rep.to_free(np.asarray(rep.from_free(u), float)), u,
                               rtol=1e-9, atol=1e-9)


def test_corr_and_cov_are_positive_definite():
    rep = Reparam({tuple(f"r{i}" for i in range(6)): "corr_matrix"}, [f"r{i}" for i in range(6)])
    r = np.asarray(rep.from_free(np.array([3.0, -2.5, 4.0, 1.0, -3.0, 2.0])), float)
    mat = np.eye(4)
    mat[np.tril_indices(4, -1)] = r
    mat = np.tril(mat) + np.tril(mat, -1).T
    assert np.all(np.linalg.eigvalsh(mat) > 0)


# --- fits: the same MLE with and without a transform at an interior optimum ----------------

@pytest.fixture(scope="module")
def anes():
    df = pd.read_csv(DATA / "anes96.csv")
    x = df[["PID", "age", "educ"]].assign(const=1.0)[["const", "PID", "age", "educ"]]
    return df["vote"], x


def test_logit_coefficients_transformed_same_mle(anes):
    y, x = anes
    plain = Logit(y, x).fit()
    res = Logit(y, x).fit(transforms={"PID": "positive", "age": ("positive", "softplus"),
                                      "educ": ("interval", -1, 1)})
    assert res.converged
    np.testing.assert_allclose(res.params, plain.params, rtol=0, atol=1e-8)
    np.testing.assert_allclose(res.bse, plain.bse, rtol=0, atol=1e-6)
    for cov in ("HC0", "HC1"):
        np.testing.assert_allclose(res.get_robustcov_results(cov).bse,
                                   plain.get_robustcov_results(cov).bse, rtol=0, atol=1e-6)
    assert res.llnull == pytest.approx(plain.llnull, abs=1e-9)
    text = str(res.summary())
    assert "Transforms (PID: positive exp; age: positive softplus; educ: interval (-1, 1))" \
        in text.replace("\n    ", " ")
    with pytest.raises(ValueError, match="declared transforms"):
        res.conf_int(method="profile", cols=["PID"])


def _normal_ll(p, y):
    return stats.norm.logpdf(y, p[0], p[1])


def test_user_model_param_transforms_and_override():
    y = np.random.default_rng(1).normal(1.0, 2.0, size=200)

    class Normal(LikelihoodModel):
        extra_param_names = ["sigma"]
        param_transforms = {"sigma": "positive"}

        def loglikeobs(self, params):
            return _normal_ll(params, self.endog)

    x = np.ones((200, 1))
    res = Normal(y, x).fit(start_params=[0.0, 1.0])
    plain = Normal(y, x).fit(start_params=[0.0, 1.0], transforms={})
    assert res.model._reparam is not None and plain.model._reparam is None
    assert "Transforms (sigma: positive exp)" in str(res.summary())
    sigma = np.sqrt(np.mean((y - y.mean()) ** 2))       # the closed-form MLE
    np.testing.assert_allclose(res.params, [y.mean(), sigma], rtol=1e-10)
    np.testing.assert_allclose(res.params, plain.params, atol=1e-8)
    np.testing.assert_allclose(res.bse, [sigma / np.sqrt(200), sigma / np.sqrt(400)],
                               rtol=1e-8)
    np.testing.assert_allclose(res.bse, plain.bse, atol=1e-6)


def test_simplex_weights_and_their_covariance():
    rng = np.random.default_rng(2)
    y = np.eye(3)[rng.choice(3, size=500, p=[0.2, 0.3, 0.5])]
    w = y.mean(axis=0)
    cov = (np.diag(w) - np.outer(w, w)) / 500

    def ll(p, y):
        return mnp.matmul(y, mnp.log(p))

    for spec in ("simplex", ("simplex", "stick-breaking")):
        res = fit_mle(ll, [0.2, 0.2, 0.6], ["w1", "w2", "w3"], data={"y": y},
                      transforms={("w1", "w2", "w3"): spec})
        assert res.converged
        np.testing.assert_allclose(res.params, w, atol=1e-10)
        np.testing.assert_allclose(res.cov_params(), cov, atol=1e-12)
        # the sandwich too: the scores of a multinomial equal the Hessian's information
        np.testing.assert_allclose(res.get_robustcov_results("HC0").cov_params(), cov,
                                   atol=1e-12)
        assert res.params.sum() == pytest.approx(1.0, abs=1e-14)
        # a linear combination by the delta method: w1 + w2 = 1 - w3, its SE that of w3
        d = res.delta_method(lambda p: p[0] + p[1])
        np.testing.assert_allclose(np.asarray(d.bse, float), np.sqrt(cov[2, 2]), rtol=1e-9)


def test_simplex_jackknife_and_bootstrap():
    """Resampled covariances refit the natural params (they were refused under a simplex:
    "these results cannot provide them"). The jackknife of sample proportions is exact:
    (diag(w) - w w') / (n - 1)."""
    rng = np.random.default_rng(4)
    y = np.eye(3)[rng.choice(3, size=60, p=[0.2, 0.3, 0.5])]
    w = y.mean(axis=0)

    def ll(p, y):
        return mnp.matmul(y, mnp.log(p))

    res = fit_mle(ll, [0.2, 0.2, 0.6], ["w1", "w2", "w3"], data={"y": y},
                  transforms={("w1", "w2", "w3"): "simplex"})
    jk = res.get_robustcov_results("jackknife").cov_params().to_numpy()
    np.testing.assert_allclose(jk, (np.diag(w) - np.outer(w, w)) / 59, atol=1e-10)
    boot = res.get_robustcov_results("bootstrap", reps=20, seed=0).cov_params().to_numpy()
    np.testing.assert_allclose(boot.sum(axis=1), 0.0, atol=1e-12)   # weights sum to 1


def _mvn_ll(p, x):
    """A zero-mean trivariate normal; p = (s11, s21, s22, s31, s32, s33)."""
    sigma = mnp.stack([mnp.stack([p[0], p[1], p[3]]), mnp.stack([p[1], p[2], p[4]]),
                       mnp.stack([p[3], p[4], p[5]])])
    inv = mnp.linalg.inv(sigma)
    quad = mnp.sum(mnp.matmul(x, inv) * x, axis=1)
    return -0.5 * (quad + mnp.linalg.slogdet(sigma)[1] + 3 * np.log(2 * np.pi))


def test_covariance_matrix_by_cholesky():
    rng = np.random.default_rng(3)
    chol = np.array([[1.0, 0, 0], [0.6, 0.8, 0], [-0.3, 0.5, 1.2]])
    x = rng.normal(size=(400, 3)) @ chol.T
    names = ["s11", "s21", "s22", "s31", "s32", "s33"]
    start = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    res = fit_mle(_mvn_ll, start, names, data={"x": x}, transforms={tuple(names): "cov_matrix"})
    s = x.T @ x / 400
    # the natural-scale fit from the identity leaves the positive definite matrices (a
    # HessianWarning); started near the optimum it is the reference for the SEs
    plain = fit_mle(_mvn_ll, np.round(s[np.tril_indices(3)], 1), names, data={"x": x})
    np.testing.assert_allclose(res.params, s[np.tril_indices(3)], rtol=1e-9)
    np.testing.assert_allclose(res.params, plain.params, atol=1e-8)
    np.testing.assert_allclose(res.bse, plain.bse, atol=1e-6)


def test_correlation_matrix_by_cholesky():
    rng = np.random.default_rng(4)
    chol = np.linalg.cholesky(np.array([[1, 0.5, -0.2], [0.5, 1, 0.3], [-0.2, 0.3, 1]]))
    x = rng.normal(size=(300, 3)) @ chol.T

    def ll(r, x):       # unit variances, unknown correlations (r21, r31, r32)
        p = mnp.stack([1.0, r[0], 1.0, r[1], r[2], 1.0])
        return _mvn_ll(p, x)

    names = ["r21", "r31", "r32"]
    res = fit_mle(ll, [0.0, 0.0, 0.0], names, data={"x": x},
                  transforms={tuple(names): "corr_matrix"})
    # the natural-scale reference starts near the optimum (from 0 Newton leaves the set)
    plain = fit_mle(ll, np.round(res.params.to_numpy(), 1), names, data={"x": x})
    assert res.converged and plain.converged
    np.testing.assert_allclose(res.params, plain.params, atol=1e-8)
    np.testing.assert_allclose(res.bse, plain.bse, atol=1e-6)


def test_ordered_cut_points():
    rng = np.random.default_rng(5)
    cat = rng.choice(4, size=600, p=[0.1, 0.4, 0.3, 0.2])
    onehot = np.eye(4)[cat]

    def ll(c, onehot):
        cdf = mnp.concatenate([np.zeros(1), special.ndtr(c), np.ones(1)])
        return mnp.log(mnp.matmul(onehot, cdf[1:] - cdf[:-1]))

    res = fit_mle(ll, [-1.0, 0.0, 1.0], ["c1", "c2", "c3"], data={"onehot": onehot},
                  transforms={("c1", "c2", "c3"): "ordered"})
    shares = np.cumsum(np.bincount(cat, minlength=4))[:-1] / 600
    np.testing.assert_allclose(res.params, ndtri(shares), atol=1e-9)
    with pytest.raises(StartValueError, match="strictly increasing"):
        fit_mle(ll, [0.0, -1.0, 1.0], ["c1", "c2", "c3"], data={"onehot": onehot},
                transforms={("c1", "c2", "c3"): "ordered"})


def _plain(x):
    while isinstance(x, Traced):
        x = x._value
    return float(np.asarray(x).ravel()[0])


def test_transform_keeps_the_optimiser_inside():
    y = (np.random.default_rng(0).uniform(size=300) < 0.03).astype(float)
    seen = []

    def ll(p, y):
        seen.append(_plain(p[0]))
        return y * mnp.log(p[0]) + (1 - y) * mnp.log(1 - p[0])

    # BFGS's first line search leaves (0, 1) on the natural scale, never on the free one
    fit_mle(ll, [0.5], ["p"], data={"y": y}, method="bfgs")
    assert min(seen) < 0
    seen.clear()
    res = fit_mle(ll, [0.5], ["p"], data={"y": y}, method="bfgs",
                  transforms={"p": ("interval", 0, 1)})
    assert min(seen) > 0 and res.converged
    np.testing.assert_allclose(res.params, [0.03], atol=1e-8)
    # SGD with a large step diverges on the natural scale; the transform keeps it inside
    with pytest.raises(DivergenceError):
        fit_mle(ll, [0.5], ["p"], data={"y": y}, method="sgd", lr=0.5, epochs=20,
                batch_size=300)
    res = fit_mle(ll, [0.5], ["p"], data={"y": y}, method="sgd", lr=0.5, epochs=20,
                  batch_size=300, transforms={"p": ("interval", 0, 1)})
    np.testing.assert_allclose(res.params, [0.03], atol=1e-8)


# --- bad input ------------------------------------------------------------------------------

def test_bad_declarations(anes):
    y, x = anes
    m = Logit(y, x)
    with pytest.raises(ValueError, match="unknown transform 'postive'. Did you mean 'positive'"):
        m.fit(transforms={"PID": "postive"})
    with pytest.raises(ValueError, match="unknown parameter 'PDI'. Did you mean 'PID'"):
        m.fit(transforms={"PDI": "positive"})
    with pytest.raises(ValueError, match="'PID' is declared twice"):
        m.fit(transforms={"PID": "positive", ("PID", "age"): "simplex"})
    with pytest.raises(ValueError, match="at least 2"):
        m.fit(transforms={("PID",): "simplex"})
    with pytest.raises(ValueError, match="d\\(d-1\\)/2 correlations"):
        m.fit(transforms={("PID", "age"): "corr_matrix"})
    with pytest.raises(ValueError, match="lo < hi"):
        m.fit(transforms={"PID": ("interval", 1, 0)})
    with pytest.raises(ValueError, match="'simplex' takes one of 'softmax', 'stick-breaking'"):
        m.fit(transforms={("PID", "age"): ("simplex", "stick")})
    with pytest.raises(TypeError, match="transforms must be a dict"):
        m.fit(transforms=["PID"])
    with pytest.raises(StartValueError, match=r"\(PID=-1\): PID must be > 0"):
        m.fit(start_params=[0, -1, 0, 0], transforms={"PID": "positive"})
    with pytest.raises(StartValueError, match=r"\(educ=2\): educ must lie strictly inside the interval \(-1, 1\)"):
        m.fit(start_params=[0, 1, 0, 2], transforms={"educ": ("interval", -1, 1)})
    with pytest.raises(ValueError, match="bounds on PID, which also have a declared"):
        m.fit(method="l-bfgs-b", transforms={"PID": "positive"}, bounds={"PID": (0, None)})
    assert m._reparam is None           # the model itself is not changed by a fit


def test_simplex_start_must_sum_to_one():
    y = np.eye(3)[[0, 1, 2, 2]]
    with pytest.raises(StartValueError, match="w1=0.5, w2=0.5, w3=0.5.*sum to 1.5, not 1"):
        fit_mle(lambda p, y: mnp.matmul(y, mnp.log(p)), [0.5, 0.5, 0.5], ["w1", "w2", "w3"],
                data={"y": y}, transforms={("w1", "w2", "w3"): "simplex"})


def test_own_transform_parameters_refused():
    df = pd.read_csv(DATA / "mroz.csv")
    x = df[["educ", "age"]].assign(const=1.0)
    with pytest.raises(ValueError, match="transforms on sigma: Tobit already optimises"):
        Tobit(df["hours"], x, left=0).fit(transforms={"sigma": "positive"})
    # a coefficient is fine, and the fit is the same interior MLE
    plain = Tobit(df["hours"], x, left=0).fit()
    res = Tobit(df["hours"], x, left=0).fit(transforms={"educ": "positive"})
    np.testing.assert_allclose(res.params, plain.params, rtol=1e-9)
    np.testing.assert_allclose(res.bse, plain.bse, rtol=1e-7)


def test_simplex_with_a_bound_elsewhere_and_at_bound_by_name():
    rng = np.random.default_rng(2)
    y = np.eye(3)[rng.choice(3, size=500, p=[0.2, 0.3, 0.5])]
    z = rng.normal(1.0, 1.0, size=500)

    def ll(p, y, z):
        return mnp.matmul(y, mnp.log(p[:3])) - 0.5 * (z - p[3]) ** 2

    res = fit_mle(ll, [0.3, 0.3, 0.4, 0.0], ["w1", "w2", "w3", "mu"], data={"y": y, "z": z},
                  transforms={("w1", "w2", "w3"): "simplex"}, method="l-bfgs-b",
                  bounds={"mu": (None, 0.5)})
    assert res.converged
    np.testing.assert_allclose(res.params[:3], y.mean(axis=0), atol=1e-7)
    assert res.params["mu"] == pytest.approx(0.5, abs=1e-12)      # z's mean is above 0.5
    assert list(res.at_bound) == [0, 0, 0, 1]


# --- a maximum beyond the declared set (review of issue 10) ---------------------------------
def test_maximum_beyond_the_declared_set_is_marked_at_its_edge():
    """The unrestricted MLE (closed form: the sample mean) lies outside the declared set: the
    free value runs off to infinity and the fit stops at the set's edge with a vanishing
    free-scale gradient. That is not an interior optimum: at_bound marks the side, the fit
    warns and the summary says the standard errors are not the usual ones."""
    y = (np.random.default_rng(0).uniform(size=300) < 0.03).astype(float)   # mean 0.03

    def ll(p, y):
        return y * mnp.log(p[0]) + (1 - y) * mnp.log(1 - p[0])

    with pytest.warns(ConvergenceWarning, match=r"p = 0.02 \(its upper edge\)"):
        res = fit_mle(ll, [0.01], ["p"], data={"y": y},
                      transforms={"p": ("interval", 0, 0.02)})
    np.testing.assert_allclose(res.params, [0.02], rtol=1e-6)
    assert res.at_bound["p"] == 1
    assert "declared transform" in str(res.summary())

    z = np.random.default_rng(1).normal(-0.5, 1.0, size=200)     # mean < 0: mu > 0 at 0

    def ll_norm(p, z):
        return stats.norm.logpdf(z, p[0], p[1])

    for spec in ("positive", ("positive", "softplus")):
        with pytest.warns(ConvergenceWarning, match=r"mu = .*\(its lower edge\)"):
            res = fit_mle(ll_norm, [1.0, 1.0], ["mu", "sigma"], data={"z": z},
                          transforms={"mu": spec, "sigma": "positive"})
        assert res.params["mu"] < 1e-6
        assert list(res.at_bound) == [-1, 0]          # sigma is interior: not marked
    # the same model with an interior maximum: nothing marked, no warning
    res = fit_mle(ll_norm, [1.0, 1.0], ["mu", "sigma"], data={"z": z + 2.0},
                  transforms={"mu": "positive", "sigma": "positive"})
    assert not res.at_bound.any()


def test_stochastic_fit_at_a_transform_edge_says_so_in_the_summary():
    y = (np.random.default_rng(0).uniform(size=300) < 0.03).astype(float)   # mean 0.03

    def ll(p, y):
        return y * mnp.log(p[0]) + (1 - y) * mnp.log(1 - p[0])

    with pytest.warns(ConvergenceWarning, match=r"p = 0.02 \(its upper edge\)"):
        res = fit_mle(ll, [0.01], ["p"], data={"y": y}, method="adam", lr=0.1, epochs=3,
                      batch_size=100, seed=0, transforms={"p": ("interval", 0, 0.02)})
    text = str(res.summary())
    assert "Optimiser: adam" in text and "declared transform" in text


@pytest.mark.parametrize("name", ["NegativeBinomial", "GeneralizedPoisson",
                                  "ZeroInflatedPoisson"])
def test_transforms_on_models_whose_start_values_fit_a_poisson(name):
    """Their start values come from a Poisson fit on the same data (IndexModel._like): it
    must not inherit the declaration made on the larger model's parameters (it raised
    IndexError on the Poisson's shorter parameter vector). With fweights as well: the
    transformed fit equals the untransformed one at an interior optimum."""
    import mleopt.models as models
    rng = np.random.default_rng(1)
    x = np.column_stack([np.ones(300), rng.normal(size=300)])
    y = rng.negative_binomial(2, 2 / (2 + np.exp(x @ [0.5, 0.3])))
    w = rng.integers(1, 4, size=300).astype(float)
    cls = getattr(models, name)
    plain = cls(y, x, freq_weights=w).fit()
    declared = cls(y, x, freq_weights=w).fit(transforms={"x1": "positive"})
    assert plain.params["x1"] > 0.1
    np.testing.assert_allclose(declared.params, plain.params, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(declared.bse, plain.bse, rtol=1e-6)
