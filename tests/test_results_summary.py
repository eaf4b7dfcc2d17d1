"""summary(): the text and HTML reports, summary_frame(), non-convergence shown visibly."""
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mleopt import OLS, ConvergenceWarning, Logit, NegativeBinomial

DATA = Path(__file__).resolve().parents[1] / "datasets"


@pytest.fixture(scope="module")
def logit():
    df = pd.read_csv(DATA / "anes96.csv")
    x = df[["TVnews", "PID", "age", "educ", "income"]].astype(float)
    x.insert(0, "const", 1.0)
    return Logit(df["vote"], x).fit()


@pytest.fixture(scope="module")
def ols():
    df = pd.read_csv(DATA / "grunfeld.csv")
    x = df[["value", "capital"]].astype(float)
    x.insert(0, "const", 1.0)
    return OLS(df["invest"], x).fit(cov_type="classical")


def table_lines(text):
    """The coefficient table: the lines between the '---' rule and the closing '==='."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if set(ln) == {"-"})
    end = next(i for i in range(start + 1, len(lines)) if set(lines[i]) == {"="})
    return lines[start - 1:start], lines[start + 1:end]


def test_text_header_and_table(logit):
    text = logit.summary().as_text()
    # str() renders the same report (up to the clock: Date/Time may tick between the two)
    # (the label, the spaces that right-align the value, and the value itself)
    no_clock = re.compile(r"(Date|Time):\s+\S.*?(?=\s{2,}|$)", re.M)
    assert no_clock.sub("", str(logit.summary())) == no_clock.sub("", text)
    lines = text.splitlines()
    assert lines[0].strip() == "Logit Regression Results"
    for label in ("Dep. Variable:", "Model:", "Method:", "Date:", "Time:", "No. Observations:",
                  "Df Residuals:", "Df Model:", "converged:", "Covariance Type:",
                  "Log-Likelihood:", "LL-Null:", "LLR p-value:", "Pseudo R-squ.:", "AIC:",
                  "BIC:"):
        assert label in text, label
    assert re.search(r"Dep\. Variable:\s+vote", text)
    assert re.search(r"Method:\s+MLE \(\S+\)", text)              # the optimiser is named
    assert re.search(r"No\. Observations:\s+944", text)
    assert re.search(r"converged:\s+True", text)
    assert re.search(r"Covariance Type:\s+nonrobust", text)
    assert f"{logit.llf:.2f}" in text and f"{logit.prsquared:.4f}" in text
    assert f"{logit.aic:.2f}" in text and f"{logit.bic:.2f}" in text
    header, rows = table_lines(text)
    assert header[0].split() == ["coef", "std", "err", "z", "P>|z|", "[0.025", "0.975]"]
    assert [r.split()[0] for r in rows] == list(logit.params.index)
    pid = rows[2].split()
    assert pid[1:4] == [f"{logit.params['PID']:.4f}", f"{logit.bse['PID']:.3f}",
                        f"{logit.tvalues['PID']:.3f}"]


def test_text_is_aligned(logit, ols):
    for res in (logit, ols, logit.get_robustcov_results("HC1")):
        text = res.summary().as_text()
        header, rows = table_lines(text)
        widths = {len(ln) for ln in header + rows}
        rules = {len(ln) for ln in text.splitlines() if ln and set(ln) <= {"=", "-"}}
        assert len(widths) == 1 and widths == rules, text
        # every number column ends at the same position (sigma's z and p cells are blank)
        ends = [[m.end() for m in re.finditer(r"\S+", ln)][1:] for ln in rows]
        full = [e for e in ends if len(e) == 6]
        assert all(e == full[0] for e in full)
        assert all(set(e) <= set(full[0]) for e in ends)
        # header lines never exceed the width
        assert max(len(ln) for ln in text.splitlines()) == widths.pop()


def test_ols_summary_uses_t_and_r_squared(ols):
    text = ols.summary().as_text()
    assert text.splitlines()[0].strip() == "OLS Regression Results"
    for label in ("R-squared:", "Adj. R-squared:", "F-statistic:", "Prob (F-statistic):"):
        assert label in text
    assert "Pseudo R-squ." not in text
    assert "P>|t|" in text and "P>|z|" not in text
    assert f"{ols.rsquared:.3f}" in text and "sigma" in text
    assert "P>|z|" in ols.get_robustcov_results("HC3").summary().as_text()


def test_long_names_widen_the_table():
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"const": 1.0, "a_really_quite_long_regressor_name": rng.normal(size=60)})
    y = pd.Series((rng.random(60) < 0.5).astype(float), name="outcome")
    text = Logit(y, x).fit().summary().as_text()
    header, rows = table_lines(text)
    assert len({len(ln) for ln in header + rows}) == 1
    assert rows[1].startswith("a_really_quite_long_regressor_name ")


def test_html(logit):
    summary = logit.summary()       # one report: a second one may be a clock tick later
    html = summary.as_html()
    assert html.count("<table") == 2 and "</table>" in html
    assert "<th>PID</th>" in html and "Logit Regression Results" in html
    assert summary._repr_html_() == html
    assert "<table" in logit.get_margeff().summary().as_html()


def test_summary_frame(logit, ols):
    frame = logit.summary_frame()
    assert list(frame.columns) == ["coef", "std err", "z", "P>|z|", "[0.025", "0.975]"]
    assert list(frame.index) == list(logit.params.index)
    np.testing.assert_allclose(frame["coef"], logit.params)
    np.testing.assert_allclose(frame["std err"], logit.bse)
    np.testing.assert_allclose(frame[["[0.025", "0.975]"]], logit.conf_int())
    assert list(logit.summary_frame(alpha=0.1).columns[-2:]) == ["[0.05", "0.95]"]
    assert list(ols.summary_frame().columns[2:4]) == ["t", "P>|t|"]


def test_non_convergence_is_visible():
    df = pd.read_csv(DATA / "randhie.csv").iloc[:3000]
    x = df[["lncoins", "idp", "physlm"]].astype(float)
    x.insert(0, "const", 1.0)
    with pytest.warns(ConvergenceWarning, match="did not converge after 2 iterations"):
        res = NegativeBinomial(df["mdvis"], x).fit(method="bfgs", maxiter=2)
    assert res.converged is False
    text = res.summary().as_text()
    assert re.search(r"converged:\s+False", text)
    assert "did not converge" in text.split("=" * 10)[-1]          # under the table
    assert "did not converge" in res.summary().as_html()
