"""AFT survival models (issue 12): mleopt's fit against lifelines'.

    PYTHONPATH=. python benchmarks/family_survival.py [--repeats 5] [--quick] [--markdown]

statsmodels has no parametric AFT model (only Cox's PHReg), so the baseline is lifelines
(``pip install lifelines``): WeibullAFTFitter, LogNormalAFTFitter and LogLogisticAFTFitter,
whose ``fit`` also computes the standard errors. Each line times construction + fit +
standard errors (``.bse``; lifelines: ``fit`` then ``standard_errors_``), the median of
repeats with the samples interleaved, as a ratio against lifelines in the same run:

- R's ovarian data (N = 26; futime, fustat ~ ecog.ps + rx), the three distributions;
- simulated Weibull AFT data, N = 100,000, K = 10 (seeded; about 30% censored).

Before timing, mleopt's coefficients are checked against lifelines' (a benchmark of a wrong
answer is worthless; lifelines stops at its own tolerance, hence rtol 1e-3). Target: no
slower than the baseline (ratio <= 1).
"""
from __future__ import annotations

import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np                                  # noqa: E402
import pandas as pd                                 # noqa: E402

from common import (Row, Table, base_parser, check_close, finish, median_times,  # noqa: E402
                    note, optional_import, print_environment)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OVARIAN = os.path.join(ROOT, "datasets", "ovarian.csv")
FITTERS = {"weibull": "WeibullAFTFitter", "lognormal": "LogNormalAFTFitter",
           "loglogistic": "LogLogisticAFTFitter"}


def simulate(n: int, k: int, seed: int = 12) -> pd.DataFrame:
    """Weibull AFT: log T = x'b + 0.8 W (W minimum extreme value), censored at an
    independent exponential time."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, k - 1))
    beta = np.linspace(-0.5, 0.5, k - 1)
    w = np.log(rng.exponential(size=n))             # minimum extreme value
    t = np.exp(2.0 + x @ beta + 0.8 * w)
    c = rng.exponential(scale=3.0 * np.exp(2.0), size=n)
    df = pd.DataFrame(x, columns=[f"x{j}" for j in range(1, k)])
    df["T"] = np.minimum(t, c)
    df["E"] = (t <= c).astype(float)
    return df


def fit_mleopt(df, dist, covariates):
    from mleopt import AFT, add_constant
    res = AFT(df["T"], add_constant(df[covariates]), event=df["E"], dist=dist).fit()
    return res.params.to_numpy(), res.bse.to_numpy()


def fit_lifelines(lifelines, df, dist, covariates):
    fitter = getattr(lifelines, FITTERS[dist])()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # lifelines' notes on convergence style
        fitter.fit(df[["T", "E"] + covariates], "T", "E")
    first = fitter.params_.index.get_level_values(0)[0]
    coef = fitter.params_.loc[first]
    order = ["Intercept"] + covariates
    return coef.loc[order].to_numpy(), fitter.standard_errors_


def compare(table, label, df, covariates, dist, lifelines, repeats):
    fits = {"mleopt": lambda: fit_mleopt(df, dist, covariates)}
    if lifelines is not None:
        fits["lifelines"] = lambda: fit_lifelines(lifelines, df, dist, covariates)
        mine, theirs = fits["mleopt"]()[0], fits["lifelines"]()[0]
        check_close(f"{label} coefficients", mine[: len(theirs)], theirs, 1e-3)
    t = median_times(fits, repeats=repeats, number=None, min_sample=0.1)
    base = t["lifelines"].ms if "lifelines" in t else None
    if base is not None:
        table.add(Row(f"{label}: lifelines", base, None))
    table.add(Row(f"{label}: mleopt", t["mleopt"].ms, base, target=1.0,
                  baseline_name="lifelines"))


def main(argv=None) -> int:
    p = base_parser(__doc__.split("\n\n")[0])
    args = p.parse_args(argv)
    n = 20_000 if args.quick else 100_000
    repeats = args.repeats or (3 if args.quick else 5)
    lifelines = optional_import("lifelines")
    import mleopt
    print_environment("benchmarks/family_survival.py" + (" --quick" if args.quick else ""),
                      [("lifelines", lifelines), ("mleopt", mleopt)])
    if lifelines is None:
        note("without lifelines there is no baseline: times are printed without ratios.")
    table = Table(f"AFT fit + bse (median of {repeats}; samples of >= 0.1 s)")
    ovarian = pd.read_csv(OVARIAN).rename(columns={"futime": "T", "fustat": "E"})
    for dist in FITTERS:
        compare(table, f"ovarian {dist}", ovarian, ["ecog.ps", "rx"], dist, lifelines,
                repeats)
    sim = simulate(n, 10)
    compare(table, f"simulated weibull N={n:,} K=10", sim, [f"x{j}" for j in range(1, 10)],
            "weibull", lifelines, repeats)
    return finish([table], markdown=args.markdown)


if __name__ == "__main__":
    sys.exit(main())
