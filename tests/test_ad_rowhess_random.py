"""Held-out row graphs for the sweep program (mleopt.ad.rowhess): random compositions of the
table's primitives with constants of every kind (Python floats 0, +-1, 2 and others, ints,
bools, numpy scalars, 0-d, (1,) and (n,) arrays of float64, float32, int and bool, lists),
on either side of each operation, checked against forward-over-reverse
(rowhess.ENABLED = False) to 1e-12, whole and in blocks of rows (the last one short).

Each graph is recorded twice with other constant values (the same signature): the second
recording runs the program written for the first, from the process-wide table, or writes
it again where a number partial changed; both must give the reference's numbers.
"""
from __future__ import annotations

import warnings

import numpy as onp
import pytest

from mleopt.ad import api, rowhess, structure
from mleopt.ad import primitives as p
from mleopt.ad import rules_special as rs


def _structure(f, x):
    leaves, _, node = api._reverse(f, (onp.asarray(x, float),), {}, (0,))
    return structure.find(node, leaves[0], summed=True)


def _reference(s, block, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(rowhess, "ENABLED", False)
        m.setattr(structure, "_BLOCK_ELEMENTS", block)
        m.setattr(structure, "_MIN_BLOCK", 1)
        return structure._per_row(s, second=True)


def _assert_12(found, expected):
    for a, b in zip(found[0] + found[1], expected[0] + expected[1]):
        a, b = onp.asarray(a, float), onp.asarray(b, float)
        onp.testing.assert_allclose(a, b, rtol=1e-12,
                                    atol=1e-12 * max(1.0, float(onp.max(onp.abs(b)))))


def _values(r, size, positive):
    return r.uniform(0.5, 2.0, size) if positive else r.normal(size=size)


# constant of each kind: (rng, rows, positive) -> value
KINDS = {
    "float": lambda r, n, pos: float(r.choice([0.5, 1.0, 2.0, 3.0] if pos else
                                              [0.0, 1.0, -1.0, 2.0, -0.5, 0.7])),
    "int": lambda r, n, pos: int(r.integers(1, 4)) if pos else int(r.integers(-2, 3)),
    "bool": lambda r, n, pos: True if pos else bool(r.integers(2)),
    "numpy scalar": lambda r, n, pos: onp.float64(_values(r, None, pos)),
    "0-d": lambda r, n, pos: onp.array(_values(r, None, pos)),
    "(1,)": lambda r, n, pos: _values(r, 1, pos),
    "(n,)": lambda r, n, pos: _values(r, n, pos),
    "(n,) float32": lambda r, n, pos: _values(r, n, pos).astype(onp.float32),
    "(n,) int": lambda r, n, pos: r.integers(1, 4, n) if pos else r.integers(-2, 3, n),
    "(n,) bool": lambda r, n, pos: onp.ones(n, bool) if pos else r.random(n) < 0.5,
    "list": lambda r, n, pos: list(_values(r, n, pos)),
    "(1,) list": lambda r, n, pos: [float(_values(r, None, pos))],
}
MASKS = ["bool", "(n,) bool", "(1,) bool"]


def _unit(a):
    return p.tanh(a)


def _pos(a):
    return p.add(0.5, p.exp(p.multiply(0.3, p.tanh(a))))


# (operation of two traced values a, b and a constant c; the constant: None (not used),
# "any", "positive" or "mask")
OPS = [
    (lambda a, b, c: p.multiply(c, a), "any"),
    (lambda a, b, c: p.multiply(a, c), "any"),
    (lambda a, b, c: p.multiply(a, b), None),
    (lambda a, b, c: p.multiply(a, a), None),
    (lambda a, b, c: p.add(a, c), "any"),
    (lambda a, b, c: p.add(c, a), "any"),
    (lambda a, b, c: p.add(a, a), None),
    (lambda a, b, c: p.subtract(a, c), "any"),
    (lambda a, b, c: p.subtract(c, a), "any"),
    (lambda a, b, c: p.subtract(a, b), None),
    (lambda a, b, c: p.subtract(a, a), None),
    (lambda a, b, c: p.negative(a), None),
    (lambda a, b, c: p.true_divide(a, c), "positive"),
    (lambda a, b, c: p.true_divide(c, _pos(a)), "any"),
    (lambda a, b, c: p.true_divide(a, _pos(b)), None),
    (lambda a, b, c: p.power(_pos(a), c), "any"),
    (lambda a, b, c: p.power(c, _unit(a)), "positive"),
    (lambda a, b, c: p.power(_pos(a), _unit(b)), None),
    (lambda a, b, c: p.logaddexp(a, b), None),
    (lambda a, b, c: p.logaddexp(c, a), "any"),
    (lambda a, b, c: p.logaddexp(0.0, a), None),                    # softplus
    (lambda a, b, c: p.logaddexp(p.logaddexp(a, b), p.multiply(a, b)), None),
    (lambda a, b, c: p.logaddexp_weight(a, b, p.logaddexp(a, b)._value), None),
    (lambda a, b, c: p.log_expit(a), None),
    (lambda a, b, c: p.expit(a), None),
    (lambda a, b, c: p.logit(p.expit(_unit(a))), None),
    (lambda a, b, c: p.exp(_unit(a)), None),
    (lambda a, b, c: p.log(_pos(a)), None),
    (lambda a, b, c: p.log1p(p.square(a)), None),
    (lambda a, b, c: p.expm1(_unit(a)), None),
    (lambda a, b, c: p.sqrt(_pos(a)), None),
    (lambda a, b, c: p.absolute(a), None),
    (lambda a, b, c: p.sin(a), None),
    (lambda a, b, c: p.cos(a), None),
    (lambda a, b, c: p.tan(p.multiply(0.5, _unit(a))), None),
    (lambda a, b, c: p.sinh(_unit(a)), None),
    (lambda a, b, c: p.cosh(_unit(a)), None),
    (lambda a, b, c: p.arctan(a), None),
    (lambda a, b, c: p.arcsin(p.multiply(0.9, _unit(a))), None),
    (lambda a, b, c: p.arccos(p.multiply(0.9, _unit(a))), None),
    (lambda a, b, c: p.arcsinh(a), None),
    (lambda a, b, c: p.arctanh(p.multiply(0.9, _unit(a))), None),
    (lambda a, b, c: p.reciprocal(_pos(a)), None),
    (lambda a, b, c: p.gammaln(_pos(a)), None),
    (lambda a, b, c: p.digamma(_pos(a)), None),
    (lambda a, b, c: p.polygamma(1, _pos(a)), None),
    (lambda a, b, c: p.erf(a), None),
    (lambda a, b, c: p.erfc(a), None),
    (lambda a, b, c: p.ndtr(a), None),
    (lambda a, b, c: p.log_ndtr(a), None),
    (lambda a, b, c: rs.inv_mills(a), None),
    (lambda a, b, c: rs.betaln(_pos(a), _pos(b)), None),
    (lambda a, b, c: p.maximum(a, b), None),
    (lambda a, b, c: p.maximum(a, c), "any"),
    (lambda a, b, c: p.minimum(c, a), "any"),
    (lambda a, b, c: p.arctan2(a, _pos(b)), None),
    (lambda a, b, c: p.arctan2(c, _pos(a)), "positive"),
    (lambda a, b, c: p.where(c, a, b), "mask"),
    (lambda a, b, c: p.where(c, a, 0.25), "mask"),
    (lambda a, b, c: p.xlogy(c, _pos(a)), "positive"),
    (lambda a, b, c: p.xlogy(_pos(b), _pos(a)), None),
    (lambda a, b, c: p.xlog1py(c, p.square(a)), "positive"),
]


def _constant(r, kind, need, n):
    if need == "mask":
        mask = MASKS[len(kind) % len(MASKS)]        # (a kind of mask, from the kind drawn)
        return (bool(r.integers(2)) if mask == "bool" else r.random(n) < 0.5
                if mask == "(n,) bool" else r.random(1) < 0.5)
    if need == "positive" and kind == "(n,) bool":
        return onp.ones(n, bool)
    return KINDS[kind](r, n, need == "positive")


def random_graph(seed: int, values: int):
    """(f, x): a row graph drawn from ``seed``, its constants' values from ``values``."""
    r = onp.random.default_rng(seed)
    n = int(r.choice([23, 60]))
    m = int(r.integers(1, 4))
    scalar = bool(r.integers(2))            # the direct scalar as x[-1] () or x[-1:] (1,)
    kinds = list(KINDS)
    picks = [(int(r.integers(len(OPS))), int(r.integers(1 << 20)), int(r.integers(1 << 20)),
              kinds[int(r.integers(len(kinds)))]) for _ in range(int(r.integers(6, 14)))]
    ends = [-1, -2, int(r.integers(1 << 20))]
    rv = onp.random.default_rng(values)
    mats = [rv.normal(size=(n, 2)) for _ in range(m)]
    consts = [_constant(rv, kind, OPS[op][1], n) for op, _, _, kind in picks]

    def f(x):
        pool = [a @ x[2 * j:2 * j + 2] for j, a in enumerate(mats)]
        pool.append(x[-1] if scalar else x[-1:])
        for (op, i, j, _), c in zip(picks, consts):
            pool.append(OPS[op][0](pool[i % len(pool)], pool[j % len(pool)], c))
        row = p.multiply(0.1, pool[0])
        for e in ends:
            row = p.add(row, p.tanh(pool[e % len(pool)]))
        return p.sum(row)
    return f, 0.3 * onp.random.default_rng(seed + 7).normal(size=2 * m + 1)


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_with_constants_of_every_kind(seed, monkeypatch):
    swept = 0
    keys = set()
    for values in (seed, 1000 + seed):
        f, x = random_graph(seed, values)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)     # (the functions' own)
            s = _structure(f, x)
            if s is None:
                continue                # (no index structure: nothing to sweep)
            keys.add(rowhess._signature(s))
            for block in (1 << 30, 7):
                found = rowhess.derivatives(s, block)
                if found is None:
                    continue            # (declined: the reference path runs)
                swept += 1
                _assert_12(found, _reference(s, block if block < s.n else 1 << 30,
                                             monkeypatch))
    assert len(keys) <= 1               # (the two recordings share one program's signature)
    assert swept or not keys
