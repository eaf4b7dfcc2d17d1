"""AFT (parametric accelerated-failure-time survival models) on R's ovarian data.

References, each with its source:

* R survival::survreg, printed output on the ovarian data (survival 3.x; the same numbers
  appear in the survreg help page's examples and in public R tutorials):
  - ``survreg(Surv(futime, fustat) ~ ecog.ps + rx, ovarian, dist="weibull")``:
    (Intercept) 6.897 (1.178), ecog.ps -0.385 (0.527), rx 0.529 (0.529), Log(scale) -0.123
    (0.252); Scale= 0.884; Loglik(model)= -97.1, Loglik(intercept only)= -98; Chisq= 1.74 on
    2 df, p= 0.42. flexsurv::flexsurvreg(..., dist="weibull") on the same model:
    Log-likelihood = -97.08449, AIC = 202.169.
  - ``survreg(..., dist="weibull", scale=1)`` (the exponential): 6.9618376, -0.4331347,
    0.5815027; Loglik(model)= -97.2, Loglik(intercept only)= -98; Chisq= 1.67, p= 0.434.
  - ``survreg(Surv(futime, fustat) ~ 1, ovarian, dist="weibull")``: (Intercept) 7.111
    (0.293), Log(scale) -0.103 (0.254), Scale= 0.902, Loglik -98.
* lifelines 0.30.3 WeibullAFTFitter / LogNormalAFTFitter / LogLogisticAFTFitter, fitted once
  in a scratch environment on ``ovarian[["futime", "fustat", "ecog.ps", "rx"]]`` (numbers
  below; lifelines stops at its own tolerance, so its coefficients agree to ~1e-5, its
  log-logistic ones to 4e-4).
* An independent brute-force MLE in this file: scipy.stats' weibull_min / expon / lognorm /
  fisk on the time scale, Nelder-Mead then BFGS with numerical derivatives from three
  starts; agreement to 1e-6 (the scipy fits from the three starts agree to ~1e-7).
"""
from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import scipy.optimize as so
import scipy.stats as st

from mleopt import AFT, DataError, add_constant, datasets
from mleopt.ad import api as ad_api

DISTS = ("weibull", "exponential", "lognormal", "loglogistic")


@pytest.fixture(scope="module")
def ovarian():
    return datasets.load("ovarian")


def _model(df, dist="weibull", cols=("ecog.ps", "rx")):
    return AFT(df["futime"], add_constant(df[list(cols)]), event=df["fustat"], dist=dist)


@pytest.fixture(scope="module")
def fits(ovarian):
    return {dist: _model(ovarian, dist).fit() for dist in DISTS}


# ---- R survreg (published output) ---------------------------------------------------------

def test_survreg_weibull(fits):
    res = fits["weibull"]
    assert res.converged
    assert list(res.params.index) == ["const", "ecog.ps", "rx", "Log(scale)"]
    np.testing.assert_allclose(res.params, [6.897, -0.385, 0.529, -0.123], atol=5e-4)
    np.testing.assert_allclose(res.bse, [1.178, 0.527, 0.529, 0.252], atol=5e-4)
    assert res.scale == pytest.approx(0.884, abs=5e-4)
    assert res.shape == pytest.approx(1 / res.scale)
    assert res.llf == pytest.approx(-97.08449, abs=5e-6)            # flexsurvreg
    assert res.aic == pytest.approx(202.169, abs=5e-4)              # flexsurvreg
    assert res.llnull == pytest.approx(-98.0, abs=0.05)
    assert res.llr == pytest.approx(1.74, abs=5e-3)
    assert res.llr_pvalue == pytest.approx(0.42, abs=5e-3)


def test_survreg_exponential(fits):
    res = fits["exponential"]
    assert list(res.params.index) == ["const", "ecog.ps", "rx"]     # no Log(scale)
    np.testing.assert_allclose(res.params, [6.9618376, -0.4331347, 0.5815027], atol=1e-7)
    assert res.llf == pytest.approx(-97.2, abs=0.05)
    assert res.llr == pytest.approx(1.67, abs=5e-3)
    assert res.llr_pvalue == pytest.approx(0.434, abs=5e-4)
    assert res.scale == 1.0 and res.shape == 1.0


def test_survreg_intercept_only(ovarian):
    res = AFT(ovarian["futime"], np.ones(len(ovarian)), event=ovarian["fustat"]).fit()
    np.testing.assert_allclose(res.params, [7.111, -0.103], atol=5e-4)
    np.testing.assert_allclose(res.bse, [0.293, 0.254], atol=5e-4)
    assert res.scale == pytest.approx(0.902, abs=5e-4)
    assert res.llf == pytest.approx(-98.0, abs=0.05)


# ---- lifelines 0.30.3 ----------------------------------------------------------------------
# coefficients of log time (const, ecog.ps, rx), log sigma (lifelines' rho_ = log shape =
# -log sigma for Weibull and beta_ = -log sigma for the log-logistic, sigma_ = log sigma for
# the log-normal: converted), their SEs, log-likelihood, predict_median of rows 0 and 2,
# and predict_survival_function at t = 100, 500, 1000 for rows 0 and 2.
LIFELINES = {
    "weibull": dict(
        params=[6.896700114207471, -0.3850432129568481, 0.5286430469544304,
                -0.12344014771528902],
        bse=[1.1775507221553592, 0.5270031629682771, 0.5292028296333576,
             0.25221350317654545],
        llf=-97.08449316844917, median=[825.7966101754593, 561.8895473360881],
        surv=[[0.9383755538587935, 0.6750890870345032, 0.42284756463216616],
              [0.9063502489516869, 0.5447569274335364, 0.26430370642901424]]),
    "lognormal": dict(
        params=[5.878450260972719, -0.22927590859941094, 0.8133528198111893,
                0.16666017429489274],
        bse=[1.0939712330844225, 0.5373646305487875, 0.5372010274941198,
             0.227979172961995],
        llf=-95.94736335964403, median=[640.6781163295079, 509.4090169894431],
        surv=[[0.9420512684440261, 0.5831116566942409, 0.35313142870799463],
              [0.9159214827393302, 0.5062955270249442, 0.2840137078320499]]),
    "loglogistic": dict(
        params=[6.160567535875457, -0.335843759096556, 0.7045634456603381,
                -0.3635005072343576],
        bse=[1.1335801166429054, 0.5371099633055647, 0.538525482276583,
             0.24794623525930584],
        llf=-96.32181974842022, median=[684.9098490940278, 489.52888202368314],
        surv=[[0.9408976949751467, 0.6112620946521425, 0.3671712138703194],
              [0.907585320301272, 0.4923900199161957, 0.26358180332389036]]),
}


@pytest.mark.parametrize("dist", sorted(LIFELINES))
def test_lifelines(fits, dist):
    # lifelines stops at its own tolerance (its log-logistic fit 1e-7 below our maximum,
    # 4e-4 off in the coefficients); the tight check is the brute-force MLE below
    ref, res = LIFELINES[dist], fits[dist]
    np.testing.assert_allclose(res.params, ref["params"], atol=5e-4)
    np.testing.assert_allclose(res.bse, ref["bse"], rtol=2e-3)
    assert res.llf == pytest.approx(ref["llf"], abs=2e-7)
    assert res.llf >= ref["llf"]                        # ours is at least as high
    x = res.model.exog[[0, 2]]
    np.testing.assert_allclose(res.predict(x, which="median"), ref["median"], rtol=1e-3)
    np.testing.assert_allclose(res.predict(x, which="survival", times=[100, 500, 1000]),
                               ref["surv"], rtol=1e-3)


# ---- independent brute-force MLE (scipy.stats on the time scale) ----------------------------
_SCIPY = {"weibull": lambda s, sc: st.weibull_min(1 / s, scale=sc),
          "exponential": lambda s, sc: st.expon(scale=sc),
          "lognormal": lambda s, sc: st.lognorm(s, scale=sc),
          "loglogistic": lambda s, sc: st.fisk(1 / s, scale=sc)}


def _brute_force(t, event, x, dist):
    k = x.shape[1]

    def nll(theta):
        sigma = 1.0 if dist == "exponential" else np.exp(theta[k])
        law = _SCIPY[dist](sigma, np.exp(x @ theta[:k]))
        return -np.sum(np.where(event == 1, law.logpdf(t), law.logsf(t)))

    n = k if dist == "exponential" else k + 1
    best = None
    for start in ([6, 0, 0, 0], [7, -0.5, 0.5, -0.5], [5, 0.5, 1, 0.5]):
        r = so.minimize(nll, np.array(start[:n], float), method="Nelder-Mead",
                        options={"xatol": 1e-7, "fatol": 1e-10, "maxiter": 20000})
        r = so.minimize(nll, r.x, method="BFGS", options={"gtol": 1e-9})
        if best is None or r.fun < best.fun:
            best = r
    return best.x, -best.fun, nll


@pytest.mark.parametrize("dist", DISTS)
def test_brute_force(ovarian, fits, dist):
    res = fits[dist]
    x = res.model.exog
    params, llf, nll = _brute_force(ovarian["futime"].to_numpy(float),
                                    ovarian["fustat"].to_numpy(float), x, dist)
    np.testing.assert_allclose(res.params, params, atol=1e-6)
    assert res.llf == pytest.approx(llf, abs=1e-9)
    assert res.llf >= llf - 1e-12
    # the likelihood itself, at the estimate, from scipy.stats' independent formulas
    assert res.llf == pytest.approx(-nll(res.params.to_numpy()), rel=1e-13)
    # standard errors against a central finite-difference Hessian of scipy's likelihood
    p, h = res.params.to_numpy(), 1e-4
    k = p.size
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            e_i, e_j = np.eye(k)[i] * h, np.eye(k)[j] * h
            hess[i, j] = (nll(p + e_i + e_j) - nll(p + e_i - e_j) - nll(p - e_i + e_j)
                          + nll(p - e_i - e_j)) / (4 * h * h)
    np.testing.assert_allclose(res.bse, np.sqrt(np.diag(np.linalg.inv(hess))), rtol=1e-5)


# ---- scale, shape, summary --------------------------------------------------------------

def test_scale_and_weibull_shape_by_delta_method(fits):
    res = fits["weibull"]
    est = res.scale_params()
    assert est.names == ["scale", "shape"]
    se_log = res.bse["Log(scale)"]
    np.testing.assert_allclose(est.effect, [res.scale, 1 / res.scale], rtol=1e-14)
    np.testing.assert_allclose(est.sd, [res.scale * se_log, se_log / res.scale], rtol=1e-12)
    lognormal = fits["lognormal"].scale_params()
    assert lognormal.names == ["scale"]
    with pytest.raises(AttributeError, match="Weibull shape"):
        fits["lognormal"].shape
    with pytest.raises(ValueError, match="fixed at 1"):
        fits["exponential"].scale_params()


def test_summary(fits):
    text = fits["weibull"].summary().as_text()
    for piece in ("AFT (weibull)", "Distribution:", "weibull", "Events:", "12 of 26",
                  "Log(scale)", "scale", "shape", "delta-method"):
        assert piece in text
    shape_row = next(line for line in text.splitlines() if line.startswith("shape"))
    assert "1.1314" in shape_row and "0.285" in shape_row and "0.000" not in shape_row
    assert "Scale fixed at 1" in fits["exponential"].summary().as_text()
    assert "shape" not in fits["loglogistic"].summary().as_text().split("---")[-1].split(
        "Notes")[0]
    assert "<table" in fits["lognormal"].summary().as_html()


def test_index_structure_is_found(ovarian):
    for dist in DISTS:
        m = _model(ovarian, dist)
        assert ad_api.has_index_structure(m.loglike, m.start_params())


def test_row_blocks_give_the_same_fit(ovarian):
    for dist in ("weibull", "lognormal"):
        whole = _model(ovarian, dist).fit()
        blocked_model = _model(ovarian, dist)
        blocked = blocked_model.fit(block_memory="4kB")
        assert len(blocked_model._blocks()[0]) > 1
        np.testing.assert_allclose(blocked.params, whole.params, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(blocked.bse, whole.bse, rtol=1e-10)


# ---- predictions ---------------------------------------------------------------------------

@pytest.mark.parametrize("dist", DISTS)
def test_predictions_agree_with_scipy(fits, dist):
    res = fits[dist]
    p = res.params.to_numpy()
    k = res.model.k_exog
    eta = res.model.exog @ p[:k]
    law = _SCIPY[dist](res.scale, np.exp(eta))
    np.testing.assert_allclose(res.predict(which="linear"), eta, rtol=1e-14)
    np.testing.assert_allclose(res.predict(which="median"), law.median(), rtol=1e-12)
    np.testing.assert_allclose(res.predict(which="mean"), law.mean(), rtol=1e-12)
    np.testing.assert_allclose(res.fittedvalues, law.mean(), rtol=1e-12)
    q = [0.1, 0.5, 0.9]
    quant = res.predict(which="quantile", q=q)
    assert isinstance(quant, pd.DataFrame) and list(quant.columns) == q
    np.testing.assert_allclose(quant, np.column_stack([law.ppf(v) for v in q]), rtol=1e-12)
    np.testing.assert_allclose(res.predict(which="quantile", q=0.25), law.ppf(0.25),
                               rtol=1e-12)
    times = [100.0, 500.0, 1000.0]
    surv = res.predict(which="survival", times=times)
    assert list(surv.columns) == times
    np.testing.assert_allclose(surv, np.column_stack([law.sf(v) for v in times]), rtol=1e-12)
    np.testing.assert_allclose(res.predict(which="survival", times=500.0), law.sf(500.0),
                               rtol=1e-12)


def test_predict_new_data_by_name_and_delta_method(fits):
    res = fits["weibull"]
    new = pd.DataFrame({"rx": [1, 2], "ecog.ps": [1, 1], "const": 1.0}, index=["A", "B"])
    med = res.predict(new, which="median")
    assert isinstance(med, pd.Series) and list(med.index) == ["A", "B"]
    b = res.params
    expected = np.exp(b["const"] + b["ecog.ps"] + b["rx"] * np.array([1, 2])
                      + res.scale * np.log(np.log(2)))
    np.testing.assert_allclose(med, expected, rtol=1e-12)
    surv = res.predict(new, which="survival", times=[365, 730])
    assert list(surv.index) == ["A", "B"] and list(surv.columns) == [365, 730]
    # delta method through the differentiable prediction: ratio of medians = exp(b_rx)
    x = new[["const", "ecog.ps", "rx"]].to_numpy(float)
    est = res.delta_method(lambda p: res.model.predict(p.values, exog=x, which="median"))
    grad = np.column_stack([expected[:, None] * x, expected * np.log(np.log(2)) * res.scale])
    sd = np.sqrt(np.einsum("ij,jk,ik->i", grad, res.cov_params().to_numpy(), grad))
    np.testing.assert_allclose(est.sd, sd, rtol=1e-10)


def test_predict_bad_arguments(fits):
    res = fits["weibull"]
    with pytest.raises(ValueError, match="which must be one of"):
        res.predict(which="hazard")
    with pytest.raises(ValueError, match="needs times="):
        res.predict(which="survival")
    with pytest.raises(ValueError, match="times must be positive"):
        res.predict(which="survival", times=[-1.0, 2.0])
    with pytest.raises(ValueError, match="needs q="):
        res.predict(which="quantile")
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        res.predict(which="quantile", q=[0.5, 1.0])
    with pytest.raises(ValueError, match="times= is for which='survival'"):
        res.predict(which="median", times=[10.0])
    with pytest.raises(ValueError, match="q= is for which='quantile'"):
        res.predict(which="mean", q=0.3)


# ---- bad input -----------------------------------------------------------------------------

def test_bad_durations(ovarian):
    t = ovarian["futime"].copy()
    t.iloc[3] = 0.0
    with pytest.raises(DataError, match=r"positive durations: 'futime' has 1 value.*row 3"):
        AFT(t, add_constant(ovarian[["rx"]]), event=ovarian["fustat"])
    t.iloc[5] = -2.0
    with pytest.raises(DataError, match="'futime' has 2 value"):
        AFT(t, add_constant(ovarian[["rx"]]))


def test_bad_event(ovarian):
    status = ovarian["fustat"] + 1              # R's 1/2 coding
    with pytest.raises(DataError, match=r"event must be 1 \(observed\) or 0.*status == 2"):
        AFT(ovarian["futime"], add_constant(ovarian[["rx"]]), event=status)


def test_all_censored(ovarian):
    with pytest.raises(DataError, match="every duration of 'futime' is censored"):
        AFT(ovarian["futime"], add_constant(ovarian[["rx"]]), event=np.zeros(26))


def test_bad_arguments(ovarian):
    x = add_constant(ovarian[["rx"]])
    with pytest.raises(ValueError, match="dist must be one of 'weibull'"):
        AFT(ovarian["futime"], x, dist="gamma")
    with pytest.raises(TypeError, match="weights"):
        AFT(ovarian["futime"], x, weights=np.ones(26))
    with pytest.raises(DataError, match="needs exog"):
        AFT(ovarian["futime"])


def test_missing_rows_are_dropped_with_their_event(ovarian):
    event = ovarian["fustat"].astype(float).copy()
    event.iloc[0] = np.nan
    res = AFT(ovarian["futime"], add_constant(ovarian[["ecog.ps", "rx"]]), event=event,
              missing="drop").fit()
    ref = AFT(ovarian["futime"].iloc[1:], add_constant(ovarian[["ecog.ps", "rx"]]).iloc[1:],
              event=ovarian["fustat"].iloc[1:]).fit()
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-12)
    assert res.n_events == 11


def test_inputs_not_modified(ovarian):
    before = ovarian.copy()
    _model(ovarian).fit()
    pd.testing.assert_frame_equal(ovarian, before)


# ---- the example ---------------------------------------------------------------------------

def test_example_prints_the_survreg_fit():
    root = pathlib.Path(__file__).resolve().parents[1]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, str(root / "examples" / "survival.py")], cwd=root,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "AFT (weibull) Regression Results" in out and re.search(r"converged:\s+True", out)
    num = r"(-?\d+\.\d+)"
    coef, se = map(float, re.search(rf"^rx\s+{num}\s+{num}", out, re.M).groups())
    assert (round(coef, 3), round(se, 3)) == (0.529, 0.529)             # R survreg
    scale = float(re.search(rf"^scale\s+{num}", out, re.M).group(1))
    assert round(scale, 3) == 0.884                                     # R: Scale= 0.884
    assert re.search(rf"^exponential\s+-97\.1980", out, re.M)
    assert re.search(r"^rx 1\s+0\.8837\s+0\.7594", out, re.M)          # S(180), S(365)


# ---- Dask: the client's model knows the distribution too -------------------------------------

@pytest.mark.parametrize("dist", ["weibull", "exponential"])
def test_dask_partitions_give_the_same_fit(ovarian, fits, dist):
    import dask.dataframe as dd
    ddf = dd.from_pandas(add_constant(ovarian), npartitions=3)
    res = AFT(ddf["futime"], ddf[["const", "ecog.ps", "rx"]], event=ddf["fustat"],
              dist=dist).fit()
    ref = fits[dist]
    assert list(res.params.index) == list(ref.params.index)
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(res.bse, ref.bse, rtol=1e-8)
    assert res.n_events == 12
    assert "12 of 26" in res.summary().as_text()


# ---- likelihood-ratio tests ------------------------------------------------------------------

def test_lr_test_exponential_within_weibull(ovarian, fits):
    lr = fits["weibull"].lr_test(fits["exponential"])
    assert lr.df == 1
    assert lr.statistic == pytest.approx(2 * (fits["weibull"].llf - fits["exponential"].llf))
    slope = _model(ovarian, "weibull", cols=("ecog.ps",)).fit()
    assert fits["weibull"].lr_test(slope).df == 1


def test_lr_test_refuses_other_distributions_and_events(ovarian, fits):
    with pytest.raises(ValueError, match="dist='exponential' is not nested in one with "
                                         "dist='lognormal'"):
        fits["lognormal"].lr_test(fits["exponential"])
    event = ovarian["fustat"].copy()
    event.iloc[:3] = 0
    other = AFT(ovarian["futime"], add_constant(ovarian[["ecog.ps"]]), event=event).fit()
    with pytest.raises(ValueError, match="per-row array 'event' differs"):
        fits["weibull"].lr_test(other)
