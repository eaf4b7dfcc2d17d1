"""The fit path's shortcuts give what the long routes give.

Each shortcut taken to save time outside the likelihood evaluations (numeric category codes,
the Cholesky inverse of a clearly definite Hessian, ...) is checked here against the route
it replaces or against plain numpy, including the cases where it must step aside.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from mleopt.covariance import _clearly_definite_inverse, safe_inverse
from mleopt.exceptions import DataError, HessianWarning
from mleopt.models.categories import encode_categories


# --- safe_inverse: Cholesky when clearly definite, the eigen route otherwise --------------------

def _spd(k: int, cond: float, seed: int) -> np.ndarray:
    """A symmetric positive definite K x K matrix with condition number ``cond`` and
    diagonal scales spread over six orders of magnitude."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(k, k)))
    a = (q * np.geomspace(1.0, 1.0 / cond, k)) @ q.T
    s = 10.0 ** rng.uniform(-3, 3, k)
    return s[:, None] * a * s[None, :]


@pytest.mark.parametrize("k, cond", [(1, 1.0), (6, 10.0), (36, 2e3), (20, 1e8)])
def test_safe_inverse_definite_is_the_inverse(k, cond):
    a = _spd(k, cond, seed=k)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no HessianWarning
        inv = safe_inverse(a, [f"p{i}" for i in range(k)])
    assert _clearly_definite_inverse(a, np.diag(a)) is not None
    sd = np.sqrt(np.diag(np.linalg.inv(a)))
    np.testing.assert_allclose(inv / np.outer(sd, sd),
                               np.linalg.inv(a) / np.outer(sd, sd), rtol=0, atol=1e-12 * cond)


def test_safe_inverse_near_singular_takes_the_eigen_route():
    """Scaled smallest eigenvalue 1e-14: below the shortcut's bound (it steps aside), and
    within safe_inverse's tolerance, so the parameters on that direction get NaN."""
    a = _spd(5, 1e14, seed=3)
    assert _clearly_definite_inverse(a, np.diag(a)) is None
    with pytest.warns(HessianWarning, match="standard errors of"):
        inv = safe_inverse(a, list("abcde"))
    assert np.isnan(np.diag(inv)).any()


def test_safe_inverse_indefinite_and_nonpositive_diagonal_warn():
    a = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]])
    with pytest.warns(HessianWarning, match="c"):
        inv = safe_inverse(a, list("abc"))
    np.testing.assert_allclose(inv[:2, :2], np.diag([0.5, 1.0]))
    assert np.isnan(inv[2]).all() and np.isnan(inv[:, 2]).all()
    b = np.array([[2.0, 3.0], [3.0, 2.0]])      # unit diagonals, one negative eigenvalue
    assert _clearly_definite_inverse(b, np.diag(b)) is None
    with pytest.warns(HessianWarning):
        safe_inverse(b, ["a", "b"])


# --- encode_categories: numbers coded at once, as the per-value route codes them ---------------

@pytest.mark.parametrize("values", [
    np.array([3, 1, 2, 1, 3]), np.array([0.5, 1.5, 0.5, np.nan, 2.5]),
    np.array([True, False, True]), pd.Series([2.0, 4.0, np.nan, 2.0], name="v"),
    np.array([-0.0, 0.0, 1.0]), np.array([np.inf, 1.0, 1.0]),
    np.array([2 ** 60, 1, 1], dtype=np.int64)])
def test_numeric_codes_match_the_object_route(values):
    as_objects = pd.Series(values, dtype=object) if isinstance(values, pd.Series) else \
        np.asarray(values).astype(object)
    codes, labels = encode_categories(values, "M", need_order=True)
    codes_o, labels_o = encode_categories(as_objects, "M", need_order=True)
    np.testing.assert_array_equal(np.asarray(codes), np.asarray(codes_o))
    assert labels == labels_o
    assert [type(v) for v in labels] == [type(v) for v in labels_o]
    values_np = np.asarray(values, dtype=float)
    present = ~np.isnan(values_np)
    np.testing.assert_array_equal(np.asarray(labels, dtype=float)[
        np.asarray(codes)[present].astype(int)], values_np[present])


def test_numeric_codes_of_a_partition_use_the_whole_sample_labels():
    codes, labels = encode_categories(np.array([1, 3, 3]), "M", False, labels=[1, 2, 3])
    np.testing.assert_array_equal(codes, [0.0, 2.0, 2.0])
    assert labels == [1, 2, 3]
    with pytest.raises(DataError, match=r"labels \[4\] in this partition"):
        encode_categories(np.array([1.0, 4.0]), "M", False, labels=[1, 2, 3])



@pytest.mark.parametrize("values", [
    np.array([2 ** 53 + 1, 2 ** 53, 3, 2 ** 53 + 1], dtype=np.int64),
    np.array([2 ** 53 + 1, 2 ** 53, 3, 2 ** 53 + 1], dtype=object),
    np.array([2 ** 64 - 1, 2 ** 64 - 2, 3, 2 ** 64 - 1], dtype=np.uint64)])
def test_large_integer_outcomes_stay_distinct(values):
    """Integers beyond 2**53 (ids used as outcome labels) are compared exactly: through
    floats, 2**53 and 2**53 + 1 would be one category (and uint64 near 2**64 crashed)."""
    big = [int(v) for v in values[:2]]
    codes, labels = encode_categories(values, "M", need_order=True)
    assert labels == [3, big[1], big[0]] and [type(v) for v in labels] == [int] * 3
    np.testing.assert_array_equal(codes, [2.0, 1.0, 0.0, 2.0])
    part, _ = encode_categories(values[:2], "M", False, labels=labels)
    np.testing.assert_array_equal(part, [2.0, 1.0])
    if values.dtype == object:              # a missing value among Python ints
        with_none = np.append(values, None)
        codes, labels_n = encode_categories(with_none, "M", False)
        assert labels_n == labels
        np.testing.assert_array_equal(codes, [2.0, 1.0, 0.0, 2.0, np.nan])

def test_numeric_codes_still_refuse_one_category():
    with pytest.raises(DataError, match=r"single category \(1\)"):
        encode_categories(np.array([1, 1, 1]), "M", False)


# --- results: the parameter-name Index is built once, each Series gets its own view ------------

def test_tables_share_names_not_index_objects():
    from mleopt import MNLogit
    rng = np.random.default_rng(0)
    x = np.column_stack([np.ones(300), rng.normal(size=300)])
    res = MNLogit(rng.integers(0, 3, 300), x).fit()
    assert list(res.bse_flat.index) == res.param_names == list(res.cov_params().columns)
    assert list(res.params.index) == ["const", "x1"] and list(res.params.columns) == \
        ["y=1", "y=2"]
    res.params_flat.index.name = "renamed"
    res.params.index.name = "renamed"
    cov = res.cov_params()
    cov.index.name = "renamed"
    assert res.bse_flat.index.name is None and res.bse.index.name is None
    assert cov.columns.name is None and res.cov_params().index.name is None



def test_shared_names_cannot_be_written_through_one_series():
    """The Index's numbers are shared by every Series and table of a results object: writing
    into one's ``index.values`` must be refused, not rename the others' parameters."""
    from mleopt import Logit, MNLogit
    rng = np.random.default_rng(1)
    x = np.column_stack([np.ones(200), rng.normal(size=200)])
    res = Logit((x[:, 1] + rng.logistic(size=200) > 0).astype(float), x).fit()
    mres = MNLogit(rng.integers(0, 3, 200), x).fit()
    axes = [res.params.index, res.conf_int().index, mres.params_flat.index]
    for frame in (res.cov_params(), mres.params, mres.cov_params()):
        axes += [frame.index, frame.columns]
    for axis in axes:
        with pytest.raises(ValueError, match="read-only"):
                axis.values[0] = "renamed"
    assert list(res.bse.index) == res.param_names == ["const", "x1"]
    assert list(mres.bse.index) == ["const", "x1"] and list(mres.bse.columns) == ["y=1", "y=2"]
    assert list(mres.bse_flat.index) == mres.param_names


def test_table_axes_follow_names_changed_in_place():
    """The cached table axes are keyed by the names' values, not by the list object."""
    from mleopt import MNLogit
    rng = np.random.default_rng(2)
    x = np.column_stack([np.ones(200), rng.normal(size=200)])
    res = MNLogit(rng.integers(0, 3, 200), x).fit()
    assert list(res.params.index) == ["const", "x1"]
    res.model.exog_names[1] = "income"
    assert list(res.params.index) == ["const", "income"]

# --- MNLogit's separation screen: the numpy log-probabilities agree with predict ----------------

def test_mnlogit_probability_screen_agrees_with_predict():
    from mleopt import MNLogit
    from mleopt.models.categories import CategoricalOutcome
    rng = np.random.default_rng(2)
    x = np.column_stack([np.ones(400), rng.normal(size=(400, 2))])
    model = MNLogit(rng.integers(0, 4, 400), x)
    for scale in (0.1, 1.0, 5.0, 40.0):
        params = rng.normal(size=model.k_params) * scale
        smallest = float(np.asarray(model.predict(params)).min())
        for tiny in (1e-8, smallest, smallest * (1 + 1e-9), smallest * (1 - 1e-9), 1e-320):
            if tiny > 0:
                assert model._probabilities_above(params, tiny) == (smallest > tiny) == \
                    CategoricalOutcome._probabilities_above(model, params, tiny)
    assert not model._probabilities_above(np.full(model.k_params, np.nan), 1e-8)


# --- the range checks of the data still catch subnormal columns and endog ----------------------

def test_subnormal_columns_are_still_refused():
    from mleopt.data import check_rank, check_scale
    rng = np.random.default_rng(4)
    x = np.column_stack([np.ones(50), rng.normal(size=50) * 1e-160])
    with pytest.raises(DataError, match=r"'x1' is too small.*multiply it by 1e\+16\d"):
        check_rank(x, ["const", "x1"])
    with pytest.raises(DataError, match="the dependent variable 'y' is too small"):
        check_scale(rng.normal(size=50) * 1e-170, "y", "Logit")
    norms, gram = check_rank(np.column_stack([np.ones(50), rng.normal(size=50) * 1e-150]),
                             ["const", "x1"])       # squares still normal: accepted
    assert np.all(norms > 0)


# --- the final Hessian of a model with its own transform, from Newton's by the chain rule -------

def _direct_hessian(model, params):
    from mleopt.models.base import NATURAL
    return model._block_hessian(np.asarray(params, dtype=float), NATURAL)


@pytest.mark.parametrize("make", [
    lambda rng, x: __import__("mleopt").OrderedModel(
        np.digitize(x[:, 1] + rng.logistic(size=x.shape[0]), [-1.0, 0.0, 1.5]), x[:, 1:],
        distr="logit"),
    lambda rng, x: __import__("mleopt").NegativeBinomial(
        rng.negative_binomial(2, 2 / (2 + np.exp(x @ [0.3, 0.2, -0.1]))), x)])
def test_final_hessian_by_the_chain_rule_is_the_hessian(make):
    rng = np.random.default_rng(5)
    x = np.column_stack([np.ones(600), rng.normal(size=(600, 2))])
    model = make(rng, x)
    res = model.fit()
    memo = model.__dict__["_hessian_memo"]          # kept from Newton, not recomputed
    np.testing.assert_array_equal(memo[0], res._params)
    direct = _direct_hessian(model, res._params)
    np.testing.assert_allclose(memo[1], direct, rtol=1e-11, atol=1e-11 * np.abs(direct).max())


def test_final_hessian_at_a_boundary_is_computed_afresh():
    """NB with no overdispersion: alpha -> 0 ends on the boundary, where the gradient is not
    0; the chain rule would cancel digits there, so the Hessian is the direct one."""
    from mleopt import NegativeBinomial, Poisson
    rng = np.random.default_rng(0)
    x = np.column_stack([np.ones(500), rng.normal(size=(500, 3))])
    y = rng.poisson(np.exp(x @ [0.3, 0.2, -0.1, 0.05]))
    model = NegativeBinomial(y, x)
    # NB's default start with the Poisson fit from the intercept-only point (the default
    # before Poisson started from Newton's first step): Newton on log alpha -> -inf is
    # sensitive to the start at 1e-7, and from this one it converges at the boundary
    null = np.r_[np.log(y.mean()), np.zeros(3)]
    beta = Poisson(y, x).fit(start_params=null, gtol=1e-6).params.to_numpy()
    with pytest.warns(UserWarning, match="boundary"):
        res = model.fit(start_params=np.r_[beta, 0.05])
    assert res.converged
    z = res.opt.theta
    objective = _objective_at(model, res)
    h_z = objective.known_hessian(z)
    assert h_z is not None and model._natural_hessian(h_z, z, objective) is None
    np.testing.assert_array_equal(model.hessian(res._params),
                                  _direct_hessian(model, res._params))


def _objective_at(model, res):
    z0, _, objective = model._optimizer_space(res._params)
    objective.fun_and_grad(res.opt.theta)
    return objective


# --- start values: Newton's first step from the null model, in closed form ---------------------

def _randhie(n: int = 600):
    from mleopt import add_constant, datasets
    df = datasets.load("randhie").iloc[:n]
    return df["mdvis"], add_constant(df.drop(columns="mdvis"))


def test_count_start_is_newtons_first_step_from_the_null_model():
    """Poisson's start (least squares linearised at log(mean y)) is the Newton step from the
    intercept-only point with the AD gradient and Hessian there; the fit from it ends where
    the fit from the null point ends, in fewer iterations."""
    from mleopt import Poisson
    y, x = _randhie()
    model = Poisson(y, x)
    null = np.zeros(model.k_params)
    null[model.const_idx] = np.log(y.mean())
    step = np.linalg.solve(model.hessian(null), -model.score(null))
    np.testing.assert_allclose(model.start_params(), null + step, rtol=1e-9, atol=1e-12)
    own, from_null = model.fit(), Poisson(y, x).fit(start_params=null)
    np.testing.assert_allclose(own.params, from_null.params, rtol=1e-10)
    np.testing.assert_allclose(own.bse, from_null.bse, rtol=1e-10)
    assert own.mle_retvals["iterations"] < from_null.mle_retvals["iterations"]


def test_count_start_with_an_offset_is_the_intercept_only_point():
    """With an offset (or exposure) the rows' means differ by more than the regressors say:
    the start stays at zeros with the constant at log(mean y) - mean(offset)."""
    from mleopt import Poisson
    y, x = _randhie()
    offset = np.linspace(-0.5, 0.5, len(y))
    start = Poisson(y, x, offset=offset).start_params()
    want = np.zeros(x.shape[1])
    want[0] = np.log(y.mean()) - offset.mean()
    np.testing.assert_array_equal(start, want)


@pytest.mark.parametrize("method", ["nb2", "nb1"])
def test_nb_start_cut_short_ends_where_the_converged_poisson_start_does(method):
    """NB starts from three Newton iterations of the Poisson fit from Newton's first step
    (not the converged Poisson fit): the NB fit ends where the fit from the converged
    Poisson estimates (alpha by the same moments) ends, in no more iterations."""
    from mleopt import NegativeBinomial, Poisson
    y, x = _randhie()
    model = NegativeBinomial(y, x, loglike_method=method)
    start = model.start_params()
    beta = Poisson(y, x).fit().params.to_numpy()
    np.testing.assert_allclose(start[:-1], beta, rtol=1e-2, atol=1e-3)  # a start, not the MLE
    mu = np.exp(x.to_numpy() @ beta)
    excess = (y.to_numpy() - mu) ** 2 / mu - 1.0
    if method == "nb2":
        excess = excess / mu
    alpha = max(float(np.sum(excess) / (len(y) - x.shape[1])), 0.05)
    own = model.fit()
    full = NegativeBinomial(y, x, loglike_method=method).fit(start_params=np.r_[beta, alpha])
    np.testing.assert_allclose(own.params, full.params, rtol=1e-10)
    np.testing.assert_allclose(own.bse, full.bse, rtol=1e-8)
    assert own.mle_retvals["iterations"] <= full.mle_retvals["iterations"]


def test_count_start_makes_no_noise_probes(monkeypatch):
    """The three Newton iterations of NB's / GP's Poisson start are used for their
    parameters only: their verdict (maxiter reached) measures no rounding noise (eight more
    Poisson evaluations per fit); a user's fit stopped at maxiter still measures it."""
    from mleopt import GeneralizedPoisson, NegativeBinomial, Poisson
    from mleopt.optimize import Objective
    y, x = _randhie()
    calls = []
    real = Objective.noise

    def counted(self, theta):
        calls.append(1)
        return real(self, theta)

    monkeypatch.setattr(Objective, "noise", counted)
    nb = NegativeBinomial(y, x).start_params()
    gp = GeneralizedPoisson(y, x).start_params()
    assert calls == []
    assert np.all(np.isfinite(nb)) and np.all(np.isfinite(gp))
    from mleopt.exceptions import ConvergenceWarning
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = Poisson(y, x).fit(maxiter=1)
    assert not res.converged
    assert calls, "a user's fit stopped at maxiter measures the noise for its verdict"


def test_shared_index_is_reused_across_results_not_shared_as_an_object():
    """Two fits with the same names reuse one read-only Index (its array), each Series on a
    view of its own: renaming one leaves the other alone; labels that cannot be hashed are
    built afresh."""
    from mleopt import Poisson
    from mleopt.results import shared_index
    y, x = _randhie()
    a, b = Poisson(y, x).fit(), Poisson(y, x).fit()
    pa, pb = a.params, b.params
    assert pa.index is not pb.index
    va, vb = pa.index.values, pb.index.values
    if isinstance(va, np.ndarray):  # (pandas 3 keeps string labels in an ArrowStringArray)
        assert np.shares_memory(va, vb)
    else:
        assert pa.index.array is pb.index.array
    pa.index.name = "renamed"
    assert pb.index.name is None and b.params.index.name is None
    with pytest.raises(ValueError, match="read-only"):
        pb.index.values[0] = "renamed"
    odd = shared_index([[1, 2], [3]])
    assert list(odd) == [[1, 2], [3]] and not odd.values.flags.writeable


def _rare_binary_regressor(n: int = 400, seed: int = 7):
    """Poisson counts with a rare (7 %) binary regressor of effect 3: the least-squares
    step from the intercept-only point puts its coefficient near 9 (log-likelihood -3.9e5
    against -1.5e3 at the intercept-only point)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    x[:, 0] = x[:, 0] > 1.5
    exog = np.column_stack([np.ones(n), x])
    return rng.poisson(np.exp(exog @ [0.2, 3.0, 0.2, 0.1])).astype(float), exog


def _large_coefficients(n: int = 400, seed: int = 7):
    """Poisson counts with coefficients 2.5, -1.5, 1 on normal regressors (counts up to
    ~1e4): Poisson's Newton needs 7 iterations from its start, 3 leave it 0.4 away."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    exog = np.column_stack([np.ones(n), x])
    return rng.poisson(np.exp(exog @ [0.5, 2.5, -1.5, 1.0])).astype(float), exog


# (NB1 on the large coefficients: alpha -> 0, where no start converges)
@pytest.mark.parametrize("data, nb_methods", [(_rare_binary_regressor, ("nb2", "nb1")),
                                              (_large_coefficients, ("nb2",))])
def test_count_start_is_no_worse_than_the_intercept_only_point(data, nb_methods,
                                                                 monkeypatch):
    """The start is Newton's first step with Newton's line search: halved until the
    log-likelihood is no lower than at the intercept-only point (the full step overshoots
    on a rare regressor of large effect); the fits take no more iterations than from the
    intercept-only point (Poisson) or from the converged Poisson fit (NB2, NB1, GP)."""
    from mleopt import GeneralizedPoisson, NegativeBinomial, Poisson
    from mleopt.models.count import CountModel
    y, x = data()
    model = Poisson(y, x)
    null = np.r_[np.log(y.mean()), np.zeros(3)]
    start = model.start_params()
    assert model.loglike(start) >= model.loglike(null)
    own, from_null = model.fit(), Poisson(y, x).fit(start_params=null)
    np.testing.assert_allclose(own.params, from_null.params, rtol=1e-9)
    assert own.mle_retvals["iterations"] <= from_null.mle_retvals["iterations"]
    families = [lambda: GeneralizedPoisson(y, x)] + [
        lambda m=m: NegativeBinomial(y, x, loglike_method=m) for m in nb_methods]
    defaults = [make().fit() for make in families]
    # the same families started from the converged Poisson fit (their extra parameter by
    # their own moments, as before the start was cut short)
    beta = from_null.params.to_numpy()
    monkeypatch.setattr(CountModel, "_family_start", lambda self, iterations=3: beta)
    for default, make in zip(defaults, families):
        converged = make().fit()
        assert default.converged and converged.converged
        np.testing.assert_allclose(default.params, converged.params, rtol=1e-6, atol=1e-8)
        assert default.mle_retvals["iterations"] <= converged.mle_retvals["iterations"]


def test_shared_index_keeps_the_labels_types_and_a_bounded_size():
    """Labels equal as Python values but of other types (1 == 1.0 == True) get an Index of
    their own dtype, not the one kept for the first; long label lists (K > 1024: fixed
    effects) are built afresh, not kept, so the cache's memory is bounded by 256 x 1024
    labels."""
    from mleopt.results import _read_only_index, shared_index
    assert shared_index([1, 2, 3]).dtype == np.int64
    assert shared_index([1.0, 2.0, 3.0]).dtype == np.float64
    assert shared_index([True, False]).dtype == bool
    assert shared_index([1, 0]).dtype == np.int64
    before = _read_only_index.cache_info().currsize
    long = shared_index([f"C(firm)[T.{i}]" for i in range(2000)])
    assert len(long) == 2000 and _read_only_index.cache_info().currsize == before
