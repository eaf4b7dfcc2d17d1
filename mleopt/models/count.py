"""Count models: Poisson and the negative binomial (NB2, or NB1).

Both have ``E[y_i] = mu_i = exp(eta_i)``, ``eta_i = x_i'beta + offset_i + log(exposure_i)``.

* Poisson: ``log P(y | mu) = y log mu - mu - log y!``.
* NegativeBinomial (NB2): ``Var(y) = mu + alpha mu^2``; with ``r = 1 / alpha``,
  ``log P(y | mu, alpha) = lgamma(y + r) - lgamma(r) - lgamma(y + 1)
  - r log(1 + alpha mu) + y log(alpha mu / (1 + alpha mu))``. alpha is optimised as
  log alpha and reported as alpha.
* NegativeBinomial(loglike_method="nb1") (NB1): ``Var(y) = mu (1 + alpha)``; with
  ``r = mu / alpha``, ``log P = lgamma(y + r) - lgamma(r) - lgamma(y + 1)
  - (r + y) log(1 + alpha) + y log(alpha)`` (statsmodels' NegativeBinomialP with p = 1).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.special as sps

from .. import numpy as mnp
from .. import special
from ..data import align_labels
from ..exceptions import DataError, warn_user
from .discrete import linearised_start
from .index import IndexModel, _separation_mode

__all__ = ["Poisson", "NegativeBinomial", "CountModel"]


def check_counts(y: np.ndarray, name: str, yname: str, need_zeros: str | None = None,
                 integer: bool = True) -> None:
    """Counts: non-negative integers (``integer=False``: non-negative numbers); with
    ``need_zeros`` (what the zeros are for), some 0 and some positive count."""
    neg = y < 0
    if neg.any():
        raise DataError(f"{name} needs counts: endog {yname!r} has {int(neg.sum())} negative "
                        f"values (e.g. {y[neg][0]:g} in row {int(np.flatnonzero(neg)[0])}).")
    frac = y != np.floor(y)
    if integer and frac.any():
        hint = (" For a non-negative non-integer outcome (PPML), pass "
                "allow_noninteger=True." if name == "Poisson" else "")
        raise DataError(f"{name} needs counts: endog {yname!r} has {int(frac.sum())} "
                        f"non-integer values (e.g. {y[frac][0]:g} in row "
                        f"{int(np.flatnonzero(frac)[0])}).{hint}")
    if need_zeros is None:
        return
    if not (y == 0).any():
        raise DataError(f"{name}: endog {yname!r} has no zeros, so {need_zeros} cannot be "
                        "estimated; fit a model without a zero part (Poisson, "
                        "NegativeBinomial, or a zero-truncated model).")
    if not (y > 0).any():
        raise DataError(f"{name}: endog {yname!r} is 0 in every row; a count part cannot be "
                        "estimated.")


class CountModel(IndexModel):
    """Counts with a log link; ``offset=`` and ``exposure=`` (logged) as in statsmodels."""

    _results_name = "CountResults"
    _extra_arrays = ("offset", "exposure")
    allow_noninteger = False    # Poisson(..., allow_noninteger=True): PPML

    def __init__(self, endog, exog=None, offset=None, exposure=None, missing: str = "raise",
                 separation: str = "raise", **kwargs) -> None:
        self.separation = _separation_mode(separation)
        super().__init__(endog, exog, missing=missing, offset=offset, exposure=exposure,
                         **kwargs)
        extras = self.data.extras
        self.offset = extras.get("offset")
        self.exposure = extras.get("exposure")
        if self.exposure is not None:
            bad = ~(self.exposure > 0)
            if bad.any():
                raise DataError(f"exposure must be positive; {int(bad.sum())} of {self.nobs} "
                                f"rows are <= 0 (first: row {int(np.flatnonzero(bad)[0])}).")
        total = None
        if self.offset is not None:
            total = self.offset.copy()
        if self.exposure is not None:
            total = np.log(self.exposure) if total is None else total + np.log(self.exposure)
        self._total_offset = total
        self._lgamma_y1 = sps.gammaln(self.endog + 1.0)

    def _offset(self) -> np.ndarray | None:
        return self._total_offset

    def _validate(self) -> None:
        y = self.endog
        name, yname = type(self).__name__, self.endog_name
        check_counts(y, name, yname, integer=not self.allow_noninteger)
        if not self.__dict__.get("_partition"):     # (a Dask partition: _dask_validate)
            self._check_some_positive(bool(y.any()))

    def _check_some_positive(self, positive: bool) -> None:
        if self.k_constant and not positive:
            raise DataError(f"{type(self).__name__}: endog {self.endog_name!r} is 0 in every "
                            "row, so the intercept's MLE is minus infinity (a fit would stop "
                            "at an arbitrary large negative value and report it as converged).")

    def _dask_summary(self) -> dict:
        """One Dask partition's share of the whole-sample check: whether a count is > 0."""
        return {"positive": bool(self.endog.any())}

    def _dask_validate(self) -> None:
        self._check_some_positive(any(p["positive"] for p in self._dask_summaries))

    def _inverse_link(self, linear):
        return mnp.exp(linear)

    def _after_fit(self, record) -> None:
        """The MLE does not exist when some direction of the coefficients lowers the means of
        zero counts only (x_i'b <= 0 where y_i = 0, = 0 elsewhere): those coefficients drift
        to -inf while the fit may still meet the gradient tolerance. Checked (by a linear
        program) when a fitted mean is below 1e-6 or the fit did not converge."""
        fired = [] if record.converged else ["the fit did not converge"]
        low = -self._saturation(record.params)
        if low <= np.log(1e-6):
            fired.append(f"a fitted mean is {np.exp(low):.3g} (below 1e-6)")
        if fired:
            # strong evidence: a mean below 1e-13, or a direction the data barely constrain
            strong = (not record.converged or low <= -30.0
                      or self._flat_hessian(record.params) is not None)
            self._confirm_separation(fired, record.params, self._describe_separation,
                                     strong)

    def _saturation(self, params) -> float:
        """``-min_i eta_i`` (eta the linear predictor with the offsets)."""
        return -float(np.min(self._linear(params[: self.k_exog])))

    def _separation_rows(self) -> tuple:
        """``a_i = -x_i`` for the zero counts, the other rows held equal."""
        zero = self.endog == 0
        return -self.exog[zero], self.exog[~zero], ()

    def _describe_separation(self, cols) -> tuple[str, list[str]]:
        named = [self.exog_names[j] for j in cols]
        return (f"the MLE does not exist: in the direction of column(s) "
                f"{', '.join(map(repr, named))} the fitted means of zero counts go to 0 while "
                f"the other observations are unaffected, so those coefficients diverge to "
                f"-inf (the count analogue of perfect separation).", named)

    def predict(self, params, exog=None, which: str = "mean", offset=None, exposure=None):
        """``"linear"``: x'beta + offset + log(exposure); ``"mean"``: its exp.

        With ``exog=None`` the model's offset/exposure are used unless given; with a new
        ``exog`` they default to none (0 and 1), as in statsmodels. A pandas Series offset or
        exposure is matched by its index to exog's (a DataFrame) or, with ``exog=None``, to
        the model's rows; ``params`` given as a Series are matched by name."""
        self._check_which(which)
        params = self._params_by_name(params)
        linear = self._linear_predictor(params, exog)
        if exog is None and offset is None and exposure is None:
            extra = self._total_offset
        else:
            extra = None
            n = linear.shape[0] if hasattr(linear, "shape") and linear.ndim else 1
            if offset is not None:
                extra = _per_row(self._predict_rows(offset, "offset", exog), "offset", n)
            if exposure is not None:
                exposure = _per_row(self._predict_rows(exposure, "exposure", exog),
                                    "exposure", n)
                if np.any(exposure <= 0):
                    raise ValueError("exposure must be positive (its log enters the model).")
                extra = np.log(exposure) if extra is None else extra + np.log(exposure)
        if extra is not None:
            linear = linear + extra
        if which == "linear":
            return linear
        mean = self._inverse_link(linear)
        return mean if which == "mean" else self._moment(which, mean, params)

    def _predict_rows(self, values, name: str, exog):
        """A Series ``values`` for predict matched by index to the rows predicted: exog's
        (a DataFrame; numpy exog: 0..n-1) or, with ``exog=None``, the model's; anything
        else unchanged."""
        if not isinstance(values, pd.Series):
            return values
        if exog is None:
            return self.data.align(values, name)
        if isinstance(exog, pd.DataFrame):
            return align_labels(values, exog.index, name, what="exog's row index",
                                fix=f"{name}.loc[exog.index]")
        rows = np.shape(exog)[0] if np.ndim(exog) == 2 else 1
        return align_labels(values, pd.RangeIndex(rows), name,   # numpy: labels 0..n-1
                            what="the numpy exog's default row labels 0..n-1",
                            fix="give exog as a DataFrame with its index")

    def _poisson_start(self) -> np.ndarray:
        """Newton's first step from the intercept-only point (``_first_step``) where it
        applies; else zeros, with the constant at log(mean y) - mean(offset)."""
        step = self._first_step()
        return self._null_start() if step is None else step

    def _null_start(self) -> np.ndarray:
        """Zeros, with the constant at log(mean y) - mean(offset): the intercept-only point
        (without offset)."""
        start = np.zeros(self.k_exog)
        c = self.const_idx
        if c is not None:
            off = 0.0 if self._total_offset is None else float(self._total_offset.mean())
            start[c] = (np.log(max(float(self.endog.mean()), 1e-8)) - off) / self.exog[0, c]
        return start

    def _first_step(self) -> np.ndarray | None:
        """Without offset or exposure, the least-squares fit of y linearised at ``eta0 =
        log(mean y)`` (``linearised_start`` with ``m'(eta0) = mean y``): Newton's first step
        from the intercept-only point, a Newton iteration or two fewer than from there.
        As in Newton's line search, the step is halved (at most 10 times) until the Poisson
        log-likelihood ``sum w (y eta - e^eta)`` is no lower than at that point (a rare
        regressor of large effect overshoots by a factor 3). None with an offset, without a
        constant, on large data, or where no halving helps."""
        c = self.const_idx
        if self._total_offset is not None or c is None:
            return None
        ybar = max(float(self.endog.mean()), 1e-8)
        step = linearised_start(self, ybar, np.log(ybar), ybar)
        if step is None:
            return None
        null = self._null_start()
        w = self._row_weights()

        def loglike(beta: np.ndarray) -> float:
            eta = self.exog @ beta
            with np.errstate(over="ignore", invalid="ignore"):
                terms = self.endog * eta - np.exp(eta)
            return float(terms.sum() if w is None else w @ terms)

        at_null = loglike(null)
        for _ in range(11):
            if loglike(step) >= at_null:     # (False for NaN)
                return step
            step = null + 0.5 * (step - null)
        return None

    def _family_start(self, iterations: int | None = 3) -> np.ndarray:
        """This Poisson model's coefficients as the start of a count family: from Newton's
        first step, ``iterations`` more Newton iterations (NB and GP: with 3 their own Newton
        takes no more iterations than from the converged Poisson fit and lands within 2e-13
        of where it did: NB2, NB1, GP on 12 randhie subsamples of 300 to 5,000 rows); else (or with
        ``iterations=None``) the Poisson fit to gtol 1e-6. Where those iterations end far
        from the estimate (largest gradient entry above 1e-2: large coefficients, counts
        up to 1e4, 3 iterations 0.4 away), the Poisson fit goes on to gtol 1e-6."""
        step = self._first_step()
        if step is None or iterations is None:
            start = self._null_start() if step is None else step
            return self._fit_quick(start, gtol=1e-6).params
        # (only the parameters are used: no noise probes for the verdict of 3 iterations)
        record = self._fit_quick(step, gtol=1e-6, maxiter=iterations, measure_noise=False)
        if not record.grad_max <= 1e-2:
            record = self._fit_quick(record.params, gtol=1e-6)
        return record.params


class Poisson(CountModel):
    """Poisson regression: ``y_i ~ Poisson(exp(x_i'beta + offset_i))``.

    ``allow_noninteger=True`` accepts any non-negative outcome (Poisson pseudo-maximum
    likelihood, PPML, as in gravity models of trade: Santos Silva and Tenreyro 2006). The
    estimates are consistent whenever ``E[y | x] = exp(x'beta)``, whatever the distribution
    of y, but the Poisson variance is then not the model's: use a robust covariance,
    ``fit(cov_type="HC1")`` (or HC0 / cluster). ``llf`` (with ``-lgamma(y + 1)``) is a
    pseudo log-likelihood: LR tests and AIC do not apply.
    """

    _strict_kwargs = True       # refuse keywords it does not use (weights=...)
    _MOMENTS = ("var",)
    glm_family = "poisson"      # its residuals' conventions (mleopt.residuals)

    def __init__(self, endog, exog=None, offset=None, exposure=None, missing: str = "raise",
                 separation: str = "raise", allow_noninteger: bool = False, **kwargs) -> None:
        if not isinstance(allow_noninteger, (bool, np.bool_)):
            raise TypeError(f"allow_noninteger must be True or False, not "
                            f"{allow_noninteger!r}.")
        self.allow_noninteger = bool(allow_noninteger)
        super().__init__(endog, exog, offset=offset, exposure=exposure, missing=missing,
                         separation=separation, **kwargs)

    def _moment(self, which, mean, params):
        """``"var"``: Var[y | x] = mu."""
        return mean

    def loglike_index(self, eta, extra):
        """``y eta - exp(eta) - log y!``."""
        return self.endog * eta - mnp.exp(eta) - self._lgamma_y1

    def start_params(self) -> np.ndarray:
        return self._poisson_start()

    def _variance_index(self, mu, extra):
        """``Var(y) = mu``."""
        return mu


class NegativeBinomial(CountModel):
    """Negative binomial: ``loglike_method="nb2"`` (default), ``Var(y) = mu + alpha mu^2``;
    ``"nb1"``, ``Var(y) = mu (1 + alpha)``. Parameters beta and alpha."""

    _strict_kwargs = True       # refuse keywords it does not use (weights=...)

    extra_param_names = ("alpha",)
    _METHODS = ("nb2", "nb1")
    _MOMENTS = ("var",)

    @property
    def glm_family(self) -> str:
        """``"nb2"`` or ``"nb1"`` (residuals' conventions, mleopt.residuals)."""
        return self.loglike_method

    def _moment(self, which, mean, params):
        """``"var"``: mu + alpha mu^2 (NB2) or mu (1 + alpha) (NB1)."""
        alpha = params[self.k_exog]
        return mean * (1 + alpha) if self.loglike_method == "nb1" else mean + alpha * mean * mean
    # LR tests against a Poisson fit are allowed (mleopt.inference.lr_test), with this note
    nested_models = {Poisson: (
        "Poisson is the negative binomial with alpha = 0, on the boundary of alpha >= 0: the "
        "chi2 p-value is conservative; the boundary-corrected p-value (a 50:50 mixture of "
        "chi2(0) and chi2(1)) is half of it.")}

    def _after_fit(self, record) -> None:
        """Besides the count analogue of separation: alpha below 1e-6 is the boundary alpha
        -> 0 (no overdispersion), where the standard error of alpha means nothing; the
        summary says so (as the zero-inflated and hurdle models' do)."""
        self.separation_note = None
        super()._after_fit(record)
        alpha = float(record.params[self.k_exog])
        if alpha < 1e-6:
            note = (f"Fit at a boundary of the parameter space: alpha = {alpha:.3g} is at the "
                    "boundary alpha -> 0 (no overdispersion): its standard error is "
                    "meaningless and the model is a Poisson (fit Poisson; lr_test against it "
                    "notes the boundary).")
            self.separation_note = "; ".join(filter(None, [self.separation_note, note]))
            warn_user(note, UserWarning)

    def __init__(self, endog, exog=None, offset=None, exposure=None, missing: str = "raise",
                 separation: str = "raise", loglike_method: str = "nb2", **kwargs) -> None:
        if loglike_method not in self._METHODS:
            raise ValueError(f"loglike_method must be 'nb2' (Var = mu + alpha mu^2) or 'nb1' "
                             f"(Var = mu (1 + alpha)), not {loglike_method!r}.")
        self.loglike_method = loglike_method
        super().__init__(endog, exog, offset=offset, exposure=exposure, missing=missing,
                         separation=separation, **kwargs)

    def loglike_index(self, eta, extra):
        """NB2 (``r = 1 / alpha``) or NB1 (``r = mu / alpha``) log-probability, ``mu =
        exp(eta)``."""
        alpha = extra[0]
        y = self.endog
        if self.loglike_method == "nb1":
            r = mnp.exp(eta) / alpha
            return (special.gammaln(y + r) - special.gammaln(r) - self._lgamma_y1
                    - (r + y) * mnp.log1p(alpha) + y * mnp.log(alpha))
        r = 1.0 / alpha
        log1p_amu = mnp.log1p(alpha * mnp.exp(eta))
        return (special.gammaln(y + r) - special.gammaln(r) - self._lgamma_y1
                - r * log1p_amu + y * (mnp.log(alpha) + eta - log1p_amu))

    def _variance_index(self, mu, extra):
        """NB2, alpha held fixed (a linear exponential family): ``Var(y) = mu + alpha mu^2``.
        NB1's ``r = mu / alpha`` moves with the mean, so it has no such form (None)."""
        return mu + extra[0] * mu * mu if self.loglike_method == "nb2" else None

    def start_params(self) -> np.ndarray:
        """The Poisson estimates (``_family_start``), then alpha by the method of moments
        (at least 0.05):
        NB2 ``alpha = sum(((y - mu)^2 / mu - 1) / mu) / df_resid`` (statsmodels' choice),
        NB1 ``alpha = sum((y - mu)^2 / mu - 1) / df_resid``."""
        pois = Poisson._like(self)
        beta = pois._family_start()
        mu = np.exp(pois._linear(beta))
        excess = (self.endog - mu) ** 2 / mu - 1.0
        if self.loglike_method == "nb2":
            excess = excess / mu
        alpha = np.sum(excess) / max(self.df_resid, 1.0)
        if not np.isfinite(alpha):
            alpha = 1.0
        return np.append(beta, max(float(alpha), 0.05))


def _per_row(values, name: str, n: int) -> np.ndarray:
    """offset / exposure for predict: a number, or one value per row of exog."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != n):
        raise ValueError(f"{name} for predict must be a number or one value per row of exog "
                         f"({n}); got shape {arr.shape}.")
    return arr
