"""Survival times with right censoring: accelerated-failure-time models on R's ovarian data.

26 patients of a randomised trial of two treatments (``rx``) for advanced ovarian cancer;
``futime`` is the time to death in days, observed when ``fustat`` is 1 and censored (the
patient was alive at the last follow-up) when it is 0. An AFT model says
``log T = x'beta + sigma W``: exp(beta_j) multiplies survival times (a time ratio).

The Weibull fit reproduces R's ``survreg(Surv(futime, fustat) ~ ecog.ps + rx, ovarian)``
(Log(scale) as survreg names it; scale and the Weibull shape 1/scale below it, with
delta-method standard errors), then compares the four distributions, and predicts median
survival and survival curves per treatment group.

Run: python examples/survival.py
"""
import numpy as np
import pandas as pd

from mleopt import AFT, add_constant, datasets

df = datasets.load("ovarian")
X = add_constant(df[["ecog.ps", "rx"]])
print(f"{len(df)} patients, {int(df['fustat'].sum())} deaths observed, "
      f"{int((df['fustat'] == 0).sum())} censored\n")

res = AFT(df["futime"], X, event=df["fustat"], dist="weibull").fit()
print(res.summary())

print("\nThe four distributions (R: survreg(..., dist=...)):\n")
rows = {}
for dist in ("weibull", "exponential", "lognormal", "loglogistic"):
    fit = AFT(df["futime"], X, event=df["fustat"], dist=dist).fit()
    rows[dist] = {"loglike": fit.llf, "AIC": fit.aic, "rx": fit.params["rx"],
                  "se(rx)": fit.bse["rx"], "scale": fit.scale}
with pd.option_context("display.float_format", "{:.4f}".format):
    print(pd.DataFrame(rows).T.to_string())

# treatment 2 against treatment 1: the time ratio exp(beta_rx), by the delta method
# (no z tests here: delta_method's test "= 0" is meaningless for a ratio or a median; "no
# treatment effect" is rx's z test in the summary)
SHOWN = ["coef", "std err", "[0.025", "0.975]"]
ratio = res.delta_method(lambda b: np.exp(b["rx"]), names=["time ratio rx 2 / rx 1"])
low, high = np.exp(res.conf_int().loc["rx"])     # R: exp(confint(fit)["rx", ]), > 0
print(f"\ntime ratio rx 2 / rx 1: {ratio.effect[0]:.4f} (delta-method SE "
      f"{ratio.sd.iloc[0]:.4f}); 95% interval exp(rx's): {low:.4f} to {high:.4f}")

# median survival for ECOG 1 patients in each arm, with delta-method standard errors
groups = pd.DataFrame({"const": 1.0, "ecog.ps": 1.0, "rx": [1.0, 2.0]},
                      index=["rx 1", "rx 2"])
x = groups.to_numpy()
median = res.delta_method(lambda b: res.model.predict(b.values, exog=x, which="median"),
                          names=["median days, rx 1", "median days, rx 2"])
print("\n" + median.summary_frame()[SHOWN].to_string(float_format="{:.2f}".format))

print("\nS(t | x): the probability of surviving beyond t days (ECOG 1):\n")
curves = res.predict(groups, which="survival", times=[180, 365, 730, 1095])
print(curves.to_string(float_format="{:.4f}".format))
