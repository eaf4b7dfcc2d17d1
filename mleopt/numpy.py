"""A differentiable numpy namespace: ``import mleopt.numpy as np``.

Array creation and constants pass through to numpy; the mathematical functions are the
primitives of mleopt.ad (or compositions of them), so code written with them can be
differentiated by mleopt.ad in reverse and forward mode, to any order.

Piecewise-constant functions (comparisons, isfinite / isnan / isinf, allclose, isclose,
array_equal, any, all, argmax, floor, ceil, round, sign, floor_divide) work on the values of
traced arguments and return plain numpy results: booleans for control flow and ``where``,
constants (derivative 0) in arithmetic. Differentiating a function whose result is boolean
raises a TypeError. ``mod`` / ``remainder`` (``x % y``) and ``fmod`` have d/dx = 1 and
d/dy = -floor(x / y) (-trunc(x / y) for fmod) away from their jumps. Complex numbers are
not supported: every function raises mleopt.ad.ComplexNumberError (a TypeError) on one.

Functions that only move, repeat or drop elements (sort, take, roll, flip, pad, split, tile,
diagonal, ...) are one gather (``_gathered``): numpy's own function applied to the positions
of the elements says where each result element comes from. Order statistics (median,
quantile, percentile) interpolate between two sorted elements as numpy's 'linear' method.
Lists and tuples holding traced values are stacked wherever numpy takes an array (the
primitives do it). Every other numpy name passes through unchanged: it works on plain
arrays and raises a TraceError on a traced value.
"""
import sys as _sys

import numpy as _np

from .ad.core import register_namespace as _register_namespace
from ._numpy_base import *  # noqa: F401,F403
from ._numpy_gather import *  # noqa: F401,F403
from ._numpy_stats import *  # noqa: F401,F403
from ._numpy_base import _value_of  # noqa: F401

# --- linear algebra: the namespace lives in mleopt/_linalg.py ------------------------------
from ._linalg import linalg  # noqa: E402


# Every other public numpy name passes through unchanged (dtypes, constants, errstate,
# iinfo / finfo, isscalar, io, random, fft, ...). They work on plain arrays; called on a
# traced value they raise a TraceError (numpy dispatches such calls to this namespace and
# finds no differentiable version), never a silent zero. numpy's lazily loaded submodules
# (testing, f2py, ma, ...) are left out, except fft, which autograd.numpy offers too.
def _pass_through_the_rest() -> None:
    import warnings
    namespace = globals()
    loaded = set(vars(_np)) | {"fft"}
    for name in dir(_np):
        if name.startswith("_") or name in namespace or name not in loaded:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # skip names numpy has deprecated
            try:
                namespace[name] = getattr(_np, name)
            except (AttributeError, DeprecationWarning):
                pass


_pass_through_the_rest()


# The engine calls this namespace for the array methods of traced values (x.mean(), ...) and
# for numpy functions called on them (__array_function__); it does not import it.
_register_namespace("numpy", _sys.modules[__name__])
