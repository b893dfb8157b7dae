"""``funcgrad.compat.autograd.scipy.misc``: ``logsumexp`` (where old SciPy kept it).

>>> import numpy as np
>>> round(float(logsumexp(np.zeros(2))), 6)
0.693147
"""

from .special import logsumexp

__all__ = ["logsumexp"]
