"""IntervalRegression (interval-censored normal regression; Stata intreg, R survreg interval2).

References: an independent brute-force MLE (scipy.stats.norm, Nelder-Mead from several
starts, no derivatives) on simulated data with every kind of row, and the equivalence with
Tobit when every row is a point or a one-sided censoring."""
import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from mleopt import IntervalRegression, Tobit, add_constant, datasets
from mleopt.exceptions import DataError


def _simulated(n=300, seed=7):
    """Latent y* = 1 + 0.5 x1 - 0.8 x2 + 1.5 e; rows exact, left-, right-censored and in
    intervals of width 1 or 2 (including some far in the tails of their own mean)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    ystar = 1.0 + 0.5 * x[:, 0] - 0.8 * x[:, 1] + 1.5 * rng.normal(size=n)
    kind = rng.integers(0, 4, size=n)
    lo, hi = np.floor(ystar), np.floor(ystar) + 1 + (rng.random(n) < 0.5)
    lo[kind == 0] = hi[kind == 0] = ystar[kind == 0]
    lo[kind == 1] = np.nan                   # left-censored at hi
    hi[kind == 2] = np.inf                   # right-censored at lo
    return lo, hi, add_constant(pd.DataFrame(x, columns=["x1", "x2"]))


def _brute_force_llf(theta, lo, hi, x):
    beta, sigma = theta[:-1], np.exp(theta[-1])
    m = x @ beta
    exact = lo == hi
    left, right = np.isnan(lo) | np.isneginf(lo), np.isposinf(hi) | np.isnan(hi)
    inter = ~exact & ~left & ~right
    ll = np.empty(lo.size)
    ll[exact] = stats.norm.logpdf(lo[exact], m[exact], sigma)
    ll[left] = stats.norm.logcdf(hi[left], m[left], sigma)
    ll[right] = stats.norm.logsf(lo[right], m[right], sigma)
    pa = stats.norm.cdf(lo[inter], m[inter], sigma)
    pb = stats.norm.cdf(hi[inter], m[inter], sigma)
    ll[inter] = np.log(pb - pa)
    return ll.sum()


def test_matches_brute_force_mle():
    lo, hi, X = _simulated()
    res = IntervalRegression(lo, hi, X).fit()
    x = X.to_numpy()
    best = None
    for start in ([0, 0, 0, 1], [2, 1, -1, 1.5], [-1, -0.5, 0.5, 0.8]):
        for _ in range(3):          # Nelder-Mead restarted from its own optimum
            r = optimize.minimize(lambda t: -_brute_force_llf(t, lo, hi, x), start,
                                  method="Nelder-Mead",
                                  options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 20000,
                                           "maxfev": 40000})
            start = r.x
        assert r.success
        if best is None or r.fun < best.fun:
            best = r
    ref = np.append(best.x[:-1], np.exp(best.x[-1]))
    np.testing.assert_allclose(res.params.to_numpy(), ref, atol=1e-6)
    assert res.llf == pytest.approx(-best.fun, abs=1e-8)
    assert list(res.params.index) == ["const", "x1", "x2", "sigma"]
    counts = res.model.interval_counts
    assert counts == {"exact": int(np.sum(lo == hi)), "left": int(np.isnan(lo).sum()),
                      "right": int(np.isinf(hi).sum()),
                      "interval": 300 - int(np.sum(lo == hi)) - int(np.isnan(lo).sum())
                      - int(np.isinf(hi).sum())}


def _affairs():
    df = datasets.load("affairs")
    X = add_constant(df[["age", "yearsmarried", "religiousness", "occupation", "rating"]])
    return df["affairs"].astype(float), X


def test_equals_tobit_with_points_and_one_sided_censoring():
    y, X = _affairs()
    y = y.clip(upper=4)
    tob = Tobit(y, X, left=0, right=4).fit()
    lower, upper = y.where(y > 0), y.where(y < 4)        # NaN: no bound on that side
    res = IntervalRegression(lower, upper, X).fit()
    np.testing.assert_allclose(res.params.to_numpy(), tob.params.to_numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.bse.to_numpy(), tob.bse.to_numpy(), rtol=1e-8)
    assert res.llf == pytest.approx(tob.llf, abs=1e-10)
    assert res.llnull == pytest.approx(tob.llnull, abs=1e-8)


def test_equals_tobit_with_per_row_limits():
    rng = np.random.default_rng(3)
    n = 400
    x = add_constant(rng.normal(size=(n, 2)))
    ystar = x @ [0.3, 1.0, -0.5] + rng.normal(size=n)
    left, right = rng.normal(-0.5, 0.3, size=n), rng.normal(1.0, 0.3, size=n)
    y = np.clip(ystar, left, right)
    tob = Tobit(y, x, left=left, right=right).fit()
    lower = np.where(y <= left, -np.inf, y)
    upper = np.where(y >= right, np.inf, y)
    res = IntervalRegression(lower, upper, x).fit()
    np.testing.assert_allclose(res.params, tob.params, rtol=0, atol=1e-10)


def test_intervals_far_in_either_tail_are_finite_and_exact():
    # y* ~ N(0, 1) (const = 0, sigma = 1): [40, 41] and [-41, -40] have P ~ 1e-350, below
    # the smallest double; log(Phi(b) - Phi(a)) must come from the tail, not from 1 - 1
    lower, upper = np.array([40.0, -41.0, 0.0, 1.0]), np.array([41.0, -40.0, 0.0, 2.0])
    model = IntervalRegression(lower, upper, np.ones(4))
    ll = np.asarray(model.loglikeobs(np.array([0.0, 1.0])))
    tail = stats.norm.logsf(40) + np.log1p(-np.exp(stats.norm.logsf(41) - stats.norm.logsf(40)))
    np.testing.assert_allclose(ll[:2], [tail, tail], rtol=1e-12)
    assert ll[2] == pytest.approx(stats.norm.logpdf(0.0), abs=1e-14)
    assert ll[3] == pytest.approx(np.log(stats.norm.cdf(2) - stats.norm.cdf(1)), rel=1e-12)
    assert np.all(np.isfinite(model.score(np.array([0.0, 1.0]))))
    assert np.all(np.isfinite(model.hessian(np.array([0.0, 1.0]))))


def test_predict_summary_margeff_and_inputs_untouched():
    lo, hi, X = _simulated(seed=11)
    lo_copy, hi_copy = lo.copy(), hi.copy()
    res = IntervalRegression(lo, hi, X).fit()
    np.testing.assert_array_equal(lo, lo_copy)        # NaN bounds not overwritten
    np.testing.assert_array_equal(hi, hi_copy)
    np.testing.assert_allclose(res.predict(which="latent"), X.to_numpy() @ res.params[:3])
    new = X.iloc[:5]
    np.testing.assert_allclose(res.predict(new), new.to_numpy() @ res.params[:3])
    text = str(res.summary())
    c = res.model.interval_counts
    for label, key in (("Exact:", "exact"), ("Left-censored:", "left"),
                       ("Right-censored:", "right"), ("Interval:", "interval")):
        assert label in text and str(c[key]) in text
    me = res.get_margeff()
    np.testing.assert_allclose(me.margeff, res.params[["x1", "x2"]], rtol=1e-12)
    with pytest.raises(ValueError, match="which must be one of"):
        res.predict(which="prob")


def test_series_indexes_and_missing_exog_dropped():
    lo, hi, X = _simulated(seed=5)
    idx = pd.Index(np.arange(300)[::-1] + 1000)
    X.index = idx
    lower, upper = pd.Series(lo, index=idx, name="lo"), pd.Series(hi, index=idx, name="hi")
    ref = IntervalRegression(lower, upper, X).fit()
    assert ref.model.endog_name == "[lo, hi]"
    perm = np.random.default_rng(0).permutation(300)
    X2 = X.copy()
    X2.iloc[0, 1] = np.nan
    res = IntervalRegression(lower, upper, X2, missing="drop").fit()
    assert res.model.nobs == 299       # the NaN bounds are censoring, not missing values
    sub = IntervalRegression(lower.iloc[1:], upper.iloc[1:], X.iloc[1:]).fit()
    np.testing.assert_allclose(res.params, sub.params, atol=1e-10)
    with pytest.raises(DataError, match="different row indexes"):     # as endog in the house
        IntervalRegression(lower.iloc[perm], upper.iloc[perm], X)
    shuffled = IntervalRegression(lower.iloc[perm], upper.iloc[perm], X.iloc[perm]).fit()
    np.testing.assert_allclose(shuffled.params, ref.params, atol=1e-8)


def test_bad_bounds_are_named_by_row_and_column():
    x = np.ones(4)
    lower = pd.Series([0.0, 2.0, np.nan, 1.0], name="lo")
    upper = pd.Series([1.0, 1.0, 3.0, 1.5], name="hi")
    with pytest.raises(DataError, match=r"lower is above upper in 1 of 4 rows.*row 1: lo = 2, "
                                        r"hi = 1"):
        IntervalRegression(lower, upper, x)
    with pytest.raises(DataError, match=r"2 of 4 rows have no finite bound in lower \('lo'\) "
                                        r"/ upper \('hi'\).*first rows: 1, 2\)"):
        IntervalRegression(pd.Series([0.0, np.nan, -np.inf, 1.0], name="lo"),
                           pd.Series([1.0, np.inf, np.nan, 2.0], name="hi"), x)
    with pytest.raises(DataError, match="every one of the 4 rows is unbounded on one side"):
        IntervalRegression([np.nan, 1.0, np.nan, 2.0], [0.0, np.inf, 1.0, None], x)
    with pytest.raises(DataError, match="has 3 rows but upper"):
        IntervalRegression([0.0, 1.0, 2.0], [1.0, 2.0], np.ones(3))
    with pytest.raises(DataError, match="must hold numbers"):
        IntervalRegression(["a", "b", "c"], [1.0, 2.0, 3.0], np.ones(3))
    with pytest.raises(TypeError, match="IntervalRegression"):
        IntervalRegression([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], np.ones(3), left=0)
