"""The Logic's virtual PET: ``medgansynth virtual-pet`` on a CT node, its outputs back as nodes over the CT."""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.mrml.display import show_overlay
from MedGANSynthLib.mrml.logic_jobs import ProgressHandler
from MedGANSynthLib.mrml.node_warnings import attach_warnings
from MedGANSynthLib.mrml.segmentation import segmentation_from_labels, table_from_rows
from MedGANSynthLib.mrml.volume_nodes import node_from_volume, volume_from_node
from MedGANSynthLib.virtual_pet.lesions import MIN_LESION_VOLUME_ML, PAPER_THRESHOLD_SUV
from MedGANSynthLib.virtual_pet.output_files import OUTPUT_FILES
from MedGANSynthLib.virtual_pet.outside_body import DEFAULT_OUTSIDE_BODY, check_outside_body
from MedGANSynthLib.virtual_pet.uncertainty import DEFAULT_UNCERTAINTY_PASSES

VIRTUAL_PET_OUTPUTS = {  # result attribute -> (its key in virtual_pet.output_files.OUTPUT_FILES, node name suffix)
    "virtualPET": ("virtual_pet", "virtual PET"),
    "fcn": ("fcn", "virtual PET (FCN)"),
    "gan": ("gan", "virtual PET (GAN)"),
    "uncertainty": ("uncertainty", "virtual PET uncertainty"),
}


@dataclass
class VirtualPETNodes:
    """Nodes made by :meth:`MedGANSynthLogic.predictVirtualPET` (None for outputs that were not asked for)."""

    virtualPET: Any = None  # noqa: N815 -- Slicer-style attribute names, as scripts use them
    fcn: Any = None
    gan: Any = None
    uncertainty: Any = None
    lesionSegmentation: Any = None  # noqa: N815
    lesionTable: Any = None  # noqa: N815
    lesions: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)


class VirtualPETActions:
    """Part of :class:`~MedGANSynthLib.mrml.logic.MedGANSynthLogic`, which gives ``scene``, ``lastWarnings`` and
    the job control (:class:`~MedGANSynthLib.mrml.logic_jobs.JobControl`)."""

    def predictVirtualPET(self, ctNode, modelId: str | None = None, device: str = "auto",
                          threshold: float = PAPER_THRESHOLD_SUV, uncertainty: bool = False, wait: bool = True,
                          progress: ProgressHandler | None = None, minVolumeMl: float = MIN_LESION_VOLUME_ML,
                          inputCheck: str | None = None, outsideBody: str = DEFAULT_OUTSIDE_BODY):
        """Virtual PET of a CT node, shown over the CT, with lesion candidates (segmentation + table).

        Candidates smaller than ``minVolumeMl`` (default: the shared MIN_LESION_VOLUME_ML, 0.5 ml) are not listed.

        Runs ``medgansynth virtual-pet`` in a child process on a temporary copy of the CT. ``modelId`` is a catalogue
        id or a ``.safetensors`` path (default: the bundled model). ``inputCheck``: a CT -> PET CycleGAN (id or path)
        whose cycle error checks the CT against its training CTs, "none" for no check (default: the bundled CycleGAN
        when installed); its warning joins ``lastWarnings``. ``outsideBody``: "zero" (default) sets the virtual PET
        to 0 outside the CT's body, "keep" shows the networks' raw values there (``--outside-body``).
        ``uncertainty``: also the spread of DEFAULT_UNCERTAINTY_PASSES (8) Monte-Carlo-dropout passes of the GAN
        (``--uncertainty``).
        ``wait=True`` returns :class:`VirtualPETNodes`; ``wait=False`` returns a :class:`LogicJob` whose ``result``
        holds them when done.
        """
        from MedGANSynthLib.io.volume_io import write_volume

        check_outside_body(outsideBody)
        ct = volume_from_node(ctNode)
        work = Path(tempfile.mkdtemp(prefix="MedGANSynth-vpet-"))
        try:
            write_volume(ct, work / "ct.nrrd")
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        args = ["virtual-pet", str(work / "ct.nrrd"), "-o", str(work / "out"), "--device", device,
                "--threshold", repr(float(threshold)), "--min-volume-ml", repr(float(minVolumeMl)),
                "--outside-body", outsideBody, "--no-pictures"]  # Slicer shows the volumes themselves
        if modelId:
            args += ["--model", str(modelId)]
        if uncertainty:
            args += ["--uncertainty", str(DEFAULT_UNCERTAINTY_PASSES)]
        if inputCheck is not None:
            args += ["--input-check", str(inputCheck)]
        job = self._start("Virtual PET", args, lambda: self.loadVirtualPET(ctNode, work / "out", threshold),
                          cleanup=lambda: shutil.rmtree(work, ignore_errors=True), progress=progress)
        return self.waitForJob(job) if wait else job

    def loadVirtualPET(self, ctNode, folder, threshold: float = PAPER_THRESHOLD_SUV) -> VirtualPETNodes:
        """Nodes from the output folder of ``medgansynth virtual-pet`` (e.g. run on another machine), shown over the CT."""
        from MedGANSynthLib.io.volume_io import read_volume

        folder = Path(folder)
        name = ctNode.GetName()
        nodes = VirtualPETNodes()
        self.lastWarnings = []
        for attribute, (key, suffix) in VIRTUAL_PET_OUTPUTS.items():
            if (folder / OUTPUT_FILES[key]).is_file():
                node = node_from_volume(read_volume(folder / OUTPUT_FILES[key]), self.scene, f"{name} {suffix}",
                                        reference_node=ctNode)
                setattr(nodes, attribute, node)
        if nodes.virtualPET is None:
            raise InputError(f"The virtual PET job ended without writing {OUTPUT_FILES['virtual_pet']}; see the log "
                             "for why.")
        if (folder / OUTPUT_FILES["lesions_json"]).is_file():
            nodes.lesions = _json_list(folder / OUTPUT_FILES["lesions_json"])
        if (folder / OUTPUT_FILES["lesion_labels"]).is_file():
            labels = read_volume(folder / OUTPUT_FILES["lesion_labels"])
            labels = labels.with_array(labels.array, modality="SEG", units="label")
            nodes.lesionSegmentation = segmentation_from_labels(
                labels, self.scene, reference_node=ctNode, name=f"{name} lesion candidates (SUV > {threshold:g})")
        nodes.lesionTable = table_from_rows(_flat_rows(nodes.lesions), self.scene, f"{name} lesions", ctNode)
        if (folder / OUTPUT_FILES["summary"]).is_file():
            nodes.summary = json.loads((folder / OUTPUT_FILES["summary"]).read_text())
            self.lastWarnings = list(nodes.summary.get("warnings", []))  # e.g. a CT unlike the training data
            attach_warnings(nodes.virtualPET, self.lastWarnings)
        show_overlay(ctNode, nodes.virtualPET)
        return nodes


def _json_list(path: Path) -> list[dict]:
    data = json.loads(path.read_text())
    rows = data.get("lesions", data.get("candidates", [])) if isinstance(data, dict) else data
    return [row for row in rows if isinstance(row, dict)]


def _flat_rows(lesions: list[dict]) -> list[dict]:
    """Table rows: the LPS centroid as three columns, as in lesions.csv."""
    rows = []
    for lesion in lesions:
        row = {k: v for k, v in lesion.items() if not isinstance(v, (list, tuple, dict))}
        centroid = lesion.get("centroid_mm")
        if centroid is not None:
            row.update(x_mm=centroid[0], y_mm=centroid[1], z_mm=centroid[2])
        rows.append(row)
    return rows
