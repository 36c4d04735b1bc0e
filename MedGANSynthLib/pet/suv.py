"""Standardised uptake value (SUV, body-weight normalised) of PET images, from DICOM headers or user overrides.

SUVbw = activity concentration [Bq/ml] * body weight [g] / (injected activity [Bq] * 2^(-t / T1/2)), with tissue
density 1 g/ml, as in the QIBA FDG-PET profile and its vendor-neutral SUV pseudo-code.

Which time is ``t`` (the decay reference), by DICOM DecayCorrection (0054,1102):

* ``START``: pixels are decay-corrected to the start of the series acquisition (DICOM PS3.3 C.8.9.1.1.5 derives
  that reference from Series Date/Time), so ``t`` runs from the injection (RadiopharmaceuticalStartDateTime, else
  RadiopharmaceuticalStartTime) to SeriesDate+SeriesTime. When SeriesTime is absent, or later than the earliest
  AcquisitionDate+AcquisitionTime of the slices (a post-processed series re-stamped later), the earliest
  acquisition time is used instead -- the vendor-neutral QIBA choice. For a dynamic frame (real ``2.dcm``) the
  frame's own AcquisitionTime is NOT the reference: its pixels are corrected back to the series start.
* ``ADMIN``: pixels are already decay-corrected to the injection, so there is no decay factor (t = 0).
* Anything else (``NONE``: each slice at its own time) is refused rather than guessed.

Units (0054,1001): ``BQML`` is converted; ``GML`` is already SUV (only the rescale is applied); ``CNTS`` and any
other unit are refused. Explicit overrides (weight, dose, times, half-life) win over tags and are recorded in
``volume.metadata["suv"]["overrides"]``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, time
from pathlib import Path

from pydicom.dataset import Dataset

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.dicom_series import read_dicom_series_with_headers
from MedGANSynthLib.io.volume_io import read_volume, volume_suffix
from MedGANSynthLib.pet.timestamps import (
    Timestamp,
    dicom_timestamp,
    parse_dicom_datetime,
    parse_user_time,
    uptake_seconds,
)
from MedGANSynthLib.volume import Volume

# Above this a "weight" is almost surely grams or pounds typed as kilograms.
MAX_PLAUSIBLE_WEIGHT_KG = 400.0
SUPPORTED_DECAY_CORRECTIONS = ("START", "ADMIN")

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
    """Everything SUVbw needs; ``scale`` turns Bq/ml into SUV."""

    weight_kg: float
    dose_bq: float
    injection_time: Timestamp
    scan_time: Timestamp
    half_life_s: float
    decay_correction: str = "START"
    overrides: tuple[str, ...] = field(default_factory=tuple)

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
                f"PET DecayCorrection is '{self.decay_correction}'; only START or ADMIN decay-corrected images "
                "can be turned into SUV."
            )
        self.uptake_s  # noqa: B018 -- raises InputError now when the injection is after the scan

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

    def summary(self) -> dict:
        """JSON-able record stored in volume metadata and printed by the CLI."""
        return {
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


def _require_positive(value: float | None, what: str, unit: str, option: str) -> None:
    if value is None or not value > 0 or value != value:
        raise InputError(f"The {what} is {value} {unit}; it must be above zero. Pass the right value with {option}.")


# --- conversion -------------------------------------------------------------------------------------------


def bqml_to_suv(volume: Volume, parameters: SuvParameters) -> Volume:
    """Activity concentration (Bq/ml) to SUVbw."""
    if volume.units not in ("BQML", ""):
        raise InputError(f"Expected a PET volume in Bq/ml; this one is in '{volume.units}'.")
    result = volume.with_array((volume.array * parameters.scale).astype(volume.array.dtype), units="SUV")
    result.metadata["suv"] = parameters.summary()
    return result


def suv_to_bqml(volume: Volume, parameters: SuvParameters) -> Volume:
    """The exact inverse of :func:`bqml_to_suv`: SUVbw back to activity concentration (Bq/ml)."""
    if volume.units not in ("SUV", ""):
        raise InputError(f"Expected a PET volume in SUV; this one is in '{volume.units}'.")
    result = volume.with_array((volume.array / parameters.scale).astype(volume.array.dtype), units="BQML")
    result.metadata["suv"] = parameters.summary()
    return result


# --- parameters from DICOM headers ------------------------------------------------------------------------


def suv_parameters_from_headers(headers: list[Dataset], overrides: SuvOverrides | None = None) -> SuvParameters:
    """SUV parameters from the headers of one PET series, each tag replaced by its override when given."""
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
    half_life = overrides.half_life_s if overrides.half_life_s is not None else _tag_number(drug, "RadionuclideHalfLife")
    if half_life is None:
        raise InputError(
            "The PET has no RadionuclideHalfLife; pass it with --half-life-s (F-18: 6586.2 s, Ga-68: 4062.6 s)."
        )
    injection = parse_user_time(overrides.injection_time) if overrides.injection_time is not None else (
        _injection_from_tags(drug, first)
    )
    scan = parse_user_time(overrides.scan_time) if overrides.scan_time is not None else _scan_from_tags(headers)
    return SuvParameters(
        weight_kg=float(weight),
        dose_bq=float(dose_bq),
        injection_time=injection,
        scan_time=scan,
        half_life_s=float(half_life),
        decay_correction=str(first.get("DecayCorrection", "START")).upper() or "START",
        overrides=tuple(overrides.given()),
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


# --- top level ---------------------------------------------------------------------------------------------


def load_pet_as_suv(
    path: str | os.PathLike,
    weight_kg: float | None = None,
    dose_mbq: float | None = None,
    injection_time: TimeInput = None,
    scan_time: TimeInput = None,
    half_life_s: float | None = None,
    series: str | int | None = None,
) -> Volume:
    """Read a PET (DICOM folder/file, or NIfTI/NRRD/MHA in Bq/ml) and return it in SUVbw.

    ``series`` (SeriesNumber or SeriesInstanceUID) names the PET when a DICOM folder holds several series.

    DICOM takes its parameters from the headers, each overridden by the argument when given. Other formats have
    no such headers, so all five parameters are required unless the file already says it holds SUV.
    """
    overrides = SuvOverrides(weight_kg, dose_mbq, injection_time, scan_time, half_life_s)
    source = Path(path)
    if source.is_dir() or volume_suffix(source) == ".dcm":
        return _dicom_pet_as_suv(source, overrides, series)
    volume = read_volume(source)
    if volume.units == "SUV":
        return volume
    missing = [name for name, value in asdict(overrides).items() if value is None]
    if missing:
        flags = ", ".join("--" + name.replace("_", "-") for name in missing)
        raise InputError(
            f"'{source.name}' holds no SUV parameters (assumed Bq/ml); pass {flags}."
        )
    parameters = SuvParameters(
        weight_kg=float(weight_kg),
        dose_bq=float(dose_mbq) * 1e6,
        injection_time=parse_user_time(injection_time),
        scan_time=parse_user_time(scan_time),
        half_life_s=float(half_life_s),
        overrides=tuple(overrides.given()),
    )
    return bqml_to_suv(volume.with_array(volume.array.astype("float32"), modality="PT", units="BQML"), parameters)


def _dicom_pet_as_suv(source: Path, overrides: SuvOverrides, series: str | int | None = None) -> Volume:
    volume, headers = read_dicom_series_with_headers(source, series=series, modality="PT")
    if volume.modality != "PT":
        raise InputError(
            f"'{source.name}' is a {volume.modality or 'non-PET'} series, not a PET series (Modality PT); "
            "choose the PET series."
        )
    units = str(headers[0].get("Units", "")).upper()
    if units == "GML":
        return volume  # already SUVbw: the reader applied the rescale
    if units != "BQML":
        raise InputError(
            f"PET Units are '{units or 'missing'}'; SUV needs activity concentration (BQML) or SUV (GML) images; "
            "export the PET in Bq/ml."
        )
    return bqml_to_suv(volume, suv_parameters_from_headers(headers, overrides))
