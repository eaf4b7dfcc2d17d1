"""Jackknife and bootstrap covariances: the spread of the estimates over refits on resampled rows.

``refit(rows) -> (params, converged)`` fits the model again on the rows ``rows`` (indices into
the model's rows, repeats allowed), starting from the full-sample estimate (a warm start: a few
Newton steps each).

* jackknife (delete-one): ``V = (N - 1)/N sum_i (b_(i) - b_bar)(b_(i) - b_bar)'``, with
  ``b_(i)`` the estimate without observation i and ``b_bar`` their mean (Efron & Stein; Stata's
  ``vce(jackknife)``, R's ``sandwich::vcovJK`` with ``center = "mean"``);
* bootstrap (pairs / rows): ``V = 1/(B - 1) sum_b (b*_b - b*_bar)(b*_b - b*_bar)'`` over ``B``
  refits on N rows drawn with replacement by ``numpy.random.default_rng(seed)`` (Stata's
  ``vce(bootstrap)``); the same seed gives the same matrix.

A refit that fails or does not converge is left out, with a warning saying how many; a model
that cannot be refitted at all (``CannotRefit``: Dask data, a function without rows) stops at
once.
``progress(done, total)`` is called after each refit (e.g. to drive a progress bar).
"""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from .exceptions import ConvergenceWarning, warn_user


class CannotRefit(ValueError):
    """The model cannot be refitted on row subsets: no refit is tried."""


def jackknife_cov(refit: Callable, nobs: int, progress: Callable | None = None) -> np.ndarray:
    """Delete-one jackknife covariance from N refits."""
    every = np.arange(nobs)
    draws = (np.delete(every, i) for i in range(nobs))
    est = _refits(refit, draws, nobs, progress, "jackknife")
    n = est.shape[0]
    dev = est - est.mean(axis=0)
    return (n - 1.0) / n * (dev.T @ dev)


def bootstrap_cov(refit: Callable, nobs: int, reps: int, seed=None,
                  progress: Callable | None = None) -> np.ndarray:
    """Bootstrap covariance from ``reps`` refits on rows drawn with replacement."""
    rng = np.random.default_rng(seed)
    draws = (rng.integers(0, nobs, nobs) for _ in range(reps))
    est = _refits(refit, draws, reps, progress, "bootstrap")
    return np.cov(est, rowvar=False, ddof=1).reshape(est.shape[1], est.shape[1])


def _refits(refit: Callable, draws: Iterable[np.ndarray], total: int,
            progress: Callable | None, what: str) -> np.ndarray:
    """The estimates of the converged refits, one row each."""
    found, failed, first_error = [], 0, None
    for done, rows in enumerate(draws, start=1):
        try:
            params, converged = refit(rows)
        except CannotRefit:
            raise
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
            params, converged = None, False
            first_error = first_error or exc
        if converged and np.all(np.isfinite(params)):
            found.append(np.asarray(params, dtype=float))
        else:
            failed += 1
        if progress is not None:
            progress(done, total)
    if len(found) < 2:
        raise ValueError(f"{what} covariance: only {len(found)} of {total} refits converged"
                         + (f" (first error: {first_error})" if first_error else "") + ".")
    if failed:
        warn_user(f"{what} covariance: {failed} of {total} refits did not converge and are "
                  f"left out; the covariance uses the other {len(found)}.", ConvergenceWarning)
    return np.vstack(found)
