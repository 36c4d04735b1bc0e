"""Standardised uptake value (SUV, body-weight normalised) of PET images, from DICOM headers or user overrides.

SUVbw = activity concentration [Bq/ml] * body weight [g] / (injected activity [Bq] * 2^(-t / T1/2)), with tissue
density 1 g/ml, as in the QIBA FDG-PET profile and its vendor-neutral SUV pseudo-code.

Which time is ``t`` (the decay reference), by DICOM DecayCorrection (0054,1102):

* ``START``: pixels are decay-corrected to the start of the series acquisition (DICOM PS3.3 C.8.9.4.1.5 derives
  that reference from Series Date/Time), so ``t`` runs from the injection (RadiopharmaceuticalStartDateTime, else
  RadiopharmaceuticalStartTime) to SeriesDate+SeriesTime. When SeriesTime is absent, or later than the earliest
  AcquisitionDate+AcquisitionTime of the slices (a post-processed series re-stamped later), the earliest
  acquisition time is used instead -- the vendor-neutral QIBA choice. For a dynamic frame (real ``2.dcm``) the
  frame's own AcquisitionTime is NOT the reference: its pixels are corrected back to the series start.
* ``ADMIN``: pixels are already decay-corrected to the injection, so there is no decay factor (t = 0).
* ``NONE``: each slice holds the activity at its own time, which PS3.3 C.8.9.4.1.5 defines exactly: Frame
  Reference Time (0054,1300, Type 1) is the offset in ms from the series reference time (Series Date/Time) at which
  the pixel values occurred. So ``t`` of slice k = SeriesDate/Time + FrameReferenceTime_k - injection. The QIBA
  pseudo-code stops at START; we correct per slice rather than refuse because the standard leaves no guess. A
  slice without FrameReferenceTime (or a series without SeriesTime) is refused: its frame start alone would
  ignore the decay during the frame (1.6 % for a 5-min F-18 frame).

Units (0054,1001), as the QIBA pseudo-code treats them:

* ``BQML``: converted as above.
* ``CNTS``: Philips counts. With the Philips SUV scale factor (7053,1000) the SUV is the rescaled value times that
  factor; else with the activity-concentration factor (7053,1009) the rescaled value times it is Bq/ml, converted
  as BQML. Without either it is refused.
* ``GML``: already SUVbw (only the rescale is applied), checked: an image peaking above 1,000 g/ml holds Bq/ml and
  is refused, and overrides (which it cannot use) are refused.
* Anything else is refused with the unit named.

A missing RadionuclideHalfLife is taken from RadionuclideCodeSequence (code, else code meaning; see
:mod:`MedGANSynthLib.pet.radionuclides`). Explicit overrides (weight, dose, times, half-life) win over tags and are
recorded in ``volume.metadata["suv"]["overrides"]``. Plausibility warnings (:mod:`suv_plausibility`) are listed in
``volume.metadata["suv"]["warnings"]``.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, time
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.dicom_series import read_dicom_series_with_headers
from MedGANSynthLib.io.volume_io import read_volume, volume_suffix
from MedGANSynthLib.pet.philips import ACTIVITY_CONCENTRATION_SCALE_FACTOR, SUV_SCALE_FACTOR, philips_factors
from MedGANSynthLib.pet.radionuclides import F18, HALF_LIFE_TOLERANCE, is_f18_half_life, radionuclide_of
from MedGANSynthLib.pet.suv_plausibility import (
    MAX_PLAUSIBLE_PEAK_GML,
    bqml_value_warnings,
    parameter_warnings,
    suv_value_warnings,
)
from MedGANSynthLib.pet.timestamps import (
    Timestamp,
    dicom_timestamp,
    parse_dicom_datetime,
    parse_user_time,
    uptake_seconds,
)
from MedGANSynthLib.volume import Volume

# Above this a "weight" is impossible for a human (the heaviest recorded was about 635 kg): grams typed as
# kilograms, refused. Between 300 kg and this it is possible but unusual (pounds typed as kilograms, or a
# bariatric patient beyond clinical PET tables), so it is converted and warned about (suv_plausibility.WEIGHT_KG).
MAX_PLAUSIBLE_WEIGHT_KG = 700.0
DEFAULT_HALF_LIFE_S = F18.half_life_s
"""Half-life for a PET without DICOM headers whose user gives none, where a caller allows a default (the Slicer
panel): F-18, 109.77 min, since FDG is by far the most common PET tracer (PHANTOM_REFERENCE.md)."""
SUPPORTED_DECAY_CORRECTIONS = ("START", "ADMIN", "NONE")

TimeInput = str | datetime | time | Timestamp | None


@dataclass(frozen=True)
class SuvOverrides:
    """Values the user gives for files that lack (or have wrong) tags; each one, when set, wins over the tag."""

    weight_kg: float | None = None
    dose_mbq: float | None = None
    injection_time: TimeInput = None
    scan_time: TimeInput = None
    half_life_s: float | None = None

    def given(self) -> list[str]:
        return [name for name, value in asdict(self).items() if value is not None]


@dataclass(frozen=True)
class SuvParameters:
    """Everything SUVbw needs; ``scale`` turns Bq/ml at the decay reference (``scan_time``) into SUV.

    ``frame_offsets_s`` (DecayCorrection NONE only) holds each slice's FrameReferenceTime in seconds after
    ``scan_time``; each slice then decays for its own time. ``notes`` carries warnings found while reading tags.
    """

    weight_kg: float
    dose_bq: float
    injection_time: Timestamp
    scan_time: Timestamp
    half_life_s: float
    decay_correction: str = "START"
    overrides: tuple[str, ...] = field(default_factory=tuple)
    frame_offsets_s: tuple[float, ...] = field(default_factory=tuple)
    half_life_source: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        _require_positive(self.weight_kg, "patient weight", "kg", "--weight-kg")
        if self.weight_kg > MAX_PLAUSIBLE_WEIGHT_KG:
            raise InputError(
                f"A patient weight of {self.weight_kg:g} kg is implausible (grams or pounds?); pass --weight-kg in kg."
            )
        _require_positive(self.dose_bq / 1e6, "injected dose", "MBq", "--dose-mbq")
        _require_positive(self.half_life_s, "radionuclide half-life", "s", "--half-life-s")
        if self.decay_correction not in SUPPORTED_DECAY_CORRECTIONS:
            raise InputError(
                f"PET DecayCorrection is '{self.decay_correction}'; only START, ADMIN or NONE images can be turned "
                "into SUV."
            )
        self.uptake_s  # noqa: B018 -- raises InputError now when the injection is after the scan
        if self.frame_offsets_s and self.uptake_s + min(self.frame_offsets_s) < 0:
            raise InputError(
                f"A PET frame was acquired {-(self.uptake_s + min(self.frame_offsets_s)):.0f} s before the injection "
                f"({self.injection_time.iso()}); check --injection-time and the FrameReferenceTime tags."
            )

    @property
    def uptake_s(self) -> float:
        """Seconds from injection to the decay reference time."""
        return uptake_seconds(self.injection_time, self.scan_time)

    @property
    def decay_factor(self) -> float:
        """Fraction of the injected activity left at the decay reference time (1 for ADMIN)."""
        if self.decay_correction == "ADMIN":
            return 1.0
        return 2.0 ** (-self.uptake_s / self.half_life_s)

    @property
    def scale(self) -> float:
        """SUV per Bq/ml: body weight in grams over decayed dose in Bq."""
        return self.weight_kg * 1000.0 / (self.dose_bq * self.decay_factor)

    def slice_scales(self, count: int) -> np.ndarray:
        """SUV per Bq/ml of each of ``count`` slices: one value, or per frame for DecayCorrection NONE."""
        if not self.frame_offsets_s or self.decay_correction != "NONE":
            return np.full(count, self.scale)
        if len(self.frame_offsets_s) != count:
            raise InputError(
                f"The PET has {count} slices but {len(self.frame_offsets_s)} frame reference times; read the whole "
                "DICOM series again."
            )
        decay_times = self.uptake_s + np.asarray(self.frame_offsets_s, dtype=np.float64)
        return self.weight_kg * 1000.0 / (self.dose_bq * 2.0 ** (-decay_times / self.half_life_s))

    def plausibility_warnings(self) -> list[str]:
        """Notes from the tags, then the weight / F-18 dose / uptake-time bands (see suv_plausibility)."""
        uptake = self.uptake_s + (min(self.frame_offsets_s) if self.decay_correction == "NONE" and
                                  self.frame_offsets_s else 0.0)
        return list(self.notes) + parameter_warnings(
            self.weight_kg, self.dose_bq / 1e6, uptake, is_f18_half_life(self.half_life_s)
        )

    def summary(self) -> dict:
        """JSON-able record stored in volume metadata and printed by the CLI."""
        record = {
            "weight_kg": self.weight_kg,
            "dose_mbq": self.dose_bq / 1e6,
            "injection_time": self.injection_time.iso(),
            "scan_time": self.scan_time.iso(),
            "half_life_s": self.half_life_s,
            "decay_correction": self.decay_correction,
            "uptake_s": self.uptake_s,
            "decay_factor": self.decay_factor,
            "overrides": list(self.overrides),
        }
        if self.half_life_source:
            record["half_life_source"] = self.half_life_source
        if self.frame_offsets_s:
            record["frame_reference_offsets_s"] = [min(self.frame_offsets_s), max(self.frame_offsets_s)]
        return record


def _require_positive(value: float | None, what: str, unit: str, option: str) -> None:
    if value is None or not value > 0 or value != value:
        raise InputError(f"The {what} is {value} {unit}; it must be above zero. Pass the right value with {option}.")


# --- conversion -------------------------------------------------------------------------------------------


def bqml_to_suv(volume: Volume, parameters: SuvParameters) -> Volume:
    """Activity concentration (Bq/ml) to SUVbw, with the plausibility warnings in metadata["suv"]["warnings"]."""
    if volume.units not in ("BQML", ""):
        raise InputError(f"Expected a PET volume in Bq/ml; this one is in '{volume.units}'.")
    scales = parameters.slice_scales(volume.array.shape[0])[:, None, None]
    suv = (volume.array * scales).astype(volume.array.dtype)
    result = volume.with_array(suv, units="SUV")
    result.metadata["suv"] = parameters.summary()
    result.metadata["suv"]["warnings"] = (
        parameters.plausibility_warnings() + bqml_value_warnings(volume.array) + suv_value_warnings(suv)
    )
    return result


def suv_to_bqml(volume: Volume, parameters: SuvParameters) -> Volume:
    """The exact inverse of :func:`bqml_to_suv`: SUVbw back to activity concentration (Bq/ml)."""
    if volume.units not in ("SUV", ""):
        raise InputError(f"Expected a PET volume in SUV; this one is in '{volume.units}'.")
    scales = parameters.slice_scales(volume.array.shape[0])[:, None, None]
    result = volume.with_array((volume.array / scales).astype(volume.array.dtype), units="BQML")
    result.metadata["suv"] = parameters.summary()
    return result


def suv_warnings(volume: Volume) -> list[str]:
    """The plausibility warnings recorded on a volume made by this module ([] when none)."""
    return list(volume.metadata.get("suv", {}).get("warnings", []))


# --- parameters from DICOM headers ------------------------------------------------------------------------


def suv_parameters_from_headers(headers: list[Dataset], overrides: SuvOverrides | None = None) -> SuvParameters:
    """SUV parameters from the headers of one PET series (in slice order), each tag replaced by its override."""
    overrides = overrides or SuvOverrides()
    first = headers[0]
    drug = _radiopharmaceutical(first)
    weight = overrides.weight_kg if overrides.weight_kg is not None else _tag_number(first, "PatientWeight")
    if weight is None:
        raise InputError("The PET has no PatientWeight; pass the patient's weight with --weight-kg.")
    if overrides.dose_mbq is not None:
        dose_bq = overrides.dose_mbq * 1e6
    else:
        dose_bq = _tag_number(drug, "RadionuclideTotalDose")
        if dose_bq is None:
            raise InputError("The PET has no RadionuclideTotalDose; pass the injected activity with --dose-mbq.")
    if overrides.half_life_s is not None:
        half_life, source, notes = overrides.half_life_s, "override", []
    else:
        half_life, source, notes = _half_life_from_tags(drug)
    injection = parse_user_time(overrides.injection_time) if overrides.injection_time is not None else (
        _injection_from_tags(drug, first)
    )
    decay_correction = str(first.get("DecayCorrection", "START") or "START").strip().upper()
    offsets: tuple[float, ...] = ()
    if decay_correction == "NONE":
        scan = parse_user_time(overrides.scan_time) if overrides.scan_time is not None else _series_reference(first)
        offsets = _frame_reference_offsets(headers)
    else:
        scan = parse_user_time(overrides.scan_time) if overrides.scan_time is not None else _scan_from_tags(headers)
    return SuvParameters(
        weight_kg=float(weight),
        dose_bq=float(dose_bq),
        injection_time=injection,
        scan_time=scan,
        half_life_s=float(half_life),
        decay_correction=decay_correction,
        overrides=tuple(overrides.given()),
        frame_offsets_s=offsets,
        half_life_source=source,
        notes=tuple(notes),
    )


def _tag_number(dataset: Dataset | None, keyword: str) -> float | None:
    if dataset is None:
        return None
    value = dataset.get(keyword)
    if value is None or str(value).strip() == "":
        return None
    return float(value)


def _radiopharmaceutical(header: Dataset) -> Dataset | None:
    sequence = header.get("RadiopharmaceuticalInformationSequence")
    return sequence[0] if sequence else None


def _half_life_from_tags(drug: Dataset | None) -> tuple[float, str, list[str]]:
    """RadionuclideHalfLife, else the tabled half-life of the coded radionuclide; a disagreement is noted."""
    tagged = _tag_number(drug, "RadionuclideHalfLife")
    nuclide, found_by = radionuclide_of(drug)
    if tagged is not None:
        notes = []
        if nuclide is not None and abs(tagged - nuclide.half_life_s) > HALF_LIFE_TOLERANCE * nuclide.half_life_s:
            notes.append(
                f"RadionuclideHalfLife {tagged:g} s disagrees with the coded radionuclide {nuclide.name} "
                f"({nuclide.half_life_s:g} s); check it or pass --half-life-s"
            )
        return tagged, "RadionuclideHalfLife", notes
    if nuclide is not None:
        return nuclide.half_life_s, f"{nuclide.name} from {found_by}", []
    raise InputError(
        "The PET has no RadionuclideHalfLife and no known RadionuclideCodeSequence; pass it with --half-life-s "
        "(F-18: 6586.2 s, Ga-68: 4062.6 s)."
    )


def _injection_from_tags(drug: Dataset | None, header: Dataset) -> Timestamp:
    if drug is not None and str(drug.get("RadiopharmaceuticalStartDateTime", "")).strip():
        return Timestamp(parse_dicom_datetime(drug.RadiopharmaceuticalStartDateTime), True)
    if drug is not None and str(drug.get("RadiopharmaceuticalStartTime", "")).strip():
        return dicom_timestamp(None, drug.RadiopharmaceuticalStartTime)
    raise InputError(
        "The PET has no RadiopharmaceuticalStartTime (injection time); pass it with --injection-time HHMMSS."
    )


def _scan_from_tags(headers: list[Dataset]) -> Timestamp:
    """SeriesDate+SeriesTime, or the earliest acquisition time when the series time is absent or later."""
    acquisitions = [
        dicom_timestamp(h.get("AcquisitionDate") or h.get("SeriesDate"), h.AcquisitionTime)
        for h in headers
        if str(h.get("AcquisitionTime", "")).strip()
    ]
    earliest = min(acquisitions, key=lambda t: t.moment) if acquisitions else None
    first = headers[0]
    if str(first.get("SeriesTime", "")).strip():
        series = dicom_timestamp(first.get("SeriesDate"), first.SeriesTime)
        if earliest is None or series.moment <= earliest.moment:
            return series
    if earliest is None:
        raise InputError("The PET has neither SeriesTime nor AcquisitionTime; pass the scan time with --scan-time.")
    return earliest


def _series_reference(header: Dataset) -> Timestamp:
    """Series Date/Time: the origin of FrameReferenceTime (PS3.3 C.8.9.4.1.5)."""
    if not str(header.get("SeriesTime", "")).strip():
        raise InputError(
            "The PET has DecayCorrection NONE but no SeriesTime, the reference of its FrameReferenceTime; pass "
            "the series start with --scan-time."
        )
    return dicom_timestamp(header.get("SeriesDate"), header.SeriesTime)


def _frame_reference_offsets(headers: list[Dataset]) -> tuple[float, ...]:
    """Each slice's FrameReferenceTime (0054,1300) in seconds after the series reference time."""
    offsets = []
    for header in headers:
        value = _tag_number(header, "FrameReferenceTime")
        if value is None:
            name = Path(str(getattr(header, "filename", "") or "a slice")).name
            raise InputError(
                f"The PET has DecayCorrection NONE but '{name}' has no FrameReferenceTime (0054,1300), so the "
                "time of its activity is unknown; export decay-corrected (START) images."
            )
        offsets.append(value / 1000.0)
    return tuple(offsets)


# --- SUV of a DICOM PET by its Units -----------------------------------------------------------------------


def suv_from_dicom_headers(volume: Volume, headers: list[Dataset], overrides: SuvOverrides | None = None) -> Volume:
    """SUVbw of a PET read from DICOM (rescale slope and intercept applied) by its Units and DecayCorrection.

    ``headers`` are those of the volume's slices; they are put in the volume's slice order by their
    ImagePositionPatient, so per-slice factors land on the right slice.
    """
    overrides = overrides or SuvOverrides()
    headers = _in_slice_order(volume, headers)
    units = str(headers[0].get("Units", "")).strip().upper()
    if units == "GML":
        return _checked_gml(volume, overrides)
    if units == "BQML":
        bqml = volume.with_array(volume.array, units="BQML")
        return bqml_to_suv(bqml, suv_parameters_from_headers(headers, overrides))
    if units == "CNTS":
        return _philips_counts_to_suv(volume, headers, overrides)
    raise InputError(
        f"PET Units are '{units or 'missing'}'; SUV needs activity concentration (BQML), Philips counts (CNTS "
        "with its scale factors) or SUV (GML) images; export the PET in Bq/ml."
    )


def _in_slice_order(volume: Volume, headers: list[Dataset]) -> list[Dataset]:
    """Headers sorted along the volume's k axis by ImagePositionPatient (as given if that cannot be done)."""
    if len(headers) != volume.array.shape[0] or len(headers) < 2:
        return list(headers)
    try:
        k = [float(volume.continuous_index([float(v) for v in h.ImagePositionPatient])[2]) for h in headers]
    except (AttributeError, TypeError, ValueError):
        return list(headers)
    order = np.argsort(k)
    if not np.allclose(np.asarray(k)[order], np.arange(len(headers)), atol=0.1):
        return list(headers)
    return [headers[i] for i in order]


def _checked_gml(volume: Volume, overrides: SuvOverrides) -> Volume:
    """A GML series is SUVbw already; refuse overrides it cannot use and values that are activity concentrations."""
    if overrides.given():
        flags = ", ".join("--" + name.replace("_", "-") for name in overrides.given())
        raise InputError(f"The PET is already in SUV (Units GML), so {flags} cannot be applied; leave them out.")
    peak = float(np.nanmax(volume.array)) if volume.array.size else 0.0
    if peak > MAX_PLAUSIBLE_PEAK_GML:
        raise InputError(
            f"PET Units are GML (SUV) but the image peaks at {peak:.4g}, which is an activity concentration (Bq/ml), "
            "not an SUV; re-export the PET with Units BQML."
        )
    result = volume.with_array(volume.array, units="SUV")
    result.metadata["suv"] = {"units": "GML", "note": "stored as SUVbw; only the rescale was applied",
                              "warnings": suv_value_warnings(volume.array)}
    return result


def _philips_counts_to_suv(volume: Volume, headers: list[Dataset], overrides: SuvOverrides) -> Volume:
    """Units CNTS: Philips' SUV scale factor, else its activity-concentration factor then the BQML rule (QIBA)."""
    suv_factors = philips_factors(headers, SUV_SCALE_FACTOR)
    activity_factors = philips_factors(headers, ACTIVITY_CONCENTRATION_SCALE_FACTOR)
    if suv_factors is not None and not (overrides.given() and activity_factors is not None):
        if overrides.given():
            flags = ", ".join("--" + name.replace("_", "-") for name in overrides.given())
            raise InputError(
                "The PET is in Philips counts with only an SUV scale factor (7053,1000), which already holds the "
                f"scanner's weight, dose and times, so {flags} cannot be applied; leave them out."
            )
        suv = (volume.array * _per_slice(suv_factors, volume, "(7053,1000)")).astype(np.float32)
        result = volume.with_array(suv, units="SUV")
        result.metadata["suv"] = {
            "units": "CNTS",
            "philips_suv_scale_factor": _value_or_range(suv_factors),
            "warnings": _header_parameter_warnings(headers) + suv_value_warnings(suv),
        }
        return result
    if activity_factors is not None:
        activity = (volume.array * _per_slice(activity_factors, volume, "(7053,1009)")).astype(np.float32)
        result = bqml_to_suv(volume.with_array(activity, units="BQML"), suv_parameters_from_headers(headers, overrides))
        result.metadata["suv"]["units"] = "CNTS"
        result.metadata["suv"]["philips_activity_concentration_scale_factor"] = _value_or_range(activity_factors)
        return result
    raise InputError(
        "PET Units are 'CNTS' (counts) without Philips' SUV scale factor (7053,1000) or activity concentration "
        "scale factor (7053,1009) on every slice; export the PET in Bq/ml (BQML) or as SUV."
    )


def _per_slice(values: list[float], volume: Volume, tag: str) -> np.ndarray:
    """Per-slice factors shaped to multiply the volume; one shared value fits any number of slices."""
    count = volume.array.shape[0]
    if min(values) == max(values):
        return np.full((count, 1, 1), values[0])
    if len(values) != count:
        raise InputError(
            f"The PET has {count} slices but {len(values)} DICOM headers with different Philips {tag} factors; "
            "load the series again from its DICOM folder."
        )
    return np.asarray(values, dtype=np.float64)[:, None, None]


def _header_parameter_warnings(headers: list[Dataset]) -> list[str]:
    """Plausibility warnings of the tags when they are complete enough to check ([] otherwise)."""
    try:
        return suv_parameters_from_headers(headers).plausibility_warnings()
    except InputError:
        return []


def _value_or_range(values: list[float]) -> float | list[float]:
    return values[0] if min(values) == max(values) else [min(values), max(values)]


# --- top level ---------------------------------------------------------------------------------------------


def load_pet_as_suv(
    path: str | os.PathLike,
    weight_kg: float | None = None,
    dose_mbq: float | None = None,
    injection_time: TimeInput = None,
    scan_time: TimeInput = None,
    half_life_s: float | None = None,
    series: str | int | None = None,
    default_half_life_s: float | None = None,
) -> Volume:
    """Read a PET (DICOM folder/file, or NIfTI/NRRD/MHA in Bq/ml) and return it in SUVbw.

    ``series`` (SeriesNumber or SeriesInstanceUID) names the PET when a DICOM folder holds several series.

    DICOM takes its parameters from the headers, each overridden by the argument when given. Other formats have
    no such headers, so all five parameters are required unless the file already says it holds SUV, or
    ``default_half_life_s`` (e.g. :data:`DEFAULT_HALF_LIFE_S`) stands in for a missing half-life. Plausibility
    warnings are in ``volume.metadata["suv"]["warnings"]`` (:func:`suv_warnings`).
    """
    overrides = SuvOverrides(weight_kg, dose_mbq, injection_time, scan_time, half_life_s)
    source = Path(path)
    if source.is_dir() or volume_suffix(source) == ".dcm":
        return _dicom_pet_as_suv(source, overrides, series)
    volume = read_volume(source)
    if volume.units == "SUV":
        return volume
    missing = [name for name, value in asdict(overrides).items()
               if value is None and not (name == "half_life_s" and default_half_life_s)]
    if missing:
        flags = ", ".join("--" + name.replace("_", "-") for name in missing)
        raise InputError(
            f"'{source.name}' holds no SUV parameters (assumed Bq/ml); pass {flags}."
        )
    parameters = suv_parameters_from_values(overrides, default_half_life_s)
    return bqml_to_suv(volume.with_array(volume.array.astype("float32"), modality="PT", units="BQML"), parameters)


def suv_parameters_from_values(values: SuvOverrides, default_half_life_s: float | None = None) -> SuvParameters:
    """SUV parameters of a PET without DICOM headers from the values a user gave (weight, dose and both times
    required), each recorded as an override; an empty half-life (None or 0) takes ``default_half_life_s`` if set."""
    half_life_s = values.half_life_s
    if not half_life_s and default_half_life_s:
        half_life_s = default_half_life_s
    return SuvParameters(
        weight_kg=float(values.weight_kg),
        dose_bq=float(values.dose_mbq) * 1e6,
        injection_time=parse_user_time(values.injection_time),
        scan_time=parse_user_time(values.scan_time),
        half_life_s=float(half_life_s),
        overrides=tuple(values.given()),
    )


def _dicom_pet_as_suv(source: Path, overrides: SuvOverrides, series: str | int | None = None) -> Volume:
    volume, headers = read_dicom_series_with_headers(source, series=series, modality="PT")
    if volume.modality != "PT":
        raise InputError(
            f"'{source.name}' is a {volume.modality or 'non-PET'} series, not a PET series (Modality PT); "
            "choose the PET series."
        )
    return suv_from_dicom_headers(volume, headers, overrides)
