"""A Gaussian process fitted by its marginal likelihood, written as autograd code.

Only the import lines differ from the autograd version of this program:

    import autograd.numpy as np                  ->  import mleopt.numpy as np
    from autograd import value_and_grad          ->  from mleopt.ad import value_and_grad
    from autograd.misc.flatten import flatten    ->  from mleopt.ad import flatten

The hyperparameters are a dict (mean, log amplitude, log length-scale, log noise); the
negative log marginal likelihood is written with a Cholesky factor, flattened to one
vector for scipy.optimize.minimize (BFGS with the exact gradient), and the fitted process
predicts at new points. Data: a noisy sine, seeded.

    PYTHONPATH=. python examples/gaussian_process.py
"""
import numpy.random as npr
from scipy.optimize import minimize

import mleopt.numpy as np
from mleopt.ad import flatten, value_and_grad


def rbf_covariance(hyper, x, xp):
    """amplitude^2 exp(-|x - x'|^2 / (2 length^2))."""
    amplitude = np.exp(hyper["log_amplitude"])
    length = np.exp(hyper["log_length"])
    diffs = np.expand_dims(x / length, 1) - np.expand_dims(xp / length, 0)
    return amplitude ** 2 * np.exp(-0.5 * np.sum(diffs ** 2, axis=2))


def neg_log_marginal_likelihood(hyper, x, y):
    """-log N(y | mean, K + noise^2 I), with the Cholesky factor K + noise^2 I = L L'."""
    n = y.shape[0]
    cov = rbf_covariance(hyper, x, x) + np.exp(2 * hyper["log_noise"]) * np.eye(n)
    L = np.linalg.cholesky(cov)
    r = y - hyper["mean"]
    alpha = np.linalg.solve(L, r)                     # L^{-1} (y - mean)
    log_det = 2 * np.sum(np.log(np.diag(L)))
    return 0.5 * np.dot(alpha, alpha) + 0.5 * log_det + 0.5 * n * np.log(2 * np.pi)


def predict(hyper, x, y, x_new):
    """Posterior mean and standard deviation at x_new."""
    n = y.shape[0]
    cov = rbf_covariance(hyper, x, x) + np.exp(2 * hyper["log_noise"]) * np.eye(n)
    cross = rbf_covariance(hyper, x_new, x)
    mean = hyper["mean"] + np.dot(cross, np.linalg.solve(cov, y - hyper["mean"]))
    var = (np.exp(2 * hyper["log_amplitude"])
           - np.sum(cross * np.linalg.solve(cov, cross.T).T, axis=1))
    return mean, np.sqrt(var)


def main():
    rs = npr.RandomState(1)
    x = rs.uniform(-3, 3, size=(40, 1))
    y = np.sin(1.5 * x[:, 0]) + 0.5 + 0.2 * rs.randn(40)

    hyper = {"mean": 0.0, "log_amplitude": 0.0, "log_length": 0.0, "log_noise": -1.0}
    flat, unflatten = flatten(hyper)
    objective = value_and_grad(lambda v: neg_log_marginal_likelihood(unflatten(v), x, y))
    print(f"start: -log marginal likelihood {objective(flat)[0]:.6f}")
    result = minimize(objective, flat, jac=True, method="BFGS", options={"gtol": 1e-6})
    fitted = unflatten(result.x)
    print(f"BFGS converged: {result.success}, {result.nit} iterations")
    print(f"fitted: -log marginal likelihood {result.fun:.6f}")
    for name in sorted(fitted):
        print(f"  {name:14s} {float(fitted[name]):10.6f}")
    mean, sd = predict(fitted, x, y, np.array([[0.0], [1.0]]))
    for x0, m, s in zip([0.0, 1.0], mean, sd):
        print(f"prediction at x = {x0:.1f}: {m:.4f} +- {s:.4f}")


if __name__ == "__main__":
    main()
