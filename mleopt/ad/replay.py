"""Replay: record a log-likelihood once per fit, evaluate it again on the recorded graph.

A Newton fit evaluates (value, gradient, Hessian) of one function at a few points. Recording
the function (running its Python, one Tensor node per operation), finding its linear-index
structure (structure.find) and the Jacobian J of a linear parameter map come out the same at
every point when the function takes no decision on the values. A *plan* keeps, from the first
evaluation, the recorded nodes from the point x to the output (in creation order: a
topological order) and the Structure found on them, with what is planned on it (its
``cache``: J where the nodes computed from x alone are linear in x); at a later point it *refreshes* the nodes, each one's primitive applied
again to its recorded arguments with its parents' new values::

    vals = node._args with vals[i] = parent._value for each traced argument i
    node._value = node._prim.fun(*vals, **node._kwargs)

and runs the same derivative code on them. The same primitives on the same inputs: the same
bits as a fresh recording (``MLEOPT_CHECK_REPLAY=1`` checks it at every replayed evaluation).

A plan is kept only for a trace that provably takes no decision on values: no value of the
trace escaped into Python or numpy while the function ran (comparisons, bool(), float(),
item(), stop_gradient, functions without a derivative, printing, a primitive's exception
or numpy floating-point error: mleopt.ad.core._WATCHED),
no nested trace (a traced value inside a traced value), no traced value among the options
or inside a list argument, a single-number output, and an index structure that find accepts
(the Structure holds graph shape, primitives and constants only, nothing computed from
values). A plan lives in a Slot of a Session: one slot per block model, one session per
optimiser run, closed when the run ends.

Assumption: within one fit the function is a pure function of its parameters. A function
drawing random numbers without a fixed seed, or reading state that changes during the fit,
must turn replay off (``mleopt.ad.replay.ENABLED = False``).
"""
from __future__ import annotations

import os
import threading
from collections import Counter
from dataclasses import dataclass

import numpy as np

from . import structure
from .core import SIGNAL, Tensor, _holds_traced, ancestors
from .structure import Structure

__all__ = ["ENABLED", "CHECK", "ReplayMismatch", "Plan", "Session", "Slot", "counts"]

ENABLED = True      # False: every evaluation records the function afresh
# check every replayed evaluation against a fresh recording (and raise on any difference)
CHECK = os.environ.get("MLEOPT_CHECK_REPLAY", "").strip().lower() not in ("", "0", "false")

# "planned", "replayed", "declined" and "declined: <why>": for tests and benchmarks
counts: Counter = Counter()
_counts_lock = threading.Lock()


def _count(what: str) -> None:
    """Count an event (under a lock: blocks are evaluated on threads)."""
    with _counts_lock:
        counts[what] += 1


class ReplayMismatch(AssertionError):
    """A replayed evaluation differed from a fresh recording (MLEOPT_CHECK_REPLAY=1)."""


@dataclass(repr=False)
class Plan:
    """A recorded scalar function of a vector x, to be evaluated again at other points."""

    leaf: Tensor            # x
    end: Tensor             # the output (one number)
    tape: list              # the nodes from x to the output (x excluded), creation order
    s: Structure            # its index structure (graph shape and constants only; what is
    #                         planned on it, s.cache, is kept with it: J of a linear map)

    def run(self, x: np.ndarray):
        """``(value, gradient, Hessian)`` at ``x`` (a float64 array of the recorded shape;
        otherwise None: record afresh). Also None where a primitive raises or meets a numpy
        floating-point error (even one numpy would ignore): the function, called afresh,
        then warns, raises or decides on it as it would itself."""
        leaf = self.leaf
        if type(x) is not np.ndarray or x.dtype != np.float64 or \
                x.shape != leaf._value.shape:
            return None
        leaf._value = x
        flagged = []
        try:
            with np.errstate(all="call", call=lambda kind, flag: flagged.append(kind)):
                for node in self.tape:
                    vals = list(node._args)
                    for i, parent in zip(node._argnums, node._parents):
                        vals[i] = parent._value
                    node._value = node._prim.fun(*vals, **node._kwargs)
                    node._args = vals
                    if flagged:
                        break
        except Exception:       # (the fresh call meets it too, inside the function)
            flagged.append("exception")
        if flagged:
            _count("not replayed: a floating-point error or exception")
            return None
        grad, hess = structure.hessian(self.end, leaf, with_grad=True, s=self.s)
        return self.end._value, grad, hess


def make_plan(leaf: Tensor, end, s: Structure | None, escaped: bool) -> Plan | str:
    """A plan of the trace from ``leaf`` to ``end`` (structure ``s``), or why not (where a
    replay could differ from a fresh recording: see the module's docstring)."""
    if escaped:
        return "a value escaped"
    if s is None:
        return "no index structure"
    if not isinstance(end, Tensor) or end._level != leaf._level or end.size != 1 or \
            not isinstance(leaf._value, np.ndarray):
        return "not a single number of x"
    tape = []
    for node in ancestors(end):
        if node._prim is None:
            if node is not leaf:
                return "another leaf"       # an enclosing or eager trace
            continue
        if node._level != leaf._level or structure._holds_outer_trace(node) or \
                _holds_traced(node._args) or \
                (node._kwargs and _holds_traced(tuple(node._kwargs.values()))):
            return "nested trace"       # or a traced value the refresh would not see
        tape.append(node)
    return Plan(leaf, end, tape, s)


class Slot:
    """The plan of one block model in one optimiser run: None until its first evaluation,
    then a Plan, or False (declined: that run records afresh at every point)."""

    __slots__ = ("owner", "plan")

    def __init__(self, owner):
        self.owner = owner      # (held: its id is not reused by another model meanwhile)
        self.plan: Plan | None | bool = None

    def offer(self, leaf: Tensor, end, s: Structure | None, escaped: bool | str) -> Plan | None:
        """Keep a plan of the first evaluation's trace if it is replayable. ``escaped`` SIGNAL
        (a floating-point error or exception there, which the next point may not meet):
        no plan yet, the next evaluation is watched again."""
        if escaped == SIGNAL and ENABLED:
            _count("not planned at this point: a floating-point error or exception")
            return None
        plan = make_plan(leaf, end, s, escaped) if ENABLED else "replay off"
        if isinstance(plan, str):
            self.decline(plan)
            return None
        self.plan = plan
        _count("planned")
        return plan

    def decline(self, why: str) -> None:
        self.plan = False
        _count("declined")
        _count(f"declined: {why}")


class Session:
    """The plans of one optimiser run: one slot per block model (each block is evaluated by
    one thread at a time). ``close()`` at the end of the run drops them all; a closed
    session gives no slot (later evaluations record afresh)."""

    def __init__(self):
        self._slots: dict[int, Slot] = {}
        self.closed = False

    def slot(self, owner) -> Slot | None:
        if self.closed or not ENABLED:
            return None
        slot = self._slots.get(id(owner))
        if slot is None or slot.owner is not owner:
            slot = self._slots[id(owner)] = Slot(owner)
        return slot

    def forget(self) -> None:
        """Drop the plans made so far; later evaluations make new ones (after a user's
        callback, which may change what the function reads)."""
        self._slots.clear()

    def close(self) -> None:
        self.closed = True
        self._slots.clear()


def replayed(slot: Slot, x: np.ndarray):
    """``(value, gradient, Hessian)`` at x from the slot's plan, or None (no plan, or x of
    another shape)."""
    plan = slot.plan
    if not plan or not ENABLED:
        return None
    found = plan.run(x)
    if found is not None:
        _count("replayed")
    return found


def check(replay: tuple, fresh: tuple) -> None:
    """Raise ReplayMismatch unless the replayed value, gradient and Hessian are bit for bit
    those of the fresh recording."""
    for name, a, b in zip(("value", "gradient", "Hessian"), replay, fresh):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or a.dtype != b.dtype or a.tobytes() != b.tobytes():
            diff = np.max(np.abs(a - b)) if a.shape == b.shape else "shapes differ"
            raise ReplayMismatch(
                f"replay: the {name} of a replayed evaluation differs from a fresh recording "
                f"(largest difference {diff}): the function is not the same at every point "
                "of the fit. Turn replay off (mleopt.ad.replay.ENABLED = False) and report "
                "the function.")
