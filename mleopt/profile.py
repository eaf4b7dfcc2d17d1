"""Profile likelihood: confidence intervals by likelihood-ratio inversion, and profiles.

For a parameter ``b_j`` the profile log-likelihood is ``llp(v) = max over the others of
loglike(b with b_j = v)``, found by an exact re-fit (Newton with the AD gradient and Hessian
of the other parameters, warm-started from the nearest value already profiled). The signed
root ``r(v) = sign(v - b_hat) sqrt(2 (llf - llp(v)))`` is about N(0, 1) at the true value, so
the interval of level 1 - alpha is ``{v : |r(v)| <= z_(1-alpha/2)}`` (the chi2(1) quantile of
the LR statistic ``r^2``), its ends found by root-finding (Brent) on ``r(v) -+ z``. These are
the intervals of R's ``confint`` for glm objects (MASS's profile method), computed by root
finding instead of spline interpolation. They are likelihood-based whatever the results'
``cov_type``, and use the normal quantile even where the Wald table uses t.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd
import scipy.optimize
import scipy.special as sps

from . import ad
from . import optimize as _opt
from .exceptions import ConvergenceWarning, warn_user

__all__ = ["ProfileFrame", "profile", "profile_conf_int"]

_MAX_EXPANSIONS = 40


class Profiler:
    """Re-fits of a results' model with one parameter held fixed, warm-started from the
    nearest fit already made. Where the optimiser's coordinate z_j is a function of b_j alone
    (the identity, log sigma, athrho), the re-fits run on the optimiser's scale z with z_j
    fixed; where b_j depends on other coordinates too (OrderedModel's cut-point c_j = c_0 +
    sum exp(z_i): fixing z_j would fix an increment, not c_j), they run on the natural
    parameters (times the optimiser's per-parameter scale) with b_j fixed."""

    def __init__(self, results, j: int):
        model = results.model
        self.results, self.j, self.name = results, j, results.param_names[j]
        self.hat = float(results._params[j])
        self.llf = float(results.llf)
        start = np.asarray(results._params, dtype=float)
        z_hat, self.to_params, self.objective = model._optimizer_space(start)
        self.objective.end_replay()     # (each re-fit is a run of its own: no plan across)
        self.z_hat = np.asarray(z_hat, dtype=float)
        self.nobs = self.objective.nobs
        self._model, self._start = model, start
        self.free = np.flatnonzero(np.arange(self.z_hat.size) != j)
        scale = model._opt_scale(start)
        self._scale = np.ones(start.size) if scale is None else np.asarray(scale, float)
        self.natural = _coupled(model, self.z_hat / self._scale, j)
        first = (self._scale * start)[self.free] if self.natural else self.z_hat[self.free]
        self.fits: dict[float, np.ndarray] = {self.hat: first}
        self.failed: list[float] = []

    def z_of(self, value: float) -> float:
        """z_j at natural value ``value`` (b_j alone decides z_j: see ``_coupled``)."""
        params = self._start.copy()
        params[self.j] = value
        with np.errstate(all="ignore"):
            theta = np.asarray(self._model.untransform(params), dtype=float)
        return float(theta[self.j] * self._scale[self.j])

    def inside(self, value: float) -> bool:
        """False where ``b_j = value`` is outside the parameter's domain (e.g. alpha <= 0,
        optimised as log alpha); re-fits on the natural scale cannot tell, and say True."""
        return self.natural or bool(np.isfinite(self.z_of(value)))

    def _full(self, zj: float, zf: np.ndarray) -> np.ndarray:
        z = self.z_hat.copy()
        z[self.j] = zj
        z[self.free] = zf
        return z

    def llp(self, value: float) -> float:
        """The profile log-likelihood at ``b_j = value`` (an exact re-fit)."""
        if value == self.hat:
            return self.llf
        free = self.free
        if self.natural:
            model, s = self._model, self._scale[free]

            def evaluate(uf):       # u = scale * params, b_j = value
                params = self._start.copy()
                params[self.j] = value
                params[free] = uf / s
                return model.loglike(params), model.score(params)[free] / s, \
                    lambda: model.hessian(params)[np.ix_(free, free)] / np.outer(s, s)
        else:
            zj = self.z_of(value)
            if not np.isfinite(zj):
                return -np.inf
            full = self.objective

            def evaluate(zf):
                z = self._full(zj, zf)
                f, g = full.fun_and_grad(z)
                return -f * self.nobs, -g[free] * self.nobs, \
                    lambda: -full.hess(z)[np.ix_(free, free)] * self.nobs

        reduced = _opt.Objective(evaluate, nobs=self.nobs)
        reduced.expensive_hessian = self.objective.expensive_hessian
        nearest = min(self.fits, key=lambda v: abs(v - value))
        with np.errstate(all="ignore"):
            record = _opt.minimize(reduced, self.fits[nearest], method="newton", gtol=1e-10,
                                   warn=False)
        if not record.converged:
            self.failed.append(value)
        self.fits[value] = record.theta
        return float(record.llf)

    def signed_root(self, value: float) -> float:
        lr = 2.0 * (self.llf - self.llp(value))
        return math.copysign(math.sqrt(max(lr, 0.0)), value - self.hat) \
            if np.isfinite(lr) else math.copysign(np.inf, value - self.hat)

    def end(self, side: int, q: float, se: float) -> float:
        """The end of the interval on ``side`` (-1 lower, +1 upper): where ``|r| = q``;
        +-inf (with a warning) if the profile stays below q (e.g. separation)."""
        step = (se if np.isfinite(se) and se > 0 else max(abs(self.hat), 1.0)) * q / 2
        inner, outer = self.hat, self.hat + side * step
        for _ in range(_MAX_EXPANSIONS):
            r = self.signed_root(outer)
            if abs(r) >= q:
                lo, hi = sorted((inner, outer))
                root = scipy.optimize.brentq(lambda v: self.signed_root(v) - side * q, lo, hi,
                                             xtol=1e-12 * max(1.0, abs(self.hat)),
                                             rtol=4 * np.finfo(float).eps, maxiter=200)
                if self.inside(outer) or abs(abs(self.signed_root(root)) - q) < 1e-6:
                    return root
                # the root-finder met the edge of the domain, not the cut-off
                warn_user(f"the profile likelihood of {self.name} does not fall by the chi2 "
                          f"quantile on the {'lower' if side < 0 else 'upper'} side before "
                          f"the edge of its domain (about {root:.6g}): that end of the "
                          "interval is reported as the edge (the data do not exclude "
                          "values up to it).", ConvergenceWarning)
                return root
            inner, outer = outer, outer + side * step
            step *= 2
        warn_user(f"the profile likelihood of {self.name} does not fall by the chi2 quantile "
                  f"on the {'lower' if side < 0 else 'upper'} side within {outer:.6g}: that end "
                  "of the interval is reported as infinite (a likelihood flat in this "
                  "parameter, e.g. separation).", ConvergenceWarning)
        return side * np.inf

    def check(self) -> None:
        if self.failed:
            warn_user(f"some profile re-fits of {self.name} did not converge (at "
                      f"{', '.join(f'{v:.6g}' for v in self.failed[:3])}): the profile there "
                      "may be inaccurate.", ConvergenceWarning)


def _coupled(model, theta: np.ndarray, j: int) -> bool:
    """True when the natural parameter b_j depends on optimiser coordinates other than its
    own (row j of d transform / d theta has an off-diagonal entry at the estimate): fixing
    z_j would then not fix b_j. A transform mleopt.ad cannot trace counts as coupled (the
    natural-scale re-fits are right for any transform)."""
    if model._natural_scale()[j]:       # optimised as it is: theta_j = b_j
        return False
    try:
        jac = np.asarray(ad.jacobian(model.transform)(theta), dtype=float)
    except Exception:       # noqa: BLE001  (any failure: take the path right for all)
        return True
    row = np.delete(jac[j], j)
    return bool(np.any(row != 0) or not np.all(np.isfinite(jac[j])))


def _index(results, name) -> int:
    names = results.param_names
    if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
        if not 0 <= name < len(names):
            raise IndexError(f"parameter position {name} is out of range: the model has "
                             f"{len(names)} parameters.")
        return int(name)
    if name not in names:
        import difflib
        close = difflib.get_close_matches(str(name), [str(n) for n in names], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"unknown parameter {name!r}.{hint} The parameters are "
                       f"{', '.join(map(str, names))}.")
    return names.index(name)


def _check_results(results) -> None:
    if (results._opt("extra") or {}).get("restricted"):
        raise ValueError("profile likelihood is not available for a fit with bounds or "
                         "constraints: its re-fits would leave them out. Profile the "
                         "unrestricted fit, or compare restricted fits with lr_test.")
    if getattr(results.model, "_reparam", None) is not None:
        raise ValueError("profile likelihood is not available for a fit with declared "
                         "transforms (fit(transforms=...)); profile a fit without them "
                         "(the MLE is the same when it is interior).")
    if results.converged is False:
        raise ValueError("profile likelihood needs the maximum of the likelihood, but this "
                         "fit did not converge; refit (e.g. method='newton', more maxiter) "
                         "first.")


def profile_conf_int(results, alpha: float = 0.05, cols: Sequence | None = None
                     ) -> pd.DataFrame:
    """Profile-likelihood intervals (columns 0 and 1) for ``cols`` (names or positions;
    default all parameters)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), not {alpha!r}.")
    _check_results(results)
    cov_type = getattr(results, "cov_type", "nonrobust")
    if cov_type in ("HC0", "HC1", "HC2", "HC3", "cluster"):
        warn_user(f"profile intervals are likelihood-ratio intervals: they assume the model "
                  f"is correctly specified and do not follow cov_type={cov_type!r} (its "
                  "robust standard errors give the Wald intervals, conf_int()).", UserWarning)
    q = float(-sps.ndtri(alpha / 2))
    idx = [_index(results, c) for c in (range(len(results.param_names)) if cols is None
                                        else cols)]
    se = results._bse
    rows = []
    for j in idx:
        p = Profiler(results, j)
        rows.append((p.end(-1, q, se[j]), p.end(+1, q, se[j])))
        p.check()
    return pd.DataFrame(rows, columns=[0, 1], index=[results.param_names[j] for j in idx])


class ProfileFrame(pd.DataFrame):
    """The profile of one parameter: columns value, llf (profile log-likelihood), signed_root
    (r) and wald_z ((value - estimate) / se); ``plot()`` draws it beside the Wald quadratic."""

    _metadata = ["param", "estimate", "se", "llf_max", "alpha"]

    @property
    def _constructor(self):
        return ProfileFrame

    def plot(self, ax=None, alpha: float | None = None):
        """Profile log-likelihood and its Wald quadratic ``llf - z^2 / 2`` against the
        value, with the cut-off ``llf - q^2 / 2`` of the 1 - alpha interval (matplotlib
        needed: ``pip install mleopt[plot]``). Returns the Axes."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:
            raise ImportError("ProfileFrame.plot needs matplotlib: pip install "
                              "'mleopt[plot]' (or matplotlib).") from exc
        if ax is None:
            _, ax = plt.subplots()
        alpha = self.alpha if alpha is None else alpha
        q = float(-sps.ndtri(alpha / 2))
        v = self["value"].to_numpy()
        ax.plot(v, self["llf"].to_numpy(), "o-", label="profile log-likelihood")
        ax.plot(v, self.llf_max - self["wald_z"].to_numpy() ** 2 / 2, "--",
                label="Wald quadratic")
        ax.axhline(self.llf_max - q * q / 2, color="grey", lw=0.8,
                   label=f"{100 * (1 - alpha):g}% cut-off")
        ax.axvline(self.estimate, color="grey", lw=0.8, ls=":")
        ax.set_xlabel(str(self.param))
        ax.set_ylabel("log-likelihood")
        ax.legend()
        return ax


def profile(results, name, values: Sequence[float] | None = None, num: int = 21,
            width: float = 3.0, alpha: float = 0.05) -> ProfileFrame:
    """The profile of parameter ``name`` at ``values`` (default ``num`` points over estimate
    +- ``width`` standard errors), fitted outwards from the estimate with warm starts."""
    _check_results(results)
    j = _index(results, name)
    p = Profiler(results, j)
    se = float(results._bse[j])
    if values is None:
        if not (np.isfinite(se) and se > 0):
            raise ValueError(f"the standard error of {p.name} is not positive and finite, so "
                             "no default grid can be made: pass values=[...].")
        if not (isinstance(num, (int, np.integer)) and num >= 2):
            raise ValueError(f"num must be an integer >= 2, not {num!r}.")
        values = np.linspace(p.hat - width * se, p.hat + width * se, num)
        values = values[[p.inside(v) for v in values]]     # e.g. no alpha <= 0
    values = np.asarray(values, dtype=float).ravel()
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError("values must be finite numbers.")
    outside = [f"{v:.6g}" for v in values if not p.inside(v)]
    if outside:
        raise ValueError(f"values outside the domain of {p.name}: {', '.join(outside[:5])}.")
    llp = np.empty(values.size)
    for i in np.argsort(np.abs(values - p.hat)):       # outwards: each fit warm-starts
        llp[i] = p.llp(float(values[i]))
    p.check()
    lr = np.maximum(2 * (p.llf - llp), 0.0)
    frame = ProfileFrame({"value": values, "llf": llp,
                          "signed_root": np.sign(values - p.hat) * np.sqrt(lr),
                          "wald_z": (values - p.hat) / se})
    frame.param, frame.estimate, frame.se, frame.llf_max, frame.alpha = \
        p.name, p.hat, se, p.llf, alpha
    return frame
