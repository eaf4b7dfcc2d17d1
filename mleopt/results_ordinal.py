"""Results of categorical-outcome models: predicted probabilities by category.

``CategoricalResultsMixin`` (OrderedModel, MNLogit): ``predict()`` gives a DataFrame of
probabilities with one column per category (labels from the model), ``fittedvalues`` the
same at the estimation sample; ``get_margeff()`` the marginal effects on the probability
of every category; ``resid`` is not defined for categories.
``OrderedResults``: the results of OrderedModel (cut-points under ``"a/b"`` names).
"""
from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from . import inference as _inf
from . import numpy as mnp
from .ad import grad, jacobian
from .data import frame_by_name
from .design import design_frame
from .results import LikelihoodResults

__all__ = ["CategoricalResultsMixin", "OrderedResults"]


def _prob_effects_and_jacobian(model, x: np.ndarray, keep: np.ndarray, theta, w=None):
    """``dP(y = j)/dx_k`` averaged over the rows of ``x`` (weighted by ``w``, summing to 1),
    outcome by outcome (the columns ``keep``), and its exact Jacobian in theta."""
    def effects(th):
        parts = []
        for j in range(model.n_categories):
            def prob_j(xx, j=j):
                return mnp.sum(model.predict(th, exog=xx, which="prob")[:, j])
            parts.append(_inf.sample_mean(grad(prob_j)(x), w)[keep])
        return mnp.concatenate(parts)

    return (np.asarray(effects(theta), dtype=float),
            np.asarray(jacobian(effects, mode="fwd")(theta), dtype=float))


def _block_prob_effects(block, theta, keep, overall: bool):
    """One row block's share: ``(rows, mean effects, Jacobian)`` (``overall``) or
    ``(rows, column sums of X, None)`` (the effects at the mean of X); rows counted with
    their observation weights."""
    x = np.asarray(block.exog, dtype=float)
    w = block._row_weights()
    n = x.shape[0] if w is None else float(w.sum())
    if not overall:
        return n, (x.sum(axis=0) if w is None else w @ x), None
    return (n,) + _prob_effects_and_jacobian(block, x, keep, theta,
                                              None if w is None else w / n)


class CategoricalResultsMixin:
    """Predictions of a model whose ``predict(params, exog, which)`` gives an N x J matrix
    of category probabilities for ``which="prob"``."""

    def _prob_columns(self, which: str, width: int) -> list:
        labels = list(self.model.labels)
        return labels if which == "prob" and width == len(labels) else list(range(width))

    def predict(self, exog=None, which: str = "prob"):
        """Probabilities of the categories (``which="prob"``, a DataFrame with a column per
        category label; rows labelled as a DataFrame ``exog``'s or, with ``exog=None``, as
        the data's), or the model's other predictions (``which="linear"``, ...)."""
        x = frame_by_name(design_frame(self.model, exog), self.model.exog_names)
        index = x.index if isinstance(x, pd.DataFrame) else None
        if isinstance(x, pd.DataFrame):
            x = x.to_numpy(dtype=float)
        out = np.asarray(self.model.predict(self._params, exog=x, which=which), dtype=float)
        if index is None and exog is None:
            index = getattr(self.model.data, "row_labels", None)
        if out.ndim == 2:
            return pd.DataFrame(out, index=index, columns=self._prob_columns(which, out.shape[1]))
        return out if index is None else pd.Series(out, index=index, name=which)

    def get_margeff(self, at: str = "overall", method: str = "dydx",
                    alpha: float = 0.05, atexog: dict | None = None
                    ) -> "_inf.MarginalEffects":
        """Marginal effects of each regressor (the constant excluded) on the probability of
        every outcome (MNLogit: the base included): ``dP(y = j)/dx_k``, averaged over the
        sample (``at="overall"``) or at the regressors' ``"mean"``, ``"median"`` or
        ``"zero"`` (the constant 1), with ``atexog={column: value}`` set after ``at`` (as
        ``results.get_margeff``); names ``"y=label:x"``, outcome by outcome (statsmodels'
        ``margeff.ravel(order="F")``). Standard errors by the delta method with the exact
        AD Jacobian."""
        if method != "dydx":
            raise ValueError(f"{type(self.model).__name__}.get_margeff offers method='dydx' "
                             f"only, not {method!r}.")
        model = self.model
        keep = np.array([j for j in range(model.k_exog) if j != model.const_idx], dtype=int)
        theta = self._params
        if _inf._blocked(model):        # row blocks or Dask partitions: K-sized sums only
            if at not in ("overall", "mean") or atexog:
                raise ValueError("on row blocks or Dask partitions get_margeff offers "
                                 "at='overall' or 'mean' without atexog (the others need "
                                 "every row in memory).")
            parts = model._block_map("_block_apply", _block_prob_effects, theta, keep,
                                     at == "overall")
            n = sum(nb for nb, _, _ in parts)
            if at == "mean":
                x = (sum(v for _, v, _ in parts) / n)[None, :]
                value, jac = _prob_effects_and_jacobian(model, x, keep, theta)
            else:
                value = sum(nb * v for nb, v, _ in parts) / n
                jac = sum(nb * j for nb, _, j in parts) / n
        else:
            x = _inf.at_rows(model, at, atexog)
            w = _inf.sample_weights(model) if at == "overall" else None
            value, jac = _prob_effects_and_jacobian(model, x, keep, theta, w)
        names = [f"{outcome}:{model.exog_names[k]}" for outcome in model.outcome_names
                 for k in keep]
        return _inf.MarginalEffects(value, _inf._jvj(jac, self._cov), names, df_t=None,
                                    jacobian_=jac, alpha=alpha, method=method, at=at,
                                    results=self)

    @cached_property
    def fittedvalues(self) -> pd.DataFrame:
        """The predicted probabilities of the categories at the estimation sample."""
        return self.predict()

    @property
    def resid(self):
        return self._residual("response")

    def _residual(self, kind: str):
        """(resid, resid_response, resid_pearson, resid_deviance, resid_anscombe)"""
        raise AttributeError(f"{type(self.model).__name__} has no residuals ({kind}): the "
                             "outcome is a category; compare fittedvalues (probabilities) "
                             "with the observed categories instead.")


class OrderedResults(CategoricalResultsMixin, LikelihoodResults):
    """Results of OrderedModel: slopes, then the cut-points ``"a/b"`` (natural scale, with
    standard errors from the Hessian in these parameters)."""

    @property
    def cutpoints(self) -> pd.Series:
        """The estimated cut-points ``c_0 < ... < c_{J-2}``."""
        return self.params.iloc[self.model.k_exog:]
