"""The cost of the separation check after a non-separated fit on Dask data.

Logit and Poisson on dask arrays (threaded scheduler, data made in memory, 10 partitions),
fitted with the check (DaskModel._after_fit) and with it replaced by a no-op, in the same
run; medians of 3 fits, and the passes over the partitions (``_block_map`` calls) counted.

    PYTHONPATH=. python benchmarks/dask_separation_check.py [N]        # N = 1e6, K = 20
"""
from __future__ import annotations

import statistics
import sys
import time

import numpy as np

import dask.array as da

from mleopt import Logit, Poisson
from mleopt.models import dask as dm


def main(n: int = 1_000_000, k: int = 20, parts: int = 10) -> None:
    rng = np.random.default_rng(0)
    x = np.column_stack([np.ones(n), rng.standard_normal((n, k - 1))])
    beta = np.linspace(-0.5, 0.5, k)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-x @ beta))).astype(float)
    yc = rng.poisson(np.exp(x @ (beta / 3))).astype(float)
    exog = da.from_array(x, chunks=(n // parts, k))
    calls: list[str] = []
    block_map, checked = dm.DaskModel._block_map, dm.DaskModel._after_fit

    def counting(self, method, *args, **kwargs):
        calls.append(method)
        return block_map(self, method, *args, **kwargs)

    dm.DaskModel._block_map = counting
    try:
        for model_class, endog in ((Logit, y), (Poisson, yc)):
            endog = da.from_array(endog, chunks=n // parts)
            seconds = {}
            for label, hook in (("without", lambda self, record: None), ("with", checked)):
                dm.DaskModel._after_fit = hook
                times = []
                for _ in range(3):
                    model = model_class(endog, exog)
                    calls.clear()
                    start = time.perf_counter()
                    model.fit(disp=0)
                    times.append(time.perf_counter() - start)
                seconds[label] = statistics.median(times)
                print(f"{model_class.__name__:8s} {label:8s} check: {seconds[label]:.2f} s, "
                      f"{len(calls)} passes ({', '.join(sorted(set(calls)))})")
            print(f"{model_class.__name__:8s} with / without: "
                  f"{seconds['with'] / seconds['without']:.3f}")
    finally:
        dm.DaskModel._block_map, dm.DaskModel._after_fit = block_map, checked


if __name__ == "__main__":
    main(int(float(sys.argv[1])) if len(sys.argv) > 1 else 1_000_000)
