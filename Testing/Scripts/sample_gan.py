"""Draw images from a GAN (or walk its latent space) in one Logic call, as a batch script.

Runs in Slicer and in plain Python (slicer-core from PyPI), with the same arguments::

    Slicer --no-main-window --python-script Testing/Scripts/sample_gan.py --model radiogan_phantom --class lung -o OUT
    python Testing/Scripts/sample_gan.py --model my_gan.safetensors --count 16 --seed 3 -o OUT
    python Testing/Scripts/sample_gan.py --model radiogan_phantom --walk 10 --class normal --class-b lymphoma -o OUT

--model is a catalogue id or a .safetensors file (default: the first bundled GAN). Writes one NRRD per image
(frame_000.nrrd, ...) and images.png into OUT (default: a new temporary folder, printed at the end).
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
    parser.add_argument("--model", help="catalogue id or .safetensors file (default: the first bundled GAN)")
    parser.add_argument("--class", dest="class_name", help="class or stage (conditional models)")
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--walk", type=int, metavar="STEPS", help="a latent walk of STEPS images instead of samples")
    parser.add_argument("--seed-b", type=int, default=1, help="end seed of the walk")
    parser.add_argument("--class-b", help="end class of the walk (default: --class)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("-o", "--output", help="output folder (default: a new temporary folder)")
    return parser.parse_args(argv)


def main(argv) -> dict:
    from MedGANSynthLib.errors import InputError
    from MedGANSynthLib.io.volume_io import write_volume
    from MedGANSynthLib.mrml.logic import MedGANSynthLogic
    from MedGANSynthLib.mrml.volume_nodes import volume_from_node
    from MedGANSynthLib.pictures import save_grid_png

    args = parse_arguments(argv)
    logic = MedGANSynthLogic()  # Slicer's scene inside Slicer, a headless scene in plain Python
    model = args.model or next((entry.id for entry in logic.modelCatalogue("gan")), None)
    if model is None:
        raise InputError("No GAN is bundled yet; pass --model with a .safetensors file.")
    out = Path(args.output or tempfile.mkdtemp(prefix="MedGANSynth-samples-"))
    out.mkdir(parents=True, exist_ok=True)
    if args.walk:
        browser = logic.latentWalk(model, steps=args.walk, seedA=args.seed, seedB=args.seed_b,
                                   classA=args.class_name, classB=args.class_b or args.class_name, device=args.device)
    else:
        browser = logic.sampleGAN(model, className=args.class_name, count=args.count, seed=args.seed,
                                  device=args.device)
    sequence = browser.GetMasterSequenceNode()
    images = [volume_from_node(sequence.GetNthDataNode(n)) for n in range(sequence.GetNumberOfDataNodes())]
    files = [str(write_volume(image, out / f"frame_{n:03d}.nrrd")) for n, image in enumerate(images)]
    grid = save_grid_png([image.array[0] for image in images], out / "images.png", ncols=min(8, len(images)),
                         titles=[f"{sequence.GetIndexName()} {n}" for n in range(len(images))])
    summary = {"output": str(out), "model": str(model), "frames": files, "png": str(grid)}
    print(json.dumps(summary))
    return summary


def run_and_exit() -> None:
    from MedGANSynthLib.errors import InputError
    from MedGANSynthLib.mrml.scene import inside_slicer_application

    status = 0
    try:
        main(sys.argv[1:])
    except InputError as error:
        print(f"sample_gan: {error}", file=sys.stderr)
        status = 2
    if inside_slicer_application():
        import slicer

        slicer.util.exit(status)  # --python-script leaves Slicer running otherwise
    else:
        sys.exit(status)


if __name__ == "__main__":
    run_and_exit()
