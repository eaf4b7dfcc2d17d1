"""User-written models shared by the tests of row blocks and Dask."""
import mleopt.numpy as mnp
from mleopt import LikelihoodModel
from mleopt.stats import norm


class Tobit(LikelihoodModel):
    """A user model with an extra per-row array (``weight``) given at construction."""

    extra_param_names = ["log_sigma"]

    def loglikeobs(self, params):
        beta, lns = params[:-1], params[-1]
        s = mnp.exp(lns)
        xb = self.exog @ beta
        ll = mnp.where(self.endog <= 0, norm.logcdf(-xb / s), norm.logpdf(self.endog, xb, s))
        return self.weight * ll
