"""Exceptions with messages a clinician understands.

Expected problems with the user's input raise :class:`InputError` (a ``ValueError``), whose message is one line
that says what is wrong and how to fix it. The CLI prints it and exits with status 2, without a traceback.
"""


class MedGANSynthError(Exception):
    """Base class of every error the library raises on purpose."""


class InputError(MedGANSynthError, ValueError):
    """The input cannot be used as given (wrong file, missing DICOM tag, NaN voxels, ...)."""


class Cancelled(MedGANSynthError):
    """Long work stopped because its cancel token was set."""
