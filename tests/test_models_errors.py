"""Bad input and failure (issue 3, section 5): each gets a clear error or an honest warning.

Every message is checked for what it must tell the user: the column or parameter, how many
rows, and what to do.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mleopt import (OLS, LikelihoodModel, Logit, NegativeBinomial, Poisson, Probit,
                    add_constant)
from mleopt import numpy as mnp
from mleopt.exceptions import (CollinearityError, DataError, MissingDataError,
                               PerfectSeparationError, PerfectSeparationWarning,
                               StartValueError)
from mleopt.ad import TraceError

DATA = Path(__file__).resolve().parents[1] / "datasets"


@pytest.fixture(scope="module")
def anes():
    df = pd.read_csv(DATA / "anes96.csv")
    return df["vote"], add_constant(df[["TVnews", "PID", "age", "educ", "income"]])


def small():
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.standard_normal(50), "b": rng.standard_normal(50)})
    y = pd.Series((rng.random(50) < 0.5).astype(float), name="yy")
    return y, add_constant(x)


# =======================================================================================
# data
# =======================================================================================

def test_nan_in_exog_names_column_and_rows():
    y, x = small()
    x = x.copy()
    x.loc[[1, 4, 7], "b"] = np.nan
    with pytest.raises(MissingDataError, match=r"'b' \(3 rows\).*3 of 50 rows.*missing='drop'"):
        Logit(y, x)
    assert isinstance(MissingDataError("x"), ValueError)


def test_nan_and_inf_in_endog_and_array_exog():
    y, x = small()
    y = y.copy()
    y.iloc[0] = np.nan
    with pytest.raises(MissingDataError, match=r"'yy' \(1 row\)"):
        Logit(y, x)
    xa = x.to_numpy().copy()
    xa[5, 2] = np.inf
    with pytest.raises(MissingDataError, match=r"'x2' \(1 row\)"):
        Logit(small()[0], xa)


def test_missing_option_validated():
    with pytest.raises(ValueError, match="missing must be 'raise' or 'drop'"):
        Logit(*small(), missing="none")


def test_all_rows_missing():
    y, x = small()
    with pytest.raises(MissingDataError, match="every row"):
        Logit(y * np.nan, x, missing="drop")


def test_mismatched_lengths():
    y, x = small()
    with pytest.raises(DataError, match="endog 'y' has 50 rows but exog has 49"):
        Logit(y.to_numpy(), x.to_numpy()[:49])
    with pytest.raises(DataError, match="offset has 10 rows but endog has 50"):
        Poisson(np.ones(50), x, offset=np.zeros(10))
    with pytest.raises(DataError, match="different row indexes"):
        Logit(y, x.set_axis(range(100, 150)))


def test_string_object_and_categorical_columns_are_named():
    y, x = small()
    x = x.copy()
    x["city"] = ["Paris"] * 50
    with pytest.raises(DataError, match=r"column 'city' holds non-numeric values \(e.g. "
                                        r"'Paris' in row 0\).*get_dummies"):
        Logit(y, x)
    x = small()[1].copy()
    x["c"] = pd.Categorical(["u", "v"] * 25)
    with pytest.raises(DataError, match="column 'c' is categorical"):
        Logit(y, x)
    with pytest.raises(DataError, match="column 'y' holds non-numeric"):
        Logit(np.array(["a"] * 50), x.drop(columns="c"))


def test_numeric_object_columns_are_accepted():
    y, x = small()
    xo = x.astype(object)
    res = Logit(y, xo).fit()
    np.testing.assert_allclose(res.params, Logit(y, x).fit().params, rtol=1e-12)


def test_empty_data_and_too_few_observations():
    with pytest.raises(DataError, match="empty"):
        Logit([], np.empty((0, 2)))
    x = add_constant(np.arange(3.0))
    with pytest.raises(DataError, match="3 observations but 4 parameters"):
        OLS([1.0, 2.0, 4.0], np.column_stack([x, [0.0, 1.0, 0.0]]))
    with pytest.raises(DataError, match="exog has no columns"):
        Logit([0, 1], np.empty((2, 0)))


def test_collinear_columns_are_named():
    y, x = small()
    x = x.copy()
    x["c"] = x["a"] + 2 * x["b"]
    with pytest.raises(CollinearityError, match=r"'c' = 1\*a \+ 2\*b"):
        Logit(y, x)
    x = small()[1].copy()
    x["const2"] = 3.0
    with pytest.raises(CollinearityError, match=r"'const2' = 3\*const"):
        Logit(y, x)
    x = small()[1].copy()
    x["z"] = 0.0
    with pytest.raises(CollinearityError, match="column 'z' is all zeros"):
        OLS(y, x)


def test_ill_conditioned_is_not_collinear():
    df = pd.read_csv(DATA / "longley.csv")
    OLS(df["TOTEMP"], add_constant(df.drop(columns="TOTEMP")))   # condition number ~5e9


# =======================================================================================
# model-specific endog checks
# =======================================================================================

@pytest.mark.parametrize("model", [Logit, Probit])
def test_binary_endog_must_be_zero_one(model):
    y, x = small()
    y = y.copy()
    y.iloc[[0, 1, 2]] = [2.0, 2.0, -1.0]
    with pytest.raises(DataError, match=rf"{model.__name__} needs endog 'yy' to be 0 or 1; "
                                        r"found -1 \(1 row\), 2 \(2 rows\)"):
        model(y, x)
    with pytest.raises(PerfectSeparationError, match="is 1 in every row"):
        model(np.ones(50), x)


@pytest.mark.parametrize("model", [Poisson, NegativeBinomial])
def test_counts_must_be_nonnegative_integers(model):
    _, x = small()
    y = np.arange(50.0)
    y[[3, 4]] = -1.0
    with pytest.raises(DataError, match=r"endog 'y' has 2 negative values \(e.g. -1 in row 3"):
        model(y, x)
    y = np.arange(50.0)
    y[7] = 2.5
    with pytest.raises(DataError, match=r"1 non-integer values \(e.g. 2.5 in row 7\)"):
        model(y, x)
    with pytest.raises(DataError, match="exposure must be positive; 1 of 50 rows"):
        model(np.arange(50.0), x, exposure=np.r_[0.0, np.ones(49)])


@pytest.mark.parametrize("model", [OLS, Logit, Probit, Poisson, NegativeBinomial])
def test_builtin_models_need_exog(model):
    # OLS(y) used to fail with "'NoneType' object has no attribute 'T'", Logit(y) with a
    # misleading "parameter names are not known yet"
    y, _ = small()
    with pytest.raises(DataError, match=f"{model.__name__} needs exog"):
        model(y)


@pytest.mark.parametrize("model", [Poisson, NegativeBinomial])
def test_all_zero_counts_with_a_constant_are_refused(model):
    # used to "converge" to const = log(1e-8) with huge standard errors and no warning
    _, x = small()
    with pytest.raises(DataError, match="'y' is 0 in every row"):
        model(np.zeros(50), x)


# =======================================================================================
# perfect separation
# =======================================================================================

@pytest.mark.parametrize("model", [Logit, Probit])
def test_complete_separation_by_one_column(model):
    rng = np.random.default_rng(3)
    x = pd.DataFrame({"a": rng.standard_normal(60), "score": np.arange(60.0)})
    y = pd.Series((x["score"] > 29.5).astype(float), name="pass")
    with pytest.raises(PerfectSeparationError,
                       match=r"complete\): column 'score' predicts the outcome perfectly "
                             r"\(pass = 1 whenever score > 29 and pass = 0 otherwise\)"):
        model(y, add_constant(x))


def test_quasi_complete_separation_by_a_dummy():
    rng = np.random.default_rng(4)
    x = pd.DataFrame({"a": rng.standard_normal(80), "d": (np.arange(80) < 10).astype(float)})
    y = np.where(x["d"] == 1, 1.0, (rng.random(80) < 0.4).astype(float))
    with pytest.raises(PerfectSeparationError, match=r"quasi-complete\): column 'd'"):
        Logit(y, add_constant(x))


def test_separation_by_a_combination_is_found_after_the_fit():
    rng = np.random.default_rng(5)
    x = pd.DataFrame({"u": rng.standard_normal(100), "v": rng.standard_normal(100)})
    y = (x["u"] + x["v"] > 0).astype(float)         # neither column alone separates
    with pytest.raises(PerfectSeparationError, match=r"columns 'u', 'v' predicts"):
        Logit(y, add_constant(x)).fit()
    with pytest.warns(PerfectSeparationWarning):
        Logit(y, add_constant(x), separation="warn").fit()


def test_separation_warn_option(anes):
    rng = np.random.default_rng(3)
    x = pd.DataFrame({"score": np.arange(60.0), "a": rng.standard_normal(60)})
    y = (x["score"] > 29.5).astype(float)
    with pytest.warns(PerfectSeparationWarning, match="column 'score'"):
        Logit(y, add_constant(x), separation="warn")
    with pytest.raises(ValueError, match="separation must be"):
        Logit(*anes, separation="ignore")


def test_no_false_separation_on_real_data(anes):
    assert Logit(*anes).fit().converged


# =======================================================================================
# start values and arguments
# =======================================================================================

def test_start_value_outside_parameter_space():
    df = pd.read_csv(DATA / "randhie.csv").iloc[:500]
    x = add_constant(df[["lncoins", "physlm"]])
    with pytest.raises(StartValueError, match=r"alpha=-1.*alpha cannot be mapped"):
        NegativeBinomial(df["mdvis"], x).fit(start_params=[0.0, 0.0, 0.0, -1.0])


def test_start_value_with_infinite_loglike():
    class Expo(LikelihoodModel):
        def loglikeobs(self, params):
            rate = self.exog @ params
            return mnp.log(rate) - rate * self.endog

    y = np.array([1.0, 2.0, 0.5])
    with pytest.raises(StartValueError, match=r"not finite in 3 of 3 observations.*"
                                              r"start values \(const=0\)"):
        Expo(y, np.ones((3, 1))).fit(start_params=[0.0])
    assert Expo(y, np.ones((3, 1))).fit(start_params=[1.0]).converged


def test_wrong_number_of_start_params(anes):
    with pytest.raises(ValueError, match="start_params has 3 values but the model has 6"):
        Logit(*anes).fit(start_params=[0.0, 0.0, 0.0])


def test_unknown_keyword_argument(anes):
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        Logit(*anes, bogus=3)


def test_loglikeobs_must_be_defined():
    with pytest.raises(NotImplementedError, match="must define loglikeobs"):
        LikelihoodModel(np.ones(5), np.ones((5, 1))).fit()


def test_bad_fit_settings_are_refused(anes):
    y, X = anes
    model = Logit(y, X)
    with pytest.raises(ValueError, match="gtol must be a positive number"):
        model.fit(gtol=0)
    with pytest.raises(ValueError, match="maxiter must be a positive integer"):
        model.fit(maxiter=0)
    with pytest.raises(TypeError, match=r"unknown option\(s\) gtoll for method='newton'"):
        model.fit(gtoll=1e-9)


def test_misaligned_series_and_bad_predict_inputs_are_refused():
    df = pd.read_csv(DATA / "randhie.csv").iloc[:400]
    X = add_constant(df[["lncoins", "physlm"]])
    # an index that is a permutation of the data's is matched by label
    # (tests/test_issue7_inputs.py); one with other labels is refused
    exposure = pd.Series(1.0 + df["disea"].to_numpy(), index=df.index + 1000)
    with pytest.raises(DataError, match="exposure is a pandas Series whose index differs"):
        Poisson(df["mdvis"], X, exposure=exposure)
    res = Poisson(df["mdvis"], X).fit()
    with pytest.raises(ValueError, match="one value per row of exog"):
        res.model.predict(res.params.to_numpy(), X.to_numpy()[:5], exposure=np.ones(3))
    with pytest.raises(ValueError, match="exposure must be positive"):
        res.model.predict(res.params.to_numpy(), X.to_numpy()[:5], exposure=-np.ones(5))


def test_lr_test_needs_the_same_dependent_variable():
    df = pd.read_csv(DATA / "anes96.csv")
    X = add_constant(df[["PID", "age"]])
    big = Logit(df["vote"], X).fit()
    other = Logit(1 - df["vote"], X[["const", "PID"]]).fit()
    with pytest.raises(ValueError, match="different dependent variables"):
        big.lr_test(other)


def test_count_models_name_a_column_that_only_lowers_zero_counts():
    """A dummy with y = 0 wherever it is 1: its coefficient diverges to -inf (no MLE), though
    the gradient tolerance can be met on the way; the fit says so instead of reporting it."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    d = (rng.random(300) < 0.2).astype(float)
    y = rng.poisson(np.exp(0.5 + 0.3 * x)).astype(float)
    y[d == 1] = 0
    X = add_constant(pd.DataFrame({"x": x, "d": d}))
    for model in (Poisson, NegativeBinomial):
        with pytest.raises(PerfectSeparationError, match=r"MLE does not exist.*'d'"):
            model(y, X).fit()
        with pytest.warns(PerfectSeparationWarning, match="'d'"):
            model(y, X, separation="warn").fit()
    # the same design with ordinary counts is fitted as usual
    y_ok = rng.poisson(np.exp(0.5 + 0.3 * x + 0.5 * d)).astype(float)
    assert Poisson(y_ok, X).fit().converged


def test_start_value_errors_point_at_the_real_cause(anes):
    y, X = anes

    class Copies(LikelihoodModel):  # writes a traced value into a plain numpy array
        def loglikeobs(self, params):
            b = np.zeros(params.shape[0])
            b[0] = params[0]
            return -(self.endog - self.exog @ b) ** 2

    with pytest.raises(TraceError, match="assigned into a plain array.*np.stack"):
        Copies(y, X).fit()

    class NeedsSigma(LikelihoodModel):  # uses one parameter more than exog has columns
        def loglikeobs(self, params):
            return -(self.endog - self.exog @ params[:-1]) ** 2 / params[-1]

    with pytest.raises(StartValueError, match="6 parameters .*extra_param_names"):
        NeedsSigma(y, X).fit()


def test_restriction_typos_are_named(anes):
    res = Logit(*anes).fit()
    with pytest.raises(ValueError, match="no parameter named 'PIDD'.*Did you mean 'PID'"):
        res.wald_test("PIDD = 0")
    with pytest.raises(ValueError, match="no parameter named 'incom'.*'income'"):
        res.t_test("incom = 0")
    with pytest.raises(ValueError, match=r"no parameter named 'incom' in"):   # not 'incom)'
        res.wald_test("2*(PID - incom) = 0")
    with pytest.raises(ValueError, match=r"unknown cov_kwds \['group'\]"):
        res.get_robustcov_results("cluster", group=np.arange(944))
