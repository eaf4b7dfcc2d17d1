"""Dask data for the families with more than one per-row input (issue 12): a second design
(zero-inflated / hurdle ``exog_infl`` / ``exog_zero``, Heckman's ``selection_exog`` and
``selected``), categorical outcomes whose categories come from all partitions (OrderedModel,
MNLogit), per-row bounds (IntervalRegression's lower / upper).

Each fit on dask DataFrames (synchronous scheduler: no cluster needed) must equal the
in-memory fit to 1e-8 (params, standard errors, llf, llnull), from the same start values
(the Dask start values come from the first partition, so the iterates would differ by the
optimiser's tolerance otherwise).
"""
import numpy as np
import pandas as pd
import pytest

import dask                   # the test extra installs mleopt[dask]
import dask.dataframe as dd

from mleopt import (HurdleNegativeBinomial, HurdlePoisson, Heckman, IntervalRegression,
                    MNLogit, OrderedModel, ZeroInflatedNegativeBinomial, ZeroInflatedPoisson,
                    add_constant, datasets)
from mleopt.exceptions import ConvergenceWarning, DataError


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def _randhie():
    df = datasets.load("randhie").iloc[:1500]
    x = add_constant(df[["lncoins", "idp", "lpi", "fmde"]])
    z = add_constant(df[["physlm", "disea"]]).add_prefix("z_")
    return pd.concat([df["mdvis"], x, z], axis=1), list(x.columns), list(z.columns)


def _anes():
    df = datasets.load("anes96")
    df["logpopul"] = np.log(df["popul"] + 0.1)
    return df[["PID", "logpopul", "selfLR", "age", "educ", "income"]]


def _mroz():
    mroz = datasets.load("mroz")
    x = add_constant(mroz[["educ", "exper", "expersq"]])
    z = add_constant(mroz[["educ", "exper", "expersq", "nwifeinc", "age", "kidslt6",
                           "kidsge6"]]).add_prefix("s_")
    return pd.concat([mroz[["lwage", "inlf"]], x, z], axis=1), list(x.columns), list(z.columns)


def _affairs():
    df = datasets.load("affairs")
    x = add_constant(df[["age", "yearsmarried", "religiousness", "occupation", "rating"]])
    lower = df["affairs"].map({0: np.nan, 1: 1, 2: 2, 3: 3, 7: 4, 12: 12}).rename("lo")
    upper = df["affairs"].map({0: 0, 1: 1, 2: 2, 3: 3, 7: 10, 12: np.nan}).rename("hi")
    return pd.concat([lower, upper, x], axis=1), list(x.columns)


def _cases():
    counts, x, z = _randhie()
    anes = _anes()
    mroz, mx, mz = _mroz()
    affairs, ax = _affairs()
    exog = ["logpopul", "selfLR", "age", "educ", "income"]
    return {
        "ZeroInflatedPoisson": (counts, lambda d: ZeroInflatedPoisson(
            d["mdvis"], d[x], exog_infl=d[z])),
        "ZeroInflatedNegativeBinomial (probit)": (counts, lambda d: ZeroInflatedNegativeBinomial(
            d["mdvis"], d[x], exog_infl=d[z], inflation="probit")),
        "HurdlePoisson": (counts, lambda d: HurdlePoisson(d["mdvis"], d[x], exog_zero=d[z])),
        "HurdleNegativeBinomial": (counts, lambda d: HurdleNegativeBinomial(
            d["mdvis"], d[x], exog_zero=d[z])),
        "Heckman (positional)": (mroz, lambda d: Heckman(d["lwage"], d[mx], d[mz], d["inlf"])),
        "OrderedModel": (anes, lambda d: OrderedModel(d["PID"], d[exog], distr="probit")),
        "MNLogit": (anes, lambda d: MNLogit(d["PID"], add_constant(d[exog])
                                            if isinstance(d, pd.DataFrame) else
                                            d[exog].assign(const=1.0)[["const"] + exog])),
        "IntervalRegression": (affairs, lambda d: IntervalRegression(d["lo"], d["hi"], d[ax])),
    }


CASES = _cases()


@pytest.mark.parametrize("name", list(CASES))
def test_dask_fit_equals_the_in_memory_fit(name):
    frame, make = CASES[name]
    mem_model = make(frame)
    start = mem_model.start_params()
    mem = mem_model.fit(start_params=start)
    # sorted data (Mroz: the workers first; anes96 by PID) put unlike rows in each partition
    dmodel = make(dd.from_pandas(frame, npartitions=3))
    assert type(dmodel).__mro__[1].__name__ == "DaskModel"
    res = dmodel.fit(start_params=start)
    assert list(res.params.index) == list(mem.params.index)
    np.testing.assert_allclose(res.params, mem.params, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(res.bse, mem.bse, rtol=1e-8, atol=1e-12)
    assert res.llf == pytest.approx(mem.llf, rel=1e-10)
    assert res.llnull == pytest.approx(mem.llnull, rel=1e-8)
    assert res.summary().as_text().count("\n") > 10


def test_default_start_values_on_dask_reach_the_same_maximum():
    """Without shared start values (Heckman's first partition holds only selected rows,
    so its own fit fails and the generic start is used)."""
    frame, make = CASES["Heckman (positional)"]
    mem = make(frame).fit()
    res = make(dd.from_pandas(frame, npartitions=3)).fit()
    np.testing.assert_allclose(res.params, mem.params, rtol=1e-6, atol=1e-7)
    assert res.nobs_selected == mem.nobs_selected == 428
    assert res.lr_test_rho[0] == pytest.approx(mem.lr_test_rho[0], rel=1e-5)


def test_mnlogit_tables_and_categories_from_every_partition():
    anes = _anes()
    exog = ["logpopul", "selfLR", "age", "educ", "income"]
    frame = anes.assign(const=1.0)[["PID", "const"] + exog]
    mem = MNLogit(frame["PID"], frame[["const"] + exog]).fit()
    # sorted by PID: no partition holds all seven categories
    ddf = dd.from_pandas(frame.sort_values("PID"), npartitions=4)
    res = MNLogit(ddf["PID"], ddf[["const"] + exog]).fit()
    assert res.model.labels == mem.model.labels == list(range(7))
    pd.testing.assert_frame_equal(res.params_table, mem.params_table, rtol=1e-6)


@pytest.mark.parametrize("base,dtype", [(2 ** 53, np.int64), (2 ** 64 - 8, np.uint64)])
def test_large_integer_categories_on_dask_as_in_memory(base, dtype):
    """Integer labels beyond 2**53 (ids): the first pass's categories are compared exactly,
    as each partition's codes are (through floats 2**53 and 2**53 + 1 were one category
    there, and a partition holding the other was refused: 'labels ... lack')."""
    anes = _anes()
    frame = anes.assign(const=1.0)[["const", "age", "income"]]
    frame["y"] = np.array([base + int(v) for v in (anes["PID"] > 3)], dtype=dtype)
    mem = MNLogit(frame["y"], frame[["const", "age", "income"]]).fit()
    ddf = dd.from_pandas(frame, npartitions=3)
    res = MNLogit(ddf["y"], ddf[["const", "age", "income"]]).fit()
    assert res.model.labels == mem.model.labels == [base, base + 1]
    pd.testing.assert_frame_equal(res.params_table, mem.params_table, rtol=1e-6)


def test_whole_sample_category_checks_on_dask():
    anes = _anes()
    exog = ["logpopul", "selfLR", "age", "educ", "income"]
    one = anes.assign(PID=3)
    with pytest.raises(DataError, match="single category"):
        OrderedModel(dd.from_pandas(one, npartitions=2)["PID"],
                     dd.from_pandas(one, npartitions=2)[exog])
    cat = pd.Categorical(anes["PID"], categories=list(range(8)), ordered=True)
    frame = anes.assign(PID=cat)
    ddf = dd.from_pandas(frame, npartitions=2)
    with pytest.raises(DataError, match="no observation in category 7"):
        OrderedModel(ddf["PID"], ddf[exog])
    with pytest.raises(DataError, match="is constant"):
        ddf2 = dd.from_pandas(anes.assign(one=1.0), npartitions=2)
        OrderedModel(ddf2["PID"], ddf2[exog + ["one"]])
    young = (anes["age"] < 40).astype(float)        # with "old", an implicit constant
    ddf3 = dd.from_pandas(anes.assign(young=young, old=1.0 - young), npartitions=3)
    with pytest.raises(DataError, match="implicit constant.*'young', 'old'"):
        OrderedModel(ddf3["PID"], ddf3[["selfLR", "young", "old"]])


def test_whole_sample_checks_of_heckman_and_interval_regression_on_dask():
    frame, mx, mz = _mroz()
    everyone = dd.from_pandas(frame[frame["inlf"] == 1], npartitions=3)     # the workers
    with pytest.raises(DataError, match="every row is selected"):
        Heckman(everyone["lwage"], everyone[mx], everyone[mz], everyone["inlf"])
    affairs, ax = _affairs()
    one_sided = affairs.assign(hi=np.nan, lo=affairs["lo"].fillna(0.0))
    parts = dd.from_pandas(one_sided, npartitions=3)
    with pytest.raises(DataError, match="unbounded on one side"):
        IntervalRegression(parts["lo"], parts["hi"], parts[ax])


def test_a_partition_emptied_by_missing_drop_is_left_out():
    """missing='drop' where one whole partition has NaNs: the other partitions are fitted
    (as the in-memory fit of the same rows), and the dropped rows are counted."""
    anes = _anes()
    exog = ["logpopul", "selfLR", "age", "educ", "income"]
    frame = anes.assign(const=1.0)[["PID", "const"] + exog]
    frame.loc[frame.index[:200], "age"] = np.nan        # the first partition (118 rows)
    mem = MNLogit(frame["PID"], frame[["const"] + exog], missing="drop")
    start = mem.start_params()
    ddf = dd.from_pandas(frame, npartitions=8)
    dmodel = MNLogit(ddf["PID"], ddf[["const"] + exog], missing="drop")
    assert (dmodel.nobs, dmodel.n_dropped, dmodel.dropped_by) == (744, 200, {"age": 200})
    res, ref = dmodel.fit(start_params=start), mem.fit(start_params=start)
    np.testing.assert_allclose(res.params_flat, ref.params_flat, rtol=1e-8, atol=1e-10)
    assert res.llf == pytest.approx(ref.llf, rel=1e-10)


def test_category_marginal_effects_on_dask_equal_the_in_memory_ones():
    """get_margeff of OrderedModel / MNLogit on Dask data: partition sums (no N-sized
    gather), equal to the in-memory effects and SEs; model.predict on Dask keeps the
    class's default which ('prob')."""
    anes = _anes().assign(const=1.0)
    exog = ["logpopul", "selfLR", "age", "educ", "income"]
    ddf = dd.from_pandas(anes.sort_values("PID"), npartitions=4)
    for model_class, cols, at in ((OrderedModel, exog, "overall"),
                                  (MNLogit, ["const"] + exog, "mean")):
        mem_model = model_class(anes["PID"], anes[cols])
        start = mem_model.start_params()
        mem = mem_model.fit(start_params=start)
        res = model_class(ddf["PID"], ddf[cols]).fit(start_params=start)
        ours, ref = res.get_margeff(at=at).summary_frame(), mem.get_margeff(at=at).summary_frame()
        assert list(ours.index) == list(ref.index)
        np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=1e-7, atol=1e-10)
        np.testing.assert_allclose(res.model.predict(res.params, anes[cols].iloc[:3]),
                                   mem.predict(anes[cols].iloc[:3]).to_numpy(), rtol=1e-7)


def test_heckman_margeff_on_dask_and_two_part_refusal():
    """Heckman (no offset) get_margeff on Dask partitions equals the in-memory one (was
    AttributeError '_offset'); the two-part count models refuse by name (their zero part's
    columns are matched to exog's on the rows themselves)."""
    frame, make = CASES["Heckman (positional)"]
    mem = make(frame).fit()
    res = make(dd.from_pandas(frame, npartitions=3)).fit(start_params=mem.params.to_numpy())
    ours, ref = res.get_margeff().summary_frame(), mem.get_margeff().summary_frame()
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=1e-6, atol=1e-10)
    counts, make_zip = CASES["ZeroInflatedPoisson"]
    with pytest.warns(ConvergenceWarning):      # (a short fit: only the refusal matters)
        fit = make_zip(dd.from_pandas(counts.iloc[:600], npartitions=2)).fit(maxiter=3)
    with pytest.raises(NotImplementedError, match="get_margeff of ZeroInflatedPoisson on Dask"):
        fit.get_margeff()
