"""PNG pictures of volumes, MIPs and GAN samples, in the orientation radiologists read them.

Display conventions (radiological): coronal and MIP images have the head up and the patient's right on the
image left; axial images are seen from the feet (patient right on image left, anterior up); sagittal images
have the head up and anterior on the left. Pixels are made square by resampling the picture so that its aspect
ratio matches the physical spacing. Oblique volumes are shown on their array axes nearest to these directions.

PET MIPs are drawn in inverted grey (black uptake on white), the way nuclear physicians read them, with the
SUV window 0..10 by default. Every file is written through :func:`MedGANSynthLib.io.atomic.atomic_output`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: pictures are files
import matplotlib.image  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from skimage.transform import resize  # noqa: E402

from MedGANSynthLib.errors import InputError  # noqa: E402
from MedGANSynthLib.io.atomic import atomic_output  # noqa: E402
from MedGANSynthLib.projection.mip import PROJECTION_PATIENT_AXIS, projected_array_axis  # noqa: E402
from MedGANSynthLib.validation import require_finite, require_not_constant  # noqa: E402
from MedGANSynthLib.volume import Volume  # noqa: E402

# For each plane: the LPS direction image rows run toward (top to bottom) and columns run toward (left to right).
_DISPLAY_AXES = {
    "coronal": (np.array([0.0, 0.0, -1.0]), np.array([1.0, 0.0, 0.0])),  # head up, patient right on the left
    "sagittal": (np.array([0.0, 0.0, -1.0]), np.array([0.0, 1.0, 0.0])),  # head up, anterior on the left
    "axial": (np.array([0.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0])),  # anterior up, patient right on the left
}
SUV_MIP_WINDOW = (0.0, 10.0)
CT_SOFT_TISSUE_WINDOW = (-160.0, 240.0)
TITLE_INCHES = 0.25


def display_plane(volume: Volume, plane: str, index: int | None = None) -> tuple[np.ndarray, tuple[float, float]]:
    """The 2-D slice of ``volume`` normal to ``plane`` in display orientation, and its (row, column) spacing.

    ``index`` picks the slice along the plane's normal (default: the middle; a one-slice MIP has only 0).
    """
    normal_axis = projected_array_axis(volume, plane)
    count = volume.array.shape[normal_axis]
    index = count // 2 if index is None else int(index)
    if not 0 <= index < count:
        raise InputError(f"Slice {index} does not exist; the volume has {count} {plane} slices.")
    image = np.take(volume.array, index, axis=normal_axis)
    kept = [a for a in range(3) if a != normal_axis]  # array axes of image rows and columns
    row_target, column_target = _DISPLAY_AXES[plane]
    vectors = [volume.direction[:, 2 - a] for a in kept]
    spacings = [volume.spacing[2 - a] for a in kept]
    if abs(vectors[0] @ row_target) < abs(vectors[1] @ row_target):
        image, vectors, spacings = image.T, vectors[::-1], spacings[::-1]
    if vectors[0] @ row_target < 0:
        image = image[::-1, :]
    if vectors[1] @ column_target < 0:
        image = image[:, ::-1]
    return np.ascontiguousarray(image), (spacings[0], spacings[1])


def square_pixels(image: np.ndarray, spacing_rc: tuple[float, float], order: int = 1) -> np.ndarray:
    """Resample a 2-D image so each pixel is square (the finer spacing wins)."""
    finest = min(spacing_rc)
    shape = tuple(max(1, round(n * s / finest)) for n, s in zip(image.shape, spacing_rc, strict=True))
    if shape == image.shape:
        return image
    return resize(image, shape, order=order, preserve_range=True, anti_aliasing=False)


def windowed(image: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    low, high = float(window[0]), float(window[1])
    if not high > low:
        raise InputError(f"Display window needs low < high; got {window}.")
    return np.clip((image.astype(np.float64) - low) / (high - low), 0.0, 1.0)


def save_mip_png(
    mip_volume: Volume, path: str | os.PathLike, window: tuple[float, float] | None = None, plane: str | None = None
) -> Path:
    """A MIP in inverted grey (high values black); SUV window 0..10 for PET, min..max otherwise."""
    _require_picture_input(mip_volume, "The MIP")
    plane = plane or mip_volume.metadata.get("mip_axis") or _thinnest_plane(mip_volume)
    if window is None:
        window = SUV_MIP_WINDOW if mip_volume.units.upper() == "SUV" else _full_range(mip_volume.array)
    image, spacing = display_plane(mip_volume, plane)
    grey = 1.0 - windowed(square_pixels(image, spacing), window)
    return _write_rgb(np.repeat(grey[..., None], 3, axis=2), path)


def save_rotating_mip_png(
    frames: Volume, path: str | os.PathLike, window: tuple[float, float] | None = None, ncols: int = 12
) -> Path:
    """The frames of :func:`~MedGANSynthLib.projection.rotating_mip.rotating_mip` as a titled grid, inverted grey."""
    _require_picture_input(frames, "The rotating MIP")
    if "angles_deg" not in frames.metadata:
        raise InputError("This volume is not a rotating MIP; compute one with 'medgansynth mip --angles N'.")
    if window is None:
        window = SUV_MIP_WINDOW if frames.units.upper() == "SUV" else _full_range(frames.array)
    spacing_rc = (frames.spacing[1], frames.spacing[0])  # rows run along S, columns along L
    # Frame rows increase toward superior; flip so the head is up.
    tiles = [1.0 - windowed(square_pixels(frame[::-1, :], spacing_rc), window) for frame in frames.array]
    titles = [f"{angle:g} deg" for angle in frames.metadata["angles_deg"]]
    return save_grid_png(tiles, path, ncols=min(ncols, len(tiles)), titles=titles, window=(0.0, 1.0))


def save_slice_png(
    volume: Volume,
    path: str | os.PathLike,
    plane: str = "axial",
    index: int | None = None,
    window: tuple[float, float] = CT_SOFT_TISSUE_WINDOW,
) -> Path:
    """One slice in grey through an intensity window (CT soft tissue -160..240 HU by default)."""
    _require_picture_input(volume, "The volume")
    image, spacing = display_plane(volume, plane, index)
    grey = windowed(square_pixels(image, spacing), window)
    return _write_rgb(np.repeat(grey[..., None], 3, axis=2), path)


def save_fusion_png(
    ct: Volume,
    pet: Volume,
    path: str | os.PathLike,
    plane: str = "axial",
    index: int | None = None,
    ct_window: tuple[float, float] = CT_SOFT_TISSUE_WINDOW,
    suv_window: tuple[float, float] = SUV_MIP_WINDOW,
    alpha: float = 0.6,
) -> Path:
    """A CT slice in grey with the PET on top in the 'hot' colour map; opacity grows with uptake up to ``alpha``."""
    _require_picture_input(ct, "The CT")
    require_finite(pet, "The PET")
    if not ct.same_grid(pet):
        raise InputError("The PET is not on the CT's grid; resample it first (medgansynth resample PET --reference CT).")
    if not 0.0 <= alpha <= 1.0:
        raise InputError(f"Overlay opacity must be between 0 and 1; got {alpha}.")
    ct_image, spacing = display_plane(ct, plane, index)
    pet_image, _ = display_plane(pet, plane, index)
    grey = windowed(square_pixels(ct_image, spacing), ct_window)[..., None]
    uptake = windowed(square_pixels(pet_image, spacing), suv_window)
    colour = colormaps["hot"](uptake)[..., :3]
    weight = alpha * uptake[..., None]
    return _write_rgb((1.0 - weight) * grey + weight * colour, path)


def save_grid_png(
    images: Sequence[np.ndarray] | np.ndarray,
    path: str | os.PathLike,
    ncols: int = 8,
    titles: Sequence[str] | None = None,
    cmap: str = "gray",
    window: tuple[float, float] | None = None,
    tile_inches: float = 1.5,
) -> Path:
    """GAN samples (N x H x W, or N x 1 x H x W) as a grid of tiles with optional titles, one window for all."""
    _require_png_path(path)
    tiles = _as_tiles(images)
    if not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise InputError(f"The number of columns must be a positive whole number; got {ncols!r}.")
    if titles is not None and len(titles) != len(tiles):
        raise InputError(f"Got {len(titles)} titles for {len(tiles)} images; give one title per image.")
    low, high = window if window is not None else _full_range(tiles)
    ncols = min(int(ncols), len(tiles))
    nrows = -(-len(tiles) // ncols)
    # Tiles keep the images' aspect ratio; each title takes a fixed band above its tile.
    tile_height = tile_inches * tiles.shape[1] / tiles.shape[2]
    figure = Figure(figsize=(ncols * tile_inches, nrows * (tile_height + (TITLE_INCHES if titles else 0.0))))
    axes = figure.subplots(nrows, ncols, squeeze=False)
    for n, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if n < len(tiles):
            ax.imshow(tiles[n], cmap=cmap, vmin=low, vmax=high, interpolation="nearest")
            if titles:
                ax.set_title(str(titles[n]), fontsize=8)
    figure.tight_layout(pad=0.2)
    with atomic_output(path) as temp:
        figure.savefig(temp, format="png", dpi=100)
    return Path(path)


def save_strip_png(
    images: Sequence[np.ndarray] | np.ndarray,
    path: str | os.PathLike,
    titles: Sequence[str] | None = None,
    **options,
) -> Path:
    """A latent-walk strip: all images on one row."""
    return save_grid_png(images, path, ncols=len(_as_tiles(images)), titles=titles, **options)


def _write_rgb(rgb: np.ndarray, path: str | os.PathLike) -> Path:
    _require_png_path(path)
    pixels = (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    with atomic_output(path) as temp:
        matplotlib.image.imsave(temp, pixels, format="png")
    return Path(path)


def _require_png_path(path: str | os.PathLike) -> None:
    if Path(path).suffix.lower() != ".png":
        raise InputError(f"'{Path(path).name}' is not a .png file name; pictures are written as PNG.")


def _require_picture_input(volume: Volume, what: str) -> None:
    require_finite(volume, what)
    require_not_constant(volume, what)


def _thinnest_plane(volume: Volume) -> str:
    """The plane whose normal is the volume's one-voxel axis (how a MIP without metadata is recognised)."""
    for plane in PROJECTION_PATIENT_AXIS:
        if volume.array.shape[projected_array_axis(volume, plane)] == 1:
            return plane
    raise InputError("This volume is not a MIP (no axis with a single slice); compute one with 'medgansynth mip'.")


def _full_range(values: np.ndarray) -> tuple[float, float]:
    low, high = float(np.min(values)), float(np.max(values))
    if low == high:
        raise InputError(f"The image holds one constant value ({low:g}); there is nothing to show.")
    return low, high


def _as_tiles(images) -> np.ndarray:
    tiles = np.asarray([np.asarray(image, dtype=np.float32) for image in images])
    if tiles.ndim == 4 and tiles.shape[1] == 1:
        tiles = tiles[:, 0]
    if tiles.ndim != 3 or len(tiles) == 0:
        raise InputError("Pictures need a non-empty list of 2-D images (N x H x W).")
    if not np.isfinite(tiles).all():
        raise InputError("Some images hold NaN or infinite values; the generator diverged or the input is broken.")
    return tiles
