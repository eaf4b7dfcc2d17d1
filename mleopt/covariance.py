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

How the matrices are computed, so that ill-conditioned designs keep their digits:

* OLS: the coefficient block of ``A`` is ``X'X / sigma^2``, whose condition number is the
  square of X's (NIST Filip, a degree-10 polynomial: 2.7e19 even with unit-length columns,
  beyond double precision). Its inverse comes from an orthogonal factorisation of the
  column-scaled design instead (mleopt.gram: ``X D^-1 = Q R``, ``(X'X)^-1 = T T'`` with
  ``T = D^-1 R^-1``); sigma enters by the Schur complement of that block in the AD Hessian.
  ``classical`` uses the same ``T T'``, HC2/HC3 the leverage ``||q_i||^2``. Filip: NIST's
  certified standard errors to 8 digits (every one was NaN before); Longley: nonrobust and
  HC0 to 11-12 digits (7 before).
* Sandwiches are ``P'P`` with ``P = S A^-1`` (per-row influence; cluster: per-group sums
  of S times ``A^-1``), never ``A^-1 (S'S) A^-1``, whose meat would square the conditioning.
* ``opg``: ``(S'S)^-1`` from the orthogonal factorisation of the score matrix.

Only a design (or score matrix) whose numerical rank is below K, with numpy.matrix_rank's
tolerance ``max(N, K) eps s_max`` on the singular values of the scaled matrix, has
unidentified parameters: they get NaN rows and columns and a warning names them. A negative
Hessian that is not positive definite (a saddle point, a flat direction) is never inverted
blindly either: the affected parameters get NaN rows and columns and a warning names them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .exceptions import HessianWarning, warn_user
from .gram import GramFactor

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
    k_params: int | None = None     # size of the covariance matrix, when known

    @property
    def description(self) -> str:
        return describe(self)


def normalize(cov_type: str, cov_kwds: dict | None, *, is_ols: bool, nobs: int,
              use_t: bool | None = None, k_params: int | None = None) -> CovSpec:
    """Check a ``cov_type`` / ``cov_kwds`` pair and return a :class:`CovSpec`.

    ``use_t`` defaults to True only for OLS ``classical`` (t(N - k) as R's lm and statsmodels'
    OLS print); every other covariance uses the normal distribution, as statsmodels does.
    ``k_params`` (the number of parameters) lets a cluster request with too few clusters
    for it warn (see :func:`cluster_rank_note`).
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
    spec = CovSpec(name, kwds, bool(use_t), k_params)
    note = cluster_rank_note(spec)
    if note:
        warn_user(note, UserWarning)
    return spec


def cluster_rank_note(spec: CovSpec) -> str | None:
    """A warning when a cluster covariance cannot have full rank, else None.

    At the estimate the scores sum to zero, so the G per-cluster score sums ``U`` have rank
    at most ``G - 1``, and so has the sandwich ``A^-1 U'U A^-1``: with ``G - 1 < K`` (G <= K)
    the K x K covariance is singular. Each standard error is still defined, but some
    combinations of the parameters get zero variance, and joint Wald tests of more than
    ``G - 1`` restrictions are not valid.
    """
    g, k = n_groups(spec), spec.k_params
    if g is None or k is None or g < 2 or g - 1 >= k:     # (one cluster is an error)
        return None
    return (f"{g} clusters for {k} parameters: the cluster-robust covariance has "
            f"rank at most G - 1 = {g - 1} < {k} (the scores sum to zero at the estimate), "
            "so it is singular: some combinations of the parameters get zero variance and "
            f"joint Wald tests of more than {g - 1} restriction(s) are not valid. Use more "
            "clusters or another cov_type.")


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
        note = cluster_rank_note(spec)
        if note:
            text += " WARNING: " + note
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
    smallest, tol = np.nan, 0.0
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
        # an eigenvalue within rounding of 0 is also what a well-identified but very
        # ill-conditioned Hessian gives (NIST Filip through the generic path)
        within_rounding = np.isfinite(smallest) and abs(smallest) <= tol
        warn_user(
            f"The {what} at the estimate: the standard errors of {which} are set to NaN "
            f"(smallest eigenvalue, scaled to unit diagonal: {smallest:.3g}). "
            "The model may be unidentified "
            "(collinear or constant columns, a parameter the likelihood does not depend on)"
            + (", or so ill-conditioned that its curvature is lost to rounding (nearly "
               "collinear regressors, e.g. powers of one variable): rescaling or centring "
               "the regressors helps." if within_rounding else
               " or the optimizer stopped at a saddle point."),
            HessianWarning)
    return out


def sandwich(bread: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``bread @ (rows' rows) @ bread`` computed as ``P'P`` with ``P = rows @ bread`` (the
    influence of each row): forming the meat ``rows' rows`` first would square its condition
    number (Longley HC0: 7.7 correct digits that way, 11.7 this way). NaN rows/columns of
    the bread stay NaN (not everything)."""
    nan = np.isnan(np.diag(bread))
    b = np.where(np.isnan(bread), 0.0, bread)
    p = rows @ b
    out = p.T @ p
    out[nan, :] = np.nan
    out[:, nan] = np.nan
    return (out + out.T) / 2.0


def cluster_sums(scores: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, int]:
    """``U``, the G x K per-cluster sums of the score rows (the meat is ``U'U``), and G."""
    codes, uniques = pd.factorize(groups, sort=True)
    g = len(uniques)
    u = np.zeros((g, scores.shape[1]))
    np.add.at(u, codes, scores)
    return u, g


def gram_inverse(factor: GramFactor, names: Sequence[str], what: str) -> np.ndarray:
    """``(M'M)^-1`` from an orthogonal factorisation of ``M`` (see mleopt.gram); columns that
    are not identified (numerical rank below K) get NaN rows and columns and a warning."""
    out = factor.inverse()
    if factor.unidentified.any():
        which = ", ".join(str(names[i]) for i in np.flatnonzero(factor.unidentified))
        k = factor.shape[1]
        warn_user(
            f"The {what} (numerical rank {factor.rank} of {k}): {which} are not identified "
            "and their standard errors are set to NaN. Drop collinear or constant columns.",
            HessianWarning)
    return out


def linear_bread(hessian: np.ndarray, design: GramFactor, coef_index: Sequence[int],
                 coef_weight: float, names: Sequence[str]) -> np.ndarray:
    """``(-H)^-1`` for a model whose coefficient block is ``-H_bb = w X'X`` (OLS: w = 1/sigma^2).

    ``H_bb^-1`` comes from the orthogonal factorisation of X (``T T' / w``), never from
    inverting ``X'X``; the other parameters (OLS: sigma) enter by the Schur complement of that
    block in the AD Hessian, exact at any point (at the OLS optimum the Hessian is block
    diagonal and the complement is sigma's own curvature).
    """
    a = -np.asarray(hessian, dtype=float)
    a = (a + a.T) / 2.0
    k = a.shape[0]
    ci = np.asarray(coef_index, dtype=int)
    ei = np.setdiff1d(np.arange(k), ci)
    p = gram_inverse(design, [names[i] for i in ci],
                     "design matrix (exog) does not have full column rank") / coef_weight
    out = np.full((k, k), np.nan)
    p0 = np.where(np.isnan(p), 0.0, p)
    if ei.size:
        b = a[np.ix_(ci, ei)]
        pb = p0 @ b
        sinv = safe_inverse(a[np.ix_(ei, ei)] - b.T @ pb, [names[i] for i in ei])
        s0 = np.where(np.isnan(sinv), 0.0, sinv)
        out[np.ix_(ci, ci)] = p0 + pb @ s0 @ pb.T
        out[np.ix_(ci, ei)] = -pb @ s0
        out[np.ix_(ei, ci)] = out[np.ix_(ci, ei)].T
        out[np.ix_(ei, ei)] = sinv
    else:
        out[np.ix_(ci, ci)] = p0
    bad = np.isnan(np.diag(out))
    bad[ci] |= np.isnan(np.diag(p))
    out[bad, :] = np.nan
    out[:, bad] = np.nan
    return (out + out.T) / 2.0


# =======================================================================================
# dispatch
# =======================================================================================

def compute(spec: CovSpec, *, hessian: np.ndarray, names: Sequence[str], nobs: int, k: int,
            scores: Callable[[], np.ndarray] | None = None, meat: Callable | None = None,
            design: GramFactor | None = None, get_xtx_inv: Callable | None = None,
            coef_index: Sequence[int] | None = None, scale: float | None = None,
            coef_weight: float | None = None) -> np.ndarray:
    """The K x K covariance matrix described by ``spec``.

    The scores enter in one of two ways. In memory, ``scores`` is a callable returning the
    N x K AD score matrix S (called only when needed): the sandwiches are then ``P'P`` with
    ``P = S @ bread`` (:func:`sandwich`), the accurate form. A model evaluated in row blocks
    (or Dask partitions) passes ``meat(row_scale=None, groups=None, hc=None) -> (M, G)``
    instead: ``M = S'S`` summed block by block (rows of S scaled by ``row_scale``, or with
    ``hc="HC2"/"HC3"`` by the leverage terms the model computes itself) or, with cluster
    ``groups``, ``U'U`` with G groups, so that S is never formed whole.
    ``k`` is the parameter count for the N / (N - k) corrections. OLS passes ``coef_index``
    (the positions of the coefficients in params), ``scale`` (s^2) and either ``design`` (the
    orthogonal factorisation of X, mleopt.gram, with ``coef_weight``: ``-H_bb = coef_weight *
    X'X``), from which its bread, leverages and ``(X'X)^-1`` come (:func:`linear_bread`), or,
    blocked, ``get_xtx_inv()`` (from a block-by-block QR).
    """
    if (scores is None) == (meat is None):
        raise ValueError("covariance.compute needs exactly one of scores= and meat=.")
    ct = spec.cov_type
    if ct == "opg":
        what = "outer product of the scores is singular"
        if meat is not None:
            return safe_inverse(meat()[0], names, what=what)
        return gram_inverse(GramFactor(np.asarray(scores(), dtype=float)), names, what)
    if design is not None:
        bread = linear_bread(hessian, design, coef_index, coef_weight, names)
    else:
        bread = safe_inverse(-np.asarray(hessian), names)
    if ct == "nonrobust":
        return bread
    if ct == "classical":
        cov = bread.copy()
        ci = np.asarray(coef_index)
        block = scale * (design.inverse() if design is not None else get_xtx_inv())
        cov[np.ix_(ci, ci)] = np.where(np.isnan(bread[np.ix_(ci, ci)]), np.nan, block)
        return cov
    if meat is not None:
        if ct == "cluster":
            m, g = meat(groups=spec.kwds["groups"])
        else:
            m, g = meat(hc=ct if ct in ("HC2", "HC3") else None)[0], None
        cov = sandwich_meat(bread, m)
    else:
        s = np.asarray(scores(), dtype=float)
        if ct in ("HC2", "HC3"):
            s = s * leverage_scale(design.leverage(), ct)[:, None]
        g = None
        if ct == "cluster":
            s, g = cluster_sums(s, spec.kwds["groups"])
        cov = sandwich(bread, s)
    if ct == "cluster":
        if g < 2:
            raise ValueError("cov_type='cluster' needs at least 2 clusters; got 1.")
        if spec.kwds["use_correction"]:
            cov = cov * (g / (g - 1.0)) * ((nobs - 1.0) / (nobs - k))
    elif ct == "HC1":
        cov = cov * nobs / (nobs - k)
    return cov


def leverage_scale(h: np.ndarray, hc: str) -> np.ndarray:
    """The row factors of HC2 (``1 / sqrt(1 - h)``) and HC3 (``1 / (1 - h)``) from the
    leverages h; an observation with leverage 1 makes them undefined (ValueError)."""
    if np.any(h >= 1 - 1e-10):
        rows = np.flatnonzero(h >= 1 - 1e-10)
        raise ValueError(f"{hc} is undefined: {rows.size} observation(s) have leverage 1 "
                         f"(rows {rows[:10].tolist()}); use cov_type='HC0' or 'HC1'.")
    return 1.0 / (np.sqrt(1 - h) if hc == "HC2" else (1 - h))


def sandwich_meat(bread: np.ndarray, meat: np.ndarray) -> np.ndarray:
    """``bread @ meat @ bread`` for a meat summed block by block (``S'S`` or ``U'U``); NaN
    rows/columns of the bread stay NaN (not everything)."""
    nan = np.isnan(np.diag(bread))
    b = np.where(np.isnan(bread), 0.0, bread)
    out = b @ meat @ b
    out[nan, :] = np.nan
    out[:, nan] = np.nan
    return (out + out.T) / 2.0


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
