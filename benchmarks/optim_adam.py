"""Logit by method="adam" + Newton polish against Newton alone (issue 10, section 2).

    PYTHONPATH=. python benchmarks/optim_adam.py [--n 1000000] [--k 20] [--repeats 3]
                                                 [--epochs 1] [--batch-size 10000]

Seeded simulated data: X (n x k: a constant and k-1 standard normals), y ~ Bernoulli(expit(X b)).
Both fits start from the model's default start values. Checked: the adam + polish estimate
equals Newton's to 1e-8 (max absolute difference of params and of standard errors). Reported:
median wall time of each (repeats interleaved), their ratio, Adam's loss per epoch, and the
polish's Newton iterations against Newton's alone.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.special import expit

from mleopt.models import Logit


def make_data(n: int, k: int, seed: int = 12345):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, k))
    x[:, 0] = 1.0
    b = rng.normal(0.0, 0.3, size=k)
    y = (rng.random(n) < expit(x @ b)).astype(np.float64)
    return x, y


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=10_000)
    ap.add_argument("--lr", type=float, default=0.01)
    args = ap.parse_args()
    x, y = make_data(args.n, args.k)
    model = Logit(y, x)
    times = {"newton": [], "adam+newton": []}
    for _ in range(args.repeats):
        t = time.perf_counter()
        newton = model.fit()
        times["newton"].append(time.perf_counter() - t)
        t = time.perf_counter()
        adam = model.fit(method="adam", lr=args.lr, epochs=args.epochs,
                         batch_size=args.batch_size, seed=0)
        times["adam+newton"].append(time.perf_counter() - t)
    dp = float(np.max(np.abs(adam.params - newton.params)))
    ds = float(np.max(np.abs(adam.bse - newton.bse)))
    print(f"Logit N={args.n:,} K={args.k}; adam lr={args.lr}, {args.epochs} epoch(s) of "
          f"batches of {args.batch_size}, seed 0, then Newton")
    print(f"max |params difference| = {dp:.2e}, max |bse difference| = {ds:.2e} "
          f"({'OK' if max(dp, ds) <= 1e-8 else 'FAILED'}: target 1e-8)")
    print(f"converged: newton {newton.converged} ({newton.iterations} iterations); "
          f"adam+newton {adam.converged} (polish {adam.iterations} iterations)")
    print(adam.optim_history.to_string(index=False))
    med = {k: float(np.median(v)) for k, v in times.items()}
    for k, v in med.items():
        print(f"{k:12s} median {v:7.3f} s  ({', '.join(f'{t:.3f}' for t in times[k])})")
    print(f"ratio adam+newton / newton = {med['adam+newton'] / med['newton']:.2f}")


if __name__ == "__main__":
    main()
