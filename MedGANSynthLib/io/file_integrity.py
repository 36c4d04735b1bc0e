"""Refuse NIfTI and NRRD files whose header and data disagree, before SimpleITK reads them.

SimpleITK (ITK's NIfTI reader) fills the missing end of a truncated ``.nii`` or ``.nii.gz`` with zeros without an
error, and reads a header voxel size of 0, a negative one or NaN as 1 mm; ITK's NRRD reader accepts a gzip stream
that lacks its last bytes. Every command would then compute and write results from a half-empty image. So:

* NIfTI-1/-2: the header's voxel sizes (pixdim) along the image axes must be finite and positive, and the file
  (for ``.nii.gz`` the whole gzip stream, which must decompress to its end-of-stream marker) must hold at least
  vox_offset + voxels x bitpix / 8 bytes (the header's stored type: ITK reports scaled data as float32).
* NRRD (attached or detached data): raw data must be as long as the header's sizes and type promise; gzip and
  bzip2 data must decompress completely to at least that many bytes.

MetaImage (.mha/.mhd) is left to ITK, whose reader already refuses short data. For NRRD the expected byte count
comes from SimpleITK's header-only ReadImageInformation (NRRD stores the type ITK reports).
"""

from __future__ import annotations

import bz2
import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from MedGANSynthLib.errors import InputError

_CHUNK = 1 << 22  # decompress 4 MB at a time: memory stays flat for large volumes
_NRRD_HEADER_LIMIT = 1 << 20


def check_file_integrity(path: str | os.PathLike, suffix: str) -> None:
    """Raise :class:`InputError` when ``path`` (a volume file of ``suffix``) is truncated or has a broken voxel size."""
    source = Path(path)
    if suffix in (".nii", ".nii.gz"):
        _check_nifti(source, compressed=suffix == ".nii.gz")
    elif suffix in (".nrrd", ".nhdr"):
        _check_nrrd(source)


def expected_data_bytes(path: Path) -> int:
    """Voxels x components x bytes per component, from the header alone."""
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        reader.ReadImageInformation()
    except RuntimeError as error:
        raise InputError(f"'{path.name}' has an unreadable header (truncated or corrupt file?).") from error
    probe = sitk.Image([1, 1], reader.GetPixelID())
    item = sitk.GetArrayViewFromImage(probe).dtype.itemsize
    return int(np.prod([int(n) for n in reader.GetSize()], dtype=np.int64)) * item * reader.GetNumberOfComponents()


# --- NIfTI ---------------------------------------------------------------------------------------------------


def _check_nifti(path: Path, compressed: bool) -> None:
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as handle:
            header = handle.read(540)
    except (OSError, EOFError, zlib.error) as error:
        kind = "gzip" if compressed else "NIfTI"
        raise InputError(f"'{path.name}' is truncated or corrupt: it is not a readable {kind} file; "
                         "export it again.") from error
    shape, bitpix, pixdim, vox_offset = _nifti_fields(header, path)
    spatial = pixdim[1:1 + min(3, len(shape))]
    if not all(np.isfinite(s) and s > 0 for s in spatial):
        raise InputError(f"'{path.name}' gives voxel sizes {tuple(float(s) for s in spatial)} mm in its header "
                         "(pixdim); they must be positive numbers. Fix the header or export the image again.")
    # The stored type (bitpix), not ITK's pixel type: ITK reads scaled (scl_slope) bytes as float32.
    promised = vox_offset + int(np.prod(shape, dtype=np.int64)) * bitpix // 8
    held = _gzip_length(path) if compressed else path.stat().st_size
    if held < promised:
        raise InputError(f"'{path.name}' is truncated: its header promises {promised:,} bytes of image but the file "
                         f"holds {held:,}; copy or export it again.")


def _nifti_fields(header: bytes, path: Path) -> tuple[list[int], int, np.ndarray, int]:
    """(dim[1..dim[0]], bitpix, pixdim[0..7], vox_offset) of a NIfTI-1 or NIfTI-2 header, either byte order."""
    for endian in "<>":
        if len(header) >= 348 and struct.unpack(endian + "i", header[:4])[0] == 348:
            dim = struct.unpack(endian + "8h", header[40:56])
            bitpix = struct.unpack(endian + "h", header[72:74])[0]
            pixdim = np.array(struct.unpack(endian + "8f", header[76:108]), dtype=float)
            vox_offset = int(struct.unpack(endian + "f", header[108:112])[0])
        elif len(header) >= 540 and struct.unpack(endian + "i", header[:4])[0] == 540:
            bitpix = struct.unpack(endian + "h", header[14:16])[0]
            dim = struct.unpack(endian + "8q", header[16:80])
            pixdim = np.array(struct.unpack(endian + "8d", header[104:168]), dtype=float)
            vox_offset = int(struct.unpack(endian + "q", header[168:176])[0])
        else:
            continue
        if not 1 <= dim[0] <= 7 or bitpix <= 0:
            break
        return [max(1, int(n)) for n in dim[1:1 + dim[0]]], int(bitpix), pixdim, vox_offset
    raise InputError(f"'{path.name}' is truncated or corrupt: it does not start with a whole NIfTI header; "
                     "export it again.")


def _gzip_length(path: Path) -> int:
    """Bytes the whole gzip stream decompresses to; InputError when it stops before its end-of-stream marker."""
    total = 0
    try:
        with gzip.open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                total += len(chunk)
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(f"'{path.name}' is truncated or corrupt: its gzip data end early ({error}); "
                         "copy or export it again.") from error
    return total


# --- NRRD ----------------------------------------------------------------------------------------------------


def _check_nrrd(path: Path) -> None:
    fields, data_start = _nrrd_header(path)
    data_file = fields.get("data file") or fields.get("datafile")
    if data_file and (" " in data_file.strip() or data_file.strip().upper().startswith("LIST")):
        return  # several detached data files: ITK checks those itself
    source, offset = (path.parent / data_file.strip(), 0) if data_file else (path, data_start)
    if not source.is_file():
        raise InputError(f"The data file '{source.name}' that '{path.name}' points to is missing.")
    if int(fields.get("line skip", "0") or 0) or int(fields.get("byte skip", "0") or 0):
        return  # skipped leading bytes or lines: the length arithmetic below would not apply
    encoding = fields.get("encoding", "raw").strip().lower()
    promised = expected_data_bytes(path)
    if encoding == "raw":
        held = source.stat().st_size - offset
    elif encoding in ("gzip", "gz", "bzip2", "bz2"):
        held = _stream_length(source, offset, encoding.startswith("b"), path.name)
    else:
        return  # text encodings: the reader counts the values itself
    if held < promised:
        raise InputError(f"'{path.name}' is truncated: its header promises {promised:,} bytes of image but the data "
                         f"hold {held:,}; copy or export it again.")


def _nrrd_header(path: Path) -> tuple[dict[str, str], int]:
    """Header fields (lower-case names) and the byte offset where attached data begin."""
    with open(path, "rb") as handle:
        head = handle.read(_NRRD_HEADER_LIMIT)
    if not head.startswith(b"NRRD"):
        raise InputError(f"'{path.name}' is truncated or corrupt: it does not start with a NRRD header; "
                         "export it again.")
    end = head.find(b"\n\n")
    end = len(head) if end < 0 else end + 2
    fields = {}
    for line in head[:end].decode("latin-1").splitlines()[1:]:
        if ":" in line and not line.startswith("#") and ":=" not in line:
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.strip()
    return fields, end


def _stream_length(path: Path, offset: int, is_bzip2: bool, name: str) -> int:
    """Decompressed length of the gzip (or bzip2) stream that starts at ``offset``; refuses an unfinished stream."""
    decoder = bz2.BZ2Decompressor() if is_bzip2 else zlib.decompressobj(16 + zlib.MAX_WBITS)
    total = 0
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            while (chunk := handle.read(_CHUNK)) and not decoder.eof:
                total += len(decoder.decompress(chunk))
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(f"'{name}' is corrupt: its compressed data cannot be decoded ({error}); "
                         "copy or export it again.") from error
    if not decoder.eof:
        raise InputError(f"'{name}' is truncated: its compressed data end before the end-of-stream marker; "
                         "copy or export it again.")
    return total
