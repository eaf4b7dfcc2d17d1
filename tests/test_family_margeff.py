"""Marginal effects of the zero-inflated, hurdle and AFT models (issue 12).

References: statsmodels 0.15 has no marginal effects for these models
(ZeroInflatedPoissonResults.get_margeff raises NotImplementedError), so the values are
derivatives of statsmodels' own predictions, computed once and stored below: for each
variable v, d mean(E[y]) / dv by central differences (Richardson-extrapolated, step 1e-4 x
the column's mean |value|), moving v in both the count design and the zero design where it
is in both (physlm and disea are in exog and exog_infl; a hurdle's zero design is exog), at
statsmodels' MLE (bfgs then newton) on randhie, y = mdvis, X = const + 9 columns,
exog_infl = [const, physlm, disea]. Script:

    m = ZeroInflatedPoisson(y, X, exog_infl=ZI).fit(...)      # and ZINBP(p=2),
    HurdleCountModel(y, X, dist="poisson" | "negbin", zerodist="poisson")
    f(s) = mean(m.model.predict(m.params, exog=X + s e_v, exog_infl=ZI + s e_v))
    d1 = (f(h) - f(-h)) / 2h;  d2 = (f(h/2) - f(-h/2)) / h;  ref = (4 d2 - d1) / 3
    (at="mean": the same at the column means of X and ZI)

Delta-method standard errors are checked against a finite-difference Jacobian of the
effects with respect to the parameters; AFT effects against closed forms
(d median/dx_j = beta_j median, d mean/dx_j = beta_j mean).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mleopt import (AFT, HurdleNegativeBinomial, HurdlePoisson, ZeroInflatedNegativeBinomial,
                    ZeroInflatedPoisson, add_constant, datasets)
from mleopt import inference

# ZIP; params max |score| 2.3e-05
ZIP_OVERALL = {
    'lncoins': -0.050401126523226085,
    'idp': -0.2793226827642788,
    'lpi': 0.03408476465000848,
    'fmde': -0.06328963094655381,
    'physlm': 0.761045709208504,
    'disea': 0.10355215465533901,
    'hlthg': 0.0609764960731359,
    'hlthf': 0.39797351889155524,
    'hlthp': 0.8415480389900587,
}
ZIP_MEAN = {
    'lncoins': -0.0483481964111692,
    'idp': -0.2679453587813481,
    'lpi': 0.03269642981649339,
    'fmde': -0.06071172847036979,
    'physlm': 0.7359382458527186,
    'disea': 0.10174364975509077,
    'hlthg': 0.0584928118230188,
    'hlthf': 0.38176332922838324,
    'hlthp': 0.807270247464853,
}
# ZINB; params max |score| 2.8e-10
ZINB_OVERALL = {
    'lncoins': -0.1648657923188562,
    'idp': -0.7567460949076121,
    'lpi': 0.11719315822185307,
    'fmde': -0.10799414010346824,
    'physlm': 0.7973895334127216,
    'disea': 0.11177252173497026,
    'hlthg': -0.11584717695430531,
    'hlthf': 0.0869554102618982,
    'hlthp': 0.5486490224767179,
}
ZINB_MEAN = {
    'lncoins': -0.15511539882711414,
    'idp': -0.7119910727023301,
    'lpi': 0.11026219097374783,
    'fmde': -0.10160721564993425,
    'physlm': 0.7361512659217103,
    'disea': 0.09678254633776247,
    'hlthg': -0.10899581291745619,
    'hlthf': 0.081812745716577,
    'hlthp': 0.5162011521135194,
}
# HURDLE_POISSON; params max |score| 5.8e-10
HURDLE_POISSON_OVERALL = {
    'lncoins': -0.15270778712068284,
    'idp': -0.7159558274068741,
    'lpi': 0.10115676468072711,
    'fmde': -0.10008326778349864,
    'physlm': 0.7656093255540656,
    'disea': 0.10312924521753775,
    'hlthg': -0.034618243870040054,
    'hlthf': 0.1199527505287475,
    'hlthp': 0.6349414653916696,
}
HURDLE_POISSON_MEAN = {
    'lncoins': -0.1565758047791123,
    'idp': -0.7291958966026968,
    'lpi': 0.10372508023112596,
    'fmde': -0.09920304000856776,
    'physlm': 0.7390732428058655,
    'disea': 0.10225929200384881,
    'hlthg': -0.044178167517561207,
    'hlthf': 0.08373345498672673,
    'hlthp': 0.5805190365578324,
}
# HURDLE_NEGBIN; params max |score| 5.8e-10
HURDLE_NEGBIN_OVERALL = {
    'lncoins': -0.15157410735468088,
    'idp': -0.7114257969879448,
    'lpi': 0.09946464946977267,
    'fmde': -0.10177661192022319,
    'physlm': 0.7393172104608325,
    'disea': 0.10552607396422577,
    'hlthg': -0.07923181125487251,
    'hlthf': 0.10640239964665454,
    'hlthp': 0.5723204974938945,
}
HURDLE_NEGBIN_MEAN = {
    'lncoins': -0.15473491577304455,
    'idp': -0.7206411001544252,
    'lpi': 0.10163424588568609,
    'fmde': -0.09979978145787059,
    'physlm': 0.7046313537095727,
    'disea': 0.10348331852838584,
    'hlthg': -0.08650024768093918,
    'hlthf': 0.06532918629324296,
    'hlthp': 0.5098142577342202,
}

DF = datasets.load("randhie")
Y = DF["mdvis"]
X = add_constant(DF.drop(columns="mdvis"))
ZI = X[["const", "physlm", "disea"]]
SLOPES = [c for c in X.columns if c != "const"]

REFS = {"zip": (ZIP_OVERALL, ZIP_MEAN), "zinb": (ZINB_OVERALL, ZINB_MEAN),
        "hurdle_poisson": (HURDLE_POISSON_OVERALL, HURDLE_POISSON_MEAN),
        "hurdle_nb": (HURDLE_NEGBIN_OVERALL, HURDLE_NEGBIN_MEAN)}


@pytest.fixture(scope="module")
def fits():
    return {"zip": ZeroInflatedPoisson(Y, X, exog_infl=ZI).fit(),
            "zinb": ZeroInflatedNegativeBinomial(Y, X, exog_infl=ZI).fit(),
            "hurdle_poisson": HurdlePoisson(Y, X, zerodist="poisson").fit(),
            "hurdle_nb": HurdleNegativeBinomial(Y, X, zerodist="poisson").fit()}


@pytest.mark.parametrize("kind", list(REFS))
@pytest.mark.parametrize("at", ["overall", "mean"])
def test_effects_on_the_mean_match_statsmodels_predictions(fits, kind, at):
    me = fits[kind].get_margeff(at=at)
    ref = REFS[kind][at == "mean"]
    assert list(me.margeff.index) == SLOPES       # one row per variable, shared ones once
    np.testing.assert_allclose(me.margeff[SLOPES].to_numpy(),
                               [ref[c] for c in SLOPES], rtol=2e-6, atol=1e-9)


class _At:
    """What inference.margeff reads from a results object, at other parameters."""

    def __init__(self, res, theta):
        self.model, self._params, self._cov = res.model, theta, res._cov


def _fd_jacobian(res, theta, **kw):
    """Central differences of the effects in the parameters."""
    cols = []
    for k in range(theta.size):
        h = 1e-5 * max(1.0, abs(theta[k]))
        up, down = theta.copy(), theta.copy()
        up[k] += h
        down[k] -= h
        cols.append((inference.margeff(_At(res, up), **kw).effect
                     - inference.margeff(_At(res, down), **kw).effect) / (2 * h))
    return np.column_stack(cols)


@pytest.mark.parametrize("kind, which, at", [("zip", "mean", "overall"),
                                             ("zinb", "mean", "overall"),
                                             ("hurdle_nb", "mean", "mean"),
                                             ("hurdle_poisson", "prob-main", "mean"),
                                             ("zip", "prob-zero", "mean")])
def test_delta_method_se_matches_a_finite_difference_jacobian(fits, kind, which, at):
    res = fits[kind]
    me = res.get_margeff(which=which, at=at)
    jac = _fd_jacobian(res, res._params.copy(), which=which, at=at)
    np.testing.assert_allclose(me.jacobian, jac, rtol=1e-5, atol=1e-8)
    se = np.sqrt(np.diag(jac @ res._cov @ jac.T))
    np.testing.assert_allclose(me.margeff_se.to_numpy(), se, rtol=1e-5)


def test_shared_variable_is_the_total_of_both_parts(fits):
    """physlm moves both parts: its effect is the sum of the effects through each, which
    a zero part without physlm would not give."""
    res = fits["zip"]
    p = res.params.to_numpy()
    x, z = X.to_numpy(float), ZI.to_numpy(float)
    h = 1e-5

    def avg(dx, dz):
        xx, zz = x.copy(), z.copy()
        xx[:, 5] += dx
        zz[:, 1] += dz
        return np.mean(res.model.predict(p, exog=xx, exog_infl=zz))

    count_part = (avg(h, 0) - avg(-h, 0)) / (2 * h)
    zero_part = (avg(0, h) - avg(0, -h)) / (2 * h)
    assert abs(zero_part) > 0.01
    assert res.get_margeff().margeff["physlm"] == pytest.approx(count_part + zero_part,
                                                                rel=1e-7)


def test_zero_part_only_variable_and_name_clash_are_their_own_variables():
    """A zero-part column not in exog is a variable under its own name; one named like an
    exog column but with other values (numpy data: x1, x2, ...) is not merged with it."""
    rng = np.random.default_rng(3)
    n = 3000
    a, b, c, d = rng.normal(size=(4, n))
    mu = np.exp(0.3 + 0.4 * a - 0.2 * d)
    w = 1 / (1 + np.exp(-(-0.5 + 0.8 * b - 0.3 * c)))
    y = np.where(rng.uniform(size=n) < w, 0, rng.poisson(mu))
    x = np.column_stack([np.ones(n), a, d])        # numpy: named const, x1, x2
    z = np.column_stack([np.ones(n), b, c])        # inflate_const?, inflate_x2 (not x2), ...
    model = ZeroInflatedPoisson(y, x, exog_infl=z)
    res = model.fit()
    me = res.get_margeff()
    xn, zn = model.exog_names, model.param_names[:3]
    assert list(me.margeff.index) == [xn[1], xn[2], zn[1], zn[2]]
    assert zn[1][len("inflate_"):] == xn[2]         # the clash the test is about
    p = res.params.to_numpy()
    moves = {xn[1]: (1, None), xn[2]: (2, None), zn[1]: (None, 1), zn[2]: (None, 2)}
    for name, (dx, dz) in moves.items():
        def avg(s):
            xx, zz = x.copy(), z.copy()
            if dx is not None:
                xx[:, dx] += s
            if dz is not None:
                zz[:, dz] += s
            return np.mean(res.model.predict(p, exog=xx, exog_infl=zz))
        assert me.margeff[name] == pytest.approx((avg(1e-5) - avg(-1e-5)) / 2e-5, rel=1e-6)


def test_numpy_zero_design_shares_exog_columns_by_value(fits):
    """numpy data have positional names (exog x1.., exog_infl inflate_x1..): a zero-part
    column equal to an exog column is that variable, as with the named DataFrames."""
    model = ZeroInflatedPoisson(Y.to_numpy(), X.to_numpy(), exog_infl=ZI.to_numpy())
    me = model.fit().get_margeff()
    assert list(me.margeff.index) == model.exog_names[1:]
    np.testing.assert_allclose(me.margeff.to_numpy(), fits["zip"].get_margeff().margeff,
                               rtol=1e-6)


def test_which_and_bad_arguments(fits):
    res = fits["hurdle_poisson"]
    me = res.get_margeff(which="prob-main")
    assert me.which == "prob-main"
    with pytest.raises(ValueError, match="which must be one of 'mean'"):
        res.get_margeff(which="prob")
    with pytest.raises(ValueError, match="at must be"):
        res.get_margeff(at="max")
    # at="median": the average effect with every variable held at its median (atexog)
    x = res.model._margins_model().exog
    at_median = {j: float(np.median(x[:, j])) for j in range(x.shape[1])}
    np.testing.assert_allclose(res.get_margeff(at="median").margeff,
                               res.get_margeff(atexog=at_median).margeff, rtol=1e-10)
    frame = res.get_margeff().summary_frame()
    assert list(frame.index) == SLOPES


# ---- AFT: effects on the median and mean survival time --------------------------------------
@pytest.fixture(scope="module")
def aft():
    df = datasets.load("ovarian")
    return {dist: AFT(df["futime"], add_constant(df[["ecog.ps", "rx", "age"]]),
                      event=df["fustat"], dist=dist).fit()
            for dist in ("weibull", "lognormal", "loglogistic")}


@pytest.mark.parametrize("dist", ["weibull", "lognormal", "loglogistic"])
@pytest.mark.parametrize("which", ["median", "mean"])
@pytest.mark.parametrize("at", ["overall", "mean"])
def test_aft_effects_closed_form(aft, dist, which, at):
    """log T = x'b + sigma W: any quantile or the mean is exp(x'b) times a factor of
    sigma, so d/dx_j = b_j times the prediction."""
    res = aft[dist]
    b = res.params.to_numpy()[:4]
    x = res.model.exog if at == "overall" else res.model.exog.mean(axis=0, keepdims=True)
    pred = np.asarray(res.model.predict(res.params.to_numpy(), exog=x, which=which))
    me = res.get_margeff(at=at, which=which)
    np.testing.assert_allclose(me.margeff.to_numpy(), b[1:] * pred.mean(), rtol=1e-10)
    jac = _fd_jacobian(res, res._params.copy(), at=at, which=which)
    np.testing.assert_allclose(me.jacobian, jac, rtol=1e-5, atol=1e-6)


def test_aft_default_is_the_mean_and_quantile_is_refused(aft):
    res = aft["weibull"]
    assert res.get_margeff().which == "mean"
    with pytest.raises(ValueError, match="which must be one of 'mean', 'median'"):
        res.get_margeff(which="quantile")


def test_exposure_enters_the_effects():
    """E[y] scales with exposure: the effects are those of the predictions at each row's
    exposure (at="overall") and at the mean log exposure (at="mean")."""
    rng = np.random.default_rng(5)
    n = 2000
    a = rng.normal(size=n)
    expo = rng.uniform(0.5, 3.0, size=n)
    y = np.where(rng.uniform(size=n) < 0.3, 0, rng.poisson(expo * np.exp(0.2 + 0.5 * a)))
    x = np.column_stack([np.ones(n), a])
    res = HurdlePoisson(y, x, exposure=expo).fit()
    p = res.params.to_numpy()
    h = 1e-5
    for at, rows, e in [("overall", x, expo), ("mean", x.mean(axis=0, keepdims=True),
                                                np.exp(np.log(expo).mean()))]:
        def avg(s):
            xx = rows.copy()
            xx[:, 1] += s
            return np.mean(res.model.predict(p, exog=xx, exog_zero=xx, exposure=e))
        assert res.get_margeff(at=at).margeff.iloc[0] == pytest.approx(
            (avg(h) - avg(-h)) / (2 * h), rel=1e-6)


def test_aft_effects_in_row_blocks_equal_the_whole(aft):
    df = datasets.load("ovarian")
    model = AFT(df["futime"], add_constant(df[["ecog.ps", "rx", "age"]]), event=df["fustat"])
    blocked = model.fit(block_memory="4kB")
    assert len(model._blocks()[0]) > 1
    for at in ("overall", "mean"):
        a = blocked.get_margeff(at=at, which="median")
        b = aft["weibull"].get_margeff(at=at, which="median")
        np.testing.assert_allclose(a.margeff, b.margeff, rtol=1e-8)
        np.testing.assert_allclose(a.margeff_se, b.margeff_se, rtol=1e-8)
