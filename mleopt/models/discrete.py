"""Binary response models: Logit and Probit.

``P(y_i = 1) = F(x_i'beta)`` with F the logistic (Logit) or standard normal (Probit) cdf;
with ``q_i = 2 y_i - 1`` the log-likelihood of observation i is ``log F(q_i x_i'beta)``
(F symmetric), computed stably by ``log_expit`` / ``log_ndtr``.

Perfect separation (the MLE does not exist: some coefficients diverge) is an error by
default (``separation="warn"`` turns it into a warning). It is detected twice:

* before the fit, per column: a column whose values for y = 0 and y = 1 do not overlap
  (complete separation) or touch at one value (quasi-complete) separates on its own;
* after the fit, when anything looks off (not converged, a fitted linear predictor beyond
  +-10, or a nearly singular Hessian), exactly: a linear program (Konis 2007) looks for a
  direction b != 0 with ``q_i x_i'b >= 0`` for every i; it exists iff the data are
  separated, and the columns named are an irreducible set of them that still separates.

With ``separation="warn"`` one warning is given (when the model is made if a column separates
on its own, else after the fit) and the summary carries it as a note.
"""
from __future__ import annotations

import numpy as np
import scipy.special as sps

from .. import special
from ..exceptions import DataError, PerfectSeparationError
from .index import IndexModel, _separation_mode

__all__ = ["Logit", "Probit", "BinaryModel"]


class BinaryModel(IndexModel):
    """A 0/1 response with ``P(y = 1) = F(x'beta)``; subclasses give F."""

    _results_name = "DiscreteResults"
    glm_family = "bernoulli"    # its residuals' conventions (mleopt.residuals)
    _MOMENTS = ("prob", "var")

    def _moment(self, which, mean, params):
        """``"prob"``: P(y = 1) (the mean); ``"var"``: p (1 - p)."""
        return mean if which == "prob" else mean * (1 - mean)

    def __init__(self, endog, exog=None, missing: str = "raise", separation: str = "raise",
                 **kwargs) -> None:
        self.separation = _separation_mode(separation)
        super().__init__(endog, exog, missing=missing, **kwargs)
        self._q = 2.0 * self.endog - 1.0

    def _variance_index(self, mu, extra):
        """Bernoulli: ``Var(y) = mu (1 - mu)``."""
        return mu * (1.0 - mu)

    # --- checks -------------------------------------------------------------------------------
    def _validate(self) -> None:
        y = self.endog
        name = type(self).__name__
        bad = (y != 0) & (y != 1)
        if bad.any():
            vals, counts = np.unique(y[bad], return_counts=True)
            shown = ", ".join(f"{v:g} ({c} row{'s' if c > 1 else ''})"
                              for v, c in zip(vals[:5], counts[:5]))
            more = f" and {vals.size - 5} other values" if vals.size > 5 else ""
            raise DataError(f"{name} needs endog {self.endog_name!r} to be 0 or 1; found "
                            f"{shown}{more}. Recode it (e.g. (y == level).astype(int)).")
        if self.__dict__.get("_partition"):
            return      # one Dask partition: the checks below need all the rows
        self._check_both_outcomes(int(y.sum()), y.size)
        if self.k_constant:
            self._check_columns()

    def _check_both_outcomes(self, n1: int, n: int) -> None:
        if n1 in (0, n):
            raise PerfectSeparationError(
                f"endog {self.endog_name!r} is {int(n1 > 0)} in every row; a "
                f"{type(self).__name__} model needs both outcomes (the intercept's MLE would "
                "be infinite).")

    def _dask_summary(self) -> dict:
        """One Dask partition's share of the whole-sample checks: its rows with y = 1 and
        each column's range ``(min, max)`` among its y = 0 and its y = 1 rows."""
        y1 = self.endog == 1
        out = {"n1": int(y1.sum()), "n": int(y1.size)}
        if self.exog is not None:
            none = (np.full(self.k_exog, np.inf), np.full(self.k_exog, -np.inf))
            for key, rows in (("r0", ~y1), ("r1", y1)):
                x = self.exog[rows]
                out[key] = (x.min(axis=0), x.max(axis=0)) if len(x) else none
        return out

    def _dask_validate(self) -> None:
        """The checks of ``_validate`` that need all rows, from the partitions' summaries
        (``_dask_summaries``): both outcomes present, no column separating on its own."""
        parts = self._dask_summaries
        self._check_both_outcomes(sum(p["n1"] for p in parts), sum(p["n"] for p in parts))
        if not self.k_constant:
            return
        lo0, lo1 = (np.min([p[k][0] for p in parts], axis=0) for k in ("r0", "r1"))
        hi0, hi1 = (np.max([p[k][1] for p in parts], axis=0) for k in ("r0", "r1"))
        keep = (hi0 <= lo1) | (hi1 <= lo0)
        cols = np.flatnonzero(keep)
        if cols.size:
            self._separating_columns(cols, lo0[keep], hi0[keep], lo1[keep], hi1[keep])

    def _check_columns(self) -> None:
        y1 = self.endog == 1
        x = self.exog
        cols = np.arange(x.shape[1])
        # Screen on the first rows: where the two outcomes' ranges of a column already overlap
        # there, they overlap in all the data (ranges only widen), so the column cannot
        # separate; only the columns left are summarised over every row (data of at most
        # 2048 rows: one pass).
        for rows in ((slice(0, 2048), slice(None)) if x.shape[0] > 2048 else (slice(None),)):
            xs, ys = x[rows], y1[rows]
            if cols.size < x.shape[1]:
                xs = xs[:, cols]
            if ys.all() or not ys.any():
                continue
            x0, x1 = xs[~ys], xs[ys]
            lo0, hi0 = x0.min(axis=0), x0.max(axis=0)
            lo1, hi1 = x1.min(axis=0), x1.max(axis=0)
            keep = (hi0 <= lo1) | (hi1 <= lo0)
            cols, lo0, hi0, lo1, hi1 = cols[keep], lo0[keep], hi0[keep], lo1[keep], hi1[keep]
            if not cols.size:
                return
        self._separating_columns(cols, lo0, hi0, lo1, hi1)

    def _separating_columns(self, cols, lo0, hi0, lo1, hi1) -> None:
        """Name the columns ``cols`` (indices into exog) whose ranges among the y = 0 rows
        ``[lo0, hi0]`` and the y = 1 rows ``[lo1, hi1]`` do not overlap or touch at one value:
        each separates on its own (``_separation``)."""
        yname = self.endog_name
        found, names = [], []
        for j, col in enumerate(cols):
            name = self.exog_names[col]
            if lo0[j] == hi0[j] == lo1[j] == hi1[j]:
                continue        # a constant column
            if hi0[j] <= lo1[j]:
                c, up = (hi0[j], 1)
            elif hi1[j] <= lo0[j]:
                c, up = (hi1[j], 0)
            else:
                continue
            complete = hi0[j] < lo1[j] if up else hi1[j] < lo0[j]
            if complete:
                rule = (f"{yname} = {up} whenever {name} > {c:g} and {yname} = {1 - up} "
                        f"otherwise")
                kind = "complete"
            else:
                rule = (f"{yname} = {up} whenever {name} > {c:g} and {yname} = {1 - up} "
                        f"whenever {name} < {c:g}")
                kind = "quasi-complete"
            found.append(f"perfect separation ({kind}): column {name!r} predicts the "
                         f"outcome perfectly ({rule})")
            names.append(name)
        if not found:
            return
        coefs = "its coefficient's MLE is" if len(names) == 1 else "their coefficients' MLEs are"
        self._columns_separate = True       # the fit need not look for it again
        self._separation(f"{'; '.join(found)}, so {coefs} infinite.", names)

    _columns_separate = False

    def _after_fit(self, record) -> None:
        """With ``separation="warn"``, one warning: the columns that separate on their own
        (found and warned about when the model was made) or else, after a fit that looks
        off (not converged, a fitted ``|x'b|`` beyond 10, or a nearly flat Hessian), the
        irreducible set of columns the linear program finds."""
        if self._columns_separate:
            return
        fired = [] if record.converged else ["the fit did not converge"]
        top = self._saturation(record.params)
        if top > 10.0:
            fired.append(f"a fitted linear predictor reaches |x'b| = {top:.4g} (beyond 10)")
        flat = None
        if not fired:           # nearly flat in some direction (scaled columns)?
            flat = self._flat_hessian(record.params)
            if flat is not None:
                fired.append(flat)
        if fired:   # strong evidence: |x'b| > 30 (a probability below 1e-13) or the above
            strong = not record.converged or flat is not None or top > 30.0
            self._confirm_separation(fired, record.params, self._describe_separation,
                                     strong)

    def _saturation(self, params) -> float:
        """``max_i |x_i'b|``."""
        return float(np.max(np.abs(self.exog @ params[: self.k_exog])))

    def _separation_rows(self) -> tuple:
        """``a_i = q_i x_i`` (the constant kept in the set named)."""
        keep = () if self.const_idx is None else (self.const_idx,)
        return self.exog * self._q[:, None], None, keep

    def _describe_separation(self, cols) -> tuple[str, list[str]]:
        named = [self.exog_names[j] for j in cols if j != self.const_idx]
        names = ", ".join(repr(c) for c in named) or "the constant"
        which = (f"column {names} predicts" if len(named) == 1
                 else f"a combination of the columns {names} predicts")
        return (f"perfect separation: {which} the outcome perfectly (or with ties only), so "
                f"the MLE does not exist and those coefficients diverge (fitted probabilities "
                f"reach 0 or 1).", named)

    # --- start values and predictions -----------------------------------------------------------
    def start_params(self) -> np.ndarray:
        """The linear probability model mapped to the index scale (``linearised_start``):
        this saves a Newton iteration or two over zeros. Without a constant: zeros. (Large
        data start from a subsample fit instead, see IndexModel._refine_start.)"""
        start = np.zeros(self.k_params)
        c = self.const_idx
        if c is None:
            return start
        ybar = min(max(float(self.endog.mean()), 1e-6), 1 - 1e-6)
        eta0, dens = self._intercept_start(ybar)
        start[c] = eta0 / self.exog[0, c]
        lpm = linearised_start(self, ybar, eta0, dens)
        return start if lpm is None else lpm

    def _intercept_start(self, ybar: float) -> tuple[float, float]:
        """``F^-1(ybar)`` and the density ``f`` there."""
        raise NotImplementedError


class Logit(BinaryModel):
    """Logistic regression: ``P(y = 1) = 1 / (1 + exp(-x'beta))``."""

    _strict_kwargs = True       # refuse keywords it does not use (weights=...)

    def loglike_index(self, eta, extra):
        """``log P(y_i | eta_i) = log expit(q_i eta_i)``, ``q_i = 2 y_i - 1``."""
        return special.log_expit(self._q * eta)

    def _inverse_link(self, linear):
        return special.expit(linear)

    def _intercept_start(self, ybar: float) -> tuple[float, float]:
        return float(sps.logit(ybar)), ybar * (1.0 - ybar)


class Probit(BinaryModel):
    """Probit regression: ``P(y = 1) = Phi(x'beta)``, Phi the standard normal cdf."""

    _strict_kwargs = True       # refuse keywords it does not use (weights=...)

    def loglike_index(self, eta, extra):
        """``log P(y_i | eta_i) = log Phi(q_i eta_i)``, ``q_i = 2 y_i - 1``."""
        return special.log_ndtr(self._q * eta)

    def _inverse_link(self, linear):
        return special.ndtr(linear)

    def _intercept_start(self, ybar: float) -> tuple[float, float]:
        eta0 = float(sps.ndtri(ybar))
        return eta0, float(np.exp(-0.5 * eta0 * eta0) / np.sqrt(2.0 * np.pi))


def linearised_start(model: IndexModel, ybar: float, eta0: float,
                     dens: float) -> np.ndarray | None:
    """Start values of an index model with mean ``m(eta)`` from one least-squares solve.

    Linearising the mean at ``eta0 = m^-1(ybar)``: ``y ~ ybar + m'(eta0) (eta - eta0)``
    (``dens = m'(eta0)``), so the least-squares fit ``X b`` of y gives ``eta = eta0 + (X b -
    ybar) / m'(eta0)`` (binary models: the linear probability model; counts: ``m = exp``).
    None without a constant column, on large data (they start from a subsample fit,
    IndexModel._refine_start), or when the normal equations fail; the exog coefficients
    only (extra parameters are the model's to add)."""
    c = model.const_idx
    if c is None or model.nobs * model.k_params >= model._LARGE:
        return None
    gram = model.__dict__.get("_gram")
    try:                # a start needs no accuracy: the normal equations will do
        b = np.linalg.solve(gram if gram is not None else model.exog.T @ model.exog,
                            model.exog.T @ model.endog)
    except np.linalg.LinAlgError:
        return None
    start = b / dens
    start[c] += (eta0 - ybar / dens) / model.exog[0, c]
    return start if np.all(np.isfinite(start)) else None
