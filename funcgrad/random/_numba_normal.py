"""Numba-compiled threefry bits and standard normal draws, bit-identical to the NumPy code.

Each kernel reproduces its NumPy counterpart (``_threefry``, ``_blocks``,
``_erfinv.erfinv``, ``_xla_math.log1p`` and ``log_f32``) operation by operation, in the same
order and dtypes, so the bits are the same (and so JAX's):

* float64 fused multiply-adds are LLVM's ``llvm.fma`` (a hardware FMA, or libm's exact one),
  which the NumPy code emulates exactly with error-free transformations;
* float32 ones are ``llvm.fma`` on float32, correctly rounded as the NumPy emulation
  ``_xla_math.fma32`` is;
* Numba contracts nothing by itself (no ``fastmath``), and float64 ``log`` is the C library's,
  which NumPy calls too.

This module imports Numba; ``_accel`` imports it only when Numba is installed. Kernels are
cached on disk (``cache=True``: in ``__pycache__`` beside this file, or Numba's user cache).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]
from numba import njit, types
from numba.extending import intrinsic

from . import _erfinv, _xla_math

__all__ = ["bits32", "bits64", "normal32", "normal64"]

_BLOCK = 512  # elements per stage of a normal kernel: the stage buffers stay in L1


@intrinsic
def _fma(typingctx: Any, a: Any, b: Any, c: Any) -> Any:
    """``a * b + c`` for float64 (or float32) operands, rounded once."""
    if not (a == b == c and a in (types.float64, types.float32)):
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        real = args[0].type
        fn = builder.module.declare_intrinsic("llvm.fma", [real], ir.FunctionType(real, [real] * 3))
        return builder.call(fn, args)

    return a(a, a, a), codegen


def _bitcast(source: Any, target: Any) -> Any:
    """A Numba function reinterpreting the bits of a ``source`` scalar as a ``target`` scalar."""
    llvm_target = {types.float32: ir.FloatType(), types.float64: ir.DoubleType(),
                   types.uint32: ir.IntType(32), types.uint64: ir.IntType(64)}[target]

    @intrinsic
    def bitcast(typingctx: Any, x: Any) -> Any:
        if x != source:
            return None

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            return builder.bitcast(args[0], llvm_target)

        return target(source), codegen

    return bitcast


_float32_of_bits = _bitcast(types.uint32, types.float32)
_bits_of_float32 = _bitcast(types.float32, types.uint32)
_float64_of_bits = _bitcast(types.uint64, types.float64)


# --- threefry2x32 on uint32 words (every sum cast back to uint32: LLVM vectorises it 8 wide) ----------

_u32 = np.uint32
_PARITY = np.uint32(0x1BD11BDA)


@njit(inline="always")
def _round(x0: Any, x1: Any, r: int) -> Any:
    x0 = _u32(x0 + x1)
    x1 = _u32(_u32(x1 << _u32(r)) | _u32(x1 >> _u32(32 - r)))
    return x0, _u32(x1 ^ x0)


@njit(inline="always")
def _four(x0: Any, x1: Any, odd: bool) -> Any:
    if odd:
        x0, x1 = _round(x0, x1, 17)
        x0, x1 = _round(x0, x1, 29)
        x0, x1 = _round(x0, x1, 16)
        return _round(x0, x1, 24)
    x0, x1 = _round(x0, x1, 13)
    x0, x1 = _round(x0, x1, 15)
    x0, x1 = _round(x0, x1, 26)
    return _round(x0, x1, 6)


@njit(inline="always")
def _threefry(k0: Any, k1: Any, c: Any) -> Any:
    """The threefry2x32 block of key ``(k0, k1)`` (uint32) at the uint64 counter ``c`` (high, low words)."""
    k2 = _u32(k0 ^ k1 ^ _PARITY)
    x0 = _u32(_u32(c >> np.uint64(32)) + k0)
    x1 = _u32(_u32(c & np.uint64(0xFFFFFFFF)) + k1)
    x0, x1 = _four(x0, x1, False)
    x0, x1 = _u32(x0 + k1), _u32(x1 + k2 + _u32(1))
    x0, x1 = _four(x0, x1, True)
    x0, x1 = _u32(x0 + k2), _u32(x1 + k0 + _u32(2))
    x0, x1 = _four(x0, x1, False)
    x0, x1 = _u32(x0 + k0), _u32(x1 + k1 + _u32(3))
    x0, x1 = _four(x0, x1, True)
    x0, x1 = _u32(x0 + k1), _u32(x1 + k2 + _u32(4))
    x0, x1 = _four(x0, x1, False)
    return _u32(x0 + k2), _u32(x1 + k0 + _u32(5))


@njit(cache=True, nogil=True, error_model="numpy")
def bits32(keys: Any, start: Any, out: Any) -> None:
    """``out[j, i]``: the 32 random bits of key ``keys[j]`` at flat index ``start + i``."""
    for j in range(out.shape[0]):
        k0, k1 = _u32(keys[j, 0]), _u32(keys[j, 1])
        for i in range(out.shape[1]):
            y0, y1 = _threefry(k0, k1, start + np.uint64(i))
            out[j, i] = y0 ^ y1


@njit(cache=True, nogil=True, error_model="numpy")
def bits64(keys: Any, start: Any, out: Any) -> None:
    """``out[j, i]``: the 64 random bits of key ``keys[j]`` at flat index ``start + i``."""
    for j in range(out.shape[0]):
        k0, k1 = _u32(keys[j, 0]), _u32(keys[j, 1])
        for i in range(out.shape[1]):
            y0, y1 = _threefry(k0, k1, start + np.uint64(i))
            out[j, i] = (np.uint64(y0) << np.uint64(32)) | np.uint64(y1)


def _polynomial(coefficients: tuple, step: str, first: str) -> Any:
    """A Numba function of ``x``: Horner's rule, ``p = step(p, x, c)`` per coefficient, written out
    line by line (a loop over a tuple of coefficients keeps LLVM from vectorising the caller)."""
    lines = [f"def polynomial(x):\n    p = {first}({float(coefficients[0])!r})\n"]
    lines += [f"    p = {step}(p, x, {float(c)!r})\n" for c in coefficients[1:]]
    namespace = {"_fma": _fma, "_fma32": _fma32, "np": np}
    exec("".join(lines) + "    return p\n", namespace)  # noqa: S102 (our own constants only)
    return njit(inline="always")(namespace["polynomial"])


_fma_call: Any = _fma  # called without the typing context mypy sees in the intrinsic's signature


@njit(inline="always")
def _fma32(a: Any, b: Any, c: Any) -> Any:
    """float32 ``a * b + c`` rounded once (``llvm.fma`` on float32: a hardware FMA or libm's
    correctly rounded ``fmaf``), the bits of ``_xla_math.fma32``'s emulation."""
    return _fma_call(np.float32(a), np.float32(b), np.float32(c))

# --- float64 normals ---------------------------------------------------------------------------------

_LO64 = float(np.nextafter(-1.0, 1.0))
_SCALE64 = 1.0 - _LO64
_SQRT2_64 = math.sqrt(2.0)
_ONE64_BITS = np.array(1.0).view(np.uint64)[()]
_SMALL64 = float(_xla_math._SQRT2_MINUS_1)
_central64 = _polynomial(_erfinv._F64_CENTRAL, "_fma", "float")
_middle64 = _polynomial(_erfinv._F64_MIDDLE, "_fma", "float")
_tail64 = _polynomial(_erfinv._F64_TAIL, "_fma", "float")
_log1p_p64 = _polynomial(_xla_math._LOG1P_P, "_fma", "float")
_log1p_q64 = _polynomial(_xla_math._LOG1P_Q, "_fma", "float")


@njit(inline="always")
def _log1p64(x: float) -> float:
    """XLA's log1p of one float64 (``_xla_math.log1p``)."""
    if abs(x) < _SMALL64:
        x2 = x * x
        ratio = _log1p_p64(x) / _log1p_q64(x)
        ratio = ratio * (x * x2)
        ratio = ratio + (-0.5) * x2
        return ratio + x
    return math.log(x + 1.0)


@njit(cache=True, nogil=True, error_model="numpy")
def normal64(keys: Any, start: Any, out: Any) -> None:
    """``out[j, i]``: the float64 standard normal of key ``keys[j]`` at flat index ``start + i``."""
    n = out.shape[1]
    u = np.empty(_BLOCK, np.float64)
    w = np.empty(_BLOCK, np.float64)
    for j in range(out.shape[0]):
        k0, k1 = _u32(keys[j, 0]), _u32(keys[j, 1])
        for b in range(0, n, _BLOCK):
            m = min(_BLOCK, n - b)
            for i in range(m):  # 64 bits -> [0, 1) -> (-1, 1)
                y0, y1 = _threefry(k0, k1, start + np.uint64(b + i))
                word = ((np.uint64(y0) << np.uint64(32)) | np.uint64(y1)) >> np.uint64(12)
                v = _float64_of_bits(word | _ONE64_BITS) - 1.0  # as _sampling._unit_floats
                u[i] = v * _SCALE64 + _LO64
            for i in range(m):
                w[i] = -_log1p64(-(u[i] * u[i]))
            for i in range(m):  # the central polynomial everywhere ...
                out[j, b + i] = (_central64(min(w[i] - 3.125, 3.125)) * u[i]) * _SQRT2_64
            for i in range(m):  # ... replaced in the tails (few elements)
                if w[i] >= 6.25:
                    root = math.sqrt(w[i])
                    p = _middle64(root - 3.25) if w[i] < 16.0 else _tail64(root - 5.0)
                    out[j, b + i] = (p * u[i]) * _SQRT2_64


# --- float32 normals ---------------------------------------------------------------------------------

_f32 = np.float32
_LO32 = np.nextafter(_f32(-1.0), _f32(1.0))
_SCALE32 = _f32(_f32(1.0) - _LO32)
_ONE32_BITS = np.array(1.0, np.float32).view(np.uint32)[()]
_SQRT2_32 = _f32(math.sqrt(2.0))
_SMALL32 = _f32(_xla_math._SQRT2_MINUS_1)
_HALF32 = _f32(-0.5)
_ONE32 = _f32(1.0)
_ZERO32 = _f32(0.0)
_SQRT_HALF32 = _f32(_xla_math._SQRT_HALF)
_LOG_Q1 = _f32(_xla_math._LOG_Q1)
_LOG_Q2 = _f32(_xla_math._LOG_Q2)
_MANTISSA = np.uint32(0x807FFFFF)  # sign and significand
_HALF_EXPONENT = np.uint32(0x3F000000)  # the exponent of 0.5


def _f32_coefficients(coefficients: tuple) -> tuple:
    return tuple(float(_f32(c)) for c in coefficients)  # the float64 values the NumPy emulation adds


_central32 = _polynomial(_f32_coefficients(_erfinv._F32_CENTRAL), "_fma32", "np.float32")
_tail32 = _polynomial(_f32_coefficients(_erfinv._F32_TAIL), "_fma32", "np.float32")
_log1p_p32 = _polynomial(_f32_coefficients(_xla_math._LOG1P_P), "_fma32", "np.float32")
_log1p_q32 = _polynomial(_f32_coefficients(_xla_math._LOG1P_Q), "_fma32", "np.float32")
_L32 = _f32_coefficients(_xla_math._LOG_P)
_log_y0 = _polynomial(_L32[0:3], "_fma32", "np.float32")
_log_y1 = _polynomial(_L32[3:6], "_fma32", "np.float32")
_log_y2 = _polynomial(_L32[6:9], "_fma32", "np.float32")


@njit(inline="always")
def _log32(m: Any, exponent: Any) -> Any:
    """XLA's float32 log (``_xla_math.log_f32``) of ``m 2**exponent`` (``m`` in [0.5, 1): frexp)."""
    below = m < _SQRT_HALF32
    e = np.float32(exponent) - (_ONE32 if below else _ZERO32)
    f = m - _ONE32
    f = f + (m if below else _ZERO32)
    f2 = f * f
    f3 = f2 * f
    y = _fma32(_fma32(_log_y0(f), f3, _log_y1(f)), f3, _log_y2(f))
    y = _fma32(y, f3, e * _LOG_Q1)
    r = _fma32(_HALF32, f2, f)
    r = r + y
    return _fma32(e, _LOG_Q2, r)


@njit(inline="always")
def _log1p32_small(x: Any) -> Any:
    """XLA's float32 log1p for ``|x| < √2 - 1`` (``_xla_math.log1p``)."""
    x2 = x * x
    ratio = _log1p_p32(x) / _log1p_q32(x)
    ratio = ratio * (x * x2)
    ratio = ratio + _HALF32 * x2
    return ratio + x


@njit(cache=True, nogil=True, error_model="numpy")
def normal32(keys: Any, start: Any, out: Any) -> None:
    """``out[j, i]``: the float32 standard normal of key ``keys[j]`` at flat index ``start + i``."""
    n = out.shape[1]
    u = np.empty(_BLOCK, np.float32)
    w = np.empty(_BLOCK, np.float32)
    for j in range(out.shape[0]):
        k0, k1 = _u32(keys[j, 0]), _u32(keys[j, 1])
        for b in range(0, n, _BLOCK):
            m = min(_BLOCK, n - b)
            for i in range(m):  # 32 bits -> [0, 1) -> (-1, 1)
                y0, y1 = _threefry(k0, k1, start + np.uint64(b + i))
                v = _float32_of_bits(_u32(_u32(_u32(y0 ^ y1) >> _u32(9)) | _ONE32_BITS)) - _ONE32  # as _unit_floats
                ui = v * _SCALE32 + _LO32
                u[i] = ui
            for i in range(m):  # both branches of log1p everywhere, then select (vectorised)
                x = -(u[i] * u[i])
                word = _bits_of_float32(x + _ONE32)  # frexp of 1 + x (a positive normal float32)
                exponent = np.int32(word >> _u32(23)) - np.int32(126)
                large = _log32(_float32_of_bits(_u32((word & _MANTISSA) | _HALF_EXPONENT)), exponent)
                small = _log1p32_small(x)
                w[i] = -(small if abs(x) < _SMALL32 else large)
            for i in range(m):  # the central polynomial everywhere ...
                out[j, b + i] = (_central32(w[i] - np.float32(2.5)) * u[i]) * _SQRT2_32
            for i in range(m):  # ... replaced in the tails (few elements)
                if w[i] >= np.float32(5.0):
                    p = _tail32(np.float32(math.sqrt(w[i])) - np.float32(3.0))
                    out[j, b + i] = (p * u[i]) * _SQRT2_32
