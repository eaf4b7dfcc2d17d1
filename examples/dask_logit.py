"""A Logit on a dask DataFrame read from many Parquet files, fitted on a Dask cluster.

The script writes 12 Parquet files (simulated: 240,000 voters, 5 regressors and a region
code) to a temporary directory, reads them back with dask.dataframe.read_parquet (one
partition per file), and fits a Logit on a 2-worker LocalCluster. Each partition is a row
block: its value, gradient, Hessian and score products are computed on the worker that
holds it, by the same mleopt code as in memory, and only K-sized sums travel to the client,
where Newton's method runs. The data are never gathered; ``persist()`` keeps them in the
workers' memory between iterations (without it every iteration re-reads the files).

It prints the progress of the fit (one line per iteration), the summary, cluster-robust
standard errors by region (the cluster labels are a column of the same dask DataFrame),
and checks every number against the same fit on the data loaded in memory with pandas.

Needs the extra: pip install "mleopt[dask]" pyarrow.
Run: python examples/dask_logit.py
"""
import logging
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import dask.dataframe as dd
from distributed import Client, LocalCluster

from mleopt import Logit

# distributed logs its routine shutdown at INFO level, a closed in-process comm with a
# traceback included when the machine is busy; warnings and errors still show.
logging.getLogger("distributed").setLevel(logging.WARNING)

N_FILES, ROWS = 12, 20_000
X_COLS = ["const", "age", "income", "educ", "urban", "tv"]


def write_files(folder: Path) -> None:
    rng = np.random.default_rng(1996)
    beta = np.array([-0.4, 0.3, 0.5, -0.2, 0.25, 0.1])
    for i in range(N_FILES):
        x = rng.normal(size=(ROWS, 5))
        df = pd.DataFrame(x, columns=X_COLS[1:])
        df.insert(0, "const", 1.0)
        p = 1.0 / (1.0 + np.exp(-(df[X_COLS].to_numpy() @ beta)))
        df["vote"] = (rng.uniform(size=ROWS) < p).astype(float)
        df["region"] = rng.integers(0, 50, size=ROWS)
        df.to_parquet(folder / f"part-{i:03d}.parquet", index=False)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                         dashboard_address=None) as cluster, Client(cluster):
        folder = Path(tmp)
        write_files(folder)
        ddf = dd.read_parquet(str(folder / "*.parquet")).persist()
        print(f"{ddf.npartitions} partitions from {N_FILES} Parquet files\n")

        # a tolerance tighter than the default 1e-8, so that the comparison with the
        # in-memory fit below (which starts elsewhere) is about the numbers, not the stop
        res = Logit(ddf["vote"], ddf[X_COLS]).fit(disp=True, gtol=1e-10)
        print(res.summary())
        clustered = res.get_robustcov_results("cluster", groups=ddf["region"])
        print("\nCluster-robust standard errors by region (50 regions):")
        print(clustered.bse.to_string(float_format="{:.6f}".format))

        # the same fit in memory, for comparison
        df = pd.concat([pd.read_parquet(f) for f in sorted(folder.glob("*.parquet"))],
                       ignore_index=True)
        mem = Logit(df["vote"], df[X_COLS]).fit(gtol=1e-10)
        mem_cl = mem.get_robustcov_results("cluster", groups=df["region"])
        print(f"\nrows: dask {res.nobs}, in memory {mem.nobs}")
        print(f"max |params difference| = {np.max(np.abs(res.params - mem.params)):.3e}")
        print(f"max |bse difference| = {np.max(np.abs(res.bse - mem.bse)):.3e}")
        print(f"max |cluster bse difference| = "
              f"{np.max(np.abs(clustered.bse - mem_cl.bse)):.3e}")


if __name__ == "__main__":
    main()
