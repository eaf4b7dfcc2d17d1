"""Several fits side by side: statsmodels' ``summary_col``, R's ``modelsummary``.

``summary_col([res1, res2], stars=True)`` gives a :class:`SummaryCol`: one column per fit, for
each parameter its estimate (with significance stars) over its standard error (``show="se"``)
or z / t statistic (``show="t"``) in parentheses, then rows of fit statistics (N, log-likelihood,
AIC, pseudo R-squared or R-squared) and any ``info_dict`` rows. It renders as text (``print``,
``as_text()``), HTML, LaTeX and a DataFrame of the printed cells (``to_frame()``); the numbers
themselves are ``params_frame()`` / ``bse_frame()``.

Stars: ``*`` p < 0.1, ``**`` p < 0.05, ``***`` p < 0.01 (statsmodels' and Stata's esttab's
defaults), with each fit's own p-values (z, or t when the fit uses t); a scale parameter
(OLS's sigma, > 0 by definition) gets none.
"""
from __future__ import annotations

import html
import math
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .report import latex_escape

__all__ = ["summary_col", "SummaryCol"]

_STATS = {  # label, how to get it from a results object, how to print it
    "nobs": ("N", lambda r: r.nobs, lambda v: f"{int(v)}"),
    "llf": ("Log-Likelihood", lambda r: r.llf, lambda v: f"{v:.2f}"),
    "aic": ("AIC", lambda r: r.aic, lambda v: f"{v:.2f}"),
    "bic": ("BIC", lambda r: r.bic, lambda v: f"{v:.2f}"),
    "prsquared": ("Pseudo R-squared", lambda r: None if r._is_ols else r.prsquared,
                  lambda v: f"{v:.4f}"),
    "rsquared": ("R-squared", lambda r: getattr(r, "rsquared", None), lambda v: f"{v:.4f}"),
}
DEFAULT_STATS = ("nobs", "llf", "aic", "prsquared", "rsquared")
_ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]


def summary_col(results: Sequence, stars: bool = False, float_format: str | Callable = "%.4f",
                model_names: Sequence[str] | None = None, info_dict: dict | None = None,
                regressor_order: Sequence[str] = (), drop_omitted: bool = False,
                show: str = "se", stats: Sequence[str] = DEFAULT_STATS) -> "SummaryCol":
    """A table of several fits side by side (see the module docstring).

    ``float_format``: a %-format or a function for estimates and their SEs / statistics.
    ``model_names``: column titles (default: the dependent variable and I, II, ...).
    ``info_dict``: extra rows ``{label: function(results) -> str}``; a value that is a dict
    ``{model name: function}`` gives per-model functions (a model without one gets a blank).
    ``regressor_order``: these parameters first; ``drop_omitted=True`` shows only them.
    ``stats``: the fit statistics shown, among ``nobs, llf, aic, bic, prsquared, rsquared``
    (a statistic a fit does not have is left blank; a row blank for every fit is dropped).
    """
    if not isinstance(results, (list, tuple)):
        results = [results]
    results = list(results)
    if not results:
        raise ValueError("summary_col needs at least one results object.")
    if show not in ("se", "t"):
        raise ValueError(f"show must be 'se' (standard errors) or 't' (z / t statistics) "
                         f"in parentheses; got {show!r}.")
    unknown = [s for s in stats if s not in _STATS]
    if unknown:
        raise ValueError(f"unknown stats {unknown}; choose among {list(_STATS)}.")
    names = _model_names(results, model_names)
    fmt = float_format if callable(float_format) else (lambda v: float_format % v)
    order = _regressors(results, regressor_order, drop_omitted)
    cells: list[list[str]] = []
    labels: list[str] = []
    for name in order:
        top, below = [], []
        for res in results:
            if name not in res.param_names:
                top.append("")
                below.append("")
                continue
            est = float(res.params_flat[name])
            paren = float(res.bse_flat[name] if show == "se" else res.tvalues_flat[name])
            scale = name in getattr(res.model, "scale_param_names", ())   # > 0: not tested
            mark = _stars(float(res.pvalues_flat[name])) if stars and not scale else ""
            top.append(_number(est, fmt) + mark)
            below.append(f"({_number(paren, fmt)})")
        cells += [top, below]
        labels += [str(name), ""]
    n_coef = len(cells)
    for key in stats:
        label, get, show_stat = _STATS[key]
        row = []
        for res in results:
            value = get(res)
            ok = value is not None and math.isfinite(float(value))
            row.append(show_stat(float(value)) if ok else "")
        if any(row):
            cells.append(row)
            labels.append(label)
    for label, fn in (info_dict or {}).items():
        row = []
        for res, model in zip(results, names):
            f = fn.get(model) if isinstance(fn, dict) else fn
            if f is not None and not callable(f):
                raise TypeError(f"info_dict[{label!r}] must be a function of a results object "
                                "(or a dict of them by model name).")
            row.append("" if f is None else str(f(res)))
        cells.append(row)
        labels.append(str(label))
    what = "Standard errors" if show == "se" else "z / t statistics"
    notes = [f"{what} in parentheses."]
    if stars:
        notes.append("* p<.1, ** p<.05, *** p<.01")
    return SummaryCol(pd.DataFrame(cells, index=labels, columns=names), n_coef, notes,
                      results, order)


def _number(value: float, fmt: Callable) -> str:
    return "nan" if math.isnan(value) else fmt(value)


def _stars(p: float) -> str:
    if math.isnan(p):
        return ""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""


def _model_names(results, model_names) -> list[str]:
    if model_names is not None:
        names = [str(n) for n in model_names]
        if len(names) != len(results):
            raise ValueError(f"{len(names)} model_names for {len(results)} results.")
    else:
        deps = [str(getattr(r.model, "endog_name", "y")) for r in results]
        names = [f"{d} {_ROMAN[i] if i < len(_ROMAN) else i + 1}" for i, d in enumerate(deps)]
    if len(set(names)) != len(names):
        raise ValueError(f"model names must differ (they label the columns): {names}; pass "
                         "model_names=[...].")
    return names


def _regressors(results, regressor_order, drop_omitted) -> list[str]:
    seen: list[str] = []
    for res in results:
        seen += [n for n in res.param_names if n not in seen]
    first = [str(n) for n in regressor_order]
    missing = [n for n in first if n not in seen]
    if missing:
        raise ValueError(f"regressor_order names {missing}, which no fit has; the parameters "
                         f"are {seen}.")
    return first if drop_omitted else first + [n for n in seen if n not in first]


class SummaryCol:
    """The side-by-side table: ``as_text()``, ``as_html()``, ``as_latex()``, ``to_frame()``
    (the printed cells), ``params_frame()`` / ``bse_frame()`` (the numbers), ``tables``."""

    def __init__(self, frame: pd.DataFrame, n_coef: int, notes: list[str], results, order):
        self.frame, self.n_coef, self.notes = frame, n_coef, notes
        self._results, self._order = results, order

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    @property
    def tables(self) -> list[pd.DataFrame]:
        return [self.to_frame()]

    def _numbers(self, attr: str) -> pd.DataFrame:
        return pd.DataFrame({name: getattr(res, attr).reindex(self._order)
                             for name, res in zip(self.frame.columns, self._results)})

    def params_frame(self) -> pd.DataFrame:
        """The estimates (parameters by fits; NaN where a fit has no such parameter)."""
        return self._numbers("params_flat")

    def bse_frame(self) -> pd.DataFrame:
        return self._numbers("bse_flat")

    def as_text(self) -> str:
        rows = [[str(i)] + list(r) for i, r in zip(self.frame.index, self.frame.to_numpy())]
        head = [""] + [str(c) for c in self.frame.columns]
        widths = [max(len(r[j]) for r in rows + [head]) for j in range(len(head))]
        width = sum(widths) + 2 * (len(widths) - 1)

        def line(r):
            cells = [r[0].ljust(widths[0])] + [c.center(w) for c, w in zip(r[1:], widths[1:])]
            return "  ".join(cells).rstrip()

        out = ["=" * width, line(head), "-" * width]
        for i, r in enumerate(rows):
            if i == self.n_coef and i:
                out.append("-" * width)
            out.append(line(r))
        out.append("=" * width)
        return "\n".join(out + self.notes)

    def as_html(self) -> str:
        e = html.escape
        head = "<tr><th></th>" + "".join(f"<th>{e(str(c))}</th>" for c in self.frame.columns)
        body = ""
        for i, (label, row) in enumerate(zip(self.frame.index, self.frame.to_numpy())):
            style = ' style="border-top: 1px solid"' if i == self.n_coef and i else ""
            body += (f"<tr{style}><th>{e(str(label))}</th>"
                     + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>")
        notes = "".join(f"<p>{e(t)}</p>" for t in self.notes)
        return (f'<div class="mleopt-summary-col"><table class="simpletable">{head}</tr>'
                f"{body}</table>{notes}</div>")

    def as_latex(self) -> str:
        e = latex_escape
        k = self.frame.shape[1]
        out = ["\\begin{table}", "\\centering", "\\begin{tabular}{l" + "c" * k + "}",
               "\\hline", " & " + " & ".join(e(c) for c in self.frame.columns) + " \\\\",
               "\\hline"]
        for i, (label, row) in enumerate(zip(self.frame.index, self.frame.to_numpy())):
            if i == self.n_coef and i:
                out.append("\\hline")
            out.append(e(label) + " & " + " & ".join(e(c) for c in row) + " \\\\")
        out += ["\\hline", "\\end{tabular}"]
        out += [f"\\\\ \\footnotesize{{{e(t)}}}" for t in self.notes]
        out.append("\\end{table}")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        return self.as_html()

    def __str__(self) -> str:
        return self.as_text()

    __repr__ = __str__
