"""``--series NUMBER|UID``: which DICOM series to read when an input folder holds several."""

from __future__ import annotations

import argparse

SERIES_HELP = ("DICOM series to read when the {input} folder holds several (SeriesNumber or SeriesInstanceUID; "
               "the error lists them). Default: the only image series{preferred}")


def add_series_option(parser: argparse.ArgumentParser, what: str = "", flag: str = "--series") -> None:
    """Add ``flag``; ``what`` is the modality the command picks by itself among several series ("PET", "CT")."""
    preferred = f", or else the only {what} series" if what else ""
    subject = "reference" if flag == "--reference-series" else "input"
    parser.add_argument(flag, metavar="NUMBER|UID", help=SERIES_HELP.format(input=subject, preferred=preferred))
