"""Issue 7, items 1, 2 and 13: inputs that were silently misused.

1. A pandas Series handed over after construction (cluster groups in fit /
   get_robustcov_results, predict's offset / exposure, start_params, params) is matched by
   its index (the data's rows, or the parameter names), never by position; an index that
   does not match is refused. The same helper (mleopt.data.align_labels) serves the per-row
   arrays given at construction.
2. Built-in models refuse keyword arguments they do not use (weights=..., typos), naming
   them, the accepted ones and a did-you-mean; user models keep their per-row arrays.
13. Cluster covariance with too few clusters for the number of parameters warns and says so
   in the summary.
"""
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import references as ref
from mleopt import (OLS, LikelihoodModel, Logit, NegativeBinomial, Poisson, Probit,
                    add_constant)
from mleopt.exceptions import DataError

DATA = Path(__file__).resolve().parents[1] / "datasets"


@pytest.fixture(scope="module")
def grunfeld():
    df = pd.read_csv(DATA / "grunfeld.csv")
    return df, add_constant(df[["value", "capital"]].astype(float))


@pytest.fixture(scope="module")
def grunfeld_ols(grunfeld):
    df, x = grunfeld
    return OLS(df["invest"], x).fit()


@pytest.fixture(scope="module")
def randhie():
    df = pd.read_csv(DATA / "randhie.csv").iloc[:600].copy()
    return df, add_constant(df[["lncoins", "physlm"]])


def _shuffled(s: pd.Series, seed: int = 0) -> pd.Series:
    return s.iloc[np.random.default_rng(seed).permutation(len(s))]


# =======================================================================================
# 1. cluster groups are matched by index
# =======================================================================================

def test_cluster_groups_series_in_another_order_is_matched_by_index(grunfeld, grunfeld_ols):
    """Reference: statsmodels 0.15 OLS cluster SEs by firm (tests/references.py,
    GRUNFELD_OLS['bse_cluster']); a shuffled groups Series gave const SE ~10.8 before."""
    df, x = grunfeld
    firm = _shuffled(df["firm"])
    assert not firm.index.equals(df.index)
    res = OLS(df["invest"], x).fit(cov_type="cluster", cov_kwds={"groups": firm})
    np.testing.assert_allclose(res.bse.to_numpy()[:3], ref.GRUNFELD_OLS["bse_cluster"],
                               rtol=1e-8)
    again = grunfeld_ols.get_robustcov_results("cluster", groups=firm)
    np.testing.assert_allclose(again.bse.to_numpy(), res.bse.to_numpy(), rtol=1e-12)


def test_whole_data_shuffled_with_groups_in_original_order(grunfeld):
    df, x = grunfeld
    perm = np.random.default_rng(1).permutation(len(df))
    res = OLS(df["invest"].iloc[perm], x.iloc[perm]).fit(
        cov_type="cluster", cov_kwds={"groups": df["firm"]})
    np.testing.assert_allclose(res.bse.to_numpy()[:3], ref.GRUNFELD_OLS["bse_cluster"],
                               rtol=1e-8)


def test_cluster_groups_with_another_index_are_refused(grunfeld, grunfeld_ols):
    df, x = grunfeld
    shifted = df["firm"].set_axis(df.index + 1)
    msg = ("cluster groups is a pandas Series whose index differs from the data's row "
           r"index: 1 label\(s\) of the data's row index are not among its labels \(e.g. 0\); "
           r"1 of its labels are not in the data's row index \(e.g. 220\)")
    with pytest.raises(DataError, match=msg):
        OLS(df["invest"], x).fit(cov_type="cluster", cov_kwds={"groups": shifted})
    with pytest.raises(DataError, match="groups.loc"):
        grunfeld_ols.get_robustcov_results("cluster", groups=shifted)
    dup = df["firm"].set_axis(np.r_[df.index[:-1], 0])
    with pytest.raises(DataError, match="labels are not unique"):
        grunfeld_ols.get_robustcov_results("cluster", groups=dup)
    # a Series with the data's labels minus some rows is refused (not matched by position)
    with pytest.raises(DataError, match=r"20 label\(s\) of the data's row index are not "
                                        "among its labels"):
        grunfeld_ols.get_robustcov_results("cluster", groups=_shuffled(df["firm"])[:200])


def test_numpy_groups_stay_positional(grunfeld, grunfeld_ols):
    df, _ = grunfeld
    res = grunfeld_ols.get_robustcov_results("cluster", groups=df["firm"].to_numpy())
    np.testing.assert_allclose(res.bse.to_numpy()[:3], ref.GRUNFELD_OLS["bse_cluster"],
                               rtol=1e-8)


def test_cluster_groups_over_original_rows_after_missing_drop(grunfeld):
    df, x = grunfeld
    x = x.copy()
    x.loc[[3, 50], "value"] = np.nan
    keep = x.notna().all(axis=1)
    model = OLS(df["invest"], x, missing="drop")
    ref_fit = OLS(df["invest"][keep], x[keep]).fit(cov_type="cluster",
                                                   cov_kwds={"groups": df["firm"][keep]})
    for groups in (_shuffled(df["firm"]), _shuffled(df["firm"][keep])):
        res = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
        np.testing.assert_allclose(res.bse, ref_fit.bse, rtol=1e-10)


# =======================================================================================
# 1. the other arrays: construction, predict, start values, params
# =======================================================================================

def test_exposure_and_offset_series_in_another_order_are_matched_at_construction(randhie):
    df, x = randhie
    exposure = 1.0 + df["disea"]
    offset = 0.1 * df["lpi"]
    base = Poisson(df["mdvis"], x, exposure=exposure, offset=offset).fit()
    res = Poisson(df["mdvis"], x, exposure=exposure.iloc[::-1],
                  offset=_shuffled(offset)).fit()
    np.testing.assert_allclose(res.params, base.params, rtol=1e-10)
    assert np.array_equal(res.model.exposure, exposure.to_numpy())


def test_user_model_per_row_array_is_matched_by_index():
    df = pd.read_csv(DATA / "anes96.csv")

    class Weighted(LikelihoodModel):
        def loglikeobs(self, params):
            p = 1.0 / (1.0 + np.exp(-(self.exog @ params)))
            return self.w * (self.endog * np.log(p) + (1 - self.endog) * np.log(1 - p))

    w = 1.0 + df["age"] / 100
    m = Weighted(df["vote"], add_constant(df[["PID"]]), w=_shuffled(w))
    assert np.array_equal(m.w, w.to_numpy())


def test_predict_offset_and_exposure_series_are_matched_by_index(randhie):
    df, x = randhie
    exposure = 1.0 + df["disea"]
    res = Poisson(df["mdvis"], x, exposure=exposure).fit()
    want = res.predict(x, exposure=exposure.to_numpy())
    # results.predict: matched to exog's rows
    np.testing.assert_allclose(res.predict(x, exposure=_shuffled(exposure)), want,
                               rtol=1e-13)
    sub = x.iloc[[5, 1, 9]]
    np.testing.assert_allclose(res.predict(sub, exposure=exposure.iloc[[9, 5, 1]]),
                               want.iloc[[5, 1, 9]], rtol=1e-13)
    # model.predict with exog=None: matched to the model's rows; with a DataFrame: its rows
    params = res.params.to_numpy()
    np.testing.assert_allclose(res.model.predict(params, exposure=_shuffled(exposure)),
                               want.to_numpy(), rtol=1e-13)
    np.testing.assert_allclose(res.model.predict(params, sub, offset=pd.Series(
        [0.3, 0.1, 0.2], index=[9, 5, 1])), res.model.predict(params, sub, offset=[0.1, 0.2,
                                                                                    0.3]),
        rtol=1e-13)
    with pytest.raises(DataError, match="exposure is a pandas Series whose index differs "
                                        "from exog's row index"):
        res.predict(sub, exposure=exposure.iloc[[1, 2, 3]])
    with pytest.raises(DataError, match="offset is a pandas Series whose index differs "
                                        "from the data's row index"):
        res.model.predict(params, offset=exposure.set_axis(exposure.index + 7))


def test_start_params_series_is_matched_by_name():
    df = pd.read_csv(DATA / "anes96.csv")
    x = add_constant(df[["TVnews", "PID", "age", "educ", "income"]].astype(float))
    opt = pd.Series(ref.ANES96_LOGIT["params"], index=x.columns)
    res = Logit(df["vote"], x).fit(start_params=opt.iloc[::-1])
    assert res.converged and res.iterations <= 1      # it started at the optimum
    np.testing.assert_allclose(res.params, opt, rtol=1e-8)
    with pytest.raises(DataError, match="start_params is a pandas Series whose index "
                                        "differs from the model's parameter names"):
        Logit(df["vote"], x).fit(start_params=opt.rename({"age": "Age"}))


def test_predict_params_series_is_matched_by_name(grunfeld, grunfeld_ols):
    model = grunfeld_ols.model
    p = grunfeld_ols.params
    np.testing.assert_allclose(model.predict(p.iloc[::-1]), model.predict(p.to_numpy()),
                               rtol=1e-14)


def test_predict_one_row_series_is_matched_by_exog_name():
    df = pd.read_csv(DATA / "anes96.csv")
    x = add_constant(df[["PID", "age"]].astype(float))
    res = Logit(df["vote"], x).fit()
    row = x.iloc[3]
    want = res.predict(x.iloc[[3]]).to_numpy()
    np.testing.assert_allclose(res.predict(row.iloc[::-1]), want, rtol=1e-14)
    np.testing.assert_allclose(res.model.predict(res.params, row.iloc[::-1]), want,
                               rtol=1e-14)
    np.testing.assert_allclose(res.predict(row.to_numpy()), want, rtol=1e-14)


def test_predict_dataframe_with_some_of_the_model_columns_is_refused():
    # review of item 1: a DataFrame holding only some of the model's column names (one
    # renamed, the rest reordered) was read by position, silently misaligning coefficients
    df = pd.read_csv(DATA / "anes96.csv")
    x = add_constant(df[["TVnews", "PID", "age"]].astype(float))
    res = Logit(df["vote"], x).fit()
    other = x[["age", "PID", "TVnews", "const"]].rename(columns={"age": "Age"})
    for call in (lambda: res.predict(other), lambda: res.model.predict(res.params, other),
                 lambda: res.predict(other.iloc[0])):
        with pytest.raises(DataError, match=r"'age'.*to_numpy\(\)"):
            call()
    # no name in common (or only 'const'): read by position, as documented
    unnamed = pd.DataFrame(x.to_numpy())
    np.testing.assert_allclose(res.predict(unnamed), res.predict(x), rtol=1e-14)
    from_arrays = Logit(df["vote"].to_numpy(), x.to_numpy()).fit()     # const, x1, x2, x3
    framed = add_constant(pd.DataFrame(x.to_numpy()[:, 1:]))             # const, 0, 1, 2
    np.testing.assert_allclose(from_arrays.predict(framed), res.predict(x), rtol=1e-12)


def test_restriction_matrix_dataframe_is_matched_by_column_name():
    df = pd.read_csv(DATA / "anes96.csv")
    x = add_constant(df[["TVnews", "PID", "age"]].astype(float))
    res = Logit(df["vote"], x).fit()
    r = pd.DataFrame([[0, 1, -1, 0], [0, 0, 0, 1]], columns=res.params.index, dtype=float)
    want = res.wald_test(r.to_numpy())
    got = res.wald_test(r[r.columns[::-1]])
    np.testing.assert_allclose(got.statistic, want.statistic, rtol=1e-12)
    np.testing.assert_allclose(res.t_test(r.iloc[0][::-1]).effect, res.t_test(
        r.iloc[0].to_numpy()).effect, rtol=1e-12)
    # pandas' default column labels name nothing: matched by position
    np.testing.assert_allclose(res.wald_test(pd.DataFrame(r.to_numpy())).statistic,
                               want.statistic, rtol=1e-12)
    with pytest.raises(DataError, match="R is a pandas DataFrame whose columns differ from "
                                        "the model.s parameter names"):
        res.wald_test(r.rename(columns={"age": "Age"}))


# =======================================================================================
# 2. built-in models refuse keywords they do not use
# =======================================================================================

def test_weights_without_a_kind_are_refused_by_a_builtin_model(randhie):
    """Built-in models take observation weights (mleopt.weights); ``weights=`` alone does not
    say which kind, so it is refused naming the choices."""
    df, x = randhie
    w = np.ones(len(df))
    with pytest.raises(TypeError, match=r"Poisson\(\): weights=\.\.\. needs "
                                        r"weight_type='fweight'"):
        Poisson(df["mdvis"], x, weights=w)
    with pytest.raises(TypeError, match=r"Poisson\(\) got an unexpected keyword argument "
                                        r"'extra'") as err:
        Poisson(df["mdvis"], x, extra=w)
    assert ("accepted keyword arguments: endog, exog, offset, exposure, missing, separation, "
            "allow_noninteger, param_names, freq_weights, var_weights, pweights, weights, "
            "weight_type."
            in str(err.value))


def test_a_typo_gets_a_did_you_mean():
    df = pd.read_csv(DATA / "anes96.csv")
    y, x = df["vote"], add_constant(df[["PID", "age"]])
    with pytest.raises(TypeError, match=r"'wieghts'\. Did you mean 'weights'\?"):
        Logit(y, x, wieghts=np.ones(len(df)))
    with pytest.raises(TypeError, match=r"Did you mean 'missing'\?"):
        Probit(y, x, misssing="drop")
    with pytest.raises(TypeError, match=r"Did you mean 'exposure'\?"):
        NegativeBinomial(df["TVnews"], x, exposre=np.ones(len(df)))
    with pytest.raises(TypeError, match=r"unexpected keyword arguments 'sepration', 'hasconst'"
                                        r"\. Did you mean 'separation' for 'sepration'\? "
                                        r"'hasconst': the constant is found in exog"):
        Logit(y, x, sepration="warn", hasconst=True)
    with pytest.raises(TypeError, match=r"fit\(cov_type='cluster', cov_kwds="):
        OLS(df["age"], x[["const", "PID"]], groups=df["educ"])
    # statsmodels keywords mleopt's models do not take say why
    with pytest.raises(TypeError, match="'offset': only the count models"):
        Logit(y, x, offset=np.zeros(len(df)))
    with pytest.raises(TypeError, match="NB1 and NB2 are NegativeBinomial"):
        Poisson(df["TVnews"], x, loglike_method="nb1")
    with pytest.raises(TypeError, match=r"'ofset'\. Did you mean 'offset'\? Poisson uses"):
        Poisson(df["TVnews"], x, ofset=np.zeros(len(df)))


@pytest.mark.parametrize("cls", [OLS, Logit, Probit, Poisson, NegativeBinomial])
def test_every_builtin_model_refuses_an_unused_per_row_array(cls):
    df = pd.read_csv(DATA / "anes96.csv")
    y = df["vote"] if cls in (Logit, Probit) else df["TVnews"]
    with pytest.raises(TypeError, match=rf"{cls.__name__}\(\) got an unexpected keyword "
                                        rf"argument 'extra'\. {cls.__name__} uses no other"):
        cls(y, add_constant(df[["PID"]]), extra=np.ones(len(df)))


def test_user_models_keep_their_per_row_arrays():
    df = pd.read_csv(DATA / "anes96.csv")
    x = add_constant(df[["PID"]])

    class Mine(LikelihoodModel):
        pass

    class MyLogit(Logit):           # a user's subclass of a built-in model
        pass

    w = np.linspace(0.5, 1.5, len(df))
    assert np.array_equal(Mine(df["vote"], x, weights=w).weights, w)
    assert np.array_equal(MyLogit(df["vote"], x, weights=w).weights, w)
    with pytest.raises(TypeError, match=r"Mine\(\) got an unexpected keyword argument "
                                        r"'misssing'\. Did you mean 'missing'\? Extra keyword "
                                        "arguments must be per-observation arrays"):
        Mine(df["vote"], x, misssing="drop")


# =======================================================================================
# 13. too few clusters for the number of parameters
# =======================================================================================

def _firms(grunfeld, k):
    df, x = grunfeld
    keep = df["firm"].isin(df["firm"].unique()[:k])
    return df["invest"][keep], x[keep], df["firm"][keep]


def test_too_few_clusters_warn_and_the_summary_says_so(grunfeld):
    y, x, firm = _firms(grunfeld, 4)          # 4 clusters, 4 parameters (3 coefs, sigma)
    msg = (r"4 clusters for 4 parameters: the cluster-robust covariance has rank at most "
           r"G - 1 = 3 < 4")
    with pytest.warns(UserWarning, match=msg):
        res = OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": firm})
    # the claim holds: the covariance matrix is singular (rank G - 1)
    assert np.linalg.matrix_rank(res.cov_params().to_numpy()) == 3
    text = " ".join(res.summary().as_text().split())
    assert "WARNING: 4 clusters for 4 parameters" in text
    plain = OLS(y, x).fit()
    with pytest.warns(UserWarning, match=msg):
        plain.get_robustcov_results("cluster", groups=firm)


def test_enough_clusters_do_not_warn(grunfeld):
    y, x, firm = _firms(grunfeld, 5)          # G - 1 = 4 = K: full rank is possible
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": firm})
        text = res.summary().as_text()
    assert "clusters for" not in text
    assert np.linalg.matrix_rank(res.cov_params().to_numpy()) == 4


def test_too_few_clusters_warn_for_mle_models():
    df = pd.read_csv(DATA / "anes96.csv")
    x = add_constant(df[["TVnews", "PID", "age", "educ", "income"]].astype(float))
    groups = df["educ"]                       # 7 education levels, 6 parameters
    assert groups.nunique() == 7
    with pytest.warns(UserWarning, match="3 clusters for 6 parameters") as rec:
        Logit(df["vote"], x).fit(cov_type="cluster", cov_kwds={"groups": groups % 3})
    assert rec[0].filename == __file__        # attributed to the user's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Logit(df["vote"], x).fit(cov_type="cluster", cov_kwds={"groups": groups})


def test_wald_tests_beyond_the_cluster_rank_are_nan_not_huge(grunfeld):
    # review of item 13: the warning says joint Wald tests of more than G - 1 restrictions
    # are not valid, yet wald_test returned chi2 ~ 1e18 with p = 0 (a solve with a singular
    # matrix lost in rounding), and with G = 2 the OLS summary raised LinAlgError in its
    # robust F-statistic
    df = pd.read_csv(DATA / "anes96.csv")
    x = add_constant(df[["TVnews", "PID", "age", "educ", "income"]].astype(float))
    groups = (df["educ"] > 3).astype(int) + 2 * (df["income"] > 10)      # 4 clusters
    with pytest.warns(UserWarning, match="4 clusters for 6 parameters"):
        res = Logit(df["vote"], x).fit(cov_type="cluster", cov_kwds={"groups": groups})
    with pytest.warns(UserWarning, match=r"rank 3 < 4.*the Wald statistic is NaN"):
        w = res.wald_test("TVnews = 0, PID = 0, age = 0, educ = 0")
    assert np.isnan(w.statistic) and np.isnan(w.pvalue)
    ok = res.wald_test("PID = 0, age = 0")                  # 2 <= G - 1: still a number
    assert np.isfinite(ok.statistic)

    y, xg, firm = _firms(grunfeld, 2)
    with pytest.warns(UserWarning, match="2 clusters for 4 parameters"):
        two = OLS(y, xg).fit(cov_type="cluster", cov_kwds={"groups": firm})
    with pytest.warns(UserWarning, match="the Wald statistic is NaN"):
        text = two.summary().as_text()
        fvalue = two.fvalue
    assert np.isnan(fvalue) and "F-statistic" in text


def test_series_with_numpy_data_is_matched_to_the_default_row_labels(grunfeld):
    # review of item 1: with numpy endog/exog the data had "no labels", so a Series was
    # taken by position whatever its index: a shuffled groups Series from a DataFrame gave
    # other standard errors silently. numpy data now have pandas' default labels 0..n-1.
    df, x = grunfeld
    sub = df.iloc[100:]
    y, X = sub["invest"].to_numpy(), x.iloc[100:].to_numpy()
    want = OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": sub["firm"].to_numpy()}).bse
    with pytest.raises(DataError, match="to_numpy"):
        OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": _shuffled(sub["firm"])})
    by_label = _shuffled(sub["firm"].reset_index(drop=True))      # labels 0..n-1, shuffled
    got = OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": by_label}).bse
    np.testing.assert_allclose(got, want, rtol=1e-12)
    with pytest.raises(DataError, match="offset"):
        Poisson(np.round(y), X, offset=_shuffled(np.log(sub["capital"])))
    pois = Poisson(np.round(y), X).fit()
    with pytest.raises(DataError, match="exposure"):
        pois.predict(X, exposure=_shuffled(sub["capital"]))
    exposure = sub["capital"].reset_index(drop=True)
    np.testing.assert_allclose(pois.predict(X, exposure=_shuffled(exposure)),
                               pois.predict(X, exposure=exposure.to_numpy()), rtol=1e-14)
