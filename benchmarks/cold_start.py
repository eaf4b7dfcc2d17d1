"""Cold start: a fresh Python process that imports the library, fits the anes96 Logit and
prints its summary; mleopt against the same script with statsmodels (issue 8).

    python benchmarks/cold_start.py [--repeats 5]

Each repeat runs both scripts once as ``python script.py`` in a new process (interleaved,
so that both see the same machine load); the figure is the median wall time of each and
their ratio. Target: mleopt / statsmodels <= 0.5. The mleopt script imports the mleopt of
this checkout (PYTHONPATH is set to the repository root). Before timing, both scripts run
once and their coefficients are compared (a benchmark of a wrong answer is worthless). The
statsmodels line is skipped, with a note, when statsmodels is not installed.

To see what a cold start imports: ``python -X importtime -c "..."`` with the script below.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ANES96 = os.path.join(ROOT, "datasets", "anes96.csv")

MLEOPT_SCRIPT = """\
from mleopt import Logit, add_constant
from mleopt.datasets import load

anes = load("anes96")
X = add_constant(anes[["TVnews", "PID", "age", "educ", "income"]])
res = Logit(anes["vote"], X).fit()
print(res.summary())
print("PARAMS", list(res.params))
"""

STATSMODELS_SCRIPT = f"""\
import pandas as pd
import statsmodels.api as sm

anes = pd.read_csv({ANES96!r})
X = sm.add_constant(anes[["TVnews", "PID", "age", "educ", "income"]])
res = sm.Logit(anes["vote"], X).fit(disp=0)
print(res.summary())
print("PARAMS", list(res.params))
"""


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(path: str, env: dict) -> tuple[float, float, str]:
    """Wall time and CPU time (user + system) of ``python path`` in a new process, and its
    standard output. CPU time is less sensitive to the load of a shared machine."""
    c0, t0 = _child_cpu(), time.perf_counter()
    out = subprocess.run([sys.executable, path], env=env, cwd=ROOT, capture_output=True,
                         text=True, check=True)
    return time.perf_counter() - t0, _child_cpu() - c0, out.stdout


def params_of(stdout: str) -> list[float]:
    line = [ln for ln in stdout.splitlines() if ln.startswith("PARAMS")][-1]
    return [float(v) for v in line[len("PARAMS"):].strip(" []").split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    have_sm = importlib.util.find_spec("statsmodels") is not None
    with tempfile.TemporaryDirectory() as tmp:
        scripts = {"mleopt": os.path.join(tmp, "cold_mleopt.py")}
        if have_sm:
            scripts["statsmodels"] = os.path.join(tmp, "cold_statsmodels.py")
        texts = {"mleopt": MLEOPT_SCRIPT, "statsmodels": STATSMODELS_SCRIPT}
        for name, path in scripts.items():
            with open(path, "w") as fh:
                fh.write(texts[name])
        # one untimed run each: checks the answers and warms the file system cache
        params = {name: params_of(run(path, env)[2]) for name, path in scripts.items()}
        if have_sm:
            worst = max(abs(a - b) / max(abs(b), 1e-12)
                        for a, b in zip(params["mleopt"], params["statsmodels"]))
            if worst > 1e-6:
                raise SystemExit(f"mleopt and statsmodels disagree (max rel. diff {worst:.2g})")
        times: dict[str, list[float]] = {name: [] for name in scripts}
        cpu: dict[str, list[float]] = {name: [] for name in scripts}
        for _ in range(args.repeats):
            for name, path in scripts.items():
                wall, used, _ = run(path, env)
                times[name].append(wall)
                cpu[name].append(used)
    print(f"Cold start, anes96 Logit fit + summary, median of {args.repeats} runs "
          f"(python {sys.version.split()[0]})")
    med = {name: statistics.median(v) for name, v in times.items()}
    med_cpu = {name: statistics.median(v) for name, v in cpu.items()}
    for name, v in times.items():
        print(f"  {name:12s} wall {med[name]:6.3f} s   cpu {med_cpu[name]:6.3f} s   "
              f"wall runs: {', '.join(f'{t:.3f}' for t in v)}")
    if have_sm:
        ratio = med["mleopt"] / med["statsmodels"]
        verdict = "PASS" if ratio <= 0.5 else "FAIL"
        print(f"  mleopt / statsmodels = {ratio:.2f}x wall   (target <= 0.5x: {verdict}); "
              f"{med_cpu['mleopt'] / med_cpu['statsmodels']:.2f}x cpu")
    else:
        print("  note: statsmodels is not installed; the ratio is skipped.")


if __name__ == "__main__":
    main()
