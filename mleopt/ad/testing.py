"""check_grads: derivatives against central finite differences (autograd.test_util's helper).

``check_grads(f, modes=["fwd", "rev"], order=2)(x, ...)`` checks, at x, in random directions:

* forward mode:  u' (J v)             against  u' (f(x + h v/2) - f(x - h v/2)) / h;
* reverse mode:  (u' J) v (one VJP)   against  the same finite difference;

and, for ``order > 1``, the same checks of the derivative functions themselves,
``(x, v) -> J(x) v`` and ``(x, u) -> u' J(x)``, one order lower (so order 2 checks second
derivatives in both modes). x may be an array, a number or a container. A mismatch raises
AssertionError naming the mode, the order and both numbers.
"""
from __future__ import annotations

import difflib
from typing import Callable, Sequence

import numpy as np

from .api import Argnum, jvp, resolve_argnum, vjp
from .pytree import flatten, ravel_leaves
from .transforms import _unary

MODES = ("fwd", "rev")


def _close(a: float, b: float, rtol: float, atol: float) -> bool:
    return abs(a - b) <= atol or abs(a - b) <= rtol * abs(a + b)


def check_grads(f: Callable, argnum: Argnum = 0, modes: Sequence[str] = MODES, order: int = 2,
                *, argnums: Argnum | None = None, eps: float = 1e-6, rtol: float = 1e-6,
                atol: float = 1e-6, seed: int = 0) -> Callable:
    """A function of f's arguments that checks f's derivatives there (see the module's
    docstring); returns None, raises AssertionError on a mismatch."""
    argnum = resolve_argnum(argnum, argnums, "check_grads")
    modes = [modes] if isinstance(modes, str) else list(modes)
    for mode in modes:
        if mode not in MODES:
            close = difflib.get_close_matches(str(mode), MODES, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"check_grads: unknown mode {mode!r}{hint}; the modes are "
                             "'fwd' and 'rev'.")
    if not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"check_grads: order must be an integer >= 1, not {order!r}.")

    def checker(*args, **kwargs) -> None:
        g, x = _unary(f, args, kwargs, argnum)
        x0, unflatten = flatten(x)
        name = getattr(f, "__name__", "f")
        _check(_flat_fun(g, unflatten), x0, modes, int(order), eps, rtol, atol,
               np.random.default_rng(seed), name)

    return checker


def _flat_fun(g: Callable, unflatten: Callable) -> Callable:
    """g as a function from one vector to one vector."""
    def flat(v):
        out = g(unflatten(v))
        return flatten(out)[0] if isinstance(out, (tuple, list, dict)) else ravel_leaves([out])
    flat.__name__ = getattr(g, "__name__", "f")
    return flat


def _check(h: Callable, x: np.ndarray, modes: list, order: int, eps: float, rtol: float,
           atol: float, rng: np.random.Generator, name: str, level: int = 1) -> None:
    y = np.asarray(h(x), dtype=float)
    v = rng.standard_normal(x.shape)
    u = rng.standard_normal(y.shape)
    numeric = float(u @ ((np.asarray(h(x + 0.5 * eps * v)) - np.asarray(h(x - 0.5 * eps * v)))
                         / eps))
    n = x.size
    for mode in modes:
        if mode == "fwd":
            exact = float(u @ jvp(h, (x,), (v,))[1])
        else:
            exact = float(vjp(h, x)[1](u)[0] @ v)
        if not _close(exact, numeric, rtol, atol):
            raise AssertionError(
                f"check_grads: the {'forward' if mode == 'fwd' else 'reverse'}-mode "
                f"derivative of {name} (order {level}) disagrees with central finite "
                f"differences in a random direction: exact {exact!r}, numeric {numeric!r} "
                f"(difference {abs(exact - numeric):.3g}; rtol={rtol}, atol={atol}, "
                f"eps={eps}) at x = {x!r}.")
        if order > 1:
            if mode == "fwd":
                def deriv(z, h=h):   # (x, v) -> J(x) v
                    return jvp(h, (z[:n],), (z[n:],))[1]
                w = v
            else:
                def deriv(z, h=h):   # (x, u) -> u' J(x)
                    return vjp(h, z[:n])[1](z[n:])[0]
                w = u
            deriv.__name__ = f"{mode}_derivative_of_{name}"
            _check(deriv, np.concatenate([x, w]), modes, order - 1, eps, rtol, atol, rng,
                   name, level + 1)
