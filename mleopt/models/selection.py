"""The sample-selection model (Heckman 1979) by full maximum likelihood.

Outcome ``y_i = x_i'b + e_i``, observed only where the selection indicator ``s_i = 1``;
selection ``s_i = 1[z_i'g + u_i > 0]``; ``(u_i, e_i / sigma)`` standard bivariate normal with
correlation rho. With ``r_i = (y_i - x_i'b) / sigma``, observation i contributes

* ``s_i = 0``: ``log Phi(-z_i'g)``;
* ``s_i = 1``: ``log Phi((z_i'g + rho r_i) / sqrt(1 - rho^2)) + log phi(r_i) - log sigma``

(Stata's ``heckman``, R's ``sampleSelection::selection(method="ml")``). Parameters, natural
scale: ``b`` (named ``<endog>:<column>``), ``g`` (``<selected>:<column>``), ``rho`` and
``sigma``; the optimiser works on ``athrho = arctanh(rho)`` and ``lnsigma = log(sigma)``,
as Stata does. ``lambda = rho sigma`` is the coefficient of the inverse Mills ratio
``phi(z'g) / Phi(z'g)`` in ``E[y | x, s = 1] = x'b + lambda phi(z'g) / Phi(z'g)``.

The outcome is not used where ``s_i = 0``: endog (and the outcome regressors) may be NaN,
or anything, there; only the columns an observation uses are checked for missing values.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.special as sps

from .. import numpy as mnp
from .. import special
from ..data import _exog_array, align_labels, check_rank, check_scale, prepare_data
from ..exceptions import ConvergenceWarning, DataError, warn_user
from ..weights import WEIGHT_KEYWORDS
from .base import LikelihoodModel, _as_exog, _unexpected_kwargs
from .discrete import Probit

__all__ = ["Heckman"]

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
BOUNDARY = 1e-6     # |rho| > 1 - BOUNDARY: the fit is at the boundary rho = +-1


class Heckman(LikelihoodModel):
    """``Heckman(endog, exog, selection_exog, selected)``: a linear outcome equation observed
    only for ``selected == 1``, with a probit selection equation on ``selection_exog``.

    ``selected``: 0/1 per row (booleans allowed). ``endog`` and ``exog`` are read only on
    selected rows (NaN elsewhere is not missing; the model keeps 0 there). ``selection_exog``
    is needed on every row. pandas inputs are matched by their row index. ``missing="drop"``
    drops rows with NaN in a column they use. Fit returns a
    :class:`mleopt.results_selection.HeckmanResults` (rho, sigma, and athrho, lnsigma,
    lambda with delta-method standard errors; predictions).
    """

    _strict_kwargs = True
    _refused_kwargs = WEIGHT_KEYWORDS
    _formula_outcome_rows = "selected"   # from_formula: outcome data only where selected
    _check_rank = False             # checked on the rows each equation uses (_validate)
    scale_param_names = ("sigma",)

    def __init__(self, endog: Any, exog: Any, selection_exog: Any, selected: Any,
                 missing: str = "raise", **kwargs: Any) -> None:
        if kwargs:
            weights = [k for k in kwargs if k in self._refused_kwargs]
            why = ("Heckman takes no observation weights yet (its two-step start values "
                   "and selected-row counts are unweighted)" if weights else
                   "Heckman uses no other keyword arguments")
            raise TypeError(_unexpected_kwargs(type(self), kwargs, why, strict=True))
        if exog is None or selection_exog is None or selected is None:
            raise DataError("Heckman needs endog, exog (outcome regressors), selection_exog "
                            "(selection regressors) and selected (0/1 per row).")
        sel, sel_name = _selection_indicator(selected, endog)
        _check_selected(np.asarray(sel, dtype=float), sel_name, getattr(endog, "name", None),
                        whole=not self.__dict__.get("_partition"))
        endog, exog, exog_unused = _blank_unselected(endog, exog, sel)
        z, z_names, _ = _exog_array(selection_exog)
        zcols = selection_exog if isinstance(selection_exog, pd.DataFrame) else None
        extras = {sel_name: sel}
        keys = [f"{sel_name}:{n}" for n in z_names]
        for j, key in enumerate(keys):
            extras[key] = zcols.iloc[:, j] if zcols is not None else z[:, j]
        extras["_exog_unused"] = exog_unused
        self.data = prepare_data(endog, exog, missing, extras=extras)
        ex = self.data.extras
        self.selected = ex.pop(sel_name)
        self.selection_exog = np.column_stack([ex.pop(k) for k in keys])
        self._exog_unused = ex.pop("_exog_unused").astype(bool)
        self.selected_name = sel_name
        self.selection_exog_names = list(z_names)
        yname = self.data.endog_name
        names = ([f"{yname}:{n}" for n in self.data.exog_names]
                 + keys + ["rho", "sigma"])
        self.boundary_note: str | None = None
        self._init_from_data(names)
        self._sums = self._row_sums()

    _dask_added = {"_sums": "sum"}     # a Dask model adds them over its partitions

    def _row_sums(self) -> dict:
        """Sums over rows for the optimiser's scale and the summary: squares of exog on the
        selected rows and of selection_exog, the number of selected rows."""
        sel = self.selected == 1
        x, y = self.exog[sel], self.endog[sel]
        return {"x2": np.sum(x ** 2, axis=0), "z2": np.sum(self.selection_exog ** 2, axis=0),
                "n1": float(sel.sum()), "xx": x.T @ x, "xy": x.T @ y, "yy": float(y @ y)}

    def _dask_validate(self) -> None:
        """On Dask data: both values of the selection indicator, from the summed counts."""
        n1 = self._sums["n1"]
        if n1 == 0 or n1 == self.nobs:
            _check_selected(np.full(self.nobs if n1 else 1, 1.0 if n1 else 0.0),
                            self.selected_name, self.endog_name)

    def _null_model(self) -> "Heckman":
        null = super()._null_model()
        null._sums = null._row_sums()
        return null

    # --- checks -------------------------------------------------------------------------------
    def _validate(self) -> None:
        if self.__dict__.get("_partition"):
            return
        s = self.selected
        _check_selected(s, self.selected_name, self.endog_name)
        sel = s == 1
        check_rank(self.exog[sel], [f"{n} (selected rows)" for n in self.exog_names])
        check_rank(self.selection_exog, self.param_names[self.k_exog:-2])
        check_scale(self.endog[sel], self.endog_name, type(self).__name__)
        n1 = int(sel.sum())
        if n1 <= self.k_exog:
            raise DataError(f"{n1} selected rows for {self.k_exog} outcome coefficients; the "
                            "outcome equation needs more selected rows than regressors.")

    @property
    def k_selection(self) -> int:
        return self.selection_exog.shape[1]

    # --- the likelihood -------------------------------------------------------------------------
    def loglikeobs(self, params):
        """Per-row log-likelihood (module docstring), rho and sigma on the natural scale."""
        k, kz = self.k_exog, self.k_selection
        beta, gamma = params[:k], params[k:k + kz]
        rho, sigma = params[k + kz], params[k + kz + 1]
        zg = mnp.matmul(self.selection_exog, gamma)
        r = (self.endog - mnp.matmul(self.exog, beta)) / sigma
        observed = (special.log_ndtr((zg + rho * r) / mnp.sqrt(1.0 - rho * rho))
                    - 0.5 * r * r - mnp.log(sigma) - _LOG_SQRT_2PI)
        return mnp.where(self.selected == 1, observed, special.log_ndtr(-zg))

    def transform(self, theta):
        """``(b, g, athrho, lnsigma) -> (b, g, tanh(athrho), exp(lnsigma))``."""
        m = self.k_params - 2
        return mnp.concatenate([theta[:m], mnp.tanh(theta[m:m + 1]),
                                mnp.exp(theta[m + 1:])])

    def untransform(self, params):
        out = np.array(params, dtype=float, copy=True)
        m = self.k_params - 2
        with np.errstate(all="ignore"):
            out[m] = np.arctanh(out[m])
            out[m + 1] = np.log(out[m + 1])
        return out

    def _natural_scale(self) -> np.ndarray:
        return np.arange(self.k_params) < self.k_params - 2

    def _opt_scale(self, start: np.ndarray) -> np.ndarray:
        """Coefficients per unit of their regressor's root mean square (outcome: over the
        selected rows), so that Newton's steps and the gradient test ignore units."""
        sums = self._sums
        with np.errstate(all="ignore"):
            rx = np.sqrt(sums["x2"] / sums["n1"])
            rz = np.sqrt(sums["z2"] / self.nobs)
        scale = np.concatenate([rx, rz, np.ones(2)])
        scale[~(scale > 0) | ~np.isfinite(scale)] = 1.0
        return scale

    # --- start values: the two-step estimator ------------------------------------------------
    def two_step(self) -> pd.Series:
        """Heckman's two-step (Heckit) estimates: a probit of ``selected`` on
        ``selection_exog``, then OLS of endog on ``[exog, imr]`` over the selected rows, with
        ``imr = phi(z'g) / Phi(z'g)``. Returns the outcome coefficients, ``lambda`` (the
        coefficient of imr), the probit coefficients, ``rho = lambda / sigma`` and ``sigma``
        with ``sigma^2 = e'e / n1 + lambda^2 mean(imr (imr + z'g))`` (Heckman 1979; no
        standard errors: use the ML fit for inference)."""
        probit = Probit(self.selected, self.selection_exog)
        record = probit._fit_quick(probit.start_params(), gtol=1e-10)
        gamma = record.params
        sel = self.selected == 1
        zg = self.selection_exog[sel] @ gamma
        imr = np.exp(-0.5 * zg**2 - _LOG_SQRT_2PI - sps.log_ndtr(zg))
        design = np.column_stack([self.exog[sel], imr])
        coef = np.linalg.lstsq(design, self.endog[sel], rcond=None)[0]
        e = self.endog[sel] - design @ coef
        lam = coef[-1]
        sigma = float(np.sqrt(e @ e / sel.sum() + lam**2 * np.mean(imr * (imr + zg))))
        names = (self.param_names[:self.k_exog] + ["lambda"]
                 + self.param_names[self.k_exog:-2] + ["rho", "sigma"])
        return pd.Series(np.concatenate([coef, gamma, [lam / sigma, sigma]]), index=names)

    def independent_llf(self) -> float:
        """The maximum log-likelihood under rho = 0, where it factorises: a probit of
        ``selected`` on ``selection_exog`` plus the normal linear regression (ML, sigma^2 =
        SSR / n1) of endog on exog over the selected rows (Stata's "LR test of indep.
        eqns."). NaN if the probit does not converge."""
        probit = Probit(self.selected, self.selection_exog)
        record = probit._fit_quick(probit.start_params(), gtol=1e-10)
        if not record.converged:
            return float("nan")
        sums = self._sums
        n1 = sums["n1"]
        if isinstance(self.exog, np.ndarray):
            sel = self.selected == 1
            coef = np.linalg.lstsq(self.exog[sel], self.endog[sel], rcond=None)[0]
            e = self.endog[sel] - self.exog[sel] @ coef
            ssr = e @ e
        else:       # Dask data: from the partitions' X'X, X'y and y'y over the selected rows
            coef = np.linalg.solve(sums["xx"], sums["xy"])
            ssr = sums["yy"] - coef @ sums["xy"]
        return float(record.llf) - 0.5 * n1 * (np.log(2 * np.pi * ssr / n1) + 1.0)

    def start_params(self) -> np.ndarray:
        """The two-step estimates, rho kept within +-0.9."""
        two = self.two_step().to_numpy()
        k = self.k_exog
        rho = float(np.clip(two[-2], -0.9, 0.9)) if np.isfinite(two[-2]) else 0.0
        return np.concatenate([two[:k], two[k + 1:-2], [rho, two[-1]]])

    def _after_fit(self, record) -> None:
        """A fit whose rho went to +-1 has no interior maximum: say so (summary, warning)."""
        rho = float(record.params[-2])
        self.boundary_note = None
        if not abs(rho) <= 1 - BOUNDARY:
            self.boundary_note = (
                f"rho = {rho:.8g} is at the boundary of [-1, 1] (athrho -> "
                f"{'+' if rho > 0 else '-'}inf): the likelihood has no interior maximum, so "
                "the standard errors of every parameter are not meaningful (those of rho, "
                "athrho and lambda are shown as NaN). The selection and outcome errors look "
                "perfectly correlated: check the exclusion restrictions and the data.")
            warn_user(f"Heckman: {self.boundary_note}", ConvergenceWarning)

    # --- predictions --------------------------------------------------------------------------
    _WHICH = ("mean", "linear", "conditional", "prob_selected", "selection_linear")

    def predict(self, params, exog=None, which: str = "mean", selection_exog=None):
        """Predictions at ``params``:

        * ``"mean"`` / ``"linear"``: ``E[y | x] = x'b`` (the unconditional outcome mean);
        * ``"conditional"``: ``E[y | x, z, selected] = x'b + rho sigma phi(z'g)/Phi(z'g)``;
        * ``"prob_selected"``: ``Pr(selected | z) = Phi(z'g)``;
        * ``"selection_linear"``: ``z'g``.

        ``exog`` / ``selection_exog`` default to the model's rows (where the outcome
        regressors were missing on unselected rows, outcome predictions are NaN).
        Differentiable in params (mleopt.numpy)."""
        if which not in self._WHICH:
            raise ValueError(f"which must be one of {', '.join(map(repr, self._WHICH))}, not "
                             f"{which!r}.")
        params = self._params_by_name(params)
        k, kz = self.k_exog, self.k_selection
        if which in ("mean", "linear", "conditional"):
            xb = self._outcome_index(params[:k], exog)
            if which != "conditional":
                return xb
        zg = self._selection_index(params[k:k + kz], selection_exog)
        if which == "selection_linear":
            return zg
        if which == "prob_selected":
            return special.ndtr(zg)
        if exog is None and selection_exog is not None or \
                exog is not None and selection_exog is None:
            raise ValueError("predict(which='conditional') with new data needs both exog and "
                             "selection_exog (one row each per prediction).")
        mills = mnp.exp(-0.5 * zg * zg - _LOG_SQRT_2PI - special.log_ndtr(zg))
        return xb + params[k + kz] * params[k + kz + 1] * mills

    def _outcome_index(self, beta, exog):
        if exog is None:
            xb = mnp.matmul(self.exog, beta)
            if self._exog_unused.any():
                xb = mnp.where(self._exog_unused, np.nan, xb)
            return xb
        return mnp.matmul(_as_exog(exog, self.k_exog, self.exog_names), beta)

    def _selection_index(self, gamma, selection_exog):
        z = self.selection_exog if selection_exog is None else \
            _as_exog(selection_exog, self.k_selection, self.selection_exog_names)
        return mnp.matmul(z, gamma)

    @property
    def _results_class(self):
        from ..results_selection import HeckmanResults
        return HeckmanResults


def _check_selected(s: np.ndarray, name: str, yname, whole: bool = True) -> None:
    """The selection indicator is 0 or 1 (NaN: a missing row), with both values present
    (``whole``: the rows are the whole sample, not one Dask partition)."""
    known = s[~np.isnan(s)]
    bad = (known != 0) & (known != 1)
    if bad.any():
        vals = ", ".join(f"{v:g}" for v in np.unique(known[bad])[:5])
        first = int(np.flatnonzero(~np.isnan(s))[np.flatnonzero(bad)[0]])
        raise DataError(f"Heckman needs the selection indicator {name!r} to be 0 or 1; found "
                        f"{vals} in {int(bad.sum())} rows (first: row {first}). Recode it "
                        "(1 = outcome observed).")
    if not whole:
        return                  # one Dask partition: both values need not be present there
    outcome = "the outcome" if yname is None else f"the outcome {str(yname)!r}"
    n1 = int(known.sum())
    if n1 == 0:
        raise DataError(f"no selected rows: {name!r} is 0 in every row, so {outcome} is "
                        "never observed.")
    if n1 == known.size:
        raise DataError(f"every row is selected ({name!r} is 1 in all {n1} rows): there is "
                        "no selection to model. Fit OLS on the outcome equation instead.")


def _selection_indicator(selected, endog) -> tuple[np.ndarray | pd.Series, str]:
    """``selected`` as floats (a Series keeps its index, matched to endog's), and its name."""
    name = "selected"
    if isinstance(selected, pd.DataFrame):
        if selected.shape[1] != 1:
            raise DataError(f"selected must be a single column; got {selected.shape[1]}.")
        selected = selected.iloc[:, 0]
    if isinstance(selected, pd.Series):
        name = "selected" if selected.name is None else str(selected.name)
        if isinstance(endog, (pd.Series, pd.DataFrame)):
            selected = align_labels(selected, endog.index, "selected")
        values = pd.to_numeric(selected, errors="coerce").astype(float)
        if values.isna().sum() > selected.isna().sum():
            raise DataError(f"the selection indicator {name!r} holds non-numeric values; it "
                            "must be 0 or 1 (1 = outcome observed).")
        return values, name
    arr = np.asarray(selected)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(f"selected must be one value per observation, got shape {arr.shape}.")
    if arr.dtype.kind not in "biuf":
        raise DataError("the selection indicator must be numeric 0 or 1 (1 = outcome "
                        f"observed), not dtype {arr.dtype}.")
    return arr.astype(float), name


def _blank_unselected(endog, exog, sel):
    """endog with 0 on the rows where ``sel == 0``, exog with 0 there where it is not finite:
    those values are not used. Returns copies (the user's data are untouched)
    and a per-row flag of the rows whose outcome regressors were so replaced."""
    s = np.asarray(sel, dtype=float)
    off = s == 0
    if isinstance(endog, pd.DataFrame) and endog.shape[1] == 1:
        endog = endog.iloc[:, 0]
    if isinstance(endog, pd.Series):
        y = endog.where(~off, 0.0) if len(endog) == off.shape[0] else endog.copy()
    else:
        y = np.array(endog, copy=True)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim == 1 and y.shape[0] == off.shape[0]:
            y = np.where(off, 0.0, y)
    if isinstance(exog, pd.Series):
        exog = exog.to_frame()
    if isinstance(exog, pd.DataFrame):
        x = exog.astype(float)
        bad = ~np.isfinite(x.to_numpy(dtype=float, na_value=np.nan))
        unused = off & bad.any(axis=1) if x.shape[0] == off.shape[0] else np.zeros(len(x), bool)
        x = x.mask(bad & unused[:, None], 0.0)
    else:
        x = np.array(exog, dtype=float, copy=True)
        if x.ndim == 1:
            x = x[:, None]
        unused = np.zeros(x.shape[0], bool)
        if x.shape[0] == off.shape[0]:
            bad = ~np.isfinite(x)
            unused = off & bad.any(axis=1)
            x[bad & unused[:, None]] = 0.0
    return y, x, unused.astype(float)
