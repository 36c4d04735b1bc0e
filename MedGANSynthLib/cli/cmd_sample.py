"""``medgansynth sample``: draw images from a GAN (bundled id or your .safetensors) -> PNG grid + NRRD stack."""

from __future__ import annotations

import argparse

from MedGANSynthLib.cli.class_option import class_argument
from MedGANSynthLib.errors import InputError


def register(subparsers) -> None:
    from MedGANSynthLib.cli.main import add_common_options, seed_value

    parser = subparsers.add_parser("sample", help="generate images with a GAN (PNG grid + NRRD stack)",
                                   description="Generate COUNT images of one class with a trained GAN; the same "
                                   "seed always gives the same images.")
    parser.add_argument("model", help="bundled model id (see 'medgansynth models') or a .safetensors file")
    parser.add_argument("-o", "--output", required=True, help="output folder")
    parser.add_argument("--class", dest="class_name", default=None,
                        help="class name or index for a conditional model (RadioGAN: normal, head_neck, ...)")
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--seed", type=seed_value, default=0)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict:
    from MedGANSynthLib.gan.outputs import write_generated
    from MedGANSynthLib.gan.sampling import sample_images
    from MedGANSynthLib.io.output_set import staged_output
    from MedGANSynthLib.weights.catalogue import resolve_model
    from MedGANSynthLib.weights.safetensors_io import load_gan

    if not 1 <= args.count <= 4096:
        raise InputError(f"--count must be between 1 and 4096, got {args.count}.")
    with staged_output(args.output, args.overwrite) as staged:
        generator, _, card = load_gan(resolve_model(args.model, task="gan"), device="cpu", with_discriminator=False)
        label = class_argument(args.class_name)
        if generator.num_classes and label is None:
            raise InputError(f"This model is conditional; pass --class with one of: {', '.join(card.class_names)}.")
        images = sample_images(generator, label, args.count, args.seed, args.device, class_names=card.class_names)
        name = str(label) if label is not None else (card.class_names[0] if card.class_names else "sample")
        titles = [f"{name} #{i}" for i in range(args.count)]
        files = staged.final(write_generated(images, card, staged.paths[0], "samples", titles))
    return {"model": str(args.model), "class": name, "count": args.count, "seed": args.seed, **files}
