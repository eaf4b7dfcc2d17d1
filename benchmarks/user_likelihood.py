"""A user's own likelihood as fast as a built-in model (issue 8, part 2: structure without
declarations).

    PYTHONPATH=. python benchmarks/user_likelihood.py [--repeats 7] [--quick] [--skip jax]
                                                      [--only tobit,probit] [--blas-threads 1]

- tobit (N=100,000, K=10 and 50): the Tobit log-likelihood as a user writes it (README /
  issue 8), ``hessian(f)`` against (log-likelihood + gradient + one X'WX product) measured in
  the same run, target <= 2x; and against JAX's jit-compiled ``jax.hessian`` of the same
  function, target <= 0.5x. The general forward-over-reverse path (K tangents of length N,
  what ``hessian`` did before mleopt.ad.structure) is shown for information.
- probit (N=200,000, K=20): the README's MyProbit (a LikelihoodModel subclass written by
  hand) ``fit()`` against the built-in ``Probit.fit()``, target <= 1.2x.

Before timing, the Hessians are checked against each other (1e-8 relative).
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np                                  # noqa: E402

from common import (Row, Table, apply_blas_threads, base_parser, check_close,  # noqa: E402
                    finish, import_jax, median_times, only_set, print_environment, skip_set)

import mleopt.numpy as mnp                          # noqa: E402
from mleopt import LikelihoodModel, Probit          # noqa: E402
from mleopt import ad                               # noqa: E402
from mleopt.ad import api                           # noqa: E402
from mleopt.special import log_ndtr                 # noqa: E402
from mleopt.stats import norm                       # noqa: E402


def tobit_data(n: int, k: int, seed: int = 8):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k - 1))
    X[:, 0] = 1.0
    beta = rng.normal(0.0, 0.3, size=k - 1)
    y = np.maximum(X @ beta + rng.standard_normal(n), 0.0)
    return X, y, np.concatenate([beta, [0.1]])


def tobit_mleopt(X, y):
    def loglikeobs(params):
        beta, lns = params[:-1], params[-1]
        s = mnp.exp(lns)
        xb = X @ beta
        return mnp.where(y <= 0, norm.logcdf(-xb / s), norm.logpdf(y, xb, s))

    def f(params):
        return mnp.sum(loglikeobs(params))
    return f


def tobit_jax(jax, jnp, X, y):
    from jax.scipy.stats import norm as jnorm
    Xj, yj = jnp.asarray(X), jnp.asarray(y)

    def f(params):
        beta, lns = params[:-1], params[-1]
        s = jnp.exp(lns)
        xb = Xj @ beta
        return jnp.sum(jnp.where(yj <= 0, jnorm.logcdf(-xb / s), jnorm.logpdf(yj, xb, s)))
    return jax.jit(jax.hessian(f))


def section_tobit(n, k, repeats, jax, jnp, table: Table):
    print(f"user Tobit, N={n:,}, K={k}", flush=True)
    X, y, p = tobit_data(n, k)
    f = tobit_mleopt(X, y)
    g = ad.grad(f)
    h = ad.hessian(f)
    w = np.random.default_rng(1).random(n)
    h_ref = api._jacobian_forward(g, (p,), {}, 0)   # the general path
    check_close("hessian (index path) vs general path", h(p), h_ref, 1e-8)
    fns = {"ll": lambda: f(p), "grad": lambda: g(p), "xwx": lambda: X.T @ (X * w[:, None]),
           "hessian": lambda: h(p)}
    if jax is not None:
        hj = tobit_jax(jax, jnp, X, y)
        pj = jnp.asarray(p)
        check_close("jax hessian (jit)", np.asarray(hj(pj)), h_ref, 1e-8)
        fns["jax"] = lambda: hj(pj).block_until_ready()
    t = median_times(fns, repeats=repeats)
    t_gen = median_times({"general": lambda: api._jacobian_forward(g, (p,), {}, 0)},
                         repeats=max(3, repeats // 2))["general"]
    base = t["ll"].ms + t["grad"].ms + t["xwx"].ms
    table.add(Row(f"K={k}: log-lik", t["ll"].ms, None))
    table.add(Row(f"K={k}: gradient", t["grad"].ms, None))
    table.add(Row(f"K={k}: X'WX (one product)", t["xwx"].ms, None))
    table.add(Row(f"K={k}: hessian vs ll + grad + X'WX", t["hessian"].ms, base, target=2.0,
                  baseline_name="ll+grad+X'WX"))
    if "jax" in t:
        table.add(Row(f"K={k}: hessian vs jax jit hessian", t["hessian"].ms, t["jax"].ms,
                      target=0.5, baseline_name="jax jit"))
    table.add(Row(f"K={k}: general forward-over-reverse (before)", t_gen.ms, base,
                  baseline_name="ll+grad+X'WX"))


class MyProbit(LikelihoodModel):
    """The README's hand-written probit."""

    def loglikeobs(self, params):
        q = 2 * self.endog - 1
        return log_ndtr(q * (self.exog @ params))


def section_probit(n, k, repeats, table: Table):
    print(f"README MyProbit vs built-in Probit, N={n:,}, K={k}", flush=True)
    rng = np.random.default_rng(20)
    X = rng.standard_normal((n, k))
    X[:, 0] = 1.0
    y = (X @ rng.normal(0.0, 0.2, size=k) + rng.standard_normal(n) > 0).astype(float)
    mine, builtin = MyProbit(y, X), Probit(y, X)
    check_close("MyProbit params vs Probit", mine.fit().params, builtin.fit().params, 1e-6)
    t = median_times({"builtin": lambda: Probit(y, X).fit(),
                      "mine": lambda: MyProbit(y, X).fit()}, repeats=repeats)
    table.add(Row("Probit.fit() (built-in)", t["builtin"].ms, None))
    table.add(Row("MyProbit.fit() (README)", t["mine"].ms, t["builtin"].ms, target=1.2,
                  baseline_name="Probit"))


def main(argv=None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    args = parser.parse_args(argv)
    apply_blas_threads(args)
    only = only_set(args, {"tobit", "probit"})
    skip = skip_set(args)
    jax, jnp = import_jax("jax" in skip)
    print_environment("benchmarks/user_likelihood.py", [("jax", jax)])
    repeats = 3 if args.quick else (args.repeats or 7)
    n_tobit, n_probit = (5_000, 10_000) if args.quick else (100_000, 200_000)
    tables = []
    if "tobit" in only:
        t = Table("user Tobit: Hessian")
        for k in (10, 50):
            section_tobit(n_tobit, k, repeats, jax, jnp, t)
        tables.append(t)
    if "probit" in only:
        t = Table("README MyProbit fit vs built-in Probit")
        section_probit(n_probit, 20, repeats, t)
        tables.append(t)
    return finish(tables, markdown=args.markdown)


if __name__ == "__main__":
    sys.exit(main())
