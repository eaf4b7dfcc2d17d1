"""mleopt: maximum-likelihood estimation with exact derivatives from its own AD engine.

>>> import mleopt
>>> from mleopt import Logit, add_constant, datasets
>>> df = datasets.load("anes96")
>>> res = Logit(df["vote"], add_constant(df[["TVnews", "PID", "age", "educ", "income"]])).fit()
>>> print(res.summary())                                          # doctest: +SKIP

Public names are loaded on first use. The modules loaded at once are the differentiable
namespaces ``mleopt.numpy``, ``mleopt.special`` and ``mleopt.stats`` (and with them the AD
engine): they register with the engine, which imports nothing above itself (the array
methods of traced values, numpy's dispatch, and the twins named in errors for scipy
functions), so that ``from mleopt.ad import tensor`` alone gives ``x.mean()``,
``np.sum(x)``, ... as before.
"""
from __future__ import annotations

import importlib
from typing import Any

# (they register themselves with mleopt.ad; see above)
from . import numpy as _numpy, special as _special, stats as _stats  # noqa: F401
from . import _import_paths  # noqa: F401,E402  (import mleopt.numpy.random as npr, ...)

__version__ = "0.1.0"    # keep equal to pyproject.toml's version (a test checks)

_NAMES = {
    # models
    "LikelihoodModel": "mleopt.models.base",
    "fit_mle": "mleopt.models.base",
    "OLS": "mleopt.models.linear",
    "Logit": "mleopt.models.discrete",
    "Probit": "mleopt.models.discrete",
    "Poisson": "mleopt.models.count",
    "NegativeBinomial": "mleopt.models.count",
    "Heckman": "mleopt.models.selection",
    "OrderedModel": "mleopt.models.ordinal", "MNLogit": "mleopt.models.multinomial",
    "AFT": "mleopt.models.survival",
    "Tobit": "mleopt.models.censored", "TruncatedRegression": "mleopt.models.censored",
    "IntervalRegression": "mleopt.models.censored",
    "ZeroInflatedPoisson": "mleopt.models.zeroinflated",
    "ZeroInflatedNegativeBinomial": "mleopt.models.zeroinflated",
    "HurdlePoisson": "mleopt.models.hurdle",
    "HurdleNegativeBinomial": "mleopt.models.hurdle",
    "GeneralizedPoisson": "mleopt.models.genpoisson",
    # data
    "add_constant": "mleopt.data",
    # row blocks
    "set_options": "mleopt.blocks",
    "get_options": "mleopt.blocks",
    "options": "mleopt.blocks",
    # results
    "LikelihoodResults": "mleopt.results",
    "OLSResults": "mleopt.results",
    "DiscreteResults": "mleopt.results",
    "CountResults": "mleopt.results",
    # reports
    "summary_col": "mleopt.comparison",
    # errors and warnings
    "ConvergenceWarning": "mleopt.exceptions",
    "PerfectSeparationError": "mleopt.exceptions",
    "PerfectSeparationWarning": "mleopt.exceptions",
    "CollinearityError": "mleopt.exceptions",
    "MissingDataError": "mleopt.exceptions",
    "DataError": "mleopt.exceptions",
    "StartValueError": "mleopt.exceptions",
    "HessianWarning": "mleopt.exceptions",
}
_MODULES = ("ad", "blocks", "datasets", "numpy", "special", "stats", "models", "optimize", "data",
            "formula",
            "results", "exceptions")

__all__ = list(_NAMES) + list(_MODULES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
    elif name in _MODULES:
        value = importlib.import_module(f"mleopt.{name}")
    else:
        raise AttributeError(f"module 'mleopt' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
