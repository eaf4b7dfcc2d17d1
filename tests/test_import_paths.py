"""autograd's import paths under mleopt's names (autograd.numpy.random -> mleopt.numpy.random,
autograd.numpy.linalg -> mleopt.numpy.linalg, autograd.scipy.stats.norm -> mleopt.stats.norm):
the import statements of autograd programs port by renaming the package only."""
from __future__ import annotations

import numpy as onp

import mleopt.numpy
import mleopt.stats


def test_numpy_submodules_import_by_their_dotted_names():
    import mleopt.numpy.random as npr
    from mleopt.numpy.linalg import solve
    import mleopt.numpy.linalg as npla
    assert npr.RandomState(0).randn(2).tolist() == onp.random.RandomState(0).randn(2).tolist()
    assert solve is mleopt.numpy.linalg.solve and npla.inv is mleopt.numpy.linalg.inv


def test_distributions_import_as_modules_as_autograd_scipy_stats():
    import mleopt.stats.multivariate_normal as mvn
    import mleopt.stats.norm as norm
    from mleopt.stats.t import logpdf
    assert norm.logpdf(1.0) == mleopt.stats.norm.logpdf(1.0) == -0.5 - 0.5 * onp.log(2 * onp.pi)
    assert abs(mvn.logpdf(onp.zeros(2), onp.zeros(2), onp.eye(2)) + onp.log(2 * onp.pi)) < 1e-15
    assert logpdf(0.5, 3.0) == mleopt.stats.t.logpdf(0.5, 3.0)
