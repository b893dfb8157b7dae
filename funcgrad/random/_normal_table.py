"""A lookup table of every float32 standard normal draw, for the pure-NumPy path (issue 15 §3).

A float32 normal draw ``√2 erfinv(u)`` (JAX's numbers) depends only on the top 23 bits ``k`` of
its ``uint32`` word: ``u = -1 + k 2**-22 + 2**-24``. (These ``u`` are not symmetric about 0 —
``-u_k`` is never another ``u_j`` — so no half-size table by odd symmetry exists.) So all
``2**23`` possible draws fit in a table of float32 (:data:`SIZE`, 32 MiB), computed once by the
exact blocked pipeline (``_blocks``: every entry has the direct path's bits by construction);
a draw is then threefry's words, an xor, a shift and one gather, instead of XLA's ``log1p`` and
erfinv's polynomials.

The gather reads a 32 MiB table at random places (11–19 ns a number here, waiting for memory),
so the table pays off only on the pure-NumPy path; the Numba kernels are faster without it
(measured in benchmarks/bench_random.py). Building it costs about as much as 5–10 million direct
draws (0.3 s here), so the policy is:

* the process counts the float32 normal numbers it draws on the pure-NumPy path; the draw that
  brings the count to :data:`BUILD_AFTER` (``2**25``, also one draw that large by itself) builds
  the table, so the build costs at most about a third of the drawing already done (about break
  even for a single draw of ``2**25`` numbers, a gain for larger ones); smaller and one-off draws
  never pay for it;
* once built it serves every float32 normal draw on that path, of any size (the same bits);
* one thread builds it (the others keep the direct path meanwhile); a build that fails (no memory)
  is not retried;
* ``FUNCGRAD_RANDOM_TABLE=0`` in the environment, or :func:`direct_only`, disables it (no counting,
  no use); :func:`release` frees its memory (and restarts the count).

>>> SIZE, SIZE * np.dtype(np.float32).itemsize >> 20  # entries, MiB
(8388608, 32)
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Iterator

import numpy as np

from . import _accel

__all__ = ["SIZE", "SHIFT", "BUILD_AFTER", "lookup", "build", "release", "direct_only", "drawn"]

SHIFT = 9  # uint32 word >> SHIFT: the 23 bits a float32 draw depends on
SIZE = 1 << (32 - SHIFT)  # entries: 2**23 float32 (32 MiB)
BUILD_AFTER = 1 << 25  # float32 normal numbers drawn on the pure-NumPy path before the table is built
_BUILD_CHUNK = 1 << 20

_lock = threading.Lock()
_table: np.ndarray | None = None
_drawn = 0  # float32 normal numbers drawn on the pure-NumPy path so far (without a table)
_building = False
_failed = False
_direct_only = _accel.Blocks()


def _enabled() -> bool:
    return not _direct_only.depth and os.environ.get("FUNCGRAD_RANDOM_TABLE", "1") != "0"


def lookup(n: int) -> np.ndarray | None:
    """The table for a pure-NumPy float32 normal draw of ``n`` numbers, or None for the direct
    path; counts the draw, and builds the table when the count reaches :data:`BUILD_AFTER`."""
    global _drawn, _building
    if not _enabled():
        return None
    table = _table
    if table is not None:
        return table
    with _lock:
        _drawn += n
        if _drawn < BUILD_AFTER or _building or _failed or _table is not None:
            return _table
        _building = True
    return _build_now()


def build() -> np.ndarray:
    """The table, built now if it is not yet (e.g. before a long run of float32 draws; allowed
    also under :func:`direct_only`)."""
    global _building
    with _lock:
        if _table is not None:
            return _table
        _building = True
    table = _build_now()
    if table is None:
        raise MemoryError(f"funcgrad.random: could not allocate the {SIZE * 4 >> 20} MiB normal table")
    return table


def _build_now() -> np.ndarray | None:
    global _table, _building, _failed
    try:
        table = _compute()
    except MemoryError:
        with _lock:
            _building, _failed = False, True
        return None
    with _lock:
        _table, _building = table, False
    return table


def _compute() -> np.ndarray:
    """Every float32 draw, by its 23 bits: the direct blocked pipeline on the words ``k << SHIFT``."""
    from . import _blocks

    table = np.empty(SIZE, np.float32)
    k = np.empty(_BUILD_CHUNK, np.uint32)
    for start in range(0, SIZE, _BUILD_CHUNK):
        np.left_shift(np.arange(start, start + _BUILD_CHUNK, dtype=np.uint32), np.uint32(SHIFT), k)
        _blocks.direct_normal_of_bits(k, np.dtype(np.float32), out=table[start:start + _BUILD_CHUNK])
    return table


def release() -> None:
    """Free the table (32 MiB) and restart the count of draws toward :data:`BUILD_AFTER`."""
    global _table, _drawn, _failed
    with _lock:
        _table, _drawn, _failed = None, 0, False


def drawn() -> int:
    """Float32 normal numbers counted toward :data:`BUILD_AFTER` so far."""
    return _drawn


@contextlib.contextmanager
def direct_only() -> Iterator[None]:
    """Draw float32 normals without the table inside this block (nothing counted either).

    >>> import funcgrad.random as fr
    >>> with direct_only():
    ...     x = fr.normal(fr.key(0), (3,), np.float32)
    """
    with _direct_only.block():
        yield
