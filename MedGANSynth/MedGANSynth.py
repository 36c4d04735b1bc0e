"""MedGANSynth: GAN image synthesis for PET/CT in 3D Slicer: the module's entry point.

Slicer loads this file and finds here the module class (:class:`MedGANSynth`, defined here) and the classes named
after it: :class:`MedGANSynthWidget`, :class:`MedGANSynthLogic` and :class:`MedGANSynthTest`, which live in the
folder ``MedGANSynthModule`` beside this file with the parameter node, one concept a file.

The panel holds no science: each button calls one method of :class:`MedGANSynthLogic`, which is the library's
``MedGANSynthLib.mrml.logic.MedGANSynthLogic`` — the same methods Slicer's Python console and batch scripts use.
"""

from __future__ import annotations

import pathlib
import sys

import qt
import slicer
from slicer.i18n import tr as _
from slicer.i18n import translate
from slicer.ScriptedLoadableModule import ScriptedLoadableModule

MODULE_DIR = pathlib.Path(__file__).resolve().parent

try:
    import MedGANSynthLib  # noqa: F401 -- installed extension: the package sits beside this file
except ImportError:
    # Source tree added to Slicer's module paths: the package is one level up, beside MedGANSynth/.
    sys.path.insert(0, str(MODULE_DIR.parent))

# Slicer's Reload (developer mode) runs this file again: the module's parts are then read again too.
for _part in [name for name in sys.modules if name.split(".")[0] == "MedGANSynthModule"]:
    del sys.modules[_part]

from MedGANSynthModule.logic import MedGANSynthLogic  # noqa: E402
from MedGANSynthModule.panel_words import inPanelWords, pathOrNone  # noqa: E402
from MedGANSynthModule.parameter_node import MedGANSynthParameterNode, parameterNames  # noqa: E402
from MedGANSynthModule.resources import resourceFile  # noqa: E402
from MedGANSynthModule.self_test import MedGANSynthTest  # noqa: E402
from MedGANSynthModule.widget import MedGANSynthWidget  # noqa: E402

from MedGANSynthLib.citations import citations_html  # noqa: E402
from MedGANSynthLib.mrml.sample_data import PHANTOM_SAMPLES  # noqa: E402

__all__ = ["MedGANSynth", "MedGANSynthLogic", "MedGANSynthParameterNode", "MedGANSynthTest", "MedGANSynthWidget",
           "inPanelWords", "makePhantom", "parameterNames", "pathOrNone", "registerSampleData", "resourceFile"]


#
# MedGANSynth
#


class MedGANSynth(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("MedGANSynth")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Nuclear Medicine")]
        self.parent.dependencies = []
        self.parent.contributors = ["MedGANSynth developers (MedGANSynth project)"]
        self.parent.helpText = _("""
PET/CT image synthesis with generative adversarial networks: turn a PET into SUV and maximum-intensity projections,
predict a <b>virtual PET</b> from a CT with its lesion candidates, sample GANs and play latent walks, train GANs.
Every button is one call of <code>MedGANSynthLogic</code>, usable from the Python console and batch scripts.
See the <a href="https://github.com/MedGANSynth/SlicerMedGANSynth#readme">documentation</a> and the
<a href="https://github.com/MedGANSynth/SlicerMedGANSynth/blob/main/Testing/Scripts">batch examples</a>.
The whole-body PET/CT and brain PET phantoms are in the Sample Data module (made on this computer, no download).
If you use MedGANSynth, please cite the papers whose methods it implements: {references}
Bundled models are trained on software phantoms, not on patients: research use only.
""").format(references=citations_html())
        # The base class looks for the icon beside this file (installed layout); the source tree keeps it in
        # the top-level Resources/ with the library's other resources.
        icon = resourceFile("Icons/MedGANSynth.png")
        if icon.is_file():
            self.parent.icon = qt.QIcon(str(icon))
        slicer.app.connect("startupCompleted()", registerSampleData)  # once every module, SampleData too, is there
        self.parent.acknowledgementText = _("""
Built on 3D Slicer and PyTorch. Methods follow RadioGAN (class-conditional MIP PET synthesis), the brain-PET DCGAN
study, and the CT-to-virtual-PET work combining an FCN with a pix2pix GAN (the references are in the help).
""")


def registerSampleData() -> None:
    """The phantoms in Slicer's Sample Data module, made on this computer when their button is pressed.

    Sample Data's button calls a source's ``customDownloader``; its ``downloadSample(name)`` would fetch the URI
    instead, so scripts call the loaders of MedGANSynthLib.mrml.sample_data. The URI only names the generator.
    """
    import SampleData

    registered = {source.sampleName for source in SampleData.SampleDataLogic.sampleDataSourcesByCategory("MedGANSynth")}
    for name, load in PHANTOM_SAMPLES.items():
        if name not in registered:  # a reloaded module: Slicer compares sources by their text, downloader included
            SampleData.SampleDataLogic.registerCustomSampleDataSource(
                category="MedGANSynth", sampleName=name, uris=f"medgansynth-phantom:{load.__name__}",
                fileNames=f"{load.__name__}.nrrd", thumbnailFileName=str(resourceFile("Icons/MedGANSynth.png")),
                customDownloader=makePhantom)


def makePhantom(source) -> list:
    """Generate a registered phantom into the scene (seconds for the whole-body case), with a wait cursor; an
    error is shown in a message box."""
    with slicer.util.tryWithErrorDisplay(_("Failed to make the {name}.").format(name=source.sampleName),
                                         waitCursor=True):
        return PHANTOM_SAMPLES[source.sampleName]()
