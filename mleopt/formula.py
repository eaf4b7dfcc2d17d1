"""Formula shortcuts, as ``statsmodels.formula.api``: ``mleopt.formula.logit(formula, data)``
is ``Logit.from_formula(formula, data)`` (see ``LikelihoodModel.from_formula``).

>>> import mleopt.formula as mf
>>> res = mf.logit("vote ~ TVnews + PID + C(educ)", anes).fit()      # doctest: +SKIP

``ordered_model`` drops the Intercept (the cut-points take its place), as statsmodels'
OrderedModel does. Needs formulaic: ``pip install mleopt[formula]``.
"""
from __future__ import annotations

from .models import (AFT, OLS, GeneralizedPoisson, Heckman, HurdleNegativeBinomial,
                     HurdlePoisson, Logit, MNLogit, NegativeBinomial, OrderedModel, Poisson,
                     Probit, Tobit, TruncatedRegression, ZeroInflatedNegativeBinomial,
                     ZeroInflatedPoisson)

__all__ = ["ols", "logit", "probit", "poisson", "negativebinomial", "mnlogit",
           "ordered_model", "tobit", "truncated_regression", "generalized_poisson",
           "zeroinflated_poisson", "zeroinflated_negativebinomial", "hurdle_poisson",
           "hurdle_negativebinomial", "aft", "heckman"]

ols = OLS.from_formula
logit = Logit.from_formula
probit = Probit.from_formula
poisson = Poisson.from_formula
negativebinomial = NegativeBinomial.from_formula
mnlogit = MNLogit.from_formula
ordered_model = OrderedModel.from_formula
tobit = Tobit.from_formula
truncated_regression = TruncatedRegression.from_formula
generalized_poisson = GeneralizedPoisson.from_formula
zeroinflated_poisson = ZeroInflatedPoisson.from_formula
zeroinflated_negativebinomial = ZeroInflatedNegativeBinomial.from_formula
hurdle_poisson = HurdlePoisson.from_formula
hurdle_negativebinomial = HurdleNegativeBinomial.from_formula
aft = AFT.from_formula
heckman = Heckman.from_formula
