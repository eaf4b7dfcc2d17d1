"""Perfect separation and its count analogue on Dask data: the in-memory checks, loud.

Before a fit, from the first pass's per-partition summaries: both outcomes present and no
column separating on its own (binary models), some count > 0 (count models). After a fit
that looks off (not converged, a saturated fitted row, a flat Hessian: one pass for the
saturation), the linear program on the rows gathered from the partitions (at most
DaskModel.SEPARATION_GATHER_LIMIT entries) names the columns, with the in-memory message;
above the limit the fit is reported as looking separated. Default (threaded) scheduler,
dask DataFrames made from pandas: no cluster.
"""
import warnings

import numpy as np
import pandas as pd
import pytest

import dask.dataframe as dd

from mleopt import Logit, MNLogit, NegativeBinomial, OrderedModel, Poisson, Probit
from mleopt.exceptions import (DataError, PerfectSeparationError, PerfectSeparationWarning)
from mleopt.models.dask import DaskModel


def _frame(seed=0, n=300):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    return rng, pd.DataFrame({"const": 1.0, "x1": x1, "x2": x2})


def _combination():
    """y = 1 iff x1 + x2 > 0: no column separates alone, the pair does (the LP's case)."""
    _, df = _frame()
    df["y"] = (df.x1 + df.x2 > 0).astype(float)
    return df, ["const", "x1", "x2"]


def _counts():
    """Zero counts wherever d = 1: d's coefficient diverges to -inf."""
    rng, df = _frame()
    df["d"] = (df.x1 > 1).astype(float)
    df["y"] = np.where(df.d == 1, 0.0, rng.poisson(2.0, size=len(df)))
    return df, ["const", "d", "x2"]


def _categories():
    """Three outcomes cut from x1: separated (MNLogit with a constant, OrderedModel without)."""
    _, df = _frame()
    df["y"] = np.where(df.x1 > 0.5, 2, np.where(df.x1 > -0.5, 1, 0)).astype(float)
    return df, ["const", "x1", "x2"]


CASES = [(Logit, _combination, None), (Probit, _combination, None), (Poisson, _counts, None),
         (NegativeBinomial, _counts, None), (MNLogit, _categories, None),
         (OrderedModel, _categories, ["x1", "x2"])]


def _error(model_class, y, x, **kw):
    with pytest.raises(PerfectSeparationError) as err, warnings.catch_warnings():
        warnings.simplefilter("ignore")         # (NB's convergence warning on the way)
        model_class(y, x, **kw).fit(disp=0)
    return str(err.value)


@pytest.mark.parametrize("model_class,data,cols", CASES,
                         ids=[c[0].__name__ for c in CASES])
def test_separated_dask_fit_raises_with_the_in_memory_message(model_class, data, cols):
    df, default = data()
    cols = cols or default
    ddf = dd.from_pandas(df, npartitions=4)
    in_memory = _error(model_class, df["y"], df[cols])
    on_dask = _error(model_class, ddf["y"], ddf[cols])
    assert on_dask == in_memory
    assert "x1'" in on_dask or "'d'" in on_dask         # (MNLogit: 'y=2:x1')


@pytest.mark.parametrize("model_class,data,cols", CASES[:1] + CASES[2:3] + CASES[4:5],
                         ids=["Logit", "Poisson", "MNLogit"])
def test_separated_dask_fit_warns_and_notes_in_summary(model_class, data, cols):
    df, default = data()
    ddf = dd.from_pandas(df, npartitions=3)
    model = model_class(ddf["y"], ddf[cols or default], separation="warn")
    with pytest.warns(PerfectSeparationWarning, match="diverge"):
        res = model.fit(disp=0)
    assert model.separation_note is not None
    assert "not meaningful" in str(res.summary())


def test_column_separating_alone_is_named_when_the_dask_model_is_made():
    _, df = _frame()
    df["y"] = (df.x2 > 0.3).astype(float)
    ddf = dd.from_pandas(df, npartitions=4)
    with pytest.raises(PerfectSeparationError) as mem:
        Logit(df["y"], df[["const", "x1", "x2"]])
    with pytest.raises(PerfectSeparationError) as err:
        Logit(ddf["y"], ddf[["const", "x1", "x2"]])
    assert str(err.value) == str(mem.value) and "(complete): column 'x2'" in str(err.value)
    with pytest.warns(PerfectSeparationWarning, match="'x2'"):
        model = Probit(ddf["y"], ddf[["const", "x1", "x2"]], separation="warn")
    assert "'x2'" in model.separation_note


def test_outcome_that_never_varies_on_dask():
    _, df = _frame()
    df["y"] = 0.0
    ddf = dd.from_pandas(df, npartitions=3)
    with pytest.raises(PerfectSeparationError, match="'y' is 0 in every row"):
        Logit(ddf["y"], ddf[["const", "x1"]])
    with pytest.raises(DataError, match="'y' is 0 in every row"):
        Poisson(ddf["y"], ddf[["const", "x1"]])


@pytest.mark.parametrize("model_class,data,cols", CASES[:1] + CASES[2:3] + CASES[4:6],
                         ids=["Logit", "Poisson", "MNLogit", "OrderedModel"])
def test_above_the_gather_limit_the_fit_is_reported_as_looking_separated(
        model_class, data, cols, monkeypatch):
    df, default = data()
    ddf = dd.from_pandas(df, npartitions=4)
    monkeypatch.setattr(DaskModel, "SEPARATION_GATHER_LIMIT", 100)
    message = _error(model_class, ddf["y"], ddf[cols or default])
    assert message.startswith("the fit looks like perfect separation")
    top = message.split("largest coefficients: ")[1].split(" = ")[0]
    assert top.endswith("x1'") or top == "'d'"      # the diverging coefficient first
    assert "ddf.compute()" in message and "300 rows" in message
    assert any(c in message for c in ("|x'b| =", "fitted mean is", "fitted probability"))
    model = model_class(ddf["y"], ddf[cols or default], separation="warn")
    with pytest.warns(PerfectSeparationWarning, match="looks like perfect separation"):
        model.fit(disp=0)


def _well_specified(seed):
    rng, df = _frame(seed, n=400)
    eta = 0.3 + 0.8 * df.x1 - 0.5 * df.x2
    df["yb"] = (rng.uniform(size=len(df)) < 1 / (1 + np.exp(-eta))).astype(float)
    df["yc"] = rng.poisson(np.exp(eta / 2)).astype(float)
    df["ym"] = np.digitize(eta + rng.logistic(size=len(df)), [-0.5, 1.0]).astype(float)
    return dd.from_pandas(df, npartitions=4)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_false_alarm_on_non_separated_dask_fits(seed, monkeypatch):
    """No warning or error, also when the rows could not be gathered (limit 0): the
    criteria do not fire on well-specified data with moderate coefficients."""
    ddf = _well_specified(seed)
    x = ddf[["const", "x1", "x2"]]
    for limit in (DaskModel.SEPARATION_GATHER_LIMIT, 0):
        monkeypatch.setattr(DaskModel, "SEPARATION_GATHER_LIMIT", limit)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fits = [Logit(ddf["yb"], x).fit(disp=0), Probit(ddf["yb"], x).fit(disp=0),
                    Poisson(ddf["yc"], x).fit(disp=0), MNLogit(ddf["ym"], x).fit(disp=0),
                    OrderedModel(ddf["ym"], ddf[["x1", "x2"]]).fit(disp=0)]
        for res in fits:
            assert res.model.separation_note is None
            assert np.all(np.abs(res.params) < 5)


def _strong(seed, n, slope):
    """Well specified, one strong regressor: fitted |x'b| far beyond 10 on some rows, and
    misclassified rows on both sides (not separated)."""
    rng, df = _frame(seed, n=n)
    eta = 0.2 + slope * df.x1
    df["y"] = (rng.uniform(size=len(df)) < 1 / (1 + np.exp(-eta))).astype(float)
    return df


@pytest.mark.parametrize("slope", [4.0, 12.0])
def test_strong_regressor_above_the_gather_limit_is_cleared_without_the_rows(
        slope, monkeypatch):
    """A well-specified Logit whose strong regressor gives |x'b| > 10 (and > 30, which was
    reported as 'looks separated', an error by default) on some rows: above the gather
    limit (here 0) the rows the fit supports least, gathered from each partition, already
    admit no diverging direction, so the whole sample has none: no error, no warning."""
    df = _strong(5, 2000, slope)
    x = df[["const", "x1", "x2"]]
    top = float(np.max(np.abs(x.to_numpy() @ Logit(df["y"], x).fit(disp=0).params)))
    assert top > (30 if slope > 10 else 10)
    ddf = dd.from_pandas(df, npartitions=3)
    monkeypatch.setattr(DaskModel, "SEPARATION_GATHER_LIMIT", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = Logit(ddf["y"], ddf[["const", "x1", "x2"]]).fit(disp=0)
    assert res.converged and res.model.separation_note is None


def test_strong_mnlogit_above_the_gather_limit_is_cleared_without_the_rows(monkeypatch):
    """MNLogit with fitted probabilities below 1e-8 on well-specified data (any criterion of
    it was strong evidence: an error by default above the gather limit)."""
    rng, df = _frame(7, n=1500)
    eta = np.column_stack([np.zeros(len(df)), 0.5 + 4 * df.x1, -0.5 - 4 * df.x1])
    p = np.exp(eta - eta.max(1, keepdims=True))
    u = rng.uniform(size=len(df))[:, None]
    df["y"] = (u > np.cumsum(p / p.sum(1, keepdims=True), axis=1)).sum(1).astype(float)
    ddf = dd.from_pandas(df, npartitions=3)
    model = MNLogit(df["y"], df[["const", "x1"]])
    assert not model._probabilities_above(np.ravel(model.fit(disp=0).params, order="F"), 1e-8)
    monkeypatch.setattr(DaskModel, "SEPARATION_GATHER_LIMIT", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = MNLogit(ddf["y"], ddf[["const", "x1"]]).fit(disp=0)
    assert res.model.separation_note is None


@pytest.mark.parametrize("model_class,data,cols", CASES[:1] + CASES[2:3] + CASES[4:6],
                         ids=["Logit", "Poisson", "MNLogit", "OrderedModel"])
def test_separated_with_no_rows_gathered_still_raises(model_class, data, cols, monkeypatch):
    """Limit 0: the gathered subset of rows is separated too, so it cannot clear the fit."""
    df, default = data()
    ddf = dd.from_pandas(df, npartitions=4)
    monkeypatch.setattr(DaskModel, "SEPARATION_GATHER_LIMIT", 0)
    message = _error(model_class, ddf["y"], ddf[cols or default])
    assert message.startswith("the fit looks like perfect separation")
    assert "gathered rows the fit supports least do not rule it out" in message


def test_separation_candidates_are_the_same_in_row_blocks():
    """A partition larger than block_memory selects its rows block by block (only a block's
    LP rows held at once): the same rows as in one block (ties aside)."""
    import mleopt
    df = _strong(3, 3000, 5.0)
    model = Logit(df["y"], df[["const", "x1", "x2"]])
    params = np.asarray(model.fit(disp=0).params)
    whole = model._separation_candidates(params, 25)[0]
    with mleopt.options(block_memory="4kB"):
        assert len(model._blocks()[0]) > 10
        blocked = model._separation_candidates(params, 25)[0]
    order = np.lexsort(whole.T), np.lexsort(blocked.T)
    np.testing.assert_array_equal(whole[order[0]], blocked[order[1]])
    assert np.all(np.sort(whole @ params)[-1] <= np.sort(
        df[["const", "x1", "x2"]].to_numpy() * np.where(df["y"] > 0, 1, -1)[:, None]
        @ params)[25:])
