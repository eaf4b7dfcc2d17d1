"""Issue 7, items 3, 4, 12 and 14: marginal effects of counts, the LR test's nesting checks,
separation warnings and reports, and the cosmetics of summaries and warnings."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mleopt import Logit, OLS, add_constant

DATA = Path(__file__).resolve().parents[1] / "datasets"

# Spector and Mazzeo (1980), 32 students: GRADE improved (1/0) on GPA, TUCE (a test score,
# a non-negative integer) and PSI (a 0/1 teaching method). Public data, as shipped by
# statsmodels (sm.datasets.spector) and used in Greene's Econometric Analysis.
SPECTOR = pd.DataFrame({
    "GPA": [2.66, 2.89, 3.28, 2.92, 4.00, 2.86, 2.76, 2.87, 3.03, 3.92, 2.63, 3.32, 3.57, 3.26,
            3.53, 2.74, 2.75, 2.83, 3.12, 3.16, 2.06, 3.62, 2.89, 3.51, 3.54, 2.83, 3.39, 2.67,
            3.65, 4.00, 3.10, 2.39],
    "TUCE": [20, 22, 24, 12, 21, 17, 17, 21, 25, 29, 20, 23, 23, 25, 26, 19, 25, 19, 23, 25, 22,
             28, 14, 26, 24, 27, 17, 24, 21, 23, 21, 19],
    "PSI": [0] * 18 + [1] * 14,
    "GRADE": [0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 1, 1,
              0, 1, 1, 0, 1],
}).astype(float)

# statsmodels 0.15.0, Logit(GRADE, add_constant(GPA, TUCE, PSI)).fit().get_margeff(
#     at=AT, dummy=DUMMY, count=COUNT); order GPA, TUCE, PSI. Computed 2026-11-30.
# Stata `logit grade gpa tuce psi; margeff, count` gives PSI 0.3051777 (SE 0.0923796): the
# derivative, because a 0/1 column is not a count.
SPECTOR_MARGEFF = {
    ("overall", False, False): ([0.362580831601, 0.012208410959, 0.305177702284],
                                [0.109441152679, 0.01779416067, 0.092379569359]),
    ("mean", False, False): ([0.533858822089, 0.017975489397, 0.449339276844],
                             [0.237037968457, 0.026236908545, 0.196762639733]),
    ("overall", False, True): ([0.362580831601, 0.012206856991, 0.305177702284],
                               [0.109441152679, 0.017786977274, 0.092379569359]),
    ("mean", False, True): ([0.533858822089, 0.017971865454, 0.449339276844],
                            [0.237037968457, 0.02622107963, 0.196762639733]),
    ("overall", True, False): ([0.362580831601, 0.012208410959, 0.357515163622],
                               [0.109441152679, 0.01779416067, 0.142003390689]),
    ("mean", True, False): ([0.533858822089, 0.017975489397, 0.456498405283],
                            [0.237037968457, 0.026236908545, 0.181053685155]),
    ("overall", True, True): ([0.362580831601, 0.012206856991, 0.357515163622],
                              [0.109441152679, 0.017786977274, 0.142003390689]),
    ("mean", True, True): ([0.533858822089, 0.017971865454, 0.456498405283],
                           [0.237037968457, 0.02622107963, 0.181053685155]),
}


@pytest.fixture(scope="module")
def spector():
    X = add_constant(SPECTOR[["GPA", "TUCE", "PSI"]])
    return Logit(SPECTOR["GRADE"], X).fit()


@pytest.fixture(scope="module")
def anes():
    df = pd.read_csv(DATA / "anes96.csv")
    return df["vote"], add_constant(df[["TVnews", "PID", "age", "educ", "income"]])


# =======================================================================================
# item 3: a 0/1 column is a dummy, never a count
# =======================================================================================

@pytest.mark.parametrize("key", list(SPECTOR_MARGEFF))
def test_margeff_spector_matches_statsmodels(spector, key):
    at, dummy, count = key
    m = spector.get_margeff(at=at, dummy=dummy, count=count)
    effect, se = SPECTOR_MARGEFF[key]
    np.testing.assert_allclose(m.margeff.to_numpy(), effect, rtol=1e-7)
    np.testing.assert_allclose(m.margeff_se.to_numpy(), se, rtol=1e-6)


def test_margeff_count_leaves_binary_columns_out(spector):
    """Stata `margeff, count`: PSI 0.3051777 (SE 0.0923796), the plain derivative."""
    m = spector.get_margeff(count=True)
    assert m.margeff["PSI"] == pytest.approx(0.3051777, abs=5e-8)
    assert m.margeff_se["PSI"] == pytest.approx(0.0923796, abs=5e-8)
    assert m.margeff["PSI"] == spector.get_margeff().margeff["PSI"]


# =======================================================================================
# item 4: lr_test refuses fits that are not nested; the statistic is never negative
# =======================================================================================

@pytest.fixture(scope="module")
def anes_full(anes):
    y, X = anes
    return Logit(y, X).fit()


def test_lr_test_refuses_parameters_outside_the_full_fit(anes_full):
    df = pd.read_csv(DATA / "anes96.csv")
    other = Logit(df["vote"], add_constant(df[["selfLR"]])).fit()   # used to give chi2(4) = 372
    with pytest.raises(ValueError, match=r"parameter\(s\) \['selfLR'\] are not in the full fit"):
        anes_full.lr_test(other)
    with pytest.raises(ValueError, match="not nested"):
        other.lr_test(anes_full)


def test_lr_test_refuses_different_model_classes(anes, anes_full):
    y, X = anes
    ols = OLS(y, X).fit()               # used to give a negative statistic with p = 1
    with pytest.raises(ValueError, match="same model class; got OLS .* and Logit"):
        anes_full.lr_test(ols)
    with pytest.raises(ValueError, match="same model class"):
        Logit(y, X[["const", "PID"]]).fit().lr_test(ols)


def test_lr_test_refuses_same_names_with_other_values(anes, anes_full):
    y, X = anes
    arrays = Logit(y.to_numpy(), X.to_numpy()[:, [0, 2]]).fit()     # names const, x1
    with pytest.raises(ValueError, match=r"\['x1'\] are not in the full fit"):
        anes_full.lr_test(arrays)
    shuffled = X[["const", "PID"]].copy()
    shuffled["PID"] = shuffled["PID"].to_numpy()[::-1]
    with pytest.raises(ValueError, match="regressor 'PID' holds different values"):
        anes_full.lr_test(Logit(y, shuffled).fit())


def test_lr_test_refuses_different_samples(anes, anes_full):
    y, X = anes
    with pytest.raises(ValueError, match="different data"):
        anes_full.lr_test(Logit(y.iloc[:500], X[["const", "PID"]].iloc[:500]).fit())
    with pytest.raises(ValueError, match="different dependent variables"):
        anes_full.lr_test(Logit(1 - y, X[["const", "PID"]]).fit())


def test_lr_test_clearly_negative_is_an_error(anes):
    y, X = anes
    with pytest.warns(Warning, match="did not converge"):
        stopped = Logit(y, X).fit(maxiter=1, start_params=np.zeros(6))
    restricted = Logit(y, X[["const", "PID"]]).fit()
    assert stopped.llf < restricted.llf
    with pytest.raises(ValueError, match="'restricted' fit .* has a higher log-likelihood"), \
            pytest.warns(Warning, match="the full fit did not converge"):
        stopped.lr_test(restricted)


def test_lr_test_rounding_shortfall_is_zero(anes, anes_full):
    """Equal log-likelihoods up to rounding give LR = 0 and p = 1, never a negative LR."""
    import copy

    y, X = anes
    restricted = Logit(y, X[["const", "PID"]]).fit()
    full = copy.copy(anes_full)
    full.__dict__["llf"] = restricted.llf * (1 + 1e-12)       # 1e-12 relative below it
    lr = full.lr_test(restricted)
    assert lr.statistic == 0.0 and lr.pvalue == 1.0 and lr.df == 4
    nested = anes_full.lr_test(restricted)
    assert nested.statistic == pytest.approx(2 * (anes_full.llf - restricted.llf), rel=1e-12)
    assert nested.statistic > 0


# =======================================================================================
# item 12: separation="warn" gives one warning naming the right columns, and a summary note
# =======================================================================================

def _separated_anes(kind: str) -> tuple[pd.Series, pd.DataFrame]:
    df = pd.read_csv(DATA / "anes96.csv")
    d = df[["PID", "age", "educ"]].astype(float)
    vote = df["vote"]
    if kind == "column":        # 'sep' is 0 when vote = 0 and above 1 when vote = 1
        d["sep"] = np.where(vote == 1, 1.0 + df["age"] / 100, 0.0)
    else:                       # z1 + z2 > 0 exactly when vote = 1; neither does it alone
        rng = np.random.default_rng(0)
        d["z1"] = rng.normal(size=len(d))
        d["z2"] = np.where(vote == 1, 1.0, -1.0) * rng.uniform(0.1, 2.0, len(d)) - d["z1"]
        d = d[["PID", "z1", "age", "z2", "educ"]]
    return vote, add_constant(d)


@pytest.mark.parametrize("kind, named", [("column", ["sep"]), ("combination", ["z1", "z2"])])
@pytest.mark.parametrize("model", ["Logit", "Probit"])
def test_separation_warn_is_one_warning_naming_the_right_columns(kind, named, model):
    import mleopt
    from mleopt import PerfectSeparationError, PerfectSeparationWarning

    y, X = _separated_anes(kind)
    cls = getattr(mleopt, model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = cls(y, X, separation="warn").fit()
    seps = [w for w in caught if issubclass(w.category, PerfectSeparationWarning)]
    assert len(seps) == 1, [str(w.message) for w in seps]
    text = str(seps[0].message)
    others = [c for c in X.columns if c != "const" and c not in named]
    assert all(repr(c) in text for c in named), text
    assert not any(repr(c) in text for c in others), text
    assert seps[0].filename == __file__         # attributed to the user's line
    summary = res.summary().as_text()
    assert "WARNING: perfect separation" in summary
    assert all(repr(c) in summary for c in named)
    with pytest.raises(PerfectSeparationError) as err:
        cls(y, X).fit()
    assert all(repr(c) in str(err.value) for c in named)
    assert not any(repr(c) in str(err.value) for c in others)


def test_no_separation_note_without_separation(anes_full):
    assert "separation" not in anes_full.summary().as_text()


# =======================================================================================
# item 14: cosmetics
# =======================================================================================

def test_replicate_speedup_sentence():
    from mleopt.replication import speedup_verdict

    every = speedup_verdict([10, 50, 100], [10, 50, 100])
    assert every.endswith("at every K compared (10, 50, 100).") and "[" not in every
    assert speedup_verdict([], [10, 50]).endswith("at no K compared (10, 50).")
    assert speedup_verdict([10], [10, 50, 100]).endswith("at K = 10, not at K = 50, 100.")


class _ByPosition(__import__("mleopt").LikelihoodModel):
    """A user model that reads exog's columns by position: its null model cannot run."""

    def loglikeobs(self, p):
        from mleopt.special import log_expit
        eta = p[0] * self.exog[:, 0] + p[1] * self.exog[:, 1]
        return log_expit((2 * self.endog - 1) * eta)


def test_warnings_point_at_the_users_line(anes):
    """warn_user skips mleopt's frames and the functools.cached_property behind llnull."""
    y, X = anes
    res = _ByPosition(y, X[["const", "PID"]]).fit()
    with pytest.warns(UserWarning, match="llnull is not available") as caught:
        res.llnull
    assert [w.filename for w in caught] == [__file__]
    res = _ByPosition(y, X[["const", "PID"]]).fit()
    with pytest.warns(UserWarning, match="llnull is not available") as caught:
        res.summary()
    assert {w.filename for w in caught} == {__file__}


def test_wald_nan_warning_points_at_the_users_line():
    from mleopt import HessianWarning, fit_mle
    from mleopt.stats import norm

    y = np.random.default_rng(0).normal(size=100)
    with pytest.warns(HessianWarning):
        res = fit_mle(lambda p: norm.logpdf(y, loc=p[0] + 0 * p[1], scale=1.0), np.zeros(2))
    with pytest.warns(UserWarning, match="Wald statistic is NaN") as caught:
        res.wald_test("par1 = 0")
    assert [w.filename for w in caught] == [__file__]


def _table_row(text: str, name: str) -> str:
    return next(line for line in text.splitlines() if line.split()[:1] == [name])


def test_fit_mle_summary_is_honest_about_its_header():
    import re

    import mleopt.numpy as mnp
    from mleopt import fit_mle
    from mleopt.stats import norm

    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    y = 1 + 2 * x + rng.normal(size=200)

    def normal_ll(p):
        return norm.logpdf(y, loc=p[0] + p[1] * x, scale=mnp.exp(p[2]))

    text = fit_mle(normal_ll, np.zeros(3)).summary().as_text()
    assert re.search(r"Dep\. Variable:\s+\(none: fit_mle\)", text)
    assert re.search(r"Function:\s+normal_ll", text)
    assert re.search(r"Df Model:\s+-\s", text) and not re.search(r"Df Model:\s+0", text)
    assert re.search(r"Df Residuals:\s+197", text)


def test_ols_summary_shows_no_z_for_sigma():
    df = pd.read_csv(DATA / "grunfeld.csv")
    res = OLS(df["invest"], add_constant(df[["value", "capital"]])).fit()
    text = res.summary().as_text()
    sigma = _table_row(text, "sigma").split()
    # coef, std err and the interval; no z of sqrt(2N) and no p-value
    assert sigma[1:] == [f"{res.params['sigma']:.4f}", f"{res.bse['sigma']:.3f}",
                         *[f"{v:.3f}" for v in res.conf_int().loc["sigma"]]]
    assert len(_table_row(text, "value").split()) == 7
    assert "sigma: a scale parameter" in text
    assert "<td></td><td></td>" in res.summary().as_html()
    assert np.isfinite(res.pvalues["sigma"])          # the attribute keeps its number


def test_lr_test_poisson_within_negbin_carries_the_boundary_note():
    from mleopt import NegativeBinomial, Poisson

    df = pd.read_csv(DATA / "randhie.csv")
    X = add_constant(df[["lncoins", "idp", "lpi", "fmde", "physlm", "disea"]])
    pois, nb = Poisson(df["mdvis"], X).fit(), NegativeBinomial(df["mdvis"], X).fit()
    lr = nb.lr_test(pois)
    assert lr.df == 1 and lr.statistic == pytest.approx(2 * (nb.llf - pois.llf), rel=1e-12)
    assert "boundary" in lr.note and "half" in repr(lr)
    assert nb.lr_test(NegativeBinomial(df["mdvis"], X[["const", "idp"]]).fit()).note is None


def test_count_model_separation_note_in_summary():
    from mleopt import PerfectSeparationWarning, Poisson

    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    d = (rng.random(300) < 0.2).astype(float)
    y = rng.poisson(np.exp(0.5 + 0.3 * x)).astype(float)
    y[d == 1] = 0                           # d = 1 only where y = 0: its coefficient -> -inf
    X = add_constant(pd.DataFrame({"x": x, "d": d}))
    with pytest.warns(PerfectSeparationWarning) as caught:
        res = Poisson(y, X, separation="warn").fit()
    assert len([w for w in caught if w.category is PerfectSeparationWarning]) == 1
    text = res.summary().as_text()
    assert "WARNING: the MLE does not exist" in text and "'d'" in text and "'x'" not in text


def test_lr_test_refuses_different_offsets_or_exposures():
    # review of item 4: an offset or exposure enters the likelihood like a regressor with a
    # fixed coefficient; fits with different ones are not nested (and were compared silently)
    from mleopt import Poisson

    df = pd.read_csv(DATA / "randhie.csv")
    X = add_constant(df[["lncoins", "idp", "lpi"]])
    y = df["mdvis"]
    restricted = Poisson(y, X[["const", "idp"]]).fit()
    with pytest.raises(ValueError, match="offset"):
        Poisson(y, X, offset=df["fmde"]).fit().lr_test(restricted)
    with pytest.raises(ValueError, match="offset"):
        Poisson(y, X, exposure=np.exp(df["physlm"])).fit().lr_test(restricted)
    # the same total offset, given as offset in one fit and exposure in the other, is nested
    full = Poisson(y, X, offset=df["physlm"]).fit()
    same = Poisson(y, X[["const", "idp"]], exposure=np.exp(df["physlm"])).fit()
    lr = full.lr_test(same)
    assert lr.statistic == pytest.approx(2 * (full.llf - same.llf), rel=1e-10)


def test_lr_test_user_model_per_row_vectors_must_agree():
    import mleopt.numpy as mnp
    from mleopt import LikelihoodModel

    class PoissonOff(LikelihoodModel):      # log mu = x'b + off
        def loglikeobs(self, p):
            eta = self.exog @ p + self.off
            return self.endog * eta - mnp.exp(eta)

    df = pd.read_csv(DATA / "randhie.csv")
    X, y, off = add_constant(df[["idp", "lncoins"]]), df["mdvis"], df["lpi"].to_numpy()
    full = PoissonOff(y, X, off=off).fit()
    lr = full.lr_test(PoissonOff(y, X[["const", "idp"]], off=off).fit())
    assert lr.df == 1 and lr.statistic > 0
    with pytest.raises(ValueError, match="'off' differs"):
        full.lr_test(PoissonOff(y, X[["const", "idp"]], off=np.zeros(len(df))).fit())
