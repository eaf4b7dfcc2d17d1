"""A small neural network classifier trained with Adam, written as autograd code.

Only the import lines differ from the autograd version of this program:

    import autograd.numpy as np                  ->  import mleopt.numpy as np
    from autograd import grad                    ->  from mleopt.ad import grad
    from autograd.misc.flatten import flatten    ->  from mleopt.ad import flatten
    from autograd.scipy.special import logsumexp ->  from mleopt.special import logsumexp
    from autograd.test_util import check_grads   ->  from mleopt.ad import check_grads

The parameters are a list of (weights, biases) tuples, one per layer; ``grad`` returns the
gradient in that same nested structure and Adam's update is written by hand on it. The data:
two interleaved spirals (two classes, 2-D inputs), seeded.

    PYTHONPATH=. python examples/neural_net_adam.py
"""
import numpy.random as npr

import mleopt.numpy as np
from mleopt.ad import check_grads, flatten, grad
from mleopt.special import logsumexp


def make_spirals(n_per_class, noise, rs):
    t = np.linspace(0.25, 3.0, n_per_class)
    inputs, labels = [], []
    for k in range(2):
        angle = t * 2.2 + k * np.pi
        xy = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)
        inputs.append(xy + noise * rs.randn(n_per_class, 2))
        labels.append(np.full(n_per_class, k))
    inputs = np.concatenate(inputs)
    targets = np.eye(2)[np.concatenate(labels)]         # one-hot
    return inputs, targets


def init_params(layer_sizes, scale, rs):
    """[(W, b), ...]: one tuple per layer."""
    return [(scale * rs.randn(m, n), scale * rs.randn(n))
            for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]


def predict_log_probs(params, inputs):
    for W, b in params[:-1]:
        inputs = np.tanh(np.dot(inputs, W) + b)
    W, b = params[-1]
    logits = np.dot(inputs, W) + b
    return logits - logsumexp(logits, axis=1, keepdims=True)


def objective(params, inputs, targets, l2):
    log_lik = np.sum(predict_log_probs(params, inputs) * targets)
    penalty = sum(np.sum(W ** 2) for W, _ in params)
    return -log_lik / inputs.shape[0] + l2 * penalty


def accuracy(params, inputs, targets):
    return np.mean(np.argmax(predict_log_probs(params, inputs), axis=1)
                   == np.argmax(targets, axis=1))


def adam(gradient, params, num_iters, step_size=0.05, b1=0.9, b2=0.999, eps=1e-8,
         callback=None):
    """Adam (Kingma & Ba), leaf by leaf on the nested [(W, b), ...] structure."""
    m = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
    v = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
    for i in range(num_iters):
        g = gradient(params, i)
        if callback:
            callback(params, i, g)
        new_params, new_m, new_v = [], [], []
        for (W, b), (gW, gb), (mW, mb), (vW, vb) in zip(params, g, m, v):
            layer, mom, sec = [], [], []
            for x, gx, mx, vx in ((W, gW, mW, vW), (b, gb, mb, vb)):
                mx = b1 * mx + (1 - b1) * gx
                vx = b2 * vx + (1 - b2) * gx ** 2
                mhat = mx / (1 - b1 ** (i + 1))
                vhat = vx / (1 - b2 ** (i + 1))
                layer.append(x - step_size * mhat / (np.sqrt(vhat) + eps))
                mom.append(mx)
                sec.append(vx)
            new_params.append(tuple(layer))
            new_m.append(tuple(mom))
            new_v.append(tuple(sec))
        params, m, v = new_params, new_m, new_v
    return params


def main():
    rs = npr.RandomState(0)
    inputs, targets = make_spirals(100, 0.1, rs)
    params = init_params([2, 16, 16, 2], 0.5, rs)
    l2 = 1e-4

    # the derivative is exact: both modes against finite differences, to second order
    check_grads(lambda p: objective(p, inputs[:20], targets[:20], l2), modes=["rev"])(params)
    print("check_grads: the gradient agrees with finite differences")

    flat, _ = flatten(params)
    print(f"{flat.size} parameters in {len(params)} layers")
    objective_grad = grad(objective)

    def gradient(params, i):
        return objective_grad(params, inputs, targets, l2)

    def report(params, i, g):
        if i % 100 == 0:
            print(f"iteration {i:4d}  loss {objective(params, inputs, targets, l2):.6f}  "
                  f"train accuracy {accuracy(params, inputs, targets):.3f}")

    start_loss = objective(params, inputs, targets, l2)
    params = adam(gradient, params, num_iters=500, callback=report)
    final_loss = objective(params, inputs, targets, l2)
    print(f"final loss {final_loss:.6f} (from {start_loss:.6f}), "
          f"train accuracy {accuracy(params, inputs, targets):.3f}")


if __name__ == "__main__":
    main()
