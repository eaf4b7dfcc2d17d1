"""Results of a maximum-likelihood fit: estimates, covariance, tests, predictions, reports.

Classes for ``model._results_class``:

``LikelihoodResults``  generic MLE results (any LikelihoodModel / fit_mle)
``OLSResults``         + rsquared, rsquared_adj, ssr, scale, fvalue, f_pvalue; HC2, HC3, classical
``DiscreteResults``    Logit / Probit
``CountResults``       Poisson / NegativeBinomial

Constructor (all four): ``Cls(model=model, params=ndarray, opt=record, cov_type="nonrobust",
cov_kwds=None)``, where ``opt`` has ``converged, iterations, message, method`` (and ``result``).

Conventions (see mleopt.covariance for the covariance formulas):

* z statistics and normal p-values / intervals, as statsmodels does for MLE models
  (computed with scipy.special's distribution functions, see mleopt.inference). The one
  exception is OLS with ``cov_type="classical"``: t(N - k) like R's lm and statsmodels' OLS.
  ``cov_kwds={"use_t": True}`` asks for t everywhere (df_resid, or G - 1 for cluster).
* ``aic = -2 llf + 2 K`` and ``bic = -2 llf + log(N) K`` with K = all estimated parameters
  (NegativeBinomial's alpha and OLS's sigma included). This matches statsmodels for
  Logit/Probit/Poisson/NB and R's AIC for lm; statsmodels' OLS does not count sigma, so its
  aic/bic are 2 (resp. log N) smaller.
* ``llr = 2 (llf - llnull)`` on ``df_model`` degrees of freedom; ``prsquared = 1 - llf/llnull``
  (McFadden).
"""
from __future__ import annotations

import copy
import functools
from functools import cached_property
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from . import covariance as _cov
from . import inference as _inf
from . import numpy as mnp
from .ad import grad, jacobian
from .ad import hessian as ad_hessian
from .data import align_labels, frame_by_name
from .design import design_frame, formula_parts, options_by_name
from .gram import GramFactor
from .resampling import CannotRefit

__all__ = ["LikelihoodResults", "OLSResults", "DiscreteResults", "CountResults"]


class LikelihoodResults:
    """Estimates of a likelihood model with their covariance and the usual inference.

    Attributes are computed on first use and cached; the Hessian and the per-observation scores
    are each evaluated once (by mleopt.ad) and shared by every covariance type.
    """

    _is_ols = False

    def __init__(self, model, params, opt=None, cov_type: str | None = None,
                 cov_kwds: dict | None = None, use_t: bool | None = None):
        self.model = model
        self._params = np.array(params, dtype=float).ravel()
        if self._params.size != len(self.param_names):
            raise ValueError(f"got {self._params.size} parameter values for "
                             f"{len(self.param_names)} names {self.param_names}.")
        self.opt = opt
        if cov_type is None:        # pweights: the robust sandwich (mleopt.weights)
            weighting = getattr(model, "weighting", None)
            cov_type = "nonrobust" if weighting is None else weighting.default_cov_type
        self._set_cov(cov_type, cov_kwds, use_t)

    # --- covariance -------------------------------------------------------------------
    def _set_cov(self, cov_type, cov_kwds, use_t):
        data = getattr(self.model, "data", None)
        if cov_kwds and "groups" in cov_kwds and hasattr(data, "align"):
            groups = cov_kwds["groups"]
            if isinstance(groups, (tuple, list)) and len(groups) == 2 and all(
                    np.ndim(g) == 1 for g in groups):        # two-way clustering
                groups = tuple(data.align(g, "cluster groups") for g in groups)
            else:
                groups = data.align(groups, "cluster groups")
            cov_kwds = {**cov_kwds, "groups": groups}
        self._spec = _cov.normalize(cov_type, cov_kwds, is_ols=self._is_ols,
                                    nobs=int(self.model.nobs), use_t=use_t,
                                    k_params=len(self._params))
        if self._spec.cov_type == "HAC" and self._freq_weighted:
            raise ValueError("cov_type='HAC' is not defined with frequency weights: a row "
                             "standing for w_i observations has no single place in the time "
                             "order. Give one row per period (expand the rows), or use "
                             "var_weights / pweights.")
        if self._blocked or self._freq_weighted:   # fweights: the meat counts rows w times
            scores = {"meat": self._meat}
        else:
            scores = {"scores": lambda: self._scores}
        # resampled covariances are spreads of refitted natural params: no reduction needed
        reduced = None if self._spec.cov_type in _cov.RESAMPLED else self._reduced_scale()
        if reduced is None:
            self._cov = _cov.compute(self._spec, hessian=self._hessian, names=self.param_names,
                                     nobs=int(self.nobs), k=self._k_correction, **scores,
                                     expected_hessian=lambda: self.model.expected_hessian(
                                         self._params),
                                     refit=self._refit, **self._ols_cov_inputs())
            return
        jac, h_u, names = reduced
        if "meat" in scores:
            def meat(**kw):
                m, g = self._meat(**kw)
                return jac.T @ m @ jac, g
            scores = {"meat": meat}
        else:
            scores = {"scores": lambda: self._scores @ jac}
        cov = _cov.compute(self._spec, hessian=h_u, names=names, nobs=int(self.nobs),
                           k=len(names), **scores)
        self._cov = jac @ cov @ jac.T

    def _reduced_scale(self):
        """For a model with a declared simplex (fewer free values than parameters):
        ``(J, H_u, names_u)``, the exact Jacobian of params with respect to u (the natural
        parameters, the simplex's weights replaced by its free values) and the Hessian in u,
        ``H_u = J' H J + sum_i g_i d2 p_i / du2`` (g the natural gradient). The covariance
        is then found in u and reported as ``J cov_u J'`` (the delta method); None
        otherwise (a one-to-one transform needs no reduction: at an optimum its delta method
        equals the natural-scale covariance)."""
        reparam = getattr(self.model, "_reparam", None)
        reduce = None if reparam is None else reparam.reducing()
        if reduce is None:
            return None
        u = reduce.to_free(self._params)
        jac = np.asarray(jacobian(reduce.from_free)(u), dtype=float)
        g = self._score
        curvature = np.asarray(ad_hessian(lambda v: mnp.dot(g, reduce.from_free(v)))(u),
                               dtype=float)
        return jac, jac.T @ self._hessian @ jac + curvature, reduce.free_names

    def _refit(self, rows: np.ndarray) -> tuple[np.ndarray, bool]:
        """``(params, converged)`` of the model refitted on ``rows`` (jackknife, bootstrap),
        by Newton from these estimates (a warm start)."""
        take = getattr(self.model, "_take", None)
        if take is None or self.model.nobs is None:
            raise CannotRefit(f"cov_type={self.cov_type!r} refits the model on resampled "
                              "rows; a model without rows of data (fit_mle with a function "
                             "only) cannot be refitted.")
        try:
            sub = self._take_copies(rows) if self._freq_weighted else take(rows)
        except (NotImplementedError, ValueError) as exc:    # Dask; fit_mle without data=
            raise CannotRefit(f"cov_type={self.cov_type!r} refits the model on resampled "
                              f"rows, which this model cannot give: {exc}") from None
        record = sub._fit_quick(self._params)
        return record.params, bool(record.converged)

    def _take_copies(self, copies: np.ndarray):
        """With frequency weights the units resampled are the ``sum w`` observations the rows
        stand for (copy c is a copy of row ``repeat(arange(N), w)[c]``): the model on the
        rows drawn, each weighted by the number of its copies drawn, so that jackknife and
        bootstrap equal those of the replicated rows (as every fweight covariance does)."""
        w = self.model._row_weights()
        owner = np.repeat(np.arange(w.size), np.rint(w).astype(int))
        counts = np.bincount(owner[np.asarray(copies)], minlength=w.size)
        kept = np.flatnonzero(counts)
        sub = self.model._take(kept)
        sub._obs_weights = counts[kept].astype(float)
        return sub

    @property
    def _blocked(self) -> bool:
        """True when the model's rows are evaluated in several row blocks (or Dask
        partitions): the covariances then read score products summed block by block."""
        blocks = getattr(self.model, "_blocks", None)
        if blocks is None or "_scores" in self.__dict__:
            return False
        models = blocks()[0]
        return not (len(models) == 1 and models[0] is self.model)

    @property
    def _freq_weighted(self) -> bool:
        weighting = getattr(self.model, "weighting", None)
        return weighting is not None and weighting.kind == "fweight"

    def _meat(self, row_scale=None, groups=None, hc=None):
        """Score products for the robust covariances, summed over the model's row blocks
        (the N x K scores are not formed whole)."""
        return self.model._score_meat(self._params, row_scale=row_scale, groups=groups, hc=hc)

    def _ols_cov_inputs(self) -> dict:
        return {}

    @property
    def _k_correction(self) -> int:
        """Parameters counted in N/(N-k) corrections: all of them (as statsmodels' MLE models)."""
        return len(self._params)

    def get_robustcov_results(self, cov_type: str = "HC0", use_t: bool | None = None,
                              **kwds) -> "LikelihoodResults":
        """A copy of these results with another covariance type; the model is not refitted.

        ``res.get_robustcov_results("cluster", groups=firm)``; options as in ``cov_kwds``.
        """
        new = copy.copy(self)
        new._set_cov(cov_type, kwds, use_t)
        return new

    @property
    def cov_type(self) -> str:
        return self._spec.cov_type

    @property
    def cov_kwds(self) -> dict:
        return dict(self._spec.kwds)

    @property
    def use_t(self) -> bool:
        return self._spec.use_t

    @property
    def df_t(self) -> float | None:
        """Degrees of freedom of the t distribution (None when z / normal is used)."""
        if not self.use_t:
            return None
        g = _cov.n_groups(self._spec)
        return float(g - 1) if g is not None else float(self.df_resid)

    def cov_params(self) -> pd.DataFrame:
        """The covariance matrix of the estimates (DataFrame labelled by parameter names)."""
        return pd.DataFrame(self._cov, index=self._names_index, columns=self._names_index)

    # --- estimates and their tests ----------------------------------------------------
    @property
    def param_names(self) -> list[str]:
        return list(self.model.param_names)

    @property
    def _names_index(self) -> pd.Index:
        """``param_names`` as a pandas Index, built once (building an Index from strings costs
        more than the Series on it); each caller gets its own view, so that renaming one
        object's index leaves the others alone."""
        names = self.model.param_names
        cached = self.__dict__.get("_names_index_cache")
        if cached is None or cached[0] != names:
            cached = self._names_index_cache = (names, shared_index(names))
        return cached[1].view()

    def _series(self, values, name=None) -> pd.Series:
        return pd.Series(np.asarray(values, dtype=float), index=self._names_index, name=name)

    def _as_reported(self, values: np.ndarray):
        """How ``params``, ``bse``, ``tvalues`` and ``pvalues`` are shown: one Series by
        parameter name (MNLogit: statsmodels' K x (J-1) table)."""
        return self._series(values)

    @property
    def params(self) -> pd.Series:
        return self._as_reported(self._params)

    @property
    def _bse(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.sqrt(np.diag(self._cov))

    @property
    def _tvalues(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self._params / self._bse

    @property
    def _pvalues(self) -> np.ndarray:
        return _inf.two_sided_p(self._tvalues, self.df_t)

    @property
    def bse(self) -> pd.Series:
        return self._as_reported(self._bse)

    @property
    def tvalues(self) -> pd.Series:
        return self._as_reported(self._tvalues)

    @property
    def pvalues(self) -> pd.Series:
        return self._as_reported(self._pvalues)

    # the flat Series by parameter name, for every model (the same as params, bse, ...
    # except where those are shown as a table: MNLogit); generic code reads these
    @property
    def params_flat(self) -> pd.Series:
        """The estimates as one Series by parameter name (MNLogit: ``"PID=1:age"``)."""
        return self._series(self._params)

    @property
    def bse_flat(self) -> pd.Series:
        return self._series(self._bse)

    @property
    def tvalues_flat(self) -> pd.Series:
        return self._series(self._tvalues)

    @property
    def pvalues_flat(self) -> pd.Series:
        return self._series(self._pvalues)

    def conf_int(self, alpha: float = 0.05, cols: Sequence | None = None,
                 method: str = "wald") -> pd.DataFrame:
        """Confidence intervals, columns 0 (lower) and 1 (upper), as statsmodels, for
        ``cols`` (names or positions; default all). ``method="wald"``: estimate +- q se
        (q from N(0,1), or t when use_t); ``method="profile"``: the likelihood-ratio
        interval ``{v : 2 (llf - llp(v)) <= chi2_(1-alpha)(1)}`` by exact re-fits with the
        parameter held fixed (R's confint for glm; see mleopt.profile)."""
        if method not in ("wald", "profile"):
            raise ValueError(f"conf_int method must be 'wald' or 'profile', not {method!r}.")
        if method == "profile":
            from .profile import profile_conf_int
            return profile_conf_int(self, alpha, cols)
        q = _inf.critical_value(alpha, self.df_t)
        se = self._bse
        out = pd.DataFrame({0: self._params - q * se, 1: self._params + q * se},
                           index=self._names_index)
        if cols is None:
            return out
        from .profile import _index
        return out.iloc[[_index(self, c) for c in cols]]

    def profile(self, name, values: Sequence[float] | None = None, num: int = 21,
                width: float = 3.0, alpha: float = 0.05):
        """The profile log-likelihood of parameter ``name`` (a DataFrame: value, llf,
        signed_root, wald_z) at ``values`` (default ``num`` points over estimate +- ``width``
        standard errors); ``.plot()`` draws it beside the Wald quadratic."""
        from .profile import profile
        return profile(self, name, values, num, width, alpha)

    # --- likelihood ---------------------------------------------------------------------
    @cached_property
    def llf(self) -> float:
        return float(self.model.loglike(self._params))

    @cached_property
    def llnull(self) -> float:
        """Log-likelihood of the intercept-only model (NaN when the model has none)."""
        value = self.model.null_model_llf()
        return float("nan") if value is None else float(value)

    @property
    def llr(self) -> float:
        return 2.0 * (self.llf - self.llnull)

    @property
    def llr_pvalue(self) -> float:
        return _inf.chi2_sf(self.llr, self.df_model) if self.df_model > 0 else np.nan

    @property
    def prsquared(self) -> float:
        return 1.0 - self.llf / self.llnull

    @property
    def k_params(self) -> int:
        return len(self._params)

    @property
    def aic(self) -> float:
        return -2.0 * self.llf + 2.0 * self.k_params

    @property
    def bic(self) -> float:
        return -2.0 * self.llf + np.log(self.nobs) * self.k_params

    @property
    def nobs(self) -> int:
        """Observations: rows, or ``sum w`` with frequency weights (statsmodels GLM)."""
        return getattr(self.model, "wnobs", self.model.nobs)

    @property
    def df_model(self) -> float:
        return self.model.df_model

    @property
    def df_resid(self) -> float:
        return self.model.df_resid

    # --- AD derivatives at the estimate -------------------------------------------------
    @cached_property
    def _hessian(self) -> np.ndarray:
        return np.asarray(self.model.hessian(self._params), dtype=float)

    @cached_property
    def _scores(self) -> np.ndarray:
        return np.asarray(self.model.score_obs(self._params), dtype=float)

    @cached_property
    def _score(self) -> np.ndarray:
        score = getattr(self.model, "score", None)
        if score is None:
            score = grad(self.model.loglike)
        return np.asarray(score(self._params), dtype=float)

    @property
    def hessian(self) -> pd.DataFrame:
        """The AD Hessian of the log-likelihood at the estimate."""
        return pd.DataFrame(self._hessian, index=self._names_index, columns=self._names_index)

    @property
    def score(self) -> pd.Series:
        """The AD gradient of the log-likelihood at the estimate (near zero at an optimum)."""
        return self._series(self._score)

    @property
    def score_obs(self) -> np.ndarray:
        """The N x K per-observation scores (AD Jacobian of loglikeobs, one batched pass)."""
        return self._scores

    # --- optimizer record -----------------------------------------------------------------
    def _opt(self, name, default=None):
        return getattr(self.opt, name, default) if self.opt is not None else default

    @property
    def converged(self) -> bool | None:
        value = self._opt("converged")
        return None if value is None else bool(value)

    @property
    def iterations(self) -> int | None:
        return self._opt("iterations")

    @property
    def message(self) -> str:
        return str(self._opt("message", ""))

    @property
    def mle_retvals(self) -> dict:
        """What the optimiser reported, under statsmodels' key names."""
        return {"converged": self.converged, "iterations": self.iterations,
                "message": self.message, "fcalls": self._opt("n_fun"),
                "hcalls": self._opt("n_hess"), "gmax": self._opt("grad_max")}

    @property
    def method(self) -> str:
        return str(self._opt("method", "") or "")

    @property
    def optim_history(self) -> pd.DataFrame:
        """Per epoch of a stochastic fit (``fit(method="adam", ...)``): epoch (0 is the
        start), loss (mean negative log-likelihood on all rows), grad_norm (2-norm of its
        gradient in the optimiser's scale) and time (seconds)."""
        info = self._stochastic_info()
        if info is None:
            raise AttributeError(f"optim_history exists for stochastic fits (method='adam', "
                                 f"'sgd', ...); this fit used {self.method!r}.")
        return pd.DataFrame(info["history"])

    def _stochastic_info(self) -> dict | None:
        extra = self._opt("extra") or {}
        return extra.get("stochastic")

    @property
    def at_bound(self) -> pd.Series:
        """Per parameter: -1 at its lower bound, +1 at its upper bound, 0 inside (always 0
        for a fit without ``bounds=``)."""
        side = (self._opt("extra") or {}).get("at_bound")
        reparam = getattr(self.model, "_reparam", None)
        if side is not None and reparam is not None:    # flags per free value: map them
            side = reparam.natural_positions(side, 0)
        side = np.zeros(len(self.param_names), dtype=int) if side is None \
            else np.asarray(side, dtype=int)
        if reparam is not None:
            side = np.where(side == 0, self._transform_edge(reparam), side)
        return self._series(side, "at_bound")

    def _transform_edge(self, reparam) -> np.ndarray:
        """Per parameter: -1 / +1 where a declared one-to-one transform (not a simplex) ended
        at the lower / upper edge of its set, 0 elsewhere. The free value then runs off
        towards infinity, where the map flattens and the free-scale gradient vanishes
        although the natural-scale score ``g_j`` does not; an edge is a standardised score
        ``|g_j| / sqrt(|H_jj|) > 1e-3`` (at an interior optimum it is below ~1e-6), its side
        the sign of ``g_j`` (the direction the likelihood still rises). Looked for only in
        converged fits without general constraints (elsewhere the score is not zero anyway:
        a stochastic estimate, or the constraints' multipliers)."""
        out = np.zeros(len(self.param_names), dtype=int)
        if (self._opt("extra") or {}).get("constrained") or not self.converged:
            return out
        one_to_one = np.zeros(len(self.param_names), dtype=bool)
        for group in reparam.groups:
            if group.kind != "simplex":
                one_to_one[group.index] = True
        if not one_to_one.any():
            return out
        g, h = self._score, np.abs(np.diag(self._hessian))
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(g == 0, 0.0, np.abs(g) / np.sqrt(h))
        flagged = one_to_one & ~(t <= 1e-3)
        out[flagged] = np.sign(g[flagged]).astype(int)
        return out

    def _bound_note(self) -> list[str]:
        side = self.at_bound
        if not side.any():
            return []
        named = ", ".join(f"{n} (at its {'lower' if s < 0 else 'upper'} bound, "
                          f"{self._params[j]:.6g})" for j, (n, s) in enumerate(side.items())
                          if s)
        return [f"WARNING: {named}: the maximum is on the boundary of the parameter space "
                "set by bounds= or by a declared transform (whose free value then runs off "
                "to infinity). Standard errors, z tests and Wald intervals assume an "
                "interior maximum (zero score, an asymptotically normal estimate); at a bound "
                "the score need not be zero and the estimate's distribution is cut off there "
                "(a point mass at the bound), so they are not the usual ones. Test a "
                "parameter at its bound by a likelihood-ratio test against a mixture of "
                "chi-squares (e.g. 0.5 chi2(0) + 0.5 chi2(1) for one parameter)."]

    def _fit_notes(self) -> list[str]:
        """Notes on how the estimates were found, for the summary."""
        return self._weights_note() + self._run_notes() + self._transform_note()

    def _transform_note(self) -> list[str]:
        reparam = getattr(self.model, "_reparam", None)
        if reparam is None:
            return []
        return [f"Transforms ({'; '.join(reparam.describe())}): optimised on the free "
                "scale, reported on the natural scale (delta method)."]

    def _weights_note(self) -> list[str]:
        weighting = getattr(self.model, "weighting", None)
        if weighting is None:
            return []
        rows = "" if weighting.kind != "fweight" else \
            f" ({self.model.nobs} rows stand for {self.nobs:g} observations)"
        pseudo = "" if weighting.kind != "pweight" else \
            " The log-likelihood is a pseudo log-likelihood (no LR tests)."
        return [f"Observation weights: {weighting.describe()}{rows}.{pseudo}"]

    def _run_notes(self) -> list[str]:
        info = self._stochastic_info()
        if info is None:
            return self._bound_note()
        run = (f"Optimiser: {info['method']}, {info['epochs']} epochs of batches of "
               f"{info['batch_size']} rows ({info['steps']} steps)")
        if info["polished"]:
            state = "converged" if info["polish_converged"] else "did NOT converge"
            return [f"{run}, then a Newton polish ({info['polish_iterations']} iterations) that "
                    f"{state}."] + self._bound_note()
        return [f"{run}, without a Newton polish: the estimates are the stochastic ones and "
                "the standard errors assume they are an optimum of the likelihood (max "
                f"|gradient| = {self._opt('grad_max'):.3g}); refit with polish=True for the "
                "exact MLE."]

    # --- predictions ------------------------------------------------------------------
    def predict(self, exog=None, which: str = "mean", **kwds):
        """Predictions at the estimate; ``exog=None`` uses the estimation sample.

        ``exog=None`` gives a Series on the data's row labels when the data were pandas
        (as ``fittedvalues``). A DataFrame ``exog`` gives a Series with its index; when it
        has a column for each of the model's exog names, its columns are matched by name
        (any order); one with some of them but not all is a DataError; one with none of
        them is read by position.
        Per-row options given as a Series (``offset=``, ``exposure=``) are matched by index
        to exog's rows (to the model's rows when ``exog=None``).
        """
        x, kwds = self._predict_inputs(exog, kwds)
        out = np.asarray(self.model.predict(self._params, exog=x, which=which, **kwds))
        if isinstance(exog, pd.DataFrame):     # (2-D: probabilities, one column per count)
            if out.ndim == 2:
                return pd.DataFrame(out, index=exog.index, columns=kwds.get("y_values"))
            return pd.Series(out, index=exog.index, name=which)
        if exog is None and out.ndim == 1:      # the sample: on its row labels, as
            return self._by_row(out, which)     # fittedvalues and get_prediction()
        return out

    def _predict_inputs(self, exog, kwds: dict) -> tuple:
        """``(exog, kwds)`` for ``model.predict``: a DataFrame's columns matched by name (a
        dict of columns is one), per-row options matched to its rows, then as arrays."""
        if isinstance(exog, dict):          # numbers broadcast; all numbers: one row
            one_row = all(np.ndim(v) == 0 for v in exog.values())
            exog = pd.DataFrame(exog, index=[0] if one_row else None)
        kwds = formula_parts(self.model, exog, options_by_name(exog, kwds))
        exog = design_frame(self.model, exog)   # raw data of a formula model, encoded
        x = frame_by_name(exog, getattr(self.model, "exog_names", None))
        if isinstance(x, pd.DataFrame):     # per-row options (offset, ...) follow its rows
            kwds = {k: align_labels(v, x.index, k, what="exog's row index",
                                    fix=f"{k}.loc[exog.index]") for k, v in kwds.items()}
            # aligned now: handed on by position (exog goes on as an array)
            kwds = {k: v.to_numpy() if isinstance(v, pd.Series) else v for k, v in kwds.items()}
            x = x.to_numpy(dtype=float)
        return x, kwds

    def get_prediction(self, exog=None, which: str = "mean", **kwds):
        """Predictions with standard errors and intervals by the exact delta method
        (mleopt.prediction): ``.predicted``, ``.se``, ``.conf_int(alpha)``,
        ``.summary_frame(alpha)``. ``exog`` as for :meth:`predict` (a DataFrame or dict of
        columns by name); ``which`` and the options (``offset=``, ``exposure=``) those of
        the model's predict."""
        from .prediction import get_prediction
        return get_prediction(self, exog, which, **kwds)

    def _by_row(self, values: np.ndarray, name: str):
        """A Series on the data's row labels when the input was pandas, else the array."""
        labels = getattr(getattr(self.model, "data", None), "row_labels", None)
        return values if labels is None else pd.Series(values, index=labels, name=name)

    @cached_property
    def fittedvalues(self):
        """E[y_i] at the estimate (a Series on the data's index for pandas input)."""
        mean = np.asarray(self.model.predict(self._params, which="mean"), dtype=float)
        return self._by_row(mean, "fittedvalues")

    @property
    def resid(self):
        """Response residuals ``endog - fittedvalues``."""
        y = np.asarray(self.model.endog, dtype=float)
        return self._by_row(y - np.asarray(self.fittedvalues, dtype=float), "resid")

    # residuals (mleopt.residuals: statsmodels GLM conventions, and the generalized one)
    @property
    def resid_response(self):
        """``y - mu`` (as ``resid``)."""
        return self._residual("response")

    @property
    def resid_pearson(self):
        """``(y - mu) / sqrt(V(mu))`` (OLS, Logit, Probit, Poisson, NB2)."""
        return self._residual("pearson")

    @property
    def resid_deviance(self):
        """``sign(y - mu) sqrt(d_i)``, d_i the unit deviance (OLS, Logit, Probit, Poisson,
        NB2)."""
        return self._residual("deviance")

    @property
    def resid_anscombe(self):
        """Anscombe residuals (OLS, Logit, Probit, Poisson, NB2)."""
        return self._residual("anscombe")

    @property
    def resid_generalized(self):
        """``d l_i / d eta_i``: the score with respect to the linear index (index models)."""
        from .residuals import generalized
        return self._by_row(generalized(self), "resid_generalized")

    def _residual(self, kind: str):
        from .residuals import residuals
        return self._by_row(residuals(self, kind), f"resid_{kind}")

    # --- inference ----------------------------------------------------------------------
    def wald_test(self, r_matrix, q=None) -> "_inf.WaldTestResults":
        """Joint Wald test of ``R params = q``; R may be a string like ``"x1 = x2, x3 = 0"``."""
        return _inf.wald_test(self, r_matrix, q)

    def t_test(self, r_matrix, q=None) -> "_inf.EstimateResults":
        """One test per restriction row: estimate ``R params``, SE, z/t, p, CI."""
        return _inf.t_test(self, r_matrix, q)

    def lr_test(self, restricted: "LikelihoodResults") -> "_inf.LRTestResults":
        """Likelihood-ratio test of a nested, restricted fit against this one."""
        return _inf.lr_test(self, restricted)

    def delta_method(self, func: Callable, names: Sequence[str] | None = None
                     ) -> "_inf.EstimateResults":
        """Estimate, SE, z, p, CI of ``func(params)`` with the exact AD Jacobian (nlcom)."""
        return _inf.delta_method(self, func, names)

    def get_margeff(self, at: str = "overall", method: str = "dydx", alpha: float = 0.05,
                    dummy: bool = False, count: bool = False,
                    atexog: dict | None = None) -> "_inf.MarginalEffects":
        """Average (``at="overall"``) marginal effects, or at the regressors' ``"mean"``,
        ``"median"`` or ``"zero"`` (the constant 1); ``atexog={column: value}`` holds
        regressors (by name or position in exog) at given values (see inference.margeff).

        ``method``: ``dydx`` (dE[y]/dx), ``eyex`` (elasticity), ``dyex``, ``eydx``. Standard
        errors by the delta method, with the AD Jacobian of the effects w.r.t. the params.
        The constant is excluded, as in statsmodels. ``dummy=True``: for 0/1 columns, the
        discrete change E[y | x_j = 1] - E[y | x_j = 0]; ``count=True``: for other columns of
        non-negative integers, (E[y | x_j + 1] - E[y | x_j - 1]) / 2 (statsmodels' options).
        A user model's effects are derivatives of its own ``predict(params, exog)``.
        """
        return _inf.margeff(self, at=at, method=method, alpha=alpha, dummy=dummy,
                            count=count, atexog=atexog)

    # --- reports ------------------------------------------------------------------------
    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """The coefficient table: coef, std err, z (or t), P>|z|, CI bounds."""
        from .summary import coef_frame
        return coef_frame(self, alpha)

    def summary(self, alpha: float = 0.05, title: str | None = None, xname=None):
        """The statsmodels-style report (``print`` it, or ``.as_text()`` / ``.as_html()`` /
        ``.as_latex()``; ``.tables``): ``1 - alpha`` intervals, an optional ``title``, and
        ``xname`` (one name per parameter) to show the parameters under other names."""
        from .summary import Summary
        report = Summary(self, alpha=alpha, title=title)
        report.rename(xname, self.param_names)
        return report

    def _summary_header_extra(self) -> list[tuple[str, str]]:
        """Fit statistics for the right column of the header."""
        from .summary import fmt_stat
        null = [] if np.isnan(self.llnull) else [
            ("Pseudo R-squ.:", fmt_stat(self.prsquared, 4)),
            ("Log-Likelihood:", fmt_stat(self.llf, 2)),
            ("LL-Null:", fmt_stat(self.llnull, 2)),
            ("LLR p-value:", fmt_stat(self.llr_pvalue, 4))]
        return (null or [("Log-Likelihood:", fmt_stat(self.llf, 2))]) + [
            ("AIC:", fmt_stat(self.aic, 2)), ("BIC:", fmt_stat(self.bic, 2))]

    def __repr__(self) -> str:
        return (f"<{type(self).__name__}: {type(self.model).__name__}, nobs={self.nobs}, "
                f"llf={self.llf:.6g}, converged={self.converged}, cov_type={self.cov_type!r}>")


class OLSResults(LikelihoodResults):
    """OLS fitted by maximum likelihood; the last parameter is sigma (the ML estimate).

    ``scale = SSR / (N - k)`` (statsmodels' scale); ``classical`` standard errors
    ``sqrt(diag(scale (X'X)^-1))`` for the coefficients; sigma keeps its ML (inverse Hessian)
    variance under ``classical``. ``fvalue`` is the F test of all slopes: the classical ANOVA
    F under ``nonrobust`` and ``classical``; under a robust covariance (HC*, cluster, opg),
    as statsmodels, the Wald statistic with that covariance divided by the number of slopes,
    on (slopes, G - 1) degrees of freedom for cluster and (slopes, df_resid) otherwise.
    Every covariance's ``(X'X)^-1`` comes from a QR of the column-scaled design (mleopt.gram),
    so ill-conditioned designs (NIST Filip, Longley) keep their digits.
    """

    _is_ols = True

    @property
    def _coef_index(self) -> np.ndarray:
        return np.arange(self.model.k_exog)

    @property
    def _k_correction(self) -> int:
        return len(self._coef_index)

    @cached_property
    def _design(self) -> GramFactor:
        """The orthogonal factorisation of the design, shared by every covariance type."""
        if self.model._row_weights() is not None:     # weighted least squares
            return GramFactor(self.model._weighted_exog())
        return GramFactor(np.asarray(self.model.exog, dtype=float),
                          gram=self.model.__dict__.get("_gram"))

    def _ols_cov_inputs(self) -> dict:
        inputs = {"coef_index": self._coef_index, "scale": self.scale}
        if self._blocked:                                   # factorised block by block
            return {**inputs, "get_xtx_inv": self.model._xtx_inverse}
        sigma = self._params[-1]
        return {**inputs, "design": self._design, "coef_weight": 1.0 / sigma**2}

    @property
    def _fitted_linear(self) -> np.ndarray:
        x = np.asarray(self.model.exog, dtype=float)
        return x @ self._params[self._coef_index]

    @cached_property
    def fittedvalues(self):
        return self._by_row(self._fitted_linear, "fittedvalues")

    @property
    def ssr(self) -> float:
        if _inf._blocked(self.model):       # summed block by block, residuals never whole
            beta = self._params[self._coef_index]
            return float(sum(self.model._block_map("_block_apply", _block_ssr, beta)))
        return _block_ssr(self.model, self._params[self._coef_index])

    @property
    def scale(self) -> float:
        return self.ssr / self.df_resid

    @property
    def centered_tss(self) -> float:
        if _inf._blocked(self.model):
            parts = self.model._block_map("_block_apply", _block_y_sums, 0.0)
            mean = sum(p[0] for p in parts) / sum(p[2] for p in parts)
            return float(sum(p[1] for p in
                             self.model._block_map("_block_apply", _block_y_sums, mean)))
        sums = _block_y_sums(self.model, 0.0)
        return _block_y_sums(self.model, sums[0] / sums[2])[1]

    @property
    def uncentered_tss(self) -> float:
        if _inf._blocked(self.model):
            return float(sum(p[1] for p in
                             self.model._block_map("_block_apply", _block_y_sums, 0.0)))
        return _block_y_sums(self.model, 0.0)[1]

    @property
    def _tss(self) -> float:
        return self.centered_tss if self.model.k_constant else self.uncentered_tss

    @property
    def ess(self) -> float:
        return self._tss - self.ssr

    @property
    def rsquared(self) -> float:
        return 1.0 - self.ssr / self._tss

    @property
    def rsquared_adj(self) -> float:
        return 1.0 - (self.nobs - self.model.k_constant) / self.df_resid * (1 - self.rsquared)

    @property
    def fvalue(self) -> float:
        if self.df_model <= 0:
            return np.nan
        if self._robust_f:
            return self._slope_wald_f()[0]
        return (self.ess / self.df_model) / (self.ssr / self.df_resid)

    @property
    def f_pvalue(self) -> float:
        if self.df_model > 0 and self._robust_f:
            return self._slope_wald_f()[1]
        return _inf.f_sf(self.fvalue, self.df_model, self.df_resid)

    @property
    def _robust_f(self) -> bool:
        return self.cov_type not in ("nonrobust", "classical")

    def _slope_wald_f(self) -> tuple[float, float]:
        """(F, p): Wald test that every slope is 0 with the current covariance, W / q on
        (q, G - 1) for cluster, (q, df_resid) otherwise (statsmodels' robust fvalue)."""
        slopes = [i for i in self._coef_index if i != self.model.const_idx]
        r = np.eye(self.k_params)[slopes]
        f = _inf.wald_form(r @ self._params, _inf._jvj(r, self._cov)) / len(slopes)
        if np.isnan(f):
            return np.nan, np.nan
        g = _cov.n_groups(self._spec)
        df_denom = float(g - 1) if g is not None else float(self.df_resid)
        return f, _inf.f_sf(f, len(slopes), df_denom)

    def _summary_header_extra(self) -> list[tuple[str, str]]:
        from .summary import fmt_stat
        return [("R-squared:", fmt_stat(self.rsquared, 3)),
                ("Adj. R-squared:", fmt_stat(self.rsquared_adj, 3)),
                ("F-statistic:", fmt_stat(self.fvalue, 4)),
                ("Prob (F-statistic):", fmt_stat(self.f_pvalue, 4)),
                ("Log-Likelihood:", fmt_stat(self.llf, 2)),
                ("AIC:", fmt_stat(self.aic, 2)),
                ("BIC:", fmt_stat(self.bic, 2))]


def shared_index(labels: Sequence) -> pd.Index:
    """A pandas Index of ``labels`` to be handed out as views (Series, tables of results
    objects): its array is made read-only, so that writing into one view's ``.values`` is
    refused instead of relabelling every other Series. Kept for the last few hundred label
    tuples (building an Index from strings costs more than a small fit's Series on it:
    repeated fits of one model, bootstraps and simulations reuse it). The key holds the
    labels' types (1, 1.0 and True are equal keys of other dtypes); more than 1024 labels
    are built afresh, so that the cache keeps at most 256 x 1024 labels."""
    key = tuple(labels)
    if len(key) > 1024:
        return _read_only_index.__wrapped__(key)
    try:
        return _read_only_index(key, tuple(map(type, key)))
    except TypeError:       # unhashable labels: built afresh
        return _read_only_index.__wrapped__(key)


@functools.lru_cache(maxsize=256)
def _read_only_index(labels: tuple, types: tuple = ()) -> pd.Index:
    """The read-only Index of ``labels`` (``types``: their types, part of the cache key)."""
    index = pd.Index(labels)
    values = index.values
    if isinstance(values, np.ndarray):
        values.flags.writeable = False
    return index


def _block_ssr(block, beta) -> float:
    """``sum_i w_i r_i^2`` (w = 1 unweighted)."""
    r = block.endog - block.exog @ beta
    w = block._row_weights()
    return float(r @ r) if w is None else float(r @ (w * r))


def _block_y_sums(block, center: float) -> tuple[float, float, float]:
    """``(sum w y, sum w (y - center)^2, sum w)`` (w = 1 unweighted)."""
    y, w = block.endog, block._row_weights()
    d = y - center
    if w is None:
        return float(y.sum()), float(d @ d), float(y.shape[0])
    return float(w @ y), float(d @ (w * d)), float(w.sum())


class DiscreteResults(LikelihoodResults):
    """Results of a binary-response model (Logit, Probit)."""


class CountResults(LikelihoodResults):
    """Results of a count model (Poisson, NegativeBinomial)."""
