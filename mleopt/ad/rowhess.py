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
forward-over-reverse pass of structure._per_row spends its time on small graphs. Memory is
one (rows,) vector per entry of H and adjoint alive at a time; the caller's blocks of rows
bound it. Any primitive outside the table, any other shape, or a point a rule does not handle
(noted at the rule) gives None, and the forward-over-reverse pass runs: it stays the
reference (tests/test_ad_rowhess.py compares both to 1e-12). So does any row whose derivatives
come out NaN or infinite: a local partial taken alone can leave the floating-point range where
the chain does not (1 / erfc(15.5): 2 / erfc^3 = inf, the row's curvature about 6e108), and
where the value itself is NaN or infinite the reference's conventions apply, so edge pushing
never turns the reference's finite numbers into inf or NaN.
"""
from __future__ import annotations

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
#   seconds[(i, j)], i <= j: d2 f / d arg_i d arg_j (absent: zero or not traced)
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
    p.expm1: lambda ans, x: (ans + 1.0, ans + 1.0),
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
    """x / y: 1/y, -ans/y; second: d2/dx dy = -1/y^2, d2/dy2 = 2 ans/y^2."""
    r = 1.0 / args[1]
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
            seconds[(0, 1)] = -curve
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
    column = {s.inputs[a]._seq: j for j, (a, _, _) in enumerate(s.columns)}
    index = [a_mat is not None for _, _, a_mat in s.columns]
    grad_rows, slope_rows = np.empty((sum(index), n)), np.empty((sum(index), p, n))
    next_g, next_s = iter(grad_rows), iter(slope_rows)      # (one allocation each)
    grads = [next(next_g) if i else 0.0 for i in index]
    slopes = [next(next_s) if i else np.zeros(p) for i in index]
    for begin in range(0, n, block):
        rows = slice(begin, min(begin + block, n))
        swept = _sweep(s, rows if block < n else None)
        if swept is None:
            return None
        adjoints, hess = swept
        size = rows.stop - rows.start
        for seq, j in column.items():
            g = adjoints.get(seq, 0.0)
            if index[j]:
                grads[j][rows] = g
            else:
                grads[j] += np.sum(np.broadcast_to(g, (size,)))
            got = hess.get(seq, {})             # (only the inputs are left)
            for seq2, k in column.items():
                w = got.get(seq2)
                if index[j]:
                    slopes[j][k, rows] = 0.0 if w is None else w
                elif w is not None:
                    slopes[j][k] += np.sum(np.broadcast_to(w, (size,)))
    directs = [(grads[j], *slopes[j]) for j in range(len(index)) if not index[j]]
    finite = (np.isfinite(grad_rows).all() and np.isfinite(slope_rows).all()
              and np.isfinite(directs).all())
    return grads, slopes, finite


def rows_of(x, rows: slice | None, n: int, ndim: int = 1):
    """A per-row array (``ndim`` dimensions, n rows; a numpy array or subclass, such as
    np.memmap) restricted to a block of rows (None: all); anything else unchanged."""
    if rows is None:
        return x
    if isinstance(x, np.ndarray) and x.ndim == ndim and x.shape[0] == n:
        return x[rows]
    return x


def _times(x, y):
    """x * y, without the multiplication when either is the number 1 or -1."""
    if type(x) is float and (x == 1.0 or x == -1.0):
        return y if x == 1.0 else -y
    if type(y) is float and (y == 1.0 or y == -1.0):
        return x if y == 1.0 else -x
    return x * y


def _add(hess: dict, a: int, b: int, value) -> None:
    """H{a, b} += value (hess[a][b] and hess[b][a] are the same entry)."""
    row = hess.get(a)
    if row is None:
        row = hess[a] = {}
    old = row.get(b)
    new = value if old is None else old + value
    row[b] = new
    if a != b:
        other = hess.get(b)
        if other is None:
            other = hess[b] = {}
        other[a] = new


def _local(node, rule, n: int, rows: slice | None):
    """The local partials of ``node`` by argument node (seq -> f_a; (seq, seq') -> f_ab,
    positions holding the same node summed), or None when not handled here."""
    ans = node._value
    if node._kwargs or type(ans) is not np.ndarray or ans.shape != (n,):
        return None
    args = []
    for x in node._args:            # numbers, or vectors along the rows; as float64 (*)
        if type(x) is not float:
            if type(x) is not np.ndarray or x.dtype != np.float64:
                x = np.asarray(x, dtype=np.float64)
            if x.ndim > 1 or (x.shape and x.shape[0] not in (1, n)):
                return None
        args.append(x)
    # (*) the local partials of a product are its other arguments: bool constants would add
    # as a logical or and refuse negation, integers wrap around, float32 round every product
    if ans.dtype != np.float64:
        ans = ans.astype(np.float64)
    if rows is not None:
        ans = ans[rows]
        args = [rows_of(x, rows, n) for x in args]
    argnums = node._argnums
    traced = [False] * len(args)
    for i in argnums:
        traced[i] = True
    local = rule(ans, args, traced)
    if local is None:
        return None
    firsts, seconds = local
    parent = {i: q._seq for i, q in zip(argnums, node._parents)}
    d: dict = {}
    for i, a in parent.items():
        if firsts[i] is not None:
            d[a] = firsts[i] if a not in d else d[a] + firsts[i]
    dd: dict = {}
    for (i, j), value in seconds.items():
        a, b = parent[i], parent[j]
        if a == b and i != j:
            value = 2.0 * value         # (i, j) and (j, i)
        key = (a, b) if a <= b else (b, a)
        dd[key] = value if key not in dd else dd[key] + value
    return d, dd


def _sweep(s, rows: slice | None):
    """The adjoints (seq -> dl/du) and second-order adjoints (seq -> {seq': d2l/du du'}) of
    the row function in its inputs, on a block of ``rows`` (None: all), by edge pushing
    from the top; None if a node is not handled here."""
    n = s.n
    adjoints = {s.top._seq: 1.0}
    hess: dict = {}
    for node in reversed(s.rows):
        v = node._seq
        vbar = adjoints.pop(v, None)
        row = hess.pop(v, None)
        if vbar is None and row is None:
            continue                    # (l does not depend on this node)
        rule = RULES.get(node._prim)
        local = None if rule is None else _local(node, rule, n, rows)
        if local is None:
            return None
        d, dd = local
        hvv = None
        if row is not None:
            hvv = row.pop(v, None)
            for w, hvw in row.items():     # pushing H{v, w}, w != v
                del hess[w][v]
                for a, da in d.items():
                    _add(hess, a, w, _times(2.0 * da if a == w else da, hvw))
        if hvv is not None:                 # pushing H{v, v}
            items = list(d.items())
            for x, (a, da) in enumerate(items):
                t = _times(da, hvv)
                _add(hess, a, a, _times(t, da))
                for b, db in items[x + 1:]:
                    _add(hess, a, b, _times(t, db))
        if vbar is not None:                # creating, and the adjoints
            for (a, b), value in dd.items():
                _add(hess, a, b, _times(vbar, value))
            for a, da in d.items():
                old = adjoints.get(a)
                contribution = _times(vbar, da)
                adjoints[a] = contribution if old is None else old + contribution
    return adjoints, hess
