"""The models: LikelihoodModel (generic) and the built-in OLS, Logit, Probit, Poisson and
NegativeBinomial, each little more than its log-likelihood."""
from .base import LikelihoodModel, fit_mle
from .count import NegativeBinomial, Poisson
from .discrete import Logit, Probit
from .index import IndexModel
from .linear import OLS
from .genpoisson import GeneralizedPoisson
from .hurdle import HurdleNegativeBinomial, HurdlePoisson
from .zeroinflated import ZeroInflatedNegativeBinomial, ZeroInflatedPoisson

__all__ = ["LikelihoodModel", "IndexModel", "OLS", "Logit", "Probit", "Poisson",
           "NegativeBinomial", "fit_mle", "GeneralizedPoisson", "ZeroInflatedPoisson",
           "ZeroInflatedNegativeBinomial", "HurdlePoisson", "HurdleNegativeBinomial"]
