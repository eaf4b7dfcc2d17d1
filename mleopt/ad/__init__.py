"""mleopt.ad: exact derivatives by automatic differentiation, reverse and forward mode.

>>> grad(lambda x: x**2 + 3*x)(2.0)
np.float64(7.0)
"""
# The layers of the engine, bottom up: core (the tracer) <- primitives <- the rule modules
# <- rowhess <- structure <- pytree <- api <- tensor, transforms <- testing. Importing any submodule runs this file first, so every
# primitive has its rules registered before anything can call it.
from . import core, primitives  # noqa: F401
from . import rules, einsum, rules_linalg, rules_special  # noqa: F401  (register the rules)
from .api import grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp
from .core import ComplexNumberError, Dual, Tensor, TraceError, stop_gradient
from .pytree import flatten, flatten_func
from .tensor import tensor
from .transforms import (deriv, elementwise_grad, grad_and_aux, hessian_tensor_product,
                         hessian_vector_product, holomorphic_grad, make_ggnvp, make_hvp,
                         make_jvp, make_vjp, multigrad_dict, tensor_jacobian_product,
                         vector_jacobian_product)
from .testing import check_grads

__all__ = ["grad", "value_and_grad", "jacobian", "hessian", "hvp", "jvp", "vjp", "tensor",
           "Tensor", "Dual", "TraceError", "ComplexNumberError", "stop_gradient",
           # autograd's names (mleopt.ad.transforms, .pytree, .testing)
           "elementwise_grad", "deriv", "grad_and_aux", "make_vjp", "make_jvp", "make_hvp",
           "make_ggnvp", "hessian_tensor_product", "hessian_vector_product",
           "tensor_jacobian_product", "vector_jacobian_product", "multigrad_dict",
           "holomorphic_grad", "check_grads", "flatten", "flatten_func"]
