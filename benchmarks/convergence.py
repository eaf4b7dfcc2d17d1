"""False non-convergence on easy models (issue 7, item 6): fits that end converged=False while
sitting at the optimum.

Runs ``--seeds`` seeded fits (default 1,000) of each of four easy models on simulated data,
N = 300: a normal regression written for ``fit_mle`` (log sigma, started at zeros), the same as
a ``LikelihoodModel`` subclass, a built-in ``Logit`` and a built-in ``Poisson`` (default
starts). A fit counts as a false non-convergence when it reports ``converged=False``; each
fit's estimate is also checked against an independent reference (closed-form least squares
for the normal models; for Logit/Poisson a fresh Newton fit from the true parameters), so a
"converged" fit that is not at the optimum would be counted too.

    PYTHONPATH=. python benchmarks/convergence.py            # ~1-2 min on 2 cores
    PYTHONPATH=. python benchmarks/convergence.py --seeds 50
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import mleopt.numpy as mnp
from mleopt import LikelihoodModel, Logit, Poisson, fit_mle
from mleopt.stats import norm

N = 300
BETA = np.array([0.5, 1.0, -0.7])


def design(seed: int) -> tuple[np.random.Generator, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng, np.column_stack([np.ones(N), rng.normal(size=(N, 2))])


class NormalRegression(LikelihoodModel):
    """y ~ N(X b, exp(log_sigma)^2), written by hand."""

    extra_param_names = ("log_sigma",)

    def loglikeobs(self, params):
        return norm.logpdf(self.endog, self.exog @ params[:-1], mnp.exp(params[-1]))


def normal_data(seed: int):
    rng, x = design(seed)
    return x, x @ BETA + rng.normal(scale=0.8, size=N)


def fit_normal_fit_mle(seed: int):
    x, y = normal_data(seed)
    res = fit_mle(lambda p: norm.logpdf(y, x @ p[:3], mnp.exp(p[3])), np.zeros(4))
    return res, _normal_reference(x, y)


def fit_normal_model(seed: int):
    x, y = normal_data(seed)
    return NormalRegression(y, x).fit(start_params=np.zeros(4)), _normal_reference(x, y)


def _normal_reference(x, y):
    b = np.linalg.lstsq(x, y, rcond=None)[0]
    r = y - x @ b
    return np.append(b, 0.5 * np.log(r @ r / N))


def fit_logit(seed: int):
    rng, x = design(seed)
    y = (rng.random(N) < 1 / (1 + np.exp(-(x @ BETA)))).astype(float)
    return Logit(y, x).fit(), Logit(y, x).fit(start_params=BETA).params.to_numpy()


def fit_poisson(seed: int):
    rng, x = design(seed)
    y = rng.poisson(np.exp(0.3 * (x @ BETA))).astype(float)
    return Poisson(y, x).fit(), Poisson(y, x).fit(start_params=0.3 * BETA).params.to_numpy()


FITS = {"fit_mle normal (log sigma, from zeros)": fit_normal_fit_mle,
        "LikelihoodModel normal (from zeros)": fit_normal_model,
        "Logit": fit_logit, "Poisson": fit_poisson}


def run(seeds: int) -> dict[str, tuple[int, int, float]]:
    """Per model: (false non-convergences, converged fits off the reference, seconds)."""
    out = {}
    for name, fit in FITS.items():
        start = time.perf_counter()
        not_converged = off = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for seed in range(seeds):
                res, reference = fit(seed)
                if not res.converged:
                    not_converged += 1
                elif not np.allclose(np.asarray(res.opt.theta if "normal" in name
                                                else res.params), reference,
                                     rtol=1e-6, atol=1e-6):
                    off += 1
        out[name] = (not_converged, off, time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000)
    args = parser.parse_args()
    print(f"{args.seeds} seeds per model, N = {N}")
    print(f"{'model':42s} {'not converged':>14s} {'converged, off':>15s} {'time':>8s}")
    for name, (bad, off, secs) in run(args.seeds).items():
        print(f"{name:42s} {bad:>14d} {off:>15d} {secs:>7.1f}s")


if __name__ == "__main__":
    main()
