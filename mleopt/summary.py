"""Reports in the shape statsmodels users know: a two-column header and a coefficient table.

``Summary(results)`` renders as text (``print``, ``as_text()``) and HTML (``as_html()``,
``_repr_html_`` for notebooks); ``coef_frame(results)`` is the table as a DataFrame.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from .inference import estimate_table
from .report import MarginsSummary, Report, _model_name, fmt_stat

__all__ = ["Summary", "MarginsSummary", "Report", "coef_frame", "fmt_stat"]


# =======================================================================================
# the coefficient table
# =======================================================================================

def coef_frame(results, alpha: float = 0.05) -> pd.DataFrame:
    """coef, std err, z (t), P>|z| (P>|t|), [alpha/2, 1 - alpha/2] for each parameter."""
    return estimate_table(results._params, results._bse, results.param_names, results.df_t,
                          alpha)


def _notes(results) -> list[str]:
    notes = [f"Notes: {results._spec.description}"]
    data = getattr(results.model, "data", None)
    if data is not None and getattr(data, "n_dropped", 0):
        where = ", ".join(f"{k} ({v})" for k, v in data.dropped_by.items())
        notes.append(f"{data.n_dropped} of {data.nobs_original} rows with NaN or inf were "
                     f"dropped (missing='drop'): {where}.")
    notes.extend(getattr(results, "_fit_notes", list)())
    if results.use_t:
        notes.append(f"Inference uses the t distribution with {results.df_t:g} df.")
    if results.converged is False:
        msg = f" ({results.message})" if results.message else ""
        notes.append(f"WARNING: the optimizer did not converge{msg}. The estimates are not a "
                     "maximum of the likelihood and the standard errors are unreliable.")
    separation = getattr(results.model, "separation_note", None)
    if separation:          # fitted with separation="warn" although the MLE does not exist
        notes.append(f"WARNING: {separation}")
    nan = [n for n, v in zip(results.param_names, results._bse) if np.isnan(v)]
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
        if title is not None and not isinstance(title, str):
            raise TypeError(f"title must be a string; got {type(title).__name__} {title!r}.")
        title = title or (f"{name} Results" if no_data else f"{name} Regression Results")
        super().__init__(title, left, right, coef_frame(results, alpha), notes, untested)


def _intlike(x):
    return int(x) if float(x).is_integer() else x
