"""HAC (Newey-West), two-way cluster, expected information, jackknife and bootstrap covariances.

Reference values: statsmodels 0.15.0, computed once by hand (scratch script, 2026-11-30) with
the calls written above each constant; datasets from datasets/.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mleopt import OLS, Logit, NegativeBinomial, Poisson, Probit, fit_mle
from mleopt import numpy as mnp

DATA = Path(__file__).resolve().parent.parent / "datasets"
ANES = ["const", "TVnews", "PID", "age", "educ", "income"]
LONGLEY = ["const", "GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"]


def _design(frame, cols):
    return frame.assign(const=1.0)[cols]


@pytest.fixture(scope="module")
def anes():
    a = pd.read_csv(DATA / "anes96.csv")
    return a, _design(a, ANES)


@pytest.fixture(scope="module")
def grunfeld():
    g = pd.read_csv(DATA / "grunfeld.csv")
    return g, _design(g, ["const", "value", "capital"])


# --- HAC --------------------------------------------------------------------------------------

# sm.OLS(TOTEMP, add_constant(longley rest)).fit(cov_type="HAC", cov_kwds={"maxlags": 2}).bse
LONGLEY_HAC2_BSE = [725219.9016116966, 48.449149816198975, 0.017794750507786682,
                    0.2905358367981138, 0.12164790573856915, 0.12431159024404458,
                    375.47720011057817]
# ... cov_kwds={"maxlags": 3, "use_correction": True}
LONGLEY_HAC3C_BSE = [950800.761040355, 56.941729328695025, 0.023307142692590394,
                     0.3749854093049246, 0.1594583922664455, 0.16155661176800437,
                     492.03616822041647]
# sm.Logit(vote, add_constant(anes96[TVnews PID age educ income])).fit(cov_type="HAC",
#     cov_kwds={"maxlags": 4}).bse
ANES_LOGIT_HAC4_BSE = [0.6284286659645621, 0.045885935003714476, 0.07098227275756289,
                       0.007552964102900612, 0.06869529729512086, 0.02000992864515446]
# sm.Poisson(round(invest), [const, value/1000, capital/1000]).fit(cov_type="HAC",
#     cov_kwds={"maxlags": 2}).bse   (grunfeld)
GRUNFELD_POISSON_HAC2_BSE = [0.12664564350454327, 0.0354379240887634, 0.12877406106590558]


def test_hac_ols_longley():
    d = pd.read_csv(DATA / "longley.csv")
    model = OLS(d["TOTEMP"], _design(d, LONGLEY))
    res = model.fit(cov_type="HAC", cov_kwds={"maxlags": 2})
    # Longley's condition number costs statsmodels' normal equations ~8 digits
    np.testing.assert_allclose(res.bse.iloc[:-1], LONGLEY_HAC2_BSE, rtol=1e-6)
    res = res.get_robustcov_results("HAC", maxlags=3, use_correction=True)
    np.testing.assert_allclose(res.bse.iloc[:-1], LONGLEY_HAC3C_BSE, rtol=1e-6)
    assert "3 lags, correction N/(N-k)" in str(res.summary())


def test_hac_logit_and_poisson(anes, grunfeld):
    a, x = anes
    res = Logit(a["vote"], x).fit(cov_type="HAC", cov_kwds={"maxlags": 4})
    np.testing.assert_allclose(res.bse, ANES_LOGIT_HAC4_BSE, rtol=1e-8)
    g, xg = grunfeld
    xg = xg.assign(value=xg["value"] / 1000, capital=xg["capital"] / 1000)
    res = Poisson(np.round(g["invest"]), xg).fit(cov_type="HAC", cov_kwds={"maxlags": 2})
    np.testing.assert_allclose(res.bse, GRUNFELD_POISSON_HAC2_BSE, rtol=1e-7)


def test_hac_zero_lags_is_hc0_and_hc1(anes):
    a, x = anes
    res = Logit(a["vote"], x).fit()
    hac0 = res.get_robustcov_results("HAC", maxlags=0)
    np.testing.assert_allclose(hac0.cov_params(), res.get_robustcov_results("HC0").cov_params(),
                               rtol=1e-12)
    hac0c = res.get_robustcov_results("HAC", maxlags=0, use_correction=True)
    np.testing.assert_allclose(hac0c.cov_params(),
                               res.get_robustcov_results("HC1").cov_params(), rtol=1e-12)


def test_hac_bad_options(anes):
    a, x = anes
    res = Logit(a["vote"], x).fit()
    with pytest.raises(ValueError, match="needs the number of lags"):
        res.get_robustcov_results("HAC")
    with pytest.raises(ValueError, match="integer >= 0"):
        res.get_robustcov_results("HAC", maxlags=-1)
    with pytest.raises(ValueError, match="Bartlett"):
        res.get_robustcov_results("HAC", maxlags=2, kernel="parzen")
    with pytest.raises(ValueError, match="Did you mean 'maxlags'"):
        res.get_robustcov_results("HAC", maxlag=2)
    with pytest.raises(ValueError, match="apply to cov_type='HAC' only"):
        res.get_robustcov_results("HC0", maxlags=2)


def test_hac_refused_for_blocked_model(anes):
    a, x = anes
    model = Logit(a["vote"], x)
    with pytest.raises(ValueError, match="time order in memory"):
        model.fit(block_memory=20_000, cov_type="HAC", cov_kwds={"maxlags": 2})


# --- two-way cluster --------------------------------------------------------------------------

# sm.OLS(invest, add_constant(grunfeld[value capital])).fit(cov_type="cluster",
#     cov_kwds={"groups": np.column_stack([firm codes, year])}).bse;  df_resid_inference = 10
GRUNFELD_OLS_CLUSTER2_BSE = [17.423991842930743, 0.016676470734643865, 0.08008120666928291]
# sm.Poisson(round(invest), [const, value/1000, capital/1000]).fit(cov_type="cluster",
#     cov_kwds={"groups": same two columns}).bse
GRUNFELD_POISSON_CLUSTER2_BSE = [0.3192703662046477, 0.060091194647158695, 0.07565199506649721]


def test_two_way_cluster_ols(grunfeld):
    g, x = grunfeld
    res = OLS(g["invest"], x).fit(cov_type="cluster", cov_kwds={"groups": g[["firm", "year"]]})
    np.testing.assert_allclose(res.bse.iloc[:-1], GRUNFELD_OLS_CLUSTER2_BSE, rtol=1e-10)
    # the same from two arrays and from an (N, 2) array; t uses min(G1, G2) - 1 = 10 df
    for groups in [(g["firm"], g["year"]), g[["firm", "year"]].to_numpy()]:
        other = res.get_robustcov_results("cluster", groups=groups, use_t=True)
        np.testing.assert_allclose(other.cov_params(), res.cov_params(), rtol=1e-12)
        assert other.df_t == 10
    assert "two-way cluster-robust" in str(res.summary())
    # V1 + V2 - V12
    firm = res.get_robustcov_results("cluster", groups=g["firm"]).cov_params()
    year = res.get_robustcov_results("cluster", groups=g["year"]).cov_params()
    both = res.get_robustcov_results("cluster", groups=g["firm"] + g["year"].astype(str))
    np.testing.assert_allclose(res.cov_params(), firm + year - both.cov_params(), rtol=1e-12)


def test_two_way_cluster_poisson(grunfeld):
    g, x = grunfeld
    x = x.assign(value=x["value"] / 1000, capital=x["capital"] / 1000)
    res = Poisson(np.round(g["invest"]), x).fit(cov_type="cluster",
                                                cov_kwds={"groups": (g["firm"], g["year"])})
    np.testing.assert_allclose(res.bse, GRUNFELD_POISSON_CLUSTER2_BSE, rtol=1e-8)


def test_two_way_cluster_bad_groups(grunfeld):
    g, x = grunfeld
    res = OLS(g["invest"], x).fit()
    with pytest.raises(ValueError, match="one label per observation, or two"):
        res.get_robustcov_results("cluster", groups=np.zeros((220, 3)))
    bad = g["year"].astype(float).copy()
    bad.iloc[3] = np.nan
    with pytest.raises(ValueError, match=r"\(column 1\) contain 1 missing"):
        res.get_robustcov_results("cluster", groups=(g["firm"], bad))


# --- expected information -----------------------------------------------------------------------

# sm.GLM(vote, X, family=Binomial(link=Probit())).fit(tol=1e-12).bse  (Fisher scoring: EIM)
ANES_PROBIT_EIM_BSE = [0.31953363266760215, 0.02461794679237265, 0.03375608266400398,
                       0.0041089881954155475, 0.04101727830447371, 0.01118626727556112]
# sm.GLM(TVnews, [const PID age educ income], family=NegativeBinomial(alpha=alpha_hat)).bse,
# alpha_hat = 0.293173 from sm.NegativeBinomial(...).fit(); glm.nb's coefficient covariance
ANES_NB_EIM_BSE = [0.12363963971849286, 0.011093554206513189, 0.0014922767107362937,
                   0.01667438973888422, 0.004558415356358339]


def test_eim_probit_and_nb(anes):
    a, x = anes
    res = Probit(a["vote"], x).fit(cov_type="eim")
    np.testing.assert_allclose(res.bse, ANES_PROBIT_EIM_BSE, rtol=1e-7)
    assert "expected information" in str(res.summary())
    nb = NegativeBinomial(a["TVnews"], x.drop(columns="TVnews")).fit(cov_type="eim")
    # the reference's alpha comes from statsmodels' BFGS fit (agrees to ~3e-7)
    np.testing.assert_allclose(nb.bse.iloc[:-1], ANES_NB_EIM_BSE, rtol=2e-6)
    # alpha: its own observed information, uncorrelated with beta (R glm.nb's theta SE)
    h = nb.hessian.to_numpy()
    assert nb.bse["alpha"] == pytest.approx(1 / np.sqrt(-h[-1, -1]), rel=1e-12)
    assert np.all(nb.cov_params().to_numpy()[-1, :-1] == 0)


# randhie rows 0..799, X = [const lncoins idp lpi fmde physlm disea], w = 1 + (row % 3):
# sm.GLM((mdvis > 2), X, family=Binomial(link=Probit()), freq_weights=w).fit(tol=1e-13).bse
RANDHIE_PROBIT_FW_EIM_BSE = [0.09180311823284737, 0.026304689399481305, 0.12482246636793792,
                             0.017612921948428284, 0.016989638218820467, 0.10375007928635294,
                             0.005346683606133435]
# sm.GLM(mdvis, X, family=NegativeBinomial(alpha=1.1560254514695205),
#        var_weights=w * 800 / w.sum()).fit(tol=1e-13).bse  (alpha: the weighted NB2 MLE)
RANDHIE_NB_VW_EIM_BSE = [0.11866866395323103, 0.03534918728837842, 0.16594478184928893,
                         0.023183913484085262, 0.022568723593063507, 0.1316996821549951,
                         0.006747264843630484]


def test_eim_with_observation_weights():
    """E[H] of the weighted log-likelihood sum_i w_i l_i weights each row's term (it used
    to ignore the weights: fweight standard errors sqrt(mean w) too small)."""
    d = pd.read_csv(DATA / "randhie.csv").iloc[:800]
    x = _design(d, ["const", "lncoins", "idp", "lpi", "fmde", "physlm", "disea"])
    w = 1.0 + np.arange(800) % 3
    res = Probit((d["mdvis"] > 2).astype(float), x, freq_weights=w).fit(cov_type="eim")
    np.testing.assert_allclose(res.bse, RANDHIE_PROBIT_FW_EIM_BSE, rtol=1e-7)
    nb = NegativeBinomial(d["mdvis"], x, var_weights=w).fit(cov_type="eim")
    assert nb.params["alpha"] == pytest.approx(1.1560254514695205, rel=1e-7)
    np.testing.assert_allclose(nb.bse.iloc[:-1], RANDHIE_NB_VW_EIM_BSE, rtol=1e-7)


def test_eim_equals_oim_for_canonical_links(anes):
    """Logit and Poisson have canonical links: the Hessian does not involve y, so E[H] = H."""
    a, x = anes
    res = Logit(a["vote"], x).fit()
    np.testing.assert_allclose(res.get_robustcov_results("eim").cov_params(),
                               res.cov_params(), rtol=1e-9)
    pois = Poisson(a["TVnews"], x.drop(columns="TVnews")).fit()
    np.testing.assert_allclose(pois.get_robustcov_results("eim").cov_params(),
                               pois.cov_params(), rtol=1e-9)


def test_eim_refused_without_expected_information(anes):
    a, x = anes
    nb1 = NegativeBinomial(a["TVnews"], x.drop(columns="TVnews"), loglike_method="nb1").fit()
    nb1_refused = r"NegativeBinomial\(loglike_method=.nb1.\) is not defined here"
    with pytest.raises(ValueError, match=nb1_refused):
        nb1.get_robustcov_results("eim")
    y = a["vote"].to_numpy(float)
    fit = fit_mle(lambda p: -0.5 * (y - p[0]) ** 2, [0.0], param_names=["mu"])
    with pytest.raises(ValueError, match="expected_hessian"):
        fit.get_robustcov_results("eim")


# --- jackknife and bootstrap --------------------------------------------------------------------

def test_jackknife_ols_matches_closed_form(grunfeld):
    """Delete-one jackknife of OLS coefficients, closed form (MacKinnon & White 1985):
    (N-1)/N [B X' diag(u^2) X B - (1/N) B X'u u'X B], u_i = e_i / (1 - h_i), B = (X'X)^-1."""
    g, x = grunfeld
    g, x = g.iloc[:60], x.iloc[:60]
    calls = []
    res = OLS(g["invest"], x).fit(cov_type="jackknife",
                                  cov_kwds={"progress": lambda d, t: calls.append((d, t))})
    X, y = x.to_numpy(), g["invest"].to_numpy()
    b = np.linalg.inv(X.T @ X)
    e = y - X @ (b @ X.T @ y)
    u = e / (1 - np.einsum("ij,jk,ik->i", X, b, X))
    n = len(y)
    xu = X.T @ u
    ref = (n - 1) / n * (b @ (X.T * u ** 2) @ X @ b - b @ np.outer(xu, xu) @ b / n)
    np.testing.assert_allclose(res.cov_params().to_numpy()[:3, :3], ref, rtol=1e-7)
    assert calls[-1] == (60, 60) and len(calls) == 60
    assert "jackknife" in str(res.summary())


def test_resampling_with_frequency_weights_equals_replicated_rows(grunfeld):
    """fweights: the units resampled are the sum(w) observations the rows stand for (these
    raised IndexError: the copies were taken as row indices)."""
    g, x = grunfeld
    g, x = g.iloc[:30], x.iloc[:30] / [1.0, 1000.0, 1000.0]
    y = np.round(g["invest"].to_numpy())
    w = 1.0 + np.arange(30) % 3
    rep = np.repeat(np.arange(30), w.astype(int))
    weighted = Poisson(y, x, freq_weights=w).fit()
    copies = Poisson(y[rep], x.to_numpy()[rep]).fit()
    for cov_type, kw in (("jackknife", {}), ("bootstrap", {"reps": 20, "seed": 5})):
        a = weighted.get_robustcov_results(cov_type, **kw).cov_params().to_numpy()
        b = copies.get_robustcov_results(cov_type, **kw).cov_params().to_numpy()
        np.testing.assert_allclose(a, b, rtol=1e-6)


# randhie rows 0..199, X = [const lncoins idp lpi physlm disea], w = 1 + (row % 3):
# sm.GLM(mdvis, X, family=Poisson(), var_weights=w).fit(cov_type="HAC",
#        cov_kwds={"maxlags": 2, "use_correction": True}).bse
RANDHIE_POISSON_PW_HAC2C_BSE = [0.25029709565261915, 0.13534768278141102, 0.4043004107532155,
                                0.09563553560566368, 0.44097368295900485, 0.01975427852506812]


def test_hac_with_weights():
    d = pd.read_csv(DATA / "randhie.csv").iloc[:200]
    x = _design(d, ["const", "lncoins", "idp", "lpi", "physlm", "disea"])
    w = 1.0 + np.arange(200) % 3
    res = Poisson(d["mdvis"], x, pweights=w).fit(
        cov_type="HAC", cov_kwds={"maxlags": 2, "use_correction": True})
    np.testing.assert_allclose(res.bse, RANDHIE_POISSON_PW_HAC2C_BSE, rtol=1e-7)
    # a row standing for w_i observations has no place in a time order: refused by name
    # (it said the model was "evaluated in row blocks")
    with pytest.raises(ValueError, match="not defined with frequency weights"):
        Poisson(d["mdvis"], x, freq_weights=w).fit(cov_type="HAC", cov_kwds={"maxlags": 2})


def _simulated_logit(n, seed=0):
    rng = np.random.default_rng(seed)
    x = np.column_stack([np.ones(n), rng.normal(size=n), rng.uniform(-1, 1, size=n)])
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(x @ [0.3, 1.0, -0.5])))).astype(float)
    return Logit(y, x).fit()


def test_bootstrap_seeded_and_close_to_sandwich():
    res = _simulated_logit(3000)
    a = res.get_robustcov_results("bootstrap", reps=200, seed=7)
    b = res.get_robustcov_results("bootstrap", reps=200, seed=7)
    c = res.get_robustcov_results("bootstrap", reps=200, seed=8)
    np.testing.assert_array_equal(a.cov_params(), b.cov_params())
    assert not np.array_equal(a.cov_params(), c.cov_params())
    # 200 replications: the bootstrap SE is within ~5% (sd 1/sqrt(2*200)) of the sandwich's
    hc0 = res.get_robustcov_results("HC0").bse
    np.testing.assert_allclose(a.bse, hc0, rtol=0.15)
    assert "(200 refits on resampled rows, seed 7)" in a._spec.description


def test_resampling_bad_options():
    res = _simulated_logit(200)
    with pytest.raises(ValueError, match="integer >= 2"):
        res.get_robustcov_results("bootstrap", reps=1)
    with pytest.raises(TypeError, match="progress"):
        res.get_robustcov_results("jackknife", progress="bar")
    with pytest.raises(ValueError, match="apply to cov_type='bootstrap' only"):
        res.get_robustcov_results("jackknife", reps=20)


# --- marginal effects at="median" | "zero", atexog ----------------------------------------------

# sm.Logit(vote, add_constant(anes96[TVnews PID age educ income])).fit()
#   .get_margeff(at="median") / (at="zero") / (at="overall", atexog={2: 1.0}): margeff, margeff_se
LOGIT_MEDIAN = [0.0011723992020007238, 0.13659355205327414, 0.0012932917671592927,
                0.0016550502239344423, 0.003482488392973405]
LOGIT_MEDIAN_SE = [0.00512302192163487, 0.013391934213199995, 0.0008634412537704343,
                   0.008583676399219047, 0.002441391935923768]
LOGIT_ZERO = [4.326712305819466e-05, 0.005040953640670664, 4.772863538659813e-05,
              6.107924807886378e-05, 0.00012852043364613435]
LOGIT_ZERO_SE = [0.0001898828969757617, 0.0029872092341688755, 2.9012266939732555e-05,
                 0.00030543711489637815, 9.312406394397827e-05]
LOGIT_OVERALL_PID1 = [0.00044174856977344197, 0.05146711645388066, 0.00048729970769975975,
                      0.0006236067613135433, 0.0013121676168179964]
LOGIT_OVERALL_PID1_SE = [0.0019388820326693918, 0.007747877383218207, 0.0003437475582908306,
                         0.003259847517046648, 0.0009298092262161961]
#   .get_margeff(at="median", atexog={3: 30.0})
LOGIT_MEDIAN_AGE30 = [0.0010367981940202142, 0.12079498846635457, 0.0011437081893639317,
                      0.0014636252568746813, 0.003079699875579543]
LOGIT_MEDIAN_AGE30_SE = [0.004563846611758909, 0.01693667947156479, 0.0006704001282649932,
                         0.007580392999141496, 0.0021766913713391098]
# sm.Poisson(TVnews, add_constant(anes96[PID age educ income])).fit().get_margeff(at="median")
POISSON_MEDIAN = [-0.05977291303175628, 0.05810763505671861, 0.037547847461551855,
                  -0.0036075934634500935]
POISSON_MEDIAN_SE = [0.026325646766809464, 0.003160638616804666, 0.03848267240913747,
                     0.010736368005088176]


@pytest.fixture(scope="module")
def anes_logit(anes):
    a, x = anes
    return Logit(a["vote"], x).fit()


@pytest.mark.parametrize("kw, value, se", [
    ({"at": "median"}, LOGIT_MEDIAN, LOGIT_MEDIAN_SE),
    ({"at": "zero"}, LOGIT_ZERO, LOGIT_ZERO_SE),
    ({"atexog": {2: 1.0}}, LOGIT_OVERALL_PID1, LOGIT_OVERALL_PID1_SE),
    ({"atexog": {"PID": 1.0}}, LOGIT_OVERALL_PID1, LOGIT_OVERALL_PID1_SE),
    ({"at": "median", "atexog": {"age": 30.0}}, LOGIT_MEDIAN_AGE30, LOGIT_MEDIAN_AGE30_SE),
])
def test_margeff_at_and_atexog(anes_logit, kw, value, se):
    me = anes_logit.get_margeff(**kw)
    np.testing.assert_allclose(me.margeff, value, rtol=1e-8)
    np.testing.assert_allclose(me.margeff_se, se, rtol=1e-7)


def test_margeff_median_poisson(anes):
    a, x = anes
    me = Poisson(a["TVnews"], x.drop(columns="TVnews")).fit().get_margeff(at="median")
    np.testing.assert_allclose(me.margeff, POISSON_MEDIAN, rtol=1e-7)
    np.testing.assert_allclose(me.margeff_se, POISSON_MEDIAN_SE, rtol=1e-6)


def test_margeff_user_model_through_its_predict(anes):
    from mleopt import LikelihoodModel, special

    class MyLogit(LikelihoodModel):
        def loglikeobs(self, params):
            return special.log_expit((2 * self.endog - 1) * mnp.matmul(self.exog, params))

        def predict(self, params, exog=None, which="mean"):
            x = self.exog if exog is None else exog
            return special.expit(mnp.matmul(x, params))

    a, x = anes
    res = MyLogit(a["vote"], x).fit()
    for kw, value, se in [({"at": "median"}, LOGIT_MEDIAN, LOGIT_MEDIAN_SE),
                          ({"at": "zero", "atexog": {}}, LOGIT_ZERO, LOGIT_ZERO_SE)]:
        me = res.get_margeff(**kw)
        np.testing.assert_allclose(me.margeff, value, rtol=1e-7)
        np.testing.assert_allclose(me.margeff_se, se, rtol=1e-6)
    assert "At:" in str(me.summary()) and "zero" in str(me.summary())


def test_margeff_bad_requests(anes_logit):
    with pytest.raises(ValueError, match="at must be one of"):
        anes_logit.get_margeff(at="max")
    with pytest.raises(ValueError, match="Did you mean 'PID'"):
        anes_logit.get_margeff(atexog={"PIDD": 1})
    with pytest.raises(ValueError, match="not a position"):
        anes_logit.get_margeff(atexog={9: 1})
    with pytest.raises(ValueError, match="one value per row"):
        anes_logit.get_margeff(at="mean", atexog={"PID": [1.0, 2.0]})
    y = np.array([0.0, 1.0, 2.0])
    fit = fit_mle(lambda p: -0.5 * (y - p[0]) ** 2, [0.0], param_names=["mu"])
    with pytest.raises(ValueError, match="has no exog"):
        fit.get_margeff()


def test_two_way_cluster_and_bootstrap_in_row_blocks(anes, anes_logit):
    """A model evaluated in row blocks gives the same two-way cluster and bootstrap
    covariances (score sums per group block by block; refits on the same draws)."""
    a, x = anes
    blocked = Logit(a["vote"], x).fit(block_memory=20_000)
    groups = (a["educ"], a["income"])
    np.testing.assert_allclose(
        blocked.get_robustcov_results("cluster", groups=groups).cov_params(),
        anes_logit.get_robustcov_results("cluster", groups=groups).cov_params(),
        rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(
        blocked.get_robustcov_results("bootstrap", reps=10, seed=3).cov_params(),
        anes_logit.get_robustcov_results("bootstrap", reps=10, seed=3).cov_params(),
        rtol=1e-6, atol=1e-12)
