"""Fair's affairs: a Tobit (censored normal) regression and its marginal effects.

601 readers of Psychology Today (1969) said how often they had had an extramarital affair in
the past year; 451 of them said never. The count is modelled as a latent propensity
y* = x'beta + sigma e, observed as 0 whenever y* <= 0: a Tobit model censored at 0 (R's
AER::tobit example, Kleiber and Zeileis 2008, p. 142, gives the same estimates).

The coefficients are effects on the latent y*; what the data show is E[y], the censored
mean. Its marginal effects split (McDonald and Moffitt 1980) into the change among those
with affairs (intensive) and the change in the probability of having any (extensive).

The survey's answers are themselves intervals: 7 stands for 4-10 affairs and 12 for "monthly
or more" (12 or more a year). IntervalRegression (Stata's intreg) uses them as such: 0 is
y* <= 0, 1-3 are exact, 7 is 4 <= y* <= 10, 12 is y* >= 12.

Run: python examples/censored.py
"""
import numpy as np
import pandas as pd

from mleopt import IntervalRegression, Tobit, TruncatedRegression, add_constant, datasets

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

print("\nThe answers as the intervals they code (IntervalRegression: 0 is <= 0, 7 is 4-10, 12 "
      "is >= 12):\n")
lower = y.map({0: np.nan, 1: 1, 2: 2, 3: 3, 7: 4, 12: 12})      # NaN: no lower bound
upper = y.map({0: 0, 1: 1, 2: 2, 3: 3, 7: 10, 12: np.nan})      # NaN: no upper bound
intreg = IntervalRegression(lower, upper, X).fit()
print(intreg.model.interval_counts)
print(intreg.summary_frame().round(4).to_string())
