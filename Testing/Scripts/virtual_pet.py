"""Virtual PET of a CT with lesion candidates in one Logic call, as a batch script.

Runs in Slicer and in plain Python (slicer-core from PyPI), with the same arguments::

    Slicer --no-main-window --python-script Testing/Scripts/virtual_pet.py CT_FOLDER -o OUT
    python Testing/Scripts/virtual_pet.py CT.nii.gz --model virtual_pet_phantom --threshold 2.5 -o OUT --pictures

Without a CT it uses a whole-body phantom CT. Writes virtual_pet.nrrd, lesions.json (uncertainty.nrrd with
--uncertainty; with --pictures in plain Python, PNG renderings of Slicer's own views) into OUT (default: a new
temporary folder).
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

try:
    import MedGANSynthLib  # noqa: F401 -- installed extension or pip-installed library
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's source tree


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ct", nargs="?", help="CT DICOM folder or volume file (default: a phantom CT)")
    parser.add_argument("--model", help="catalogue id or .safetensors file (default: the first bundled model)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threshold", type=float, default=2.5, help="lesion threshold in SUV (paper: 2.5)")
    parser.add_argument("--uncertainty", action="store_true")
    parser.add_argument("--pictures", action="store_true", help="render Slicer views to PNG (plain Python)")
    parser.add_argument("-o", "--output", help="output folder (default: a new temporary folder)")
    return parser.parse_args(argv)


def main(argv) -> dict:
    from MedGANSynthLib.errors import InputError
    from MedGANSynthLib.io.volume_io import read_volume, write_volume
    from MedGANSynthLib.mrml.logic import MedGANSynthLogic
    from MedGANSynthLib.mrml.volume_nodes import node_from_volume, volume_from_node

    args = parse_arguments(argv)
    logic = MedGANSynthLogic()  # Slicer's scene inside Slicer, a headless scene in plain Python
    model = args.model or next((entry.id for entry in logic.modelCatalogue("virtual_pet")), None)
    if model is None:
        raise InputError("No virtual-PET model is bundled yet; pass --model with a .safetensors file.")
    out = Path(args.output or tempfile.mkdtemp(prefix="MedGANSynth-virtual-pet-"))
    out.mkdir(parents=True, exist_ok=True)
    ct = read_volume(args.ct) if args.ct else phantom_ct()
    ct_node = node_from_volume(ct, logic.scene, "CT")
    result = logic.predictVirtualPET(ct_node, modelId=model, device=args.device, threshold=args.threshold,
                                     uncertainty=args.uncertainty)
    files = {"virtual_pet": str(write_volume(volume_from_node(result.virtualPET), out / "virtual_pet.nrrd"))}
    if result.uncertainty is not None:
        files["uncertainty"] = str(write_volume(volume_from_node(result.uncertainty), out / "uncertainty.nrrd"))
    (out / "lesions.json").write_text(json.dumps(result.lesions, indent=2))
    files["lesions"] = str(out / "lesions.json")
    if args.pictures:
        from MedGANSynthLib.mrml.screenshots import render_overview

        files["pictures"] = [str(p) for p in render_overview(ct_node, result.virtualPET, out)]
    summary = {"output": str(out), "model": str(model), "lesions": len(result.lesions), "files": files}
    print(json.dumps(summary))
    return summary


def phantom_ct():
    from MedGANSynthLib.phantoms import WholeBodyConfig, make_wholebody_case

    return make_wholebody_case(0, "lymphoma", WholeBodyConfig().with_voxel_mm(12), version=1).ct


def run_and_exit() -> None:
    from MedGANSynthLib.errors import InputError
    from MedGANSynthLib.mrml.scene import inside_slicer_application

    status = 0
    try:
        main(sys.argv[1:])
    except InputError as error:
        print(f"virtual_pet: {error}", file=sys.stderr)
        status = 2
    if inside_slicer_application():
        import slicer

        slicer.util.exit(status)  # --python-script leaves Slicer running otherwise
    else:
        sys.exit(status)


if __name__ == "__main__":
    run_and_exit()
