"""Errors and warnings that mleopt raises on purpose.

Every input problem is a ``ValueError`` subclass (so ``except ValueError`` still works) whose
message says what is wrong, where (column, parameter, row count) and what to do about it.
"""
from __future__ import annotations

import contextlib
import functools
import os
import sys
import warnings


class DataError(ValueError):
    """Bad model input: wrong shape, type, length, missing values, ..."""


class MissingDataError(DataError):
    """NaN or inf in the data while ``missing="raise"``."""


class NoRowsLeftError(MissingDataError):
    """Every row was dropped as missing (``missing="drop"``); ``dropped_by`` counts the
    missing values per column. (A Dask partition may be so: the others still count.)"""

    def __init__(self, message: str, dropped_by: dict | None = None):
        super().__init__(message)
        self.dropped_by = dict(dropped_by or {})


class CollinearityError(DataError):
    """The columns of exog are linearly dependent (the parameters are not identified)."""


class PerfectSeparationError(DataError):
    """A binary model's regressors predict the outcome perfectly: the MLE does not exist."""


class StartValueError(ValueError):
    """The log-likelihood is not finite at the start values."""


class ConvergenceWarning(UserWarning):
    """The optimiser stopped before the gradient tolerance was met; ``converged`` is False."""


class PerfectSeparationWarning(UserWarning):
    """Perfect separation detected while the model was asked to warn instead of raise."""


class HessianWarning(UserWarning):
    """The Hessian is not negative definite at the reported optimum."""


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# standard-library modules whose frames only forward a call made inside mleopt (the
# descriptor of a cached_property, a partial, a context manager's __exit__)
_FORWARDING_FILES = frozenset(os.path.abspath(m.__file__) for m in (functools, contextlib))


def _internal(frame) -> bool:
    path = os.path.abspath(frame.f_code.co_filename)
    return path.startswith(_PACKAGE_DIR + os.sep) or path in _FORWARDING_FILES


def warn_user(message: str, category: type[Warning]) -> None:
    """``warnings.warn`` attributed to the user's line: the first caller that is neither in
    mleopt nor in a standard-library frame forwarding one of mleopt's calls (e.g. the
    ``functools.cached_property`` behind ``results.llnull``)."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and _internal(frame):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


__all__ = ["warn_user", "DataError", "MissingDataError", "CollinearityError",
           "PerfectSeparationError", "StartValueError", "ConvergenceWarning", "PerfectSeparationWarning",
           "HessianWarning"]
