"""mleopt.ad: exact derivatives by automatic differentiation, reverse and forward mode.

>>> grad(lambda x: x**2 + 3*x)(2.0)
np.float64(7.0)
"""
# The layers of the engine, bottom up: core (the tracer) <- primitives <- the rule modules
# <- structure <- api <- tensor. Importing any submodule runs this file first, so every
# primitive has its rules registered before anything can call it.
from . import core, primitives  # noqa: F401
from . import rules, einsum, rules_linalg, rules_special  # noqa: F401  (register the rules)
from .api import grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp
from .core import ComplexNumberError, Dual, Tensor, TraceError, stop_gradient
from .tensor import tensor

__all__ = ["grad", "value_and_grad", "jacobian", "hessian", "hvp", "jvp", "vjp", "tensor",
           "Tensor", "Dual", "TraceError", "ComplexNumberError", "stop_gradient"]
