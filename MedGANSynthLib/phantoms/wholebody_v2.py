"""Whole-body FDG PET/CT phantom, generator versions 2, 3 and 4: realistic anatomy, optional portal-venous contrast.

Version 3 is version 2 with three corrections towards published values (REFERENCE.md §3 and §7): women's muscle
attenuation by age, women's narrower waist (less visceral fat) and the nephrographic-phase renal medulla
(:mod:`values_v3`). Version 4 is version 3 with ten more (:mod:`values_v4`: men's muscle attenuation by age,
women's marrow SUV by age, muscle, fat, kidney-cortex and cortical-bone SUV, thyroid and pancreas HU, muscle and
small-bowel enhancement) and diffuse splenic lymphoma above the subject's own liver. A seed draws the same subject in every version; the arrays of versions 2 and 3 never change.
Version 5 (open) draws both contrast phases of a seed alike (:mod:`values_v5`) and gives women an endometrium by
menstrual phase or menopause (:mod:`endometrium_v5`) and breast fibroglandular tissue by density (:mod:`breast_v5`).
Version 6 is version 5 with the unenhanced CT's noise SD drawn from a band measured on real PET/CT CTs
(:mod:`ct_noise_v6`); every other array and draw is version 5's. Version 7 moves the lymph nodes into fat
(:mod:`nodes_in_fat_v7`); version 8 adds the perineum and the axillary fat pads (:mod:`perineum_v8`, :mod:`axilla_v8`)
with no draw of its own (same subject and values as version 7) and places a station's nodes apart in that fat, so
where nodes land, and the lesion draws after a retried node, may differ from version 7's. Version 9 adds the external
genitalia (:mod:`genitalia_v9`: scrotum, testes and penis, or the labia majora) and draws a woman's myometrium at its
published uptake (:mod:`myometrium_v9`), each from a stream of its own, so every other draw is version 8's. Version 10
gives the aorta and the trachea their published calibres by sex (:mod:`mediastinum_v10`), with no draw of its own.

Same grids, lesion classes and outputs as version 1 (:mod:`wholebody`), on the anatomy of :mod:`anatomy_v2`
with per-subject values from :mod:`values_v2` (sources in REFERENCE.md).

CT: tissue HU (unenhanced or portal-venous) + correlated texture, then the scanner's blur - in-plane Gaussian
of ``CT_INPLANE_FWHM_MM`` and a slice profile as wide as the slice - which gives partial volume at every
boundary, then white noise of the protocol's SD (REFERENCE.md §3), a couch, int16.
PET: SUV per tissue and lesions on the CT grid, blurred by the PSF (FWHM ``pet_fwhm_mm``), resampled to the
clinical PET grid (4 mm), Poisson-like noise whose scale gives the published liver CoV (as version 1), or with
``pet_noise="counts"`` noise from the counts a clinical acquisition collects (:mod:`pet_counts`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

import numpy as np
from scipy import ndimage

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback, report
from MedGANSynthLib.phantoms import breast_v5, endometrium_v5, genitalia_v9, myometrium_v9
from MedGANSynthLib.phantoms.anatomy_v2 import build_anatomy_v2
from MedGANSynthLib.phantoms.breast_v5 import draw_breast
from MedGANSynthLib.phantoms.ct_noise_v6 import CT_NOISE_SD_V6
from MedGANSynthLib.phantoms.endometrium_v5 import draw_endometrium
from MedGANSynthLib.phantoms.frame_v2 import ARM_POSITIONS, random_subject_v2
from MedGANSynthLib.phantoms.genitalia_v9 import draw_genitalia, set_genitalia_values
from MedGANSynthLib.phantoms.lesions import check_lesion_class, place_lesions, render_lesions
from MedGANSynthLib.phantoms.myometrium_v9 import draw_myometrium_suv
from MedGANSynthLib.phantoms.pet_counts import (
    CountStatistics,
    add_count_noise,
    check_pet_noise,
    counts_per_suv,
    water_equivalent_diameter_mm,
)
from MedGANSynthLib.phantoms.shapes import AxisGrid
from MedGANSynthLib.phantoms.tissues import LABEL, LIVER_COV_RANGE
from MedGANSynthLib.phantoms.values_v2 import (
    CONTRAST_PHASES,
    CT_NOISE_SD,
    METASTASIS_HU_DROP,
    METASTASIS_PV_SHARE,
    lookup,
    sample_values,
)
from MedGANSynthLib.phantoms.values_v3 import sample_values_v3
from MedGANSynthLib.phantoms.values_v4 import sample_values_v4
from MedGANSynthLib.phantoms.values_v5 import sample_values_v5, texture_lookup_v5

GENERATOR_VERSION_2 = "wholebody-2"
GENERATOR_VERSION_3 = "wholebody-3"
GENERATOR_VERSION_4 = "wholebody-4"
GENERATOR_VERSION_5 = "wholebody-5"
GENERATOR_VERSION_6 = "wholebody-6"
GENERATOR_VERSION_7 = "wholebody-7"
GENERATOR_VERSION_8 = "wholebody-8"
GENERATOR_VERSION_9 = "wholebody-9"
GENERATOR_VERSION_10 = "wholebody-10"
CT_INPLANE_FWHM_MM = 1.2  # standard soft-tissue kernel, typical †
FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


def check_v2_options(contrast: str, arms: str | None) -> None:
    if contrast not in CONTRAST_PHASES:
        raise InputError(f"Unknown contrast phase '{contrast}'; choose one of: {', '.join(CONTRAST_PHASES)}.")
    if arms is not None and arms not in ARM_POSITIONS:
        raise InputError(f"Unknown arm position '{arms}'; choose one of: {', '.join(ARM_POSITIONS)}.")


def case_streams(seed: int) -> tuple[np.random.Generator, ...]:
    """A case's six random streams (anatomy, lesions, physiology, CT, PET, record): scripts that need the subject's
    frame without building the case draw it from the first, as the generator does."""
    return tuple(np.random.default_rng(s) for s in np.random.SeedSequence([int(seed), 2]).spawn(6))


def make_wholebody_case_v2(seed: int, lesion_class: str, config, progress: ProgressCallback | None = None,
                           cancel: CancelToken | None = None, contrast: str = "none", arms: str | None = None,
                           pet_noise: str = "scaled", counts: CountStatistics | None = None, version: int = 2):
    """Generate one version-2 (3 or 4) case; the same (seed, class, config, contrast, arms, noise, version) gives
    identical arrays.

    ``pet_noise`` "scaled" (default) scales Poisson-like noise to a drawn liver CoV; "counts" derives it from
    the acquisition in ``counts`` (default :class:`CountStatistics`); the arrays of "scaled" never change.
    """
    from MedGANSynthLib.phantoms.wholebody import (
        add_pet_noise,
        assemble_case,
        ct_grid,
        pet_grid,
        resample_axis_aligned,
        scanner_blur,
    )

    check_lesion_class(lesion_class)
    check_v2_options(contrast, arms)
    check_pet_noise(pet_noise)
    if counts is not None and pet_noise != "counts":
        raise InputError("Acquisition settings for the PET noise need --pet-noise counts.")
    anatomy_rng, lesion_rng, physiology_rng, ct_rng, pet_rng, record_rng = case_streams(seed)
    stage = "phantom"
    report(progress, cancel, stage, 0, 4, "anatomy")
    shape, spacing, origin = ct_grid(config)
    grid = AxisGrid.from_geometry(shape, spacing, origin)
    subject = random_subject_v2(anatomy_rng, arms)
    # Version 5: a woman's menstrual state, from its own stream of the seed (the same in both contrast phases)
    endometrium = (draw_endometrium(_own_stream(seed, endometrium_v5.STREAM_KEY), subject.age_years)
                   if version >= 5 and subject.sex == "F" else None)
    breast = (draw_breast(_own_stream(seed, breast_v5.STREAM_KEY), subject.age_years)
              if version >= 5 and subject.sex == "F" else None)
    # Version 9: the external genitalia's sizes and the testes' values, from a stream of their own
    genitalia = (draw_genitalia(_own_stream(seed, genitalia_v9.STREAM_KEY), subject.sex, subject.age_years)
                 if version >= 9 else None)
    anatomy = build_anatomy_v2(grid, subject, anatomy_rng, version,
                               endometrium.thickness_mm if endometrium is not None else None, genitalia)
    values = _sample_values(version, physiology_rng, subject, contrast, endometrium, breast)  # own stream: order free
    if genitalia is not None:
        set_genitalia_values(values, genitalia)
    if version >= 9 and subject.sex == "F":  # the myometrium at its published uptake, from a stream of its own
        values.suv["uterus"] = draw_myometrium_suv(_own_stream(seed, myometrium_v9.STREAM_KEY))
    # Version 4 sets diffuse splenic lymphoma above this subject's liver; 1-3 above the v1 table's 2.2.
    lesions, disease_overrides = place_lesions(anatomy, lesion_class, lesion_rng,
                                               liver_suv=values.suv["liver"] if version >= 4 else None,
                                               nodes_in_fat=version >= 7, nodes_apart=version >= 8)
    values.suv.update(disease_overrides)
    _set_organ_lesion_hu(lesions, values, contrast, lesion_rng, version)

    report(progress, cancel, stage, 1, 4, "CT")
    hu_mean = lookup(values.hu)[anatomy.labels]
    suv_fine = lookup(values.suv)[anatomy.labels]
    _lung_gravity_gradient(suv_fine, anatomy, values.suv["lung"])
    lesion_map = render_lesions(grid, lesions, suv_fine, hu_mean)
    noise_band = CT_NOISE_SD_V6[contrast] if version >= 6 else CT_NOISE_SD[contrast]  # the same one draw either way
    ct_noise_sd = float(ct_rng.uniform(*noise_band)) if config.ct_noise_sd is None else config.ct_noise_sd
    if pet_noise == "counts":
        water_diameter = water_equivalent_diameter_mm(hu_mean, anatomy.labels > 0, spacing[0] * spacing[1])
    ct = _make_ct(anatomy, lesion_map, hu_mean, ct_noise_sd, config, ct_rng)

    report(progress, cancel, stage, 2, 4, "PET")
    liver_cov = config.liver_cov if config.liver_cov is not None else float(pet_rng.uniform(*LIVER_COV_RANGE))
    pet_shape, pet_spacing, pet_origin = pet_grid(config, shape, spacing, origin)
    if config.ct_voxel_mm < 0.6 * config.pet_voxel_mm:
        blurred, blur_spacing, blur_origin = pooled_pet_blur(suv_fine, spacing, origin, config.pet_fwhm_mm)
    else:
        blurred, blur_spacing, blur_origin = scanner_blur(suv_fine, spacing, config.pet_fwhm_mm), spacing, origin
    pet = resample_axis_aligned(blurred, blur_spacing, blur_origin, pet_shape, pet_spacing, pet_origin)
    del blurred
    acquisition = _acquisition(subject, record_rng)
    counts_record = None
    if config.noise and pet_noise == "counts":
        settings = counts or CountStatistics()
        pet_z = pet_origin[2] + pet_spacing[2] * np.arange(pet_shape[0])
        per_suv = counts_per_suv(np.interp(pet_z, grid.z, water_diameter), float(np.prod(pet_spacing)) / 1000.0,
                                 settings.dose_mbq_per_kg or acquisition["injected_dose_mbq"] / subject.weight_kg,
                                 acquisition["uptake_minutes"], settings)
        pet = add_count_noise(pet, per_suv, pet_rng)
        counts_record = asdict(settings) | {"counts_per_suv_median": round(float(np.median(per_suv)), 2)}
    elif config.noise:
        pet = add_pet_noise(pet, liver_cov, values.suv["liver"], pet_rng)

    report(progress, cancel, stage, 3, 4, "manifest")
    manifest = _manifest(seed, lesion_class, anatomy, lesions, values, contrast, ct_noise_sd, liver_cov, config,
                         acquisition, version)
    if version >= 5:
        manifest["endometrium"] = endometrium.to_manifest() if endometrium is not None else None
        manifest["breast"] = breast.to_manifest() if breast is not None else None
    if version >= 9:
        manifest["genitalia"] = genitalia.to_manifest()
    if pet_noise == "counts":  # the default's manifest stays as it was
        manifest["pet_noise"] = {"model": "counts", "settings": counts_record}
        del manifest["pet_liver_cov"]
    case = assemble_case(ct, pet, pet_spacing, pet_origin, anatomy.labels, lesion_map, suv_fine, spacing, origin,
                         manifest)
    report(progress, cancel, stage, 4, 4, "done")
    return case


def _own_stream(seed: int, key: int) -> np.random.Generator:
    """A generator of its own for one version-5 state (endometrium, breast): a child of the case seed's sequence,
    keyed by the module's ``STREAM_KEY``, that no other draw uses, so adding a state moves no other draw."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), 2], spawn_key=(key,)))


def _sample_values(version: int, rng, subject, contrast: str, endometrium=None, breast=None):
    if version >= 5:
        return sample_values_v5(rng, subject.sex, subject.age_years, contrast, endometrium, breast)
    if version == 4:
        return sample_values_v4(rng, subject.sex, subject.age_years, contrast)
    if version == 3:
        return sample_values_v3(rng, subject.sex, subject.age_years, contrast)
    return sample_values(rng, subject.age_years, contrast)


def _set_organ_lesion_hu(lesions, values, contrast: str, rng, version: int = 2) -> None:
    """Liver/spleen lesions: hypodense to the organ (unenhanced, Bressler 1987 †); in the portal-venous phase a
    hypovascular metastasis takes up only part of the organ's enhancement (†), so it stays dark. Version 5 draws
    the share in both phases (used only when enhanced), so a seed's second lesion gets the same unenhanced HU in
    both; versions 2-4 drew it in the portal-venous phase only."""
    for lesion in lesions:
        if lesion.site not in ("liver", "spleen"):
            continue
        plain = values.hu_unenhanced[lesion.site] - rng.uniform(*METASTASIS_HU_DROP)
        enhancement = values.hu[lesion.site] - values.hu_unenhanced[lesion.site]
        drawn = contrast == "portal-venous" or version >= 5  # unenhanced, the enhancement it multiplies is 0
        share = rng.uniform(*METASTASIS_PV_SHARE) if drawn else 0.0
        lesion.hu = float(plain + share * enhancement)


def _lung_gravity_gradient(suv: np.ndarray, anatomy, lung_suv: float) -> None:
    """A linear ramp across the lungs from x 0.8 (anterior edge) to x 1.2 (posterior edge) of the drawn SUV, so the
    dependent lung is hotter: the posterior edge is 1.5 x the anterior edge and 1.2 x the drawn value. The source
    (Eur J Nucl Med 1996;23:517) gives the dependent base 0.80 ± 0.23, ~40 % above the rest; the ramp's shape †."""
    lung = anatomy.labels == LABEL["lung"]
    rows = np.nonzero(lung.any(axis=(0, 2)))[0]
    if rows.size == 0:
        return
    y = anatomy.grid.y
    weight = np.clip((y - y[rows.min()]) / max(y[rows.max()] - y[rows.min()], 1e-6), 0, 1)
    span = (1.0 + 0.4 * (weight - 0.5)).astype(np.float32)
    suv[lung] = (lung_suv * np.broadcast_to(span[None, :, None], suv.shape)[lung]).astype(suv.dtype)


def _make_ct(anatomy, lesion_map, hu, noise_sd, config, rng) -> np.ndarray:
    """HU + texture + quantum noise, all seen through the scanner's blur (partial volume at boundaries and
    noise correlated over ~1 voxel, as in reconstructed CT); a couch under the patient; int16."""
    spacing = np.array([config.ct_slice_mm, config.ct_voxel_mm, config.ct_voxel_mm])
    fwhm = np.array([config.ct_slice_mm, CT_INPLANE_FWHM_MM, CT_INPLANE_FWHM_MM])
    sigma = fwhm * FWHM_TO_SIGMA / spacing
    ct = hu
    _add_couch(ct, anatomy)
    texture = texture_lookup_v5()[anatomy.labels] if config.ct_texture else np.zeros(ct.shape, np.float32)
    texture[lesion_map > 0] = 8.0 if config.ct_texture else 0.0
    texture **= 2
    texture += noise_sd**2 if config.noise else 0.0
    np.sqrt(texture, out=texture)
    texture /= np.float32(gaussian_noise_gain(sigma))  # the blur below brings each SD back to its value
    white = rng.standard_normal(ct.shape, dtype=np.float32)
    white *= texture
    ct += white
    del white, texture
    ct = ndimage.gaussian_filter(ct, sigma, truncate=3.0, output=np.float32)
    np.rint(ct, out=ct)
    np.clip(ct, -1024, 3071, out=ct)
    return ct.astype(np.int16)


def gaussian_noise_gain(sigma_per_axis) -> float:
    """SD of unit white noise after scipy's Gaussian filter with these sigmas (truncate 3)."""
    gain = 1.0
    for sigma in sigma_per_axis:
        impulse = np.zeros(41)
        impulse[20] = 1.0
        kernel = ndimage.gaussian_filter1d(impulse, float(sigma), truncate=3.0) if sigma > 0 else impulse
        gain *= float(np.sqrt(np.sum(kernel**2)))
    return gain


def _add_couch(ct: np.ndarray, anatomy) -> None:
    """Carbon-fibre table (~250 HU †), 6 mm thick, where the trunk's back typically lies (median over the trunk's
    slices): the head and buttocks sink into the mattress, so the table only fills air; CT only."""
    body = anatomy.labels > 0
    y, x = anatomy.grid.y, anatomy.grid.x
    top, bottom = anatomy.landmarks["trunk_z"]
    rows = np.nonzero((anatomy.grid.z <= top) & (anatomy.grid.z >= bottom))[0]
    backs = [y[np.nonzero(body[k].any(axis=1))[0].max()] for k in rows if body[k].any()]
    if not backs:
        return
    back = float(np.median(backs))
    table = np.nonzero((y > back + 1) & (y <= back + 7))[0]
    cols = np.nonzero(np.abs(x) < 230)[0]
    if table.size:
        region = ct[:, table[:, None], cols[None, :]]
        air = anatomy.labels[:, table[:, None], cols[None, :]] == 0
        region[air] = 250.0
        ct[:, table[:, None], cols[None, :]] = region


def pooled_pet_blur(suv, spacing, origin, fwhm_mm):
    """PSF blur on a 2x2-pooled in-plane grid: the pooling's box (variance w²/12) is taken out of the Gaussian,
    so the total second moment equals the PSF's; returns (array, spacing, origin) of the pooled grid."""
    nk, nj, ni = suv.shape
    pooled = suv[:, : nj // 2 * 2, : ni // 2 * 2].reshape(nk, nj // 2, 2, ni // 2, 2).mean(axis=(2, 4))
    new_spacing = (spacing[0] * 2, spacing[1] * 2, spacing[2])
    new_origin = (origin[0] + spacing[0] / 2, origin[1] + spacing[1] / 2, origin[2])
    target = (fwhm_mm * FWHM_TO_SIGMA) ** 2
    sigmas = []
    for axis_spacing, pooled_width in ((spacing[2], 0.0), (new_spacing[1], new_spacing[1]), (new_spacing[0], new_spacing[0])):
        variance = max(target - pooled_width**2 / 12.0, 0.0)
        sigmas.append(np.sqrt(variance) / axis_spacing)
    blurred = ndimage.gaussian_filter(pooled.astype(np.float32), sigmas, mode="constant", truncate=3.0)
    return blurred, new_spacing, new_origin


def _acquisition(subject, rng) -> dict:
    """Injected dose, injection and scan times (drawn in this order from the record stream)."""
    dose = round(float(subject.weight_kg * rng.uniform(3.0, 4.0)), 1)  # 3-4 MBq/kg (EANM †)
    injection = dt.datetime(2026, 1, 5, 8, 0, 0) + dt.timedelta(minutes=int(rng.integers(0, 420)))
    scan = injection + dt.timedelta(minutes=int(rng.integers(55, 71)))
    return {"injected_dose_mbq": dose, "injection_time": injection.isoformat(), "scan_time": scan.isoformat(),
            "uptake_minutes": int((scan - injection).total_seconds() // 60)}


def _manifest(seed, lesion_class, anatomy, lesions, values, contrast, ct_noise_sd, liver_cov, config,
              acquisition, version) -> dict:
    subject = anatomy.subject
    return {
        "generator": {2: GENERATOR_VERSION_2, 3: GENERATOR_VERSION_3, 4: GENERATOR_VERSION_4,
                      5: GENERATOR_VERSION_5, 6: GENERATOR_VERSION_6, 7: GENERATOR_VERSION_7,
                      8: GENERATOR_VERSION_8, 9: GENERATOR_VERSION_9,
                      10: GENERATOR_VERSION_10}[version],
        "generator_version": version,
        "kind": "wholebody",
        "seed": int(seed),
        "class": lesion_class,
        "contrast": contrast,
        "subject": asdict(subject) | {"bmi": round(subject.bmi, 2), "subcutaneous_fat_mm": anatomy.landmarks["fat_mm"]},
        **acquisition,
        "organ_suv": values.suv,
        "organ_hu": values.hu,
        "organ_hu_unenhanced": values.hu_unenhanced,
        "landmarks": anatomy.landmarks["vertebrae"] | {"spine_y_L4": anatomy.landmarks["spine_y_L4"]},
        "myocardium_state": values.myocardium_state,
        "ct_noise_sd_hu": round(ct_noise_sd, 2),
        "pet_liver_cov": round(liver_cov, 4),
        "pet_fwhm_mm": config.pet_fwhm_mm,
        "lesions": [lesion.to_manifest() for lesion in lesions],
        "config": asdict(config),
    }
