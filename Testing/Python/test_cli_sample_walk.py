"""`sample` and `walk` on a tiny RadioGAN trained for a few steps on phantom MIPs: files, physics, determinism."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from MedGANSynthLib.cli.main import main
from MedGANSynthLib.gan.sampling import sample_images, to_physical
from MedGANSynthLib.io import read_volume
from MedGANSynthLib.weights.safetensors_io import load_gan


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("gan")
    assert main(["dataset", "mip", "--phantoms", "2", "--heldout", "1", "--classes", "normal,lymphoma",
                 "--voxel-mm", "10", "-o", str(root / "data")]) == 0
    assert main(["train", "--architecture", "radiogan", "--data", str(root / "data" / "train"), "-o",
                 str(root / "run"), "--epochs", "1", "--batch-size", "2", "--image-size", "40x24", "--width", "0.25",
                 "--device", "cpu", "--threads", "1"]) == 0
    (weights,) = (root / "run" / "weights").glob("*.safetensors")
    return weights


def test_sample_writes_grid_and_stack_in_suv(tiny_model, tmp_path):
    assert main(["sample", str(tiny_model), "-o", str(tmp_path), "--class", "lymphoma", "--count", "3",
                 "--seed", "5", "--device", "cpu"]) == 0
    stack = read_volume(tmp_path / "samples.nrrd")
    assert stack.array.shape == (3, 40, 24) and stack.units == "SUV"
    # Independent path: the generator itself, then the card's window (SUV [0, 30] <- tanh [-1, 1]).
    generator, _, card = load_gan(tiny_model, with_discriminator=False)
    raw = sample_images(generator, "lymphoma", 3, 5, "cpu", class_names=card.class_names)
    expected = np.clip((raw[:, 0].astype(np.float64) + 1.0) / 2.0 * 30.0, 0.0, 30.0)
    np.testing.assert_allclose(stack.array, expected, atol=1e-4)
    np.testing.assert_allclose(to_physical(raw, card)[:, 0], expected, atol=1e-4)
    assert (tmp_path / "samples.png").stat().st_size > 500


def test_same_seed_same_images_and_class_matters(tiny_model, tmp_path):
    for name, cls in (("a", "normal"), ("b", "normal"), ("c", "lymphoma")):
        assert main(["sample", str(tiny_model), "-o", str(tmp_path / name), "--class", cls, "--count", "2",
                     "--device", "cpu"]) == 0
    a, b, c = (read_volume(tmp_path / n / "samples.nrrd").array for n in "abc")
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_walk_endpoints_equal_direct_samples(tiny_model, tmp_path):
    assert main(["walk", str(tiny_model), "-o", str(tmp_path), "--steps", "5", "--seed-a", "1", "--seed-b", "2",
                 "--class-a", "normal", "--class-b", "lymphoma", "--device", "cpu"]) == 0
    walk = read_volume(tmp_path / "walk.nrrd").array
    assert walk.shape == (5, 40, 24)
    for seed, cls, index in ((1, "normal", 0), (2, "lymphoma", -1)):
        assert main(["sample", str(tiny_model), "-o", str(tmp_path / f"s{seed}"), "--class", cls, "--count", "1",
                     "--seed", str(seed), "--device", "cpu"]) == 0
        np.testing.assert_allclose(walk[index], read_volume(tmp_path / f"s{seed}" / "samples.nrrd").array[0],
                                   atol=1e-5)


def test_walk_within_one_class_goes_to_the_next_seed_by_default(tiny_model, tmp_path):
    assert main(["walk", str(tiny_model), "-o", str(tmp_path / "w"), "--steps", "3", "--seed-a", "4",
                 "--class-a", "lymphoma", "--device", "cpu"]) == 0
    assert main(["sample", str(tiny_model), "-o", str(tmp_path / "s"), "--class", "lymphoma", "--count", "1",
                 "--seed", "5", "--device", "cpu"]) == 0
    np.testing.assert_allclose(read_volume(tmp_path / "w" / "walk.nrrd").array[-1],
                               read_volume(tmp_path / "s" / "samples.nrrd").array[0], atol=1e-5)


@pytest.mark.parametrize("argv, message", [
    (["sample", "{model}", "--count", "2"], "pass --class"),
    (["sample", "{model}", "--class", "melanoma"], "melanoma"),
    (["sample", "{model}", "--class", "normal", "--count", "0"], "--count"),
    (["walk", "{model}", "--class-a", "normal", "--steps", "1"], "--steps"),
    (["walk", "{model}", "--class-a", "normal", "--seed-b", "0"], "two different end points"),
    (["sample", "no-such-model", "--class", "normal"], "Unknown model"),
])
def test_bad_requests_exit_2_with_one_line(tiny_model, tmp_path, capsys, argv, message):
    argv = [part.replace("{model}", str(tiny_model)) for part in argv] + ["-o", str(tmp_path / "out")]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_cli_process_prints_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "MedGANSynthLib", "sample", str(tmp_path / "x.safetensors"),
                             "-o", str(tmp_path / "o")], capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize(("argv", "hint"), [
    (["sample", "model.safetensors"], "(see 'medgansynth sample -h')"),
    (["sample", "model.safetensors", "-o", "out", "--bogus"], "(see 'medgansynth -h')"),
])
def test_argument_errors_point_to_the_right_help(capsys, argv, hint):
    code = main(argv)
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1 and error.rstrip().endswith(hint)
