"""Covariance matrices of maximum-likelihood estimates, from the AD Hessian and AD scores.

Notation: ``H`` is the Hessian of the log-likelihood at the estimate (K x K, from mleopt.ad),
``S`` the N x K matrix of per-observation scores (one batched forward pass of mleopt.ad),
``A = -H`` and ``A^-1`` the "bread".

=============  =====================================================================
``nonrobust``  ``A^-1``
``opg``        ``(S'S)^-1`` (outer product of gradients, BHHH)
``HC0``        ``A^-1 (S'S) A^-1`` (sandwich)
``HC1``        ``HC0 * N / (N - k)``
``HC2``        sandwich with score rows scaled by ``1 / sqrt(1 - h_i)``     (OLS only)
``HC3``        sandwich with score rows scaled by ``1 / (1 - h_i)``         (OLS only)
``classical``  ``s^2 (X'X)^-1``, ``s^2 = SSR / (N - k)``, for the coefficients (OLS only)
``cluster``    ``c A^-1 (U'U) A^-1``, ``U`` the G x K score sums per group,
               ``c = G / (G - 1) * (N - 1) / (N - k)``
=============  =====================================================================

``k`` is the number of parameters that statsmodels counts in each case: all parameters of an
MLE model (NegativeBinomial's alpha included), the regression coefficients only for OLS
(sigma excluded). ``h_i`` is the leverage, the diagonal of ``X (X'X)^-1 X'``. For OLS the
Hessian is block-diagonal in (coefficients, sigma) at the estimate, so the coefficient block of
each sandwich is exactly the textbook HC0..HC3 / cluster estimator (statsmodels', R's
sandwich); sigma's row and column are the same sandwich applied to sigma's own AD score (for
HC2/HC3 with the same leverage weights). Under ``classical`` only the coefficient block is
replaced by ``s^2 (X'X)^-1``; sigma keeps its ML variance from the inverse Hessian
(``sigma^2 / (2N)``), with zero covariance with the coefficients, as at the ML optimum.

A negative Hessian that is not positive definite (a saddle point, a flat direction, collinear
columns) is never inverted blindly: the affected parameters get NaN rows and columns and a
warning names them.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .exceptions import HessianWarning

COV_TYPES = ("nonrobust", "opg", "HC0", "HC1", "HC2", "HC3", "classical", "cluster")
OLS_ONLY = ("HC2", "HC3", "classical")
_ALIASES = {name.lower(): name for name in COV_TYPES}
_ALIASES.update({"robust": "HC0", "hessian": "nonrobust", "oim": "nonrobust", "bhhh": "opg",
                 "clustered": "cluster"})


@dataclass
class CovSpec:
    """A validated covariance request: its name, its options, and the reference distribution."""

    cov_type: str
    kwds: dict = field(default_factory=dict)
    use_t: bool = False

    @property
    def description(self) -> str:
        return describe(self)


def normalize(cov_type: str, cov_kwds: dict | None, *, is_ols: bool, nobs: int,
              use_t: bool | None = None) -> CovSpec:
    """Check a ``cov_type`` / ``cov_kwds`` pair and return a :class:`CovSpec`.

    ``use_t`` defaults to True only for OLS ``classical`` (t(N - k) as R's lm and statsmodels'
    OLS print); every other covariance uses the normal distribution, as statsmodels does.
    """
    if not isinstance(cov_type, str) or cov_type.lower() not in _ALIASES:
        raise ValueError(f"unknown cov_type {cov_type!r}; choose one of {', '.join(COV_TYPES)}.")
    name = _ALIASES[cov_type.lower()]
    if name in OLS_ONLY and not is_ols:
        raise ValueError(f"cov_type={name!r} is defined for OLS only (it needs the leverage "
                         "or the residual variance of a linear model); use 'HC0' or 'HC1'.")
    if cov_kwds is not None and not isinstance(cov_kwds, dict):
        raise TypeError(f"cov_kwds must be a dict such as {{'groups': labels}}, not "
                        f"{type(cov_kwds).__name__}.")
    kwds = dict(cov_kwds or {})
    if "use_t" in kwds:
        use_t = kwds.pop("use_t") if use_t is None else use_t
    typos = set(kwds) - {"groups", "use_correction", "_n_groups"}
    if typos:
        raise ValueError(f"unknown cov_kwds {sorted(typos)}; the keys are 'groups' and "
                         "'use_correction' (cov_type='cluster') and 'use_t'.")
    if name == "cluster":
        if "groups" not in kwds:
            raise ValueError("cov_type='cluster' needs the cluster labels: "
                             "cov_kwds={'groups': array of length nobs}.")
        groups = kwds["groups"]
        if _is_dask(groups):                # checked on the workers, partition by partition
            kwds.setdefault("use_correction", True)
            kwds["_n_groups"] = len(dask_uniques(groups))
            return CovSpec(name, kwds, bool(use_t) if use_t is not None else False)
        groups = np.asarray(groups)
        if groups.ndim != 1 or len(groups) != nobs:
            raise ValueError(f"cluster groups must be one label per observation: got shape "
                             f"{groups.shape}, the model has {nobs} observations.")
        if pd.isna(groups).any():
            raise ValueError(f"cluster groups contain {int(pd.isna(groups).sum())} missing "
                             "labels; every observation needs a group.")
        kwds["groups"] = groups
        kwds.setdefault("use_correction", True)
    unknown = set(kwds) - ({"groups", "use_correction"} if name == "cluster" else set())
    if unknown & {"groups", "use_correction"}:
        raise ValueError(f"cov_kwds {sorted(unknown)} apply to cov_type='cluster' only; with "
                         f"cov_type={name!r} they would be ignored.")
    if unknown:
        raise ValueError(f"unknown cov_kwds {sorted(unknown)} for cov_type={name!r}.")
    if use_t is None:
        use_t = name == "classical"
    return CovSpec(name, kwds, bool(use_t))


def describe(spec: CovSpec) -> str:
    """One sentence for the summary's notes."""
    text = {
        "nonrobust": "Covariance: inverse of the negative Hessian (observed information).",
        "opg": "Covariance: inverse outer product of the per-observation scores (BHHH).",
        "HC0": "Covariance: sandwich HC0 (heteroskedasticity-robust).",
        "HC1": "Covariance: sandwich HC1 = HC0 * N/(N-k) (heteroskedasticity-robust).",
        "HC2": "Covariance: sandwich HC2 (scores scaled by 1/sqrt(1 - leverage)).",
        "HC3": "Covariance: sandwich HC3 (scores scaled by 1/(1 - leverage)).",
        "classical": "Covariance: classical OLS, s^2 (X'X)^-1 with s^2 = SSR/(N-k).",
        "cluster": "Covariance: cluster-robust sandwich",
    }[spec.cov_type]
    if spec.cov_type == "cluster":
        g = n_groups(spec)
        corr = ", correction G/(G-1) * (N-1)/(N-k)" if spec.kwds["use_correction"] else ""
        text += f" ({g} clusters){corr}."
    return text


# =======================================================================================
# the pieces
# =======================================================================================

def safe_inverse(a: np.ndarray, names: Sequence[str],
                 what: str = "Hessian of the log-likelihood is not negative definite"
                 ) -> np.ndarray:
    """The inverse of a symmetric matrix that should be positive definite.

    The matrix is first scaled to unit diagonal (``D^-1/2 A D^-1/2``) so that the check does not
    depend on the units of the parameters, then eigen-decomposed. Directions with an eigenvalue
    below ``64 K eps * max eigenvalue`` (zero or negative curvature) are dropped; parameters that
    load on them (or have a non-positive diagonal) get NaN rows and columns, and a
    :class:`HessianWarning` names them. The rest is the pseudo-inverse, exact when the bad
    directions involve only the affected parameters.
    """
    a = np.asarray(a, dtype=float)
    a = (a + a.T) / 2.0
    k = a.shape[0]
    out = np.full((k, k), np.nan)
    if k == 0:
        return out
    d = np.diag(a)
    ok = np.isfinite(d) & (d > 0) & np.isfinite(a).all(axis=0)
    bad = ~ok
    idx = np.flatnonzero(ok)
    smallest = np.nan
    if idx.size:
        s = 1.0 / np.sqrt(d[idx])
        b = s[:, None] * a[np.ix_(idx, idx)] * s[None, :]
        w, v = np.linalg.eigh(b)
        smallest = w[0]
        tol = max(w[-1], 0.0) * 64 * k * np.finfo(float).eps
        flat = w <= tol
        if flat.any():
            loads = np.abs(v[:, flat]).max(axis=1)
            bad[idx[loads > 1e-6]] = True
        keep = ~flat
        inv = (v[:, keep] / w[keep]) @ v[:, keep].T
        out[np.ix_(idx, idx)] = s[:, None] * inv * s[None, :]
    if bad.any():
        out[bad, :] = np.nan
        out[:, bad] = np.nan
        which = ", ".join(str(names[i]) for i in np.flatnonzero(bad))
        warnings.warn(
            f"The {what} at the estimate: the standard errors of {which} are set to NaN "
            f"(smallest eigenvalue, scaled to unit diagonal: {smallest:.3g}). "
            "The model may be unidentified "
            "(collinear or constant columns, a parameter the likelihood does not depend on) "
            "or the optimizer stopped at a saddle point.",
            HessianWarning, stacklevel=4)
    return out


def sandwich(bread: np.ndarray, meat: np.ndarray) -> np.ndarray:
    """``bread @ meat @ bread``, keeping NaN rows/columns of the bread NaN (not everything)."""
    nan = np.isnan(np.diag(bread))
    b = np.where(np.isnan(bread), 0.0, bread)
    out = b @ meat @ b
    out[nan, :] = np.nan
    out[:, nan] = np.nan
    return (out + out.T) / 2.0


def cluster_meat(scores: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, int]:
    """``U'U`` with ``U`` the per-cluster sums of the score rows; returns (meat, G)."""
    codes, uniques = pd.factorize(groups, sort=True)
    g = len(uniques)
    u = np.zeros((g, scores.shape[1]))
    np.add.at(u, codes, scores)
    return u.T @ u, g


def _svd(x: np.ndarray):
    u, s, vt = np.linalg.svd(np.asarray(x, dtype=float), full_matrices=False)
    keep = s > s[0] * max(x.shape) * np.finfo(float).eps if s.size else s > 0
    return u[:, keep], s[keep], vt[keep]


def xtx_inverse(x: np.ndarray) -> np.ndarray:
    """``(X'X)^-1`` from the SVD of X (``V S^-2 V'``), accurate for ill-conditioned designs."""
    _, s, vt = _svd(x)
    return (vt.T / s**2) @ vt


def leverage(x: np.ndarray) -> np.ndarray:
    """Diagonal of the hat matrix ``X (X'X)^-1 X'``: the squared row norms of U from the SVD."""
    u, _, _ = _svd(x)
    return np.einsum("ij,ij->i", u, u)


# =======================================================================================
# dispatch
# =======================================================================================

def array_meat(scores: Callable[[], np.ndarray]) -> Callable:
    """A ``meat`` function (see :func:`compute`) from the whole N x K score matrix."""
    def meat(row_scale=None, groups=None, hc=None):
        if hc is not None:
            raise ValueError(f"{hc} needs the design: pass exog to covariance.compute.")
        s = np.asarray(scores(), dtype=float)
        if row_scale is not None:
            s = s * np.asarray(row_scale)[:, None]
        if groups is None:
            return s.T @ s, None
        return cluster_meat(s, groups)
    return meat


def compute(spec: CovSpec, *, hessian: np.ndarray, scores=None, names: Sequence[str],
            nobs: int, k: int, exog: np.ndarray | None = None,
            coef_index: Sequence[int] | None = None, scale: float | None = None,
            meat: Callable | None = None, get_xtx_inv: Callable | None = None) -> np.ndarray:
    """The K x K covariance matrix described by ``spec``.

    The scores enter through ``meat(row_scale=None, groups=None, hc=None) -> (M, G)``:
    ``M = S'S`` (rows of S scaled by ``row_scale``, or with ``hc="HC2"/"HC3"`` by the
    leverage terms the model computes itself) or, with cluster ``groups``, ``U'U`` with G
    groups; a model evaluated in row blocks sums them block by block, so S is never formed
    whole.
    ``scores`` (a callable returning S) may be given instead. ``k`` is the parameter count
    for the N / (N - k) corrections; ``exog``, ``coef_index`` (the positions of the
    regression coefficients in params) and ``scale`` (s^2) serve the OLS-only types; without
    ``exog`` (a blocked model) ``get_xtx_inv()`` replaces :func:`xtx_inverse` and the meat
    applies the leverages.
    """
    if meat is None:
        meat = array_meat(scores)
    ct = spec.cov_type
    bread = None if ct == "opg" else safe_inverse(-np.asarray(hessian), names)
    if ct == "nonrobust":
        return bread
    if ct == "classical":
        cov = bread.copy()
        ci = np.asarray(coef_index)
        block = scale * (get_xtx_inv() if get_xtx_inv is not None else xtx_inverse(exog))
        cov[np.ix_(ci, ci)] = np.where(np.isnan(bread[np.ix_(ci, ci)]), np.nan, block)
        return cov
    row_scale = None
    if ct == "opg":
        return safe_inverse(meat()[0], names, what="outer product of the scores is singular")
    if ct in ("HC2", "HC3") and exog is None:
        cov = sandwich(bread, meat(hc=ct)[0])
        return cov
    if ct in ("HC2", "HC3"):
        h = leverage(exog)
        if np.any(h >= 1 - 1e-10):
            rows = np.flatnonzero(h >= 1 - 1e-10)
            raise ValueError(f"{ct} is undefined: {rows.size} observation(s) have leverage 1 "
                             f"(rows {rows[:10].tolist()}); use cov_type='HC0' or 'HC1'.")
        row_scale = 1.0 / (np.sqrt(1 - h) if ct == "HC2" else (1 - h))
    if ct == "cluster":
        m, g = meat(groups=spec.kwds["groups"])
        if g < 2:
            raise ValueError("cov_type='cluster' needs at least 2 clusters; got 1.")
        cov = sandwich(bread, m)
        if spec.kwds["use_correction"]:
            cov = cov * (g / (g - 1.0)) * ((nobs - 1.0) / (nobs - k))
        return cov
    cov = sandwich(bread, meat(row_scale=row_scale)[0])
    if ct == "HC1":
        cov = cov * nobs / (nobs - k)
    return cov


def n_groups(spec: CovSpec) -> int | None:
    """Number of clusters (None unless cov_type is 'cluster')."""
    if spec.cov_type != "cluster":
        return None
    if "_n_groups" in spec.kwds:
        return spec.kwds["_n_groups"]
    return len(pd.unique(spec.kwds["groups"]))


def dask_uniques(groups) -> np.ndarray:
    """The sorted distinct labels of a dask Series or array: the distinct labels of each
    partition (computed where it lives), merged on the client (G-sized results)."""
    import dask
    parts = groups.to_delayed()
    parts = list(np.ravel(parts)) if isinstance(parts, np.ndarray) else list(parts)
    found = dask.compute(*[dask.delayed(_distinct)(p) for p in parts])
    return np.unique(np.concatenate([np.asarray(f) for f in found]))


def _distinct(part) -> np.ndarray:
    return pd.unique(np.asarray(part).ravel())


def _is_dask(x) -> bool:
    """A dask collection (checked without importing dask)."""
    return (type(x).__module__ or "").startswith("dask") and hasattr(x, "__dask_graph__")
