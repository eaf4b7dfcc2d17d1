"""Full model fits with standard errors: mleopt vs statsmodels (issue 3, section 6).

    PYTHONPATH=. python benchmarks/models.py [--repeats 5] [--quick] [--skip autograd]
                                             [--only logit,poisson,anes96,ols] [--blas-threads 1]

Each line times model construction + fit + standard errors (``.bse``), the median of repeats
in one process, with the samples of one comparison interleaved round-robin, as a ratio
against statsmodels measured in the same run:

- Logit and Poisson, N=200,000, K=20 (simulated, seeded): target mleopt/statsmodels <= 0.6;
  also "autograd + scipy trust-exact" (a hand-built mean negative log-likelihood with
  autograd's grad and hessian, ``scipy.optimize.minimize(method="trust-exact")``, bse from
  the inverse Hessian), for information;
- anes96 Logit (N=944; vote on const, TVnews, PID, age, educ, income, from
  datasets/anes96.csv as a DataFrame): target <= 2x statsmodels;
- OLS, N=1,000,000, K=50 (simulated): target <= 2x statsmodels' ``OLS(y, X).fit().bse``.

Before timing, every fit's params and bse are compared with statsmodels' (a benchmark of a
wrong answer is worthless). statsmodels and autograd lines are skipped, with a note, when not
installed; mleopt's lines are skipped with a note while mleopt.models is not importable.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np                                  # noqa: E402
import pandas as pd                                 # noqa: E402
from scipy.optimize import minimize                 # noqa: E402
from scipy.special import expit, gammaln            # noqa: E402

from common import (Row, Table, base_parser, check_close, finish, median_times,  # noqa: E402
                    note, optional_import, print_environment, skip_set,
                    apply_blas_threads, apply_clock, only_set)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ANES96 = os.path.join(ROOT, "datasets", "anes96.csv")
ANES_X = ["TVnews", "PID", "age", "educ", "income"]


def import_mleopt():
    """mleopt's model layer, or None (with a note) while it is not importable."""
    try:
        import mleopt
        from mleopt import OLS, Logit, Poisson, add_constant
    except ImportError as exc:
        note(f"mleopt's models are not importable ({exc}); mleopt's lines are skipped.")
        return None
    return {"Logit": Logit, "Poisson": Poisson, "OLS": OLS, "add_constant": add_constant,
            "version": getattr(mleopt, "__version__", "?")}


# ------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------

def sim_logit(n, k, seed=2024):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k))
    X[:, 0] = 1.0
    b = rng.normal(0.0, 0.3, size=k)
    y = (rng.random(n) < expit(X @ b)).astype(np.float64)
    return y, X


def sim_poisson(n, k, seed=2025):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k))
    X[:, 0] = 1.0
    b = rng.normal(0.0, 0.15, size=k)
    b[0] = 0.5
    y = rng.poisson(np.exp(X @ b)).astype(np.float64)
    return y, X


def sim_ols(n, k, seed=2026):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k))
    X[:, 0] = 1.0
    b = rng.normal(0.0, 1.0, size=k)
    y = X @ b + rng.normal(0.0, 2.0, size=n)
    return y, X


def load_anes96():
    df = pd.read_csv(ANES96)
    return df["vote"], df[ANES_X]


# ------------------------------------------------------------------------------------------
# the fits compared: each returns (params, bse) as numpy arrays
# ------------------------------------------------------------------------------------------

def fit_statsmodels(sm, kind):
    cls = {"Logit": sm.Logit, "Poisson": sm.Poisson, "OLS": sm.OLS}[kind]

    def fit(y, X):
        res = cls(y, X).fit() if kind == "OLS" else cls(y, X).fit(disp=0)
        return np.asarray(res.params), np.asarray(res.bse)
    return fit


def fit_mleopt(mo, kind):
    cls = mo[kind]

    def fit(y, X):
        res = cls(y, X).fit()
        if hasattr(res, "converged") and not res.converged:
            raise RuntimeError(f"mleopt {kind} did not converge: {getattr(res, 'message', '')}")
        return np.asarray(res.params), np.asarray(res.bse)
    return fit


def fit_autograd(ag, kind):
    """A small hand-built objective: autograd grad/hessian + scipy trust-exact."""
    import autograd.numpy as anp

    def fit(y, X):
        y = np.asarray(y, dtype=float)
        X = np.asarray(X, dtype=float)
        n, k = X.shape
        if kind == "Logit":
            def nll(b):
                z = anp.dot(X, b)
                return -anp.mean(y * z - anp.logaddexp(0, z))
            x0 = np.zeros(k)
        else:
            const = np.mean(gammaln(y + 1))

            def nll(b):
                z = anp.dot(X, b)
                return -anp.mean(y * z - anp.exp(z)) + const
            x0 = np.zeros(k)
            x0[0] = np.log(np.mean(y))         # the constant's MLE without regressors
        # gtol 1e-7 on the mean objective: 1e-8 is below what anes96's scaling (age, income)
        # lets trust-exact reach, and it stops there with "bad approximation"
        g, h = ag.grad(nll), ag.hessian(nll)
        r = minimize(nll, x0, jac=g, hess=h, method="trust-exact", options={"gtol": 1e-7})
        if not r.success:
            raise RuntimeError(f"autograd + trust-exact {kind} failed: {r.message}")
        cov = np.linalg.inv(h(r.x) * n)      # the objective is the mean: H_sum = n H_mean
        return r.x, np.sqrt(np.diag(cov))
    return fit


# ------------------------------------------------------------------------------------------
# one comparison
# ------------------------------------------------------------------------------------------

def compare(table, label, y, X, fits: dict, target, repeats, number=1, bse_rtol=1e-4):
    """Check every fit against statsmodels, then time them interleaved and add the rows.

    fits: {"statsmodels": fn, "mleopt": fn, "autograd + trust-exact": fn}, any missing.
    """
    print(f"{label}", flush=True)
    ok = {}
    ref = None
    if "statsmodels" in fits:
        ref = fits["statsmodels"](y, X)
    for name, fn in fits.items():
        if name == "statsmodels":
            continue
        try:
            params, bse = fn(y, X)
        except Exception as exc:           # report and go on with the other lines
            note(f"{label}: {name} failed: {type(exc).__name__}: {exc}")
            continue
        if ref is not None:
            k = len(ref[0])
            check_close(f"{name} params", params[:k], ref[0], 1e-6)
            check_close(f"{name} bse", bse[:k], ref[1], bse_rtol)
        ok[name] = fn
    timed = {}
    if "statsmodels" in fits:
        timed["statsmodels"] = lambda: fits["statsmodels"](y, X)
    for name, fn in ok.items():
        timed[name] = (lambda fn=fn: fn(y, X))
    if not timed:
        return
    t = median_times(timed, repeats=repeats, number=number, min_sample=0.1)
    base = t["statsmodels"].ms if "statsmodels" in t else None
    if base is not None:
        table.add(Row(f"{label}: statsmodels", base, None))
    if "mleopt" in t:
        table.add(Row(f"{label}: mleopt", t["mleopt"].ms, base, target=target,
                      baseline_name="statsmodels"))
    for name in t:
        if name not in ("statsmodels", "mleopt"):
            table.add(Row(f"{label}: {name}", t[name].ms, base, baseline_name="statsmodels"))


def main(argv=None) -> int:
    p = base_parser(__doc__.split("\n\n")[0])
    args = p.parse_args(argv)
    skip = skip_set(args)
    only = only_set(args, ("logit", "poisson", "anes96", "ols"))
    apply_blas_threads(args)
    apply_clock(args)
    if args.quick:
        n, k, n_ols, k_ols = 20_000, 20, 100_000, 50
        repeats = args.repeats or 3
    else:
        n, k, n_ols, k_ols = 200_000, 20, 1_000_000, 50
        repeats = args.repeats or 5

    sm = optional_import("statsmodels.api", "statsmodels" in skip)
    ag = optional_import("autograd", "autograd" in skip)
    mo = None if "mleopt" in skip else import_mleopt()
    print_environment("benchmarks/models.py" + (" --quick" if args.quick else ""),
                      [("statsmodels", sys.modules.get("statsmodels")), ("autograd", ag),
                       ("mleopt", sys.modules.get("mleopt"))])
    if args.quick:
        note("--quick: small sizes and few repeats; a smoke run, not a measurement.")
    if sm is None:
        note("without statsmodels there is no baseline: times are printed without ratios.")

    table = Table(f"full fit + bse (median of {repeats}; anes96: samples of >= 0.1 s)")

    def fits_for(kind, with_autograd=True):
        fits = {}
        if sm is not None:
            fits["statsmodels"] = fit_statsmodels(sm, kind)
        if mo is not None:
            fits["mleopt"] = fit_mleopt(mo, kind)
        if with_autograd and ag is not None and kind in ("Logit", "Poisson"):
            fits["autograd + trust-exact"] = fit_autograd(ag, kind)
        return fits

    if "logit" in only:
        y, X = sim_logit(n, k)
        compare(table, f"Logit N={n:,} K={k}", y, X, fits_for("Logit"), 0.6, repeats)
    if "poisson" in only:
        y, X = sim_poisson(n, k)
        compare(table, f"Poisson N={n:,} K={k}", y, X, fits_for("Poisson"), 0.6, repeats)
    if "anes96" in only:
        section_anes96(table, sm, mo, ag, repeats)
    if "ols" in only:
        y, X = sim_ols(n_ols, k_ols)
        # mleopt's default nonrobust OLS bse uses sigma_MLE^2 = SSR/N, statsmodels
        # SSR/(N-K): they differ by a factor sqrt(N/(N-K)), ~2.5e-5 at N=1e6, K=50
        compare(table, f"OLS N={n_ols:,} K={k_ols}", y, X, fits_for("OLS"), 2.0, repeats,
                bse_rtol=max(1e-4, 2 * k_ols / n_ols))
        del X, y
    return finish([table], markdown=args.markdown)


def section_anes96(table, sm, mo, ag, repeats):
    y_df, x_df = load_anes96()
    # each library's own add_constant on the DataFrame, as its users would write it
    anes = {}
    if sm is not None:
        X_sm = sm.add_constant(x_df)
        anes["statsmodels"] = (lambda y_, X_, X_sm=X_sm: fit_statsmodels(sm, "Logit")(y_, X_sm))
    if mo is not None:
        X_mo = mo["add_constant"](x_df)
        anes["mleopt"] = (lambda y_, X_, X_mo=X_mo: fit_mleopt(mo, "Logit")(y_, X_mo))
    if ag is not None:
        X_np = np.column_stack([np.ones(len(x_df)), x_df.to_numpy(float)])
        anes["autograd + trust-exact"] = (
            lambda y_, X_, X_np=X_np: fit_autograd(ag, "Logit")(y_, X_np))
    compare(table, f"anes96 Logit N={len(y_df)}", y_df, None, anes, 2.0, max(repeats, 7),
            number=None)


if __name__ == "__main__":
    sys.exit(main())
