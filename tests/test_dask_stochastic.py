"""Stochastic fits and declared transforms on Dask data (issue 10).

A stochastic fit on a Dask model draws its minibatches within the partitions (shuffled
partition order, shuffled rows in each, from the client's seed) and runs each partition's
steps on its worker; the Newton polish on all partitions then ends at the in-memory MLE
(reference: the in-memory Newton fit of the same model, computed in the test). The
synchronous scheduler keeps it small and fast (no cluster)."""
import dask
import dask.dataframe as dd
import numpy as np
import pytest

from mleopt import Logit, Poisson
from mleopt.exceptions import ConvergenceWarning
from mleopt.optimize import DivergenceError

from test_dask import DF, X

P = 6


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


@pytest.fixture(scope="module")
def frames():
    return DF, dd.from_pandas(DF, npartitions=P)


def test_adam_on_partitions_then_polish_is_the_in_memory_mle(frames):
    df, ddf = frames
    mem = Logit(df["bin"], df[X]).fit()
    res = Logit(ddf["bin"], ddf[X]).fit(method="adam", lr=0.05, batch_size=100, epochs=3,
                                        seed=0)
    assert res.converged and res.method == "adam+newton"
    np.testing.assert_allclose(res.params, mem.params, rtol=0, atol=1e-8)
    np.testing.assert_allclose(res.bse, mem.bse, rtol=0, atol=1e-8)
    info = res.opt.extra["stochastic"]
    # 6 partitions of 500 rows: 5 batches each per epoch
    assert info["steps"] == 3 * P * 5 and list(res.optim_history["epoch"]) == [0, 1, 2, 3]


def test_reproducible_by_seed(frames):
    _, ddf = frames
    kw = dict(method="sgd", lr=0.5, momentum=0.9, batch_size=128, epochs=2, polish=False)
    with pytest.warns(ConvergenceWarning):
        a = Logit(ddf["bin"], ddf[X]).fit(seed=7, **kw)
    with pytest.warns(ConvergenceWarning):
        b = Logit(ddf["bin"], ddf[X]).fit(seed=7, **kw)
    with pytest.warns(ConvergenceWarning):
        c = Logit(ddf["bin"], ddf[X]).fit(seed=8, **kw)
    np.testing.assert_array_equal(a.params, b.params)
    assert np.max(np.abs(a.params - c.params)) > 1e-6


def test_divergence_names_the_epoch_and_partition(frames):
    _, ddf = frames
    with pytest.raises(DivergenceError, match=r"epoch 1 \(partition \d, batch \d+"):
        Poisson(ddf["count"], ddf[X]).fit(method="sgd", lr=1e6, batch_size=500, epochs=1,
                                          seed=0)


def test_transforms_on_dask_equal_in_memory(frames):
    df, ddf = frames
    decl = {"a": "positive", "b": ("interval", -1, 0)}
    mem = Logit(df["bin"], df[X]).fit(transforms=decl)
    res = Logit(ddf["bin"], ddf[X]).fit(transforms=decl)
    np.testing.assert_allclose(res.params, mem.params, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.bse, mem.bse, rtol=0, atol=1e-10)
    assert res.llnull == pytest.approx(mem.llnull, abs=1e-9)
