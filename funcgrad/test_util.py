"""Numerical checks of derivatives: :func:`check_grads`.

Forward mode (jvp) is compared against central finite differences along a random direction;
reverse mode (vjp) is compared through the identity ⟨ct, J·t⟩ = ⟨Jᵀ·ct, t⟩ against the same
finite difference; and jvp and vjp are checked against each other to near machine precision.
Higher orders repeat the check on the jvp and the pullback themselves.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .api import jvp, vjp
from .tree_util import tree_flatten, tree_unflatten

__all__ = ["check_grads", "check_jvp", "check_vjp", "numerical_jvp"]


def _leaves(tree: Any) -> list:
    """The leaves as arrays; a float0 leaf (the derivative of an integer value) as float zeros."""
    return [_no_float0(np.asarray(v)) for v in tree_flatten(tree)[0]]


def _no_float0(v: np.ndarray) -> np.ndarray:
    return np.zeros(v.shape) if v.dtype.kind == "V" else v


def _default_eps(args: Sequence[Any]) -> float:
    kinds = {np.asarray(a).dtype for a in tree_flatten(list(args))[0]}
    return 1e-3 if any(k in (np.float16, np.float32, np.complex64) for k in kinds) else 1e-6


_LOW_PRECISION = (np.float16, np.float32, np.complex64)


def _default_tol(args: Sequence[Any]) -> float:
    kinds = {np.asarray(a).dtype for a in tree_flatten(list(args))[0]}
    return 2e-2 if any(k in _LOW_PRECISION for k in kinds) else 1e-5


def _leaf_tol(tol: float, explicit: bool, got: np.ndarray, want: np.ndarray) -> float:
    """The tolerance for one compared output leaf. As in JAX, a low-precision leaf's default
    tolerance grows with its number of elements (2e-3 per element, and at least ``tol``): rounding
    errors of float32 finite differences add up over large arrays. Given tolerances are used as is."""
    if explicit or np.asarray(got).dtype not in _LOW_PRECISION:
        return tol
    return max(tol, 2e-3 * np.size(want))


def _abs_diff(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """|got - want|, where NaNs in the same places and equal infinities agree (difference 0)."""
    got, want = np.asarray(got), np.asarray(want)
    with np.errstate(invalid="ignore"):
        same = (got == want) | (np.isnan(got) & np.isnan(want))
        return np.where(same, 0.0, np.abs(got - want))


def _both_nan(a: float, b: float) -> bool:
    return bool(np.isnan(a) and np.isnan(b))


def _inner(a: Any, b: Any) -> float:
    """The real pairing Re(sum(a * b)) under which vjp is the transpose of jvp (no conjugation:
    funcgrad follows JAX's convention for complex numbers)."""
    total = 0.0
    for x, y in zip(_leaves(a), _leaves(b)):
        x = x.astype(np.complex128 if x.dtype.kind == "c" else np.float64)
        y = y.astype(np.complex128 if y.dtype.kind == "c" else np.float64)
        total += float(np.real(np.sum(x * y)))
    return total


def _axpy(alpha: float, t: Any, x: Any) -> Any:
    leaves, treedef = tree_flatten(x)
    t_leaves = tree_flatten(t)[0]
    return tree_unflatten(treedef, [
        (np.asarray(xi) + alpha * np.asarray(ti)).astype(np.asarray(xi).dtype)
        if np.asarray(xi).dtype.kind in "fc" else xi
        for xi, ti in zip(leaves, t_leaves)])


def numerical_jvp(f: Callable[..., Any], args: Sequence[Any], tangents: Sequence[Any], eps: float) -> Any:
    """Central difference ``(f(x + eps t) - f(x - eps t)) / (2 eps)``, leaf by leaf."""
    plus = f(*_axpy(eps, tangents, tuple(args)))
    minus = f(*_axpy(-eps, tangents, tuple(args)))
    p_leaves, treedef = tree_flatten(plus)
    m_leaves = tree_flatten(minus)[0]
    def wide(v: Any) -> np.ndarray:
        v = _no_float0(np.asarray(v))
        return v.astype(np.complex128 if v.dtype.kind == "c" else np.float64)

    return tree_unflatten(treedef, [(wide(p) - wide(m)) / (2 * eps) for p, m in zip(p_leaves, m_leaves)])


def _random_like(tree: Any, rng: np.random.Generator | None) -> Any:
    """Random values shaped like ``tree``'s leaves (zeros when ``rng`` is None, or for integers)."""
    leaves, treedef = tree_flatten(tree)

    def draw(x: Any) -> np.ndarray:
        dtype = np.asarray(x).dtype
        if rng is None:
            return np.zeros(np.shape(x), dtype)
        if dtype.kind == "f":
            return rng.standard_normal(np.shape(x)).astype(dtype)
        if dtype.kind == "c":
            return (rng.standard_normal(np.shape(x)) + 1j * rng.standard_normal(np.shape(x))).astype(dtype)
        return np.zeros(np.shape(x), dtype)

    return tree_unflatten(treedef, [draw(x) for x in leaves])


def _close(what: str, got: float, want: float, atol: float, rtol: float) -> None:
    if not (abs(got - want) <= atol + rtol * abs(want) or _both_nan(got, want) or got == want):
        raise AssertionError(f"{what}: got {got!r}, expected {want!r} (difference {abs(got - want):.3g}, "
                             f"allowed {atol + rtol * abs(want):.3g})")


def check_grads(
    f: Callable[..., Any],
    args: Sequence[Any],
    order: int = 2,
    modes: Sequence[str] = ("fwd", "rev"),
    atol: float | None = None,
    rtol: float | None = None,
    eps: float | None = None,
    seed: int = 0,
) -> None:
    """Check ``f``'s jvp and vjp against central finite differences, up to ``order``.

    Raises ``AssertionError`` saying which mode, order and argument, and by how much. Complex
    arguments get complex tangents; vjp and jvp are compared under the pairing Re(sum(a * b)).
    NaNs in the same places of both derivatives agree (``sqrt`` at a negative number), and so do
    equal infinities. Default tolerances: 1e-5 in float64; in float32/complex64/float16, 2e-2, or
    2e-3 per element of an output for larger outputs (as JAX's ``check_grads`` scales them).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> check_grads(fnp.sin, (np.array([0.5, 1.0]),), order=2)
    """
    args = tuple(args)
    probe = list(args) + [f(*args)]  # a float32 output needs float32 step sizes too
    eps = _default_eps(probe) if eps is None else eps
    tol = _default_tol(probe)
    explicit = atol is not None or rtol is not None
    atol = tol if atol is None else atol
    rtol = tol if rtol is None else rtol
    rng = np.random.default_rng(seed)
    _check(f, args, order, tuple(modes), atol, rtol, eps, rng, 1, explicit)


def _tolerances(args: tuple, out: Any, atol: float | None, rtol: float | None) -> tuple[float, float]:
    tol = _default_tol(list(args) + [out])
    return (tol if atol is None else atol), (tol if rtol is None else rtol)


def check_jvp(f: Callable[..., Any], f_jvp: Callable[..., Any], args: Sequence[Any], atol: float | None = None,
              rtol: float | None = None, eps: float = 1e-4, err_msg: str = "") -> None:
    """Check ``f_jvp(primals, tangents) -> (out, tangent_out)`` (typically ``functools.partial(
    funcgrad.jvp, f)``) against central finite differences of ``f`` along one random direction,
    as JAX's ``jax.test_util.check_jvp``.

    >>> import functools, numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> check_jvp(fnp.sin, functools.partial(fg.jvp, fnp.sin), (np.array([0.5, 1.0]),))
    """
    args = tuple(args)
    tangents = _random_like(args, np.random.default_rng(0))
    out, t_out = f_jvp(args, tangents)
    atol, rtol = _tolerances(args, out, atol, rtol)
    for i, (got, want) in enumerate(zip(_leaves(t_out), _leaves(numerical_jvp(f, args, tangents, eps)))):
        err = float(np.max(_abs_diff(got, want), initial=0.0))
        bound = atol + rtol * float(np.max(np.abs(want), initial=0.0))
        if not err <= bound:
            raise AssertionError(f"check_jvp, output leaf {i}: max |jvp - finite difference| = {err:.3g} exceeds "
                                 f"{bound:.3g}. {err_msg}\njvp: {got}\nfinite difference: {want}")


def check_vjp(f: Callable[..., Any], f_vjp: Callable[..., Any], args: Sequence[Any], atol: float | None = None,
              rtol: float | None = None, eps: float = 1e-4, err_msg: str = "") -> None:
    """Check ``f_vjp(*args) -> (out, pullback)`` (typically ``functools.partial(funcgrad.vjp, f)``):
    ⟨pullback(ct), t⟩ against ⟨ct, finite-difference J·t⟩ for one random ``ct`` and ``t``, as JAX's
    ``jax.test_util.check_vjp``.

    >>> import functools, numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> check_vjp(fnp.sin, functools.partial(fg.vjp, fnp.sin), (np.array([0.5, 1.0]),))
    """
    args = tuple(args)
    rng = np.random.default_rng(0)
    out, pullback = f_vjp(*args)
    tangents, ct = _random_like(args, rng), _random_like(out, rng)
    atol, rtol = _tolerances(args, out, atol, rtol)
    got, want = _inner(pullback(ct), tangents), _inner(ct, numerical_jvp(f, args, tangents, eps))
    _close(f"check_vjp: <vjp(ct), t> vs <ct, finite-difference jvp>. {err_msg}", got, want, atol, rtol)


def _norm(a: Any) -> float:
    return float(np.sqrt(sum(np.sum(np.abs(x.astype(np.complex128)) ** 2) for x in _leaves(a))))


def _only(tangents: tuple, i: int) -> tuple:
    """The tangents with every argument but ``i`` set to zero."""
    return tuple(t if k == i else _random_like(t, None) for k, t in enumerate(tangents))


def _blame(f: Callable[..., Any], args: tuple, tangents: tuple, eps: float, wrong: Callable[[tuple], bool]) -> str:
    """Name the arguments whose derivative disagrees on its own (only run after a failure)."""
    bad = [i for i in range(len(args)) if wrong(_only(tangents, i))]
    return f"argument{'s' if len(bad) != 1 else ''} {', '.join(map(str, bad)) or '(only jointly)'}"


def _check(f: Callable[..., Any], args: tuple, order: int, modes: tuple, atol: float, rtol: float,
           eps: float, rng: np.random.Generator, level: int, explicit: bool = False) -> None:
    tangents = _random_like(args, rng)
    num = numerical_jvp(f, args, tangents, eps)
    scale = max(1.0, _norm(num))
    if "fwd" in modes:
        out, t_out = jvp(f, args, tangents)
    else:  # reverse mode only: f may have no forward-mode rule
        out = f(*args)
    ct = _random_like(out, rng)

    def fwd_error(ts: tuple) -> list[tuple[int, float, float, Any, Any]]:
        n = numerical_jvp(f, args, ts, eps)
        sc = max(1.0, _norm(n))
        errors = []
        for i, (got, want) in enumerate(zip(_leaves(jvp(f, args, ts)[1]), _leaves(n))):
            err = float(np.max(_abs_diff(got, want), initial=0.0))
            finite = np.abs(want)[np.isfinite(want)]
            bound = (_leaf_tol(atol, explicit, got, want) * sc
                     + _leaf_tol(rtol, explicit, got, want) * float(np.max(finite, initial=0.0)))
            if not err <= bound:
                errors.append((i, err, bound, got, want))
        return errors

    if "fwd" in modes:
        errors = fwd_error(tangents)
        if errors:
            i, err, bound, got, want = errors[0]
            who = _blame(f, args, tangents, eps, lambda ts: bool(fwd_error(ts)))
            raise AssertionError(
                f"forward mode (jvp), order {level}, {who}, output leaf {i}: max |jvp - finite "
                f"difference| = {err:.3g} exceeds {bound:.3g}\njvp: {got}\nfinite difference: {want}")
    if "rev" in modes:
        consistency = 1e-9 if eps < 1e-4 else 1e-4
        _, pullback = vjp(f, *args)
        cts = pullback(ct)

        def rev_wrong(ts: tuple) -> bool:
            lhs = _inner(cts, ts)
            rhs = _inner(ct, numerical_jvp(f, args, ts, eps))
            if _both_nan(lhs, rhs) or lhs == rhs:  # NaN (or the same infinity) on both sides: agreement
                return False
            return not abs(lhs - rhs) <= atol * scale * max(1.0, _norm(ct)) + rtol * abs(rhs)

        lhs = _inner(cts, tangents)
        if rev_wrong(tangents):
            who = _blame(f, args, tangents, eps, rev_wrong)
            _close(f"reverse mode (vjp), order {level}, {who}: <vjp(ct), t> vs <ct, finite-difference jvp>",
                   lhs, _inner(ct, num), atol * scale * max(1.0, _norm(ct)), rtol)
        if "fwd" in modes:
            _close(f"jvp/vjp consistency, order {level}: <vjp(ct), t> vs <ct, jvp(t)>",
                   lhs, _inner(ct, t_out), consistency * max(1.0, abs(lhs)), consistency)
    if order > 1:
        if "fwd" in modes:
            def f_jvp(*primals: Any) -> Any:
                return jvp(f, primals, tangents)[1]

            _check(f_jvp, args, order - 1, ("fwd",) + (("rev",) if "rev" in modes else ()),
                   atol, rtol, eps, rng, level + 1, explicit)
        if "rev" in modes:
            n = len(args)

            def f_vjp(*primals_and_ct: Any) -> Any:
                return vjp(f, *primals_and_ct[:n])[1](primals_and_ct[n])

            _check(f_vjp, args + (ct,), order - 1, ("rev",) + (("fwd",) if "fwd" in modes else ()),
                   atol, rtol, eps, rng, level + 1, explicit)
