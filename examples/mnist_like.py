"""Train an MLP classifier on synthetic MNIST-like data: jit(value_and_grad) + adam + dropout.

The data (noisy copies of one random prototype image per class), the initial weights, the
minibatch order and the dropout masks all come from funcgrad.random keys, so a run is
reproducible and the dropout masks are drawn inside the jitted training step: each step gets a
new key (fold_in of the step number) and so new masks, without recompiling.

    python examples/mnist_like.py            # 784-256-128-10, 6000 examples, 3 epochs
    python examples/mnist_like.py --quick    # small sizes, a few seconds (used by the tests)
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.optimizers as optim
import funcgrad.random as fr
from funcgrad.scipy.special import logsumexp


def make_data(key, n, dim, classes):
    """Images: a random prototype per class plus noise; labels uniform over the classes."""
    k_proto, k_label, k_noise = fr.split(key, 3)
    prototypes = fr.normal(k_proto, (classes, dim))
    labels = fr.randint(k_label, (n,), 0, classes)
    images = (prototypes[labels] + 2.0 * fr.normal(k_noise, (n, dim))) / 3.0
    return images, labels


def init_params(key, sizes):
    """He-normal weights and zero biases, one key per layer."""
    keys = fr.split(key, len(sizes) - 1)
    return [(fr.normal(k, (m, n)) * np.sqrt(2.0 / m), np.zeros(n))
            for k, m, n in zip(keys, sizes[:-1], sizes[1:], strict=True)]


def log_probs(params, x, key=None, rate=0.0):
    """ReLU MLP; with a key, inverted dropout (keep probability 1 - rate) after each hidden layer."""
    for i, (w, b) in enumerate(params[:-1]):
        x = fnp.maximum(x @ w + b, 0.0)
        if key is not None and rate > 0:
            keep = fr.bernoulli(fr.fold_in(key, i), 1.0 - rate, x.shape)
            x = fnp.where(keep, x / (1.0 - rate), 0.0)
    w, b = params[-1]
    logits = x @ w + b
    return logits - logsumexp(logits, axis=1, keepdims=True)


def loss(params, x, y, key, rate):
    """Mean cross-entropy of the labels ``y``."""
    return -fnp.mean(fnp.take_along_axis(log_probs(params, x, key, rate), y[:, None], axis=1))


def accuracy(params, x, y):
    return float(np.mean(np.argmax(log_probs(params, x), axis=1) == y))


def train(sizes=(784, 256, 128, 10), n_train=6000, n_test=1000, epochs=3, batch=128, rate=0.2,
          learning_rate=1e-3, seed=0, verbose=True):
    """Returns the per-epoch mean training losses and the final test accuracy."""
    key = fr.key(seed)
    k_data, k_init, k_train = fr.split(key, 3)
    images, labels = make_data(k_data, n_train + n_test, sizes[0], sizes[-1])
    x_train, y_train = images[:n_train], labels[:n_train]
    x_test, y_test = images[n_train:], labels[n_train:]
    params = init_params(k_init, sizes)
    opt = optim.adam(learning_rate)
    opt_state = opt.init(params)

    @fg.jit
    def step(params, opt_state, x, y, key):
        value, grads = fg.value_and_grad(loss)(params, x, y, key, rate)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optim.apply_updates(params, updates), opt_state, value

    history = []
    t = 0
    for epoch in range(epochs):
        start = time.perf_counter()
        order = fr.permutation(fr.fold_in(k_train, epoch), n_train)
        losses = []
        for i in range(0, n_train - batch + 1, batch):
            idx = order[i:i + batch]
            dropout_key = fr.fold_in(k_train, 1000 + t)  # a new key, so new masks, every step
            params, opt_state, value = step(params, opt_state, x_train[idx], y_train[idx], dropout_key)
            losses.append(float(value))
            t += 1
        history.append(float(np.mean(losses)))
        if verbose:
            print(f"epoch {epoch}: train loss {history[-1]:.4f}  test accuracy {accuracy(params, x_test, y_test):.3f}"
                  f"  ({time.perf_counter() - start:.2f} s)")
    return history, accuracy(params, x_test, y_test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes (a few seconds)")
    args = parser.parse_args()
    if args.quick:
        history, acc = train(sizes=(64, 32, 10), n_train=512, n_test=256, epochs=4, batch=64, learning_rate=3e-3)
    else:
        history, acc = train()
    assert history[-1] < history[0], f"the training loss did not decrease: {history}"
    print(f"loss decreased from {history[0]:.4f} to {history[-1]:.4f}; test accuracy {acc:.3f}")


if __name__ == "__main__":
    main()
