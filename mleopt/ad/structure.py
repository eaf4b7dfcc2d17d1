"""Linear-index structure, found in a recorded graph and used for fast Hessians and Jacobians.

Most log-likelihoods see the parameters ``x`` through a few *indices* ``eta_j = A_j @ v_j(x)``
(``A_j`` a constant data matrix of shape (N, k_j), ``v_j`` a small function of x) and a few
*direct* scalars ``s_d(x)`` (log sigma, alpha), and are a sum over rows of
``l_i(eta_1i, ..., eta_mi, s_1, ..., s_d)``. With ``w = h(x) = (v_1, ..., v_m, s_1, ..., s_d)``
and ``f(x) = Phi(h(x))``, ``Phi(w) = sum_i l_i``::

    grad f = J' dPhi                        J = dh/dx (P x K, small)
    hess f = J' HPhi J + sum_p dPhi_p hess h_p
    dPhi   = (A_j' g_j, ..., sum_i g_di, ...)
    HPhi   = blocks A_a' diag(W_ab) A_b,  A_a' W_ad,  sum_i W_cd

where ``g`` and ``W`` are the first and second derivatives of ``l_i`` with respect to its few
per-row inputs. Since ``l_i`` depends on row i's inputs only, all of them come from one
forward-over-reverse pass over the recorded rows with one tangent per input, seeded with
ones on every row (Jacobian compression), and the chain rule through the data is a matrix
product at BLAS speed instead of K tangents of length N through every operation.

An index may be a matrix, ``E = A @ V`` with V of shape (k, c) (c indices sharing A, e.g. the
J-1 outcomes of a multinomial logit): each of its c columns is one per-row input. Between
the indices and the output only operations that keep the rows apart are allowed: those that
act entry by entry (``ROWWISE``), and on (N, ...) arrays sums over other axes than the rows,
concatenation along another axis, column selection ``E[:, j]`` and reshapes that keep the
first axis (so a softmax row by row qualifies). ``find`` checks these conditions on the
recorded graph (no other reduction over rows; no indexing, reshaping or product that mixes
rows; constants only as data) and returns None wherever they do not hold: the caller then uses the general forward-over-reverse path. The fast path runs
only at the outermost level (plain inputs, no enclosing trace in the graph), so derivatives
of derivatives go through the general path and stay exact.
"""
from __future__ import annotations

import functools
import math
import mmap
import threading
import weakref
from dataclasses import dataclass, field

import numpy as np

from . import primitives as p
from . import rowhess
from . import rules_special as rs
from .core import (Dual, Primitive, Tensor, Traced, ancestors, apply_jvp, backward_pass,
                   new_level)
from .primitives import _broadcast_number
from .rowhess import rows_of as _rows_of

__all__ = ["ROWWISE", "rowwise", "Structure", "find", "hessian", "jacobian"]

# primitives whose output entry i depends only on entry i of every argument (after
# broadcasting): the operations allowed between the indices and the output
ROWWISE: set = {
    p.negative, p.exp, p.log, p.log1p, p.expm1, p.sqrt, p.absolute, p.sin, p.cos, p.tan,
    p.tanh, p.sinh, p.cosh, p.arctan, p.arcsin, p.arccos, p.arcsinh, p.arctanh, p.square,
    p.reciprocal, p.add, p.subtract, p.multiply, p.true_divide, p.power, p.logaddexp,
    p.logaddexp_weight, p.maximum, p.minimum, p.arctan2, p.where, p.gammaln, p.digamma,
    p.polygamma, p.erf, p.erfc, p.ndtr, p.log_ndtr, p.expit, p.log_expit, p.logit, p.xlogy,
    p.xlog1py, rs.inv_mills, rs.betaln, rs.gammainc, rs.gammaincc, rs.betainc, rs.stdtr,
}


# primitives linear in their traced arguments (jointly); multiply, matmul and einsum only
# with one traced argument, true_divide only in its numerator
_LINEAR: set = {p.getitem, p.reshape, p.transpose, p.negative, p.broadcast_to,
                p.concatenate_args, p.sum, p.untake, p.diag, p.add, p.subtract}
_LINEAR_IN_ONE: set = {p.multiply, p.matmul, p.einsum_args}


def _is_linear(node: Tensor) -> bool:
    prim = node._prim
    if prim in _LINEAR:
        return True
    if prim in _LINEAR_IN_ONE:
        return len(node._argnums) == 1
    return prim is p.true_divide and list(node._argnums) == [0]


def rowwise(prim: Primitive) -> Primitive:
    """Declare ``prim`` elementwise (entry i of the output uses entry i of each argument
    only), so that the structure detection may look through it. Returns ``prim``."""
    ROWWISE.add(prim)
    return prim


# the fast path is used when the rows have fewer inputs than x has entries and there are
# more rows than entries of x (otherwise the general path costs about the same)
_SMALL, _ROW = 0, 1


@dataclass(repr=False)
class Structure:
    """The recorded graph of f split at its indices and direct scalars."""

    leaf: Tensor                # x
    n: int                      # rows
    inputs: list                # per-row inputs: the index nodes, then the direct scalars
    m: int                      # number of index nodes (the first m inputs)
    columns: list               # (input number, column or None, A or None) per per-row input
    rows: list                  # row nodes (not inputs), creation order
    top: Tensor                 # the per-row vector (summed by the output, or the output)
    small: list                 # nodes computed from x alone, creation order (x excluded)
    scale: float = 1.0          # f = scale * (sum over rows) + constant
    linear: bool = False        # the small nodes are linear in x (no curvature term)
    # what depends on the graph only, made at the first use and kept for the next ones
    # (rowhess's sweep program, the layout of dPhi and HPhi): see rowhess.py
    cache: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"<Structure: {self.n} rows, {len(self.columns) - len(self.inputs) + self.m} "
                f"indices, {len(self.inputs) - self.m} direct scalars, "
                f"{len(self.rows)} row nodes>")


def find(end: Tensor, leaf: Tensor, summed: bool) -> Structure | None:
    """The index structure of the graph ending at ``end`` (``summed``: end is the sum over
    rows of a per-row vector; otherwise end is that vector), or None where it is not there.

    Every field of the Structure comes from the graph's shape (nodes, parents, shapes), its
    primitives and its constants (data matrices A, the constant factors of ``scale``,
    options), never from the values of traced nodes: a graph refreshed at another point
    (mleopt.ad.replay) has the same Structure."""
    if not isinstance(leaf._value, np.ndarray) or leaf._value.ndim != 1:
        return None
    outer, scale = set(), 1.0
    if summed:
        total = end
        while total._prim is not p.sum:     # -sum, sum / N (a mean), c * sum + d, ...
            factor = _affine_factor(total)
            if factor is None:
                return None
            outer.add(total._seq)
            scale *= factor
            total = total._parents[0]
        if total.size != 1 or not _over_rows(total):
            return None
        outer.add(total._seq)
        top = total._parents[0]
    else:
        top = end
    if len(top.shape) != 1:
        return None
    n = top.shape[0]
    kind = {}
    indices, directs, rows, small = [], {}, [], []
    for node in ancestors(end):
        if _holds_outer_trace(node):
            return None             # inside another trace: the general path is exact there
        if node._prim is None:
            if node is not leaf:
                return None
            kind[node._seq] = _SMALL
            continue
        if node._seq in outer:
            continue
        parent_kinds = [kind[q._seq] for q in node._parents]
        if _ROW in parent_kinds or (node._prim in ROWWISE and node.shape == (n,) and
                                    all(q.size == 1 for q in node._parents)):
            if not _keeps_rows(node, n):
                return None         # rows reduced, reshaped, indexed or multiplied
            for q, k in zip(node._parents, parent_kinds):
                if k == _SMALL:
                    if q.size != 1:
                        return None     # a vector of x reaches the rows other than by A @ v
                    directs[q._seq] = q
            kind[node._seq] = _ROW
            rows.append(node)
        elif _is_index(node, n):
            kind[node._seq] = _ROW
            indices.append(node)
        else:
            kind[node._seq] = _SMALL
            small.append(node)
    if kind.get(top._seq) != _ROW:
        return None
    inputs = indices + [directs[s] for s in sorted(directs)]
    columns = [(a, c, u._args[0]) for a, u in enumerate(indices)
               for c in ([None] if len(u.shape) == 1 else range(u.shape[1]))]
    columns += [(a, None, None) for a in range(len(indices), len(inputs))]
    k = leaf._value.size
    if len(columns) >= k or n <= k:
        return None                 # nothing to gain over the general path
    linear = all(_is_linear(node) for node in small)
    return Structure(leaf, n, inputs, len(indices), columns, rows, top, small, scale, linear)


def _keeps_rows(node: Tensor, n: int) -> bool:
    """Does row i of ``node`` (shape (n, ...)) depend on row i of its traced arguments only,
    with every array argument either sliced by rows alike or the same for every row?"""
    shape, prim, args = node.shape, node._prim, node._args
    if node._kwargs and any(np.size(v) > 1 for v in node._kwargs.values()):
        return False                # (options are not sliced by rows)
    if prim in ROWWISE and shape == (n,):
        return True                 # the common case: entry by entry on per-row vectors
    if not shape or shape[0] != n:
        return False
    if any(not q.shape or q.shape[0] != n for q in node._parents if q.size != 1):
        return False                # a traced argument broadcast across the rows
    if prim in ROWWISE or prim is p.concatenate_args:
        if any(len(q.shape) != len(shape) for q in node._parents if q.size != 1):
            return False            # (its rows would be broadcast along another axis)
        if prim in ROWWISE:
            return True
    if prim is p.sum:
        axis = node._kwargs.get("axis")
        ndim = len(node._parents[0].shape)
        return axis is not None and 0 not in {a % ndim for a in np.atleast_1d(axis)}
    if prim is p.reshape:
        return node._kwargs.get("order", "C") == "C" and len(args) == 2
    if prim is p.concatenate_args:
        others = [a for i, a in enumerate(args[1:], 1) if i not in node._argnums]
        return (args[0] is not None and args[0] % len(shape) != 0 and
                all(np.ndim(a) == len(shape) and np.shape(a)[0] == n for a in others))
    if prim is p.getitem:
        index = args[1]
        return (isinstance(index, tuple) and len(index) >= 2 and index[0] == slice(None)
                and all(isinstance(i, (int, np.integer, slice)) for i in index[1:]))
    return False


def _affine_factor(node: Tensor) -> float | None:
    """``c`` when the single-number ``node`` is ``c * parent + d`` with constants c, d (its
    one traced argument the parent), else None."""
    if node.size != 1 or len(node._argnums) != 1:
        return None
    prim, (i,), args = node._prim, node._argnums, node._args
    other = args[1 - i] if len(args) == 2 else None
    if other is not None and np.size(other) != 1:
        return None
    if prim is p.negative:
        return -1.0
    if prim is p.add:
        return 1.0
    if prim is p.subtract:
        return 1.0 if i == 0 else -1.0
    if prim is p.multiply:
        return float(np.reshape(other, ()))
    if prim is p.true_divide and i == 0:
        return 1.0 / float(np.reshape(other, ()))
    return None


def _over_rows(end: Tensor) -> bool:
    """Is ``end`` the sum of all entries of a 1-D vector?"""
    (parent,) = end._parents
    axis = end._kwargs.get("axis")
    return len(parent.shape) == 1 and axis in (None, 0, -1, (0,), (-1,))


def _holds_outer_trace(node: Tensor) -> bool:
    if isinstance(node._value, Traced):
        return True
    for a in node._args:
        if isinstance(a, Traced):
            return True
    if node._kwargs:
        for v in node._kwargs.values():
            if isinstance(v, Traced):
                return True
    return False


def _is_index(node: Tensor, n: int) -> bool:
    """``A @ v`` with A a constant (n, k) array and v a traced vector."""
    if node._prim is not p.matmul or list(node._argnums) != [1] or node._kwargs:
        return False
    a, v = node._args
    return (isinstance(a, np.ndarray) and a.ndim == 2 and a.shape[0] == n
            and np.ndim(v) in (1, 2) and a.dtype.kind in "biuf")


# =======================================================================================
# the derivatives
# =======================================================================================

def hessian(end: Tensor, leaf: Tensor, with_grad: bool = False, s: Structure | None = None):
    """The Hessian of the recorded scalar ``end`` in ``leaf`` (``with_grad``: the pair
    (gradient, Hessian), both from the same per-row derivatives), or None (no structure).
    ``s``: the structure already found on this graph (kept by a replay, mleopt.ad.replay,
    with what it plans on ``s.cache``: J of a linear map among them)."""
    if s is None:
        s = find(end, leaf, summed=True)
        if s is None:
            return None
    grads, slopes = _per_row(s, second=True)
    d_phi, h_phi = _outer_derivatives(s, grads, slopes)
    jac, curvature = _inner_derivatives(s, d_phi)
    h = jac.T @ h_phi @ jac
    if curvature is not None:
        h += curvature
    if s.scale != 1.0:
        h *= s.scale
    return (s.scale * (jac.T @ d_phi), h) if with_grad else h


def jacobian(end: Tensor, leaf: Tensor) -> np.ndarray | None:
    """The N x K Jacobian of the recorded per-row vector ``end`` in ``leaf``, or None."""
    s = find(end, leaf, summed=False)
    if s is None:
        return None
    per_row = _per_row(s, second=False)     # (P inputs, N): d l_i / d u_ai
    jac, _ = _inner_derivatives(s, None)
    result = np.zeros((s.n, leaf._value.size))
    offset = 0
    for j, (_, _, a_mat) in enumerate(s.columns):
        if a_mat is not None:
            k = a_mat.shape[1]
            _add_product(result, a_mat * per_row[j][:, None], jac[offset:offset + k])
        else:
            k = 1
            _add_product(result, per_row[j][:, None], jac[offset:offset + 1])
        offset += k
    return result


_BLOCK_ELEMENTS = 32768 # rows x inputs per block of rows: a block's tangents stay in cache
_MIN_BLOCK = 256


def _per_row(s: Structure, second: bool):
    """Derivatives of l_i in its per-row inputs, block by block of rows (rows are
    independent, and the tangents of a few thousand rows stay in the CPU cache).

    ``second``: (grads, slopes) with grads[a] = d l_i / du_a (per row for an index column,
    summed over rows for a direct scalar) and slopes[a][b] = d2 l_i / du_a du_b (the same),
    by edge pushing when every row node is a primitive of its table (rowhess.py), else by
    forward-over-reverse; otherwise the (P, N) first derivatives, by forward mode.
    """
    p, n = len(s.columns), s.n
    block = max(_MIN_BLOCK, _BLOCK_ELEMENTS // p)
    if second:
        found = rowhess.derivatives(s, block)
        if found is not None:
            return found
        grads = [np.empty(n) if a_mat is not None else 0.0 for _, _, a_mat in s.columns]
        slopes = [np.empty((p, n)) if a_mat is not None else np.zeros(p)
                  for _, _, a_mat in s.columns]
    else:
        per_row = np.empty((p, n))
    for begin in range(0, n, block):
        rows = slice(begin, min(begin + block, n))
        part = rows if block < n else None      # (one block: the recorded arrays as they are)
        level = new_level()
        seeds = _seeds(s, part, level)
        lifted = _lift(s, part, seeds, level)
        if not second:
            top = seeds[s.top._seq] if s.top._seq in seeds else lifted[s.top._seq][0]
            per_row[:, rows] = top.tangent
            continue
        # (a broadcast 1, as the cotangent of a sum is: the rules skip multiplying by it)
        cot = backward_pass(s.top, _broadcast_number(1.0, (rows.stop - rows.start,)),
                            lifted=lifted)
        for j, (a, col, a_mat) in enumerate(s.columns):
            u = s.inputs[a]
            c = cot[u]
            value, tangent = _value(c), _tangent(c, p)
            if col is not None:         # one column of a matrix index
                full = (rows.stop - rows.start,) + u.shape[1:]
                value = np.broadcast_to(value, full)[:, col]
                tangent = np.broadcast_to(tangent, (p,) + full)[:, :, col]
            if a_mat is not None:
                grads[j][rows] = value
                slopes[j][:, rows] = tangent
            else:
                grads[j] += np.sum(value)
                slopes[j] += np.reshape(tangent, (p, -1)).sum(axis=1)
    return (grads, slopes) if second else per_row


def _seeds(s: Structure, rows: slice, level: int) -> dict:
    """One tangent per per-row input: ones on every row of that input (its column of a
    matrix index), zeros elsewhere."""
    seeds, shapes = {}, {}
    p = len(s.columns)
    for j, (a, col, _) in enumerate(s.columns):
        u = s.inputs[a]
        if u._seq not in seeds:
            value = _rows_of(u._value, rows, s.n, len(u.shape))
            seeds[u._seq] = np.zeros((p,) + np.shape(value))
            shapes[u._seq] = value
        t = seeds[u._seq]
        if col is None:
            t[j] = 1.0
        else:
            t[j, :, col] = 1.0
    return {seq: Dual(shapes[seq], t, level) for seq, t in seeds.items()}


def _lift(s: Structure | None, rows: slice | None, seeds: dict, level: int,
          nodes: list | None = None) -> dict:
    """Forward-mode copies of recorded nodes (the row nodes of ``s`` on a block of ``rows``,
    or ``nodes``), seq -> (Dual, arguments): the recorded values are reused (nothing is
    evaluated again) and tangents are computed when first needed."""
    if nodes is None:
        nodes, n = s.rows, s.n
    lifted = {seq: (dual, None) for seq, dual in seeds.items()}
    for node in nodes:
        if node._seq in seeds:
            continue
        if rows is None:
            vals, ans = node._args, node._value
        else:
            ndim = len(node.shape)
            vals = [_rows_of(x, rows, n, ndim) for x in node._args]
            ans = node._value[rows]
            if node._prim is p.reshape:             # the new shape, with the block's rows
                vals[1] = ans.shape
        args = list(vals)
        for i, parent in zip(node._argnums, node._parents):
            args[i] = lifted[parent._seq][0]
        dual = Dual._record(node._prim, ans, args, vals, node._argnums, node._kwargs, level)
        lifted[node._seq] = (dual, args)
    for seq in seeds:
        del lifted[seq]     # inputs: the reverse pass stops there
    return lifted


def _value(c):
    return c._value if isinstance(c, Dual) else c


def _tangent(c, batch: int):
    """The (batch,) + shape tangent of a cotangent (zeros if it does not depend on the
    inputs)."""
    if isinstance(c, Dual):
        return c.tangent
    return np.zeros((batch,) + np.shape(c))


def _outer_derivatives(s: Structure, grads: list, slopes: list):
    """dPhi (P,) and HPhi (P x P) in w = (v_1, ..., v_m, s_1, ..., s_d) (a matrix v_a
    column by column). Index columns that share their data matrix A (a multinomial
    logit's J-1 outcomes on one X) take their parts of dPhi and HPhi together (see
    ``_outer_plan``); the others one block at a time."""
    plan = _outer_plan(s)
    mats = [a_mat for _, _, a_mat in s.columns]
    d_phi = np.empty(plan.size)
    h_phi = np.empty((plan.size, plan.size))
    for cols, entries in plan.grouped:
        g = np.array([grads[a] for a in cols]) @ mats[cols[0]]     # row a: A' g_a
        d_phi[entries] = g.ravel()
    for a, b, picks, gather, upper, lower in plan.products:
        w = np.concatenate([slopes[c][pick] for c, pick in picks])     # W_ab, pair by pair
        part = (w @ _row_products(mats[a], mats[b])).ravel()[gather]
        h_phi[upper] = part
        if lower is not None:
            h_phi[lower] = part.T
    for a, sa in plan.alone:
        d_phi[sa] = mats[a].T @ grads[a] if mats[a] is not None else np.sum(grads[a])
    for a, b, sa, sb in plan.blocks:
        w = slopes[a][b]            # d2 l_i / du_a du_b (per row, or summed if a direct)
        if mats[b] is not None:
            block = _weighted_cross(mats[a], w, mats[b])
        elif mats[a] is not None:
            block = (mats[a].T @ w)[:, None]
        else:
            block = np.sum(w)
        h_phi[sa, sb] = block
        if b != a:
            h_phi[sb, sa] = np.transpose(block)
    return d_phi, h_phi


@dataclass
class _OuterPlan:
    """Where the parts of dPhi and HPhi go (``_outer_plan``)."""

    size: int                   # entries of w
    grouped: list               # (columns sharing A, their entries of w): dPhi by one product
    products: list              # (a, b, picks, gather, upper, lower): HPhi blocks by W @ Z
    alone: list                 # (column, entries of w): dPhi one column at a time
    blocks: list                # (a, b, entries of a, entries of b): HPhi one block at a time


_PLANS: dict = {}       # layout of the columns -> _OuterPlan (a few kept)
_PLANS_KEPT = 64


def _outer_plan(s: Structure) -> _OuterPlan:
    """The layout of dPhi and HPhi for the columns of s: it depends only on which columns
    share a data matrix, the matrices' shapes and the limits below (kept on s, and for
    the next recordings under that layout).

    Columns a in C sharing A: ``A' [g_a]`` is one product. Blocks ``A' diag(W_ab) B`` of a
    group of pairs (all pairs in C, A' diag(W_ab) A, symmetric; or every a in C_A with
    every b in C_B after it) come from one product ``W (pairs x N) @ Z (N x cols)`` with Z
    the row products of A and B (``_row_products``: made once, kept while the data stay
    the same) and are gathered into place with one index. Used where it measured faster
    (benchmarks/README.md): at least ``_MIN_PAIRS`` pairs on one Z (making Z, with the
    first touch of its memory, costs about four of the products it replaces; with fewer
    pairs a Newton fit barely gains it back) and Z within ``_PRODUCT_BYTES``; other blocks
    go one by one through ``_weighted_cross``."""
    limits = (_MIN_PAIRS, _PRODUCT_BYTES)
    kept = s.cache.get("outer")
    if kept is not None and kept[0] == limits:
        return kept[1]
    labels: dict = {}
    layout = tuple(None if a_mat is None else (labels.setdefault(id(a_mat), len(labels)),
                                               a_mat.shape) for _, _, a_mat in s.columns)
    key = (limits, layout)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _make_outer_plan(layout)
        rowhess.keep_bounded(_PLANS, key, plan, _PLANS_KEPT)
    s.cache["outer"] = (limits, plan)
    return plan


def _make_outer_plan(layout: tuple) -> _OuterPlan:
    """The plan for ``layout`` (per column: None for a direct scalar, else (label of its
    data matrix, its shape)); see ``_outer_plan``."""
    p = len(layout)
    starts = [0]
    for m in layout:
        starts.append(starts[-1] + (m[1][1] if m is not None else 1))
    sharing: dict = {}
    for a, m in enumerate(layout):
        if m is not None:
            sharing.setdefault(m[0], []).append(a)
    groups = list(sharing.values())
    shared = {a for g in groups if len(g) > 1 for a in g}
    grouped = [(cols, _entries(starts, cols)) for cols in groups if len(cols) > 1]
    products, done = [], set()
    for i, ca in enumerate(groups if shared else []):
        for cb in groups[i:]:
            same = ca is cb
            if not same and ca[-1] > cb[0]:
                continue                # interleaved columns: block by block
            n_pairs = len(ca) * (len(ca) + 1) // 2 if same else len(ca) * len(cb)
            (n, ka), kb = layout[ca[0]][1], layout[cb[0]][1][1]
            n_cols = ka * (ka + 1) // 2 if same else ka * kb
            if n_pairs < _MIN_PAIRS or n * n_cols * 8 > _PRODUCT_BYTES:
                continue
            picks = [(a, _columns(ca[j:] if same else cb)) for j, a in enumerate(ca)]
            ra, rb = _entries(starts, ca), _entries(starts, cb)
            products.append((ca[0], cb[0], picks, _gather(len(ca), len(cb), ka, kb, same),
                             _target(starts[-1], ra, rb),
                             None if same else _target(starts[-1], rb, ra)))
            done.update((a, b) for j, a in enumerate(ca) for b in (ca[j:] if same else cb))
    alone = [(a, slice(starts[a], starts[a + 1])) for a in range(p) if a not in shared]
    blocks = [(a, b, slice(starts[a], starts[a + 1]), slice(starts[b], starts[b + 1]))
              for a in range(p) for b in range(a, p) if (a, b) not in done]
    return _OuterPlan(starts[-1], grouped, products, alone, blocks)


def _columns(cols: list):
    """A selection of consecutive per-row inputs as a slice (a view), others as a list."""
    if cols[-1] - cols[0] + 1 == len(cols):
        return slice(cols[0], cols[-1] + 1)
    return cols


def _entries(starts: list, cols: list):
    """The entries of w (rows of HPhi) of the per-row inputs ``cols``."""
    if cols[-1] - cols[0] + 1 == len(cols):
        return slice(starts[cols[0]], starts[cols[-1] + 1])
    return np.concatenate([np.arange(starts[a], starts[a + 1]) for a in cols])


def _target(size: int, ra, rb):
    """The index of ``h[ra, rb]`` in a size x size matrix for rows and columns given as
    slices or index arrays (a block written with one assignment)."""
    if isinstance(ra, slice) and isinstance(rb, slice):
        return ra, rb
    return np.ix_(np.arange(size)[ra], np.arange(size)[rb])


@functools.lru_cache(maxsize=64)
def _gather(pa: int, pb: int, ka: int, kb: int, same: bool) -> np.ndarray:
    """Where entry (i k_a + r, j k_b + c) of the blocks of ``pa`` x ``pb`` inputs (k_a and
    k_b entries each) is in the flattened ``W @ Z``: row = the pair (i, j), column = the
    row product (r, c) of Z (``same``: pairs i <= j and products r <= c, both in the
    order of the upper triangle, a block (i, j) with i > j being the transpose of (j, i),
    itself symmetric)."""
    if same:
        pair = _triangle(pa)
        product = _triangle(ka)
    else:
        pair = np.arange(pa * pb).reshape(pa, pb)
        product = np.arange(ka * kb).reshape(ka, kb)
    n_cols = product.max() + 1
    index = (pair[:, None, :, None] * n_cols + product[None, :, None, :]).reshape(pa * ka, -1)
    index.flags.writeable = False       # (shared by every call: lru_cache)
    return index


def _triangle(k: int) -> np.ndarray:
    """k x k: the number of (min(r, c), max(r, c)) among the pairs r <= c, row by row."""
    number = np.zeros((k, k), dtype=np.intp)
    number[np.triu_indices(k)] = np.arange(k * (k + 1) // 2)
    return np.where(np.arange(k)[:, None] <= np.arange(k), number, number.T)


_PRODUCT_BYTES = 8 << 20    # the largest row-product matrix Z made and kept (8 MB)
_MIN_PAIRS = 10             # blocks sharing one Z for the one-product route
_PRODUCTS_KEPT = 4, 32 << 20    # at most so many kept, of at most so many bytes in all
_products: dict = {}        # key of (A, B) -> (copy of A, copy of B, Z, finalizers)
_products_lock = threading.Lock()


def _data_key(x: np.ndarray) -> tuple:
    """Where x's numbers are in memory (a view made anew on each call of a function finds
    its Z again); never trusted alone: see ``_row_products``."""
    return x.__array_interface__["data"][0], x.shape, x.strides, x.dtype.str


def _owner(x: np.ndarray) -> np.ndarray:
    """The array that holds the memory of the view ``x`` (x itself if it owns it)."""
    while isinstance(x.base, np.ndarray):
        x = x.base
    return x


def _row_products(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``Z`` with row i the products ``a_ir b_ic`` of row i of A and B (r <= c when A is
    B: k(k+1)/2 columns, in the order of the upper triangle), so that ``w @ Z`` holds
    ``A' diag(w) B`` (its upper triangle when A is B).

    Z depends on the data only and is kept across calls (a Newton fit asks for the same
    blocks at every iteration), while the arrays holding A and B live (a few at a time).
    It is reused only while A and B hold the numbers they held when Z was made: each call
    compares them with private copies (O(N k) against the O(N k^2) of Z), so a data array
    changed in place, or another array at the same address, makes Z anew."""
    key = (_data_key(a), None if b is a else _data_key(b))
    entry = _products.get(key)
    # (the key holds the shapes: one comparison pass over the numbers, no other checks)
    if entry is not None and (a == entry[0]).all() and (b is a or (b == entry[1]).all()):
        return entry[2]
    a_copy = _kept(a.shape)
    a_copy[...] = a
    b_copy = None
    if b is not a:
        b_copy = _kept(b.shape)
        b_copy[...] = b
    n, ka = a_copy.shape
    if b is a:
        z = _kept((n, ka * (ka + 1) // 2))
        c = 0
        for r in range(ka):         # products (r, r), (r, r + 1), ..., (r, k - 1)
            np.multiply(a_copy[:, r:r + 1], a_copy[:, r:], out=z[:, c:c + ka - r])
            c += ka - r
    else:
        z = _kept((n, ka * b_copy.shape[1]))
        np.multiply(a_copy[:, :, None], b_copy[:, None, :], out=z.reshape(n, ka, -1))
    owners = {id(o): o for o in (_owner(a), _owner(b))}.values()
    # (when the data go, so does Z: dict.pop is atomic, no lock needed in the callback)
    entry = (a_copy, b_copy, z, [weakref.finalize(o, _products.pop, key, None) for o in owners])
    with _products_lock:
        _forget(_products.pop(key, None))
        _products[key] = entry
        kept, budget = _PRODUCTS_KEPT
        while _products and (len(_products) > kept or sum(
                x.nbytes for e in list(_products.values()) for x in e[:3] if x is not None)
                > budget):
            _forget(_products.pop(next(iter(list(_products))), None))     # the oldest first
    return z


def _kept(shape: tuple) -> np.ndarray:
    """An uninitialised float64 array for the cache, in its own anonymous memory map
    (released with the array). Kept in the malloc heap, among the short-lived arrays of
    each evaluation, they made the heap shrink and grow again around them: hundreds of
    page faults per fit of a user's softmax (measured: benchmarks/README.md). Its pages are
    made at once (MAP_POPULATE, where the system has it): a copy of 8 MB into them took 7 ms
    instead of 13 ms faulting page by page."""
    size = math.prod(shape)
    memory = mmap.mmap(-1, max(size, 1) * 8, **_MAP_FLAGS)
    return np.frombuffer(memory, dtype=np.float64, count=size).reshape(shape)


_MAP_FLAGS = ({"flags": mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | getattr(mmap, "MAP_POPULATE", 0)}
              if hasattr(mmap, "MAP_ANONYMOUS") else {})        # (Windows: no flags)


def _forget(entry: tuple | None) -> None:
    if entry is not None:
        for finalizer in entry[3]:
            finalizer.detach()


class DataCopy:
    """Private copies of named arrays (float64 data in memory maps of their own, as
    ``_kept``): the guard of a result made from data and kept across calls (Z here; a
    model's kept Hessian). ``holds(arrays)`` at each reuse tells whether the arrays still
    hold those numbers (NaN where there was NaN): O(size)."""

    __slots__ = ("_copies",)

    def __init__(self, arrays: dict):
        self._copies = {k: _copy(np.asarray(v)) for k, v in arrays.items()}

    def holds(self, arrays: dict) -> bool:
        copies = self._copies
        return arrays.keys() == copies.keys() and all(
            _same(np.asarray(v), copies[k]) for k, v in arrays.items())


def _same(x: np.ndarray, copy: np.ndarray) -> bool:
    """x holds the numbers of copy (NaN where it has NaN), compared by blocks of rows:
    ``np.array_equal(..., equal_nan=True)`` on the whole array makes two masked copies of
    it (twice the data's size in temporaries at each reuse)."""
    if x.shape != copy.shape:
        return False
    nan = x.dtype.kind in "fc" and copy.dtype.kind in "fc"
    if x.ndim == 0:
        return bool(np.array_equal(x, copy, equal_nan=nan))
    rows = max(1, _SAME_ELEMENTS // max(math.prod(x.shape[1:]), 1))
    return all(np.array_equal(x[i:i + rows], copy[i:i + rows], equal_nan=nan)
               for i in range(0, x.shape[0], rows))


_SAME_ELEMENTS = 1 << 18    # entries compared at once (2 MB of float64)


def _copy(x: np.ndarray) -> np.ndarray:
    if x.dtype != np.float64:
        return np.array(x, copy=True)
    out = _kept(x.shape)
    out[...] = x
    return out


def _weighted_cross(a: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``A' diag(w) B``, by blocks of rows (the weighted copy stays small: no N x k
    temporary); for A is B and w of one sign, as +-Z'Z with Z = A sqrt|w| (a symmetric
    product: half the work)."""
    n = a.shape[0]
    step = max(_MIN_BLOCK, _CROSS_ELEMENTS // max(a.shape[1], b.shape[1]))
    if n <= step and a.size < 65536:
        return a.T @ (b * w[:, None])       # small: one product, no sign test
    sign = 0
    if a is b:
        sign = -1 if (w <= 0).all() else (1 if (w >= 0).all() else 0)
    out = np.zeros((a.shape[1], b.shape[1]))
    for begin in range(0, n, step):
        rows = slice(begin, min(begin + step, n))
        if sign:
            z = a[rows] * np.sqrt(sign * w[rows])[:, None]
            out += z.T @ z
        else:
            out += a[rows].T @ (b[rows] * w[rows, None])
    return out * sign if sign else out


_CROSS_ELEMENTS = 1 << 20   # entries of the weighted copy of one block of rows (8 MB)


@dataclass(repr=False)
class _InnerPlan:
    """The graph-static part of J = dh/dx. Every small node is linear in x and in the
    outputs e of the nonlinear primitives among the small nodes: one forward pass with
    the K + E unit directions through the linear primitives (whose tangent rules read
    constants only) gives its coefficients, the same at every point. An end whose
    coefficients on e are all zero is *straight*: its J rows are those coefficients on x
    and its Hessian is zero. The others (*curved*) are lifted at each evaluation, over
    their ancestors only, with the unit directions of the *active* entries of x only
    (those the curved ends depend on; often one: alpha = exp(x[k]))::

        J_v[:, active] = dv/dx_active,   sum_v c_v' hess v = T on active x active."""

    jac: np.ndarray         # P x K, read-only: the rows of the straight ends; zeros elsewhere
    curved: list            # (end, its rows of J) for the ends that are not straight
    nodes: list             # the small nodes the curved ends depend on, creation order
    active: np.ndarray      # the entries of x the curved ends depend on (indices)


def _inner_plan(s: Structure) -> _InnerPlan:
    """The plan of ``_inner_derivatives`` for ``s``, made at its first use and kept on
    ``s.cache`` (the nodes, primitives and constants of the graph only: a replay keeps it)."""
    plan = s.cache.get("inner")
    if plan is not None:
        return plan
    leaf = s.leaf
    k = leaf._value.size
    e = sum(v.size for v in s.small if not _is_linear(v))
    if (k + e) * sum(v.size for v in s.small) > _COEF_ENTRIES:
        e = 0       # e not followed: every node an output of e reaches is curved
    seed = np.zeros((k + e, k))
    seed[:k] = np.eye(k)
    coef = {leaf._seq: seed}    # (K + E,) + shape: the coefficients on x and e
    reach = {leaf._seq: np.eye(k, dtype=bool)}  # K x entries: the entries of x it reads
    reach_e = np.zeros((k, e))  # (the same for each entry of e, as 0/1)
    curved_nodes = set()        # the small nodes that depend on e

    def reach_of(q: Tensor) -> np.ndarray:      # (made when asked: a few nodes need it)
        r = reach.get(q._seq)
        if r is None:
            nonzero = np.reshape(coef[q._seq] != 0, (k + e, -1))
            r = reach[q._seq] = nonzero[:k] | (reach_e @ nonzero[k:] > 0)
        return r

    offset = 0
    for node in s.small:
        if _is_linear(node):
            full = [None] * len(node._args)
            for i, q in zip(node._argnums, node._parents):
                full[i] = coef[q._seq]
            t = apply_jvp(node._prim, full, node._argnums, node._value, node._args,
                          node._kwargs)
            if t.shape != (k + e,) + node.shape:
                t = np.broadcast_to(t, (k + e,) + node.shape)
            coef[node._seq] = t
            if e and t[k:].any():
                curved_nodes.add(node._seq)
            elif not e and any(q._seq in curved_nodes for q in node._parents):
                curved_nodes.add(node._seq)     # (e not followed: all it may reach)
                reach[node._seq] = reach_of(node) | np.any(
                    [reach_of(q).any(axis=1) for q in node._parents], axis=0)[:, None]
        else:
            size = node.size
            r = np.repeat(np.any([reach_of(q).any(axis=1) for q in node._parents],
                                 axis=0)[:, None], size, axis=1)
            t = np.zeros((k + e, size))
            if e:
                t[k + offset:k + offset + size] = np.eye(size)
                reach_e[:, offset:offset + size] = r
                offset += size
            coef[node._seq] = np.reshape(t, (k + e,) + node.shape)
            reach[node._seq] = r
            curved_nodes.add(node._seq)
    blocks, curved, ends, at = [], [], [], 0
    for v in _ends(s):
        if v._seq not in curved_nodes:
            blocks.append(_as_columns(coef[v._seq][:k], v, k))
        else:
            blocks.append(np.zeros((k, v.size)))
            curved.append((v, slice(at, at + v.size)))
            ends.append(v)
        at += v.size
    jac = (np.concatenate(blocks, axis=1) if len(blocks) > 1 else blocks[0]).T
    jac.flags.writeable = False
    needed = {v._seq for end in ends for v in ancestors(end)}
    nodes = [v for v in s.small if v._seq in needed]
    active = np.flatnonzero(np.any([reach_of(v).any(axis=1) for v in ends], axis=0)
                            if ends else np.zeros(k, dtype=bool))
    plan = _InnerPlan(jac, curved, nodes, active)
    s.cache["inner"] = plan
    return plan


_COEF_ENTRIES = 1 << 22     # (K + E) x (entries of the small nodes) at most followed (32 MB)


def _ends(s: Structure) -> list:
    """The nodes of h, one per per-row input: v_a of each index A_a @ v_a, then the direct
    scalars."""
    return [u._parents[0] if a < s.m else u for a, u in enumerate(s.inputs)]


def _as_columns(t: np.ndarray, v: Tensor, k: int) -> np.ndarray:
    """The (k,) + v.shape tangent of ``v`` as its block of J' (k, entries of v), a matrix
    index's V (k_a, c) column by column."""
    if len(v.shape) == 2:
        t = np.transpose(np.reshape(t, (k,) + v.shape), (0, 2, 1))
    return np.reshape(t, (k, -1))


def _inner_derivatives(s: Structure, d_phi: np.ndarray | None):
    """``J = dh/dx`` (P x K) and, given dPhi, ``sum_p dPhi_p hess h_p`` (K x K; None when
    the small nodes, those computed from x alone, are linear in x or dPhi is not given).
    The rows of J of the straight ends (linear in x) are kept (``_inner_plan``); those of
    the curved ends come from one forward pass over their ancestors with one tangent per
    entry of x they read, the curvature term from one reverse pass over them all
    (forward-over-reverse)."""
    plan = _inner_plan(s)
    if not plan.curved:
        return plan.jac, None
    leaf, active = s.leaf, plan.active
    size = active.size
    if not size:                # (curved ends that read no entry of x: constants)
        return plan.jac, None
    level = new_level()
    seed = np.zeros((size, leaf._value.size))
    seed[np.arange(size), active] = 1.0
    seeds = {leaf._seq: Dual(leaf._value, seed, level)}
    lifted = _lift(None, None, seeds, level, nodes=plan.nodes)
    jac = plan.jac.copy()
    for v, part in plan.curved:
        block = jac[part]       # (a view)
        block[:, active] = _as_columns(lifted[v._seq][0].tangent, v, size).T
    if d_phi is None:
        return jac, None
    outputs = []                # (end, its part of dPhi): one reverse pass for them all
    for v, part in plan.curved:
        c = d_phi[part]
        c = np.reshape(c, v.shape[::-1]).T if len(v.shape) == 2 else np.reshape(c, v.shape)
        outputs.append((v, c))
    cot = backward_pass(*outputs[0], lifted=lifted, more=tuple(outputs[1:])).get(leaf)
    t = np.zeros((size, size))
    if cot is not None:
        t = np.reshape(_tangent(cot, size), (size, -1))[:, active]
    curvature = np.zeros((leaf._value.size,) * 2)
    curvature[np.ix_(active, active)] = t
    return jac, curvature


def _add_product(out: np.ndarray, left: np.ndarray, right: np.ndarray) -> None:
    """``out += left @ right``; when ``right`` only selects and scales (every row one
    non-zero, in distinct columns: v is a slice of x, the common case) the columns of
    ``left`` are added in place instead of a matrix product."""
    nonzero = right != 0
    counts = nonzero.sum(axis=1)
    rows = np.flatnonzero(counts)
    cols = np.argmax(nonzero, axis=1)[rows]
    if np.any(counts > 1) or np.unique(cols).size != cols.size:
        out += left @ right
        return
    scale = right[rows, cols]
    part = left if rows.size == left.shape[1] else left[:, rows]
    if np.any(scale != 1.0):
        part = part * scale
    if cols.size and np.array_equal(cols, np.arange(cols[0], cols[0] + cols.size)):
        out[:, cols[0]:cols[0] + cols.size] += part
    else:
        out[:, cols] += part
