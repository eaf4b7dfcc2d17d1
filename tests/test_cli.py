"""The ``mleopt`` command line: fits, reports, and one-line errors (never a traceback)."""
from __future__ import annotations

import io
import os
import pathlib
import shlex
import subprocess
import sys

import pandas as pd
import pytest

import references as ref
from mleopt import datasets
from mleopt.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[1]
ANES_X = ["TVnews", "PID", "age", "educ", "income"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments, status=1):
    assert code == status
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# ---- help ----------------------------------------------------------------------------------

def test_python_m_mleopt_help():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-m", "mleopt", "--help"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for command in ("fit", "replicate", "datasets"):
        assert command in proc.stdout


def test_fit_help_is_complete(capsys):
    code, out, _ = run(capsys, "fit", "--help")
    assert code == 0
    for option in ("--model", "--data", "--y", "--x", "--no-constant", "--cov", "--groups",
                   "--method", "--format", "--missing", "--maxiter", "--formula", "--sep",
                   "--separation"):
        assert option in out
    for word in ("ols", "logit", "probit", "poisson", "negbin", "nonrobust", "HC0", "HC1",
                 "HC2", "HC3", "classical", "opg", "cluster", "HAC", "eim", "jackknife",
                 "bootstrap", "--maxlags", "--reps", "--seed", "text", "html", "csv"):
        assert word in out
    assert "examples:" in out


def test_fit_help_examples_are_whole_commands(capsys):
    """Each example's continuation lines follow a line ending in a backslash (a missing one
    printed "--cov HAC --maxlags 4" glued to the previous line by 14 spaces), and each example
    parses as a command."""
    from mleopt.cli import build_parser
    _, out, _ = run(capsys, "fit", "--help")
    block = out.split("examples:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    commands, previous = [], ""
    for line in block:
        if line.startswith("  mleopt "):
            commands.append(line.strip())
        else:
            assert previous.endswith("\\"), f"continuation without a backslash: {line!r}"
            commands[-1] += " " + line.strip()
        assert "   " not in line.strip(), f"runs of spaces inside an example: {line!r}"
        previous = line
    assert len(commands) >= 5
    for command in commands:
        argv = shlex.split(command.replace("\\", " ").split(" > ")[0])[1:]
        build_parser().parse_args(argv)


@pytest.mark.parametrize("command, options", [
    ("replicate", ["--quick", "--ks", "--repeats", "--seed"]),
    ("datasets", ["NAME"]),
])
def test_subcommand_help(capsys, command, options):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    for option in options:
        assert option in out


def test_no_command_prints_help(capsys):
    code, _, err = run(capsys)
    assert code == 2
    assert "fit" in err and "give a command" in err


# ---- datasets ------------------------------------------------------------------------------

def test_datasets_lists_every_bundled_dataset(capsys):
    code, out, _ = run(capsys, "datasets")
    assert code == 0
    for name in datasets.names():
        assert name in out
    assert "944 rows" in out  # anes96


def test_datasets_describes_one(capsys):
    code, out, _ = run(capsys, "datasets", "longley")
    assert code == 0
    assert "NIST" in out and "TOTEMP" in out and "16 rows" in out


def test_datasets_unknown_name(capsys):
    code, _, err = run(capsys, "datasets", "nosuch")
    assert_one_line_error(code, err, "nosuch", "anes96")


# ---- fit: output ---------------------------------------------------------------------------

def test_fit_logit_text(capsys):
    code, out, err = run(capsys, "fit", "--model", "logit", "--data", "anes96", "--y", "vote",
                         "--x", *ANES_X)
    assert code == 0, err
    assert "Logit Regression Results" in out
    assert "Dep. Variable:" in out and "vote" in out
    assert "PID" in out and "1.2195" in out


def test_fit_logit_csv_matches_statsmodels(capsys):
    code, out, err = run(capsys, "fit", "--model", "logit", "--data", "anes96", "--y", "vote",
                         "--x", *ANES_X, "--format", "csv")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out), index_col=0)
    assert list(table.index) == ref.ANES96_LOGIT["exog_names"]
    assert table.iloc[:, 0].to_numpy() == pytest.approx(ref.ANES96_LOGIT["params"], rel=1e-6)
    assert table.iloc[:, 1].to_numpy() == pytest.approx(ref.ANES96_LOGIT["bse"], rel=1e-5)


def test_fit_html(capsys):
    code, out, err = run(capsys, "fit", "--model", "probit", "--data", "anes96", "--y", "vote",
                         "--x", *ANES_X, "--format", "html")
    assert code == 0, err
    assert "<table" in out and "PID" in out


def test_fit_ols_cluster_by_text_column(capsys):
    code, out, err = run(capsys, "fit", "--model", "ols", "--data", "grunfeld", "--y", "invest",
                         "--x", "value", "capital", "--cov", "cluster", "--groups", "firm",
                         "--format", "csv")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out), index_col=0)
    bse = table.loc[["const", "value", "capital"]].iloc[:, 1].to_numpy()
    assert bse == pytest.approx(ref.GRUNFELD_OLS["bse_cluster"], rel=1e-6)


# statsmodels 0.15.0: sm.Poisson(anes96.TVnews, add_constant(anes96[["age", "educ"]])).fit(
# cov_type="HAC", cov_kwds={"maxlags": 2}).bse, and cov_type="cluster" with the groups
# column_stack of pd.factorize(educ)[0], pd.factorize(income)[0] (two-way)
ANES_POISSON_HAC2_BSE = [0.09580559984629085, 0.0011512827937078167, 0.01297846447106977]
ANES_POISSON_2WAY_BSE = [0.09174289433934053, 0.0011679048536167665, 0.005655609400260713]


def _csv_bse(out):
    return pd.read_csv(io.StringIO(out), index_col=0).iloc[:, 1].to_numpy()


def test_fit_new_covariances(capsys):
    """--cov offers HAC (--maxlags), two-way cluster (two --groups), eim, jackknife and
    bootstrap (--reps, --seed); options another --cov would ignore are refused."""
    base = ["fit", "--model", "poisson", "--data", "anes96", "--y", "TVnews", "--x", "age",
            "educ", "--format", "csv"]
    code, out, err = run(capsys, *base, "--cov", "HAC", "--maxlags", "2")
    assert code == 0, err
    assert _csv_bse(out) == pytest.approx(ANES_POISSON_HAC2_BSE, rel=1e-7)
    code, out, err = run(capsys, *base, "--cov", "cluster", "--groups", "educ", "income")
    assert code == 0, err
    assert _csv_bse(out) == pytest.approx(ANES_POISSON_2WAY_BSE, rel=1e-7)
    boot = [run(capsys, *base, "--cov", "bootstrap", "--reps", "5", "--seed", "3")
            for _ in range(2)]
    assert boot[0][0] == 0 and boot[0][1] == boot[1][1]
    code, out, err = run(capsys, *base, "--cov", "eim")
    assert code == 0, err
    code, _, err = run(capsys, *base, "--cov", "HAC")
    assert_one_line_error(code, err, "--cov HAC", "--maxlags")
    code, _, err = run(capsys, *base, "--cov", "jackknife", "--seed", "1")
    assert_one_line_error(code, err, "--seed", "--cov bootstrap")
    code, _, err = run(capsys, *base, "--cov", "cluster", "--groups", "educ", "income", "age")
    assert_one_line_error(code, err, "--groups", "two-way")


def test_fit_ols_classical_and_method(capsys):
    code, out, err = run(capsys, "fit", "--model", "ols", "--data", "longley", "--y", "TOTEMP",
                         "--x", "GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR",
                         "--cov", "classical", "--format", "csv")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out), index_col=0)
    assert table.iloc[:7, 0].to_numpy() == pytest.approx(ref.LONGLEY_NIST["params"], rel=1e-8)
    assert table.iloc[:7, 1].to_numpy() == pytest.approx(ref.LONGLEY_NIST["bse"], rel=1e-8)


def test_fit_bfgs_method(capsys):
    code, out, err = run(capsys, "fit", "--model", "poisson", "--data", "anes96", "--y",
                         "TVnews", "--x", "age", "educ", "--method", "bfgs", "--format", "csv")
    assert code == 0, err
    assert "age" in out


def test_fit_x_may_be_repeated(capsys):
    code, out, err = run(capsys, "fit", "--model", "ols", "--data", "grunfeld", "--y", "invest",
                         "--x", "value", "--x", "capital", "--format", "csv")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out), index_col=0)
    assert list(table.index) == ["const", "value", "capital", "sigma"]


def test_fit_not_converged_is_said_loudly(capsys):
    code, out, err = run(capsys, "fit", "--model", "logit", "--data", "anes96", "--y", "vote",
                         "--x", *ANES_X, "--method", "bfgs", "--maxiter", "2")
    assert code == 0  # the report is printed, and says so
    assert "converged:" in out and "False" in out
    assert "warning" in err and "converge" in err and "Traceback" not in err


def test_fit_no_constant(capsys):
    code, out, err = run(capsys, "fit", "--model", "ols", "--data", "engel", "--y", "foodexp",
                         "--x", "income", "--no-constant", "--format", "csv")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out), index_col=0)
    assert "const" not in table.index and "income" in table.index


def test_fit_csv_file_and_missing_drop(capsys, tmp_path):
    df = datasets.load("engel")
    path = tmp_path / "engel.csv"
    df.to_csv(path, index=False)
    code, out, err = run(capsys, "fit", "--model", "ols", "--data", str(path), "--y",
                         "foodexp", "--x", "income", "--format", "csv")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out), index_col=0)
    assert table.loc[["const", "income"]].iloc[:, 0].to_numpy() == pytest.approx(
        ref.ENGEL_OLS["params"], rel=1e-8)

    df.loc[3, "income"] = float("nan")
    df.to_csv(path, index=False)
    code, _, err = run(capsys, "fit", "--model", "ols", "--data", str(path), "--y", "foodexp",
                       "--x", "income")
    assert_one_line_error(code, err, "income")
    code, out, err = run(capsys, "fit", "--model", "ols", "--data", str(path), "--y",
                         "foodexp", "--x", "income", "--missing", "drop")
    assert code == 0
    assert "dropped 1 of 235 rows" in err and "No. Observations:" in out and "234" in out


# ---- fit: errors -----------------------------------------------------------------------------

def fit_args(**over):
    args = {"--model": "ols", "--data": "grunfeld", "--y": "invest", "--x": ["value"]}
    args.update(over)
    argv = ["fit"]
    for key, value in args.items():
        if value is None:
            continue
        argv += [key, *value] if isinstance(value, list) else [key, value]
    return argv


def test_error_missing_file(capsys, tmp_path):
    missing = str(tmp_path / "nowhere.csv")
    code, _, err = run(capsys, *fit_args(**{"--data": missing}))
    assert_one_line_error(code, err, "nowhere.csv", "no such file")


def test_error_unknown_dataset(capsys):
    code, _, err = run(capsys, *fit_args(**{"--data": "anes69"}))
    assert_one_line_error(code, err, "anes69", "anes96", "grunfeld")


def test_error_unknown_column_lists_available(capsys):
    code, _, err = run(capsys, *fit_args(**{"--x": ["value", "capitol"]}))
    assert_one_line_error(code, err, "capitol", "available columns", "capital", "firm")
    code, _, err = run(capsys, *fit_args(**{"--y": "investment"}))
    assert_one_line_error(code, err, "--y", "investment", "invest")


def test_error_non_numeric_column(capsys):
    code, _, err = run(capsys, *fit_args(**{"--x": ["value", "firm"]}))
    assert_one_line_error(code, err, "firm", "not numeric", "General Motors")


def test_error_model_failure_passes_the_models_message(capsys):
    # invest is not a 0/1 outcome: the Logit model's own message
    code, _, err = run(capsys, *fit_args(**{"--model": "logit"}))
    assert_one_line_error(code, err, "Logit failed", "invest")


def test_error_cov_type_not_for_this_model(capsys):
    code, _, err = run(capsys, *fit_args(**{"--model": "poisson", "--data": "anes96",
                                            "--y": "TVnews", "--x": ["age"], "--cov": "HC3"}))
    assert_one_line_error(code, err, "HC3", "OLS")


def test_error_cluster_without_groups(capsys):
    code, _, err = run(capsys, *fit_args(**{"--cov": "cluster"}))
    assert_one_line_error(code, err, "--cov cluster", "--groups")
    code, _, err = run(capsys, *fit_args(**{"--groups": "firm"}))
    assert_one_line_error(code, err, "--groups", "cluster")


def test_error_unknown_groups_column(capsys):
    code, _, err = run(capsys, *fit_args(**{"--cov": "cluster", "--groups": "company"}))
    assert_one_line_error(code, err, "company", "available columns")


def test_error_y_among_x(capsys):
    code, _, err = run(capsys, *fit_args(**{"--x": ["value", "invest"]}))
    assert_one_line_error(code, err, "invest", "regressor")


def test_error_unknown_method(capsys):
    code, _, err = run(capsys, *fit_args(**{"--method": "sgdx"}))
    assert_one_line_error(code, err, "sgdx")


def test_error_bad_csv(capsys, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    code, _, err = run(capsys, *fit_args(**{"--data": str(path)}))
    assert_one_line_error(code, err, "empty")


@pytest.mark.parametrize("argv, fragment", [
    (["fit", "--model", "tobit", "--data", "anes96", "--y", "vote", "--x", "PID"], "tobit"),
    (["fit", "--data", "anes96", "--y", "vote", "--x", "PID"], "--model"),
    (["fit", "--model", "ols", "--data", "anes96", "--y", "vote", "--x", "PID",
      "--cov", "HC9"], "HC9"),
    (["frobnicate"], "frobnicate"),
])
def test_usage_errors_exit_2_with_one_line(capsys, argv, fragment):
    code, _, err = run(capsys, *argv)
    assert_one_line_error(code, err, fragment, status=2)


# ---- replicate -------------------------------------------------------------------------------

def test_replicate_steps_1_and_2(capsys):
    code, out, err = run(capsys, "replicate", "--skip-speed")
    assert code == 0, err
    assert "Step 1." in out and "Step 2." in out and "Step 3." not in out
    assert "0.86757742" in out


def test_replicate_bad_ks(capsys):
    code, _, err = run(capsys, "replicate", "--ks", "1")
    assert_one_line_error(code, err, "--ks")


def test_replicate_defaults_agree_with_the_module():
    from mleopt import replication

    args = replication.build_parser().parse_args([])
    assert args.ks == list(replication.DEFAULT_KS) and args.seed == replication.DEFAULT_SEED
    assert args.repeats is None and not args.quick


# ---- issue 7: --separation, --version, --sep -------------------------------------------------

def _separated_csv(tmp_path):
    df = datasets.load("anes96")[["vote", "PID", "age", "educ"]].copy()
    df["sep"] = (df["vote"] == 1) * (1.0 + df["age"] / 100)
    path = tmp_path / "separated.csv"
    df.to_csv(path, index=False)
    return str(path)


def test_fit_separation_option(capsys, tmp_path):
    path = _separated_csv(tmp_path)
    argv = ["fit", "--model", "logit", "--data", path, "--y", "vote", "--x", "PID", "age",
            "educ", "sep"]
    code, _, err = run(capsys, *argv)
    assert_one_line_error(code, err, "perfect separation", "'sep'", "--separation warn")
    assert "separation='warn'" not in err          # advice the command line can follow
    code, out, err = run(capsys, *argv, "--separation", "warn")
    assert code == 0, err
    warned = [line for line in err.splitlines() if "separation" in line]
    assert len(warned) == 1 and "'sep'" in warned[0] and "'PID'" not in warned[0], err
    assert "WARNING: perfect separation" in out
    code, _, err = run(capsys, *fit_args(**{"--separation": "warn"}))
    assert_one_line_error(code, err, "--separation", "not ols")


def test_version(capsys, monkeypatch):
    import tomllib
    from importlib import metadata

    import mleopt

    with open(ROOT / "pyproject.toml", "rb") as fh:
        declared = tomllib.load(fh)["project"]["version"]
    assert mleopt.__version__ == declared
    code, out, err = run(capsys, "--version")
    assert code == 0 and out.strip() == f"mleopt {metadata.version('mleopt')}", err

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"mleopt {mleopt.__version__}"


def test_fit_semicolon_csv_gets_a_separator_hint(capsys, tmp_path):
    df = datasets.load("engel")
    path = tmp_path / "engel_semicolon.csv"
    df.to_csv(path, index=False, sep=";")
    argv = ["fit", "--model", "ols", "--data", str(path), "--y", "foodexp", "--x", "income",
            "--format", "csv"]
    code, _, err = run(capsys, *argv)
    assert_one_line_error(code, err, "separated by ';'", "use --sep ';'")
    code, out, err = run(capsys, *argv, "--sep", ";")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out), index_col=0)
    assert table.loc[["const", "income"]].iloc[:, 0].to_numpy() == pytest.approx(
        ref.ENGEL_OLS["params"], rel=1e-8)
    tab = tmp_path / "engel.tsv"
    df.to_csv(tab, index=False, sep="\t")
    code, _, err = run(capsys, *argv[:4], str(tab), *argv[5:])
    assert_one_line_error(code, err, r"use --sep '\t'")
    code, _, err = run(capsys, *argv[:4], str(tab), *argv[5:], "--sep", r"\t")
    assert code == 0, err
    code, _, err = run(capsys, *fit_args(**{"--sep": ";"}))
    assert_one_line_error(code, err, "--sep applies to CSV files")
