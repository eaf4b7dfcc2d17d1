"""IndexModel: models whose observations see the parameters only through a linear predictor.

For OLS, Logit, Probit, Poisson and NegativeBinomial, observation i's log-likelihood is
``l_i(eta_i, e)`` with ``eta_i = x_i'beta + offset_i`` and a few scalar extra parameters
``e`` (sigma, alpha). A subclass defines only ``loglike_index(eta, extra)``, elementwise,
with mleopt.numpy / special.

Nothing here differentiates: the score, Hessian and per-observation scores are
LikelihoodModel's generic ones (mleopt.ad on ``loglikeobs``). mleopt.ad finds the linear
index ``X beta`` in the recorded computation by itself (mleopt.ad.structure), takes the
per-observation derivatives with respect to the few inputs ``(eta_i, e)`` and chains them
through X with matrix products (X'WX), so a user's own likelihood written the same way is as
fast as these models.

What this class adds: extra parameters are optimised on the log scale (they are scales:
sigma, alpha), the coefficients per unit of their regressor's root mean square (a diagonal
rescaling that makes the optimiser and the gradient tolerance independent of the units of the
regressors), the checks that the MLE exists (separation), and on large data (nobs *
k_params >= 10^6) start values refined by a fit on a systematic subsample of 20,000 rows
(the estimate is the full-data MLE all the same).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np


from .. import ad
from .. import numpy as mnp
from ..exceptions import (DataError, PerfectSeparationError, PerfectSeparationWarning,
                          warn_user)
from .base import LikelihoodModel

__all__ = ["IndexModel"]


class IndexModel(LikelihoodModel):
    """A model with ``loglikeobs = loglike_index(X beta + offset, extra)`` (elementwise)."""

    def __init__(self, endog, exog=None, missing: str = "raise", **kwargs) -> None:
        if exog is None:
            raise DataError(f"{type(self).__name__} needs exog (the regressors); for an "
                            "intercept-only model pass a column of ones, np.ones(nobs).")
        super().__init__(endog, exog, missing=missing, **kwargs)

    def loglike_index(self, eta, extra: Sequence):
        """Per-observation log-likelihood from the linear predictor ``eta`` (length N) and the
        natural extra parameters ``extra`` (each a scalar or a length-N vector). Must be
        elementwise: entry i uses only eta[i], extra[j][i] and row i of the data."""
        raise NotImplementedError

    # --- the likelihood: every derivative comes from it (mleopt.ad) --------------------------
    def _offset(self) -> np.ndarray | None:
        return None

    def loglikeobs(self, params):
        params, k = self._params_by_name(params), self.k_exog
        eta = mnp.matmul(self.exog, params[:k])
        offset = self._offset()
        if offset is not None:
            eta = eta + offset
        return self.loglike_index(eta, [params[k + j] for j in range(self.k_extra)])

    def transform(self, theta):
        """Coefficients unchanged, extra parameters ``exp(theta)`` (they are positive)."""
        if not self.k_extra:
            return theta
        k = self.k_exog
        return mnp.concatenate([theta[:k], mnp.exp(theta[k:])])

    def untransform(self, params):
        out = np.array(params, dtype=float, copy=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[self.k_exog:] = np.log(out[self.k_exog:])
        return out

    def _natural_scale(self) -> np.ndarray:
        """The coefficients are optimised as they are; the extra parameters as logs."""
        return np.arange(self.k_params) < self.k_exog

    def _theta_bounds(self, lower: np.ndarray, upper: np.ndarray):
        """Coefficients bound as given; extra parameters (optimised as log) through log, a
        lower bound <= 0 being no bound."""
        return self._log_bounds(lower, upper, self.k_exog)

    def _opt_scale(self, start: np.ndarray) -> np.ndarray:
        return np.concatenate([self._exog_rms(), np.ones(self.k_extra)])

    _SUBSAMPLE = 20_000     # rows of the warm-start fit on large data

    def _refine_start(self, start: np.ndarray) -> np.ndarray:
        """On large data, start from the estimates on a systematic subsample.

        The subsample fit costs a fraction of one full iteration and lands within sampling
        error (~1/sqrt(20000)) of the full-data estimate, so the full-data Newton iterations
        start in the region of fast convergence. The result is still the full-data MLE (only
        the start changes); if the subsample fit fails, the default start is kept.
        """
        n = self.nobs
        if n * self.k_params < self._LARGE or n < 4 * self._SUBSAMPLE:
            return start
        rows = np.arange(0, n, n // self._SUBSAMPLE)
        try:
            record = self._take(rows)._fit_quick(start, gtol=1e-6, maxiter=50)
        except (ValueError, np.linalg.LinAlgError):
            return start
        ok = record.converged and np.all(np.isfinite(record.params))
        return record.params if ok else start

    # --- the linear predictor (start values, checks, predictions) ----------------------------
    def _linear(self, beta: np.ndarray) -> np.ndarray:
        eta = self.exog @ beta
        offset = self._offset()
        return eta if offset is None else eta + offset

    # --- expected information (cov_type="eim") ------------------------------------------------
    def _variance_index(self, mu, extra: Sequence):
        """``Var(y_i)`` from the mean ``mu`` and the extra parameters, for a model whose
        outcome, the extra parameters held fixed, is in a linear exponential family in the
        mean (then the coefficients' expected information is ``J' diag(1/Var) J``); None
        where that does not hold."""
        return None

    def expected_hessian(self, params) -> np.ndarray:
        """``E[H]`` at ``params``, R glm / glm.nb's convention.

        Coefficients: ``-X' diag(w_i mu'(eta)^2 / Var(y)) X`` (Fisher scoring's weights; the
        derivative ``mu'(eta)`` from mleopt.ad; ``w_i`` the observation weights, 1 without),
        summed over the row blocks (Dask partitions). Extra parameters (NB's alpha, OLS's
        sigma): their own block of the observed Hessian, uncorrelated with the coefficients
        (the cross expectations vanish; glm.nb's theta standard error). Refused (ValueError)
        for a model that does not define ``_variance_index``.
        """
        p = np.asarray(params, dtype=float)
        k = self.k_exog
        out = np.zeros((self.k_params, self.k_params))
        out[:k, :k] = -sum(self._block_map("_block_expected_information", p))
        if self.k_extra:
            out[k:, k:] = self.hessian(p)[k:, k:]
        return out

    def _block_expected_information(self, p: np.ndarray) -> np.ndarray:
        """This block's ``X' diag(w_i mu'(eta)^2 / Var(y)) X``."""
        k = self.k_exog
        eta = self._linear(p[:k])
        extra = [p[k + j] for j in range(self.k_extra)]
        var = self._variance_index(self._inverse_link(eta), extra)
        if var is None:
            method = getattr(self, "loglike_method", None)      # NB1 refuses, NB2 does not
            which = type(self).__name__ + (f"(loglike_method={method!r})" if method else "")
            raise ValueError(f"cov_type='eim': the expected information of "
                             f"{which} is not defined here (its outcome is not "
                             "in a linear exponential family given the index); use "
                             "cov_type='nonrobust' (observed information).")
        dmu = np.asarray(ad.grad(lambda e: mnp.sum(self._inverse_link(e)))(eta), dtype=float)
        w = dmu * dmu / np.asarray(var, dtype=float)
        obs_w = self._row_weights()         # E[H] of sum_i w_i l_i: each row's term times w_i
        if obs_w is not None:
            w = w * obs_w
        return (self.exog * w[:, None]).T @ self.exog

    # --- non-existence of the MLE (separation) --------------------------------------------------
    separation_note: str | None = None
    """With ``separation="warn"``: what the last fit found (the summary prints it), else None."""

    def _separation(self, what: str, columns) -> None:
        """Raise (``separation="raise"``, the default) or warn that the MLE does not exist.

        In warn mode the message is also kept in ``separation_note`` for the summary."""
        advice = ("Drop or merge the column(s) involved, or use a penalised model. Pass "
                  "separation='warn' to fit anyway (the estimates will not be meaningful).")
        if self.separation == "raise":
            raise PerfectSeparationError(f"{what} {advice}")
        self.separation_note = f"{what} The reported estimates are not meaningful."
        warn_user(self.separation_note, PerfectSeparationWarning)

    def _saturation(self, params) -> float:
        """How close the fitted rows are to the edge where the MLE stops existing (larger is
        closer; a family compares it with its threshold). Combined over row blocks by max."""
        raise NotImplementedError

    def _separation_rows(self) -> tuple | str:
        """``(a, equal, keep)`` for ``diverging_columns`` (the family's rows), or, where the
        rows are not at hand (Dask data too large to gather), why not."""
        raise NotImplementedError

    def _flat_hessian(self, params) -> str | None:
        """The criterion "nearly flat Hessian" (the smallest eigenvalue of the scaled negative
        Hessian at most 1e-8 of the largest: a direction the data barely constrain), met,
        as a phrase; None if not. Uses the Hessian the fit kept."""
        h = self.hessian(params)
        scale = self._opt_scale(params)
        if scale is not None:
            h = h / np.outer(scale, scale)
        ev = np.linalg.eigvalsh(-h)
        if ev[0] > 1e-8 * max(ev[-1], 0.0):
            return None
        return f"the Hessian is nearly flat (scaled eigenvalues {ev[0]:.3g} to {ev[-1]:.3g})"

    def _confirm_separation(self, fired: list[str], params, describe,
                            strong: bool = True) -> None:
        """After a fit that looks off (``fired``: the criteria met), the linear program on
        ``_separation_rows()`` decides; ``describe(cols)`` gives ``(message, names)`` for
        the columns it finds. Without the rows the fit is reported as looking separated,
        with the criteria met and the largest coefficients (never silently passed): as
        ``separation``'s mode says when the evidence is ``strong`` (no convergence, a flat
        Hessian, a tail no fitted model reaches), else as a warning that it could not be
        confirmed."""
        rows = self._separation_rows()
        if isinstance(rows, str):
            sample = self._separation_sample(params)
            if _rules_out_separation(*sample[:2]):
                return      # rows no direction can pass: the whole sample has none either
            gathered = len(sample[0]) + (0 if sample[1] is None else len(sample[1]))
            fired = fired + [f"the {gathered} gathered rows the fit supports least "
                             "do not rule it out"]
            params = np.asarray(params, dtype=float)
            top = np.argsort(-np.abs(params))[:3]
            big = ", ".join(f"{self.param_names[j]!r} = {params[j]:.4g}" for j in top)
            if not strong:
                # only a moderately far tail (a strong regressor on many rows gives one):
                # without the rows that is not enough to call the fit a failure, so a
                # warning only, whatever ``separation`` says
                warn_user(f"the fit may be separated (not confirmed: {'; '.join(fired)}); "
                          f"largest coefficients: {big}. {rows}", PerfectSeparationWarning)
                return
            self._separation(
                f"the fit looks like perfect separation (the MLE may not exist): "
                f"{'; '.join(fired)}; largest coefficients: {big}. {rows}", [])
            return
        a, equal, keep = rows
        if not len(a):
            return
        cols = diverging_columns(a, equal, keep=keep)
        if cols is not None:
            self._separation(*describe(cols))

    def _separation_candidates(self, params, m: int) -> tuple:
        """At most ``m`` rows of each kind of ``_separation_rows()``: the inequality rows with
        the smallest ``a_i'params`` (the observations the fit supports least: a separating
        direction must pass them) and the equality rows with the smallest and largest
        ``e_i'params``. Any subset of the rows is valid for ``_rules_out_separation``; these
        are the ones most likely to block every direction. A model in several row blocks
        (a partition larger than ``block_memory``) selects block by block, so that only a
        block's rows of the LP are held at once."""
        models = self._blocks()[0]
        if len(models) == 1 and models[0] is self:
            a, equal, keep = self._separation_rows()
        else:
            a, equal, keep = stack_lp_rows(self._block_map("_separation_candidates",
                                                           params, m))
        theta = np.asarray(params, dtype=float).ravel()[: a.shape[1]]
        a = a[_extremes(a @ theta, m, both=False)]
        if equal is not None:
            equal = equal[_extremes(equal @ theta, m, both=True)]
        return a, equal, keep

    # --- helpers for subclasses ---------------------------------------------------------------
    @classmethod
    def _like(cls, other: "IndexModel", **attrs: Any) -> "IndexModel":
        """A model of class ``cls`` sharing ``other``'s data (no copy, no re-validation), with
        none of ``other``'s declared transforms (its parameters are not ``other``'s)."""
        new = object.__new__(cls)
        new.__dict__.update(other.__dict__)
        new.__dict__.update(attrs)
        new._drop_caches()
        names = list(other.exog_names) + list(cls.extra_param_names)
        new._param_names = names
        new._transforms = None      # a helper (start values) fits its parameters as they are
        return new


def _separation_mode(separation: str) -> str:
    if separation not in ("raise", "warn"):
        raise ValueError(f"separation must be 'raise' or 'warn', not {separation!r}.")
    return separation


def stack_lp_rows(parts: list[tuple]) -> tuple:
    """The separation LP's ``(a, equal, keep)`` of row blocks (or partitions), stacked."""
    a = np.vstack([p[0] for p in parts])
    equal = None if parts[0][1] is None else np.vstack([p[1] for p in parts])
    return a, equal, parts[0][2]


def _extremes(score: np.ndarray, m: int, both: bool) -> np.ndarray:
    """Indices of the ``m`` smallest entries of ``score`` (``both``: half the smallest, half
    the largest), all when there are at most ``m``."""
    if score.size <= m:
        return np.arange(score.size)
    if not both:
        return np.argpartition(score, m - 1)[:m]
    low = np.argpartition(score, m // 2)[: m // 2]
    high = np.argpartition(-score, m - m // 2)[: m - m // 2]
    return np.union1d(low, high)


def _rules_out_separation(a: np.ndarray, equal: np.ndarray | None) -> bool:
    """Whether rows ``a`` (inequalities) and ``equal`` of the separation LP, a SUBSET of the
    sample's, already rule out every diverging direction: they span all the parameters (a
    direction orthogonal to all of them would pass them unseen) and the LP finds no
    direction on them. A direction of the whole sample passes every subset, so then the
    whole sample has none: its MLE exists."""
    rows = a if equal is None else np.vstack([a, equal])
    if rows.shape[0] < rows.shape[1] or np.linalg.matrix_rank(rows) < rows.shape[1]:
        return False
    return diverging_columns(a, equal) is None


def diverging_columns(a: np.ndarray, equal: np.ndarray | None = None,
                      keep: Sequence[int] = ()) -> list[int] | None:
    """The columns of a direction b != 0 along which the log-likelihood keeps rising, or None.

    Such a b has ``a_i'b >= 0`` for every row of ``a`` (and ``equal_i'b = 0`` for every row
    of ``equal``) with some ``a_i'b > 0``: moving the coefficients along b never lowers any
    observation's likelihood and raises some, so the MLE does not exist (binary models:
    ``a_i = q_i x_i``, perfect separation; count models: ``a_i = -x_i`` for the zero counts
    and ``equal`` the other rows). A linear program decides (see ``_diverging_direction``).

    The columns returned are an irreducible set. The direction found first usually loads on
    every column (where some columns separate, small multiples of any other can be added), so
    a second program finds the direction of least L1 norm that rises as much (sparse), and
    its columns are then dropped one at a time, smallest weight first, while the rest still
    give such a direction. Columns in ``keep`` (the constant) are never dropped.
    """
    scale = _unit_rms(a if equal is None else np.vstack([a, equal]))
    a = a / scale
    equal = None if equal is None or not len(equal) else equal / scale
    found = _diverging_direction(a, equal)
    if found is None:
        return None
    b, rise = found
    b = _sparse_direction(a, equal, rise) if b.size > 1 else None
    if b is None:
        b = found[0]
    cols = [j for j in range(a.shape[1]) if abs(b[j]) > 1e-6 * np.max(np.abs(b))]
    for j in sorted(cols, key=lambda j: abs(b[j])):
        if j in keep:
            continue
        trial = [c for c in cols if c != j]
        if not trial:
            break
        sub_eq = None if equal is None else equal[:, trial]
        if _diverging_direction(a[:, trial], sub_eq) is not None:
            cols = trial
    return cols


def _unit_rms(rows: np.ndarray) -> np.ndarray:
    scale = np.sqrt(np.einsum("ij,ij->j", rows, rows) / rows.shape[0])
    scale[scale == 0] = 1.0
    return scale


def _diverging_direction(a: np.ndarray, equal: np.ndarray | None = None
                         ) -> tuple[np.ndarray, float] | None:
    """``(b, sum_i a_i'b)`` for ``diverging_columns``, or None: the linear program
    max sum_i a_i'b subject to ``a b >= 0``, ``equal b = 0`` and -1 <= b <= 1 (columns
    scaled to unit root mean square by the caller); the data diverge iff its optimum is
    positive (beyond rounding)."""
    import scipy.optimize  # here, not at import: a cold start need not load it
    n, k = a.shape
    res = scipy.optimize.linprog(-a.sum(axis=0), A_ub=-a, b_ub=np.zeros(n), A_eq=equal,
                                 b_eq=None if equal is None else np.zeros(equal.shape[0]),
                                 bounds=[(-1.0, 1.0)] * k, method="highs")
    if res.status != 0 or -res.fun <= 1e-7 * n:
        return None
    return np.asarray(res.x), float(-res.fun)


def _sparse_direction(a: np.ndarray, equal: np.ndarray | None, rise: float
                      ) -> np.ndarray | None:
    """The b of least L1 norm with ``a b >= 0``, ``equal b = 0`` and ``sum_i a_i'b >= rise``
    (b = u - v with u, v >= 0), or None if the solver fails."""
    import scipy.optimize  # here, not at import: a cold start need not load it
    n, k = a.shape
    total = a.sum(axis=0)
    a_ub = np.vstack([np.hstack([-a, a]), np.hstack([-total, total])[None, :]])
    b_ub = np.append(np.zeros(n), -rise)
    a_eq = None if equal is None else np.hstack([equal, -equal])
    res = scipy.optimize.linprog(np.ones(2 * k), A_ub=a_ub, b_ub=b_ub, A_eq=a_eq,
                                 b_eq=None if equal is None else np.zeros(equal.shape[0]),
                                 bounds=[(0.0, None)] * (2 * k), method="highs")
    if res.status != 0:
        return None
    b = np.asarray(res.x[:k] - res.x[k:])
    return b if np.any(b) else None
