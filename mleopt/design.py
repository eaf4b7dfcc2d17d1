"""Formulas: a formula and a data frame -> the arrays a model takes (formulaic).

``formula_inputs("vote ~ TVnews + C(educ)", data, ...)`` gives the outcome, the design
matrix (columns named as patsy / statsmodels name them: ``Intercept``, ``C(educ)[T.2]``,
``x1:x2``, ``I(x ** 2)``, ``np.log(x)``) and the other constructor arguments of a model:

* a keyword given as a formula string (``exog_infl="~ x1 + x2"``) is a second design,
  encoded on the same rows;
* a keyword given as the name of a column (``exposure="years"``, ``freq_weights="n"``)
  is that column; a full-length array or Series (one value per row of the data) is cut
  to the rows kept;
* rows with a missing value (NaN / None) in any variable used are dropped
  (``missing="drop"``, counted per column) or refused (``missing="raise"``).

The encoding's state (levels of categorical columns, centring and scaling, formulaic's
``ModelSpec``) is kept in a ``FormulaDesign``, so new data for predictions are encoded
the same way; a level not seen in the fit is a ``DataError`` naming column and level.
formulaic is an optional dependency (``pip install mleopt[formula]``), imported on use.
"""
from __future__ import annotations

import ast
import difflib
import re
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .exceptions import DataError, MissingDataError

__all__ = ["FormulaDesign", "FormulaInputs", "formula_inputs", "design_frame", "formula_parts",
           "formula_context", "options_by_name"]

_MISSING = ("drop", "raise")
# keywords of the built-in models that take one value per row (a string is a column name)
_PER_ROW = ("freq_weights", "var_weights", "pweights", "weights", "offset", "exposure",
            "event", "left", "right", "selected")


def _formulaic():
    """The formulaic package, or an ImportError saying what to install."""
    try:
        import formulaic
    except ImportError as exc:          # pragma: no cover - depends on the environment
        raise ImportError("formulas need the optional package formulaic: "
                          "pip install mleopt[formula]  (or pip install formulaic).") from exc
    return formulaic


# =======================================================================================
# the encoding state, for new data
# =======================================================================================

@dataclass
class FormulaDesign:
    """What a formula fit remembers: the formula, the spec of each design (``"exog"`` and
    second designs such as ``"exog_infl"``), the columns dropped and the names the
    formula's expressions use from the caller (``np``, a user's function)."""

    formula: str
    specs: dict[str, Any]
    drop_cols: dict[str, list[str]] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)

    def columns(self, part: str = "exog") -> list[str]:
        drop = self.drop_cols.get(part, [])
        return [c for c in self.specs[part].column_names if c not in drop]

    def encode(self, data: Any, part: str = "exog") -> pd.DataFrame:
        """New data encoded as at the fit (same levels, centring, column order)."""
        frame = _as_frame(data, "exog")
        spec = self.specs[part]
        with warnings.catch_warnings():
            warnings.simplefilter("error", _formulaic().errors.DataMismatchWarning)
            try:
                mm = spec.get_model_matrix(frame, context=self.context)
            except _formulaic().errors.DataMismatchWarning as exc:
                raise DataError(_unseen_levels(spec, frame, part) or
                                f"new data for {part}: {exc}") from None
            except Exception as exc:    # formulaic's errors do not share a base class
                raise DataError(f"new data for {part} could not be encoded with the "
                                f"formula {self.formula!r}: {type(exc).__name__}: {exc}. "
                                "Give every variable the formula uses (raw columns), or "
                                f"every design column ({_quote(self.columns(part))})."
                                ) from exc
        out = pd.DataFrame(np.asarray(mm, dtype=float), index=frame.index,
                           columns=list(mm.columns))
        if out.shape[0] != frame.shape[0]:
            raise DataError(f"new data for {part}: {frame.shape[0] - out.shape[0]} rows "
                            "have missing values in the formula's variables; drop or fill "
                            "them first.")
        bad = out.columns[~np.isfinite(out.to_numpy()).all(axis=0)].tolist()
        if bad:
            raise DataError(f"new data for {part}: NaN or inf in {_quote(bad)} (missing "
                            "values in the formula's variables); drop or fill those rows.")
        return out[self.columns(part)]


def _unseen_levels(spec, frame: pd.DataFrame, part: str) -> str | None:
    """The message naming each categorical column with a level not seen in the fit."""
    found = []
    for factor, (kind, state) in spec.encoder_state.items():
        levels = state.get("categories") if isinstance(state, dict) else None
        if levels is None:
            continue
        names = list(dict.fromkeys(v for v in _names_in(str(factor)) if v in frame.columns))
        if len(names) != 1:
            continue
        col = frame[names[0]]
        new = pd.unique(col[~col.isin(levels) & col.notna()]).tolist()
        if len(new):
            found.append(f"column {names[0]!r} (in {factor}) has level"
                         f"{'s' if len(new) > 1 else ''} {', '.join(map(repr, new[:5]))} "
                         f"not seen in the fit (levels: {', '.join(map(repr, list(levels)))})")
    if not found:
        return None
    return (f"new data for {part}: " + "; ".join(found) + ". A categorical column can only "
            "take the levels it had when the model was fitted.")


def _raw_design(model: Any, exog: Any, part: str = "exog") -> FormulaDesign | None:
    """The model's formula design when ``exog`` is raw data for it (a DataFrame or a dict
    of columns without every design column), else None."""
    design = getattr(model, "design", None)
    if not isinstance(design, FormulaDesign) or part not in design.specs or \
            not isinstance(exog, (pd.DataFrame, Mapping)):
        return None
    names = exog.columns if isinstance(exog, pd.DataFrame) else exog.keys()
    return None if set(design.columns(part)) <= set(names) else design


def design_frame(model: Any, exog: Any, part: str = "exog") -> Any:
    """``exog`` for predictions of ``model``: raw data of a formula model (a DataFrame or a
    dict of columns) encoded with its formula; anything else unchanged."""
    design = _raw_design(model, exog, part)
    return exog if design is None else design.encode(exog, part)


def options_by_name(exog: Any, kwds: dict[str, Any]) -> dict[str, Any]:
    """Prediction options given as the name of a column of the new data (``exposure=
    "years"``, as at the fit) replaced by that column; a name that is not one of its
    columns is a DataError (with a did-you-mean)."""
    if not isinstance(exog, pd.DataFrame):
        return kwds
    out = dict(kwds)
    for key, value in kwds.items():
        if not isinstance(value, str):
            continue
        if value not in exog.columns:
            names = [str(c) for c in exog.columns]
            close = difflib.get_close_matches(value, names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise DataError(f"{key}={value!r} is not a column of the new data.{hint} "
                            f"Its columns: {_quote(names)}.")
        out[key] = exog[value]
    return out


def formula_parts(model: Any, exog: Any, kwds: dict[str, Any]) -> dict[str, Any]:
    """``kwds`` with the second designs of a formula model (``exog_infl``,
    ``selection_exog``, ...) encoded from the same raw new data ``exog``, unless given."""
    design = _raw_design(model, exog)
    if design is None:
        return kwds
    out = dict(kwds)
    for part in design.specs:
        if part != "exog" and out.get(part) is None:
            out[part] = design.encode(exog, part)
    return out


# =======================================================================================
# formula -> model inputs
# =======================================================================================

@dataclass
class FormulaInputs:
    """The constructor arguments a formula gives, and how its rows were chosen."""

    endog: Any
    exog: pd.DataFrame
    kwargs: dict[str, Any]
    design: FormulaDesign
    keep: np.ndarray            # rows used, over the rows of data (after subset)
    labels: pd.Index            # the row labels of data (after subset)
    dropped_by: dict[str, int]  # column -> rows with a missing value (only if dropped)

    def attach(self, model: Any) -> Any:
        """Give ``model`` its formula state, and fold the rows dropped here into its data
        (so that the summary counts them and full-length arrays still align)."""
        model.formula = self.design.formula
        model.design = self.design
        data = getattr(model, "data", None)
        if data is None or not hasattr(data, "row_mask"):
            return model
        keep = self.keep.copy()
        if data.row_mask is not None:       # rows the model dropped itself (inf, ...)
            kept = np.flatnonzero(keep)
            keep[kept[~data.row_mask]] = False
        counts = dict(self.dropped_by)
        for k, v in (data.dropped_by or {}).items():
            counts[k] = counts.get(k, 0) + v
        n_dropped = int((~keep).sum())
        data.row_mask = None if n_dropped == 0 else keep
        data.nobs_original = int(keep.size)
        data.n_dropped = n_dropped
        data.dropped_by = counts if n_dropped else {}
        data.original_labels = self.labels
        return model


def formula_inputs(formula: str, data: Any, subset: Any = None,
                   drop_cols: Sequence[str] | None = None, missing: str = "drop",
                   kwargs: dict[str, Any] | None = None, context: dict | None = None,
                   outcome_rows: str | None = None,
                   default_drop: Sequence[str] = ()) -> FormulaInputs:
    """The model inputs of ``formula`` on ``data`` (see the module docstring).

    ``outcome_rows`` names a keyword (Heckman's ``selected``) whose zero rows need no
    outcome or outcome regressors: missing values there are not missing.
    ``default_drop``: design columns a model never takes (OrderedModel's Intercept).
    """
    fl = _formulaic()
    if missing not in _MISSING:
        raise ValueError(f"missing must be 'drop' or 'raise', not {missing!r}.")
    if not isinstance(formula, str) or "~" not in formula:
        raise ValueError(f"a formula is a string 'y ~ x1 + x2', got {formula!r}.")
    lhs_text = formula.split("~", 1)[0].strip()
    if not lhs_text:
        raise ValueError(f"formula {formula!r} has no outcome on the left of '~'.")
    whole = _as_frame(data, "data")
    rows = _subset(whole, subset)
    frame = whole if rows is None else whole.iloc[rows]
    context = dict(context or {})
    parsed = fl.Formula(formula)
    kwargs = dict(kwargs or {})

    # --- the variables each part uses ---------------------------------------------------------
    second: dict[str, str] = {}         # keyword -> formula of a second design
    columns: dict[str, str] = {}        # keyword -> column name
    for key, value in kwargs.items():
        if isinstance(value, str) and value.strip().startswith("~"):
            second[key] = value
        elif isinstance(value, str) and value in frame.columns:
            columns[key] = value
        elif isinstance(value, str) and key in _PER_ROW:
            close = difflib.get_close_matches(value, [str(c) for c in frame.columns], n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise DataError(f"{key}={value!r} is not a column of the data.{hint}")
    main_vars = _variables(parsed, frame)
    other_vars = {key: _variables(fl.Formula(f), frame) for key, f in second.items()}

    # --- missing rows ---------------------------------------------------------------------------
    n = frame.shape[0]
    outcome_needed = None
    if outcome_rows in columns:
        sel = pd.to_numeric(frame[columns[outcome_rows]], errors="coerce").to_numpy()
        outcome_needed = ~(sel == 0)
    bad, counts = _missing_rows(frame, [(v, outcome_needed) for v in main_vars]
                                + [(v, None) for vs in other_vars.values() for v in vs]
                                + [(c, None) for c in columns.values()])
    n_bad = int(bad.sum())
    if n_bad and missing == "raise":
        raise MissingDataError(
            f"missing values in {_counts(counts)}: {n_bad} of {n} rows affected. Clean the "
            "data, or pass missing='drop' (the default for formulas) to drop those rows.")
    if n_bad == n:
        raise MissingDataError(f"every row has a missing value (in {_counts(counts)}); "
                               "nothing is left to fit.")
    keep = ~bad
    clean = frame[keep] if n_bad else frame

    # --- encode ---------------------------------------------------------------------------------
    mm = _materialize(fl, formula, clean, context)
    lhs, rhs = mm.lhs, mm.rhs
    if lhs_text in clean.columns:       # a plain column keeps its dtype (ordered categories)
        endog = clean[lhs_text]
    elif lhs.shape[1] == 1:
        endog = pd.Series(np.asarray(lhs)[:, 0], index=clean.index, name=lhs.columns[0])
    else:
        raise DataError(f"the left-hand side {lhs_text!r} gives {lhs.shape[1]} columns "
                        f"({_quote(lhs.columns)}); the outcome must be one column (for a "
                        "categorical outcome give the column itself, e.g. an ordered "
                        "pandas Categorical).")
    specs = {"exog": rhs.model_spec}
    drops = {"exog": _drop_list(rhs.columns, list(default_drop) + list(drop_cols or []))}
    exog = _float_frame(rhs, clean.index, drops["exog"])
    out = {}
    for key, value in kwargs.items():
        if key in second:
            mz = _materialize(fl, second[key], clean, context)
            specs[key], drops[key] = mz.model_spec, []
            out[key] = _float_frame(mz, clean.index, [])
        elif key in columns:
            out[key] = clean[columns[key]]
        else:
            out[key] = _rows_kept(value, whole, rows, keep)
    used = {name: context[name] for name in _context_names(formula, second.values())
            if name in context and name not in frame.columns}
    design = FormulaDesign(formula=formula, specs=specs, drop_cols=drops, context=used)
    return FormulaInputs(endog=endog, exog=exog, kwargs=out, design=design, keep=keep,
                         labels=frame.index, dropped_by=counts if n_bad else {})


def formula_context() -> dict[str, Any]:
    """The names visible where the user called: numpy as ``np``, then the globals and
    locals of the first calling frame outside mleopt."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("mleopt"):
        frame = frame.f_back
    context: dict[str, Any] = {"np": np, "numpy": np}
    if frame is not None:
        context.update(frame.f_globals)
        context.update(frame.f_locals)
    return context


# =======================================================================================
# helpers
# =======================================================================================

def _as_frame(data: Any, what: str) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if type(data).__module__.startswith("dask"):
        raise TypeError(f"formulas take in-memory data; {what} is a Dask collection. Build "
                        "the design with the model's array interface for Dask data.")
    if isinstance(data, Mapping):
        values = dict(data)
        if values and all(np.ndim(v) == 0 for v in values.values()):
            return pd.DataFrame(values, index=[0])     # one row given as scalars
        return pd.DataFrame(values)
    raise TypeError(f"{what} for a formula must be a pandas DataFrame or a dict of columns, "
                    f"not {type(data).__name__}.")


def _subset(frame: pd.DataFrame, subset: Any) -> np.ndarray | None:
    """The positions of the rows chosen by a boolean mask (a Series matched by index) or by
    row labels; None for every row."""
    if subset is None:
        return None
    if isinstance(subset, pd.Series) and subset.dtype == bool:
        if not subset.index.equals(frame.index):
            if set(subset.index) != set(frame.index) or subset.index.has_duplicates:
                raise DataError("subset is a boolean Series whose index differs from the "
                                "data's; align it first (subset.loc[data.index]).")
            subset = subset.loc[frame.index]
        return np.flatnonzero(subset.to_numpy())
    arr = np.asarray(subset)
    if arr.dtype == bool:
        if arr.shape != (frame.shape[0],):
            raise DataError(f"subset is a boolean mask of shape {arr.shape}; the data have "
                            f"{frame.shape[0]} rows.")
        return np.flatnonzero(arr)
    missing = pd.Index(arr).difference(frame.index)
    if len(missing):
        raise DataError(f"subset holds {len(missing)} labels not in the data's index (e.g. "
                        f"{', '.join(map(repr, missing[:3].tolist()))}).")
    return frame.index.get_indexer_for(arr)


def _rows_kept(value: Any, whole: pd.DataFrame, rows: np.ndarray | None,
               keep: np.ndarray) -> Any:
    """A per-row keyword given with one value per row of the data (``freq_weights=w``,
    ``exposure=data["t"]``; before or after ``subset``) cut to the rows the formula keeps,
    as statsmodels' from_formula does; anything else unchanged (the model checks it)."""
    if isinstance(value, (str, bytes)) or type(value).__module__.startswith("dask") or \
            np.ndim(value) == 0:
        return value
    n_all, n_sub = whole.shape[0], keep.size
    if isinstance(value, (pd.Series, pd.DataFrame)):
        if rows is not None and len(value) == n_all and value.index.equals(whole.index):
            return value.iloc[rows].iloc[keep]
        if len(value) == n_sub and value.index.equals(whole.index[rows] if rows is not None
                                                      else whole.index):
            return value.iloc[keep]
        return value
    arr = np.asarray(value)
    if rows is not None and arr.shape[0] == n_all:
        return arr[rows][keep]
    return arr[keep] if arr.shape[0] == n_sub else value


def _names_in(expr: str) -> list[str]:
    """The names an expression reads (``np.log(age)`` -> np, age); the expression itself
    when it is not Python (a column name with spaces)."""
    try:
        tree = ast.parse(expr.strip().strip("`"), mode="eval")
    except SyntaxError:
        return [expr.strip().strip("`")]
    return [node.id for node in ast.walk(tree) if isinstance(node, ast.Name)] + \
        [expr.strip().strip("`")]


def _variables(parsed, frame: pd.DataFrame) -> list[str]:
    """The data columns a formula uses; a variable found neither in the data nor among
    formulaic's transforms is refused by formulaic when it encodes (named there)."""
    exprs = [str(factor.expr) for part in _parts(parsed) for term in part
             for factor in term.factors]
    names = []
    for expr in exprs:
        for name in _names_in(expr):
            if name in frame.columns and name not in names:
                names.append(name)
    return names


def _missing_rows(frame: pd.DataFrame, checks: list[tuple[str, np.ndarray | None]]
                  ) -> tuple[np.ndarray, dict[str, int]]:
    """Rows with a missing value (NaN / None) in any checked column (only where its mask,
    if any, is True), and the count per column."""
    bad = np.zeros(frame.shape[0], dtype=bool)
    counts: dict[str, int] = {}
    for name, where in checks:
        isna = np.asarray(frame[name].isna(), dtype=bool)
        if where is not None:           # (a new array: pandas' may be read-only)
            isna = isna & where
        if isna.any():
            counts[name] = max(counts.get(name, 0), int(isna.sum()))
            bad |= isna
    return bad, counts


def _parts(parsed) -> list:
    """The term lists of a formula (``y ~ x``: lhs and rhs; ``~ x``: one)."""
    if hasattr(parsed, "lhs"):
        return [parsed.lhs, parsed.rhs]
    return [parsed]


def _context_names(formula: str, others) -> list[str]:
    names = []
    for f in [formula, *others]:
        for part in _parts(_formulaic().Formula(f)):
            for term in part:
                for factor in term.factors:
                    names += _names_in(str(factor.expr))
    return list(dict.fromkeys(names))


def _materialize(fl, formula: str, frame: pd.DataFrame, context: dict):
    """formulaic's model matrices; a name it cannot find becomes a DataError."""
    try:
        return fl.model_matrix(formula, frame, context=context, na_action="ignore")
    except Exception as exc:            # formulaic's errors do not share a base class
        text = str(exc)
        unknown = [w for w in _words(text) if w not in frame.columns and w not in context]
        close = difflib.get_close_matches(unknown[0], [str(c) for c in frame.columns], n=1) \
            if unknown else []
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise DataError(f"formula {formula!r} could not be encoded: "
                        f"{type(exc).__name__}: {text}.{hint}") from exc


def _words(text: str) -> list[str]:
    """The quoted names in an error message of formulaic (`x` or 'x')."""
    return re.findall(r"[`']([A-Za-z_][A-Za-z0-9_.]*)[`']", text)


def _drop_list(columns, drop: Sequence[str]) -> list[str]:
    cols = [str(c) for c in columns]
    out = []
    for name in drop:
        if name in cols:
            out.append(name)
        elif name != "Intercept":       # a model's default drop may be absent ("y ~ 0 + x")
            close = difflib.get_close_matches(name, cols, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise DataError(f"drop_cols: no design column named {name!r}.{hint} The "
                            f"columns are {_quote(cols)}.")
    return out


def _float_frame(mm, index: pd.Index, drop: list[str]) -> pd.DataFrame:
    out = pd.DataFrame(np.asarray(mm, dtype=float), index=index,
                       columns=[str(c) for c in mm.columns])
    return out.drop(columns=drop) if drop else out


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k!r} ({v} row{'s' if v > 1 else ''})" for k, v in counts.items())


def _quote(names) -> str:
    return ", ".join(repr(str(n)) for n in names)
