"""autograd's other transforms, built on grad / jvp / vjp / hvp of api.py.

Same names, signatures and results as autograd (``make_vjp(f, argnum)(*args)`` returns
``(vjp_fun, value)``, ``make_jvp(f, argnum)(*args)`` a function ``v -> (value, J v)``, ...);
``argnum`` may be a tuple, or given as JAX's ``argnums``. Arguments may be containers.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from . import primitives as p
from .api import (Argnum, _argnums, _check_argnums, grad, hvp, jacobian, jvp, resolve_argnum,
                  vjp, with_args)
from .core import ComplexNumberError, Traced, stop_gradient
from .pytree import is_container, tree_map
from .rules import shape_of


def _unary(fun: Callable, args: tuple, kwargs: dict, argnum: Argnum):
    """``(g, x)``: ``fun`` as a function of the chosen argument(s) only (a tuple of them for
    a tuple argnum), and their values."""
    _check_argnums(fun, args, _argnums(argnum))

    def g(x):
        return fun(*with_args(args, argnum, x), **kwargs)

    g.__name__ = getattr(fun, "__name__", "f")
    x = args[argnum] if isinstance(argnum, int) else tuple(args[i] for i in argnum)
    return g, x


def _ones_like(x):
    if is_container(x):
        return tree_map(_ones_like, x)
    return np.ones(shape_of(x))


def make_vjp(fun: Callable, argnum: Argnum = 0, *, argnums: Argnum | None = None) -> Callable:
    """``make_vjp(f)(x) -> (vjp_fun, f(x))``: ``vjp_fun(g)`` is ``g @ J`` (autograd)."""
    argnum = resolve_argnum(argnum, argnums, "make_vjp")

    def make_vjp_fun(*args, **kwargs):
        g, x = _unary(fun, args, kwargs, argnum)
        value, pullback = vjp(g, x)
        return (lambda ct: pullback(ct)[0]), value

    return make_vjp_fun


def make_jvp(fun: Callable, argnum: Argnum = 0, *, argnums: Argnum | None = None) -> Callable:
    """``make_jvp(f)(x) -> jvp_fun`` with ``jvp_fun(v) = (f(x), J v)`` (autograd)."""
    argnum = resolve_argnum(argnum, argnums, "make_jvp")

    def make_jvp_fun(*args, **kwargs):
        g, x = _unary(fun, args, kwargs, argnum)
        return lambda v: jvp(g, (x,), (v,))

    return make_jvp_fun


def elementwise_grad(fun: Callable, argnum: Argnum = 0, *,
                     argnums: Argnum | None = None) -> Callable:
    """The sum of the Jacobian's rows, ``1' J``, in one reverse pass: the derivative of each
    element of f by its own input when f acts elementwise (autograd)."""
    argnum = resolve_argnum(argnum, argnums, "elementwise_grad")

    def elementwise_grad_fun(*args, **kwargs):
        pullback, value = make_vjp(fun, argnum)(*args, **kwargs)
        return pullback(_ones_like(value))

    elementwise_grad_fun.__name__ = f"elementwise_grad_{getattr(fun, '__name__', 'f')}"
    return elementwise_grad_fun


def deriv(fun: Callable, argnum: Argnum = 0, *, argnums: Argnum | None = None) -> Callable:
    """``J @ ones``: the derivative of f along the all-ones direction, by forward mode (for a
    scalar input, df/dx) (autograd)."""
    argnum = resolve_argnum(argnum, argnums, "deriv")

    def deriv_fun(*args, **kwargs):
        g, x = _unary(fun, args, kwargs, argnum)
        return jvp(g, (x,), (_ones_like(x),))[1]

    return deriv_fun


def grad_and_aux(fun: Callable, argnum: Argnum = 0, *,
                 argnums: Argnum | None = None) -> Callable:
    """For ``f`` returning ``(value, aux)``: ``(gradient of value, aux)``; aux comes back as
    plain values, without derivatives (autograd)."""
    argnum = resolve_argnum(argnum, argnums, "grad_and_aux")

    def grad_and_aux_fun(*args, **kwargs):
        kept = []

        def first(*a, **k):
            out = fun(*a, **k)
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise TypeError(f"grad_and_aux needs a function returning (value, aux); "
                                f"{getattr(fun, '__name__', 'the function')} returned "
                                f"{type(out).__name__}.")
            kept.append(out[1])
            return out[0]

        gradient = grad(first, argnum)(*args, **kwargs)
        aux = kept[-1]
        return gradient, (tree_map(stop_gradient, aux) if is_container(aux)
                          else stop_gradient(aux))

    return grad_and_aux_fun


def make_hvp(fun: Callable, argnum: Argnum = 0, *, argnums: Argnum | None = None) -> Callable:
    """``make_hvp(f)(x) -> (hvp_fun, grad f(x))`` with ``hvp_fun(v) = H(x) v`` (autograd)."""
    argnum = resolve_argnum(argnum, argnums, "make_hvp")

    def make_hvp_fun(*args, **kwargs):
        g, x = _unary(fun, args, kwargs, argnum)
        return (lambda v: hvp(g)(x, v)), grad(g)(x)

    return make_hvp_fun


def hessian_tensor_product(fun: Callable, argnum: Argnum = 0, *,
                           argnums: Argnum | None = None) -> Callable:
    """``f_htp(*args, v)``: the Hessian of f at ``args`` contracted with ``v`` over all of
    v's axes, ``sum_kl H[ij, kl] v[kl]`` (autograd; v comes last)."""
    argnum = resolve_argnum(argnum, argnums, "hessian_tensor_product")

    def htp(*args, **kwargs):
        if not args:
            raise TypeError("hessian_tensor_product(f)(*args, v): the tensor v comes last.")
        *fargs, v = args
        return hvp(fun, argnum=argnum)(*fargs, v, **kwargs)

    return htp


hessian_vector_product = hessian_tensor_product


def tensor_jacobian_product(fun: Callable, argnum: Argnum = 0, *,
                            argnums: Argnum | None = None) -> Callable:
    """``f_tjp(*args, v)``: v contracted with the Jacobian over the output's first
    ``ndim(v)`` axes, ``sum_i v[i] J[i, ...]`` (autograd; v comes last). One reverse pass when
    v has the output's shape; otherwise the Jacobian of ``sum_i v[i] f[i, ...]``, of shape
    ``out.shape[ndim(v):] + x.shape``."""
    argnum = resolve_argnum(argnum, argnums, "tensor_jacobian_product")

    def tjp(*args, **kwargs):
        if not args:
            raise TypeError("tensor_jacobian_product(f)(*args, v): the tensor v comes last.")
        *fargs, v = args
        pullback, value = make_vjp(fun, argnum)(*fargs, **kwargs)
        if is_container(value) or is_container(v) or shape_of(v) == shape_of(value):
            return pullback(v)
        vshape, oshape = shape_of(v), shape_of(value)
        if oshape[:len(vshape)] != vshape:
            raise ValueError(f"tensor_jacobian_product: v has shape {vshape}, which is neither "
                             f"the output's shape {oshape} nor its leading axes.")
        lead = tuple(range(len(vshape)))
        expanded = vshape + (1,) * (len(oshape) - len(vshape))
        v = p.reshape(v, expanded) if isinstance(v, Traced) else \
            np.asarray(v, dtype=float).reshape(expanded)

        def contracted(*a, **k):    # sum_i v[i] f[i, ...]
            return p.sum(p.multiply(fun(*a, **k), v), axis=lead)

        return jacobian(contracted, argnum)(*fargs, **kwargs)

    return tjp


vector_jacobian_product = tensor_jacobian_product


def _half_sum_of_squares(y):
    return 0.5 * (y * y).sum(axis=-1)


def make_ggnvp(f: Callable, g: Callable = _half_sum_of_squares, f_argnum: int = 0) -> Callable:
    """Generalised Gauss-Newton products: ``make_ggnvp(f, g)(x)`` returns
    ``v -> J' H_g J v`` with J the Jacobian of f at x and H_g the Hessian of g at f(x)
    (default g: half the sum of squares over the last axis) (autograd)."""

    def make_ggnvp_fun(*args, **kwargs):
        h, x = _unary(f, args, kwargs, f_argnum)
        y, pullback = vjp(h, x)

        def ggnvp(v):
            jv = jvp(h, (x,), (v,))[1]
            return pullback(hvp(g)(y, jv))[0]

        return ggnvp

    return make_ggnvp_fun


def multigrad_dict(fun: Callable) -> Callable:
    """The gradient with respect to every argument at once, as a dict by argument name
    (defaults included; ``*args`` as a tuple, ``**kwargs`` as a dict) (autograd)."""
    sig = inspect.signature(fun)
    kinds = {name: par.kind for name, par in sig.parameters.items()}

    def call(values: dict):
        pos, kw = [], {}
        for name, kind in kinds.items():
            if kind == inspect.Parameter.VAR_POSITIONAL:
                pos.extend(values[name])
            elif kind == inspect.Parameter.VAR_KEYWORD:
                kw.update(values[name])
            elif kind == inspect.Parameter.KEYWORD_ONLY:
                kw[name] = values[name]
            else:
                pos.append(values[name])
        return fun(*pos, **kw)

    def multigrad_fun(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        for name, kind in kinds.items():    # (a container even when it holds numbers only)
            if kind == inspect.Parameter.VAR_POSITIONAL:
                values[name] = tuple(np.asarray(v, dtype=float) for v in values[name])
        gradient = grad(call)(values)
        return {name: gradient[name] for name in values}

    return multigrad_fun


def holomorphic_grad(fun: Callable, argnum: Argnum = 0, **_: Any) -> Callable:
    """Refused: mleopt.ad differentiates real functions only."""
    raise ComplexNumberError(
        "holomorphic_grad differentiates complex functions of complex inputs, and mleopt.ad "
        "supports real numbers only (complex values and derivatives would be wrong). Write "
        "the function on the real and imaginary parts as two real arrays and use grad or "
        "jacobian.")
