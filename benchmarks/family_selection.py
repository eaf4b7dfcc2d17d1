"""Heckman's selection model on the Mroz data: mleopt's full-ML fit with standard errors.

    PYTHONPATH=. python benchmarks/family_selection.py [--repeats 9] [--blas-threads 1]

statsmodels 0.15 has no Heckman model, so the baselines measured in the same run are:

- "scipy BFGS, numerical gradient": the same log-likelihood written with scipy.stats, in
  (athrho, lnsigma), ``scipy.optimize.minimize(method="BFGS")`` with finite-difference
  gradients from mleopt's start values (the two-step estimates), standard errors from the
  BFGS inverse-Hessian approximation: what a user without exact derivatives writes;
- "two-step (Heckit)": mleopt's own two-step estimator (a probit, then OLS), no SEs.

Each line times construction + fit + ``.bse`` (median of repeats, samples interleaved);
the estimates of the BFGS baseline are compared with mleopt's first.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np                                  # noqa: E402
import pandas as pd                                 # noqa: E402
from scipy.optimize import minimize                 # noqa: E402
from scipy.stats import norm                        # noqa: E402

from common import (Row, Table, apply_blas_threads, base_parser, finish,  # noqa: E402
                    median_times, print_environment)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MROZ = pd.read_csv(os.path.join(ROOT, "datasets", "mroz.csv"))
XCOLS = ["educ", "exper", "expersq"]
ZCOLS = ["educ", "exper", "expersq", "nwifeinc", "age", "kidslt6", "kidsge6"]


def main() -> int:
    args = base_parser(__doc__.splitlines()[0]).parse_args()
    apply_blas_threads(args)
    from mleopt import Heckman, add_constant
    print_environment("benchmarks/family_selection.py")
    repeats = args.repeats or (3 if args.quick else 9)
    X = add_constant(MROZ[XCOLS])
    Z = add_constant(MROZ[ZCOLS])
    y, s = MROZ["lwage"], MROZ["inlf"]
    xa, za = X.to_numpy(float), Z.to_numpy(float)
    ya, sa = y.fillna(0).to_numpy(), s.to_numpy() == 1

    def negll(t):
        b, g, a, ls = t[:4], t[4:12], t[12], t[13]
        rho = np.tanh(a)
        zg = za @ g
        r = (ya - xa @ b) / np.exp(ls)
        ll1 = norm.logcdf((zg + rho * r) / np.sqrt(1 - rho**2)) + norm.logpdf(r) - ls
        return -np.sum(np.where(sa, ll1, norm.logcdf(-zg)))

    def fit_mleopt():
        res = Heckman(y, X, Z, s).fit()
        return res.params.to_numpy(), res.bse.to_numpy()

    def fit_bfgs():
        start = Heckman(y, X, Z, s).start_params()
        t0 = np.concatenate([start[:12], [np.arctanh(start[12]), np.log(start[13])]])
        with np.errstate(all="ignore"):
            r = minimize(negll, t0, method="BFGS", options={"gtol": 1e-6, "maxiter": 5000})
        return r.x, np.sqrt(np.diag(r.hess_inv))

    def two_step():
        return Heckman(y, X, Z, s).two_step()

    p, _ = fit_mleopt()
    t, _ = fit_bfgs()
    theta = np.concatenate([p[:12], [np.arctanh(p[12]), np.log(p[13])]])
    print(f"max |mleopt - BFGS| over (b, g, athrho, lnsigma): {np.abs(theta - t).max():.2e}; "
          f"llf mleopt {-negll(theta):.10f}, BFGS {-negll(t):.10f}")
    times = median_times({"mleopt": fit_mleopt, "bfgs": fit_bfgs, "two": two_step},
                         repeats=repeats)
    table = Table("Heckman ML on Mroz (N = 753, 14 parameters): fit + bse")
    table.add(Row("mleopt Heckman fit", times["mleopt"].ms, times["bfgs"].ms,
                  baseline_name="scipy BFGS, numerical gradient"))
    table.add(Row("mleopt Heckman fit", times["mleopt"].ms, times["two"].ms,
                  baseline_name="two-step (Heckit)"))
    return finish([table], markdown=args.markdown)


if __name__ == "__main__":
    sys.exit(main())
