"""The policy of a GAN's differentiable augmentation (``--augment``) as text: which transforms, in which order.

No torch here (the settings and ``--help`` read it); the transforms themselves are in
:mod:`MedGANSynthLib.training.differentiable_augmentation`.
"""

from __future__ import annotations

from MedGANSynthLib.errors import InputError

AUGMENTATIONS = ("translation", "cutout")
"""The transforms, in the order they are applied whatever order the policy names them in (Zhao et al. 2020 apply
translation before cutout)."""

_REFUSED = {
    "flip": "a left-right flip swaps the body's sides (heart, liver, spleen), and flipping half the images lets the "
            "generator draw mirrored bodies unpunished (Karras et al. 2020: such an augmentation leaks)",
}


def parse_augment_policy(text: str) -> str:
    """``--augment`` text (e.g. ``cutout, translation``) as the policy run.json keeps: the transforms in the order
    they are applied, comma-separated (``translation,cutout``). One line naming ``--augment`` for anything else
    (leave the flag out for no augmentation)."""
    names = [name.strip().lower() for name in str(text).split(",") if name.strip()]
    allowed = f"a comma-separated list of {', '.join(AUGMENTATIONS)} (e.g. --augment translation,cutout)"
    for name in names:
        if name in _REFUSED:
            raise InputError(f"--augment does not offer '{name}': {_REFUSED[name]}; give {allowed}.")
        if name not in AUGMENTATIONS:
            raise InputError(f"--augment has no augmentation '{name}'; give {allowed}.")
    if not names:
        raise InputError(f"--augment needs {allowed}; leave it out for no augmentation.")
    if len(set(names)) != len(names):
        raise InputError(f"--augment names an augmentation twice ('{text}'); give {allowed}.")
    return ",".join(name for name in AUGMENTATIONS if name in names)


def augment_policy_names(policy: str | None) -> tuple[str, ...]:
    """The transforms of a policy that :func:`parse_augment_policy` accepts, in the order they are applied."""
    return tuple(parse_augment_policy(policy).split(",")) if policy else ()
