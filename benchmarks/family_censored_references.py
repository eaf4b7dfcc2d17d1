"""Brute-force reference values for tests/test_family_censored.py (run once; the numbers are
stored in the test).

Independent of mleopt: each log-likelihood written with numpy / scipy.stats, maximised on
the (beta, log sigma) scale by scipy's BFGS and Nelder-Mead from three starts, then polished
by Newton steps with central finite-difference gradients and Hessians (no analytic
derivative anywhere). Prints the estimates, the standard errors of (beta, sigma) from the
finite-difference Hessian on the natural scale, the log-likelihood, and the spread between
starts. Data: datasets/affairs.csv (AER::Affairs, 601 rows).

    python benchmarks/family_censored_references.py
"""
from __future__ import annotations

import pathlib
import sys

import numpy as np
import pandas as pd
from scipy import optimize, stats

ROOT = pathlib.Path(__file__).resolve().parents[1]
COLS = ["age", "yearsmarried", "religiousness", "occupation", "rating"]


def data():
    d = pd.read_csv(ROOT / "datasets" / "affairs.csv")
    x = np.column_stack([np.ones(len(d)), d[COLS].to_numpy(float)])
    return d, x, d["affairs"].to_numpy(float)


def ols_start(y, x):
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    return np.r_[beta, np.log(np.std(y - x @ beta))]


def tobit_ll(b, s, y, x, lo, hi):
    xb = x @ b
    lo = np.broadcast_to(lo, y.shape)
    hi = np.broadcast_to(hi, y.shape)
    return np.where(y <= lo, stats.norm.logcdf((lo - xb) / s),
                    np.where(y >= hi, stats.norm.logsf((hi - xb) / s),
                             stats.norm.logpdf((y - xb) / s) - np.log(s))).sum()


def trunc_ll(b, s, y, x, lo, hi):
    xb = x @ b
    a, b = (lo - xb) / s, (hi - xb) / s
    # P(a < e < b) on the side of the distribution where it does not cancel
    p = np.where(a > 0, stats.norm.sf(a) - stats.norm.sf(b), stats.norm.cdf(b) - stats.norm.cdf(a))
    with np.errstate(divide="ignore"):
        return (stats.norm.logpdf((y - xb) / s) - np.log(s) - np.log(p)).sum()


def fd_grad(f, t, h=1e-5):
    g = np.zeros_like(t)
    for j in range(t.size):
        e = np.zeros_like(t)
        e[j] = h * max(1.0, abs(t[j]))
        g[j] = (f(t + e) - f(t - e)) / (2 * e[j])
    return g


def fd_hess(f, t, h=1e-4):
    k = t.size
    hess = np.zeros((k, k))
    for j in range(k):
        e = np.zeros_like(t)
        e[j] = h * max(1.0, abs(t[j]))
        hess[:, j] = (fd_grad(f, t + e) - fd_grad(f, t - e)) / (2 * e[j])
    return (hess + hess.T) / 2


def brute(loglike, k, start):
    """MLE of loglike(beta, sigma) from three starts around ``start`` (least squares: beta
    and log sigma) scaled by 1, 0.7 and 1.4; (params natural, se natural, llf, spread)."""
    def nll(t):
        with np.errstate(all="ignore"):
            value = -loglike(t[:-1], np.exp(t[-1]))
        return value if np.isfinite(value) else 1e300     # outside the support
    starts = [np.r_[start[:-1] * f, start[-1] + np.log(f)] for f in (1.0, 0.7, 1.4)]
    found = []
    for s0 in starts:
        r = optimize.minimize(nll, s0, method="BFGS", options={"gtol": 1e-9, "maxiter": 5000})
        r = optimize.minimize(nll, r.x, method="Nelder-Mead",
                              options={"xatol": 1e-10, "fatol": 1e-13, "maxfev": 40000})
        t = r.x
        for _ in range(20):     # Newton with finite differences
            step = np.linalg.solve(fd_hess(nll, t), fd_grad(nll, t))
            t = t - step
            if np.max(np.abs(step)) < 1e-11:
                break
        found.append(t)
    found = np.array(found)
    t = found[0]
    natural = np.r_[t[:-1], np.exp(t[-1])]

    def nll_nat(p):
        return -loglike(p[:-1], p[-1])
    cov = np.linalg.inv(fd_hess(nll_nat, natural))
    return natural, np.sqrt(np.diag(cov)), -nll(t), float(np.ptp(found, axis=0).max())


def cases():
    d, x, y = data()
    k = x.shape[1]
    y4 = np.minimum(y, 4.0)
    right_rows = np.where(d["rating"] >= 4, 4.0, 7.0)
    right_rows = np.where(d["male"] == 1, np.inf, right_rows)
    y_rows = np.minimum(y, right_rows)
    left_rows = np.where(d["children"] == 1, 0.0, -np.inf)
    pos = y > 0
    return {
        "tobit_left0": (lambda b, s: tobit_ll(b, s, y, x, 0.0, np.inf), ols_start(y, x)),
        "tobit_left0_right4": (lambda b, s: tobit_ll(b, s, y4, x, 0.0, 4.0),
                               ols_start(y4, x)),
        "tobit_right4": (lambda b, s: tobit_ll(b, s, y4, x, -np.inf, 4.0), ols_start(y4, x)),
        "tobit_per_row": (lambda b, s: tobit_ll(b, s, y_rows, x, left_rows, right_rows),
                          ols_start(y_rows, x)),
        "truncated_left0": (lambda b, s: trunc_ll(b, s, y[pos], x[pos], 0.0, np.inf),
                            ols_start(y[pos], x[pos])),
        "truncated_engel_400_1000": (lambda b, s: trunc_ll(b, s, *engel_window()),
                                     ols_start(*engel_window()[:2])),
    }


def engel_window():
    """Engel's food expenditure on a constant and income / 1000, the rows with
    400 < foodexp < 1000 (a sample truncated on both sides)."""
    e = pd.read_csv(ROOT / "datasets" / "engel.csv")
    keep = (e["foodexp"] > 400) & (e["foodexp"] < 1000)
    x = np.column_stack([np.ones(keep.sum()), e.loc[keep, "income"].to_numpy(float) / 1000])
    return e.loc[keep, "foodexp"].to_numpy(float), x, 400.0, 1000.0


if __name__ == "__main__":
    np.set_printoptions(precision=12)
    only = sys.argv[1:]
    for name, (ll, start) in cases().items():
        if only and name not in only:
            continue
        params, se, llf, spread = brute(ll, start.size - 1, start)
        print(f"{name}:\n  params {params.tolist()}\n  bse {se.tolist()}\n  llf {llf!r}"
              f"  (spread between starts {spread:.1e})")
