"""Count families on the RAND Health Insurance Experiment: too many zeros, too much variance.

20,190 person-years; ``mdvis`` counts outpatient visits to a doctor, 0 in about 31% of the
rows. A Poisson model predicts far fewer zeros and far less variance. Six alternatives,
each one log-likelihood in mleopt (every derivative from mleopt.ad):

* NegativeBinomial, NB2 (Var = mu + alpha mu^2) and NB1 (``loglike_method="nb1"``,
  Var = mu (1 + alpha));
* GeneralizedPoisson (GP-1, Var = mu (1 + alpha)^2);
* ZeroInflatedPoisson / ZeroInflatedNegativeBinomial: a logit inflation part makes extra
  zeros (here on physlm and disea), the count part the rest;
* HurdleNegativeBinomial: a logit for zero vs positive, a zero-truncated NB2 for the positives.

Run: python examples/counts.py
"""
import numpy as np
import pandas as pd
from scipy.stats import nbinom, poisson

from mleopt import (GeneralizedPoisson, HurdleNegativeBinomial, NegativeBinomial, Poisson,
                    ZeroInflatedNegativeBinomial, ZeroInflatedPoisson, add_constant, datasets)

df = datasets.load("randhie")
y = df["mdvis"]
X = add_constant(df.drop(columns="mdvis"))
Z = X[["const", "physlm", "disea"]]

fits = {
    "Poisson": Poisson(y, X).fit(),
    "NB2": NegativeBinomial(y, X).fit(),
    "NB1": NegativeBinomial(y, X, loglike_method="nb1").fit(),
    "GP-1": GeneralizedPoisson(y, X).fit(),
    "ZIP": ZeroInflatedPoisson(y, X, exog_infl=Z).fit(),
    "ZINB": ZeroInflatedNegativeBinomial(y, X, exog_infl=Z).fit(),
    "Hurdle NB": HurdleNegativeBinomial(y, X).fit(),
}
print(fits["ZINB"].summary())
print()
print(fits["Hurdle NB"].summary())

observed = np.bincount(y.astype(int))[:4] / len(y)
rows = []
for name, res in fits.items():
    if name in ("Poisson", "NB2", "NB1"):      # P(k) of the plain models from scipy.stats
        mu, a = res.predict(), res.params.get("alpha")
        dist = {"Poisson": lambda: poisson(mu), "NB2": lambda: nbinom(1 / a, 1 / (1 + a * mu)),
                "NB1": lambda: nbinom(mu / a, 1 / (1 + a))}[name]()
        probs = np.column_stack([dist.pmf(k) for k in range(4)])
    else:
        probs = res.predict(which="prob", y_values=range(4))
    rows.append({"model": name, "params": len(res.params), "llf": res.llf, "AIC": res.aic,
                 **{f"P({k})": probs[:, k].mean() for k in range(4)}})
table = pd.DataFrame(rows).set_index("model")
table.loc["observed"] = [np.nan, np.nan, np.nan, *observed]
print("\nLog-likelihood, AIC and the mean predicted share of 0, 1, 2, 3 visits:\n")
with pd.option_context("display.float_format", "{:.4f}".format, "display.width", 120):
    print(table.to_string(na_rep=""))
best = table["AIC"].idxmin()
print(f"\nLowest AIC: {best}. The Poisson predicts {table.loc['Poisson', 'P(0)']:.1%} zeros "
      f"against {observed[0]:.1%} observed; every overdispersed family comes close.")
