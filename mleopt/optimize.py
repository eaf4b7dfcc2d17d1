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
the line search fails. For concave log-likelihoods (Logit, Probit, Poisson, ...) that is pure
Newton: quadratic convergence, one Hessian per iteration and no per-iteration overhead beyond
it (scipy's trust-region machinery alone costs more than a whole iteration on small data:
on anes96 Logit, trust-exact takes 2.9 ms where this loop takes 1.2 ms, same iterations).
When the objective marks its Hessian as expensive (large data), a factorised Hessian is reused
while it keeps cutting the gradient 8-fold per step (a chord / Shamanskii variant).
Any other ``scipy.optimize.minimize`` method name is accepted, case-insensitively; the AD
gradient and Hessian are passed to the methods that use them, and tolerances other than
``gtol`` are tightened so that they do not stop the method far from ``gtol``.
"""
from __future__ import annotations

import inspect
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import scipy.optimize
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
                 "_pending", "n_fun", "n_hess", "expensive_hessian")
    # points are compared by their bytes (cheaper than np.array_equal on small vectors)

    def __init__(self, evaluate: Callable, hessian: Callable | None = None, nobs: int = 1,
                 value: Callable | None = None):
        self._evaluate = evaluate
        self._hessian = hessian
        self._value = value
        self.nobs = int(nobs)
        self._x = self._hx = self._f = self._g = self._h = self._pending = None
        self.n_fun = self.n_hess = 0
        self.expensive_hessian = False      # True: Newton may reuse a factorised Hessian

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


def minimize(objective: Objective, theta0: Any, method: str = "newton",
             maxiter: int | None = None, gtol: float = 1e-8, disp: bool = False,
             callback: Callable | None = None,
             to_params: Callable[[np.ndarray], np.ndarray] | None = None,
             warn: bool = True, **options: Any) -> OptimizeRecord:
    """Minimise ``objective`` (mean negative log-likelihood) from ``theta0``.

    ``maxiter`` defaults to 100 for Newton-type methods, 1000 for quasi-Newton ones and
    scipy's default for derivative-free ones. ``callback(params)`` and the ``disp`` lines get
    the parameters in the natural parametrization (``to_params(theta)``). ``warn=False``
    suppresses the ConvergenceWarning (internal fits of start values). Extra ``options`` go
    to scipy's ``options=`` dict. A callback that accepts a second argument (or a keyword
    ``info``) is called as ``callback(params, info)`` with an :class:`IterationInfo`
    (iteration, log-likelihood, gradient norms, elapsed time, ...).
    """
    start = time.perf_counter()
    meth = _method_name(method)
    if not (np.isscalar(gtol) and float(gtol) > 0):
        raise ValueError(f"gtol must be a positive number, not {gtol!r}.")
    if maxiter is not None and not (isinstance(maxiter, (int, np.integer)) and maxiter >= 1):
        raise ValueError(f"maxiter must be a positive integer, not {maxiter!r}.")
    unknown = sorted(set(options) - _NEWTON_OPTIONS) if meth == "newton" else []
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(unknown)} for method='newton'; it "
                        f"accepts {', '.join(sorted(_NEWTON_OPTIONS))} (passed to the "
                        "trust-exact fallback), or choose a scipy method by name.")
    to_params = to_params or (lambda t: np.asarray(t, dtype=float))
    x0 = np.array(theta0, dtype=float, copy=True).ravel()
    f0, g0 = objective.fun_and_grad(x0)
    if maxiter is None:
        maxiter = _default_maxiter(meth, x0.size)
    trace = _Trace(objective, to_params, disp, callback)
    if disp:
        print(f"mleopt: {meth}, {x0.size} parameters, {objective.nobs} observations, "
              f"gtol {gtol:g}")
        trace.line(0, x0, None)

    result = None
    if float(np.max(np.abs(g0), initial=0.0)) <= gtol:
        # the start values already satisfy the tolerance (e.g. the exact QR least-squares
        # solution for OLS): accept them rather than let round-off move the estimate.
        x, nit, message = x0, 0, "start values satisfy the gradient tolerance"
    elif meth == "newton":
        x, nit, message, result = _newton(objective, x0, maxiter, gtol, trace, options)
    else:
        x, nit, message, result = _scipy(objective, x0, meth, maxiter, gtol, trace, options)

    f, g = objective.fun_and_grad(x)
    grad_max = float(np.max(np.abs(g), initial=0.0))
    converged = bool(np.isfinite(f) and grad_max <= gtol)
    if not converged:
        why = (f"max |gradient of the mean log-likelihood| = {grad_max:.3g} > gtol = {gtol:g}"
               if np.isfinite(grad_max) else "the log-likelihood or its gradient is not finite")
        message = f"{message}; not converged: {why}"
        if warn:
            warn_user(
                f"mleopt: the optimiser ({meth}) did not converge after {nit} iterations: "
                f"{why}. Try a larger maxiter (now {maxiter}), other start_params, or another "
                "method (e.g. method='newton'). The estimates are reported with "
                "converged=False.", ConvergenceWarning)
    elif not message:
        message = "converged: gradient tolerance met"
    params = np.asarray(to_params(x), dtype=float)
    return OptimizeRecord(params=params, theta=x, converged=converged, iterations=int(nit),
                          message=message, method=meth, llf=-f * objective.nobs,
                          grad_max=grad_max, gtol=float(gtol),
                          time=time.perf_counter() - start, n_fun=objective.n_fun,
                          n_hess=objective.n_hess, result=result)


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
        raise ValueError(f"unknown method {method!r}; use 'newton' (the default) or a "
                         f"scipy.optimize.minimize method: {', '.join(METHODS[1:])}.")
    return meth


def _default_maxiter(meth: str, k: int) -> int:
    if meth in _DERIVATIVE_FREE:
        return 200 * max(k, 1) * (5 if meth == "nelder-mead" else 1)
    if meth in ("bfgs", "l-bfgs-b", "cg", "tnc", "slsqp", "trust-constr"):
        return 1000
    return 100


def _newton(obj: Objective, x0, maxiter, gtol, trace, options):
    """Newton's method with the exact Hessian, a backtracking line search, and Hessian reuse.

    Each iteration solves ``H step = -g`` (Cholesky) and halves the step until the objective
    decreases (Armijo, with a round-off allowance so that the tiny last steps are taken).
    When the objective says its Hessian is expensive (large data), the factorised Hessian is
    kept for the next iteration while it is doing well (the previous step was full and cut
    the gradient at least 8-fold); otherwise it is recomputed at the current point. Near the
    optimum the Hessian barely changes, so a kept Hessian still gains digits fast while an
    iteration then costs one gradient instead of a Hessian (a chord / Shamanskii variant of
    Newton's method); far from it every step is a full Newton step. If the Hessian is not
    positive definite or the line search fails, scipy's trust-exact takes over from that
    point. Convergence is always judged on the exact gradient, and the Hessian for standard
    errors is computed afresh at the estimate (by the model, not taken from here).
    """
    x = np.array(x0, dtype=float, copy=True)
    f, g = obj.fun_and_grad(x)
    gmax = float(np.max(np.abs(g)))
    nit = 0
    factor = None                       # Cholesky factor of the Hessian in use
    n_factor = 0
    reuse = bool(getattr(obj, "expensive_hessian", False))
    while nit < maxiter and gmax > gtol:
        fresh = factor is None
        if fresh:
            factor = _cholesky(obj.hess(x))
            n_factor += 1
        step = None if factor is None else _solve(factor, g)
        accepted, t = False, 1.0
        if step is not None:
            slope = float(g @ step)                 # < 0: a descent direction
            slack = 16.0 * np.finfo(float).eps * max(abs(f), 1.0)
            for _ in range(40):
                x_new = x + t * step
                f_new, g_new = obj.fun_and_grad(x_new)
                if f_new <= f + 1e-4 * t * slope + slack:
                    accepted = True
                    break
                t *= 0.5
        if not accepted:
            if not fresh:               # a kept Hessian failed: retry with a fresh one
                factor = None
                continue
            return _hand_over(obj, x, nit, maxiter, gtol, trace, options,
                              "Hessian not positive definite" if step is None
                              else "line search failed")
        gmax_new = float(np.max(np.abs(g_new)))
        if not (reuse and t == 1.0 and gmax_new <= gmax / 8.0):
            factor = None               # recompute the Hessian at the next point
        x, f, g, gmax = x_new, f_new, g_new, gmax_new
        nit += 1
        trace.step(x, nit)
    message = (f"Newton with exact Hessian: {nit} iterations, {n_factor} Hessian "
               f"factorisation{'s' if n_factor != 1 else ''}")
    # polish: convergence is (super)linear-fast here, so one more step turns a gradient just
    # under gtol into round-off; kept only if it does not make things worse
    if nit and 1e-3 * gtol < gmax <= gtol and np.isfinite(f):
        if factor is None:
            factor = _cholesky(obj.hess(x))
        step = None if factor is None else _solve(factor, g)
        if step is not None:
            f_new, g_new = obj.fun_and_grad(x + step)
            slack = 16.0 * np.finfo(float).eps * max(abs(f), 1.0)
            if f_new <= f + slack and float(np.max(np.abs(g_new))) < gmax:
                x = x + step
                message += " and a polishing step"
    return x, nit, message, None


def _hand_over(obj, x, nit, maxiter, gtol, trace, options, why):
    opts = {"gtol": gtol, "maxiter": max(maxiter - nit, 1)}
    opts.update(options)
    res = scipy.optimize.minimize(obj.fun_and_grad, x, method="trust-exact", jac=True,
                                  hess=obj.hess, callback=trace.new_style, options=opts)
    return (np.asarray(res.x, dtype=float), nit + int(res.nit),
            f"Newton ({nit} iterations), then trust-exact ({why}): {res.message}", res)


def _cholesky(h: np.ndarray):
    """Cholesky factor of H (LAPACK potrf), or None if H is not positive definite."""
    if not np.all(np.isfinite(h)):
        return None
    c, info = _potrf(h, lower=False, clean=False)
    return c if info == 0 else None


def _solve(factor, g: np.ndarray) -> np.ndarray | None:
    """The Newton step ``-H^-1 g``; None unless it is finite and a descent direction."""
    x, info = _potrs(factor, g, lower=False)
    step = -x
    if info != 0 or not np.all(np.isfinite(step)) or not float(g @ step) < 0:
        return None
    return step


def _scipy(obj: Objective, x0, meth, maxiter, gtol, trace, options):
    # trust-krylov (trlib) and newton-cg (its curvature test p'Hp <= 3 eps) use absolute
    # thresholds that a mean log-likelihood falls under near the optimum; they are shown the
    # sum instead (c = nobs). The verdict is still mleopt's, on the mean gradient.
    c = float(obj.nobs) if meth in _ABSOLUTE_TOL else 1.0
    opts = dict(_TIGHT.get(meth, {}))
    opts["maxfun" if meth == "tnc" else "maxiter"] = maxiter
    if meth in _HAS_GTOL:
        opts["gtol"] = gtol * c
    opts.update(options)
    kwargs: dict[str, Any] = {"method": meth, "options": opts}
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
    return np.asarray(res.x, dtype=float), nit, f"{meth}: {res.message}", res


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
        self.prev = np.array(x, copy=True)

    def line(self, it, x, prev):
        if self.disp and prev is None and it == 0:
            self.prev = np.array(x, copy=True)
        f, g = self.obj.fun_and_grad(x)
        size = "" if prev is None else f"{np.linalg.norm(x - prev):.3e}"
        print(f"  iter {it:4d}   loglike {-f * self.obj.nobs: .10e}   "
              f"max|grad| {np.max(np.abs(g), initial=0.0):.3e}   step {size:9s}   "
              f"{time.perf_counter() - self.t0:7.2f} s", flush=True)
