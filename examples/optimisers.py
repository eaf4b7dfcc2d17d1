"""Gradient descent, SGD, Adam, BFGS and Newton on one likelihood: how fast to 1e-6?

The likelihood is a Logit on 2,000 simulated rows (a constant and three standard-normal
regressors, seed 1). Every optimiser starts from zero and works on the same scale (each
coefficient per unit of its regressor's root mean square, the scale mleopt's optimisers
see). The target is a gradient of the mean log-likelihood below 1e-6: its 2-norm for the
first-order methods (checked after each epoch, over all rows), its largest component for
BFGS and Newton (their gtol). Gradient descent is ``method="sgd"`` with one batch of all rows
(lr 4: about 1 / the largest curvature); SGD (momentum 0.9) and Adam take batches of 100 rows
with an exponentially decaying learning rate (mleopt.optim.exponential_lr) and run alone
(``polish=False``): minibatch noise keeps them above 1e-6, which is why ``fit`` polishes
with Newton by default (the last line: Adam, then Newton from where it stopped).

A convergence plot (gradient norm against time) is saved when matplotlib is installed.

Run: python examples/optimisers.py [--plot optimisers.png]
"""
import argparse
import os
import tempfile
import time

import numpy as np

from mleopt import Logit, optim

ap = argparse.ArgumentParser()
ap.add_argument("--plot", default=os.path.join(tempfile.gettempdir(), "mleopt_optimisers.png"))
args = ap.parse_args()

rng = np.random.default_rng(1)
n = 2000
x = np.column_stack([np.ones(n), rng.normal(size=(n, 3))])
y = (rng.random(n) < 1 / (1 + np.exp(-x @ np.array([0.3, 0.8, -0.5, 0.2])))).astype(float)
model = Logit(y, x)
zero = np.zeros(model.k_params)
TARGET = 1e-6

rows, curves = [], {}
exact = model.fit(start_params=zero, gtol=1e-10).params       # the reference MLE

for name, method in [("Newton", "newton"), ("BFGS", "bfgs")]:
    model.fit(method=method, start_params=zero, gtol=TARGET)   # warm-up: imports, caches
    seen = []
    t0 = time.perf_counter()
    res = model.fit(method=method, start_params=zero, gtol=TARGET,
                    callback=lambda p, info: seen.append((info.elapsed, info.grad_max)))
    elapsed = time.perf_counter() - t0
    curves[name] = seen
    rows.append((name, f"{res.iterations} iterations", elapsed, res.converged,
                 float(np.max(np.abs(res.params - exact)))))

stochastic = [
    ("gradient descent", dict(method="sgd", batch_size=model.nobs, lr=4.0, epochs=100)),
    ("SGD (momentum)", dict(method="sgd", batch_size=100, momentum=0.9, epochs=30,
                            lr=optim.exponential_lr(0.1, 0.995))),
    ("Adam", dict(method="adam", batch_size=100, epochs=30,
                  lr=optim.exponential_lr(0.05, 0.995))),
]
for name, kw in stochastic:
    t0 = time.perf_counter()
    res = model.fit(start_params=zero, polish=False, seed=0, **kw)
    hist = res.optim_history
    reached = hist.index[hist["grad_norm"] <= TARGET]
    curves[name] = list(zip(hist["time"], hist["grad_norm"]))
    if len(reached):
        at = hist.loc[reached[0]]
        # the same seed retraces the run: its estimate at the epoch that reached the target
        at_target = model.fit(start_params=zero, polish=False, seed=0,
                              **{**kw, "epochs": int(at["epoch"])}).params
        rows.append((name, f"{int(at['epoch'])} epochs", float(at["time"]), True,
                     float(np.max(np.abs(at_target - exact)))))
    else:
        rows.append((name, f"not in {kw['epochs']} epochs (|grad| "
                     f"{hist['grad_norm'].iloc[-1]:.1e})", time.perf_counter() - t0, False,
                     float(np.max(np.abs(res.params - exact)))))

t0 = time.perf_counter()
res = model.fit(start_params=zero, method="adam", batch_size=100, epochs=5, seed=0,
                lr=optim.exponential_lr(0.05, 0.995), gtol=TARGET)
rows.append(("Adam + Newton", f"5 epochs + {res.iterations} Newton iterations",
             time.perf_counter() - t0, res.converged,
             float(np.max(np.abs(res.params - exact)))))

print(f"Simulated Logit, {model.nobs} rows, {model.k_params} coefficients, from zero; "
      f"target |gradient| <= {TARGET:g}\n")
print(f"{'optimiser':18s} {'to target':36s} {'time (s)':>9s}  reached  max|params - MLE|")
for name, what, secs, ok, err in rows:
    print(f"{name:18s} {what:36s} {secs:9.3f}  {str(ok):7s}  {err:.1e}")

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("\n(matplotlib is not installed: no convergence plot)")
else:
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, pts in curves.items():
        if pts:
            t, g = zip(*pts)
            ax.semilogy(np.maximum(t, 1e-4), np.maximum(g, 1e-17), label=name)
    ax.set_xscale("log")
    ax.axhline(TARGET, color="grey", lw=0.8)
    ax.set_xlabel("seconds")
    ax.set_ylabel("gradient norm (mean log-likelihood)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.plot)
    print(f"\nconvergence plot saved to {args.plot}")
