"""The count families of issue 12: NegativeBinomial(loglike_method="nb1"),
GeneralizedPoisson, ZeroInflatedPoisson, ZeroInflatedNegativeBinomial, HurdlePoisson,
HurdleNegativeBinomial, on the bundled randhie data (y = mdvis, X = const + 9 columns).

References: statsmodels 0.15.0, computed once with benchmarks/family_counts_references.py
(statsmodels is not a test dependency). Each estimate there is statsmodels' fit polished by
Newton steps whose Hessian is the central-difference Jacobian of statsmodels' own analytic
score, and the bse come from that Hessian: statsmodels' analytic ZIP Hessian is off by up to
0.5% (its bse differ from these by 5e-3, relative), its hurdle Hessian is numerical
(3.7e-6). The comments above each dict are the script's output.
The hurdle models with a logit zero part are checked against their two parts fitted
separately (the likelihood is their sum): statsmodels' Logit(y > 0, X) and
TruncatedLFPoisson / TruncatedLFNegativeBinomialP on the positive counts.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from mleopt import (DataError, GeneralizedPoisson, HurdleNegativeBinomial, HurdlePoisson,
                    NegativeBinomial, ZeroInflatedNegativeBinomial, ZeroInflatedPoisson,
                    add_constant, datasets)

# NegativeBinomialP(y, X, p=1), newton; max |score| 9.1e-12 at statsmodels' estimate, 1.1e-11 after Newton; statsmodels' own bse differ from the bse below by up to 6.2e-11 (relative)
NB1 = {
    'param_names': ['const', 'lncoins', 'idp', 'lpi', 'fmde', 'physlm', 'disea', 'hlthg', 'hlthf', 'hlthp', 'alpha'],
    'params': [0.7572770866345276, -0.06531726080339623, -0.2960238078693909, 0.041187021253284196, -0.032028789542003944, 0.1906593324439019, 0.03187162511392635, -0.03325084905068372, -0.048507691737758894, 0.11181363189781594, 3.731151381354448],
    'bse': [0.021473935883989995, 0.0053604593456775965, 0.019700624867243506, 0.0033580802066572333, 0.0030116067990803635, 0.023800136659678197, 0.001073979907450015, 0.016718159860923686, 0.029804829074211493, 0.05468826169821798, 0.06301045014199048],
    'llf': -43278.75612911822,
}
# GeneralizedPoisson(y, X, p=1), newton; max |score| 2.7e-11 at statsmodels' estimate, 1.3e-11 after Newton; statsmodels' own bse differ from the bse below by up to 1.2e-10 (relative)
GP1 = {
    'param_names': ['const', 'lncoins', 'idp', 'lpi', 'fmde', 'physlm', 'disea', 'hlthg', 'hlthf', 'hlthp', 'alpha'],
    'params': [0.7624375880314425, -0.06705363137356932, -0.3050833086359009, 0.041748614197587235, -0.03243446158777299, 0.18357406542830365, 0.03193624496377543, -0.03426205324942157, -0.055377629264303244, 0.09950735027779685, 1.3145424634899803],
    'bse': [0.02161573541389756, 0.005335043374334709, 0.019601391480779533, 0.0033309552881508765, 0.0029968948518804576, 0.02372648759541638, 0.0010679108750747887, 0.01657330048949483, 0.029719629550976633, 0.055161462838957016, 0.02054452705221054],
    'llf': -43096.50654863901,
}
# ZeroInflatedPoisson(y, X, exog_infl=ZI), bfgs then newton; max |score| 1.7e-09 at statsmodels' estimate, 1.0e-10 after Newton; statsmodels' own bse differ from the bse below by up to 5.1e-03 (relative)
ZIP_LOGIT = {
    'param_names': ['inflate_const', 'inflate_physlm', 'inflate_disea', 'const', 'lncoins', 'idp', 'lpi', 'fmde', 'physlm', 'disea', 'hlthg', 'hlthf', 'hlthp'],
    'params': [-0.29550721796897156, -0.13001472590566918, -0.053171908385201104, 1.1307638392184594, -0.017749065992189575, -0.098365196806394, 0.012003159031363432, -0.022287831920416976, 0.23284097256012462, 0.02208476840034088, 0.021473247298340464, 0.14014881694041298, 0.2963563063101134],
    'bse': [0.03293490311122953, 0.05554901540581294, 0.002818533859964407, 0.011590834921103164, 0.0030574283855880915, 0.011104926613948317, 0.0019357273720464975, 0.0016593133191428158, 0.012406811261606745, 0.0005952270914234042, 0.009687374978826253, 0.0159307416711935, 0.026529028412203892],
    'llf': -55103.90248430459,
}
# ZeroInflatedPoisson(.., inflation='probit'), bfgs then newton; max |score| 3.1e-04 at statsmodels' estimate, 2.6e-04 after Newton; statsmodels' own bse differ from the bse below by up to 1.4e-02 (relative)
ZIP_PROBIT = {
    'param_names': ['inflate_const', 'inflate_physlm', 'inflate_disea', 'const', 'lncoins', 'idp', 'lpi', 'fmde', 'physlm', 'disea', 'hlthg', 'hlthf', 'hlthp'],
    'params': [-0.19846926677251028, -0.07054825925883497, -0.03120042533901171, 1.1305799094553775, -0.017736223609444463, -0.0983712832215542, 0.012003384916778482, -0.02229616349017694, 0.23285199852643162, 0.022099251406296712, 0.021451120689818644, 0.14003805598012312, 0.2961995750302087],
    'bse': [0.019761234370515947, 0.03303914472587256, 0.0016404671339346466, 0.011609285330739523, 0.003056612965441175, 0.011068859234328661, 0.0019362452516318927, 0.0016588053925616218, 0.012399242703813948, 0.0005955514607135724, 0.00980058631210466, 0.01605116772648502, 0.0266712903656996],
    'llf': -55105.40529055111,
}
# ZeroInflatedNegativeBinomialP(y, X, exog_infl=ZI, p=2); max |score| 3.6e-11 at statsmodels' estimate, 5.7e-11 after Newton; statsmodels' own bse differ from the bse below by up to 1.3e-05 (relative)
ZINB = {
    'param_names': ['inflate_const', 'inflate_physlm', 'inflate_disea', 'const', 'lncoins', 'idp', 'lpi', 'fmde', 'physlm', 'disea', 'hlthg', 'hlthf', 'hlthp', 'alpha'],
    'params': [-1.8803489816368015, -0.7334079135454884, -0.43649587802994266, 0.702873077993894, -0.057409474949915884, -0.2635137063247168, 0.04080893669213709, -0.0376056596944497, 0.27170163850993945, 0.03537128699765468, -0.040340239839169, 0.03027956483486702, 0.19105025893985345, 1.265041053762128],
    'bse': [0.21496109663129986, 1.2183343621072027, 0.13863232575068446, 0.026465497257864058, 0.00608054304964874, 0.022671728395285265, 0.004145025884990216, 0.003396829918930898, 0.030056674142431426, 0.0015705038609985724, 0.0200492409591197, 0.03624585365710833, 0.07378043797700558, 0.020391122701716516],
    'llf': -43369.55667219599,
}
# ZIP llnull (-57326.231748559105), ZINB llnull (-44199.27443563431)
# HurdleCountModel(y, X, dist='poisson', zerodist='poisson'); max |score| 4.1e-10 at statsmodels' estimate, 5.1e-10 after Newton; statsmodels' own bse differ from the bse below by up to 3.7e-06 (relative)
HURDLE_POISSON_SM = {
    'param_names': ['zm_const', 'zm_x1', 'zm_x2', 'zm_x3', 'zm_x4', 'zm_x5', 'zm_x6', 'zm_x7', 'zm_x8', 'zm_x9', 'const', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8', 'x9'],
    'params': [-0.07282900957327752, -0.08466619445749533, -0.3640292654498722, 0.05612538741337286, -0.032519650458297064, 0.11558260358516939, 0.03375864282679569, -0.07759204189953367, -0.19752443283369273, -0.1221555923966754, 1.1330664238323478, -0.014578072790454075, -0.08521928571559043, 0.009635921096497285, -0.02132624570326766, 0.2313959385731117, 0.021847545442452935, 0.026624202641827546, 0.1467654075130648, 0.3036331043193135],
    'bse': [0.02554464827476173, 0.0062164267678612335, 0.0231679461386476, 0.004120454428884492, 0.003550769624224781, 0.030791926162338112, 0.0014823513174264853, 0.019914190964701855, 0.03680267649951316, 0.07893582456702641, 0.011599544872641908, 0.00301374734919954, 0.011011076930156492, 0.0019262221352094634, 0.0016507382876167795, 0.012389954287407592, 0.0005941604414788568, 0.009693697503760269, 0.015828326283791626, 0.02647806803679469],
    'llf': -54792.18765694058,
}
# HurdleCountModel(y, X, dist='negbin', zerodist='poisson'); max |score| 4.1e-10 at statsmodels' estimate, 5.1e-10 after Newton; statsmodels' own bse differ from the bse below by up to 6.5e-06 (relative)
HURDLE_NB_SM = {
    'param_names': ['zm_const', 'zm_x1', 'zm_x2', 'zm_x3', 'zm_x4', 'zm_x5', 'zm_x6', 'zm_x7', 'zm_x8', 'zm_x9', 'const', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8', 'x9', 'alpha'],
    'params': [-0.07282900957327752, -0.08466619445749533, -0.3640292654498722, 0.05612538741337286, -0.032519650458297064, 0.11558260358516939, 0.03375864282679569, -0.07759204189953367, -0.19752443283369273, -0.1221555923966754, 0.593591096349238, -0.01820813246894809, -0.10737015579476898, 0.011576346025132515, -0.028205637809856104, 0.2841236954263686, 0.029217832570588947, 0.01237521794213628, 0.181543076248969, 0.35893727052148566, 1.7725778278112765],
    'bse': [0.02554464827476173, 0.0062164267678612335, 0.0231679461386476, 0.004120454428884492, 0.003550769624224781, 0.030791926162338112, 0.0014823513174264853, 0.019914190964701855, 0.03680267649951316, 0.07893582456702641, 0.036805066492852964, 0.008068214028349993, 0.02975711531099315, 0.005372392192726375, 0.0044230877726063374, 0.037515145635596825, 0.0018271099489141226, 0.025828078458427394, 0.04695360235437562, 0.09247678392345916, 0.07213183751730727],
    'llf': -43120.74705200956,
}
# Logit(y > 0, X): the logit zero part; max |score| 6.8e-12 at statsmodels' estimate, 8.4e-13 after Newton; statsmodels' own bse differ from the bse below by up to 6.1e-10 (relative)
HURDLE_LOGIT_ZERO = {
    'param_names': ['const', 'lncoins', 'idp', 'lpi', 'fmde', 'physlm', 'disea', 'hlthg', 'hlthf', 'hlthp'],
    'params': [0.41130248608929504, -0.15048725674318622, -0.6312910289584474, 0.10199702732826692, -0.062175953199155864, 0.23935158086538744, 0.062056216143897114, -0.14180367135026534, -0.35195712029457166, -0.18118150756351872],
    'bse': [0.04416498420096878, 0.010049380928235561, 0.03808947000845696, 0.007084555372583411, 0.0058307765776259065, 0.05644590730035498, 0.002771944983173154, 0.033983235860756016, 0.062354433449270275, 0.14898533828306787],
    'llf': -11881.61275881038,
}
# TruncatedLFPoisson(y[y > 0], X[y > 0]); max |score| 1.2e-10 at statsmodels' estimate, 1.0e-11 after Newton; statsmodels' own bse differ from the bse below by up to 1.8e-06 (relative)
TRUNC_POISSON = {
    'param_names': ['const', 'lncoins', 'idp', 'lpi', 'fmde', 'physlm', 'disea', 'hlthg', 'hlthf', 'hlthp'],
    'params': [1.1330664238323478, -0.014578072790454075, -0.08521928571559043, 0.009635921096497285, -0.02132624570326766, 0.2313959385731117, 0.021847545442452935, 0.026624202641827546, 0.1467654075130648, 0.3036331043193135],
    'bse': [0.011599544872641906, 0.00301374734919954, 0.011011076930156492, 0.0019262221352094634, 0.0016507382876167795, 0.012389954287407592, 0.0005941604414788568, 0.009693697503760269, 0.015828326283791626, 0.02647806803679469],
    'llf': -42890.490436473934,
}
# TruncatedLFNegativeBinomialP(y[y > 0], X[y > 0], p=2); max |score| 3.3e-11 at statsmodels' estimate, 1.5e-11 after Newton; statsmodels' own bse differ from the bse below by up to 6.5e-06 (relative)
TRUNC_NB2 = {
    'param_names': ['const', 'lncoins', 'idp', 'lpi', 'fmde', 'physlm', 'disea', 'hlthg', 'hlthf', 'hlthp', 'alpha'],
    'params': [0.593591096349238, -0.01820813246894809, -0.10737015579476898, 0.011576346025132515, -0.028205637809856104, 0.2841236954263686, 0.029217832570588947, 0.01237521794213628, 0.181543076248969, 0.35893727052148566, 1.7725778278112765],
    'bse': [0.036805066492852964, 0.008068214028349993, 0.02975711531099315, 0.005372392192726375, 0.004423087772606338, 0.037515145635596825, 0.0018271099489141226, 0.025828078458427398, 0.04695360235437562, 0.09247678392345916, 0.07213183751730726],
    'llf': -31219.049831542914,
}

# statsmodels' ZeroInflatedPoisson(y, X, exog_infl=ZI).llnull (both parts intercept-only)
ZIP_LLNULL = -57326.231748559105

DF = datasets.load("randhie")
Y = DF["mdvis"]
X = add_constant(DF.drop(columns="mdvis"))
ZI = X[["const", "physlm", "disea"]]


def check(res, ref, params=1e-6, bse=1e-5, names=True):
    assert res.converged
    if names:
        assert list(res.params.index) == ref["param_names"]
    np.testing.assert_allclose(res.params.to_numpy(), ref["params"], rtol=0, atol=params)
    if bse is not None:
        np.testing.assert_allclose(res.bse.to_numpy(), ref["bse"], rtol=bse)
    assert res.llf == pytest.approx(ref["llf"], rel=1e-10)


# --- estimates against statsmodels --------------------------------------------------------------
def test_nb1_matches_statsmodels_negativebinomialp_p1():
    res = NegativeBinomial(Y, X, loglike_method="nb1").fit()
    check(res, NB1)
    assert res.model.loglike_method == "nb1"


def test_nb2_stays_the_default():
    assert NegativeBinomial(Y, X).loglike_method == "nb2"
    with pytest.raises(ValueError, match="loglike_method must be 'nb2'.*'nb1'.*not 'nb3'"):
        NegativeBinomial(Y, X, loglike_method="nb3")


def test_generalized_poisson_matches_statsmodels_gp1():
    check(GeneralizedPoisson(Y, X).fit(), GP1)


def test_zip_logit_matches_statsmodels():
    res = ZeroInflatedPoisson(Y, X, exog_infl=ZI).fit()
    check(res, ZIP_LOGIT)
    assert res.llnull == pytest.approx(ZIP_LLNULL, abs=1e-6)


def test_zip_probit_matches_statsmodels():
    # statsmodels' probit-inflation score is not zero at its own maximum (|score| ~ 3e-4
    # after Newton steps on it), so only the estimate and the log-likelihood are compared
    res = ZeroInflatedPoisson(Y, X, exog_infl=ZI, inflation="probit").fit()
    check(res, ZIP_PROBIT, params=1e-6, bse=None)


def test_zinb_matches_statsmodels():
    check(ZeroInflatedNegativeBinomial(Y, X, exog_infl=ZI).fit(), ZINB)


def test_zip_default_inflation_is_a_constant_named_like_statsmodels():
    model = ZeroInflatedPoisson(Y, X)
    assert model.param_names[:2] == ["inflate_const", "const"]
    model = ZeroInflatedPoisson(Y.to_numpy(), X.to_numpy(), exog_infl=ZI.to_numpy())
    assert model.param_names[:3] == ["inflate_x1", "inflate_x2", "inflate_x3"]


@pytest.mark.parametrize("cls, ref", [("HurdlePoisson", "HURDLE_POISSON_SM"),
                                      ("HurdleNegativeBinomial", "HURDLE_NB_SM")])
def test_hurdle_with_poisson_zero_part_matches_statsmodels_hurdlecountmodel(cls, ref):
    cls, ref = globals()[cls], globals()[ref]
    res = cls(Y, X, zerodist="poisson").fit()
    check(res, ref, names=False)        # statsmodels names them zm_x1, ..., x1, ...
    assert res.params.index[0] == "zm_const" and res.params.index[10] == "const"


@pytest.mark.parametrize("cls, count", [("HurdlePoisson", "TRUNC_POISSON"),
                                        ("HurdleNegativeBinomial", "TRUNC_NB2")])
def test_logit_hurdle_is_logit_plus_zero_truncated_counts(cls, count):
    cls, count = globals()[cls], globals()[count]
    res = cls(Y, X).fit()
    both = {"param_names": ["zm_" + n for n in HURDLE_LOGIT_ZERO["param_names"]]
            + count["param_names"],
            "params": HURDLE_LOGIT_ZERO["params"] + count["params"],
            "bse": HURDLE_LOGIT_ZERO["bse"] + count["bse"],
            "llf": HURDLE_LOGIT_ZERO["llf"] + count["llf"]}
    check(res, both)


# --- predictions, checked against scipy.stats ---------------------------------------------------
def _fitted(kind):
    if kind == "zip":
        return ZeroInflatedPoisson(Y, X, exog_infl=ZI).fit()
    if kind == "zinb":
        return ZeroInflatedNegativeBinomial(Y, X, exog_infl=ZI).fit()
    if kind == "hp":
        return HurdlePoisson(Y, X).fit()
    if kind == "hnb":
        return HurdleNegativeBinomial(Y, X).fit()
    return GeneralizedPoisson(Y, X).fit()


def _scipy_pmf(kind, res, k):
    """P(y = k) per row from scipy.stats, the zero part's probability by hand."""
    p = res.params
    mu = np.exp(X.to_numpy() @ p[X.columns].to_numpy())
    if kind in ("zip", "zinb"):
        w = scipy.special.expit(ZI.to_numpy() @ p[["inflate_" + c for c in ZI]].to_numpy())
        if kind == "zip":
            f = scipy.stats.poisson.pmf(k, mu)
        else:
            a = p["alpha"]
            f = scipy.stats.nbinom.pmf(k, 1 / a, 1 / (1 + a * mu))
        return w * (k == 0) + (1 - w) * f
    if kind in ("hp", "hnb"):
        pi = scipy.special.expit(X.to_numpy() @ p[["zm_" + c for c in X]].to_numpy())
        if kind == "hp":
            dist = scipy.stats.poisson(mu)
        else:
            dist = scipy.stats.nbinom(1 / p["alpha"], 1 / (1 + p["alpha"] * mu))
        return 1 - pi if k == 0 else pi * dist.pmf(k) / (1 - dist.pmf(0))
    a = p["alpha"]      # GP-1 by its formula (scipy has no generalized Poisson)
    return np.exp(np.log(mu) + (k - 1) * np.log(mu + a * k) - k * np.log1p(a)
                  - scipy.special.gammaln(k + 1) - (mu + a * k) / (1 + a))


@pytest.mark.parametrize("kind", ["zip", "zinb", "hp", "hnb", "gp"])
def test_predicted_probabilities_and_mean(kind):
    res = _fitted(kind)
    ks = np.arange(6)
    prob = res.predict(which="prob", y_values=ks)
    assert prob.shape == (len(Y), 6)
    for k in ks:
        np.testing.assert_allclose(prob[:, k], _scipy_pmf(kind, res, k), rtol=1e-10)
    np.testing.assert_allclose(res.predict(which="prob-zero"), prob[:, 0], rtol=1e-12)
    full = res.predict(which="prob")            # 0..max(endog)
    assert full.shape == (len(Y), int(Y.max()) + 1)
    assert np.all(full.sum(axis=1) < 1 + 1e-12)
    mean = res.predict()
    # a new exog (here the first rows) predicts the same
    rows = X.iloc[:20]
    kw = {"exog_infl": ZI.iloc[:20]} if kind in ("zip", "zinb") else {}
    np.testing.assert_allclose(res.predict(rows, **kw), mean[:20], rtol=1e-12)
    # the mean is sum_k k P(k) (counts up to 3000 hold all but a negligible tail)
    many = res.predict(rows, which="prob", y_values=np.arange(3000), **kw)
    np.testing.assert_allclose(many.sum(axis=1), 1.0, rtol=1e-10)
    np.testing.assert_allclose(many @ np.arange(3000), mean[:20], rtol=1e-10)


def test_zip_predict_with_new_exog_needs_exog_infl():
    res = ZeroInflatedPoisson(Y, X, exog_infl=ZI).fit()
    with pytest.raises(ValueError, match="needs exog_infl too.*inflate_const, inflate_physlm"):
        res.predict(X.iloc[:5])
    with pytest.raises(ValueError, match="which must be one of"):
        res.predict(which="probs")


# --- bad input ----------------------------------------------------------------------------------
ZERO_MODELS = [ZeroInflatedPoisson, ZeroInflatedNegativeBinomial, HurdlePoisson,
               HurdleNegativeBinomial]


@pytest.mark.parametrize("cls", ZERO_MODELS)
def test_no_zeros_is_refused(cls):
    y = Y + 1
    with pytest.raises(DataError, match=r"endog 'mdvis' has no zeros"):
        cls(y, X)


@pytest.mark.parametrize("cls", ZERO_MODELS + [GeneralizedPoisson])
def test_negative_or_fractional_counts_are_refused(cls):
    y = Y.astype(float).copy()
    y.iloc[3] = -1
    with pytest.raises(DataError, match=r"endog 'mdvis' has 1 negative values .*row 3"):
        cls(y, X)
    y.iloc[3] = 1.5
    with pytest.raises(DataError, match=r"endog 'mdvis' has 1 non-integer values .*row 3"):
        cls(y, X)


def test_misaligned_exog_infl_is_refused():
    with pytest.raises(DataError, match=r"exog_infl column 'inflate_x1' has 10 rows but "
                                        r"endog has 20190"):
        ZeroInflatedPoisson(Y, X, exog_infl=np.ones((10, 1)))
    shifted = ZI.set_axis(ZI.index + 5)
    with pytest.raises(DataError, match="exog_infl column 'inflate_const'"):
        ZeroInflatedPoisson(Y, X, exog_infl=shifted)
    # the same labels in another order are matched by label
    shuffled = ZI.sample(frac=1.0, random_state=0)
    a = ZeroInflatedPoisson(Y, X, exog_infl=shuffled)
    np.testing.assert_array_equal(a.zexog, ZI.to_numpy())
    with pytest.raises(DataError, match=r"exog_zero column 'zm_const' is a pandas Series "
                                        r"whose index differs"):
        HurdlePoisson(Y, X, exog_zero=pd.DataFrame({"const": np.ones(10)}))


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="inflation must be 'logit' or 'probit', not 'cloglog'"):
        ZeroInflatedPoisson(Y, X, inflation="cloglog")
    with pytest.raises(ValueError, match="zerodist must be 'logit', 'probit' or 'poisson'"):
        HurdlePoisson(Y, X, zerodist="negbin")
    with pytest.raises(ValueError, match="p must be 2"):
        ZeroInflatedNegativeBinomial(Y, X, p=3)
    with pytest.raises(TypeError, match=r"ZeroInflatedPoisson\(\): weights=\.\.\. needs "
                                        r"weight_type="):
        ZeroInflatedPoisson(Y, X, weights=np.ones(len(Y)))
    with pytest.raises(TypeError, match="Did you mean 'exog_infl'"):
        ZeroInflatedPoisson(Y, X, exog_inf=ZI)


def test_user_arrays_are_not_modified():
    zi = ZI.copy()
    y = Y.copy()
    ZeroInflatedPoisson(y, X, exog_infl=zi, offset=np.zeros(len(y))).fit()
    pd.testing.assert_frame_equal(zi, ZI)
    pd.testing.assert_series_equal(y, Y)


def test_example_prints_the_summaries_and_the_comparison():
    """examples/counts.py (also run by tests/test_examples.py): its ZINB alpha and hurdle
    log-likelihood are the references'."""
    import os
    import pathlib
    import re
    import subprocess
    import sys
    root = pathlib.Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root))
    run = subprocess.run([sys.executable, str(root / "examples" / "counts.py")], cwd=root,
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    assert "ZeroInflatedNegativeBinomial Regression Results" in out
    assert "HurdleNegativeBinomial Regression Results" in out
    alphas = [float(a) for a in re.findall(r"^alpha\s+(-?\d+\.\d+)", out, flags=re.M)]
    assert alphas[0] == pytest.approx(ZINB["params"][-1], abs=1e-4)
    assert alphas[1] == pytest.approx(TRUNC_NB2["params"][-1], abs=1e-4)
    llf = float(re.search(r"^Hurdle NB\s+21\.0000\s+(-?\d+\.\d+)", out, flags=re.M).group(1))
    assert llf == pytest.approx(HURDLE_LOGIT_ZERO["llf"] + TRUNC_NB2["llf"], abs=1e-4)
    assert "Lowest AIC: GP-1." in out


def test_a_fit_at_the_boundary_says_so_in_the_summary():
    """Poisson data: no excess zeros (inflation -> 0) and no overdispersion (alpha -> 0)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=3000)
    X1 = add_constant(x)
    y = rng.poisson(np.exp(0.5 + 0.3 * x))
    with pytest.warns(UserWarning, match="the zero inflation is below 1e-6 in every row"):
        res = ZeroInflatedPoisson(y, X1).fit()
    assert res.params["inflate_const"] < -13
    text = str(res.summary())
    assert "WARNING: Fit at a boundary of the parameter space" in " ".join(text.split())
    # alpha -> 0 (log alpha -> -inf): Newton cannot converge and the Hessian is singular
    # there; each is said, besides the boundary note
    with pytest.warns(Warning) as caught:
        res = ZeroInflatedNegativeBinomial(y, X1).fit()
    said = " ".join(str(w.message) for w in caught)
    assert "alpha = " in said and "is at the boundary alpha -> 0" in said
    assert {type(w.message).__name__ for w in caught} == {"UserWarning", "ConvergenceWarning",
                                                          "HessianWarning"}
    assert "at the boundary alpha -> 0" in " ".join(str(res.summary()).split())
    # an interior fit carries no such note
    assert ZeroInflatedPoisson(Y, X, exog_infl=ZI).fit().model.separation_note is None


def test_negative_binomial_at_alpha_zero_says_so_in_the_summary():
    """Held-out: underdispersed counts (binomial) put NB2 and NB1 at alpha -> 0; NB2 met
    gtol there and printed alpha's standard error (4e-6, z = 0.009) with no note."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=2000)
    y = rng.binomial(4, 1 / (1 + np.exp(-0.3 * x)))
    for method in ("nb2", "nb1"):
        # besides the boundary note: Newton on log alpha -> -inf may miss gtol (NB1 here), and
        # the intercept-only fit (llnull) runs to the same boundary; each is said
        with pytest.warns(Warning) as caught:
            res = NegativeBinomial(y, add_constant(x), loglike_method=method).fit()
            text = " ".join(str(res.summary()).split())
        said = [(type(w.message).__name__, str(w.message)) for w in caught]
        assert res.params["alpha"] < 1e-6, said
        assert [s for k, s in said if k == "UserWarning"] == [
            s for _, s in said if "is at the boundary alpha -> 0" in s], said
        assert {k for k, _ in said} <= {"UserWarning", "ConvergenceWarning"}, said
        assert any(k == "UserWarning" for k, _ in said), said
        assert "WARNING: Fit at a boundary of the parameter space: alpha = " in text
    # an interior fit carries no such note
    interior = NegativeBinomial(Y, X).fit()
    assert interior.params["alpha"] > 0.1 and interior.model.separation_note is None


def test_row_blocks_give_the_same_fit():
    import mleopt
    whole = ZeroInflatedNegativeBinomial(Y, X, exog_infl=ZI).fit()
    with mleopt.options(block_memory="256kB"):
        model = ZeroInflatedNegativeBinomial(Y, X, exog_infl=ZI)
        blocked = model.fit()
        assert len(model._blocks()[0]) > 10
    np.testing.assert_allclose(blocked.params, whole.params, rtol=0, atol=1e-10)
    np.testing.assert_allclose(blocked.bse, whole.bse, rtol=1e-10)


def test_generalized_poisson_on_dask():
    """(The two-part models on Dask data: tests/test_dask_families.py.)"""
    import dask.dataframe as dd     # a test dependency
    ddf = dd.from_pandas(pd.concat([Y, X], axis=1), npartitions=3)
    res = GeneralizedPoisson(ddf["mdvis"], ddf[list(X.columns)]).fit()   # an index model
    np.testing.assert_allclose(res.params, GP1["params"], rtol=0, atol=1e-6)


def test_hurdle_predict_takes_exog_zero():
    res = HurdlePoisson(Y, X, exog_zero=ZI).fit()
    assert res.params.index[:3].tolist() == ["zm_const", "zm_physlm", "zm_disea"]
    mean = res.predict()
    np.testing.assert_allclose(res.predict(X.iloc[:5], exog_zero=ZI.iloc[:5]), mean[:5],
                               rtol=1e-12)
    with pytest.raises(ValueError, match="needs exog_zero too"):
        res.predict(X.iloc[:5])
    # P(y > 0) is the logit part on its own
    pi = scipy.special.expit(ZI.to_numpy() @ res.params.iloc[:3].to_numpy())
    np.testing.assert_allclose(res.predict(which="prob-main"), pi, rtol=1e-12)
