"""Per-row gradients and Hessians by edge pushing, for rows made of elementwise primitives.

A log-likelihood with linear-index structure (structure.py) is ``sum_i l_i(u_i)``, ``u_i`` the
few per-row inputs of row i. When every recorded row node is an elementwise primitive of the
table below (value of shape (n,); arguments per-row vectors, numbers or constants),
``g = dl_i/du`` and ``W = d2 l_i/du du'`` come from one reverse sweep over the recorded nodes
(edge pushing, Gower & Mello 2012) that reuses the recorded values (nothing is evaluated
twice). Node ``v = f(a_1, ..., a_k)`` is eliminated in reverse creation order; with its
adjoint ``vbar`` and the sparse symmetric second-order adjoints ``H{., .}``::

    pushing    H{a, w} += f_a H{v, w}       for w != v (twice that when w is a itself)
               H{a, b} += f_a f_b H{v, v}   for every pair of arguments, a = b included
    creating   H{a, b} += vbar f_ab
    adjoint    abar    += vbar f_a

``f_a`` and ``f_ab`` are the local partials, summed over the positions that hold the same
node (``x * x``: f_x = 2x, f_xx = 2). Each partial is one vectorised numpy expression on the
row vectors: no (P, n) tangents and no dispatch through the tracer, which is where the
forward-over-reverse pass of structure._per_row spends its time on small graphs. The order
of the sweep's products and sums depends on the graph only: the first sweep writes them
down as a program (see "the sweep as a program" below), run again at the next calls. Memory is
one (rows,) vector per entry of H and adjoint alive at a time; the caller's blocks of rows
bound it. Any primitive outside the table, any other shape, or a point a rule does not handle
(noted at the rule) gives None, and the forward-over-reverse pass runs: it stays the
reference (tests/test_ad_rowhess.py compares both to 1e-13). So does any row whose derivatives
come out NaN or infinite: a local partial taken alone can leave the floating-point range where
the chain does not (1 / erfc(15.5): 2 / erfc^3 = inf, the row's curvature about 6e108), and
where the value itself is NaN or infinite the reference's conventions apply, so edge pushing
never turns the reference's finite numbers into inf or NaN.
"""
from __future__ import annotations

import threading

import numpy as np
import scipy.special as sps

from . import primitives as p
from . import rules_special as rs

__all__ = ["RULES", "derivatives", "rows_of"]

ENABLED = True      # False: structure._per_row always takes the forward-over-reverse path

_TWO_OVER_SQRT_PI = 2.0 / np.sqrt(np.pi)

# =======================================================================================
# local partials: rule(ans, args, traced) -> (firsts, seconds) or None (not handled here)
#   traced[i]: is argument i traced; firsts[i]: d f / d arg_i (None: zero or not traced);
#   seconds[(i, j)], i <= j: d2 f / d arg_i d arg_j (absent: zero or not traced), or
#   (c, x) for the number c times an array x given as another partial of the same rule
#   (x itself, earlier: f_xy = -f_xx; the sweep then multiplies by x once)
# =======================================================================================


def _unary(partials):
    """A rule for f(x) from ``partials(ans, x) -> (f', f'' or None)``."""
    def rule(ans, args, traced):
        d, dd = partials(ans, args[0])
        return [d], ({} if dd is None else {(0, 0): dd})
    return rule


def _arcsin(sign: float):
    """arcsin (sign 1) and arccos (-1): f' = sign (1 - x^2)^-1/2, f'' = x f' / (1 - x^2)."""
    def partials(ans, x):
        b = 1.0 - x * x
        d = sign / np.sqrt(b)
        return d, x * d / b
    return partials


def _arcsinh(ans, x):
    """f' = (x^2 + 1)^-1/2, f'' = -x f' / (x^2 + 1)."""
    b = x * x + 1.0
    d = 1.0 / np.sqrt(b)
    return d, -x * d / b


def _log(ans, x):
    r = 1.0 / x
    return r, -r * r


def _log1p(ans, x):
    r = 1.0 / (x + 1.0)
    return r, -r * r


def _tan(ans, x):
    d = 1.0 + ans * ans
    return d, 2.0 * ans * d


def _tanh(ans, x):
    d = 1.0 - ans * ans
    return d, -2.0 * ans * d


def _arctan(ans, x):
    r = 1.0 / (1.0 + x * x)
    return r, -2.0 * x * r * r


def _arctanh(ans, x):
    r = 1.0 / (1.0 - x * x)
    return r, 2.0 * x * r * r


def _erf(sign: float):
    def partials(ans, x):
        d = (sign * _TWO_OVER_SQRT_PI) * np.exp(-(x * x))
        return d, -2.0 * x * d
    return partials


def _ndtr(ans, x):
    d = np.exp(-0.5 * (x * x) - rs.LOG_SQRT_2PI)
    return d, -x * d


def _inv_mills(ans, x):
    """r' = -r (x + r); r'' = -r' (x + 2r) - r."""
    d = -ans * (x + ans)
    return d, -d * (x + 2.0 * ans) - ans


def _log_ndtr(ans, x):
    r = rs.inv_mills.fun(x)
    return r, -r * (x + r)


def _expit(ans, x):
    """expit' = expit(x) expit(-x) (accurate in both tails), expit'' = expit' (expit(-x) -
    expit(x))."""
    e = sps.expit(-x)
    d = ans * e
    return d, d * (e - ans)


def _log_expit(ans, x):
    """d = expit(-x) = -expm1(ans), d2 = -expit(x) expit(-x) = -exp(ans) d (ans = log
    expit(x): both accurate in both tails)."""
    d = -np.expm1(ans)
    return d, -np.exp(ans) * d


def _logit(ans, x):
    d = 1.0 / (x * (1.0 - x))
    return d, -d * d * (1.0 - 2.0 * x)


def _sqrt(ans, x):
    d = 0.5 / ans
    return d, -0.5 * d / x


def _polygamma(ans, args, traced):
    if traced[0]:
        return None                 # (the order n is not differentiable)
    n, x = args
    n = np.asarray(n)
    return [None, sps.polygamma(n + 1, x)], {(1, 1): sps.polygamma(n + 2, x)}


_UNARY = {
    p.negative: lambda ans, x: (-1.0, None),
    p.exp: lambda ans, x: (ans, ans),
    p.log: _log,
    p.log1p: _log1p,
    p.expm1: lambda ans, x: (ans + 1.0,) * 2,
    p.sqrt: _sqrt,
    p.absolute: lambda ans, x: (np.sign(x), None),
    p.sin: lambda ans, x: (np.cos(x), -ans),
    p.cos: lambda ans, x: (-np.sin(x), -ans),
    p.tan: _tan,
    p.tanh: _tanh,
    p.sinh: lambda ans, x: (np.cosh(x), ans),
    p.cosh: lambda ans, x: (np.sinh(x), ans),
    p.arctan: _arctan,
    p.arcsin: _arcsin(1.0),
    p.arccos: _arcsin(-1.0),
    p.arcsinh: _arcsinh,
    p.arctanh: _arctanh,
    p.square: lambda ans, x: (2.0 * x, 2.0),
    p.reciprocal: lambda ans, x: (-(ans * ans), 2.0 * ans * ans * ans),
    p.gammaln: lambda ans, x: (sps.digamma(x), sps.polygamma(1, x)),
    p.digamma: lambda ans, x: (sps.polygamma(1, x), sps.polygamma(2, x)),
    p.erf: _erf(1.0),
    p.erfc: _erf(-1.0),
    p.ndtr: _ndtr,
    p.log_ndtr: _log_ndtr,
    rs.inv_mills: _inv_mills,
    p.expit: _expit,
    p.log_expit: _log_expit,
    p.logit: _logit,
}


def _add(ans, args, traced):
    return [1.0 if traced[0] else None, 1.0 if traced[1] else None], {}


def _subtract(ans, args, traced):
    return [1.0 if traced[0] else None, -1.0 if traced[1] else None], {}


def _multiply(ans, args, traced):
    x, y = args
    both = traced[0] and traced[1]
    return [y if traced[0] else None, x if traced[1] else None], ({(0, 1): 1.0} if both else {})


def _divide(ans, args, traced):
    """x / y: 1/y, -ans/y; second: d2/dx dy = -1/y^2, d2/dy2 = 2 ans/y^2 (y a number: 1/y
    a number, inf at 0 as numpy gives it)."""
    y = args[1]
    r = float(np.divide(1.0, y)) if type(y) is float else 1.0 / y
    firsts = [r if traced[0] else None, None]
    seconds = {}
    if traced[1]:
        ar = ans * r
        firsts[1] = -ar
        seconds[(1, 1)] = 2.0 * ar * r
        if traced[0]:
            seconds[(0, 1)] = -(r * r)
    return firsts, seconds


def _power(ans, args, traced):
    """x^y: y x^(y-1), x^y log x; second y (y-1) x^(y-2), x^(y-1) (1 + y log x),
    x^y log^2 x. Not handled here where x = 0 (the general rules' conventions apply)."""
    x, y = args
    if np.any(np.asarray(x) == 0):
        return None
    q = np.power(x, np.subtract(y, 1.0))
    firsts, seconds = [None, None], {}
    if traced[0]:
        firsts[0] = y * q
        seconds[(0, 0)] = y * (y - 1.0) * q / x
    if traced[1]:
        log_x = np.log(x)
        firsts[1] = ans * log_x
        seconds[(1, 1)] = firsts[1] * log_x
        if traced[0]:
            seconds[(0, 1)] = q * (1.0 + y * log_x)
    return firsts, seconds


def _difference_curvature(curve, traced) -> dict:
    """Second partials of a function of (x, y) whose curvature is that of g(x - y):
    f_xx = f_yy = -f_xy = curve."""
    seconds = {}
    if traced[0]:
        seconds[(0, 0)] = curve
    if traced[1]:
        seconds[(1, 1)] = curve
        if traced[0]:
            seconds[(0, 1)] = (-1.0, curve)
    return seconds


def _logaddexp(ans, args, traced):
    """w_x = exp(x - ans), w_y = exp(y - ans); d2/dx2 = d2/dy2 = -d2/dx dy = w_x w_y."""
    x, y = args
    w_x, w_y = np.exp(x - ans), np.exp(y - ans)
    firsts = [w_x if traced[0] else None, w_y if traced[1] else None]
    return firsts, _difference_curvature(w_x * w_y, traced)


def _logaddexp_weight(ans, args, traced):
    """w = exp(x - out), v = exp(y - out) (out known): dw/dx = -dw/dy = w v; d2/dx2 =
    d2/dy2 = -d2/dx dy = w v (v - w)."""
    if traced[2]:
        return None
    x, y, out = args
    v = np.exp(y - out)
    wv = ans * v
    firsts = [wv if traced[0] else None, -wv if traced[1] else None]
    return firsts, _difference_curvature(wv * (v - ans), traced)


def _extremum(first_wins: bool):
    """maximum / minimum: weight 1 on the chosen argument, 0.5 each on ties, as the general
    rules."""
    def rule(ans, args, traced):
        x, y = args
        chosen_x = (x > y) if first_wins else (x < y)
        chosen_y = (y > x) if first_wins else (y < x)
        tie = 0.5 * (np.asarray(x) == np.asarray(y))
        return [chosen_x + tie if traced[0] else None,
                chosen_y + tie if traced[1] else None], {}
    return rule


def _arctan2(ans, args, traced):
    """arctan2(y, x): x/r, -y/r (r = x^2 + y^2); second -2xy/r^2, (y^2 - x^2)/r^2,
    2xy/r^2."""
    y, x = args
    r = 1.0 / (x * x + y * y)
    xy = 2.0 * x * y * r * r
    firsts, seconds = [x * r if traced[0] else None, -y * r if traced[1] else None], {}
    if traced[0]:
        seconds[(0, 0)] = -xy
    if traced[1]:
        seconds[(1, 1)] = xy
    if traced[0] and traced[1]:
        seconds[(0, 1)] = (y * y - x * x) * r * r
    return firsts, seconds


def _where(ans, args, traced):
    if traced[0]:
        return None
    c = np.asarray(args[0], dtype=bool)
    return [None, c.astype(np.float64) if traced[1] else None,
            (~c).astype(np.float64) if traced[2] else None], {}


def _xlogy(log, shift: float):
    """x log(y + shift): log(y + shift), x / (y + shift); second 1 / (y + shift),
    -x / (y + shift)^2; x = 0 gives 0 in y, as the general rules. Not handled here where
    x = y + shift = 0 with both traced (the two mixed partials differ there)."""
    def rule(ans, args, traced):
        x, y = args
        ys = y + shift if shift else y
        zero = (np.asarray(x) == 0) & (np.asarray(ys) == 0)
        if traced[0] and traced[1] and np.any(zero):
            return None
        firsts, seconds = [log(y) if traced[0] else None, None], {}
        if traced[1]:
            safe = np.where(zero, 1.0, ys) if np.any(zero) else ys
            r = 1.0 / safe
            firsts[1] = x * r
            seconds[(1, 1)] = -x * r * r
            if traced[0]:
                seconds[(0, 1)] = r
        return firsts, seconds
    return rule


def _betaln(ans, args, traced):
    """betaln(a, b): psi(a) - psi(a+b), psi(b) - psi(a+b); second psi1(a) - psi1(a+b),
    -psi1(a+b), psi1(b) - psi1(a+b)."""
    a, b = args
    s = a + b
    psi_s, psi1_s = sps.digamma(s), sps.polygamma(1, s)
    firsts, seconds = [None, None], {}
    if traced[0]:
        firsts[0] = sps.digamma(a) - psi_s
        seconds[(0, 0)] = sps.polygamma(1, a) - psi1_s
    if traced[1]:
        firsts[1] = sps.digamma(b) - psi_s
        seconds[(1, 1)] = sps.polygamma(1, b) - psi1_s
        if traced[0]:
            seconds[(0, 1)] = -psi1_s
    return firsts, seconds


RULES: dict = {prim: _unary(partials) for prim, partials in _UNARY.items()}
RULES.update({
    p.add: _add, p.subtract: _subtract, p.multiply: _multiply, p.true_divide: _divide,
    p.power: _power, p.logaddexp: _logaddexp, p.logaddexp_weight: _logaddexp_weight,
    p.maximum: _extremum(True), p.minimum: _extremum(False), p.arctan2: _arctan2,
    p.where: _where, p.polygamma: _polygamma, p.xlogy: _xlogy(np.log, 0.0),
    p.xlog1py: _xlogy(np.log1p, 1.0), rs.betaln: _betaln,
})


# =======================================================================================
# the sweep
# =======================================================================================


def derivatives(s, block: int):
    """(grads, slopes) laid out as structure._per_row gives them (grads[j]: dl_i/du_j per
    row for an index, summed over rows for a direct scalar; slopes[j][k]: d2 l_i/du_j du_k
    alike), by edge pushing over blocks of ``block`` rows; None where the row nodes are not
    all table primitives on (n,) vectors, numbers or constants broadcast along the rows, with
    vector (not matrix) indices, and where a per-row derivative is not finite (numpy's
    floating-point warnings are held back here: a declined sweep's overflow is not the
    user's, and the reference path that then runs gives its own)."""
    if not ENABLED or any(u.shape != (s.n,) for u in s.inputs[:s.m]):
        return None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        found = _edge_pushing(s, block)
    if found is None or not found[2]:
        return None     # (see the module's note: the reference path decides)
    return found[0], found[1]


def _edge_pushing(s, block: int):
    """The body of ``derivatives``: (grads, slopes, whether all are finite) or None."""
    n, p = s.n, len(s.columns)
    index = [a_mat is not None for _, _, a_mat in s.columns]
    m = sum(index)                  # (the index columns come first)
    rows_all = np.empty((m * (p + 1), n))   # (one allocation, one finiteness test)
    grad_rows, slope_rows = rows_all[:m], rows_all[m:].reshape(m, p, n)
    grads = [grad_rows[j] if index[j] else 0.0 for j in range(p)]
    slopes = [slope_rows[j] if index[j] else np.zeros(p) for j in range(p)]
    for begin in range(0, n, block):
        rows = slice(begin, min(begin + block, n))
        regs = _sweep(s, rows if block < n else None)
        if regs is None:
            return None
        part = slice(None) if block >= n else rows
        size = rows.stop - rows.start
        for j, (g, row) in enumerate(s.cache["sweep"].outputs):
            if j < m:
                _put(regs, g, grad_rows[j, part])
                for k in range(j, p):       # (the lower triangle of the index block: below)
                    _put(regs, row[k], slope_rows[j, k, part])
                continue
            if g is not None:
                grads[j] += np.sum(np.broadcast_to(_read(regs, g), (size,)))
            for k, w in enumerate(row):
                if w is not None:
                    slopes[j][k] += np.sum(np.broadcast_to(_read(regs, w), (size,)))
    for j in range(1, m):
        slope_rows[j, :j] = slope_rows[:j, j]
    finite = np.isfinite(rows_all).all() and (m == p or np.isfinite(
        [(grads[j], *slopes[j]) for j in range(m, p)]).all())
    return grads, slopes, finite


def _put(regs: list, symbol, out: np.ndarray) -> None:
    """``out[...] = `` the value of a symbol (c, r) on the registers (None: 0), the factor
    c applied while writing."""
    if symbol is None:
        out[...] = 0.0
        return
    c, r = symbol
    if r is None:
        out[...] = c
    elif c == 1.0:
        out[...] = regs[r]
    elif c == -1.0:
        np.negative(regs[r], out=out)
    else:
        np.multiply(regs[r], c, out=out)


def rows_of(x, rows: slice | None, n: int, ndim: int = 1):
    """A per-row array (``ndim`` dimensions, n rows; a numpy array or subclass, such as
    np.memmap, or a list of n rows) restricted to a block of rows (None: all); anything else
    (numbers, 0-d arrays, constants broadcast along the rows) unchanged."""
    if rows is None or ndim == 0:
        return x
    if type(x) is list and len(x) == n:
        as_array = np.asarray(x)        # (once: np.ndim of a list converts it too)
        if as_array.ndim == ndim:
            x = as_array
    if isinstance(x, np.ndarray) and x.ndim == ndim and x.shape[0] == n:
        return x[rows]
    return x


# =======================================================================================
# the sweep as a program
#
# Which entries of H and of the adjoints exist, which local partials are zero or a
# number, and so which products and sums the sweep makes, depend on the graph only (its
# nodes, primitives, traced arguments, the constants' shapes and dtypes), not on the values.
# The first sweep over a Structure plays the edge pushing on symbols and writes down those
# operations: a program of numpy calls ``R[t] = ufunc(R[x], R[y])`` on a list of registers,
# kept on the Structure (``s.cache``) and under the graph's signature, and run again at every
# later call on it or on a recording with the same signature, with the nodes' values of the
# moment. A symbol is ``(c, r)``: the number c times register r (r
# None: the number c alone), so that partials +-1 and 2 (an add, a subtract, x * x) and
# signs are folded while writing the program instead of multiplied at every call. A local
# partial that was a number when the program was written is checked to be the same number
# at every run (it may come from a constant argument: x / 2.0); if not, the program is
# written anew.
# =======================================================================================


class _Program:
    """The operations of the sweep over one row graph (see the note above).

    steps: per live row node, (its position in s.rows, rule (None: not called, its partials
    are numbers in the program), traced, arguments to convert to float64, whether the
    answer is, arguments sliced by rows, checks (see _checked), loads, operations), loads
    being (register, position of a first partial or key of a second), operations
    (ufunc, target, x, y); consts: (register, number); size: registers; outputs: per
    per-row input, the symbol of its adjoint and those of its H entries with every per-row
    input (None: 0). It holds no node or value: one program serves every recording with
    the same signature."""

    __slots__ = ("steps", "consts", "size", "outputs")

    def __init__(self, steps, consts, size, outputs):
        self.steps, self.consts, self.size, self.outputs = steps, consts, size, outputs


def _read(regs: list, symbol):
    """The value of a symbol (c, r) on the registers (None: 0)."""
    if symbol is None:
        return 0.0
    c, r = symbol
    if r is None:
        return c
    return regs[r] if c == 1.0 else c * regs[r]


# primitives whose local partials are numbers written in the rule, whatever the arguments
_FIXED = {p.add, p.subtract, p.negative}

_PROGRAMS: dict = {}     # graph signature -> program (False: not handled here), a few kept
_PROGRAMS_KEPT = 64
_KEEP_LOCK = threading.Lock()


def keep_bounded(cache: dict, key, value, kept: int) -> None:
    """``cache[key] = value``, the oldest entries dropped first to keep fewer than ``kept``
    before it (under a lock: blocks of rows may run on several threads). For the caches of
    what depends on a graph only: sweep programs here, dPhi/HPhi layouts in structure."""
    with _KEEP_LOCK:
        while len(cache) >= kept:
            cache.pop(next(iter(cache)))
        cache[key] = value


def _sweep(s, rows: slice | None):
    """The registers after the sweep on a block of ``rows`` (None: all), the outputs being
    read through ``s.cache["sweep"].outputs``; None if a node is not handled here.

    The program is kept on ``s`` and, under the graph's signature (``_signature``), for
    the next recordings of the same function (a fit records f anew at every point)."""
    program = s.cache.get("sweep")
    if program is None:
        key = _signature(s)
        program = s.cache["sweep"] = _PROGRAMS.get(key)
        if program is None:
            s.cache["key"] = key
    if program is False:
        return None                 # (a node outside the table: it stays outside)
    if program is not None:
        regs = _run(program, s.rows, rows, None)
        if regs is not None:
            return regs
    written = _write(s, rows)       # (first call, or a number partial changed)
    if written is None:
        return None
    program, locals_ = written
    _keep(s, program)
    return _run(program, s.rows, rows, locals_)


def _keep(s, program) -> None:
    """Keep ``program`` (False: not handled here) on s and under its graph's signature."""
    s.cache["sweep"] = program
    key = s.cache.get("key")
    if key is None:
        key = s.cache["key"] = _signature(s)
    keep_bounded(_PROGRAMS, key, program, _PROGRAMS_KEPT)


def _signature(s) -> tuple:
    """All that a sweep program depends on: the number of rows, the per-row inputs (which
    are indices, and the kind of their values: see _kind), the top, and per row node its
    primitive, traced argument positions, parents (by position) and the kind of its other
    arguments (the kinds of the answers follow from these). Two recordings with the same
    signature sweep alike, the values aside."""
    where = {u._seq: -1 - i for i, u in enumerate(s.inputs)}
    key = [s.n, s.m, tuple([a for a, _, _ in s.columns]),
           tuple([_kind(u._value) for u in s.inputs])]
    for i, node in enumerate(s.rows):
        where[node._seq] = i
        args, argnums = node._args, node._argnums
        key.append((node._prim, tuple(argnums), tuple([where[q._seq] for q in node._parents]),
                    () if len(argnums) == len(args) else
                    tuple([_kind(x) for k, x in enumerate(args) if k not in argnums]),
                    not node._kwargs))
    key.append(where[s.top._seq])
    return tuple(key)


def _kind(x):
    """A number, or an array's type, dtype and shape (see _signature; a list's shape too:
    the rules take it as the array it makes)."""
    if type(x) is float:
        return float
    return type(x), getattr(x, "dtype", None), np.shape(x)


def _arguments(node, conv, ans_conv, sliced, rows):
    """The answer and arguments of ``node`` as the rules take them (float64, on the block)."""
    ans, args = node._value, node._args
    if conv:
        args = list(args)
        for i in conv:
            args[i] = np.asarray(args[i], dtype=np.float64)
    if ans_conv:
        ans = ans.astype(np.float64)
    if rows is not None:
        ans = ans[rows]
        if sliced:
            args = list(args)
            for i in sliced:
                args[i] = args[i][rows]
    return ans, args


def _run(program: _Program, nodes: list, rows, locals_):
    """Run ``program`` (``locals_``: the local partials of its steps, already computed while
    writing it): the registers, or None where a rule declines here or a local partial that
    was a number has changed."""
    regs = [None] * program.size
    for r, c in program.consts:
        regs[r] = c
    for k, (at, rule, traced, conv, ans_conv, sliced, checks, loads_f, loads_s,
            ops) in enumerate(program.steps):
        if rule is not None:            # (None: the partials are numbers, in the program)
            if locals_ is None:
                ans, args = _arguments(nodes[at], conv, ans_conv, sliced, rows)
                local = rule(ans, args, traced)
                if local is None:
                    return None
                firsts, seconds = local
                if checks and not _checked(checks, firsts, seconds):
                    return None
            else:
                firsts, seconds = locals_[k]
            for r, i in loads_f:
                regs[r] = firsts[i]
            for r, key in loads_s:
                regs[r] = seconds[key]
        for f, t, x, y in ops:
            regs[t] = f(regs[x], regs[y])
    return regs


def _checked(checks: list, firsts: list, seconds: dict) -> bool:
    """Do the local partials still have the form the program was written for: (where, c,
    expected) with expected a number (the partial is c times that number) or the place of
    an earlier partial (c times that same array)?"""
    for where, c, expected in checks:
        got = firsts[where] if type(where) is int else seconds[where]
        if type(got) is tuple:
            if got[0] != c:
                return False
            got = got[1]
        elif c != 1.0:
            return False
        if type(expected) is float:
            if type(got) is not float or got != expected:
                return False
        else:
            first = firsts[expected] if type(expected) is int else seconds[expected]
            if got is not first:
                return False
    return True


class _Writer:
    """Symbols and the operations they need, on virtual registers (one per value)."""

    def __init__(self):
        self.ops: list = []         # (ufunc, target, x, y)
        self.count = 0
        self.consts: dict = {}
        self.made: dict = {}        # (ufunc, x, y) -> register

    def new(self) -> int:
        self.count += 1
        return self.count - 1

    def const(self, c: float) -> int:
        r = self.consts.get(c)
        if r is None:
            r = self.consts[c] = self.new()
        return r

    def emit(self, f, x: int, y: int) -> int:
        """A register holding f(x, y): a new operation unless the same was made before
        (registers hold one value each: a product made once serves every use)."""
        key = (f, x, y) if f is np.subtract or x <= y else (f, y, x)
        t = self.made.get(key)
        if t is None:
            t = self.made[key] = self.new()
            self.ops.append((f, t, x, y))
        return t

    def times(self, a, b):
        """The symbol of a * b."""
        (ca, ra), (cb, rb) = a, b
        if ra is None or rb is None:
            return ca * cb, (ra if rb is None else rb)
        return ca * cb, self.emit(np.multiply, ra, rb)

    def plus(self, a, b):
        """The symbol of a + b (a None: b)."""
        if a is None:
            return b
        (ca, ra), (cb, rb) = a, b
        if ra is None and rb is None:
            return ca + cb, None
        if ra is not None and rb is not None and abs(ca) == abs(cb):
            return ca, self.emit(np.add if ca == cb else np.subtract, ra, rb)
        return 1.0, self.emit(np.add, self.plain(a), self.plain(b))

    def plain(self, a) -> int:
        """A register holding the value of the symbol a."""
        c, r = a
        if r is None:
            return self.const(c)
        return r if c == 1.0 else self.emit(np.multiply, self.const(c), r)


def _static_arguments(node, n: int):
    """(conv, ans_conv, sliced) of ``node`` for the rules (see _arguments), or None when it
    is not handled here (options, an answer not an (n,) vector, an argument of another
    shape)."""
    ans = node._value
    if node._kwargs or type(ans) is not np.ndarray or ans.shape != (n,):
        return None
    conv, sliced = [], []
    for i, x in enumerate(node._args):      # numbers, or vectors along the rows; float64 (*)
        if type(x) is float:
            continue
        if type(x) is not np.ndarray or x.dtype != np.float64:
            conv.append(i)
            x = np.asarray(x, dtype=np.float64)
        if x.ndim > 1 or (x.shape and x.shape[0] not in (1, n)):
            return None
        if x.ndim == 1 and x.shape[0] == n:
            sliced.append(i)
    # (*) the local partials of a product are its other arguments: bool constants would add
    # as a logical or and refuse negation, integers wrap around, float32 round every product
    return tuple(conv), ans.dtype != np.float64, tuple(sliced)


def _write(s, rows: slice | None):
    """Play the edge pushing on symbols (see the note above _Program): (the program, the
    local partials of its steps on ``rows``), or None when a node is not handled here
    (``s.cache["sweep"]`` is then False where that holds whatever the values)."""
    n = s.n
    w = _Writer()
    adjoints = {s.top._seq: (1.0, None)}
    hess: dict = {}
    steps, locals_ = [], []
    for at in range(len(s.rows) - 1, -1, -1):
        node = s.rows[at]
        v = node._seq
        vbar = adjoints.pop(v, None)
        row = hess.pop(v, None)
        if vbar is None and row is None:
            continue                    # (l does not depend on this node)
        rule = RULES.get(node._prim)
        static = None if rule is None else _static_arguments(node, n)
        if static is None:
            _keep(s, False)
            return None
        conv, ans_conv, sliced = static
        traced = [False] * len(node._args)
        for i in node._argnums:
            traced[i] = True
        local = rule(*_arguments(node, conv, ans_conv, sliced, rows), traced)
        if local is None:
            return None                 # (at these values: written again at the next call)
        locals_.append(local)
        firsts, seconds = local
        first = len(w.ops)
        checks, loads_f, loads_s = [], [], []

        seen: dict = {}         # id of a loaded partial -> (register, where)

        def symbol(value, where, loads):
            c = 1.0
            if type(value) is tuple:        # (c, x): x given earlier (see the rules' note)
                c, value = value
                if id(value) not in seen:
                    raise ValueError(f"{node._prim.name}: the local partial at {where} "
                                     "names an array not given before it")
            if type(value) is float:
                checks.append((where, c, value))
                return c * value, None
            if id(value) in seen:
                r, first_at = seen[id(value)]
                checks.append((where, c, first_at))
                return c, r
            r = w.new()
            loads.append((r, where))
            seen[id(value)] = r, where
            return c, r
        d: dict = {}
        for i, q in zip(node._argnums, node._parents):
            if firsts[i] is not None:
                d[q._seq] = w.plus(d.get(q._seq), symbol(firsts[i], i, loads_f))
        parent = dict(zip(node._argnums, (q._seq for q in node._parents)))
        dd: dict = {}
        for (i, j), value in seconds.items():
            a, b = parent[i], parent[j]
            value = symbol(value, (i, j), loads_s)
            if a == b and i != j:
                value = w.times((2.0, None), value)     # (i, j) and (j, i)
            key = (a, b) if a <= b else (b, a)
            dd[key] = w.plus(dd.get(key), value)
        _push(w, hess, adjoints, v, vbar, row, d, dd)
        if node._prim in _FIXED and not loads_f and not loads_s:
            rule = None                 # (nothing to compute or check at the next runs)
        steps.append([at, rule, traced, conv, ans_conv, sliced, checks, loads_f, loads_s,
                      (first, len(w.ops))])
    columns = [s.inputs[a]._seq for a, _, _ in s.columns]
    outputs = [(adjoints.get(a), [hess.get(a, {}).get(b) for b in columns]) for a in columns]
    return _allocate(w, steps, outputs), locals_


def _push(w: _Writer, hess: dict, adjoints: dict, v: int, vbar, row, d: dict, dd: dict):
    """Eliminate node v (symbols): pushing H{v, .}, creating vbar f_ab, the adjoints."""
    hvv = None
    if row is not None:
        hvv = row.pop(v, None)
        for u, hvu in row.items():         # pushing H{v, u}, u != v
            del hess[u][v]
            for a, da in d.items():
                _add(w, hess, a, u, w.times(w.times((2.0, None), da) if a == u else da, hvu))
    if hvv is not None:                     # pushing H{v, v}
        items = list(d.items())
        for x, (a, da) in enumerate(items):
            t = w.times(da, hvv)
            _add(w, hess, a, a, w.times(t, da))
            for b, db in items[x + 1:]:
                _add(w, hess, a, b, w.times(t, db))
    if vbar is not None:                    # creating, and the adjoints
        for (a, b), value in dd.items():
            _add(w, hess, a, b, w.times(vbar, value))
        for a, da in d.items():
            adjoints[a] = w.plus(adjoints.get(a), w.times(vbar, da))


def _add(w: _Writer, hess: dict, a: int, b: int, value) -> None:
    """H{a, b} += value (hess[a][b] and hess[b][a] are the same entry)."""
    row = hess.get(a)
    if row is None:
        row = hess[a] = {}
    new = w.plus(row.get(b), value)
    row[b] = new
    if a != b:
        other = hess.get(b)
        if other is None:
            other = hess[b] = {}
        other[a] = new


def _allocate(w: _Writer, steps: list, outputs: list) -> _Program:
    """The program on few registers: operations whose value is not used dropped, and a
    register given again once the value it held is no longer used (the sweep keeps a few
    (rows,) vectors alive at a time, not one per operation)."""
    kept = {sym[1] for g, row in outputs for sym in (g, *row)
            if sym is not None and sym[1] is not None}
    used = set(kept)
    live_ops = [False] * len(w.ops)
    for k in range(len(w.ops) - 1, -1, -1):         # (backwards: what the outputs need)
        f, t, x, y = w.ops[k]
        if t in used:
            live_ops[k] = True
            used.add(x)
            used.add(y)
    last: dict = {}                                 # register -> position of its last use
    position = 0
    for step in steps:
        first, stop = step[-1]
        position += 1                               # (the loads)
        for k in range(first, stop):
            if live_ops[k]:
                _, _, x, y = w.ops[k]
                last[x] = last[y] = position
                position += 1
    pinned = set(w.consts.values()) | kept
    physical: dict = {r: i for i, r in enumerate(w.consts.values())}
    free: list = []
    size = len(physical)

    def place(r: int) -> int:
        nonlocal size
        if free:
            physical[r] = free.pop()
        else:
            physical[r] = size
            size += 1
        return physical[r]

    def release(r: int, at: int) -> None:
        if r not in pinned and last.get(r) == at:
            free.append(physical[r])
    position = 0
    for step in steps:
        first, stop = step[-1]
        loads_f = [(place(r), i) for r, i in step[7] if r in used]
        loads_s = [(place(r), key) for r, key in step[8] if r in used]
        position += 1
        ops = []
        for k in range(first, stop):
            if not live_ops[k]:
                continue
            f, t, x, y = w.ops[k]
            px, py = physical[x], physical[y]
            release(x, position)
            if y != x:
                release(y, position)
            ops.append((f, place(t), px, py))
            position += 1
        step[7:] = [loads_f, loads_s, ops]
    consts = [(physical[r], c) for c, r in w.consts.items()]
    outputs = [(_placed(physical, g), [_placed(physical, sym) for sym in row])
               for g, row in outputs]
    return _Program([tuple(step) for step in steps], consts, size, outputs)


def _placed(physical: dict, symbol):
    if symbol is None or symbol[1] is None:
        return symbol
    return symbol[0], physical[symbol[1]]
