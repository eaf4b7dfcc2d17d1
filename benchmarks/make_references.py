"""Compute the reference values in tests/references.py with statsmodels.

Run by hand, in a scratch environment that has statsmodels (mleopt itself never
imports it):

    python benchmarks/make_references.py > tests/references.py

Every fit is checked before its numbers are written: the optimizer must report
convergence and the score (gradient of the log-likelihood) at the estimate must be
~0. If a check fails, the script stops and writes nothing.

The data are read with pandas straight from the CSV files in datasets/.
"""

from __future__ import annotations

import datetime
import pathlib
import sys

import numpy as np
import pandas as pd
import scipy
import statsmodels
import statsmodels.api as sm

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "datasets"
TODAY = datetime.date.today().isoformat()
SM_SOURCE = (
    f"statsmodels {statsmodels.__version__}, computed {TODAY} "
    "with script benchmarks/make_references.py"
)
SCORE_TOL = 1e-6  # max |d llf / d param| accepted at a reported optimum


def csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv")


def design(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return sm.add_constant(df[cols].astype(float), prepend=True, has_constant="add")


# ----------------------------------------------------------------------------
# checks


def check_mle(res, label: str) -> float:
    """Assert convergence and a vanishing score; return max |score|."""
    conv = res.mle_retvals.get("converged")
    if not conv:
        sys.exit(f"{label}: statsmodels reports converged={conv}: {res.mle_retvals}")
    score = np.asarray(res.model.score(np.asarray(res.params)))
    worst = float(np.max(np.abs(score)))
    if not worst < SCORE_TOL:
        sys.exit(f"{label}: max |score| = {worst:.3e} at the reported optimum")
    hess = np.asarray(res.model.hessian(np.asarray(res.params)))
    if np.max(np.linalg.eigvalsh((hess + hess.T) / 2)) >= 0:
        sys.exit(f"{label}: Hessian is not negative definite at the optimum")
    return worst


def llnull_exact(model_cls, endog, label: str, **kwds) -> float:
    """llf of the constant-only model, fitted by Newton to |score| < SCORE_TOL.

    statsmodels' own llnull runs Nelder-Mead then BFGS with default tolerances and
    can sit slightly below the maximum (about 5e-6 for NB2 on randhie).
    """
    const = np.ones((len(endog), 1))
    res = model_cls(endog, const, **kwds).fit(
        method="newton", maxiter=200, tol=1e-12, disp=0
    )
    check_mle(res, label + " (null model)")
    return float(res.llf)


# ----------------------------------------------------------------------------
# formatting: plain Python literals, floats at full precision (repr round-trips)


def lit(x):
    if isinstance(x, (pd.Series, pd.DataFrame)):
        x = x.to_numpy()
    if isinstance(x, np.ndarray):
        return lit(x.tolist())
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(lit(v) for v in x) + "]"
    if isinstance(x, (bool, np.bool_)):
        return repr(bool(x))
    if isinstance(x, (int, np.integer)):
        return repr(int(x))
    if isinstance(x, (float, np.floating)):
        return repr(float(x))
    if isinstance(x, str):
        return repr(x)
    if x is None:
        return "None"
    raise TypeError(type(x))


def block(name: str, source: str, d: dict, notes: str = "") -> str:
    lines = [f"# {source}"]
    for note in notes.strip().splitlines():
        lines.append(f"# {note.strip()}")
    lines.append(f"{name} = {{")
    for k, v in d.items():
        lines.append(f"    {k!r}: {lit(v)},")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------
# blocks


def longley_nist() -> str:
    d = {
        "endog": "TOTEMP",
        "exog_names": ["const", "GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"],
        "params": [
            -3482258.63459582,
            15.0618722713733,
            -0.0358191792925910,
            -2.02022980381683,
            -1.03322686717359,
            -0.0511041056535807,
            1829.15146461355,
        ],
        "bse": [
            890420.383607373,
            84.9149257747669,
            0.0334910077722432,
            0.488399681651699,
            0.214274163161675,
            0.226073200069370,
            455.478499142212,
        ],
        "resid_sd": 304.854073561965,
        "rsquared": 0.995479004577296,
    }
    return block(
        "LONGLEY_NIST",
        "NIST StRD (Statistical Reference Datasets), Longley, certified values",
        d,
        notes="""
        OLS of TOTEMP on a constant and the six other columns. Classical standard
        errors, s^2 (X'X)^-1 with s^2 = SSR / (N - K); resid_sd = s (N - K = 9).
        """,
    )


def longley_sm() -> str:
    df = csv("longley")
    cols = ["GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"]
    X = design(df, cols)
    res = sm.OLS(df["TOTEMP"].astype(float), X).fit()
    d = {
        "endog": "TOTEMP",
        "exog_names": list(X.columns),
        "params": res.params,
        "bse": res.bse,
        "rsquared": res.rsquared,
        "resid_sd": float(np.sqrt(res.scale)),
        "ssr": res.ssr,
        "llf": res.llf,
        "nobs": int(res.nobs),
        "condition_number": res.condition_number,
    }
    return block(
        "LONGLEY_OLS_STATSMODELS",
        SM_SOURCE,
        d,
        notes="Cross-check of LONGLEY_NIST (statsmodels solves OLS with pinv).",
    )


def _inference(res) -> dict:
    return {
        "params": res.params,
        "bse": res.bse,
        "tvalues": res.tvalues,
        "pvalues": res.pvalues,
        "conf_int": res.conf_int(alpha=0.05),
    }


def binary(model_cls, name: str) -> str:
    df = csv("anes96")
    cols = ["TVnews", "PID", "age", "educ", "income"]
    X = design(df, cols)
    y = df["vote"].astype(float)
    mod = model_cls(y, X)
    fit_kw = dict(method="newton", maxiter=200, tol=1e-12, disp=0)
    res = mod.fit(**fit_kw)
    score = check_mle(res, name)
    res_hc0 = mod.fit(cov_type="HC0", **fit_kw)
    res_hc1 = mod.fit(cov_type="HC1", **fit_kw)
    ame = res.get_margeff(at="overall", method="dydx")
    mem = res.get_margeff(at="mean", method="dydx")
    d = {
        "endog": "vote",
        "exog_names": list(X.columns),
        **_inference(res),
        "bse_HC0": res_hc0.bse,
        "bse_HC1": res_hc1.bse,
        "pvalues_HC0": res_hc0.pvalues,
        "llf": res.llf,
        "llnull": res.llnull,
        "llnull_exact": llnull_exact(model_cls, y, name),
        "llr": res.llr,
        "llr_pvalue": res.llr_pvalue,
        "aic": res.aic,
        "bic": res.bic,
        "prsquared": res.prsquared,
        "df_model": float(res.df_model),
        "df_resid": float(res.df_resid),
        "nobs": int(res.nobs),
        # average marginal effects: get_margeff(at="overall", method="dydx")
        # (these are also statsmodels' defaults); constant excluded
        "margeff_names": list(X.columns[1:]),
        "margeff": ame.margeff,
        "margeff_se": ame.margeff_se,
        # marginal effects at the mean of the regressors: at="mean", method="dydx"
        "margeff_at_mean": mem.margeff,
        "margeff_at_mean_se": mem.margeff_se,
        "max_abs_score": score,
    }
    return block(
        name,
        SM_SOURCE,
        d,
        notes=f"""
        anes96: sm.{model_cls.__name__}(vote, [const, TVnews, PID, age, educ, income]),
        fit(method="newton", tol=1e-12). pvalues / conf_int use the normal distribution.
        statsmodels quirk: for discrete models cov_type HC1 (and HC2, HC3) gives the same
        matrix as HC0 (no n / (n - k) factor), so bse_HC1 == bse_HC0 here.
        llnull: statsmodels' value (fitted loosely); llnull_exact: the constant-only
        model fitted by Newton to |score| < 1e-6 (closed form: log-lik at p = mean(y)).
        """,
    )


def randhie_xy():
    df = csv("randhie")
    cols = ["lncoins", "idp", "lpi", "fmde", "physlm", "disea", "hlthg", "hlthf", "hlthp"]
    return df, design(df, cols), df["mdvis"].astype(float)


def poisson() -> str:
    df, X, y = randhie_xy()
    mod = sm.Poisson(y, X)
    fit_kw = dict(method="newton", maxiter=200, tol=1e-12, disp=0)
    res = mod.fit(**fit_kw)
    score = check_mle(res, "RANDHIE_POISSON")
    res_hc0 = mod.fit(cov_type="HC0", **fit_kw)
    ame = res.get_margeff(at="overall", method="dydx")
    d = {
        "endog": "mdvis",
        "exog_names": list(X.columns),
        **_inference(res),
        "bse_HC0": res_hc0.bse,
        "llf": res.llf,
        "llnull": res.llnull,
        "llnull_exact": llnull_exact(sm.Poisson, y, "RANDHIE_POISSON"),
        "llr": res.llr,
        "aic": res.aic,
        "bic": res.bic,
        "prsquared": res.prsquared,
        "df_model": float(res.df_model),
        "df_resid": float(res.df_resid),
        "nobs": int(res.nobs),
        "margeff_names": list(X.columns[1:]),
        "margeff": ame.margeff,
        "margeff_se": ame.margeff_se,
        "max_abs_score": score,
    }
    return block(
        "RANDHIE_POISSON",
        SM_SOURCE,
        d,
        notes="""
        randhie: sm.Poisson(mdvis, [const, lncoins, idp, lpi, fmde, physlm, disea,
        hlthg, hlthf, hlthp]), fit(method="newton", tol=1e-12). margeff: average
        marginal effects, get_margeff(at="overall", method="dydx").
        """,
    )


def negbin() -> str:
    df, X, y = randhie_xy()
    mod = sm.NegativeBinomial(y, X, loglike_method="nb2")
    # Newton works on (beta, alpha) directly and converges in a few steps from
    # statsmodels' default start (Poisson fit + moment estimate of alpha).
    # Default BFGS (on beta, log alpha) stops early: it reports converged=True with
    # max |score| ~ 0.15 on this data, so it is not used.
    res = mod.fit(method="newton", maxiter=200, tol=1e-12, disp=0)
    score = check_mle(res, "RANDHIE_NEGBIN")
    names = list(res.params.index)
    d = {
        "endog": "mdvis",
        "exog_names": names[:-1],
        "param_names": names,
        **_inference(res),
        "alpha": float(res.params.iloc[-1]),
        "llf": res.llf,
        "llnull": res.llnull,
        "llnull_exact": llnull_exact(
            sm.NegativeBinomial, y, "RANDHIE_NEGBIN", loglike_method="nb2"
        ),
        "llr": res.llr,
        "aic": res.aic,
        "bic": res.bic,
        "prsquared": res.prsquared,
        "df_model": float(res.df_model),
        "df_resid": float(res.df_resid),
        "nobs": int(res.nobs),
        "max_abs_score": score,
    }
    return block(
        "RANDHIE_NEGBIN",
        SM_SOURCE,
        d,
        notes="""
        randhie: sm.NegativeBinomial(mdvis, same X as RANDHIE_POISSON,
        loglike_method="nb2"); Var(y) = mu + alpha mu^2. The last parameter is alpha
        itself (not log alpha); its bse is on the alpha scale (Hessian in (beta, alpha)).
        fit(method="newton", tol=1e-12) (default BFGS stops with |score| ~ 0.15).
        llnull: statsmodels fits a constant-only NB2 model with its own alpha, loosely
        (Nelder-Mead + BFGS); llnull_exact is that null model fitted by Newton to
        |score| < 1e-6 (higher by ~5e-6). prsquared = 1 - llf / llnull (statsmodels').
        aic/bic count alpha as a parameter (k = 11); df_model = 9 does not.
        """,
    )


def poisson_exposure() -> str:
    df = csv("randhie")
    X = design(df, ["lncoins", "physlm"])
    y = df["mdvis"].astype(float)
    exposure = 1.0 + df["disea"].astype(float)
    mod = sm.Poisson(y, X, exposure=exposure)
    res = mod.fit(method="newton", maxiter=200, tol=1e-12, disp=0)
    score = check_mle(res, "RANDHIE_POISSON_EXPOSURE")
    d = {
        "endog": "mdvis",
        "exog_names": list(X.columns),
        "exposure": "1 + disea",
        **_inference(res),
        "llf": res.llf,
        "llnull": res.llnull,
        "llnull_exact": llnull_exact(
            sm.Poisson, y, "RANDHIE_POISSON_EXPOSURE", exposure=exposure
        ),
        "nobs": int(res.nobs),
        "max_abs_score": score,
    }
    return block(
        "RANDHIE_POISSON_EXPOSURE",
        SM_SOURCE,
        d,
        notes="""
        randhie: sm.Poisson(mdvis, [const, lncoins, physlm], exposure=1 + disea),
        i.e. offset log(1 + disea). A synthetic use of a real column, only to test the
        exposure / offset handling. llnull: constant-only model with the same exposure.
        """,
    )


def _ols_basic(res) -> dict:
    return {
        **_inference(res),
        "rsquared": res.rsquared,
        "rsquared_adj": res.rsquared_adj,
        "ssr": res.ssr,
        "scale": res.scale,
        "llf": res.llf,
        "aic": res.aic,
        "bic": res.bic,
        "fvalue": res.fvalue,
        "df_model": float(res.df_model),
        "df_resid": float(res.df_resid),
        "nobs": int(res.nobs),
    }


def grunfeld() -> str:
    df = csv("grunfeld")
    X = design(df, ["value", "capital"])
    y = df["invest"].astype(float)
    groups, firms = pd.factorize(df["firm"])
    mod = sm.OLS(y, X)
    res = mod.fit()
    res_cl = mod.fit(cov_type="cluster", cov_kwds={"groups": groups})
    res_cl_t = mod.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    if res_cl.use_t or not res_cl_t.use_t:
        sys.exit("GRUNFELD_OLS: unexpected use_t defaults for cluster covariance")
    n, k = X.shape
    sigma_ml = float(np.sqrt(res.ssr / n))
    d = {
        "endog": "invest",
        "exog_names": list(X.columns),
        **_ols_basic(res),
        "bse_HC0": res.HC0_se,
        "bse_HC1": res.HC1_se,
        "bse_HC2": res.HC2_se,
        "bse_HC3": res.HC3_se,
        "n_groups": len(firms),
        "bse_cluster": res_cl.bse,
        "tvalues_cluster": res_cl.tvalues,
        "pvalues_cluster": res_cl.pvalues,
        "conf_int_cluster": res_cl.conf_int(alpha=0.05),
        "df_cluster_t": float(res_cl_t.df_resid_inference),
        "pvalues_cluster_t": res_cl_t.pvalues,
        "conf_int_cluster_t": res_cl_t.conf_int(alpha=0.05),
        "sigma_ml": sigma_ml,
        "sigma2_ml": sigma_ml**2,
        "bse_ml_scale": np.asarray(res.bse) * np.sqrt((n - k) / n),
    }
    return block(
        "GRUNFELD_OLS",
        SM_SOURCE,
        d,
        notes=f"""
        grunfeld: sm.OLS(invest, [const, value, capital]). bse / tvalues / pvalues /
        conf_int: classical, s^2 (X'X)^-1 with s^2 = scale = SSR / (N - K), t(N - K).
        bse_HC0..HC3: res.HC0_se..HC3_se (HC1 = HC0 * N / (N - K)).
        *_cluster: fit(cov_type="cluster", groups=firm codes), statsmodels defaults
        use_correction=True, df_correction=True: factor G/(G-1) * (N-1)/(N-K);
        G = {len(firms)}. With a robust cov_type statsmodels defaults to use_t=False, so
        pvalues_cluster / conf_int_cluster use the NORMAL distribution;
        *_cluster_t: same fit with use_t=True, t(G - 1) = t(df_cluster_t).
        Maximum-likelihood scale (not a statsmodels output): sigma_ml = sqrt(SSR / N);
        bse_ml_scale = bse * sqrt((N - K) / N) = sqrt(diag(sigma_ml^2 (X'X)^-1)).
        llf is the Gaussian log-likelihood at (params, sigma_ml^2), as in statsmodels.
        """,
    )


def simple_ols(data: str, endog: str, cols: list[str], name: str) -> str:
    df = csv(data)
    X = design(df, cols)
    res = sm.OLS(df[endog].astype(float), X).fit()
    n, k = X.shape
    d = {
        "endog": endog,
        "exog_names": list(X.columns),
        **_ols_basic(res),
        "sigma_ml": float(np.sqrt(res.ssr / n)),
    }
    return block(
        name,
        SM_SOURCE,
        d,
        notes=f"{data}: sm.OLS({endog}, [const, {', '.join(cols)}]); classical bse.",
    )


def main() -> None:
    parts = [
        '"""Reference values for the mleopt test suite.\n\n'
        "Generated by benchmarks/make_references.py (statsmodels, run by hand in a\n"
        "scratch environment) except LONGLEY_NIST, which is copied from NIST StRD.\n"
        "Do not edit by hand: rerun the script. Vectors follow exog_names order;\n"
        "conf_int is a list of [lower, upper] rows.\n"
        '"""\n',
        f"STATSMODELS_VERSION = {statsmodels.__version__!r}\n"
        f"NUMPY_VERSION = {np.__version__!r}\n"
        f"SCIPY_VERSION = {scipy.__version__!r}\n"
        f"PANDAS_VERSION = {pd.__version__!r}\n"
        f"GENERATED = {TODAY!r}\n",
        longley_nist(),
        longley_sm(),
        binary(sm.Logit, "ANES96_LOGIT"),
        binary(sm.Probit, "ANES96_PROBIT"),
        poisson(),
        negbin(),
        poisson_exposure(),
        grunfeld(),
        simple_ols("engel", "foodexp", ["income"], "ENGEL_OLS"),
        simple_ols(
            "statecrime", "murder", ["urban", "poverty", "hs_grad", "single"],
            "STATECRIME_OLS",
        ),
    ]
    sys.stdout.write("\n\n".join(parts))


if __name__ == "__main__":
    main()
