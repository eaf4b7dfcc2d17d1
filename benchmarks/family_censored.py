"""Tobit and truncated regression: mleopt's fit (with standard errors) against statsmodels.

statsmodels 0.15 has no Tobit or truncated regression (its Tobit pull request has been open
since 2012), so the baseline is what a statsmodels user writes today: the same
log-likelihood in a ``GenericLikelihoodModel`` (``loglikeobs`` with scipy.stats, (beta,
log sigma) as parameters), fitted by BFGS with numerical gradients (its Newton method with
numerical Hessians reaches NaN from these start values on the Tobit fits), standard errors
included (``bse``), from the start values mleopt uses by default (least squares on the
uncensored rows). The two estimates are compared (1e-3 relative: BFGS on numerical
gradients stops a few 1e-4 short); a statsmodels fit that does not reach the MLE is noted.

Data: Fair's affairs (601 rows, K = 7; AER::tobit's example), and a simulated Tobit with
N = 100,000 and K = 11 for a larger problem. Figures: medians of repeats, interleaved
(benchmarks/common.py).

    PYTHONPATH=. python benchmarks/family_censored.py [--quick] [--markdown]
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

from mleopt import Tobit, TruncatedRegression, add_constant  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def statsmodels_models(sm):
    from scipy import stats
    from statsmodels.base.model import GenericLikelihoodModel

    class SMTobit(GenericLikelihoodModel):
        def __init__(self, endog, exog, left=0.0, right=np.inf, **kw):
            super().__init__(endog, exog, **kw)
            self.left, self.right = left, right

        def loglikeobs(self, params):
            b, s = params[:-1], np.exp(params[-1])
            xb = self.exog @ b
            y = self.endog
            return np.where(y <= self.left, stats.norm.logcdf((self.left - xb) / s),
                            np.where(y >= self.right, stats.norm.logsf((self.right - xb) / s),
                                     stats.norm.logpdf((y - xb) / s) - np.log(s)))

    class SMTruncated(GenericLikelihoodModel):
        def __init__(self, endog, exog, left=0.0, **kw):
            super().__init__(endog, exog, **kw)
            self.left = left

        def loglikeobs(self, params):
            b, s = params[:-1], np.exp(params[-1])
            xb = self.exog @ b
            return (stats.norm.logpdf((self.endog - xb) / s) - np.log(s)
                    - stats.norm.logsf((self.left - xb) / s))

    return SMTobit, SMTruncated


def main() -> int:
    warnings.filterwarnings("ignore", module="statsmodels")     # its convergence chatter
    p = base_parser(__doc__.splitlines()[0])
    args = p.parse_args()
    repeats = args.repeats or (3 if args.quick else 7)
    sm = optional_import("statsmodels.api")
    print_environment("Tobit / truncated regression vs statsmodels GenericLikelihoodModel",
                      [("statsmodels", sm)])
    if sm is None:
        return finish([])
    SMTobit, SMTruncated = statsmodels_models(sm)
    d = pd.read_csv(ROOT / "datasets" / "affairs.csv")
    x = add_constant(d[["age", "yearsmarried", "religiousness", "occupation", "rating"]])
    y = d["affairs"]
    pos = y > 0
    rng = np.random.default_rng(0)
    n = 20_000 if args.quick else 100_000
    xs = add_constant(rng.normal(size=(n, 10)))
    ys = np.maximum(xs @ np.linspace(-0.5, 0.5, 11) + rng.normal(size=n), 0.0)

    cases = {
        "Tobit, affairs (N=601, K=7)": (
            lambda: Tobit(y, x).fit(), SMTobit, y.to_numpy(float), x.to_numpy(float), {}),
        "TruncatedRegression, affairs > 0 (N=150, K=7)": (
            lambda: TruncatedRegression(y[pos], x[pos], left=0).fit(), SMTruncated,
            y[pos].to_numpy(float), x[pos].to_numpy(float), {}),
        f"Tobit, simulated (N={n:,}, K=11)": (
            lambda: Tobit(ys, xs).fit(), SMTobit, ys, xs, {}),
    }
    table = Table("fit with standard errors: mleopt vs statsmodels GenericLikelihoodModel "
                  "(BFGS, numerical gradients)")
    for what, (ours, cls, yy, xx, kw) in cases.items():
        compare_log_sigma_fits(
            table, what, ours,
            lambda cls=cls, yy=yy, xx=xx, kw=kw: cls(yy, xx, extra_params_names=["log_sigma"],
                                                     **kw),
            repeats)
    return finish([table], markdown=args.markdown)


if __name__ == "__main__":
    raise SystemExit(main())
