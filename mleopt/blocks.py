"""Row blocks: a log-likelihood is a sum over observations, so it can be evaluated in pieces.

The model layer splits its rows into blocks (views of its arrays, no copies), evaluates the
value, gradient, Hessian and score products of each block, and adds them. This module holds
what does not depend on a model: the options, the block plan and the executor.

Options (module-wide with :func:`set_options` / :func:`options`, per model with
``fit(block_memory=..., n_threads=...)``):

``block_memory``  working memory allowed for the blocks in flight together, in bytes or as a
                  string (``"256MB"``, ``"1.5GiB"``); default ``"256MB"``. The rows per block
                  are ``block_memory // (n_threads * bytes_per_row)``, with ``bytes_per_row``
                  the model's estimate of the memory a row costs in a Hessian evaluation.
                  Data that fit in one block are evaluated in one piece, as without blocks.
``n_threads``     threads evaluating blocks at once (numpy releases the GIL); default
                  ``min(4, os.cpu_count())``; 1 runs the blocks one after another.

Blocks are always added in the same order, so results do not depend on ``n_threads``.
"""
from __future__ import annotations

import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

import numpy as np

__all__ = ["set_options", "get_options", "options", "parse_memory", "row_slices", "run",
           "BlockMemoryError"]

_DEFAULTS = {"block_memory": 256 * 2**20, "n_threads": min(4, os.cpu_count() or 1)}
_OPTIONS = dict(_DEFAULTS)
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9,
          "gb": 10**9, "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30,
          "tib": 2**40}


class BlockMemoryError(ValueError):
    """The memory budget cannot hold one row."""


def parse_memory(value: Any, name: str = "block_memory") -> int:
    """Bytes from an int (bytes) or a string such as ``"256MB"``, ``"1.5 GiB"``, ``"64kB"``."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a number of bytes or a string such as '256MB', "
                        f"not {value!r}.")
    if isinstance(value, (int, np.integer, float, np.floating)):
        size = float(value)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-zA-Z]*)\s*", value)
        unit = m.group(2).lower() if m else None
        if m is None or unit not in _UNITS:
            raise ValueError(f"{name}={value!r} is not a memory size; write e.g. '256MB', "
                             f"'2GB', '512MiB' or a number of bytes.")
        size = float(m.group(1)) * _UNITS[unit]
    else:
        raise TypeError(f"{name} must be a number of bytes or a string such as '256MB', "
                        f"not {type(value).__name__}.")
    if not np.isfinite(size) or size < 1:
        raise ValueError(f"{name} must be at least 1 byte, got {value!r}.")
    return int(size)


def _check_threads(n: Any) -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n_threads must be a positive integer, not {n!r}.")
    return int(n)


def set_options(block_memory: Any = None, n_threads: Any = None) -> dict:
    """Set the module-wide block options; returns the previous ones (for restoring).

    ``mleopt.set_options(block_memory="1GB", n_threads=2)``. ``None`` leaves an option as it
    is; :func:`get_options` shows the current values.
    """
    previous = dict(_OPTIONS)
    if block_memory is not None:
        _OPTIONS["block_memory"] = parse_memory(block_memory)
    if n_threads is not None:
        _OPTIONS["n_threads"] = _check_threads(n_threads)
    return previous


def get_options() -> dict:
    """The module-wide block options: ``{"block_memory": bytes, "n_threads": int}``."""
    return dict(_OPTIONS)


@contextmanager
def options(block_memory: Any = None, n_threads: Any = None) -> Iterator[dict]:
    """``with mleopt.options(block_memory="64MB"): ...``: set options for a block of code."""
    previous = set_options(block_memory, n_threads)
    try:
        yield get_options()
    finally:
        _OPTIONS.clear()
        _OPTIONS.update(previous)


def resolve(block_memory: Any = None, n_threads: Any = None) -> tuple[int, int]:
    """``(bytes, threads)``: the given values, else the module-wide ones."""
    mem = _OPTIONS["block_memory"] if block_memory is None else parse_memory(block_memory)
    thr = _OPTIONS["n_threads"] if n_threads is None else _check_threads(n_threads)
    return mem, thr


def row_slices(nobs: int, bytes_per_row: float, block_memory: int,
               n_threads: int = 1) -> list[slice]:
    """Consecutive row slices covering ``range(nobs)``, each within the budget.

    ``n_threads`` blocks may be in flight together, so each gets ``block_memory / n_threads``
    (but never fewer rows than fit the whole budget alone, when that is all there is room for).
    """
    per_block = block_memory // max(n_threads, 1)
    rows = int(per_block // max(bytes_per_row, 1.0))
    if rows < 1:
        rows = int(block_memory // max(bytes_per_row, 1.0))
    if rows < 1:
        raise BlockMemoryError(
            f"block_memory = {block_memory} bytes is too small for one row: a row of this "
            f"model needs about {int(np.ceil(bytes_per_row))} bytes in a Hessian evaluation. "
            f"Raise block_memory (e.g. mleopt.set_options(block_memory='256MB') or "
            f"fit(block_memory=...)) to at least {int(np.ceil(bytes_per_row))} bytes.")
    if rows >= nobs:
        return [slice(0, nobs)]
    n_blocks = -(-nobs // rows)
    bounds = np.linspace(0, nobs, n_blocks + 1).round().astype(int)    # even sizes
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOL_LOCK = threading.Lock()
_LOCAL = threading.local()


def _pool(n: int) -> ThreadPoolExecutor:
    with _POOL_LOCK:
        pool = _POOLS.get(n)
        if pool is None:
            pool = _POOLS[n] = ThreadPoolExecutor(max_workers=n,
                                                  thread_name_prefix="mleopt-block")
        return pool


def run(fn: Callable[[Any], Any], items: Sequence, n_threads: int = 1) -> list:
    """``[fn(item) for item in items]``, on a thread pool when ``n_threads > 1``.

    Results come back in the order of ``items``. Inside a block (a nested call) the work
    runs serially, so pools never wait on themselves.
    """
    if n_threads <= 1 or len(items) <= 1 or getattr(_LOCAL, "inside", False):
        return [fn(item) for item in items]

    def call(item):
        _LOCAL.inside = True
        try:
            return fn(item)
        finally:
            _LOCAL.inside = False

    return list(_pool(n_threads).map(call, items))


def add(parts: Sequence) -> Any:
    """Sum of block results in order; ``None`` stays ``None`` (a part not computed)."""
    total = None
    for p in parts:
        if p is None:
            return None
        total = np.array(p, dtype=float, copy=True) if total is None else total + p
    return total


def add_derivatives(parts: Sequence) -> tuple:
    """``(value, gradient, hessian)`` of several blocks added (None where not computed)."""
    return (float(sum(p[0] for p in parts)), add([p[1] for p in parts]),
            add([p[2] for p in parts]))
