"""``medgansynth walk``: a latent-space walk between two seeds and/or two classes -> strip PNG + NRRD stack.

A GAN that generalises changes smoothly and stays realistic at every step; one that memorises jumps between
training images or shows half-blended ones (RadioGAN: Fig. 5 of Dai et al., see the README's papers).
"""

from __future__ import annotations

import argparse

from MedGANSynthLib.cli.class_option import class_argument
from MedGANSynthLib.errors import InputError


def register(subparsers) -> None:
    from MedGANSynthLib.cli.main import add_common_options, seed_value

    parser = subparsers.add_parser("walk", help="latent-space walk between two seeds and/or classes",
                                   description="Interpolate the latent vector (and, for RadioGAN, the class "
                                   "embedding) from (seed A, class A) to (seed B, class B) in STEPS images.")
    parser.add_argument("model", help="bundled model id (see 'medgansynth models') or a .safetensors file")
    parser.add_argument("-o", "--output", required=True, help="output folder")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--seed-a", type=seed_value, default=0)
    parser.add_argument("--seed-b", type=seed_value, default=None, help="default: --seed-a when the classes differ, else --seed-a + 1")
    parser.add_argument("--class-a", default=None)
    parser.add_argument("--class-b", default=None, help="default: the same as --class-a")
    parser.add_argument("--mode", choices=("linear", "slerp"), default="linear")
    parser.add_argument("--device", default="auto")
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict:
    from MedGANSynthLib.gan.latent_walk import latent_walk
    from MedGANSynthLib.gan.outputs import write_generated
    from MedGANSynthLib.io.output_set import staged_output
    from MedGANSynthLib.training.settings import MAX_SEED
    from MedGANSynthLib.weights.catalogue import resolve_model
    from MedGANSynthLib.weights.safetensors_io import load_gan

    if not 2 <= args.steps <= 256:
        raise InputError(f"--steps must be between 2 and 256, got {args.steps}.")
    with staged_output(args.output, args.overwrite) as staged:
        generator, _, card = load_gan(resolve_model(args.model, task="gan"), device="cpu", with_discriminator=False)
        class_a = class_argument(args.class_a)
        class_b = class_argument(args.class_b) if args.class_b is not None else class_a
        if generator.num_classes and class_a is None:
            raise InputError(f"This model is conditional; pass --class-a (and --class-b) from: "
                             f"{', '.join(card.class_names)}.")
        if args.seed_b is not None:
            seed_b = args.seed_b
        else:  # a walk between classes keeps the latent; otherwise it goes to the next seed
            seed_b = args.seed_a if class_a != class_b else args.seed_a + 1
        if seed_b > MAX_SEED:
            raise InputError(f"--seed-a {args.seed_a} is the largest seed; pass a smaller one or --seed-b.")
        if seed_b == args.seed_a and class_a == class_b:
            raise InputError("A walk needs two different end points: change --seed-b or --class-b.")
        images = latent_walk(generator, args.steps, args.seed_a, seed_b, class_a, class_b, mode=args.mode,
                             device=args.device, class_names=card.class_names)
        start = f"{class_a or ''} s{args.seed_a}".strip()
        end = f"{class_b or ''} s{seed_b}".strip()
        titles = [start] + [f"{i}/{args.steps - 1}" for i in range(1, args.steps - 1)] + [end]
        files = staged.final(write_generated(images, card, staged.paths[0], "walk", titles, strip=True))
    return {"model": str(args.model), "steps": args.steps, "from": start, "to": end, **files}
