"""Compatibility layers that let code written for other libraries run on funcgrad by changing
its imports only.

* :mod:`funcgrad.compat.autograd` — HIPS autograd 1.x (``import autograd.numpy as np`` becomes
  ``import funcgrad.compat.autograd.numpy as np``).

JAX code needs no layer: ``import jax`` becomes ``import funcgrad as jax``.
"""
