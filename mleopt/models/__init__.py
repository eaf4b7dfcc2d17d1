"""The models: LikelihoodModel (generic) and the built-in OLS, Logit, Probit, Poisson and
NegativeBinomial, each little more than its log-likelihood."""
from .base import LikelihoodModel, fit_mle
from .censored import Tobit, TruncatedRegression
from .count import NegativeBinomial, Poisson
from .discrete import Logit, Probit
from .index import IndexModel
from .linear import OLS

__all__ = ["LikelihoodModel", "IndexModel", "OLS", "Logit", "Probit", "Poisson",
           "NegativeBinomial", "fit_mle"]
__all__ += ["Tobit", "TruncatedRegression"]
