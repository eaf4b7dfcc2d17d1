"""Shared helpers for the benchmark scripts (benchmarks/ad.py, benchmarks/models.py).

- ``median_time``: the median of several timed runs in this process (with an inner loop for
  calls too short to time one at a time);
- ``optional_import``: import autograd / jax / statsmodels when the ``bench`` extra is
  installed, or print a note and return None so that the script skips those lines cleanly;
- ``Table``: the printed table (what, time, baseline, ratio, target, PASS/FAIL);
- ``print_environment``: versions, BLAS kernel and threads, and the OpenBLAS variables.

Nothing here is imported by the package; benchmarks are never timed tests.
"""
from __future__ import annotations

import argparse
import datetime
import gc
import importlib
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


# ------------------------------------------------------------------------------------------
# timing
# ------------------------------------------------------------------------------------------

def _autorange(fn: Callable[[], object], min_seconds: float) -> int:
    """How many calls make one timed sample last at least ``min_seconds``."""
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= min_seconds or number >= 1_000_000:
            return number
        # aim a little above the threshold
        grow = min_seconds / max(elapsed, 1e-9) * 1.2
        number = max(number * 2, int(math.ceil(number * grow)))


@dataclass
class Timing:
    median: float                      # seconds per call
    samples: list[float] = field(default_factory=list)   # seconds per call, each sample
    number: int = 1                    # calls per sample

    @property
    def ms(self) -> float:
        return self.median * 1e3

    @property
    def spread(self) -> float:
        """(max - min) / median of the samples: a rough noise figure."""
        if len(self.samples) < 2 or self.median == 0:
            return 0.0
        return (max(self.samples) - min(self.samples)) / self.median


def median_time(fn: Callable[[], object], repeats: int = 7, warmup: int = 1,
                number: int | None = 1, min_sample: float = 0.05) -> Timing:
    """Median seconds per call of ``fn()`` over ``repeats`` samples, in this process.

    ``warmup`` calls are made first and not timed (caches, JIT compilation, lazy imports).
    ``number`` calls make one sample; ``number=None`` picks it so that a sample lasts at
    least ``min_sample`` seconds (for calls of micro- to milliseconds). The garbage collector
    is run before each sample and disabled inside it, as ``timeit`` does.
    """
    for _ in range(warmup):
        fn()
    if number is None:
        number = _autorange(fn, min_sample)
    samples = []
    gc_was_enabled = gc.isenabled()
    try:
        for _ in range(max(1, repeats)):
            gc.collect()
            gc.disable()
            t0 = _clock()
            for _ in range(number):
                fn()
            samples.append((_clock() - t0) / number)
            if gc_was_enabled:
                gc.enable()
    finally:
        if gc_was_enabled:
            gc.enable()
    return Timing(statistics.median(samples), samples, number)


def median_times(fns: dict, repeats: int = 7, warmup: int = 1, number: int | None = 1,
                 min_sample: float = 0.05) -> dict:
    """``median_time`` for several functions, their samples interleaved round-robin.

    On a noisy machine a burst of load then hits every function of a comparison alike, so
    the ratios of the medians are steadier than with one function timed after the other.
    Returns {name: Timing}.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    numbers = {k: (_autorange(fn, min_sample) if number is None else number)
               for k, fn in fns.items()}
    samples: dict = {k: [] for k in fns}
    gc_was_enabled = gc.isenabled()
    try:
        for _ in range(max(1, repeats)):
            for k, fn in fns.items():
                n = numbers[k]
                gc.collect()
                gc.disable()
                t0 = _clock()
                for _ in range(n):
                    fn()
                samples[k].append((_clock() - t0) / n)
                if gc_was_enabled:
                    gc.enable()
    finally:
        if gc_was_enabled:
            gc.enable()
    return {k: Timing(statistics.median(s), s, numbers[k]) for k, s in samples.items()}


# ------------------------------------------------------------------------------------------
# optional imports
# ------------------------------------------------------------------------------------------

_NOTES: list[str] = []


def note(msg: str) -> None:
    """Print a note now and repeat it under the table at the end."""
    print(f"note: {msg}", flush=True)
    _NOTES.append(msg)


def notes() -> list[str]:
    return list(_NOTES)


def optional_import(name: str, skip: bool = False):
    """``import name`` if it is installed, else print a note and return None.

    ``skip=True`` (from the command line's ``--skip``) returns None without trying.
    """
    if skip:
        note(f"{name}: skipped on request (--skip); its lines are left out.")
        return None
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        note(f"{name} is not installed ({exc}); its lines are skipped. "
             "Install the bench extra: pip install -e \".[bench]\"")
        return None


def import_jax(skip: bool = False):
    """(jax, jax.numpy) with float64 enabled, or (None, None) when jax is missing."""
    jax = optional_import("jax", skip)
    if jax is None:
        return None, None
    jax.config.update("jax_enable_x64", True)    # the same precision as numpy and mleopt
    import jax.numpy as jnp
    return jax, jnp


def version_of(module) -> str:
    if module is None:
        return "not installed"
    v = getattr(module, "__version__", None)
    if v is None:
        try:
            from importlib.metadata import version
            v = version(module.__name__.split(".")[0])
        except Exception:
            v = "?"
    return v


# ------------------------------------------------------------------------------------------
# environment
# ------------------------------------------------------------------------------------------

def blas_summary() -> str:
    """Which BLAS numpy runs, its kernel (architecture) and thread count (via threadpoolctl)."""
    try:
        import threadpoolctl
    except ImportError:
        return "threadpoolctl not installed: BLAS kernel unknown"
    import numpy  # noqa: F401  (load numpy's BLAS before asking)
    parts = []
    for info in threadpoolctl.threadpool_info():
        if info.get("user_api") != "blas":
            continue
        parts.append(f"{info.get('internal_api')} {info.get('version')} "
                     f"kernel={info.get('architecture')} threads={info.get('num_threads')} "
                     f"({os.path.basename(info.get('filepath', ''))})")
    return "; ".join(parts) or "no BLAS found by threadpoolctl"


def print_environment(title: str, extra_modules=()) -> None:
    import numpy
    import scipy
    print(f"{title}   {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"python {platform.python_version()}, numpy {numpy.__version__}, "
          f"scipy {scipy.__version__}, {platform.machine()}, {os.cpu_count()} cores")
    for name, mod in extra_modules:
        print(f"{name} {version_of(mod)}")
    print(f"BLAS: {blas_summary()}")
    if hasattr(os, "getloadavg"):
        load = os.getloadavg()
        print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
              f"(on {os.cpu_count()} cores; other work running makes the timings noisy)")
    set_vars = {v: os.environ[v] for v in OPENBLAS_VARS if v in os.environ}
    if set_vars:
        print(f"warning: {set_vars} is set; it slows a current numpy's OpenBLAS. To benchmark, "
              "unset both in that command alone: "
              "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/...")
    else:
        print("OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: not set")
    print(flush=True)


# ------------------------------------------------------------------------------------------
# the table
# ------------------------------------------------------------------------------------------

def fmt_num(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    ax = abs(x)
    if ax >= 100:
        return f"{x:.1f}"
    if ax >= 1:
        return f"{x:.2f}"
    if ax >= 0.01:
        return f"{x:.3f}"
    return f"{x:.4f}"


@dataclass
class Row:
    what: str
    value: float | None            # in the table's unit (ms or MB)
    baseline: float | None
    target: float | None = None    # the ratio must be <= target; None: for information
    baseline_name: str = ""
    ratio: float | None = None     # computed from value/baseline unless given
    strict: bool = False           # the ratio must be < target (not <=)

    def __post_init__(self):
        if self.ratio is None and self.value is not None and self.baseline:
            self.ratio = self.value / self.baseline

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "info"
        if self.ratio is None:
            return "n/a"
        ok = self.ratio < self.target if self.strict else self.ratio <= self.target
        return "PASS" if ok else "FAIL"

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "-"
        return f"{'<' if self.strict else '<='} {self.target:g}x"


class Table:
    def __init__(self, title: str, unit: str = "ms"):
        self.title = title
        self.unit = unit
        self.rows: list[Row] = []

    def add(self, row: Row, echo: bool = True) -> Row:
        self.rows.append(row)
        if echo:   # a progress line, so a long run shows where it is
            print(f"  {row.what}: {fmt_num(row.value)} {self.unit}"
                  + (f" / {fmt_num(row.baseline)} {self.unit} = {fmt_num(row.ratio)}x"
                     if row.ratio is not None else ""), flush=True)
        return row

    def render(self) -> str:
        head = ["what", f"time ({self.unit})" if self.unit == "ms" else f"value ({self.unit})",
                f"baseline ({self.unit})", "ratio", "target", "result"]
        body = []
        for r in self.rows:
            base = fmt_num(r.baseline)
            if r.baseline_name and r.baseline is not None:
                base = f"{base} [{r.baseline_name}]"
            body.append([r.what, fmt_num(r.value), base,
                         (fmt_num(r.ratio) + "x") if r.ratio is not None else "-",
                         r.target_text,
                         r.verdict])
        widths = [max(len(str(c)) for c in col) for col in zip(head, *body)]
        right = [False, True, True, True, True, False]

        def line(cells):
            return " | ".join(str(c).rjust(w) if rj else str(c).ljust(w)
                              for c, w, rj in zip(cells, widths, right))
        out = [self.title, line(head), "-+-".join("-" * w for w in widths)]
        out += [line(b) for b in body]
        return "\n".join(out)

    def markdown(self) -> str:
        out = [f"| what | {'time' if self.unit == 'ms' else 'value'} ({self.unit}) "
               f"| baseline ({self.unit}) | ratio | target | result |",
               "| --- | ---: | ---: | ---: | ---: | --- |"]
        for r in self.rows:
            base = fmt_num(r.baseline)
            if r.baseline_name and r.baseline is not None:
                base = f"{base} ({r.baseline_name})"
            out.append(f"| {r.what} | {fmt_num(r.value)} | {base} | "
                       f"{(fmt_num(r.ratio) + 'x') if r.ratio is not None else '-'} | "
                       f"{r.target_text} | {r.verdict} |")
        return "\n".join(out)


def finish(tables: list[Table], markdown: bool = False) -> int:
    """Print the tables and the notes; the exit code is 0 (a benchmark does not fail a run)."""
    print()
    for t in tables:
        print(t.markdown() if markdown else t.render())
        print()
    if _NOTES:
        print("notes:")
        for n in _NOTES:
            print(f"  - {n}")
    return 0


def base_parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--repeats", type=int, default=None,
                   help="timed samples per line (the median is reported)")
    p.add_argument("--quick", action="store_true",
                   help="smaller sizes and fewer repeats: a smoke run, not a measurement")
    p.add_argument("--skip", default="",
                   help="comma-separated optional baselines to leave out, e.g. autograd,jax")
    p.add_argument("--only", default="",
                   help="comma-separated sections to run (default: all); see --help's list")
    p.add_argument("--blas-threads", type=int, default=None,
                   help="limit BLAS threads (threadpoolctl), e.g. 1 on a busy machine")
    p.add_argument("--markdown", action="store_true",
                   help="print the final tables as Markdown (for benchmarks/README.md)")
    p.add_argument("--cpu-time", action="store_true",
                   help="time with the process's CPU time (time.process_time) instead of the "
                        "wall clock: steadier on a machine shared with other jobs (waiting "
                        "for a core is not counted; a multi-threaded run counts every thread)")
    return p


_CLOCK = [time.perf_counter]


def _clock() -> float:
    return _CLOCK[0]()


def apply_clock(args) -> None:
    """Honour --cpu-time for the whole run."""
    if getattr(args, "cpu_time", False):
        _CLOCK[0] = time.process_time
        note("times are CPU time of this process (--cpu-time), not wall time.")


_BLAS_LIMIT = None


def apply_blas_threads(args) -> None:
    """Honour --blas-threads for the whole run (kept alive in a module global)."""
    global _BLAS_LIMIT
    if args.blas_threads is None:
        return
    try:
        import threadpoolctl
    except ImportError:
        note("--blas-threads needs threadpoolctl (pip install threadpoolctl); ignored.")
        return
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401  (scipy ships its own OpenBLAS: load it before limiting)
    _BLAS_LIMIT = threadpoolctl.threadpool_limits(args.blas_threads, user_api="blas")
    note(f"BLAS limited to {args.blas_threads} thread(s) for this run.")


def only_set(args, known) -> set[str]:
    """The sections to run: all of ``known`` unless --only names some."""
    want = {s.strip().lower() for s in args.only.split(",") if s.strip()}
    unknown = want - set(known)
    if unknown:
        raise SystemExit(f"--only: unknown section(s) {sorted(unknown)}; "
                         f"choose from {', '.join(known)}")
    return want or set(known)


def skip_set(args) -> set[str]:
    return {s.strip() for s in args.skip.split(",") if s.strip()}


def rel_err(a, b) -> float:
    """max |a - b| / max |b| (a relative error that is well-defined when entries are ~0)."""
    import numpy as np
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    scale = float(np.max(np.abs(b))) or 1.0
    return float(np.max(np.abs(a - b))) / scale


def check_close(label: str, got, want, rtol: float) -> bool:
    err = rel_err(got, want)
    ok = err <= rtol
    print(f"  check {label}: max rel err {err:.2e} (tol {rtol:g}) {'ok' if ok else 'MISMATCH'}",
          flush=True)
    if not ok:
        note(f"correctness check failed: {label}: max rel err {err:.2e} > {rtol:g}")
    return ok


def fit_generic(model, start):
    """A statsmodels GenericLikelihoodModel fitted as its users do (BFGS on numerical
    gradients) from ``start``, standard errors included."""
    res = model.fit(start_params=start, method="bfgs", maxiter=2000, disp=False)
    _ = res.bse
    return res


def compare_log_sigma_fits(table: "Table", what: str, ours: Callable, make_theirs: Callable,
                           repeats: int) -> None:
    """Time ``ours()`` (an mleopt fit whose last parameter is sigma) against a statsmodels
    GenericLikelihoodModel with log sigma last (``make_theirs()`` builds it), both from the
    start values mleopt uses by default; the estimates are compared (1e-3 relative: BFGS on
    numerical gradients stops a few 1e-4 short) and a table row is added."""
    import numpy as np
    mine = ours()
    s0 = mine.model.start_params()
    start = np.r_[s0[:-1], np.log(s0[-1])]

    def theirs():
        return fit_generic(make_theirs(), start)

    res = theirs()
    if not check_close(f"{what}: params", np.r_[res.params[:-1], np.exp(res.params[-1])],
                       mine.params.to_numpy(), 1e-3):
        note(f"{what}: statsmodels' fit from mleopt's start values is not the MLE "
             f"(llf {res.llf:.6g} vs {mine.llf:.6g}); its time is shown anyway")
    times = median_times({"mleopt": ours, "statsmodels": theirs}, repeats=repeats)
    table.add(Row(what, times["mleopt"].ms, times["statsmodels"].ms, target=1.0,
                  baseline_name="statsmodels"))


if __name__ == "__main__":   # pragma: no cover
    print_environment("benchmarks/common.py")
    sys.exit(0)
