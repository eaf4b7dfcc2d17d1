"""Containers of arrays ("pytrees"): dicts, lists, tuples and nested mixes of them, with arrays
and numbers as leaves.

One mechanism serves every transform: ``flatten(tree) -> (vector, unflatten)`` lays the leaves
end to end in one float64 vector, and ``unflatten(vector)`` rebuilds the same structure. Both
are written with the primitives, so they are differentiable: a function of a container is
differentiated as the function of one vector, ``f(unflatten(v))``, and the derivative is
unflattened back into the structure (autograd's and JAX's semantics).

Conventions (those of autograd and JAX): dict entries in sorted key order (insertion order
if the keys do not sort); a list or tuple holding only numbers (or nested lists of numbers
of a regular shape) is an array, as numpy reads array_like; one that holds an array, a
traced value or a container, or ragged lists, is a container. A leaf that was a Python number comes back as a numpy float.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from . import primitives as p
from .core import Traced, complex_error

_CONTAINERS = (dict, list, tuple)


def is_container(x) -> bool:
    """Is ``x`` a container of arrays (not an array_like of numbers)?"""
    if isinstance(x, dict):
        return True
    if isinstance(x, (list, tuple)):
        return len(x) == 0 or any(isinstance(item, (np.ndarray, Traced, dict)) or is_container(item)
                                  for item in x) or _ragged(x)
    return False


def _ragged(x: list | tuple) -> bool:
    """Nested lists of numbers that numpy cannot read as one array (``[[1.0], 2.0]``)."""
    if not any(isinstance(item, (list, tuple)) for item in x):
        return False
    try:
        np.asarray(x, dtype=np.float64)
    except (ValueError, TypeError):
        return True
    return False


def _keys(d: dict) -> list:
    try:
        return sorted(d)
    except TypeError:
        return list(d)


class TreeDef:
    """The structure of a container: how to rebuild it from its leaves' shapes."""

    __slots__ = ("kind", "meta", "children", "order", "shapes", "sizes", "scalars", "paths")

    def __init__(self, kind: str, meta: Any, children: list, order: list | None = None):
        # meta: a dict's keys in flattening order (order: its insertion order, rebuilt so),
        # a namedtuple's type, a leaf's (shape, was a Python number)
        self.kind, self.meta, self.children, self.order = kind, meta, children, order
        self.shapes: list[tuple] = []
        self.scalars: list[bool] = []   # leaves that were Python numbers
        self.paths: list[str] = []      # "beta", "layers[0].W", ...
        self._collect(self, "")
        self.sizes = [math.prod(s) for s in self.shapes]

    def _collect(self, node: "TreeDef", path: str) -> None:
        if node.kind == "leaf":
            shape, scalar = node.meta
            self.shapes.append(shape)
            self.scalars.append(scalar)
            self.paths.append(path)
            return
        for key, child in zip(node._child_keys(), node.children):
            part = f"[{key}]" if node.kind != "dict" else (f".{key}" if path else str(key))
            self._collect(child, path + part)

    def _child_keys(self) -> list:
        return list(self.meta) if self.kind == "dict" else list(range(len(self.children)))

    @property
    def size(self) -> int:
        """Number of numbers in the container."""
        return sum(self.sizes)

    def __eq__(self, other) -> bool:
        return isinstance(other, TreeDef) and self._signature() == other._signature()

    def __hash__(self) -> int:
        return hash(repr(self._signature()))

    def _signature(self):
        if self.kind == "leaf":
            return ("leaf", self.meta[0])
        meta = tuple(self.meta) if self.kind == "dict" else self.meta
        return (self.kind, meta, tuple(c._signature() for c in self.children))

    def __repr__(self) -> str:
        leaves = ", ".join(f"{path or 'x'}: {shape}" for path, shape in zip(self.paths, self.shapes))
        return f"TreeDef({self.kind}: {leaves})"

    def names(self) -> list[str]:
        """One name per number: ``beta[0]``, ``W[1,2]``, ``log_sigma`` (a scalar leaf)."""
        out = []
        for path, shape in zip(self.paths, self.shapes):
            path = path or "x"
            if not shape:
                out.append(path)
            else:
                out.extend(f"{path}[{','.join(map(str, i))}]" for i in np.ndindex(*shape))
        return out

    # --- rebuilding ------------------------------------------------------------------------
    def build(self, leaves: list):
        """The container with these leaves (in flattening order)."""
        it = iter(leaves)
        return self._build(it)

    def _build(self, it):
        if self.kind == "leaf":
            return next(it)
        items = [child._build(it) for child in self.children]
        if self.kind == "dict":
            d = dict(zip(self.meta, items))
            return {k: d[k] for k in self.order}
        if self.kind == "list":
            return items
        if self.kind == "namedtuple":
            return self.meta(*items)
        return tuple(items)

    def unflatten(self, vector, lead: tuple = ()):
        """The container from a vector of shape ``lead + (size,)``; each leaf gets shape
        ``lead + leaf shape`` (``lead = ()``: the container itself; differentiable)."""
        shape = tuple(vector.shape) if isinstance(vector, Traced) else np.shape(vector)
        if shape != tuple(lead) + (self.size,):
            raise ValueError(f"unflatten expects a vector of shape {tuple(lead) + (self.size,)} "
                             f"for {self!r}, got shape {shape}.")
        leaves, start = [], 0
        for shape, size, scalar in zip(self.shapes, self.sizes, self.scalars):
            leaves.append(_part(vector, lead, start, size, shape, scalar))
            start += size
        return self.build(leaves)


def _part(vector, lead: tuple, start: int, size: int, shape: tuple, scalar: bool):
    if isinstance(vector, Traced):
        if not lead and not shape:
            return p.getitem(vector, start)
        piece = p.getitem(vector, (Ellipsis, slice(start, start + size)))
        return p.reshape(piece, tuple(lead) + shape)
    if not lead and not shape:
        value = vector[start]
        return np.float64(value) if scalar else np.array(value, dtype=np.float64)
    return np.array(vector[..., start:start + size], dtype=np.float64).reshape(tuple(lead) + shape)


def tree_structure(tree) -> TreeDef:
    """The TreeDef of ``tree``; refuses leaves that are not real numbers, naming where."""
    return _structure(tree, "")


def _structure(tree, path: str, check: bool = True) -> TreeDef:
    """``check=False``: leaves of any type (auxiliary outputs passed through tree_map)."""
    if isinstance(tree, dict):
        keys = _keys(tree)
        return TreeDef("dict", keys, [_structure(tree[k], f"{path}[{k!r}]", check)
                                      for k in keys], list(tree))
    if is_container(tree):
        kind = "namedtuple" if isinstance(tree, tuple) and hasattr(tree, "_fields") else \
            ("list" if isinstance(tree, list) else "tuple")
        meta = type(tree) if kind == "namedtuple" else None
        return TreeDef(kind, meta, [_structure(v, f"{path}[{i}]", check)
                                    for i, v in enumerate(tree)])
    shape = _leaf_shape(tree, path) if check else ()
    return TreeDef("leaf", (shape, _is_number(tree)), [])


def _is_number(x) -> bool:
    """A Python or numpy number (its derivative comes back as a numpy float)."""
    return isinstance(x, (int, float, np.number))


def _leaf_shape(leaf, path: str) -> tuple:
    if isinstance(leaf, Traced):
        return tuple(leaf.shape)
    try:
        arr = np.asarray(leaf)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"the entry {path or 'x'} of the container is not an array: {exc}") from None
    if arr.dtype.kind == "c":
        raise complex_error(f"the entry {path or 'x'} of a container")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"the entry {path or 'x'} of the container is a {type(leaf).__name__} "
                        f"(dtype {arr.dtype}), not an array of real numbers: only dicts, lists "
                        "and tuples of arrays and numbers can be differentiated.")
    return arr.shape


def args_structure(items: tuple) -> TreeDef:
    """The structure of a tuple of arguments (a tuple even when they are plain numbers)."""
    return TreeDef("tuple", None, [_structure(item, f"[{i}]") for i, item in enumerate(items)])


def leaves_of(tree) -> list:
    """The leaves of ``tree`` in flattening order."""
    if isinstance(tree, dict):
        return [leaf for k in _keys(tree) for leaf in leaves_of(tree[k])]
    if is_container(tree):
        return [leaf for item in tree for leaf in leaves_of(item)]
    return [tree]


def flatten(value) -> tuple[Any, Callable]:
    """``(vector, unflatten)``: the leaves of a container end to end in one float64 vector
    (differentiable: traced leaves give a traced vector) and the function that rebuilds the
    container from such a vector (also differentiable). As autograd.misc.flatten."""
    treedef = tree_structure(value)
    return ravel_leaves(leaves_of(value)), treedef.unflatten


def ravel_leaves(leaves: list):
    """The leaves, raveled and concatenated into one vector (with the primitives if traced)."""
    if any(isinstance(leaf, Traced) for leaf in leaves):
        return p.concatenate_args(0, *[p.reshape(leaf, (-1,)) if isinstance(leaf, Traced)
                                       else np.ravel(np.asarray(leaf, dtype=np.float64))
                                       for leaf in leaves])
    if not leaves:
        return np.zeros(0)
    return np.concatenate([np.ravel(np.asarray(leaf, dtype=np.float64)) for leaf in leaves])


def flatten_func(func: Callable, example) -> tuple[Callable, Callable, np.ndarray]:
    """``(flat_func, unflatten, flat_example)`` with ``flat_func(v, *args) =
    flatten(func(unflatten(v), *args))[0]`` (autograd.misc.flatten_func)."""
    flat_example, unflatten = flatten(example)

    def flat_func(vector, *args, **kwargs):
        return flatten(func(unflatten(vector), *args, **kwargs))[0]

    flat_func.__name__ = f"flat_{getattr(func, '__name__', 'func')}"
    return flat_func, unflatten, flat_example


def tree_map(fun: Callable, tree):
    """``fun`` applied to every leaf, in the same structure."""
    return _structure(tree, "", check=False).build([fun(leaf) for leaf in leaves_of(tree)])
