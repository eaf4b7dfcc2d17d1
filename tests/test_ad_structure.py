"""Linear-index structure found in the recorded graph (mleopt.ad.structure, issue 8 part 2).

Every function here is differentiated twice: by ``hessian`` / ``jacobian`` (which use the
index path when the structure is there) and by the general forward-over-reverse / forward
path; both must agree to 1e-10. Functions that break the structure in each way must be
recognised as such (``find`` returns None) and still give the same numbers.
"""
from __future__ import annotations

import numpy as onp
import pytest

import mleopt.numpy as np
from mleopt import ad
from mleopt.ad import api, structure
from mleopt.ad.core import stop_gradient
from mleopt.special import gammaln, log_ndtr, logsumexp
from mleopt.stats import norm

N = 240
rng = onp.random.default_rng(20261130)
X = rng.normal(size=(N, 4))
Z = rng.normal(size=(N, 3))
Y_TOBIT = onp.maximum(X @ [0.5, -0.3, 0.2, 0.1] + rng.normal(size=N), 0.0)
Y_BIN = (X @ [0.6, -0.4, 0.3, 0.2] + rng.normal(size=N) > 0).astype(float)
Y_COUNT = rng.poisson(onp.exp(0.3 * X[:, 0] - 0.2 * X[:, 1] + 0.5)).astype(float)
OFFSET = rng.uniform(-0.5, 0.5, size=N)
M = rng.normal(size=(N, N)) / N
SCALE = onp.array([1.5, 0.7, 2.0, 1.1, 0.9])


def tobit_obs(p):
    beta, lns = p[:-1], p[-1]
    s = np.exp(lns)
    xb = X @ beta
    return np.where(Y_TOBIT <= 0, norm.logcdf(-xb / s), norm.logpdf(Y_TOBIT, xb, s))


def probit_obs(b):
    return log_ndtr((2 * Y_BIN - 1) * (X @ b))


def nb2_obs(p):                          # offset in the index, alpha used directly
    mu = np.exp(X @ p[:-1] + OFFSET)
    alpha = np.exp(p[-1])
    r = 1.0 / alpha
    return (gammaln(Y_COUNT + r) - gammaln(r) - gammaln(Y_COUNT + 1.0)
            + r * np.log(r / (r + mu)) + Y_COUNT * np.log(mu / (r + mu)))


def hetprobit_obs(p):                     # two indices, two data matrices
    b, g = p[:4], p[4:]
    return log_ndtr((2 * Y_BIN - 1) * (X @ b) / np.exp(Z @ g))


Y_CAT = rng.integers(0, 4, size=N)
CHOSEN = (Y_CAT[:, None] == onp.arange(1, 4)).astype(float)


def softmax_obs(p):                       # a matrix index X B (4 x 3) and a row-wise logsumexp
    eta = X @ np.transpose(np.reshape(p, (3, 4)))
    full = np.concatenate([onp.zeros((N, 1)), eta], axis=1)
    return np.sum(CHOSEN * eta, axis=1) - logsumexp(full, axis=1)


def softmax_columns_obs(p):               # columns picked out, a scale, a direct scalar
    eta = X[:, :3] @ np.reshape(p[:6], (3, 2)) * np.exp(p[6])
    return (Y_TOBIT * eta[:, 0] - np.log1p(np.exp(eta[:, 1]) + np.exp(eta[:, 0]))
            - 0.5 * np.sum(np.square(eta), axis=-1) / N)


ALT = rng.normal(size=(N, 4, 2))            # alternative-specific attributes (reviewer)


def condlogit_obs(p):                     # held out: one index per alternative plus X B,
    u = np.concatenate([np.reshape(ALT[:, j, :] @ p[:2], (N, 1)) for j in range(4)], axis=1)
    v = u + np.concatenate([onp.zeros((N, 1)), X @ np.reshape(p[2:], (4, 3))], axis=1)
    v = v[:, ::-1] + 0.1 * CHOSEN[:, :1]   # columns reversed, a per-row constant column
    return np.sum(CHOSEN[:, ::-1] * v[:, 1:], axis=1) - logsumexp(v, axis=1)


def nested_reshape_obs(p):                # held out: (N, 4) -> (N, 2, 2), sums, keepdims
    e = np.reshape(X @ np.reshape(p, (4, 4)), (N, 2, 2))
    inner = logsumexp(e, axis=2)                               # (N, 2)
    centred = inner - np.sum(inner, axis=1, keepdims=True) / 2.0
    return np.sum(np.square(centred), axis=-1) - logsumexp(inner, axis=1)


def broadcast_columns_obs(p):             # held out: an (N, 1) index against a row
    return logsumexp(X @ np.reshape(p, (4, 1)) + onp.linspace(0.0, 1.0, 5), axis=1)


def _shared_curved_v(p):                 # held out: w = exp(p[4:6]) seen by X and by Z
    w = np.exp(p[4:6])
    return log_ndtr((2 * Y_BIN - 1) * (X @ p[:4] + X[:, :2] @ w - Z[:, 1:] @ w * p[6]))


def _mixed_matrix_obs(p):                # held out: B (4 x 4) = straight, bilinear, tanh rows
    eta = X @ np.reshape(np.concatenate([p[:8], p[8:12] * p[12], np.tanh(p[8:12])]), (4, 4))
    return np.sum(CHOSEN * eta[:, 1:], axis=1) - logsumexp(eta, axis=1)


def transformed(f, k):
    """The model layer's objective: f(transform(z * inv_scale)), extra parameters on the
    log scale."""
    inv = 1.0 / SCALE[: k + 1] if k + 1 <= SCALE.size else onp.ones(k + 1)

    def g(z):
        theta = z * inv
        return f(np.concatenate([theta[:k] * 1.0, np.exp(theta[k:])]))
    return g


def natural_tobit_obs(p):                # tobit in sigma (not log sigma)
    beta, s = p[:-1], p[-1]
    xb = X @ beta
    return np.where(Y_TOBIT <= 0, norm.logcdf(-xb / s), norm.logpdf(Y_TOBIT, xb, s))


def total(obs):
    def f(p):
        return np.sum(obs(p))
    f.__name__ = f"sum_{obs.__name__}"
    return f


STRUCTURED = {
    "tobit": (total(tobit_obs), [0.3, -0.2, 0.1, 0.05, 0.2]),
    "probit": (total(probit_obs), [0.3, -0.2, 0.1, 0.05]),
    "nb2 with offset": (total(nb2_obs), [0.2, -0.1, 0.05, 0.0, -0.5]),
    "two indices": (total(hetprobit_obs), [0.3, -0.2, 0.1, 0.05, 0.1, -0.2, 0.1]),
    "transform of z": (transformed(total(natural_tobit_obs), 4), [0.3, -0.2, 0.1, 0.05, 0.2]),
    "x in an index and directly": (
        lambda b: np.sum(log_ndtr((2 * Y_BIN - 1) * (X @ b + b[0] ** 2))),
        [0.3, -0.2, 0.1, 0.05]),
    "index of a nonlinear v": (
        lambda b: np.sum(log_ndtr((2 * Y_BIN - 1) * (X @ np.tanh(b)))), [0.3, -0.2, 0.1, 0.05]),
    "data used twice, column slices": (
        lambda b: np.sum(log_ndtr((2 * Y_BIN - 1) * (X[:, :3] @ b[:3] + X[:, 1:] @ b[3:]))),
        [0.3, -0.2, 0.1, 0.05, -0.1, 0.2]),
    # curved ends of several kinds: a partly nonlinear index (tanh of two entries, one plain),
    # a scale reading no entry of x (exp(0 x)), a scale reading one; a straight slice
    "curved and straight ends mixed": (
        lambda b: np.sum(-(Y_TOBIT - X @ np.concatenate([np.tanh(b[:2]), b[2:4]])) ** 2
                         / np.exp(b[4] * 0.0) / np.exp(2 * b[5]) - b[5] + b[4] ** 2),
        [0.3, -0.2, 0.1, 0.05, 0.2, -0.1]),
    "data used twice, shifted rows": (
        lambda b: np.sum(log_ndtr((2 * Y_BIN[1:] - 1) * (X[1:] @ b) + 0.3 * (X[:-1] @ b))),
        [0.3, -0.2, 0.1, 0.05]),
    "scalars only after a broadcast": (
        lambda p: np.sum(norm.logpdf(Y_TOBIT, p[0] + X @ p[2:], np.exp(p[1]) * np.ones(N))),
        [0.1, 0.2, 0.3, -0.2, 0.1, 0.05]),
    "linear in the index": (lambda b: np.sum(Y_TOBIT * (X @ b)), [0.3, -0.2, 0.1, 0.05]),
    "negative mean (scipy-style objective)": (
        lambda p: -np.mean(tobit_obs(p)) + 2.0, [0.3, -0.2, 0.1, 0.05, 0.2]),
    "scaled sum": (lambda b: 0.5 * np.sum(probit_obs(b)) / 3.0 - 1.0, [0.3, -0.2, 0.1, 0.05]),
    "softmax, a matrix index": (total(softmax_obs), 0.1 * onp.arange(-6, 6)),
    "matrix index: columns, a scalar": (
        total(softmax_columns_obs), [0.3, -0.2, 0.1, 0.05, -0.1, 0.2, 0.1]),
    "conditional logit: per-alternative indices and X B, columns reversed": (
        total(condlogit_obs), 0.1 * onp.arange(-7, 7)),
    "matrix index reshaped to 3-D, keepdims sums": (
        total(nested_reshape_obs), 0.05 * onp.arange(-8, 8)),
    "(N, 1) index broadcast against a row of constants": (
        total(broadcast_columns_obs), [0.3, -0.2, 0.1, 0.05]),
    # held out (review of the split J, structure._inner_plan): straight and curved ends
    # made by mixes of linear and nonlinear maps
    "bilinear: two traced factors are curved": (
        lambda p: np.sum(-(Y_TOBIT - X @ (p[:4] * p[4]) - p[5] * p[6]) ** 2 / np.exp(p[7])),
        [0.3, -0.2, 0.1, 0.05, 0.8, 0.4, -0.3, 0.2]),
    "X @ (w * exp(v)), a parameter used linearly and through exp": (
        lambda p: np.sum(log_ndtr((2 * Y_BIN - 1) * (X @ (p[:4] * np.exp(p[4:8]))
                                                     + p[0] + np.exp(p[0])))),
        [0.3, -0.2, 0.1, 0.05, -0.1, 0.2, 0.0, 0.1]),
    "cut-point-like cumsum of exp, zero-scaled exp, a repeated slice": (
        lambda p: np.sum(log_ndtr((2 * Y_BIN - 1) * (X @ (p[:4] + 2.0 * p[:4] + 0.0 * np.exp(p[4]))
                                                     - np.cumsum(np.exp(p[4:7]))[2]))),
        [0.3, -0.2, 0.1, 0.05, -0.1, 0.2, 0.1]),
    "one curved v in two indices (a node that two ends share)": (
        lambda p: np.sum(_shared_curved_v(p)), [0.3, -0.2, 0.1, 0.05, -0.1, 0.2, 0.1]),
    "matrix index B from a reshape of straight and curved pieces": (
        total(_mixed_matrix_obs), 0.1 * onp.arange(-6, 7)),
}

BROKEN = {
    "cumsum over rows": lambda b: np.sum(np.cumsum(probit_obs(b))) / N,
    "rows reversed": lambda b: np.sum(probit_obs(b) * (X @ b)[::-1]),
    "matmul of eta by a matrix": lambda b: np.sum(log_ndtr(M @ (X @ b))),
    "outer product": lambda b: np.sum(np.outer(X @ b, X @ b)) / N ** 2,
    "sorted rows": lambda b: np.sum(
        np.exp(-(X @ b))[onp.argsort(stop_gradient(X @ b))] * onp.linspace(0, 1, N)),
    "mean over rows": lambda b: np.sum(np.square(X @ b - np.mean(X @ b))),
    "A depends on x": lambda b: np.sum(log_ndtr((2 * Y_BIN - 1) * ((X * np.exp(b[0])) @ b))),
    "a vector of x reaches the rows": lambda b: np.sum(
        np.square(X @ b + np.concatenate([b, onp.zeros(N - 4)]))),
    "not a sum at the end": lambda b: np.sum(probit_obs(b)) ** 2 / N,
    "two sums": lambda b: np.sum(probit_obs(b)) + np.sum(np.square(X @ b)),
    "a sum plus a penalty in x": lambda b: np.sum(probit_obs(b)) - np.sum(b * b),
    "matrix index summed over rows": lambda b: np.sum(
        np.exp(np.sum(X @ np.reshape(b, (4, 1)) * onp.ones((1, 3)), axis=0))),
    "matrix index flattened across rows": lambda b: np.sum(
        log_ndtr(np.reshape(X @ np.stack([b, -b], axis=1), (-1,)))),
    "rows broadcast along columns": lambda b: np.sum(log_ndtr(
        np.transpose(np.reshape(X @ b, (1, N)) * onp.ones((N, 1))))[:, 0]),
}


def general_hessian(f, x):
    return api._jacobian_forward(ad.grad(f), (x,), {}, 0)


def found(f, x, summed=True):
    leaves, _, node = api._reverse(f, (onp.asarray(x, float),), {}, (0,))
    return structure.find(node, leaves[0], summed=summed)


def assert_same(fast, general):
    onp.testing.assert_allclose(fast, general, rtol=1e-10,
                                atol=1e-10 * max(1.0, onp.max(onp.abs(general))))


@pytest.mark.parametrize("name", list(STRUCTURED))
def test_structure_is_found_and_hessian_matches_general_path(name):
    f, x = STRUCTURED[name]
    x = onp.array(x)
    assert found(f, x) is not None, name
    h = ad.hessian(f)(x)
    assert h.shape == (x.size, x.size)
    assert_same(h, general_hessian(f, x))


@pytest.mark.parametrize("name", ["tobit", "two indices", "transform of z", "probit",
                                  "data used twice, shifted rows", "linear in the index",
                                  "softmax, a matrix index",
                                  "matrix index: columns, a scalar",
                                  "conditional logit: per-alternative indices and X B, "
                                  "columns reversed",
                                  "matrix index reshaped to 3-D, keepdims sums",
                                  "(N, 1) index broadcast against a row of constants"])
def test_blocks_of_rows_give_the_same_numbers(name, monkeypatch):
    """Per-row derivatives are computed block by block of rows (cache-sized): uneven
    blocks, per-row and summed quantities, must not change the result."""
    monkeypatch.setattr(structure, "_BLOCK_ELEMENTS", 70)
    monkeypatch.setattr(structure, "_MIN_BLOCK", 7)
    monkeypatch.setattr(structure, "_CROSS_ELEMENTS", 50)     # X'WX by blocks of rows too
    f, x = STRUCTURED[name]
    x = onp.array(x)
    assert_same(ad.hessian(f)(x), general_hessian(f, x))
    obs = {"tobit": tobit_obs, "probit": probit_obs, "two indices": hetprobit_obs,
           "softmax, a matrix index": softmax_obs,
           "matrix index: columns, a scalar": softmax_columns_obs}.get(name)
    if obs is not None:
        assert_same(ad.jacobian(obs)(x), ad.jacobian(obs, mode="fwd")(x))


@pytest.mark.parametrize("name", list(STRUCTURED))
def test_coefficients_on_nonlinear_outputs_not_followed(name, monkeypatch):
    """Beyond structure._COEF_ENTRIES everything a nonlinear primitive reaches is taken as
    curved: the same Hessian on every structured graph (only fewer straight ends)."""
    monkeypatch.setattr(structure, "_COEF_ENTRIES", 0)
    f, x = STRUCTURED[name]
    x = onp.array(x)
    assert_same(ad.hessian(f)(x), general_hessian(f, x))


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_structure_falls_back_with_the_same_numbers(name):
    f = BROKEN[name]
    x = onp.array([0.3, -0.2, 0.1, 0.05])
    assert found(f, x) is None, name
    assert_same(ad.hessian(f)(x), general_hessian(f, x))


@pytest.mark.parametrize("obs, x", [
    (tobit_obs, [0.3, -0.2, 0.1, 0.05, 0.2]),
    (probit_obs, [0.3, -0.2, 0.1, 0.05]),
    (nb2_obs, [0.2, -0.1, 0.05, 0.0, -0.5]),
    (hetprobit_obs, [0.3, -0.2, 0.1, 0.05, 0.1, -0.2, 0.1]),
    (lambda p: tobit_obs(np.concatenate([p[:4] * 2.0, np.log(p[4:])])),
     [0.3, -0.2, 0.1, 0.05, 1.2]),
    (lambda b: log_ndtr((2 * Y_BIN - 1) * (X[:, :3] @ b[:3] + X[:, 1:] @ b[3:] + b[0])),
     [0.3, -0.2, 0.1, 0.05, -0.1, 0.2]),
    (softmax_obs, 0.1 * onp.arange(-6, 6)),
    (softmax_columns_obs, [0.3, -0.2, 0.1, 0.05, -0.1, 0.2, 0.1]),
    (_shared_curved_v, [0.3, -0.2, 0.1, 0.05, -0.1, 0.2, 0.1]),
    (_mixed_matrix_obs, 0.1 * onp.arange(-6, 7)),
])
def test_per_row_jacobian_matches_forward_mode(obs, x):
    x = onp.array(x)
    assert found(obs, x, summed=False) is not None
    jac = ad.jacobian(obs)(x)
    assert jac.shape == (N, x.size)
    assert_same(jac, ad.jacobian(obs, mode="fwd")(x))


@pytest.mark.parametrize("name", ["cumsum over rows", "rows reversed", "mean over rows"])
def test_per_row_jacobian_falls_back(name):
    obs = {"cumsum over rows": lambda b: np.cumsum(probit_obs(b)),
           "rows reversed": lambda b: probit_obs(b) * (X @ b)[::-1],
           "mean over rows": lambda b: np.square(X @ b - np.mean(X @ b))}[name]
    x = onp.array([0.3, -0.2, 0.1, 0.05])
    assert found(obs, x, summed=False) is None
    assert_same(ad.jacobian(obs)(x), ad.jacobian(obs, mode="fwd")(x))


def test_fast_path_is_used_by_hessian(monkeypatch):
    """The general forward-over-reverse pass does not run when the structure is there."""
    calls = []
    real = api._jacobian_forward
    monkeypatch.setattr(api, "_jacobian_forward", lambda *a, **k: calls.append(1) or real(*a, **k))
    f, x = STRUCTURED["tobit"]
    ad.hessian(f)(onp.array(x))
    assert calls == []
    ad.hessian(BROKEN["mean over rows"])(onp.array([0.3, -0.2, 0.1, 0.05]))
    assert calls == [1]


def test_higher_order_through_the_general_path_is_exact():
    """Third derivatives: the Jacobian of the Hessian (traced input: general path) equals
    central differences of the Hessian (plain input: index path)."""
    f, x = STRUCTURED["tobit"]
    x = onp.array(x)
    third = ad.jacobian(ad.hessian(f))(x)
    eps = 1e-5
    for k in range(x.size):
        e = onp.zeros(x.size)
        e[k] = eps
        fd = (ad.hessian(f)(x + e) - ad.hessian(f)(x - e)) / (2 * eps)
        onp.testing.assert_allclose(third[..., k], fd, rtol=1e-5,
                                    atol=1e-6 * onp.max(onp.abs(fd)))
    g = ad.grad(lambda p: ad.hessian(f)(p)[0, 1])(x)
    onp.testing.assert_allclose(g, third[0, 1], rtol=1e-10)


def test_hessian_inside_another_trace():
    """A Hessian whose function closes over a value traced outside (the data matrix
    depends on an outer parameter) takes the general path and stays exact."""
    x = onp.array([0.3, -0.2, 0.1, 0.05])

    def outer(c):
        def inner(b):
            return np.sum(log_ndtr((2 * Y_BIN - 1) * ((X * c) @ b)))
        return ad.hessian(inner)(x)[1, 2]

    d = ad.grad(outer)(1.3)
    eps = 1e-6
    fd = (outer(1.3 + eps) - outer(1.3 - eps)) / (2 * eps)
    onp.testing.assert_allclose(d, fd, rtol=1e-6)


def test_inputs_and_data_are_not_modified():
    f, x = STRUCTURED["tobit"]
    x = onp.array(x)
    x0, X0 = x.copy(), X.copy()
    h = ad.hessian(f)(x)
    j = ad.jacobian(tobit_obs)(x)
    onp.testing.assert_array_equal(x, x0)
    onp.testing.assert_array_equal(X, X0)
    h[:] = 0.0          # results are the caller's own arrays
    j[:] = 0.0
    onp.testing.assert_array_equal(X, X0)


def test_small_problems_keep_the_general_path():
    """No gain when the rows have as many inputs as x has entries, or there are few rows."""
    b = onp.array([0.3, -0.2])
    assert found(lambda p: np.sum(norm.logpdf(Y_TOBIT, p[0], np.exp(p[1]))), b) is None
    assert found(lambda p: np.sum(log_ndtr(X[:3] @ p)), onp.array([0.1, 0.2, 0.3, 0.4])) is None


@pytest.mark.parametrize("name", ["tobit", "two indices", "negative mean (scipy-style objective)",
                                  "mean over rows", "cumsum over rows"])
def test_value_grad_and_hessian_from_one_recording(name):
    """The model layer's Newton objective: value and gradient from one recording, the
    Hessian on demand from the same recording; equal to value_and_grad and the general
    Hessian, with and without the structure."""
    f, x = STRUCTURED[name] if name in STRUCTURED else (BROKEN[name], [0.3, -0.2, 0.1, 0.05])
    x = onp.array(x)
    v_ref, g_ref = ad.value_and_grad(f)(x)
    h_ref = general_hessian(f, x)
    value, g, hess = api.value_grad_and_hessian(f)(x)
    onp.testing.assert_allclose(value, v_ref, rtol=1e-14)
    assert_same(g, g_ref)
    assert_same(hess(), h_ref)
    value, g, h = api.value_grad_and_hessian(f, lazy=False)(x)     # gradient per row too
    onp.testing.assert_allclose(value, v_ref, rtol=1e-14)
    assert_same(g, g_ref)
    assert_same(h, h_ref)


def test_linear_parameter_maps_are_recognised():
    """Slices, scalings and concatenations of x have no curvature term (it is skipped);
    a nonlinear map (exp, tanh) keeps it."""
    assert found(*STRUCTURED["probit"]).linear
    assert found(*STRUCTURED["data used twice, column slices"]).linear
    assert found(lambda z: STRUCTURED["probit"][0](z * 2.0), onp.array([0.3, -0.2, 0.1, 0.05])).linear
    assert not found(*STRUCTURED["tobit"]).linear
    assert not found(*STRUCTURED["index of a nonlinear v"]).linear


def test_a_matrix_index_gives_one_per_row_input_per_column():
    """X B with B 4 x 3: three per-row inputs sharing X (a softmax's J-1 outcomes)."""
    s = found(total(softmax_obs), 0.1 * onp.arange(-6, 6))
    assert s.m == 1 and len(s.columns) == 3
    assert all(a_mat is X for _, _, a_mat in s.columns)
    assert "3 indices, 0 direct scalars" in repr(s)


# --- HPhi blocks of index columns sharing a data matrix: one product with cached row products

def _outer_by_formula(mats, grads, slopes):
    """dPhi and HPhi straight from their definition (A_a' g_a, A_a' diag(W_ab) A_b, ...)."""
    sizes = [1 if m is None else m.shape[1] for m in mats]
    starts = onp.concatenate([[0], onp.cumsum(sizes)])
    d, h = onp.zeros(starts[-1]), onp.zeros((starts[-1], starts[-1]))
    for a, ma in enumerate(mats):
        sa = slice(starts[a], starts[a + 1])
        d[sa] = onp.sum(grads[a]) if ma is None else ma.T @ grads[a]
        for b in range(a, len(mats)):
            mb, w = mats[b], slopes[a][b]
            sb = slice(starts[b], starts[b + 1])
            if mb is None:
                block = onp.sum(w) if ma is None else (ma.T @ w)[:, None]
            else:
                block = onp.einsum("ir,i,ic->rc", ma, w, mb)
            h[sa, sb] = block
            h[sb, sa] = onp.transpose(block)
    return d, h


LAYOUTS = {      # the data matrix of each per-row input (d: a direct scalar, last)
    "one X for six columns (multinomial logit)": "XXXXXX",
    "X for four columns, Z for three (X-Z together, Z-Z alone), two directs": "XXXXZZZdd",
    "X for columns 0, 2, 3, 4 (not adjacent) and Z between": "XZXXXd",
    "X and Z interleaved (X-Z block by block)": "XZXZXZXZ",
    "an integer-valued integer X and a float Z": "IIIIZZZ",
}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_shared_data_blocks_match_the_formula_and_block_by_block(name, monkeypatch):
    """Random per-row derivatives on several column layouts: the blocks taken together
    (one product W @ Z) equal the formula and the one-block-at-a-time route to 1e-13."""
    r = onp.random.default_rng(len(name))
    n = 90
    data = {"X": r.normal(size=(n, 4)), "Z": r.normal(size=(n, 3)),
            "I": r.integers(-3, 4, size=(n, 3)), "d": None}
    mats = [data[c] for c in LAYOUTS[name]]
    p = len(mats)
    grads = [r.normal(size=n) if m is not None else float(r.normal()) for m in mats]
    slopes = [r.normal(size=(p, n)) if m is not None else r.normal(size=p) for m in mats]
    s = structure.Structure(None, n, [], 0, [(0, None, m) for m in mats], [], None, [])
    made = []
    real = structure._row_products
    monkeypatch.setattr(structure, "_row_products", lambda a, b: made.append(1) or real(a, b))
    d, h = structure._outer_derivatives(s, grads, slopes)
    assert made, "the one-product route was not taken"
    d_ref, h_ref = _outer_by_formula(mats, grads, slopes)
    onp.testing.assert_allclose(d, d_ref, rtol=1e-13, atol=1e-13 * onp.max(onp.abs(d_ref)))
    onp.testing.assert_allclose(h, h_ref, rtol=1e-13, atol=1e-13 * onp.max(onp.abs(h_ref)))
    monkeypatch.setattr(structure, "_PRODUCT_BYTES", 0)         # every block on its own
    d_one, h_one = structure._outer_derivatives(s, grads, slopes)
    onp.testing.assert_allclose(h, h_one, rtol=1e-13, atol=1e-13 * onp.max(onp.abs(h_one)))
    onp.testing.assert_allclose(d, d_one, rtol=1e-13, atol=1e-13 * onp.max(onp.abs(d_one)))
    again = structure._outer_derivatives(s, grads, slopes)     # (cached Z: the same numbers)
    onp.testing.assert_array_equal(again[1], h_one)


def test_cached_row_products_follow_data_changed_in_place():
    """Z (row products of X) is kept between calls; a data array the user changes in
    place between two Hessians must give the new Hessian, not the old one."""
    data = X.copy()
    chosen = (Y_CAT[:, None] == onp.arange(4)).astype(float)

    def f(p):                   # a softmax with four columns on X: ten blocks X' W X
        eta = data @ np.reshape(p, (4, 4))
        return np.sum(np.sum(chosen * eta, axis=1) - logsumexp(eta, axis=1))

    x = 0.1 * onp.arange(-8, 8)
    assert found(f, x).m == 1 and len(found(f, x).columns) == 4
    before = ad.hessian(f)(x)
    assert_same(before, general_hessian(f, x))
    data[:, 1] *= 3.0
    data[5, 2] = -4.0
    after = ad.hessian(f)(x)
    assert_same(after, general_hessian(f, x))
    assert onp.max(onp.abs(after - before)) > 1.0
    h_one = api.value_grad_and_hessian(f, lazy=False)(x)[2]    # (and the same Z again)
    onp.testing.assert_allclose(h_one, after, rtol=1e-13, atol=1e-13 * onp.max(onp.abs(after)))


def test_cached_row_products_go_with_their_data():
    """The cache keeps Z (and its copy of the data) only while the data array lives."""
    import gc
    data = onp.repeat(X, 2, axis=0)[:N]

    def f(p):
        return np.sum(logsumexp(data @ np.reshape(p, (4, 4)), axis=1))

    x = 0.1 * onp.arange(-8, 8)
    assert_same(ad.hessian(f)(x), general_hessian(f, x))
    address = data.__array_interface__["data"][0]
    held = [k for k in structure._products if k[0][0] == address]
    assert held
    del data, f
    gc.collect()
    assert not [k for k in structure._products if k in held]


def nb_like_obs(p):
    """Parameters mapped as a NegativeBinomial's: z = (beta, exp(a)), then sliced: the
    index's v = z[:-1] is linear in x though it comes after the exp; alpha is not."""
    z = np.concatenate([p[:-1], np.exp(p[-1:])])
    beta, alpha = z[:-1], z[-1]
    mu = np.exp(X @ beta)
    return (gammaln(Y_COUNT + 1 / alpha) - gammaln(1 / alpha) - Y_COUNT * np.log1p(alpha * mu)
            + Y_COUNT * np.log(alpha * mu) - np.log1p(alpha * mu) / alpha)


@pytest.mark.parametrize("rowwise_program", [True, False])
@pytest.mark.parametrize("followed", [True, False])
def test_mixed_linear_and_curved_ends(rowwise_program, followed, monkeypatch):
    """Ends linear in x (a slice after a concatenation with exp) keep a constant J and no
    curvature; the curved ends (alpha, 1/alpha, ...) are lifted with the directions of the
    x entries they reach only. The Hessian matches the general path and central
    differences of the gradient, also when the coefficients on exp's output are not
    followed (too many: then everything after the exp is curved)."""
    from mleopt.ad import rowhess
    monkeypatch.setattr(rowhess, "ENABLED", rowwise_program)
    if not followed:
        monkeypatch.setattr(structure, "_COEF_ENTRIES", 0)
    f = lambda p: np.sum(nb_like_obs(p))
    x = onp.array([0.2, -0.1, 0.15, 0.05, -0.4])
    s = found(f, x)
    assert s is not None and not s.linear
    plan = structure._inner_plan(s)
    if followed:
        assert onp.array_equal(plan.active, [4])    # only log alpha is reached nonlinearly
        assert len(plan.curved) == len(s.inputs) - s.m  # the index's v is straight
    else:
        assert onp.array_equal(plan.active, range(5))
        assert len(plan.curved) == len(s.inputs)
    h = ad.hessian(f)(x)
    assert_same(h, general_hessian(f, x))
    g, eps = ad.grad(f), 1e-5
    fd = onp.array([(g(x + eps * e) - g(x - eps * e)) / (2 * eps) for e in onp.eye(x.size)])
    onp.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-6 * onp.max(onp.abs(h)))


def test_curved_plan_is_kept_and_exact_at_other_points():
    """The plan (constant J rows, curved nodes) is made once per Structure; a graph
    refreshed at another point (as a replay does) gives the Hessian of a fresh recording."""
    from mleopt.ad import replay
    f = lambda p: np.sum(nb_like_obs(p))
    x0 = onp.array([0.2, -0.1, 0.15, 0.05, -0.4])
    leaves, _, end = api._reverse(f, (x0,), {}, (0,))
    leaf = leaves[0]
    s = structure.find(end, leaf, summed=True)
    plan = replay.make_plan(leaf, end, s, escaped=False)
    assert isinstance(plan, replay.Plan)
    kept = structure._inner_plan(s)
    for x in (onp.array([0.1, 0.2, -0.1, 0.0, 0.3]), onp.array([-0.2, 0.1, 0.1, 0.2, -1.0])):
        value, grad, hess = plan.run(x.copy())
        assert structure._inner_plan(s) is kept
        onp.testing.assert_array_equal(hess, ad.hessian(f)(x))
        assert_same(hess, general_hessian(f, x))
