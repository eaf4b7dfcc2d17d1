"""Per-row gradients and Hessians by edge pushing (mleopt.ad.rowhess).

For row graphs made of the table's elementwise primitives, the per-row derivatives of
structure._per_row come from rowhess; the forward-over-reverse pass (rowhess.ENABLED = False)
is the reference: both must agree to 1e-13, and the full Hessian must agree with central
finite differences of the gradient. Graphs outside the table must fall back (None) and give
the same numbers.
"""
from __future__ import annotations

import warnings
from collections import Counter

import numpy as onp
import pytest

from check import numerical_jacobian
from mleopt import ad
from mleopt.ad import api, rowhess, structure
from mleopt.ad import primitives as p
from mleopt.ad import rules_special as rs
from mleopt.ad.core import stop_gradient

N = 60
rng = onp.random.default_rng(20261130)
X1 = rng.normal(size=(N, 3))
X2 = rng.normal(size=(N, 3))
X3 = rng.normal(size=(N, 2))
X4 = rng.normal(size=(N, 2))
COUNT = rng.poisson(2.0, size=N).astype(float)
COUNT[:5] = 0.0
COND = rng.random(N) < 0.4
C = rng.uniform(0.5, 1.5, size=N)           # a per-row constant
X0 = onp.array([0.3, -0.2, 0.1, 0.2, 0.15, -0.1, 0.4])
BIG = 1 << 30


def inputs(x):
    """Two indices and a direct scalar: z mixes all three (so every pair has a second
    derivative), w is a second per-row argument."""
    u, v, s = X1 @ x[:3], X2 @ x[3:6], x[6]
    z = p.add(u, p.multiply(p.multiply(0.5, v), s))
    w = p.subtract(v, p.multiply(0.3, u))
    return z, w, s


def pos(a):
    """A positive function of a: 0.5 + exp(0.3 a)."""
    return p.add(0.5, p.exp(p.multiply(0.3, a)))


def unit(a):
    """A function of a in (-0.9, 0.9)."""
    return p.multiply(0.9, p.tanh(a))


def structure_of(f, x):
    leaves, _, node = api._reverse(f, (onp.asarray(x, float),), {}, (0,))
    s = structure.find(node, leaves[0], summed=True)
    assert s is not None
    return s


def both(s, monkeypatch):
    """(grads, slopes) by edge pushing and by forward-over-reverse."""
    fast = rowhess.derivatives(s, BIG)
    assert fast is not None, Counter(node._prim.name for node in s.rows)
    with monkeypatch.context() as m:
        m.setattr(rowhess, "ENABLED", False)
        reference = structure._per_row(s, second=True)
    return fast, reference


def assert_tight(actual, desired):
    actual, desired = onp.asarray(actual, float), onp.asarray(desired, float)
    assert actual.shape == desired.shape
    onp.testing.assert_allclose(actual, desired, rtol=1e-13,
                                atol=1e-13 * max(1.0, float(onp.max(onp.abs(desired)))))


def assert_same_per_row(s, monkeypatch):
    (grads, slopes), (ref_grads, ref_slopes) = both(s, monkeypatch)
    assert len(grads) == len(ref_grads) == len(slopes) == len(ref_slopes)
    for a, b in zip(grads, ref_grads):
        assert_tight(a, b)
    for a, b in zip(slopes, ref_slopes):
        assert_tight(a, b)


def dual_hessian(f, x, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(rowhess, "ENABLED", False)
        return ad.hessian(f)(x)


def _weight(z, w):
    """expit(z - w), as the logaddexp rule records it: out = logaddexp(z, w) known (a
    constant to the AD, recomputed at every point)."""
    return p.logaddexp_weight(z, w, stop_gradient(p.logaddexp(z, w)))


# one likelihood per table primitive: name -> row function of x (the prim name is checked
# to be among the recorded row nodes)
CASES = {
    "negative": lambda x: p.negative(p.square(inputs(x)[0])),
    "exp": lambda x: p.exp(unit(inputs(x)[0])),
    "log": lambda x: p.log(pos(inputs(x)[0])),
    "log1p": lambda x: p.log1p(p.subtract(pos(inputs(x)[0]), 0.9)),
    "expm1": lambda x: p.expm1(unit(inputs(x)[0])),
    "sqrt": lambda x: p.sqrt(pos(inputs(x)[0])),
    "absolute": lambda x: p.multiply(p.absolute(inputs(x)[0]), inputs(x)[1]),
    "sin": lambda x: p.sin(inputs(x)[0]),
    "cos": lambda x: p.cos(inputs(x)[0]),
    "tan": lambda x: p.tan(unit(inputs(x)[0])),
    "tanh": lambda x: p.tanh(inputs(x)[0]),
    "sinh": lambda x: p.sinh(inputs(x)[0]),
    "cosh": lambda x: p.cosh(inputs(x)[0]),
    "arctan": lambda x: p.arctan(inputs(x)[0]),
    "arcsin": lambda x: p.arcsin(unit(inputs(x)[0])),
    "arccos": lambda x: p.arccos(unit(inputs(x)[0])),
    "arcsinh": lambda x: p.arcsinh(inputs(x)[0]),
    "arctanh": lambda x: p.arctanh(unit(inputs(x)[0])),
    "square": lambda x: p.square(inputs(x)[0]),
    "reciprocal": lambda x: p.reciprocal(pos(inputs(x)[0])),
    "gammaln": lambda x: p.gammaln(pos(inputs(x)[0])),
    "psi": lambda x: p.digamma(pos(inputs(x)[0])),          # (digamma: scipy names it psi)
    "polygamma": lambda x: p.polygamma(1, pos(inputs(x)[0])),
    "erf": lambda x: p.erf(inputs(x)[0]),
    "erfc": lambda x: p.erfc(inputs(x)[0]),
    "ndtr": lambda x: p.ndtr(inputs(x)[0]),
    "log_ndtr": lambda x: p.log_ndtr(p.multiply(3.0, inputs(x)[0])),
    "inv_mills": lambda x: rs.inv_mills(p.multiply(3.0, inputs(x)[0])),
    "expit": lambda x: p.expit(p.multiply(3.0, inputs(x)[0])),
    "log_expit": lambda x: p.log_expit(p.multiply(3.0, inputs(x)[0])),
    "logit": lambda x: p.logit(p.expit(inputs(x)[0])),
    "add": lambda x: p.square(p.add(*inputs(x)[:2])),
    "subtract": lambda x: p.square(p.subtract(*inputs(x)[:2])),
    "multiply": lambda x: p.multiply(*inputs(x)[:2]),
    "divide": lambda x: p.true_divide(inputs(x)[0], pos(inputs(x)[1])),
    "divide, constant numerator": lambda x: p.true_divide(C, pos(inputs(x)[1])),
    "power, constant exponent": lambda x: p.power(pos(inputs(x)[0]), 2.5),
    "power, traced exponent": lambda x: p.power(pos(inputs(x)[0]), inputs(x)[1]),
    "power, constant base": lambda x: p.power(C, inputs(x)[1]),
    "logaddexp": lambda x: p.logaddexp(*inputs(x)[:2]),
    "logaddexp, constant first": lambda x: p.logaddexp(0.0, inputs(x)[1]),
    "logaddexp_weight": lambda x: _weight(*inputs(x)[:2]),
    "maximum": lambda x: p.square(p.maximum(*inputs(x)[:2])),
    "maximum, ties": lambda x: p.square(p.maximum(inputs(x)[0], inputs(x)[0])),
    "minimum": lambda x: p.square(p.minimum(inputs(x)[0], 0.1)),
    "arctan2": lambda x: p.arctan2(*inputs(x)[:2]),
    "where": lambda x: p.where(COND, p.square(inputs(x)[0]), p.exp(unit(inputs(x)[1]))),
    "xlogy, constant x": lambda x: p.xlogy(COUNT, pos(inputs(x)[0])),
    "xlogy": lambda x: p.xlogy(pos(inputs(x)[1]), pos(inputs(x)[0])),
    "xlog1py": lambda x: p.xlog1py(COUNT, p.subtract(pos(inputs(x)[0]), 0.9)),
    "betaln": lambda x: rs.betaln(pos(inputs(x)[0]), pos(inputs(x)[1])),
}
PRIM_OF = {"divide, constant numerator": "divide", "logaddexp, constant first": "logaddexp",
           "maximum, ties": "maximum", "xlogy, constant x": "xlogy"}


def total(row):
    return lambda x: p.sum(row(x))


def test_every_table_primitive_has_a_case():
    names = {name.split(",")[0] for name in CASES}
    assert {prim.name for prim in rowhess.RULES} <= names


@pytest.mark.parametrize("name", list(CASES))
def test_each_primitive_matches_the_dual_path_and_finite_differences(name, monkeypatch):
    f = total(CASES[name])
    s = structure_of(f, X0)
    prim = PRIM_OF.get(name, name.split(",")[0])
    assert prim in {node._prim.name for node in s.rows}
    assert_same_per_row(s, monkeypatch)
    h = ad.hessian(f)(X0)
    assert_tight(h, dual_hessian(f, X0, monkeypatch))
    fd = numerical_jacobian(ad.grad(f), X0)
    onp.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-6 * max(1.0, onp.max(onp.abs(fd))))


def _shaped_inputs(x, shape):
    """A direct scalar of shape () or (1,) and constants of shape (), (1,) or (N,)."""
    u, v = X3 @ x[:2], X4 @ x[2:4]
    s = x[4] if shape == () else x[4:5]
    return u, v, s


@pytest.mark.parametrize("shape", [(), (1,)])
def test_broadcasting_direct_scalars_and_constants(shape, monkeypatch):
    def f(x):
        u, v, s = _shaped_inputs(x, shape)
        only_s = p.multiply(onp.ones(N), p.exp(s))          # a row node of the scalar only
        a = p.add(p.multiply(u, s), onp.array([0.2]))      # a (1,) constant
        b = p.logaddexp(p.multiply(v, only_s), C)           # an (N,) constant
        return p.sum(p.add(p.true_divide(p.square(a), only_s), p.multiply(b, s)))
    x = onp.array([0.3, -0.2, 0.1, 0.2, 0.15, -0.1])
    s = structure_of(f, x)
    assert len(s.inputs) > s.m         # direct scalars (s and exp(s))
    assert_same_per_row(s, monkeypatch)
    h = ad.hessian(f)(x)
    assert_tight(h, dual_hessian(f, x, monkeypatch))
    onp.testing.assert_allclose(h, numerical_jacobian(ad.grad(f), x), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["x * x", "logaddexp(a, a)", "a - a + a", "shared node"])
def test_repeated_arguments_and_shared_nodes(name, monkeypatch):
    def f(x):
        z, w, s = inputs(x)
        if name == "x * x":
            row = p.multiply(p.multiply(z, z), p.exp(unit(w)))
        elif name == "logaddexp(a, a)":
            row = p.logaddexp(p.multiply(z, w), p.multiply(z, w))
        elif name == "a - a + a":
            a = p.tanh(z)
            row = p.multiply(p.add(p.subtract(a, a), a), w)
        else:                       # one node feeding several children, at several depths
            a = p.multiply(z, w)
            b = p.exp(unit(a))
            row = p.add(p.multiply(a, b), p.logaddexp(a, p.multiply(b, s)))
        return p.sum(row)
    s = structure_of(f, X0)
    assert_same_per_row(s, monkeypatch)
    h = ad.hessian(f)(X0)
    assert_tight(h, dual_hessian(f, X0, monkeypatch))
    onp.testing.assert_allclose(h, numerical_jacobian(ad.grad(f), X0), rtol=1e-6, atol=1e-6)


# random compositions of table primitives: each takes two pool entries (maybe the same)
_OPS = [
    lambda a, b: p.multiply(a, b),
    lambda a, b: p.add(a, b),
    lambda a, b: p.subtract(a, b),
    lambda a, b: p.true_divide(a, p.add(2.0, p.tanh(b))),
    lambda a, b: p.logaddexp(a, b),
    lambda a, b: p.tanh(a),
    lambda a, b: p.log_expit(a),
    lambda a, b: p.expit(p.multiply(a, b)),
    lambda a, b: p.log_ndtr(a),
    lambda a, b: p.exp(p.tanh(a)),
    lambda a, b: p.log1p(p.square(a)),
    lambda a, b: p.sqrt(p.add(1.0, p.square(b))),
    lambda a, b: p.power(p.add(1.5, p.tanh(a)), p.tanh(b)),
    lambda a, b: p.maximum(a, b),
    lambda a, b: p.where(COND, a, b),
    lambda a, b: p.multiply(a, a),
    lambda a, b: p.logaddexp(a, a),
    lambda a, b: p.gammaln(p.add(2.0, p.square(a))),
    lambda a, b: p.multiply(C, a),
    lambda a, b: p.arctan2(a, p.add(2.0, p.square(b))),
    lambda a, b: p.xlogy(COUNT, p.add(1.0, p.square(a))),
]


def _random_graph(seed: int):
    r = onp.random.default_rng(seed)
    m = int(r.integers(2, 5))                # indices
    k = 3 * m + 1
    mats = [r.normal(size=(N, 3)) for _ in range(m)]
    picks = [(int(r.integers(len(_OPS))), int(r.integers(1 << 20)), int(r.integers(1 << 20)))
             for _ in range(int(r.integers(8, 16)))]
    ends = [-1, -2, -3, int(r.integers(1 << 20))]     # the last nodes made, and any one

    def f(x):
        pool = [a @ x[3 * j:3 * j + 3] for j, a in enumerate(mats)] + [x[-1]]
        for op, i, j in picks:
            pool.append(_OPS[op](pool[i % len(pool)], pool[j % len(pool)]))
        row = p.multiply(0.1, pool[0])       # (per-row even if the picks are all scalar)
        for e in ends:
            row = p.add(row, p.tanh(pool[e % len(pool)]))
        return p.sum(row)
    return f, 0.3 * r.normal(size=k)


@pytest.mark.parametrize("seed", range(32))
def test_random_graphs_match_the_dual_path(seed, monkeypatch):
    f, x = _random_graph(seed)
    s = structure_of(f, x)
    assert_same_per_row(s, monkeypatch)
    assert_tight(ad.hessian(f)(x), dual_hessian(f, x, monkeypatch))


def test_blocks_of_rows_give_the_same_numbers(monkeypatch):
    f = total(CASES["logaddexp"])
    s = structure_of(f, X0)
    whole = rowhess.derivatives(s, BIG)
    blocked = rowhess.derivatives(s, 7)          # uneven blocks (60 = 8 x 7 + 4)
    for a, b in zip(whole[0] + whole[1], blocked[0] + blocked[1]):
        assert_tight(b, a)
    monkeypatch.setattr(structure, "_BLOCK_ELEMENTS", 20)
    monkeypatch.setattr(structure, "_MIN_BLOCK", 5)
    assert_tight(ad.hessian(f)(X0), dual_hessian(f, X0, monkeypatch))


@pytest.mark.parametrize("name", ["primitive outside the table", "power at a zero base",
                                  "a matrix index"])
def test_outside_the_table_falls_back_with_the_same_numbers(name, monkeypatch):
    def f(x):
        z, w, s = inputs(x)
        if name == "primitive outside the table":
            row = p.multiply(rs.gammainc(2.0, pos(z)), w)
        elif name == "power at a zero base":
            row = p.multiply(p.power(p.multiply(COND, z), 2.0), w)
        else:
            e = X1 @ p.reshape(x[:6], (3, 2))
            row = p.multiply(p.getitem(e, (slice(None), 0)), p.getitem(e, (slice(None), 1)))
        return p.sum(row)
    s = structure_of(f, X0)
    assert rowhess.derivatives(s, BIG) is None
    h = ad.hessian(f)(X0)
    assert_tight(h, dual_hessian(f, X0, monkeypatch))
    onp.testing.assert_allclose(h, numerical_jacobian(ad.grad(f), X0), rtol=1e-6, atol=1e-6)


def test_xlogy_at_zero_over_zero_with_both_traced_is_left_to_the_general_rules():
    """At x = y = 0 the two mixed partials of x log y differ (d/dy log y = 1/0, d/dx of
    x/y with y replaced by 1 = 1): the rule declines (None) instead of choosing."""
    zero, one = onp.array([0.0, 1.0]), onp.array([0.5, 1.0])
    assert rowhess.RULES[p.xlogy](0.0 * one, [zero, zero], [True, True]) is None
    firsts, seconds = rowhess.RULES[p.xlogy](0.0 * one, [zero, one], [False, True])
    assert_tight(firsts[1], zero / one)
    assert_tight(seconds[(1, 1)], -zero / one ** 2)


def test_blocks_slice_per_row_constants_of_a_numpy_subclass(tmp_path, monkeypatch):
    """A per-row constant held in an ndarray subclass (np.memmap: data read from disk) is cut
    into the blocks of rows like a plain array (it was passed whole: a broadcasting error
    where the forward-over-reverse path worked)."""
    counts = onp.memmap(tmp_path / "counts.dat", dtype=float, mode="w+", shape=(N,))
    counts[:] = COUNT

    def f(x):
        z = inputs(x)[0]
        return p.sum(p.subtract(p.multiply(counts, z), p.exp(z)))
    s = structure_of(f, X0)
    whole = rowhess.derivatives(s, BIG)
    blocked = rowhess.derivatives(s, 7)
    for a, b in zip(whole[0] + whole[1], blocked[0] + blocked[1]):
        assert_tight(b, a)
    monkeypatch.setattr(structure, "_BLOCK_ELEMENTS", 20)
    monkeypatch.setattr(structure, "_MIN_BLOCK", 5)
    assert_tight(ad.hessian(f)(X0), dual_hessian(f, X0, monkeypatch))


def test_a_local_partial_out_of_range_leaves_the_rows_to_the_general_path(monkeypatch):
    """1 / erfc(z) near z = 15.5: the local second partial of the reciprocal, 2 / erfc^3,
    overflows (inf) though the row's second derivative (about 6e108) does not; the
    forward-over-reverse path, which multiplies by the tangent first, stays finite. Edge
    pushing declines (None) wherever its per-row derivatives are not all finite, so that
    it never turns the reference's finite numbers into inf or NaN."""
    def f(x):
        z = inputs(x)[0]
        return p.sum(p.reciprocal(p.erfc(p.add(15.5, p.multiply(0.01, z)))))
    s = structure_of(f, X0)
    assert rowhess.derivatives(s, BIG) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # (the declined sweep's overflow is not the user's)
        h = ad.hessian(f)(X0)
    assert onp.isfinite(h).all()
    assert_tight(h, dual_hessian(f, X0, monkeypatch))


@pytest.mark.parametrize("dtype", [bool, onp.int64, onp.float32])
def test_constants_of_other_dtypes_enter_the_partials_as_float64(dtype, monkeypatch):
    """Per-row constants of another dtype (indicators, counts, float32 data) as factors:
    the partial of m * t in t is m itself. Bool adjoints added as a logical or (halving the
    derivatives of m t + m t), -m raised a TypeError for bool m, int64 products wrapped
    around (m m > 2^63) and float32 products were rounded to float32."""
    m = {bool: COND, onp.int64: (1 << 31) * COUNT.astype(onp.int64),
         onp.float32: (C / 3.0).astype(onp.float32)}[dtype]

    def f(x):       # m (m t) + (m t - m t^2): t's adjoint m m + m, and a -m
        t = p.tanh(inputs(x)[0])
        mmt = p.multiply(m, p.multiply(m, t))
        return p.sum(p.add(mmt, p.subtract(p.multiply(m, t), p.multiply(m, p.square(t)))))
    s = structure_of(f, X0)
    assert_same_per_row(s, monkeypatch)
    h = ad.hessian(f)(X0)
    assert_tight(h, dual_hessian(f, X0, monkeypatch))
    value, gradient, _ = api.value_grad_and_hessian(f, lazy=False)(X0)
    with monkeypatch.context() as mp:
        mp.setattr(rowhess, "ENABLED", False)
        assert_tight(gradient, ad.grad(f)(X0))


# --- the sweep program: written once per graph, run again on new values -----------------

def refresh(s, x):
    """Give the recorded graph of s the values at x, as a replay would: each node in
    creation order gets its parents' new values and its primitive's answer on them."""
    s.leaf._value = onp.asarray(x, float)
    for node in sorted({*s.small, *s.inputs[:s.m], *s.rows}, key=lambda q: q._seq):
        args = list(node._args)
        for i, q in zip(node._argnums, node._parents):
            args[i] = q._value
        node._args = args
        node._value = node._prim.fun(*args, **node._kwargs)


def assert_13(actual, desired):
    for a, b in zip(actual, desired):
        a, b = onp.asarray(a, float), onp.asarray(b, float)
        onp.testing.assert_allclose(a, b, rtol=1e-13,
                                    atol=1e-13 * max(1.0, float(onp.max(onp.abs(b)))))


def reference(f, x, monkeypatch, block=BIG):
    """Per-row derivatives of a fresh recording of f at x by forward-over-reverse."""
    with monkeypatch.context() as m:
        m.setattr(rowhess, "ENABLED", False)
        m.setattr(structure, "_BLOCK_ELEMENTS", block)
        m.setattr(structure, "_MIN_BLOCK", 1)
        return structure._per_row(structure_of(f, x), second=True)


def _softmax_chain(x):
    """A multinomial logit written as MNLogit does (three outcomes on one X, logaddexp
    chain), with a node used twice, a per-row constant, a direct scalar and a (1,) one."""
    chosen, lse = 0.0, 0.0
    for j in range(3):
        eta = X1 @ x[3 * j:3 * j + 3]
        chosen = p.add(chosen, p.multiply(COUNT, eta))
        lse = p.logaddexp(lse, eta)
    shared = p.multiply(lse, lse)
    tail = p.true_divide(p.multiply(shared, x[9]), onp.array([4.0]))
    return p.sum(p.subtract(p.subtract(chosen, lse), tail))


X_CHAIN = onp.linspace(-0.4, 0.5, 10)


@pytest.mark.parametrize("block", [BIG, 7])
def test_a_kept_program_runs_on_refreshed_values(block, monkeypatch):
    """The program written at the first call on s serves the next calls on s after its
    values change (nothing in it depends on them), whole or by blocks of rows, and agrees
    with forward-over-reverse on a fresh recording to 1e-13."""
    s = structure_of(_softmax_chain, X_CHAIN)
    assert len(s.inputs) > s.m      # (a direct scalar)
    first = rowhess.derivatives(s, block)
    program = s.cache["sweep"]
    assert_13(first[0] + first[1], sum(reference(_softmax_chain, X_CHAIN, monkeypatch), []))
    for k in range(3):
        x = X_CHAIN + 0.3 * (k + 1) * onp.cos(onp.arange(10.0) + k)
        refresh(s, x)
        grads, slopes = rowhess.derivatives(s, block)
        assert s.cache["sweep"] is program
        ref = reference(_softmax_chain, x, monkeypatch, block)
        assert_13(grads + slopes, ref[0] + ref[1])
        d_phi, h_phi = structure._outer_derivatives(s, grads, slopes)
        d_ref, h_ref = structure._outer_derivatives(structure_of(_softmax_chain, x), *ref)
        assert_13([d_phi, h_phi], [d_ref, h_ref])


@pytest.mark.parametrize("seed", range(6))
def test_the_program_of_a_graph_serves_its_next_recordings(seed, monkeypatch):
    """A new recording of the same function (a fit records f at every point) takes the
    program written for the first (same signature) and gets the same numbers as
    forward-over-reverse; the kept program holds no node of either recording."""
    import gc
    import weakref
    f, x = _random_graph(seed)
    rowhess._PROGRAMS.clear()
    s1 = structure_of(f, x)
    rowhess.derivatives(s1, BIG)
    program = s1.cache["sweep"]
    gone = weakref.ref(s1.top)
    del s1
    gc.collect()
    assert gone() is None
    x2 = x + 0.2
    s2 = structure_of(f, x2)
    grads, slopes = rowhess.derivatives(s2, BIG)
    assert s2.cache["sweep"] is program
    ref = reference(f, x2, monkeypatch)
    assert_13(grads + slopes, ref[0] + ref[1])


def test_a_number_partial_that_changes_writes_the_program_again(monkeypatch):
    """x / c with a number c: the partial 1/c is a number folded into the program, checked
    at every run; the same graph with another c (same signature) gets a new program and
    the right numbers."""
    def f_of(c):
        return lambda x: p.sum(p.square(p.true_divide(inputs(x)[0], c)))
    s2 = structure_of(f_of(2.0), X0)
    rowhess.derivatives(s2, BIG)
    s3 = structure_of(f_of(3.0), X0)
    assert rowhess._signature(s3) == rowhess._signature(s2)
    grads, slopes = rowhess.derivatives(s3, BIG)
    assert s3.cache["sweep"] is not s2.cache["sweep"]
    ref = reference(f_of(3.0), X0, monkeypatch)
    assert_13(grads + slopes, ref[0] + ref[1])
    assert_13(rowhess.derivatives(s2, BIG)[0], reference(f_of(2.0), X0, monkeypatch)[0])


def test_a_graph_outside_the_table_is_remembered_as_such(monkeypatch):
    def f(x):
        z, w, _ = inputs(x)
        return p.sum(p.multiply(rs.gammainc(2.0, pos(z)), w))
    s = structure_of(f, X0)
    assert rowhess.derivatives(s, BIG) is None
    assert s.cache["sweep"] is False
    assert rowhess.derivatives(structure_of(f, X0 + 0.1), BIG) is None


# --- review of the sweep program: held-out graphs -------------------------------------

def _small_blocks(monkeypatch):
    monkeypatch.setattr(structure, "_BLOCK_ELEMENTS", 20)
    monkeypatch.setattr(structure, "_MIN_BLOCK", 7)


@pytest.mark.parametrize("table", [True, False])
def test_blocks_of_rows_with_a_zero_dimensional_direct_scalar_and_a_list_constant(
        table, monkeypatch):
    """A direct scalar that scipy gives as a 0-d array (polygamma of a parameter) and a
    per-row constant given as a Python list, with the rows in blocks: the reference path
    (taken when edge pushing declines: a primitive outside the table) and per-row
    Jacobians cut them like arrays (they raised IndexError, resp. a broadcasting error)."""
    weights = list(C)

    def row(x):
        z, w, _ = inputs(x)
        scale = p.polygamma(1, p.exp(x[6]))         # (a 0-d ndarray, not a numpy scalar)
        first = rs.gammainc(2.0, pos(z)) if not table else p.tanh(z)
        return p.add(p.multiply(p.multiply(first, scale), w), p.multiply(weights, z))
    f = total(row)
    expected = dual_hessian(f, X0, monkeypatch)     # (one block)
    _small_blocks(monkeypatch)
    assert_tight(ad.hessian(f)(X0), expected)
    assert_tight(dual_hessian(f, X0, monkeypatch), expected)
    jac = ad.jacobian(row)(X0)
    onp.testing.assert_allclose(jac, numerical_jacobian(row, X0), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("order", [(1, N), (N, 1)])
def test_list_constants_of_other_lengths_have_other_signatures(order, monkeypatch):
    """A list constant is a (1,) or an (N,) array to the rules: a program written for one
    (cut by rows or not) is not the program of the other (it raised a broadcasting error
    on the next recording's blocks)."""
    def f_of(length):
        c = [2.0] if length == 1 else list(C)
        return lambda x: p.sum(p.exp(p.multiply(c, unit(inputs(x)[0]))))
    first, second = (structure_of(f_of(k), X0) for k in order)
    assert rowhess._signature(first) != rowhess._signature(second)
    rowhess.derivatives(first, 7)
    blocked = rowhess.derivatives(second, 7)
    assert_13(blocked[0] + blocked[1], sum(reference(f_of(order[1]), X0, monkeypatch), []))


def test_division_by_a_number_zero_gives_the_reference_numbers(monkeypatch):
    """x / 0.0 with a Python float: the local partial 1/0 is inf as numpy makes it (it raised
    ZeroDivisionError), the per-row derivatives are not finite and the reference decides."""
    def f(x):
        return p.sum(p.true_divide(p.square(inputs(x)[0]), 0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # (numpy's: the function's own)
        s = structure_of(f, X0)
        assert rowhess.derivatives(s, BIG) is None
        expected = dual_hessian(f, X0, monkeypatch)
        onp.testing.assert_array_equal(ad.hessian(f)(X0), expected)


C32 = (C * 1.3).astype(onp.float32)       # float32 data: exact in float64 (C32 + 0.0)
# a constant argument in each rule that does arithmetic on it (first or second order)
FLOAT32_CASES = {
    "true_divide": lambda c, a: p.true_divide(a, c),
    "power, constant exponent": lambda c, a: p.power(pos(a), c),
    "power, constant base": lambda c, a: p.power(c, unit(a)),
    "arctan2": lambda c, a: p.arctan2(c, pos(a)),
    "xlogy, constant y": lambda c, a: p.xlogy(pos(a), c),
    "xlog1py, constant y": lambda c, a: p.xlog1py(pos(a), c),
    "betaln": lambda c, a: rs.betaln(c, pos(a)),
    "gammainc": lambda c, a: rs.gammainc(c, pos(a)),
    "gammaincc": lambda c, a: rs.gammaincc(c, pos(a)),
    "betainc": lambda c, a: rs.betainc(c, 2.0, p.expit(a)),
    "stdtr": lambda c, a: rs.stdtr(c, a),
}


@pytest.mark.parametrize("name", list(FLOAT32_CASES))
@pytest.mark.parametrize("sweep", [True, False])
def test_float32_constants_give_float64_partials(name, sweep, monkeypatch):
    """float32 data as a constant argument: numpy computes the answer in float64, so the
    derivatives must be those of the same data given in float64 (the general rules took
    1 / c, log c, c - 1, Gamma(c) ... in float32: gradients off by 1e-8)."""
    monkeypatch.setattr(rowhess, "ENABLED", sweep)
    op = FLOAT32_CASES[name]

    def f_of(c):
        return lambda x: p.sum(p.tanh(op(c, p.multiply(inputs(x)[0], inputs(x)[1]))))
    f32, f64 = f_of(C32), f_of(C32.astype(float))
    assert f32(X0) == f64(X0)
    assert_tight(ad.grad(f32)(X0), ad.grad(f64)(X0))
    assert_tight(ad.hessian(f32)(X0), ad.hessian(f64)(X0))


def test_a_kept_program_declines_at_points_with_non_finite_rows_and_serves_again(
        monkeypatch):
    """A kept program run at a point where some rows' derivatives are NaN (sqrt of a
    negative number) declines there (the reference path's numbers), and serves again,
    unchanged, at the next point where all are finite."""
    def f(x):
        z, w, _ = inputs(x)
        return p.sum(p.add(p.sqrt(p.add(1.0, z)), p.multiply(C, p.logaddexp(z, w))))
    s = structure_of(f, X0)
    first = rowhess.derivatives(s, 7)
    program = s.cache["sweep"]
    assert_13(first[0] + first[1], sum(reference(f, X0, monkeypatch), []))
    far = X0 * 8.0                  # some rows with 1 + z < 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # (the function's own)
        refresh(s, far)
        assert not onp.isfinite(s.top._value).all()
        assert rowhess.derivatives(s, 7) is None
    refresh(s, X0 * 0.5)
    again = rowhess.derivatives(s, 7)
    assert s.cache["sweep"] is program
    assert_13(again[0] + again[1], sum(reference(f, X0 * 0.5, monkeypatch), []))
