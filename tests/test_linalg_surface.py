"""mleopt.numpy.linalg beyond inv/solve/det: eigh, eigvalsh, svd, pinv, qr, matrix_power,
multi_dot, lstsq, norm, and the Cholesky rule on inputs whose two triangles differ.
Values against numpy, derivatives against finite differences (both modes, second order)."""
import numpy as onp
import pytest
from check import check_grads, rand

import mleopt.numpy as np
from mleopt.ad import TraceError, grad, jacobian, jvp

RNG = onp.random.default_rng(91)


def spd(*batch, n=3):
    x = RNG.standard_normal(batch + (n, n))
    return x @ onp.swapaxes(x, -1, -2) + n * onp.eye(n)


def distinct_sym(*batch, n=3):
    """A symmetric matrix with well-separated eigenvalues; its upper triangle is then
    overwritten with noise (eigh and cholesky read only the lower triangle)."""
    q, _ = onp.linalg.qr(RNG.standard_normal(batch + (n, n)))
    w = onp.arange(1.0, n + 1.0) * 1.5 + RNG.uniform(0, 0.3, batch + (n,))
    a = (q * w[..., None, :]) @ onp.swapaxes(q, -1, -2)
    return a


def messy_upper(a):
    """a with its strict upper triangle replaced by noise (the lower triangle kept)."""
    noise = RNG.standard_normal(a.shape)
    upper = onp.triu(onp.ones(a.shape[-2:]), 1).astype(bool)
    return onp.where(upper, noise, a)


def sign_free(v):
    """Each column times its first entry: independent of the eigenvector's sign."""
    return v * v[..., :1, :]


# --- cholesky: the lower triangle convention ----------------------------------------------

@pytest.mark.parametrize("batch", [(), (2,)])
def test_cholesky_reads_only_the_lower_triangle(batch):
    a = messy_upper(spd(*batch))
    onp.testing.assert_allclose(np.linalg.cholesky(a), onp.linalg.cholesky(a), rtol=1e-14)
    # exact for the full (non-symmetric) argument: finite differences move single entries
    check_grads(np.linalg.cholesky, a)
    g = grad(lambda a: np.sum(np.sin(np.linalg.cholesky(a))))(a)
    assert onp.all(onp.triu(g, 1) == 0), "the upper triangle has no influence"
    # a symmetric matrix built symmetrically: the same derivative as the symmetric rule
    x = rand((3, 3), "real", 4) + 2 * onp.eye(3)
    check_grads(lambda x: np.linalg.cholesky(x @ x.T), x)


def test_cholesky_upper():
    a = messy_upper(spd()).T   # now the upper triangle is the meaningful one
    onp.testing.assert_allclose(np.linalg.cholesky(a, upper=True),
                                onp.linalg.cholesky(a, upper=True), rtol=1e-14)
    check_grads(lambda a: np.linalg.cholesky(a, upper=True), a)


# --- eigh / eigvalsh ----------------------------------------------------------------------------

@pytest.mark.parametrize("batch, uplo", [((), "L"), ((2,), "L"), ((), "U")])
def test_eigh(batch, uplo):
    a = messy_upper(distinct_sym(*batch))
    if uplo == "U":
        a = onp.swapaxes(a, -1, -2)
    w, v = np.linalg.eigh(a, UPLO=uplo)
    w0, v0 = onp.linalg.eigh(a, UPLO=uplo)
    onp.testing.assert_allclose(np.linalg.eigvalsh(a, UPLO=uplo), w0, rtol=1e-13)
    check_grads(lambda a: np.linalg.eigh(a, UPLO=uplo)[0], a)
    check_grads(lambda a: sign_free(np.linalg.eigh(a, UPLO=uplo)[1]), a)
    check_grads(lambda a: np.linalg.eigvalsh(a, UPLO=uplo), a)
    onp.testing.assert_array_equal(w, w0)   # plain input: numpy's own result
    # traced input: the same values
    onp.testing.assert_allclose(value_of(lambda a: np.linalg.eigh(a, UPLO=uplo)[0], a), w0,
                                rtol=1e-13)
    onp.testing.assert_allclose(value_of(lambda a: np.linalg.eigh(a, UPLO=uplo)[1], a), v0,
                                rtol=1e-12, atol=1e-14)


def test_eigh_traced_values_and_reconstruction():
    a = distinct_sym(n=4)

    def recon(a):
        w, v = np.linalg.eigh(a)
        return (v * w) @ v.T

    onp.testing.assert_allclose(jacobian(recon)(a).reshape(16, 16)[0, 0], 1.0, rtol=1e-12)
    check_grads(recon, a)
    _, t = jvp(lambda a: np.linalg.eigh(a)[0], (a,), (onp.eye(4),))
    onp.testing.assert_allclose(t, onp.ones(4), rtol=1e-12)  # shift by I moves every w by 1


def test_eigvalsh_first_derivative_at_repeated_eigenvalues():
    a = onp.diag([1.0, 1.0, 3.0])
    g = grad(lambda a: np.sum(np.linalg.eigvalsh(a)))(a)   # d trace = I (lower convention)
    onp.testing.assert_allclose(g, onp.eye(3), atol=1e-14)


# --- svd ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 4, 3)])
def test_svd_reduced(shape):
    a = rand(shape, "normal", 5)
    u0, s0, vh0 = onp.linalg.svd(a, full_matrices=False)
    onp.testing.assert_allclose(value_of(lambda a: np.linalg.svd(a, full_matrices=False)[1], a),
                                s0, rtol=1e-14)
    onp.testing.assert_allclose(value_of(lambda a: np.linalg.svd(a, full_matrices=False)[0], a),
                                u0, rtol=1e-13, atol=1e-14)
    check_grads(lambda a: np.linalg.svd(a, full_matrices=False)[1], a)
    check_grads(lambda a: np.linalg.svd(a, compute_uv=False), a)
    check_grads(lambda a: sign_free(np.linalg.svd(a, full_matrices=False)[0]), a)
    check_grads(lambda a: sign_free(np.swapaxes(np.linalg.svd(a, full_matrices=False)[2],
                                                -1, -2)), a)

    def recon(a):
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        return (u * s[..., None, :]) @ vh

    check_grads(recon, a, order=1)
    onp.testing.assert_allclose(jacobian(recon)(a), jacobian(lambda a: a * 1.0)(a),
                                atol=1e-10)


def test_svd_full_matrices_refused_for_non_square_traced_input():
    a = rand((4, 3), "normal", 6)
    with pytest.raises(TraceError, match="full_matrices=False"):
        grad(lambda a: np.sum(np.linalg.svd(a)[0]))(a)
    square = rand((3, 3), "normal", 7)
    check_grads(lambda a: np.linalg.svd(a)[1], square, order=1)
    with pytest.raises(TraceError, match="hermitian"):
        grad(lambda a: np.sum(np.linalg.svd(a, hermitian=True)[1]))(square)


# --- pinv, qr, lstsq, matrix_power, multi_dot --------------------------------------------------

@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (3, 3), (2, 4, 2)])
def test_pinv(shape):
    a = rand(shape, "normal", 8)
    onp.testing.assert_allclose(np.linalg.pinv(a), onp.linalg.pinv(a), rtol=1e-12, atol=1e-14)
    check_grads(np.linalg.pinv, a)


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (2, 5, 2)])
def test_qr(shape):
    a = rand(shape, "normal", 9)
    q0, r0 = onp.linalg.qr(a)
    onp.testing.assert_allclose(value_of(lambda a: np.linalg.qr(a)[0], a), q0, rtol=1e-13,
                                atol=1e-14)
    check_grads(lambda a: np.linalg.qr(a)[0], a)
    check_grads(lambda a: np.linalg.qr(a)[1], a)
    check_grads(lambda a: np.linalg.qr(a, mode="r"), a, order=1)
    _, t = jvp(lambda a: np.linalg.qr(a)[1], (a,), (onp.zeros_like(a),))
    onp.testing.assert_array_equal(t, onp.zeros_like(r0))


def test_qr_refusals():
    with pytest.raises(TraceError, match="wide"):
        grad(lambda a: np.sum(np.linalg.qr(a)[1]))(rand((2, 3), "normal", 1))
    with pytest.raises(TraceError, match="complete"):
        grad(lambda a: np.sum(np.linalg.qr(a, mode="complete")[1]))(rand((3, 2), "normal", 1))
    with pytest.raises(ValueError, match="mode"):
        np.linalg.qr(onp.eye(2), mode="full")


@pytest.mark.parametrize("b_shape", [(5,), (5, 2)])
def test_lstsq(b_shape):
    a = rand((5, 3), "normal", 10)
    b = rand(b_shape, "normal", 11)
    x0, res0, rank0, s0 = onp.linalg.lstsq(a, b)

    def parts(a, b):
        return np.linalg.lstsq(a, b)

    x, res, rank, s = jvp_values(parts, a, b)
    onp.testing.assert_allclose(x, x0, rtol=1e-12)
    onp.testing.assert_allclose(res, res0, rtol=1e-12)
    assert rank == rank0
    onp.testing.assert_allclose(s, s0, rtol=1e-14)
    check_grads(lambda a, b: np.linalg.lstsq(a, b)[0], a, b)
    check_grads(lambda a, b: np.linalg.lstsq(a, b)[1], a, b)


def jvp_values(f, a, b):
    """f evaluated on traced arguments (the traced path), returned as plain values."""
    out = {}

    def g(a):
        x, res, rank, s = f(a, b)
        out["v"] = (x, res, rank, s)
        return np.sum(x)

    grad(g)(a)
    return tuple(onp.asarray(getattr(v, "_value", v)) if not isinstance(v, int) else v
                 for v in out["v"])


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, -1, -2])
def test_matrix_power(n):
    a = rand((3, 3), "normal", 12) + 2 * onp.eye(3)
    want = onp.linalg.matrix_power(a, n)
    onp.testing.assert_allclose(jvp_power(a, n), want, rtol=1e-12)
    if n != 0:
        check_grads(lambda a: np.linalg.matrix_power(a, n), a)


def jvp_power(a, n):
    value, _ = jvp(lambda a: np.linalg.matrix_power(a, n) + 0.0 * a, (a,), (a,))
    return value


def test_multi_dot():
    a, b, c = rand((2, 3), "normal", 1), rand((3, 4), "normal", 2), rand((4,), "normal", 3)
    onp.testing.assert_allclose(np.linalg.multi_dot([a, b, c]),
                                onp.linalg.multi_dot([a, b, c]), rtol=1e-13)
    check_grads(lambda a, b, c: np.linalg.multi_dot([a, b, c]), a, b, c)


# --- norm ------------------------------------------------------------------------------------------

def _check_norm(x, ord, axis):
    """Values (with and without keepdims) against numpy's, derivatives to second order."""
    for keepdims in (False, True):
        got = value_of(lambda x: np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims), x)
        onp.testing.assert_allclose(got, onp.linalg.norm(x, ord=ord, axis=axis,
                                                         keepdims=keepdims), rtol=1e-13)
    check_grads(lambda x: np.linalg.norm(x, ord=ord, axis=axis), x)


VECTOR_ORDS = [None, 2, 1, onp.inf, -onp.inf, 3, 0.5]
MATRIX_ORDS = [None, "fro", "nuc", 1, -1, 2, -2, onp.inf, -onp.inf]


@pytest.mark.parametrize("ord", VECTOR_ORDS)
@pytest.mark.parametrize("shape, axis", [((5,), None), ((3, 4), 1), ((3, 4), 0), ((2, 3, 2), -2)])
def test_vector_norms(ord, shape, axis):
    x = onp.sign(rand(shape, "nonzero", 13)) * rand(shape, "positive", 13) \
        + onp.arange(onp.prod(shape)).reshape(shape) * 0.01  # no ties for max / min
    _check_norm(x, ord, axis)


@pytest.mark.parametrize("ord", MATRIX_ORDS)
@pytest.mark.parametrize("shape, axis", [((3, 4), None), ((2, 3, 4), (1, 2)),
                                         ((3, 2, 4), (2, 0))])
def test_matrix_norms(ord, shape, axis):
    x = rand(shape, "normal", 14) + onp.arange(onp.prod(shape)).reshape(shape) * 0.013
    _check_norm(x, ord, axis)


def test_norm_errors():
    x = rand((2, 3, 4), "normal", 15)
    with pytest.raises(ValueError, match="axis="):
        grad(lambda x: np.linalg.norm(x, ord=1))(x)
    with pytest.raises(ValueError, match="Invalid norm order 'nuc' for vectors"):
        grad(lambda x: np.sum(np.linalg.norm(x, ord="nuc", axis=0)))(x)
    with pytest.raises(ValueError, match="Invalid norm order 3 for matrices"):
        grad(lambda x: np.sum(np.linalg.norm(x, ord=3, axis=(0, 1))))(x)


def value_of(f, x):
    """f on a traced argument (the differentiable path), as a plain array."""
    value, _ = jvp(f, (x,), (onp.zeros_like(x),))
    return onp.asarray(value)


def test_complex_input_is_refused_by_the_function_called():
    from mleopt.ad import ComplexNumberError
    for name, call in [("eigh", lambda a: np.linalg.eigh(a)), ("svd", lambda a: np.linalg.svd(a)),
                       ("qr", lambda a: np.linalg.qr(a)), ("pinv", lambda a: np.linalg.pinv(a))]:
        with pytest.raises(ComplexNumberError, match=f"^linalg.{name} received a complex"):
            call(onp.eye(2) * 1j)


def test_every_numpy_linalg_name_is_offered():
    """mleopt.numpy.linalg offers numpy.linalg's names (review of issue 9: cond, eig, eigvals,
    tensorsolve, svdvals, matmul, ... raised AttributeError): matmul and svdvals
    differentiable, the others plain numpy, refused by name on traced values."""
    missing = [n for n in dir(onp.linalg) if not n.startswith("_") and n != "test"
               and not hasattr(np.linalg, n)]
    assert missing == []
    a = onp.array([[2.0, 0.3, 0.1], [0.2, 1.5, -0.4]])
    onp.testing.assert_allclose(np.linalg.svdvals(a), onp.linalg.svdvals(a), rtol=1e-13)
    check_grads(lambda x: np.linalg.svdvals(x), a)
    check_grads(lambda x: np.linalg.matmul(x, x.T), a)
    s = a @ a.T
    assert np.linalg.cond(s) == onp.linalg.cond(s)
    with pytest.raises(TraceError, match="numpy.linalg.cond"):
        grad(lambda x: np.linalg.cond(x))(s)
