"""Model input: endog / exog (numpy arrays, lists, pandas Series or DataFrames) to float arrays.

``prepare_data`` copies the user's data (never modifying it), finds names (DataFrame columns,
a Series' name; ``y`` and ``const, x1, x2, ...`` for arrays, as statsmodels names them),
refuses what cannot be used with an error that names the column, and handles non-finite
values (``missing="raise"`` or ``"drop"``, the latter dropping rows jointly across endog,
exog and the arrays passed along, such as offset, exposure or cluster groups).
``check_rank`` finds perfectly collinear columns with a column-scaled rank test (and refuses
columns too large or small for double precision); ``check_scale`` does the latter for endog.
``add_constant`` adds a leading ``const`` column, as ``statsmodels.api.add_constant`` does.
``align_labels`` matches a pandas object to labels (the data's rows, the parameter names):
every per-row array a user hands over (offset, exposure, cluster groups, extra arrays, at
construction or later) and start values given as a Series go through it, so a Series is
matched by its index, never silently by position.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .exceptions import CollinearityError, DataError, MissingDataError, NoRowsLeftError

__all__ = ["add_constant", "prepare_data", "check_rank", "check_scale", "ModelData",
           "align_labels", "align_names", "frame_by_name"]

_MISSING = ("raise", "drop")


# =======================================================================================
# add_constant
# =======================================================================================

def add_constant(data: Any, prepend: bool = True, has_constant: str = "skip"):
    """``data`` with a column of ones named ``const`` (first, or last if ``prepend=False``).

    DataFrame or Series in, DataFrame out; anything else comes back as a 2-D numpy array.
    ``has_constant``: what to do when ``data`` already has a non-zero constant column:
    ``"skip"`` (return a copy unchanged), ``"add"`` (add one anyway) or ``"raise"``.
    The input is never modified.
    """
    if has_constant not in ("skip", "add", "raise"):
        raise ValueError(f"has_constant must be 'skip', 'add' or 'raise', not {has_constant!r}.")
    if isinstance(data, pd.Series):
        data = data.to_frame(name=data.name if data.name is not None else "x1")
    if isinstance(data, pd.DataFrame):
        const_cols = [c for c in data.columns if _is_nonzero_constant(data[c].to_numpy())]
        if const_cols and has_constant != "add":
            if has_constant == "raise":
                raise DataError(f"add_constant: column {const_cols[0]!r} is already a constant; "
                                "use has_constant='skip' or 'add'.")
            return data.copy()
        out = data.copy()
        out.insert(0 if prepend else out.shape[1], "const", 1.0, allow_duplicates=True)
        return out
    x = np.array(data, copy=True)
    if x.ndim == 1:
        x = x[:, None]
    elif x.ndim != 2:
        raise DataError(f"add_constant needs 1-D or 2-D data, got {x.ndim} dimensions.")
    consts = [j for j in range(x.shape[1]) if _is_nonzero_constant(x[:, j])]
    if consts and has_constant != "add":
        if has_constant == "raise":
            raise DataError(f"add_constant: column {consts[0]} is already a constant; use "
                            "has_constant='skip' or 'add'.")
        return x
    ones = np.ones((x.shape[0], 1), dtype=np.result_type(x.dtype, np.float64))
    return np.hstack([ones, x] if prepend else [x, ones])


def _is_nonzero_constant(col: np.ndarray) -> bool:
    if col.dtype.kind not in "biuf" or col.size == 0:
        return False
    first = col[0]
    return bool(first != 0 and np.all(col == first))


# =======================================================================================
# alignment by label
# =======================================================================================

def align_labels(values: Any, labels: pd.Index | None, name: str,
                 what: str = "the data's row index", fix: str | None = None,
                 axis: str = "index") -> Any:
    """``values`` in the order of ``labels`` when it is a pandas Series or DataFrame.

    A pandas object whose index (``axis="columns"``: a DataFrame's columns) holds exactly
    the labels, in any order and each once, is reordered to them; one whose labels differ
    (missing or foreign labels, duplicates that make the match ambiguous) raises DataError
    naming ``name``, what differs and the fix. Anything else (numpy arrays, lists,
    numbers), or ``labels=None`` (the data had no index), is returned unchanged: it is
    matched by position.
    """
    if labels is None or not isinstance(values, (pd.Series, pd.DataFrame)):
        return values
    on_columns = axis == "columns" and isinstance(values, pd.DataFrame)
    given = values.columns if on_columns else values.index
    if given.equals(labels):
        return values
    where = f"pandas {type(values).__name__} whose " + \
        ("columns differ" if on_columns else "index differs")
    fix = fix or f"{name.split()[-1]}.loc[endog.index]"   # "cluster groups" -> groups.loc
    advice = f"align it first (e.g. {fix}) or pass .to_numpy() to match by position."
    if labels.has_duplicates or given.has_duplicates:
        dup = "the data's" if labels.has_duplicates else "its"
        raise DataError(f"{name} is a {where} from {what}, and {dup} labels are not "
                        f"unique, so it cannot be matched by label; {advice}")
    pos = given.get_indexer(labels)
    if len(given) == len(labels) and (pos >= 0).all():
        return values.iloc[:, pos] if on_columns else values.iloc[pos]
    missing = labels[pos < 0]
    extra = given[labels.get_indexer(given) < 0]
    parts = []
    if len(missing):
        parts.append(f"{len(missing)} label(s) of {what} are not among its labels (e.g. "
                     f"{_examples(missing)})")
    if len(extra):
        parts.append(f"{len(extra)} of its labels are not in {what} (e.g. "
                     f"{_examples(extra)})")
    raise DataError(f"{name} is a {where} from {what}: {'; '.join(parts)}; {advice}")


def align_names(values: Any, names: Sequence[str], name: str, fix: str) -> Any:
    """``values`` labelled by parameter name (a Series' index, a DataFrame's columns) in the
    order of ``names`` (``align_labels``). pandas' default labels 0, 1, ..., K-1 name no
    parameter and are taken by position, as is anything that is not pandas."""
    if not isinstance(values, (pd.Series, pd.DataFrame)):
        return values
    axis = "columns" if isinstance(values, pd.DataFrame) else "index"
    given = values.columns if axis == "columns" else values.index
    if given.equals(pd.RangeIndex(len(given))) and \
            not set(map(str, names)) & set(map(str, range(len(given)))):
        return values
    return align_labels(values, pd.Index(names), name, "the model's parameter names", fix,
                        axis=axis)


def _examples(labels: pd.Index, k: int = 3) -> str:
    shown = ", ".join(repr(v) for v in labels[:k].tolist())
    return shown + (", ..." if len(labels) > k else "")


# =======================================================================================
# prepare_data
# =======================================================================================

@dataclass
class ModelData:
    """The cleaned inputs of a model (all arrays are the model's own float copies)."""

    endog: np.ndarray
    exog: np.ndarray | None
    endog_name: str
    exog_names: list[str]
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    row_labels: pd.Index | None = None
    row_mask: np.ndarray | None = None      # rows kept, over the original rows (None: all)
    nobs_original: int = 0
    n_dropped: int = 0
    dropped_by: dict[str, int] = field(default_factory=dict)  # column -> non-finite rows
    original_labels: pd.Index | None = None  # row labels before dropping missing rows

    @property
    def nobs(self) -> int:
        return int(self.endog.shape[0])

    def align(self, values: Any, name: str = "array") -> np.ndarray:
        """A per-row array handed over after construction (cluster groups, offset, ...),
        as a new array over the model's rows.

        A pandas Series is matched by its index (``align_labels``): it may hold the rows
        used, or every original row under ``missing="drop"``, in any order; an index that
        does not match raises DataError. Anything else is matched by position and may have
        one value per row used or per original row.
        """
        if isinstance(values, (str, bytes)) or np.ndim(values) == 0:
            raise DataError(f"{name} must hold one value per row (an array or a pandas "
                            f"Series), not the {type(values).__name__} {values!r}; for a "
                            "column of the data pass the column itself (data['...']).")
        n = len(values) if isinstance(values, (pd.Series, pd.DataFrame)) else None
        if n is not None:
            original = self.original_labels
            if original is None:        # numpy data: pandas' default labels 0..n-1
                original = pd.RangeIndex(self.nobs_original or self.nobs)
            used = self.row_labels if self.row_labels is not None else \
                original if self.row_mask is None else original[self.row_mask]
            how = {} if self.original_labels is not None else _NUMPY_ROWS
            if n == self.nobs or self.row_mask is None:
                values = align_labels(values, used, name, **how)
            elif n == self.nobs_original:
                values = align_labels(values, original, name, **how)
        arr = values.to_numpy() if isinstance(values, (pd.Series, pd.DataFrame)) else \
            np.asarray(values)
        n = arr.shape[0] if arr.ndim else 0
        if n == self.nobs:
            return arr.copy()
        if self.row_mask is not None and n == self.nobs_original:
            return arr[self.row_mask]
        sizes = f"{self.nobs}" if self.row_mask is None else \
            f"{self.nobs} (used) or {self.nobs_original} (before dropping missing rows)"
        raise DataError(f"{name} has {n} rows but the model has {sizes}.")


# how align_labels speaks of the rows of numpy data (pandas' default labels)
_NUMPY_ROWS = {"what": "the numpy data's default row labels 0..n-1",
               "fix": "give endog and exog as pandas objects with its index"}


def prepare_data(endog: Any, exog: Any = None, missing: str = "raise",
                 extras: dict[str, Any] | None = None,
                 passthrough: dict[str, Any] | None = None) -> ModelData:
    """Validate and copy model inputs.

    ``extras`` are numeric per-row arrays (offset, exposure, ...), checked like exog;
    ``passthrough`` are per-row arrays of any type (cluster groups, ...) that are only kept
    aligned (missing values in them count as missing rows). ``None`` entries are ignored.
    A pandas Series among them is matched to the data's rows by its index (any order;
    ``align_labels``; numpy data have pandas' default labels 0..n-1), and refused when its
    index does not hold the same labels.
    """
    if missing not in _MISSING:
        raise ValueError(f"missing must be 'raise' or 'drop', not {missing!r}.")
    y, y_name, y_labels = _endog_array(endog)
    x, x_names, x_labels = (None, [], None) if exog is None else _exog_array(exog)
    n = y.shape[0]
    if n == 0:
        raise DataError("the data are empty: endog has 0 rows.")
    if x is not None:
        if x.shape[0] != n:
            raise DataError(f"endog {y_name!r} has {n} rows but exog has {x.shape[0]}; they "
                            "must have one row per observation.")
        if x.shape[1] == 0:
            raise DataError("exog has no columns; pass at least one regressor (e.g. "
                            "add_constant(...) for an intercept-only model).")
    if y_labels is not None and x_labels is not None and not y_labels.equals(x_labels):
        raise DataError("endog and exog are pandas objects with different row indexes; align "
                        "them first (e.g. exog = exog.loc[endog.index]) or pass .to_numpy().")
    labels = y_labels if y_labels is not None else x_labels
    original_labels = labels
    # a pandas array handed over with numpy data is matched to pandas' default labels
    given = labels if labels is not None else pd.RangeIndex(n)
    how = {} if labels is not None else _NUMPY_ROWS

    extra_arrays: dict[str, np.ndarray] = {}
    for name, values in (extras or {}).items():
        if values is None:
            continue
        values = align_labels(values, given, name, **how)
        arr = _numeric_vector(values, name)
        if arr.shape[0] != n:
            raise DataError(f"{name} has {arr.shape[0]} rows but endog has {n}; give one "
                            f"{name} value per observation.")
        extra_arrays[name] = arr
    pass_arrays: dict[str, np.ndarray] = {}
    for name, values in (passthrough or {}).items():
        if values is None:
            continue
        values = align_labels(values, given, name, **how)
        arr = values.to_numpy(copy=True) if isinstance(values, (pd.Series, pd.Index)) else \
            np.array(values, copy=True)
        if arr.ndim != 1 or arr.shape[0] != n:
            raise DataError(f"{name} must be one value per observation ({n}), got shape "
                            f"{arr.shape}.")
        pass_arrays[name] = arr

    # --- non-finite values -----------------------------------------------------------------
    bad = ~np.isfinite(y)
    counts = {y_name: int(bad.sum())}
    with np.errstate(all="ignore"):         # fast path: finite column sums mean finite data
        x_clean = x is None or bool(np.all(np.isfinite(np.add.reduce(x, axis=0))))
    if not x_clean:
        bad_x = ~np.isfinite(x)
        per_col = bad_x.sum(axis=0)
        for j in np.flatnonzero(per_col):
            counts[x_names[j]] = int(per_col[j])
        bad |= bad_x.any(axis=1)
    for name, arr in extra_arrays.items():
        b = ~np.isfinite(arr)
        counts[name] = int(b.sum())
        bad |= b
    for name, arr in pass_arrays.items():
        b = np.asarray(pd.isna(arr), dtype=bool)
        counts[name] = int(b.sum())
        bad |= b
    counts = {k: v for k, v in counts.items() if v}
    n_bad = int(bad.sum())
    mask = None
    if n_bad:
        where = ", ".join(f"{k!r} ({v} row{'s' if v > 1 else ''})" for k, v in counts.items())
        if missing == "raise":
            raise MissingDataError(
                f"NaN or inf values in {where}: {n_bad} of {n} rows affected. Clean the data, "
                "or pass missing='drop' to drop those rows.")
        if n_bad == n:
            raise NoRowsLeftError(f"every row has NaN or inf values (in {where}); nothing is "
                                  "left to fit after missing='drop'.", counts)
        mask = ~bad
        y = y[mask]
        x = None if x is None else x[mask]
        extra_arrays = {k: v[mask] for k, v in extra_arrays.items()}
        pass_arrays = {k: v[mask] for k, v in pass_arrays.items()}
        labels = None if labels is None else labels[mask]
    extra_arrays.update(pass_arrays)
    return ModelData(endog=y, exog=x, endog_name=y_name, exog_names=x_names,
                     extras=extra_arrays, row_labels=labels, row_mask=mask,
                     nobs_original=n, n_dropped=n_bad, dropped_by=counts if n_bad else {},
                     original_labels=original_labels)


def _endog_array(endog) -> tuple[np.ndarray, str, pd.Index | None]:
    if endog is None:
        raise DataError("endog is None; pass the dependent variable.")
    labels = None
    if isinstance(endog, pd.DataFrame):
        if endog.shape[1] != 1:
            raise DataError(f"endog must be a single column; the DataFrame has "
                            f"{endog.shape[1]} columns {list(endog.columns)}.")
        endog = endog.iloc[:, 0]
    if isinstance(endog, pd.Series):
        name = "y" if endog.name is None else str(endog.name)
        labels = endog.index
        return _column_to_float(endog, name), name, labels
    arr = np.asarray(endog)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(f"endog must be one-dimensional (one value per observation), got "
                        f"shape {arr.shape}.")
    return _column_to_float(arr, "y"), "y", labels


def _exog_array(exog) -> tuple[np.ndarray, list[str], pd.Index | None]:
    if isinstance(exog, pd.Series):
        exog = exog.to_frame(name="x1" if exog.name is None else exog.name)
    if isinstance(exog, pd.DataFrame):
        names = [str(c) for c in exog.columns]
        if len(set(names)) != len(names):
            dup = sorted({c for c in names if names.count(c) > 1})
            raise DataError(f"exog has duplicate column names {dup}; rename them.")
        if all(isinstance(dt, np.dtype) and dt.kind in "biuf" for dt in exog.dtypes):
            # plain numpy numeric columns: one conversion for the whole frame
            return (np.array(exog.to_numpy(dtype=np.float64), dtype=np.float64, order="C",
                             copy=True), names, exog.index)
        cols = [_column_to_float(exog.iloc[:, j], names[j]) for j in range(exog.shape[1])]
        x = np.column_stack(cols) if cols else np.empty((exog.shape[0], 0))
        return np.ascontiguousarray(x, dtype=np.float64), names, exog.index
    arr = np.asarray(exog)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise DataError(f"exog must be 1-D or 2-D (observations x regressors), got shape "
                        f"{arr.shape}.")
    names = _array_names(arr)
    if arr.dtype.kind in "biuf":
        return np.array(arr, dtype=np.float64, order="C", copy=True), names, None
    cols = [_column_to_float(arr[:, j], names[j]) for j in range(arr.shape[1])]
    x = np.column_stack(cols) if cols else np.empty((arr.shape[0], 0))
    return np.ascontiguousarray(x, dtype=np.float64), names, None


def _array_names(arr: np.ndarray) -> list[str]:
    """statsmodels' names: ``const`` for the first constant column, ``x1, x2, ...`` for others."""
    k = arr.shape[1]
    const = None
    if arr.dtype.kind in "biuf" and arr.shape[0] > 0:
        for j in range(k):
            if _is_nonzero_constant(arr[:, j]):
                const = j
                break
    names = [f"x{i}" for i in range(1, k + (const is None))]
    if const is not None:
        names.insert(const, "const")
    return names


def _numeric_vector(values, name: str) -> np.ndarray:
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise DataError(f"{name} must be a single column, got {values.shape[1]}.")
        values = values.iloc[:, 0]
    if isinstance(values, pd.Series):
        return _column_to_float(values, name)
    if isinstance(values, str):
        raise DataError(f"{name} must have one value per observation, got the string "
                        f"{values!r} (from_formula reads a string as the name of a column "
                        "of its data; it is not one).")
    arr = np.asarray(values)
    if arr.ndim == 0:
        raise DataError(f"{name} must have one value per observation, got a single number.")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got shape {arr.shape}.")
    return _column_to_float(arr, name)


def _column_to_float(col, name: str) -> np.ndarray:
    """One column as a new float64 array, or a DataError naming the column and the problem."""
    if isinstance(col, pd.Series):
        dtype = col.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
            return np.array(col.to_numpy(), dtype=np.float64, copy=True)
        if isinstance(dtype, pd.CategoricalDtype):
            raise DataError(f"column {name!r} is categorical; encode it as numbers first "
                            "(e.g. pandas.get_dummies(..., drop_first=True, dtype=float)).")
        if pd.api.types.is_datetime64_any_dtype(dtype) or \
                pd.api.types.is_timedelta64_dtype(dtype):
            raise DataError(f"column {name!r} holds dates or times; convert it to numbers.")
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
            if pd.api.types.is_complex_dtype(dtype):
                raise DataError(f"column {name!r} is complex; only real numbers are allowed.")
            return col.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        values = col.to_numpy(dtype=object)
    else:
        arr = np.asarray(col)
        if arr.dtype.kind in "biuf":
            return np.array(arr, dtype=np.float64, copy=True)
        if arr.dtype.kind == "c":
            raise DataError(f"column {name!r} is complex; only real numbers are allowed.")
        if arr.dtype.kind in "mM":
            raise DataError(f"column {name!r} holds dates or times; convert it to numbers.")
        values = arr.astype(object)
    out = np.empty(len(values), dtype=np.float64)
    for i, v in enumerate(values):
        if v is None or v is pd.NA or v is pd.NaT:
            out[i] = np.nan
            continue
        if isinstance(v, (bool, np.bool_, int, float, np.integer, np.floating)):
            out[i] = float(v)
            continue
        raise DataError(
            f"column {name!r} holds non-numeric values (e.g. {v!r} in row {i}); convert it "
            "to numbers (pandas.to_numeric, or pandas.get_dummies for categories) or drop it.")
    return out


# =======================================================================================
# collinearity
# =======================================================================================

def check_rank(x: np.ndarray, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Raise CollinearityError naming the columns if ``x`` does not have full column rank;
    return the column norms and the Gram matrix ``x'x``.

    Columns are scaled to unit length first, so a bad scale (Longley: condition number ~5e9)
    is not mistaken for collinearity. A column whose sum of squares overflows (or whose
    squares are subnormal, max |value| below 1.5e-154, although it is not zero) raises
    DataError naming it and the power of ten to rescale by, rather than a false
    collinearity verdict. A cheap test on the scaled Gram matrix clears the usual case; if
    it is inconclusive, the singular values of the scaled matrix decide, with the tolerance
    numpy.linalg.matrix_rank uses (max(N, K) * eps * largest singular value).
    """
    n, k = x.shape
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        gram = x.T @ x
    norms = np.sqrt(np.diag(gram))
    # (a column of subnormal squares sums to less than n * tiny: only then is it looked for)
    if not np.isfinite(gram).all() or (np.diag(gram) < 2.0 * n * _TINY).any() and \
            _subnormal_squares(x).any():
        _refuse_out_of_range(x, names, np.diag(gram))
    zero = [names[j] for j in range(k) if norms[j] == 0]
    if zero:
        raise CollinearityError(f"column{'s' if len(zero) > 1 else ''} {_quote(zero)} "
                                f"{'are' if len(zero) > 1 else 'is'} all zeros; drop "
                                f"{'them' if len(zero) > 1 else 'it'}.")
    if k > n:
        raise DataError(f"{n} observations but {k} regressors ({_quote(names)}); at least as "
                        "many observations as parameters are needed.")
    eig = np.linalg.eigvalsh(gram / np.outer(norms, norms))
    if eig[0] > 1e-10 * eig[-1]:  # condition number of the scaled x below 1e5: full rank
        return norms, gram
    xs = x / norms
    sv = np.linalg.svd(xs, compute_uv=False)
    if sv[-1] > sv[0] * max(n, k) * np.finfo(float).eps:
        return norms, gram
    # name the dependent columns: walk the columns in the user's order and flag each one that
    # adds no rank to those kept before it, with the combination that reproduces it.
    kept: list[int] = []
    lines = []
    for j in range(k):
        trial = kept + [j]
        s = np.linalg.svd(xs[:, trial], compute_uv=False)
        if s[-1] > s[0] * max(n, len(trial)) * np.finfo(float).eps:
            kept.append(j)
            continue
        coef, *_ = np.linalg.lstsq(x[:, kept], x[:, j], rcond=None)
        terms = [(c, names[i]) for c, i in zip(coef, kept)
                 if abs(c) * norms[i] > 1e-8 * norms[j]]
        combo = " + ".join(f"{c:.6g}*{nm}" for c, nm in terms) or "0"
        lines.append(f"{names[j]!r} = {combo}")
    raise CollinearityError(
        "exog columns are perfectly collinear, so their coefficients are not identified: "
        + "; ".join(lines) + ". Drop one of the columns involved in each relation.")


def check_scale(values: np.ndarray, name: str, model: str | None = None) -> None:
    """Raise DataError if the sum of squares of ``values`` (the dependent variable) overflows,
    or its squares are subnormal (max |value| below 1.5e-154, not all 0): no likelihood built
    on squares or cross-products can be computed."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        ss = float(values @ values)
    if not np.isfinite(ss) or ss < 2.0 * values.shape[0] * _TINY and \
            _subnormal_squares(values[:, None])[0]:
        _refuse_out_of_range(values[:, None], [name], np.array([ss]), "the dependent variable ",
                             model)


_TINY = float(np.finfo(float).tiny)                  # 2.2e-308, the smallest normal number
_SQRT_TINY = float(np.sqrt(_TINY))                    # 1.5e-154, squared: the smallest normal


def _subnormal_squares(x: np.ndarray) -> np.ndarray:
    """Per column: not all zero, yet every square is subnormal or 0 (``0 < max|x| < 1.5e-154``).
    Such a column's cross-products have lost their precision (or underflowed to 0), and
    a likelihood built on them overflows in 1/sigma^2 or its Hessian (scipy's bare "array
    must not contain infs or NaNs", NaN standard errors)."""
    big = np.max(np.abs(x), axis=0, initial=0.0)
    return (big > 0) & (big < _SQRT_TINY)


def _refuse_out_of_range(x: np.ndarray, names: Sequence[str], squares: np.ndarray,
                         what: str = "column ", model: str | None = None) -> None:
    """DataError naming the columns whose sums of squares overflow (or underflow to zero
    although the column is not zero), with the power of ten that brings them to order 1."""
    lines = []
    for j, name in enumerate(names):
        big = float(np.max(np.abs(x[:, j]), initial=0.0))
        if not np.isfinite(squares[j]):
            factor, verb, how = 10.0 ** np.floor(np.log10(big)), "large", "overflows"
            fix = f"divide it by {factor:.0e}"
        elif 0 < big < _SQRT_TINY:
            factor, verb = 10.0 ** -np.floor(np.log10(big)), "small"
            how = "underflows to 0" if squares[j] == 0 else "loses its precision (subnormal)"
            fix = f"multiply it by {factor:.0e}"
        else:
            continue
        lines.append(f"{what}{name!r} is too {verb} for double precision (max |value| = "
                     f"{big:.3g}: its sum of squares {how}); {fix}")
    if not lines:       # cross-products overflow only through the largest columns
        j = int(np.argmax(np.max(np.abs(x), axis=0)))
        lines.append(f"{what}{names[j]!r} is too large for double precision (its "
                     "cross-products overflow)")
    if not what.startswith("the dependent"):
        advice = ("Rescaling helps: the fit is the same up to the scale of that column's "
                  "coefficient.")
    elif model in (None, "OLS"):
        advice = ("Rescaling helps: in OLS the fit is the same up to the scale of the "
                  "coefficients and sigma.")
    else:
        advice = (f"Choose units in which it is of moderate size (unlike OLS's, a {model} "
                  "fit need not simply scale with the outcome).")
    raise DataError("; ".join(lines) + ". " + advice)


def _quote(names: Sequence[str]) -> str:
    return ", ".join(repr(str(nm)) for nm in names)


def frame_by_name(exog, names: Sequence[str] | None):
    """A DataFrame that holds every one of ``names`` (the model's exog names), with just
    those columns in that order; a Series (one row) whose index holds every one of them,
    those entries in that order; one that holds some of them (other than 'const') but not
    all is a DataError (reading it by position could misalign the coefficients); anything
    else unchanged (read by position)."""
    if isinstance(exog, (pd.DataFrame, pd.Series)) and names:
        labels = exog.columns if isinstance(exog, pd.DataFrame) else exog.index
        by_name = {str(c): c for c in labels}
        if len(by_name) == len(labels) and all(str(n) in by_name for n in names):
            keys = [by_name[str(n)] for n in names]
            return exog[keys] if isinstance(exog, pd.DataFrame) else exog.loc[keys]
        missing = [str(n) for n in names if str(n) not in by_name]
        # a shared 'const' alone (add_constant on a frame for a model made from arrays,
        # named const, x1, ...) says nothing about the other columns: read by position
        shared = [str(n) for n in names if str(n) in by_name and str(n) != "const"]
        if missing and shared:
            where = "columns" if isinstance(exog, pd.DataFrame) else "index"
            raise DataError(
                f"exog's {where} hold some of the model's regressors but not "
                f"{_quote(missing)}; give every one of {_quote(names)} by name (rename the "
                "columns), or pass .to_numpy() to match by position."
                + (" add_constant(exog) adds 'const'." if "const" in missing else ""))
    return exog
