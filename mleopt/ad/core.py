"""The tracer at the heart of mleopt.ad.

A *primitive* is a plain numpy function plus derivative rules (see rules.py). Calling a
primitive on traced values records what is needed to differentiate it:

* reverse mode (``Tensor``): the node remembers the primitive, its arguments and its parents;
  ``backward`` walks the graph from the output in reverse topological order and applies each
  primitive's vector-Jacobian rule ``vjp(g, ans, *args)``;
* forward mode (``Dual``): the tangent is pushed along immediately with each primitive's
  Jacobian-vector rule ``jvp(t, ans, *args)``. Tangents carry a leading *batch* axis, so many
  directions travel through one pass (this is how ``hessian`` and ``jacobian`` stay fast).

Every trace has a level; nested transforms (``grad(grad(f))``, forward-over-reverse Hessians)
get increasing levels and a primitive unwraps only the highest level present, then calls
itself again on the unwrapped values. Because the rules are written with the same primitives,
derivatives of derivatives come for free.

This module is the bottom layer: it imports nothing of mleopt. The layers above register
what the tracer calls (``register_namespace``): primitives.py its primitives (the operators
of traced values), mleopt.numpy the array methods and numpy's ``__array_function__``
dispatch, mleopt.special and mleopt.stats the twins named in errors for scipy's functions.
"""
from __future__ import annotations

import functools
import itertools
import math
import sys
from heapq import heappop, heappush
from sys import getrefcount
from typing import Any, Callable

import numpy as np

_level_counter = itertools.count(1)
_node_counter = itertools.count()  # creation order of reverse-mode nodes
EAGER_LEVEL = 0  # the level of tensor(..., requires_grad=True): below every functional trace


def new_level() -> int:
    """A fresh trace level, higher than every level made before."""
    return next(_level_counter)


class TraceError(TypeError):
    """An operation would silently drop a derivative."""


class ComplexNumberError(TypeError):
    """A complex number reached a primitive: mleopt.ad differentiates real functions only."""


_ndarray = np.ndarray
_FLOAT64 = np.dtype(np.float64)
# argument types that cannot hold a complex number: skipped with one set lookup
_NEVER_COMPLEX = frozenset({float, int, bool, np.float64, np.float32, np.int64, np.int32,
                            np.bool_, str, tuple, slice, type(None), type(Ellipsis)})


def _is_complex(a) -> bool:
    """Is ``a`` (not traced) complex: a complex array or number, or a list holding one?"""
    if type(a) is np.ndarray or isinstance(a, np.generic):
        return a.dtype.kind == "c"
    if isinstance(a, complex):
        return True
    if type(a) is list:
        return any(_is_complex(item) for item in a)
    return False


def _holds_traced(seq) -> bool:
    """Does a list or tuple hold a traced value (at any depth)? (A loop: it runs on the
    shape tuples of every reshape, so it must cost little.)"""
    for item in seq:
        kind = type(item)
        if kind is int or kind is slice:
            continue
        if isinstance(item, Traced) or ((kind is list or kind is tuple) and _holds_traced(item)):
            return True
    return False


def _stacked(prim, args: tuple) -> list:
    """The arguments with each list or tuple that holds traced values made one traced array
    (numpy's array_like: ``np.exp([x, 2 * x])``), by mleopt.numpy.array (a stack)."""
    if prim.name in ("getitem", "untake"):
        raise TraceError("an index holds a traced value: indices are integers or booleans "
                         "and carry no derivative; index with stop_gradient(i) (or a plain "
                         "number) instead.")
    return [as_array(a) for a in args]


def as_array(x):
    """x, or when it is a list or tuple holding traced values, one traced array made by
    mleopt.numpy.array (a stack): numpy's array_like, for the functions built above the
    primitives (linalg, scipy.special, scipy.stats, einsum) that read shapes first."""
    if type(x) in (list, tuple) and _holds_traced(x):
        return _namespace("numpy").array(x)
    return x


def array_like_args(fun: Callable) -> Callable:
    """``fun`` with each positional argument passed through as_array."""
    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        return fun(*[as_array(a) for a in args], **kwargs)
    return wrapped


def _position(args: tuple, a) -> int:
    return next(i for i, b in enumerate(args) if b is a)


def complex_error(function: str, argnum: int | None = None) -> ComplexNumberError:
    where = "" if argnum is None else f" (argument {argnum})"
    return ComplexNumberError(
        f"{function} received a complex number{where}: complex numbers are not "
        "supported by mleopt.ad and mleopt.numpy (their values and derivatives would be "
        "wrong). Work with real and imaginary parts as separate real arrays.")


class Traced:
    """Common base of traced values: holds the value and the level; numpy-like operators."""

    __slots__ = ("_value", "_level")
    __array_priority__ = 1000.0

    # --- read-only array attributes (shapes and dtypes: the same at every point, so reading
    # them is no escape of the value; see _WATCHED) ---------------------------------------
    @property
    def shape(self) -> tuple:
        value = self._value
        return value.shape if hasattr(value, "shape") else np.shape(value)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def dtype(self):
        return np.result_type(self._value)

    def __len__(self) -> int:
        return len(self._value)     # (a shape, not a value: unchanged on replay)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        return bool(_value_of(self))    # (a decision on the value: noted, see _WATCHED)

    # --- conversions that would lose the derivative -----------------------------------
    def __array__(self, dtype=None, copy=None):
        hint = _library_hint()
        if hint:
            raise TraceError(hint)
        raise TraceError(
            f"a traced value of shape {self.shape} was converted to a plain numpy array "
            "(np.asarray / np.array, a function of plain numpy, or assignment into a numpy "
            "array); its derivative would be lost. Use the functions of mleopt.numpy "
            "(import mleopt.numpy as np) and build arrays with np.stack / np.concatenate / "
            "np.where instead of assigning into them. To detach on purpose, use "
            "mleopt.ad.stop_gradient(x).")

    def _eager(self) -> bool:
        """A PyTorch-style tensor (tensor(...)), outside every functional trace: converting
        it to plain numbers is the user's choice, as in PyTorch (its graph stays usable)."""
        return self._level == EAGER_LEVEL and not isinstance(self._value, Traced)

    def __float__(self) -> float:
        _note_escape(self)
        if self._eager():
            if self.size != 1:
                raise TypeError(f"float() of a tensor of shape {self.shape}: only a tensor "
                                "holding one number converts to float.")
            return float(np.asarray(self._value).reshape(()))
        if self.size != 1:
            raise TraceError(
                f"float() of a traced value of shape {self.shape}: only a single number "
                "converts to float, and the conversion would drop its derivative; keep "
                "computing with mleopt.numpy, or use stop_gradient(x) to detach on purpose.")
        raise TraceError(
            "float() of a traced value would drop its derivative (numpy calls it when a "
            "traced value is assigned into a plain array: build such arrays with "
            "np.stack / np.concatenate / np.where of mleopt.numpy instead); keep computing "
            "with mleopt.numpy (comparisons like x > 0 work for control flow), or call "
            "x.item() / stop_gradient(x) to detach on purpose.")

    def __int__(self) -> int:
        _note_escape(self)
        if self._eager() and self.size == 1:
            return int(np.asarray(self._value).reshape(()))
        raise TraceError("int() of a traced value would drop its derivative; use "
                         "stop_gradient(x) to detach on purpose.")

    __index__ = __int__
    __complex__ = __float__

    def __setitem__(self, key, value):
        raise TraceError(
            "in-place assignment into a traced array (x[...] = v) is not supported: it "
            "would break the derivative. Build the array instead, e.g. with "
            "mleopt.numpy.where, concatenate or stack.")

    def item(self) -> Any:
        """The value as a Python number, detached from the trace (explicit)."""
        return stop_gradient(self).item()

    def __format__(self, spec: str) -> str:
        """Formatting prints the value (``f"{loss:.3f}"``); nothing is computed from it."""
        value = _value_of(self)
        if spec and np.size(value) == 1:
            return format(np.asarray(value).item(), spec)
        return format(value, spec) if spec else repr(self)

    def tolist(self):
        """The value as (nested lists of) Python numbers: for PyTorch-style tensors; inside
        a functional trace it would drop the derivative and is refused."""
        _note_escape(self)
        if not self._eager():
            raise TraceError("tolist() of a traced value would drop its derivative; keep "
                             "computing with mleopt.numpy, or call stop_gradient(x).tolist() "
                             "to detach on purpose.")
        return np.asarray(self._value).tolist()

    def copy(self):
        """A copy that stays in the trace (its derivative flows through, as np.copy's)."""
        return _p().reshape(self, self.shape)

    # --- numpy interoperability: dispatch to the differentiable version, or refuse ------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = f"numpy.{ufunc.__name__}"
        if kwargs.get("out") is not None:
            raise TraceError(f"{name}(..., out=...) would write a traced value into a plain "
                             "array and lose its derivative; drop out= and use the result.")
        if method != "__call__":
            raise TraceError(f"{name}.{method} on a traced value is not supported; use the "
                             "reductions of mleopt.numpy (np.sum, np.max, np.cumsum, ...).")
        prim = _p().UFUNCS.get(ufunc.__name__)  # (scipy.special.expm1 / log1p land here too)
        if prim is None and _ufunc_library(ufunc) == "numpy":  # composed in mleopt.numpy
            ours = getattr(_REGISTERED.get("numpy"), ufunc.__name__, None)
            prim = ours if callable(ours) and ours is not ufunc else None
        if prim is None:
            library = _ufunc_library(ufunc)
            if library != "numpy":
                raise TraceError(_twin_message(f"{library}.{ufunc.__name__}", library,
                                               ufunc.__name__))
            raise TraceError(_library_hint() or (
                f"{name} was called on a traced value and has no derivative "
                "rule in mleopt; use the functions of mleopt.numpy "
                "(import mleopt.numpy as np)."))
        kwargs.pop("out", None)
        return prim(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        mnp = _namespace("numpy")
        module = getattr(func, "__module__", "numpy") or "numpy"
        namespace = {"numpy": mnp, "numpy.linalg": mnp.linalg}.get(module)
        ours = getattr(namespace, func.__name__, None) if namespace is not None else None
        if ours is None or ours is func or not callable(ours):
            raise TraceError(_library_hint() or (
                f"{module}.{func.__name__} was called on a traced value and has no "
                "differentiable version in mleopt.numpy; rewrite it with supported "
                "functions (see mleopt.numpy)."))
        return ours(*args, **kwargs)

    # --- operators ------------------------------------------------------------------------
    def __neg__(self):
        return _p().negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _p().absolute(self)

    def __add__(self, other):
        return _p().add(self, other)

    def __radd__(self, other):
        return _p().add(other, self)

    def __sub__(self, other):
        return _p().subtract(self, other)

    def __rsub__(self, other):
        return _p().subtract(other, self)

    def __mul__(self, other):
        return _p().multiply(self, other)

    def __rmul__(self, other):
        return _p().multiply(other, self)

    def __truediv__(self, other):
        return _p().true_divide(self, other)

    def __rtruediv__(self, other):
        return _p().true_divide(other, self)

    def __mod__(self, other):
        return _p().remainder(self, other)

    def __rmod__(self, other):
        return _p().remainder(other, self)

    def __floordiv__(self, other):
        return _p().floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _p().floor_divide(other, self)

    def __divmod__(self, other):
        return self // other, self % other

    def __rdivmod__(self, other):
        return other // self, other % self

    def __pow__(self, other):
        return _p().power(self, other)

    def __rpow__(self, other):
        return _p().power(other, self)

    def __matmul__(self, other):
        return _p().matmul(self, other)

    def __rmatmul__(self, other):
        return _p().matmul(other, self)

    def __getitem__(self, index):
        return _p().getitem(self, index)

    def __lt__(self, other):
        return _value_of(self) < _value_of(other)

    def __le__(self, other):
        return _value_of(self) <= _value_of(other)

    def __gt__(self, other):
        return _value_of(self) > _value_of(other)

    def __ge__(self, other):
        return _value_of(self) >= _value_of(other)

    def __eq__(self, other):
        return _value_of(self) == _value_of(other)

    def __ne__(self, other):
        return _value_of(self) != _value_of(other)

    __hash__ = object.__hash__

    # --- array methods (the differentiable versions) ---------------------------------------
    @property
    def T(self):
        return _p().transpose(self)

    def transpose(self, *axes):
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        return _p().transpose(self, axes or None)

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return _p().reshape(self, tuple(shape), order=order)

    def ravel(self):
        return _p().reshape(self, (-1,))

    flatten = ravel

    def squeeze(self, axis=None):
        mnp = _namespace("numpy")
        return mnp.squeeze(self, axis)

    def sum(self, axis=None, keepdims=False):
        return _p().sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        mnp = _namespace("numpy")
        return mnp.mean(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, ddof=0, keepdims=False):
        mnp = _namespace("numpy")
        return mnp.var(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def std(self, axis=None, ddof=0, keepdims=False):
        mnp = _namespace("numpy")
        return mnp.std(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def prod(self, axis=None, keepdims=False):
        return _p().prod(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return _p().amax(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return _p().amin(self, axis=axis, keepdims=keepdims)

    def cumsum(self, axis=None):
        return _p().cumsum(self, axis=axis)

    def dot(self, other):
        mnp = _namespace("numpy")
        return mnp.dot(self, other)

    def clip(self, a_min=None, a_max=None):
        mnp = _namespace("numpy")
        return mnp.clip(self, a_min, a_max)

    def astype(self, dtype):
        if not np.issubdtype(np.dtype(dtype), np.floating):
            raise TraceError(f"astype({np.dtype(dtype)}) of a traced value would drop its "
                             "derivative; only floating dtypes are allowed.")
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({_value_of(self)!r})"     # (prints the value: noted)


# Libraries whose functions users may call on traced values by mistake; the mleopt
# namespaces with their differentiable versions register under the library's name
_TWINS = ("scipy.special", "scipy.stats")


def _ufunc_library(ufunc) -> str:
    """The public module a ufunc belongs to: "numpy", or "scipy.special" for its ufuncs."""
    special = sys.modules.get("scipy.special")
    if (special is not None and getattr(special, ufunc.__name__, None) is ufunc
            and getattr(np, ufunc.__name__, None) is not ufunc):
        return "scipy.special"
    return "numpy"


def _twin_message(called: str, library: str, name: str, attribute: str = "") -> str:
    """"scipy.special.gammaln was called on a traced value; use mleopt.special.gammaln"."""
    namespace = _PROVIDERS[library]
    twin = getattr(_namespace(library), name, None)
    if twin is not None and attribute:
        twin = getattr(twin, attribute, None)
    head = (f"{called} was called on a traced value: {library} works on plain numbers and "
            "would lose the derivative.")
    if twin is None:
        return (f"{head} {namespace} has no differentiable version of it; write it with "
                f"the functions of {namespace} and mleopt.numpy.")
    dotted = f"{name}.{attribute}" if attribute else name
    return (f"{head} Use the differentiable {namespace}.{dotted} instead "
            f"(from {namespace} import {name}), with scipy's argument names.")


def _library_hint() -> str | None:
    """If the current call came through scipy.special or scipy.stats, the message that
    names the function called there and its twin in mleopt (None otherwise). Only used on
    error paths: it walks the Python call stack."""
    frame = sys._getframe(1)
    found = None  # (library, frame) of the outermost frame inside the library
    # the frames just above this one, as long as they are numpy's, scipy's or ours: the
    # call came through scipy.special / scipy.stats if one of them is in that run
    while frame is not None:
        module = frame.f_globals.get("__name__", "") or ""
        if not (module == __name__ or module.startswith(("numpy", "scipy"))):
            break
        library = next((lib for lib in _TWINS
                        if module == lib or module.startswith(lib + ".")), None)
        if library is not None:
            found = (library, frame)
        frame = frame.f_back
    if found is None:
        return None
    library, frame = found
    function = frame.f_code.co_name
    if library == "scipy.stats":
        owner = frame.f_locals.get("self")
        dist = getattr(owner, "name", None) or getattr(getattr(owner, "dist", None),
                                                        "name", None)
        if not isinstance(dist, str) and owner is not None:   # multivariate_normal, ...
            cls = type(owner).__name__
            dist = cls.removesuffix("_frozen").removesuffix("_gen") if "_" in cls else None
        if isinstance(dist, str):
            return _twin_message(f"scipy.stats.{dist}.{function}", library, dist, function)
    return _twin_message(f"{library}.{function}", library, function)


# The layers built on this module register themselves here, so that the engine imports
# nothing of them (every import arrow points down): primitives.py registers "primitives"
# (the operators of traced values), mleopt/numpy.py registers "numpy" (the array methods
# mean / var / std / squeeze / dot / clip, and __array_function__'s dispatch), and
# mleopt.special / mleopt.stats register as the twins of scipy.special / scipy.stats (named
# in the errors for scipy functions called on traced values). The names of the providers
# are for the messages only.
_REGISTERED: dict[str, Any] = {}
_PROVIDERS = {"primitives": "mleopt.ad.primitives", "numpy": "mleopt.numpy",
              "scipy.special": "mleopt.special", "scipy.stats": "mleopt.stats"}


def register_namespace(name: str, module: Any) -> None:
    """Make ``module`` the one the engine calls for ``name`` ("primitives", "numpy", or
    "scipy.special" / "scipy.stats" for the namespaces that mirror those libraries)."""
    if name not in _PROVIDERS:
        raise ValueError(f"unknown namespace {name!r}; the engine looks up "
                         f"{sorted(_PROVIDERS)}.")
    _REGISTERED[name] = module


def _unregistered(name: str) -> TraceError:
    provider = _PROVIDERS[name]
    return TraceError(
        f"mleopt.ad needs the functions of {provider}, which has not registered them with "
        f"the engine; import {provider} (``import mleopt`` does) before computing with "
        "traced values.")


def _namespace(name: str) -> Any:
    """The module registered for ``name``; a TraceError if none has registered yet."""
    try:
        return _REGISTERED[name]
    except KeyError:
        raise _unregistered(name) from None


def _p():
    """The primitives module (it registers itself: it imports this module)."""
    try:
        return _REGISTERED["primitives"]
    except KeyError:
        raise _unregistered("primitives") from None


# Escapes of values, for replay (mleopt/ad/replay.py). A trace whose values reach plain Python
# or numpy (a comparison, bool(), float(), stop_gradient, a function without a derivative,
# printing, a primitive's numpy floating-point warning or error or exception: _watched_fun)
# may take a decision on them: recorded at one point, its graph need not be the function's
# graph at another, so it must not be replayed there. While a level is *watched*
# (``watch``), every such escape from a value of that level (or of a value nested in it) is
# noted here: ``_WATCHED[level] = True``; a floating-point error or exception (at this point
# only, it may not arise at the next) as ``SIGNAL`` unless a value escaped otherwise. Reading a
# shape, ndim, size or dtype is no escape (``_static``). Each level is touched by its own
# trace only, so threads do not interfere.
SIGNAL = "signal"
_WATCHED: dict[int, bool | str] = {}


def watch(level: int) -> None:
    """Start noting escapes of the values of trace ``level``."""
    _WATCHED[level] = False


def unwatch(level: int) -> bool | str:
    """Stop watching ``level``; True if a value of it escaped while it was watched, SIGNAL
    if only a floating-point error or exception reached Python, else False."""
    return _WATCHED.pop(level)


def _note_signal(level: int) -> None:
    if _WATCHED.get(level) is False:
        _WATCHED[level] = SIGNAL


def _note_escape(x) -> None:
    """The value of traced ``x`` (and of every level nested in it) escapes the trace."""
    while isinstance(x, Traced):
        if x._level in _WATCHED:
            _WATCHED[x._level] = True
        x = x._value


def _watched_fun(prim, vals: list, kwargs: dict, level: int):
    """``prim.fun(*vals, **kwargs)`` on values of the watched trace ``level``. A numpy
    floating-point error the caller does not ignore (a warning, an exception, a call: see
    numpy.errstate) and any exception are signals on the values that reach Python, where the
    function may decide on them (``except``, ``catch_warnings``): noted (``SIGNAL``). After
    such an error the primitive runs again under the caller's own settings (to warn or raise
    as it would)."""
    flagged = []
    modes = {kind: "ignore" if mode == "ignore" else "call"
             for kind, mode in np.geterr().items()}
    try:
        with np.errstate(call=lambda kind, flag: flagged.append(kind), **modes):
            ans = prim.fun(*vals, **kwargs)
    except BaseException:
        _note_signal(level)
        raise
    if flagged:
        _note_signal(level)
        ans = prim.fun(*vals, **kwargs)
    return ans


def _value_of(x):
    """Strip every level of tracing (used for comparisons and explicit detaching): the value
    escapes the trace, which is noted for replay (``_WATCHED``)."""
    if _WATCHED and isinstance(x, Traced):
        _note_escape(x)
    while isinstance(x, Traced):
        x = x._value
    return x


def _static(x):
    """The innermost value of ``x``, to read its shape, ndim, size or dtype only (they do
    not depend on the point): not an escape. Never for reading the numbers themselves."""
    while isinstance(x, Traced):
        x = x._value
    return x


def fresh(result):
    """Derivatives are handed out as arrays of their own: writable, aliasing nothing."""
    if isinstance(result, np.ndarray) and (result.base is not None
                                           or not result.flags.writeable):
        return result.copy()
    return result


def stop_gradient(x):
    """The value of ``x`` with every trace removed: derivatives do not flow through it."""
    return _value_of(x)


# =======================================================================================
# Primitives
# =======================================================================================

class Primitive:
    """A numpy function with derivative rules.

    ``vjp[i](g, ans, *args, **kwargs)`` returns the cotangent of argument ``i`` given the
    output cotangent ``g``; ``jvp[i](t, ans, *args, **kwargs)`` returns the output tangent
    for a *batched* tangent ``t`` (shape ``(B,) + shape(args[i])``) of argument ``i``.
    ``jvp_joint(tangents, ans, *args, **kwargs)`` (optional) receives a list of tangents with
    None for arguments that are not traced, for rules that are cheaper written jointly.
    """

    __slots__ = ("fun", "name", "vjps", "jvps", "jvp_joint", "__wrapped__")

    def __init__(self, fun: Callable, name: str | None = None):
        self.fun = fun
        self.name = name or fun.__name__
        self.vjps: dict[int, Callable] = {}
        self.jvps: dict[int, Callable] = {}
        self.jvp_joint: Callable | None = None
        self.__wrapped__ = fun

    def __call__(self, *args, **kwargs):
        top = -1
        kind = None
        for a in args:
            if isinstance(a, Traced):
                if a._level > top:
                    top = a._level
                    kind = type(a)
            # plain arguments are checked for complex numbers here; traced values were made
            # by primitives, or are leaves whose values were checked when they were made
            # (api.as_float, tensor)
            elif type(a) is _ndarray:  # the common case first: float64 costs one `is`
                if a.dtype is not _FLOAT64 and a.dtype.kind == "c":
                    raise complex_error(self.name, _position(args, a))
            elif type(a) not in _NEVER_COMPLEX:
                if type(a) is list and _holds_traced(a):
                    return self(*_stacked(self, args), **kwargs)
                if _is_complex(a):
                    raise complex_error(self.name, _position(args, a))
            elif type(a) is tuple and a and _holds_traced(a):
                return self(*_stacked(self, args), **kwargs)
        if kind is None:
            return self.fun(*args, **kwargs)
        vals = list(args)
        argnums = []
        nested = False  # another level is still present after unwrapping this one
        for i, a in enumerate(args):
            if isinstance(a, Traced):
                if a._level == top:
                    argnums.append(i)
                    v = vals[i] = a._value
                    nested = nested or isinstance(v, Traced)
                else:
                    nested = True
        if nested:
            ans = self(*vals, **kwargs)
        elif _WATCHED and top in _WATCHED:
            ans = _watched_fun(self, vals, kwargs, top)
        else:
            ans = self.fun(*vals, **kwargs)
        return kind._record(self, ans, args, vals, argnums, kwargs, top)

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"


class NonDifferentiable:
    """A numpy function whose output carries no derivative (comparisons, argmax, ...)."""

    __slots__ = ("fun", "name")

    def __init__(self, fun: Callable, name: str | None = None):
        self.fun = fun
        self.name = name or fun.__name__

    def __call__(self, *args, **kwargs):
        return self.fun(*[_value_of(a) for a in args], **kwargs)


def primitive(fun: Callable) -> Primitive:
    return Primitive(fun)


def defvjp(prim: Primitive, *rules: Callable | None) -> None:
    """Register vector-Jacobian rules for arguments 0, 1, ... (None: not differentiable)."""
    for i, rule in enumerate(rules):
        if rule is not None:
            prim.vjps[i] = rule


def defjvp(prim: Primitive, *rules: Callable | None) -> None:
    """Register batched Jacobian-vector rules for arguments 0, 1, ..."""
    for i, rule in enumerate(rules):
        if rule is not None:
            prim.jvps[i] = rule


def _missing_rule(prim: Primitive, argnum: int, mode: str) -> TraceError:
    return TraceError(
        f"{prim.name} has no {mode} derivative rule for argument {argnum}; it cannot be "
        "differentiated with respect to that argument. Treat it as a constant "
        "(stop_gradient) or rewrite the computation.")


# =======================================================================================
# Reverse mode
# =======================================================================================

class Tensor(Traced):
    """A value traced for reverse-mode differentiation (also the PyTorch-like eager tensor).

    Inside ``grad``/``jacobian`` every intermediate result is a Tensor. Created directly with
    ``tensor(data, requires_grad=True)``, it records operations eagerly and
    ``y.backward()`` accumulates into ``x.grad``.
    """

    __slots__ = ("_prim", "_args", "_kwargs", "_parents", "_argnums", "_seq",
                 "requires_grad", "grad", "__weakref__")

    def __init__(self, value, level: int = EAGER_LEVEL, requires_grad: bool = True):
        self._value = value
        self._level = level
        self._prim = None
        self._args = ()
        self._kwargs = None
        self._parents = ()
        self._argnums = ()
        self._seq = next(_node_counter)
        self.requires_grad = requires_grad
        self.grad = None

    @classmethod
    def _record(cls, prim, ans, args, vals, argnums, kwargs, level):
        for i in argnums:
            if i not in prim.vjps:
                raise _missing_rule(prim, i, "reverse-mode")
        out = cls.__new__(cls)
        out._value = ans
        out._level = level
        out._prim = prim
        out._args = vals
        out._kwargs = kwargs
        out._parents = parents = [args[i] for i in argnums]
        out._argnums = argnums
        out._seq = next(_node_counter)
        # eager tensors record a result that requires grad only if an input does
        out.requires_grad = level != EAGER_LEVEL or any(
            parent.requires_grad for parent in parents)
        out.grad = None
        return out

    # --- the PyTorch-like interface -------------------------------------------------------
    def backward(self, gradient=None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``create_graph=True`` records the backward pass itself: ``leaf.grad`` is then a
        tensor of the leaves, to be differentiated again (``x.grad.backward()``: set
        ``x.grad = None`` first to get the second derivative alone, as in PyTorch)."""
        if not self.requires_grad:
            raise TraceError("backward() on a tensor that does not require grad: create its "
                             "inputs with tensor(..., requires_grad=True).")
        if gradient is None:
            if self.size != 1:
                raise TraceError(
                    f"backward() without a gradient needs a single-number output, got shape "
                    f"{self.shape}; pass gradient= of that shape, or reduce with .sum().")
            gradient = np.ones(self.shape)
        else:
            gradient = _checked_gradient(gradient, self.shape)
        if self._level != EAGER_LEVEL:
            raise TraceError("backward() inside grad/jacobian/...: a functional trace is "
                             "differentiated by the transform itself; call backward() on "
                             "tensors made with tensor(..., requires_grad=True).")
        cotangents = backward_pass(self, gradient, _recorded(self) if create_graph else None)
        for node, g in cotangents.items():
            if node._prim is None and node.requires_grad:
                g = fresh(g)  # .grad is the user's to modify, like PyTorch's
                node.grad = g if node.grad is None else node.grad + g

    def zero_grad(self) -> None:
        self.grad = None

    @property
    def data(self):
        """The value itself (not a copy; PyTorch's ``.data``)."""
        _note_escape(self)
        return self._value

    @data.setter
    def data(self, value) -> None:
        """Replace a leaf's value outside the graph, as PyTorch's ``w.data -= lr * w.grad``
        (the shape must stay). As in PyTorch, ``-=`` changes the array in place, which graphs
        recorded before hold too: backward them before the step."""
        if self._prim is not None or not self._eager():
            raise TraceError("only the .data of a leaf tensor (made with tensor(...)) can be "
                             "assigned; the value of a computed tensor comes from its inputs.")
        new = np.array(value, dtype=np.float64)
        if new.shape != self.shape:
            raise ValueError(f"the new .data has shape {new.shape} but the tensor has shape "
                             f"{self.shape}.")
        self._value = new

    def detach(self):
        """The same values without derivative tracking: a tensor that does not require grad
        (PyTorch); inside a functional trace, the plain value (stop_gradient)."""
        if self._eager():
            return Tensor(self._value, EAGER_LEVEL, requires_grad=False)
        return _value_of(self)

    def numpy(self):
        """The value as a numpy array (a copy). Refused inside a functional trace, where it
        would drop the derivative (use stop_gradient to detach on purpose)."""
        _note_escape(self)
        if not self._eager():
            raise TraceError("numpy() of a traced value would drop its derivative; keep "
                             "computing with mleopt.numpy, or call stop_gradient(x) to detach "
                             "on purpose.")
        return np.array(self._value, dtype=np.float64, copy=True)

    @property
    def is_leaf(self) -> bool:
        return self._prim is None

    def __repr__(self) -> str:
        extra = ", requires_grad=True" if self.requires_grad and self._prim is None else ""
        return f"tensor({_value_of(self)!r}{extra})"


def _checked_gradient(gradient, shape: tuple):
    """backward()'s ``gradient``: of the output's shape (a number for a one-number output),
    never broadcast (PyTorch refuses a mismatch too)."""
    if not isinstance(gradient, Traced):
        gradient = np.asarray(gradient, dtype=np.float64)
        if gradient.ndim == 0 and math.prod(shape) == 1:
            gradient = gradient.reshape(shape)
    if tuple(gradient.shape) != tuple(shape):
        raise ValueError(f"backward(gradient): the gradient has shape {tuple(gradient.shape)} "
                         f"but the tensor has shape {tuple(shape)}; they must match.")
    return gradient


def _recorded(end: Tensor) -> dict:
    """``lifted`` for backward_pass that applies every rule to the recorded tensors
    themselves (the node as its answer, its parents as its arguments): the cotangents are
    then tensors, recorded in turn (backward(create_graph=True))."""
    lifted = {}
    for node in ancestors(end):
        if node._prim is not None:
            args = list(node._args)
            for i, parent in zip(node._argnums, node._parents):
                args[i] = parent
            lifted[node._seq] = (node, args)
    return lifted


def backward_pass(end: Tensor, g, lifted: dict | None = None, more: tuple = ()) -> dict:
    """Propagate cotangent ``g`` from ``end`` (and each (node, cotangent) of ``more``: one
    pass for the sum of several outputs' pullbacks); returns {leaf: cotangent} for the
    leaves.

    Nodes are numbered in creation order and a node is always created after its inputs, so
    visiting the reachable nodes from the highest number down (a heap) is a reverse
    topological order: every node has its complete cotangent when its turn comes.

    ``lifted`` ({seq: (answer, arguments)}, see structure.py) applies the rules at other
    values than the recorded ones (forward-mode copies: forward-over-reverse on a recorded
    graph); the nodes not in it are then the leaves.
    """
    add = _p().add
    cot = {end._seq: g}
    heap = [(-end._seq, end)]
    for node, g in more:
        prev = cot.get(node._seq)
        if prev is None:
            cot[node._seq] = g
            heappush(heap, (-node._seq, node))
        else:
            cot[node._seq] = add(prev, g)
    leaves = {}
    while heap:
        node = heappop(heap)[1]
        g = cot.pop(node._seq)
        prim = node._prim
        if lifted is None:
            if prim is None:
                leaves[node] = g
                continue
            ans, args = node._value, node._args
        else:
            entry = lifted.get(node._seq)
            if entry is None:
                leaves[node] = g
                continue
            ans, args = entry
        kwargs, vjps = node._kwargs, prim.vjps
        for argnum, parent in zip(node._argnums, node._parents):
            gp = vjps[argnum](g, ans, *args, **kwargs)
            seq = parent._seq
            prev = cot.get(seq)
            if prev is None:
                cot[seq] = gp
                heappush(heap, (-seq, parent))
            elif getrefcount(prev) <= _SOLE_OWNER and _accumulable(prev, gp):
                np.add(prev, gp, out=prev)  # prev is ours alone: see _accumulable
            else:
                cot[seq] = add(prev, gp)
    return leaves


def _accumulable(prev, gp) -> bool:
    """May the accumulated cotangent ``prev`` be updated in place with ``gp``?

    The caller has checked that nothing but the cotangent dict refers to ``prev`` (its
    reference count is that of an array held by the dict alone, measured at import), so no
    node value, user array, view or other cotangent shares it; it must also be a plain,
    writable float64 array of gp's shape. This saves an allocation for every variable that
    is used more than once.
    """
    return (type(prev) is np.ndarray and type(gp) is np.ndarray and prev.base is None
            and prev.dtype == np.float64 and prev.shape == gp.shape
            and prev.flags.writeable)


def _sole_owner_count() -> int:
    """getrefcount of an array held only by a dict, seen through a local variable, as in
    backward_pass (measured, since the count differs between Python versions)."""
    cot = {0: np.empty(1)}
    prev = cot.get(0)
    return getrefcount(prev)


_SOLE_OWNER = _sole_owner_count()


# =======================================================================================
# Forward mode
# =======================================================================================

class Dual(Traced):
    """A value traced for forward mode: carries a batch of tangents, shape (B,) + shape.

    Tangents are computed lazily, the first time someone asks for them: a forward-over-
    reverse Hessian then never pays for the tangents of intermediate values that the
    gradient does not use (the log-likelihood's own value, for instance).
    """

    __slots__ = ("_tangent", "_recipe")

    def __init__(self, value, tangent, level: int):
        self._value = value
        self._tangent = tangent
        self._recipe = None
        self._level = level

    @classmethod
    def _record(cls, prim, ans, args, vals, argnums, kwargs, level):
        if prim.jvp_joint is None:
            for i in argnums:
                if i not in prim.jvps:
                    raise _missing_rule(prim, i, "forward-mode")
        out = cls.__new__(cls)
        out._value = ans
        out._level = level
        out._tangent = None
        out._recipe = (prim, args, vals, argnums, kwargs)
        return out

    @property
    def tangent(self):
        """The batch of tangents, shape (B,) + shape (computed on first access)."""
        if self._tangent is None:
            _materialize(self)
        return self._tangent


def _pending_parents(node: Dual):
    prim, args, vals, argnums, kwargs = node._recipe
    return [args[i] for i in argnums if args[i]._tangent is None]


def _materialize(end: Dual) -> None:
    """Compute the tangents of end and of the ancestors it needs, parents first."""
    order = []
    stack = [(end, False)]
    visited = set()
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node._tangent is not None or id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        stack.extend((parent, False) for parent in _pending_parents(node))
    for node in order:
        node._tangent = _push_tangent(node)
        node._recipe = None  # free the arguments once the tangent exists


def _push_tangent(node: Dual):
    prim, args, vals, argnums, kwargs = node._recipe
    tangents = [None] * len(args)
    for i in argnums:
        tangents[i] = args[i]._tangent
    return apply_jvp(prim, tangents, argnums, node._value, vals, kwargs)


def apply_jvp(prim: Primitive, tangents: list, argnums, ans, vals, kwargs):
    """The output tangent of one primitive call from its inputs' batched tangents (None for
    arguments that carry none), broadcast to (B,) + shape(ans)."""
    if prim.jvp_joint is not None:
        t = prim.jvp_joint(tangents, ans, *vals, **kwargs)
    else:
        t = None
        for i in argnums:
            if tangents[i] is None:
                continue
            rule = prim.jvps.get(i)
            if rule is None:
                raise _missing_rule(prim, i, "forward-mode")
            ti = rule(tangents[i], ans, *vals, **kwargs)
            t = ti if t is None else t + ti
    batch = next(tangents[i] for i in argnums if tangents[i] is not None).shape[0]
    want = (batch,) + (ans.shape if isinstance(ans, Traced) else np.shape(ans))
    if t.shape != want:
        broadcast_to, reshape = _p().broadcast_to, _p().reshape
        if t.ndim < len(want):
            t = reshape(t, (batch,) + (1,) * (len(want) - t.ndim) + t.shape[1:])
        t = broadcast_to(t, want)
    return t


def ancestors(end: Tensor) -> list:
    """The recorded nodes ``end`` depends on (itself included), in creation order."""
    nodes = {}
    stack = [end]
    while stack:
        node = stack.pop()
        if node._seq not in nodes:
            nodes[node._seq] = node
            stack.extend(node._parents)
    return [nodes[s] for s in sorted(nodes)]


def forward_sweep(end: Tensor, leaf: Tensor, seed):
    """Forward mode over an already recorded reverse-mode graph: the batched tangent of
    ``end`` when ``leaf`` moves along ``seed`` (shape (B,) + shape(leaf)), or None if end
    does not depend on leaf. Nodes are visited in creation order, so each node's inputs
    have their tangents before it; the function is not evaluated again."""
    return forward_tangents(ancestors(end), leaf, seed).get(end._seq)


def forward_tangents(nodes: list, leaf: Tensor, seed) -> dict:
    """The batched tangents (seq -> tangent) of the recorded ``nodes`` (in creation order,
    each one's traced parents among them or ``leaf``) when ``leaf`` moves along ``seed``;
    nodes that do not depend on leaf have none."""
    tangents = {leaf._seq: seed}
    for node in nodes:
        if node._prim is None:
            continue
        ts = [tangents.get(parent._seq) for parent in node._parents]
        if all(t is None for t in ts):
            continue
        full = [None] * len(node._args)
        for i, t in zip(node._argnums, ts):
            full[i] = t
        argnums = [i for i, t in zip(node._argnums, ts) if t is not None]
        tangents[node._seq] = apply_jvp(node._prim, full, argnums, node._value, node._args,
                                        node._kwargs)
    return tangents
