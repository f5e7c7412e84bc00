"""The layer check: is an image built on its parent's image, judging by the layers alone.

Where the registry gives no usable base annotation (an image built without them, a
base outside Docker Hub), the published image is on its parent's published image
exactly when the parent's layer list is a prefix of the child's. A parent built again
since the child (a new base layer) fails the check: the child sits on an older build.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["MISMATCH", "VERIFIED", "layer_check"]

VERIFIED = "verified"
MISMATCH = "mismatch"


def layer_check(parent_layers: Sequence[str], child_layers: Sequence[str]) -> str:
    """:data:`VERIFIED` when ``parent_layers`` is a non-empty prefix of ``child_layers``."""
    parent, child = list(parent_layers), list(child_layers)
    if parent and len(parent) <= len(child) and child[: len(parent)] == parent:
        return VERIFIED
    return MISMATCH
