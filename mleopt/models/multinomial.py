"""MNLogit: the multinomial logit, the first category as base (statsmodels' MNLogit).

For J categories 0, ..., J-1 (sorted labels, or a Categorical's order) and K regressors,
outcome j > 0 has its own coefficients ``beta_j`` and ``eta_ij = x_i'beta_j`` (``eta_i0 = 0``):

    P(y_i = j | x_i) = exp(eta_ij) / sum_m exp(eta_im),
    log L_i = eta_{i,y_i} - logsumexp(0, eta_i1, ..., eta_i,J-1).

The K (J-1) parameters are one flat vector, outcome by outcome (statsmodels'
``params.ravel(order="F")``), named ``"y=label:x"`` (e.g. ``"PID=1:const"``); the results'
``params`` show them as statsmodels' K x (J-1) table (``params_flat``: the flat Series).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import numpy as mnp
from .. import special
from ..exceptions import DataError
from .base import LikelihoodModel, _as_exog
from .categories import CategoricalOutcome, category_label

__all__ = ["MNLogit"]


class MNLogit(CategoricalOutcome, LikelihoodModel):
    """Multinomial logit: ``MNLogit(endog, exog)``; endog any labels (sorted; a pandas
    Categorical in its categories' order), the first category the base."""

    _strict_kwargs = True       # refuse keywords it does not use (weights=...)

    def __init__(self, endog: Any, exog: Any, missing: str = "raise",
                 separation: str = "raise", **weights: Any) -> None:
        self.separation = self._set_separation_mode(separation)
        if exog is None:
            raise DataError("MNLogit needs exog (the regressors; add_constant for an "
                            "intercept).")
        codes, labels = self._encode(endog, need_order=False)
        self.labels = labels
        super().__init__(codes, exog, missing=missing, **weights)
        y = self.endog.astype(int)
        counts = np.bincount(y, minlength=len(labels))
        if np.any(counts == 0) and not self.__dict__.get("_partition"):  # missing="drop"
            empty = [category_label(labels[j]) for j in np.flatnonzero(counts == 0)]
            raise DataError(f"MNLogit: endog {self.endog_name!r} has no observation in "
                            f"categor{'y' if len(empty) == 1 else 'ies'} {', '.join(empty)} "
                            "(after dropping missing rows); its coefficients have no MLE.")
        self._counts = counts
        self._chosen = (y[:, None] == np.arange(1, len(labels))).astype(float)

    def _init_from_data(self, param_names) -> None:
        super()._init_from_data(param_names)
        self._set_param_names([f"{name}:{x}" for name in self.outcome_names[1:]
                               for x in self.exog_names])

    @property
    def J(self) -> int:     # noqa: N802 (statsmodels' names)
        """statsmodels' name for the number of categories (``n_categories``)."""
        return self.n_categories

    @property
    def K(self) -> int:     # noqa: N802
        """statsmodels' name for the number of regressors (``k_exog``)."""
        return self.k_exog

    @property
    def df_model(self) -> float:
        """``(K - k_constant) (J - 1)``, as statsmodels."""
        return float((self.k_exog - self.k_constant) * (self.n_categories - 1))

    @property
    def df_resid(self) -> float:
        return float(self.wnobs - self.k_params)

    # --- the likelihood --------------------------------------------------------------------
    def _indices(self, params, x):
        """The N x (J-1) ``eta_ij = x_i'beta_j``: one matrix index ``X B``, B the K x (J-1)
        coefficients (params outcome by outcome)."""
        b = mnp.transpose(mnp.reshape(params, (self.n_categories - 1, self.k_exog)))
        return mnp.matmul(x, b)

    def loglikeobs(self, params):
        """``eta_{i,y_i} - log(1 + sum_j exp(eta_ij))``, outcome by outcome (the log-sum
        by ``logaddexp``, stable; every step row by row, so mleopt.ad finds the J-1 linear
        indices and chains the Hessian through X).

        (The same log-likelihood written with one matrix index ``X B`` and a row-wise
        ``logsumexp`` is found as well, but its per-row pass works on N x J arrays with a
        short last axis and measured slower here: benchmarks/family_ordinal.py.)"""
        params, k = self._params_by_name(params), self.k_exog
        chosen, lse = 0.0, 0.0
        for j in range(self.n_categories - 1):
            eta = mnp.matmul(self.exog, params[j * k:(j + 1) * k])
            chosen = chosen + self._chosen[:, j] * eta
            lse = mnp.logaddexp(lse, eta)
        return chosen - lse

    def _improving_rows(self) -> np.ndarray:
        """For each row i and each other outcome m: ``(beta_{y_i} - beta_m)'x_i`` must not
        fall (beta_0 = 0): +x_i in y_i's block, -x_i in m's."""
        k, j = self.k_exog, self.n_categories
        y = self.endog.astype(int)
        out = []
        for m in range(j):
            rows = np.flatnonzero(y != m)
            a = np.zeros((rows.size, k * (j - 1)))
            for c in range(1, j):
                mine = y[rows] == c
                a[mine, (c - 1) * k:c * k] = self.exog[rows[mine]]
            if m > 0:
                a[:, (m - 1) * k:m * k] -= self.exog[rows]
            out.append(a)
        return np.vstack(out)

    def start_params(self) -> np.ndarray:
        """With a constant: Newton's first step from the null model, in closed form (one
        least-squares solve, no Hessian). At the null model every row has the sample shares
        ``p``, the gradient is ``X'W(Y - p)`` and the Hessian ``-(X'WX) kron (diag p - p p')``
        (W the observation weights, or 1), so the step is the linear probability model
        ``b_j = (X'WX)^-1 X'W y_j`` mapped to log odds: ``beta_j = b_j / p_j - b_0 / p_0``,
        the constant's at ``log(p_j / p_0)``. Without a constant, or on large data
        (nobs * k_params >= _LARGE), the null model (each constant at ``log(n_j / n_0)``) or
        zeros."""
        k, c, j = self.k_exog, self.const_idx, self.n_categories
        start = np.zeros((j - 1, k))
        if c is None:
            return start.ravel()
        counts = self._weighted_counts()
        share = counts / counts.sum()
        logodds = np.log(share[1:] / share[0]) / self.exog[0, c]
        start[:, c] = logodds
        if self.nobs * self.k_params >= self._LARGE:
            return start.ravel()
        y = self.endog.astype(int)
        ys = np.zeros((self.nobs, j))
        ys[np.arange(self.nobs), y] = 1.0
        w = self._row_weights()
        xw = self.exog if w is None else self.exog * w[:, None]
        gram = self.__dict__.get("_gram") if w is None else None
        try:
            b = np.linalg.solve(gram if gram is not None else xw.T @ self.exog, xw.T @ ys)
        except np.linalg.LinAlgError:
            return start.ravel()
        step = (b[:, 1:] / share[1:] - b[:, :1] / share[0]).T
        step[:, c] += logodds
        return step.ravel() if np.all(np.isfinite(step)) else start.ravel()

    def _opt_scale(self, start: np.ndarray) -> np.ndarray:
        """Coefficients per unit of their regressor's root mean square (as IndexModel)."""
        return np.tile(self._exog_rms(), self.n_categories - 1)

    def null_model_llf(self) -> float:
        """The intercept-only model: ``sum_j n_j log(n_j / N)``."""
        n = self._weighted_counts()
        n = n[n > 0]
        return float(np.sum(n * np.log(n / n.sum())))

    def _params_by_name(self, params: Any, name: str = "params") -> Any:
        """As LikelihoodModel's, and a K x (J-1) DataFrame (``res.params``, statsmodels'
        layout) matched by regressor and outcome labels, read outcome by outcome."""
        if isinstance(params, pd.DataFrame):
            rows, cols = list(self.exog_names), self.outcome_names[1:]
            if sorted(map(str, params.index)) != sorted(rows) or \
                    sorted(map(str, params.columns)) != sorted(cols):
                raise DataError(f"MNLogit: {name} as a table needs rows {rows} and columns "
                                f"{cols}; got rows {list(params.index)} and columns "
                                f"{list(params.columns)}.")
            table = params.set_axis(list(map(str, params.index)), axis=0)
            table = table.set_axis(list(map(str, table.columns)), axis=1).loc[rows, cols]
            return table.to_numpy(dtype=float).T.ravel()
        return super()._params_by_name(params, name)

    # --- predictions ---------------------------------------------------------------------------
    def predict(self, params, exog=None, which: str = "prob"):
        """``which="prob"``: the N x J probabilities (base category first); ``"linear"``:
        the N x (J-1) ``x'beta_j``. Differentiable in params and exog."""
        if which not in ("prob", "linear"):
            raise ValueError(f"MNLogit.predict: which must be 'prob' or 'linear', not "
                             f"{which!r} (the categories have no mean).")
        params = self._params_by_name(params)
        x = self.exog if exog is None else _as_exog(exog, self.k_exog, self.exog_names)
        eta = self._indices(params, x)
        if which == "linear":
            return eta
        full = mnp.concatenate([np.zeros((eta.shape[0], 1)), eta], axis=1)
        return mnp.exp(full - special.logsumexp(full, axis=1, keepdims=True))

    def _probabilities_above(self, params: np.ndarray, tiny: float) -> bool:
        """As CategoricalOutcome's, screened first on the log-probabilities in plain numpy,
        laid out outcome by row (J x N: every reduction runs along long rows, where
        ``predict``'s N x J layout reduces rows of J): clearly above ``log(tiny)`` (by
        1e-6, far beyond the rounding of the two routes) settles it; near it, ``predict``
        decides, as before."""
        eta = np.reshape(params, (self.n_categories - 1, self.k_exog)) @ self.exog.T
        top = np.maximum(eta.max(axis=0), 0.0)
        with np.errstate(all="ignore"):
            lse = top + np.log(np.exp(-top) + np.exp(eta - top).sum(axis=0))
            smallest = float(np.min(np.minimum(eta.min(axis=0), 0.0) - lse))
        if tiny >= np.finfo(float).tiny and smallest > np.log(tiny) + 1e-6:
            return True     # (a subnormal tiny: predict's exp has lost its precision there)
        return super()._probabilities_above(params, tiny)

    @property
    def _results_class(self):
        from ..results_multinomial import MNLogitResults
        return MNLogitResults
