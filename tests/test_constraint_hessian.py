"""trust-constr with the exact Hessian of the Lagrangian (issue 10, part 3).

Reference: the constrained MLE of k normal means (unit variance) on the ellipsoid
sum_i w_i mu_i^2 = 1, solved by Lagrange: mu_i = ybar_i / (1 + lam w_i) with lam the root
of sum_i w_i ybar_i^2 / (1 + lam w_i)^2 = 1 (scipy.optimize.brentq, here)."""
import warnings

import numpy as np
import pytest
import scipy.optimize

import mleopt.numpy as mnp
from mleopt import fit_mle
from mleopt.ad import grad
from mleopt.models import OLS

from check import numerical_jacobian

K = 6
Y = np.random.default_rng(0).normal(np.linspace(-2, 3, K), 1.0, size=(200, K))
W = np.linspace(1, 4, K)
NAMES = [f"m{i}" for i in range(K)]


def _ll(p, y):
    return -0.5 * mnp.sum((y - p) ** 2, axis=1)


def _ellipsoid(p):
    return mnp.sum(W * p ** 2) - 1.0


def _ellipsoid_numpy(p):            # plain numpy: mleopt.ad cannot follow it
    return float(W @ np.asarray(p, dtype=float) ** 2) - 1.0


def _lagrange_solution():
    m = Y.mean(axis=0)
    lam = scipy.optimize.brentq(
        lambda s: np.sum(W * m ** 2 / (1 + s * W) ** 2) - 1.0, 0.0, 100.0, xtol=1e-15)
    return m / (1 + lam * W)


def _fit(constraint):
    return fit_mle(_ll, np.full(K, 0.3), NAMES, data={"y": Y}, method="trust-constr",
                   constraints=constraint)


@pytest.mark.parametrize("kind", ["dict", "nonlinear"])
def test_exact_lagrangian_hessian_converges_in_fewer_iterations(kind):
    exact_c = {"dict": {"type": "eq", "fun": _ellipsoid},
               "nonlinear": scipy.optimize.NonlinearConstraint(_ellipsoid, 0.0, 0.0)}[kind]
    jac = grad(_ellipsoid)
    bfgs_c = {"dict": {"type": "eq", "fun": _ellipsoid_numpy, "jac": jac},
              "nonlinear": scipy.optimize.NonlinearConstraint(
                  _ellipsoid_numpy, 0.0, 0.0, jac=lambda p: jac(p)[None, :])}[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # the exact path warns about nothing
        exact = _fit(exact_c)
    with pytest.warns(UserWarning, match="constraint 0: mleopt.ad cannot differentiate"):
        approx = _fit(bfgs_c)
    assert exact.converged and approx.converged
    want = _lagrange_solution()
    np.testing.assert_allclose(exact.params, want, atol=1e-8)
    np.testing.assert_allclose(approx.params, want, atol=1e-7)
    # iteration counts, not times: 12 against 17 with this scipy (1.17)
    assert exact.opt.iterations < approx.opt.iterations


def test_mapped_constraint_hessian_is_exact_through_the_transform():
    """OLS optimises log sigma on a scaled z: the Hessian of v . c(params(z)) handed to
    trust-constr must equal finite differences of its (AD, exact) Jacobian."""
    rng = np.random.default_rng(1)
    x = np.column_stack([np.ones(50), rng.normal(size=50)])
    y = x @ [1.0, 2.0] + rng.normal(size=50)
    model = OLS(y, x)
    start = model.fit().params.to_numpy()
    con = {"type": "ineq", "fun": lambda p: mnp.stack([p[2] ** 2 + p[0] * p[1] - 3.0,
                                                       mnp.exp(p[1]) - p[2]])}
    (mapped,) = model._optimizer_constraints(con, start, "trust-constr")
    assert isinstance(mapped, scipy.optimize.NonlinearConstraint)
    z = model._to_theta(start) * model._theta_scale(start)
    v = np.array([0.7, -1.3])
    h = mapped.hess(z, v)
    fd = numerical_jacobian(lambda w: v @ np.asarray(mapped.jac(w)), z)
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(h, h.T, rtol=1e-12)
    # and the fit reaches the constrained optimum SLSQP finds (as equalities: with
    # inequalities trust-constr's barrier stops slightly inside)
    eq = {"type": "eq", "fun": lambda p: p[0] * p[1] + 0.1 * p[2] ** 2 - 2.4}
    tc = OLS(y, x).fit(method="trust-constr", constraints=eq)
    sq = OLS(y, x).fit(method="slsqp", constraints=eq)
    assert tc.converged and sq.converged
    np.testing.assert_allclose(tc.params, sq.params, rtol=1e-7)
