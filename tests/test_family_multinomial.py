"""MNLogit (multinomial logit) against statsmodels 0.15.0's MNLogit.

Reference: statsmodels 0.15.0, computed once on 2026-11-30 in a scratch environment (not a
test dependency), statsmodels' classic MNLogit example:

    anes = datasets/anes96.csv; anes["logpopul"] = log(popul + 0.1)
    X = sm.add_constant(anes[["logpopul", "selfLR", "age", "educ", "income"]])
    r = sm.MNLogit(anes["PID"], X).fit(method="newton", tol=1e-14)   # max |score| 3e-12
    me = r.get_margeff(); me_mean = r.get_margeff(at="mean")

Vectors are statsmodels' K x (J-1) (margeff: (K-1) x J) arrays raveled outcome by outcome,
``ravel(order="F")``: mleopt's flat order. vote_*: ``sm.MNLogit(anes["vote"], X)`` (J = 2,
the logit).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mleopt import Logit, MNLogit, add_constant
from mleopt.ad.api import has_index_structure
from mleopt.datasets import load
from mleopt.exceptions import DataError

ROOT = Path(__file__).resolve().parents[1]
EXOG = ["logpopul", "selfLR", "age", "educ", "income"]

SM = {
    "params": [
        -0.3734016773584857, -0.011535974566688716, 0.2977143515893805, -0.02494499544199852,
        0.08249144213934362, 0.005196553172511097, -2.250913176838134, -0.08875065303049168,
        0.3916686417323791, -0.02289783709298935, 0.1810427575133378, 0.04787397608754049,
        -3.6655835302145388, -0.10596669898687452, 0.5734505077646275, -0.014851206884623097,
        -0.007152419042284642, 0.057575159541368374, -7.613843090444815, -0.09155670169266646,
        1.2787717866111994, -0.008681345030114314, 0.1998279553199786, 0.08449837525052158,
        -7.060478246498898, -0.09328460395733394, 1.3469616457075992, -0.017904068947059204,
        0.216938849880448, 0.08095841215599181, -12.105750900463386, -0.1408806924015015,
        2.0700801350414917, -0.009432648701394725, 0.32192570241595203, 0.1088940832864796,],
    "bse": [
        0.6298376310106037, 0.03428236581106408, 0.093626795021844, 0.006524858401442333,
        0.07358657988768026, 0.01763369374460495, 0.7631899489501413, 0.039161555438791844,
        0.10823869188600818, 0.00791446175952357, 0.0852893563110291, 0.022280929659885474,
        1.1565414923490076, 0.05703822948488623, 0.15854813369622495, 0.011331313319906696,
        0.1262913233696004, 0.0336142087999502, 0.9575809602053, 0.04379027659937871,
        0.12889658542189253, 0.008418748605064735, 0.09412505594298476, 0.0261963632459914,
        0.8443638283208371, 0.03935165544699509, 0.11718601074060864, 0.0076110152227012754,
        0.0850070091340717, 0.022976079072852748, 1.0599548213528684, 0.04213804711478241,
        0.14340890904273268, 0.008133862477880095, 0.09109799207841814, 0.025300888026470052,],
    "margeff": [
        0.008680859852936363, -0.09779853989344736, 0.0027255698432046343,
        -0.019923765994715827, -0.006031333133197074, 0.006993867331543919,
        -0.05022430650581979, -0.0021100391158468536, -0.005369799773278162,
        -0.0055436673254555, -0.003910408513072696, -0.028247171839905185,
        -0.0010055129084106248, 0.00664337783966198, 0.0009798735830880976,
        -0.0018258088084789896, -0.005737447878410222, -4.2492533842650714e-05,
        -0.005466695648306608, 0.0005410111847808955, -0.0009855807871924228,
        0.019855502599310116, 0.00047972248929078906, 0.0017260568074218708,
        0.0021129136079194, -0.0015346952129474461, 0.037553459706696685,
        -0.0006853114874609049, 0.004724717239054794, 0.002547334556045838,
        -0.007418233862788727, 0.12459850381157576, 0.0006380637130656105,
        0.017666109530161952, 0.005393867526818344,],
    "margeff_se": [
        0.0038581063235509413, 0.008047112968923738, 0.000706848840295938,
        0.008231896973763881, 0.0020261706527400095, 0.0039043779781516197,
        0.007360028473675563, 0.0007564309526934465, 0.008438157750059972,
        0.0020482237816550515, 0.0031371259879160933, 0.005681318108328683,
        0.0006601377191345792, 0.00689325879065579, 0.0018481805910608893,
        0.0019427783066091285, 0.003190476103484743, 0.0003865410703178829,
        0.0043617888874868515, 0.001152322130585075, 0.00298632263120876, 0.005407609052190722,
        0.0005886611349135059, 0.006442636266211995, 0.0018886817817605056,
        0.0035806551885585714, 0.0069497363243852086, 0.0007225109713561088,
        0.007828771694889538, 0.0022352392586843044, 0.003364161083437116,
        0.008376628927256725, 0.0006774696820111564, 0.007350528795593767,
        0.0021660086623426136,],
    "margeff_mean": [
        0.011498874876067454, -0.1378420737339741, 0.002733134217893494, -0.02542974375763196,
        -0.008553468650057957, 0.01114846759166926, -0.09864271852144227,
        -0.002224350829278214, -0.012146168639092618, -0.009035813686067934,
        -0.003817029724665905, -0.0513229673216754, -0.0011676322267484079,
        0.006242032445332043, 0.00021912159745089704, -0.0023345536377753955,
        -0.009285536166054695, -2.065611008878238e-06, -0.0077541565145495955,
        0.0006000448793291058, -0.0035257993455904677, 0.06412187346169629,
        0.0007393894471082797, 0.007477780987861212, 0.00459965009798374,
        -0.005743082809814106, 0.1112653558541128, -0.000573379111277237, 0.014674244357029282,
        0.0064176087408748415, -0.007226876949890845, 0.12170606642733724,
        0.0004949041133109654, 0.016936011121051652, 0.005752857020487303,],
    "margeff_mean_se": [
        0.004372976224981008, 0.01103433640956867, 0.0008149907968762713, 0.009255139863485943,
        0.0023752073077549863, 0.004875051085736794, 0.012474636264436902,
        0.0009613151854539818, 0.010566581530450299, 0.0026524426011457947,
        0.004071895478255364, 0.010361394184911166, 0.000855461504114003, 0.008993129802439069,
        0.0024374625322648694, 0.0026430805178337324, 0.007084591979633326,
        0.0005364368856869404, 0.005765426132931136, 0.001598883836860871,
        0.0037798148122322067, 0.010384928038218184, 0.0007393480766737182,
        0.00820219302190925, 0.002348925872719675, 0.004565462811819331, 0.013032939421762688,
        0.0009128132868202165, 0.010005325434720283, 0.002804860042725, 0.002768238458708059,
        0.011329267670791178, 0.0005325112091803888, 0.006128934059826058,
        0.0017330759788618544,],
    "prob0": [
        0.016877579752627398, 0.05028960973283924, 0.026783591928169436, 0.018541805129543638,
        0.11510173986677717, 0.24377936902799524, 0.5286263045620478,],
    "prob1": [
        0.35885118921869, 0.48220820044926677, 0.10514762225737832, 0.022500815407669586,
        0.010330647475945372, 0.019383675920026, 0.001577849271023881,],
    "vote_params": [
        -7.9778549502273615, -0.10287965665160957, 1.2258459453200636, 0.006349221582059102,
        0.17138358537655107, 0.0764821669811741,],
    "vote_bse": [
        0.6262251222715698, 0.02721041233290565, 0.08058787607785536, 0.00526533021596678,
        0.058612882606106385, 0.016634644415427637,],
    "llf": -1461.922747248146,
    # statsmodels' llnull (-1750.346710709092) comes from an iterative fit; the closed form
    # sum_j n_j log(n_j / N) is its exact value (statsmodels' OrderedModel gives it too)
    "llnull": -1750.3467099898216,
}


@pytest.fixture(scope="module")
def anes():
    data = load("anes96")
    data["logpopul"] = np.log(data["popul"] + 0.1)
    return data


@pytest.fixture(scope="module")
def res(anes):
    return MNLogit(anes["PID"], add_constant(anes[EXOG])).fit()


def test_matches_statsmodels(res):
    assert res.converged
    np.testing.assert_allclose(res.params_flat, SM["params"], rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(res.bse_flat, SM["bse"], rtol=1e-6)
    assert res.llf == pytest.approx(SM["llf"], rel=1e-11)
    assert res.llnull == pytest.approx(SM["llnull"], rel=1e-12)
    assert (res.df_model, res.df_resid, res.k_params) == (30, 908, 36)
    assert (res.J, res.K, res.model.J, res.model.K) == (7, 6, 7, 6)    # statsmodels' r.J, r.K


def test_parameter_names_and_tables(res):
    """statsmodels' MNLogitResults: params, bse, tvalues, pvalues are K x (J-1) tables;
    the flat names serve the generic tools (tests by name, cov_params, the summary)."""
    names = res.param_names
    assert names[:2] == ["PID=1:const", "PID=1:logpopul"] and names[-1] == "PID=6:income"
    for table in (res.params, res.bse, res.tvalues, res.pvalues, res.params_table):
        assert isinstance(table, pd.DataFrame)
        assert list(table.index) == ["const"] + EXOG
        assert list(table.columns) == [f"PID={j}" for j in range(1, 7)]
    np.testing.assert_allclose(res.params.to_numpy(),
                               np.reshape(SM["params"], (6, 6)).T, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(res.bse.to_numpy(),
                               np.reshape(SM["bse"], (6, 6)).T, rtol=1e-6)
    assert res.bse.loc["selfLR", "PID=6"] == pytest.approx(res.bse_flat["PID=6:selfLR"])
    assert res.tvalues.loc["age", "PID=2"] == pytest.approx(
        res.params_flat["PID=2:age"] / res.bse_flat["PID=2:age"], rel=1e-14)
    assert res.pvalues.loc["educ", "PID=3"] == pytest.approx(res.pvalues_flat["PID=3:educ"])
    assert list(res.conf_int().index) == names and list(res.cov_params().index) == names
    # the flat names reach the generic tools: a Wald test by name (the '=' inside the
    # names is not the restriction's)
    wald = res.wald_test("PID=5:selfLR = PID=6:selfLR")
    a, b = "PID=5:selfLR", "PID=6:selfLR"
    cov = res.cov_params()
    diff = res.params_flat[a] - res.params_flat[b]
    chi2 = diff**2 / (cov.loc[a, a] + cov.loc[b, b] - 2 * cov.loc[a, b])
    assert float(np.squeeze(wald.statistic)) == pytest.approx(chi2, rel=1e-10)
    # the summary in statsmodels' layout: a block per outcome, rows the regressors
    text = res.summary().as_text().splitlines()
    heads = [i for i, line in enumerate(text) if line.split()[:2] in
             (["PID=%d" % j, "coef"] for j in range(1, 7))]
    assert len(heads) == 6
    block = text[heads[2] + 2:heads[2] + 8]
    assert [line.split()[0] for line in block] == ["const"] + EXOG
    assert float(block[4].split()[1]) == pytest.approx(res.params.loc["educ", "PID=3"],
                                                       abs=5e-5)
    assert "<th>PID=3</th>" in res.summary().as_html()


def test_summary_options(res):
    """summary(alpha=, title=, xname=) as for the other models (xname raised TypeError):
    xname names the regressors, the same in every outcome's block."""
    short = ["c", "lp", "slr", "ag", "ed", "inc"]
    text = res.summary(alpha=0.1, title="Party", xname=short).as_text().splitlines()
    assert text[0].strip() == "Party"
    heads = [i for i, line in enumerate(text) if line.split()[:2] == ["PID=4", "coef"]]
    assert [line.split()[0] for line in text[heads[0] + 2:heads[0] + 8]] == short
    assert "[0.05" in text[heads[0]] and "0.95]" in text[heads[0]]
    with pytest.raises(ValueError, match="xname has 36 names for the 6 regressors"):
        res.summary(xname=res.param_names)
    with pytest.raises(TypeError, match="title must be a string"):
        res.summary(title=3)


def test_predicted_probabilities(res, anes):
    prob = res.predict()
    assert list(prob.columns) == list(range(7))
    np.testing.assert_allclose(prob.iloc[0], SM["prob0"], rtol=1e-7)
    np.testing.assert_allclose(prob.iloc[1], SM["prob1"], rtol=1e-7)
    np.testing.assert_allclose(prob.sum(axis=1), 1.0, rtol=1e-14)
    new = res.predict(add_constant(anes[EXOG]).iloc[:2])
    np.testing.assert_allclose(new.to_numpy(), prob.iloc[:2].to_numpy(), rtol=1e-13)
    linear = res.model.predict(res.params, which="linear")       # the table, by labels
    assert linear.shape == (944, 6)
    np.testing.assert_array_equal(linear, res.model.predict(res.params_flat, which="linear"))
    shuffled = res.params.iloc[::-1, ::-1]
    np.testing.assert_array_equal(res.model.predict(shuffled, which="linear"), linear)
    with pytest.raises(DataError, match="needs rows"):
        res.model.predict(res.params.iloc[:, 1:], which="linear")
    with pytest.raises(ValueError, match="no mean"):
        res.model.predict(res.params, which="mean")


@pytest.mark.parametrize("at", ["overall", "mean"])
def test_marginal_effects_per_outcome(res, at):
    me = res.get_margeff(at=at)
    key = "margeff" if at == "overall" else "margeff_mean"
    assert me.names[:2] == ["PID=0:logpopul", "PID=0:selfLR"] and len(me.names) == 35
    np.testing.assert_allclose(me.margeff, SM[key], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(me.margeff_se, SM[key + "_se"], rtol=1e-5)
    # probabilities sum to one: the effects on all outcomes sum to zero per regressor
    np.testing.assert_allclose(me.margeff.to_numpy().reshape(7, 5).sum(axis=0), 0.0,
                               atol=1e-15)
    with pytest.raises(ValueError, match="dydx"):
        res.get_margeff(method="eyex")


# statsmodels 0.15.0: y3 = pd.cut(anes96.PID, [-1, 1, 4, 7], labels=False),
# r = sm.MNLogit(y3, add_constant(anes96[["TVnews", "age", "educ", "income"]])).fit(tol=1e-12)
# r.get_margeff(at="median") and r.get_margeff(at="mean", atexog={2: 30.0}) (age = 30):
# margeff.ravel(order="F"), margeff_se.ravel(order="F")
SM_MNL3_MEDIAN = (
    [0.007727271316113175, -0.0011439869561670139, -0.01069404614677825, -0.016520463015251882,
     0.0005068107439502748, -0.0004461953674298593, 0.001618435072299414, 0.0038852633310738657,
     -0.008234082060063447, 0.0015901823235968731, 0.009075611074478835, 0.012635199684178014],
    [0.00664065497677829, 0.0010907776292358444, 0.011101903835538279, 0.0028888177004864238,
     0.005919904466161897, 0.0009949528676964521, 0.009819053882974672, 0.0027848915044773586,
     0.006482037139282083, 0.0010774590201674016, 0.010592880315021386, 0.003154701337840981])
SM_MNL3_MEAN_AGE30 = (
    [0.007718824191918221, -0.0011262425229100897, -0.010785444867663866, -0.01672320786816262,
     0.0001797915265827667, -0.00039355852306964913, 0.0020446133243823376,
     0.0045278760944394815, -0.007898615718500989, 0.0015198010459797388,
     0.008740831543281527, 0.012195331773723136],
    [0.006849090003621865, 0.001127071673575523, 0.011291544100004436, 0.0030111494120748693,
     0.00600289927100191, 0.0010202216880998614, 0.009958083688180032, 0.0027786051288693435,
     0.006059566323380957, 0.000985880304911255, 0.01016473245503469, 0.002951723448710711])


def test_marginal_effects_at_median_and_atexog(anes):
    """at="median" | "zero" and atexog, as for the other models (they were refused)."""
    y3 = pd.cut(anes["PID"], [-1, 1, 4, 7], labels=False)
    res = MNLogit(y3, add_constant(anes[["TVnews", "age", "educ", "income"]])).fit()
    for kw, (value, se) in ((dict(at="median"), SM_MNL3_MEDIAN),
                            (dict(at="mean", atexog={"age": 30.0}), SM_MNL3_MEAN_AGE30)):
        me = res.get_margeff(**kw)
        np.testing.assert_allclose(me.margeff, value, rtol=1e-6, atol=1e-10)
        np.testing.assert_allclose(me.margeff_se, se, rtol=1e-6)
    # at="zero": regressors 0, the constant 1; the effects on the three probabilities sum to 0
    zero = res.get_margeff(at="zero").margeff.to_numpy().reshape(3, 4)
    np.testing.assert_allclose(zero.sum(axis=0), 0.0, atol=1e-15)
    with pytest.raises(ValueError, match="atexog: no regressor named 'agee'"):
        res.get_margeff(atexog={"agee": 30})


def test_two_text_categories_give_the_logit(anes):
    """Labels are sorted (the first the base); with J = 2 the model is the logit."""
    x = add_constant(anes[EXOG])
    text = anes["vote"].map({0: "Clinton", 1: "Dole"})
    res = MNLogit(text, x).fit()
    assert res.param_names[0] == "vote=Dole:const"
    np.testing.assert_allclose(res.params_flat, SM["vote_params"], rtol=1e-7)
    np.testing.assert_allclose(res.bse_flat, SM["vote_bse"], rtol=1e-6)
    logit = Logit(anes["vote"], x).fit()
    assert res.llf == pytest.approx(logit.llf, rel=1e-12)


def test_linear_indices_found_and_blocks_agree(anes):
    """mleopt.ad finds the J-1 linear indices (fast Hessian); row blocks give the same fit."""
    model = MNLogit(anes["PID"], add_constant(anes[EXOG]))
    assert has_index_structure(model.loglike, model.start_params())
    whole = model.fit()
    blocked = MNLogit(anes["PID"], add_constant(anes[EXOG])).fit(block_memory="64kB")
    assert len(blocked.model._blocks()[0]) > 1
    np.testing.assert_allclose(blocked.params, whole.params, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(blocked.bse, whole.bse, rtol=1e-8)


def test_bad_input(anes):
    x = add_constant(anes[EXOG])
    with pytest.raises(DataError, match="single category \\(1\\)"):
        MNLogit(np.ones(len(anes)), x)
    mixed = anes["vote"].astype(object).copy()
    mixed.iloc[0] = "Dole"
    with pytest.raises(DataError, match="mixes labels of types.*cannot be sorted"):
        MNLogit(mixed, x)
    with pytest.raises(DataError, match="needs exog"):
        MNLogit(anes["PID"], None)
    with pytest.raises(TypeError, match="weights"):
        MNLogit(anes["PID"], x, weights=np.ones(len(anes)))


def test_example_runs_and_prints_both_summaries():
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "ordinal.py")], cwd=ROOT,
                         capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1",
                              "PATH": ""})
    assert out.returncode == 0, out.stderr[-3000:]
    assert "OrderedModel Regression Results" in out.stdout
    assert "MNLogit Regression Results" in out.stdout
    assert "5/6" in out.stdout and "PID=6:selfLR" in out.stdout


def test_separation_is_an_error_or_a_warning_with_a_note():
    """Outcome 2 exactly when x > 0.5: its coefficients diverge (the fit may even meet the
    gradient tolerance); a linear program finds the direction."""
    from mleopt.exceptions import PerfectSeparationError, PerfectSeparationWarning
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    y = np.where(x > 0.5, 2, rng.integers(0, 2, 200))
    with pytest.raises(PerfectSeparationError, match="'y=2:const', 'y=2:x1'"):
        MNLogit(y, add_constant(x)).fit()
    with pytest.warns(PerfectSeparationWarning):
        res = MNLogit(y, add_constant(x), separation="warn").fit()
    assert "perfect separation" in str(res.summary())


def test_summary_col_reads_the_flat_names(res, anes):
    """summary_col beside a logit: MNLogit's rows by flat name ('PID=1:age'), the numbers
    those of params_flat / bse_flat (its params is the K x (J-1) table)."""
    from mleopt import summary_col
    logit = Logit(anes["vote"], add_constant(anes[EXOG])).fit()
    table = summary_col([res, logit], stars=True, model_names=["mnl", "logit"])
    frame = table.params_frame()
    assert frame.loc["PID=2:age", "mnl"] == pytest.approx(res.params.loc["age", "PID=2"])
    assert frame.loc["age", "logit"] == pytest.approx(logit.params["age"])
    assert np.isnan(frame.loc["age", "mnl"]) and np.isnan(frame.loc["PID=2:age", "logit"])
    assert table.bse_frame().loc["PID=6:selfLR", "mnl"] == pytest.approx(
        res.bse.loc["selfLR", "PID=6"])
    cells = table.to_frame()
    assert cells.loc["PID=6:selfLR", "mnl"].endswith("***")


def test_model_functions_take_the_table_and_named_series(res, anes):
    """model.loglike / loglikeobs / score / score_obs / hessian read params as predict
    does: MNLogit's K x (J-1) table by its labels, a named Series by its names (in any
    order), not by position."""
    model, flat = res.model, res.params_flat.to_numpy()
    for fn in ("loglike", "loglikeobs", "score", "score_obs", "hessian"):
        expected = getattr(model, fn)(flat)
        np.testing.assert_array_equal(getattr(model, fn)(res.params), expected, err_msg=fn)
        np.testing.assert_array_equal(getattr(model, fn)(res.params_flat.iloc[::-1]),
                                      expected, err_msg=fn)
    logit = Logit(anes["vote"], add_constant(anes[EXOG])).fit()
    for fn in ("loglike", "loglikeobs", "score", "hessian"):
        f = getattr(logit.model, fn)
        np.testing.assert_array_equal(f(logit.params.iloc[::-1]),
                                      f(logit.params.to_numpy()), err_msg=fn)
    with pytest.raises(DataError, match="needs rows"):
        model.loglike(res.params.iloc[:, 1:])


def test_latex_and_tables_keep_the_outcome_blocks(res):
    """The LaTeX summary heads each outcome's block with its label (as the text and HTML
    do), and ``tables[1]`` is indexed (outcome, regressor): the regressor names repeat."""
    summary = res.summary()
    latex = summary.as_latex().splitlines()
    heads = [i for i, line in enumerate(latex) if line.startswith("PID=")]
    assert [latex[i].split(" & ")[0] for i in heads] == [f"PID={j}" for j in range(1, 7)]
    assert latex[heads[2] + 2].startswith("const & -3.6656")
    table = summary.tables[1]
    assert table.index[0] == ("PID=1", "const") and table.index[-1] == ("PID=6", "income")
    assert table.loc[("PID=3", "educ"), "coef"] == pytest.approx(res.params.loc["educ", "PID=3"])


def test_start_values_are_newtons_first_step_from_the_null_model(anes):
    """The closed-form start (linear probability model mapped to log odds) is the Newton
    step from the intercept-only point, with the AD gradient and Hessian there; the fit then
    ends at the same estimate as from the null model itself."""
    model = MNLogit(anes["PID"], add_constant(anes[EXOG]))
    j, k = model.n_categories, model.k_exog
    null = np.zeros((j - 1, k))
    null[:, 0] = np.log(model._counts[1:] / model._counts[0])
    null = null.ravel()
    step = np.linalg.solve(model.hessian(null), -model.score(null))
    start = model.start_params()
    np.testing.assert_allclose(start, null + step, rtol=1e-9, atol=1e-12)
    own, from_null = model.fit(), MNLogit(anes["PID"], add_constant(anes[EXOG])).fit(
        start_params=null)
    np.testing.assert_allclose(own.params_flat, from_null.params_flat, rtol=1e-10)
    np.testing.assert_allclose(own.bse_flat, from_null.bse_flat, rtol=1e-10)
    assert own.mle_retvals["iterations"] < from_null.mle_retvals["iterations"]
