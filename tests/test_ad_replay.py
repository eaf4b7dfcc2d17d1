"""Replay (mleopt.ad.replay): a fit records its likelihood once and refreshes the recorded
graph at later points, only where the trace provably takes no decision on values.

A replayed evaluation must equal a fresh recording bit for bit; a trace during which a value
escaped (comparison, stop_gradient, item, a function without a derivative) is never
replayed; plans live for one optimiser run only. Replay on/off comparisons need no external
reference: both sides are mleopt, and they must be identical.
"""
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mleopt
from mleopt import LikelihoodModel, Logit, MNLogit, Poisson, add_constant, fit_mle
from mleopt import numpy as mnp
from mleopt.ad import replay, stop_gradient
from mleopt.ad.api import value_grad_and_hessian
from mleopt.ad.core import Tensor, TraceError, new_level, unwatch, watch
from mleopt.models.base import Space

DATA = Path(__file__).resolve().parents[1] / "datasets"


@pytest.fixture
def anes():
    df = pd.read_csv(DATA / "anes96.csv")
    df["logpopul"] = np.log(df["popul"] + 0.1)
    return df


@pytest.fixture(autouse=True)
def replay_on(monkeypatch):
    monkeypatch.setattr(replay, "ENABLED", True)
    monkeypatch.setattr(replay, "CHECK", False)    # (each test compares by itself)


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def _replays_equal_fresh(model, points) -> int:
    """Evaluate ``model``'s likelihood through one replay slot at each point and compare every
    result with a fresh recording, bit for bit; returns how many were replayed."""
    f = model._space_function(Space(False, None))
    slot = replay.Session().slot(model)
    before = replay.counts["replayed"]
    for x in points:
        got = value_grad_and_hessian(f, lazy=False, replay=slot)(x)
        want = value_grad_and_hessian(f, lazy=False)(x)
        for g, w in zip(got, want):
            assert _same(g, w)
    return replay.counts["replayed"] - before


def _points(k: int, n: int = 4, scale: float = 0.1):
    rng = np.random.default_rng(1)
    return [scale * rng.normal(size=k) for _ in range(n)]


# --- escapes of values are noted while a level is watched -------------------------------

@pytest.mark.parametrize("escape", [
    lambda x: bool((x > 0).any()),
    lambda x: stop_gradient(x),
    lambda x: x[0].item(),
    lambda x: mnp.argmax(x),
    lambda x: mnp.floor(x),
    lambda x: mnp.isfinite(x),
    lambda x: f"{x[0]:.3f}",
    lambda x: repr(x),
    lambda x: bool(x[0]),
    lambda x: float(x[0]),          # (refused inside a trace: noted all the same)
    lambda x: int(x[0]),
])
def test_escapes_are_noted(escape):
    level = new_level()
    x = Tensor(np.array([0.5, -1.0]), level)
    watch(level)
    try:
        escape(x)
    except TraceError:
        pass
    finally:
        escaped = unwatch(level)
    assert escaped


def test_shapes_are_not_escapes():
    level = new_level()
    x = Tensor(np.array([[0.5, -1.0]]), level)
    watch(level)
    try:
        y = mnp.exp(x) + mnp.zeros_like(x) + mnp.ones(mnp.shape(x)) * mnp.size(x)
        y = mnp.reshape(y, (-1,))[: len(y)] * x.ndim
        mnp.sum(y * mnp.full_like(y, 2.0))
    finally:
        escaped = unwatch(level)
    assert not escaped


# --- replay equals a fresh recording ----------------------------------------------------

def test_mnlogit_replays_equal_fresh(anes):
    x = add_constant(anes[["logpopul", "selfLR", "age", "educ", "income"]])
    model = MNLogit(anes["PID"], x)
    assert _replays_equal_fresh(model, _points(36, scale=0.05)) == 3


@pytest.mark.parametrize("make", [
    lambda df: Logit(df["vote"], add_constant(df[["TVnews", "PID", "age", "educ",
                                                  "income"]])),
    lambda df: Poisson(df["PID"], add_constant(df[["logpopul", "selfLR"]])),
])
def test_index_models_replay_equal_fresh(anes, make):
    model = make(anes)
    assert _replays_equal_fresh(model, _points(model.k_params, scale=0.01)) == 3


@pytest.mark.parametrize("family", ["NegativeBinomial", "GeneralizedPoisson"])
def test_a_fit_with_curved_ends_replays_as_a_fresh_one(anes, monkeypatch, family):
    """Count families with alpha = exp(x[-1]) (some ends of the parameter map curved: the
    plan of structure._inner_plan kept across points) checked at every replayed point
    (MLEOPT_CHECK_REPLAY), and equal to a fit recorded afresh at every point."""
    monkeypatch.setattr(replay, "CHECK", True)
    x = add_constant(anes[["logpopul", "selfLR", "age"]])
    before = replay.counts["replayed"]
    on = getattr(mleopt, family)(anes["PID"], x).fit()
    assert replay.counts["replayed"] > before
    monkeypatch.setattr(replay, "ENABLED", False)
    off = getattr(mleopt, family)(anes["PID"], x).fit()
    assert _same(on.params, off.params) and _same(on.bse, off.bse) and on.llf == off.llf


class _Probit(LikelihoodModel):
    """A user likelihood (a LikelihoodModel subclass) written with mleopt.numpy / special."""

    def loglikeobs(self, params):
        q = 2 * self.endog - 1
        return mleopt.special.log_ndtr(q * (self.exog @ params))


def test_user_subclass_replays_and_fits_as_without(anes):
    x = add_constant(anes[["TVnews", "PID", "age"]])
    model = _Probit(anes["vote"].to_numpy(), x)
    assert _replays_equal_fresh(model, _points(4, scale=0.01)) == 3
    before = dict(replay.counts)
    on = _Probit(anes["vote"].to_numpy(), x).fit()
    assert replay.counts["replayed"] > before.get("replayed", 0)
    replay.ENABLED = False
    off = _Probit(anes["vote"].to_numpy(), x).fit()
    assert _same(on.params, off.params) and _same(on.bse, off.bse) and on.llf == off.llf


def _fit_mle_case(loglike, replayed: bool):
    rng = np.random.default_rng(3)
    x = add_constant(rng.normal(size=(400, 2)))
    y = (x @ [0.2, 1.0, -0.5] + rng.logistic(size=400) > 0).astype(float)
    before = replay.counts["replayed"]
    on = fit_mle(loglike, np.zeros(3), data={"y": y, "x": x})
    assert (replay.counts["replayed"] > before) == replayed
    replay.ENABLED = False
    off = fit_mle(loglike, np.zeros(3), data={"y": y, "x": x})
    assert _same(on.params, off.params) and _same(on.bse, off.bse)


def test_fit_mle_replays():
    def ll(p, y, x):
        eta = x @ p
        return y * eta - mnp.logaddexp(0.0, eta)
    _fit_mle_case(ll, replayed=True)


# --- traces that decide on values are never replayed -------------------------------------

def _clipped_where(p, y, x):
    eta = x @ p
    return mnp.where(eta > 0, y * eta - mnp.logaddexp(0.0, eta),
                     y * eta - mnp.log1p(mnp.exp(eta)))


def _branch_any(p, y, x):
    eta = x @ p
    if (eta > 50).any():
        eta = mnp.minimum(eta, 50.0)
    return y * eta - mnp.logaddexp(0.0, eta)


def _detached_scale(p, y, x):
    eta = x @ p
    scale = 1.0 + 0.0 * stop_gradient(mnp.sum(eta))
    return (y * eta - mnp.logaddexp(0.0, eta)) * scale


def _item_scale(p, y, x):
    eta = x @ p
    return (y * eta - mnp.logaddexp(0.0, eta)) * (1.0 + 0.0 * p[0].item())


@pytest.mark.parametrize("loglike", [_clipped_where, _branch_any, _detached_scale,
                                     _item_scale])
def test_value_decisions_are_never_replayed(loglike):
    before = replay.counts["declined: a value escaped"]
    _fit_mle_case(loglike, replayed=False)
    assert replay.counts["declined: a value escaped"] > before


def test_eager_tensor_in_the_function_is_not_replayed():
    """A PyTorch-style tensor inside the function: its nodes hold a traced value of another
    level (nested), so the trace is not kept; each point records afresh."""
    a = np.random.default_rng(0).normal(size=(50, 3))
    w = mleopt.ad.tensor(np.ones(50), requires_grad=True)
    f = lambda x: mnp.sum(mnp.logaddexp(0.0, a @ x) * w)  # noqa: E731
    slot = replay.Session().slot(object())
    before = replay.counts["replayed"]
    for x in (np.full(3, 0.1), np.full(3, 0.2)):
        got = value_grad_and_hessian(f, lazy=False, replay=slot)(x)
        want = value_grad_and_hessian(f, lazy=False)(x)
        assert all(_same(mleopt.ad.stop_gradient(g), mleopt.ad.stop_gradient(v))
                   for g, v in zip(got, want))
    assert slot.plan is False and replay.counts["replayed"] == before


def test_another_shape_records_afresh():
    a = np.random.default_rng(0).normal(size=(50, 4))
    f = lambda x: mnp.sum(mnp.logaddexp(0.0, a[:, :x.shape[0]] @ x))  # noqa: E731
    slot = replay.Session().slot(object())
    for x in (np.full(3, 0.1), np.full(4, 0.1), np.full(3, 0.2)):
        got = value_grad_and_hessian(f, lazy=False, replay=slot)(x)
        want = value_grad_and_hessian(f, lazy=False)(x)
        assert all(_same(g, w) for g, w in zip(got, want))


def test_check_mode_catches_an_impure_function(monkeypatch):
    monkeypatch.setattr(replay, "CHECK", True)
    a = np.random.default_rng(0).normal(size=(50, 3))
    state = [1.0]       # read by the function, changed between evaluations: not pure

    def f(x):
        return mnp.sum(mnp.logaddexp(0.0, a @ x)) * state[0]
    slot = replay.Session().slot(object())
    value_grad_and_hessian(f, lazy=False, replay=slot)(np.full(3, 0.1))
    value_grad_and_hessian(f, lazy=False, replay=slot)(np.full(3, 0.2))  # same: passes
    state[0] = 2.0
    with pytest.raises(replay.ReplayMismatch, match="the value of a replayed evaluation"):
        value_grad_and_hessian(f, lazy=False, replay=slot)(np.full(3, 0.3))


# --- scope: one optimiser run ---------------------------------------------------------------

def test_plans_end_with_the_run(anes):
    x = add_constant(anes[["TVnews", "PID", "age", "educ", "income"]])

    def refits():
        """Fit, change the data in place, fit, rebind the outcome, fit."""
        model = Logit(anes["vote"].to_numpy().copy(), x.to_numpy().copy())
        out = [model.fit().params]
        model.exog[:, 1] *= 0.5
        out.append(model.fit().params)
        model.endog = 1.0 - model.endog
        out.append(model.fit().params)
        return model, out

    model, on = refits()
    replay.ENABLED = False
    _, off = refits()
    assert all(_same(a, b) for a, b in zip(on, off))
    # (a new model on the changed data differs from the refitted one in the last digits,
    # replay or not: its own start values)
    exog = x.to_numpy().copy()
    exog[:, 1] *= 0.5
    fresh = Logit(anes["vote"].to_numpy(), exog).fit().params
    assert np.allclose(on[1], fresh, rtol=1e-8, atol=1e-10)
    assert not np.allclose(on[0], on[1], rtol=1e-3)
    replay.ENABLED = True
    objective = model._optimizer_space(np.zeros(6))[2]
    objective.fun_and_grad(np.zeros(6))
    assert objective.replay._slots        # a plan, until the run ends:
    mleopt.optimize.minimize(objective, np.zeros(6))
    assert objective.replay.closed and not objective.replay._slots


def test_user_calls_outside_a_fit_record_afresh(anes):
    x = add_constant(anes[["TVnews", "PID", "age"]])
    model = Logit(anes["vote"], x)
    before = dict(replay.counts)
    for _ in range(3):
        model.hessian(np.full(4, 0.01))
        model.score(np.full(4, 0.01))
    assert dict(replay.counts) == before


def test_row_blocks_replay_per_block():
    rng = np.random.default_rng(5)
    x = add_constant(rng.normal(size=(3000, 3)))
    y = (x @ [0.1, 0.5, -0.5, 0.25] + rng.logistic(size=3000) > 0).astype(float)
    before = dict(replay.counts)
    on = Logit(y, x).fit(block_memory=60_000, n_threads=3)
    planned = replay.counts["planned"] - before.get("planned", 0)
    assert planned > 1          # one plan per block
    replay.ENABLED = False
    off = Logit(y, x).fit(block_memory=60_000, n_threads=3)
    assert _same(on.params, off.params) and _same(on.bse, off.bse)


def test_dask_models_make_no_plan(monkeypatch):
    """A Dask model's partitions are evaluated on workers: its fit keeps no plan (a
    partition's own in-memory start-value fit on its worker may)."""
    da = pytest.importorskip("dask.array")
    from mleopt.models.dask import DaskModel
    owners = []
    slot = replay.Session.slot
    monkeypatch.setattr(replay.Session, "slot",
                        lambda self, owner: owners.append(owner) or slot(self, owner))
    rng = np.random.default_rng(6)
    x = add_constant(rng.normal(size=(400, 2)))
    y = (x @ [0.1, 0.5, -0.5] + rng.logistic(size=400) > 0).astype(float)
    res = Logit(da.from_array(y, chunks=200), da.from_array(x, chunks=(200, 3))).fit()
    assert not any(isinstance(o, DaskModel) for o in owners)
    assert np.allclose(res.params, Logit(y, x).fit().params, rtol=1e-10, atol=1e-12)


# --- floating-point signals and errors reach Python: decisions on values too ----------------

_A = np.random.default_rng(7).normal(size=(60, 3))
_Y = (np.random.default_rng(8).random(60) > 0.5).astype(float)


def _rows(eta):
    return mnp.sum(_Y * eta - mnp.logaddexp(0.0, eta))


def _slot_equals_fresh(f, points) -> None:
    """Evaluate ``f`` through one replay slot at each point and compare every result with a
    fresh recording, bit for bit (warnings and errors included: both run under the caller's
    settings)."""
    slot = replay.Session().slot(object())
    for x in points:
        got = value_grad_and_hessian(f, lazy=False, replay=slot)(x)
        want = value_grad_and_hessian(f, lazy=False)(x)
        assert all(_same(g, w) for g, w in zip(got, want))


def _caught_error(x):
    """log of a negative number raises (errstate), and the function takes another way."""
    try:
        with np.errstate(invalid="raise"):
            shift = mnp.log(x[3])
    except FloatingPointError:
        shift = 0.0 * x[3]
    return _rows(_A @ x[:3] + shift)


def _recorded_warning(x):
    """The same decision on a recorded warning."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        shift = mnp.log(x[3])
    return _rows(_A @ x[:3] + (0.0 * x[3] if seen else shift))


def _warning_as_error(x):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            shift = mnp.log(x[3])
        except RuntimeWarning:
            shift = 0.0 * x[3]
    return _rows(_A @ x[:3] + shift)


_NEG, _POS = np.array([0.1, -0.2, 0.3, -0.5]), np.array([0.1, -0.2, 0.3, 0.5])


@pytest.mark.parametrize("f", [_caught_error, _recorded_warning, _warning_as_error])
@pytest.mark.parametrize("points", [[_NEG, _POS, _NEG + 0.1], [_POS, _NEG, _POS + 0.1]])
def test_errors_and_warnings_on_values_are_never_replayed(f, points):
    _slot_equals_fresh(f, points)


def test_replay_keeps_the_functions_error_settings():
    """A function that silences numpy's warnings (or turns them into errors) inside itself:
    a replayed point warns (or raises) exactly as a fresh call would."""
    def silenced(x):
        with np.errstate(all="ignore"):
            return _rows(_A @ x[:3] + mnp.log(x[3]))

    slot = replay.Session().slot(object())
    for x in (_POS, _NEG, _POS + 0.1):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = value_grad_and_hessian(silenced, lazy=False, replay=slot)(x)
        want = value_grad_and_hessian(silenced, lazy=False)(x)
        assert all(_same(g, w) for g, w in zip(got, want))
    assert slot.plan        # (kept: replayed where no signal arose)


# --- a callback may change what the function reads ------------------------------------------

class _Penalised(LikelihoodModel):
    """A logit with a ridge penalty read from the model (``pen``), raised by a callback
    after each iteration (a continuation method)."""

    pen = 0.0

    def loglikeobs(self, params):
        eta = self.exog @ params
        return self.endog * eta - mnp.logaddexp(0.0, eta) - self.pen * mnp.sum(params ** 2)


def test_plans_are_dropped_after_a_callback():
    def fit():
        model = _Penalised(_Y, _A)

        def raise_penalty(params):
            model.pen = model.pen + 0.01
        return model.fit(start_params=np.zeros(3), callback=raise_penalty, maxiter=8)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # (the moving target need not converge)
        before = replay.counts["planned"]
        on = fit()
        planned = replay.counts["planned"] - before
        replay.ENABLED = False
        off = fit()
    assert _same(on.params, off.params)
    assert planned > 1      # a new plan after each callback


def test_a_signal_at_the_first_point_defers_the_plan():
    """A warning at the run's first point (log of a negative number) is a signal of that point
    only: the plan is made at the next point, and later points replay where none arises."""
    def f(x):
        return _rows(_A @ x[:3] + mnp.log(x[3]))

    slot = replay.Session().slot(object())
    before = replay.counts["replayed"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for x in (_NEG, _POS, _POS + 0.1, _NEG + 0.1, _POS + 0.2):
            got = value_grad_and_hessian(f, lazy=False, replay=slot)(x)
            want = value_grad_and_hessian(f, lazy=False)(x)
            assert all(_same(g, w) for g, w in zip(got, want))
    assert slot.plan and replay.counts["replayed"] - before == 2



def _mixed_map_obs(p, y, x, z):
    """Held out (review of the split J): a user likelihood whose parameters reach the rows
    through straight and curved ends at once: beta = (p0, p1, exp(p2)), gamma = (tanh(p3),
    p3 p4) (curved and bilinear), log sigma."""
    beta = mnp.concatenate([p[:2], mnp.exp(p[2:3])])
    gamma = mnp.concatenate([mnp.tanh(p[3:4]), p[3:4] * p[4:5]])
    return -0.5 * ((y - x @ beta - z @ gamma) / mnp.exp(p[5])) ** 2 - p[5]


def test_a_user_fit_with_curved_and_straight_ends_replays_as_a_fresh_one(monkeypatch):
    """From a start where exp and tanh move far (their derivatives change by factors),
    every replayed point checked against a fresh recording (MLEOPT_CHECK_REPLAY), and the
    fit equal to one recorded afresh at every point."""
    rng = np.random.default_rng(3)
    x, z = rng.normal(size=(400, 3)), rng.normal(size=(400, 2))
    y = x @ [0.5, -0.3, 1.2] + z @ [0.46, -0.5] + 0.7 * rng.normal(size=400)
    data = {"y": y, "x": x, "z": z}
    start = np.array([0.0, 0.0, -1.5, 1.5, 0.1, 0.8])
    monkeypatch.setattr(replay, "CHECK", True)
    before = replay.counts["replayed"]
    on = fit_mle(_mixed_map_obs, start, data=data)
    assert on.converged and replay.counts["replayed"] - before > 3
    monkeypatch.setattr(replay, "ENABLED", False)
    off = fit_mle(_mixed_map_obs, start, data=data)
    assert _same(on.params, off.params) and _same(on.bse, off.bse) and on.llf == off.llf


def _declines(make) -> tuple:
    """(plans made, reasons declined) over one fit of ``make()`` from its start values."""
    model = make()
    start = model.start_params()        # (the count families' own Poisson start fit)
    before = replay.counts.copy()
    model.fit(start_params=start)
    made = replay.counts - before
    return made["planned"], sorted(k for k in made if k.startswith("declined:"))


def test_which_fits_replay_as_the_readme_says():
    """README Known limits (Replay): Tobit replays with both limits; a fit whose rows read as
    many inputs as it has parameters (NB2 with up to 4 regressors: alpha reaches the rows as
    alpha, 1/alpha, gammaln(1/alpha) and log alpha; NB1 up to 3) has no index structure and
    records afresh, with one regressor more it replays."""
    from mleopt import NegativeBinomial, Tobit
    rng = np.random.default_rng(3)
    n = 400
    z = rng.normal(size=(n, 4))
    y_lin = z[:, 0] + rng.normal(size=n)
    counts = rng.poisson(np.exp(0.3 + 0.2 * z[:, 0]) * rng.gamma(2.0, 0.5, size=n)).astype(float)
    tobit = _declines(lambda: Tobit(np.clip(y_lin, 0.0, 2.0), add_constant(z[:, :2]),
                                    left=0.0, right=2.0))
    assert tobit == (1, [])
    for method, most in (("nb2", 4), ("nb1", 3)):
        few = add_constant(z[:, :most - 1])
        more = np.column_stack([few, rng.normal(size=n)])
        assert _declines(lambda: NegativeBinomial(counts, few, loglike_method=method)) \
            == (0, ["declined: no index structure"]), method
        assert _declines(lambda: NegativeBinomial(counts, more, loglike_method=method)) \
            == (1, []), method
