"""The help text of ``--series``, in a light module (no pydicom) so that ``--help`` stays fast and the training
settings, declared in the core, describe their ``--series`` as the other commands' flag does."""

from __future__ import annotations

SERIES_HELP = ("DICOM series to read when the {input} folder holds several (SeriesNumber or SeriesInstanceUID; "
               "the error lists them). Default: the only image series{preferred}")


def series_option_help(what: str = "", subject: str = "input") -> str:
    """``what``: the modality the command picks by itself among several series ("PET", "CT")."""
    preferred = f", or else the only {what} series" if what else ""
    return SERIES_HELP.format(input=subject, preferred=preferred)
