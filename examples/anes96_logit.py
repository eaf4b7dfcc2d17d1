"""ANES 1996: a Logit of the vote, with average marginal effects.

944 voters of the 1996 American National Election Study; ``vote`` is 1 for Dole and 0 for
Clinton. The Logit of the vote on TV-news watching, party identification (PID, 0 = strong
Democrat ... 6 = strong Republican), age, education and income is the statsmodels example,
so its figures can be compared line by line.

A Logit coefficient is a change in log-odds; the average marginal effect (AME) is the change
in the probability of a Dole vote per unit of the regressor, averaged over the sample.
``get_margeff()`` computes each voter's dP/dx with mleopt.ad and its standard error by the
delta method with the exact Jacobian.

Run: python examples/anes96_logit.py
"""
import pandas as pd

from mleopt import Logit, add_constant, datasets

df = datasets.load("anes96")
y = df["vote"]
X = add_constant(df[["TVnews", "PID", "age", "educ", "income"]])

res = Logit(y, X).fit()
print(res.summary())

margeff = res.get_margeff()  # at="overall": the average marginal effect
print("\nAverage marginal effects on P(vote = Dole), delta-method standard errors:\n")
with pd.option_context("display.float_format", "{:.6f}".format, "display.width", 120):
    print(margeff.summary_frame().to_string())

pid = margeff.margeff["PID"]
print(f"\nOne step towards the Republican end of the party-identification scale raises the "
      f"probability\nof a Dole vote by {pid:.4f} on average ({100 * pid:.1f} percentage "
      f"points); the other regressors'\neffects are not distinguishable from zero at the "
      f"5% level.")
