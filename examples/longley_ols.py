"""Longley (1967): OLS against the NIST certified values.

The Longley data are the classic test of a least-squares program: 16 yearly observations of
US employment and six regressors so collinear that the design matrix (with a constant) has a
condition number of about 5e9, so a naive solver loses most of its digits. The NIST Statistical
Reference Datasets project publishes the result computed to 15 significant digits in
multiple-precision arithmetic (https://www.itl.nist.gov/div898/strd/lls/data/Longley.shtml).

mleopt fits OLS by maximum likelihood (QR start values, Newton steps with the exact AD
gradient and Hessian). The certified standard errors are the classical ones, s^2 (X'X)^-1 with
s^2 = SSR / (N - K), so the fit asks for ``cov_type="classical"``.

Run: python examples/longley_ols.py
"""
import math

import pandas as pd

from mleopt import OLS, add_constant, datasets

# NIST StRD, Longley, certified values (regression of TOTEMP on a constant and the six others).
NIST_PARAMS = {
    "const": -3482258.63459582, "GNPDEFL": 15.0618722713733, "GNP": -0.0358191792925910,
    "UNEMP": -2.02022980381683, "ARMED": -1.03322686717359, "POP": -0.0511041056535807,
    "YEAR": 1829.15146461355,
}
NIST_BSE = {
    "const": 890420.383607373, "GNPDEFL": 84.9149257747669, "GNP": 0.0334910077722432,
    "UNEMP": 0.488399681651699, "ARMED": 0.214274163161675, "POP": 0.226073200069370,
    "YEAR": 455.478499142212,
}
NIST_RESID_SD = 304.854073561965
NIST_RSQUARED = 0.995479004577296


def matching_digits(value: float, certified: float) -> float:
    """Significant digits in common: -log10 of the relative error (15 = all NIST gives)."""
    if value == certified:
        return 15.0
    return min(15.0, -math.log10(abs(value - certified) / abs(certified)))


df = datasets.load("longley")
y = df["TOTEMP"]
X = add_constant(df.drop(columns="TOTEMP"))

res = OLS(y, X).fit(cov_type="classical")
print(res.summary())

table = pd.DataFrame({
    "mleopt coef": res.params.drop("sigma"),
    "NIST coef": pd.Series(NIST_PARAMS),
    "digits": [matching_digits(res.params[n], v) for n, v in NIST_PARAMS.items()],
    "mleopt std err": res.bse.drop("sigma"),
    "NIST std err": pd.Series(NIST_BSE),
    "digits ": [matching_digits(res.bse[n], v) for n, v in NIST_BSE.items()],
})
resid_sd = math.sqrt(res.scale)
print("\nAgainst the NIST certified values (digits = matching significant digits, "
      "-log10 of the relative error):\n")
with pd.option_context("display.float_format", "{:.15g}".format, "display.width", 160):
    print(table.to_string(formatters={"digits": "{:.1f}".format, "digits ": "{:.1f}".format}))
print(f"\nresidual SD  {resid_sd:.15g}  NIST {NIST_RESID_SD:.15g}  "
      f"digits {matching_digits(resid_sd, NIST_RESID_SD):.1f}")
print(f"R-squared    {res.rsquared:.15g}  NIST {NIST_RSQUARED:.15g}  "
      f"digits {matching_digits(res.rsquared, NIST_RSQUARED):.1f}")
print(f"\nFewest matching digits: coefficients {table['digits'].min():.1f}, "
      f"standard errors {table['digits '].min():.1f}")
