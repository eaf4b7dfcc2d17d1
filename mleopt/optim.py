"""First-order and stochastic optimisers: SGD, Adam, AdamW, RMSprop, Adagrad.

One update rule per optimiser (a function of one array's gradient, value and state), used by
three front ends that therefore give the same numbers:

* PyTorch's style, on mleopt tensors made with ``mleopt.ad.tensor(..., requires_grad=True)``::

      opt = Adam([w, b], lr=1e-2)           # or [{"params": [w], "lr": 0.1}, {"params": [b]}]
      loss.backward(); opt.step(); opt.zero_grad()

* a functional style (optax-like) on nested containers (dict / list / tuple) of arrays::

      opt = chain(clip_grad_norm(1.0), Adam(lr=cosine_lr(1e-2, 100)))
      state = opt.init(params)
      updates, state = opt.update(grads, state, params)
      params = apply_updates(params, updates)

* autograd's ``sgd``, ``rmsprop`` and ``adam`` (autograd.misc.optimizers), same signature and
  defaults: ``adam(grad, init_params, callback=None, num_iters=100, step_size=0.001, ...)``.

The update equations are PyTorch's (torch.optim documentation), with t the 1-based step:

* SGD: ``g += wd p``; ``b = g`` (t = 1) else ``mu b + (1 - dampening) g``;
  ``d = g + mu b`` (Nesterov) or ``b``; ``p -= lr d``.
* Adam: ``g += wd p``; ``m = b1 m + (1 - b1) g``; ``v = b2 v + (1 - b2) g^2``;
  ``p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)``.
* AdamW: ``p *= 1 - lr wd``, then Adam without the ``wd p`` term.
* RMSprop: ``g += wd p``; ``v = alpha v + (1 - alpha) g^2``; ``d = g / (sqrt(v) + eps)``
  (centered: ``v - a^2`` under the root, ``a = alpha a + (1 - alpha) g``); with momentum
  ``b = mu b + d``, ``p -= lr b``; else ``p -= lr d``.
* Adagrad: ``lr_t = lr / (1 + (t - 1) lr_decay)``; ``g += wd p``; ``s += g^2``;
  ``p -= lr_t g / (sqrt(s) + eps)``.

A learning rate is a positive number or a schedule: a function of the number of steps
already taken (0, 1, ...) returning the rate (``step_lr``, ``exponential_lr``, ``cosine_lr``,
``warmup``).
"""
from __future__ import annotations

import difflib
import math
from typing import Any, Callable, Sequence

import numpy as np

from .ad.core import Tensor

__all__ = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Optimizer", "chain",
           "clip_grad_norm", "clip_grad_value", "clip_grad_norm_", "apply_updates",
           "step_lr", "exponential_lr", "cosine_lr", "warmup", "sgd", "rmsprop", "adam",
           "OPTIMIZERS"]


# =======================================================================================
# nested containers (dict / list / tuple of arrays): the "trees" of the functional style
# =======================================================================================

def _flatten(tree) -> tuple[list, Callable]:
    """Leaves of a dict/list/tuple tree (dict keys sorted) and the function that rebuilds it."""
    if isinstance(tree, dict):
        keys = sorted(tree)
        parts = [_flatten(tree[k]) for k in keys]
        sizes = [len(p[0]) for p in parts]

        def rebuild(leaves):
            out, i = {}, 0
            for k, (_, sub), n in zip(keys, parts, sizes):
                out[k] = sub(leaves[i:i + n])
                i += n
            return out
        return [leaf for p in parts for leaf in p[0]], rebuild
    if isinstance(tree, (list, tuple)):
        parts = [_flatten(v) for v in tree]
        sizes = [len(p[0]) for p in parts]
        kind = type(tree)

        def rebuild(leaves):
            out, i = [], 0
            for (_, sub), n in zip(parts, sizes):
                out.append(sub(leaves[i:i + n]))
                i += n
            return kind(out) if kind in (list, tuple) else kind(*out)
        return [leaf for p in parts for leaf in p[0]], rebuild
    return [tree], lambda leaves: leaves[0]


def _leaves(tree, name: str) -> tuple[list[np.ndarray], Callable]:
    leaves, rebuild = _flatten(tree)
    out = []
    for i, leaf in enumerate(leaves):
        if isinstance(leaf, Tensor):
            leaf = leaf._value
        arr = np.asarray(leaf, dtype=float)
        out.append(arr)
    return out, rebuild


def _same_structure(a: list, b: list, what: str) -> None:
    if len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b)):
        raise ValueError(f"{what} do not match the parameters: "
                         f"{[x.shape for x in b]} against {[x.shape for x in a]}.")


def apply_updates(params, updates):
    """``params + updates`` leaf by leaf (new arrays; the inputs are not modified)."""
    p, rebuild = _leaves(params, "params")
    u, _ = _leaves(updates, "updates")
    _same_structure(p, u, "updates")
    return rebuild([a + b for a, b in zip(p, u)])


# =======================================================================================
# learning-rate schedules: functions of the number of steps already taken
# =======================================================================================

def _positive(value, name: str) -> float:
    if callable(value):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number (or a schedule), not {value!r}.")
    return float(value)


def _rate(lr, count: int) -> float:
    value = lr(count) if callable(lr) else lr
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"the learning-rate schedule gave {value!r} at step {count}; it must "
                         "give numbers >= 0.")
    return float(value)


def step_lr(lr: float, step_size: int, gamma: float = 0.1) -> Callable[[int], float]:
    """``lr * gamma ** (count // step_size)`` (torch's StepLR)."""
    lr = _positive(lr, "lr")
    if not (isinstance(step_size, (int, np.integer)) and step_size >= 1):
        raise ValueError(f"step_size must be a positive integer, not {step_size!r}.")
    gamma = _positive(gamma, "gamma")
    return lambda count: lr * gamma ** (count // step_size)


def exponential_lr(lr: float, gamma: float) -> Callable[[int], float]:
    """``lr * gamma ** count`` (torch's ExponentialLR)."""
    lr, gamma = _positive(lr, "lr"), _positive(gamma, "gamma")
    return lambda count: lr * gamma ** count


def cosine_lr(lr: float, t_max: int, eta_min: float = 0.0) -> Callable[[int], float]:
    """``eta_min + (lr - eta_min) (1 + cos(pi count / t_max)) / 2`` (torch's
    CosineAnnealingLR, closed form), held at eta_min from t_max steps on."""
    lr = _positive(lr, "lr")
    if not (isinstance(t_max, (int, np.integer)) and t_max >= 1):
        raise ValueError(f"t_max must be a positive integer, not {t_max!r}.")
    if not 0 <= eta_min < lr:
        raise ValueError(f"eta_min must be in [0, lr), not {eta_min!r}.")
    return lambda count: eta_min + (lr - eta_min) * (
        1 + math.cos(math.pi * min(count, t_max) / t_max)) / 2


def warmup(lr, steps: int, start_factor: float = 1 / 3) -> Callable[[int], float]:
    """Linear warm-up over ``steps`` steps from ``start_factor * lr`` to ``lr`` (torch's
    LinearLR), then ``lr`` (a number, or a schedule counted from the end of the warm-up)."""
    lr = _positive(lr, "lr")
    if not (isinstance(steps, (int, np.integer)) and steps >= 1):
        raise ValueError(f"steps must be a positive integer, not {steps!r}.")
    if not 0 < start_factor <= 1:
        raise ValueError(f"start_factor must be in (0, 1], not {start_factor!r}.")

    def schedule(count):
        if count < steps:
            base = lr(0) if callable(lr) else lr
            return base * (start_factor + (1 - start_factor) * count / steps)
        return lr(count - steps) if callable(lr) else lr
    return schedule


# =======================================================================================
# the update rules: one array at a time
# =======================================================================================

def _sgd_init(p):
    return {"momentum_buffer": None}


def _sgd_step(g, p, s, h, t):
    if h["weight_decay"]:
        g = g + h["weight_decay"] * p
    mu = h["momentum"]
    if mu:
        b = s["momentum_buffer"]
        b = g.copy() if b is None else mu * b + (1 - h["dampening"]) * g
        s = {"momentum_buffer": b}
        g = g + mu * b if h["nesterov"] else b
    return -h["lr"] * g, s


def _adam_init(p):
    return {"exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}


def _adam_step(g, p, s, h, t, decoupled=False):
    lr, b1, b2 = h["lr"], h["betas"][0], h["betas"][1]
    shrink = 0.0
    if h["weight_decay"]:
        if decoupled:
            shrink = -lr * h["weight_decay"] * p
        else:
            g = g + h["weight_decay"] * p
    m = b1 * s["exp_avg"] + (1 - b1) * g
    v = b2 * s["exp_avg_sq"] + (1 - b2) * g * g
    step = lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + h["eps"])
    # AdamW: p (1 - lr wd) - step, written as an update to add to p
    return shrink - step, {"exp_avg": m, "exp_avg_sq": v}


def _adamw_step(g, p, s, h, t):
    return _adam_step(g, p, s, h, t, decoupled=True)


def _rmsprop_init(p):
    return {"square_avg": np.zeros_like(p), "momentum_buffer": np.zeros_like(p),
            "grad_avg": np.zeros_like(p)}


def _rmsprop_step(g, p, s, h, t):
    if h["weight_decay"]:
        g = g + h["weight_decay"] * p
    a = h["alpha"]
    v = a * s["square_avg"] + (1 - a) * g * g
    ga = s["grad_avg"]
    if h["centered"]:
        ga = a * ga + (1 - a) * g
        d = g / (np.sqrt(v - ga * ga) + h["eps"])
    else:
        d = g / (np.sqrt(v) + h["eps"])
    b = s["momentum_buffer"]
    if h["momentum"]:
        b = h["momentum"] * b + d
        d = b
    return -h["lr"] * d, {"square_avg": v, "momentum_buffer": b, "grad_avg": ga}


def _adagrad_init(p, initial_accumulator_value=0.0):
    return {"sum": np.full_like(p, initial_accumulator_value)}


def _adagrad_step(g, p, s, h, t):
    lr = h["lr"] / (1 + (t - 1) * h["lr_decay"])
    if h["weight_decay"]:
        g = g + h["weight_decay"] * p
    total = s["sum"] + g * g
    return -lr * g / (np.sqrt(total) + h["eps"]), {"sum": total}


# =======================================================================================
# the optimiser objects: functional (init / update) and PyTorch style (step / zero_grad)
# =======================================================================================

def _check_options(cls_name: str, given: dict, known: dict) -> None:
    unknown = [k for k in given if k not in known]
    if unknown:
        k = unknown[0]
        close = difflib.get_close_matches(k, list(known), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise TypeError(f"{cls_name} got an unknown option {k!r}.{hint} Its options are "
                        f"{', '.join(known)}.")


class Optimizer:
    """Base of the optimisers: ``defaults`` (options and their default values), ``_init``
    (state of one array) and ``_step`` (update of one array)."""

    defaults: dict = {}
    _init = staticmethod(_sgd_init)
    _step = staticmethod(_sgd_step)

    def __init__(self, params: Any = None, **options: Any):
        _check_options(type(self).__name__, options, self.defaults)
        self.options = self._checked({**self.defaults, **options})
        self.param_groups: list[dict] = []
        self.state: dict = {}
        if params is not None:
            self._set_params(params)

    # --- options -------------------------------------------------------------------
    def _checked(self, h: dict) -> dict:
        name = type(self).__name__
        if h.get("lr") is None:
            raise TypeError(f"{name} needs a learning rate: lr=...")
        h["lr"] = _positive(h["lr"], "lr")
        for key in ("momentum", "weight_decay", "dampening", "lr_decay",
                    "initial_accumulator_value"):
            if key in h and not (np.isfinite(h[key]) and h[key] >= 0):
                raise ValueError(f"{name}: {key} must be a number >= 0, not {h[key]!r}.")
        if "eps" in h and not (np.isfinite(h["eps"]) and h["eps"] >= 0):
            raise ValueError(f"{name}: eps must be a number >= 0, not {h['eps']!r}.")
        if "betas" in h:
            b = tuple(h["betas"])
            if len(b) != 2 or not all(0 <= x < 1 for x in b):
                raise ValueError(f"{name}: betas must be two numbers in [0, 1), not {b!r}.")
            h["betas"] = b
        if "alpha" in h and not 0 <= h["alpha"] < 1:
            raise ValueError(f"{name}: alpha must be in [0, 1), not {h['alpha']!r}.")
        if h.get("nesterov") and (not h["momentum"] or h["dampening"]):
            raise ValueError(f"{name}: nesterov=True needs momentum > 0 and dampening = 0.")
        return h

    def _hyper(self, h: dict, count: int) -> dict:
        return {**h, "lr": _rate(h["lr"], count)}

    # --- functional style ----------------------------------------------------------
    def init(self, params) -> dict:
        """The state for ``params`` (a dict/list/tuple tree of arrays): step count 0 and
        one state per array."""
        leaves, _ = _leaves(params, "params")
        return {"count": 0, "leaves": [self._init_leaf(p) for p in leaves]}

    def _init_leaf(self, p):
        if "initial_accumulator_value" in self.options:
            return self._init(p, self.options["initial_accumulator_value"])
        return self._init(p)

    def update(self, grads, state: dict, params=None) -> tuple[Any, dict]:
        """``(updates, new_state)``: add the updates to the parameters (``apply_updates``).
        ``params`` are needed by weight decay (and are asked for always, as optax's
        transformations that use them do)."""
        if params is None:
            raise TypeError(f"{type(self).__name__}.update needs params (the current "
                            "parameters): update(grads, state, params).")
        g, rebuild = _leaves(grads, "grads")
        p, _ = _leaves(params, "params")
        _same_structure(p, g, "grads")
        if len(state["leaves"]) != len(p):
            raise ValueError("the state was made for other parameters: call init(params).")
        t = state["count"] + 1
        h = self._hyper(self.options, state["count"])
        out = [self._step(gi, pi, si, h, t) for gi, pi, si in zip(g, p, state["leaves"])]
        return rebuild([u for u, _ in out]), {"count": t, "leaves": [s for _, s in out]}

    # --- PyTorch style -------------------------------------------------------------
    def _set_params(self, params) -> None:
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__} takes a list of tensors (or of parameter "
                            "groups), not one tensor: pass [w].")
        params = list(params)
        groups = params if params and all(isinstance(p, dict) for p in params) \
            else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        """Add ``{"params": [tensors], option: value, ...}``; missing options come from the
        optimiser's."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError("a parameter group is a dict with 'params': a list of tensors.")
        options = {k: v for k, v in group.items() if k != "params"}
        _check_options(type(self).__name__, options, self.defaults)
        tensors = group["params"]
        tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
        if not tensors:
            raise ValueError("a parameter group has no parameters.")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(tensors):
            if not isinstance(p, Tensor) or p._prim is not None:
                raise TypeError(f"parameter {i} is a {type(p).__name__}, not an mleopt tensor "
                                "leaf: create it with mleopt.ad.tensor(data, "
                                "requires_grad=True).")
            if not p.requires_grad:
                raise ValueError(f"parameter {i} does not require grad: create it with "
                                 "mleopt.ad.tensor(data, requires_grad=True).")
            if id(p) in seen:
                raise ValueError(f"parameter {i} appears in more than one parameter group.")
            seen.add(id(p))
        self.param_groups.append(
            {"params": tensors, **self._checked({**self.options, **options})})

    def zero_grad(self) -> None:
        """Reset every parameter's ``.grad`` (to None, as PyTorch's default)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self, closure: Callable | None = None):
        """One update of every parameter that has a gradient (``loss.backward()`` first).
        ``closure()`` (optional) re-evaluates the loss and is returned, as in PyTorch."""
        if not self.param_groups:
            raise TypeError(f"{type(self).__name__} was made without parameters (the "
                            "functional style): use init/update, or pass the tensors.")
        loss = closure() if closure is not None else None
        for k, group in enumerate(self.param_groups):
            for i, p in enumerate(group["params"]):
                if p.grad is None:
                    continue
                g = np.asarray(p.grad._value if isinstance(p.grad, Tensor) else p.grad,
                               dtype=float)
                if g.shape != np.shape(p._value):
                    raise ValueError(f"parameter {i} of group {k} has shape "
                                     f"{np.shape(p._value)} but its .grad has shape {g.shape}.")
                state = self.state.setdefault(id(p), {"step": 0,
                                                      "leaf": self._init_leaf(p._value)})
                h = self._hyper(group, state["step"])
                state["step"] += 1
                u, state["leaf"] = self._step(g, p._value, state["leaf"], h, state["step"])
                p._value = p._value + u        # a new array: nothing the user holds changes
        return loss

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}({opts})"


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, Nesterov and weight decay
    (torch.optim.SGD's equations; see the module docstring)."""
    defaults = {"lr": 1e-3, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0,
                "nesterov": False}
    _init = staticmethod(_sgd_init)
    _step = staticmethod(_sgd_step)


class Adam(Optimizer):
    """Adam (Kingma & Ba) with L2 weight decay (torch.optim.Adam's equations)."""
    defaults = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}
    _init = staticmethod(_adam_init)
    _step = staticmethod(_adam_step)


class AdamW(Optimizer):
    """Adam with decoupled weight decay (torch.optim.AdamW: ``p *= 1 - lr wd``)."""
    defaults = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2}
    _init = staticmethod(_adam_init)
    _step = staticmethod(_adamw_step)


class RMSprop(Optimizer):
    """RMSprop, optionally centred and with momentum (torch.optim.RMSprop's equations)."""
    defaults = {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0,
                "momentum": 0.0, "centered": False}
    _init = staticmethod(_rmsprop_init)
    _step = staticmethod(_rmsprop_step)


class Adagrad(Optimizer):
    """Adagrad with learning-rate decay (torch.optim.Adagrad's equations)."""
    defaults = {"lr": 1e-2, "lr_decay": 0.0, "weight_decay": 0.0,
                "initial_accumulator_value": 0.0, "eps": 1e-10}
    _init = staticmethod(_adagrad_init)
    _step = staticmethod(_adagrad_step)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad}


# =======================================================================================
# gradient transformations that compose: clipping, chain
# =======================================================================================

class _Transform:
    """A gradient transformation without state (``init`` / ``update`` like the optimisers)."""

    def __init__(self, fn: Callable[[list], list]):
        self._fn = fn

    def init(self, params) -> dict:
        return {}

    def update(self, grads, state, params=None):
        g, rebuild = _leaves(grads, "grads")
        return rebuild(self._fn(g)), state


def _global_clip(grads: list[np.ndarray], max_norm: float) -> list[np.ndarray]:
    total = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
    coef = max_norm / (total + 1e-6)          # torch.nn.utils.clip_grad_norm_
    return [g * coef for g in grads] if coef < 1 else list(grads)


def clip_grad_norm(max_norm: float) -> _Transform:
    """Scale all gradients by ``max_norm / (norm + 1e-6)`` when their joint 2-norm exceeds
    ``max_norm`` (torch.nn.utils.clip_grad_norm_)."""
    max_norm = _positive(max_norm, "max_norm")
    return _Transform(lambda g: _global_clip(g, max_norm))


def clip_grad_value(clip_value: float) -> _Transform:
    """Clip every gradient element to ``[-clip_value, clip_value]``."""
    clip_value = _positive(clip_value, "clip_value")
    return _Transform(lambda g: [np.clip(x, -clip_value, clip_value) for x in g])


def clip_grad_norm_(params: Sequence[Tensor], max_norm: float) -> float:
    """PyTorch style: clip the ``.grad`` of the tensors in place (new arrays) by their joint
    norm; returns the norm before clipping."""
    max_norm = _positive(max_norm, "max_norm")
    tensors = [p for p in params if p.grad is not None]
    grads = [np.asarray(p.grad, dtype=float) for p in tensors]
    total = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
    for p, g in zip(tensors, _global_clip(grads, max_norm)):
        p.grad = g
    return total


class chain:
    """Apply transformations in order: ``chain(clip_grad_norm(1.0), Adam(lr=1e-2))``; the
    last one is normally an optimiser (it turns gradients into updates)."""

    def __init__(self, *transforms):
        if not transforms:
            raise ValueError("chain needs at least one transformation.")
        for t in transforms:
            if not (hasattr(t, "init") and hasattr(t, "update")):
                raise TypeError(f"chain takes transformations with init/update, not "
                                f"{type(t).__name__}.")
        self.transforms = transforms

    def init(self, params):
        return tuple(t.init(params) for t in self.transforms)

    def update(self, grads, state, params=None):
        new = []
        for t, s in zip(self.transforms, state):
            grads, s = t.update(grads, s, params)
            new.append(s)
        return grads, tuple(new)


# =======================================================================================
# autograd.misc.optimizers: same calling convention and defaults
# =======================================================================================

def _autograd_loop(step_rule: Callable, init_state: Callable):
    def run(grad, x0, callback, num_iters, **h):
        leaves, rebuild = _leaves(x0, "init_params")
        shapes = [a.shape for a in leaves]
        sizes = [a.size for a in leaves]

        def unflatten(v):
            out, i = [], 0
            for shape, n in zip(shapes, sizes):
                out.append(v[i:i + n].reshape(shape))
                i += n
            return rebuild(out)

        x = np.concatenate([a.ravel() for a in leaves]) if leaves else np.zeros(0)
        state = init_state(x)
        for i in range(num_iters):
            g_tree = grad(unflatten(x), i)
            g_leaves, _ = _leaves(g_tree, "gradient")
            g = np.concatenate([a.ravel() for a in g_leaves]) if g_leaves else np.zeros(0)
            if g.shape != x.shape:
                raise ValueError(f"grad returned {g.size} values for {x.size} parameters at "
                                 f"iteration {i}.")
            if callback:
                callback(unflatten(x), i, g_tree)
            x, state = step_rule(x, g, state, i, **h)
        return unflatten(x)
    return run


def _check_step(step_size, num_iters):
    _positive(step_size, "step_size")
    if not (isinstance(num_iters, (int, np.integer)) and num_iters >= 0):
        raise ValueError(f"num_iters must be an integer >= 0, not {num_iters!r}.")


def _ag_sgd(x, g, v, i, step_size, mass):
    v = mass * v - (1.0 - mass) * g
    return x + step_size * v, v


def _ag_rmsprop(x, g, avg, i, step_size, gamma, eps):
    avg = avg * gamma + g ** 2 * (1 - gamma)
    return x - step_size * g / (np.sqrt(avg) + eps), avg


def _ag_adam(x, g, mv, i, step_size, b1, b2, eps):
    m = (1 - b1) * g + b1 * mv[0]
    v = (1 - b2) * (g ** 2) + b2 * mv[1]
    mhat = m / (1 - b1 ** (i + 1))
    vhat = v / (1 - b2 ** (i + 1))
    return x - step_size * mhat / (np.sqrt(vhat) + eps), (m, v)


def sgd(grad: Callable, x, callback: Callable | None = None, num_iters: int = 200,
        step_size: float = 0.1, mass: float = 0.9):
    """autograd's sgd: ``v = mass v - (1 - mass) g; x += step_size v``; ``grad(x, i)`` and
    ``callback(x, i, g)`` see ``x`` in the structure of ``init_params``."""
    _check_step(step_size, num_iters)
    return _autograd_loop(_ag_sgd, np.zeros_like)(grad, x, callback, num_iters,
                                                  step_size=step_size, mass=mass)


def rmsprop(grad: Callable, x, callback: Callable | None = None, num_iters: int = 100,
            step_size: float = 0.1, gamma: float = 0.9, eps: float = 1e-8):
    """autograd's rmsprop: ``a = gamma a + (1 - gamma) g^2`` (a starts at ones);
    ``x -= step_size g / (sqrt(a) + eps)``."""
    _check_step(step_size, num_iters)
    return _autograd_loop(_ag_rmsprop, np.ones_like)(grad, x, callback, num_iters,
                                                     step_size=step_size, gamma=gamma,
                                                     eps=eps)


def adam(grad: Callable, x, callback: Callable | None = None, num_iters: int = 100,
         step_size: float = 0.001, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8):
    """autograd's adam (Kingma & Ba, bias-corrected, eps outside the root)."""
    _check_step(step_size, num_iters)
    return _autograd_loop(_ag_adam, lambda x: (np.zeros_like(x), np.zeros_like(x)))(
        grad, x, callback, num_iters, step_size=step_size, b1=b1, b2=b2, eps=eps)
