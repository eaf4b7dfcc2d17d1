"""Plain-text and HTML tables of estimates: number formatting and the ``Report`` layout.

A leaf of the package (numpy and pandas only), so that every layer that shows a table of
estimates (inference's margins, the results' summary) can use it without importing upward.
"""
from __future__ import annotations

import html
import math
import textwrap

import numpy as np
import pandas as pd

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
        self.groups: list[tuple[str, int]] | None = None    # (label, rows): blocks of rows

    def _blocks(self, rows: list) -> list[tuple[str, list]]:
        """The table's rows in blocks, each under its label (one unlabelled block unless
        ``groups`` is set: MNLogit's one block per outcome, as statsmodels shows it)."""
        if not self.groups:
            return [("", rows)]
        out, start = [], 0
        for label, n in self.groups:
            out.append((label, rows[start:start + n]))
            start += n
        return out

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
        if n:
            lines.append("=" * width)
        pad = width - name_w - sum(col_w)
        for i, (label, block) in enumerate(self._blocks(rows)):
            if i:
                lines.append("-" * width)
            lines.append(label.rjust(min(12, name_w + pad)).ljust(name_w + pad)
                         + "".join(c.rjust(w) for c, w in zip(cols, col_w)))
            lines.append("-" * width)
            for r in block:
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
        body = ""
        for label, block in self._blocks(rows):
            body += f"<tr><th>{e(label)}</th>" + "".join(f"<th>{e(c)}</th>" for c in cols) + \
                "</tr>"
            body += "".join("<tr><th>" + e(r[0]) + "</th>"
                            + "".join(f"<td>{e(c)}</td>" for c in r[1:]) + "</tr>"
                            for r in block)
        notes = "".join(f"<p>{e(t)}</p>" for t in self.notes)
        return (f'<div class="mleopt-summary"><table class="simpletable"><caption>{e(self.title)}'
                f'</caption>{head}</table><table class="simpletable">{body}</table>{notes}</div>')

    def as_latex(self) -> str:
        """The report as LaTeX tabulars (header, estimates) in a center environment, notes
        below, special characters escaped."""
        e = latex_escape
        n = max(len(self.left), len(self.right))
        left = self.left + [("", "")] * (n - len(self.left))
        right = self.right + [("", "")] * (n - len(self.right))
        out = ["\\begin{center}", f"\\textbf{{{e(self.title)}}}\\\\[4pt]"]
        if n:
            out += ["\\begin{tabular}{lclc}", "\\hline"]
            out += [f"{e(a)} & {e(b)} & {e(c)} & {e(d)} \\\\" for (a, b), (c, d) in
                    zip(left, right)]
            out += ["\\hline", "\\end{tabular}", ""]
        cols, rows = _table_cells(self.frame, self.untested)
        out += ["\\begin{tabular}{l" + "r" * len(cols) + "}", "\\hline"]
        for i, (label, block) in enumerate(self._blocks(rows)):
            if i:
                out.append("\\hline")
            out += [e(label) + " & " + " & ".join(e(c) for c in cols) + " \\\\", "\\hline"]
            out += [" & ".join(e(c) for c in r) + " \\\\" for r in block]
        out += ["\\hline", "\\end{tabular}"]
        out += [f"\\\\[2pt] \\footnotesize{{{e(t)}}}" for t in self.notes]
        out.append("\\end{center}")
        return "\n".join(out)

    @property
    def tables(self) -> list[pd.DataFrame]:
        """The report's tables as DataFrames, as statsmodels' ``Summary.tables``: the header
        (label, value, label, value), when there is one, then the estimates."""
        n = max(len(self.left), len(self.right))
        out = []
        if n:
            left = self.left + [("", "")] * (n - len(self.left))
            right = self.right + [("", "")] * (n - len(self.right))
            out.append(pd.DataFrame([a + b for a, b in zip(left, right)],
                                    columns=["label", "value", "label ", "value "]))
        frame = self.frame.copy()
        if self.groups:     # (outcome, regressor): the row names repeat from block to block
            labels = [label for label, n in self.groups for _ in range(n)]
            frame.index = pd.MultiIndex.from_arrays([labels, list(frame.index)])
        return out + [frame]

    def rename(self, xname, names) -> None:
        """Show the rows named ``names`` (the parameters) as ``xname`` (same length)."""
        if xname is None:
            return
        xname = [str(x) for x in xname]
        if len(xname) != len(names):
            raise ValueError(f"xname has {len(xname)} names for the {len(names)} parameters "
                             f"{list(names)}.")
        mapping = dict(zip(map(str, names), xname))
        self.frame = self.frame.rename(index=lambda r: mapping.get(str(r), r))
        self.untested = frozenset(mapping.get(str(r), r) for r in self.untested)

    def _repr_html_(self) -> str:
        return self.as_html()

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()


class MarginsSummary(Report):
    """``get_margeff().summary()``."""

    def __init__(self, margins, alpha: float = 0.05):
        res = margins._results
        name = _model_name(res.model) if res is not None else ""
        left = [("Dep. Variable:", str(getattr(res.model, "endog_name", "y")) if res else "y"),
                ("Method:", margins.method), ("At:", margins.at)]
        super().__init__(f"{name} Marginal Effects".strip(), left, [],
                         margins.summary_frame(alpha), [])


_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
          "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
          "^": r"\textasciicircum{}", "|": r"\textbar{}", "<": r"\textless{}",
          ">": r"\textgreater{}"}


def latex_escape(text) -> str:
    """``text`` with LaTeX's special characters escaped."""
    return "".join(_LATEX.get(ch, ch) for ch in str(text))


def _model_name(model) -> str:
    return str(getattr(model, "model_name", None) or type(model).__name__.lstrip("_"))
