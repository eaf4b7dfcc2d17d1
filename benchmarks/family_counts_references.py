"""Reference values for tests/test_family_counts.py, computed once with statsmodels 0.15
(not a test dependency): ``python benchmarks/family_counts_references.py`` prints them.

randhie (bundled): y = mdvis, X = const + the 9 other columns.
"""
import warnings

import numpy as np
import statsmodels
import statsmodels.api as sm
from statsmodels.discrete.count_model import (ZeroInflatedNegativeBinomialP,
                                              ZeroInflatedPoisson)
from statsmodels.discrete.discrete_model import GeneralizedPoisson, NegativeBinomialP
from statsmodels.discrete.truncated_model import (HurdleCountModel,
                                                  TruncatedLFNegativeBinomialP,
                                                  TruncatedLFPoisson)

from statsmodels.tools.numdiff import approx_fprime

from mleopt import add_constant, datasets

df = datasets.load("randhie")
y = df["mdvis"]
X = add_constant(df.drop(columns="mdvis"))
ZI = X[["const", "physlm", "disea"]]


def fit(model, start=None, method="newton", maxiter=300):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kw = {"tol": 1e-12} if method == "newton" else {"gtol": 1e-10}
        return model.fit(start_params=start, method=method, maxiter=maxiter, disp=0, **kw)


def show(name, res, extra=""):
    """statsmodels' estimate polished by Newton steps with the Hessian taken by central
    differences of statsmodels' own analytic score (statsmodels' ZIP Hessian is off by ~1%,
    and its probit ZIP stops at |score| ~ 3e-4); bse from that Hessian."""
    model, p = res.model, np.asarray(res.params.values, dtype=float)
    g0 = np.max(np.abs(model.score(p)))
    for _ in range(4):
        h = approx_fprime(p, model.score, centered=True)
        p = p - np.linalg.solve(h, model.score(p))
    h = approx_fprime(p, model.score, centered=True)
    bse = np.sqrt(np.diag(np.linalg.inv(-h)))
    g = np.max(np.abs(model.score(p)))
    print(f"# {extra}max |score| {g0:.1e} at statsmodels' estimate, {g:.1e} after Newton; "
          f"statsmodels' own bse differ from the bse below by up to "
          f"{np.max(np.abs(res.bse.values / bse - 1)):.1e} (relative)")
    print(f"{name} = {{")
    print(f"    'param_names': {list(res.params.index)},")
    print(f"    'params': {list(map(float, p))},")
    print(f"    'bse': {list(map(float, bse))},")
    print(f"    'llf': {float(model.loglike(p))!r},")
    print("}")


if __name__ == "__main__":
    print(f"# statsmodels {statsmodels.__version__}")
    show("NB1", fit(NegativeBinomialP(y, X, p=1)), "NegativeBinomialP(y, X, p=1), newton; ")
    show("GP1", fit(GeneralizedPoisson(y, X, p=1)), "GeneralizedPoisson(y, X, p=1), newton; ")
    zip_ = fit(ZeroInflatedPoisson(y, X, exog_infl=ZI, inflation="logit"), method="bfgs",
               maxiter=5000)
    zip_ = fit(zip_.model, start=zip_.params.values)
    show("ZIP_LOGIT", zip_, "ZeroInflatedPoisson(y, X, exog_infl=ZI), bfgs then newton; ")
    zipp = fit(ZeroInflatedPoisson(y, X, exog_infl=ZI, inflation="probit"), method="bfgs",
               maxiter=5000)
    zipp = fit(zipp.model, start=zipp.params.values)
    show("ZIP_PROBIT", zipp, "ZeroInflatedPoisson(.., inflation='probit'), bfgs then newton; ")
    zinb = fit(ZeroInflatedNegativeBinomialP(y, X, exog_infl=ZI, p=2), method="bfgs",
               maxiter=5000)
    zinb = fit(zinb.model, start=zinb.params.values)
    show("ZINB", zinb, "ZeroInflatedNegativeBinomialP(y, X, exog_infl=ZI, p=2); ")
    print(f"# ZIP llnull {zip_.llnull!r}, ZINB llnull {zinb.llnull!r}")
    hp = fit(HurdleCountModel(y, X, dist="poisson", zerodist="poisson"))
    show("HURDLE_POISSON_SM", hp, "HurdleCountModel(y, X, dist='poisson', zerodist='poisson'); ")
    hn = fit(HurdleCountModel(y, X, dist="negbin", zerodist="poisson", p=2))
    show("HURDLE_NB_SM", hn, "HurdleCountModel(y, X, dist='negbin', zerodist='poisson'); ")
    pos = y > 0
    lg = fit(sm.Logit(pos.astype(float), X))
    show("HURDLE_LOGIT_ZERO", lg, "Logit(y > 0, X): the logit zero part; ")
    tp = fit(TruncatedLFPoisson(y[pos], X[pos]))
    show("TRUNC_POISSON", tp, "TruncatedLFPoisson(y[y > 0], X[y > 0]); ")
    tn = fit(TruncatedLFNegativeBinomialP(y[pos], X[pos], p=2))
    show("TRUNC_NB2", tn, "TruncatedLFNegativeBinomialP(y[y > 0], X[y > 0], p=2); ")
