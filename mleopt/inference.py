"""Tests and derived quantities: Wald and t tests, LR test, delta method, marginal effects.

Every derivative here comes from mleopt.ad:

* delta method: for ``g(theta)``, ``Cov(g) = J V J'`` with ``J = dg/dtheta`` the exact AD
  Jacobian (one batched forward pass);
* marginal effects: the per-observation ``dE[y_i]/dx_i`` is the reverse-mode gradient of
  ``sum_i E[y_i]`` with respect to the design matrix, and its Jacobian with respect to the
  parameters is taken forward-over-reverse, so no derivative is written by hand.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import scipy.special as sps

from . import numpy as mnp
from .ad import grad, jacobian
from .data import align_names
from .exceptions import ConvergenceWarning, warn_user


# =======================================================================================
# distributions
# =======================================================================================

# p-values and quantiles come from scipy.special's distribution functions (ndtr, stdtr,
# chdtrc, fdtrc and their inverses), the same numbers scipy.stats gives (it calls them),
# without importing scipy.stats, which costs ~1 s on a cold start.

def two_sided_p(stat, df_t: float | None = None):
    """``P(|Z| > |stat|)`` under N(0,1), or t(df_t) when df_t is given."""
    neg = -np.abs(np.asarray(stat, dtype=float))
    return 2 * (sps.stdtr(df_t, neg) if df_t is not None else sps.ndtr(neg))


def critical_value(alpha: float, df_t: float | None = None) -> float:
    """The upper ``alpha / 2`` quantile of N(0,1), or of t(df_t) when df_t is given."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}.")
    return float(-(sps.stdtrit(df_t, alpha / 2) if df_t is not None else sps.ndtri(alpha / 2)))


def chi2_sf(stat: float, df: float) -> float:
    """``P(chi2(df) > stat)``; a statistic below 0 (rounding) counts as 0."""
    return float(sps.chdtrc(df, np.maximum(stat, 0.0)))


def f_sf(stat: float, df_num: float, df_denom: float) -> float:
    """``P(F(df_num, df_denom) > stat)``; a statistic below 0 (rounding) counts as 0."""
    return float(sps.fdtrc(df_num, df_denom, np.maximum(stat, 0.0)))


def _stat_names(df_t) -> tuple[str, str]:
    return ("t", "P>|t|") if df_t is not None else ("z", "P>|z|")


def estimate_table(estimate, se, names: Sequence[str], df_t: float | None, alpha: float,
                   label: str = "coef", stat=None) -> pd.DataFrame:
    """The table statsmodels prints: estimate, std err, z (t), P>|z| (P>|t|) and the
    ``1 - alpha`` interval; ``stat`` defaults to estimate / se (a null value of 0)."""
    estimate = np.asarray(estimate, dtype=float)
    se = np.asarray(se, dtype=float)
    if stat is None:
        with np.errstate(invalid="ignore", divide="ignore"):
            stat = estimate / se
    q = critical_value(alpha, df_t)
    stat_name, p_name = _stat_names(df_t)
    return pd.DataFrame({label: estimate, "std err": se, stat_name: stat,
                         p_name: two_sided_p(stat, df_t),
                         f"[{alpha / 2:g}": estimate - q * se,
                         f"{1 - alpha / 2:g}]": estimate + q * se}, index=list(names))


# =======================================================================================
# a table of estimates: t_test, delta_method, get_margeff
# =======================================================================================

class EstimateResults:
    """Estimates with a covariance: ``effect``, ``sd``, ``tvalues``, ``pvalues``, ``conf_int()``.

    ``summary_frame()`` gives the table as a DataFrame (columns coef, std err, z, P>|z|,
    [alpha/2, 1 - alpha/2]); ``print()`` shows it.
    """

    estimate_label = "coef"

    def __init__(self, effect, cov, names: Sequence[str], df_t: float | None = None,
                 null_value=None, jacobian_: np.ndarray | None = None, alpha: float = 0.05):
        self.effect = np.asarray(effect, dtype=float).ravel()
        self.cov = np.asarray(cov, dtype=float).reshape(self.effect.size, self.effect.size)
        self.names = list(names)
        self.df_t = df_t
        self.null_value = (np.zeros_like(self.effect) if null_value is None
                           else np.broadcast_to(np.asarray(null_value, float), self.effect.shape))
        self.jacobian = jacobian_
        self.alpha = alpha

    def _s(self, values) -> pd.Series:
        return pd.Series(np.asarray(values, dtype=float), index=self.names)

    @property
    def sd(self) -> pd.Series:
        with np.errstate(invalid="ignore"):
            return self._s(np.sqrt(np.diag(self.cov)))

    bse = sd

    @property
    def tvalues(self) -> pd.Series:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self._s((self.effect - self.null_value) / self.sd.to_numpy())

    statistic = tvalues

    @property
    def pvalues(self) -> pd.Series:
        return self._s(two_sided_p(self.tvalues.to_numpy(), self.df_t))

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Columns 0 and 1: lower and upper bounds (``alpha`` defaults to the one given)."""
        q = critical_value(self.alpha if alpha is None else alpha, self.df_t)
        se = self.sd.to_numpy()
        return pd.DataFrame({0: self.effect - q * se, 1: self.effect + q * se}, index=self.names)

    def summary_frame(self, alpha: float | None = None) -> pd.DataFrame:
        return estimate_table(self.effect, self.sd.to_numpy(), self.names, self.df_t,
                              self.alpha if alpha is None else alpha, self.estimate_label,
                              stat=self.tvalues.to_numpy())

    summary_title = "Estimates"

    def summary(self, alpha: float | None = None, title: str | None = None):
        """The table as a report (``print``, ``as_text()``, ``as_html()``, ``as_latex()``)."""
        from .report import Report
        return Report(title or self.summary_title, [], [], self.summary_frame(alpha), [])

    def __str__(self) -> str:
        return self.summary_frame().to_string()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>\n{self}"


# =======================================================================================
# linear restrictions: R params = q
# =======================================================================================

_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _unknown_name(text: str, pos: int, names: list[str], where: str) -> str:
    """The message for a token that is neither a number nor a parameter name."""
    stops = "+-*/,;" if any("=" in n for n in names) else "+-*/=,;"   # (MNLogit: "PID=1:age")
    end, depth = pos, 0
    while end < len(text) and not text[end].isspace() and text[end] not in stops:
        depth += (text[end] in "([") - (text[end] in ")]")
        if depth < 0:                   # a closing bracket of the expression, not the name's
            break
        end += 1
    token = text[pos:end] or text[pos:]
    close = difflib.get_close_matches(token, names, n=3)
    close += [n for n in names if n.endswith(":" + token) and n not in close][:3]
    hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
    return (f"no parameter named {token!r} in restriction {where!r}; the parameters are "
            f"{names}.{hint}")


class _LinearParser:
    """A linear expression in the parameter names -> ``(coefficients, constant)``.

    Grammar: ``expr = term (("+" | "-") term)*``; ``term = factor (("*" | "/") factor)*``, a
    number directly followed by a factor multiplying it (``3 PID``); ``factor = ("+" | "-")
    factor | number | name | "(" expr ")"``. Products need one constant side and divisors
    must be constants, so the result stays linear (``2*(PID - income)``, ``(a + b)/2``).
    Names are matched longest first, before parentheses, so ``C(educ)[T.2]`` is one name.
    """

    def __init__(self, text: str, names: list[str], where: str):
        self.text, self.names, self.where, self.n = text, names, where, len(text)
        self.by_length = sorted(range(len(names)), key=lambda i: -len(names[i]))

    def parse(self) -> tuple[np.ndarray, float]:
        if not self.text.strip():
            raise ValueError(f"empty side in restriction {self.where!r}.")
        value, pos = self.expr(0)
        pos = self.skip(pos)
        if pos < self.n:
            raise ValueError(f"expected '+' or '-' at {self.text[pos:]!r} in restriction "
                             f"{self.where!r}.")
        return value

    def skip(self, p: int) -> int:
        while p < self.n and self.text[p].isspace():
            p += 1
        return p

    def name_at(self, p: int):
        text, n = self.text, self.n
        for i in self.by_length:
            name = self.names[i]
            end = p + len(name)
            if name and text.startswith(name, p) and not (
                    end < n and _is_word(text[end]) and _is_word(name[-1])):
                return i        # a whole name, not the start of a longer word
        return None

    def expr(self, pos: int):
        (coefs, const), pos = self.term(pos)
        while True:
            pos = self.skip(pos)
            if pos >= self.n or self.text[pos] not in "+-":
                return (coefs, const), pos
            sign = -1.0 if self.text[pos] == "-" else 1.0
            (c2, k2), pos = self.term(pos + 1)
            coefs, const = coefs + sign * c2, const + sign * k2

    def term(self, pos: int):
        left, pos = self.factor(pos)
        while True:
            pos = self.skip(pos)
            if pos < self.n and self.text[pos] in "*/":
                op = self.text[pos]
                right, pos = self.factor(pos + 1, after=op)
            elif pos < self.n and self.starts_factor(pos) and not left[0].any():
                op = "*"                        # "3 PID": a number times what follows
                right, pos = self.factor(pos)
            else:
                return left, pos
            left = self.combine(left, op, right)

    def starts_factor(self, pos: int) -> bool:
        return (self.text[pos] == "(" or self.name_at(pos) is not None
                or _NUMBER.match(self.text, pos) is not None)

    def combine(self, left, op: str, right):
        (lc, lk), (rc, rk) = left, right
        if op == "/":
            if rc.any():
                raise ValueError(f"division by an expression in the parameters in restriction "
                                 f"{self.where!r}: restrictions must be linear.")
            if rk == 0:
                raise ValueError(f"division by zero in restriction {self.where!r}.")
            return lc / rk, lk / rk
        if lc.any() and rc.any():
            raise ValueError(f"a product of parameters in restriction {self.where!r}: "
                             "restrictions must be linear (use delta_method for nonlinear "
                             "functions).")
        return lc * rk + rc * lk, lk * rk

    def factor(self, pos: int, after: str | None = None):
        pos = self.skip(pos)
        text = self.text
        if pos < self.n and text[pos] in "+-":
            sign = -1.0 if text[pos] == "-" else 1.0
            (c, k), pos = self.factor(pos + 1, after)
            return (sign * c, sign * k), pos
        idx = self.name_at(pos)
        if idx is not None:
            coefs = np.zeros(len(self.names))
            coefs[idx] = 1.0
            return (coefs, 0.0), pos + len(self.names[idx])
        if pos < self.n and text[pos] == "(":
            value, end = self.expr(pos + 1)
            end = self.skip(end)
            if end >= self.n or text[end] != ")":
                raise ValueError(f"missing ')' in restriction {self.where!r}.")
            return value, end + 1
        m = _NUMBER.match(text, pos)
        if m:
            return (np.zeros(len(self.names)), float(m.group(0))), m.end()
        if after in ("*", "/") and (pos >= self.n or text[pos] in "=+-*/)"):
            raise ValueError(f"expected a number, a parameter or '(' after {after!r} in "
                             f"restriction {self.where!r} (no parameter named there).")
        raise ValueError(_unknown_name(text, pos, self.names, self.where))


def parse_restrictions(spec: str | Sequence[str], names: Sequence[str]
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Restrictions such as ``"x1 = x2"``, ``"x1 + x2 = 1"``, ``"x1 = 0, x2 = 0"``,
    ``"2*x1 - x2/3 = 0.5"`` or ``"2*(x1 - x2) = (x3 + 1)/2"`` -> ``(R, q)`` (linear
    arithmetic with parentheses, see :class:`_LinearParser`). A restriction without ``=`` means ``= 0``;
    several are separated by commas or semicolons, or given as a list of strings.
    """
    names = list(names)
    parts = _split_top_level(spec) if isinstance(spec, str) else list(spec)
    parts = [p.strip() for p in parts if p.strip()]
    if not parts:
        raise ValueError("no restriction given.")
    rows, qs = [], []
    for part in parts:
        sides = _split_sides(part, names)
        if len(sides) > 2 and any("=" in n for n in names):
            for token in re.findall(r"[^\s+\-*/,;()=]+=[^\s+\-*/,;()=]+", part):
                if not any(token in n for n in names):  # a misspelt "PID=3:age"
                    raise ValueError(_unknown_name(token, 0, names, part))
        if len(sides) > 2 or (len(sides) == 2 and not sides[1].strip()):
            raise ValueError(f"restriction {part!r} must have the form 'expression = expression'.")
        lhs, lc = _LinearParser(sides[0], names, part).parse()
        rhs, rc = (_LinearParser(sides[1], names, part).parse() if len(sides) == 2
                   else (0 * lhs, 0.0))
        row = lhs - rhs
        if not row.any():
            raise ValueError(f"restriction {part!r} involves no parameter; names are {names}.")
        rows.append(row)
        qs.append(rc - lc)
    return np.array(rows), np.array(qs)


def _split_top_level(spec: str) -> list[str]:
    """``spec`` split at commas, semicolons and newlines outside parentheses and brackets
    (a name such as ``C(educ, Treatment(1))[T.2]`` keeps its comma)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(spec):
        depth += (ch in "([") - (ch in ")]")
        if depth <= 0 and ch in ",;\n":
            parts.append(spec[start:i])
            start = i + 1
    return parts + [spec[start:]]


def _split_sides(part: str, names: Sequence[str], chars: str = "=") -> list[str]:
    """``part`` split at its ``=`` signs (or the characters ``chars``), except those inside
    a parameter name holding one (MNLogit's ``"PID=1:age"``, a formula's
    ``"C(educ, Treatment(3))[T.1]"``; longest names first)."""
    inside = np.zeros(len(part), dtype=bool)
    for name in sorted((n for n in names if any(c in n for c in chars)), key=len,
                       reverse=True):
        start = part.find(name)
        while start >= 0:
            if not inside[start]:
                inside[start:start + len(name)] = True
            start = part.find(name, start + len(name))
    cuts = [i for i, ch in enumerate(part) if ch in chars and not inside[i]]
    bounds = [-1] + cuts + [len(part)]
    return [part[a + 1:b] for a, b in zip(bounds[:-1], bounds[1:])]


def _restrictions(results, r_matrix, q) -> tuple[np.ndarray, np.ndarray, list[str]]:
    names = results.param_names
    if isinstance(r_matrix, tuple) and len(r_matrix) == 2 and q is None and \
            not isinstance(r_matrix[0], str):
        r_matrix, q = r_matrix  # statsmodels' (R, q) form
    if isinstance(r_matrix, str) or (isinstance(r_matrix, (list, tuple)) and r_matrix
                                      and all(isinstance(s, str) for s in r_matrix)):
        if q is not None:
            raise ValueError("give q inside the restriction strings (e.g. 'x1 = 1'), not as q.")
        r, q = parse_restrictions(r_matrix, names)
    else:   # a DataFrame's columns / a Series' index name parameters: matched by name
        r_matrix = align_names(r_matrix, names, "R", "R[res.model.param_names]")
        r = np.atleast_2d(np.asarray(r_matrix, dtype=float))
        if r.shape[1] != len(names):
            raise ValueError(f"R has {r.shape[1]} columns but the model has {len(names)} "
                             f"parameters {names}.")
        q = np.zeros(r.shape[0]) if q is None else np.asarray(q, dtype=float).ravel()
        if q.size == 1 and r.shape[0] > 1:
            q = np.full(r.shape[0], float(q[0]))
        if q.size != r.shape[0]:
            raise ValueError(f"q has {q.size} values for {r.shape[0]} restrictions.")
    labels = [_restriction_label(row, c, names) for row, c in zip(r, q)]
    return r, q, labels


def _restriction_label(row, q, names) -> str:
    text = ""
    for c, name in zip(row, names):
        if c == 0:
            continue
        mag = "" if abs(c) == 1 else f"{abs(c):g}*"
        if not text:
            text = ("-" if c < 0 else "") + mag + str(name)
        else:
            text += (" - " if c < 0 else " + ") + mag + str(name)
    return f"{text} = {q:g}"


@dataclass
class WaldTestResults:
    """Joint Wald test of ``R params = q``.

    chi2 form ``W = (Rb - q)' (R V R')^-1 (Rb - q)`` on ``df`` restrictions; when the results
    use t (OLS classical), the F form ``W / df`` on (df, df_denom), as statsmodels.
    """

    statistic: float
    df: int
    pvalue: float
    distribution: str
    restrictions: list
    df_denom: float | None = None
    each: "EstimateResults | None" = None     # the restrictions one at a time (t_test)

    def summary(self, alpha: float = 0.05):
        """A report: the joint statistic in the header, each restriction's estimate
        ``R b``, its standard error and its own test below."""
        from .report import Report
        dist = (f"F({self.df}, {self.df_denom:g})" if self.distribution == "F"
                else f"chi2({self.df})")
        left = [("Statistic:", f"{dist} = {self.statistic:.6g}"),
                ("P-value:", f"{self.pvalue:.4g}")]
        frame = self.each.summary_frame(alpha) if self.each is not None else pd.DataFrame()
        return Report("Wald Test", left, [], frame,
                      [f"H0: {'; '.join(self.restrictions)} (jointly)."])

    def __repr__(self) -> str:
        dist = (f"F({self.df}, {self.df_denom:g})" if self.distribution == "F"
                else f"chi2({self.df})")
        lines = [f"<Wald test: {dist} = {self.statistic:.6g}, p-value = {self.pvalue:.4g}>"]
        lines += [f"  {r}" for r in self.restrictions]
        return "\n".join(lines)

    __str__ = __repr__


def wald_form(diff: np.ndarray, v: np.ndarray) -> float:
    """``diff' V^-1 diff`` for q restrictions with covariance ``V`` (q x q), or NaN with a
    warning when V has NaN entries or is singular to rounding (rank < q: e.g. more
    restrictions than G - 1 under a cluster covariance from G clusters). Rank is judged on V
    scaled to unit diagonal, with safe_inverse's tolerance (64 q eps * largest eigenvalue)."""
    if not np.isfinite(v).all():
        warn_user("the restrictions involve parameters whose standard errors are NaN; "
                  "the Wald statistic is NaN.", UserWarning)
        return np.nan
    q = v.shape[0]
    d = np.diag(v)
    if np.all(d > 0):
        s = 1.0 / np.sqrt(d)
        w = np.linalg.eigvalsh(s[:, None] * v * s[None, :])
        rank = int(np.sum(w > max(w[-1], 0.0) * 64 * q * np.finfo(float).eps))
    else:
        rank = 0
    if rank < q:
        warn_user(f"the covariance of the {q} restrictions is singular (rank {rank} < {q}; a "
                  "cluster covariance from G clusters has rank at most G - 1), so they "
                  "cannot be tested jointly: the Wald statistic is NaN. Test fewer "
                  "restrictions, or use more clusters or another cov_type.", UserWarning)
        return np.nan
    return float(diff @ np.linalg.solve(v, diff))


def wald_test(results, r_matrix, q=None) -> WaldTestResults:
    r, q, labels = _restrictions(results, r_matrix, q)
    if np.linalg.matrix_rank(r) < r.shape[0]:
        raise ValueError(f"the {r.shape[0]} restrictions are linearly dependent; drop the "
                         "redundant ones.")
    diff = r @ results._params - q
    stat = wald_form(diff, _jvj(r, results._cov))
    df = r.shape[0]
    each = _t_test(results, r, q, labels)
    if results.use_t:
        df_denom = results.df_t
        return WaldTestResults(stat / df, df, f_sf(stat / df, df, df_denom), "F",
                               labels, df_denom, each)
    return WaldTestResults(stat, df, chi2_sf(stat, df), "chi2", labels, each=each)


def t_test(results, r_matrix, q=None) -> EstimateResults:
    return _t_test(results, *_restrictions(results, r_matrix, q))


def _t_test(results, r, q, labels) -> EstimateResults:
    out = EstimateResults(r @ results._params, _jvj(r, results._cov), labels,
                          df_t=results.df_t, null_value=q, jacobian_=r)
    out.summary_title = "Test for Constraints"
    return out


# =======================================================================================
# likelihood-ratio test
# =======================================================================================

@dataclass
class LRTestResults:
    """``LR = 2 (llf_unrestricted - llf_restricted)`` ~ chi2(df), df = difference in K."""

    statistic: float
    df: int
    pvalue: float
    note: str | None = None

    def __repr__(self) -> str:
        text = (f"<Likelihood-ratio test: chi2({self.df}) = {self.statistic:.6g}, "
                f"p-value = {self.pvalue:.4g}>")
        return text if self.note is None else f"{text}\n  Note: {self.note}"

    __str__ = __repr__


def lr_test(unrestricted, restricted) -> LRTestResults:
    """``LR = 2 (llf_u - llf_r) ~ chi2(k_u - k_r)`` for nested fits of the same data.

    The fits may be given in either order (the one with fewer parameters is the restricted
    one). Nesting is checked as far as the fits allow, and a ``ValueError`` names what
    fails: the same model class (or Poisson within NegativeBinomial, whose result carries a
    note on the boundary alpha = 0), the same N, dependent variable and offset/exposure
    (or a user model's extra per-row arrays), the restricted fit's
    parameter names a subset of the full fit's, and the regressors of the same name holding
    the same values. The statistic is never negative: a shortfall within the rounding of the
    two log-likelihoods is reported as 0; a larger one (the "restricted" fit has the higher
    likelihood) is an error, as the fits are then not nested or the full fit did not converge.
    A fit that did not converge gives a ConvergenceWarning.
    """
    for fit in (unrestricted, restricted):
        weighting = getattr(fit.model, "weighting", None)
        if weighting is not None and weighting.kind == "pweight":
            raise ValueError("an LR test needs a likelihood; with sampling weights (pweights) "
                             "llf is a pseudo log-likelihood. Test the restrictions with "
                             "wald_test on the robust covariance instead.")
    if len(restricted._params) > len(unrestricted._params):
        unrestricted, restricted = restricted, unrestricted
    _check_nested(unrestricted, restricted)
    ku, kr = len(unrestricted._params), len(restricted._params)
    stopped = [w for w, r in (("full", unrestricted), ("restricted", restricted))
               if r.converged is False]
    if stopped:
        warn_user(f"lr_test: the {' and the '.join(stopped)} fit did not converge, so its "
                  "log-likelihood is not a maximum and the LR statistic is unreliable; refit "
                  "until converged is True.", ConvergenceWarning)
    stat = 2.0 * (unrestricted.llf - restricted.llf)
    if stat < 0:
        # two maxima of sums of N terms agree to about sqrt(N) eps |llf| (rounding), plus
        # the optimisers' tolerance; 1e-8 relative (at least 1e-8) covers both
        tol = 1e-8 * max(1.0, abs(unrestricted.llf), abs(restricted.llf))
        if stat < -2.0 * tol:
            raise ValueError(
                f"the 'restricted' fit ({kr} parameters, llf = {restricted.llf:.10g}) has a "
                f"higher log-likelihood than the full fit ({ku} parameters, llf = "
                f"{unrestricted.llf:.10g}), so LR = {stat:.4g} < 0: the models are not nested, "
                "or the full fit did not reach its maximum (check converged and refit from the "
                "restricted estimates).")
        stat = 0.0      # equal up to rounding
    df = ku - kr
    note = _nesting_note(unrestricted.model, restricted.model)
    return LRTestResults(stat, df, chi2_sf(stat, df), note)


def _nesting_note(full_model, restricted_model) -> str | None:
    """What an LR test of two different model classes must say, when the full model's class
    declares the restricted one nested in it (``nested_models = {class: note}``), else None."""
    return getattr(type(full_model), "nested_models", {}).get(type(restricted_model))


def _check_nested(full, restricted) -> None:
    """Raise a ValueError saying why ``restricted`` cannot be a restriction of ``full``."""
    fm, rm = full.model, restricted.model
    if type(fm) is not type(rm) and _nesting_note(fm, rm) is None:
        raise ValueError(
            f"an LR test compares two fits of the same model class; got {type(fm).__name__} "
            f"({len(full._params)} parameters) and {type(rm).__name__} "
            f"({len(restricted._params)}). Fit both with the same model.")
    reason = getattr(fm, "not_nested_reason", None)    # a class holding several families
    reason = reason(rm) if reason is not None else None
    if reason:
        raise ValueError(reason)
    if full.nobs != restricted.nobs:
        raise ValueError(f"the two fits use different data ({full.nobs} vs {restricted.nobs} "
                         "observations); an LR test needs the same sample.")
    yu, yr = getattr(fm, "endog", None), getattr(rm, "endog", None)
    if yu is not None and yr is not None and not np.array_equal(yu, yr):
        raise ValueError("the two fits have different dependent variables; an LR test compares "
                         "nested models of the same data.")
    ku, kr = len(full._params), len(restricted._params)
    if kr >= ku:
        raise ValueError(f"both fits have {ku} parameters: an LR test compares a model with a "
                         "restricted (smaller) version of it.")
    fnames, rnames = list(full.param_names), list(restricted.param_names)
    missing = [n for n in rnames if n not in fnames]
    if missing:
        raise ValueError(
            f"the restricted fit's parameter(s) {missing} are not in the full fit "
            f"{fnames}: the models are not nested (a restricted model keeps a subset of the "
            "full model's regressors). Name the same regressors the same way in both.")
    _check_same_offsets(fm, rm)
    xu, xr = getattr(fm, "exog", None), getattr(rm, "exog", None)
    if xu is None or xr is None:
        return
    xnames_u, xnames_r = list(fm.exog_names), list(rm.exog_names)
    for j, name in enumerate(xnames_r):
        if name in xnames_u and not np.array_equal(xr[:, j], xu[:, xnames_u.index(name)]):
            raise ValueError(
                f"regressor {name!r} holds different values in the two fits, so they are "
                "not nested; give both models the same columns (e.g. DataFrame columns, so "
                "that names follow the data).")


def _check_same_offsets(fm, rm) -> None:
    """Raise when the fits' other per-row inputs differ: the total offset (offset plus
    log exposure) of the index models, or a user model's extra per-row vectors (an offset,
    a censoring flag, ...), enter the likelihood without a free coefficient, so fits with
    different ones are not nested."""
    if hasattr(fm, "_offset") and hasattr(rm, "_offset"):
        ou, orr = fm._offset(), rm._offset()
        ou = np.zeros(fm.nobs) if ou is None else ou
        orr = np.zeros(rm.nobs) if orr is None else orr
        # log(exposure) and the same offset given directly agree to rounding only
        if not np.allclose(ou, orr, rtol=1e-12, atol=1e-12):
            raise ValueError(
                "the two fits have different offsets (offset + log(exposure)), so they are not "
                "nested; give both models the same offset and exposure.")
        compared = {"offset", "exposure"}
    else:
        compared = set()
    eu = getattr(getattr(fm, "data", None), "extras", None) or {}
    er = getattr(getattr(rm, "data", None), "extras", None) or {}
    for name in sorted((set(eu) | set(er)) - compared):
        a, b = eu.get(name), er.get(name)
        if (a is None) != (b is None) or (a is not None and not np.array_equal(a, b)):
            raise ValueError(
                f"the per-row array {name!r} differs between the two fits, so they are not "
                f"nested; give both models the same {name!r}.")


# =======================================================================================
# delta method
# =======================================================================================

class ParamView:
    """What ``func`` receives in ``delta_method``: the parameter vector, indexable by name.

    ``p["PID"]`` or ``p[2]`` (a scalar), ``p[["age", "educ"]]`` or ``p[1:3]`` (a vector), and
    ``p.values`` for the whole vector (for vectorised mleopt.numpy code). Arithmetic acts on
    the whole vector: ``p * 2``, ``1 / p``, ``p @ w``, ``abs(p)``; so do the functions of
    numpy and mleopt.numpy (``mnp.exp(p)``, ``np.sum(p)``), by their mleopt.numpy namesakes
    on ``p.values`` (derivatives kept).
    """

    def __init__(self, values, names):
        self.values = values
        self.names = list(names)
        self._pos = {n: i for i, n in enumerate(self.names)}

    def _index(self, key):
        if isinstance(key, str):
            if key not in self._pos:
                raise KeyError(f"no parameter named {key!r}; names are {self.names}.")
            return self._pos[key]
        return key

    def __getitem__(self, key):
        if isinstance(key, (list, tuple)) and key and all(isinstance(k, str) for k in key):
            return mnp.stack([self.values[self._index(k)] for k in key])
        return self.values[self._index(key)]

    def __len__(self):
        return len(self.names)

    def __iter__(self):
        return (self.values[i] for i in range(len(self.names)))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__":
            return NotImplemented
        return _on_values(ufunc.__name__, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _on_values(func.__name__, args, kwargs)


def _on_values(name: str, args, kwargs):
    """numpy's ``name`` called on a ParamView: mleopt.numpy's ``name`` on its values."""
    fn = getattr(mnp, name, None)
    if fn is None:
        return NotImplemented

    def unwrap(a):
        return a.values if isinstance(a, ParamView) else a
    return fn(*[unwrap(a) for a in args], **{k: unwrap(v) for k, v in kwargs.items()})


def _arithmetic(name: str):
    """``view <op> other``: the operation on the whole parameter vector (``b * 2``)."""
    def op(self, *other):
        other = [o.values if isinstance(o, ParamView) else o for o in other]
        return getattr(self.values, name)(*other)
    op.__name__ = name
    return op


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
              "__truediv__", "__rtruediv__", "__pow__", "__rpow__", "__neg__", "__pos__",
              "__matmul__", "__rmatmul__", "__abs__"):
    setattr(ParamView, _name, _arithmetic(_name))


def _as_vector(out):
    """func's output as a 1-D differentiable vector, plus the names a dict/Series provides."""
    keys = None
    if isinstance(out, pd.Series):
        keys, out = [str(k) for k in out.index], list(out.to_numpy())
    elif isinstance(out, dict):
        keys, out = [str(k) for k in out], list(out.values())
    if isinstance(out, (list, tuple)):
        out = mnp.concatenate([mnp.reshape(o, (-1,)) for o in out])
    return mnp.reshape(out, (-1,)), keys


def delta_method(results, func: Callable, names: Sequence[str] | None = None,
                 alpha: float = 0.05) -> EstimateResults:
    """``g(params)`` with ``Cov(g) = J V J'``, ``J`` the exact AD Jacobian.

    ``func`` receives a :class:`ParamView` and returns a scalar, a vector, a list, or a dict
    ``{name: value}``, written with mleopt.numpy. ``names`` label the outputs.
    """
    pnames = results.param_names
    traced_names: list = []

    def g(theta):
        vec, keys = _as_vector(func(ParamView(theta, pnames)))
        traced_names[:] = keys or []
        return vec

    theta = results._params
    out = func(ParamView(theta, pnames))
    if out is None or isinstance(out, (str, bytes)) or (
            isinstance(out, (list, tuple, dict, pd.Series)) and len(out) == 0):
        raise TypeError(f"delta_method: func must return a number, a vector, a list or a "
                        f"dict of numbers computed from the parameters; it returned {out!r}.")
    value, _ = _as_vector(out)
    value = np.asarray(value)
    if value.dtype.kind not in "biuf":
        raise TypeError(f"delta_method: func must return numbers; it returned values of "
                        f"dtype {value.dtype} ({out!r:.80}).")
    value = value.astype(float)
    jac = np.asarray(jacobian(g, mode="fwd")(theta), dtype=float).reshape(value.size, theta.size)
    if names is None:
        names = traced_names or (["g"] if value.size == 1
                                 else [f"g{i}" for i in range(value.size)])
    if len(names) != value.size:
        raise ValueError(f"{len(names)} names for {value.size} values of func.")
    return EstimateResults(value, _jvj(jac, results._cov), names, df_t=results.df_t,
                           jacobian_=jac, alpha=alpha)


def _jvj(jac: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """``J V J'``; a row of J that touches a parameter with NaN variance gets NaN (and only
    such rows: ``0 * NaN`` does not spread to the others)."""
    nan_param = np.isnan(np.diag(cov))
    out = jac @ np.where(np.isnan(cov), 0.0, cov) @ jac.T
    bad = np.any(jac[:, nan_param] != 0, axis=1)
    out[bad, :] = np.nan
    out[:, bad] = np.nan
    return out


# =======================================================================================
# marginal effects
# =======================================================================================

class MarginalEffects(EstimateResults):
    """Marginal effects with delta-method standard errors, as statsmodels' ``get_margeff``.

    ``margeff``, ``margeff_se``, ``tvalues``, ``pvalues``, ``conf_int()``,
    ``summary_frame()``, ``summary()``.
    """

    def __init__(self, *args, method: str, at: str, results=None, **kwds):
        super().__init__(*args, **kwds)
        self.method, self.at = method, at
        self._results = results
        self.estimate_label = {"dydx": "dy/dx", "eyex": "d(lny)/d(lnx)",
                               "dyex": "dy/d(lnx)", "eydx": "d(lny)/dx"}[method]

    @property
    def margeff(self) -> pd.Series:
        return self._s(self.effect)

    @property
    def margeff_se(self) -> pd.Series:
        return self.sd

    def summary(self, alpha: float | None = None):
        from .report import MarginsSummary
        return MarginsSummary(self, alpha=self.alpha if alpha is None else alpha)


_METHODS = ("dydx", "eyex", "dyex", "eydx")


def _discrete_columns(x: np.ndarray, dummy: bool, count: bool) -> dict[int, str]:
    """{column: "dummy" | "count"}: non-constant 0/1 columns are dummies; non-constant
    columns of non-negative integers that are not 0/1 are counts (statsmodels' and Stata's
    classification). A 0/1 column is never a count: with ``dummy=False`` it keeps its
    derivative, whatever ``count`` says."""
    out: dict[int, str] = {}
    for j in range(x.shape[1]):
        col = x[:, j]
        if col.min() == col.max():
            continue
        if np.all((col == 0) | (col == 1)):
            if dummy:
                out[j] = "dummy"
        elif count and col.min() >= 0 and np.all(col == np.round(col)):
            out[j] = "count"
    return out


def sample_weights(model) -> np.ndarray | None:
    """The model's observation weights over its rows, divided by their sum (averages over
    the sample count row i ``w_i`` times, as Stata's margins with weights); None when
    unweighted."""
    w = model._row_weights() if hasattr(model, "_row_weights") else None
    return None if w is None else w / w.sum()


def sample_mean(values, w: np.ndarray | None):
    """The mean over the rows (axis 0) of ``values``, weighted by ``w`` (summing to 1)."""
    return mnp.mean(values, axis=0) if w is None else mnp.matmul(w, values)


def at_row(x: np.ndarray, at: str, model) -> np.ndarray:
    """The one row of regressors ``at="mean"`` / ``"median"`` stands for (weighted mean;
    a median with weights is refused: with non-integer weights it is not one number)."""
    w = sample_weights(model)
    if at == "mean":
        return np.average(x, axis=0, weights=w)[None, :]
    if w is not None:
        raise ValueError(f"at='median' is not offered with observation weights "
                         f"({model.weighting.name}); use at='mean' (the weighted mean) "
                         "or atexog= with the values you want.")
    return np.median(x, axis=0, keepdims=True)


def _discrete_change(mean_fn, theta, x: np.ndarray, j: int, kind: str, w=None):
    """Mean of E[y | x_j = 1] - E[y | x_j = 0] (dummy), or of the centred unit change
    (E[y | x_j + 1] - E[y | x_j - 1]) / 2 (count; statsmodels' definition)."""
    hi, lo = x.copy(), x.copy()
    if kind == "dummy":
        hi[:, j], lo[:, j] = 1.0, 0.0
        width = 1.0
    else:
        hi[:, j] += 1.0
        lo[:, j] -= 1.0
        width = 2.0
    return sample_mean(mnp.subtract(mean_fn(theta, hi), mean_fn(theta, lo)), w) / width


_AT = ("overall", "mean", "median", "zero")


def margeff(results, at: str = "overall", method: str = "dydx", alpha: float = 0.05,
            dummy: bool = False, count: bool = False, which: str = "mean",
            atexog: dict | None = None) -> MarginalEffects:
    """Marginal effects of the regressors on E[y] (see :class:`MarginalEffects`).

    ``at="overall"``: the average over the sample of each observation's effect;
    ``at="mean"`` / ``"median"``: the effect at the sample mean / median of the regressors;
    ``at="zero"``: at regressors 0 (the constant 1), as statsmodels. ``atexog={column: value}``
    (a column's name or position in exog) holds regressors at given values, set after
    ``at`` (statsmodels sets them before, so its ``at="zero"`` loses them). For observation i,
    ``dydx_ij = dE[y_i]/dx_ij``, ``eyex = dydx x_ij / E[y_i]``, ``dyex = dydx x_ij``,
    ``eydx = dydx / E[y_i]``. A count model's offset / exposure enters E[y_i] (at its
    sample mean for ``at="mean"``). ``dummy`` / ``count``: discrete changes for 0/1 and
    count columns instead of derivatives (see ``results.get_margeff``). ``which``: the
    prediction differentiated, ``model.predict(..., which=which)`` (E[y] by default).
    """
    if (dummy or count) and method != "dydx":
        raise ValueError("dummy=True / count=True give discrete changes in E[y]; they go with "
                         "method='dydx'.")
    if at not in _AT:
        raise ValueError(f"at must be one of {_AT}; got {at!r}.")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}; got {method!r}.")
    model = results.model
    if hasattr(model, "_margins_model"):     # a model with several designs: its variables
        model = model._margins_model()
    if getattr(model, "exog", None) is None:
        raise ValueError(f"marginal effects are derivatives of the prediction with respect "
                         f"to the regressors; {type(model).__name__} has no exog (a model "
                         "written as a function only: use delta_method).")
    theta = results._params
    exog_names = list(model.exog_names)
    if _blocked(model):
        if at in ("median", "zero") or atexog:
            asked = f"at={at!r}" if at in ("median", "zero") else "atexog="
            raise ValueError(f"{asked} is not available for a model evaluated in row blocks "
                             "(or Dask partitions); use at='overall' or 'mean' without "
                             "atexog.")
        value, jac, keep = _margeff_blocks(model, theta, at, method, dummy, count, which)
    else:
        x = at_rows(model, at, atexog)
        # the constant (a model has at most one: a second would be collinear) has no effect
        const = getattr(model, "const_idx", None)
        keep = np.array([j for j in range(x.shape[1]) if j != const], dtype=int)
        discrete = _discrete_columns(np.asarray(model.exog, float), dummy, count)
        offset = _offset_of(model)      # count models: offset + log(exposure)
        if offset is not None and at != "overall":
            offset = np.array([np.average(offset, weights=sample_weights(model))])
        effects = _effects_function(model, x, offset, method, discrete, keep, which,
                                    own_rows=at == "overall")
        value = np.asarray(effects(theta), dtype=float)
        jac = np.asarray(jacobian(effects, mode="fwd")(theta), dtype=float)
    names = [exog_names[i] for i in keep]
    return MarginalEffects(value, _jvj(jac, results._cov), names, df_t=None, jacobian_=jac,
                           alpha=alpha, method=method, at=at, results=results)


def at_rows(model, at: str, atexog: dict | None) -> np.ndarray:
    """The rows of regressors at which effects are evaluated: the model's own rows
    (``"overall"``), their mean or median (one row), or zeros with the constant 1
    (``"zero"``); then the columns in ``atexog`` set to its values."""
    if at not in _AT:
        raise ValueError(f"at must be one of {_AT}; got {at!r}.")
    x = np.asarray(model.exog, dtype=float)
    if at in ("mean", "median"):        # (weighted mean; a weighted median is refused)
        x = at_row(x, at, model)
    elif at == "zero":
        x = np.zeros((1, x.shape[1]))
        if getattr(model, "const_idx", None) is not None:
            x[0, model.const_idx] = 1.0
    return _set_columns(x, atexog, list(model.exog_names))


def _set_columns(x: np.ndarray, atexog: dict | None, names: list[str]) -> np.ndarray:
    """A copy of ``x`` with the columns named (or numbered) in ``atexog`` set to its values
    (a number, or one value per row)."""
    if not atexog:
        return x
    if not isinstance(atexog, dict):
        raise TypeError(f"atexog must be a dict {{column name or position: value}}; got "
                        f"{type(atexog).__name__}.")
    x = x.copy()
    for key, value in atexog.items():
        if isinstance(key, str):
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"atexog: no regressor named {key!r}; the regressors are "
                                 f"{names}.{hint}")
            j = names.index(key)
        elif isinstance(key, (int, np.integer)) and -len(names) <= key < len(names):
            j = int(key)
        else:
            raise ValueError(f"atexog: column {key!r} is not a position in exog (0 to "
                             f"{len(names) - 1}) nor a regressor name.")
        v = np.asarray(value, dtype=float)
        if v.ndim > 1 or (v.ndim == 1 and v.size != x.shape[0]):
            raise ValueError(f"atexog[{key!r}] must be a number or one value per row "
                             f"({x.shape[0]}); got shape {v.shape}.")
        x[:, j] = v
    return x


def _effects_function(model, x, offset, method: str, discrete: dict, keep,
                      which: str = "mean", own_rows: bool = False):
    """``effects(theta)``: the mean over the rows of ``x`` of each observation's effect.
    ``own_rows``: x holds the model's own rows, so per-row prediction arguments of the
    model (``model._predict_row_kwds()``, e.g. a Tobit's per-row limits) go with them."""
    kwds = {} if offset is None else {"offset": offset}
    if own_rows and hasattr(model, "_predict_row_kwds"):
        kwds.update(model._predict_row_kwds())
    w = sample_weights(model) if own_rows else None

    def mean_fn(theta, xx):
        return model.predict(theta, exog=xx, which=which, **kwds)

    def effects(theta):
        dmu = grad(lambda xx: mnp.sum(mean_fn(theta, xx)))(x)      # N x K: dE[y_i]/dx_ij
        if method != "dydx":
            mu = mnp.reshape(mean_fn(theta, x), (-1, 1))
            if method in ("eyex", "eydx"):
                dmu = dmu / mu
            if method in ("eyex", "dyex"):
                dmu = dmu * x
        out = sample_mean(dmu, w)
        if discrete:
            parts = [_discrete_change(mean_fn, theta, x, j, discrete[j], w) if j in discrete
                     else out[j] for j in range(x.shape[1])]
            out = mnp.stack(parts)
        return out[keep]

    return effects


def _offset_of(model):
    """The model's offset in its linear index (count models: offset + log(exposure)), or
    None (a model without one, e.g. Heckman)."""
    return getattr(model, "_offset", lambda: None)()


def _blocked(model) -> bool:
    """True for a model evaluated in row blocks (large data, Dask partitions)."""
    blocks = getattr(model, "_blocks", None)
    if blocks is None:
        return False
    models = blocks()[0]
    return not (len(models) == 1 and models[0] is model)


def _exog_summary(block) -> dict:
    """One block's share of what margeff needs from X: sums, ranges, and a witness value
    that is not 0/1 and one that is not a non-negative integer (NaN: none)."""
    x = block.exog
    off = _offset_of(block)
    w = block._row_weights()
    w = np.ones(x.shape[0]) if w is None else w
    def witness(bad):
        rows = np.argmax(bad, axis=0)
        return np.where(bad.any(axis=0), x[rows, np.arange(x.shape[1])], np.nan)
    return {"n": w.sum(), "sum": w @ x, "lo": x.min(axis=0), "hi": x.max(axis=0),
            "not01": witness((x != 0) & (x != 1)),
            "notcount": witness((x < 0) | (x != np.round(x))),
            "offset": None if off is None else float(w @ off)}


def _block_effects(block, theta, method, discrete, keep, which="mean"):
    """``(rows (weighted), mean effects, their Jacobian)`` over one block's rows."""
    effects = _effects_function(block, block.exog, _offset_of(block), method, discrete, keep,
                                which, own_rows=True)
    w = block._row_weights()
    return (block.exog.shape[0] if w is None else w.sum(),
            np.asarray(effects(theta), dtype=float),
            np.asarray(jacobian(effects, mode="fwd")(theta), dtype=float))


def _margeff_blocks(model, theta, at, method, dummy, count, which="mean"):
    """Marginal effects of a blocked model: block means weighted by block sizes (overall),
    or the effect at the mean of X from summed columns (mean); nothing N-sized is formed."""
    parts = model._block_map("_block_apply", _exog_summary)
    n = sum(p["n"] for p in parts)
    lo = np.min([p["lo"] for p in parts], axis=0)
    hi = np.max([p["hi"] for p in parts], axis=0)
    def first(key):
        found = np.full(lo.shape, np.nan)
        for p in parts:
            found = np.where(np.isnan(found), p[key], found)
        return np.where(np.isnan(found), lo, found)
    # four rows with the column ranges and the witnesses: classified as the data would be
    discrete = _discrete_columns(np.vstack([lo, hi, first("not01"), first("notcount")]),
                                 dummy, count)
    keep = np.array([j for j in range(lo.size) if j != model.const_idx], dtype=int)
    if at == "mean":
        x = (sum(p["sum"] for p in parts) / n)[None, :]
        off = None if parts[0]["offset"] is None else \
            np.array([sum(p["offset"] for p in parts) / n])
        effects = _effects_function(model, x, off, method, discrete, keep, which)
        return (np.asarray(effects(theta), dtype=float),
                np.asarray(jacobian(effects, mode="fwd")(theta), dtype=float), keep)
    done = model._block_map("_block_apply", _block_effects, theta, method, discrete, keep,
                            which)
    value = sum(nb * v for nb, v, _ in done) / n
    jac = sum(nb * j for nb, _, j in done) / n
    return value, jac, keep
