"""Speed and memory of mleopt.ad on a logit log-likelihood (issue 2, section 5).

    PYTHONPATH=. python benchmarks/ad.py [--repeats 9] [--quick] [--skip autograd,jax]
                                         [--only grad,hessian,overhead,memory] [--blas-threads 1]

The function is ``sum(y*z - logaddexp(0, z))`` with ``z = X @ b`` on seeded simulated data.
Every figure is a ratio against a baseline measured in the same process (medians of repeats,
samples of a comparison interleaved round-robin), because these machines are noisy:

- gradient  (N=200,000, K=20): mleopt.ad.grad, autograd.grad, jax.grad (jit and no jit) vs
  the hand-written numpy gradient ``X.T @ (y - expit(X @ b))``;              target <= 1.5x
- Hessian   (N=200,000, K=20): mleopt.ad.hessian, autograd.hessian, jax.hessian (jit) vs
  the hand-written ``-(X.T * w) @ X``, ``w = p (1 - p)``;                    target <= 2x
- overhead  (N=944, K=6): (gradient time - plain numpy log-likelihood time), mleopt vs
  autograd;                                            target: mleopt <= 0.5x autograd's
- memory    (N=1,000,000, K=20): extra peak memory of one gradient (tracemalloc: peak during
  the call minus the memory before it) vs the size of X;                     target < 0.5x

Before timing, the AD gradient and Hessian are checked against the hand-written ones
(1e-8 relative). autograd and jax lines are skipped, with a note, when not installed.
"""
from __future__ import annotations

import os
import sys
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np                                  # noqa: E402
from scipy.special import expit                     # noqa: E402

from common import (Row, Table, base_parser, check_close, finish, import_jax,  # noqa: E402
                    median_times, note, optional_import, print_environment, skip_set,
                    apply_blas_threads, only_set)

import mleopt.numpy as mnp                          # noqa: E402
from mleopt.ad import grad as m_grad, hessian as m_hessian   # noqa: E402


# ------------------------------------------------------------------------------------------
# data and the functions compared
# ------------------------------------------------------------------------------------------

def make_data(n: int, k: int, seed: int = 12345):
    """X (n x k: a constant and k-1 standard normals), y ~ Bernoulli(expit(X b)), and b."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k))
    X[:, 0] = 1.0
    b = rng.normal(0.0, 0.3, size=k)
    y = (rng.random(n) < expit(X @ b)).astype(np.float64)
    return X, y, b


def ll_numpy(b, X, y):
    z = X @ b
    return np.sum(y * z - np.logaddexp(0, z))


def grad_numpy(b, X, y):
    return X.T @ (y - expit(X @ b))


def hess_numpy(b, X, y):
    p = expit(X @ b)
    w = p * (1 - p)
    return -(X.T * w) @ X


def ll_mleopt(b, X, y):
    z = X @ b
    return mnp.sum(y * z - mnp.logaddexp(0, z))


def autograd_fns(ag):
    if ag is None:
        return None
    import autograd.numpy as anp

    def ll_autograd(b, X, y):
        z = anp.dot(X, b)
        return anp.sum(y * z - anp.logaddexp(0, z))
    return ll_autograd


def jax_fns(jax, jnp):
    if jax is None:
        return None

    def ll_jax(b, X, y):
        z = X @ b
        return jnp.sum(y * z - jnp.logaddexp(0, z))
    return ll_jax


# ------------------------------------------------------------------------------------------
# the sections
# ------------------------------------------------------------------------------------------

def section_grad_hess(n, k, repeats, ag, jax, jnp, t_grad: Table | None, t_hess: Table | None):
    """The gradient lines (into t_grad) and the Hessian lines (into t_hess); None: skip."""
    print(f"gradient and Hessian, N={n:,}, K={k}", flush=True)
    X, y, b = make_data(n, k)

    g_ref = grad_numpy(b, X, y)
    h_ref = hess_numpy(b, X, y)
    check_close("mleopt grad == X.T @ (y - expit(X b))", m_grad(ll_mleopt)(b, X, y), g_ref, 1e-8)
    check_close("mleopt hessian == -(X.T * w) @ X", m_hessian(ll_mleopt)(b, X, y), h_ref, 1e-8)

    g_fns = {"numpy": lambda: grad_numpy(b, X, y),
             "mleopt": lambda: m_grad(ll_mleopt)(b, X, y)}
    h_fns = {"numpy": lambda: hess_numpy(b, X, y),
             "mleopt": lambda: m_hessian(ll_mleopt)(b, X, y)}
    slow_h_fns = {}

    ll_ag = autograd_fns(ag)
    if ll_ag is not None:
        ag_g, ag_h = ag.grad(ll_ag), ag.hessian(ll_ag)
        check_close("autograd grad", ag_g(b, X, y), g_ref, 1e-8)
        check_close("autograd hessian", ag_h(b, X, y), h_ref, 1e-8)
        g_fns["autograd"] = lambda: ag_g(b, X, y)
        slow_h_fns["autograd"] = lambda: ag_h(b, X, y)

    ll_jx = jax_fns(jax, jnp)
    if ll_jx is not None:
        Xj, yj, bj = jnp.asarray(X), jnp.asarray(y), jnp.asarray(b)
        jg_jit = jax.jit(jax.grad(ll_jx))
        jg_nojit = jax.grad(ll_jx)
        jh_jit = jax.jit(jax.hessian(ll_jx))
        check_close("jax grad (jit)", np.asarray(jg_jit(bj, Xj, yj)), g_ref, 1e-8)
        check_close("jax hessian (jit)", np.asarray(jh_jit(bj, Xj, yj)), h_ref, 1e-8)
        g_fns["jax jit"] = lambda: jg_jit(bj, Xj, yj).block_until_ready()
        g_fns["jax no-jit"] = lambda: jg_nojit(bj, Xj, yj).block_until_ready()
        h_fns["jax jit"] = lambda: jh_jit(bj, Xj, yj).block_until_ready()

    tg = median_times(g_fns, repeats=repeats) if t_grad is not None else {}
    th = median_times(h_fns, repeats=repeats) if t_hess is not None else {}
    spread = max([t.spread for t in list(tg.values()) + list(th.values())] + [0.0])
    if spread > 0.5:
        note(f"N={n:,}: the samples spread by up to {spread:.0%} of their median: the machine "
             "is busy; take the ratios as rough.")
    if t_grad is not None:
        _grad_rows(tg, t_grad)
    if t_hess is not None:
        _hess_rows(th, h_fns, slow_h_fns, repeats, t_hess)


def _grad_rows(tg, t_grad):
    base = tg["numpy"].ms
    t_grad.add(Row("mleopt grad", tg["mleopt"].ms, base, target=1.5, baseline_name="numpy"))
    for name in ("autograd", "jax jit", "jax no-jit"):
        if name in tg:
            t_grad.add(Row(f"{name} grad", tg[name].ms, base, baseline_name="numpy"))


def _hess_rows(th, h_fns, slow_h_fns, repeats, t_hess):
    base = th["numpy"].ms
    t_hess.add(Row("mleopt hessian", th["mleopt"].ms, base, target=2.0, baseline_name="numpy"))
    if slow_h_fns:
        # autograd's hessian runs one backward pass per parameter: fewer samples, each paired
        # with a fresh baseline sample so the ratio still comes from one stretch of time.
        reps = max(3, repeats // 2)
        ts = median_times({"numpy": h_fns["numpy"], **slow_h_fns}, repeats=reps)
        for name in slow_h_fns:
            t_hess.add(Row(f"{name} hessian", ts[name].ms, ts["numpy"].ms,
                           baseline_name="numpy"))
    if "jax jit" in th:
        t_hess.add(Row("jax hessian (jit)", th["jax jit"].ms, base, baseline_name="numpy"))


def section_overhead(n, k, repeats, ag, t_over: Table):
    print(f"per-call overhead, N={n:,}, K={k}", flush=True)
    X, y, b = make_data(n, k, seed=944)
    check_close("mleopt grad (small)", m_grad(ll_mleopt)(b, X, y), grad_numpy(b, X, y), 1e-8)
    fns = {"numpy ll": lambda: ll_numpy(b, X, y),
           "numpy grad": lambda: grad_numpy(b, X, y),
           "mleopt": lambda: m_grad(ll_mleopt)(b, X, y)}
    ll_ag = autograd_fns(ag)
    if ll_ag is not None:
        ag_g = ag.grad(ll_ag)
        fns["autograd"] = lambda: ag_g(b, X, y)
    # calls of tens of microseconds: each sample loops for at least 50 ms
    t = median_times(fns, repeats=repeats, number=None, min_sample=0.05)
    base = t["numpy ll"].ms
    over_m = t["mleopt"].ms - base
    t_over.add(Row("numpy log-likelihood (the base)", base, None))
    t_over.add(Row("numpy hand gradient", t["numpy grad"].ms, base, baseline_name="numpy ll"))
    t_over.add(Row("mleopt grad", t["mleopt"].ms, base, baseline_name="numpy ll"))
    if "autograd" in t:
        over_a = t["autograd"].ms - base
        t_over.add(Row("autograd grad", t["autograd"].ms, base, baseline_name="numpy ll"))
        t_over.add(Row("overhead: mleopt grad - numpy ll", over_m, over_a, target=0.5,
                       baseline_name="autograd - numpy ll"))
    else:
        t_over.add(Row("overhead: mleopt grad - numpy ll", over_m, None, target=0.5))
        note("the overhead target compares with autograd, which is not installed: n/a.")


def _extra_peak_mb(fn) -> float:
    """Peak traced memory during fn() minus the traced memory just before, in MB."""
    fn()                                  # warm up outside tracing (lazy imports, caches)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del out
    return (peak - before) / 1e6


def section_memory(n, k, ag, t_mem: Table):
    print(f"memory, N={n:,}, K={k}", flush=True)
    X, y, b = make_data(n, k, seed=7)
    x_mb = X.nbytes / 1e6
    m = _extra_peak_mb(lambda: m_grad(ll_mleopt)(b, X, y))
    t_mem.add(Row("mleopt grad: extra peak memory", m, x_mb, target=0.5,
                  strict=True, baseline_name="size of X"))
    t_mem.add(Row("numpy hand gradient: extra peak", _extra_peak_mb(lambda: grad_numpy(b, X, y)),
                  x_mb, baseline_name="size of X"))
    ll_ag = autograd_fns(ag)
    if ll_ag is not None:
        ag_g = ag.grad(ll_ag)
        t_mem.add(Row("autograd grad: extra peak", _extra_peak_mb(lambda: ag_g(b, X, y)), x_mb,
                      baseline_name="size of X"))


def main(argv=None) -> int:
    p = base_parser(__doc__.split("\n\n")[0])
    args = p.parse_args(argv)
    skip = skip_set(args)
    only = only_set(args, ("grad", "hessian", "overhead", "memory"))
    apply_blas_threads(args)
    if args.quick:
        n, k, n_mem = 20_000, 20, 100_000
        repeats = args.repeats or 3
    else:
        n, k, n_mem = 200_000, 20, 1_000_000
        repeats = args.repeats or 9

    ag = optional_import("autograd", "autograd" in skip)
    jax, jnp = import_jax("jax" in skip)
    print_environment("benchmarks/ad.py" + (" --quick" if args.quick else ""),
                      [("autograd", ag), ("jax", jax)])
    if args.quick:
        note("--quick: small sizes and few repeats; a smoke run, not a measurement.")

    t_grad = Table(f"gradient, logit log-likelihood, N={n:,}, K={k} (median of {repeats})")
    t_hess = Table(f"Hessian, N={n:,}, K={k} (median of {repeats}; autograd fewer)")
    t_over = Table(f"per-call overhead, N=944, K=6 (median of {repeats} samples of >= 50 ms)")
    t_mem = Table(f"memory, one gradient, N={n_mem:,}, K={k} (tracemalloc)", unit="MB")

    tables = []
    if only & {"grad", "hessian"}:
        section_grad_hess(n, k, repeats, ag, jax, jnp, t_grad if "grad" in only else None,
                          t_hess if "hessian" in only else None)
        tables += [t for t, w in ((t_grad, "grad"), (t_hess, "hessian")) if w in only]
    if "overhead" in only:
        section_overhead(944, 6, repeats, ag, t_over)
        tables.append(t_over)
    if "memory" in only:
        section_memory(n_mem, k, ag, t_mem)
        tables.append(t_mem)
    return finish(tables, markdown=args.markdown)


if __name__ == "__main__":
    sys.exit(main())
