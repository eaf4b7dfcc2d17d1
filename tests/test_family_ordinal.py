"""OrderedModel (ordered logit / probit) against statsmodels 0.15.0's OrderedModel.

Reference: statsmodels 0.15.0 (statsmodels.miscmodels.ordinal_model.OrderedModel), computed
once on 2026-11-30 in a scratch environment (not a test dependency) with

    anes = datasets/anes96.csv; anes["logpopul"] = log(popul + 0.1)
    X = anes[["logpopul", "selfLR", "age", "educ", "income"]]      # no constant
    m = OrderedModel(anes["PID"], X, distr=d)
    r = m.fit(method="bfgs", gtol=1e-10, maxiter=5000)
    r = m.fit(method="newton", start_params=r.params, tol=1e-14)    # max |score| < 1e-6

statsmodels reports the cut-points as c_0 and log(c_j - c_{j-1}) (its params[5:] below);
mleopt reports the cut-points themselves: CUTS = m.transform_threshold_params(params)[1:-1],
their standard errors CUTS_SE = sqrt(diag(J V J')) with V = r.cov_params() and J the
Jacobian of that map (dc_j/dp_0 = 1, dc_j/dp_m = exp(p_m) for 1 <= m <= j).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mleopt import OrderedModel, add_constant
from mleopt.datasets import load
from mleopt.exceptions import DataError

EXOG = ["logpopul", "selfLR", "age", "educ", "income"]
CUT_NAMES = ["0/1", "1/2", "2/3", "3/4", "4/5", "5/6"]

SM = {
    "logit": {
        "params": [-0.07073000493491781, 1.0191756159109626, -0.004162543573684878,
                   0.17767007722127007, 0.04718546385456593, 3.689103202766289,
                   0.2243364559648158, -0.3445096234112594, -1.356466980533889,
                   -0.4246579085885271, 0.16531161970922573],
        "bse": [0.019115967585304764, 0.05330183702765078, 0.0037314105587513413,
                0.040786838402045195, 0.010762083073197141, 0.3728585151953603,
                0.0685565701098813, 0.09102275711033986, 0.16065361488011204,
                0.09786219898288656, 0.07517780948017484],
        "cuts": [3.689103202766289, 4.940595223321745, 5.649162956637067, 5.906732124848891,
                 6.56072559726588, 7.740486295387506],
        "cuts_se": [0.3728585151953603, 0.383613273805448, 0.3949704850731409,
                    0.399944057303763, 0.4118760061556174, 0.4314739006617923],
        "llf": -1494.6195069782336,
        "llnull": -1750.3467099898216,
        # r.predict()[:2]
        "prob": [[0.0173215240292059, 0.0407179463662846, 0.0531871702780205,
                  0.0281228790498415, 0.098100717319423, 0.2658124671849812,
                  0.4967372957722435],
                 [0.5813020462121432, 0.2478476178072493, 0.078743743823145,
                  0.019394043773678, 0.0335371569655533, 0.0267989129607835,
                  0.0123764784574477]],
    },
    "probit": {
        "params": [-0.0400291661771423, 0.5757783320944648, -0.0034291014975078725,
                   0.10503568052505116, 0.029320496445785153, 2.0931649731637707,
                   -0.3341340744705337, -0.8952201649676933, -1.911936899491283,
                   -0.9718129125149058, -0.38394668255451014],
        "bse": [0.011174267104519152, 0.028466599637480657, 0.002177282427682764,
                0.02414086803410196, 0.006371228925751348, 0.21334131175062418,
                0.06692095751766013, 0.08989333935122297, 0.16013508082699637,
                0.0968693244791155, 0.07386764969545258],
        "cuts": [2.0931649731637707, 2.809122757294844, 3.2176404047593508, 3.36543425211778,
                 3.7438306684179, 4.4249984127533475],
        "cuts_se": [0.2133413117506242, 0.2167940801976803, 0.2211640244616397,
                    0.2232116881286409, 0.2282127820295834, 0.2366671062346497],
        "llf": -1501.4398064245588,
        "llnull": -1750.3467099898216,
        "prob": [[0.012210710809038, 0.0502455841974178, 0.0676352763521618,
                  0.0339049097762952, 0.1103339162167467, 0.2581075360044772,
                  0.4675620666438633],
                 [0.5773050328948405, 0.241537172480328, 0.0876533284375874,
                  0.0223535808660904, 0.038680784365536, 0.0267153603520608,
                  0.0057547406035569]],
    },
}


@pytest.fixture(scope="module")
def anes():
    data = load("anes96")
    data["logpopul"] = np.log(data["popul"] + 0.1)
    return data


@pytest.fixture(scope="module", params=["logit", "probit"])
def fitted(request, anes):
    distr = request.param
    return distr, OrderedModel(anes["PID"], anes[EXOG], distr=distr).fit()


def test_matches_statsmodels(fitted):
    distr, res = fitted
    ref = SM[distr]
    assert res.converged
    assert list(res.params.index) == EXOG + CUT_NAMES       # statsmodels' names
    np.testing.assert_allclose(res.params[EXOG], ref["params"][:5], rtol=1e-6)
    np.testing.assert_allclose(res.bse[EXOG], ref["bse"][:5], rtol=1e-5)
    np.testing.assert_allclose(res.cutpoints, ref["cuts"], rtol=1e-6)
    np.testing.assert_allclose(res.bse[CUT_NAMES], ref["cuts_se"], rtol=1e-5)
    assert res.llf == pytest.approx(ref["llf"], rel=1e-10)
    assert res.llnull == pytest.approx(ref["llnull"], rel=1e-12)
    assert res.df_model == 5 and res.k_params == 11
    assert res.df_resid == 933      # statsmodels 0.15 OrderedModel: nobs - k_params


def test_optimiser_scale_is_statsmodels_parametrisation(fitted):
    """untransform gives statsmodels' own params (first cut, log increments)."""
    distr, res = fitted
    theta = res.model.untransform(res.params.to_numpy())
    np.testing.assert_allclose(theta, SM[distr]["params"], rtol=2e-6, atol=1e-8)
    back = np.asarray(res.model.transform(theta), dtype=float)
    np.testing.assert_allclose(back, res.params.to_numpy(), rtol=1e-14)


def test_predicted_probabilities(fitted, anes):
    distr, res = fitted
    prob = res.predict()
    assert list(prob.columns) == [0, 1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(prob.iloc[:2].to_numpy(), SM[distr]["prob"], rtol=1e-6)
    np.testing.assert_allclose(prob.sum(axis=1), 1.0, rtol=1e-14)
    new = res.predict(anes[EXOG].iloc[[0, 1]])
    np.testing.assert_allclose(new.to_numpy(), prob.iloc[:2].to_numpy(), rtol=1e-13)
    cum = res.model.predict(res.params, which="cumprob")
    np.testing.assert_allclose(np.cumsum(prob.to_numpy(), axis=1)[:, :-1], cum, rtol=1e-12)
    with pytest.raises(ValueError, match="no mean"):
        res.model.predict(res.params, which="mean")
    for kind in ("resid", "resid_response", "resid_pearson", "resid_deviance",
                 "resid_anscombe"):      # (not predict's "which must be 'prob'" error)
        with pytest.raises(AttributeError, match="has no residuals"):
            getattr(res, kind)
    text = str(res.summary())
    assert "OrderedModel" in text and "5/6" in text


def test_ordered_categorical_endog(anes):
    """An ordered pandas Categorical with text labels: the same fit, cut-points named by
    the labels (in the categories' order, not alphabetical)."""
    words = ["strongD", "weakD", "leanD", "indep", "leanR", "weakR", "strongR"]
    pid = pd.Series(pd.Categorical.from_codes(anes["PID"], categories=words, ordered=True),
                    name="PID", index=anes.index)
    res = OrderedModel(pid, anes[EXOG]).fit()
    assert res.param_names[5:] == ["strongD/weakD", "weakD/leanD", "leanD/indep",
                                   "indep/leanR", "leanR/weakR", "weakR/strongR"]
    np.testing.assert_allclose(res.params.to_numpy()[5:], SM["logit"]["cuts"], rtol=1e-6)
    assert list(res.predict().columns) == words


def test_rows_in_blocks_give_the_same_fit(anes):
    """The per-row arrays (which cut-points bound each row) are sliced with the rows."""
    whole = OrderedModel(anes["PID"], anes[EXOG], distr="probit").fit()
    blocked = OrderedModel(anes["PID"], anes[EXOG], distr="probit").fit(block_memory="64kB")
    assert len(blocked.model._blocks()[0]) > 1
    np.testing.assert_allclose(blocked.params, whole.params, rtol=1e-9)
    np.testing.assert_allclose(blocked.bse, whole.bse, rtol=1e-8)


def test_extreme_categories_stay_finite():
    """Far in the tails the middle categories' probabilities are differences of numbers
    near 1: computed without cancellation, the log-likelihood and its derivatives stay
    finite."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 1)) * 3
    y = np.digitize(4 * x[:, 0] + rng.logistic(size=400), [-2.0, 0.0, 2.0])
    for distr in ("logit", "probit"):
        model = OrderedModel(y, x, distr=distr)
        params = np.array([40.0, 60.0, 61.0, 62.0])     # every row deep in a tail
        assert np.all(np.isfinite(model.loglikeobs(params)))
        assert np.all(np.isfinite(model.score(params)))
        res = model.fit()
        assert res.converged and np.all(np.isfinite(res.bse))


# --- bad input ---------------------------------------------------------------------------

def test_a_constant_column_is_refused(anes):
    with pytest.raises(DataError, match="'const' is constant.*should not be a constant"):
        OrderedModel(anes["PID"], add_constant(anes[EXOG]))


def test_an_implicit_constant_is_refused(anes):
    x = anes[["selfLR"]].assign(young=(anes["age"] < 40).astype(float),
                                old=(anes["age"] >= 40).astype(float))
    with pytest.raises(DataError, match="implicit constant.*'young', 'old'"):
        OrderedModel(anes["PID"], x)


def test_a_single_category_is_refused(anes):
    with pytest.raises(DataError, match="single category \\(3\\)"):
        OrderedModel(pd.Series(3, index=anes.index, name="PID"), anes[EXOG])


def test_labels_without_order_are_refused(anes):
    text = anes["PID"].map({0: "a", 1: "b", 2: "c", 3: "d", 4: "e", 5: "f", 6: "g"})
    with pytest.raises(DataError, match="type str.*ordered pd.Categorical"):
        OrderedModel(text, anes[EXOG])
    unordered = pd.Series(pd.Categorical(text), index=anes.index, name="PID")
    with pytest.raises(DataError, match="unordered pandas Categorical"):
        OrderedModel(unordered, anes[EXOG])
    mixed = text.astype(object).copy()
    mixed.iloc[0] = 3
    with pytest.raises(DataError, match="no order the model can trust"):
        OrderedModel(mixed, anes[EXOG])


def test_an_empty_category_is_refused(anes):
    cats = pd.Categorical.from_codes(np.minimum(anes["PID"], 5), categories=list("abcdefg"),
                                     ordered=True)
    with pytest.raises(DataError, match="no observation \\(g\\)|categories with no obs"):
        OrderedModel(pd.Series(cats, index=anes.index), anes[EXOG])


def test_unknown_options_are_refused(anes):
    with pytest.raises(ValueError, match="distr must be 'logit' or 'probit'"):
        OrderedModel(anes["PID"], anes[EXOG], distr="cloglog")
    with pytest.raises(TypeError, match="weights"):
        OrderedModel(anes["PID"], anes[EXOG], weights=np.ones(len(anes)))


def _hand_effects(params, x, distr):
    """Average dP(y = j)/dx_k = -beta_k (f(c_j - x'b) - f(c_{j-1} - x'b)), f the density
    (0 at +-inf): the hand formula the AD result is checked against."""
    import scipy.stats
    dist = scipy.stats.logistic if distr == "logit" else scipy.stats.norm
    beta, cuts = params[:x.shape[1]], params[x.shape[1]:]
    z = np.concatenate([[-np.inf], cuts, [np.inf]])[None, :] - (x @ beta)[:, None]
    dens = dist.pdf(z)
    return np.concatenate([-np.mean(dens[:, j + 1] - dens[:, j]) * beta
                           for j in range(cuts.size + 1)])


@pytest.mark.parametrize("at", ["overall", "mean"])
def test_marginal_effects_on_each_category(fitted, anes, at):
    distr, res = fitted
    me = res.get_margeff(at=at)
    assert me.names[:2] == ["PID=0:logpopul", "PID=0:selfLR"] and len(me.names) == 35
    x = anes[EXOG].to_numpy(dtype=float)
    if at == "mean":
        x = x.mean(axis=0, keepdims=True)
    p = res.params.to_numpy()
    np.testing.assert_allclose(me.margeff, _hand_effects(p, x, distr), rtol=1e-10,
                               atol=1e-15)
    # delta method with a central-difference Jacobian of the hand formula
    step = 1e-6 * np.maximum(np.abs(p), 1e-2)
    jac = np.column_stack([(_hand_effects(p + h * e, x, distr)
                            - _hand_effects(p - h * e, x, distr)) / (2 * h)
                           for h, e in zip(step, np.eye(p.size))])
    se = np.sqrt(np.diag(jac @ res.cov_params().to_numpy() @ jac.T))
    np.testing.assert_allclose(me.margeff_se, se, rtol=1e-5)
    np.testing.assert_allclose(me.margeff.to_numpy().reshape(7, 5).sum(axis=0), 0.0,
                               atol=1e-15)


def test_separation_is_an_error_or_a_warning_with_a_note():
    """x orders the categories perfectly: the MLE does not exist (x's slope and the cuts
    diverge); a linear program finds the direction."""
    from mleopt.exceptions import (ConvergenceWarning, PerfectSeparationError,
                                   PerfectSeparationWarning)
    x = np.random.default_rng(1).normal(size=(200, 1))
    y = np.digitize(x[:, 0], [-0.5, 0.5])
    with pytest.raises(PerfectSeparationError, match="'x1'.*MLE does not exist"), \
            pytest.warns(ConvergenceWarning):       # Newton first runs out of iterations
        OrderedModel(y, x).fit(maxiter=30)
    with pytest.warns(PerfectSeparationWarning, match="perfect separation"), \
            pytest.warns(ConvergenceWarning):
        res = OrderedModel(y, x, separation="warn").fit(maxiter=30)
    assert "perfect separation" in str(res.summary())
    with pytest.raises(ValueError, match="separation must be"):
        OrderedModel(y, x, separation="ignore")
