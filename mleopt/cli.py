"""The ``mleopt`` command line: fit a model to a CSV file or a bundled dataset, run the
tutorial replication, list the bundled datasets.

    mleopt fit --model logit --data anes96 --y vote --x TVnews PID age educ income
    mleopt fit --model logit --data anes96 --formula "vote ~ TVnews + PID + C(educ)"
    mleopt fit --model ols --data grunfeld --y invest --x value capital --cov cluster --groups firm
    mleopt fit --model poisson --data visits.csv --y visits --x age income --format csv
    mleopt fit --model logit --data survey.csv --sep ';' --y passed --x score --separation warn
    mleopt replicate --quick
    mleopt datasets [NAME]
    mleopt --version

Errors are reported as one line on stderr (``mleopt fit: error: ...``) with a non-zero exit
status: 1 for a problem with the data or the model, 2 for a malformed command line. Set the
environment variable ``MLEOPT_DEBUG=1`` to get the full traceback of an unexpected error.

``main(argv=None)`` returns the exit status (the installed ``mleopt`` script and
``python -m mleopt`` pass it to ``sys.exit``).
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import Sequence

from .replication_options import add_replicate_arguments

__all__ = ["main", "build_parser", "add_replicate_arguments", "CLIError"]

MODELS = {
    "ols": "OLS",
    "logit": "Logit",
    "probit": "Probit",
    "poisson": "Poisson",
    "negbin": "NegativeBinomial",
}
COV_TYPES = ["nonrobust", "HC0", "HC1", "HC2", "HC3", "classical", "opg", "cluster", "HAC",
             "eim", "jackknife", "bootstrap"]
FORMATS = ["text", "html", "csv"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class CLIError(Exception):
    """A user-facing error: printed as one line on stderr, exit status 1."""


class _Exit(Exception):
    """Raised instead of sys.exit by the parser, so main() returns the status."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and no sys.exit (main() returns the status instead)."""

    def error(self, message: str):  # noqa: D401 - argparse API
        sys.stderr.write(f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
        raise _Exit(EXIT_USAGE)

    def exit(self, status: int = 0, message: str | None = None):
        if message:
            sys.stderr.write(message)
        raise _Exit(status)


# =============================================================================================
# the parser
# =============================================================================================

FIT_EPILOG = """\
examples:
  mleopt fit --model logit --data anes96 --y vote --x TVnews PID age educ income
  mleopt fit --model logit --data anes96 --formula "vote ~ TVnews + PID + C(educ)"
  mleopt fit --model ols --data longley --y TOTEMP --x GNPDEFL GNP UNEMP ARMED POP YEAR \\
             --cov classical
  mleopt fit --model ols --data grunfeld --y invest --x value capital \\
             --cov cluster --groups firm
  mleopt fit --model poisson --data randhie --y mdvis --x lncoins idp \\
             --cov HAC --maxlags 4
  mleopt fit --model negbin --data randhie --y mdvis --x lncoins idp lpi fmde physlm \\
             disea hlthg hlthf hlthp --format csv > coefs.csv

covariance types (--cov):
  nonrobust  inverse of the negative AD Hessian (the default)
  opg        outer product of the per-observation AD scores
  HC0, HC1   sandwich (heteroskedasticity-robust); HC1 scales by N / (N - K)
  HC2, HC3   leverage-adjusted sandwich (OLS only)
  classical  s^2 (X'X)^-1 with s^2 = SSR / (N - K), as R's lm prints (OLS only)
  cluster    cluster-robust by the --groups column (may be text, e.g. firm names);
             two columns (--groups firm year): two-way (Cameron-Gelbach-Miller)
  HAC        Newey-West (Bartlett kernel) with --maxlags L, rows in the file's order
  eim        inverse expected information (R glm / glm.nb; logit, probit, poisson,
             negbin, ols)
  jackknife  delete-one jackknife (N refits)
  bootstrap  pairs bootstrap: --reps B refits (default 200) on rows drawn with --seed S

output (--format): text is the statsmodels-style summary; html the same as an HTML
table; csv the coefficient table (coef, std err, z, P>|z|, confidence bounds).
"""


def _version() -> str:
    """The installed distribution's version, else the package's ``__version__``."""
    from importlib import metadata

    try:
        return metadata.version("mleopt")
    except metadata.PackageNotFoundError:
        from . import __version__
        return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mleopt",
        description="Maximum-likelihood estimation with exact derivatives from mleopt's "
                    "own automatic differentiation engine.",
        epilog="Run 'mleopt COMMAND --help' for the options of each command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}",
                        help="print mleopt's version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    # ---- fit -----------------------------------------------------------------------------
    fit = sub.add_parser(
        "fit", help="fit a model to a CSV file or a bundled dataset and print its summary",
        description="Fit a model by maximum likelihood and print its summary. The data are a "
                    "CSV file with a header row, or the name of a bundled dataset "
                    "(see 'mleopt datasets'). A constant is added to the regressors unless "
                    "--no-constant is given.",
        epilog=FIT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    fit.add_argument("--model", required=True, choices=list(MODELS),
                     help="ols (Gaussian linear), logit, probit (binary 0/1 outcome), "
                          "poisson, negbin (NB2 negative binomial; counts)")
    fit.add_argument("--data", required=True, metavar="PATH_OR_DATASET_NAME",
                     help="a CSV file (header row, comma-separated) or the name of a bundled "
                          "dataset such as anes96")
    fit.add_argument("--sep", default=None, metavar="CHAR",
                     help="the field separator of a CSV file (default ','; e.g. ';' or '\\t' "
                          "for tab)")
    fit.add_argument("--formula", metavar="FORMULA",
                     help="the model as a formula, e.g. \"vote ~ TVnews + C(educ)\" "
                          "(instead of --y/--x; categorical C(), interactions a:b, I(), "
                          "np.log(x); needs formulaic: pip install mleopt[formula])")
    fit.add_argument("--y", metavar="COLUMN",
                     help="the dependent variable (a numeric column)")
    fit.add_argument("--x", nargs="+", action="extend", metavar="COL",
                     help="one or more regressors (numeric columns); may be repeated")
    fit.add_argument("--no-constant", action="store_true",
                     help="do not add a constant (intercept) column")
    fit.add_argument("--cov", default="nonrobust", choices=COV_TYPES, metavar="TYPE",
                     help="covariance of the estimates: " + ", ".join(COV_TYPES) +
                          " (default nonrobust; see below)")
    fit.add_argument("--groups", nargs="+", metavar="COLUMN",
                     help="the cluster variable for --cov cluster (numbers or text); two "
                          "columns for two-way clustering")
    fit.add_argument("--maxlags", type=int, metavar="L",
                     help="number of lags of the Newey-West weights for --cov HAC")
    fit.add_argument("--reps", type=int, metavar="B",
                     help="replications for --cov bootstrap (default 200)")
    fit.add_argument("--seed", type=int, metavar="S",
                     help="random seed for --cov bootstrap (the same seed, the same numbers)")
    fit.add_argument("--method", default="newton", metavar="NAME",
                     help="optimiser: newton (default; exact AD gradient and Hessian) or any "
                          "scipy.optimize.minimize method, e.g. bfgs, l-bfgs-b, newton-cg, "
                          "trust-ncg, nelder-mead, or a stochastic one (sgd, adam, adamw, "
                          "rmsprop, adagrad; their defaults, then a Newton polish)")
    fit.add_argument("--maxiter", type=int, metavar="N",
                     help="maximum number of optimiser iterations (default: the method's)")
    fit.add_argument("--missing", default=None, choices=["raise", "drop"],
                     help="rows with a missing or infinite value in a used column: raise "
                          "(default with --y/--x) reports them as an error; drop (default "
                          "with --formula) removes them (the count is reported on stderr)")
    fit.add_argument("--separation", choices=["raise", "warn"], default=None,
                     help="when the MLE does not exist (perfect separation in logit/probit, "
                          "its count analogue in poisson/negbin): raise (default) reports an "
                          "error; warn fits anyway, with a warning and a note in the summary")
    fit.add_argument("--format", default="text", choices=FORMATS,
                     help="text (default), html, or csv (the coefficient table only)")
    fit.set_defaults(handler=_cmd_fit)

    # ---- replicate -----------------------------------------------------------------------
    rep = sub.add_parser(
        "replicate", help="replicate the MLE-autograd tutorial (R. Hicks, 2018) on this machine",
        description="Replicate R. Hicks (2018), 'Using Autograd for Maximum Likelihood "
                    "Estimation', with mleopt's AD engine: (1) exact derivatives of the "
                    "Cobb-Douglas function, (2) OLS by maximum likelihood with BFGS and the "
                    "AD gradient, beside closed-form OLS, finite-difference BFGS and "
                    "mleopt's OLS fit, (3) the speed-up table for K = 10, 50, 100 with the "
                    "tutorial's published times beside. The full run takes about a minute "
                    "(finite-difference BFGS at K = 100 is slow); --quick times each fit once.")
    add_replicate_arguments(rep)
    rep.set_defaults(handler=_cmd_replicate)

    # ---- datasets ------------------------------------------------------------------------
    ds = sub.add_parser(
        "datasets", help="list the bundled datasets (or describe one)",
        description="List the bundled public-domain datasets with their size and columns; "
                    "with a NAME, print that dataset's description (source, variables). Any "
                    "of these names can be given to 'mleopt fit --data'.")
    ds.add_argument("name", nargs="?", metavar="NAME", help="describe this dataset")
    ds.set_defaults(handler=_cmd_datasets)
    return parser


# =============================================================================================
# commands
# =============================================================================================

def _cmd_datasets(args) -> int:
    from . import datasets

    if args.name is not None:
        try:
            text = datasets.describe(args.name)
            df = datasets.load(args.name)
        except ValueError as exc:
            raise CLIError(str(exc)) from None
        print(text.rstrip())
        print(f"\n{len(df)} rows; columns: {', '.join(map(str, df.columns))}")
        return EXIT_OK
    for name in datasets.names():
        df = datasets.load(name)
        print(f"{name:<12} {len(df):>6} rows  {', '.join(map(str, df.columns))}")
    print("\nUse a name with 'mleopt fit --data NAME'; 'mleopt datasets NAME' describes one.")
    return EXIT_OK


def _cmd_replicate(args) -> int:
    from .replication import run

    try:
        return run(args)
    except ValueError as exc:  # bad --ks / --repeats
        raise CLIError(str(exc)) from None


_SEPARATORS = {";": "';'", "\t": "'\\t'", "|": "'|'"}


def _read_data(spec: str, sep: str | None = None):
    """A DataFrame from a CSV path (fields separated by ``sep``, default ','), or from a
    bundled dataset name. A file whose header reads as one column holding ';', a tab or '|'
    is refused with a hint to pass that separator."""
    import pandas as pd

    from . import datasets

    if sep is not None:
        sep = {"\\t": "\t", "tab": "\t"}.get(sep, sep)
        if not sep:
            raise CLIError("--sep: give a separator character, e.g. --sep ';'")

    looks_like_path = (os.sep in spec or (os.altsep and os.altsep in spec)
                       or spec.lower().endswith((".csv", ".txt", ".tsv")))
    if os.path.isdir(spec):
        raise CLIError(f"--data {spec!r} is a directory, not a CSV file")
    if os.path.exists(spec):
        try:
            df = pd.read_csv(spec, sep="," if sep is None else sep)
        except pd.errors.EmptyDataError:
            raise CLIError(f"--data {spec!r}: the file is empty") from None
        except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CLIError(f"--data {spec!r}: cannot read it as a CSV file ({first})") from None
        if df.shape[1] == 1:
            header = str(df.columns[0])
            for char, shown in _SEPARATORS.items():
                if char in header and char != sep:
                    raise CLIError(
                        f"--data {spec!r}: the header reads as one column {header[:60]!r}; the "
                        f"fields seem to be separated by {shown}: use --sep {shown}")
        if df.shape[0] == 0:
            raise CLIError(f"--data {spec!r}: the file has a header but no data rows")
        return df
    if sep is not None:
        raise CLIError(f"--sep applies to CSV files; {spec!r} is not a file")
    known = datasets.names()
    if looks_like_path:
        raise CLIError(f"--data: no such file: {spec!r} (bundled datasets, usable by name: "
                       f"{', '.join(known)})")
    if spec not in known:
        raise CLIError(f"--data: no file and no bundled dataset named {spec!r}; bundled "
                       f"datasets: {', '.join(known)}")
    return datasets.load(spec)


def _check_column(df, col: str, option: str, numeric: bool = True) -> None:
    import pandas as pd

    if col not in df.columns:
        avail = ", ".join(map(str, df.columns))
        raise CLIError(f"{option}: no column named {col!r}; available columns: {avail}")
    if numeric:
        s = df[col]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            bad = pd.to_numeric(s, errors="coerce").isna() & s.notna()
            row = bad.idxmax() if bad.any() else s.index[0]
            raise CLIError(f"{option}: column {col!r} is not numeric (dtype {s.dtype}; "
                           f"e.g. {s[row]!r} in row {row}); choose numeric columns, or "
                           "encode it as numbers first")


def _cmd_fit(args) -> int:
    import numpy as np
    import pandas as pd

    import mleopt

    cov_options = _cov_options(args)
    if args.separation is not None and args.model == "ols":
        raise CLIError("--separation applies to logit, probit, poisson and negbin, not ols "
                       "(a linear model's MLE always exists)")
    if args.maxiter is not None and args.maxiter < 1:
        raise CLIError(f"--maxiter must be a positive integer, got {args.maxiter}")
    if args.formula is not None:
        return _fit_formula(args, cov_options)
    if args.y is None or args.x is None:
        raise CLIError("give the model as --formula \"y ~ x1 + x2\", or as --y COLUMN and "
                       "--x COLUMN [COLUMN ...]")
    args.missing = args.missing or "raise"
    dup = sorted({c for c in args.x if args.x.count(c) > 1})
    if dup:
        raise CLIError(f"--x: column(s) listed twice: {', '.join(dup)}")
    if args.y in args.x:
        raise CLIError(f"--x: the dependent variable {args.y!r} cannot also be a regressor")

    df = _read_data(args.data, args.sep)
    _check_column(df, args.y, "--y")
    for col in args.x:
        _check_column(df, col, "--x")
    groups = args.groups or []
    for col in groups:
        _check_column(df, col, "--groups", numeric=False)

    used = [args.y, *args.x]
    data = df[used + [g for g in dict.fromkeys(groups) if g not in used]].copy()
    if args.missing == "drop":
        numeric = data[used].astype(float)
        bad = ~np.isfinite(numeric.to_numpy()).all(axis=1)
        for col in groups:
            bad |= data[col].isna().to_numpy()
        if bad.any():
            print(f"mleopt fit: dropped {int(bad.sum())} of {len(data)} rows with missing or "
                  "infinite values", file=sys.stderr)
            data = data.loc[~bad]
        if len(data) == 0:
            raise CLIError("no rows left after dropping missing values")
    else:
        for col in groups:
            if data[col].isna().any():
                n = int(data[col].isna().sum())
                raise CLIError(f"--groups: column {col!r} has {n} missing value(s); "
                               "use --missing drop to drop those rows")

    y = data[args.y]
    x = data[list(args.x)]
    if not args.no_constant:
        x = mleopt.add_constant(x)

    if groups:
        codes = tuple(pd.factorize(data[col])[0] for col in groups)
        cov_options["groups"] = codes[0] if len(codes) == 1 else codes

    model_cls = getattr(mleopt, MODELS[args.model])
    model_kwds = {} if args.separation is None else {"separation": args.separation}
    return _fit_and_print(args, lambda: model_cls(y, x, **model_kwds), cov_options)


def _fit_formula(args, cov_options: dict) -> int:
    """``mleopt fit --formula "y ~ x1 + C(g)"``: Model.from_formula on the data; rows with
    missing values are dropped unless --missing raise (as from_formula does)."""
    import mleopt

    if args.y is not None or args.x is not None:
        raise CLIError("give the model either as --formula or as --y/--x, not both")
    if args.no_constant:
        raise CLIError("--no-constant does not apply to --formula: write '0 + ' or ' - 1' in "
                       "the formula to leave out the intercept")
    df = _read_data(args.data, args.sep)
    if args.groups:
        for col in args.groups:
            _check_column(df, col, "--groups", numeric=False)
        found = tuple(df[col] for col in args.groups)    # matched to the rows used by label
        cov_options["groups"] = found[0] if len(found) == 1 else found
    model_cls = getattr(mleopt, MODELS[args.model])
    model_kwds = {} if args.separation is None else {"separation": args.separation}

    def build():
        model = model_cls.from_formula(args.formula, df, missing=args.missing or "drop",
                                       **model_kwds)
        if model.data.n_dropped:
            print(f"mleopt fit: dropped {model.data.n_dropped} of {model.data.nobs_original} "
                  "rows with missing values", file=sys.stderr)
        return model
    return _fit_and_print(args, build, cov_options)


def _cov_options(args) -> dict:
    """The cov_kwds given by --maxlags / --reps / --seed, each checked against --cov (an
    option another covariance type would ignore is refused); --groups is checked here and
    added by the caller."""
    if args.cov == "cluster" and not args.groups:
        raise CLIError("--cov cluster needs --groups COLUMN (the cluster variable; two "
                       "columns for two-way clustering)")
    if args.groups and args.cov != "cluster":
        raise CLIError(f"--groups is only used with --cov cluster (got --cov {args.cov})")
    if args.groups and len(args.groups) > 2:
        raise CLIError(f"--groups takes one column, or two for two-way clustering; got "
                       f"{len(args.groups)}: {' '.join(args.groups)}")
    if args.cov == "HAC" and args.maxlags is None:
        raise CLIError("--cov HAC needs --maxlags L (the number of lags; a common choice is "
                       "floor(4 (N/100)^(2/9)))")
    out = {}
    for option, owner, key in (("maxlags", "HAC", "maxlags"), ("reps", "bootstrap", "reps"),
                               ("seed", "bootstrap", "seed")):
        value = getattr(args, option)
        if value is None:
            continue
        if args.cov != owner:
            raise CLIError(f"--{option} is only used with --cov {owner} (got --cov {args.cov})")
        out[key] = value
    return out


def _fit_and_print(args, build, cov_kwds) -> int:
    """Build the model, fit it, print its summary and the warnings (once each)."""
    import numpy as np

    fit_kwds = {"method": args.method, "cov_type": args.cov}
    if cov_kwds:
        fit_kwds["cov_kwds"] = cov_kwds
    if args.maxiter is not None:
        fit_kwds["maxiter"] = args.maxiter

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = build()
            res = model.fit(**fit_kwds)
            if args.format == "csv":
                out = res.summary_frame().to_csv(index_label="term")
            elif args.format == "html":
                out = res.summary().as_html()
            else:
                out = res.summary().as_text()
        except (ValueError, TypeError, ArithmeticError, ImportError,
                np.linalg.LinAlgError) as exc:
            message = (_one_line(exc).replace("pass missing='drop'", "use --missing drop")
                       .replace("Pass separation='warn'", "Use --separation warn"))
            raise CLIError(f"{MODELS[args.model]} failed: {message}") from None
    seen = set()
    for w in caught:
        msg = _one_line(w.message)
        if msg not in seen:
            seen.add(msg)
            print(f"mleopt fit: warning: {msg}", file=sys.stderr)
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    said_so = any("converge" in m for m in seen)
    if res.converged is False and not said_so:
        print("mleopt fit: warning: the optimiser did not converge; the estimates are not "
              "reliable (try --method or --maxiter)", file=sys.stderr)
    return EXIT_OK


def _one_line(exc) -> str:
    text = " ".join(str(exc).split())
    if text.startswith("mleopt: "):  # the line already starts with "mleopt fit: ..."
        text = text[len("mleopt: "):]
    return text or type(exc).__name__


# =============================================================================================
# entry point
# =============================================================================================

def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _Exit as exc:
        return exc.status
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        sys.stderr.write("\nmleopt: error: give a command: fit, replicate or datasets\n")
        return EXIT_USAGE
    prog = f"mleopt {args.command}"
    try:
        return int(args.handler(args))
    except CLIError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # e.g. `mleopt datasets | head -2`: the reader left; stop quietly
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback for the user; MLEOPT_DEBUG=1 shows it
        if os.environ.get("MLEOPT_DEBUG"):
            raise
        print(f"{prog}: error: unexpected {type(exc).__name__}: {_one_line(exc)} "
              "(set MLEOPT_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
