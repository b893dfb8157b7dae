"""The public names of autograd 1.9 and of jax, jax.nn, jax.random and jax.example_libraries
(0.10), kept here as lists (neither library is needed), must all exist in funcgrad's counterparts,
apart from a short list of exclusions, each with its reason. Also: config, disable_jit, the
device helpers, and every documented submodule importable by its dotted path."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp

# --- autograd ------------------------------------------------------------------------------
# Each module's own names (not names it imports from numpy/scipy/typing) minus autograd's internal
# derivative-rule helpers (grad_*, *_vjp, unbroadcast_f, ... : funcgrad's rules live in its primitives).
AUTOGRAD = {
    "": ["builtins", "checkpoint", "core", "deriv", "dict", "differential_operators", "elementwise_grad", "extend",
         "grad", "grad_and_aux", "grad_named", "hessian", "hessian_tensor_product", "hessian_vector_product",
         "holomorphic_grad", "isinstance", "jacobian", "list", "make_ggnvp", "make_hvp", "make_jvp", "make_vjp",
         "multigrad_dict", "numpy", "primitive", "tensor_jacobian_product", "tracer", "tuple", "type", "util",
         "value_and_grad", "vector_jacobian_product", "wrap_util", "scipy", "misc", "test_util"],
    "extend": ["Box", "JVPNode", "SparseObject", "VJPNode", "VSpace", "def_linear", "defjvp", "defjvp_argnum",
               "defjvp_argnums", "defvjp", "defvjp_argnum", "defvjp_argnums", "notrace_primitive", "primitive",
               "register_notrace", "vspace"],
    "misc": ["const_graph", "flatten", "tracers", "optimizers", "fixed_points"],
    "misc.optimizers": ["adam", "rmsprop", "sgd", "unflatten_optimizer"],
    "misc.flatten": ["flatten", "flatten_func"],
    "misc.fixed_points": ["fixed_point"],
    "test_util": ["check_grads", "check_jvp", "check_vjp", "check_equivalent", "combo_check", "scalar_close"],
    "builtins": ["tuple", "list", "dict", "isinstance", "type", "SequenceBox", "DictBox", "tuple_", "list_", "dict_",
                 "isinstance_", "type_"],
    "tracer": ["Box", "getval", "isbox", "notrace_primitive", "primitive", "Node", "trace", "new_box", "toposort"],
    "core": ["make_vjp", "make_jvp", "vspace", "VSpace", "SparseObject", "primitive", "defvjp", "defjvp",
             "defvjp_argnum", "defjvp_argnum", "defvjp_argnums", "defjvp_argnums", "def_linear", "Box", "getval",
             "isbox", "subval", "VJPNode", "JVPNode", "backward_pass"],
    "differential_operators": ["grad", "elementwise_grad", "make_jvp_reversemode", "make_hvp", "make_ggnvp",
                               "grad_named", "multigrad_dict"],
    "wrap_util": ["unary_to_nary", "wraps", "subvals"],
    "util": ["subvals", "subval", "func", "quick_grad_check", "toposort"],
    "numpy": ["sin", "dot", "einsum", "sum", "mean", "exp", "log", "tanh", "where", "concatenate", "stack", "reshape",
              "array", "zeros", "ones", "eye", "linspace", "seterr", "errstate", "float32", "float64", "pi", "inf",
              "newaxis", "ndarray", "random", "linalg", "fft", "logaddexp", "outer", "clip", "maximum", "abs"],
    # the helpers of autograd's numpy_vjps that user-defined primitives import (its per-function rules,
    # grad_np_sum, dot_vjp_0, ..., are left out: funcgrad's rules live in its primitives)
    "numpy.numpy_vjps": ["unbroadcast", "unbroadcast_f", "unbroadcast_einsum", "repeat_to_match_shape", "balanced_eq",
                         "match_complex", "replace_zero", "untake", "wrapped_reshape"],
    "numpy.numpy_wrapper": ["wrap_namespace", "metadata", "array", "sin", "dot"],
    "numpy.numpy_vspaces": ["ArrayVSpace", "ComplexArrayVSpace"],
    "numpy.numpy_boxes": ["ArrayBox"],
    "numpy.random": ["seed", "RandomState", "randn", "rand", "normal", "uniform", "choice", "permutation",
                     "default_rng", "randint", "shuffle"],
    "numpy.linalg": ["cholesky", "det", "eig", "eigh", "inv", "norm", "pinv", "qr", "slogdet", "solve", "svd",
                     "matrix_power", "tensorsolve", "tensorinv", "eigvalsh", "lstsq"],
    "numpy.fft": ["fft", "fft2", "fftn", "ifft", "ifft2", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn",
                  "irfftn", "fftshift", "ifftshift", "fftfreq", "rfftfreq", "hfft", "ihfft"],
    "scipy": ["special", "stats", "signal", "linalg", "integrate", "misc"],
    "scipy.special": ["beta", "betainc", "betaln", "digamma", "erf", "erfc", "erfcinv", "erfinv", "expit", "gamma",
                      "gammainc", "gammaincc", "gammaln", "gammasgn", "i0", "i1", "iv", "ive", "j0", "j1", "jn",
                      "logit", "logsumexp", "multigammaln", "polygamma", "psi", "rgamma", "y0", "y1", "yn"],
    "scipy.stats": ["beta", "chi2", "dirichlet", "gamma", "multivariate_normal", "norm", "poisson", "t"],
    "scipy.stats.norm": ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"],
    "scipy.stats.t": ["cdf", "logcdf", "logpdf", "pdf"],
    "scipy.stats.gamma": ["cdf", "logpdf", "pdf"],
    "scipy.stats.beta": ["cdf", "logpdf", "pdf"],
    "scipy.stats.chi2": ["cdf", "logpdf", "pdf"],
    "scipy.stats.poisson": ["cdf", "logpmf", "pmf"],
    "scipy.stats.multivariate_normal": ["entropy", "logpdf", "pdf"],
    "scipy.stats.dirichlet": ["logpdf", "pdf", "rvs"],
    "scipy.signal": ["convolve"],
    "scipy.linalg": ["cholesky", "cho_factor", "cho_solve", "solve_triangular", "sqrtm", "solve_sylvester", "expm",
                     "det", "inv", "solve", "eigh", "svd", "qr", "norm", "block_diag", "toeplitz"],
    "scipy.integrate": ["odeint"],
    "scipy.misc": ["logsumexp"],
}

AUTOGRAD_EXCLUDED = {
    # autograd's graph-tracing machinery: funcgrad traces with its own traces; no user code needs these.
    "extend.JVPNode": "autograd tracing internals", "extend.VJPNode": "autograd tracing internals",
    "extend.register_notrace": "autograd tracing internals", "tracer.Node": "autograd tracing internals",
    "tracer.trace": "autograd tracing internals", "tracer.new_box": "autograd tracing internals",
    "tracer.toposort": "autograd tracing internals", "util.toposort": "autograd tracing internals",
    "misc.tracers": "autograd tracing internals",
    "misc.const_graph": "caches autograd's graph for repeated calls; funcgrad.jit is the counterpart",
    "core.VJPNode": "autograd tracing internals", "core.JVPNode": "autograd tracing internals",
    "core.backward_pass": "autograd tracing internals",
    # autograd's own test helpers for its test suite (check_grads is the public one)
    "test_util.check_equivalent": "autograd test-suite helper", "test_util.combo_check": "autograd test-suite helper",
    "test_util.scalar_close": "autograd test-suite helper",
    "util.quick_grad_check": "deprecated in autograd (prints instead of checking); use test_util.check_grads",
}

# --- JAX -----------------------------------------------------------------------------------
JAX = {
    "funcgrad": [
        "Array", "Device", "ShapeDtypeStruct", "block_until_ready", "checkpoint", "config", "custom_jvp", "custom_vjp",
        "default_backend", "device_count", "device_get", "device_put", "devices", "disable_jit", "enable_x64",
        "eval_shape", "example_libraries", "grad", "hessian", "jacfwd", "jacobian", "jacrev", "jit", "jvp", "lax",
        "linear_transpose", "linearize", "local_device_count", "local_devices", "make_jaxpr", "named_call",
        "named_scope", "nn", "numpy", "process_count", "process_index", "random", "remat", "scipy", "tree",
        "tree_util", "value_and_grad", "vjp", "vmap", "errors", "custom_gradient", "debug", "ops",
        "pure_callback", "closure_convert", "checkpoint_policies", "image",
    ],
    "funcgrad.image": ["ResizeMethod", "resize", "scale_and_translate"],
    "funcgrad.nn": [
        "celu", "dot_product_attention", "elu", "gelu", "get_scaled_dot_general_config", "glu", "hard_sigmoid",
        "hard_silu", "hard_swish", "hard_tanh", "identity", "initializers", "leaky_relu", "log1mexp", "log_sigmoid",
        "log_softmax", "logmeanexp", "logsumexp", "mish", "one_hot", "relu", "relu6", "scaled_dot_general",
        "scaled_matmul", "selu", "sigmoid", "silu", "soft_sign", "softmax", "softplus", "sparse_plus",
        "sparse_sigmoid", "squareplus", "standardize", "swish", "tanh",
    ],
    "funcgrad.nn.initializers": [
        "Initializer", "constant", "delta_orthogonal", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
        "kaiming_normal", "kaiming_uniform", "lecun_normal", "lecun_uniform", "normal", "ones", "orthogonal",
        "truncated_normal", "uniform", "variance_scaling", "xavier_normal", "xavier_uniform", "zeros",
    ],
    "funcgrad.random": [
        "PRNGKey", "ball", "bernoulli", "beta", "binomial", "bits", "categorical", "cauchy", "chisquare", "choice",
        "clone", "dirichlet", "double_sided_maxwell", "exponential", "f", "fold_in", "gamma", "generalized_normal",
        "geometric", "gumbel", "key", "key_data", "key_dtype", "key_impl", "laplace", "loggamma", "logistic",
        "lognormal", "maxwell", "multinomial", "multivariate_normal", "normal", "orthogonal", "pareto", "permutation",
        "poisson", "rademacher", "randint", "random_gamma_p", "rayleigh", "split", "t", "triangular",
        "truncated_normal", "uniform", "wald", "weibull_min", "wrap_key_data",
    ],
    "funcgrad.example_libraries": ["optimizers", "stax"],
    "funcgrad.tree_util": [
        "DictKey", "FlattenedIndexKey", "GetAttrKey", "KeyEntry", "KeyPath", "Partial", "PyTreeDef", "SequenceKey",
        "all_leaves", "default_registry", "flatten_one_level", "flatten_one_level_with_keys", "is_tree_node", "keystr",
        "register_dataclass", "register_pytree_node", "register_pytree_node_class", "register_pytree_with_keys",
        "register_pytree_with_keys_class", "register_static", "tree_all", "tree_broadcast", "tree_flatten",
        "tree_flatten_with_path", "tree_leaves", "tree_leaves_with_path", "tree_map", "tree_map_with_path",
        "tree_reduce", "tree_reduce_associative", "tree_structure", "tree_transpose", "tree_unflatten",
        "treedef_children", "treedef_is_leaf", "treedef_tuple",
    ],
    "funcgrad.test_util": ["check_grads", "check_jvp", "check_vjp"],
    "funcgrad.tree": ["all", "broadcast", "flatten", "flatten_with_path", "leaves", "leaves_with_path", "map",
                      "map_with_path", "reduce", "reduce_associative", "static", "structure", "transpose", "unflatten"],
    "funcgrad.example_libraries.stax": [
        "AvgPool", "BatchNorm", "Conv", "Conv1DTranspose", "ConvTranspose", "Dense", "Dropout", "Elu", "Exp",
        "FanInConcat", "FanInSum", "FanOut", "Flatten", "Gelu", "GeneralConv", "GeneralConvTranspose", "Identity",
        "LeakyRelu", "LogSoftmax", "MaxPool", "Relu", "Selu", "Sigmoid", "Softmax", "Softplus", "SumPool", "Tanh",
        "elementwise", "elu", "gelu", "glorot", "glorot_normal", "leaky_relu", "log_softmax", "logsoftmax", "normal",
        "ones", "parallel", "randn", "relu", "selu", "serial", "shape_dependent", "sigmoid", "softmax", "softplus",
        "standardize", "zeros",
    ],
    "funcgrad.example_libraries.optimizers": [
        "JoinPoint", "Optimizer", "OptimizerState", "adagrad", "adam", "adamax", "clip_grads", "constant",
        "exponential_decay", "inverse_time_decay", "l2_norm", "make_schedule", "momentum", "nesterov", "optimizer",
        "pack_optimizer_state", "piecewise_constant", "polynomial_decay", "rmsprop", "rmsprop_momentum", "sgd", "sm3",
        "unpack_optimizer_state", "Array", "InitFn", "Params", "ParamsFn", "State", "Step", "UpdateFn", "Updates",
    ],
}

# jax's top-level names that are not on the list above, and why (grouped by reason):
JAX_TOP_LEVEL_NOT_PROVIDED = {
    "devices, sharding and multi-process (funcgrad computes with NumPy in one process; CuPy/Dask arrays bring "
    "their own devices)": [
        "NamedSharding", "P", "Shard", "sharding", "make_mesh", "set_mesh", "reshard", "shard_map", "smap", "pmap",
        "distributed", "default_device", "copy_to_host_async", "make_array_from_callback",
        "make_array_from_process_local_data", "make_array_from_single_device_arrays", "live_arrays",
        "process_indices", "host_count", "host_id", "host_ids", "transfer_guard", "transfer_guard_device_to_device",
        "transfer_guard_device_to_host", "transfer_guard_host_to_device", "dlpack", "memory", "auto_pcast",
        "remove_size_one_mesh_axis_from_type", "typeof",
    ],
    "XLA and JAX-internal configuration and debugging switches (see funcgrad.config for the accepted flags)": [
        "allow_f16_reductions", "array_garbage_collection_guard", "check_tracer_leaks", "checking_leaks",
        "debug_infs", "debug_nans", "debug_key_reuse", "default_matmul_precision", "default_prng_impl",
        "enable_checks", "enable_custom_prng", "explain_cache_misses", "legacy_prng_key", "log_compiles",
        "numpy_dtype_promotion", "numpy_rank_promotion", "softmax_custom_jvp", "threefry_partitionable",
        "jax2tf_associative_scan_reductions", "thread_guard", "make_user_context", "no_execution", "no_tracing",
        "print_environment_info", "effects_barrier", "clear_caches", "ensure_compile_time_eval",
    ],
    "JAX's internals and extension APIs (interpreters, XLA FFI, export/serialisation, profiling)": [
        "ad", "api_util", "core", "interpreters", "lib", "ffi", "export", "stages", "profiler", "monitoring",
        "custom_batching", "custom_derivatives", "dtypes", "typing", "version", "experimental", "float0",
        "fwd_and_bwd", "ds",
    ],
    "mutable array references (JAX's experimental stateful arrays)": ["Ref", "ref", "new_ref", "empty_ref",
                                                                     "free_ref", "freeze"],
}

JAX_EXCLUDED = {
    # low-precision (fp8/mx) matmul configuration for accelerators; NumPy has no such dtypes
    "funcgrad.nn.get_scaled_dot_general_config": "accelerator low-precision matmul",
    "funcgrad.nn.scaled_dot_general": "accelerator low-precision matmul",
    "funcgrad.nn.scaled_matmul": "accelerator low-precision matmul",
    # the primitive object behind jax.random.gamma (an implementation detail, not an API)
    "funcgrad.random.random_gamma_p": "JAX primitive object",
    # jaxlib's C++ registry object (funcgrad's registry is a private dict; register_* are the API)
    "funcgrad.tree_util.default_registry": "jaxlib registry object",
}

# Names that another part of issue 15 / issue 11 adds (funcgrad.random is H-random's); missing ones
# here are reported as gaps, not hidden: the report lists which are still missing.
PENDING_OTHER_OWNERS: dict[str, list[str]] = {}  # funcgrad.random has every name of jax.random now


def _missing(module_name, names):
    module = importlib.import_module(module_name)
    return [n for n in names if not hasattr(module, n)]


# Every module of autograd 1.9 (pkgutil.walk_packages): importable by the same dotted path under
# funcgrad.compat.autograd, unless listed here with its reason.
AUTOGRAD_MODULES = [
    "builtins", "core", "differential_operators", "extend", "misc", "misc.fixed_points", "misc.flatten",
    "misc.optimizers", "misc.tracers", "numpy", "numpy.fft", "numpy.linalg", "numpy.numpy_boxes", "numpy.numpy_jvps",
    "numpy.numpy_vjps", "numpy.numpy_vspaces", "numpy.numpy_wrapper", "numpy.random", "scipy", "scipy.integrate",
    "scipy.linalg", "scipy.signal", "scipy.special", "scipy.stats", "scipy.stats.beta", "scipy.stats.chi2",
    "scipy.stats.dirichlet", "scipy.stats.gamma", "scipy.stats.multivariate_normal", "scipy.stats.norm",
    "scipy.stats.poisson", "scipy.stats.t", "test_util", "tracer", "util", "wrap_util",
]
AUTOGRAD_MODULES_EXCLUDED = {
    "misc.tracers": "autograd's graph tracers (const_graph, full_graph): funcgrad.jit/make_trace are the counterparts",
    "numpy.numpy_jvps": "autograd's per-function forward-mode rules only: funcgrad's rules live in its primitives",
}


@pytest.mark.parametrize("sub", AUTOGRAD_MODULES)
def test_every_autograd_module_imports_by_its_dotted_path(sub):
    if sub in AUTOGRAD_MODULES_EXCLUDED:
        with pytest.raises(ImportError):
            importlib.import_module(f"funcgrad.compat.autograd.{sub}")
    else:
        assert importlib.import_module(f"funcgrad.compat.autograd.{sub}").__name__.endswith(sub)


@pytest.mark.parametrize("sub", sorted(AUTOGRAD))
def test_autograd_names_exist(sub):
    module_name = "funcgrad.compat.autograd" + (f".{sub}" if sub else "")
    missing = [n for n in _missing(module_name, AUTOGRAD[sub]) if f"{sub}.{n}".lstrip(".") not in AUTOGRAD_EXCLUDED]
    assert not missing, f"{module_name} lacks autograd's {missing}"


def test_autograd_exclusions_are_really_missing_or_listed():
    for dotted in AUTOGRAD_EXCLUDED:
        sub, _, name = dotted.rpartition(".")
        assert name in AUTOGRAD[sub], dotted


@pytest.mark.parametrize("module_name", sorted(JAX))
def test_jax_names_exist(module_name):
    pending = PENDING_OTHER_OWNERS.get(module_name, [])
    missing = [n for n in _missing(module_name, JAX[module_name])
               if f"{module_name}.{n}" not in JAX_EXCLUDED and n not in pending]
    assert not missing, f"{module_name} lacks JAX's {missing}"


JAX_TOP_LEVEL = [  # dir(jax) of jax 0.10.2 (with jax.example_libraries imported), public names
    "Array", "Device", "NamedSharding", "P", "Ref", "ShapeDtypeStruct", "Shard", "ad", "allow_f16_reductions",
    "api_util", "array_garbage_collection_guard", "auto_pcast", "block_until_ready", "check_tracer_leaks",
    "checking_leaks", "checkpoint", "checkpoint_policies", "clear_caches", "closure_convert", "config",
    "copy_to_host_async", "core", "custom_batching", "custom_derivatives", "custom_gradient", "custom_jvp",
    "custom_vjp", "debug", "debug_infs", "debug_key_reuse", "debug_nans", "default_backend", "default_device",
    "default_matmul_precision", "default_prng_impl", "device_count", "device_get", "device_put", "devices",
    "disable_jit", "distributed", "dlpack", "ds", "dtypes", "effects_barrier", "empty_ref", "enable_checks",
    "enable_custom_prng", "enable_x64", "ensure_compile_time_eval", "errors", "eval_shape", "example_libraries",
    "experimental", "explain_cache_misses", "export", "ffi", "float0", "free_ref", "freeze", "fwd_and_bwd", "grad",
    "hessian", "host_count", "host_id", "host_ids", "image", "interpreters", "jacfwd", "jacobian", "jacrev",
    "jax2tf_associative_scan_reductions", "jit", "jvp", "lax", "legacy_prng_key", "lib", "linear_transpose",
    "linearize", "live_arrays", "local_device_count", "local_devices", "log_compiles", "make_array_from_callback",
    "make_array_from_process_local_data", "make_array_from_single_device_arrays", "make_jaxpr", "make_mesh",
    "make_user_context", "memory", "monitoring", "named_call", "named_scope", "new_ref", "nn", "no_execution",
    "no_tracing", "numpy", "numpy_dtype_promotion", "numpy_rank_promotion", "ops", "pmap", "print_environment_info",
    "process_count", "process_index", "process_indices", "profiler", "pure_callback", "random", "ref", "remat",
    "remove_size_one_mesh_axis_from_type", "reshard", "scipy", "set_mesh", "shard_map", "sharding", "smap",
    "softmax_custom_jvp", "stages", "thread_guard", "threefry_partitionable", "transfer_guard",
    "transfer_guard_device_to_device", "transfer_guard_device_to_host", "transfer_guard_host_to_device", "tree",
    "tree_util", "typeof", "typing", "value_and_grad", "version", "vjp", "vmap",
]


def test_jax_top_level_list_is_complete():
    """Every public name of jax's top level is either provided (checked above) or listed with a reason."""
    not_provided = [n for names in JAX_TOP_LEVEL_NOT_PROVIDED.values() for n in names]
    assert len(not_provided) == len(set(not_provided))
    assert set(JAX["funcgrad"]).isdisjoint(not_provided)
    assert set(JAX["funcgrad"]) | set(not_provided) == set(JAX_TOP_LEVEL)


def test_every_submodule_imports_by_dotted_path():
    paths = [
        "funcgrad.numpy", "funcgrad.numpy.linalg", "funcgrad.numpy.fft", "funcgrad.scipy", "funcgrad.scipy.special",
        "funcgrad.scipy.stats", "funcgrad.scipy.stats.norm", "funcgrad.scipy.stats.t", "funcgrad.scipy.stats.gamma",
        "funcgrad.scipy.stats.beta", "funcgrad.scipy.stats.chi2", "funcgrad.scipy.stats.poisson",
        "funcgrad.scipy.stats.multivariate_normal", "funcgrad.scipy.stats.dirichlet", "funcgrad.scipy.linalg",
        "funcgrad.scipy.signal", "funcgrad.scipy.integrate", "funcgrad.lax", "funcgrad.tree_util", "funcgrad.tree",
        "funcgrad.nn", "funcgrad.nn.initializers", "funcgrad.example_libraries", "funcgrad.example_libraries.stax",
        "funcgrad.example_libraries.optimizers", "funcgrad.random", "funcgrad.config", "funcgrad.image",
        "funcgrad.compat.autograd.scipy.stats.norm", "funcgrad.compat.autograd.numpy.random",
    ]
    for path in paths:
        module = importlib.import_module(path)
        assert module is not None, path
    import funcgrad.scipy.stats.norm as norm

    assert float(norm.logpdf(0.0)) == pytest.approx(-0.5 * np.log(2 * np.pi), rel=1e-15)
    from funcgrad.scipy.stats.multivariate_normal import logpdf

    assert float(logpdf(np.zeros(2), np.zeros(2), np.eye(2))) == pytest.approx(-np.log(2 * np.pi), rel=1e-15)


def test_import_funcgrad_stays_light():
    import subprocess
    import sys

    code = ("import sys, funcgrad; heavy = [m for m in ('funcgrad.nn', 'funcgrad.example_libraries', "
            "'funcgrad.compat', 'funcgrad._devices', 'funcgrad.compat.autograd') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_config_update_accepts_known_and_rejects_unknown_flags():
    fg.config.update("jax_enable_x64", True)
    assert fg.config.jax_enable_x64 is True and fg.config.read("jax_enable_x64") is True
    with pytest.warns(UserWarning, match="NumPy's dtypes"):
        fg.config.update("jax_enable_x64", False)
    fg.config.update("jax_enable_x64", True)
    fg.config.update("jax_platform_name", "cpu")
    with pytest.raises(ValueError, match="no flag 'jax_debug_nans'.*Accepted flags"):
        fg.config.update("jax_debug_nans", True)
    with pytest.raises(ValueError, match="platform"):
        fg.config.update("jax_platform_name", "gpu")
    with pytest.raises(TypeError, match="True or False"):
        fg.config.update("jax_disable_jit", "yes")
    with pytest.raises(AttributeError):
        fg.config.jax_unknown_flag  # noqa: B018


def test_jit_accepts_jaxs_buffer_and_placement_options():
    x = np.array([1.0, 2.0])
    step = fg.jit(lambda p, g: p - 0.5 * g, donate_argnums=(0,), keep_unused=True, inline=True, device=None)
    np.testing.assert_array_equal(step(x, np.ones(2)), [0.5, 1.5])
    np.testing.assert_array_equal(x, [1.0, 2.0])  # a "donated" NumPy argument stays valid
    decorated = fg.jit(donate_argnames="p", in_shardings=None, out_shardings=None, compiler_options={})(
        lambda p: p * 3.0)
    np.testing.assert_array_equal(decorated(x), [3.0, 6.0])
    with pytest.raises(TypeError, match="donate_argnum'"):
        fg.jit(lambda p: p, donate_argnum=0)


def test_tree_util_one_level_associative_static_and_keyed_classes():
    import dataclasses

    tu = fg.tree_util
    assert tu.flatten_one_level({"a": [1, 2], "b": {"c": 3}}) == (([1, 2], {"c": 3}), ("a", "b"))
    assert tu.flatten_one_level_with_keys({"a": [1, 2], "b": 3}) == (
        ((tu.DictKey("a"), [1, 2]), (tu.DictKey("b"), 3)), ("a", "b"))
    with pytest.raises(ValueError, match="can't tree-flatten"):
        tu.flatten_one_level(1.0)
    assert (tu.is_tree_node(list), tu.is_tree_node(type(None)), tu.is_tree_node(float)) == (True, True, False)
    # the grouping is JAX's (recorded from jax.tree_util.tree_reduce_associative)
    pair = lambda a, b: (a, b)
    assert tu.tree_reduce_associative(pair, [1, 2, 3, 4, 5]) == ((1, 2), (3, (4, 5)))
    assert fg.tree.reduce_associative(pair, [1, 2, 3, 4, 5, 6, 7]) == ((1, (2, 3)), ((4, 5), (6, 7)))
    assert tu.tree_reduce_associative(pair, [], identity=0) == 0
    with pytest.raises(TypeError, match="identity"):
        tu.tree_reduce_associative(pair, [])

    @tu.register_dataclass
    @dataclasses.dataclass
    class Op:
        x: np.ndarray
        name: str = fg.tree.static(default="add")

    leaves, treedef = tu.tree_flatten(Op(np.ones(2)))
    assert len(leaves) == 1 and tu.tree_unflatten(treedef, [np.zeros(2)]).name == "add"
    assert tu.tree_structure(Op(np.ones(2), "mul")) != treedef

    @tu.register_pytree_with_keys_class
    class Scaled:
        def __init__(self, x, scale):
            self.x, self.scale = x, scale

        def tree_flatten_with_keys(self):
            return ((tu.GetAttrKey("x"), self.x),), self.scale

        @classmethod
        def tree_unflatten(cls, scale, children):
            return cls(children[0], scale)

    [(path, leaf)] = tu.tree_leaves_with_path(Scaled(2.0, 3))
    assert tu.keystr(path) == ".x" and leaf == 2.0
    assert fg.grad(lambda s: s.x * s.scale)(Scaled(2.0, 3)).x == 3.0
    with pytest.raises(TypeError, match="tree_flatten_with_keys"):
        tu.register_pytree_with_keys_class(type("NoMethods", (), {}))


def test_holomorphic_jacobians_and_linearize_with_aux():
    z = np.array([1 + 2j, 0.5 - 1j])
    for jac in (fg.jacfwd(lambda v: v ** 3, holomorphic=True), fg.jacrev(lambda v: v ** 3, holomorphic=True),
                fg.jacobian(lambda v: v ** 3, 0, False, True)):
        np.testing.assert_allclose(jac(z), np.diag(3 * z ** 2), rtol=1e-14)
    np.testing.assert_allclose(fg.hessian(lambda v: fnp.sum(v ** 3), holomorphic=True)(z), np.diag(6 * z), rtol=1e-14)
    with pytest.raises(TypeError, match="holomorphic=True"):
        fg.jacfwd(lambda v: v ** 2, holomorphic=True)(np.ones(2))
    y, f_jvp, aux = fg.linearize(lambda x: (fnp.sin(x), {"n": 1}), np.array(0.5), has_aux=True)
    assert aux == {"n": 1} and float(y) == pytest.approx(np.sin(0.5), rel=1e-15)
    assert float(f_jvp(np.array(2.0))) == pytest.approx(2.0 * np.cos(0.5), rel=1e-15)
    with pytest.raises(TypeError, match="pair"):
        fg.linearize(fnp.sin, np.array(0.5), has_aux=True)


def test_test_util_check_jvp_and_check_vjp():
    import functools

    from funcgrad.test_util import check_jvp, check_vjp

    f = lambda x, y: {"a": fnp.sin(x) * y, "b": fnp.sum(x ** 2)}
    args = (np.array([0.5, 1.0]), np.array([2.0, -1.0]))
    check_jvp(f, functools.partial(fg.jvp, f), args)
    check_vjp(f, functools.partial(fg.vjp, f), args)
    wrong = fg.custom_jvp(fnp.sin)
    wrong.defjvp(lambda p, t: (fnp.sin(p[0]), 2.0 * fnp.cos(p[0]) * t[0]))  # twice the derivative
    with pytest.raises(AssertionError, match="check_jvp"):
        check_jvp(wrong, functools.partial(fg.jvp, wrong), args[:1])
    with pytest.raises(AssertionError, match="check_vjp"):
        check_vjp(wrong, functools.partial(fg.vjp, wrong), args[:1], err_msg="sin")


def test_disable_jit_runs_functions_eagerly():
    seen = []

    @fg.jit
    def f(x):
        seen.append(type(x))
        return x * 2

    x = np.ones(2)
    f(x)
    f(x)
    assert len(seen) == 1 and seen[0] is not np.ndarray  # traced once, then cached
    with fg.disable_jit():
        np.testing.assert_array_equal(f(x), [2.0, 2.0])
        f(x)
    assert seen[1:] == [np.ndarray, np.ndarray]
    f(x)
    assert len(seen) == 3  # compiled again outside
    fg.config.update("jax_disable_jit", True)
    try:
        f(x)
    finally:
        fg.config.update("jax_disable_jit", False)
    assert seen[-1] is np.ndarray
    with fg.disable_jit(False):
        f(x)
    assert len(seen) == 4
    # grad of a jitted function under disable_jit still differentiates
    with fg.disable_jit():
        assert float(fg.grad(fg.jit(lambda v: (v ** 2).sum()))(np.array(3.0))) == 6.0


def test_device_helpers():
    assert fg.devices() == [fg.Device()] and repr(fg.devices()[0]) == "CpuDevice(id=0)"
    assert fg.default_backend() == "cpu" and fg.device_count() == 1 and fg.local_device_count() == 1
    x = np.arange(3.0)
    assert fg.device_put(x) is x and fg.device_get(x) is x and fg.block_until_ready(x) is x
    tree = fg.device_put({"a": [1.0, 2], "b": 3.0}, fg.devices()[0])
    assert type(tree["a"][0]) is np.ndarray and tree["b"].dtype == np.float64
    np.testing.assert_array_equal(fg.device_get(tree)["a"][1], 2)
    with pytest.raises(ValueError, match="devices"):
        fg.device_put(x, "gpu:0")
    with pytest.raises(ValueError, match="cpu"):
        fg.devices("gpu")
    with pytest.raises(TypeError, match="traced value"):
        fg.grad(lambda v: fg.device_get(v).sum())(x)


def test_device_helpers_follow_the_arrays_library():
    """Dask arrays are computed by device_get and persisted by block_until_ready, never converted by
    device_put (a stand-in class with Dask's module name and methods, so Dask is not needed)."""
    calls = []

    class LazyArray:
        __module__ = "dask.array.core"

        def compute(self):
            calls.append("compute")
            return np.ones(2)

        def persist(self):
            calls.append("persist")
            return self

    x = LazyArray()
    assert fg.device_put(x) is x and calls == []
    np.testing.assert_array_equal(fg.device_get({"x": x})["x"], np.ones(2))
    assert fg.block_until_ready(x) is x and calls == ["compute", "persist"]


def test_small_jax_helpers():
    s = fg.eval_shape(lambda a, b: (a @ b, a.sum()), np.ones((2, 3)), fg.ShapeDtypeStruct((3, 5), np.float32))
    assert [(v.shape, v.dtype) for v in s] == [((2, 5), np.float64), ((), np.float64)]
    (ct,) = fg.linear_transpose(lambda v: 2.0 * v[:2], np.ones(3))(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(ct, [2.0, 4.0, 0.0])
    assert "sin" in str(fg.make_jaxpr(np.sin)(np.ones(2)))
    assert fg.named_call(np.sin, name="s") is np.sin
    with fg.named_scope("block"), fg.enable_x64():
        pass
    assert fg.tree.map(lambda v: v + 1, [1, (2,)]) == [2, (3,)] and fg.tree.leaves({"a": 1, "b": 2}) == [1, 2]
    assert isinstance(np.ones(2), fg.Array)
    np.testing.assert_allclose(fg.jacobian(np.sin)(np.zeros(2)), np.eye(2))


def test_segment_reductions_ops():
    import funcgrad.ops as ops

    data = np.arange(8.0).reshape(4, 2)
    ids = np.array([1, 3, 1, -1])  # -1 and 3 (>= num_segments) are dropped, as in JAX
    np.testing.assert_array_equal(ops.segment_sum(data, ids, 3), [[0, 0], [4, 6], [0, 0]])
    np.testing.assert_array_equal(ops.segment_prod(data, ids, 2), [[1, 1], [0, 5]])
    np.testing.assert_array_equal(ops.segment_max(data, ids, 2), [[-np.inf, -np.inf], [4, 5]])
    np.testing.assert_array_equal(ops.segment_min(data, ids, 2), [[np.inf, np.inf], [0, 1]])
    np.testing.assert_array_equal(ops.segment_sum(np.ones(3), np.array([0, 2, 2])), [1, 0, 2])
    # derivatives: sum spreads the cotangent, max sends it to the maximum
    ct = np.array([[0.0, 0.0], [1.0, 2.0]])
    g = fg.grad(lambda d: fnp.sum(ops.segment_sum(d, ids, 2) * ct))(data)
    np.testing.assert_array_equal(g, [[1, 2], [0, 0], [1, 2], [0, 0]])
    g = fg.grad(lambda d: fnp.sum(ops.segment_max(d, ids, 2)[1] * ct[1]))(data)
    np.testing.assert_array_equal(g, [[0, 0], [0, 0], [1, 2], [0, 0]])
    check_ids = np.array([0, 1, 1, 0])
    from funcgrad.test_util import check_grads

    check_grads(lambda d: ops.segment_sum(d, check_ids, 2), (data,), order=2)
    # traced ids under jit and vmap
    np.testing.assert_array_equal(fg.jit(lambda i: ops.segment_sum(data, i, 3))(ids), ops.segment_sum(data, ids, 3))
    batched = fg.vmap(lambda i: ops.segment_sum(data, i, 2))(np.array([[0, 1, 1, 0], [1, 1, 0, 0]]))
    np.testing.assert_array_equal(batched[1], [[10, 12], [2, 4]])
    with pytest.raises(ValueError, match="num_segments must be given"):
        fg.jit(lambda i: ops.segment_sum(data, i))(ids)


def test_debug_print_and_custom_gradient(capsys):
    fg.grad(lambda x: (fg.debug.print("x={} y={y}", x, y=x * 2), x ** 2)[1])(3.0)
    assert capsys.readouterr().out == "x=3.0 y=6.0\n"
    with pytest.raises(TypeError, match="disable_jit"):
        fg.jit(lambda x: fg.debug.print("{}", x))(np.ones(2))
    with fg.disable_jit():
        fg.jit(lambda x: fg.debug.print("{}", x.sum()))(np.ones(2))
    assert capsys.readouterr().out == "2.0\n"

    @fg.custom_gradient
    def clipped_square(x):
        return x ** 2, lambda g: (fnp.clip(g * 2 * x, -1.0, 1.0),)

    assert float(clipped_square(3.0)) == 9.0
    assert float(fg.grad(clipped_square)(3.0)) == 1.0 and float(fg.grad(clipped_square)(0.25)) == 0.5

    @fg.custom_gradient
    def scaled(a, b):
        return a * b, lambda g: (g * 10.0, g * 20.0)

    assert fg.grad(lambda a, b: scaled(a, b), argnums=(0, 1))(1.0, 2.0) == (10.0, 20.0)


def test_pure_callback_eager_jit_vmap_and_no_derivative():
    calls = []

    def sort(x):
        calls.append(type(x))
        return np.sort(x)

    spec = fg.ShapeDtypeStruct((3,), np.float64)
    f = fg.jit(lambda x: fg.pure_callback(sort, spec, x) * 2)
    np.testing.assert_array_equal(f(np.array([3.0, 1.0, 2.0])), [2, 4, 6])
    np.testing.assert_array_equal(f(np.array([0.0, -1.0, 5.0])), [-2, 0, 10])
    assert calls == [np.ndarray, np.ndarray]  # runs when the compiled function runs, on NumPy arrays
    rows = np.array([[3.0, 1.0, 2.0], [0.0, -1.0, 5.0]])
    np.testing.assert_array_equal(fg.vmap(lambda x: fg.pure_callback(sort, spec, x))(rows), np.sort(rows, axis=1))
    out = fg.pure_callback(lambda a, b: {"s": a + b}, {"s": fg.ShapeDtypeStruct((), np.float32)}, 1.0, b=2.0)
    assert out["s"].dtype == np.float32 and float(out["s"]) == 3.0
    with pytest.raises(TypeError, match="no derivative"):
        fg.grad(lambda x: fg.pure_callback(sort, spec, x).sum())(np.ones(3))
    with pytest.raises(TypeError, match="shape"):
        fg.pure_callback(lambda x: x[:2], spec, np.ones(3))
