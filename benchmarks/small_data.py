"""Small fits against statsmodels: seeded subsamples of the bundled data, fit + bse.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. python benchmarks/small_data.py --cpu-time
        [--repeats 9] [--sizes 300,1000] [--seed 0] [--only counts,anes96] [--markdown]

Held-out-style data: rows drawn without replacement (seeded) from datasets/randhie.csv
(mdvis on all nine regressors and a constant; zero parts on const, physlm, disea) at each of
``--sizes``, and from datasets/anes96.csv at N=300 (MNLogit of PID, J=7, and of PID
collapsed to Democrat / independent / Republican, J=3, on const, log popul, selfLR, age,
educ, income; OrderedModel logit of PID on the same without the constant; Logit and Probit
of vote on const, TVnews, PID, age, educ, income). Each line times ``Model(y, X).fit()``
and ``.bse`` on both sides, given the same pandas Series and DataFrames (as models.py
does), with each side's default method (statsmodels: Newton for Poisson, Logit, Probit,
MNLogit; BFGS for the NB, GP, zero-inflated and hurdle models; Nelder-Mead for
OrderedModel), samples interleaved round-robin, medians with the spread (max - min) /
median. A note names each line where the two log-likelihoods differ by more than 1e-4
(statsmodels' default stopping elsewhere). For information (issue 12's "no slower than
statsmodels": a ratio <= 1). statsmodels is imported here only, and optional.
"""
from __future__ import annotations

import argparse

import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np                                  # noqa: E402
import pandas as pd                                 # noqa: E402

import common                                       # noqa: E402
from common import Row, Table                       # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECTIONS = ("counts", "anes96")


def _rows(n_all: int, n: int, seed: int) -> np.ndarray:
    return np.sort(np.random.default_rng(seed).choice(n_all, size=n, replace=False))


def count_cases(mleopt, sm, n: int, seed: int) -> dict:
    """randhie subsample of n rows: {name: (mleopt fit, statsmodels fit)}."""
    from statsmodels.discrete.count_model import (ZeroInflatedNegativeBinomialP,
                                                  ZeroInflatedPoisson as SMZIP)
    from statsmodels.discrete.discrete_model import (GeneralizedPoisson as SMGP,
                                                     NegativeBinomialP)
    from statsmodels.discrete.truncated_model import HurdleCountModel
    df = pd.read_csv(os.path.join(ROOT, "datasets", "randhie.csv"))
    df = df.iloc[_rows(len(df), n, seed)].reset_index(drop=True)
    y, X = df["mdvis"], mleopt.add_constant(df.drop(columns="mdvis"))
    Z = X[["const", "physlm", "disea"]]
    return {
        "Poisson": (lambda: mleopt.Poisson(y, X).fit(),
                    lambda: sm.Poisson(y, X).fit(disp=0)),
        "NB2": (lambda: mleopt.NegativeBinomial(y, X).fit(),
                lambda: NegativeBinomialP(y, X, p=2).fit(disp=0)),
        "NB1": (lambda: mleopt.NegativeBinomial(y, X, loglike_method="nb1").fit(),
                lambda: NegativeBinomialP(y, X, p=1).fit(disp=0)),
        "GeneralizedPoisson": (lambda: mleopt.GeneralizedPoisson(y, X).fit(),
                               lambda: SMGP(y, X, p=1).fit(disp=0)),
        "ZIP": (lambda: mleopt.ZeroInflatedPoisson(y, X, exog_infl=Z).fit(),
                lambda: SMZIP(y, X, exog_infl=Z).fit(disp=0)),
        "ZINB": (lambda: mleopt.ZeroInflatedNegativeBinomial(y, X, exog_infl=Z).fit(),
                 lambda: ZeroInflatedNegativeBinomialP(y, X, exog_infl=Z).fit(disp=0)),
        "hurdle Poisson": (lambda: mleopt.HurdlePoisson(y, X, zerodist="poisson").fit(),
                           lambda: HurdleCountModel(y, X, dist="poisson").fit(disp=0)),
    }


def anes_cases(mleopt, sm, n: int, seed: int) -> dict:
    """anes96 subsample of n rows."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel as SMOrdered
    df = pd.read_csv(os.path.join(ROOT, "datasets", "anes96.csv"))
    df = df.iloc[_rows(len(df), n, seed)].reset_index(drop=True)
    df["logpopul"] = np.log(df["popul"] + 0.1)
    x = df[["logpopul", "selfLR", "age", "educ", "income"]]
    xc = mleopt.add_constant(x)
    xl = mleopt.add_constant(df[["TVnews", "PID", "age", "educ", "income"]])
    pid3 = pd.Series(np.digitize(df["PID"], [2, 5]), name="PID3")   # 0-1, 2-4, 5-6
    return {
        "MNLogit J=7": (lambda: mleopt.MNLogit(df["PID"], xc).fit(),
                        lambda: sm.MNLogit(df["PID"], xc).fit(disp=0)),
        "MNLogit J=3": (lambda: mleopt.MNLogit(pid3, xc).fit(),
                        lambda: sm.MNLogit(pid3, xc).fit(disp=0)),
        "OrderedModel logit": (
            lambda: mleopt.OrderedModel(df["PID"], x, distr="logit").fit(),
            lambda: SMOrdered(df["PID"], x, distr="logit").fit(disp=0)),
        "Logit": (lambda: mleopt.Logit(df["vote"], xl).fit(),
                  lambda: sm.Logit(df["vote"], xl).fit(disp=0)),
        "Probit": (lambda: mleopt.Probit(df["vote"], xl).fit(),
                   lambda: sm.Probit(df["vote"], xl).fit(disp=0)),
    }


def _with_bse(fit):
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")    # statsmodels' convergence chatter
            res = fit()
            res.bse
        return res
    return run


def _sizes(text: str) -> list[int]:
    """``--sizes``: positive integers separated by commas."""
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give positive whole numbers of rows separated by commas, e.g. 300,1000")
    return sizes


def main(argv=None) -> int:
    p = common.base_parser(__doc__.splitlines()[0])
    p.add_argument("--sizes", type=_sizes, default="300,1000",
                   help="randhie subsample sizes, comma-separated (e.g. 300,1000)")
    p.add_argument("--seed", type=int, default=0, help="the subsamples' seed")
    args = p.parse_args(argv)
    common.apply_blas_threads(args)
    common.apply_clock(args)
    sm = common.optional_import("statsmodels.api", "statsmodels" in args.skip)
    if sm is None:
        return 0
    import statsmodels
    import mleopt
    common.print_environment("small fits vs statsmodels", [("statsmodels", statsmodels)])
    want = common.only_set(args, SECTIONS)
    repeats = args.repeats or (3 if args.quick else 9)
    groups = []
    if "counts" in want:
        for n in args.sizes:
            groups.append((f"randhie N={n}", count_cases(mleopt, sm, n, args.seed)))
    if "anes96" in want:
        groups.append(("anes96 N=300", anes_cases(mleopt, sm, 300, args.seed)))
    table = Table(f"fit + bse, ms, median of {repeats} "
                  f"({'CPU' if args.cpu_time else 'wall'} time), seed {args.seed}")
    for label, cases in groups:
        for name, (ours, theirs) in cases.items():
            a, b = _with_bse(ours)(), _with_bse(theirs)()
            if abs(a.llf - b.llf) > 1e-4 * max(1.0, abs(b.llf)):
                common.note(f"{name} {label}: statsmodels' default stops at llf {b.llf:.6f}, "
                            f"mleopt at {a.llf:.6f}")
            t = common.median_times({"mleopt": _with_bse(ours), "sm": _with_bse(theirs)},
                                    repeats=repeats, warmup=2)
            what = (f"{name}, {label} (spread {t['mleopt'].spread:.0%} / "
                    f"{t['sm'].spread:.0%})")
            table.add(Row(what, t["mleopt"].ms, t["sm"].ms, target=1.0,
                          baseline_name="statsmodels"))
    return common.finish([table], markdown=args.markdown)


if __name__ == "__main__":
    sys.exit(main())
