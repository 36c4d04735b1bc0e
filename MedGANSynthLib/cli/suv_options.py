"""The SUV options shared by every command that reads a PET (suv, mip, resample): each overrides its DICOM tag."""

from __future__ import annotations

import argparse

from MedGANSynthLib.pet.pet_input import ACKNOWLEDGED_UNITS
from MedGANSynthLib.pet.suv import SuvOverrides


def add_suv_options(parser: argparse.ArgumentParser, units_flag: bool = False) -> None:
    """--weight-kg, --dose-mbq, --injection-time, --scan-time, --half-life-s; with ``units_flag`` also --units."""
    parser.add_argument("--weight-kg", type=float, help="patient weight in kg (overrides PatientWeight)")
    parser.add_argument("--dose-mbq", type=float, help="injected activity in MBq (overrides RadionuclideTotalDose)")
    parser.add_argument("--injection-time", help="injection time (overrides RadiopharmaceuticalStartTime)")
    parser.add_argument("--scan-time", help="decay reference / scan start time (overrides SeriesTime)")
    parser.add_argument("--half-life-s", type=float, help="radionuclide half-life in s (F-18: 6586.2)")
    if units_flag:
        parser.add_argument("--units", choices=ACKNOWLEDGED_UNITS, default=None,
                            help="what a PET file without SUV headers holds: 'suv' (already SUV) or 'bqml' (keep "
                                 "activity concentration, not SUV; also keeps a DICOM PET in Bq/ml)")


def suv_overrides(args: argparse.Namespace) -> SuvOverrides:
    return SuvOverrides(weight_kg=args.weight_kg, dose_mbq=args.dose_mbq, injection_time=args.injection_time,
                        scan_time=args.scan_time, half_life_s=args.half_life_s)
