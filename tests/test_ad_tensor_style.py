"""The PyTorch-like style of mleopt.ad: conversions of eager tensors, .grad accumulation,
backward(create_graph=True); functional traces keep refusing conversions that would drop a
derivative. References: the hand-derived derivatives of x^3 and exp(x) x."""
from __future__ import annotations

import numpy as onp
import pytest

import mleopt.numpy as np
from mleopt.ad import TraceError, grad, tensor

X = onp.array([1.0, 2.0])


def test_conversions_of_an_eager_tensor():
    x = tensor(X, requires_grad=True)
    loss = np.sum(x ** 3)
    assert float(loss) == 9.0 and int(loss) == 9 and loss.item() == 9.0
    assert f"{loss:.3f}" == "9.000" and f"{x[1]:.1f}" == "2.0"
    assert loss.tolist() == 9.0 and x.tolist() == [1.0, 2.0]
    arr = x.numpy()
    arr[0] = 99.0                           # a copy: the tensor is untouched
    assert x.tolist() == [1.0, 2.0]
    d = x.detach()
    assert not d.requires_grad and d.tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match="shape \\(2,\\)"):
        float(x)
    loss.backward()                         # the graph is still usable after the conversions
    onp.testing.assert_array_equal(x.grad, 3 * X ** 2)


def test_grad_accumulates_until_reset_and_copy_stays_in_the_graph():
    x = tensor(X, requires_grad=True)
    for _ in range(2):
        np.sum(np.exp(x) * x).backward()
    onp.testing.assert_allclose(x.grad, 2 * onp.exp(X) * (1 + X), rtol=1e-15)
    x.grad = None
    np.sum(x.copy() * 2.0).backward()
    onp.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_backward_create_graph_gives_a_differentiable_gradient():
    x = tensor(X, requires_grad=True)
    np.sum(x ** 3).backward(create_graph=True)
    g = x.grad                              # 3 x^2, itself a tensor of x
    assert g.requires_grad
    onp.testing.assert_array_equal(g.numpy(), 3 * X ** 2)
    x.grad = None
    np.sum(g).backward()                    # d/dx sum(3 x^2) = 6 x
    onp.testing.assert_array_equal(x.grad, 6 * X)
    # third order through two recorded backward passes: d/dx sum(6x * x) ... of exp
    y = tensor(0.5, requires_grad=True)
    np.exp(2 * y).backward(create_graph=True)
    g1 = y.grad                             # 2 e^{2y}
    y.grad = None
    g1.backward(create_graph=True)
    g2 = y.grad                             # 4 e^{2y}
    y.grad = None
    g2.backward()
    assert onp.isclose(float(g1), 2 * onp.exp(1.0)) and onp.isclose(float(g2), 4 * onp.exp(1.0))
    assert onp.isclose(y.grad, 8 * onp.exp(1.0), rtol=1e-15)


def test_functional_traces_keep_refusing_conversions():
    def refuses(conv):
        def f(z):
            conv(z)
            return np.sum(z)
        with pytest.raises(TraceError, match="derivative|backward"):
            grad(f)(X)
    refuses(lambda z: float(z[0]))
    refuses(lambda z: z.tolist())
    refuses(lambda z: z.numpy())
    refuses(lambda z: np.sum(z).backward())
    # printing is harmless: formatting shows the value
    seen = []
    grad(lambda z: seen.append(f"{z[0]:.2f}") or np.sum(z))(X)
    assert seen == ["1.00"]


def test_backward_refuses_a_gradient_of_another_shape():
    # PyTorch refuses a grad_output whose shape differs from the output's; broadcasting it
    # silently gave x.grad of the wrong shape ((1,) for x of shape (3,)) or summed copies.
    x = tensor(onp.arange(3.0), requires_grad=True)
    for gradient in (onp.ones(1), onp.ones((2, 3)), onp.ones(3)):
        y = x * 2.0 if gradient.size != 3 or gradient.ndim != 1 else np.sum(x)
        with pytest.raises(ValueError, match="gradient has shape"):
            y.backward(gradient)
    assert x.grad is None
    (x * 2.0).backward(onp.array([1.0, 0.0, 3.0]))
    onp.testing.assert_array_equal(x.grad, [2.0, 0.0, 6.0])
    x.grad = None
    np.sum(x).backward(2.0)                  # a number for a single-number output
    onp.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])


def test_data_assignment_updates_a_leaf_in_place_as_in_pytorch():
    # PyTorch's manual step: w.data -= lr * w.grad. It used to change the value and then
    # raise AttributeError (a half-applied step).
    target = onp.array([1.0, -1.0])
    w = tensor(onp.zeros(2), requires_grad=True)
    for _ in range(3):
        w.grad = None
        np.sum((w - target) ** 2).backward()
        w.data -= 0.25 * w.grad
    onp.testing.assert_allclose(w.tolist(), target * (1 - 0.5 ** 3), rtol=1e-15)
    w.data = [3, 4]                          # replaced (as float64), still a leaf
    assert w.tolist() == [3.0, 4.0] and w.is_leaf and w.requires_grad
    with pytest.raises(ValueError, match="shape"):
        w.data = onp.zeros(3)
    with pytest.raises(TraceError, match="data"):
        (w * 2.0).data = onp.zeros(2)        # not a leaf: its value comes from its inputs
