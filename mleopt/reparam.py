"""Declared reparametrisations: parameters on a constrained set, optimised on R^m.

A model declares, per parameter or per group of parameters, the set it lives on
(``fit(transforms={...})`` or a ``param_transforms`` class attribute). The optimiser then
works on free values ``t`` and the log-likelihood is evaluated at ``p = from_free(t)``,
written with mleopt.numpy so that mleopt.ad differentiates through it (gradients and
Hessians stay exact). The specs, with the map ``t -> p``:

``"positive"``                 ``p = exp(t)``; ``("positive", "softplus")``: ``p = log(1 + e^t)``
``("interval", lo, hi)``       ``p = lo + (hi - lo) expit(t)``; ``hi`` None: ``lo + e^t``;
                               ``lo`` None: ``hi - e^t``
``"simplex"``                  K weights summing to 1 from K - 1 free values: softmax with the
                               last component as reference, ``p_j = e^{t_j} / (1 + sum_i e^{t_i})``;
                               ``("simplex", "stick-breaking")``: Stan's stick-breaking,
                               ``p_k = (1 - sum_{i<k} p_i) expit(t_k - log(K - k))``
``"ordered"``                  increasing cut-points: ``p_1 = t_1``, ``p_j = p_{j-1} + e^{t_j}``
``"corr_matrix"``              the d(d-1)/2 correlations ``r_ij`` (i > j, row by row: r21, r31,
                               r32, ...) of a d x d correlation matrix R = L L', L its Cholesky
                               factor built from canonical partial correlations ``tanh(t)``
                               (the LKJ construction): positive definite for any t
``"cov_matrix"``               the d(d+1)/2 entries ``s_ij`` (i >= j, row by row: s11, s21,
                               s22, ...) of a covariance ``diag(s) R diag(s)``: t holds
                               ``log s`` then R's partial correlations as above

Only a simplex changes the count (K natural parameters, K - 1 free): its free values sit at
the positions of its first K - 1 names.
"""
from __future__ import annotations

import difflib
from typing import Any, Sequence

import numpy as np
import scipy.special as sps

from . import numpy as mnp
from . import special
from .exceptions import StartValueError

__all__ = ["Reparam", "SPECS", "ordered_from_free", "ordered_to_free"]

SPECS = ("positive", "interval", "simplex", "ordered", "corr_matrix", "cov_matrix")
_OPTIONS = {"positive": ("exp", "softplus"), "simplex": ("softmax", "stick-breaking")}


# --- the maps, one pair per spec ------------------------------------------------------------

def ordered_from_free(t):
    """Increasing values ``p_1 = t_1``, ``p_j = p_{j-1} + exp(t_j)``."""
    return mnp.cumsum(mnp.concatenate([t[:1], mnp.exp(t[1:])]))


def ordered_to_free(p: np.ndarray) -> np.ndarray:
    """The inverse of ``ordered_from_free`` (NaN where p does not increase)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.concatenate([p[:1], np.log(np.diff(p))])


def _corr_from_free(t, d: int):
    """Correlations r_ij (i > j, row by row) of R = L L', L from partial correlations tanh(t)."""
    z = mnp.tanh(t)
    rows, n = [], 0
    for i in range(d):
        row, acc = [], 0.0
        for _ in range(i):
            value = z[n] if not row else z[n] * mnp.sqrt(1.0 - acc)
            row.append(value)
            acc = acc + value * value
            n += 1
        row.append(mnp.sqrt(1.0 - acc) if i else 1.0)
        rows.append(row)
    out = [sum(rows[i][k] * rows[j][k] for k in range(j + 1))
           for i in range(d) for j in range(i)]
    return mnp.stack(out)


def _corr_to_free(r: np.ndarray, d: int) -> np.ndarray:
    """Partial correlations' arctanh from a correlation matrix (raises LinAlgError when R is
    not positive definite)."""
    mat = np.eye(d)
    mat[np.tril_indices(d, -1)] = r     # row by row: the same order as the names
    mat = np.tril(mat) + np.tril(mat, -1).T
    chol = np.linalg.cholesky(mat)
    out = []
    for i in range(d):
        acc = 0.0
        for j in range(i):
            out.append(chol[i, j] / np.sqrt(1.0 - acc))
            acc += chol[i, j] ** 2
    return np.arctanh(np.asarray(out, dtype=float))


def _triangle(size: int, diagonal: bool) -> int | None:
    """d with size = d(d-1)/2 (d(d+1)/2 with the diagonal), d >= 2; None if there is none."""
    for d in range(2, 200):
        n = d * (d + 1) // 2 if diagonal else d * (d - 1) // 2
        if n == size:
            return d
        if n > size:
            return None
    return None


class _Group:
    """One declaration on ``names`` (positions ``index`` in params)."""

    def __init__(self, kind: str, option: Any, names: list[str], index: list[int]):
        self.kind, self.option, self.names, self.index = kind, option, names, index
        self.k_free = len(names) - 1 if kind == "simplex" else len(names)
        self.d = None
        if kind in ("corr_matrix", "cov_matrix"):
            self.d = _triangle(len(names), kind == "cov_matrix")

    def describe(self) -> str:
        what = self.kind if self.option is None else f"{self.kind} {self.option}"
        if self.kind == "interval":
            lo, hi = self.option
            what = f"interval ({'-inf' if lo is None else f'{lo:g}'}, " \
                   f"{'inf' if hi is None else f'{hi:g}'})"
        return f"{', '.join(self.names)}: {what}"

    # free -> natural (mleopt.numpy: traced)
    def forward(self, t):
        kind, opt = self.kind, self.option
        if kind == "positive":
            return special.softplus(t) if opt == "softplus" else mnp.exp(t)
        if kind == "interval":
            lo, hi = opt
            if hi is None:
                return lo + mnp.exp(t)
            if lo is None:
                return hi - mnp.exp(t)
            return lo + (hi - lo) * special.expit(t)
        if kind == "simplex":
            if opt == "stick-breaking":
                k, rest, out = len(self.names), 1.0, []
                for j in range(k - 1):
                    x = rest * special.expit(t[j] - np.log(k - 1 - j))
                    out.append(x)
                    rest = rest - x
                return mnp.stack(out + [rest])
            e = mnp.concatenate([t, np.zeros(1)])
            return mnp.exp(e - special.logsumexp(e))
        if kind == "ordered":
            return ordered_from_free(t)
        if kind == "corr_matrix":
            return _corr_from_free(t, self.d)
        d = self.d                                         # cov_matrix
        s = mnp.exp(t[:d])
        r = _corr_from_free(t[d:], d)
        out, n = [], 0
        for i in range(d):
            for j in range(i):
                out.append(r[n] * s[i] * s[j])
                n += 1
            out.append(s[i] * s[i])
        return mnp.stack(out)

    # natural -> free (numpy), after checking p is inside the set
    def inverse(self, p: np.ndarray) -> np.ndarray:
        kind, opt = self.kind, self.option
        self._check(p)
        with np.errstate(all="ignore"):
            if kind == "positive":
                return p + np.log(-np.expm1(-p)) if opt == "softplus" else np.log(p)
            if kind == "interval":
                lo, hi = opt
                if hi is None:
                    return np.log(p - lo)
                if lo is None:
                    return np.log(hi - p)
                return sps.logit((p - lo) / (hi - lo))
            if kind == "simplex":
                if opt == "stick-breaking":
                    k, rest, out = len(p), 1.0, []
                    for j in range(k - 1):
                        out.append(sps.logit(p[j] / rest) + np.log(k - 1 - j))
                        rest -= p[j]
                    return np.asarray(out)
                return np.log(p[:-1] / p[-1])
            if kind == "ordered":
                return ordered_to_free(p)
            if kind == "corr_matrix":
                return _corr_to_free(p, self.d)
            d = self.d
            cov = np.zeros((d, d))
            cov[np.tril_indices(d)] = p
            s = np.sqrt(np.diag(cov))
            corr = cov / np.outer(s, s)
            return np.concatenate([np.log(s), _corr_to_free(corr[np.tril_indices(d, -1)], d)])

    def _check(self, p: np.ndarray) -> None:
        """A clear error when the natural values ``p`` are outside the declared set."""
        named = ", ".join(f"{n}={v:.6g}" for n, v in zip(self.names, p))
        bad = [n for n, v in zip(self.names, p) if not np.isfinite(v)]
        kind, opt = self.kind, self.option
        why = None
        if bad:
            why = f"{', '.join(bad)} not finite"
        elif kind == "positive":
            bad = [n for n, v in zip(self.names, p) if not v > 0]
            why = bad and f"{', '.join(bad)} must be > 0"
        elif kind == "interval":
            lo, hi = opt
            bad = [n for n, v in zip(self.names, p)
                   if not ((lo is None or v > lo) and (hi is None or v < hi))]
            why = bad and f"{', '.join(bad)} must lie strictly inside the " \
                f"{self.describe().split(': ', 1)[1]}"
        elif kind == "simplex":
            if np.any(p <= 0):
                why = "every weight must be > 0"
            elif abs(p.sum() - 1.0) > 1e-8:
                why = f"the weights sum to {p.sum():.12g}, not 1"
        elif kind == "ordered":
            if np.any(np.diff(p) <= 0):
                why = "the values must be strictly increasing"
        else:
            d = self.d
            mat = np.zeros((d, d))
            if kind == "corr_matrix":
                mat[np.tril_indices(d, -1)] = p
                mat = mat + mat.T + np.eye(d)
            else:
                mat[np.tril_indices(d)] = p
                mat = np.tril(mat) + np.tril(mat, -1).T
            if np.any(np.linalg.eigvalsh(mat) <= 0):
                what = "correlation" if kind == "corr_matrix" else "covariance"
                why = f"the {what} matrix they make is not positive definite"
        if why:
            raise StartValueError(f"start values outside the declared {self.kind} set ({named}): "
                             f"{why}. Pass start_params=... inside it.")


class Reparam:
    """The declarations of one model: ``from_free`` (R^m -> params, mleopt.numpy) and
    ``to_free`` (params -> R^m) with the undeclared parameters passed through."""

    def __init__(self, declarations: dict, param_names: Sequence[str]):
        names = list(param_names)
        if not isinstance(declarations, dict):
            raise TypeError(f"transforms must be a dict {{name or tuple of names: spec}}, "
                            f"not {type(declarations).__name__}.")
        self.groups: list[_Group] = []
        taken: dict[str, str] = {}
        for key, spec in declarations.items():
            kind, option = _parse_spec(spec, key)
            group_names = [key] if isinstance(key, str) else list(key)
            if not group_names or not all(isinstance(n, str) for n in group_names):
                raise TypeError(f"transforms: a key must be a parameter name or a tuple of "
                                f"names, not {key!r}.")
            for n in group_names:
                if n not in names:
                    close = difflib.get_close_matches(n, names, n=1)
                    hint = f" Did you mean {close[0]!r}?" if close else ""
                    raise ValueError(f"transforms: unknown parameter {n!r}.{hint} The "
                                     f"parameters are {', '.join(names)}.")
                if n in taken or group_names.count(n) > 1:
                    raise ValueError(f"transforms: parameter {n!r} is declared twice.")
                taken[n] = kind
            if kind in ("positive", "interval"):        # element by element
                self.groups += [_Group(kind, option, [n], [names.index(n)])
                                for n in group_names]
                continue
            group = _Group(kind, option, group_names, [names.index(n) for n in group_names])
            _check_size(group)
            self.groups.append(group)
        self.k = len(names)
        self.names = names
        dropped = {g.index[-1] for g in self.groups if g.kind == "simplex"}
        kept = [j for j in range(self.k) if j not in dropped]
        self.free_names = [names[j] for j in kept]
        self.k_free = len(kept)
        position = {j: i for i, j in enumerate(kept)}
        declared = {j for g in self.groups for j in g.index}
        self._plain = [j for j in range(self.k) if j not in declared]   # natural positions
        self._plain_free = np.array([position[j] for j in self._plain], dtype=int)
        self._group_free = [np.array([position[j] for j in g.index[:g.k_free]], dtype=int)
                            for g in self.groups]
        order = self._plain + [j for g in self.groups for j in g.index]
        self._perm = np.argsort(np.array(order, dtype=int))
        self.declared = np.zeros(self.k, dtype=bool)
        self.declared[sorted(declared)] = True

    @property
    def reduces(self) -> bool:
        """True when there are fewer free values than parameters (a simplex)."""
        return self.k_free < self.k

    def reducing(self) -> "Reparam | None":
        """The dimension-reducing declarations alone (None if there are none)."""
        if not self.reduces:
            return None
        return Reparam({tuple(g.names): (g.kind, g.option) for g in self.groups
                        if g.kind == "simplex"}, self.names)

    def from_free(self, t):
        """Params (length k) from the free values t (length k_free), differentiable."""
        parts = [t[self._plain_free]] + [g.forward(t[idx])
                                         for g, idx in zip(self.groups, self._group_free)]
        return mnp.concatenate(parts)[self._perm]

    def to_free(self, params) -> np.ndarray:
        """Free values from params (a ValueError naming the parameters outside their set)."""
        p = np.asarray(params, dtype=float)
        out = np.empty(self.k_free)
        out[self._plain_free] = p[self._plain]
        for g, idx in zip(self.groups, self._group_free):
            out[idx] = g.inverse(p[g.index])
        return out

    def expand_free(self, values: np.ndarray, fill: float) -> np.ndarray:
        """A length-k_free vector from a per-parameter one (length k): declared parameters
        get ``fill``, the undeclared keep their value (e.g. the optimiser's scale)."""
        v = np.where(self.declared, fill, np.asarray(values, dtype=float))
        out = np.full(self.k_free, fill)
        out[self._plain_free] = v[self._plain]
        return out

    def natural_positions(self, values: np.ndarray, fill: float) -> np.ndarray:
        """A per-parameter vector (length k) from one per free value (e.g. the optimiser's
        at-bound flags): the undeclared parameters take theirs, the declared ``fill``."""
        out = np.full(self.k, fill, dtype=np.asarray(values).dtype)
        out[self._plain] = np.asarray(values)[self._plain_free]
        return out

    def describe(self) -> list[str]:
        return [g.describe() for g in self.groups]


def _parse_spec(spec: Any, key: Any) -> tuple[str, Any]:
    """``(kind, option)`` from ``"positive"``, ``("positive", "softplus")``,
    ``("interval", lo, hi)``, ...; unknown names refused with a did-you-mean."""
    parts = (spec,) if isinstance(spec, str) else tuple(spec) if isinstance(
        spec, (tuple, list)) else None
    if not parts or not isinstance(parts[0], str):
        raise TypeError(f"transforms[{key!r}]: a spec is a name or a tuple such as "
                        f"('interval', 0, 1), not {spec!r}.")
    kind = parts[0].strip().lower()
    if kind not in SPECS:
        close = difflib.get_close_matches(kind, SPECS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"transforms[{key!r}]: unknown transform {parts[0]!r}.{hint} "
                         f"Known: {', '.join(SPECS)}.")
    rest = parts[1:]
    if kind == "interval":
        if len(rest) != 2:
            raise ValueError(f"transforms[{key!r}]: 'interval' takes (lo, hi): "
                             f"('interval', 0, 1); got {spec!r}.")
        lo, hi = (None if v is None else float(v) for v in rest)
        lo = None if lo == -np.inf else lo       # an infinite end is no end: as None
        hi = None if hi == np.inf else hi
        if lo == np.inf or hi == -np.inf:
            raise ValueError(f"transforms[{key!r}]: the interval's lo cannot be +inf nor its "
                             f"hi -inf; got {spec!r}.")
        if lo is None and hi is None or (lo is not None and hi is not None and not lo < hi):
            raise ValueError(f"transforms[{key!r}]: the interval needs lo < hi (one of "
                             f"them may be None); got {spec!r}.")
        return kind, (lo, hi)
    choices = _OPTIONS.get(kind, ())
    if not rest:
        return kind, (choices[0] if choices else None)
    if len(rest) == 1 and rest[0] in choices:
        return kind, rest[0]
    want = f"one of {', '.join(map(repr, choices))}" if choices else "no option"
    raise ValueError(f"transforms[{key!r}]: {kind!r} takes {want}; got {spec!r}.")


def _check_size(group: _Group) -> None:
    n = len(group.names)
    if group.kind in ("simplex", "ordered") and n < 2:
        raise ValueError(f"transforms: {group.kind!r} needs a tuple of at least 2 parameter "
                         f"names; got {group.names}.")
    if group.kind in ("corr_matrix", "cov_matrix") and group.d is None:
        what = "d(d-1)/2 correlations (r21, r31, r32, ...)" if group.kind == "corr_matrix" \
            else "d(d+1)/2 entries (s11, s21, s22, ...)"
        raise ValueError(f"transforms: {group.kind!r} needs the {what} of a d x d matrix, "
                         f"d >= 2; got {n} names.")
