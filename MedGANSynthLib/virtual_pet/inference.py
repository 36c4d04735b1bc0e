"""Whole-volume virtual-PET inference on the CT's exact grid (Ben-Cohen et al.).

The FCN-4s and the pix2pix generator are 2-D networks: they run per axial slice (the array axis closest to the
patient's superior axis, usually k), optionally with neighbouring slices as extra input channels (2.5-D; edge
slices repeat). The networks are fully convolutional, so by default they run at the CT's native in-plane size
(``working_pixel_mm=None``); when a working pixel size is set, each slab is resampled in-plane (bilinear) to it
and the outputs back to the CT's pixel count. Either way the returned Volumes have the CT's shape, spacing,
origin and direction exactly.

Memory: slices are processed in slabs of ``slab_size``; only the requested output arrays (float32) plus one slab
are held, never a float copy of the whole CT. Because every operation is per slice (BatchNorm in eval mode),
slab inference equals whole-volume inference.

Intensities follow the paper: CT windowed to [-160, 240] HU -> [0, 1] (``preprocessing.windows``); network
outputs map to SUV [0, 20].

Uncertainty (optional): the standard deviation of ``uncertainty_passes`` pix2pix generator runs with dropout on
(Monte-Carlo dropout). The GAN primer (Wolterink et al.) warns that image-translation GANs can hallucinate or erase
disease and that ensembles help flag unsuitable inputs; a high spread marks where the GAN image should not be
trusted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from torch import nn

from MedGANSynthLib.device import autocast_dtype, resolve_device
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback, report
from MedGANSynthLib.networks.unet_pix2pix import enable_mc_dropout
from MedGANSynthLib.preprocessing.windows import VIRTUAL_PET_CT_WINDOW, IntensityWindow
from MedGANSynthLib.validation import require_plausible_spacing
from MedGANSynthLib.virtual_pet.blending import DEFAULT_LEVELS, PAPER_THRESHOLD_SUV, laplacian_blend
from MedGANSynthLib.virtual_pet.inference_networks import inference_copy
from MedGANSynthLib.volume import Volume

CT_WINDOW_HU = (VIRTUAL_PET_CT_WINDOW.low, VIRTUAL_PET_CT_WINDOW.high)
"""Paper's CT window (Ben-Cohen et al., section 2.1)."""
SUV_RANGE = (0.0, 20.0)
"""Paper's SUV range (Ben-Cohen et al., section 2.1)."""
AIR_HU_BELOW = -500.0
"""A CT in HU always holds air (about -1000 HU) around the patient; values never below this mean it is no CT."""
LABEL_MAP_MAX_VALUES = 32
PET_UNITS = {"SUV", "BQML", "CNTS", "GML", "CM2ML", "PROPCPS"}


@dataclass
class VirtualPETConfig:
    slab_size: int | None = None
    """Slices per network batch; bounds memory (outputs + one slab). None: as many as fit in
    :data:`SLAB_PIXEL_BUDGET` (16 slices at 128², 1 slice at 512²)."""
    working_pixel_mm: float | None = None
    """In-plane pixel size the networks were trained at; None runs at the CT's native pixel size."""
    threshold_suv: float = PAPER_THRESHOLD_SUV
    blend_levels: int = DEFAULT_LEVELS
    blend_dilation_mm: float = 0.0
    """Grow the blending mask by this many millimetres in-plane (blending.hot_mask; the paper: 0)."""
    blend_veto_suv: float = 0.0
    """Where the GAN is above the threshold while the FCN stays below this SUV, take the FCN image (blending's
    ``veto_suv``; the paper: 0, off)."""
    blend_base_levels: int = 0
    """Take this many of the blend pyramid's coarsest levels from the FCN everywhere (blending's ``base_levels``;
    the paper: 0, the GAN's outside the hot mask)."""
    slice_smoothing_mm: float = 0.0
    """Average every output over the slices within +-mm/2 of each slice (a moving average across slices; the
    paper: 0, plain 2-D). Evens out the slice-to-slice streaks of the 2-D networks that become false lesions."""
    return_fcn: bool = False
    return_gan: bool = False
    uncertainty_passes: int = 0
    """Monte-Carlo dropout passes of the GAN generator (0 = no uncertainty volume)."""
    seed: int = 0
    """Seeds the dropout masks of the uncertainty passes (per slab, so results depend on slab_size)."""
    ct_window_hu: tuple[float, float] = CT_WINDOW_HU
    suv_range: tuple[float, float] = SUV_RANGE


POSTPROCESSING_KEYS = ("blend_levels", "blend_dilation_mm", "blend_veto_suv", "blend_base_levels", "slice_smoothing_mm")
"""The VirtualPETConfig fields that shape the outputs after the networks; reports and model cards carry them with
the metrics they produced."""


@dataclass
class VirtualPETResult:
    blended: Volume
    fcn: Volume | None = None
    gan: Volume | None = None
    uncertainty: Volume | None = None


def window_ct(hu: np.ndarray, window: tuple[float, float] = CT_WINDOW_HU) -> np.ndarray:
    """Clip HU to the window and scale it to [0, 1] (float32); the paper's window by default."""
    ct_window = VIRTUAL_PET_CT_WINDOW
    if tuple(window) != (ct_window.low, ct_window.high):
        ct_window = IntensityWindow("virtual PET CT (custom)", window[0], window[1], 0.0, 1.0, "HU")
    return np.asarray(ct_window.forward(hu.astype(np.float32)), dtype=np.float32)


def network_output_to_suv(output: torch.Tensor, output_range: tuple[float, float],
                          suv_range: tuple[float, float] = SUV_RANGE) -> torch.Tensor:
    """Map a network output in ``output_range`` (clipped) onto SUV in ``suv_range``."""
    low, high = output_range
    fraction = (output.clamp(low, high) - low) / (high - low)
    return suv_range[0] + fraction * (suv_range[1] - suv_range[0])


def check_ct(ct: Volume) -> None:
    """Refuse inputs that are not a CT in HU with one clear sentence each."""
    if not isinstance(ct, Volume):
        shape = getattr(ct, "shape", None)
        raise InputError(f"Virtual PET needs a CT volume with geometry; got {type(ct).__name__} of shape {shape}. "
                         "Load the CT with read_volume.")
    modality, units = (ct.modality or "").upper(), (ct.units or "").upper()
    if modality in {"PT", "PET"} or units in PET_UNITS:
        raise InputError(f"This is a PET (modality '{ct.modality}', units '{ct.units}'), not a CT; pass the CT "
                         "series of the study.")
    if modality in {"SEG", "RTSTRUCT"} or units == "LABEL":
        raise InputError("This is a label map (segmentation), not a CT; pass the CT series of the study.")
    if min(ct.array.shape) < 2:
        raise InputError(f"The CT is a single 2-D image (shape {ct.array.shape}); virtual PET needs a CT volume "
                         "of several slices.")
    require_plausible_spacing(ct, "The CT")  # a 1,000 mm spacing would make the working grid hundreds of GB
    bad = _count_non_finite(ct.array)
    if bad:
        raise InputError(f"The CT has {bad} NaN or infinite voxels; fix or mask them before predicting a virtual PET.")
    sample = ct.array[:: max(1, ct.array.shape[0] // 16)]
    values = np.unique(sample)
    # Label maps hold a few non-negative integers; a piecewise-constant phantom CT has few values too, but air.
    if values.size <= LABEL_MAP_MAX_VALUES and values[0] >= 0 and np.all(values == np.round(values)):
        raise InputError(f"The image holds only {values.size} distinct integer values: it looks like a label map, "
                         "not a CT; pass the CT series of the study.")
    lowest = float(np.min(ct.array))
    if lowest >= AIR_HU_BELOW:
        raise InputError(f"The image never goes below {lowest:.0f}, so it holds no air (about -1000 HU): it is not "
                         "a CT in Hounsfield units (a PET or a rescaled image?); pass the CT series.")


def _count_non_finite(array: np.ndarray, chunk: int = 32) -> int:
    """NaN/inf voxels, counted a few slices at a time so a large CT never needs whole-volume masks."""
    if array.dtype.kind != "f":
        return 0
    return sum(int(np.count_nonzero(~np.isfinite(array[start : start + chunk])))
               for start in range(0, array.shape[0], chunk))


def predict_virtual_pet(
    ct: Volume,
    fcn: nn.Module,
    gan: nn.Module,
    config: VirtualPETConfig | None = None,
    device: str | torch.device = "auto",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> VirtualPETResult:
    """Virtual PET (SUV) of ``ct`` from the FCN-4s, the pix2pix generator and their Laplacian blend.

    The blended (final) virtual PET is clamped at 0 SUV after blending and smoothing: the Laplacian pyramid
    overshoots below zero beside hot regions, and a negative SUV means nothing. The FCN and GAN outputs are in
    the model's SUV range already. Both networks take ``in_channels`` CT slices (odd: the target slice and its neighbours) and must expose
    ``config.output_range`` (FCN4s and UNetGenerator do). Models are put in eval mode and moved to ``device``;
    the forward passes run on faster eval-only copies of them (inference_networks.inference_copy).
    """
    config = config or VirtualPETConfig()
    check_ct(ct)
    if config.slab_size is not None and config.slab_size < 1:
        raise InputError(f"slab_size must be at least 1; got {config.slab_size}.")
    if config.blend_levels < 0 or config.blend_dilation_mm < 0:
        raise InputError(f"Blending needs 0 or more pyramid levels and a mask growth of 0 mm or more; got "
                         f"{config.blend_levels} levels and {config.blend_dilation_mm} mm.")
    if config.slice_smoothing_mm < 0:
        raise InputError(f"The smoothing across slices must be 0 mm or more; got {config.slice_smoothing_mm} mm.")
    if config.blend_veto_suv < 0:
        raise InputError(f"The blend's veto level must be 0 SUV (off) or more; got {config.blend_veto_suv}.")
    if config.blend_base_levels < 0:
        raise InputError(f"The blend's base must take 0 or more levels from the FCN; got {config.blend_base_levels}.")
    target = resolve_device(device)
    fcn = fcn.to(target).eval()
    gan = gan.to(target).eval()
    context = _context_slices(fcn, gan)
    networks = (inference_copy(fcn), inference_copy(gan), gan)

    slice_axis = ct.axis_along(2)
    ct_slices = np.moveaxis(ct.array, slice_axis, 0)        # a view: no copy of the CT
    outputs = {"blended": np.empty(ct.array.shape, np.float32)}
    for name, wanted in (("fcn", config.return_fcn), ("gan", config.return_gan),
                         ("uncertainty", config.uncertainty_passes > 0)):
        if wanted:
            outputs[name] = np.empty(ct.array.shape, np.float32)
    views = {name: np.moveaxis(array, slice_axis, 0) for name, array in outputs.items()}

    total = ct_slices.shape[0]
    # The budget counts the pixels the networks see: at the working size, not the CT's (a 512² CT at the bundled
    # model's 3.9 mm runs at 128²: 16 slices per batch instead of 1, 1.8x faster per slice on one thread).
    working = _working_size(ct, slice_axis, tuple(ct_slices.shape[1:]), config.working_pixel_mm)
    slab_size = config.slab_size or slices_per_slab(working)
    report(progress, cancel, "virtual_pet", 0, total, "starting")
    for start in range(0, total, slab_size):
        stop = min(total, start + slab_size)
        slab = _slab_tensor(ct_slices, start, stop, context, config.ct_window_hu, target, working)
        predictions = _predict_slab(slab, networks, config, target, ct, slice_axis, seed=config.seed + start)
        for name, values in predictions.items():
            if name in views:
                views[name][start:stop] = values
        report(progress, cancel, "virtual_pet", stop, total, f"slices {start + 1}-{stop} of {total}")
    width = smoothing_slices(config.slice_smoothing_mm, ct, slice_axis)
    if width > 1:
        for name in ("blended", "fcn", "gan"):
            if name in views:
                average_across_slices(views[name], width)
    # The Laplacian blend overshoots below 0 beside hot regions (down to -0.6 on real CTs); no SUV is negative.
    np.maximum(outputs["blended"], 0.0, out=outputs["blended"])

    def as_volume(array: np.ndarray, kind: str) -> Volume:
        volume = ct.with_array(array, modality="PT", units="SUV")
        volume.metadata.update({"virtual_pet": kind, "source_modality": ct.modality})
        return volume

    return VirtualPETResult(**{name: as_volume(array, name) for name, array in outputs.items()})


def _context_slices(fcn: nn.Module, gan: nn.Module) -> int:
    counts = {getattr(getattr(model, "config", None), "in_channels", 1) for model in (fcn, gan)}
    if len(counts) != 1 or next(iter(counts)) % 2 == 0:
        raise InputError(f"The FCN and GAN must take the same odd number of CT slices as channels; got {counts}.")
    return next(iter(counts)) // 2


SLAB_PIXEL_BUDGET = 16 * 128 * 128
"""Pixels per network batch when the slab size is automatic. Measured (Testing/Benchmarks/bench_virtual_pet.py,
one thread): at 512² a 16-slice slab ran 1.7x slower than single slices and used 9x the working set (846 vs
94 MB), its >100 MB activations faulting pages at every layer; at 128² 16 slices are fine. Re-measured with the
inference copies (inference_networks.py), 48 slices of 512²: 16-slice slabs 5.6 slices/s and 838 MB working set,
single slices 8.6 slices/s and 120 MB; at 128² 32-slice slabs were barely faster than 16 (173 vs 169 slices/s,
within the load noise) for twice the memory."""


def slices_per_slab(slice_shape: tuple[int, ...]) -> int:
    return max(1, SLAB_PIXEL_BUDGET // int(np.prod(slice_shape)))


def _slab_tensor(slices: np.ndarray, start: int, stop: int, context: int, window: tuple[float, float],
                 device: torch.device | str = "cpu", size: tuple[int, int] | None = None) -> torch.Tensor:
    """(S, 2*context+1, H, W) windowed CT on ``device``, resampled in-plane (bilinear) to ``size`` when given;
    neighbours beyond the volume repeat the edge slice.

    Each CT slice is windowed and resampled once, then repeated as its neighbours' context channels: both steps act
    per slice, so this equals processing the gathered slab, at a fifth of the work with 5 channels (windowing the
    gathered 512² slab took 20 % of the command's time)."""
    last = slices.shape[0] - 1
    first = max(0, start - context)
    unique = torch.from_numpy(window_ct(slices[first : min(last, stop - 1 + context) + 1], window)).to(device)
    if size is not None and tuple(size) != tuple(unique.shape[-2:]):
        unique = F.interpolate(unique[:, None], size=tuple(size), mode="bilinear", align_corners=False)[:, 0]
    index = np.arange(start, stop)[:, None] + np.arange(-context, context + 1)[None, :]
    return unique[torch.from_numpy(np.clip(index, 0, last) - first).to(unique.device)]


def _working_size(ct: Volume, slice_axis: int, shape: tuple[int, int], pixel_mm: float | None) -> tuple[int, int]:
    if pixel_mm is None:
        return shape
    spacing = _in_plane_spacing(ct, slice_axis)
    return tuple(max(1, round(n * s / pixel_mm)) for n, s in zip(shape, spacing, strict=True))


def _in_plane_spacing(ct: Volume, slice_axis: int) -> list[float]:
    """Spacing (mm) along the slab's rows and columns: the array axes other than ``slice_axis``, in array order
    (``spacing`` is given as (i, j, k) = array axes (2, 1, 0))."""
    return [ct.spacing[2 - axis] for axis in (0, 1, 2) if axis != slice_axis]


def _dilation_px(config: VirtualPETConfig, ct: Volume, slice_axis: int) -> int:
    """The blending mask's growth in the pixels the networks work in (the working size, or the CT's own)."""
    if config.blend_dilation_mm <= 0:
        return 0
    return round(config.blend_dilation_mm / (config.working_pixel_mm or min(_in_plane_spacing(ct, slice_axis))))


def smoothing_slices(length_mm: float, ct: Volume, slice_axis: int) -> int:
    """Slices whose centres lie within +-length_mm/2 of a slice, itself included (always odd, so unshifted)."""
    half = int(np.floor(length_mm / 2.0 / ct.spacing[2 - slice_axis] + 1e-6))
    return 2 * half + 1


def average_across_slices(slices: np.ndarray, width: int, block_bytes: int = 32 * 2**20) -> None:
    """In place: moving average of ``width`` slices along axis 0 (edge slices repeat, as for the context
    channels), a block of rows at a time so the extra memory stays at ``block_bytes``, not a volume copy."""
    rows = max(1, block_bytes // (slices.shape[0] * slices.shape[2] * slices.itemsize))
    for start in range(0, slices.shape[1], rows):
        block = slices[:, start : start + rows]
        block[...] = ndimage.uniform_filter1d(block, width, axis=0, mode="nearest")


def _predict_slab(slab: torch.Tensor, networks: tuple[nn.Module, nn.Module, nn.Module], config: VirtualPETConfig,
                  device: torch.device, ct: Volume, slice_axis: int, seed: int) -> dict[str, np.ndarray]:
    """``networks``: the fast inference copies of the FCN and GAN, and the plain GAN for the dropout passes (its
    NCHW activations draw the same seeded dropout masks as before; channels_last ones would draw others)."""
    fcn, gan, sampling_gan = networks
    native = tuple(np.moveaxis(ct.array, slice_axis, 0).shape[1:])  # the slab arrives at the working size
    working = tuple(slab.shape[-2:])
    fast_slab = slab.contiguous(memory_format=torch.channels_last)  # once for both inference copies

    def to_native(image: torch.Tensor) -> torch.Tensor:
        if working == native:
            return image
        return F.interpolate(image, size=native, mode="bilinear", align_corners=False)

    with torch.inference_mode(), _autocast(device):
        fcn_suv = network_output_to_suv(fcn(fast_slab).float(), fcn.config.output_range, config.suv_range)
        gan_suv = network_output_to_suv(gan(fast_slab).float(), gan.config.output_range, config.suv_range)
        blended = laplacian_blend(fcn_suv, gan_suv, threshold_suv=config.threshold_suv, levels=config.blend_levels,
                                  dilation_px=_dilation_px(config, ct, slice_axis), veto_suv=config.blend_veto_suv,
                                  base_levels=config.blend_base_levels)
        results = {"blended": blended, "fcn": fcn_suv, "gan": gan_suv}
        if config.uncertainty_passes > 0:
            results["uncertainty"] = _mc_dropout_std(slab, sampling_gan, config, seed)
    return {name: to_native(image.float())[:, 0].cpu().numpy() for name, image in results.items()}


def _mc_dropout_std(slab: torch.Tensor, gan: nn.Module, config: VirtualPETConfig, seed: int) -> torch.Tensor:
    devices = [slab.device] if slab.device.type == "cuda" else []
    samples = []
    try:
        enable_mc_dropout(gan)
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            for _ in range(config.uncertainty_passes):
                samples.append(network_output_to_suv(gan(slab).float(), gan.config.output_range, config.suv_range))
    finally:
        gan.eval()
    return torch.stack(samples).std(dim=0, unbiased=False)


@contextlib.contextmanager
def _autocast(device: torch.device) -> Iterator[None]:
    dtype = autocast_dtype(device)
    if dtype is None:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield
