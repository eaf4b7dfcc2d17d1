"""mleopt.ad: exact derivatives by automatic differentiation, reverse and forward mode.

>>> grad(lambda x: x**2 + 3*x)(2.0)
np.float64(7.0)
"""
from . import primitives  # noqa: F401  (first: every primitive and rule module)
from .api import grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp
from .core import ComplexNumberError, Dual, Tensor, TraceError, stop_gradient
from .tensor import tensor

__all__ = ["grad", "value_and_grad", "jacobian", "hessian", "hvp", "jvp", "vjp", "tensor",
           "Tensor", "Dual", "TraceError", "ComplexNumberError", "stop_gradient"]
