"""PET -> SUV -> (resampled) -> MIP in one Logic call, as a batch script.

Runs in Slicer and in plain Python (slicer-core from PyPI), with the same arguments::

    Slicer --no-main-window --python-script Testing/Scripts/suv_and_mip.py PET_FOLDER -o OUT --angles 36
    python Testing/Scripts/suv_and_mip.py PET.nrrd -o OUT --weight-kg 72 --dose-mbq 350 \
        --injection-time 09:12 --scan-time 10:15

Without a PET it uses a whole-body phantom. Writes suv.nrrd, mip.nrrd (or rotating_mip.png) and mip.png into OUT
(default: a new temporary folder, printed at the end).
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
    parser.add_argument("pet", nargs="?", help="PET DICOM folder/.dcm or volume file (default: a phantom PET)")
    parser.add_argument("-o", "--output", help="output folder (default: a new temporary folder)")
    parser.add_argument("--weight-kg", type=float)
    parser.add_argument("--dose-mbq", type=float)
    parser.add_argument("--injection-time")
    parser.add_argument("--scan-time")
    parser.add_argument("--spacing-mm", type=float, help="resample to cubic voxels of this size first")
    parser.add_argument("--axis", default="coronal", choices=["coronal", "sagittal", "axial"])
    parser.add_argument("--angles", type=int, help="a rotating MIP with this many frames instead of one MIP")
    return parser.parse_args(argv)


def main(argv) -> dict:
    from MedGANSynthLib.io.volume_io import write_volume
    from MedGANSynthLib.mrml.logic import MedGANSynthLogic
    from MedGANSynthLib.mrml.volume_nodes import volume_from_node
    from MedGANSynthLib.pictures import save_mip_png, save_rotating_mip_png

    args = parse_arguments(argv)
    out = Path(args.output or tempfile.mkdtemp(prefix="MedGANSynth-suv-mip-"))
    out.mkdir(parents=True, exist_ok=True)
    logic = MedGANSynthLogic()  # Slicer's scene inside Slicer, a headless scene in plain Python
    pet = args.pet or phantom_pet(logic)
    nodes = logic.computeSUVAndMIP(pet, args.weight_kg, args.dose_mbq, args.injection_time, args.scan_time,
                                   spacingMm=args.spacing_mm, axis=args.axis, rotatingAngles=args.angles)
    files = {"suv": str(write_volume(volume_from_node(nodes.suv), out / "suv.nrrd"))}
    if nodes.mip is not None:
        mip = volume_from_node(nodes.mip)
        mip.metadata["mip_axis"] = args.axis
        files["mip"] = str(write_volume(mip, out / "mip.nrrd"))
        files["mip_png"] = str(save_mip_png(mip, out / "mip.png"))
    else:
        files["rotating_mip_png"] = str(save_rotating_mip_png(rotating_frames(nodes.rotatingMIP), out / "rotating_mip.png"))
    for warning in nodes.warnings:
        print(f"suv_and_mip: warning: {warning}", file=sys.stderr)
    summary = {"output": str(out), "files": files, "warnings": nodes.warnings}
    print(json.dumps(summary))
    return summary


def phantom_pet(logic):
    from MedGANSynthLib.mrml.volume_nodes import node_from_volume
    from MedGANSynthLib.phantoms import WholeBodyConfig, make_wholebody_case

    case = make_wholebody_case(0, "lymphoma", WholeBodyConfig().with_voxel_mm(12), version=1)
    return node_from_volume(case.pet, logic.scene, "Phantom PET")


def rotating_frames(browser):
    """The frames of a rotating-MIP sequence as one volume (k = angle), as the library's picture writer wants."""
    import numpy as np

    from MedGANSynthLib.mrml.volume_nodes import volume_from_node

    sequence = browser.GetMasterSequenceNode()
    frames = [volume_from_node(sequence.GetNthDataNode(n)) for n in range(sequence.GetNumberOfDataNodes())]
    stack = frames[0].with_array(np.concatenate([f.array for f in frames]))
    stack.metadata["angles_deg"] = [float(sequence.GetNthIndexValue(n)) for n in range(len(frames))]
    return stack


def run_and_exit() -> None:
    from MedGANSynthLib.errors import InputError
    from MedGANSynthLib.mrml.scene import inside_slicer_application

    status = 0
    try:
        main(sys.argv[1:])
    except InputError as error:
        print(f"suv_and_mip: {error}", file=sys.stderr)
        status = 2
    if inside_slicer_application():
        import slicer

        slicer.util.exit(status)  # --python-script leaves Slicer running otherwise
    else:
        sys.exit(status)


if __name__ == "__main__":
    run_and_exit()
