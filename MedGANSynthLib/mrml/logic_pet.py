"""The Logic's PET section: PET -> SUV -> (resampling) -> MIP or rotating MIP, as nodes beside the input."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from MedGANSynthLib.mrml.display import show_mip
from MedGANSynthLib.mrml.node_suv import dicom_pet_in_suv, node_as_suv, pet_for_projection
from MedGANSynthLib.mrml.node_warnings import attach_warnings
from MedGANSynthLib.mrml.sequences import frame_volume_node, sequence_from_volumes
from MedGANSynthLib.mrml.volume_nodes import node_from_volume, volume_from_node
from MedGANSynthLib.volume import Volume


@dataclass
class PETNodes:
    """Nodes made by :meth:`MedGANSynthLogic.computeSUVAndMIP` (None for steps that were not asked for)."""

    suv: Any = None
    resampled: Any = None
    mip: Any = None
    rotatingMIP: Any = None  # noqa: N815 -- the sequence browser node
    warnings: list[str] = field(default_factory=list)  # SUV plausibility warnings (also on the SUV node)


class PETActions:
    """Part of :class:`~MedGANSynthLib.mrml.logic.MedGANSynthLogic`, which gives ``scene`` and ``lastWarnings``."""

    def computeSUV(self, petNodeOrPath, weightKg: float | None = None, doseMBq: float | None = None,
                   injectionTime=None, scanTime=None, halfLifeS: float | None = None, series=None):
        """A new volume node in SUVbw from a PET node (Bq/ml) or a PET file/DICOM folder.

        DICOM files (and, inside Slicer, nodes loaded from the DICOM database) take weight, dose, times and
        half-life from their headers, each replaced by the argument when given. Other inputs need weight, dose and
        both times; the half-life defaults to F-18. A DICOM folder may hold several series (searched 4 folders
        down): the only PET is taken, or ``series`` (SeriesNumber or SeriesInstanceUID) names it. Plausibility
        warnings (unusual dose, weight, uptake time or SUVmax) are kept in ``lastWarnings`` and on the new node's
        attribute ``MedGANSynth.warnings`` (one a line).
        """
        from MedGANSynthLib.pet.suv import DEFAULT_HALF_LIFE_S, load_pet_as_suv

        self.lastWarnings = []
        if isinstance(petNodeOrPath, (str, os.PathLike)):
            path = Path(petNodeOrPath)
            volume = load_pet_as_suv(path, weightKg, doseMBq, injectionTime, scanTime, halfLifeS, series=series,
                                     default_half_life_s=DEFAULT_HALF_LIFE_S)
            return self._suv_node(volume, f"{_stem(path)} SUV")
        volume = volume_from_node(petNodeOrPath)
        suv = node_as_suv(petNodeOrPath, volume, weightKg, doseMBq, injectionTime, scanTime, halfLifeS)
        return self._suv_node(suv, f"{petNodeOrPath.GetName()} SUV", petNodeOrPath)

    def _suv_node(self, volume: Volume, name: str, reference_node=None):
        from MedGANSynthLib.pet.suv import suv_warnings

        node = node_from_volume(volume, self.scene, name, reference_node=reference_node)
        self.lastWarnings = suv_warnings(volume)
        attach_warnings(node, self.lastWarnings)
        return node

    def resampleVolume(self, node, spacingMm: float = 2.0, interpolation: str = "auto"):
        """A copy of ``node`` on cubic voxels of ``spacingMm`` (same field of view and direction), beside it.

        ``"auto"``: linear for images, nearest for label maps. A PET loaded from DICOM in Bq/ml is resampled in SUV.
        """
        from MedGANSynthLib.preprocessing.resample import resample_isotropic

        volume = dicom_pet_in_suv(node, volume_from_node(node))
        volume = resample_isotropic(volume, float(spacingMm), interpolation)
        return node_from_volume(volume, self.scene, f"{node.GetName()} {spacingMm:g} mm", reference_node=node)

    def computeMIP(self, node, axis: str = "coronal", units: str | None = None):
        """Maximum-intensity projection along ``axis`` as a one-slice volume, shown in inverted grey.

        The node must be a PET in SUV: a DICOM PET in Bq/ml is converted from its headers; a node without SUV
        units or DICOM headers needs ``units="suv"`` (it holds SUV) or ``units="bqml"`` (project Bq/ml); a CT is
        refused.
        """
        from MedGANSynthLib.projection.mip import mip

        projection = node_from_volume(mip(pet_for_projection(node, units), axis), self.scene,
                                      f"{node.GetName()} {axis} MIP", reference_node=node)
        show_mip(projection)
        return projection

    def computeRotatingMIP(self, node, angles: int = 36, units: str | None = None):
        """Coronal MIPs turned about the S axis as a sequence (one frame per angle); returns its browser node.

        The node must be a PET in SUV, as for :meth:`computeMIP`.
        """
        from MedGANSynthLib.projection.rotating_mip import rotating_mip

        stack = rotating_mip(pet_for_projection(node, units), int(angles))
        frames = [stack.with_array(stack.array[n:n + 1]) for n in range(stack.array.shape[0])]
        _, browser = sequence_from_volumes(frames, self.scene, f"{node.GetName()} rotating MIP", "angle",
                                           stack.metadata["angles_deg"], "deg")
        show_mip(frame_volume_node(browser), window=_value_range(stack))
        return browser

    def computeSUVAndMIP(self, petNodeOrPath, weightKg: float | None = None, doseMBq: float | None = None,
                         injectionTime=None, scanTime=None, spacingMm: float | None = None,
                         interpolation: str = "auto", axis: str = "coronal",
                         rotatingAngles: int | None = None, series=None) -> PETNodes:
        """The panel's PET section in one call: SUV, optional resampling (``spacingMm``), then a MIP along ``axis``
        or, with ``rotatingAngles``, a rotating MIP. ``series`` as in :meth:`computeSUV`."""
        nodes = PETNodes(suv=self.computeSUV(petNodeOrPath, weightKg, doseMBq, injectionTime, scanTime,
                                             series=series))
        nodes.warnings = list(self.lastWarnings)
        source = nodes.suv
        if spacingMm:
            source = nodes.resampled = self.resampleVolume(nodes.suv, spacingMm, interpolation)
        if rotatingAngles:
            nodes.rotatingMIP = self.computeRotatingMIP(source, rotatingAngles)
        else:
            nodes.mip = self.computeMIP(source, axis)
        return nodes


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".nii.gz", ".nrrd", ".nii", ".mha", ".dcm"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _value_range(volume: Volume) -> tuple[float, float]:
    low, high = float(volume.array.min()), float(volume.array.max())
    return (low, high) if high > low else (low, low + 1.0)
