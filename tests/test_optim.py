"""mleopt.optim: each update rule against PyTorch's published equations (written out by hand
here, from the torch.optim documentation pages of SGD, Adam, AdamW, RMSprop and Adagrad) on
fixed gradients; the PyTorch-style and functional front ends give the same numbers; autograd's
sgd/rmsprop/adam (autograd.misc.optimizers source, written out by hand); a least-squares
problem with a known optimum; bad input."""
import math

import numpy as np
import pytest

import mleopt.numpy as mnp
from mleopt import optim
from mleopt.ad import tensor

RNG = np.random.default_rng(10)
P0 = RNG.normal(size=3)
GRADS = [RNG.normal(size=3) for _ in range(6)]


# --- hand-written references (torch.optim documentation, "Algorithm" boxes) ---------------
def ref_sgd(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    p, b, out = P0.copy(), None, []
    for t, g in enumerate(GRADS, 1):
        g = g + weight_decay * p
        if momentum:
            b = g if t == 1 else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        p = p - lr * g
        out.append(p)
    return out


def ref_adam(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    p, m, v, out = P0.copy(), 0.0, 0.0, []
    for t, g in enumerate(GRADS, 1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g ** 2
        mhat, vhat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
        p = p - lr * mhat / (np.sqrt(vhat) + eps)
        out.append(p)
    return out


def ref_rmsprop(lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    p, v, b, ga, out = P0.copy(), 0.0, 0.0, 0.0, []
    for g in GRADS:
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g ** 2
        vt = v
        if centered:
            ga = alpha * ga + (1 - alpha) * g
            vt = v - ga ** 2
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(vt) + eps)
            p = p - lr * b
        else:
            p = p - lr * g / (np.sqrt(vt) + eps)
        out.append(p)
    return out


def ref_adagrad(lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    p, s, out = P0.copy(), initial_accumulator_value, []
    for t, g in enumerate(GRADS, 1):
        clr = lr / (1 + (t - 1) * lr_decay)
        g = g + weight_decay * p
        s = s + g ** 2
        p = p - clr * g / (np.sqrt(s) + eps)
        out.append(p)
    return out


CASES = [
    (optim.SGD, dict(lr=0.1), ref_sgd),
    (optim.SGD, dict(lr=0.1, momentum=0.9), ref_sgd),
    (optim.SGD, dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01), ref_sgd),
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1), ref_sgd),
    (optim.Adam, dict(lr=0.01), ref_adam),
    (optim.Adam, dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1), ref_adam),
    (optim.AdamW, dict(lr=0.01), lambda **k: ref_adam(decoupled=True, weight_decay=1e-2, **k)),
    (optim.AdamW, dict(lr=0.01, weight_decay=0.3),
     lambda **k: ref_adam(decoupled=True, **k)),
    (optim.RMSprop, dict(lr=0.01), ref_rmsprop),
    (optim.RMSprop, dict(lr=0.01, momentum=0.9, weight_decay=0.1), ref_rmsprop),
    (optim.RMSprop, dict(lr=0.01, centered=True, alpha=0.9), ref_rmsprop),
    (optim.Adagrad, dict(lr=0.1), ref_adagrad),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.05, weight_decay=0.1,
                         initial_accumulator_value=0.5), ref_adagrad),
]


def run_functional(opt):
    params = {"p": P0.copy()}
    state, out = opt.init(params), []
    for g in GRADS:
        updates, state = opt.update({"p": g}, state, params)
        params = optim.apply_updates(params, updates)
        out.append(params["p"])
    return out


def run_torch_style(cls, opts):
    w = tensor(P0, requires_grad=True)
    opt, out = cls([w], **opts), []
    for g in GRADS:
        mnp.sum(w * g).backward()       # d/dw sum(w * g) = g: a fixed gradient
        opt.step()
        opt.zero_grad()
        out.append(w._value.copy())
    return out


@pytest.mark.parametrize("cls, opts, ref", CASES)
def test_updates_match_pytorch_equations(cls, opts, ref):
    expected = ref(**opts)
    for got in (run_functional(cls(**opts)), run_torch_style(cls, opts)):
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_parameter_groups_use_their_own_options():
    w, b = tensor(P0, requires_grad=True), tensor(P0, requires_grad=True)
    opt = optim.SGD([{"params": [w], "lr": 0.5}, {"params": [b]}], lr=0.1, momentum=0.9)
    for g in GRADS:
        (mnp.sum(w * g) + mnp.sum(b * g)).backward()
        opt.step()
        opt.zero_grad()
    np.testing.assert_allclose(w._value, ref_sgd(0.5, momentum=0.9)[-1], atol=1e-12)
    np.testing.assert_allclose(b._value, ref_sgd(0.1, momentum=0.9)[-1], atol=1e-12)
    assert w.grad is None


def test_schedules_follow_torch_formulas():
    s = optim.step_lr(0.1, 2, gamma=0.5)
    assert [s(t) for t in range(5)] == [0.1, 0.1, 0.05, 0.05, 0.025]
    e = optim.exponential_lr(0.1, 0.9)
    assert e(3) == pytest.approx(0.1 * 0.9 ** 3, abs=1e-15)
    c = optim.cosine_lr(0.1, 10, eta_min=0.01)
    assert c(0) == pytest.approx(0.1) and c(10) == pytest.approx(0.01)
    assert c(4) == pytest.approx(0.01 + 0.09 * (1 + math.cos(math.pi * 0.4)) / 2, abs=1e-15)
    w = optim.warmup(c, 4, start_factor=0.25)
    assert [w(t) for t in range(4)] == pytest.approx([0.025, 0.04375, 0.0625, 0.08125])
    assert w(4) == pytest.approx(c(0)) and w(8) == pytest.approx(c(4))


def test_scheduled_adam_same_numbers_in_both_styles():
    sched = optim.warmup(optim.cosine_lr(0.05, 4), 2)
    # hand reference: Adam with lr_t = sched(t - 1)
    p, m, v = P0.copy(), 0.0, 0.0
    for t, g in enumerate(GRADS, 1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g ** 2
        p = p - sched(t - 1) * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    np.testing.assert_allclose(run_functional(optim.Adam(lr=sched))[-1], p, atol=1e-12)
    np.testing.assert_allclose(run_torch_style(optim.Adam, {"lr": sched})[-1], p, atol=1e-12)


def test_clipping_composes_with_chain_and_matches_torch_style():
    opt = optim.chain(optim.clip_grad_norm(0.5), optim.SGD(lr=0.1, momentum=0.9))
    got = run_functional(opt)
    p, b = P0.copy(), None
    w = tensor(P0, requires_grad=True)
    topt = optim.SGD([w], lr=0.1, momentum=0.9)
    for t, g in enumerate(GRADS, 1):
        n = np.linalg.norm(g)
        gc = g * (0.5 / (n + 1e-6)) if 0.5 / (n + 1e-6) < 1 else g
        b = gc if t == 1 else 0.9 * b + gc
        p = p - 0.1 * b
        mnp.sum(w * g).backward()
        assert optim.clip_grad_norm_([w], 0.5) == pytest.approx(n)
        topt.step()
        topt.zero_grad()
    np.testing.assert_allclose(got[-1], p, atol=1e-12)
    np.testing.assert_allclose(w._value, p, atol=1e-12)
    vclip = optim.chain(optim.clip_grad_value(0.1), optim.SGD(lr=1.0))
    np.testing.assert_allclose(run_functional(vclip)[0], P0 - np.clip(GRADS[0], -0.1, 0.1),
                               atol=1e-15)


# --- autograd.misc.optimizers (autograd 1.x source, written out by hand) -------------------
def test_autograd_convention_nested_containers_and_callback():
    x0 = {"a": P0[:2].copy(), "b": [P0[2:].copy(), np.ones((2, 2))]}

    def flat(tree):
        return np.concatenate([tree["a"], tree["b"][0], tree["b"][1].ravel()])

    def grad(x, i):        # a fixed gradient per iteration, in the structure of x
        g = np.concatenate([GRADS[i % 6], GRADS[(i + 1) % 6], GRADS[(i + 2) % 6][:1]])
        return {"a": g[:2], "b": [g[2:3], g[3:].reshape(2, 2)]}

    seen = []
    out = optim.adam(grad, x0, callback=lambda x, i, g: seen.append((i, flat(x).copy())),
                     num_iters=5, step_size=0.01)
    # autograd's adam: m, v from zeros, bias-corrected with (i + 1)
    x, m, v = flat(x0), 0.0, 0.0
    for i in range(5):
        g = flat(grad(None, i))
        assert seen[i][0] == i and np.allclose(seen[i][1], x, atol=1e-15)
        m = 0.1 * g + 0.9 * m
        v = 0.001 * g ** 2 + 0.999 * v
        x = x - 0.01 * (m / (1 - 0.9 ** (i + 1))) / (np.sqrt(v / (1 - 0.999 ** (i + 1))) + 1e-8)
    assert isinstance(out, dict) and isinstance(out["b"], list) and out["b"][1].shape == (2, 2)
    np.testing.assert_allclose(flat(out), x, atol=1e-12)
    assert x0["a"][0] == P0[0]        # the start is not modified

    out = optim.sgd(grad, x0, num_iters=4, step_size=0.1, mass=0.8)
    x, vel = flat(x0), 0.0
    for i in range(4):
        vel = 0.8 * vel - 0.2 * flat(grad(None, i))
        x = x + 0.1 * vel
    np.testing.assert_allclose(flat(out), x, atol=1e-12)

    out = optim.rmsprop(grad, x0, num_iters=4, step_size=0.1, gamma=0.8)
    x, avg = flat(x0), 1.0
    for i in range(4):
        g = flat(grad(None, i))
        avg = avg * 0.8 + g ** 2 * 0.2
        x = x - 0.1 * g / (np.sqrt(avg) + 1e-8)
    np.testing.assert_allclose(flat(out), x, atol=1e-12)


@pytest.mark.parametrize("name, opts, steps", [
    ("sgd", dict(lr=0.1, momentum=0.9, nesterov=True), 400),
    ("adam", dict(lr=0.05), 3000),
    ("adamw", dict(lr=0.05, weight_decay=0.0), 3000),
    ("rmsprop", dict(lr=0.01, momentum=0.5), 3000),
    ("adagrad", dict(lr=0.5), 3000),
])
def test_least_squares_reaches_the_known_optimum(name, opts, steps):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 3))
    beta = np.array([1.0, -2.0, 0.5])
    y = x @ beta + 0.1 * rng.normal(size=50)
    exact = np.linalg.lstsq(x, y, rcond=None)[0]
    w = tensor(np.zeros(3), requires_grad=True)
    opt = optim.OPTIMIZERS[name]([w], **opts)
    if name in ("adam", "adamw", "rmsprop"):      # decay the rate to settle at the optimum
        opt.param_groups[0]["lr"] = optim.exponential_lr(opts["lr"], 0.997)
    for _ in range(steps):
        r = mnp.matmul(x, w) - y
        (mnp.sum(r * r) / 50).backward()
        opt.step()
        opt.zero_grad()
    np.testing.assert_allclose(w._value, exact, atol=1e-5)


def test_bad_input_is_refused_with_a_clear_message():
    w = tensor(P0, requires_grad=True)
    for lr in (0, -1e-3, float("nan")):
        with pytest.raises(ValueError, match="lr must be a positive number"):
            optim.Adam([w], lr=lr)
    with pytest.raises(TypeError, match="Did you mean 'momentum'"):
        optim.SGD([w], lr=0.1, momentun=0.9)
    with pytest.raises(TypeError, match="Did you mean 'weight_decay'"):
        optim.Adam(lr=0.1, weight_decy=0.1)
    with pytest.raises(TypeError, match="not an mleopt tensor"):
        optim.Adam([np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="does not require grad"):
        optim.Adam([tensor(P0)], lr=0.1)
    with pytest.raises(TypeError, match="not one tensor"):
        optim.Adam(w, lr=0.1)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="step_size must be a positive"):
        optim.adam(lambda x, i: x, np.ones(2), step_size=0)
    with pytest.raises(ValueError, match="do not match"):
        opt = optim.Adam(lr=0.1)
        opt.update([np.ones(2)], opt.init([np.ones(3)]), [np.ones(3)])


# =======================================================================================
# the model layer: fit(method="adam" | "sgd" | ..., batch_size, epochs, lr, seed, polish)
# =======================================================================================
from pathlib import Path        # noqa: E402

import pandas as pd             # noqa: E402

from mleopt.models import Logit, Poisson, fit_mle   # noqa: E402
from mleopt.optimize import DivergenceError        # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "datasets"


@pytest.fixture(scope="module")
def anes_logit():
    df = pd.read_csv(DATA / "anes96.csv")
    x = df[["TVnews", "PID", "age", "educ", "income"]].assign(const=1.0)
    return Logit(df["vote"], x)


@pytest.mark.parametrize("method, opts", [("adam", dict(lr=0.05)),
                                          ("sgd", dict(lr=0.5, momentum=0.9)),
                                          ("rmsprop", dict(lr=0.01)),
                                          ("adagrad", dict(lr=0.1)),
                                          ("adamw", dict(lr=0.05, weight_decay=0.0))])
def test_stochastic_fit_then_polish_is_the_newton_mle(anes_logit, method, opts):
    newton = anes_logit.fit()
    res = anes_logit.fit(method=method, batch_size=100, epochs=3, seed=1, **opts)
    assert res.converged and res.method == f"{method}+newton"
    np.testing.assert_allclose(res.params, newton.params, rtol=0, atol=1e-8)
    np.testing.assert_allclose(res.bse, newton.bse, rtol=0, atol=1e-8)
    hist = res.optim_history
    assert list(hist.columns) == ["epoch", "loss", "grad_norm", "time"]
    assert hist["epoch"].tolist() == [0, 1, 2, 3]
    # the recorded loss is the mean negative log-likelihood on all rows at that point
    text = " ".join(res.summary().as_text().split())
    assert f"Optimiser: {method}, 3 epochs of batches of 100 rows (30 steps)" in text
    assert "Newton polish" in text and "that converged" in text


def test_stochastic_fit_is_reproducible_by_seed_and_polish_false_says_so(anes_logit):
    kw = dict(method="adam", lr=0.05, batch_size=64, epochs=2, polish=False)
    from mleopt.optimize import ConvergenceWarning
    with pytest.warns(ConvergenceWarning, match="without a polish: not converged"):
        a, b = anes_logit.fit(seed=7, **kw), anes_logit.fit(seed=7, **kw)
        c = anes_logit.fit(seed=8, **kw)
    assert np.array_equal(a.params, b.params)
    assert not np.array_equal(a.params, c.params)
    assert a.method == "adam" and a.iterations == 2 * int(np.ceil(944 / 64))
    # the history's last loss is the log-likelihood of the reported estimate
    assert a.optim_history["loss"].iloc[-1] == pytest.approx(-a.llf / 944, rel=1e-12)
    text = " ".join(a.summary().as_text().split())
    assert "without a Newton polish" in text and "assume they are an optimum" in text


def test_stochastic_fit_on_fit_mle_and_optimizer_objects():
    rng = np.random.default_rng(5)
    y = rng.normal(1.5, 2.0, size=500)

    def ll(p, y):
        return -0.5 * ((y - p[0]) / p[1]) ** 2 - mnp.log(p[1])

    res = fit_mle(ll, [0.0, 1.0], ["mu", "sigma"], data={"y": y}, method="adam", lr=0.05,
                  epochs=5, batch_size=50, seed=0)
    np.testing.assert_allclose(res.params, [y.mean(), y.std()], rtol=0, atol=1e-8)
    opt = optim.chain(optim.clip_grad_norm(1.0), optim.SGD(lr=0.05, momentum=0.5))
    res2 = fit_mle(ll, [0.0, 1.0], ["mu", "sigma"], data={"y": y}, method=opt, epochs=5,
                   batch_size=50, seed=0)
    np.testing.assert_allclose(res2.params, res.params, rtol=0, atol=1e-8)
    assert res2.method == "chain+newton"


def test_divergence_stops_with_the_epoch_named():
    rng = np.random.default_rng(2)
    x = np.column_stack([np.ones(200), rng.normal(size=200)])
    y = rng.poisson(np.exp(0.5 + 0.3 * x[:, 1]))
    with pytest.raises(DivergenceError, match=r"diverged in epoch 1 \(batch \d+"):
        Poisson(y, x).fit(method="sgd", lr=1e3, batch_size=20, epochs=5, seed=0)


def test_stochastic_fit_bad_input(anes_logit):
    with pytest.raises(ValueError, match=r"batch_size must be an integer from 1 to the "
                                         r"number of observations \(944\)"):
        anes_logit.fit(method="adam", batch_size=945)
    with pytest.raises(ValueError, match="lr must be a positive number"):
        anes_logit.fit(method="adam", lr=0)
    with pytest.raises(ValueError, match="lr must be a positive number"):
        anes_logit.fit(method="sgd", lr=-0.1)
    with pytest.raises(TypeError, match="Did you mean 'momentum'"):
        anes_logit.fit(method="sgd", lr=0.1, momentom=0.9)
    with pytest.raises(ValueError, match="apply only to the stochastic methods"):
        anes_logit.fit(method="bfgs", batch_size=10)
    with pytest.raises(ValueError, match="epochs must be an integer"):
        anes_logit.fit(method="adam", epochs=1.5)
    with pytest.raises(ValueError, match="Did you mean 'adam'"):
        anes_logit.fit(method="adma")
    with pytest.raises(ValueError, match="not taken by the stochastic methods"):
        anes_logit.fit(method="adam", bounds={"age": (0, 1)})


# =======================================================================================
# parameters at an active bound are marked, and the summary says why their SEs are unusual
# =======================================================================================

def test_parameters_at_a_bound_are_marked_with_a_note(anes_logit):
    res = anes_logit.fit(method="l-bfgs-b", bounds={"PID": (None, 0.4), "age": (-1.0, 1.0)})
    assert res.params["PID"] == pytest.approx(0.4, abs=1e-10)
    side = res.at_bound
    assert side["PID"] == 1 and (side.drop("PID") == 0).all()     # age's bound is inactive
    text = " ".join(res.summary().as_text().split())
    assert "PID (at its upper bound, 0.4)" in text and "boundary of the parameter space" in text
    assert "age (at" not in text
    low = anes_logit.fit(method="tnc", bounds=[(None, None), (1.3, None)] + [(None, None)] * 4)
    assert low.at_bound["PID"] == -1
    free = anes_logit.fit()
    assert (free.at_bound == 0).all()
    assert "boundary" not in free.summary().as_text()


def test_disp_prints_progress_per_epoch(anes_logit, capsys):
    anes_logit.fit(method="adam", lr=0.05, batch_size=200, epochs=2, seed=0, disp=True)
    out = capsys.readouterr().out
    assert "adam, 6 parameters, 944 observations, batches of 200, 2 epochs" in out
    assert len([line for line in out.splitlines() if line.strip().startswith("epoch")]) == 3


def test_stochastic_fit_without_polish_warns_when_not_converged_and_refuses_maxiter(anes_logit):
    """polish=False: a stochastic estimate that misses gtol says so like every other fit
    (ConvergenceWarning), and maxiter (the polish's limit) is refused instead of ignored."""
    from mleopt.optimize import ConvergenceWarning
    kw = dict(method="adam", lr=0.05, batch_size=100, epochs=1, seed=0, polish=False)
    with pytest.warns(ConvergenceWarning, match=r"stochastic estimate \(adam, 1 epochs\).*"
                                                r"not converged"):
        res = anes_logit.fit(**kw)
    assert res.converged is False
    with pytest.raises(ValueError, match="maxiter applies to the Newton polish"):
        anes_logit.fit(maxiter=5, **kw)
