"""RAND Health Insurance Experiment: Poisson vs negative binomial for doctor visits.

20,190 person-years; ``mdvis`` counts outpatient visits to a doctor. Its variance is far
above its mean, which a Poisson model (variance = mean) cannot describe. The NB2 negative
binomial adds one parameter, alpha: Var(y | x) = mu + alpha mu^2, and alpha = 0 gives back
the Poisson. The two models are nested, so a likelihood-ratio test compares them.

The boundary: alpha >= 0, and the null hypothesis alpha = 0 sits on the boundary of the
parameter space. There the LR statistic is not chi2(1) but a 50:50 mixture of a point mass at
zero and a chi2(1) (Self and Liang, 1987), so the correct p-value is half the usual chi2(1)
p-value (equivalently: compare with the chi2(1) critical value at 2 alpha, 2.71 at the 5% level).

Run: python examples/randhie_counts.py
"""
import pandas as pd
from scipy import stats

from mleopt import NegativeBinomial, Poisson, add_constant, datasets

df = datasets.load("randhie")
y = df["mdvis"]
X = add_constant(df.drop(columns="mdvis"))
print(f"mdvis: mean {y.mean():.3f}, variance {y.var():.3f} (Poisson would have them equal)\n")

res_p = Poisson(y, X).fit()
res_nb = NegativeBinomial(y, X).fit()
print(res_nb.summary())

print("\nPoisson and NB2 side by side:\n")
side = pd.DataFrame({
    "Poisson coef": res_p.params, "Poisson se": res_p.bse,
    "NB2 coef": res_nb.params, "NB2 se": res_nb.bse,
}).reindex(res_nb.params.index)  # alpha (NB2 only) last
with pd.option_context("display.float_format", "{:.5f}".format, "display.width", 120):
    print(side.to_string(na_rep=""))
print(f"\nlog-likelihood: Poisson {res_p.llf:.4f}, NB2 {res_nb.llf:.4f}; "
      f"AIC: Poisson {res_p.aic:.2f}, NB2 {res_nb.aic:.2f}")

lr = res_nb.lr_test(res_p)  # unrestricted.lr_test(restricted)
p_naive = float(stats.chi2.sf(lr.statistic, lr.df))
p_boundary = 0.5 * p_naive
print(f"\nLR test of alpha = 0 (Poisson) against alpha > 0 (NB2):")
print(f"  LR = 2 (llf_NB2 - llf_Poisson) = {lr.statistic:.4f} on {lr.df} df")
print(f"  chi2({lr.df}) p-value, as lr_test reports it: {lr.pvalue:.4g}")
print(f"  boundary-corrected p-value (half of it):  {p_boundary:.4g}")
print(f"  5% critical value with the boundary: chi2(1) at 10%, "
      f"{stats.chi2.isf(0.10, 1):.3f} (instead of {stats.chi2.isf(0.05, 1):.3f})")
print("alpha = 0 is on the boundary of the parameter space, so the usual chi2(1) p-value is "
      "halved\n(a 50:50 mixture of chi2(0) and chi2(1)). Here the statistic is so large that "
      "both are zero to\nmachine precision: the overdispersion is overwhelming, and the "
      "Poisson standard errors,\nwhich assume Var = mean, are too small.")
