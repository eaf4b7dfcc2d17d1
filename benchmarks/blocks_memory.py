"""Extra peak memory of a whole fit under row blocks (issue 8, part 1).

Each case runs in a fresh subprocess: build the data and the model, then measure the peak of
numpy's allocations (tracemalloc sees them) during ``fit()`` (with the default nonrobust
standard errors) above what was allocated before it, as a multiple of the size of X.

    PYTHONPATH=. python benchmarks/blocks_memory.py                # Logit N=4e6, K=20
    PYTHONPATH=. python benchmarks/blocks_memory.py --n 1000000 --k 20 --model tobit
    PYTHONPATH=. python benchmarks/blocks_memory.py --budget 10GB  # one block, for contrast
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, sys, time, tracemalloc
import numpy as np
import mleopt
from mleopt import Logit, LikelihoodModel
from mleopt import numpy as mnp
from mleopt.stats import norm
n, k, model, budget, threads = json.loads(sys.argv[1])
rng = np.random.default_rng(0)
x = np.empty((n, k)); x[:, 0] = 1.0; x[:, 1:] = rng.standard_normal((n, k - 1))
beta = rng.normal(scale=0.2, size=k)
class Tobit(LikelihoodModel):
    extra_param_names = ["log_sigma"]
    def loglikeobs(self, params):
        b, lns = params[:-1], params[-1]
        s = mnp.exp(lns); xb = self.exog @ b
        return mnp.where(self.endog <= 0, norm.logcdf(-xb / s), norm.logpdf(self.endog, xb, s))
if model == "logit":
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(x @ beta)))).astype(float)
    m = Logit(y, x)
else:
    y = np.maximum(x @ beta + rng.standard_normal(n), 0.0)
    m = Tobit(y, x)
del y
tracemalloc.start()
base = tracemalloc.get_traced_memory()[0]
t = time.perf_counter()
res = m.fit(block_memory=budget, n_threads=threads)
bse = res.bse
elapsed = time.perf_counter() - t
peak = tracemalloc.get_traced_memory()[1] - base
print(json.dumps({"peak": peak, "x": x.nbytes, "time": elapsed, "converged": res.converged,
                  "blocks": len(m._blocks()[0]), "iterations": res.iterations}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4_000_000)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--model", choices=["logit", "tobit"], default="logit")
    ap.add_argument("--budget", default="256MB")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    arg = json.dumps([a.n, a.k, a.model, a.budget, a.threads])
    out = subprocess.run([sys.executable, "-c", CHILD, arg], capture_output=True, text=True)
    if out.returncode:
        sys.exit(out.stderr)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{a.model} N={a.n:,} K={a.k} block_memory={a.budget} n_threads={a.threads}: "
          f"{r['blocks']} blocks, {r['iterations']} iterations, converged={r['converged']}")
    print(f"  X: {r['x'] / 2**20:.0f} MiB; extra peak during fit + SEs: "
          f"{r['peak'] / 2**20:.0f} MiB = {r['peak'] / r['x']:.2f}x X; time {r['time']:.1f} s")


if __name__ == "__main__":
    main()
