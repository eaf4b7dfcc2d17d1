"""Every script in examples/ runs, and prints the numbers it promises.

The scripts run as subprocesses (as a user runs them), all started together so the suite
stays fast; the replication runs with ``--quick --ks 10`` (steps 1 and 2 in full, a one-row
speed table). Reference values: tests/references.py (statsmodels 0.15.0, NIST StRD).
"""
from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
import tempfile

import pytest

import references as ref

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

RUNS = {
    "longley_ols.py": [],
    "anes96_logit.py": [],
    "randhie_counts.py": [],
    "counts.py": [],
    "grunfeld_cluster.py": [],
    "user_likelihood.py": [],
    "dask_logit.py": [],
    "heckman_mroz.py": [],
    "ordinal.py": [],
    "survival.py": [],
    "censored.py": [],
    "replicate_mle_autograd.py": ["--quick", "--ks", "10"],
    "optimisers.py": ["--plot", os.path.join(tempfile.mkdtemp(), "optimisers.png")],
    "neural_net_adam.py": [],
    "gaussian_process.py": [],
}
TIMEOUT = 120


def test_every_example_is_tested():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(RUNS)


@pytest.fixture(scope="module")
def outputs():
    """Run all examples concurrently; {script: (returncode, stdout, stderr)}."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("OPENBLAS_NUM_THREADS", "1")  # two cores, several processes at once
    procs = {
        name: subprocess.Popen([sys.executable, str(EXAMPLES / name), *args], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        for name, args in RUNS.items()
    }
    results = {}
    for name, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            err += f"\n(timed out after {TIMEOUT} s)"
        results[name] = (proc.returncode, out, err)
    return results


def _run(outputs, name) -> str:
    code, out, err = outputs[name]
    assert code == 0, f"{name} exited with {code}:\n{err[-3000:]}"
    assert "Traceback" not in err, err
    return out


def _floats(pattern: str, text: str) -> list[tuple[float, ...]]:
    """All matches of ``pattern`` (its groups converted to float)."""
    return [tuple(float(g) for g in m) if isinstance(m, tuple) else (float(m),)
            for m in re.findall(pattern, text, flags=re.M)]


NUM = r"(-?\d+\.?\d*(?:e[-+]?\d+)?)"


def test_longley_matches_nist(outputs):
    out = _run(outputs, "longley_ols.py")
    assert "OLS Regression Results" in out and "converged:" in out
    (coef_digits, se_digits), = _floats(
        rf"Fewest matching digits: coefficients {NUM}, standard errors {NUM}", out)
    assert coef_digits >= 8 and se_digits >= 8
    (const,) = _floats(rf"^const\s+{NUM}\s+-3482258\.63459582", out)[0]
    assert const == pytest.approx(ref.LONGLEY_NIST["params"][0], rel=1e-8)


def test_anes96_logit_and_margeff(outputs):
    out = _run(outputs, "anes96_logit.py")
    assert "Logit Regression Results" in out
    rows = _floats(rf"^PID\s+{NUM}\s+{NUM}", out)
    coef, ame = rows[0], rows[1]      # the summary's row, then the marginal-effects row
    assert coef[0] == pytest.approx(ref.ANES96_LOGIT["params"][2], abs=1e-4)
    i = ref.ANES96_LOGIT["margeff_names"].index("PID")
    assert ame[0] == pytest.approx(ref.ANES96_LOGIT["margeff"][i], abs=2e-6)
    assert ame[1] == pytest.approx(ref.ANES96_LOGIT["margeff_se"][i], abs=2e-6)


def test_randhie_poisson_vs_negbin(outputs):
    out = _run(outputs, "randhie_counts.py")
    assert "NegativeBinomial Regression Results" in out
    alpha = _floats(rf"^alpha\s+{NUM}\s+{NUM}", out)[0][0]
    assert alpha == pytest.approx(ref.RANDHIE_NEGBIN["alpha"], abs=1e-4)
    (lr,), = _floats(rf"LR = 2 \(llf_NB2 - llf_Poisson\) = {NUM}", out)
    expected = 2 * (ref.RANDHIE_NEGBIN["llf"] - ref.RANDHIE_POISSON["llf"])
    assert lr == pytest.approx(expected, abs=1e-3)
    assert "boundary" in out and "halved" in out


def test_grunfeld_cluster_by_firm(outputs):
    out = _run(outputs, "grunfeld_cluster.py")
    assert "Covariance Type:             cluster" in out
    # the comparison table: coef, classical, HC1, cluster, ratio
    row = _floats(rf"^capital\s+{NUM}\s+{NUM}\s+{NUM}\s+{NUM}\s+{NUM}$", out)[0]
    r = ref.GRUNFELD_OLS
    assert row[0] == pytest.approx(r["params"][2], rel=1e-5)
    assert row[1] == pytest.approx(r["bse"][2], rel=1e-5)
    assert row[2] == pytest.approx(r["bse_HC1"][2], rel=1e-5)
    assert row[3] == pytest.approx(r["bse_cluster"][2], rel=1e-5)
    pv = _floats(rf"^capital\s+{NUM}\s+{NUM}$", out)[-1]  # normal vs t(10) p-values
    assert pv[0] == pytest.approx(r["pvalues_cluster"][2], rel=1e-3)
    assert pv[1] == pytest.approx(r["pvalues_cluster_t"][2], rel=1e-3)


def test_user_likelihood_weibull(outputs):
    out = _run(outputs, "user_likelihood.py")
    assert "WeibullAFT Regression Results" in out
    assert re.search(r"converged:\s+True", out)
    checks = re.findall(r"^(const|age_10y|treated|shape)\s+.*\s(True|False)$", out, flags=re.M)
    assert [c[0] for c in checks] == ["const", "age_10y", "treated", "shape"]
    assert all(flag == "True" for _, flag in checks), checks
    est, se = _floats(rf"^hazard ratio, treated\s+{NUM}\s+{NUM}", out)[0]
    true_hr = 0.5488116360940264  # exp(-1.5 * 0.4)
    assert abs(est - true_hr) < 3 * se


def test_replication_quick(outputs):
    out = _run(outputs, "replicate_mle_autograd.py")
    # step 1: the AD gradient is the tutorial's
    (dfdx, analytic), = _floats(rf"^df/dx\s+{NUM}\s+{NUM}", out)
    assert dfdx == pytest.approx(0.86757742, abs=1e-8) and dfdx == pytest.approx(analytic)
    assert len(_floats(rf"^d2f/d(?:x2|xdy|ydx|y2)\s+{NUM}\s+{NUM}", out)) == 4
    # step 2: the gradient norm at each solution (columns: llf, llf - closed form, |gradient|)
    grad_norm = {label: _floats(rf"^{re.escape(label)}\s+{NUM}\s+{NUM}\s+{NUM}", out)[0][2]
                 for label in ("BFGS + AD gradient", "closed-form OLS", "BFGS, finite diff.",
                               "mleopt OLS.fit()")}
    assert grad_norm["mleopt OLS.fit()"] < 1e-6
    assert grad_norm["closed-form OLS"] < 1e-6
    assert grad_norm["BFGS + AD gradient"] < grad_norm["BFGS, finite diff."]
    # step 3: one row (K = 10) with the tutorial's figures beside
    row = _floats(rf"^10\s+" + r"\s+".join([NUM] * 10), out)
    assert len(row) == 1 and row[0][-3:] == (0.214, 0.961, 4.5)
    assert "mleopt's fit converged at every K." in out


def test_dask_logit_from_parquet(outputs):
    out = _run(outputs, "dask_logit.py")
    assert "12 partitions from 12 Parquet files" in out
    assert "Logit Regression Results" in out and re.search(r"converged:\s+True", out)
    assert re.search(r"Dep. Variable:\s+vote", out) and re.search(r"^income\s", out, re.M)
    assert len(re.findall(r"^\s+iter\s+\d+\s+loglike", out, flags=re.M)) >= 3   # progress
    (n_dask, n_mem), = _floats(rf"^rows: dask {NUM}, in memory {NUM}", out)
    assert n_dask == n_mem == 240_000
    (dp,), = _floats(rf"max \|params difference\| = {NUM}", out)
    (db,), = _floats(rf"max \|bse difference\| = {NUM}", out)
    (dc,), = _floats(rf"max \|cluster bse difference\| = {NUM}", out)
    assert dp < 1e-9 and db < 1e-11 and dc < 1e-11


def test_optimisers_reach_the_target_or_say_so(outputs):
    out = _run(outputs, "optimisers.py")
    lines = {line[:18].strip(): line for line in out.splitlines()}
    for name in ("Newton", "BFGS", "gradient descent", "Adam + Newton"):
        assert " True " in lines[name], lines[name]
        err = float(lines[name].split()[-1])
        assert err < 1e-4, lines[name]      # BFGS stops at gtol 1e-6: about 1e-5 away
    for name in ("SGD (momentum)", "Adam"):
        assert "not in 30 epochs" in lines[name] and " False " in lines[name]
    assert "convergence plot saved to" in out


def test_censored_tobit_affairs(outputs):
    out = _run(outputs, "censored.py")
    assert "Tobit Regression Results" in out and "Left-censored:" in out
    assert "log(sigma) = 2.1099 (SE 0.0671" in out          # AER::tobit's Log(scale)
    assert re.search(r"rating\s+-2\.2850\s+0\.408", out)
    assert "rating: extensive" in out and "TruncatedRegression" in out
    assert re.search(r"sigma\s+7\.9432\s+0\.8769", out)     # AER::tobit(right = 4): 7.94
    assert re.search(r"rating\s+-3\.1231\s+0\.5742", out)    # intreg; scipy brute force -3.12314



def test_survival_time_ratio_interval_is_positive(outputs):
    """The time ratio's interval is exp of rx's (R: exp(confint(fit))["rx"], from survreg's
    rx 0.5286, SE 0.5292 on ovarian), not a delta-method interval below 0 with a z test of
    'ratio = 0'."""
    out = _run(outputs, "survival.py")
    assert "95% interval exp(rx's): 0.6014 to 4.7868" in out
    assert not re.search(r"time ratio.*\s1\.8896\s", out)    # the z of 'ratio = 0'
    assert "P>|z|" not in out.split("The four distributions")[1]

# autograd 1.9.1 running the same two programs with only the import lines changed (scratch
# run, 2026-11-30): the numbers each prints.
AUTOGRAD_NEURAL_NET = {"final_loss": 0.010517, "start_loss": 0.837812, "accuracy": 1.0}
AUTOGRAD_GP = {"start": 14.363858, "fitted": 0.618339, "log_amplitude": 0.176960,
               "log_length": 0.316889, "log_noise": -1.776530, "mean": 0.509021,
               "prediction_at_0": (0.4900, 0.0728)}


def test_neural_net_with_adam_as_written_for_autograd(outputs):
    out = _run(outputs, "neural_net_adam.py")
    assert "check_grads: the gradient agrees" in out
    (final, start, acc), = _floats(
        rf"final loss {NUM} \(from {NUM}\), train accuracy {NUM}", out)
    ref_nn = AUTOGRAD_NEURAL_NET
    assert final == pytest.approx(ref_nn["final_loss"], abs=2e-6)
    assert start == pytest.approx(ref_nn["start_loss"], abs=2e-6)
    assert acc == ref_nn["accuracy"]


def test_gaussian_process_as_written_for_autograd(outputs):
    out = _run(outputs, "gaussian_process.py")
    assert "BFGS converged: True" in out
    ref_gp = AUTOGRAD_GP
    (fitted,), = _floats(rf"fitted: -log marginal likelihood {NUM}", out)
    assert fitted == pytest.approx(ref_gp["fitted"], abs=2e-6)
    for name in ("log_amplitude", "log_length", "log_noise", "mean"):
        (value,), = _floats(rf"^  {name}\s+{NUM}$", out)
        assert value == pytest.approx(ref_gp[name], abs=2e-5), name
    (m, s), = _floats(rf"prediction at x = 0.0: {NUM} \+- {NUM}", out)
    assert (m, s) == pytest.approx(ref_gp["prediction_at_0"], abs=2e-4)
