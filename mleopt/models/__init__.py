"""The models: LikelihoodModel (generic), the built-in OLS, Logit, Probit, Poisson and
NegativeBinomial, and the families (ordered, multinomial, censored and truncated, survival,
selection), each little more than its log-likelihood."""
from .base import LikelihoodModel, fit_mle
from .censored import Tobit, TruncatedRegression
from .count import NegativeBinomial, Poisson
from .discrete import Logit, Probit
from .index import IndexModel
from .linear import OLS
from .multinomial import MNLogit
from .ordinal import OrderedModel
from .selection import Heckman
from .survival import AFT

__all__ = ["LikelihoodModel", "IndexModel", "OLS", "Logit", "Probit", "Poisson",
           "NegativeBinomial", "fit_mle", "OrderedModel", "MNLogit", "Heckman", "AFT",
           "Tobit", "TruncatedRegression"]
