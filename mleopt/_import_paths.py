"""autograd's import paths under mleopt's names.

autograd programs import ``autograd.numpy.random as npr``, ``from autograd.numpy.linalg
import solve``, ``autograd.scipy.stats.norm as norm``. mleopt.numpy and mleopt.stats are
modules, not packages, so their ``random``, ``linalg``, ``fft`` and distributions are
entered in ``sys.modules`` under the dotted names (``mleopt.numpy.random``,
``mleopt.stats.norm``, ...): renaming the package in the import line is then enough. An
entry that is not a module (the linalg namespace, a distribution) is a module that reads
its attributes from it.
"""
from __future__ import annotations

import sys
import types

from . import numpy as _numpy, stats as _stats


def _as_module(name: str, obj) -> types.ModuleType:
    if isinstance(obj, types.ModuleType):
        return obj
    module = types.ModuleType(name, getattr(obj, "__doc__", None))
    module.__getattr__ = lambda attr: getattr(obj, attr)    # (PEP 562)
    module.__dir__ = lambda: dir(obj)
    return module


def register() -> None:
    """Enter the dotted names in sys.modules (once; names already there are left alone)."""
    paths = {f"mleopt.numpy.{name}": getattr(_numpy, name) for name in ("random", "linalg", "fft")}
    paths.update({f"mleopt.stats.{name}": getattr(_stats, name) for name in _stats.__all__})
    for name, obj in paths.items():
        if name not in sys.modules:
            sys.modules[name] = _as_module(name, obj)


register()
