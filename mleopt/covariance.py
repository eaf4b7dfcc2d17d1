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
               ``c = G / (G - 1) * (N - 1) / (N - k)``; with two columns of groups,
               two-way (Cameron-Gelbach-Miller): ``V_1 + V_2 - V_12``, each one-way with
               its own ``c`` (``V_12``: the groups of the pairs), as statsmodels
``HAC``        Newey-West: ``A^-1 (Gamma_0 + sum_j w_j (Gamma_j + Gamma_j')) A^-1`` with
               ``Gamma_j = sum_t s_t s_{t-j}'`` and Bartlett weights
               ``w_j = 1 - j / (maxlags + 1)``, rows in time order; ``use_correction``
               multiplies by ``N / (N - k)`` (statsmodels' ``cov_type="HAC"``)
``eim``        ``(-E[H])^-1``, the expected information (see :func:`expected_bread`)
``jackknife``  ``(N - 1)/N sum_i (b_(i) - b_bar)(b_(i) - b_bar)'``, leave-one-out refits
``bootstrap``  the sample covariance of ``reps`` refits on rows drawn with replacement
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

import difflib
import functools
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from scipy.linalg.lapack import dpotrf as _potrf
from scipy.linalg.lapack import dpotri as _potri

from .exceptions import HessianWarning, warn_user
from .gram import GramFactor

COV_TYPES = ("nonrobust", "opg", "HC0", "HC1", "HC2", "HC3", "classical", "cluster", "HAC",
             "eim", "jackknife", "bootstrap")
RESAMPLED = ("jackknife", "bootstrap")
# the cov_kwds each cov_type accepts ("use_t" is accepted by all)
_KWDS = {"cluster": {"groups", "use_correction"},
         "HAC": {"maxlags", "kernel", "use_correction"},
         "jackknife": {"progress"},
         "bootstrap": {"reps", "seed", "progress"}}
OLS_ONLY = ("HC2", "HC3", "classical")
_ALIASES = {name.lower(): name for name in COV_TYPES}
_ALIASES.update({"robust": "HC0", "hessian": "nonrobust", "oim": "nonrobust", "bhhh": "opg",
                 "clustered": "cluster", "newey-west": "HAC",
                 "expected": "eim", "jk": "jackknife", "boot": "bootstrap"})


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
    if name != "cluster":
        kwds.pop("_n_groups", None)
    allowed = _KWDS.get(name, set()) | ({"_n_groups"} if name == "cluster" else set())
    unknown = set(kwds) - allowed
    if unknown:
        owners = sorted({f"cov_type={t!r}" for t, keys in _KWDS.items() if unknown & keys})
        where = (f"; they apply to {' / '.join(owners)} only and would be ignored here"
                 if owners else "")
        close = sorted({c for u in unknown for c in difflib.get_close_matches(
            u, sorted(set().union(*_KWDS.values()) | {"use_t"}), n=1)})
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close and not owners else ""
        keys = sorted(_KWDS.get(name, set()) | {"use_t"})
        raise ValueError(f"unknown cov_kwds {sorted(unknown)} for cov_type={name!r} (its "
                         f"keys are {keys}){where}.{hint}")
    if name == "cluster":
        if "groups" not in kwds:
            raise ValueError("cov_type='cluster' needs the cluster labels: "
                             "cov_kwds={'groups': array of length nobs} (two-way: two arrays, "
                             "or an (nobs, 2) array or DataFrame).")
        groups = kwds["groups"]
        kwds.setdefault("use_correction", True)
        if isinstance(groups, (tuple, list)) and any(_is_dask(g) for g in groups):
            raise ValueError("two-way cluster groups must be in memory (numpy or pandas); "
                             "dask groups are taken for one-way clustering only.")
        if _is_dask(groups):                # checked on the workers, partition by partition
            kwds["_n_groups"] = len(dask_uniques(groups))
            return CovSpec(name, kwds, bool(use_t) if use_t is not None else False)
        kwds["groups"] = check_groups(groups, nobs)
    elif name == "HAC":
        kwds.update(_hac_options(kwds))
    elif name == "bootstrap":
        reps = kwds.setdefault("reps", 200)
        if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 2:
            raise ValueError(f"cov_kwds['reps'] must be an integer >= 2 (bootstrap "
                             f"replications); got {reps!r}.")
        kwds.setdefault("seed", None)
    if name in RESAMPLED:
        kwds.setdefault("progress", None)
        if kwds["progress"] is not None and not callable(kwds["progress"]):
            raise TypeError("cov_kwds['progress'] must be a callable progress(done, total).")
    if use_t is None:
        use_t = name == "classical"
    spec = CovSpec(name, kwds, bool(use_t), k_params)
    note = cluster_rank_note(spec)
    if note:
        warn_user(note, UserWarning)
    return spec


def check_groups(groups, nobs: int) -> np.ndarray:
    """Cluster labels as an (N,) array (one-way) or an (N, 2) array of integer codes
    (two-way, from two arrays, an (N, 2) array or a two-column DataFrame)."""
    if isinstance(groups, pd.DataFrame):
        cols = [groups.iloc[:, j].to_numpy() for j in range(groups.shape[1])]
    elif isinstance(groups, (tuple, list)) and len(groups) == 2 and all(
            np.ndim(g) == 1 for g in groups):
        cols = [np.asarray(g) for g in groups]
    else:
        arr = np.asarray(groups)
        cols = [arr] if arr.ndim == 1 else [arr[:, j] for j in range(arr.shape[1])] \
            if arr.ndim == 2 else [arr]
    if len(cols) not in (1, 2) or any(c.ndim != 1 or len(c) != nobs for c in cols):
        shapes = [np.shape(c) for c in cols]
        raise ValueError(f"cluster groups must be one label per observation, or two (two-way "
                         f"clustering): got {len(cols)} column(s) of shapes {shapes}, the "
                         f"model has {nobs} observations.")
    for j, c in enumerate(cols):
        if pd.isna(c).any():
            which = "" if len(cols) == 1 else f" (column {j})"
            raise ValueError(f"cluster groups{which} contain {int(pd.isna(c).sum())} missing "
                             "labels; every observation needs a group.")
    if len(cols) == 1:
        return cols[0]
    return np.column_stack([pd.factorize(c, sort=True)[0] for c in cols])


def two_way_groups(groups: np.ndarray) -> list[np.ndarray]:
    """The three one-way groupings of two-way clustering: each dimension, and their pairs."""
    pairs = pd.factorize(groups[:, 0] * (groups[:, 1].max() + 1) + groups[:, 1])[0]
    return [groups[:, 0], groups[:, 1], pairs]


def _hac_options(kwds: dict) -> dict:
    if "maxlags" not in kwds:
        raise ValueError("cov_type='HAC' needs the number of lags: cov_kwds={'maxlags': L} "
                         "(a common choice is floor(4 (N/100)^(2/9))).")
    lags = kwds["maxlags"]
    if isinstance(lags, bool) or not isinstance(lags, (int, np.integer)) or lags < 0:
        raise ValueError(f"cov_kwds['maxlags'] must be an integer >= 0; got {lags!r}.")
    kernel = kwds.get("kernel", "bartlett")
    if not isinstance(kernel, str) or kernel.lower() != "bartlett":
        raise ValueError(f"cov_kwds['kernel'] = {kernel!r} is not available; the HAC "
                         "covariance uses the Bartlett kernel (Newey-West): 'bartlett'.")
    return {"maxlags": int(lags), "kernel": "bartlett",
            "use_correction": bool(kwds.get("use_correction", False))}


def hac_meat(p: np.ndarray, maxlags: int) -> np.ndarray:
    """``sum_t p_t p_t' + sum_{j=1..L} w_j sum_t (p_t p_{t-j}' + p_{t-j} p_t')`` with
    Bartlett weights ``w_j = 1 - j / (L + 1)``: for ``p = S A^-1`` (rows in time order) the
    Newey-West covariance itself."""
    out = p.T @ p
    for j in range(1, min(maxlags, len(p) - 1) + 1):
        g = p[j:].T @ p[:-j]
        out += (1.0 - j / (maxlags + 1.0)) * (g + g.T)
    return out


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
        "HAC": "Covariance: HAC (Newey-West, Bartlett kernel",
        "eim": "Covariance: inverse of the expected information.",
        "jackknife": "Covariance: delete-one jackknife of the estimates",
        "bootstrap": "Covariance: nonparametric bootstrap of the estimates",
    }[spec.cov_type]
    kw = spec.kwds
    if spec.cov_type == "cluster":
        corr = ", correction G/(G-1) * (N-1)/(N-k)" if kw["use_correction"] else ""
        sizes = group_counts(spec)
        if len(sizes) == 2:
            text = (f"Covariance: two-way cluster-robust (Cameron-Gelbach-Miller, V1 + V2 - "
                    f"V12; {sizes[0]} and {sizes[1]} clusters){corr}.")
        else:
            text += f" ({sizes[0]} clusters){corr}."
        note = cluster_rank_note(spec)
        if note:
            text += " WARNING: " + note
    elif spec.cov_type == "HAC":
        corr = ", correction N/(N-k)" if kw["use_correction"] else ""
        text += f", {kw['maxlags']} lags{corr})."
    elif spec.cov_type == "jackknife":
        text += " (one refit without each observation)."
    elif spec.cov_type == "bootstrap":
        text += f" ({kw['reps']} refits on resampled rows, seed {kw['seed']})."
    return text


# =======================================================================================
# the pieces
# =======================================================================================

@functools.lru_cache(maxsize=64)
def _upper(k: int) -> np.ndarray:
    """The K x K mask of the upper triangle (diagonal included)."""
    return np.triu(np.ones((k, k), dtype=bool))


def _clearly_definite_inverse(a: np.ndarray, d: np.ndarray) -> np.ndarray | None:
    """``A^-1`` by Cholesky (LAPACK potrf, potri) when ``B = D^-1/2 A D^-1/2`` (D = diag A)
    is positive definite far from safe_inverse's tolerance; None when that is not clear.

    ``1 / ||B^-1||_F`` is a lower bound of B's smallest eigenvalue, and its largest is at
    most ``trace B = K``, so the tolerance ``64 K eps lambda_max`` is at most
    ``64 K^2 eps``. A bound 1000 times above it (a margin far beyond the rounding of the
    computed inverse) means the eigen decomposition would keep every direction and return
    this same inverse (to rounding), without warning: it need not be computed."""
    k = a.shape[0]
    s = 1.0 / np.sqrt(d)
    c, info = _potrf(s[:, None] * a * s[None, :], lower=False, clean=False)
    if info != 0:
        return None
    inv, info = _potri(c, lower=False)
    if info != 0:
        return None
    inv = np.where(_upper(k), inv, inv.T)      # potri fills the upper triangle
    if not 1.0 / np.linalg.norm(inv) > 1e3 * 64 * k * k * np.finfo(float).eps:
        return None
    return s[:, None] * inv * s[None, :]


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
    if ok.all():
        inv = _clearly_definite_inverse(a, d)
        if inv is not None:
            return inv
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
    return sandwich_from_meat(bread, lambda p: p.T @ p, rows)


def sandwich_from_meat(bread: np.ndarray, products: Callable, rows: np.ndarray) -> np.ndarray:
    """``products(P)`` with ``P = rows @ bread`` (``P'P``: the sandwich; :func:`hac_meat`:
    Newey-West); NaN rows/columns of the bread stay NaN."""
    nan = np.isnan(np.diag(bread))
    b = np.where(np.isnan(bread), 0.0, bread)
    out = products(rows @ b)
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
            coef_weight: float | None = None, expected_hessian: Callable | None = None,
            refit: Callable | None = None) -> np.ndarray:
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
    ``expected_hessian()`` gives ``E[H]`` (``eim``); ``refit(rows)`` the estimates on the
    given rows (``jackknife``, ``bootstrap``: mleopt.resampling).
    """
    if (scores is None) == (meat is None):
        raise ValueError("covariance.compute needs exactly one of scores= and meat=.")
    ct = spec.cov_type
    if ct in RESAMPLED:
        from . import resampling
        if refit is None:
            raise ValueError(f"cov_type={ct!r} needs refits of the model on subsets of its "
                             "rows; these results cannot provide them.")
        if ct == "jackknife":
            return resampling.jackknife_cov(refit, nobs, spec.kwds["progress"])
        return resampling.bootstrap_cov(refit, nobs, spec.kwds["reps"], spec.kwds["seed"],
                                        spec.kwds["progress"])
    if ct == "opg":
        what = "outer product of the scores is singular"
        if meat is not None:
            return safe_inverse(meat()[0], names, what=what)
        return gram_inverse(GramFactor(np.asarray(scores(), dtype=float)), names, what)
    if ct == "eim":
        return safe_inverse(-np.asarray(expected_hessian(), dtype=float), names,
                            what="expected information is not positive definite")
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
    if ct == "cluster":
        groups = spec.kwds["groups"]
        if groups.ndim == 2:        # two-way: V_1 + V_2 - V_12 (Cameron, Gelbach, Miller)
            v1, v2, v12 = (_one_way(bread, g, nobs, k, spec, scores, meat)
                           for g in two_way_groups(groups))
            return v1 + v2 - v12
        return _one_way(bread, groups, nobs, k, spec, scores, meat)
    if ct == "HAC":
        if meat is not None:
            raise ValueError("cov_type='HAC' needs the scores in time order in memory; this "
                             "model is evaluated in row blocks (or Dask partitions). Fit it "
                             "in memory, or use cov_type='cluster' by period.")
        cov = sandwich_from_meat(bread, lambda p: hac_meat(p, spec.kwds["maxlags"]),
                                 np.asarray(scores(), dtype=float))
        return cov * nobs / (nobs - k) if spec.kwds["use_correction"] else cov
    if meat is not None:
        cov = sandwich_meat(bread, meat(hc=ct if ct in ("HC2", "HC3") else None)[0])
    else:
        s = np.asarray(scores(), dtype=float)
        if ct in ("HC2", "HC3"):
            s = s * leverage_scale(design.leverage(), ct)[:, None]
        cov = sandwich(bread, s)
    if ct == "HC1":
        cov = cov * nobs / (nobs - k)
    return cov


def _one_way(bread, groups, nobs, k, spec, scores, meat) -> np.ndarray:
    """One-way cluster sandwich with the correction ``G/(G-1) (N-1)/(N-k)`` if asked."""
    if meat is not None:
        m, g = meat(groups=groups)
        cov = sandwich_meat(bread, m)
    else:
        u, g = cluster_sums(np.asarray(scores(), dtype=float), groups)
        cov = sandwich(bread, u)
    if g < 2:
        raise ValueError("cov_type='cluster' needs at least 2 clusters; got 1.")
    if spec.kwds["use_correction"]:
        cov = cov * (g / (g - 1.0)) * ((nobs - 1.0) / (nobs - k))
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
    """Number of clusters (None unless cov_type is 'cluster'); two-way: the smaller count,
    which sets the t degrees of freedom (G - 1) as in statsmodels."""
    if spec.cov_type != "cluster":
        return None
    return min(group_counts(spec))


def group_counts(spec: CovSpec) -> list[int]:
    """The number of clusters in each dimension (one or two)."""
    if "_n_groups" in spec.kwds:
        return [spec.kwds["_n_groups"]]
    g = spec.kwds["groups"]
    if g.ndim == 1:
        return [len(pd.unique(g))]
    return [len(pd.unique(g[:, j])) for j in range(g.shape[1])]


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
