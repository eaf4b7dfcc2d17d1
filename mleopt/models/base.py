"""LikelihoodModel: the generic maximum-likelihood model, and fit_mle for a plain function.

A model is its data plus ``loglikeobs(params)``, the vector of per-observation log-likelihoods
written with mleopt.numpy / mleopt.special / mleopt.stats, in the *natural* parametrization
(sigma, alpha, ...). Everything else is derived:

* ``loglike(params) = sum_i loglikeobs(params)_i``; ``score``, ``hessian`` and ``score_obs``
  (the N x K Jacobian of loglikeobs, one batched forward pass) come from mleopt.ad;
* ``fit`` maximises the log-likelihood over ``theta``, the optimiser's unconstrained
  parametrization, with ``params = transform(theta)`` (identity unless a subclass says
  otherwise, e.g. ``sigma = exp(theta_sigma)``), and returns a results object.

Row blocks: every derivative goes through one loop (``_block_map``) over blocks of rows,
each a copy of the model on a slice of its rows (views of every per-row array). Its size
follows from the memory budget of mleopt.blocks (``fit(block_memory=..., n_threads=...)``);
the blocks run on a thread pool and their values, gradients, Hessians and score products
are added (``_block_derivatives``, ``_block_hessian``, ``_block_meat``: one overridable
method each; IndexModel overrides them with its fast route). Data within the budget are
one block: the model itself. Dask inputs make the partitions the blocks (models/dask.py).

What the results layer (mleopt.results) reads from a model: ``param_names, exog_names,
endog_name, endog, exog, nobs, k_params, k_constant, df_model, df_resid, loglike, score_obs,
hessian, predict, null_model_llf, data`` (``data.row_labels``, ``data.align(groups)``).
"""
from __future__ import annotations

import copy
import difflib
import functools
import inspect
import math
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np
import pandas as pd

from .. import ad
from .. import numpy as mnp
from .. import blocks as blocks_mod
from .. import optimize as _opt
from ..ad import api as ad_api
from ..ad.api import value_grad_and_hessian
from ..ad.replay import Session
from ..ad.pytree import is_container, leaves_of, ravel_leaves, tree_structure
from ..ad.structure import DataCopy
from ..data import (ModelData, align_names, check_rank, check_scale, frame_by_name,
                    prepare_data)
from ..design import design_frame, formula_context, formula_inputs
from ..exceptions import ConvergenceWarning, DataError, StartValueError, warn_user
from ..reparam import Reparam
from ..weights import WEIGHT_KEYWORDS, Weighting, checked_weights, weight_arguments

__all__ = ["LikelihoodModel", "fit_mle", "Space", "NATURAL"]


class Space(NamedTuple):
    """Where derivatives are taken: natural params (``natural=True``), or the optimiser's
    ``z`` with ``params = transform(z * inv)`` (``inv`` None: ``z = theta``)."""

    natural: bool
    inv: np.ndarray | None = None


NATURAL = Space(True)


class LikelihoodModel:
    """A model defined by its per-observation log-likelihood ``loglikeobs(params)``.

    Subclass it and define ``loglikeobs``; optionally ``extra_param_names`` (parameters after
    the exog coefficients, e.g. ``["sigma"]``), ``start_params()``, and ``transform(theta)`` /
    ``untransform(params)`` (written with mleopt.numpy) to optimise on an unconstrained scale.
    Observation weights, for every model but Heckman: ``freq_weights=``, ``var_weights=``,
    ``pweights=``, or ``weights=`` with ``weight_type="fweight" | "aweight" | "pweight"``
    (Stata's kinds; see mleopt.weights): the log-likelihood becomes ``sum_i w_i l_i``.
    Other per-row arrays passed as keyword arguments (groups, ...; ``weights=`` without
    ``weight_type``) are kept aligned with the data (a pandas Series by its index; dropped
    with it under ``missing="drop"``) and set as attributes. The built-in models
    (``_strict_kwargs``) refuse every keyword they do not use; a user's subclass of one
    keeps this passthrough.
    """

    extra_param_names: Sequence[str] = ()
    _results_name = "LikelihoodResults"
    _check_rank = True
    _LARGE = 1_000_000  # nobs * k_params from which a Hessian costs several gradients: Newton
    #                     may then reuse a factorised Hessian (mleopt.optimize)
    _replay_blocks = True   # a fit replays its recorded blocks (mleopt.ad.replay); not Dask's

    def __new__(cls, *args: Any, **kwargs: Any):
        # Dask inputs: the same model class, with its row blocks on the Dask partitions
        if (args or kwargs) and "DaskModel" not in [c.__name__ for c in cls.__mro__]:
            from .dask import any_dask, dask_class
            if any_dask(args, kwargs):
                cls = dask_class(cls)
        return super().__new__(cls)

    def __init__(self, endog: Any, exog: Any = None, missing: str = "raise",
                 param_names: Sequence[str] | None = None, freq_weights: Any = None,
                 var_weights: Any = None, pweights: Any = None, weights: Any = None,
                 weight_type: str | None = None, **kwargs: Any) -> None:
        if weights is not None and weight_type is None and \
                not type(self).__dict__.get("_strict_kwargs", False):
            kwargs["weights"], weights = weights, None    # a user's own per-row array
        weighting = weight_arguments(freq_weights, var_weights, pweights, weights,
                                     weight_type, f"{type(self).__name__}()")
        extras, passthrough = self._split_kwargs(endog, kwargs)
        if weighting is not None:
            extras[weighting[0].name] = weighting[1]
        self.data: ModelData = prepare_data(endog, exog, missing, extras=extras,
                                            passthrough=passthrough)
        self._set_weights(None if weighting is None else weighting[0])
        self._init_from_data(param_names)
        for name in passthrough:
            if passthrough[name] is not None:
                setattr(self, name, self.data.extras[name])

    # --- construction helpers --------------------------------------------------------------
    _extra_arrays: Sequence[str] = ()   # numeric per-row arguments of a subclass (offset, ...)
    # A built-in model sets ``_strict_kwargs = True`` in its own class body: every keyword it
    # does not use is refused. Read from the class's own __dict__ only, so a user's subclass
    # of a built-in model keeps the per-row keyword arrays of LikelihoodModel.
    _strict_kwargs = False

    # formulas: a keyword whose zero rows need no outcome (Heckman's "selected"), and
    # design columns the model never takes (OrderedModel's "Intercept")
    _formula_outcome_rows: str | None = None
    _formula_drop: Sequence[str] = ()

    @classmethod
    def from_formula(cls, formula: str, data: Any, subset: Any = None,
                     drop_cols: Sequence[str] | None = None, missing: str = "drop",
                     **kwargs: Any) -> "LikelihoodModel":
        """The model of ``formula`` (``"y ~ x1 + C(g) + x1:x2 + np.log(x3)"``) on ``data``
        (a DataFrame or dict of columns; formulaic's syntax, patsy's column names).

        ``subset``: a boolean mask or row labels; ``drop_cols``: design columns to leave
        out; ``missing="drop"`` (rows with a missing value in any variable used are dropped
        and counted in the summary) or ``"raise"``. Other keywords go to the constructor: a
        formula string (``exog_infl="~ x1"``) is a second design on the same rows, the
        name of a column (``exposure="years"``, ``freq_weights="n"``) that column, a
        full-length array or Series (one value per row of ``data``) is cut to the rows
        kept. The
        model keeps ``formula`` and ``design`` (the encoding) for predictions on new data.
        Needs formulaic (``pip install mleopt[formula]``).
        """
        inputs = formula_inputs(formula, data, subset=subset, drop_cols=drop_cols,
                                missing=missing, kwargs=kwargs, context=formula_context(),
                                outcome_rows=cls._formula_outcome_rows,
                                default_drop=cls._formula_drop)
        model = cls(inputs.endog, inputs.exog, missing=missing, **inputs.kwargs)
        return inputs.attach(model)

    def _split_kwargs(self, endog, kwargs: dict) -> tuple[dict, dict]:
        """Subclass-declared numeric arrays, and the user's per-row keyword arrays."""
        extras = {name: kwargs.pop(name, None) for name in self._extra_arrays}
        cls = type(self)
        if kwargs and cls.__dict__.get("_strict_kwargs", False):
            raise TypeError(_unexpected_kwargs(cls, kwargs, f"{cls.__name__} uses no other "
                                               "keyword arguments", strict=True))
        n = _length(endog)
        passthrough = {}
        for name, value in kwargs.items():
            if n is not None and _length(value) == n:
                passthrough[name] = value
            else:
                raise TypeError(_unexpected_kwargs(
                    cls, {name: value}, f"extra keyword arguments must be per-observation "
                    f"arrays of length {n}", strict=False))
        return extras, passthrough

    # --- observation weights (mleopt.weights) ---------------------------------------------
    weighting: Weighting | None = None
    """The kind of observation weights (fweight / aweight / pweight), or None."""

    def _set_weights(self, weighting: Weighting | None) -> None:
        """Keep the checked weights as a per-row array (blocks and row subsets slice it)."""
        self.weighting = weighting
        if weighting is not None:
            self._obs_weights = checked_weights(self.data.extras[weighting.name], weighting)

    def _row_weights(self) -> np.ndarray | None:
        """This model's (or block's) observation weights, None when unweighted."""
        return self.__dict__.get("_obs_weights")

    def _total_weight(self) -> float:
        """What the optimiser's mean log-likelihood divides by: ``sum w`` when weighted, else
        the rows. Sampling weights rescaled (e.g. to sum to 1) then leave ``gtol`` meaning the
        same: divided by the rows, a tiny total weight made every gradient look converged."""
        w = self._row_weights()
        total = 0.0 if w is None else float(np.sum(w))
        return total if total > 0 else float(self.nobs)

    def _sum_rows(self, obs):
        """``sum_i w_i l_i``: the one place per-row log-likelihoods are added up."""
        w = self._row_weights()
        return mnp.sum(obs) if w is None else mnp.sum(w * obs)

    @property
    def wnobs(self) -> int:
        """Observations counted by frequency weights (``sum w``, integers); else the rows."""
        w = self._row_weights()
        if w is not None and self.weighting.kind == "fweight":
            return int(round(float(w.sum())))
        return self.nobs

    def _init_from_data(self, param_names: Sequence[str] | None) -> None:
        d = self.data
        self.endog: np.ndarray = d.endog
        self.exog: np.ndarray | None = d.exog
        self.endog_name: str = d.endog_name
        self.exog_names: list[str] = list(d.exog_names)
        self.k_exog = 0 if d.exog is None else d.exog.shape[1]
        self.const_idx = _constant_column(self.exog)     # first non-zero constant column
        self.k_constant = int(self.const_idx is not None)
        if param_names is not None:
            names = [str(p) for p in param_names]
        elif self.exog is not None or self.extra_param_names:
            names = self.exog_names + list(self.extra_param_names)
        else:
            names = None        # known once start_params are given (fit_mle-style models)
        self._set_param_names(names)
        self._col_norms = self._gram = None
        if self.exog is not None and self._check_rank and not self.__dict__.get("_partition"):
            self._col_norms, self._gram = check_rank(self.exog, self.exog_names)
            check_scale(self.endog, self.endog_name, type(self).__name__)
        self._validate()

    def _set_param_names(self, names: list[str] | None) -> None:
        if names is not None:
            dup = [] if len(set(names)) == len(names) else \
                sorted({p for p in names if names.count(p) > 1})
            if dup:
                raise DataError(f"duplicate parameter names {dup}; rename them.")
            if len(names) < self.k_exog:
                raise DataError(f"{len(names)} param_names for {self.k_exog} exog columns.")
            if self.nobs < len(names) and not self.__dict__.get("_partition"):
                raise DataError(f"{self.nobs} observations but {len(names)} parameters "
                                f"({', '.join(names)}); at least as many observations as "
                                "parameters are needed.")
        self._param_names = names

    def _validate(self) -> None:
        """Model-specific checks of endog (binary, counts, ...); the base accepts anything."""

    # --- sizes and names -----------------------------------------------------------------
    @property
    def param_names(self) -> list[str]:
        if self._param_names is None:
            raise AttributeError("this model's parameter names are not known yet: pass "
                                 "param_names=... or fit it with start_params.")
        return list(self._param_names)

    @property
    def nobs(self) -> int:
        return int(self.endog.shape[0])

    @property
    def k_params(self) -> int:
        return len(self.param_names)

    @property
    def k_extra(self) -> int:
        return self.k_params - self.k_exog

    @property
    def df_model(self) -> float:
        """Regressors excluding the constant (statsmodels: rank(exog) - k_constant)."""
        return float(self.k_exog - self.k_constant)

    @property
    def df_resid(self) -> float:
        """``nobs - k_exog`` (extra parameters such as sigma or alpha are not counted, as in
        statsmodels); ``nobs - k_params`` for a model without exog. With frequency
        weights nobs is ``sum w`` (``wnobs``)."""
        return float(self.wnobs - (self.k_exog if self.k_exog else self.k_params))

    # --- the likelihood and its exact derivatives ---------------------------------------------
    def loglikeobs(self, params):
        """Per-observation log-likelihoods (length nobs). Subclasses define this."""
        raise NotImplementedError(
            f"{type(self).__name__} must define loglikeobs(self, params) returning the vector "
            "of per-observation log-likelihoods, written with mleopt.numpy.")

    _param_tree = None  # the structure of dict / list start values (mleopt.ad.pytree)

    def _loglikeobs_flat(self, params):
        """``loglikeobs`` at the flat parameter vector: rebuilt first into the structure of
        the start values when they were a dict / list / tuple of arrays (the one place
        where structured parameters meet the flat vector the optimiser works on)."""
        tree = self._param_tree
        return self.loglikeobs(params if tree is None else tree.unflatten(params))

    def loglike(self, params):
        """The log-likelihood: the (weighted) sum of ``loglikeobs`` (block by block on large
        data)."""
        params = self._params_by_name(params)
        if self.__dict__.get("_is_block") or _is_traced(params):
            return self._sum_rows(self._loglikeobs_flat(params))
        blocks = self._blocks()[0]
        if len(blocks) == 1 and blocks[0] is self:
            return self._sum_rows(self._loglikeobs_flat(params))
        return self._block_sum(_as_params(params), 0, NATURAL)[0]

    def score(self, params) -> np.ndarray:
        """The gradient of ``loglike`` (reverse-mode AD, summed over row blocks)."""
        return self._block_sum(_as_params(self._params_by_name(params)), 1, NATURAL)[1]

    def score_obs(self, params) -> np.ndarray:
        """The N x K per-observation scores: the Jacobian of ``loglikeobs`` (through the
        linear indices when mleopt.ad finds them, else forward mode), block by block. The
        robust covariances do not need it whole (``_score_meat``)."""
        p = _as_params(self._params_by_name(params))
        parts = self._block_map("_block_score_obs", p)
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)

    def hessian(self, params) -> np.ndarray:
        """The K x K Hessian of ``loglike``, summed over row blocks (per-row second
        derivatives chained through the linear indices, see mleopt.ad.structure, or
        forward-over-reverse). The last one is kept: the fit's own checks and the results
        share it."""
        p = _as_params(self._params_by_name(params))
        memo = self._memo("_hessian_memo")
        if memo is not None and np.array_equal(memo[0], p):
            return memo[1].copy()
        h = blocks_mod.add(self._block_map("_block_hessian", p, NATURAL))
        self._keep_memo("_hessian_memo", (p.copy(), h), checked=memo is not None)
        return h.copy()

    def expected_hessian(self, params) -> np.ndarray:
        """``E[H]``, the expected Hessian (minus the Fisher information), for
        ``cov_type="eim"``. A user model that knows it defines this method; the generic
        model cannot take an expectation over its outcome, so it refuses."""
        raise ValueError(f"cov_type='eim' needs the expected information, which "
                         f"{type(self).__name__} does not define: give the model a method "
                         "expected_hessian(params) returning E[H] (K x K), or use "
                         "cov_type='nonrobust' (observed information).")

    # --- row blocks: the one loop every derivative goes through ------------------------------
    # A block is a copy of the model on consecutive rows (views of the arrays: see _take).
    # Each method below runs on one block and returns that block's part of a sum; the loop
    # (_block_map) runs them on a thread pool, or on Dask workers for Dask data, and adds.

    def _block_derivatives(self, x: np.ndarray, order: int, space: "Space",
                           replay: "Session | None" = None):
        """``(value, gradient, hessian)`` of this block's log-likelihood as a function of
        ``x`` (natural params, or the optimiser's z: see :class:`Space`); the gradient is
        None for ``order < 1``, the Hessian None for ``order < 2``. mleopt.ad finds the linear
        indices (x_i'b, ...) by itself, so every model takes the fast route here. ``replay``:
        the optimiser run's plans (mleopt.ad.replay), this block's slot among them."""
        f = self._space_function(space)
        if order < 1:
            with np.errstate(all="ignore"):
                return float(f(x)), None, None
        if order >= 2:      # value, gradient and Hessian from one recording of f
            slot = None if replay is None else replay.slot(self)
            value, grad, hess = value_grad_and_hessian(f, lazy=False, replay=slot)(x)
            return float(value), np.asarray(grad, dtype=float), np.asarray(hess, dtype=float)
        value, grad = ad.value_and_grad(f)(x)
        return float(value), np.asarray(grad, dtype=float), None

    def _block_hessian(self, x: np.ndarray, space: "Space") -> np.ndarray:
        """This block's Hessian alone (the optimiser asks for it after value and gradient)."""
        return np.asarray(ad.hessian(self._space_function(space))(x), dtype=float)

    def _block_score_obs(self, params: np.ndarray) -> np.ndarray:
        """This block's rows of the score matrix (through the linear indices, or one batched
        forward pass): the gradients of ``w_i l_i`` when weighted."""
        s = np.asarray(ad.jacobian(self._loglikeobs_flat)(params), dtype=float)
        w = self._row_weights()
        return s if w is None else s * w[:, None]

    def _block_meat(self, params: np.ndarray, row_scale: np.ndarray | None = None,
                    codes: np.ndarray | None = None, hc: str | None = None,
                    norms: np.ndarray | None = None, q: np.ndarray | None = None,
                    labels: np.ndarray | None = None, uniques: np.ndarray | None = None):
        """Score products of this block: ``S'S``, or with cluster ``codes`` (or ``labels``
        among sorted ``uniques``) the per-cluster score sums ``(codes present, sums)``.
        Rows of S are scaled by ``row_scale``, or for ``hc="HC2"/"HC3"`` by
        ``(1 - h_i)^-1/2`` / ``(1 - h_i)^-1`` with this block's leverages (from ``norms, q``:
        see :meth:`_exog_tsqr`)."""
        s = self._block_score_obs(params)
        w = self._row_weights()
        copies = None if w is None or self.weighting.kind != "fweight" else \
            np.where(w > 0, w, np.inf)
        if copies is not None and codes is None and labels is None:
            # row i stands for w_i rows: sum_i w_i s_i s_i' (not (w_i s_i)(w_i s_i)'); in
            # cluster sums its w_i copies add up to w_i s_i, as they are
            s = s / np.sqrt(copies)[:, None]
        if hc is not None:
            h = self._block_leverage(norms, q)
            if copies is not None:      # the leverage of one of the w_i copies
                h = h / copies
            if np.any(h >= 1 - 1e-10):
                raise ValueError(f"{hc} is undefined: {int(np.sum(h >= 1 - 1e-10))} "
                                 "observation(s) have leverage 1; use cov_type='HC0' or "
                                 "'HC1'.")
            row_scale = 1.0 / (np.sqrt(1 - h) if hc == "HC2" else (1 - h))
        if row_scale is not None:
            s = s * row_scale[:, None]
        if labels is not None:
            if np.any(pd.isna(labels)):
                raise ValueError(f"cluster groups contain {int(np.sum(pd.isna(labels)))} "
                                 "missing labels; every observation needs a group.")
            codes = np.searchsorted(uniques, labels)
        if codes is None:
            return s.T @ s
        present, inverse = np.unique(codes, return_inverse=True)
        sums = np.zeros((present.size, s.shape[1]))
        np.add.at(sums, inverse, s)
        return present, sums

    def _score_meat(self, params, row_scale: np.ndarray | None = None,
                    groups: Any = None, hc: str | None = None) -> tuple[np.ndarray, int | None]:
        """``(meat, G)``: ``S'S`` or, with cluster ``groups``, ``U'U`` with U the G x K score
        sums per cluster; S (rows scaled by ``row_scale``, or by the leverage terms of
        ``hc="HC2"/"HC3"``) is formed one block at a time."""
        p = _as_params(params)
        n_blocks = len(self._blocks()[0])
        rows = {} if row_scale is None else {"row_scale": np.asarray(row_scale, float)}
        each: dict = {}
        raw: dict = {}
        if hc is not None:
            norms, _, q2, heights = self._exog_tsqr()
            cuts = np.cumsum([0] + heights)
            each.update(hc=[hc] * n_blocks, norms=[norms] * n_blocks,
                        q=[q2[a:b] for a, b in zip(cuts[:-1], cuts[1:])])
        if groups is None:
            return blocks_mod.add(self._block_map("_block_meat", p, rows=rows, each=each,
                                                  **_raw(raw))), None
        n_groups = self._cluster_codes(groups, rows, each, raw)
        u = np.zeros((n_groups, self.k_params))
        for present, sums in self._block_map("_block_meat", p, rows=rows, each=each,
                                             **_raw(raw)):
            u[present] += sums
        return u.T @ u, n_groups

    def _cluster_codes(self, groups, rows: dict, each: dict, raw: dict) -> int:
        """Put the cluster labels where the blocks find them; returns the number of groups."""
        codes, uniques = pd.factorize(np.asarray(groups), sort=True)
        rows["codes"] = codes
        return len(uniques)

    def _block_apply(self, fn: Callable, *args):
        """``fn(block, *args)``: a function of another layer run on each block (e.g. the
        marginal effects of mleopt.inference), without this layer importing it."""
        return fn(self, *args)

    def _quick_start(self) -> np.ndarray:
        """Start values refined by a quick fit on this model's rows (a Dask partition)."""
        start = np.asarray(self.start_params(), dtype=float)
        record = self._fit_quick(start, gtol=1e-6, maxiter=50)
        ok = record.converged and np.all(np.isfinite(record.params))
        return record.params if ok else start

    # --- the design's orthogonal factorisation, block by block (OLS covariances) -------------
    def _block_exog_r(self, norms: np.ndarray) -> np.ndarray:
        """R of a QR factorisation of this block's exog with columns divided by ``norms``."""
        return np.linalg.qr(self._weighted_exog() / norms, mode="r")

    def _weighted_exog(self) -> np.ndarray:
        """``diag(sqrt(w)) X`` (X unweighted): the design of weighted least squares."""
        w = self._row_weights()
        return self.exog if w is None else self.exog * np.sqrt(w)[:, None]

    def _block_leverage(self, norms: np.ndarray, q: np.ndarray) -> np.ndarray:
        """This block's leverages: squared row norms of its rows of Q (``Q_b q``)."""
        qb = np.linalg.qr(self._weighted_exog() / norms, mode="reduced")[0] @ q
        return np.einsum("ij,ij->i", qb, qb)

    def _exog_tsqr(self):
        """``(norms, R, Q2, heights)``: X D^-1 = Q R with D the column norms, by a QR of each
        block stacked and factorised again (tall-skinny QR): Q = diag(Q_b) Q2."""
        memo = self._memo("_tsqr_memo")
        if memo is not None and memo[0] == self._blocks()[1]:
            return memo[1]
        norms = np.sqrt(blocks_mod.add(self._block_map("_block_col_ss")))
        norms[norms == 0] = 1.0
        rs = self._block_map("_block_exog_r", norms)
        q2, r = np.linalg.qr(np.vstack(rs))
        out = (norms, r, q2, [x.shape[0] for x in rs])
        self._keep_memo("_tsqr_memo", (self._blocks()[1], out), checked=memo is not None)
        return out

    def _block_col_ss(self) -> np.ndarray:
        x = self._weighted_exog()
        return np.einsum("ij,ij->j", x, x)

    def _xtx_inverse(self) -> np.ndarray:
        """``(X'X)^-1`` from the SVD of R of the column-scaled design (never from X'X)."""
        norms, r, _, _ = self._exog_tsqr()
        _, sv, vt = np.linalg.svd(r)
        keep = sv > sv[0] * max(self.nobs, r.shape[1]) * np.finfo(float).eps
        inv = (vt[keep].T / sv[keep] ** 2) @ vt[keep]
        return inv / np.outer(norms, norms)

    def _leverage(self) -> np.ndarray:
        """The diagonal of the hat matrix, block by block from the tall-skinny QR."""
        norms, _, q2, heights = self._exog_tsqr()
        cuts = np.cumsum([0] + heights)
        qs = [q2[a:b] for a, b in zip(cuts[:-1], cuts[1:])]
        return np.concatenate(self._block_map("_block_leverage", norms, each={"q": qs}))

    def _space_function(self, space: "Space") -> Callable:
        """The block's log-likelihood as a function of natural params or of z."""
        if space.natural:
            return self.loglike
        inv = space.inv

        def ll(z):
            return self.loglike(self._from_theta(z if inv is None else z * inv))
        return ll

    def _row_arrays(self) -> dict[str, Any]:
        """The per-row arrays of this model: attributes with one entry per row (numpy arrays,
        and pandas Series / DataFrames a subclass stored itself)."""
        n = self.nobs
        return {k: v for k, v in self.__dict__.items()
                if isinstance(v, (np.ndarray, pd.Series, pd.DataFrame)) and v.ndim >= 1
                and v.shape[0] == n}

    def _bytes_per_row(self, structured: bool | None = None) -> float:
        """Estimated memory one row costs in a Hessian evaluation. Where mleopt.ad finds the
        linear indices, the row's data, its recording and a few per-row derivatives (measured:
        0.5x the size of X for a Tobit Hessian at K = 50; three times the row's width plus 64
        numbers leaves a margin); else the generic path pushes K forward tangents through
        every operation of loglikeobs (about 24 arrays of the row's width plus K, measured on
        a Tobit at K = 20 and 50). ``structured``: which of the two (None: probe the model)."""
        width = max(sum(math.prod(v.shape[1:]) for v in self._row_arrays().values()), 1)
        if structured is None:
            structured = self._index_structured()
        if structured:
            return 8.0 * (3 * width + 64)
        return 8.0 * 24 * (max(self._k_for_budget(), 1) + width)

    # what a model keeps about its own rows: a copy on other rows or data must drop it
    _CACHES = ("_hessian_memo", "_block_cache", "_tsqr_memo", "_structured_memo",
               "_reparam_cache", "_data_guard")
    # results made from the rows' numbers: reused only while the rows hold them (_memo)
    _DATA_MEMOS = ("_hessian_memo", "_tsqr_memo")

    def _drop_caches(self) -> None:
        for name in self._CACHES:
            self.__dict__.pop(name, None)

    def _memo(self, name: str) -> Any:
        """The result kept under ``name`` (one of ``_DATA_MEMOS``), or None. It is reused only
        while the model's row arrays hold the numbers they held when it was kept: each reuse
        compares them with private copies (``structure.DataCopy``: O(N width), against the
        O(N K^2) of a Hessian), and data changed in place (``model.exog[...] = ...``) drop
        every kept result."""
        value = self.__dict__.get(name)
        if value is not None and not self._rows_unchanged():
            self._forget_data_memos()
            return None
        return value

    def _keep_memo(self, name: str, value: Any, checked: bool = False) -> None:
        """Keep ``value`` under ``name`` with private copies of the row arrays as its guard
        (taken once, again where the rows changed). Nothing is kept where the copies would
        exceed the block memory budget (``block_memory``): the result is then computed at
        each call. ``checked``: ``_memo`` has just found a kept result, so the guard holds
        the rows (no second pass over them)."""
        if not (checked or self._rows_unchanged()):
            self._forget_data_memos()
            arrays = self._row_arrays()
            budget = blocks_mod.resolve(*self.__dict__.get("_block_options", (None, None)))[0]
            if sum(np.asarray(v).nbytes for v in arrays.values()) > budget:
                return
            self._data_guard = DataCopy(arrays)
        self.__dict__[name] = value

    def _rows_unchanged(self) -> bool:
        """Whether the row arrays hold the numbers of the guard's private copies."""
        guard = self.__dict__.get("_data_guard")
        return guard is not None and guard.holds(self._row_arrays())

    def _forget_data_memos(self) -> None:
        for name in self._DATA_MEMOS + ("_data_guard",):
            self.__dict__.pop(name, None)

    def _index_structured(self) -> bool:
        """Whether the log-likelihood's Hessian takes mleopt.ad's linear-index route, probed
        once on the first rows at the default start values (False when that cannot run)."""
        memo = self.__dict__.get("_structured_memo")
        if memo is not None:
            return memo
        found = False
        try:
            start = np.asarray(self.start_params(), dtype=float)
            rows = max(256, 4 * start.size)
            probe = self if self.nobs <= rows else self._take(slice(0, rows))
            with np.errstate(all="ignore"):
                found = bool(ad_api.has_index_structure(probe.loglike, start))
        except Exception:       # no default start values (fit_mle), or loglike fails there:
            found = False       # the generic path's (larger) estimate
        self._structured_memo = found
        return found

    def _k_for_budget(self) -> int:
        return len(self._param_names) if self._param_names is not None else self.k_exog

    def _blocks(self) -> tuple[list["LikelihoodModel"], list[slice], int]:
        """``(block models, their row slices, threads)`` under the current options; one block
        (the model itself) when the data fit the budget. Kept while the options hold."""
        mem, threads = blocks_mod.resolve(*self.__dict__.get("_block_options", (None, None)))
        key = (id(self), mem, threads, self.nobs)
        cache = self.__dict__.get("_block_cache")
        if cache is not None and cache[0] == key:
            return cache[1]
        if self.nobs <= (mem // max(threads, 1)) // self._bytes_per_row(structured=False):
            slices = [slice(0, self.nobs)]  # fits even the generic estimate: no probe needed
        else:
            slices = blocks_mod.row_slices(self.nobs, self._bytes_per_row(), mem, threads)
        if len(slices) == 1:
            out = ([self], slices, threads)
        else:
            out = ([self._block(s) for s in slices], slices, threads)
        self._block_cache = (key, out)
        return out

    def _check_row_separable(self, params: np.ndarray) -> None:
        """With several blocks, ``loglikeobs`` must be row by row: the blocks' sum must be
        the whole sum. A log-likelihood that uses statistics of all rows (``self.nobs``,
        ``self.endog.mean()``, ...) would silently change in blocks: refused."""
        models = self._blocks()[0]
        if len(models) == 1 and models[0] is self:
            return
        # at the start values and at a nearby point: a statistic of all rows that reaches
        # the value only through a coefficient that starts at 0 (b * mean(y)) shows there
        params = np.asarray(params, dtype=float)
        signs = np.where(np.arange(params.size) % 2 == 0, 1.0, -1.0)
        for x in (params, params + 0.05 * (1.0 + np.abs(params)) * signs):
            self._check_row_separable_at(x, len(models))

    def _check_row_separable_at(self, params: np.ndarray, n_blocks: int) -> None:
        with np.errstate(all="ignore"):
            try:
                whole = float(self._sum_rows(np.asarray(self._loglikeobs_flat(params), float)))
            except NotImplementedError:     # the data are not in memory (Dask)
                return
            except Exception:               # reported by fit's start-value checks
                return
            try:
                parts = self._block_sum(params, 0, NATURAL)[0]
            except (ValueError, IndexError) as exc:
                self._unsliced_rows_error(exc)
                raise
        if not (np.isfinite(whole) and np.isfinite(parts)):
            return
        if abs(whole - parts) > 1e-9 * max(abs(whole), 1.0):
            raise ValueError(
                f"{type(self).__name__}.loglikeobs is not row by row: over {n_blocks} "
                f"blocks of rows it sums to {parts:.10g}, over all rows at once to "
                f"{whole:.10g}. Observation i's value must depend on row i of the data only; "
                "statistics of all rows (self.nobs, self.endog.mean(), ...) change in "
                "blocks: compute them in __init__ and store them as attributes (a number "
                "stays whole, a per-row array is sliced with the rows), or fit in one block "
                "(fit(block_memory=...) large enough).")

    def _unsliced_rows_error(self, exc: Exception) -> None:
        """Name the attributes with one entry per row that blocks cannot slice (lists,
        tuples, ...), when the blocks fail where the whole data do not."""
        sliced = self._row_arrays()
        other = [k for k, v in self.__dict__.items() if k not in sliced and
                 not isinstance(v, (str, bytes)) and hasattr(v, "__len__") and
                 len(v) == self.nobs]
        if other:
            raise ValueError(
                f"{type(self).__name__} is evaluated in blocks of rows, but its attribute(s) "
                f"{', '.join(other)} hold one entry per row in a form blocks cannot slice "
                "(a list, a tuple, ...): store them as numpy arrays (np.asarray) in "
                f"__init__, or fit in one block (fit(block_memory=...) large enough). "
                f"({type(exc).__name__}: {exc})") from exc

    def _block(self, rows: slice) -> "LikelihoodModel":
        sub = self._take(rows)
        sub._is_block = True
        return sub

    def _block_map(self, method: str, *args, rows: dict | None = None,
                   each: dict | None = None) -> list:
        """``[block.method(*args, **kw_of_block) for block in blocks]`` (threads), where
        ``rows`` are per-row arrays handed over sliced to each block and ``each`` lists with
        one value per block."""
        models, slices, threads = self._blocks()
        rows, each = rows or {}, each or {}

        def call(i):
            kw = {k: v[slices[i]] for k, v in rows.items()}
            kw.update({k: v[i] for k, v in each.items()})
            return getattr(models[i], method)(*args, **kw)

        return blocks_mod.run(call, range(len(models)), threads)

    def _block_sum(self, x: np.ndarray, order: int, space: "Space",
                   replay: "Session | None" = None):
        """Summed ``(value, gradient, hessian)`` over the blocks (one block, the model
        itself: its own, with nothing to add); ``replay``: see _block_derivatives."""
        models = self._blocks()[0]
        if len(models) == 1 and models[0] is self:
            return self._block_derivatives(x, order, space, replay)
        plans = () if replay is None else (replay,)
        return blocks_mod.add_derivatives(self._block_map("_block_derivatives", x, order,
                                                          space, *plans))

    # --- parametrization -----------------------------------------------------------------------
    # Two layers: the model's own ``transform`` (e.g. sigma = exp(theta)), and the user's
    # declared ``transforms`` (mleopt.reparam) on parameters the model optimises as they are.
    # theta = to_free(untransform(params)), params = transform(from_free(theta)).
    param_transforms: dict | None = None    # a subclass may declare {name: spec} here

    @property
    def _reparam(self) -> "Reparam | None":
        """The declared reparametrisation (``fit(transforms=...)`` or ``param_transforms``)."""
        decl = self.__dict__.get("_transforms", self.param_transforms)
        if not decl:
            return None
        names = list(self.param_names)      # (dict start values may rename them)
        cached = self.__dict__.get("_reparam_cache")
        if cached is not None and cached[0] is decl and cached[1] == names:
            return cached[2]
        reparam = Reparam(decl, names)
        own = [n for n, nat, dec in zip(self.param_names, self._natural_scale(),
                                        reparam.declared) if dec and not nat]
        if own:
            raise ValueError(f"transforms on {', '.join(own)}: {type(self).__name__} already "
                             "optimises them on another scale (its own transform, e.g. log "
                             "sigma); declare transforms only for parameters it optimises as "
                             "they are (the coefficients of the built-in models), or write "
                             "the whole map in transform/untransform.")
        self._reparam_cache = (decl, names, reparam)
        return reparam

    def _transforms_of(self, names: Sequence[str]) -> dict:
        """The declarations on parameters all among ``names`` (e.g. the null model's)."""
        decl = self.__dict__.get("_transforms", self.param_transforms) or {}
        return {key: spec for key, spec in decl.items()
                if set([key] if isinstance(key, str) else key) <= set(names)}

    def _to_theta(self, params) -> np.ndarray:
        """The optimiser's theta from natural params (ValueError naming a parameter outside
        its declared set)."""
        theta = np.asarray(self.untransform(params), dtype=float)
        reparam = self._reparam
        return theta if reparam is None else reparam.to_free(theta)

    def _from_theta(self, theta):
        """Natural params from the optimiser's theta (mleopt.numpy: differentiable)."""
        reparam = self._reparam
        return self.transform(theta if reparam is None else reparam.from_free(theta))

    def _theta_scale(self, start: np.ndarray) -> np.ndarray | None:
        """``_opt_scale`` on theta: 1 for declared parameters (their free value is not in
        the parameter's units), the simplex's reference weights dropped."""
        scale, reparam = self._opt_scale(start), self._reparam
        if reparam is None:
            return scale
        return reparam.expand_free(np.ones(self.k_params) if scale is None else scale, 1.0)

    def transform(self, theta):
        """Natural parameters from the optimiser's ``theta`` (identity by default)."""
        return theta

    def untransform(self, params):
        """The optimiser's ``theta`` from natural parameters (inverse of ``transform``)."""
        return params

    def _opt_scale(self, start: np.ndarray) -> np.ndarray | None:
        """Optional per-parameter scale s: the optimiser works on ``z = s * theta``."""
        return None

    def _eager_hessian(self) -> bool:
        """True: evaluate the Hessian together with value and gradient (small data: one
        pass gives both); False (nobs * k_params >= _LARGE): only when the optimiser asks."""
        return self.nobs * self.k_params < self._LARGE

    def _expensive_hessian(self) -> bool:
        """True: a Hessian costs several gradients (Newton may then reuse one)."""
        return not self._eager_hessian()

    def _gradient_objective(self, scale: np.ndarray | None) -> _opt.Objective:
        """Value and gradient only (no Hessian, e.g. a minibatch of a stochastic method),
        on the same scale z as ``_objective``."""
        space = Space(False, None if scale is None else 1.0 / scale)
        return _opt.Objective(lambda z: self._block_sum(z, 1, space)[:2], nobs=self.nobs)

    def _objective(self, scale: np.ndarray | None) -> _opt.Objective:
        """Log-likelihood of z = scale * theta with AD gradient and Hessian, summed over the
        row blocks (one block for data within the memory budget). Small data: value,
        gradient and Hessian from one recording per point; large data: the Hessian only
        when the optimiser asks for it (Newton may reuse its factorisation), from the same
        recording when the rows are one block, else block by block again."""
        space = Space(False, None if scale is None else 1.0 / scale)
        eager = self._eager_hessian()
        models = self._blocks()[0]
        one_block = len(models) == 1 and models[0] is self
        # replay plans for this fit's evaluations (blocks evaluated in this process only)
        plans = Session() if eager and self._replay_blocks else None

        def evaluate(z):
            if eager:
                return self._block_sum(z, 2, space, plans)
            if one_block:
                return value_grad_and_hessian(self._space_function(space), lazy=True)(z)
            value, grad, _ = self._block_sum(z, 1, space)
            return value, grad, lambda: blocks_mod.add(
                self._block_map("_block_hessian", z, space))

        def value(z):
            return self._block_sum(np.asarray(z, dtype=float), 0, space)[0]

        obj = _opt.Objective(evaluate, nobs=self._total_weight(), value=value)
        obj.replay = plans
        obj.expensive_hessian = self._expensive_hessian()
        obj.scale = scale
        return obj

    # --- fitting -----------------------------------------------------------------------------
    def start_params(self) -> np.ndarray:
        """Default start values: 0 for the exog coefficients, 1 for extra parameters."""
        if self._param_names is None:
            raise ValueError(f"{type(self).__name__} has no exog and no param_names, so it "
                             "cannot guess start values: pass start_params=... to fit().")
        return np.concatenate([np.zeros(self.k_exog), np.ones(self.k_extra)])

    def fit(self, method: str = "newton", start_params: Any = None, maxiter: int | None = None,
            gtol: float = 1e-8, cov_type: str | None = None, cov_kwds: dict | None = None,
            disp: bool = False, callback: Callable | None = None, bounds: Any = None,
            constraints: Any = None, block_memory: Any = None, n_threads: int | None = None,
            batch_size: int | None = None, epochs: int | None = None, lr: Any = None,
            seed: Any = None, polish: bool = True, transforms: dict | None = None,
            **options: Any):
        """Maximise the log-likelihood and return a results object.

        ``method``: ``"newton"`` (default: Newton's method with the exact AD Hessian and a
        line search, see mleopt.optimize) or any scipy.optimize.minimize method name.
        Convergence means ``|d mean(loglike) / dz_j| <= max(gtol, floor_j)`` for every j, where
        z is the optimiser's parametrization (theta; for the built-in models the coefficients
        are measured per unit of their regressor's root mean square, so the test does not
        depend on units) and ``floor_j = 4 eps sum_k |H_jk| |z_k|`` is the gradient's rounding
        floor (about 1e-15 on ordinary data, so gtol decides; it matters only where double
        precision cannot reach gtol, e.g. y ~ 1e12), or 4 times the gradient's rounding noise
        measured there (counts near e^20). ``maxiter`` defaults per method (100 for
        Newton). ``callback(params)`` is called each iteration (``callback(params, info)``, if
        it takes a second argument, also gets an mleopt.optimize.IterationInfo: iteration,
        loglike, gradient norms, elapsed time); ``disp=True`` prints one line per iteration
        (value, max |gradient|, step, time). ``cov_type`` / ``cov_kwds`` choose the
        covariance (see mleopt.results; default "nonrobust", "HC0" with pweights).

        Every scipy.optimize.minimize option of the chosen method passes through: ``tol``,
        ``options={...}`` and method options as keywords (``maxcor=``, ``ftol=``, ...; one
        the method does not take is refused). ``bounds`` are on the natural parameters: one
        ``(low, high)`` pair per parameter (None for no bound), a dict ``{name: (low, high)}``
        or a ``scipy.optimize.Bounds``; they are mapped to the optimiser's scale (linearly for
        coefficients; through ``untransform`` for parameters the model optimises on another
        scale, e.g. log sigma). ``constraints`` (scipy's dicts, ``LinearConstraint`` or
        ``NonlinearConstraint``) are functions of the natural parameters too; with them the
        convergence verdict is scipy's ``success``; a dict's ``fun`` takes the parameter
        vector, or names its arguments after parameters (``lambda TVnews, PID: TVnews +
        PID``: unknown names are refused, with a did-you-mean); a constraint dict without ``jac`` gets
        its exact Jacobian from mleopt.ad (write ``fun`` with mleopt.numpy: a function the AD
        cannot follow is refused with a TypeError naming the constraint). Use a method
        that takes them (``l-bfgs-b``, ``tnc``, ``slsqp``, ``trust-constr``, ...).
        Parameters that end at a bound are marked in ``res.at_bound`` and the summary says
        why their standard errors are not the usual ones.

        Large data are evaluated in blocks of rows (see mleopt.blocks): ``block_memory``
        (bytes or ``"256MB"``) bounds the working memory of the blocks in flight and
        ``n_threads`` the threads that evaluate them; both default to the module-wide
        ``mleopt.set_options(...)`` and stay with this model (its covariances, tests, ...).

        Stochastic first-order methods (mleopt.optim): ``method="sgd" | "adam" | "adamw" |
        "rmsprop" | "adagrad"`` (or an optimiser object such as ``optim.Adam(lr=1e-2)`` or a
        ``chain(...)``) take steps on the gradient of the mean log-likelihood of minibatches
        of ``batch_size`` rows (default min(N, 1024)), shuffled each epoch
        (``numpy.random.default_rng(seed)``: a seed reproduces the fit), for ``epochs``
        epochs (default 10), with learning rate ``lr`` (a number or an mleopt.optim schedule,
        which counts optimiser steps, i.e. minibatches, not epochs; default the optimiser's
        own) and other optimiser options as keywords
        (``momentum=0.9``, ``betas=...``). The optimiser works on the same scale z as Newton.
        ``polish=True`` (the default) then runs Newton from where it stopped, so params and
        standard errors are the exact MLE's; ``polish=False`` reports the stochastic
        estimate, judged by the same gradient test (a ConvergenceWarning when it misses
        gtol; the summary notes that standard errors assume an optimum); ``maxiter`` is the
        polish's limit (refused with ``polish=False``). ``res.optim_history`` is the loss
        and gradient norm per epoch; ``disp=True`` prints them. A loss that becomes NaN
        raises mleopt.optimize.DivergenceError naming the epoch. On Dask data the batches
        are drawn within the partitions (their order and their rows shuffled), each
        partition's steps running on its worker.

        ``transforms={name or tuple of names: spec}`` declares where parameters live
        (mleopt.reparam: ``"positive"``, ``("positive", "softplus")``, ``("interval", lo,
        hi)``, ``"simplex"``, ``("simplex", "stick-breaking")``, ``"ordered"``,
        ``"corr_matrix"``, ``"cov_matrix"``; a subclass may set ``param_transforms``, which
        this replaces): the optimiser works on the free scale, params, standard errors and
        every test are reported on the natural scale (delta method with the exact Jacobian;
        the summary lists the transforms). Without ``start_params`` the declared parameters
        start at the transform of 0 (1, the interval's midpoint, equal weights, ...).
        The fit runs on a copy of the model that carries the declaration (``res.model``).
        A maximum beyond a declared set stops at its edge (the free value runs off to
        infinity): a ConvergenceWarning names it and ``res.at_bound`` marks it.
        """
        weighted = [k for k in options if k in WEIGHT_KEYWORDS]
        if weighted:        # not optimiser options: say where weights go
            where = ("fit_mle takes no observation weights: multiply the rows of loglikeobs "
                     "by them (w * l_i), or write a LikelihoodModel subclass"
                     if isinstance(self, _FunctionModel) else
                     f"observation weights are data: give them to the model, "
                     f"{type(self).__name__}(endog, exog, {weighted[0]}=...)")
            raise TypeError(f"fit() got {', '.join(weighted)}; {where}.")
        if transforms is not None:
            model = copy.copy(self)
            model._transforms = transforms
            # (checked once the start values have named the parameters: a dict names them)
            return model.fit(method=method, start_params=start_params, maxiter=maxiter,
                             gtol=gtol, cov_type=cov_type, cov_kwds=cov_kwds, disp=disp,
                             callback=callback, bounds=bounds, constraints=constraints,
                             block_memory=block_memory, n_threads=n_threads,
                             batch_size=batch_size, epochs=epochs, lr=lr, seed=seed,
                             polish=polish, **options)
        stochastic = _stochastic_method(method)
        if stochastic is None:
            given = [k for k, v in (("batch_size", batch_size), ("epochs", epochs), ("lr", lr),
                                    ("seed", seed)) if v is not None] + \
                (["polish"] if polish is not True else [])
            if given:
                raise ValueError(f"{', '.join(given)} apply only to the stochastic methods "
                                 f"({', '.join(_opt.STOCHASTIC_METHODS)}), not to "
                                 f"method={method!r}.")
        if block_memory is not None or n_threads is not None:
            blocks_mod.resolve(block_memory, n_threads)        # checks them
            self._block_options = (block_memory, n_threads)
        self._blocks()          # plan the row blocks first (a budget too small raises here)
        start = self._start_values(start_params)
        self._check_row_separable(start)
        z0, to_params, objective = self._optimizer_space(start)
        if not np.all(np.isfinite(z0)):
            self._start_error(start)
        try:
            with np.errstate(all="ignore"):
                f0, g0 = objective.fun_and_grad(z0)     # cached: minimize starts from here
        except (TypeError, IndexError, KeyError, ValueError) as exc:
            if self._param_tree is None:
                if isinstance(exc, ValueError):
                    self._start_error(start, exc)
                raise
            self._structured_start_error(exc)
        except (FloatingPointError, ZeroDivisionError, OverflowError) as exc:
            self._start_error(start, exc)
        if not (np.isfinite(f0) and np.all(np.isfinite(g0))):
            self._start_error(start)
        if stochastic is not None:
            if bounds is not None or constraints is not None:
                raise ValueError("bounds and constraints are not taken by the stochastic "
                                 "methods; use l-bfgs-b, slsqp or trust-constr.")
            record = self._fit_stochastic(stochastic, z0, to_params, objective, start,
                                          batch_size, epochs, lr, seed, polish, gtol, maxiter,
                                          disp, callback, options)
            self._after_fit(record)
            return self._make_results(record, cov_type, cov_kwds)
        if bounds is not None:
            bounds = self._optimizer_bounds(bounds, start, given=start_params is not None)
        if constraints is not None:
            constraints = self._optimizer_constraints(constraints, start,
                                                      _opt._method_name(method))
        record = _opt.minimize(objective, z0, method=method, maxiter=maxiter, gtol=gtol,
                               disp=disp, callback=callback, to_params=to_params,
                               bounds=bounds, constraints=constraints, **options)
        self._keep_final_hessian(objective, record)
        self._after_fit(record)
        return self._make_results(record, cov_type, cov_kwds)

    def _make_results(self, record: _opt.OptimizeRecord, cov_type: str, cov_kwds):
        """The results of a fit, with a warning naming the parameters whose declared
        transform ended at the edge of its set (see LikelihoodResults.at_bound)."""
        res = self._results_class(model=self, params=record.params, opt=record,
                                  cov_type=cov_type, cov_kwds=cov_kwds)
        reparam = self._reparam
        if reparam is not None:
            edge = res._transform_edge(reparam)
            if edge.any():
                named = ", ".join(f"{n} = {v:.6g} (its {'lower' if e < 0 else 'upper'} "
                                  "edge)" for n, v, e in zip(res.param_names, record.params,
                                                            edge) if e)
                warn_user(f"mleopt: the maximum over the declared transforms' sets is at "
                          f"their edge: {named}; the likelihood still rises beyond it. The "
                          "estimate is the edge itself (the free value ran off to infinity) "
                          "and its standard errors, z tests and Wald intervals are not the "
                          "usual ones (res.at_bound marks it; the summary says so). Widen "
                          "the set, or fit without the transform to see the unrestricted "
                          "maximum.", ConvergenceWarning)
        return res

    def _fit_stochastic(self, method, z0, to_params, objective, start, batch_size, epochs,
                        lr, seed, polish, gtol, maxiter, disp, callback, options):
        """The stochastic phase on minibatches of rows (``_take``: a copy of the model on
        those rows, its row blocks and fast derivative routes included), then the polish."""
        from .. import optim
        n = self.nobs
        if batch_size is None:
            batch_size = min(n, 1024)
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or not 1 <= batch_size <= n:
            raise ValueError(f"batch_size must be an integer from 1 to the number of "
                             f"observations ({n}), not {batch_size!r}.")
        if epochs is None:
            epochs = 10
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be an integer >= 0, not {epochs!r}.")
        if not isinstance(polish, bool):
            raise ValueError(f"polish must be True or False, not {polish!r}.")
        if callback is not None and not polish:
            raise ValueError("callback is called by the Newton polish; with polish=False "
                             "use disp=True or res.optim_history instead.")
        if maxiter is not None and not polish:
            raise ValueError("maxiter applies to the Newton polish; with polish=False the "
                             "stochastic phase runs for epochs=... (batches of batch_size).")
        if isinstance(method, str):
            kwargs = dict(options)
            if lr is not None:
                kwargs["lr"] = lr
            optimizer = optim.OPTIMIZERS[method](**kwargs)
            name = method
        else:
            if options or lr is not None:
                raise ValueError("pass lr and optimiser options to the optimiser object "
                                 "itself, not to fit().")
            optimizer, name = method, type(method).__name__.lower()
        scale = self._theta_scale(start)
        self._check_minibatch(start, int(batch_size))
        run_epoch = self._stochastic_epochs(scale, int(batch_size), optimizer, name)
        run = _opt.stochastic(objective, run_epoch, z0, optimizer, n, int(batch_size),
                              int(epochs), seed=seed, disp=disp, method=name)
        done = None
        if polish:
            done = _opt.minimize(objective, run.theta, method="newton", maxiter=maxiter,
                                 gtol=gtol, disp=disp, callback=callback, to_params=to_params)
        return _opt.stochastic_record(objective, run, gtol, to_params, done)

    def _check_minibatch(self, start: np.ndarray, batch_size: int) -> None:
        """Refuse a model whose ``loglikeobs`` on a subset of rows (``_take``) does not give
        one value per row of the subset: per-row data held where mleopt cannot slice them
        (a dict, a list, a closure) would make every minibatch the whole sample."""
        if self.nobs < 2:
            return
        rows = np.arange(min(batch_size, self.nobs - 1))
        try:
            sub = self._take(rows)          # (a fit_mle closure is refused here, by name)
        except NotImplementedError:         # Dask: partitions are handled by their workers
            return
        try:
            with np.errstate(all="ignore"):
                shape = np.shape(sub.loglikeobs(start))
        except NotImplementedError:
            return
        except (ValueError, IndexError) as exc:
            raise ValueError(
                f"{type(self).__name__}.loglikeobs fails on a minibatch of {rows.size} rows "
                f"({type(exc).__name__}: {exc}): its per-row data must be numpy arrays or "
                "pandas objects of length nobs stored as attributes, which minibatches "
                "slice.") from exc
        if shape[:1] != (rows.size,):
            raise ValueError(
                f"{type(self).__name__}.loglikeobs gives {shape[0] if shape else 1} values on "
                f"a minibatch of {rows.size} rows: some per-row data are not where "
                "minibatches can slice them (numpy arrays or pandas objects of length nobs "
                "stored as attributes; not in a dict, a list or a closure).")

    def _stochastic_epochs(self, scale, batch_size: int, optimizer, method: str) -> Callable:
        """``run_epoch`` of mleopt.optimize.stochastic: minibatches of this model's rows, each
        evaluated on ``_take(rows)`` (a copy of the model on those rows, its row blocks and
        fast derivative routes included). A Dask model overrides it (its partitions)."""
        def batch_objective(rows):
            return self._take(rows)._gradient_objective(scale)
        return _opt.row_epochs(batch_objective, self.nobs, batch_size, optimizer, method)

    def _run_batches(self, x, state, batches, optimizer, scale, epoch, steps, method, where):
        """Steps on batches of this model's rows (a Dask partition's, on its worker)."""
        return _opt.run_batches(lambda rows: self._take(rows)._gradient_objective(scale),
                                batches, optimizer, x, state, epoch, steps, method, where)

    def _optimizer_space(self, start: np.ndarray):
        """``(z0, to_params, objective)``: the optimiser works on ``z = scale * theta`` with
        ``theta = untransform(params)``; ``to_params(z)`` maps back to natural parameters."""
        with np.errstate(all="ignore"):
            theta0 = self._to_theta(start)
        scale = self._theta_scale(start)
        inv = None if scale is None else 1.0 / scale

        def to_params(z):
            return np.asarray(self._from_theta(z if inv is None else z * inv), dtype=float)

        z0 = theta0 if scale is None else theta0 * scale
        return z0, to_params, self._objective(scale)

    # --- bounds and constraints on the natural parameters, mapped to the optimiser's z ----------
    def _optimizer_bounds(self, bounds: Any, start: np.ndarray,
                          given: bool = False) -> list[tuple[float, float]]:
        """``(low, high)`` pairs on z from bounds on the natural parameters (by position, by
        name in a dict, or a scipy Bounds): through ``_theta_bounds``, then times the scale.
        Start values the user ``given`` outside them are refused (StartValueError naming
        them); default ones are left to the optimiser, which moves them inside."""
        import scipy.optimize  # here, not at import: a cold start need not load it
        names, k = self.param_names, self.k_params
        lower, upper = np.full(k, -np.inf), np.full(k, np.inf)
        if isinstance(bounds, scipy.optimize.Bounds):
            sizes = {np.size(bounds.lb), np.size(bounds.ub)} - {1}
            if sizes - {k}:
                raise ValueError(f"bounds (scipy Bounds) has {max(sizes)} entries but the model "
                                 f"has {k} parameters ({', '.join(names)}): give one low "
                                 "and one high per parameter, or a dict by name.")
            lower = np.broadcast_to(np.asarray(bounds.lb, dtype=float), (k,)).copy()
            upper = np.broadcast_to(np.asarray(bounds.ub, dtype=float), (k,)).copy()
        elif isinstance(bounds, dict):
            unknown = [str(n) for n in bounds if n not in names]
            if unknown:
                hints = [n + (f" (did you mean {close[0]!r}?)" if close else "")
                         for n in unknown
                         for close in [difflib.get_close_matches(n, names, n=1)]]
                raise ValueError(f"bounds for unknown parameter(s) {', '.join(hints)}; the "
                                 f"parameters are {', '.join(names)}.")
            for name, pair in bounds.items():
                j = names.index(name)
                lower[j], upper[j] = _bound_pair(pair, name)
        else:
            pairs = list(bounds)
            if len(pairs) != k:
                raise ValueError(f"bounds has {len(pairs)} entries but the model has {k} "
                                 f"parameters ({', '.join(names)}); give one (low, high) pair "
                                 "per parameter (None for no bound) or a dict by name.")
            for j, pair in enumerate(pairs):
                lower[j], upper[j] = _bound_pair(pair, names[j])
        bad = [names[j] for j in range(k) if not lower[j] <= upper[j]]
        if bad:
            raise ValueError(f"bounds with low > high (or NaN) for {', '.join(bad)}.")
        outside = [f"{names[j]} = {start[j]:.6g} not in [{lower[j]:g}, {upper[j]:g}]"
                   for j in range(k) if given and not lower[j] <= start[j] <= upper[j]]
        if outside:
            raise StartValueError(f"start_params outside the bounds: {'; '.join(outside)}. "
                                  "Give start values inside the bounds (or leave "
                                  "start_params out).")
        reparam = self._reparam
        if reparam is not None:
            both = [names[j] for j in range(k) if reparam.declared[j]
                    and (np.isfinite(lower[j]) or np.isfinite(upper[j]))]
            if both:
                raise ValueError(f"bounds on {', '.join(both)}, which also have a declared "
                                 "transform: the transform keeps them in their set already; "
                                 "give the bound in the transform (('interval', lo, hi)).")
        lower, upper = self._theta_bounds(lower, upper)
        if reparam is not None:
            lower, upper = reparam.expand_free(lower, -np.inf), reparam.expand_free(upper, np.inf)
        scale = self._theta_scale(start)
        if scale is not None:
            lower, upper = lower * scale, upper * scale
        return list(zip(lower.tolist(), upper.tolist()))

    def _natural_scale(self) -> np.ndarray:
        """Which parameters the optimiser sees unchanged (``theta_j = params_j``): all of them
        unless the model has its own ``transform`` (then none is known to be)."""
        own = "transform" in self.__dict__ or \
            type(self).transform is not LikelihoodModel.transform
        return np.full(self.k_params, not own)

    def _log_bounds(self, lower: np.ndarray, upper: np.ndarray, first: int):
        """Bounds of parameters ``first`` onwards (positive, optimised as logs) mapped through
        log, a lower bound <= 0 being no bound; the earlier ones as given."""
        lower, upper = lower.copy(), upper.copy()
        for j in range(first, self.k_params):
            if upper[j] <= 0:
                raise ValueError(f"the upper bound of {self.param_names[j]} is {upper[j]:g}, "
                                 f"but {self.param_names[j]} must be positive.")
            lower[j] = np.log(lower[j]) if lower[j] > 0 else -np.inf
            upper[j] = np.log(upper[j])
        return lower, upper

    def _exog_rms(self) -> np.ndarray:
        """Root mean square of each exog column (1 for a column of zeros): the unit in which
        the optimiser measures that column's coefficient."""
        norms = self.__dict__.get("_col_norms")
        if norms is None:
            norms = np.sqrt(np.einsum("ij,ij->j", self.exog, self.exog))
        rms = norms / np.sqrt(self.nobs)
        rms[rms == 0] = 1.0
        return rms

    def _theta_bounds(self, lower: np.ndarray, upper: np.ndarray):
        """Bounds on theta from bounds on the natural parameters: the same where the model
        optimises on the natural scale; refused where its own ``transform`` is in the way (an
        arbitrary map cannot be inverted bound by bound)."""
        natural = self._natural_scale()
        bounded = [n for n, lo, hi, nat in zip(self.param_names, lower, upper, natural)
                   if (np.isfinite(lo) or np.isfinite(hi)) and not nat]
        if bounded:
            raise ValueError(f"bounds on {', '.join(bounded)} cannot be mapped: "
                             f"{type(self).__name__} optimises on theta = untransform(params) "
                             "(its own transform), which mleopt cannot invert bound by bound. "
                             "Drop transform/untransform to bound the natural parameters, or "
                             "write the restriction into the transform.")
        return lower, upper

    def _optimizer_constraints(self, constraints: Any, start: np.ndarray,
                               method: str | None = None) -> list:
        """scipy constraints on the natural parameters, rewritten as functions of z (their
        user-given Jacobians chained with the exact AD Jacobian of params(z)).

        For ``method="trust-constr"`` every constraint becomes a NonlinearConstraint with
        the exact Hessian of ``sum_i v_i c_i(params(z))`` by mleopt.ad in place of scipy's
        BFGS updates, so that, with the objective's exact Hessian, trust-constr sees the
        exact Hessian of the Lagrangian (a NonlinearConstraint left at scipy's default
        ``jac="2-point"`` gets the exact AD Jacobian too). A constraint whose ``fun`` the AD
        cannot follow (plain numpy, with its own ``jac``) keeps the BFGS updates, with a
        warning naming it; a NonlinearConstraint with another ``hess`` (``SR1()``, ...)
        keeps it."""
        import scipy.optimize  # here, not at import: a cold start need not load it
        scale = self._theta_scale(start)
        inv = None if scale is None else 1.0 / scale

        def params_of(z):
            return self._from_theta(z if inv is None else z * inv)

        def natural(z):
            return np.asarray(params_of(np.asarray(z, dtype=float)), dtype=float)

        dparams = ad.jacobian(params_of)

        def chain(jac):
            def jac_z(z, *args):
                return np.asarray(jac(natural(z), *args), dtype=float) @ \
                    np.asarray(dparams(np.asarray(z, dtype=float)), dtype=float)
            return jac_z

        def ad_jac(fun):
            """The exact Jacobian in z of ``fun(params(z), *args)`` by mleopt.ad."""
            def jac_z(z, *a):
                return np.asarray(ad.jacobian(lambda v: fun(params_of(v), *a))(
                    np.asarray(z, dtype=float)), dtype=float)
            return jac_z

        def ad_hess(fun, i, *args):
            """``hess(z, v)``: the Hessian in z of ``v . fun(params(z), *args)``, checked at
            the start; scipy's BFGS updates, with a warning, where the AD cannot follow."""
            def hess_z(z, v):
                v = np.atleast_1d(np.asarray(v, dtype=float))
                return np.asarray(ad.hessian(lambda w: mnp.sum(
                    v * mnp.atleast_1d(fun(params_of(w), *args))))(
                        np.asarray(z, dtype=float)), dtype=float)
            try:
                first = hess_z(z0, np.ones(np.size(fun(natural(z0), *args))))
            except Exception as exc:      # noqa: BLE001  (named for the user)
                warn_user(f"constraint {i}: mleopt.ad cannot differentiate its 'fun' "
                          f"({type(exc).__name__}: {exc}), so trust-constr approximates its "
                          "Hessian by BFGS updates (more iterations); write it with "
                          "mleopt.numpy for the exact Hessian of the Lagrangian.", UserWarning)
                return scipy.optimize.BFGS()
            if not np.all(np.isfinite(first)):
                raise ValueError(f"constraint {i}: its Hessian is not finite at the start "
                                 "values; give start_params inside its domain.")
            return hess_z

        def finite_at_start(i, fun, *args):
            """A constraint's value where the optimiser starts must be a number: NaN there
            stopped slsqp at once, trust-constr with scipy's "array must not contain infs or
            NaNs", and ran cobyla to maxiter."""
            with np.errstate(all="ignore"):
                value = np.asarray(fun(natural(z0), *args), dtype=float)
            if not np.all(np.isfinite(value)):
                named = ", ".join(f"{n}={v:.6g}" for n, v in zip(self.param_names, start))
                raise StartValueError(
                    f"constraint {i} is not finite at the start values ({named}): its value "
                    f"is {value.tolist()}. Give start_params inside its domain.")

        lagrangian = method == "trust-constr"
        z0 = self._to_theta(start)
        z0 = z0 if scale is None else z0 * scale
        out = []
        for i, c in enumerate(_opt._constraint_list(constraints)):
            if isinstance(c, dict):
                extra = sorted(set(c) - {"type", "fun", "jac", "args"})
                if extra or "fun" not in c or "type" not in c:
                    raise ValueError(f"a constraint dict needs 'type' and 'fun' (optional "
                                     f"'jac', 'args'); got keys {sorted(c)}.")
                fun, args = c["fun"], tuple(c.get("args", ()))
                fun = self._constraint_by_name(fun, len(args), i, c.get("jac"))
                finite_at_start(i, fun, *args)
                new = {"type": c["type"], "args": args,
                       "fun": lambda z, *a, fun=fun: fun(natural(z), *a)}
                if c.get("jac") is not None:
                    if not callable(c["jac"]):
                        raise ValueError("a constraint's 'jac' must be a function of the "
                                         "parameters.")
                    new["jac"] = chain(c["jac"])
                else:       # the exact Jacobian by AD (never scipy's finite differences)
                    new["jac"] = jac = ad_jac(fun)
                    try:        # at the start: a function the AD cannot follow is named now
                        first = jac(z0, *args)
                    except Exception as exc:      # noqa: BLE001  (named for the user)
                        raise TypeError(
                            f"constraint {i}: mleopt.ad cannot differentiate its 'fun' "
                            f"({type(exc).__name__}: {exc}). Write it with mleopt.numpy "
                            "(import mleopt.numpy as np), or give its Jacobian as "
                            "'jac'.") from exc
                    if not np.all(np.isfinite(first)):
                        raise ValueError(f"constraint {i}: its Jacobian is not finite at "
                                         "the start values; give start_params inside its "
                                         "domain.")
                if lagrangian:
                    if new["type"] not in ("eq", "ineq"):
                        raise ValueError(f"constraint {i}: 'type' must be 'eq' or 'ineq', "
                                         f"not {new['type']!r}.")
                    new = scipy.optimize.NonlinearConstraint(
                        lambda z, f=new["fun"], a=args: f(z, *a), 0.0,
                        0.0 if new["type"] == "eq" else np.inf,
                        jac=lambda z, j=new["jac"], a=args: j(z, *a),
                        hess=ad_hess(fun, i, *args))
                out.append(new)
            elif isinstance(c, scipy.optimize.LinearConstraint):
                a = np.atleast_2d(np.asarray(c.A, dtype=float))
                if a.ndim != 2 or a.shape[1] != self.k_params:
                    raise ValueError(f"constraint {i}: LinearConstraint's A has shape "
                                     f"{a.shape}, but the model has {self.k_params} "
                                     f"parameters ({', '.join(self.param_names)}): A needs "
                                     f"one column per parameter.")
                if self._reparam is None and not np.any(a[:, ~self._natural_scale()]):
                    # on parameters the optimiser sees linearly: still linear in z
                    out.append(scipy.optimize.LinearConstraint(
                        a if inv is None else a * inv, c.lb, c.ub,
                        keep_feasible=c.keep_feasible))
                    continue
                linear = lambda p, a=a: mnp.matmul(a, p)      # noqa: E731
                out.append(scipy.optimize.NonlinearConstraint(
                    lambda z, a=a: a @ natural(z), c.lb, c.ub,
                    jac=chain(lambda p, a=a: a), keep_feasible=c.keep_feasible,
                    hess=ad_hess(linear, i) if lagrangian else None))
            elif isinstance(c, scipy.optimize.NonlinearConstraint):
                if callable(c.hess):
                    raise ValueError("NonlinearConstraint with a hess function is not "
                                     "supported (it would need mapping to the optimiser's "
                                     "scale); leave hess at its default.")
                finite_at_start(i, c.fun)
                jac = chain(c.jac) if callable(c.jac) else c.jac
                if c.jac == "2-point":      # scipy's default: the exact AD Jacobian instead
                    jac = self._nonlinear_jac(c.fun, i, ad_jac(c.fun), z0)
                hess = c.hess
                if lagrangian and type(hess) is scipy.optimize.BFGS:  # scipy's default
                    hess = ad_hess(c.fun, i)
                out.append(scipy.optimize.NonlinearConstraint(
                    lambda z, fun=c.fun: fun(natural(z)), c.lb, c.ub, jac=jac, hess=hess,
                    keep_feasible=c.keep_feasible))
            else:
                raise TypeError(f"constraints must be scipy constraint dicts, "
                                f"LinearConstraint or NonlinearConstraint objects, not "
                                f"{type(c).__name__}.")
        return out

    def _constraint_by_name(self, fun: Callable, n_args: int, i: int, jac: Any) -> Callable:
        """A constraint dict's ``fun`` as a function of the parameter vector. ``fun`` may be
        written on named parameters instead, its arguments (before ``args``) named after
        them: ``lambda TVnews, PID: TVnews + PID`` is called as ``fun(p[1], p[2])``. A
        function of one argument that is not a parameter's name takes the vector; argument
        names that are partly parameters' are refused, naming the unknown ones."""
        try:
            sig = inspect.signature(fun)
        except (TypeError, ValueError):       # builtins without a signature: the vector
            return fun
        kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        required = [a for a in sig.parameters.values() if a.default is inspect.Parameter.empty]
        if any(a.kind not in kinds for a in required):
            return fun
        names = [a.name for a in required][:max(len(required) - n_args, 0)]
        known = self.param_names
        if len(names) == 1 and names[0] not in known:
            return fun
        unknown = [n for n in names if n not in known]
        if unknown:
            hints = [f"{n!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
                     for n in unknown
                     for close in [difflib.get_close_matches(n, known, n=1)]]
            raise ValueError(f"constraint {i}: its fun's arguments name unknown parameter(s) "
                             f"{', '.join(hints)}; the parameters are {', '.join(known)}. "
                             "Name its arguments after parameters, or take the whole vector "
                             "in one argument (lambda p: ...).")
        if jac is not None:
            raise ValueError(f"constraint {i}: a fun of named parameters takes no 'jac' "
                             "(mleopt.ad differentiates it exactly); leave 'jac' out.")
        index = [known.index(n) for n in names]
        return lambda p, *a: fun(*[p[j] for j in index], *a)

    @staticmethod
    def _nonlinear_jac(fun: Callable, i: int, jac: Callable, z0: np.ndarray):
        """``jac`` (the exact AD Jacobian of a NonlinearConstraint left at scipy's default
        ``jac="2-point"``) when mleopt.ad can follow ``fun`` at the start; else "2-point"
        (finite differences), with a warning naming the constraint."""
        try:
            first = jac(z0)
        except Exception as exc:      # noqa: BLE001  (named for the user)
            warn_user(f"constraint {i}: mleopt.ad cannot differentiate the NonlinearConstraint's "
                      f"fun ({type(exc).__name__}: {exc}), so its Jacobian is scipy's finite "
                      "differences (jac='2-point'); write fun with mleopt.numpy for the exact "
                      "one, or give jac=.", UserWarning)
            return "2-point"
        if not np.all(np.isfinite(first)):
            raise ValueError(f"constraint {i}: its Jacobian is not finite at the start "
                             "values; give start_params inside its domain.")
        return jac

    def _start_values(self, start_params) -> np.ndarray:
        own = None
        if start_params is None and type(self).start_params is not LikelihoodModel.start_params:
            own = self.start_params()       # (a subclass's own start values may be named)
            start_params = own if is_container(own) else None
        if is_container(start_params):      # named arrays: loglikeobs gets the structure
            tree, old = tree_structure(start_params), self._param_tree
            if self._param_names is None or len(self._param_names) != tree.size or (
                    old is not None and list(self._param_names) == old.names()):
                self._set_param_names(tree.names())   # (names a user gave are kept)
            if tree != old:     # the row blocks are copies: made again with the structure
                self.__dict__.pop("_block_cache", None)
            self._param_tree = tree
            start = np.array(ravel_leaves(leaves_of(start_params)), dtype=float)
        elif start_params is None:
            start = np.asarray(self.start_params() if own is None else own,
                               dtype=float).ravel()
            reparam = self._reparam if self._param_names is not None else None
            if reparam is not None and start.size == self.k_params:
                start = np.where(reparam.declared, np.asarray(
                    reparam.from_free(reparam.expand_free(start, 0.0)), dtype=float), start)
            if self._param_names is not None and start.size == self.k_params:
                start = self._refine_start(start)
        else:
            if isinstance(start_params, pd.Series) and self._param_names is None:
                self._set_param_names([str(p) for p in start_params.index])
            start_params = self._params_by_name(start_params, "start_params")
            if hasattr(start_params, "to_numpy"):
                start_params = start_params.to_numpy()
            start = np.array(start_params, dtype=float, copy=True).ravel()
        if self._param_names is None:
            self._set_param_names([f"par{i}" for i in range(start.size)])
        if start.size != self.k_params:
            raise ValueError(f"start_params has {start.size} values but the model has "
                             f"{self.k_params} parameters ({', '.join(self.param_names)}).")
        return start

    def _params_by_name(self, params: Any, name: str = "params") -> Any:
        """``params`` in the model's order: a pandas Series is matched to ``param_names`` by
        its index (any order; DataError if the labels differ; pandas' default index 0..K-1
        names nothing and is taken by position) and returned as a float array; anything
        else (arrays, traced values) is unchanged."""
        if not isinstance(params, pd.Series) or self._param_names is None:
            return params
        return align_names(params, self._param_names, name,
                           "pd.Series(values, index=model.param_names)").to_numpy(dtype=float)

    def _structured_start_error(self, exc: Exception) -> None:
        """Raise StartValueError for named arrays loglikeobs could not take (forgetting them:
        the next fit starts afresh)."""
        tree, self._param_tree = self._param_tree, None
        self.__dict__.pop("_block_cache", None)
        traced = _trace_error_in(exc)
        if traced is not None:
            raise traced from None
        raise StartValueError(
            f"start_params are named arrays ({tree!r}), so loglikeobs receives them in that "
            f"structure, and {type(self).__name__}.loglikeobs failed on it: "
            f"{type(exc).__name__}: {exc}. Built-in models take a flat vector (or a "
            "pd.Series by parameter name); a model of your own reads the parameters as "
            "p['name'].") from exc

    def _start_error(self, start: np.ndarray, exc: Exception | None = None) -> None:
        """Raise StartValueError naming the start values and where the log-likelihood (or
        its gradient) is not finite."""
        named = ", ".join(f"{n}={v:.6g}" for n, v in zip(self.param_names, start))
        advice = ("Pass start_params=... where it is finite (e.g. positive scale parameters, "
                  "smaller coefficients).")
        if exc is not None:
            traced = _trace_error_in(exc)
            if traced is not None:  # not the start values: the code would lose a derivative
                raise traced from None
            detail = str(exc).rstrip(".")
            if isinstance(exc, ValueError) and ("dimension" in detail or "shape" in detail):
                advice = (f"The model has {self.k_params} parameters ({', '.join(self.param_names)}); "
                          "if loglikeobs uses more (e.g. sigma), list them in "
                          "extra_param_names or pass start_params of the right length.")
            raise StartValueError(f"the log-likelihood cannot be evaluated at the start values "
                                  f"({named}): {detail}. {advice}") from exc
        with np.errstate(all="ignore"):
            theta = self._to_theta(start)
            if not np.all(np.isfinite(theta)):
                bad = [n for n, t in zip(self.param_names, theta) if not np.isfinite(t)]
                raise StartValueError(
                    f"start values outside the parameter space ({named}): {', '.join(bad)} "
                    f"cannot be mapped to the optimiser's scale (e.g. a scale parameter <= 0). "
                    f"{advice}")
            obs = np.asarray(self._loglikeobs_flat(np.asarray(self._from_theta(theta), float)),
                             dtype=float)
        if obs.ndim != 1 or obs.shape[0] != self.nobs:
            raise ValueError(f"loglikeobs must return one value per observation (shape "
                             f"({self.nobs},)), got shape {obs.shape}.")
        rows = np.flatnonzero(~np.isfinite(obs))
        where = (f"not finite in {rows.size} of {self.nobs} observations (first: row "
                 f"{rows[0]})" if rows.size else "finite but its gradient is not")
        raise StartValueError(f"the log-likelihood is {where} at the start values ({named}). "
                              f"{advice}")

    def _refine_start(self, start: np.ndarray) -> np.ndarray:
        """Improve default start values (e.g. by a fit on a subsample); unchanged here."""
        return start

    def _keep_final_hessian(self, objective: _opt.Objective,
                            record: _opt.OptimizeRecord) -> None:
        """Keep the Hessian the optimiser already has at the estimate as the model's last
        one (``hessian``'s memo: the fit's checks and the standard errors use it) instead of
        computing it again. Where the optimiser's ``z = s * params`` (models optimising the
        natural parameters), ``d2l/dparams_i dparams_j = s_i s_j d2l/dz_i dz_j``; with a
        transform of the model's own, see :meth:`_natural_hessian`. With declared
        transforms (or where that does not apply) it is computed afresh."""
        if self._reparam is not None:
            return
        h = objective.known_hessian(record.theta)
        if h is None or h.shape != (record.params.size,) * 2:
            return
        if self._natural_scale().all():
            scale = objective.scale     # (= _theta_scale: no declared transforms here)
            if scale is not None:
                h = h * np.outer(scale, scale)
        else:
            h = self._natural_hessian(h, record.theta, objective)
            if h is None:
                return
        self._keep_memo("_hessian_memo", (np.array(record.params, dtype=float, copy=True), h))

    def _natural_hessian(self, h_z: np.ndarray, z: np.ndarray,
                         objective: _opt.Objective) -> np.ndarray | None:
        """The Hessian in the natural parameters from the optimiser's ``H_z`` at ``z``, for a
        model with a transform of its own: with ``params = T(z)`` (``T(z) =
        transform(z / s)``), ``J = dT/dz`` and ``g`` the natural gradient,
        ``H_z = J' H J + C``, ``C = sum_k g_k d2T_k/dz2``, so ``H = J^-T (H_z - C) J^-1``
        (J and C from mleopt.ad on the K parameters alone: no pass over the data). Used only
        where every ``|C_ij| <= 1e-8 |(H_z)_ij|`` (at an interior optimum g is ~0), so that
        subtracting C loses no digits; None otherwise (e.g. a maximum on the boundary of
        the parameter space, where g is not 0), and the Hessian is then computed afresh."""
        inv = None if objective.scale is None else 1.0 / objective.scale

        def to_params(v):
            return self._from_theta(v if inv is None else v * inv)

        try:
            with np.errstate(all="ignore"):
                # forward mode from the start: K inputs, K outputs and no rows (the
                # structure searches of jacobian's and hessian's "auto" do not apply)
                jac = np.asarray(ad.jacobian(to_params, mode="fwd")(z), dtype=float)
                g_z = -objective.nobs * np.asarray(objective.grad(z), dtype=float)
                g = np.linalg.solve(jac.T, g_z)
                c = np.asarray(ad.jacobian(ad.grad(lambda v: mnp.dot(g, to_params(v))),
                                           mode="fwd")(z), dtype=float)
                j_inv = np.linalg.inv(jac)
        except (np.linalg.LinAlgError, ValueError, TypeError):
            return None
        if c.shape != h_z.shape or not (np.isfinite(c).all() and np.isfinite(j_inv).all()) \
                or not np.all(np.abs(c) <= 1e-8 * np.abs(h_z)):
            return None
        return j_inv.T @ (h_z - c) @ j_inv

    def _fit_quick(self, start: np.ndarray, gtol: float = 1e-8, maxiter: int = 100,
                   measure_noise: bool = True) -> _opt.OptimizeRecord:
        """A silent Newton fit from natural ``start`` (start values, null models): no checks,
        no results object, no warning; ``record.converged`` tells (``measure_noise=False``:
        the final verdict without the rounding-noise probes of ``Objective.noise``, for a fit
        used only for its parameters: its converged flag then only compares with the usual
        floors; Newton's steps are the same)."""
        z0, to_params, objective = self._optimizer_space(start)
        objective.measures_noise = measure_noise
        with np.errstate(all="ignore"):
            return _opt.minimize(objective, z0, method="newton", gtol=gtol, maxiter=maxiter,
                                 to_params=to_params, warn=False)

    def _after_fit(self, record: _opt.OptimizeRecord) -> None:
        """Model-specific checks of a fit (e.g. perfect separation); none by default."""

    @property
    def _results_class(self):
        from .. import results
        return getattr(results, self._results_name, results.LikelihoodResults)

    # --- predictions --------------------------------------------------------------------------
    def predict(self, params, exog=None, which: str = "mean", **kwargs):
        """``which="linear"``: exog @ coefficients; ``"mean"``: E[y | x] (the inverse link of
        the linear predictor); a model may add others from the mean (``_moment``: "var",
        "prob"). Differentiable in params and exog (mleopt.numpy)."""
        if self.k_exog == 0:
            raise NotImplementedError(f"{type(self).__name__} has no exog, so predict() is "
                                      "not defined; evaluate your own function of params.")
        self._check_which(which)
        params = self._params_by_name(params)
        linear = self._linear_predictor(params, exog, **kwargs)
        if which == "linear":
            return linear
        mean = self._inverse_link(linear)
        return mean if which == "mean" else self._moment(which, mean, params)

    _MOMENTS: tuple[str, ...] = ()      # predictions besides mean and linear (_moment)

    def _check_which(self, which: str) -> None:
        choices = ("mean", "linear") + tuple(self._MOMENTS)
        if which not in choices:
            raise ValueError(f"which must be one of {', '.join(map(repr, choices))} for "
                             f"{type(self).__name__}, not {which!r}.")

    def _moment(self, which: str, mean, params):
        """A prediction computed from the mean: ``"var"`` = Var[y | x], ``"prob"`` = P(y = 1)
        (binary models), as listed in ``_MOMENTS``; differentiable in params."""
        raise ValueError(f"which={which!r} is not defined for {type(self).__name__}.")

    def _linear_predictor(self, params, exog=None, **kwargs):
        if kwargs:
            raise TypeError(f"unexpected keyword arguments {sorted(kwargs)} for "
                            f"{type(self).__name__}.predict.")
        exog = design_frame(self, exog)
        x = self.exog if exog is None else _as_exog(exog, self.k_exog, self.exog_names)
        start = self._coefficients_start()
        return mnp.matmul(x, params[start:start + self.k_exog])

    def _coefficients_start(self) -> int:
        """Where exog's coefficients start in the flat parameters: 0, or with structured
        parameters (dict / list start values) the offset of their one entry of exog's
        width; several or none is an error (the default predict cannot tell)."""
        tree = self._param_tree
        if tree is None:
            return 0
        found = self._exog_entries()
        if len(found) != 1:
            raise NotImplementedError(
                f"{type(self).__name__}.predict: the default prediction is exog @ its "
                f"coefficients, but {'several' if found else 'none'} of the structured "
                f"parameters ({', '.join(tree.paths)}) have exog's {self.k_exog} columns; "
                "define predict(self, params, exog=None, which='mean') for this model.")
        return int(sum(tree.sizes[:found[0]]))

    def _exog_entries(self) -> list[int]:
        """The entries of the structured parameters (dict / list start values) of exog's
        width ``(k_exog,)``: exog's coefficients where there is exactly one."""
        return [i for i, shape in enumerate(self._param_tree.shapes) if shape == (self.k_exog,)]

    def _inverse_link(self, linear):
        return linear

    # --- the null model -------------------------------------------------------------------------
    def null_model_llf(self) -> float | None:
        """Log-likelihood of the intercept-only model (plus offset/exposure, extra parameters
        re-estimated), fitted by Newton; None for a model without exog, or (with a warning)
        when ``loglikeobs`` cannot run on a single column of ones."""
        if self.k_exog == 0:
            return None
        null = self._null_model()
        try:
            if null._param_tree is not None and len(null._exog_entries()) == 1:
                # named arrays (see _null_model): 0 for the constant, 1 for the others
                start = np.ones(null.k_params)
                start[null._coefficients_start()] = 0.0
            else:
                start = null.start_params()
            record = null._fit_quick(start, gtol=1e-10, maxiter=200)
        except (IndexError, ValueError, TypeError, ArithmeticError,
                np.linalg.LinAlgError) as exc:
            # a user's loglikeobs may use exog's columns by position: it cannot run on the
            # single column of ones of the intercept-only model
            warn_user(f"llnull is not available: {type(self).__name__}.loglikeobs failed on "
                      f"the intercept-only model (exog replaced by one column of ones): "
                      f"{type(exc).__name__}: {exc}. llnull, llr and prsquared are NaN; "
                      "override null_model_llf() to define them.", UserWarning)
            return None
        if not np.isfinite(record.llf):
            # e.g. structured parameters started at 1 (equal cut-points: empty categories)
            warn_user(f"llnull is not available: the intercept-only model of "
                      f"{type(self).__name__} has a log-likelihood of {record.llf} where its "
                      f"fit stopped ({record.message}). llnull, llr and prsquared are NaN; "
                      "override null_model_llf() to define them.", UserWarning)
            return None
        if not record.converged:
            warn_user(f"the intercept-only model did not converge ({record.message}); "
                      "llnull may be inaccurate.", ConvergenceWarning)
        return float(record.llf)

    def _null_model(self) -> "LikelihoodModel":
        """A copy of this model whose exog is a single column of ones."""
        null = copy.copy(self)
        null.exog = np.ones((self.nobs, 1))
        null.exog_names = ["const"]
        null.k_exog, null.k_constant, null.const_idx = 1, 1, 0
        null._param_names = ["const"] + list(self.param_names[self.k_exog:])
        tree = self._param_tree
        if tree is not None and len(self._exog_entries()) == 1:
            # named arrays (dict / list start values): exog's entry becomes one number
            entry = self._exog_entries()[0]
            null._param_tree = tree_structure(tree.build([
                np.zeros(1) if i == entry else (0.0 if scalar else np.zeros(shape))
                for i, (shape, scalar) in enumerate(zip(tree.shapes, tree.scalars))]))
            null._param_names = null._param_tree.names()
        null._transforms = self._transforms_of(null._param_names)
        null.__dict__.pop("_reparam_cache", None)
        null.data = copy.copy(self.data)
        null.data.exog, null.data.exog_names = null.exog, null.exog_names
        null._col_norms = np.array([np.sqrt(self.nobs)])
        null._gram = None
        null._drop_caches()
        return null

    def _take(self, rows: np.ndarray) -> "LikelihoodModel":
        """A copy of this model on a subset of its rows (every per-row array attribute is
        subset; the user's data are not touched)."""
        sub = copy.copy(self)
        for name, value in self._row_arrays().items():
            setattr(sub, name, value.iloc[rows] if hasattr(value, "iloc") else value[rows])
        sub.data = copy.copy(self.data)
        sub.data.endog, sub.data.exog = sub.endog, sub.exog
        sub.data.extras = {k: v[rows] for k, v in self.data.extras.items()}
        sub.data.row_labels = None if self.data.row_labels is None else \
            self.data.row_labels[rows]
        sub._col_norms = sub._gram = None
        sub._drop_caches()
        return sub

    def __repr__(self) -> str:
        return (f"<{type(self).__name__}: endog {self.endog_name!r}, nobs={self.nobs}, "
                f"params {self._param_names}>")


# =======================================================================================
# fit_mle: a plain function, no subclassing
# =======================================================================================

class _FunctionModel(LikelihoodModel):
    """The model behind fit_mle: a log-likelihood function and nothing else."""

    def __init__(self, loglikeobs: Callable, nobs: int, param_names: Sequence[str],
                 transform: Callable | None = None, untransform: Callable | None = None,
                 data: dict | None = None):
        self._fn = loglikeobs
        self._rows = dict(data or {})
        self.data = None
        self.endog = None
        self.exog = None
        self.endog_name = getattr(loglikeobs, "__name__", "loglikeobs")
        self.exog_names = []
        self.k_exog = 0
        self.k_constant = 0
        self.const_idx = None
        self._nobs = int(nobs)
        self._set_param_names(list(param_names))
        if transform is not None:
            self.transform = transform
        if untransform is not None:
            self.untransform = untransform

    @property
    def nobs(self) -> int:
        return self._nobs

    def loglikeobs(self, params):
        return self._fn(params, **self._rows)

    def _row_arrays(self) -> dict[str, np.ndarray]:
        return dict(self._rows)

    def _blocks(self):
        if not self._rows:      # the data are inside the function: one block
            return [self], [slice(0, self.nobs)], 1
        return super()._blocks()

    def _take(self, rows) -> "_FunctionModel":
        if not self._rows:      # the function would still see all its rows
            raise ValueError(
                "fit_mle: this function holds its data itself (no data=), so its rows "
                "cannot be taken in minibatches (nor resampled by jackknife or bootstrap): "
                "pass the per-row arrays as data={...} (called as loglikeobs(params, "
                "**data)).")
        sub = copy.copy(self)
        sub._rows = {k: v[rows] for k, v in self._rows.items()}
        sub._nobs = int(np.arange(self.nobs)[rows].size)
        sub._drop_caches()
        return sub


def fit_mle(loglikeobs: Callable, start_params: Any, param_names: Sequence[str] | None = None,
            nobs: int | None = None, transform: Callable | None = None,
            untransform: Callable | None = None, data: dict | None = None,
            **fit_kwargs: Any):
    """Fit a plain function: ``loglikeobs(params)`` returns per-observation log-likelihoods.

    ``data``: a dict of per-row arrays (one entry per observation along the first axis),
    passed as keyword arguments, ``loglikeobs(params, **data)``. Then the rows can be
    evaluated in blocks (bounded memory, threads; see mleopt.blocks); a function that
    holds its data itself is always evaluated whole.

    ``start_params`` are natural parameters: a vector, or named arrays (a dict, list or
    tuple of arrays and numbers, e.g. ``{"beta": np.zeros(3), "log_sigma": 0.0}``), which
    ``loglikeobs`` then receives in that structure while the results report them flat,
    named ``beta[0], ..., log_sigma`` (dict entries in sorted key order, as mleopt.ad.flatten
    lays them out); ``param_names`` default to ``par0, par1, ...`` (or those names);
    ``nobs`` defaults to the length of ``loglikeobs(start_params)``. Optional ``transform``
    / ``untransform`` (mleopt.numpy) map the optimiser's theta to params and back. Keyword
    arguments go to ``LikelihoodModel.fit``; returns the same results object.
    """
    if isinstance(start_params, pd.Series):     # (a list also has an .index method)
        if param_names is None:
            param_names = [str(i) for i in start_params.index]
        start_params = start_params.to_numpy()
    tree = tree_structure(start_params) if is_container(start_params) else None
    if tree is not None:
        start = np.array(ravel_leaves(leaves_of(start_params)), dtype=float)
        param_names = tree.names() if param_names is None else param_names
    else:
        start = np.array(start_params, dtype=float, copy=True).ravel()
    rows = _function_data(data, nobs)
    if rows:
        fn, loglikeobs = loglikeobs, functools.partial(loglikeobs, **rows)
        functools.update_wrapper(loglikeobs, fn)
    if param_names is None:
        param_names = [f"par{i}" for i in range(start.size)]
    if len(param_names) != start.size:
        raise ValueError(f"{len(param_names)} param_names for {start.size} start values.")
    try:
        with np.errstate(all="ignore"):
            shape = np.shape(loglikeobs(start if tree is None else tree.unflatten(start)))
    except Exception:
        if nobs is None:
            raise
        shape = None            # fit() reports what is wrong at the start values
    if shape is not None and (len(shape) != 1 or (nobs is not None and shape[0] != nobs)):
        # a summed log-likelihood would pass as nobs = 1 (wrong BIC, df_resid, robust SEs)
        want = "a 1-D vector" + (f" of length nobs = {nobs}" if nobs is not None else "")
        raise ValueError(f"loglikeobs must return one log-likelihood per observation "
                         f"({want}); at the start values it returned shape {shape}. If it "
                         "returns the total, return the per-observation terms (no sum).")
    if nobs is None:
        nobs = int(shape[0])
    if rows:
        loglikeobs = loglikeobs.func
    model = _FunctionModel(loglikeobs, nobs, param_names, transform, untransform, rows)
    model._param_tree = tree
    return model.fit(start_params=start, **fit_kwargs)


# =======================================================================================
# helpers
# =======================================================================================

# keywords a user may try on a built-in model that it does not take, with what to do instead
_NOT_SUPPORTED = {
    "groups": "cluster groups are given to fit: fit(cov_type='cluster', "
              "cov_kwds={'groups': groups})",
    "fweights": "frequency weights are freq_weights=... (or weights=..., "
                "weight_type='fweight')",
    "aweights": "analytic weights are var_weights=... (or weights=..., weight_type='aweight')",
    "sample_weight": "sampling weights are pweights=... (or weights=..., "
                     "weight_type='pweight')",
    "hasconst": "the constant is found in exog by itself (add_constant adds one)",
    "offset": "only the count models (Poisson, NegativeBinomial) take an offset",
    "exposure": "only the count models (Poisson, NegativeBinomial) take an exposure",
    "loglike_method": "NB1 and NB2 are NegativeBinomial(loglike_method='nb1' | 'nb2')",
}


def _accepted_kwargs(cls: type) -> list[str]:
    """The keyword arguments a model class's constructor uses: the named parameters of each
    ``__init__`` along the MRO, down to the first one without ``**kwargs``, less the names
    the class refuses (``_refused_kwargs``: Heckman's weights)."""
    refused = getattr(cls, "_refused_kwargs", ())
    names: list[str] = list(refused)
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names += [p.name for p in params if p.name != "self" and p.name not in names
                  and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        names += [a for a in getattr(klass, "_extra_arrays", ()) if a not in names]
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return names[len(refused):]


def _unexpected_kwargs(cls: type, kwargs: dict, why: str, strict: bool) -> str:
    """``Logit() got an unexpected keyword argument 'wieghts'; did you mean 'weights'? ...``:
    each name with a did-you-mean (difflib) among the accepted names (and, for a built-in
    model, the statsmodels keywords it does not support, saying why), then the accepted."""
    accepted = _accepted_kwargs(cls)
    unsupported = [k for k in _NOT_SUPPORTED if strict and k not in accepted]
    hints = []
    refused = getattr(cls, "_refused_kwargs", ())
    for name in kwargs:
        if name in refused:         # ``why`` says why; no did-you-mean to another name
            continue
        target = name if name in unsupported else None
        if target is None:
            close = difflib.get_close_matches(name, accepted + unsupported, n=1)
            if close:
                which = f" for {name!r}" if len(kwargs) > 1 else ""
                hints.append(f"Did you mean {close[0]!r}{which}?")
                target = close[0] if close[0] in unsupported else None
        if target is not None:
            hints.append(f"{target!r}: {_NOT_SUPPORTED[target]}.")
    names = ", ".join(repr(n) for n in kwargs)
    got = "unexpected keyword arguments" if len(kwargs) > 1 else \
        "an unexpected keyword argument"
    return " ".join([f"{cls.__name__}() got {got} {names}.",
                     *hints, f"{why[0].upper()}{why[1:]}; accepted keyword arguments: "
                     f"{', '.join(accepted)}."])


def _stochastic_method(method: Any):
    """The name of a stochastic method (``"adam"``, ...), an optimiser object with
    ``init``/``update`` (returned as is), or None for Newton and scipy's methods."""
    if isinstance(method, str):
        name = method.strip().lower()
        return name if name in _opt.STOCHASTIC_METHODS else None
    if hasattr(method, "init") and hasattr(method, "update"):
        return method
    return None


def _length(x) -> int | None:
    """len(x) for per-row data (arrays, lists, Series), None for scalars and strings."""
    if x is None or isinstance(x, (str, bytes)) or np.ndim(x) == 0:
        return None
    try:
        return len(x)
    except TypeError:
        return None


def _bound_pair(pair, name: str) -> tuple[float, float]:
    """``(low, high)`` with None as -inf / +inf."""
    try:
        low, high = pair
        return (-np.inf if low is None else float(low), np.inf if high is None else float(high))
    except (TypeError, ValueError):
        raise ValueError(f"the bound for {name} must be a (low, high) pair (None for no "
                         f"bound), not {pair!r}.") from None


def _trace_error_in(exc: BaseException) -> BaseException | None:
    """The TraceError behind ``exc``, if any (numpy re-raises ours as its own ValueError when
    a traced value is written into a plain array)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, ad.TraceError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _constant_column(x: np.ndarray | None) -> int | None:
    """Index of the first non-zero constant column of x, or None."""
    if x is None or x.shape[0] == 0:
        return None
    # screen on the first rows, then confirm the (few) candidates on every row
    candidates = np.flatnonzero((x[0] != 0) & np.all(x[:64] == x[0], axis=0))
    for j in candidates:
        if np.all(x[:, j] == x[0, j]):
            return int(j)
    return None


def _raw(raw: dict) -> dict:
    """``raw=`` for _block_map only when there is something (Dask models take it)."""
    return {"raw": raw} if raw else {}


def _function_data(data, nobs: int | None) -> dict[str, np.ndarray]:
    """fit_mle's ``data``: a dict of per-row arrays, all of one length (nobs if given)."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TypeError(f"data must be a dict of per-row arrays (passed to loglikeobs as "
                        f"keyword arguments), not {type(data).__name__}.")
    from .dask import is_dask
    rows = {}
    for name, value in data.items():
        if is_dask(value):      # np.asarray would gather it to the client silently
            raise DataError(
                f"data[{name!r}] is a dask collection; fit_mle evaluates in-memory data "
                "only. For Dask data write the likelihood as a LikelihoodModel subclass "
                "(Model(endog, exog, name=...) with dask inputs: its partitions are "
                f"evaluated on the workers), or pass data[{name!r}].compute().")
        if hasattr(value, "to_numpy"):
            value = value.to_numpy()
        arr = np.asarray(value)
        if arr.ndim == 0:
            raise ValueError(f"data[{name!r}] is a single value; data holds per-row arrays "
                             "only (pass constants through the function itself).")
        rows[str(name)] = arr
    lengths = {k: v.shape[0] for k, v in rows.items()}
    want = nobs if nobs is not None else next(iter(lengths.values()), None)
    bad = {k: n for k, n in lengths.items() if n != want}
    if bad:
        raise ValueError(f"every array in data needs one row per observation ({want}); "
                         f"got {bad}.")
    return rows


def _is_traced(x) -> bool:
    """True for a value mleopt.ad is tracing (or a sequence holding one)."""
    if isinstance(x, (ad.Tensor, ad.Dual)):
        return True
    return isinstance(x, (list, tuple)) and any(isinstance(v, (ad.Tensor, ad.Dual)) for v in x)


def _as_params(params) -> np.ndarray:
    if hasattr(params, "to_numpy"):
        params = params.to_numpy()
    return np.asarray(params, dtype=float)


def _as_exog(exog, k: int, names: Sequence[str] | None = None):
    """exog for predict: a traced value passes through; data become a float 2-D array.

    A DataFrame holding every one of the model's exog ``names`` (or a Series, one row,
    whose index holds them) is read by name (in the model's order), so reordered or extra
    columns cannot silently misalign the coefficients; one holding only some of them is a
    DataError; others are read by position."""
    if isinstance(exog, ad.Tensor) or isinstance(exog, ad.Dual):
        return exog
    exog = frame_by_name(exog, names)
    if hasattr(exog, "to_numpy"):
        exog = exog.to_numpy(dtype=float)
    x = np.asarray(exog, dtype=float)
    if x.ndim == 1:
        x = x[None, :] if x.shape[0] == k else x[:, None]
    if x.shape[-1] != k:
        raise ValueError(f"exog for predict has {x.shape[-1]} columns; the model has {k}.")
    return x
