"""Interval regression: mleopt's fit (with standard errors) against statsmodels.

statsmodels 0.15 has no interval regression, so the baseline is what a statsmodels user writes
today: the same log-likelihood in a ``GenericLikelihoodModel`` (scipy.stats; exact rows
``logpdf``, left-censored ``logcdf``, right-censored ``logsf``, intervals ``log(cdf(b) -
cdf(a))``; (beta, log sigma) as parameters), fitted by BFGS with numerical gradients,
standard errors included (``bse``), from the start values mleopt uses by default. The two
estimates are compared (1e-3 relative); a statsmodels fit that does not reach the MLE is
noted.

Data: Fair's affairs as the intervals the survey codes (601 rows, K = 7: 0 is <= 0, 7 is
4-10, 12 is >= 12), and a simulated interval-censored sample with N = 100,000 and K = 11
(a quarter each exact, left-, right-censored and in unit intervals). Figures: medians of
repeats, interleaved (benchmarks/common.py).

    PYTHONPATH=. python benchmarks/family_interval.py [--quick] [--markdown]
"""
from __future__ import annotations

import pathlib
import sys
import warnings

import numpy as np
import pandas as pd

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from common import (Table, base_parser, compare_log_sigma_fits, finish,  # noqa: E402
                    optional_import, print_environment)

from mleopt import IntervalRegression, add_constant  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def statsmodels_model(sm):
    from scipy import stats
    from statsmodels.base.model import GenericLikelihoodModel

    class SMIntervalRegression(GenericLikelihoodModel):
        def __init__(self, lower, upper, exog, **kw):
            finite = np.isfinite(lower) & np.isfinite(upper)
            rep = np.where(finite, 0.5 * (lower + upper), np.where(np.isfinite(lower),
                                                                   lower, upper))
            super().__init__(rep, exog, **kw)
            self.lower, self.upper = lower, upper

        def loglikeobs(self, params):
            b, s = params[:-1], np.exp(params[-1])
            xb = self.exog @ b
            lo, hi = (self.lower - xb) / s, (self.upper - xb) / s
            with np.errstate(all="ignore"):
                interval = np.log(stats.norm.cdf(hi) - stats.norm.cdf(lo))
                return np.where(self.lower == self.upper, stats.norm.logpdf(lo) - np.log(s),
                                np.where(~np.isfinite(self.lower), stats.norm.logcdf(hi),
                                         np.where(~np.isfinite(self.upper),
                                                  stats.norm.logsf(lo), interval)))

    return SMIntervalRegression


def simulated(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = add_constant(rng.normal(size=(n, 10)))
    ystar = x @ np.linspace(-0.5, 0.5, 11) + rng.normal(size=n)
    kind = rng.integers(0, 4, size=n)
    lower, upper = np.floor(ystar), np.floor(ystar) + 1.0
    lower[kind == 0] = upper[kind == 0] = ystar[kind == 0]
    lower[kind == 1] = -np.inf
    upper[kind == 2] = np.inf
    return lower, upper, x


def main() -> int:
    warnings.filterwarnings("ignore", module="statsmodels")     # its convergence chatter
    p = base_parser(__doc__.splitlines()[0])
    args = p.parse_args()
    repeats = args.repeats or (3 if args.quick else 7)
    sm = optional_import("statsmodels.api")
    print_environment("Interval regression vs statsmodels GenericLikelihoodModel",
                      [("statsmodels", sm)])
    if sm is None:
        return finish([])
    cls = statsmodels_model(sm)
    d = pd.read_csv(ROOT / "datasets" / "affairs.csv")
    x = add_constant(d[["age", "yearsmarried", "religiousness", "occupation", "rating"]])
    lo = d["affairs"].map({0: -np.inf, 1: 1, 2: 2, 3: 3, 7: 4, 12: 12}).to_numpy(float)
    hi = d["affairs"].map({0: 0, 1: 1, 2: 2, 3: 3, 7: 10, 12: np.inf}).to_numpy(float)
    n = 20_000 if args.quick else 100_000
    slo, shi, sx = simulated(n)
    cases = {
        "IntervalRegression, affairs (N=601, K=7)": (lo, hi, x.to_numpy(float)),
        f"IntervalRegression, simulated (N={n:,}, K=11)": (slo, shi, sx),
    }
    table = Table("fit with standard errors: mleopt vs statsmodels GenericLikelihoodModel "
                  "(BFGS, numerical gradients)")
    for what, (ll, hh, xx) in cases.items():
        compare_log_sigma_fits(
            table, what, lambda ll=ll, hh=hh, xx=xx: IntervalRegression(ll, hh, xx).fit(),
            lambda ll=ll, hh=hh, xx=xx: cls(ll, hh, xx, extra_params_names=["log_sigma"]),
            repeats)
    return finish([table], markdown=args.markdown)


if __name__ == "__main__":
    raise SystemExit(main())
