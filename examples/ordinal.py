"""ANES 1996: party identification as an ordered outcome and as unordered categories.

PID, the party identification of 944 voters (0 = strong Democrat ... 6 = strong
Republican), regressed on the log population of their town, their left-right
self-placement (selfLR), age, education and income: statsmodels' MNLogit example, and the
same regressors in an ordered logit.

* ``OrderedModel``: one latent ``x'beta`` and six increasing cut-points (named "0/1", ...,
  "5/6" as in statsmodels), optimised as the first cut and log increments so that they stay
  ordered, reported as cut-points with their standard errors. No constant in exog.
* ``MNLogit``: one coefficient vector per outcome against the base category PID = 0; the
  ``params`` is statsmodels' K x (J-1) table; the flat parameters (tests, the summary) are
  named "PID=j:x".
  Marginal effects: dP(PID = j)/dx for every outcome, delta-method standard errors.

Run: python examples/ordinal.py
"""
import numpy as np
import pandas as pd

from mleopt import MNLogit, OrderedModel, add_constant, datasets

df = datasets.load("anes96")
df["logpopul"] = np.log(df["popul"] + 0.1)
X = df[["logpopul", "selfLR", "age", "educ", "income"]]

ordered = OrderedModel(df["PID"], X, distr="logit").fit()
print(ordered.summary())
print("\nPredicted probabilities of each PID category, first three voters:\n")
print(ordered.predict().head(3).round(4).to_string())

mnl = MNLogit(df["PID"], add_constant(X)).fit()
print("\n")
print(mnl.summary())
print("\nThe coefficients as a K x (J-1) table (statsmodels' MNLogit params):\n")
with pd.option_context("display.float_format", "{:.4f}".format, "display.width", 120):
    print(mnl.params.to_string())
    margeff = mnl.get_margeff()
    print("\nAverage marginal effects of selfLR on P(PID = j), delta-method SEs:\n")
    frame = margeff.summary_frame()
    print(frame[frame.index.str.endswith(":selfLR")].to_string())
print(f"\nAIC: ordered logit {ordered.aic:.1f} ({ordered.k_params} parameters), "
      f"multinomial logit {mnl.aic:.1f} ({mnl.k_params} parameters)")
