"""``medgansynth train-virtual-pet`` and ``medgansynth virtual-pet`` end to end on tiny phantoms and real CTs."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import REPO_ROOT, shared_data_path
from scipy import ndimage

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.io.volume_io import read_volume, write_volume
from MedGANSynthLib.volume import Volume

STABLE_FILES = ("virtual_pet.nrrd", "fcn.nrrd", "gan.nrrd", "lesion_labels.nrrd", "lesions.csv", "lesions.json",
                "summary.json", "virtual_pet_mip.png", "fusion_coronal.png", "fusion_axial.png")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two 8 mm phantom cases and a tiny model trained on them for 2 epochs through the CLI."""
    root = tmp_path_factory.mktemp("cli_vpet")
    assert main(["phantoms", "--kind", "wholebody", "--phantom-version", "1",
                 "--count", "2", "--seed", "5", "--voxel-mm", "8",
                 "--classes", "lymphoma,lung", "-o", str(root / "data")]) == 0
    code = main(["train-virtual-pet", "--data", str(root / "data"), "-o", str(root / "run"), "--epochs", "2",
                 "--batch-size", "16", "--threads", "1", "--width-fcn", "0.0625", "--width-gan", "0.0625",
                 "--depth", "4", "--gan-upsampling", "resize", "--slice-size", "32", "--device", "cpu",
                 "--suv-weight-power", "2", "--symmetric-suv-weight", "--progress-lines"])
    assert code == 0
    return root, root / "run" / "weights" / "virtual_pet.safetensors"


def _run(capsys, *argv) -> tuple[int, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def _assert_on_grid_of(path: Path, reference: sitk.Image) -> None:
    image = sitk.ReadImage(str(path))
    assert image.GetSize() == reference.GetSize()
    np.testing.assert_allclose(image.GetSpacing(), reference.GetSpacing(), rtol=1e-6)
    np.testing.assert_allclose(image.GetOrigin(), reference.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(image.GetDirection(), reference.GetDirection(), atol=1e-6)


def test_training_run_wrote_checkpoint_pictures_and_weights(trained):
    root, weights = trained
    run = root / "run"
    assert weights.is_file() and weights.with_suffix(".json").is_file()
    assert (run / "checkpoints" / "checkpoint_last.pt").is_file() and (run / "samples" / "epoch_0002.png").is_file()
    card = json.loads(weights.with_suffix(".json").read_text())
    assert card["epochs"] == 2 and card["training_data"]["source"] == "MedGANSynth phantoms"
    settings = json.loads((run / "run.json").read_text())
    assert settings["networks"]["in_channels"] == 3 and settings["dataset"]["slice_size"] == 32
    assert card["config"]["gan"]["upsampling"] == "resize"
    assert card["metrics"]["training"]["suv_weight_power"] == 2.0 and settings["suv_weight_power"] == 2.0
    assert card["metrics"]["training"]["symmetric_suv_weight"] is True and settings["symmetric_suv_weight"] is True
    # The same folder again without --resume is refused; with --resume and more epochs it continues.
    code = main(["train-virtual-pet", "--data", str(root / "data"), "-o", str(run), "--epochs", "1"])
    assert code == 2


def test_training_on_crops_records_them_and_the_model_runs_on_whole_ct(trained, tmp_path):
    root, _ = trained
    run = tmp_path / "crops"
    assert main(["train-virtual-pet", "--data", str(root / "data"), "-o", str(run), "--epochs", "1",
                 "--batch-size", "16", "--threads", "1", "--width-fcn", "0.0625", "--width-gan", "0.0625",
                 "--depth", "3", "--slice-size", "64", "--crop-size", "32", "--device", "cpu"]) == 0
    assert json.loads((run / "run.json").read_text())["dataset"]["crop_size"] == 32
    card = json.loads((run / "weights" / "virtual_pet.json").read_text())
    assert card["training_data"]["dataset"]["crop_size"] == 32
    assert card["config"]["working_pixel_mm"] == pytest.approx(500.0 / 64, rel=1e-3)  # the slices' pixels, not the crop's
    ct_path = next((root / "data").glob("*/ct.nrrd"))
    assert main(["virtual-pet", str(ct_path), "-o", str(tmp_path / "out"), "--model",
                 str(run / "weights" / "virtual_pet.safetensors"), "--device", "cpu"]) == 0
    _assert_on_grid_of(tmp_path / "out" / "virtual_pet.nrrd", sitk.ReadImage(str(ct_path)))


def test_resumed_at_a_new_learning_rate_trains_one_more_epoch_at_that_rate(trained, tmp_path, capsys):
    import shutil

    from MedGANSynthLib.training.checkpoint import checkpoint_path, load_checkpoint

    run = tmp_path / "run"
    shutil.copytree(trained[0] / "run", run)
    before = load_checkpoint(checkpoint_path(run))["modules"]
    code, _ = _run(capsys, "train-virtual-pet", "-o", run, "--resume", "--epochs", "3", "--lr", "1e-12",
                   "--threads", "1")
    assert code == 0
    state = load_checkpoint(checkpoint_path(run))
    assert state["epoch"] == 3
    # At 1e-12 an epoch of Adam steps moves no weight by more than ~1e-11 (the default rates move them ~1e-4).
    moved = max(float((state["modules"][net][key] - before[net][key]).abs().max())
                for net in before for key in before[net] if key.endswith("weight"))
    assert moved < 1e-9
    change = [{"after_epoch": 2, "lr": 1e-12}]
    assert json.loads((run / "run.json").read_text())["learning_rate_changes"] == change
    card = json.loads((run / "weights" / "virtual_pet.json").read_text())
    assert card["epochs"] == 3 and card["metrics"]["training"]["learning_rate_changes"] == change
    code, error = _run(capsys, "train-virtual-pet", "-o", run, "--resume", "--epochs", "4", "--lr", "0")
    assert code == 2 and "--lr must be positive (got 0.0)" in error


def test_virtual_pet_on_a_phantom_ct_writes_the_stable_files_on_the_ct_grid(trained, tmp_path, capsys):
    root, weights = trained
    ct_path = root / "data" / "wholebody_0000_lymphoma" / "ct.nrrd"
    code, _ = _run(capsys, "virtual-pet", ct_path, "-o", tmp_path / "out", "--model", weights, "--device", "cpu",
                   "--uncertainty", "2", "--threshold", "2.5")
    assert code == 0
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted((*STABLE_FILES, "uncertainty.nrrd"))
    reference = sitk.ReadImage(str(ct_path))
    for name in ("virtual_pet.nrrd", "fcn.nrrd", "gan.nrrd", "uncertainty.nrrd", "lesion_labels.nrrd"):
        _assert_on_grid_of(out / name, reference)
    virtual = sitk.GetArrayFromImage(sitk.ReadImage(str(out / "virtual_pet.nrrd")))
    components = ndimage.label(virtual > 2.5, structure=np.ones((3, 3, 3)))[1]
    with open(out / "lesions.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with open(out / "lesions.csv", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == ["id", "x_mm", "y_mm", "z_mm", "suv_max", "suv_mean", "volume_ml"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["lesions"] == len(rows) == components
    assert len(json.loads((out / "lesions.json").read_text())["lesions"]) == components
    assert summary["virtual_pet_suv_max"] == pytest.approx(float(virtual.max()), rel=1e-6)
    assert "phantoms" in summary["model_training_data"]


def test_virtual_pet_on_the_real_nifti_ct_and_dicom_folder(trained, tmp_path, capsys):
    _, weights = trained
    nifti = shared_data_path("ct-nifti", "example_ct_sm.nii.gz")
    dicom = shared_data_path("ct-dicom-thorax")
    code, _ = _run(capsys, "virtual-pet", nifti, "-o", tmp_path / "nifti", "--model", weights, "--device", "cpu",
                   "--no-fcn-gan-outputs")
    assert code == 0
    assert not (tmp_path / "nifti" / "fcn.nrrd").exists()
    _assert_on_grid_of(tmp_path / "nifti" / "virtual_pet.nrrd", sitk.ReadImage(str(nifti)))

    code, _ = _run(capsys, "virtual-pet", dicom, "-o", tmp_path / "dicom", "--model", weights, "--device", "cpu")
    assert code == 0
    reader = sitk.ImageSeriesReader()
    reference = sitk.ReadImage(reader.GetGDCMSeriesFileNames(str(dicom)))
    _assert_on_grid_of(tmp_path / "dicom" / "virtual_pet.nrrd", reference)
    assert (tmp_path / "dicom" / "summary.json").is_file()


def test_outside_body_zero_clears_the_real_table_keeps_the_body_and_keep_is_the_networks_output(tmp_path, capsys):
    from tiny_models import save_tiny_virtual_pet

    from MedGANSynthLib.virtual_pet.inference import predict_virtual_pet
    from MedGANSynthLib.virtual_pet.weights import load_virtual_pet

    weights = save_tiny_virtual_pet(tmp_path)  # untrained: it paints the air and the table (the trained one: 0)
    dicom = shared_data_path("ct-dicom-thorax")
    for choice in ("keep", None):  # None: the default
        extra = ["--outside-body", choice] if choice else []
        code, _ = _run(capsys, "virtual-pet", dicom, "-o", tmp_path / str(choice), "--model", weights, "--device",
                       "cpu", "--no-pictures", "--input-check", "none", *extra)
        assert code == 0
    kept, zeroed = ({name: read_volume(tmp_path / folder / f"{name}.nrrd").array for name in ("virtual_pet", "fcn",
                                                                                             "gan")}
                    for folder in ("keep", "None"))
    # keep: exactly what the networks give (the library's inference, as the command wrote it before the option)
    ct = read_volume(dicom)
    model = load_virtual_pet(weights, "cpu")
    raw = predict_virtual_pet(ct, model.fcn, model.gan, model.inference_config(return_fcn=True, return_gan=True),
                              device="cpu")
    for name, volume in (("virtual_pet", raw.blended), ("fcn", raw.fcn), ("gan", raw.gan)):
        np.testing.assert_array_equal(kept[name], volume.array)
    # Looking at the slices once: the back ends at row 418-419 under the spine; from row 430 down every dense
    # voxel is one of the table's two thin carbon shells (test_body_mask.py shows the picture's reasons).
    table = np.zeros(ct.array.shape, bool)
    table[:, 430:] = ct.array[:, 430:] > -500
    deep = np.stack([ndimage.binary_erosion(plane > -500, structure=np.ones((15, 15), bool)) for plane in ct.array])
    assert max(float(kept[name][table].max()) for name in kept) > 0.5, "the untrained networks paint the table"
    for name in kept:
        assert not zeroed[name][table].any(), name
        np.testing.assert_array_equal(zeroed[name][deep], kept[name][deep])  # tissue 7 mm from air: body
        changed = zeroed[name] != kept[name]
        assert not zeroed[name][changed].any()  # the only change: values set to 0
    summaries = [json.loads((tmp_path / folder / "summary.json").read_text()) for folder in ("keep", "None")]
    assert [s["outside_body"] for s in summaries] == ["keep", "zero"]
    assert summaries[0]["outside_body_suv_max_removed"] is None
    assert summaries[1]["outside_body_suv_max_removed"] == pytest.approx(
        float(kept["virtual_pet"][zeroed["virtual_pet"] != kept["virtual_pet"]].max()), abs=1e-3)


def test_a_bad_outside_body_value_is_one_line_with_exit_2(tmp_path, capsys):
    code, err = _run(capsys, "virtual-pet", tmp_path / "ct.nrrd", "-o", tmp_path / "out", "--outside-body", "clip")
    assert code == 2 and "--outside-body" in err and "'zero', 'keep'" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_uncertainty_without_a_count_runs_the_shared_default_of_8_passes():
    """The CLI and the Slicer Logic (test_mrml_logic) read the default from virtual_pet.uncertainty."""
    from MedGANSynthLib.cli.main import build_parser
    from MedGANSynthLib.virtual_pet.uncertainty import DEFAULT_UNCERTAINTY_PASSES

    assert DEFAULT_UNCERTAINTY_PASSES == 8  # the documented default (--help)
    parser = build_parser()
    assert parser.parse_args(["virtual-pet", "ct.nrrd", "-o", "out", "--uncertainty"]).uncertainty == 8
    assert parser.parse_args(["virtual-pet", "ct.nrrd", "-o", "out"]).uncertainty == 0
    subparser = parser._subparsers._group_actions[0].choices["virtual-pet"]
    assert "(N defaults to 8)" in subparser.format_help().replace("\n", " ")


def test_the_library_refuses_a_bad_outside_body_value_before_any_work(tmp_path):
    from MedGANSynthLib.errors import InputError
    from MedGANSynthLib.virtual_pet.pipeline import run_virtual_pet

    with pytest.raises(InputError, match="--outside-body must be one of zero, keep") as error:
        run_virtual_pet(tmp_path / "missing-ct.nrrd", tmp_path / "out", outside_body="none")
    assert "\n" not in str(error.value) and not (tmp_path / "out").exists()


def _bad_inputs(root: Path, tmp_path: Path) -> dict[str, Path]:
    case = root / "data" / "wholebody_0000_lymphoma"
    ct = read_volume(case / "ct.nrrd")
    flat = Volume(ct.array[40:41].copy(), ct.spacing, ct.origin, modality="CT", units="HU")
    nan = ct.with_array(ct.array.astype(np.float32))
    nan.array[10, 5, 5] = np.nan
    return {"pet": case / "pet.nrrd", "labels": case / "lesions.nrrd",
            "two_d": write_volume(flat, tmp_path / "flat.nrrd"), "nan": write_volume(nan, tmp_path / "nan.nrrd")}


def test_bad_inputs_exit_2_with_one_line_and_leave_nothing(trained, tmp_path, capsys):
    root, weights = trained
    messages = {"pet": "PET", "labels": "label map", "two_d": "2-D", "nan": "NaN"}
    for name, path in _bad_inputs(root, tmp_path).items():
        out = tmp_path / f"out_{name}"
        code, err = _run(capsys, "virtual-pet", path, "-o", out, "--model", weights, "--device", "cpu")
        assert code == 2, name
        assert len(err.strip().splitlines()) == 1 and messages[name] in err, (name, err)
        assert not out.exists() or not any(out.iterdir()), name
    out = tmp_path / "out_model"
    code, err = _run(capsys, "virtual-pet", root / "data" / "wholebody_0000_lymphoma" / "ct.nrrd", "-o", out,
                     "--model", tmp_path / "missing.safetensors")
    assert code == 2 and "does not exist" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    code, err = _run(capsys, "virtual-pet", root / "data" / "wholebody_0000_lymphoma" / "ct.nrrd", "-o", out,
                     "--model", weights, "--blend-dilation", "-4")
    assert code == 2 and "--blend-dilation must be 0 mm or more" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    code, err = _run(capsys, "virtual-pet", root / "data" / "wholebody_0000_lymphoma" / "ct.nrrd", "-o", out,
                     "--model", weights, "--blend-veto", "-1")
    assert code == 2 and "--blend-veto must be 0 SUV (off) or more" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    code, err = _run(capsys, "virtual-pet", root / "data" / "wholebody_0000_lymphoma" / "ct.nrrd", "-o", out,
                     "--model", weights, "--blend-base-levels", "-1")
    assert code == 2 and "--blend-base-levels must be 0 or more" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    code, err = _run(capsys, "virtual-pet", root / "data" / "wholebody_0000_lymphoma" / "ct.nrrd", "-o", out,
                     "--model", weights, "--slice-smoothing", "-8")
    assert code == 2 and "--slice-smoothing must be 0 mm or more" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if ".staging." in p.name]


def test_virtual_pet_subprocess_bad_input_is_one_line_without_traceback(trained, tmp_path):
    root, weights = trained
    result = subprocess.run([sys.executable, "-m", "MedGANSynthLib", "virtual-pet",
                             str(root / "data" / "wholebody_0000_lymphoma" / "pet.nrrd"), "-o", str(tmp_path / "o"),
                             "--model", str(weights), "--device", "cpu"],
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


def test_train_virtual_pet_subprocess_without_cases_is_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    result = subprocess.run([sys.executable, "-m", "MedGANSynthLib", "train-virtual-pet", "--data",
                             str(tmp_path / "empty"), "-o", str(tmp_path / "run")],
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert result.returncode == 2
    assert "No CT + PET pairs" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--suv-weight-power", "0", "--suv-weight-power must be above 0"),
    ("--gan-l2-weight", "-1", "--gan-l2-weight cannot be negative"),
    ("--crop-size", "200", "--crop-size must be 16 pixels or more and at most --slice-size"),
    ("--crop-size", "0", "--crop-size must be at least 1"),
    ("--workers", "-1", "--workers must be 0 or more"),
    ("--checkpoint-steps", "-5", "--checkpoint-steps must be 0 or more"),
    ("--lr-d", "0", "--lr-d must be positive (got 0.0)"),
    ("--lr-d=-1e-4", None, "--lr-d must be positive (got -0.0001)"),
    ("--gan-loss", "hinge", "argument --gan-loss: 'hinge' is not one of bce, lsgan"),
    ("--set", "gan_loss=hinge", "--set gan_loss: 'hinge' is not one of bce, lsgan (like --gan-loss)"),
])
def test_bad_loss_settings_are_one_line(tmp_path, capsys, option, value, message):
    (tmp_path / "data").mkdir()
    flags = [option] if value is None else [option, value]
    code, err = _run(capsys, "train-virtual-pet", "--data", tmp_path / "data", "-o", tmp_path / "run", *flags)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()
