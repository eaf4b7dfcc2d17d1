"""Married women's wages with sample selection: Heckman's model on the Mroz (1987) data.

753 married women (PSID, 1975); the wage is observed only for the 428 who worked (inlf = 1).
OLS on the workers alone estimates E[log wage | x, working], which differs from the wage
offer E[log wage | x] if the unobservables that make a woman work also raise her wage. The
Heckman model adds a probit for working (with regressors that move participation but not
the wage offer: non-wife income, age, children) and the correlation rho between the two
errors. lambda = rho * sigma is the coefficient of the inverse Mills ratio: lambda = 0 means
no selection bias (Wooldridge, Introductory Econometrics, Example 17.5).

Run: python examples/heckman_mroz.py
"""
import pathlib

import pandas as pd

from mleopt import Heckman, add_constant

# mleopt.datasets.load("mroz") once installed; read from the source tree here
mroz = pd.read_csv(pathlib.Path(__file__).resolve().parents[1] / "datasets" / "mroz.csv")
X = add_constant(mroz[["educ", "exper", "expersq"]])
Z = add_constant(mroz[["educ", "exper", "expersq", "nwifeinc", "age", "kidslt6", "kidsge6"]])

# lwage is NaN for the women who did not work: not missing, just not observed
model = Heckman(mroz["lwage"], X, Z, selected=mroz["inlf"])
print("Two-step (Heckit) estimates, the start values:")
print(model.two_step().round(5).to_string(), "\n")

res = model.fit()
print(res.summary())

print("\nathrho, lnsigma and lambda = rho * sigma (delta method):")
print(res.ancillary.summary_frame().round(4))

workers = mroz["inlf"] == 1
pred = pd.DataFrame({"E[lwage|x]": res.predict(which="mean"),
                     "E[lwage|x,works]": res.predict(which="conditional"),
                     "Pr(works)": res.predict(which="prob_selected")})
print("\nMean predictions, workers and non-workers:")
print(pred.groupby(workers.map({True: "inlf=1", False: "inlf=0"})).mean().round(4))
