"""Review of issue 10 on held-out cases: a Poisson model on simulated data (not the anes96 or
engel data of the authors' tests) with bounds and constraints.

Reference: the constrained MLE of ``exp(a) + c^2 = 1.5`` below was computed once with
scipy 1.x ``minimize(method="SLSQP", ftol=1e-15)`` (and confirmed by trust-constr, gtol=1e-12)
on a hand-written Poisson negative log-likelihood with its analytic gradient and constraint
Jacobian, in a scratch script (numpy default_rng(2026) data as in ``_data``).
"""
import numpy as np
import pandas as pd
import pytest
import scipy.optimize

import mleopt.numpy as mnp
from mleopt import Poisson, StartValueError
from mleopt.exceptions import ConvergenceWarning

SLSQP_REFERENCE = [0.34975385, 0.40498044, -0.25285619, 0.02695959]
SLSQP_LLF = -456.0217615410205      # -154.89265865661986 - sum(log y!)


def _data():
    rng = np.random.default_rng(2026)
    n = 300
    x = pd.DataFrame({"const": 1.0, "a": rng.normal(size=n), "b": rng.normal(size=n),
                      "c": rng.uniform(size=n)})
    y = pd.Series(rng.poisson(np.exp(x.to_numpy() @ [0.3, 0.5, -0.2, 0.1])), name="y")
    return y, x


def _curved(p):
    return mnp.exp(p[1]) + p[3] ** 2 - 1.5


def test_start_params_outside_the_bounds_are_refused_by_name():
    model = Poisson(*_data())
    with pytest.raises(StartValueError, match=r"b = -1 not in \[0, 1\]"):
        model.fit(method="l-bfgs-b", bounds={"b": (0, 1)}, start_params=[0, 0, -1, 0])
    # default start values outside the bounds are the optimiser's to move inside
    res = model.fit(method="l-bfgs-b", bounds={"b": (0.1, 1)})
    assert res.converged and res.params["b"] == pytest.approx(0.1) and res.at_bound["b"] == -1


def test_linear_constraint_of_the_wrong_width_is_named():
    model = Poisson(*_data())
    bad = scipy.optimize.LinearConstraint([[0.0, 1.0, 1.0]], 0.5, 0.5)
    with pytest.raises(ValueError, match=r"constraint 0: LinearConstraint's A has shape "
                                         r"\(1, 3\), but the model has 4 parameters"):
        model.fit(method="slsqp", constraints=bad)


@pytest.mark.parametrize("method", ["slsqp", "trust-constr"])
def test_nonlinear_constraint_at_default_jac_gets_the_exact_ad_jacobian(method):
    model = Poisson(*_data())
    start = np.zeros(4)
    nlc = scipy.optimize.NonlinearConstraint(_curved, 0.0, 0.0)    # jac left at '2-point'
    mapped = model._optimizer_constraints(nlc, start, method)[0]
    assert callable(mapped.jac)           # not scipy's finite differences
    z = np.array([0.2, -0.3, 0.4, 0.7])
    step = 1e-6
    numeric = [(mapped.fun(z + step * e) - mapped.fun(z - step * e)) / (2 * step)
               for e in np.eye(4)]
    np.testing.assert_allclose(np.ravel(mapped.jac(z)), np.ravel(numeric), atol=1e-8)
    # from the intercept-only point (Poisson's default start before it became Newton's
    # first step): from the closer default start trust-constr stops by its own tolerances
    # 1.8e-8 above this llf, with the constraint off by 5e-10 (a scipy success all the same)
    null = np.r_[np.log(model.endog.mean()), np.zeros(3)]
    res = model.fit(method=method, constraints=nlc, start_params=null)
    assert res.converged
    np.testing.assert_allclose(res.params, SLSQP_REFERENCE, atol=2e-7)
    assert res.llf == pytest.approx(SLSQP_LLF, abs=1e-9)


def test_nonlinear_constraint_in_plain_python_warns_that_it_is_finite_differences():
    model = Poisson(*_data())
    nlc = scipy.optimize.NonlinearConstraint(lambda p: float(p[1]) - 0.5, 0.0, 0.0)
    with pytest.warns(UserWarning, match="constraint 0: mleopt.ad cannot differentiate the "
                                         "NonlinearConstraint's fun"):
        res = model.fit(method="slsqp", constraints=nlc)
    assert res.params["a"] == pytest.approx(0.5, abs=1e-8)


def test_advice_after_a_bounded_fit_does_not_name_the_method_that_ran():
    model = Poisson(*_data())
    with pytest.warns(ConvergenceWarning) as caught:
        res = model.fit(method="slsqp", bounds={"b": (0, None)}, maxiter=2)
    assert not res.converged
    text = " ".join(str(w.message) for w in caught)
    assert "method='slsqp'" not in text and "method='l-bfgs-b' (bounds only)" in text


# --- profile likelihood up to the edge of a parameter's domain ------------------------------
# Reference (scratch script, scipy 1.x): the NB2 MLE by BFGS on a hand-written
# scipy.stats.nbinom log-likelihood, alpha-hat 0.0880515; the LR statistic of alpha -> 0 (the
# Poisson limit) is 2.3478 < 3.8415, so the 95% profile interval of alpha has no lower root:
# it reaches the edge alpha = 0; its upper end by brentq on a brute-force profile: 0.2470711071.
def _near_poisson():
    from mleopt import NegativeBinomial
    rng = np.random.default_rng(4)
    n = 150
    x = pd.DataFrame({"const": 1.0, "a": rng.normal(size=n)})
    y = rng.poisson(np.exp(0.5 + 0.3 * x["a"].to_numpy())) + (rng.uniform(size=n) < 0.08) * 2
    return NegativeBinomial(pd.Series(y, name="y"), x).fit()


def test_profile_interval_that_reaches_the_domain_edge_says_so():
    res = _near_poisson()
    assert res.params["alpha"] == pytest.approx(0.0880515, abs=1e-6)
    with pytest.warns(ConvergenceWarning, match="alpha does not fall by the chi2 quantile on "
                                                "the lower side before the edge of its domain"):
        ci = res.conf_int(method="profile", cols=["alpha"])
    assert 0 < ci.loc["alpha", 0] < 1e-9
    assert ci.loc["alpha", 1] == pytest.approx(0.2470711071, abs=1e-8)


def test_profile_grid_stays_inside_the_domain():
    res = _near_poisson()
    frame = res.profile("alpha")           # estimate - 3 se < 0: those points are left out
    assert (frame["value"] > 0).all() and np.isfinite(frame["llf"]).all()
    assert len(frame) < 21
    with pytest.raises(ValueError, match="values outside the domain of alpha: -0.1"):
        res.profile("alpha", values=[-0.1, 0.05])


# --- constraints on named parameters (issue 10, 3: "functions of named params") -------------
@pytest.mark.parametrize("method", ["slsqp", "trust-constr"])
def test_constraint_written_on_named_parameters(method):
    model = Poisson(*_data())
    named = {"type": "eq", "fun": lambda a, c, level: mnp.exp(a) + c ** 2 - level,
             "args": (1.5,)}
    res = model.fit(method=method, constraints=named)
    assert res.converged
    np.testing.assert_allclose(res.params, SLSQP_REFERENCE, atol=2e-7)


def test_constraint_with_unknown_parameter_names_is_refused():
    model = Poisson(*_data())
    with pytest.raises(ValueError, match=r"constraint 0: its fun's arguments name unknown "
                                         r"parameter\(s\) 'cc' \(did you mean 'c'\?\)"):
        model.fit(method="slsqp", constraints={"type": "eq", "fun": lambda a, cc: a + cc})
    with pytest.raises(ValueError, match="takes no 'jac'"):
        model.fit(method="slsqp", constraints={"type": "eq", "fun": lambda a, c: a + c,
                                               "jac": lambda a, c: [1.0, 1.0]})


def test_scipy_bounds_of_the_wrong_length_are_named():
    model = Poisson(*_data())
    with pytest.raises(ValueError, match=r"bounds \(scipy Bounds\) has 2 entries but the "
                                         r"model has 4 parameters \(const, a, b, c\)"):
        model.fit(method="l-bfgs-b", bounds=scipy.optimize.Bounds([0, 0], [1, 1]))
    res = model.fit(method="l-bfgs-b", bounds=scipy.optimize.Bounds(-5.0, 5.0))  # scalars
    assert res.converged


def test_transform_edge_is_not_confused_with_an_active_constraint():
    """At a constrained optimum the score is the constraints' multiplier times their
    gradient, not zero: that is no transform edge (no warning, nothing marked)."""
    import warnings
    model = Poisson(*_data())
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = model.fit(method="slsqp", transforms={"a": "positive"},
                        constraints={"type": "eq", "fun": lambda a, c: a + c - 0.5})
    assert res.converged and not res.at_bound.any()
    assert res.params["a"] + res.params["c"] == pytest.approx(0.5, abs=1e-9)


def test_interval_with_an_infinite_end_is_the_half_line():
    model = Poisson(*_data())
    free = model.fit()
    for spec in [("interval", 0, np.inf), ("interval", 0, None)]:
        res = model.fit(transforms={"a": spec})
        np.testing.assert_allclose(res.params, free.params, atol=1e-8)
    with pytest.raises(ValueError, match="lo cannot be \\+inf"):
        model.fit(transforms={"a": ("interval", np.inf, None)})


def test_unpolished_stochastic_estimate_is_not_called_a_transform_edge():
    model = Poisson(*_data())
    with pytest.warns(ConvergenceWarning) as caught:
        res = model.fit(method="adam", lr=0.05, epochs=2, polish=False, seed=0,
                        transforms={"a": "positive"})
    assert not res.converged and not res.at_bound.any()
    assert not any("edge" in str(w.message) for w in caught)


def test_constraints_with_no_common_point_are_reported_as_such():
    model = Poisson(*_data())
    both = [{"type": "ineq", "fun": lambda a: a - 2.0}, {"type": "ineq", "fun": lambda a: 1.0 - a}]
    with pytest.warns(ConvergenceWarning, match=r"the constraints are violated by up to "
                                                r"[0-9.]+ where it stopped \(they may have no "
                                                r"common feasible point\)"):
        res = model.fit(method="slsqp", constraints=both)
    assert not res.converged and "violated" in res.mle_retvals["message"]


def test_torch_style_step_refuses_a_gradient_of_another_shape():
    from mleopt import optim
    from mleopt.ad import tensor
    w = tensor(np.zeros(3), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    for bad in (np.ones(1), np.ones((2, 3))):
        w.grad = bad
        with pytest.raises(ValueError, match=r"parameter 0 of group 0 has shape \(3,\) but "
                                             r"its .grad has shape"):
            opt.step()
        np.testing.assert_array_equal(w._value, np.zeros(3))     # left as it was


def test_profile_interval_of_a_robust_fit_warns_that_it_is_not_robust():
    y, x = _data()
    plain = Poisson(y, x).fit()
    robust = Poisson(y, x).fit(cov_type="HC1")
    with pytest.warns(UserWarning, match="do not follow cov_type='HC1'"):
        ci = robust.conf_int(method="profile", cols=["a"])
    pd.testing.assert_frame_equal(ci, plain.conf_int(method="profile", cols=["a"]))


def test_stochastic_fit_of_a_function_holding_its_data_is_refused():
    """Its rows cannot be drawn: each 'minibatch' was the whole sample, its gradient scaled
    by N / batch_size, reported as batches of batch_size rows."""
    from mleopt import fit_mle
    y, x = _data()
    xa, yv = x["a"].to_numpy(), y.to_numpy()

    def closure(p):
        eta = p[0] + p[1] * xa
        return yv * eta - mnp.exp(eta)

    with pytest.raises(ValueError, match=r"holds its data itself \(no data=\), so its rows "
                                         "cannot be taken in minibatches"):
        fit_mle(closure, [0.0, 0.0], ["a0", "a1"], method="sgd", lr=0.05, epochs=2,
                batch_size=40, seed=0, polish=False)
    res = fit_mle(closure, [0.0, 0.0], ["a0", "a1"])           # Newton: fine
    for cov_type in ("jackknife", "bootstrap"):     # refused at once, not N failed refits
        with pytest.raises(ValueError, match=f"^cov_type='{cov_type}' refits the model on "
                                             "resampled rows, which this model cannot give: "
                                             "fit_mle: this function holds its data itself"):
            res.get_robustcov_results(cov_type)
    assert res.converged


def test_stochastic_fit_of_a_model_with_unsliceable_row_data_is_refused():
    """Per-row data in a dict: _take cannot slice them, so each minibatch would be the
    whole sample (its gradient scaled by N / batch_size)."""
    from mleopt import LikelihoodModel
    y, x = _data()

    class Stored(LikelihoodModel):
        def __init__(self, endog, exog, store):
            super().__init__(endog, exog)
            self.store = store

        def loglikeobs(self, p):
            eta = p[0] + p[1] * self.store["a"]
            return self.store["y"] * eta - mnp.exp(eta)

    model = Stored(y.to_numpy(), x[["const", "a"]].to_numpy(),
                   {"a": x["a"].to_numpy(), "y": y.to_numpy()})
    with pytest.raises(ValueError, match="Stored.loglikeobs gives 300 values on a minibatch "
                                         "of 40 rows"):
        model.fit(method="adam", epochs=1, batch_size=40)


def test_bounds_with_a_misspelt_name_suggest_the_parameter():
    model = Poisson(*_data())
    with pytest.raises(ValueError, match=r"bounds for unknown parameter\(s\) bb \(did you "
                                         r"mean 'b'\?\); the parameters are const, a, b, c"):
        model.fit(method="l-bfgs-b", bounds={"bb": (0, 1)})
