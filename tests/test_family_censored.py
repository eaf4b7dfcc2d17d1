"""Tobit and TruncatedRegression (mleopt/models/censored.py, mleopt/results_censored.py).

References:
* R's AER::tobit on Fair's Affairs data (601 rows, datasets/affairs.csv): Kleiber and
  Zeileis (2008), *Applied Econometrics with R*, Springer, p. 142, and the example of the
  AER ``tobit`` help page (4 printed decimals; R reports ``Log(scale)`` = log sigma).
* Brute-force MLEs: benchmarks/family_censored_references.py (numpy/scipy log-likelihoods,
  scipy BFGS + Nelder-Mead from three starts, polished by Newton steps with central
  finite-difference derivatives; the starts agree to 1e-7 relative or better). Standard
  errors there come from a finite-difference Hessian (about 5 digits).
"""
from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import mleopt
from mleopt import DataError, MissingDataError, Tobit, TruncatedRegression, add_constant

ROOT = pathlib.Path(__file__).resolve().parents[1]
COLS = ["age", "yearsmarried", "religiousness", "occupation", "rating"]


@pytest.fixture(scope="module")
def affairs():
    d = pd.read_csv(ROOT / "datasets" / "affairs.csv")
    return d, add_constant(d[COLS])


@pytest.fixture(scope="module")
def tobit0(affairs):
    d, x = affairs
    return Tobit(d["affairs"], x).fit()


# --- references ------------------------------------------------------------------------------

# AER::tobit(affairs ~ age + yearsmarried + religiousness + occupation + rating,
#            data = Affairs)  (Kleiber & Zeileis 2008, p. 142)
AER_LEFT0 = {
    "params": [8.1742, -0.1793, 0.5541, -1.6862, 0.3261, -2.2850],
    "bse": [2.7414, 0.0791, 0.1345, 0.4038, 0.2544, 0.4078],
    "log_scale": 2.1099, "log_scale_se": 0.0671, "scale": 8.25, "llf": -705.6,
}
# the same with right = 4 (AER treats affairs >= 4 as censored at 4)
AER_RIGHT4 = {
    "params": [7.9010, -0.1776, 0.5323, -1.6163, 0.3242, -2.2070],
    "bse": [2.8039, 0.0799, 0.1412, 0.4244, 0.2539, 0.4498],
    "log_scale": 2.0723, "log_scale_se": 0.1104, "scale": 7.94, "llf": -500.0,
}


@pytest.mark.parametrize("right, ref", [(None, AER_LEFT0), (4, AER_RIGHT4)])
def test_tobit_matches_aer(affairs, right, ref):
    d, x = affairs
    y = d["affairs"] if right is None else d["affairs"].clip(upper=right)
    res = Tobit(y, x, left=0, right=right).fit()
    assert res.converged
    assert res.param_names == ["const"] + COLS + ["sigma"]
    np.testing.assert_allclose(res.params.iloc[:-1], ref["params"], atol=6e-5)
    np.testing.assert_allclose(res.bse.iloc[:-1], ref["bse"], atol=6e-5)
    sigma, se = res.params["sigma"], res.bse["sigma"]
    assert abs(np.log(sigma) - ref["log_scale"]) < 6e-5
    # sigma's SE is the delta-method SE of log sigma times sigma
    assert abs(se / sigma - ref["log_scale_se"]) < 6e-5
    assert abs(sigma - ref["scale"]) < 6e-3
    assert abs(res.llf - ref["llf"]) < 0.06


# benchmarks/family_censored_references.py (params, then bse: beta..., sigma)
BRUTE = {
    "tobit_left0": (
        [8.17419745906879, -0.17933258481057002, 0.5541418142611361, -1.6862204943477075,
         0.32605324920975665, -2.284972722013133, 8.247080332053667],
        [2.7414418767443514, 0.07909314990530057, 0.13451796303847408, 0.40375184022237476,
         0.25442493851982234, 0.4078279161563355, 0.5533640247319596], -705.5762226227328),
    "tobit_left0_right4": (
        [7.900980467358742, -0.17759820957678457, 0.5323021110560359, -1.616335655471725,
         0.3241864586253703, -2.2070074472370056, 7.94321944319474],
        [2.803858723110511, 0.07990632318272424, 0.14116839244068066, 0.4243968468697828,
         0.25387793514687057, 0.4498318301300098, 0.876899817142519], -500.04276009612295),
    "tobit_right4": (
        [2.95466076831345, -0.026315267045814137, 0.08028392641868543, -0.24065205142242416,
         0.05925850454184313, -0.36435756074904474, 1.5135882274933243],
        [0.39649033212066875, 0.010933859758907327, 0.018266956323230547,
         0.05514327747948318, 0.0351656930492871, 0.05893165453875607, 0.04920676347269618],
        -1061.9955740664154),
    "tobit_per_row": (
        [6.937970166707743, -0.08193223011612401, 0.03770215538001921, -0.7375933925019386,
         0.36091154218459437, -1.1851387949527559, 4.722586937225395],
        [1.4245799496590876, 0.040030331613942254, 0.06515540857955213, 0.1947517234322678,
         0.12920044687978238, 0.20668668923671804, 0.234980856513607], -977.0928028957233),
    "truncated_left0": (
        [8.32304514105434, -0.08414425802527835, 0.559770361477426, -1.502400370401149,
         0.18914034614649303, -1.3493772182784425, 5.529829443922993],
        [3.9597302700607764, 0.1194165858397325, 0.21897605663160244, 0.6172869045528833,
         0.37677093732263556, 0.5645459127370438, 0.659595762795637], -392.7103393012459),
    "truncated_engel_400_1000": (
        [94.05191343234685, 535.6321268744981, 91.49167971329864],
        [39.865343322104685, 38.20299455518053, 6.506131246148113], -978.8547077215428),
}


def _per_row_limits(d):
    """The per-row case of the reference script: left 0 for couples with children (none
    otherwise), right 4 (rating >= 4) or 7, none for men; y recorded at its limit."""
    right = np.where(d["rating"] >= 4, 4.0, 7.0)
    right = np.where(d["male"] == 1, np.inf, right)
    left = np.where(d["children"] == 1, 0.0, -np.inf)
    return np.minimum(d["affairs"], right), left, right


def _reference_fit(name, affairs):
    d, x = affairs
    y = d["affairs"]
    if name == "tobit_left0":
        return Tobit(y, x).fit()
    if name == "tobit_left0_right4":
        return Tobit(y.clip(upper=4), x, left=0, right=4).fit()
    if name == "tobit_right4":
        return Tobit(y.clip(upper=4), x, left=None, right=4).fit()
    if name == "tobit_per_row":
        yr, left, right = _per_row_limits(d)
        return Tobit(yr, x, left=left, right=right).fit()
    if name == "truncated_left0":
        pos = y > 0
        return TruncatedRegression(y[pos], x[pos], left=0).fit()
    e = pd.read_csv(ROOT / "datasets" / "engel.csv")
    w = e[(e["foodexp"] > 400) & (e["foodexp"] < 1000)]
    return TruncatedRegression(w["foodexp"], add_constant(w[["income"]] / 1000), left=400,
                               right=1000).fit()


@pytest.mark.parametrize("name", sorted(BRUTE))
def test_brute_force_references(name, affairs):
    params, bse, llf = BRUTE[name]
    res = _reference_fit(name, affairs)
    assert res.converged
    np.testing.assert_allclose(res.params, params, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(res.bse, bse, rtol=1e-4)
    assert abs(res.llf - llf) < 1e-8 * abs(llf)


# --- predictions and marginal effects ------------------------------------------------------

def _by_hand(res, lo, hi):
    """Predictions of a Tobit from scipy.stats (the textbook formulas)."""
    p = res.params.to_numpy()
    xb = np.asarray(res.model.exog) @ p[:-1]
    s = p[-1]
    a, b = (lo - xb) / s, (hi - xb) / s
    pl, pr = stats.norm.cdf(a), stats.norm.sf(b)
    prob = 1 - pl - pr
    cond = stats.truncnorm.mean(a, b, loc=xb, scale=s)
    with np.errstate(invalid="ignore"):         # inf * 0 where a limit is absent
        mean = np.where(pl > 0, lo * pl, 0) + np.where(pr > 0, hi * pr, 0) + prob * cond
    return {"latent": xb, "prob": prob, "conditional": cond, "mean": mean,
            "prob_left": pl, "prob_right": pr}


@pytest.mark.parametrize("case", ["left0", "right4", "per_row"])
def test_predict_matches_formulas(affairs, case):
    d, x = affairs
    if case == "left0":
        res, lo, hi = Tobit(d["affairs"], x).fit(), 0.0, np.inf
    elif case == "right4":
        res = Tobit(d["affairs"].clip(upper=4), x, left=0, right=4).fit()
        lo, hi = 0.0, 4.0
    else:
        yr, lo, hi = _per_row_limits(d)
        res = Tobit(yr, x, left=lo, right=hi).fit()
    want = _by_hand(res, lo, hi)
    for which, values in want.items():
        got = res.predict(which=which)
        np.testing.assert_allclose(got, values, rtol=1e-10, atol=1e-12, err_msg=which)
    np.testing.assert_allclose(res.fittedvalues, want["mean"], rtol=1e-10)
    np.testing.assert_allclose(res.predict(which="linear"), want["latent"], rtol=1e-12)


def test_margeff_left0_closed_forms(tobit0):
    """Left-censoring at 0: dE[y]/dx = Phi(c) beta, dP/dx = phi(c) beta / sigma,
    dE[y|y>0]/dx = beta (1 - lambda (c + lambda)), c = x'b / sigma, lambda = phi/Phi."""
    res = tobit0
    p = res.params.to_numpy()
    beta, s = p[1:-1], p[-1]
    c = np.asarray(res.model.exog) @ p[:-1] / s
    lam = stats.norm.pdf(c) / stats.norm.cdf(c)
    closed = {"mean": stats.norm.cdf(c).mean() * beta,
              "prob": stats.norm.pdf(c).mean() * beta / s,
              "conditional": (1 - lam * (c + lam)).mean() * beta,
              "latent": beta}
    for which, want in closed.items():
        me = res.get_margeff(which=which)
        assert list(me.margeff.index) == COLS
        np.testing.assert_allclose(me.margeff, want, rtol=1e-10, err_msg=which)
    # at the mean of the regressors
    xbar = np.asarray(res.model.exog).mean(axis=0)
    cbar = xbar @ p[:-1] / s
    np.testing.assert_allclose(res.get_margeff(at="mean").margeff,
                               stats.norm.cdf(cbar) * beta, rtol=1e-10)


def test_margeff_standard_errors_by_finite_differences(tobit0):
    """Delta method: J V J' with J the exact AD Jacobian of the effects; checked against a
    central finite-difference Jacobian of the closed form Phi(x'b/s) beta."""
    res = tobit0
    x = np.asarray(res.model.exog)

    def effects(p):
        return stats.norm.cdf(x @ p[:-1] / p[-1]).mean() * p[1:-1]

    p = res.params.to_numpy()
    jac = np.zeros((p.size - 2, p.size))
    for j in range(p.size):
        h = 1e-6 * max(1.0, abs(p[j]))
        e = np.zeros(p.size)
        e[j] = h
        jac[:, j] = (effects(p + e) - effects(p - e)) / (2 * h)
    se = np.sqrt(np.diag(jac @ res.cov_params().to_numpy() @ jac.T))
    np.testing.assert_allclose(res.get_margeff().margeff_se, se, rtol=1e-6)


@pytest.mark.parametrize("case", ["left0", "right4"])
def test_mcdonald_moffitt_decomposition(affairs, case):
    d, x = affairs
    if case == "left0":
        res = Tobit(d["affairs"], x).fit()
    else:
        res = Tobit(d["affairs"].clip(upper=4), x, left=0, right=4).fit()
    mm = res.mcdonald_moffitt().summary_frame()
    total = res.get_margeff(which="mean")
    parts_named = ["intensive", "extensive"] + (["limits"] if case == "right4" else [])
    assert len(mm) == len(COLS) * (1 + len(parts_named))
    for col in COLS:
        parts = mm.loc[[f"{col}: {part}" for part in parts_named], "coef"]
        assert abs(parts.sum() - mm.loc[f"{col}: total", "coef"]) < 1e-12
        assert abs(mm.loc[f"{col}: total", "coef"] - total.margeff[col]) < 1e-12
        assert abs(mm.loc[f"{col}: total", "std err"] - total.margeff_se[col]) < 1e-12
    # the parts by hand, at the mean of the regressors, for left-censoring at 0
    if case == "left0":
        p = res.params.to_numpy()
        xbar = np.asarray(res.model.exog).mean(axis=0)
        c = xbar @ p[:-1] / p[-1]
        lam = stats.norm.pdf(c) / stats.norm.cdf(c)
        intensive = stats.norm.cdf(c) * p[1:-1] * (1 - lam * (c + lam))
        mm_mean = res.mcdonald_moffitt(at="mean").summary_frame()
        np.testing.assert_allclose(
            mm_mean.loc[[f"{c_}: intensive" for c_ in COLS], "coef"], intensive, rtol=1e-10)


def test_truncated_predict_and_margeff():
    e = pd.read_csv(ROOT / "datasets" / "engel.csv")
    w = e[(e["foodexp"] > 400) & (e["foodexp"] < 1000)]
    x = add_constant(w[["income"]] / 1000)
    res = TruncatedRegression(w["foodexp"], x, left=400, right=1000).fit()
    p = res.params.to_numpy()
    xb = np.asarray(x) @ p[:-1]
    a, b = (400 - xb) / p[-1], (1000 - xb) / p[-1]
    np.testing.assert_allclose(res.predict(), stats.truncnorm.mean(a, b, loc=xb, scale=p[-1]),
                               rtol=1e-10)
    np.testing.assert_allclose(res.predict(which="prob"),
                               stats.norm.cdf(b) - stats.norm.cdf(a), rtol=1e-10)
    # dE[y | 400 < y* < 1000] / d income, by central differences of the formula
    h = 1e-4
    hi = stats.truncnorm.mean((400 - xb - p[1] * h) / p[-1], (1000 - xb - p[1] * h) / p[-1],
                              loc=xb + p[1] * h, scale=p[-1])
    lo = stats.truncnorm.mean((400 - xb + p[1] * h) / p[-1], (1000 - xb + p[1] * h) / p[-1],
                              loc=xb - p[1] * h, scale=p[-1])
    me = res.get_margeff()
    assert me.margeff["income"] == pytest.approx(np.mean((hi - lo) / (2 * h)), rel=1e-7)
    assert res.get_margeff(which="latent").margeff["income"] == pytest.approx(p[1])


def test_summary_shows_censoring(tobit0):
    text = str(tobit0.summary())
    assert "Left-censored:" in text and "451" in text and "Uncensored:" in text
    assert "sigma" in text


# --- per-row limits: alignment, missing rows, row blocks --------------------------------------

def test_per_row_limits_series_matched_by_index(affairs):
    d, x = affairs
    yr, left, right = _per_row_limits(d)
    ref = Tobit(yr, x, left=left, right=right).fit()
    order = np.random.default_rng(1).permutation(len(d))
    left_s = pd.Series(left, index=d.index).iloc[order]
    right_s = pd.Series(right, index=d.index).iloc[order]
    res = Tobit(pd.Series(yr, index=d.index), x, left=left_s, right=right_s).fit()
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-12)
    # None in a list means no limit
    right_list = [None if np.isinf(v) else v for v in right]
    res2 = Tobit(yr, x, left=left, right=right_list).fit()
    np.testing.assert_allclose(res2.params, ref.params, rtol=1e-12)


def test_per_row_limits_dropped_with_missing_rows(affairs):
    d, x = affairs
    yr, left, right = _per_row_limits(d)
    x_nan = x.copy()
    x_nan.iloc[5, 2] = np.nan
    res = Tobit(pd.Series(yr), x_nan, left=left, right=right, missing="drop").fit()
    keep = np.arange(len(d)) != 5
    ref = Tobit(pd.Series(yr)[keep], x[keep], left=left[keep], right=right[keep]).fit()
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-12)
    assert res.nobs == len(d) - 1


def test_margeff_with_per_row_limits(affairs):
    """The model's own per-row limits go with its rows (at="overall"); checked against the
    same effects from the textbook formula by central differences in each regressor."""
    d, x = affairs
    yr, left, right = _per_row_limits(d)
    res = Tobit(yr, x, left=left, right=right).fit()
    me = res.get_margeff(which="mean")
    xa = np.asarray(x, dtype=float)
    p = res.params.to_numpy()

    def mean_at(xx):
        xb = xx @ p[:-1]
        a, b = (left - xb) / p[-1], (right - xb) / p[-1]
        with np.errstate(invalid="ignore"):
            return (np.where(np.isfinite(left), left * stats.norm.cdf(a), 0)
                    + np.where(np.isfinite(right), right * stats.norm.sf(b), 0)
                    + (stats.norm.cdf(b) - stats.norm.cdf(a))
                    * stats.truncnorm.mean(a, b, loc=xb, scale=p[-1]))

    for j, col in enumerate(COLS, start=1):
        e = np.zeros_like(xa)
        e[:, j] = 1e-5
        fd = np.mean((mean_at(xa + e) - mean_at(xa - e)) / 2e-5)
        assert me.margeff[col] == pytest.approx(fd, rel=1e-6)
    with pytest.raises(ValueError, match="at='mean'.*per-row left and right limits.*"
                                         "at='overall'"):
        res.get_margeff(at="mean")
    with pytest.raises(ValueError, match="at='mean'.*per-row"):
        res.mcdonald_moffitt(at="mean")
    latent = res.get_margeff(at="mean", which="latent")
    np.testing.assert_allclose(latent.margeff, res.params[COLS], rtol=1e-12)
    assert res.model.censoring_counts == {
        "left": int(((yr <= left)).sum()), "right": int((yr >= right).sum()),
        "uncensored": int(((yr > left) & (yr < right)).sum())}


def test_row_blocks_give_the_same_fit(affairs):
    d, x = affairs
    yr, left, right = _per_row_limits(d)
    one = Tobit(yr, x, left=left, right=right).fit()
    model = Tobit(yr, x, left=left, right=right)
    budget = int(model._bytes_per_row() * 60 * 2)      # about 10 blocks on 2 threads
    with mleopt.options(block_memory=budget, n_threads=2):
        blocked_model = Tobit(yr, x, left=left, right=right)
        assert len(blocked_model._blocks()[0]) > 5
        blocked = blocked_model.fit()
        me = blocked.get_margeff(which="latent")
        me_mean = blocked.get_margeff(which="mean")
        counts = blocked_model.censoring_counts
    np.testing.assert_allclose(blocked.params, one.params, rtol=1e-10)
    np.testing.assert_allclose(blocked.bse, one.bse, rtol=1e-8)
    np.testing.assert_allclose(me.margeff, one.params.iloc[1:-1], rtol=1e-10)
    np.testing.assert_allclose(me_mean.margeff, one.get_margeff().margeff, rtol=1e-9)
    np.testing.assert_allclose(me_mean.margeff_se, one.get_margeff().margeff_se, rtol=1e-7)
    assert counts == one.model.censoring_counts


# --- bad input ----------------------------------------------------------------------------

def test_outcome_below_left_limit_names_the_column(affairs):
    d, x = affairs
    with pytest.raises(DataError, match=r"endog 'affairs' is below the left limit.*row 0"):
        Tobit(d["affairs"], x, left=0.5)


def test_outcome_above_right_limit_is_refused_with_the_fix(affairs):
    d, x = affairs
    with pytest.raises(DataError, match=r"'affairs' is above the right limit in 80 of 601 "
                                        r"rows.*clip"):
        Tobit(d["affairs"], x, right=4)
    with pytest.raises(DataError, match=r"outside|above the right limit"):
        TruncatedRegression(d["affairs"], x, left=-1, right=4)


def test_left_not_below_right(affairs):
    d, x = affairs
    with pytest.raises(DataError, match=r"left limit must be below the right.*601 of 601"):
        Tobit(d["affairs"], x, left=0, right=0)
    left = np.zeros(len(d))
    left[3] = 20.0
    with pytest.raises(DataError, match=r"1 of 601 rows have left >= right \(first: row 3"):
        Tobit(d["affairs"].clip(upper=12), x, left=left, right=12.0)


def test_all_censored(affairs):
    d, x = affairs
    with pytest.raises(DataError, match=r"every observation of endog 'affairs' is censored"):
        Tobit(d["affairs"].clip(upper=0), x, left=0)


def test_non_finite_outcome_names_the_column(affairs):
    d, x = affairs
    y = d["affairs"].astype(float).copy()
    y.iloc[7] = np.inf
    with pytest.raises(MissingDataError, match=r"'affairs' \(1 row\)"):
        Tobit(y, x)
    left = np.zeros(len(d))
    left[2] = np.nan
    with pytest.raises(MissingDataError, match=r"'left' \(1 row\)"):
        Tobit(d["affairs"], x, left=left)


def test_other_bad_arguments(affairs, tobit0):
    d, x = affairs
    with pytest.raises(TypeError, match="weights"):
        Tobit(d["affairs"], x, weights=np.ones(len(d)))
    with pytest.raises(ValueError, match="left is NaN"):
        Tobit(d["affairs"], x, left=np.nan)
    with pytest.raises(DataError, match="no truncation"):
        TruncatedRegression(d["affairs"], x, left=None)
    with pytest.raises(ValueError, match="which must be one of"):
        tobit0.predict(which="median")
    with pytest.raises(ValueError, match="which must be one of"):
        tobit0.get_margeff(which="probability")
    yr, left, right = _per_row_limits(d)
    res = Tobit(yr, x, left=left, right=right).fit()
    with pytest.raises(ValueError, match="per-row left limits.*pass left="):
        res.predict(x.iloc[:3])
    got = res.predict(x.iloc[:3], left=0, right=np.array([4.0, 7.0, None], dtype=object))
    p = res.params.to_numpy()
    xb = np.asarray(x.iloc[:3]) @ p[:-1]
    s = p[-1]
    b = (np.array([4.0, 7.0, np.inf]) - xb) / s
    a = (0 - xb) / s
    cond = stats.truncnorm.mean(a, b, loc=xb, scale=s)
    hi = np.where(np.isinf(b), 0.0, np.array([4.0, 7.0, 0.0]) * stats.norm.sf(b))
    np.testing.assert_allclose(got, (stats.norm.cdf(b) - stats.norm.cdf(a)) * cond + hi,
                               rtol=1e-10)


def test_dask_partitions_with_per_row_limits(affairs):
    import dask.dataframe as dd     # a test dependency (mleopt[dask])
    d, x = affairs
    frame = pd.concat([d[["affairs"]], x], axis=1)
    frame["right"] = np.where(d["rating"] >= 4, 4.0, np.inf)
    frame["y4"] = np.minimum(d["affairs"], frame["right"])
    ddf = dd.from_pandas(frame, npartitions=3)
    ref = Tobit(frame["y4"], x, right=frame["right"]).fit()
    res = Tobit(ddf["y4"], ddf[list(x.columns)], right=ddf["right"]).fit()
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-8)
    np.testing.assert_allclose(res.bse, ref.bse, rtol=1e-6)
    np.testing.assert_allclose(res.get_margeff().margeff, ref.get_margeff().margeff,
                               rtol=1e-8)
    assert res.model.censoring_counts == ref.model.censoring_counts == {
        "left": 451, "uncensored": 111, "right": 39}
    assert "Right-censored:" in str(res.summary())
    with pytest.raises(NotImplementedError, match="gather"):
        res.mcdonald_moffitt()


def test_truncated_per_row_limits_maximise_an_independent_likelihood(affairs):
    """Per-row truncation points (0 or 1 by row, none above for some): mleopt's optimum is
    a stationary point of the same likelihood written with scipy.stats (central
    differences), and constant per-row limits give the scalar fit."""
    d, x = affairs
    pos = d["affairs"] > 0
    y, xp = d.loc[pos, "affairs"].to_numpy(float), x[pos]
    left = np.where(d.loc[pos, "children"] == 1, 0.5, 0.0)
    right = np.where(d.loc[pos, "male"] == 1, 12.5, np.inf)
    res = TruncatedRegression(y, xp, left=left, right=right).fit()
    assert res.converged
    xa = np.asarray(xp, dtype=float)

    def loglike(p):
        xb = xa @ p[:-1]
        a, b = (left - xb) / p[-1], (right - xb) / p[-1]
        return np.sum(stats.norm.logpdf((y - xb) / p[-1]) - np.log(p[-1])
                      - np.log(stats.norm.cdf(b) - stats.norm.cdf(a)))

    p = res.params.to_numpy()
    assert res.llf == pytest.approx(loglike(p), rel=1e-12)
    for j in range(p.size):
        e = np.zeros(p.size)
        e[j] = 1e-6 * max(1.0, abs(p[j]))
        slope = (loglike(p + e) - loglike(p - e)) / (2 * e[j])
        assert abs(slope) < 1e-4, (res.param_names[j], slope)
    scalar = TruncatedRegression(y, xp, left=0).fit()
    rows = TruncatedRegression(y, xp, left=np.zeros(y.size)).fit()
    np.testing.assert_allclose(rows.params, scalar.params, rtol=1e-10)


def test_affairs_is_bundled_and_read_from_this_tree():
    """datasets.load reads the source tree it is imported from (not the checkout an
    editable install points at)."""
    from mleopt import datasets
    df = datasets.load("affairs")
    assert df.shape == (601, 9) and int((df["affairs"] == 0).sum()) == 451
    assert pathlib.Path(datasets.path("affairs")).resolve() == ROOT / "datasets" / "affairs.csv"
    assert "Fair" in datasets.describe("affairs")
