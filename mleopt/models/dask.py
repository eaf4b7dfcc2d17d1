"""Dask data: every partition is a row block that lives on a worker.

A model given dask arrays, DataFrames or Series (endog, exog and any per-row keyword array)
becomes a *Dask model*: an instance of a subclass of its own class whose row blocks are
the partitions. Each block method of LikelihoodModel (value, gradient, Hessian, score
products, the QR of the design) runs on the workers on a model built from one partition
with the model's own constructor (the same mleopt code, on numpy data: per-row checks,
``missing=`` handling, derived arrays); only K-sized results travel back, the optimiser runs
on the client, and nothing N-sized is gathered. Partitions are recomputed from the user's
graph at every evaluation: ``persist()`` the data first to keep them in worker memory.

dask is imported only here, and only when dask inputs are given (the ``mleopt[dask]`` extra).
Checks done once, in a first pass over the partitions: known and equal partition lengths
(dask arrays: ``compute_chunk_sizes()``), missing values (``missing="raise"`` names the
column and partition; ``"drop"`` drops rows within each partition), the model's per-row
checks (0/1 outcomes, counts, ...), collinear columns (from the summed X'X), and the
class's whole-sample checks from K-sized per-partition summaries (``_dask_summary`` /
``_dask_validate``: Logit/Probit's both outcomes present and columns that separate on their
own, Poisson/NB's some count > 0, OrderedModel's implicit constant from the partitions' R).

Perfect separation and its count analogue after a fit (``_after_fit``): the class's own
check runs, with two hooks here. ``_saturation`` (max |x'b|, -min x'b, or a fitted
probability below 1e-8) is one extra pass; the Hessian is the fit's, kept. When the fit
looks off, ``_separation_rows`` gathers the linear program's rows from the partitions if
they hold at most ``SEPARATION_GATHER_LIMIT`` entries (the columns are then named exactly,
as in memory); above it the rows the fit supports least are gathered from each partition
(``_separation_sample``): when they already rule out every diverging direction the fit is
cleared, else it is reported as looking separated (the criteria met, the largest
coefficients), by the model's ``separation=`` mode on strong evidence and as a warning on a
moderate tail alone (IndexModel._confirm_separation), never silently.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .. import blocks as blocks_mod
from ..data import check_rank
from ..exceptions import DataError, NoRowsLeftError

__all__ = ["is_dask", "any_dask", "dask_class"]


def is_dask(x: Any) -> bool:
    """True for a dask collection (array, DataFrame, Series), without importing dask."""
    return (type(x).__module__ or "").startswith("dask") and hasattr(x, "__dask_graph__")


def any_dask(args, kwargs) -> bool:
    return any(is_dask(a) for a in args) or any(is_dask(v) for v in kwargs.values())


def _import_dask():
    try:
        import dask
        import dask.array  # noqa: F401
    except ImportError as exc:       # pragma: no cover - the extra is installed in tests
        raise ImportError("Dask inputs need dask: pip install mleopt[dask] (installs "
                          "dask[array,dataframe] and distributed).") from exc
    return dask


@functools.lru_cache(maxsize=None)
def dask_class(base: type) -> type:
    """``base`` with its row blocks on Dask partitions (same name, results and methods)."""
    return type(base.__name__, (DaskModel, base), {"_dask_base": base,
                                                   "__module__": base.__module__,
                                                   "__qualname__": base.__qualname__})


# =======================================================================================
# the partitions of the per-row inputs
# =======================================================================================

def _parts(name: str, x) -> tuple[list, tuple | None, list[str] | None, str | None]:
    """``(delayed partitions, row counts or None, column names, series name)`` of one input."""
    import dask.array as da
    if isinstance(x, da.Array):
        if x.ndim not in (1, 2):
            raise DataError(f"{name} must be 1-D or 2-D, got a dask array of shape {x.shape}.")
        rows = x.chunks[0]
        if any(np.isnan(c) for c in rows):
            raise DataError(
                f"{name} is a dask array with unknown partition lengths (NaN chunks); call "
                f"{name}.compute_chunk_sizes() first, or make it with "
                "DataFrame.to_dask_array(lengths=True).")
        if x.ndim == 2 and len(x.chunks[1]) > 1:
            x = x.rechunk({1: -1})
        blocks = x.to_delayed()
        parts = list(blocks[:, 0] if x.ndim == 2 else blocks)
        return parts, tuple(int(c) for c in rows), None, None
    # dask DataFrame / Series
    import dask.dataframe as dd
    parts = list(x.to_delayed())
    frame = isinstance(x, dd.DataFrame)
    cols = [str(c) for c in x.columns] if frame else None
    sname = None if frame or x.name is None else str(x.name)
    return parts, None, cols, sname


class _Partitioned:
    """The per-row inputs of a Dask model, as delayed partitions."""

    def __init__(self, inputs: dict[str, Any]):
        self.parts: dict[str, list] = {}
        rows: dict[str, tuple] = {}
        self.columns: dict[str, list[str] | None] = {}
        self.names: dict[str, str | None] = {}
        self.divisions: dict[str, Any] = {}
        for name, x in inputs.items():
            parts, r, cols, sname = _parts(name, x)
            self.parts[name] = parts
            self.columns[name], self.names[name] = cols, sname
            if r is not None:
                rows[name] = r
            div = getattr(x, "divisions", None)
            if div is not None and not any(d is None for d in div):
                self.divisions[name] = tuple(div)
        counts = {k: len(v) for k, v in self.parts.items()}
        if len(set(counts.values())) > 1:
            raise DataError(f"the dask inputs are partitioned differently: {counts} "
                            "partitions; give endog, exog and the other per-row arrays the "
                            "same partitions (e.g. columns of one dask DataFrame, or arrays "
                            "with equal chunks along the rows).")
        if len(set(rows.values())) > 1:
            raise DataError(f"misaligned partitions: the row chunks differ between "
                            f"{', '.join(rows)} ({'; '.join(f'{k}: {v}' for k, v in rows.items())}); "
                            "rechunk them alike (x.rechunk({0: y.chunks[0]})).")
        if len(set(self.divisions.values())) > 1:
            raise DataError(f"misaligned partitions: the dask DataFrame/Series inputs "
                            f"{', '.join(self.divisions)} have different divisions; take "
                            "them from one DataFrame or repartition them alike.")
        self.n = next(iter(counts.values()))

    def partition(self, i: int) -> dict:
        return {k: v[i] for k, v in self.parts.items()}

    def keep(self, which: list[int]) -> None:
        self.parts = {k: [v[i] for i in which] for k, v in self.parts.items()}
        self.n = len(which)


# =======================================================================================
# work done on the workers
# =======================================================================================

def build(template: dict, parts: dict, index: int):
    """The model of one partition: the base class's own constructor on numpy data, with
    the checks that need all rows left to the client, then the client's names."""
    base = template["base"]
    model = object.__new__(base)
    model._partition = True
    model.__dict__.update(template.get("presets") or {})
    kwargs = dict(template["static"])
    kwargs.update({k: v for k, v in parts.items() if k not in ("endog", "exog")})
    lengths = {k: len(v) for k, v in parts.items()}
    if len(set(lengths.values())) > 1:
        raise DataError(f"misaligned partitions: partition {index} has "
                        f"{', '.join(f'{v} rows in {k}' for k, v in lengths.items())}; the "
                        "per-row inputs must be partitioned alike.")
    kwargs.update({role: parts.get(key) for role, key in zip(template["roles"],
                                                             ("endog", "exog"))})
    try:
        base.__init__(model, **kwargs)
    except NoRowsLeftError:
        raise                       # (a partition left empty by missing="drop": _stats)
    except (DataError, ValueError) as exc:
        raise type(exc)(f"partition {index}: {exc}") from exc
    if template["endog_name"] is not None:
        model.endog_name = template["endog_name"]
    if model.exog is not None and template["exog_names"] is not None:
        model.exog_names = list(template["exog_names"])
        model.const_idx, model.k_constant = template["const_idx"], template["k_constant"]
    if template["param_names"] is not None:
        model._param_names = template["param_names"]
    if template.get("param_tree") is not None:      # dict start values (mleopt.ad.pytree)
        model._param_tree = template["param_tree"]
    if template.get("null"):        # the intercept-only model, as the class makes it
        model = model._null_model()
    model._is_block = True
    if template.get("transforms") is not None:      # fit(transforms=...) on the client
        model._transforms = template["transforms"]
    if template.get("block_options") is not None:     # sub-blocks of a large partition
        model._block_options = template["block_options"]
    return model


def _call(template, parts, index, method, args, kwargs, raw):
    """Build partition ``index``'s model and run ``method`` on it (a task on a worker).
    ``raw``: per-row arrays over the partition's original rows (aligned to the kept ones)."""
    model = build(template, parts, index)
    kw = dict(kwargs)
    mask = model.data.row_mask
    for k, v in raw.items():
        _check_aligned(_RAW_NAMES.get(k, k), v, parts["endog"], index)
        v = v.to_numpy() if hasattr(v, "to_numpy") else np.asarray(v)
        kw[k] = v if mask is None else v[mask]
    return _in_row_blocks(model, method, args, kw)


_RAW_NAMES = {"labels": "cluster groups"}     # what the user calls a per-row argument


def _check_aligned(name: str, values, endog, index: int) -> None:
    """A per-row collection handed over after construction (cluster groups) must have the
    partition's rows: as many, and the same row labels where both have them."""
    if len(values) != len(endog):
        raise DataError(f"misaligned partitions: partition {index} has {len(endog)} rows in "
                        f"the data and {len(values)} in {name}; partition {name} like the "
                        "data (e.g. a column of the same dask DataFrame).")
    own, theirs = getattr(values, "index", None), getattr(endog, "index", None)
    if own is not None and theirs is not None and not own.equals(theirs):
        raise DataError(f"misaligned partitions: partition {index} of {name} has other row "
                        "labels than the data's; take it from the same dask DataFrame (or "
                        "give a dask array partitioned like the data).")


# block methods whose results add up over rows: on a partition larger than the memory
# budget they run on its row blocks (threads) and are added, as in memory
_PER_ROW_KWARGS = ("row_scale", "labels", "codes")


def _merge_clusters(parts: list):
    """Per-cluster score sums ``(codes present, sums)`` of several blocks as one."""
    present = np.unique(np.concatenate([p for p, _ in parts]))
    sums = np.zeros((present.size, parts[0][1].shape[1]))
    for p, s in parts:
        sums[np.searchsorted(present, p)] += s
    return present, sums


def _add_meat(parts: list):
    return _merge_clusters(parts) if isinstance(parts[0], tuple) else blocks_mod.add(parts)


_ADDED = {"_block_derivatives": blocks_mod.add_derivatives, "_block_hessian": blocks_mod.add,
          "_block_meat": _add_meat}


def _in_row_blocks(model, method: str, args: tuple, kw: dict):
    """``model.method(*args, **kw)``, on the partition's row blocks under the memory budget
    where the method's results add up (value, gradient, Hessian, score products; the HC2/HC3
    leverage terms of OLS need the partition's QR whole)."""
    if method not in _ADDED or kw.get("hc") is not None:
        return getattr(model, method)(*args, **kw)
    models = model._blocks()[0]
    if len(models) == 1:
        return getattr(model, method)(*args, **kw)
    rows = {k: v for k, v in kw.items() if k in _PER_ROW_KWARGS and v is not None}
    each = {k: [v] * len(models) for k, v in kw.items() if k not in rows}
    return _ADDED[method](model._block_map(method, *args, rows=rows, each=each))


def _stats(template, parts, index):
    """First pass over one partition: rows kept, X'X, column ranges, first row."""
    n_raw = len(parts["endog"])
    if n_raw == 0:
        return {"n": 0, "n_raw": 0}
    try:
        model = build(template, parts, index)
    except NoRowsLeftError as exc:  # every row of this partition dropped: the others count
        return {"n": 0, "n_raw": n_raw, "dropped": exc.dropped_by}
    summary = getattr(model, "_dask_summary", None)     # K-sized, for _dask_validate
    out = {"n": model.nobs, "n_raw": n_raw, "dropped": model.data.dropped_by,
           "summary": None if summary is None else summary(),
           "row_bytes": model._bytes_per_row(), "attrs": _model_attributes(model),
           "param_names": model._param_names, "own_names": _own_names(model),
           "endog_name": model.endog_name}
    x = model.exog
    if x is not None and model.nobs:
        out.update(gram=x.T @ x, lo=x.min(axis=0), hi=x.max(axis=0), first=x[0].copy())
    return out


_NOT_SHARED = {"data", "endog", "exog", "_partition", "_is_block", "_block_options",
               "_param_names", "exog_names", "const_idx", "k_constant", "endog_name",
               "_col_norms", "_gram"}


def _model_attributes(model) -> dict:
    """What a partition's constructor derived beyond its rows (the names of a second
    design's columns, a link, k_zero, ...): its attributes that are not per-row arrays,
    for the client's model (whose own constructor never sees the data)."""
    n = model.nobs
    out = {}
    for name, value in vars(model).items():
        if name in _NOT_SHARED or name.endswith("_memo"):
            continue
        if isinstance(value, np.ndarray) and value.ndim and value.shape[0] == n:
            continue                    # a per-row array
        if hasattr(value, "__len__") and hasattr(value, "index") and \
                not isinstance(value, (list, tuple, str)) and len(value) == n:
            continue                    # a per-row pandas object
        out[name] = value
    return out


def _own_names(model) -> list | None:
    """The names a model without a constructor of its own would have (exog's columns and
    the extra parameters): when a partition's names differ, its class named them."""
    if model.exog is None:
        return None
    return [str(n) for n in list(model.exog_names) + list(model.extra_param_names)]


def _added(values: list, how: str):
    """Per-partition values combined: ``"sum"`` adds them (dicts entry by entry),
    ``"norm"`` adds column norms (the square root of the summed squares)."""
    if isinstance(values[0], dict):
        return {k: _added([v[k] for v in values], how) for k in values[0]}
    if how == "norm":
        return np.sqrt(sum(np.square(v) for v in values))
    return sum(values)


def _adopt_attributes(model, stats: list, replace: bool = False) -> None:
    """The client's model takes the partitions' derived attributes it does not have (from
    the first partition: names, options); those named in the class's ``_dask_added``
    ({name: "sum" | "norm"}) are sums over rows, combined over all the partitions."""
    first = stats[0]["attrs"]
    added = getattr(model, "_dask_added", {})
    for name, value in first.items():
        if name in added:
            value = _added([s["attrs"][name] for s in stats], added[name])
        elif name in model.__dict__ and not replace:
            continue
        model.__dict__[name] = value


def _compute(dask, tasks: list):
    """``dask.compute`` on the current scheduler; a lost or unreachable scheduler is named."""
    try:
        return dask.compute(*tasks)
    except (OSError, TimeoutError) as exc:      # distributed's CommClosedError is an OSError
        raise ConnectionError(
            f"the Dask scheduler could not be reached while evaluating the model's "
            f"partitions ({type(exc).__name__}: {exc}). Check that the cluster is running "
            "(distributed.Client(address)), or close the Client to use the local "
            "scheduler.") from exc


# =======================================================================================
# the client side
# =======================================================================================

def _bind(base: type, args: tuple, kwargs: dict):
    """``((outcome name, design name), (endog, exog, missing, param_names, other arguments
    by name))`` of a call of ``base(*args, **kwargs)``: the outcome and the design are the
    first two parameters of its constructor (or those its ``_dask_roles`` names, e.g.
    IntervalRegression's lower and exog); the others go to every partition by name."""
    import inspect
    sig = inspect.signature(base.__init__)
    try:
        bound = sig.bind(None, *args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"{base.__name__}: {exc}") from None
    named = dict(bound.arguments)
    params = list(sig.parameters.values())
    named.pop(params[0].name)                       # self
    for p in params[1:]:
        if p.kind is p.VAR_KEYWORD:
            named.update(named.pop(p.name, {}))
        elif p.kind is p.VAR_POSITIONAL and named.pop(p.name, ()):
            raise TypeError(f"{base.__name__}: Dask inputs are passed to the partitions by "
                            "name; give the extra positional arguments by name.")
    roles = getattr(base, "_dask_roles", None) or tuple(p.name for p in params[1:3])
    endog = named.pop(roles[0], None)
    exog = named.pop(roles[1], None)
    missing = named.pop("missing", "raise")
    param_names = named.pop("param_names", None)
    return roles, (endog, exog, missing, param_names, named)


class DaskModel:
    """Mixed in before a model class: its row blocks are the Dask partitions."""

    _dask_base: type = None
    _replay_blocks = False  # partitions are evaluated on workers: no replay plan there

    def __init__(self, *args, **kwargs):
        """The base class's own arguments (positional or by name): its first two are the
        outcome and the design (endog, exog); every other per-row argument may be a dask
        collection partitioned like them (a second design, per-row limits, an indicator)."""
        roles, (endog, exog, missing, param_names, kwargs) = _bind(self._dask_base, args,
                                                                   kwargs)
        given = [k for k in ("freq_weights", "var_weights", "pweights", "weight_type")
                 if kwargs.get(k) is not None]
        if given:       # the rescaling, nobs and default covariance need all rows at once
            raise DataError(f"observation weights ({', '.join(given)}) are not supported on "
                            "Dask data yet; fit in-memory data (.compute()), or write the "
                            "weights into your own loglikeobs.")
        dask = _import_dask()
        from ..data import _MISSING
        if missing not in _MISSING:
            raise ValueError(f"missing must be 'raise' or 'drop', not {missing!r}.")
        inputs = {"endog": endog}
        if exog is not None:
            inputs["exog"] = exog
        static = {"missing": missing}
        for name, value in kwargs.items():
            if is_dask(value):
                inputs[name] = value
            elif value is not None and not isinstance(value, (str, bytes)) \
                    and np.ndim(value) > 0:
                raise DataError(f"{name} is an in-memory array while the data are dask "
                                f"collections; give {name} as a dask array or Series "
                                "partitioned like endog (e.g. a column of the same dask "
                                "DataFrame).")
            else:
                static[name] = value
        for name, value in inputs.items():
            if not is_dask(value):
                raise DataError(f"{name} is in memory while other inputs are dask "
                                "collections; give every per-row input as a dask collection "
                                "with the same partitions.")
        self._rows_in = _Partitioned(inputs)
        # what the class derives from all rows before any partition's model is built
        # (the whole sample's categories), set on the client's and every partition's model
        presets = getattr(self._dask_base, "_dask_presets", None)
        presets = {} if presets is None else presets(inputs,
                                                     lambda tasks: _compute(dask, tasks))
        self.__dict__.update(presets)
        if exog is not None and getattr(exog, "ndim", 2) == 2 and \
                self._rows_in.columns.get("exog") is None and \
                len(getattr(exog, "chunks", [[], []])[1]) > 1:
            exog = exog.rechunk({1: -1})
        ncols = None if exog is None else (1 if getattr(exog, "ndim", 2) == 1 else
                                            int(exog.shape[1]))
        cols = self._rows_in.columns.get("exog")
        if exog is not None and cols is None:
            sname = self._rows_in.names.get("exog")
            cols = [sname or "x1"] if ncols == 1 and getattr(exog, "ndim", 2) == 1 and \
                not hasattr(exog, "chunks") else None
        self._template = {"base": self._dask_base, "static": static,
                          "endog_name": None, "roles": roles,
                          "exog_names": cols, "const_idx": None, "k_constant": 0,
                          "param_names": None, "presets": presets}
        stats = _compute(dask, [dask.delayed(_stats)(self._template,
                                                     self._rows_in.partition(i), i)
                                for i in range(self._rows_in.n)])
        self.n_dropped = int(sum(s["n_raw"] - s["n"] for s in stats))
        self.dropped_by: dict[str, int] = {}
        for s in stats:
            for col, count in (s.get("dropped") or {}).items():
                self.dropped_by[col] = self.dropped_by.get(col, 0) + int(count)
        keep = [i for i, s in enumerate(stats) if s["n"] > 0]
        if not keep:
            raise DataError("the dask data are empty (or every row was dropped as missing).")
        self._rows_in.keep(keep)
        stats = [stats[i] for i in keep]
        self._template["endog_name"] = stats[0]["endog_name"]      # as the class names it
        self._nobs = int(sum(s["n"] for s in stats))
        self._part_rows = [int(s["n"]) for s in stats]      # rows of each partition
        self._row_bytes = max(s["row_bytes"] for s in stats)
        self._init_dask_exog(stats, ncols, cols)
        _adopt_attributes(self, stats)
        check = getattr(self, "_dask_validate", None)
        self._dask_summaries = [s["summary"] for s in stats]
        if check is not None:
            check()             # the class's checks of the whole sample, from K-sized sums
        names = param_names
        first = stats[0]
        if names is None and first["param_names"] is not None and \
                [str(n) for n in first["param_names"]] != first["own_names"]:
            names = first["param_names"]        # named by the class (two designs, ...)
        if names is None and (self._template["exog_names"] or self.extra_param_names):
            names = list(self.exog_names) + list(self.extra_param_names)
        self._set_param_names(None if names is None else [str(p) for p in names])
        self._template["param_names"] = self._param_names
        self.data = _DaskData(self)
        self.endog = endog
        self.exog = exog
        for name in inputs:
            if name not in ("endog", "exog"):
                setattr(self, name, inputs[name])

    def _init_dask_exog(self, stats, ncols, cols) -> None:
        self.endog_name = self._template["endog_name"]
        if ncols is None:
            self.exog_names, self.k_exog = [], 0
            self.const_idx, self.k_constant = None, 0
            self._col_norms = self._gram = None
            return
        gram = sum(s["gram"] for s in stats)
        lo = np.min([s["lo"] for s in stats], axis=0)
        hi = np.max([s["hi"] for s in stats], axis=0)
        const = np.flatnonzero((lo == hi) & (lo != 0))
        self.const_idx = int(const[0]) if const.size else None
        self.k_constant = int(self.const_idx is not None)
        if cols is None:            # statsmodels' names for arrays
            cols = [f"x{i}" for i in range(1, ncols + (self.const_idx is None))]
            if self.const_idx is not None:
                cols.insert(self.const_idx, "const")
        self.exog_names, self.k_exog = list(cols), ncols
        self._template.update(exog_names=self.exog_names, const_idx=self.const_idx,
                              k_constant=self.k_constant)
        w, v = np.linalg.eigh((gram + gram.T) / 2)
        r = np.sqrt(np.clip(w, 0, None))[:, None] * v.T      # r'r = X'X
        if self._check_rank:
            self._col_norms, self._gram = check_rank(r, self.exog_names)
        else:
            self._col_norms, self._gram = np.sqrt(np.diag(gram)), gram

    # --- sizes ------------------------------------------------------------------------------
    @property
    def nobs(self) -> int:
        return self._nobs

    # --- the row blocks are the partitions ------------------------------------------------
    def _blocks(self):
        """One block per partition (a partition larger than the memory budget is split
        again into row blocks on its worker)."""
        mem, _ = blocks_mod.resolve(*self.__dict__.get("_block_options", (None, None)))
        blocks_mod.row_slices(1, self._row_bytes, mem, 1)      # a row must fit
        n = self._rows_in.n
        return [None] * n, [None] * n, 1

    def _block_map(self, method: str, *args, rows: dict | None = None,
                   each: dict | None = None, raw: dict | None = None) -> list:
        """Run ``method`` on every partition's model on the workers; K-sized results back.
        ``raw``: dask per-row collections partitioned like the data."""
        dask = _import_dask()
        if rows:
            raise NotImplementedError("in-memory per-row arrays cannot be handed to Dask "
                                      "partitions; pass them as dask collections.")
        each = each or {}
        raw_parts = {k: _Partitioned({k: v}).parts[k] for k, v in (raw or {}).items()}
        for k, v in raw_parts.items():
            if len(v) != self._rows_in.n:
                raise DataError(f"{_RAW_NAMES.get(k, k)}: {len(v)} partitions; the data "
                                f"have {self._rows_in.n}. Partition it like the data.")
        template = dask.delayed(self._task_template(), pure=True)
        tasks = [dask.delayed(_call, pure=True)(
            template, self._rows_in.partition(i), i, method, args,
            {k: v[i] for k, v in each.items()}, {k: v[i] for k, v in raw_parts.items()})
            for i in range(self._rows_in.n)]
        return list(_compute(dask, tasks))

    def _task_template(self) -> dict:
        """What a worker needs to build a partition's model, with the block options in force
        on the client (this model's, else the module-wide ones, which a worker process does
        not share): a partition larger than the budget is evaluated in row blocks."""
        options = blocks_mod.resolve(*self.__dict__.get("_block_options", (None, None)))
        template = {**self._template, "block_options": options,
                    "transforms": self.__dict__.get("_transforms")}
        if self._param_tree is not None and not template.get("null"):
            # dict start values named the parameters after the partitions were described
            template.update(param_tree=self._param_tree, param_names=self._param_names)
        return template

    def _cluster_codes(self, groups, rows: dict, each: dict, raw: dict) -> int:
        from ..covariance import dask_uniques
        if not is_dask(groups):
            raise DataError("cluster groups of a Dask model must be a dask Series or array "
                            "partitioned like the data (e.g. a column of the same dask "
                            "DataFrame).")
        uniques = dask_uniques(groups)
        raw["labels"] = groups
        each["uniques"] = [uniques] * self._rows_in.n
        return len(uniques)

    # --- what the client does differently ---------------------------------------------------
    def start_params(self) -> np.ndarray:
        """Start values: the model fitted on its first partition (on a worker), or the
        generic zeros (coefficients) and ones (extra parameters) if that fails; where those
        are outside the parameter space (rho = 1), the model's map of zeros on the
        optimiser's scale (rho = tanh 0, sigma = exp 0)."""
        dask = _import_dask()
        default = np.concatenate([np.zeros(self.k_exog), np.ones(self.k_params - self.k_exog)])
        with np.errstate(all="ignore"):
            if not np.all(np.isfinite(self.untransform(default))):
                default = np.asarray(self.transform(np.zeros(self.k_params)), dtype=float)
        task = dask.delayed(_call)(self._task_template(), self._rows_in.partition(0), 0,
                                   "_quick_start", (), {}, {})
        try:
            start = _compute(dask, [task])[0]
        except ConnectionError:
            raise
        except Exception:       # a partition too small or degenerate for its own fit
            return default
        return start if start is not None and np.all(np.isfinite(start)) else default

    def _refine_start(self, start):
        return start

    def _eager_hessian(self) -> bool:
        """A pass over the partitions costs a round trip: the Hessian comes with the value
        and gradient (one pass per Newton iteration instead of two)."""
        return True

    def _expensive_hessian(self) -> bool:
        return False

    def _after_fit(self, record) -> None:
        """The class's own checks of the fit where it has them (perfect separation and its
        count analogue: ``_separation_rows``), through the two hooks below; none otherwise
        (those of the other families read per-row values)."""
        if hasattr(self._dask_base, "_separation_rows"):
            self._dask_base._after_fit(self, record)

    # rows x parameters (times the LP's rows per observation) gathered for the separation LP
    SEPARATION_GATHER_LIMIT = 4_000_000

    def _saturation(self, params) -> float:
        """The partitions' saturation (``max |x'b|``, ...), the largest: one pass, only
        after a fit, K-sized results back."""
        return float(max(self._block_map("_saturation", params)))

    def _separation_rows(self) -> tuple | str:
        """The partitions' rows for the separation LP, gathered on the client when they
        hold at most ``SEPARATION_GATHER_LIMIT`` entries (one pass); else why not."""
        per_row = max(getattr(self, "n_categories", 2) - 1, 1)
        entries = self.nobs * self.k_params * per_row
        if entries > self.SEPARATION_GATHER_LIMIT:
            return (f"Naming the columns needs a linear program on the rows in memory: the "
                    f"Dask data's {self.nobs} rows x {self.k_params} parameters are above "
                    f"the {self.SEPARATION_GATHER_LIMIT:,} entries gathered for it "
                    f"(DaskModel.SEPARATION_GATHER_LIMIT); fit the model on ddf.compute() "
                    f"or on a sample to name them.")
        parts = self._block_map("_separation_rows")
        a = np.vstack([p[0] for p in parts])
        equal = None if parts[0][1] is None else np.vstack([p[1] for p in parts])
        return a, equal, parts[0][2]

    # rows x parameters gathered for the separation LP on a subset, above the gather limit
    SEPARATION_SAMPLE_ENTRIES = 400_000

    def _separation_sample(self, params) -> tuple:
        """Above the gather limit: from each partition the rows the fit supports least
        (``_separation_candidates``; at most ``SEPARATION_SAMPLE_ENTRIES`` entries in all,
        at least 2 rows per parameter and partition), for ``_rules_out_separation``."""
        k = int(self.k_params)
        m = max(self.SEPARATION_SAMPLE_ENTRIES // (k * self._rows_in.n), 2 * k)
        parts = self._block_map("_separation_candidates", np.asarray(params, dtype=float), m)
        a = np.vstack([p[0] for p in parts])
        equal = None if parts[0][1] is None else np.vstack([p[1] for p in parts])
        return a, equal, parts[0][2]

    def _null_model(self):
        """The intercept-only model: each partition's model made intercept-only by its own
        class (``_null_model``: exog, and a second design, replaced by a constant); the
        client's copy takes their names and derived attributes (one pass)."""
        import copy
        dask = _import_dask()
        null = copy.copy(self)
        null._template = {**self._template, "null": True}
        stats = _compute(dask, [dask.delayed(_stats)(null._template,
                                                     self._rows_in.partition(i), i)
                                for i in range(self._rows_in.n)])
        _adopt_attributes(null, stats, replace=True)
        null.exog_names, null.k_exog = ["const"], 1
        null.k_constant, null.const_idx = 1, 0
        null._param_names = list(stats[0]["param_names"])
        null._template["param_names"] = None      # the partitions name their null models
        null._transforms = self._transforms_of(null._param_names)
        null.__dict__.pop("_reparam_cache", None)
        null._col_norms = np.array([np.sqrt(self.nobs)])
        null._gram = None
        null._forget_data_memos()
        null.__dict__.pop("_block_cache", None)
        return null

    def _stochastic_epochs(self, scale, batch_size: int, optimizer, method: str):
        """``run_epoch`` on the partitions: each epoch visits them in a shuffled order and,
        in each, takes batches of ``batch_size`` of its rows in a shuffled order (a batch
        does not cross partitions: the last of each partition takes its remainder). A
        partition's steps run in one task on its worker (``_run_batches``: the minibatch
        gradients of the in-memory code), with the K-sized parameters and optimiser state
        sent there and back; the draws come from the client's ``rng``, so a seed reproduces
        the fit on any scheduler."""
        dask = _import_dask()
        template = self._task_template()
        sizes = self._part_rows

        def run_epoch(rng, x, state, epoch, steps):
            for i in rng.permutation(len(sizes)):
                order = rng.permutation(sizes[i])
                batches = [np.sort(order[lo:lo + batch_size])
                           for lo in range(0, sizes[i], batch_size)]
                task = dask.delayed(_call, pure=False)(
                    template, self._rows_in.partition(int(i)), int(i), "_run_batches",
                    (x, state, batches, optimizer, scale, epoch, steps, method,
                     f"partition {int(i)}, "), {}, {})
                x, state, steps = _compute(dask, [task])[0]
            return x, state, steps
        return run_epoch

    def _take(self, rows):
        raise NotImplementedError("row subsets of a Dask model are not supported; subset "
                                  "the dask collections and build a new model.")

    def predict(self, params, exog=None, which: str | None = None, **kwargs):
        """Predictions for new (in-memory) ``exog`` (``which``: the base class's default
        when not given); for the Dask data themselves they would be N values gathered on
        the client, so they are refused."""
        if exog is None:
            raise NotImplementedError(
                f"predictions for every row of the Dask data ({self.nobs} values; also "
                "fittedvalues and resid) are not gathered to the client; compute them per "
                "partition, e.g. ddf.map_partitions(lambda d: results.predict(d[exog_names]))"
                ", or pass in-memory exog=.")
        if which is not None:
            kwargs["which"] = which
        return self._dask_base.predict(self, params, exog=exog, **kwargs)

    def score_obs(self, params):
        raise NotImplementedError(
            f"the per-observation scores of a Dask model are {self.nobs} x {self.k_params} "
            "values and are not gathered; the covariances use their products, summed on the "
            "workers.")

    def loglikeobs(self, params):
        from ..ad import Dual, Tensor
        if isinstance(params, (Tensor, Dual)):
            raise NotImplementedError(
                f"{type(self).__name__} on Dask data is evaluated partition by partition; "
                "its per-observation log-likelihood is not available as one traced array.")
        raise NotImplementedError("loglikeobs of a Dask model would gather N values; use "
                                  "loglike(params) (summed on the workers).")


class _DaskData:
    """What results read from ``model.data`` for a Dask model."""

    def __init__(self, model: DaskModel):
        self.row_labels = None
        self.row_mask = None
        self.n_dropped = model.n_dropped
        self.dropped_by = dict(model.dropped_by)
        self.nobs_original = model.nobs + model.n_dropped
        self.extras = {}
        self._model = model

    @property
    def nobs(self) -> int:
        return self._model.nobs

    def align(self, values, name: str = "array"):
        if is_dask(values):
            return values
        raise DataError(f"{name} of a Dask model must be a dask Series or array partitioned "
                        "like the data (e.g. a column of the same dask DataFrame).")
