"""Structured parameters in the model layer: fit_mle and LikelihoodModel take a dict of named
arrays as start values, loglikeobs receives that structure, results are flat and named.
Reference: statecrime, OLS by statsmodels 0.15.0 (tests/references.py STATECRIME_OLS): the
normal ML estimates are the OLS coefficients with sigma = sigma_ml, and the same llf."""
from __future__ import annotations

import numpy as onp
import pytest

import mleopt.numpy as np
import references as ref
from mleopt import datasets, fit_mle
from mleopt.models.base import LikelihoodModel

R = ref.STATECRIME_OLS
DATA = datasets.load("statecrime")
Y = DATA[R["endog"]].to_numpy(dtype=float)
X = onp.column_stack([onp.ones(len(Y))] + [DATA[c].to_numpy(dtype=float)
                                           for c in R["exog_names"][1:]])
K = len(R["exog_names"])
NAMES = [f"beta[{i}]" for i in range(K)] + ["log_sigma"]


def normal_loglikeobs(p, y=Y, x=X):
    sigma = np.exp(p["log_sigma"])
    r = (y - x @ p["beta"]) / sigma
    return -0.5 * r ** 2 - np.log(sigma) - 0.5 * onp.log(2 * onp.pi)


def start():
    return {"log_sigma": 0.0, "beta": onp.zeros(K)}


def check(res):
    assert list(res.params.index) == NAMES
    onp.testing.assert_allclose(res.params.iloc[:K], R["params"], rtol=1e-7)
    onp.testing.assert_allclose(onp.exp(res.params["log_sigma"]), R["sigma_ml"], rtol=1e-7)
    onp.testing.assert_allclose(res.llf, R["llf"], rtol=1e-10)


def test_fit_mle_with_a_dict_of_named_arrays():
    seen = []

    def ll(p):
        seen.append(type(p))
        return normal_loglikeobs(p)

    given = start()
    kept = given["beta"].copy()
    res = fit_mle(ll, given)
    check(res)
    assert seen and all(t is dict for t in seen)
    onp.testing.assert_array_equal(given["beta"], kept)      # the start values untouched


def test_fit_mle_structured_with_row_data_and_given_names():
    res = fit_mle(lambda p, y, x: normal_loglikeobs(p, y, x), start(), data={"y": Y, "x": X})
    check(res)
    names = [f"b{i}" for i in range(K)] + ["ls"]
    res = fit_mle(normal_loglikeobs, start(), param_names=names)
    assert list(res.params.index) == names
    with pytest.raises(ValueError, match=f"{K + 1} start values"):
        fit_mle(normal_loglikeobs, start(), param_names=names[:3])


class NormalRegression(LikelihoodModel):
    def loglikeobs(self, p):
        return normal_loglikeobs(p, self.endog, self.exog)

    def start_params(self):
        return start()


def test_likelihood_model_subclass_with_structured_start_values():
    check(NormalRegression(Y, X, param_names=NAMES).fit())
    res = NormalRegression(Y, X, param_names=NAMES).fit(start_params=start())
    check(res)
    assert res.bse.index.tolist() == NAMES


def test_a_refit_with_other_named_arrays_takes_their_names():
    # the names of the first structure were kept for a second one of the same size, so the
    # results labelled sigma's estimate as a coefficient
    class Either(LikelihoodModel):
        def loglikeobs(self, p):
            if "beta" in p:
                return normal_loglikeobs(p, self.endog, self.exog)
            return normal_loglikeobs({"beta": p["coef"][1], "log_sigma": p["coef"][0]},
                                     self.endog, self.exog)
    model = Either(Y, X)
    check(model.fit(start_params=start()))
    res = model.fit(start_params={"coef": (0.0, onp.zeros(K))})
    assert list(res.params.index) == ["coef[0]"] + [f"coef[1][{i}]" for i in range(K)]
    onp.testing.assert_allclose(onp.exp(res.params["coef[0]"]), R["sigma_ml"], rtol=1e-7)
    named = NormalRegression(Y, X, param_names=NAMES)   # names the user gave are kept
    assert list(named.fit(start_params=start()).params.index) == NAMES


def test_a_built_in_model_given_named_arrays_says_what_it_takes():
    # Logit's loglikeobs slices a flat vector: a dict start failed with "TypeError:
    # unhashable type: 'slice'" from inside the row blocks
    from mleopt import Logit
    from mleopt.exceptions import StartValueError
    y = (Y > onp.median(Y)).astype(float)
    for given in ({"b": onp.zeros(K)}, dict(zip([f"x{i}" for i in range(K)], [0.0] * K))):
        with pytest.raises(StartValueError, match=r"receives them in that structure.*"
                                                  r"Logit.*pd.Series"):
            Logit(y, X).fit(start_params=given)


class NormalRegressionScaleFirst(LikelihoodModel):
    """Structured start values whose flat order puts the scale before the coefficients
    (the keys are flattened sorted: "a_log_sigma" < "beta")."""

    def loglikeobs(self, p):
        return normal_loglikeobs({"beta": p["beta"], "log_sigma": p["a_log_sigma"]},
                                 self.endog, self.exog)

    def start_params(self):
        return {"beta": onp.zeros(self.exog.shape[1]), "a_log_sigma": 0.0}


def test_default_predict_takes_the_coefficient_entry_of_structured_params():
    """A user model without its own predict predicts exog @ coefficients: with structured
    parameters the coefficients are the one entry of exog's width, wherever it sits in the
    flat vector (before: the first K flat values, here log sigma and three slopes)."""
    res = NormalRegressionScaleFirst(Y, X).fit()
    assert res.param_names[0] == "a_log_sigma"
    beta = res.params.iloc[1:].to_numpy()
    onp.testing.assert_allclose(beta, R["params"], rtol=1e-7)
    onp.testing.assert_allclose(onp.asarray(res.predict()), X @ beta, rtol=1e-12)
    onp.testing.assert_allclose(onp.asarray(res.get_prediction(X[:3]).predicted),
                                X[:3] @ beta, rtol=1e-12)

    class TwoVectors(NormalRegressionScaleFirst):
        def start_params(self):
            return {"beta": onp.zeros(K), "gamma": onp.zeros(K), "a_log_sigma": 0.0}

        def loglikeobs(self, p):
            return super().loglikeobs(p) - 0.5 * np.sum(p["gamma"] ** 2)

    res = TwoVectors(Y, X).fit()
    with pytest.raises(NotImplementedError, match="beta, gamma.*define predict"):
        res.predict()


def test_structured_start_values_with_declared_transforms():
    """The declaration names the parameters the dict start values name (it was checked
    against the exog names before the start values named them: 'unknown parameter')."""
    box = {"log_sigma": ("interval", -5.0, 5.0)}
    check(NormalRegression(Y, X).fit(start_params=start(), transforms=box))
    check(NormalRegression(Y, X).fit(transforms=box))         # its own dict start values
    with pytest.raises(ValueError, match="unknown parameter 'log_sigm'"):
        NormalRegression(Y, X).fit(start_params=start(), transforms={"log_sigm": "positive"})


def test_structured_start_values_in_row_blocks():
    """Row blocks are copies of the model made before the start values gave the structure:
    they are made again with it (loglikeobs got a flat vector in every block: IndexError)."""
    model = NormalRegression(Y, X)
    res = model.fit(start_params=start(), block_memory="3kB")
    assert len(model._blocks()[0]) > 1
    check(res)
    plain = NormalRegression(Y, X).fit(start_params=start())
    onp.testing.assert_allclose(res.bse, plain.bse, rtol=1e-10)


def test_structured_start_values_on_dask_partitions():
    """Each partition's model is built on its worker from a description of the client's
    model: it gets the structure (and the names) of dict start values too (it got a flat
    vector: IndexError, reported as a start-value error), with transforms, cluster groups
    and a stochastic method alike."""
    import dask
    import dask.array as da
    dy, dx = da.from_array(Y, chunks=13), da.from_array(X, chunks=(13, K))
    groups = onp.arange(len(Y)) % 7
    plain = NormalRegression(Y, X).fit(start_params=start(), cov_type="cluster",
                                       cov_kwds={"groups": groups})
    box = {"log_sigma": ("interval", -5.0, 5.0)}
    with dask.config.set(scheduler="synchronous"):
        for kw in ({}, {"transforms": box},
                   {"method": "adam", "lr": 0.05, "batch_size": 10, "epochs": 1, "seed": 0}):
            res = NormalRegression(dy, dx).fit(start_params=start(), cov_type="cluster",
                                               cov_kwds={"groups": da.from_array(groups, 13)},
                                               **kw)
            check(res)
            onp.testing.assert_allclose(res.bse, plain.bse, rtol=1e-9)


# statsmodels 0.15.0: sm.OLS(murder, ones).fit().llf, the intercept-only normal model's
# log-likelihood (statecrime), computed once
LLNULL = -137.83737474068016


def test_structured_start_values_have_an_intercept_only_model():
    """exog's entry of the named arrays (the one of exog's width) becomes one number; it
    was NaN with a warning (the structure did not fit one column of ones)."""
    class SigmaFirst(LikelihoodModel):     # a list, exog's entry second
        def loglikeobs(self, p):
            return normal_loglikeobs({"log_sigma": p[0], "beta": p[1]}, self.endog, self.exog)

    for res in (NormalRegression(Y, X, param_names=NAMES).fit(),
                SigmaFirst(Y, X).fit(start_params=[0.0, onp.zeros(K)])):
        onp.testing.assert_allclose(res.llnull, LLNULL, rtol=1e-10)
        onp.testing.assert_allclose(res.prsquared, 1 - R["llf"] / LLNULL, rtol=1e-9)


def test_structured_start_values_without_one_entry_of_exog_width_have_no_llnull():
    class Split(LikelihoodModel):       # exog's coefficients in two entries
        def loglikeobs(self, p):
            b = np.concatenate([p["head"], p["tail"]])
            return normal_loglikeobs({"beta": b, "log_sigma": p["log_sigma"]},
                                     self.endog, self.exog)

    res = Split(Y, X).fit(start_params={"head": onp.zeros(2), "tail": onp.zeros(K - 2),
                                        "log_sigma": 0.0})
    with pytest.warns(UserWarning, match="llnull is not available"):
        assert onp.isnan(res.llnull)


def test_an_intercept_only_model_infinite_at_its_start_has_no_llnull():
    """The intercept-only model starts its other entries at 1: a user's ordered probit whose
    cut-points all start at 1 leaves the middle categories empty (log-likelihood -inf).
    llnull was reported as -inf, so prsquared was 1; now NaN with a warning."""
    from mleopt.stats import norm
    rng = onp.random.default_rng(0)
    x = rng.normal(size=(300, 2))
    y = onp.digitize(x @ [0.8, -0.5] + rng.normal(size=300), [-0.5, 0.5, 1.5]).astype(float)

    class OrderedProbit(LikelihoodModel):
        def loglikeobs(self, p):
            cuts = np.concatenate([np.array([-onp.inf]), p["cuts"], np.array([onp.inf])])
            eta, yi = self.exog @ p["beta"], self.endog.astype(int)
            return np.log(norm.cdf(cuts[yi + 1] - eta) - norm.cdf(cuts[yi] - eta))

    res = OrderedProbit(y, x).fit(start_params={"beta": onp.zeros(2),
                                                "cuts": onp.array([-1.0, 0.0, 1.0])})
    assert res.converged and onp.isfinite(res.llf)
    with pytest.warns(UserWarning, match="llnull is not available.*-inf"):
        assert onp.isnan(res.llnull)
    assert onp.isnan(res.prsquared)
