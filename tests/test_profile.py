"""Profile likelihood: res.conf_int(method="profile") and res.profile(name).

References: (1) a brute-force profile written here (scipy.optimize.minimize of the logit
log-likelihood, hand-coded in numpy, over the other coefficients at each value; the interval
ends by Brent's method on that brute-force profile); (2) closed forms for OLS with sigma
profiled out: for a slope b_j, llp(v) = -n/2 log(SSR(v)) + const with
SSR(v) = SSR + (v - b_j)^2 / [(X'X)^-1]_jj, so the LR interval is
b_j +- sqrt([(X'X)^-1]_jj SSR (exp(q^2 / n) - 1)); for sigma, the coefficients do not move
and LR(s) = 2 n log(s / s_hat) + SSR / s^2 - n."""
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
import scipy.optimize
from scipy.special import expit, log_expit, ndtri

from mleopt.models import OLS, Logit

matplotlib.use("Agg")

DATA = Path(__file__).resolve().parents[1] / "datasets"
Q = float(-ndtri(0.025))


@pytest.fixture(scope="module")
def anes():
    df = pd.read_csv(DATA / "anes96.csv")
    x = df[["PID", "age", "educ"]].assign(const=1.0)[["const", "PID", "age", "educ"]]
    return df["vote"].to_numpy(float), x


def brute_profile(y, x, j, v):
    """max over the other coefficients of the logit log-likelihood with b_j = v."""
    x = np.asarray(x, float)
    others = [k for k in range(x.shape[1]) if k != j]

    def negll(b):
        eta = x[:, others] @ b + v * x[:, j]
        return -np.sum(y * log_expit(eta) + (1 - y) * log_expit(-eta))

    def grad(b):
        eta = x[:, others] @ b + v * x[:, j]
        return -x[:, others].T @ (y - expit(eta))

    res = scipy.optimize.minimize(negll, np.zeros(len(others)), jac=grad, method="BFGS",
                                  options={"gtol": 1e-9, "maxiter": 10000})
    return -res.fun


def test_logit_profile_interval_matches_brute_force(anes):
    y, x = anes
    res = Logit(y, x).fit()
    ci = res.conf_int(method="profile")
    assert list(ci.index) == res.param_names and list(ci.columns) == [0, 1]
    for j, name in enumerate(res.param_names):
        b, se = res.params[name], res.bse[name]

        def r(v):
            return np.sign(v - b) * np.sqrt(max(2 * (res.llf - brute_profile(y, x, j, v)), 0))
        lo = scipy.optimize.brentq(lambda v: r(v) + Q, b - 3 * se, b, xtol=1e-12)
        hi = scipy.optimize.brentq(lambda v: r(v) - Q, b, b + 3 * se, xtol=1e-12)
        np.testing.assert_allclose(ci.loc[name].to_numpy(), [lo, hi], rtol=1e-6)
        # and it is not the Wald interval (the logit profile is asymmetric)
        assert abs((hi - b) - (b - lo)) > 1e-6 * se


def test_named_params_and_alpha(anes):
    y, x = anes
    res = Logit(y, x).fit()
    one = res.conf_int(alpha=0.1, cols=["age"], method="profile")
    assert list(one.index) == ["age"]
    full = res.conf_int(alpha=0.1, method="profile")
    np.testing.assert_allclose(one.loc["age"], full.loc["age"], rtol=1e-9)
    assert res.conf_int(cols=[2]).index.tolist() == ["age"]


def test_ols_profile_closed_forms():
    df = pd.read_csv(DATA / "longley.csv")
    y = df.iloc[:, 0].to_numpy(float)
    x = np.column_stack([np.ones(len(df)), df.iloc[:, 1:3].to_numpy(float)])
    res = OLS(y, x).fit()
    n = len(y)
    ci = res.conf_int(method="profile")
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    ssr = float(np.sum((y - x @ beta) ** 2))
    c = np.diag(np.linalg.inv(x.T @ x))
    half = np.sqrt(c * ssr * (np.exp(Q ** 2 / n) - 1))
    np.testing.assert_allclose(ci.iloc[:3, 0], beta - half, rtol=1e-8)
    np.testing.assert_allclose(ci.iloc[:3, 1], beta + half, rtol=1e-8)
    s_hat = np.sqrt(ssr / n)

    def lr(s):
        return 2 * n * np.log(s / s_hat) + ssr / s ** 2 - n
    lo = scipy.optimize.brentq(lambda s: lr(s) - Q ** 2, s_hat / 10, s_hat, xtol=1e-14)
    hi = scipy.optimize.brentq(lambda s: lr(s) - Q ** 2, s_hat, 10 * s_hat, xtol=1e-14)
    np.testing.assert_allclose(ci.iloc[3].to_numpy(), [lo, hi], rtol=1e-8)


def test_profile_frame_and_plot(anes, tmp_path):
    y, x = anes
    res = Logit(y, x).fit()
    prof = res.profile("PID", num=9)
    assert list(prof.columns) == ["value", "llf", "signed_root", "wald_z"]
    assert len(prof) == 9 and prof["llf"].max() == pytest.approx(res.llf, abs=1e-9)
    j = res.param_names.index("PID")
    for v, llp in zip(prof["value"].iloc[::4], prof["llf"].iloc[::4]):
        assert llp == pytest.approx(brute_profile(y, x, j, v), abs=1e-6)
    np.testing.assert_allclose(prof["wald_z"], (prof["value"] - res.params["PID"])
                               / res.bse["PID"], rtol=1e-12)
    assert np.all(np.diff(prof["signed_root"]) > 0)
    ax = prof.plot()
    assert len(ax.lines) >= 3
    ax.figure.savefig(tmp_path / "profile.png")
    assert (tmp_path / "profile.png").stat().st_size > 0
    mine = res.profile("age", values=[0.0, res.params["age"]])
    assert mine["llf"].iloc[1] == pytest.approx(res.llf, abs=1e-12)


def test_profile_bad_input(anes):
    y, x = anes
    res = Logit(y, x).fit()
    with pytest.raises(KeyError, match="Did you mean 'age'"):
        res.profile("agee")
    with pytest.raises(ValueError, match="'wald' or 'profile'"):
        res.conf_int(method="profil")
    with pytest.raises(IndexError, match="out of range"):
        res.conf_int(cols=[7], method="profile")
    bounded = Logit(y, x).fit(method="l-bfgs-b", bounds={"age": (0.0, None)})
    with pytest.raises(ValueError, match="not available for a fit with bounds or constraints"):
        bounded.conf_int(method="profile")
    from mleopt.optimize import ConvergenceWarning
    with pytest.warns(ConvergenceWarning, match="without a polish: not converged"):
        stochastic = Logit(y, x).fit(method="adam", epochs=1, batch_size=100, polish=False,
                                     seed=0)
    with pytest.raises(ValueError, match="did not converge"):
        stochastic.profile("age")


def test_profile_of_a_cut_point_holds_that_cut_point_fixed():
    """OrderedModel optimises on c_0 and log(c_j - c_{j-1}): fixing that coordinate does not
    fix the cut-point c_j (it fixes an increment). Reference: at each end of the profile
    interval, a brute-force profile (the ordered-logit log-likelihood hand-coded in numpy,
    maximised over the other parameters by scipy's Nelder-Mead then BFGS from the MLE)
    gives the LR statistic q^2."""
    from scipy.special import expit as F

    from mleopt import OrderedModel
    rng = np.random.default_rng(11)
    n = 300
    x = pd.DataFrame({"a": rng.normal(size=n), "c": rng.uniform(0, 3, size=n)})
    y = np.digitize(x.to_numpy() @ [0.8, 0.3] + rng.logistic(size=n), [-0.5, 0.7, 1.8])
    res = OrderedModel(y, x).fit()
    xv = x.to_numpy()

    def loglike(p):
        cuts = np.r_[-np.inf, p[2:], np.inf]
        if np.any(np.diff(cuts) <= 0):
            return -np.inf
        xb = xv @ p[:2]
        return np.sum(np.log(F(cuts[y + 1] - xb) - F(cuts[y] - xb)))

    def brute(j, v):
        def neg(q):
            return -loglike(np.insert(q, j, v))
        start = np.delete(res.params.to_numpy(), j)
        fit = scipy.optimize.minimize(neg, start, method="Nelder-Mead",
                                      options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 20000})
        fit = scipy.optimize.minimize(neg, fit.x, method="BFGS", options={"gtol": 1e-8})
        return -fit.fun

    assert loglike(res.params.to_numpy()) == pytest.approx(res.llf, abs=1e-9)
    ci = res.conf_int(method="profile", cols=["1/2", "2/3"])
    for name in ["1/2", "2/3"]:
        j = res.param_names.index(name)
        for end in ci.loc[name]:
            assert 2 * (res.llf - brute(j, end)) == pytest.approx(Q * Q, abs=1e-5)
    prof = res.profile("2/3", values=[ci.loc["2/3", 1]])
    assert prof["signed_root"].iloc[0] == pytest.approx(Q, abs=1e-8)
