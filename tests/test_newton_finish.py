"""A scipy method that stops by its own rules just short of gtol is finished by Newton.

l-bfgs-b ("relative reduction of f"), tnc and trust-krylov stopped with max |gradient| 1.07e-8
to 1.46e-8 against gtol = 1e-8 on 6 of 360 well-posed fits (Logit with fweights, Poisson, NB2
on simulated data; scratch scan, 30 seeds x 4 methods): reported converged=False with a
warning although the estimates were at the optimum. Newton with the exact Hessian now
finishes from such a point (gradient within 1000 gtol, Hessian positive definite, strictly
inside any bounds), and the message says so.
"""
import warnings

import numpy as np
import pytest

import mleopt
from mleopt.exceptions import ConvergenceWarning


def _poisson(seed=14, n=3000):
    rng = np.random.default_rng(seed)
    x = np.column_stack([np.ones(n), rng.normal(size=(n, 4)) * [1, 10, 0.1, 1]])
    rng.uniform(size=n)
    rng.integers(1, 5, size=n)
    y = rng.poisson(np.exp(x @ [0.1, 0.2, 0.01, 1, -0.3]))
    return y, x


def test_lbfgsb_stopping_just_short_of_gtol_is_finished_by_newton():
    y, x = _poisson()
    # from the intercept-only point (the default start before the count models started
    # from Newton's first step): there l-bfgs-b stops just short of gtol on these data
    null = np.r_[np.log(y.mean()), np.zeros(4)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = mleopt.Poisson(y, x).fit(method="l-bfgs-b", start_params=null)
    assert res.converged
    assert "then Newton with exact Hessian" in res.mle_retvals["message"]
    assert res.mle_retvals["gmax"] <= 1e-8
    ref = mleopt.Poisson(y, x).fit()
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-9)


def test_no_finish_when_the_scipy_method_stopped_far_away():
    """maxiter=2: the gradient is far above 1000 gtol; the point stands, reported as not
    converged (no Newton steps sneaked in)."""
    y, x = _poisson()
    with pytest.warns(ConvergenceWarning):
        res = mleopt.Poisson(y, x).fit(method="bfgs", maxiter=2)
    assert not res.converged
    assert "Newton" not in res.mle_retvals["message"]


def test_no_finish_from_a_point_on_a_bound():
    """A bound active at the estimate: the projected gradient decides, Newton (which knows
    no bounds) does not move the point."""
    y, x = _poisson()
    free = mleopt.Poisson(y, x).fit()
    cap = float(free.params.iloc[3]) - 0.05          # binds the 4th coefficient
    res = mleopt.Poisson(y, x).fit(method="l-bfgs-b",
                                   bounds=[(None, None)] * 3 + [(None, cap), (None, None)])
    assert res.params.iloc[3] == pytest.approx(cap, abs=1e-10)
    assert "Newton" not in res.mle_retvals["message"]


def test_no_finish_for_an_objective_without_hessian():
    """An Objective of value and gradient only (mleopt.optimize.minimize with a quasi-Newton
    method needs no Hessian): where l-bfgs-b stops just short of gtol the point stands and
    is judged; the finish raised 'this Objective has no Hessian' before."""
    from mleopt.optimize import Objective, minimize
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 5))
    h = a @ a.T + 5 * np.eye(5)
    b = rng.normal(size=5)
    obj = Objective(lambda t: (-(0.5 * t @ h @ t - b @ t), -(h @ t - b)))
    rec = minimize(obj, np.zeros(5), method="l-bfgs-b", gtol=1e-10, warn=False)
    assert rec.grad_max > 1e-10 and not rec.converged     # l-bfgs-b's own point, judged
    assert "Newton" not in rec.message
    assert obj.n_hess == 0


def test_no_finish_after_the_evaluation_limit():
    """tnc's limit is maxfun (= maxiter): stopped by it near the optimum, the fit is not
    finished by Newton behind the user's budget, and is reported as not converged."""
    y, x = _poisson()
    with pytest.warns(ConvergenceWarning, match="maxfun"):
        res = mleopt.Poisson(y, x).fit(method="tnc", maxiter=14)
    assert not res.converged
    assert "Max. number of function evaluations" in res.mle_retvals["message"]
    assert "Newton" not in res.mle_retvals["message"]



def test_finish_kept_where_the_value_rises_only_in_rounding():
    """A value that carries rounding noise of 2e-13 (as a sum of large terms does, e.g. NB2
    gammaln rows: measured on NB2 with rows in blocks, a 1.2e-14 'rise' against value_noise
    4.9e-15 while Newton cut max |gradient| from 7e-8 to 2e-14) and an exact gradient:
    powell and nelder-mead stop at max |gradient| ~2.6e-6 (within 1000 gtol); Newton reaches
    1e-16 while the value 'rises' in its noise. The test of Newton's own line search
    (_rounding_rise: gradient cut 4-fold, rise within 1000 value_noise) keeps the finished
    point; it was discarded, a false 'not converged'."""
    from mleopt.optimize import Objective, minimize
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 4))
    h = a @ a.T + np.diag([1, 10, 100, 0.1])
    b = rng.normal(size=4)

    def evaluate(t):
        noise = 2e-13 * np.sin(1e11 * np.sum(t))
        return -(0.5 * t @ h @ t - b @ t + noise), -(h @ t - b), -h

    for method in ("powell", "nelder-mead"):
        rec = minimize(Objective(evaluate), np.zeros(4), method=method, warn=False)
        assert rec.converged, rec.message
        assert "then Newton with exact Hessian" in rec.message
        np.testing.assert_allclose(rec.params, np.linalg.solve(h, b), rtol=1e-12)


def test_a_discarded_finish_is_not_shown_to_the_callback(capsys):
    """powell stops strictly inside a bound that holds the optimum back; Newton's step
    lands on the unbounded optimum outside it and the finish is discarded. The callback and
    the disp lines see only the iterations that count (an extra call at the point outside
    the bound was made before)."""
    from mleopt.optimize import Objective, minimize
    h = np.array([[2.0, 0.3], [0.3, 1.0]])
    b = h @ [1.0, -0.5]                 # unbounded optimum (1, -0.5)
    seen = []
    rec = minimize(Objective(lambda t: (-(0.5 * t @ h @ t - b @ t), -(h @ t - b), -h)),
                   np.zeros(2), method="powell", warn=False, disp=True,
                   bounds=[(None, 1 - 1e-6), (None, None)], callback=seen.append)
    assert "Newton" not in rec.message
    assert len(seen) == rec.iterations
    assert all(p[0] <= 1 - 1e-6 for p in seen)
    np.testing.assert_array_equal(seen[-1], rec.params)
    assert f"iter {rec.iterations + 1:4d}" not in capsys.readouterr().out
