"""The module Logic on real slicer-core nodes: every panel action gives what the library (or hand arithmetic) gives."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import psutil
import pytest
from conftest import shared_data_path
from mrml_support import ijk_to_ras_of, new_mrml_context, slicer
from scipy import ndimage
from tiny_gan import write_ct_folder
from tiny_models import RADIOGAN_CLASSES, save_tiny_gan, save_tiny_virtual_pet

from MedGANSynthLib.errors import InputError
from MedGANSynthLib.mrml.display import INVERTED_GREY, PET_HEAT, slice_composite_nodes
from MedGANSynthLib.mrml.logic import MedGANSynthLogic
from MedGANSynthLib.mrml.sequences import frame_volume_node
from MedGANSynthLib.mrml.volume_nodes import ijk_to_ras, node_from_volume, volume_from_node
from MedGANSynthLib.virtual_pet.uncertainty import DEFAULT_UNCERTAINTY_PASSES
from MedGANSynthLib.volume import Volume

pytestmark = pytest.mark.mrml
F18_HALF_LIFE_S = 6586.2


@pytest.fixture(scope="module")
def context():
    return new_mrml_context()


@pytest.fixture(scope="module")
def logic(context):
    for name, orientation in (("Red", "Axial"), ("Yellow", "Sagittal"), ("Green", "Coronal")):
        slice_node = context.scene.CreateNodeByClass("vtkMRMLSliceNode")
        slice_node.SetName(name)
        slice_node.SetLayoutName(name)
        slice_node.SetSingletonTag(name)
        slice_node.SetOrientation(orientation)
        context.scene.AddNode(slice_node)
        slice_node.UnRegister(None)
        composite = slicer.vtkMRMLSliceCompositeNode()
        composite.SetLayoutName(name)
        composite.SetSingletonTag(name)
        context.scene.AddNode(composite)
    return MedGANSynthLogic(context.scene)


@pytest.fixture
def oblique_pet(context, oblique_volume):
    """An oblique PET in Bq/ml: 5-25 kBq/ml, the activity range of an FDG scan an hour after 350 MBq."""
    array = (5000.0 + 20000.0 * np.abs(oblique_volume.array) / np.abs(oblique_volume.array).max()).astype(np.float32)
    volume = oblique_volume.with_array(array, modality="PT", units="BQML")
    return node_from_volume(volume, context.scene, "PET")


def test_suv_of_a_node_from_typed_values_matches_hand_arithmetic(logic, oblique_pet):
    bqml = slicer.util.arrayFromVolume(oblique_pet).astype(np.float64)
    suv_node = logic.computeSUV(oblique_pet, weightKg=80, doseMBq=370, injectionTime="10:00:00", scanTime="11:00:00")
    expected = bqml * 80_000.0 / (370e6 * 2.0 ** (-3600.0 / F18_HALF_LIFE_S))
    np.testing.assert_allclose(slicer.util.arrayFromVolume(suv_node), expected, rtol=1e-5)
    np.testing.assert_allclose(ijk_to_ras_of(suv_node), ijk_to_ras_of(oblique_pet), atol=1e-9)
    assert suv_node.GetName() == "PET SUV"
    with pytest.raises(InputError, match="enter doseMBq, injectionTime, scanTime"):
        logic.computeSUV(oblique_pet, weightKg=80)
    with pytest.raises(InputError, match="already in SUV"):
        logic.computeSUV(suv_node, weightKg=80, doseMBq=370, injectionTime="10:00:00", scanTime="11:00:00")
    again = logic.computeSUV(suv_node)  # a PET already in SUV is copied unchanged
    np.testing.assert_array_equal(slicer.util.arrayFromVolume(again), slicer.util.arrayFromVolume(suv_node))


def test_suv_of_a_real_dicom_pet_file_equals_the_library(logic):
    from MedGANSynthLib.pet.suv import load_pet_as_suv

    path = shared_data_path("pet-dicom-flt-breast", "1.dcm")
    node = logic.computeSUV(path)
    direct = load_pet_as_suv(path)
    np.testing.assert_array_equal(slicer.util.arrayFromVolume(node), direct.array)
    np.testing.assert_allclose(ijk_to_ras_of(node), ijk_to_ras(direct), atol=1e-6)


def test_suv_plausibility_warnings_reach_the_logic_and_the_node(logic, tmp_path):
    """A 4.27 GBq F-18 dose: lastWarnings, PETNodes.warnings and the node attribute hold the library's warning."""
    import pydicom

    from MedGANSynthLib.mrml.logic import WARNINGS_ATTRIBUTE

    dataset = pydicom.dcmread(shared_data_path("pet-dicom-flt-breast", "1.dcm"))
    dataset.RadiopharmaceuticalInformationSequence[0].RadionuclideTotalDose = "4270000000"
    dataset.save_as(tmp_path / "bigdose.dcm")
    nodes = logic.computeSUVAndMIP(tmp_path / "bigdose.dcm")
    assert len(logic.lastWarnings) == 1 and logic.lastWarnings[0].startswith("injected F-18 dose 4270 MBq")
    assert nodes.warnings == logic.lastWarnings
    assert nodes.suv.GetAttribute(WARNINGS_ATTRIBUTE) == logic.lastWarnings[0]
    clean = logic.computeSUV(shared_data_path("pet-dicom-flt-breast", "1.dcm"))
    assert logic.lastWarnings == [] and clean.GetAttribute(WARNINGS_ATTRIBUTE) is None


def test_resample_gives_the_library_result_on_the_node(logic, oblique_pet):
    from MedGANSynthLib.preprocessing.resample import resample_isotropic

    node = logic.resampleVolume(oblique_pet, spacingMm=1.5, interpolation="linear")
    direct = resample_isotropic(volume_from_node(oblique_pet), 1.5, "linear")
    np.testing.assert_array_equal(slicer.util.arrayFromVolume(node), direct.array)
    np.testing.assert_allclose(ijk_to_ras_of(node), ijk_to_ras(direct), atol=1e-9)


def test_coronal_mip_is_the_maximum_along_anterior_posterior_and_is_shown(logic, context):
    rng = np.random.default_rng(5)
    array = rng.random((6, 9, 7)).astype(np.float32)  # (k=S, j=P, i=L) on an axis-aligned grid
    node = node_from_volume(Volume(array, spacing=(2.0, 3.0, 4.0), modality="PT", units="SUV"), context.scene, "P")
    mip = logic.computeMIP(node, axis="coronal")
    np.testing.assert_array_equal(slicer.util.arrayFromVolume(mip)[:, 0, :], array.max(axis=1))
    assert mip.GetDisplayNode().GetColorNodeID() == INVERTED_GREY
    assert context.scene.GetSingletonNode("Red", "vtkMRMLSliceNode").GetOrientation() == "Coronal"


def test_rotating_mip_is_a_sequence_of_the_library_frames(logic, context):
    from MedGANSynthLib.projection.rotating_mip import rotating_mip

    array = np.zeros((5, 12, 12), np.float32)
    array[2, 3, 9] = 4.0  # one bright point away from the rotation axis
    volume = Volume(array, spacing=(2.0, 2.0, 3.0), modality="PT", units="SUV")
    browser = logic.computeRotatingMIP(node_from_volume(volume, context.scene, "Point"), angles=8)
    sequence = browser.GetMasterSequenceNode()
    assert sequence.GetNumberOfDataNodes() == 8 and sequence.GetIndexName() == "angle"
    expected = rotating_mip(volume, 8)
    assert [float(sequence.GetNthIndexValue(n)) for n in range(8)] == expected.metadata["angles_deg"]
    for frame in (0, 3):
        browser.SetSelectedItemNumber(frame)
        shown = slicer.util.arrayFromVolume(frame_volume_node(browser))
        np.testing.assert_allclose(shown[0], expected.array[frame], atol=1e-6)
    np.testing.assert_allclose(expected.array[0], array.max(axis=1), atol=1e-6)  # angle 0: the coronal MIP


# --- GAN sampling and latent walks on a small real RadioGAN saved as the library saves models -------------------

CLASSES = RADIOGAN_CLASSES


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    for name in ("MedGANSynthLib.gan.sampling", "MedGANSynthLib.weights.safetensors_io"):
        if importlib.util.find_spec(name) is None:
            pytest.skip(f"{name} is not in the library yet")
    return save_tiny_gan(tmp_path_factory.mktemp("model"), "radiogan")


def test_gan_samples_become_a_sequence_of_the_library_images(logic, tiny_model):
    from MedGANSynthLib.gan.sampling import sample_images, to_physical
    from MedGANSynthLib.weights.safetensors_io import load_gan

    browser = logic.sampleGAN(str(tiny_model), className="lung", count=4, seed=7, device="cpu")
    sequence = browser.GetMasterSequenceNode()
    assert sequence.GetNumberOfDataNodes() == 4 and sequence.GetIndexName() == "frame"
    generator, _, card = load_gan(tiny_model, "cpu")
    expected = to_physical(sample_images(generator, "lung", 4, 7, "cpu", class_names=CLASSES), card)
    for frame in range(4):
        browser.SetSelectedItemNumber(frame)
        np.testing.assert_allclose(slicer.util.arrayFromVolume(frame_volume_node(browser))[0],
                                   expected[frame, expected.shape[1] // 2], atol=1e-5)
    assert expected.min() >= 0 and expected.max() <= 30  # SUV, as the card maps [-1, 1] to [0, 30]
    proxy = frame_volume_node(browser)
    bounds = [0.0] * 6
    proxy.GetRASBounds(bounds)
    assert bounds[5] - bounds[4] > bounds[3] - bounds[2]  # a coronal image: it extends along S, not A-P


def test_latent_walk_runs_from_one_sample_to_the_other(logic, tiny_model):
    from MedGANSynthLib.gan.sampling import sample_images, to_physical
    from MedGANSynthLib.weights.safetensors_io import load_gan

    browser = logic.latentWalk(str(tiny_model), steps=5, seedA=1, seedB=2, classA="normal", classB="lymphoma",
                               device="cpu")
    sequence = browser.GetMasterSequenceNode()
    assert sequence.GetNumberOfDataNodes() == 5 and sequence.GetIndexName() == "step"
    generator, _, card = load_gan(tiny_model, "cpu")
    ends = {0: (1, "normal"), 4: (2, "lymphoma")}
    for frame, (seed, name) in ends.items():
        browser.SetSelectedItemNumber(frame)
        expected = to_physical(sample_images(generator, name, 1, seed, "cpu", class_names=CLASSES), card)
        np.testing.assert_allclose(slicer.util.arrayFromVolume(frame_volume_node(browser))[0],
                                   expected[0, expected.shape[1] // 2], atol=1e-4)


# --- virtual PET through the CLI job -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_virtual_pet(tmp_path_factory):
    if importlib.util.find_spec("MedGANSynthLib.cli.cmd_virtual_pet") is None:
        pytest.skip("the 'virtual-pet' CLI command (MedGANSynthLib/cli/cmd_virtual_pet.py) is not in the library yet")
    return save_tiny_virtual_pet(tmp_path_factory.mktemp("vpet"))


def test_virtual_pet_job_gives_the_library_result_overlaid_with_its_lesions(logic, context, tiny_virtual_pet):
    from MedGANSynthLib.virtual_pet.inference import predict_virtual_pet
    from MedGANSynthLib.virtual_pet.weights import load_virtual_pet

    rng = np.random.default_rng(2)
    j, i = np.mgrid[0:32, 0:32]
    body = ((j - 16) / 13.0) ** 2 + ((i - 16) / 11.0) ** 2 < 1.0
    hu = np.where(body, 40.0, -1000.0)[None].repeat(6, axis=0) + rng.normal(0, 30, (6, 32, 32))
    ct = Volume(hu.astype(np.float32), spacing=(1.5, 1.5, 3.0), origin=(-24.0, -20.0, 100.0), modality="CT",
                units="HU")
    model = load_virtual_pet(tiny_virtual_pet, "cpu")

    def library(threshold):
        config = model.inference_config(slab_size=16, threshold_suv=threshold, return_fcn=True, return_gan=True,
                                        uncertainty_passes=0)
        return predict_virtual_pet(ct, model.fcn, model.gan, config, device="cpu").blended.array

    # An untrained model predicts arbitrary SUVs: put the threshold inside its range so that lesions exist.
    threshold = float(np.percentile(library(2.5), 90))
    expected = library(threshold)
    ct_node = node_from_volume(ct, context.scene, "Small CT")
    seen = []
    # "keep": the networks' values everywhere, so the nodes equal the library's inference voxel for voxel
    result = logic.predictVirtualPET(ct_node, modelId=str(tiny_virtual_pet), device="cpu", threshold=threshold,
                                     uncertainty=True, progress=seen.append, minVolumeMl=0.0,  # every region
                                     outsideBody="keep")
    assert seen and seen[-1].stage == "write"
    for node in (result.virtualPET, result.fcn, result.gan, result.uncertainty):
        np.testing.assert_allclose(ijk_to_ras_of(node), ijk_to_ras_of(ct_node), atol=1e-9)
    shown = slicer.util.arrayFromVolume(result.virtualPET)
    np.testing.assert_allclose(shown, expected, atol=1e-4)
    for composite in slice_composite_nodes(context.scene):
        assert composite.GetBackgroundVolumeID() == ct_node.GetID()
        assert composite.GetForegroundVolumeID() == result.virtualPET.GetID()
    assert result.virtualPET.GetDisplayNode().GetColorNodeID() == PET_HEAT
    _, regions = ndimage.label(shown > threshold, structure=np.ones((3, 3, 3)))  # 26-connected hot regions
    assert regions > 0
    assert len(result.lesions) == regions == result.lesionTable.GetTable().GetNumberOfRows()
    assert result.lesionSegmentation.GetSegmentation().GetNumberOfSegments() == regions
    assert result.summary["lesions"] == regions
    assert result.summary["outside_body"] == "keep"
    assert result.summary["uncertainty_passes"] == DEFAULT_UNCERTAINTY_PASSES  # the CLI's default, passed on


@pytest.mark.slow
def test_bundled_virtual_pet_model_on_a_phantom_ct(logic, context):
    """The bundled model (when present) on a whole-body phantom: outputs on the CT grid, lesions found."""
    from MedGANSynthLib.phantoms import WholeBodyConfig, make_wholebody_case

    if importlib.util.find_spec("MedGANSynthLib.cli.cmd_virtual_pet") is None or not logic.modelCatalogue(
            "virtual_pet"):
        pytest.skip("no bundled virtual-PET weights in Resources/Models/catalogue.json yet")
    case = make_wholebody_case(3, "lymphoma", WholeBodyConfig().with_voxel_mm(8), version=1)
    ct = node_from_volume(case.ct, context.scene, "Phantom CT")
    result = logic.predictVirtualPET(ct, device="cpu")
    np.testing.assert_allclose(ijk_to_ras_of(result.virtualPET), ijk_to_ras_of(ct), atol=1e-9)
    suv = slicer.util.arrayFromVolume(result.virtualPET)
    _, regions = ndimage.label(suv > 2.5, structure=np.ones((3, 3, 3)))
    assert len(result.lesions) == regions == result.lesionSegmentation.GetSegmentation().GetNumberOfSegments()


def test_the_virtual_pet_is_zero_outside_the_body_by_default_and_a_bad_choice_is_refused(logic, context,
                                                                                        tiny_virtual_pet):
    from MedGANSynthLib.virtual_pet.inference import predict_virtual_pet
    from MedGANSynthLib.virtual_pet.weights import load_virtual_pet

    rng = np.random.default_rng(3)
    j, i = np.mgrid[0:40, 0:40]
    body = ((j - 20) / 16.0) ** 2 + ((i - 20) / 14.0) ** 2 < 1.0  # 48 x 42 mm of soft tissue in air, 1.5 mm pixels
    hu = np.where(body, 40.0, -1000.0)[None].repeat(4, axis=0) + rng.normal(0, 30, (4, 40, 40))
    ct = Volume(hu.astype(np.float32), spacing=(1.5, 1.5, 3.0), modality="CT", units="HU")
    ct_node = node_from_volume(ct, context.scene, "Ellipse CT")
    with pytest.raises(InputError, match="--outside-body must be one of zero, keep"):
        logic.predictVirtualPET(ct_node, modelId=str(tiny_virtual_pet), device="cpu", outsideBody="clip")
    result = logic.predictVirtualPET(ct_node, modelId=str(tiny_virtual_pet), device="cpu")
    suv = slicer.util.arrayFromVolume(result.virtualPET)
    outside = ~np.stack([ndimage.binary_dilation(body)] * 4)  # beyond one pixel of the ellipse: air
    assert result.summary["outside_body"] == "zero" and not suv[outside].any()
    assert result.summary["outside_body_suv_max_removed"] > 0  # the untrained networks did paint the air
    model = load_virtual_pet(tiny_virtual_pet, "cpu")
    library = predict_virtual_pet(ct, model.fcn, model.gan, model.inference_config(), device="cpu").blended.array
    inside = np.stack([ndimage.binary_erosion(body, iterations=2)] * 4)
    np.testing.assert_allclose(suv[inside], library[inside], atol=1e-4)  # the body keeps the networks' values


def test_a_training_job_with_bad_input_fails_with_the_cli_message_and_cleans_up(logic, tmp_path):
    job = logic.trainModel("radiogan", tmp_path / "missing", tmp_path / "run", epochs=1, batchSize=2, device="cpu")
    with pytest.raises(InputError):
        logic.waitForJob(job)
    assert job.finished and logic.processJob(job)
    assert psutil.Process().children(recursive=True) == []


def test_cancel_stops_the_job_and_its_process(logic, tmp_path):
    job = logic.trainModel("radiogan", tmp_path / "missing", tmp_path / "run", epochs=1, batchSize=2, device="cpu")
    pid = job.runner.process.pid
    logic.cancelJob()  # while the child is still starting (importing torch)
    assert job.finished and job.cancelled and job.status == "Training radiogan: cancelled"
    assert not psutil.pid_exists(pid)
    assert not (tmp_path / "run").exists()


def test_catalogue_listing_filters_by_task(logic):
    everything = logic.modelCatalogue()
    assert all(entry.task == "gan" for entry in logic.modelCatalogue("gan"))
    assert sum(len(logic.modelCatalogue(task)) for task in ("gan", "virtual_pet", "cyclegan")) == len(everything)


def test_the_child_python_is_this_python_outside_slicer():
    from MedGANSynthLib.mrml.logic import child_python

    assert child_python() == sys.executable


def test_training_job_fills_the_live_loss_plot_with_the_runs_losses(logic, tmp_path):
    """A real (tiny) CT GAN run: every logged step reaches the plot, with the losses the run writes to losses.json."""
    import json

    data = write_ct_folder(tmp_path / "ct", slices=8)
    seen = []
    result = logic.trainModel("ct_gan", data, tmp_path / "run", epochs=2, batchSize=4, device="cpu", wait=True,
                              progress=seen.append, extraArgs=["--image-size", "16", "--width", "0.0625",
                                                               "--threads", "1"])
    steps = json.loads((tmp_path / "run" / "losses.json").read_text())["steps"]
    assert len(steps) == 4 and seen and seen[-1].done == 4  # 8 slices / batch 4 = 2 steps per epoch
    table = result["chart"].GetNthPlotSeriesNode(0).GetTableNode().GetTable()
    assert table.GetNumberOfRows() == len(steps)
    names = [table.GetColumnName(c) for c in range(table.GetNumberOfColumns())]
    assert names[0] == "step" and set(names[1:]) == {k for k in steps[0] if k not in ("epoch", "step")}
    for row, step in enumerate(steps):
        assert table.GetValue(row, 0).ToDouble() == step["step"]
        for column, name in enumerate(names[1:], start=1):
            assert table.GetValue(row, column).ToDouble() == pytest.approx(step[name], abs=1e-5)


def test_virtual_pet_outputs_load_beside_the_ct_as_overlay_segmentation_and_table(logic, context, tmp_path):
    """The files the 'virtual-pet' command writes (its contract), made here by the library's own writers."""
    from MedGANSynthLib.io.volume_io import write_volume
    from MedGANSynthLib.mrml.subject_hierarchy import hierarchy_of, item_of
    from MedGANSynthLib.virtual_pet.lesions import find_lesion_candidates, write_lesion_json

    shape = (10, 24, 24)
    ct = Volume(np.full(shape, 40.0, np.float32), spacing=(3.0, 3.0, 4.0), origin=(-30.0, 10.0, 50.0),
                modality="CT", units="HU")
    suv = np.full(shape, 1.0, np.float32)
    suv[2:5, 3:7, 4:8] = 6.0  # two hot regions above the paper's 2.5 SUV threshold
    suv[6:9, 15:20, 14:18] = 4.0
    virtual = ct.with_array(suv, modality="PT", units="SUV")
    labels, lesions = find_lesion_candidates(virtual, 2.5)
    out = tmp_path / "out"
    out.mkdir()
    write_volume(virtual, out / "virtual_pet.nrrd")
    write_volume(virtual.with_array(suv * 0.9), out / "fcn.nrrd")
    write_volume(labels, out / "lesion_labels.nrrd")
    write_lesion_json(lesions, out / "lesions.json")

    ct_node = node_from_volume(ct, context.scene, "Patient CT")
    hierarchy = hierarchy_of(context.scene)
    study = hierarchy.CreateFolderItem(hierarchy.GetSceneItemID(), "Study")
    hierarchy.SetItemParent(item_of(ct_node), study)
    result = logic.loadVirtualPET(ct_node, out, threshold=2.5)

    np.testing.assert_array_equal(slicer.util.arrayFromVolume(result.virtualPET), suv)
    np.testing.assert_allclose(ijk_to_ras_of(result.virtualPET), ijk_to_ras_of(ct_node), atol=1e-9)
    assert result.gan is None and result.uncertainty is None and result.fcn is not None
    for node in (result.virtualPET, result.fcn, result.lesionSegmentation, result.lesionTable):
        assert hierarchy.GetItemParent(item_of(node)) == study  # beside the CT
    for composite in slice_composite_nodes(context.scene):
        assert composite.GetBackgroundVolumeID() == ct_node.GetID()
        assert composite.GetForegroundVolumeID() == result.virtualPET.GetID()
    assert result.virtualPET.GetDisplayNode().GetColorNodeID() == PET_HEAT

    segmentation = result.lesionSegmentation.GetSegmentation()
    assert segmentation.GetNumberOfSegments() == len(lesions) == 2
    exported = context.scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode")
    slicer.vtkSlicerSegmentationsModuleLogic.ExportAllSegmentsToLabelmapNode(
        result.lesionSegmentation, exported, slicer.vtkSegmentation.EXTENT_REFERENCE_GEOMETRY)
    hot = {tuple(np.argwhere(suv == value).min(axis=0)) for value in (6.0, 4.0)}
    exported_array = slicer.util.arrayFromVolume(exported)
    assert {tuple(np.argwhere(exported_array == v).min(axis=0)) for v in (1, 2)} == hot
    assert (exported_array > 0).sum() == (suv > 2.5).sum()

    table = result.lesionTable.GetTable()
    assert table.GetNumberOfRows() == 2
    column = {table.GetColumnName(c): c for c in range(table.GetNumberOfColumns())}
    for row, lesion in enumerate(lesions):
        assert table.GetValue(row, column["suv_max"]).ToDouble() == pytest.approx(lesion["suv_max"])
        # centroid of a box of voxels = its middle voxel position, from the grid (LPS, independent arithmetic)
        box = np.argwhere(labels.array == lesion["id"])
        k, j, i = box.mean(axis=0)
        expected = np.array([-30.0 + 3.0 * i, 10.0 + 3.0 * j, 50.0 + 4.0 * k])
        got = [table.GetValue(row, column[name]).ToDouble() for name in ("x_mm", "y_mm", "z_mm")]
        np.testing.assert_allclose(got, expected, atol=1e-6)


def test_a_failed_virtual_pet_job_raises_one_line_and_leaves_no_temporary_files(logic, context, tmp_path,
                                                                                  monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the job's temporary CT copy goes here
    ct = node_from_volume(Volume(np.full((4, 6, 6), -1000.0, np.float32), modality="CT", units="HU"),
                          context.scene, "Air")
    with pytest.raises(InputError) as error:
        logic.predictVirtualPET(ct, modelId="no-such-model", device="cpu")
    assert "\n" not in str(error.value).strip()
    assert list(tmp_path.iterdir()) == []
    assert logic.currentJob.finished


def test_a_training_job_can_fine_tune_saved_weights(logic, tmp_path):
    """The panel's 'Start from' reaches 'train --init-weights': the second run records the first run's weights."""
    import json

    from MedGANSynthLib.weights.safetensors_io import file_sha256

    data = write_ct_folder(tmp_path / "ct", slices=4)
    tiny = ["--image-size", "16", "--width", "0.0625", "--threads", "1"]
    logic.trainModel("ct_gan", data, tmp_path / "first", epochs=1, batchSize=4, device="cpu", wait=True,
                     extraArgs=tiny)
    weights = tmp_path / "first" / "weights" / "ct_gan.safetensors"
    logic.trainModel("ct_gan", data, tmp_path / "second", epochs=1, batchSize=4, device="cpu", wait=True,
                     extraArgs=["--threads", "1"], initWeights=str(weights))
    started_from = json.loads((tmp_path / "second" / "run.json").read_text())["init_weights"]
    assert started_from["sha256"] == file_sha256(weights) and started_from["epochs"] == 1


def test_mip_needs_a_pet_in_suv_or_an_explicit_unit(logic, context):
    """computeMIP refuses a CT and a volume that does not say it is SUV; units='bqml' projects it as Bq/ml."""
    rng = np.random.default_rng(3)
    activity = (5000.0 + 20000.0 * rng.random((4, 6, 5))).astype(np.float32)
    unlabelled = node_from_volume(Volume(activity, spacing=(2.0, 2.0, 3.0)), context.scene, "Unlabelled")
    with pytest.raises(InputError, match="does not say it holds SUV"):
        logic.computeMIP(unlabelled)
    projection = logic.computeMIP(unlabelled, units="bqml")
    np.testing.assert_array_equal(slicer.util.arrayFromVolume(projection)[:, 0, :], activity.max(axis=1))
    assert volume_from_node(projection).units == "BQML"
    with pytest.raises(InputError, match="above any SUV"):
        logic.computeMIP(unlabelled, units="suv")  # values of thousands are not SUV
    ct = node_from_volume(Volume(np.full((4, 6, 5), -1000.0, np.float32), modality="CT", units="HU"),
                          context.scene, "CT")
    with pytest.raises(InputError, match="not a PET"):
        logic.computeMIP(ct)


def test_logic_resample_defaults_to_linear_and_keeps_labels_nearest(logic, context):
    from MedGANSynthLib.preprocessing.resample import resample_isotropic

    ramp = np.arange(4 * 6 * 5, dtype=np.float32).reshape(4, 6, 5)
    image = node_from_volume(Volume(ramp, spacing=(3.0, 3.0, 3.0), modality="PT", units="SUV"), context.scene, "R")
    np.testing.assert_array_equal(slicer.util.arrayFromVolume(logic.resampleVolume(image, 2.0)),
                                  resample_isotropic(volume_from_node(image), 2.0, "linear").array)
    labels = (ramp % 3).astype(np.uint8)
    label_node = node_from_volume(Volume(labels, spacing=(3.0, 3.0, 3.0)), context.scene, "L")
    assert set(np.unique(slicer.util.arrayFromVolume(logic.resampleVolume(label_node, 2.0)))) <= {0, 1, 2}
