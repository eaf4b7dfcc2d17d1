"""Marginal effects of the zero-inflated, hurdle and AFT models: mleopt's ``get_margeff``
(effects and delta-method standard errors, exact AD Jacobians) against what a statsmodels
user writes today.

statsmodels 0.15 has no marginal effects for these models (ZeroInflated*'s get_margeff
raises NotImplementedError; HurdleCountModel has none), so the baseline is the average
effect on E[y] by central differences of statsmodels' ``predict``, moving each variable in
both designs (exog and exog_infl) - effects only, no standard errors (they would need a
further numerical Jacobian). The two sets of effects are compared (1e-5 relative).

Data: randhie (20,190 rows; y = mdvis, X = const + 9 columns, exog_infl = [const, physlm,
disea]). The fits are made once, outside the timing; medians of repeats.

    PYTHONPATH=. python benchmarks/family_margeff.py [--repeats 7]
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import mleopt
from mleopt import datasets


def median_seconds(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def fd_effects(predict, x, z, names, zcols, h=1e-5):
    out = []
    for j, name in enumerate(names):
        if j == 0:
            continue
        def avg(s):
            xx, zz = x.copy(), z.copy()
            xx[:, j] += s
            if name in zcols:
                zz[:, zcols.index(name)] += s
            return np.mean(predict(xx, zz))
        out.append((avg(h) - avg(-h)) / (2 * h))
    return np.array(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    import statsmodels.api as sm
    from statsmodels.discrete.count_model import ZeroInflatedPoisson as SmZIP

    df = datasets.load("randhie")
    y, X = df["mdvis"], mleopt.add_constant(df.drop(columns="mdvis"))
    zi = X[["const", "physlm", "disea"]]
    res = mleopt.ZeroInflatedPoisson(y, X, exog_infl=zi).fit()
    sm_res = SmZIP(y.to_numpy(), sm.add_constant(df.drop(columns="mdvis")),
                   exog_infl=zi.to_numpy()).fit(start_params=res.params.to_numpy(),
                                                 method="newton", disp=0)
    x, z = X.to_numpy(float), zi.to_numpy(float)
    names, zcols = list(X.columns), list(zi.columns)

    def sm_predict(xx, zz):
        return sm_res.model.predict(sm_res.params, exog=xx, exog_infl=zz, which="mean")

    ours = res.get_margeff().margeff.to_numpy()
    theirs = fd_effects(sm_predict, x, z, names, zcols)
    agree = np.max(np.abs(ours - theirs) / np.abs(theirs))
    t_ours = median_seconds(lambda: res.get_margeff(), args.repeats)
    t_sm = median_seconds(lambda: fd_effects(sm_predict, x, z, names, zcols), args.repeats)
    print(f"ZIP randhie (N={len(y)}), average effects on E[y]; max relative difference "
          f"{agree:.1e}")
    print(f"  mleopt get_margeff (effects + delta-method SEs): {1e3 * t_ours:8.1f} ms")
    print(f"  statsmodels predict, central differences (effects only): {1e3 * t_sm:8.1f} ms")
    print(f"  ratio mleopt / statsmodels: {t_ours / t_sm:.2f}")
    for label, fit in [("ZINB", mleopt.ZeroInflatedNegativeBinomial(y, X, exog_infl=zi)),
                       ("HurdleNB", mleopt.HurdleNegativeBinomial(y, X))]:
        r = fit.fit()
        print(f"  mleopt get_margeff {label}: "
              f"{1e3 * median_seconds(lambda: r.get_margeff(), args.repeats):8.1f} ms")
    ov = datasets.load("ovarian")
    aft = mleopt.AFT(ov["futime"], mleopt.add_constant(ov[["ecog.ps", "rx", "age"]]),
                     event=ov["fustat"]).fit()
    print(f"  mleopt get_margeff AFT weibull (ovarian, which='median'): "
          f"{1e3 * median_seconds(lambda: aft.get_margeff(which='median'), args.repeats):8.1f}"
          " ms")


if __name__ == "__main__":
    main()
