"""Decode the stored pixel values of one DICOM image, whatever transfer syntax the PACS exported.

Decoding is pydicom's: its own handlers read uncompressed, deflated and RLE data; the pylibjpeg plugins read
JPEG baseline/extended/lossless (pylibjpeg-libjpeg), JPEG-LS (pylibjpeg-libjpeg), JPEG 2000 (pylibjpeg-openjpeg)
and RLE (pylibjpeg-rle); python-gdcm is a further handler. Works with pydicom 2.4 (Slicer 5.10) and 3.x.
When nothing can decode the data, the message names the transfer syntax (name and UID) so the user knows what
to re-export or install.
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import UID

from MedGANSynthLib.errors import InputError

DECODER_PACKAGES = "pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg pylibjpeg-rle python-gdcm"


def transfer_syntax(dataset: Dataset) -> UID:
    meta = getattr(dataset, "file_meta", None)
    uid = meta.get("TransferSyntaxUID") if meta is not None else None
    return UID(str(uid)) if uid else UID("1.2.840.10008.1.2")  # no meta: implicit VR little endian (PS3.5 A.1)


def syntax_label(syntax: UID) -> str:
    name = syntax.name if syntax.name != str(syntax) else "an unknown transfer syntax"
    return f"{name} ({syntax})"


def stored_pixels(dataset: Dataset, file_name: str) -> np.ndarray:
    """The stored (not yet rescaled) pixel values; one clear line when they cannot be decoded."""
    syntax = transfer_syntax(dataset)
    try:
        return dataset.pixel_array
    except Exception as error:  # pydicom and its plugins raise many types (RuntimeError, ValueError, ...)
        raise InputError(_failure(dataset, syntax, file_name, error)) from error


def _failure(dataset: Dataset, syntax: UID, file_name: str, error: Exception) -> str:
    compressed = syntax.is_compressed if syntax.is_transfer_syntax else True
    if compressed and syntax != "1.2.840.10008.1.2.1.99" and not decoder_available(syntax):
        return (f"'{file_name}' is compressed as {syntax_label(syntax)}, which no installed decoder reads; "
                f"install the decoders (pip install {DECODER_PACKAGES}) or export the series uncompressed.")
    text = str(error).strip()
    detail = " ".join(line.strip() for line in text.splitlines()).split(" - ")[0][:100] if text else \
        type(error).__name__
    return (f"'{file_name}' pixel data cannot be decoded ({syntax_label(syntax)}: {detail}); the file is "
            "probably truncated or damaged, copy the series again.")


def decoder_available(syntax: UID) -> bool:
    """True when an installed pydicom pixel handler can decode ``syntax`` (pydicom 3 or 2.4)."""
    try:
        from pydicom.pixels import get_decoder  # pydicom >= 3
    except ImportError:
        from pydicom import config

        return any(handler.is_available() and handler.supports_transfer_syntax(syntax)
                   for handler in config.pixel_data_handlers)
    try:
        return bool(get_decoder(syntax).is_available)
    except NotImplementedError:
        return False
