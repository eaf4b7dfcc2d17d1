"""Formulas (mleopt.formula, Model.from_formula): statsmodels' formula fits reproduced,
parameter names as patsy spells them, missing rows, predictions on new data frames with
the fit's encoding, second designs and per-row columns by name, the CLI's --formula."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("formulaic")

import mleopt.formula as mf
from mleopt import (OLS, Heckman, LikelihoodModel, Logit, OrderedModel, Poisson,
                    ZeroInflatedPoisson, add_constant)
from mleopt.cli import main
from mleopt.datasets import load
from mleopt.exceptions import DataError, MissingDataError

# Reference values: statsmodels 0.15.0 (patsy formulas), computed once by a scratch script:
# smf.logit / smf.probit / smf.poisson / smf.negativebinomial / smf.mnlogit fitted with
# method="newton", tol=1e-13; smf.ols(...).fit() (classical s^2 (X'X)^-1 standard errors);
# OrderedModel.from_formula(..., distr="logit") by bfgs then newton from its own estimate
# (params are statsmodels' increments; its numerical score stops at max |score| 3.8e-7);
# statsmodels' ZeroInflatedPoisson.from_formula(f, randhie,
# exog_infl=patsy.dmatrix("~ lncoins + idp", randhie)) by newton.
# The data of "probit_anes96_missing" and "mnlogit_anes96" are built by _data() below.
REF = {
    'logit_anes96': {
        'formula': 'vote ~ TVnews + PID + age + C(educ) + PID:income',
        'nobs': 944, 'llf': -264.15240071459584,
        'params': {'Intercept': -4.6266530597731546, 'C(educ)[T.2]': -0.478696310455771, 'C(educ)[T.3]': -0.2684717100999051, 'C(educ)[T.4]': -0.3836105899734399, 'C(educ)[T.5]': -0.33545234904794075, 'C(educ)[T.6]': -0.12573910103468044, 'C(educ)[T.7]': -0.28773283331481814, 'TVnews': 0.012697874169326346, 'PID': 1.1208259904737492, 'age': 0.011123583758379811, 'PID:income': 0.006238538839945174},
        'bse': {'Intercept': 1.1739468965545576, 'C(educ)[T.2]': 1.1394797402994752, 'C(educ)[T.3]': 1.0641744976019887, 'C(educ)[T.4]': 1.075001088740945, 'C(educ)[T.5]': 1.1115355655852324, 'C(educ)[T.6]': 1.0795519401051419, 'C(educ)[T.7]': 1.093702269542425, 'TVnews': 0.0462057912952486, 'PID': 0.11388871894898432, 'age': 0.007815557240542037, 'PID:income': 0.005281435853963284}},
    'probit_anes96_missing': {
        'formula': 'vote ~ TVnews + PID + np.log(age) + I(income ** 2) + C(educ)',
        'nobs': 940, 'llf': -265.2580897045604,
        'params': {'Intercept': -3.450805667867814, 'C(educ)[T.2]': -0.2104774251514359, 'C(educ)[T.3]': -0.0824079361078509, 'C(educ)[T.4]': -0.17625377948850474, 'C(educ)[T.5]': -0.15376682718161325, 'C(educ)[T.6]': -0.020103032413226262, 'C(educ)[T.7]': -0.11172191105418126, 'TVnews': 0.001418479046924201, 'PID': 0.6764905795944576, 'np.log(age)': 0.28704234636489956, 'I(income ** 2)': 0.0002993681126844951},
        'bse': {'Intercept': 0.994523024938932, 'C(educ)[T.2]': 0.6585633348603945, 'C(educ)[T.3]': 0.6120950934437631, 'C(educ)[T.4]': 0.6184966278175482, 'C(educ)[T.5]': 0.6362649907679624, 'C(educ)[T.6]': 0.6211829730892576, 'C(educ)[T.7]': 0.6318001701073277, 'TVnews': 0.024764744737104594, 'PID': 0.033721346758794825, 'np.log(age)': 0.19566955528577984, 'I(income ** 2)': 0.00040177234289937366}},
    'poisson_randhie': {
        'formula': 'mdvis ~ lncoins + idp + lpi + fmde + physlm + disea + C(hlthp) + lncoins:idp',
        'nobs': 20190, 'llf': -62391.134381596334,
        'params': {'Intercept': 0.7076304781327272, 'C(hlthp)[T.1]': 0.20250001173567808, 'lncoins': -0.09782049578907238, 'idp': -0.3874983860903933, 'lpi': 0.033503514772880626, 'fmde': -0.01158268437490657, 'physlm': 0.2842511525058958, 'disea': 0.033999636852640826, 'lncoins:idp': 0.09027996320818438},
        'bse': {'Intercept': 0.01086040949719095, 'C(hlthp)[T.1]': 0.02542208359717444, 'lncoins': 0.006028854287018315, 'idp': 0.019505178982558283, 'lpi': 0.0018380425195630378, 'fmde': 0.003119442960427979, 'physlm': 0.011953903748207609, 'disea': 0.0005552504640820667, 'lncoins:idp': 0.010457599288536653}},
    'nb2_randhie': {
        'formula': 'mdvis ~ lncoins + idp + lpi + fmde + physlm + disea + C(hlthg)',
        'nobs': 20190, 'llf': -43386.64176523292,
        'params': {'Intercept': 0.6640073306766938, 'C(hlthg)[T.1]': -0.052654697374358427, 'lncoins': -0.05816900915997887, 'idp': -0.2689696243504046, 'lpi': 0.041454667373875514, 'fmde': -0.03829031192319557, 'physlm': 0.28454960428362824, 'disea': 0.03861021415788301, 'alpha': 1.2937314162271678},
        'bse': {'Intercept': 0.024711748157823756, 'C(hlthg)[T.1]': 0.019132821935804692, 'lncoins': 0.006090062082522, 'idp': 0.022691671731541067, 'lpi': 0.004144222634993973, 'fmde': 0.0033996069454662278, 'physlm': 0.028756457487995216, 'disea': 0.001439235226557485, 'alpha': 0.01861492545518432}},
    'ols_grunfeld': {
        'formula': 'invest ~ value + capital + C(firm) + value:capital',
        'nobs': 220, 'llf': -1123.6962534091401,
        'params': {'Intercept': -2.2848361484647928, 'C(firm)[T.Atlantic Refining]': 5.367001517825457, 'C(firm)[T.Chrysler]': 25.76925990730406, 'C(firm)[T.Diamond Match]': -0.03791418016593617, 'C(firm)[T.General Electric]': -108.38416911529757, 'C(firm)[T.General Motors]': 73.2117858306274, 'C(firm)[T.Goodyear]': -6.871746924159188, 'C(firm)[T.IBM]': 17.35947820390543, 'C(firm)[T.US Steel]': 217.60258934757303, 'C(firm)[T.Union Oil]': 13.933194721580865, 'C(firm)[T.Westinghouse]': -11.987018427410803, 'value': 0.06987821794158847, 'capital': 0.07164614695239245, 'value:capital': 6.167824250532985e-05},
        'bse': {'Intercept': 9.461223569030478, 'C(firm)[T.Atlantic Refining]': 17.238182810050247, 'C(firm)[T.Chrysler]': 14.622383360788163, 'C(firm)[T.Diamond Match]': 13.175953199199146, 'C(firm)[T.General Electric]': 23.468164284338705, 'C(firm)[T.General Motors]': 41.52382016538781, 'C(firm)[T.Goodyear]': 14.719428111891794, 'C(firm)[T.IBM]': 13.605316653744994, 'C(firm)[T.US Steel]': 23.345474464601168, 'C(firm)[T.Union Oil]': 14.708825745200455, 'C(firm)[T.Westinghouse]': 14.43988942784921, 'value': 0.010115792443474091, 'capital': 0.02738344352102728, 'value:capital': 6.150611318205607e-06}},
    'mnlogit_anes96': {
        'formula': 'PID ~ age + C(educ)',
        'nobs': 944, 'llf': -914.9757645722846,
        'params': {'PID=1:Intercept': -2.186378361994138, 'PID=1:C(educ)[T.2]': 0.4965700416578997, 'PID=1:C(educ)[T.3]': 0.4316354585651443, 'PID=1:C(educ)[T.4]': 0.5443053533381897, 'PID=1:C(educ)[T.5]': 0.3716464547717918, 'PID=1:C(educ)[T.6]': 0.47890050473914464, 'PID=1:C(educ)[T.7]': 0.611242893937212, 'PID=1:age': 0.008242984890535102, 'PID=2:Intercept': -2.951296296884054, 'PID=2:C(educ)[T.2]': 1.0934487591574287, 'PID=2:C(educ)[T.3]': 1.934921675717784, 'PID=2:C(educ)[T.4]': 2.3337230624228154, 'PID=2:C(educ)[T.5]': 2.158645127254526, 'PID=2:C(educ)[T.6]': 2.3774693382138565, 'PID=2:C(educ)[T.7]': 2.068445712549906, 'PID=2:age': 0.009256496749116367},
        'bse': {'PID=1:Intercept': 0.8900944594355815, 'PID=1:C(educ)[T.2]': 0.857424962788287, 'PID=1:C(educ)[T.3]': 0.8093065976665176, 'PID=1:C(educ)[T.4]': 0.8220328066389754, 'PID=1:C(educ)[T.5]': 0.8597337934656909, 'PID=1:C(educ)[T.6]': 0.8204899341378674, 'PID=1:C(educ)[T.7]': 0.8276435524944588, 'PID=1:age': 0.006207243638616326, 'PID=2:Intercept': 1.0987985932410183, 'PID=2:C(educ)[T.2]': 1.115840057014402, 'PID=2:C(educ)[T.3]': 1.0639152833440626, 'PID=2:C(educ)[T.4]': 1.0676095144015945, 'PID=2:C(educ)[T.5]': 1.0810864221422845, 'PID=2:C(educ)[T.6]': 1.0663662751792071, 'PID=2:C(educ)[T.7]': 1.0728840774511987, 'PID=2:age': 0.004610798534264904}},
    'ordered_anes96': {
        'formula': 'PIDc ~ age + C(educ)',
        'nobs': 944, 'llf': -1740.25447297567,
        'params': {'C(educ)[T.2]': 0.3470722141142283, 'C(educ)[T.3]': 0.9681196457099536, 'C(educ)[T.4]': 1.1947876744457595, 'C(educ)[T.5]': 1.1878622821511635, 'C(educ)[T.6]': 1.3559963253682727, 'C(educ)[T.7]': 1.2060730088869676, 'age': 0.003513795590586176, '0/1': -0.057619230124541565, '1/2': -0.07015385052387542, '2/3': -0.7567160414147569, '3/4': -1.8342261872591146, '4/5': -0.8550092677005634, '5/6': -0.16629420892816088},
        'bse': {'C(educ)[T.2]': 0.5484601535146343, 'C(educ)[T.3]': 0.5080057812678935, 'C(educ)[T.4]': 0.5134078412363337, 'C(educ)[T.5]': 0.5317931803533789, 'C(educ)[T.6]': 0.5125959832567882, 'C(educ)[T.7]': 0.5183074378989825, 'age': 0.0036960790765801967, '0/1': 0.5528029511400457, '1/2': 0.06945985788837133, '2/3': 0.09140459017155275, '3/4': 0.16133808508257994, '4/5': 0.09859325884803466, '5/6': 0.07697055512155997}},
    'zip_randhie': {
        'formula': 'mdvis ~ lncoins + idp + lpi + fmde + physlm + disea + hlthg + hlthf + hlthp',
        'nobs': 20190, 'llf': -55159.90807099889,
        'params': {'inflate_Intercept': -1.2704890836438154, 'inflate_lncoins': 0.1286657149772353, 'inflate_idp': 0.5123271555029597, 'Intercept': 1.114837827796572, 'lncoins': -0.015206168547537815, 'idp': -0.09028417705367353, 'lpi': 0.012190396979249483, 'fmde': -0.022886633711482363, 'physlm': 0.23196070425095572, 'disea': 0.022835756981644206, 'hlthg': 0.020807773810522668, 'hlthf': 0.13562554504283478, 'hlthp': 0.2914563170044792},
        'bse': {'inflate_Intercept': 0.02726954231541719, 'inflate_lncoins': 0.00847575813945227, 'inflate_idp': 0.037672941672528736, 'Intercept': 0.01167819602820136, 'lncoins': 0.0030087073728412017, 'idp': 0.010992582326172368, 'lpi': 0.0019427118708316123, 'fmde': 0.001642501182811537, 'physlm': 0.012382898500433502, 'disea': 0.000594656236812787, 'hlthg': 0.009707876549183786, 'hlthf': 0.015986087792748432, 'hlthp': 0.026538599543717956}},
}


def _data(name: str) -> pd.DataFrame:
    if name in ("logit_anes96",):
        return load("anes96")
    if name == "probit_anes96_missing":     # 4 rows with NaN in a variable used
        d = load("anes96")
        d.loc[[3, 10, 11], "TVnews"] = np.nan
        d.loc[[10, 20], "income"] = np.nan
        return d
    if name == "mnlogit_anes96":            # PID in three groups: 0-2, 3-4, 5-6
        d = load("anes96")
        return d.assign(PID=(d.PID > 2).astype(int) + (d.PID > 4).astype(int))
    if name == "ordered_anes96":
        d = load("anes96")
        return d.assign(PIDc=pd.Categorical(d.PID, ordered=True))
    if name == "ols_grunfeld":
        return load("grunfeld")
    return load("randhie")


_SHORTCUT = {"logit_anes96": mf.logit, "probit_anes96_missing": mf.probit,
             "poisson_randhie": mf.poisson, "nb2_randhie": mf.negativebinomial,
             "ols_grunfeld": mf.ols, "mnlogit_anes96": mf.mnlogit}


def _close(got: pd.Series, want: dict, rtol: float) -> None:
    """By name (mleopt orders terms by degree, patsy by factor; the names are the same)."""
    assert set(got.index) == set(want)
    w = pd.Series(want)
    g = got.reindex(w.index)
    np.testing.assert_array_less(np.abs(g - w) / np.maximum(1.0, np.abs(w)), rtol)


@pytest.mark.parametrize("name", list(_SHORTCUT))
def test_statsmodels_formula_fits(name):
    ref = REF[name]
    kw = {"cov_type": "classical"} if name.startswith("ols") else {}
    res = _SHORTCUT[name](ref["formula"], _data(name)).fit(**kw)
    assert res.converged and res.nobs == ref["nobs"]
    # flat names (MNLogit's params/bse are K x (J-1) tables, as statsmodels', its flat
    # "PID=1:age" Series are params_flat / bse_flat)
    params, bse = getattr(res, "params_flat", res.params), getattr(res, "bse_flat", res.bse)
    _close(params[[p for p in params.index if p != "sigma"]], ref["params"], 1e-8)
    _close(bse[[p for p in bse.index if p != "sigma"]], ref["bse"], 1e-6)
    if not name.startswith("ols"):      # OLS's llf has sigma at its MLE, as statsmodels'
        assert res.llf == pytest.approx(ref["llf"], rel=1e-10)


def test_missing_rows_are_dropped_counted_and_reported():
    d = _data("probit_anes96_missing")
    model = mf.probit(REF["probit_anes96_missing"]["formula"], d)
    assert model.data.n_dropped == 4 and model.data.nobs_original == 944
    assert model.data.dropped_by == {"TVnews": 3, "income": 2}
    text = model.fit().summary().as_text()
    assert "4 of 944 rows with NaN or inf were dropped" in text
    with pytest.raises(MissingDataError, match=r"'TVnews' \(3 rows\).*'income' \(2 rows\)"):
        mf.probit("vote ~ TVnews + income", d, missing="raise")
    with pytest.raises(ValueError, match="missing must be 'drop' or 'raise'"):
        mf.probit("vote ~ TVnews", d, missing="none")


def test_names_and_restrictions_with_brackets_colons_parentheses():
    res = mf.logit(REF["logit_anes96"]["formula"], _data("logit_anes96")).fit()
    names = res.param_names
    assert names[0] == "Intercept" and "C(educ)[T.2]" in names and "PID:income" in names
    j = names.index("C(educ)[T.2]")
    t = res.t_test("C(educ)[T.2] = 0")
    assert float(np.asarray(t.tvalues)[0]) == pytest.approx(res.tvalues.iloc[j], rel=1e-12)
    r = np.zeros((2, len(names)))
    r[0, j], r[1, names.index("PID:income")] = 1.0, 1.0
    by_name = res.wald_test("C(educ)[T.2] = 0, PID:income = 0")
    assert float(by_name.statistic) == pytest.approx(float(res.wald_test(r).statistic),
                                                     rel=1e-12)
    res2 = mf.probit(REF["probit_anes96_missing"]["formula"],
                     _data("probit_anes96_missing")).fit()
    t2 = res2.t_test("np.log(age) - I(income ** 2) = 0")
    k1, k2 = res2.param_names.index("np.log(age)"), res2.param_names.index("I(income ** 2)")
    want = res2.params.iloc[k1] - res2.params.iloc[k2]
    assert float(np.asarray(t2.effect)[0]) == pytest.approx(want, rel=1e-12)


def test_formula_equals_the_array_model():
    """The formula's design is the hand-built one (same fit to the last digit)."""
    d = load("anes96")
    res = mf.logit("vote ~ TVnews + PID + C(educ) + PID:age + I(age ** 2) + np.log(age)",
                   d).fit()
    x = pd.DataFrame({"Intercept": 1.0, "TVnews": d.TVnews, "PID": d.PID}, index=d.index)
    for lev in range(2, 8):
        x[f"C(educ)[T.{lev}]"] = (d.educ == lev).astype(float)
    x["I(age ** 2)"], x["np.log(age)"] = d.age ** 2.0, np.log(d.age)
    x["PID:age"] = d.PID * d.age
    ref = Logit(d.vote, x).fit()
    np.testing.assert_allclose(res.params[x.columns], ref.params, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(res.bse[x.columns], ref.bse, rtol=1e-10)


def test_predict_new_data_reuses_the_encoding():
    d = load("anes96")
    res = mf.logit("vote ~ TVnews + C(educ) + center(age)", d).fit()
    new = d.iloc[[5, 2, 9]]
    got = res.predict(new)
    assert list(got.index) == [5, 2, 9]
    np.testing.assert_allclose(got, res.fittedvalues.loc[[5, 2, 9]], rtol=1e-12)
    # centring by the fit's mean, not the new rows' own: one row alone gives the same value
    one = res.predict(d.iloc[[9]])
    assert one.iloc[0] == pytest.approx(got.loc[9], rel=1e-12)
    # a dict of columns, and the model-level predict
    as_dict = res.predict({c: new[c].to_list() for c in new.columns})
    np.testing.assert_allclose(as_dict, got, rtol=1e-12)
    np.testing.assert_allclose(res.model.predict(res.params, new), got, rtol=1e-12)
    # only two levels of educ in the new data: columns still follow the fit's levels
    few = d[d.educ.isin([3, 4])].iloc[:4]
    np.testing.assert_allclose(res.predict(few), res.fittedvalues.loc[few.index], rtol=1e-12)


def test_unseen_level_is_a_clear_error():
    g = load("grunfeld")
    res = mf.ols("invest ~ value + C(firm)", g).fit()
    new = g.iloc[:2].copy()
    new.loc[new.index[0], "firm"] = "Acme Steel"
    with pytest.raises(DataError, match=r"column 'firm' \(in C\(firm\)\) has level "
                                        r"'Acme Steel' not seen in the fit"):
        res.predict(new)
    with pytest.raises(DataError, match="missing values"):
        res.predict(g.iloc[:2].assign(value=[np.nan, 1.0]))


def test_columns_by_name_subset_and_drop_cols():
    r = load("randhie").iloc[:3000].assign(years=lambda t: 1.0 + (t.idp + t.hlthg))
    f = "mdvis ~ lncoins + idp + lpi + physlm"
    res = mf.poisson(f, r, exposure="years").fit()
    x = add_constant(r[["lncoins", "idp", "lpi", "physlm"]])
    ref = Poisson(r.mdvis, x, exposure=r.years).fit()
    np.testing.assert_allclose(res.params.to_numpy(), ref.params.to_numpy(), rtol=1e-12)
    sub = mf.poisson(f, r, subset=r.hlthg == 1, drop_cols=["lpi"]).fit()
    assert "lpi" not in sub.param_names and sub.nobs == int((r.hlthg == 1).sum())
    by_label = mf.poisson(f, r, subset=r.index[r.hlthg == 1], drop_cols=["lpi"]).fit()
    np.testing.assert_allclose(by_label.params, sub.params, rtol=1e-12)
    with pytest.raises(DataError, match="no design column named 'lpj'.*Did you mean 'lpi'"):
        mf.poisson(f, r, drop_cols=["lpj"])
    with pytest.raises(DataError, match="Did you mean 'lncoins'"):
        mf.poisson("mdvis ~ lncoin", r)


def test_cluster_groups_align_after_dropped_rows():
    """Groups given later with every original row are matched by label to the rows used."""
    g = load("grunfeld")
    g.loc[[0, 50], "value"] = np.nan
    res = mf.ols("invest ~ value + capital", g).fit(cov_type="cluster",
                                                     cov_kwds={"groups": g["firm"]})
    kept = g.dropna(subset=["value"])
    ref = OLS(kept.invest, add_constant(kept[["value", "capital"]])).fit(
        cov_type="cluster", cov_kwds={"groups": kept["firm"]})
    np.testing.assert_allclose(res.bse.to_numpy(), ref.bse.to_numpy(), rtol=1e-12)


def test_second_design_as_formula_zero_inflated():
    ref = REF["zip_randhie"]
    r = load("randhie")
    res = mf.zeroinflated_poisson(ref["formula"], r, exog_infl="~ lncoins + idp").fit()
    _close(res.params, ref["params"], 1e-8)
    # statsmodels' analytic ZIP Hessian is off by up to 0.5% (tests/test_family_counts.py):
    # the bse are those of the model built from arrays, itself checked there
    x = add_constant(r[["lncoins", "idp", "lpi", "fmde", "physlm", "disea", "hlthg",
                        "hlthf", "hlthp"]]).rename(columns={"const": "Intercept"})
    z = add_constant(r[["lncoins", "idp"]]).rename(columns={"const": "Intercept"})
    arrays = ZeroInflatedPoisson(r.mdvis, x, exog_infl=z).fit()
    np.testing.assert_allclose(res.bse[arrays.params.index], arrays.bse, rtol=1e-10)
    # predictions on raw new data encode both designs
    new = r.iloc[[0, 7, 11]]
    np.testing.assert_allclose(res.predict(new, which="prob-zero"),
                               res.predict(which="prob-zero")[[0, 7, 11]], rtol=1e-12)


def test_heckman_with_selection_formula_and_unobserved_outcomes():
    """lwage is NaN for women out of the labour force: not missing (Heckman's rows)."""
    mroz = load("mroz")
    res = Heckman.from_formula("lwage ~ educ + exper + expersq", mroz,
                               selection_exog="~ educ + exper + expersq + nwifeinc + age + "
                                              "kidslt6 + kidsge6", selected="inlf").fit()
    x = add_constant(mroz[["educ", "exper", "expersq"]]).rename(columns={"const": "Intercept"})
    z = add_constant(mroz[["educ", "exper", "expersq", "nwifeinc", "age", "kidslt6",
                           "kidsge6"]]).rename(columns={"const": "Intercept"})
    ref = Heckman(mroz["lwage"], x, z, selected=mroz["inlf"]).fit()
    assert res.model.data.n_dropped == 0 and res.nobs == len(mroz)
    np.testing.assert_allclose(res.params.to_numpy(), ref.params.to_numpy(), rtol=1e-10)


def test_ordered_model_drops_the_intercept_as_statsmodels():
    ref = REF["ordered_anes96"]
    d = _data("ordered_anes96")
    res = mf.ordered_model(ref["formula"], d, distr="logit").fit()
    assert "Intercept" not in res.param_names
    increments = pd.Series(res.model.untransform(res.params.to_numpy()),
                           index=res.param_names)
    # statsmodels' own numerical score stops at 3.8e-7: agreement to 1e-6 is its accuracy
    _close(increments, ref["params"], 1e-6)
    assert res.llf == pytest.approx(ref["llf"], rel=1e-10)
    probs = res.predict(d.iloc[:3])
    assert probs.shape == (3, 7)


def test_user_subclass_gets_from_formula_with_extra_columns():
    class Weighted(LikelihoodModel):
        """A normal regression whose rows have known weights ``w`` (an extra array)."""
        extra_param_names = ["log_sigma"]

        def loglikeobs(self, params):
            import mleopt.numpy as mnp
            beta, log_s = params[:-1], params[-1]
            r = (self.endog - self.exog @ beta) / mnp.exp(log_s)
            return self.w * (-0.5 * r * r - log_s)

    g = load("grunfeld").assign(w=lambda t: 1.0 + (t.year % 3))
    model = Weighted.from_formula("invest ~ value + C(firm)", g, w="w")
    np.testing.assert_array_equal(model.w, g.w.to_numpy())
    res = model.fit()
    wls = np.linalg.lstsq(model.exog * np.sqrt(model.w)[:, None],
                          model.endog * np.sqrt(model.w), rcond=None)[0]
    np.testing.assert_allclose(res.params.iloc[:-1], wls, rtol=1e-8)
    assert res.param_names[:3] == ["Intercept", "value", "C(firm)[T.Atlantic Refining]"]


def test_bad_formulas_and_data():
    d = load("anes96")
    with pytest.raises(ValueError, match="no outcome on the left"):
        mf.logit("~ TVnews", d)
    with pytest.raises(ValueError, match="a formula is a string"):
        mf.logit("vote TVnews", d)
    with pytest.raises(TypeError, match="DataFrame or a dict"):
        mf.logit("vote ~ TVnews", d.to_numpy())
    with pytest.raises(TypeError, match="unexpected keyword argument 'exposur'"):
        mf.poisson("vote ~ TVnews", d, exposur="age")


def test_without_formulaic_the_message_says_what_to_install(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "formulaic", None)
    with pytest.raises(ImportError, match=r"pip install mleopt\[formula\]"):
        mf.logit("vote ~ TVnews", load("anes96"))


def test_import_mleopt_does_not_need_formulaic():
    import subprocess
    import sys
    code = ("import sys; sys.modules['formulaic'] = None; import mleopt, mleopt.formula; "
            "from mleopt import Logit; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "ok"


def test_cli_formula(capsys):
    assert main(["fit", "--formula", "vote ~ TVnews + C(educ)", "--model", "logit",
                 "--data", "anes96", "--format", "csv"]) == 0
    table = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out), index_col=0)
    ref = mf.logit("vote ~ TVnews + C(educ)", load("anes96")).fit()
    np.testing.assert_allclose(table["coef"], ref.params.to_numpy(), rtol=1e-6)
    assert list(table.index) == ref.param_names
    assert main(["fit", "--formula", "vote ~ TVnews", "--model", "logit", "--data", "anes96",
                 "--y", "vote"]) == 1
    assert "not both" in capsys.readouterr().err
    assert main(["fit", "--formula", "vote ~ TVnewz", "--model", "logit",
                 "--data", "anes96"]) == 1
    assert "Did you mean 'TVnews'" in capsys.readouterr().err


def test_restriction_names_holding_commas():
    """A name with a comma (a contrast given in C()) is not cut by the ',' separator."""
    res = mf.logit("vote ~ C(educ, Treatment(3)) + TVnews", load("anes96")).fit()
    name = "C(educ, Treatment(3))[T.1]"
    assert name in res.param_names
    both = res.wald_test(f"{name} = 0, TVnews = 0")
    r = np.zeros((2, len(res.param_names)))
    r[0, res.param_names.index(name)] = r[1, res.param_names.index("TVnews")] = 1.0
    assert float(both.statistic) == pytest.approx(float(res.wald_test(r).statistic), rel=1e-12)


def test_interactions_star_and_per_row_limits_by_column():
    a = load("affairs").assign(limit=0.0)
    star = mf.tobit("affairs ~ age * yearsmarried + rating", a, left="limit").fit()
    colon = mf.tobit("affairs ~ age + yearsmarried + age:yearsmarried + rating", a).fit()
    assert "age:yearsmarried" in star.param_names
    np.testing.assert_allclose(star.params[colon.params.index], colon.params, rtol=1e-10)


def test_interval_regression_refuses_formulas_by_name():
    from mleopt import IntervalRegression
    with pytest.raises(NotImplementedError, match="IntervalRegression has no from_formula"):
        IntervalRegression.from_formula("affairs ~ age", load("affairs"))


def test_predict_with_missing_variables_or_encoded_columns():
    d = load("anes96")
    res = mf.logit("vote ~ TVnews + np.log(age)", d).fit()
    with pytest.raises(DataError, match=r"could not be encoded.*'age' is not defined.*"
                                        r"'Intercept', 'TVnews', 'np.log\(age\)'"):
        res.predict(d[["TVnews"]].head())
    encoded = res.model.design.encode(d.head(4))       # design columns: read by name
    assert list(encoded.columns) == res.param_names
    np.testing.assert_allclose(res.predict(encoded[::-1]), res.fittedvalues[:4][::-1],
                               rtol=1e-12)


def test_cli_formula_drops_missing_rows_and_clusters(capsys, tmp_path):
    g = load("grunfeld")
    g.loc[[0, 50], "value"] = np.nan
    path = tmp_path / "g.csv"
    g.to_csv(path, index=False)
    argv = ["fit", "--formula", "invest ~ value + capital", "--model", "ols", "--data",
            str(path), "--cov", "cluster", "--groups", "firm", "--format", "csv"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "dropped 2 of 220 rows with missing values" in err
    table = pd.read_csv(__import__("io").StringIO(out), index_col=0)
    ref = mf.ols("invest ~ value + capital", g).fit(cov_type="cluster",
                                                     cov_kwds={"groups": g["firm"]})
    np.testing.assert_allclose(table["std err"], ref.bse.to_numpy(), rtol=1e-6)
    assert main(argv[:7] + ["--missing", "raise"]) == 1
    assert "missing values in 'value' (2 rows)" in capsys.readouterr().err


def test_backticks_quote_a_column_name_that_is_not_python():
    from mleopt import AFT
    o = load("ovarian")
    res = mf.aft("futime ~ `ecog.ps` + rx", o, event="fustat").fit()
    x = add_constant(o[["ecog.ps", "rx"]]).rename(columns={"const": "Intercept"})
    ref = AFT(o.futime, x, event=o.fustat).fit()
    assert res.param_names == ref.param_names
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-12)


def test_full_length_arrays_follow_the_rows_the_formula_drops():
    """Weights, exposure and a user's per-row arrays given as full-length arrays or Series
    (one value per row of data, as statsmodels' from_formula takes them) are cut to the
    rows kept after missing rows and subset are dropped. Reference: the array model on the
    kept rows (itself checked against statsmodels elsewhere)."""
    r = load("randhie").iloc[:2000].copy()
    r["fw"] = 1 + (np.arange(2000) % 3)
    r["years"] = 1.0 + (r.idp + r.hlthg)
    r.loc[[3, 40, 41], "lpi"] = np.nan
    f = "mdvis ~ lncoins + idp + lpi"
    kept = r.dropna(subset=["lpi"])
    ref = Poisson(kept.mdvis, add_constant(kept[["lncoins", "idp", "lpi"]]),
                  freq_weights=kept.fw.to_numpy(), exposure=kept.years.to_numpy()).fit()
    for w, e in ((r.fw, r.years), (r.fw.to_numpy(), r.years.to_numpy()), ("fw", "years")):
        res = mf.poisson(f, r, freq_weights=w, exposure=e).fit()
        assert res.nobs == ref.nobs
        np.testing.assert_allclose(res.params.to_numpy(),
                                   ref.params.to_numpy(), rtol=1e-10)
    sub = r.hlthg == 0
    kept_sub = kept[kept.hlthg == 0]
    ref_sub = Poisson(kept_sub.mdvis, add_constant(kept_sub[["lncoins", "idp", "lpi"]]),
                      freq_weights=kept_sub.fw.to_numpy()).fit()
    for w in (r.fw, r.fw.to_numpy(), r.fw[sub], r.fw[sub].to_numpy()):
        res = mf.poisson(f, r, subset=sub, freq_weights=w).fit()
        np.testing.assert_allclose(res.params.to_numpy(),
                                   ref_sub.params.to_numpy(), rtol=1e-10)
    with pytest.raises(DataError, match="freq_weights has 1999 rows"):
        mf.poisson(f, r, freq_weights=r.fw.to_numpy()[:-1])


def test_cluster_groups_by_a_column_name_is_a_clear_error():
    g = load("grunfeld")
    with pytest.raises(DataError, match="cluster groups must hold one value per row.*not the str 'firm'"):
        mf.ols("invest ~ value", g).fit(cov_type="cluster", cov_kwds={"groups": "firm"})


def test_predict_options_by_column_name_of_the_new_data():
    """As at the fit (exposure="years"), an option of predict / get_prediction given as a
    string names a column of the new data; a name that is not one is a DataError."""
    r = load("randhie").iloc[:2000].assign(years=lambda t: 1.0 + (t.idp + t.hlthg))
    res = mf.poisson("mdvis ~ lncoins + idp", r, exposure="years").fit()
    new = r.iloc[:5]
    by_name = res.get_prediction(new, exposure="years")
    by_values = res.get_prediction(new, exposure=new["years"])
    np.testing.assert_array_equal(by_name.predicted, by_values.predicted)
    np.testing.assert_array_equal(by_name.se, by_values.se)
    np.testing.assert_array_equal(res.predict(new, exposure="years"),
                                  res.predict(new, exposure=new["years"]))
    with pytest.raises(DataError, match="exposure='yeras' is not a column.*Did you mean 'years'"):
        res.predict(new, exposure="yeras")


def test_a_misspelt_column_for_a_per_row_keyword_is_named():
    s = load("statecrime")
    with pytest.raises(DataError, match="freq_weights='whit' is not a column.*'white'"):
        mf.ols("murder ~ poverty", s, freq_weights="whit")

    class Own(LikelihoodModel):
        def loglikeobs(self, params):
            return -(self.endog - self.exog @ params) ** 2 * self.scale_by

    with pytest.raises(TypeError, match="'scale_by'.*per-observation arrays of length 51"):
        Own.from_formula("murder ~ poverty", s, scale_by="whit")
    with pytest.raises(DataError, match="got the string 'whit'.*name of a column"):
        Poisson(s["murder"], add_constant(s["poverty"]), exposure="whit",
                allow_noninteger=True)


def test_unseen_level_of_a_text_column_without_c_is_named():
    """A text column used bare (``sex``, not ``C(sex)``) is categorical too: its unseen
    level is named with the column (it was formulaic's message without the column)."""
    a = load("affairs").assign(sex=lambda t: np.where(t.male == 1, "m", "f"))
    res = mf.logit("I(affairs > 0) ~ sex + age", a).fit()
    new = pd.DataFrame({"sex": ["x", "m"], "age": [30.0, 50.0]})
    with pytest.raises(DataError, match="column 'sex' \\(in sex\\) has level 'x' not seen in "
                                        "the fit \\(levels: 'f', 'm'\\)"):
        res.predict(new)
