"""PNG pictures of volumes, MIPs and GAN samples, in the orientation radiologists read them.

Display conventions (radiological): coronal and MIP images have the head up and the patient's right on the
image left; axial images are seen from the feet (patient right on image left, anterior up); sagittal images
have the head up and anterior on the left. Pixels are made square by resampling the picture so that its aspect
ratio matches the physical spacing. Oblique volumes are shown on their array axes nearest to these directions.

PET MIPs are drawn in inverted grey (black uptake on white), the way nuclear physicians read them, with the
SUV window 0..10 by default. Every file is written through :func:`MedGANSynthLib.io.atomic.atomic_output`.

Pictures of volumes (MIP, slice, fusion, side-by-side MIPs) are made to be read by a person: the image is scaled
to at least :data:`MIN_LONG_SIDE_PX` pixels along its long side with its true physical aspect ratio (height and
width in millimetres, not voxel counts), and framed on a white page with a title, the patient-orientation letters
at the four edges (R/L, A/P, S/I from the direction matrix, two letters for an oblique edge) and a colour bar
labelled with the units (SUV, Bq/ml, HU).
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
from matplotlib.cm import ScalarMappable  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402
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
MIN_LONG_SIDE_PX = 512
"""Volume pictures are at least this many pixels along their long side: a 3 mm CT is 122 x 112 voxels."""
UNIT_LABELS = {"SUV": "SUV", "GML": "SUV", "BQML": "Bq/ml", "HU": "HU"}
_PATIENT_LETTERS = (("R", "L"), ("A", "P"), ("I", "S"))  # LPS axes x, y, z: (negative, positive) direction
# Page layout in pixels (dpi 100): room for the title, the orientation letters and the colour bar.
_DPI = 100
_MARGIN = {"top": 72, "bottom": 30, "left": 30, "gap": 30, "bar": 18, "bar_labels": 70}


def display_plane(volume: Volume, plane: str, index: int | None = None) -> tuple[np.ndarray, tuple[float, float]]:
    """The 2-D slice of ``volume`` normal to ``plane`` in display orientation, and its (row, column) spacing.

    ``index`` picks the slice along the plane's normal (default: the middle; a one-slice MIP has only 0).
    """
    image, spacing, _ = _display_layout(volume, plane, index)
    return image, spacing


def display_orientation(volume: Volume, plane: str) -> dict[str, str]:
    """Patient-orientation letters at the top, bottom, left and right edge of :func:`display_plane`'s image."""
    _, _, (down, right) = _display_layout(volume, plane, 0)
    return {"top": orientation_letters(-down), "bottom": orientation_letters(down),
            "left": orientation_letters(-right), "right": orientation_letters(right)}


def orientation_letters(direction_lps: np.ndarray, secondary: float = 0.3) -> str:
    """Letters of the patient direction an LPS vector points to: its largest component, then a second one when
    that is at least ``secondary`` of the unit vector (oblique). E.g. (-1, 0, 0) -> 'R', (0.87, 0.5, 0) -> 'LP'."""
    vector = np.asarray(direction_lps, dtype=float)
    vector = vector / np.linalg.norm(vector)
    order = np.argsort(-np.abs(vector))
    letters = [_PATIENT_LETTERS[axis][int(vector[axis] > 0)] for n, axis in enumerate(order[:2])
               if n == 0 or abs(vector[axis]) >= secondary]
    return "".join(letters)


def _display_layout(volume: Volume, plane: str, index: int | None):
    """(image, (row, column) spacing, (LPS direction of growing rows, of growing columns)) of a displayed slice."""
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
        image, vectors[0] = image[::-1, :], -vectors[0]
    if vectors[1] @ column_target < 0:
        image, vectors[1] = image[:, ::-1], -vectors[1]
    return np.ascontiguousarray(image), (spacings[0], spacings[1]), (vectors[0], vectors[1])


def display_shape(shape: tuple[int, int], spacing_rc: tuple[float, float],
                  min_long_side: int = MIN_LONG_SIDE_PX) -> tuple[int, int]:
    """Pixel (rows, columns) of a picture with the image's physical aspect ratio: the finest spacing or finer, and
    at least ``min_long_side`` pixels along the long side."""
    height_mm, width_mm = shape[0] * spacing_rc[0], shape[1] * spacing_rc[1]
    pixels_per_mm = max(1.0 / min(spacing_rc), min_long_side / max(height_mm, width_mm))
    return max(1, round(height_mm * pixels_per_mm)), max(1, round(width_mm * pixels_per_mm))


def readable(image: np.ndarray, spacing_rc: tuple[float, float], order: int = 0) -> np.ndarray:
    """``image`` resampled to :func:`display_shape` (true aspect, long side >= MIN_LONG_SIDE_PX).

    Nearest neighbour by default: each voxel becomes a block of picture pixels holding its true value, so the
    colour bar reads the voxel's SUV or HU (linear interpolation would lower a one-voxel peak by up to half)."""
    shape = display_shape(image.shape, spacing_rc)
    if shape == image.shape:
        return image
    return resize(image, shape, order=order, preserve_range=True, anti_aliasing=False)


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
    mip_volume: Volume, path: str | os.PathLike, window: tuple[float, float] | None = None, plane: str | None = None,
    title: str | None = None,
) -> Path:
    """A MIP in inverted grey (high values black); SUV window 0..10 for PET, min..max otherwise. Framed with a
    title (default: the plane and units), orientation letters and a colour bar."""
    return save_mip_comparison_png([(mip_volume, "")], path, title=title, window=window, plane=plane)


def save_mip_comparison_png(
    mips: Sequence[tuple[Volume, str]], path: str | os.PathLike, title: str | None = None,
    window: tuple[float, float] | None = None, plane: str | None = None,
) -> Path:
    """MIPs side by side (e.g. real PET and virtual PET), each with its caption, on one grey scale and colour bar.

    All MIPs share the window: SUV 0..10 when all are in SUV, else the range of all of them.
    """
    if not mips:
        raise InputError("No MIP to draw.")
    for volume, _ in mips:
        _require_picture_input(volume, "The MIP")
    units = {volume.units.upper() for volume, _ in mips}
    if window is None:
        window = SUV_MIP_WINDOW if units == {"SUV"} else _full_range(np.concatenate([v.array.ravel() for v, _ in mips]))
    panels = []
    for volume, caption in mips:
        shown = plane or volume.metadata.get("mip_axis") or _thinnest_plane(volume)
        image, spacing = display_plane(volume, shown)
        grey = 1.0 - windowed(readable(image, spacing), window)
        panels.append((np.repeat(grey[..., None], 3, axis=2), display_orientation(volume, shown), caption))
    first = mips[0][0]
    shown = plane or first.metadata.get("mip_axis") or _thinnest_plane(first)
    label = _unit_label(first.units)
    title = title or f"{shown.capitalize()} MIP ({label})"
    return _write_page(panels, path, title, ("gray_r", window, label))


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
    title: str | None = None,
) -> Path:
    """One slice in grey through an intensity window (CT soft tissue -160..240 HU by default), framed with a
    title (default: plane and slice number), orientation letters and a grey-scale bar."""
    _require_picture_input(volume, "The volume")
    image, spacing = display_plane(volume, plane, index)
    grey = windowed(readable(image, spacing), window)
    label = _unit_label(volume.units or "HU")
    title = title or f"{plane.capitalize()} slice {_slice_number(volume, plane, index)} ({label})"
    panel = (np.repeat(grey[..., None], 3, axis=2), display_orientation(volume, plane), "")
    return _write_page([panel], path, title, ("gray", window, label))


def save_fusion_png(
    ct: Volume,
    pet: Volume,
    path: str | os.PathLike,
    plane: str = "axial",
    index: int | None = None,
    ct_window: tuple[float, float] = CT_SOFT_TISSUE_WINDOW,
    suv_window: tuple[float, float] = SUV_MIP_WINDOW,
    alpha: float = 0.6,
    title: str | None = None,
    pet_name: str = "PET",
) -> Path:
    """A CT slice in grey with the PET on top in the 'hot' colour map; opacity grows with uptake up to ``alpha``.
    Framed with a title, orientation letters and the PET's colour bar."""
    _require_picture_input(ct, "The CT")
    require_finite(pet, "The PET")
    if not ct.same_grid(pet):
        raise InputError("The PET is not on the CT's grid; resample it first (medgansynth resample PET --reference CT).")
    if not 0.0 <= alpha <= 1.0:
        raise InputError(f"Overlay opacity must be between 0 and 1; got {alpha}.")
    ct_image, spacing = display_plane(ct, plane, index)
    pet_image, _ = display_plane(pet, plane, index)
    grey = windowed(readable(ct_image, spacing), ct_window)[..., None]
    uptake = windowed(readable(pet_image, spacing), suv_window)
    colour = colormaps["hot"](uptake)[..., :3]
    weight = alpha * uptake[..., None]
    label = _unit_label(pet.units or "SUV")
    title = title or f"CT + {pet_name}, {plane} slice {_slice_number(ct, plane, index)}"
    panel = ((1.0 - weight) * grey + weight * colour, display_orientation(ct, plane), "")
    return _write_page([panel], path, title, ("hot", suv_window, f"{pet_name} {label}"))


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


def _write_page(panels: list[tuple[np.ndarray, dict[str, str], str]], path: str | os.PathLike, title: str,
                colorbar: tuple[str, tuple[float, float], str]) -> Path:
    """Panels (RGB image, orientation letters, caption) side by side on a white page, each image drawn pixel for
    pixel, with the title on top and one colour bar (colour map, window, label) on the right."""
    _require_png_path(path)
    m = _MARGIN
    height = max(rgb.shape[0] for rgb, _, _ in panels)
    widths = [rgb.shape[1] for rgb, _, _ in panels]
    page_w = sum(m["left"] + w + m["gap"] for w in widths) + m["bar"] + m["bar_labels"]
    page_h = m["top"] + height + m["bottom"]
    figure = Figure(figsize=(page_w / _DPI, page_h / _DPI), dpi=_DPI, facecolor="white")

    def box(x: float, y_top: float, w: float, h: float) -> list[float]:  # pixels from the top left -> figure fraction
        return [x / page_w, 1.0 - (y_top + h) / page_h, w / page_w, h / page_h]

    def text(x: float, y_top: float, words: str, **style) -> None:
        figure.text(x / page_w, 1.0 - y_top / page_h, words, ha="center", va="center", **style)

    text(page_w / 2, 14, title, fontsize=12, fontweight="bold")
    x = 0.0
    for rgb, letters, caption in panels:
        x += m["left"]
        h, w = rgb.shape[:2]
        top = m["top"] + (height - h) / 2
        axes = figure.add_axes(box(x, top, w, h))
        axes.imshow(np.clip(rgb, 0.0, 1.0), interpolation="nearest", aspect="auto")
        axes.set_axis_off()
        letter_style = {"fontsize": 11, "fontweight": "bold", "color": "black"}
        text(x + w / 2, top - 11, letters["top"], **letter_style)
        text(x + w / 2, top + h + 13, letters["bottom"], **letter_style)
        text(x - 14, top + h / 2, letters["left"], **letter_style)
        text(x + w + 14, top + h / 2, letters["right"], **letter_style)
        if caption:
            text(x + w / 2, 38, caption, fontsize=10)
        x += w + m["gap"]
    cmap, (low, high), label = colorbar
    bar = figure.add_axes(box(x, m["top"] + (height - min(height, 400)) / 2, m["bar"], min(height, 400)))
    figure.colorbar(ScalarMappable(norm=Normalize(low, high), cmap=cmap), cax=bar).set_label(label)
    with atomic_output(path) as temp:
        figure.savefig(temp, format="png", dpi=_DPI, facecolor="white")
    return Path(path)


def _unit_label(units: str) -> str:
    return UNIT_LABELS.get(units.upper(), units or "value")


def _slice_number(volume: Volume, plane: str, index: int | None) -> str:
    count = volume.array.shape[projected_array_axis(volume, plane)]
    return f"{(count // 2 if index is None else int(index)) + 1} of {count}"


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
