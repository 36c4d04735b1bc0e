"""Pictures of results as Slicer shows them, rendered offscreen by Slicer's own view classes.

``trame_slicer.core.SlicerApp`` gives an application logic with the displayable managers of real Slicer slice and
3-D views; ``DirectViewFactory(do_render_offscreen=True)`` renders them without a window (EGL, software OpenGL
on machines without a GPU). Without a display VTK tries X first and prints "bad X server connection" before it
falls back to EGL and renders fine; that warning means nothing to a user, so VTK's warnings are off while this
module renders outside the Slicer application (it is never used inside it). The volumes are
copied into a private scene, so the caller's scene, layout and views stay untouched.

:func:`render_overview` writes the pictures the README shows: the CT with the (virtual) PET overlaid in the three
slice views, the coronal MIP in inverted grey, and a 3-D maximum-intensity rendering of the PET.
"""

from __future__ import annotations

import os
from pathlib import Path

import vtk

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.atomic import atomic_output
from MedGANSynthLib.mrml.display import (
    DEFAULT_SUV_WINDOW,
    INVERTED_GREY,
    set_fixed_window,
    show_overlay,
    slice_composite_nodes,
)
from MedGANSynthLib.mrml.volume_nodes import node_from_volume, volume_from_node

SOFT_TISSUE_WINDOW_LEVEL = (400.0, 40.0)
"""CT window 400 / level 40 HU (-160..240 HU): the soft-tissue window PET/CT readers use under the PET."""
SLICE_VIEWS = {"axial": "axial_view", "coronal": "coronal_view", "sagittal": "sagittal_view"}
LAYOUT_NAMES = {"axial": "Red", "coronal": "Green", "sagittal": "Yellow"}


def offscreen_app():
    """A trame-slicer application whose views render offscreen, and only when a picture is taken."""
    try:
        from trame_slicer.core import SlicerApp
    except ImportError as error:
        raise InputError("Offscreen pictures need trame-slicer (pip install trame-slicer); inside Slicer use "
                         "its screen capture instead.") from error
    vtk.vtkObject.GlobalWarningDisplayOff()  # "bad X server connection" on display-less machines (see above)
    app = SlicerApp()
    app.view_manager.register_factory(picture_view_factory())
    return app


def picture_view_factory():
    """Slice and 3-D views like trame-slicer's ``DirectViewFactory(do_render_offscreen=True)`` makes, except that
    they render only on ``view.render()`` (:func:`write_view_png`): that factory's views render at once on every
    change of the scene or the view, several hundred renders of ~50 ms (software OpenGL) for five pictures."""
    from trame_slicer.views import NoScheduleRendering, SliceView, ThreeDView
    from trame_slicer.views.view_factory import IViewFactory
    from trame_slicer.views.view_layout_definition import ViewType

    class PictureViewFactory(IViewFactory):
        def can_create_view(self, view) -> bool:
            return view.view_type in (ViewType.SLICE_VIEW, ViewType.THREE_D_VIEW)

        def _create_view(self, view, scene, app_logic):
            view_class = SliceView if view.view_type == ViewType.SLICE_VIEW else ThreeDView
            created = view_class(scene, app_logic, view.singleton_tag, scheduled_render_strategy=NoScheduleRendering())
            created.render_window().SetOffScreenRendering(True)
            created.set_view_properties(view.properties)
            return created

        def _get_slicer_view(self, view):
            return view

    return PictureViewFactory()


def write_view_png(view, path: str | os.PathLike, size: tuple[int, int]) -> Path:
    """Render ``view`` at ``size`` pixels and write it as PNG (atomically)."""
    view.render_window().SetSize(*size)
    view.render()
    grab = vtk.vtkWindowToImageFilter()
    grab.SetInput(view.render_window())
    grab.ReadFrontBufferOff()
    grab.Update()
    writer = vtk.vtkPNGWriter()
    with atomic_output(path) as temp:
        writer.SetFileName(str(temp))
        writer.SetInputConnection(grab.GetOutputPort())
        writer.Write()
    return Path(path)


def render_overview(ct_node, pet_node, folder: str | os.PathLike, size: tuple[int, int] = (512, 512),
                    opacity: float = 0.5, focus_ras=None) -> list[Path]:
    """PNG pictures of a CT with its (virtual) PET: three overlay slice views, a coronal MIP, a 3-D MIP rendering.

    The PET is shown as the slice views' foreground in PET-Heat, SUV 0-10, at ``opacity`` over the CT in a
    soft-tissue window, as :func:`~MedGANSynthLib.mrml.display.show_overlay` sets it up in Slicer. The slices go
    through ``focus_ras`` (an RAS point in mm, e.g. a lesion), by default through the PET's hottest voxel.
    """
    from trame_slicer.views import ViewLayoutDefinition

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    app = offscreen_app()
    ct_volume, pet_volume = volume_from_node(ct_node), volume_from_node(pet_node)
    ct = node_from_volume(ct_volume, app.scene, "CT")
    pet = node_from_volume(pet_volume, app.scene, "PET")
    ct.GetDisplayNode().SetAutoWindowLevel(False)
    ct.GetDisplayNode().SetWindowLevel(*SOFT_TISSUE_WINDOW_LEVEL)

    views = {plane: app.view_manager.create_view(getattr(ViewLayoutDefinition, factory)())
             for plane, factory in SLICE_VIEWS.items()}
    show_overlay(ct, pet, opacity=opacity)
    focus = hottest_point(pet) if focus_ras is None else [float(v) for v in focus_ras]
    pictures = []
    for plane, view in views.items():
        view.render_window().SetSize(*size)  # before fitting: the fit depends on the view's size
        view.fit_view_to_content()
        app.scene.GetSingletonNode(LAYOUT_NAMES[plane], "vtkMRMLSliceNode").JumpSliceByOffsetting(*focus)
        pictures.append(write_view_png(view, folder / f"overlay_{plane}.png", size))
    pictures.append(render_mip(app, pet_volume, views["coronal"], folder / "mip_coronal.png", size))
    pictures.append(render_3d_mip(app, pet, folder / "mip_3d.png", size))
    close_views(app)
    return pictures


def close_views(app) -> None:
    """Empty and remove the views before the scene goes away; deleting them with live slice pipelines makes VTK
    report (harmless) errors."""
    views = list(app.view_manager.get_views())
    for view in views:
        view.set_render_blocked(True)  # no more renders: an emptied slice pipeline cannot render
    for composite in slice_composite_nodes(app.scene):
        composite.SetForegroundVolumeID(None)
        composite.SetBackgroundVolumeID(None)
    for view in views:
        app.view_manager.remove_view(view.get_view_node_id())


def hottest_point(node) -> list[float]:
    """RAS position (mm) of the node's maximum voxel."""
    import numpy as np
    from vtk.util.numpy_support import vtk_to_numpy

    from MedGANSynthLib.mrml.volume_nodes import numpy_matrix

    image = node.GetImageData()
    i, j, k = (int(v) for v in np.unravel_index(
        int(np.argmax(vtk_to_numpy(image.GetPointData().GetScalars()))), image.GetDimensions(), order="F"))
    matrix = vtk.vtkMatrix4x4()
    node.GetIJKToRASMatrix(matrix)
    return list((numpy_matrix(matrix) @ np.array([i, j, k, 1.0]))[:3])


def render_mip(app, pet_volume, view, path: Path, size: tuple[int, int]) -> Path:
    """The coronal MIP (a one-slice volume) in inverted grey, SUV 0-10, in a coronal slice view."""
    from MedGANSynthLib.projection.mip import mip

    node = node_from_volume(mip(pet_volume, "coronal"), app.scene, "Coronal MIP")
    set_fixed_window(node, *DEFAULT_SUV_WINDOW, INVERTED_GREY)
    # Only the coronal view shows it: axial and sagittal views cannot cut a one-voxel-thick coronal image
    # (VTK then reports empty-slice errors).
    composite = app.scene.GetSingletonNode(LAYOUT_NAMES["coronal"], "vtkMRMLSliceCompositeNode")
    composite.SetForegroundVolumeID(None)
    composite.SetBackgroundVolumeID(node.GetID())
    view.render_window().SetSize(*size)
    view.fit_view_to_content()
    return write_view_png(view, path, size)


def render_3d_mip(app, pet, path: Path, size: tuple[int, int]) -> Path:
    """A 3-D maximum-intensity ray casting of the PET seen from the front (white uptake on black, SUV 0-10)."""
    from trame_slicer.views import ViewLayoutDefinition
    from trame_slicer.views.threed_view import ViewDirection

    view = app.view_manager.create_view(ViewLayoutDefinition.threed_view())
    view_node = view.get_view_node()
    view_node.SetRaycastTechnique(view_node.MaximumIntensityProjection)
    view_node.SetBackgroundColor(0.0, 0.0, 0.0)
    view_node.SetBackgroundColor2(0.0, 0.0, 0.0)
    display = app.volume_rendering.create_display_node(pet)
    volume_property = display.GetVolumePropertyNode().GetVolumeProperty()
    low, high = DEFAULT_SUV_WINDOW
    colours = vtk.vtkColorTransferFunction()
    colours.AddRGBPoint(low, 0.0, 0.0, 0.0)
    colours.AddRGBPoint(high, 1.0, 1.0, 1.0)
    opacity = vtk.vtkPiecewiseFunction()
    opacity.AddPoint(low, 0.0)
    opacity.AddPoint(high, 1.0)
    volume_property.SetColor(colours)
    volume_property.SetScalarOpacity(opacity)
    volume_property.ShadeOff()
    view.render_window().SetSize(*size)
    view.rotate_to_view_direction(ViewDirection.ANTERIOR)
    view.fit_view_to_content()
    return write_view_png(view, path, size)
