"""Grunfeld: OLS with standard errors clustered by firm.

Investment of 11 US firms over 20 years (1935-1954), regressed on the firm's market value and
capital stock. Twenty observations of the same firm are not independent draws: a firm that
invests more than predicted one year tends to do so the next. The classical standard errors
ignore this; the cluster-robust (sandwich) ones allow any correlation within a firm and
heteroskedasticity across firms. mleopt builds the sandwich from the exact AD Hessian and the
per-observation AD scores summed by firm, with statsmodels' default small-sample factor
G / (G - 1) * (N - 1) / (N - K), and normal p-values as statsmodels reports them.

With only G = 11 clusters, the asymptotics are thin; a t(G - 1) reference distribution is
the usual cautious choice (``cov_kwds={"groups": ..., "use_t": True}``), shown at the end.

Run: python examples/grunfeld_cluster.py
"""
import pandas as pd

from mleopt import OLS, add_constant, datasets

df = datasets.load("grunfeld")
y = df["invest"]
X = add_constant(df[["value", "capital"]])

model = OLS(y, X)
res = model.fit(cov_type="cluster", cov_kwds={"groups": df["firm"]})
print(res.summary())

res_classical = model.fit(cov_type="classical")
res_hc1 = model.fit(cov_type="HC1")
res_t = model.fit(cov_type="cluster", cov_kwds={"groups": df["firm"], "use_t": True})

coefs = ["const", "value", "capital"]
print(f"\nStandard errors of the coefficients ({df['firm'].nunique()} firms, {len(df)} rows):\n")
table = pd.DataFrame({
    "coef": res.params[coefs],
    "classical": res_classical.bse[coefs],
    "HC1": res_hc1.bse[coefs],
    "cluster (firm)": res.bse[coefs],
    "cluster / classical": res.bse[coefs] / res_classical.bse[coefs],
})
with pd.option_context("display.float_format", "{:.6g}".format, "display.width", 120):
    print(table.to_string())
print(f"\nClustering by firm multiplies the standard error of 'capital' by "
      f"{table.loc['capital', 'cluster / classical']:.2f}.")
print("\np-values with cluster SEs, normal vs t(G - 1 = 10):\n")
with pd.option_context("display.float_format", "{:.4g}".format):
    print(pd.DataFrame({"normal": res.pvalues[coefs],
                        "t(10)": res_t.pvalues[coefs]}).to_string())
