"""Issue 7, item 8 (OLS covariances from an orthogonal factorisation) and issue 8's cold start
(p-values from scipy.special, no scipy.stats on the way to a summary).

References, each computed once and written here with its source:
* NIST StRD Filip (82 observations, degree-10 polynomial): data and certified values from
  NIST's Filip.dat. The certified values were checked against an exact OLS of these data in
  mpmath (60 digits): they agree to 4e-15.
* FILIP_HC0_MPMATH, LONGLEY_*_MPMATH: the same exact computation (mpmath 1.3.0, 50 digits,
  normal equations solved in exact-enough arithmetic, HC0 = (X'X)^-1 X' diag(e^2) X (X'X)^-1,
  nonrobust = (SSR / N) (X'X)^-1 at the exact least-squares solution).
* GRUNFELD_BSE_BEFORE: mleopt at commit a43ae6a (before this change: Hessian inverted by
  eigh, meat formed as S'S), every covariance type, sigma included; the grunfeld design is
  well conditioned (scaled condition number 2.9), so the numbers must not move.
* Distribution functions: scipy 1.17.1 scipy.stats (norm, t, chi2, f).
"""
import contextlib
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.linalg

import references as ref
from mleopt import OLS, HessianWarning
from mleopt import covariance as cov
from mleopt import inference as inf
from mleopt.gram import GramFactor
from mleopt.results import OLSResults

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "datasets"

# ---- NIST StRD Filip ------------------------------------------------------------------------
FILIP_Y = np.array([
    0.8116, 0.9072, 0.9052, 0.9039, 0.8053, 0.8377, 0.8667, 0.8809, 0.7975, 0.8162, 0.8515,
    0.8766, 0.8885, 0.8859, 0.8959, 0.8913, 0.8959, 0.8971, 0.9021, 0.909, 0.9139, 0.9199,
    0.8692, 0.8872, 0.89, 0.891, 0.8977, 0.9035, 0.9078, 0.7675, 0.7705, 0.7713, 0.7736,
    0.7775, 0.7841, 0.7971, 0.8329, 0.8641, 0.8804, 0.7668, 0.7633, 0.7678, 0.7697, 0.77,
    0.7749, 0.7796, 0.7897, 0.8131, 0.8498, 0.8741, 0.8061, 0.846, 0.8751, 0.8856, 0.8919,
    0.8934, 0.894, 0.8957, 0.9047, 0.9129, 0.9209, 0.9219, 0.7739, 0.7681, 0.7665, 0.7703,
    0.7702, 0.7761, 0.7809, 0.7961, 0.8253, 0.8602, 0.8809, 0.8301, 0.8664, 0.8834, 0.8898,
    0.8964, 0.8963, 0.9074, 0.9119, 0.9228,])
FILIP_X = np.array([
    -6.860120914, -4.324130045, -4.358625055, -4.358426747, -6.955852379, -6.661145254,
    -6.355462942, -6.118102026, -7.115148017, -6.815308569, -6.519993057, -6.204119983,
    -5.853871964, -6.109523091, -5.79832982, -5.482672118, -5.171791386, -4.851705903,
    -4.517126416, -4.143573228, -3.709075441, -3.499489089, -6.300769497, -5.953504836,
    -5.642065153, -5.031376979, -4.680685696, -4.329846955, -3.928486195, -8.56735134,
    -8.363211311, -8.107682739, -7.823908741, -7.522878745, -7.218819279, -6.920818754,
    -6.628932138, -6.323946875, -5.991399828, -8.781464495, -8.663140179, -8.473531488,
    -8.247337057, -7.971428747, -7.676129393, -7.352812702, -7.072065318, -6.774174009,
    -6.478861916, -6.159517513, -6.835647144, -6.53165267, -6.224098421, -5.910094889,
    -5.598599459, -5.290645224, -4.974284616, -4.64454848, -4.290560426, -3.885055584,
    -3.408378962, -3.13200249, -8.726767166, -8.66695597, -8.511026475, -8.165388579,
    -7.886056648, -7.588043762, -7.283412422, -6.995678626, -6.691862621, -6.392544977,
    -6.067374056, -6.684029655, -6.378719832, -6.065855188, -5.752272167, -5.132414673,
    -4.811352704, -4.098269308, -3.66174277, -3.2644011,])
FILIP_PARAMS = np.array([
    -1467.48961422980, -2772.17959193342, -2316.37108160893, -1127.97394098372,
    -354.478233703349, -75.1242017393757, -10.8753180355343, -1.06221498588947,
    -0.670191154593408E-01, -0.246781078275479E-02, -0.402962525080404E-04])
FILIP_BSE = np.array([
    298.084530995537, 559.779865474950, 466.477572127796, 227.204274477751,
    71.6478660875927, 15.2897178747400, 2.23691159816033, 0.221624321934227,
    0.142363763154724E-01, 0.535617408889821E-03, 0.896632837373868E-05])
FILIP_RESID_SD = 0.334801051324544E-02
FILIP_HC0_MPMATH = np.array([
    229.91063206966936, 433.85630241159055, 363.1633537150503, 177.602142636849,
    56.20787825119078, 12.032151706179787, 1.7648997159035904, 0.1752219770788135,
    0.011273116619584253, 0.0004245732092965722, 7.111437240917482e-06])

# ---- Longley (exact, mpmath) ----------------------------------------------------------------
LONGLEY_NONROBUST_MPMATH = np.array([
    667815.2877055294, 63.68619433107521, 0.025118255829182392, 0.3662997612387746,
    0.16070562237125643, 0.16955490005202778, 341.608874356659])
LONGLEY_HC0_MPMATH = np.array([
    832211.5805803267, 51.22034744566392, 0.02457599758264473, 0.3832391109259948,
    0.14624500114098424, 0.15820849621992394, 428.38437553509806])

# ---- grunfeld before this change (const, value, capital, sigma) ------------------------------
GRUNFELD_BSE_BEFORE = {
    "nonrobust": [8.355810124746993, 0.00548107485153928, 0.024062491090966562,
                  4.274514134949678],
    "opg": [12.095883680515476, 0.005699398410319252, 0.014857605208717392,
            2.7885255204130357],
    "HC0": [10.356034239092049, 0.006731703001159851, 0.04856235218183988, 7.261092688519554],
    "HC1": [10.427374009543565, 0.0067780757859308505, 0.04889688439535464, 7.311112288075414],
    "HC2": [11.397908983755189, 0.006916074725466675, 0.05310081969949286, 7.522588865837232],
    "HC3": [12.58009439371903, 0.007111157255685197, 0.05827542569433649, 7.831423970749344],
    "classical": [8.41337092094305, 0.005518832415169226, 0.02422825073904124,
                  4.274514134949678],
    "cluster": [18.13627999271052, 0.016200445437142323, 0.08547781688466205,
                21.91210487096752],
}
COV_TYPES = list(GRUNFELD_BSE_BEFORE)


def digits(a, b) -> float:
    """Correct significant digits of ``a`` against ``b`` (the worst entry)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(-np.log10(np.max(np.abs(a - b) / np.abs(b))))


@contextlib.contextmanager
def hessian_warnings_fail():
    """HessianWarning (the "may be unidentified" warning) becomes an error; any other
    warning goes on to pytest as usual (none is swallowed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", HessianWarning)
        yield


@pytest.fixture(scope="module")
def filip_model():
    return OLS(FILIP_Y, np.vander(FILIP_X, 11, increasing=True))


@pytest.fixture(scope="module")
def filip_at_start(filip_model):
    """Results at the model's least-squares start values (independent of the optimiser)."""
    return OLSResults(model=filip_model, params=filip_model.start_params())


# =============================================================================================
# Filip: NIST certifies it; the Hessian route gave NaN for every standard error
# =============================================================================================

def test_filip_least_squares_solution_is_accurate(filip_model):
    start = filip_model.start_params()
    assert digits(start[:-1], FILIP_PARAMS) >= 7.5
    assert digits(start[-1] * np.sqrt(82 / 71), FILIP_RESID_SD) >= 7.5


def test_filip_certified_standard_errors(filip_at_start):
    with hessian_warnings_fail():
        classical = filip_at_start.get_robustcov_results("classical")
        nonrobust = filip_at_start.get_robustcov_results("nonrobust")
        assert digits(classical.bse.iloc[:-1], FILIP_BSE) >= 7.5      # 8.3 here
        # nonrobust: the ML scale SSR / N instead of SSR / (N - K)
        assert digits(nonrobust.bse.iloc[:-1], FILIP_BSE * np.sqrt(71 / 82)) >= 7.5


def test_filip_every_covariance_type_is_finite_without_warning(filip_at_start):
    groups = np.arange(82) % 20      # more clusters than the 12 parameters (no rank warning)
    with hessian_warnings_fail():
        for cov_type in COV_TYPES:
            kwds = {"groups": groups} if cov_type == "cluster" else {}
            res = filip_at_start.get_robustcov_results(cov_type, **kwds)
            assert np.all(np.isfinite(res.bse)), cov_type
            assert np.all(np.isfinite(res.pvalues)), cov_type
        hc0 = filip_at_start.get_robustcov_results("HC0")
        assert digits(hc0.bse.iloc[:-1], FILIP_HC0_MPMATH) >= 6.5     # 7.2 here
        hc1 = filip_at_start.get_robustcov_results("HC1")
        np.testing.assert_allclose(hc1.bse.iloc[:-1], hc0.bse.iloc[:-1] * np.sqrt(82 / 71),
                                   rtol=1e-12)


def test_filip_fit_gives_certified_standard_errors(filip_model):
    """The fitted model (whatever its convergence flag, issue 7 item 6's business: a
    ConvergenceWarning may still be raised there) has NIST's SEs and no HessianWarning."""
    with hessian_warnings_fail():
        res = filip_model.fit(cov_type="classical")
        assert digits(res.params.iloc[:-1], FILIP_PARAMS) >= 7
        assert digits(res.bse.iloc[:-1], FILIP_BSE) >= 6
        res.summary().as_text()


# =============================================================================================
# well- and ill-conditioned data keep (or gain) their digits
# =============================================================================================

@pytest.fixture(scope="module")
def grunfeld_fit():
    df = pd.read_csv(DATA / "grunfeld.csv")
    x = df[["value", "capital"]].astype(float)
    x.insert(0, "const", 1.0)
    return OLS(df["invest"], x).fit(), df["firm"]


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_grunfeld_covariances_unchanged(grunfeld_fit, cov_type):
    res, firm = grunfeld_fit
    kwds = {"groups": firm} if cov_type == "cluster" else {}
    bse = res.get_robustcov_results(cov_type, **kwds).bse
    np.testing.assert_allclose(bse, GRUNFELD_BSE_BEFORE[cov_type], rtol=1e-12, atol=0)


def test_linear_bread_is_the_inverse_hessian_away_from_the_optimum(grunfeld_fit):
    """The Schur complement keeps the bread exact where the Hessian is not block diagonal."""
    res, _ = grunfeld_fit
    params = res.params.to_numpy() * np.array([1.1, 0.9, 1.2, 1.3])
    h = res.model.hessian(params)
    assert abs(h[0, -1]) > 1e-3 * np.sqrt(abs(h[0, 0] * h[-1, -1]))   # not block diagonal
    bread = cov.linear_bread(h, res._design, [0, 1, 2], 1 / params[-1] ** 2, res.param_names)
    np.testing.assert_allclose(bread, np.linalg.inv(-h), rtol=1e-10)


@pytest.fixture(scope="module")
def longley_fit():
    df = pd.read_csv(DATA / "longley.csv")
    r = ref.LONGLEY_NIST
    x = df[r["exog_names"][1:]].astype(float)
    x.insert(0, "const", 1.0)
    return OLS(df[r["endog"]], x).fit()


def test_longley_keeps_more_than_ten_digits(longley_fit):
    """Classical against NIST; nonrobust and HC0 against the exact values (before: 7.1 and
    6.9 digits, from the inverted Hessian and the S'S meat)."""
    r = ref.LONGLEY_NIST
    assert digits(longley_fit.params.iloc[:-1], r["params"]) > 10
    assert digits(longley_fit.get_robustcov_results("classical").bse.iloc[:-1], r["bse"]) > 10
    assert digits(longley_fit.bse.iloc[:-1], LONGLEY_NONROBUST_MPMATH) > 10
    assert digits(longley_fit.get_robustcov_results("HC0").bse.iloc[:-1],
                  LONGLEY_HC0_MPMATH) > 10


# =============================================================================================
# the factorisation itself
# =============================================================================================

def test_gram_factor_matches_the_exact_inverse_and_leverage():
    rng = np.random.default_rng(7)
    m = rng.standard_normal((40, 5)) * np.array([1e-3, 1.0, 1e4, 3.0, 1e8])
    f = GramFactor(m)
    assert f.rank == 5 and not f.unidentified.any()
    inv = np.linalg.inv(m.T @ m)        # well conditioned once scaled: inv is exact enough
    np.testing.assert_allclose(f.inverse(), inv, rtol=1e-10)
    hat = m @ inv @ m.T
    np.testing.assert_allclose(f.leverage(), np.diag(hat), rtol=1e-10)


def test_gram_factor_cholesky_route_agrees_with_householder():
    """Large, well-conditioned matrices take R from the Cholesky factor of the Gram matrix."""
    rng = np.random.default_rng(8)
    m = rng.standard_normal((50_000, 20)) + 0.5
    big = GramFactor(m)
    assert big.route == "cholesky"
    small_rows = m[:2000]
    np.testing.assert_allclose(big.inverse(), np.linalg.inv(m.T @ m), rtol=1e-10)
    h = big.leverage()
    np.testing.assert_allclose(h[:2000].sum() + h[2000:].sum(), 20.0, rtol=1e-10)
    np.testing.assert_allclose(GramFactor(small_rows).inverse(),
                               np.linalg.inv(small_rows.T @ small_rows), rtol=1e-10)


def test_gram_factor_lstsq():
    rng = np.random.default_rng(10)
    m = rng.standard_normal((50, 4)) * np.array([1.0, 1e3, 1e-2, 5.0])
    y = rng.standard_normal(50)
    np.testing.assert_allclose(GramFactor(m).lstsq(y), np.linalg.lstsq(m, y, rcond=None)[0],
                               rtol=1e-10)
    deficient = np.column_stack([m, m[:, 0] - m[:, 3]])
    b = GramFactor(deficient).lstsq(y)
    resid = y - deficient @ b           # a least-squares solution: residual orthogonal to M
    assert np.max(np.abs(deficient.T @ resid)) < 1e-10 * np.abs(deficient).max() * 50


def test_gram_factor_cholesky_qr2_route_has_householder_accuracy():
    """Large and moderately ill-conditioned (scaled condition number 8e4): one CholeskyQR2
    step; the plain Cholesky factor would lose ~cond^2 eps = 1e-6."""
    rng = np.random.default_rng(11)
    n = 60_000
    t = np.linspace(0.0, 1.0, n)
    m = np.column_stack([t**j for j in range(8)] + [rng.standard_normal((n, 9))])
    f = GramFactor(m)
    assert f.route == "cholesky-qr2"
    norms = np.linalg.norm(m, axis=0)
    q, r = np.linalg.qr(m / norms)
    tt = scipy.linalg.solve_triangular(r, np.eye(m.shape[1])) / norms[:, None]
    np.testing.assert_allclose(f.inverse(), tt @ tt.T, rtol=1e-9, atol=0)
    np.testing.assert_allclose(f.leverage(), np.einsum("ij,ij->i", q, q), rtol=1e-9, atol=0)
    y = m @ np.arange(1.0, 18.0) + rng.standard_normal(n)
    np.testing.assert_allclose(f.lstsq(y), scipy.linalg.solve_triangular(r, q.T @ y) / norms,
                               rtol=1e-9)


def test_rank_deficient_design_is_still_called_unidentified():
    rng = np.random.default_rng(9)
    a = rng.standard_normal((30, 3))
    m = np.column_stack([a, a[:, 0] + 2 * a[:, 1]])     # column 3 = col0 + 2 col1
    f = GramFactor(m)
    assert f.rank == 3
    assert f.unidentified.tolist() == [True, True, False, True]
    with pytest.warns(HessianWarning, match=r"rank 3 of 4\): a, b, d are not identified"):
        out = cov.gram_inverse(f, ["a", "b", "c", "d"], "design matrix (exog) does not "
                                                         "have full column rank")
    assert np.isnan(out[0]).all() and np.isfinite(out[2, 2])


# =============================================================================================
# issue 8, cold start: p-values from scipy.special
# =============================================================================================

def test_distribution_functions_match_scipy_stats():
    # scipy 1.17.1: 2*norm.sf(1.96), 2*t.sf(2.5, 9), norm.isf(0.025), t.isf(0.05, 12),
    # chi2.sf(10.5, 3), f.sf(4.2, 2, 30), 2*norm.sf(10), 2*t.sf(30, 5), chi2.sf(0, 2)
    np.testing.assert_allclose(inf.two_sided_p(1.96), 0.04999579029644087, rtol=1e-13)
    np.testing.assert_allclose(inf.two_sided_p(-2.5, 9), 0.033861827682985735, rtol=1e-13)
    np.testing.assert_allclose(inf.critical_value(0.05), 1.9599639845400545, rtol=1e-13)
    np.testing.assert_allclose(inf.critical_value(0.1, 12), 1.7822875556493194, rtol=1e-13)
    np.testing.assert_allclose(inf.chi2_sf(10.5, 3), 0.014760897143990665, rtol=1e-13)
    np.testing.assert_allclose(inf.f_sf(4.2, 2, 30), 0.024651903288156606, rtol=1e-13)
    np.testing.assert_allclose(inf.two_sided_p(10.0), 1.523970604832094e-23, rtol=1e-12)
    np.testing.assert_allclose(inf.two_sided_p(30.0, 5), 7.718648620496053e-07, rtol=1e-12)
    assert inf.chi2_sf(-1e-12, 2) == 1.0 == inf.chi2_sf(0.0, 2)   # rounding below 0
    assert np.isnan(inf.two_sided_p(np.nan))


def test_fit_and_summary_do_not_import_scipy_stats_or_optimize():
    # cold start (issue 8): a default Newton fit and its report need neither module
    code = ("import sys\n"
            "from mleopt import Logit, add_constant\n"
            "from mleopt.datasets import load\n"
            "anes = load('anes96')\n"
            "X = add_constant(anes[['TVnews', 'PID', 'age', 'educ', 'income']])\n"
            "res = Logit(anes['vote'], X).fit()\n"
            "res.summary().as_text(); res.conf_int(); res.llr_pvalue\n"
            "res.wald_test('TVnews = 0, PID = 0')\n"
            "print(sorted(m for m in sys.modules\n"
            "             if m.startswith(('scipy.stats', 'scipy.optimize'))))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_generic_hessian_route_on_filip_names_ill_conditioning(filip_model):
    # review of item 8: a user model on Filip's design still inverts the AD Hessian (README,
    # Known limits), whose curvature is lost to rounding. The warning said only "may be
    # unidentified ... or a saddle point"; Filip is identified and at its maximum, so the
    # message must also name ill-conditioning and what helps (rescaling / centring).
    import mleopt.numpy as mnp
    from mleopt import fit_mle
    from mleopt.stats import norm

    X = filip_model.exog
    start = filip_model.start_params()
    start = np.r_[start[:-1], np.log(start[-1])]
    with pytest.warns(HessianWarning, match="ill-conditioned.*rescaling or centring"):
        res = fit_mle(lambda p: norm.logpdf(FILIP_Y, X @ p[:11], mnp.exp(p[11])), start)
    assert res.converged is True
