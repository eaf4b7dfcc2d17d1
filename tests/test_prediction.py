"""get_prediction (mleopt.prediction), residuals (mleopt.residuals) and PPML.

References computed once with statsmodels 0.15 (scratch script, not imported here) on
datasets/anes96.csv, x = const, PID, age, rows 0, 5, 100: the discrete models'
``get_prediction(which=...)`` (predicted and se: their delta method; statsmodels builds the
interval of the *mean* by transforming the linear predictor's, mleopt keeps the delta
interval, so intervals are checked against their formula), OLS ``get_prediction`` (whole
summary frame, t(N - k)), GLM residuals (Binomial, Binomial-probit, Poisson, Gaussian,
NegativeBinomial(alpha = mleopt's NB2 estimate)), discrete ``resid_generalized``, and
GLM(Poisson, cov_type="HC0") on a non-integer outcome of datasets/randhie.csv (PPML).
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mleopt import (OLS, LikelihoodModel, Logit, NegativeBinomial, Poisson, Probit,
                    add_constant)
from mleopt import numpy as mnp
from mleopt.exceptions import DataError

DATA = Path(__file__).resolve().parents[1] / "datasets"
ANES = pd.read_csv(DATA / "anes96.csv")
X = add_constant(ANES[["PID", "age"]])
ROWS = [0, 5, 100]
NEW = X.iloc[ROWS]

# statsmodels 0.15 get_prediction(NEW, which=...): [predicted, se]
LOGIT_MEAN = [[0.948178491712339, 0.03221517055034, 0.019537304910636],
              [0.010508484056353, 0.009006896332627, 0.007127380206342]]
LOGIT_LINEAR = [[2.906737485934251, -3.40257230223673, -3.915698887771254],
                [0.213865100831757, 0.288892268543175, 0.372078176461842]]
LOGIT_VAR = [[0.049136039566453, 0.031177353336753, 0.019155598627465],
             [0.009419353069119, 0.008426578929657, 0.006848880605732]]
POIS_MEAN = [[2.817476185518458, 2.383852582845997, 6.99533736851483],
             [0.093264272472283, 0.087614816348754, 0.286384286180766]]
NB_MEAN = [[2.78350109105805, 2.353327809701995, 7.158411630131078],
           [0.130861017354806, 0.122634048118638, 0.467319519143812]]
NB_VAR = [[5.057714933152544, 3.978926575059537, 22.199589353464944],
          [0.424308057263127, 0.341393373463264, 2.970878790567122]]
# statsmodels 0.15 OLS(age, const + PID).get_prediction: mean, mean_se, mean_ci_lower/upper
OLS_FRAME = [[47.22646339027343, 46.93665889443627, 46.87869799526884],
             [0.915666239720233, 0.688480622287705, 0.856454536051438],
             [45.42948166922989, 45.585525654095676, 45.19791838428363],
             [49.023445111316974, 48.287792134776865, 48.55947760625404]]
# statsmodels 0.15 GLM residuals at rows ROWS: response, pearson, deviance, anscombe
LOGIT_RESID = [[0.051821508287661, -0.03221517055034, -0.019537304910636],
               [0.233781410594293, -0.182448716465356, -0.141161670820505],
               [0.326228484510594, -0.255912094441085, -0.198648840385407],
               [0.346940247157131, -0.271880791480433, -0.210906946394887]]
PROBIT_RESID = [[0.051533334093127, -0.032048239192689, -0.015487215796499],
                [0.233095068048006, -0.181959707306144, -0.12542265645757],
                [0.325295663156629, -0.255237249726812, -0.17668274114271],
                [0.345942936478066, -0.271161496014755, -0.18754669292586]]
POIS_RESID = [[4.182523814481538e+00, 6.161474171539996e-01, 4.662631485161661e-03],
              [2.491771966269846e+00, 3.990661899959960e-01, 1.762896273903872e-03],
              [2.091868364427792e+00, 3.834989312642015e-01, 1.762700489435199e-03],
              [2.100829848745150e+00, 3.835956213141470e-01, 1.762700493457681e-03]]
OLS_RESID = [[4.215931564326284, 0.888898962125209, 0.620553113243533],   # y = TVnews
             [4.215931564326284, 0.888898962125209, 0.620553113243533],
             [4.215931564326284, 0.888898962125209, 0.620553113243533],
             [1.726870546422332, 0.364098281250138, 0.254182231708542]]
NB_RESID = [[4.216498907877861, 0.646672189198014, -0.158411623696189],
            [1.874885793086162, 0.324191199593303, -0.033621305685762],
            [1.448675753552914, 0.305485316654703, -0.03383164569967],
            [1.443289252991265, 0.305438976884758, -0.033831548169185]]
# statsmodels 0.15 Logit / Probit resid_generalized at ROWS
LOGIT_GEN = [0.051821508287661, -0.03221517055034, -0.019537304910636]
PROBIT_GEN = [0.111386565031086, -0.074243370971328, -0.039536945125852]
# statsmodels 0.15 GLM(exp(lncoins) / 10, const + idp + lpi + physlm, Poisson(), HC0)
PPML_PARAMS = [-0.158982643935465, -0.40339623048992, 0.235333078374985, -0.035471005662439]
PPML_BSE_HC0 = [0.044846433305873, 0.026794605517325, 0.007190443409336, 0.026841002751384]


def close(a, b, rtol):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=0)


@pytest.mark.parametrize("cls, y, which, ref, rtol", [
    (Logit, "vote", "mean", LOGIT_MEAN, 1e-7), (Logit, "vote", "linear", LOGIT_LINEAR, 1e-7),
    (Logit, "vote", "var", LOGIT_VAR, 1e-7), (Poisson, "TVnews", "mean", POIS_MEAN, 1e-7),
    (NegativeBinomial, "TVnews", "mean", NB_MEAN, 1e-5),
    (NegativeBinomial, "TVnews", "var", NB_VAR, 1e-5)])
def test_get_prediction_matches_statsmodels(cls, y, which, ref, rtol):
    pred = cls(ANES[y], X).fit().get_prediction(NEW, which=which)
    close(pred.predicted, ref[0], rtol)
    close(pred.se, ref[1], rtol)
    assert list(pred.predicted.index) == ROWS
    frame = pred.summary_frame(alpha=0.1)
    assert list(frame.columns) == ["mean", "mean_se", "mean_ci_lower", "mean_ci_upper"]
    q = stats.norm.ppf(0.95)
    close(frame["mean_ci_upper"], np.asarray(ref[0]) + q * np.asarray(ref[1]), rtol)
    close(pred.conf_int(0.1), frame[["mean_ci_lower", "mean_ci_upper"]], 1e-14)


def test_ols_prediction_frame_matches_statsmodels_with_t():
    xo = X[["const", "PID"]]
    res = OLS(ANES["age"], xo).fit(cov_type="classical")
    frame = res.get_prediction(xo.iloc[ROWS]).summary_frame()
    close(frame.to_numpy().T, OLS_FRAME, 1e-9)
    by_dict = res.get_prediction({"PID": ANES["PID"].iloc[ROWS], "const": 1.0})
    close(by_dict.predicted, OLS_FRAME[0], 1e-12)
    close(res.predict({"const": 1.0, "PID": ANES["PID"].iloc[ROWS].to_numpy()}),
          OLS_FRAME[0], 1e-12)
    close(res.predict({"PID": 1, "const": 1}), OLS_FRAME[0][1:2], 1e-12)   # PID of row 5


def test_prediction_options_and_the_sample():
    """exposure reaches predict; exog=None predicts the estimation rows on their labels."""
    res = Poisson(ANES["TVnews"], X).fit()
    doubled = res.get_prediction(NEW, exposure=2.0)
    close(doubled.predicted, 2 * np.asarray(POIS_MEAN[0]), 1e-7)
    close(doubled.se, 2 * np.asarray(POIS_MEAN[1]), 1e-7)
    whole = res.get_prediction()
    assert len(whole.predicted) == len(ANES)
    close(whole.predicted.iloc[ROWS], POIS_MEAN[0], 1e-7)
    with pytest.raises(ValueError, match="which must be one of 'mean', 'linear', 'var' for "
                                         "Poisson, not 'prob'"):
        res.get_prediction(NEW, which="prob")
    with pytest.raises(DataError):
        res.get_prediction(NEW[["PID"]].assign(age=1.0, extra=2.0).drop(columns="age"))


def test_a_user_model_predicts_the_mean_of_its_index():
    """A LikelihoodModel subclass without predict: the index x'b, with delta-method SEs
    equal to the linear prediction of the same fit by Logit."""
    class MyLogit(LikelihoodModel):
        def loglikeobs(self, params):
            q = 2 * self.endog - 1
            return -mnp.log1p(mnp.exp(-q * (self.exog @ params)))

    mine = MyLogit(ANES["vote"], X).fit().get_prediction(NEW)
    close(mine.predicted, LOGIT_LINEAR[0], 1e-7)
    close(mine.se, LOGIT_LINEAR[1], 1e-6)


@pytest.mark.parametrize("cls, y, ref", [(Logit, "vote", LOGIT_RESID),
                                         (Probit, "vote", PROBIT_RESID),
                                         (Poisson, "TVnews", POIS_RESID),
                                         (OLS, "TVnews", OLS_RESID),
                                         (NegativeBinomial, "TVnews", NB_RESID)])
def test_residuals_match_statsmodels_glm(cls, y, ref):
    res = cls(ANES[y], X).fit()
    for row, kind in zip(ref, ["response", "pearson", "deviance", "anscombe"]):
        close(np.asarray(getattr(res, f"resid_{kind}"))[ROWS], row, 1e-7)


def test_generalized_residuals():
    close(np.asarray(Logit(ANES["vote"], X).fit().resid_generalized)[ROWS], LOGIT_GEN, 1e-8)
    close(np.asarray(Probit(ANES["vote"], X).fit().resid_generalized)[ROWS], PROBIT_GEN, 1e-8)
    ols = OLS(ANES["TVnews"], X).fit()                       # (y - mu) / sigma^2
    close(ols.resid_generalized, ols.resid / ols.params["sigma"] ** 2, 1e-12)
    nb1 = NegativeBinomial(ANES["TVnews"], X, loglike_method="nb1").fit()
    with pytest.raises(ValueError, match="NB1 has response and generalized residuals only"):
        nb1.resid_pearson
    assert np.all(np.isfinite(nb1.resid_generalized))


def test_poisson_pseudo_ml_for_a_noninteger_outcome():
    rh = pd.read_csv(DATA / "randhie.csv")
    y = np.exp(rh["lncoins"]) / 10
    x = add_constant(rh[["idp", "lpi", "physlm"]])
    with pytest.raises(DataError, match="non-integer values .* pass allow_noninteger=True"):
        Poisson(y, x)
    res = Poisson(y, x, allow_noninteger=True).fit(cov_type="HC0")
    close(res.params, PPML_PARAMS, 1e-8)
    close(res.bse, PPML_BSE_HC0, 1e-7)
    with pytest.raises(DataError, match="negative"):
        Poisson(y - 1, x, allow_noninteger=True)
    with pytest.raises(TypeError, match="allow_noninteger must be True or False"):
        Poisson(y, x, allow_noninteger="yes")


def test_a_user_model_with_its_own_predict_and_binary_prob():
    class MyPoisson(LikelihoodModel):
        def loglikeobs(self, params):
            eta = self.exog @ params
            return self.endog * eta - mnp.exp(eta)

        def predict(self, params, exog=None, which="mean"):
            x = self.exog if exog is None else exog
            return mnp.exp(mnp.matmul(x, params))

    pred = MyPoisson(ANES["TVnews"], X).fit().get_prediction(NEW)
    close(pred.predicted, POIS_MEAN[0], 1e-7)
    close(pred.se, POIS_MEAN[1], 1e-6)
    prob = Logit(ANES["vote"], X).fit().get_prediction(NEW, which="prob")
    close(prob.predicted, LOGIT_MEAN[0], 1e-7)
    close(prob.se, LOGIT_MEAN[1], 1e-7)


def test_predict_on_the_sample_is_labelled_as_fittedvalues():
    """results.predict() on pandas data is a Series on the rows used (as statsmodels'
    and as fittedvalues / get_prediction()); it was a bare array."""
    d = ANES.iloc[::3]
    res = Logit(d["vote"], add_constant(d[["PID", "age"]])).fit()
    pred = res.predict()
    assert isinstance(pred, pd.Series) and pred.index.equals(d.index)
    np.testing.assert_array_equal(pred.to_numpy(), res.fittedvalues.to_numpy())
    assert res.get_prediction().summary_frame().index.equals(d.index)
