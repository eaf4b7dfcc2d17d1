"""Fair's affairs: a Tobit (censored normal) regression and its marginal effects.

601 readers of Psychology Today (1969) said how often they had had an extramarital affair in
the past year; 451 of them said never. The count is modelled as a latent propensity
y* = x'beta + sigma e, observed as 0 whenever y* <= 0: a Tobit model censored at 0 (R's
AER::tobit example, Kleiber and Zeileis 2008, p. 142, gives the same estimates).

The coefficients are effects on the latent y*; what the data show is E[y], the censored
mean. Its marginal effects split (McDonald and Moffitt 1980) into the change among those
with affairs (intensive) and the change in the probability of having any (extensive).

Run: python examples/censored.py
"""
import numpy as np
import pandas as pd

from mleopt import Tobit, TruncatedRegression, add_constant, datasets

df = datasets.load("affairs")
y = df["affairs"]
X = add_constant(df[["age", "yearsmarried", "religiousness", "occupation", "rating"]])

res = Tobit(y, X, left=0).fit()
print(res.summary())
print(f"\nlog(sigma) = {np.log(res.params['sigma']):.4f} "
      f"(SE {res.bse['sigma'] / res.params['sigma']:.4f}; AER: Log(scale) 2.1099 (0.0671))")

print("\nAverage marginal effects, delta-method standard errors:\n")
table = pd.DataFrame({
    "latent E[y*]": res.get_margeff(which="latent").margeff,
    "E[y]": res.get_margeff(which="mean").margeff,
    "P(y > 0)": res.get_margeff(which="prob").margeff,
    "E[y | y > 0]": res.get_margeff(which="conditional").margeff,
})
print(table.round(4).to_string())

print("\nMcDonald-Moffitt decomposition of dE[y]/dx (average over the sample):\n")
print(res.mcdonald_moffitt().summary_frame().round(4).to_string())

print("\nCensored at 0 and at 4 (answers above 4 recorded as 4, as AER::tobit(right = 4)):\n")
both = Tobit(y.clip(upper=4), X, left=0, right=4).fit()
print(both.summary_frame().round(4).to_string())

print("\nOnly those with affairs, as a sample truncated at 0 (TruncatedRegression):\n")
pos = y > 0
trunc = TruncatedRegression(y[pos], X[pos], left=0).fit()
print(trunc.summary_frame().round(4).to_string())
