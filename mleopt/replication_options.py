"""The options of the tutorial replication, shared by ``mleopt replicate`` (mleopt.cli) and
examples/replicate_mle_autograd.py (mleopt.replication). argparse only: ``mleopt --help``
must not import the numerical stack."""
from __future__ import annotations

import argparse

__all__ = ["add_replicate_arguments"]


def add_replicate_arguments(p: argparse.ArgumentParser) -> None:
    """Add the replication's options to ``p``."""
    p.add_argument("--quick", action="store_true",
                   help="time each fit once instead of three times (medians of 1 run)")
    p.add_argument("--repeats", type=int, default=None, metavar="R",
                   help="timing repeats per fit (default 3, or 1 with --quick)")
    p.add_argument("--ks", type=int, nargs="+", default=[10, 50, 100], metavar="K",
                   help="numbers of parameters in the speed table (default: 10 50 100; "
                        "K = 100 takes tens of seconds because of finite-difference BFGS)")
    p.add_argument("--seed", type=int, default=1234,
                   help="random seed of the simulated data (default 1234)")
    p.add_argument("--skip-speed", action="store_true",
                   help="run steps 1 and 2 only (no timings)")
