"""Replication of R. Hicks (2018), "Using Autograd for Maximum Likelihood Estimation".

The tutorial (rlhick.people.wm.edu/posts/mle-autograd.html) differentiates a plain function with
the ``autograd`` package, estimates OLS by maximum likelihood with ``scipy.optimize.minimize``
and an autograd gradient, and times BFGS with and without that gradient. This module re-runs
each step with mleopt's AD engine in place of autograd -- the code is what an autograd user
writes, only the three import lines changed -- and prints this machine's figures beside the
tutorial's published ones. It then adds what the tutorial could not: mleopt's own fit
(``OLS(y, X).fit()``: exact gradient *and* Hessian, Newton steps) at the same problem sizes.

Run it with ``mleopt replicate`` (from an installed package) or
``python examples/replicate_mle_autograd.py`` (from a checkout); ``--quick`` times each fit once
instead of three times, ``--ks 10 50`` chooses the problem sizes of the speed table.
"""
from __future__ import annotations

import argparse
import inspect
import platform
import statistics
import time
import warnings
from dataclasses import dataclass, field

import numpy as onp  # plain numpy: simulation and closed-form reference values
import pandas as pd
import scipy
from scipy.optimize import minimize

# --- the tutorial's imports, with only the package names changed ----------------------------
#   import autograd.numpy as np            ->  import mleopt.numpy as np
#   from autograd import grad, jacobian, hessian
#                                          ->  from mleopt.ad import grad, jacobian, hessian
#   from autograd.scipy.stats import norm  ->  from mleopt.stats import norm
import mleopt.numpy as np
from mleopt.ad import grad, hessian, jacobian
from mleopt.stats import norm

__all__ = ["main", "build_parser", "step1_cobb_douglas", "step2_ols", "step3_speed",
           "simulate", "make_neg_loglike", "TUTORIAL"]

#: The tutorial's published figures (its step 4 and the gradient it printed in step 1).
TUTORIAL = {
    "cobb_douglas_grad": (0.86757742, 0.14459624),
    "ks": (10, 50, 100),
    "time_ad": {10: 0.214, 50: 0.573, 100: 1.19},
    "time_fd": {10: 0.961, 50: 12.0, 100: 46.6},
    "speedup": {10: 4.5, 50: 21.0, 100: 39.0},
}

N_OBS = 5000
SIGMA_TRUE = 2.0
DEFAULT_SEED = 1234
DEFAULT_KS = (10, 50, 100)


def _max_rel(a, b) -> float:
    a, b = onp.asarray(a, dtype=float), onp.asarray(b, dtype=float)
    return float(onp.max(onp.abs(a - b) / onp.abs(b)))


def _rule(title: str) -> str:
    return f"\n{'=' * 78}\n{title}\n{'=' * 78}"


def _wrap(text: str) -> str:
    """Fill each paragraph to 78 columns; indented blocks (code) are kept as they are."""
    import textwrap
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(p if p.startswith("    ") else textwrap.fill(p, 78) for p in paragraphs)


# =============================================================================================
# Step 1: exact derivatives of a plain function
# =============================================================================================

def step1_cobb_douglas() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The gradient and the four second derivatives of x^0.8 y^0.2 at (2, 3), AD vs analytic."""

    def f(x, y):
        return x**0.8 * y**0.2

    x0, y0 = 2.0, 3.0
    dfdx = grad(f)        # d f / d x   (argument 0)
    dfdy = grad(f, 1)     # d f / d y   (argument 1)

    first = pd.DataFrame({
        "mleopt.ad": [float(dfdx(x0, y0)), float(dfdy(x0, y0))],
        "analytic": [.8 * x0**-.2 * y0**.2, .2 * x0**.8 * y0**-.8],
        "tutorial (autograd)": list(TUTORIAL["cobb_douglas_grad"]),
    }, index=["df/dx", "df/dy"])
    first["|AD - analytic|"] = (first["mleopt.ad"] - first["analytic"]).abs()

    second = pd.DataFrame({
        "mleopt.ad": [float(grad(dfdx)(x0, y0)), float(grad(dfdx, 1)(x0, y0)),
                      float(grad(dfdy)(x0, y0)), float(grad(dfdy, 1)(x0, y0))],
        "analytic": [.8 * -.2 * x0**-1.2 * y0**.2, .8 * .2 * x0**-.2 * y0**-.8,
                     .2 * .8 * x0**-.2 * y0**-.8, .2 * -.8 * x0**.8 * y0**-1.8],
    }, index=["d2f/dx2", "d2f/dxdy", "d2f/dydx", "d2f/dy2"])
    second["|AD - analytic|"] = (second["mleopt.ad"] - second["analytic"]).abs()
    return first, second


# =============================================================================================
# Step 2: OLS by maximum likelihood
# =============================================================================================

def simulate(n: int, k: int, rng: onp.random.Generator, sigma: float = SIGMA_TRUE):
    """The tutorial's design: a constant and k-1 regressors 10 + 2 N(0,1); beta ~ 2 N(0,1)."""
    beta_true = 2.0 * rng.standard_normal(k)
    x = onp.column_stack([onp.ones(n), 10.0 + 2.0 * rng.standard_normal((n, k - 1))])
    y = x @ beta_true + sigma * rng.standard_normal(n)
    return y, x, beta_true


def make_neg_loglike(x, y):
    """The tutorial's negative log-likelihood for the data (x, y); theta = [beta, log sigma]."""

    def neg_loglike(theta):
        beta = theta[:-1]
        # transform theta[-1] so that it takes values from -inf to inf
        sigma = np.exp(theta[-1])
        mu = np.dot(x, beta)
        ll = norm.logpdf(y, mu, sigma).sum()
        return -1 * ll

    return neg_loglike


def _ols_closed_form(y, x):
    """Closed-form OLS with HC0 (White) standard errors, and the ML sigma = sqrt(SSR / N)."""
    beta, *_ = onp.linalg.lstsq(x, y, rcond=None)
    e = y - x @ beta
    xtx_inv = onp.linalg.inv(x.T @ x)
    meat = (x * (e**2)[:, None]).T @ x
    se_hc0 = onp.sqrt(onp.diag(xtx_inv @ meat @ xtx_inv))
    n = len(y)
    sigma = onp.sqrt(e @ e / n)
    return beta, se_hc0, sigma, sigma / onp.sqrt(2.0 * n)  # ML asymptotic SE of sigma


@dataclass
class Step2:
    table: pd.DataFrame
    diagnostics: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def step2_ols(seed: int = DEFAULT_SEED, n: int = N_OBS, k: int = 10) -> Step2:
    from mleopt import OLS  # the model layer (imported late: step 1 needs only the AD engine)

    rng = onp.random.default_rng(seed)
    y, x, beta_true = simulate(n, k, rng)
    neg_loglike = make_neg_loglike(x, y)

    # derivatives of neg_loglike, as in the tutorial
    jacobian_ = jacobian(neg_loglike)
    hessian_ = hessian(neg_loglike)

    theta_start = onp.append(onp.zeros(beta_true.shape[0]), 0.0)

    # (1) BFGS with the AD gradient; SEs from the inverse AD Hessian
    res_ad = minimize(neg_loglike, theta_start, method="BFGS", options={"disp": False},
                      jac=jacobian_)
    se_ad = onp.sqrt(onp.diag(onp.linalg.inv(hessian_(res_ad.x))))

    # (2) BFGS without a gradient (scipy's finite differences); SEs from BFGS's hess_inv
    res_fd = minimize(neg_loglike, theta_start, method="BFGS", options={"disp": False})
    se_fd = onp.sqrt(onp.diag(res_fd.hess_inv))

    # (3) closed-form OLS with HC0 standard errors (what the tutorial compared against)
    b_ols, se_ols, sigma_ols, se_sigma_ols = _ols_closed_form(y, x)

    # (4) mleopt's OLS model, default fit
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res_ml = OLS(y, x).fit()
        p_ml = res_ml.params.to_numpy()
        se_ml = res_ml.bse.to_numpy()
    notes = [f"mleopt OLS.fit() warned: {w.message}" for w in caught]

    # sigma is reported on its own scale; for the two BFGS runs (which estimate log sigma)
    # its SE follows by the delta method, se(sigma) = sigma * se(log sigma).
    def with_sigma(theta, se):
        s = float(onp.exp(theta[-1]))
        return onp.append(theta[:-1], s), onp.append(se[:-1], s * se[-1])

    p_ad, s_ad = with_sigma(res_ad.x, se_ad)
    p_fd, s_fd = with_sigma(res_fd.x, se_fd)

    names = ["const"] + [f"x{i}" for i in range(1, k)] + ["sigma"]
    cols = pd.MultiIndex.from_tuples([
        ("true", "value"),
        ("BFGS + AD gradient", "coef"), ("BFGS + AD gradient", "se (AD Hessian)"),
        ("closed-form OLS", "coef"), ("closed-form OLS", "se (HC0)"),
        ("BFGS, finite diff.", "coef"), ("BFGS, finite diff.", "se (hess_inv)"),
        ("mleopt OLS.fit()", "coef"), ("mleopt OLS.fit()", "se"),
    ])
    table = pd.DataFrame(onp.column_stack([
        onp.append(beta_true, SIGMA_TRUE),
        p_ad, s_ad,
        onp.append(b_ols, sigma_ols), onp.append(se_ols, se_sigma_ols),
        p_fd, s_fd,
        p_ml, se_ml,
    ]), index=names, columns=cols)

    # the same yardstick for every solution: the AD gradient of the tutorial's objective
    theta_of = {
        "BFGS + AD gradient": res_ad.x,
        "closed-form OLS": onp.append(b_ols, onp.log(sigma_ols)),
        "BFGS, finite diff.": res_fd.x,
        "mleopt OLS.fit()": onp.append(p_ml[:-1], onp.log(p_ml[-1])),
    }
    rows = {}
    for label, theta in theta_of.items():
        g = onp.asarray(jacobian_(theta), dtype=float)
        rows[label] = {"log-likelihood": -float(neg_loglike(theta)),
                       "|gradient|": float(onp.linalg.norm(g)),
                       "max |gradient|": float(onp.max(onp.abs(g)))}
    diag = pd.DataFrame(rows).T
    diag.insert(1, "vs closed form", diag["log-likelihood"]
                - diag.loc["closed-form OLS", "log-likelihood"])
    diag["converged"] = [bool(res_ad.success), "(closed form)", bool(res_fd.success),
                         bool(res_ml.converged)]
    diag["message"] = [res_ad.message, "", res_fd.message, res_ml.message]
    diag["f evals"] = [res_ad.nfev, "", res_fd.nfev, ""]
    return Step2(table, diag, notes)


# =============================================================================================
# Step 3: the speed table
# =============================================================================================

@dataclass
class SpeedRow:
    k: int
    t_ad: float
    t_fd: float
    t_ml: float
    t_ml_start: float
    ok_ad: bool
    ok_fd: bool
    ok_ml: bool
    ok_ml_start: bool
    msg_ad: str
    msg_fd: str
    msg_ml: str
    msg_ml_start: str


def _median_time(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def step3_speed(ks=DEFAULT_KS, repeats: int = 3, seed: int = DEFAULT_SEED,
                n: int = N_OBS, progress=None) -> list[SpeedRow]:
    from mleopt import OLS

    rng = onp.random.default_rng(seed + 1)
    rows = []
    for k in ks:
        y, x, beta_true = simulate(n, k, rng)           # new data for each K
        neg_loglike = make_neg_loglike(x, y)
        jacobian_ = jacobian(neg_loglike)
        theta_start = onp.append(beta_true, 1.0)        # the tutorial's start: true beta, 1.0

        t_ad, r_ad = _median_time(lambda: minimize(neg_loglike, theta_start, method="BFGS",
                                                   jac=jacobian_), repeats)
        if progress:
            progress(f"  K = {k:3d}: {'BFGS + AD gradient':<32} {t_ad:8.3f} s")
        t_fd, r_fd = _median_time(lambda: minimize(neg_loglike, theta_start, method="BFGS"),
                                  repeats)
        if progress:
            progress(f"  K = {k:3d}: {'BFGS, finite differences':<32} {t_fd:8.3f} s")

        def mleopt_fit(start_params=None):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = OLS(y, x).fit(start_params=start_params)
                res.bse  # standard errors included in the timing  # noqa: B018
            return res

        t_ml, r_ml = _median_time(mleopt_fit, repeats)
        if progress:
            progress(f"  K = {k:3d}: {'mleopt OLS(y, X).fit()':<32} {t_ml:8.3f} s")
        # the same fit from the tutorial's start (params are [beta, sigma]: sigma = e^1.0)
        start = onp.append(beta_true, onp.exp(1.0))
        t_ml_start, r_ml_start = _median_time(lambda: mleopt_fit(start), repeats)
        if progress:
            progress(f"  K = {k:3d}: {'mleopt, from the tutorial start':<32} {t_ml_start:8.3f} s")
        rows.append(SpeedRow(k, t_ad, t_fd, t_ml, t_ml_start,
                             bool(r_ad.success), bool(r_fd.success), bool(r_ml.converged),
                             bool(r_ml_start.converged), str(r_ad.message), str(r_fd.message),
                             str(r_ml.message), str(r_ml_start.message)))
    return rows


def speed_tables(rows: list[SpeedRow]):
    """(times, converged flags, messages): three DataFrames indexed by K."""
    def pub(key, k):
        return TUTORIAL[key].get(k, onp.nan)

    times = pd.DataFrame({
        "K": [r.k for r in rows],
        "AD [s]": [r.t_ad for r in rows],
        "FD [s]": [r.t_fd for r in rows],
        "mleopt [s]": [r.t_ml for r in rows],
        "mleopt* [s]": [r.t_ml_start for r in rows],
        "FD/AD": [r.t_fd / r.t_ad for r in rows],
        "FD/mleopt": [r.t_fd / r.t_ml for r in rows],
        "FD/mleopt*": [r.t_fd / r.t_ml_start for r in rows],
        "tut. AD [s]": [pub("time_ad", r.k) for r in rows],
        "tut. FD [s]": [pub("time_fd", r.k) for r in rows],
        "tut. FD/AD": [pub("speedup", r.k) for r in rows],
    }).set_index("K")
    flags = pd.DataFrame({
        "K": [r.k for r in rows],
        "AD": [r.ok_ad for r in rows],
        "FD": [r.ok_fd for r in rows],
        "mleopt": [r.ok_ml for r in rows],
        "mleopt*": [r.ok_ml_start for r in rows],
    }).set_index("K")
    messages = pd.DataFrame({
        "K": [r.k for r in rows],
        "AD": [r.msg_ad for r in rows],
        "FD": [r.msg_fd for r in rows],
        "mleopt": [r.msg_ml for r in rows],
        "mleopt*": [r.msg_ml_start for r in rows],
    }).set_index("K")
    return times, flags, messages


# =============================================================================================
# the script
# =============================================================================================

INTRO = """
Replication of R. Hicks (2018), "Using Autograd for Maximum Likelihood Estimation"
(rlhick.people.wm.edu/posts/mle-autograd.html), with mleopt's AD engine in place of the
autograd package. The tutorial's code runs unchanged except for three import lines:

    import mleopt.numpy as np
    from mleopt.ad import grad, jacobian, hessian
    from mleopt.stats import norm
"""

TEXT_STEP1 = """
The tutorial starts with a plain function, the Cobb-Douglas f(x, y) = x^0.8 y^0.2, and
differentiates it at (x, y) = (2, 3): grad(f) is df/dx, grad(f, 1) is df/dy, and
differentiating those again gives the four second derivatives (mleopt.ad's derivative
rules are themselves differentiable, so grad(grad(f)) just works). The AD values agree
with the hand-derived formulas to the last bit or two of double precision (a
difference of ~1e-17 is rounding), and the gradient is the one the tutorial printed. The two cross derivatives agree with
each other, as they must (Young's theorem).
"""

TEXT_STEP2 = """
OLS by maximum likelihood on the tutorial's simulated design (N = {n}, K = {k},
seed {seed}): theta = [beta, log sigma], minimised with BFGS from theta = 0. The same
parameters come from four routes. Closed-form OLS is the exact optimum (up to
rounding); the table of gradients below shows which other routes reached it (the
log-likelihoods hardly differ: near the optimum it is flat, so its value says little).
With the exact AD gradient, BFGS lands on the closed-form estimates; without it, scipy's
finite differences leave a gradient that is visibly not zero, and the standard errors
from BFGS's hess_inv (a quasi-Newton approximation built up along the path, not the
Hessian at the optimum) are off. The AD Hessian gives the classical ML standard
errors, which here are close to the HC0 ones because the errors are homoskedastic.
mleopt's OLS(y, X).fit() starts from a QR least-squares solve and polishes with
Newton steps using the exact gradient and Hessian.
"""

TEXT_STEP3 = """
Speed: for K = {ks} (N = {n}, new data for each K, start at the true beta and 1.0 for
log sigma, as the tutorial did), the wall time of BFGS with the AD gradient and of BFGS
with finite differences, as in the tutorial, and of mleopt's fit with its standard
errors, twice: the default OLS(y, X).fit(), whose QR start values already solve the
least-squares problem (Newton only checks the gradient), and the same fit started where
the tutorial started BFGS, which shows what Newton steps with the exact AD gradient and
Hessian cost from a poor start. Medians of {repeats} run(s); the tutorial's published
times are beside. Absolute times depend on the machine; the ratios (FD/AD, FD/mleopt)
are measured in the same run and are the figures to compare with the tutorial's
speed-ups.

Exact gradients matter more as K grows: a finite-difference gradient costs one extra
log-likelihood evaluation per parameter (K + 1 here) and keeps only about half the
digits, so BFGS needs more iterations and stops on precision loss.
"""


def build_parser(prog: str = "replicate_mle_autograd.py") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Replicate R. Hicks (2018), 'Using Autograd for Maximum Likelihood "
                    "Estimation', with mleopt's AD engine: exact derivatives of a plain "
                    "function, OLS by maximum likelihood, and the BFGS speed-up table, each "
                    "with the tutorial's published figures beside this machine's.",
    )
    add_arguments(p)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The replication's options (shared with ``mleopt replicate``)."""
    from .replication_options import add_replicate_arguments
    add_replicate_arguments(p)


def run(args: argparse.Namespace, out=print) -> int:
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    if repeats < 1:
        raise ValueError(f"--repeats must be at least 1, got {repeats}")
    if any(k < 2 for k in args.ks):
        raise ValueError(f"every K in --ks must be at least 2 (a constant and a regressor), "
                         f"got {args.ks}")

    float_fmt = "{:.6g}".format
    out(_wrap(INTRO))
    import os
    threads = ", ".join(f"{v}={os.environ[v]}" for v in
                        ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
                        if v in os.environ) or "BLAS threads not limited"
    out(f"\nMachine: Python {platform.python_version()}, numpy {onp.__version__}, "
        f"scipy {scipy.__version__}, pandas {pd.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs ({threads}).")

    # ---- step 1 ------------------------------------------------------------------------
    out(_rule("Step 1. Exact derivatives of a plain function: f(x, y) = x^0.8 y^0.2 at (2, 3)"))
    out(_wrap(TEXT_STEP1))
    first, second = step1_cobb_douglas()
    with pd.option_context("display.float_format", "{:.10g}".format, "display.width", 120):
        out("\nGradient:")
        out(first.to_string())
        out("\nSecond derivatives:")
        out(second.to_string())

    # ---- step 2 ------------------------------------------------------------------------
    k2 = 10
    out(_rule(f"Step 2. OLS by maximum likelihood (N = {N_OBS}, K = {k2})"))
    out(_wrap(TEXT_STEP2.format(n=N_OBS, k=k2, seed=args.seed)))
    out("\nThe log-likelihood, written as the tutorial wrote it:\n")
    try:
        src = inspect.getsource(make_neg_loglike)
        body = src[src.index("    def neg_loglike"):src.index("    return neg_loglike")]
        out(inspect.cleandoc("\n" + body))
    except (OSError, ValueError):  # source not available (e.g. a zipped install)
        pass
    s2 = step2_ols(seed=args.seed, k=k2)
    with pd.option_context("display.float_format", float_fmt, "display.width", 200,
                           "display.max_columns", 20):
        out("\nEstimates and standard errors. sigma is on its own scale: for the BFGS runs its "
            "SE is\nsigma * se(log sigma) (the delta method); for closed-form OLS, sigma = "
            "sqrt(SSR / N)\nwith its ML standard error sigma / sqrt(2N).\n")
        out(s2.table.to_string())
        out("\nAt each solution: the log-likelihood and the AD gradient of the tutorial's "
            "objective\n(theta = [beta, log sigma]):\n")
    with pd.option_context("display.float_format", "{:.4g}".format, "display.width", 200,
                           "display.max_columns", 20, "display.max_colwidth", 60):
        out(s2.diagnostics.to_string(formatters={
            "log-likelihood": "{:.6f}".format, "vs closed form": "{:.2g}".format,
            "|gradient|": "{:.2g}".format, "max |gradient|": "{:.2g}".format}))
    se = s2.table
    se_ad = se[("BFGS + AD gradient", "se (AD Hessian)")]
    rel = (se[("BFGS, finite diff.", "se (hess_inv)")] / se_ad - 1).abs()
    out(f"\nThe standard errors from BFGS's hess_inv differ from those of the AD Hessian by up "
        f"to {100 * rel.max():.0f}% ({rel.idxmax()});\nthe AD Hessian's and mleopt's agree to "
        f"{_max_rel(se[('mleopt OLS.fit()', 'se')], se_ad):.1g} (largest relative difference).")
    for note in s2.notes:
        out(note)

    # ---- step 3 ------------------------------------------------------------------------
    if args.skip_speed:
        return 0
    ks = list(args.ks)
    out(_rule(f"Step 3. Speed: BFGS with and without the AD gradient, and mleopt's fit"))
    out(_wrap(TEXT_STEP3.format(ks=", ".join(map(str, ks)), n=N_OBS, repeats=repeats)))
    out("\nTiming ...")
    rows = step3_speed(ks=ks, repeats=repeats, seed=args.seed, progress=out)
    times, conv, messages = speed_tables(rows)
    with pd.option_context("display.float_format", "{:.3g}".format, "display.width", 200,
                           "display.max_columns", 20, "display.max_colwidth", 80):
        out(f"\nWall time, median of {repeats} run(s). AD = BFGS with the AD gradient; FD = BFGS "
            "with finite\ndifferences; mleopt = OLS(y, X).fit() with standard errors; mleopt* = "
            "the same from the\ntutorial's start; tut. = the tutorial's published figures.\n")
        out(times.to_string(formatters={
            c: ("{:.3f}".format if c.endswith("[s]") else "{:.1f}".format) for c in times}))
        out("\nConverged? (scipy's success flag; mleopt's converged flag):\n")
        out(conv.to_string())
        out("\nWhy each stopped (scipy's message; mleopt's):\n")
        for k, row in messages.iterrows():
            for label, msg in row.items():
                out(f"  K = {k:3d}  {label + ':':<8} {msg}")

    beat = [r.k for r in rows if r.k in TUTORIAL["speedup"]
            and r.t_fd / r.t_ml > TUTORIAL["speedup"][r.k]]
    comparable = [r.k for r in rows if r.k in TUTORIAL["speedup"]]
    out("")
    if comparable:
        out(speedup_verdict(beat, comparable))
    not_conv = [r.k for r in rows if not (r.ok_ml and r.ok_ml_start)]
    out("mleopt's fit converged at every K." if not not_conv
        else f"mleopt's fit did NOT converge at K = {_ks(not_conv)}.")
    out("Timings on a shared machine are noisy: compare the ratios, not the seconds.")
    return 0


def _ks(ks) -> str:
    return ", ".join(str(k) for k in ks)


def speedup_verdict(beat: list[int], compared: list[int]) -> str:
    """One sentence: at which of the K compared mleopt's speed-up over finite-difference BFGS
    beats the tutorial's autograd speed-up."""
    lead = "mleopt's fit vs finite-difference BFGS beats the tutorial's autograd speed-up"
    if len(beat) == len(compared):
        which = "at K = " + _ks(compared) if len(compared) == 1 else \
            f"at every K compared ({_ks(compared)})"
        return f"{lead} {which}."
    if not beat:
        return f"{lead} at no K compared ({_ks(compared)})."
    missed = [k for k in compared if k not in beat]
    return f"{lead} at K = {_ks(beat)}, not at K = {_ks(missed)}."


def main(argv=None) -> int:
    """Entry point of ``python examples/replicate_mle_autograd.py`` and ``mleopt replicate``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    if any(k < 2 for k in args.ks):
        parser.error(f"every K in --ks must be at least 2, got {args.ks}")
    return run(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
