"""Issue 15 §4: programs written in autograd's and in JAX's style, moved to funcgrad by rewriting
their import statements only (``autograd`` → ``funcgrad.compat.autograd``, ``jax`` → ``funcgrad``),
then run and compared with the same programs written directly against funcgrad, with autograd itself
where it is installed, and, for the JAX programs, with their outputs recorded from JAX 0.10.2 (with
``jax_enable_x64``, random draws included). Neither library is needed to run these tests."""

from __future__ import annotations

import re

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.test_util import check_grads

RTOL = 1e-9


def rewrite_imports(source: str, old: str, new: str) -> str:
    """The issue's rule, applied to every import statement: module ``old`` and its submodules become
    ``new`` (``import old.sub as x`` → ``import new.sub as x``; ``from old.sub import y`` →
    ``from new.sub import y``); a bare ``import old`` becomes ``import new as old``."""
    out = []
    for line in source.splitlines():
        m = re.match(r"^(\s*)from\s+([\w.]+)\s+import\s+(.*)$", line)
        if m and (m.group(2) == old or m.group(2).startswith(old + ".")):
            out.append(f"{m.group(1)}from {new}{m.group(2)[len(old):]} import {m.group(3)}")
            continue
        m = re.match(r"^(\s*)import\s+(.*)$", line)
        if m:
            parts = []
            for item in m.group(2).split(","):
                words = item.split()
                name, alias = words[0], (words[2] if len(words) == 3 and words[1] == "as" else None)
                if name == old or name.startswith(old + "."):
                    target = new + name[len(old):]
                    if alias is not None:
                        parts.append(f"import {target} as {alias}")
                    elif name == old:
                        parts.append(f"import {new} as {old}")
                    else:  # `import old.sub` binds `old`: import the submodule, then bind `old`
                        parts.append(f"import {target}; import {new} as {old}")
                else:
                    parts.append(f"import {item.strip()}")
            out.append(m.group(1) + "; ".join(parts))
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def run(source: str, name: str) -> dict:
    namespace: dict = {"__name__": f"program_{name}"}
    exec(compile(source, f"<program {name}>", "exec"), namespace)
    return namespace["result"]


def assert_same(got: dict, want: dict, rtol: float = RTOL, atol: float = 1e-13) -> None:
    assert set(got) == set(want)
    for k in want:
        if isinstance(want[k], str):
            assert got[k] == want[k], k
        else:
            np.testing.assert_allclose(np.asarray(got[k], float), np.asarray(want[k], float), rtol=rtol, atol=atol,
                                       err_msg=k)


def test_rewrite_rules():
    src = "import jax\nimport jax.numpy as jnp\nfrom jax import grad, jit\nfrom jax.example_libraries import stax\n" \
          "import jax.scipy.stats.norm as norm\nimport numpy as onp, jax.random\nx = jax.numpy.sin\n"
    assert rewrite_imports(src, "jax", "funcgrad") == (
        "import funcgrad as jax\nimport funcgrad.numpy as jnp\nfrom funcgrad import grad, jit\n"
        "from funcgrad.example_libraries import stax\nimport funcgrad.scipy.stats.norm as norm\n"
        "import numpy as onp; import funcgrad.random; import funcgrad as jax\nx = jax.numpy.sin\n")
    src = "import autograd.numpy as np\nfrom autograd.misc.optimizers import adam\nimport autogradx\n"
    assert rewrite_imports(src, "autograd", "funcgrad.compat.autograd") == (
        "import funcgrad.compat.autograd.numpy as np\nfrom funcgrad.compat.autograd.misc.optimizers import adam\n"
        "import autogradx\n")


# --- the programs, as their authors wrote them ---------------------------------------------

A1_AUTOGRAD = r"""
import autograd.numpy as np
import autograd.numpy.random as npr
from autograd import grad


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2.0) + 1)


def logistic_predictions(weights, inputs):
    return sigmoid(np.dot(inputs, weights))


def training_loss(weights):
    preds = logistic_predictions(weights, inputs)
    label_probabilities = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probabilities))


rs = npr.RandomState(0)
inputs = rs.randn(20, 3)
targets = (rs.rand(20) > 0.5).astype(float)
training_gradient_fun = grad(training_loss)
weights = np.array([0.0, 0.0, 0.0])
for i in range(100):
    weights -= training_gradient_fun(weights) * 0.01
result = {"weights": weights, "loss": training_loss(weights)}
"""

A2_AUTOGRAD = r"""
import autograd.numpy as np
import autograd.numpy.random as npr
from autograd import grad
from autograd.misc.optimizers import adam
from autograd.misc import flatten
from autograd.scipy.special import logsumexp


def init_random_params(scale, layer_sizes, rs=npr.RandomState(0)):
    return [(scale * rs.randn(m, n), scale * rs.randn(n)) for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]


def neural_net_predict(params, inputs):
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return outputs - logsumexp(outputs, axis=1, keepdims=True)


def log_posterior(params, inputs, targets, L2_reg):
    log_prior = -L2_reg * np.sum(flatten(params)[0] ** 2)
    log_lik = np.sum(neural_net_predict(params, inputs) * targets)
    return log_prior + log_lik


rs = npr.RandomState(1)
X = rs.randn(30, 4)
Y = np.eye(3)[rs.randint(0, 3, 30)]
init_params = init_random_params(0.1, [4, 8, 3])


def objective(params, it):
    idx = slice((it % 3) * 10, (it % 3 + 1) * 10)
    return -log_posterior(params, X[idx], Y[idx], 0.01)


trace = []


def callback(params, it, g):
    if it % 10 == 0:
        trace.append(objective(params, it))


params = adam(grad(objective), init_params, step_size=0.05, num_iters=60, callback=callback)
result = {"flat": flatten(params)[0], "trace": np.array(trace),
          "g_data": grad(log_posterior, argnum=1)(params, X, Y, 0.01)}
"""

A3_AUTOGRAD = r"""
import autograd.numpy as np
from autograd import grad, hessian
from autograd.extend import primitive, defvjp
from autograd.test_util import check_grads


@primitive
def logsumexp(x):
    max_x = np.max(x)
    return max_x + np.log(np.sum(np.exp(x - max_x)))


def logsumexp_vjp(ans, x):
    x_shape = x.shape
    return lambda g: np.full(x_shape, g) * np.exp(x - np.full(x_shape, ans))


defvjp(logsumexp, logsumexp_vjp)


def example_func(y):
    z = y ** 2
    lse = logsumexp(z)
    return np.sum(lse)


x = np.array([1.5, 0.7, 1e-10])
check_grads(example_func, modes=["rev"])(x)
result = {"g": grad(example_func)(x), "h": hessian(example_func)(x)}
"""

A4_AUTOGRAD = r"""
import autograd.numpy as np
import autograd.numpy.random as npr
import autograd.scipy.stats.multivariate_normal as mvn
import autograd.scipy.stats.norm as norm
from autograd import grad, elementwise_grad, hessian, value_and_grad


def log_density(x, t):
    mu, log_sigma = x[:, 0], x[:, 1]
    return norm.logpdf(log_sigma, 0, 1.35) + norm.logpdf(mu, 0, np.exp(log_sigma))


def gaussian_entropy(log_std):
    return 0.5 * 2 * (1.0 + np.log(2 * np.pi)) + np.sum(log_std)


rs = npr.RandomState(0)


def variational_objective(params, t):
    mean, log_std = params[:2], params[2:]
    samples = rs.randn(10, 2) * np.exp(log_std) + mean
    return -(gaussian_entropy(log_std) + np.mean(log_density(samples, t)))


params = np.array([-1.0, -1.0, -5.0, -5.0])
g = grad(variational_objective)
for t in range(30):
    params = params - 0.05 * g(params, t)
v, g_final = value_and_grad(lambda p: mvn.logpdf(p[:2], np.zeros(2), np.eye(2) * 2.0))(params)
result = {"params": params, "v": v, "g": g_final, "eg": elementwise_grad(np.tanh)(params),
          "h": hessian(lambda p: np.sum(norm.logcdf(p)))(params)}
"""

J1_JAX = r"""
import jax
import jax.numpy as jnp
from jax import grad, jit, random
from jax.nn import relu, log_softmax
jax.config.update("jax_enable_x64", True)


def random_layer_params(m, n, key, scale=1e-1):
    w_key, b_key = random.split(key)
    return scale * random.normal(w_key, (n, m)), scale * random.normal(b_key, (n,))


def init_network_params(sizes, key):
    keys = random.split(key, len(sizes))
    return [random_layer_params(m, n, k) for m, n, k in zip(sizes[:-1], sizes[1:], keys)]


def predict(params, x):
    activations = x
    for w, b in params[:-1]:
        activations = relu(jnp.dot(activations, w.T) + b)
    final_w, final_b = params[-1]
    return log_softmax(jnp.dot(activations, final_w.T) + final_b)


def loss(params, images, targets):
    return -jnp.mean(jnp.sum(predict(params, images) * targets, axis=1))


@jit
def update(params, x, y):
    grads = grad(loss)(params, x, y)
    return [(w - 0.1 * dw, b - 0.1 * db) for (w, b), (dw, db) in zip(params, grads)]


key = random.key(0)
key, data_key, label_key = random.split(key, 3)
images = random.normal(data_key, (32, 8))
labels = random.randint(label_key, (32,), 0, 4)
targets = jax.nn.one_hot(labels, 4)
params = init_network_params([8, 16, 4], key)
for _ in range(20):
    params = update(params, images, targets)
result = {"loss": loss(params, images, targets), "w0_row0": params[0][0][0], "b1": params[1][1]}
"""

J2_JAX = r"""
import jax
import jax.numpy as jnp
from jax import jit, grad, random
from jax.example_libraries import stax, optimizers
from jax.example_libraries.stax import Dense, Relu, LogSoftmax, Conv, Flatten, MaxPool
from jax.flatten_util import ravel_pytree
jax.config.update("jax_enable_x64", True)

init_random_params, predict = stax.serial(
    Conv(4, (3, 3), padding="SAME"), Relu, MaxPool((2, 2)), Flatten, Dense(10), Relu, Dense(3), LogSoftmax)
_, init_params = init_random_params(random.key(1), (-1, 6, 6, 1))
k1, k2 = random.split(random.key(2))
x = random.normal(k1, (16, 6, 6, 1))
y = jax.nn.one_hot(random.randint(k2, (16,), 0, 3), 3)


def loss(params, batch):
    inputs, targets = batch
    return -jnp.mean(jnp.sum(predict(params, inputs) * targets, axis=1))


opt_init, opt_update, get_params = optimizers.adam(optimizers.exponential_decay(0.01, 5, 0.9))


@jit
def update(i, opt_state, batch):
    params = get_params(opt_state)
    return opt_update(i, grad(loss)(params, batch), opt_state)


opt_state = opt_init(init_params)
for i in range(10):
    opt_state = update(i, opt_state, (x, y))
flat, _ = ravel_pytree(get_params(opt_state))
result = {"loss": loss(get_params(opt_state), (x, y)), "head": flat[:6], "tail": flat[-4:], "sum": flat.sum(),
          "sumsq": (flat ** 2).sum()}
"""

J3_JAX = r"""
import jax
import jax.numpy as jnp
from jax import random, value_and_grad
import jax.scipy.stats.norm as norm
from jax.scipy.special import logsumexp
jax.config.update("jax_enable_x64", True)


def elbo(params, key, x):
    mu, log_sigma = params["mu"], params["log_sigma"]
    eps = random.normal(key, (5,) + mu.shape)
    z = mu + jnp.exp(log_sigma) * eps
    log_q = jnp.sum(norm.logpdf(z, mu, jnp.exp(log_sigma)), axis=-1)
    log_p = jnp.sum(norm.logpdf(x, z, 1.0), axis=-1) + jnp.sum(norm.logpdf(z), axis=-1)
    return logsumexp(log_p - log_q) - jnp.log(5.0)


key = random.key(3)
x = jnp.array([0.5, -1.2, 2.0])
params = {"mu": jnp.zeros(3), "log_sigma": jnp.zeros(3)}
for i in range(15):
    key, sub = random.split(key)
    value, g = value_and_grad(elbo)(params, sub, x)
    params = jax.tree_util.tree_map(lambda p, gi: p + 0.05 * gi, params, g)
result = {"value": value, "mu": params["mu"], "log_sigma": params["log_sigma"]}
"""

J4_JAX = r"""
import jax
import jax.numpy as jnp
from jax import grad, vmap, random
from jax.tree_util import tree_map, tree_leaves
jax.config.update("jax_enable_x64", True)


def loss(params, x, y):
    pred = jnp.tanh(jnp.dot(x, params["w"]) + params["b"])
    return jnp.sum((pred - y) ** 2)


def clipped_grad(params, l2_norm_clip, x, y):
    grads = grad(loss)(params, x, y)
    total = jnp.linalg.norm(jnp.array([jnp.linalg.norm(g.ravel()) for g in tree_leaves(grads)]))
    divisor = jnp.maximum(total / l2_norm_clip, 1.0)
    return tree_map(lambda g: g / divisor, grads)


def private_grad(params, batch, key, l2_norm_clip, noise_multiplier, batch_size):
    x, y = batch
    clipped = vmap(clipped_grad, (None, None, 0, 0))(params, l2_norm_clip, x, y)
    leaves, tree = jax.tree_util.tree_flatten(clipped)
    keys = random.split(key, len(leaves))
    summed = [g.sum(0) for g in leaves]
    noised = [(g + l2_norm_clip * noise_multiplier * random.normal(k, g.shape)) / batch_size
              for g, k in zip(summed, keys)]
    return jax.tree_util.tree_unflatten(tree, noised)


k1, k2, k3 = random.split(random.key(5), 3)
x = random.normal(k1, (8, 3))
y = random.normal(k2, (8,))
params = jax.device_put({"w": jnp.zeros(3), "b": jnp.zeros(())})
for i in range(10):
    k3, sub = random.split(k3)
    g = private_grad(params, (x, y), sub, 1.0, 0.5, 8)
    params = tree_map(lambda p, gi: p - 0.1 * gi, params, g)
result = {"w": params["w"], "b": params["b"]}
"""

J5_JAX = r"""
import jax
import jax.numpy as jnp
jax.config.update("jax_enable_x64", True)


@jax.jit
def f(x):
    return jnp.sum(jnp.sin(x) ** 2)


with jax.disable_jit():
    a = f(jnp.arange(3.0))
b = jax.block_until_ready(f(jnp.arange(3.0)))
c = jax.device_get(jax.grad(f)(jnp.arange(3.0)))
result = {"a": a, "b": b, "c": c, "h": jax.hessian(f)(jnp.arange(3.0)), "cpu": jax.default_backend()}
"""

# Outputs of the JAX programs above under JAX 0.10.2 (CPU, jax_enable_x64), recorded once.
JAX_RECORDED = {
    "J1": {"loss": 1.331258439777306,
           "w0_row0": [-0.06778131606179923, -0.0672981275080765, -0.18345803453487586, 0.20921345105386818,
                       -0.05750005584427486, -0.1782560942606136, 0.03772740567441879, -0.07196466733896843],
           "b1": [-0.076330919007012, -0.2267374636969807, -0.017503779890907775, -0.051558090716846035]},
    "J2": {"loss": 0.7585538294660388,
           "head": [-0.34225159925098086, -0.022722219273831126, 0.06654513326890556, 0.10378140586135148,
                    -0.14912603174883884, 0.07624912862733951],
           "tail": [0.49698373518453526, 0.004296878167139078, 0.030584207636434442, -0.0021207528619399093],
           "sum": -15.220311887728943, "sumsq": 24.790890899559503},
    "J3": {"value": -4.445280452558359, "mu": [0.25820068990536615, 0.0010084277332336397, 0.1367517057279299],
           "log_sigma": [-0.10145742429611689, 0.07713801603278315, -0.21320240259142606]},
    "J4": {"w": [0.11012726017011651, -0.10547334118826723, 0.04048413914653581], "b": -0.08004214607086432},
    "J5": {"a": 1.5348952287053772, "b": 1.5348952287053772, "c": [0.0, 0.9092974268256818, -0.7568024953079283],
           "h": [[2.0, 0.0, 0.0], [0.0, -0.8322936730942846, 0.0], [0.0, 0.0, -1.3072872417272239]], "cpu": "cpu"},
}


# --- the same programs written directly against funcgrad ----------------------------------------

def a1_direct() -> dict:
    rs = np.random.RandomState(0)
    inputs, targets = rs.randn(20, 3), (rs.rand(20) > 0.5).astype(float)

    def loss(w):
        preds = 0.5 * (fnp.tanh(fnp.dot(inputs, w) / 2.0) + 1)
        return -fnp.sum(fnp.log(preds * targets + (1 - preds) * (1 - targets)))

    w = np.zeros(3)
    for _ in range(100):
        w = w - fg.grad(loss)(w) * 0.01
    return {"weights": w, "loss": loss(w)}


def a2_direct() -> dict:
    import funcgrad.optimizers as optim
    from funcgrad.flatten_util import ravel_pytree
    from funcgrad.scipy.special import logsumexp

    init_rs = np.random.RandomState(0)
    params = [(0.1 * init_rs.randn(m, n), 0.1 * init_rs.randn(n)) for m, n in [(4, 8), (8, 3)]]
    rs = np.random.RandomState(1)
    X, Y = rs.randn(30, 4), np.eye(3)[rs.randint(0, 3, 30)]

    def predict(p, x):
        for W, b in p:
            out = fnp.dot(x, W) + b
            x = fnp.tanh(out)
        return out - logsumexp(out, axis=1, keepdims=True)

    def log_post(p, x, y, l2):
        flat_p = fnp.concatenate([fnp.ravel(leaf) for leaf in fg.tree_util.tree_leaves(p)])
        return -l2 * fnp.sum(flat_p ** 2) + fnp.sum(predict(p, x) * y)

    def objective(p, it):
        idx = slice((it % 3) * 10, (it % 3 + 1) * 10)
        return -log_post(p, X[idx], Y[idx], 0.01)

    flat, unravel = ravel_pytree(params)
    opt = optim.adam(0.05)
    state, trace = opt.init(flat), []
    for it in range(60):
        g = ravel_pytree(fg.grad(objective)(unravel(flat), it))[0]
        if it % 10 == 0:
            trace.append(objective(unravel(flat), it))
        updates, state = opt.update(g, state)
        flat = optim.apply_updates(flat, updates)
    return {"flat": flat, "trace": np.array(trace), "g_data": fg.grad(log_post, argnums=1)(unravel(flat), X, Y, 0.01)}


def a3_direct() -> dict:
    @fg.custom_vjp
    def lse(x):
        m = fnp.max(x)
        return m + fnp.log(fnp.sum(fnp.exp(x - m)))

    lse.defvjp(lambda x: (lse(x), (x, lse(x))), lambda res, g: (g * fnp.exp(res[0] - res[1]),))

    def f(y):
        return fnp.sum(lse(y ** 2))

    x = np.array([1.5, 0.7, 1e-10])
    check_grads(f, (x,), modes=("rev",))
    return {"g": fg.grad(f)(x), "h": fg.jacrev(fg.grad(f))(x)}


def a4_direct() -> dict:
    from funcgrad.scipy.stats import multivariate_normal, norm

    rs = np.random.RandomState(0)

    def objective(params):
        mean, log_std = params[:2], params[2:]
        samples = rs.randn(10, 2) * fnp.exp(log_std) + mean
        mu, log_sigma = samples[:, 0], samples[:, 1]
        log_density = norm.logpdf(log_sigma, 0, 1.35) + norm.logpdf(mu, 0, fnp.exp(log_sigma))
        return -(0.5 * 2 * (1.0 + np.log(2 * np.pi)) + fnp.sum(log_std) + fnp.mean(log_density))

    params = np.array([-1.0, -1.0, -5.0, -5.0])
    for _ in range(30):
        params = params - 0.05 * fg.grad(objective)(params)
    v, g = fg.value_and_grad(lambda p: multivariate_normal.logpdf(p[:2], np.zeros(2), np.eye(2) * 2.0))(params)
    return {"params": params, "v": v, "g": g, "eg": fg.elementwise_grad(fnp.tanh)(params),
            "h": fg.hessian(lambda p: fnp.sum(norm.logcdf(p)))(params)}


def j1_direct() -> dict:
    import funcgrad.nn as nn
    import funcgrad.random as fr

    def layer(m, n, key):
        w_key, b_key = fr.split(key)
        return 0.1 * fr.normal(w_key, (n, m)), 0.1 * fr.normal(b_key, (n,))

    def predict(params, x):
        for w, b in params[:-1]:
            x = nn.relu(x @ w.T + b)
        return nn.log_softmax(x @ params[-1][0].T + params[-1][1])

    def loss(params, x, y):
        return -fnp.mean(fnp.sum(predict(params, x) * y, axis=1))

    key, data_key, label_key = fr.split(fr.key(0), 3)
    x = fr.normal(data_key, (32, 8))
    y = nn.one_hot(fr.randint(label_key, (32,), 0, 4), 4)
    params = [layer(m, n, k) for m, n, k in zip([8, 16], [16, 4], fr.split(key, 3))]
    step = fg.jit(lambda p: fg.tree_util.tree_map(lambda a, g: a - 0.1 * g, p, fg.grad(loss)(p, x, y)))
    for _ in range(20):
        params = step(params)
    return {"loss": loss(params, x, y), "w0_row0": params[0][0][0], "b1": params[1][1]}


def j2_direct() -> dict:
    import funcgrad.nn as nn
    import funcgrad.optimizers as optim
    import funcgrad.random as fr
    from funcgrad.example_libraries import stax
    from funcgrad.flatten_util import ravel_pytree

    init_fun, predict = stax.serial(stax.Conv(4, (3, 3), padding="SAME"), stax.Relu, stax.MaxPool((2, 2)),
                                    stax.Flatten, stax.Dense(10), stax.Relu, stax.Dense(3), stax.LogSoftmax)
    _, params = init_fun(fr.key(1), (-1, 6, 6, 1))
    k1, k2 = fr.split(fr.key(2))
    x, y = fr.normal(k1, (16, 6, 6, 1)), nn.one_hot(fr.randint(k2, (16,), 0, 3), 3)

    def loss(p):
        return -fnp.mean(fnp.sum(predict(p, x) * y, axis=1))

    opt = optim.adam(optim.exponential_decay(0.01, 5, 0.9))

    @fg.jit
    def step(p, state):
        updates, state = opt.update(fg.grad(loss)(p), state, p)
        return optim.apply_updates(p, updates), state

    state = opt.init(params)
    for _ in range(10):
        params, state = step(params, state)
    flat = ravel_pytree(params)[0]
    return {"loss": loss(params), "head": flat[:6], "tail": flat[-4:], "sum": flat.sum(), "sumsq": (flat ** 2).sum()}


def j3_direct() -> dict:
    import funcgrad.random as fr
    from funcgrad.scipy.special import logsumexp
    from funcgrad.scipy.stats import norm

    def elbo(params, key, x):
        mu, log_sigma = params["mu"], params["log_sigma"]
        z = mu + fnp.exp(log_sigma) * fr.normal(key, (5,) + mu.shape)
        log_q = fnp.sum(norm.logpdf(z, mu, fnp.exp(log_sigma)), axis=-1)
        log_p = fnp.sum(norm.logpdf(x, z, 1.0), axis=-1) + fnp.sum(norm.logpdf(z), axis=-1)
        return logsumexp(log_p - log_q) - np.log(5.0)

    key, x = fr.key(3), np.array([0.5, -1.2, 2.0])
    params = {"mu": np.zeros(3), "log_sigma": np.zeros(3)}
    for _ in range(15):
        key, sub = fr.split(key)
        value, g = fg.value_and_grad(elbo)(params, sub, x)
        params = {k: params[k] + 0.05 * g[k] for k in params}
    return {"value": value, "mu": params["mu"], "log_sigma": params["log_sigma"]}


def j4_direct() -> dict:
    import funcgrad.random as fr

    def loss(params, x, y):
        return fnp.sum((fnp.tanh(fnp.dot(x, params["w"]) + params["b"]) - y) ** 2)

    def clipped_grad(params, x, y):
        g = fg.grad(loss)(params, x, y)
        total = fnp.sqrt(fnp.sum(g["b"] ** 2) + fnp.sum(g["w"] ** 2))
        return {k: v / fnp.maximum(total, 1.0) for k, v in g.items()}

    k1, k2, k3 = fr.split(fr.key(5), 3)
    x, y = fr.normal(k1, (8, 3)), fr.normal(k2, (8,))
    params = {"w": np.zeros(3), "b": np.zeros(())}
    for _ in range(10):
        k3, sub = fr.split(k3)
        per_example = fg.vmap(clipped_grad, (None, 0, 0))(params, x, y)
        kb, kw = fr.split(sub)  # leaves in sorted-key order: "b", then "w"
        noisy = {"b": (per_example["b"].sum(0) + 0.5 * fr.normal(kb, ())) / 8,
                 "w": (per_example["w"].sum(0) + 0.5 * fr.normal(kw, (3,))) / 8}
        params = {k: params[k] - 0.1 * noisy[k] for k in params}
    return {"w": params["w"], "b": params["b"]}


def j5_direct() -> dict:
    f = lambda x: fnp.sum(fnp.sin(x) ** 2)
    x = np.arange(3.0)
    return {"a": f(x), "b": fg.jit(f)(x), "c": fg.grad(f)(x), "h": fg.hessian(f)(x), "cpu": "cpu"}


AUTOGRAD_PROGRAMS = {"A1": (A1_AUTOGRAD, a1_direct), "A2": (A2_AUTOGRAD, a2_direct), "A3": (A3_AUTOGRAD, a3_direct),
                     "A4": (A4_AUTOGRAD, a4_direct)}
JAX_PROGRAMS = {"J1": (J1_JAX, j1_direct), "J2": (J2_JAX, j2_direct), "J3": (J3_JAX, j3_direct),
                "J4": (J4_JAX, j4_direct), "J5": (J5_JAX, j5_direct)}


@pytest.mark.parametrize("name", sorted(AUTOGRAD_PROGRAMS))
def test_autograd_program_moves_by_its_imports(name):
    source, direct = AUTOGRAD_PROGRAMS[name]
    moved = rewrite_imports(source, "autograd", "funcgrad.compat.autograd")
    assert "import autograd" not in moved and "from autograd" not in moved
    assert_same(run(moved, name), direct())


@pytest.mark.parametrize("name", sorted(AUTOGRAD_PROGRAMS))
def test_autograd_program_matches_autograd_itself(name):
    pytest.importorskip("autograd", reason="autograd is an optional oracle; the test above always runs")
    source, _ = AUTOGRAD_PROGRAMS[name]
    assert_same(run(rewrite_imports(source, "autograd", "funcgrad.compat.autograd"), name), run(source, name))


@pytest.mark.parametrize("name", sorted(JAX_PROGRAMS))
def test_jax_program_moves_by_its_imports_and_gives_jaxs_numbers(name):
    source, direct = JAX_PROGRAMS[name]
    moved = rewrite_imports(source, "jax", "funcgrad")
    assert re.search(r"^\s*(import|from) jax\b", moved, re.M) is None
    got = run(moved, name)
    assert_same(got, JAX_RECORDED[name])
    assert_same(got, direct())


def test_closed_forms_of_two_programs():
    """Independent of both libraries: A3's gradient and Hessian, and J5's values, in closed form."""
    x = np.array([1.5, 0.7, 1e-10])
    got = run(rewrite_imports(A3_AUTOGRAD, "autograd", "funcgrad.compat.autograd"), "A3")
    s = np.exp(x ** 2) / np.exp(x ** 2).sum()
    np.testing.assert_allclose(got["g"], 2 * x * s, rtol=1e-12)
    hess = np.diag(2 * s + 4 * x ** 2 * s) - 4 * np.outer(x * s, x * s)
    np.testing.assert_allclose(got["h"], hess, rtol=1e-10, atol=1e-14)
    j5 = run(rewrite_imports(J5_JAX, "jax", "funcgrad"), "J5")
    v = np.arange(3.0)
    np.testing.assert_allclose(j5["c"], np.sin(2 * v), rtol=1e-14)
    np.testing.assert_allclose(j5["h"], np.diag(2 * np.cos(2 * v)), rtol=1e-14)
