"""The PyTorch-like style: ``x = tensor([2.0], requires_grad=True); y = x**2 + 3*x;
y.backward(); x.grad``."""
from __future__ import annotations

import numpy as np

from .api import as_float
from .core import EAGER_LEVEL, Tensor, _is_complex, complex_error


def tensor(data, requires_grad: bool = False) -> Tensor:
    """A tensor whose operations are recorded; ``backward()`` fills ``.grad`` of the leaves
    created with ``requires_grad=True`` (gradients accumulate until reset with
    ``x.grad = None`` or ``x.zero_grad()``). Integer data is promoted to float64, and the
    data is copied, so the caller's array is never modified; complex data is refused."""
    if _is_complex(data):
        raise complex_error("tensor", 0)
    value = np.array(as_float(data), dtype=np.float64, copy=True)
    return Tensor(value, EAGER_LEVEL, requires_grad=requires_grad)
