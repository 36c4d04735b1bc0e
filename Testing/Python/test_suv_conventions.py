"""SUV conformance corpus: each vendor convention built from the real FLT PET headers by editing tags, each result
compared with the SUV written out by hand from the tag values (QIBA vendor-neutral pseudo-code; DICOM PS3.3
C.8.9.4 PET Image module: Units, DecayCorrection, DecayFactor, FrameReferenceTime; Philips private tags).

Rules checked here (expected values never come from the code under test):
  SUVbw = activity [Bq/ml] * weight [g] / (dose [Bq] * 2^(-t / T1/2)), activity = stored * slope + intercept
  START: t = series start - injection;  ADMIN: t = 0;  NONE: t = series start + FrameReferenceTime - injection
  CNTS: SUV = activity * (7053,1000), or Bq/ml = activity * (7053,1009) then the BQML rule;  GML: SUV = activity.
"""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from conftest import shared_data_path

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.pet.radionuclides import RADIONUCLIDES, radionuclide_from_meaning
from MedGANSynthLib.pet.suv import load_pet_as_suv, suv_warnings

PHILIPS = "Philips PET Private Group"


# --- independent arithmetic ----------------------------------------------------------------------------------


def _seconds_of_day(tm: str) -> float:
    tm = str(tm)
    return int(tm[:2]) * 3600 + int(tm[2:4]) * 60 + float(tm[4:])


def _activity(dataset) -> np.ndarray:
    """Modality LUT of PS3.3 C.7.6.16.2.11 (for PET the intercept is always 0): stored * slope + intercept."""
    return dataset.pixel_array.astype(np.float64) * float(dataset.RescaleSlope) + float(dataset.RescaleIntercept)


def _drug(dataset):
    return dataset.RadiopharmaceuticalInformationSequence[0]


def _uptake_s(dataset) -> float:
    """Series start minus injection clock time, one day added when the scan is after midnight (QIBA)."""
    delay = _seconds_of_day(dataset.SeriesTime) - _seconds_of_day(_drug(dataset).RadiopharmaceuticalStartTime)
    return delay + 86400 if delay < 0 else delay


def _suv(activity, weight_kg, dose_bq, decay_s, half_life_s) -> np.ndarray:
    return activity * weight_kg * 1000.0 / (dose_bq * 2.0 ** (-decay_s / half_life_s))


def _tag_suv(dataset, decay_s, activity=None, half_life_s=None) -> np.ndarray:
    drug = _drug(dataset)
    return _suv(_activity(dataset) if activity is None else activity, float(dataset.PatientWeight),
                float(drug.RadionuclideTotalDose), decay_s, half_life_s or float(drug.RadionuclideHalfLife))


# --- variants of the real files ------------------------------------------------------------------------------


def _real(name: str = "1.dcm"):
    return pydicom.dcmread(shared_data_path("pet-dicom-flt-breast", name))


def _variant(tmp_path, edit, name: str = "1.dcm", file_name: str = "pet.dcm"):
    """The real file with ``edit`` applied, saved and read back (so the expected value uses the stored tags)."""
    dataset = _real(name)
    edit(dataset)
    path = tmp_path / file_name
    dataset.save_as(path)
    return path, pydicom.dcmread(path)


def _philips(dataset, offset: int, value: float) -> None:
    dataset.private_block(0x7053, PHILIPS, create=True).add_new(offset, "DS", f"{value:.10g}")


def _close(actual, expected) -> None:
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-7)


@pytest.fixture(scope="module")
def start_suv() -> np.ndarray:
    """SUV of the unedited real 1.dcm (BQML, START) by hand: the reference the physical variants must equal."""
    dataset = _real()
    return _tag_suv(dataset, _uptake_s(dataset))


# --- DecayCorrection -----------------------------------------------------------------------------------------


def test_real_decay_factor_is_two_to_the_frame_reference_time_over_half_life():
    """The real Siemens header's DecayFactor 1.01587 equals 2^(FrameReferenceTime / T1/2): the frame reference
    time is an offset from the series start (PS3.3 C.8.9.4.1.5), the basis of the NONE rule below."""
    dataset = _real()
    factor = 2.0 ** (float(dataset.FrameReferenceTime) / 1000.0 / float(_drug(dataset).RadionuclideHalfLife))
    assert factor == pytest.approx(float(dataset.DecayFactor), abs=5e-6)


def test_admin_variant_of_the_same_activity_gives_the_same_suv(tmp_path, start_suv):
    """Pixels decay-corrected to the injection are the START pixels times 2^(uptake / T); t = 0 then."""
    def edit(ds):
        ds.DecayCorrection = "ADMIN"
        ds.RescaleSlope = f"{float(ds.RescaleSlope) * 2 ** (_uptake_s(ds) / 6586.2):.10g}"

    path, dataset = _variant(tmp_path, edit)
    suv = load_pet_as_suv(path)
    _close(suv.array[0], _tag_suv(dataset, 0.0))
    _close(suv.array[0], start_suv)
    assert suv.metadata["suv"]["decay_factor"] == 1.0


def test_none_variant_decays_each_frame_to_its_own_reference_time(tmp_path, start_suv):
    """Uncorrected pixels hold the activity at series start + FrameReferenceTime: the START activity decayed by
    2^(-FRT / T). Their SUV is the START SUV again."""
    def edit(ds):
        ds.DecayCorrection = "NONE"
        ds.CorrectedImage = ["NORM", "DTIM", "ATTN", "SCAT", "RADL"]
        frame_s = float(ds.FrameReferenceTime) / 1000
        ds.RescaleSlope = f"{float(ds.RescaleSlope) * 2 ** (-frame_s / 6586.2):.10g}"

    path, dataset = _variant(tmp_path, edit)
    suv = load_pet_as_suv(path)
    decay_s = _uptake_s(dataset) + float(dataset.FrameReferenceTime) / 1000
    _close(suv.array[0], _tag_suv(dataset, decay_s))
    _close(suv.array[0], start_suv)


def test_none_series_with_a_frame_reference_time_per_slice(tmp_path):
    """Three slices of one uncorrected series, 0, 5 and 10 min after the series start, each decayed on its own."""
    offsets_ms = [0.0, 300000.0, 600000.0]
    datasets = []
    for number, offset in enumerate(offsets_ms):
        dataset = _real()
        dataset.DecayCorrection = "NONE"
        dataset.FrameReferenceTime = offset
        dataset.ImagePositionPatient = [dataset.ImagePositionPatient[0], dataset.ImagePositionPatient[1],
                                        -300.0 + 5 * number]
        dataset.SOPInstanceUID = pydicom.uid.generate_uid()
        dataset.save_as(tmp_path / f"{9 - number}.dcm")  # file names sort against the slice order
        datasets.append(pydicom.dcmread(tmp_path / f"{9 - number}.dcm"))
    suv = load_pet_as_suv(tmp_path)
    for k, dataset in enumerate(datasets):
        _close(suv.array[k], _tag_suv(dataset, _uptake_s(dataset) + offsets_ms[k] / 1000))
    # same stored pixels: the later frame holds less activity per SUV, by 2^(10 min / T)
    assert suv.array[2].max() / suv.array[0].max() == pytest.approx(2 ** (600 / 6586.2), rel=1e-6)


# --- Units ---------------------------------------------------------------------------------------------------


def test_philips_counts_with_suv_scale_factor(tmp_path):
    """CNTS + (7053,1000): SUV = (stored * slope + intercept) * factor; weight, dose and times are not used."""
    def edit(ds):
        ds.Units = "CNTS"
        _philips(ds, 0x00, 0.000731)

    path, dataset = _variant(tmp_path, edit)
    suv = load_pet_as_suv(path)
    _close(suv.array[0], _activity(dataset) * 0.000731)
    assert suv.units == "SUV" and suv.metadata["suv"]["philips_suv_scale_factor"] == pytest.approx(0.000731)


def test_philips_counts_with_activity_concentration_factor(tmp_path):
    """CNTS + (7053,1009) only: Bq/ml = activity * factor, then the BQML/START rule on the real tags."""
    def edit(ds):
        ds.Units = "CNTS"
        _philips(ds, 0x09, 1.75)

    path, dataset = _variant(tmp_path, edit)
    suv = load_pet_as_suv(path)
    _close(suv.array[0], _tag_suv(dataset, _uptake_s(dataset), activity=_activity(dataset) * 1.75))
    assert suv.metadata["suv"]["philips_activity_concentration_scale_factor"] == 1.75


def test_philips_private_tags_are_written_and_read_as_ds(tmp_path):
    """GDCM's private dictionary (shipped by pydicom) gives both factors VR DS; explicit VR keeps it on disk."""
    path, dataset = _variant(tmp_path, lambda ds: _philips(ds, 0x00, 0.5))
    block = dataset.private_block(0x7053, PHILIPS)
    assert block[0x00].VR == "DS" and float(block[0x00].value) == 0.5
    assert pydicom.datadict.private_dictionary_VR(0x70531009, PHILIPS) == "DS"


def test_philips_overrides_use_the_activity_factor_when_both_are_present(tmp_path):
    """The SUV factor holds Philips' own weight; with --weight-kg the Bq/ml route is the one that can use it."""
    def edit(ds):
        ds.Units = "CNTS"
        _philips(ds, 0x00, 0.000731)
        _philips(ds, 0x09, 1.75)

    path, dataset = _variant(tmp_path, edit)
    suv = load_pet_as_suv(path, weight_kg=55.0)
    drug = _drug(dataset)
    expected = _suv(_activity(dataset) * 1.75, 55.0, float(drug.RadionuclideTotalDose), _uptake_s(dataset),
                    float(drug.RadionuclideHalfLife))
    _close(suv.array[0], expected)


def test_philips_factors_per_slice_follow_their_slices(tmp_path):
    slopes, factors = [9.12329, 4.5], [0.0007, 0.0021]
    for number, (slope, factor) in enumerate(zip(slopes, factors, strict=True)):
        dataset = _real()
        dataset.Units = "CNTS"
        dataset.RescaleSlope = str(slope)
        _philips(dataset, 0x00, factor)
        dataset.ImagePositionPatient = [dataset.ImagePositionPatient[0], dataset.ImagePositionPatient[1],
                                        -300.0 + 5 * number]
        dataset.SOPInstanceUID = pydicom.uid.generate_uid()
        dataset.save_as(tmp_path / f"{9 - number}.dcm")
    suv = load_pet_as_suv(tmp_path)
    stored = _real().pixel_array.astype(np.float64)
    for k in range(2):
        _close(suv.array[k], stored * slopes[k] * factors[k])
    assert suv.metadata["suv"]["philips_suv_scale_factor"] == [0.0007, 0.0021]


def test_philips_suv_factor_only_refuses_overrides(tmp_path):
    def edit(ds):
        ds.Units = "CNTS"
        _philips(ds, 0x00, 0.000731)

    path, _ = _variant(tmp_path, edit)
    with pytest.raises(InputError, match=r"SUV scale factor \(7053,1000\).*--dose-mbq cannot be applied"):
        load_pet_as_suv(path, dose_mbq=300)


def test_gml_with_bqml_values_is_refused(tmp_path):
    """The real Bq/ml pixels (peak 12,107) labelled GML: no SUV is that high, so the Units tag is wrong."""
    path, _ = _variant(tmp_path, lambda ds: setattr(ds, "Units", "GML"))
    with pytest.raises(InputError, match=r"Units are GML \(SUV\) but the image peaks at 1.211e\+04.*BQML"):
        load_pet_as_suv(path)


def test_gml_refuses_overrides_it_cannot_use(tmp_path):
    def edit(ds):
        ds.Units, ds.RescaleSlope = "GML", "0.001"

    path, _ = _variant(tmp_path, edit)
    with pytest.raises(InputError, match="already in SUV \\(Units GML\\), so --weight-kg cannot be applied"):
        load_pet_as_suv(path, weight_kg=70)


@pytest.mark.parametrize("units", ["PROPCNTS", "MGMINML", "NPI"])
def test_other_units_are_refused_by_name(tmp_path, units):
    path, _ = _variant(tmp_path, lambda ds: setattr(ds, "Units", units))
    with pytest.raises(InputError, match=f"PET Units are '{units}'"):
        load_pet_as_suv(path)


# --- injection and scan times --------------------------------------------------------------------------------


def test_start_date_time_across_midnight(tmp_path):
    """Injected 23:30 on 13 June, series at 00:30 on 14 June: one hour, taken from the dated tags."""
    def edit(ds):
        _drug(ds).RadiopharmaceuticalStartDateTime = "19600613233000"
        _drug(ds).RadiopharmaceuticalStartTime = "233000"
        ds.SeriesTime = ds.AcquisitionTime = "003000"

    path, dataset = _variant(tmp_path, edit)
    suv = load_pet_as_suv(path)
    assert suv.metadata["suv"]["uptake_s"] == 3600.0
    _close(suv.array[0], _tag_suv(dataset, 3600.0))


def test_start_date_time_wins_over_a_contradicting_start_time(tmp_path):
    """The DT attribute carries the date, so it is the one used (QIBA); the TM here is deliberately wrong."""
    def edit(ds):
        _drug(ds).RadiopharmaceuticalStartDateTime = "19600614141700"
        _drug(ds).RadiopharmaceuticalStartTime = "120000"

    path, dataset = _variant(tmp_path, edit)
    suv = load_pet_as_suv(path)
    uptake = _seconds_of_day(dataset.SeriesTime) - _seconds_of_day("141700")
    assert suv.metadata["suv"]["uptake_s"] == pytest.approx(uptake)
    _close(suv.array[0], _tag_suv(dataset, uptake))


def test_clock_times_only_across_midnight(tmp_path):
    """No dates at all (Series/Acquisition/Study dates removed): a scan clock time before the injection clock
    time is on the next day."""
    def edit(ds):
        for keyword in ("SeriesDate", "AcquisitionDate", "StudyDate", "ContentDate"):
            delattr(ds, keyword)
        _drug(ds).RadiopharmaceuticalStartTime = "224500"
        ds.SeriesTime = ds.AcquisitionTime = "000500"

    path, dataset = _variant(tmp_path, edit)
    suv = load_pet_as_suv(path)
    assert suv.metadata["suv"]["uptake_s"] == 80 * 60
    _close(suv.array[0], _tag_suv(dataset, _uptake_s(dataset)))


# --- half-life from the radionuclide code ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "value", "meaning", "half_life_s"),
    [
        ("SNM3", "C-111A1", "F^18^[^18^Fluorine]", 109.77 * 60),  # as in the real file
        ("SCT", "77004003", "^18^Fluorine", 109.77 * 60),
        ("SRT", "C-131A3", "^68^Gallium", 67.71 * 60),
        ("SCT", "40565003", "^11^Carbon", 20.385 * 60),
        ("99LOCAL", "FDG18", "Fluorine-18", 109.77 * 60),  # unknown code: the meaning is read
    ],
)
def test_missing_half_life_from_the_radionuclide_code(tmp_path, scheme, value, meaning, half_life_s):
    def edit(ds):
        del _drug(ds).RadionuclideHalfLife
        code = _drug(ds).RadionuclideCodeSequence[0]
        code.CodingSchemeDesignator, code.CodeValue, code.CodeMeaning = scheme, value, meaning

    path, dataset = _variant(tmp_path, edit)
    suv = load_pet_as_suv(path)
    _close(suv.array[0], _tag_suv(dataset, _uptake_s(dataset), half_life_s=half_life_s))
    assert suv.metadata["suv"]["half_life_s"] == pytest.approx(half_life_s)
    assert "RadionuclideCodeSequence" in suv.metadata["suv"]["half_life_source"]


def test_radionuclide_codes_agree_with_pydicom_tables():
    """Our SNOMED-RT and SNOMED CT ids against pydicom's tables generated from DICOM PS3.16 (CID 4020)."""
    snomed = pytest.importorskip("pydicom.sr._snomed_dict").mapping
    concepts = pytest.importorskip("pydicom.sr._concepts_dict").concepts["SCT"]
    meanings = {code: meaning for entry in concepts.values() for code, (meaning, _) in entry.items()}
    for nuclide in RADIONUCLIDES:
        assert snomed["SCT"][nuclide.snomed_ct] == nuclide.snomed_rt, nuclide.name
        assert meanings[nuclide.snomed_ct] == f"^{nuclide.mass_number}^{nuclide.element}", nuclide.name
        assert radionuclide_from_meaning(meanings[nuclide.snomed_ct]) == nuclide


# --- plausibility warnings -----------------------------------------------------------------------------------


def test_real_header_has_no_warnings():
    assert suv_warnings(load_pet_as_suv(shared_data_path("pet-dicom-flt-breast", "1.dcm"))) == []


def test_absurd_dose_is_converted_with_a_warning(tmp_path):
    """4.27 GBq of F-18: SUV by the tags (a tenfold too low brain), and one warning naming the dose."""
    def edit(ds):
        _drug(ds).RadionuclideTotalDose = "4270000000"

    path, dataset = _variant(tmp_path, edit)
    suv = load_pet_as_suv(path)
    _close(suv.array[0], _tag_suv(dataset, _uptake_s(dataset)))
    warnings = suv_warnings(suv)
    assert len(warnings) == 1 and warnings[0].startswith("injected F-18 dose 4270 MBq is outside 37-1,000 MBq")


def test_tiny_dose_gives_dose_and_suv_max_warnings(tmp_path):
    def edit(ds):
        _drug(ds).RadionuclideTotalDose = "5000000"

    path, dataset = _variant(tmp_path, edit)
    suv = load_pet_as_suv(path)
    expected = _tag_suv(dataset, _uptake_s(dataset))
    assert expected.max() > 100
    warnings = suv_warnings(suv)
    assert [w.split(" ")[0] for w in warnings] == ["injected", "SUVmax"]
    assert f"SUVmax {expected.max():.4g} is above 100" in warnings[1]


@pytest.mark.parametrize(("weight", "expected_warnings"), [("350", 1), ("1.2", 1), ("69.7", 0)])
def test_weight_outside_2_to_300_kg_is_warned_not_refused(tmp_path, weight, expected_warnings):
    path, dataset = _variant(tmp_path, lambda ds: setattr(ds, "PatientWeight", weight))
    suv = load_pet_as_suv(path)
    _close(suv.array[0], _tag_suv(dataset, _uptake_s(dataset)))
    warnings = [w for w in suv_warnings(suv) if w.startswith("patient weight")]
    assert len(warnings) == expected_warnings


def test_uptake_outside_20_to_240_min_is_warned(tmp_path):
    """The real dynamic frame 2.dcm: its series starts at the injection (uptake 0.1 s)."""
    suv = load_pet_as_suv(shared_data_path("pet-dicom-flt-breast", "2.dcm"))
    assert [w for w in suv_warnings(suv) if w.startswith("uptake time 0.0 min is outside 20-240 min")]

    def edit(ds):
        _drug(ds).RadiopharmaceuticalStartDateTime = "19600614092316.921"  # six hours before the series

    path, dataset = _variant(tmp_path, edit)
    suv = load_pet_as_suv(path)
    _close(suv.array[0], _tag_suv(dataset, 6 * 3600.0))
    assert any(w.startswith("uptake time 360.0 min") for w in suv_warnings(suv))


def test_bqml_values_that_look_like_suv_are_warned(tmp_path):
    path, dataset = _variant(tmp_path, lambda ds: setattr(ds, "RescaleSlope", "0.005"))
    suv = load_pet_as_suv(path)
    peak = _activity(dataset).max()
    assert any(w.startswith(f"the PET peaks at {peak:.4g} Bq/ml, which looks like SUV") for w in suv_warnings(suv))


def test_half_life_in_minutes_disagrees_with_the_code(tmp_path):
    path, dataset = _variant(tmp_path, lambda ds: setattr(_drug(ds), "RadionuclideHalfLife", "109.77"))
    suv = load_pet_as_suv(path)
    _close(suv.array[0], _tag_suv(dataset, _uptake_s(dataset)))  # the tag is used, as written ...
    assert any("RadionuclideHalfLife 109.77 s disagrees with the coded radionuclide F-18 (6586.2 s)" in w
               for w in suv_warnings(suv))  # ... and the disagreement is said
