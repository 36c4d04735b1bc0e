"""One whole-body FDG PET/CT phantom case with ground truth (organ map, lesion map, manifest).

CT: HU per tissue (PHANTOM_REFERENCE §3) + correlated tissue texture + low-dose scanner noise, SD 15-40 HU
(§3 †), on a 500 mm / 256 matrix / 3 mm grid from the vertex to mid-thigh (~100 cm, §6).
PET: SUV per tissue (§1) and lesions (§2) on the CT grid, blurred by the scanner PSF (Gaussian, FWHM 6 mm by
default: 4.9-5.4 mm TOF, 6-8 mm non-TOF, §4) in millimetres, resampled to its own grid (4 mm in-plane, 3 mm
slices, §4 voxel 2-4 mm usual) with a different origin, then given Poisson-like noise (SD ∝ sqrt(mean)) scaled
so the liver CoV is 10-15 % (§4).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace

import numpy as np
from scipy import ndimage

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback, report
from MedGANSynthLib.phantoms.anatomy import Anatomy, build_anatomy, random_subject
from MedGANSynthLib.phantoms.lesions import check_lesion_class, place_lesions, render_lesions
from MedGANSynthLib.phantoms.shapes import AxisGrid
from MedGANSynthLib.phantoms.tissues import (
    CT_NOISE_SD_RANGE,
    LABEL,
    LIVER_COV_RANGE,
    TISSUE_BY_NAME,
    hu_table,
    suv_table,
    texture_sd_table,
)
from MedGANSynthLib.phantoms.versions import (
    DEFAULT_PHANTOM_VERSION,
    PHANTOM_VERSIONS,
    REALISTIC_PHANTOM_VERSIONS,
    spoken_versions,
)
from MedGANSynthLib.volume import Volume

FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))
GENERATOR_VERSION = "wholebody-1"


@dataclass
class WholeBodyConfig:
    """Grid and physics settings. Defaults give a clinical-size case; :meth:`with_voxel_mm` a tiny one."""

    field_of_view_mm: float = 500.0
    ct_matrix: int = 256
    ct_slice_mm: float = 3.0
    length_mm: float = 1000.0  # vertex to mid-thigh (§6: ~100-110 cm)
    pet_voxel_mm: float = 4.0
    pet_slice_mm: float = 3.0
    pet_origin_shift_mm: tuple[float, float, float] = (1.3, 0.9, 1.1)  # PET grid starts this far inside the CT's
    pet_fwhm_mm: float = 6.0
    liver_cov: float | None = None  # None: per subject in LIVER_COV_RANGE
    ct_noise_sd: float | None = None  # None: per subject in CT_NOISE_SD_RANGE
    ct_texture: bool = True
    noise: bool = True

    @property
    def ct_voxel_mm(self) -> float:
        return self.field_of_view_mm / self.ct_matrix

    def with_voxel_mm(self, voxel_mm: float) -> WholeBodyConfig:
        """Same case on a coarser (or finer) grid: CT voxel ``voxel_mm``, PET voxel at least 4 x 3 mm."""
        return replace(self, ct_matrix=max(8, int(round(self.field_of_view_mm / voxel_mm))), ct_slice_mm=voxel_mm,
                       pet_voxel_mm=max(4.0, 1.25 * voxel_mm), pet_slice_mm=max(3.0, 1.25 * voxel_mm))


@dataclass
class WholeBodyCase:
    ct: Volume
    pet: Volume
    organs: Volume
    lesions: Volume
    manifest: dict
    pet_truth: Volume | None = field(default=None, repr=False)
    """Noiseless, unblurred SUV on the CT grid (the ground truth the scanner blurs)."""


def ct_grid(config: WholeBodyConfig) -> tuple[tuple[int, int, int], tuple[float, float, float], tuple[float, ...]]:
    """(shape kji, spacing ijk, origin ijk): centred in-plane, top slice 15 mm above the vertex (z = 0)."""
    n = config.ct_matrix
    nk = int(round(config.length_mm / config.ct_slice_mm))
    d = config.ct_voxel_mm
    origin = (-(n - 1) * d / 2.0, -(n - 1) * d / 2.0, 15.0 - (nk - 1) * config.ct_slice_mm)
    return (nk, n, n), (d, d, config.ct_slice_mm), origin


def pet_grid(config: WholeBodyConfig, ct_shape, ct_spacing, ct_origin):
    """The PET's own grid: coarser voxels, shifted origin, inside the CT's physical extent."""
    spacing = (config.pet_voxel_mm, config.pet_voxel_mm, config.pet_slice_mm)
    ct_low = np.asarray(ct_origin)
    ct_high = ct_low + np.asarray(ct_spacing) * (np.asarray(ct_shape[::-1]) - 1)
    origin = ct_low + np.asarray(spacing) / 2 + np.abs(np.asarray(config.pet_origin_shift_mm))
    size = np.floor((ct_high - origin) / spacing).astype(int) + 1
    return (int(size[2]), int(size[1]), int(size[0])), spacing, tuple(float(o) for o in origin)


def make_wholebody_case(
    seed: int,
    lesion_class: str = "normal",
    config: WholeBodyConfig | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    version: int = DEFAULT_PHANTOM_VERSION,
    contrast: str = "none",
    arms: str | None = None,
    pet_noise: str = "scaled",
    counts=None,
) -> WholeBodyCase:
    """Generate one case; the same (seed, class, config, version, ...) always gives identical arrays.

    ``version`` 1 is the generator the bundled models were trained on (kept bit-for-bit); version 2 has
    realistic anatomy (:mod:`wholebody_v2`, kept bit-for-bit: a virtual-PET candidate was trained on it);
    version 3 is version 2 corrected towards published values (:mod:`values_v3`; kept bit-for-bit: models are
    trained on it); version 4 corrects ten more values (:mod:`values_v4`; kept bit-for-bit); version 5 (the default,
    frozen in session 26) closes the gaps version 4's pictures showed (:mod:`values_v5`, REFERENCE.md "Version 5");
    version 6 is version 5 with the unenhanced CT's noise measured on real PET/CT CTs (:mod:`ct_noise_v6`).
    Versions 2 to 6 accept ``contrast`` ("none", "portal-venous"), ``arms`` ("down", "up"; None draws per subject)
    and ``pet_noise`` ("scaled", "counts" with the acquisition
    :class:`~MedGANSynthLib.phantoms.pet_counts.CountStatistics` ``counts``).
    """
    config = config or WholeBodyConfig()
    check_lesion_class(lesion_class)
    if version in REALISTIC_PHANTOM_VERSIONS:
        from MedGANSynthLib.phantoms.wholebody_v2 import make_wholebody_case_v2

        return make_wholebody_case_v2(seed, lesion_class, config, progress, cancel, contrast=contrast, arms=arms,
                                      pet_noise=pet_noise, counts=counts, version=version)
    if version != 1:
        raise InputError(f"Unknown phantom generator version {version}; choose {spoken_versions(PHANTOM_VERSIONS)}.")
    realistic = spoken_versions(REALISTIC_PHANTOM_VERSIONS)
    if contrast != "none" or arms is not None:
        raise InputError(f"Contrast phase and arm position need phantom generator version {realistic} "
                         f"(--phantom-version {realistic}).")
    if pet_noise != "scaled" or counts is not None:
        raise InputError(f"--pet-noise counts needs phantom generator version {realistic} "
                         f"(--phantom-version {realistic}).")
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(5)]
    anatomy_rng, lesion_rng, physiology_rng, ct_rng, pet_rng = rngs
    stage = "phantom"
    report(progress, cancel, stage, 0, 4, "anatomy")
    shape, spacing, origin = ct_grid(config)
    grid = AxisGrid.from_geometry(shape, spacing, origin)
    subject = random_subject(anatomy_rng)
    anatomy = build_anatomy(grid, subject, anatomy_rng)
    lesions, disease_overrides = place_lesions(anatomy, lesion_class, lesion_rng)
    organ_suv, myocardium_state = _subject_organ_suv(physiology_rng)
    organ_suv |= disease_overrides

    report(progress, cancel, stage, 1, 4, "CT")
    hu_mean = hu_table()[anatomy.labels]
    suv_fine = suv_table(organ_suv)[anatomy.labels]
    _lung_gravity_gradient(suv_fine, anatomy, organ_suv["lung"])
    lesion_map = render_lesions(grid, lesions, suv_fine, hu_mean)
    ct_noise_sd = config.ct_noise_sd if config.ct_noise_sd is not None else float(ct_rng.uniform(*CT_NOISE_SD_RANGE))
    ct = _make_ct(anatomy, lesion_map, hu_mean, ct_noise_sd, config, ct_rng)

    report(progress, cancel, stage, 2, 4, "PET")
    liver_cov = config.liver_cov if config.liver_cov is not None else float(pet_rng.uniform(*LIVER_COV_RANGE))
    pet_shape, pet_spacing, pet_origin = pet_grid(config, shape, spacing, origin)
    blurred = scanner_blur(suv_fine, spacing, config.pet_fwhm_mm)
    pet = resample_axis_aligned(blurred, spacing, origin, pet_shape, pet_spacing, pet_origin)
    if config.noise:
        pet = add_pet_noise(pet, liver_cov, organ_suv["liver"], pet_rng)

    report(progress, cancel, stage, 3, 4, "manifest")
    manifest = _manifest(seed, lesion_class, anatomy, lesions, organ_suv, ct_noise_sd, liver_cov, config,
                         physiology_rng)
    manifest["myocardium_state"] = myocardium_state
    case = assemble_case(ct, pet, pet_spacing, pet_origin, anatomy.labels, lesion_map, suv_fine, spacing, origin,
                         manifest)
    report(progress, cancel, stage, 4, 4, "done")
    return case


def assemble_case(ct, pet, pet_spacing, pet_origin, labels, lesion_map, suv_fine, spacing, origin,
                  manifest: dict) -> WholeBodyCase:
    """The case's volumes: CT, organ and lesion maps and the noise-free PET on the CT grid, the PET on its own."""
    geometry = {"spacing": spacing, "origin": origin}
    return WholeBodyCase(
        ct=Volume(ct, modality="CT", units="HU", **geometry),
        pet=Volume(pet.astype(np.float32), spacing=pet_spacing, origin=pet_origin, modality="PT", units="SUV"),
        organs=Volume(labels, modality="SEG", units="label", **geometry),
        lesions=Volume(lesion_map, modality="SEG", units="label", **geometry),
        manifest=manifest,
        pet_truth=Volume(suv_fine, modality="PT", units="SUV", **geometry),
    )


def _subject_organ_suv(rng: np.random.Generator) -> tuple[dict[str, float], str]:
    """Per-subject organ SUVs around the §1 means (inter-subject SD where published)."""
    t = TISSUE_BY_NAME
    liver = float(np.clip(rng.normal(t["liver"].suv_mean, 0.25), 1.7, 2.8))  # 2.2±0.4 (Boktor)
    blood = float(np.clip(rng.normal(t["blood"].suv_mean, 0.15), 1.2, 2.0))  # 1.55±0.38
    # Myocardium: suppressed (0.70-0.75x blood) in ~55 % after an overnight fast, else partly or fully hot
    # (SUVmax >10 unsuppressed †) - J Nucl Cardiol 2019 (PMC6928445).
    state = rng.choice(["suppressed", "partial", "hot"], p=[0.55, 0.2, 0.25])
    myocardium = {"suppressed": blood * rng.uniform(0.70, 0.75), "partial": rng.uniform(2.5, 5.0),
                  "hot": rng.uniform(6.0, 14.0)}[state]
    urine = float(np.clip(rng.lognormal(np.log(11.0), 0.6), 4.0, 40.0))  # 13.8±10.3 (JNM 2015)
    values = {
        "liver": liver, "blood": blood, "myocardium": float(myocardium), "urine": urine,
        "spleen": float(liver * rng.uniform(0.75, 0.95)),  # below liver (§1 †)
        "grey_matter": float(rng.uniform(8.0, 12.0)), "cerebellum": float(np.clip(rng.normal(8.0, 1.0), 6, 10)),
        "kidney": float(rng.uniform(3.0, 4.5)), "lung": float(rng.uniform(0.5, 0.6)),
        "cancellous_bone": float(np.clip(rng.normal(1.43, 0.2), 1.0, 2.0)),  # 1.41-1.46±0.27 (CAMONA)
        "muscle": float(rng.uniform(0.6, 1.0)),
    }
    values["white_matter"] = values["grey_matter"] / rng.uniform(2.5, 3.0)  # GM:WM 2.5-3 (§1 †)
    return {k: round(v, 4) for k, v in values.items()}, str(state)


def _lung_gravity_gradient(suv: np.ndarray, anatomy: Anatomy, lung_suv: float) -> None:
    """Dependent (posterior) lung ~40 % above the anterior lung (Eur J Nucl Med 1996;23:517)."""
    y = anatomy.grid.y
    weight = np.clip((y - y.min()) / max(np.ptp(y), 1e-6), 0, 1)
    span = 1.0 + 0.4 * (weight - 0.5)
    lung = anatomy.labels == LABEL["lung"]
    suv[lung] = (lung_suv * np.broadcast_to(span[None, :, None], suv.shape)[lung]).astype(suv.dtype)


def scanner_blur(array: np.ndarray, spacing_ijk, fwhm_mm: float) -> np.ndarray:
    """Isotropic Gaussian PSF of ``fwhm_mm`` applied in physical units on an anisotropic grid."""
    if fwhm_mm <= 0:
        return array.astype(np.float32, copy=True)
    sigma_kji = [fwhm_mm * FWHM_TO_SIGMA / s for s in spacing_ijk[::-1]]
    return ndimage.gaussian_filter(array.astype(np.float32, copy=False), sigma_kji, mode="constant", truncate=3.0)


def resample_axis_aligned(array, spacing, origin, out_shape, out_spacing, out_origin, order: int = 1) -> np.ndarray:
    """Linear resampling between two identity-direction grids (zero outside the source)."""
    scale = np.asarray(out_spacing[::-1]) / np.asarray(spacing[::-1])
    offset = (np.asarray(out_origin[::-1]) - np.asarray(origin[::-1])) / np.asarray(spacing[::-1])
    return ndimage.affine_transform(array, scale, offset=offset, output_shape=out_shape, order=order,
                                    mode="constant", cval=0.0, output=np.float32)


def add_pet_noise(mean: np.ndarray, liver_cov: float, liver_suv: float, rng: np.random.Generator) -> np.ndarray:
    """Poisson-like noise: SD = k·sqrt(mean), with k set so that SD/mean in the liver equals ``liver_cov``.

    The noise field is slightly smoothed (reconstructed PET noise is correlated over ~1 voxel) and then
    rescaled by the smoothing kernel's norm so its SD stays exactly 1.
    """
    white = rng.standard_normal(mean.shape, dtype=np.float32)
    correlated = ndimage.gaussian_filter(white, 0.6, truncate=3.0) / _gaussian_noise_gain(0.6, 3)
    k = liver_cov * np.sqrt(liver_suv)
    noisy = mean + k * np.sqrt(np.maximum(mean, 0.0)) * correlated
    return np.maximum(noisy, 0.0).astype(np.float32)


def _gaussian_noise_gain(sigma_voxels: float, ndim: int) -> float:
    """SD of unit white noise after scipy's Gaussian filter (norm of the sampled, truncated kernel)."""
    impulse = np.zeros(25)
    impulse[12] = 1.0
    kernel = ndimage.gaussian_filter1d(impulse, sigma_voxels, truncate=3.0)
    return float(np.sqrt(np.sum(kernel**2)) ** ndim)


def _make_ct(anatomy, lesion_map, hu_mean, noise_sd, config, rng) -> np.ndarray:
    """HU + tissue texture (~3 mm grain) + scanner noise; a couch under the patient; int16 like real CT."""
    spacing = np.array([config.ct_slice_mm, config.ct_voxel_mm, config.ct_voxel_mm])
    ct = hu_mean  # modified in place (the caller hands it over): ~90 MB at the default size
    if config.ct_texture:
        sigma = np.maximum(1.5 / spacing, 0.3)
        grain = ndimage.gaussian_filter(rng.standard_normal(ct.shape, dtype=np.float32), sigma, truncate=2.5)
        grain /= max(float(grain[::4, ::4, ::4].std()), 1e-6)
        texture_sd = texture_sd_table()[anatomy.labels]
        texture_sd[lesion_map > 0] = 8.0
        grain *= texture_sd
        ct += grain
        del grain, texture_sd
    add_couch(ct, anatomy)
    if config.noise:
        noise = rng.standard_normal(ct.shape, dtype=np.float32)
        noise *= noise_sd
        ct += noise
        del noise
    np.rint(ct, out=ct)
    np.clip(ct, -1024, 3071, out=ct)
    return ct.astype(np.int16)


def add_couch(ct: np.ndarray, anatomy: Anatomy) -> None:
    """The patient table (carbon fibre, ~-200..300 HU †) 20 mm behind the back; CT only (not in the labels)."""
    body = anatomy.labels > 0
    back = anatomy.grid.y[np.nonzero(body.any(axis=(0, 2)))[0].max()] if body.any() else 0.0
    y, x = anatomy.grid.y, anatomy.grid.x
    rows = (y > back + 20) & (y < back + 26)
    cols = np.abs(x) < 220
    if rows.any():
        ct[:, np.nonzero(rows)[0][:, None], np.nonzero(cols)[0][None, :]] = 250.0


def _manifest(seed, lesion_class, anatomy, lesions, organ_suv, ct_noise_sd, liver_cov, config, rng) -> dict:
    subject = anatomy.subject
    # 3-4 MBq/kg is usual adult practice (EANM guideline †); uptake time ~60 min (§1 values are at ~60 min).
    dose = round(float(subject.weight_kg * rng.uniform(3.0, 4.0)), 1)
    injection = dt.datetime(2026, 1, 5, 8, 0, 0) + dt.timedelta(minutes=int(rng.integers(0, 420)))
    scan = injection + dt.timedelta(minutes=int(rng.integers(55, 71)))
    return {
        "generator": GENERATOR_VERSION,
        "generator_version": 1,
        "kind": "wholebody",
        "seed": int(seed),
        "class": lesion_class,
        "subject": asdict(subject) | {"bmi": round(subject.bmi, 2), "subcutaneous_fat_mm": anatomy.landmarks["fat_mm"]},
        "injected_dose_mbq": dose,
        "injection_time": injection.isoformat(),
        "scan_time": scan.isoformat(),
        "uptake_minutes": int((scan - injection).total_seconds() // 60),
        "organ_suv": organ_suv,
        "ct_noise_sd_hu": round(ct_noise_sd, 2),
        "pet_liver_cov": round(liver_cov, 4),
        "pet_fwhm_mm": config.pet_fwhm_mm,
        "lesions": [lesion.to_manifest() for lesion in lesions],
        "config": asdict(config),
    }
