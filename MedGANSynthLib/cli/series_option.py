"""``--series NUMBER|UID``: which DICOM series to read when an input folder holds several."""

from __future__ import annotations

import argparse

from MedGANSynthLib.io.series_help import series_option_help


def add_series_option(parser: argparse.ArgumentParser, what: str = "", flag: str = "--series") -> None:
    """Add ``flag``; ``what`` is the modality the command picks by itself among several series ("PET", "CT")."""
    subject = "reference" if flag == "--reference-series" else "input"
    parser.add_argument(flag, metavar="NUMBER|UID", help=series_option_help(what, subject))
