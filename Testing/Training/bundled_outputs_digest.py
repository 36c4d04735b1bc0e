"""SHA-256 digests of the ARRAYS every bundled model and a few tiny training runs produce on fixed inputs.

A behaviour check for refactorings: run it before and after a change and compare; every digest must be identical.
Everything goes through the command line (``python -m MedGANSynthLib``, one process per command), so the check
holds whatever moves inside the library::

    python Testing/Training/bundled_outputs_digest.py --threads 1 --json /tmp/digest_before.json
    ... change the code ...
    python Testing/Training/bundled_outputs_digest.py --threads 1 --compare /tmp/digest_before.json

What is digested (array contents with their dtype and shape, never file bytes, which hold dates and versions):

* ``sample MODEL --count 4 --seed 7`` for every ``task: gan`` model of Resources/Models/catalogue.json, each class
  of a conditional model: every NRRD volume and PNG picture written;
* ``virtual-pet`` (the bundled model) on a version-1 whole-body phantom (``phantoms --kind wholebody --count 1
  --seed 5 --voxel-mm 8 --phantom-version 1``): every NRRD volume and PNG picture, and lesions.csv;
* tiny seeded training runs (``train`` CT GAN on ``phantoms --kind ctslices``, ``train`` RadioGAN on six MIP PNGs,
  ``train-virtual-pet``, ``train-cyclegan``, the tiny settings of the tests): every tensor of the exported weights,
  the modules, optimisers, RNG states and settings in the checkpoint, the loss tables (timing columns left out),
  every PNG picture (sample grids, loss curve) and the list of files in the run folder.

Timing columns (seconds, images/second) are the only values left out: they differ between any two runs.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = REPO / "Resources" / "Models" / "catalogue.json"
TIMING_COLUMNS = {"seconds", "images_per_second"}


# ---- digests ------------------------------------------------------------------------------------------------------
def array_digest(array: np.ndarray) -> str:
    array = np.ascontiguousarray(array)
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


def named_arrays_digest(arrays: Iterable[tuple[str, np.ndarray]]) -> str:
    digest = hashlib.sha256()
    for name, array in sorted(arrays, key=lambda item: item[0]):
        digest.update(name.encode())
        digest.update(array_digest(array).encode())
    return digest.hexdigest()


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def image_array(path: Path) -> np.ndarray:
    import SimpleITK as sitk

    return sitk.GetArrayFromImage(sitk.ReadImage(str(path)))


def tensors_digest(tensors: dict) -> str:
    """Every tensor of a (nested) state dict: names joined with '/', values as NumPy arrays."""
    import torch

    flat: list[tuple[str, np.ndarray]] = []

    def walk(prefix: str, value) -> None:
        if isinstance(value, torch.Tensor):
            flat.append((prefix, value.detach().cpu().numpy()))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}/{key}", item)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                walk(f"{prefix}/{index}", item)
        elif isinstance(value, (int, float, bool, str)) or value is None:
            flat.append((prefix, np.array([repr(value)])))

    walk("", tensors)
    return named_arrays_digest(flat)


def table_digest(path: Path) -> str:
    """A CSV's rows without its timing columns, in file order."""
    with open(path, newline="") as handle:
        rows = [{key: value for key, value in row.items() if key not in TIMING_COLUMNS} for row in csv.DictReader(handle)]
    return text_digest(json.dumps(rows))


def loss_json_digest(path: Path) -> str:
    history = json.loads(path.read_text())
    kept = {table: [{key: value for key, value in row.items() if key not in TIMING_COLUMNS} for row in rows]
            for table, rows in history.items()}
    return text_digest(json.dumps(kept, sort_keys=True))


def output_folder_digests(folder: Path, prefix: str) -> dict[str, str]:
    """Every NRRD volume and PNG picture (as arrays), and lesions.csv, below ``folder``."""
    digests = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.suffix in (".nrrd", ".png"):
            digests[f"{prefix}/{relative}"] = array_digest(image_array(path))
        elif path.name == "lesions.csv":
            digests[f"{prefix}/{relative}"] = text_digest(path.read_text())
    return digests


def run_folder_digests(run: Path, prefix: str) -> dict[str, str]:
    """Weights, checkpoint tensors, loss tables, pictures and the file list of a training run folder."""
    import torch
    from safetensors.numpy import load_file

    digests = {f"{prefix}/files": text_digest("\n".join(sorted(p.relative_to(run).as_posix()
                                                               for p in run.rglob("*") if p.is_file())))}
    for path in sorted((run / "weights").glob("*.safetensors")):
        digests[f"{prefix}/weights/{path.name}"] = named_arrays_digest(load_file(str(path)).items())
    checkpoint = torch.load(run / "checkpoints" / "checkpoint_last.pt", map_location="cpu", weights_only=True)
    for part in ("modules", "optimizers", "scalers", "task", "rng"):  # rng: what a resumed run continues from
        digests[f"{prefix}/checkpoint/{part}"] = tensors_digest(checkpoint.get(part, {}))
    settings = {key: value for key, value in checkpoint["config"].items() if key != "run_dir"}  # a temporary folder
    digests[f"{prefix}/checkpoint/config"] = text_digest(json.dumps(settings, sort_keys=True))
    digests[f"{prefix}/checkpoint/counts"] = text_digest(json.dumps(
        {key: checkpoint.get(key) for key in ("epoch", "global_step", "partial_epoch")}))
    for name in ("losses_steps.csv", "losses_epochs.csv"):
        digests[f"{prefix}/{name}"] = table_digest(run / name)
    digests[f"{prefix}/losses.json"] = loss_json_digest(run / "losses.json")
    for path in sorted(run.rglob("*.png")):
        digests[f"{prefix}/{path.relative_to(run).as_posix()}"] = array_digest(image_array(path))
    return digests


# ---- running the CLI ----------------------------------------------------------------------------------------------
class Cli:
    def __init__(self, threads: int | None) -> None:
        self.threads = threads
        self.env = dict(os.environ, PYTHONPATH=str(REPO))
        if threads:
            for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
                self.env[name] = str(threads)
        self.seconds: dict[str, float] = {}

    def __call__(self, label: str, *argv: object, threads_flag: bool = False) -> None:
        command = [sys.executable, "-m", "MedGANSynthLib", *map(str, argv), "--quiet"]
        if threads_flag and self.threads:
            command += ["--threads", str(self.threads)]
        started = time.perf_counter()
        finished = subprocess.run(command, env=self.env, capture_output=True, text=True)
        self.seconds[label] = round(time.perf_counter() - started, 1)
        if finished.returncode != 0:
            raise SystemExit(f"'{' '.join(command)}' failed ({finished.returncode}):\n{finished.stderr[-3000:]}")


def sample_digests(cli: Cli, work: Path) -> dict[str, str]:
    digests = {}
    for model in json.loads(CATALOGUE.read_text())["models"]:
        if model["task"] != "gan":
            continue
        classes = model["classes"] if len(model["classes"]) > 1 else [None]
        for class_name in classes:
            label = model["id"] if class_name is None else f"{model['id']}/{class_name}"
            out = work / "sample" / label
            extra = [] if class_name is None else ["--class", class_name]
            cli(f"sample {label}", "sample", model["id"], "--count", 4, "--seed", 7, "--device", "cpu", *extra,
                "-o", out)
            digests.update(output_folder_digests(out, f"sample/{label}"))
    return digests


def write_mips(folder: Path) -> Path:
    """Six 20 x 12 grey PNG 'MIPs' in two classes with labels.csv (the RadioGAN CLI test's data)."""
    import SimpleITK as sitk

    folder.mkdir(parents=True)
    rows = []
    for index in range(6):
        picture = np.zeros((20, 12), dtype=np.uint8)
        picture[2 + index: 8 + index, 3:9] = 200
        sitk.WriteImage(sitk.GetImageFromArray(picture), str(folder / f"m{index}.png"))
        rows.append(f"m{index}.png,{('normal', 'lung cancer')[index % 2]}\n")
    (folder / "labels.csv").write_text("file,label\n" + "".join(rows))
    return folder


def write_unpaired_volumes(root: Path) -> tuple[Path, Path]:
    """Two CT volumes (HU) and two PET volumes (SUV), 6 and 5 slices of 40 x 40 (the CycleGAN tests' data)."""
    from MedGANSynthLib.io.volume_io import write_volume
    from MedGANSynthLib.volume import Volume

    def disc(size: int, radius: float, shift: float = 0.0) -> np.ndarray:
        rows, cols = np.mgrid[:size, :size]
        return ((rows - (size - 1) / 2 - shift) ** 2 + (cols - (size - 1) / 2) ** 2) < radius**2

    folder_a, folder_b = root / "ct", root / "pet"
    folder_a.mkdir(parents=True)
    folder_b.mkdir(parents=True)
    for index in range(2):
        hu = np.full((6, 40, 40), -1000.0, np.float32)
        hu[:, disc(40, 14 + index)] = 40.0
        hu[:, disc(40, 5, shift=-4)] = -800.0
        write_volume(Volume(hu.astype(np.int16), spacing=(4.0, 4.0, 5.0), modality="CT", units="HU"),
                     folder_a / f"ct{index}.nrrd")
        suv = np.zeros((5, 40, 40), np.float32)
        suv[:, disc(40, 12 + index)] = 1.0
        suv[:, disc(40, 3, shift=5)] = 8.0
        write_volume(Volume(suv, spacing=(4.0, 4.0, 5.0), modality="PT", units="SUV"), folder_b / f"pet{index}.nrrd")
    return folder_a, folder_b


def wholebody_cases(cli: Cli, work: Path) -> Path:
    """One version-1 whole-body phantom case (8 mm voxels), written once."""
    cases = work / "wholebody"
    if not cases.exists():
        cli("phantoms wholebody", "phantoms", "--kind", "wholebody", "--count", 1, "--seed", 5, "--voxel-mm", 8,
            "--phantom-version", 1, "-o", cases)
    return cases


def virtual_pet_digests(cli: Cli, work: Path) -> dict[str, str]:
    cases = wholebody_cases(cli, work)
    case = next(path for path in sorted(cases.iterdir()) if path.is_dir())
    ct = next(case.glob("ct.*"))
    out = work / "virtual_pet"
    cli("virtual-pet", "virtual-pet", ct, "--device", "cpu", "-o", out, threads_flag=True)
    return output_folder_digests(out, "virtual-pet")


def training_digests(cli: Cli, work: Path) -> dict[str, str]:
    digests = {}
    slices = work / "ctslices"
    cli("phantoms ctslices", "phantoms", "--kind", "ctslices", "--count", 12, "--size", 32, "--seed", 4, "-o", slices)
    run = work / "train_ct_gan"
    cli("train ct_gan", "train", "--architecture", "ct_gan", "--data", slices / "ctslices_32px", "-o", run, "--epochs", 2,
        "--batch-size", 4, "--image-size", 16, "--width", 0.0625, "--seed", 3, "--checkpoint-steps", 2,
        "--device", "cpu", threads_flag=True)
    digests.update(run_folder_digests(run, "train/ct_gan"))

    run = work / "train_radiogan"
    cli("train radiogan", "train", "--architecture", "radiogan", "--data", write_mips(work / "mips"), "-o", run,
        "--epochs", 2, "--batch-size", 3, "--image-size", "20x12", "--width", 0.125, "--loss", "hinge",
        "--seed", 5, "--device", "cpu", threads_flag=True)
    digests.update(run_folder_digests(run, "train/radiogan"))

    run = work / "train_virtual_pet"
    cli("train-virtual-pet", "train-virtual-pet", "--data", wholebody_cases(cli, work), "-o", run, "--epochs", 1,
        "--batch-size", 16, "--width-fcn", 0.0625, "--width-gan", 0.0625, "--depth", 4, "--gan-upsampling",
        "resize", "--slice-size", 32, "--seed", 2, "--device", "cpu", threads_flag=True)
    digests.update(run_folder_digests(run, "train/virtual_pet"))

    folder_a, folder_b = write_unpaired_volumes(work / "unpaired")
    run = work / "train_cyclegan"
    cli("train-cyclegan", "train-cyclegan", "--data-a", folder_a, "--data-b", folder_b, "-o", run, "--epochs", 2,
        "--image-size", 32, "--width", 0.125, "--residual-blocks", 1, "--batch-size", 2, "--seed", 3,
        "--device", "cpu", threads_flag=True)
    digests.update(run_folder_digests(run, "train/cyclegan"))
    return digests


def compare(digests: dict[str, str], reference: dict[str, str]) -> list[str]:
    """Lines naming every digest that differs, is new or is missing (empty when all are identical)."""
    lines = []
    for key in sorted(set(digests) | set(reference)):
        if key not in reference:
            lines.append(f"new      {key}")
        elif key not in digests:
            lines.append(f"missing  {key}")
        elif digests[key] != reference[key]:
            lines.append(f"differs  {key}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for every command (1 to repeat)")
    parser.add_argument("--json", type=Path, help="also write the digests (and command seconds) to this JSON file")
    parser.add_argument("--compare", type=Path, help="a JSON file this script wrote earlier; exit 1 on any difference")
    parser.add_argument("--only", choices=("sample", "virtual-pet", "train"), action="append",
                        help="run only these groups (default all)")
    args = parser.parse_args(argv)
    groups = args.only or ["sample", "virtual-pet", "train"]
    cli = Cli(args.threads)
    digests: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="medgansynth_digest_") as temp:
        work = Path(temp)
        if "sample" in groups:
            digests.update(sample_digests(cli, work))
        if "virtual-pet" in groups:
            digests.update(virtual_pet_digests(cli, work))
        if "train" in groups:
            digests.update(training_digests(cli, work))
    for key, value in sorted(digests.items()):
        print(f"{value}  {key}")
    if args.json:
        args.json.write_text(json.dumps({"digests": digests, "seconds": cli.seconds}, indent=1, sort_keys=True))
    if args.compare:
        reference = {key: value for key, value in json.loads(args.compare.read_text())["digests"].items()
                     if key.split("/")[0] in groups}  # with --only, just the groups that ran
        differences = compare(digests, reference)
        print("\n".join(differences) if differences else f"all {len(digests)} digests identical to {args.compare}")
        return 1 if differences else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
