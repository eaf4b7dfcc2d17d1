"""Categorical outcomes: labels to codes 0..J-1, shared by OrderedModel and MNLogit.

The order of the categories is the order of the codes: an ordered pandas Categorical keeps
its own order; numbers and booleans are sorted by value. Strings (and an unordered
Categorical) have no order an ordered model may trust: OrderedModel refuses them, MNLogit
(which needs only a base category) sorts them. Missing labels become NaN codes, so that
``missing="raise" | "drop"`` treats them as any other missing value.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataError
from .index import IndexModel, _separation_mode

__all__ = ["encode_categories", "category_label", "CategoricalOutcome"]


class CategoricalOutcome:
    """What the results layer reads of a model of categories: ``labels`` (set by the
    model), ``n_categories`` and ``outcome_names`` (``"y=label"``, statsmodels' names)."""

    labels: list

    # --- Dask data: the whole sample's categories are found first (mleopt.models.dask) ------
    _dask_added = {"_counts": "sum"}

    @classmethod
    def _dask_presets(cls, inputs: dict, compute) -> dict:
        """``{"_dask_labels": the categories of the whole sample}``: a Categorical's own
        (its categories must be known), else the sorted labels found in any partition."""
        endog = inputs["endog"]
        dtype = getattr(endog, "dtype", None)
        if isinstance(dtype, pd.CategoricalDtype):
            if not endog.cat.known:
                raise DataError(f"{cls.__name__}: endog is a dask Categorical with unknown "
                                "categories; call endog.cat.as_known() first.")
            return {"_dask_labels": list(dtype.categories)}
        import dask
        found = compute([dask.delayed(_labels_found)(part, cls.__name__)
                         for part in endog.to_delayed()])
        try:
            labels = sorted(set().union(*found))
        except TypeError:
            raise DataError(f"{cls.__name__}: endog mixes labels of types that cannot be "
                            "sorted; recode it to one type (e.g. y.astype(str)).") from None
        return {"_dask_labels": labels}

    def _dask_validate(self) -> None:
        """The checks of the whole sample, from the partitions' category counts."""
        used = np.flatnonzero(self._counts > 0)
        text = [category_label(v) for v in self.labels]
        if used.size < 2:
            raise DataError(f"{type(self).__name__}: endog {self.endog_name!r} has a single "
                            f"category ({', '.join(text[i] for i in used) or 'none'}); at "
                            "least two are needed.")
        if used.size < len(self.labels):
            empty = [t for t, c in zip(text, self._counts) if c == 0]
            raise DataError(f"{type(self).__name__}: endog {self.endog_name!r} has no "
                            f"observation in categor{'y' if len(empty) == 1 else 'ies'} "
                            f"{', '.join(empty)} (after dropping missing rows); their "
                            "parameters' MLE does not exist.")

    def _encode(self, endog: Any, need_order: bool) -> tuple[Any, list]:
        """encode_categories, with the whole sample's labels on a Dask partition."""
        return encode_categories(endog, type(self).__name__, need_order=need_order,
                                 labels=self.__dict__.get("_dask_labels"))

    # --- non-existence of the MLE: IndexModel's one mechanism (raise, or warn with a note) --
    separation_note: str | None = None
    _separation = IndexModel._separation
    _set_separation_mode = staticmethod(_separation_mode)

    def _improving_rows(self) -> np.ndarray:
        """Rows ``a_i`` (one per inequality, columns the parameters): a direction d with
        ``a d >= 0``, some ``> 0``, raises the log-likelihood without bound."""
        raise NotImplementedError

    def _weighted_counts(self) -> np.ndarray:
        """Observations per category, counted with the observation weights (the null
        model and the start values use them); the row counts when unweighted."""
        w = self._row_weights()
        if w is None:
            return self._counts.astype(float)
        counts = np.bincount(self.endog.astype(int), weights=w, minlength=len(self.labels))
        empty = [category_label(self.labels[j]) for j in np.flatnonzero(counts <= 0)]
        if empty:
            raise DataError(f"{type(self).__name__}: the observation weights "
                            f"({self.weighting.name}) are 0 in every row of categor"
                            f"{'y' if len(empty) == 1 else 'ies'} {', '.join(empty)} of "
                            f"endog {self.endog_name!r}; with no weight there, the MLE does "
                            "not exist. Merge or drop that category.")
        return counts

    def _after_fit(self, record) -> None:
        """When the fit did not converge or a fitted probability is below 1e-8, a linear
        program (mleopt.models.index.diverging_columns) looks for a direction along which
        every observation's likelihood rises: then the MLE does not exist (separation)."""
        fired = [] if record.converged else ["the fit did not converge"]
        if self._saturation(record.params) > 0:
            fired.append("a fitted probability is below 1e-8")
        if fired:
            self._confirm_separation(fired, record.params, self._describe_separation)

    def _saturation(self, params) -> float:
        """1 if a fitted probability is below 1e-8, else 0."""
        return 0.0 if self._probabilities_above(params, 1e-8) else 1.0

    def _separation_rows(self) -> tuple:
        return self._improving_rows(), None, ()

    def _describe_separation(self, cols) -> tuple[str, list[str]]:
        named = [self.param_names[j] for j in cols]
        return (f"perfect separation: along a direction of the parameters "
                f"{', '.join(map(repr, named))} the likelihood of every observation rises (or "
                f"stays), so the MLE does not exist and they diverge (fitted probabilities "
                f"reach 0 or 1).", named)

    _confirm_separation = IndexModel._confirm_separation
    _separation_candidates = IndexModel._separation_candidates

    def _probabilities_above(self, params: np.ndarray, tiny: float) -> bool:
        """Whether every fitted probability ``P(y_i = j)`` at ``params`` exceeds ``tiny``."""
        return float(np.asarray(self.predict(params), dtype=float).min()) > tiny

    @property
    def n_categories(self) -> int:
        return len(self.labels)

    @property
    def outcome_names(self) -> list[str]:
        return [f"{self.endog_name}={category_label(v)}" for v in self.labels]


def _labels_found(part: Any, model: str) -> set:
    """The labels present in one partition of endog (a task on a Dask worker): numbers as
    ``encode_categories`` labels them (integers exactly, not through floats)."""
    values = part.to_numpy() if hasattr(part, "to_numpy") else np.asarray(part)
    number, missing, present = _numbers(values.ravel())
    if number is None:
        return set(present.tolist())
    return set(_number_codes(number, missing, None, model, "y")[1])


def _numbers(values: Any) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """``(numbers, missing, None)`` of numeric endog (the values present: int/uint kept
    exact, else float; ``missing`` the NaN/None mask), or ``(None, missing, present)`` with
    the other labels present as objects."""
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":   # numbers: no object pass
        number = np.asarray(values)
        missing = np.zeros(number.shape[0], dtype=bool)
        if dtype.kind == "f":
            number = number.astype(float, copy=False)
            missing = np.isnan(number)
        return number[~missing], missing, None
    raw = np.asarray(values, dtype=object)
    missing = pd.isna(raw)
    present = raw[~missing]
    if not all(isinstance(v, (int, float, bool, np.number, np.bool_)) for v in present):
        return None, missing, present
    number = np.asarray(present.tolist())      # integers stay exact (int64/uint64)
    if number.dtype.kind not in "iu":
        number = np.asarray(present, dtype=float)
    return number, missing, None


def category_label(value: Any) -> str:
    """A category as text: ``2.0`` -> ``"2"``, other values by ``str``."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def encode_categories(endog: Any, model: str, need_order: bool,
                      labels: list | None = None) -> tuple[Any, list]:
    """``(codes, labels)``: ``codes`` float 0..J-1 (NaN where endog is missing), a Series
    with endog's index and name when endog is pandas; ``labels`` the J categories in order.

    ``need_order``: labels without a trustworthy order (strings, an unordered Categorical,
    labels of mixed types) are a DataError naming what to do. ``labels``: the categories of
    the whole sample when endog is one Dask partition of it (codes are taken from them, and
    a partition need not hold two categories, nor all of them)."""
    whole = labels is None
    if isinstance(endog, pd.DataFrame):
        if endog.shape[1] != 1:
            raise DataError(f"{model}: endog must be a single column; the DataFrame has "
                            f"{endog.shape[1]} columns {list(endog.columns)}.")
        endog = endog.iloc[:, 0]
    series = endog if isinstance(endog, pd.Series) else None
    name = "y" if series is None or series.name is None else str(series.name)
    values = series if series is not None else np.asarray(endog)
    if series is None and values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if np.ndim(values) != 1:
        raise DataError(f"{model}: endog must be one-dimensional (one category per "
                        f"observation), got shape {np.shape(values)}.")
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        cat = pd.Categorical(values)
        if need_order and not cat.ordered:
            raise DataError(
                f"{model}: endog {name!r} is an unordered pandas Categorical, so the order "
                f"of its categories {list(cat.categories)} may be alphabetical rather than "
                f"meant; make it ordered: pd.Categorical(y, categories=[lowest, ..., "
                f"highest], ordered=True).")
        codes = cat.codes.astype(float)
        codes[cat.codes < 0] = np.nan
        if not whole and list(cat.categories) != list(labels):
            raise DataError(f"{model}: endog {name!r} has other categories in this partition "
                            f"({list(cat.categories)}) than the whole sample ({labels}).")
        labels = list(cat.categories)
    else:
        number, missing, present = _numbers(values)
        if number is not None:
            codes, labels = _number_codes(number, missing, labels, model, name)
            return _checked_codes(codes, labels, whole, series, name, model)
        kinds = sorted({type(v).__name__ for v in present})
        if need_order:
            raise DataError(
                f"{model}: endog {name!r} holds labels of type {', '.join(kinds)} "
                f"(e.g. {present[0]!r}), which have no order the model can trust; pass "
                f"numbers, or an ordered pd.Categorical(y, categories=[lowest, ..., "
                f"highest], ordered=True).")
        try:
            found = sorted(set(present))
        except TypeError:
            raise DataError(f"{model}: endog {name!r} mixes labels of types "
                            f"{', '.join(kinds)} that cannot be sorted; recode it to "
                            "one type (e.g. y.astype(str)).") from None
        labels = found if whole else labels
        codes = np.full(missing.shape[0], np.nan)
        codes[~missing] = _lookup(labels, found, present, model, name)
    return _checked_codes(codes, labels, whole, series, name, model)


def _number_codes(present: np.ndarray, missing: np.ndarray, labels: list | None, model: str,
                  name: str) -> tuple[np.ndarray, list]:
    """Codes (NaN where ``missing``) and labels of numeric endog, ``present`` its values
    elsewhere: floats, or integers (bool, int, uint: compared exactly, not through floats
    that merge 2**53 and 2**53 + 1). The labels are the sorted distinct values (ints when
    all are integers), or the whole sample's ``labels``."""
    unique, inverse = np.unique(present, return_inverse=True)
    integers = present.dtype.kind in "biu" or \
        bool(np.all(np.isfinite(unique) & (unique == np.floor(unique))))
    found = [int(v) for v in unique.tolist()] if integers else unique.tolist()
    codes = np.full(missing.shape[0], np.nan)
    if labels is not None:      # the whole sample's codes of the values found, row by row
        inverse = np.asarray(_lookup(labels, found, found, model, name))[inverse]
    codes[~missing] = inverse
    return codes, found if labels is None else labels


def _lookup(labels: list, found: list, present: Any, model: str, name: str) -> list:
    """The code (position in ``labels``) of each value of ``present``; a DataError names
    labels ``found`` that are not among ``labels``."""
    lookup = {v: i for i, v in enumerate(labels)}
    unknown = [v for v in found if v not in lookup]
    if unknown:
        raise DataError(f"{model}: endog {name!r} has labels {unknown[:5]} in this "
                        f"partition that the whole sample's categories {labels} lack.")
    return [lookup[v] for v in (present.tolist() if isinstance(present, np.ndarray)
                                else present)]


def _checked_codes(codes: np.ndarray, labels: list, whole: bool, series: Any, name: str,
                   model: str) -> tuple[Any, list]:
    """``(codes, labels)`` of encode_categories, the codes a Series when endog was one; the
    whole sample must use at least two categories, and every one of them."""
    if not whole:
        return (pd.Series(codes, index=series.index, name=name) if series is not None
                else codes), labels
    counts = np.bincount(codes[~np.isnan(codes)].astype(int), minlength=len(labels))
    used = np.flatnonzero(counts)
    if used.size < 2:
        seen = ", ".join(category_label(labels[i]) for i in used) or "none"
        raise DataError(f"{model}: endog {name!r} has a single category ({seen}); at least "
                        "two are needed.")
    empty = [category_label(labels[i]) for i in np.flatnonzero(counts == 0)]
    if empty:
        raise DataError(f"{model}: endog {name!r} has categories with no observation "
                        f"({', '.join(empty)}); their parameters' MLE does not exist. Drop "
                        "them (e.g. y.cat.remove_unused_categories()).")
    if series is not None:
        return pd.Series(codes, index=series.index, name=name), labels
    return codes, labels
