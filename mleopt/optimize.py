"""The bridge to scipy.optimize.minimize.

The objective is the *mean* negative log-likelihood ``f(theta) = -loglike(theta) / N`` in the
optimiser's parametrization ``theta`` (unconstrained: e.g. log sigma), so tolerances mean the
same at N = 30 and N = 10^6. Its gradient and Hessian are exact (from mleopt.ad, supplied by
the model as an ``Objective``). Convergence is judged by the gradient: ``max |grad f| <= gtol``,
whatever the method reports; a fit that misses it says so (``ConvergenceWarning``,
``converged=False``).

``method="newton"`` (the default) is Newton's method with the exact AD Hessian and a
backtracking line search, handing over to scipy's ``trust-exact`` (a trust-region Newton
method, safe where the Hessian is indefinite) if a Newton step is not a descent direction or
the line search fails, and taking over again with Newton steps where trust-exact stops at a
point whose Hessian is positive definite (its ratio test fails in rounding noise near the
optimum). It stops as soon as the gradient is within tolerance, or when a step lowers neither
the value (beyond its rounding, 16 eps max(|f|, 1)) nor the gradient. Where the rows' terms
are large and cancel (counts near e^20: y log mu - lgamma(y + 1), y - mu), the rounding of the
value and of the gradient is far above these a-priori levels; it is then measured at the point
(``Objective.noise``: eight evaluations, only where a step or the verdict would otherwise fail),
so that a full Newton step that cuts the gradient 4-fold is not rejected for a 'rise' in that
noise, and a gradient within 4 times its measured noise counts as converged (the message says
so). For concave log-likelihoods (Logit, Probit, Poisson, ...) that is pure
Newton: quadratic convergence, one Hessian per iteration and no per-iteration overhead beyond
it (scipy's trust-region machinery alone costs more than a whole iteration on small data:
on anes96 Logit, trust-exact takes 2.9 ms where this loop takes 1.2 ms, same iterations).
When the objective marks its Hessian as expensive (large data), a factorised Hessian is reused
while it keeps cutting the gradient 8-fold per step (a chord / Shamanskii variant).
Any other ``scipy.optimize.minimize`` method name is accepted, case-insensitively; the AD
gradient and Hessian are passed to the methods that use them, and tolerances other than
``gtol`` are tightened so that they do not stop the method far from ``gtol``. Every option
scipy's method takes passes through (``bounds``, ``constraints``, ``tol``, ``options={...}``
and method options such as ``maxcor`` or ``ftol`` as keywords); an option the method does not
take is refused, naming the ones it accepts.
"""
from __future__ import annotations

import functools
import inspect
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
from scipy.linalg.lapack import dpotrf as _potrf
from scipy.linalg.lapack import dpotrs as _potrs

from .exceptions import ConvergenceWarning, warn_user

__all__ = ["Objective", "OptimizeRecord", "IterationInfo", "minimize", "ConvergenceWarning", "METHODS"]

METHODS = ("newton", "nelder-mead", "powell", "cg", "bfgs", "newton-cg", "l-bfgs-b", "tnc",
           "cobyla", "cobyqa", "slsqp", "trust-constr", "dogleg", "trust-ncg", "trust-exact",
           "trust-krylov")
_USES_JAC = {"cg", "bfgs", "newton-cg", "l-bfgs-b", "tnc", "slsqp", "trust-constr",
             "dogleg", "trust-ncg", "trust-exact", "trust-krylov"}
_USES_HESS = {"newton-cg", "trust-constr", "dogleg", "trust-ncg", "trust-exact",
              "trust-krylov"}
_HAS_GTOL = {"cg", "bfgs", "l-bfgs-b", "tnc", "trust-constr", "dogleg", "trust-ncg",
             "trust-exact", "trust-krylov"}
_LEGACY_CALLBACK = {"tnc", "slsqp", "cobyla"}
_DERIVATIVE_FREE = {"nelder-mead", "powell", "cobyla", "cobyqa"}
_ABSOLUTE_TOL = {"trust-krylov", "newton-cg"}
# tolerances other than gtol, tightened from scipy's defaults (1e-4 .. 1e-6 would stop far
# from a gradient of 1e-8); the user's options override them.
_TIGHT = {"nelder-mead": {"xatol": 1e-10, "fatol": 1e-15},
          "powell": {"xtol": 1e-10, "ftol": 1e-15},
          "newton-cg": {"xtol": 1e-14},
          "l-bfgs-b": {"ftol": 1e-15},
          "tnc": {"ftol": 1e-15, "xtol": 1e-12},
          "slsqp": {"ftol": 1e-15},
          "cobyla": {"tol": 1e-12},
          "cobyqa": {"final_tr_radius": 1e-10},
          "trust-constr": {"xtol": 1e-14}}


# options of method="newton": those of the scipy trust-exact fallback it may hand over to
_NEWTON_OPTIONS = {"initial_trust_radius", "max_trust_radius", "eta"}
_TAKES_BOUNDS = ("nelder-mead", "powell", "l-bfgs-b", "tnc", "slsqp", "trust-constr", "cobyla",
                 "cobyqa")
_TAKES_CONSTRAINTS = ("slsqp", "trust-constr", "cobyla", "cobyqa")
# set by mleopt itself (fit's own arguments), never inside options
_OWN_OPTIONS = {"gtol": "gtol=", "maxiter": "maxiter=", "callback": "callback=",
                "jac": "(the exact AD gradient is always used)",
                "hess": "(the exact AD Hessian is always used)", "hessp": "(the exact AD Hessian "
                "is always used)", "bounds": "bounds=", "constraints": "constraints="}

_EPS = np.finfo(float).eps
_FLOOR_FACTOR = 4.0


def value_noise(f: float) -> float:
    """The rounding level of the mean log-likelihood ``f``: ``16 eps max(|f|, 1)``. Changes of
    the value smaller than this cannot be told apart from rounding."""
    return 16.0 * _EPS * max(abs(f), 1.0)


def _rounding_rise(obj: "Objective", x: np.ndarray, f: float, f_new: float,
                   g_new: np.ndarray, gmax: float) -> bool:
    """True when a full Newton step (positive definite Hessian) from ``x`` cut the gradient
    at least 4-fold while the value rose by no more than its rounding: ``1000
    value_noise(f)``, or else 4 times the value's noise measured at x
    (``Objective.noise``, eight more evaluations, only when the first allowance is
    exceeded). Near the optimum the predicted decrease ``g' H^-1 g / 2`` is far below the
    rounding of a sum of large terms (Poisson rows y log mu - lgamma(y + 1) of a few thousand
    each, or of 1e12 each with counts near e^20), and the value alone cannot rank the
    points; the gradient can."""
    if not float(np.abs(g_new).max()) <= gmax / 4.0:
        return False
    rise = f_new - f
    if rise <= 1000.0 * value_noise(f):
        return True
    return bool(rise <= _FLOOR_FACTOR * _measured(obj, x)[0])


def _measured(obj: "Objective", x: np.ndarray) -> tuple[float, np.ndarray | float]:
    """``obj.noise(x)`` (value and gradient noise), or ``(0, 0)`` where it cannot be measured
    (no Hessian, or the model fails there)."""
    try:
        return obj.noise(x)
    except (RuntimeError, ValueError, ArithmeticError, np.linalg.LinAlgError):
        return 0.0, 0.0


def _measured_floor(obj: "Objective", x: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """``floor`` (``gradient_floor``) raised to 4 times the gradient's rounding noise measured
    at x (``Objective.noise``): the rounding of the score's own sum over rows, which
    ``4 eps |H| |z|`` misses where large per-row terms cancel (y - mu with counts near e^20,
    or a large offset with small coefficients)."""
    return np.maximum(floor, _FLOOR_FACTOR * _measured(obj, x)[1])


def gradient_floor(hessian: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The rounding floor of the gradient at ``z``: ``4 eps sum_k |H_jk| |z_k|`` per component.

    Moving every parameter by its last bits (``eps |z_k|``) moves g_j by up to
    ``sum_k |H_jk| eps |z_k|``; the same bound covers the rounding error of a linear
    predictor ``x_i'b``, which is where the gradient of a large or ill-conditioned regression
    loses its digits. A gradient below it cannot be reduced in double precision.
    """
    with np.errstate(all="ignore"):
        floor = _FLOOR_FACTOR * _EPS * (np.abs(hessian) @ np.abs(z))
    return np.where(np.isfinite(floor), floor, 0.0)


class Objective:
    """Mean negative log-likelihood with exact derivatives, cached at the last point.

    ``evaluate(theta)`` returns ``(loglike, gradient)`` or ``(loglike, gradient, hessian)``
    of the log-likelihood (a sum over observations); the Hessian may be a zero-argument
    callable (computed only if the optimiser asks for it at that point). Without it,
    ``hessian(theta)`` is called. ``value(theta)`` (optional) gives the log-likelihood alone,
    for derivative-free methods. This class turns them into ``f = -loglike / nobs`` and its
    gradient and Hessian: the scale the optimiser sees.
    """

    __slots__ = ("_evaluate", "_hessian", "_value", "nobs", "_x", "_f", "_g", "_h", "_hx",
                 "_pending", "n_fun", "n_hess", "expensive_hessian", "scale", "replay",
                 "_nx", "_noise", "measures_noise")
    # points are compared by their bytes (cheaper than np.array_equal on small vectors)

    def __init__(self, evaluate: Callable, hessian: Callable | None = None, nobs: float = 1,
                 value: Callable | None = None):
        self._evaluate = evaluate
        self._hessian = hessian
        self._value = value
        self.nobs = float(nobs)     # rows, or their total weight (the mean's divisor)
        self._x = self._hx = self._f = self._g = self._h = self._pending = None
        self._nx = self._noise = None
        # False: the final verdict does not measure the rounding noise (Objective.noise: eight
        # more evaluations); for internal fits whose verdict nobody reads (a few Newton
        # iterations as a start). Newton's own steps and stops still measure it.
        self.measures_noise = True
        self.n_fun = self.n_hess = 0
        self.expensive_hessian = False      # True: Newton may reuse a factorised Hessian
        self.scale = None       # the caller's z = scale * theta, if it says (None: z = theta)
        # the replay plans of this fit's evaluations (mleopt.ad.replay.Session, set by the
        # model), dropped when the optimiser run ends (end_replay)
        self.replay = None

    def end_replay(self) -> None:
        """Drop the replay plans: later evaluations record the function afresh."""
        if self.replay is not None:
            self.replay.close()

    def forget_plans(self) -> None:
        """Drop the replay plans made so far (a callback may have changed what the function
        reads): the next evaluations record afresh and make new ones."""
        if self.replay is not None:
            self.replay.forget()

    def fun_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        key = np.asarray(theta, dtype=float).tobytes()
        if key != self._x:
            out = self._evaluate(np.array(theta, dtype=float, copy=True))
            self.n_fun += 1
            f = -float(out[0]) / self.nobs
            self._x = key
            self._f = f if np.isfinite(f) else np.inf
            self._g = np.asarray(out[1], dtype=float) * (-1.0 / self.nobs)
            self._pending = out[2] if len(out) > 2 else None
        return self._f, self._g

    def fun(self, theta: np.ndarray) -> float:
        """The objective alone (derivative-free methods): ``value(theta)`` if the model gave
        a cheaper value-only function, else from the cached value-and-gradient."""
        if self._value is None:
            return self.fun_and_grad(theta)[0]
        with np.errstate(all="ignore"):
            f = -float(self._value(theta)) / self.nobs
        self.n_fun += 1
        return f if np.isfinite(f) else np.inf

    def grad(self, theta: np.ndarray) -> np.ndarray:
        return self.fun_and_grad(theta)[1]

    def known_hessian(self, theta: np.ndarray) -> np.ndarray | None:
        """The Hessian of the log-likelihood (not of f) at ``theta`` if it was already
        computed there (eagerly with the value, or asked for by the optimiser), else None:
        no new evaluation."""
        key = np.asarray(theta, dtype=float).tobytes()
        if key == self._x and self._pending is not None and not callable(self._pending):
            return np.asarray(self._pending, dtype=float)
        if key == self._hx:
            return self._h * -float(self.nobs)
        return None

    def has_hessian(self, theta: np.ndarray) -> bool:
        """True if ``hess(theta)`` can be computed (a ``hessian`` function, or ``evaluate``
        returns one): an objective of value and gradient only has none."""
        self.fun_and_grad(theta)
        return self._hessian is not None or self._pending is not None

    def noise(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """The rounding noise of the value and of the gradient at ``theta``, measured on
        eight probes ``p_(+-k) = theta +- k d`` (k = 1..4) along one line, ``|d_j| =
        max(min(1e-10 max(|theta_j|, 1), 1e-6 H_jj^-1/2), 64 eps |theta_j|)`` with fixed
        pseudo-random signs: at most a millionth of the parameter's own scale (where the
        quadratic model holds also for a coefficient of a regressor in tiny units, or a
        location of 1e10 with unit scale), yet distinct points; from the symmetric residuals
        of that model (``delta = p - theta`` as represented):

            r_k = f(p_k) + f(p_-k) - 2 f(theta) - g'(delta_k + delta_-k)
                  - (delta_k'H delta_k + delta_-k'H delta_-k) / 2,
            s_k = g(p_k) - g(p_-k) - H (delta_k - delta_-k).

        In exact arithmetic these are O(|d|^4) and O(|d|^3), far below any rounding, so what
        is left is the rounding error of the sums over rows (Moré and Wild's "computational
        noise"): with large per-row terms that cancel (Poisson rows y log mu - lgamma(y + 1)
        with counts near e^20, or y - mu in the score) it exceeds ``value_noise(f)`` and
        ``gradient_floor`` by orders of magnitude, and neither the value nor the gradient can
        be improved below it. The value's noise is the median of the four ``|r_k|`` (each
        holds the rounding of f(theta), which a rise from theta is measured against); the
        gradient's (per component) the median of the three ``|s_(k+1) - s_k|``: rounding
        changes every one of them, while a kink of the likelihood (|.|, a branch of
        ``where``) is not noise: one at theta (where an optimiser may stall far from the
        optimum) adds the same jump to every s_k, which these differences cancel, and one the
        probes straddle elsewhere changes a single difference. (A kink only widens the
        value's allowance, which is used where a full Newton step cut the gradient 4-fold.)
        Eight evaluations of value and gradient (the
        result is kept for the last point; the cache of ``fun_and_grad`` is left as it
        was); needs the Hessian; ``(0, 0)`` where a probe is not finite."""
        key = np.asarray(theta, dtype=float).tobytes()
        if key == self._nx:
            return self._noise
        z = np.array(theta, dtype=float, copy=True)
        f, g = self.fun_and_grad(z)
        g = g.copy()
        h = self.hess(z)
        with np.errstate(all="ignore"):
            curv = np.diag(h)
            scale = np.where(curv > 0.0, 1.0 / np.sqrt(np.where(curv > 0.0, curv, 1.0)),
                             np.inf)
            size = np.minimum(1e-10 * np.maximum(np.abs(z), 1.0), 1e-6 * scale)
            sign = np.random.default_rng(7).choice([-1.0, 1.0], size=z.size)
            d = sign * np.maximum(size, 64.0 * _EPS * np.abs(z))
            e, u = {}, {}
            for k in (1, -1, 2, -2, 3, -3, 4, -4):
                p = z + k * d
                delta = p - z                       # the step as represented
                value, grad = self._evaluate(p)[:2]
                self.n_fun += 1
                hd = h @ delta
                e[k] = -float(value) / self.nobs - f - float(g @ delta) - 0.5 * float(delta @ hd)
                u[k] = np.asarray(grad, dtype=float) * (-1.0 / self.nobs) - g - hd
            r = [e[k] + e[-k] for k in (1, 2, 3, 4)]
            s = [u[k] - u[-k] for k in (1, 2, 3, 4)]
            value = float(np.median(np.abs(r)))
            grad = np.median(np.abs([s[k + 1] - s[k] for k in (0, 1, 2)]), axis=0)
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            value, grad = 0.0, np.zeros_like(g)    # not measurable here: no allowance
        self._nx, self._noise = key, (value, grad)
        return self._noise

    def hess(self, theta: np.ndarray) -> np.ndarray:
        key = np.asarray(theta, dtype=float).tobytes()
        if key == self._hx:
            return self._h
        if self._pending is not None and key == self._x:
            h = self._pending() if callable(self._pending) else self._pending
        elif self._hessian is not None:
            h = self._hessian(theta)
        else:
            self._x = None
            self.fun_and_grad(theta)
            if self._pending is None:
                raise RuntimeError("this Objective has no Hessian: give hessian= or return "
                                   "(loglike, gradient, hessian) from evaluate.")
            return self.hess(theta)
        self._h = np.asarray(h, dtype=float) * (-1.0 / self.nobs)
        self._hx = key
        self.n_hess += 1
        return self._h


@dataclass
class OptimizeRecord:
    """What the optimiser did. ``params`` are natural; ``theta`` the optimiser's own."""

    params: np.ndarray
    theta: np.ndarray
    converged: bool
    iterations: int
    message: str
    method: str
    llf: float
    grad_max: float                 # max |gradient of the mean log-likelihood| in theta
    gtol: float
    time: float                     # seconds spent in minimize
    n_fun: int = 0                  # evaluations of (value, gradient)
    n_hess: int = 0                 # evaluations of the Hessian
    result: Any = None              # scipy's OptimizeResult
    extra: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"OptimizeRecord(method={self.method!r}, converged={self.converged}, "
                f"iterations={self.iterations}, llf={self.llf:.10g}, "
                f"grad_max={self.grad_max:.2e}, time={self.time * 1e3:.2f} ms)")


def _ends_replay(run: Callable) -> Callable:
    """An optimiser run (``run(objective, ...)``) that drops the objective's replay plans
    when it ends (mleopt.ad.replay: a plan lives for one run, never across fits)."""
    @functools.wraps(run)
    def wrapped(objective, *args, **kwargs):
        try:
            return run(objective, *args, **kwargs)
        finally:
            if isinstance(objective, Objective):
                objective.end_replay()
    return wrapped


@_ends_replay
def minimize(objective: Objective, theta0: Any, method: str = "newton",
             maxiter: int | None = None, gtol: float = 1e-8, disp: bool = False,
             callback: Callable | None = None,
             to_params: Callable[[np.ndarray], np.ndarray] | None = None,
             warn: bool = True, bounds: Sequence[tuple[float, float]] | None = None,
             constraints: Any = (), tol: float | None = None, options: dict | None = None,
             **method_options: Any) -> OptimizeRecord:
    """Minimise ``objective`` (mean negative log-likelihood) from ``theta0``.

    ``maxiter`` defaults to 100 for Newton-type methods, 1000 for quasi-Newton ones and
    scipy's default for derivative-free ones. ``callback(params)`` and the ``disp`` lines get
    the parameters in the natural parametrization (``to_params(theta)``). ``warn=False``
    suppresses the ConvergenceWarning (internal fits of start values). ``bounds`` (a
    ``(low, high)`` pair per element of theta, None or +-inf for none), ``constraints`` and
    ``tol`` go to scipy.optimize.minimize; ``options`` and the other keywords to its
    ``options=`` dict, checked against the options the method takes.
    A callback that accepts a second argument (or a keyword ``info``) is called as
    ``callback(params, info)`` with an :class:`IterationInfo` (iteration, log-likelihood,
    gradient norms, elapsed time, ...).
    """
    start = time.perf_counter()
    meth = _method_name(method)
    if not (np.isscalar(gtol) and float(gtol) > 0):
        raise ValueError(f"gtol must be a positive number, not {gtol!r}.")
    if maxiter is not None and not (isinstance(maxiter, (int, np.integer)) and maxiter >= 1):
        raise ValueError(f"maxiter must be a positive integer, not {maxiter!r}.")
    opts = _method_options(meth, options, method_options)
    constraints = _constraint_list(constraints)
    if bounds is not None and meth not in _TAKES_BOUNDS:
        raise ValueError(f"method={meth!r} does not take bounds; use one that does: "
                         f"{', '.join(_TAKES_BOUNDS)}.")
    if constraints and meth not in _TAKES_CONSTRAINTS:
        raise ValueError(f"method={meth!r} does not take constraints; use one that does: "
                         f"{', '.join(_TAKES_CONSTRAINTS)}.")
    if tol is not None and meth == "newton":
        raise ValueError("tol is not used by method='newton': its stopping rule is gtol "
                         "(pass gtol=...), or choose a scipy method.")
    to_params = to_params or (lambda t: np.asarray(t, dtype=float))
    x0 = np.array(theta0, dtype=float, copy=True).ravel()
    lower, upper = _bound_arrays(bounds, x0.size)
    f0, g0 = objective.fun_and_grad(x0)
    if maxiter is None:
        maxiter = _default_maxiter(meth, x0.size)
    trace = _Trace(objective, to_params, disp, callback)
    if disp:
        print(f"mleopt: {meth}, {x0.size} parameters, {objective.nobs:g} observations, "
              f"gtol {gtol:g}")
        trace.line(0, x0, None)

    result = None
    limit: tuple[str, int, bool] = ("maxiter", maxiter, False)
    feasible = lower is None or bool(np.all((x0 >= lower) & (x0 <= upper)))
    if feasible and not constraints and \
            float(np.max(np.abs(_projected(g0, x0, lower, upper)), initial=0.0)) <= gtol:
        # the start values already satisfy the tolerance (e.g. the exact QR least-squares
        # solution for OLS): accept them rather than let round-off move the estimate.
        x, nit, message = x0, 0, "start values satisfy the gradient tolerance"
    elif meth == "newton":
        x, nit, message, result = _newton(objective, x0, maxiter, gtol, trace, opts)
        limit = ("maxiter", maxiter, nit >= maxiter)
    else:
        x, nit, message, result, limit = _scipy(objective, x0, meth, maxiter, gtol, trace,
                                                opts, bounds, constraints, tol)
        if not constraints and not limit[2]:
            x, nit, message = _newton_finish(objective, x, nit, maxiter, gtol, trace, lower,
                                             upper, message)

    f = objective.fun_and_grad(x)[0]
    converged, grad_max, floor_max, why = _verdict(objective, x, gtol, lower, upper,
                                                   result if constraints else None, meth)
    if converged and why:
        message = f"{message}; {why}"
    if not converged and constraints:
        worst = _violation(constraints, x)
        if worst > 1e-6:
            why = (f"{why}; the constraints are violated by up to {worst:.3g} where it "
                   "stopped (they may have no common feasible point)")
    if not converged:
        message = f"{message}; not converged: {why}"
        if warn:
            advice = _advice(meth, limit, lower is not None or bool(constraints))
            warn_user(f"mleopt: the optimiser ({meth}) did not converge after {nit} "
                      f"iterations: {why}. {advice} The "
                      "estimates are reported with converged=False.", ConvergenceWarning)
    elif not message:
        message = "converged: gradient tolerance met"
    params = np.asarray(to_params(x), dtype=float)
    extra = {"gradient_floor": floor_max, "restricted": lower is not None or bool(constraints),
             "constrained": bool(constraints)}
    if lower is not None:
        extra["at_bound"] = _at_bound(x, lower, upper)
    return OptimizeRecord(params=params, theta=x, converged=converged, iterations=int(nit),
                          message=message, method=meth, llf=-f * objective.nobs,
                          grad_max=grad_max, gtol=float(gtol),
                          time=time.perf_counter() - start, n_fun=objective.n_fun,
                          n_hess=objective.n_hess, result=result, extra=extra)


def _verdict(obj: Objective, x: np.ndarray, gtol: float, lower, upper, constrained_result,
             meth: str) -> tuple[bool, float, float, str]:
    """``(converged, max |projected gradient|, max rounding floor, note)``: the gradient test
    (every ``|g_j| <= max(gtol, floor_j)``, components held at a bound counting as zero; the
    floor is computed only when gtol alone is not met), or scipy's ``success`` for a fit with
    constraints (``constrained_result``). The note says why, for the message."""
    f, g = obj.fun_and_grad(x)
    pg = _projected(g, x, lower, upper)
    grad_max = float(np.max(np.abs(pg), initial=0.0))
    if constrained_result is not None:
        ok = bool(np.isfinite(f) and getattr(constrained_result, "success", False))
        return ok, grad_max, 0.0, ("" if ok else
                                   f"{meth} did not report success with the constraints")
    if not (np.isfinite(f) and np.isfinite(grad_max)):
        return False, grad_max, 0.0, "the log-likelihood or its gradient is not finite"
    if grad_max <= gtol:
        return True, grad_max, 0.0, ""
    floor = _floor_at(obj, x)
    what = ("4 eps |H| |z|, the change that rounding the parameters to double precision "
            "causes (up to {:.3g})")
    if floor is not None and not _within(pg, gtol, floor) and obj.measures_noise:
        prior = float(np.max(floor, initial=0.0))
        floor = _measured_floor(obj, x, floor)
        what = ("4 times the gradient's rounding noise measured there, the rounding of its "
                f"sum over rows (up to {{:.3g}}; 4 eps |H| |z| is up to {prior:.3g})")
    floor_max = 0.0 if floor is None else float(np.max(floor, initial=0.0))
    if floor is not None and _within(pg, gtol, floor):
        return True, grad_max, floor_max, (
            f"converged at the rounding floor: max |gradient| = {grad_max:.3g} > gtol = "
            f"{gtol:g}, but every component is within its rounding floor, "
            + what.format(floor_max))
    return False, grad_max, floor_max, (
        f"max |gradient of the mean log-likelihood| = {grad_max:.3g} > gtol = {gtol:g}"
        + (f" (and above its rounding floor, {floor_max:.3g})" if floor_max > gtol else ""))


def _within(g: np.ndarray, gtol: float, floor: np.ndarray) -> bool:
    """Every ``|g_j| <= max(gtol, floor_j)``."""
    return bool(np.all(np.abs(g) <= np.maximum(gtol, floor)))


def _floor_at(obj: Objective, x: np.ndarray) -> np.ndarray | None:
    """``gradient_floor`` at x (one Hessian, cached), or None if unavailable."""
    try:
        with np.errstate(all="ignore"):
            h = obj.hess(x)
    except (RuntimeError, ValueError, ArithmeticError, np.linalg.LinAlgError):
        return None
    return gradient_floor(h, x) if np.all(np.isfinite(h)) else None


def _advice(meth: str, limit: tuple[str, int, bool], bounded: bool = False) -> str:
    """What to try, fitted to the case: a larger iteration limit only when it was reached
    (quoting the limit in force for the method that ran), Newton only when it did not run
    and the fit has no bounds or constraints (Newton takes neither)."""
    tips = []
    name, value, reached = limit
    if reached:
        tips.append(f"a larger maxiter (the limit in force, {name}={value} for {meth}, "
                    "was reached)")
    tips.append("other start_params")
    if meth == "newton":
        tips.append("checking that the model is identified and its data well scaled "
                    "(Newton with the exact Hessian stopped short)")
    elif bounded:
        others = [f"method={m!r}" + (" (bounds only)" if m == "l-bfgs-b" else "")
                  for m in ("slsqp", "l-bfgs-b", "trust-constr") if m != meth]
        tips.append("another gradient-based method that takes bounds and constraints ("
                    + ", or ".join(others[:2]) + ")")
    else:
        tips.append("method='newton' (the default: exact Hessian)")
    return "Try " + ", or ".join(tips) + "."


# =======================================================================================
# options, bounds, constraints
# =======================================================================================

def _method_options(meth: str, options: dict | None, keywords: dict) -> dict:
    """The user's options for ``meth`` (``options={...}`` merged with keywords), refusing
    names the method does not take and the ones mleopt sets itself."""
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"options must be a dict of {meth} options, not "
                        f"{type(options).__name__}.")
    opts = dict(options or {})
    both = sorted(set(opts) & set(keywords))
    if both:
        raise TypeError(f"option(s) {', '.join(both)} given both in options={{...}} and as "
                        "keywords; give each once.")
    opts.update(keywords)
    own = sorted(set(opts) & set(_OWN_OPTIONS))
    if own:
        raise TypeError("; ".join(f"{k} is set by mleopt: pass {_OWN_OPTIONS[k]}"
                                  if _OWN_OPTIONS[k].endswith("=") else
                                  f"{k} cannot be given {_OWN_OPTIONS[k]}" for k in own) + ".")
    accepted = _NEWTON_OPTIONS if meth == "newton" else _scipy_option_names(meth)
    if accepted is not None:
        unknown = sorted(set(opts) - set(accepted))
        if unknown:
            what = ("it accepts " + ", ".join(sorted(accepted)) +
                    (" (passed to the trust-exact fallback)" if meth == "newton" else "")) \
                if accepted else "it takes no options"
            hint = ", or choose a scipy method by name" if meth == "newton" else ""
            raise TypeError(f"unknown option(s) {', '.join(unknown)} for method={meth!r}; "
                            f"{what}{hint}.")
    return opts


_SCIPY_FUNCTIONS = {"nelder-mead": "_minimize_neldermead", "powell": "_minimize_powell",
                    "cg": "_minimize_cg", "bfgs": "_minimize_bfgs",
                    "newton-cg": "_minimize_newtoncg", "l-bfgs-b": "_minimize_lbfgsb",
                    "tnc": "_minimize_tnc", "cobyla": "_minimize_cobyla",
                    "cobyqa": "_minimize_cobyqa", "slsqp": "_minimize_slsqp",
                    "trust-constr": "_minimize_trustregion_constr"}
_NOT_OPTIONS = {"fun", "func", "x0", "args", "jac", "grad", "hess", "hessp", "bounds",
                "constraints", "callback", "unknown_options", "trust_region_options",
                "subproblem"}


def _scipy_option_names(meth: str) -> set[str] | None:
    """The ``options=`` names scipy.optimize.minimize takes for ``meth``, read from the
    signature of scipy's solver; None if this scipy version does not let us read them (scipy
    then warns about unknown options itself)."""
    import inspect
    try:
        if meth in _SCIPY_FUNCTIONS:
            import scipy.optimize._minimize as smin
            fn = getattr(smin, _SCIPY_FUNCTIONS[meth])
        else:                                       # dogleg, trust-ncg/-krylov/-exact
            from scipy.optimize import _trustregion
            fn = _trustregion._minimize_trust_region
        names = set(inspect.signature(fn).parameters) - _NOT_OPTIONS
    except (ImportError, AttributeError, TypeError, ValueError):
        return None
    if meth == "trust-krylov":
        names.add("inexact")
    elif meth in ("dogleg", "trust-ncg", "trust-exact"):
        names.discard("inexact")
    return names


def _bound_arrays(bounds, k: int):
    """``(lower, upper)`` arrays of length k from ``(low, high)`` pairs (None: unbounded),
    or ``(None, None)`` without bounds."""
    if bounds is None:
        return None, None
    pairs = list(bounds)
    if len(pairs) != k:
        raise ValueError(f"bounds has {len(pairs)} (low, high) pairs for {k} parameters.")
    lower = np.array([-np.inf if p[0] is None else float(p[0]) for p in pairs])
    upper = np.array([np.inf if p[1] is None else float(p[1]) for p in pairs])
    return lower, upper


def _projected(g: np.ndarray, x: np.ndarray, lower, upper) -> np.ndarray:
    """The gradient with the components held at a bound set to zero: at a lower bound with
    g_j > 0 (the objective rises inwards) or an upper bound with g_j < 0."""
    if lower is None:
        return g
    slack = 1e-10 * np.maximum(1.0, np.abs(x))
    held = ((x <= lower + slack) & (g > 0)) | ((x >= upper - slack) & (g < 0))
    return np.where(held, 0.0, g)


def _violation(constraints: list, x: np.ndarray) -> float:
    """The largest violation at x of scipy constraints (dicts: ``eq`` |c|, ``ineq``
    max(0, -c); Linear/NonlinearConstraint: outside [lb, ub]); NaN if one cannot be
    evaluated."""
    import scipy.optimize  # here, not at import: a cold start need not load it
    worst = 0.0
    try:
        for c in _constraint_list(constraints):
            if isinstance(c, dict):
                v = np.atleast_1d(np.asarray(c["fun"](x, *c.get("args", ())), dtype=float))
                bad = np.abs(v) if c["type"] == "eq" else np.maximum(-v, 0.0)
            else:
                v = np.atleast_1d(np.asarray(
                    c.A @ x if isinstance(c, scipy.optimize.LinearConstraint) else c.fun(x),
                    dtype=float))
                bad = np.maximum(np.maximum(c.lb - v, v - c.ub), 0.0)
            worst = max(worst, float(np.max(bad, initial=0.0)))
    except Exception:       # noqa: BLE001  (a report, not a check: say nothing)
        return float("nan")
    return worst


def _at_bound(x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """-1 where x_j is at its lower bound (within 1e-10 max(1, |x_j|)), +1 at its upper
    bound, 0 inside."""
    slack = 1e-10 * np.maximum(1.0, np.abs(x))
    return np.where(x <= lower + slack, -1, np.where(x >= upper - slack, 1, 0))


def _constraint_list(constraints) -> list:
    if constraints is None or (isinstance(constraints, (list, tuple)) and not constraints):
        return []
    import scipy.optimize  # here, not at import: a cold start need not load it
    if isinstance(constraints, (dict, scipy.optimize.LinearConstraint,
                                scipy.optimize.NonlinearConstraint)):
        return [constraints]
    return list(constraints)


# =======================================================================================
# methods
# =======================================================================================

def _method_name(method: str) -> str:
    if not isinstance(method, str):
        raise TypeError(f"method must be a string such as 'newton' or 'bfgs', not "
                        f"{type(method).__name__}.")
    meth = method.strip().lower().replace("_", "-")
    aliases = {"nm": "nelder-mead", "lbfgs": "l-bfgs-b", "lbfgsb": "l-bfgs-b",
               "l-bfgs": "l-bfgs-b", "ncg": "newton-cg", "neldermead": "nelder-mead"}
    meth = aliases.get(meth, meth)
    if meth not in METHODS:
        if meth in STOCHASTIC_METHODS:
            raise ValueError(f"method={method!r} is a stochastic method: it is run by a "
                             "model's fit() (minibatches of rows), not by minimize.")
        import difflib
        close = difflib.get_close_matches(meth, METHODS + STOCHASTIC_METHODS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown method {method!r}.{hint} Use 'newton' (the default), a "
                         f"scipy.optimize.minimize method ({', '.join(METHODS[1:])}) or, in "
                         f"fit(), a stochastic one ({', '.join(STOCHASTIC_METHODS)}).")
    return meth


def _default_maxiter(meth: str, k: int) -> int:
    if meth in _DERIVATIVE_FREE:
        return 200 * max(k, 1) * (5 if meth == "nelder-mead" else 1)
    if meth in ("bfgs", "l-bfgs-b", "cg", "tnc", "slsqp", "trust-constr"):
        return 1000
    return 100


def _newton(obj: Objective, x0, maxiter, gtol, trace, options, nit0: int = 0,
            hand_over: bool = True):
    """Newton's method with the exact Hessian, a backtracking line search, and Hessian reuse.

    Each iteration solves ``H step = -g`` (Cholesky) and halves the step until the objective
    decreases (Armijo, with a round-off allowance ``value_noise(f)`` so that the tiny last
    steps are taken). When the objective says its Hessian is expensive (large data), the
    factorised Hessian is kept for the next iteration while it is doing well (the previous
    step was full and cut the gradient at least 8-fold); otherwise it is recomputed at the
    current point. Near the optimum the Hessian barely changes, so a kept Hessian still gains
    digits fast while an iteration then costs one gradient instead of a Hessian (a chord /
    Shamanskii variant of Newton's method); far from it every step is a full Newton step.

    It stops when every ``|g_j| <= max(gtol, floor_j)`` (``gradient_floor``), or when a step
    lowers neither the value beyond its rounding nor the gradient (nothing left to gain in
    double precision). Where Cholesky fails only because H is singular within rounding (an
    ill-conditioned regression), the step is taken in the eigen-directions whose gradient is
    above its rounding floor. If the Hessian is not positive definite or the line search
    fails, scipy's trust-exact takes over from that point (``hand_over``). Convergence is
    always judged on the exact gradient, and the Hessian for standard errors is computed
    afresh at the estimate (by the model, not taken from here).
    """
    x = np.array(x0, dtype=float, copy=True)
    f, g = obj.fun_and_grad(x)
    gmax = float(np.abs(g).max())
    nit = nit0
    factor = None                       # factorised Hessian in use
    n_factor = 0
    stop = ""
    reuse = bool(getattr(obj, "expensive_hessian", False))
    while nit < maxiter and gmax > gtol:
        fresh = factor is None
        if fresh:
            h = obj.hess(x)
            abs_h = np.abs(h)
        # the rounding floor (with a kept Hessian: its |H| at the current point); NaN in H
        # makes every comparison False
        floor = _FLOOR_FACTOR * _EPS * (abs_h @ np.abs(x))
        if gmax <= float(floor.max()) and _within(g, gtol, floor):
            stop = ", stopped at the gradient's rounding floor"
            break
        if fresh:
            factor = _factorise(h, g, floor)
            n_factor += 1
        step = None if factor is None else _solve(factor, g)
        accepted, t = False, 1.0
        if step is not None:
            slope = float(g @ step)                 # < 0: a descent direction
            slack = value_noise(f)
            for _ in range(40):
                x_new = x + t * step
                f_new, g_new = obj.fun_and_grad(x_new)
                if f_new <= f + 1e-4 * t * slope + slack:
                    accepted = True
                    break
                if t == 1.0 and _rounding_rise(obj, x, f, f_new, g_new, gmax):
                    accepted = True
                    break
                t *= 0.5
        if not accepted:
            if not fresh:               # a kept Hessian failed: retry with a fresh one
                factor = None
                continue
            if step is not None and _within(g, gtol, _measured_floor(obj, x, floor)):
                stop = ", stopped at the gradient's rounding floor (measured)"
                break
            why = "Hessian not positive definite" if step is None else "line search failed"
            if hand_over:
                return _hand_over(obj, x, nit, maxiter, gtol, trace, options, why)
            stop = f", stopped: {why}"
            break
        gmax_new = float(np.abs(g_new).max())
        if f_new > f - value_noise(f) and gmax_new >= gmax:
            # neither the value (beyond rounding) nor the gradient improves
            if fresh and _within(g, gtol, _measured_floor(obj, x, floor)):
                stop = ", stopped at the gradient's rounding floor (measured)"
                break
            if t == 1.0 or not hand_over:
                # a full Newton step that only moves in rounding noise: nothing left to
                # gain in double precision; keep the point reached
                stop = ", stopped: no step lowers the value or the gradient within rounding"
                break
            if not fresh:
                factor = None
                continue
            # the line search had to cut the step: Newton's model is poor here
            return _hand_over(obj, x, nit, maxiter, gtol, trace, options,
                              "no progress along the Newton direction")
        if not (reuse and t == 1.0 and gmax_new <= gmax / 8.0):
            factor = None               # recompute the Hessian at the next point
        x, f, g, gmax = x_new, f_new, g_new, gmax_new
        nit += 1
        trace.step(x, nit)
    message = (f"Newton with exact Hessian: {nit - nit0} iterations, {n_factor} Hessian "
               f"factorisation{'s' if n_factor != 1 else ''}{stop}")
    # polish: convergence is (super)linear-fast here, so one more step turns a gradient just
    # under gtol into round-off; kept only if it does not make things worse
    if nit > nit0 and not stop and 1e-3 * gtol < gmax <= gtol and np.isfinite(f):
        if factor is None:
            h = obj.hess(x)
            factor = _factorise(h, g, gradient_floor(h, x))
        step = None if factor is None else _solve(factor, g)
        if step is not None:
            f_new, g_new = obj.fun_and_grad(x + step)
            if f_new <= f + value_noise(f) and float(np.max(np.abs(g_new))) < gmax:
                x = x + step
                message += " and a polishing step"
    return x, nit, message, None


def _newton_finish(obj, x, nit, maxiter, gtol, trace, lower, upper, message):
    """Where a scipy method stops by its own rules (a relative reduction of f, a short step, a
    failed line search; not its iteration or evaluation limit, which the caller checks) close
    to the optimum, with the gradient above gtol but within 1000 gtol, Newton with the exact
    Hessian finishes, as after trust-exact: only from a point strictly inside any bounds with
    a positive definite Hessian, and kept only if it stays inside them and lowers the
    gradient without raising the value beyond rounding (as ``_rounding_rise`` judges it in
    Newton's line search; the message says so). Otherwise the scipy method's point stands
    and the verdict judges it."""
    if nit >= maxiter:
        return x, nit, message
    f, g = obj.fun_and_grad(x)
    gmax = float(np.max(np.abs(_projected(g, x, lower, upper)), initial=0.0))
    if not (np.isfinite(f) and gtol < gmax <= 1e3 * gtol):
        return x, nit, message
    inside = None if lower is None else (lambda z: bool(np.all((z > lower) & (z < upper))))
    if inside is not None and not inside(x):
        return x, nit, message          # at a bound: the projected gradient decides
    if not obj.has_hessian(x):
        return x, nit, message          # value and gradient only: nothing to finish with
    h = obj.hess(x)
    if _within(g, gtol, gradient_floor(h, x)) or _cholesky(h) is None:
        return x, nit, message
    steps = _Steps()        # reported to the callback / disp only if the finish is kept
    x_new, nit_new, more, _ = _newton(obj, x, maxiter, gtol, steps, {}, nit0=nit,
                                      hand_over=False)
    f_new, g_new = obj.fun_and_grad(x_new)
    # the value test as in Newton's line search: a rise within rounding is no rise where the
    # gradient fell at least 4-fold (a sum of large terms rounds above value_noise)
    if (inside is not None and not inside(x_new)) or not np.isfinite(f_new) or \
            float(np.max(np.abs(g_new))) >= gmax or \
            (f_new > f + value_noise(f) and
             not _rounding_rise(obj, x, f, f_new, g_new, gmax)):
        return x, nit, message
    for z, it in steps.taken:
        trace.step(z, it)
    return x_new, nit_new, f"{message}; then {more}"


class _Steps:
    """Newton's iterates held back (``step(x, it)`` as :class:`_Trace` takes them) until it
    is known whether they are kept: a discarded finish is not shown to the callback."""

    __slots__ = ("taken",)

    def __init__(self):
        self.taken: list[tuple[np.ndarray, int]] = []

    def step(self, x, it):
        self.taken.append((np.array(x, copy=True), it))


def _hand_over(obj, x, nit, maxiter, gtol, trace, options, why):
    """trust-exact from x; where it stops short at a point with a positive definite Hessian
    (its actual/predicted reduction ratio fails in rounding noise), Newton finishes."""
    import scipy.optimize  # here, not at import: a cold start need not load it
    opts = {"gtol": gtol, "maxiter": max(maxiter - nit, 1)}
    opts.update(options)
    res = scipy.optimize.minimize(obj.fun_and_grad, x, method="trust-exact", jac=True,
                                  hess=obj.hess, callback=trace.new_style, options=opts)
    x = np.asarray(res.x, dtype=float)
    nit += int(res.nit)
    message = f"Newton ({nit - int(res.nit)} iterations), then trust-exact ({why}): " \
              f"{res.message}"
    f, g = obj.fun_and_grad(x)
    if nit < maxiter and np.isfinite(f) and float(np.max(np.abs(g))) > gtol:
        h = obj.hess(x)
        floor = gradient_floor(h, x)
        if not _within(g, gtol, floor) and _cholesky(h) is not None:
            x, nit, more, _ = _newton(obj, x, maxiter, gtol, trace, options, nit0=nit,
                                      hand_over=False)
            message += f", then {more}"
    return x, nit, message, res


def _cholesky(h: np.ndarray):
    """Cholesky factor of H (LAPACK potrf), or None if H is not positive definite."""
    if not np.isfinite(h).all():
        return None
    c, info = _potrf(h, lower=False, clean=False)
    return c if info == 0 else None


def _factorise(h: np.ndarray, g: np.ndarray, floor: np.ndarray | None):
    """A factorisation of H for Newton steps: Cholesky; or, where H is positive semidefinite
    only within rounding (eigenvalues above ``-K eps max|lambda|``), its eigen-directions
    along which the gradient exceeds its rounding floor (the others carry rounding noise
    only: stepping along them would amplify it). None if H has negative curvature beyond
    rounding, or positive curvature at rounding level where the gradient is real."""
    c = _cholesky(h)
    if c is not None:
        return ("cholesky", c)
    if floor is None or not (np.all(np.isfinite(h)) and np.all(np.isfinite(floor))):
        return None
    lam, vec = np.linalg.eigh(h)
    tiny = h.shape[0] * _EPS * float(np.max(np.abs(lam), initial=0.0))
    real = np.abs(vec.T @ g) > np.abs(vec).T @ floor
    if lam[0] < -tiny or np.any(real & (lam <= tiny)) or not np.any(real):
        return None
    return ("eigen", vec[:, real], lam[real])


def _solve(factor, g: np.ndarray) -> np.ndarray | None:
    """The Newton step ``-H^-1 g``; None unless it is finite and a descent direction."""
    kind, *parts = factor
    if kind == "cholesky":
        x, info = _potrs(parts[0], g, lower=False)
        step = -x
    else:
        vec, lam = parts
        info, step = 0, -(vec @ ((vec.T @ g) / lam))
    if info != 0 or not np.isfinite(step).all() or not float(g @ step) < 0:
        return None
    return step


def _scipy(obj: Objective, x0, meth, maxiter, gtol, trace, options, bounds=None,
           constraints=(), tol=None):
    # trust-krylov (trlib) and newton-cg (its curvature test p'Hp <= 3 eps) use absolute
    # thresholds that a mean log-likelihood falls under near the optimum; they are shown the
    # sum instead (c = nobs). The verdict is still mleopt's, on the mean gradient.
    import scipy.optimize  # here, not at import: a cold start need not load it
    c = float(obj.nobs) if meth in _ABSOLUTE_TOL else 1.0
    opts = dict(_TIGHT.get(meth, {}))
    limit_name = "maxfun" if meth == "tnc" else "maxiter"
    opts[limit_name] = maxiter
    if meth in _HAS_GTOL:
        opts["gtol"] = gtol * c
    opts.update(options)
    kwargs: dict[str, Any] = {"method": meth, "options": opts}
    if bounds is not None:
        kwargs["bounds"] = bounds
    if constraints:
        kwargs["constraints"] = constraints
    if tol is not None:
        kwargs["tol"] = tol
    if meth in _USES_JAC:
        fun = obj.fun_and_grad if c == 1.0 else \
            (lambda x: tuple(v * c for v in obj.fun_and_grad(x)))
        kwargs["jac"] = True
    else:
        fun = obj.fun
    if meth in _USES_HESS:
        kwargs["hess"] = obj.hess if c == 1.0 else (lambda x: obj.hess(x) * c)
    kwargs["callback"] = trace.legacy if meth in _LEGACY_CALLBACK else trace.new_style
    with warnings.catch_warnings():
        # scipy's own "did not converge" warnings are replaced by mleopt's verdict; its
        # "Unknown solver options" (a misspelt option, silently unused) is let through
        warnings.filterwarnings("ignore", r"(?!Unknown solver options)",
                                scipy.optimize.OptimizeWarning)
        warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
        res = scipy.optimize.minimize(fun, x0, **kwargs)
    nit = int(getattr(res, "nit", 0) or trace.count)
    # tnc's maxfun and cobyla's maxiter count function evaluations
    used = int(getattr(res, "nfev", 0)) if meth in ("tnc", "cobyla") else nit
    limit = (limit_name, opts[limit_name], used >= opts[limit_name])
    return np.asarray(res.x, dtype=float), nit, f"{meth}: {res.message}", res, limit


@dataclass
class IterationInfo:
    """What a callback that accepts a second argument (``callback(params, info)``) receives
    after each iteration. ``loglike`` is the log-likelihood (a sum), ``grad_max`` and
    ``grad_norm`` the max-abs and Euclidean norms of the gradient of the *mean*
    log-likelihood in the optimiser's parametrization (``grad_max <= gtol`` is convergence)."""

    iteration: int
    params: np.ndarray
    loglike: float
    grad_max: float
    grad_norm: float
    step_norm: float | None         # |change of the optimiser's variables| (None at 0)
    elapsed: float                  # seconds since minimize started
    n_fun: int
    n_hess: int


def _wants_info(callback: Callable | None) -> bool:
    """True if ``callback`` takes a second positional argument or one named ``info``."""
    if callback is None:
        return False
    try:
        sig = inspect.signature(callback)
    except (TypeError, ValueError):
        return False
    params = list(sig.parameters.values())
    if "info" in sig.parameters:
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params)


def _keyword_only_info(callback: Callable) -> bool:
    p = inspect.signature(callback).parameters.get("info")
    return p is not None and p.kind is p.KEYWORD_ONLY


class _Trace:
    """Per-iteration reporting: the user's callback and the ``disp`` lines.

    ``callback(params)`` gets the natural parameters; a callback that accepts a second
    argument (or a keyword ``info``) gets an :class:`IterationInfo` as well. ``disp`` prints
    one line per iteration: log-likelihood, max |gradient|, step size and elapsed time.
    """

    __slots__ = ("obj", "to_params", "disp", "callback", "count", "prev", "info", "by_name",
                 "t0")

    def __init__(self, obj, to_params, disp, callback):
        self.obj, self.to_params, self.disp, self.callback = obj, to_params, disp, callback
        self.count = 0
        self.prev = None
        self.info = _wants_info(callback)
        self.by_name = self.info and _keyword_only_info(callback)
        self.t0 = time.perf_counter()

    def new_style(self, intermediate_result):
        self.count += 1
        self.step(np.asarray(intermediate_result.x, dtype=float), self.count)

    def legacy(self, xk, *args):
        self.count += 1
        self.step(np.asarray(xk, dtype=float), self.count)

    def step(self, x, it):
        if not self.disp and self.callback is None:
            return              # nothing reports: no copy of x kept
        if self.disp:
            self.line(it, x, self.prev)
        if self.callback is not None:
            params = np.asarray(self.to_params(x), dtype=float)
            if self.info:
                f, g = self.obj.fun_and_grad(x)
                info = IterationInfo(
                    iteration=it, params=params, loglike=-f * self.obj.nobs,
                    grad_max=float(np.max(np.abs(g), initial=0.0)),
                    grad_norm=float(np.linalg.norm(g)),
                    step_norm=None if self.prev is None else
                    float(np.linalg.norm(x - self.prev)),
                    elapsed=time.perf_counter() - self.t0, n_fun=self.obj.n_fun,
                    n_hess=self.obj.n_hess)
                if self.by_name:
                    self.callback(params, info=info)
                else:
                    self.callback(params, info)
            else:
                self.callback(params)
            self.obj.forget_plans()     # (the callback may have changed the model)
        self.prev = np.array(x, copy=True)

    def line(self, it, x, prev):
        if self.disp and prev is None and it == 0:
            self.prev = np.array(x, copy=True)
        f, g = self.obj.fun_and_grad(x)
        size = "" if prev is None else f"{np.linalg.norm(x - prev):.3e}"
        print(f"  iter {it:4d}   loglike {-f * self.obj.nobs: .10e}   "
              f"max|grad| {np.max(np.abs(g), initial=0.0):.3e}   step {size:9s}   "
              f"{time.perf_counter() - self.t0:7.2f} s", flush=True)


# =======================================================================================
# stochastic first-order search (mleopt.optim) on minibatches of rows
# =======================================================================================

class DivergenceError(ArithmeticError):
    """A stochastic fit whose loss or gradient became NaN or infinite."""


STOCHASTIC_METHODS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")


@dataclass
class StochasticRun:
    """What the stochastic phase did: its end point and the history per epoch (epoch 0 is
    the start): mean negative log-likelihood on all rows and the 2-norm of its gradient."""

    theta: np.ndarray
    method: str
    epochs: int
    batch_size: int
    steps: int
    seed: Any
    history: dict
    time: float


@_ends_replay
def stochastic(full: Objective, run_epoch: Callable, theta0: Any, optimizer: Any, nobs: int,
               batch_size: int, epochs: int, seed: Any = None, disp: bool = False,
               method: str = "") -> StochasticRun:
    """Minimise the mean negative log-likelihood by ``optimizer`` (an mleopt.optim optimiser
    or any ``init``/``update`` transformation) on minibatches of rows.

    ``run_epoch(rng, x, state, epoch, steps) -> (x, state, steps)`` takes one epoch of
    steps (:func:`row_epochs` for rows in memory: a shuffle of all rows; a Dask model
    shuffles its partitions and the rows within each, see models/dask.py), drawing from
    ``rng = numpy.random.default_rng(seed)``, so a seed reproduces the run. After each epoch
    the loss and gradient on all rows (``full``) are recorded. A non-finite batch loss or
    gradient raises DivergenceError naming the epoch and batch."""
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    x = np.array(theta0, dtype=float, copy=True).ravel()
    state = optimizer.init(x)
    f, g = full.fun_and_grad(x)
    history = {"epoch": [0], "loss": [f], "grad_norm": [float(np.linalg.norm(g))],
               "time": [0.0]}
    if disp:
        print(f"mleopt: {method or type(optimizer).__name__}, {x.size} parameters, {nobs} "
              f"observations, batches of {batch_size}, {epochs} epochs")
        print(f"  epoch {0:4d}  loss {f: .10e}  |grad| {history['grad_norm'][0]:.3e}")
    steps = 0
    for epoch in range(1, epochs + 1):
        x, state, steps = run_epoch(rng, x, state, epoch, steps)
        with np.errstate(all="ignore"):
            f, g = full.fun_and_grad(x)
        if not (np.isfinite(f) and np.all(np.isfinite(g))):
            raise DivergenceError(
                f"the stochastic fit ({method}) diverged in epoch {epoch}: the log-likelihood "
                "on all rows or its gradient is not finite. Lower lr, clip the gradients, or "
                "start closer (start_params=...).")
        history["epoch"].append(epoch)
        history["loss"].append(f)
        history["grad_norm"].append(float(np.linalg.norm(g)))
        history["time"].append(time.perf_counter() - start)
        if disp:
            print(f"  epoch {epoch:4d}  loss {f: .10e}  |grad| {history['grad_norm'][-1]:.3e}"
                  f"  {history['time'][-1]:.2f} s")
    return StochasticRun(theta=x, method=method, epochs=epochs, batch_size=batch_size,
                         steps=steps, seed=seed, history=history,
                         time=time.perf_counter() - start)


def row_epochs(batch_objective: Callable[[np.ndarray], Objective], nobs: int,
               batch_size: int, optimizer: Any, method: str = "") -> Callable:
    """``run_epoch`` for rows in memory: each epoch a permutation of all ``nobs`` rows, cut
    into batches of ``batch_size`` (the last takes the remainder)."""
    def run_epoch(rng, x, state, epoch, steps):
        order = rng.permutation(nobs)
        batches = [np.sort(order[lo:lo + batch_size])     # sorted: the same sum, faster reads
                   for lo in range(0, nobs, batch_size)]
        return run_batches(batch_objective, batches, optimizer, x, state, epoch, steps,
                           method)
    return run_epoch


def run_batches(batch_objective: Callable[[np.ndarray], Objective], batches: list,
                optimizer: Any, x: np.ndarray, state: Any, epoch: int, steps: int,
                method: str = "", where: str = "") -> tuple[np.ndarray, Any, int]:
    """One optimiser step per batch of rows (the gradient of the batch's mean
    log-likelihood, ``batch_objective(rows)``); ``(x, state, steps)`` after them."""
    for b, rows in enumerate(batches):
        with np.errstate(all="ignore"):
            fb, gb = batch_objective(rows).fun_and_grad(x)
        if not (np.isfinite(fb) and np.all(np.isfinite(gb))):
            raise DivergenceError(
                f"the stochastic fit ({method}) diverged in epoch {epoch} ({where}batch "
                f"{b + 1}, step {steps + 1}): the minibatch log-likelihood or its gradient "
                "is not finite. Lower lr, clip the gradients, or start closer "
                "(start_params=...).")
        updates, state = optimizer.update(gb, state, x)
        x = x + updates
        steps += 1
    return x, state, steps


def stochastic_record(full: Objective, run: StochasticRun, gtol: float,
                      to_params: Callable, polish: OptimizeRecord | None) -> OptimizeRecord:
    """The OptimizeRecord of a stochastic fit: the polish's (Newton from the stochastic end
    point) when there is one, else the stochastic estimate judged by the same gradient test."""
    info = {"method": run.method, "epochs": run.epochs, "batch_size": run.batch_size,
            "steps": run.steps, "seed": run.seed, "history": run.history, "time": run.time,
            "polished": polish is not None}
    if polish is not None:
        polish.extra["stochastic"] = {**info, "polish_converged": polish.converged,
                                      "polish_iterations": polish.iterations}
        polish.method = f"{run.method}+newton"
        polish.time += run.time
        return polish
    x = run.theta
    f, g = full.fun_and_grad(x)
    converged, grad_max, floor_max, why = _verdict(full, x, gtol, None, None, None, run.method)
    message = (f"stochastic estimate ({run.method}, {run.epochs} epochs) without a polish: "
               + ("gradient tolerance met" if converged else f"not converged: {why}"))
    if not converged:
        warn_user(f"mleopt: the {message}. The estimates are reported with converged=False; "
                  "more epochs, another lr, or polish=True (Newton from there) give the "
                  "maximum.", ConvergenceWarning)
    info["polish_converged"] = None
    return OptimizeRecord(params=np.asarray(to_params(x), dtype=float), theta=x,
                          converged=converged, iterations=run.steps, message=message,
                          method=run.method, llf=-f * full.nobs, grad_max=grad_max,
                          gtol=float(gtol), time=run.time, n_fun=full.n_fun,
                          extra={"gradient_floor": floor_max, "stochastic": info})
