"""Results against reference values: statsmodels 0.15 and NIST StRD (tests/references.py).

Conventions checked here (documented in mleopt/results.py and mleopt/covariance.py):
* HC1 = HC0 * N / (N - k). statsmodels' discrete models apply no factor (their HC1 equals
  HC0), so for Logit/Probit the reference is statsmodels' HC0 times the factor.
* OLS aic/bic count sigma (as R's AIC does); statsmodels' OLS does not: +2 and +log(N).
* OLS nonrobust standard errors use the ML variance SSR/N; classical ones SSR/(N-K).
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import references as ref
from mleopt import OLS, Logit, NegativeBinomial, Poisson, Probit

DATA = Path(__file__).resolve().parents[1] / "datasets"


def load(name):
    return pd.read_csv(DATA / f"{name}.csv")


def design(df, endog, cols):
    x = df[cols].astype(float).copy()
    x.insert(0, "const", 1.0)
    return df[endog], x


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.max(np.abs(a - b) / np.abs(b))


def close(a, b, rtol):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=0)


# =======================================================================================
# fits, shared by the tests of one module
# =======================================================================================

@pytest.fixture(scope="module")
def anes():
    return design(load("anes96"), "vote", ref.ANES96_LOGIT["exog_names"][1:])


@pytest.fixture(scope="module")
def logit(anes):
    return Logit(*anes).fit()


@pytest.fixture(scope="module")
def probit(anes):
    return Probit(*anes).fit()


@pytest.fixture(scope="module")
def randhie():
    return design(load("randhie"), "mdvis", ref.RANDHIE_POISSON["exog_names"][1:])


@pytest.fixture(scope="module")
def poisson(randhie):
    return Poisson(*randhie).fit()


@pytest.fixture(scope="module")
def negbin(randhie):
    return NegativeBinomial(*randhie).fit()


@pytest.fixture(scope="module")
def grunfeld():
    df = load("grunfeld")
    return design(df, "invest", ["value", "capital"]), df["firm"].to_numpy()


@pytest.fixture(scope="module")
def grunfeld_ols(grunfeld):
    return OLS(*grunfeld[0]).fit(cov_type="classical")


# =======================================================================================
# binary models
# =======================================================================================

@pytest.mark.parametrize("which", ["logit", "probit"])
def test_binary_estimates_and_fit_statistics(which, request):
    res, r = request.getfixturevalue(which), getattr(ref, f"ANES96_{which.upper()}")
    assert list(res.params.index) == r["exog_names"]
    close(res.params, r["params"], 1e-6)
    close(res.bse, r["bse"], 1e-5)
    close(res.tvalues, r["tvalues"], 1e-5)
    close(res.pvalues, r["pvalues"], 1e-4)
    close(res.conf_int(), r["conf_int"], 1e-5)
    for name in ("llf", "llnull", "aic", "bic", "prsquared", "llr"):
        close(getattr(res, name), r[name], 1e-8)
    close(res.llr_pvalue, r["llr_pvalue"], 1e-6)
    assert res.nobs == r["nobs"] and res.df_model == r["df_model"]
    assert res.df_resid == r["df_resid"]
    assert res.cov_type == "nonrobust" and res.converged is True


@pytest.mark.parametrize("which", ["logit", "probit"])
def test_binary_sandwich(which, request):
    res, r = request.getfixturevalue(which), getattr(ref, f"ANES96_{which.upper()}")
    hc0 = res.get_robustcov_results("HC0")
    close(hc0.bse, r["bse_HC0"], 1e-5)
    close(hc0.pvalues, r["pvalues_HC0"], 1e-4)
    n, k = r["nobs"], len(r["params"])
    hc1 = res.get_robustcov_results("HC1")
    close(hc1.bse, np.asarray(r["bse_HC1"]) * np.sqrt(n / (n - k)), 1e-5)
    assert res.cov_type == "nonrobust"              # the original is untouched
    close(res.bse, r["bse"], 1e-5)


@pytest.mark.parametrize("which", ["logit", "probit"])
def test_binary_margeff(which, request):
    res, r = request.getfixturevalue(which), getattr(ref, f"ANES96_{which.upper()}")
    me = res.get_margeff()
    assert list(me.margeff.index) == r["margeff_names"]     # the constant is excluded
    close(me.margeff, r["margeff"], 1e-5)
    close(me.margeff_se, r["margeff_se"], 1e-5)
    me_mean = res.get_margeff(at="mean")
    close(me_mean.margeff, r["margeff_at_mean"], 1e-5)
    close(me_mean.margeff_se, r["margeff_at_mean_se"], 1e-5)
    frame = me.summary_frame()
    assert list(frame.columns[:2]) == ["dy/dx", "std err"]
    close(frame["dy/dx"], r["margeff"], 1e-5)
    ci = me.conf_int()
    assert np.all(ci[0] < me.margeff) and np.all(me.margeff < ci[1])
    assert "PID" in me.summary().as_text()


def test_margeff_methods_are_consistent(logit):
    """eyex = mean(dydx_i x_i / mu_i): check the elasticity against its definition."""
    dydx = logit.get_margeff(at="mean")
    eyex = logit.get_margeff(at="mean", method="eyex")
    x = logit.model.exog.mean(axis=0)
    mu = float(logit.predict(x[None, :])[0])
    close(eyex.margeff, dydx.margeff * x[1:] / mu, 1e-10)
    with pytest.raises(ValueError, match="method"):
        logit.get_margeff(method="dxdy")


# =======================================================================================
# count models
# =======================================================================================

def test_poisson(poisson):
    r = ref.RANDHIE_POISSON
    close(poisson.params, r["params"], 1e-6)
    close(poisson.bse, r["bse"], 1e-5)
    for name in ("llf", "llnull", "aic", "bic", "prsquared"):
        close(getattr(poisson, name), r[name], 1e-8)
    close(poisson.get_robustcov_results("HC0").bse, r["bse_HC0"], 1e-5)
    me = poisson.get_margeff()
    assert list(me.margeff.index) == r["margeff_names"]
    close(me.margeff, r["margeff"], 1e-5)
    close(me.margeff_se, r["margeff_se"], 1e-5)


def test_negative_binomial(negbin):
    r = ref.RANDHIE_NEGBIN
    assert list(negbin.params.index) == r["param_names"]
    close(negbin.params, r["params"], 1e-6)
    close(negbin.bse, r["bse"], 1e-5)
    close(negbin.tvalues, r["tvalues"], 1e-5)
    close(negbin.conf_int(), r["conf_int"], 1e-5)
    for name in ("llf", "aic", "bic"):                      # aic/bic count alpha (k = 11)
        close(getattr(negbin, name), r[name], 1e-8)
    close(negbin.llnull, r["llnull_exact"], 1e-8)
    close(negbin.prsquared, 1 - r["llf"] / r["llnull_exact"], 1e-8)
    me = negbin.get_margeff()
    assert "alpha" not in me.margeff.index and "const" not in me.margeff.index
    # E[y] = exp(x b) as for Poisson: the average effect is mean(mu) * b_j
    mu = negbin.fittedvalues
    close(me.margeff, mu.mean() * negbin.params.iloc[1:-1], 1e-10)


# =======================================================================================
# OLS
# =======================================================================================

def test_longley_nist_classical():
    df = load("longley")
    r = ref.LONGLEY_NIST
    res = OLS(*design(df, r["endog"], r["exog_names"][1:])).fit(cov_type="classical")
    coefs = res.params.iloc[:-1]
    assert list(coefs.index) == r["exog_names"]
    close(coefs, r["params"], 1e-8)
    close(res.bse.iloc[:-1], r["bse"], 1e-8)
    close(np.sqrt(res.scale), r["resid_sd"], 1e-8)
    close(res.rsquared, r["rsquared"], 1e-8)
    assert res.use_t and res.df_t == 9


def test_grunfeld_classical(grunfeld_ols):
    res, r = grunfeld_ols, ref.GRUNFELD_OLS
    assert list(res.params.index) == r["exog_names"] + ["sigma"]
    close(res.params.iloc[:-1], r["params"], 1e-8)
    close(res.params["sigma"], r["sigma_ml"], 1e-8)
    close(res.bse.iloc[:-1], r["bse"], 1e-8)
    close(res.tvalues.iloc[:-1], r["tvalues"], 1e-8)
    close(res.pvalues.iloc[:-1], r["pvalues"], 1e-6)           # t(N - K), as statsmodels
    close(res.conf_int().iloc[:-1], r["conf_int"], 1e-8)
    for name in ("rsquared", "rsquared_adj", "ssr", "scale", "llf", "fvalue"):
        close(getattr(res, name), r[name], 1e-8)
    close(res.aic, r["aic"] + 2, 1e-10)                     # sigma counted, as R's AIC
    close(res.bic, r["bic"] + np.log(r["nobs"]), 1e-10)
    # nonrobust: the inverse AD Hessian, i.e. the ML variance SSR / N
    close(res.get_robustcov_results("nonrobust").bse.iloc[:-1], r["bse_ml_scale"], 1e-7)


@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC2", "HC3"])
def test_grunfeld_hc(grunfeld_ols, cov_type):
    res = grunfeld_ols.get_robustcov_results(cov_type)
    close(res.bse.iloc[:-1], ref.GRUNFELD_OLS[f"bse_{cov_type}"], 1e-8)
    assert np.isfinite(res.bse["sigma"]) and not res.use_t


def test_grunfeld_cluster(grunfeld, grunfeld_ols):
    r = ref.GRUNFELD_OLS
    (y, x), firm = grunfeld
    res = OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": firm})
    close(res.bse.iloc[:-1], r["bse_cluster"], 1e-8)
    close(res.tvalues.iloc[:-1], r["tvalues_cluster"], 1e-8)
    close(res.pvalues.iloc[:-1], r["pvalues_cluster"], 1e-6)        # normal, statsmodels' default
    close(res.conf_int().iloc[:-1], r["conf_int_cluster"], 1e-8)
    res_t = grunfeld_ols.get_robustcov_results("cluster", groups=firm, use_t=True)
    assert res_t.df_t == r["df_cluster_t"]                        # G - 1
    close(res_t.pvalues.iloc[:-1], r["pvalues_cluster_t"], 1e-6)
    close(res_t.conf_int().iloc[:-1], r["conf_int_cluster_t"], 1e-8)


# statsmodels 0.15.0: sm.OLS(invest, [const, value, capital]).fit(cov_type=...) .fvalue and
# .f_pvalue: with a robust covariance, the Wald F of the slopes with that covariance,
# F(2, G - 1) for cluster and F(2, N - K) for HC. (Before, the non-robust ANOVA F 487.28
# was reported whatever the covariance.)
GRUNFELD_ROBUST_F = {"cluster": (47.9502337365571, 7.507764025627451e-06),
                     "HC0": (185.24034534160083, 1.1751028275043173e-47),
                     "HC3": (153.91965293205405, 2.4155825479485957e-42)}


@pytest.mark.parametrize("cov_type", sorted(GRUNFELD_ROBUST_F))
def test_grunfeld_fvalue_uses_the_robust_covariance(grunfeld, grunfeld_ols, cov_type):
    firm = grunfeld[1]
    kwds = {"groups": firm} if cov_type == "cluster" else {}
    res = grunfeld_ols.get_robustcov_results(cov_type, **kwds)
    fvalue, f_pvalue = GRUNFELD_ROBUST_F[cov_type]
    close(res.fvalue, fvalue, 1e-8)
    close(res.f_pvalue, f_pvalue, 1e-6)
    assert f"{fvalue:.4f}" in res.summary().as_text()
    close(grunfeld_ols.fvalue, ref.GRUNFELD_OLS["fvalue"], 1e-8)   # classical: ANOVA F


@pytest.mark.parametrize("name", ["ENGEL_OLS", "STATECRIME_OLS"])
def test_small_ols_classical(name):
    r = getattr(ref, name)
    dataset = {"ENGEL_OLS": "engel", "STATECRIME_OLS": "statecrime"}[name]
    res = OLS(*design(load(dataset), r["endog"], r["exog_names"][1:])).fit(cov_type="classical")
    close(res.params.iloc[:-1], r["params"], 1e-8)
    close(res.bse.iloc[:-1], r["bse"], 1e-8)
    close(res.pvalues.iloc[:-1], r["pvalues"], 1e-6)
    for stat in ("rsquared", "rsquared_adj", "ssr", "llf", "fvalue"):
        close(getattr(res, stat), r[stat], 1e-8)


@pytest.mark.parametrize("which, at, kind", [
    ("logit", "overall", "count"), ("logit", "mean", "count"), ("poisson", "overall", "dummy")])
def test_margeff_discrete_changes(which, at, kind, request):
    """count=True: centred unit changes; dummy=True: E[y | 1] - E[y | 0] (statsmodels)."""
    res = request.getfixturevalue(which)
    r = ref.MARGEFF_DISCRETE[f"{'anes96' if which == 'logit' else 'randhie'}_{which}_"
                             f"{kind}_{at}"]
    m = res.get_margeff(at=at, **{kind: True})
    close(m.margeff, r["margeff"], 1e-8)
    close(m.margeff_se, r["margeff_se"], 1e-7)
    with pytest.raises(ValueError, match="method='dydx'"):
        res.get_margeff(method="eyex", **{kind: True})
