"""PET-on-CT overlay and MIP display in real slice views (slicer-core), and one offscreen rendering of it."""

from __future__ import annotations

import numpy as np
import pytest
from mrml_support import new_mrml_context, slicer

from MedGANSynthLib.mrml.display import INVERTED_GREY, PET_HEAT, show_mip, show_overlay, slice_composite_nodes
from MedGANSynthLib.mrml.volume_nodes import node_from_volume
from MedGANSynthLib.volume import Volume

pytestmark = pytest.mark.mrml


@pytest.fixture(scope="module")
def mrml():
    return new_mrml_context()


VIEWS = {"Red": "Axial", "Yellow": "Sagittal", "Green": "Coronal"}


def _ensure_three_slice_views(scene) -> None:
    """slicer-core scenes start without views; add the three default ones the way Slicer's layout does."""
    for name, orientation in VIEWS.items():
        if scene.GetSingletonNode(name, "vtkMRMLSliceNode") is None:
            # created through the scene so it gets the scene's default orientation presets (Axial, ...)
            slice_node = scene.CreateNodeByClass("vtkMRMLSliceNode")
            slice_node.SetName(name)
            slice_node.SetLayoutName(name)
            slice_node.SetSingletonTag(name)
            slice_node.SetOrientation(orientation)
            scene.AddNode(slice_node)
            slice_node.UnRegister(None)
            composite = slicer.vtkMRMLSliceCompositeNode()
            composite.SetLayoutName(name)
            composite.SetSingletonTag(name)
            scene.AddNode(composite)


def _phantom_pair(scene, prefix=""):
    """A CT body (40 HU in air); inside it a PET organ at SUV 2 (liver-like, PHANTOM_REFERENCE.md) with a lesion at 6."""
    shape = (16, 40, 40)
    ct = np.full(shape, -1000.0, np.float32)
    ct[:, 3:37, 3:37] = 40.0
    pet = np.zeros(shape, np.float32)
    pet[:, 8:32, 8:32] = 2.0
    pet[:, 14:20, 14:20] = 6.0
    geometry = dict(spacing=(2.0, 2.0, 3.0), origin=(-40.0, -40.0, -24.0))
    ct_node = node_from_volume(Volume(ct, modality="CT", units="HU", **geometry), scene, f"{prefix}CT")
    pet_node = node_from_volume(Volume(pet, modality="PT", units="SUV", **geometry), scene, f"{prefix}PET")
    return ct_node, pet_node


def test_overlay_sets_every_slice_view_and_the_pet_display(mrml):
    _ensure_three_slice_views(mrml.scene)
    ct, pet = _phantom_pair(mrml.scene)
    composites = show_overlay(ct, pet)
    assert sorted(c.GetLayoutName() for c in composites) == ["Green", "Red", "Yellow"]
    assert len(composites) == mrml.scene.GetNumberOfNodesByClass("vtkMRMLSliceCompositeNode")
    for composite in composites:
        assert composite.GetBackgroundVolumeID() == ct.GetID()
        assert composite.GetForegroundVolumeID() == pet.GetID()
        assert composite.GetForegroundOpacity() == pytest.approx(0.5)
    display = pet.GetDisplayNode()
    assert display.GetColorNodeID() == PET_HEAT == "vtkMRMLPETProceduralColorNodePET-Heat"
    assert not display.GetAutoWindowLevel()
    assert (display.GetWindow(), display.GetLevel()) == pytest.approx((10.0, 5.0))


def test_mip_is_shown_in_inverted_grey_facing_its_projection(mrml):
    _ensure_three_slice_views(mrml.scene)
    mip = np.random.default_rng(3).random((30, 1, 20)).astype(np.float32) * 6  # one voxel along A-P: coronal MIP
    node = node_from_volume(Volume(mip, spacing=(2.0, 4.0, 3.0), modality="MIP", units="SUV"), mrml.scene, "MIP")
    orientation = show_mip(node, window=(0.0, 5.0))
    assert orientation == "Coronal"
    assert mrml.scene.GetSingletonNode("Red", "vtkMRMLSliceNode").GetOrientation() == "Coronal"
    assert node.GetDisplayNode().GetColorNodeID() == INVERTED_GREY
    assert all(c.GetBackgroundVolumeID() == node.GetID() for c in slice_composite_nodes(mrml.scene))
    assert all(c.GetForegroundVolumeID() is None for c in slice_composite_nodes(mrml.scene))


def test_rendered_overlay_shows_pet_colours_on_the_lesion_and_grey_elsewhere(tmp_path):
    """What a user sees: one offscreen axial view rendered by trame-slicer with Slicer's own slice pipeline."""
    pytest.importorskip("trame_slicer", reason="trame-slicer renders Slicer views outside the Slicer app")
    import vtk
    from trame_slicer.views import DirectViewFactory, ViewLayoutDefinition
    from vtk.util.numpy_support import vtk_to_numpy

    from MedGANSynthLib.mrml.scene import new_headless_context

    context = new_headless_context()
    context.app.view_manager.register_factory(DirectViewFactory(do_render_offscreen=True))
    view = context.app.view_manager.create_view(ViewLayoutDefinition.axial_view())
    ct, pet = _phantom_pair(context.scene)
    ct.GetDisplayNode().SetAutoWindowLevel(False)
    ct.GetDisplayNode().SetWindowLevel(400.0, 40.0)  # soft-tissue window: the body shows mid-grey
    show_overlay(ct, pet)
    view.render_window().SetSize(256, 256)
    view.fit_view_to_content()
    view.render()

    grab = vtk.vtkWindowToImageFilter()
    grab.SetInput(view.render_window())
    grab.Update()
    png = tmp_path / "overlay.png"
    writer = vtk.vtkPNGWriter()
    writer.SetFileName(str(png))
    writer.SetInputConnection(grab.GetOutputPort())
    writer.Write()
    assert png.stat().st_size > 0
    image = grab.GetOutput()
    width, height, _ = image.GetDimensions()
    pixels = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(height, width, -1)[:, :, :3].astype(int)

    slice_node = context.scene.GetSingletonNode("Red", "vtkMRMLSliceNode")
    xy_to_ras = vtk.vtkMatrix4x4()
    xy_to_ras.DeepCopy(slice_node.GetXYToRAS())
    xy_to_ras.Invert()

    def pixel_at(ijk):
        """Colour of the screen pixel showing voxel (i, j, k); vtk images start at the bottom row."""
        ras = _ras_of(ct, ijk)
        x, y, _, _ = xy_to_ras.MultiplyPoint([*ras, 1.0])
        return pixels[int(round(y)), int(round(x))]

    heat = context.scene.GetNodeByID(PET_HEAT).GetColorTransferFunction()  # defined on 0..255

    def expected(suv, ct_grey=127.5):
        """Slicer's layer blending: half PET-Heat colour at SUV/10 of its range, half the CT grey."""
        pet_rgb = np.array(heat.GetColor(255.0 * suv / 10.0)) * 255.0
        return 0.5 * pet_rgb + 0.5 * ct_grey

    lesion, organ, body_only = pixel_at((17, 17, 8)), pixel_at((10, 10, 8)), pixel_at((5, 34, 8))
    np.testing.assert_allclose(lesion, expected(6.0), atol=4)
    np.testing.assert_allclose(organ, expected(2.0), atol=4)
    assert lesion[0] > lesion[2] + 60 and lesion[1] > lesion[2] + 60, f"lesion {lesion} is not yellow"
    assert organ[0] > organ[1] + 40 and organ[0] > organ[2] + 40, f"organ {organ} is not red"
    assert np.ptp(body_only) <= 2 and body_only.mean() > 30, f"body without uptake {body_only} is not grey"


def _ras_of(node, ijk):
    import vtk

    matrix = vtk.vtkMatrix4x4()
    node.GetIJKToRASMatrix(matrix)
    return matrix.MultiplyPoint([*ijk, 1.0])[:3]
