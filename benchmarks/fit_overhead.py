"""Where a small fit's time goes: the likelihood evaluations, and everything else.

    PYTHONPATH=. python benchmarks/fit_overhead.py [--repeats 200] [--cpu-time]

On anes96 (N=944) it times ``Model(y, X).fit().bse`` (construction, fit, standard errors)
for MNLogit (PID on const, logpopul, selfLR, age, educ, income: K=6, J=7), Logit (vote on
const, TVnews, PID, age, educ, income) and OrderedModel logit (PID on the MNLogit regressors
without the constant). For each call it also adds up the time spent inside the evaluations
of value, gradient and Hessian (``LikelihoodModel._block_derivatives`` and
``_block_hessian``, timed by a wrapper for this run): the rest ("other") is the model's
construction and data checks, start values, Newton's own linear algebra and tests, the
results object, the covariance and ``bse``. Medians with quartiles over ``--repeats`` calls,
the three models interleaved call by call. For information only (no target, no
statsmodels baseline: family_ordinal.py and models.py compare with statsmodels).
"""
from __future__ import annotations

import functools
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np                                  # noqa: E402
import pandas as pd                                 # noqa: E402

from common import apply_blas_threads, apply_clock, base_parser, note  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cases(mleopt):
    df = pd.read_csv(os.path.join(ROOT, "datasets", "anes96.csv"))
    df["logpopul"] = np.log(df["popul"] + 0.1)
    x = df[["logpopul", "selfLR", "age", "educ", "income"]]
    xc = mleopt.add_constant(x)
    xl = mleopt.add_constant(df[["TVnews", "PID", "age", "educ", "income"]])
    return {"MNLogit anes96": lambda: mleopt.MNLogit(df["PID"], xc).fit().bse,
            "Logit anes96": lambda: mleopt.Logit(df["vote"], xl).fit().bse,
            "OrderedModel logit anes96": lambda: mleopt.OrderedModel(
                df["PID"], x, distr="logit").fit().bse}


def main(argv=None) -> int:
    args = base_parser(__doc__.splitlines()[0]).parse_args(argv)
    apply_blas_threads(args)
    apply_clock(args)
    clock = time.process_time if args.cpu_time else time.perf_counter
    import mleopt
    from mleopt.models.base import LikelihoodModel
    inside = [0.0]

    def timed(fn):
        @functools.wraps(fn)
        def wrapper(*a, **k):
            t0 = clock()
            try:
                return fn(*a, **k)
            finally:
                inside[0] += clock() - t0
        return wrapper

    for name in ("_block_derivatives", "_block_hessian"):
        setattr(LikelihoodModel, name, timed(getattr(LikelihoodModel, name)))
    fits = cases(mleopt)
    for fn in fits.values():
        for _ in range(5):
            fn()
    repeats = args.repeats or (20 if args.quick else 200)
    samples = {k: [] for k in fits}
    for _ in range(repeats):
        for k, fn in fits.items():
            inside[0] = 0.0
            t0 = clock()
            fn()
            samples[k].append((clock() - t0, inside[0]))

    def q(a):
        a = np.asarray(a) * 1e3
        return f"{np.median(a):6.2f} [{np.percentile(a, 25):5.2f}, {np.percentile(a, 75):5.2f}]"

    print(f"\nms per fit+bse, median [quartiles] of {repeats}")
    print(f"{'':27s} {'total':>21s} {'evaluations':>21s} {'other':>21s}")
    for k, pairs in samples.items():
        a = np.array(pairs)
        print(f"{k:27s} {q(a[:, 0]):>21s} {q(a[:, 1]):>21s} {q(a[:, 0] - a[:, 1]):>21s}")
    note("'other' = total - evaluations: construction, checks, start values, Newton's "
         "bookkeeping, results, covariance, bse.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
