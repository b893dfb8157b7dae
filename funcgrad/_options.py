"""The option strings funcgrad's NumPy-named functions accept, as ``Literal`` types (the values
NumPy documents; type checkers then check calls, and the options reach NumPy's own functions
with the types its stubs ask for). Imported for annotations only (``if TYPE_CHECKING:``).

>>> from typing import get_args
>>> get_args(ClipMode)
('raise', 'wrap', 'clip')
"""

from __future__ import annotations

from typing import Literal, TypeAlias

__all__ = ["Order", "OrderCF", "ClipMode", "PartitionKind", "Side", "ConvolveMode", "Casting", "PadMode",
           "QuantileMethod", "MeshIndexing", "TrimSides", "FFTNorm"]

Order: TypeAlias = Literal["K", "A", "C", "F"]
OrderCF: TypeAlias = Literal["C", "F"]
ClipMode: TypeAlias = Literal["raise", "wrap", "clip"]
PartitionKind: TypeAlias = Literal["introselect"]
Side: TypeAlias = Literal["left", "right"]
ConvolveMode: TypeAlias = Literal["valid", "same", "full"]
Casting: TypeAlias = Literal["no", "equiv", "safe", "same_kind", "unsafe"]
PadMode: TypeAlias = Literal["constant", "edge", "reflect", "symmetric", "wrap"]  # the modes funcgrad differentiates
QuantileMethod: TypeAlias = Literal["inverted_cdf", "averaged_inverted_cdf", "closest_observation",
                                    "interpolated_inverted_cdf", "hazen", "weibull", "linear", "median_unbiased",
                                    "normal_unbiased", "lower", "higher", "midpoint", "nearest"]
MeshIndexing: TypeAlias = Literal["xy", "ij"]
TrimSides: TypeAlias = Literal["f", "b", "fb", "bf"]
FFTNorm: TypeAlias = Literal["backward", "ortho", "forward"]
