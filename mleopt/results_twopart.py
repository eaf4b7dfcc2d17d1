"""Results of the zero-inflated and hurdle count models (mleopt.models.zeroinflated, hurdle).

``get_margeff(which=...)``: marginal effects on a prediction of the model (default
``"mean"``, the overall mean E[y]) with delta-method standard errors (exact AD Jacobians).
A variable in both the count part and the zero part has one effect, the total through both
(statsmodels' and Stata's margins convention).
"""
from __future__ import annotations

from . import inference as _inf
from .results import LikelihoodResults

__all__ = ["TwoPartCountResults", "WhichMargins"]


class WhichMargins:
    """``get_margeff(which=...)`` for a model whose ``predict`` takes ``which``; the
    results class names the predictions allowed in ``_margins_which`` (the first is the
    default)."""

    _margins_which: tuple[str, ...] = ("mean",)

    def get_margeff(self, at: str = "overall", method: str = "dydx", alpha: float = 0.05,
                    dummy: bool = False, count: bool = False,
                    which: str | None = None, atexog: dict | None = None
                    ) -> "_inf.MarginalEffects":
        """Average (``at="overall"``) marginal effects on the prediction ``which`` (see
        ``_margins_which``; the model's ``predict``), or at the variables' ``"mean"``,
        ``"median"`` or ``"zero"``, with delta-method standard errors; ``method``,
        ``dummy``, ``count``, ``atexog`` as for Poisson's ``get_margeff``."""
        which = self._margins_which[0] if which is None else which
        if which not in self._margins_which:
            raise ValueError(f"which must be one of "
                             f"{', '.join(map(repr, self._margins_which))}; got {which!r}.")
        out = _inf.margeff(self, at=at, method=method, alpha=alpha, dummy=dummy,
                           count=count, which=which, atexog=atexog)
        out.which = which
        return out


class TwoPartCountResults(WhichMargins, LikelihoodResults):
    """Results of a zero-inflated or hurdle count model: marginal effects on E[y]
    (``which="mean"``), the count part's mean (``"mean-main"``), P(y = 0)
    (``"prob-zero"``) and the zero part's probability (``"prob-main"``: the inflation
    probability, or P(y > 0) for a hurdle model)."""

    _margins_which = ("mean", "mean-main", "prob-zero", "prob-main")
