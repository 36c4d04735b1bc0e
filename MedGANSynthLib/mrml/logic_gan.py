"""The Logic's synthesis section: GAN samples and latent walks as sequences of image volumes."""

from __future__ import annotations

from MedGANSynthLib.mrml.display import show_mip
from MedGANSynthLib.mrml.sequences import frame_volume_node, sequence_from_volumes


class GanActions:
    """Part of :class:`~MedGANSynthLib.mrml.logic.MedGANSynthLogic`, which gives ``scene``."""

    def sampleGAN(self, modelId: str, className: str | None = None, count: int = 8, seed: int = 0,
                  device: str = "auto"):
        """``count`` images of a GAN as a sequence (same seed, same images); returns the browser node."""
        from MedGANSynthLib.gan.sampling import sample_images

        generator, card = _load_generator(modelId, device)
        images = sample_images(generator, _class_or_none(className), int(count), int(seed), device,
                               class_names=card.class_names)
        label = className or (card.class_names[0] if len(card.class_names) == 1 else card.architecture)
        return self._image_sequence(images, card, f"{label} samples (seed {seed})", "frame")

    def latentWalk(self, modelId: str, steps: int = 10, seedA: int = 0, seedB: int = 1,
                   classA: str | None = None, classB: str | None = None, device: str = "auto"):
        """Images along the latent line from (seedA, classA) to (seedB, classB) as a sequence; returns the browser."""
        from MedGANSynthLib.gan.latent_walk import latent_walk

        generator, card = _load_generator(modelId, device)
        images = latent_walk(generator, int(steps), int(seedA), int(seedB), _class_or_none(classA),
                             _class_or_none(classB), device=device, class_names=card.class_names)
        return self._image_sequence(images, card, f"latent walk {seedA}->{seedB}", "step")

    def _image_sequence(self, images, card, name: str, index_name: str):
        from MedGANSynthLib.gan.outputs import centre_channel, display_settings, sample_volume
        from MedGANSynthLib.gan.sampling import to_physical

        physical = centre_channel(to_physical(images, card))  # brain models make slice triplets: keep the centre
        volumes = [sample_volume(image, card) for image in physical]
        _, browser = sequence_from_volumes(volumes, self.scene, name, index_name)
        show_mip(frame_volume_node(browser), window=display_settings(card)["window"])
        return browser


def _class_or_none(name):
    return None if name in (None, "") else name


def _load_generator(model_id: str, device: str):
    """(generator, card) of a catalogue id or a ``.safetensors`` path; thin so a library API change is one line."""
    from MedGANSynthLib.weights.catalogue import resolve_model
    from MedGANSynthLib.weights.safetensors_io import load_gan

    generator, _, card = load_gan(resolve_model(model_id, "gan"), device, with_discriminator=False)
    return generator, card
