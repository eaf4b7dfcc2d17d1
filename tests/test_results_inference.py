"""Wald / t / LR tests, the delta method, covariance switching and Hessian failures."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import mleopt.numpy as mnp
from mleopt import Logit, OLS, Poisson, fit_mle
from mleopt.exceptions import HessianWarning
from mleopt.inference import parse_restrictions
from mleopt.results import LikelihoodResults

DATA = Path(__file__).resolve().parents[1] / "datasets"
NAMES = ["const", "TVnews", "PID", "age", "educ", "income"]


@pytest.fixture(scope="module")
def anes():
    df = pd.read_csv(DATA / "anes96.csv")
    x = df[NAMES[1:]].astype(float)
    x.insert(0, "const", 1.0)
    return df["vote"], x


@pytest.fixture(scope="module")
def logit(anes):
    return Logit(*anes).fit()


# =======================================================================================
# restrictions
# =======================================================================================

@pytest.mark.parametrize("text, row, q", [
    ("TVnews = educ", [0, 1, 0, 0, -1, 0], 0),
    ("TVnews + educ = 1", [0, 1, 0, 0, 1, 0], 1),
    ("2*age - income/4 = 0.5", [0, 0, 0, 2, 0, -0.25], 0.5),
    ("3 PID = age + 1", [0, 0, 3, -1, 0, 0], 1),
    ("PID", [0, 0, 1, 0, 0, 0], 0),
    ("1 + PID = 2 - age", [0, 0, 1, 1, 0, 0], 1),
    ("-PID - -age = 1e-3", [0, 0, -1, 1, 0, 0], 1e-3),
])
def test_parse_one_restriction(text, row, q):
    r, qq = parse_restrictions(text, NAMES)
    np.testing.assert_allclose(r, [row])
    np.testing.assert_allclose(qq, [q])


def test_parse_several_and_longest_name_first():
    r, q = parse_restrictions("x1 = 0, x10 = 0; x1 = x10", ["const", "x1", "x10"])
    np.testing.assert_allclose(r, [[0, 1, 0], [0, 0, 1], [0, 1, -1]])
    np.testing.assert_allclose(q, [0, 0, 0])
    r2, _ = parse_restrictions(["x1 = 0", "x10 = 0"], ["const", "x1", "x10"])
    np.testing.assert_allclose(r2, r[:2])


@pytest.mark.parametrize("bad, match", [
    ("x3 = 0", "no parameter named .x3."), ("x1 = x2 = 0", "form"), ("1 = 1", "no parameter"),
    ("x1 x2 = 0", "expected"), ("", "no restriction"), ("2 * = 1", "no parameter named"),
])
def test_parse_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        parse_restrictions(bad, ["x1", "x2"])



MNL_NAMES = ["PID=1:const", "PID=1:age", "PID=2:age"]     # MNLogit's names hold '='


@pytest.mark.parametrize("bad, match", [
    ("PID=1:agee = 0", r"no parameter named 'PID=1:agee'.*Did you mean 'PID=1:age'"),
    ("PID=1:age = PID=3:age", r"no parameter named 'PID=3:age'.*Did you mean 'PID=2:age'"),
    ("age = 0", r"no parameter named 'age'.*Did you mean 'PID=1:age' or 'PID=2:age'"),
    ("PID=1:age = = 0", "form"),
])
def test_parse_errors_name_the_whole_misspelt_name_holding_an_equals_sign(bad, match):
    with pytest.raises(ValueError, match=match):
        parse_restrictions(bad, MNL_NAMES)

# =======================================================================================
# Wald and t tests
# =======================================================================================

def test_wald_string_equals_matrix(logit):
    r = np.zeros((2, 6))
    r[0, 1], r[0, 4], r[1, 3] = 1, -1, 1
    by_matrix = logit.wald_test(r, q=[0, 0])
    by_string = logit.wald_test("TVnews = educ, age = 0")
    assert by_string.df == 2 and by_string.distribution == "chi2"
    np.testing.assert_allclose(by_string.statistic, by_matrix.statistic, rtol=1e-12)
    b, v = logit.params.to_numpy(), logit.cov_params().to_numpy()
    d = r @ b
    w = d @ np.linalg.solve(r @ v @ r.T, d)
    np.testing.assert_allclose(by_string.statistic, w, rtol=1e-12)
    np.testing.assert_allclose(by_string.pvalue, stats.chi2.sf(w, 2), rtol=1e-10)
    assert "TVnews - educ = 0" in repr(by_string)


def test_wald_single_restriction_is_z_squared(logit):
    w = logit.wald_test("PID = 0")
    np.testing.assert_allclose(w.statistic, logit.tvalues["PID"] ** 2, rtol=1e-12)
    np.testing.assert_allclose(w.pvalue, logit.pvalues["PID"], rtol=1e-8)


def test_wald_dependent_restrictions_rejected(logit):
    with pytest.raises(ValueError, match="linearly dependent"):
        logit.wald_test("age = 0, 2*age = 0")


def test_t_test(logit):
    tt = logit.t_test("PID - age = 1")
    b, v = logit.params, logit.cov_params()
    se = np.sqrt(v.loc["PID", "PID"] + v.loc["age", "age"] - 2 * v.loc["PID", "age"])
    np.testing.assert_allclose(tt.effect[0], b["PID"] - b["age"], rtol=1e-12)
    np.testing.assert_allclose(tt.sd.iloc[0], se, rtol=1e-12)
    np.testing.assert_allclose(tt.tvalues.iloc[0], (b["PID"] - b["age"] - 1) / se, rtol=1e-12)
    frame = tt.summary_frame()
    assert list(frame.columns) == ["coef", "std err", "z", "P>|z|", "[0.025", "0.975]"]
    # one-row t test of a coefficient = the coefficient table row
    row = logit.t_test("income = 0").summary_frame().iloc[0].to_numpy()
    np.testing.assert_allclose(row, logit.summary_frame().loc["income"].to_numpy(), rtol=1e-10)


def test_ols_classical_wald_is_f_test():
    df = pd.read_csv(DATA / "grunfeld.csv")
    x = df[["value", "capital"]].assign(const=1.0)[["const", "value", "capital"]]
    res = OLS(df["invest"], x).fit(cov_type="classical")
    w = res.wald_test("value = 0, capital = 0")
    assert w.distribution == "F" and w.df_denom == res.df_resid
    np.testing.assert_allclose(w.statistic, res.fvalue, rtol=1e-8)
    np.testing.assert_allclose(w.pvalue, res.f_pvalue, rtol=1e-6)


# =======================================================================================
# delta method
# =======================================================================================

def test_delta_method_linear_equals_t_test(logit):
    dm = logit.delta_method(lambda p: p["PID"] - 2 * p["age"], names=["PID - 2 age"])
    tt = logit.t_test("PID - 2*age = 0")
    np.testing.assert_allclose(dm.summary_frame().to_numpy(), tt.summary_frame().to_numpy(),
                               rtol=1e-12)
    assert list(dm.summary_frame().index) == ["PID - 2 age"]


def test_delta_method_nonlinear_uses_exact_jacobian(logit):
    b, v = logit.params, logit.cov_params()
    dm = logit.delta_method(lambda p: {"ratio": p["PID"] / p["income"],
                                       "odds": mnp.exp(p[2])})
    assert list(dm.effect) == pytest.approx([b["PID"] / b["income"], np.exp(b["PID"])])
    j = np.zeros((2, 6))
    j[0, 2], j[0, 5] = 1 / b["income"], -b["PID"] / b["income"] ** 2
    j[1, 2] = np.exp(b["PID"])
    np.testing.assert_allclose(dm.cov, j @ v.to_numpy() @ j.T, rtol=1e-12)
    np.testing.assert_allclose(dm.jacobian, j, rtol=1e-13, atol=1e-15)
    assert list(dm.sd.index) == ["ratio", "odds"]
    # a vector-valued function of the whole parameter vector
    vec = logit.delta_method(lambda p: mnp.exp(p.values[1:3]))
    np.testing.assert_allclose(vec.effect, np.exp(b.to_numpy()[1:3]), rtol=1e-14)
    np.testing.assert_allclose(vec.sd, np.exp(b.to_numpy()[1:3]) * logit.bse.to_numpy()[1:3],
                               rtol=1e-12)


def test_delta_method_predictions(logit):
    """Standard error of a predicted probability, by AD through the model's predict."""
    x0 = logit.model.exog[:3]
    dm = logit.delta_method(lambda p: logit.model.predict(p.values, exog=x0))
    np.testing.assert_allclose(dm.effect, logit.predict(x0), rtol=1e-14)
    assert np.all(dm.sd > 0) and np.all(dm.sd < 0.1)


@pytest.mark.parametrize("bad", [None, "PID", [], {}])
def test_delta_method_rejects_non_numeric_output(logit, bad):
    # None used to give a table with coef NaN and std err 0.0; "PID" a numpy parse error
    with pytest.raises(TypeError, match="func must return"):
        logit.delta_method(lambda p: bad)


# =======================================================================================
# LR test
# =======================================================================================

def test_lr_test_nested_logits(anes, logit):
    y, x = anes
    small = Logit(y, x[["const", "PID", "income"]]).fit()
    lr = logit.lr_test(small)
    np.testing.assert_allclose(lr.statistic, 2 * (logit.llf - small.llf), rtol=1e-12)
    assert lr.df == 3
    np.testing.assert_allclose(lr.pvalue, stats.chi2.sf(lr.statistic, 3), rtol=1e-10)
    assert "chi2(3)" in repr(lr)
    swapped = small.lr_test(logit)  # either order, as statsmodels' compare_lr_test users expect
    assert swapped.statistic == lr.statistic and swapped.df == 3
    with pytest.raises(ValueError, match="both fits have 6 parameters"):
        logit.lr_test(logit)
    other = Logit(y.iloc[:500], x.iloc[:500]).fit()
    with pytest.raises(ValueError, match="different data"):
        logit.lr_test(other)


def test_lr_test_llr_matches_null_model(anes, logit):
    """The model's LLR is the LR test against the constant-only fit."""
    y, x = anes
    null = Logit(y, x[["const"]]).fit()
    np.testing.assert_allclose(logit.lr_test(null).statistic, logit.llr, rtol=1e-9)


# =======================================================================================
# covariance switching
# =======================================================================================

def test_get_robustcov_results_switches_without_refitting(logit):
    s = logit.score_obs
    a_inv = np.linalg.inv(-logit.hessian.to_numpy())
    opg = logit.get_robustcov_results("opg")
    np.testing.assert_allclose(opg.cov_params(), np.linalg.inv(s.T @ s), rtol=1e-10)
    hc0 = logit.get_robustcov_results("HC0")
    np.testing.assert_allclose(hc0.cov_params(), a_inv @ s.T @ s @ a_inv, rtol=1e-10)
    assert hc0.params is not logit.params and hc0.params.equals(logit.params)
    assert hc0.llf == logit.llf and hc0.cov_type == "HC0" and logit.cov_type == "nonrobust"
    np.testing.assert_allclose(logit.cov_params(), a_inv, rtol=1e-10)
    assert hc0.score_obs is logit.score_obs                 # the AD scores are reused
    assert logit.get_robustcov_results("hc1").cov_type == "HC1"


def test_score_and_hessian_at_optimum(logit):
    assert np.max(np.abs(logit.score)) < 1e-6
    assert logit.score_obs.shape == (944, 6)
    np.testing.assert_allclose(logit.score_obs.sum(axis=0), logit.score, atol=1e-8)
    assert list(logit.hessian.columns) == NAMES
    assert np.all(np.linalg.eigvalsh(logit.hessian.to_numpy()) < 0)


def test_bad_cov_requests(anes, logit):
    with pytest.raises(ValueError, match="unknown cov_type"):
        logit.get_robustcov_results("HAC-panel")
    with pytest.raises(ValueError, match="OLS only"):
        logit.get_robustcov_results("HC3")
    with pytest.raises(ValueError, match="groups"):
        logit.get_robustcov_results("cluster")
    with pytest.raises(ValueError, match="10 rows"):
        logit.get_robustcov_results("cluster", groups=np.arange(10))
    with pytest.raises(ValueError, match="apply to cov_type='cluster' only"):
        logit.get_robustcov_results("HC0", groups=np.arange(944))
    with pytest.raises(TypeError, match="cov_kwds must be a dict"):
        Logit(*anes).fit(cov_type="cluster", cov_kwds=[("groups", np.arange(944))])


def test_cluster_with_singleton_groups_equals_hc(logit):
    """Clusters of one observation: the meat is S'S, so cluster = HC0 * (N-1)/(N-k) * N/(N-1)."""
    n, k = 944, 6
    cl = logit.get_robustcov_results("cluster", groups=np.arange(n))
    hc0 = logit.get_robustcov_results("HC0")
    np.testing.assert_allclose(cl.cov_params(), hc0.cov_params() * n / (n - k), rtol=1e-10)
    hc1 = logit.get_robustcov_results("HC1")
    np.testing.assert_allclose(cl.cov_params(), hc1.cov_params(), rtol=1e-10)


def test_poisson_predict_and_resid():
    df = pd.read_csv(DATA / "randhie.csv").iloc[:2000]
    x = df[["lncoins", "physlm"]].astype(float)
    x.insert(0, "const", 1.0)
    res = Poisson(df["mdvis"], x).fit()
    np.testing.assert_allclose(res.fittedvalues, np.exp(x.to_numpy() @ res.params.to_numpy()),
                               rtol=1e-12)
    np.testing.assert_allclose(res.resid, df["mdvis"] - res.fittedvalues, rtol=1e-12)
    lin = res.predict(x.iloc[:5], which="linear")
    assert isinstance(lin, pd.Series) and list(lin.index) == list(range(5))
    np.testing.assert_allclose(lin, x.iloc[:5].to_numpy() @ res.params.to_numpy(), rtol=1e-12)


# =======================================================================================
# a Hessian that is not negative definite
# =======================================================================================

def _saddle_model():
    """loglike = -sum (y - m)^2 / 2 - (s^2 - 1)^2: a maximum at s = +-1, a saddle at s = 0."""
    y = np.random.default_rng(1).normal(size=50)

    def loglikeobs(p):
        return -0.5 * (y - p[0]) ** 2 - (p[1] ** 2 - 1.0) ** 2 / len(y)

    res = fit_mle(loglikeobs, start_params=[0.0, 0.5], param_names=["m", "s"], nobs=len(y))
    return res, y


def test_saddle_point_gives_warning_and_nan():
    res, y = _saddle_model()
    assert np.isfinite(res.bse).all()                       # at the maximum: fine
    with pytest.warns(HessianWarning, match=r"\bs\b"):
        at_saddle = LikelihoodResults(model=res.model, params=[y.mean(), 0.0])
    assert np.isnan(at_saddle.bse["s"]) and np.isnan(at_saddle.pvalues["s"])
    np.testing.assert_allclose(at_saddle.bse["m"], 1 / np.sqrt(len(y)), rtol=1e-10)
    assert "NaN" in at_saddle.summary().as_text()
    with pytest.warns(HessianWarning):
        hc0 = at_saddle.get_robustcov_results("HC0")
    assert np.isnan(hc0.bse["s"]) and np.isfinite(hc0.bse["m"])
    dm = at_saddle.delta_method(lambda p: 2 * p["m"])      # does not touch s: finite
    np.testing.assert_allclose(dm.sd.iloc[0], 2 / np.sqrt(len(y)), rtol=1e-10)
    tt = at_saddle.t_test("m = 0, s = 0")                  # only the row with s is NaN
    assert np.isfinite(tt.sd.iloc[0]) and np.isnan(tt.sd.iloc[1])
    with pytest.warns(UserWarning, match="NaN"):
        assert np.isnan(at_saddle.wald_test("m = 0, s = 0").statistic)
    np.testing.assert_allclose(at_saddle.wald_test("m = 0").statistic,
                               at_saddle.tvalues["m"] ** 2, rtol=1e-12)


def test_unidentified_parameter_gives_warning_and_nan():
    y = np.random.default_rng(2).normal(size=40)

    def loglikeobs(p):                       # only p[1] + p[2] is identified
        return -0.5 * (y - p[0] - p[1] - p[2]) ** 2 - 0.5 * p[0] ** 2 / len(y)

    with pytest.warns(HessianWarning, match="b, c"):
        res = fit_mle(loglikeobs, start_params=[0.0, 0.0, 0.0], param_names=["a", "b", "c"],
                      nobs=len(y))
    with pytest.warns(HessianWarning, match="b, c"):
        again = LikelihoodResults(model=res.model, params=res.params.to_numpy())
    assert np.isnan(again.bse[["b", "c"]]).all()
    assert np.isfinite(again.bse["a"])


# =======================================================================================
# data handling: dropped rows, offsets, use_t
# =======================================================================================

def test_cluster_groups_align_with_dropped_rows():
    df = pd.read_csv(DATA / "grunfeld.csv")
    x = df[["value", "capital"]].astype(float)
    x.insert(0, "const", 1.0)
    x.loc[[3, 50], "value"] = np.nan
    res = OLS(df["invest"], x, missing="drop").fit(cov_type="cluster",
                                                    cov_kwds={"groups": df["firm"]})
    keep = x.notna().all(axis=1)
    ref = OLS(df["invest"][keep], x[keep]).fit(cov_type="cluster",
                                               cov_kwds={"groups": df["firm"][keep]})
    np.testing.assert_allclose(res.bse, ref.bse, rtol=1e-10)
    assert res.nobs == 218
    assert list(res.fittedvalues.index) == list(df.index[keep])     # pandas index kept


def test_use_t_through_cov_kwds(logit, anes):
    res = Logit(*anes).fit(cov_kwds={"use_t": True})
    assert res.use_t and res.df_t == 938
    np.testing.assert_allclose(res.pvalues, 2 * stats.t.sf(np.abs(logit.tvalues), 938),
                               rtol=1e-10)
    assert "P>|t|" in res.summary().as_text()
    assert not logit.use_t


def test_margeff_with_exposure_uses_the_models_offset():
    df = pd.read_csv(DATA / "randhie.csv").iloc[:3000]
    x = df[["lncoins", "physlm"]].astype(float)
    x.insert(0, "const", 1.0)
    res = Poisson(df["mdvis"], x, exposure=1 + df["disea"]).fit()
    me = res.get_margeff()
    mu = res.fittedvalues                       # includes the exposure
    np.testing.assert_allclose(me.margeff, mu.mean() * res.params.iloc[1:], rtol=1e-10)


def test_statsmodels_habits_wald_tuple_and_mle_retvals(logit):
    r = np.zeros((1, 6))
    r[0, 2] = 1.0
    as_tuple = logit.wald_test((r, [0.0]))
    assert as_tuple.statistic == logit.wald_test("PID = 0").statistic
    info = logit.mle_retvals
    assert info["converged"] is True and info["iterations"] == logit.iterations
    assert info["gmax"] <= 1e-8
