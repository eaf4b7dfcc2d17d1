"""Linear algebra (inv, solve, det, slogdet, cholesky) and einsum: values against numpy,
derivatives against finite differences, forward against reverse."""
import numpy as onp
import pytest
from check import check_grads, rand

import mleopt.numpy as np
from mleopt.ad import grad, hessian, jacobian, jvp
from mleopt.ad.einsum import parse

RNG = onp.random.default_rng(20)


def spd(*batch, n=3):
    """A well-conditioned symmetric positive definite matrix (or a stack of them)."""
    x = RNG.standard_normal(batch + (n, n))
    return x @ onp.swapaxes(x, -1, -2) + n * onp.eye(n)


def general(*batch, n=3):
    """A well-conditioned non-symmetric matrix."""
    return RNG.standard_normal(batch + (n, n)) + 3 * onp.eye(n)


def sym(a):
    return 0.5 * (a + np.swapaxes(a, -1, -2))


# --- linear algebra -----------------------------------------------------------------------

@pytest.mark.parametrize("a", [general(), general(2), spd(2, 1)], ids=["2d", "stack", "4d"])
def test_inv_det_slogdet(a):
    onp.testing.assert_allclose(np.linalg.inv(a), onp.linalg.inv(a), rtol=1e-14)
    onp.testing.assert_allclose(np.linalg.det(a), onp.linalg.det(a), rtol=1e-14)
    sign, logdet = np.linalg.slogdet(a)
    onp.testing.assert_array_equal(sign, onp.linalg.slogdet(a)[0])
    onp.testing.assert_allclose(logdet, onp.linalg.slogdet(a)[1], rtol=1e-14)
    check_grads(np.linalg.inv, a)
    check_grads(np.linalg.det, a)
    check_grads(lambda a: np.linalg.slogdet(a)[1], a)


def test_slogdet_of_negative_determinant():
    a = general()
    a[0] *= -1 if onp.linalg.det(a) > 0 else 1
    assert np.linalg.slogdet(a)[0] == -1
    check_grads(lambda a: np.linalg.slogdet(a)[1], a)
    onp.testing.assert_allclose(grad(lambda a: np.linalg.slogdet(a)[1])(a),
                                onp.linalg.inv(a).T, rtol=1e-12)


@pytest.mark.parametrize("a_shape, b_shape", [
    ((), (3,)), ((), (3, 2)), ((2,), (3,)), ((2,), (3, 2)), ((), (2, 3, 2)),
    ((2,), (2, 3, 1)), ((2, 1), (4, 3, 2))])
def test_solve(a_shape, b_shape):
    a = general(*a_shape)
    b = rand(b_shape, "real", 1)
    want = onp.linalg.solve(a, b)
    got = np.linalg.solve(a, b)
    assert got.shape == want.shape
    onp.testing.assert_allclose(got, want, rtol=1e-13)
    check_grads(np.linalg.solve, a, b)


@pytest.mark.parametrize("batch", [(), (2,)])
def test_cholesky(batch):
    a = spd(*batch)
    onp.testing.assert_allclose(np.linalg.cholesky(a), onp.linalg.cholesky(a), rtol=1e-14)
    # the rule is the derivative of A -> cholesky((A + A^T) / 2): symmetric perturbations
    check_grads(lambda a: np.linalg.cholesky(sym(a)), a)
    u = rand(a.shape, "normal", 2)
    du = sym(u)
    _, t_fwd = jvp(np.linalg.cholesky, (a,), (du,))
    h = 1e-6
    fd = (onp.linalg.cholesky(a + h * du) - onp.linalg.cholesky(a - h * du)) / (2 * h)
    onp.testing.assert_allclose(t_fwd, fd, rtol=1e-6, atol=1e-9)


def test_cholesky_of_gram_matrix_and_gaussian_loglike():
    x = rand((3, 3), "real", 3)
    check_grads(lambda x: np.linalg.cholesky(x @ x.T + 3 * np.eye(3)), x)

    def mvn_loglike(theta, y):
        # Sigma = L L^T with L from a free parameter vector: log|Sigma| via slogdet and
        # via 2 sum(log diag(cholesky)) must agree, and so must their derivatives
        m = np.reshape(theta, (2, 2))
        s = m @ m.T + np.eye(2)
        ld1 = np.linalg.slogdet(s)[1]
        ld2 = 2 * np.sum(np.log(np.diag(np.linalg.cholesky(s))))
        quad = np.sum(y * np.linalg.solve(s, y))
        return ld1 - ld2, -0.5 * (ld1 + quad)

    theta = rand((4,), "real", 4)
    y = rand((2,), "real", 5)
    assert abs(mvn_loglike(theta, y)[0]) < 1e-13
    onp.testing.assert_allclose(grad(lambda t: mvn_loglike(t, y)[0])(theta), 0, atol=1e-13)
    onp.testing.assert_allclose(hessian(lambda t: mvn_loglike(t, y)[0])(theta), 0,
                                atol=1e-12)
    check_grads(lambda t: mvn_loglike(t, y)[1], theta)


def test_det_derivative_formula():
    a = general()
    onp.testing.assert_allclose(grad(np.linalg.det)(a),
                                onp.linalg.det(a) * onp.linalg.inv(a).T, rtol=1e-12)


# --- einsum -------------------------------------------------------------------------------

EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),              # implicit output
    ("i,i", [(3,), (3,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ij->", [(2, 3)]),
    ("ij", [(2, 3)]),
    ("ji", [(2, 3)]),                          # implicit: transposes
    ("...ij,...j->...i", [(4, 2, 3), (3,)]),
    ("...ij,...j", [(4, 2, 3), (4, 3)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    ("ij,j->i", [(2, 1), (3,)]),               # size-1 broadcasting
    ("ij,ij->", [(1, 3), (2, 3)]),
    ("ijk,k->j", [(2, 3, 2), (2,)]),           # i only in the first operand
    ("ij,->ij", [(2, 3), ()]),
    ("...,...", [(2, 3), (3,)]),
    ("Ab,bC", [(2, 3), (3, 2)]),               # upper case sorts first
    ("ii", [(3, 3)]),                          # trace
    ("ii->i", [(3, 3)]),                       # diagonal
    ("iij,j->i", [(2, 2, 3), (3,)]),
    ("ii,j->j", [(3, 3), (2,)]),
    ("iji->j", [(2, 3, 2)]),
    (" ij , jk -> ki ", [(2, 3), (3, 2)]),     # spaces
]


@pytest.mark.parametrize("subscripts, shapes", EINSUM_CASES)
def test_einsum(subscripts, shapes):
    args = [rand(shape, "real", k) for k, shape in enumerate(shapes)]
    want = onp.einsum(subscripts, *args)
    got = np.einsum(subscripts, *args)
    assert onp.shape(got) == onp.shape(want)
    onp.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    check_grads(lambda *a: np.einsum(subscripts, *a), *args)


def test_einsum_mixed_constant_and_traced_operands():
    a, b = rand((2, 3), "real", 1), rand((3,), "real", 2)
    check_grads(lambda b: np.einsum("ij,j->i", a, b), b)
    check_grads(lambda a: np.einsum("ij,j->i", a, b), a)
    # the quadratic form x^T A x, Hessian A + A^T
    m = rand((3, 3), "real", 3)
    onp.testing.assert_allclose(hessian(lambda x: np.einsum("i,ij,j", x, m, x))(b),
                                m + m.T, rtol=1e-14)


def test_einsum_jacobian_shapes():
    a = rand((2, 3), "real", 4)
    j = jacobian(lambda a: np.einsum("ij->ji", a))(a)
    assert j.shape == (3, 2, 2, 3)
    onp.testing.assert_array_equal(j, onp.einsum("kj,li->klij", onp.eye(3), onp.eye(2)))


def test_einsum_parse():
    assert parse("ij,jk", [(2, 3), (3, 4)]) == (["ij", "jk"], "ik")
    terms, out = parse("...i,i->...", [(5, 4, 3), (3,)])
    assert len(terms[0]) == 3 and out == terms[0][:2]
    with pytest.raises(ValueError, match="2 operands but 1"):
        np.einsum("ij,jk", onp.ones((2, 2)))
    with pytest.raises(ValueError, match="labels for an operand of shape"):
        np.einsum("ijk", onp.ones((2, 2)))
    with pytest.raises(ValueError, match="invalid labels"):
        np.einsum("i1", onp.ones((2, 2)))
    with pytest.raises(TypeError, match="subscripts as a string"):
        parse(["i"], [(2,)])
    with pytest.raises(ValueError, match="interleaved form must be an integer"):
        np.einsum(onp.ones(2), [-1], onp.ones(2), [0])
