"""The functional interface: grad, value_and_grad, jacobian, hessian, hvp, jvp, vjp.

Names and result shapes follow JAX: ``jacobian(f)(x).shape == out.shape + x.shape`` and
``hessian(f)(x).shape == x.shape + x.shape``.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import math

import numpy as np

from .core import Dual, Tensor, Traced, TraceError, backward_pass, fresh, new_level
from .rules import IDENTITY_SEEDS

Argnum = int | Sequence[int]


def as_float(x):
    """Inputs are differentiated as float64 arrays (ints, bools and lists promoted)."""
    if isinstance(x, Traced):
        return x
    if isinstance(x, np.ndarray) and x.dtype == np.float64:
        return x
    arr = np.asarray(x)
    if arr.dtype.kind not in "fc":
        arr = arr.astype(np.float64)
    return arr


def _shape(x) -> tuple:
    return x.shape if hasattr(x, "shape") else np.shape(x)


def _plain_scalar(result, original):
    """A 0-d result for a Python-number input comes back as a numpy float."""
    if isinstance(result, np.ndarray) and result.ndim == 0 and np.ndim(original) == 0 \
            and not isinstance(original, np.ndarray):
        return result[()]
    return result


def _argnums(argnum: Argnum) -> tuple[int, ...]:
    return (argnum,) if isinstance(argnum, int) else tuple(argnum)


def _output_parts(out, level):
    """(value, Tensor or None) of a function's output at a reverse-mode level."""
    if isinstance(out, Tensor) and out._level == level:
        return out._value, out
    return out, None


def _reverse(f: Callable, args: tuple, kwargs: dict, argnums: tuple[int, ...]):
    """Run f with the chosen arguments traced; returns (leaves, output value, output node)."""
    level = new_level()
    args = list(args)
    leaves = []
    for i in argnums:
        leaf = Tensor(as_float(args[i]), level)
        args[i] = leaf
        leaves.append(leaf)
    out = f(*args, **kwargs)
    value, node = _output_parts(out, level)
    return leaves, value, node


def _leaf_cotangents(leaves, node, seed):
    if node is None:
        return [np.zeros(_shape(leaf._value)) for leaf in leaves]
    found = backward_pass(node, seed)
    return [fresh(found[leaf]) if leaf in found else np.zeros(_shape(leaf._value))
            for leaf in leaves]


def value_and_grad(fun: Callable, argnum: Argnum = 0) -> Callable:
    """``(f(x), df/dx)`` for a function returning a single number (reverse mode)."""
    argnums = _argnums(argnum)

    def value_and_grad_fun(*args, **kwargs):
        leaves, value, node = _reverse(fun, args, kwargs, argnums)
        if value is None or isinstance(value, (str, bytes, tuple, list, dict)):
            # (None: a forgotten return; its "gradient" would silently be zero)
            raise TypeError(
                f"grad needs a function that returns a single number, but "
                f"{getattr(fun, '__name__', 'the function')} returned "
                f"{'None' if value is None else 'a ' + type(value).__name__}; return the "
                "number itself (compute any auxiliary outputs separately).")
        out_shape = _shape(value)
        if math.prod(out_shape) != 1:
            raise TraceError(
                f"grad needs a function that returns a single number, but "
                f"{getattr(fun, '__name__', 'the function')} returned shape {out_shape}; "
                "use jacobian(f) for array outputs (or reduce the output, e.g. with sum).")
        grads = _leaf_cotangents(leaves, node, np.ones(out_shape))
        grads = [_plain_scalar(g, args[i]) for g, i in zip(grads, argnums)]
        return value, grads[0] if isinstance(argnum, int) else tuple(grads)

    value_and_grad_fun.__name__ = f"value_and_grad_{getattr(fun, '__name__', 'f')}"
    return value_and_grad_fun


def grad(fun: Callable, argnum: Argnum = 0) -> Callable:
    """The gradient of a function returning a single number, by reverse mode.

    ``grad(lambda x: x**2 + 3*x)(2.0) == 7.0``. ``argnum`` may be an int or a tuple (then a
    tuple of gradients is returned); other arguments pass through untouched.
    """
    vg = value_and_grad(fun, argnum)

    def grad_fun(*args, **kwargs):
        return vg(*args, **kwargs)[1]

    grad_fun.__name__ = f"grad_{getattr(fun, '__name__', 'f')}"
    return grad_fun


# =======================================================================================
# forward mode
# =======================================================================================

def _forward(f: Callable, args: list, kwargs: dict, argnums: tuple[int, ...], seeds: list):
    """Run f with batched tangents ``seeds`` on the chosen arguments; returns (value, tangent)."""
    level = new_level()
    args = list(args)
    for i, seed in zip(argnums, seeds):
        args[i] = Dual(as_float(args[i]), seed, level)
    out = f(*args, **kwargs)
    batch = _shape(seeds[0])[0]
    if isinstance(out, Dual) and out._level == level:
        return out._value, out.tangent
    return out, np.zeros((batch,) + _shape(out))


def jvp(fun: Callable, primals: Sequence, tangents: Sequence) -> tuple[Any, Any]:
    """Forward mode: ``(f(*primals), J @ tangents)`` in one pass, without forming J."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp got {len(primals)} primals but {len(tangents)} tangents.")
    seeds = []
    for x, t in zip(primals, tangents):
        t = as_float(t)
        if _shape(t) != _shape(x):
            raise ValueError(f"a tangent has shape {_shape(t)} but its primal has shape "
                             f"{_shape(x)}; they must match.")
        seeds.append(t[None] if not isinstance(t, Traced) else _batch1(t))
    value, tangent = _forward(fun, primals, {}, tuple(range(len(primals))), seeds)
    return value, fresh(tangent[0])


def _batch1(t):
    from .primitives import reshape
    return reshape(t, (1,) + _shape(t))


def vjp(fun: Callable, *primals) -> tuple[Any, Callable]:
    """Reverse mode: ``(f(*primals), vjp_fun)`` with ``vjp_fun(g)`` the tuple g @ J_i."""
    leaves, value, node = _reverse(fun, primals, {}, tuple(range(len(primals))))
    out_shape = _shape(value)

    def vjp_fun(g):
        g = as_float(g)
        if isinstance(g, np.ndarray):
            g = g.copy()  # the cotangent may flow out unchanged: never hand back the caller's array
        if _shape(g) != out_shape:
            raise ValueError(f"the cotangent has shape {_shape(g)} but the output has shape "
                             f"{out_shape}.")
        return tuple(_leaf_cotangents(leaves, node, g))

    return value, vjp_fun


# =======================================================================================
# Jacobians and Hessians
# =======================================================================================

def _identity_seed(x):
    n = int(np.prod(_shape(x)))
    return np.eye(n).reshape((n,) + _shape(x))


def _jacobian_forward(f, args, kwargs, argnum):
    """All directions in one batched forward pass; result out.shape + in.shape."""
    x = as_float(args[argnum])
    in_shape = _shape(x)
    seed = _identity_seed(x)
    IDENTITY_SEEDS.add(id(seed))
    try:
        _, tangent = _forward(f, args, kwargs, (argnum,), [seed])
    finally:
        IDENTITY_SEEDS.discard(id(seed))
    n_in = int(np.prod(in_shape))
    out_shape = _shape(tangent)[1:]
    from .primitives import reshape, transpose
    flat = reshape(tangent, (n_in, int(np.prod(out_shape))))
    return fresh(reshape(transpose(flat), out_shape + in_shape))


def _jacobian_reverse(leaves, value, node):
    """One backward pass per output element over a single trace."""
    from .. import numpy as mnp
    leaf = leaves[0]
    in_shape = _shape(leaf._value)
    out_shape = _shape(value)
    n_out = int(np.prod(out_shape))
    rows = []
    for j in range(n_out):
        seed = np.zeros(n_out)
        seed[j] = 1.0
        rows.append(_leaf_cotangents(leaves, node, seed.reshape(out_shape))[0])
    if not rows:
        return np.zeros(out_shape + in_shape)
    return mnp.reshape(mnp.stack(rows), out_shape + in_shape)


def jacobian(fun: Callable, argnum: int = 0, mode: str = "auto") -> Callable:
    """The Jacobian ``d f(x) / d x`` with shape ``out.shape + x.shape``.

    ``mode="auto"`` uses reverse mode (one backward pass per output) when the output has
    fewer elements than the input, and otherwise forward mode (all input directions in one
    batched pass). ``"fwd"`` and ``"rev"`` force a mode.
    """
    if mode not in ("auto", "fwd", "rev"):
        raise ValueError(f"mode must be 'auto', 'fwd' or 'rev', not {mode!r}.")
    if not isinstance(argnum, int):
        raise TypeError("jacobian takes a single argnum (an int).")

    def jacobian_fun(*args, **kwargs):
        if mode == "fwd":
            return _jacobian_forward(fun, args, kwargs, argnum)
        leaves, value, node = _reverse(fun, args, kwargs, (argnum,))
        n_in = int(np.prod(_shape(leaves[0]._value)))
        n_out = int(np.prod(_shape(value)))
        if mode == "rev" or n_out < n_in:
            return _jacobian_reverse(leaves, value, node)
        return _jacobian_forward(fun, args, kwargs, argnum)

    jacobian_fun.__name__ = f"jacobian_{getattr(fun, '__name__', 'f')}"
    return jacobian_fun


def hessian(fun: Callable, argnum: int = 0) -> Callable:
    """The Hessian of a scalar function, shape ``x.shape + x.shape``.

    Forward-over-reverse: the gradient's computation is traced once and all ``K`` input
    directions travel through it together as one batch of tangents, so the cost is a small
    multiple of one gradient (plus the K x K products), not K gradients.
    """
    g = grad(fun, argnum)

    def hessian_fun(*args, **kwargs):
        return _jacobian_forward(g, args, kwargs, argnum)

    hessian_fun.__name__ = f"hessian_{getattr(fun, '__name__', 'f')}"
    return hessian_fun


def hvp(fun: Callable, argnum: int = 0) -> Callable:
    """``hvp(f)(x, v)``: the Hessian-vector product H(x) @ v without forming H."""
    g = grad(fun, argnum)

    def hvp_fun(*args, **kwargs):
        *fargs, v = args
        v = as_float(v)
        x = fargs[argnum]
        if _shape(v) != _shape(x):
            raise ValueError(f"hvp: the vector has shape {_shape(v)} but x has shape "
                             f"{_shape(x)}.")
        _, tangent = _forward(g, fargs, kwargs, (argnum,), [v[None]])
        return fresh(tangent[0])

    hvp_fun.__name__ = f"hvp_{getattr(fun, '__name__', 'f')}"
    return hvp_fun
