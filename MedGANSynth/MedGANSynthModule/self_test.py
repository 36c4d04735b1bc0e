"""The module's self-test (Slicer's Reload and Test, and ctest): the panel's flows on phantom data, through the
same Logic calls."""

from __future__ import annotations

import slicer
from slicer.ScriptedLoadableModule import ScriptedLoadableModuleTest

from .logic import MedGANSynthLogic


class MedGANSynthTest(ScriptedLoadableModuleTest):
    """The panel's flows on phantom data, through the same Logic calls (no dialogs: testing mode)."""

    def setUp(self) -> None:
        slicer.mrmlScene.Clear()

    def runTest(self) -> None:
        self.setUp()
        self.test_SuvAndMip()
        self.setUp()
        self.test_VirtualPet()
        self.setUp()
        self.test_SampleAndWalk()

    def _logicWithDependencies(self):
        """Each test ensures its own packages: ctest runs the test_ methods one at a time, in name order."""
        logic = MedGANSynthLogic()
        if not logic.ensureDependencies():
            self.skipTest("MedGANSynth's Python packages are not installed (the installation was declined)")
        return logic

    def _phantom(self):
        from MedGANSynthLib.mrml.volume_nodes import node_from_volume
        from MedGANSynthLib.phantoms import WholeBodyConfig, make_wholebody_case

        case = make_wholebody_case(1, "lymphoma", WholeBodyConfig().with_voxel_mm(12), version=1)  # bundled models'
        return case, node_from_volume(case.ct, name="Phantom CT"), node_from_volume(case.pet, name="Phantom PET")

    def test_SuvAndMip(self) -> None:
        self.delayDisplay("SUV and MIP of a phantom PET")
        import numpy as np

        logic = self._logicWithDependencies()
        pet = self._phantom()[2]
        nodes = logic.computeSUVAndMIP(pet, spacingMm=6.0, axis="coronal")
        mip = slicer.util.arrayFromVolume(nodes.mip)
        resampled = slicer.util.arrayFromVolume(nodes.resampled)  # axis-aligned phantom: array axis 1 is A-P
        self.assertEqual(mip.shape[1], 1)
        self.assertTrue(np.allclose(mip[:, 0, :], resampled.max(axis=1)))
        browser = logic.computeRotatingMIP(nodes.suv, angles=6)
        self.assertEqual(browser.GetMasterSequenceNode().GetNumberOfDataNodes(), 6)
        self.delayDisplay("Test passed")

    def test_VirtualPet(self) -> None:
        logic = self._logicWithDependencies()
        if not logic.modelCatalogue("virtual_pet"):
            self.skipTest("no bundled virtual-PET model")
        self.delayDisplay("Virtual PET of a phantom CT")
        ct = self._phantom()[1]
        from MedGANSynthLib.mrml.display import slice_composite_nodes

        result = logic.predictVirtualPET(ct, modelId=logic.modelCatalogue("virtual_pet")[0].id, device="cpu")
        for composite in slice_composite_nodes(slicer.mrmlScene):
            self.assertEqual(composite.GetForegroundVolumeID(), result.virtualPET.GetID())
            self.assertEqual(composite.GetBackgroundVolumeID(), ct.GetID())
        self.assertEqual(result.lesionTable.GetNumberOfRows(), len(result.lesions))
        self.delayDisplay("Test passed")

    def test_SampleAndWalk(self) -> None:
        logic = self._logicWithDependencies()
        models = logic.modelCatalogue("gan")
        if not models:
            self.skipTest("no bundled GAN")
        self.delayDisplay("Sample a GAN and walk its latent space")
        model = models[0]
        className = model.classes[0] if len(model.classes) > 1 else None
        samples = logic.sampleGAN(model.id, className=className, count=3, seed=5, device="cpu")
        self.assertEqual(samples.GetMasterSequenceNode().GetNumberOfDataNodes(), 3)
        walk = logic.latentWalk(model.id, steps=4, seedA=0, seedB=1, classA=className, classB=className, device="cpu")
        self.assertEqual(walk.GetMasterSequenceNode().GetNumberOfDataNodes(), 4)
        self.delayDisplay("Test passed")
