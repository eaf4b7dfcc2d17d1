"""The models: LikelihoodModel (generic), the built-in OLS, Logit, Probit, Poisson and
NegativeBinomial, and the families (ordered, multinomial, censored and truncated, count,
survival, selection), each little more than its log-likelihood."""
from .base import LikelihoodModel, fit_mle
from .censored import IntervalRegression, Tobit, TruncatedRegression
from .count import NegativeBinomial, Poisson
from .discrete import Logit, Probit
from .genpoisson import GeneralizedPoisson
from .hurdle import HurdleNegativeBinomial, HurdlePoisson
from .index import IndexModel
from .linear import OLS
from .multinomial import MNLogit
from .ordinal import OrderedModel
from .selection import Heckman
from .survival import AFT
from .zeroinflated import ZeroInflatedNegativeBinomial, ZeroInflatedPoisson

__all__ = ["LikelihoodModel", "IndexModel", "OLS", "Logit", "Probit", "Poisson",
           "NegativeBinomial", "fit_mle", "OrderedModel", "MNLogit", "Heckman", "AFT",
           "Tobit", "TruncatedRegression", "GeneralizedPoisson", "ZeroInflatedPoisson",
           "ZeroInflatedNegativeBinomial", "HurdlePoisson", "HurdleNegativeBinomial",
           "IntervalRegression"]
