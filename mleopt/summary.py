"""Reports in the shape statsmodels users know: a two-column header and a coefficient table.

``Summary(results)`` renders as text (``print``, ``as_text()``) and HTML (``as_html()``,
``_repr_html_`` for notebooks); ``coef_frame(results)`` is the table as a DataFrame.
"""
from __future__ import annotations

import html
import math
import textwrap
from datetime import datetime

import numpy as np
import pandas as pd

from .inference import estimate_table

MIN_WIDTH = 78


# =======================================================================================
# number formatting
# =======================================================================================

def fmt_stat(x, decimals: int = 4) -> str:
    """A header statistic: fixed decimals, or 4 significant digits in e-notation when tiny/huge."""
    if x is None:
        return "-"
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if x != 0 and (abs(x) < 10.0 ** -decimals or abs(x) >= 1e9):
        return f"{x:.3e}"
    return f"{x:.{decimals}f}"


def fmt_num(x, decimals: int) -> str:
    """A table entry: fixed decimals unless that would print 0 for a non-zero value."""
    x = float(x)
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if x != 0 and (abs(x) < 0.5 * 10.0 ** -decimals or abs(x) >= 1e9):
        return f"{x:.3e}"
    return f"{x:.{decimals}f}"


def fmt_p(p) -> str:
    p = float(p)
    return "nan" if math.isnan(p) else f"{p:.3f}"


# =======================================================================================
# the coefficient table
# =======================================================================================

def coef_frame(results, alpha: float = 0.05) -> pd.DataFrame:
    """coef, std err, z (t), P>|z| (P>|t|), [alpha/2, 1 - alpha/2] for each parameter."""
    return estimate_table(results.params.to_numpy(), results.bse.to_numpy(),
                          results.param_names, results.df_t, alpha)


def _table_cells(frame: pd.DataFrame, untested: frozenset = frozenset()
                 ) -> tuple[list[str], list[list[str]]]:
    """Column headers and formatted rows (coef 4 decimals, the rest 3, p-values fixed); the
    z (t) and p cells of the rows named in ``untested`` are left blank."""
    cols = list(frame.columns)
    rows = []
    for name, values in zip(frame.index, frame.to_numpy()):
        cells = [str(name)]
        for j, (col, v) in enumerate(zip(cols, values)):
            if name in untested and col in ("z", "t", "P>|z|", "P>|t|"):
                cells.append("")
            elif col.startswith("P>"):
                cells.append(fmt_p(v))
            else:
                cells.append(fmt_num(v, 4 if j == 0 else 3))
        rows.append(cells)
    return cols, rows


# =======================================================================================
# rendering
# =======================================================================================

class Report:
    """Title, two header columns of (label, value) pairs, a table, and notes."""

    def __init__(self, title: str, left: list, right: list, frame: pd.DataFrame, notes: list,
                 untested=()):
        self.title, self.left, self.right, self.frame, self.notes = title, left, right, frame, notes
        self.untested = frozenset(untested)     # rows shown without z (t) and p

    def as_text(self) -> str:
        cols, rows = _table_cells(self.frame, self.untested)
        name_w = max([len(r[0]) for r in rows] + [8]) + 2
        col_w = [max([len(c)] + [len(r[1 + j]) for r in rows] + [9]) + 1
                 for j, c in enumerate(cols)]
        pair_w = max([len(a) + len(b) + 4 for a, b in self.left + self.right] + [MIN_WIDTH // 2])
        width = max(MIN_WIDTH, name_w + sum(col_w), 2 * pair_w)
        half = width // 2
        n = max(len(self.left), len(self.right))
        left = self.left + [("", "")] * (n - len(self.left))
        right = self.right + [("", "")] * (n - len(self.right))
        lines = [self.title.center(width).rstrip(), "=" * width]
        for (a, b), (c, d) in zip(left, right):
            row = (a + b.rjust(half - 3 - len(a))).ljust(half) + c + d.rjust(width - half - len(c))
            lines.append(row.rstrip())
        lines.append("=" * width)
        pad = width - name_w - sum(col_w)
        lines.append(" " * (name_w + pad) + "".join(c.rjust(w) for c, w in zip(cols, col_w)))
        lines.append("-" * width)
        for r in rows:
            lines.append(r[0].ljust(name_w + pad)
                         + "".join(c.rjust(w) for c, w in zip(r[1:], col_w)))
        lines.append("=" * width)
        for note in self.notes:
            lines += textwrap.wrap(note, width, subsequent_indent="    ")
        return "\n".join(lines)

    def as_html(self) -> str:
        e = html.escape
        n = max(len(self.left), len(self.right))
        left = self.left + [("", "")] * (n - len(self.left))
        right = self.right + [("", "")] * (n - len(self.right))
        head = "".join(f"<tr><th>{e(a)}</th><td>{e(b)}</td><th>{e(c)}</th><td>{e(d)}</td></tr>"
                       for (a, b), (c, d) in zip(left, right))
        cols, rows = _table_cells(self.frame, self.untested)
        body = "<tr><th></th>" + "".join(f"<th>{e(c)}</th>" for c in cols) + "</tr>"
        body += "".join("<tr><th>" + e(r[0]) + "</th>"
                        + "".join(f"<td>{e(c)}</td>" for c in r[1:]) + "</tr>" for r in rows)
        notes = "".join(f"<p>{e(t)}</p>" for t in self.notes)
        return (f'<div class="mleopt-summary"><table class="simpletable"><caption>{e(self.title)}'
                f'</caption>{head}</table><table class="simpletable">{body}</table>{notes}</div>')

    def _repr_html_(self) -> str:
        return self.as_html()

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()


def _notes(results) -> list[str]:
    notes = [f"Notes: {results._spec.description}"]
    data = getattr(results.model, "data", None)
    if data is not None and getattr(data, "n_dropped", 0):
        where = ", ".join(f"{k} ({v})" for k, v in data.dropped_by.items())
        notes.append(f"{data.n_dropped} of {data.nobs_original} rows with NaN or inf were "
                     f"dropped (missing='drop'): {where}.")
    if results.use_t:
        notes.append(f"Inference uses the t distribution with {results.df_t:g} df.")
    if results.converged is False:
        msg = f" ({results.message})" if results.message else ""
        notes.append(f"WARNING: the optimizer did not converge{msg}. The estimates are not a "
                     "maximum of the likelihood and the standard errors are unreliable.")
    separation = getattr(results.model, "separation_note", None)
    if separation:          # fitted with separation="warn" although the MLE does not exist
        notes.append(f"WARNING: {separation}")
    nan = [n for n, v in results.bse.items() if np.isnan(v)]
    if nan:
        notes.append(f"WARNING: standard errors of {', '.join(map(str, nan))} are NaN: the "
                     "Hessian (or the covariance) is not positive definite for them.")
    return notes


class Summary(Report):
    """``results.summary()``: the statsmodels-style report of a fit.

    A ``fit_mle`` fit has no data of its own: "Dep. Variable" reads "(none: fit_mle)" and the
    function's name is shown as "Function". "Df Model" (regressors other than the constant)
    is "-" for a model without exog. Parameters a model lists in ``scale_param_names`` (OLS's
    sigma, > 0 by definition) are shown without z and p: a test of sigma = 0 means nothing.
    """

    def __init__(self, results, alpha: float = 0.05, title: str | None = None):
        model = results.model
        no_data = getattr(model, "endog", None) is None     # fit_mle: a function only
        name = "fit_mle" if no_data else _model_name(model)
        now = datetime.now()
        method = f"MLE ({results.method})" if results.method else "MLE"
        dep = "(none: fit_mle)" if no_data else str(getattr(model, "endog_name", "y"))
        df_model = "-" if not getattr(model, "k_exog", 0) else fmt_stat(_intlike(results.df_model))
        left = [("Dep. Variable:", dep),
                ("Model:", name),
                ("Method:", method),
                ("Date:", now.strftime("%a, %d %b %Y")),
                ("Time:", now.strftime("%H:%M:%S")),
                ("No. Observations:", fmt_stat(int(results.nobs))),
                ("Df Residuals:", fmt_stat(_intlike(results.df_resid))),
                ("Df Model:", df_model),
                ("converged:", fmt_stat(results.converged)),
                ("Covariance Type:", results.cov_type)]
        right = results._summary_header_extra()
        if no_data:     # fit_mle keeps the function's name as the model's endog_name
            right = [("Function:", str(getattr(model, "endog_name", "loglikeobs")))] + right
        untested = [n for n in getattr(model, "scale_param_names", ()) if n in results.param_names]
        notes = _notes(results)
        if untested:
            notes.append(f"{', '.join(untested)}: a scale parameter (> 0 by definition); no z "
                         "test of = 0 is shown.")
        title = title or (f"{name} Results" if no_data else f"{name} Regression Results")
        super().__init__(title, left, right, coef_frame(results, alpha), notes, untested)


class MarginsSummary(Report):
    """``get_margeff().summary()``."""

    def __init__(self, margins, alpha: float = 0.05):
        res = margins._results
        name = _model_name(res.model) if res is not None else ""
        left = [("Dep. Variable:", str(getattr(res.model, "endog_name", "y")) if res else "y"),
                ("Method:", margins.method), ("At:", margins.at)]
        super().__init__(f"{name} Marginal Effects".strip(), left, [],
                         margins.summary_frame(alpha), [])


def _model_name(model) -> str:
    return str(getattr(model, "model_name", None) or type(model).__name__.lstrip("_"))


def _intlike(x):
    return int(x) if float(x).is_integer() else x
