"""The bounding box of a mask, grown by a margin: phantom tests measure inside it instead of over the whole map.

A measure taken inside the box equals the whole map's when nothing it looks at lies outside (an erosion or a
closing reaches a fixed number of voxels; a distance is measured to voxels inside the box). On a 2 mm whole body
that saves most of a test's time.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def around(mask: np.ndarray, margin: int) -> tuple[slice, ...]:
    """Slices of ``mask``'s bounding box, ``margin`` voxels wider on every side (clipped to the array)."""
    box = ndimage.find_objects(mask.astype(np.uint8))[0]
    return tuple(slice(max(s.start - margin, 0), s.stop + margin) for s in box)
