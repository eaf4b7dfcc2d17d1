"""Bundled datasets (public-domain and freely redistributed research data).

The CSV files in the repository's ``datasets/`` folder are installed as the
package ``mleopt._datasets``; this module reads them with ``importlib.resources``
so the same call works from a wheel, an editable install or a source checkout.

>>> from mleopt import datasets
>>> datasets.names()
['affairs', 'anes96', 'engel', 'grunfeld', 'longley', 'mroz', 'ovarian', 'randhie', 'statecrime']
>>> datasets.load("longley").shape
(16, 7)

Sources, variables and licences: ``describe()`` with no argument, or
datasets/README.md.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

__all__ = ["names", "load", "path", "describe"]

_PACKAGE = "mleopt._datasets"


def _root():
    tree = Path(__file__).resolve().parent.parent
    here = tree / "datasets"
    # a source checkout (pyproject.toml beside mleopt/): the files beside this code, not those
    # of another editable install; an installed mleopt has no pyproject.toml beside it (and a
    # 'datasets' folder there may be another package's)
    if (tree / "pyproject.toml").is_file() and (here / "anes96.csv").is_file():
        return here
    try:
        return resources.files(_PACKAGE)
    except ModuleNotFoundError:  # a source checkout that was not installed
        return here


def names() -> list[str]:
    """Names of the bundled datasets, sorted (file names without ``.csv``)."""
    return sorted(
        entry.name[: -len(".csv")]
        for entry in _root().iterdir()
        if entry.name.endswith(".csv")
    )


def _resource(name: str):
    if not isinstance(name, str):
        raise TypeError(
            f"dataset name must be a str, got {type(name).__name__}; "
            f"known datasets: {', '.join(names())}"
        )
    key = name[: -len(".csv")] if name.endswith(".csv") else name
    known = names()
    if key not in known:
        raise ValueError(
            f"unknown dataset {name!r}; known datasets: {', '.join(known)}"
        )
    return _root().joinpath(key + ".csv")


def load(name: str) -> pd.DataFrame:
    """Read dataset ``name`` (e.g. ``"anes96"``) into a new DataFrame.

    Raises ValueError, listing the known names, if ``name`` is not bundled.
    """
    with _resource(name).open("rb") as fh:
        return pd.read_csv(fh)


def path(name: str) -> str:
    """Filesystem path of the CSV for ``name``.

    Valid for normal (unzipped) installs, which is how pip installs mleopt.
    """
    return str(_resource(name))


def describe(name: str | None = None) -> str:
    """The datasets README (sources, variables, licence) as text.

    With ``name``, only the section for that dataset.
    """
    text = _root().joinpath("README.md").read_text(encoding="utf-8")
    if name is None:
        return text
    _resource(name)  # validates the name
    marker = f"## {name}"
    start = text.find(marker)
    if start < 0:
        return text
    end = text.find("\n## ", start + len(marker))
    return text[start:] if end < 0 else text[start:end].rstrip() + "\n"
