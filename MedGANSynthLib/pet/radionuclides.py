"""PET radionuclides: half-lives, and which one a DICOM RadionuclideCodeSequence (0054,0300) names.

Used when a PET lacks RadionuclideHalfLife (0018,1075) but names its radionuclide, and to check a half-life tag
against the code (109.77 written for F-18 is minutes, not seconds).

Codes: DICOM PS3.16 CID 4020 "PET Radionuclide". Files written before DICOM 2019 carry the legacy SNOMED-RT ids
(scheme SRT, or SNM3 as in the real ACRIN-FLT-Breast headers); newer ones the SNOMED CT ids (scheme SCT). Both
columns agree with pydicom's generated tables (``pydicom.sr._snomed_dict``, checked by the tests).

Half-lives (NNDC NuDat / ENSDF evaluated values): F-18 109.77 min, C-11 20.385 min, N-13 9.965 min and O-15
122.24 s as tabled in the European Pharmacopoeia 5.7 (from NNDC); Ga-68 67.71 min, Cu-64 12.701 h, Zr-89 78.41 h,
Rb-82 1.2575 min, I-124 4.1760 d from ENSDF. F-18 6586.2 s is also what Siemens writes (real ``1.dcm``); some
references round it to 109.8 min = 6588 s, a 0.03 % difference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydicom.dataset import Dataset

# A half-life tag more than this fraction away from the coded radionuclide's half-life is reported.
HALF_LIFE_TOLERANCE = 0.01


@dataclass(frozen=True)
class Radionuclide:
    name: str  # "F-18"
    half_life_s: float
    snomed_rt: str  # legacy SNOMED-RT id (coding schemes SRT, SNM3, 99SDM)
    snomed_ct: str  # SNOMED CT id (coding scheme SCT)
    element: str  # English element name as CID 4020 code meanings spell it ("^18^Fluorine")

    @property
    def symbol(self) -> str:
        return self.name.split("-")[0]

    @property
    def mass_number(self) -> int:
        return int(self.name.split("-")[1])


RADIONUCLIDES = (
    Radionuclide("F-18", 109.77 * 60, "C-111A1", "77004003", "Fluorine"),
    Radionuclide("C-11", 20.385 * 60, "C-105A1", "40565003", "Carbon"),
    Radionuclide("N-13", 9.965 * 60, "C-107A1", "21576001", "Nitrogen"),
    Radionuclide("O-15", 122.24, "C-B1038", "129504001", "Oxygen"),
    Radionuclide("Ga-68", 67.71 * 60, "C-131A3", "35337001", "Gallium"),
    Radionuclide("Cu-64", 12.701 * 3600, "C-127A2", "3932008", "Copper"),
    Radionuclide("Zr-89", 78.41 * 3600, "C-168A4", "63360001", "Zirconium"),
    Radionuclide("Rb-82", 1.2575 * 60, "C-159A2", "79197006", "Rubidium"),
    Radionuclide("I-124", 4.1760 * 86400, "C-114A5", "40937006", "Iodine"),
)
F18 = RADIONUCLIDES[0]

_LEGACY_SCHEMES = ("SRT", "SNM3", "99SDM")
# "^18^Fluorine", "F^18^[^18^Fluorine]", "Fluorine-18", "18F", "F-18", "F 18"
_MASS_AND_NAME = re.compile(r"(\d+)\s*\^?\s*([A-Za-z]+)|([A-Za-z]+)\s*[-^ ]?\s*(\d+)")


def radionuclide_from_code(code_value: str, scheme: str = "") -> Radionuclide | None:
    """The radionuclide of a CID 4020 code (legacy SNOMED-RT or SNOMED CT), or None when it is not tabled here."""
    value, scheme = str(code_value).strip().upper(), str(scheme).strip().upper()
    for nuclide in RADIONUCLIDES:
        if scheme == "SCT" and value == nuclide.snomed_ct:
            return nuclide
        if scheme in (*_LEGACY_SCHEMES, "") and value == nuclide.snomed_rt.upper():
            return nuclide
    return None


def radionuclide_from_meaning(meaning: str) -> Radionuclide | None:
    """The radionuclide a free-text code meaning names (mass number plus element name or symbol), or None."""
    for match in _MASS_AND_NAME.finditer(str(meaning)):
        mass, word = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        for nuclide in RADIONUCLIDES:
            named = word.lower() in (nuclide.element.lower(), nuclide.symbol.lower())
            if named and int(mass) == nuclide.mass_number:
                return nuclide
    return None


def radionuclide_of(drug: Dataset | None) -> tuple[Radionuclide | None, str]:
    """The radionuclide a RadiopharmaceuticalInformationSequence item names, and how it was found.

    The code value is trusted first; its free-text meaning is the fallback (some writers put a local code).
    """
    sequence = drug.get("RadionuclideCodeSequence") if drug is not None else None
    if not sequence:
        return None, ""
    item = sequence[0]
    value, scheme = str(item.get("CodeValue", "")), str(item.get("CodingSchemeDesignator", ""))
    nuclide = radionuclide_from_code(value, scheme)
    if nuclide is not None:
        return nuclide, f"RadionuclideCodeSequence code {scheme} {value}"
    meaning = str(item.get("CodeMeaning", ""))
    nuclide = radionuclide_from_meaning(meaning)
    if nuclide is not None:
        return nuclide, f"RadionuclideCodeSequence meaning '{meaning}'"
    return None, ""


def is_f18_half_life(half_life_s: float) -> bool:
    return abs(half_life_s - F18.half_life_s) <= HALF_LIFE_TOLERANCE * F18.half_life_s
