"""The functional interface: grad, value_and_grad, jacobian, hessian, hvp, jvp, vjp.

Names and result shapes follow JAX: ``jacobian(f)(x).shape == out.shape + x.shape`` and
``hessian(f)(x).shape == x.shape + x.shape``.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import math
from contextlib import contextmanager

import numpy as np

from .core import (Dual, Tensor, Traced, TraceError, _holds_traced, _namespace, backward_pass,
                   complex_error, forward_sweep, fresh, new_level, unwatch, watch)
from .primitives import concatenate_args, getitem, reshape, transpose
from .rules import IDENTITY_SEEDS, shape_of
from . import pytree, replay as _replay, structure
from .pytree import TreeDef, is_container

Argnum = int | Sequence[int]


def as_float(x):
    """Inputs are differentiated as float64 arrays (ints, bools and lists promoted)."""
    if isinstance(x, Traced):
        return x
    if isinstance(x, np.ndarray) and x.dtype == np.float64:
        return x
    arr = np.asarray(x)
    if arr.dtype.kind == "c":  # (even a function without any primitive must not accept it)
        raise complex_error("mleopt.ad (as a point, tangent or cotangent)")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    return arr


def _plain_scalar(result, original):
    """A 0-d result for a Python-number input comes back as a numpy float."""
    if isinstance(result, np.ndarray) and result.ndim == 0 and np.ndim(original) == 0 \
            and not isinstance(original, np.ndarray):
        return result[()]
    return result


def _argnums(argnum: Argnum) -> tuple[int, ...]:
    return (argnum,) if isinstance(argnum, int) else tuple(argnum)


def resolve_argnum(argnum: Argnum, argnums: Argnum | None, where: str) -> Argnum:
    """autograd's ``argnum`` or JAX's ``argnums`` (not both): an int, or a tuple of ints
    (then the derivative is a tuple, one entry per argument)."""
    if argnums is not None:
        if argnum != 0:
            raise TypeError(f"{where}: give argnum (autograd's name) or argnums (JAX's), "
                            "not both.")
        argnum = argnums
    if isinstance(argnum, (bool, np.bool_)) or not isinstance(argnum, (int, np.integer, tuple, list)):
        raise TypeError(f"{where}: argnum must be an int or a tuple of ints, not {argnum!r}.")
    if isinstance(argnum, (list, tuple)):
        if not argnum or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool)
                                 for i in argnum):
            raise TypeError(f"{where}: argnums must be a non-empty tuple of ints, not {argnum!r}.")
        return tuple(int(i) for i in argnum)
    return int(argnum)


# =======================================================================================
# containers: one flat vector in, one flat vector out (mleopt.ad.pytree)
# =======================================================================================

def _needs_tree(args: Sequence, argnum: Argnum) -> bool:
    """Is a chosen argument a container? (an argnum out of range is reported later)"""
    if type(argnum) is int:     # the common case, kept cheap (it runs on every call)
        if not -len(args) <= argnum < len(args):
            return False
        a = args[argnum]
        return isinstance(a, (dict, list, tuple)) and is_container(a)
    n = len(args)
    return any(is_container(args[i]) for i in argnum if -n <= i < n)


def with_args(args: Sequence, argnum: Argnum, x) -> list:
    """``args`` with the chosen argument replaced by ``x`` (a tuple argnum: the entries of
    the tuple ``x`` in their places)."""
    new = list(args)
    if isinstance(argnum, int):
        new[argnum] = x
    else:
        for i, part in zip(argnum, x):
            new[i] = part
    return new


def _flat_problem(fun: Callable, args: Sequence, kwargs: dict, argnum: Argnum):
    """``fun`` as a function of one vector holding the chosen argument(s): returns
    ``(flat_fun, vector, treedef)`` with ``flat_fun(vector) == fun(*args, **kwargs)``; a
    tuple argnum makes the chosen arguments one tuple (the derivative is a tuple)."""
    _check_argnums(fun, args, _argnums(argnum))
    if isinstance(argnum, int):
        treedef, chosen = pytree.tree_structure(args[argnum]), [args[argnum]]
    else:
        treedef, chosen = pytree.args_structure(tuple(args[i] for i in argnum)), \
            [args[i] for i in argnum]
    vector = pytree.ravel_leaves([leaf for c in chosen for leaf in pytree.leaves_of(c)])

    def flat_fun(v):
        return fun(*with_args(args, argnum, treedef.unflatten(v)), **kwargs)

    flat_fun.__name__ = getattr(fun, "__name__", "f")
    return flat_fun, vector, treedef


class _FlatOutput:
    """``fun`` with a tuple or dict output flattened to one vector; ``treedef`` remembers
    its structure (None while outputs are arrays)."""

    def __init__(self, fun: Callable):
        self.fun, self.treedef = fun, None
        self.__name__ = getattr(fun, "__name__", "f")

    def __call__(self, *args, **kwargs):
        out = self.fun(*args, **kwargs)
        if isinstance(out, (tuple, dict)):
            self.treedef = pytree.tree_structure(out)
            return pytree.ravel_leaves(pytree.leaves_of(out))
        return out

    def unflatten(self, value, lead: tuple = ()):
        return value if self.treedef is None else self.treedef.unflatten(value, lead)


def _take_rows(m, start: int, stop: int):
    if isinstance(m, Traced):
        return getitem(m, slice(start, stop))
    return m[start:stop]


def _unflatten_matrix(m, out_def: TreeDef | None, out_shape: tuple,
                      in_def: TreeDef | None, in_shape: tuple):
    """A derivative of shape ``out + in`` (each side a flat vector when it has a TreeDef) in
    the nested structure of JAX: the output's structure of the input's structure."""
    n_in = int(np.prod(in_shape)) if in_def is None else in_def.size

    def block(rows, lead: tuple):
        if in_def is None:
            return reshape(rows, lead + tuple(in_shape)) if isinstance(rows, Traced) else \
                rows.reshape(lead + tuple(in_shape))
        rows = reshape(rows, lead + (n_in,)) if isinstance(rows, Traced) else \
            rows.reshape(lead + (n_in,))
        return in_def.unflatten(rows, lead)

    if out_def is None:
        return block(m, tuple(out_shape))
    parts, start = [], 0
    for shape, size in zip(out_def.shapes, out_def.sizes):
        parts.append(block(_take_rows(m, start, start + size), shape))
        start += size
    return out_def.build(parts)


def _output_parts(out, level):
    """(value, Tensor or None) of a function's output at a reverse-mode level."""
    out = _list_as_array(out)
    if isinstance(out, Tensor) and out._level == level:
        return out._value, out
    return out, None


def _list_as_array(out):
    """A returned list holding traced values means an array, as it does for numpy: made one
    by mleopt.numpy.array, as the lists numpy functions receive are (core._stacked)."""
    if type(out) is list and _holds_traced(out):
        try:
            return _namespace("numpy").array(out)
        except ValueError as exc:
            raise ValueError(f"the function returned a list, which is an array for numpy (and "
                             f"here), but its entries do not stack into one ({exc}); return a "
                             "tuple to return parts of different shapes.") from None
    return out


def _stack(arrays: list):
    """numpy.stack(arrays) along a new first axis, with the primitives."""
    return concatenate_args(0, *[reshape(a, (1,) + shape_of(a)) for a in arrays])


def _check_argnums(fun: Callable, args: Sequence, argnums: tuple[int, ...]) -> None:
    for i in argnums:
        if not -len(args) <= i < len(args):
            raise ValueError(
                f"argnum {i} asks to differentiate positional argument {i}, but "
                f"{getattr(fun, '__name__', 'the function')} was called with {len(args)} "
                "positional argument(s).")
    if len(argnums) > 1 and len({i % len(args) for i in argnums}) < len(argnums):
        raise ValueError(f"argnums {argnums} choose an argument twice; name each argument "
                         "once (the derivative is one entry per argument).")


def _reverse(f: Callable, args: tuple, kwargs: dict, argnums: tuple[int, ...],
             level: int | None = None):
    """Run f with the chosen arguments traced (at a new level, or at ``level``); returns
    (leaves, output value, output node)."""
    _check_argnums(f, args, argnums)
    if level is None:
        level = new_level()
    args = list(args)
    leaves = []
    for i in argnums:
        leaf = Tensor(as_float(args[i]), level)
        args[i] = leaf
        leaves.append(leaf)
    out = f(*args, **kwargs)
    value, node = _output_parts(out, level)
    _refuse_boolean(f, value)
    return leaves, value, node


def _refuse_boolean(fun: Callable, value) -> None:
    """A boolean output (a comparison, np.allclose, ...) is piecewise constant: it has no
    derivative to give, and a gradient of zeros would hide the mistake."""
    if isinstance(value, (bool, np.bool_)) or (
            isinstance(value, np.ndarray) and value.dtype.kind == "b"):
        raise TypeError(
            f"{getattr(fun, '__name__', 'the function')} returned a boolean "
            f"({type(value).__name__}), which has no derivative: comparisons and "
            "np.allclose / isclose / array_equal work on the values (for control flow and "
            "np.where); differentiate the number they test instead.")


def _leaf_cotangents(leaves, node, seed):
    if node is None:
        return [np.zeros(shape_of(leaf._value)) for leaf in leaves]
    found = backward_pass(node, seed)
    return [fresh(found[leaf]) if leaf in found else np.zeros(shape_of(leaf._value))
            for leaf in leaves]


def value_and_grad(fun: Callable, argnum: Argnum = 0, *,
                   argnums: Argnum | None = None) -> Callable:
    """``(f(x), df/dx)`` for a function returning a single number (reverse mode).

    ``x`` may be an array, a number or a container (dict / list / tuple, nested) of them:
    the gradient has the same structure."""
    argnum = resolve_argnum(argnum, argnums, "value_and_grad")
    argnums = _argnums(argnum)

    def value_and_grad_fun(*args, **kwargs):
        if _needs_tree(args, argnum):
            flat_fun, vector, treedef = _flat_problem(fun, args, kwargs, argnum)
            value, g = value_and_grad(flat_fun)(vector)
            return value, treedef.unflatten(g)
        leaves, value, node = _reverse(fun, args, kwargs, argnums)
        if value is None or isinstance(value, (str, bytes, tuple, list, dict)):
            # (None: a forgotten return; its "gradient" would silently be zero)
            raise TypeError(
                f"grad needs a function that returns a single number, but "
                f"{getattr(fun, '__name__', 'the function')} returned "
                f"{'None' if value is None else 'a ' + type(value).__name__}; return the "
                "number itself (compute any auxiliary outputs separately).")
        out_shape = shape_of(value)
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


def grad(fun: Callable, argnum: Argnum = 0, *, argnums: Argnum | None = None) -> Callable:
    """The gradient of a function returning a single number, by reverse mode.

    ``grad(lambda x: x**2 + 3*x)(2.0) == 7.0``. ``argnum`` (or JAX's ``argnums``) may be an
    int or a tuple (then a tuple of gradients is returned); other arguments pass through
    untouched. With respect to a container (dict / list / tuple of arrays and numbers) the
    gradient is a container of the same structure.
    """
    vg = value_and_grad(fun, argnum, argnums=argnums)

    def grad_fun(*args, **kwargs):
        return vg(*args, **kwargs)[1]

    grad_fun.__name__ = f"grad_{getattr(fun, '__name__', 'f')}"
    return grad_fun


# =======================================================================================
# forward mode
# =======================================================================================

def _forward(f: Callable, args: list, kwargs: dict, argnums: tuple[int, ...], seeds: list):
    """Run f with batched tangents ``seeds`` on the chosen arguments; returns (value, tangent)."""
    _check_argnums(f, args, argnums)
    level = new_level()
    args = list(args)
    for i, seed in zip(argnums, seeds):
        args[i] = Dual(as_float(args[i]), seed, level)
    out = _list_as_array(f(*args, **kwargs))
    _refuse_boolean(f, out)
    batch = shape_of(seeds[0])[0]
    if isinstance(out, Dual) and out._level == level:
        return out._value, out.tangent
    return out, np.zeros((batch,) + shape_of(out))


def jvp(fun: Callable, primals, tangents) -> tuple[Any, Any]:
    """Forward mode: ``(f(*primals), J @ tangents)`` in one pass, without forming J.

    ``primals`` and ``tangents`` are tuples of the arguments (JAX's convention); a single
    array, number or dict is taken as the only argument. Arguments and output may be
    containers; each tangent has its primal's structure, the output tangent the output's.
    """
    if not isinstance(primals, (tuple, list)):
        primals, tangents = (primals,), (tangents,)
    elif not isinstance(tangents, (tuple, list)):
        raise TypeError(f"jvp: primals is a {type(primals).__name__} of {len(primals)} "
                        f"argument(s), so tangents must be one too (one tangent per argument), "
                        f"not a {type(tangents).__name__}.")
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp got {len(primals)} primals but {len(tangents)} tangents.")
    f = _FlatOutput(fun)
    if any(is_container(x) for x in primals):
        flat_fun, vector, treedef = _flat_problem(f, primals, {}, tuple(range(len(primals))))
        tdef = pytree.args_structure(tangents)
        if tdef != treedef:
            raise ValueError(f"jvp: the tangents have the structure {tdef!r} but the primals "
                             f"{treedef!r}; they must match.")
        value, tangent = _jvp_arrays(flat_fun, (vector,), (pytree.ravel_leaves(
            [leaf for t in tangents for leaf in pytree.leaves_of(t)]),))
    else:
        value, tangent = _jvp_arrays(f, primals, tangents)
    return f.unflatten(value), f.unflatten(tangent)


def _jvp_arrays(fun: Callable, primals: tuple, tangents: tuple) -> tuple[Any, Any]:
    seeds = []
    for x, t in zip(primals, tangents):
        t = as_float(t)
        if shape_of(t) != shape_of(x):
            raise ValueError(f"a tangent has shape {shape_of(t)} but its primal has shape "
                             f"{shape_of(x)}; they must match.")
        seeds.append(t[None] if not isinstance(t, Traced) else _batch1(t))
    value, tangent = _forward(fun, primals, {}, tuple(range(len(primals))), seeds)
    return value, fresh(tangent[0])


def _batch1(t):
    return reshape(t, (1,) + shape_of(t))


def vjp(fun: Callable, *primals) -> tuple[Any, Callable]:
    """Reverse mode: ``(f(*primals), vjp_fun)`` with ``vjp_fun(g)`` the tuple g @ J_i.

    Arguments and output may be containers: ``g`` has the output's structure and each
    cotangent its argument's."""
    f = _FlatOutput(fun)
    if _needs_tree(primals, tuple(range(len(primals)))):
        flat_fun, vector, treedef = _flat_problem(f, primals, {}, tuple(range(len(primals))))
        value, flat_vjp = _vjp_arrays(flat_fun, vector)
        unflatten = treedef.unflatten
        pick = lambda cts: unflatten(cts[0])  # noqa: E731  (the tuple of arguments)
    else:
        value, flat_vjp = _vjp_arrays(f, *primals)
        pick = tuple
    out_def = f.treedef

    def vjp_fun(g):
        if out_def is not None:
            gdef = pytree.tree_structure(g)
            if gdef != out_def:
                raise ValueError(f"the cotangent has the structure {gdef!r} but the output "
                                 f"{out_def!r}; they must match.")
            g = pytree.ravel_leaves(pytree.leaves_of(g))
        return pick(flat_vjp(g))

    return f.unflatten(value), vjp_fun


def _vjp_arrays(fun: Callable, *primals) -> tuple[Any, Callable]:
    leaves, value, node = _reverse(fun, primals, {}, tuple(range(len(primals))))
    out_shape = shape_of(value)

    def vjp_fun(g):
        g = as_float(g)
        if isinstance(g, np.ndarray):
            g = g.copy()  # the cotangent may flow out unchanged: never hand back the caller's array
        if shape_of(g) != out_shape:
            raise ValueError(f"the cotangent has shape {shape_of(g)} but the output has shape "
                             f"{out_shape}.")
        return tuple(_leaf_cotangents(leaves, node, g))

    return value, vjp_fun


# =======================================================================================
# Jacobians and Hessians
# =======================================================================================

def _identity_seed(x):
    n = int(np.prod(shape_of(x)))
    return np.eye(n).reshape((n,) + shape_of(x))


@contextmanager
def _identity_directions(x):
    """The K unit directions of x as one batch of tangents, shape (K,) + shape(x); matmul
    knows them while they are in use (X @ I = X: no product needed)."""
    seed = _identity_seed(x)
    IDENTITY_SEEDS.add(id(seed))
    try:
        yield seed
    finally:
        IDENTITY_SEEDS.discard(id(seed))


def _as_jacobian(tangent, in_shape: tuple, out_shape: tuple):
    """Batched tangents of the unit directions, (K,) + out, as the Jacobian out + in."""
    n_in, n_out = int(np.prod(in_shape)), int(np.prod(out_shape))
    if tangent is None:
        return np.zeros(out_shape + in_shape)
    return fresh(reshape(transpose(reshape(tangent, (n_in, n_out))), out_shape + in_shape))


def _jacobian_forward(f, args, kwargs, argnum):
    """All directions in one batched forward pass; result out.shape + in.shape."""
    _check_argnums(f, args, (argnum,))
    x = as_float(args[argnum])
    with _identity_directions(x) as seed:
        _, tangent = _forward(f, args, kwargs, (argnum,), [seed])
    return _as_jacobian(tangent, shape_of(x), shape_of(tangent)[1:])


def _jacobian_reverse(leaves, value, node):
    """One backward pass per output element over a single trace."""
    leaf = leaves[0]
    in_shape = shape_of(leaf._value)
    out_shape = shape_of(value)
    n_out = int(np.prod(out_shape))
    rows = []
    for j in range(n_out):
        seed = np.zeros(n_out)
        seed[j] = 1.0
        rows.append(_leaf_cotangents(leaves, node, seed.reshape(out_shape))[0])
    if not rows:
        return np.zeros(out_shape + in_shape)
    return reshape(_stack(rows), out_shape + in_shape)


def jacobian(fun: Callable, argnum: Argnum = 0, mode: str = "auto", *,
             argnums: Argnum | None = None) -> Callable:
    """The Jacobian ``d f(x) / d x`` with shape ``out.shape + x.shape``.

    ``mode="auto"`` records f once, then uses reverse mode (one backward pass per output)
    when the output has fewer elements than the input, and otherwise forward mode over the
    recorded graph (all input directions in one batched sweep); a per-row output that sees
    a vector x through linear indices ``A @ v(x)`` and scalars (per-observation scores) is
    found in the graph and differentiated per row, then chained through A (one tangent per
    index instead of one per entry of x; mleopt.ad.structure). ``"fwd"`` (a forward pass
    from the start) and ``"rev"`` force a mode.

    Containers (dict / list / tuple) as input or a tuple / dict as output, or a tuple
    ``argnum``: the Jacobian is nested as JAX nests it, the output's structure holding the
    input's, each block of shape ``out_leaf.shape + in_leaf.shape``.
    """
    if mode not in ("auto", "fwd", "rev"):
        raise ValueError(f"mode must be 'auto', 'fwd' or 'rev', not {mode!r}.")
    argnum = resolve_argnum(argnum, argnums, "jacobian")

    def jacobian_fun(*args, **kwargs):
        _check_argnums(fun, args, _argnums(argnum))
        f = _FlatOutput(fun)
        if not isinstance(argnum, int) or _needs_tree(args, argnum):
            flat_fun, vector, in_def = _flat_problem(f, args, kwargs, argnum)
            m = _jacobian_arrays(flat_fun, (vector,), {}, 0)
        else:
            in_def = None
            m = _jacobian_arrays(f, args, kwargs, argnum)
        if f.treedef is None and in_def is None:
            return m
        in_shape = shape_of(args[argnum]) if in_def is None else (in_def.size,)
        out_shape = shape_of(m)[:len(shape_of(m)) - len(in_shape)]
        return _unflatten_matrix(m, f.treedef, out_shape, in_def, in_shape)

    def _jacobian_arrays(fun, args, kwargs, argnum):
        if mode == "fwd":
            return _jacobian_forward(fun, args, kwargs, argnum)
        leaves, value, node = _reverse(fun, args, kwargs, (argnum,))
        if value is None or isinstance(value, (str, bytes, tuple, dict)):
            raise TypeError(
                f"jacobian needs a function that returns an array, but "
                f"{getattr(fun, '__name__', 'the function')} returned "
                f"{'None' if value is None else 'a ' + type(value).__name__}; return one array "
                "(e.g. np.stack or np.concatenate the parts).")
        n_in = int(np.prod(shape_of(leaves[0]._value)))
        n_out = int(np.prod(shape_of(value)))
        if mode == "rev" or n_out < n_in:
            return _jacobian_reverse(leaves, value, node)
        if mode == "auto" and node is not None and not isinstance(args[argnum], Traced):
            found = structure.jacobian(node, leaves[0])  # per-row outputs through indices
            if found is not None:
                return found
        # forward mode over the graph just recorded: f is not evaluated a second time
        leaf = leaves[0]
        with _identity_directions(leaf._value) as seed:
            tangent = None if node is None else forward_sweep(node, leaf, seed)
        return _as_jacobian(tangent, shape_of(leaf._value), shape_of(value))

    jacobian_fun.__name__ = f"jacobian_{getattr(fun, '__name__', 'f')}"
    return jacobian_fun


def hessian(fun: Callable, argnum: Argnum = 0, *, argnums: Argnum | None = None) -> Callable:
    """The Hessian of a scalar function, shape ``x.shape + x.shape``.

    Forward-over-reverse: the gradient's computation is traced once and all ``K`` input
    directions travel through it together as one batch of tangents, so the cost is a small
    multiple of one gradient (plus the K x K products), not K gradients.

    For a sum over rows that sees a vector x (a plain array) through a few linear indices
    ``A @ v(x)`` and scalars (a log-likelihood), the structure is found in the recorded
    graph (mleopt.ad.structure) and the Hessian is assembled from per-row second
    derivatives with matrix products ``A' diag(w) A``: the same numbers, at BLAS speed.

    With respect to a container (or a tuple ``argnum``) the Hessian is nested as JAX nests
    it: ``H[a][b]`` has shape ``a.shape + b.shape``.
    """
    argnum = resolve_argnum(argnum, argnums, "hessian")
    g = grad(fun, argnum)

    def hessian_fun(*args, **kwargs):
        _check_argnums(fun, args, _argnums(argnum))
        if not isinstance(argnum, int) or _needs_tree(args, argnum):
            flat_fun, vector, treedef = _flat_problem(fun, args, kwargs, argnum)
            h = hessian(flat_fun)(vector)
            return _unflatten_matrix(h, treedef, (), treedef, (treedef.size,))
        if not isinstance(args[argnum], Traced):
            leaves, value, node = _reverse(fun, args, kwargs, (argnum,))
            found = None if node is None else structure.hessian(node, leaves[0])
            if found is not None:
                return found
        return _jacobian_forward(g, args, kwargs, argnum)

    hessian_fun.__name__ = f"hessian_{getattr(fun, '__name__', 'f')}"
    return hessian_fun


def has_index_structure(fun: Callable, x) -> bool:
    """Whether ``hessian(fun)(x)`` takes the linear-index route (mleopt.ad.structure): fun
    is a sum over rows that sees x through products ``A @ v(x)`` and a few scalars."""
    leaves, value, node = _reverse(fun, (x,), {}, (0,))
    if node is None or math.prod(shape_of(value)) != 1:
        return False
    return structure.find(node, leaves[0], summed=True) is not None


def value_grad_and_hessian(fun: Callable, argnum: int = 0, lazy: bool = True,
                           replay: "_replay.Slot | None" = None) -> Callable:
    """``(f(x), df/dx, hessian)`` of a scalar function from one recording of f (what a Newton
    step needs at each point). ``lazy``: ``hessian`` is a zero-argument function computing
    the Hessian when called (a line search needs it at accepted points only); otherwise the
    Hessian itself. It comes from the same recording when the linear-index structure is
    there (see ``hessian``; eagerly, the gradient then comes from the same per-row
    derivatives), else by forward-over-reverse.

    ``replay`` (eager only; f called with x alone): the slot of one optimiser run on one
    block model. Its first evaluation is kept as a plan when the trace provably takes no
    decision on values, and later points refresh that recording instead of calling f
    (mleopt.ad.replay: the same numbers, bit for bit)."""
    vg = value_and_grad(fun, argnum)
    g = grad(fun, argnum)

    def value_grad_and_hessian_fun(*args, **kwargs):
        _check_argnums(fun, args, (argnum,))
        plain = not isinstance(args[argnum], Traced)
        slot = replay if (replay is not None and not lazy and plain and len(args) == 1
                          and not kwargs) else None
        if slot is not None and slot.plan:
            found = _replay.replayed(slot, as_float(args[argnum]))
            if found is not None:
                if _replay.CHECK:
                    _replay.check(found, value_grad_and_hessian(fun, argnum, False)(*args))
                return found
        watched = slot is not None and slot.plan is None    # (the run's first evaluation)
        level = new_level()
        if watched:
            watch(level)
        try:
            leaves, value, node = _reverse(fun, args, kwargs, (argnum,), level)
        finally:
            escaped = watched and unwatch(level)
        if not plain or node is None or math.prod(shape_of(value)) != 1:
            if watched:
                slot.decline("not a single number of x")
            value, gradient = vg(*args, **kwargs)       # (and its errors)
            node = None
        elif not lazy:
            s = structure.find(node, leaves[0], summed=True)
            if watched:
                slot.offer(leaves[0], node, s, escaped)
            found = None if s is None else structure.hessian(node, leaves[0], with_grad=True,
                                                             s=s)
            if found is not None:
                return value, found[0], found[1]
            gradient = _leaf_cotangents(leaves, node, np.ones(shape_of(value)))[0]
        else:
            gradient = _leaf_cotangents(leaves, node, np.ones(shape_of(value)))[0]

        def hess():
            found = None if node is None else structure.hessian(node, leaves[0])
            return found if found is not None else _jacobian_forward(g, args, kwargs, argnum)

        return value, gradient, (hess if lazy else hess())

    value_grad_and_hessian_fun.__name__ = \
        f"value_grad_and_hessian_{getattr(fun, '__name__', 'f')}"
    return value_grad_and_hessian_fun


def hvp(fun: Callable, *args, argnum: Argnum = 0, argnums: Argnum | None = None):
    """The Hessian-vector product H(x) @ v without forming H (forward over reverse).

    ``hvp(f)(x, v)`` (also ``hvp(f, argnum)(..., v)``: the vector comes last), or directly
    ``hvp(f, x, v)``. ``x`` may be a container; ``v`` then has its structure, as the result.
    """
    if len(args) == 1 and isinstance(args[0], (int, np.integer)) and \
            not isinstance(args[0], bool):
        argnum, args = int(args[0]), ()
    argnum = resolve_argnum(argnum, argnums, "hvp")
    if args:
        if len(args) < 2:
            raise TypeError("hvp(f, x, v) needs the point and the vector (got one argument); "
                            "or build the function first: hvp(f)(x, v).")
        return hvp(fun, argnum=argnum)(*args)
    g = grad(fun, argnum)

    def hvp_fun(*args, **kwargs):
        *fargs, v = args
        _check_argnums(fun, fargs, _argnums(argnum))
        if not isinstance(argnum, int) or _needs_tree(fargs, argnum):
            flat_fun, vector, treedef = _flat_problem(fun, fargs, kwargs, argnum)
            vdef = pytree.tree_structure(v) if isinstance(argnum, int) else \
                pytree.args_structure(tuple(v))
            if vdef != treedef:
                raise ValueError(f"hvp: the vector has the structure {vdef!r} but x "
                                 f"{treedef!r}; they must match.")
            parts = [v] if isinstance(argnum, int) else list(v)
            vflat = pytree.ravel_leaves([leaf for part in parts for leaf in pytree.leaves_of(part)])
            return treedef.unflatten(hvp(flat_fun)(vector, vflat))
        v = as_float(v)
        x = fargs[argnum]
        if shape_of(v) != shape_of(x):
            raise ValueError(f"hvp: the vector has shape {shape_of(v)} but x has shape "
                             f"{shape_of(x)}.")
        _, tangent = _forward(g, fargs, kwargs, (argnum,), [v[None]])
        return fresh(tangent[0])

    hvp_fun.__name__ = f"hvp_{getattr(fun, '__name__', 'f')}"
    return hvp_fun
