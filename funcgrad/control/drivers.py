"""Python loops generated for the operand counts of a scan, a recording while loop and a backward
loop (``drive`` functions made only of generated names), compiled once per count and cached."""

from __future__ import annotations

from typing import Any, Callable, Sequence

_drivers: dict[tuple, Callable[..., Any]] = {}


def _compile_driver(key: tuple, kind: str, src: list[str]) -> Callable[..., Any]:
    """Compile the source lines of a ``drive`` function (made only of generated names) and cache it."""
    scope: dict = {}
    exec(compile("\n".join(src) + "\n", f"<funcgrad {kind} driver {key}>", "exec"), scope)
    found = _drivers[key] = scope["drive"]
    return found


def _driver(nc: int, nx: int, nk: int, ny: int) -> Callable[..., Any]:
    """A Python loop specialised to the operand counts: ``drive(fn, *carries, *xs, *consts, *ys,
    order)`` runs ``fn`` once per index in ``order``, slicing xs and storing ys at that index."""
    key = (nc, nx, nk, ny)
    found = _drivers.get(key)
    if found is None:
        c = [f"c{i}" for i in range(nc)]
        x = [f"x{i}" for i in range(nx)]
        k = [f"k{i}" for i in range(nk)]
        y = [f"ys{i}" for i in range(ny)]
        lhs = ", ".join(c + [f"y{i}" for i in range(ny)])
        src = [f"def drive(fn, {', '.join(c + x + k + y + ['order'])}):",
               "    for i in order:",
               f"        {lhs}{',' if nc + ny == 1 else ''} = fn({', '.join(c + [v + '[i]' for v in x] + k)})"]
        src += [f"        ys{i}[i] = y{i}" for i in range(ny)]
        src.append(f"    return ({', '.join(c)}{',' if nc == 1 else ''})")
        found = _compile_driver(key, "scan", src)
    return found


def _scan_steps(fn: Callable[..., tuple], carry: Sequence[Any], xs: Sequence[Any], consts: Sequence[Any],
                ys: list, order: range, n_carry: int) -> Sequence[Any]:
    if not len(order):
        return carry
    return _driver(len(carry), len(xs), len(consts), len(ys))(fn, *carry, *xs, *consts, *ys, order)


def _while_driver(nc: int, ncc: int, nbc: int, nr: int) -> Callable[..., Any]:
    """A Python while loop specialised to the operand counts: ``drive(cond, body, steps,
    *carries, *cconsts, *bconsts)`` appends each step's residuals to ``steps``; returns the
    carries."""
    key = ("while", nc, ncc, nbc, nr)
    found = _drivers.get(key)
    if found is None:
        c, k, b, r = ([f"{p}{i}" for i in range(n)] for p, n in (("c", nc), ("k", ncc), ("b", nbc), ("r", nr)))
        src = [f"def drive(cond, body, steps, {', '.join(c + k + b)}):",
               f"    while cond({', '.join(c + k)})[0]:",
               f"        {', '.join(c + r)}, = body({', '.join(c + b)})",
               f"        steps.append(({', '.join(r)}{',' if nr == 1 else ''}))",
               f"    return ({', '.join(c)},)"]
        found = _compile_driver(key, "while", src)
    return found


def _backward_driver(nct: int, nr: int, nk: int) -> Callable[..., Any]:
    """``drive(bwd, steps, *cts, *consts)``: ``cts = bwd(*cts, *residuals, *consts)`` for each
    recorded step, last first; returns the cotangents."""
    key = ("backward", nct, nr, nk)
    found = _drivers.get(key)
    if found is None:
        c, r, k = ([f"{p}{i}" for i in range(n)] for p, n in (("c", nct), ("r", nr), ("k", nk)))
        src = [f"def drive(bwd, steps, {', '.join(c + k)}):",
               f"    for {', '.join(r) + ',' if nr else '_'} in reversed(steps):",
               f"        {', '.join(c)}, = bwd({', '.join(c + r + k)})",
               f"    return ({', '.join(c)},)"]
        found = _compile_driver(key, "backward", src)
    return found
