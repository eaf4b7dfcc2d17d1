"""t_test / wald_test with arithmetic restrictions and their summaries; delta_method with
arithmetic on the parameter view.

Reference values: statsmodels 0.15.0, computed once by hand (scratch script, 2026-11-30) with
the calls written above each constant; datasets from datasets/.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mleopt import OLS, Logit
from mleopt import numpy as mnp
from mleopt.inference import parse_restrictions

DATA = Path(__file__).resolve().parent.parent / "datasets"
ANES = ["const", "TVnews", "PID", "age", "educ", "income"]
LONGLEY = ["const", "GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"]


@pytest.fixture(scope="module")
def logit():
    a = pd.read_csv(DATA / "anes96.csv")
    return Logit(a["vote"], a.assign(const=1.0)[ANES]).fit()


# --- parsing ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, row, q", [
    ("2*(PID - income) = 0", [0, 0, 2, 0, 0, -2], 0),
    ("(PID + age)/2 = (income - 1)*3", [0, 0, 0.5, 0.5, 0, -3], -3),
    ("-(PID - 2*(age + 1)) = 0", [0, 0, -1, 2, 0, 0], -2),
    ("3 (PID + age) = 1", [0, 0, 3, 3, 0, 0], 1),
    ("PID*2/4 = 0.5", [0, 0, 0.5, 0, 0, 0], 0.5),
])
def test_parse_arithmetic(text, row, q):
    r, qq = parse_restrictions(text, ANES)
    np.testing.assert_allclose(r, [row])
    np.testing.assert_allclose(qq, [q])


def test_parse_names_with_parentheses_and_commas():
    names = ["Intercept", "C(educ)[T.2]", "C(educ, Treatment(3))[T.4]", "age"]
    r, q = parse_restrictions("2*(C(educ)[T.2] - age) = 1, C(educ, Treatment(3))[T.4] = 0",
                              names)
    np.testing.assert_allclose(r, [[0, 2, 0, -2], [0, 0, 1, 0]])
    np.testing.assert_allclose(q, [1, 0])


@pytest.mark.parametrize("bad, match", [
    ("PID * age = 0", "product of parameters"), ("1 / PID = 0", "division by an expression"),
    ("PID / 0 = 1", "division by zero"), ("2*(PID - age = 0", "missing '\\)'"),
    ("PID) = 0", "expected"), ("2*(PIDD) = 0", "Did you mean 'PID'"),
])
def test_parse_arithmetic_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        parse_restrictions(bad, ANES)


# --- t_test / wald_test against statsmodels ---------------------------------------------------

# sm.Logit(vote, add_constant(anes96[TVnews PID age educ income])).fit()
#   .t_test("2*PID - 2*income = 0"): effect, sd, tvalue, pvalue
ANES_T = [2.376897293447305, 0.14876718365829592, 15.977295765084943, 1.8395492134824606e-57]
#   .wald_test("PID + 2*income = 1, age = 0", scalar=True): chi2(2) statistic, pvalue
ANES_W = [13.691402123200827, 0.001064020031544417]
# sm.OLS(invest, add_constant(grunfeld[value capital])).fit() (nonrobust, F on 2 and 217 df)
#   .wald_test("value = 0, capital = 0", scalar=True): F, pvalue
GRUNFELD_F = [487.28403953717736, 5.584506120304006e-81]
#   .t_test("value - capital = 0"): effect, sd, tvalue, pvalue (t(217))
GRUNFELD_T = [-0.11297976253924497, 0.027468365608087075, -4.11308645556917,
              5.5417070603827514e-05]
# sm.OLS(TOTEMP, add_constant(longley rest)).fit()
#   .wald_test("(GNPDEFL - GNP) = 0, UNEMP = 2*ARMED", scalar=True): F(2, 9), pvalue
LONGLEY_F = [0.031301961442183106, 0.96928790504485]
#   .t_test("UNEMP - 2*ARMED = 0"): effect, sd, tvalue, pvalue (t(9))
LONGLEY_T = [0.046223930529874835, 0.40404555467097514, 0.114402769676593, 0.9114300887826527]


def _t_numbers(tt):
    return [tt.effect[0], tt.sd.iloc[0], tt.tvalues.iloc[0], tt.pvalues.iloc[0]]


def test_logit_t_and_wald(logit):
    tt = logit.t_test("2*(PID - income) = 0")
    np.testing.assert_allclose(_t_numbers(tt), ANES_T, rtol=1e-7)
    w = logit.wald_test("PID + 2*income = 1, age = 0")
    np.testing.assert_allclose([w.statistic, w.pvalue], ANES_W, rtol=1e-7)
    assert w.distribution == "chi2" and w.df == 2


def test_ols_t_and_f():
    g = pd.read_csv(DATA / "grunfeld.csv")
    res = OLS(g["invest"], g.assign(const=1.0)[["const", "value", "capital"]]).fit(
        cov_type="classical")
    w = res.wald_test("value = 0, capital = 0")
    np.testing.assert_allclose([w.statistic, w.pvalue], GRUNFELD_F, rtol=1e-8)
    assert (w.distribution, w.df, w.df_denom) == ("F", 2, 217)
    np.testing.assert_allclose(_t_numbers(res.t_test("value - capital = 0")), GRUNFELD_T,
                               rtol=1e-8)
    d = pd.read_csv(DATA / "longley.csv")
    res = OLS(d["TOTEMP"], d.assign(const=1.0)[LONGLEY]).fit(cov_type="classical")
    w = res.wald_test("(GNPDEFL - GNP) = 0, UNEMP = 2*ARMED")
    np.testing.assert_allclose([w.statistic, w.pvalue], LONGLEY_F, rtol=1e-6)
    np.testing.assert_allclose(_t_numbers(res.t_test("UNEMP - 2*ARMED = 0")), LONGLEY_T,
                               rtol=1e-6)


def test_summaries(logit):
    tt = logit.t_test("2*(PID - income) = 0, age = 0")
    text = tt.summary().as_text()
    assert text.splitlines()[0].strip() == "Test for Constraints"
    assert "2*PID - 2*income = 0" in text and "P>|z|" in text
    assert "<table" in tt.summary().as_html() and "\\begin{tabular}" in tt.summary().as_latex()
    w = logit.wald_test("PID + 2*income = 1, age = 0")
    text = w.summary().as_text()
    assert "chi2(2) = 13.6914" in text and "0.001064" in text
    assert "PID + 2*income = 1" in text and "H0:" in text
    # the rows are the restrictions one at a time: the t_test of the same restrictions
    pd.testing.assert_frame_equal(w.each.summary_frame(),
                                  logit.t_test("PID + 2*income = 1, age = 0").summary_frame())


# --- delta method with arithmetic on the parameter view ----------------------------------------

def test_delta_method_arithmetic(logit):
    b = logit.params.to_numpy()
    v = logit.cov_params().to_numpy()
    twice = logit.delta_method(lambda p: p * 2)
    np.testing.assert_allclose(twice.effect, 2 * b, rtol=1e-14)
    np.testing.assert_allclose(twice.cov, 4 * v, rtol=1e-12)
    ratio = logit.delta_method(lambda p: p["PID"] / p["income"])
    j = np.zeros(6)
    j[2], j[5] = 1 / b[5], -b[2] / b[5] ** 2
    assert ratio.effect[0] == pytest.approx(b[2] / b[5], rel=1e-14)
    assert ratio.sd.iloc[0] == pytest.approx(np.sqrt(j @ v @ j), rel=1e-10)
    inv = logit.delta_method(lambda p: (1 / p - p ** 2 + (-p))[[2, 3]])
    np.testing.assert_allclose(inv.effect, (1 / b - b ** 2 - b)[[2, 3]], rtol=1e-14)
    jac = np.diag(-1 / b ** 2 - 2 * b - 1)[[2, 3]]
    np.testing.assert_allclose(inv.cov, jac @ v @ jac.T, rtol=1e-10)
    w = np.arange(6.0)
    dot = logit.delta_method(lambda p: p @ w + mnp.exp(p["age"]))
    assert dot.effect[0] == pytest.approx(b @ w + np.exp(b[3]), rel=1e-14)


def test_delta_method_numpy_functions_of_the_view(logit):
    """mnp.exp(p) (odds ratios), np.sum(p), abs(p) on the whole view: these raised a
    TraceError ("use the functions of mleopt.numpy") or TypeError."""
    b = logit.params.to_numpy()
    v = logit.cov_params().to_numpy()
    for func in (lambda p: mnp.exp(p), lambda p: np.exp(p)):
        odds = logit.delta_method(func)
        np.testing.assert_allclose(odds.effect, np.exp(b), rtol=1e-14)
        np.testing.assert_allclose(odds.cov, np.outer(np.exp(b), np.exp(b)) * v, rtol=1e-10)
    total = logit.delta_method(lambda p: np.sum(abs(p) * 2) + mnp.mean(p))
    grad = 2 * np.sign(b) + 1 / 6
    assert total.effect[0] == pytest.approx(np.sum(np.abs(b)) * 2 + b.mean(), rel=1e-14)
    assert total.sd.iloc[0] == pytest.approx(np.sqrt(grad @ v @ grad), rel=1e-10)
    dot = logit.delta_method(lambda p: np.ones(6) @ p)
    assert dot.sd.iloc[0] == pytest.approx(np.sqrt(v.sum()), rel=1e-10)


# --- summary(alpha, title, xname), as_latex, tables ---------------------------------------------

def test_summary_options(logit):
    rep = logit.summary(alpha=0.1, title="Vote model", xname=list("abcdef"))
    text = rep.as_text()
    assert text.splitlines()[0].strip() == "Vote model"
    assert "[0.05" in text and "0.95]" in text
    frame = rep.tables[-1]
    assert list(frame.index) == list("abcdef")
    ci = logit.conf_int(alpha=0.1).to_numpy()
    np.testing.assert_allclose(frame[["[0.05", "0.95]"]].to_numpy(), ci, rtol=1e-12)
    header = rep.tables[0]
    assert list(header.columns) == ["label", "value", "label ", "value "]
    assert header.iloc[0, 1] == "vote"
    latex = rep.as_latex()
    assert latex.count("\\begin{tabular}") == 2 and "P\\textgreater{}\\textbar{}z\\textbar{}" in latex
    assert "\\textbf{Vote model}" in latex
    assert "<caption>Vote model</caption>" in rep.as_html()
    with pytest.raises(ValueError, match="xname has 2 names for the 6 parameters"):
        logit.summary(xname=["a", "b"])


def test_summary_xname_keeps_scale_rows_untested():
    g = pd.read_csv(DATA / "grunfeld.csv")
    res = OLS(g["invest"], g.assign(const=1.0)[["const", "value", "capital"]]).fit()
    rep = res.summary(xname=["b0", "b1", "b2", "s"])
    row = [line for line in rep.as_text().splitlines() if line.startswith("s ")][0]
    assert len(row.split()) == 5           # name, coef, std err and the interval: no z, no p


# --- summary_col ------------------------------------------------------------------------------

# statsmodels 0.15.0: summary_col([sm.Logit(vote, add_constant(anes96[TVnews PID age educ
# income])).fit(), sm.Probit(vote, add_constant(anes96[PID age income])).fit()], stars=True,
# model_names=["Logit", "Probit"]).tables[0]: the coefficient and standard-error cells
SM_SUMMARY_COL = {
    "Logit": ["-5.4803***", "(0.6208)", "0.0105", "(0.0459)", "1.2195***", "(0.0710)",
              "0.0115", "(0.0077)", "0.0148", "(0.0772)", "0.0311", "(0.0210)"],
    "Probit": ["-2.9629***", "(0.2901)", "", "", "0.6733***", "(0.0333)", "0.0064*",
               "(0.0038)", "", "", "0.0181*", "(0.0106)"],
}
# ... and info rows llf (%.2f): -264.12, -265.98


@pytest.fixture(scope="module")
def two_fits(logit):
    from mleopt import Probit
    a = pd.read_csv(DATA / "anes96.csv")
    probit = Probit(a["vote"], a.assign(const=1.0)[["const", "PID", "age", "income"]]).fit()
    return logit, probit


def test_summary_col_matches_statsmodels(two_fits):
    import mleopt
    tab = mleopt.summary_col(list(two_fits), stars=True, model_names=["Logit", "Probit"])
    frame = tab.to_frame()
    for name, cells in SM_SUMMARY_COL.items():
        assert list(frame[name].iloc[:12]) == cells
    assert list(frame.index[:4]) == ["const", "", "TVnews", ""]
    assert list(frame.loc["Log-Likelihood"]) == ["-264.12", "-265.98"]
    assert list(frame.loc["N"]) == ["944", "944"]
    aic = [f"{r.aic:.2f}" for r in two_fits]
    pr2 = [f"{r.prsquared:.4f}" for r in two_fits]
    assert list(frame.loc["AIC"]) == aic and list(frame.loc["Pseudo R-squared"]) == pr2
    assert "R-squared" not in frame.index      # blank for every fit: dropped
    text = tab.as_text()
    assert "Standard errors in parentheses." in text and "* p<.1, ** p<.05, *** p<.01" in text
    assert "-5.4803***" in tab.as_html() and "\\begin{tabular}{lcc}" in tab.as_latex()
    np.testing.assert_allclose(tab.params_frame()["Probit"].dropna(), two_fits[1].params)
    assert np.isnan(tab.bse_frame().loc["TVnews", "Probit"])


def test_summary_col_options(two_fits):
    import mleopt
    logit, probit = two_fits
    tab = mleopt.summary_col([logit, probit], show="t", float_format="%.2f",
                             regressor_order=["PID", "age"], drop_omitted=True,
                             stats=("nobs",), info_dict={
                                 "Link": {"vote I": lambda r: "logit"},
                                 "K": lambda r: str(len(r.params))})
    frame = tab.to_frame()
    assert list(frame.columns) == ["vote I", "vote II"]
    assert list(frame.index) == ["PID", "", "age", "", "N", "Link", "K"]
    assert frame.iloc[1, 0] == f"({logit.tvalues['PID']:.2f})"
    assert list(frame.loc["Link"]) == ["logit", ""] and list(frame.loc["K"]) == ["6", "4"]
    assert "z / t statistics in parentheses." in tab.as_text()
    with pytest.raises(ValueError, match="show must be"):
        mleopt.summary_col([logit], show="p")
    with pytest.raises(ValueError, match="unknown stats"):
        mleopt.summary_col([logit], stats=("r2",))
    with pytest.raises(ValueError, match="regressor_order names"):
        mleopt.summary_col([logit], regressor_order=["PIDD"])
    with pytest.raises(ValueError, match="model names must differ"):
        mleopt.summary_col([logit, probit], model_names=["a", "a"])


def test_summary_col_takes_mnlogit_flat_names(two_fits):
    """MNLogit's params is the K x (J-1) table: its rows are its flat names ("PID=1:age")
    beside the other fits (it raised KeyError)."""
    import mleopt
    from mleopt import MNLogit
    a = pd.read_csv(DATA / "anes96.csv")
    y3 = pd.cut(a["PID"], [-1, 1, 4, 7], labels=False)
    mnl = MNLogit(y3, a.assign(const=1.0)[["const", "TVnews", "age"]]).fit()
    tab = mleopt.summary_col([mnl, two_fits[1]], stars=True, model_names=["MNL", "Probit"])
    frame = tab.to_frame()
    flat = mnl.params_flat
    assert list(frame.index[:12:2]) == list(flat.index)
    assert frame.loc["PID=2:age", "MNL"] == f"{flat['PID=2:age']:.4f}"
    assert frame.iloc[11, 0] == f"({mnl.bse_flat['PID=2:age']:.4f})"
    np.testing.assert_allclose(tab.params_frame()["MNL"].dropna(), flat)
    np.testing.assert_allclose(tab.bse_frame()["MNL"].dropna(), mnl.bse_flat)


def test_reports_sit_above_inference():
    """The report builders (summary, comparison) stand on inference; inference and the
    covariances import only the leaf that formats tables (mleopt.report, numpy/pandas)."""
    from test_layers import import_graph
    graph = import_graph()
    assert graph["mleopt.report"] == set()
    for low in ("mleopt.inference", "mleopt.covariance", "mleopt.resampling"):
        assert not graph[low] & {"mleopt.summary", "mleopt.comparison"}, low
    assert graph["mleopt.comparison"] <= {"mleopt.report"}
    assert "mleopt.inference" in graph["mleopt.summary"]
