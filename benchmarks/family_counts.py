"""Fit time of the count families (issue 12) against statsmodels 0.15 on randhie.

``PYTHONPATH=. python benchmarks/family_counts.py [--repeats 5] [--markdown]``

Each line: median wall time of a full fit (estimate and covariance) in mleopt and in
statsmodels, samples interleaved round-robin, ratio mleopt / statsmodels (target <= 1).
statsmodels runs with settings that reach the same optimum (the log-likelihoods are printed
for both): Newton for NB1 and GP-1 and the hurdle model (its default), BFGS with
maxiter=5000 for the zero-inflated models (their Newton stops on a singular Hessian, their
default BFGS with 35 iterations does not converge). The hurdle line uses statsmodels' default
zero part (zerodist="poisson"), which mleopt offers too.
"""
from __future__ import annotations

import sys
import warnings

import common
from common import Row, Table

from mleopt import (GeneralizedPoisson, HurdleNegativeBinomial, HurdlePoisson,
                    NegativeBinomial, ZeroInflatedNegativeBinomial, ZeroInflatedPoisson,
                    add_constant, datasets)


def main() -> int:
    parser = common.base_parser(__doc__.splitlines()[0])
    args = parser.parse_args()
    repeats = args.repeats or 5
    common.apply_blas_threads(args)
    sm = common.optional_import("statsmodels.api")
    if sm is None:
        return 0
    from statsmodels.discrete.count_model import (ZeroInflatedNegativeBinomialP,
                                                  ZeroInflatedPoisson as SMZIP)
    from statsmodels.discrete.discrete_model import (GeneralizedPoisson as SMGP,
                                                     NegativeBinomialP)
    from statsmodels.discrete.truncated_model import HurdleCountModel
    import statsmodels
    common.print_environment("count families vs statsmodels", [("statsmodels", statsmodels)])
    df = datasets.load("randhie")
    y, X = df["mdvis"], add_constant(df.drop(columns="mdvis"))
    Z = X[["const", "physlm", "disea"]]
    yv, Xv, Zv = y.to_numpy(), X.to_numpy(), Z.to_numpy()

    def sm_fit(model, method="newton", **kw):
        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = model().fit(method=method, disp=0, **kw)
                res.bse
                return res
        return run

    cases = {
        "NB1": (lambda: NegativeBinomial(y, X, loglike_method="nb1").fit(),
                sm_fit(lambda: NegativeBinomialP(yv, Xv, p=1), maxiter=200)),
        "GP-1": (lambda: GeneralizedPoisson(y, X).fit(),
                 sm_fit(lambda: SMGP(yv, Xv, p=1), maxiter=200)),
        "ZIP (logit, 3 inflation columns)": (
            lambda: ZeroInflatedPoisson(y, X, exog_infl=Z).fit(),
            sm_fit(lambda: SMZIP(yv, Xv, exog_infl=Zv), "bfgs", maxiter=5000)),
        "ZINB (NB2, logit, 3 inflation columns)": (
            lambda: ZeroInflatedNegativeBinomial(y, X, exog_infl=Z).fit(),
            sm_fit(lambda: ZeroInflatedNegativeBinomialP(yv, Xv, exog_infl=Zv), "bfgs",
                   maxiter=5000)),
        "Hurdle Poisson (zerodist='poisson')": (
            lambda: HurdlePoisson(y, X, zerodist="poisson").fit(),
            sm_fit(lambda: HurdleCountModel(yv, Xv, dist="poisson", zerodist="poisson"))),
        "Hurdle NB2 (zerodist='poisson')": (
            lambda: HurdleNegativeBinomial(y, X, zerodist="poisson").fit(),
            sm_fit(lambda: HurdleCountModel(yv, Xv, dist="negbin", zerodist="poisson"))),
    }
    table = Table(f"fit time, randhie (N = {len(y)}), median of {repeats}")
    for name, (ours, theirs) in cases.items():
        a, b = ours(), theirs()
        print(f"  {name}: llf mleopt {a.llf:.6f} (converged {a.converged}), "
              f"statsmodels {b.llf:.6f}")
        t = common.median_times({"mleopt": ours, "statsmodels": theirs},
                                repeats=repeats, warmup=0)
        table.add(Row(name, t["mleopt"].ms, t["statsmodels"].ms, target=1.0,
                      baseline_name="statsmodels"))
    return common.finish([table], markdown=args.markdown)


if __name__ == "__main__":
    sys.exit(main())
