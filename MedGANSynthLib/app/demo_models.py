"""The demo's model steps: sample every bundled GAN with a latent walk, and predict virtual PETs from CTs.

They run only for models listed in ``Resources/Models/catalogue.json``, so the demo still works (and says so)
in a checkout without weights.
"""

from __future__ import annotations

from pathlib import Path

from MedGANSynthLib.gan.latent_walk import latent_walk
from MedGANSynthLib.gan.outputs import write_generated
from MedGANSynthLib.gan.sampling import sample_images
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback, report
from MedGANSynthLib.virtual_pet.lesions import MIN_LESION_VOLUME_ML
from MedGANSynthLib.volume import Volume
from MedGANSynthLib.weights.catalogue import load_catalogue, resolve_model
from MedGANSynthLib.weights.safetensors_io import load_gan

SAMPLES_PER_CLASS = 8
WALK_STEPS = 10
MIN_CANDIDATE_ML = MIN_LESION_VOLUME_ML  # the shared default: a 1 cm sphere, the smallest phantom lesion


def sample_bundled_gans(folder: Path, seed: int, progress: ProgressCallback | None = None,
                        cancel: CancelToken | None = None, device: str = "auto") -> dict:
    """Per bundled GAN: a grid of samples per class and one latent-walk strip (RadioGAN: lung -> lymphoma)."""
    entries = [entry for entry in load_catalogue() if entry.task == "gan"]
    if not entries:
        return {"skipped": "no bundled GAN weights in Resources/Models/catalogue.json"}
    results = {}
    for index, entry in enumerate(entries):
        report(progress, cancel, "demo: GAN samples", index, len(entries), entry.id)
        generator, _, card = load_gan(resolve_model(entry.id, task="gan"), with_discriminator=False)
        target = folder / entry.id
        files = {}
        classes = card.class_names if generator.num_classes else [None]
        for name in classes:
            images = sample_images(generator, name, SAMPLES_PER_CLASS, seed, device, class_names=card.class_names)
            label = name or (card.class_names[0] if card.class_names else "sample")
            files[f"samples_{label}"] = write_generated(images, card, target, f"samples_{label}",
                                                        [f"{label} #{i}" for i in range(len(images))])
        class_a, class_b = _walk_classes(card.class_names) if generator.num_classes else (None, None)
        walk = latent_walk(generator, WALK_STEPS, seed, seed + 1, class_a, class_b, device=device,
                           class_names=card.class_names)
        titles = [f"{class_a or 'seed'} {seed}"] + [""] * (WALK_STEPS - 2) + [f"{class_b or 'seed'} {seed + 1}"]
        files["walk"] = write_generated(walk, card, target, "walk", titles, strip=True)
        results[entry.id] = files
    report(progress, cancel, "demo: GAN samples", len(entries), len(entries))
    return results


def _walk_classes(names: list[str]) -> tuple[str, str]:
    """RadioGAN's Fig. 5 walks from lung cancer to lymphoma; fall back to the first and last class."""
    if "lung" in names and "lymphoma" in names:
        return "lung", "lymphoma"
    return names[0], names[-1]


def predict_virtual_pets(folder: Path, cts: dict[str, Volume | Path], progress: ProgressCallback | None = None,
                         cancel: CancelToken | None = None, real_pets: dict[str, Volume] | None = None,
                         device: str = "auto") -> dict:
    """Virtual PET of each CT with the bundled model: volumes, lesion table and pictures per CT.

    ``real_pets`` (SUV, on the CT's grid) by CT name: their coronal MIP is drawn beside the virtual PET's in
    ``real_vs_virtual_mip.png``, so the reader sees what the model missed or invented.
    """
    entries = [entry for entry in load_catalogue() if entry.task == "virtual_pet"]
    if not entries:
        return {"skipped": "no bundled virtual-PET weights in Resources/Models/catalogue.json"}
    from MedGANSynthLib.virtual_pet.pipeline import run_virtual_pet
    from MedGANSynthLib.virtual_pet.weights import load_virtual_pet

    model = load_virtual_pet(resolve_model(entries[0].id, task="virtual_pet"), device=device)
    results = {}
    for index, (name, ct) in enumerate(cts.items()):
        report(progress, cancel, "demo: virtual PET", index, len(cts), name)
        # The blended virtual PET only: no separate FCN/GAN volumes and no uncertainty map, which would double
        # the demo's folder (float volumes on the CT grid barely compress) and, for the map, its run time.
        summary = run_virtual_pet(ct, folder / name, model=model, device=device, uncertainty_passes=0, compress=True,
                                  min_volume_ml=MIN_CANDIDATE_ML, write_fcn_gan=False)
        results[name] = {"output": str(folder / name), "lesion_candidates": summary["lesions"],
                         "virtual_pet_suv_max": summary["virtual_pet_suv_max"], "seconds": summary["seconds"]}
        if real_pets and name in real_pets:
            results[name]["real_vs_virtual_mip_png"] = str(_real_beside_virtual(
                real_pets[name], folder / name / "virtual_pet.nrrd", folder / name / "real_vs_virtual_mip.png"))
    report(progress, cancel, "demo: virtual PET", len(cts), len(cts))
    return {"model": entries[0].id, "cases": results}


def _real_beside_virtual(real_pet: Volume, virtual_file: Path, path: Path) -> Path:
    """Coronal MIPs of the real and the virtual PET side by side, one SUV scale."""
    from MedGANSynthLib.io import read_volume
    from MedGANSynthLib.pictures import save_mip_comparison_png
    from MedGANSynthLib.projection import mip

    virtual = read_volume(virtual_file)
    return save_mip_comparison_png([(mip(real_pet, "coronal"), "real PET"),
                                    (mip(virtual, "coronal"), "virtual PET (from the CT)")], path,
                                   title="Real PET and virtual PET, coronal MIPs (SUV)")
