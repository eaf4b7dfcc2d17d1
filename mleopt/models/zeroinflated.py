"""Zero-inflated count models: ZeroInflatedPoisson and ZeroInflatedNegativeBinomial.

A zero-inflated count is 0 with probability ``w_i`` (the inflation part, a binary model on
``z_i'gamma``: ``w = expit(z'gamma)`` for ``inflation="logit"``, ``Phi(z'gamma)`` for
``"probit"``) and otherwise a draw from the count distribution ``f(y | mu_i, alpha)``,
``mu_i = exp(x_i'beta + offset_i + log exposure_i)``::

    P(y = 0) = w + (1 - w) f(0),        P(y = k > 0) = (1 - w) f(k),
    E[y] = (1 - w) mu.

The log-likelihood is written once (``loglikeobs``, with ``logaddexp`` for the zeros) and
every derivative is mleopt.ad's; it sees the parameters through two linear indices,
``Z gamma`` and ``X beta``, and alpha, so the Hessian takes the linear-index route.

Parameters and names follow statsmodels' ZeroInflatedPoisson /
ZeroInflatedNegativeBinomialP: the inflation coefficients first (``inflate_<name>``;
``exog_infl`` defaults to a constant, ``inflate_const``), then the count coefficients, then
``alpha`` (NB: optimised as log alpha, reported as alpha with its delta-method SE).

Marginal effects (``results.get_margeff(which="mean" | ...)``, mleopt.results_twopart) are
taken per variable: one in both ``exog`` and ``exog_infl`` has its total effect through both
parts (``_MarginsDesign``).

The count distributions shared with the hurdle models and GeneralizedPoisson are in
``log_pmf`` (one formula per family, written with mleopt.numpy so predictions are
differentiable).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import special as special_np
from scipy.special import ndtri

from .. import ad
from .. import numpy as mnp
from .. import special
from ..data import check_rank
from ..exceptions import DataError, warn_user
from .base import LikelihoodModel, _as_exog
from .count import _per_row, check_counts

__all__ = ["ZeroInflatedPoisson", "ZeroInflatedNegativeBinomial", "log_pmf"]


# --- count distributions: log f(y | mu, alpha), elementwise, broadcasting ----------------------
def log_pmf(dist: str, y, mu, alpha=None):
    """``log f(y | mu, alpha)`` of ``dist``:

    * ``"poisson"``: ``y log mu - mu - log y!``;
    * ``"nb2"``: negative binomial, Var = mu + alpha mu^2 (``r = 1 / alpha``);
    * ``"nb1"``: negative binomial, Var = mu (1 + alpha) (``r = mu / alpha``);
    * ``"gp1"``: generalized Poisson (statsmodels' GP-1), Var = mu (1 + alpha)^2:
      ``log mu + (y - 1) log(mu + alpha y) - y log(1 + alpha) - log y!
      - (mu + alpha y) / (1 + alpha)``.
    """
    lgy1 = special.gammaln(y + 1.0)
    if dist == "poisson":
        return y * mnp.log(mu) - mu - lgy1
    if dist == "nb2":
        r = 1.0 / alpha
        log1p_amu = mnp.log1p(alpha * mu)
        return (special.gammaln(y + r) - special.gammaln(r) - lgy1 - r * log1p_amu
                + y * (mnp.log(alpha) + mnp.log(mu) - log1p_amu))
    if dist == "nb1":
        r = mu / alpha
        return (special.gammaln(y + r) - special.gammaln(r) - lgy1
                - (r + y) * mnp.log1p(alpha) + y * mnp.log(alpha))
    if dist == "gp1":
        a2 = mu + alpha * y
        return (mnp.log(mu) + (y - 1.0) * mnp.log(a2) - y * mnp.log1p(alpha) - lgy1
                - a2 / (1.0 + alpha))
    raise ValueError(f"unknown count distribution {dist!r}.")


def log_pmf0(dist: str, mu, alpha=None):
    """``log f(0 | mu, alpha)`` in closed form (stable for every mu)."""
    if dist == "poisson":
        return -mu
    if dist == "nb2":
        return -mnp.log1p(alpha * mu) / alpha
    if dist == "nb1":
        return -(mu / alpha) * mnp.log1p(alpha)
    if dist == "gp1":
        return -mu / (1.0 + alpha)
    raise ValueError(f"unknown count distribution {dist!r}.")


def log_binary(link: str, q):
    """``(log P, log (1 - P))`` of a binary part with index ``q``: ``P = expit(q)``
    (``"logit"``), ``Phi(q)`` (``"probit"``) or ``1 - exp(-exp(q))`` (``"poisson"``: the
    zero of a Poisson with mean exp(q), statsmodels' hurdle default)."""
    if link == "logit":
        return special.log_expit(q), special.log_expit(-q)
    if link == "probit":
        return special.log_ndtr(q), special.log_ndtr(-q)
    if link == "poisson":
        lam = mnp.exp(q)
        return mnp.log(-mnp.expm1(-lam)), -lam
    raise ValueError(f"unknown binary link {link!r}.")


class TwoPartCountModel(LikelihoodModel):
    """What the zero-inflated and hurdle models share: a count part on ``exog`` (with
    offset/exposure) and a binary zero part on a second design (``self.zexog``), its
    coefficients first; alpha (if any) last, optimised as log alpha."""

    _extra_arrays = ("offset", "exposure")
    _zero_prefix = "inflate_"
    _zero_arg = "exog_infl"
    dist = "poisson"
    _dask_added = {"_zcol_norms": "norm"}   # a Dask model adds them over its partitions

    def __init__(self, endog, exog, zexog: Any, link: str, missing: str = "raise",
                 offset=None, exposure=None, **kwargs) -> None:
        if exog is None:
            raise DataError(f"{type(self).__name__} needs exog (the count regressors); for "
                            "an intercept-only model pass a column of ones, np.ones(nobs).")
        self.link = link
        columns, self._znames = _zero_columns(zexog, self._zero_prefix, self._zero_arg)
        # "const" (default of the zero-inflated models), "exog" (of the hurdle models), "given"
        self._zkind = columns if isinstance(columns, str) else "given"
        self._zgiven = columns if self._zkind == "given" else []
        try:
            super().__init__(endog, exog, missing=missing, offset=offset, exposure=exposure,
                             **kwargs)
        finally:
            del self._zgiven            # the user's columns: not kept
        extras = self.data.extras
        keys = [f"{self._zero_arg} column {n!r}" for n in self._znames]
        if self._zkind == "const":
            self.zexog = np.ones((self.nobs, 1))
        elif self._zkind == "exog":
            self.zexog = self.exog
            self._znames = [self._zero_prefix + n for n in self.exog_names]
        else:
            self.zexog = np.column_stack([extras.pop(k) for k in keys])
        self.k_zero = self.zexog.shape[1]
        self._zcol_norms = check_rank(self.zexog, self._znames)[0]
        self.offset, self.exposure = extras.get("offset"), extras.get("exposure")
        if self.exposure is not None and not np.all(self.exposure > 0):
            bad = ~(self.exposure > 0)
            raise DataError(f"exposure must be positive; {int(bad.sum())} of {self.nobs} rows "
                            f"are <= 0 (first: row {int(np.flatnonzero(bad)[0])}).")
        total = self.offset
        if self.exposure is not None:
            total = np.log(self.exposure) if total is None else total + np.log(self.exposure)
        self._total_offset = total
        self._zero = (self.endog == 0).astype(float)
        self._set_param_names(self._znames + self.exog_names + list(self.extra_param_names))

    def _split_kwargs(self, endog, kwargs: dict):
        """The zero part's columns travel as per-row extras (aligned, checked and dropped
        with the rows like offset), one per column."""
        extras, passthrough = super()._split_kwargs(endog, kwargs)
        extras.update({f"{self._zero_arg} column {n!r}": c
                       for n, c in zip(self._znames, self._zgiven)})
        return extras, passthrough

    def _validate(self) -> None:
        check_counts(self.endog, type(self).__name__, self.endog_name, self._zeros_needed)

    _zeros_needed = "the zero part"

    @property
    def df_model(self) -> float:
        """Count regressors excluding the constant (statsmodels: the count part only)."""
        return float(self.k_exog - self.k_constant)

    @property
    def df_resid(self) -> float:
        """``nobs - k_zero - k_exog`` (alpha not counted, as in statsmodels)."""
        return float(self.nobs - self.k_zero - self.k_exog)

    # --- the pieces of the likelihood ----------------------------------------------------------
    def _parts(self, params):
        """``(q, eta, alpha)``: the zero index Z gamma, the count index X beta + offset, and
        alpha (None for Poisson)."""
        kz, kx = self.k_zero, self.k_exog
        q = mnp.matmul(self.zexog, params[:kz])
        eta = mnp.matmul(self.exog, params[kz:kz + kx])
        if self._total_offset is not None:
            eta = eta + self._total_offset
        alpha = params[kz + kx] if self.extra_param_names else None
        return q, eta, alpha

    # --- optimiser scale: alpha as log alpha, coefficients per unit of rms --------------------
    def transform(self, theta):
        if not self.extra_param_names:
            return theta
        return mnp.concatenate([theta[:-1], mnp.exp(theta[-1:])])

    def untransform(self, params):
        out = np.array(params, dtype=float, copy=True)
        if self.extra_param_names:
            with np.errstate(divide="ignore", invalid="ignore"):
                out[-1] = np.log(out[-1])
        return out

    def _natural_scale(self) -> np.ndarray:
        return np.arange(self.k_params) < self.k_zero + self.k_exog

    def _theta_bounds(self, lower: np.ndarray, upper: np.ndarray):
        return self._log_bounds(lower, upper, self.k_zero + self.k_exog)

    def _opt_scale(self, start: np.ndarray) -> np.ndarray:
        norms = self._col_norms
        if norms is None:
            norms = np.sqrt(np.einsum("ij,ij->j", self.exog, self.exog))
        rms = np.concatenate([self._zcol_norms, norms]) / np.sqrt(self.nobs)
        rms[rms == 0] = 1.0
        return np.concatenate([rms, np.ones(self.k_params - rms.size)])

    @property
    def _results_class(self):
        from ..results_twopart import TwoPartCountResults    # the results layer, lazily
        return TwoPartCountResults

    def _margins_model(self) -> "_MarginsDesign":
        """The model seen by marginal effects: one design of the distinct variables of
        both parts (see :class:`_MarginsDesign`)."""
        if getattr(self, "zexog", None) is None:       # Dask data: the rows are not here
            raise NotImplementedError(
                f"get_margeff of {type(self).__name__} on Dask data is not available: "
                "matching the zero part's columns to exog's needs the rows themselves; "
                "compute the data (ddf.compute()) and fit in memory for marginal effects.")
        return _MarginsDesign(self)

    separation_note: str | None = None
    """A fit at a boundary (zero part -> 0, alpha -> 0): what the summary says, else None."""

    def _after_fit(self, record) -> None:
        self.separation_note = boundary_note(self, np.asarray(record.params, dtype=float))
        if self.separation_note is not None:
            warn_user(self.separation_note, UserWarning)

    # --- start values ---------------------------------------------------------------------------
    def _count_start(self) -> np.ndarray:
        """Count coefficients: the Poisson fit to gtol 1e-6 (not cut short as NB's: a
        zero part nearly flat in some direction, as ZINB's on some randhie subsamples,
        lands elsewhere within that flatness from a start 1e-4 away)."""
        from .count import Poisson
        pois = Poisson._like(self, _lgamma_y1=special_np.gammaln(self.endog + 1.0))
        return pois._family_start(iterations=None)

    # --- the null model (llnull): both parts intercept-only, offset/exposure kept -------------
    def _null_model(self) -> "TwoPartCountModel":
        null = super()._null_model()
        null.zexog = np.ones((self.nobs, 1))
        null.k_zero = 1
        null._zcol_norms = np.array([np.sqrt(self.nobs)])
        null._param_names = [self._zero_prefix + "const", "const"] + \
            list(self.extra_param_names)
        return null

    # --- predictions ----------------------------------------------------------------------------
    _WHICH = ("mean", "linear", "mean-main", "prob-zero", "prob-main", "prob")

    def predict(self, params, exog=None, which: str = "mean", exog_infl=None,
                offset=None, exposure=None, y_values=None):
        """Predictions (statsmodels' names): ``"mean"`` E[y]; ``"linear"`` the count index
        x'beta + offset; ``"mean-main"`` the count part's mean exp(linear); ``"prob-zero"``
        P(y = 0); ``"prob-main"`` the zero part's probability (inflation w for a
        zero-inflated model, P(y > 0) for a hurdle model); ``"prob"`` P(y = k) for
        ``y_values`` (default 0..max(endog)), one column per k.

        With ``exog=None`` the model's rows (and its offset/exposure unless given);
        otherwise ``exog`` and the zero part's design (``exog_infl``, or ``exog_zero`` for
        a hurdle model; a constant by default for a zero-inflated model)."""
        if which not in self._WHICH:
            raise ValueError(f"which must be one of {', '.join(map(repr, self._WHICH))}, "
                             f"not {which!r}.")
        p = self._params_by_name(params)
        kz, kx = self.k_zero, self.k_exog
        if exog is None:
            x, z = self.exog, self.zexog if exog_infl is None else None
            extra = self._total_offset if offset is None and exposure is None else None
        else:
            x, z, extra = _as_exog(exog, kx, self.exog_names), None, None
        n = x.shape[0]
        if z is None:
            z = self._new_zexog(exog_infl, x, n)
        if offset is not None:
            extra = _per_row(offset, "offset", n)
        if exposure is not None:
            e = _per_row(exposure, "exposure", n)
            if np.any(e <= 0):
                raise ValueError("exposure must be positive (its log enters the model).")
            extra = np.log(e) if extra is None else extra + np.log(e)
        eta = mnp.matmul(x, p[kz:kz + kx])
        if extra is not None:
            eta = eta + extra
        if which == "linear":
            return eta
        mu = mnp.exp(eta)
        if which == "mean-main":
            return mu
        alpha = p[kz + kx] if self.extra_param_names else None
        log_p, log_1mp = log_binary(self.link, mnp.matmul(z, p[:kz]))
        if which == "prob-main":
            return mnp.exp(log_p)
        if which == "prob":
            ys = np.arange(int(np.max(self.endog)) + 1) if y_values is None else \
                np.asarray(y_values, dtype=float)
            return self._prob(ys, mu, alpha, log_p, log_1mp)
        if which == "prob-zero":
            return mnp.exp(self._log_prob0(mu, alpha, log_p, log_1mp))
        return self._mean(mu, alpha, log_p, log_1mp)

    def _new_zexog(self, zexog, x, n: int):
        if zexog is None:
            if self._zkind == "exog":
                return x
            if self._zkind == "const":
                return np.ones((n, 1))
            raise ValueError(f"predict with a new exog needs {self._zero_arg} too (the model "
                             f"has {self.k_zero} zero-part columns: "
                             f"{', '.join(self._znames)}).")
        if isinstance(zexog, (ad.Tensor, ad.Dual)):     # traced (marginal effects)
            z = zexog
        else:
            z = np.asarray(zexog.to_numpy(dtype=float) if hasattr(zexog, "to_numpy")
                           else zexog, dtype=float)
            z = z.reshape(-1, 1) if z.ndim == 1 else z
        if z.shape != (n, self.k_zero):
            raise ValueError(f"{self._zero_arg} for predict has shape {z.shape}; it needs "
                             f"{n} rows (those of exog) and {self.k_zero} columns.")
        return z

    def _prob(self, ys, mu, alpha, log_p, log_1mp):
        """``P(y = k)`` for each k in ``ys`` (columns), from the per-k log-probabilities."""
        ys = np.asarray(ys, dtype=float)
        if ys.ndim != 1 or np.any(ys < 0) or np.any(ys != np.floor(ys)):
            raise ValueError("y_values must be non-negative integers (one dimension).")
        cols = [mnp.exp(self._log_prob_k(k, mu, alpha, log_p, log_1mp)) for k in ys]
        return mnp.stack(cols, axis=1)


class _ZeroInflated(TwoPartCountModel):
    """``P(0) = w + (1 - w) f(0)``, ``P(k) = (1 - w) f(k)``, w = the inflation probability."""

    def __init__(self, endog, exog, exog_infl=None, offset=None, exposure=None,
                 inflation: str = "logit", missing: str = "raise", **kwargs) -> None:
        if inflation not in ("logit", "probit"):
            raise ValueError(f"inflation must be 'logit' or 'probit', not {inflation!r}.")
        self.inflation = inflation
        super().__init__(endog, exog, exog_infl, inflation, missing=missing, offset=offset,
                         exposure=exposure, **kwargs)

    _zeros_needed = "the zero inflation"

    def loglikeobs(self, params):
        """``log(w + (1 - w) f(0))`` for zeros, ``log(1 - w) + log f(y)`` otherwise."""
        q, eta, alpha = self._parts(params)
        log_w, log_1mw = log_binary(self.link, q)
        mu = mnp.exp(eta)
        zero = mnp.logaddexp(log_w, log_1mw + log_pmf0(self.dist, mu, alpha))
        positive = log_1mw + log_pmf(self.dist, self.endog, mu, alpha)
        return mnp.where(self._zero > 0, zero, positive)

    def _log_prob0(self, mu, alpha, log_w, log_1mw):
        return mnp.logaddexp(log_w, log_1mw + log_pmf0(self.dist, mu, alpha))

    def _log_prob_k(self, k, mu, alpha, log_w, log_1mw):
        if k == 0:
            return self._log_prob0(mu, alpha, log_w, log_1mw)
        return log_1mw + log_pmf(self.dist, k, mu, alpha)

    def _mean(self, mu, alpha, log_w, log_1mw):
        return mnp.exp(log_1mw) * mu

    def start_params(self) -> np.ndarray:
        """The count part from a Poisson fit, the inflation part a constant at the share of
        zeros the Poisson misses (at least 5%), NB's alpha 0.5."""
        beta = self._count_start()
        mu = np.exp(self._count_linear(beta))
        excess = max(float(np.mean(self._zero) - np.mean(np.exp(-mu))), 0.05)
        gamma = np.zeros(self.k_zero)
        c = _const_col(self.zexog)
        if c is not None:
            w = min(excess, 0.9)
            level = np.log(w / (1 - w)) if self.link == "logit" else float(ndtri(w))
            gamma[c] = level / self.zexog[0, c]
        return np.concatenate([gamma, beta, [0.5] if self.extra_param_names else []])

    def _count_linear(self, beta):
        eta = self.exog @ beta
        return eta if self._total_offset is None else eta + self._total_offset


class ZeroInflatedPoisson(_ZeroInflated):
    """Zero-inflated Poisson (statsmodels' ZeroInflatedPoisson): ``endog, exog,
    exog_infl=None (a constant), offset=None, exposure=None, inflation="logit" | "probit"``.
    """

    _strict_kwargs = True
    dist = "poisson"


class ZeroInflatedNegativeBinomial(_ZeroInflated):
    """Zero-inflated negative binomial (statsmodels' ZeroInflatedNegativeBinomialP): NB2
    (``p=2``, Var = mu + alpha mu^2, the default) or NB1 (``p=1``, Var = mu (1 + alpha));
    otherwise as ZeroInflatedPoisson; alpha is the last parameter."""

    _strict_kwargs = True
    extra_param_names = ("alpha",)

    def __init__(self, endog, exog, exog_infl=None, offset=None, exposure=None,
                 inflation: str = "logit", p: int = 2, missing: str = "raise",
                 **kwargs) -> None:
        self.p, self.dist = p, nb_dist(p)
        super().__init__(endog, exog, exog_infl=exog_infl, offset=offset, exposure=exposure,
                         inflation=inflation, missing=missing, **kwargs)


# --- marginal effects: the variables of both parts ----------------------------------------------
class _MarginsDesign:
    """The two-part model as a function of its distinct *variables*, for marginal effects.

    A regressor may enter the count part (``exog``) and the zero part (``exog_infl`` /
    ``exog_zero``); ``dE[y]/dv`` is then the total effect through both (as statsmodels' and
    Stata's margins report). The variables: exog's columns, then each zero-part column that
    is not one of them. A zero-part column is an exog column when their values are equal:
    the one of the same name (its name without the ``inflate_`` / ``zm_`` prefix), else the
    first with these values (numpy data, whose names are positional); it is reported under
    the exog name. Any other is a variable of the zero part only, under its own name (e.g.
    ``inflate_age``); a constant zero-part column is no variable (held at its value). ``predict(theta, exog=V)``
    rebuilds both designs from the variables ``V``; the attributes are those
    mleopt.inference.margeff reads (exog, exog_names, const_idx, _offset, predict).
    """

    def __init__(self, model: TwoPartCountModel) -> None:
        self.model = model
        x, z = model.exog, model.zexog
        names = list(model.exog_names)
        columns = [x[:, j] for j in range(x.shape[1])]
        self._zsource: list[int | float] = []    # per zero-part column: a variable, or a value
        for j, zname in enumerate(model._znames):
            col = z[:, j]
            if col.min() == col.max():
                self._zsource.append(float(col[0]))
                continue
            name = zname[len(model._zero_prefix):] if zname.startswith(model._zero_prefix) \
                else zname
            same = [i for i in range(x.shape[1]) if np.array_equal(x[:, i], col)]
            if same:                       # the exog column of this name, else of these values
                named = [i for i in same if names[i] == name]
                self._zsource.append((named or same)[0])
                continue
            names.append(zname)            # a variable of the zero part only
            columns.append(col)
            self._zsource.append(len(names) - 1)
        self.exog = np.column_stack(columns)
        self.exog_names = names
        self.const_idx = model.const_idx

    def _offset(self) -> np.ndarray | None:
        return self.model._total_offset

    def _row_weights(self) -> np.ndarray | None:
        """The model's observation weights (effects are averaged with them)."""
        return self.model._row_weights()

    @property
    def weighting(self):
        return self.model.weighting

    def predict(self, params, exog, which: str = "mean", offset=None):
        """``model.predict`` with both designs taken from the variables ``exog``."""
        n = self.exog.shape[0] if exog is None else exog.shape[0]
        v = self.exog if exog is None else exog
        kx = self.model.k_exog
        if all(isinstance(s, int) for s in self._zsource):
            z = v[:, np.array(self._zsource, dtype=int)]
        else:
            z = mnp.stack([v[:, s] if isinstance(s, int) else np.full(n, s)
                           for s in self._zsource], axis=1)
        return self.model.predict(params, exog=v[:, :kx], which=which,
                                  offset=np.zeros(n) if offset is None else offset,
                                  **{self.model._zero_arg: z})


# --- helpers ---------------------------------------------------------------------------------
def nb_dist(p: int) -> str:
    """The count distribution of a negative binomial with power ``p`` ("nb2" or "nb1")."""
    if p not in (1, 2):
        raise ValueError(f"p must be 2 (NB2: Var = mu + alpha mu^2) or 1 (NB1: Var = "
                         f"mu (1 + alpha)), not {p!r}.")
    return f"nb{p}"


def _zero_columns(zexog, prefix: str, arg: str):
    """``(columns, names)`` of the zero part's design: None (a constant), "exog" (the count
    part's exog) or a list of columns (Series or arrays) with their names."""
    if zexog is None:
        return "const", [prefix + "const"]
    if isinstance(zexog, str) and zexog == "exog":
        return "exog", []
    if isinstance(zexog, pd.Series):
        return [zexog], [prefix + str(zexog.name if zexog.name is not None else "x1")]
    if isinstance(zexog, pd.DataFrame):
        return [zexog[c] for c in zexog.columns], [prefix + str(c) for c in zexog.columns]
    arr = np.asarray(zexog)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise DataError(f"{arg} must be a 2-D array or DataFrame of regressors (one row per "
                        f"observation), got shape {arr.shape}.")
    return [arr[:, j] for j in range(arr.shape[1])], \
        [f"{prefix}x{j + 1}" for j in range(arr.shape[1])]


def _const_col(x: np.ndarray) -> int | None:
    hits = np.flatnonzero(np.all(x == x[0], axis=0) & (x[0] != 0))
    return int(hits[0]) if hits.size else None


def boundary_note(model: TwoPartCountModel, params: np.ndarray) -> str | None:
    """What a fit at the edge of the parameter space must say: a zero part whose
    probability (inflation, or of a zero for a hurdle) is below 1e-6 in every row (its
    coefficients diverge), or alpha below 1e-6 (alpha -> 0: no overdispersion). None if
    neither."""
    notes = []
    kz, kx = model.k_zero, model.k_exog
    q = model.zexog @ params[:kz]
    inflation = isinstance(model, _ZeroInflated)     # else a hurdle: log P(0) = log(1 - pi)
    log_p = np.asarray(log_binary(model.link, q)[0 if inflation else 1])
    if np.max(log_p) < np.log(1e-6):
        what = "zero inflation" if inflation else "probability of a zero"
        notes.append(f"the {what} is below 1e-6 in every row: the {model._zero_arg} "
                     f"coefficients ({', '.join(model.param_names[:kz])}) diverge and their "
                     "standard errors are meaningless")
    if model.extra_param_names and params[kz + kx] < 1e-6:
        notes.append(f"alpha = {params[kz + kx]:.3g} is at the boundary alpha -> 0 (no "
                     "overdispersion): its standard error is meaningless and the count part "
                     "is a Poisson")
    if not notes:
        return None
    return ("Fit at a boundary of the parameter space: " + "; ".join(notes) + ". A simpler "
            "model (without that part) fits as well.")
