"""Ordered and multinomial outcomes: mleopt's OrderedModel and MNLogit vs statsmodels.

    PYTHONPATH=. python benchmarks/family_ordinal.py [--repeats 5] [--quick] [--markdown]
        [--only ordered,mnlogit,softmax,large]

Each line times model construction + fit + standard errors (``.bse``), the median of repeats
in one process with the samples of a comparison interleaved round-robin, as a ratio against
statsmodels measured in the same run (target: no slower, ratio <= 1):

- anes96 (N=944): PID on logpopul, selfLR, age, educ, income: OrderedModel logit and probit
  (statsmodels' OrderedModel with ``method="bfgs"``, as in its documentation; its default
  Nelder-Mead is slower and stops short), and MNLogit with a constant (statsmodels' default
  Newton), and the same model written by a user as a softmax with one matrix index X B
  (``fit_mle``; mleopt.ad finds the J-1 columns as linear indices);
- simulated (seeded): OrderedModel logit, N=100,000, K=10, J=5; MNLogit, N=100,000, K=10,
  J=4.

Before timing, every fit's slopes and their standard errors are compared with statsmodels'
(a benchmark of a wrong answer is worthless): statsmodels' BFGS stops at its own gradient
tolerance, so agreement is to about 1e-4 there.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np                                  # noqa: E402
import pandas as pd                                 # noqa: E402

from common import (Row, Table, apply_blas_threads, apply_clock, base_parser,  # noqa: E402
                    check_close, finish, median_times, note, only_set, optional_import,
                    print_environment)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXOG = ["logpopul", "selfLR", "age", "educ", "income"]


def load_anes96():
    df = pd.read_csv(os.path.join(ROOT, "datasets", "anes96.csv"))
    df["logpopul"] = np.log(df["popul"] + 0.1)
    return df["PID"], df[EXOG]


def sim_ordered(n, k, j, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, k))
    latent = x @ rng.normal(scale=0.5, size=k) + rng.logistic(size=n)
    cuts = np.quantile(latent, np.linspace(0, 1, j + 1)[1:-1])
    return pd.Series(np.digitize(latent, cuts), name="y"), \
        pd.DataFrame(x, columns=[f"x{i}" for i in range(k)])


def sim_multinomial(n, k, j, seed=1):
    rng = np.random.default_rng(seed)
    x = np.column_stack([np.ones(n), rng.normal(size=(n, k - 1))])
    eta = np.column_stack([np.zeros(n), x @ rng.normal(scale=0.5, size=(k, j - 1))])
    p = np.exp(eta - eta.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    y = (p.cumsum(axis=1) > rng.uniform(size=(n, 1))).argmax(axis=1)
    cols = ["const"] + [f"x{i}" for i in range(1, k)]
    return pd.Series(y, name="y"), pd.DataFrame(x, columns=cols)


def fits(sm, kind, distr="logit"):
    """{name: fn(y, X) -> (slopes, their bse)} for statsmodels and mleopt."""
    import mleopt
    out = {}
    if kind == "ordered":
        if sm is not None:
            from statsmodels.miscmodels.ordinal_model import OrderedModel as SMOrdered

            def statsmodels_fit(y, x):
                r = SMOrdered(y, x, distr=distr).fit(method="bfgs", disp=False, maxiter=1000)
                return r.params.to_numpy()[:x.shape[1]], r.bse.to_numpy()[:x.shape[1]]
            out["statsmodels"] = statsmodels_fit

        def mleopt_fit(y, x):
            r = mleopt.OrderedModel(y, x, distr=distr).fit()
            return r.params.to_numpy()[:x.shape[1]], r.bse.to_numpy()[:x.shape[1]]
        out["mleopt"] = mleopt_fit
    else:
        if sm is not None:
            def statsmodels_fit(y, x):
                r = sm.MNLogit(y, x).fit(disp=False)
                return r.params.to_numpy().ravel(order="F"), r.bse.to_numpy().ravel(order="F")
            out["statsmodels"] = statsmodels_fit

        def mleopt_fit(y, x):
            r = mleopt.MNLogit(y, x).fit()     # K x (J-1) tables, as statsmodels'
            return r.params.to_numpy().ravel(order="F"), r.bse.to_numpy().ravel(order="F")
        out["mleopt"] = mleopt_fit
    if kind == "softmax":
        out = {k: v for k, v in fits(sm, "multinomial").items() if k == "statsmodels"}
        out["mleopt"] = softmax_fit
    return out


def softmax_obs(params, chosen, x):
    """A user's multinomial logit: one matrix index X B and a row-wise logsumexp."""
    import mleopt.numpy as mnp
    from mleopt.special import logsumexp
    eta = x @ mnp.transpose(mnp.reshape(params, (chosen.shape[1], x.shape[1])))
    full = mnp.concatenate([np.zeros((x.shape[0], 1)), eta], axis=1)
    return mnp.sum(chosen * eta, axis=1) - logsumexp(full, axis=1)


def softmax_fit(y, x):
    """``fit_mle`` on softmax_obs: mleopt.ad finds the J-1 columns of X B as indices."""
    import mleopt
    levels = np.unique(y)
    chosen = (np.asarray(y)[:, None] == levels[1:]).astype(float)
    start = np.zeros(x.shape[1] * (levels.size - 1))
    r = mleopt.fit_mle(softmax_obs, start, data={"chosen": chosen, "x": np.asarray(x, float)})
    return r.params.to_numpy(), r.bse.to_numpy()


def compare(table, label, y, x, fns, repeats, rtol):
    if "statsmodels" in fns:
        ref = fns["statsmodels"](y, x)
        got = fns["mleopt"](y, x)
        check_close(f"{label} params", got[0], ref[0], rtol)
        check_close(f"{label} bse", got[1], ref[1], rtol)
    t = median_times({k: (lambda fn=fn: fn(y, x)) for k, fn in fns.items()},
                     repeats=repeats, number=None if len(y) < 10_000 else 1, min_sample=0.1)
    for k, v in t.items():
        note(f"{label}, {k}: median {v.ms:.2f} ms, samples {min(v.samples) * 1e3:.2f}-"
             f"{max(v.samples) * 1e3:.2f} ms (spread {v.spread:.0%})")
    base = t["statsmodels"].ms if "statsmodels" in t else None
    if base is not None:
        table.add(Row(f"{label}: statsmodels", base, None))
    table.add(Row(f"{label}: mleopt", t["mleopt"].ms, base, target=1.0,
                  baseline_name="statsmodels"))


def main(argv=None) -> int:
    args = base_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    apply_blas_threads(args)
    apply_clock(args)
    repeats = args.repeats or (3 if args.quick else 7)
    n = 20_000 if args.quick else 100_000
    sm = optional_import("statsmodels.api", False)
    import mleopt
    print_environment("benchmarks/family_ordinal.py" + (" --quick" if args.quick else ""),
                      [("statsmodels", sys.modules.get("statsmodels")), ("mleopt", mleopt)])
    if sm is None:
        note("without statsmodels there is no baseline: times are printed without ratios.")
    only = only_set(args, ("ordered", "mnlogit", "softmax", "large"))
    table = Table(f"full fit + bse (median of {repeats})")
    y, x = load_anes96()
    if "ordered" in only:
        for distr in ("logit", "probit"):
            compare(table, f"anes96 OrderedModel {distr} N={len(y)}", y, x,
                    fits(sm, "ordered", distr), repeats, 1e-3)
    xc = x.assign(const=1.0)[["const"] + EXOG]
    if "mnlogit" in only:
        compare(table, f"anes96 MNLogit N={len(y)} J=7", y, xc, fits(sm, "multinomial"),
                repeats, 1e-5)
    if "softmax" in only:
        compare(table, f"anes96 user softmax (fit_mle, matrix index) N={len(y)} J=7", y, xc,
                fits(sm, "softmax"), repeats, 1e-5)
    if "large" in only:
        y, x = sim_ordered(n, 10, 5)
        compare(table, f"OrderedModel logit N={n:,} K=10 J=5", y, x, fits(sm, "ordered"),
                repeats, 1e-3)
        y, x = sim_multinomial(n, 10, 4)
        compare(table, f"MNLogit N={n:,} K=10 J=4", y, x, fits(sm, "multinomial"), repeats,
                1e-5)
    return finish([table], markdown=args.markdown)


if __name__ == "__main__":
    sys.exit(main())
