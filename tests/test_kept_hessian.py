"""A model's kept Hessian (and QR of X) is reused only while its rows hold the same numbers.

``model.hessian(p)`` keeps its result (and a fit keeps Newton's final Hessian) for the
results and the fit's checks. It was returned for the same ``p`` after the model's own
arrays were changed in place (``model.exog[...] = ...``): the old Hessian, silently. The
kept results are now guarded by private copies of the row arrays, compared at each reuse.
"""
import numpy as np

import mleopt
import mleopt.numpy as mnp
from mleopt import OLS, LikelihoodModel, Logit, Poisson
from mleopt.stats import norm

N = 200
P = np.array([0.1, 0.2, -0.3])


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = np.column_stack([np.ones(N), rng.normal(size=(N, 2))])
    return rng, x


class NormalRegression(LikelihoodModel):
    """y ~ N(X b, exp(log_sigma)^2): endog and exog used as they are."""

    extra_param_names = ("log_sigma",)

    def loglikeobs(self, params):
        return norm.logpdf(self.endog, self.exog @ params[:-1], mnp.exp(params[-1]))


def _same_as_fresh(model, fresh, params):
    np.testing.assert_allclose(model.hessian(params), fresh.hessian(params), rtol=1e-12)
    np.testing.assert_allclose(model.score(params), fresh.score(params), rtol=1e-12)
    np.testing.assert_allclose(model.loglike(params), fresh.loglike(params), rtol=1e-12)


def test_exog_changed_in_place_gives_the_new_hessian():
    rng, x = _data()
    y = rng.poisson(2.0, N).astype(float)
    for cls in (Logit, Poisson):
        yy = (y > 1).astype(float) if cls is Logit else y
        m = cls(yy, x)
        before = m.hessian(P)
        m.exog[:, 1] *= 2.0
        assert not np.allclose(m.hessian(P), before)
        _same_as_fresh(m, cls(yy, m.exog.copy()), P)
        view = m.exog[:, 2]             # through a view of the model's array
        view[:10] = 5.0
        _same_as_fresh(m, cls(yy, m.exog.copy()), P)


def test_endog_changed_in_place_gives_the_new_hessian_score_and_loglike():
    rng, x = _data(1)
    y = x @ [1.0, 0.5, -0.5] + rng.normal(size=N)
    p = np.array([1.0, 0.5, -0.5, 0.1])
    m = NormalRegression(y, x)
    m.hessian(p)
    m.endog[:50] += 3.0
    _same_as_fresh(m, NormalRegression(m.endog.copy(), x), p)


def test_the_fits_final_hessian_is_dropped_when_the_data_change():
    rng, x = _data(2)
    y = (rng.random(N) < 1 / (1 + np.exp(-(x @ [0.5, 1.0, -0.7])))).astype(float)
    m = Logit(y, x)
    res = m.fit()
    p = res.params.to_numpy()
    np.testing.assert_allclose(m.hessian(p), Logit(y, x).hessian(p), rtol=1e-12)
    m.exog[:, 1] += 1.0
    np.testing.assert_allclose(m.hessian(p), Logit(y, m.exog.copy()).hessian(p), rtol=1e-12)


def test_the_kept_qr_of_x_follows_exog_changed_in_place():
    """OLS keeps the tall-skinny QR of X ((X'X)^-1, leverages for HC2/HC3)."""
    rng, x = _data(3)
    y = x @ [1.0, 2.0, -1.0] + rng.normal(size=N)
    m = OLS(y, x)
    m.fit(cov_type="HC3")
    m._xtx_inverse()
    m.exog[:, 2] = rng.normal(size=N) ** 2
    np.testing.assert_allclose(m._xtx_inverse(), np.linalg.inv(m.exog.T @ m.exog),
                               rtol=1e-10)
    np.testing.assert_allclose(m.fit(cov_type="HC3").bse,
                               OLS(y, m.exog.copy()).fit(cov_type="HC3").bse, rtol=1e-10)


def test_the_kept_hessian_is_reused_while_the_data_are_unchanged(monkeypatch):
    rng, x = _data(4)
    m = Poisson(rng.poisson(2.0, N).astype(float), x)
    calls = []
    block_map = m._block_map

    def counting(method, *args, **kw):
        calls.append(method)
        return block_map(method, *args, **kw)

    monkeypatch.setattr(m, "_block_map", counting)
    first = m.hessian(P)
    np.testing.assert_array_equal(m.hessian(P), first)
    assert calls.count("_block_hessian") == 1
    m.exog[0, 1] += 1e-9                # any change: the Hessian is made again
    m.hessian(P)
    assert calls.count("_block_hessian") == 2


def test_nothing_is_kept_beyond_the_memory_budget():
    """Private copies larger than block_memory are not made: the Hessian is computed at
    each call (and is right)."""
    rng, x = _data(5)
    y = rng.poisson(2.0, N).astype(float)
    data_bytes = sum(v.nbytes for v in Poisson(y, x)._row_arrays().values())
    with mleopt.blocks.options(block_memory=data_bytes // 2):
        m = Poisson(y, x)
        m.hessian(P)
        assert "_hessian_memo" not in m.__dict__
        m.exog[:, 1] *= 3.0
        np.testing.assert_allclose(m.hessian(P), Poisson(y, m.exog.copy()).hessian(P),
                                   rtol=1e-12)


def test_the_guard_compares_in_bounded_memory():
    """Comparing the rows with their private copy at each reuse made two masked copies of
    every array (np.array_equal(..., equal_nan=True) on the whole): 2 x 12.8 MB here. By
    blocks of rows, the temporaries stay at a few MB whatever the data's size."""
    import tracemalloc
    from mleopt.ad.structure import DataCopy
    x = np.random.default_rng(0).normal(size=(400_000, 4))
    x[5, 1] = np.nan
    guard = DataCopy({"exog": x})
    tracemalloc.start()
    try:
        assert guard.holds({"exog": x})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < x.nbytes / 2                     # before: over 2 x nbytes
    x[7, 2] += 1.0
    assert not guard.holds({"exog": x})
