"""Per-example gradients of a small MLP's loss with ``vmap(grad(loss), in_axes=(None, 0, 0))``.

``grad(loss)(params, x, y)`` is the gradient for one example. ``vmap`` maps it over the batch
axis of ``x`` and ``y`` while sharing ``params`` (``in_axes=None``): one vectorised pass instead of
a Python loop, and each leaf of the result gets a leading batch axis. Per-example gradients are
what differentially-private SGD clips, and what influence and gradient-noise statistics use.

Run it with ``python examples/per_example_grads.py``.
"""

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.scipy.special import logsumexp

rng = np.random.default_rng(0)
n_in, n_hidden, n_classes, batch = 5, 16, 3, 8

params = {
    "w1": rng.standard_normal((n_in, n_hidden)) / np.sqrt(n_in),
    "b1": np.zeros(n_hidden),
    "w2": rng.standard_normal((n_hidden, n_classes)) / np.sqrt(n_hidden),
    "b2": np.zeros(n_classes),
}
xs = rng.standard_normal((batch, n_in))
ys = rng.integers(0, n_classes, batch)


def loss(params, x, y):
    """Softmax cross-entropy of a tanh MLP on ONE example: x has shape (n_in,), y is a label."""
    h = fnp.tanh(x @ params["w1"] + params["b1"])
    logits = h @ params["w2"] + params["b2"]
    return logsumexp(logits) - logits[y]


# One call: the gradient for every example, params shared (None), x and y mapped along axis 0.
per_example = fg.vmap(fg.grad(loss), in_axes=(None, 0, 0))(params, xs, ys)
for name, g in per_example.items():
    print(f"per-example grad[{name!r}]: shape {g.shape}  (batch of {batch}, then {params[name].shape})")

# The same thing with a Python loop, one grad call per example.
loop = [fg.grad(loss)(params, xs[i], ys[i]) for i in range(batch)]
for name in params:
    stacked = np.stack([g[name] for g in loop])
    assert np.allclose(per_example[name], stacked, rtol=1e-12, atol=1e-14), name
print("matches a Python loop of grad over the batch")

# Their mean is the gradient of the mean loss over the batch.
mean_loss = lambda p: fnp.mean(fg.vmap(loss, in_axes=(None, 0, 0))(p, xs, ys))
full = fg.grad(mean_loss)(params)
for name in params:
    assert np.allclose(per_example[name].mean(axis=0), full[name], rtol=1e-12, atol=1e-14), name
print("their mean equals grad of the mean loss")

# What DP-SGD does with them: clip each example's gradient to norm <= 1, then average.
norms = np.sqrt(sum(np.sum(g.reshape(batch, -1) ** 2, axis=1) for g in per_example.values()))
scale = np.minimum(1.0, 1.0 / norms)
clipped = {k: np.mean(g * scale.reshape((batch,) + (1,) * (g.ndim - 1)), axis=0) for k, g in per_example.items()}
print("per-example gradient norms:", np.array2string(norms, precision=3))
print("clipped mean gradient norm: %.4f" % np.sqrt(sum(np.sum(g ** 2) for g in clipped.values())))
