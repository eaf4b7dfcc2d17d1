"""The fit side of the models: estimates against references, optimiser behaviour, inputs.

References (tests/references.py): statsmodels 0.15.0 (anes96 Logit/Probit, randhie Poisson /
NB2 / Poisson with exposure, grunfeld, engel and statecrime OLS) and the NIST StRD certified
values for Longley. Standard errors and the other results are tested in test_results_*.py.
"""
from pathlib import Path
import warnings

import numpy as np
import pandas as pd
import pytest

import references as ref
import mleopt
from mleopt import (OLS, LikelihoodModel, Logit, NegativeBinomial, Poisson, Probit,
                    add_constant, fit_mle)
from mleopt import numpy as mnp
from mleopt import special
from mleopt.exceptions import ConvergenceWarning
from mleopt.models.base import LikelihoodModel as Base
from mleopt.optimize import METHODS

DATA = Path(__file__).resolve().parents[1] / "datasets"


def load(name):
    return pd.read_csv(DATA / f"{name}.csv")


def close(a, b, rtol):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=0)


@pytest.fixture(scope="module")
def anes():
    df = load("anes96")
    return df["vote"], add_constant(df[ref.ANES96_LOGIT["exog_names"][1:]])


@pytest.fixture(scope="module")
def randhie():
    df = load("randhie")
    return df, df["mdvis"], add_constant(df[ref.RANDHIE_POISSON["exog_names"][1:]])


# =======================================================================================
# estimates against the references
# =======================================================================================

@pytest.mark.parametrize("model, r", [(Logit, ref.ANES96_LOGIT), (Probit, ref.ANES96_PROBIT)],
                         ids=["logit", "probit"])
def test_binary_matches_statsmodels(anes, model, r):
    res = model(*anes).fit()
    assert res.converged and res.opt.grad_max <= 1e-8
    assert list(res.params.index) == r["exog_names"]
    close(res.params, r["params"], 1e-6)
    for name in ("llf", "aic", "bic", "prsquared"):
        close(getattr(res, name), r[name], 1e-8)
    close(res.llnull, r["llnull_exact"], 1e-10)
    close(res.llnull, r["llnull"], 1e-8)
    assert (res.nobs, res.df_model, res.df_resid) == (r["nobs"], r["df_model"], r["df_resid"])
    # the gradient of the mean log-likelihood at the estimate is zero to round-off
    assert np.max(np.abs(res.model.score(res.params))) / res.nobs < 1e-9


def test_poisson_matches_statsmodels(randhie):
    _, y, x = randhie
    r = ref.RANDHIE_POISSON
    res = Poisson(y, x).fit()
    assert res.converged
    close(res.params, r["params"], 1e-6)
    for name in ("llf", "aic", "bic", "prsquared"):
        close(getattr(res, name), r[name], 1e-8)
    close(res.llnull, r["llnull_exact"], 1e-10)
    assert (res.df_model, res.df_resid) == (r["df_model"], r["df_resid"])


def test_negative_binomial_matches_statsmodels(randhie):
    _, y, x = randhie
    r = ref.RANDHIE_NEGBIN
    res = NegativeBinomial(y, x).fit()
    assert res.converged
    assert list(res.params.index) == r["param_names"]
    close(res.params, r["params"], 1e-6)
    close(res.params["alpha"], r["alpha"], 1e-6)
    for name in ("llf", "aic", "bic"):
        close(getattr(res, name), r[name], 1e-8)
    close(res.llnull, r["llnull_exact"], 1e-10)     # the null model fitted to convergence
    close(res.llnull, r["llnull"], 1e-8)            # statsmodels' own (looser) value
    assert (res.df_model, res.df_resid) == (r["df_model"], r["df_resid"])


def test_poisson_exposure_matches_statsmodels(randhie):
    df, y, _ = randhie
    r = ref.RANDHIE_POISSON_EXPOSURE
    x = add_constant(df[r["exog_names"][1:]])
    exposure = 1.0 + df["disea"]
    res = Poisson(y, x, exposure=exposure).fit()
    close(res.params, r["params"], 1e-6)
    close(res.llf, r["llf"], 1e-8)
    close(res.llnull, r["llnull_exact"], 1e-10)
    # offset = log(exposure) is the same model
    res2 = Poisson(y, x, offset=np.log(exposure)).fit()
    close(res2.params, r["params"], 1e-6)
    # predictions: the model's own exposure by default, none for new exog
    mu = res.predict()
    close(mu, exposure * np.exp(x.to_numpy() @ res.params.to_numpy()), 1e-12)
    close(res.model.predict(res.params.to_numpy(), exog=x.to_numpy()[:3]),
          np.exp(x.to_numpy()[:3] @ res.params.to_numpy()), 1e-12)


def test_longley_nist_certified():
    df = load("longley")
    r = ref.LONGLEY_NIST
    res = OLS(df[r["endog"]], add_constant(df[r["exog_names"][1:]])).fit()
    assert res.converged
    assert list(res.params.index) == r["exog_names"] + ["sigma"]
    # at least 8 significant digits despite a condition number of ~5e9 (we get ~11)
    close(res.params[:-1], r["params"], 1e-8)
    n, k = 16, 7
    close(res.params["sigma"], r["resid_sd"] * np.sqrt((n - k) / n), 1e-8)  # ML sigma
    close(res.llf, ref.LONGLEY_OLS_STATSMODELS["llf"], 1e-8)


@pytest.mark.parametrize("name, r, cols", [
    ("grunfeld", ref.GRUNFELD_OLS, ["value", "capital"]),
    ("engel", ref.ENGEL_OLS, ["income"]),
    ("statecrime", ref.STATECRIME_OLS, ["urban", "poverty", "hs_grad", "single"]),
])
def test_ols_matches_statsmodels(name, r, cols):
    df = load(name)
    res = OLS(df[r["endog"]], add_constant(df[cols])).fit()
    close(res.params[:-1], r["params"], 1e-8)
    close(res.params["sigma"], r["sigma_ml"], 1e-8)
    close(res.llf, r["llf"], 1e-10)
    assert (res.df_model, res.df_resid, res.nobs) == (r["df_model"], r["df_resid"], r["nobs"])


# =======================================================================================
# the built-in models' derivatives: the linear index found by mleopt.ad equals the general path
# =======================================================================================

@pytest.mark.parametrize("kind", ["logit", "probit", "poisson", "negbin", "ols", "exposure"])
def test_index_derivatives_equal_general_ad(kind, anes, randhie):
    """The built-in models have no derivative code of their own: mleopt.ad finds X beta in
    loglikeobs (mleopt.ad.structure) and its Hessian and scores equal the general
    forward-over-reverse / forward-mode ones, in the natural and the optimiser's space."""
    from mleopt import ad
    from mleopt.ad import api, structure
    df, yc, xc = randhie
    rows = slice(0, 400)
    model = {"logit": lambda: Logit(*anes), "probit": lambda: Probit(*anes),
             "poisson": lambda: Poisson(yc[rows], xc[rows]),
             "negbin": lambda: NegativeBinomial(yc[rows], xc[rows]),
             "ols": lambda: OLS(anes[0] + anes[1]["PID"], anes[1]),
             "exposure": lambda: Poisson(yc[rows], xc[rows], exposure=1 + df["disea"][rows],
                                         offset=0.1 * df["lpi"][rows])}[kind]()
    rng = np.random.default_rng(1)
    p = model.start_params() + 0.01 * rng.standard_normal(model.k_params)
    leaves, _, node = api._reverse(model.loglike, (p,), {}, (0,))
    assert structure.find(node, leaves[0], summed=True) is not None
    close(model.hessian(p), api._jacobian_forward(ad.grad(model.loglike), (p,), {}, 0), 1e-10)
    close(model.score_obs(p), ad.jacobian(model.loglikeobs, mode="fwd")(p), 1e-10)
    inv = 1.0 / model._opt_scale(p)     # the optimiser's objective: transform, scaling

    def ll(z):
        return model.loglike(model.transform(z * inv))
    z0 = np.asarray(model.untransform(p)) / inv
    close(ad.hessian(ll)(z0), api._jacobian_forward(ad.grad(ll), (z0,), {}, 0), 1e-10)


# =======================================================================================
# user likelihoods
# =======================================================================================

class MyProbit(LikelihoodModel):
    """Probit written by hand, as a user would."""

    def loglikeobs(self, params):
        q = 2 * self.endog - 1
        return special.log_ndtr(q * (self.exog @ params))


class MyNormal(LikelihoodModel):
    """Gaussian regression with sigma optimised on the log scale."""

    extra_param_names = ["sigma"]

    def loglikeobs(self, params):
        beta, sigma = params[:-1], params[-1]
        r = (self.endog - self.exog @ beta) / sigma
        return -0.5 * np.log(2 * np.pi) - mnp.log(sigma) - 0.5 * r * r

    def transform(self, theta):
        return mnp.concatenate([theta[:-1], mnp.exp(theta[-1:])])

    def untransform(self, params):
        return np.concatenate([params[:-1], np.log(params[-1:])])

    def start_params(self):
        return np.append(np.zeros(self.exog.shape[1]), self.endog.std())


def test_user_probit_equals_builtin(anes):
    mine = MyProbit(*anes).fit()
    builtin = Probit(*anes).fit()
    assert mine.converged
    assert list(mine.params.index) == list(builtin.params.index)
    close(mine.params, builtin.params, 1e-8)
    close(mine.llf, builtin.llf, 1e-12)
    close(mine.bse, builtin.bse, 1e-8)
    close(mine.llnull, builtin.llnull, 1e-10)
    assert (mine.df_model, mine.df_resid) == (builtin.df_model, builtin.df_resid)


def test_user_model_with_transform_equals_ols():
    df = load("engel")
    y, x = df["foodexp"], add_constant(df["income"])
    mine = MyNormal(y, x).fit()
    ols = OLS(y, x).fit()
    assert list(mine.params.index) == ["const", "income", "sigma"]
    close(mine.params, ols.params, 1e-7)
    close(mine.llf, ols.llf, 1e-12)


class ColumnwiseNormal(LikelihoodModel):
    """Uses exog's columns by position, so it cannot run on the intercept-only model."""

    extra_param_names = ["sigma"]

    def loglikeobs(self, params):
        mean = params[0] * self.exog[:, 0] + params[1] * self.exog[:, 1]
        return -mnp.log(params[2]) - 0.5 * ((self.endog - mean) / params[2]) ** 2


def test_user_model_whose_null_model_cannot_run_still_reports():
    # summary() used to crash with an IndexError from the intercept-only model behind llnull
    df = load("engel")
    res = ColumnwiseNormal(df["foodexp"], add_constant(df["income"])).fit(
        start_params=[0.0, 0.0, 100.0])
    assert res.converged
    with pytest.warns(UserWarning, match="llnull is not available.*IndexError"):
        assert np.isnan(res.llnull)
    assert np.isnan(res.prsquared)
    text = res.summary().as_text()
    assert "LL-Null" not in text and "Log-Likelihood:" in text


def test_fit_mle_plain_function(anes):
    y = anes[0].to_numpy(float)
    x = anes[1].to_numpy(float)

    def probit_obs(b):
        return special.log_ndtr((2 * y - 1) * (x @ b))

    res = fit_mle(probit_obs, np.zeros(6), param_names=list(anes[1].columns))
    close(res.params, ref.ANES96_PROBIT["params"], 1e-6)
    assert res.nobs == 944 and res.converged
    # a normal sample: closed-form MLE, with a log-sigma transform
    z = np.random.default_rng(0).normal(3.0, 2.0, size=500)
    res = fit_mle(lambda p: -0.5 * ((z - p[0]) / p[1]) ** 2 - mnp.log(p[1]),
                  [0.0, 1.0], param_names=["mu", "sigma"],
                  transform=lambda t: mnp.stack([t[0], mnp.exp(t[1])]),
                  untransform=lambda p: np.array([p[0], np.log(p[1])]))
    close(res.params, [z.mean(), z.std()], 1e-8)
    assert list(res.params.index) == ["mu", "sigma"]



def test_fit_mle_start_params_as_list_tuple_or_series():
    # a list has an .index method: it used to be read as a Series index (TypeError)
    z = np.random.default_rng(1).normal(3.0, 1.0, size=200)

    def obs(p):
        return -0.5 * (z - p[0]) ** 2

    for start in ([0.0], (0.0,), np.zeros(1)):
        res = fit_mle(obs, start)
        assert list(res.params.index) == ["par0"]
        close(res.params, [z.mean()], 1e-10)
    res = fit_mle(obs, pd.Series([0.0], index=["mu"]))
    assert list(res.params.index) == ["mu"]
    close(res.params, [z.mean()], 1e-10)


def test_fit_mle_refuses_a_summed_loglikelihood():
    # a total log-likelihood used to be fitted as nobs = 1 (df_resid 0, wrong BIC), or with
    # nobs=... given, to crash in the robust covariances with a raw matmul error
    z = np.random.default_rng(1).normal(3.0, 1.0, size=200)
    total = lambda p: mnp.sum(-0.5 * (z - p[0]) ** 2)    # noqa: E731
    for kwds in ({}, {"nobs": 200}):
        with pytest.raises(ValueError, match=r"one log-likelihood per observation.*shape \(\)"):
            fit_mle(total, [0.0], **kwds)
    with pytest.raises(ValueError, match="length nobs = 100"):
        fit_mle(lambda p: -0.5 * (z - p[0]) ** 2, [0.0], nobs=100)

# =======================================================================================
# the optimiser
# =======================================================================================

_DERIVATIVE_FREE = {"nelder-mead", "powell", "cobyla", "cobyqa"}


@pytest.mark.parametrize("method", [m for m in METHODS if m not in ("cobyla", "cobyqa")])
def test_every_method_on_anes96_logit(anes, method):
    model = Logit(*anes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = model.fit(method=method.upper() if method == "bfgs" else method)
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    # the verdict is honest: converged iff the gradient tolerance is met, warned iff not
    assert res.converged == (res.opt.grad_max <= 1e-8)
    assert warned == (not res.converged)
    close(res.params, ref.ANES96_LOGIT["params"], 1e-4 if res.converged else 1e-2)
    if method not in _DERIVATIVE_FREE:             # every gradient method converges
        assert res.converged
        close(res.params, ref.ANES96_LOGIT["params"], 1e-5)


def test_misspelt_scipy_option_is_not_swallowed(anes):
    # scipy ignores an unknown option with a warning; mleopt refuses it, naming the options
    # the method takes (issue 7, item 10)
    with pytest.raises(TypeError, match=r"unknown option\(s\) gtoll for method='bfgs'.*c1"):
        Logit(*anes).fit(method="bfgs", gtoll=1e-3)


@pytest.mark.parametrize("method", ["cobyla", "cobyqa"])
def test_slow_derivative_free_methods_report_honestly(anes, method):
    with pytest.warns(ConvergenceWarning):
        res = Logit(*anes).fit(method=method, maxiter=30)
    assert not res.converged and "not converged" in res.message


def test_unknown_method(anes):
    with pytest.raises(ValueError, match="unknown method 'bogus'"):
        Logit(*anes).fit(method="bogus")


def test_no_convergence_warns_and_says_so(anes):
    with pytest.warns(ConvergenceWarning, match="did not converge after 1 iterations"):
        res = Logit(*anes).fit(maxiter=1)
    assert res.converged is False
    assert res.iterations == 1
    assert "not converged" in res.message
    assert not res.opt.converged


def test_disp_and_callback(anes, capsys):
    seen = []
    res = Logit(*anes).fit(disp=True, callback=lambda p: seen.append(np.array(p)))
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip().startswith("iter")]
    assert len(lines) == res.iterations + 1        # the start and every iteration
    assert "loglike" in lines[0] and "max|grad|" in lines[0] and "step" in lines[-1]
    assert len(seen) == res.iterations and all(s.shape == (6,) for s in seen)
    close(seen[-1], res.params, 1e-6)
    # callback parameters are natural (sigma, not log sigma)
    df = load("engel")
    sig = []
    OLS(df["foodexp"], add_constant(df["income"])).fit(
        start_params=[0.0, 0.0, 50.0], callback=lambda p: sig.append(p[-1]))
    assert sig and all(s > 0 for s in sig)


def test_start_params_accepted_and_iterations(anes):
    res = Logit(*anes).fit(start_params=ref.ANES96_LOGIT["params"])
    assert res.converged and res.iterations <= 1
    res = Logit(*anes).fit(start_params=pd.Series(np.zeros(6)))
    assert res.converged


def test_large_data_path_subsample_start_and_hessian_reuse(anes, monkeypatch):
    # force the large-data strategy on anes96: warm start on a subsample, lazy Hessians
    monkeypatch.setattr(Logit, "_LARGE", 1)
    monkeypatch.setattr(Logit, "_SUBSAMPLE", 200)
    res = Logit(*anes).fit()
    assert res.converged
    close(res.params, ref.ANES96_LOGIT["params"], 1e-6)
    close(res.llf, ref.ANES96_LOGIT["llf"], 1e-10)


@pytest.mark.parametrize("model", [Poisson, NegativeBinomial])
def test_large_data_path_counts_with_exposure(randhie, model, monkeypatch):
    df, y, _ = randhie
    r = ref.RANDHIE_POISSON_EXPOSURE
    x = add_constant(df[r["exog_names"][1:]])
    small = model(y, x, exposure=1.0 + df["disea"]).fit()
    monkeypatch.setattr(model, "_LARGE", 1)
    monkeypatch.setattr(model, "_SUBSAMPLE", 2000)
    large = model(y, x, exposure=1.0 + df["disea"]).fit()
    assert large.converged
    close(large.params, small.params, 1e-6)
    if model is Poisson:
        close(large.params, r["params"], 1e-6)


# =======================================================================================
# inputs: names, missing values, copies
# =======================================================================================

def test_names_from_arrays_and_pandas(anes):
    y, x = anes
    res = Logit(y.to_numpy(), x.to_numpy()).fit()
    assert list(res.params.index) == ["const", "x1", "x2", "x3", "x4", "x5"]
    assert res.model.endog_name == "y"
    res = Logit(y, x).fit()
    assert res.model.endog_name == "vote"
    close(res.params, ref.ANES96_LOGIT["params"], 1e-6)
    # lists work too
    res = Logit(y.tolist(), x.to_numpy().tolist()).fit()
    close(res.params, ref.ANES96_LOGIT["params"], 1e-6)


def test_missing_drop(anes):
    y, x = anes
    y2, x2 = y.astype(float).copy(), x.astype(float).copy()
    y2.iloc[[3, 10]] = np.nan
    x2.iloc[[10, 20, 30], 2] = np.nan
    x2.iloc[40, 1] = np.inf
    model = Logit(y2, x2, missing="drop")
    assert model.nobs == 944 - 5 and model.data.n_dropped == 5
    assert model.data.dropped_by == {"vote": 2, "PID": 3, "TVnews": 1}
    keep = np.ones(944, bool)
    keep[[3, 10, 20, 30, 40]] = False
    res = model.fit()
    direct = Logit(y[keep], x[keep]).fit()
    close(res.params, direct.params, 1e-10)
    text = " ".join(res.summary().as_text().split())
    assert "5 of 944 rows with NaN or inf were dropped (missing='drop'): vote (2)" in text
    assert "PID (3)" in text and "TVnews (1)" in text
    assert list(model.data.row_labels) == list(np.flatnonzero(keep))
    # per-row arrays passed along (to a user model: built-in models refuse keywords they do
    # not use) are dropped with the rows
    groups = np.arange(944)
    m2 = LikelihoodModel(y2, x2, missing="drop", groups=groups)
    assert np.array_equal(m2.groups, groups[keep])
    assert np.array_equal(m2.data.align(groups), groups[keep])


def test_missing_drop_with_exposure(randhie):
    df, y, x = randhie
    exposure = (1.0 + df["disea"]).copy()
    exposure.iloc[[5, 6]] = np.nan
    model = Poisson(y, x, exposure=exposure, missing="drop")
    assert model.nobs == len(df) - 2 and model.data.dropped_by == {"exposure": 2}
    assert model.exposure.shape == (len(df) - 2,)


def test_user_data_never_modified(anes, randhie):
    y, x = anes
    y0, x0 = y.copy(), x.copy()
    xa = x.to_numpy().copy()
    xa0 = xa.copy()
    res = Logit(y, x).fit()
    res.bse, res.llnull, res.predict()
    Logit(y, xa).fit()
    pd.testing.assert_series_equal(y, y0)
    pd.testing.assert_frame_equal(x, x0)
    assert np.array_equal(xa, xa0)
    df, yc, xc = randhie
    off = np.log1p(df["disea"].to_numpy())
    off0 = off.copy()
    m = Poisson(yc, xc, offset=off)
    m.fit()
    assert np.array_equal(off, off0) and m.offset is not off


def test_add_constant():
    x = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 0.0]})
    out = add_constant(x)
    assert list(out.columns) == ["const", "a", "b"] and list(x.columns) == ["a", "b"]
    assert list(add_constant(x, prepend=False).columns) == ["a", "b", "const"]
    assert list(add_constant(out).columns) == ["const", "a", "b"]          # skip
    assert list(add_constant(out, has_constant="add").columns) == ["const", "const", "a", "b"]
    with pytest.raises(ValueError, match="already a constant"):
        add_constant(out, has_constant="raise")
    arr = add_constant(np.array([[1.0], [2.0]]))
    assert isinstance(arr, np.ndarray) and arr.tolist() == [[1, 1], [1, 2]]
    assert add_constant([1.0, 2.0, 3.0]).shape == (3, 2)
    s = add_constant(pd.Series([1.0, 2.0], name="z"))
    assert list(s.columns) == ["const", "z"]


def test_predict(anes):
    res = Logit(*anes).fit()
    model, p = res.model, res.params.to_numpy()
    lin = model.predict(p, which="linear")
    close(lin, anes[1].to_numpy() @ p, 1e-12)
    close(model.predict(p), 1 / (1 + np.exp(-lin)), 1e-12)
    close(model.predict(p, exog=anes[1].iloc[:5]), 1 / (1 + np.exp(-lin[:5])), 1e-12)
    with pytest.raises(ValueError, match="which"):
        model.predict(p, which="bogus")


def test_predict_matches_dataframe_columns_by_name(anes):
    # a DataFrame with the model's columns in another order (or extra ones) used to be
    # read by position: silently wrong predictions
    res = Logit(*anes).fit()
    x = anes[1].iloc[:5]
    expected = res.predict(x)
    shuffled = x[x.columns[::-1]].assign(extra=7.0)
    close(res.predict(shuffled), expected, 1e-14)
    close(res.model.predict(res.params.to_numpy(), exog=shuffled), expected, 1e-14)
    close(res.predict(x.to_numpy()), expected, 1e-14)      # arrays: by position
    renamed = x.set_axis([f"c{i}" for i in range(6)], axis=1)  # other names: by position
    close(res.predict(renamed), expected, 1e-14)


def test_public_names():
    for name in ("LikelihoodModel", "OLS", "Logit", "Probit", "Poisson", "NegativeBinomial",
                 "add_constant", "fit_mle", "ConvergenceWarning", "ad", "datasets"):
        assert hasattr(mleopt, name), name


def test_newton_hands_over_to_trust_exact_where_not_concave():
    # Cauchy location: far from the data the log-likelihood is convex in the location,
    # so a Newton step is not a descent direction and trust-exact takes over
    z = np.array([-1.2, 0.3, 0.1, 2.0, -0.4, 0.8, 0.0, 0.5])
    res = fit_mle(lambda p: -mnp.log1p((z - p[0]) ** 2), [40.0], param_names=["loc"])
    assert res.converged and "trust-exact" in res.message
    grid = np.linspace(-2, 2, 40001)
    best = grid[np.argmax([-np.sum(np.log1p((z - g) ** 2)) for g in grid])]
    assert abs(res.params["loc"] - best) < 1e-4


def test_least_squares_paths_reach_nist_accuracy():
    from mleopt.models.linear import _least_squares, _lstsq_qr
    df = load("longley")
    r = ref.LONGLEY_NIST
    x = add_constant(df[r["exog_names"][1:]]).to_numpy(float)
    y = df[r["endog"]].to_numpy(float)
    close(_least_squares(x, y), r["params"], 1e-10)   # refined normal equations
    close(_lstsq_qr(x, y), r["params"], 1e-10)        # the QR fallback
    # a design too ill-conditioned for the normal equations goes to QR and stays accurate
    rng = np.random.default_rng(0)
    base = rng.standard_normal((200, 2))
    xx = np.column_stack([np.ones(200), base, base[:, 0] + 1e-9 * rng.standard_normal(200)])
    beta = np.array([1.0, 2.0, -1.0, 0.5])
    close(_least_squares(xx, xx @ beta), beta, 1e-6)


@pytest.mark.parametrize("method", ["newton", "bfgs"])
def test_the_hessian_at_the_estimate_comes_from_the_fit(method, monkeypatch):
    """The Hessian the optimiser already holds at the estimate (on its scale z = s * params)
    is the model's: equal to a fresh AD Hessian at the estimate, and not computed again
    (by the block loop) for the standard errors or Logit's separation check."""
    anes = mleopt.datasets.load("anes96")
    x = mleopt.add_constant(anes[["TVnews", "PID", "age", "educ", "income"]])
    calls = []
    original = Base._block_hessian

    def counted(self, *args):
        calls.append(args)
        return original(self, *args)

    monkeypatch.setattr(Base, "_block_hessian", counted)
    model = Logit(anes["vote"], x)
    res = model.fit(method=method)
    res.bse
    assert calls == []
    fresh = mleopt.ad.hessian(model.loglike)(res.params.to_numpy())
    np.testing.assert_allclose(model.hessian(res.params.to_numpy()), fresh, rtol=1e-10)
    np.testing.assert_allclose(res.cov_params().to_numpy(), np.linalg.inv(-fresh),
                               rtol=1e-10)
