"""Brain FDG-PET phantoms for Alzheimer stages NC, MCI and AD (the brain-PET DCGAN of Islam & Zhang).

The anatomy is the SPM12 PET template (MNI space, 2 mm, 91x109x91) when it is present, otherwise a built-in
analytic brain of ellipsoids; the manifest says which. Each subject gets a small random affine (rotation,
scale, shift). Intensities become SUV with grey matter 8-12 and GM:WM ≈ 2.5-3 (PHANTOM_REFERENCE §1).

Stage effects (§5): hypometabolism of posterior cingulate/precuneus -15..-25 % (AD), temporoparietal
-15..-30 % (AD), frontal -5..-15 % (AD), MCI milder (-5..-10 %); cerebellum, basal ganglia and sensorimotor
cortex ≈ 0 (pattern: Drzezga 2003, Morbelli 2010; Foster 1984; Kuhl 1985). Ventricles AD > MCI > NC
(30-40 mL vs 50-60 mL †, Nestor 2008); hippocampal atrophy 4.66 %/y AD vs 1.41 %/y controls (Barnes 2009).
One per-subject severity in [0, 1] places every deficit inside its stage range, so the same seed gives the
same head and the same relative severity at every stage.

Regions are ellipsoids in MNI (RAS) millimetres; the grid is small (0.9 M voxels), so masks are computed on
the whole grid.
"""

from __future__ import annotations

import functools
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback, report
from MedGANSynthLib.volume import Volume

STAGES = ("NC", "MCI", "AD")
DEFAULT_TEMPLATE = Path(
    os.environ.get("MEDGANSYNTH_BRAIN_TEMPLATE",
                   Path(__file__).resolve().parents[2].parent / "shared" / "data" / "brain-pet-template" / "PET.nii")
)
# MNI grid of the SPM templates (LPS origin as SimpleITK reads PET.nii).
MNI_SHAPE = (91, 109, 91)
MNI_SPACING = (2.0, 2.0, 2.0)
MNI_ORIGIN = (-90.0, 126.0, -72.0)
MNI_DIRECTION = np.diag([1.0, -1.0, 1.0])

REGION_IDS = {"cerebellum": 1, "frontal": 2, "temporoparietal": 3, "sensorimotor": 4, "posterior_cingulate": 5,
              "basal_ganglia": 6, "hippocampus": 7, "ventricles": 8, "other_brain": 9}
# Ellipsoids (centre RAS mm, radii mm); bilateral ones are mirrored in x. Later entries win overlaps.
_REGIONS = (
    ("frontal", (30, 38, 25), (22, 28, 22), True),
    ("cerebellum", (24, -64, -32), (26, 24, 16), True),
    ("temporoparietal", (48, -50, 22), (18, 24, 18), True),
    ("temporoparietal", (54, -24, -8), (12, 24, 13), True),
    ("sensorimotor", (38, -22, 54), (16, 13, 12), True),
    ("posterior_cingulate", (0, -58, 32), (12, 20, 16), False),
    ("basal_ganglia", (20, 4, 4), (10, 14, 10), True),
    ("basal_ganglia", (11, -18, 6), (8, 10, 8), True),
    ("hippocampus", (27, -22, -15), (8, 18, 7), True),
)
_VENTRICLES = ((14, -5, 16), (6, 26, 9))
# Fractional uptake loss (low, high) per stage and region, §5 †.
DEFICIT_RANGES = {
    "NC": {},
    "MCI": {"posterior_cingulate": (0.05, 0.10), "temporoparietal": (0.05, 0.10), "frontal": (0.0, 0.05)},
    "AD": {"posterior_cingulate": (0.15, 0.25), "temporoparietal": (0.15, 0.30), "frontal": (0.05, 0.15)},
}
VENTRICLE_SCALE = {"NC": (1.0, 1.05), "MCI": (1.08, 1.15), "AD": (1.18, 1.28)}  # linear: volume x1, ~1.4, ~1.8
HIPPOCAMPAL_LOSS = {"NC": (0.0, 0.03), "MCI": (0.06, 0.12), "AD": (0.15, 0.25)}  # ~4 years at 1.4 / 4.7 %/y †


@dataclass
class BrainConfig:
    template_path: str | None = str(DEFAULT_TEMPLATE)
    """SPM PET template; None or a missing file selects the analytic brain."""
    rotation_sd_deg: float = 3.0
    scale_range: float = 0.05
    shift_sd_mm: float = 2.0
    noise_cov: float = 0.05  # relative SD at grey-matter level; brain scans have high counts †
    noise: bool = True
    deficit_ranges: dict = field(default_factory=lambda: {k: dict(v) for k, v in DEFICIT_RANGES.items()})


@dataclass
class BrainCase:
    pet: Volume
    regions: Volume
    manifest: dict


def check_stage(stage: str) -> str:
    if stage not in STAGES:
        raise InputError(f"Unknown dementia stage '{stage}'; choose one of: {', '.join(STAGES)}.")
    return stage


def make_brain_case(
    seed: int,
    stage: str = "NC",
    config: BrainConfig | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> BrainCase:
    """One brain FDG-PET (SUV) with its region map; same seed → same head and severity at every stage."""
    from scipy import ndimage  # here: the CLI reads STAGES for --help without loading scipy

    config = config or BrainConfig()
    check_stage(stage)
    subject_rng, stage_rng, noise_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(3))
    report(progress, cancel, "brain", 0, 3, "template")
    base, source = _base_brain(config.template_path)
    points = _mni_ras_points()
    brain = base > 0.3  # the template also holds faint scalp and skull-base uptake

    severity = float(subject_rng.uniform())
    gm_suv = float(subject_rng.uniform(8.0, 12.0))  # §1 grey matter 8-12 at 60 min †
    gm_wm_ratio = float(subject_rng.uniform(2.5, 3.0))  # §1 GM:WM 2.5-3 †
    affine = _subject_affine(subject_rng, config)
    draw = {name: float(stage_rng.uniform()) for name in ("ventricles", "hippocampus")}
    del stage_rng  # stage-specific draws end here: everything below depends on seed and stage ranges only

    ventricle_scale = _in_range(VENTRICLE_SCALE[stage], draw["ventricles"])
    hippocampal_loss = _in_range(HIPPOCAMPAL_LOSS[stage], draw["hippocampus"])
    regions = _region_map(points, brain, ventricle_scale)
    report(progress, cancel, "brain", 1, 3, "metabolism")

    # Template intensity -> SUV by a power law whose exponent turns the template's own GM:WM contrast
    # (grey = 95th percentile of the brain, white = centrum semiovale) into the subject's ratio.
    reference = float(np.percentile(base[brain], 95))
    white = float(base[_white_matter_roi(points)].mean())
    exponent = np.log(gm_wm_ratio) / np.log(reference / white)
    suv = gm_suv * np.clip(base / reference, 0, 1.3) ** exponent
    factor = np.ones_like(suv)
    deficits = {name: _in_range(span, severity) for name, span in config.deficit_ranges[stage].items()}
    for name, loss in deficits.items():
        factor[regions == REGION_IDS[name]] = 1.0 - loss
    factor[regions == REGION_IDS["hippocampus"]] = 1.0 - hippocampal_loss
    factor = ndimage.gaussian_filter(factor, 1.0)  # metabolic change fades over a few mm, no hard step
    suv = suv * factor
    csf = regions == REGION_IDS["ventricles"]
    suv[csf] = np.minimum(suv[csf], 0.05 * gm_suv)
    suv = ndimage.gaussian_filter(suv, 1.0)  # keeps the enlarged ventricle edge as blurred as the template

    report(progress, cancel, "brain", 2, 3, "subject")
    suv = _warp(suv, affine, order=1)
    regions = _warp(regions.astype(np.float32), affine, order=0).astype(np.uint8)
    if config.noise:
        white = noise_rng.standard_normal(suv.shape).astype(np.float32)
        k = config.noise_cov * np.sqrt(gm_suv)
        suv = np.maximum(suv + k * np.sqrt(np.maximum(suv, 0)) * white, 0)
    geometry = {"spacing": MNI_SPACING, "origin": MNI_ORIGIN, "direction": MNI_DIRECTION}
    voxel_ml = float(np.prod(MNI_SPACING)) / 1000.0
    manifest = {
        "generator": "brain-1", "kind": "brain", "seed": int(seed), "stage": stage, "anatomy_source": source,
        "template_path": str(config.template_path) if source == "spm_template" else None,
        "grey_matter_suv": round(gm_suv, 4), "gm_wm_ratio": round(gm_wm_ratio, 4), "severity": round(severity, 4),
        "deficits": {k: round(v, 4) for k, v in deficits.items()},
        "hippocampal_loss": round(hippocampal_loss, 4), "ventricle_scale": round(ventricle_scale, 4),
        "ventricle_volume_ml": round(float((regions == REGION_IDS["ventricles"]).sum()) * voxel_ml, 2),
        "affine": affine["params"], "region_ids": dict(REGION_IDS),
        "config": {k: v for k, v in asdict(config).items() if k != "deficit_ranges"},
    }
    report(progress, cancel, "brain", 3, 3, "done")
    return BrainCase(
        pet=Volume(suv.astype(np.float32), modality="PT", units="SUV", **geometry),
        regions=Volume(regions, modality="SEG", units="label", **geometry),
        manifest=manifest,
    )


def _in_range(span: tuple[float, float], u: float) -> float:
    return float(span[0] + u * (span[1] - span[0]))


def _base_brain(template_path: str | None) -> tuple[np.ndarray, str]:
    if template_path and Path(template_path).is_file():
        return _load_template(str(template_path)).copy(), "spm_template"
    return _analytic_brain().copy(), "analytic"


@functools.lru_cache(maxsize=2)
def _load_template(path: str) -> np.ndarray:
    from MedGANSynthLib.io.volume_io import read_volume

    volume = read_volume(path)
    if volume.array.shape != MNI_SHAPE or not np.allclose(volume.spacing, MNI_SPACING):
        raise InputError(f"'{path}' is not the 2 mm MNI brain template (91x109x91); remove it or pass another path.")
    array = np.nan_to_num(volume.array.astype(np.float32))
    return array / max(float(array.max()), 1e-6)


@functools.lru_cache(maxsize=1)
def _analytic_brain() -> np.ndarray:
    """A template-like smooth brain from ellipsoids: cortex 1.0, white matter 0.6, deep grey 0.9, CSF 0.1."""
    from scipy import ndimage  # here: the CLI reads STAGES for --help without loading scipy

    p = _mni_ras_points()
    brain = _ellipsoid(p, (0, -18, 10), (68, 86, 62))
    image = np.where(brain, 1.0, 0.0).astype(np.float32)
    image[_ellipsoid(p, (0, -18, 10), (60, 78, 54))] = 0.6
    for side in (-1, 1):
        image[_ellipsoid(p, (side * 20, 4, 4), (10, 14, 10))] = 0.9
        image[_ellipsoid(p, (side * 11, -18, 6), (8, 10, 8))] = 0.9
        image[_ellipsoid(p, (side * 24, -64, -32), (26, 24, 16))] = 0.85
        image[_ellipsoid(p, (side * _VENTRICLES[0][0], *_VENTRICLES[0][1:]), _VENTRICLES[1])] = 0.1
    sigma = 8.0 / 2.3548 / MNI_SPACING[0]  # the SPM template is smooth (~8 mm FWHM †)
    image = ndimage.gaussian_filter(image, sigma)
    return image / image.max()


@functools.lru_cache(maxsize=1)
def _mni_ras_points() -> np.ndarray:
    """RAS (MNI) mm of every voxel, shape (3, k, j, i); LPS from the grid, then x and y negated."""
    k, j, i = np.meshgrid(*(np.arange(n, dtype=np.float32) for n in MNI_SHAPE[::-1]), indexing="ij")
    x = MNI_ORIGIN[0] + MNI_SPACING[0] * i * MNI_DIRECTION[0, 0]
    y = MNI_ORIGIN[1] + MNI_SPACING[1] * j * MNI_DIRECTION[1, 1]
    z = MNI_ORIGIN[2] + MNI_SPACING[2] * k
    return np.stack([-x, -y, z])


def _ellipsoid(points: np.ndarray, centre, radii) -> np.ndarray:
    return sum(((points[a] - centre[a]) / radii[a]) ** 2 for a in range(3)) <= 1.0


def _white_matter_roi(points: np.ndarray) -> np.ndarray:
    """Centrum semiovale, both sides: deep white matter far from cortex and ventricles."""
    return _ellipsoid(points, (26, -15, 28), (5, 8, 6)) | _ellipsoid(points, (-26, -15, 28), (5, 8, 6))


def _region_map(points: np.ndarray, brain: np.ndarray, ventricle_scale: float) -> np.ndarray:
    regions = np.where(brain, REGION_IDS["other_brain"], 0).astype(np.uint8)
    for name, centre, radii, bilateral in _REGIONS:
        for side in ((-1, 1) if bilateral else (1,)):
            mask = _ellipsoid(points, (side * centre[0], *centre[1:]), radii) & brain
            regions[mask] = REGION_IDS[name]
    centre, radii = _VENTRICLES
    for side in (-1, 1):
        mask = _ellipsoid(points, (side * centre[0], *centre[1:]), np.asarray(radii) * ventricle_scale)
        regions[mask & brain] = REGION_IDS["ventricles"]
    return regions


def _subject_affine(rng: np.random.Generator, config: BrainConfig) -> dict:
    angles = rng.normal(0.0, config.rotation_sd_deg, 3)
    scales = rng.uniform(1 - config.scale_range, 1 + config.scale_range, 3)
    shift = rng.normal(0.0, config.shift_sd_mm, 3)
    rotation = np.eye(3)
    for axis, angle in enumerate(np.deg2rad(angles)):
        c, s = np.cos(angle), np.sin(angle)
        r = np.eye(3)
        a, b = [n for n in range(3) if n != axis]
        r[a, a], r[a, b], r[b, a], r[b, b] = c, -s, s, c
        rotation = r @ rotation
    matrix = rotation @ np.diag(scales)  # voxel-index frame (axes k, j, i all 2 mm, so mm-isotropic)
    return {"matrix": matrix, "shift_vox": shift / MNI_SPACING[0],
            "params": {"rotation_deg": np.round(angles, 3).tolist(), "scale": np.round(scales, 4).tolist(),
                       "shift_mm": np.round(shift, 3).tolist()}}


def _warp(array: np.ndarray, affine: dict, order: int) -> np.ndarray:
    """Resample so the subject's brain is the template brain moved by the affine about the grid centre."""
    from scipy import ndimage  # here: the CLI reads STAGES for --help without loading scipy

    centre = (np.asarray(array.shape) - 1) / 2.0
    inverse = np.linalg.inv(affine["matrix"])
    offset = centre - inverse @ (centre + affine["shift_vox"])
    return ndimage.affine_transform(array, inverse, offset=offset, order=order, mode="constant", cval=0.0)
